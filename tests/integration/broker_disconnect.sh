#!/bin/bash
# Clients that disconnect mid-stream (cleanly, or killed with SIGKILL) leave nothing
# behind in the daemon: the same open descriptors and memory mappings before and
# after, and (with the sanitizer build) no leak reported at exit. Also: descriptors a
# client attaches to its messages are not kept by the daemon.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
# Prefer the sanitizer build of the daemon: LeakSanitizer then checks memory at exit.
SAN_BIN=$RF_TOP/build/san/ringfence
[ -x "$SAN_BIN" ] && DAEMON_BIN=$SAN_BIN
diag "daemon binary: ${DAEMON_BIN:-$RF_BIN}"
manifest churn "ring_size=1M"
start_daemon --synthetic process_fork,process_exit --rate 20000
nfd() { ls "/proc/$DPID/fd" | wc -l; }
nmaps() { wc -l < "/proc/$DPID/maps"; }
clients_now() { status_json | jq '.clients | length'; }
no_clients() { [ "$(clients_now)" = 0 ]; }
# one client first, so that lazily allocated state (first connection) is in the baseline
out=$(client --name churn --classes process_fork --expect 100 2>/dev/null)
wait_for 5 no_clients
fd0=$(nfd); maps0=$(nmaps)
diag "before: $fd0 fds, $maps0 mappings"
for i in $(seq 1 10); do
	# run the binary itself (not the shell function) so that $! is the client
	"$RF_TESTCLIENT" --socket "$SOCK" --name churn --classes process_fork,process_exit --idle-ms 5000 >/dev/null 2>&1 &
	k=$!
	"$RF_TESTCLIENT" --socket "$SOCK" --name churn --classes process_fork --expect 300 >/dev/null 2>&1 &
	q=$!
	sleep 0.1
	kill -KILL $k 2>/dev/null
	wait $k $q 2>/dev/null
done
check "all clients gone" wait_for 10 no_clients
fd1=$(nfd); maps1=$(nmaps)
diag "after 20 clients: $fd1 fds, $maps1 mappings"
is "no descriptor left behind" "$fd1" "$fd0"
is "no mapping (ring) left behind" "$maps1" "$maps0"
out=$("$RF_CTLSEND" "$SOCK" --with-fds "$RF_TOP/tests/fuzz/corpus/control/hello_ok" "$RF_TOP/tests/fuzz/corpus/control/garbage")
diag "rf_ctlsend --with-fds: $out"
wait_for 5 no_clients
is "descriptors attached by a client are not kept" "$(nfd)" "$fd0"
kill -TERM "$DPID"
wait "$DPID"; rc=$?
is "daemon exits cleanly on SIGTERM (no leak reported by LeakSanitizer)" "$rc" 0
grep -q "LeakSanitizer" "$DLOG" && diag "$(grep -A5 LeakSanitizer "$DLOG")"
done_testing
