#!/usr/bin/env bash
# `ringfence auth test PATH`: shows what each AUTH client answers (allow, deny,
# missed) and the combined verdict, without executing anything and without counting
# misses against the clients; refuses bad usage. Needs root and fanotify.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/broker.inc"
source "$(dirname "$0")/auth.inc"
auth_enter_ns "$0" "$@"
auth_setup
start_daemon --no-source --auth-mount "$MNT" --auth-deadline-exec 200 --auth-fail-closed "$MNT/secure"
authc --name a --mode allow --deny bad --cache --classes auth_exec --ready "$T/ra" & on_exit "kill $!"
ready "$T/ra"
at() { "$RF_BIN" auth test --socket "$SOCK" "$@"; }

out=$(at --json "$MNT/good")
is "one client allows: combined allow" "$(jq -r .verdict <<<"$out")" allow
is "... its answer is shown" "$(jq -r '.clients[0].answer' <<<"$out")" allow
is "... cacheable shown" "$(jq -r '.clients[0].cacheable' <<<"$out")" true
out=$(at --json "$MNT/bad")
is "the client denies: combined deny" "$(jq -r .verdict <<<"$out")" deny

authc --name a --mode hang --classes auth_exec --ready "$T/rb" & on_exit "kill $!"
ready "$T/rb"
out=$(at --json "$MNT/good")
is "with a hung client: two answers listed" "$(jq -r '.clients | length' <<<"$out")" 2
is "... the hung one missed" "$(jq -r '[.clients[].answer] | sort | join(",")' <<<"$out")" "allow,missed"
is "... combined: the default (allow)" "$(jq -r .verdict <<<"$out")" allow
out=$(at --json "$MNT/secure/x")
is "fail-closed path with a hung client: deny" "$(jq -r '.verdict + " " + (.fail_closed|tostring)' <<<"$out")" "deny true"
at "$MNT/bad" > "$T/human"
check "human output names the verdict" grep -q "^exec $MNT/bad: DENY" "$T/human"
check "... and each client" grep -Eq "^a +[0-9]+ deny" "$T/human"
is "no kernel request was made" "$(aj .auth.requests)" 0
is "no miss counted against the clients" "$(aj '[.clients[].deadline_misses] | add')" 0
at relative/path 2>/dev/null; is "relative path: usage error" $? 2
at 2>/dev/null; is "no path: usage error" $? 2
done_testing
