#!/usr/bin/env bash
# Lifecycle policies of the daemon (`cairn policy …`, issue 5 part 7) and
# `cairn events`. Two volumes tagged env=prod hold known bytes, a third has
# no tag. Bad requests are refused naming the flag or field, and create
# nothing. A policy on tag env=prod, every 2 s, keeping the last 2, copying
# to a second repository (its passphrase in a file the daemon reads at each
# run): after 4 runs the primary repository holds exactly 2 snapshots
# (tagged cairn:policy=POL) of each tagged volume and none of the untagged
# one, the removed ones are in the recycle bin, the copy repository holds
# the same 2 (its retention applied too) and restores the bytes written;
# `cairn events` shows the runs. `policy run --wait` succeeds; a copy target
# whose passphrase file went wrong makes the run fail (exit 1) with an event
# naming the target, and the primary snapshot of that run stays. The policy
# survives a daemon restart and keeps running; once deleted it runs no more
# and its snapshots stay.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools qemu-io curl jq

MiB=1048576
DR=$T/dr
dr_pass="disaster recovery passphrase"
printf '%s\n' "$dr_pass" >"$T/dr.pass"
init_repo "$REPO"
CAIRN_PASSWORD="$dr_pass" init_repo "$DR"
start_daemon

# Two volumes tagged env=prod with known bytes (the same writes go into a
# local file: the bytes a restore must give back), one without the tag.
declare -A expected=()
write_volume() {
  local vol=$1 byte=$2 uri
  uri=$(volume_attach "$vol")
  truncate -s $((4 * MiB)) "$T/$vol.expected"
  for target in "$uri" "$T/$vol.expected"; do
    ok qemu-io -f raw -c "write -P $byte 0 $MiB" -c "write -P $((byte + 1)) $((2 * MiB)) 512k" "$target"
  done
  expected[$vol]=$T/$vol.expected
}
a=$(volume_create --size 4M --tag env=prod)
b=$(volume_create --size 4M --tag env=prod --tag owner=e2e)
c=$(volume_create --size 4M --tag env=dev)
write_volume "$a" 97
write_volume "$b" 120

# ------------------------------------------------------------- bad input
expect_exit 2 cairn policy create --every 2s --keep-last 2
expect_stderr_contains "no target" "--volume" "--tag"
expect_exit 2 cairn policy create --volume "$a" --tag env=prod --every 2s --keep-last 2
expect_stderr_contains "--volume and --tag"
expect_exit 2 cairn policy create --tag env=prod --every 2s --cron "0 3 * * *" --keep-last 2
expect_stderr_contains "--every and --cron"
expect_exit 2 cairn policy create --tag env=prod --keep-last 2
expect_stderr_contains "no schedule" "--every" "--cron"
expect_exit 2 cairn policy create --tag env=prod --cron "0 24 * * *" --keep-last 2
expect_stderr_contains "hour"
expect_exit 2 cairn policy create --tag env=prod --every 2s
expect_stderr_contains "no --keep-" "every snapshot"
expect_exit 7 cairn policy create --volume vol-0123456789abcdef0 --every 2s --keep-last 2
expect_stderr_contains "vol-0123456789abcdef0"
expect_exit 2 cairn policy create --volume "$a" --every 2s --keep-last 2 --copy-password-file "$T/dr.pass"
expect_stderr_contains "--copy-to"
expect_exit 2 cairn policy show not-a-policy
expect_stderr_contains "not a policy id"
expect_exit 7 cairn policy show pol-0123456789abcdef0
ok cairn --output json policy list
assert_eq "policies after the refused requests" 0 "$(json length)"

# ------------------------------------------------- a policy that runs
# A relative password file path works: the CLI hands the daemon an absolute one.
ok cairn --output json policy create --tag env=prod --every 2s --keep-last 2 \
  --copy-to "$DR" --copy-password-file "$(realpath --relative-to=. "$T/dr.pass")" --name e2e
pol=$(json .id)
[[ "$pol" =~ ^pol-[0-9a-f]{17}$ ]] || fail "policy id '$pol' is not pol- and 17 hex digits"
assert_eq "schedule" "every 2s" "$(json .schedule)"
assert_eq "keep last" 2 "$(json .keep.last)"
assert_eq "target tag" prod "$(json .targets.tags.env)"
assert_eq "copy target" "$DR" "$(json '.copy_to[0].url')"
assert_eq "password file made absolute" "$T/dr.pass" "$(json '.copy_to[0].password_file')"
log "policy $pol created"

