#!/bin/bash
# Prints the folder of the third-party Sigma material (rules-linux/, spec/) that tests
# and benchmarks use, or nothing: $RF_SIGMA_DIR when set; else ../shared/sigma beside
# this checkout; else, for a clone of a local repository (git clone . /tmp/x, as CI
# does), ../shared/sigma beside that repository.
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${RF_SIGMA_DIR:-}" ]; then
	echo "$RF_SIGMA_DIR"
	exit 0
fi
if [ -d "$top/../shared/sigma" ]; then
	(cd "$top/../shared/sigma" && pwd)
	exit 0
fi
origin=$(git -C "$top" config --get remote.origin.url 2>/dev/null)
origin=${origin#file://}
if [ -n "$origin" ] && [ -d "$origin/../shared/sigma" ]; then
	(cd "$origin/../shared/sigma" && pwd)
fi
