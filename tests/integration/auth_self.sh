#!/usr/bin/env bash
# AUTH self-exemption: the daemon's parent (its supervisor; here this script) and its
# identified clients are never asked about, so a client that opens a marked file while
# it is the only AUTH client (and does not answer) does not wait on itself; any other
# process does wait for the deadline. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
echo data > "$MNT/f"
DL=1500

start_daemon --no-source --auth-mount "$MNT" --auth-deadline-open $DL --auth-miss-limit 0
authc --name a --mode hang --classes auth_open --ready "$T/ra" & H=$!; on_exit "kill $H"
check "hung client subscribed" ready "$T/ra"

# a second AUTH client of the same engine opens a marked file: exempt (it would wait
# for the hung client otherwise)
authc --name a --mode hang --classes auth_open --open "$MNT/f" --ready "$T/rb" > "$T/open.out" &
H2=$!; on_exit "kill $H2"
ready "$T/rb"
us=$(sed -n 's/^open_us=\([0-9]*\) rc=0$/\1/p' "$T/open.out")
diag "a client's own open took ${us:-?} us"
check "a client's own open is not held (${us:-?} us < 500000 us)" test "${us:-999999999}" -lt 500000

# the daemon's parent (this shell, not a subshell) opens a marked file: exempt
t0=$EPOCHREALTIME
read -r x < "$MNT/f"
ms=$(ms_since "$t0")
is "the supervisor's open succeeds" "$x" data
check "the supervisor's open is not held ($ms ms < 500 ms)" test "$ms" -lt 500
check "status counts the exempt requests" test "$(aj .auth.exempt)" -ge 2
is "no miss so far" "$(aj .auth.deadline_misses)" 0

# any other process is asked and waits for the deadline (default allow)
t0=$EPOCHREALTIME
cat "$MNT/f" >/dev/null; rc=$?
ms=$(ms_since "$t0")
is "another process's open: allowed by default" $rc 0
check "... after waiting for the deadline ($ms ms >= $((DL - 100)) ms)" test "$ms" -ge $((DL - 100))
is "... two misses (both hung clients)" "$(aj .auth.deadline_misses)" 2
done_testing
