#!/bin/bash
# make bench: every benchmark, one after another. Each prints its own figures.
#   bench/run.sh BUILD_DIR
set -u
export RF_BUILD=$(cd "${1:-build}" && pwd)
export RF_BIN=$RF_BUILD/ringfence
cd "$(dirname "$0")"
for b in exec_storm.sh $(ls *.sh | grep -v -e '^run.sh$' -e '^lib.sh$' -e '^exec_storm.sh$' -e '^storms.sh$'); do
	echo "=== bench/$b"
	bash "$b" || echo "bench/$b failed (exit $?)"
	echo
done
