#!/usr/bin/env bash
# test_crl_slices — a CRL rebuild over many records gives the loop back:
# the records' answers are read LOOP_SLICE_US at a time (status
# ldap_read_slices grows; it stays 0 when reading runs until the last
# entry), the CRL is sorted, encoded and its file checked off the loop,
# and a ping sent while the publish runs is answered before it ends.
. "$(dirname "$0")/../lib.sh"

N=${CRL_SLICES_RECORDS:-5000}
sandbox_up
T=$(mktemp -d /tmp/provd-slices.XXXXXX)
at_exit rm -rf "$T"
ok "ca create" provctl ca create --subject '/CN=Slices CA' --key ec-p256 --days 30

python3 "$TESTS_DIR/tools/certrecs.py" "$T/recs.ldif" "$N" "ou=certificates,ou=pki,$LDAP_BASE" \
	"Slices CA" sl 7919
ok "$N revoked records" ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" -f "$T/recs.ldif"

slices() { provctl -f json status | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ldap_read_slices"])'; }
s0=$(slices)
provctl crl publish >"$T/pub.out" 2>&1 &
pub=$!
# a ping while the publish reads, builds and signs: answered before it ends
ok "ping during the publish" provctl ping
kill -0 "$pub" 2>/dev/null && ping_first=yes || ping_first=no
wait "$pub"
eq "crl publish" "$?" 0
contains "a new CRL number" "$(<"$T/pub.out")" "crl_number:"
diag "ping answered while the publish ran: $ping_first"
# Reading gives the loop back when more answers wait than one turn takes
# (DIR_READ_TURN, or LOOP_SLICE_US).  On a machine where provd keeps up with
# slapd none ever wait, so the test makes them: provd is held for 200 ms at
# a time while slapd streams the records into the socket, and let go for
# 20 ms.  A publish reads 5000 records for longer than 20 ms, so a hold
# falls inside the stream; up to three publishes are tried.  With slicing
# removed the count stays where it was however the answers wait.
PROVD_PID=$(<"$SANDBOX_DIR/provd.pid")
at_exit kill -CONT "$PROVD_PID"
s1=$s0
for _ in 1 2 3; do
	provctl crl publish >/dev/null 2>&1 &
	pub=$!
	while kill -0 "$pub" 2>/dev/null; do
		kill -STOP "$PROVD_PID"
		sleep 0.2
		kill -CONT "$PROVD_PID"
		sleep 0.02
	done
	wait "$pub"
	s1=$(slices)
	((s1 > s0)) && break
done
(( s1 > s0 )) && grew=yes || grew=no
eq "reading $N records gave the loop back (ldap_read_slices $s0 -> $s1)" "$grew" yes
provctl crl show >"$T/crl.pem"
eq "the CRL lists $N serials" \
	"$(openssl crl -in "$T/crl.pem" -noout -text | grep -c 'Serial Number:')" "$N"

# The CRL goes to the directory without holding the loop: the signer is
# held until the signing request waits in its socket (the records are read),
# then slapd is held and the signer let go, so provd sends the CRL (larger
# than a socket buffer) to a slapd that takes none of it.  A blocking write
# would stop the loop there; ping must still be answered.
# The signer is held below: the OCSP responses the publishes above changed
# (signed through the same signer, in the background) are written first,
# or their request would time out on the held signer and it be replaced.
for _ in $(seq 600); do
	[[ $(provctl ocsp show | sed -n 's/^pending: *//p') == 0 ]] && break
	sleep 0.2
done
SLAPD_PID=$(<"$SANDBOX_DIR/slapd.pid")
spid=$(provctl -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' | head -n1)
at_exit kill -CONT "$SLAPD_PID"
at_exit kill -CONT "$spid"
kill -STOP "$spid"
provctl crl publish >"$T/pub2.out" 2>&1 &
pub=$!
within 30 queued_at "$spid" || diag "the signing request did not reach the held signer within 30 s"
kill -STOP "$SLAPD_PID"
q0=$(queued_bytes "$SLAPD_PID")
kill -CONT "$spid"
# The CRL on its way: more than 32 KiB (no other request of provd's is that
# large) waits unread at the held slapd, rather than a fixed 0.5 s a loaded
# machine can spend before the signature is back.
within 30 queued_at "$SLAPD_PID" $((q0 + 32768)) || diag "no CRL waited at the held slapd within 30 s"
t0=$(date +%s%N)
provctl ping >/dev/null 2>&1 &
pp=$!
for _ in $(seq 50); do kill -0 "$pp" 2>/dev/null || break; sleep 0.1; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$pp" 2>/dev/null
wait "$pp"
prc=$?
kill -0 "$pub" 2>/dev/null && held=yes || held=no
kill -CONT "$SLAPD_PID"
eq "ping while the CRL is sent to a held slapd" "$prc" 0
(( ms < 1000 )) && fast=yes || fast=no
eq "... answered within 1 s (${ms} ms)" "$fast" yes
eq "the publish waited for slapd" "$held" yes
wait "$pub"
eq "crl publish after slapd resumed" "$?" 0
contains "a new CRL number" "$(<"$T/pub2.out")" "crl_number:"
done_testing
