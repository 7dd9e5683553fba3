#!/usr/bin/env bash
# Network deny rules: a connect (IPv4 and IPv6, loopback only) and a bind blocked by
# a pushed rule fail with EPERM in the kernel and are reported as net_blocked events;
# other ports are not affected; rules beyond the bounds or malformed are refused with
# a clear error; a client's rules go away with it. Needs root and BPF (cgroup
# sock_addr programs on the cgroup v2 root: the rules name only loopback addresses
# and ports this test picked).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
broker_setup
CLIENT_EXE=$(readlink -f "$RF_AUTHCLIENT")
manifest a modes=notify,auth
manifest r modes=notify
manifest n modes=notify
P=$((40000 + RANDOM % 20000))

# connect TARGET PORT: 42 when refused with EPERM, 0 when connected, 1 otherwise
conn() { perl -MIO::Socket::IP -e 'my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1], Timeout => 2); exit($s ? 0 : $!{EPERM} ? 42 : 1)' "$1" "$2"; }
bindp() { perl -MIO::Socket::IP -e 'my $s = IO::Socket::IP->new(LocalHost => $ARGV[0], LocalPort => $ARGV[1], Listen => 1, ReuseAddr => 1); exit($s ? 0 : $!{EPERM} ? 42 : 1)' "$1" "$2"; }

if ! "$RF_BIN" daemon --help | grep -q -- --net-policy; then fail "daemon has no --net-policy"; done_testing; exit 1; fi
start_daemon --no-source --net-policy
if ! grep -q "netpolicy: connect4/6 and bind4/6 attached" "$DLOG"; then
	sleep 0.5
fi
check "programs attached to the cgroup v2 root" grep -q "attached to cgroup" "$DLOG"

authc --name r --mode notify --classes net_blocked --ready "$T/rr" > "$T/rep" & on_exit "kill $!"
ready "$T/rr"
authc --name a --mode hang --classes auth_exec --ready "$T/ra" \
	--rule "tcp,127.0.0.77/32,$P,connect" --rule "tcp,::1/128,$P,connect" \
	--rule "tcp,127.0.0.78/32,$((P + 1)),bind" \
	--rule "any,0.0.0.0/4,0,connect" --rule "any,fe80::/10,0,connect" \
	--rule "tcp,127.0.0.1/24,$P,connect" --rule "tcp,127.0.0.1/33,$P,connect" \
	--rule "tcp,bogus/8,$P,connect" --rule "47,127.0.0.1/32,$P,connect" > "$T/rules" &
A=$!; on_exit "kill $A"
ready "$T/ra"
mapfile -t R < "$T/rules"
is "IPv4 connect rule accepted" "${R[0]}" "rule ok"
is "IPv6 connect rule accepted" "${R[1]}" "rule ok"
is "bind rule accepted" "${R[2]}" "rule ok"
check "too broad IPv4 rule refused with a clear error" grep -q "rule refused err=28 msg=RF_E_LIMIT: rule too broad: without a port the prefix must be at least /8" <<<"${R[3]}"
check "too broad IPv6 rule refused" grep -q "rule refused err=28 msg=RF_E_LIMIT: rule too broad.*/16" <<<"${R[4]}"
check "address bits past the prefix refused" grep -q "rule refused err=71 .*address has bits set past the prefix" <<<"${R[5]}"
check "prefix longer than the address refused" grep -q "rule refused err=71 .*prefix longer than the address" <<<"${R[6]}"
check "unknown family refused" grep -q "rule refused err=71 .*family" <<<"${R[7]}"
check "unknown protocol refused" grep -q "rule refused err=71 .*protocol" <<<"${R[8]}"
is "status: 3 rules in the kernel" "$(aj .auth.net_rules)" 3

conn 127.0.0.77 $P; is "IPv4 connect to the denied port fails with EPERM" $? 42
conn 127.0.0.77 $((P + 2)); is "IPv4 connect to another port: not blocked (refused by nobody listening)" $? 1
conn ::1 $P; is "IPv6 connect to the denied port fails with EPERM" $? 42
bindp 127.0.0.78 $((P + 1)); is "bind to the denied port fails with EPERM" $? 42
bindp 127.0.0.78 $((P + 3)); is "bind to another port works" $? 0
check "blocked connect reported as an event" wait_for 5 grep -q "blocked port=$P dir=1 family=2 client=a comm=perl" "$T/rep"
check "blocked IPv6 connect reported" grep -q "blocked port=$P dir=1 family=10 client=a" "$T/rep"
check "blocked bind reported" grep -q "blocked port=$((P + 1)) dir=2 family=2 client=a" "$T/rep"
is "status counts 3 blocked" "$(aj .auth.net_blocked)" 3

kill $A; wait $A 2>/dev/null
wait_for 5 test "$(aj .auth.net_rules)" = 0
is "the client's rules go away with it" "$(aj .auth.net_rules)" 0
conn 127.0.0.77 $P; is "connect no longer blocked" $? 1

# the per-client bound
args=()
for i in $(seq 65); do args+=(--rule "tcp,127.0.0.77/32,$((P + 100 + i)),connect"); done
authc --name a --mode hang --classes auth_exec --ready "$T/rb" "${args[@]}" > "$T/rules2" 2>&1 & B=$!; on_exit "kill $B"
ready "$T/rb"
is "64 rules accepted" "$(grep -c "rule ok" "$T/rules2")" 64
check "the 65th refused: RF_NETRULES_CLIENT_MAX" grep -q "rule refused err=28 .*64 network rules already" "$T/rules2"
# a NOTIFY-only manifest may not push rules
manifest_n_out=$( "$RF_AUTHCLIENT" --socket "$SOCK" --name n --mode notify --classes net_blocked --rule "tcp,127.0.0.77/32,$P,connect" & p=$!; sleep 0.5; kill $p )
check "a client without modes=auth may not push rules" grep -q "rule refused err=13 .*modes = auth" <<<"$manifest_n_out"
done_testing
