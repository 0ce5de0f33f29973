#!/usr/bin/env bash
# `cairn serve` and `cairn volume …` with real NBD clients: without a daemon
# the CLI says how to start one; a second daemon on the same data directory
# is refused naming the first one's pid; volumes are created, listed, shown,
# attached (qemu-img converts an image in and out byte-exact through the
# printed URI), only attached volumes are exported, grown online, refused
# deletion while attached, detached and deleted; an encrypted volume stores
# no plaintext; SIGTERM stops the daemon cleanly and a restart finds every
# volume, attachment and byte again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-img qemu-io nbdinfo curl

MiB=1048576
init_repo "$REPO"

# No daemon: a clear message, exit 1.
expect_exit 1 cairn volume list
expect_stderr_contains "daemon not running at $CAIRN_API_SOCKET" "cairn serve"

start_daemon
log "daemon $DAEMON_PID serving $DATA"

# A second daemon on the same directory is refused (exit 5), naming the pid.
expect_exit 5 cairn -r "$REPO" serve --data-dir "$DATA" --nbd-listen 127.0.0.1:0
expect_stderr_contains "in use by cairn serve (pid $DAEMON_PID)"
ok cairn volume list  # the first one still answers

# Create: defaults of gp3, tags; bad requests name the flag.
vol=$(volume_create --size 64M --tag env=test --tag owner=e2e)
assert_eq "state of a new volume" available "$(json .state)"
assert_eq "gp3 default IOPS" 3000 "$(json .iops)"
assert_eq "gp3 default throughput" 125 "$(json .throughput)"
assert_eq "size" $((64 * MiB)) "$(json .size)"
assert_eq "tag" test "$(json .tags.env)"
expect_exit 2 cairn volume create --size 64M --volume-type io2
expect_stderr_contains "--iops"
expect_exit 2 cairn volume create --size 1000
expect_exit 2 cairn volume create --size 1G --volume-type gp9
expect_stderr_contains "gp9"
enc=$(volume_create --size 32M --volume-type io2 --iops 1000 --encrypted)
assert_eq "encrypted flag" true "$(json .encrypted)"

ok cairn volume list
expect_stdout_contains "$vol" "$enc" "attachments" "available"
ok cairn --output json volume list
assert_eq "volumes listed" 2 "$(json length)"
ok cairn volume show "$vol"
expect_stdout_contains "gp3, 3000 IOPS, 125 MiB/s" "env=test"
expect_exit 7 cairn volume show vol-0123456789abcdef0
expect_exit 2 cairn volume show vol-nothex

# Only attached volumes are exported.
port_uri=$(curl -sf --unix-socket "$CAIRN_API_SOCKET" http://cairn/v1/daemon | jq -r .nbd_uri_example)
expect_exit 1 nbdinfo "${port_uri%/VOLUME}/$vol"
uri=$(volume_attach "$vol")
[[ "$uri" == nbd://127.0.0.1:*/"$vol" ]] || fail "attach printed '$uri', expected nbd://127.0.0.1:PORT/$vol"
ok cairn --output json volume show "$vol"
assert_eq "state after attach" in-use "$(json .state)"
assert_eq "attachment uri" "$uri" "$(json '.attachments[0].uri')"
ok nbdinfo --size "$uri"
assert_eq "exported size" $((64 * MiB)) "$(cat "$OUT")"

# qemu-img: an image in and out, byte-exact.
make_image "$T/in.raw" $((64 * MiB)) basics
ok qemu-img convert -n -f raw -O raw "$T/in.raw" "$uri"
ok qemu-img compare -f raw -F raw "$T/in.raw" "$uri"
ok qemu-img convert -f raw -O raw "$uri" "$T/out.raw"
cmp "$T/in.raw" "$T/out.raw" || fail "the image read back through $uri differs from the one written"

# Delete is refused while attached (exit 8), and the volume stays intact.
expect_exit 8 cairn volume delete "$vol"
expect_stderr_contains "attached" "volume detach $vol"
ok qemu-img compare -f raw -F raw "$T/in.raw" "$uri"

# Grow online; clients see the new size on reconnect; shrinking is refused.
ok cairn --output json volume resize "$vol" --size 96M
assert_eq "size after resize" $((96 * MiB)) "$(json .size)"
ok nbdinfo --size "$uri"
assert_eq "exported size after resize" $((96 * MiB)) "$(cat "$OUT")"
expect_exit 2 cairn volume resize "$vol" --size 32M
expect_stderr_contains "only grow"
ok qemu-img convert -f raw -O raw "$uri" "$T/grown.raw"
cmp -n $((64 * MiB)) "$T/in.raw" "$T/grown.raw" || fail "growing changed the first 64 MiB"
cmp -i $((64 * MiB)):0 -n $((32 * MiB)) "$T/grown.raw" /dev/zero || fail "the grown range does not read as zeros"

# Encrypted: the bytes on disk are not the plaintext.
enc_uri=$(volume_attach "$enc")
img_text "$T/enc.raw" 0 $((4 * MiB)) enc-marker
ok qemu-img convert -n -f raw -O raw "$T/enc.raw" "$enc_uri"
ok qemu-img compare -f raw -F raw "$T/enc.raw" "$enc_uri"
marker=$(head -c 40 "$T/enc.raw")
if grep -qF "$marker" "$DATA/volumes/$enc/data"; then
  fail "the data file of encrypted volume $enc holds plaintext ('$marker')"
fi

# SIGTERM: clean stop; a restart finds volumes, attachments and data.
stop_daemon
start_daemon
ok cairn --output json volume show "$vol"
assert_eq "state after restart" in-use "$(json .state)"
uri=$(json '.attachments[0].uri')
enc_uri=$(volume_attach "$enc")
ok qemu-img convert -f raw -O raw "$uri" "$T/again.raw"
cmp "$T/grown.raw" "$T/again.raw" || fail "$vol differs after a clean restart"
ok qemu-img compare -f raw -F raw "$T/enc.raw" "$enc_uri"

# Detach: no longer exported, then delete; --force deletes an attached one.
ok cairn --output json volume detach "$vol"
assert_eq "state after detach" available "$(json .state)"
expect_exit 1 nbdinfo --size "$uri"
ok cairn volume delete "$vol"
expect_exit 7 cairn volume show "$vol"
[[ ! -e "$DATA/volumes/$vol" ]] || fail "the files of deleted volume $vol are still in $DATA/volumes"
ok cairn volume delete --force "$enc"
ok cairn --output json volume list
assert_eq "volumes left" 0 "$(json length)"

# Every state change was logged, one line each.
grep -q "$vol in-use" "$T/serve.log" || fail "no 'in-use' line for $vol in the daemon log"
grep -q "$vol deleted" "$T/serve.log" || fail "no 'deleted' line for $vol in the daemon log"
stop_daemon
