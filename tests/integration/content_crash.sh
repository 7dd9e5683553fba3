#!/bin/bash
# Kill the installer with SIGKILL at every step of an install (and of mark-good and
# rollback), through the test-only RINGFENCE_CRASH_AT=step hook, and show after each
# kill that the store is consistent, keeps its known-good version, and starts: its
# current content validates and runs in the client, and the next install succeeds.
# Needs neither root nor BPF.
source "$(dirname "$0")/../lib.sh"
source "$RF_TOP/tests/helpers/content_lib.sh"

T=$(tmpdir)
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
CAP=$RF_SHADOW_CAPTURE
test -r "$CAP" || { fail "shadow capture $CAP missing"; done_testing; exit 1; }
SHADOW="$RF_SHADOW_CLIENT {content} {capture}"
install() { "$RF_BIN" content install --store "$1" --shadow "$SHADOW" --capture "$CAP" "$2"; }

# base store: v1 known good (slot a), v2 current but unproven (slot b), so that an
# install of v3 goes through every step, the revert of current included
fm_bundle 1 "$T/v1.rfb" "template t process_exec 0 1"
fm_bundle 2 "$T/v2.rfb" "template t process_exec 0 2"
( cd "$T" && "$RF_BIN" content root --version 2 --root-key root2.pub --targets-key tgt2.pub -o root-v2.rfm &&
  "$RF_BIN" content sign --key root1.sec --key root2.sec root-v2.rfm )
mkdir -p "$T/src3" "$T/src3/sub"
printf 'template t process_exec 0 3\n' > "$T/src3/rules.fm"
printf 'template u process_fork 0 1 2\n' > "$T/src3/more.fm"
echo "notes" > "$T/src3/sub/readme"
"$RF_BIN" content build --type fieldmap --client fragile --version 3 --root "$T/root-v2.rfm" \
	--key "$T/tgt2.sec" "$T/src3" -o "$T/v3.rfb" >/dev/null
fm_bundle 4 "$T/v4.rfb" "template t process_exec 0 4" # old targets key: valid only before rotation
src=$(mktemp -d "$T/src.XXXXXX"); printf 'template t process_exec 0 4\n' > "$src/rules.fm"
"$RF_BIN" content build --type fieldmap --client fragile --version 4 --key "$T/tgt2.sec" "$src" -o "$T/v4new.rfb" >/dev/null
install "$STORE" "$T/v1.rfb" >/dev/null 2>&1 && "$RF_BIN" content mark-good --store "$STORE" fragile &&
	install "$STORE" "$T/v2.rfb" >/dev/null 2>&1
is "base store: v2 current" "$(state_field current)" 2
is "base store: v1 known good" "$(state_field good)" 1

# startable STORE: consistent, known good kept, current validates and runs in the client
startable() {
	local s=$1 what=$2 cur good dir
	if ! out=$("$RF_BIN" content check --store "$s" fragile 2>&1); then
		fail "$what: store inconsistent: $out"; return 1
	fi
	cur=$(state_field current "$s"); good=$(state_field good "$s")
	if [ "$good" != 1 ]; then fail "$what: known good is '$good', want 1"; return 1; fi
	"$RF_BIN" content recover --store "$s" fragile >/dev/null || { fail "$what: recover"; return 1; }
	dir=$("$RF_BIN" content current --store "$s" fragile) || { fail "$what: no current"; return 1; }
	if ! out=$("$RF_BIN" content validate --type fieldmap "$dir" 2>&1); then
		fail "$what: current content does not validate: $out"; return 1
	fi
	if ! "$RF_SHADOW_CLIENT" "$dir" "$CAP" >/dev/null 2>&1; then
		fail "$what: the client does not start on current content"; return 1
	fi
	if ls "$s/fragile" | grep -qE '\.new$|\.tmp$'; then
		fail "$what: leftovers after recover: $(ls "$s/fragile")"; return 1
	fi
	CUR=$cur
	return 0
}

# after the kill: which version may be current (the switch is the state rename)
steps_before="verified revert-tmp revert-renamed slot-created extract-file extracted bundle-copied
validated shadowed slot-removed slot-renamed attempting-tmp attempting-renamed root-tmp
root-renamed activate-tmp"
steps_after="activate-renamed activated"
for step in $steps_before $steps_after; do
	s=$T/crash-$step
	cp -a "$STORE" "$s"
	RINGFENCE_CRASH_AT=$step install "$s" "$T/v3.rfb" >/dev/null 2>&1
	rc=$?
	if [ $rc -ne 137 ]; then
		fail "install killed at '$step': want exit 137 (SIGKILL), got $rc"
		continue
	fi
	startable "$s" "killed at $step" || continue
	case " $steps_after " in
	*" $step "*) want="3" ;;
	*) want="1 2" ;;
	esac
	case " $want " in
	*" $CUR "*) ok "killed at $step: store consistent, known good v1 kept, current v$CUR starts" ;;
	*) fail "killed at $step: current is v$CUR, want one of: $want" ;;
	esac
	# and the store keeps working: the next install goes through
	if [ "$CUR" = 3 ]; then next=$T/v4new.rfb; else next=$T/v3.rfb; fi
	if out=$(install "$s" "$next" 2>&1) && "$RF_BIN" content check --store "$s" fragile >/dev/null; then
		ok "killed at $step: the next install succeeds"
	else
		fail "killed at $step: next install failed: $out"
	fi
	rm -rf "$s"
done

for step in mark-good-tmp mark-good-renamed; do
	s=$T/crash-$step
	cp -a "$STORE" "$s"
	RINGFENCE_CRASH_AT=$step "$RF_BIN" content mark-good --store "$s" fragile >/dev/null 2>&1
	rc=$?
	g=$(state_field good "$s")
	if [ $rc -eq 137 ] && "$RF_BIN" content check --store "$s" fragile >/dev/null 2>&1 &&
	   { [ "$g" = 1 ] || [ "$g" = 2 ]; }; then
		ok "mark-good killed at $step: consistent, known good v$g"
	else
		fail "mark-good killed at $step: exit $rc, known good '$g'"
	fi
	rm -rf "$s"
done
for step in rollback-tmp rollback-renamed; do
	s=$T/crash-$step
	cp -a "$STORE" "$s"
	RINGFENCE_CRASH_AT=$step "$RF_BIN" content rollback --store "$s" fragile >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 137 ] && startable "$s" "rollback killed at $step"; then
		ok "rollback killed at $step: consistent, current v$CUR, known good v1"
	else
		[ $rc -eq 137 ] || fail "rollback killed at $step: want exit 137, got $rc"
	fi
	rm -rf "$s"
done

done_testing
