#!/usr/bin/env bash
# QoS benchmark: do the volume types' IOPS and throughput limits hold?
#
# Drives a volume in-process (src/volume/tools/qos_load.cc: several threads
# issuing I/O as fast as the volume admits them, random offsets in the first
# 256 MiB of a 1 GiB volume) and compares the completed rate, after a 0.5 s
# warm-up, with the limit the type promises (src/volume/volume_type.h). Each
# row uses the I/O size that makes one limit the binding one: 4 KiB for IOPS,
# 1 MiB for throughput. Reads come from the page cache after a fill, so the
# disk is not the limit.
#
#   bash bench/qos_bench.sh
# Environment:
#   QOS_LOAD     the load binary (default ./build/src/volume/cairn_qos_load)
#   BENCH_DIR    scratch directory (default /var/tmp/cairn-qos-bench)
#   SECONDS_PER  measured seconds per row (default 5)
#   THREADS      client threads (default 4)
# Prints a Markdown table; exit status 0 only if every limited row is within
# 10% of its limit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QOS_LOAD=${QOS_LOAD:-$root/build/src/volume/cairn_qos_load}
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-qos-bench}
SECONDS_PER=${SECONDS_PER:-5}
THREADS=${THREADS:-4}
[[ -x $QOS_LOAD ]] || { echo "qos_bench: $QOS_LOAD not built (cmake --build build --target cairn_qos_load)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

# type iops throughput_mibps block_bytes rw  which-limit
rows=(
  "gp3 0 0 4096 write iops"
  "gp3 0 0 1048576 read mib"
  "gp3 6000 250 4096 read iops"
  "gp3 6000 250 1048576 write mib"
  "io2 2000 0 4096 write iops"
  "io2 1000 0 1048576 read mib"
  "st1 0 0 1048576 read mib"
  "sc1 0 0 1048576 read mib"
  "standard 0 0 4096 write none"
)

fail=0
echo "| type | --iops | --throughput | I/O size | rw | measured IOPS | limit IOPS | measured MiB/s | limit MiB/s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  read -r type iops tput bs rw which <<<"$row"
  dir=$BENCH_DIR/vol-$$
  rm -rf "$dir"
  out=$("$QOS_LOAD" "$dir" "$type" "$iops" "$tput" "$bs" "$THREADS" "$SECONDS_PER" "$rw")
  get() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$out"; }
  ops=$(get ops_per_s); lops=$(get limit_ops); mib=$(get mib_per_s); lmib=$(get limit_mib)
  case $which in
    iops) ratio=$(awk -v a="$ops" -v b="$lops" 'BEGIN{printf "%.3f", a/b}') ;;
    mib) ratio=$(awk -v a="$mib" -v b="$lmib" 'BEGIN{printf "%.3f", a/b}') ;;
    *) ratio="-" ;;
  esac
  if [[ $ratio != - ]] && ! awk -v r="$ratio" 'BEGIN{exit !(r >= 0.9 && r <= 1.1)}'; then
    fail=1
    ratio="$ratio (outside 10%)"
  fi
  [[ $which == none ]] && { lops="unlimited"; lmib="unlimited"; }
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$type" "$iops" "$tput" "$bs" "$rw" "$ops" "$lops" "$mib" "$lmib" "$ratio"
done
rm -rf "$BENCH_DIR/vol-$$"
exit $fail
