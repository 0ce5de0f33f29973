#!/usr/bin/env bash
# A file system on cairn's NBD server (root): nbdfuse exposes the export as a
# file, a loop device goes over it, mkfs.ext4 + mount + write files + umount,
# then e2fsck -fn is clean and the files read back identical after a remount.
# There is no kernel NBD here (machine-facts.md), so nbdfuse stands in for
# /dev/nbd0. Skips where FUSE or loop devices are missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nbd_helpers.bash"
source "$(dirname "$0")/fuse_loop.bash"
need_root "attaches loop devices and mounts ext4"
need_tools nbdfuse fusermount3 losetup mkfs.ext4 e2fsck mount umount
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

MiB=1048576
size=$((256 * MiB))
disk=$T/disk.img
img_new "$disk" "$size"
sock=$T/nbd.sock
start_nbd_server main "$disk" --socket "$sock"

mnt=$T/mnt
mkdir -p "$mnt"
mounted=""
# Undo in the right order (umount, loop, FUSE) before lib.sh's cleanup.
ext4_cleanup() {
  set +e
  [[ -n "$mounted" ]] && { umount "$mnt" || umount -l "$mnt"; }
  fuse_loop_cleanup
}
trap 'rc=$?; ext4_cleanup; (exit $rc); _cleanup' EXIT

fuse_loop_up "$size" --unix "$sock"
ok mkfs.ext4 -q -F "$LOOP"
ok mount "$LOOP" "$mnt"
mounted=1
rand_stream ext4-big $((24 * MiB)) >"$mnt/big.bin"
for i in $(seq 1 50); do text_stream "ext4-small-$i" $((i * 1000)) >"$mnt/small-$i.txt"; done
mkdir -p "$mnt/dir/sub"
cp "$mnt/small-7.txt" "$mnt/dir/sub/copy.txt"
(cd "$mnt" && find . -type f | sort | xargs sha256sum) >"$T/sums"
ok umount "$mnt"
mounted=""

ok e2fsck -fn "$LOOP"
log "e2fsck -fn on the NBD-backed loop device: clean"
ok mount "$LOOP" "$mnt"
mounted=1
(cd "$mnt" && find . -type f | sort | xargs sha256sum) >"$T/sums2"
cmp "$T/sums" "$T/sums2" || fail "files differ after remount: $(diff "$T/sums" "$T/sums2" | head)"
ok umount "$mnt"
mounted=""
fuse_loop_down

stop_nbd_server "$NBD_PID_main"
# The data reached the served file itself.
ok e2fsck -fn "$disk"
