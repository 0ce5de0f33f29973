#!/usr/bin/env bash
# Backup benchmark: cairn vs restic vs borg on the same ext4 image, side by side.
#
# Builds (once; cached in $BENCH_DIR) a reproducible ext4 image of
# BENCH_IMAGE_SIZE holding ~55% real files (fixed subdirectories of /usr, in
# sorted order) and ~7.5% seeded random data, the rest empty; and a changed
# copy where ~1% of the 512 KiB blocks (seeded, scattered) got a 4 KiB random
# overwrite. Then, for each tool, encrypted and compressed:
#   full backup of PATH, incremental backup of the changed image at the same
#   PATH, full restore of the second backup (verified with cmp).
# Plus baselines: cat and zstd -1 -T0 over the image.
#
#   bash bench/backup_bench.sh        (normally via: bash scripts/run.sh bench)
# Environment:
#   BENCH_DIR         cache and work directory      (default /var/tmp/cairn-bench)
#   BENCH_IMAGE_SIZE  image size, e.g. 4G, 1G, 512M (default 4G)
#   BENCH_TOOLS       tools to run                  (default "baseline cairn restic borg")
#   CAIRN_BIN         cairn binary                  (default ./build/cairn)
#   KEEP=1            keep repositories and the work directory afterwards
# Writes the table to stdout and to $BENCH_DIR/results.md (and results-SIZE.md).
# Exit status: 0 if every step ran and every restore was byte-identical.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-bench}
BENCH_IMAGE_SIZE=${BENCH_IMAGE_SIZE:-4G}
BENCH_TOOLS=${BENCH_TOOLS:-baseline cairn restic borg}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
export PATH="$PATH:/usr/sbin:/sbin"

RECIPE=3          # bump when the way the images are made changes
BLOCK=$((512 * 1024)) # block granularity of the change pattern
SEED=cairn-bench-1

log() { echo "bench: $*" >&2; }
die() {
  echo "bench: FAILED: $*" >&2
  exit 1
}

bash "$root/scripts/setup.sh" restic borgbackup || die "could not install restic and borgbackup"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (package time)"

size=$(numfmt --from=iec "$BENCH_IMAGE_SIZE") || die "bad BENCH_IMAGE_SIZE=$BENCH_IMAGE_SIZE"
((size >= 64 * 1024 * 1024)) || die "BENCH_IMAGE_SIZE must be at least 64M"
((size % BLOCK == 0)) || die "BENCH_IMAGE_SIZE must be a multiple of 512K"
real_budget=$((size * 55 / 100))  # 2.2 GiB of a 4 GiB image
random_bytes=$((size * 75 / 1000)) # 300 MiB of a 4 GiB image

data=$BENCH_DIR/data-$BENCH_IMAGE_SIZE
image=$data/image.raw
changed=$data/image-changed.raw
mkdir -p "$data"

# Deterministic byte stream: AES-128-CTR keystream from a fixed passphrase.
seeded_stream() { # seeded_stream SEED BYTES
  # openssl dies of SIGPIPE when head has enough; that is the normal end.
  { openssl enc -aes-128-ctr -pass "pass:$1" -nosalt -pbkdf2 -iter 1 -md sha256 </dev/zero 2>/dev/null || true; } |
    head -c "$2"
}

# --- 1. the images (cached) ----------------------------------------------------
source_dirs=(
  /usr/lib/x86_64-linux-gnu /usr/share /usr/lib/gcc /usr/bin /usr/include
  /usr/sbin /usr/libexec /usr/lib/python3 /usr/lib/python3.11 /usr/lib/llvm-14 /usr/lib/jvm
)

