#!/usr/bin/env bash
# ca import --key with daemon.signer_user: only the signer's user may write
# the key's directory, so a refused import (the key does not match the
# certificate) has the signer remove the copy it wrote.  Nothing is left
# behind, and the import with the right key then succeeds.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
split_users

sandbox_up --user "$ENG" --signer-user "$CA"
KEY=$SANDBOX_DIR/state/ca-key/ca.key
S=$SANDBOX_DIR/state
T=$(mktemp -d /tmp/provd-splitimport.XXXXXX)
at_exit rm -rf "$T"
chmod 0755 "$T"     # the signer's user reads the officer's key files here
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/good.key" \
	-subj '/CN=Imported Split CA' -days 30 -out "$T/good.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/wrong.key" 2>/dev/null
chown "$CA" "$T/good.key" "$T/wrong.key"
chmod 0600 "$T/good.key" "$T/wrong.key"

fails "ca import with a key that does not match the certificate" 6 provctl ca import \
	--cert "$T/good.pem" --key "$T/wrong.key"
contains "says so" "$ERR" "key and certificate do not match"
ok "no copy of the refused key is left in the signer's directory" test ! -e "$KEY"
ok "nor anything else" test -z "$(ls -A "${KEY%/*}")"
fails "no CA was installed" any test -e "$S/ca/ca.pem"
fails "the same mismatch is refused again the same way" 6 provctl ca import \
	--cert "$T/good.pem" --key "$T/wrong.key"
contains "not as an existing file" "$ERR" "do not match"
ok "ca import with the right key" provctl ca import --cert "$T/good.pem" --key "$T/good.key"
eq "the key copy is the signer's, 0600" "$(stat -c '%U %a' "$KEY")" "$CA 600"
ok "the copy is the imported key" cmp <(openssl pkey -in "$KEY" -pubout) \
	<(openssl pkey -in "$T/good.key" -pubout)
ok "ca show" provctl ca show
contains "the CA is the imported one" "$OUT" "Imported Split CA"
ok "crl publish signs with the imported key" provctl crl publish
ok "the CRL verifies with the imported certificate" \
	openssl crl -inform DER -in "$S/crl/ca.crl" -CAfile "$T/good.pem" -noout
ok "provd restarts with the imported key" bash -c \
	'"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "crl publish after restart" provctl crl publish

done_testing
