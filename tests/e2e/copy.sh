#!/usr/bin/env bash
# snapshot copy between local repositories: a re-keyed copy (plain
# destination, also with another block size) and a fast one (`repo init
# --copy-params-from`) restore byte-exact with every header field kept; an
# incremental copy sends only the changed chunks; copying again is a no-op;
# errors (wrong destination passphrase, missing destination, unknown
# snapshot, mismatched parameters) give their exit codes; kill -9 during
# copies leaves both repositories checking clean and the next copy completes.
source "$(dirname "$0")/lib.sh"

MiB=1048576
RANDOM=${E2E_SEED:-7331}
src=$T/src
plain=$T/plain   # own keys, 512 KiB blocks: chunks re-keyed
same=$T/same     # --copy-params-from src: chunks moved sealed
export CAIRN_TO_PASSWORD="destination passphrase"
src_pass=$CAIRN_PASSWORD

img=$T/disk.img
make_image "$img" $((24 * MiB + 4321)) copy
init_repo "$src" --block-size 64K
s1=$(snap_create "$src" "$img" --description "before the upgrade" --tag app=db --tag tier=1)
img_rand "$img" $((3 * MiB)) $((2 * MiB)) copy-v2
cp "$img" "$T/v2.img"
s2=$(snap_create "$src" "$img" --description second)

CAIRN_PASSWORD=$CAIRN_TO_PASSWORD init_repo "$plain"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD CAIRN_FROM_PASSWORD=$src_pass \
  ok cairn -r "$same" --output json repo init --copy-params-from "$src"
assert_eq "block size copied by --copy-params-from" 65536 "$(json .block_size)"
assert_eq "params_from" "$src" "$(json .params_from)"

# --- full copies: both snapshots, parents first ------------------------------
ok cairn -r "$src" --output json snapshot copy "$s2" "$s1" --to "$plain"
assert_eq "snapshots copied to $plain" 2 "$(json .snapshots_copied)"
assert_eq "first copied (the parent)" "$s1" "$(json '.snapshots[0].snapshot_id')"
assert_eq "path to a plain repository" rekey "$(json '.snapshots[0].path')"
ok cairn -r "$src" --output json snapshot copy "$s1" "$s2" --to "$same"
assert_eq "path to a --copy-params-from repository" fast "$(json '.snapshots[0].path')"
assert_eq "bytes re-hashed on the fast path" 0 "$(json '[.snapshots[].bytes_read] | add')"
fast_sent=$(json .chunks_sent)

for dst in "$plain" "$same"; do
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dst" "$s2" "$img"
  # Every header field is kept; the map too (same chunk ids) in $same.
  drop='del(.block_size, .block_count, .map)'
  [[ "$dst" == "$same" ]] && drop=.
  for s in "$s1" "$s2"; do
    ok cairn -r "$src" --output json snapshot show "$s"
    want=$(jq -c "$drop" "$OUT")
    CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dst" --output json snapshot show "$s"
    got=$(jq -c "$drop" "$OUT")
    assert_eq "header of $s in $dst" "$want" "$got"
  done
  # --read-data recomputes every chunk id with the destination's id key: in
  # $same these are the source's ids, so the key really is shared.
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD check_clean "$dst" --read-data
done
check_clean "$src" --read-data
# The fast copy sent exactly the distinct chunks of the two snapshots.
ok cairn -r "$src" --output json repo stats
assert_eq "chunks sent by the fast copy vs chunks in the source" "$(json .chunks)" "$fast_sent"

# --- copying again is a no-op -------------------------------------------------
ok cairn -r "$src" --output json snapshot copy "$s1" "$s2" --to "$same"
assert_eq "skipped on a second copy" 2 "$(json .snapshots_skipped)"
assert_eq "chunks sent on a second copy" 0 "$(json .chunks_sent)"
ok cairn -r "$src" snapshot copy "$s1" --to "$plain"
expect_stderr_contains "already in $plain: skipped"

# --- incremental: two changed 64 KiB blocks ------------------------------------
img_rand "$img" $((5 * MiB + 100)) 10 inc-a
img_rand "$img" $((20 * MiB)) 10 inc-b
s3=$(snap_create "$src" "$img" --parent "$s2")  # created times have 1 s resolution
for dst in "$same" "$plain"; do
  ok cairn -r "$src" --output json snapshot copy "$s3" --to "$dst"
  sent=$(json .chunks_sent)
  if [[ "$dst" == "$same" ]]; then
    assert_eq "chunks sent by an incremental fast copy" 2 "$sent"
    assert_between "bytes sent by an incremental fast copy" 1 $((2 * 65536 + 4096)) "$(json .bytes_sent)"
  else
    # 512 KiB blocks there: each changed 64 KiB block changes one of them,
    # and only those are read (the parent was copied already).
    assert_eq "chunks sent by an incremental re-keyed copy" 2 "$sent"
    assert_eq "bytes read by an incremental re-keyed copy" $((2 * 524288)) "$(json '.snapshots[0].bytes_read')"
  fi
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dst" "$s3" "$img"
done
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$plain" "$s2" "$T/v2.img"

