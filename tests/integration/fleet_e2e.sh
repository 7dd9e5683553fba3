#!/bin/bash
# Fleet rollout end to end (issue 9): 10 real `ringfence daemon`s, each in its own
# network namespace with its own address, each supervising the fragile test client
# (cf291_client) on content from its own content store, report to the real rollout
# controller (`ringfence fleet serve`) and fetch bundles from the static repository
# served by nginx; controller and nginx share a hub namespace that bridges the
# endpoints' veth pairs (10.77.N.0/24, N from the test's pid).
#   good: v2 rolls through canary (the one internal host) -> early (2 hosts) -> broad
#         (7 hosts) and every daemon ends on v2, marked good;
#   bad:  v3 (passes verification, validation and the shadow run on the daemon's
#         recording of its recent events, whose interpreter is not the client's; it
#         crashes the client) reaches the
#         canary only; the canary crashes, the controller halts, publishes v4 carrying
#         v2's content, and every daemon ends on v4; no daemon outside the canary ever
#         downloaded or ran v3.
# The client is called e2efrag (user ringfence-e2efrag), a name no other test uses,
# so that tests creating and removing ringfence-fragile meanwhile cannot touch it.
# Asserted from the daemons' content stores, the controller's status and nginx's
# access log (who fetched which bundle), not from the daemons' logs.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$(dirname "$0")/fleet.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
need_root "fleet e2e: network namespaces, supervised clients"
fleet_need_nginx
command -v jq >/dev/null || { skip "fleet e2e" "jq not installed"; done_testing; exit 0; }
N=10
DEADLINE=$((SECONDS + 110)) # the whole test; every wait below is bounded as well
sup_setup
sup_user e2efrag
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }

# ---- network: a hub namespace with a bridge, one namespace per endpoint --------
NET=10.77.$(($$ % 250 + 1))
HUB=rf-e2e-$$-hub
NSS=()
mkns() { ip netns add "$1" && NSS+=("$1") && ip -n "$1" link set lo up; }
# namespaces go last (registered first); deleting one removes its veth ends
on_exit 'for ns in "${NSS[@]}"; do ip netns del "$ns"; done'
mkns "$HUB" || { fail "ip netns add $HUB"; done_testing; exit 1; }
ip -n "$HUB" link add br0 type bridge && ip -n "$HUB" link set br0 up &&
	ip -n "$HUB" addr add "$NET.1/24" dev br0 || { fail "hub bridge"; done_testing; exit 1; }
host() { printf 'h%02d' "$1"; }
for i in $(seq 1 $N); do
	ns=rf-e2e-$$-$(host "$i")
	mkns "$ns" &&
	ip -n "$ns" link add eth0 type veth peer name "v$i" netns "$HUB" &&
	ip -n "$ns" addr add "$NET.$((10 + i))/24" dev eth0 &&
	ip -n "$ns" link set eth0 up &&
	ip -n "$HUB" link set "v$i" master br0 &&
	ip -n "$HUB" link set "v$i" up || { fail "endpoint namespace $i"; done_testing; exit 1; }
done
ok "$N endpoint namespaces with their own addresses ($NET.11-$((10 + N))), bridged in $HUB"

# ---- content: v1 (installed everywhere), v2 (good), v3 (crashes the client) ----
bundle() { # VERSION MATCH_FIELD
	content_version "$T" "src$1" "$2"
	printf '%s\n' "template t1 process_exec 0 7:int 10" > "$T/src$1/rules.fm"
	"$RF_BIN" content build --type fieldmap --client e2efrag --version "$1" \
		--key "$T/tgt1.sec" "$T/src$1" -o "$T/v$1.rfb" >/dev/null
}
bundle 1 20
bundle 2 19
bundle 3 21 # reads field 21 of 20: the Channel File 291 bug class
REPO=$T/repo
mkdir -p "$REPO"
q() { "$@" >/dev/null 2>&1; }
check "publish v1 and the root into the repository" \
	q "$RF_BIN" fleet publish --repo "$REPO" --root "$T/root.rfm" "$T/v1.rfb"

# ---- controller and nginx in the hub ----------------------------------------------
cat > "$T/fleet.conf" <<EOF
poll_s = 1
silence_polls = 3
canary_pct = 0
canary_max_pct = 1
early_pct = 0
holdback_pct = 0
canary_bake_s = 3
early_bake_s = 3
broad_bake_s = 3
margin = 0.02
adopt_pct = 90
min_epochs = 1
rollback_bake_s = 30
internal_canary = true
EOF
CTL=http://$NET.1:8080
ip netns exec "$HUB" "$RF_BIN" fleet serve --repo "$REPO" --listen "$NET.1:8080" \
	--config "$T/fleet.conf" --targets-key "$T/tgt1.sec" --admin-token-file "$T/admin.token" \
	--scan-s 1 2>"$T/controller.log" &
