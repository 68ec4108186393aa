#!/usr/bin/env bash
# batch import: plan, apply, report; idempotent by employee_id; per-row
# errors name the row and column; a kill -9 mid-import converges on re-run.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-batch.XXXXXX)
at_exit rm -rf "$T"

count_people() {
	ldap_root -b "ou=people,$LDAP_BASE" -s one '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:'
}

sandbox_up
head -n 501 "$STAFF" >"$T/s500.csv"
head -n 2001 "$STAFF" >"$T/s2000.csv"

# Plan only.
ok "dry run" provctl -f tab batch import "$T/s500.csv" --dry-run
contains "plan lists creates" "$OUT" $'\tcreate\t'
contains "plan summary" "$OUT" $'plan\t500\t500\t0\t0\t0\t0'
eq "dry run wrote nothing" "$(count_people)" 0
fails "apply needs --credentials" 2 provctl batch import "$T/s500.csv"

# Apply.
ok "apply 500 rows" provctl -f json batch import "$T/s500.csv" --credentials "$T/cred.csv"
contains "summary: 500 created" "$OUT" '"summary":"applied","rows":500,"created":500'
eq "500 accounts" "$(count_people)" 500
eq "credentials file is 0600" "$(stat -c %a "$T/cred.csv")" 600
eq "credentials: header + 500 rows" "$(wc -l <"$T/cred.csv")" 501
eq "credentials header" "$(head -1 "$T/cred.csv")" "login,mail,employee_id,password,expires,change_at"
row2=$(sed -n 2p "$T/cred.csv")
eq "each row says by when, in ISO 8601 like everything provctl prints" \
	"$(cut -d, -f5 <<<"$row2" | sed -E 's/T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/T/')" "$(date -u -d '+14 days' +%Y-%m-%dT)"
eq "... and where to change it" "$(cut -d, -f6 <<<"$row2")" "$SELF_URL"
lacks "passwords not printed" "$OUT" "$(sed -n 2p "$T/cred.csv" | cut -d, -f4)"
pw=$(sed -n 2p "$T/cred.csv" | cut -d, -f4)
login=$(sed -n 2p "$T/cred.csv" | cut -d, -f1)
ok "a credential binds" ldapwhoami -x -H "$LDAP_URI" -D "uid=$login,ou=people,$LDAP_BASE" -w "$pw"
lacks "password not in provd's log" "$(cat "$SANDBOX_DIR/provd.log")" "$pw"
fails "credentials file is never overwritten" 2 provctl batch import "$T/s500.csv" --credentials "$T/cred.csv"

# Idempotent: the same file again changes nothing.
ok "re-run" provctl -f json batch import "$T/s500.csv" --credentials "$T/cred2.csv"
contains "re-run: all unchanged" "$OUT" '"created":0,"updated":0,"unchanged":500'
eq "still 500 accounts" "$(count_people)" 500
ok "no credentials file when no account was made" test ! -e "$T/cred2.csv"

# An update: a changed title and phone for one employee, columns in another order.
emp=$(sed -n 2p "$T/s500.csv" | cut -d, -f1)
{
	echo 'phone,unit,full_name,employee_id,title'
	sed -n 2p "$T/s500.csv" | awk -F, '{print "0912345678," $3 "," $2 "," $1 ",Chánh Văn phòng"}'
} >"$T/update.csv"
ok "dry-run update" provctl -f tab batch import "$T/update.csv" --dry-run
contains "planned as update" "$OUT" $'\tupdate\t'
ok "apply update" provctl -f tab batch import "$T/update.csv" --credentials "$T/cred3.csv"
contains "updated title and phone" "$OUT" "title,telephoneNumber"
eq "title changed" "$(ldap_root -b "$LDAP_BASE" "(employeeNumber=$emp)" title | ldif_values title)" "Chánh Văn phòng"