# --- another block size ---------------------------------------------------------
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD init_repo "$T/big" --block-size 1M
ok cairn -r "$src" snapshot copy "$s3" --to "$T/big"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$T/big" "$s3" "$img"

# --- errors -------------------------------------------------------------------
CAIRN_TO_PASSWORD=wrong expect_exit 4 cairn -r "$src" snapshot copy "$s1" --to "$plain"
expect_stderr_contains "destination repository" "wrong passphrase" "$plain"
echo "wrong" >"$T/wrong.pass"
expect_exit 4 cairn -r "$src" snapshot copy "$s1" --to "$plain" --to-password-file "$T/wrong.pass"
expect_stderr_contains "destination repository" "$plain"
expect_exit 3 cairn -r "$src" snapshot copy "$s1" --to "$T/nowhere"
expect_stderr_contains "destination repository" "$T/nowhere"
expect_exit 7 cairn -r "$src" snapshot copy "$s1" snap-00000000000000042 --to "$plain"
expect_stderr_contains "snap-00000000000000042"
expect_exit 2 cairn -r "$src" snapshot copy "$s1"
expect_exit 2 cairn -r "$src" snapshot copy not-a-snapshot --to "$plain"
CAIRN_FROM_PASSWORD=$src_pass expect_exit 2 cairn -r "$T/x" repo init --copy-params-from "$src" --block-size 1M
expect_stderr_contains "--block-size"
CAIRN_FROM_PASSWORD=wrong expect_exit 4 cairn -r "$T/y" repo init --copy-params-from "$src"
expect_stderr_contains "parameter source repository"
init_repo "$T/unenc" --no-encryption
expect_exit 2 cairn -r "$T/z" repo init --copy-params-from "$T/unenc"
expect_stderr_contains "--no-encryption"
ok cairn -r "$T/z" repo init --copy-params-from "$T/unenc" --no-encryption

# --- kill -9 during copies ------------------------------------------------------
# Each round rewrites 16 MiB of a 64 MiB image, backs it up, and copies the
# new snapshot to both destinations in the background, killed after a random
# delay within three quarters of the time an uninterrupted round took; both
# repositories must then check clean (--read-data) and the next copy complete.
big=$T/kill.img
make_image "$big" $((64 * MiB)) kill
k0=$(snap_create "$src" "$big")
ok cairn -r "$src" snapshot copy "$k0" --to "$plain"
img_rand "$big" $((16 * MiB)) $((16 * MiB)) kill-0
k0=$(snap_create "$src" "$big")
t0=${EPOCHREALTIME/./}
ok cairn -r "$src" snapshot copy "$k0" --to "$plain"
copy_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
ok cairn -r "$src" snapshot copy "$k0" --to "$same"
log "a re-keyed copy of 16 MiB of new data takes $copy_ms ms"
killed=0
for run in 1 2 3 4; do
  img_rand "$big" $(((RANDOM % 48) * MiB)) $((16 * MiB)) "kill-$run"
  k=$(snap_create "$src" "$big")
  for dst in "$plain" "$same"; do
    delay=$((30 + RANDOM % (copy_ms * 3 / 4)))
    "$CAIRN_BIN" -r "$src" -q snapshot copy "$k" --to "$dst" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
    pid=$!
    track_pid "$pid"
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    rc=0
    wait "$pid" || rc=$?
    wait_dead "$pid" || fail "copy pid $pid still alive after SIGKILL"
    log "round $run to $(basename "$dst"): exit $rc after ${delay} ms"
    [[ $rc == 0 || $rc == 137 ]] || fail "copy to $dst failed on its own (exit $rc): $(cat "$T/bg.err")"
    ok cairn -r "$src" repo check --read-data
    CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dst" repo check --read-data
    # The interrupted snapshot is absent or complete, never half there.
    CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dst" --output json snapshot list
    if jq -e --arg k "$k" 'any(.[]; .id == $k)' "$OUT" >/dev/null; then
      CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dst" "$k" "$big"
    fi
    ok cairn -r "$src" snapshot copy "$k" --to "$dst"
    CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dst" "$k" "$big"
  done
done
log "$killed of 8 copies were killed before they finished"
((killed >= 3)) || fail "only $killed of 8 copies were still running when killed: the test did not test much"
for dst in "$plain" "$same"; do
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dst" repo gc --grace-period 0
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD check_clean "$dst" --read-data
done
