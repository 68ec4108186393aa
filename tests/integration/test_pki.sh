#!/usr/bin/env bash
# The certificate office, checked by OpenSSL itself: CA, issuance by profile,
# records, revocation reasons, hold/release, CRLs, index.txt for OCSP,
# refusals, CRL-number compare-and-swap across two provd instances, and the
# CA key seen only by the signer process.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-pki.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CA_PEM=$SANDBOX_DIR/state/ca/ca.pem
CRL_DER=$SANDBOX_DIR/state/crl/ca.crl
count_certs() {
	ldap_root -b "ou=certificates,ou=pki,$LDAP_BASE" -s one '(objectClass=provdCertificate)' 1.1 | grep -c '^dn:'
}
verify() {  # verify CERT: openssl verify against the CA and the current CRL file
	openssl crl -inform DER -in "$CRL_DER" -out "$T/crl.pem" &&
		openssl verify -CAfile "$CA_PEM" -crl_check -CRLfile "$T/crl.pem" "$1"
}
csr() {  # csr NAME ALGO-ARGS...: key + CSR in $T
	local name=$1
	shift
	openssl req -new -newkey "$@" -nodes -keyout "$T/$name.key" -subj "/CN=ignored $name" \
		-out "$T/$name.csr" 2>/dev/null
}

ok "staff for the certificates" provctl -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "a second person" provctl -f json user add --name 'Đặng Thị Thu Hà' --unit xa-kim-phu-tam-dao --employee-id NV0002

fails "no CA yet" 3 provctl ca show
fails "cert issue before a CA" 3 provctl cert issue annv --csr /dev/null
fails "ca create: bad key type" 6 provctl ca create --subject '/CN=x' --key rsa-1024 --days 10
ok "ca create" provctl -f json ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p256 --days 3650
contains "ca create: subject in UTF-8" "$OUT" 'UBND tỉnh Vĩnh Phúc'
fails "a second CA is refused" 4 provctl ca create --subject '/CN=Other' --key ec-p256 --days 10
ok "ca show" provctl -f json ca show
contains "ca show: key" "$OUT" '"key":"EC P-256"'
contains "ca show: next CRL number" "$OUT" '"next_crl_number":"2"'
eq "cACertificate;binary published" \
	"$(ldap_root -b "ou=pki,$LDAP_BASE" '(objectClass=pkiCA)' 'cACertificate;binary' | grep -c '^cACertificate;binary::')" 1
ok "the CA certificate is a CA" openssl x509 -in "$CA_PEM" -noout -ext basicConstraints
contains "CA:TRUE" "$OUT" "CA:TRUE"

# Issue: the subject and SAN come from the directory, not the CSR.
csr an ec -pkeyopt ec_paramgen_curve:P-256
ok "cert issue" provctl cert issue annv --csr "$T/an.csr"
printf '%s\n' "$OUT" >"$T/an.pem"
ok "fresh certificate verifies with the CRL" verify "$T/an.pem"
ok "subject from the directory" openssl x509 -in "$T/an.pem" -noout -subject -nameopt utf8,sep_comma_plus
contains "CN is the full name in UTF-8" "$OUT" "CN=Nguyễn Văn An"
contains "OU is the unit name" "$OUT" "OU=Sở Tài chính"
lacks "the CSR's subject is ignored" "$OUT" "ignored"
ok "SAN email" openssl x509 -in "$T/an.pem" -noout -ext subjectAltName
contains "SAN is the account's mail" "$OUT" "email:annv@vinhphuc.gov.vn"
ok "EKU" openssl x509 -in "$T/an.pem" -noout -ext extendedKeyUsage
contains "staff-email has emailProtection" "$OUT" "E-mail Protection"
serial=$(openssl x509 -in "$T/an.pem" -noout -serial | cut -d= -f2)
eq "serial is 20 bytes" "${#serial}" 40
eq "userCertificate on the account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" uid=annv 'userCertificate;binary' | grep -c '^userCertificate;binary::')" 1
ok "cert show (upper-case with colons)" provctl -f json cert show "$(echo "$serial" | sed 's/../&:/g; s/:$//')"
contains "record: status valid" "$OUT" '"status":"valid"'
contains "record: login" "$OUT" '"login":"annv"'
contains "record: profile" "$OUT" '"profile":"staff-email"'

