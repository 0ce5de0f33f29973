# Helpers for the volume_*.sh end-to-end tests: a real `cairn serve` on a
# throw-away data directory and repository (sourced after lib.sh; not a test
# itself, hence not *.sh).
#
#   REPO, DATA         the repository and the daemon's data directory
#   CAIRN_API_SOCKET   exported, so every `cairn volume …` finds the daemon
#   DAEMON_PID         the running daemon (start_daemon)

REPO=$T/repo
DATA=$T/data
export CAIRN_API_SOCKET=$DATA/api.sock

need_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || skip "$t not installed (bash scripts/setup.sh installs it)"
  done
}

# start_daemon [ARGS...]: cairn serve (NBD on a free loopback port), waits
# until its API answers; sets DAEMON_PID. Output goes to $T/serve.log.
start_daemon() {
  "$CAIRN_BIN" -r "$REPO" serve --data-dir "$DATA" --nbd-listen 127.0.0.1:0 "$@" \
    >>"$T/serve.log" 2>&1 </dev/null &
  DAEMON_PID=$!
  track_pid "$DAEMON_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    if curl -sf --unix-socket "$CAIRN_API_SOCKET" http://cairn/v1/daemon >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "cairn serve exited at start: $(tail -n 20 "$T/serve.log")"
    sleep 0.05
  done
  fail "cairn serve did not answer on $CAIRN_API_SOCKET within 10 s: $(tail -n 20 "$T/serve.log")"
}

# stop_daemon: SIGTERM; the daemon must exit 0 within 20 s.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  [[ $rc == 0 ]] || fail "cairn serve exited $rc after SIGTERM: $(tail -n 20 "$T/serve.log")"
  grep -q "stopped cleanly" "$T/serve.log" || fail "no 'stopped cleanly' in the daemon log: $(tail -n 20 "$T/serve.log")"
}

# kill_daemon: SIGKILL, waits until it is gone.
kill_daemon() {
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
  wait_dead "$DAEMON_PID" 10 || fail "cairn serve $DAEMON_PID still alive after SIGKILL"
}

# volume_create ARGS...: prints the new volume's id.
volume_create() {
  ok cairn --output json volume create "$@"
  json .id
}

# volume_attach VOL: prints the NBD URI.
volume_attach() {
  ok cairn volume attach "$1"
  cat "$OUT"
}

# snapshot_wait VOL...: cairn snapshot create --wait --output json; the
# document stays in $OUT; prints the first snapshot id.
snapshot_wait() {
  ok cairn -r "$REPO" --output json snapshot create "$@" --wait
  json .snapshot_id
}

# pattern_sum BYTE LEN: sha256 of LEN bytes all equal to BYTE (0..255).
pattern_sum() {
  head -c "$2" /dev/zero | tr '\0' "\\$(printf '%03o' "$1")" | sha256sum | cut -d' ' -f1
}
