#!/usr/bin/env bash
# CA rollover: a new key and certificate issue everything new; the retired
# CA keeps signing its own CRL (file and LDAP, its own number) for the
# certificates it issued; both chains verify with -crl_check; ca show lists
# the generations; crl show --ca chooses; a restarted provd loads them
# again; --revoke-all revokes the retired CA's certificates (cACompromise).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-rollover.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
S=$SANDBOX_DIR/state
CA_NAME="Vinh Phuc Staff CA"
csr() {  # csr NAME: an EC P-256 key + CSR in $T
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
}
pem_crl() { openssl crl -inform DER -in "$1" -out "$2"; }
# verify CERT CAFILE CRLFILE(DER)...: openssl verify -crl_check
verify() {
	local cert=$1 cafile=$2 f
	shift 2
	: >"$T/crls.pem"
	for f in "$@"; do
		openssl crl -inform DER -in "$f" >>"$T/crls.pem" || return 1
	done
	openssl verify -CAfile "$cafile" -crl_check -CRLfile "$T/crls.pem" "$cert"
}
crl_serials() { openssl crl -inform DER -in "$1" -noout -text | tr -d ' :\n' | tr 'a-f' 'A-F'; }
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
ocsp_status() {  # the status in the pre-signed OCSP response of serial $1 (generation 1)
	openssl ocsp -respin "$S/ocsp/gen-1/responses/$1" -resp_text -noverify 2>/dev/null |
		sed -n 's/^ *Cert Status: *//p'
}
gen_entry() {  # gen_entry N ATTR: the attribute of cn=<CA>-gen-N
	ldap_root -b "cn=$CA_NAME-gen-$1,ou=pki,$LDAP_BASE" -s base '(objectClass=*)' "$2"
}

ok "staff 1" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "staff 2" provctl user add --name 'Đặng Thị Thu Hà' --unit xa-kim-phu-tam-dao --employee-id NV0002
ok "staff 3" provctl user add --name 'Trần Văn Bình' --unit so-tai-chinh --employee-id NV0003
fails "no rollover without a CA" 3 provctl ca rollover --subject '/CN=x' --key ec-p256 --days 10
ok "ca create (generation 1)" provctl ca create --subject "/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=$CA_NAME" \
	--key ec-p256 --days 3650
cp "$S/ca/ca.pem" "$T/gen1.pem"
csr an
ok "issue under generation 1 (annv)" provctl cert issue annv --csr "$T/an.csr"
printf '%s\n' "$OUT" >"$T/an.pem"
csr ha
ok "issue under generation 1 (hadtt)" provctl cert issue hadtt --csr "$T/ha.csr"
printf '%s\n' "$OUT" >"$T/ha.pem"

fails "the same subject is refused" 4 provctl ca rollover \
	--subject "/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=$CA_NAME" --key ec-p256 --days 3650
ok "nothing changed by the refusal" cmp "$S/ca/ca.pem" "$T/gen1.pem"
fails "a subject without CN is refused" 6 provctl ca rollover --subject '/O=x' --key ec-p256 --days 10

ha=$(serial_of "$T/ha.pem")
ask_ha() {  # openssl ocsp about hadtt's certificate, with generation 1 as its issuer
	openssl ocsp -url "$OCSP_URL" -issuer "$T/gen1.pem" -CAfile "$T/gen1.pem" \
		-cert "$T/ha.pem" -resp_text
}
# (this also makes provd-ocsp look at its issuers just before the rollover)
ok "before the rollover, OCSP answers for generation 1" ask_ha
contains "good (current CA)" "$OUT" "$T/ha.pem: good"
ok "ca rollover --link" provctl -f json ca rollover --link \
	--subject "/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=$CA_NAME G2" --key ec-p384 --days 3650
