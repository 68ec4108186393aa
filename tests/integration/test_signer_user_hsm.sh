#!/usr/bin/env bash
# A CA key on a PKCS #11 token with daemon.signer_user: the key directory
# is the signer's user's alone, so the signer writes the key's URI file
# (ca.key.uri) itself, and at a rollover the spare signer moves it to
# gen-N/ as it moves a file key; ca import --pkcs11 likewise.  The engine's uid reads neither the URI
# file's directory nor the token's PIN file; no CA key file exists.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
split_users
T=$(mktemp -d /tmp/provd-splithsm.XXXXXX)
at_exit rm -rf "$T"

csr() {  # csr NAME: an EC key and CSR in $T
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-subj /CN=x -out "$T/$1.csr" 2>/dev/null
}
signers_as() {  # signers_as USER: the launchers' children (the signers) run, all as USER
	local p=$(<"$SANDBOX_DIR/provd.pid") l kids
	kids=$(for l in $(pgrep -P "$p"); do pgrep -P "$l"; done | paste -sd,)
	[[ -n $kids && $(ps -o user= -p "$kids" | sort -u) == "$1" ]]
}
no_key_file() {  # no CA key file (ca.key, gen-N/ca.key), no PEM private key in provd's files
	[[ -z $(find "$SANDBOX_DIR" -name 'ca.key' -print -quit) ]] &&
		! grep -rqE 'PRIVATE KEY' "$SANDBOX_DIR/state" "$SANDBOX_DIR/provd.conf"
}

