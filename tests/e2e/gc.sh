#!/usr/bin/env bash
# Delete + gc: three snapshots sharing 24 MiB and each holding 8 MiB of its
# own; deleting one and collecting with no grace period frees its unique data,
# the other two still restore byte-exact and check --read-data is clean.
# --dry-run and the default grace period change nothing.
source "$(dirname "$0")/lib.sh"

MiB=1048576
repo=$(repo_url repo)
# No recycle bin: deleted snapshots' data is gc's to collect at once (forget.sh tests the bin).
init_repo "$repo" --recycle-days 0
img=$T/disk.img

# repo_state REPO (lib.sh): every object (locks/ aside) with its size and a
# content hash, so "changes nothing" can be asserted exactly.
packs_bytes() { obj_bytes "$repo" packs/; }

# Version v of the disk: 24 MiB shared random data + 8 MiB random of its own.
declare -a snaps=() sums=()
for v in 1 2 3; do
  img_new "$img" $((32 * MiB))
  img_rand "$img" 0 $((24 * MiB)) shared
  img_rand "$img" $((24 * MiB)) $((8 * MiB)) "unique-$v"
  cp --sparse=always "$img" "$T/v$v.img"
  snaps[v]=$(snap_create "$repo" "$img" --description "version $v")
done
assert_between "bytes_new of version 3 (its 8 MiB)" $((8 * MiB)) $((8 * MiB)) "$(json .bytes_new)"
restore_cmp "$repo" "${snaps[2]}" "$T/v2.img"

before=$(packs_bytes)
log "packs hold $before bytes before delete"

ok cairn -r "$repo" snapshot delete "${snaps[2]}"
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots listed after deleting ${snaps[2]}" "$(printf '%s\n' "${snaps[1]}" "${snaps[3]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(json '(if type == "array" then . else .snapshots end) | map(.id) | sort | join(" ")')"
expect_exit 7 cairn -r "$repo" snapshot restore "${snaps[2]}" "$T/gone.img"
[[ ! -s "$T/gone.img" ]] || fail "restore of a deleted snapshot wrote data to the target"
assert_eq "packs/ bytes right after snapshot delete (delete removes manifests only)" "$before" "$(packs_bytes)"

# --dry-run changes nothing.
state0=$(repo_state "$repo")
ok cairn -r "$repo" repo gc --dry-run --grace-period 0
assert_eq "repository after 'repo gc --dry-run --grace-period 0'" "$state0" "$(repo_state "$repo")"

# The default grace period (1 h) keeps these young packs.
ok cairn -r "$repo" repo gc
assert_eq "packs/ bytes after 'repo gc' with the default 1 h grace period (all packs are young)" "$before" "$(packs_bytes)"

# No grace period: version 2's 8 MiB go.
ok cairn -r "$repo" repo gc --grace-period 0
after=$(packs_bytes)
log "packs hold $after bytes after gc"
((after <= before - 7 * MiB)) ||
  fail "repo gc --grace-period 0 after deleting a snapshot with 8 MiB of unique random data: packs went from $before to $after bytes, expected at least 7 MiB less"
((after >= 32 * MiB)) ||
  fail "repo gc --grace-period 0 left only $after bytes in packs/, but the two remaining snapshots need 40 MiB of random data"

restore_cmp "$repo" "${snaps[1]}" "$T/v1.img"
restore_cmp "$repo" "${snaps[3]}" "$T/v3.img"
check_clean "$repo" --read-data

# A second gc finds nothing more to do.
ok cairn -r "$repo" repo gc --grace-period 0
assert_eq "packs/ bytes after a second gc with nothing to collect" "$after" "$(packs_bytes)"

# The collected chunks really are gone from the index: backing version 2 up
# again stores its 8 MiB again (and it restores).
cp --sparse=always "$T/v2.img" "$img"
s2b=$(snap_create "$repo" "$img")
assert_eq "bytes_new when re-adding data that gc collected" $((8 * MiB)) "$(json .bytes_new)"
restore_cmp "$repo" "$s2b" "$T/v2.img"

# Delete the oldest too: the shared 24 MiB survive for the others.
ok cairn -r "$repo" snapshot delete "${snaps[1]}"
ok cairn -r "$repo" repo gc --grace-period 0
restore_cmp "$repo" "${snaps[3]}" "$T/v3.img"
restore_cmp "$repo" "$s2b" "$T/v2.img"
ok cairn -r "$repo" repo check --read-data

# Delete everything: gc leaves no pack behind.
ok cairn -r "$repo" snapshot delete "${snaps[3]}" "$s2b"
ok cairn -r "$repo" repo gc --grace-period 0
left=$(packs_bytes)
assert_eq "packs/ bytes after deleting every snapshot and gc" 0 "$left"
check_clean "$repo"
ok cairn -r "$repo" --output json repo stats
assert_eq "stats: snapshots after deleting all" 0 "$(json .snapshots)"
assert_eq "stats: chunks after deleting all + gc" 0 "$(json .chunks)"