ROLL_OUT=$OUT
# When the rollover answers, the retired CA's responses are already
# under its own responder: right away, not after provd's next tick.
ok "at once after the rollover, OCSP -issuer OLD answers" ask_ha
contains "good (retired CA)" "$OUT" "$T/ha.pem: good"
contains "verified with the old CA alone" "$ERR" "Response verify OK"
ok "the retired CA's issuer.der is written" test -s "$S/ocsp/gen-1/issuer.der"
eq "the retired certificate's response is under gen-1/" "$(ocsp_status "$ha")" "good"
OUT=$ROLL_OUT
contains "the reply names the new CA" "$OUT" "CN=$CA_NAME G2"
ok "the retired certificate is kept under gen-1" cmp "$S/ca/gen-1/ca.pem" "$T/gen1.pem"
ok "the retired key moved with it" test -f "$S/ca/gen-1/ca.key"
eq "the retired key is 0600" "$(stat -c %a "$S/ca/gen-1/ca.key")" 600
cp "$S/ca/ca.pem" "$T/gen2.pem"
ok "the new CA certificate is self-signed" openssl verify -CAfile "$T/gen2.pem" "$T/gen2.pem"
ok "with the new key" openssl x509 -in "$T/gen2.pem" -noout -text
contains "new key is P-384" "$OUT" "secp384r1"

ok "ca show" provctl -f json ca show
contains "ca show: current is generation 2" "$OUT" '"generation":2,"role":"current"'
contains "ca show: generation 1 is retired" "$OUT" '"generation":1,"role":"retired"'
contains "ca show: the retired subject" "$OUT" "\"subject\":\"CN=$CA_NAME,O=UBND tỉnh Vĩnh Phúc,C=VN\""

cat "$T/gen1.pem" "$T/gen2.pem" >"$T/both.pem"
ok "the generation-1 CRL file exists" test -s "$S/crl/ca-gen-1.crl"
ok "the generation-1 CRL is signed by the old key" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/gen1.pem" -noout
ok "the current CRL is signed by the new key" \
	openssl crl -inform DER -in "$S/crl/ca.crl" -CAfile "$T/gen2.pem" -noout
ok "an old certificate still verifies (old CA, old CRL)" \
	verify "$T/an.pem" "$T/gen1.pem" "$S/crl/ca-gen-1.crl"

csr bi
ok "issue after the rollover" provctl cert issue binhtv --csr "$T/bi.csr"
printf '%s\n' "$OUT" >"$T/bi.pem"
ok "issuer of a new certificate" openssl x509 -in "$T/bi.pem" -noout -issuer
contains "the new CA issues it" "$OUT" "$CA_NAME G2"
ok "it verifies against the new CA and its CRL" verify "$T/bi.pem" "$T/gen2.pem" "$S/crl/ca.crl"
# The responder moves to the new CA's responder certificate in the
# background: it may say "try later" for a moment, never anything wrong.
ask_new() {
	local i out
	for i in $(seq 60); do
		out=$(openssl ocsp -url "$OCSP_URL" -issuer "$T/gen2.pem" -CAfile "$T/gen2.pem" \
			-cert "$T/bi.pem" 2>&1) && break
		[[ $out == *trylater* ]] || break
		sleep 0.5
	done
	printf '%s\n' "$out"
	[[ $out != *trylater* ]]
}
ok "OCSP for the new certificate (new CA, verified)" ask_new
contains "good" "$OUT$ERR" "$T/bi.pem: good"
fails "it does not verify against the old CA" 2 \
	verify "$T/bi.pem" "$T/gen1.pem" "$S/crl/ca-gen-1.crl"
# The link certificate: the new CA's name and key, signed by the old key.
LINK=$S/ca/ca-link-gen-1.pem
contains "the rollover's reply named the link file" "$ROLL_OUT" "\"link_file\":\"$LINK\""
ok "the link certificate is written next to the CA certificate" test -s "$LINK"
ok "it is signed by the old CA" openssl verify -CAfile "$T/gen1.pem" -check_ss_sig "$LINK"
eq "its subject is the new CA's" "$(openssl x509 -in "$LINK" -noout -subject)" \
	"$(openssl x509 -in "$T/gen2.pem" -noout -subject)"
