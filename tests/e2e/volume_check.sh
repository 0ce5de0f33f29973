#!/usr/bin/env bash
# cairn volume check VOL runs the real e2fsck -fn on a volume's bytes: an
# ext4 image copied into a volume over NBD (qemu-img convert) checks clean,
# with the volume attached or not (and stays as it was); after garbage is
# written over its inode table through NBD (qemu-io) the check says NOT
# CLEAN and exits 6; a blank volume is "nothing was checked" (exit 1); an
# unknown volume exit 7. Needs root (FUSE for nbdfuse), nbdfuse, e2fsck.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_root "nbdfuse mounts a FUSE file system"
need_tools nbdfuse fusermount3 e2fsck mkfs.ext4 dumpe2fs qemu-img qemu-io
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

MiB=1048576
init_repo "$REPO"
start_daemon

# An ext4 image with some files, made without mounting anything.
tree=$T/tree
mkdir -p "$tree/etc" "$tree/var/lib/app"
for i in $(seq 1 40); do text_stream "check-$i" $((i * 700)) >"$tree/etc/file-$i.conf"; done
rand_stream check-big $((3 * MiB)) >"$tree/var/lib/app/data.bin"
img=$T/fs.img
ok mkfs.ext4 -q -F -d "$tree" "$img" 64M

vol=$(volume_create --size 64M)
uri=$(volume_attach "$vol")
ok qemu-img convert -n -f raw -O raw "$img" "$uri"

# --- clean, attached: the volume stays attached ------------------------------
ok cairn --output json volume check "$vol"
assert_eq "clean" true "$(json .clean)"
assert_eq "e2fsck exit code" 0 "$(json .exit_code)"
assert_eq "volume id" "$vol" "$(json .volume_id)"
[[ "$(json .summary)" == *files* ]] || fail "summary is not e2fsck's last line: $(json .summary)"
[[ "$(json .output)" == *"Pass 5"* ]] || fail "e2fsck's output is missing: $(json .output)"
ok cairn --output json volume show "$vol"
assert_eq "state after a check of an attached volume" in-use "$(json .state)"

# --- clean, detached ------------------------------------------------------------
ok cairn volume detach "$vol"
ok cairn volume check "$vol"
expect_stdout_contains "$vol: clean"
ok cairn --output json volume show "$vol"
assert_eq "state after a check of a detached volume" available "$(json .state)"

# --- garbage over the inode table, written through NBD ------------------------
bs=$(dumpe2fs "$img" 2>/dev/null | sed -n 's/^Block size: *//p')
itable=$(dumpe2fs "$img" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -n 1)
[[ -n "$bs" && -n "$itable" ]] || fail "dumpe2fs gave no block size ($bs) or inode table ($itable)"
uri=$(volume_attach "$vol")
ok qemu-io -f raw -c "write -P 0xa5 $((itable * bs)) 64k" "$uri"
expect_exit 6 cairn volume check "$vol"
expect_stdout_contains "$vol: NOT CLEAN"
expect_stderr_contains "errors left uncorrected"
expect_exit 6 cairn --output json volume check "$vol"
assert_eq "clean after the damage" false "$(json .clean)"
assert_eq "e2fsck exit bit 4" 4 "$(($(json .exit_code) & 4))"
# The check itself wrote nothing: the damage is still there, byte for byte.
ok qemu-io -f raw -c "read -P 0xa5 $((itable * bs)) 64k" "$uri"

# --- a blank volume: nothing to check -----------------------------------------------
blank=$(volume_create --size 16M)
expect_exit 1 cairn volume check "$blank"
expect_stderr_contains "nothing was checked"

# --- unknown volume ------------------------------------------------------------
expect_exit 7 cairn volume check vol-00000000000000000
# No work directories or FUSE mounts are left behind.
if grep -q "cairn-fsck" /proc/mounts; then fail "a FUSE mount of a check is left: $(grep cairn-fsck /proc/mounts)"; fi
[[ -z "$(ls -A "$DATA/check" 2>/dev/null)" ]] || fail "work directories left in $DATA/check: $(ls "$DATA/check")"
stop_daemon
