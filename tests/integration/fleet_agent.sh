#!/bin/bash
# The fleet endpoint agent against nginx in a network namespace of its own, nginx
# being both the static repository and a stand-in controller (POST /v1/report answers
# a fixed assignment): the daemon reports, downloads the assigned bundle, installs it
# through the content pipeline in a child and the supervisor restarts the client on
# it without counting a crash; a download whose sha256 differs from the assignment is
# refused (HASH_MISMATCH) and the running content stays; a response over the size
# limit is refused and changes nothing. The real controller is in fleet_e2e.sh.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/supervisor.inc"
source "$(dirname "$0")/fleet.inc"
source "$RF_TOP/tests/helpers/content_lib.sh"
# a client name of its own (user ringfence-agentfrag): other tests create and remove
# ringfence-fragile while this one may run
state_field() { awk -v k="$1" '$1 == k { print $3 }' "$STORE/agentfrag/state"; }
need_root "fleet agent: network namespace, supervised clients"
fleet_need_nginx
sup_setup
sup_user agentfrag
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
NS=rf-fa-$$
ip netns add "$NS" || { fail "ip netns add $NS"; done_testing; exit 1; }
on_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up

bundle() { # VERSION MATCH_FIELD [FIELDMAP]
	content_version "$T" "src$1" "$2"
	printf '%s\n' "${3:-template t1 process_exec 0 7:int 10}" > "$T/src$1/rules.fm"
	"$RF_BIN" content build --type fieldmap --client agentfrag --version "$1" \
		--key "$T/tgt1.sec" "$T/src$1" -o "$T/v$1.rfb" >/dev/null
}
bundle 1 20
bundle 2 19
bundle 3 18
bundle 4 18 "template t1 process_exec 0 25" # crashes the shadow client (20 fields)
REPO=$T/repo
mkdir -p "$REPO/targets/agentfrag"
for v in 2 3 4; do cp "$T/v$v.rfb" "$REPO/targets/agentfrag/$v.rfb"; done
sha() { sha256sum "$1" | cut -d' ' -f1; }
assign() { # VERSION SHA
	printf '{"v":1,"ring":"canary","poll_s":1,"nonce":"00ff","assign":[{"client":"agentfrag","version":%s,"path":"targets/agentfrag/%s.rfb","sha256":"%s"}]}' "$1" "$1" "$2"
}
q() { "$@" >/dev/null 2>&1; }
check "v1 installs and is marked good" q "$RF_BIN" content install --store "$STORE" --no-shadow "$T/v1.rfb"
q "$RF_BIN" content mark-good --store "$STORE" agentfrag
chmod -R a+rX "$T"
cat > "$T/conf/clients.d/agentfrag.conf" <<EOF2
name = agentfrag
executable = $CF291_EXE
user = auto
start = yes
classes = process_fork
args = --name agentfrag --content {content} --socket {socket}
content_store = $STORE
healthy_after = 2
shadow = $RF_SHADOW_CLIENT {content} {capture}
shadow_capture = $RF_SHADOW_CAPTURE
EOF2

NG=$T/nginx
fleet_nginx_conf "$NG" 127.0.0.1 8080 "$REPO" "$(assign 2 "$(sha "$T/v2.rfb")")"
fleet_nginx_start "$NG" "$NS"
check "nginx serves the repository in the namespace" \
	wait_for 10 ip netns exec "$NS" curl -sf -o /dev/null http://127.0.0.1:8080/targets/agentfrag/2.rfb

DLOG=$T/daemon.log
ip netns exec "$NS" "$RF_BIN" daemon --socket "$SOCK" --config "$T/conf" --state "$T/state" \
	--synthetic process_fork --rate 200 --fleet http://127.0.0.1:8080 \
	--fleet-repo http://127.0.0.1:8080/ --fleet-host test-host-1 --fleet-poll 1 2>"$DLOG" &
