#!/usr/bin/env bash
# report units and report expiring: exact counts per unit after a batch
# import, disables, a delete, certificates valid / on hold / revoked /
# short-lived; the district roll-up (subtotal row), the province total,
# --unit, the expiry window, and the table / tab / json outputs.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-reports.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
B=$LDAP_BASE
DIST=huyen-tam-dao

# A template directory with one extra, short-lived profile; profiles are
# read at start-up, so provd is restarted on it.
cp -r "$REPO/templates" "$T/templates"
cat >"$T/templates/profiles/test-short.conf" <<'EOF'
description = "Test only: a certificate that expires in ten days";
validity_days = 10;
email_san = true;
ec = {
  curves    = [ "P-256" ];
  key_usage = [ "digitalSignature", "keyAgreement" ];
};
extended_key_usage = [ "emailProtection" ];
smime_generation = "strict";
smime_validation = "mailbox";
EOF
sed -i "s|^\(  template_dir = \).*|\1\"$T/templates\";|" "$SANDBOX_DIR/provd.conf"
contains "provd.conf uses the test templates" "$(<"$SANDBOX_DIR/provd.conf")" "$T/templates"
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
ok "start provd on the test templates" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"

count() {  # count FILTER: entries under ou=people
	ldap_root -b "ou=people,$B" -s one "$1" 1.1 | grep -c '^dn:'
}
# Value of KEY in the row (UNIT, ROW) of the tab report in $REPORT.
rep() {
	awk -F'\t' -v u="$1" -v r="$2" -v k="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["unit"] == u && $col["row"] == r { print $col[k] }' <<<"$REPORT"
}
# Sum of KEY over the "unit" rows whose unit is UNIT or has parent UNIT
# (all "unit" rows when UNIT is "*").
rep_sum() {
	awk -F'\t' -v u="$1" -v k="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["row"] == "unit" && (u == "*" || $col["unit"] == u || $col["parent"] == u) { s += $col[k] }
		END { print s + 0 }' <<<"$REPORT"
}
add() {  # add NAME UNIT EMPLOYEE_ID -> login in $LOGIN
	ok "add $1 in $2" provctl -f tab user add --name "$1" --unit "$2" --employee-id "$3"
	LOGIN=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["login"]; exit }' <<<"$OUT")
}
csr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
}
issue() {  # issue LOGIN [PROFILE] -> serial in $SERIAL
	csr "$1"
	ok "issue a certificate to $1${2:+ ($2)}" provctl cert issue "$1" --csr "$T/$1.csr" ${2:+--profile "$2"}
	printf '%s\n' "$OUT" >"$T/$1.pem"
	SERIAL=$(openssl x509 -in "$T/$1.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
}

# --- before anything: zeros everywhere -----------------------------------------------
ok "report units on an empty directory" provctl -f tab report units
REPORT=$OUT
eq "total accounts 0" "$(rep '*' total accounts_active)" 0
eq "one row per unit plus the district subtotals and the total" \
	"$(($(wc -l <<<"$REPORT") - 1))" $((166 + 9 + 1))

# --- accounts ------------------------------------------------------------------------
head -n 301 "$STAFF" >"$T/s300.csv"
ok "batch import 300 staff" provctl batch import "$T/s300.csv" --credentials "$T/cred.csv"
eq "300 accounts" "$(count '(objectClass=inetOrgPerson)')" 300

add 'Nguyễn Văn Báo' xa-kim-phu-tam-dao RP0001; P1=$LOGIN
add 'Trần Thị Cúc' xa-kim-phu-tam-dao RP0002; P2=$LOGIN
add 'Lê Văn Dũng' huyen-tam-dao RP0003; P3=$LOGIN
add 'Phạm Thị Hoa' xa-yen-thanh-tam-dao RP0004; P4=$LOGIN
add 'Hoàng Văn Giang' xa-yen-thanh-tam-dao RP0005; P5=$LOGIN
add 'Vũ Thị Lan' so-tai-chinh RP0006; P6=$LOGIN
add 'Đỗ Văn Minh' so-tai-chinh RP0007; P7=$LOGIN

# Disable two imported accounts of the district's communes and one added
# one; delete (retention) one.
ok "imported accounts in the communes of $DIST" \
	ldap_root -b "ou=people,$B" -s one "(&(departmentNumber=*-tam-dao)(!(departmentNumber=$DIST))(employeeNumber=VP*))" uid
mapfile -t commune_logins < <(ldif_values uid <<<"$OUT" | sort | head -n 2)
eq "two of them to disable" "${#commune_logins[@]}" 2
for l in "${commune_logins[@]}" "$P5"; do
	ok "disable $l" provctl user disable "$l"
done
ok "delete $P6" provctl user delete "$P6"

# --- certificates --------------------------------------------------------------------
ok "ca create" provctl ca create --subject /CN=Test --key ec-p256 --days 3650
issue "$P1"; S1=$SERIAL
issue "$P2" test-short; S2=$SERIAL
issue "$P3"; S3=$SERIAL
issue "$P4"; S4=$SERIAL
issue "$P7" test-short; S7=$SERIAL
ok "revoke $P3's certificate" provctl cert revoke "$S3" --reason superseded
ok "hold $P4's certificate" provctl cert revoke "$S4" --reason certificateHold

# --- report units: exact numbers -------------------------------------------------------
ok "report units" provctl -f tab report units
REPORT=$OUT
dist_units="(|(departmentNumber=$DIST)$(ldap_root -b "ou=units,$B" -s one "(provdUnitParent=$DIST)" ou |
	ldif_values ou | sed 's/.*/(departmentNumber=&)/' | tr -d '\n'))"
