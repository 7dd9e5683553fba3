#!/bin/bash
# Attestation timings: produce and verify a quote over a realistic measurement log (the
# daemon, its options, its 2 BPF objects, 3 client manifests and binaries, 3 signed
# content bundles: 13 entries), with a TPM (Debian's swtpm on loopback) and software-only.
# Prints figures; pass/fail is not its business.
#   bench/attest.sh [BUILD_DIR]   (default $RF_BUILD, else build; run by bench/run.sh)
# Each time is the median of RUNS runs (default 21) of one `ringfence attest ...` process,
# process start-up included (a `ringfence --version` start is printed for comparison).
# In-process figures (tests/helpers/attest_bench) leave process start-up out and give
# CPU time besides wall time (less sensitive to load).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${RF_BUILD:-build}}
case $build in /*) ;; *) build=$top/$build ;; esac
export RF_TOP=$top RF_BUILD=$build RF_BIN=$build/ringfence
RUNS=${RUNS:-21}
source "$top/tests/lib.sh" >/dev/null
source "$top/tests/integration/attest.inc"
source "$top/tests/helpers/content_lib.sh"
[ -x "$RF_BIN" ] && [ -x "$RF_MKLOG" ] || { echo "bench/attest.sh: run make first" >&2; exit 1; }

T=$(tmpdir)
swtpm_start "$T/tpm" || { echo "bench/attest.sh: swtpm did not start (scripts/deps.sh bench)" >&2; exit 1; }
content_setup "$T" >/dev/null || exit 1
mkdir -p "$T/conf"
for c in detect fragile probe; do printf 'name = %s\nstart = yes\n' "$c" > "$T/conf/$c.conf"; done
fm_bundle 1 "$T/b1.rfb" "template t1 process_exec 0 7:int 10"
fm_bundle 2 "$T/b2.rfb" "template t1 process_exec 0 7:int 11"
fm_bundle 3 "$T/b3.rfb" "template t1 process_exec 0 7:int 12"
printf 'daemon\0--config\0/etc/ringfence\0' > "$T/options"
TGT=$(tgt_hex "$T/tgt1.pub")
components() {
	cat <<EOT
daemon ringfence $RF_BIN $RF_BIN
config daemon-options $T/options daemon --config /etc/ringfence
client-manifest detect $T/conf/detect.conf $T/conf/detect.conf
client-manifest fragile $T/conf/fragile.conf $T/conf/fragile.conf
client-manifest probe $T/conf/probe.conf $T/conf/probe.conf
bpf sensor $RF_BUILD/gen/sensor.skel.h ELF object built into the daemon, loaded
bpf netpolicy $RF_BUILD/gen/netpolicy.skel.h ELF object built into the daemon, loaded
client-exe detect $RF_BUILD/rf-detect /usr/lib/ringfence/rf-detect (running, pid 101)
content detect $T/b1.rfb version=1 signers=$TGT bundle=/var/lib/ringfence/content/detect/a/bundle.rfb
client-exe fragile $RF_BUILD/tests/helpers/cf291_client /usr/lib/x/fragile (running, pid 102)
content fragile $T/b2.rfb version=2 signers=$TGT bundle=/var/lib/ringfence/content/fragile/a/bundle.rfb
client-exe probe $RF_BUILD/tests/helpers/rf_testclient /usr/lib/x/probe (running, pid 103)
content probe $T/b3.rfb version=3 signers=$TGT bundle=/var/lib/ringfence/content/probe/a/bundle.rfb
EOT
}
N=00112233445566778899aabbccddeeff
median_ms() {
	local i t0 t1 ts=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
		ts+=($((t1 - t0)))
	done
	printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p" |
		awk '{ printf "%.2f", $1 / 1000000 }'
}
t0=$(date +%s%N); components | "$RF_MKLOG" "$T/tpmst" >/dev/null; t1=$(date +%s%N)
mk_tpm=$(( (t1 - t0) / 1000 ))
t0=$(date +%s%N); components | "$RF_MKLOG" "$T/swst" software >/dev/null; t1=$(date +%s%N)
mk_sw=$(( (t1 - t0) / 1000 ))
"$RF_BIN" attest quote --state "$T/tpmst" --nonce $N --out "$T/tpm.q" || exit 1
"$RF_BIN" attest quote --state "$T/swst" --nonce $N --out "$T/sw.q" 2>/dev/null || exit 1
"$RF_BIN" attest policy "$T/tpm.q" > "$T/tpm.pol"
{ "$RF_BIN" attest policy "$T/sw.q"; } > "$T/sw.pol"
"$RF_BIN" attest verify "$T/tpm.q" --nonce $N --policy "$T/tpm.pol" >/dev/null || { echo "bench: TPM quote does not verify" >&2; exit 1; }
"$RF_BIN" attest verify "$T/sw.q" --nonce $N --policy "$T/sw.pol" >/dev/null || { echo "bench: software quote does not verify" >&2; exit 1; }

entries=$(quote_field "$T/tpm.q" log)
echo "log: $entries entries (daemon, options, 2 BPF objects, 3 manifests, 3 clients, 3 bundles);" \
	"quote file $(wc -c < "$T/tpm.q") bytes TPM, $(wc -c < "$T/sw.q") software ($(base64 -w0 < "$T/tpm.q" | wc -c) in base64)"
echo "process start (ringfence --version):     $(median_ms "$RF_BIN" --version) ms"
echo "build the log, TPM (PCR reset + $entries extends, hashing the files): $(awk -v u=$mk_tpm 'BEGIN { printf "%.1f", u / 1000 }') ms (one run)"
echo "build the log, software-only:            $(awk -v u=$mk_sw 'BEGIN { printf "%.1f", u / 1000 }') ms (one run)"
echo "quote, TPM (swtpm on loopback):          $(median_ms "$RF_BIN" attest quote --state "$T/tpmst" --nonce $N --out "$T/x.q") ms (median of $RUNS)"
echo "quote, software-only:                    $(median_ms "$RF_BIN" attest quote --state "$T/swst" --nonce $N --out "$T/y.q") ms"
echo "verify, TPM quote (ECDSA P-256):         $(median_ms "$RF_BIN" attest verify "$T/tpm.q" --nonce $N --policy "$T/tpm.pol") ms"
echo "verify, software-only quote (ed25519):   $(median_ms "$RF_BIN" attest verify "$T/sw.q" --nonce $N --policy "$T/sw.pol") ms"
AB=$RF_BUILD/tests/helpers/attest_bench
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
tpm=$("$AB" "$T/tpmst" $N "$T/tpm.pol" "$RUNS") || exit 1
sw=$("$AB" "$T/swst" $N "$T/sw.pol" "$RUNS") || exit 1
echo "in-process (mean of $RUNS; CPU = this process only, the TPM's own work excluded):"
echo "  quote, TPM (swtpm on loopback):  $(kv "$tpm" quote_ms) ms wall, $(kv "$tpm" quote_cpu_ms) ms CPU"
echo "  quote, software-only:            $(kv "$sw" quote_ms) ms wall, $(kv "$sw" quote_cpu_ms) ms CPU"
echo "  verify, TPM quote:               $(kv "$tpm" verify_ms) ms wall, $(kv "$tpm" verify_cpu_ms) ms CPU"
echo "  verify, software-only quote:     $(kv "$sw" verify_ms) ms wall, $(kv "$sw" verify_cpu_ms) ms CPU"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) CPUs"
