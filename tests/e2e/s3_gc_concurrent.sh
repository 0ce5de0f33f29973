#!/usr/bin/env bash
# Two processes on one S3 repository: `repo gc` runs while a backup runs in
# another process (the backup slowed down by the fault proxy's delay, so the
# two really overlap), in both orders; then gc runs after the backup's lock
# was removed by hand (`repo unlock --all`, as an operator might after a
# host vanished) and must keep the running backup's young packs thanks to
# the grace period. Afterwards every snapshot restores byte-exact and
# `repo check --read-data` is clean. gc may refuse (exit 5, naming the lock)
# or wait; it may never take data a snapshot needs.
source "$(dirname "$0")/lib.sh"

s3_server_up
MiB=1048576
repo=$(s3_repo_url repo)
# No recycle bin: deleted snapshots' data is gc's to collect at once (forget.sh tests the bin).
init_repo "$repo" --recycle-days 0

declare -A image_of=() # snapshot id -> the image file it must restore to
# backup_of NAME SEED MiB: a fresh random image $T/NAME.img, snapshotted
# directly; prints the snapshot id.
backup_of() {
  rand_stream "$2" $(($3 * MiB)) >"$T/$1.img"
  snap_create "$repo" "$T/$1.img"
}
a=$(backup_of a gc2-a 16)
image_of[$a]=$T/a.img
b=$(backup_of b gc2-b 16)
image_of[$b]=$T/b.img
# Deleting b gives gc real work (16 MiB of packs to remove).
ok cairn -r "$repo" snapshot delete "$b"
unset "image_of[$b]"

# lock_count [exclusive]: lock objects now (only exclusive ones with the argument).
lock_count() {
  local n=0 k
  for k in $(obj_keys "$repo" locks/); do
    if [[ -z "${1:-}" ]] || obj_cat "$repo" "$k" 2>/dev/null | jq -e '.exclusive == true' >/dev/null 2>&1; then
      n=$((n + 1))
    fi
  done
  echo "$n"
}
# wait_lock PID [exclusive]: until PID's lock object exists (60 s at most).
wait_lock() {
  local pid=$1 deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    (($(lock_count "${2:-}") > 0)) && return 0
    kill -0 "$pid" 2>/dev/null || fail "process $pid ended before its lock appeared"
    sleep 0.1
  done
  fail "no ${2:-} lock object appeared under locks/ within 60 s"
}
# finish PID: waits for PID; its exit code in $rc (not in $(...): a subshell
# cannot wait for this shell's children).
finish() {
  rc=0
  wait "$1" || rc=$?
}
# verify_all [errors-only]: every recorded snapshot restores byte-exact;
# check --read-data is clean (with errors-only: has no error; warnings about
# an interrupted backup's leftovers allowed).
verify_all() {
  local s
  ok cairn -r "$repo" --output json snapshot list
  local listed
  listed=$(json 'map(.id) | sort | join(" ")')
  assert_eq "snapshots in the repository" "$(printf '%s\n' "${!image_of[@]}" | sort | paste -sd' ')" "$listed"
  for s in "${!image_of[@]}"; do restore_cmp "$repo" "$s" "${image_of[$s]}"; done
  if [[ -z "${1:-}" ]]; then
    check_clean "$repo" --read-data
  else
    ok cairn -r "$repo" --output json repo check --read-data
    assert_eq "errors of check --read-data" 0 "$(json .errors)"
  fi
}

proxy_start --delay-ms 250
slow() { AWS_ENDPOINT_URL=$PROXY_URL "$@"; }

# --- 1. a slow backup runs; gc starts in another process -------------------------
rand_stream gc2-c $((64 * MiB)) >"$T/c.img"
slow "$CAIRN_BIN" -r "$repo" --output json snapshot create "$T/c.img" >"$T/c.out" 2>"$T/c.err" </dev/null &
bpid=$!
track_pid "$bpid"
wait_lock "$bpid"
# The lock object exists before the lock is held (a settle delay and a re-list
# follow, docs/format.md "Locks"); an exclusive lock arriving in that window
# wins by design and the backup exits 5. This scenario is gc against a backup
# that holds its lock: wait until it reads.
deadline=$((SECONDS + 60))
until grep -q '"bytes_done":[1-9]' "$T/c.err"; do
  kill -0 "$bpid" 2>/dev/null || fail "the backup ended before it started reading: $(head -c 1000 "$T/c.err")"
  ((SECONDS < deadline)) || fail "the backup did not start reading within 60 s"
  sleep 0.1
