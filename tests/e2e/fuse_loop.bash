# An NBD export as a block device where there is no kernel NBD
# (machine-facts.md): nbdfuse exposes it as a file, a loop device goes over
# that file. Sourced after lib.sh by the tests that put a file system on an
# export (not a test itself, hence not *.sh). Skips where FUSE or loop
# devices are missing.
#
#   fuse_loop_up SIZE NBDFUSE_ARGS...  mounts $T/fuse/disk, attaches it;
#                                      sets FUSE_PID and LOOP (the device)
#   fuse_loop_down                     detaches the loop, unmounts FUSE and
#                                      expects nbdfuse to exit (an NBD
#                                      disconnect: the server saw a clean end)
#   fuse_loop_cleanup                  best effort, for EXIT traps
FUSE_PID=""
LOOP=""

fuse_loop_up() {
  local size=$1
  shift
  local dir=$T/fuse i
  mkdir -p "$dir"
  nbdfuse "$dir/disk" "$@" 2>"$T/nbdfuse.err" &
  FUSE_PID=$!
  track_pid "$FUSE_PID"
  for ((i = 0; i < 200; i++)); do
    [[ -e "$dir/disk" && $(fsize "$dir/disk" 2>/dev/null || echo 0) == "$size" ]] && break
    kill -0 "$FUSE_PID" 2>/dev/null || skip "nbdfuse cannot mount here: $(cat "$T/nbdfuse.err")"
    sleep 0.05
  done
  [[ $(fsize "$dir/disk") == "$size" ]] || fail "nbdfuse file has size $(fsize "$dir/disk"), expected $size"
  LOOP=$(losetup -f --show "$dir/disk" 2>"$T/losetup.err") || {
    LOOP=""
    skip "cannot attach a loop device here: $(cat "$T/losetup.err")"
  }
}

fuse_loop_down() {
  ok losetup -d "$LOOP"
  LOOP=""
  ok fusermount3 -u "$T/fuse"
  wait_dead "$FUSE_PID" 10 || fail "nbdfuse did not exit after fusermount3 -u"
  FUSE_PID=""
}

fuse_loop_cleanup() {
  [[ -n "$LOOP" ]] && losetup -d "$LOOP"
  [[ -n "$FUSE_PID" ]] && { fusermount3 -u "$T/fuse" 2>/dev/null; wait_dead "$FUSE_PID" 5; }
  return 0
}
