#!/usr/bin/env bash
# The daemon's event log stays bounded: `cairn serve --events-keep N` keeps
# the newest N events (pruned at start and after every 1000 events), GET
# /v1/daemon shows the settings, GET /v1/events says where the log now
# begins ("first_seq"), sequence numbers carry on after a prune and a
# restart, and `cairn events` / `events --follow` say once that events were
# removed ("events before N were removed by retention"). Bad flag values are
# refused with exit 2.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools curl jq

init_repo "$REPO"

# api PATH [CURL ARGS...]: the daemon's API, body on stdout.
api() {
  local path=$1
  shift
  curl -sf --unix-socket "$CAIRN_API_SOCKET" "$@" "http://cairn$path"
}

# Refused values name the flag; nothing is started.
expect_exit 2 cairn -r "$REPO" serve --data-dir "$DATA" --events-keep-days -1
expect_stderr_contains "--events-keep-days"
expect_exit 2 cairn -r "$REPO" serve --data-dir "$DATA" --events-keep-days 40000
expect_stderr_contains "--events-keep-days"
expect_exit 2 cairn -r "$REPO" serve --data-dir "$DATA" --events-keep lots
expect_stderr_contains "--events-keep"

start_daemon --events-keep 10
doc=$(api /v1/daemon)
assert_eq "events_keep in GET /v1/daemon" 10 "$(jq -r .events_keep <<<"$doc")"
assert_eq "events_keep_days default" 90 "$(jq -r .events_keep_days <<<"$doc")"
assert_eq "first_seq of a new log" 1 "$(api /v1/events | jq -r .first_seq)"

quiet=$(volume_create --size 16M)  # its events come first, then none
busy=$(volume_create --size 16M)
ok cairn --output json events --object "$quiet"
last_quiet=$(json '.[-1].seq')

# --follow of the quiet volume while 1200 events of another one are written
# (an attach or a detach writes two): the daemon prunes once, at its 1000th
# event, past what the follower has read.
timeout --foreground -s INT --preserve-status 60 "$CAIRN_BIN" events --follow --object "$quiet" \
  >"$T/follow.out" 2>"$T/follow.err" &
follow=$!
track_pid "$follow"
for ((i = 0; i < 300; i++)); do
  api "/v1/volumes/$busy/attach" -X POST -d "" >/dev/null || fail "attach $i of $busy failed"
  api "/v1/volumes/$busy/detach" -X POST -d "" >/dev/null || fail "detach $i of $busy failed"
done
first=1
for ((i = 0; i < 100 && first == 1; i++)); do
  first=$(api /v1/events | jq -r .first_seq)
  ((first > 1)) || sleep 0.1
done
((first > last_quiet + 1)) || fail "no prune after 1200 events: first_seq $first"
count=$(api "/v1/events?after=0&limit=1000" | jq '.events | length')
((count < 1000)) || fail "$count events kept with --events-keep 10"
# The follower polls every second: give it two polls past the cut.
for ((i = 0; i < 50; i++)); do
  grep -q "were removed by retention" "$T/follow.out" && break
  sleep 0.1
done
sleep 2.5
kill -INT "$follow"
rc=0
wait "$follow" || rc=$?
assert_eq "exit of events --follow after Ctrl-C ($(cat "$T/follow.err"))" 0 "$rc"
cuts=$(grep -c "were removed by retention" "$T/follow.out" || true)
assert_eq "cut lines printed by events --follow ($(cat "$T/follow.out"))" 1 "$cuts"
grep -qE "^events before [0-9]+ were removed by retention$" "$T/follow.out" ||
  fail "events --follow: no 'events before N were removed by retention': $(cat "$T/follow.out")"
told=$(grep -oE "^events before [0-9]+" "$T/follow.out" | grep -oE "[0-9]+")
((told > last_quiet + 1 && told <= first)) ||
  fail "events --follow told of a cut before $told; the quiet volume's last event was $last_quiet, first_seq $first"

# Restart with a smaller limit: pruned at start; numbering carries on.
ok cairn --output json events --limit 1
newest=$(json '.[0].seq')
stop_daemon  # "stopped cleanly" is newest + 1
start_daemon --events-keep 3
page=$(api "/v1/events?after=0")
assert_eq "first_seq after a restart with --events-keep 3" $((newest - 1)) "$(jq -r .first_seq <<<"$page")"
assert_eq "first event kept" $((newest - 1)) "$(jq -r '.events[0].seq' <<<"$page")"
assert_eq "the stop's event" "stopped cleanly" "$(jq -r '.events[2].message' <<<"$page")"
assert_eq "the next event's seq" $((newest + 2)) "$(jq -r '.events[3].seq' <<<"$page")"

ok cairn events --after 5
expect_stderr_contains "events before $((newest - 1)) were removed by retention"
head -n 1 "$OUT" | grep -q "^$((newest - 1)) " || fail "events --after 5 began with: $(head -n 1 "$OUT")"
ok cairn events --after $((newest - 2))
grep -q "removed by retention" "$ERR" && fail "events --after $((newest - 2)) told of a cut that did not happen: $(cat "$ERR")"
ok cairn --output json events --limit 2
assert_eq "--limit N reads only the newest" 2 "$(json length)"
stop_daemon

# 0 turns a rule off.
start_daemon --events-keep 0 --events-keep-days 0
doc=$(api /v1/daemon)
assert_eq "events_keep 0" 0 "$(jq -r .events_keep <<<"$doc")"
assert_eq "events_keep_days 0" 0 "$(jq -r .events_keep_days <<<"$doc")"
assert_eq "nothing pruned with both rules off" $((newest - 1)) "$(api /v1/events | jq -r .first_seq)"
stop_daemon
log "ok"
