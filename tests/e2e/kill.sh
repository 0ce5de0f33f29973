#!/usr/bin/env bash
# SIGKILL: a backup of a 256 MiB mixed image killed at a random moment (five
# times, the image changing in between) leaves a repository that checks clean
# and whose every snapshot restores byte-exact; a full run then completes, and
# gc removes what the killed runs left.
source "$(dirname "$0")/lib.sh"

MiB=1048576
RANDOM=${E2E_SEED:-4242} # reproducible delays and offsets
repo=$(repo_url repo)
img=$T/disk.img
init_repo "$repo"
make_image "$img" $((256 * MiB)) kill

declare -A version_of=() # snapshot id -> version number
declare -a version_sum=()

declare -A verified=() # snapshot id -> 1 once restored and compared

# verify VERSION [all]: every snapshot that appeared since the last call
# belongs to VERSION; restores and compares those, the base snapshot, and with
# "all" every snapshot.
verify() {
  ok cairn -r "$repo" --output json snapshot list
  local ids id
  ids=$(jq -r '.[].id' "$OUT" | tr '\n' ' ') || fail "snapshot list --output json is not a JSON array: $(head -c 2000 "$OUT")"
  for id in $ids; do
    [[ -n "${version_of[$id]:-}" ]] || version_of[$id]=$1
    if [[ -n "${verified[$id]:-}" && "$id" != "${base:-}" && "${2:-}" != all ]]; then continue; fi
    ok cairn -r "$repo" snapshot restore "$id" "$T/restored"
    local got
    got=$(sha256sum <"$T/restored" | cut -d' ' -f1)
    [[ "$got" == "${version_sum[${version_of[$id]}]}" ]] ||
      fail "snapshot $id (of version ${version_of[$id]}) restores to sha256 $got, expected ${version_sum[${version_of[$id]}]}"
    rm -f "$T/restored"
    verified[$id]=1
  done
  for id in "${!version_of[@]}"; do
    [[ " $ids " == *" $id "* ]] || fail "snapshot $id (version ${version_of[$id]}) disappeared"
  done
}

# Version 0: a completed snapshot that every killed run must leave intact.
# The time of an incremental run sets the range of kill delays (50 ms up to
# that time, at least 800 ms), so kills land in every phase, commit included.
version_sum[0]=$(sha256sum <"$img" | cut -d' ' -f1)
base=$(snap_create "$repo" "$img")
t0=${EPOCHREALTIME/./}
snap_create "$repo" "$img" >/dev/null
inc_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
log "an incremental backup of the image takes $inc_ms ms"
verify 0
max_delay=$((inc_ms > 800 ? inc_ms : 800))

for run in 1 2 3 4 5; do
  # New content for this run: 16 random 512 KiB-block-sized writes.
  for ((i = 0; i < 16; i++)); do
    img_rand "$img" $(((RANDOM % 512) * 524288 + RANDOM % 1000)) 300000 "kill-$run-$i"
  done
  version_sum[run]=$(sha256sum <"$img" | cut -d' ' -f1)

  delay=$((50 + RANDOM % (max_delay - 49)))
  "$CAIRN_BIN" -r "$repo" -q snapshot create "$img" >"$T/bg.out" 2>"$T/bg.err" </dev/null &
  pid=$!
  track_pid "$pid"
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    what="killed after ${delay} ms"
  else
    what="finished before the kill at ${delay} ms"
  fi
  rc=0
  wait "$pid" || rc=$?
  wait_dead "$pid" || fail "pid $pid still alive after SIGKILL"
  log "run $run: $what (exit $rc)"
  if [[ "$what" == finished* && $rc -ne 0 ]]; then
    fail "snapshot create (run $run) failed on its own with exit $rc: $(cat "$T/bg.err")"
  fi

  ok cairn -r "$repo" repo check
  verify "$run"
done
ok cairn -r "$repo" repo check --read-data

# A full run now completes and restores.
s=$(snap_create "$repo" "$img")
restore_cmp "$repo" "$s" "$img"

# gc removes the killed runs' leftovers; every remaining file is a valid object.
ok cairn -r "$repo" repo gc --grace-period 0
check_clean "$repo" --read-data
verify 5 all
ok cairn -r "$repo" --output json repo stats
npacks=$(obj_count "$repo" packs/)
assert_eq "pack objects in the repository vs packs the index knows after gc (leftovers of killed runs remain?)" "$npacks" "$(json .packs)"
bad=$(obj_keys "$repo" | grep -vE '^(config|keys/[0-9a-f]+|packs/[0-9a-f]{2}/[0-9a-f]{64}|index/[0-9a-f]{64}|snapshots/snap-[0-9a-f]{17}|locks/.*)$' || true)
[[ -z "$bad" ]] || fail "objects that are not repository objects remain after gc (temporary files of killed runs?):
$bad"
for p in $(obj_keys "$repo" packs/) $(obj_keys "$repo" index/); do
  [[ "$(obj_sha256 "$repo" "$p")" == "$(basename "$p")" ]] || fail "object $p does not hash to its name"
done
