#!/bin/bash
# Syscall storms, each with no monitoring, with ringfence delivering every event to a
# consumer (`ringfence events --json`, output on tmpfs; it runs as a SCHED_BATCH task,
# its default: docs/sensor.md, "The reader's own cost"), with auditd (equivalent
# rules, logging to its file) and with bpftrace (printing each event), side by side
# in interleaved rounds.
#
# Method (this 2-core VM is noisy and bimodal: the same configuration can take 1x or
# 1.5x in consecutive rounds, so no single figure is trusted alone):
# - every round runs every configuration once; the order rotates from round to round
#   (none always first would favour it on a machine that warms up or gets busier);
# - for each configuration it prints three slowdowns against no monitoring:
#     median of per-round ratios: each round's time / that same round's "none" time,
#       then the median over the rounds (pairs a run with its own round's baseline:
#       drift in load between rounds cancels);
#     min-time ratio: the fastest round of the configuration / the fastest "none"
#       (the cost on the machine at its quietest);
#     plain median ratio: median time / median "none" time;
#   and the same per-round median for the storm's own CPU time (user + kernel, which
#   includes the monitors' in-kernel programs);
# - wake-ups: irq_work interrupts on all CPUs during the storm, per 1000 operations
#   (/proc/interrupts IWI). A BPF ring or perf buffer wakes its reader through
#   irq_work (on a VM a self-IPI, an exit to the hypervisor); on this machine their
#   number decides most of a round's time, so it is printed beside it;
# - monitor ms/1k: the CPU time of the monitor's user-space process per 1000
#   operations (ringfence events, bpftrace; auditd's daemon is not counted);
# - captured/N: events the monitor recorded for the storm's process / operations, the
#   lowest over the rounds.
#   bench/storms.sh STORM [N] [ROUNDS]        (ROUNDS also from BENCH_ROUNDS, default 9)
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
ROUNDS=${3:-${BENCH_ROUNDS:-9}}
H="$RF_BUILD/tests/helpers"
[ "$(id -u)" = 0 ] || { echo "storms: needs root (eBPF, auditd)"; exit 1; }
ensure_tracefs
ensure_auditd || true
DIR=$(mktemp -d /tmp/rf-bench-open.XXXXXX)
bench_on_exit "rm -rf '$DIR'"

configs=(none ringfence auditd bpftrace)
[ "$STORM" = open ] && configs+=(ringfence-raw)
# BENCH_CONFIGS="none ringfence": a subset, for a quick look (make bench runs them all)
[ -n "${BENCH_CONFIGS:-}" ] && read -ra configs <<< "$BENCH_CONFIGS"

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

irq_work() { # irq_work interrupts so far, all CPUs
	awk '$1 == "IWI:" {s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s}' /proc/interrupts
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

one() { # CONFIG -> "ns captured storm_cpu_us monitor_cpu_ticks irq_work"
	local cfg=$1 out="$BENCH_TMP/$cfg.out" mon= res ns p cap=0 prev cpu m0=0 m1=0 w0 w1
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
	w0=$(irq_work)
	res=$(run_storm); read -r ns p cpu <<<"$res"
	w1=$(irq_work)
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
	echo "$ns $cap $cpu $((m1 - m0)) $((w1 - w0))"
}

declare -A T C M W captured # per "cfg round": wall ns, storm cpu us, monitor ticks, irq_work
hz=$(getconf CLK_TCK)
echo "$STORM storm: N=$N, $ROUNDS rounds, configurations interleaved (order rotates)"
nc=${#configs[@]}
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((nc - 1))); do
		cfg=${configs[$(((k + r - 1) % nc))]}
		read -r ns cap cpu mt wk < <(one "$cfg")
		T[$cfg $r]=$ns; C[$cfg $r]=$cpu; M[$cfg $r]=$mt; W[$cfg $r]=$wk
		prev=${captured[$cfg]:-}
		if [ "$cap" = - ]; then captured[$cfg]=-
		elif [ -z "$prev" ] || [ "$cap" -lt "$prev" ]; then captured[$cfg]=$cap; fi
		printf '  round %d %-14s %8.3f s  storm cpu %8.3f s  wake-ups %7d  captured %s\n' "$r" "$cfg" \
			"$(echo "$ns / 1000000000" | bc -l)" "$(echo "$cpu / 1000000" | bc -l)" "$wk" "$cap"
	done
done

col() { # ARRAY CFG: the rounds' values, one a line
	local -n a=$1
	local r
	for r in $(seq "$ROUNDS"); do echo "${a[$2 $r]}"; done
}
ratios() { # ARRAY CFG: per-round ratios cfg / none, one a line
	local -n a=$1
	local r
	for r in $(seq "$ROUNDS"); do echo "${a[$2 $r]} ${a[none $r]}"; done | awk '$2 > 0 {printf "%.6f\n", $1 / $2}'
}
fmedian() { sort -g | awk '{a[NR] = $1} END {m = !NR ? 0 : NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.6f\n", m}'; }
fmin() { sort -g | head -1; }

tmed0=$(col T none | fmedian); tmin0=$(col T none | fmin)
echo
echo "slowdown against no monitoring (wall time): per-round = median over the rounds of (time / that"
echo "round's none); min = fastest round / fastest none; median = median time / median none."
echo "cpu = per-round median of the storm's own CPU time. wake-ups = irq_work interrupts per 1000"
echo "operations (median). captured = lowest over the rounds."
printf '%-14s %9s %9s %8s %8s %9s %10s %10s %14s\n' "$STORM storm" "median s" per-round min median \
	cpu wake/1k "mon ms/1k" captured/N
for cfg in "${configs[@]}"; do
	tmed=$(col T "$cfg" | fmedian)
	tmin=$(col T "$cfg" | fmin)
	prr=$(ratios T "$cfg" | fmedian)
	pcr=$(ratios C "$cfg" | fmedian)
	wk=$(col W "$cfg" | fmedian)
	mc=$(col M "$cfg" | fmedian)
	printf '%-14s %9.3f %8.2fx %7.2fx %7.2fx %8.2fx %10.1f %10s %14s\n' "$cfg" \
		"$(echo "$tmed / 1000000000" | bc -l)" "$prr" "$(echo "$tmin / $tmin0" | bc -l)" \
		"$(echo "$tmed / $tmed0" | bc -l)" "$pcr" "$(echo "$wk * 1000 / $N" | bc -l)" \
		"$(case $cfg in none|auditd) echo - ;; *) printf '%.2f' "$(echo "$mc * 1000 / $hz * 1000 / $N" | bc -l)" ;; esac)" \
		"${captured[$cfg]}/$N"
done