csr ha rsa:3072
ok "staff-sign profile" provctl cert issue hadtt --csr "$T/ha.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/ha.pem"
ok "RSA staff-sign verifies" verify "$T/ha.pem"
ok "staff-sign key usage" openssl x509 -in "$T/ha.pem" -noout -ext keyUsage
contains "nonRepudiation for signing" "$OUT" "Non Repudiation"

# Refusals: nothing written.
n0=$(count_certs)
cp "$T/an.csr" "$T/bad.csr"
openssl req -in "$T/an.csr" -outform DER -out "$T/an.der"
python3 - "$T/an.der" "$T/badsig.der" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-3] ^= 0x55               # inside the signature value
open(sys.argv[2], "wb").write(bytes(d))
PY
fails "bad CSR signature" 6 provctl cert issue annv --csr "$T/badsig.der"
contains "proof of possession named" "$ERR" "possession"
openssl req -new -newkey rsa:1024 -nodes -keyout "$T/weak.key" -subj /CN=w -out "$T/weak.csr" 2>/dev/null
fails "RSA-1024 refused" 6 provctl cert issue annv --csr "$T/weak.csr"
contains "RSA-1024 reason" "$ERR" "1024"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime192v1 -nodes -keyout "$T/p192.key" \
	-subj /CN=w -out "$T/p192.csr" 2>/dev/null
fails "P-192 refused" 6 provctl cert issue annv --csr "$T/p192.csr"
head -c 100 "$T/an.der" >"$T/trunc.der"
fails "truncated DER refused" 6 provctl cert issue annv --csr "$T/trunc.der"
head -c 600 /dev/urandom >"$T/garbage"
fails "garbage refused" 6 provctl cert issue annv --csr "$T/garbage"
{ cat "$T/an.csr"; echo "junk after the request"; } >"$T/junk.csr"
fails "PEM with trailing junk refused" 6 provctl cert issue annv --csr "$T/junk.csr"
contains "trailing junk named" "$ERR" "trailing"
fails "unknown account" 3 provctl cert issue khongco --csr "$T/an.csr"
fails "unknown profile" 3 provctl cert issue annv --csr "$T/an.csr" --profile nope
ok "disable the second account" provctl user disable hadtt
fails "disabled account refused" 4 provctl cert issue hadtt --csr "$T/ha.csr"
contains "disabled named" "$ERR" "disabled"
ok "enable it again" provctl user enable hadtt
eq "nothing written by refusals" "$(count_certs)" "$n0"

# Revoke: the CRL on disk and in LDAP before the reply.
ok "revoke keyCompromise" provctl -f json cert revoke "$serial" --reason keyCompromise
contains "revoke reply" "$OUT" '"status":"revoked"'
fails "revoked certificate fails verify" 2 verify "$T/an.pem"
contains "openssl says revoked" "$ERR$OUT" "certificate revoked"
ok "CRL text" openssl crl -in "$T/crl.pem" -noout -text
contains "CRL number" "$OUT" "X509v3 CRL Number"
contains "CRL reason" "$OUT" "Key Compromise"
contains "CRL AKI" "$OUT" "Authority Key Identifier"
eq "revoked certificate left the account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" uid=annv 'userCertificate;binary' | grep -c '^userCertificate;binary::')" 0
ldap_root -b "ou=pki,$LDAP_BASE" '(objectClass=pkiCA)' 'certificateRevocationList;binary' |
	ldif_values 'certificateRevocationList' >"$T/ldapcrl.b64" 2>/dev/null
ok "CRL in LDAP equals the file" cmp <(ldap_root -b "ou=pki,$LDAP_BASE" '(objectClass=pkiCA)' \
	'certificateRevocationList;binary' | sed -n 's/^certificateRevocationList;binary:: //p' | base64 -d) "$CRL_DER"
