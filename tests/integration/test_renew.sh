#!/usr/bin/env bash
# cert renew, checked by OpenSSL: the successor is issued along cert issue's
# path (same holder and profile, subject from the directory, new serial),
# the two records name each other, and the predecessor is revoked as
# superseded at once (overlap 0) or once the overlap has passed — also
# across a provd restart, since the due time is in the directory.  Key
# reuse only where the profile allows it and never for an escrowed key;
# one key one person still holds; bulk renewal with --dry-run and progress;
# whois and cert show show the chain.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-renew.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CA_PEM=$SANDBOX_DIR/state/ca/ca.pem
CRL_DER=$SANDBOX_DIR/state/crl/ca.crl
verify() {  # verify CERT: openssl verify against the CA and the current CRL file
	openssl crl -inform DER -in "$CRL_DER" -out "$T/crl.pem" &&
		openssl verify -CAfile "$CA_PEM" -crl_check -CRLfile "$T/crl.pem" "$1"
}
csr() {  # csr NAME: EC key + CSR in $T
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-subj "/CN=ignored" -out "$T/$1.csr" 2>/dev/null
}
json() {  # json KEY: the first record's KEY in $OUT
	python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1" <<<"$OUT"
}
field() {  # field SERIAL KEY: cert show's KEY
	"$BUILD/provctl" -f json cert show "$1" |
		python3 -c 'import json,sys; v = json.loads(sys.stdin.readline())[sys.argv[1]]; print("" if v is None else v)' "$2"
}
pem_of() {  # pem_of SERIAL FILE
	"$BUILD/provctl" cert show "$1" --pem >"$2"
}
set_conf() {  # set_conf KEY VALUE: a pki setting, then provd restarted
	sed -i "/^  $1 = /d; s|^pki = {|pki = {\n  $1 = $2;|" "$SANDBOX_DIR/provd.conf"
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null &&
		"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" >/dev/null &&
		date +%s%3N >"$T/started"
}
# past_startup_sweep: returns once 2 s have passed since set_conf's provd
# answered, so its start-up sweep (1 s after start) has run; the work done
# since the restart counts towards the 2 s.  (A file holds the time: `ok`
# runs set_conf in a subshell.)
past_startup_sweep() {
	local left=$(($(<"$T/started") + 2000 - $(date +%s%3N)))
	((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# The sweep only at start-up: a revocation seen before the next restart was
# made by cert renew itself.
ok "provd with a slow sweep" set_conf supersede_sweep 3600
ok "ca create" provctl ca create --subject '/C=VN/O=UBND/CN=Renew Test CA' --key ec-p256 --days 3650
ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id RN0001
ok "staff 2" provctl user add --name 'Đặng Thị Thu Hà' --unit xa-kim-phu-tam-dao --employee-id RN0002

# --- one renewal, overlap 0: the predecessor is revoked before the reply ---------
csr a1
ok "cert issue" provctl -f json cert issue annv --csr "$T/a1.csr"
S1=$(json serial)
pem_of "$S1" "$T/s1.pem"
fails "renew without SERIAL or --expiring-within" 2 provctl cert renew
fails "renew an unknown serial" 3 provctl cert renew 0123456789abcdef
past_startup_sweep
ok "cert renew (same key)" provctl -f json cert renew "$S1"
S2=$(json serial)
[[ -n $S2 && $S2 != "$S1" ]] && _t_result 1 "a new serial" || _t_result 0 "a new serial ($S1 -> $S2)"
pem_of "$S2" "$T/s2.pem"
ok "successor verifies with the CRL" verify "$T/s2.pem"
fails "predecessor is revoked on the CRL" 2 verify "$T/s1.pem"
ok "CRL entry" sh -c "openssl crl -inform DER -in '$CRL_DER' -noout -text"
contains "the CRL says superseded" "$OUT" "Superseded"
eq "predecessor's status" "$(field "$S1" status)" revoked
eq "predecessor's reason" "$(field "$S1" reason)" superseded
eq "predecessor names its successor" "$(field "$S1" renewed_by)" "$S2"
eq "successor names its predecessor" "$(field "$S2" renews)" "$S1"
eq "same profile" "$(field "$S2" profile)" "$(field "$S1" profile)"
eq "same key" "$(openssl x509 -in "$T/s2.pem" -noout -pubkey | sha256sum)" \
	"$(openssl x509 -in "$T/s1.pem" -noout -pubkey | sha256sum)"
ok "subject of the successor" openssl x509 -in "$T/s2.pem" -noout -subject -nameopt utf8,sep_comma_plus
contains "subject from the directory" "$OUT" "CN=Nguyễn Văn An"
fails "a revoked certificate is not renewed" 4 provctl cert renew "$S1"
ok "whois shows the chain" provctl -f json whois annv
contains "whois: successor names its predecessor" "$OUT" "\"renews\":\"$S1\""
contains "whois: predecessor names its successor" "$OUT" "\"renewed_by\":\"$S2\""

# --- a new key from a CSR; a key of another person is refused ---------------------
csr a2
ok "cert renew --csr" provctl -f json cert renew "$S2" --csr "$T/a2.csr"
S3=$(json serial)
pem_of "$S3" "$T/s3.pem"
eq "the new key is certified" "$(openssl x509 -in "$T/s3.pem" -noout -pubkey | sha256sum)" \
	"$(openssl pkey -in "$T/a2.key" -pubout | sha256sum)"
fails "cert issue of annv's key to another person: refused" 4 provctl cert issue hadtt --csr "$T/a2.csr"
csr h1
ok "cert issue (second person)" provctl -f json cert issue hadtt --csr "$T/h1.csr"
H1=$(json serial)
fails "renew with another person's key: one key, one person" 4 provctl cert renew "$H1" --csr "$T/a2.csr"
eq "refused renewal leaves the predecessor valid" "$(field "$H1" status)" valid
eq "... and unlinked" "$(field "$H1" renewed_by)" ""

# --- a profile that does not allow key reuse ---------------------------------------
cp -r "$REPO/templates" "$T/templates"
sed -i 's/^renew_key_reuse = true;/renew_key_reuse = false;/' "$T/templates/profiles/staff-email.conf"
sed -i "s|^  template_dir = .*|  template_dir = \"$T/templates\";|" "$SANDBOX_DIR/provd.conf"
chmod -R a+rX "$T"
ok "provd restarted with key reuse off" set_conf supersede_sweep 3600
fails "no key reuse: renew needs a new key" 4 provctl cert renew "$H1"
contains "... and says so" "$ERR" "renew_key_reuse"
csr h2
ok "... a new key works" provctl -f json cert renew "$H1" --csr "$T/h2.csr"
H2=$(json serial)
sed -i "s|^  template_dir = .*|  template_dir = \"$REPO/templates\";|" "$SANDBOX_DIR/provd.conf"

# --- overlap: valid for a while, revoked by the sweep, across a restart --------------
ok "overlap of 30 s" set_conf renew_overlap '"30s"'
past_startup_sweep
ok "cert renew with an overlap" provctl -f json cert renew "$S3"
renewed_at=$(date +%s)
S4=$(json serial)
pem_of "$S4" "$T/s4.pem"
ok "during the overlap: the predecessor still verifies" verify "$T/s3.pem"
ok "during the overlap: the successor verifies" verify "$T/s4.pem"
eq "the predecessor carries its due time" "$(field "$S3" supersede_at | grep -c '^20')" 1
ok "provd restarted during the overlap" set_conf supersede_sweep 3600
past_startup_sweep
eq "a sweep during the overlap leaves it valid" "$(field "$S3" status)" valid
ok "provd stopped" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
wait_s=$((renewed_at + 31 - $(date +%s)))
ok "the overlap had not passed before provd stopped" test "$wait_s" -gt 0
sleep "$wait_s"
ok "provd started after the due time" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "the sweep revokes it after the restart" within 30 sh -c \
	"'$BUILD/provctl' -f json cert show '$S3' | grep -q '\"reason\":\"superseded\"'"
# (the record is revoked before the sweep's CRL is written)
ok "the sweep's CRL lists it" within 30 sh -c "openssl crl -inform DER -in '$CRL_DER' -noout \
	-text | tr -d ' :' | grep -qi 'serialnumber$S3'"
fails "after the overlap: the predecessor is revoked" 2 verify "$T/s3.pem"
ok "after the overlap: the successor verifies" verify "$T/s4.pem"
ok "overlap back to 0" set_conf renew_overlap '"0"'

# --- keys the office made: renewed with a new one, never certified again ----------------
ok "cert issue --generate (escrowed, staff-email)" provctl -f json cert issue hadtt --generate \
	--p12 "$T/g1.p12"
G1=$(json serial)
fails "the escrowed key is not certified again" 4 provctl cert renew "$G1"
contains "... and the reason is given" "$ERR" "escrow"
ok "cert renew --generate" provctl -f json cert renew "$G1" --generate --p12 "$T/g2.p12" \
	--passphrase-stdin <<<"renew-pass-2026"
G2=$(json serial)
eq "the generated successor is linked" "$(field "$G2" renews)" "$G1"
eq "the predecessor is superseded" "$(field "$G1" reason)" superseded
openssl pkcs12 -in "$T/g2.p12" -passin pass:renew-pass-2026 -nocerts -nodes -out "$T/g2.key" 2>/dev/null
pem_of "$G2" "$T/g2.pem"
eq "the new PKCS#12 key is the successor's" "$(openssl pkey -in "$T/g2.key" -pubout | sha256sum)" \
	"$(openssl x509 -in "$T/g2.pem" -noout -pubkey | sha256sum)"
pem_of "$G1" "$T/g1.pem"
lacks "... and not the old key" "$(openssl x509 -in "$T/g1.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$T/g2.key" -pubout | sed -n 2p)"
ok "the successor verifies" verify "$T/g2.pem"

# --- bulk: dry run, then the real run -------------------------------------------------
for i in 1 2 3; do
	ok "staff b$i" provctl user add --name "Trần Văn Bình" --unit so-noi-vu --employee-id RNB00$i
done
B=()
for login in $(provctl -f tab user list --unit so-noi-vu | awk -F'\t' 'NR > 1 { print $1 }'); do
	csr "b-$login"
	ok "cert issue $login" provctl -f json cert issue "$login" --csr "$T/b-$login.csr"
	B+=("$(json serial)")
done
eq "three bulk candidates" "${#B[@]}" 3
ok "bulk dry run" provctl -f tab cert renew --expiring-within 3650d --unit so-noi-vu --dry-run
eq "the dry run lists three" "$(grep -c 'would renew' <<<"$OUT")" 3
eq "the dry run changes nothing" "$(field "${B[0]}" renewed_by)" ""
fails "--csr with --expiring-within" 2 provctl cert renew --expiring-within 30d --csr "$T/a1.csr"
ok "bulk renew" provctl -f json cert renew --expiring-within 3650d --unit so-noi-vu
eq "three renewed" "$(grep -c '"action":"renewed"' <<<"$OUT")" 3
for s in "${B[@]}"; do
	eq "bulk: $s superseded" "$(field "$s" reason)" superseded
	succ=$(field "$s" renewed_by)
	pem_of "$succ" "$T/succ.pem"
	ok "bulk: successor of $s verifies" verify "$T/succ.pem"
done
ok "bulk dry run again" provctl -f tab cert renew --expiring-within 3650d --unit so-noi-vu --dry-run
eq "only the three successors are left to renew" "$(grep -c 'would renew' <<<"$OUT")" 3
for s in "${B[@]}"; do
	lacks "bulk: $s is not renewed twice" "$OUT" "$s	"
done
ok "bulk renew outside the unit" provctl -f tab cert renew --expiring-within 3650d --unit so-tai-chinh --dry-run
lacks "... lists none of so-noi-vu" "$OUT" "binh"

# --- bulk with --p12-dir: the office's keys renewed with new ones ---------------------
# G2 (hadtt, xa-kim-phu-tam-dao) is an escrowed office key: without --p12-dir the
# bulk lists it skipped; with it, a new key and its PKCS#12 go to the directory.
ok "bulk without --p12-dir" provctl -f json cert renew --expiring-within 3650d \
	--unit xa-kim-phu-tam-dao
contains "the office key is skipped" "$OUT" '"action":"skipped"'
contains "... pointing at --p12-dir" "$OUT" "p12-dir"
mkdir -m 700 "$T/p12"
fails "--p12-dir renews in bulk only" 2 provctl cert renew "$G2" --p12-dir "$T/p12"
ok "bulk dry run with --p12-dir" provctl -f json cert renew --expiring-within 3650d \
	--unit xa-kim-phu-tam-dao --p12-dir "$T/p12" --dry-run
contains "would renew with a new key" "$OUT" '"action":"would renew"'
eq "the dry run writes nothing" "$(ls -A "$T/p12")" ""
ok "bulk renew --p12-dir" provctl -f json cert renew --expiring-within 3650d \
	--unit xa-kim-phu-tam-dao --p12-dir "$T/p12"
contains "renewed" "$OUT" '"action":"renewed"'
G3=$(field "$G2" renewed_by)
ok "a successor" test -n "$G3"
eq "the successor is linked" "$(field "$G3" renews)" "$G2"
eq "the predecessor is superseded" "$(field "$G2" reason)" superseded
eq "one PKCS#12 file and the passphrases" "$(cd "$T/p12" && ls | sort | tr '\n' ' ')" \
	"hadtt-$G3.p12 passphrases.csv "
eq "PKCS#12 0600" "$(stat -c %a "$T/p12/hadtt-$G3.p12")" 600
eq "passphrases 0600" "$(stat -c %a "$T/p12/passphrases.csv")" 600
pass=$(grep "^hadtt,$G3," "$T/p12/passphrases.csv" | cut -d, -f4)
ok "the passphrase opens it" openssl pkcs12 -in "$T/p12/hadtt-$G3.p12" -passin "pass:$pass" \
	-nodes -out "$T/g3.all.pem"
pem_of "$G3" "$T/g3.pem"
eq "its key is the successor's" "$(openssl pkey -in "$T/g3.all.pem" -pubout | sha256sum)" \
	"$(openssl x509 -in "$T/g3.pem" -noout -pubkey | sha256sum)"
lacks "... a new key, not G2's" "$(openssl x509 -in "$T/g2.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$T/g3.all.pem" -pubout | sed -n 2p)"
ok "the successor verifies" verify "$T/g3.pem"
fails "the predecessor does not" 2 verify "$T/g2.pem"

done_testing
