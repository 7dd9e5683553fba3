#!/bin/bash
# The rollout controller end to end on loopback: publish signed bundles into a static
# repository, serve reports from 60 endpoints (tests/helpers/fleet_load), roll out a
# version, halt it when its canary crashes, publish the rollback version N+1 carrying
# the old content (signed, verifiable, installable), keep state across a restart in
# SQLite, refuse bad reports (400, 401, 409, 413) and unauthenticated admin requests.
source "$(dirname "$0")/../lib.sh"
source "$RF_TOP/tests/helpers/content_lib.sh"

LOAD=$RF_BUILD/tests/helpers/fleet_load
T=$(tmpdir)
content_setup "$T" || { fail "content keys and root"; done_testing; exit 1; }
fm_bundle 1 "$T/v1.rfb" "template t1 process_exec 0 7:int 10"
fm_bundle 2 "$T/v2.rfb" "template t1 process_exec 0 7:int 11"
REPO=$T/repo

check "publish installs the root and v1" "$RF_BIN" fleet publish --repo "$REPO" --root "$T/root.rfm" "$T/v1.rfb"
check "v1 is in the repository layout" test -f "$REPO/targets/fragile/1.rfb" -a -f "$REPO/root.rfm"
out=$("$RF_BIN" fleet publish --repo "$REPO" "$T/v1.rfb" 2>&1); rc=$?
is "publishing a version twice is refused" "$rc" 1
[[ $out == *immutable* ]] && ok "... saying versions are immutable" || fail "... message: $out"
cp "$T/v2.rfb" "$T/v2bad.rfb"; printf '\x55' | dd of="$T/v2bad.rfb" bs=1 seek=400 conv=notrunc 2>/dev/null
"$RF_BIN" fleet publish --repo "$REPO" "$T/v2bad.rfb" >/dev/null 2>&1
is "a bundle that does not verify against the root is refused" "$?" 1
check "nothing was left behind by the refusals" test "$(ls -A "$REPO/targets/fragile")" = "1.rfb"

cat > "$T/fleet.conf" <<EOF
# small and fast: 1 s reports, 2 s epochs; the canary bakes long enough that a
# loaded machine cannot let v2 pass before its crash reports arrive
poll_s = 1
silence_polls = 2
canary_pct = 20
canary_max_pct = 20
early_pct = 30
holdback_pct = 10
canary_bake_s = 120
early_bake_s = 2
broad_bake_s = 2
margin = 0.1
rollback_bake_s = 3
EOF

serve() {
	rm -f "$T/port"
	"$RF_BIN" fleet serve --repo "$REPO" --listen 127.0.0.1:0 --port-file "$T/port" \
		--store "sqlite:$T/fleet.db" --admin-token-file "$T/token" --targets-key "$T/tgt1.sec" \
		--scan-s 1 --config "$T/fleet.conf" >>"$T/serve.log" 2>&1 &
	SRV=$!
	on_exit "kill $SRV 2>/dev/null"
	watchdog 120 $SRV
	wait_for 10 test -s "$T/port" || return 1
	P=$(cat "$T/port")
	URL=http://127.0.0.1:$P
}
status() { curl -sf "$URL/v1/status"; }
field() { status | jq -r "$1"; }
field_is() { test "$(field "$1")" = "$2"; }

serve && ok "controller serves" || { fail "controller did not start: $(cat "$T/serve.log")"; done_testing; exit 1; }
out=$("$LOAD" --port "$P" --hosts 60 --once --print --client fragile --version 1)
[[ $out == *"HTTP 200: 60"* ]] && ok "60 signed reports accepted" || fail "reports: $out"
[[ $out == *'"client":"fragile","version":1,"path":"targets/fragile/1.rfb","sha256":"'* ]] &&
	ok "answers assign v1 with its path and hash" || fail "answers: $(echo "$out" | head -2)"
is "the controller knows 60 hosts" "$(field .hosts)" 60
is "v1 is the stable version" "$(field '.tracks[0].stable')" 1

# operator controls: token required
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/admin/override?host=h-0000001&ring=canary")
is "admin without a token is refused" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer wrongwrongwrongwrong" "$URL/v1/admin/override?host=h-0000001&ring=canary")
is "admin with a wrong token is refused" "$code" 401
check "override h-0000001 into canary" "$RF_BIN" fleet override --controller "$URL" --admin-token-file "$T/token" h-0000001 canary
check "pin h-0000002 to v1" "$RF_BIN" fleet pin --controller "$URL" --admin-token-file "$T/token" h-0000002 fragile 1
"$RF_BIN" fleet override --controller "$URL" --admin-token-file "$T/token" h-0000001 sideways >/dev/null 2>&1
is "an unknown ring is refused" "$?" 1

