#!/bin/bash
# The shadow run on the daemon's own recording of its last seconds of events
# (docs/content.md, "Shadow canary"): `content install --shadow ...` without
# --capture asks the daemon for it. Content that crashes its client on those events
# is refused, and so is content that makes it fall behind them (latency budget);
# good content goes live; a daemon without a recording, an empty
# recording and no daemon at all are each refused with a clear reason. The window
# holds the last N seconds only.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
broker_setup
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
SHADOW="$RF_SHADOW_CLIENT {content} {capture}"
install() { "$RF_BIN" content install --store "$STORE" --shadow "$SHADOW" --socket "$SOCK" "$@"; }

fm_bundle 1 "$T/v1.rfb" "template t1 process_exec 0 7:int 10"
fm_bundle 2 "$T/crashy.rfb" "template t1 process_exec 0 25"
fm_bundle 2 "$T/slow.rfb" "template slow process_exec 0"

out=$(install "$T/v1.rfb" 2>&1)
is "no daemon: install refused" "$?" 1
check "and it says there is no daemon and to give --capture" \
	grep -q "no daemon at $SOCK.*--capture FILE" <<<"$out"

# a daemon that generates 1000 process_exec events a second, recording 2 s of them
start_daemon --synthetic process_exec,process_exit --rate 1000 --recent-seconds 2
sleep 3.5
out=$(install "$T/crashy.rfb" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "refused (SHADOW).*crashed" <<<"$out"; then
	ok "content that crashes its client on the daemon's recent events is refused"
else
	fail "crashing content on the recording: exit $rc: $out"
fi
check "the install said it used the daemon's recording" \
	grep -q "shadow run on the daemon's recording: [0-9]* events" <<<"$out"
is "nothing went live" "$(test -e "$STORE/fragile/state" && echo yes || echo no)" no
# 5 ms per exec event, ~1000 of them a second: the client would fall behind
out=$(install "$T/slow.rfb" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "refused (SHADOW).*fell behind.*latency budget" <<<"$out"; then
	ok "content that makes its client fall behind live events is refused (latency budget)"
else
	fail "slow content: exit $rc: $out"
fi
out=$(install --shadow-realtime 0 "$T/slow.rfb" 2>&1)
is "--shadow-realtime 0: usage error" "$?" 2
out=$(install "$T/v1.rfb" 2>&1)
is "good content passes the shadow run on the recording and goes live" "$?" 0
is "v1 is current" "$(state_field current)" 1
line=$(grep "shadow run on the daemon's recording" <<<"$out")
diag "$line"
events=$(sed -n 's/.*recording: \([0-9]*\) events.*/\1/p' <<<"$line")
span=$(sed -n 's/.* over \([0-9.]*\) s.*/\1/p' <<<"$line")
check "the recording holds the last 2 s only (span $span s)" awk -v s="$span" 'BEGIN { exit !(s > 1.0 && s <= 2.05) }'
check "about 2 s of events at 1000/s ($events)" test "$events" -ge 1000 -a "$events" -le 2200
check "the temporary copy of the recording is gone" bash -c "! ls '$STORE'/.recent-* 2>/dev/null | grep -q ."
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# a daemon without a recording
start_daemon --synthetic process_exec --rate 100 --recent-seconds 0
out=$(install "$T/v1.rfb" 2>&1)
is "recording off: install refused" "$?" 1
check "and it says why" grep -q "records no recent events.*--capture FILE" <<<"$out"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# a daemon with a recording but no events yet
start_daemon --no-source
out=$(install "$T/v1.rfb" 2>&1)
is "empty recording: install refused" "$?" 1
check "and it says the recording is empty" grep -q "recording of its last 30 s is empty" <<<"$out"
out=$("$RF_BIN" content install --store "$STORE" --shadow "$SHADOW" --socket "$SOCK" --capture /x "$T/v1.rfb" 2>&1)
is "--capture and --socket together: usage error" "$?" 2
done_testing
