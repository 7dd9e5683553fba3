#!/bin/bash
# `ringfence fleet sim` at 20,000 endpoints (the 1,000,000 run is bench/fleet.sh):
# a Channel-File-291-like bad update halts with a blast radius of at most 1 % and
# leaves no endpoint on the bad content; a good update rolls out without a halt.
source "$(dirname "$0")/../lib.sh"

T=$(tmpdir)
"$RF_BIN" fleet sim --endpoints 20000 --scenario bad --quiet > "$T/bad" 2>&1
rc=$?
sed 's/^/# /' "$T/bad"
is "bad update: the simulator's goals are met" "$rc" 0
halt=$(sed -n 's/^sim: time to halt .*(\([0-9]*\) s)$/\1/p' "$T/bad")
[ -n "$halt" ] && ok "bad update halted (after $halt s)" || fail "no halt"
blast=$(sed -n 's/^sim: blast radius \([0-9]*\) endpoints.*/\1/p' "$T/bad")
[ -n "$blast" ] && [ "$blast" -ge 1 ] && [ "$blast" -le 200 ] &&
	ok "blast radius $blast of 20000 (at most 1 %, at least one canary)" || fail "blast radius '$blast'"
left=$(sed -n 's/^sim: endpoints left on bad content after rollback \([0-9]*\)$/\1/p' "$T/bad")
is "no endpoint left on bad content" "$left" 0
grep -q "rollback v3 published" "$T/bad" && ok "rollback published as v3 (N+1)" || fail "no rollback version"

# without internal hosts the canary is the hashed 1 %: still at most 1 % ever on it
"$RF_BIN" fleet sim --endpoints 20000 --scenario bad --internal-fraction 0 --quiet > "$T/bad2" 2>&1
rc=$?
sed 's/^/# /' "$T/bad2"
is "bad update, no internal hosts: goals met" "$rc" 0
blast=$(sed -n 's/^sim: blast radius \([0-9]*\) endpoints.*/\1/p' "$T/bad2")
[ -n "$blast" ] && [ "$blast" -ge 20 ] && [ "$blast" -le 200 ] &&
	ok "blast radius $blast of 20000 (the canary, at most 1 %)" || fail "blast radius '$blast'"

# the good update with short stages (the default bake times take simulated hours)
cat > "$T/fast.conf" <<EOT
canary_bake_s = 600
early_bake_s = 900
broad_bake_s = 900
EOT
"$RF_BIN" fleet sim --endpoints 10000 --scenario good --quiet --config "$T/fast.conf" > "$T/good" 2>&1
rc=$?
sed 's/^/# /' "$T/good"
is "good update: rolls out without a halt" "$rc" 0
grep -q "^sim: halted no$" "$T/good" && ok "no false halt" || fail "false halt"
grep -q "^sim: time to full rollout (controller: broad passed) [0-9]" "$T/good" && ok "full rollout reached" || fail "no full rollout"

# usage errors
"$RF_BIN" fleet sim --endpoints 5 >/dev/null 2>&1
is "too few endpoints is a usage error" "$?" 2
"$RF_BIN" fleet sim --scenario ugly >/dev/null 2>&1
is "an unknown scenario is a usage error" "$?" 2
done_testing
