#!/usr/bin/env bash
# File read benchmark: `cairn snapshot cat` of one large file from an ext4
# snapshot in an S3 repository (a throw-away RADOS Gateway, scripts/
# s3-server.sh), the path where read-ahead matters: each repository block is
# a ranged GET, and without read-ahead they are fetched one after another.
#
# Builds (in $BENCH_DIR/cat-run, removed at the end unless KEEP=1) an ext4
# image holding one file of CAT_BENCH_SIZE random bytes, a repository on S3
# with one snapshot of it, then times, CAT_BENCH_RUNS times each:
#   cairn snapshot cat SNAP /big.bin > /dev/null        (CAIRN_BIN)
#   the same with CAIRN_BIN_BEFORE, when set (e.g. a build without read-ahead)
# and checks the bytes (sha256) against the source file once per binary.
#
#   bash bench/cat_bench.sh
# Environment:
#   BENCH_DIR         work directory                      (default /var/tmp/cairn-cat-bench)
#   CAT_BENCH_SIZE    size of the file, e.g. 256M         (default 256M)
#   CAT_BENCH_RUNS    timed runs per binary               (default 3)
#   CAIRN_BIN         cairn binary                        (default ./build/cairn)
#   CAIRN_BIN_BEFORE  a second binary to compare          (default: none)
# Prints one line per run and a table of the best times. Exit 0 if every step ran.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-cat-bench}
CAT_BENCH_SIZE=${CAT_BENCH_SIZE:-256M}
CAT_BENCH_RUNS=${CAT_BENCH_RUNS:-3}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
CAIRN_BIN_BEFORE=${CAIRN_BIN_BEFORE:-}
export PATH="$PATH:/usr/sbin:/sbin"
export CAIRN_PASSWORD=cat-bench-password

log() { echo "bench: $*" >&2; }
die() {
  echo "bench: FAILED: $*" >&2
  exit 1
}
[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at CAIRN_BIN=$CAIRN_BIN"
[[ -z "$CAIRN_BIN_BEFORE" || -x "$CAIRN_BIN_BEFORE" ]] || die "no binary at CAIRN_BIN_BEFORE"
bytes=$(numfmt --from=iec "$CAT_BENCH_SIZE") || die "bad CAT_BENCH_SIZE=$CAT_BENCH_SIZE"

run=$BENCH_DIR/cat-run
if [[ -d "$run/rgw" ]]; then bash "$root/scripts/s3-server.sh" stop "$run/rgw" || true; fi
rm -rf "$run"
mkdir -p "$run/tree"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && {
      echo "$p"
      return
    }
  done
  die "no free port"
}
env_line=$(CAIRN_S3_STORE=bluestore CAIRN_S3_BLUESTORE_BYTES=$((bytes * 4 + 4 * 1073741824)) \
  CAIRN_S3_PORT=$(free_port) CAIRN_S3_MON_PORT=$(free_port) \
  bash "$root/scripts/s3-server.sh" start "$run/rgw") || die "RGW did not start (logs in $run/rgw/log)"
eval "$env_line"
stop_server() {
  if [[ -z "${KEEP:-}" ]]; then
    bash "$root/scripts/s3-server.sh" stop "$run/rgw" || true
    rm -rf "$run"
  fi
}
trap stop_server EXIT
curl -sS -f -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
  -o /dev/null "$AWS_ENDPOINT_URL/bench-cat" || die "creating bucket bench-cat failed"
log "RGW (bluestore) up at $AWS_ENDPOINT_URL"

{ openssl enc -aes-128-ctr -pass pass:cat-bench -nosalt -pbkdf2 -iter 1 -md sha256 </dev/zero \
  2>/dev/null || true; } | head -c "$bytes" >"$run/tree/big.bin"
want=$(sha256sum <"$run/tree/big.bin" | cut -d' ' -f1)
image=$run/image.raw
truncate -s $((bytes * 12 / 10 + 64 * 1048576)) "$image"
mkfs.ext4 -q -F -d "$run/tree" "$image" >/dev/null
repo=s3://bench-cat/repo
"$CAIRN_BIN" -q -r "$repo" repo init >/dev/null
snap=$("$CAIRN_BIN" -q -r "$repo" snapshot create "$image")
log "snapshot $snap of a $((bytes / 1048576)) MiB file in $repo"

# measure NAME BIN: CAT_BENCH_RUNS timed cats; the best time in $best.
measure() {
  local name=$1 bin=$2 i t0 t1 secs got
  got=$("$bin" -q -r "$repo" snapshot cat "$snap" /big.bin | sha256sum | cut -d' ' -f1)
  [[ "$got" == "$want" ]] || die "$name: cat returned other bytes (sha256 $got, want $want)"
  best=
  for i in $(seq "$CAT_BENCH_RUNS"); do
    t0=$(date +%s.%N)
    "$bin" -q -r "$repo" snapshot cat "$snap" /big.bin >/dev/null
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf 'bench: %-8s run %d: %6.2f s, %6.1f MiB/s\n' "$name" "$i" "$secs" \
      "$(awk -v m="$bytes" -v s="$secs" 'BEGIN { print m / 1048576 / s }')" >&2
    if [[ -z "$best" ]] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
  done
}
rows=()
if [[ -n "$CAIRN_BIN_BEFORE" ]]; then
  measure before "$CAIRN_BIN_BEFORE"
  rows+=("before|$best")
fi
measure after "$CAIRN_BIN"
rows+=("after|$best")

echo "snapshot cat of a $((bytes / 1048576)) MiB file from S3 (RGW on loopback), best of $CAT_BENCH_RUNS"
printf '| binary | seconds | MiB/s |\n| --- | --- | --- |\n'
for r in "${rows[@]}"; do
  printf '| %s | %.2f | %.1f |\n' "${r%%|*}" "${r#*|}" \
    "$(awk -v m="$bytes" -v s="${r#*|}" 'BEGIN { print m / 1048576 / s }')"
done
