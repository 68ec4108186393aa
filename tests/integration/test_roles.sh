#!/usr/bin/env bash
# Roles as real UNIX users (not root): where the command table, dispatch and
# each handler draw the line for admin, officer, onboarder and auditor, and
# for grants scoped to a district; batch updates for admins only; an
# employee id claimed while a create is in flight; login suffixes to 7.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
(($(id -u) == 0)) || skip_all "needs root to create the role users"
command -v useradd >/dev/null && command -v setpriv >/dev/null ||
	skip_all "needs useradd and setpriv"
T=$(mktemp -d /tmp/provd-roles.XXXXXX)
chmod 1777 "$T"
at_exit rm -rf -- "$T"

sandbox_up
chmod 0666 "$PROVD_SOCKET"

# One user per grant, each in its own group (removed at the end).
tag=r$(($$ % 100000))
declare -A U
for r in adm off onb aud sadm sonb; do
	U[$r]=$tag-$r
	useradd -M -N -s /usr/sbin/nologin -g nogroup "${U[$r]}" 2>/dev/null ||
		{ printf 'Bail out! useradd %s failed\n' "${U[$r]}"; exit 1; }
	groupadd "${U[$r]}" || { printf 'Bail out! groupadd %s failed\n' "${U[$r]}"; exit 1; }
	usermod -a -G "${U[$r]}" "${U[$r]}"
	at_exit bash -c 'userdel "$1" 2>/dev/null; groupdel "$1"' _ "${U[$r]}"
done
# admin, officer, onboarder, auditor over the province; sadm: admin over
# huyen-tam-dao and onboarder over so-tai-chinh; sonb: onboarder over
# huyen-tam-dao.
python3 - "$SANDBOX_DIR/provd.conf" "$tag" <<'EOF'
import re, sys
path, t = sys.argv[1], sys.argv[2]
s = open(path).read()
roles = ('roles = {\n'
         f'  admin     = [ "{t}-adm" ];\n'
         f'  officer   = [ "{t}-off" ];\n'
         f'  onboarder = [ "{t}-onb" ];\n'
         f'  auditor   = [ "{t}-aud" ];\n'
         f'  scoped = ( {{ group = "{t}-sadm"; role = "admin"; unit = "huyen-tam-dao"; }},\n'
         f'             {{ group = "{t}-sadm"; role = "onboarder"; unit = "so-tai-chinh"; }},\n'
         f'             {{ group = "{t}-sonb"; role = "onboarder"; unit = "huyen-tam-dao"; }} );\n'
         '};\n')
s, n = re.subn(r'roles = \{.*?\n\};\n', roles, s, count=1, flags=re.S)
assert n == 1
open(path, 'w').write(s)
EOF
ok "restart provd with the role groups" bash -c '"$1" stop-provd "$2" && "$1" start-provd "$2"' _ "$SANDBOX_TOOL" "$SANDBOX_DIR"
chmod 0666 "$PROVD_SOCKET"
for _ in $(seq 300); do provctl unit show so-tai-chinh >/dev/null 2>&1 && break; sleep 0.1; done
ok "provd has loaded the units again" provctl unit show so-tai-chinh

as() { # as ROLE provctl-args...: run provctl as that role's user
	local who=${U[$1]}
	shift
	setpriv --reuid="$who" --regid=nogroup --init-groups "$BUILD/provctl" -s "$PROVD_SOCKET" "$@"
}
# refused NAME ROLE ARGS...: exit 5, refused by dispatch (the command table)
refused() {
	local name=$1
	shift
	fails "$name" 5 as "$@"
	contains "$name: refused by the command table" "$ERR" "needs role"
}
attr_of() { ldap_root -b "ou=people,$LDAP_BASE" "(uid=$1)" "$2" | ldif_values "$2"; }

