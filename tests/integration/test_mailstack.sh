#!/usr/bin/env bash
# The real mail stack reading what provd writes: Dovecot 2.3 (passdb and
# userdb over LDAP, in lookup mode and with auth binds) and Postfix 3.x
# (postmap over the LDAP tables), both using the files shipped in etc/ as
# they are, with only the server address and the service password filled
# in.  Accounts are made with provctl; then disable, enable, a new
# generated password and a move between units must show in every lookup.
#
# Dovecot runs from private configuration files under a temporary
# directory (own base_dir, state_dir, instance_name; no listeners), Postfix
# only as postmap with a private config directory.  Nothing under /etc is
# read or written.  Skipped only when the packages cannot be installed.
#
# shellcheck disable=SC2317  # functions run indirectly, through ok/fails/at_exit
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/mailstack.sh
. "$(dirname "$0")/../mailstack.sh"

DOMAIN=vinhphuc.gov.vn
LOCKED='(!(pwdAccountLockedTime=000001010000Z))'

# --- packages --------------------------------------------------------------------

mail_stack_needed

sandbox_up
P=ou=people,$LDAP_BASE
MAILPW=$(<"$SANDBOX_DIR/mail.secret")

TMP=$(mktemp -d /tmp/provd-mail.XXXXXX)
# Dovecot's auth processes run as the dovecot user and must reach their
# sockets below this directory.
chmod 755 "$TMP"
at_exit rm -rf -- "$TMP"


# --- Dovecot: three private instances ---------------------------------------------
#   lookup    dovecot-ldap.conf.ext as shipped: Dovecot verifies the hash;
#             over ldapi, from the auth process running as user dovecot
#   bind      the same with auth_bind = yes: slapd verifies the password;
#             over TCP
#   ppolicy   auth_bind = yes with the lock left out of the filters, to show
#             that in bind mode slapd's password policy refuses a disabled
#             account on its own (so "bind" really binds)


# The shipped LMTP listener: Dovecot accepts it, and it is where
# main.cf.snippet's virtual_transport points inside Postfix's queue
# directory.
lmtp_conf=$TMP/lmtp-check.conf
printf 'protocols = imap\n!include %s\n' "$REPO/etc/dovecot/20-lmtp-postfix.conf" >"$lmtp_conf"
ok "doveconf accepts 20-lmtp-postfix.conf" doveconf -n -c "$lmtp_conf"
contains "lmtp is a protocol" "$OUT" "protocols = imap lmtp"
contains "the listener" "$OUT" "unix_listener /var/spool/postfix/private/dovecot-lmtp"
contains "owned by postfix" "$(sed -n '/dovecot-lmtp {/,/}/p' <<<"$OUT")" "user = postfix"
listener=$(sed -n 's/^ *unix_listener \(.*\) {$/\1/p' <<<"$OUT" | grep lmtp)
transport=$(sed -n 's/^virtual_transport = lmtp:unix://p' "$REPO/etc/postfix/main.cf.snippet")
eq "Postfix's transport is that listener (queue directory /var/spool/postfix)" \
	"/var/spool/postfix/$transport" "$listener"
contains "the mail user the docs create" "$(<"$REPO/docs/mailstack.md")" \
	"adduser --system --group --home /var/vmail --no-create-home vmail"

dovecot_start lookup "$LDAPI_URI"
dovecot_start bind "$LDAP_URI" auth_bind yes
dovecot_start ppolicy "$LDAP_URI" auth_bind yes \
	pass_filter '(\&(objectClass=inetOrgPerson)(mail=%u))' \
	user_filter '(\&(objectClass=inetOrgPerson)(mail=%u))'


userdb() {
	doveadm -c "$(dconf "$1")" user "$2"
}

contains "ppolicy instance has no lock in its filter" \
	"$(grep '^pass_filter' "$TMP/dovecot-ppolicy/ldap.conf.ext")" '(mail=%u))'
lacks "... while the shipped filter has it" \
	"$(grep '^pass_filter' "$TMP/dovecot-ppolicy/ldap.conf.ext")" "$LOCKED"

