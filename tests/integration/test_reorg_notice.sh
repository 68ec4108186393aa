#!/usr/bin/env bash
# reorg apply revokes the certificates of the people it moves
# (affiliationChanged); one the office cannot re-issue in the run (from a
# CSR) leaves its holder a notice, in Vietnamese, at the holder's new
# address: exactly once, through notice.sendmail (here a stand-in that
# keeps each message in a file), however often the apply runs or provd
# restarts.  The office's key re-issued with --p12-dir leaves its holder,
# instead, the notice that the new PKCS#12 awaits pickup at the office
# (once, without the file or its passphrase).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SANDBOX_SLAPD_DEBUG=stats sandbox_up   # notice_sweeps reads slapd.log
B=$LDAP_BASE
C=ou=certificates,ou=pki,$B
TMP=$(mktemp -d /tmp/provd-reorg-notice.XXXXXX)
at_exit rm -rf -- "$TMP"
chmod 755 "$TMP"
mkdir -m 1777 "$TMP/mail"
cat >"$TMP/sendmail" <<EOF
#!/bin/sh
# sendmail stand-in: each message into a file of its own, its arguments first.
f=\$(mktemp "$TMP/mail/msg.XXXXXX") || exit 75
{ printf 'ARGS: %s\n' "\$*"; cat; } >"\$f"
EOF
chmod 755 "$TMP/sendmail"

serial_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$1"; }
attr_of() {   # attr_of SERIAL ATTR: the record's values
	ldap_root -b "provdCertSerial=$1,$C" -s base '(objectClass=*)' "$2" | sed -n "s/^$2: //p"
}
mails_to() { grep -l "^ARGS: .* -- .*$1" "$TMP"/mail/msg.* 2>/dev/null | wc -l; }
has_mail() { [[ $(mails_to "$1") -ge 1 ]]; }
mail_of() {   # mail_of KIND ADDRESS: the messages of that kind (Message-ID) to ADDRESS
	local f
	for f in $(grep -l "^ARGS: .* -- .*$2" "$TMP"/mail/msg.* 2>/dev/null); do
		grep -q "^Message-ID: <$1\." "$f" && cat "$f"
	done
	true
}
count() {   # count KIND: the messages of that kind (moved, p12), and all of them
	echo "$(grep -l "^Message-ID: <$1\\." "$TMP"/mail/msg.* 2>/dev/null | wc -l) of $(ls "$TMP/mail" | wc -l)"
}
restart_provd() {
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null 2>&1 || true
	"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" >/dev/null
}

sed -i 's|^  renew_overlap = .*|  renew_overlap = "7d";|' "$SANDBOX_DIR/provd.conf"
ok "provd with a renewal overlap" restart_provd
ok "a CA" provctl ca create --subject '/C=VN/O=UBND/CN=Reorg Notice CA' --key ec-p256 --days 365
ok "a unit" provctl unit add tmp-a --name 'Đơn vị tạm' --kind department
ok "a person in it" provctl -f json user add --name 'Vi Thị Mai' --unit tmp-a --employee-id RN0001
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/m.key" \
	-subj /CN=x -out "$TMP/m.csr" 2>/dev/null
ok "... with a certificate from her own request" provctl -f json cert issue maivt --csr "$TMP/m.csr"
S1=$(serial_of "$OUT")
ok "a second person" provctl -f json user add --name 'Hà Văn Bình' --unit tmp-a --employee-id RN0002
ok "... with a key the office made" provctl -f json cert issue binhhv --generate --p12 "$TMP/b.p12"
S2=$(serial_of "$OUT")
ok "a third person" provctl -f json user add --name 'Lương Văn Tâm' --unit tmp-a --employee-id RN0003
ok "... with a key the office made" provctl -f json cert issue tamlv --generate --p12 "$TMP/t.p12"
R1=$(serial_of "$OUT")
ok "... renewed, in its overlap" provctl -f json cert renew "$R1" --generate --p12 "$TMP/t2.p12"

# The domain changes with the units; notices on, to the stand-in.
python3 - "$SANDBOX_DIR/provd.conf" "$TMP/sendmail" <<'PY'
import re, sys
p, sm = sys.argv[1:]
s = open(p).read()
s = s.replace('domain = "vinhphuc.gov.vn";',
              'domain = "phutho.gov.vn";\n  old_domains = ( { domain = "vinhphuc.gov.vn"; } );')
s = re.sub(r'notice = \{.*?\};', 'notice = {\n  sendmail = "%s";\n'
           '  from = "pki@phutho.gov.vn";\n  sweep = 1;\n};' % sm, s, flags=re.S)