DPID=$!
SUP_DPIDS+=("$DPID")
on_exit "kill -KILL $DPID 2>/dev/null"
watchdog 60 "$DPID"
check "the daemon starts" wait_for 10 test -S "$SOCK"

reports() { grep -c 'POST /v1/report HTTP/1.1" 200' "$NG/access.log" 2>/dev/null; }
reports_ge() { [ "$(reports)" -ge "$1" ]; }
check "the daemon reports to the controller" wait_for 10 reports_ge 1
check "the assigned bundle is downloaded" wait_for 10 grep -q 'GET /targets/agentfrag/2.rfb HTTP/1.1" 200' "$NG/access.log"
at_v2() { [ "$(state_field current)" = 2 ]; }
check "v2 is installed through the content pipeline" wait_for 15 at_v2
check "the client is restarted on the new content" wait_for 10 grep -q "stopped for new content" "$DLOG"
v2_running() { grep -q "started client 'agentfrag' pid [0-9]* uid [0-9]* content $STORE/agentfrag/./payload" "$DLOG" && [ "$(sup_field agentfrag .supervisor.state)" = running ]; }
check "the client runs again" wait_for 10 v2_running
is "no crash counted for the content restart" "$(sup_field agentfrag .supervisor.crashes)" 0
is "no restart counted for the content restart" "$(sup_field agentfrag .supervisor.restarts)" 0
good_v2() { [ "$(state_field good)" = 2 ]; }
check "v2 is marked good after healthy_after" wait_for 10 good_v2
check "the endpoint key was created, secret mode 0600" test "$(stat -c %a "$T/state/fleet.sec")" = 600
check "the report sequence is kept in the state directory" test -s "$T/state/fleet.seq"
n=$(reports)
check "reports go on every poll interval (jitter 0.5..1.5 s)" wait_for 10 reports_ge $((n + 3))

# phase 2: an assignment whose sha256 does not match the repository's file
kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null
fleet_nginx_conf "$NG" 127.0.0.1 8080 "$REPO" "$(assign 3 "$(sha "$T/v2.rfb")")"
fleet_nginx_start "$NG" "$NS"
check "a download with the wrong sha256 is refused" wait_for 15 grep -q "install of 'agentfrag' version 3 refused (HASH_MISMATCH" "$DLOG"
is "the running content stays v2" "$(state_field current)" 2
check "the bad download is not retried at every poll" \
	test "$(grep -c "install of 'agentfrag' version 3 refused" "$DLOG")" -eq 1

# phase 3: a response over RF_FLEET_RESPONSE_MAX (4 KiB)
kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null
big=$(assign 3 "$(sha "$T/v3.rfb")")
big="${big%\}},\"pad\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"}"
fleet_nginx_conf "$NG" 127.0.0.1 8080 "$REPO" "$big"
fleet_nginx_start "$NG" "$NS"
check "a response over the size limit is refused" wait_for 15 grep -q "response larger than the limit" "$DLOG"
sleep 1
is "... and nothing is installed from it" "$(state_field current)" 2

# phase 4: content that passes validation but crashes the manifest's shadow command
kill -TERM "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null
fleet_nginx_conf "$NG" 127.0.0.1 8080 "$REPO" "$(assign 4 "$(sha "$T/v4.rfb")")"
fleet_nginx_start "$NG" "$NS"
check "content that crashes the shadow run is refused (SHADOW)" \
	wait_for 15 grep -q "install of 'agentfrag' version 4 refused (SHADOW" "$DLOG"
is "... and the client keeps running v2" "$(state_field current)" 2
check "the daemon is still running" kill -0 "$DPID"
kill -TERM "$DPID"; wait "$DPID"
is "daemon stops cleanly" "$?" 0
if [ "$_tap_failed" -gt 0 ]; then
	sed 's/^/# daemon: /' "$DLOG" | tail -40
	sed 's/^/# nginx: /' "$NG/access.log" | tail -10
fi
done_testing
