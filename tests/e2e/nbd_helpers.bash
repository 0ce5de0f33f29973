# Helpers for the nbd_*.sh end-to-end tests (sourced after lib.sh; not a
# test itself, hence not *.sh).
#
#   NBD_FILE_SERVER  the test server binary (default: beside $CAIRN_BIN)

NBD_FILE_SERVER=${NBD_FILE_SERVER:-$(dirname "$CAIRN_BIN")/cairn-nbd-file-server}
[[ -x "$NBD_FILE_SERVER" ]] || fail "no cairn-nbd-file-server at $NBD_FILE_SERVER (build target cairn-nbd-file-server)"

# start_nbd_server NAME FILE ARGS...: starts cairn-nbd-file-server on FILE,
# waits for its "ready URI" line; sets NBD_PID_<NAME> and NBD_URI_<NAME>.
start_nbd_server() {
  local name=$1 file=$2
  shift 2
  local out=$T/nbd-$name.out
  "$NBD_FILE_SERVER" "$file" "$@" >"$out" 2>"$T/nbd-$name.err" &
  local pid=$!
  track_pid "$pid"
  local i
  for ((i = 0; i < 200; i++)); do
    if grep -q '^ready ' "$out" 2>/dev/null; then
      printf -v "NBD_PID_$name" '%s' "$pid"
      printf -v "NBD_URI_$name" '%s' "$(sed -n 's/^ready //p' "$out")"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || fail "cairn-nbd-file-server exited: $(cat "$T/nbd-$name.err")"
    sleep 0.05
  done
  fail "cairn-nbd-file-server did not become ready in 10 s: $(cat "$T/nbd-$name.err")"
}

# stop_nbd_server PID: SIGTERM, then expects a clean exit within 10 s.
stop_nbd_server() {
  kill -TERM "$1"
  wait_dead "$1" 10 || fail "cairn-nbd-file-server $1 did not stop within 10 s of SIGTERM"
}

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || skip "$t not installed (bash scripts/setup.sh installs it)"
  done
}