# Per-row errors name the row and column; the good rows still land.
{
	printf '\xef\xbb\xbfemployee_id,full_name,unit,phone\r\n'
	printf 'E1,Lê Văn Một,so-y-te,0911111111\r\n'
	printf 'E2,L\xea V\xe3n Hai,so-y-te,\r\n'                  # Windows-1258 bytes
	printf 'E3,,so-y-te,\r\n'                                  # empty name
	printf 'E4,Lê Văn Bốn,khong-co,\r\n'                       # unknown unit
	printf 'E5,Lê Văn Năm,so-y-te,goi-di\r\n'                  # malformed phone
	printf 'E1,Lê Văn Một Lần Nữa,so-y-te,\r\n'                # repeated id
	printf 'E7,"%s",so-y-te,\r\n' "$(head -c 2000 /dev/zero | tr '\0' a)"  # over-long
	printf 'E8,"Trần, Văn ""Tám""",so-y-te,\r\n'               # quotes and comma: bad name chars?
	printf 'E9,Đỗ Thị Chín,so-y-te,0912 345 678\r\n'
	printf 'E10,Phan Văn Mười,so-y-te,0913333333,Jr\r\n'        # a field too many
	printf 'E11,Phan Văn Mười Một\r\n'                          # fields missing
	printf 'E12,Lý Thị Mai2,so-y-te,\r\n'                       # a digit in a name
} >"$T/bad.csv"
fails "bad rows: partial" 8 provctl -f tab batch import "$T/bad.csv" --credentials "$T/cred4.csv"
report=$OUT
contains "row 2 created" "$report" $'2\tE1\tcreated'
contains "invalid UTF-8 named with row and column" "$report" "row 3 (line 3): column 2"
contains "empty name named" "$report" "row 4: column full_name is empty"
contains "unknown unit named" "$report" "row 5: unit: unknown unit 'khong-co'"
contains "bad phone named" "$report" "row 6: phone:"
contains "repeated employee id named" "$report" "row 7: employee_id E1 is repeated in this file"
contains "over-long field named" "$report" "row 8"
contains "last good row created" "$report" $'10\tE9\tcreated'
contains "a field too many: row, count and the cure" "$report" \
	"row 11 (line 11): 5 fields, the header has 4 (a value holding a comma must be in double quotes)"
contains "fields missing: row and count, not a column said empty" "$report" \
	"row 12 (line 12): 2 fields, the header has 4"
contains "a digit in a name: row, field and the digit" "$report" \
	"row 13: full_name: '2' (U+0032) at character 11 is not allowed in a name: names have no digits"
eq "neither landed" "$(ldap_root -b "$LDAP_BASE" '(|(employeeNumber=E10)(employeeNumber=E11)(employeeNumber=E12))' 1.1 | grep -c '^dn:')" 0
eq "good rows landed" "$(ldap_root -b "$LDAP_BASE" '(|(employeeNumber=E1)(employeeNumber=E9))' 1.1 | grep -c '^dn:')" 2

# Header errors: nothing is written.
printf 'employee_id,full_name\nX1,Lê Văn A\n' >"$T/nohdr.csv"
fails "missing required column" 2 provctl batch import "$T/nohdr.csv" --credentials "$T/c5.csv"
contains "missing column named" "$ERR" "unit"
printf 'employee_id,full_name,unit,colour\nX1,Lê Văn A,so-y-te,red\n' >"$T/unk.csv"
fails "unknown column" 2 provctl batch import "$T/unk.csv" --credentials "$T/c6.csv"
contains "unknown column named" "$ERR" "colour"
contains "with the columns there are" "$ERR" \
	"(columns: employee_id (required), full_name (required), unit (required), title, phone, login, mail, quota, aliases)"
printf 'employee_id;full_name;unit\nX1;Lê Văn A;so-y-te\n' >"$T/semi.csv"
fails "a file separated by semicolons" 2 provctl batch import "$T/semi.csv" --dry-run
contains "is told so" "$ERR" "separated by ';': save the file as CSV with commas"
fails "nothing written on header errors" 3 provctl user show "$(printf x1)"

# stdin works, and --on-error stop stops at the first bad row.
printf 'employee_id,full_name,unit\nS1,Lê Văn Một,khong-co\nS2,Lê Văn Hai,so-y-te\n' >"$T/stop.csv"
fails "on-error stop" 8 provctl -f tab batch import - --on-error stop --credentials "$T/c7.csv" <"$T/stop.csv"
contains "stopped early" "$ERR" "stopped early"
eq "nothing after the bad row applied" "$(ldap_root -b "$LDAP_BASE" '(employeeNumber=S2)' 1.1 | grep -c '^dn:')" 0

