#!/usr/bin/env bash
# A volume type's limits, measured through NBD: fio's nbd engine drives an
# attached volume of `cairn serve` for 5 s (after a 1 s ramp) and the rate it
# gets must be within 10% of the limit, neither above (a limit is a ceiling)
# nor below (the limit is what the user pays for). The limits are low enough
# for any machine to reach (io2 at 100 IOPS, gp3's 125 MiB/s read from a
# sparse volume); if the machine cannot reach 90%, the message says so.
# Then `cairn volume modify` raises the IOPS while one fio run goes on: the
# same NBD session gets the new limit within a second (fio's per-second log);
# a refused modify (a flag the type does not take, no flag at all) exits 2
# naming why and changes nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/volume_helpers.bash"
need_tools fio jq curl
fio --enghelp=nbd >/dev/null 2>&1 || skip "this fio has no nbd engine"

init_repo "$REPO"
start_daemon

# fio_json URI RW BS SECONDS [ARGS...]: one fio run; the JSON goes to $OUT.
fio_json() {
  local uri=$1 rw=$2 bs=$3 secs=$4
  shift 4
  fio --output-format=json --name=qos --ioengine=nbd --uri="$uri" --rw="$rw" --bs="$bs" \
    --iodepth=8 --size=64M --time_based --runtime="$secs" --randrepeat=0 "$@" \
    >"$T/fio.raw" 2>"$T/fio.err" || fail "fio $rw $bs on $uri failed: $(tail -n 5 "$T/fio.err")"
  sed -n '/^{/,$p' "$T/fio.raw" >"$OUT" # the nbd engine prints a line before the JSON
}

# within_10 WHAT MEASURED LIMIT: fails unless 0.9 * LIMIT <= MEASURED <= 1.1 * LIMIT.
within_10() {
  local what=$1 got=$2 limit=$3
  awk -v g="$got" -v l="$limit" 'BEGIN { exit !(g <= l * 1.10) }' ||
    fail "$what: measured $got, above the limit $limit by more than 10% (the limit is not enforced)"
  awk -v g="$got" -v l="$limit" 'BEGIN { exit !(g >= l * 0.90) }' ||
    fail "$what: measured $got, below 90% of the limit $limit: the volume (or this machine, if it is overloaded: load $(cut -d' ' -f1-3 /proc/loadavg)) does not deliver what the type promises"
  log "$what: measured $got, limit $limit"
}

# IOPS: io2 with 100 provisioned IOPS, 4 KiB random writes.
vol=$(volume_create --size 256M --volume-type io2 --iops 100)
assert_eq "limits of the io2 volume" "io2, 100 IOPS, 25 MiB/s" "$(json .limits)"
uri=$(volume_attach "$vol")
fio_json "$uri" randwrite 4k 5 --ramp_time=1
within_10 "io2 --iops 100, 4 KiB random writes, IOPS" "$(json '.jobs[0].write.iops')" 100

# Throughput: gp3's default 125 MiB/s, 1 MiB sequential reads.
vol_gp3=$(volume_create --size 256M --volume-type gp3)
uri_gp3=$(volume_attach "$vol_gp3")
fio_json "$uri_gp3" read 1M 5 --ramp_time=1
within_10 "gp3 default, 1 MiB reads, MiB/s" "$(json '.jobs[0].read.bw_bytes / 1048576')" 125

# Online: one fio session on the io2 volume; at 4 s its IOPS go 100 -> 300.
fio --name=online --ioengine=nbd --uri="$uri" --rw=randread --bs=4k --iodepth=8 --size=64M \
  --time_based --runtime=9 --randrepeat=0 --write_iops_log="$T/online" --log_avg_msec=1000 \
  >"$T/online.out" 2>&1 &
fio_pid=$!
track_pid "$fio_pid"
sleep 4
ok cairn --output json volume modify "$vol" --iops 300
assert_eq "limits after modify" "io2, 300 IOPS, 75 MiB/s" "$(json .limits)"
assert_eq "state after modify" in-use "$(json .state)"
wait "$fio_pid" || fail "fio during the modify failed: $(tail -n 5 "$T/online.out")"
# Refused changes name the flag and leave the limits alone.
expect_exit 2 cairn volume modify "$vol" --volume-type st1 --iops 500
expect_stderr_contains "--iops"
expect_exit 2 cairn volume modify "$vol"
expect_stderr_contains "nothing to change"
ok cairn --output json volume show "$vol"
assert_eq "limits after refused modifies" "io2, 300 IOPS, 75 MiB/s" "$(json .limits)"
log_file=$(ls "$T"/online_iops*.log 2>/dev/null | head -n 1)
[[ -s "$log_file" ]] || fail "fio wrote no IOPS log: $(ls "$T")"
# Lines: "msec, iops, direction, bs, offset". Before: windows ending at 1-3 s;
# after: windows ending at 6 s or later (the modify came at about 4 s).
before=$(awk -F', *' '$1 >= 1500 && $1 <= 3500 { s += $2; n++ } END { if (n) printf "%.1f", s / n }' "$log_file")
after=$(awk -F', *' '$1 >= 5500 && $1 <= 8500 { s += $2; n++ } END { if (n) printf "%.1f", s / n }' "$log_file")
[[ -n "$before" && -n "$after" ]] || fail "fio's IOPS log has too few samples: $(cat "$log_file")"
within_10 "one NBD session before the modify, IOPS" "$before" 100
within_10 "the same NBD session after volume modify --iops 300, IOPS" "$after" 300
stop_daemon
