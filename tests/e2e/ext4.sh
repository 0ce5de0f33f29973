#!/usr/bin/env bash
# ext4: an image built with mkfs.ext4 -d (no root), snapshotted, changed with
# debugfs and snapshotted again; both restores pass e2fsck -fn and give back
# the files, the second snapshot stores only what changed.
source "$(dirname "$0")/lib.sh"

for tool in mkfs.ext4 e2fsck debugfs; do
  command -v "$tool" >/dev/null || skip "$tool not installed (e2fsprogs)"
done
MiB=1048576
src=$T/src
mkdir -p "$src/docs/deep/er" "$src/bin" "$src/empty-dir"
rand_stream ext4-random $((5 * MiB + 123)) >"$src/random.bin"
text_stream ext4-text $((2 * MiB)) >"$src/docs/log.txt"
for i in $(seq 1 50); do echo "small file $i" >"$src/docs/deep/er/f$i.txt"; done
: >"$src/empty-file"
ln -s docs/log.txt "$src/link"
head -c $((3 * MiB)) /dev/zero >"$src/zeros.bin"

fs=$T/fs.img
mkfs.ext4 -q -F -d "$src" "$fs" 64M >"$T/mkfs.err" 2>&1 || fail "mkfs.ext4 -d failed: $(cat "$T/mkfs.err")"
e2fsck -fn "$fs" >/dev/null 2>&1 || fail "the freshly built image does not pass e2fsck -fn (test setup problem)"

repo=$(repo_url repo)
init_repo "$repo"
s1=$(snap_create "$repo" "$fs" --description "ext4 v1" --tag kind=ext4)
cp --sparse=always "$fs" "$T/fs1.img"

# fs_cat IMAGE PATH: the file's bytes, read with debugfs.
fs_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }

# check_restore SNAP NAME: restores, runs e2fsck -fn, compares files.
check_restore() {
  local snap=$1 r=$T/$2.restored
  ok cairn -r "$repo" snapshot restore "$snap" "$r"
  e2fsck -fn "$r" >"$T/fsck.out" 2>&1 || fail "e2fsck -fn on the restore of $snap failed: $(tail -n 20 "$T/fsck.out")"
  fs_cat "$r" /random.bin | cmp - "$src/random.bin" || fail "/random.bin read back from the restore of $snap differs from the source file"
  fs_cat "$r" /docs/log.txt | cmp - "$src/docs/log.txt" || fail "/docs/log.txt from the restore of $snap differs"
  fs_cat "$r" /docs/deep/er/f37.txt | cmp - "$src/docs/deep/er/f37.txt" || fail "/docs/deep/er/f37.txt from the restore of $snap differs"
  fs_cat "$r" /zeros.bin | cmp - "$src/zeros.bin" || fail "/zeros.bin from the restore of $snap differs"
}
check_restore "$s1" one
cmp "$T/fs1.img" "$T/one.restored" || fail "restore of $s1 is not byte-identical to the image"

# Change the file system offline: add a 1 MiB file, remove a small one.
rand_stream ext4-new $((1 * MiB)) >"$T/new.bin"
debugfs -w -R "write $T/new.bin /new.bin" "$fs" >/dev/null 2>&1 || fail "debugfs write failed"
debugfs -w -R "rm /docs/deep/er/f1.txt" "$fs" >/dev/null 2>&1 || fail "debugfs rm failed"
e2fsck -fn "$fs" >/dev/null 2>&1 || fail "the changed image does not pass e2fsck -fn (test setup problem)"

s2=$(snap_create "$repo" "$fs" --description "ext4 v2")
assert_eq "parent of the second ext4 snapshot" "$s1" "$(json .parent)"
new=$(json .bytes_new)
# 1 MiB of data plus a few metadata blocks (bitmaps, inode table, directory).
assert_between "bytes_new after adding a 1 MiB file" $((1 * MiB)) $((6 * MiB)) "$new"
check_restore "$s2" two
cmp "$fs" "$T/two.restored" || fail "restore of $s2 is not byte-identical to the changed image"
fs_cat "$T/two.restored" /new.bin | cmp - "$T/new.bin" || fail "/new.bin from the second restore differs"
debugfs -R "ls -l /docs/deep/er" "$T/two.restored" >"$T/ls2" 2>/dev/null
grep -qwF f2.txt "$T/ls2" || fail "debugfs ls of /docs/deep/er in the second restore does not list f2.txt: $(head -c 500 "$T/ls2")"
grep -qwF f1.txt "$T/ls2" && fail "f1.txt still present in the second restore"
debugfs -R "ls -l /" "$T/one.restored" >"$T/ls1" 2>/dev/null
grep -qwF random.bin "$T/ls1" || fail "debugfs ls / of the first restore does not list random.bin: $(head -c 500 "$T/ls1")"
grep -qwF new.bin "$T/ls1" && fail "new.bin present in the restore of the first snapshot"

# Tags are kept and filter the list.
ok cairn -r "$repo" --output json snapshot list --tag kind=ext4
assert_eq "snapshot list --tag kind=ext4" "$s1" "$(json '(if type == "array" then . else .snapshots end) | map(.id) | join(" ")')"
ok cairn -r "$repo" --output json snapshot show "$s1"
assert_eq "tag kind of $s1" ext4 "$(json '(.snapshot // .) | .tags.kind')"
