#!/usr/bin/env bash
# The sandbox directory itself: slapd's cn=config (schemas, ppolicy,
# password hashing, ACLs, limits), the base entries and units, and the
# start / stop / restart-slapd / kill-slapd / resume life cycle.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# shellcheck disable=SC2016 # literal, not an expansion
YESCRYPT='{CRYPT}$y$j9T$'

sandbox_up --no-provd
S=$SANDBOX_TOOL
D=$SANDBOX_DIR
B=$LDAP_BASE

# --- the directory and its files ------------------------------------------------
eq "sandbox directory is 0755" "$(stat -c %a "$D")" 755
eq "admin.secret is 0600" "$(stat -c %a "$D/admin.secret")" 600
eq "provd.conf is 0600" "$(stat -c %a "$D/provd.conf")" 600
ok "env file is the start output" test -s "$D/env"
contains "provd.conf points at the ldapi socket" "$(<"$D/provd.conf")" "\"$LDAPI_URI\""
contains "provd.conf uses SASL EXTERNAL" "$(<"$D/provd.conf")" 'bind = "external"'
eq "LDAP_URI is on 127.0.0.1" "${LDAP_URI%:*}" "ldap://127.0.0.1"

# --- the starting user is the rootdn over ldapi ---------------------------------
ok "ldapwhoami over ldapi with SASL EXTERNAL" ldapwhoami -Q -Y EXTERNAL -H "$LDAPI_URI"
eq "starting user is mapped to the rootdn" "$OUT" "dn:$LDAP_ADMIN_DN"

ok "list the units" ldap_root -b "ou=units,$B" -s one '(objectClass=provdUnit)' dn
eq "all 166 units are there" "$(grep -c '^dn:' <<<"$OUT")" 166

ok "read so-tai-chinh" ldap_root -b "ou=so-tai-chinh,ou=units,$B" -s base description provdUnitKind
eq "Vietnamese name round-trips as UTF-8" "$(ldif_values description <<<"$OUT")" "Sở Tài chính"
eq "unit kind" "$(ldif_values provdUnitKind <<<"$OUT")" department

ok "read the unit with a quoted comma" ldap_root -b "ou=so-van-hoa-the-thao-du-lich,ou=units,$B" -s base description
eq "quoted comma kept in the name" "$(ldif_values description <<<"$OUT")" "Sở Văn hóa, Thể thao và Du lịch"

ok "communes have a parent" ldap_root -b "ou=units,$B" -s one '(provdUnitKind=commune)' provdUnitParent
eq "137 communes" "$(grep -c '^dn:' <<<"$OUT")" 137
eq "each with provdUnitParent" "$(grep -c '^provdUnitParent:' <<<"$OUT")" 137

for rdn in ou=people ou=services ou=pki ou=certificates,ou=pki ou=policies \
	cn=default,ou=policies cn=mail,ou=services; do
	ok "base entry $rdn" ldap_root -b "$rdn,$B" -s base dn
done

ok "provd schema is in cn=config" ldap_root -b cn=schema,cn=config -s one '(cn=*provd)' cn
contains "provd schema entry" "$OUT" "provd"
ok "ppolicy overlay with the default policy" \
	ldap_root -b 'olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config' -s base olcPPolicyDefault
contains "default policy configured" "$OUT" "olcPPolicyDefault: cn=default,ou=policies,$B"
ok "password hash settings" ldap_root -b cn=config '(|(olcPasswordHash=*)(olcPasswordCryptSaltFormat=*))' \
	olcPasswordHash olcPasswordCryptSaltFormat
contains "slapd hashes with {CRYPT}" "$OUT" 'olcPasswordHash: {CRYPT}'
contains "yescrypt salt format" "$OUT" "olcPasswordCryptSaltFormat: ${YESCRYPT#'{CRYPT}'}%.16s"

# --- test people -----------------------------------------------------------------
A="uid=sbxa,ou=people,$B"
C="uid=sbxc,ou=people,$B"
PW_A="chosen-A-$RANDOM$RANDOM"
PW_C="chosen-C-$RANDOM$RANDOM"
# shellcheck disable=SC2317 # called through ok
add_person() {
	ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" <<EOF
dn: $1
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: ${2}
cn:: $(printf '%s' "$3" | base64 -w0)
sn: Test
mail: $2@vinhphuc.gov.vn
mailLocalAddress: $2.alias@vinhphuc.gov.vn
departmentNumber: so-tai-chinh
userPassword: $4
EOF
}
ok "add person A (cleartext password)" add_person "$A" sbxa "Nguyễn Văn A" "$PW_A"
ok "add person C" add_person "$C" sbxc "Đặng Thị C" "$PW_C"