make_image() {
  local src=$data/src list=$data/files.txt all=$data/candidates.txt
  rm -rf "$src" "$image" "$changed"
  mkdir -p "$src/random"
  log "selecting ~$(numfmt --to=iec "$real_budget") of files from ${source_dirs[*]}"
  local d
  for d in "${source_dirs[@]}"; do
    [[ -d "$d" ]] || continue
    find "$d" -xdev -type f -readable -printf '%s\t%P\n' | LC_ALL=C sort -t $'\t' -k2 |
      awk -F '\t' -v d="${d#/}" 'index($2, "\\") == 0 && $1 <= 64 * 1048576 { print $1 "\t" d "/" $2 }'
  done >"$all"
  # Systematic sample over the sorted list (files up to 64 MiB): a file is
  # taken when that brings the bytes taken closer to budget/total of the bytes
  # seen so far, so every directory contributes in proportion, not just the
  # alphabetically first ones.
  local total
  total=$(awk -F '\t' '{ t += $1 } END { printf "%.0f", t }' "$all")
  if ((total <= real_budget)); then
    log "note: only $(numfmt --to=iec "$total") of files under ${source_dirs[*]}; taking all"
  fi
  awk -F '\t' -v budget="$real_budget" -v total="$total" '
    { seen += $1 }
    taken + $1 / 2 <= seen * budget / total { taken += $1; print $2 }' "$all" >"$list"
  rm -f "$all"
  log "copying $(wc -l <"$list") files"
  tar -C / -cf - --no-recursion --hard-dereference --verbatim-files-from -T "$list" |
    tar -C "$src" -xf -
  log "writing $(numfmt --to=iec "$random_bytes") of seeded random data"
  seeded_stream "$SEED-random" "$random_bytes" | split -b 32M -d - "$src/random/part-"
  log "mkfs.ext4 -d ($BENCH_IMAGE_SIZE)"
  E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b 4096 \
    -U 6a1f6c9e-2d1b-4c3e-9a57-0c0ffee00001 -E hash_seed=6a1f6c9e-2d1b-4c3e-9a57-0c0ffee00002 \
    -d "$src" "$image" "$((size / 1024))k" >/dev/null
  e2fsck -fn "$image" >"$data/e2fsck.log" 2>&1 || die "e2fsck of the new image failed: see $data/e2fsck.log"
  echo "$(du -sb "$src" | cut -f1) bytes in $(find "$src" -type f | wc -l) files" >"$data/source.txt"
  rm -rf "$src"

  log "making the changed copy (1% of 512 KiB blocks get a 4 KiB overwrite)"
  cp --sparse=always "$image" "$changed.tmp"
  local nblocks=$((size / BLOCK))
  local k=$(((nblocks + 99) / 100))
  # Distinct block indices and 4 KiB slots inside them, from a seeded stream.
  seeded_stream "$SEED-choice" $((k * 64)) | od -An -v -tu4 -w8 |
    awk -v n="$nblocks" -v k="$k" -v slots=$((BLOCK / 4096)) '
      !(($1 % n) in seen) && c < k { seen[$1 % n] = 1; c++; print $1 % n, $2 % slots }' \
      >"$data/changes.txt"
  seeded_stream "$SEED-overwrite" $((k * 4096)) >"$data/overwrite.bin"
  local j=0 b s
  while read -r b s; do
    dd if="$data/overwrite.bin" of="$changed.tmp" bs=4096 skip="$j" count=1 \
      seek=$((b * (BLOCK / 4096) + s)) conv=notrunc status=none
    j=$((j + 1))
  done <"$data/changes.txt"
  rm -f "$data/overwrite.bin"
  mv "$changed.tmp" "$changed"
  sha256sum "$image" | cut -c1-16 >"$data/image.sha256"
  sha256sum "$changed" | cut -c1-16 >"$data/changed.sha256"
  echo "$RECIPE $size" >"$data/stamp"
}

if [[ "$(cat "$data/stamp" 2>/dev/null)" != "$RECIPE $size" || ! -f "$image" || ! -f "$changed" ]]; then
  rm -f "$data/stamp"
  make_image
else
  log "using cached images in $data"
fi
nchanged=$(wc -l <"$data/changes.txt")
image_sha=$(cat "$data/image.sha256")
changed_sha=$(cat "$data/changed.sha256")

# --- 2. measurement helpers ----------------------------------------------------
load_start=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_start" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "WARNING: load average $load_start on $(nproc) cores: other work will distort the wall times"
fi
run=$BENCH_DIR/run
rm -rf "$run"
mkdir -p "$run/src" "$run/logs"
disk=$run/src/disk.raw # the one path every tool backs up, twice

if [[ $(id -u) -eq 0 ]] && (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  cache_mode="cold (page cache dropped before each step)"
  drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }
else
  cache_mode="warm (not root: page cache not dropped)"
  drop_caches() { sync; }
fi

declare -a rows=()   # "tool|step|wall|MB/s|cpu|rss MiB|repo size"
declare -A wall=()   # wall[tool.step]
failures=()
notes=()

# measure TOOL STEP CMD...: time CMD (stdout -> logs/TOOL-STEP.out), add a row.
measure() {
  local tool=$1 step=$2
  shift 2
  local base=$run/logs/$tool-$step rc=0
  drop_caches
  log "$tool: $step"
  /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
  if ((rc != 0)); then
    echo "bench: !!! $tool $step FAILED (exit $rc): $*" >&2
    tail -n 20 "$base.err" >&2
    failures+=("$tool $step failed (exit $rc)")
    rows+=("$tool|$step|FAILED||||")
    return 1
  fi
  local e u s m
  read -r e u s m < <(tail -n 1 "$base.time")
  wall[$tool.$step]=$e
  rows+=("$tool|$step|$e|$(awk -v b="$size" -v e="$e" 'BEGIN { printf "%.0f", (e > 0 ? b / 1e6 / e : 0) }')|$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')|$(awk -v m="$m" 'BEGIN { printf "%.0f", m / 1024 }')|")
}

