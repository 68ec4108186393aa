#!/usr/bin/env bash
# Nothing slow on the loop: while the signer is held (SIGSTOP) in the middle
# of a CA key generation, a certificate's signature (cert issue, cert renew),
# a CRL signature, OCSP responses, an OCSP "unknown" answer, a rollover or a
# retired generation's responder key,
# provd keeps answering other callers, and the held request completes once
# the signer resumes.  A signer
# that dies between requests is replaced, and the next request is signed.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-signer-async.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CA_PEM=$SANDBOX_DIR/state/ca/ca.pem
CRL_DER=$SANDBOX_DIR/state/crl/ca.crl
PID=$(<"$SANDBOX_DIR/provd.pid")
# The signer: provd's child, or the child of provd's child (the launcher,
# when provd drops its privileges).
signer_now() {
	local c g
	c=$(pgrep -P "$PID" | head -n1)
	g=$(pgrep -P "$c" | head -n1)
	printf '%s\n' "${g:-$c}"
}
signer_of_ca() {  # the current generation's
	provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' | head -n1
}
quick() { timeout 3 "$BUILD/provctl" "$@"; }
# OCSP at rest: the responder certificate made and no response waiting to be
# signed.  provd signs these through the same signer in the background (the
# responder certificate some time after ca create, a new certificate's
# response after its issue); held in the middle of that, the signer would
# hold the test's request behind it, past the signer's timeout on a loaded
# machine, and be replaced.  Waited for before each hold.
ocsp_quiet() {
	local o
	o=$("$BUILD/provctl" -f json ocsp show) &&
		[[ $o == *'"responder_serial":'* && $o == *'"pending":0'* ]]
}
# held PID WHAT CMD...: CMD runs while process PID (a signer) is stopped;
# ping answers meanwhile, and CMD ends with 0 once PID resumes.  Its
# output is left in $T/held.out.
held() {
	local pid=$1 what=$2 bg q0
	shift 2
	within 30 ocsp_quiet || diag "OCSP signing still under way after 30 s"
	kill -STOP "$pid"
	q0=$(queued_bytes "$pid")
	"$@" >"$T/held.out" 2>&1 &
	bg=$!
	ok "$what: the request waits at the held signer" within 30 queued_at "$pid" "$q0"
	ok "ping answers while the signer holds $what" quick ping
	kill -CONT "$pid"
	wait "$bg"
	eq "$what: ends once the signer resumes" "$?" 0
}

spid=$(signer_now)
ok "the signer runs" test -n "$spid"
eq "it is the process that holds no other" "$(pgrep -P "$spid")" ""

# ca create while the signer is held: the key is generated in the signer,
# the engine answers meanwhile.
kill -STOP "$spid"
q0=$(queued_bytes "$spid")
"$BUILD/provctl" ca create --subject '/CN=Async CA' --key ec-p256 --days 30 >"$T/create.out" 2>&1 &
creator=$!
ok "the key request waits at the held signer" within 30 queued_at "$spid" "$q0"
ok "ping answers while the signer generates the CA key" quick ping
ok "user list answers too" quick user list
fails "a second ca create waits its turn (refused, not queued)" 4 quick ca create \
	--subject '/CN=Other' --key ec-p256 --days 30
kill -CONT "$spid"
wait "$creator"
eq "ca create ends once the signer resumes" "$?" 0
ok "ca show" provctl ca show
contains "the new CA is loaded" "$OUT" "Async CA"

# A certificate, so that there are OCSP responses to sign.
ok "a person" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/an.key" \
	-subj "/CN=an" -out "$T/an.csr" 2>/dev/null
# The certificate is signed while the signer is held: the issuance goes on
# from the signer's answer.
spid=$(signer_of_ca)
held "$spid" "a certificate" "$BUILD/provctl" -f json cert issue annv --csr "$T/an.csr"
an=$(sed -n 's/.*"serial":"\([0-9A-Fa-f]*\)".*/\1/p' "$T/held.out" | head -n1)
ok "it names its serial" test -n "$an"
ok "cert show" provctl cert show "$an"
contains "the certificate is on record, valid" "$OUT" "valid"
# Renewal takes the same path.
held "$spid" "a renewal" "$BUILD/provctl" -f json cert renew "$an"
an2=$(sed -n 's/.*"serial":"\([0-9A-Fa-f]*\)".*/\1/p' "$T/held.out" | head -n1)
ok "the successor is on record" provctl cert show "$an2"
contains "it is annv's" "$OUT" "annv"
# A client that goes away while its certificate is being signed: the
# issuance still completes, and provd keeps serving.
new_csr() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
}
ncerts() { "$BUILD/provctl" -f tab -o serial cert list --login annv | grep -c .; }
n0=$(ncerts)
new_csr gone
within 30 ocsp_quiet || diag "OCSP signing still under way after 30 s"
kill -STOP "$spid"
q0=$(queued_bytes "$spid")
"$BUILD/provctl" cert issue annv --csr "$T/gone.csr" >/dev/null 2>&1 &
gone=$!
ok "the certificate waits at the held signer" within 30 queued_at "$spid" "$q0"
kill -KILL "$gone"
wait "$gone" 2>/dev/null
kill -CONT "$spid"
ok "ping after a client left in the middle of an issuance" quick ping
ok "its certificate was issued all the same" within 30 bash -c \
	'[[ $("$1" -f tab -o serial cert list --login annv | grep -c .) == "$2" ]]' \
	_ "$BUILD/provctl" "$((n0 + 1))"