eq "its issuer is the old CA" "$(openssl x509 -in "$LINK" -noout -issuer)" \
	"$(openssl x509 -in "$T/gen1.pem" -noout -subject | sed 's/^subject/issuer/')"
eq "its key is the new CA's" "$(openssl x509 -in "$LINK" -noout -pubkey)" \
	"$(openssl x509 -in "$T/gen2.pem" -noout -pubkey)"
ok "it is a CA certificate" openssl x509 -in "$LINK" -noout -ext basicConstraints,keyUsage
contains "CA:TRUE" "$OUT" "CA:TRUE"
contains "keyCertSign" "$OUT" "Certificate Sign"
ok "a client trusting only the old CA builds a path to a new-CA certificate" \
	openssl verify -CAfile "$T/gen1.pem" -untrusted "$LINK" "$T/bi.pem"
openssl crl -inform DER -in "$S/crl/ca.crl" >"$T/crl2.pem"
ok "... and checks it against the new CA's CRL" openssl verify -CAfile "$T/gen1.pem" \
	-untrusted "$LINK" -crl_check -CRLfile "$T/crl2.pem" "$T/bi.pem"
ok "the link certificate is in the directory" ldap_root -b "cn=$CA_NAME,ou=pki,$LDAP_BASE" -s base \
	'(objectClass=*)' 'crossCertificatePair;binary'
pair=$(printf '%s\n' "$OUT" | sed -n 's/^crossCertificatePair;binary:: //p' | base64 -d | od -An -v -tx1 | tr -d ' \n')
link_hex=$(openssl x509 -in "$LINK" -outform DER | od -An -v -tx1 | tr -d ' \n')
contains "as crossCertificatePair { issuedToThisCA [0] link }" "$pair" \
	"a082$(printf '%04x' $((${#link_hex} / 2)))$link_hex"

# Revoking an old certificate: on the OLD CA's CRL, signed by the old key.
an=$(serial_of "$T/an.pem")
gen1_before=$(openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -noout -crlnumber | cut -d= -f2)
ok "revoke an old-generation certificate" provctl cert revoke "$an" --reason keyCompromise
contains "on the old CA's CRL file" "$(crl_serials "$S/crl/ca-gen-1.crl")" "$an"
lacks "not on the new CA's CRL file" "$(crl_serials "$S/crl/ca.crl")" "$an"
gen1_after=$(openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -noout -crlnumber | cut -d= -f2)
ok "the old CRL's number went up" test "$((gen1_after))" -gt "$((gen1_before))"
ok "that CRL verifies with the old CA" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/gen1.pem" -noout
fails "the revoked old certificate fails -crl_check" 2 \
	verify "$T/an.pem" "$T/both.pem" "$S/crl/ca-gen-1.crl" "$S/crl/ca.crl"
contains "because it is revoked" "$OUT$ERR" "certificate revoked"
ok "a CRL publish after the revocation" provctl crl publish
eq "OCSP never answers good for the revoked old certificate" "$(ocsp_status "$an")" "revoked"
ha=$(serial_of "$T/ha.pem")
eq "OCSP: the other old certificate is good" "$(ocsp_status "$ha")" "good"
ok "no response of an old certificate among the new CA's" test ! -e "$S/ocsp/responses/$ha"
# Asked with the OLD issuer, provd-ocsp answers from the old CA's own
# responder: a certificate the old CA issued, verified with only the old CA.
ok "openssl ocsp -issuer OLD: a revoked old certificate" openssl ocsp -url "$OCSP_URL" \
	-issuer "$T/gen1.pem" -CAfile "$T/gen1.pem" -cert "$T/an.pem" -resp_text
contains "the response verifies with the old CA alone" "$ERR" "Response verify OK"
contains "revoked" "$OUT" "$T/an.pem: revoked"
contains "keyCompromise" "$OUT" "Reason: keyCompromise"
ok "openssl ocsp -issuer OLD: a good old certificate" openssl ocsp -url "$OCSP_URL" \
	-issuer "$T/gen1.pem" -CAfile "$T/gen1.pem" -cert "$T/ha.pem" -resp_text
