#!/usr/bin/env bash
# snapshot_export: `cairn snapshot export` of an ext4 snapshot equals a tar of
# the source tree (names, content, mode incl. setuid/sticky, numeric owner,
# mtime, symlink targets, hard links, xattrs) once both are extracted with
# GNU tar; tar.zst and --path subsets; a crafted filesystem (a symlink to "/"
# and a directory under the same name, names "a/b" and "..") cannot make the
# extracted archive write outside its directory, and the skipped entries are
# named in warnings, counted, and make the exit status 10 (0 with
# --allow-skipped); a 1 GiB sparse file is stored sparse (a small archive
# that GNU tar restores with equal bytes and few blocks); an XFS snapshot
# gives "unsupported filesystem: xfs".
source "$(dirname "$0")/lib.sh"

need_root "owners 1234:5678, setuid modes and device nodes in the source tree"
for tool in mkfs.ext4 debugfs dumpe2fs tar zstd setfattr getfattr; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/setup.sh)"
done
MiB=1048576

# ------------------------------------------------------------- source tree
# mkfs.ext4 -d keeps whole seconds of mtime only, so every time is whole.
src=$T/tree
mkdir -p "$src"/{bin,etc/app,var/lib/app/data,tmp,empty}
echo db1 >"$src/etc/hostname"
chmod 0640 "$src/etc/hostname"
text_stream export-conf 5000 >"$src/etc/app/config"
rand_stream export-big $((3 * MiB)) >"$src/var/lib/app/data/big.bin"
truncate -s $((8 * MiB)) "$src/var/lib/app/data/sparse.img"
rand_stream export-sparse 4096 | write_at "$src/var/lib/app/data/sparse.img" $((4 * MiB))
rand_stream export-su 20000 >"$src/bin/su"
chmod 4755 "$src/bin/su"
chmod 1777 "$src/tmp"
: >"$src/tmp/empty-file"
chown -R 1234:5678 "$src/var/lib/app" "$src/etc/app"
chown 1234:5678 "$src/tmp/empty-file"
ln -s hostname "$src/etc/relative-link"
ln -s /etc/hostname "$src/etc/absolute-link"
ln -s / "$src/root-link"
ln -s nowhere/at/all "$src/dangling-link"
ln "$src/etc/hostname" "$src/etc/hostname.hard"
ln "$src/var/lib/app/data/big.bin" "$src/big-hardlink"  # sorts before var/: the first name
ln "$src/var/lib/app/data/big.bin" "$src/var/lib/app/big.again"
mkfifo "$src/var/lib/app/fifo"
mknod "$src/etc/null" c 1 3
setfattr -n user.k -v v "$src/etc/app/config"
setfattr -n user.bin -v 0x00ff01 "$src/var/lib/app/data/big.bin"
find "$src" -mindepth 1 ! -type d -exec touch -h -d "2021-03-04 05:06:07" {} +
touch -d "2019-12-31 23:59:59" "$src/etc/hostname"
find "$src" -mindepth 1 -type d -exec touch -d "2020-06-07 08:09:10" {} +

img=$T/fs.img
mkfs.ext4 -q -F -d "$src" "$img" 64M >"$T/mkfs.err" 2>&1 || fail "mkfs.ext4 -d failed: $(cat "$T/mkfs.err")"

repo=$(repo_url repo)
init_repo "$repo"
snap=$(snap_create "$repo" "$img")

# ---------------------------------------------------------------- helpers

