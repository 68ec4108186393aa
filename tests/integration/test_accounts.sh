#!/usr/bin/env bash
# The account lifecycle commands against a real slapd: user modify, move,
# disable, enable, delete, purge, passwd; alias add/remove; unit add/modify;
# whois; and the role check for a caller without any role.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
B=$LDAP_BASE
P=ou=people,$B
TMP=$(mktemp -d /tmp/provd-accounts.XXXXXX)
at_exit rm -rf -- "$TMP"

# Bind as a person over TCP, as a mail server would (simple bind + ppolicy).
bind_as() {
	ldapwhoami -x -H "$LDAP_URI" -D "uid=$1,$P" -w "$2" -e ppolicy
}

# One attribute of an account, read back as the rootdn.
attr_of() {
	ldap_root -b "uid=$1,$P" -s base "$2" | ldif_values "$2"
}

ok "create annv" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "create binhtt" provctl user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id NV0002
ok "create dungpv in a commune" provctl user add --name 'Phạm Văn Dũng' --unit xa-kim-phu-tam-dao --employee-id NV0003

# --- user modify ----------------------------------------------------------------
ok "modify title, phone, quota" provctl user modify annv --title 'Phó Giám đốc' --phone '0912 345 678' --quota 5G
eq "title written" "$(attr_of annv title)" "Phó Giám đốc"
eq "phone normalised" "$(attr_of annv telephoneNumber)" "0912345678"
eq "quota in bytes" "$(attr_of annv provdMailQuota)" 5368709120
ok "modify the name" provctl user modify annv --name '  nguyễn   văn   ân '
eq "cn is the normalised new name" "$(attr_of annv cn)" "Nguyễn Văn Ân"
eq "displayName follows" "$(attr_of annv displayName)" "Nguyễn Văn Ân"
eq "givenName follows" "$(attr_of annv givenName)" "Văn Ân"
eq "sn follows" "$(attr_of annv sn)" "Nguyễn"
eq "the login stays" "$(attr_of annv uid)" annv
eq "the old mail stays" "$(attr_of annv mail)" "annv@vinhphuc.gov.vn"
ok "--title '' removes the title" provctl user modify annv --title ''
eq "no title left" "$(attr_of annv title)" ""
ok "removing an absent title is fine" provctl user modify annv --title ''
fails "modify without options is a usage error" 2 provctl user modify annv
fails "modify an unknown login" 3 provctl user modify nosuchlogin --title x
contains "not-found names the login" "$ERR" "nosuchlogin"
fails "a bad phone is refused" 6 provctl user modify annv --phone 'call me'
contains "the message names the field" "$ERR" "phone:"
fails "a digit in a new name is refused" 6 provctl user modify annv --name 'Nguyễn Văn An2'
contains "the message names the field and the digit" "$ERR" "name: full_name: '2' (U+0032) at character 14"
fails "so is one in a new account's name" 6 provctl user add --name 'Lý Thị Mai2' --unit so-noi-vu --employee-id NV0999
contains "named" "$ERR" "names have no digits"
fails "a bad quota is refused" 2 provctl user modify annv --quota lots
contains "quota named" "$ERR" "quota:"
fails "a malformed login is refused" 6 provctl user modify 'x)(uid=*' --title x
contains "login named" "$ERR" "login:"

# --- user move -------------------------------------------------------------------
ok "move annv to a district" provctl -f json user move annv --unit huyen-tam-dao
contains "move reports the certificates" "$OUT" '"certificates":"no certificates"'
eq "departmentNumber changed" "$(attr_of annv departmentNumber)" huyen-tam-dao
eq "unit name attribute changed" "$(attr_of annv ou)" "Huyện Tam Đảo"
fails "move to the same unit is a conflict" 4 provctl user move annv --unit huyen-tam-dao
fails "move to an unknown unit" 3 provctl user move annv --unit no-such-unit
contains "unknown unit named" "$ERR" "unit: unknown unit 'no-such-unit'"
fails "move without --unit" 2 provctl user move annv

