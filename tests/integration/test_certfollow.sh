#!/usr/bin/env bash
# test_certfollow — the one account<->certificate rule, on every path that
# changes an account's unit or state: user move, a batch row that changes
# the unit, disable, enable, delete (held for the retention), enable within
# the retention, delete --now and purge (revoked, cessationOfOperation).
# After each, the record's state and the published CRL (decoded by
# openssl) say the same thing; an officer's hold survives enable, and a
# keyCompromise revocation is never rewritten.
. "$(dirname "$0")/../lib.sh"

sandbox_up
T=$(mktemp -d /tmp/provd-follow.XXXXXX)
at_exit rm -rf "$T"
ok "ca create" provctl ca create --subject '/C=VN/O=UBND/CN=Follow CA' --key ec-p256 --days 365

n=0
# person UNIT -> $LOGIN, $SERIAL (one valid certificate), $EMP
person() {
	local given
	n=$((n + 1))
	given=$(tr 0-9 a-j <<<"$n")
	EMP=CF$n
	LOGIN=$(provctl -f tab user add --name "Hoàng Văn Q$given" --unit "$1" --employee-id "$EMP" |
		awk -F'\t' 'NR == 2 { print $1 }')
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/$n.key" -subj /CN=x -out "$T/$n.csr" 2>/dev/null
	SERIAL=$(provctl -f json cert issue "$LOGIN" --csr "$T/$n.csr" |
		python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])')
}
state() {   # state SERIAL -> "status reason"
	provctl -f json cert show "$1" | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
print(r["status"], r.get("reason", "") or "-")'
}
# crl_entry SERIAL -> the reason the current CRL gives, "absent" if not listed
crl_entry() {
	provctl crl show >"$T/crl.pem"
	openssl crl -in "$T/crl.pem" -noout -text | python3 -c '
import re, sys
want = sys.argv[1].upper().lstrip("0")
text = sys.stdin.read()
for block in re.split(r"\n\s+Serial Number: ", text)[1:]:
    serial = block.split("\n", 1)[0].strip().upper().lstrip("0")
    if serial == want:
        m = re.search(r"X509v3 CRL Reason Code:\s*\n\s*(.+)", block)
        print(m.group(1).strip() if m else "unspecified")
        break
else:
    print("absent")' "$1"
}
account_certs() {   # the account entry's userCertificate values
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=people,$LDAP_BASE" "(uid=$1)" \
		'userCertificate;binary' | grep -c '^userCertificate'
}

# --- disable -> hold; enable -> release ------------------------------------------
person so-tai-chinh
ok "disable" provctl user disable "$LOGIN"
eq "disable: on hold" "$(state "$SERIAL")" "hold certificateHold"
eq "disable: the CRL lists it on hold" "$(crl_entry "$SERIAL")" "Certificate Hold"
eq "disable: the account carries no certificate" "$(account_certs "$LOGIN")" 0
ok "enable" provctl user enable "$LOGIN"
eq "enable: valid again" "$(state "$SERIAL")" "valid -"
eq "enable: off the CRL" "$(crl_entry "$SERIAL")" "absent"
eq "enable: the account carries it again" "$(account_certs "$LOGIN")" 1

# --- an officer's hold is not the account's to release -------------------------------
person so-tai-chinh
ok "officer puts it on hold" provctl cert revoke "$SERIAL" --reason certificateHold
ok "disable" provctl user disable "$LOGIN"
ok "enable" provctl user enable "$LOGIN"
eq "enable leaves the officer's hold" "$(state "$SERIAL")" "hold certificateHold"
eq "  ... and the CRL still lists it" "$(crl_entry "$SERIAL")" "Certificate Hold"
ok "the officer releases it" provctl cert release "$SERIAL"
eq "  ... valid" "$(state "$SERIAL")" "valid -"

# --- delete -> hold for the retention; enable within it is a whole undo --------------
person so-noi-vu
ok "delete" provctl user delete "$LOGIN"
eq "delete: on hold, not revoked" "$(state "$SERIAL")" "hold certificateHold"
eq "delete: the CRL lists it on hold" "$(crl_entry "$SERIAL")" "Certificate Hold"
ok "enable within the retention" provctl user enable "$LOGIN"
eq "restored: valid again" "$(state "$SERIAL")" "valid -"
eq "restored: off the CRL" "$(crl_entry "$SERIAL")" "absent"

