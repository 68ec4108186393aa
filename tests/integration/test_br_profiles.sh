#!/usr/bin/env bash
# Profiles a linter accepts: every certificate of every profile — the
# shipped ones and a Strict/Mailbox-validated pair — with each key type
# they allow, from a CSR and from a key the office makes, is checked
# against the S/MIME Baseline Requirements' profile (7.1.2.3 extensions,
# 7.1.4.2 subject, 7.1.6 policy identifiers) by tests/tools/
# smime_br_check.py, which decodes the DER itself; a certificate that
# breaks the tables is caught by the same checker.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-br.XXXXXX)
at_exit rm -rf "$T"
CHECK=$REPO/tests/tools/smime_br_check.py

sandbox_up
cp -r "$REPO/templates" "$T/templates"
cat >"$T/templates/profiles/mail-strict.conf" <<'EOF'
description = "Strict, Mailbox-validated: the address alone";
validity_days = 365;
email_san = true;
rsa = { min_bits = 2048; max_bits = 4096; key_usage = [ "digitalSignature", "keyEncipherment" ]; };
ec = { curves = [ "P-256", "P-384" ]; key_usage = [ "digitalSignature", "keyAgreement" ]; };
extended_key_usage = [ "emailProtection" ];
smime_generation = "strict";
smime_validation = "mailbox";
policies = [ "1.3.6.1.4.1.99999.1.1" ];
EOF
cat >"$T/templates/profiles/sponsor-strict.conf" <<'EOF'
description = "Strict, Sponsor-validated, signing only";
validity_days = 365;
email_san = true;
rsa = { min_bits = 2048; max_bits = 4096; key_usage = [ "digitalSignature", "nonRepudiation" ]; };
ec = { curves = [ "P-256" ]; key_usage = [ "digitalSignature" ]; };
extended_key_usage = [ "emailProtection" ];
smime_generation = "strict";
smime_validation = "sponsor";
EOF
sed -i "s|^\(  template_dir = \).*|\1\"$T/templates\";|" "$SANDBOX_DIR/provd.conf"
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
ok "start provd on the test profiles" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"

ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "ca create" provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' \
	--key ec-p384 --days 3650

declare -A WANT=(
	[staff-email]="multipurpose sponsor" [staff-sign]="multipurpose sponsor"
	[mail-strict]="strict mailbox" [sponsor-strict]="strict sponsor"
)
n=0
for f in "$T/templates/profiles/"*.conf; do
	prof=$(basename "$f" .conf)
	ok "$prof: the test knows what it should be" test -n "${WANT[$prof]-}"
	n=0
	for key in ec:P-256 rsa:2048 rsa:3072; do
		n=$((n + 1))
		if [[ $key == ec:* ]]; then
			newkey=(-newkey ec -pkeyopt "ec_paramgen_curve:${key#ec:}")
		else
			newkey=(-newkey "$key")
		fi
		openssl req -new "${newkey[@]}" -nodes -keyout "$T/k$n" -subj /CN=x \
			-out "$T/r$n.csr" 2>/dev/null
		ok "$prof ($key): issued" provctl cert issue annv --profile "$prof" --csr "$T/r$n.csr"
		printf '%s\n' "$OUT" | openssl x509 -outform DER -out "$T/$prof-$n.der"
		ok "$prof ($key): S/MIME BR 7.1 profile tables" python3 "$CHECK" "$T/$prof-$n.der"
		contains "$prof ($key): as ${WANT[$prof]}" "$OUT" "ok ${WANT[$prof]}"
	done
	# A key the office makes, where the profile allows it (escrow needs
	# the recovery certificate the sandbox has).
	ok "$prof (--generate): issued" provctl cert issue annv --profile "$prof" --generate \
		--p12 "$T/$prof.p12"
	printf '%s\n' "$OUT" | openssl x509 -outform DER -out "$T/$prof-gen.der"
	ok "$prof (--generate): S/MIME BR 7.1 profile tables" python3 "$CHECK" "$T/$prof-gen.der"
done

# What the tables mean, on the certificates themselves.
openssl x509 -inform DER -in "$T/mail-strict-1.der" -noout -subject -ext extendedKeyUsage,certificatePolicies \
	>"$T/ms.txt"
