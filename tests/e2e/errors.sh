#!/usr/bin/env bash
# Errors a user meets, each with its documented exit code (docs/cli.md) and a
# clear message, and nothing lost: wrong or missing passphrase (4), missing
# repository (3), usage errors (2), unknown snapshot or source (7), a
# non-empty restore target without --force (8), a truncated or missing pack (6).
source "$(dirname "$0")/lib.sh"

MiB=1048576
repo=$(repo_url repo)
img=$T/disk.img
make_image "$img" $((6 * MiB + 4321)) errors
init_repo "$repo"
snap=$(snap_create "$repo" "$img")

# ---- passphrases ---------------------------------------------------------------
CAIRN_PASSWORD=wrong-passphrase expect_exit 4 cairn -r "$repo" snapshot list
expect_stderr_matches 'pass(word|phrase)'
CAIRN_PASSWORD=wrong-passphrase expect_exit 4 cairn -r "$repo" snapshot restore "$snap" "$T/x.img"
[[ ! -e "$T/x.img" ]] || fail "restore with a wrong passphrase created the target"

# No passphrase and no terminal: exit 4, naming the variable to set. setsid
# detaches from any controlling terminal so cairn cannot prompt.
(
  unset CAIRN_PASSWORD
  expect_exit 4 setsid -w "$CAIRN_BIN" -r "$repo" snapshot list
  expect_stderr_contains CAIRN_PASSWORD
)

# The passphrase from a file (first line), by flag and by variable.
printf '%s\nsecond line is ignored\n' "$CAIRN_PASSWORD" >"$T/pw"
(
  unset CAIRN_PASSWORD
  ok cairn -r "$repo" --password-file "$T/pw" snapshot list
  expect_stdout_contains "$snap"
  CAIRN_PASSWORD_FILE=$T/pw ok cairn -r "$repo" snapshot list
  expect_stdout_contains "$snap"
  printf 'nope\n' >"$T/badpw"
  expect_exit 4 cairn -r "$repo" --password-file "$T/badpw" snapshot list
)

# The repository by variable, and file:// URLs.
CAIRN_REPOSITORY=$repo ok cairn snapshot list
expect_stdout_contains "$snap"
if [[ "$E2E_BACKEND" == local ]]; then
  ok cairn -r "file://$repo" snapshot list
  expect_stdout_contains "$snap"
fi

# ---- missing repository -------------------------------------------------------
nowhere=$(repo_url nowhere)
expect_exit 3 cairn -r "$nowhere" snapshot list
expect_stderr_contains "$nowhere"
# A place that holds something, but no repository: an empty directory, or a
# prefix with a foreign object.
empty=$(repo_url empty-dir)
if [[ "$E2E_BACKEND" == local ]]; then
  mkdir "$empty"
else
  echo "not a repository" >"$T/readme.txt"
  obj_put "$empty" readme.txt "$T/readme.txt"
fi
expect_exit 3 cairn -r "$empty" snapshot list
expect_exit 3 cairn -r "$nowhere" snapshot restore "$snap" "$T/y.img"
[[ ! -e "$T/y.img" ]] || fail "restore from a missing repository created the target"
assert_eq "objects at $nowhere after commands on a missing repository" 0 "$(obj_count "$nowhere")"
[[ "$E2E_BACKEND" != local || ! -e "$nowhere" ]] || fail "a command on a missing repository created $nowhere"
# init refuses an existing repository and leaves it alone.
cfg=$(obj_sha256 "$repo" config)
rc=0
cairn -r "$repo" repo init >"$OUT" 2>"$ERR" || rc=$?
((rc != 0)) || fail "repo init over an existing repository succeeded"
assert_eq "config after a refused re-init" "$cfg" "$(obj_sha256 "$repo" config)"
ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"

