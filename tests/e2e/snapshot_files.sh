#!/usr/bin/env bash
# snapshot_files: `cairn snapshot ls / cat / partitions` read files straight
# from block snapshots (no volume, mount or root): a bare ext4 image and a
# GPT disk with two ext4 partitions (plus an MBR disk with one), checked
# against the source trees; errors for a directory, a missing file and an
# ambiguous partitioned disk; reading a small file fetches few blocks.
source "$(dirname "$0")/lib.sh"

for tool in mkfs.ext4 sfdisk setfattr jq; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/setup.sh)"
done
MiB=1048576

# ------------------------------------------------------------- source tree
src=$T/tree
mkdir -p "$src"/{etc/app,var/data,empty}
echo db1 >"$src/etc/hostname"
chmod 0640 "$src/etc/hostname"
text_stream files-conf 5000 >"$src/etc/app/config"
rand_stream files-big $((3 * MiB + 123)) >"$src/var/data/big.bin"
truncate -s $((2 * MiB)) "$src/var/data/sparse.img"
rand_stream files-sparse 4096 | write_at "$src/var/data/sparse.img" $((1 * MiB))
: >"$src/var/data/empty-file"
printf 'spaces and\ttab\n' >"$src/etc/app/name with spaces"
ln -s hostname "$src/etc/link"
ln -s "/$(head -c 150 /dev/zero | tr '\0' x)/target" "$src/etc/long-link"
setfattr -n user.k -v v "$src/etc/app/config" 2>/dev/null || true
touch -d "2021-03-04 05:06:07 UTC" "$src/etc/hostname"

bare=$T/bare.img
mkfs.ext4 -q -F -L bare -d "$src" "$bare" 64M >"$T/mkfs.err" 2>&1 ||
  fail "mkfs.ext4 -d failed: $(cat "$T/mkfs.err")"

repo=$(repo_url repo)
init_repo "$repo"
snap=$(snap_create "$repo" "$bare")

# ------------------------------------------------------------- bare ext4
log "partitions of a bare filesystem"
ok cairn -r "$repo" snapshot partitions "$snap"
expect_stdout_contains "no partition table" "ext4"
ok cairn -r "$repo" snapshot partitions "$snap" --output json
assert_eq "scheme" none "$(json .scheme)"
assert_eq "filesystem" ext4 "$(json .filesystem)"

log "ls / and ls of subdirectories list what the source holds"
for dir in / /etc /etc/app /var/data /empty; do
  ok cairn -r "$repo" snapshot ls "$snap" "$dir"
  want=$( (cd "$src$dir" && ls -A) | { grep -v '^lost+found$' || true; } | LC_ALL=C sort)
  got=$(grep -v '^lost+found$' "$OUT" || true)
  [[ "$got" == "$want" ]] || fail "ls $dir: want [$want] got [$got]"
done

log "ls -l shows mode, owner, size, time and link targets"
ok cairn -r "$repo" snapshot ls "$snap" /etc -l
expect_stdout_contains "-rw-r-----" "2021-03-04 05:06:07" "link -> hostname" \
  "long-link -> /xxxxxxxx" "drwxr-xr-x"
grep -q "^-rw-r-----  $(id -u)/$(id -g) *4 " "$OUT" ||
  fail "ls -l line of hostname: $(grep hostname "$OUT")"

log "ls --output json gives sizes and types"
ok cairn -r "$repo" snapshot ls "$snap" /var/data --output json
assert_eq "big.bin size" $((3 * MiB + 123)) "$(json '.entries[] | select(.name=="big.bin") | .size')"
assert_eq "sparse size" $((2 * MiB)) "$(json '.entries[] | select(.name=="sparse.img") | .size')"
assert_eq "type" file "$(json '.entries[] | select(.name=="empty-file") | .type')"
ok cairn -r "$repo" snapshot ls "$snap" /etc/link --output json
assert_eq "link target" hostname "$(json '.entries[0].target')"
assert_eq "link type" symlink "$(json '.entries[0].type')"

