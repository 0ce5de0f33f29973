#!/usr/bin/env bash
# Full disk: a repository on a 24 MiB tmpfs, a 64 MiB random image. The
# snapshot fails with exit 9 naming the space problem, commits nothing, the
# repository still checks clean and restores what it had; with room again
# (gc, then a bigger file system) the next snapshot completes.
source "$(dirname "$0")/lib.sh"

local_only "it fills a local file system; an object store has no disk to fill (a quota \
answers 403 QuotaExceeded instead)"
need_root "mounts a small tmpfs to fill it"
MiB=1048576
mnt=$T/mnt
mkdir "$mnt"
mount -t tmpfs -o size=24m tmpfs "$mnt" 2>"$T/mount.err" || skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
track_mount "$mnt"
repo=$mnt/repo
init_repo "$repo"

small=$T/small.img
rand_stream full-small $((4 * MiB)) >"$small"
s1=$(snap_create "$repo" "$small")

big=$T/big.img
rand_stream full-big $((64 * MiB)) >"$big"
expect_exit 9 cairn -r "$repo" snapshot create "$big"
expect_stderr_matches 'space|full|ENOSPC'
log "out of space reported as: $(head -n 3 "$ERR" | tr '\n' ' ')"

# Nothing committed half-way: one snapshot, and it checks and restores.
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots after the failed backup" "$s1" \
  "$(json '(if type == "array" then . else .snapshots end) | map(.id) | join(" ")')"
ok cairn -r "$repo" repo check
ok cairn -r "$repo" repo check --read-data
restore_cmp "$repo" "$s1" "$small"
# Restoring needs no space in the repository: it works on the full disk too.
expect_exit 0 cairn -r "$repo" snapshot show "$s1"

# gc frees whatever the failed backup left.
ok cairn -r "$repo" repo gc --grace-period 0
used=$(du -s -B1 "$mnt" | cut -f1)
((used <= 6 * MiB)) || fail "after the failed backup and gc the repository still uses $used bytes; expected at most 6 MiB (4 MiB snapshot + overhead): the failed backup's leftovers were not collected"
ok cairn -r "$repo" repo check --read-data

# Still no room for 64 MiB: the same clean failure.
expect_exit 9 cairn -r "$repo" snapshot create "$big"
ok cairn -r "$repo" repo check

# Room again: the next snapshot completes and restores.
mount -o remount,size=160m "$mnt" || fail "cannot grow the tmpfs"
s2=$(snap_create "$repo" "$big")
restore_cmp "$repo" "$s2" "$big"
restore_cmp "$repo" "$s1" "$small"
ok cairn -r "$repo" repo gc --grace-period 0
ok cairn -r "$repo" repo check --read-data
