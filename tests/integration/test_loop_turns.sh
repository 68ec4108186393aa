#!/usr/bin/env bash
# test_loop_turns — publishing a CRL never holds the loop for long, however
# many certificates OCSP knows.  `status` counts the loop's turns by their
# CPU time (loop_turns_cpu: turns of at most 1, 2, 5 ... ms; CPU time, so a
# loaded machine does not move it).  With NVALID valid and NREV revoked
# records known to OCSP, two publishes must make no turn longer than
# LOOP_TURNS_BOUND_MS: applying a CRL to OCSP's set walks the whole set
# (milliseconds at 60,000), and that walk runs on a worker
# (ocsp_crl_published).
#
# The records are loaded with slapadd while slapd is stopped and provd
# keeps running (an ldapadd of 20,000 takes minutes here); `ocsp refresh`
# then reads the valid ones; the revoked ones it reads too, as revoked.
. "$(dirname "$0")/../lib.sh"

NVALID=${LOOP_TURNS_VALID:-60000}
NREV=${LOOP_TURNS_REVOKED:-5000}
N=$((NVALID + NREV))
# One of the histogram's bounds.  A sanitizer build spends 5-10 times the
# CPU on the allocation and copying a turn does (a turn of under 2 ms in
# the plain build takes 10-20 ms there): its pass keeps the check that no
# turn runs away, the plain pass holds the 2 ms.
BOUND_MS=2
[[ ${BUILD##*/} != build-san* ]] || BOUND_MS=50
BOUND_MS=${LOOP_TURNS_BOUND_MS:-$BOUND_MS}
sandbox_up
T=$(mktemp -d /tmp/provd-turns.XXXXXX)
at_exit rm -rf "$T"
ok "ca create" provctl ca create --subject '/CN=Turns CA' --key ec-p256 --days 30
# OCSP reads every record once after the CA is made, then not for hours:
# let that read end before the records arrive
refreshed() { provctl ocsp show | grep -q '^last_full_refresh:'; }
for _ in $(seq 600); do refreshed && break; sleep 0.2; done
ok "OCSP's first full read done" refreshed

python3 "$TESTS_DIR/tools/certrecs.py" "$T/recs.ldif" "$N" "ou=certificates,ou=pki,$LDAP_BASE" \
	"Turns CA" lt 104729 "$NREV"
SLAPD_PID=$(<"$SANDBOX_DIR/slapd.pid")
kill -TERM "$SLAPD_PID"
for _ in $(seq 100); do pid_gone "$SLAPD_PID" && break; sleep 0.1; done
ok "slapadd $NVALID valid and $NREV revoked records" slapadd -q -F "$SANDBOX_DIR/slapd.d" -b "$LDAP_BASE" -l "$T/recs.ldif"
ok "slapd again" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
# provd finds the directory again and checks it: the revoked records are
# not on the CRL yet
conflicts() { provctl -f json status | sed -n 's/.*"conflicts":"\([0-9]*\) .*/\1/p'; }
for _ in $(seq 300); do [[ $(conflicts) == "$NREV" ]] && break; sleep 0.2; done
eq "the check after the reconnect saw the $NREV revoked records" "$(conflicts)" "$NREV"
ok "ocsp refresh reads the $N records" provctl ocsp refresh
contains "... and signs a response for each" "$OUT" "responses:"

# "1ms:a 2ms:b 5ms:c ..." -> the turns above BOUND_MS, the longest
turns() {
	provctl -f json status | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
bound = int(sys.argv[1])
over = 0
for kv in d["loop_turns_cpu"].split():
    k, v = kv.split(":")
    if k == "more" or int(k[:-2]) > bound:
        over += int(v)
print(over, d["loop_turn_max_cpu_ms"], d["loop_turn_max_ms"], d["loop_turns_cpu"])' "$BOUND_MS"
}
pending() { provctl -f json ocsp show | sed -n 's/.*"pending":"\{0,1\}\([0-9]*\).*/\1/p' | head -n1; }
read -r over0 _ _ hist0 <<<"$(turns)"
full0=$(provctl ocsp show | sed -n 's/^last_full_refresh: *//p')
ok "crl publish ($NREV revoked, $N known to OCSP)" provctl crl publish
for _ in $(seq 600); do [[ $(pending) == 0 ]] && break; sleep 0.2; done
eq "every response written" "$(pending)" 0
ok "crl publish again" provctl crl publish
read -r over1 maxcpu maxwall hist1 <<<"$(turns)"
diag "longest turn since start: ${maxcpu} ms CPU, ${maxwall} ms wall"
diag "turns by CPU time before the publishes: $hist0"
diag "                       and after them:  $hist1"
eq "turns over ${BOUND_MS} ms CPU during two publishes ($N known to OCSP)" \
	"$((over1 - over0))" 0
eq "no full OCSP read in between" \
	"$(provctl ocsp show | sed -n 's/^last_full_refresh: *//p')" "$full0"
eq "the CRL file lists $NREV serials" \
	"$(openssl crl -inform DER -in "$SANDBOX_DIR/state/crl/ca.crl" -noout -text |
	   grep -c 'Serial Number:')" "$NREV"
done_testing
