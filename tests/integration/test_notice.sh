#!/usr/bin/env bash
# Expiry notices through the real mail stack: provd runs Postfix's sendmail,
# a private Postfix (its own config and queue directories, master running
# as root with chroot off) resolves the address from the directory with the
# shipped ldap-mailboxes.cf and hands the mail over LMTP to a private
# Dovecot, whose userdb is the shipped dovecot-ldap.conf.ext; the test
# reads the holder's mailbox with doveadm.
#
# A short-lived profile and thresholds around the certificate's remaining
# life make two thresholds pass within seconds: the holder gets exactly one
# notice per threshold (the nearest one when several are passed at once),
# in Vietnamese (UTF-8, RFC 2047 subject), the unit's admin a copy, the
# record and `report expiring` name who was told and when — and a provd
# restart sends nothing again.  Nothing under /etc is read or written.
#
# shellcheck disable=SC2317  # functions run indirectly, through at_exit
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

(($(id -u) == 0)) || skip_all "needs root (a Postfix master and Dovecot of their own)"
for pkg in dovecot-core dovecot-ldap dovecot-lmtpd postfix postfix-ldap; do
	st=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || st=''
	if [[ $st != *' ok installed' ]]; then
		deps_out=$("$REPO/tools/install-deps" --mail 2>&1) ||
			skip_all "the mail packages cannot be installed here ($(tail -n 1 <<<"$deps_out"))"
		break
	fi
done
for bin in dovecot doveadm postfix /usr/sbin/sendmail; do
	command -v "$bin" >/dev/null 2>&1 || { printf 'Bail out! %s missing\n' "$bin"; exit 1; }
done

SANDBOX_SLAPD_DEBUG=stats sandbox_up   # notice_sweeps reads slapd.log
MAILPW=$(<"$SANDBOX_DIR/mail.secret")
DOMAIN=vinhphuc.gov.vn
TMP=$(mktemp -d /tmp/provd-notice.XXXXXX)
chmod 755 "$TMP"

# --- Dovecot: LMTP into mailboxes under $TMP/vmail -----------------------------------
DV=$TMP/dovecot
mkdir -m 755 "$DV" "$TMP/vmail"
chown nobody:nogroup "$TMP/vmail"
sed -e "s|^uris = .*|uris = $LDAP_URI|" -e "s|^dnpass = .*|dnpass = $MAILPW|" \
	-e "s|/var/vmail/|$TMP/vmail/|" "$REPO/etc/dovecot/dovecot-ldap.conf.ext" >"$DV/ldap.conf.ext"
grep -q "^home=$TMP/vmail\|=home=$TMP/vmail" "$DV/ldap.conf.ext" ||
	grep -q "$TMP/vmail" "$DV/ldap.conf.ext" || { printf 'Bail out! userdb home not rewritten\n'; exit 1; }
chmod 600 "$DV/ldap.conf.ext"
PF=$TMP/postfix
LMTP_SOCK=$PF/queue/private/dovecot-lmtp
cat >"$DV/dovecot.conf" <<EOF
instance_name = provd-notice-$$
base_dir = $DV/run
state_dir = $DV/state
log_path = $DV/dovecot.log
protocols = lmtp
ssl = no
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:~/Maildir
auth_username_format = %Lu
passdb {
  driver = ldap
  args = $DV/ldap.conf.ext
}
userdb {
  driver = ldap
  args = $DV/ldap.conf.ext
}
service lmtp {
  unix_listener $LMTP_SOCK {
    mode = 0600
    user = postfix
    group = postfix
  }
}
EOF

# --- Postfix: a master of its own ------------------------------------------------------
# postfix check makes the queue's subdirectories; the data directory is
# the mail owner's.
mkdir -m 755 -p "$PF/queue" "$PF/data"
chown postfix "$PF/data"
for f in ldap-mailboxes ldap-aliases; do
	sed -e "s|^server_host = .*|server_host = $LDAP_URI|" -e "s|^bind_pw = .*|bind_pw = $MAILPW|" \
		"$REPO/etc/postfix/$f.cf" >"$PF/$f.cf"