# A signer that dies with a certificate in its queue: it is replaced and
# the certificate sent again, once.
new_csr dies
within 30 ocsp_quiet || diag "OCSP signing still under way after 30 s"
kill -STOP "$spid"
q0=$(queued_bytes "$spid")
"$BUILD/provctl" cert issue annv --csr "$T/dies.csr" >"$T/dies.out" 2>&1 &
issuer=$!
ok "a certificate waits at the held signer" within 30 queued_at "$spid" "$q0"
kill -KILL "$spid"
wait "$issuer"
eq "cert issue survives the signer's death" "$?" 0
contains "provd restarted it for the certificate" "$(<"$SANDBOX_DIR/provd.log")" \
	"signer failed on a certificate"

# A CRL signed while the signer is held.
spid=$(signer_of_ca)
held "$spid" "a CRL" "$BUILD/provctl" crl publish
ok "the CRL verifies with the CA certificate" \
	openssl crl -inform DER -in "$CRL_DER" -CAfile "$CA_PEM" -noout

# The OCSP responses, signed in batches through the signer's queue.
held "$spid" "the OCSP responses" "$BUILD/provctl" ocsp refresh

# A serial provd never issued: provd-ocsp asks provd for an "unknown"
# answer, which the signer signs through its queue.  Held, provd-ocsp gives
# up after a second (unauthorized) and closes its connection; the answer
# that comes later is dropped, and the next question is answered.
unknown() {
	openssl ocsp -url "$OCSP_URL" -issuer "$CA_PEM" -CAfile "$CA_PEM" -serial "$1" 2>&1
}
spid=$(signer_of_ca)
within 30 ocsp_quiet || diag "OCSP signing still under way after 30 s"
kill -STOP "$spid"
q0=$(queued_bytes "$spid")
unknown 0x1234567890 >"$T/unknown.out" &
asker=$!
ok "the unknown answer waits at the held signer" within 30 queued_at "$spid" "$q0"
ok "ping answers while the signer holds an unknown answer" quick ping
wait "$asker"
ok "and still after provd-ocsp gave up on it" quick ping
contains "provd-ocsp answered meanwhile: unauthorized" "$(<"$T/unknown.out")" "unauthorized"
kill -CONT "$spid"
ok "ping after the signer resumes" quick ping
ok "an unknown serial once the signer resumes" unknown 0x1234567891
contains "answered: unknown" "$OUT" "0x1234567891: unknown"
contains "answered: signed by the responder" "$OUT$ERR" "Response verify OK"

# ca rollover: the old CA's last CRL goes out first, then the signer makes
# the new key (seconds for RSA-4096); the signer is held once that CRL is on
# disk, so in the middle of the key generation, and the engine answers.
spid=$(signer_of_ca)     # the main signer makes the new key
within 30 ocsp_quiet || diag "OCSP signing still under way after 30 s"
replace_mark "$CRL_DER"
"$BUILD/provctl" ca rollover --subject '/CN=Async CA G2' --key rsa-4096 --days 30 \
	>"$T/roll.out" 2>&1 &
roller=$!
stop_when_replaced "$CRL_DER" "$spid"
sleep 0.3
ok "ping answers while the signer makes the rollover's key" quick ping
ok "... before the rollover has returned" kill -0 "$roller"
kill -CONT "$spid"
wait "$roller"
eq "ca rollover ends once the signer resumes" "$?" 0
ok "ca show after the rollover" provctl ca show
contains "the new CA is current" "$OUT" "Async CA G2"

