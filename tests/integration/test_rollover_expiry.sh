#!/usr/bin/env bash
# A retired CA generation whose certificate has expired (and so every
# certificate it issued) is archived at the end of the next CRL publish:
# its signer stops, its CRL file leaves the published place for archive/,
# its OCSP directory leaves <ocsp_dir> for <ocsp_dir>/archive/ (provd-ocsp
# stops answering for it), the journal says so once; its key stays where
# it was, the signer's user's and unreadable by the engine.  The CA of the
# test is imported with a lifetime of half a minute (openssl ca -enddate).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
split_users

sandbox_up --user "$ENG" --signer-user "$CA"
S=$SANDBOX_DIR/state
KD=$S/ca-key
T=$(mktemp -d /tmp/provd-expiry.XXXXXX)
at_exit rm -rf "$T"
chmod 0755 "$T"
LIFE=30
mkdir "$T/db"
: >"$T/db/index.txt"
echo 01 >"$T/db/serial"
cat >"$T/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $T/db/index.txt
serial = $T/db/serial
new_certs_dir = $T/db
default_md = sha256
policy = p
x509_extensions = ext
unique_subject = no
[p]
commonName = supplied
[ext]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/g1.key" \
	-subj '/CN=Short CA' -out "$T/g1.csr" 2>/dev/null
end=$(($(date +%s) + LIFE))
ok "a CA certificate valid for ${LIFE} s" openssl ca -batch -notext -config "$T/ca.cnf" -selfsign \
	-keyfile "$T/g1.key" -in "$T/g1.csr" -out "$T/g1.pem" \
	-startdate "$(date -u -d '-1 min' +%y%m%d%H%M%SZ)" -enddate "$(date -u -d "@$end" +%y%m%d%H%M%SZ)"
chown "$CA" "$T/g1.key"
chmod 0600 "$T/g1.key"
ok "ca import" provctl ca import --cert "$T/g1.pem" --key "$T/g1.key"
ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/a.key" \
	-subj /CN=x -out "$T/a.csr" 2>/dev/null
ok "issue under generation 1" provctl cert issue annv --csr "$T/a.csr"
printf '%s\n' "$OUT" >"$T/a.pem"
ok "ca rollover" provctl ca rollover --subject '/CN=Short CA G2' --key ec-p256 --days 30
ok "revoke generation 1's certificate" provctl cert revoke "$(sn "$T/a.pem")" --reason superseded
ok "ca show" provctl -f json ca show
contains "generation 1 is retired" "$OUT" '"generation":1,"role":"retired"'
gpid=$(sed -n 's/.*"generation":1,"role":"retired".*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
ok "with a signer" kill -0 "${gpid:-0}"
ok "its CRL is published" openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/g1.pem" -noout
ok "OCSP answers for it" ocsp_ask "$T/a.pem" "$T/g1.pem"
contains "revoked" "$OUT" "$T/a.pem: revoked"

# Past generation 1's notAfter.
left=$((end - $(date +%s) + 2))
((left > 0)) && sleep "$left"
ok "crl publish after generation 1 expired" provctl crl publish
ok "ca show" provctl -f json ca show
contains "generation 1 is archived" "$OUT" '"generation":1,"role":"archived"'
ok "its signer has stopped" within 30 bash -c '! kill -0 "$1" 2>/dev/null' _ "$gpid"
ok "its CRL is no longer published" test ! -e "$S/crl/ca-gen-1.crl"
ok "the last one is kept in archive/" openssl crl -inform DER -in "$S/crl/archive/ca-gen-1.crl" \
	-CAfile "$T/g1.pem" -noout
ok "its OCSP directory is no longer served" test ! -e "$S/ocsp/gen-1"
ok "it is kept in the OCSP archive" test -e "$S/ocsp/archive/gen-1/issuer.der"
# A refresh signs nothing more for it: no response written under archive/,
# no line about generation 1 in the log, the refresh itself succeeds.
refresh_skips_gen1() {
	local n
	touch "$T/mark"
	sleep 0.05
	n=$(wc -l <"$SANDBOX_DIR/provd.log")
	ok "ocsp refresh ($1)" provctl -f json ocsp refresh
	contains "its record counted as not served ($1)" "$OUT" '"not_served":1'
	eq "no response written under archive/ ($1)" \
		"$(find "$S/ocsp/archive" -type f -newer "$T/mark" | wc -l)" 0
	lacks "no log line about generation 1 ($1)" \
		"$(tail -n "+$((n + 1))" "$SANDBOX_DIR/provd.log")" "generation 1"
	ok "no gen-1/ made again ($1)" test ! -e "$S/ocsp/gen-1"
}
refresh_skips_gen1 "after archiving"
sleep 1.1    # provd-ocsp looks at the issuers at most once a second
fails "provd-ocsp no longer answers for generation 1" any ocsp_ask "$T/a.pem" "$T/g1.pem"
lacks "no status for it" "$OUT" "$T/a.pem: revoked"
ok "the current CA's CRL is published" openssl crl -inform DER -in "$S/crl/ca.crl" \
	-CAfile "$S/ca/ca.pem" -noout
eq "the retired key stays, the signer's, 0600" "$(stat -c '%U %a' "$KD/gen-1/ca.key")" "$CA 600"
fails "the engine's uid cannot read it" any as_eng cat "$KD/gen-1/ca.key"
ok "audit show" provctl -f tab audit show
contains "the journal records the archiving" "$OUT" "(ca generation archived)"
n1=$(grep -c '(ca generation archived)' <<<"$OUT")
ok "crl publish again" provctl crl publish
ok "audit show" provctl -f tab audit show
eq "recorded once" "$(grep -c '(ca generation archived)' <<<"$OUT")" "$n1"

ok "restart" bash -c '"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "crl publish after restart" provctl crl publish
ok "ca show" provctl -f json ca show
contains "generation 1 is still archived" "$OUT" '"generation":1,"role":"archived"'
ok "nothing is published for it again" test ! -e "$S/crl/ca-gen-1.crl" -a ! -e "$S/ocsp/gen-1"
refresh_skips_gen1 "after restart"
ok "a rollover still numbers from the kept gen-1/" provctl ca rollover \
	--subject '/CN=Short CA G3' --key ec-p256 --days 30
ok "gen-2 holds generation 2" test -e "$KD/gen-2/ca.pem"
ok "generation 2's CRL is published" test -e "$S/crl/ca-gen-2.crl"

done_testing
