#!/usr/bin/env bash
# Retention and the recycle bin: `snapshot forget --keep-last` removes exactly
# the older snapshots of each source into the recycle bin; `snapshot undelete`
# within the period brings one back byte-exact; gc keeps binned data until
# the period ends and, once it has (CAIRN_TEST_NOW moves the clock, a
# variable for tests only, docs/cli.md), removes the deleted manifests and
# their data (packs shrink), and `repo check` is clean. Also: no rule is
# refused, --dry-run changes nothing, `--recycle-days 0` and
# --skip-recycle-bin delete for good, `repo set` changes the period.
# Dated rules (daily, weekly…) are tested with fixed times in
# src/repo/retention_test.cc: the CLI cannot set a snapshot's created time.
source "$(dirname "$0")/lib.sh"

MiB=1048576
repo=$(repo_url repo)
init_repo "$repo"
packs_bytes() { obj_bytes "$repo" packs/; }

# Three versions of disk a (each with 4 MiB of its own data), one of disk b.
declare -A image_of
snaps_a=()
for v in 1 2 3; do
  rand_stream "forget-a$v" $((4 * MiB)) >"$T/a$v.img"
  cp "$T/a$v.img" "$T/a.img"
  s=$(snap_create "$repo" "$T/a.img" --tag "app=db")
  snaps_a+=("$s")
  image_of[$s]=$T/a$v.img
done
rand_stream forget-b $((2 * MiB)) >"$T/b.img"
snap_b=$(snap_create "$repo" "$T/b.img" --tag "app=web")

# No rule: refused, nothing removed.
expect_exit 2 cairn -r "$repo" snapshot forget
expect_stderr_contains "no --keep-"
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots after a refused forget" 4 "$(json 'length')"