# refusals
body='{"v":1,"host":"x","key":"00","seq":1,"clients":[]}'
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Ringfence-Signature: 00' --data "$body" "$URL/v1/report")
is "malformed report: 400" "$code" 400
body=$(printf '{"v":1,"host":"x","key":"%064d","seq":1,"clients":[]}' 0)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ringfence-Signature: $(printf '%0128d' 0)" --data "$body" "$URL/v1/report")
is "bad signature: 401" "$code" 401
head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ringfence-Signature: 00" --data-binary @"$T/big" "$URL/v1/report")
is "oversized report: 413" "$code" 413
out=$("$LOAD" --port "$P" --hosts 60 --once --keys 1 --client fragile --version 1)
[[ $out == *"HTTP 409: 59"* ]] && ok "59 hosts presenting another key: 409" || fail "key conflict: $out"
out=$("$LOAD" --port "$P" --hosts 5 --once --seq 1 --client fragile --version 1)
[[ $out == *"HTTP 409: 5"* ]] && ok "replayed sequence numbers: 409" || fail "sequence: $out"

# session MAC (docs/fleet.md): a signed report asks for it, later reports use the MAC
out=$("$LOAD" --port "$P" --hosts 60 --session --seconds 1 --conns 4 --client fragile --version 1)
[[ $out == *"steady state (session MAC)"* && $out != *"HTTP 4"* ]] && ok "reports authenticated by session MAC" ||
	fail "session: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ringfence-Session: 0000000000000000:$(printf '%064d' 0)" --data "$body" "$URL/v1/report")
is "a session MAC that does not verify: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ringfence-Session: garbage" --data "$body" "$URL/v1/report")
is "a malformed session header: 401" "$code" 401

is "refusals are counted in the status (400, 401, 413)" "$(status | jq -c '[.refused["400"] >= 2, .refused["401"] >= 3, .refused["413"]]')" "[true,true,1]"

# the page and its data
curl -sf "$URL/" | grep -q '<title>ringfence fleet</title>' && ok "status page at /" || fail "status page"

# v2 is published: a rollout starts in canary; the canary endpoints crash on it
check "publish v2" "$RF_BIN" fleet publish --repo "$REPO" "$T/v2.rfb"
wait_for 10 field_is '.tracks[0].stage' canary && ok "v2 rollout starts in canary" ||
	fail "stage: $(field '.tracks[0].stage')"
# endpoints report; those assigned v2 install it and crash-loop on it (reports say so),
# the others stay healthy on v1 (the control group)
for round in $(seq 1 15); do
	"$LOAD" --port "$P" --hosts 60 --seconds 1.5 --conns 4 --rate 120 --follow --crash-on 2 \
		--client fragile --version 1 >/dev/null || true
	[ "$(field '.tracks[0].bad')" = 2 ] && break
done
wait_for 15 field_is '.tracks[0].bad' 2 && ok "the controller halted v2 by itself" ||
	fail "no halt: $(status | jq -c .tracks)"
diag "$(field '.tracks[0].reason')"
wait_for 10 test -f "$REPO/targets/fragile/3.rfb" && ok "rollback v3 published into the repository" ||
	fail "no rollback bundle: $(tail -3 "$T/serve.log")"
check "v3 verifies against the root" "$RF_BIN" content verify --root "$T/root.rfm" "$REPO/targets/fragile/3.rfb"
out=$("$RF_BIN" content install --store "$T/store" --no-shadow "$T/v2.rfb" 2>&1) || fail "install v2: $out"
out=$("$RF_BIN" content install --store "$T/store" --no-shadow "$REPO/targets/fragile/3.rfb" 2>&1)
is "an endpoint on v2 accepts v3 (no downgrade)" "$?" 0
cur=$("$RF_BIN" content current --store "$T/store" fragile)
grep -q "7:int 10" "$cur/rules.fm" && ok "v3 carries v1's content" || fail "v3 content: $(cat "$cur/rules.fm")"
out=$("$LOAD" --port "$P" --hosts 60 --once --print --client fragile --version 1)
[[ $(echo "$out" | grep -c '"version":3,') == 59 ]] && ok "every unpinned endpoint is assigned v3" ||
	fail "assignments: $(echo "$out" | grep -o '"version":[0-9]*' | sort | uniq -c | tr '\n' ' ')"
echo "$out" | grep '"version":1,' | grep -q . && ok "the pinned endpoint stays on v1" || fail "pin lost"
is "v2 is never offered again" "$(echo "$out" | grep -c '"version":2,')" 0

# restart: state comes back from SQLite
sleep 1.5
kill "$SRV"; wait "$SRV" 2>/dev/null
serve || fail "restart"
is "hosts are back after a restart" "$(field .hosts)" 60
is "the halted version is remembered" "$(field '.tracks[0].bad')" 2
out=$("$LOAD" --port "$P" --hosts 60 --once --keys 1 --client fragile --version 1)
[[ $out == *"HTTP 409: 59"* ]] && ok "key bindings survive the restart" || fail "keys after restart: $out"
check "decisions are in the store" test "$(sqlite3 "$T/fleet.db" 'select count(*) from events')" -ge 3
kill "$SRV"; wait "$SRV" 2>/dev/null
done_testing
