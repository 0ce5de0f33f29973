#!/usr/bin/env bash
# kill -9 of the daemon under write load: what a client had flushed is on
# the volume after a restart. A logged writer writes 4 KiB slots with a
# pattern and flushes each (qemu-io write + flush, one connection each),
# while another client streams unflushed writes into the other half; the daemon is
# killed mid-way. After the restart: every slot whose write+flush completed
# holds that write's pattern or a later write's (never older data or a torn
# mix); the daemon says the last run did not stop cleanly; the next snapshot
# reads everything and says why (the changed-block bitmap is not trusted),
# and restores to exactly the volume.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-io qemu-img

MiB=1048576
KiB=1024
slots=1024 # 4 KiB slots in the first 4 MiB
init_repo "$REPO"
start_daemon
vol=$(volume_create --size 64M --volume-type standard)
uri=$(volume_attach "$vol")
first=$(snapshot_wait "$vol") # so the next one could be incremental

slot_of() { echo $(((($1 * 389) + 5) % slots)); }
byte_of() { echo $(($1 % 250 + 1)); }

writer() {
  local k
  for ((k = 0; ; k++)); do
    echo "start $k"
    qemu-io -f raw -c "write -P $(byte_of $k) $(($(slot_of $k) * 4 * KiB)) $((4 * KiB))" -c flush "$uri" \
      >"$T/writer.err" 2>&1 || { echo "failed $k: $(head -c 300 "$T/writer.err")"; return 0; }
    echo "done $k"
  done
}
# loader: unflushed 2 MiB writes into [32 MiB, 64 MiB), away from the slots.
loader() {
  local i
  for ((i = 0; ; i++)); do
    qemu-io -f raw -c "write -P $((i % 200 + 1)) $((32 * MiB + (i % 16) * 2 * MiB)) $((2 * MiB))" "$uri" \
      >/dev/null 2>&1 || return 0
  done
}

: >"$T/writer.log"
writer >>"$T/writer.log" &
writer_pid=$!
track_pid "$writer_pid"
loader &
loader_pid=$!
track_pid "$loader_pid"
while (($(grep -c '^done' "$T/writer.log") < 60)); do
  kill -0 "$writer_pid" 2>/dev/null || fail "writer died early: $(tail -n 3 "$T/writer.log")"
  sleep 0.05
done
kill_daemon
wait "$writer_pid" || true
wait "$loader_pid" || true
last_done=$(grep '^done' "$T/writer.log" | tail -n 1 | cut -d' ' -f2)
last_start=$(grep '^start' "$T/writer.log" | tail -n 1 | cut -d' ' -f2)
log "killed the daemon after flushed write $last_done (write $last_start was in flight)"

start_daemon
grep -q "did not stop cleanly" "$T/serve.log" || fail "the restarted daemon did not report the unclean stop: $(tail -n 20 "$T/serve.log")"
ok cairn --output json volume show "$vol"
assert_eq "state after restart" in-use "$(json .state)"
uri=$(json '.attachments[0].uri')
ok qemu-img convert -f raw -O raw "$uri" "$T/after.raw"

# Allowed content of each slot that had a flushed write: the pattern of its
# last flushed write, or of a write to it that started later (not flushed).
declare -A sum_of_byte=()
for ((b = 1; b <= 250; b++)); do sum_of_byte[$b]=$(pattern_sum $b $((4 * KiB))); done
declare -A allowed=()
for ((k = 0; k <= last_start; k++)); do
  s=$(slot_of $k)
  if ((k <= last_done)); then
    allowed[$s]=${sum_of_byte[$(byte_of $k)]} # flushed: older content is lost data
  elif [[ -n "${allowed[$s]:-}" ]]; then
    allowed[$s]+=" ${sum_of_byte[$(byte_of $k)]}" # a later write may have landed
  fi
done
mkdir "$T/slots"
head -c $((slots * 4 * KiB)) "$T/after.raw" | split -b $((4 * KiB)) -a 4 -d - "$T/slots/s"
checked=0
for s in "${!allowed[@]}"; do
  sum=$(sha256sum <"$T/slots/s$(printf '%04d' "$s")" | cut -d' ' -f1)
  [[ " ${allowed[$s]} " == *" $sum "* ]] ||
    fail "slot $s lost a flushed write: it does not hold the last flushed pattern or a later one"
  checked=$((checked + 1))
done
log "$checked slots hold their flushed data"

# The bitmap is not trusted after kill -9: the next snapshot reads all and says why.
snap=$(snapshot_wait "$vol")
assert_eq "snapshot after the crash" completed "$(json '.snapshots[0].state')"
assert_eq "read mode after an unclean stop" full "$(json '.snapshots[0].read_mode')"
reason=$(json '.snapshots[0].read_reason')
[[ "$reason" == *clean* ]] || fail "read_reason does not say the stop was unclean: '$reason'"
ok qemu-img convert -f raw -O raw "$uri" "$T/now.raw"
restore_cmp "$REPO" "$snap" "$T/now.raw"
stop_daemon
