#!/usr/bin/env bash
# The CA key on a PKCS #11 token (SoftHSM2 in the sandbox): the key is
# generated on the token and signs through C_Sign in the signer process,
# for an RSA CA (PKCS #1 v1.5 over a SHA-256 DigestInfo) and an EC CA
# (r||s turned into a DER ECDSA-Sig-Value); certificates and CRLs verify
# with OpenSSL; no key file exists; the engine never holds the PIN; a
# restarted signer or provd finds the key again by its URI; ca import
# adopts a key already on the token.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-hsm.XXXXXX)
at_exit rm -rf "$T"

csr() {  # csr NAME ALGO-ARGS...: key + CSR in $T
	local name=$1
	shift
	openssl req -new -newkey "$@" -nodes -keyout "$T/$name.key" -subj "/CN=$name" \
		-out "$T/$name.csr" 2>/dev/null
}
verify() {  # verify CERT: against the CA and its current CRL file
	openssl crl -inform DER -in "$SANDBOX_DIR/state/crl/ca.crl" -out "$T/crl.pem" &&
		openssl verify -CAfile "$SANDBOX_DIR/state/ca/ca.pem" -crl_check \
			-CRLfile "$T/crl.pem" "$1"
}
engine_pid() { cat "$SANDBOX_DIR/provd.pid"; }
# start_refused: provd, started, gives up (it opens its socket before it
# loads the CA, and removes it again when it refuses to start).
start_refused() {
	local i
	"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		[[ -S $SANDBOX_DIR/provd.sock ]] || return 0
		sleep 0.1
	done
	return 1
}
signer_pid() { provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p'; }

# ---- an RSA CA on the token -------------------------------------------------
sandbox_up --hsm
ok "the sandbox prints the token URI" test -n "${PKCS11_URI:-}"
PIN=$(head -n1 "$SANDBOX_DIR/hsm/token.pin")

provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001 >/dev/null
provctl user add --name 'Đặng Thị Thu Hà' --unit xa-kim-phu-tam-dao --employee-id NV0002 >/dev/null

fails "a PIN in the URI is refused" 6 provctl ca create --subject '/CN=x' --key rsa-3072 \
	--days 10 --pkcs11 "$PKCS11_URI?pin-value=1234"
lacks "the refusal does not echo the PIN" "$ERR$OUT" "1234"
fails "an unknown URI attribute is refused" 6 provctl ca create --subject '/CN=x' \
	--key rsa-3072 --days 10 --pkcs11 "pkcs11:token=provd-ca;slot-id=0;object=k"
fails "a token that is not there" 1 provctl ca create --subject '/CN=x' --key rsa-3072 \
	--days 10 --pkcs11 "pkcs11:token=no-such-token;object=k"
contains "no such token" "$ERR" "no token matches"
ok "ca create --pkcs11 (RSA-3072 on the token)" provctl -f json ca create \
	--subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key rsa-3072 --days 3650 \
	--pkcs11 "$PKCS11_URI"
contains "ca create: an RSA CA" "$OUT" '"key":"RSA-3072"'
ok "no CA key file" test ! -e "$SANDBOX_DIR/state/ca/ca.key"
eq "no private key anywhere in the sandbox's files" \
	"$(grep -rlE 'PRIVATE KEY' "$SANDBOX_DIR/state" "$SANDBOX_DIR/provd.conf" | wc -l)" 0
eq "the key is recorded by its URI" "$(cat "$SANDBOX_DIR/state/ca/ca.key.uri")" "$PKCS11_URI"
ok "self-signed CA verifies" openssl verify -CAfile "$SANDBOX_DIR/state/ca/ca.pem" \
	"$SANDBOX_DIR/state/ca/ca.pem"
ok "CA signature is sha256WithRSAEncryption" openssl x509 -in "$SANDBOX_DIR/state/ca/ca.pem" -noout -text
contains "RSA PKCS#1 v1.5 with SHA-256" "$OUT" "sha256WithRSAEncryption"
fails "a second key under the same label is refused" 4 provctl ca create --subject '/CN=x' \
	--key ec-p256 --days 10 --pkcs11 "$PKCS11_URI"

csr an ec -pkeyopt ec_paramgen_curve:P-256
ok "cert issue by the token key" provctl cert issue annv --csr "$T/an.csr"
printf '%s\n' "$OUT" >"$T/an.pem"
ok "issued certificate verifies with the CRL" verify "$T/an.pem"
serial=$(openssl x509 -in "$T/an.pem" -noout -serial | cut -d= -f2)
ok "revoke" provctl cert revoke "$serial" --reason keyCompromise
fails "revoked certificate fails verify" 2 verify "$T/an.pem"
contains "openssl: certificate revoked" "$ERR$OUT" "certificate revoked"
ok "crl show" provctl crl show
printf '%s\n' "$OUT" >"$T/shown.pem"
ok "the published CRL's signature verifies" openssl crl -in "$T/shown.pem" -noout \
	-CAfile "$SANDBOX_DIR/state/ca/ca.pem"
contains "openssl: CRL signature ok" "$ERR$OUT" "verify OK"

ok "the signer holds the PIN's login" test -n "$(signer_pid)"
ok "the memory scan finds what the engine does hold (the URI)" proc_holds_hex "$(engine_pid)" \
	"$(hex_of "$PKCS11_URI")"
fails "the engine's memory never held the PIN" 1 proc_holds_hex "$(engine_pid)" "$(hex_of "$PIN")"

# A killed signer is replaced and logs in again from the PIN file.
kill -9 "$(signer_pid)"
csr ha rsa:3072
ok "issue after the signer was killed" provctl cert issue hadtt --csr "$T/ha.csr"
printf '%s\n' "$OUT" >"$T/ha.pem"
ok "that certificate verifies too" verify "$T/ha.pem"

# provd restarted: the CA comes back from ca.key.uri.
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
chmod 644 "$SANDBOX_DIR/hsm/token.pin"
ok "a PIN file others can read is refused" start_refused
contains "refused for its mode" "$(tail -n 5 "$SANDBOX_DIR/provd.log")" "PIN file"
chmod 600 "$SANDBOX_DIR/hsm/token.pin"
cp "$SANDBOX_DIR/hsm/token.pin" "$T/pin"
printf 'wrong-pin\n' >"$SANDBOX_DIR/hsm/token.pin"
ok "a wrong PIN stops the start" start_refused
contains "the log says why" "$(tail -n 5 "$SANDBOX_DIR/provd.log")" "wrong PIN"
lacks "the log does not show the PIN" "$(cat "$SANDBOX_DIR/provd.log")" "wrong-pin"
cat "$T/pin" >"$SANDBOX_DIR/hsm/token.pin"
ok "start provd again" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "ca show after restart" provctl -f json ca show
contains "the token CA is back" "$OUT" '"key":"RSA-3072"'
ok "crl publish after restart" provctl crl publish
csr kim ec -pkeyopt ec_paramgen_curve:P-384
ok "issue after restart" provctl cert issue annv --csr "$T/kim.csr"
printf '%s\n' "$OUT" >"$T/kim.pem"
ok "and it verifies with the new CRL" verify "$T/kim.pem"
fails "the revoked one still fails" 2 verify "$T/an.pem"
cp "$SANDBOX_DIR/state/ca/ca.pem" "$T/rsa-ca.pem"

# ---- an EC CA on another token, then ca import of that key ------------------
sandbox_up --hsm
provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001 >/dev/null
ok "ca create --pkcs11 (EC P-384 on the token)" provctl -f json ca create \
	--subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA P-384' --key ec-p384 \
	--days 3650 --pkcs11 "$PKCS11_URI"
contains "an EC CA" "$OUT" '"key":"EC P-384"'
ok "CA signature is ecdsa-with-SHA384" openssl x509 -in "$SANDBOX_DIR/state/ca/ca.pem" -noout -text
contains "ECDSA with SHA-384" "$OUT" "ecdsa-with-SHA384"
csr an2 rsa:3072
ok "cert issue by the EC token key" provctl cert issue annv --csr "$T/an2.csr"
printf '%s\n' "$OUT" >"$T/an2.pem"
ok "EC-signed certificate verifies with the CRL" verify "$T/an2.pem"
serial=$(openssl x509 -in "$T/an2.pem" -noout -serial | cut -d= -f2)
ok "revoke (EC CA)" provctl cert revoke "$serial" --reason superseded
fails "revoked under the EC CA" 2 verify "$T/an2.pem"
ok "no CA key file (EC)" test ! -e "$SANDBOX_DIR/state/ca/ca.key"

# ca import --pkcs11: the same token key, adopted again by a provd without a CA.
ok "stop provd (EC)" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
mv "$SANDBOX_DIR/state/ca/ca.pem" "$T/ec-ca.pem"
rm "$SANDBOX_DIR/state/ca/ca.key.uri"
ok "start provd without a CA" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
fails "import: --key and --pkcs11 together" 2 provctl ca import --cert "$T/ec-ca.pem" \
	--key /nonexistent --pkcs11 "$PKCS11_URI"
fails "import: a certificate of another key" 6 provctl ca import --cert "$T/rsa-ca.pem" \
	--pkcs11 "$PKCS11_URI"
contains "key and certificate do not match" "$ERR" "do not match"
ok "import: no URI recorded after a mismatch" test ! -e "$SANDBOX_DIR/state/ca/ca.key.uri"
fails "import: no such object" 6 provctl ca import --cert "$T/ec-ca.pem" \
	--pkcs11 "pkcs11:token=provd-ca;object=other"
ok "ca import --pkcs11" provctl -f json ca import --cert "$T/ec-ca.pem" --pkcs11 "$PKCS11_URI"
contains "imported CA" "$OUT" '"key":"EC P-384"'
eq "the import recorded the URI" "$(cat "$SANDBOX_DIR/state/ca/ca.key.uri")" "$PKCS11_URI"
csr an3 ec -pkeyopt ec_paramgen_curve:P-256
ok "issue after import" provctl cert issue annv --csr "$T/an3.csr"
printf '%s\n' "$OUT" >"$T/an3.pem"
ok "verifies under the imported CA" verify "$T/an3.pem"
fails "the earlier revocation still holds" 2 verify "$T/an2.pem"

done_testing
