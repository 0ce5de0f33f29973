#!/usr/bin/env bash
# S3 benchmark: cairn to a local directory vs cairn to Ceph RGW on the same
# host vs restic with its S3 backend to the same RGW, in one run, on the
# 4 GiB image of bench/backup_bench.sh (built the same way, from the same
# cache). Not a test.
#
# RGW runs on bluestore on a sparse file in $BENCH_DIR/rgw (memstore would
# hold the data in RAM at about 2.4x). For each of "cairn local", "cairn s3"
# and "restic s3", encrypted and compressed: full backup of the image,
# incremental backup of the changed copy at the same path, full restore of
# the second backup (verified with cmp). Reported per step: wall and CPU
# seconds, peak RSS, MB/s, and for S3 the HTTP requests RGW served (its own
# perf counters) and the objects in the tool's bucket, per GiB of image data.
#
#   bash bench/s3_bench.sh
# Environment:
#   BENCH_DIR         cache and work directory    (default /var/tmp/cairn-bench)
#   BENCH_IMAGE_SIZE  image size                  (default 4G)
#   BENCH_S3_TOOLS    what to run                 (default "cairn-local cairn-s3 restic-s3")
#   CAIRN_BIN         cairn binary                (default ./build/cairn)
#   KEEP=1            keep repositories and the server afterwards
# Writes the table to stdout and to $BENCH_DIR/s3-results.md.
# Exit status: 0 if every step ran and every restore was byte-identical.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/cairn-bench}
BENCH_IMAGE_SIZE=${BENCH_IMAGE_SIZE:-4G}
BENCH_S3_TOOLS=${BENCH_S3_TOOLS:-cairn-local cairn-s3 restic-s3}
CAIRN_BIN=${CAIRN_BIN:-$root/build/cairn}
export PATH="$PATH:/usr/sbin:/sbin"

log() { echo "s3-bench: $*" >&2; }
die() {
  echo "s3-bench: FAILED: $*" >&2
  exit 1
}

[[ -x "$CAIRN_BIN" ]] || die "no cairn binary at $CAIRN_BIN (build first, or set CAIRN_BIN)"
bash "$root/scripts/setup.sh" restic ceph-mon ceph-osd radosgw ceph-common ||
  die "could not install restic and Ceph"
size=$(numfmt --from=iec "$BENCH_IMAGE_SIZE") || die "bad BENCH_IMAGE_SIZE=$BENCH_IMAGE_SIZE"

# --- 1. the images: bench/backup_bench.sh builds (or reuses) them --------------
data=$BENCH_DIR/data-$BENCH_IMAGE_SIZE
image=$data/image.raw
changed=$data/image-changed.raw
if [[ ! -f "$data/stamp" || ! -f "$image" || ! -f "$changed" ]]; then
  log "building the bench images with bench/backup_bench.sh (baseline only)"
  BENCH_DIR=$BENCH_DIR BENCH_IMAGE_SIZE=$BENCH_IMAGE_SIZE BENCH_TOOLS=baseline CAIRN_BIN=$CAIRN_BIN \
    bash "$root/bench/backup_bench.sh" >/dev/null || die "bench/backup_bench.sh could not build the images"
fi
[[ -f "$image" && -f "$changed" ]] || die "no images in $data"
log "images: $image, $changed"

run=$BENCH_DIR/s3-run
if [[ -d "$run/rgw" ]]; then bash "$root/scripts/s3-server.sh" stop "$run/rgw" || true; fi
rm -rf "$run"
mkdir -p "$run/src" "$run/logs"
disk=$run/src/disk.raw

# --- 2. RGW on bluestore -------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    port_free "$p" && { echo "$p"; return; }
  done
  die "no free port"
}
t0=$(date +%s.%N)
env_line=$(CAIRN_S3_STORE=bluestore CAIRN_S3_BLUESTORE_BYTES=$((size * 4 + 8 * 1073741824)) \
  CAIRN_S3_PORT=$(free_port) CAIRN_S3_MON_PORT=$(free_port) \
  bash "$root/scripts/s3-server.sh" start "$run/rgw") || die "RGW did not start (logs in $run/rgw/log)"
eval "$env_line"
log "RGW (bluestore) up at $AWS_ENDPOINT_URL in $(echo "$(date +%s.%N) - $t0" | bc) s"
stop_server() { [[ -n "${KEEP:-}" ]] || bash "$root/scripts/s3-server.sh" stop "$run/rgw" || true; }
trap stop_server EXIT
ceph_conf=$run/rgw/ceph.conf
asok=$run/rgw/run/client.rgw.cairn.asok

