#!/usr/bin/env bash
# snapshot copy through a real S3 server (Ceph RGW: the shared ctest fixture,
# or one started for this script): local → S3 (fast, into a
# --copy-params-from repository, and re-keyed), S3 → S3 and S3 → local, each
# restoring byte-exact; incremental copies send only the changed chunks (JSON
# summary), and the manifests really are in the bucket (listed with curl, not
# cairn). kill -9 during copies to S3 leaves both repositories checking clean
# and the next copy completes. Skips (77) only when RGW cannot be installed.
source "$(dirname "$0")/lib.sh"
s3_server_up

MiB=1048576
RANDOM=${E2E_SEED:-9001}

export CAIRN_TO_PASSWORD="the other region's passphrase"
src_pass=$CAIRN_PASSWORD
local_repo=$T/local
dr=$(s3_repo_url dr)        # --copy-params-from $local_repo: fast path
plain=$(s3_repo_url plain)  # own keys and block size: re-keyed
back=$T/back              # a local repository restored from the other region

img=$T/disk.img
make_image "$img" $((16 * MiB + 999)) copy-s3
cp "$img" "$T/v1.img"
init_repo "$local_repo" --block-size 128K
s1=$(snap_create "$local_repo" "$img" --description "s3 copy" --tag site=a)
img_rand "$img" $((2 * MiB)) $((3 * MiB)) copy-s3-v2
cp "$img" "$T/v2.img"
s2=$(snap_create "$local_repo" "$img")

CAIRN_PASSWORD=$CAIRN_TO_PASSWORD CAIRN_FROM_PASSWORD=$src_pass \
  ok cairn -r "$dr" repo init --copy-params-from "$local_repo"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD init_repo "$plain" --block-size 256K
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD init_repo "$back"

# --- local → S3 -----------------------------------------------------------------
ok cairn -r "$local_repo" --output json snapshot copy "$s1" "$s2" --to "$dr"
assert_eq "snapshots copied to $dr" 2 "$(json .snapshots_copied)"
assert_eq "path to $dr" fast "$(json '.snapshots[1].path')"
ok cairn -r "$local_repo" --output json snapshot copy "$s1" "$s2" --to "$plain"
assert_eq "path to $plain" rekey "$(json '.snapshots[0].path')"
# The manifests are in the bucket under their ids (listed by curl).
for s in "$s1" "$s2"; do
  obj_list "$dr" snapshots/ | grep -q "^snapshots/$s " ||
    fail "no object snapshots/$s under $dr: $(obj_list "$dr" snapshots/)"
done

# --- S3 → S3 and S3 → local, restored byte-exact -----------------------------
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dr" --output json snapshot copy "$s2" --to "$back"
assert_eq "path from $dr to $back" rekey "$(json '.snapshots[0].path')"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$back" "$s2" "$T/v2.img"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dr" "$s1" "$T/v1.img"
for repo in "$dr" "$plain"; do
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$repo" "$s2" "$T/v2.img"
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD check_clean "$repo" --read-data
done

# --- incremental: two changed 128 KiB blocks ------------------------------------
img_rand "$img" $((1 * MiB + 7)) 100 inc-1
img_rand "$img" $((12 * MiB)) 100 inc-2
s3=$(snap_create "$local_repo" "$img" --parent "$s2")  # created times have 1 s resolution
ok cairn -r "$local_repo" --output json snapshot copy "$s3" --to "$dr"
assert_eq "chunks sent local → S3, incremental" 2 "$(json .chunks_sent)"
assert_between "bytes sent local → S3, incremental" 1 $((2 * 131072 + 8192)) "$(json .bytes_sent)"
# S3 → S3, re-keyed into 256 KiB blocks: again two blocks change.
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dr" --output json snapshot copy "$s3" --to "$plain"
assert_eq "chunks sent S3 → S3, incremental" 2 "$(json .chunks_sent)"
assert_eq "bytes read S3 → S3, incremental" $((2 * 262144)) "$(json '.snapshots[0].bytes_read')"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$plain" "$s3" "$img"
# S3 → local: the copy into $back has the parent already.
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dr" --output json snapshot copy "$s3" --to "$back"
assert_eq "chunks sent S3 → local, incremental" 2 "$(json .chunks_sent)"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$back" "$s3" "$img"

# --- kill -9 during copies to S3 ------------------------------------------------
# Each round rewrites the image's first 16 MiB and copies the new snapshot to
# one of the two S3 repositories in the background, killed after a random
# delay within three quarters of the time an uninterrupted round took.
new_snapshot() {
  img_rand "$img" 0 $((16 * MiB)) "kill-$1"
  snap_create "$local_repo" "$img"
}
k=$(new_snapshot 0)
t0=${EPOCHREALTIME/./}
ok cairn -r "$local_repo" snapshot copy "$k" --to "$plain"
copy_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
log "copying 16 MiB of new data to S3 takes $copy_ms ms"
killed=0
for run in 1 2 3 4; do
  k=$(new_snapshot "$run")
  dst=$plain
  ((run % 2)) && dst=$dr
  delay=$((50 + RANDOM % (copy_ms * 3 / 4)))
  "$CAIRN_BIN" -r "$local_repo" -q snapshot copy "$k" --to "$dst" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
  pid=$!
  track_pid "$pid"
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1))
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
  wait_dead "$pid" || fail "copy pid $pid still alive after SIGKILL"
  log "round $run to $dst: exit $rc after $delay ms"
  [[ $rc == 0 || $rc == 137 ]] || fail "copy failed on its own (exit $rc): $(cat "$T/bg.err")"
  ok cairn -r "$local_repo" repo check --read-data
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dst" repo check --read-data
  ok cairn -r "$local_repo" snapshot copy "$k" --to "$dst"
  CAIRN_PASSWORD=$CAIRN_TO_PASSWORD restore_cmp "$dst" "$k" "$img"
done
log "$killed of 4 copies to S3 were killed"
((killed >= 2)) || fail "only $killed of 4 copies were still running when killed"
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$dr" repo gc --grace-period 0
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD check_clean "$dr" --read-data
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD ok cairn -r "$plain" repo gc --grace-period 0
CAIRN_PASSWORD=$CAIRN_TO_PASSWORD check_clean "$plain" --read-data
