#!/usr/bin/env bash
# A snapshot of a live volume is the volume at one instant. A writer fills
# 1 MiB slots of an attached volume with one-byte patterns (write k: slot
# 7k mod 32, byte k mod 250 + 1), logging when each write starts and ends;
# `cairn snapshot create` returns at once in state `pending` while it
# writes. The restored snapshot must equal the volume after writes 0..m for
# one m between the last write finished before the call and the first one
# started after it. Two volumes snapshotted together share the instant;
# `snapshot list` shows the daemon's pending snapshot with progress; the
# snapshots end `completed`, in the repository, under the ids handed out.
# While a larger upload runs, `snapshot show` and `snapshot list` report it
# pending with its progress (bytes done of total, percent), growing.
# Runs on a local and an S3 repository (e2e_s3_volume_snapshot).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-io qemu-img curl
REPO=$(repo_url repo)

MiB=1048576
slots=32
init_repo "$REPO"
start_daemon
vol=$(volume_create --size $((slots * MiB)))
uri=$(volume_attach "$vol")
other=$(volume_create --size 16M)

slot_of() { echo $((($1 * 7) % slots)); }
byte_of() { echo $(($1 % 250 + 1)); }

# writer N: writes 0..N-1, one qemu-io each; "start k" / "done k" per line.
writer() {
  local k
  for ((k = 0; k < $1; k++)); do
    echo "start $k"
    qemu-io -f raw -c "write -P $(byte_of $k) $(($(slot_of $k) * MiB)) $MiB" "$uri" >/dev/null ||
      { echo "failed $k"; return 1; }
    echo "done $k"
  done
}

: >"$T/writer.log"
writer 400 >>"$T/writer.log" 2>&1 &
writer_pid=$!
track_pid "$writer_pid"
# Let some writes land, then snapshot both volumes at one instant.
while (($(grep -c '^done' "$T/writer.log") < 40)); do
  kill -0 "$writer_pid" 2>/dev/null || fail "writer died: $(tail -n 3 "$T/writer.log")"
  sleep 0.05
done
before=$(grep '^done' "$T/writer.log" | tail -n 1 | cut -d' ' -f2)
ok cairn -r "$REPO" --output json snapshot create "$vol" "$other" --description live
after=$(grep '^start' "$T/writer.log" | tail -n 1 | cut -d' ' -f2)
snap=$(json '.snapshots[0].id')
snap_other=$(json '.snapshots[1].id')
assert_eq "state returned by create" pending "$(json '.snapshots[0].state')"
[[ "$(json '.snapshots[0].created')" == "$(json '.snapshots[1].created')" ]] ||
  fail "snapshots created together have different instants: $(jq -c '[.snapshots[].created]' "$OUT")"
[[ "$(json '.snapshots[0].group_id')" != null ]] || fail "no group_id on a group snapshot"
log "snapshot $snap taken between writes $before and $after"

# While it is pending, `snapshot list` shows it (from the daemon).
ok cairn -r "$REPO" --output json snapshot list
state=$(jq -r --arg id "$snap" '.[] | select(.id == $id) | .state' "$OUT")
[[ "$state" == pending || "$state" == completed ]] || fail "snapshot list does not show $snap (state '$state'): $(head -c 2000 "$OUT")"

wait "$writer_pid" || fail "writer failed: $(tail -n 3 "$T/writer.log")"

# Both end completed, and the repository has them.
for s in "$snap" "$snap_other"; do
  for ((i = 0; i < 600; i++)); do
    st=$(curl -sf --unix-socket "$CAIRN_API_SOCKET" "http://cairn/v1/snapshots/$s" | jq -r .state)
    [[ "$st" == pending ]] || break
    sleep 0.1
  done
  assert_eq "final state of $s" completed "$st"
done
ok cairn -r "$REPO" --output json snapshot show "$snap"
assert_eq "source recorded" "$vol" "$(json .source)"
assert_eq "description" live "$(json .description)"

# The restored snapshot, slot by slot: which pattern does each hold?
ok cairn -r "$REPO" snapshot restore "$snap" "$T/restored.raw"
declare -A byte_of_sum=()
byte_of_sum[$(pattern_sum 0 $MiB)]=0
for ((b = 1; b <= 250; b++)); do byte_of_sum[$(pattern_sum $b $MiB)]=$b; done
declare -a got=()
for ((s = 0; s < slots; s++)); do
  sum=$(dd if="$T/restored.raw" bs=$MiB skip=$s count=1 status=none | sha256sum | cut -d' ' -f1)
  [[ -n "${byte_of_sum[$sum]:-}" ]] || fail "slot $s of $snap is not one whole write (torn or foreign data)"
  got[s]=${byte_of_sum[$sum]}