dist_all=$(count "(&(objectClass=inetOrgPerson)$dist_units)")
diag "accounts in $DIST and its communes: $dist_all"
eq "district subtotal: active" "$(rep $DIST subtotal accounts_active)" $((dist_all - 3))
eq "district subtotal: disabled" "$(rep $DIST subtotal accounts_disabled)" 3
eq "district subtotal: deleted" "$(rep $DIST subtotal accounts_deleted)" 0
eq "district subtotal: certs valid" "$(rep $DIST subtotal certs_valid)" 2
eq "district subtotal: certs on hold" "$(rep $DIST subtotal certs_hold)" 1
eq "district subtotal: certs revoked" "$(rep $DIST subtotal certs_revoked)" 1
eq "district subtotal: certs expiring in 30 days" "$(rep $DIST subtotal certs_expiring_30d)" 1
eq "district's own row: active (4 imported + $P3)" "$(rep $DIST unit accounts_active)" \
	"$(count "(&(objectClass=inetOrgPerson)(departmentNumber=$DIST))")"
eq "district's own row: revoked" "$(rep $DIST unit certs_revoked)" 1
eq "district's own row: valid" "$(rep $DIST unit certs_valid)" 0
eq "commune row: xa-kim-phu valid" "$(rep xa-kim-phu-tam-dao unit certs_valid)" 2
eq "commune row: xa-kim-phu expiring" "$(rep xa-kim-phu-tam-dao unit certs_expiring_30d)" 1
eq "commune row: xa-yen-thanh hold" "$(rep xa-yen-thanh-tam-dao unit certs_hold)" 1
eq "commune row: xa-yen-thanh disabled includes $P5" \
	"$(rep xa-yen-thanh-tam-dao unit accounts_disabled)" \
	"$(count "(&(departmentNumber=xa-yen-thanh-tam-dao)(pwdAccountLockedTime=000001010000Z))")"
for k in accounts_active accounts_disabled accounts_deleted certs_valid certs_hold certs_revoked certs_expiring_30d; do
	eq "district subtotal $k is the sum of its rows" "$(rep $DIST subtotal "$k")" "$(rep_sum $DIST "$k")"
	eq "province total $k is the sum of all unit rows" "$(rep '*' total "$k")" "$(rep_sum '*' "$k")"
done
eq "province total: active" "$(rep '*' total accounts_active)" 303
eq "province total: disabled" "$(rep '*' total accounts_disabled)" 3
eq "province total: deleted" "$(rep '*' total accounts_deleted)" 1
eq "province total: certs valid" "$(rep '*' total certs_valid)" 3
eq "province total: certs on hold" "$(rep '*' total certs_hold)" 1
eq "province total: certs revoked" "$(rep '*' total certs_revoked)" 1
eq "province total: expiring in 30 days" "$(rep '*' total certs_expiring_30d)" 2
eq "so-tai-chinh: deleted $P6" "$(rep so-tai-chinh unit accounts_deleted)" 1
eq "so-tai-chinh: a department has no subtotal row" "$(rep so-tai-chinh subtotal accounts_active)" ""
eq "the total row is last" "$(tail -n 1 <<<"$REPORT" | cut -f1,2)" $'*\ttotal'
eq "header" "$(head -n 1 <<<"$REPORT")" \
	"$(printf '%s\t' unit row kind parent name accounts_active accounts_disabled accounts_deleted \
		certs_valid certs_hold certs_revoked certs_expired certs_expiring_30d | sed 's/\t$//')"
