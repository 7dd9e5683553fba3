#!/bin/bash
# Detection live, end to end: the daemon runs the eBPF sensor, rf-detect connects as
# a client through the public API with SigmaHQ's Linux rules, and this script behaves
# like an intruder (base64 -d, copying /etc/passwd into /tmp, executing a file from
# /dev/shm, plus a harmless command). The matching rule ids fire; unrelated ones do
# not; nothing is lost. Needs root (eBPF, SO_PEERCRED identity).
# (detect_e2e.sh does the same through `ringfence run`.)
source "$(dirname "$0")/../lib.sh"
need_root "live detection through the daemon"
SIGMA=${RF_SIGMA_DIR:-$RF_TOP/../shared/sigma}/rules-linux
if [ ! -d "$SIGMA" ]; then
	skip "live detection" "$SIGMA is missing (set RF_SIGMA_DIR to the folder holding rules-linux)"
	done_testing
	exit 0
fi
# a name of our own: on the shared machine /tmp/rf-test.* directories were removed under a running test
t=$(mktemp -d /tmp/rfdetect.XXXXXX); on_exit "rm -rf '$t'"
tag=rflive$$
mkdir -p "$t/conf/clients.d"
cat >"$t/conf/clients.d/rf-detect.conf" <<CONF
name = rf-detect
executable = $(readlink -f "$RF_BUILD/rf-detect")
user = root
classes = *
ring_size = 4M
CONF
"$RF_BIN" daemon --socket "$t/sock" --config "$t/conf" 2>"$t/daemon.log" &
dpid=$!
on_exit "kill -KILL $dpid 2>/dev/null"
watchdog 90 $dpid
if ! wait_for 10 test -S "$t/sock"; then
	fail "daemon did not start: $(tail -2 "$t/daemon.log")"
	done_testing
	exit 1
fi
"$RF_BUILD/rf-detect" --rules "$SIGMA" --json --socket "$t/sock" --for 25 >"$t/out.json" 2>"$t/err" &
cpid=$!
on_exit "kill -KILL $cpid 2>/dev/null"
fired() { grep "\"rule_id\":\"$1\"" "$t/out.json" | grep -q -- "$2"; }
# ready when a base64 decoding is detected (the first behaviour doubles as the probe)
for _ in $(seq 100); do
	echo "aGVsbG8K" | base64 -d >/dev/null
	sleep 0.1
	fired e2072cab-8c9a-459b-b63c-40ae79e27031 '"base64"' && break
done
cp /etc/passwd "/tmp/$tag.passwd"; on_exit "rm -f /tmp/$tag.passwd"
cp /bin/true "/dev/shm/$tag"; on_exit "rm -f /dev/shm/$tag"
"/dev/shm/$tag"
ls "/$tag-unrelated" >/dev/null 2>&1
wait_for 10 fired 5cd16c8f-44a6-4654-81e7-a84d6db507d4 "/dev/shm/$tag"
sleep 0.5
# stop the client before inspecting its output, so that the checks' own processes
# (whose command lines name the output file and the markers) are not detected
kill -TERM $cpid 2>/dev/null; wait $cpid
is "rf-detect stops cleanly on SIGTERM" "$?" 0
check "SigmaHQ 'Decode Base64 Encoded Text' fires" fired e2072cab-8c9a-459b-b63c-40ae79e27031 '"base64"'
check "SigmaHQ 'Copy Passwd Or Shadow From TMP Path' fires" fired fa4aaed5-4fe0-498d-bbc0-08e3346387ba "$tag.passwd"
check "SigmaHQ 'Process Execution From Shared Memory Directory' fires" fired 5cd16c8f-44a6-4654-81e7-a84d6db507d4 "/dev/shm/$tag"
check "no detection for the harmless command" bash -c "! grep -q -- '$tag-unrelated' '$t/out.json'"
check "unrelated rule (crypto mining) does not fire for our processes" bash -c "! grep 9069ea3c-b213-4c52-be13-86506a227ab1 '$t/out.json' | grep -q '$tag'"
n=$(grep -c . "$t/out.json")
k=$(jq -c 'select(has("rule_id") and has("rule_title") and has("level") and has("tags") and (.event.class != null))' "$t/out.json" | grep -c .)
is "every line is a detection with rule_id, rule_title, level, tags and event" "$k" "$n"
diag "$(tail -1 "$t/err")"
check "no event lost" grep -q "lost (sequence gaps), daemon: [0-9]* delivered, 0 dropped" "$t/err"
kill -TERM $dpid 2>/dev/null; wait $dpid 2>/dev/null
done_testing
