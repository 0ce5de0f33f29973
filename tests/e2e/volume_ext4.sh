#!/usr/bin/env bash
# ext4 on a cairn volume (root): `cairn serve`, a volume attached over NBD,
# nbdfuse + a loop device standing in for /dev/nbd0 (no kernel NBD here,
# machine-facts.md), mkfs.ext4, mount, write files; a snapshot taken while
# it is mounted (after sync and fsfreeze, as one quiesces a file system for
# an EBS snapshot); more files written after the snapshot; umount and
# e2fsck -fn of the live volume is clean. The snapshot, restored to a file,
# is a clean ext4 (e2fsck -fn) holding exactly the files written before it
# (read back with debugfs, no mount) and none written after.
# Skips where root, FUSE or loop devices are missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
source "$(dirname "$0")/fuse_loop.bash"
need_root "attaches loop devices and mounts ext4"
need_tools nbdfuse fusermount3 losetup mkfs.ext4 e2fsck debugfs fsfreeze mount umount curl
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

MiB=1048576
size=$((256 * MiB))
init_repo "$REPO"
start_daemon
vol=$(volume_create --size $size --volume-type standard)
uri=$(volume_attach "$vol")

mnt=$T/mnt
mkdir -p "$mnt"
mounted=""
frozen=""
# Undo in the right order (thaw, umount, loop, FUSE) before lib.sh's cleanup.
ext4_cleanup() {
  set +e
  [[ -n "$frozen" ]] && fsfreeze -u "$mnt"
  [[ -n "$mounted" ]] && { umount "$mnt" || umount -l "$mnt"; }
  fuse_loop_cleanup
}
trap 'rc=$?; ext4_cleanup; (exit $rc); _cleanup' EXIT

fuse_loop_up "$size" "$uri"
ok mkfs.ext4 -q -F "$LOOP"
ok mount "$LOOP" "$mnt"
mounted=1
rand_stream vol-ext4-big $((24 * MiB)) >"$mnt/big.bin"
for i in $(seq 1 40); do text_stream "vol-ext4-small-$i" $((i * 1000)) >"$mnt/small-$i.txt"; done
mkdir -p "$mnt/dir/sub"
cp "$mnt/small-7.txt" "$mnt/dir/sub/copy.txt"
(cd "$mnt" && find . -type f ! -path './lost+found/*' | sort | xargs sha256sum) >"$T/sums.before"

# Quiesce, snapshot while mounted, thaw. The freeze writes everything down to
# the loop device, whose flush reaches the volume as an NBD FLUSH (nbdfuse);
# `sync FILE` on the nbdfuse file flushes once more.
sync
ok fsfreeze -f "$mnt"
frozen=1
sync "$T/fuse/disk"
snap=$(snapshot_wait "$vol" --description "ext4 while mounted")
assert_eq "state of the snapshot" completed "$(json '.snapshots[0].state')"
ok fsfreeze -u "$mnt"
frozen=""
log "snapshot $snap of the mounted file system"

# Written after the snapshot: on the volume, not in the snapshot.
rand_stream vol-ext4-after $((4 * MiB)) >"$mnt/after.bin"
echo changed >>"$mnt/small-3.txt"
(cd "$mnt" && find . -type f ! -path './lost+found/*' | sort | xargs sha256sum) >"$T/sums.live"
ok umount "$mnt"
mounted=""
ok e2fsck -fn "$LOOP"
log "e2fsck -fn on the live volume: clean"
fuse_loop_down

# The snapshot, restored to a file: a clean ext4 with the files as they were.
ok cairn -r "$REPO" snapshot restore "$snap" "$T/restored.img"
assert_eq "restored size" "$size" "$(fsize "$T/restored.img")"
ok e2fsck -fn "$T/restored.img"
log "e2fsck -fn on the restored snapshot: clean"
mkdir "$T/dump"
ok debugfs -R "rdump / $T/dump" "$T/restored.img"
rm -rf "$T/dump/lost+found"
(cd "$T/dump" && find . -type f | sort | xargs sha256sum) >"$T/sums.restored"
cmp "$T/sums.before" "$T/sums.restored" ||
  fail "files in the restored snapshot differ from those written before it: $(diff "$T/sums.before" "$T/sums.restored" | head)"
[[ ! -e "$T/dump/after.bin" ]] || fail "after.bin, written after the snapshot, is in it"
! cmp -s "$T/sums.live" "$T/sums.restored" || fail "the live volume did not change after the snapshot (test is void)"
log "restored snapshot holds the $(wc -l <"$T/sums.before") files written before it, not those after"
stop_daemon
