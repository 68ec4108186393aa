#!/usr/bin/env bash
# Adds lost with a writer that dies before replicating them: slapd #2 no
# longer pulls from slapd #1 (its replication points at a dead port), so
# every add slapd #1 acknowledges stays there alone; slapd #1 is killed
# (SIGKILL) in the middle of an import through provd #1, which fails over
# to slapd #2 and finishes there.  At the end the batch finds the accounts
# it made that slapd #2 lacks and makes them again by employee id with the
# same login and password: every credentials line names an account that
# exists on the writer and whose password binds.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 1000)
T=$(mktemp -d /tmp/provd-sites-lost.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET

count1() {
	ldap_root -b "ou=people,$B" -s one '(employeeNumber=VP*)' 1.1 2>/dev/null | grep -c '^dn:'
}
r2=$(syncrepl_of "$LDAPI_URI2")
ok "slapd #2 stops pulling from slapd #1" set_syncrepl "$LDAPI_URI2" "${r2/127.0.0.1:$LDAP_PORT/127.0.0.1:1}"

"$BUILD/provctl" -s "$P1" -f json batch import "$STAFF" --credentials "$T/cred.csv" >"$T/out" 2>"$T/err" &
pid=$!
for ((i = 0; i < 600; i++)); do
	n=$(count1) || n=0
	((n < 300)) || break
	sleep 0.05
done
ok "300 accounts on slapd #1 before the kill" test "$n" -ge 300
ok "SIGKILL slapd #1, the writer" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
rc=0
wait "$pid" || rc=$?
eq "the import ends with exit 0" "$rc" 0
out=$(<"$T/out")
contains "1000 rows" "$out" '"rows":1000'
contains "none failed" "$out" '"failed":0'
lost=$(sed -n 's/.*"lost_in_failover":\([0-9]*\).*/\1/p' <<<"$out")
ok "the summary counts accounts lost with slapd #1" test "${lost:-0}" -ge 100
diag "accounts lost with slapd #1 and made again: ${lost:-none}"
eq "each of them marked in the report" "$(grep -c '"action":"remade"' <<<"$out")" "${lost:-0}"
contains "the log says so" "$(<"$SANDBOX_DIR/provd.log")" "made in this batch were lost with the old writer"

# Every credentials line holds on slapd #2, the writer now.
ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI2" -LLL -o ldif-wrap=no -b "ou=people,$B" -s one \
	'(employeeNumber=VP*)' uid employeeNumber >"$T/on2"
sed -n 's/^uid: //p' "$T/on2" | sort >"$T/uids2"
eq "1000 people on slapd #2" "$(wc -l <"$T/uids2")" 1000
eq "nobody twice" "$(sed -n 's/^employeeNumber: //p' "$T/on2" | sort | uniq -d | wc -l)" 0
col() {  # col NAME: that column of the credentials file
	python3 -c 'import csv,sys; r=csv.DictReader(open(sys.argv[1])); [print(x[sys.argv[2]]) for x in r]' "$T/cred.csv" "$1"
}
col login | sort >"$T/cred_logins"
eq "a credentials line per account" "$(wc -l <"$T/cred_logins")" 1000
eq "every login in the credentials file exists on slapd #2" "$(comm -23 "$T/cred_logins" "$T/uids2" | wc -l)" 0
# The passwords of the remade accounts bind (the ones the file gave).
grep -o '"action":"remade","login":"[a-z0-9]*"' <<<"$out" | sed 's/.*"login":"\([a-z0-9]*\)"/\1/' |
	shuf -n 20 >"$T/remade"
paste -d ' ' <(col login) <(col password) >"$T/pairs"
bad=0
while read -r login; do
	pw=$(awk -v l="$login" '$1 == l {print $2}' "$T/pairs")
	ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT2" -D "uid=$login,ou=people,$B" -w "$pw" >/dev/null 2>&1 ||
		bad=$((bad + 1))
done <"$T/remade"
ok "20 remade accounts checked" test "$(wc -l <"$T/remade")" -eq 20
eq "their passwords from the credentials file bind on slapd #2" "$bad" 0

done_testing