fails "revoking twice is a conflict" 4 provctl cert revoke "$serial" --reason superseded
fails "unknown reason" 6 provctl cert revoke "$serial" --reason becauseISaidSo
fails "removeFromCRL is not a revocation" 6 provctl cert revoke "$serial" --reason removeFromCRL
fails "unknown serial" 3 provctl cert revoke 0123abcd --reason superseded
fails "malformed serial" 6 provctl cert revoke 'xyz' --reason superseded

# Hold and release; unspecified has no reason extension; invalidity date.
csr h1 ec -pkeyopt ec_paramgen_curve:P-384
ok "issue h1" provctl cert issue annv --csr "$T/h1.csr"
printf '%s\n' "$OUT" >"$T/h1.pem"
s1=$(openssl x509 -in "$T/h1.pem" -noout -serial | cut -d= -f2)
ok "hold" provctl cert revoke "$s1" --reason certificateHold
fails "held certificate fails verify" 2 verify "$T/h1.pem"
ok "release" provctl cert release "$s1"
ok "released certificate verifies again" verify "$T/h1.pem"
fails "releasing a valid certificate is a conflict" 4 provctl cert release "$s1"
ok "revoke unspecified with an invalidity date" provctl cert revoke "$s1" --reason unspecified \
	--invalidity-date 20261101000000Z
openssl crl -inform DER -in "$CRL_DER" -noout -text >"$T/crl.txt"
ok "entry present" grep -q "$s1" "$T/crl.txt"
ok "invalidity date present" grep -q "Invalidity Date" "$T/crl.txt"
n_reasons=$(grep -c "CRL Reason Code" "$T/crl.txt")
eq "unspecified carries no reason extension" "$n_reasons" 1

# CRL numbers strictly increase.
n1=$(openssl crl -inform DER -in "$CRL_DER" -noout -crlnumber | cut -d= -f2)
ok "crl publish" provctl crl publish
n2=$(openssl crl -inform DER -in "$CRL_DER" -noout -crlnumber | cut -d= -f2)
ok "CRL number increased" test $((n2)) -gt $((n1))
ok "crl show PEM" provctl crl show
contains "crl show is PEM" "$OUT" "BEGIN X509 CRL"
ok "crl show --text" provctl crl show --text
contains "crl show --text readable" "$OUT" "Revoked Certificates"

# index.txt for openssl ocsp -index.
ok "export-index" provctl cert export-index "$T/index.txt"
eq "index has every record" "$(wc -l <"$T/index.txt")" "$(count_certs)"
csr g ec -pkeyopt ec_paramgen_curve:P-256
ok "issue a good one" provctl cert issue annv --csr "$T/g.csr"
printf '%s\n' "$OUT" >"$T/g.pem"
ok "export-index again" provctl cert export-index "$T/index.txt"
ocsp_status() {  # ocsp_status CERT -> good / revoked, answered from index.txt
	local key=$SANDBOX_DIR/state/ca/ca.key
	openssl ocsp -issuer "$CA_PEM" -cert "$1" -reqout "$T/req.der" -no_nonce >/dev/null 2>&1
	# The responder needs the CA key: make a throwaway responder cert signed by a
	# copy of it (the test reads the key file as root; provd never does).
	openssl ocsp -index "$T/index.txt" -CA "$CA_PEM" -rsigner "$CA_PEM" -rkey "$key" \
		-reqin "$T/req.der" -respout "$T/resp.der" >/dev/null 2>&1
	openssl ocsp -respin "$T/resp.der" -CAfile "$CA_PEM" -issuer "$CA_PEM" -cert "$1" 2>/dev/null |
		sed -n "s|^$1: ||p"
}
eq "OCSP from index: revoked" "$(ocsp_status "$T/an.pem")" "revoked"
eq "OCSP from index: good" "$(ocsp_status "$T/g.pem")" "good"

# Accounts and certificates move together.
ok "disable puts certificates on hold" provctl -f json user disable annv --reason test
contains "disable reports the hold" "$OUT" "on hold"
fails "held by disable" 2 verify "$T/g.pem"
ok "enable releases them" provctl -f json user enable annv
ok "released by enable" verify "$T/g.pem"
ok "move revokes with affiliationChanged" provctl -f json user move annv --unit so-noi-vu
contains "move reports the revocation" "$OUT" "affiliationChanged"
fails "revoked by move" 2 verify "$T/g.pem"