contains "verifies with the old CA" "$ERR" "Response verify OK"
contains "good" "$OUT" "$T/ha.pem: good"
printf '%s\n' "$OUT" | sed -n '/^-----BEGIN CERTIFICATE-----/,/^-----END CERTIFICATE-----/p' \
	>"$T/old-responder.pem"
ok "the old CA's responder certificate" openssl x509 -in "$T/old-responder.pem" -noout -issuer -ext extendedKeyUsage
contains "is issued by the old CA, not the current one" "$OUT" "CN = $CA_NAME"
lacks "(not G2)" "$OUT" "G2"
contains "for OCSP signing" "$OUT" "OCSP Signing"
ok "issued by the old key" openssl verify -CAfile "$T/gen1.pem" -purpose ocsphelper "$T/old-responder.pem"
ok "openssl ocsp -issuer NEW still answers the new certificate" openssl ocsp -url "$OCSP_URL" \
	-issuer "$T/gen2.pem" -CAfile "$T/gen2.pem" -cert "$T/bi.pem"
contains "good (new CA)" "$OUT" "$T/bi.pem: good"
# provd-ocsp looks at its issuers once a second.  A rollover within the
# second after a look: the next request (old issuer) is still answered,
# whether provd-ocsp last took the old CA (issuer.der then changed) or the
# new one (gen-1/ then appeared).  A provd-ocsp of its own on a copy.
O=$(mktemp -d /tmp/provd-rollover-ocsp.XXXXXX)
at_exit rm -rf "$O"
chmod 755 "$O"
mkdir -m 755 "$O/responses"
bi_hex=$(serial_of "$T/bi.pem")
openssl x509 -in "$T/gen1.pem" -outform DER -out "$T/gen1.der"
opid=''
# A port below the kernel's ephemeral range (32768-60999), so that no
# outgoing connection holds it; taken when provd-ocsp listens on it, tried
# again on another when it exits (another sandbox's port).
# shellcheck disable=SC2317
own_settled() { pid_gone "$opid" || ss -ltnpH "sport = :$oport" | grep -q "pid=$opid,"; }
for i in 1 2 3 4 5; do
	oport=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	"$BUILD/provd-ocsp" -d "$O" -l "127.0.0.1:$oport" -p /ocsp -u nobody 2>>"$T/own-ocsp.log" &
	opid=$!
	within 30 own_settled
	pid_gone "$opid" || break
	opid=''
done
ok "a provd-ocsp of its own" test -n "$opid"
[[ -z $opid ]] || at_exit kill "$opid"
ask_own() {  # ask_own ISSUER CERT
	openssl ocsp -url "http://127.0.0.1:$oport/ocsp" -issuer "$1" -CAfile "$1" -cert "$2"
}
# set_dir old|new: the old CA current, or the new one without gen-1/ yet;
# and, staged in $O/.next, gen-1/ and the new issuer.der for switch_dir
# (two renames, issuer.der last, as provd does: quick enough to fit in the
# second of a look even on a loaded machine)
set_dir() {
	rm -rf "$O/gen-1" "$O/.next" && rm -f "$O/responses/"*
	mkdir -p -m 755 "$O/.next/gen-1/responses"
	cp "$S/ocsp/gen-1/issuer.der" "$O/.next/gen-1/"
	cp "$S/ocsp/gen-1/responses/$ha" "$O/.next/gen-1/responses/"
	cp "$S/ocsp/issuer.der" "$O/.next/issuer.der"
	if [[ $1 == new ]]; then
		cp "$S/ocsp/responses/$bi_hex" "$O/responses/"
		cp "$S/ocsp/issuer.der" "$O/.i"
	else
		cp "$T/gen1.der" "$O/.i"
	fi
	mv "$O/.i" "$O/issuer.der"
	chmod -R a+rX "$O"
}
switch_dir() { mv "$O/.next/gen-1" "$O/" && mv "$O/.next/issuer.der" "$O/"; }
# same_second old|new ISSUER CERT: set_dir old|new, a request (provd-ocsp
# looks), switch_dir, and the old-issuer request for hadtt's certificate
# into OUT, all within one second (tried until so)
same_second() {
	local t0 try
	for try in $(seq 15); do
		set_dir "$1"
		sleep 1.1    # the next request makes provd-ocsp look again
		while [[ $(date +%N) != 0* ]]; do sleep 0.01; done    # early in a second
		t0=$(date +%s)
		ask_own "$2" "$3" >/dev/null 2>&1
		switch_dir
		OUT=$(ask_own "$T/gen1.pem" "$T/ha.pem" 2>&1)
		[[ $(date +%s) == "$t0" ]] && return 0
	done
	OUT='no try fell within one second'
	return 1
}
same_second old "$T/gen1.pem" "$T/ha.pem"
contains "rollover just after a look at the old CA: still good" "$OUT" "$T/ha.pem: good"
same_second new "$T/gen2.pem" "$T/bi.pem"
contains "gen-1/ made just after a look: still good" "$OUT" "$T/ha.pem: good"
ok "the other old certificate still verifies" \
	verify "$T/ha.pem" "$T/both.pem" "$S/crl/ca-gen-1.crl" "$S/crl/ca.crl"
