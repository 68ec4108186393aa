#!/usr/bin/env bash
# Start order: a command sent in the moment after provd starts waits for the
# unit list (every handler and every scope check needs it) instead of
# failing with "unit list not loaded".  slapd is held with SIGSTOP while
# provd starts, so the window is seconds wide rather than milliseconds;
# released before provd's own directory timeout, the command must then
# succeed.  A directory that stays away still gets an answer (the
# directory is down), not a hang: every ping is answered at once while
# provd's bind waits in the background.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-start-order.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
SLAPD_PID=$(cat "$SANDBOX_DIR/slapd.pid")
# never leave slapd stopped behind
at_exit kill -CONT "$SLAPD_PID"

ok "unit list before" provctl unit list
ok "provd stops" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"

# --- a command waiting for the unit list ---------------------------------
kill -STOP "$SLAPD_PID"
ok "provd starts while slapd is held" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
provctl unit list >"$T/units.out" 2>"$T/units.err" &
client=$!
sleep 1
ok "the command is still waiting while the directory is held" kill -0 "$client"
kill -CONT "$SLAPD_PID"
wait "$client"
rc=$?
eq "the command sent right after the start succeeds" 0 "$rc"
contains "it lists the units" "$(cat "$T/units.out")" so-tai-chinh
lacks "no 'not loaded' error" "$(cat "$T/units.err")" "not loaded"

# --- a directory that does not come: an answer all the same --------------
# provd binds in the background: its loop never waits for the held slapd.
# It takes requests once the unit list is read or 5 s after the start at
# the latest (until then they wait in the socket's backlog), and then
# answers every ping at once while the bind hangs (a bind on the loop
# would hold it for ldap.timeout, 10 s, and again at every retry).
ok "provd stops again" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
kill -STOP "$SLAPD_PID"
t0=$SECONDS
ok "provd starts while slapd is held (2)" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "the first ping is answered though the directory never answers" within 30 provctl ping
ok "within 8 s of the start, before its bind could time out" test $((SECONDS - t0)) -le 8
for i in 1 2 3 4 5 6; do
	ok "ping $i is answered within 2 s, the bind still hanging" ping_fast 2000
	sleep 0.5
done
kill -CONT "$SLAPD_PID"

# --- the start-up CRL publish waits for a directory that comes late -------
# provd republishes its CRL at start-up, 2 s in (a crash between a
# revocation and its CRL heals); a directory that is away then is looked
# for again, not an hour later.  slapd goes away (killed) right after provd
# has started and comes back after that first look.
ok "the directory is back" within 30 provctl unit list
ok "a CA" provctl ca create --subject /CN=Order --key ec-p256 --days 30
# shellcheck disable=SC2317
published() { grep -c 'crl: CRL [0-9]* published' "$SANDBOX_DIR/provd.log"; }
# shellcheck disable=SC2317
published_since() { (($(published) > $1)); }
ok "provd stops a third time" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
n0=$(published)
ok "provd starts (3)" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "slapd killed at once" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
sleep 4     # past the first look, 2 s after the start, with the directory away
eq "no CRL published while the directory is away" "$(published)" "$n0"
ok "slapd back" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
ok "the start-up publish goes out once the directory is back" within 30 published_since "$n0"

done_testing