# policy_json POL: `policy show --output json` into $OUT.
policy_json() { ok cairn --output json policy show "$1"; }

# wait_runs POL N SECONDS: until the policy has at least N finished runs.
wait_runs() {
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    policy_json "$1"
    (($(json .runs) >= $2)) && return 0
    sleep 0.25
  done
  fail "policy $1 made $(json .runs) runs in $3 s, expected at least $2: $(jq -c .last_run "$OUT")"
}
wait_runs "$pol" 4 60

# `events --follow` prints the runs as they come and ends with Ctrl-C (exit 0).
rc=0
timeout --foreground -s INT --preserve-status 5 "$CAIRN_BIN" events --follow --object "$pol" \
  >"$T/follow.out" 2>"$T/follow.err" || rc=$?
assert_eq "exit of events --follow after Ctrl-C ($(cat "$T/follow.err"))" 0 "$rc"
grep -qE "^[0-9]+ [0-9T:Z-]+ $pol info: run [0-9]+ ok" "$T/follow.out" ||
  fail "events --follow printed no 'run N ok' of $pol in 5 s: $(cat "$T/follow.out")"
if grep -v " $pol " "$T/follow.out" | grep -q .; then
  fail "events --follow --object $pol printed other objects' events: $(cat "$T/follow.out")"
fi

# A consistent view: no run in progress, and none ran while we looked.
settled=""
for ((try = 0; try < 40; try++)); do
  policy_json "$pol"
  [[ "$(json .running)" == false ]] || { sleep 0.1; continue; }
  runs=$(json .runs)
  ok cairn -r "$REPO" --output json snapshot list --tag "cairn:policy=$pol"
  cp "$OUT" "$T/primary.json"
  ok cairn -r "$REPO" --output json snapshot list --deleted --tag "cairn:policy=$pol"
  cp "$OUT" "$T/bin.json"
  ok cairn -r "$DR" --password-file "$T/dr.pass" --output json snapshot list --tag "cairn:policy=$pol"
  cp "$OUT" "$T/dr.json"
  policy_json "$pol"
  if [[ "$(json .running)" == false && "$(json .runs)" == "$runs" ]]; then
    settled=1
    break
  fi
done
[[ -n "$settled" ]] || fail "policy $pol never stood still long enough to count its snapshots"
assert_eq "failed runs of $pol ($(jq -c .last_run "$OUT"))" 0 "$(json .failures)"
log "$runs runs of $pol; counting snapshots"

count_of() { jq --arg v "$2" '[.[] | select(.source == $v)] | length' "$1"; }
ids_of() { jq -r --arg v "$2" '[.[] | select(.source == $v) | .id] | sort | join(" ")' "$1"; }
for v in "$a" "$b"; do
  assert_eq "snapshots of $v kept in the primary repository" 2 "$(count_of "$T/primary.json" "$v")"
  assert_eq "snapshots of $v in the recycle bin" $((runs - 2)) "$(count_of "$T/bin.json" "$v")"
  assert_eq "snapshots of $v in the copy repository (its own retention)" 2 \
    "$(count_of "$T/dr.json" "$v")"
  assert_eq "the copy repository holds the kept snapshots of $v" \
    "$(ids_of "$T/primary.json" "$v")" "$(ids_of "$T/dr.json" "$v")"
done
assert_eq "snapshots of the untagged $c" 0 "$(count_of "$T/primary.json" "$c")"
assert_eq "untagged $c in the copy repository" 0 "$(count_of "$T/dr.json" "$c")"

# A snapshot restored from the copy repository holds the bytes written.
for v in "$a" "$b"; do
  snap=$(jq -r --arg v "$v" '[.[] | select(.source == $v)] | sort_by(.created) | last | .id' "$T/dr.json")
  ok cairn -r "$DR" --password-file "$T/dr.pass" snapshot restore "$snap" "$T/$v.restored"
  cmp "${expected[$v]}" "$T/$v.restored" || fail "$snap of $v restored from $DR differs from the bytes written"
done

ok cairn events --object "$pol"
ok_lines=$(grep -cE "^[0-9]+ [0-9T:Z-]+ $pol info: run [0-9]+ ok" "$OUT" || true)
((ok_lines >= runs)) || fail "events --object $pol: $ok_lines 'run N ok' lines for $runs runs: $(cat "$OUT")"
expect_stdout_contains "$pol state: created"
ok cairn --output json events --object "$pol" --limit 3
assert_eq "events --limit 3" 3 "$(json length)"
assert_eq "events --object" "$pol" "$(json '[.[].object] | unique | join(",")')"

