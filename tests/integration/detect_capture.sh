#!/bin/bash
# Detection end to end through a capture: `ringfence record` on the live sensor while
# this script behaves like an intruder (base64 -d, copying /etc/passwd into /tmp,
# executing a file from /dev/shm, plus a harmless command), then the recorded events
# go through `ringfence rules test` (SigmaHQ's Linux rules and the default pack) and
# the rf-detect client. The matching rules fire, unrelated ones do not. Needs root.
# (detect_e2e.sh does the same live through `ringfence run`.)
source "$(dirname "$0")/../lib.sh"
need_root "detection through a live capture"
SIGMA=${RF_SIGMA_DIR:-$RF_TOP/../shared/sigma}/rules-linux
# a name of our own: on the shared machine /tmp/rf-test.* directories were removed under a running test
t=$(mktemp -d /tmp/rfdetect.XXXXXX); on_exit "rm -rf '$t'"
tag=rfcap$$
cap=$t/live.rfcap

# record has no readiness signal: wait, behave, and check that the sensor saw the
# probe exec; on a loaded machine attaching can take longer, so retry with more time
cp /bin/true "/dev/shm/$tag"; on_exit "rm -f /dev/shm/$tag"
on_exit "rm -f /tmp/$tag.passwd /tmp/$tag.probe"
attached=0
for wait_s in 2 5 10; do
	rm -f "/tmp/$tag.passwd" # a retry must create it again (file_create)
	"$RF_BIN" record "$cap" --for $((wait_s + 3)) --class process_exec,file_create >"$t/rec.out" 2>"$t/rec.err" &
	pid=$!
	watchdog 60 $pid
	sleep $wait_s
	/bin/sh -c ": rf-probe-$tag"
	: > "/tmp/$tag.probe" # file classes attach on their own, maybe later
	echo "aGVsbG8K" | base64 -d >/dev/null
	rm -f "/tmp/$tag.passwd" # a retry must create it again (file_create), not rewrite it
	cp /etc/passwd "/tmp/$tag.passwd"
	"/dev/shm/$tag"
	ls "/$tag-unrelated" >/dev/null 2>&1
	wait $pid
	rc=$?
	"$RF_BIN" replay "$cap" > "$t/probe.txt" 2>/dev/null
	if grep -q "rf-probe-$tag" "$t/probe.txt" && grep -q "/tmp/$tag.probe" "$t/probe.txt"; then
		attached=1
		break
	fi
	rm -f "/tmp/$tag.passwd" "/tmp/$tag.probe"
	diag "the sensor was not attached after ${wait_s} s; again with more time"
done
is "record exits 0" "$rc" 0
if [ $attached = 0 ]; then
	fail "the sensor recorded the probe exec (not attached within 10 s)"
	done_testing; exit 1
fi
ok "the sensor recorded the probe exec"

fired() { grep "\"rule_id\":\"$2\"" "$1" | grep -q -- "$3"; }

if [ -d "$SIGMA" ]; then
	"$RF_BIN" rules test --rules "$SIGMA" --json "$cap" >"$t/sigma.json" 2>"$t/sigma.err"
	is "rules test (SigmaHQ) exits 0" "$?" 0
	check "SigmaHQ 'Decode Base64 Encoded Text' fires" fired "$t/sigma.json" e2072cab-8c9a-459b-b63c-40ae79e27031 '"base64"'
	check "SigmaHQ 'Copy Passwd Or Shadow From TMP Path' fires" fired "$t/sigma.json" fa4aaed5-4fe0-498d-bbc0-08e3346387ba "$tag.passwd"
	check "SigmaHQ 'Process Execution From Shared Memory Directory' fires" fired "$t/sigma.json" 5cd16c8f-44a6-4654-81e7-a84d6db507d4 "/dev/shm/$tag"
	check "no SigmaHQ detection for the harmless command" bash -c "! grep -q -- '$tag-unrelated' '$t/sigma.json'"
	check "unrelated SigmaHQ rule (crypto mining) does not fire for our processes" bash -c "! grep 9069ea3c-b213-4c52-be13-86506a227ab1 '$t/sigma.json' | grep -q '$tag'"
	n=$(grep -c . "$t/sigma.json")
	k=$(grep -c '^{"rule_id":"[^"]*","rule_title":"[^"]*","level":"[a-z]*","tags":\[.*\],"event":{"class":' "$t/sigma.json")
	is "every JSON line has rule_id, rule_title, level, tags and event" "$k" "$n"