# describe DIR: one line per entry (lost+found aside): name, type, mode,
# owner, size (files), mtime, symlink target.
describe() {
  (cd "$1" && find . -mindepth 1 ! -path ./lost+found ! -path './lost+found/*' \
    -printf '%P|%y|%m|%U:%G|%s|%T@|%l\n') |
    awk -F'|' -v OFS='|' '{ if ($2 != "f") $5 = ""; print }' | sort
}
# hardlink_groups DIR: the names sharing an inode, one group per line.
hardlink_groups() {
  (cd "$1" && find . -type f -links +1 -printf '%i %P\n') | sort -k2 |
    awk '{ g[$1] = g[$1] " " $2 } END { for (i in g) print g[i] }' | sort
}
# xattrs_of DIR: the user.* xattrs of every entry.
xattrs_of() {
  local d=$1 p
  while IFS= read -r p; do
    getfattr -h --absolute-names -d -m '^user\.' -e hex "$d/$p" 2>/dev/null | sed "s|^# file: $d/|# |"
  done < <(cd "$d" && find . -mindepth 1 ! -path './lost+found*' -printf '%P\n' | sort)
}
# compare_trees WANT GOT WHAT: fails naming the first difference.
compare_trees() {
  local want=$1 got=$2 what=$3
  describe "$want" >"$T/want.desc"
  describe "$got" >"$T/got.desc"
  diff "$T/want.desc" "$T/got.desc" >"$T/desc.diff" ||
    fail "$what: entries differ (name|type|mode|owner|size|mtime|link; < tar of the tree, > export):
$(head -n 30 "$T/desc.diff")"
  local p
  while IFS= read -r p; do
    cmp "$want/$p" "$got/$p" || fail "$what: content of $p differs"
  done < <(cd "$want" && find . -type f ! -path './lost+found/*' -printf '%P\n')
  hardlink_groups "$want" >"$T/want.links"
  hardlink_groups "$got" >"$T/got.links"
  diff "$T/want.links" "$T/got.links" >"$T/links.diff" ||
    fail "$what: hard link groups differ: $(cat "$T/links.diff")"
  xattrs_of "$want" >"$T/want.xattr"
  xattrs_of "$got" >"$T/got.xattr"
  diff "$T/want.xattr" "$T/got.xattr" >"$T/xattr.diff" ||
    fail "$what: xattrs differ: $(head -n 20 "$T/xattr.diff")"
}
extract() {  # extract ARCHIVE DIR [TAR FLAGS...]
  local archive=$1 dir=$2
  shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$archive" -C "$dir" "$@" 2>"$T/tar.err" ||
    fail "extracting $archive failed: $(cat "$T/tar.err")"
  [[ ! -s "$T/tar.err" ]] || fail "tar warned while extracting $archive: $(cat "$T/tar.err")"
}

# ------------------------------------------------- full export vs tar of TREE
tar --xattrs -czf "$T/reference.tar.gz" -C "$src" . || fail "tar of the source tree failed"
extract "$T/reference.tar.gz" "$T/want"

ok cairn -r "$repo" snapshot export "$snap" -o "$T/export.tar.gz"
expect_stderr_contains "exported $snap" "files" "blocks read from the repository"
gzip -t "$T/export.tar.gz" || fail "export.tar.gz is not a valid gzip stream"
tar -tzf "$T/export.tar.gz" >"$T/names" || fail "tar -t of the export failed"
grep -E '^/|(^|/)\.\.(/|$)|^\./' "$T/names" && fail "the export holds absolute, ./ or .. names"
extract "$T/export.tar.gz" "$T/got"
compare_trees "$T/want" "$T/got" "export of $snap"
log "full export equals the tar of the source tree"

# The archive's own metadata: the first name of big.bin is big-hardlink.
tar -tvzf "$T/export.tar.gz" --numeric-owner >"$T/verbose" || fail "tar -tv failed"
grep -qE '^hrw-r--r-- 1234/5678 .* var/lib/app/big.again link to big-hardlink$' "$T/verbose" ||
  fail "expected var/lib/app/big.again as a hard link to big-hardlink: $(grep big "$T/verbose")"
grep -qE '^-rwsr-xr-x 0/0 +20000 .* bin/su$' "$T/verbose" ||
  fail "bin/su: expected -rwsr-xr-x 0/0 20000: $(grep bin/su "$T/verbose")"

# JSON summary, and no temporary file left beside the archive.
ok cairn -r "$repo" --output json snapshot export "$snap" -o "$T/export2.tar"
assert_eq "format from the .tar suffix" tar "$(json .format)"
assert_eq "skipped entries" 0 "$(json .skipped)"
assert_eq "hard link members" 3 "$(json .hardlinks)"
assert_eq "file data bytes" $((4 + 5000 + 3 * MiB + 8 * MiB + 20000)) "$(json .bytes)"
assert_eq "archive_bytes" "$(fsize "$T/export2.tar")" "$(json .archive_bytes)"
full_blocks=$(json .blocks_read)
tar -tf "$T/export2.tar" >/dev/null || fail "export2.tar (plain tar) does not list"
ls "$T" | grep -q cairn-tmp && fail "a temporary file was left: $(ls "$T")"

