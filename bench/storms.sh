#!/bin/bash
# Syscall storms, each with no monitoring, with ringfence delivering every event to a
# consumer (`ringfence events --json`, output on tmpfs), with auditd (equivalent
# rules, logging to its file) and with bpftrace (printing each event), side by side
# in interleaved rounds. Prints median wall time, slowdown against no monitoring, and
# events captured / expected (the lowest over the rounds). The order of the
# configurations rotates from round to round (none always comes first would favour
# it on a machine that warms up or gets busier). Besides wall time it reports the CPU
# time the storm process itself used (its user + kernel time, which includes the
# monitors' in-kernel programs: the per-operation cost, far less sensitive to other
# load than wall time) and the CPU time the monitor's user-space process used (ringfence
# events, bpftrace; auditd's daemon is not counted) per 1000 operations.
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
ROUNDS=${3:-${BENCH_ROUNDS:-5}}
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

run_storm() { # prints "elapsed_ns pid cpu_us"
	local t0 t1 p
	t0=$(now_ns)
	case $STORM in
	exec) "$H/spawn_storm" "$N" >"$BENCH_TMP/storm.out" & ;;
	open) "$H/open_storm" "$N" "$DIR/target" >"$BENCH_TMP/storm.out" & ;;
	connect) "$H/connect_storm" "$N" >"$BENCH_TMP/storm.out" & ;;
	esac
	p=$!
	wait $p
	t1=$(now_ns)
	echo "$((t1 - t0)) $p $(sed -n 's/^cpu_us //p' "$BENCH_TMP/storm.out" | grep . || echo 0)"
}

cpu_ticks() { # PID: user + system clock ticks so far (0 when gone)
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

count_rf() { # FILE PID
	case $STORM in
	exec) grep -c "\"ppid\":$2," "$1" ;;
	open) grep '"class":"file_' "$1" | grep "\"path\":\"$DIR/target\"" | grep -c "\"pid\":$2," ;;
	*) grep '"class":"net_' "$1" | grep -c "\"pid\":$2," ;;
	esac
}

one() { # CONFIG -> "ns captured storm_cpu_us monitor_cpu_ticks"
	local cfg=$1 out="$BENCH_TMP/$cfg.out" mon= res ns p cap=0 prev cpu m0=0 m1=0
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
	[ -n "$mon" ] && m0=$(cpu_ticks $mon)
	res=$(run_storm); read -r ns p cpu <<<"$res"
	sleep 0.5
	[ -n "$mon" ] && m1=$(cpu_ticks $mon)
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
	echo "$ns $cap $cpu $((m1 - m0))"
}

declare -A times captured cpus mcpus
hz=$(getconf CLK_TCK)
echo "$STORM storm: N=$N, $ROUNDS rounds, configurations interleaved (order rotates)"
nc=${#configs[@]}
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((nc - 1))); do
		cfg=${configs[$(((k + r - 1) % nc))]}
		read -r ns cap cpu mt < <(one "$cfg")
		times[$cfg]+="$ns "
		cpus[$cfg]+="$cpu "
		mcpus[$cfg]+="$mt "
		prev=${captured[$cfg]:-}
		if [ "$cap" = - ]; then captured[$cfg]=-
		elif [ -z "$prev" ] || [ "$cap" -lt "$prev" ]; then captured[$cfg]=$cap; fi
		printf '  round %d %-14s %8.3f s  storm cpu %8.3f s  captured %s\n' "$r" "$cfg" \
			"$(echo "$ns / 1000000000" | bc -l)" "$(echo "$cpu / 1000000" | bc -l)" "$cap"
	done
done
base=$(echo ${times[none]} | tr ' ' '\n' | median)
cbase=$(echo ${cpus[none]} | tr ' ' '\n' | median)
printf '\n%-14s %10s %10s %12s %12s %16s %16s\n' "$STORM storm" "median s" slowdown "storm cpu s" "cpu slowdown" \
	"monitor ms/1k" "captured/N"
for cfg in "${configs[@]}"; do
	m=$(echo ${times[$cfg]} | tr ' ' '\n' | median)
	c=$(echo ${cpus[$cfg]} | tr ' ' '\n' | median)
	mc=$(echo ${mcpus[$cfg]} | tr ' ' '\n' | median)
	printf '%-14s %10.3f %9.2fx %12.3f %11.2fx %16s %16s\n' "$cfg" "$(echo "$m / 1000000000" | bc -l)" \
		"$(echo "$m / $base" | bc -l)" "$(echo "$c / 1000000" | bc -l)" "$(echo "$c / $cbase" | bc -l)" \
		"$(case $cfg in none|auditd) echo - ;; *) printf '%.2f' "$(echo "$mc * 1000 / $hz * 1000 / $N" | bc -l)" ;; esac)" \
		"${captured[$cfg]}/$N"
done
