#!/bin/bash
# Kernel -> user-space throughput of the sensor on one reader core: the kernel writes
# events as fast as asked (BPF test runs), the reader delivers them; both ends counted
# at stepped rates until drops begin. See tests/helpers/ring_bench.c.
set -u
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "ring_throughput: needs root (eBPF)"; exit 1; }
"$RF_BUILD/tests/helpers/ring_bench" "${1:-1}"