# An existing file is refused without --force, replaced with it.
expect_exit 8 cairn -r "$repo" snapshot export "$snap" -o "$T/export2.tar"
expect_stderr_contains "exists" "--force"
ok cairn -r "$repo" snapshot export "$snap" --path /etc -o "$T/export2.tar" --force
tar -tf "$T/export2.tar" | grep -q '^var' && fail "--force did not replace export2.tar"

# ------------------------------------------------------------ tar.zst, stdout
ok cairn -r "$repo" snapshot export "$snap" --format tar.zst -o "$T/export.out"
zstd -tq "$T/export.out" || fail "--format tar.zst did not write a zstd stream"
extract "$T/export.out" "$T/got-zst" --zstd
compare_trees "$T/want" "$T/got-zst" "tar.zst export of $snap"

"$CAIRN_BIN" -r "$repo" snapshot export "$snap" --path /etc/app >"$T/stdout.tgz" 2>"$T/stdout.err" ||
  fail "export to stdout failed: $(cat "$T/stdout.err")"
tar -tzf "$T/stdout.tgz" | sort >"$T/stdout.names"
printf '%s\n' etc/app/ etc/app/config >"$T/want.names"
diff "$T/want.names" "$T/stdout.names" || fail "export --path /etc/app to stdout: unexpected names"

# ------------------------------------------------------------------ --path
ok cairn -r "$repo" --output json snapshot export "$snap" --path /var/lib/app --path etc/ \
  --path /etc/app -o "$T/subset.tar.gz"
small_blocks=$(json .blocks_read)
tar -tzf "$T/subset.tar.gz" >"$T/subset.names"
bad=$(grep -vE '^(etc|var/lib/app)(/|$)' "$T/subset.names" || true)
[[ -z "$bad" ]] || fail "--path subset holds other names: $bad"
grep -qx 'var/' "$T/subset.names" && fail "--path /var/lib/app must not add var/ itself"
[[ $(grep -cx 'etc/app/config' "$T/subset.names") == 1 ]] || fail "etc/app/config must appear once"
extract "$T/subset.tar.gz" "$T/sub"
# big.bin's first name (big-hardlink) is outside the subset: here it is a file.
cmp "$T/sub/var/lib/app/data/big.bin" "$src/var/lib/app/data/big.bin" ||
  fail "var/lib/app/data/big.bin in the --path export differs"
[[ $(stat -c %i "$T/sub/var/lib/app/data/big.bin") == $(stat -c %i "$T/sub/var/lib/app/big.again") ]] ||
  fail "big.bin and big.again are not one inode in the --path export"
ok cairn -r "$repo" --output json snapshot export "$snap" --path /etc/hostname -o "$T/one.tar"
assert_eq "files of --path /etc/hostname" 1 "$(json .files)"
one_blocks=$(json .blocks_read)
((one_blocks < full_blocks)) ||
  fail "exporting one file read $one_blocks blocks, the whole tree $full_blocks: expected fewer"
log "blocks read: whole tree $full_blocks, --path subset $small_blocks, one file $one_blocks"
expect_exit 7 cairn -r "$repo" snapshot export "$snap" --path /no/such -o "$T/none.tar"
expect_stderr_contains "no such file"
[[ -e "$T/none.tar" ]] && fail "a failed export left $T/none.tar"
expect_exit 2 cairn -r "$repo" snapshot export "$snap" --path /etc/../.. -o "$T/none.tar"
expect_stderr_contains '".." is not allowed'
expect_exit 2 cairn -r "$repo" snapshot export "$snap" --format zip -o "$T/none.tar"
expect_stderr_contains "--format zip"