done
t0=$SECONDS
expect_exit_in() { # expect_exit_in "CODES" CMD...: like expect_exit, any of CODES
  local want=$1 rc=0
  shift
  _LAST_CMD="$*"
  "$@" >"$OUT" 2>"$ERR" </dev/null || rc=$?
  [[ " $want " == *" $rc "* ]] || fail "expected exit in {$want}, got $rc from: $*
$(head -n 20 "$ERR")"
  echo "$rc"
}
gc_rc=$(expect_exit_in "0 5" "$CAIRN_BIN" -r "$repo" repo gc --grace-period 0)
gc_took=$((SECONDS - t0))
backup_running=0
kill -0 "$bpid" 2>/dev/null && backup_running=1
if [[ "$gc_rc" == 5 ]]; then
  expect_stderr_matches 'lock'
  log "1: gc refused while the backup ran (exit 5 after $gc_took s): $(head -n 1 "$ERR")"
  ((backup_running)) || log "1: (the backup had finished by the time gc gave up)"
else
  log "1: gc exited 0 after $gc_took s; backup still running: $backup_running"
  ((!backup_running)) || fail "gc --grace-period 0 completed while a backup still held its lock"
fi
finish "$bpid"
assert_eq "exit of the backup gc ran against (stderr: $(head -c 1000 "$T/c.err"))" 0 "$rc"
c=$(jq -r .snapshot_id "$T/c.out")
image_of[$c]=$T/c.img
verify_all
# Now nothing runs: gc does its work.
ok cairn -r "$repo" repo gc --grace-period 0
verify_all

# --- 2. a slow gc runs; a backup starts in another process ------------------------------
# More work for gc: delete c, keep the others.
ok cairn -r "$repo" snapshot delete "$c"
unset "image_of[$c]"
slow "$CAIRN_BIN" -r "$repo" repo gc --grace-period 0 >"$T/gc.out" 2>"$T/gc.err" </dev/null &
gpid=$!
track_pid "$gpid"
wait_lock "$gpid" exclusive
rand_stream gc2-d $((24 * MiB)) >"$T/d.img"
t0=$SECONDS
d_rc=$(expect_exit_in "0 5" "$CAIRN_BIN" -r "$repo" --output json snapshot create "$T/d.img")
gc_running=0
kill -0 "$gpid" 2>/dev/null && gc_running=1
if [[ "$d_rc" == 5 ]]; then
  expect_stderr_matches 'lock'
  log "2: the backup refused while gc ran (exit 5 after $((SECONDS - t0)) s): $(grep -m1 error "$ERR")"
else
  d=$(json .snapshot_id)
  image_of[$d]=$T/d.img
  log "2: the backup waited for gc and completed ($d); gc still running: $gc_running"
  ((!gc_running)) || fail "a backup completed while gc held the exclusive lock"
fi
finish "$gpid"
assert_eq "exit of the slow gc (stderr: $(head -c 1000 "$T/gc.err"))" 0 "$rc"
verify_all
if [[ "$d_rc" == 5 ]]; then
  d=$(snap_create "$repo" "$T/d.img")
  image_of[$d]=$T/d.img
fi

# --- 3. the backup's lock is gone; gc's grace period must protect its packs -----------
rand_stream gc2-e $((64 * MiB)) >"$T/e.img"
packs_before=$(obj_count "$repo" packs/)
slow "$CAIRN_BIN" -r "$repo" --output json snapshot create "$T/e.img" >"$T/e.out" 2>"$T/e.err" </dev/null &
epid=$!
track_pid "$epid"
wait_lock "$epid"
# Wait until the backup has stored a pack (no index names it yet), so there
# is something to protect.
deadline=$((SECONDS + 60))
until (($(obj_count "$repo" packs/) > packs_before)); do
  ((SECONDS < deadline)) || fail "the slow backup stored no pack within 60 s"
  kill -0 "$epid" 2>/dev/null || fail "the slow backup ended before it stored a pack: $(head -c 1000 "$T/e.err")"
  sleep 0.1
done
ok cairn -r "$repo" repo unlock --all
ok cairn -r "$repo" --output json repo gc # the default grace period (1 h)
log "3: gc with the backup's lock removed: $(jq -c '.plan // .' "$OUT" | head -c 400)"
# The running backup's packs hold chunks no snapshot names yet (whether an
# index names them already or not): gc keeps them only for their youth.
assert_between "3: packs gc kept for the grace period (the running backup's)" 1 100 \
  "$(json '.plan.packs_kept_young + .plan.unindexed_packs - .plan.unindexed_packs_to_remove')"
assert_eq "3: packs gc removed" 0 "$(json '.plan.packs_to_remove + .plan.unindexed_packs_to_remove')"
finish "$epid"
if [[ "$rc" == 0 ]]; then
  e=$(jq -r .snapshot_id "$T/e.out")
  image_of[$e]=$T/e.img
  log "3: the backup completed: $e"
else
  # Losing its lock may make a backup stop; it must say so and commit nothing.
  log "3: the backup stopped (exit $rc): $(grep -m1 -i error "$T/e.err")"
  grep -qi lock "$T/e.err" || fail "the backup failed (exit $rc) without naming its lost lock: $(head -c 1000 "$T/e.err")"
fi
proxy_stop
verify_all errors-only
# Once nothing runs, gc clears whatever the interrupted work left.
ok cairn -r "$repo" repo gc --grace-period 0
verify_all