# measure_backup TOOL STEP REPO CMD...: measure, then record REPO's size (du -sb).
measure_backup() {
  local tool=$1 step=$2 repo=$3 bytes
  shift 3
  if measure "$tool" "$step" "$@"; then
    bytes=$(du -sb "$repo" | cut -f1)
    rows[-1]="${rows[-1]%|}|$(numfmt --to=iec-i --suffix=B --format='%.2f' "$bytes")"
  fi
}

# verify TOOL FILE: the restored file must equal the changed image, byte for byte.
verify() {
  if [[ ! -f "$2" ]]; then
    echo "bench: !!! $1 restore produced no file at $2" >&2
    failures+=("$1 restore: no output file")
    rows[-1]="${rows[-1]%|}|NO OUTPUT"
  elif cmp -s "$2" "$changed"; then
    log "$1 restore verified: identical to the changed image"
  else
    echo "bench: !!! $1 RESTORED WRONG BYTES: $(cmp "$2" "$changed" 2>&1 | head -n 1)" >&2
    failures+=("$1 restore: WRONG BYTES")
    rows[-1]="${rows[-1]%|}|WRONG BYTES"
  fi
  rm -f "$2"
}

want() { [[ " $BENCH_TOOLS " == *" $1 "* ]]; }

cairn_ok() {
  [[ -x "$CAIRN_BIN" ]] || return 1
  local probe=$run/cairn-probe ok=1
  if CAIRN_PASSWORD=probe "$CAIRN_BIN" -q -r "$probe" repo init >/dev/null 2>&1 &&
    [[ -e "$probe/config" ]]; then
    ok=0
  fi
  rm -rf "$probe"
  return "$ok"
}

tools=()
want baseline && tools+=(baseline)
if want cairn; then
  if cairn_ok; then
    tools+=(cairn)
  else
    log "SKIPPING cairn: $CAIRN_BIN cannot initialise a repository yet"
    notes+=("cairn skipped: $CAIRN_BIN could not initialise a repository")
  fi
fi
want restic && tools+=(restic)
want borg && tools+=(borg)

export CAIRN_PASSWORD=bench-password RESTIC_PASSWORD=bench-password BORG_PASSPHRASE=bench-password
export RESTIC_CACHE_DIR=$run/restic-cache BORG_BASE_DIR=$run/borg-home
cairn_snap=""

# --- 3. full backups -------------------------------------------------------------
cp --sparse=always "$image" "$disk"
for t in "${tools[@]}"; do
  case $t in
    baseline)
      # shellcheck disable=SC2016 # $1 is expanded by the inner sh
      measure cat read sh -c 'cat "$1" >/dev/null' sh "$disk" || true
      # shellcheck disable=SC2016
      measure zstd "-1 -T0" sh -c 'zstd -q -1 -T0 -c "$1" >/dev/null' sh "$disk" || true
      ;;
    cairn)
      "$CAIRN_BIN" -q -r "$run/repo-cairn" repo init >/dev/null
      measure_backup cairn full "$run/repo-cairn" \
        "$CAIRN_BIN" -q -r "$run/repo-cairn" snapshot create "$disk" --description full
      ;;
    restic)
      restic -q -r "$run/repo-restic" init --repository-version 2 >/dev/null
      measure_backup restic full "$run/repo-restic" \
        restic -q -r "$run/repo-restic" backup --compression auto --host bench "$disk"
      ;;
    borg)
      borg init -e repokey-blake2 "$run/repo-borg" >"$run/logs/borg-init.out" 2>&1
      measure_backup borg full "$run/repo-borg" \
        borg create --compression zstd,3 "$run/repo-borg::full" "$disk"
      ;;
  esac
done

# --- 4. incremental backups of the changed image at the same path -----------------
cp --sparse=always "$changed" "$disk"
for t in "${tools[@]}"; do
  case $t in
    cairn)
      measure_backup cairn incremental "$run/repo-cairn" \
        "$CAIRN_BIN" -q -r "$run/repo-cairn" snapshot create "$disk" --description incremental
      cairn_snap=$(tr -d '[:space:]' <"$run/logs/cairn-incremental.out" 2>/dev/null || true)
      ;;
    restic)
      measure_backup restic incremental "$run/repo-restic" \
        restic -q -r "$run/repo-restic" backup --compression auto --host bench "$disk"
      ;;
    borg)
      measure_backup borg incremental "$run/repo-borg" \
        borg create --compression zstd,3 "$run/repo-borg::incremental" "$disk"
      ;;
  esac
