#!/usr/bin/env bash
# Loop devices (root): restore onto a block device of the same size gives the
# same bytes; a smaller device is refused naming both sizes; a non-empty device
# needs --force.
source "$(dirname "$0")/lib.sh"

need_root "attaches loop devices"
command -v losetup >/dev/null || skip "losetup not installed"
MiB=1048576
size=$((16 * MiB))

# attach FILE: a loop device over FILE, detached at exit; prints its path.
attach() {
  local dev
  dev=$(losetup -f --show "$1" 2>"$T/losetup.err") || skip "cannot attach a loop device here: $(cat "$T/losetup.err")"
  echo "$dev"
}

img=$T/disk.img
make_image "$img" "$size" loop
repo=$(repo_url repo)
init_repo "$repo"
snap=$(snap_create "$repo" "$img")

# Same size, empty (all zeros).
truncate -s "$size" "$T/same.backing"
dev=$(attach "$T/same.backing")
track_loop "$dev"
[[ -b "$dev" ]] || fail "$dev is not a block device"
ok cairn -r "$repo" snapshot restore "$snap" "$dev"
cmp -n "$size" "$dev" "$img" || fail "loop device $dev differs from the image after restore"
# Through the backing file too (the data reached the device, not a cache).
losetup -d "$dev"
cmp "$T/same.backing" "$img" || fail "backing file of $dev differs from the image after restore + detach"
dev=$(attach "$T/same.backing")
track_loop "$dev"

# Now non-empty: refused without --force, untouched; works with --force.
rand_stream loop-other "$size" >"$T/other.img"
s_other=$(snap_create "$repo" "$T/other.img")
expect_exit 8 cairn -r "$repo" snapshot restore "$s_other" "$dev"
expect_stderr_contains --force
cmp -n "$size" "$dev" "$img" || fail "refused restore changed $dev"
ok cairn -r "$repo" snapshot restore "$s_other" "$dev" --force
cmp -n "$size" "$dev" "$T/other.img" || fail "restore --force onto $dev differs from the snapshot"
# And back, over data, with holes and zero runs in the snapshot.
ok cairn -r "$repo" snapshot restore "$snap" "$dev" --force
cmp -n "$size" "$dev" "$img" || fail "restore --force of the mixed image over random data on $dev differs (zero blocks not written?)"

# Smaller device: refused, naming both sizes; untouched.
truncate -s $((8 * MiB)) "$T/small.backing"
small=$(attach "$T/small.backing")
track_loop "$small"
expect_exit 8 cairn -r "$repo" snapshot restore "$snap" "$small" --force
expect_stderr_matches "($size|16 ?MiB|16\.0 ?MiB|16M)"
expect_stderr_matches "($((8 * MiB))|8 ?MiB|8\.0 ?MiB|8M)"
[[ -z "$(tr -d '\0' <"$T/small.backing" | head -c 1)" ]] || fail "refused restore wrote to the smaller device"

# Larger device: fine; the snapshot's bytes at the start.
truncate -s $((20 * MiB)) "$T/large.backing"
large=$(attach "$T/large.backing")
track_loop "$large"
ok cairn -r "$repo" snapshot restore "$snap" "$large"
cmp -n "$size" "$large" "$img" || fail "restore onto a larger device differs in the first $size bytes"

# A snapshot of the loop device itself round-trips (block device source).
s_dev=$(snap_create "$repo" "$dev")
assert_eq "size of a snapshot of $dev" "$size" "$(json .size)"
restore_cmp "$repo" "$s_dev" "$img"
