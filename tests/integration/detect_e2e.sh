#!/bin/bash
# End to end (issue 8): `ringfence run --rules ../shared/sigma/rules-linux --json` (the
# daemon with the eBPF sensor, rf-detect as its client) while this script behaves like
# an intruder: base64 -d, copying /etc/passwd into /tmp, executing a file from
# /dev/shm, plus a harmless command. The matching rule ids fire, unrelated ones do
# not. Then the same with the default pack. Needs root (eBPF).
source "$(dirname "$0")/../lib.sh"
need_root "detection end to end through ringfence run"
SIGMA=${RF_SIGMA_DIR:-$RF_TOP/../shared/sigma}/rules-linux
# a name of our own: on the shared machine /tmp/rf-test.* directories were removed under a running test
t=$(mktemp -d /tmp/rfdetect.XXXXXX); on_exit "rm -rf '$t'"
tag=rfe2e$$

# run_with OUT [--rules DIR]: start `ringfence run`, behave, stop it, leave its output
run_with() {
	local out=$1 pid i; shift
	"$RF_BIN" run "$@" --json --for 60 >"$out" 2>"$out.err" &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null"
	watchdog 90 $pid
	# ready when a base64 decoding is detected (the first behaviour doubles as the probe)
	for i in $(seq 150); do
		echo "aGVsbG8K" | base64 -d >/dev/null
		sleep 0.1
		grep -q '"rule_title":"[^"]*[Bb]ase64[^"]*"' "$out" && break
	done
	cp /etc/passwd "/tmp/$tag.passwd"
	on_exit "rm -f /tmp/$tag.passwd"
	cp /bin/true "/dev/shm/$tag" && "/dev/shm/$tag"
	on_exit "rm -f /dev/shm/$tag"
	ls "/$tag-unrelated" >/dev/null 2>&1
	wait_for 10 grep -q "/dev/shm/$tag" "$out"
	sleep 0.5
	# stop before inspecting the output: the checks' own processes name the markers
	kill -TERM $pid 2>/dev/null
	wait $pid
}

fired() { # OUT RULE_ID MARKER: a JSON detection of RULE_ID whose event mentions MARKER
	grep "\"rule_id\":\"$2\"" "$1" | grep -q -- "$3"
}

if [ -d "$SIGMA" ]; then
	run_with "$t/sigma.json" --rules "$SIGMA"
	is "run stops cleanly on SIGTERM" "$?" 0
	check "SigmaHQ 'Decode Base64 Encoded Text' fires" fired "$t/sigma.json" e2072cab-8c9a-459b-b63c-40ae79e27031 '"base64"'
	check "SigmaHQ 'Copy Passwd Or Shadow From TMP Path' fires" fired "$t/sigma.json" fa4aaed5-4fe0-498d-bbc0-08e3346387ba "$tag.passwd"
	check "SigmaHQ 'Process Execution From Shared Memory Directory' fires" fired "$t/sigma.json" 5cd16c8f-44a6-4654-81e7-a84d6db507d4 "/dev/shm/$tag"
	check "no detection for the harmless command" bash -c "! grep -q -- '$tag-unrelated' '$t/sigma.json'"
	check "unrelated rule (crypto mining) does not fire for our processes" \
		bash -c "! grep 9069ea3c-b213-4c52-be13-86506a227ab1 '$t/sigma.json' | grep -q '$tag'"
	n=$(grep -c . "$t/sigma.json")
	k=$(jq -c 'select(has("rule_id") and has("rule_title") and has("level") and has("tags") and (.event.class != null))' "$t/sigma.json" | grep -c .)
	is "every line is a detection with rule_id, rule_title, level, tags and event" "$k" "$n"
else
	skip "SigmaHQ rules" "$SIGMA is missing (set RF_SIGMA_DIR to the folder holding rules-linux)"
fi

idof() { awk '/^id:/ {print $2}' "$RF_TOP/rules/default/$1.yml"; }
run_with "$t/default.json"
is "run (default pack) stops cleanly" "$?" 0
check "default pack: base64 decoding" fired "$t/default.json" "$(idof rf_proc_base64_decode)" '"base64"'
check "default pack: exec from /dev/shm" fired "$t/default.json" "$(idof rf_proc_exec_from_dev_shm)" "/dev/shm/$tag"
check "default pack: account database copied to /tmp" fired "$t/default.json" "$(idof rf_proc_credential_copy_to_tmp)" "$tag.passwd"
check "default pack: no detection for the harmless command" bash -c "! grep -q -- '$tag-unrelated' '$t/default.json'"
done_testing
