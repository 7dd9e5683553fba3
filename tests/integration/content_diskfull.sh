#!/bin/bash
# Fill the disk at every step of an install and show the store consistent and
# startable each time. The store lives on a 64 KiB tmpfs in a private mount
# namespace (unshare -m); the test-only hook RINGFENCE_FILL_AT=step makes the
# installer fill that file system at STEP, so its next write meets ENOSPC. A second
# sweep fills the tmpfs beforehand to every level from full to empty.
# Needs root (mount, unshare).
source "$(dirname "$0")/../lib.sh"
source "$RF_TOP/tests/helpers/content_lib.sh"
need_root "content store on a full disk"
if [ -z "${RF_IN_MOUNT_NS:-}" ]; then
	RF_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

T=$(tmpdir)
content_setup "$T" || { fail "set up keys and trusted root"; done_testing; exit 1; }
CAP=$RF_SHADOW_CAPTURE
test -r "$CAP" || { fail "shadow capture $CAP missing"; done_testing; exit 1; }
SHADOW="$RF_SHADOW_CLIENT {content} {capture}"
install() { "$RF_BIN" content install --store "$1" --shadow "$SHADOW" --capture "$CAP" "$2"; }

fm_bundle 1 "$T/v1.rfb" "template t process_exec 0 1"
fm_bundle 2 "$T/v2.rfb" "template t process_exec 0 2"
( cd "$T" && "$RF_BIN" content root --version 2 --root-key root2.pub --targets-key tgt2.pub -o root-v2.rfm &&
  "$RF_BIN" content sign --key root1.sec --key root2.sec root-v2.rfm )
mkdir -p "$T/src3/sub"
printf 'template t process_exec 0 3\n' > "$T/src3/rules.fm"
printf 'template u process_fork 0 1 2\n' > "$T/src3/more.fm"
echo "notes" > "$T/src3/sub/readme"
"$RF_BIN" content build --type fieldmap --client fragile --version 3 --root "$T/root-v2.rfm" \
	--key "$T/tgt2.sec" "$T/src3" -o "$T/v3.rfb" >/dev/null
install "$STORE" "$T/v1.rfb" >/dev/null 2>&1 && "$RF_BIN" content mark-good --store "$STORE" fragile &&
	install "$STORE" "$T/v2.rfb" >/dev/null 2>&1
is "base store: v2 current, v1 known good" "$(state_field current)/$(state_field good)" 2/1

M=$T/tiny
mkdir -p "$M"
fresh_tmpfs() {
	umount "$M" 2>/dev/null
	mount -t tmpfs -o size=64k,mode=0755 tmpfs "$M" || return 1
	cp -a "$STORE" "$M/store"
}

# consistent_after WHAT RC OUT: the store is consistent and startable; the install
# either went through (v3) or failed cleanly with v1/v2 current; then, with the
# ballast gone, the next install succeeds
consistent_after() {
	local what=$1 rc=$2 out=$3 s=$M/store cur good dir
	if ! c=$("$RF_BIN" content check --store "$s" fragile 2>&1); then
		fail "$what: store inconsistent: $c"; return
	fi
	cur=$(state_field current "$s"); good=$(state_field good "$s")
	dir=$("$RF_BIN" content current --store "$s" fragile)
	if [ "$good" != 1 ] || ! "$RF_SHADOW_CLIENT" "$dir" "$CAP" >/dev/null 2>&1 ||
	   ! "$RF_BIN" content validate --type fieldmap "$dir" >/dev/null 2>&1; then
		fail "$what: known good '$good', or current v$cur does not start"; return
	fi
	if [ $rc -eq 0 ] && [ "$cur" = 3 ]; then
		RESULT=installed
	elif [ $rc -eq 1 ] && grep -q "refused (IO).*No space left on device" <<<"$out" &&
	     { [ "$cur" = 1 ] || [ "$cur" = 2 ]; }; then
		RESULT="ENOSPC, v$cur current"
	else
		fail "$what: exit $rc, current v$cur: $out"; return
	fi
	rm -f "$M/ballast"
	"$RF_BIN" content recover --store "$s" fragile >/dev/null 2>&1
	if [ "$cur" != 3 ] && ! o2=$(install "$s" "$T/v3.rfb" 2>&1); then
		fail "$what: after freeing space the install still fails: $o2"; return
	fi
	ok "$what: $RESULT; consistent, v1 known good, current starts, next install works"
}

# After these steps the installer's next write needs a new page and must meet
# ENOSPC. After the others it first frees space (removing the old slot, renaming
# over the old root or state) or writes nothing more, so the install completes;
# either way the store must be consistent.
nospc_steps="verified revert-tmp revert-renamed slot-created extract-file extracted slot-removed
slot-renamed attempting-tmp attempting-renamed root-renamed"
steps="verified revert-tmp revert-renamed slot-created extract-file extracted bundle-copied
validated shadowed slot-removed slot-renamed attempting-tmp attempting-renamed root-tmp
root-renamed activate-tmp activate-renamed activated"
for step in $steps; do
	fresh_tmpfs || { fail "mount tmpfs"; break; }
	out=$(RINGFENCE_FILL_AT=$step RINGFENCE_FILL_FILE=$M/ballast install "$M/store" "$T/v3.rfb" 2>&1)
	rc=$?
	grep -q "RINGFENCE_FILL_AT=$step" <<<"$out" || { fail "disk full at $step: the step was never reached"; continue; }
	RESULT=
	consistent_after "disk full at $step" $rc "$out"
	case " $(echo $nospc_steps) " in
	*" $step "*) want=ENOSPC ;;
	*) want=installed ;;
	esac
	[ -n "$RESULT" ] && case "$RESULT" in
	"$want"*) ;;
	*) fail "disk full at $step: $RESULT, but the next operation should have been $want" ;;
	esac
done

# second sweep: the disk already full to every level before the install starts
for free in 0 4096 8192 12288 16384 20480 24576 32768; do
	fresh_tmpfs || break
	avail=$(( $(df -B1 --output=avail "$M" | tail -1) - free ))
	[ $avail -gt 0 ] && head -c $avail /dev/zero > "$M/ballast" 2>/dev/null
	out=$(install "$M/store" "$T/v3.rfb" 2>&1)
	consistent_after "install with $free bytes free" $? "$out"
done
umount "$M"
done_testing