CPID=$!
on_exit "kill -TERM $CPID 2>/dev/null; sleep 0.3; kill -KILL $CPID 2>/dev/null"
watchdog 120 "$CPID"
NG=$T/nginx
fleet_nginx_conf "$NG" "$NET.1" 80 "$REPO"
fleet_nginx_start "$NG" "$HUB"
watchdog 120 "$NGINX_PID"
status() { ip netns exec "$HUB" "$RF_BIN" fleet status --controller "$CTL" 2>/dev/null; }
track() { status | jq -r "[.tracks[] | select(.client == \"e2efrag\")][0] | $1"; }
check "the controller answers in the hub" wait_for 10 q status
check "nginx serves the repository in the hub" \
	wait_for 10 ip netns exec "$HUB" curl -sf -o /dev/null "http://$NET.1/targets/e2efrag/1.rfb"
stable_is() { [ "$(track .stable)" = "$1" ]; }
check "the controller takes v1 as the stable version" wait_for 10 stable_is 1
for i in 2 3; do
	ip netns exec "$HUB" "$RF_BIN" fleet override --controller "$CTL" \
		--admin-token-file "$T/admin.token" "$(host "$i")" early >/dev/null ||
		fail "override $(host "$i") to early"
done

# ---- the endpoints -------------------------------------------------------------------
D=()
# nproc: RLIMIT_NPROC counts the processes of a uid, and the ten "hosts" share one
# machine and so the client's user: with the default 8, an execve of the 9th or 10th
# client fails (EAGAIN, exit 127) whenever their starts overlap
for i in $(seq 1 $N); do
	d=$T/$(host "$i")
	D[i]=$d
	mkdir -p "$d/conf/clients.d"
	"$RF_BIN" content init --store "$d/store" "$T/root.rfm" >/dev/null &&
	"$RF_BIN" content install --store "$d/store" --no-shadow "$T/v1.rfb" >/dev/null 2>&1 &&
	"$RF_BIN" content mark-good --store "$d/store" e2efrag >/dev/null ||
		fail "$(host "$i"): v1 installed and marked good"
	cat > "$d/conf/clients.d/e2efrag.conf" <<EOF
name = e2efrag
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name e2efrag --content {content} --socket {socket}
content_store = $d/store
healthy_after = 2
nproc = 64
shadow = $RF_SHADOW_CLIENT {content} {capture}
EOF
done
chmod -R a+rX "$T"
for i in $(seq 1 $N); do
	d=${D[i]}
	extra=()
	[ "$i" = 1 ] && extra=(--fleet-internal)
	ip netns exec "rf-e2e-$$-$(host "$i")" "$RF_BIN" daemon --socket "$d/ringfence.sock" \
		--config "$d/conf" --state "$d/state" --synthetic process_fork --rate 200 \
		--fleet "$CTL" --fleet-repo "http://$NET.1/" --fleet-host "$(host "$i")" \
		--fleet-poll 1 "${extra[@]}" 2>"$d/daemon.log" &
	DP[i]=$!
	SUP_DPIDS+=("${DP[i]}")
	on_exit "kill -KILL ${DP[i]} 2>/dev/null"
	watchdog 120 "${DP[i]}"
done
hosts_ge() { [ "$(status | jq -r .hosts)" -ge "$1" ]; }
check "all $N daemons report to the controller" wait_for 20 hosts_ge $N
ver() { awk '$1 == "current" { print $3 }' "${D[$1]}/store/e2efrag/state"; }
good() { awk '$1 == "good" { print $3 }' "${D[$1]}/store/e2efrag/state"; }
all_on() { # VERSION: every store's current (and, with "good", known-good) version
	local i
	for i in $(seq 1 $N); do
		[ "$(ver "$i")" = "$1" ] || return 1
		[ "${2:-}" != good ] || [ "$(good "$i")" = "$1" ] || return 1
	done
}
fetched() { # VERSION: the addresses that downloaded targets/e2efrag/VERSION.rfb
	awk -v p="GET /targets/e2efrag/$1.rfb " 'index($0, p) { print $1 }' "$NG/access.log" | sort -u
}

