#!/usr/bin/env bash
# reorg apply --p12-dir killed between the revocation of the office's
# certificates and their re-issue: the signer is held (SIGSTOP) so the
# apply stops at the CRL that follows the revocations, provd is killed
# (SIGKILL) there, and the same file applied again issues each revoked
# certificate exactly one successor, with its PKCS #12, naming the new
# unit (a certificate renewed in its overlap: its renewal only).  A successor recorded by a run that died before linking it is
# found, not issued twice.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
B=$LDAP_BASE
C=ou=certificates,ou=pki,$B
TMP=$(mktemp -d /tmp/provd-reorg-reissue.XXXXXX)
at_exit rm -rf -- "$TMP"

serial_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$1"; }
attr_of() {   # attr_of SERIAL ATTR: the record's value
	ldap_root -b "provdCertSerial=$1,$C" -s base '(objectClass=*)' "$2" | sed -n "s/^$2: //p"
}
successors() {   # successors SERIAL: the records that renew it
	ldap_root -b "$C" -s one "(provdCertRenews=$1)" provdCertSerial | sed -n 's/^provdCertSerial: //p'
}

set_overlap() {   # renewals overlap their predecessors by a week; provd restarted
	sed -i 's|^  renew_overlap = .*|  renew_overlap = "7d";|' "$SANDBOX_DIR/provd.conf"
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null &&
		"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" >/dev/null
}
ok "provd with a renewal overlap" set_overlap
ok "a CA" provctl ca create --subject '/C=VN/O=UBND/CN=Reissue Test CA' --key ec-p256 --days 365
ok "a unit" provctl unit add tmp-a --name 'Đơn vị tạm' --kind department
ok "a person in it" provctl -f json user add --name 'Vi Thị Mai' --unit tmp-a --employee-id RI0001
ok "... with a key the office made" provctl -f json cert issue maivt --generate --p12 "$TMP/mai.p12"
S1=$(serial_of "$OUT")
ok "a second person" provctl -f json user add --name 'Hà Văn Bình' --unit tmp-a --employee-id RI0002
ok "... with one too" provctl -f json cert issue binhhv --generate --p12 "$TMP/binh.p12"
S2=$(serial_of "$OUT")
ok "a third person" provctl -f json user add --name 'Lương Văn Tâm' --unit tmp-a --employee-id RI0003
ok "... with a key the office made" provctl -f json cert issue tamlv --generate --p12 "$TMP/tam.p12"
R1=$(serial_of "$OUT")
ok "... renewed, in its overlap" provctl -f json cert renew "$R1" --generate --p12 "$TMP/tam2.p12"
R2=$(successors "$R1")
eq "... both valid, linked" "$(attr_of "$R1" provdCertStatus) $(attr_of "$R2" provdCertStatus) $(attr_of "$R1" provdCertRenewedBy)" \
	"valid valid $R2"
printf 'reorg,tmp\nunit,tmp-b,Đơn vị mới,department,\nmerge,tmp-a,tmp-b\n' >"$TMP/tmp.csv"
mkdir -m 700 "$TMP/p12a" "$TMP/p12b" "$TMP/p12c" "$TMP/p12d"

# --- killed after the revocations, before the re-issue ---------------------------------
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
ok "the signer runs ($spid)" test -n "$spid"
kill -STOP "$spid"
provctl reorg apply "$TMP/tmp.csv" --p12-dir "$TMP/p12a" >"$TMP/apply1.out" 2>&1 &
apid=$!
both_revoked() {
	[[ $(attr_of "$S1" provdCertStatus) == revoked && $(attr_of "$S2" provdCertStatus) == revoked ]]
}
ok "both certificates revoked while the signer is held" within 30 both_revoked
pid=$(<"$SANDBOX_DIR/provd.pid")
ok "provd killed there (SIGKILL)" kill -KILL "$pid"
kill -KILL "$spid" 2>/dev/null || true
wait "$apid" || true
eq "... nothing was re-issued" "$(successors "$S1")$(successors "$S2")" ""
eq "... no PKCS#12 written" "$(find "$TMP/p12a" -name '*.p12')" ""
eq "the revoked record owes its successor" "$(attr_of "$S1" provdCertRenewedBy)" pending
ok "provd restarts" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
eq "... the accounts moved before the kill" \
	"$(ldap_root -b "ou=people,$B" -s one '(departmentNumber=tmp-b)' uid | grep -c '^uid:')" 3

