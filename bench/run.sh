#!/bin/bash
# `make bench`: runs every bench/*.sh (but this one) with the build directory and
# prints their figures. Benchmarks report; they do not pass or fail.
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "### $b"
	bash "$b" "$BUILD"
done