ok "read A's stored password as the rootdn" ldap_root -b "$A" -s base userPassword
hash=$(ldif_values userPassword <<<"$OUT")
contains "cleartext was hashed with yescrypt" "$hash" "$YESCRYPT"
lacks "cleartext is not stored" "$hash" "$PW_A"
salt=${hash#"$YESCRYPT"}
salt=${salt%%\$*}
eq "yescrypt salt has 16 characters" "${#salt}" 16

# --- ACLs --------------------------------------------------------------------------
ok "mail identity binds over ldap://127.0.0.1" \
	ldapwhoami -x -H "$LDAP_URI" -D "$LDAP_MAIL_DN" -y "$(mail_secret_file)"
eq "mail identity is itself" "$OUT" "dn:$LDAP_MAIL_DN"
ok "mail identity reads a unit" ldap_mail -b "ou=so-tai-chinh,ou=units,$B" -s base ou
contains "unit entry returned" "$OUT" "dn: ou=so-tai-chinh,ou=units,$B"
ok "mail identity finds A by mail" ldap_mail -b "ou=people,$B" '(mail=sbxa@vinhphuc.gov.vn)' mail userPassword
contains "mail identity reads mail" "$OUT" "mail: sbxa@vinhphuc.gov.vn"
contains "mail identity reads userPassword (Dovecot lookups)" "$OUT" "userPassword"
ok "mail identity finds A by alias" ldap_mail -b "ou=people,$B" '(mailLocalAddress=sbxa.alias@vinhphuc.gov.vn)' dn
contains "alias lookup" "$OUT" "dn: $A"
ok "mail identity paged search is not cut" ldap_mail -E pr=25/noprompt -b "ou=units,$B" -s one dn
eq "all units through paging" "$(grep -c '^dn:' <<<"$OUT")" 166
fails "mail identity cannot write" 50 ldapmodify -x -H "$LDAP_URI" -D "$LDAP_MAIL_DN" -y "$(mail_secret_file)" <<EOF
dn: $A
changetype: modify
replace: sn
sn: Changed
EOF

ok "A binds with its password" ldapwhoami -x -H "$LDAP_URI" -D "$A" -w "$PW_A"
ok "A reads its own entry" ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -LLL -b "$A" -s base mail
contains "own mail" "$OUT" "mail: sbxa@vinhphuc.gov.vn"
fails "A cannot see C" 32 ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -LLL -b "$C" -s base
fails "A cannot read C's userPassword" 32 ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -LLL -b "$C" -s base userPassword
fails "A cannot search the people tree" 32 ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -LLL -b "ou=people,$B" '(uid=*)' dn
fails "A cannot change C" 50 ldapmodify -x -H "$LDAP_URI" -D "$A" -w "$PW_A" <<EOF
dn: $C
changetype: modify
replace: userPassword
userPassword: taken-over
EOF
fails "anonymous cannot read the base" 32 ldapsearch -x -H "$LDAP_URI" -LLL -b "$B" -s base
fails "anonymous cannot read people" 32 ldapsearch -x -H "$LDAP_URI" -LLL -b "$A" -s base
ok "anonymous reads the root DSE" ldapsearch -x -H "$LDAP_URI" -LLL -b '' -s base namingContexts
contains "naming context" "$OUT" "namingContexts: $B"
fails "wrong password" 49 ldapwhoami -x -H "$LDAP_URI" -D "$C" -w "not-$PW_C"

# --- ppolicy: pwdReset, own change, disabled, no lockout on failures --------------
ok "set pwdReset on A" ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" <<EOF
dn: $A
changetype: modify
replace: pwdReset
pwdReset: TRUE
EOF
fails "after pwdReset only a password change is allowed" 50 \
	ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -LLL -b "$A" -s base mail
PW_A2="own-choice-$RANDOM$RANDOM"
ok "A changes its own password (Password Modify)" \
	ldappasswd -x -H "$LDAP_URI" -D "$A" -w "$PW_A" -s "$PW_A2"
ok "A searches again with the new password" \
	ldapsearch -x -H "$LDAP_URI" -D "$A" -w "$PW_A2" -LLL -b "$A" -s base mail
ok "read A's new hash" ldap_root -b "$A" -s base userPassword pwdReset
contains "own change is hashed with yescrypt" "$(ldif_values userPassword <<<"$OUT")" "$YESCRYPT"
eq "pwdReset cleared" "$(ldif_values pwdReset <<<"$OUT")" ""

ok "disable A (pwdAccountLockedTime 000001010000Z)" ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" <<EOF
dn: $A
changetype: modify
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF
fails "disabled A cannot bind" 49 ldapwhoami -x -H "$LDAP_URI" -D "$A" -w "$PW_A2"
ok "mail identity sees the disabled mark" ldap_mail -b "ou=people,$B" '(pwdAccountLockedTime=000001010000Z)' dn
eq "only A is disabled" "$OUT" "dn: $A"

for _ in 1 2 3 4 5 6 7 8; do
	ldapwhoami -x -H "$LDAP_URI" -D "$C" -w "not-$PW_C" >/dev/null 2>&1 || true
done
ok "failed logins never lock (pwdMaxFailure 0)" ldapwhoami -x -H "$LDAP_URI" -D "$C" -w "$PW_C"

# --- life cycle ---------------------------------------------------------------------
fails "second start on the same directory refuses" 1 "$S" start "$D" --no-provd
contains "and says why" "$ERR" "already runs a sandbox"
eq "and prints nothing to eval" "$OUT" ""

port=$LDAP_PORT
pid=$(<"$D/slapd.pid")
ok "restart-slapd" "$S" restart-slapd "$D"
lacks "slapd got a new process" "$(<"$D/slapd.pid")" "$pid"
ok "same port after restart" ldapwhoami -x -H "ldap://127.0.0.1:$port" -D "$C" -w "$PW_C"
ok "data kept across restart" ldap_root -b "$C" -s base uid
contains "C still there" "$OUT" "uid: sbxc"

pid=$(<"$D/slapd.pid")
ok "kill-slapd" "$S" kill-slapd "$D"
ok "killed slapd is gone" pid_gone "$pid"
fails "LDAP is down after kill-slapd" 255 ldapwhoami -x -H "$LDAP_URI"
ok "restart-slapd after a crash" "$S" restart-slapd "$D"
ok "ldapi answers again" ldapwhoami -Q -Y EXTERNAL -H "$LDAPI_URI"

pid=$(<"$D/slapd.pid")
ok "stop" "$S" stop "$D"
ok "stop ended slapd by its PID" pid_gone "$pid"
fails "LDAP is down after stop" 255 ldapwhoami -x -H "$LDAP_URI"
ok "stop is idempotent" "$S" stop "$D"
ok "stop leaves the directory for inspection" test -d "$D/slapd.d"
fails "start refuses a stopped sandbox" 1 "$S" start "$D" --no-provd
contains "and says so" "$ERR" "stopped sandbox"
ok "resume starts it again" "$S" resume "$D"
ok "slapd answers on its port" ldapwhoami -x -H "ldap://127.0.0.1:$port" -D "$C" -w "$PW_C"
ok "resume of a running sandbox leaves it be" "$S" resume "$D"
ok "stop it again" "$S" stop "$D"

# --- resume with provd: all four come back where they were (make run) ---------------
P=$(mktemp -d /tmp/provd-test.XXXXXX)
chmod 755 "$P"
_t_sandboxes+=("$P")
ok "a sandbox with provd" "$S" start "$P" --provd "$BUILD/provd"
penv=$OUT
ok "stop it" "$S" stop "$P"
ok "resume it" "$S" resume "$P" --provd "$BUILD/provd"
ok "provd answers" bash -c "$penv"' && "$1" ping' _ "$BUILD/provctl"
ok "provd-ocsp answers at OCSP_URL" bash -c "$penv"' && curl -s -o /dev/null "$OCSP_URL"'
ok "provd-self answers at SELF_URL, the page provd.conf names" \
	bash -c "$penv"' && curl -sf -o /dev/null "$SELF_URL" && grep -qF "$SELF_URL" "$SANDBOX_DIR/provd.conf"'

# --- units.csv is checked before anything starts ------------------------------------
T=$(mktemp -d /tmp/provd-test.XXXXXX)
at_exit rm -rf -- "$T"
printf 'code,name,kind,parent\nxa-a,"Xã A, B",commune,huyen-khong-co\n' >"$T/units.csv"
fails "unit with an unknown parent is refused" 1 "$S" start "$T/sbx" --no-provd --units "$T/units.csv"
contains "error names the field" "$ERR" "field parent"
fails "nothing left running" 1 test -e "$T/sbx/slapd.pid"

done_testing
