#!/bin/bash
# `ringfence events` runs as a SCHED_BATCH task unless --sched other says otherwise
# (a woken reader must not preempt the programs it watches), and refuses an unknown
# --sched. Needs root (eBPF).
source "$(dirname "$0")/../lib.sh"
need_root "ringfence events --sched"
d=$(tmpdir)

policy_of() { # MODE...: start a reader, print its policy as chrt names it
	"$RF_BIN" events --json --class process_exec --for 20 "$@" >"$d/out" 2>"$d/err" &
	local p=$! tag="rf-sched-ready-$$-$#"
	# ready once it reports an exec of ours: the policy is set before that
	wait_for 20 sh -c "/bin/sh -c ': $tag'; grep -q '$tag' '$d/out'"
	chrt -p "$p" 2>/dev/null | sed -n 's/.*current scheduling policy: //p'
	kill -INT "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

is "default: SCHED_BATCH" "$(policy_of)" SCHED_BATCH
is "--sched batch: SCHED_BATCH" "$(policy_of --sched batch)" SCHED_BATCH
is "--sched other: SCHED_OTHER" "$(policy_of --sched other)" SCHED_OTHER
"$RF_BIN" events --sched fifo >"$d/out" 2>"$d/err"
is "--sched fifo refused as bad usage" "$?" 2
check "the refusal names the choices" grep -q "batch or other" "$d/err"
done_testing
