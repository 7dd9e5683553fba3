#!/bin/bash
# Command-line behaviour: help, bad input gets a one-line error and a non-zero exit,
# record and replay round-trip, corrupt captures name the byte offset.
source "$(dirname "$0")/../lib.sh"
d=$(tmpdir)

"$RF_BIN" --help >"$d/out"; is "--help exits 0" "$?" 0
for c in events record replay run; do check "--help lists $c" grep -q "^  $c " "$d/out"; done
for c in events record replay; do
	"$RF_BIN" $c --help >"$d/out" 2>&1; is "$c --help exits 0" "$?" 0
	check "$c --help shows usage" grep -q "usage: ringfence $c" "$d/out"
done
"$RF_BIN" nosuchcmd 2>"$d/err"; is "unknown command exits 2" "$?" 2
check "unknown command: one line that says what to do" bash -c "[ \$(wc -l <'$d/err') = 1 ] && grep -q \"ringfence --help\" '$d/err'"
"$RF_BIN" events --bogus >/dev/null 2>"$d/err"; is "unknown flag exits 2" "$?" 2
check "unknown flag names the flag" grep -q "unrecognized option '--bogus'" "$d/err"
"$RF_BIN" events --class nope >/dev/null 2>"$d/err"; is "unknown class exits 2" "$?" 2
check "unknown class is named and valid classes listed" bash -c "grep -q \"unknown event class 'nope'\" '$d/err' && grep -q process_exec '$d/err'"
"$RF_BIN" events --for -3 >/dev/null 2>"$d/err"; is "bad --for exits 2" "$?" 2
"$RF_BIN" events --count 0 >/dev/null 2>"$d/err"; is "bad --count exits 2" "$?" 2
"$RF_BIN" events --ring-kib 3 >/dev/null 2>"$d/err"; is "bad --ring-kib exits 2" "$?" 2
"$RF_BIN" replay >/dev/null 2>"$d/err"; is "replay without a file exits 2" "$?" 2
"$RF_BIN" replay /nonexistent/x.rfcap >/dev/null 2>"$d/err"; is "missing capture exits 1" "$?" 1
check "missing capture: one line naming the file" bash -c "[ \$(wc -l <'$d/err') = 1 ] && grep -q '/nonexistent/x.rfcap: cannot open' '$d/err'"
echo "hello" >"$d/notcap"
"$RF_BIN" replay "$d/notcap" >/dev/null 2>"$d/err"; is "non-capture exits 1" "$?" 1
check "non-capture: offset 0, bad magic" grep -q "offset 0: not a ringfence capture file" "$d/err"
"$RF_BIN" record >/dev/null 2>"$d/err"; is "record without a file exits 2" "$?" 2
"$RF_BIN" record "$d/x" --json >/dev/null 2>"$d/err"; is "record --json exits 2" "$?" 2
"$RF_BIN" record /nonexistent/dir/x --for 1 >/dev/null 2>"$d/err"; is "record to an unwritable path exits 1" "$?" 1
check "record names the unwritable path" grep -q "cannot create /nonexistent/dir/x" "$d/err"

if [ "$(id -u)" = 0 ]; then
	cap="$d/rec.rfcap"
	"$RF_BIN" record "$cap" --for 3 2>"$d/err" &
	rf=$!
	# loading the sensor takes about a second, more on a busy machine: mark repeatedly
	# until the recording ends
	while kill -0 $rf 2>/dev/null; do /bin/sh -c ": rf-record-marker-$$"; sleep 0.25; done
	wait $rf
	is "record exits 0" "$?" 0
	check "record prints a summary" grep -q "recorded [0-9]* events" "$d/err"
	"$RF_BIN" replay "$cap" --json >"$d/replay.json" 2>"$d/err"
	is "replay exits 0" "$?" 0
	check "replayed events include the marker" grep -q "rf-record-marker-$$" "$d/replay.json"
	is "replayed events are flagged replayed" "$(jq -s 'all(.[]; .flags | index("replayed"))' "$d/replay.json")" true
	n1=$(wc -l <"$d/replay.json")
	"$RF_BIN" replay "$cap" --class process_exec --json >"$d/replay2.json"
	is "replay --class filters" "$(jq -s 'all(.[]; .class=="process_exec")' "$d/replay2.json")" true
	"$RF_BIN" replay "$cap" >"$d/replay.txt"
	is "text replay has one line per event" "$(wc -l <"$d/replay.txt")" "$n1"
	# corruption: cut the file inside its last record
	size=$(stat -c %s "$cap")
	head -c $((size - 5)) "$cap" >"$d/cut.rfcap"
	"$RF_BIN" replay "$d/cut.rfcap" >/dev/null 2>"$d/err"
	is "truncated capture exits 1" "$?" 1
	check "truncated capture: error names the byte offset" grep -Eq "offset [0-9]+: truncated record" "$d/err"
	cp "$cap" "$d/flip.rfcap"
	printf '\x42' | dd of="$d/flip.rfcap" bs=1 seek=100 conv=notrunc 2>/dev/null
	"$RF_BIN" replay "$d/flip.rfcap" >/dev/null 2>"$d/err"
	is "corrupt capture exits 1" "$?" 1
	check "corrupt capture: checksum error at offset 64" grep -q "offset 64: corrupt record (checksum mismatch)" "$d/err"
	"$RF_BIN" events --json --count 3 >"$d/three.json" 2>/dev/null &
	rf=$!
	for _ in 1 2 3 4 5; do /bin/true; sleep 0.2; done
	wait $rf
	is "--count 3 stops after 3 events" "$(wc -l <"$d/three.json")" 3
else
	skip "record and replay of live events" "needs root"
fi

# the generated field reference is current
check "docs/events.md matches the schema" cmp -s "$RF_BUILD/gen/events.md" "$RF_TOP/docs/events.md"
done_testing
