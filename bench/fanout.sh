#!/bin/bash
# Fan-out benchmark of the broker (issue 4): events replayed from a capture file to
# 1, 4 and 16 clients (events/s delivered per client, drops), a paced run at the
# goal rate, the two fan-out designs compared without the daemon (copy per client,
# write once + index), and end-to-end latency (event timestamp -> client receipt) p50/p99 at
# 10,000 events/s: through the daemon alone (synthetic) and live (kernel timestamp,
# eBPF sensor, daemon, ring, client) with a fork load, split into hops (kernel ->
# daemon woken -> read -> fan-out and wake-up -> client), in three configurations:
# the default (`ringfence daemon` as `make run` starts it: --sched slice; a plain
# client), a client that asks for a short slice and polls 50 us before sleeping, and
# daemon and client under SCHED_FIFO, and the same with the daemon pinned to one CPU
# (--cpu) and the client on that CPU (RF_CLIENT_NEAR_DAEMON: the daemon hands each batch
# to the client without a cross-CPU wake-up). The machine's own timer wake-up latency is
# printed beside them: no hop can be faster than that.
#   bench/fanout.sh [BUILD_DIR]      (default $RF_BUILD, else build) needs root (manifests identify clients as root)
# Environment: RF_BENCH_RING (ring per client, default 4M), RF_BENCH_COUNT (events
# per run, default 5000000), RF_FANOUT_PARTS (default "throughput modes latency": the
# parts to run). Figures only: nothing here passes or fails.
set -u
BUILD=${1:-${RF_BUILD:-build}}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
RF=$BUILD/ringfence
TC=$BUILD/tests/helpers/rf_testclient
RING=${RF_BENCH_RING:-4M}
COUNT=${RF_BENCH_COUNT:-5000000}
PARTS=${RF_FANOUT_PARTS:-throughput modes latency}
part() { [[ " $PARTS " == *" $1 "* ]]; }
if [ "$(id -u)" != 0 ]; then
	echo "fanout: skipped (needs root: the test manifests name user root)"
	exit 0
fi
T=$(mktemp -d /tmp/rf-fanout.XXXXXX)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
LIBS="-lbpf -lelf -lz -lsodium -lseccomp -lyaml -lhs -lcurl -lsqlite3 -lpthread -lm"
for t in mkcapture forker modes wakelat; do
	clang -O2 -D_GNU_SOURCE -Iinclude -Ilib -Isrc -I"$BUILD/gen" -I"$BUILD/gen/ringfence" \
		-o "$T/$t" "bench/fanout_$t.c" "$BUILD/librf-core.a" "$BUILD/libringfence.a" $LIBS || exit 1
done
mkdir -p "$T/conf/clients.d"
exe=$(readlink -f "$TC")
for i in $(seq 1 16); do
	printf 'name = b%s\nexecutable = %s\nuser = root\nclasses = *\nring_size = %s\n' \
		"$i" "$exe" "$RING" > "$T/conf/clients.d/b$i.conf"
done
echo "== fan-out: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), ring $RING per client"
echo "   small: $("$T/mkcapture" "$T/small.cap" process_fork,process_exit 200000)"
echo "   exec:  $("$T/mkcapture" "$T/exec.cap" process_exec 200000)"

kv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# run FILE CLASSES NCLIENTS COUNT RATE LABEL
run() {
	local file=$1 classes=$2 n=$3 count=$4 rate=$5 label=$6 i d cl=() sum=0 min= read drop tot_drop=0 eps
	"$RF" daemon --socket "$T/sock" --config "$T/conf" --replay "$file" --count "$count" \
		--rate "$rate" --wait-clients "$n" 2>"$T/daemon.log" &
	d=$!; pids+=("$d")
	for i in $(seq 50); do [ -S "$T/sock" ] && break; sleep 0.05; done
	for i in $(seq 1 "$n"); do
		"$TC" --socket "$T/sock" --name "b$i" --classes "$classes" --expect "$count" \
			--idle-ms 1000 > "$T/c$i.out" 2>&1 &
		cl+=($!)
	done
	wait "${cl[@]}"
	kill -TERM "$d"; wait "$d" 2>/dev/null
	for i in $(seq 1 "$n"); do
		out=$(cat "$T/c$i.out")
		eps=$(kv eps "$out"); eps=${eps:-0}
		read=$(kv read "$out"); drop=$(kv dropped "$out")
		sum=$((sum + eps)); tot_drop=$((tot_drop + ${drop:-0}))
		{ [ -z "$min" ] || [ "$eps" -lt "$min" ]; } && min=$eps
	done
	printf '   %-34s %2d client(s): per client %6.2f M events/s avg, %6.2f min; dropped %5.1f%%\n' \
		"$label" "$n" "$(echo "$sum / $n / 1000000" | bc -l)" "$(echo "$min / 1000000" | bc -l)" \
		"$(echo "100 * $tot_drop / ($n * $count)" | bc -l)"
}

if part throughput; then
echo "== throughput: replay as fast as possible (delivered events/s per client; a"
echo "   client slower than the source loses events, counted)"
for n in 1 4 16; do run "$T/small.cap" process_fork,process_exit "$n" "$COUNT" max "replay fork/exit (small)"; done
for n in 1 4 16; do run "$T/exec.cap" process_exec "$n" $((COUNT / 2)) max "replay process_exec"; done
echo "== paced at the goal rate: 5,000,000 events/s replayed to 4 clients"
run "$T/small.cap" process_fork,process_exit 4 "$COUNT" 5000000 "replay fork/exit at 5M/s"
fi

