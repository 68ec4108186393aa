#!/usr/bin/env bash
# The OCSP responder, asked by OpenSSL (POST, and GET through curl) and by
# GnuTLS ocsptool: good, on hold, released, revoked with its reason, a serial
# never issued, a malformed request, another CA's certificate; the answer
# changes before `cert revoke` returns (and within a second); the delegated
# responder certificate verifies, is not the CA key, and is replaced without
# a moment in which a response fails to verify; provd-ocsp runs confined.
# (a one-second bound: runs with no other test beside it)
# itest: alone
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-ocsp.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CA_PEM=$SANDBOX_DIR/state/ca/ca.pem
OCSP_DIR=$SANDBOX_DIR/state/ocsp
contains "the sandbox names the responder" "$OCSP_URL" "http://127.0.0.1:"

csr() {  # csr NAME ALGO-ARGS...: key + CSR in $T
	local name=$1
	shift
	openssl req -new -newkey "$@" -nodes -keyout "$T/$name.key" -subj "/CN=x" \
		-out "$T/$name.csr" 2>/dev/null
}
# ask CERT: openssl ocsp POST to the URL the certificate carries, verified
# against the CA.
ask() {
	local url
	url=$(openssl x509 -in "$1" -noout -ocsp_uri) || return 1
	openssl ocsp -url "$url" -issuer "$CA_PEM" -CAfile "$CA_PEM" -cert "$1" 2>&1
}
# ask_get CERT: RFC 5019 GET with curl, then OpenSSL reads and verifies it.
ask_get() {
	local b64
	openssl ocsp -issuer "$CA_PEM" -cert "$1" -no_nonce -reqout "$T/get.req" || return 1
	b64=$(base64 -w0 "$T/get.req" | python3 -c \
		'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')
	curl -sf -o "$T/get.resp" "$OCSP_URL/$b64" || return 1
	openssl ocsp -respin "$T/get.resp" -issuer "$CA_PEM" -CAfile "$CA_PEM" -cert "$1" 2>&1
}
gnutls_ask() {
	ocsptool --ask="$OCSP_URL" --load-issuer="$CA_PEM" --load-cert="$1" \
		--load-trust="$CA_PEM" 2>&1
}
status_of() {  # the "FILE: status" line of openssl ocsp
	ask "$1" | sed -n "s|^$1: ||p"
}

ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "staff 2" provctl user add --name 'Đặng Thị Thu Hà' --unit so-tai-chinh --employee-id NV0002
ok "ca create" provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' \
	--key ec-p256 --days 3650
csr an ec -pkeyopt ec_paramgen_curve:P-256
ok "issue EC" provctl cert issue annv --csr "$T/an.csr"
printf '%s\n' "$OUT" >"$T/an.pem"
csr ha rsa:2048
ok "issue RSA staff-sign" provctl cert issue hadtt --csr "$T/ha.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/ha.pem"
eq "AIA OCSP is the sandbox responder" "$(openssl x509 -in "$T/an.pem" -noout -ocsp_uri)" "$OCSP_URL"