ok "the new certificate still verifies" \
	verify "$T/bi.pem" "$T/both.pem" "$S/crl/ca-gen-1.crl" "$S/crl/ca.crl"
ok "the LDAP entry of generation 1" gen_entry 1 'certificateRevocationList;binary'
printf '%s\n' "$OUT" | sed -n 's/^certificateRevocationList;binary:: //p' | base64 -d >"$T/ldap-gen1.crl"
ok "LDAP holds the same old-CA CRL as the file" cmp "$T/ldap-gen1.crl" "$S/crl/ca-gen-1.crl"
ok "crl show --ca 1" provctl crl show --ca 1
printf '%s\n' "$OUT" >"$T/show1.pem"
pem_crl "$S/crl/ca-gen-1.crl" "$T/file1.pem"
ok "crl show --ca 1 is the old CA's CRL" cmp "$T/show1.pem" "$T/file1.pem"
ok "crl show --ca 2 is the current one" provctl crl show --ca 2
pem_crl "$S/crl/ca.crl" "$T/file2.pem"
eq "crl show --ca 2 = ca.crl" "$OUT" "$(cat "$T/file2.pem")"
fails "crl show --ca 9" 3 provctl crl show --ca 9

# A restart loads the retired generation again and keeps publishing it.
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
ok "start provd" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "ca show after restart" provctl -f json ca show
contains "generation 1 is back" "$OUT" '"generation":1,"role":"retired"'
ok "crl publish after restart" provctl crl publish
n=$(openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -noout -crlnumber | cut -d= -f2)
ok "the old CA's CRL was published again" test "$((n))" -gt "$((gen1_after))"
contains "still on the old CRL after restart" "$(crl_serials "$S/crl/ca-gen-1.crl")" "$an"
ok "and it still verifies with the old CA" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/gen1.pem" -noout

# Compromise of generation 2: roll over to 3 and revoke all of 2's.
bi=$(serial_of "$T/bi.pem")
ok "ca rollover --revoke-all" provctl -f json ca rollover --revoke-all \
	--subject "/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=$CA_NAME G3" --key ec-p256 --days 3650
contains "the reply lists the revoked certificate" "$OUT" "\"serial\":\"$(echo "$bi" | tr 'A-F' 'a-f')\""
contains "a CSR certificate: for its holder to resubmit" "$OUT" '"key":"csr","status":"revoked","reason":"cACompromise","action":"resubmit"'
ok "generation 2 kept under gen-2" cmp "$S/ca/gen-2/ca.pem" "$T/gen2.pem"
ok "cert show of the compromised CA's certificate" provctl -f json cert show "$bi"
contains "revoked" "$OUT" '"status":"revoked"'
contains "with cACompromise" "$OUT" '"reason":"cACompromise"'
ok "on generation 2's CRL" openssl crl -inform DER -in "$S/crl/ca-gen-2.crl" -noout -text
contains "reason CA Compromise" "$OUT" "CA Compromise"
contains "that serial" "$(crl_serials "$S/crl/ca-gen-2.crl")" "$bi"
ok "generation 2's CRL is signed by generation 2's key" \
	openssl crl -inform DER -in "$S/crl/ca-gen-2.crl" -CAfile "$T/gen2.pem" -noout