# The retired generation's OCSP responses are signed by its own signer,
# through that signer's queue: held, the engine answers meanwhile.
ok "ocsp refresh after the rollover" provctl ocsp refresh
rpid=$(provctl -f json ca show | grep '"role":"retired"' |
	sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' | head -n1)
ok "the retired generation has a signer of its own" test -n "$rpid" -a "$rpid" != "$(signer_of_ca)"
held "$rpid" "a retired generation's responses" "$BUILD/provctl" ocsp refresh
# ... and so is its CRL, which every publish sends after the current one.
held "$rpid" "a retired generation's CRL" "$BUILD/provctl" crl publish
ok "the retired generation's response for annv's renewed certificate" \
	openssl ocsp -respin "$SANDBOX_DIR/state/ocsp/gen-1/responses/${an2^^}" -resp_text -noverify
contains "it is good" "$OUT" "Cert Status: good"

# A retired generation's responder certificate is renewed through that
# generation's signer's queue too: held while it makes the new responder key
# (ocsp refresh --new-responder renews every generation's), the engine
# answers meanwhile.
oldrolls() { grep -c "new responder certificate of retired generation 1" "$SANDBOX_DIR/provd.log"; }
rolls0=$(oldrolls)
held "$rpid" "a retired generation's responder key" "$BUILD/provctl" ocsp refresh --new-responder
eq "the retired generation has a new responder certificate" "$(oldrolls)" "$((rolls0 + 1))"
ok "signed by the retired CA" openssl verify -CAfile "$SANDBOX_DIR/state/ca/gen-1/ca.pem" \
	-partial_chain "$SANDBOX_DIR/state/ocsp/gen-1/responder.pem"
ok "the retired generation's response verifies with it" \
	openssl ocsp -respin "$SANDBOX_DIR/state/ocsp/gen-1/responses/${an2^^}" \
	-VAfile "$SANDBOX_DIR/state/ocsp/gen-1/responder.pem" -resp_text
contains "it is good" "$OUT" "Cert Status: good"
# Its signer killed: the responses fail, the signer is replaced without
# waiting (a new key request queues behind the restart), and a new responder
# certificate follows.
kill -KILL "$rpid"
ok "ocsp refresh after the retired generation's signer died" provctl ocsp refresh
eq "the retired generation has a new responder certificate again" "$(oldrolls)" \
	"$((rolls0 + 2))"
contains "its signer was replaced" "$(<"$SANDBOX_DIR/provd.log")" \
	"retired generation 1: restarting its signer"
ok "the response verifies with the new responder certificate" \
	openssl ocsp -respin "$SANDBOX_DIR/state/ocsp/gen-1/responses/${an2^^}" \
	-VAfile "$SANDBOX_DIR/state/ocsp/gen-1/responder.pem" -resp_text

# A signer that dies between requests is replaced.
spid=$(signer_of_ca)
kill -KILL "$spid"
ok "the dead signer is replaced" within 30 bash -c \
	'p=$("$1" -f json ca show | sed -n "s/.*\"signer_pid\":\([0-9]*\).*/\1/p" | head -n1); [[ -n $p && $p != "$2" ]] && kill -0 "$p"' \
	_ "$BUILD/provctl" "$spid"
ok "crl publish after the signer died" provctl crl publish
ok "that CRL verifies too" openssl crl -inform DER -in "$CRL_DER" -CAfile "$CA_PEM" -noout
contains "provd said what happened" "$(<"$SANDBOX_DIR/provd.log")" "signer ended; starting a new one"

# The replacement itself is off the loop: with the launcher held (SIGSTOP)
# while provd asks it for a new signer, provd keeps answering, a CRL asked
# for meanwhile waits behind the restart and is signed once the new signer
# has loaded the key.
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
lpid=$(sed -n 's/.*"launcher_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
ok "the launcher is known" test "${lpid:-0}" -gt 0
eq "the signer is the launcher's child" "$(awk '/^PPid:/ {print $2}' "/proc/$spid/status")" "$lpid"
kill -STOP "$lpid"
kill -KILL "$spid"
# The socket closes at once; the supervision tick is 1 s.
ok "status says the signer is restarting" within 30 bash -c '"$1" status | grep -q restarting' \
	_ "$BUILD/provctl"
ok "ping answers while the launcher is held" quick ping
ok "status answers too" quick status
contains "status still says the signer is restarting" "$OUT" "restarting"
"$BUILD/provctl" crl publish >"$T/publish2.out" 2>&1 &
publisher=$!
sleep 0.3       # no waiting on it: the publish is held inside provd
ok "ping answers while a CRL waits for the new signer" quick ping
kill -CONT "$lpid"
wait "$publisher"
eq "that crl publish ends once the new signer has the key" "$?" 0
ok "its CRL verifies with the CA certificate" \
	openssl crl -inform DER -in "$CRL_DER" -CAfile "$CA_PEM" -noout
ok "status" provctl status
contains "the signer runs again" "$OUT" "running (pid"

# provd stops while the CRL it publishes by itself 2 s after it starts waits
# at a held signer: the signing request is dropped with the signer and what
# it held is freed (the sanitizer build reports a leak in provd.log
# otherwise, which fails this test).  The signer is held right after the
# start; should the publish have gone out before that, provd is restarted.
caught=no
for _ in 1 2 3; do
	ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
	ok "start provd" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
	ok "ca show" provctl -f json ca show
	spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
	at_exit kill -CONT "$spid"
	kill -STOP "$spid"
	# the start-up publish begins 2 s after the start (later on a loaded
	# machine: looked for, not a fixed wait) and cannot end with the signer
	# held (its timeout is 10 s); not before those 2 s, or what start-up
	# itself sends the signer (the OCSP responder's key) would do
	sleep 2.5
	within 10 queued_at "$spid" && caught=yes
	ok "provd stops with the signer held" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
	kill -CONT "$spid" 2>/dev/null || true
	[[ $caught == yes ]] && break
done
eq "the start-up CRL waited at the signer when provd stopped" "$caught" yes
ok "start provd" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"

done_testing
