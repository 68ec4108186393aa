#!/usr/bin/env bash
# test_keyunique — one key, one person.  A key certified for one account is
# refused for another (4), in either EC point form and with parallel
# requests; the same person may renew with it.  keyCompromise revokes every
# certificate that carries the key, in the same CRL, and the key is refused
# from then on.  Records made before provdCertKeyHash existed gain it when
# provd connects to the directory.
. "$(dirname "$0")/../lib.sh"

sandbox_up
T=$(mktemp -d /tmp/provd-key.XXXXXX)
at_exit rm -rf "$T"
ok "ca create" provctl ca create --subject '/C=VN/O=UBND/CN=Key CA' --key ec-p256 --days 365
for p in 'Nguyễn Văn An:so-tai-chinh:K1' 'Trần Thị Bình:so-noi-vu:K2' 'Lê Văn Cường:so-y-te:K3' \
	'Phạm Thị Dung:so-y-te:K4'; do
	IFS=: read -r name unit emp <<<"$p"
	ok "user add $name" provctl user add --name "$name" --unit "$unit" --employee-id "$emp"
done
serial_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$1"; }
state() {
	provctl -f json cert show "$1" | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline()); print(r["status"], r.get("reason", "") or "-")'
}
key_hash_of() {   # the provdCertKeyHash of record SERIAL
	ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL -H "$LDAPI_URI" \
		-b "ou=certificates,ou=pki,$LDAP_BASE" "(provdCertSerial=$1)" provdCertKeyHash | sed -n 's/^provdCertKeyHash: //p'
}

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k.key" 2>/dev/null
openssl req -new -key "$T/k.key" -subj /CN=x -out "$T/k.csr"
openssl ec -in "$T/k.key" -conv_form compressed -out "$T/kc.key" 2>/dev/null
openssl req -new -key "$T/kc.key" -subj /CN=y -out "$T/kc.csr"

ok "annv: certified" provctl -f json cert issue annv --csr "$T/k.csr"
S1=$(serial_of "$OUT")
eq "the record carries the key's hash (SHA-256 of the SPKI)" "$(key_hash_of "$S1")" \
	"$(openssl pkey -in "$T/k.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)"
fails "binhtt: the same CSR is refused" 4 provctl cert issue binhtt --csr "$T/k.csr"
contains "  ... naming the holder" "$ERR" "already certified for another account (annv"
fails "binhtt: the same key, compressed point, is refused" 4 provctl cert issue binhtt --csr "$T/kc.csr"
ok "annv renews with the same key" provctl -f json cert issue annv --csr "$T/kc.csr"
S2=$(serial_of "$OUT")

# Parallel: six accounts race for one fresh key; exactly one wins.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/r.key" 2>/dev/null
openssl req -new -key "$T/r.key" -subj /CN=r -out "$T/r.csr"
pids=()
for l in binhtt cuonglv dungpt binhtt cuonglv dungpt; do
	"$BUILD/provctl" cert issue "$l" --csr "$T/r.csr" >/dev/null 2>&1 &
	pids+=($!)
done
won=0
for p in "${pids[@]}"; do wait "$p" && won=$((won + 1)); done
holders=$(ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=certificates,ou=pki,$LDAP_BASE" \
	"(provdCertKeyHash=$(openssl pkey -in "$T/r.key" -pubout -outform DER | sha256sum | cut -d' ' -f1))" uid |
	sed -n 's/^uid: //p' | sort -u | grep -c .)
eq "six parallel requests for one key: one account holds it" "$holders" 1
ok "  ... (at least one request was certified)" test "$won" -ge 1

# --- upgrade: a record without the hash gains it --------------------------------------
# An older provd wrote records without provdCertKeyHash: remove it from S1
# and S2, certify the key for binhtt meanwhile (nothing stops it then), and
# restart provd.
printf 'dn: provdCertSerial=%s,ou=certificates,ou=pki,%s\nchangetype: modify\ndelete: provdCertKeyHash\n\ndn: provdCertSerial=%s,ou=certificates,ou=pki,%s\nchangetype: modify\ndelete: provdCertKeyHash\n' \
	"$S1" "$LDAP_BASE" "$S2" "$LDAP_BASE" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
ok "a legacy duplicate: binhtt certified for the key" provctl -f json cert issue binhtt --csr "$T/k.csr"
S3=$(serial_of "$OUT")
ok "restart provd" bash -c "'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR' && '$SANDBOX_TOOL' start-provd '$SANDBOX_DIR' --provd '$BUILD/provd'"
for i in $(seq 300); do [[ -n $(key_hash_of "$S1") ]] && break; sleep 0.1; done
eq "upgrade: the old record gained its key hash" "$(key_hash_of "$S1")" "$(key_hash_of "$S3")"
eq "upgrade: so did the renewal" "$(key_hash_of "$S2")" "$(key_hash_of "$S3")"

# --- keyCompromise: every certificate with the key, one CRL ----------------------------
ok "annv's first certificate revoked for keyCompromise" provctl -f json cert revoke "$S1" --reason keyCompromise
contains "  ... the reply names the others" "$OUT" "\"serial\":\"$S3\""
crlnum=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["crl_number"])' <<<"$OUT")
for s in "$S1" "$S2" "$S3"; do
	eq "$s: revoked keyCompromise" "$(state "$s")" "revoked keyCompromise"
done
provctl crl show >"$T/crl.pem"
eq "one CRL, the number the reply gave" \
	"$(openssl crl -in "$T/crl.pem" -noout -crlnumber | sed 's/crlNumber=//' |
		python3 -c 'import sys; print(int(sys.stdin.read().strip(), 16))')" "$crlnum"
text=$(openssl crl -in "$T/crl.pem" -noout -text)
for s in "$S1" "$S2" "$S3"; do
	contains "the CRL lists $s" "$text" "$(tr a-f A-F <<<"$s")"
done
eq "  ... all three for Key Compromise" "$(grep -c 'Key Compromise' <<<"$text")" 3
fails "the compromised key is refused, even for its holder" 4 provctl cert issue annv --csr "$T/k.csr"
contains "  ... saying why" "$ERR" "compromised"

done_testing