fails "the compromised CA's certificate no longer verifies" 2 \
	verify "$T/bi.pem" "$T/gen2.pem" "$S/crl/ca-gen-2.crl"
ok "generation 1's valid certificate is untouched" \
	verify "$T/ha.pem" "$T/gen1.pem" "$S/crl/ca-gen-1.crl"
ok "ca show lists three generations" provctl -f json ca show
contains "generation 3 current" "$OUT" '"generation":3,"role":"current"'
contains "generation 2 retired" "$OUT" '"generation":2,"role":"retired"'
csr an2
ok "re-issue under generation 3" provctl cert issue binhtv --csr "$T/an2.csr"
printf '%s\n' "$OUT" >"$T/bi3.pem"
cp "$S/ca/ca.pem" "$T/gen3.pem"
ok "the re-issued certificate verifies" verify "$T/bi3.pem" "$T/gen3.pem" "$S/crl/ca.crl"

# ---- keys on a PKCS#11 token (SoftHSM2): token key to token key ------------
sandbox_up --hsm
S=$SANDBOX_DIR/state
ok "staff (token sandbox)" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "ca create --pkcs11" provctl ca create --subject "/CN=$CA_NAME" --key ec-p256 --days 3650 \
	--pkcs11 "$PKCS11_URI"
cp "$S/ca/ca.pem" "$T/t1.pem"
csr tan
ok "issue by the first token key" provctl cert issue annv --csr "$T/tan.csr"
printf '%s\n' "$OUT" >"$T/tan.pem"
fails "a rollover onto the key's own token object fails" any provctl ca rollover \
	--subject "/CN=$CA_NAME G2" --key ec-p256 --days 3650 --pkcs11 "$PKCS11_URI"
eq "and puts everything back: the key's URI" "$(cat "$S/ca/ca.key.uri")" "$PKCS11_URI"
ok "no generation left behind" test ! -e "$S/ca/gen-1"
ok "the CA certificate unchanged" cmp "$S/ca/ca.pem" "$T/t1.pem"
csr tun
ok "the old token key still issues" provctl cert issue annv --csr "$T/tun.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/tun.pem"
ok "and it verifies" verify "$T/tun.pem" "$T/t1.pem" "$S/crl/ca.crl"
ok "ca rollover --pkcs11 (a second object on the token)" provctl ca rollover \
	--subject "/CN=$CA_NAME G2" --key ec-p256 --days 3650 --pkcs11 "${PKCS11_URI}-g2"
eq "the retired token key is kept by its URI" "$(cat "$S/ca/gen-1/ca.key.uri")" "$PKCS11_URI"
eq "the new one too" "$(cat "$S/ca/ca.key.uri")" "${PKCS11_URI}-g2"
ok "no key file anywhere" test ! -e "$S/ca/ca.key" -a ! -e "$S/ca/gen-1/ca.key"
cp "$S/ca/ca.pem" "$T/t2.pem"
ok "revoke the first token CA's certificate" provctl cert revoke "$(serial_of "$T/tan.pem")" --reason superseded
ok "the old token key signed its CRL" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/t1.pem" -noout
fails "the certificate is revoked there" 2 verify "$T/tan.pem" "$T/t1.pem" "$S/crl/ca-gen-1.crl"
csr tbi
ok "issue by the new token key" provctl cert issue annv --csr "$T/tbi.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/tbi.pem"
ok "it verifies with the new CA" verify "$T/tbi.pem" "$T/t2.pem" "$S/crl/ca.crl"
ok "stop provd (token)" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
ok "start provd (token)" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "crl publish after restart (token)" provctl crl publish
ok "the old token key still signs its CRL" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/t1.pem" -noout

done_testing