open(p, 'w').write(s)
PY
ok "provd with the new domain and notices on" restart_provd
printf 'reorg,tmp\ndomain,vinhphuc.gov.vn,phutho.gov.vn,forever\nunit,tmp-b,Đơn vị mới,department,\nmerge,tmp-a,tmp-b\n' \
	>"$TMP/tmp.csv"
ok "plan" provctl -f json reorg plan "$TMP/tmp.csv"
contains "... the holder to notify counted" "$(grep '"unit":"TOTAL"' <<<"$OUT")" '"certificates_notify":1'
mkdir -m 700 "$TMP/p12a" "$TMP/p12b"
ok "apply (--p12-dir)" provctl -f json reorg apply "$TMP/tmp.csv" --p12-dir "$TMP/p12a"
eq "maivt's certificate revoked (affiliationChanged)" \
	"$(attr_of "$S1" provdCertStatus) $(attr_of "$S1" provdCertReason)" "revoked affiliationChanged"
ok "the notice reaches maivt at her new address" within 20 has_mail maivt@phutho.gov.vn
ok "binhhv is told his new PKCS#12 awaits pickup" within 20 has_mail binhhv@phutho.gov.vn
ok "tamlv too (his renewal re-issued)" within 20 has_mail tamlv@phutho.gov.vn
# A notice is recorded on its certificate once sendmail has taken it: wait
# for both records before reading them.
# shellcheck disable=SC2317
recorded() {  # recorded SERIAL KIND: KIND sent and recorded, nothing owed
	local v
	v=$(attr_of "$1" provdCertNotified)
	[[ $v == *"$2 "* && $v != *"$2 owed"* ]]
}
ok "the notice is recorded" within 30 recorded "$S1" moved
ok "the pickup notice is recorded" within 30 recorded "$(attr_of "$S2" provdCertRenewedBy)" p12
n=$(notice_sweeps)
ok "a whole sweep since (time for a second notice, which must not come)" within 30 swept_since "$n"
eq "... exactly three mails: one notice of the revocation" "$(count moved)" "1 of 3"
eq "... two of the PKCS#12 awaiting pickup" "$(count p12)" "2 of 3"
M=$(mail_of moved maivt@)
contains "... naming the serial" "$M" "Số sê-ri:        $S1"
contains "... and what to do" "$M" "yêu cầu cấp chứng thư mới (CSR)"
contains "... UTF-8, from notice.from" "$M" "From: pki@phutho.gov.vn"
contains "... recorded on the certificate" "$(attr_of "$S1" provdCertNotified)" \
	"moved "
contains "... with its recipient" "$(attr_of "$S1" provdCertNotified)" "maivt@phutho.gov.vn"
lacks "... the debt settled" "$(attr_of "$S1" provdCertNotified)" "moved owed"
eq "binhhv's key re-issued: no notice of the revocation" "$(mail_of moved binhhv@)" ""
eq "... and no mark on the revoked one" "$(attr_of "$S2" provdCertNotified)" ""
N2=$(attr_of "$S2" provdCertRenewedBy)
P=$(mail_of p12 binhhv@phutho.gov.vn)
contains "... the pickup notice names the new certificate" "$P" "Số sê-ri:        $N2"
contains "... says where the PKCS#12 waits" "$P" "đang được bộ"
contains "... and that it is not mailed" "$P" "Tệp không được gửi qua thư"
pass=$(grep "^binhhv,$N2," "$TMP/p12a/passphrases.csv" | cut -d, -f4)
ok "... its passphrase in --p12-dir" test -n "$pass"
lacks "... without the passphrase" "$P" "$pass"
contains "... recorded on the new certificate" "$(attr_of "$N2" provdCertNotified)" \
	"p12 "
contains "... with its recipient" "$(attr_of "$N2" provdCertNotified)" "binhhv@phutho.gov.vn"
lacks "... the debt settled" "$(attr_of "$N2" provdCertNotified)" "p12 owed"
eq "tamlv's renewed key: no notice of the revocation" "$(mail_of moved tamlv@)" ""
eq "... and no mark" "$(attr_of "$R1" provdCertNotified)" ""
R2=$(attr_of "$R1" provdCertRenewedBy)
R3=$(attr_of "$R2" provdCertRenewedBy)
contains "... his renewal's successor's pickup notice" "$(mail_of p12 tamlv@)" "Số sê-ri:        $R3"

ok "applied again" provctl -f json reorg apply "$TMP/tmp.csv" --p12-dir "$TMP/p12b"
ok "provd restarts" restart_provd
n=$(notice_sweeps)
ok "a whole sweep since" within 30 swept_since "$n"
eq "... still exactly three mails" "$(count moved), $(count p12)" "1 of 3, 2 of 3"

done_testing
