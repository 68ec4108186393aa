#!/usr/bin/env bash
# ca rollover --revoke-all after a compromise: a preview (--dry-run) that
# changes nothing; then every certificate of the old CA revoked with
# cACompromise (on the old CA's CRL), those whose key the office made
# re-issued under the new CA with a new key of the same type, each as a
# new 0600 PKCS#12 file in --p12-dir with its passphrase in
# passphrases.csv; CSR-based ones listed for the holders to resubmit; a
# disabled account's certificate revoked but not re-issued; audited.
# Then a compromise of the new CA, the rollover killed (SIGKILL) after a
# revocation, before its re-issue (the signer held with SIGSTOP by the
# key helper): 'ca rollover --revoke-all --resume' gives each revoked
# certificate exactly one successor under the newest CA, makes no CA,
# and run again issues nothing.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-reissue.XXXXXX)
at_exit rm -rf "$T"

# provd from a directory of its own: its provd-keygen stops the process
# named in $T/hold (the signer) before making the key, so a re-issue stops
# between the revocation and the signature.
mkdir "$T/bin"
cp "$BUILD/provd" "$T/bin/provd"
ln -s "$BUILD/provd-self" "$BUILD/provd-ocsp" "$T/bin/"
cat >"$T/bin/provd-keygen" <<KEYGEN
#!/bin/bash
if [[ -s '$T/hold' ]]; then kill -STOP "\$(<'$T/hold')"; : >'$T/held'; fi
exec '$BUILD/provd-keygen' "\$@"
KEYGEN
chmod 755 "$T" "$T/bin" "$T/bin/provd-keygen"
sandbox_up --provd "$T/bin/provd"
S=$SANDBOX_DIR/state
CA="/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA"
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
status_of() { provctl -f tab -o status cert show "$1" | sed -n 2p; }
# row LOGIN: that login's record in the rollover's JSON reply
row() { printf '%s\n' "$OUT" | grep -o "{\"serial\":\"[0-9a-f]*\",\"login\":\"$1\"[^}]*}"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

ok "staff 1" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "staff 2" provctl user add --name 'Đặng Thị Thu Hà' --unit so-tai-chinh --employee-id NV0002
ok "staff 3" provctl user add --name 'Trần Văn Bình' --unit so-tai-chinh --employee-id NV0003
ok "staff 4" provctl user add --name 'Lê Văn Cường' --unit so-tai-chinh --employee-id NV0004
ok "ca create" provctl ca create --subject "$CA" --key ec-p256 --days 3650
cp "$S/ca/ca.pem" "$T/gen1.pem"

ok "annv: office key (EC)" provctl cert issue annv --generate --p12 "$T/an.p12"
printf '%s\n' "$OUT" >"$T/an.pem"
ok "hadtt: office key (RSA-3072, staff-sign)" provctl cert issue hadtt --generate \
	--key rsa-3072 --profile staff-sign --p12 "$T/ha.p12"
printf '%s\n' "$OUT" >"$T/ha.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/bi.key" \
	-subj /CN=x -out "$T/bi.csr" 2>/dev/null
ok "binhtv: from a CSR" provctl cert issue binhtv --csr "$T/bi.csr"
printf '%s\n' "$OUT" >"$T/bi.pem"
ok "cuonglv: office key" provctl cert issue cuonglv --generate --p12 "$T/cu.p12"
printf '%s\n' "$OUT" >"$T/cu.pem"
ok "cuonglv disabled (its certificate on hold)" provctl user disable cuonglv --yes
an=$(serial_of "$T/an.pem") ha=$(serial_of "$T/ha.pem") bi=$(serial_of "$T/bi.pem")
cu=$(serial_of "$T/cu.pem")
eq "cuonglv's certificate is held" "$(status_of "$cu")" hold

# ---- the preview --------------------------------------------------------------
mkdir -m 700 "$T/p12"
G2=(--subject "$CA G2" --key ec-p256 --days 3650)
ok "ca rollover --revoke-all --dry-run" provctl -f json ca rollover --revoke-all --dry-run \
	--p12-dir "$T/p12" "${G2[@]}"
contains "dry run: annv re-issued" "$(row annv)" '"key":"office","status":"valid","reason":"cACompromise","action":"revoke, re-issue"'
contains "dry run: hadtt re-issued" "$(row hadtt)" '"action":"revoke, re-issue"'
contains "dry run: binhtv resubmits" "$(row binhtv)" '"key":"csr","status":"valid","reason":"cACompromise","action":"revoke, resubmit"'
contains "dry run: the held one counted" "$(row cuonglv)" '"status":"hold"'
ok "dry run: the CA is the same" cmp "$S/ca/ca.pem" "$T/gen1.pem"
ok "dry run: no generation made" test ! -e "$S/ca/gen-1"
eq "dry run: annv still valid" "$(status_of "$an")" valid
eq "dry run: binhtv still valid" "$(status_of "$bi")" valid
eq "dry run: nothing written to --p12-dir" "$(ls -A "$T/p12")" ""

mkdir -m 777 "$T/open"
fails "a directory others may write is refused" 2 provctl ca rollover --revoke-all \
	--p12-dir "$T/open" "${G2[@]}"
fails "--p12-dir without --revoke-all" 2 provctl ca rollover --p12-dir "$T/p12" "${G2[@]}"
ok "nothing changed by the refusals" cmp "$S/ca/ca.pem" "$T/gen1.pem"

# ---- the rollover -------------------------------------------------------------
ok "ca rollover --revoke-all --p12-dir" provctl -f json ca rollover --revoke-all \
	--p12-dir "$T/p12" "${G2[@]}"
cp "$S/ca/ca.pem" "$T/gen2.pem"
an_row=$(row annv) ha_row=$(row hadtt)
contains "annv re-issued" "$an_row" '"status":"revoked","reason":"cACompromise","action":"re-issued"'
contains "hadtt re-issued" "$ha_row" '"action":"re-issued"'
contains "binhtv listed to resubmit" "$(row binhtv)" '"action":"resubmit"'
contains "cuonglv (disabled) not re-issued" "$(row cuonglv)" '"action":"re-issue failed"'
contains "because the account is disabled" "$(row cuonglv)" "disabled"
an2=$(printf '%s' "$an_row" | field new_serial)
ha2=$(printf '%s' "$ha_row" | field new_serial)
ok "new serials" test -n "$an2" -a -n "$ha2"

for s in "$an" "$ha" "$bi" "$cu"; do
	ok "old $s: revoked" provctl -f json cert show "$s"
	contains "old $s: cACompromise" "$OUT" '"status":"revoked","not_before"'
	contains "old $s: reason" "$OUT" '"reason":"cACompromise"'
done
ok "generation 1's CRL" openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/gen1.pem" -noout -text
crl1=$(printf '%s\n' "$OUT" | tr -d ' :\n' | tr 'A-F' 'a-f')
for s in "$an" "$ha" "$bi" "$cu"; do
	contains "$s on generation 1's CRL" "$crl1" "$s"
done
eq "passphrases.csv is 0600" "$(stat -c %a "$T/p12/passphrases.csv")" 600
eq "two PKCS#12 files and the passphrases" \
	"$(cd "$T/p12" && ls | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "annv-$an2.p12" "hadtt-$ha2.p12" passphrases.csv | sort | tr '\n' ' ')"
eq "the header" "$(sed -n 1p "$T/p12/passphrases.csv")" "login,serial,p12,passphrase"
openssl crl -inform DER -in "$S/crl/ca.crl" >"$T/crl2.pem"
for who in annv:"$an2":an hadtt:"$ha2":ha; do
	IFS=: read -r login s old <<<"$who"
	f=$T/p12/$login-$s.p12
	eq "$login: 0600" "$(stat -c %a "$f")" 600
	pass=$(grep "^$login,$s," "$T/p12/passphrases.csv" | cut -d, -f4)
	ok "$login: the passphrase opens it" openssl pkcs12 -in "$f" -passin "pass:$pass" -nodes \
		-out "$T/$login.new.pem"
	openssl x509 -in "$T/$login.new.pem" -out "$T/$login.cert.pem"
	eq "$login: its certificate is the new serial" "$(serial_of "$T/$login.cert.pem")" "$s"
	ok "$login: it verifies against the new CA and its CRL" openssl verify -CAfile "$T/gen2.pem" \
		-crl_check -CRLfile "$T/crl2.pem" "$T/$login.cert.pem"
	eq "$login: key and certificate match" \
		"$(openssl pkey -in "$T/$login.new.pem" -pubout | sha256sum)" \
		"$(openssl x509 -in "$T/$login.cert.pem" -noout -pubkey | sha256sum)"
	ok "$login: a new key" test "$(openssl x509 -in "$T/$old.pem" -noout -pubkey)" != \
		"$(openssl x509 -in "$T/$login.cert.pem" -noout -pubkey)"
	eq "$login: cert show says valid" "$(status_of "$s")" valid
done
ok "hadtt's new key is RSA-3072 again" openssl x509 -in "$T/hadtt.cert.pem" -noout -text
contains "3072 bit" "$OUT" "Public-Key: (3072 bit)"
ok "and staff-sign again" provctl -f json cert show "$ha2"
contains "profile" "$OUT" '"profile":"staff-sign"'
lacks "no passphrase in provd's log" "$(cat "$SANDBOX_DIR/provd.log")" \
	"$(sed -n 2p "$T/p12/passphrases.csv" | cut -d, -f4)"
ok "audit show" provctl -f json audit show
contains "the rollover is audited with its counts" "$OUT" "generation=2 revoked=4 failed=0 reissued=2 resubmit=1 not_reissued=1"
lacks "no passphrase in the audit" "$OUT" "$(sed -n 2p "$T/p12/passphrases.csv" | cut -d, -f4)"

fails "passphrases.csv is never overwritten" 2 provctl ca rollover --revoke-all \
	--p12-dir "$T/p12" --subject "$CA G3" --key ec-p256 --days 3650
# ---- a compromise of the new CA, the rollover killed between revoke and re-issue ----
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/bi2.key" \
	-subj /CN=x -out "$T/bi2.csr" 2>/dev/null
ok "binhtv resubmits a CSR" provctl cert issue binhtv --csr "$T/bi2.csr"
printf '%s\n' "$OUT" >"$T/bi2.pem"
bi2=$(serial_of "$T/bi2.pem")
ldap_cert() {   # ldap_cert SERIAL ATTR: the record's value
	ldap_root -b "provdCertSerial=$1,ou=certificates,ou=pki,$LDAP_BASE" -s base \
		'(objectClass=*)' "$2" | sed -n "s/^$2: //p"
}
successors() {   # successors SERIAL: the records that renew it
	ldap_root -b "ou=certificates,ou=pki,$LDAP_BASE" -s one "(provdCertRenews=$1)" \
		provdCertSerial | sed -n 's/^provdCertSerial: //p'
}
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
ok "the signer runs ($spid)" test -n "$spid"
echo "$spid" >"$T/hold"
mkdir -m 700 "$T/p12a" "$T/p12b" "$T/p12c" "$T/p12d"
provctl ca rollover --revoke-all --p12-dir "$T/p12a" --subject "$CA G3" --key ec-p256 \
	--days 3650 >"$T/roll3.out" 2>&1 &
rpid=$!
held() { [[ -e $T/held ]]; }
ok "a revocation recorded, the signer held at its re-issue" within 60 held
rm -f "$T/hold"
ok "provd killed there (SIGKILL)" kill -KILL "$(<"$SANDBOX_DIR/provd.pid")"
kill -KILL "$spid" 2>/dev/null || true
wait "$rpid" || true
cp "$S/ca/ca.pem" "$T/gen3.pem"
ok "the new CA was in place" openssl x509 -in "$T/gen3.pem" -noout -subject
contains "... G3" "$OUT" "G3"
eq "nothing re-issued" "$(successors "$an2")$(successors "$ha2")" ""
eq "no PKCS#12 written" "$(find "$T/p12a" -name '*.p12')" ""
eq "annv's certificate revoked owing its successor" \
	"$(ldap_cert "$an2" provdCertStatus) $(ldap_cert "$an2" provdCertRenewedBy)" "revoked pending"
ok "provd restarts" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$T/bin/provd"

fails "--resume makes no CA" 2 provctl ca rollover --revoke-all --resume --subject "$CA G4"
fails "--resume without --revoke-all" 2 provctl ca rollover --resume
ok "--resume --dry-run" provctl -f json ca rollover --revoke-all --resume --dry-run \
	--p12-dir "$T/p12b"
contains "... annv owed" "$(row annv)" '"status":"revoked","reason":"cACompromise","action":"re-issue (owed)"'
contains "... hadtt still to revoke" "$(row hadtt)" '"status":"valid","reason":"cACompromise","action":"revoke, re-issue"'
eq "... changes nothing" "$(ldap_cert "$ha2" provdCertStatus)" valid
ok "ca rollover --revoke-all --resume --p12-dir" provctl -f json ca rollover --revoke-all \
	--resume --p12-dir "$T/p12b"
contains "binhtv listed to resubmit" "$(row binhtv)" '"action":"resubmit"'
ok "no new CA" cmp "$S/ca/ca.pem" "$T/gen3.pem"
ok "... and no third retired generation" test ! -e "$S/ca/gen-3"
openssl crl -inform DER -in "$S/crl/ca-gen-2.crl" -noout -text >"$T/crl-g2.txt"
ok "generation 2's CRL" test -s "$T/crl-g2.txt"
crlg2=$(tr -d ' :\n' <"$T/crl-g2.txt" | tr 'A-F' 'a-f')
openssl crl -inform DER -in "$S/crl/ca.crl" >"$T/crl3.pem"
for who in annv:"$an2" hadtt:"$ha2"; do
	IFS=: read -r login old <<<"$who"
	new=$(successors "$old")
	eq "$login: exactly one successor of $old" "$(wc -w <<<"$new")" 1
	eq "... the old one revoked (cACompromise) and linked to it" \
		"$(ldap_cert "$old" provdCertStatus) $(ldap_cert "$old" provdCertReason) $(ldap_cert "$old" provdCertRenewedBy)" \
		"revoked cACompromise $new"
	contains "... on generation 2's CRL" "$crlg2" "$old"
	f=$T/p12b/$login-$new.p12
	ok "... its PKCS#12 written" test -s "$f"
	pass=$(grep "^$login,$new," "$T/p12b/passphrases.csv" | cut -d, -f4)
	ok "... its passphrase opens it" openssl pkcs12 -in "$f" -passin "pass:$pass" -nokeys \
		-clcerts -out "$T/$login.g3.pem"
	ok "... it verifies against the newest CA and its CRL" openssl verify -CAfile "$T/gen3.pem" \
		-crl_check -CRLfile "$T/crl3.pem" "$T/$login.g3.pem"
	eq "... $login holds exactly one valid certificate, that one" \
		"$(ldap_root -b "ou=certificates,ou=pki,$LDAP_BASE" -s one "(&(uid=$login)(provdCertStatus=valid))" provdCertSerial | sed -n 's/^provdCertSerial: //p')" "$new"
done
eq "binhtv's revoked (cACompromise), owes nothing" \
	"$(ldap_cert "$bi2" provdCertStatus) $(ldap_cert "$bi2" provdCertReason) $(ldap_cert "$bi2" provdCertRenewedBy)" \
	"revoked cACompromise "
eq "one PKCS#12 per holder in all" "$(find "$T/p12a" "$T/p12b" -name '*.p12' | wc -l)" 2
ok "audit show" provctl -f json audit show
contains "the resumed run is audited" "$OUT" "owed=1 resumed"

ok "resumed once more" provctl -f json ca rollover --revoke-all --resume --p12-dir "$T/p12c"
eq "... issues nothing" "$(ls -A "$T/p12c")" ""

# a successor recorded, the run dead before the link
an3=$(successors "$an2")
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<LDIF
dn: provdCertSerial=$an2,ou=certificates,ou=pki,$LDAP_BASE
changetype: modify
replace: provdCertRenewedBy
provdCertRenewedBy: pending
LDIF
ok "resumed with the link missing" provctl -f json ca rollover --revoke-all --resume \
	--p12-dir "$T/p12d"
contains "... the successor found" "$(row annv)" "issued by an earlier run"
eq "... issues nothing" "$(ls -A "$T/p12d")" ""
eq "... linked again" "$(ldap_cert "$an2" provdCertRenewedBy)" "$an3"
eq "... still exactly one successor" "$(successors "$an2")" "$an3"
done_testing
