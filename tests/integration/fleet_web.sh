#!/bin/bash
# The controller's status page in headless Chromium (Debian's chromium): it loads,
# its script fetches /v1/status and renders rings, versions, health and progress.
# The screenshot is kept as a test artefact: build/artefacts/fleet-page.png.
source "$(dirname "$0")/../lib.sh"
source "$RF_TOP/tests/helpers/content_lib.sh"

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	fail "chromium is not installed (scripts/deps.sh test installs it)"; done_testing; exit 1
fi
LOAD=$RF_BUILD/tests/helpers/fleet_load
T=$(tmpdir)
ART=$RF_TOP/build/artefacts
mkdir -p "$ART"
content_setup "$T" || { fail "content keys"; done_testing; exit 1; }
fm_bundle 1 "$T/v1.rfb" "template t1 process_exec 0 7:int 10"
fm_bundle 2 "$T/v2.rfb" "template t1 process_exec 0 7:int 11"
"$RF_BIN" fleet publish --repo "$T/repo" --root "$T/root.rfm" "$T/v1.rfb" >/dev/null || fail "publish v1"
cat > "$T/fleet.conf" <<EOT
poll_s = 2
canary_pct = 20
canary_max_pct = 20
early_pct = 30
canary_bake_s = 3600
EOT
"$RF_BIN" fleet serve --repo "$T/repo" --listen 127.0.0.1:0 --port-file "$T/port" --scan-s 1 \
	--config "$T/fleet.conf" >"$T/serve.log" 2>&1 &
SRV=$!
on_exit "kill $SRV 2>/dev/null"
watchdog 120 $SRV
wait_for 10 test -s "$T/port" || { fail "controller did not start"; done_testing; exit 1; }
URL=http://127.0.0.1:$(cat "$T/port")
"$LOAD" --port "$(cat "$T/port")" --hosts 200 --once --client fragile --version 1 >/dev/null || fail "reports"
"$RF_BIN" fleet publish --repo "$T/repo" "$T/v2.rfb" >/dev/null || fail "publish v2"
canary() { curl -sf "$URL/v1/status" | jq -e '.tracks[0].stage == "canary"' >/dev/null; }
wait_for 10 canary || fail "no canary stage"
sleep 6.5 # the rest of the canary ring waits one health epoch (internal hosts first)
"$LOAD" --port "$(cat "$T/port")" --hosts 200 --seconds 3 --conns 4 --rate 300 --follow --client fragile --version 1 >/dev/null

chrome() { # run chromium headless with a watchdog; args follow
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --user-data-dir="$T/chrome" --virtual-time-budget=4000 "$@" 2>>"$T/chrome.log"
}
chrome --dump-dom "$URL/" > "$T/dom.html"
check "chromium rendered the page" test -s "$T/dom.html"
grep -q '<title>ringfence fleet</title>' "$T/dom.html" && ok "title" || fail "title: $(head -c 300 "$T/dom.html")"
for r in canary early broad holdback; do
	grep -q "id=\"ring-$r\"" "$T/dom.html" && ok "ring $r is shown" || fail "ring $r missing"
done
grep -q 'id="track-fragile"' "$T/dom.html" && ok "the fragile track is shown" || fail "track missing"
grep -q 'class="stage s-canary">canary<' "$T/dom.html" && ok "its stage: canary" || fail "stage missing"
grep -q '<td>v1</td><td>v2</td>' "$T/dom.html" && ok "stable v1, target v2" || fail "versions missing"
grep -q 'class="bar"' "$T/dom.html" && ok "progress bars" || fail "no progress bars"
grep -q '200 endpoints' "$T/dom.html" && ok "200 endpoints counted" || fail "endpoint count missing"
grep -q ', 0 refused' "$T/dom.html" && ok "no report refused" || fail "refusals: $(grep -o '[0-9]* refused' "$T/dom.html")"
grep -Eq 'v2: [1-9][0-9]*' "$T/dom.html" && ok "hosts per version show canary endpoints on v2" || fail "no host on v2"
grep -q 'rolling out v2 (from v1)' "$T/dom.html" && ok "the decision log shows the rollout" || fail "decision log"
rm -f "$ART/fleet-page.png"
chrome --screenshot="$ART/fleet-page.png" --window-size=1280,900 "$URL/" >/dev/null
check "screenshot kept as build/artefacts/fleet-page.png" test -s "$ART/fleet-page.png"
kill "$SRV"; wait "$SRV" 2>/dev/null
done_testing
