#!/usr/bin/env bash
# Volumes from snapshots, hydrated lazily. A 128 MiB image (random, text
# and two 16 MiB holes) is backed up; `volume create --snapshot-id … 
# --initialization-rate 8` is `available` at once; reads of ranges the
# background has not reached return the snapshot's bytes at once (time to
# first byte printed); writes during hydration (a whole 512 KiB block, and
# partial ones) stay; when hydration is done the whole volume equals the
# image with the writes applied (nbdcopy + cmp). The volume's first snapshot
# is incremental against its origin and reads only the written blocks.
# A second volume: kill -9 of the daemon mid-hydration after a flushed
# write; the restart resumes and ends byte-exact, the write kept. An eager
# volume is `available` only when fully hydrated. --size smaller than the
# snapshot is refused. While a volume hydrates, `repo gc` is refused naming
# the daemon's lock (hydrate vol-…); afterwards it runs, and NBD block status
# shows the snapshot's holes again (the hydrator left the I/O path). On S3,
# the S3 server "goes down" (a fault proxy answers 503) mid-hydration: the
# hydration fails, `volume show` says so, reads of unfetched blocks fail,
# and the daemon's retry finishes it once S3 is back. Runs on a local and an
# S3 repository.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-io qemu-img nbdcopy nbdinfo curl jq
REPO=$(repo_url repo)

MiB=1048576
size=$((128 * MiB))
img=$T/image.raw
img_new "$img" $size
img_rand "$img" 0 $((48 * MiB)) hyd-a
img_text "$img" $((64 * MiB)) $((32 * MiB)) hyd-b
img_rand "$img" $((112 * MiB)) $((16 * MiB)) hyd-c
init_repo "$REPO"
snap=$(snap_create "$REPO" "$img")
start_daemon

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# read_range URI OFFSET LEN OUT: LEN bytes at OFFSET (multiples of 4 KiB).
# (qemu-img dd counts the skipped blocks in count.)
read_range() {
  rm -f "$4"
  ok qemu-img dd -f raw -O raw bs=4096 skip=$(($2 / 4096)) count=$((($2 + $3) / 4096)) if="$1" of="$4"
}
# expect_range URI OFFSET LEN WANT_FILE: the range equals WANT_FILE's.
expect_range() {
  read_range "$1" "$2" "$3" "$T/range.got"
  dd if="$4" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) status=none >"$T/range.want"
  cmp "$T/range.want" "$T/range.got" >/dev/null ||
    fail "range $2+$3 of $1 differs from $4: $(cmp "$T/range.want" "$T/range.got" 2>&1 | head -n 1)"
}
# write_both URI FILE OFFSET LEN BYTE: writes LEN bytes of BYTE at OFFSET
# into the volume (flushed) and into FILE.
write_both() {
  ok qemu-io -f raw -c "write -P $5 $3 $4" -c flush "$1"
  head -c "$4" /dev/zero | tr '\0' "\\$(printf '%03o' "$5")" | write_at "$2" "$3"
}
# hydration VOL: prints the volume's hydration state; the JSON stays in $OUT.
hydration() {
  ok cairn --output json volume show "$1"
  json .hydration.state
}
# wait_hydrated VOL SECONDS
wait_hydrated() {
  local i st
  for ((i = 0; i < $2 * 10; i++)); do
    st=$(hydration "$1")
    [[ "$st" == done ]] && return 0
    [[ "$st" == hydrating ]] || fail "hydration of $1 is '$st': $(jq -c .hydration "$OUT")"
    sleep 0.1
  done
  fail "hydration of $1 not done after $2 s: $(jq -c .hydration "$OUT")"
}

# --size below the snapshot's: refused, naming both.
expect_exit 2 cairn volume create --snapshot-id "$snap" --size 64M
expect_stderr_contains "--size" "$snap" "$size bytes"

# Lazy, 8 MiB/s: available at once.
t0=$(now_ms)
vol=$(volume_create --snapshot-id "$snap" --initialization-rate 8)
create_ms=$(($(now_ms) - t0))
assert_eq "state right after create" available "$(json .state)"
assert_eq "size defaults to the snapshot's" $size "$(json .size)"
assert_eq "origin" "$snap" "$(json .origin_snapshot)"
assert_eq "last_snapshot is the origin" "$snap" "$(json .last_snapshot)"
assert_eq "hydration state" hydrating "$(json .hydration.state)"
assert_eq "bytes to hydrate (the image's data, not its holes)" $((96 * MiB)) "$(json .hydration.total)"
uri=$(volume_attach "$vol")
attach_ms=$(($(now_ms) - t0))

