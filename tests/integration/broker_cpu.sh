#!/bin/bash
# `ringfence daemon --cpu N` and RF_CLIENT_NEAR_DAEMON (docs/client-api.md, "Latency"):
# the daemon pins itself to CPU N and refuses a CPU it may not use; the clients it
# starts are not pinned with it; a client that opens with RF_CLIENT_NEAR_DAEMON is
# pinned to the daemon's CPU and loses nothing, and is refused (-ENXIO, with the
# reason) by a daemon that is not pinned.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
need_root "SO_PEERCRED identity as root; the supervisor starts a client"
sup_setup
manifest near
cpus() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }
mine=$(cpus $$)

for bad in x -1 "" 4096; do
	out=$("$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --cpu "$bad" 2>&1)
	is "--cpu '$bad': usage error" "$?" 2
done
check "and it says what it wants" grep -q "CPU number below 1024" <<<"$out"
n=$(nproc --all)
out=$(taskset -c 0 "$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --cpu 1 2>&1)
is "--cpu 1 when only CPU 0 is allowed: usage error" "$?" 2
check "and it says why" grep -q "not one of the 1 CPUs this daemon may run on" <<<"$out"

# not pinned: a client that asks to run near the daemon is refused, with the reason
start_daemon --synthetic process_fork --rate 1000 --count 100 --wait-clients 1
out=$(client --name near --classes process_fork --near-daemon --expect 100 2>&1)
is "RF_CLIENT_NEAR_DAEMON, daemon not pinned: refused" "$?" 3
check "with the reason" grep -q "the daemon is not pinned to a CPU (start it with --cpu N)" <<<"$out"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; rm -f "$SOCK"

# pinned to the last CPU, with a supervised client
cpu=$((n - 1))
sup_user nearsup
cat > "$T/conf/clients.d/nearsup.conf" <<EOF2
name = nearsup
executable = $CLIENT_EXE
user = auto
start = yes
classes = process_fork
ring_size = 1M
args = --name nearsup --socket {socket} --classes process_fork --expect 100000000 --idle-ms 60000
EOF2
start_daemon --cpu "$cpu" --synthetic process_fork --rate 20000 --count 20000 --wait-clients 2
is "daemon --cpu $cpu: pinned" "$(cpus "$DPID")" "$cpu"
check "the supervised client runs" wait_for 10 sh -c "[ \"\$('$RF_BIN' status --json --socket '$SOCK' | jq -r '.clients[] | select(.name == \"nearsup\") | .pid')\" -gt 0 ] 2>/dev/null"
sp=$(sup_field nearsup .pid)
is "the client the daemon started is not pinned with it" "$(cpus "$sp")" "$mine"
client --name near --classes process_fork --near-daemon --expect 20000 --idle-ms 3000 \
	--ready "$T/ready" --pause "$T/go" > "$T/out" 2>&1 &
C=$!
on_exit "kill $C 2>/dev/null"
wait_for 10 test -e "$T/ready"
is "RF_CLIENT_NEAR_DAEMON: the client runs on the daemon's CPU" "$(cpus "$C")" "$cpu"
touch "$T/go"
wait $C
out=$(cat "$T/out")
diag "$out"
is "and gets every event" "$(kv read "$out"):$(kv dropped "$out"):$(kv gaps "$out")" "20000:0:0"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
done_testing