ok "plan again" provctl -f json reorg plan "$TMP/tmp.csv"
contains "... the three holders are still owed their certificates" \
	"$(grep '"unit":"TOTAL"' <<<"$OUT")" '"certificates_reissue":3'
ok "the same file applied again (--p12-dir)" provctl -f json reorg apply "$TMP/tmp.csv" \
	--p12-dir "$TMP/p12b"
for s in "$S1" "$S2"; do
	login=$(attr_of "$s" uid)
	new=$(successors "$s")
	eq "$login: exactly one successor of $s" "$(wc -w <<<"$new")" 1
	eq "... the old one stays revoked (affiliationChanged)" \
		"$(attr_of "$s" provdCertStatus) $(attr_of "$s" provdCertReason)" "revoked affiliationChanged"
	eq "... and is linked to it" "$(attr_of "$s" provdCertRenewedBy)" "$new"
	ok "... the successor" provctl -f json cert show "$new"
	contains "... valid" "$OUT" '"status":"valid"'
	contains "... recorded under the new unit" "$OUT" '"unit":"tmp-b"'
	ok "... its PKCS#12 written" test -s "$TMP/p12b/$login-$new.p12"
	pass=$(grep "^$login,$new," "$TMP/p12b/passphrases.csv" | cut -d, -f4)
	ok "... its passphrase opens it, the certificate names the new unit" bash -c \
		"openssl pkcs12 -in '$TMP/p12b/$login-$new.p12' -passin 'pass:$pass' -nokeys -clcerts \
		2>/dev/null | openssl x509 -noout -nameopt utf8,sep_comma_plus_space -subject \
		| grep -q 'OU=Đơn vị mới'"
	eq "... $login holds exactly one valid certificate" \
		"$(ldap_root -b "$C" -s one "(&(uid=$login)(provdCertStatus=valid))" 1.1 | grep -c '^dn:')" 1
done
N1=$(successors "$S1")
# The renewed one is not owed a second successor: its successor was moved.
eq "tamlv: the renewed certificate revoked, still linked to its renewal" \
	"$(attr_of "$R1" provdCertStatus) $(attr_of "$R1" provdCertRenewedBy)" "revoked $R2"
eq "... the renewal revoked" "$(attr_of "$R2" provdCertStatus)" revoked
R3=$(successors "$R2")
eq "... and re-issued once" "$(wc -w <<<"$R3")" 1
eq "... tamlv holds exactly one valid certificate, the re-issued one" \
	"$(ldap_root -b "$C" -s one "(&(uid=tamlv)(provdCertStatus=valid))" provdCertSerial | sed -n 's/^provdCertSerial: //p')" "$R3"
eq "... one PKCS#12 for tamlv" "$(find "$TMP/p12a" "$TMP/p12b" -name 'tamlv-*.p12' | wc -l)" 1

ok "applied once more" provctl -f json reorg apply "$TMP/tmp.csv" --p12-dir "$TMP/p12c"
eq "... issues nothing" "$(ls -A "$TMP/p12c")" ""

# --- a successor recorded, the run dead before the link --------------------------------
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: provdCertSerial=$S1,$C
changetype: modify
replace: provdCertRenewedBy
provdCertRenewedBy: pending
EOF
ok "plan: the unlinked debt is seen" provctl -f json reorg plan "$TMP/tmp.csv"
contains "... one holder" "$(grep '"unit":"TOTAL"' <<<"$OUT")" '"certificates_reissue":1'
ok "applied again" provctl -f json reorg apply "$TMP/tmp.csv" --p12-dir "$TMP/p12d"
eq "... issues nothing" "$(ls -A "$TMP/p12d")" ""
eq "... the successor found is linked" "$(attr_of "$S1" provdCertRenewedBy)" "$N1"
eq "... still exactly one successor" "$(successors "$S1")" "$N1"

done_testing