sandbox_up --user "$ENG" --signer-user "$CA" --hsm
S=$SANDBOX_DIR/state
KEY=$S/ca-key/ca.key
KD=${KEY%/*}
PIN_FILE=$SANDBOX_DIR/hsm/token.pin
ok "the sandbox prints the token URI" test -n "${PKCS11_URI:-}"

ok "ca create --pkcs11 with daemon.signer_user" provctl -f json ca create \
	--subject '/CN=Split Token CA' --key ec-p256 --days 30 --pkcs11 "$PKCS11_URI"
contains "an EC CA on the token" "$OUT" '"key":"EC P-256"'
eq "the signer wrote the key's URI file, 0600" "$(stat -c '%U %a' "$KEY.uri")" "$CA 600"
eq "it records the key" "$(cat "$KEY.uri")" "$PKCS11_URI"
eq "nothing else in the key directory" "$(ls -A "$KD")" "ca.key.uri"
ok "no CA key file anywhere" no_key_file
cp "$S/ca/ca.pem" "$T/g1.pem"
fails "the engine's uid cannot list the URI file's directory" any as_eng ls "$KD"
fails "the engine's uid cannot read the URI file" any as_eng cat "$KEY.uri"
fails "the engine's uid cannot read the PIN file" any as_eng cat "$PIN_FILE"
eq "the PIN file is the signer's, 0600" "$(stat -c '%U %a' "$PIN_FILE")" "$CA 600"

ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
csr a
ok "issue under the token key" provctl cert issue annv --csr "$T/a.csr"
printf '%s\n' "$OUT" >"$T/a.pem"
ok "it verifies with the CA's CRL" vcrl "$T/a.pem" "$T/g1.pem" "$S/crl/ca.crl"
ok "OCSP for it, the responder certificate issued by the token key" ocsp_ask "$T/a.pem" "$T/g1.pem"
contains "good" "$OUT" "$T/a.pem: good"
contains "verified with the CA alone" "$ERR" "Response verify OK"
csr r
ok "issue one to revoke" provctl cert issue annv --csr "$T/r.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/r.pem"
ok "revoke it" provctl cert revoke "$(sn "$T/r.pem")" --reason keyCompromise
fails "the revoked one fails openssl verify -crl_check" any vcrl "$T/r.pem" "$T/g1.pem" "$S/crl/ca.crl"
contains "as revoked" "$OUT$ERR" "certificate revoked"

# ---- ca import --pkcs11: the same token key adopted by a provd without a CA
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
mv "$S/ca/ca.pem" "$T/g1-before-import.pem"
rm "$KEY.uri"
ok "start provd without a CA" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
# A failed import leaves a keyless signer started as the first was: through
# the launcher, as the signer's user, never forked by the engine.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj '/CN=Other CA' -days 30 -out "$T/other.pem" 2>/dev/null
fails "ca import --pkcs11 with a certificate of another key" 6 provctl ca import \
	--cert "$T/other.pem" --pkcs11 "$PKCS11_URI"
contains "says so" "$ERR" "key and certificate do not match"
eq "no URI file written" "$(ls -A "$KD")" ""
ok "a new signer runs, as the signer's user" within 30 signers_as "$CA"
eq "provd forked none as the engine's user" "$(pgrep -P "$(<"$SANDBOX_DIR/provd.pid")" -u "$ENG")" ""
ok "ca import --pkcs11 with daemon.signer_user" provctl -f json ca import --cert "$T/g1.pem" \
	--pkcs11 "$PKCS11_URI"
eq "the signer recorded the URI again, 0600" "$(stat -c '%U %a' "$KEY.uri")" "$CA 600"
eq "the same URI" "$(cat "$KEY.uri")" "$PKCS11_URI"
csr i
ok "issue after the import" provctl cert issue annv --csr "$T/i.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/i.pem"
ok "it verifies, and the revocation before still holds" vcrl "$T/i.pem" "$T/g1.pem" "$S/crl/ca.crl"
fails "the revoked one still fails" any vcrl "$T/r.pem" "$T/g1.pem" "$S/crl/ca.crl"

# ---- two rollovers onto new token objects ------------------------------------
ok "ca rollover --pkcs11 with daemon.signer_user" provctl ca rollover --link \
	--subject '/CN=Split Token CA G2' --key ec-p256 --days 30 --pkcs11 "${PKCS11_URI}-g2"
cp "$S/ca/ca.pem" "$T/g2.pem"
eq "the new CA is current" "$(openssl x509 -in "$T/g2.pem" -noout -subject)" \
	"subject=CN = Split Token CA G2"
eq "the retired key's URI moved to gen-1" "$(cat "$KD/gen-1/ca.key.uri")" "$PKCS11_URI"
eq "moved by the signer's user, 0600" "$(stat -c '%U %a' "$KD/gen-1/ca.key.uri")" "$CA 600"
eq "gen-1 is the signer's, 0700" "$(stat -c '%U %a' "$KD/gen-1")" "$CA 700"
ok "the retired certificate is kept with it" cmp "$KD/gen-1/ca.pem" "$T/g1.pem"
eq "the new key's URI file" "$(cat "$KEY.uri")" "${PKCS11_URI}-g2"
eq "written by the signer's user, 0600" "$(stat -c '%U %a' "$KEY.uri")" "$CA 600"
csr b
ok "issue under generation 2" provctl cert issue annv --csr "$T/b.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/b.pem"
ok "it verifies with generation 2's CRL" vcrl "$T/b.pem" "$T/g2.pem" "$S/crl/ca.crl"
ok "and through the link certificate with generation 1" openssl verify -CAfile "$T/g1.pem" \
	-untrusted "$S/ca/ca-link-gen-1.pem" "$T/b.pem"

ok "a new spare signer comes" within 30 bash -c \
	'o=$("$1" -f json ca show); p=$(sed -n "s/.*\"spare_launcher_pid\":\([-0-9]*\).*/\1/p" <<<"$o" | head -n1); ((${p:--1} > 0))' \
	_ "$BUILD/provctl"
ok "a second ca rollover --pkcs11 in the same run" provctl ca rollover \
	--subject '/CN=Split Token CA G3' --key ec-p256 --days 30 --pkcs11 "${PKCS11_URI}-g3"
cp "$S/ca/ca.pem" "$T/g3.pem"
eq "gen-2 holds generation 2's URI" "$(cat "$KD/gen-2/ca.key.uri")" "${PKCS11_URI}-g2"
ok "and its certificate" cmp "$KD/gen-2/ca.pem" "$T/g2.pem"
eq "the current key's URI file" "$(cat "$KEY.uri")" "${PKCS11_URI}-g3"
csr c
ok "issue under generation 3" provctl cert issue annv --csr "$T/c.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/c.pem"

ok "revoke generation 1's certificate" provctl cert revoke "$(sn "$T/a.pem")" --reason superseded
ok "revoke generation 2's certificate" provctl cert revoke "$(sn "$T/b.pem")" --reason superseded
ok "crl publish (three generations)" provctl crl publish
ok "generation 3's certificate verifies with its CRL" vcrl "$T/c.pem" "$T/g3.pem" "$S/crl/ca.crl"
fails "generation 1's revoked one fails with generation 1's CRL" any \
	vcrl "$T/a.pem" "$T/g1.pem" "$S/crl/ca-gen-1.crl"
contains "as revoked" "$OUT$ERR" "certificate revoked"
fails "generation 2's revoked one fails with generation 2's CRL" any \
	vcrl "$T/b.pem" "$T/g2.pem" "$S/crl/ca-gen-2.crl"
contains "as revoked (2)" "$OUT$ERR" "certificate revoked"
ok "generation 1's CRL is signed by its token key" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/g1.pem" -noout
ok "OCSP for generation 2's certificate" ocsp_ask "$T/b.pem" "$T/g2.pem"
contains "revoked" "$OUT" "$T/b.pem: revoked"
contains "verified with generation 2 alone" "$ERR" "Response verify OK"
ok "OCSP for generation 3's certificate" ocsp_ask "$T/c.pem" "$T/g3.pem"
contains "good (3)" "$OUT" "$T/c.pem: good"

ok "still no CA key file anywhere" no_key_file
fails "the engine's uid cannot list the key directory" any as_eng ls "$KD"
fails "nor read a retired URI file" any as_eng cat "$KD/gen-1/ca.key.uri"
fails "nor the PIN file" any as_eng cat "$PIN_FILE"
PIN=$(head -n1 "$PIN_FILE")
fails "the engine's memory never held the PIN" 1 proc_holds_hex "$(<"$SANDBOX_DIR/provd.pid")" \
	"$(hex_of "$PIN")"

ok "restart" bash -c '"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "every generation is back" provctl -f json ca show
contains "generation 2 retired after restart" "$OUT" '"generation":2,"role":"retired"'
ok "crl publish after restart" provctl crl publish
ok "the retired token keys still sign their CRLs" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/g1.pem" -noout
ok "generation 2's too" openssl crl -inform DER -in "$S/crl/ca-gen-2.crl" -CAfile "$T/g2.pem" -noout
ok "and a token rollover works again after the restart" provctl ca rollover \
	--subject '/CN=Split Token CA G4' --key ec-p256 --days 30 --pkcs11 "${PKCS11_URI}-g4"
eq "gen-3 holds generation 3's URI" "$(cat "$KD/gen-3/ca.key.uri")" "${PKCS11_URI}-g3"

done_testing
