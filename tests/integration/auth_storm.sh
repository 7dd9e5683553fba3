#!/usr/bin/env bash
# AUTH under load: ${RF_AUTH_STORM_N:-10000} execs (the acceptance run of issue 5 sets
# RF_AUTH_STORM_N=100000; about 3 minutes on 2 cores) of a marked binary (each an
# auth_exec and an auth_open request) with an AUTH client attached that answers
# every request (not cacheable, so each one goes to the client) complete without
# deadlock or miss, and nothing stays pending. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
RF_AUTH_TIMEOUT=${RF_AUTH_TIMEOUT:-600}
export RF_DAEMON_WATCHDOG=${RF_DAEMON_WATCHDOG:-550}
auth_enter_ns "$0" "$@"
auth_setup
N=${RF_AUTH_STORM_N:-10000}
STORM=$RF_BUILD/tests/helpers/spawn_storm

start_daemon --no-source --auth-mount "$MNT" --auth-miss-limit 0
authc --name a --mode allow --classes auth_exec,auth_open --ready "$T/ra" & C=$!; on_exit "kill $C"
check "client subscribed" ready "$T/ra"
t0=$EPOCHREALTIME
timeout -k 5 500 "$STORM" "$N" "$MNT/true" > "$T/storm.out"; rc=$?
ms=$(ms_since "$t0")
is "$N execs completed" "$rc $(cat "$T/storm.out")" "0 spawned $N"
diag "$N execs in $ms ms"
is "every request answered by the client" "$(aj '.clients[0].auth.asked')" $((2 * N))
is "no deadline miss" "$(aj .auth.deadline_misses)" 0
is "nothing pending" "$(aj .auth.pending)" 0
diag "decision p50 $(aj .auth.p50_us) us, p99 $(aj .auth.p99_us) us, max $(aj .auth.max_us) us"
done_testing
