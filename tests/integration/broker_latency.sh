#!/bin/bash
# The broker's latency options (docs/client-api.md, "Latency"): the daemon takes the
# shortest time slice by default (--sched slice), SCHED_FIFO with --sched fifo (and
# does not hand it down to the clients it starts), refuses a bad --sched; a client
# with RF_CLIENT_SHORT_SLICE and spin_us loses nothing; --latency-trace writes one
# line per live event that matches the client's own record of it (the hop figures
# of bench/fanout.sh rest on that join).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "live sensor (eBPF), SCHED_FIFO and SO_PEERCRED identity as root"
broker_setup
manifest lat

out=$("$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --sched bogus 2>&1)
is "--sched bogus: usage error" "$?" 2
check "and it names the choices" grep -q "slice, fifo\[:PRIO\] or other" <<<"$out"
out=$("$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --sched fifo:100 2>&1)
is "--sched fifo:100: usage error" "$?" 2

sched_field() { sed -n "s/^$2 *: *//p" "/proc/$1/sched"; }

# the default: normal policy, shortest slice (Linux 6.12+; older ones warn and go on)
start_daemon --synthetic process_fork,process_exit --rate 20000 --count 20000 --wait-clients 1
if grep -q "sched_setattr" "$DLOG"; then
	skip "no custom slices on this kernel: $(grep sched_setattr "$DLOG")"
else
	is "daemon: normal policy by default" "$(sched_field "$DPID" policy)" 0
	is "daemon: shortest slice by default" "$(sched_field "$DPID" se.slice)" 100000
fi
client --name lat --classes process_fork,process_exit --short-slice --spin-us 50 \
	--expect 20000 --idle-ms 3000 --ready "$T/ready" --pause "$T/go" > "$T/out" 2>&1 &
C=$!
on_exit "kill $C 2>/dev/null"
wait_for 10 test -e "$T/ready"
is "client: RF_CLIENT_SHORT_SLICE gave it the shortest slice" "$(sched_field "$C" se.slice)" 100000
touch "$T/go"
wait $C
out=$(cat "$T/out")
diag "$out"
is "a spinning client gets every event" "$(kv read "$out"):$(kv dropped "$out"):$(kv gaps "$out")" "20000:0:0"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# --sched fifo, with the live sensor and the latency trace
rm -f "$T/ready"
start_daemon --sched fifo --latency-trace "$T/trace"
is "daemon: SCHED_FIFO with --sched fifo" "$(sched_field "$DPID" policy)" 1
client --name lat --classes process_exec,process_exit --latency-dump "$T/dump" --expect 40 \
	--idle-ms 3000 --ready "$T/ready" --pause "$T/go2" > "$T/out" 2>&1 &
C=$!
wait_for 10 test -e "$T/ready"
is "the client does not inherit it" "$(sched_field "$C" policy)" 0
touch "$T/go2"
for i in $(seq 20); do /bin/true; done
wait $C
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
check "the daemon wrote its latency trace" test -s "$T/trace"
n=$(wc -l < "$T/dump")
m=$(awk 'NR == FNR { k[$1" "$2" "$3] = 1; next } ($1" "$2" "$3) in k' "$T/trace" "$T/dump" | wc -l)
check "every event the client got is in the daemon's trace ($m of $n)" test "$n" -ge 40 -a "$m" -eq "$n"
bad=$(awk 'NR == FNR { r[$1" "$2" "$3] = $5; next }
	   ($1" "$2" "$3) in r && !(r[$1" "$2" "$3] <= $4 && $1 <= r[$1" "$2" "$3]) { n++ }
	   END { print n + 0 }' "$T/trace" "$T/dump")
is "kernel time <= read by the daemon <= client receipt, for each event" "$bad" 0
done_testing
