#!/usr/bin/env bash
# Export benchmark: `cairn snapshot export` of an ext4 snapshot against
# `tar czf` of the same tree on a loop-mounted copy of the image (or, without
# root or loop devices, of the source directory), and prints the ratio.
#
# Builds (once; cached in $BENCH_DIR) a tree of about EXPORT_BENCH_SIZE: real
# files copied from /usr (sorted, until ~75% of the budget) and seeded random
# files for the rest; an ext4 image of it (mkfs.ext4 -d); a repository holding
# one snapshot of the image. Then times, each after `sync`:
#   cairn snapshot export SNAP -o x.tar.gz       (tar.gz: libarchive's zlib, level 6)
#   tar -C MNT -czf y.tar.gz .                   (GNU tar | gzip -6)
#   cairn snapshot export SNAP -o x.tar.zst      (for reference)
# and checks that both archives list the same number of members.
#
#   bash bench/export_bench.sh
# Environment:
#   BENCH_DIR          cache and work directory     (default /var/tmp/cairn-export-bench)
#   EXPORT_BENCH_SIZE  data in the tree, e.g. 1G    (default 1G)
#   CAIRN_BIN          cairn binary                 (default ./build/cairn)
# Exit status: 0 if every step ran.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-export-bench}
EXPORT_BENCH_SIZE=${EXPORT_BENCH_SIZE:-1G}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
export PATH="$PATH:/usr/sbin:/sbin"
export CAIRN_PASSWORD=${CAIRN_PASSWORD:-export bench passphrase}
RECIPE=1  # bump when the way the tree is made changes

log() { echo "bench: $*" >&2; }
die() {
  echo "bench: FAILED: $*" >&2
  exit 1
}
[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at CAIRN_BIN=$CAIRN_BIN"
budget=$(numfmt --from=iec "$EXPORT_BENCH_SIZE") || die "bad EXPORT_BENCH_SIZE=$EXPORT_BENCH_SIZE"

data=$BENCH_DIR/data-$EXPORT_BENCH_SIZE-r$RECIPE
tree=$data/tree
image=$data/image.raw
repo=$data/repo
mkdir -p "$data"

if [[ ! -f "$data/ready" ]]; then
  rm -rf "$tree" "$image" "$repo"
  mkdir -p "$tree/usr" "$tree/random"
  log "copying ~$((budget * 75 / 100 / 1048576)) MiB of real files from /usr"
  find /usr -xdev -type f -readable -printf '%s %P\n' 2>/dev/null | sort -k2 |
    awk -v b=$((budget * 75 / 100)) '!full { s += $1; if (s > b) full = 1; else print substr($0, index($0, " ") + 1) }' \
      >"$data/files.list"
  tar -C /usr -cf - --no-recursion -T "$data/files.list" 2>/dev/null | tar -C "$tree/usr" -xf -
  have=$(du -sb "$tree" | cut -f1)
  rest=$((budget - have))
  i=0
  while ((rest > 0)); do
    n=$((rest < 64 * 1048576 ? rest : 64 * 1048576))
    { openssl enc -aes-128-ctr -pass "pass:export-bench-$i" -nosalt -pbkdf2 -iter 1 -md sha256 \
      </dev/zero 2>/dev/null || true; } | head -c "$n" >"$tree/random/r$i.bin"
    rest=$((rest - n))
    i=$((i + 1))
  done
  have=$(du -sb "$tree" | cut -f1)
  img_size=$(((have * 13 / 10 / 1048576 + 256) * 1048576))
  log "mkfs.ext4 -d of $((have / 1048576)) MiB into a $((img_size / 1048576)) MiB image"
  truncate -s "$img_size" "$image"
  mkfs.ext4 -q -F -d "$tree" "$image" >/dev/null
  "$CAIRN_BIN" -r "$repo" repo init >/dev/null
  "$CAIRN_BIN" -r "$repo" -q snapshot create "$image" >"$data/snap"
  touch "$data/ready"
fi
snap=$(cat "$data/snap")
work=$data/work
rm -rf "$work" && mkdir -p "$work"

# timed NAME CMD...: runs CMD, prints and records its wall seconds in $secs.
timed() {
  local name=$1
  shift
  sync
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  printf 'bench: %-34s %7.2f s\n' "$name" "$secs" >&2
}

timed "cairn snapshot export (tar.gz)" \
  "$CAIRN_BIN" -r "$repo" -q --output json snapshot export "$snap" -o "$work/cairn.tar.gz" \
  >"$work/cairn.json"
cairn_gz=$secs
file_bytes=$(jq .bytes "$work/cairn.json")
blocks=$(jq .blocks_read "$work/cairn.json")

source_desc=
mnt=$work/mnt
if [[ $(id -u) == 0 ]] && cp --sparse=always "$image" "$work/copy.raw" && mkdir -p "$mnt" &&
  mount -o ro,loop "$work/copy.raw" "$mnt" 2>/dev/null; then
  source_desc="a loop-mounted copy of the image"
  trap 'umount "$mnt" 2>/dev/null || true' EXIT
  tar_dir=$mnt
else
  source_desc="the source directory (no loop mount here)"
  tar_dir=$tree
fi
timed "tar czf ($source_desc)" tar -C "$tar_dir" -czf "$work/tar.tar.gz" .
tar_gz=$secs
timed "cairn snapshot export (tar.zst)" \
  "$CAIRN_BIN" -r "$repo" -q snapshot export "$snap" -o "$work/cairn.tar.zst"
cairn_zst=$secs

n_cairn=$(tar -tzf "$work/cairn.tar.gz" | grep -vc '^lost+found/')
n_tar=$(tar -tzf "$work/tar.tar.gz" | grep -v '^\./$' | grep -vc '^\./lost+found/')
[[ "$n_cairn" == "$n_tar" ]] || die "member counts differ: cairn $n_cairn, tar $n_tar"

mib=$((file_bytes / 1048576))
echo "export of $mib MiB of files ($n_cairn members), $blocks blocks read from the repository"
printf '| what | seconds | MiB/s of file data | archive MiB |\n| --- | --- | --- | --- |\n'
row() { printf '| %s | %.2f | %.0f | %d |\n' "$1" "$2" "$(awk -v m="$mib" -v s="$2" 'BEGIN { print m / s }')" $(($(stat -c %s "$3") / 1048576)); }
row "cairn snapshot export, tar.gz" "$cairn_gz" "$work/cairn.tar.gz"
row "tar czf of $source_desc" "$tar_gz" "$work/tar.tar.gz"
row "cairn snapshot export, tar.zst" "$cairn_zst" "$work/cairn.tar.zst"
printf 'ratio cairn tar.gz / tar czf: %.2f (below 1: cairn is faster)\n' "$(awk -v a="$cairn_gz" -v b="$tar_gz" 'BEGIN { print a / b }')"
