# shellcheck shell=bash
# Helpers for benchmarks: monitors started and stopped cleanly, medians, tables.
RF_TOP=${RF_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RF_BUILD=${RF_BUILD:-$RF_TOP/build}
RF_BIN=${RF_BIN:-$RF_BUILD/ringfence}
RF_SIGMA_DIR=${RF_SIGMA_DIR:-$("$RF_TOP/scripts/sigma-dir.sh")}
BENCH_TMP=$(mktemp -d /dev/shm/rf-bench.XXXXXX)
_bench_cleanups=()
bench_on_exit() { _bench_cleanups=("$*" "${_bench_cleanups[@]}"); }
_bench_cleanup() { local c; for c in "${_bench_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done; rm -rf "$BENCH_TMP"; }
trap _bench_cleanup EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%d\n", (a[NR/2]+a[NR/2+1])/2}'; }

# tracefs for the peers that need classic tracepoints (bpftrace); unmounted again
# only if we mounted it
ensure_tracefs() {
	if [ ! -e /sys/kernel/tracing/events ]; then
		mount -t tracefs nodev /sys/kernel/tracing && bench_on_exit "umount /sys/kernel/tracing"
	fi
}

# auditd: use a running one, or start our own in the foreground (and stop only ours)
AUDITD_PID=
ensure_auditd() {
	# an auditd that is running and answering (one that is shutting down does not)
	if pgrep -x auditd >/dev/null && auditctl -s 2>/dev/null | grep -q "pid [1-9]"; then return 0; fi
	for _ in $(seq 50); do pgrep -x auditd >/dev/null || break; sleep 0.1; done
	mkdir -p /var/log/audit
	/sbin/auditd -n >"$BENCH_TMP/auditd.out" 2>&1 &
	AUDITD_PID=$!
	# stop it and wait until it is gone: the next script must not find it dying
	bench_on_exit "kill $AUDITD_PID; wait $AUDITD_PID"
	for _ in $(seq 50); do auditctl -s 2>/dev/null | grep -q "pid [1-9]" && return 0; sleep 0.1; done
	echo "bench: auditd did not start: $(cat "$BENCH_TMP/auditd.out")" >&2
	return 1
}

# wait until a monitor writing to FILE shows a probe exec
wait_ready() {
	local file=$1 tag=$2 i
	for i in $(seq 100); do /bin/sh -c ": $tag"; sleep 0.1; grep -q "$tag" "$file" 2>/dev/null && return 0; done
	return 1
}