log "cat of every regular file equals the source"
while IFS= read -r -d '' f; do
  rel=${f#"$src"}
  cairn -r "$repo" snapshot cat "$snap" "$rel" >"$T/cat.out" 2>"$T/cat.err" ||
    fail "cat $rel failed: $(cat "$T/cat.err")"
  cmp -s "$T/cat.out" "$f" || fail "cat $rel differs from the source"
done < <(find "$src" -type f -print0)

log "errors: a directory, a missing file, a path through a file"
expect_exit 8 cairn -r "$repo" snapshot cat "$snap" /etc
expect_stderr_contains "/etc in $snap is a directory" "snapshot ls"
expect_exit 7 cairn -r "$repo" snapshot cat "$snap" /etc/nope
expect_stderr_contains "no such file: /etc/nope"
expect_exit 8 cairn -r "$repo" snapshot ls "$snap" /etc/hostname/x
expect_stderr_contains "not a directory"
expect_exit 7 cairn -r "$repo" snapshot ls "$snap" / --partition 1
expect_stderr_contains "no partition table"

log "reading a small file fetches only a few of the snapshot's blocks"
ok cairn -r "$repo" snapshot show "$snap" --output json
blocks=$(json .block_count)
ok cairn -v -r "$repo" snapshot cat "$snap" /etc/hostname
fetched=$(grep -o '[0-9]* blocks fetched' "$ERR" | cut -d' ' -f1)
[[ -n "$fetched" ]] || fail "cat -v reported no fetch count: $(cat "$ERR")"
log "cat /etc/hostname fetched $fetched of $blocks blocks"
assert_between "blocks fetched for a 4-byte file" 1 8 "$fetched"

# ---------------------------------------------------- GPT, two ext4 partitions
log "GPT disk: partitions, --partition N, and the ambiguity error"
other=$T/other
mkdir -p "$other"
echo "second filesystem" >"$other/only-here"
part2=$T/p2.img
part3=$T/p3.img
mkfs.ext4 -q -F -L root -d "$src" "$part2" 40M >"$T/mkfs.err" 2>&1 || fail "$(cat "$T/mkfs.err")"
mkfs.ext4 -q -F -L data -d "$other" "$part3" 16M >"$T/mkfs.err" 2>&1 || fail "$(cat "$T/mkfs.err")"
gpt=$T/gpt.img
img_new "$gpt" $((72 * MiB))
printf 'label: gpt\nstart=2048, size=4096, type=21686148-6449-6E6F-744E-656564454649, name=bios\nstart=6144, size=81920, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\nstart=88064, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data\n' |
  sfdisk -q "$gpt" >"$T/sfdisk.err" 2>&1 || fail "sfdisk: $(cat "$T/sfdisk.err")"
dd if="$part2" of="$gpt" bs=512 seek=6144 conv=notrunc status=none
dd if="$part3" of="$gpt" bs=512 seek=88064 conv=notrunc status=none
gsnap=$(snap_create "$repo" "$gpt")

ok cairn -r "$repo" snapshot partitions "$gsnap"
expect_stdout_contains "GPT" "bios-boot" "root" "data" "ext4" \
  "linux (0fc63daf-8483-4772-8e79-3d69d8477de4)"
ok cairn -r "$repo" snapshot partitions "$gsnap" --output json
assert_eq "scheme" gpt "$(json .scheme)"
assert_eq "partition count" 3 "$(json '.partitions | length')"
assert_eq "p2 offset" $((6144 * 512)) "$(json '.partitions[1].offset')"
assert_eq "p2 size" $((81920 * 512)) "$(json '.partitions[1].size')"
assert_eq "p2 fs" ext4 "$(json '.partitions[1].filesystem')"
assert_eq "p1 fs" "" "$(json '.partitions[0].filesystem')"
assert_eq "p3 name" data "$(json '.partitions[2].name')"

expect_exit 2 cairn -r "$repo" snapshot ls "$gsnap" /
expect_stderr_contains "--partition N" "partition 2" "partition 3"
ok cairn -r "$repo" snapshot ls "$gsnap" /etc --partition 2
expect_stdout_contains hostname link
ok cairn -r "$repo" snapshot cat "$gsnap" /var/data/big.bin --partition 2
cmp -s "$OUT" "$src/var/data/big.bin" || fail "cat big.bin from partition 2 differs"
ok cairn -r "$repo" snapshot cat "$gsnap" /only-here --partition 3
expect_stdout_contains "second filesystem"
expect_exit 7 cairn -r "$repo" snapshot ls "$gsnap" / --partition 9
expect_stderr_contains "no partition 9"
expect_exit 2 cairn -r "$repo" snapshot ls "$gsnap" / --partition 1
expect_stderr_contains "no filesystem found"

# ------------------------------------------------ MBR with one ext4 partition
log "MBR disk with one ext4 partition: used without --partition"
mbr=$T/mbr.img
img_new "$mbr" $((48 * MiB))
printf 'label: dos\nstart=2048, size=81920, type=83\n' | sfdisk -q "$mbr" >/dev/null 2>&1 ||
  fail "sfdisk dos failed"
dd if="$part2" of="$mbr" bs=512 seek=2048 conv=notrunc status=none
msnap=$(snap_create "$repo" "$mbr")
ok cairn -r "$repo" snapshot partitions "$msnap" --output json
assert_eq "scheme" mbr "$(json .scheme)"
assert_eq "type" 0x83 "$(json '.partitions[0].type')"
ok cairn -r "$repo" snapshot cat "$msnap" /etc/app/config
cmp -s "$OUT" "$src/etc/app/config" || fail "cat config from the MBR disk differs"

log "pass"
