#!/usr/bin/env bash
# QoS benchmark through NBD: do the volume types' limits hold for a real NBD
# client? bench/qos_bench.sh measures the token buckets in-process; this one
# measures what a client of `cairn serve` gets: one volume per type with its
# defaults (io2 has none: --iops 1000), attached on a unix socket, driven by
# fio's nbd engine (one connection, iodepth 8) for SECONDS_PER seconds after
# a 1 s ramp. Each type gets two rows: 4 KiB random writes (the IOPS limit
# binds) and 1 MiB sequential reads (the throughput limit binds; for st1 and
# sc1 the burst rate, since a new volume's credit bucket is full). Volumes
# are 1 GiB and sparse, so reads cost no disk I/O.
#
#   bash bench/qos_nbd_bench.sh
# Environment:
#   CAIRN_BIN    cairn (default ./build/cairn)
#   BENCH_DIR    scratch directory (default /var/tmp/cairn-qos-nbd-bench)
#   SECONDS_PER  measured seconds per row (default 5)
# Prints a Markdown table (also $BENCH_DIR/results.md); exit status 0 only if
# every limited row is within 10% of its limit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-qos-nbd-bench}
SECONDS_PER=${SECONDS_PER:-5}
for t in fio jq; do
  command -v "$t" >/dev/null || { echo "qos_nbd_bench: $t not installed (bash scripts/setup.sh)" >&2; exit 2; }
done
[[ -x $CAIRN_BIN ]] || { echo "qos_nbd_bench: no $CAIRN_BIN (build target cairn)" >&2; exit 2; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
export CAIRN_PASSWORD=${CAIRN_PASSWORD:-qos-nbd-bench}
export CAIRN_API_SOCKET=$BENCH_DIR/data/api.sock
"$CAIRN_BIN" -q -r "$BENCH_DIR/repo" repo init >/dev/null
"$CAIRN_BIN" -r "$BENCH_DIR/repo" serve --data-dir "$BENCH_DIR/data" --nbd-listen "" \
  --nbd-socket "$BENCH_DIR/nbd.sock" 2>"$BENCH_DIR/serve.log" &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null || true' EXIT
for ((i = 0; i < 200; i++)); do [[ -S "$CAIRN_API_SOCKET" ]] && break; sleep 0.05; done

# limit_of LIMITS WHAT: the IOPS or MiB/s figure in a volume's "limits" text
# ("gp3, 3000 IOPS, 125 MiB/s"; st1/sc1: the burst rate); "" when unlimited.
limit_of() {
  case $2 in
    iops) sed -n 's/.*, \([0-9]*\) IOPS.*/\1/p' <<<"$1" ;;
    mib) if [[ $1 == *burst* ]]; then
        sed -n 's/.*, \([0-9.]*\) MiB\/s burst.*/\1/p' <<<"$1"
      else
        sed -n 's/.*, \([0-9.]*\) MiB\/s.*/\1/p' <<<"$1"
      fi ;;
  esac
}

# type and its flags
types=("gp3" "io2 --iops 1000" "st1" "sc1" "standard")
fail=0
{
  echo "| type | I/O | measured IOPS | limit IOPS | measured MiB/s | limit MiB/s | ratio |"
  echo "|---|---|---|---|---|---|---|"
} | tee "$BENCH_DIR/results.md"
for t in "${types[@]}"; do
  read -r type flags <<<"$t"
  # shellcheck disable=SC2086
  doc=$("$CAIRN_BIN" --output json volume create --size 1G --volume-type $type $flags)
  vol=$(jq -r .id <<<"$doc")
  limits=$(jq -r .limits <<<"$doc")
  "$CAIRN_BIN" volume attach "$vol" >/dev/null
  for io in "randwrite 4k iops" "read 1M mib"; do
    read -r rw bs which <<<"$io"
    out=$(fio --output-format=json --name=qos --ioengine=nbd \
      --uri="nbd+unix:///$vol?socket=$BENCH_DIR/nbd.sock" --rw="$rw" --bs="$bs" --iodepth=8 \
      --size=256M --time_based --runtime="$SECONDS_PER" --ramp_time=1 --randrepeat=0 |
      sed -n '/^{/,$p')
    dir=read
    [[ $rw == *write* ]] && dir=write
    iops=$(jq -r ".jobs[0].$dir.iops | . * 10 | floor / 10" <<<"$out")
    mib=$(jq -r ".jobs[0].$dir.bw_bytes / 1048576 | . * 100 | floor / 100" <<<"$out")
    liops=$(limit_of "$limits" iops)
    lmib=$(limit_of "$limits" mib)
    ratio="-"
    if [[ $which == iops && -n $liops ]]; then
      ratio=$(awk -v a="$iops" -v b="$liops" 'BEGIN { printf "%.3f", a / b }')
    elif [[ $which == mib && -n $lmib ]]; then
      ratio=$(awk -v a="$mib" -v b="$lmib" 'BEGIN { printf "%.3f", a / b }')
    fi
    if [[ $ratio != - ]] && ! awk -v r="$ratio" 'BEGIN { exit !(r >= 0.9 && r <= 1.1) }'; then
      fail=1
      ratio="$ratio (outside 10%)"
    fi
    printf '| %s | %s %s | %s | %s | %s | %s | %s |\n' "$type${flags:+ $flags}" "$bs" "$rw" \
      "$iops" "${liops:-unlimited}" "$mib" "${lmib:-unlimited}" "$ratio" | tee -a "$BENCH_DIR/results.md"
  done
done
exit $fail