s3() { # s3 METHOD PATH: a signed request (curl signs SigV4)
  curl -sS -f -X "$1" --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null "$AWS_ENDPOINT_URL$2"
}
for b in cairn restic; do s3 PUT "/bench-$b" || die "creating bucket bench-$b failed"; done
# rgw_requests: HTTP requests RGW has served so far (perf counter rgw.req).
rgw_requests() { ceph --admin-daemon "$asok" perf dump 2>/dev/null | jq -r '.rgw.req // 0'; }
# bucket_objects NAME: objects in the bucket (radosgw-admin bucket stats).
bucket_objects() {
  radosgw-admin -c "$ceph_conf" bucket stats --bucket "$1" 2>/dev/null |
    jq -r '[.usage[]?.num_objects] | add // 0'
}

if [[ $(id -u) -eq 0 ]] && (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
  cache_mode="cold (page cache dropped before each step)"
  drop_caches() { sync && echo 3 >/proc/sys/vm/drop_caches; }
else
  cache_mode="warm (not root)"
  drop_caches() { sync; }
fi
load_start=$(cut -d' ' -f1 /proc/loadavg)

declare -a rows=()
declare -A wall=()
failures=()
gib=$(awk -v s="$size" 'BEGIN { print s / 1073741824 }')

# measure NAME STEP BUCKET CMD...: times CMD, adds a row with requests/objects.
measure() {
  local name=$1 step=$2 bucket=$3
  shift 3
  local base=$run/logs/$name-$step rc=0 req0=0 req1=0
  drop_caches
  [[ -n "$bucket" ]] && req0=$(rgw_requests)
  log "$name: $step"
  /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
  if ((rc != 0)); then
    echo "s3-bench: !!! $name $step FAILED (exit $rc)" >&2
    tail -n 20 "$base.err" >&2
    failures+=("$name $step failed (exit $rc)")
    rows+=("$name|$step|FAILED||||||")
    return 1
  fi
  local e u s m req="" objs="" per=""
  read -r e u s m < <(tail -n 1 "$base.time")
  wall[$name.$step]=$e
  if [[ -n "$bucket" ]]; then
    req1=$(rgw_requests)
    req=$((req1 - req0))
    objs=$(bucket_objects "$bucket")
    per=$(awk -v o="$objs" -v g="$gib" 'BEGIN { printf "%.1f", o / g }')
  fi
  rows+=("$name|$step|$e|$(awk -v b="$size" -v e="$e" 'BEGIN { printf "%.0f", (e > 0 ? b / 1e6 / e : 0) }')|$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')|$(awk -v m="$m" 'BEGIN { printf "%.0f", m / 1024 }')|$req|$objs|$per")
}
verify() {
  if cmp -s "$2" "$changed"; then
    log "$1 restore verified"
  else
    echo "s3-bench: !!! $1 RESTORED WRONG BYTES" >&2
    failures+=("$1 restore: WRONG BYTES")
    rows[-1]="${rows[-1]}|WRONG BYTES"
  fi
  rm -f "$2"
}
want() { [[ " $BENCH_S3_TOOLS " == *" $1 "* ]]; }

export CAIRN_PASSWORD=bench-password RESTIC_PASSWORD=bench-password
export RESTIC_CACHE_DIR=$run/restic-cache
cairn_local=$run/repo-cairn
cairn_s3=s3://bench-cairn/repo
restic_s3=s3:$AWS_ENDPOINT_URL/bench-restic/repo

# --- 3. full backups ------------------------------------------------------------------
cp --sparse=always "$image" "$disk"
if want cairn-local; then
  "$CAIRN_BIN" -q -r "$cairn_local" repo init >/dev/null
  measure cairn-local full "" "$CAIRN_BIN" -q -r "$cairn_local" snapshot create "$disk" || true
fi
if want cairn-s3; then
  "$CAIRN_BIN" -q -r "$cairn_s3" repo init >/dev/null
  measure cairn-s3 full bench-cairn "$CAIRN_BIN" -q -r "$cairn_s3" snapshot create "$disk" || true
fi
if want restic-s3; then
  restic -q -r "$restic_s3" init --repository-version 2 >/dev/null
  measure restic-s3 full bench-restic \
    restic -q -r "$restic_s3" backup --compression auto --host bench "$disk" || true
fi

# --- 4. incremental backups ------------------------------------------------------------
cp --sparse=always "$changed" "$disk"
if want cairn-local; then
  measure cairn-local incremental "" "$CAIRN_BIN" -q -r "$cairn_local" snapshot create "$disk" || true
fi
if want cairn-s3; then
  measure cairn-s3 incremental bench-cairn "$CAIRN_BIN" -q -r "$cairn_s3" snapshot create "$disk" || true
fi
if want restic-s3; then
  measure restic-s3 incremental bench-restic \
    restic -q -r "$restic_s3" backup --compression auto --host bench "$disk" || true
fi
rm -f "$disk"

# --- 5. restores of the incremental backup -------------------------------------------------
out=$run/restore
mkdir -p "$out"
if want cairn-local; then
  s=$(tr -d '[:space:]' <"$run/logs/cairn-local-incremental.out")
  if measure cairn-local restore "" "$CAIRN_BIN" -q -r "$cairn_local" snapshot restore "$s" "$out/disk.raw"; then
    verify cairn-local "$out/disk.raw"
  fi
fi
if want cairn-s3; then
  s=$(tr -d '[:space:]' <"$run/logs/cairn-s3-incremental.out")
  if measure cairn-s3 restore bench-cairn "$CAIRN_BIN" -q -r "$cairn_s3" snapshot restore "$s" "$out/disk.raw"; then
    verify cairn-s3 "$out/disk.raw"
  fi
fi
if want restic-s3; then
  # shellcheck disable=SC2016 # restic does not fsync; its time includes a sync
  if measure restic-s3 restore bench-restic sh -c 'restic -q -r "$1" restore latest --target "$2" && sync' \
    sh "$restic_s3" "$out"; then
    verify restic-s3 "$out$disk"
  fi
fi
rm -rf "$out"

# --- 6. report ---------------------------------------------------------------------------
ratio() { # ratio A B STEP: wall of A / wall of B
  local a=${wall[$1.$3]:-} b=${wall[$2.$3]:-}
  if [[ -n "$a" && -n "$b" ]]; then
    awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
  else
    echo "n/a"
  fi
}
header() {
  echo "image: $BENCH_IMAGE_SIZE ext4 ($(cat "$data/source.txt" 2>/dev/null || echo '?')), changed copy: $(wc -l <"$data/changes.txt") blocks"
  echo "machine: $(nproc) cores, $(uname -r), load average at start $load_start, page cache $cache_mode"
  echo "server: Ceph RGW $(radosgw --version 2>/dev/null | awk '{ print $3 }') on bluestore (sparse file), 127.0.0.1, one gateway"
  echo "versions: $("$CAIRN_BIN" --version 2>/dev/null | head -n 1), $(restic version 2>/dev/null | cut -d' ' -f1-2)"
  echo "requests = HTTP requests RGW served during the step (perf counter rgw.req);" \
    "objects = objects in the tool's bucket after the step; per GiB = objects / image GiB"
}
table_text() {
  printf '%-12s %-12s %8s %8s %8s %8s %9s %8s %8s\n' tool step "wall s" "MB/s" "CPU s" "RSS MiB" requests objects "obj/GiB"
  local r
  for r in "${rows[@]}"; do
    IFS='|' read -r a b c d e f g h i j <<<"$r"
    printf '%-12s %-12s %8s %8s %8s %8s %9s %8s %8s %s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h" "$i" "${j:-}"
  done
}
table_md() {
  echo "| tool | step | wall s | MB/s | CPU s | peak RSS MiB | requests | objects | objects/GiB |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  local r
  for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
}
ratios() {
  local s
  for s in full incremental restore; do
    echo "$s: cairn local/S3 speed $(ratio cairn-local cairn-s3 "$s") (goal >= 0.70)," \
      "restic-S3/cairn-S3 time $(ratio restic-s3 cairn-s3 "$s")"
  done
}
{
  echo "# cairn S3 benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  header | sed 's/^/- /'
  echo
  table_md
  echo
  ratios | sed 's/^/- /'
  if ((${#failures[@]} > 0)); then
    echo
    echo "**Problems:** ${failures[*]}"
  fi
} >"$BENCH_DIR/s3-results.md"
echo
header
echo
table_text
echo
ratios
echo "markdown: $BENCH_DIR/s3-results.md"
if [[ -z "${KEEP:-}" ]]; then
  rm -rf "$run/repo-cairn" "$run/restic-cache"
fi
if ((${#failures[@]} > 0)); then
  echo "s3-bench: PROBLEMS: ${failures[*]}" >&2
  exit 1
fi
