#!/bin/bash
# Exec storm: fork+exec of /bin/true N times, with no monitoring, under
# `ringfence events --json`, under auditd with an execve rule, and under bpftrace
# printing each exec, side by side, in interleaved rounds. Prints each one's median
# wall time, its slowdown against no monitoring, and how many of the N execs it
# captured (lowest over the rounds).
#   bench/exec_storm.sh [N] [ROUNDS]     (defaults 10000, 3)
set -u
source "$(dirname "$0")/lib.sh"
N=${1:-${BENCH_N:-10000}}
ROUNDS=${2:-${BENCH_ROUNDS:-3}}
storm="$RF_BUILD/tests/helpers/spawn_storm"
[ "$(id -u)" = 0 ] || { echo "exec_storm: needs root (eBPF, auditd)"; exit 1; }
ensure_tracefs
ensure_auditd || true

declare -A times captured
configs=(none ringfence auditd bpftrace)

run_storm() { # prints "elapsed_ns storm_pid"
	local t0 t1
	t0=$(now_ns)
	"$storm" "$N" >/dev/null &
	local p=$!
	wait $p
	t1=$(now_ns)
	echo "$((t1 - t0)) $p"
}

one() { # CONFIG
	local cfg=$1 out="$BENCH_TMP/$cfg.out" mon= res ns p cap=0
	rm -f "$out"
	case $cfg in
	ringfence)
		"$RF_BIN" events --json --class process_exec >"$out" 2>"$BENCH_TMP/rf.err" &
		mon=$!; wait_ready "$out" "rf-ready-$$" ;;
	bpftrace)
		bpftrace -e 'tracepoint:sched:sched_process_exec { printf("%d %d %s\n", pid, curtask->real_parent->tgid, str(args->filename)); }' >"$out" 2>"$BENCH_TMP/bt.err" &
		mon=$!; wait_ready "$out" "/bin/sh" ;;
	auditd)
		auditctl -a always,exit -F arch=b64 -S execve -k rfbench >/dev/null
		auditctl -b 65536 >/dev/null ;;
	esac
	res=$(run_storm); ns=${res% *}; p=${res#* }
	sleep 0.5
	case $cfg in
	none) cap=- ;;
	ringfence)
		kill -INT $mon; wait $mon
		cap=$(grep -c "\"ppid\":$p," "$out") ;;
	bpftrace)
		kill -INT $mon; wait $mon
		cap=$(awk -v p="$p" '$2 == p' "$out" | wc -l) ;;
	auditd)
		auditctl -d always,exit -F arch=b64 -S execve -k rfbench >/dev/null
		local prev=-1
		for _ in $(seq 30); do # auditd writes asynchronously: wait until the count settles
			cap=$(cat /var/log/audit/audit.log* 2>/dev/null | grep 'key="rfbench"' | grep -c " ppid=$p ")
			[ "$cap" = "$prev" ] && break
			prev=$cap; sleep 0.5
		done ;;
	esac
	echo "$ns $cap"
}

echo "exec storm: $N x fork+exec /bin/true, $ROUNDS rounds, configs interleaved"
for r in $(seq "$ROUNDS"); do
	for cfg in "${configs[@]}"; do
		read -r ns cap < <(one "$cfg")
		times[$cfg]+="$ns "
		prev=${captured[$cfg]:-}
		if [ "$cap" = - ]; then captured[$cfg]=-
		elif [ -z "$prev" ] || [ "$cap" -lt "$prev" ]; then captured[$cfg]=$cap; fi
		printf '  round %d %-10s %8.3f s  captured %s\n' "$r" "$cfg" "$(echo "$ns / 1000000000" | bc -l)" "$cap"
	done
done
base=$(echo ${times[none]} | tr ' ' '\n' | median)
printf '\n%-12s %10s %10s %14s\n' monitor "median s" slowdown "captured/N"
for cfg in "${configs[@]}"; do
	m=$(echo ${times[$cfg]} | tr ' ' '\n' | median)
	printf '%-12s %10.3f %9.2fx %14s\n' "$cfg" "$(echo "$m / 1000000000" | bc -l)" \
		"$(echo "$m / $base" | bc -l)" "${captured[$cfg]}/$N"
done