# The origin snapshot's chunks are in use: gc is refused, naming the lock.
expect_exit 5 cairn -r "$REPO" repo gc --grace-period 0
expect_stderr_contains "hydrate $vol"

# Time to first byte: 4 KiB far ahead of the background (which starts at 0).
t1=$(now_ms)
expect_range "$uri" $((120 * MiB)) 4096 "$img"
ttfb_ms=$(($(now_ms) - t1))
log "volume $vol from $snap: create ${create_ms} ms, attached ${attach_ms} ms after create began, first 4 KiB at 120 MiB in ${ttfb_ms} ms (qemu-img start included)"
st=$(hydration "$vol")
assert_eq "still hydrating after the first read" hydrating "$st"
log "after the first read: $(jq -c .hydration "$OUT")"

# Reads of ranges across the image during hydration.
expect_range "$uri" $((60 * MiB)) $((8 * MiB)) "$img"    # data, hole boundary
expect_range "$uri" $((100 * MiB)) $((2 * MiB)) "$img"   # text
expect_range "$uri" $((127 * MiB)) $MiB "$img"           # the end

# Writes during hydration: a whole repository block, a partial one, one
# across a block boundary; the expected image gets the same.
cp "$img" "$T/expected.raw"
write_both "$uri" "$T/expected.raw" $((90 * MiB)) $((512 * 1024)) 171
write_both "$uri" "$T/expected.raw" $((121 * MiB + 8192)) 12288 172
write_both "$uri" "$T/expected.raw" $((70 * MiB + 409600)) 307200 173
expect_range "$uri" $((69 * MiB)) $((24 * MiB)) "$T/expected.raw"
st=$(hydration "$vol")
assert_eq "hydrating while written" hydrating "$st"
log "during hydration: $(jq -c .hydration "$OUT")"

wait_hydrated "$vol" 120
assert_eq "percent when done" 100 "$(json '.hydration.percent | floor')"
ok nbdcopy "$uri" "$T/vol.raw"
cmp "$T/expected.raw" "$T/vol.raw" || fail "hydrated volume $vol differs from the image with the writes applied"
ok curl -sf --unix-socket "$CAIRN_API_SOCKET" "http://cairn/v1/events?after=0&limit=10000"
jq -e --arg v "$vol" '.events[] | select(.object == $v and (.message | test("hydration started")))' "$OUT" >/dev/null ||
  fail "no 'hydration started' event for $vol"
finished=$(jq -r --arg v "$vol" '.events[] | select(.object == $v and (.message | test("hydration finished"))) | .message' "$OUT")
[[ -n "$finished" ]] || fail "no 'hydration finished' event for $vol"
log "event: $finished"

# Hydrated: the lock is gone, gc runs; block status is the data file's again
# (the image's hole at 48-64 MiB reads as zero without a fetch).
ok cairn -r "$REPO" repo gc --grace-period 0
ok nbdinfo --map "$uri"
awk -v s=$((48 * MiB)) -v e=$((64 * MiB)) '$1 <= s && s + 0 < $1 + $2 && $1 + $2 >= e && /zero/ { f = 1 }
  END { exit !f }' "$OUT" || fail "block status of $vol after hydration does not show the hole at 48 MiB: $(cat "$OUT")"

# The first snapshot of the restored volume is incremental against its
# origin: it reads only the three written 512 KiB blocks.
first=$(snapshot_wait "$vol")
assert_eq "parent of the restored volume's first snapshot" "$snap" "$(json '.snapshots[0].parent')"
assert_eq "read mode" changed "$(json '.snapshots[0].read_mode')"
read1=$(json '.snapshots[0].stats.bytes_read')
assert_between "bytes read by the first snapshot (3 written blocks)" $((512 * 1024)) $((2 * MiB)) "$read1"
log "first snapshot $first of $vol read $read1 bytes of $size"
restore_cmp "$REPO" "$first" "$T/expected.raw"

