#!/usr/bin/env bash
# Volume snapshot benchmark (issue 4): a 4 GiB cairn volume served by
# `cairn serve`, filled with the backup benchmark's ext4 image over NBD; the
# time of its first (full) snapshot, then of the snapshot after 1% of its
# 512 KiB blocks got a 4 KiB write (82 of 8192, seeded, scattered). Goal: the
# second at most 5% of the first, because changed-block tracking reads only
# the written blocks. Prints a markdown table (also in $BENCH_DIR/results.md).
#
#   bash bench/volume_snapshot_bench.sh       (after bash bench/backup_bench.sh built the image)
# Environment: BENCH_DIR (default /var/tmp/cairn-volume-bench), IMAGE (default
# the backup benchmark's /var/tmp/cairn-bench/data-4G/image.raw), CAIRN_BIN.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-volume-bench}
IMAGE=${IMAGE:-/var/tmp/cairn-bench/data-4G/image.raw}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
log() { echo "volume_bench: $*" >&2; }
die() { echo "volume_bench: FAILED: $*" >&2; exit 1; }

for t in qemu-img qemu-io jq curl; do command -v "$t" >/dev/null || die "$t not installed (bash scripts/setup.sh)"; done
[[ -f "$IMAGE" ]] || die "no image at $IMAGE: run bash bench/backup_bench.sh once (it builds and caches it)"
[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at $CAIRN_BIN"

rm -rf "$BENCH_DIR" && mkdir -p "$BENCH_DIR"
export CAIRN_PASSWORD=volume-bench CAIRN_API_SOCKET=$BENCH_DIR/data/api.sock
repo=$BENCH_DIR/repo
cairn() { "$CAIRN_BIN" "$@"; }
cairn -q -r "$repo" repo init >/dev/null

cairn -r "$repo" serve --data-dir "$BENCH_DIR/data" --nbd-listen 127.0.0.1:0 >"$BENCH_DIR/serve.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT
for ((i = 0; i < 200; i++)); do
  curl -sf --unix-socket "$CAIRN_API_SOCKET" http://cairn/v1/daemon >/dev/null 2>&1 && break
  sleep 0.05
done
size=$(stat -c %s "$IMAGE")
vol=$(cairn --output json volume create --size "$size" --volume-type standard | jq -r .id)
uri=$(cairn volume attach "$vol")
log "filling $vol ($size bytes) from $IMAGE over $uri"
qemu-img convert -n -f raw -O raw "$IMAGE" "$uri"

# snap: one snapshot, waited for; prints "seconds bytes_read".
snap() {
  local t0 t1 doc
  t0=$(date +%s.%N)
  doc=$(cairn -r "$repo" --output json snapshot create "$vol" --wait)
  t1=$(date +%s.%N)
  local id
  id=$(jq -r .snapshot_id <<<"$doc")
  local read
  read=$(cairn -r "$repo" --output json snapshot show "$id" | jq -r '.stats.bytes_read')
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $read"
}
sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
read -r full_s full_read < <(snap)
log "first snapshot: $full_s s, $full_read bytes read"

# 1% of the 512 KiB blocks get one 4 KiB write each (seeded, scattered).
blocks=$((size / 524288))
changes=$((blocks / 100))
cmds=()
for ((i = 0; i < changes; i++)); do
  b=$(((i * 7919 + 13) % blocks))
  cmds+=(-c "write -P $((i % 250 + 1)) $((b * 524288 + 4096)) 4096")
done
qemu-io -f raw "${cmds[@]}" -c flush "$uri" >/dev/null
sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
read -r incr_s incr_read < <(snap)
log "after $changes changed blocks: $incr_s s, $incr_read bytes read"

ratio=$(awk -v a="$incr_s" -v b="$full_s" 'BEGIN { printf "%.1f", 100 * a / b }')
{
  echo "| snapshot of a $((size >> 30)) GiB volume | seconds | bytes read |"
  echo "| --- | ---: | ---: |"
  echo "| first (full) | $full_s | $full_read |"
  echo "| after 1% change ($changes of $blocks blocks) | $incr_s | $incr_read |"
  echo
  echo "second / first: $ratio% of the time (goal: at most 5%)"
} | tee "$BENCH_DIR/results.md"