ok cairn policy list
expect_stdout_contains "$pol" "e2e" "tags env=prod" "every 2s" "last 2" "next run" "last result"
ok cairn policy show "$pol"
expect_stdout_contains "volumes tagged:    env=prod" "copy to:           $DR" "last run:" "events:" "info: run"

# ------------------------------------------------ policy run --wait
ok cairn --output json policy run "$pol" --wait --timeout 60
assert_eq "result of policy run --wait" ok "$(json .last_run.result)"
ok cairn policy run "$pol" --wait --timeout 60
expect_stdout_contains "$pol run " ": ok at "

# A copy target whose passphrase file went wrong: the run fails, says so,
# and the snapshot it took in the primary repository stays.
printf '%s\n' "$dr_pass" >"$T/dr2.pass"
ok cairn --output json policy create --volume "$a" --every 1h --keep-last 3 \
  --copy-to "$DR" --copy-password-file "$T/dr2.pass" --name broken
broken=$(json .id)
printf 'not the passphrase\n' >"$T/dr2.pass"
expect_exit 1 cairn policy run "$broken" --wait --timeout 60
expect_stderr_contains "$broken" "failed" "$DR"
expect_stdout_contains "failed at"
ok cairn events --object "$broken"
grep -E "^[0-9]+ [0-9T:Z-]+ $broken warning: run [0-9]+ failed" "$OUT" | grep -qF "$DR" ||
  fail "no 'run N failed' warning naming $DR among the events of $broken: $(cat "$OUT")"
grep -qiE "pass(phrase|word)" "$OUT" || fail "the failure event of $broken does not say the passphrase is wrong: $(cat "$OUT")"
policy_json "$broken"
assert_eq "failures of $broken" 1 "$(json .failures)"
ok cairn -r "$REPO" --output json snapshot list --tag "cairn:policy=$broken"
assert_eq "primary snapshots of the failed run" 1 "$(json length)"
kept=$(json '.[0].id')
ok cairn -r "$REPO" snapshot restore "$kept" "$T/kept.raw"
cmp "${expected[$a]}" "$T/kept.raw" || fail "$kept of the failed run does not hold the bytes of $a"
ok cairn policy delete "$broken"

# ------------------------------------------------- daemon restart
policy_json "$pol"
before=$(json .runs)
stop_daemon
start_daemon
policy_json "$pol"
assert_eq "policy after the restart" "$pol" "$(json .id)"
wait_runs "$pol" $((before + 2)) 30
log "$pol runs on after the restart ($before → $(json .runs))"

# ------------------------------------------------------------ delete
ok cairn --output json policy delete "$pol"
assert_eq "deleted" "$pol" "$(json .deleted)"
expect_exit 7 cairn policy show "$pol"
expect_stderr_contains "$pol"
sleep 1  # a run in progress at the delete finishes
started() { cairn events --object "$pol" | grep -cE " $pol info: run [0-9]+ started" || true; }
s1=$(started)
sleep 3
assert_eq "runs started in the 3 s after the delete" "$s1" "$(started)"
ok cairn events --object "$pol"
expect_stdout_contains "$pol state: deleted"
ok cairn -r "$REPO" --output json snapshot list --tag "cairn:policy=$pol"
for v in "$a" "$b"; do
  assert_eq "snapshots of $v after the policy was deleted" 2 "$(jq --arg v "$v" '[.[] | select(.source == $v)] | length' "$OUT")"
done
ok cairn --output json policy list
assert_eq "policies left" 0 "$(json length)"
stop_daemon

# ------------------------------ disable, enable, modify (a policy changed)
# Disabled, a policy makes no scheduled runs (one asked for still runs);
# enabled, its next run is a period from now (no burst for the runs it
# missed). Modify changes only what is given, refuses bad flags naming them
# (exit 2) and a change of nothing, and says what changed (stderr, `policy
# show`, events); a changed keep rule decides what the next run keeps, here
# and in a copy target added by the modify. All of it survives a restart.
start_daemon
ok cairn --output json policy create --volume "$a" --every 2s --keep-last 3 --name change-me
mod=$(json .id)
wait_runs "$mod" 1 30
ok cairn policy disable "$mod"
expect_stderr_contains "$mod disabled"
ok cairn --output json policy disable "$mod"
assert_eq "enabled after disabling twice" false "$(json .enabled)"
for ((i = 0; i < 40; i++)); do
  policy_json "$mod"
  [[ "$(json .running)" == false ]] && break
  sleep 0.25