if part modes; then
echo "== transport alone: copy per client vs write once + index (one process, threads,"
echo "   lossless; bench/fanout_modes.c)"
for m in copy indexed; do
	for n in 1 4 16; do "$T/modes" $m $n small $((COUNT / 2)); done
	"$T/modes" $m 4 exec $((COUNT / 4))
done
fi
part latency || exit 0

echo "== latency at 10,000 events/s (event timestamp -> client receipt)"
"$RF" daemon --socket "$T/sock" --config "$T/conf" --synthetic process_fork,process_exit \
	--rate 10000 --count 30000 --wait-clients 1 2>"$T/daemon.log" &
d=$!; pids+=("$d")
for i in $(seq 50); do [ -S "$T/sock" ] && break; sleep 0.05; done
out=$("$TC" --socket "$T/sock" --name b1 --classes process_fork,process_exit --expect 30000 --latency)
kill -TERM "$d"; wait "$d" 2>/dev/null
printf '   daemon only (synthetic, 30,000 events): p50 %6.1f us, p99 %6.1f us, max %8.1f us\n' \
	"$(echo "$(kv lat_p50_ns "$out") / 1000" | bc -l)" "$(echo "$(kv lat_p99_ns "$out") / 1000" | bc -l)" \
	"$(echo "$(kv lat_max_ns "$out") / 1000" | bc -l)"
# hops TRACE DUMP: join the daemon's --latency-trace with the client's --latency-dump
# (key: time stamp, class, pid) and print p50/p99/max of each hop
hops() {
	awk 'NR == FNR { w[$1" "$2" "$3] = $4; p[$1" "$2" "$3] = $5; next }
	     ($1" "$2" "$3) in w { k = $1" "$2" "$3; ts = $1; wk = w[k]; rd = p[k]; rc = $4
		a = wk > ts ? wk - ts : 0; s = wk > ts ? wk : ts   # came while it was awake: 0
		print a, rd - s, rc - rd, rc - ts }' "$1" "$2" > "$2.hops"
	local n i name
	n=$(wc -l < "$2.hops")
	if [ "$n" -eq 0 ]; then echo "     hops: no events matched"; return; fi
	i=1
	for name in "kernel -> daemon woken" "daemon reads, normalises" "fan-out, wake-up -> client" "total ($n events matched)"; do
		cut -d' ' -f$i "$2.hops" | sort -n | awk -v n="$n" -v name="$name" '
			{ v[NR] = $1 }
			END { printf "     %-30s p50 %7.1f us, p99 %8.1f us, max %9.1f us\n", name,
				v[int(n * 0.5) + 1] / 1000, v[int(n * 0.99) + 1] / 1000, v[n] / 1000 }'
		i=$((i + 1))
	done
}

# live LABEL "DAEMON ARGS" "CLIENT WRAPPER" "CLIENT ARGS": the live sensor, a fork load of
# 5,000/s (10,000 events/s) for 3 s, one client; total latency and the hops
live() {
	local label=$1 dargs=$2 cwrap=$3 cargs=$4 d c out src i cpu
	rm -f "$T/trace" "$T/dump"
	# shellcheck disable=SC2086
	"$RF" daemon --socket "$T/sock" --config "$T/conf" --latency-trace "$T/trace" $dargs 2>"$T/daemon.log" &
	d=$!; pids+=("$d")
	for i in $(seq 600); do [ -S "$T/sock" ] && break; sleep 0.05; done
	sleep 0.5
	# shellcheck disable=SC2086
	$cwrap "$TC" --socket "$T/sock" --name b1 --classes process_fork,process_exit --expect 30000 \
		--idle-ms 3000 --latency-dump "$T/dump" $cargs > "$T/live.out" 2>&1 &
	c=$!
	sleep 0.2
	"$T/forker" 5000 3 > /dev/null
	wait "$c"
	out=$(cat "$T/live.out")
	src=$(grep -o "source [a-z() ]*" "$T/daemon.log" | head -1)
	kill -TERM "$d"; wait "$d" 2>/dev/null
	if [ -z "$(kv lat_p50_ns "$out")" ]; then
		echo "   live, $label: no result ($out)"
		return
	fi
	cpu=$(kv cpu_us "$out")
	printf '   live, %s (%s; %s events, dropped %s; client CPU %.0f ms in ~3.5 s):\n     %-30s p50 %7.1f us, p99 %8.1f us, max %9.1f us\n' \
		"$label" "${src#source }" "$(kv read "$out")" "$(kv dropped "$out")" "$(echo "${cpu:-0} / 1000" | bc -l)" \
		"kernel time -> client receipt" \
		"$(echo "$(kv lat_p50_ns "$out") / 1000" | bc -l)" "$(echo "$(kv lat_p99_ns "$out") / 1000" | bc -l)" \
		"$(echo "$(kv lat_max_ns "$out") / 1000" | bc -l)"
	hops "$T/trace" "$T/dump"
}

echo "   the machine's floor: a timer wake-up 1 ms ahead, 2,000 times, how late it came:"
echo "     normal scheduling:          $("$T/wakelat" 2000)"
echo "     SCHED_FIFO:                 $(chrt -f 1 "$T/wakelat" 2000)"
echo "   live: the eBPF sensor, daemon, ring, client, with a fork load of 5,000 processes/s"
echo "   (10,000 events/s) on the same CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg) before"
live "default (daemon --sched slice; client plain)" "" "" ""
live "client RF_CLIENT_SHORT_SLICE, spin_us 50" "" "" "--short-slice --spin-us 50"
live "daemon --sched fifo, client under chrt -f 1" "--sched fifo" "chrt -f 1" ""
near=$(( $(nproc) - 1 ))
live "daemon --sched fifo --cpu $near, client chrt -f 1, RF_CLIENT_NEAR_DAEMON" "--sched fifo --cpu $near" \
	"chrt -f 1" "--near-daemon"