# kill -9 mid-hydration after a flushed write; restart resumes; byte-exact.
vol2=$(volume_create --snapshot-id "$snap" --initialization-rate 16)
uri2=$(volume_attach "$vol2")
cp "$img" "$T/expected2.raw"
write_both "$uri2" "$T/expected2.raw" $((100 * MiB + 4096)) 8192 201
write_both "$uri2" "$T/expected2.raw" $((110 * MiB)) $((512 * 1024)) 202
st=$(hydration "$vol2")
assert_eq "hydrating before the kill" hydrating "$st"
before_kill=$(json .hydration.done)
kill_daemon
start_daemon
st=$(hydration "$vol2")
[[ "$st" == hydrating || "$st" == done ]] || fail "after the restart $vol2 hydration is '$st': $(jq -c .hydration "$OUT")"
uri2=$(json '.attachments[0].uri')
log "killed at $before_kill bytes hydrated; after the restart: $(jq -c .hydration "$OUT")"
wait_hydrated "$vol2" 120
ok nbdcopy "$uri2" "$T/vol2.raw"
cmp "$T/expected2.raw" "$T/vol2.raw" || fail "$vol2 after kill -9 and resumed hydration differs from the image with its flushed writes"

# Eager: the create waits until the volume is hydrated and available.
t0=$(now_ms)
ok cairn --output json volume create --snapshot-id "$snap" --hydrate eager
eager_ms=$(($(now_ms) - t0))
vol3=$(json .id)
assert_eq "eager volume state when create returns" available "$(json .state)"
assert_eq "eager volume hydration" done "$(json .hydration.state)"
log "eager volume $vol3 of $size hydrated in $eager_ms ms"
uri3=$(volume_attach "$vol3")
ok nbdcopy "$uri3" "$T/vol3.raw"
cmp "$img" "$T/vol3.raw" || fail "eager volume $vol3 differs from the image"

# volume show / list (text) show the hydration.
ok cairn volume show "$vol3"
expect_stdout_contains "origin snapshot:" "$snap"
expect_stdout_contains "hydration:" "hydrated"
stop_daemon

# S3 down mid-hydration (S3 only: the daemon reaches S3 through the fault
# proxy, which then answers 503 to everything): the hydration fails after
# the S3 client's own retries, the volume stays available with hydration
# `failed` and the error, reads of unfetched blocks fail; once S3 is back
# the daemon's retry (5 s, 10 s, …) finishes it byte-exact.
if [[ "$E2E_BACKEND" == s3 ]]; then
  proxy_start
  AWS_ENDPOINT_URL=$PROXY_URL start_daemon
  vol4=$(volume_create --snapshot-id "$snap" --initialization-rate 4)
  uri4=$(volume_attach "$vol4")
  expect_range "$uri4" 0 $MiB "$img"
  proxy_set '{"fail": 1.0, "faults": ["503"]}'
  for ((i = 0; i < 900; i++)); do
    [[ "$(hydration "$vol4")" == failed ]] && break
    sleep 0.1
  done
  assert_eq "hydration with S3 down" failed "$(json .hydration.state)"
  assert_eq "volume state with S3 down (attached)" in-use "$(json .state)"
  [[ -n "$(json .hydration.error)" ]] || fail "no hydration error shown: $(jq -c .hydration "$OUT")"
  log "S3 down: $(jq -c .hydration "$OUT")"
  expect_exit 1 qemu-img dd -f raw -O raw bs=4096 skip=$((120 * MiB / 4096)) count=$((120 * MiB / 4096 + 1)) \
    if="$uri4" of="$T/unfetched.raw"
  ok curl -sf --unix-socket "$CAIRN_API_SOCKET" "http://cairn/v1/events?after=0&limit=10000"
  jq -e --arg v "$vol4" '.events[] | select(.object == $v and (.message | test("hydration failed \\(attempt 1\\): .*; next attempt in 5 s")))' "$OUT" >/dev/null ||
    fail "no 'hydration failed (attempt 1) ... next attempt in 5 s' event for $vol4"
  proxy_set '{"fail": 0}'
  for ((i = 0; i < 1800; i++)); do
    st=$(hydration "$vol4")
    [[ "$st" == done ]] && break
    sleep 0.1
  done
  assert_eq "hydration after S3 came back" done "$st"
  ok curl -sf --unix-socket "$CAIRN_API_SOCKET" "http://cairn/v1/events?after=0&limit=10000"
  jq -e --arg v "$vol4" '.events[] | select(.object == $v and (.message | test("hydration retrying")))' "$OUT" >/dev/null ||
    fail "no 'hydration retrying' event for $vol4"
  log "events of $vol4: $(jq -c --arg v "$vol4" '[.events[] | select(.object == $v) | .message]' "$OUT")"
  ok nbdcopy "$uri4" "$T/vol4.raw"
  cmp "$img" "$T/vol4.raw" || fail "$vol4, hydrated after S3 came back, differs from the image"
  stop_daemon
  proxy_stop
fi
