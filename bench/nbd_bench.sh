#!/usr/bin/env bash
# NBD server benchmark: cairn's server vs `nbdkit file` serving the same file,
# same client (fio's nbd engine, one connection, libnbd), same run; and a
# third server, `cairn serve` with a volume of type standard (no QoS limit)
# holding the same bytes: the whole volume path (gate, copy-on-write check,
# changed-block bitmap) behind the same NBD server.
#
# Workloads: sequential 1 MiB read / write and random 4 KiB read / write, at
# iodepth 16 over a unix socket. Each (workload, server) pair runs
# NBD_BENCH_REPS times, the servers alternating, and the best run counts (the
# machine is shared; the best run is the least disturbed one). The server's
# CPU time (user + system, from /proc) per run is reported too: on a busy
# machine it compares the servers' cost better than throughput does.
#
#   bash bench/nbd_bench.sh
# Environment:
#   BENCH_DIR           work directory             (default /var/tmp/cairn-nbd-bench)
#   NBD_BENCH_SIZE      served file size            (default 1G)
#   NBD_BENCH_RUNTIME   seconds per fio run         (default 5)
#   NBD_BENCH_REPS      runs per pair               (default 2)
#   NBD_FILE_SERVER     cairn's test server         (default ./build/cairn-nbd-file-server)
#   CAIRN_BIN           cairn, for `cairn serve`    (default: beside NBD_FILE_SERVER)
# Prints a markdown table (also written to $BENCH_DIR/results.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-nbd-bench}
NBD_BENCH_SIZE=${NBD_BENCH_SIZE:-1G}
NBD_BENCH_RUNTIME=${NBD_BENCH_RUNTIME:-5}
NBD_BENCH_REPS=${NBD_BENCH_REPS:-2}
NBD_FILE_SERVER=${NBD_FILE_SERVER:-$root/build/cairn-nbd-file-server}
CAIRN_BIN=${CAIRN_BIN:-$(dirname "$NBD_FILE_SERVER")/cairn}

for t in fio nbdkit jq qemu-img; do
  command -v "$t" >/dev/null || { echo "nbd_bench: $t not installed (bash scripts/setup.sh)" >&2; exit 2; }
done
[[ -x "$NBD_FILE_SERVER" ]] || { echo "nbd_bench: no $NBD_FILE_SERVER (build target cairn-nbd-file-server)" >&2; exit 2; }
[[ -x "$CAIRN_BIN" ]] || { echo "nbd_bench: no $CAIRN_BIN (build target cairn)" >&2; exit 2; }

mkdir -p "$BENCH_DIR"
disk=$BENCH_DIR/disk.img
# A fully allocated file, so reads hit data, not holes, for both servers.
if [[ ! -f "$disk" || $(stat -c %s "$disk") != $(numfmt --from=iec "$NBD_BENCH_SIZE") ]]; then
  rm -f "$disk"
  head -c "$(numfmt --from=iec "$NBD_BENCH_SIZE")" /dev/urandom >"$disk"
fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_socket() {
  local i
  for ((i = 0; i < 200; i++)); do [[ -S "$1" ]] && return 0; sleep 0.05; done
  echo "nbd_bench: no socket at $1" >&2
  exit 1
}

rm -f "$BENCH_DIR/cairn.sock" "$BENCH_DIR/nbdkit.sock"
"$NBD_FILE_SERVER" "$disk" --socket "$BENCH_DIR/cairn.sock" >/dev/null &
pids+=($!)
declare -A server_pid
server_pid[cairn]=$!
nbdkit -f -U "$BENCH_DIR/nbdkit.sock" file "$disk" &
pids+=($!)
server_pid[nbdkit]=$!
wait_socket "$BENCH_DIR/cairn.sock"
wait_socket "$BENCH_DIR/nbdkit.sock"
declare -A server_uri
server_uri[cairn]="nbd+unix:///?socket=$BENCH_DIR/cairn.sock"
server_uri[nbdkit]="nbd+unix:///?socket=$BENCH_DIR/nbdkit.sock"

# The third server: `cairn serve`, one standard volume filled with disk.img.
export CAIRN_PASSWORD=${CAIRN_PASSWORD:-nbd-bench}
export CAIRN_API_SOCKET=$BENCH_DIR/serve/api.sock
rm -rf "$BENCH_DIR/serve" "$BENCH_DIR/serve-repo" "$BENCH_DIR/volume.sock"
"$CAIRN_BIN" -q -r "$BENCH_DIR/serve-repo" repo init >/dev/null
"$CAIRN_BIN" -r "$BENCH_DIR/serve-repo" serve --data-dir "$BENCH_DIR/serve" --nbd-listen "" \
  --nbd-socket "$BENCH_DIR/volume.sock" 2>"$BENCH_DIR/serve.log" &
