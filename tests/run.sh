#!/bin/bash
# Runs every test and ends with "N passed, N failed, N skipped".
#   tests/run.sh BUILD_DIR SANITIZED_BUILD_DIR
# Every test program speaks TAP ("ok N - name", "not ok N - name", "# SKIP reason").
# A program that exits non-zero, or prints no result at all, counts as one failure.
# Set RF_TEST_FILTER=REGEX to run only the programs whose path matches.
set -u
build=${1:-build}
san=${2:-build/san}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export RF_BIN="$top/$build/ringfence" RF_BUILD="$top/$build" RF_TOP="$top"
export CMOCKA_MESSAGE_OUTPUT=TAP
RF_SIGMA_DIR=$(scripts/sigma-dir.sh)
export RF_SIGMA_DIR
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp -d /tmp/rf-tests.XXXXXX)
pass=0 fail=0 skip=0
failed_names=()

run_one() { # NAME TIMEOUT CMD...
	local name=$1 tmo=$2; shift 2
	[ -n "${RF_TEST_FILTER:-}" ] && ! [[ $name =~ $RF_TEST_FILTER ]] && return
	local out="$log/$(echo "$name" | tr '/ ' '__').log" rc p=0 f=0 s=0 line
	local t0=$SECONDS
	timeout -k 10 "$tmo" "$@" >"$out" 2>&1 </dev/null
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*|"ok "*"# skip"*) s=$((s + 1)); echo "  skip: $name: ${line#ok }" ;;
		"ok "*) p=$((p + 1)) ;;
		"not ok "*) f=$((f + 1)); echo "  FAIL: $name: ${line#not ok }" ;;
		esac
	done < <(sed 's/^[[:space:]]*//' "$out")
	if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
		f=1
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "  FAIL: $name: timed out after ${tmo}s"
		else
			echo "  FAIL: $name: exited with status $rc and reported no failing test"
		fi
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		f=1
		echo "  FAIL: $name: reported no test result"
	fi
	if [ $f -gt 0 ]; then
		failed_names+=("$name")
		echo "  --- last lines of $out:"
		tail -n 25 "$out" | sed 's/^/  | /'
	fi
	printf '%-52s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" $p $f $s $((SECONDS - t0))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

echo "== unit tests ($build)"
for t in "$build"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "unit/$(basename "$t")" 300 "$t"
done
echo "== unit tests under address,undefined sanitizers ($san)"
for t in "$san"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "unit-san/$(basename "$t")" 600 "$t"
done
echo "== fuzz corpus replay under sanitizers ($san)"
for t in "$san"/fuzz/fuzz_*-replay; do
	[ -x "$t" ] || continue
	n=$(basename "$t" -replay); n=${n#fuzz_}
	run_one "fuzz/$n" 600 "$t" "tests/fuzz/corpus/$n"
done
for dir in integration fault; do
	ls tests/$dir/*.sh >/dev/null 2>&1 || continue
	echo "== $dir tests"
	for t in tests/$dir/*.sh; do
		run_one "$dir/$(basename "$t" .sh)" 900 bash "$t"
	done
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failing: ${failed_names[*]} (logs in $log)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
