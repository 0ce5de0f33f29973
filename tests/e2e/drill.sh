#!/usr/bin/env bash
# cairn drill SNAP: on a good ext4 snapshot every step passes — volume made
# and usable, first byte, e2fsck clean (through NBD + nbdfuse), the files
# exported (the tar.gz holds exactly the source tree's files, byte for
# byte), full hydration, every block verified — and the JSON report says so
# with exit 0; nothing is left behind without --keep, and --keep keeps the
# volume. With one flipped bit in a pack the drill exits 6 and names the
# snapshot, the block and its byte offset. Needs root (FUSE for nbdfuse).
source "$(dirname "$0")/lib.sh"
need_root "nbdfuse mounts a FUSE file system"
for t in nbdfuse fusermount3 e2fsck mkfs.ext4 tar; do
  command -v "$t" >/dev/null || skip "$t not installed (bash scripts/setup.sh installs it)"
done
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

MiB=1048576
tree=$T/tree
mkdir -p "$tree/etc/app" "$tree/var/lib/app" "$tree/home/u"
for i in $(seq 1 30); do text_stream "drill-$i" $((i * 900)) >"$tree/etc/app/conf-$i"; done
rand_stream drill-big $((5 * MiB)) >"$tree/var/lib/app/data.bin"
ln -s ../../etc/app/conf-1 "$tree/home/u/link"
img=$T/fs.img
ok mkfs.ext4 -q -F -d "$tree" "$img" 48M
nfiles=$(find "$tree" -type f | wc -l)

repo=$(repo_url main)
init_repo "$repo"
snap=$(snap_create "$repo" "$img")
work=$T/work
mkdir -p "$work"

# --- a good snapshot passes --------------------------------------------------------
ok cairn -r "$repo" --output json drill "$snap" --work-dir "$work" --export "$T/files.tar.gz"
assert_eq "passed" true "$(json .passed)"
assert_eq "snapshot" "$snap" "$(json .snapshot_id)"
assert_eq "fsck clean" true "$(json .fsck.clean)"
assert_eq "fsck exit code" 0 "$(json .fsck.exit_code)"
assert_eq "files exported" "$nfiles" "$(json .files)"
assert_eq "symlinks exported" 1 "$(json .symlinks)"
assert_eq "blocks failed" 0 "$(json .blocks_failed)"
total=$(json .blocks_total)
assert_eq "blocks verified + zero = total" "$total" "$(($(json .blocks_verified) + $(json .blocks_zero)))"
assert_eq "blocks of a 48 MiB snapshot (512 KiB blocks)" 96 "$total"
assert_between "data blocks verified" 1 96 "$(json .blocks_verified)"
for f in time_to_first_byte time_until_usable time_to_full_hydration; do
  v=$(json ".$f")
  [[ "$v" =~ ^[0-9.e-]+$ ]] || fail "$f is not a number: $v"
done
assert_eq "steps that failed" 0 "$(json '[.steps[] | select(.ok | not)] | length')"
assert_eq "work dir without --keep" null "$(json .work_dir)"
[[ -z "$(ls -A "$work")" ]] || fail "the drill left files in $work: $(ls "$work")"
log "time to first byte $(json .time_to_first_byte) s, usable $(json .time_until_usable) s, hydrated $(json .time_to_full_hydration) s"

# The archive holds the tree, file for file.
mkdir -p "$T/x"
tar -xzf "$T/files.tar.gz" -C "$T/x"
diff -r --no-dereference -x lost+found "$tree" "$T/x" >"$T/diff" 2>&1 || fail "exported files differ from the tree: $(head -n 20 "$T/diff")"

# Text mode, --keep: the work directory (with the volume) stays.
ok cairn -r "$repo" drill "$snap" --work-dir "$work" --keep
expect_stdout_contains "PASSED" "time to first byte" "blocks verified"
kept=$(ls -d "$work"/cairn-drill-* 2>/dev/null | head -n 1)
[[ -n "$kept" && -f "$kept/volume/volume.json" ]] || fail "--keep kept no volume in $work: $(ls -R "$work" | head)"
rm -rf "$kept"

# --- one flipped bit in a pack: exit 6 naming the snapshot and the block -------------
bad=$(repo_url damaged)
repo_copy "$repo" "$bad"
pack=$(obj_keys "$bad" packs/ | head -n 1)
obj_flip_bit "$bad" "$pack" 1000 3
expect_exit 6 cairn -r "$bad" --output json drill "$snap" --work-dir "$work"
assert_eq "passed with a damaged pack" false "$(json .passed)"
[[ "$(json .blocks_failed)" -ge 1 ]] || fail "no failed block reported: $(cat "$OUT")"
[[ "$(json .error)" == *"$snap"* ]] || fail "the error does not name the snapshot: $(json .error)"
json .error | grep -qiE 'block [0-9]+' || fail "the error names no block: $(json .error)"
json .error | grep -qiE 'offset [0-9]+' || fail "the error names no offset: $(json .error)"
expect_stderr_contains "FAILED" "$snap"
[[ -z "$(ls -A "$work")" ]] || fail "the failed drill left files in $work: $(ls "$work")"
grep -q cairn-fsck /proc/mounts && fail "a FUSE mount is left: $(grep cairn-fsck /proc/mounts)"

# --- unknown snapshot -------------------------------------------------------------
expect_exit 7 cairn -r "$repo" drill snap-00000000000000000 --work-dir "$work"

# --- a GPT disk: the drill checks and exports its only ext partition ---------------
command -v sfdisk >/dev/null || skip "sfdisk not installed (bash scripts/setup.sh installs it)"
disk=$T/gpt.img
img_new "$disk" $((52 * MiB))
printf 'label: gpt\nstart=2048, size=98304, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' |
  sfdisk -q "$disk" >"$T/sfdisk.err" 2>&1 || fail "sfdisk: $(cat "$T/sfdisk.err")"
dd if="$img" of="$disk" bs=512 seek=2048 conv=notrunc status=none
gsnap=$(snap_create "$repo" "$disk")
ok cairn -r "$repo" --output json drill "$gsnap" --work-dir "$work"
assert_eq "GPT disk: passed" true "$(json .passed)"
assert_eq "GPT disk: partition" 1 "$(json .partition)"
assert_eq "GPT disk: fsck clean" true "$(json .fsck.clean)"
assert_eq "GPT disk: files exported" "$nfiles" "$(json .files)"
expect_exit 7 cairn -r "$repo" drill "$gsnap" --work-dir "$work" --partition 2
expect_output_contains "has no partition 2"

true