done
rm -f "$disk"

# --- 5. full restores of the incremental backup ----------------------------------
for t in "${tools[@]}"; do
  out=$run/restore-$t
  mkdir -p "$out"
  case $t in
    cairn)
      if measure cairn restore "$CAIRN_BIN" -q -r "$run/repo-cairn" snapshot restore "$cairn_snap" "$out/disk.raw"; then
        verify cairn "$out/disk.raw"
      fi
      ;;
    # A restore is done when its data is on disk: cairn fsyncs the target
    # before it exits, restic and borg do not, so their time includes a
    # `sync` (otherwise the next step's cache drop pays for their write-out).
    restic) # restic 0.14 has no sparse restore (added in 0.15)
      # shellcheck disable=SC2016
      if measure restic restore sh -c 'restic -q -r "$1" restore latest --target "$2" && sync' sh "$run/repo-restic" "$out"; then
        verify restic "$out$disk"
      fi
      ;;
    borg)
      # shellcheck disable=SC2016
      if measure borg restore sh -c 'cd "$1" && borg extract --sparse "$2" && sync' sh "$out" "$run/repo-borg::incremental"; then
        verify borg "$out$disk"
      fi
      ;;
  esac
  rm -rf "$out"
done

# --- 6. report ---------------------------------------------------------------------
ratio() { # ratio TOOL STEP -> other_wall / cairn_wall
  local a=${wall[$1.$2]:-} c=${wall[cairn.$2]:-}
  if [[ -n "$a" && -n "$c" ]]; then
    awk -v a="$a" -v c="$c" 'BEGIN { if (c > 0) printf "%.2fx", a / c; else print "n/a" }'
  else
    echo "n/a"
  fi
}

header() {
  echo "image: $BENCH_IMAGE_SIZE ext4 ($(cat "$data/source.txt")), sha256 $image_sha…;" \
    "changed copy: $nchanged of $((size / BLOCK)) 512 KiB blocks got a 4 KiB overwrite, sha256 $changed_sha…"
  echo "machine: $(nproc) cores, $(uname -r), load average at start $load_start, page cache $cache_mode"
  echo "versions: $(restic version 2>/dev/null | cut -d' ' -f1-2), $(borg --version 2>/dev/null)," \
    "$(zstd --version 2>/dev/null | grep -o 'v[0-9.]*' | head -n 1 | sed 's/^/zstd /')," \
    "$(if [[ " ${tools[*]} " == *" cairn "* ]]; then "$CAIRN_BIN" --version 2>/dev/null | head -n 1; else echo "cairn not run"; fi)"
  echo "settings: cairn default (encrypted, zstd), restic repo v2 --compression auto," \
    "borg repokey-blake2 zstd,3; MB/s = image bytes / wall; repo size = du -sb after the step"
}

table_text() {
  printf '%-8s %-12s %8s %8s %8s %10s %12s\n' tool step "wall s" "MB/s" "CPU s" "RSS MiB" "repo size"
  local r
  for r in "${rows[@]}"; do
    IFS='|' read -r a b c d e f g <<<"$r"
    printf '%-8s %-12s %8s %8s %8s %10s %12s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"
  done
}

table_md() {
  echo "| tool | step | wall s | MB/s | CPU s | peak RSS MiB | repo size |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  local r
  for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
}

ratios() {
  local s
  for s in full incremental restore; do
    echo "$s: restic/cairn $(ratio restic "$s"), borg/cairn $(ratio borg "$s") (goal: restic/cairn >= 2x)"
  done
}

{
  echo "# cairn backup benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  header | sed 's/^/- /'
  echo
  table_md
  echo
  echo "Throughput ratio (other tool's wall / cairn's wall; >1 means cairn is faster):"
  echo
  ratios | sed 's/^/- /'
  if ((${#notes[@]} > 0)); then
    echo
    echo "Notes: ${notes[*]}"
  fi
  if ((${#failures[@]} > 0)); then
    echo
    echo "**Problems:** ${failures[*]}"
  fi
} >"$BENCH_DIR/results-$BENCH_IMAGE_SIZE.md"
cp "$BENCH_DIR/results-$BENCH_IMAGE_SIZE.md" "$BENCH_DIR/results.md"

echo
header
echo
table_text
echo
ratios
echo
if ((${#notes[@]} > 0)); then echo "notes: ${notes[*]}"; fi
echo "markdown: $BENCH_DIR/results.md"

if [[ -z "${KEEP:-}" ]]; then
  rm -rf "$run"
fi
if ((${#failures[@]} > 0)); then
  echo "bench: PROBLEMS: ${failures[*]}" >&2
  exit 1
fi
