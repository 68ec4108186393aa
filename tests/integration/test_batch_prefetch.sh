#!/usr/bin/env bash
# batch import: a new person's row whose login the batch decided against
# its one search of the directory is added without a search of its own
# (one add a row, and one check for many rows after their adds, as slapd's
# statistics log shows), and what
# another writer makes after that search is still found by the check after
# the add, even without slapd's unique overlay: the employee id, and the
# address, each on exactly one account.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-prefetch.XXXXXX)
at_exit rm -rf "$T"
ROWS=3000

export SANDBOX_SLAPD_DEBUG=stats   # every operation in slapd.log
sandbox_up
# A provider without the unique overlay's checks (or a change that came by
# replication, which bypasses them): only provd's own check after the add
# can find the other writer's account.
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: olcOverlay={1}unique,olcDatabase={1}mdb,cn=config
changetype: modify
delete: olcUniqueURI
olcUniqueURI: ldap:///ou=people,$LDAP_BASE?employeeNumber?one
olcUniqueURI: ldap:///ou=people,$LDAP_BASE?mail?one
EOF
ok "the overlay's employeeNumber and mail checks are off" test $? -eq 0
head -n $((ROWS + 1)) "$STAFF" >"$T/s.csv"
people() { ldap_root -b "ou=people,$LDAP_BASE" -s one "$1" 1.1 | grep -c '^dn:'; }

# What the batch will plan for its last two rows.
ok "dry run" provctl -f tab batch import "$T/s.csv" --dry-run --plan-out "$T/plan.csv"
read -r emp_last emp_prev login_prev <<<"$(python3 - "$T/plan.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
print(rows[-1]["employee_id"], rows[-2]["employee_id"], rows[-2]["login"])
PY
)"
addr="$login_prev@vinhphuc.gov.vn"
diag "another writer takes employee id $emp_last and the address $addr mid-batch"

mark=$(stat -c %s "$SANDBOX_DIR/slapd.log")
provctl -f json batch import "$T/s.csv" --credentials "$T/c.csv" >"$T/out" 2>"$T/err" &
client=$!
# Rows are being written: the batch's search is behind it.
within 60 sh -c "[ \$(ldapsearch -Q -Y EXTERNAL -H '$LDAPI_URI' -b 'ou=people,$LDAP_BASE' \
	-s one '(employeeNumber=*)' 1.1 | grep -c '^dn:') -gt 100 ]"
ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=zzkhac,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: zzkhac
cn: Người Khác
sn: Khác
mail: zzkhac@vinhphuc.gov.vn
employeeNumber: $emp_last

dn: uid=zzdiachi,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: zzdiachi
cn: Địa Chỉ
sn: Chỉ
mail: $addr
employeeNumber: ZZ-DIACHI
EOF
ok "the other writer came while the batch ran" kill -0 "$client"
n_then=$(people '(employeeNumber=*)')
diag "accounts when the other writer came: $n_then"
ok "... before its last rows" test "$n_then" -lt $((ROWS - 50))
wait "$client"
diag "$(tail -c 400 "$T/out")"
contains "no row failed" "$(<"$T/out")" '"failed":0'

eq "employee id $emp_last on one account" "$(people "(employeeNumber=$emp_last)")" 1
eq "... the other writer's" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" -s one "(employeeNumber=$emp_last)" uid | sed -n 's/^uid: //p')" zzkhac
eq "$addr on one account" "$(people "(|(mail=$addr)(mailLocalAddress=$addr))")" 1
got=$(awk -F, -v e="$emp_prev" '$3 == e { print $1 }' "$T/c.csv")
ok "row $emp_prev made under another login ($got)" test -n "$got" -a "$got" != "$login_prev"
eq "every row's employee id on one account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" -s one '(employeeNumber=*)' employeeNumber |
		sed -n 's/^employeeNumber: //p' | tr 'A-Z' 'a-z' | sort | uniq -d | wc -l)" 0

# The cost: one add a row, no search of its own, and one check for many
# rows after their adds (was one a row).
since=$(tail -c +$((mark + 1)) "$SANDBOX_DIR/slapd.log")
adds=$(grep -c ' ADD dn=' <<<"$since")
searches=$(grep -c ' SRCH base=' <<<"$since")
diag "slapd while importing $ROWS rows: $adds adds, $searches searches"
ok "an add a row" test "$adds" -ge "$ROWS"
ok "at most a search for ten rows (was two a row)" test "$searches" -lt $((ROWS / 10))

# An employee id the directory matches and the bytes do not (a leading
# space, which equality matching ignores): the batched check cannot say
# whose it is, and sends its rows to checks of their own.
sed -n "$((ROWS + 2)),$((ROWS + 201))p" "$STAFF" | cat <(head -n 1 "$STAFF") - >"$T/s2.csv"
emp_sp=$(awk -F, 'NR == 101 { print $1 }' "$T/s2.csv")
ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=zzcach,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: zzcach
cn: Có Cách
sn: Cách
mail: zzcach@vinhphuc.gov.vn
employeeNumber:: $(printf ' %s' "$emp_sp" | base64 -w0)
EOF
ok "an account with employee id ' $emp_sp'" test $? -eq 0
provctl -f json batch import "$T/s2.csv" --credentials "$T/c2.csv" >"$T/out2" 2>&1
diag "$(grep "$emp_sp" "$T/out2")"
eq "employee id $emp_sp on one account" "$(people "(employeeNumber=$emp_sp)")" 1
eq "... the other writer's" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" -s one "(employeeNumber=$emp_sp)" uid | sed -n 's/^uid: //p')" zzcach

done_testing
