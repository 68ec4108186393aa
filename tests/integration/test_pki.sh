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
fails "ca create: bad key type" 2 provctl ca create --subject '/CN=x' --key rsa-1024 --days 10
ok "ca create" provctl -f json ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p256 --days 3650
contains "ca create: subject in UTF-8" "$OUT" 'UBND tỉnh Vĩnh Phúc'
fails "a second CA is refused" 4 provctl ca create --subject '/CN=Other' --key ec-p256 --days 10
ok "ca show" provctl -f json ca show
contains "ca show: key" "$OUT" '"key":"EC P-256"'
contains "ca show: next CRL number" "$OUT" '"next_crl_number":2'
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
ok "certificatePolicies" openssl x509 -in "$T/an.pem" -noout -ext certificatePolicies
contains "policy: S/MIME BR sponsor-validated multipurpose" "$OUT" "Policy: 2.23.140.1.5.3.2"
lacks "certificatePolicies is not critical" "$OUT" "critical"
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
fails "unknown reason" 2 provctl cert revoke "$serial" --reason becauseISaidSo
fails "removeFromCRL is not a revocation" 2 provctl cert revoke "$serial" --reason removeFromCRL
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
signer=$(provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p')
kill -9 "$signer"
csr k ec -pkeyopt ec_paramgen_curve:P-256
ok "issue after the signer was killed" provctl cert issue hadtt --csr "$T/k.csr"
new=$(provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p')
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
for _ in $(seq 300); do [[ -S $P2/provd.sock ]] && break; sleep 0.1; done
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

# Pending markers: every status change marks its record (provdCertPending);
# a publish applies the marked records to the entries of the CRL this
# instance published last, then removes the markers it applied.
CERTS_DN="ou=certificates,ou=pki,$LDAP_BASE"
# shellcheck disable=SC2317 # called through ok
P2CTL() { "$BUILD/provctl" -s "$P2/provd.sock" "$@"; }
# shellcheck disable=SC2317
issue() {  # issue NAME: a new certificate for annv in $T/NAME.pem
	csr "$1" ec -pkeyopt ec_paramgen_curve:P-256
	"$BUILD/provctl" cert issue annv --csr "$T/$1.csr" >"$T/$1.pem"
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
marker() {  # marker SERIAL: the record's pending marker, "" when none
	ldap_root -b "provdCertSerial=$1,$CERTS_DN" -s base provdCertPending | ldif_values provdCertPending
}
# shellcheck disable=SC2317
is_token() { [[ $(marker "$1") =~ ^[0-9a-f]{16}$ ]]; }
# shellcheck disable=SC2317
no_markers() {
	[[ -z $(ldap_root -b "$CERTS_DN" -s one '(provdCertPending=*)' 1.1) ]]
}
# shellcheck disable=SC2317
within() {  # within SECONDS CMD...: CMD succeeds within SECONDS
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# The CRL the CA entry holds, as PEM, in $T/ldap.crl.pem.
ldap_crl() { "$BUILD/provctl" crl show >"$T/ldap.crl.pem"; }
# shellcheck disable=SC2317
verify_ldap() {  # verify CERT against the CRL in the directory
	ldap_crl && openssl verify -CAfile "$CA_PEM" -crl_check -CRLfile "$T/ldap.crl.pem" "$1"
}
last_audit() { grep ' audit: ' "$SANDBOX_DIR/provd.log" | tail -n 1; }
crl_serials() {  # serials listed in the PEM CRL $1, lower case
	openssl crl -in "$1" -noout -text | sed -n 's/^ *Serial Number: *//p' | tr 'A-F' 'a-f'
}
# shellcheck disable=SC2317
revoke_by_hand() {  # revoke_by_hand SERIAL [TOKEN]: as a writer that died before it published
	{
		printf 'dn: provdCertSerial=%s,%s\nchangetype: modify\n' "$1" "$CERTS_DN"
		printf 'replace: provdCertStatus\nprovdCertStatus: revoked\n-\n'
		printf 'replace: provdCertReason\nprovdCertReason: keyCompromise\n-\n'
		printf 'replace: provdCertRevokedAt\nprovdCertRevokedAt: %s\n-\n' "$(date -u +%Y%m%d%H%M%SZ)"
		[[ -z ${2:-} ]] || printf 'replace: provdCertPending\nprovdCertPending: %s\n-\n' "$2"
	} | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
}

ok "no marker is left by the publishes so far" within 30 no_markers
ok "crl publish (a rebuild) on instance 1" provctl crl publish

# The marker comes with the change and stays until a CRL applied it: with
# the CRL file impossible to replace, the publish stops after the directory.
ok "issue m1" issue m1
m1=$(serial_of "$T/m1.pem")
mv "$CRL_DER" "$T/crl.saved"
mkdir "$CRL_DER"
fails "revoke m1 while the CRL file cannot be written" 1 provctl cert revoke "$m1" --reason superseded
contains "the reply says so" "$ERR" "not on disk"
ok "m1 carries a marker: 16 hex digits" is_token "$m1"
rmdir "$CRL_DER"
mv "$T/crl.saved" "$CRL_DER"
ok "crl publish" provctl crl publish
ok "m1's marker is removed" within 30 no_markers
fails "m1 is on the CRL file" 2 verify "$T/m1.pem"

# A record another writer changed but never published is on the next CRL,
# though this instance builds it from its own last CRL and the markers.
ok "issue d1" issue d1
d1=$(serial_of "$T/d1.pem")
ok "issue e1" issue e1
e1=$(serial_of "$T/e1.pem")
ok "d1 verifies" verify "$T/d1.pem"
ok "d1 revoked by a writer that died before publishing" revoke_by_hand "$d1" 0123456789abcdef
ok "revoke e1 through instance 1" provctl cert revoke "$e1" --reason keyCompromise
contains "an incremental publish applied both marked records" "$(last_audit)" "2 changed)"
fails "e1 is on the CRL" 2 verify "$T/e1.pem"
fails "d1 is on the CRL too" 2 verify "$T/d1.pem"
ok "the directory's CRL" ldap_crl
contains "lists d1" "$(crl_serials "$T/ldap.crl.pem")" "$d1"
ok "d1's and e1's markers are removed" within 30 no_markers
ok "issue d2" issue d2
d2=$(serial_of "$T/d2.pem")
ok "d2 revoked by a writer that died" revoke_by_hand "$d2" fedcba9876543210
ok "crl publish" provctl crl publish
fails "d2 is on the CRL" 2 verify "$T/d2.pem"
ok "d2's marker is removed" within 30 no_markers

# A record changed by hand without a marker is seen by the next rebuild.
ok "issue h2" issue h2
h2=$(serial_of "$T/h2.pem")
ok "h2 revoked by hand, no marker" revoke_by_hand "$h2"
ok "crl publish" provctl crl publish
fails "h2 is on the CRL after crl publish" 2 verify "$T/h2.pem"

# A release after a revocation leaves the next CRL.
ok "issue r1" issue r1
r1=$(serial_of "$T/r1.pem")
ok "hold r1" provctl cert revoke "$r1" --reason certificateHold
contains "an incremental publish" "$(last_audit)" "1 changed)"
fails "r1 is held" 2 verify "$T/r1.pem"
ok "release r1" provctl cert release "$r1"
contains "an incremental publish" "$(last_audit)" "1 changed)"
ok "r1 verifies again" verify "$T/r1.pem"
lacks "r1 is not listed" "$(crl_serials "$T/crl.pem")" "$r1"
contains "d1 still is" "$(crl_serials "$T/crl.pem")" "$d1"
ok "r1's marker is removed" within 30 no_markers

# Two instances revoking in turn: each CRL lists every revocation so far.
ok "second instance still up" P2CTL ping
revoked=("$T/an.pem" "$T/h1.pem" "$T/g.pem" "$T/m1.pem" "$T/d1.pem" "$T/e1.pem" "$T/d2.pem" "$T/h2.pem")
prev=0
for i in 1 2 3 4 5 6; do
	ok "issue t$i" issue "t$i"
	if ((i % 2)); then
		ok "revoke t$i through instance 1" provctl cert revoke "$(serial_of "$T/t$i.pem")" --reason superseded
	else
		ok "revoke t$i through instance 2" P2CTL cert revoke "$(serial_of "$T/t$i.pem")" --reason superseded
	fi
	revoked+=("$T/t$i.pem")
	ok "the directory's CRL after t$i" ldap_crl
	n=$(openssl crl -in "$T/ldap.crl.pem" -noout -crlnumber | cut -d= -f2)
	ok "CRL number grew ($prev -> $n)" test $((n)) -gt $((prev))
	prev=$n
	missing=()
	for c in "${revoked[@]}"; do
		openssl verify -CAfile "$CA_PEM" -crl_check -CRLfile "$T/ldap.crl.pem" "$c" >/dev/null 2>&1 &&
			missing+=("${c##*/}")
	done
	eq "after t$i: every revocation so far is on the CRL" "${missing[*]}" ""
done
ok "r1 is not" verify_ldap "$T/r1.pem"
# ... and at the same moment, one through each.
ok "issue u1" issue u1
ok "issue u2" issue u2
provctl cert revoke "$(serial_of "$T/u1.pem")" --reason superseded >"$T/u1.out" 2>&1 &
j1=$!
P2CTL cert revoke "$(serial_of "$T/u2.pem")" --reason superseded >"$T/u2.out" 2>&1 &
j2=$!
wait "$j1"
eq "revoke u1 through instance 1, at once" "$?" 0
wait "$j2"
eq "revoke u2 through instance 2, at once" "$?" 0
fails "u1 on the directory's CRL" 2 verify_ldap "$T/u1.pem"
fails "u2 on the directory's CRL" 2 verify_ldap "$T/u2.pem"
fails "u1 on instance 1's file" 2 verify "$T/u1.pem"
ok "instance 2's file" openssl crl -inform DER -in "$P2/state/crl/ca.crl" -out "$T/p2.crl.pem"
fails "u2 on instance 2's file" 2 openssl verify -CAfile "$CA_PEM" -crl_check -CRLfile "$T/p2.crl.pem" "$T/u2.pem"
ok "every marker removed" within 30 no_markers
# A writer that died between its record write and its publish, seen by the
# other instance's next publish.
ok "issue w1" issue w1
ok "issue w2" issue w2
ok "w1 revoked by a writer that died" revoke_by_hand "$(serial_of "$T/w1.pem")" abcdefabcdefabcd
ok "revoke w2 through instance 2" P2CTL cert revoke "$(serial_of "$T/w2.pem")" --reason superseded
fails "w1 on the CRL" 2 verify_ldap "$T/w1.pem"
fails "w2 on the CRL" 2 verify_ldap "$T/w2.pem"
ok "no marker left" within 30 no_markers
kill -TERM "$p2pid"
for _ in $(seq 300); do pid_gone "$p2pid" && break; sleep 0.1; done
ok "instance 2 stops on SIGTERM" pid_gone "$p2pid"
lacks "instance 2: no sanitizer report" "$(cat "$P2/provd.log")" "Sanitizer"
lacks "instance 2: no runtime error" "$(cat "$P2/provd.log")" "runtime error"

# The CA key is opened by the signer only, never by the engine.
engine=$(cat "$SANDBOX_DIR/provd.pid")
signer=$(provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p')
ok "signer is a separate process" test -n "$signer" -a "$signer" != "$engine"
lacks "engine maps no key file" "$(cat /proc/"$engine"/maps)" "ca.key"
lacks "engine holds no key fd" "$(ls -l /proc/"$engine"/fd 2>/dev/null)" "ca.key"
if command -v strace >/dev/null; then
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null 2>&1
	strace -f -qq -e trace=openat -o "$T/trace" "$BUILD/provd" -d -c "$SANDBOX_DIR/provd.conf" \
		2>"$T/strace-provd.log" &
	tracer=$!
	for _ in $(seq 300); do [[ -S $PROVD_SOCKET ]] && break; sleep 0.1; done
	ok "traced provd serves" provctl ca show
	signer=$(printf '%s' "$OUT" | sed -n 's/^signer_pid: *//p')
	engine=$(pgrep -P "$tracer" | head -1)
	kill -TERM "$engine" 2>/dev/null
	for _ in $(seq 300); do pid_gone "$engine" && break; sleep 0.1; done
	kill "$tracer" 2>/dev/null
	wait "$tracer" 2>/dev/null
	openers=$(grep 'ca\.key' "$T/trace" | awk '{print $1}' | sort -u)
	eq "only the signer opened the key" "$openers" "$signer"
fi

done_testing
