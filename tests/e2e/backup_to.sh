#!/usr/bin/env bash
# cairn backup SOURCE --to URL --to URL: the seed's backup procedure in one
# command. The snapshot lands in the primary (repo_url: local or S3), is
# copied to two local targets (each with its own passphrase, given by
# --to-password-file in --to order), restores byte-exact from each, and is
# gone from the primary afterwards; --keep-local keeps it; a target that fails
# (wrong passphrase, no repository there) makes the command fail naming that
# target, while the good targets get their copy and the primary keeps the
# snapshot. A volume of the running daemon backs up the same way, with the
# daemon's repository as the primary.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"

MiB=1048576
primary=$(repo_url primary)
t1=$T/region-1
t2=$T/region-2
echo "first target passphrase" >"$T/t1.pass"
echo "second target passphrase" >"$T/t2.pass"
echo "not the passphrase" >"$T/wrong.pass"

img=$T/disk.img
make_image "$img" $((12 * MiB + 777)) backup-to
init_repo "$primary"
CAIRN_PASSWORD="first target passphrase" init_repo "$t1"
CAIRN_PASSWORD="second target passphrase" init_repo "$t2"

# --- backup to two targets: copied, verified, deleted from the primary --------
ok cairn -r "$primary" --output json backup "$img" --to "$t1" --to "$t2" \
  --to-password-file "$T/t1.pass" --to-password-file "$T/t2.pass" \
  --description "nightly" --tag app=db
snap=$(json .snapshot_id)
[[ "$snap" == snap-* ]] || fail "backup printed no snapshot id: $(cat "$OUT")"
assert_eq "size" "$(fsize "$img")" "$(json .size)"
assert_eq "targets reported" 2 "$(json '.targets | length')"
for i in 0 1; do
  assert_eq "target $i status" copied "$(json ".targets[$i].status")"
  assert_eq "target $i verified" true "$(json ".targets[$i].verified")"
  assert_between "target $i bytes sent" 1 $((20 * MiB)) "$(json ".targets[$i].bytes_sent")"
done
assert_eq "deleted from the primary" true "$(json .deleted_from_primary)"
expect_exit 7 cairn -r "$primary" snapshot show "$snap"

CAIRN_PASSWORD="first target passphrase" restore_cmp "$t1" "$snap" "$img"
CAIRN_PASSWORD="second target passphrase" restore_cmp "$t2" "$snap" "$img"
CAIRN_PASSWORD="second target passphrase" ok cairn -r "$t2" --output json snapshot show "$snap"
assert_eq "description kept in the target" nightly "$(json .description)"
assert_eq "tag kept in the target" db "$(json .tags.app)"

# --- --keep-local: the primary keeps it; text mode prints the id --------------
img_rand "$img" $((2 * MiB)) $((1 * MiB)) backup-to-v2
ok cairn -r "$primary" backup "$img" --to "$t1" --to-password-file "$T/t1.pass" --keep-local
snap2=$(head -n 1 "$OUT")
[[ "$snap2" == snap-* && "$snap2" != "$snap" ]] || fail "second backup printed '$snap2'"
expect_stderr_contains "copy to" "verified" "kept in"
restore_cmp "$primary" "$snap2" "$img"
CAIRN_PASSWORD="first target passphrase" restore_cmp "$t1" "$snap2" "$img"

# --- a target with the wrong passphrase: non-zero, named; primary keeps it ----
img_rand "$img" $((5 * MiB)) $((1 * MiB)) backup-to-v3
expect_exit 4 cairn -r "$primary" --output json backup "$img" --to "$t1" --to "$t2" \
  --to-password-file "$T/t1.pass" --to-password-file "$T/wrong.pass"
snap3=$(json .snapshot_id)
assert_eq "first target" copied "$(json '.targets[0].status')"
assert_eq "second target (wrong passphrase)" failed "$(json '.targets[1].status')"
assert_eq "kept in the primary after a failure" false "$(json .deleted_from_primary)"
expect_stderr_contains "$t2" "kept in the primary"
restore_cmp "$primary" "$snap3" "$img"
CAIRN_PASSWORD="first target passphrase" restore_cmp "$t1" "$snap3" "$img"

# --- a target that is not a repository: non-zero, primary keeps it ------------
expect_exit 3 cairn -r "$primary" backup "$img" --to "$T/nowhere" \
  --to-password-file "$T/t1.pass"
snap4=$(head -n 1 "$OUT")
[[ "$snap4" == snap-* ]] || fail "a failed backup printed '$snap4' on stdout, not the id it kept"
expect_stderr_contains "$T/nowhere" "backup $snap4" "kept in the primary"
restore_cmp "$primary" "$snap4" "$img"

# --- usage errors ---------------------------------------------------------------
expect_exit 2 cairn -r "$primary" backup "$img"
expect_exit 2 cairn -r "$primary" backup "$img" --to "$t1" --to "$t2" \
  --to-password-file "$T/t1.pass" --to-password-file "$T/t2.pass" --to-password-file "$T/t2.pass"
expect_stderr_contains "--to-password-file"

# --- a volume of the daemon: no -r, the daemon's repository is the primary ----
if command -v qemu-io >/dev/null; then
  REPO=$primary
  start_daemon
  vol=$(volume_create --size 8M)
  uri=$(volume_attach "$vol")
  ok qemu-io -f raw -c "write -P 0x5a 1M 2M" "$uri"
  ok cairn --output json backup "$vol" --to "$t1" --to-password-file "$T/t1.pass" --tag kind=vol
  vsnap=$(json .snapshot_id)
  assert_eq "source of a volume backup" "$vol" "$(json .source)"
  assert_eq "volume backup deleted from the daemon's repository" true "$(json .deleted_from_primary)"
  expect_exit 7 cairn -r "$primary" snapshot show "$vsnap"
  { head -c $((1 * MiB)) /dev/zero; head -c $((2 * MiB)) /dev/zero | tr '\0' '\132'; head -c $((5 * MiB)) /dev/zero; } >"$T/vol.expected"
  CAIRN_PASSWORD="first target passphrase" restore_cmp "$t1" "$vsnap" "$T/vol.expected"
  # -r naming another repository than the daemon's is refused before anything is made.
  CAIRN_PASSWORD="first target passphrase" expect_exit 2 cairn -r "$t1" backup "$vol" --to "$t2"
  expect_stderr_contains "leave -r out"
  stop_daemon
else
  log "qemu-io missing: the volume case is not run"
fi

check_clean "$primary"
CAIRN_PASSWORD="first target passphrase" check_clean "$t1" --read-data
CAIRN_PASSWORD="second target passphrase" check_clean "$t2" --read-data
