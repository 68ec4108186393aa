#!/usr/bin/env bash
# Nothing slow on the loop: while the signer is held (SIGSTOP) in the middle
# of a CA key generation, a CRL signature, OCSP responses or a rollover, provd keeps answering other
# callers, and the held request completes once the signer resumes.  A signer
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

spid=$(signer_now)
ok "the signer runs" test -n "$spid"
eq "it is the process that holds no other" "$(pgrep -P "$spid")" ""

# ca create while the signer is held: the key is generated in the signer,
# the engine answers meanwhile.
kill -STOP "$spid"
"$BUILD/provctl" ca create --subject '/CN=Async CA' --key ec-p256 --days 30 >"$T/create.out" 2>&1 &
creator=$!
sleep 0.3
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
ok "cert issue" provctl cert issue annv --csr "$T/an.csr"

# A CRL signed while the signer is held.
spid=$(signer_of_ca)
kill -STOP "$spid"
"$BUILD/provctl" crl publish >"$T/publish.out" 2>&1 &
publisher=$!
sleep 0.3
ok "ping answers while the signer holds a CRL" quick ping
ok "ca show answers too" quick ca show
kill -CONT "$spid"
wait "$publisher"
eq "crl publish ends once the signer resumes" "$?" 0
ok "the CRL verifies with the CA certificate" \
	openssl crl -inform DER -in "$CRL_DER" -CAfile "$CA_PEM" -noout

# The OCSP responses, signed in batches through the signer's queue.
spid=$(signer_of_ca)
kill -STOP "$spid"
"$BUILD/provctl" ocsp refresh >"$T/refresh.out" 2>&1 &
refresher=$!
sleep 0.3
ok "ping answers while the signer holds the OCSP responses" quick ping
kill -CONT "$spid"
wait "$refresher"
eq "ocsp refresh ends once the signer resumes" "$?" 0

# ca rollover: the old CA's last CRL goes out first, then the signer makes
# the new key (seconds for RSA-4096); the signer is held once that CRL is on
# disk, so in the middle of the key generation, and the engine answers.
crlnum() { openssl crl -inform DER -in "$CRL_DER" -noout -crlnumber | sed 's/.*=//'; }
n0=$(crlnum)
spid=$(signer_of_ca)     # the main signer makes the new key
"$BUILD/provctl" ca rollover --subject '/CN=Async CA G2' --key rsa-4096 --days 30 \
	>"$T/roll.out" 2>&1 &
roller=$!
for ((i = 0; i < 200; i++)); do
	[[ $(crlnum) != "$n0" ]] && break
	sleep 0.05
done
kill -STOP "$spid"
sleep 0.3
ok "ping answers while the signer makes the rollover's key" quick ping
kill -CONT "$spid"
wait "$roller"
eq "ca rollover ends once the signer resumes" "$?" 0
ok "ca show after the rollover" provctl ca show
contains "the new CA is current" "$OUT" "Async CA G2"

# A signer that dies between requests is replaced.
spid=$(signer_of_ca)
kill -KILL "$spid"
ok "the dead signer is replaced" within 5 bash -c \
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
sleep 1.5       # the socket closes at once; the supervision tick is 1 s
ok "ping answers while the launcher is held" quick ping
ok "status answers too" quick status
contains "status says the signer is restarting" "$OUT" "restarting"
"$BUILD/provctl" crl publish >"$T/publish2.out" 2>&1 &
publisher=$!
sleep 0.3
ok "ping answers while a CRL waits for the new signer" quick ping
kill -CONT "$lpid"
wait "$publisher"
eq "that crl publish ends once the new signer has the key" "$?" 0
ok "its CRL verifies with the CA certificate" \
	openssl crl -inform DER -in "$CRL_DER" -CAfile "$CA_PEM" -noout
ok "status" provctl status
contains "the signer runs again" "$OUT" "running (pid"

done_testing
