#!/usr/bin/env bash
# A file system on cairn's NBD server (root): nbdfuse exposes the export as a
# file, a loop device goes over it, mkfs.ext4 + mount + write files + umount,
# then e2fsck -fn is clean and the files read back identical after a remount.
# There is no kernel NBD here (machine-facts.md), so nbdfuse stands in for
# /dev/nbd0. Skips where FUSE or loop devices are missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nbd_helpers.bash"
need_root "attaches loop devices and mounts ext4"
need_tools nbdfuse fusermount3 losetup mkfs.ext4 e2fsck mount umount
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

MiB=1048576
size=$((256 * MiB))
disk=$T/disk.img
img_new "$disk" "$size"
sock=$T/nbd.sock
start_nbd_server main "$disk" --socket "$sock"

fuse_dir=$T/fuse
mnt=$T/mnt
mkdir -p "$fuse_dir" "$mnt"
loop=""
mounted=""
fuse_pid=""
# Undo in the right order (umount, loop, FUSE) before lib.sh's cleanup.
ext4_cleanup() {
  set +e
  [[ -n "$mounted" ]] && { umount "$mnt" || umount -l "$mnt"; }
  [[ -n "$loop" ]] && losetup -d "$loop"
  [[ -n "$fuse_pid" ]] && { fusermount3 -u "$fuse_dir" 2>/dev/null; wait_dead "$fuse_pid" 5; }
}
trap 'rc=$?; ext4_cleanup; (exit $rc); _cleanup' EXIT

nbdfuse "$fuse_dir/disk" --unix "$sock" 2>"$T/nbdfuse.err" &
fuse_pid=$!
track_pid "$fuse_pid"
for ((i = 0; i < 200; i++)); do
  [[ -e "$fuse_dir/disk" && $(fsize "$fuse_dir/disk" 2>/dev/null || echo 0) == "$size" ]] && break
  kill -0 "$fuse_pid" 2>/dev/null || skip "nbdfuse cannot mount here: $(cat "$T/nbdfuse.err")"
  sleep 0.05
done
[[ $(fsize "$fuse_dir/disk") == "$size" ]] || fail "nbdfuse file has size $(fsize "$fuse_dir/disk"), expected $size"

loop=$(losetup -f --show "$fuse_dir/disk" 2>"$T/losetup.err") || {
  loop=""
  skip "cannot attach a loop device here: $(cat "$T/losetup.err")"
}
ok mkfs.ext4 -q -F "$loop"
ok mount "$loop" "$mnt"
mounted=1
rand_stream ext4-big $((24 * MiB)) >"$mnt/big.bin"
for i in $(seq 1 50); do text_stream "ext4-small-$i" $((i * 1000)) >"$mnt/small-$i.txt"; done
mkdir -p "$mnt/dir/sub"
cp "$mnt/small-7.txt" "$mnt/dir/sub/copy.txt"
(cd "$mnt" && find . -type f | sort | xargs sha256sum) >"$T/sums"
ok umount "$mnt"
mounted=""

ok e2fsck -fn "$loop"
log "e2fsck -fn on the NBD-backed loop device: clean"
ok mount "$loop" "$mnt"
mounted=1
(cd "$mnt" && find . -type f | sort | xargs sha256sum) >"$T/sums2"
cmp "$T/sums" "$T/sums2" || fail "files differ after remount: $(diff "$T/sums" "$T/sums2" | head)"
ok umount "$mnt"
mounted=""
ok losetup -d "$loop"
loop=""
ok fusermount3 -u "$fuse_dir"
wait_dead "$fuse_pid" 10 || fail "nbdfuse did not exit after fusermount3 -u"
fuse_pid=""

stop_nbd_server "$NBD_PID_main"
# The data reached the served file itself.
ok e2fsck -fn "$disk"
