#!/bin/bash
# Syscall storms, each with no monitoring, with ringfence delivering every event to a
# consumer (`ringfence events --json`, output on tmpfs), with auditd (equivalent
# rules, logging to its file) and with bpftrace (printing each event), side by side
# in interleaved rounds. Prints median wall time, slowdown against no monitoring, and
# events captured / expected (the lowest over the rounds).
#   bench/storms.sh STORM [N] [ROUNDS]
# STORM: exec   N x fork+exec /bin/true                       (default N 10000)
#        open   N x open(O_CREAT|O_WRONLY) + close, one file  (default N 200000)
#        connect N x loopback TCP connect + close             (default N 20000)
set -u
source "$(dirname "$0")/lib.sh"
STORM=${1:?usage: storms.sh exec|open|connect [N] [ROUNDS]}
case $STORM in
exec) N=${2:-${BENCH_N:-10000}} ;;
open) N=${2:-${BENCH_N:-200000}} ;;
connect) N=${2:-${BENCH_N:-20000}} ;;
*) echo "storms.sh: unknown storm '$STORM'"; exit 2 ;;
esac
ROUNDS=${3:-${BENCH_ROUNDS:-3}}
H="$RF_BUILD/tests/helpers"
[ "$(id -u)" = 0 ] || { echo "storms: needs root (eBPF, auditd)"; exit 1; }
ensure_tracefs
ensure_auditd || true
DIR=$(mktemp -d /tmp/rf-bench-open.XXXXXX)
bench_on_exit "rm -rf '$DIR'"

configs=(none ringfence auditd bpftrace)
[ "$STORM" = open ] && configs+=(ringfence-raw)

case $STORM in
exec)
	rf_class=process_exec
	audit_rule=(-a always,exit -F arch=b64 -S execve -k rfbench)
	bt='tracepoint:sched:sched_process_exec { printf("%d %d %s\n", pid, curtask->real_parent->tgid, str(args->filename)); }'
	;;
open)
	rf_class=file_open_write,file_create
	audit_rule=(-w "$DIR" -p wa -k rfbench)
	bt='tracepoint:syscalls:sys_enter_openat /args->flags & 3/ { printf("%d %s\n", pid, str(args->filename)); }'
	;;
connect)
	rf_class=net_connect
	audit_rule=(-a always,exit -F arch=b64 -S connect -k rfbench)
	bt='tracepoint:syscalls:sys_enter_connect { printf("%d %d\n", pid, args->fd); }'
	;;
esac

run_storm() { # prints "elapsed_ns pid"
	local t0 t1 p
	t0=$(now_ns)
	case $STORM in
	exec) "$H/spawn_storm" "$N" >/dev/null & ;;
	open) "$H/open_storm" "$N" "$DIR/target" >/dev/null & ;;
	connect) "$H/connect_storm" "$N" >/dev/null & ;;
	esac
	p=$!
	wait $p
	t1=$(now_ns)
	echo "$((t1 - t0)) $p"
}

count_rf() { # FILE PID
	case $STORM in
	exec) grep -c "\"ppid\":$2," "$1" ;;
	*) grep '"class":"\(file\|net\)_' "$1" | grep -c "\"pid\":$2," ;;
	esac
}

one() { # CONFIG -> "ns captured"
	local cfg=$1 out="$BENCH_TMP/$cfg.out" mon= res ns p cap=0 prev
	rm -f "$out"
	case $cfg in
	ringfence|ringfence-raw)
		local extra=()
		[ "$cfg" = ringfence-raw ] && extra=(--syscall-hooks raw)
		"$RF_BIN" events --json --class "$rf_class,process_exec" "${extra[@]}" >"$out" 2>"$BENCH_TMP/rf.err" &
		mon=$!; wait_ready "$out" "rf-ready-$$" ;;
	bpftrace)
		bpftrace -e "$bt" >"$out" 2>"$BENCH_TMP/bt.err" &
		mon=$!
		for _ in $(seq 100); do grep -q "Attaching" "$out" 2>/dev/null && break; sleep 0.1; done
		sleep 0.5 ;;
	auditd)
		auditctl "${audit_rule[@]}" >/dev/null
		auditctl -b 65536 >/dev/null ;;
	esac
	res=$(run_storm); ns=${res% *}; p=${res#* }
	sleep 0.5
	case $cfg in
	none) cap=- ;;
	ringfence|ringfence-raw)
		kill -INT $mon; wait $mon
		cap=$(count_rf "$out" "$p") ;;
	bpftrace)
		kill -INT $mon; wait $mon
		if [ "$STORM" = exec ]; then cap=$(awk -v p="$p" '$2 == p' "$out" | wc -l)
		else cap=$(awk -v p="$p" '$1 == p' "$out" | wc -l); fi ;;
	auditd)
		auditctl -d "${audit_rule[@]:1}" >/dev/null 2>&1 || auditctl -W "$DIR" -p wa -k rfbench >/dev/null 2>&1
		prev=-1
		for _ in $(seq 60); do # auditd writes asynchronously: wait until the count settles
			if [ "$STORM" = exec ]; then
				cap=$(cat /var/log/audit/audit.log* 2>/dev/null | grep 'key="rfbench"' | grep -c " ppid=$p ")
			else
				cap=$(cat /var/log/audit/audit.log* 2>/dev/null | grep 'key="rfbench"' | grep -c " pid=$p ")
			fi
			[ "$cap" = "$prev" ] && break
			prev=$cap; sleep 0.5
		done ;;
	esac
	echo "$ns $cap"
}

declare -A times captured
echo "$STORM storm: N=$N, $ROUNDS rounds, configurations interleaved"
for r in $(seq "$ROUNDS"); do
	for cfg in "${configs[@]}"; do
		read -r ns cap < <(one "$cfg")
		times[$cfg]+="$ns "
		prev=${captured[$cfg]:-}
		if [ "$cap" = - ]; then captured[$cfg]=-
		elif [ -z "$prev" ] || [ "$cap" -lt "$prev" ]; then captured[$cfg]=$cap; fi
		printf '  round %d %-14s %8.3f s  captured %s\n' "$r" "$cfg" "$(echo "$ns / 1000000000" | bc -l)" "$cap"
	done
done
base=$(echo ${times[none]} | tr ' ' '\n' | median)
printf '\n%-14s %10s %10s %16s\n' "$STORM storm" "median s" slowdown "captured/N"
for cfg in "${configs[@]}"; do
	m=$(echo ${times[$cfg]} | tr ' ' '\n' | median)
	printf '%-14s %10.3f %9.2fx %16s\n' "$cfg" "$(echo "$m / 1000000000" | bc -l)" \
		"$(echo "$m / $base" | bc -l)" "${captured[$cfg]}/$N"
done