# ------------------------------------------------------- crafted filesystem
# patch_name IMAGE DIR OLD NEW: renames an entry of DIR in place by editing
# the directory block's bytes (same length; an image without metadata_csum
# and dir_index, so no checksum or hash notices).
patch_name() {
  local image=$1 dir=$2 old=$3 new=$4 bs b off done=
  bs=$(dumpe2fs -h "$image" 2>/dev/null | awk -F: '/^Block size/ { gsub(/ /, "", $2); print $2 }')
  for b in $(debugfs -R "blocks $dir" "$image" 2>/dev/null); do
    dd if="$image" of="$T/dirblock" bs="$bs" skip="$b" count=1 status=none
    off=$(grep -obUaF -- "$old" "$T/dirblock" | head -n 1 | cut -d: -f1)
    if [[ -n "$off" ]]; then
      printf '%s' "$new" | dd of="$image" bs=1 seek=$((b * bs + off)) conv=notrunc status=none
      done=1
      break
    fi
  done
  [[ -n "$done" ]] || fail "patch_name: $old not found in the blocks of $dir in $image"
}
marker=pwned-$$-$RANDOM
ctree=$T/ctree
mkdir -p "$ctree/top/evi1"
echo "written through the symlink?" >"$ctree/top/evi1/$marker"
ln -s / "$ctree/top/evil"
echo slash >"$ctree/top/aQb"
echo dotdot >"$ctree/top/QQ"
mkdir -p "$ctree/top/EE"
echo up >"$ctree/top/EE/$marker-2"
echo fine >"$ctree/top/fine"
# The same pair the other way round (which one is kept depends on the order
# mkfs.ext4 -d wrote them; between both directories each case occurs).
mkdir -p "$ctree/top2/evil"
echo "written through the symlink?" >"$ctree/top2/evil/$marker-3"
ln -s / "$ctree/top2/evi1"
cimg=$T/crafted.img
mkfs.ext4 -q -F -b 4096 -O ^metadata_csum,^dir_index -d "$ctree" "$cimg" 16M >"$T/mkfs.err" 2>&1 ||
  fail "mkfs.ext4 of the crafted tree failed: $(cat "$T/mkfs.err")"
patch_name "$cimg" /top evi1 evil  # a directory and a symlink to / both named "evil"
patch_name "$cimg" /top aQb a/b    # a name with a slash
patch_name "$cimg" /top QQ ..      # a second ".." (a file)
patch_name "$cimg" /top EE ..      # a third ".." (a directory)
patch_name "$cimg" /top2 evi1 evil
debugfs -R "ls -l /top" "$cimg" >"$T/crafted.ls" 2>/dev/null
[[ $(awk '$NF == "evil"' "$T/crafted.ls" | wc -l) == 2 && $(awk '$NF == ".."' "$T/crafted.ls" | wc -l) == 3 &&
  $(awk '$NF == "a/b"' "$T/crafted.ls" | wc -l) == 1 ]] ||
  fail "crafting failed: /top should list evil twice, .. three times and a/b: $(cat "$T/crafted.ls")"
csnap=$(snap_create "$repo" "$cimg")
# Skipped entries: the archive is written, but the exit status is 10 and the
# last line says how many were left out (5: the second "evil" in /top and in
# /top2, "a/b", the first ".." as a relative reference, the second as a
# repeated name); --allow-skipped exits 0 with the same archive.
expect_exit 10 cairn -r "$repo" snapshot export "$csnap" -o "$T/crafted.tar"
expect_stderr_contains 'skipped "evil"' "in directory /top (inode" "the name repeats"
expect_stderr_contains "\"a/b\" contains '/'"
expect_stderr_contains 'name ".." is a relative directory reference'
last=$(tail -n 1 "$ERR")
[[ "$last" == "archive written, 5 entries skipped (see warnings above): $T/crafted.tar"* ]] ||
  fail "expected the last line to say the archive was written with 5 entries skipped, got: $last"
[[ -s "$T/crafted.tar" ]] || fail "the partial export did not write $T/crafted.tar"
ok cairn -r "$repo" --output json snapshot export "$csnap" -o "$T/crafted2.tar" --allow-skipped
assert_eq "skipped entries with --allow-skipped" 5 "$(json .skipped)"
expect_stderr_contains 'skipped "evil"'
grep -q "archive written" "$ERR" && fail "--allow-skipped still printed the partial-archive line"
cmp <(tar -tf "$T/crafted.tar") <(tar -tf "$T/crafted2.tar") ||
  fail "--allow-skipped wrote other members than the exit-10 export"
