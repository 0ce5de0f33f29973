#!/usr/bin/env bash
# cairn's NBD server with real clients: qemu-img converts an image in and out
# byte-exact; nbdinfo --map shows the holes and data as written; nbdcopy with
# 4 connections copies it out; TCP and unix sockets; a read-only export
# refuses writes; SIGTERM stops the server cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/nbd_helpers.bash"
need_tools qemu-img nbdinfo nbdcopy

MiB=1048576
size=$((64 * MiB))

# The source image: data in the first 8 MiB and at 40 MiB, holes elsewhere.
src=$T/src.raw
img_new "$src" "$size"
img_rand "$src" 0 $((8 * MiB)) nbd-a
img_text "$src" $((40 * MiB)) $((2 * MiB)) nbd-b

disk=$T/disk.img
img_new "$disk" "$size"
sock=$T/nbd.sock
start_nbd_server main "$disk" --socket "$sock" --listen 127.0.0.1:0 --name disk
uri_tcp=$NBD_URI_main
uri_unix="nbd+unix:///disk?socket=$sock"
log "serving $disk at $uri_tcp and $uri_unix"

# qemu-img convert in (over unix), compare over TCP.
ok qemu-img convert -n -f raw -O raw "$src" "$uri_unix"
ok qemu-img compare -f raw -F raw "$src" "$uri_tcp"
cmp "$src" "$disk" || fail "the served file differs from the image qemu-img wrote"

# nbdinfo --map: data where written, holes elsewhere (qemu-img skips zeros).
ok nbdinfo --map "$uri_unix"
# columns: offset length type description
awk '{print $1, $2, $4}' "$OUT" >"$T/map"
grep -qx "0 $((8 * MiB)) data" "$T/map" || fail "map lacks data at [0, 8 MiB): $(cat "$OUT")"
grep -qx "$((8 * MiB)) $((32 * MiB)) hole,zero" "$T/map" || fail "map lacks the hole at [8, 40 MiB): $(cat "$OUT")"
grep -qx "$((40 * MiB)) $((2 * MiB)) data" "$T/map" || fail "map lacks data at [40, 42 MiB): $(cat "$OUT")"
grep -qx "$((42 * MiB)) $((22 * MiB)) hole,zero" "$T/map" || fail "map lacks the tail hole: $(cat "$OUT")"

ok nbdinfo --json "$uri_tcp"
[[ $(json '.exports[0]."export-size"') == "$size" ]] || fail "nbdinfo size: $(cat "$OUT")"
[[ $(json '.exports[0].can_multi_conn') == true ]] || fail "a file export should allow multi-conn: $(cat "$OUT")"

# Out byte-exact: qemu-img and nbdcopy with 4 connections.
ok qemu-img convert -f raw -O raw "$uri_tcp" "$T/out-qemu.raw"
cmp "$src" "$T/out-qemu.raw" || fail "qemu-img convert out differs from the source"
ok nbdcopy --connections=4 --requests=16 "$uri_unix" "$T/out-nbdcopy.raw"
cmp "$src" "$T/out-nbdcopy.raw" || fail "nbdcopy --connections=4 out differs from the source"

# nbdcopy in with 4 connections (writes in parallel, then one flush).
img_rand "$src" $((20 * MiB)) $((4 * MiB)) nbd-c
ok nbdcopy --connections=4 "$src" "$uri_tcp"
cmp "$src" "$disk" || fail "nbdcopy --connections=4 in: served file differs from the source"

# Unknown export: a clean error naming it.
expect_exit 1 nbdinfo "nbd+unix:///no-such-export?socket=$sock"
expect_output_contains "no-such-export"

# Read-only export of the same file: reads work, writes are refused.
start_nbd_server ro "$disk" --socket "$T/ro.sock" --read-only
ok nbdinfo --json "nbd+unix:///?socket=$T/ro.sock"
[[ $(json '.exports[0].is_read_only') == true ]] || fail "read-only export not flagged read-only"
if qemu-img convert -n -f raw -O raw "$src" "nbd+unix:///?socket=$T/ro.sock" 2>"$T/ro.err"; then
  fail "writing to a read-only export succeeded"
fi
ok qemu-img compare -f raw -F raw "$src" "nbd+unix:///?socket=$T/ro.sock"

stop_nbd_server "$NBD_PID_main"
stop_nbd_server "$NBD_PID_ro"
[[ ! -e "$sock" ]] || fail "the unix socket $sock is left behind after SIGTERM"
