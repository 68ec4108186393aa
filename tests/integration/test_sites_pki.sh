#!/usr/bin/env bash
# Two sites, one CA, one CRL sequence (the sandbox with --replicas 2, both
# provds writing to the first slapd):
#   - `ca create` on the second site refuses to replace the CA the first
#     made, and so does `ca import` of another CA; importing the same CA works;
#   - 50 + 50 revocations in parallel through the two provds: no CRL number
#     published by both, the final CRL lists all 100, the directory's
#     number is the highest;
#   - each site's CRL file follows the directory's newest CRL within
#     pki.crl_sync (1 s here), whoever published it; `ca show` gives the
#     directory's number.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 100)
T=$(mktemp -d /tmp/provd-sites-pki.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET
P2=$PROVD_SOCKET2
CA_DN="cn=Vinh Phuc Staff CA,ou=pki,$B"

ldap_ca() {  # ldap_ca ATTR: the CA entry's ATTR (base64 for binary), on slapd #1
	ldap_root -b "$CA_DN" -s base "$1" | sed -n "s/^$1:: *//p; s/^$1: *//p"
}
ldap_crl_der() {
	ldap_ca 'certificateRevocationList;binary' | base64 -d
}

ok "import 100 people through provd #1" provctl -s "$P1" -f json batch import "$STAFF" --credentials "$T/cred.csv"
tail -n +2 "$T/cred.csv" | cut -d, -f1 >"$T/logins"
eq "100 logins" "$(wc -l <"$T/logins")" 100

# --- one CA ---------------------------------------------------------------------------------------
ok "ca create on site 1" provctl -s "$P1" ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p256 --days 3650
ca1=$(ldap_ca 'cACertificate;binary')
ok "the CA certificate is in the directory" test -n "$ca1"
# shellcheck disable=SC2317
ca_on_2() { ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI2" -LLL -b "$CA_DN" -s base 1.1 >/dev/null; }
ok "replicated to slapd #2" within 30 ca_on_2
fails "ca create on site 2 is refused" 4 provctl -s "$P2" ca create --subject '/CN=Another CA' --key ec-p256 --days 10
contains "it says the directory holds a CA" "$ERR" "the directory already holds a CA certificate"
contains "and what to do" "$ERR" "ca import"
eq "the directory's CA certificate is unchanged" "$(ldap_ca 'cACertificate;binary')" "$ca1"
ok "site 2 has no CA key" test ! -e "$SANDBOX_DIR2/state/ca/ca.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj '/CN=Other CA' -days 10 -out "$T/other.pem" 2>/dev/null
fails "ca import of another CA on site 2 is refused" 4 provctl -s "$P2" ca import --cert "$T/other.pem" --key "$T/other.key"
contains "same reason" "$ERR" "the directory already holds a CA certificate"
eq "still the first CA" "$(ldap_ca 'cACertificate;binary')" "$ca1"
ok "ca import of the same CA on site 2" provctl -s "$P2" ca import --cert "$SANDBOX_DIR/state/ca/ca.pem" --key "$SANDBOX_DIR/state/ca/ca.key"
eq "still the first CA after the import" "$(ldap_ca 'cACertificate;binary')" "$ca1"

# --- 100 certificates, 50 + 50 revocations in parallel ---------------------------------------------
mkdir "$T/csr" "$T/pem"
while read -r l; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/csr/$l.key" \
		-subj "/CN=$l" -out "$T/csr/$l.csr" 2>/dev/null
done <"$T/logins"
issue_all() {  # issue_all SOCKET FILE-OF-LOGINS
	local l
	while read -r l; do
		"$BUILD/provctl" -s "$1" cert issue "$l" --csr "$T/csr/$l.csr" >"$T/pem/$l.pem" || return 1
	done <"$2"
}
head -n 50 "$T/logins" >"$T/l1"
tail -n 50 "$T/logins" >"$T/l2"
issue_all "$P1" "$T/l1" & i1=$!
issue_all "$P2" "$T/l2" & i2=$!
rc1=0 rc2=0
wait "$i1" || rc1=$?
wait "$i2" || rc2=$?
eq "50 issued through provd #1" "$rc1" 0
eq "50 issued through provd #2" "$rc2" 0
while read -r l; do
	openssl x509 -in "$T/pem/$l.pem" -noout -serial | sed 's/^serial=//'
done <"$T/logins" | tr 'a-f' 'A-F' | sort >"$T/serials"
eq "100 different serials" "$(sort -u "$T/serials" | wc -l)" 100
head -n 50 "$T/serials" >"$T/s1"
tail -n 50 "$T/serials" >"$T/s2"
revoke_all() {  # revoke_all SOCKET FILE-OF-SERIALS OUT: 4 at a time
	# shellcheck disable=SC2016 # expanded by the inner sh
	xargs -P 4 -I{} sh -c '"$0" -s "$1" -f json cert revoke "$2" --reason superseded || echo FAILED {}' \
		"$BUILD/provctl" "$1" {} <"$2" >"$3" 2>&1
}
revoke_all "$P1" "$T/s1" "$T/r1" & i1=$!
revoke_all "$P2" "$T/s2" "$T/r2" & i2=$!
wait "$i1" "$i2"
lacks "every revocation through provd #1 succeeded" "$(<"$T/r1")" FAILED
lacks "every revocation through provd #2 succeeded" "$(<"$T/r2")" FAILED
# The numbers each site published, from its audit lines ("... CRL N published").
nums() { grep 'audit: ' "$1" | grep -o 'CRL [0-9]* published' | awk '{ print $2 }' | sort -u; }
nums "$SANDBOX_DIR/provd.log" >"$T/n1"
nums "$SANDBOX_DIR2/provd.log" >"$T/n2"
ok "provd #1 reports the CRLs it published" test -s "$T/n1"
ok "provd #2 reports the CRLs it published" test -s "$T/n2"
eq "no CRL number published by both sites" "$(comm -12 "$T/n1" "$T/n2" | wc -l)" 0
top=$(sort -n "$T/n1" "$T/n2" | tail -n 1)
ok "some numbers published by each site" test "$(wc -l <"$T/n1")" -gt 5 -a "$(wc -l <"$T/n2")" -gt 5
eq "the directory's number is the highest published" "$(ldap_ca provdCrlNumber)" "$top"
ldap_crl_der >"$T/final.der"
ok "the directory's CRL parses" openssl crl -inform DER -in "$T/final.der" -noout -text
grep 'Serial Number:' <<<"$OUT" | awk '{ print $3 }' | tr 'a-f' 'A-F' | sort >"$T/listed"
eq "the final CRL lists 100" "$(wc -l <"$T/listed")" 100
eq "exactly the 100 revoked" "$(comm -3 "$T/listed" "$T/serials" | wc -l)" 0
ok "it verifies with the CA" openssl crl -inform DER -in "$T/final.der" -noout -CAfile "$SANDBOX_DIR/state/ca/ca.pem"

# --- each site's file follows the directory --------------------------------------------------------
# Site 2 looks at the directory's CRL every second (pki.crl_sync; 20 by
# default), so the wait below is short.
sed -i 's|^  crl_days     = 7;$|&\n  crl_sync     = 1;|' "$SANDBOX_DIR2/provd.conf"
ok "provd #2 with crl_sync = 1" grep -q '^  crl_sync     = 1;' "$SANDBOX_DIR2/provd.conf"
# A restarted provd republishes at start-up (2 s in): wait for that CRL,
# or it could land in the directory after the one below and be the one
# site 2's file must follow.
# shellcheck disable=SC2317
published2() { grep -c 'crl: CRL [0-9]* published' "$SANDBOX_DIR2/provd.log"; }
# shellcheck disable=SC2317
published2_since() { (($(published2) > $1)); }
p2=$(published2)
ok "provd #2 restarted" bash -c "'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR2' && '$SANDBOX_TOOL' start-provd '$SANDBOX_DIR2' --provd '$BUILD/provd'"
ok "provd #2's start-up publish is out" within 30 published2_since "$p2"
ok "provd #1 publishes once more" provctl -s "$P1" crl publish
ldap_crl_der >"$T/latest.der"
# shellcheck disable=SC2317
file_is_latest() { cmp -s "$1" "$T/latest.der"; }
ok "site 1's CRL file is the directory's" file_is_latest "$SANDBOX_DIR/state/crl/ca.crl"
ok "site 2's CRL file follows within 10 s (crl_sync = 1)" within 10 file_is_latest "$SANDBOX_DIR2/state/crl/ca.crl"
# shellcheck disable=SC2317
log_says_follows() { grep -q 'follows the directory' "$SANDBOX_DIR2/provd.log"; }
ok "site 2's log says so" within 30 log_says_follows
want=$(($(ldap_ca provdCrlNumber) + 1))
ok "ca show on site 2" provctl -s "$P2" -f json ca show
contains "site 2: the directory's next number" "$OUT" "\"next_crl_number\":$want"
ok "ca show on site 1" provctl -s "$P1" -f json ca show
contains "site 1: the same" "$OUT" "\"next_crl_number\":$want"

done_testing