# --- purge -> revoked, cessationOfOperation -----------------------------------------
person so-noi-vu
PURGED=$LOGIN PURGED_SERIAL=$SERIAL
ok "delete" provctl user delete "$LOGIN"
printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: provdDeleteAfter\nprovdDeleteAfter: 20000101000000Z\n' \
	"$LOGIN" "$LDAP_BASE" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
ok "purge" provctl -f json user purge
contains "purge names the account" "$OUT" "\"login\":\"$PURGED\""
eq "purge: revoked, cessationOfOperation" "$(state "$PURGED_SERIAL")" "revoked cessationOfOperation"
eq "purge: the CRL says cessationOfOperation" "$(crl_entry "$PURGED_SERIAL")" "Cessation Of Operation"
fails "purge: the entry is gone" 3 provctl user show "$PURGED"

# --- delete --now -> revoked, then removed ------------------------------------------
person so-y-te
ok "delete --now" provctl user delete "$LOGIN" --now
eq "delete --now: revoked, cessationOfOperation" "$(state "$SERIAL")" "revoked cessationOfOperation"
eq "delete --now: the CRL says so" "$(crl_entry "$SERIAL")" "Cessation Of Operation"
fails "delete --now: the entry is gone" 3 provctl user show "$LOGIN"

# --- user move -> affiliationChanged -------------------------------------------------
person so-y-te
ok "move" provctl user move "$LOGIN" --unit so-noi-vu
eq "move: revoked, affiliationChanged" "$(state "$SERIAL")" "revoked affiliationChanged"
eq "move: the CRL says so" "$(crl_entry "$SERIAL")" "Affiliation Changed"

# --- a batch row that changes the unit -> affiliationChanged --------------------------
person so-y-te
printf 'employee_id,full_name,unit\n%s,Hoàng Văn Q%s,so-tai-chinh\n' "$EMP" "$(tr 0-9 a-j <<<"$n")" >"$T/move.csv"
ok "batch update moves the account" provctl -f json batch import "$T/move.csv" --credentials "$T/c.csv"
contains "  ... the row is an update" "$OUT" '"action":"updated"'
eq "batch move: revoked, affiliationChanged" "$(state "$SERIAL")" "revoked affiliationChanged"
eq "batch move: the CRL says so" "$(crl_entry "$SERIAL")" "Affiliation Changed"

# --- keyCompromise is never rewritten -------------------------------------------------
person so-tai-chinh
ok "officer revokes for keyCompromise" provctl cert revoke "$SERIAL" --reason keyCompromise
ok "move" provctl user move "$LOGIN" --unit so-y-te
ok "disable" provctl user disable "$LOGIN"
ok "enable" provctl user enable "$LOGIN"
ok "delete" provctl user delete "$LOGIN"
printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: provdDeleteAfter\nprovdDeleteAfter: 20000101000000Z\n' \
	"$LOGIN" "$LDAP_BASE" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
ok "purge" provctl user purge
eq "still keyCompromise" "$(state "$SERIAL")" "revoked keyCompromise"
eq "  ... in the CRL too" "$(crl_entry "$SERIAL")" "Key Compromise"

# --- whois and report agree with the records --------------------------------------------
ok "a unit of its own" provctl unit add xa-theo-doi --name 'Xã Theo Dõi' --kind commune \
	--parent huyen-tam-dao
person xa-theo-doi
HELD=$SERIAL
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/second.key" -subj /CN=x -out "$T/second.csr" 2>/dev/null
ok "a second certificate" provctl -f json cert issue "$LOGIN" --csr "$T/second.csr"
SECOND=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")
ok "the officer revokes the second (superseded)" provctl cert revoke "$SECOND" --reason superseded
ok "disable" provctl user disable "$LOGIN"
ok "whois" provctl -f json whois "$LOGIN"
contains "whois shows the hold" "$OUT" "\"serial\":\"$HELD\",\"status\":\"hold\""
ok "report units" provctl -f json report units --unit xa-theo-doi
report=$(grep '"unit":"xa-theo-doi"' <<<"$OUT")
contains "report: one held" "$report" '"certs_hold":1'
contains "report: one revoked" "$report" '"certs_revoked":1'
contains "report: none valid" "$report" '"certs_valid":0'

done_testing
