#!/usr/bin/env bash
# Two sites: the sandbox with --replicas 2 (two slapds replicating each
# other as OpenLDAP multi-providers, a provd on each).  A change made
# through one provd is seen through the other; a provd whose slapd dies
# carries on through the other slapd (failover URI); a restarted slapd
# catches up; stop ends all four processes.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-repl.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET
P2=$PROVD_SOCKET2

# shellcheck disable=SC2317 # called through ok
ldap_root2() {
	ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI2" -LLL -o ldif-wrap=no "$@"
}
# shellcheck disable=SC2317 # called through ok
# Run CMD... until it succeeds, for at most SECONDS (tenths of a second steps).
within() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# shellcheck disable=SC2317 # called through within
status_is() {  # status_is SOCKET LOGIN STATUS
	[[ $("$BUILD/provctl" -s "$1" -f tab user show "$2" | awk -F'\t' '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["status"] }') == "$3" ]]
}
# shellcheck disable=SC2317
people_via() {  # people_via SOCKET: number of accounts provd sees
	"$BUILD/provctl" -s "$1" -f json user list | grep -c '^{' 
}
# shellcheck disable=SC2317
has_people() {  # has_people SOCKET N
	[[ $(people_via "$1") == "$2" ]]
}

# --- the sandbox -------------------------------------------------------------------------
ok "PROVD_SOCKET2 is a socket" test -S "$P2"
ok "second instance lives in SANDBOX_DIR2" test "$SANDBOX_DIR2" = "$SANDBOX_DIR/r2"
ok "two ports" test "$LDAP_PORT" != "$LDAP_PORT2"
eq "LDAP_URI2" "$LDAP_URI2" "ldap://127.0.0.1:$LDAP_PORT2"
ok "slapd #2 answers over ldapi" ldapwhoami -Q -Y EXTERNAL -H "$LDAPI_URI2"
eq "the starting user is its rootdn" "$OUT" "dn:$LDAP_ADMIN_DN"
for n in 1 2; do
	if ((n == 1)); then q=ldap_root; else q=ldap_root2; fi
	ok "slapd #$n: server id" $q -b cn=config -s base olcServerID
	eq "slapd #$n: olcServerID" "$(ldif_values olcServerID <<<"$OUT")" "$n"
	ok "slapd #$n: syncrepl" $q -b 'olcDatabase={1}mdb,cn=config' -s base olcSyncrepl olcMultiProvider
	eq "slapd #$n: multi-provider" "$(ldif_values olcMultiProvider <<<"$OUT")" TRUE
	contains "slapd #$n: rid" "$OUT" "rid=00$n "
	if ((n == 1)); then peer=$LDAP_PORT2; else peer=$LDAP_PORT; fi
	contains "slapd #$n replicates from the other" "$OUT" "provider=ldap://127.0.0.1:$peer "
	contains "slapd #$n binds as the rootdn" "$OUT" "binddn=\"$LDAP_ADMIN_DN\""
	ok "slapd #$n: syncprov overlay" $q -b 'olcDatabase={1}mdb,cn=config' -s one '(objectClass=olcSyncProvConfig)' olcOverlay
	contains "slapd #$n: syncprov" "$OUT" "syncprov"
done
ok "both hold the units" ldap_root2 -b "ou=units,$B" -s one '(objectClass=provdUnit)' 1.1
eq "166 units on slapd #2" "$(grep -c '^dn:' <<<"$OUT")" 166
contains "provd #1: own slapd first, the other as failover" "$(<"$SANDBOX_DIR/provd.conf")" \
	"uris = [ \"$LDAPI_URI\", \"$LDAPI_URI2\" ];"
contains "provd #2: own slapd first, the other as failover" "$(<"$SANDBOX_DIR2/provd.conf")" \
	"uris = [ \"$LDAPI_URI2\", \"$LDAPI_URI\" ];"
ok "provd #2 answers" provctl -s "$P2" ping

# --- #1 -> #2 ------------------------------------------------------------------------------
ok "user add through provd #1" provctl -s "$P1" user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id RP0001
ok "visible through provd #2 within 5 s" within 5 provctl -s "$P2" -f json user show annv
ok "user show through provd #2" provctl -s "$P2" -f json user show annv
contains "same record" "$OUT" '"employee_id":"RP0001"'
contains "same unit" "$OUT" '"unit":"so-tai-chinh"'
ok "same entryUUID on both slapds" ldap_root -b "uid=annv,ou=people,$B" -s base entryUUID
uuid=$(ldif_values entryUUID <<<"$OUT")
ok "read it on slapd #2" ldap_root2 -b "uid=annv,ou=people,$B" -s base entryUUID
eq "one entry, replicated" "$(ldif_values entryUUID <<<"$OUT")" "$uuid"
ok "disable through provd #1" provctl -s "$P1" user disable annv
ok "disabled as seen through provd #2 within 5 s" within 5 status_is "$P2" annv disabled

# --- #2 -> #1: a batch -----------------------------------------------------------------------
head -n 51 "$STAFF" >"$T/s50.csv"
ok "batch import of 50 through provd #2" provctl -s "$P2" batch import "$T/s50.csv" --credentials "$T/cred.csv"
ok "all 51 accounts visible through provd #1 within 10 s" within 10 has_people "$P1" 51
eq "provd #1 sees 51" "$(people_via "$P1")" 51
login=$(sed -n 2p "$T/cred.csv" | cut -d, -f1)
pw=$(sed -n 2p "$T/cred.csv" | cut -d, -f4)
ok "a batch account binds on slapd #1 with its new password" \
	ldapwhoami -x -H "$LDAP_URI" -D "uid=$login,ou=people,$B" -w "$pw"
ok "batch again through provd #1: nothing to do" provctl -s "$P1" -f json batch import "$T/s50.csv" --credentials "$T/cred2.csv"
contains "idempotent across sites" "$OUT" '"created":0'

# --- failover and catch-up ---------------------------------------------------------------------
ok "kill slapd #1" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
ok "provd #1 carries on through slapd #2 within 15 s" within 15 provctl -s "$P1" -f json user show annv
ok "a change through provd #1 while slapd #1 is down" \
	provctl -s "$P1" user add --name 'Trần Thị Bình' --unit so-y-te --employee-id RP0002
ok "it is on slapd #2" ldap_root2 -b "ou=people,$B" -s one '(employeeNumber=RP0002)' uid
contains "by login" "$OUT" "uid: binhtt"
ok "restart slapd #1" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
# shellcheck disable=SC2317
on_slapd1() { ldap_root -b "ou=people,$B" -s one '(employeeNumber=RP0002)' uid | grep -q '^uid: binhtt$'; }
ok "slapd #1 catches up within 10 s" within 10 on_slapd1
ok "provd #2 sees it" provctl -s "$P2" -f json user show binhtt

# --- stop ends everything ------------------------------------------------------------------------
pids=("$(<"$SANDBOX_DIR/slapd.pid")" "$(<"$SANDBOX_DIR/provd.pid")" \
	"$(<"$SANDBOX_DIR2/slapd.pid")" "$(<"$SANDBOX_DIR2/provd.pid")")
ok "stop" "$SANDBOX_TOOL" stop "$SANDBOX_DIR"
for p in "${pids[@]}"; do
	ok "pid $p gone" pid_gone "$p"
done
fails "slapd #2 is down" 255 ldapwhoami -x -H "$LDAP_URI2"
fails "--replicas takes 1 or 2" 1 "$SANDBOX_TOOL" start "$T/x" --replicas 3
contains "and says so" "$ERR" "--replicas"

done_testing