# Accounts: one in a department, one in a commune of huyen-tam-dao, one in
# a district whose code shares its first letters (huyen-binh-xuyen).
ok "root adds annv (so-tai-chinh)" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "root adds a commune account" provctl -f json user add --name 'Trần Thị Bình' --unit xa-kim-phu-tam-dao --employee-id NV0002
[[ $OUT =~ \"login\":\"([a-z0-9]+)\" ]] && commune=${BASH_REMATCH[1]} || commune=none
ok "root adds a Bình Xuyên account" provctl -f json user add --name 'Lê Văn Cường' --unit huyen-binh-xuyen --employee-id NV0003
[[ $OUT =~ \"login\":\"([a-z0-9]+)\" ]] && bx=${BASH_REMATCH[1]} || bx=none
ok "the commune is in huyen-tam-dao" provctl -f json unit show xa-kim-phu-tam-dao
contains "commune path" "$OUT" "Huyện Tam Đảo"

# --- the command table, as each role ----------------------------------------------
ok "auditor: whois" as aud whois annv
refused "auditor: no user disable" aud user disable annv
refused "auditor: no crl publish" aud crl publish
refused "officer: no user disable" off user disable annv
refused "onboarder: no user add" onb user add --name 'Lê Thị Hoa' --unit so-y-te --employee-id NV0099
refused "onboarder: no cert issue" onb cert issue annv --csr /dev/null
refused "onboarder: no audit show" onb audit show
refused "onboarder: no audit verify" onb audit verify
ok "auditor: audit show" as aud audit show
refused "admin: no cert revoke" adm cert revoke 01 --reason superseded
refused "admin: no crl publish" adm crl publish
refused "scoped onboarder: no crl publish" sonb crl publish
refused "scoped onboarder: no user disable" sonb user disable "$commune"
refused "scoped admin: no cert revoke" sadm cert revoke 01 --reason superseded
# A grant over one district is not a grant over the province: commands that
# act on the whole province (scope "none") refuse it.
fails "scoped admin: no audit show (the whole province)" 5 as sadm audit show
contains "scoped admin: audit show names the province" "$ERR" "whole province"
fails "scoped admin: no check (the whole province)" 5 as sadm check
eq "annv still active" "$(attr_of annv pwdAccountLockedTime)" ""

# --- scoped grants: inside the district yes, outside no ------------------------------
ok "scoped admin: disable a commune account" as sadm user disable "$commune"
eq "the commune account is disabled" "$(attr_of "$commune" pwdAccountLockedTime)" 000001010000Z
ok "scoped admin: enable it again" as sadm user enable "$commune"
fails "scoped admin: not annv (so-tai-chinh, where it is only onboarder)" 5 as sadm user disable annv
fails "scoped admin: not Bình Xuyên" 5 as sadm user disable "$bx"
eq "annv not disabled" "$(attr_of annv pwdAccountLockedTime)" ""
eq "$bx not disabled" "$(attr_of "$bx" pwdAccountLockedTime)" ""
ok "scoped admin: add in a commune of the district" as sadm user add --name 'Phạm Văn Dũng' --unit xa-kim-phu-tam-dao --employee-id NV0004
fails "scoped admin: no add in so-y-te" 5 as sadm user add --name 'Phạm Văn Em' --unit so-y-te --employee-id NV0005
fails "scoped admin: no add in the district next door" 5 as sadm user add --name 'Phạm Văn Em' --unit huyen-binh-xuyen --employee-id NV0005
eq "no account for NV0005" "$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=NV0005)' uid | ldif_values uid)" ""
ok "admin: disable annv" as adm user disable annv
ok "admin: enable annv" as adm user enable annv

# --- batch import: onboarders create, only admins update ---------------------------
printf 'employee_id,full_name,unit,title\nNV0001,Nguyễn Văn An,so-tai-chinh,Chánh Văn phòng\nNV0010,Đỗ Thị Giang,so-tai-chinh,Chuyên viên\n' >"$T/upd.csv"
chmod 644 "$T/upd.csv"
as onb -f json batch import "$T/upd.csv" --credentials "$T/onb-cred.csv" >"$T/onb.out" 2>&1
eq "onboarder batch: the title of NV0001 is not changed" "$(attr_of annv title)" ""
eq "onboarder batch: the new row is created" "$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=NV0010)' uid | ldif_values uid)" giangdt
contains "onboarder batch: the update is refused by name" "$(<"$T/onb.out")" "NV0001"
printf 'employee_id,full_name,unit,title\nNV0020,Vũ Văn Hải,xa-kim-phu-tam-dao,Công chức\nNV0021,Vũ Văn Hà,so-y-te,Chuyên viên\n' >"$T/scoped.csv"
chmod 644 "$T/scoped.csv"
as sonb -f json batch import "$T/scoped.csv" --credentials "$T/sonb-cred.csv" >"$T/sonb.out" 2>&1
eq "scoped onboarder batch: the commune row is created" "$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=NV0020)' uid | ldif_values uid)" haivv
eq "scoped onboarder batch: the so-y-te row is not" "$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=NV0021)' uid | ldif_values uid)" ""
contains "scoped onboarder batch: the row is refused for its unit" "$(<"$T/sonb.out")" "no admin or onboarder role over so-y-te"
ok "admin batch: the update lands" as adm -f json batch import "$T/upd.csv" --credentials "$T/adm-cred.csv"
eq "admin batch: title changed" "$(attr_of annv title)" "Chánh Văn phòng"

# --- an employee id is claimed while its create is in flight ----------------------
i=0
for n in 'Hoàng Văn Khoa' 'Hoàng Văn Lâm' 'Hoàng Văn Minh' 'Hoàng Văn Nam' 'Hoàng Văn Phúc' 'Hoàng Văn Quân'; do
	i=$((i + 1))
	{ provctl -f json user add --name "$n" --unit so-y-te --employee-id NV0777; echo "rc=$?"; } >"$T/race.$i" 2>&1 &
done
wait
eq "six concurrent adds of one employee id: one account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=NV0777)' uid | grep -c '^uid:')" 1
eq "five conflicts naming the employee id" "$(grep -l '^rc=4$' "$T"/race.* | xargs grep -l 'NV0777' | wc -l)" 5
# The same in mixed case: employee ids compare without case (as in LDAP).
rm -f "$T"/race.*
i=0
for n in 'Hoàng Thị Khánh' 'Hoàng Thị Lan' 'Hoàng Thị Mai' 'Hoàng Thị Ngọc' 'Hoàng Thị Oanh' 'Hoàng Thị Phương'; do
	i=$((i + 1))
	id=NV0888
	((i % 2)) || id=nv0888
	{ provctl -f json user add --name "$n" --unit so-y-te --employee-id "$id"; echo "rc=$?"; } >"$T/race.$i" 2>&1 &
done
wait
eq "NV0888 and nv0888 at once: one account" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" '(employeeNumber=nv0888)' uid | grep -c '^uid:')" 1

# --- login suffixes: the same name seven times --------------------------------------
logins=()
for i in 2 3 4 5 6 7; do
	ok "Nguyễn Văn An #$i" provctl -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id "NV010$i"
	[[ $OUT =~ \"login\":\"([a-z0-9]+)\" ]] && logins+=("${BASH_REMATCH[1]}")
done
eq "logins annv2..annv7 in order" "${logins[*]}" "annv2 annv3 annv4 annv5 annv6 annv7"

# --- a login is free only if its address is: our domain, and nothing else -------
# (The mail servers deliver only the mail domain: an alias in a subdomain or a
# look-alike domain is refused, so it can never hold a login's address.)
ok "root adds Đỗ Văn Tùng" provctl user add --name 'Đỗ Văn Tùng' --unit so-y-te --employee-id NV0201
ok "alias cuclt@ (our domain) for tungdv" provctl alias add tungdv cuclt@vinhphuc.gov.vn
fails "no alias in a domain that only ends like ours" 6 provctl alias add tungdv tung@evilvinhphuc.gov.vn
contains "the refusal names the mail domain" "$ERR" "outside the mail domain"
fails "no alias in a subdomain" 6 provctl alias add tungdv hoavt@vinhyen.vinhphuc.gov.vn
contains "... naming the mail domain" "$ERR" "outside the mail domain"
ok "Lý Thị Cúc" provctl -f json user add --name 'Lý Thị Cúc' --unit so-y-te --employee-id NV0202
contains "cuclt is an address already: cuclt2" "$OUT" '"login":"cuclt2"'
ok "Vũ Thị Hoa" provctl -f json user add --name 'Vũ Thị Hoa' --unit so-y-te --employee-id NV0203
contains "the refused subdomain alias took nothing: hoavt" "$OUT" '"login":"hoavt"'

done_testing