# --- user passwd -----------------------------------------------------------------
printf 'Mat-khau-rat-dai-2026\n' >"$TMP/pw1"
printf 'Mat-khau-khac-2026\n' >"$TMP/pw2"
printf 'short\n' >"$TMP/short"
ok "set a chosen password from a file" provctl -f json user passwd annv --password-file "$TMP/pw1"
contains "no pwdReset without --must-change" "$OUT" '"must_change":false'
lacks "the chosen password is not echoed" "$OUT" "Mat-khau-rat-dai-2026"
contains "stored as yescrypt" "$(attr_of annv userPassword)" '{CRYPT}$y$'
eq "pwdReset removed" "$(ldap_root -b "uid=annv,$P" -s base pwdReset | ldif_values pwdReset)" ""
ok "bind with the new password" bind_as annv 'Mat-khau-rat-dai-2026'
eq "bound as annv" "$OUT" "dn:uid=annv,$P"
lacks "no change demanded" "$ERR" "must be changed"
ok "set another chosen password" provctl user passwd annv --password-file "$TMP/pw2"
fails "the old password no longer binds" 49 bind_as annv 'Mat-khau-rat-dai-2026'
ok "the newest one binds" bind_as annv 'Mat-khau-khac-2026'
ok "--must-change sets pwdReset" provctl user passwd annv --password-file "$TMP/pw2" --must-change
eq "pwdReset TRUE" "$(ldap_root -b "uid=annv,$P" -s base pwdReset | ldif_values pwdReset)" TRUE
ok "a must-change password still binds" bind_as annv 'Mat-khau-khac-2026'
contains "and ppolicy asks for a change" "$ERR" "Password must be changed"
fails "a short chosen password is refused" 6 provctl user passwd annv --password-file "$TMP/short"
contains "policy message names the field" "$ERR" "password:"
fails "two sources are refused" 2 provctl user passwd annv --generate --password-file "$TMP/pw1"
fails "no source is refused" 2 provctl user passwd annv
ok "generate a password" provctl -f tab user passwd annv --generate
GEN=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "password") c = i } NR == 2 { print $c }' <<<"$OUT")
eq "generated password has 20 characters" "${#GEN}" 20
contains "generated hash is the fast scheme" "$(attr_of annv userPassword)" '{SSHA512}'
eq "generated password must be changed" "$(ldap_root -b "uid=annv,$P" -s base pwdReset | ldif_values pwdReset)" TRUE
ok "the generated password binds" bind_as annv "$GEN"
contains "with a change demanded" "$ERR" "Password must be changed"
fails "the chosen one is gone" 49 bind_as annv 'Mat-khau-khac-2026'
fails "passwd for an unknown login" 3 provctl user passwd nosuchlogin --generate
ok "back to a chosen password" provctl user passwd annv --password-file "$TMP/pw1"
grep -q 'Mat-khau' "$SANDBOX_DIR/provd.log" && leaked=yes || leaked=no
eq "no password in the provd log" "$leaked" no

# --- disable / enable --------------------------------------------------------------
ok "disable annv with a reason" provctl -f json user disable annv --reason 'nghỉ phép dài hạn'
contains "disable reports the status" "$OUT" '"status":"disabled"'
contains "and the certificates" "$OUT" '"certificates":"no certificates"'
eq "locked for good" "$(attr_of annv pwdAccountLockedTime)" 000001010000Z
eq "reason kept" "$(attr_of annv provdDisabledReason)" "nghỉ phép dài hạn"
ok "disabled-at set" test -n "$(attr_of annv provdDisabledAt)"
fails "a disabled account cannot bind" 49 bind_as annv 'Mat-khau-rat-dai-2026'
ok "user show says disabled" provctl -f json user show annv
contains "status disabled" "$OUT" '"status":"disabled"'
ok "disabling again converges" provctl user disable annv
eq "reason cleared when none given" "$(attr_of annv provdDisabledReason)" ""
ok "enable annv" provctl -f json user enable annv
contains "enable reports active" "$OUT" '"status":"active"'
eq "lock removed" "$(attr_of annv pwdAccountLockedTime)" ""
eq "disabled-at removed" "$(attr_of annv provdDisabledAt)" ""
ok "enabled account binds again" bind_as annv 'Mat-khau-rat-dai-2026'
fails "disable an unknown login" 3 provctl user disable nosuchlogin

