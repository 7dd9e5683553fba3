#!/bin/bash
# Malformed control messages get an RF_MSG_ERROR answer and never crash the daemon:
# the fuzz corpus, a packet longer than RF_CTL_MSG_MAX and random packets, all sent
# through the real socket; afterwards a normal client still gets all its events. A
# connection that never identifies itself is closed after RF_CTL_HELLO_TIMEOUT_S.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
need_root "broker: clients identified by SO_PEERCRED as root"
broker_setup
SAN_BIN=$RF_TOP/build/san/ringfence
[ -x "$SAN_BIN" ] && DAEMON_BIN=$SAN_BIN
manifest good
start_daemon --synthetic process_fork --count 500 --wait-clients 1
out=$("$RF_CTLSEND" "$SOCK" --oversize --random 300 "$RF_TOP"/tests/fuzz/corpus/control/*)
rc=$?
diag "rf_ctlsend: $out"
is "every malformed message was answered with a well-formed message" "$rc" 0
check "errors were reported" test "$(kv errors "$out")" -gt 300
check "daemon survived" kill -0 "$DPID"
g=$(client --name good --classes process_fork --expect 500)
is "a well-behaved client still receives all its events" "$(kv read "$g"):$(kv gaps "$g")" "500:0"
check "log names the protocol errors" grep -q RF_E_PROTO "$DLOG"
out=$("$RF_CTLSEND" "$SOCK" --silent 15)
is "a connection that never sends HELLO is closed (RF_CTL_HELLO_TIMEOUT_S)" "$(kv silent_closed "$out")" 1
kill -TERM "$DPID"; wait "$DPID"; rc=$?
is "daemon exits cleanly (sanitizers found nothing)" "$rc" 0
done_testing
