#!/usr/bin/env bash
# AUTH: a client that denies exec of a marked binary makes execve fail with EPERM, the
# denial is reported (NOTIFY subscribers get the decided request, the daemon logs it,
# status counts it), and an allowed binary still runs. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
cp /bin/true "$MNT/denyme"

start_daemon --no-source --auth-mount "$MNT"
authc --name a --mode allow --deny denyme --classes auth_exec --ready "$T/ra" & on_exit "kill $!"
authc --name r --mode notify --classes auth_exec --ready "$T/rr" > "$T/rep" & on_exit "kill $!"
check "clients subscribed" ready "$T/ra"
ready "$T/rr"

"$MNT/true"; is "allowed binary runs" $? 0
"$MNT/denyme" 2>"$T/err"; rc=$?
is "denied binary: exec fails (126)" $rc 126
check "denied binary: the error is EPERM" grep -q "Operation not permitted" "$T/err"
# the same denial through execve(2) directly, errno checked
perl -e 'exec($ARGV[0]) or exit($!{EPERM} ? 42 : 1)' "$MNT/denyme" 2>/dev/null
is "execve(2) returns EPERM" $? 42
check "report: NOTIFY subscriber saw the denial" wait_for 5 grep -q "class=auth_exec verdict=2 cached=0 path=$MNT/denyme" "$T/rep"
check "report: NOTIFY subscriber saw the allow" grep -q "class=auth_exec verdict=1 cached=0 path=$MNT/true" "$T/rep"
check "daemon logged the denial" grep -q "auth: denied exec of $MNT/denyme" "$DLOG"
is "status counts two denials" "$(aj .auth.denied)" 2
is "client verdicts: 2 denied" "$(aj '.clients[] | select(.modes == ["auth"]) | .auth.denied')" 2
is "no deadline misses" "$(aj .auth.deadline_misses)" 0
is "nothing pending" "$(aj .auth.pending)" 0
# an open of a marked file is not asked about: no client subscribed auth_open
cat "$MNT/denyme" >/dev/null; is "open not subscribed: allowed" $? 0
done_testing
