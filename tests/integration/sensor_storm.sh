#!/bin/bash
# 20,000 short processes: every exec is reported (contiguous sequence numbers, drop
# counter 0), or, where the kernel had to drop, every drop is counted exactly and
# shows as a sequence gap. Needs root (eBPF).
source "$(dirname "$0")/../lib.sh"
need_root "eBPF exec storm"
N=${RF_STORM_N:-20000}
d=$(tmpdir)
out="$d/events.json"

"$RF_BIN" events --json --class process_exec --for 600 >"$out" 2>"$d/err" &
rf=$!
on_exit "kill $rf 2>/dev/null"
for _ in $(seq 100); do /bin/sh -c ": rf-probe-$$"; sleep 0.1; grep -q "rf-probe-$$" "$out" && break; done
"$RF_BUILD/tests/helpers/spawn_storm" "$N" >"$d/storm.out" &
storm=$!
wait $storm
check "storm ran $N processes" grep -q "spawned $N" "$d/storm.out"
sleep 1
kill -INT $rf; wait $rf
cat "$d/err" >&2

# processes are told apart by (pid, start time): pid_max can be 32768, and with other
# work running the storm wraps around and reuses its own pids
seen=$(jq -r --argjson p $storm 'select(.ppid==$p and .exe=="/usr/bin/true") | "\(.pid)-\(.start_time)"' "$out" | sort -u | wc -l)
dropped=$(sed -n 's/.* \([0-9]*\) dropped,.*/\1/p' "$d/err")
gaps=$(jq -s '[.[].class_seq] | sort | . as $s | ($s[-1] - $s[0] + 1 - ($s|length))' "$out")
diag "storm execs reported: $seen of $N; dropped: $dropped; class_seq gaps: $gaps"
check "drop counter reported in the summary" test -n "$dropped"
is "no invalid records from the kernel" "$(sed -n 's/.* \([0-9]*\) invalid;.*/\1/p' "$d/err")" 0
if [ "${dropped:-1}" = 0 ]; then
	is "every exec of the storm reported" "$seen" "$N"
	is "sequence numbers contiguous" "$gaps" 0
else
	is "every drop shows as a sequence gap" "$gaps" "$dropped"
	check "reported + dropped covers the storm" test $((seen + dropped)) -ge "$N"
fi
dups=$(jq -r '.seq' "$out" | sort | uniq -d | wc -l)
is "no sequence number used twice" "$dups" 0

# Forced drops: a 4 KiB ring and a consumer that is stopped during the storm. The
# kernel must drop, and every drop must be counted and show as a gap.
M=2000
"$RF_BIN" events --json --class process_exec --ring-kib 4 --for 600 >"$out" 2>"$d/err" &
rf=$!
for _ in $(seq 100); do /bin/sh -c ": rf-probe-$$"; sleep 0.1; grep -q "rf-probe-$$" "$out" && break; done
kill -STOP $rf
"$RF_BUILD/tests/helpers/spawn_storm" "$M" >"$d/storm.out" &
storm=$!
wait $storm
kill -CONT $rf
# an exec after the storm, seen by the reader: every drop before it shows as a gap
for _ in $(seq 100); do /bin/sh -c ": rf-after-$$"; sleep 0.1; grep -q "rf-after-$$" "$out" && break; done
kill -INT $rf; wait $rf
seen=$(jq -r --argjson p $storm 'select(.ppid==$p) | "\(.pid)-\(.start_time)"' "$out" | sort -u | wc -l)
dropped=$(sed -n 's/.* \([0-9]*\) dropped,.*/\1/p' "$d/err")
gaps=$(jq -s '[.[].class_seq] | sort | . as $s | ($s[-1] - $s[0] + 1 - ($s|length))' "$out")
diag "forced drops: storm execs reported $seen of $M; dropped $dropped; gaps $gaps"
check "the kernel dropped events with a stopped consumer" test "${dropped:-0}" -gt 0
check "the reader saw the exec after the storm" grep -q "rf-after-$$" "$out"
is "every drop shows as a sequence gap" "$gaps" "$dropped"
check "reported + dropped covers the storm" test $((seen + dropped)) -ge "$M"
check "reported is not more than the storm" test "$seen" -le "$M"
done_testing
