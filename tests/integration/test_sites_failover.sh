#!/usr/bin/env bash
# A batch rides out a failover: slapd #1 (the writer) is killed in the middle
# of an import through provd #1; provd #1 moves to slapd #2, waits out the
# writer lease, and the rows that met "directory unavailable" or an unknown
# outcome are tried again by employee id.  The import ends with exit 0 and
# every person exactly once.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 2000)
T=$(mktemp -d /tmp/provd-sites-fo.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET

count2() {
	ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI2" -LLL -o ldif-wrap=no -b "ou=people,$B" -s one \
		'(employeeNumber=VP*)' employeeNumber | sed -n 's/^employeeNumber: //p' | sort
}
count1() {
	ldap_root -b "ou=people,$B" -s one '(employeeNumber=VP*)' 1.1 2>/dev/null | grep -c '^dn:'
}

"$BUILD/provctl" -s "$P1" -f json batch import "$STAFF" --credentials "$T/cred.csv" >"$T/out" 2>"$T/err" &
pid=$!
# Kill the writer once a quarter of the file is in.
for ((i = 0; i < 600; i++)); do
	n=$(count1) || n=0
	((n < 500)) || break
	sleep 0.05
done
ok "a quarter of the file is in before the kill" test "$n" -ge 500
ok "kill slapd #1 mid-import" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
rc=0
wait "$pid" || rc=$?
eq "the import ends with exit 0" "$rc" 0
out=$(<"$T/out")
contains "2000 rows" "$out" '"rows":2000'
contains "none failed" "$out" '"failed":0'
contains "none rejected" "$out" '"rejected":0'
contains "provd #1 said it waited for the directory" "$(<"$SANDBOX_DIR/provd.log")" "rows wait for the directory"
ok "provd #1 now writes to slapd #2" provctl -s "$P1" status
contains "its URI" "$OUT" "$LDAPI_URI2"
# Adds slapd #1 acknowledged just before it died reach slapd #2 once it is
# back, unless a later add through slapd #2 took the same DN meanwhile (then
# replication keeps one: the loss window of asynchronous replication, see
# "Two sites" in docs/operations.md).  Both slapds end equal either way.
ok "restart slapd #1" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
# shellcheck disable=SC2317
count1_ids() {
	ldap_root -b "ou=people,$B" -s one '(employeeNumber=VP*)' employeeNumber |
		sed -n 's/^employeeNumber: //p' | sort
}
# shellcheck disable=SC2317
converged() { [[ $(count1_ids) == "$(count2)" ]]; }
for ((i = 0; i < 200; i++)); do
	converged && break
	sleep 0.1
done
count2 >"$T/ids"
ok "the two slapds hold the same people" converged
eq "nobody twice" "$(uniq -d "$T/ids" | wc -l)" 0
ok "at most the last moments' adds lost (fewer than 1 in 10)" test "$(wc -l <"$T/ids")" -ge 1800
diag "people on both slapds after the heal: $(wc -l <"$T/ids") of 2000"
created=$(sed -n 's/.*"created":\([0-9]*\).*/\1/p' <<<"$out")
unchanged=$(sed -n 's/.*"unchanged":\([0-9]*\).*/\1/p' <<<"$out")
eq "created + found after an unknown outcome = 2000" "$((created + unchanged))" 2000
eq "a credentials line for every row created" "$(($(wc -l <"$T/cred.csv") - 1))" "$created"

done_testing