# --- the certificate step failing after the account write --------------------------
# A certificate record while no CA is loaded: the account change lands, the
# command says the certificates were not updated and exits non-zero.
ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: provdCertSerial=0a1b2c,ou=certificates,ou=pki,$B
objectClass: provdCertificate
provdCertSerial: 0a1b2c
provdCertStatus: valid
uid: binhtt
EOF
fails "disable with a certificate step that cannot run" any provctl -f json user disable binhtt
contains "the reply still names the certificates" "$OUT" '"certificates":'
contains "the message says the account change was made" "$ERR" "disabled binhtt, but the certificates were not updated"
eq "the account is disabled all the same" "$(attr_of binhtt pwdAccountLockedTime)" 000001010000Z
ok "drop the test record" ldapdelete -Q -Y EXTERNAL -H "$LDAPI_URI" "provdCertSerial=0a1b2c,ou=certificates,ou=pki,$B"
ok "enable binhtt" provctl user enable binhtt

# --- alias add / remove --------------------------------------------------------------
ok "add an alias" provctl alias add annv An.Nguyen@vinhphuc.gov.vn
eq "stored lower-case in mailLocalAddress" "$(attr_of annv mailLocalAddress)" "an.nguyen@vinhphuc.gov.vn"
fails "a subdomain of the mail domain is refused (the Postfix maps do not deliver it)" 6 \
	provctl alias add annv an@sotaichinh.vinhphuc.gov.vn
ok "a second alias" provctl alias add annv an.nv@vinhphuc.gov.vn
fails "the same alias twice" 4 provctl alias add annv an.nguyen@vinhphuc.gov.vn
fails "someone else's alias" 4 provctl alias add binhtt an.nguyen@vinhphuc.gov.vn
contains "conflict names the other login" "$ERR" "'annv'"
fails "someone else's mail" 4 provctl alias add binhtt annv@vinhphuc.gov.vn
contains "mail conflict names the holder" "$ERR" "already used by 'annv' (as its mail)"
fails "an address outside the mail domain" 6 provctl alias add binhtt binh@gmail.com
contains "domain rule explained" "$ERR" "outside the mail domain"
fails "a look-alike domain" 6 provctl alias add binhtt binh@evilvinhphuc.gov.vn
fails "not an address" 6 provctl alias add binhtt 'binh at home'
contains "bad address names the field" "$ERR" "alias:"
fails "alias for an unknown login" 3 provctl alias add nosuchlogin x@vinhphuc.gov.vn
ok "whois by alias" provctl -f json whois an.nguyen@vinhphuc.gov.vn
contains "finds annv" "$OUT" '"login":"annv"'
ok "remove the alias" provctl alias remove annv an.nguyen@vinhphuc.gov.vn
eq "one alias left" "$(attr_of annv mailLocalAddress)" "an.nv@vinhphuc.gov.vn"
fails "remove it again" 3 provctl alias remove annv an.nguyen@vinhphuc.gov.vn
contains "not-found names login and address" "$ERR" "an.nguyen@vinhphuc.gov.vn is not an alias of annv"
fails "the canonical address is not an alias" 4 provctl alias remove annv annv@vinhphuc.gov.vn
ok "the freed address can go to someone else" provctl alias add binhtt an.nguyen@vinhphuc.gov.vn

# --- whois ---------------------------------------------------------------------------
ok "whois by login" provctl -f json whois dungpv
contains "account section" "$OUT" '"section":"account"'
contains "unit path from the top" "$OUT" '"unit_path":"Huyện Tam Đảo / Xã Kim Phú"'
ok "whois by employee id" provctl -f json whois NV0003
contains "same person" "$OUT" '"login":"dungpv"'
ok "whois by mail" provctl -f json whois dungpv@vinhphuc.gov.vn
contains "same person again" "$OUT" '"employee_id":"NV0003"'
fails "whois nobody" 3 provctl whois 'nobody-here'
fails "whois with a filter injection" 3 provctl whois '*'

