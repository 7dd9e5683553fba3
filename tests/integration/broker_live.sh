#!/bin/bash
# The daemon with the live sensor: a client that allows only one executable
# (inverted executable muting) gets exactly the exec and exit events of that program,
# and none of the forks of the shell that starts it (fork and exit events carry no
# executable: the daemon takes it from the sensor's process table).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "live sensor (eBPF) and SO_PEERCRED identity as root"
broker_setup
manifest live
start_daemon
if grep -q "DEGRADED" "$DLOG"; then diag "sensor degraded: $(grep DEGRADED "$DLOG")"; fi
cp /bin/true "$T/rf-live-true"
PROG=$(readlink -f "$T/rf-live-true")
client --name live --classes process_exec,process_fork,process_exit --mute-exe "$PROG" --invert exe \
	--ready "$T/ready" --expect 40 --idle-ms 3000 > "$T/out" 2>&1 &
C=$!
on_exit "kill $C 2>/dev/null"
wait_for 10 test -e "$T/ready"
for i in $(seq 20); do "$PROG"; done
wait $C
out=$(cat "$T/out")
diag "$out"
is "exec events of the allowed executable only" "$(kv process_exec "$out")" 20
is "exit events of the allowed executable (executable from the process table)" "$(kv process_exit "$out")" 20
is "no fork events (the forking shell is not the allowed executable)" "$(kv process_fork "$out")" ""
is "nothing lost" "$(kv dropped "$out"):$(kv gaps "$out")" "0:0"
check "other events were muted" test "$(kv muted "$out")" -gt 0
done_testing
