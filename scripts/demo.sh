#!/usr/bin/env bash
# cairn demo: back up an ext4 image twice (full, then incremental after a few
# file changes), restore both snapshots, fsck and checksum the restores, and
# print a summary. Needs no root; everything lives in a temporary directory.
#
#   bash scripts/demo.sh            (normally via: bash scripts/run.sh demo)
#   CAIRN_BIN=/path/to/cairn  use another binary (default ./build/cairn)
#   KEEP=1                    keep the temporary directory
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
IMAGE_SIZE=128M
export PATH="$PATH:/usr/sbin:/sbin" # mkfs.ext4, debugfs, e2fsck for non-root users

die() {
  echo "demo: FAILED: $*" >&2
  exit 1
}

[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at $CAIRN_BIN (build it: bash scripts/run.sh build)"
for tool in mkfs.ext4 debugfs e2fsck sha256sum numfmt; do
  command -v "$tool" >/dev/null || die "$tool not found (run: bash scripts/setup.sh)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")
cleanup() {
  if [[ -n "${KEEP:-}" ]]; then
    echo "demo: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

repo=$work/repo
image=$work/image.raw

# --- timing helpers ----------------------------------------------------------
declare -a step_names=() step_secs=()
now_us() { echo "${EPOCHREALTIME/./}"; }
fmt_secs() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

# timed LABEL CMD...: run CMD with stdout captured in $work/out (also echoed
# to the terminal as "   | ..."), record its wall time, die if it fails.
timed() {
  local label=$1
  shift
  local t0 t1 rc=0
  printf '%-34s' "$label"
  t0=$(now_us)
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  t1=$(now_us)
  if ((rc != 0)); then
    echo " FAILED (exit $rc)"
    echo "  command: $*" >&2
    sed 's/^/  | /' "$work/err" "$work/out" >&2
    die "$label"
  fi
  step_names+=("$label")
  step_secs+=($((t1 - t0)))
  echo " $(fmt_secs $((t1 - t0))) s"
}

cairn() { "$CAIRN_BIN" -r "$repo" "$@"; }

json_field() { # json_field FILE KEY -> number
  if command -v jq >/dev/null; then
    jq -r ".$2" "$1"
  else
    grep -o "\"$2\"[[:space:]]*:[[:space:]]*[0-9]*" "$1" | grep -o '[0-9]*$'
  fi
}

iec() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }

# --- 1. source files ---------------------------------------------------------
make_sources() {
  local src=$1 i
  mkdir -p "$src/random" "$src/text" "$src/logs/2024" "$src/logs/2025"
  # ~20 MiB of incompressible data in 40 files of 128 KiB..1 MiB
  for i in $(seq -w 1 40); do
    head -c $(((10#$i % 8 + 1) * 128 * 1024)) /dev/urandom >"$src/random/blob-$i.bin"
  done
  # ~20 MiB of compressible text in 280 files (one awk, not 280 processes)
  awk -v dir="$src" 'BEGIN {
    for (i = 1; i <= 200; i++) {
      f = sprintf("%s/text/doc-%03d.txt", dir, i)
      for (l = 1; l <= 1200; l++)
        printf "file %03d line %d: the quick brown fox jumps over the lazy dog\n", i, l > f
      close(f)
    }
    for (i = 1; i <= 40; i++) {
      for (y = 2024; y <= 2025; y++) {
        f = sprintf("%s/logs/%d/day-%02d.log", dir, y, i)
        for (l = 1; l <= 1500; l++)
          printf "%d-01-%02d 12:00:%d host cairn-demo: backup window %s\n", y, i, l, (y == 2024 ? "opened" : "closed") > f
        close(f)
      }
    }
  }'
}

echo "cairn demo in $work (binary: $CAIRN_BIN)"
timed "generate source files" make_sources "$work/src"
src_files=$(find "$work/src" -type f | wc -l)
src_bytes=$(du -sb "$work/src" | cut -f1)
timed "mkfs.ext4 -d ($IMAGE_SIZE image)" mkfs.ext4 -q -F -d "$work/src" "$image" "$IMAGE_SIZE"
image_bytes=$(stat -c %s "$image")

# --- 2. repository and first snapshot ----------------------------------------
export CAIRN_PASSWORD=demo-password
echo "using CAIRN_PASSWORD=demo-password (a throw-away demo repository)"
timed "cairn repo init" cairn repo init

sha_v1=$(sha256sum "$image" | cut -d' ' -f1)
timed "cairn snapshot create (full)" cairn snapshot create "$image" --description "demo first"
snap1=$(tr -d '[:space:]' <"$work/out")
[[ "$snap1" =~ ^snap-[0-9a-f]{17}$ ]] || die "snapshot create printed '$snap1', not a snapshot id"
timed "cairn repo stats" cairn --output json repo stats
cp "$work/out" "$work/stats1.json"

# --- 3. change a few files inside the image, in place --------------------------
# debugfs edits the filesystem without mounting it, so blocks of untouched
# files stay where they are (rebuilding with mkfs.ext4 -d would move them).
change_image() {
  local cmds=$work/debugfs.cmds i
  : >"$cmds"
  for i in 003 017 029; do # rewrite three text files with new content
    seq -f "file $i rewritten, line %g: a lazy dog naps beside the quick brown fox" 1 1500 \
      >"$work/new-$i.txt"
    printf 'rm /text/doc-%s.txt\nwrite %s /text/doc-%s.txt\n' "$i" "$work/new-$i.txt" "$i" >>"$cmds"
  done
  printf 'rm /random/blob-07.bin\n' >>"$cmds" # delete one file
  head -c $((2 * 1024 * 1024)) /dev/urandom >"$work/added.bin" # add one file
  printf 'write %s /random/added.bin\n' "$work/added.bin" >>"$cmds"
  debugfs -w -f "$cmds" "$image" >"$work/debugfs.log" 2>&1
  # debugfs exits 0 even when a command fails: check the result instead.
  if grep -qiE 'error|not found|could not' "$work/debugfs.log"; then
    cat "$work/debugfs.log" >&2
    return 1
  fi
  e2fsck -fn "$image" >/dev/null
}
timed "change 5 files (debugfs -w)" change_image
sha_v2=$(sha256sum "$image" | cut -d' ' -f1)
[[ "$sha_v2" != "$sha_v1" ]] || die "debugfs did not change the image"

# --- 4. second, incremental snapshot -------------------------------------------
timed "cairn snapshot create (incr.)" cairn snapshot create "$image" --description "demo second"
snap2=$(tr -d '[:space:]' <"$work/out")
[[ "$snap2" =~ ^snap-[0-9a-f]{17}$ ]] || die "snapshot create printed '$snap2', not a snapshot id"
timed "cairn repo stats" cairn --output json repo stats
cp "$work/out" "$work/stats2.json"
timed "cairn snapshot list" cairn snapshot list
sed 's/^/    /' "$work/out"

# --- 5. restore both, verify ---------------------------------------------------
timed "cairn snapshot restore (1st)" cairn snapshot restore "$snap1" "$work/out1.raw"
timed "cairn snapshot restore (2nd)" cairn snapshot restore "$snap2" "$work/out2.raw"
timed "e2fsck -fn (restore 1)" e2fsck -fn "$work/out1.raw"
timed "e2fsck -fn (restore 2)" e2fsck -fn "$work/out2.raw"
got1=$(sha256sum "$work/out1.raw" | cut -d' ' -f1)
got2=$(sha256sum "$work/out2.raw" | cut -d' ' -f1)
[[ "$got1" == "$sha_v1" ]] || die "restore of $snap1 differs: sha256 $got1, expected $sha_v1"
[[ "$got2" == "$sha_v2" ]] || die "restore of $snap2 differs: sha256 $got2, expected $sha_v2"
echo "sha256 of both restores match the images they came from"
timed "cairn repo check --read-data" cairn repo check --read-data

# --- 6. summary ----------------------------------------------------------------
stored1=$(json_field "$work/stats1.json" stored_bytes)
stored2=$(json_field "$work/stats2.json" stored_bytes)
logical=$(json_field "$work/stats2.json" logical_bytes)
nsnaps=$(json_field "$work/stats2.json" snapshots)
total_us=0
for s in "${step_secs[@]}"; do total_us=$((total_us + s)); done

echo
echo "=== cairn demo summary ==="
printf '%-34s %s\n' "image" "$(iec "$image_bytes") ext4, $src_files files, $(iec "$src_bytes") of data"
printf '%-34s %s\n' "snapshots" "$snap1 (full), $snap2 (incremental); repo has $nsnaps"
printf '%-34s %s\n' "stored after full snapshot" "$(iec "$stored1")"
printf '%-34s %s\n' "stored by incremental snapshot" "$(iec $((stored2 - stored1)))"
printf '%-34s %s\n' "repository stored bytes" "$(iec "$stored2") for $(iec "$logical") logical"
if ((stored2 > 0)); then
  printf '%-34s %s\n' "logical / stored (zeros+zstd+dedup)" \
    "$(awk -v l="$logical" -v s="$stored2" 'BEGIN { printf "%.1fx", l / s }')"
fi
echo "seconds per step:"
for i in "${!step_names[@]}"; do
  printf '  %-32s %6s\n' "${step_names[$i]}" "$(fmt_secs "${step_secs[$i]}")"
done
printf '  %-32s %6s\n' "total" "$(fmt_secs "$total_us")"
echo "restores verified: e2fsck clean, sha256 identical. demo OK"
