#!/usr/bin/env bash
# Locks: while a backup holds its (shared) lock, gc (exclusive) exits 5 naming
# the holder; other shared users (backup, check, restore) proceed; once the
# backup ends gc works. A SIGKILLed holder's lock does not block anyone.
source "$(dirname "$0")/lib.sh"

MiB=1048576
repo=$(repo_url repo)
init_repo "$repo"
big=$T/big.img
rand_stream locked-big $((256 * MiB)) >"$big"
small=$T/small.img
make_image "$small" $((4 * MiB)) locked-small
s0=$(snap_create "$repo" "$small")

# start_and_stop: starts a backup of $big in the background and SIGSTOPs it
# as soon as its lock object exists; sets $pid.
start_and_stop() {
  "$CAIRN_BIN" -r "$repo" -q snapshot create "$big" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
  pid=$!
  track_pid "$pid"
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if [[ -n "$(obj_keys "$repo" locks/)" ]]; then
      kill -STOP "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "the backup ended before its lock appeared under locks/; stderr: $(cat "$T/bg.err")"
    sleep 0.005
  done
  fail "no lock object appeared under $repo/locks within 30 s of starting a backup"
}

start_and_stop
lockfile=$(obj_keys "$repo" locks/ | head -n1)
lock_json=$(obj_cat "$repo" "$lockfile")
log "backup pid $pid stopped holding lock $lockfile: $lock_json"
jq -e ".pid == $pid" <<<"$lock_json" >/dev/null || fail "lock $lockfile does not carry the holder's pid $pid: $lock_json"

expect_exit 5 timeout 60 "$CAIRN_BIN" -r "$repo" repo gc --grace-period 0
expect_stderr_contains "$pid"
expect_stderr_matches 'lock'
log "gc refused with: $(head -n 3 "$ERR" | tr '\n' ' ')"
# gc did not leave its own lock behind.
assert_eq "lock objects while the backup is stopped (gc must remove its own)" 1 "$(obj_count "$repo" locks/)"

# Shared users proceed.
s1=$(snap_create "$repo" "$small")
ok timeout 60 "$CAIRN_BIN" -r "$repo" repo check
restore_cmp "$repo" "$s0" "$small"

kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq "exit of the backup after SIGCONT (stderr: $(cat "$T/bg.err"))" 0 "$rc"
assert_eq "lock objects after every process ended" 0 "$(obj_count "$repo" locks/)"
ok cairn -r "$repo" repo gc --grace-period 0
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots" 3 "$(json '(if type == "array" then . else .snapshots end) | length')"
sbig=$(json "(if type == \"array\" then . else .snapshots end) | map(select(.source == \"$big\")) | .[0].id")
restore_cmp "$repo" "$sbig" "$big"
restore_cmp "$repo" "$s1" "$small"

# A holder killed with SIGKILL: its lock is stale at once (same host, dead pid).
start_and_stop
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait_dead "$pid" || fail "pid $pid survived SIGKILL"
ok timeout 60 "$CAIRN_BIN" -r "$repo" repo gc --grace-period 0
ok cairn -r "$repo" repo unlock
ok cairn -r "$repo" repo check --read-data
restore_cmp "$repo" "$sbig" "$big"