# Two rows in flight together that claim the same explicit address: the
# directory cannot tell (neither is written yet), the in-flight claims do;
# exactly one gets it, the other is refused by name.
printf 'employee_id,full_name,unit,mail\nM1,Lê Văn Một,so-y-te,chung.hop@vinhphuc.gov.vn\nM2,Lê Văn Hai,so-y-te,chung.hop@vinhphuc.gov.vn\nM3,Lê Văn Ba,so-y-te,\n' >"$T/clash.csv"
fails "a shared address fails one row" 8 provctl -f tab batch import "$T/clash.csv" --credentials "$T/c8.csv"
contains "the refused row names the address" "$OUT" "chung.hop@vinhphuc.gov.vn"
eq "the address is on exactly one account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" -s one '(mail=chung.hop@vinhphuc.gov.vn)' 1.1 | grep -c '^dn:')" 1
eq "the third row landed" "$(ldap_root -b "$LDAP_BASE" '(employeeNumber=M3)' 1.1 | grep -c '^dn:')" 1

# kill -9 provd in the middle of an import, restart, re-run: exactly one
# account per row, none duplicated.
provctl batch import "$T/s2000.csv" --credentials "$T/crash1.csv" >/dev/null 2>&1 &
client=$!
for _ in $(seq 300); do
	n=$(count_people)
	((n > 700)) && break
	sleep 0.1
done
kill -9 "$(cat "$SANDBOX_DIR/provd.pid")"
wait "$client" 2>/dev/null
before=$(count_people)
diag "accounts when provd was killed: $before"
ok "killed mid-import" test "$before" -lt 2003
# The journal says how far the batch got: its last "running" record.
running=$(grep '"cmd":"batch import"' "$SANDBOX_DIR/state/audit.journal" | tail -n 1)
contains "the killed batch left a running record" "$running" '"status_name":"running"'
created=$(sed -n 's/.*"note":"rows=[0-9]* created=\([0-9]*\) .*/\1/p' <<<"$running")
diag "the last running record counts $created created; the directory holds $before"
ok "it counts rows done, no more than were written" test "${created:-0}" -gt 0 -a "${created:-0}" -le "$before"
"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" 2>/dev/null
ok "re-run after the crash" provctl -f json batch import "$T/s2000.csv" --credentials "$T/crash2.csv"
eq "exactly one account per row" "$(count_people)" $((2000 + 4))
dups=$(ldap_root -b "ou=people,$LDAP_BASE" -s one employeeNumber | ldif_values employeeNumber | sort | uniq -d | wc -l)
eq "no employee id twice" "$dups" 0
ok "third run changes nothing" provctl -f json batch import "$T/s2000.csv" --credentials "$T/crash3.csv"
contains "third run: all unchanged" "$OUT" '"created":0,"updated":0,"unchanged":2000'

# Records come in file order, in the plan and in the real run, though rows
# finish out of order (128 in flight; a rejected row at once).
tools_csv=$(staff_csv 600)
awk -F, 'BEGIN { OFS = "," } NR > 1 { sub(/^VP/, "OD", $1); if (NR % 7 == 3) $2 = $2 "9" } 1' \
	"$tools_csv" >"$T/order.csv"
in_order() {  # N FILE: the row column of a tab report is 2, 3, ... N+1, then the summary
	awk -F'\t' -v n="$1" 'NR == 1 { next } $1 == "summary" || $1 == "" { s = 1 } s { next }
		{ if ($1 != NR) { print "line " NR ": row " $1; exit 1 } c++ }
		END { if (c != n) { print c " rows, want " n; exit 1 } }' "$2"
}
fails "order: the plan (some rows rejected)" 8 provctl -f tab batch import "$T/order.csv" --dry-run
printf '%s\n' "$OUT" >"$T/order-plan.tsv"
contains "with the rejected rows among them" "$OUT" $'3\tOD19000002\trejected'
ok "the plan lists the rows in file order" in_order 600 "$T/order-plan.tsv"
fails "order: the import" 8 provctl -f tab batch import "$T/order.csv" --credentials "$T/order-cred.csv"
printf '%s\n' "$OUT" >"$T/order-run.tsv"
contains "created rows among them" "$OUT" $'2\tOD19000001\tcreated'
ok "the import reports the rows in file order" in_order 600 "$T/order-run.tsv"

done_testing