# Hierarchy order: the district, its communes, then its subtotal.
order=$(awk -F'\t' -v d=$DIST 'NR > 1 && ($1 == d || $4 == d) { print $1 "/" $2 }' <<<"$REPORT")
eq "district first" "$(head -n 1 <<<"$order")" "$DIST/unit"
eq "subtotal after its communes" "$(tail -n 1 <<<"$order")" "$DIST/subtotal"
eq "communes in between" "$(sed '1d;$d' <<<"$order" | grep -c '/unit$')" \
	"$(ldap_root -b "ou=units,$B" -s one "(provdUnitParent=$DIST)" 1.1 | grep -c '^dn:')"

# --- --unit ------------------------------------------------------------------------------
ok "report units --unit $DIST" provctl -f tab report units --unit $DIST
REPORT=$OUT
eq "--unit: the district, 9 communes, the subtotal" "$(($(wc -l <<<"$REPORT") - 1))" 11
eq "--unit: no province total" "$(rep '*' total accounts_active)" ""
eq "--unit: same subtotal" "$(rep $DIST subtotal accounts_active)" $((dist_all - 3))
eq "--unit: same certificates" "$(rep $DIST subtotal certs_valid)/$(rep $DIST subtotal certs_hold)" 2/1
ok "report units --unit of a commune" provctl -f tab report units --unit xa-kim-phu-tam-dao
eq "--unit of a commune: one row" "$(($(wc -l <<<"$OUT") - 1))" 1
fails "--unit of an unknown unit" 3 provctl report units --unit khong-co
contains "error names the field" "$ERR" "unit"

# --- output formats ----------------------------------------------------------------------
ok "json" provctl -f json report units --unit $DIST
contains "json subtotal record" "$OUT" \
	"{\"unit\":\"$DIST\",\"row\":\"subtotal\",\"kind\":\"district\",\"parent\":\"-\",\"name\":\"Huyện Tam Đảo\",\"accounts_active\":$((dist_all - 3)),\"accounts_disabled\":3,\"accounts_deleted\":0,\"certs_valid\":2,\"certs_hold\":1,\"certs_revoked\":1,\"certs_expired\":0,\"certs_expiring_30d\":1}"
eq "json: one object per line" "$(grep -c '^{.*}$' <<<"$OUT")" 11
ok "table" provctl report units
eq "table: one header for all rows" "$(grep -c '^UNIT ' <<<"$OUT")" 1
contains "table: Vietnamese names" "$OUT" "Huyện Tam Đảo"
eq "table: header plus 176 rows" "$(wc -l <<<"$OUT")" 177

# --- report expiring ---------------------------------------------------------------------
ok "report expiring (30 days)" provctl -f tab report expiring
E=$OUT
eq "expiring: header" "$(head -n 1 <<<"$E")" $'unit\tunit_name\tlogin\tname\tserial\tnot_after\tdays_left\tnotified'
eq "expiring: two certificates" "$(($(wc -l <<<"$E") - 1))" 2
eq "expiring: sorted by unit (so-tai-chinh first)" "$(sed -n 2p <<<"$E" | cut -f1,3,5)" \
	"so-tai-chinh	$P7	$S7"
eq "expiring: then the commune" "$(sed -n 3p <<<"$E" | cut -f1,2,3,4,5)" \
	"xa-kim-phu-tam-dao	Xã Kim Phú	$P2	Trần Thị Cúc	$S2"
days=$(sed -n 3p <<<"$E" | cut -f7)
ok "expiring: 9 or 10 days left (got $days)" test "$days" -ge 9 -a "$days" -le 10
ok "not_after as in the record" ldap_root -b "ou=certificates,ou=pki,$B" -s one "(provdCertSerial=$S2)" provdCertNotAfter
# provctl prints times in ISO 8601 UTC: the record's GeneralizedTime, reshaped.
eq "expiring: not_after" "$(sed -n 3p <<<"$E" | cut -f6)" \
	"$(ldif_values provdCertNotAfter <<<"$OUT" |
		sed -E 's/^(....)(..)(..)(..)(..)(..)Z$/\1-\2-\3T\4:\5:\6Z/')"