# The responder certificate.
for _ in $(seq 300); do [[ -s $OCSP_DIR/responder.pem ]] && break; sleep 0.1; done
R=$OCSP_DIR/responder.pem
ok "responder certificate verifies under the CA" openssl verify -CAfile "$CA_PEM" -purpose ocsphelper "$R"
ok "responder extensions" openssl x509 -in "$R" -noout -ext extendedKeyUsage,noCheck,basicConstraints,keyUsage
contains "id-kp-OCSPSigning" "$OUT" "OCSP Signing"
contains "id-pkix-ocsp-nocheck" "$OUT" "OCSP No Check"
contains "not a CA" "$OUT" "CA:FALSE"
lacks "signs nothing else" "$OUT" "Certificate Sign"
ok "responder validity" openssl x509 -in "$R" -noout -startdate -enddate
days=$(( ($(date -d "$(openssl x509 -in "$R" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
eq "short validity (7 days by default)" "$((days <= 7))" 1
lacks "the responder key is not the CA key" "$(openssl x509 -in "$R" -noout -pubkey)" \
	"$(openssl x509 -in "$CA_PEM" -noout -pubkey | sed -n 2p)"
ok "ocsp show" provctl -f json ocsp show
contains "ocsp show: responses" "$OUT" '"responses":2'

# Good, over POST (OpenSSL), GET (curl) and GnuTLS.
ok "POST good" ask "$T/an.pem"
contains "POST: response verifies" "$OUT" "Response verify OK"
contains "POST: good" "$OUT" "$T/an.pem: good"
ok "POST good (RSA)" ask "$T/ha.pem"
contains "POST: RSA good" "$OUT" "$T/ha.pem: good"
ok "GET good" ask_get "$T/an.pem"
contains "GET: verifies" "$OUT" "Response verify OK"
contains "GET: good" "$OUT" "$T/an.pem: good"
ok "GnuTLS good" gnutls_ask "$T/an.pem"
contains "GnuTLS: good" "$OUT" "Certificate Status: good"
contains "GnuTLS: verifies" "$OUT" "Verifying OCSP Response: Success"
# Nonces are ignored (RFC 8954 §2.1): the response is signed before anyone
# asks.  OpenSSL warns and accepts; ocsptool --nonce insists on one.
ok "OpenSSL with a nonce" ask "$T/an.pem"
contains "OpenSSL: no nonce in the answer, accepted" "$OUT" "WARNING: no nonce in response"
fails "GnuTLS with --nonce wants it echoed" 1 ocsptool --ask="$OCSP_URL" --load-issuer="$CA_PEM" \
	--load-cert="$T/an.pem" --load-trust="$CA_PEM" --nonce
contains "GnuTLS: the nonce is what it misses" "$OUT$ERR" "nonce"

serial=$(openssl x509 -in "$T/an.pem" -noout -serial | cut -d= -f2)
ok "hold" provctl cert revoke "$serial" --reason certificateHold
ok "on hold" ask "$T/an.pem"
contains "hold: revoked" "$OUT" "$T/an.pem: revoked"
contains "hold: reason certificateHold" "$OUT" "Reason: certificateHold"
ok "GnuTLS on hold" gnutls_ask "$T/an.pem"
contains "GnuTLS: revoked" "$OUT" "Certificate Status: revoked"
ok "release" provctl cert release "$serial"
eq "released: good again" "$(status_of "$T/an.pem")" good
ok "GET released" ask_get "$T/an.pem"
contains "GET released: good" "$OUT" "$T/an.pem: good"

# The answer changes before cert revoke returns: the first question after
# it is answered revoked.  The revoke itself is bounded too (1 s; 5 s in the
# sanitizer build, whose signing and copying cost 5-10 times as much).
bound=1000
[[ ${BUILD##*/} != build-san* ]] || bound=5000
t0=$(date +%s%N)
provctl cert revoke "$serial" --reason keyCompromise >/dev/null
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "answered revoked as soon as cert revoke returns" "$(status_of "$T/an.pem")" revoked
diag "cert revoke took $ms ms"
eq "cert revoke within $bound ms" "$((ms < bound))" 1
ok "revoked" ask "$T/an.pem"
contains "revoked: reason" "$OUT" "Reason: keyCompromise"
contains "revoked: verifies" "$OUT" "Response verify OK"
ok "GET revoked" ask_get "$T/an.pem"
contains "GET: revocation reason" "$OUT" "Reason: keyCompromise"
ok "GnuTLS revoked" gnutls_ask "$T/an.pem"
contains "GnuTLS revoked" "$OUT" "Certificate Status: revoked"
eq "the other certificate stays good" "$(status_of "$T/ha.pem")" good

# The account lifecycle takes the same path: disable puts the person's
# certificates on hold, enable releases them.
ok "disable the account" provctl user disable hadtt --reason 'leave'
ok "disabled: on hold" ask "$T/ha.pem"
contains "disabled: certificateHold" "$OUT" "Reason: certificateHold"
ok "enable the account" provctl user enable hadtt
eq "enabled: good again" "$(status_of "$T/ha.pem")" good

# A serial never issued, garbage, another CA.
ok "a serial never issued" openssl ocsp -url "$OCSP_URL" -issuer "$CA_PEM" -serial 0x1234567890 -CAfile "$CA_PEM"
contains "never issued: unknown" "$OUT" "0x1234567890: unknown"
contains "never issued: signed by the responder" "$OUT$ERR" "Response verify OK"
openssl ocsp -issuer "$CA_PEM" -serial 0x7766554433 -no_nonce -reqout "$T/unk.req" 2>/dev/null
ok "GET: a serial never issued" curl -sf -o "$T/unk.resp" "$OCSP_URL/$(base64 -w0 "$T/unk.req" |
	python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')"
ok "GET unknown: verifies" openssl ocsp -respin "$T/unk.resp" -issuer "$CA_PEM" -CAfile "$CA_PEM" -serial 0x7766554433
contains "GET: unknown" "$OUT" "0x7766554433: unknown"
ok "GnuTLS reads the unknown answer" ocsptool -S "$T/unk.resp" -j
contains "GnuTLS: unknown" "$OUT" "Certificate Status: unknown"
printf 'not an OCSP request' >"$T/garbage"
ok "malformed POST" curl -sf --data-binary @"$T/garbage" -H 'Content-Type: application/ocsp-request' \
	-o "$T/bad.resp" "$OCSP_URL"
ok "malformed: readable answer" bash -c 'openssl ocsp -respin "$0" -resp_text -noverify 2>&1; true' "$T/bad.resp"
contains "malformed POST: malformedRequest" "$OUT" "malformedrequest"
ok "malformed GET" curl -sf -o "$T/bad.resp" "$OCSP_URL/not%20base64!!"
ok "malformed GET: readable" bash -c 'openssl ocsp -respin "$0" -resp_text -noverify 2>&1; true' "$T/bad.resp"
contains "malformed GET: malformedRequest" "$OUT" "malformedrequest"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj /CN=Other -days 2 -out "$T/other.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/o1.key" -subj /CN=o1 \
	-CA "$T/other.pem" -CAkey "$T/other.key" -days 1 -out "$T/o1.pem" 2>/dev/null
ok "another CA's certificate" bash -c 'openssl ocsp -url "$0" -issuer "$1" -cert "$2" -CAfile "$1" 2>&1; true' \
	"$OCSP_URL" "$T/other.pem" "$T/o1.pem"
contains "another issuer: unauthorized" "$OUT" "unauthorized"
ok "GnuTLS: another issuer" bash -c 'ocsptool --ask="$0" --load-issuer="$1" --load-cert="$2" 2>&1; true' \
	"$OCSP_URL" "$T/other.pem" "$T/o1.pem"
contains "GnuTLS: another issuer refused" "$OUT" "unauthorized"
fails "PUT is not OCSP" 22 curl -sf -X PUT "$OCSP_URL"

# cert export-index writes index.txt.attr: a second valid certificate with
# the same subject must not stop openssl ocsp -index from loading it.
csr ha2 ec -pkeyopt ec_paramgen_curve:P-256
ok "a second certificate, same subject" provctl cert issue hadtt --csr "$T/ha2.csr"
printf '%s\n' "$OUT" >"$T/ha2.pem"
ok "export-index" provctl cert export-index "$T/index.txt"
eq "index.txt.attr written" "$(cat "$T/index.txt.attr")" "unique_subject = no"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rs.key" \
	-subj /CN=rs -days 1 -out "$T/rs.pem" 2>/dev/null
openssl ocsp -issuer "$CA_PEM" -cert "$T/ha2.pem" -no_nonce -reqout "$T/idx.req" 2>/dev/null
ok "openssl ocsp -index loads it" openssl ocsp -index "$T/index.txt" -CA "$CA_PEM" \
	-rsigner "$T/rs.pem" -rkey "$T/rs.key" -reqin "$T/idx.req" -respout "$T/idx.resp"
ok "and answers from it" bash -c 'openssl ocsp -respin "$0" -issuer "$1" -cert "$2" -noverify 2>&1' \
	"$T/idx.resp" "$CA_PEM" "$T/ha2.pem"
contains "index: good" "$OUT" "$T/ha2.pem: good"
rm -f "$T/index.txt.attr"
ok "without the .attr file" bash -c 'openssl ocsp -index "$0" -CA "$1" -rsigner "$2" -rkey "$3" \
	-reqin "$4" -respout "$5" 2>&1; true' "$T/index.txt" "$CA_PEM" "$T/rs.pem" "$T/rs.key" \
	"$T/idx.req" "$T/idx.resp"
diag "openssl ocsp -index without index.txt.attr: $(printf '%s' "$OUT" | head -c 200)"

# A new responder certificate while clients ask: every answer verifies.
old=$(openssl x509 -in "$R" -noout -serial)
(
	end=$(($(date +%s) + 3))
	while (($(date +%s) < end)); do
		ask "$T/ha.pem" | grep -c -e 'Response verify OK' -e "$T/ha.pem: good" >>"$T/roll.log"
	done
) &
asker=$!
sleep 1
ok "ocsp refresh --new-responder" provctl -f json ocsp refresh --new-responder
contains "refresh: every response" "$OUT" '"responses":3'
wait "$asker"
new=$(openssl x509 -in "$R" -noout -serial)
[[ $old != "$new" ]]; eq "a new responder certificate" $? 0
ok "the new responder certificate verifies" openssl verify -CAfile "$CA_PEM" -purpose ocsphelper "$R"
eq "answers asked during the change" "$(($(wc -l <"$T/roll.log") > 5))" 1
eq "every one verified and was good (no gap)" "$(sort -u "$T/roll.log")" 2
ok "after the change" ask "$T/ha.pem"
contains "signed by the new responder" "$OUT" "Response verify OK"
ok "response carries the new responder certificate" bash -c \
	'openssl ocsp -issuer "$1" -cert "$2" -url "$0" -resp_text -noverify 2>&1' "$OCSP_URL" "$CA_PEM" "$T/ha.pem"
contains "new responder in the response" "$OUT" "$(openssl x509 -in "$R" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//' | cut -c1-20)"

# A large CRL does not wait for its OCSP responses (ocsp.h): records added
# outside provd (as bench/fair's case d adds them), then `crl publish`.  It
# answers with responses still pending (counted, not timed), and a serial
# whose response is not written yet is never answered "good" meanwhile.
BIG=1500
python3 - "$T/big.ldif" "$BIG" "ou=certificates,ou=pki,$LDAP_BASE" <<'PY'
import sys, time
ldif, n, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
now = time.time()
g = lambda t: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))
with open(ldif, "w") as fl:
    for i in range(n):
        s = "7e%038x" % (i + 1)
        fl.write("dn: provdCertSerial=%s,%s\nobjectClass: provdCertificate\n"
                 "provdCertSerial: %s\nprovdCertStatus: revoked\nuid: big%06d\n"
                 "employeeNumber: BIG%07d\nmail: big%06d@vinhphuc.gov.vn\ncn: Big %d\n"
                 "departmentNumber: so-tai-chinh\nprovdCertProfile: staff-email\n"
                 "provdCertNotBefore: %s\nprovdCertNotAfter: %s\n"
                 "provdCertFingerprint: %064x\nprovdCertReason: keyCompromise\n"
                 "provdCertRevokedAt: %s\n\n"
                 % (s, base, s, i, i, i, i, g(now - 86400), g(now + 300 * 86400),
                    i + 1, g(now - 3600)))
PY
ok "records added outside provd" ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" -f "$T/big.ldif"
ok "crl publish" provctl -f json crl publish
pending=$(printf '%s' "$OUT" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ocsp_pending"])')
eq "crl publish answers before its OCSP responses are signed" "$((pending > 0))" 1
big_serial=0x7e$(printf '%038x' 1500)
ok "a listed serial while its response is pending" bash -c \
	'openssl ocsp -url "$0" -issuer "$1" -serial "$2" -CAfile "$1" 2>&1' "$OCSP_URL" "$CA_PEM" "$big_serial"
contains "answered revoked, not good" "$OUT" "$big_serial: revoked"
contains "with its reason" "$OUT" "Reason: keyCompromise"
for _ in $(seq 600); do
	OUT=$(provctl -f json ocsp show)
	[[ $OUT == *'"pending":0'* ]] && break
	sleep 0.2
done
contains "the background run ends" "$OUT" '"pending":0'
ok "its response file" test -s "$OCSP_DIR/responses/7E$(printf '%038X' 1)"
ok "a listed serial, from its file" bash -c \
	'openssl ocsp -url "$0" -issuer "$1" -serial "$2" -CAfile "$1" 2>&1' "$OCSP_URL" "$CA_PEM" 0x7e$(printf '%038x' 1)
contains "revoked" "$OUT" ": revoked"

# A restarted provd cannot have the old responder key (it lived in the
# signer's memory only): it makes a new one and signs everything again.
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
eq "provd-ocsp serves while provd is down" "$(status_of "$T/ha.pem")" good
ok "a serial never issued, provd down" bash -c 'openssl ocsp -url "$0" -issuer "$1" -serial 0x55 -CAfile "$1" 2>&1; true' \
	"$OCSP_URL" "$CA_PEM"
contains "without provd nothing signs unknown: unauthorized" "$OUT" "unauthorized"
ok "start provd" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
for _ in $(seq 300); do
	[[ $(openssl x509 -in "$R" -noout -serial) != "$new" ]] && break
	sleep 0.1
done
[[ $(openssl x509 -in "$R" -noout -serial) != "$new" ]]; eq "a new responder after restart" $? 0
eq "revoked stays revoked after restart" "$(status_of "$T/an.pem")" revoked
eq "good stays good after restart" "$(status_of "$T/ha.pem")" good

# provd-ocsp: confined to the responses, as another user when started by root.
pid=$(<"$SANDBOX_DIR/ocsp.pid")
if (($(id -u) == 0)); then
	eq "provd-ocsp runs as nobody" "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$(id -u nobody)"
	eq "provd-ocsp is chrooted to the responses" "$(readlink "/proc/$pid/root")" "$OCSP_DIR"
fi
eq "provd-ocsp holds no key file open" \
	"$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c -e '\.key' -e '/ca/')" 0
eq "responses are files provd-ocsp can only read" "$(stat -c %a "$OCSP_DIR/responses/$serial")" 644

# A full refresh removes the responses of serials no record has (on a
# worker thread), and leaves the others.
stale="$OCSP_DIR/responses/7F$(printf '%038X' 77)"
cp "$OCSP_DIR/responses/$serial" "$stale"
touch -d '-1 minute' "$stale"
ok "ocsp refresh" provctl ocsp refresh
gone=no
for _ in $(seq 1 300); do [[ -e $stale ]] || { gone=yes; break; }; sleep 0.1; done
eq "a response without a record is removed" "$gone" yes
ok "a record's response stays" test -s "$OCSP_DIR/responses/$serial"

done_testing
