#!/usr/bin/env bash
# Keys: several passphrases open one repository; removing one locks it out;
# passwd replaces one; the last key cannot be removed.
source "$(dirname "$0")/lib.sh"

repo=$(repo_url repo)
img=$T/disk.img
make_image "$img" $((3 * 1048576)) keys
init_repo "$repo"
snap=$(snap_create "$repo" "$img")
p1=$CAIRN_PASSWORD
p2="second passphrase"
p3="third passphrase"

key_files() { obj_keys "$repo" keys/ | sed 's|^keys/||' | sort; }
# key_count: keys per `key list --output json` (a list, or {"keys": [...]}).
key_count() {
  ok cairn -r "$repo" --output json key list
  json '(if type == "array" then . else .keys end) | length'
}

assert_eq "keys after init" 1 "$(key_count)"
k1=$(key_files)
assert_eq "key list names the key file" "$k1" "$(json '(if type == "array" then . else .keys end) | .[0].id')"

CAIRN_NEW_PASSWORD=$p2 ok cairn -r "$repo" key add
assert_eq "keys after key add" 2 "$(key_count)"
assert_eq "key files after key add" 2 "$(key_files | wc -l)"
k2=$(key_files | grep -vx "$k1")

CAIRN_PASSWORD=$p2 ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"
CAIRN_PASSWORD=$p1 ok cairn -r "$repo" snapshot list
(CAIRN_PASSWORD=$p2 restore_cmp "$repo" "$snap" "$img")

# Remove the first key using the second passphrase.
CAIRN_PASSWORD=$p2 ok cairn -r "$repo" key remove "$k1"
assert_eq "key files after removing $k1" "$k2" "$(key_files)"
CAIRN_PASSWORD=$p1 expect_exit 4 cairn -r "$repo" snapshot list
CAIRN_PASSWORD=$p2 ok cairn -r "$repo" snapshot list

# Unknown key id: 7. The last key: refused (8), still there.
CAIRN_PASSWORD=$p2 expect_exit 7 cairn -r "$repo" key remove 0123456789abcdef
CAIRN_PASSWORD=$p2 expect_exit 8 cairn -r "$repo" key remove "$k2"
assert_eq "key files after refusing to remove the last key" "$k2" "$(key_files)"

# passwd: p2 → p3 (from a file this time).
printf '%s\n' "$p3" >"$T/newpw"
CAIRN_PASSWORD=$p2 ok cairn -r "$repo" key passwd --new-password-file "$T/newpw"
CAIRN_PASSWORD=$p2 expect_exit 4 cairn -r "$repo" snapshot list
CAIRN_PASSWORD=$p3 ok cairn -r "$repo" snapshot list
expect_stdout_contains "$snap"
(CAIRN_PASSWORD=$p3 restore_cmp "$repo" "$snap" "$img")
assert_eq "keys after passwd" 1 "$(CAIRN_PASSWORD=$p3 key_count)"

# Wrong passphrase for key add: 4, nothing added.
CAIRN_PASSWORD=$p1 CAIRN_NEW_PASSWORD=x expect_exit 4 cairn -r "$repo" key add
assert_eq "key files after a refused key add" 1 "$(key_files | wc -l)"
CAIRN_PASSWORD=$p3 ok cairn -r "$repo" repo check --read-data
