#!/usr/bin/env bash
# Hydration benchmark (issue 5): a volume restored from an 8 GiB snapshot.
#
# Builds (once, cached) a sparse-ish 8 GiB image with 2 GiB of seeded random
# data (64 MiB runs spread over the image), backs it up to a local
# repository, then measures with `cairn serve`:
#   - time from `volume create --snapshot-id` to `available` (the command's
#     own time), and to attached;
#   - time to first byte: a 4 KiB read of block 0 and of a block near the end
#     of the data (qemu-img dd, process start included);
#   - full hydration time (unlimited rate), polled from `volume show`;
# and `cairn snapshot restore` of the same snapshot to a file, then prints
# hydration throughput / restore throughput (goal: at least 90%). Page
# caches are dropped before each restore and each hydration.
#
#   bash bench/hydrate_bench.sh
# Environment: BENCH_DIR (default /var/tmp/cairn-hydrate-bench), BENCH_SIZE
# (default 8G), BENCH_DATA (random bytes, default 2G), BENCH_REPEAT (rounds
# of restore + hydration, alternating; medians are compared; default 3),
# CAIRN_BIN.
# Heavy on both cores for about a minute: do not run it while others build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-hydrate-bench}
BENCH_SIZE=${BENCH_SIZE:-8G}
BENCH_DATA=${BENCH_DATA:-2G}
BENCH_REPEAT=${BENCH_REPEAT:-3}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
log() { echo "hydrate_bench: $*" >&2; }
die() { echo "hydrate_bench: FAILED: $*" >&2; exit 1; }
for t in qemu-img jq curl openssl numfmt; do
  command -v "$t" >/dev/null || die "$t not installed (bash scripts/setup.sh)"
done
[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at $CAIRN_BIN"

size=$(numfmt --from=iec "$BENCH_SIZE")
data_bytes=$(numfmt --from=iec "$BENCH_DATA")
run=$((64 * 1024 * 1024))
runs=$((data_bytes / run))
((runs >= 1 && data_bytes <= size)) || die "BENCH_DATA must be 64M..BENCH_SIZE"
mkdir -p "$BENCH_DIR"
image=$BENCH_DIR/image-$BENCH_SIZE-$BENCH_DATA.raw
if [[ ! -f "$image" ]]; then
  log "building $image: $runs runs of 64 MiB of random data over $BENCH_SIZE"
  rm -f "$image.tmp" && truncate -s "$size" "$image.tmp"
  stride=$((size / runs / run * run))
  for ((i = 0; i < runs; i++)); do
    openssl enc -aes-128-ctr -pass "pass:hydrate-$i" -nosalt -pbkdf2 -iter 1 -md sha256 </dev/zero 2>/dev/null |
      head -c $run | dd of="$image.tmp" bs=1M seek=$((i * stride)) oflag=seek_bytes conv=notrunc status=none || true
  done
  mv "$image.tmp" "$image"
fi

work=$BENCH_DIR/work
rm -rf "$work" && mkdir -p "$work"
export CAIRN_PASSWORD=hydrate-bench CAIRN_API_SOCKET=$work/data/api.sock
repo=$work/repo
cairn() { "$CAIRN_BIN" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
cairn -q -r "$repo" repo init >/dev/null
log "backing up $image"
snap=$(cairn -q -r "$repo" --output json snapshot create "$image" | jq -r .snapshot_id)

drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
restore_once() {
  drop_caches
  local t0
  t0=$(now)
  cairn -q -r "$repo" snapshot restore "$snap" "$work/restored.raw"
  secs "$t0" "$(now)"
  rm -f "$work/restored.raw"
}

cairn -r "$repo" serve --data-dir "$work/data" --nbd-listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for ((i = 0; i < 200; i++)); do
  curl -sf --unix-socket "$CAIRN_API_SOCKET" http://cairn/v1/daemon >/dev/null 2>&1 && break
  sleep 0.05
done

# Creates a volume from the snapshot and waits until it is hydrated; prints
# the seconds from create to done. The first round also measures how soon
# the volume is usable, into $work/usable (lines of the table).
hydrate_once() {
  local first=$1 t0 doc vol uri st last_data
  drop_caches
  t0=$(now)
  doc=$(cairn --output json volume create --snapshot-id "$snap")
  local t_created
  t_created=$(now)
  vol=$(jq -r .id <<<"$doc")
  [[ "$(jq -r .state <<<"$doc")" == available ]] || die "volume $vol is $(jq -r .state <<<"$doc") after create"
  if [[ $first == 1 ]]; then
    uri=$(cairn volume attach "$vol")
    local t_attached t_first
    t_attached=$(now)
    qemu-img dd -f raw -O raw bs=4096 count=1 if="$uri" of="$work/first.bin" 2>/dev/null
    t_first=$(now)
    last_data=$(((runs - 1) * (size / runs / run * run) / 4096 + 100))
    qemu-img dd -f raw -O raw bs=4096 skip=$last_data count=$((last_data + 1)) if="$uri" of="$work/far.bin" 2>/dev/null
    {
      echo "| volume create → available | $(secs "$t0" "$t_created") |"
      echo "| create → attached | $(secs "$t0" "$t_attached") |"
      echo "| first 4 KiB of block 0 (qemu-img dd, after attach) | $(secs "$t_attached" "$t_first") |"
      echo "| 4 KiB near the end of the data (not yet hydrated) | $(secs "$t_first" "$(now)") |"
    } >"$work/usable"
  fi
  # Waits for the daemon's event in its log: polling `volume show` (a cairn
  # and a jq process every 0.1 s) took 15% of the CPU the hydration needs.
  local polls=0
  until grep -q "$vol info: hydration finished" "$work/serve.log"; do
    if ((++polls % 40 == 0)); then
      st=$(cairn --output json volume show "$vol" | jq -r .hydration.state)
      [[ "$st" == hydrating || "$st" == done ]] || die "hydration of $vol is $st"
    fi
    sleep 0.05
  done
  secs "$t0" "$(now)"
  [[ $first == 1 ]] && cairn -q volume detach "$vol" >/dev/null
  cairn -q volume delete "$vol" >/dev/null
}

# Side by side, alternating, so a busy moment hurts both.
restores=() hydrations=()
for ((r = 1; r <= BENCH_REPEAT; r++)); do
  restores+=("$(restore_once)")
  log "round $r: snapshot restore ${restores[-1]} s"
  hydrations+=("$(hydrate_once "$r")")
  log "round $r: full hydration ${hydrations[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
restore_s=$(median "${restores[@]}")
hydrate_s=$(median "${hydrations[@]}")
ratio=$(awk -v r="$restore_s" -v h="$hydrate_s" 'BEGIN { printf "%.0f", 100 * r / h }')
{
  echo "| volume from a $BENCH_SIZE snapshot ($BENCH_DATA data) | seconds |"
  echo "| --- | ---: |"
  cat "$work/usable"
  echo "| full hydration (create → done), median of $BENCH_REPEAT | $hydrate_s (${hydrations[*]}) |"
  echo "| \`snapshot restore\` to a file, median of $BENCH_REPEAT | $restore_s (${restores[*]}) |"
  echo
  echo "hydration throughput / restore throughput: $ratio% (goal: at least 90%)"
} | tee "$BENCH_DIR/results.md"