contains "mailbox: the subject is the address alone" "$(<"$T/ms.txt")" "subject=CN = annv@vinhphuc.gov.vn"
contains "strict: the CA/B Forum OID of Strict Mailbox-validated" "$(<"$T/ms.txt")" "Policy: 2.23.140.1.5.1.3"
contains "and the office's own OID after it" "$(<"$T/ms.txt")" "Policy: 1.3.6.1.4.1.99999.1.1"
lacks "strict: no clientAuth" "$(<"$T/ms.txt")" "Client Authentication"
openssl x509 -inform DER -in "$T/staff-email-1.der" -noout -subject -nameopt utf8,sep_comma_plus_space \
	-ext certificatePolicies >"$T/se.txt"
contains "staff-email: Sponsor-validated Multipurpose" "$(<"$T/se.txt")" "Policy: 2.23.140.1.5.3.2"
contains "sponsor: the organisation's identifier" "$(<"$T/se.txt")" "organizationIdentifier=GOVVN"
contains "sponsor: the family name as surname" "$(<"$T/se.txt")" "SN=Nguyễn"
contains "sponsor: the other names as givenName" "$(<"$T/se.txt")" "GN=Văn An"

# The checker bites: certificates that break the tables.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/bad.key" \
	-subj '/CN=bad CA' -days 1 -out "$T/badca.pem" 2>/dev/null
bad() {  # bad NAME EXTFILE-LINES...: a leaf with those extensions, DER in $T/NAME.der
	local name=$1
	shift
	printf '%s\n' "$@" >"$T/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj "/CN=x@example.org" -out "$T/$name.csr" 2>/dev/null
	openssl x509 -req -in "$T/$name.csr" -CA "$T/badca.pem" -CAkey "$T/bad.key" -days 1 \
		-extfile "$T/$name.ext" -outform DER -out "$T/$name.der" 2>/dev/null
}
GOOD=("keyUsage = critical, digitalSignature" "extendedKeyUsage = emailProtection"
	"subjectAltName = email:x@example.org" "authorityKeyIdentifier = keyid"
	"crlDistributionPoints = URI:http://example.org/ca.crl")
bad good "${GOOD[@]}" "certificatePolicies = 2.23.140.1.5.1.3"
ok "checker: a conforming Strict Mailbox-validated leaf passes" python3 "$CHECK" "$T/good.der"
bad strictclient "${GOOD[@]/emailProtection/emailProtection, clientAuth}" \
	"certificatePolicies = 2.23.140.1.5.1.3"
fails "checker: Strict with clientAuth" 1 python3 "$CHECK" "$T/strictclient.der"
contains "names 7.1.2.3 f" "$OUT" "7.1.2.3 f"
bad nopolicy "${GOOD[@]}"
fails "checker: no certificatePolicies" 1 python3 "$CHECK" "$T/nopolicy.der"
contains "names 7.1.2.3 a" "$OUT" "7.1.2.3 a"
bad ldapcrl "${GOOD[@]/http:/ldap:}" "certificatePolicies = 2.23.140.1.5.1.3"
fails "checker: an LDAP CRL URI" 1 python3 "$CHECK" "$T/ldapcrl.der"
bad softku "${GOOD[@]/critical, /}" "certificatePolicies = 2.23.140.1.5.1.3"
fails "checker: keyUsage not critical" 1 python3 "$CHECK" "$T/softku.der"
bad orgmailbox "${GOOD[@]}" "certificatePolicies = 2.23.140.1.5.1.2"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/O=Org/CN=x@example.org" -out "$T/om.csr" 2>/dev/null
openssl x509 -req -in "$T/om.csr" -CA "$T/badca.pem" -CAkey "$T/bad.key" -days 1 \
	-extfile "$T/orgmailbox.ext" -outform DER -out "$T/orgmailbox.der" 2>/dev/null
fails "checker: an organisation in a Mailbox-validated subject" 1 python3 "$CHECK" "$T/orgmailbox.der"
contains "names 7.1.4.2" "$OUT" "organizationName SHALL NOT"

done_testing
