#!/usr/bin/env bash
# Server-side keys: cert issue --generate makes the key pair in
# provd-keygen (neither the engine nor the signer), and delivers key,
# certificate and chain as a PKCS#12 file (AES-256-CBC, PBKDF2 with
# HMAC-SHA-256, 600000 iterations, SHA-256 MAC; no RC2, 3DES or SHA-1)
# that OpenSSL, GnuTLS and NSS (Thunderbird's store) all import; written by
# provctl as a new 0600 file; the passphrase is generated and printed once,
# or read from standard input.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-p12.XXXXXX)
at_exit rm -rf "$T"
for tool in certtool pk12util certutil; do
	command -v "$tool" >/dev/null || skip_all "$tool is not installed (tools/install-deps)"
done

sandbox_up
CA_PEM=$SANDBOX_DIR/state/ca/ca.pem
ok "ca create" provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' \
	--key ec-p256 --days 3650
provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001 >/dev/null
provctl user add --name 'Đặng Thị Thu Hà' --unit xa-kim-phu-tam-dao --employee-id NV0002 >/dev/null


fails "--generate needs --p12" 2 provctl cert issue annv --generate
fails "--generate and --csr together" 2 provctl cert issue annv --generate --csr /dev/null \
	--p12 "$T/x.p12"
ok "no file left by a refused request" test ! -e "$T/x.p12"
fails "--key: only ec-p256 or rsa-3072" 2 provctl cert issue annv --generate --key rsa-1024 \
	--p12 "$T/y.p12"
: >"$T/exists.p12"
fails "an existing output file is not overwritten" 2 provctl cert issue annv --generate \
	--p12 "$T/exists.p12"
eq "and stays empty" "$(stat -c %s "$T/exists.p12")" 0
printf 'short\n' >"$T/short"
fails "a passphrase under 8 bytes" 2 provctl cert issue annv --generate --passphrase-stdin \
	--p12 "$T/z.p12" <"$T/short"

# ---- EC P-256, generated passphrase -------------------------------------------
ok "cert issue --generate (EC P-256, generated passphrase)" \
	provctl cert issue annv --generate --p12 "$T/an.p12"
printf '%s\n' "$OUT" >"$T/an.pem"
pass=$(printf '%s\n' "$ERR" | sed -n 's/^passphrase: //p')
eq "the passphrase is printed once, 20 characters" "${#pass}" 20
lacks "stdout is the certificate only" "$OUT" "$pass"
eq "the file is mode 0600" "$(stat -c %a "$T/an.p12")" 600
lacks "the passphrase is not in provd's log" "$(cat "$SANDBOX_DIR/provd.log")" "$pass"
ok "openssl pkcs12 -info" openssl pkcs12 -info -noout -in "$T/an.p12" -passin "pass:$pass"
info=$ERR$OUT
contains "key bag: PBES2/PBKDF2/AES-256-CBC, 600000 iterations, HMAC-SHA-256" "$info" \
	"Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256"
contains "certificates: the same" "$info" \
	"PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256"
contains "MAC: SHA-256, 600000 iterations" "$info" "MAC: sha256, Iteration 600000"
lacks "no RC2" "$info" "RC2"
lacks "no 3DES" "$info" "3DES"
lacks "no SHA-1" "$info" "sha1"
fails "a wrong passphrase is refused" any openssl pkcs12 -in "$T/an.p12" -passin pass:wrong-pass \
	-nodes -noout
ok "extract key and certificates" openssl pkcs12 -in "$T/an.p12" -passin "pass:$pass" -nodes \
	-out "$T/an.all.pem"
eq "the file holds the certificate and the CA" "$(grep -c 'BEGIN CERTIFICATE' "$T/an.all.pem")" 2
openssl pkcs12 -in "$T/an.p12" -passin "pass:$pass" -nocerts -nodes -out "$T/an.key" 2>/dev/null
openssl pkcs12 -in "$T/an.p12" -passin "pass:$pass" -clcerts -nokeys -out "$T/an.leaf.pem" 2>/dev/null
openssl pkcs12 -in "$T/an.p12" -passin "pass:$pass" -cacerts -nokeys -out "$T/an.ca.pem" 2>/dev/null
eq "the key is the certificate's" "$(openssl pkey -in "$T/an.key" -pubout | sha256sum)" \
	"$(openssl x509 -in "$T/an.pem" -noout -pubkey | sha256sum)"