done

# Find m in [before, after] such that applying writes 0..m gives `got`.
declare -a model=()
for ((s = 0; s < slots; s++)); do model[s]=0; done
match=""
for ((k = 0; k <= after; k++)); do
  model[$(slot_of $k)]=$(byte_of $k)
  ((k < before)) && continue
  same=1
  for ((s = 0; s < slots; s++)); do
    [[ "${model[s]}" == "${got[s]}" ]] || { same=0; break; }
  done
  if ((same)); then match=$k; break; fi
done
[[ -n "$match" ]] || fail "snapshot $snap equals no state of the volume between writes $before and $after (slots: ${got[*]})"
log "snapshot $snap equals the volume after write $match"

# The other volume's snapshot holds what it held (all zeros) at that instant.
ok cairn -r "$REPO" snapshot restore "$snap_other" "$T/other.raw"
cmp -n $((16 * MiB)) "$T/other.raw" /dev/zero || fail "$snap_other of the idle volume is not all zeros"

# The volume itself went on to the last write, unaffected by the snapshot.
ok qemu-img convert -f raw -O raw "$uri" "$T/live.raw"
for ((k = 0; k < 400; k++)); do model[$(slot_of $k)]=$(byte_of $k); done
for ((s = 0; s < slots; s++)); do
  sum=$(dd if="$T/live.raw" bs=$MiB skip=$s count=1 status=none | sha256sum | cut -d' ' -f1)
  [[ "${byte_of_sum[$sum]:-x}" == "${model[s]}" ]] || fail "live slot $s holds ${byte_of_sum[$sum]:-foreign data}, expected ${model[s]}"
done

# Progress of a pending snapshot: 512 MiB of random data take a while to
# upload (seconds, not milliseconds), so `snapshot show` right after the
# create sees it pending; then JSON until it completes: bytes_done grows,
# never beyond bytes_total = the volume's size.
big_size=$((512 * MiB))
big=$(volume_create --size $big_size --volume-type standard)
big_uri=$(volume_attach "$big")
rand_stream snapshot-progress $big_size >"$T/big.raw"
ok qemu-img convert -n -f raw -O raw "$T/big.raw" "$big_uri"
ok cairn -r "$REPO" --output json snapshot create "$big"
big_snap=$(json '.snapshots[0].id')
ok cairn -r "$REPO" snapshot show "$big_snap"
if grep -q '^state: *pending' "$OUT"; then
  grep -Eq '^progress: *[0-9]+% \(.* of .*, [0-9]+ of '"$big_size"' bytes\)' "$OUT" ||
    fail "snapshot show of pending $big_snap shows no progress line: $(cat "$OUT")"
  expect_stdout_contains "$big" "(the daemon is uploading it)"
  log "snapshot show while pending: $(grep '^progress' "$OUT")"
else
  fail "snapshot show right after the create did not report $big_snap pending (the upload of 512 MiB finished first?): $(cat "$OUT")"
fi
ok cairn -r "$REPO" snapshot list
grep -Eq "^$big_snap .* (pending [0-9]+%|completed)( |\$)" "$OUT" ||
  fail "snapshot list shows $big_snap neither pending with a percentage nor completed: $(cat "$OUT")"
pending_seen=0
last_done=0
for ((i = 0; i < 1200; i++)); do
  ok cairn -r "$REPO" --output json snapshot show "$big_snap"
  st=$(json .state)
  [[ "$st" == pending ]] || break
  pending_seen=$((pending_seen + 1))
  done_now=$(json .progress.bytes_done)
  assert_eq "bytes_total of pending $big_snap" "$big_size" "$(json .progress.bytes_total)"
  assert_between "bytes_done of pending $big_snap (never back, never past the total)" "$last_done" "$big_size" "$done_now"
  last_done=$done_now
  sleep 0.1
done
assert_eq "final state of $big_snap" completed "$st"
assert_eq "size of the completed $big_snap" "$big_size" "$(json .size)"
log "$big_snap seen pending $pending_seen times by snapshot show --output json (last at $last_done of $big_size bytes)"
restore_cmp "$REPO" "$big_snap" "$T/big.raw"
stop_daemon