# A dead signer is replaced: the next issuance still succeeds.
signer=$(provctl -f json ca show | sed -n 's/.*"signer_pid":"\([0-9]*\)".*/\1/p')
kill -9 "$signer"
csr k ec -pkeyopt ec_paramgen_curve:P-256
ok "issue after the signer was killed" provctl cert issue hadtt --csr "$T/k.csr"
new=$(provctl -f json ca show | sed -n 's/.*"signer_pid":"\([0-9]*\)".*/\1/p')
ok "a new signer process" test -n "$new" -a "$new" != "$signer"

# Two provd instances on one directory never publish the same CRL number.
P2=$T/p2
mkdir -p "$P2/state/ca" "$P2/state/crl"
cp -p "$SANDBOX_DIR/state/ca/ca.key" "$SANDBOX_DIR/state/ca/ca.pem" "$P2/state/ca/"
sed -e "s|$SANDBOX_DIR/provd.sock|$P2/provd.sock|" -e "s|$SANDBOX_DIR/state|$P2/state|g" \
	"$SANDBOX_DIR/provd.conf" >"$P2/provd.conf"
chmod 600 "$P2/provd.conf"
"$BUILD/provd" -d -c "$P2/provd.conf" 2>"$P2/provd.log" &
p2pid=$!
at_exit kill "$p2pid"
for _ in $(seq 50); do [[ -S $P2/provd.sock ]] && break; sleep 0.1; done
ok "second instance up" "$BUILD/provctl" -s "$P2/provd.sock" ping
for i in $(seq 15); do
	provctl -f tab crl publish >>"$T/n1.txt" 2>/dev/null &
	"$BUILD/provctl" -s "$P2/provd.sock" -f tab crl publish >>"$T/n2.txt" 2>/dev/null &
done
wait_jobs() { local j; for j in $(jobs -p); do [[ $j == "$p2pid" ]] || wait "$j"; done; }
wait_jobs
# Requests that arrive while one instance publishes share its next CRL, so
# one instance may answer a number twice; two instances never share one.
eq "30 concurrent publishes answered" "$(cat "$T/n1.txt" "$T/n2.txt" | grep -vc crl_number)" 30
both=$(comm -12 <(grep -v crl_number "$T/n1.txt" | sort -u) <(grep -v crl_number "$T/n2.txt" | sort -u))
eq "no CRL number published by both instances" "$both" ""
ok "both instances published" test -n "$(grep -v crl_number "$T/n2.txt")" -a -n "$(grep -v crl_number "$T/n1.txt")"

# The CA key is opened by the signer only, never by the engine.
engine=$(cat "$SANDBOX_DIR/provd.pid")
signer=$(provctl -f json ca show | sed -n 's/.*"signer_pid":"\([0-9]*\)".*/\1/p')
ok "signer is a separate process" test -n "$signer" -a "$signer" != "$engine"
lacks "engine maps no key file" "$(cat /proc/"$engine"/maps)" "ca.key"
lacks "engine holds no key fd" "$(ls -l /proc/"$engine"/fd 2>/dev/null)" "ca.key"
if command -v strace >/dev/null; then
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null 2>&1
	strace -f -qq -e trace=openat -o "$T/trace" "$BUILD/provd" -d -c "$SANDBOX_DIR/provd.conf" \
		2>"$T/strace-provd.log" &
	tracer=$!
	for _ in $(seq 100); do [[ -S $PROVD_SOCKET ]] && break; sleep 0.1; done
	ok "traced provd serves" provctl ca show
	signer=$(printf '%s' "$OUT" | sed -n 's/^signer_pid: *//p')
	engine=$(pgrep -P "$tracer" | head -1)
	kill -TERM "$engine" 2>/dev/null
	for _ in $(seq 50); do pid_gone "$engine" && break; sleep 0.1; done
	kill "$tracer" 2>/dev/null
	wait "$tracer" 2>/dev/null
	openers=$(grep 'ca\.key' "$T/trace" | awk '{print $1}' | sort -u)
	eq "only the signer opened the key" "$openers" "$signer"
fi

done_testing