# --- user delete / purge ---------------------------------------------------------------
ok "delete binhtt (retention)" provctl -f json user delete binhtt
contains "reported as deleted" "$OUT" '"status":"deleted"'
eq "locked" "$(attr_of binhtt pwdAccountLockedTime)" 000001010000Z
AFTER=$(attr_of binhtt provdDeleteAfter)
WANT=$(date -u -d '+30 days' +%Y%m%d)
eq "purge date is now + retention_days" "${AFTER:0:8}" "$WANT"
ok "deleting again keeps the date" provctl user delete binhtt
eq "same purge date" "$(attr_of binhtt provdDeleteAfter)" "$AFTER"
fails "disabling a deleted account is a conflict" 4 provctl user disable binhtt
ok "listed as deleted" provctl -f json user list --status deleted
contains "binhtt in the deleted list" "$OUT" '"login":"binhtt"'
ok "purge before the date removes nothing" provctl -f json user purge
lacks "nothing purged" "$OUT" '"login":"binhtt"'
ok "binhtt still there" provctl user show binhtt
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=binhtt,$P
changetype: modify
replace: provdDeleteAfter
provdDeleteAfter: 20200101000000Z
EOF
ok "purge after the date" provctl -f json user purge
contains "binhtt purged" "$OUT" '"login":"binhtt"'
contains "result purged" "$OUT" '"result":"purged"'
fails "the entry is gone" 3 provctl user show binhtt
ok "delete with --now" provctl user delete dungpv --now
fails "entry removed at once" 3 provctl user show dungpv
fails "delete an unknown login" 3 provctl user delete nosuchlogin
ok "create and delete, then enable restores" provctl user add --name 'Lê Văn Cường' --unit so-noi-vu --employee-id NV0004
ok "delete cuonglv" provctl user delete cuonglv
ok "enable cancels the deletion" provctl user enable cuonglv
eq "no purge date left" "$(attr_of cuonglv provdDeleteAfter)" ""

# --- unit add / modify -------------------------------------------------------------------
ok "add a commune" provctl -f json unit add xa-moi --name 'Xã  Mới' --kind commune --parent huyen-tam-dao
contains "name normalised" "$OUT" '"name":"Xã Mới"'
contains "path" "$OUT" '"path":"Huyện Tam Đảo / Xã Mới"'
ok "the unit entry exists" ldap_root -b "ou=xa-moi,ou=units,$B" -s base provdUnitParent
eq "parent stored" "$(ldif_values provdUnitParent <<<"$OUT")" huyen-tam-dao
ok "the cache knows it at once" provctl unit show xa-moi
ok "an account can be moved there" provctl user move cuonglv --unit xa-moi
fails "the same code again" 4 provctl unit add xa-moi --name 'Xã Mới' --kind commune --parent huyen-tam-dao
contains "conflict names the unit" "$ERR" "'xa-moi' already exists"
fails "an unknown parent" 3 provctl unit add xa-khac --name 'Xã Khác' --kind commune --parent no-such-unit
contains "unknown parent named" "$ERR" "parent: no unit 'no-such-unit'"
fails "an unknown kind" 2 provctl unit add xa-khac --name 'Xã Khác' --kind village --parent huyen-tam-dao
fails "a bad code" 6 provctl unit add 'Xa_Khac' --name 'Xã Khác' --kind commune
fails "add without --name" 2 provctl unit add xa-khac --kind commune
ok "rename the unit" provctl unit modify xa-moi --name 'Xã Mới Thành'
eq "description renamed" "$(ldap_root -b "ou=xa-moi,ou=units,$B" -s base description | ldif_values description)" "Xã Mới Thành"
eq "its accounts carry the new name" "$(attr_of cuonglv ou)" "Xã Mới Thành"
fails "a parent cycle is refused" 4 provctl unit modify huyen-tam-dao --parent xa-moi
contains "cycle explained" "$ERR" "cycle"
fails "a unit as its own parent" 4 provctl unit modify xa-moi --parent xa-moi
fails "modify an unknown unit" 3 provctl unit modify no-such-unit --name x
fails "modify without options" 2 provctl unit modify xa-moi
ok "re-parent the commune" provctl unit modify xa-moi --parent huyen-binh-xuyen
ok "list under the new district" provctl -f json user list --unit huyen-binh-xuyen --recursive
contains "cuonglv follows its unit" "$OUT" '"login":"cuonglv"'

# --- the role check ------------------------------------------------------------------------
if (($(id -u) == 0)) && command -v setpriv >/dev/null; then
	chmod 0666 "$PROVD_SOCKET"
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$BUILD/provctl" "$@"
	}
	fails "nobody may not disable" 5 as_nobody user disable annv
	contains "permission message names the role" "$ERR" "needs role admin"
	fails "nobody may not set passwords" 5 as_nobody user passwd annv --generate
	fails "nobody may not add aliases" 5 as_nobody alias add annv a@vinhphuc.gov.vn
	fails "nobody may not add units" 5 as_nobody unit add xa-x --name X --kind commune --parent huyen-tam-dao
	fails "nobody may not even read" 5 as_nobody whois annv
	eq "annv is still active" "$(attr_of annv pwdAccountLockedTime)" ""
else
	skip_part "role checks as another user" "not root or no setpriv"
fi

done_testing