done
chmod 600 "$PF"/ldap-*.cf
cat >"$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.test.invalid
mydomain = test.invalid
myorigin = $DOMAIN
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost =
default_transport = error:no relay from this test
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = ldap:$PF/ldap-mailboxes.cf
virtual_alias_maps = ldap:$PF/ldap-aliases.cf
virtual_transport = lmtp:unix:$LMTP_SOCK
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
queue_run_delay = 1s
minimal_backoff_time = 1s
EOF
cat >"$PF/master.cf" <<'EOF'
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       1       1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
touch -d '-1 minute' "$PF"/*.cf
postfix_stop() { postfix -c "$PF" stop >/dev/null 2>&1 || true; }
dovecot_stop() {
	local pid
	pid=$(cat "$DV/run/master.pid" 2>/dev/null) || return 0
	[[ $pid =~ ^[1-9][0-9]*$ ]] && ! pid_gone "$pid" &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$DV/dovecot.conf" &&
		kill -TERM "$pid" 2>/dev/null
	return 0
}
at_exit dovecot_stop
at_exit postfix_stop
# After the stops: at_exit runs in the order given, and the stops read
# their pid files and configuration under $TMP.
at_exit rm -rf -- "$TMP"
ok "postfix check (creates the queue)" postfix -c "$PF" check
ok "postfix start" postfix -c "$PF" start
ok "dovecot start" dovecot -c "$DV/dovecot.conf"
ok "the LMTP socket is there" within 30 test -S "$LMTP_SOCK"

mailbox() {  # mailbox ADDRESS: the messages' subjects and bodies, decoded
	doveadm -c "$DV/dovecot.conf" fetch -u "$1" 'hdr.subject body' mailbox INBOX 2>/dev/null
}
count_mail() {  # count_mail ADDRESS
	local n
	n=$(doveadm -c "$DV/dovecot.conf" search -u "$1" mailbox INBOX ALL 2>/dev/null | wc -l)
	printf '%s' "$n"
}
has_mail() {  # has_mail ADDRESS N: at least N messages
	(($(count_mail "$1") >= $2))
}
queue_empty() {  # Postfix holds no message (maildrop included)
	[[ $(postqueue -c "$PF" -p 2>&1) == *"Mail queue is empty"* ]]
}

# --- people, a short-lived profile ------------------------------------------------------
cp -r "$REPO/templates" "$TMP/templates"
cat >"$TMP/templates/profiles/test-day.conf" <<'EOF'
description = "Test only: a certificate for one day";
validity_days = 1;
email_san = true;
ec = {
  curves    = [ "P-256" ];
  key_usage = [ "digitalSignature", "keyAgreement" ];
};
extended_key_usage = [ "emailProtection" ];
smime_generation = "strict";
smime_validation = "mailbox";
EOF
chmod -R a+rX "$TMP/templates"
ok "ca create" provctl ca create --subject '/C=VN/O=UBND/CN=Notice Test CA' --key ec-p256 --days 3650
ok "the holder" provctl user add --name 'Nguyễn Văn An' --unit xa-kim-phu-tam-dao --employee-id NT0001
ok "the district's admin (has a mailbox too)" provctl user add --name 'Lê Thị Bích' --unit huyen-tam-dao --employee-id NT0002
ok "someone elsewhere" provctl user add --name 'Trần Văn Cường' --unit so-tai-chinh --employee-id NT0003
HOLDER=annv@$DOMAIN
ADMIN=bichlt@$DOMAIN
OTHER=cuongtv@$DOMAIN
ok "Dovecot finds the holder in the directory" doveadm -c "$DV/dovecot.conf" user "$HOLDER"

ok "sendmail through the private Postfix reaches Dovecot" sh -c \
	"printf 'Subject: hello\n\nhi\n' | MAIL_CONFIG='$PF' /usr/sbin/sendmail -i -f test@$DOMAIN -- '$OTHER'"
ok "... delivered" within 20 has_mail "$OTHER" 1

# provd on the test templates, notices to this Postfix; issue, then pick the
# thresholds from the certificate's remaining life.
restart_provd() {
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null &&
		MAIL_CONFIG=$PF "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd" >/dev/null
}
sed -i "s|^\(  template_dir = \).*|\1\"$TMP/templates\";|" "$SANDBOX_DIR/provd.conf"
ok "provd on the short profile" restart_provd
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/a.key" \
	-subj /CN=x -out "$TMP/a.csr" 2>/dev/null
ok "a one-day certificate" provctl -f json cert issue annv --csr "$TMP/a.csr" --profile test-day
SERIAL=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")
na=$(provctl -f json cert show "$SERIAL" | python3 -c '
import json, sys, datetime
r = json.loads(sys.stdin.readline())
t = datetime.datetime.strptime(r["not_after"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
print(int(t.timestamp()))')
left=$((na - $(date +%s)))
ok "a day left ($left s)" test "$left" -gt 86000 -a "$left" -le 86400
# Another instance is sending the 7d notice of someone else's certificate:
# its claim is on the record, so this provd leaves that notice alone.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/c.key" \
	-subj /CN=x -out "$TMP/c.csr" 2>/dev/null
ok "a one-day certificate elsewhere" provctl -f json cert issue cuongtv --csr "$TMP/c.csr" --profile test-day
SERIAL_C=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")
ok "its 7d notice is claimed by another instance" sh -c "printf 'dn: provdCertSerial=%s,ou=certificates,ou=pki,%s\nchangetype: modify\nadd: provdCertNotified\nprovdCertNotified: 7d sending\n' '$SERIAL_C' '$LDAP_BASE' | ldapmodify -Q -Y EXTERNAL -H '$LDAPI_URI'"
# notice_conf THRESHOLD...: notices on, every 2 s, to this Postfix.
notice_conf() {
	python3 - "$SANDBOX_DIR/provd.conf" "$@" <<'EOF'
import re, sys
path, thresholds = sys.argv[1], sys.argv[2:]
s = open(path).read()
s = re.sub(r'notice = \{.*?\};', 'notice = {\n  sendmail = "/usr/sbin/sendmail";\n'
           '  from = "pki@vinhphuc.gov.vn";\n  sweep = 2;\n'
           '  thresholds = [ %s ];\n'
           '  unit_admins = [ "huyen-tam-dao bichlt@vinhphuc.gov.vn" ];\n};'
           % ", ".join('"%s"' % t for t in thresholds), s, flags=re.S)
open(path, 'w').write(s)
EOF
}
# 30d and 7d are passed at once: one notice, for 7d.
notice_conf 30d 7d
ok "provd with notices on" restart_provd

ok "the first notice reaches the holder" within 30 has_mail "$HOLDER" 1
ok "... and the district's admin" within 30 has_mail "$ADMIN" 1
n=$(notice_sweeps)
ok "a whole sweep since" within 30 swept_since "$n"
ok "... and Postfix has delivered what it took" within 30 queue_empty
eq "one notice for the thresholds passed at once" "$(count_mail "$HOLDER")" 1
ok "the mailbox" mailbox "$HOLDER"
subject=$(doveadm -c "$DV/dovecot.conf" fetch -u "$HOLDER" hdr mailbox INBOX | python3 -c '
import sys, email, email.header
raw = sys.stdin.read().split("hdr:", 1)[1].lstrip("\n")
m = email.message_from_string(raw)
print(str(email.header.make_header(email.header.decode_header(m["Subject"]))))')
contains "subject in Vietnamese (decoded from RFC 2047)" "$subject" "Chứng thư số của Nguyễn Văn An sẽ hết hạn"
contains "the serial" "$OUT" "$SERIAL"
contains "the profile" "$OUT" "test-day"
contains "what to do" "$OUT" "Việc cần làm"
ok "raw message" doveadm -c "$DV/dovecot.conf" fetch -u "$HOLDER" hdr mailbox INBOX
contains "RFC 2047 subject" "$OUT" "Subject: =?UTF-8?B?"
contains "MIME" "$OUT" "Content-Type: text/plain; charset=UTF-8"
contains "from the office" "$OUT" "From: pki@vinhphuc.gov.vn"
ok "the record" provctl -f json cert show "$SERIAL"
contains "recorded: threshold 7d and the recipients" "$OUT" "7d "
contains "... holder and admin" "$OUT" "$HOLDER,$ADMIN"
lacks "30d was covered by the 7d notice, not sent" "$OUT" "30d "
lacks "no claim is left once sent" "$OUT" "sending"
eq "a notice claimed by another instance is not sent again" "$(count_mail "$OTHER")" 1

# A third threshold that passes a few seconds after provd starts with it.
NEAR=$((na - $(date +%s) - 5))
notice_conf 30d 7d "${NEAR}s"
ok "provd with a threshold that passes in 5 s" restart_provd
ok "the second threshold's notice" within 40 has_mail "$HOLDER" 2
ok "report expiring names it" provctl -f json report expiring --days 2
contains "report: ${NEAR}s notice" "$OUT" "$(python3 -c "
s=$NEAR
print(f'{s//60}m' if s % 60 == 0 else f'{s}s')") "
contains "report: 7d notice" "$OUT" "7d "

ok "provd restarted" restart_provd
n=$(notice_sweeps)
ok "a whole sweep since" within 30 swept_since "$n"
ok "... and Postfix has delivered what it took" within 30 queue_empty
eq "after the restart: still two notices for the holder" "$(count_mail "$HOLDER")" 2
eq "... and two for the admin" "$(count_mail "$ADMIN")" 2
ok "the record still holds two" provctl -f json cert show "$SERIAL"
eq "two provdCertNotified values" "$(ldap_root -b "ou=certificates,ou=pki,$LDAP_BASE" \
	"(provdCertSerial=$SERIAL)" provdCertNotified | grep -c '^provdCertNotified:')" 2

done_testing