done
runs=$(json .runs)
assert_eq "next run while disabled" null "$(json .next_run)"
sleep 5
policy_json "$mod"
assert_eq "runs in 5 s while disabled (every 2s)" "$runs" "$(json .runs)"
ok cairn policy run "$mod" --wait --timeout 60
expect_stdout_contains ": ok at "
ok cairn policy show "$mod"
expect_stdout_contains "enabled:           no" "next run:          - (disabled)" "state: policy disabled"
assert_eq "'policy disabled' events after disabling twice" 1 "$(grep -c "state: policy disabled" "$OUT")"

expect_exit 2 cairn policy modify "$mod"
expect_stderr_contains "nothing to change"
expect_exit 2 cairn policy modify "$mod" --every 2s --keep-last 3
expect_stderr_contains "nothing changes"
expect_exit 2 cairn policy modify "$mod" --every 1h --cron "0 3 * * *"
expect_stderr_contains "--every and --cron"
expect_exit 2 cairn policy modify "$mod" --cron "0 24 * * *"
expect_stderr_contains "hour"
expect_exit 2 cairn policy modify "$mod" --keep-last 0
expect_stderr_contains "--keep-"
expect_exit 2 cairn policy modify "$mod" --snapshot-tag cairn:x=y
expect_stderr_contains "cairn:"
expect_exit 2 cairn policy modify "$mod" --volume "$b"
expect_stderr_contains "--volume" "cannot change"
expect_exit 2 cairn policy modify "$mod" --no-copy --copy-to "$DR"
expect_stderr_contains "--no-copy"
expect_exit 2 cairn policy modify "$mod" --copy-password-file "$T/dr.pass"
expect_stderr_contains "no copy targets" "--copy-to"
expect_exit 7 cairn policy modify pol-0123456789abcdef0 --every 1h
expect_stderr_contains "pol-0123456789abcdef0"
expect_exit 7 cairn policy enable pol-0123456789abcdef0
expect_stderr_contains "pol-0123456789abcdef0"
policy_json "$mod"
assert_eq "keep after the refused modifies" "last 3" "$(json .keep_text)"
assert_eq "schedule after the refused modifies" "every 2s" "$(json .schedule)"
assert_eq "name after the refused modifies" change-me "$(json .name)"

ok cairn policy modify "$mod" --keep-last 1 --name changed --every 1h \
  --copy-to "$DR" --copy-password-file "$T/dr.pass"
expect_stderr_contains "modified $mod" "name \"change-me\" → \"changed\"" \
  "schedule every 2s → every 1h" "keep last 3 → last 1" "copy to none → $DR"
ok cairn policy show "$mod"
expect_stdout_contains "name:              changed" "schedule:          every 1h" \
  "keep:              last 1" "copy to:           $DR" "enabled:           no" \
  "state: policy modified: name"
enabled_at=$(date +%s)
ok cairn --output json policy enable "$mod"
assert_eq "enabled" true "$(json .enabled)"
next=$(date -d "$(json .next_run)" +%s)
((next >= enabled_at + 3590)) || fail "next run of $mod after enable is $(json .next_run), not an hour from now"
sleep 2
policy_json "$mod"
assert_eq "runs in 2 s after enable (every 1h: no burst)" "$runs" "$(($(json .runs) - 1))"
ok cairn --output json policy run "$mod" --wait --timeout 60
assert_eq "result of the run after modify" ok "$(json .last_run.result)"
newest=$(json '.last_run.snapshots[0]')
ok cairn -r "$REPO" --output json snapshot list --tag "cairn:policy=$mod"
assert_eq "snapshots of $mod after --keep-last 1" "$newest" "$(json '[.[].id] | join(" ")')"
ok cairn -r "$DR" --password-file "$T/dr.pass" --output json snapshot list --tag "cairn:policy=$mod"
assert_eq "snapshots of $mod in the copy target added by modify" "$newest" "$(json '[.[].id] | join(" ")')"

ok cairn policy disable "$mod"
stop_daemon
start_daemon
policy_json "$mod"
assert_eq "enabled after a restart" false "$(json .enabled)"
assert_eq "keep after a restart" "last 1" "$(json .keep_text)"
assert_eq "name after a restart" changed "$(json .name)"
ok cairn policy modify "$mod" --no-copy
expect_stderr_contains "copy to $DR → none"
log "$mod disabled, refused bad modifies, modified, enabled without a burst, kept its changes over a restart"
ok cairn policy delete "$mod"
stop_daemon