# --- Postfix: postmap with a private config directory ---------------------------

PF=$TMP/postfix
mkdir -m 755 "$PF"
printf 'compatibility_level = 3.6\n' >"$PF/main.cf"
for f in ldap-mailboxes ldap-aliases ldap-units-staff ldap-units-children ldap-units-aliases \
	ldap-units-empty; do
	configure "$REPO/etc/postfix/$f.cf" "$PF/$f.cf" '|' \
		server_host "$LDAP_URI" bind_pw "$MAILPW"
	[[ $f == ldap-units-empty || $f == ldap-units-children || $f == ldap-units-aliases ]] ||
		contains "$f.cf: the filter excludes disabled accounts" "$(<"$PF/$f.cf")" "$LOCKED"
done
chmod 600 "$PF"/*.cf
# Postfix waits on map files younger than a second.
touch -d '-1 minute' "$PF"/*.cf

# lookup MAP KEY: the raw result of one table (exit 1 when not found).
# "ldap-units" is the unit address: the unionmap main.cf.snippet wires.
lookup() {
	if [[ $1 == ldap-units ]]; then
		postmap -c "$PF" -q "$2" \
			"unionmap:{ldap:$PF/ldap-units-staff.cf, ldap:$PF/ldap-units-children.cf, ldap:$PF/ldap-units-aliases.cf}"
	else
		postmap -c "$PF" -q "$2" "ldap:$PF/$1.cf"
	fi
}
ok "main.cf.snippet wires the unit address as that unionmap" \
	grep -qF 'unionmap:{ldap:/etc/postfix/ldap-units-staff.cf,' "$REPO/etc/postfix/main.cf.snippet"
ok "... with the addresses of merged units in it" \
	grep -qF 'ldap:/etc/postfix/ldap-units-aliases.cf}' "$REPO/etc/postfix/main.cf.snippet"

# Where Postfix delivers ADDRESS: virtual_alias_maps (aliases, then unit
# addresses) applied recursively the way cleanup(8) does it, then the
# mailbox table and the transport table for the addresses left.  Prints
# "mailbox ADDR", "discard ADDR" or "unknown ADDR" per final recipient,
# sorted.
resolve() {
	local queue=("$1") seen=' ' out=() more=() a r
	while ((${#queue[@]})); do
		a=${queue[0]}
		queue=("${queue[@]:1}")
		[[ $seen != *" $a "* ]] || continue
		seen+="$a "
		if r=$(lookup ldap-aliases "$a") || r=$(lookup ldap-units "$a"); then
			IFS=, read -r -a more <<<"$r"
			queue+=("${more[@]}")
		elif lookup ldap-mailboxes "$a" >/dev/null; then
			out+=("mailbox $a")
		elif lookup ldap-units-empty "$a" >/dev/null; then
			out+=("discard $a")
		else
			out+=("unknown $a")
		fi
	done
	printf '%s\n' "${out[@]}" | sort
}

# --- accounts -----------------------------------------------------------------------

declare -A PW

# add LOGIN NAME UNIT EMPLOYEE_ID: provctl user add, remembering the
# initial password from the JSON reply.
add() {
	ok "user add $1" provctl -f json user add --name "$2" --unit "$3" --employee-id "$4"
	contains "$1: login as expected" "$OUT" "\"login\":\"$1\""
	if [[ $OUT =~ \"password\":\"([^\"]+)\" ]]; then
		PW[$1]=${BASH_REMATCH[1]}
	else
		printf 'Bail out! no password in the reply to user add %s\n' "$1"
		exit 1
	fi
}

add annv 'Nguyễn Văn An' so-tai-chinh VP9000001
add binhtt 'Trần Thị Bình' so-tai-chinh VP9000002
add cuongpv 'Phạm Văn Cường' huyen-tam-dao VP9000003
add dunglt 'Lê Thị Dung' xa-kim-phu-tam-dao VP9000004

# The account commands below are provctl's; a build that lacks one gets the
# same directory change made with ldapmodify (as the rootdn), so the mail
# side is still tested.  ADMIN_VIA says which way each one went.
ldap_modify() {
	ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
}

fallback_disable() {
	ldap_modify <<EOF
dn: uid=$1,$P
changetype: modify
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF
}
fallback_enable() {
	ldap_modify <<EOF
dn: uid=$1,$P
changetype: modify
delete: pwdAccountLockedTime
EOF
}
fallback_move() {
	ldap_modify <<EOF
dn: uid=$1,$P
changetype: modify
replace: departmentNumber
departmentNumber: $2
EOF
}
fallback_alias() {
	ldap_modify <<EOF
dn: uid=$1,$P
changetype: modify
add: mailLocalAddress
mailLocalAddress: $2
EOF
}
fallback_passwd() {
	local pw hash
	pw=$(head -c 15 /dev/urandom | base64 | tr -d '/+=')
	hash=$(slappasswd -o module-load=pw-sha2 -h '{SSHA512}' -s "$pw")
	ldap_modify <<EOF
dn: uid=$1,$P
changetype: modify
replace: userPassword
userPassword: $hash
-
replace: pwdReset
pwdReset: TRUE
EOF
	printf '{"login":"%s","password":"%s"}\n' "$1" "$pw"
}

# admin NAME FALLBACK ARGS... -- PROVCTL_ARGS...: run provctl; when this
# build does not have the command, run FALLBACK ARGS... instead.
ADMIN_VIA=''
admin() {
	local name=$1 fb=$2 args=() rc=0
	shift 2
	while (($#)) && [[ $1 != -- ]]; do
		args+=("$1")
		shift
	done
	shift
	OUT=$(provctl -f json "$@" 2>"$TMP/admin.err") || rc=$?
	ERR=$(<"$TMP/admin.err")
	if ((rc == 2)) && [[ $ERR == *'not available in this build'* ]]; then
		ADMIN_VIA+="$1 $2 (ldapmodify); "
		ok "$name (ldapmodify: provctl $1 $2 not in this build)" "$fb" "${args[@]}"
	else
		ADMIN_VIA+="$1 $2 (provctl); "
		RC=$rc
		eq "$name" "$RC" 0
		((RC == 0)) || diag "provctl $*: $ERR"
	fi
}

admin "alias add an.nguyen for annv" fallback_alias annv "an.nguyen@$DOMAIN" -- \
	alias add annv "an.nguyen@$DOMAIN"

A=annv@$DOMAIN

# Every check of one account, active: logins in both Dovecot modes, the
# userdb, and the three Postfix tables.
expect_active() {
	local what=$1 pw=$2
	ok "$what: Dovecot lookup mode accepts the password" auth lookup "$A" "$pw"
	contains "$what: ... canonical user name" "$OUT" "user=$A"
	ok "$what: Dovecot auth_bind mode accepts it" auth bind "$A" "$pw"
	ok "$what: slapd accepts the bind (lock not in the filter)" auth ppolicy "$A" "$pw"
	ok "$what: userdb finds the mailbox" userdb lookup "$A"
	ok "$what: userdb on the connection that just did an auth bind" userdb bind "$A"
	ok "$what: Postfix mailbox table" lookup ldap-mailboxes "$A"
	eq "$what: ... mailbox path" "$OUT" "$DOMAIN/annv/"
	ok "$what: Postfix alias table" lookup ldap-aliases "an.nguyen@$DOMAIN"
	eq "$what: ... alias reaches the canonical address" "$OUT" "$A"
}

# --- active ---------------------------------------------------------------------------

expect_active "new account" "${PW[annv]}"
fails "wrong password refused (lookup)" 77 auth lookup "$A" not-the-password
fails "wrong password refused (bind)" 77 auth bind "$A" not-the-password
ok "login name is case-insensitive (auth_username_format = %Lu)" \
	auth lookup "ANNV@VinhPhuc.Gov.VN" "${PW[annv]}"
fails "an alias is not a login name" 77 auth lookup "an.nguyen@$DOMAIN" "${PW[annv]}"
fails "an unknown address is refused" 77 auth lookup "nobody@$DOMAIN" "${PW[annv]}"
fails "a filter wildcard in the login matches nobody" 77 auth lookup "ann*@$DOMAIN" "${PW[annv]}"
fails "a filter in the login matches nobody" 77 auth lookup "x)(mail=$A" "${PW[annv]}"
ok "others log in as well" auth bind "dunglt@$DOMAIN" "${PW[dunglt]}"

ok "userdb" userdb lookup "$A"
contains "userdb: home under /var/vmail/<domain>/<local part>" "$OUT" "/var/vmail/$DOMAIN/annv"
contains "userdb: quota from provdMailQuota, in bytes" "$OUT" "*:bytes=2147483648"

fails "Postfix: unknown address not a mailbox" 1 lookup ldap-mailboxes "nobody@$DOMAIN"
fails "Postfix: only the mail domain is looked up" 1 lookup ldap-mailboxes "annv@example.org"
fails "Postfix: a wildcard in the address matches nothing" 1 lookup ldap-mailboxes "ann*@$DOMAIN"
fails "... nor in an alias" 1 lookup ldap-aliases "an.*@$DOMAIN"
fails "... nor in a unit address" 1 lookup ldap-units "so-tai-*@$DOMAIN"
fails "Postfix: a canonical address is no alias" 1 lookup ldap-aliases "$A"
fails "Postfix: a person is no unit" 1 lookup ldap-units "$A"

ok "unit address so-tai-chinh" lookup ldap-units "so-tai-chinh@$DOMAIN"
eq "... is its two people" "$(tr , '\n' <<<"$OUT" | sort | paste -sd,)" \
	"annv@$DOMAIN,binhtt@$DOMAIN"
ok "unit address of a commune" lookup ldap-units "xa-kim-phu-tam-dao@$DOMAIN"
eq "... is its one person" "$OUT" "dunglt@$DOMAIN"
ok "unit address of a district" lookup ldap-units "huyen-tam-dao@$DOMAIN"
contains "... has the district's own staff" "$OUT" "cuongpv@$DOMAIN"
contains "... and its communes' addresses" "$OUT" "xa-kim-phu-tam-dao@$DOMAIN"
lacks "... but no unit name" "$OUT" "Huyện"
fails "an empty commune has no address" 1 lookup ldap-units "xa-te-lien-tam-dao@$DOMAIN"
ok "... and is discarded when reached through its district" \
	lookup ldap-units-empty "xa-te-lien-tam-dao@$DOMAIN"
contains "... by the discard transport" "$OUT" "discard:"
fails "no unit, no discard" 1 lookup ldap-units-empty "$A"
fails "an unknown unit has no address" 1 lookup ldap-units "no-such-unit@$DOMAIN"

district=$(resolve "huyen-tam-dao@$DOMAIN")
contains "district resolves to its own staff" "$district" "mailbox cuongpv@$DOMAIN"
contains "... and its communes' staff" "$district" "mailbox dunglt@$DOMAIN"
lacks "... no one bounces" "$district" "unknown "
lacks "... nobody from elsewhere" "$district" "annv@"
eq "alias resolves to the mailbox" "$(resolve "an.nguyen@$DOMAIN")" "mailbox $A"

# --- disable ----------------------------------------------------------------------------

admin "disable annv" fallback_disable annv -- user disable annv --reason 'mail stack test'
fails "disabled: Dovecot lookup mode refuses" 77 auth lookup "$A" "${PW[annv]}"
fails "disabled: Dovecot auth_bind mode refuses" 77 auth bind "$A" "${PW[annv]}"
fails "disabled: slapd's ppolicy refuses the bind by itself" 77 auth ppolicy "$A" "${PW[annv]}"
fails "disabled: userdb does not know the mailbox" any userdb lookup "$A"
fails "disabled: not a Postfix mailbox" 1 lookup ldap-mailboxes "$A"
fails "disabled: its alias is gone" 1 lookup ldap-aliases "an.nguyen@$DOMAIN"
ok "disabled: the unit address still works" lookup ldap-units "so-tai-chinh@$DOMAIN"
eq "... without the disabled person" "$OUT" "binhtt@$DOMAIN"
eq "disabled: the alias resolves to nothing" "$(resolve "an.nguyen@$DOMAIN")" \
	"unknown an.nguyen@$DOMAIN"
ok "disabled: others still log in" auth lookup "binhtt@$DOMAIN" "${PW[binhtt]}"

# --- enable ------------------------------------------------------------------------------

admin "enable annv" fallback_enable annv -- user enable annv
expect_active "enabled again" "${PW[annv]}"
ok "enabled: back in the unit address" lookup ldap-units "so-tai-chinh@$DOMAIN"
contains "... annv" "$OUT" "$A"

# --- a generated password ----------------------------------------------------------------

old=${PW[annv]}
admin "new generated password" fallback_passwd annv -- user passwd annv --generate
if [[ $OUT =~ \"password\":\"([^\"]+)\" ]]; then
	PW[annv]=${BASH_REMATCH[1]}
else
	PW[annv]=''
fi
ok "passwd --generate printed the password" test -n "${PW[annv]}"
expect_active "new password" "${PW[annv]}"
fails "the old password no longer works (lookup)" 77 auth lookup "$A" "$old"
fails "the old password no longer works (bind)" 77 auth bind "$A" "$old"

# --- move between units -------------------------------------------------------------------

admin "move annv to so-noi-vu" fallback_move annv so-noi-vu -- user move annv --unit so-noi-vu
ok "moved: the old unit address" lookup ldap-units "so-tai-chinh@$DOMAIN"
eq "... no longer has annv" "$OUT" "binhtt@$DOMAIN"
ok "moved: the new unit address" lookup ldap-units "so-noi-vu@$DOMAIN"
eq "... has annv" "$OUT" "$A"
expect_active "moved" "${PW[annv]}"

admin "move annv to a commune" fallback_move annv xa-kim-phu-tam-dao -- \
	user move annv --unit xa-kim-phu-tam-dao
contains "moved into a commune: its district reaches annv" \
	"$(resolve "huyen-tam-dao@$DOMAIN")" "mailbox $A"
fails "... and the old unit has no address left" 1 lookup ldap-units "so-noi-vu@$DOMAIN"

# --- units that change after their district has staff -------------------------------------
# slapd returns entries in creation order: a commune made now comes after
# every person of its district.
ok "unit add: a new commune of huyen-tam-dao" provctl unit add xa-moi-tam-dao \
	--name 'Xã Mới' --kind commune --parent huyen-tam-dao
add emtv 'Trần Văn Em' xa-moi-tam-dao VP9000005
ok "the new commune's address" lookup ldap-units "xa-moi-tam-dao@$DOMAIN"
eq "... is its one person" "$OUT" "emtv@$DOMAIN"
ok "the district's address after the new commune" lookup ldap-units "huyen-tam-dao@$DOMAIN"
contains "... lists the new commune" "$OUT" "xa-moi-tam-dao@$DOMAIN"
contains "... and still the district's own staff" "$OUT" "cuongpv@$DOMAIN"
contains "the district reaches the new commune's staff" \
	"$(resolve "huyen-tam-dao@$DOMAIN")" "mailbox emtv@$DOMAIN"

ok "unit modify: the commune moves to huyen-lap-thach" provctl unit modify xa-moi-tam-dao \
	--parent huyen-lap-thach
lacks "moved commune: no longer in its old district" \
	"$(resolve "huyen-tam-dao@$DOMAIN")" "emtv@"
contains "moved commune: reached through its new district" \
	"$(resolve "huyen-lap-thach@$DOMAIN")" "mailbox emtv@$DOMAIN"

ok "unit modify: the commune is renamed" provctl unit modify xa-moi-tam-dao --name 'Xã Mới Thành'
ok "renamed: its address is unchanged" lookup ldap-units "xa-moi-tam-dao@$DOMAIN"
eq "... and still its person" "$OUT" "emtv@$DOMAIN"
ok "renamed: its district's address" lookup ldap-units "huyen-lap-thach@$DOMAIN"
contains "... still lists it" "$OUT" "xa-moi-tam-dao@$DOMAIN"
lacks "... and never its name" "$OUT" "Mới"
contains "renamed: the district still reaches its staff" \
	"$(resolve "huyen-lap-thach@$DOMAIN")" "mailbox emtv@$DOMAIN"

diag "account changes made with: $ADMIN_VIA"

# --- first login: the self-service page, in a real browser --------------------------------
# A new person reads the initial password from the onboarding letter,
# changes it on the page (headless Chromium, keyboard only), and from then
# on only the new one opens the mailbox.
SHOTS=$BUILD/screenshots
mkdir -p "$SHOTS"
ok "add a person for the page" provctl -f json user add --name 'Phùng Thị Hạnh' \
	--unit so-tai-chinh --employee-id MS0100
H=hanhpt@$DOMAIN
HPW=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["password"])' <<<"$OUT")
ok "the initial password opens the mailbox before its deadline" auth lookup "$H" "$HPW"
HNEW='Hoa-ban-trang-Tay-Bac'
ok "browser: a wrong current password" /usr/bin/python3 "$TESTS_DIR/tools/self_browser.py" \
	"$SELF_URL" hanhpt 'not-my-password' "$HNEW" "$SHOTS" selfservice-error
eq "browser: ... is refused with its message" "$(head -n 1 <<<"$OUT")" wrong-credentials
contains "browser: ... in Vietnamese" "$OUT" "mật khẩu hiện tại không đúng"
ok "browser: change the initial password" /usr/bin/python3 "$TESTS_DIR/tools/self_browser.py" \
	"$SELF_URL" "$H" "$HPW" "$HNEW" "$SHOTS" selfservice-success
eq "browser: the success page" "$(head -n 1 <<<"$OUT")" changed
for shot in selfservice-error-form selfservice-error-result selfservice-success-result; do
	ok "screenshot $shot.png saved" test -s "$SHOTS/$shot.png"
done
ok "Dovecot (lookup) accepts the new password" auth lookup "$H" "$HNEW"
fails "Dovecot (lookup) refuses the old one" 77 auth lookup "$H" "$HPW"
ok "Dovecot (auth_bind) accepts the new password" auth bind "$H" "$HNEW"
fails "Dovecot (auth_bind) refuses the old one" 77 auth bind "$H" "$HPW"
eq "pwdReset is gone" "$(ldap_root -b "uid=hanhpt,$P" -s base pwdReset | ldif_values pwdReset)" ""

# --- an initial password nobody used expires everywhere ----------------------------------
ok "add a person who never comes" provctl -f json user add --name 'Kiều Văn Khánh' \
	--unit so-tai-chinh --employee-id MS0101
K=khanhkv@$DOMAIN
KPW=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["password"])' <<<"$OUT")
ok "before the deadline: lookup mode accepts it" auth lookup "$K" "$KPW"
ok "before the deadline: auth_bind mode accepts it" auth bind "$K" "$KPW"
ok "the deadline passes" ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" <<EOF
dn: uid=khanhkv,$P
changetype: modify
replace: pwdEndTime
pwdEndTime: 20200101000000Z
EOF
fails "expired: auth_bind mode refuses at once (slapd's pwdEndTime)" 77 auth bind "$K" "$KPW"
gone=1
for _ in $(seq 1 150); do
	auth lookup "$K" "$KPW" >/dev/null 2>&1 || { gone=0; break; }
	sleep 0.2
done
eq "expired: lookup mode refuses once provd removed the password" "$gone" 0
fails "expired: ... and keeps refusing" 77 auth lookup "$K" "$KPW"
ok "report passwords counts it" provctl -f json report passwords --unit so-tai-chinh
contains "... as expired" "$OUT" '"passwords_expired":1'

# --- a reorganisation: Vĩnh Phúc into Phú Thọ (etc/reorg) ----------------------------------
# docs/operations.md, "Reorganising the province": the maps first take both
# domains, then provd.conf names the new one, then the plan is applied.
NEWD=phutho.gov.vn
add tuanlv 'Lê Văn Tuấn' so-tai-chinh MS0201
add landt 'Đỗ Thị Lan' so-ke-hoach-dau-tu MS0202
eq "before: the person's address" "$(resolve "tuanlv@$DOMAIN")" "mailbox tuanlv@$DOMAIN"
contains "before: the unit address" "$(resolve "so-ke-hoach-dau-tu@$DOMAIN")" "mailbox landt@$DOMAIN"
sed -i "s/^domain = .*/domain = $NEWD, $DOMAIN/" "$PF"/*.cf
touch -d '-1 minute' "$PF"/*.cf
python3 - "$SANDBOX_DIR/provd.conf" "$NEWD" "$DOMAIN" <<'PY'
import sys
p, new, old = sys.argv[1:]
s = open(p).read()
s = s.replace('domain = "%s";' % old, 'domain = "%s";\n  previous_domains = [ "%s" ];' % (new, old))
s = s.replace('organization = "UBND tỉnh Vĩnh Phúc";', 'organization = "UBND tỉnh Phú Thọ";')
open(p, 'w').write(s)
PY
ok "provd restarts with the new domain" bash -c "'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR' &&
	'$SANDBOX_TOOL' start-provd '$SANDBOX_DIR' --provd '$BUILD/provd'"
ok "... and has read the units" within 30 provctl unit list
ok "reorg plan" provctl reorg plan "$REPO/etc/reorg/vinh-phuc-2025.csv"
ok "reorg apply" provctl reorg apply "$REPO/etc/reorg/vinh-phuc-2025.csv"
eq "after: the new address is the mailbox" "$(resolve "tuanlv@$NEWD")" "mailbox tuanlv@$NEWD"
eq "after: the old address still delivers to it" "$(resolve "tuanlv@$DOMAIN")" "mailbox tuanlv@$NEWD"
merged=$(resolve "pt-so-tai-chinh@$NEWD")
contains "the merged department's address reaches the staff of one old department" \
	"$merged" "mailbox tuanlv@$NEWD"
contains "... and of the other" "$merged" "mailbox landt@$NEWD"
eq "an old department's address, new domain, expands to the merged staff" \
	"$(resolve "so-ke-hoach-dau-tu@$NEWD")" "$merged"
eq "... and in the old domain" "$(resolve "so-ke-hoach-dau-tu@$DOMAIN")" "$merged"
ok "Dovecot (lookup) logs the person in at the new address" auth lookup "tuanlv@$NEWD" "${PW[tuanlv]}"
ok "Dovecot (auth_bind) too" auth bind "tuanlv@$NEWD" "${PW[tuanlv]}"
ok "Dovecot's userdb" userdb lookup "tuanlv@$NEWD"
contains "... a home in the new domain" "$OUT" "/var/vmail/$NEWD/tuanlv"

# --- the old domain ends (mail.old_domains, until) --------------------------------------
# provd writes the domain lists the Postfix maps read (mail.domain_lists_dir):
# while the old domain is delivered it is in them; from its until date it
# leaves them and its addresses leave the accounts.  A date in the past
# stands for the day coming.
LISTS=$SANDBOX_DIR/state/mail-domains
mkdir -m 755 "$LISTS"
chown --reference="$SANDBOX_DIR/state" "$LISTS"
# set_until DATE: provd.conf keeps the old domain until DATE, lists in $LISTS.
set_until() {
	python3 - "$SANDBOX_DIR/provd.conf" "$DOMAIN" "$1" "$LISTS" <<'PY'
import re, sys
p, old, until, lists = sys.argv[1:]
s = open(p).read()
s = re.sub(r'\n  (previous_domains|old_domains|domain_lists_dir) = [^\n]*', '', s)
s = s.replace('\n  domain = ', '\n  old_domains = ( { domain = "%s"; kind = "previous"; until = "%s"; } );'
              '\n  domain_lists_dir = "%s";\n  domain = ' % (old, until, lists), 1)
open(p, 'w').write(s)
PY
}
set_until 2999-12-31
ok "provd restarts with the old domain kept until 2999-12-31" bash -c "'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR' &&
	'$SANDBOX_TOOL' start-provd '$SANDBOX_DIR' --provd '$BUILD/provd'"
ok "... and has read the units" within 30 provctl unit list
# (provd writes the lists once it has the directory, in the background)
# shellcheck disable=SC2317
lists_are() { [[ $(cat "$LISTS/domains" 2>&1) == "$1" && $(cat "$LISTS/unit-domains" 2>&1) == "$1" ]]; }
within 30 lists_are "$NEWD
$DOMAIN"
eq "the domain list names both domains" "$(cat "$LISTS/domains" 2>&1)" "$NEWD
$DOMAIN"
eq "... and so does the unit list" "$(cat "$LISTS/unit-domains" 2>&1)" "$NEWD
$DOMAIN"
for f in ldap-mailboxes ldap-aliases; do
	sed -i "s|^domain = .*|domain = $LISTS/domains|" "$PF/$f.cf"
done
for f in ldap-units-staff ldap-units-children ldap-units-aliases ldap-units-empty; do
	sed -i "s|^domain = .*|domain = $LISTS/unit-domains|" "$PF/$f.cf"
done
touch -d '-1 minute' "$PF"/*.cf "$LISTS"/*
eq "before the date: the old address delivers" "$(resolve "tuanlv@$DOMAIN")" "mailbox tuanlv@$NEWD"
eq "before the date: the old unit address expands to the merged staff" \
	"$(resolve "so-ke-hoach-dau-tu@$DOMAIN")" "$merged"
ok "before the date: an alias in the old domain is accepted" \
	provctl alias add tuanlv "tuan.le@$DOMAIN"
eq "... and delivers" "$(resolve "tuan.le@$DOMAIN")" "mailbox tuanlv@$NEWD"

set_until 2020-01-01
ok "provd restarts after the date" bash -c "'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR' &&
	'$SANDBOX_TOOL' start-provd '$SANDBOX_DIR' --provd '$BUILD/provd'"
ok "... and has read the units" within 30 provctl unit list
# old_aliases: how many mailLocalAddress values are in the old domain.
old_aliases() {
	ldap_root -b "$P" '(mailLocalAddress=*)' mailLocalAddress |
		grep -ci "^mailLocalAddress: .*@$DOMAIN\$" || true
}
swept=1
for _ in $(seq 1 150); do
	[[ $(old_aliases) == 0 ]] && { swept=0; break; }
	sleep 0.2
done
eq "after the date: provd removed every address in the old domain" "$swept" 0
within 30 lists_are "$NEWD"
eq "after the date: the domain list names the new domain only" "$(cat "$LISTS/domains" 2>&1)" "$NEWD"
eq "... and so does the unit list" "$(cat "$LISTS/unit-domains" 2>&1)" "$NEWD"
touch -d '-1 minute' "$LISTS"/*
eq "after the date: the old address no longer delivers" "$(resolve "tuanlv@$DOMAIN")" \
	"unknown tuanlv@$DOMAIN"
eq "... nor the alias added before it" "$(resolve "tuan.le@$DOMAIN")" "unknown tuan.le@$DOMAIN"
eq "... nor the old unit address" "$(resolve "so-ke-hoach-dau-tu@$DOMAIN")" \
	"unknown so-ke-hoach-dau-tu@$DOMAIN"
eq "the new address still delivers" "$(resolve "tuanlv@$NEWD")" "mailbox tuanlv@$NEWD"
eq "... and the new unit address" "$(resolve "pt-so-tai-chinh@$NEWD")" "$merged"
fails "an alias in the old domain is refused (6)" 6 provctl alias add tuanlv "tuan.lv@$DOMAIN"
contains "... naming the date" "$ERR" "until 2020-01-01"

# --- shut Dovecot down ---------------------------------------------------------------------

dovecot_stop_all

done_testing