eq "the certificate is the one issued" "$(openssl x509 -in "$T/an.leaf.pem" -noout -fingerprint)" \
	"$(openssl x509 -in "$T/an.pem" -noout -fingerprint)"
eq "the chain is the CA" "$(openssl x509 -in "$T/an.ca.pem" -noout -fingerprint)" \
	"$(openssl x509 -in "$CA_PEM" -noout -fingerprint)"
ok "an EC P-256 key" openssl pkey -in "$T/an.key" -noout -text
contains "P-256" "$OUT" "prime256v1"
ok "the certificate verifies" openssl verify -CAfile "$CA_PEM" "$T/an.pem"
serial=$(openssl x509 -in "$T/an.pem" -noout -serial | cut -d= -f2)
ok "cert show" provctl -f json cert show "$serial"
contains "recorded valid" "$OUT" '"status":"valid"'
contains "on annv" "$OUT" '"login":"annv"'

# Where the key never was: the engine's memory (scanned for the private
# scalar; the CA certificate it does hold is found, so the scan works).
engine=$(cat "$SANDBOX_DIR/provd.pid")
priv=$(openssl ec -in "$T/an.key" -outform DER 2>/dev/null | od -An -v -tx1 | tr -d ' \n' | cut -c15-78)
eq "the private scalar is 32 bytes" "${#priv}" 64
ok "the scan finds what the engine holds (the CA's TBSCertificate)" proc_holds_hex "$engine" \
	"$(openssl x509 -in "$CA_PEM" -outform DER | python3 -c '
import sys
d = sys.stdin.buffer.read()
i = 2 + (d[1] & 0x7f if d[1] & 0x80 else 0)       # past the outer header
n = d[i + 1]
hl, ln = (2, n) if n < 0x80 else (2 + (n & 0x7f), int.from_bytes(d[i + 2:i + 2 + (n & 0x7f)], "big"))
print(d[i:i + hl + ln].hex())')"
fails "the engine never held the private key" 1 proc_holds_hex "$engine" "$priv"
ok "the helper is gone" test -z "$(pgrep -x -P "$(<"$SANDBOX_DIR/provd.pid")" provd-keygen)"

# GnuTLS and NSS read it too.
ok "certtool --p12-info" certtool --p12-info --inder --infile "$T/an.p12" --password "$pass"
contains "GnuTLS: AES-256-CBC" "$OUT" "Cipher: AES-256-CBC"
contains "GnuTLS: friendly name" "$OUT" "Friendly name: Nguyễn Văn An"
contains "GnuTLS: the MAC is SHA-256" "$OUT" "MAC: SHA256"
mkdir "$T/nss"
ok "NSS: a new store" certutil -N -d "sql:$T/nss" --empty-password
ok "pk12util -i (Thunderbird's store)" pk12util -i "$T/an.p12" -d "sql:$T/nss" -W "$pass"
ok "NSS lists the key" certutil -K -d "sql:$T/nss"
contains "NSS: the key under the friendly name" "$OUT" "Nguyễn Văn An"
ok "NSS lists the certificate" certutil -L -d "sql:$T/nss"
contains "NSS: the certificate under the friendly name" "$OUT" "Nguyễn Văn An"

# ---- escrow (staff-email) ------------------------------------------------------------
REC=$SANDBOX_DIR/recovery
ok "cert escrow-export" provctl cert escrow-export "$serial"
printf '%s\n' "$OUT" >"$T/an.cms"
contains "a CMS in PEM" "$OUT" "BEGIN CMS"
ok "openssl cms -decrypt with the recovery key" openssl cms -decrypt -inform PEM -in "$T/an.cms" \
	-recip "$REC/recovery.pem" -inkey "$REC/recovery.key" -binary -out "$T/an.escrowed.der"