# ---- usage errors -----------------------------------------------------------------
expect_exit 2 cairn -r "$repo" snapshot list --no-such-flag
expect_stderr_contains --no-such-flag
expect_exit 2 cairn -r "$repo" snapshot frobnicate
expect_stderr_contains 'unknown command "frobnicate" for `cairn snapshot`' 'one of: create, list'
expect_exit 2 cairn bogus
expect_stderr_contains 'unknown command "bogus" for `cairn`'
expect_exit 2 cairn -r "$repo" key
expect_stderr_contains '`cairn key` needs a command (one of: list, add'
expect_exit 2 cairn -r "$repo" snapshot restore "$snap" # missing TARGET
expect_exit 2 cairn -r "$repo" snapshot show not-a-snapshot-id
expect_exit 2 cairn -r "$repo" --output yaml snapshot list
expect_exit 2 cairn -r "$repo" snapshot create "$img" --parent "$snap" --no-parent
ok cairn --version
[[ -s "$OUT" ]] || fail "cairn --version printed nothing"
ok cairn help snapshot restore
grep -q -- --force "$OUT" "$ERR" || fail "'cairn help snapshot restore' does not mention --force"

# ---- not found ------------------------------------------------------------------------
nosnap=snap-0123456789abcdef0
[[ "$nosnap" != "$snap" ]] || fail "the made-up id collides with a real one"
expect_exit 7 cairn -r "$repo" snapshot show "$nosnap"
expect_stderr_contains "$nosnap"
expect_exit 7 cairn -r "$repo" snapshot restore "$nosnap" "$T/z.img"
[[ ! -e "$T/z.img" ]] || fail "restore of an unknown snapshot created the target"
expect_exit 7 cairn -r "$repo" snapshot delete "$nosnap"
expect_exit 7 cairn -r "$repo" snapshot diff "$snap" "$nosnap"
expect_exit 7 cairn -r "$repo" snapshot create "$T/no-such-source.img"
expect_stderr_contains "$T/no-such-source.img"
ok cairn -r "$repo" --output json snapshot list
assert_eq "snapshots after the failed commands" 1 "$(json '(if type == "array" then . else .snapshots end) | length')"

# ---- restore targets ----------------------------------------------------------------------
# A non-empty existing file is refused without --force, and left untouched.
tgt=$T/target.img
rand_stream target-junk $((6 * MiB + 4321)) >"$tgt"
sum=$(sha256sum <"$tgt")
expect_exit 8 cairn -r "$repo" snapshot restore "$snap" "$tgt"
expect_stderr_contains --force
assert_eq "checksum of the refused target" "$sum" "$(sha256sum <"$tgt")"
# With --force it is overwritten exactly, zero blocks and holes included.
ok cairn -r "$repo" snapshot restore "$snap" "$tgt" --force
cmp "$img" "$tgt" || fail "restore --force over a non-empty file did not reproduce the image"
# An existing empty file is fine without --force.
: >"$T/empty-target"
ok cairn -r "$repo" snapshot restore "$snap" "$T/empty-target"
cmp "$img" "$T/empty-target" || fail "restore onto an existing empty file differs"
# A target in a missing directory is an error, not a crash.
rc=0
cairn -r "$repo" snapshot restore "$snap" "$T/no/such/dir/t.img" >"$OUT" 2>"$ERR" || rc=$?
((rc != 0 && rc < 128)) || fail "restore into a missing directory: expected an error exit (1..127), got $rc; stderr: $(cat "$ERR")"

# ---- damaged packs -------------------------------------------------------------------------
trunc=$(repo_url trunc)
repo_copy "$repo" "$trunc"
pack=$(obj_keys "$trunc" packs/ | head -n1)
obj_truncate "$trunc" "$pack" $(($(obj_size "$trunc" "$pack") - 1000))
expect_exit 6 cairn -r "$trunc" repo check
expect_output_contains "$(basename "$pack")"
expect_exit 6 cairn -r "$trunc" repo check --read-data
expect_exit 6 cairn -r "$trunc" snapshot restore "$snap" "$T/trunc.img"
expect_stderr_contains "$snap"

nopack=$(repo_url nopack)
repo_copy "$repo" "$nopack"
pack=$(obj_keys "$nopack" packs/ | head -n1)
obj_rm "$nopack" "$pack"
expect_exit 6 cairn -r "$nopack" repo check
expect_output_contains "$(basename "$pack")"

# The original repository is intact.
ok cairn -r "$repo" repo check --read-data
restore_cmp "$repo" "$snap" "$img"
