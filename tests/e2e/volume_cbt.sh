#!/usr/bin/env bash
# Changed-block tracking: a 1 GiB volume filled with data; its first
# snapshot reads everything ("first snapshot"); after 20 writes of 512 KiB
# (1% of the volume) the next snapshot reads only the changed blocks, counted
# from the snapshot's own stats (bytes_read), and restores to exactly the
# volume. A snapshot after no writes reads nothing. SIGTERM in the middle of
# an upload abandons that snapshot (state error, nothing in the repository).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-io qemu-img

MiB=1048576
GiB=$((1024 * MiB))
init_repo "$REPO"
start_daemon
vol=$(volume_create --size 1G --volume-type standard)
uri=$(volume_attach "$vol")

rand_stream cbt-fill $GiB >"$T/fill.raw"
ok qemu-img convert -n -f raw -O raw "$T/fill.raw" "$uri"
rm -f "$T/fill.raw"

# SIGTERM during an upload: the daemon stops at once, the snapshot is
# abandoned (`error`, nothing in the repository), and after the restart the
# next snapshot starts afresh.
ok cairn -r "$REPO" --output json snapshot create "$vol"
abandoned=$(json '.snapshots[0].id')
t0=${EPOCHREALTIME/./}
stop_daemon
stop_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
log "SIGTERM during the upload of $abandoned: stopped in $stop_ms ms"
start_daemon
ok cairn --output json volume show "$vol"
uri=$(json '.attachments[0].uri') # a new port after the restart
ok curl -sf --unix-socket "$CAIRN_API_SOCKET" "http://cairn/v1/snapshots/$abandoned"
assert_eq "state of the abandoned snapshot" error "$(json .state)"
json .error | grep -q "daemon stopped before the upload finished" ||
  fail "the abandoned snapshot's error does not say why: $(json .error)"
expect_exit 7 cairn -r "$REPO" snapshot show "$abandoned"
ok cairn -r "$REPO" --output json snapshot list
jq -e --arg id "$abandoned" '.[] | select(.id == $id and .state == "error")' "$OUT" >/dev/null ||
  fail "snapshot list does not show the abandoned $abandoned as error: $(head -c 2000 "$OUT")"
# The abandoned upload may have left packs no index names (format promise 1:
# only unreferenced data, which gc removes); anything else is a failure.
ok cairn -r "$REPO" --output json repo check
assert_eq "errors of repo check after the abandoned upload" 0 "$(json .errors)"
bad=$(jq -r '.findings[] | select(.message | test("is in no index") | not) | .message' "$OUT")
[[ -z "$bad" ]] || fail "repo check found more than an interrupted upload's leftovers: $bad"

t0=${EPOCHREALTIME/./}
first=$(snapshot_wait "$vol")
full_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_eq "first snapshot state" completed "$(json '.snapshots[0].state')"
assert_eq "first snapshot read mode" full "$(json '.snapshots[0].read_mode')"
json '.snapshots[0].read_reason' | grep -q "first snapshot" ||
  fail "first snapshot's read_reason does not say why everything was read: $(json '.snapshots[0].read_reason')"
assert_eq "bytes read by the first snapshot" $GiB "$(json '.snapshots[0].stats.bytes_read')"

# Change 1%: 20 writes of 512 KiB at distinct 512 KiB-aligned offsets.
cmds=()
for ((i = 0; i < 20; i++)); do
  block=$(((i * 97 + 13) % 2048))
  cmds+=(-c "write -P $((i + 1)) $((block * 512 * 1024)) $((512 * 1024))")
done
ok qemu-io -f raw "${cmds[@]}" "$uri"

t0=${EPOCHREALTIME/./}
second=$(snapshot_wait "$vol")
inc_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_eq "second snapshot state" completed "$(json '.snapshots[0].state')"
assert_eq "second snapshot read mode" changed "$(json '.snapshots[0].read_mode')"
assert_eq "parent of the second snapshot" "$first" "$(json '.snapshots[0].parent')"
read2=$(json '.snapshots[0].stats.bytes_read')
log "1 GiB volume: the first snapshot read $GiB bytes in $full_ms ms; after 1% changed the next read $read2 bytes in $inc_ms ms"
# 20 blocks of 512 KiB = 10 MiB = 0.98% of the volume.
assert_between "bytes read after changing 1%" $((10 * MiB)) $((11 * MiB)) "$read2"

ok qemu-img convert -f raw -O raw "$uri" "$T/live.raw"
restore_cmp "$REPO" "$second" "$T/live.raw"

# Nothing written since: nothing read.
third=$(snapshot_wait "$vol")
assert_eq "bytes read with no writes" 0 "$(json '.snapshots[0].stats.bytes_read')"
restore_cmp "$REPO" "$third" "$T/live.raw"
stop_daemon
