#!/bin/bash
# Fan-out benchmark of the broker (issue 4): events replayed from a capture file to
# 1, 4 and 16 clients (events/s delivered per client, drops), a paced run at the
# goal rate, the two fan-out designs compared without the daemon (copy per client,
# write once + index), and end-to-end latency (event timestamp -> client receipt) p50/p99 at
# 10,000 events/s: through the daemon alone (synthetic) and live (kernel timestamp,
# eBPF sensor, daemon, ring, client) with a fork load.
#   bench/fanout.sh [BUILD_DIR]      (default $RF_BUILD, else build) needs root (manifests identify clients as root)
# Environment: RF_BENCH_RING (ring per client, default 4M), RF_BENCH_COUNT (events
# per run, default 5000000). Figures only: nothing here passes or fails.
set -u
BUILD=${1:-${RF_BUILD:-build}}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
RF=$BUILD/ringfence
TC=$BUILD/tests/helpers/rf_testclient
RING=${RF_BENCH_RING:-4M}
COUNT=${RF_BENCH_COUNT:-5000000}
if [ "$(id -u)" != 0 ]; then
	echo "fanout: skipped (needs root: the test manifests name user root)"
	exit 0
fi
T=$(mktemp -d /tmp/rf-fanout.XXXXXX)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
LIBS="-lbpf -lelf -lz -lsodium -lseccomp -lyaml -lhs -lcurl -lsqlite3 -lpthread -lm"
for t in mkcapture forker modes; do
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

echo "== throughput: replay as fast as possible (delivered events/s per client; a"
echo "   client slower than the source loses events, counted)"
for n in 1 4 16; do run "$T/small.cap" process_fork,process_exit "$n" "$COUNT" max "replay fork/exit (small)"; done
for n in 1 4 16; do run "$T/exec.cap" process_exec "$n" $((COUNT / 2)) max "replay process_exec"; done
echo "== paced at the goal rate: 5,000,000 events/s replayed to 4 clients"
run "$T/small.cap" process_fork,process_exit 4 "$COUNT" 5000000 "replay fork/exit at 5M/s"

echo "== transport alone: copy per client vs write once + index (one process, threads,"
echo "   lossless; bench/fanout_modes.c)"
for m in copy indexed; do
	for n in 1 4 16; do "$T/modes" $m $n small $((COUNT / 2)); done
	"$T/modes" $m 4 exec $((COUNT / 4))
done

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
"$RF" daemon --socket "$T/sock" --config "$T/conf" 2>"$T/daemon.log" &
d=$!; pids+=("$d")
for i in $(seq 100); do [ -S "$T/sock" ] && break; sleep 0.05; done
sleep 0.5
"$TC" --socket "$T/sock" --name b1 --classes process_fork,process_exit --expect 30000 --idle-ms 3000 --latency > "$T/live.out" 2>&1 &
c=$!
sleep 0.2
"$T/forker" 5000 3 > /dev/null
wait "$c"
out=$(cat "$T/live.out")
src=$(grep -o "source [a-z() ]*" "$T/daemon.log" | head -1)
kill -TERM "$d"; wait "$d" 2>/dev/null
if [ -n "$(kv lat_p50_ns "$out")" ]; then
	printf '   live (%s; fork load 5,000/s = 10,000 events/s; %s events): p50 %6.1f us, p99 %6.1f us, max %8.1f us, dropped %s\n' \
		"${src#source }" "$(kv read "$out")" \
		"$(echo "$(kv lat_p50_ns "$out") / 1000" | bc -l)" "$(echo "$(kv lat_p99_ns "$out") / 1000" | bc -l)" \
		"$(echo "$(kv lat_max_ns "$out") / 1000" | bc -l)" "$(kv dropped "$out")"
else
	echo "   live: no result ($out)"
fi