# ---- good rollout: v2 ------------------------------------------------------------------
t0=$SECONDS
check "publish v2" q "$RF_BIN" fleet publish --repo "$REPO" "$T/v2.rfb"
stage_is() { [ "$(track .stage)" = "$1" ]; }
check "v2: the rollout starts in the canary ring" wait_for 10 stage_is canary
canary_only() { [ "$(ver 1)" = 2 ] && for i in $(seq 2 $N); do [ "$(ver "$i")" = 1 ] || return 1; done; }
check "v2: the internal host (canary) installs it first, nobody else yet" wait_for 10 canary_only
check "v2: the rollout opens the early ring" wait_for 20 stage_is early
check "v2: then broad" wait_for 20 stage_is broad
rolled_out() { stage_is idle && stable_is 2; }
check "v2: passes every gate and becomes stable" wait_for 30 rolled_out
check "v2: every daemon runs v2, marked good by its supervisor" wait_for 15 all_on 2 good
diag "good rollout to $N daemons: $((SECONDS - t0)) s"
is "v2: fetched by all $N endpoints" "$(fetched 2 | wc -l)" "$N"
crashed=0
for i in $(seq 1 $N); do
	c=$("$RF_BIN" status --json --socket "${D[i]}/ringfence.sock" |
		jq -r '[.clients[] | select(.name == "e2efrag")][0].supervisor.crashes')
	[ "$c" = 0 ] || crashed=$((crashed + 1))
done
is "v2: no client crashed on any endpoint" "$crashed" 0

# ---- bad rollout: v3 ---------------------------------------------------------------------
t0=$SECONDS
check "publish v3 (bad)" q "$RF_BIN" fleet publish --repo "$REPO" "$T/v3.rfb"
# watch every store while the bad version is out: who ever has v3 current
(
	while :; do
		for i in $(seq 1 $N); do [ "$(ver "$i" 2>/dev/null)" = 3 ] && echo "$i"; done
		sleep 0.1
	done
) > "$T/seen3" 2>/dev/null &
WATCH=$!
on_exit "kill $WATCH 2>/dev/null"
halted() { [ "$(track .bad)" = 3 ] && [ "$(track .halt_time)" != 0 ]; } # halted may last a moment only
check "v3: the controller halts" wait_for 30 halted
halt_s=$((SECONDS - t0))
diag "v3: halted $halt_s s after publication: $(track .reason)"
check "v3: halted because the canary failed" eval 'track .reason | grep -q "halted v3: canary ring"'
check "v3: the controller publishes v4 into the repository" wait_for 10 test -s "$REPO/targets/e2efrag/4.rfb"
check "v3: every daemon ends on v4" wait_for 30 all_on 4
t_rb=$((SECONDS - t0))
kill "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
check "v3: v4 is marked good on every daemon" wait_for 15 all_on 4 good
diag "bad rollout: halted after $halt_s s, all $N on the rollback after $t_rb s"
same=true
for i in $(seq 1 $N); do
	cmp -s "${D[i]}/store/e2efrag/$(awk '$1 == "current" { print $2 }' "${D[i]}/store/e2efrag/state")/payload/template" \
		"$T/src2/template" || same=false
done
check "v4 carries v2's content on every daemon" $same
shadowed=0
for i in $(seq 1 $N); do
	grep -q "installing 'e2efrag' version 4 .*WITHOUT" "${D[i]}/daemon.log" || shadowed=$((shadowed + 1))
done
is "every install had its shadow run (on the daemon's recent events)" "$shadowed" "$N"
highest=$(for i in $(seq 1 $N); do awk '$1 == "highest" { print $2 }' "${D[i]}/store/e2efrag/state"; done | sort -u | tr '\n' ' ')
is "v4 is a new version, the highest every store activated (never a downgrade)" "$highest" "4 "
is "v3: only the canary ($NET.11) downloaded it" "$(fetched 3 | tr '\n' ' ')" "$NET.11 "
is "v3: only the canary ever ran it (stores watched every 0.1 s)" "$(sort -u "$T/seen3" | tr '\n' ' ')" "1 "
rb_done() { stage_is idle && stable_is 4; }
check "the controller ends the rollback with v4 stable" wait_for 40 rb_done
is "the controller counts nobody on v3" "$(status | jq -r '[.tracks[0].versions[] | select(.version == 3) | .hosts] | add // 0')" 0
alive=0
for i in $(seq 1 $N); do kill -0 "${DP[i]}" 2>/dev/null && alive=$((alive + 1)); done
is "all $N daemons still run" "$alive" "$N"
[ $SECONDS -le $DEADLINE ] || fail "the test ran over its deadline"
for i in $(seq 1 $N); do kill -TERM "${DP[i]}" 2>/dev/null; done
for i in $(seq 1 $N); do wait "${DP[i]}" 2>/dev/null; done
if [ "$_tap_failed" -gt 0 ]; then
	sed 's/^/# controller: /' "$T/controller.log" | tail -30
	status | jq -c '.tracks, .rings, .events' | sed 's/^/# status: /'
	for i in 1 2 4; do sed "s/^/# $(host "$i"): /" "${D[i]}/daemon.log" | grep fleet | tail -12; done
	for i in $(seq 1 $N); do # every crash, with the supervisor's reason
		grep -E "supervisor: client .*(crash|killed|exited|stalled|did not connect)" "${D[i]}/daemon.log" |
			sed "s/^/# $(host "$i"): /" | tail -5
	done
fi
done_testing
