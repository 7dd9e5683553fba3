#!/bin/bash
# Rule throughput on one core: process_exec events against all of SigmaHQ's Linux
# rules (the ones that compile: every process_creation rule), through the Hyperscan
# matcher and through the naive evaluator (each rule on its own, no Hyperscan), in the
# same run. Goals (issue 8): >= 2,000,000 events/s and >= 10x the naive evaluator.
# Events: synthetic (20 command lines, a fifth of them suspicious), or a capture given
# as RF_BENCH_CAPTURE. Seconds per engine: RF_BENCH_SECONDS (default 5).
set -u
source "$(dirname "$0")/lib.sh"
SIGMA=${RF_SIGMA_DIR:-$RF_TOP/../shared/sigma}/rules-linux
secs=${RF_BENCH_SECONDS:-5}
cap=()
[ -n "${RF_BENCH_CAPTURE:-}" ] && cap=(--capture "$RF_BENCH_CAPTURE")
if [ ! -d "$SIGMA" ]; then
	echo "rules: $SIGMA missing, skipped"
	exit 0
fi
# one core: pinned, like a client would be
pin=()
command -v taskset >/dev/null && pin=(taskset -c "${RF_BENCH_CPU:-1}")
echo "SigmaHQ Linux rules ($SIGMA), ${secs} s per engine, one core"
"${pin[@]}" "$RF_BIN" rules bench --rules "$SIGMA" --seconds "$secs" "${cap[@]}" 2>/dev/null |
	tee "$BENCH_TMP/rules.out"
fast=$(awk '/^matcher/ {print $3}' "$BENCH_TMP/rules.out")
speedup=$(awk '/^speed-up/ {print $2}' "$BENCH_TMP/rules.out")
echo "goal: >= 2000000 events/s: $([ "${fast%.*}" -ge 2000000 ] 2>/dev/null && echo met || echo NOT met)"
echo "goal: >= 10x naive: $(awk -v s="${speedup%x}" 'BEGIN {print (s >= 10) ? "met" : "NOT met"}')"

# Replayed events: record the process_exec events of a small workload of everyday
# commands (needs root for the sensor), then run the same comparison over them.
if [ -z "${RF_BENCH_CAPTURE:-}" ] && [ "$(id -u)" = 0 ]; then
	rec=$BENCH_TMP/workload.rfcap
	"$RF_BIN" record "$rec" --for 6 --class process_exec >/dev/null 2>"$BENCH_TMP/rec.err" &
	rp=$!
	sleep 2
	for i in $(seq 40); do
		ls -la /etc >/dev/null; id >/dev/null; uname -a >/dev/null; cat /etc/hostname >/dev/null
		grep -c root /etc/group >/dev/null; date +%s >/dev/null; ps -e >/dev/null 2>&1
		sh -c 'echo $((1+1))' >/dev/null; env >/dev/null; find /etc -maxdepth 1 -name "*.conf" >/dev/null
		head -n1 /etc/os-release >/dev/null; wc -l /etc/passwd >/dev/null; sort /etc/hostname >/dev/null
		awk '{print $1}' /etc/hostname >/dev/null; sed -n 1p /etc/hostname >/dev/null
	done
	wait $rp
	n=$("$RF_BIN" replay "$rec" 2>/dev/null | grep -c process_exec)
	echo
	echo "Replayed: $n process_exec events of an everyday-command workload, recorded by the sensor"
	"${pin[@]}" "$RF_BIN" rules bench --rules "$SIGMA" --seconds "$secs" --capture "$rec" 2>/dev/null
fi
echo
echo "Default pack (rules/default):"
"${pin[@]}" "$RF_BIN" rules bench --rules "$RF_TOP/rules/default" --seconds "$secs" "${cap[@]}" 2>/dev/null