# --dry-run: says what it would do, changes nothing.
state0=$(repo_state "$repo")
ok cairn -r "$repo" --output json snapshot forget --keep-last 1 --dry-run
assert_eq "dry run: groups (one per source)" 2 "$(json '.groups | length')"
assert_eq "dry run: removed" 0 "$(json '.removed | length')"
assert_eq "dry run: kept of a" "${snaps_a[2]}" \
  "$(json ".groups[] | select(.source | endswith(\"/a.img\")) | .keep | map(.id) | join(\" \")")"
assert_eq "dry run: reasons of the kept a" "last 1" \
  "$(json ".groups[] | select(.source | endswith(\"/a.img\")) | .keep[0].reasons | join(\",\")")"
assert_eq "dry run: to remove of a" "$(printf '%s\n' "${snaps_a[0]}" "${snaps_a[1]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(json ".groups[] | select(.source | endswith(\"/a.img\")) | .remove | map(.id) | sort | join(\" \")")"
assert_eq "repository after forget --dry-run" "$state0" "$(repo_state "$repo")"

# --tag app=web: only b takes part, and it is the newest of its group.
ok cairn -r "$repo" --output json snapshot forget --keep-last 1 --tag app=web
assert_eq "forget --tag app=web: removed" 0 "$(json '.removed | length')"

# The real thing: a keeps its newest, the two older go to the bin; b stays.
before=$(packs_bytes)
ok cairn -r "$repo" snapshot forget --keep-last 1
expect_stdout_contains "keep"
expect_stdout_contains "in the recycle bin until"
ok cairn -r "$repo" --output json snapshot list
assert_eq "live snapshots after forget --keep-last 1" \
  "$(printf '%s\n' "${snaps_a[2]}" "$snap_b" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(json 'map(.id) | sort | join(" ")')"
ok cairn -r "$repo" --output json snapshot list --deleted
assert_eq "recycle bin after forget" \
  "$(printf '%s\n' "${snaps_a[0]}" "${snaps_a[1]}" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "$(json 'map(.id) | sort | join(" ")')"
expires=$(json '.[0].expires')
deleted=$(json '.[0].deleted')
utc_plus_days() { date -u -d "@$(($(date -u -d "$1" +%s) + $2 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
assert_eq "expiry is 7 days after deletion" "$(utc_plus_days "$deleted" 7)" "$expires"
assert_eq "a binned snapshot is not expired yet" false "$(json '.[0].expired')"

# Binned snapshots are ignored by restore and show (which says how to undelete).
expect_exit 7 cairn -r "$repo" snapshot restore "${snaps_a[0]}" "$T/gone.img"
expect_exit 7 cairn -r "$repo" snapshot show "${snaps_a[0]}"
expect_stderr_contains "recycle bin"
expect_stderr_contains "snapshot undelete ${snaps_a[0]}"

# gc within the period keeps their data; check covers them.
ok cairn -r "$repo" --output json repo gc --grace-period 0
assert_eq "gc within the period: binned snapshots kept" 2 "$(json .plan.recycle_bin_kept)"
assert_eq "packs bytes after gc within the period" "$before" "$(packs_bytes)"
check_clean "$repo" --read-data

# Undelete within the period: byte-exact.
ok cairn -r "$repo" snapshot undelete "${snaps_a[1]}"
restore_cmp "$repo" "${snaps_a[1]}" "${image_of[${snaps_a[1]}]}"
expect_exit 7 cairn -r "$repo" snapshot undelete "${snaps_a[1]}"
expect_stderr_contains "not deleted"
expect_exit 7 cairn -r "$repo" snapshot undelete snap-0123456789abcdef0
expect_stderr_contains "snap-0123456789abcdef0"

# Past the period (the clock moved 8 days on): undelete refuses, naming the
# date; gc removes the deleted manifest and the data only it used.
later=$(utc_plus_days "$deleted" 8)
CAIRN_TEST_NOW=$later expect_exit 7 cairn -r "$repo" snapshot undelete "${snaps_a[0]}"
expect_stderr_contains "expired from the recycle bin on $expires"
ok cairn -r "$repo" --output json snapshot list --deleted
assert_eq "still listed until gc" "${snaps_a[0]}" "$(json '.[0].id')"
CAIRN_TEST_NOW=$later ok cairn -r "$repo" --output json repo gc --grace-period 0
assert_eq "gc after the period: expired" "${snaps_a[0]}" "$(json '.plan.recycle_bin_expired | join(" ")')"
after=$(packs_bytes)
((after <= before - 3 * MiB)) ||
  fail "gc after the recycle bin period: packs went from $before to $after bytes, expected at least 3 MiB (the forgotten snapshot's own data) less"
ok cairn -r "$repo" --output json snapshot list --deleted
assert_eq "recycle bin after the expiring gc" 0 "$(json 'length')"
expect_exit 7 cairn -r "$repo" snapshot undelete "${snaps_a[0]}"
check_clean "$repo" --read-data
restore_cmp "$repo" "${snaps_a[1]}" "${image_of[${snaps_a[1]}]}"
restore_cmp "$repo" "${snaps_a[2]}" "${image_of[${snaps_a[2]}]}"
restore_cmp "$repo" "$snap_b" "$T/b.img"

# --skip-recycle-bin deletes for good; so does delete once `repo set` turned the bin off.
ok cairn -r "$repo" snapshot delete --skip-recycle-bin "${snaps_a[1]}"
ok cairn -r "$repo" --output json snapshot list --deleted
assert_eq "bin after delete --skip-recycle-bin" 0 "$(json 'length')"
ok cairn -r "$repo" --output json repo set --recycle-days 0
assert_eq "repo set: new period" 0 "$(json .recycle_days)"
assert_eq "repo set: old period" 7 "$(json .previous_recycle_days)"
ok cairn -r "$repo" --output json snapshot forget --keep-last 1 --prune --source "$T/b.img"
assert_eq "forget with the bin off: nothing to remove for b" 0 "$(json '.removed | length')"
ok cairn -r "$repo" snapshot delete "$snap_b"
ok cairn -r "$repo" --output json snapshot list --deleted
assert_eq "bin with the period 0" 0 "$(json 'length')"
ok cairn -r "$repo" --output json repo gc --grace-period 0
check_clean "$repo"
restore_cmp "$repo" "${snaps_a[2]}" "${image_of[${snaps_a[2]}]}"

# A repository made with --recycle-days 0 has no bin at all.
repo0=$(repo_url repo0)
ok cairn -r "$repo0" --output json repo init --recycle-days 0
assert_eq "repo init --recycle-days 0" 0 "$(json .recycle_days)"
s0=$(snap_create "$repo0" "$T/b.img")
ok cairn -r "$repo0" --output json snapshot delete "$s0"
assert_eq "delete with the bin off: recycle_bin" 0 "$(json '.recycle_bin | length')"
expect_exit 2 cairn -r "$repo0" repo set --recycle-days -1
log "forget keeps the newest, the bin undeletes byte-exact, gc empties it after the period"
