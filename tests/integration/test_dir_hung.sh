#!/usr/bin/env bash
# A hung directory never holds up provd's loop.  provd connects and binds
# asynchronously: with slapd stopped (SIGSTOP: the kernel still accepts the
# connection, nothing answers the bind) a reconnect waits for the bind's
# answer in the background, provctl ping is answered at once, a command
# that needs the directory waits for the connection; when slapd resumes,
# provd binds and serves it.  A bind that gets no answer within
# ldap.timeout fails what waited (status 7) and provd tries again later.
# Both binds: simple with a password file over ldap://, SASL EXTERNAL over
# ldapi.  The reconnects are made by reloading a changed ldap.uris.
# (ping latency bounds: runs with no other test beside it)
# itest: alone
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-dir-hung.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
SLAPD_PID=$(cat "$SANDBOX_DIR/slapd.pid")
CONF=$SANDBOX_DIR/provd.conf
# never leave slapd stopped behind
at_exit kill -CONT "$SLAPD_PID"

ok "an account to show" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
cp "$SANDBOX_DIR/admin.secret" "$T/bind.secret"
chmod 0600 "$T/bind.secret"

# pings_fast SECONDS: provctl ping for SECONDS, every ping answered within
# 1 s (a loop waiting for the bind would hold one for ldap.timeout, 10 s).
# shellcheck disable=SC2317
pings_fast() {
	local end n=0
	end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	while ((${EPOCHREALTIME/./} < end)); do
		n=$((n + 1))
		ping_fast 1000 || {
			diag "ping $n failed or was slow"
			return 1
		}
		sleep 0.1
	done
}
# shellcheck disable=SC2317
bind_in_flight() { ss -Htnp state established "( dport = :$LDAP_PORT )" | grep -q '"provd"'; }
# shellcheck disable=SC2317
dir_up() { provctl status | grep -q '^ldap: *connected$'; }
connected_logs() { grep -c "directory: connected to $1\$" "$SANDBOX_DIR/provd.log"; }

# --- simple bind over ldap://, slapd stopped --------------------------------
n0=$(connected_logs "$LDAP_URI")
kill -STOP "$SLAPD_PID"
sed -i -e "s|^  uris = .*|  uris = [ \"$LDAP_URI\" ];|" \
	-e "s|^  bind = \"external\";|  bind = \"simple\"; bind_dn = \"$LDAP_ADMIN_DN\"; bind_password_file = \"$T/bind.secret\";|" "$CONF"
contains "provd.conf binds simple over ldap://" "$(<"$CONF")" "bind = \"simple\""
t0=$SECONDS
ok "the reload (a reconnect) is taken" reload_provd
ok "within 2 s, the bind's answer not awaited" test $((SECONDS - t0)) -le 2
ok "the connection to the stopped slapd is open, the bind in flight" within 5 bind_in_flight
"$BUILD/provctl" user show annv >"$T/show.out" 2>"$T/show.err" &
client=$!
ok "ping answers within 1 s while the bind hangs (3 s)" pings_fast 3
ok "status answers: disconnected meanwhile" bash -c "'$BUILD/provctl' status | grep -q '^ldap: *disconnected\$'"
ok "a directory command waits for the connection" kill -0 "$client"
kill -CONT "$SLAPD_PID"
ok "slapd resumed: provd binds (within 15 s)" within 15 dir_up
rc=0
wait "$client" || rc=$?
eq "the command that waited succeeds" "$rc" 0
contains "and shows the account" "$(<"$T/show.out")" annv
eq "connected by the simple bind, once" "$(connected_logs "$LDAP_URI")" $((n0 + 1))
ok "a new directory command" provctl user show annv

# --- SASL EXTERNAL over ldapi; no answer within ldap.timeout ------------------
n0=$(connected_logs "$LDAPI_URI")
kill -STOP "$SLAPD_PID"
sed -i -e "s|^  uris = .*|  uris = [ \"$LDAPI_URI\" ];|" \
	-e "s|^  bind = \"simple\"; .*|  bind = \"external\";|" \
	-e "s|^  timeout = 10;|  timeout = 2;|" "$CONF"
contains "provd.conf binds with EXTERNAL over ldapi, ldap.timeout 2 s" "$(<"$CONF")" "timeout = 2;"
t0=$SECONDS
ok "the reload (a reconnect) is taken (2)" reload_provd
ok "within 2 s (2)" test $((SECONDS - t0)) -le 2
"$BUILD/provctl" user show annv >"$T/show2.out" 2>"$T/show2.err" &
client=$!
ok "ping answers within 1 s while the bind hangs (4 s)" pings_fast 4
rc=0
wait "$client" || rc=$?
eq "no answer within ldap.timeout: what waited fails as unavailable" "$rc" 7
# shellcheck disable=SC2317
timed_out() { grep -q "directory: $LDAPI_URI: no answer to the bind in time" "$SANDBOX_DIR/provd.log"; }
ok "the log says why" within 5 timed_out
ok "ping still answers within 1 s" pings_fast 1
kill -CONT "$SLAPD_PID"
ok "slapd resumed: provd binds on its next try (within 20 s)" within 20 dir_up
eq "connected by EXTERNAL, once" "$(connected_logs "$LDAPI_URI")" $((n0 + 1))
ok "directory commands again" provctl user show annv

done_testing