pids+=($!)
server_pid[volume]=$!
for ((i = 0; i < 200; i++)); do [[ -S "$CAIRN_API_SOCKET" ]] && break; sleep 0.05; done
vol=$("$CAIRN_BIN" --output json volume create --size "$(stat -c %s "$disk")" --volume-type standard | jq -r .id)
"$CAIRN_BIN" volume attach "$vol" >/dev/null
server_uri[volume]="nbd+unix:///$vol?socket=$BENCH_DIR/volume.sock"
qemu-img convert -n -f raw -O raw "$disk" "${server_uri[volume]}"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run_fio SERVER RW BS: prints "MiB/s IOPS server-CPU-ms" of one run.
run_fio() {
  local server=$1 rw=$2 bs=$3
  local out t0 t1
  # Same page-cache state for every server: right after gigabytes of buffered
  # writes, 4 KiB writes into a file whose pages are still being written
  # back ran ~10x slower (seen on the volume, filled just before), whoever
  # served it. Dirty data written and the cache dropped before each run.
  sync
  [[ -w /proc/sys/vm/drop_caches ]] && echo 3 >/proc/sys/vm/drop_caches
  t0=$(cpu_ticks "${server_pid[$server]}")
  out=$(fio --output-format=json --name=nbd --ioengine=nbd \
    --uri="${server_uri[$server]}" \
    --rw="$rw" --bs="$bs" --iodepth=16 --size="$NBD_BENCH_SIZE" \
    --time_based --runtime="$NBD_BENCH_RUNTIME" --ramp_time=1 --randrepeat=0 |
    sed -n '/^{/,$p')  # the nbd engine prints a line before the JSON
  t1=$(cpu_ticks "${server_pid[$server]}")
  local dir=read
  [[ "$rw" == *write* ]] && dir=write
  local ms=$(((t1 - t0) * 1000 / $(getconf CLK_TCK)))
  jq -r ".jobs[0].$dir | \"\\(.bw / 1024 | floor) \\(.iops | floor) $ms\"" <<<"$out"
}

declare -A best_bw best_iops best_cpu
workloads=("read 1M" "write 1M" "randread 4k" "randwrite 4k")
for w in "${workloads[@]}"; do
  set -- $w
  for ((r = 0; r < NBD_BENCH_REPS; r++)); do
    order=(nbdkit cairn volume)
    ((r % 2 == 1)) && order=(volume cairn nbdkit)
    for s in "${order[@]}"; do
      read -r bw iops cpu < <(run_fio "$s" "$1" "$2")
      key="$s/$1/$2"
      if [[ -z "${best_bw[$key]:-}" || $bw -gt ${best_bw[$key]} ]]; then
        best_bw[$key]=$bw
        best_iops[$key]=$iops
        # server CPU per GiB moved, for runs of different lengths
        best_cpu[$key]=$(awk -v c="$cpu" -v bw="$bw" -v t="$NBD_BENCH_RUNTIME" 'BEGIN { printf "%.0f", (bw > 0 ? c * 1024 / (bw * (t + 1)) : 0) }')
      fi
      echo "nbd_bench: $s $1 $2 run $((r + 1)): $bw MiB/s, $iops IOPS, server CPU $cpu ms" >&2
    done
  done
done

{
  echo "| workload (iodepth 16, 1 connection) | nbdkit file | cairn (file) | cairn / nbdkit | cairn serve volume | volume / nbdkit | server CPU ms per GiB, nbdkit / cairn / volume |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for w in "${workloads[@]}"; do
    set -- $w
    k="nbdkit/$1/$2"
    c="cairn/$1/$2"
    v="volume/$1/$2"
    if [[ "$2" == 1M ]]; then
      a=${best_bw[$k]} b=${best_bw[$c]} d=${best_bw[$v]} unit="MiB/s"
    else
      a=${best_iops[$k]} b=${best_iops[$c]} d=${best_iops[$v]} unit="IOPS"
    fi
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }')
    vratio=$(awk -v a="$a" -v b="$d" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }')
    echo "| $1 $2 | $a $unit | $b $unit | $ratio | $d $unit | $vratio | ${best_cpu[$k]} / ${best_cpu[$c]} / ${best_cpu[$v]} |"
  done
} | tee "$BENCH_DIR/results.md"