eq "the escrowed key is the certificate's" \
	"$(openssl pkey -inform DER -in "$T/an.escrowed.der" -pubout | sha256sum)" \
	"$(openssl x509 -in "$T/an.pem" -noout -pubkey | sha256sum)"
ok "AES-256-CBC content encryption" openssl cms -cmsout -print -inform PEM -in "$T/an.cms"
contains "aes-256-cbc" "$OUT" "aes-256-cbc"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other \
	-keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null
fails "another key cannot open it" any openssl cms -decrypt -inform PEM -in "$T/an.cms" \
	-recip "$T/other.pem" -inkey "$T/other.key" -binary -out "$T/nothing"
ok "the record does not expose the copy" provctl -f json cert show "$serial"
lacks "no escrow copy in cert show" "$OUT" "$(sed -n 3p "$T/an.cms")"
ok "the export is audited" provctl -f json audit show --login annv
contains "audit: escrow-export of that serial" "$OUT" "escrow-export"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj /CN=x -out "$T/csr.csr" 2>/dev/null
ok "a CSR certificate" provctl cert issue annv --csr "$T/csr.csr"
printf '%s\n' "$OUT" >"$T/csr.pem"
fails "has no escrow copy" 3 provctl cert escrow-export \
	"$(openssl x509 -in "$T/csr.pem" -noout -serial | cut -d= -f2)"
ok "staff-sign keys are never escrowed" provctl -f json cert issue annv --generate \
	--profile staff-sign --p12 "$T/sign.p12"
contains "escrow: no" "$OUT" '"escrow":"no"'
fails "so no copy to export" 3 provctl cert escrow-export \
	"$(sed -n 's/.*"serial":"\([0-9a-f]*\)".*/\1/p' <<<"$OUT")"
ok "user delete --now" provctl user delete annv --now
ok "the escrow copy outlives the account" provctl cert escrow-export "$serial"
eq "the same copy" "$(printf '%s\n' "$OUT" | sha256sum)" "$(sha256sum <"$T/an.cms")"

# ---- RSA-3072, passphrase from standard input ------------------------------------
printf 'Mật khẩu của Hà 2026\n' >"$T/pass"
ok "cert issue --generate --key rsa-3072 --passphrase-stdin" \
	provctl cert issue hadtt --generate --key rsa-3072 --passphrase-stdin --p12 "$T/ha.p12" <"$T/pass"
ha_serial=$(printf '%s\n' "$OUT" | openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
lacks "a chosen passphrase is not printed" "$ERR$OUT" "passphrase:"
ok "openssl reads it with that passphrase" openssl pkcs12 -in "$T/ha.p12" \
	-passin "file:$T/pass" -nocerts -nodes -out "$T/ha.key"
ok "an RSA key" openssl pkey -in "$T/ha.key" -noout -text
contains "RSA 3072" "$OUT" "3072 bit"
ok "pk12util with the chosen passphrase" pk12util -i "$T/ha.p12" -d "sql:$T/nss" \
	-w "$T/pass"
ok "audit: the passphrase is redacted" provctl -f json audit show --login hadtt
contains "the issuance is audited" "$OUT" "passphrase-stdin"
lacks "no chosen passphrase in the audit trail" "$OUT" "Mật khẩu"

# ---- retention: a copy outlives its account, not pki.escrow_retention_days ---------
ok "user purge keeps copies of certificates that have not expired" provctl -f json user purge
ok "annv's copy (account gone) is still there" provctl cert escrow-export "$serial"
ok "so is hadtt's" provctl cert escrow-export "$ha_serial"
# hadtt's certificate as if it had expired long ago (beyond the 3650 days).
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: provdCertSerial=$ha_serial,ou=certificates,ou=pki,$LDAP_BASE
changetype: modify
replace: provdCertNotAfter
provdCertNotAfter: 20100101000000Z
EOF
ok "user purge" provctl -f json user purge
contains "one copy dropped" "$OUT" '"escrow_copies_dropped":1'
fails "the expired certificate's copy is gone" 3 provctl cert escrow-export "$ha_serial"
ok "the record itself stays" provctl -f json cert show "$ha_serial"
ok "annv's copy is kept" provctl cert escrow-export "$serial"

done_testing