else
	skip "SigmaHQ rules" "$SIGMA is missing (set RF_SIGMA_DIR to the folder holding rules-linux)"
fi

idof() { awk '/^id:/ {print $2}' "$RF_TOP/rules/default/$1.yml"; }
"$RF_BUILD/rf-detect" --rules "$RF_TOP/rules/default" --json "$cap" >"$t/default.json" 2>"$t/default.err"
is "rf-detect (default pack) exits 0" "$?" 0
check "default pack: base64 decoding" fired "$t/default.json" "$(idof rf_proc_base64_decode)" '"base64"'
check "default pack: passwd copied to /tmp (process)" fired "$t/default.json" "$(idof rf_proc_credential_copy_to_tmp)" "$tag.passwd"
check "default pack: passwd copy created in /tmp (file event)" fired "$t/default.json" "$(idof rf_file_account_db_copy_in_tmp)" "$tag.passwd"
check "default pack: exec from /dev/shm" fired "$t/default.json" "$(idof rf_proc_exec_from_dev_shm)" "/dev/shm/$tag"
check "default pack: no detection for the harmless command" bash -c "! grep -q -- '$tag-unrelated' '$t/default.json'"
# (the capture holds the whole machine's activity: negative checks look at our markers)
check "default pack: exec from /tmp does not fire for our processes" bash -c "! grep '$(idof rf_proc_exec_from_tmp)' '$t/default.json' | grep -q '$tag'"
"$RF_BIN" rules test --rules "$RF_TOP/rules/default" --format ocsf "$cap" >"$t/ocsf.json" 2>/dev/null
check "OCSF output: Detection Findings" grep -q '"class_uid":2004' "$t/ocsf.json"
"$RF_BIN" rules test --rules "$RF_TOP/rules/default" --naive --json "$cap" >"$t/naive.json" 2>/dev/null
is "naive evaluator finds the same detections" "$(md5sum <"$t/naive.json")" "$(md5sum <"$t/default.json")"

# rf-detect as a live client of the daemon (public client API): the daemon replays
# the capture into its ring; the same detections come out.
n=$("$RF_BIN" replay "$cap" 2>/dev/null | grep -c -E "process_exec|file_create")
mkdir -p "$t/conf/clients.d"
cat >"$t/conf/clients.d/rf-detect.conf" <<CONF
name = rf-detect
executable = $(readlink -f "$RF_BUILD/rf-detect")
user = root
classes = *
ring_size = 4M
CONF
"$RF_BIN" daemon --socket "$t/sock" --config "$t/conf" --replay "$cap" --count "$n" --wait-clients 1 2>"$t/daemon.log" &
dpid=$!
on_exit "kill -KILL $dpid 2>/dev/null"
watchdog 60 $dpid
wait_for 10 test -S "$t/sock"
"$RF_BUILD/rf-detect" --rules "$RF_TOP/rules/default" --json --socket "$t/sock" --count "$n" --for 30 \
	>"$t/live.json" 2>"$t/live.err"
is "rf-detect live client exits 0" "$?" 0
diag "$(tail -1 "$t/live.err")"
check "live client read every replayed event, none lost" grep -q "rf-detect: $n events, 0 lost" "$t/live.err"
check "live client: exec from /dev/shm" fired "$t/live.json" "$(idof rf_proc_exec_from_dev_shm)" "/dev/shm/$tag"
check "live client: passwd copy created in /tmp (file event)" fired "$t/live.json" "$(idof rf_file_account_db_copy_in_tmp)" "$tag.passwd"
is "live client: the same detections as from the file" "$(grep -c . "$t/live.json")" "$(grep -c . "$t/default.json")"
kill -TERM $dpid 2>/dev/null; wait $dpid 2>/dev/null
done_testing