tar -tf "$T/crafted.tar" >"$T/crafted.names"
grep -E '(^|/)\.\.(/|$)|^/|a/b' "$T/crafted.names" && fail "the crafted export holds an unsafe name"
grep -qx 'top/fine' "$T/crafted.names" || fail "top/fine is missing from the crafted export"
expect_stderr_contains "in directory /top2 (inode"
[[ $(grep -cE '^top/evil/?$' "$T/crafted.names") == 1 ]] || fail "top/evil must appear exactly once"
[[ $(grep -cE '^top2/evil/?$' "$T/crafted.names") == 1 ]] || fail "top2/evil must appear exactly once"
jail=$T/jail
mkdir -p "$jail/out"
touch "$jail/before"
(cd "$jail/out" && tar -xpf "$T/crafted.tar") 2>"$T/tar.err" || fail "extracting the crafted export failed: $(cat "$T/tar.err")"
for p in "/$marker" "/$marker-2" "/$marker-3" "/top" "$jail/$marker" "$jail/$marker-2" "$T/$marker-2"; do
  [[ -e "$p" ]] && fail "extracting the crafted export wrote $p outside its directory"
done
outside=$(find "$jail" -mindepth 1 ! -path "$jail/out" ! -path "$jail/out/*" ! -path "$jail/before")
[[ -z "$outside" ]] || fail "extraction wrote outside $jail/out: $outside"
log "crafted filesystem: unsafe names skipped, nothing outside the extraction directory"

# ------------------------------------------------------------ sparse file
# 1 GiB with two data regions (64 KiB at 100 MiB, 1 MiB + 5 bytes at 700
# MiB), ending in a hole: the archive holds only the data, and GNU tar
# restores the same bytes as a sparse file.
stree=$T/stree
mkdir -p "$stree"
truncate -s $((1024 * MiB)) "$stree/huge.img"
rand_stream export-s1 $((64 * 1024)) | write_at "$stree/huge.img" $((100 * MiB))
rand_stream export-s2 $((MiB + 5)) | write_at "$stree/huge.img" $((700 * MiB))
simg=$T/sparse-fs.img
mkfs.ext4 -q -F -d "$stree" "$simg" 64M >"$T/mkfs.err" 2>&1 ||
  fail "mkfs.ext4 of the sparse tree failed: $(cat "$T/mkfs.err")"
ssnap=$(snap_create "$repo" "$simg")
ok cairn -r "$repo" --output json snapshot export "$ssnap" -o "$T/sparse.tar"
assert_eq "sparse files" 1 "$(json .sparse_files)"
assert_eq "file bytes (the sparse file's size)" $((1024 * MiB)) "$(json .bytes)"
size=$(fsize "$T/sparse.tar")
((size < 3 * MiB)) || fail "the archive of a 1 GiB sparse file is $size bytes: expected under 3 MiB"
rm -rf "$T/sx" && mkdir -p "$T/sx"
tar -xf "$T/sparse.tar" -C "$T/sx" 2>"$T/tar.err" || fail "GNU tar -xf of the sparse archive failed: $(cat "$T/tar.err")"
[[ ! -s "$T/tar.err" ]] || fail "GNU tar warned on the sparse archive: $(cat "$T/tar.err")"
assert_eq "restored size" $((1024 * MiB)) "$(fsize "$T/sx/huge.img")"
cmp "$stree/huge.img" "$T/sx/huge.img" || fail "the restored sparse file differs from the source"
used=$(fallocated "$T/sx/huge.img")
((used < 8 * MiB)) || fail "the restored sparse file uses $used bytes on disk: expected under 8 MiB"
log "1 GiB sparse file: $size-byte archive, restored with equal bytes using $used bytes"

# ---------------------------------------------------------------- not ext
if command -v mkfs.xfs >/dev/null; then
  ximg=$T/xfs.img
  truncate -s 300M "$ximg"
  mkfs.xfs -q -f "$ximg" >"$T/mkfs.err" 2>&1 || fail "mkfs.xfs failed: $(cat "$T/mkfs.err")"
  xsnap=$(snap_create "$repo" "$ximg")
  expect_exit 2 cairn -r "$repo" snapshot export "$xsnap" -o "$T/xfs.tar.gz"
  expect_stderr_contains "unsupported filesystem: xfs"
  [[ ! -e "$T/xfs.tar.gz" ]] || fail "a refused export left $T/xfs.tar.gz"
else
  log "mkfs.xfs not installed: XFS case not run"
fi