ok "report expiring --days 5" provctl -f tab report expiring --days 5
eq "nothing within 5 days: the header alone" "$OUT" $'unit\tunit_name\tlogin\tname\tserial\tnot_after\tdays_left\tnotified'
ok "report expiring --days 3650" provctl -f json report expiring --days 3650
eq "three valid certificates within ten years" "$(grep -c '^{' <<<"$OUT")" 3
lacks "the revoked one is not listed" "$OUT" "$S3"
lacks "the one on hold is not listed" "$OUT" "$S4"
contains "the two-year one is" "$OUT" "\"login\":\"$P1\",\"name\":\"Nguyễn Văn Báo\",\"serial\":\"$S1\""
ok "release the hold" provctl -f json cert release "$S4"
ok "report expiring --days 3650 again" provctl -f tab report expiring --days 3650
contains "released certificate is listed again" "$OUT" "$S4"
fails "--days must be a number" 2 provctl report expiring --days ten
contains "error names the option" "$ERR" "days"
fails "--days has a ceiling" 2 provctl report expiring --days 99999

# --- report units after adds, moves, disables, an enable, deletes, a purge --------------
# Every unit row's account columns against one direct search of every
# account's unit and state.
direct_counts() {  # unit<TAB>active<TAB>disabled<TAB>deleted, one line per unit with accounts
	ldap_root -b "ou=people,$B" -s one '(objectClass=inetOrgPerson)' \
		departmentNumber pwdAccountLockedTime provdDeleteAfter | python3 -c '
import collections, sys
n = collections.defaultdict(lambda: [0, 0, 0])
def flush(e):
    if e is None: return
    st = 2 if "provddeleteafter" in e else 1 if e.get("pwdaccountlockedtime") == "000001010000Z" else 0
    n[e.get("departmentnumber", "-")][st] += 1
e = None
for line in sys.stdin.read().split("\n"):
    if line.startswith("dn: "): flush(e); e = {}
    elif ": " in line and e is not None:
        k, v = line.split(": ", 1); e[k.lower()] = v
flush(e)
for u in sorted(n): print("%s\t%d\t%d\t%d" % (u, *n[u]))'
}
report_counts() {  # the same from the "unit" rows of report units
	provctl -f tab report units | awk -F'\t' '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["row"] == "unit" && $col["accounts_active"] + $col["accounts_disabled"] + $col["accounts_deleted"] > 0 {
			print $col["unit"] "\t" $col["accounts_active"] "\t" $col["accounts_disabled"] "\t" $col["accounts_deleted"] }' |
		LC_ALL=C sort
}
sed -n '302,501p' "$STAFF" | cat <(head -n 1 "$STAFF") - >"$T/s200.csv"
ok "batch import 200 more" provctl batch import "$T/s200.csv" --credentials "$T/cred2.csv"
mapfile -t more < <(tail -n +2 "$T/cred2.csv" | cut -d, -f1 | head -n 6)
ok "move ${more[0]} to so-tai-chinh" provctl user move "${more[0]}" --unit so-tai-chinh
ok "move ${more[1]} to $DIST" provctl user move "${more[1]}" --unit "$DIST"
ok "disable ${more[2]}" provctl user disable "${more[2]}"
ok "disable ${more[3]}" provctl user disable "${more[3]}"
ok "... and move it" provctl user move "${more[3]}" --unit xa-kim-phu-tam-dao
ok "enable ${commune_logins[0]}" provctl user enable "${commune_logins[0]}"
ok "delete ${more[4]}" provctl user delete "${more[4]}"
ok "delete ${more[5]}" provctl user delete "${more[5]}"
# Purged: the entry goes (its retention moved into the past).
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=${more[5]},ou=people,$B
changetype: modify
replace: provdDeleteAfter
provdDeleteAfter: 20200101000000Z
EOF
ok "purge ${more[5]}" provctl -f json user purge
contains "... purged" "$OUT" "\"login\":\"${more[5]}\""
want=$(direct_counts | LC_ALL=C sort)
diag "units with accounts: $(wc -l <<<"$want")"
eq "the directory holds 4 disabled and 2 deleted accounts" \
	"$(awk -F'\t' '{ d += $3; x += $4 } END { print d "/" x }' <<<"$want")" 4/2
eq "report units: every unit's active, disabled and deleted as the directory counts them" \
	"$(report_counts)" "$want"

done_testing
