#!/usr/bin/env bash
# batch import --from-ldif: absorbing Hòa Bình's and Phú Thọ's directories
# (tools/gen-staff --ldif: overlapping names, mixed hash schemes) into Vĩnh
# Phúc's.  Colliding logins get a new login and are reported as renamed;
# hashes both servers verify are kept, so Dovecot (lookup mode and bind
# mode) lets the absorbed people in with their old passwords; other hashes
# are reset and listed; old addresses still deliver through Postfix's
# alias map; two dry runs give one plan and the run makes exactly it; a
# second run changes nothing; a hostile entry is refused alone.
#
# shellcheck disable=SC2317  # functions run indirectly, through ok/fails/at_exit
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/mailstack.sh
. "$(dirname "$0")/../mailstack.sh"
mail_stack_needed

STAFF=$(staff_csv 8000)
TMP=$(mktemp -d /tmp/provd-absorb.XXXXXX)
chmod 755 "$TMP"            # Dovecot's auth processes reach their sockets below it
at_exit rm -rf -- "$TMP"
T=$TMP

sandbox_up
MAILPW=$(<"$SANDBOX_DIR/mail.secret")
# The absorbed provinces' domains keep delivering, for aliases.
sed -i '/^mail = {/a\  alias_domains = [ "hoabinh.gov.vn", "phutho.gov.vn" ];' "$SANDBOX_DIR/provd.conf"
"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null 2>&1
ok "provd restarts with mail.alias_domains" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "... and has read the unit list" within 30 provctl unit show so-noi-vu

head -n 2001 "$STAFF" >"$T/vp.csv"
ok "Vĩnh Phúc: 2000 staff" provctl batch import "$T/vp.csv" --credentials "$T/vp-cred.csv"

gen() { # gen NAME DOMAIN DC PREFIX SEED: T/NAME.ldif and its units map T/NAME.map
	"$REPO/tools/gen-staff" --ldif --domain "$2" --base "dc=$3,dc=gov,dc=vn" --seed "$5" \
		--units "$REPO/etc/units/$1-2020.csv" --prefix "$4" -n 500 -o "$T/$1.ldif" || return 1
	# Departments to the department of the same code, districts and
	# communes spread over Vĩnh Phúc's communes.
	awk -F, 'NR == FNR { if (FNR > 1 && $3 == "commune") c[n++] = $1; next }
		FNR > 1 { print $1 "," ($3 == "department" ? $1 : c[FNR % n]) }' \
		"$REPO/etc/units/vinh-phuc-2020.csv" "$REPO/etc/units/$1-2020.csv" >"$T/$1.map"
}
ok "Hòa Bình's export" gen hoa-binh hoabinh.gov.vn hoabinh HB20 2020
ok "Phú Thọ's export" gen phu-tho phutho.gov.vn phutho PT20 2021
ok "the generator is deterministic" sh -c "'$REPO/tools/gen-staff' --ldif --domain hoabinh.gov.vn \
	--base dc=hoabinh,dc=gov,dc=vn --units '$REPO/etc/units/hoa-binh-2020.csv' --prefix HB20 --seed 2020 \
	-n 500 | cmp - '$T/hoa-binh.ldif'"
contains "the export folds lines and base64-encodes names" "$(<"$T/hoa-binh.ldif")" "cn:: "
absorb() { # absorb NAME [options]
	local name=$1
	shift
	provctl -f tab batch import --from-ldif "$T/$name.ldif" --source "$name" \
		--units-map "$T/$name.map" "$@"
}

# --- exact plans -------------------------------------------------------------------
ok "dry run 1" absorb hoa-binh --dry-run --plan-out "$T/hb-plan1.csv"
ok "dry run 2" absorb hoa-binh --dry-run --plan-out "$T/hb-plan2.csv"
ok "the two plans are identical" cmp "$T/hb-plan1.csv" "$T/hb-plan2.csv"
ok "absorb Hòa Bình" absorb hoa-binh --credentials "$T/hoa-binh-cred.csv" --plan-out "$T/hb-done.csv"
HB_OUT=$OUT
eq "applied = printed (logins and addresses)" "$(cut -d, -f1-3,8,9 <"$T/hb-done.csv" | md5sum)" \
	"$(cut -d, -f1-3,8,9 <"$T/hb-plan1.csv" | md5sum)"
contains "every row created" "$HB_OUT" $'applied\t500\t500\t0\t0\t0\t0'
ok "absorb Phú Thọ" absorb phu-tho --credentials "$T/phu-tho-cred.csv"
PT_OUT=$OUT

# --- renamed logins ------------------------------------------------------------------
# The export's own login, by employee id, for an independent count.
python3 - "$T/hoa-binh.ldif" >"$T/hb-uids.txt" <<'PY'
import sys
emp = uid = None
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("uid: "): uid = line[5:].strip()
    if line.startswith("employeeNumber: "): emp = line[16:].strip()
    if line == "\n" and emp:
        print("hoa-binh." + emp, uid); emp = uid = None
if emp: print("hoa-binh." + emp, uid)
PY
changed=$(awk -F'\t' 'NR == FNR { old[$1] = $2; next } $2 ~ /^hoa-binh[.]/ && $3 == "created" && old[$2] != $4' \
	<(tr ' ' '\t' <"$T/hb-uids.txt") <(printf '%s\n' "$HB_OUT") | wc -l)
reported=$(awk -F'\t' '$3 == "created" && $5 ~ /^renamed: /' <<<"$HB_OUT" | wc -l)
ok "some logins collided ($changed)" test "$changed" -gt 20
eq "every changed login is reported as renamed" "$reported" "$changed"
contains "the summary counts them" "$(tail -1 <<<"$HB_OUT")" $'\t'"$changed"$'\t'
renamed_row=$(awk -F'\t' '$5 ~ /^renamed: / {print; exit}' <<<"$HB_OUT")
r_emp=$(cut -f2 <<<"$renamed_row")
r_login=$(cut -f4 <<<"$renamed_row")
r_old=$(awk -v e="$r_emp" '$1 == e {print $2}' "$T/hb-uids.txt")
contains "the record names the old login" "$renamed_row" "'$r_old' is taken here, new login $r_login"

# --- idempotent ----------------------------------------------------------------------
ok "absorb Hòa Bình again" absorb hoa-binh --credentials "$T/hb-cred2.csv"
contains "... changes nothing" "$OUT" $'applied\t500\t0\t0\t500\t0\t0'
ok "... and makes no password" test ! -e "$T/hb-cred2.csv"

# --- passwords -----------------------------------------------------------------------
scheme_emp() { # scheme_emp FILE SCHEME: an employee id whose hash has SCHEME
	awk -v s="$2" '/^employeeNumber:/ {e = $2} /^userPassword:/ { if (index($2, s) == 1) { print e; exit } }' "$1"
}
login_of() { ldap_root -b "ou=people,$LDAP_BASE" "(employeeNumber=$1)" uid | ldif_values uid; }
dovecot_start lookup "$LDAPI_URI"
dovecot_start bind "$LDAP_URI" auth_bind yes
for src in hoa-binh:hoabinh phu-tho:phutho; do
	name=${src%%:*}
	for scheme in '{SSHA}' '{SSHA512}' '{CRYPT}$6$' '{CRYPT}$y$'; do
		emp=$(scheme_emp "$T/$name.ldif" "$scheme")
		login=$(login_of "$name.$emp")
		ok "$name: $scheme kept for $login: Dovecot (lookup) takes the old password" \
			auth lookup "$login@vinhphuc.gov.vn" "Pw-$emp"
		ok "$name: ... and slapd (Dovecot bind mode)" auth bind "$login@vinhphuc.gov.vn" "Pw-$emp"
	done
	for scheme in '{MD5}' '{SHA}'; do
		emp=$(scheme_emp "$T/$name.ldif" "$scheme")
		login=$(login_of "$name.$emp")
		fails "$name: $scheme reset for $login: the old password no longer works" 77 \
			auth lookup "$login@vinhphuc.gov.vn" "Pw-$emp"
		ok "$name: ... its initial password is in the credentials file" \
			grep -q "^$login,.*,$name.$emp," "$T/$name-cred.csv"
	done
done
contains "reset passwords are listed" "$HB_OUT" "password reset: {MD5} is not verified by both"
r_emp_id=${r_emp#hoa-binh.}
if [[ $(awk -v e="$r_emp_id" '/^employeeNumber:/ {x = $2} /^userPassword:/ && x == e {print $2}' "$T/hoa-binh.ldif") == \{S* ]] ||
	[[ $(awk -v e="$r_emp_id" '/^employeeNumber:/ {x = $2} /^userPassword:/ && x == e {print $2}' "$T/hoa-binh.ldif") == \{CRYPT* ]]; then
	ok "the renamed $r_login logs in with the old password" auth lookup "$r_login@vinhphuc.gov.vn" "Pw-$r_emp_id"
fi

# --- old addresses deliver -------------------------------------------------------------
PF=$TMP/postfix
mkdir -m 755 "$PF"
printf 'compatibility_level = 3.6\n' >"$PF/main.cf"
for f in ldap-mailboxes ldap-aliases; do
	configure "$REPO/etc/postfix/$f.cf" "$PF/$f.cf" '|' \
		server_host "$LDAP_URI" bind_pw "$MAILPW" \
		domain 'vinhphuc.gov.vn, hoabinh.gov.vn, phutho.gov.vn'
done
chmod 600 "$PF"/*.cf
touch -d '-1 minute' "$PF"/*.cf
ok "the renamed person's old address delivers" \
	postmap -c "$PF" -q "$r_old@hoabinh.gov.vn" "ldap:$PF/ldap-aliases.cf"
eq "... to the new login's mailbox" "$OUT" "$r_login@vinhphuc.gov.vn"
ok "... whose mailbox exists" postmap -c "$PF" -q "$OUT" "ldap:$PF/ldap-mailboxes.cf"
kept_row=$(awk -F'\t' '$3 == "created" && $5 !~ /^renamed/ {print; exit}' <<<"$PT_OUT")
k_login=$(cut -f4 <<<"$kept_row")
ok "a Phú Thọ person's old address delivers" \
	postmap -c "$PF" -q "$k_login@phutho.gov.vn" "ldap:$PF/ldap-aliases.cf"
eq "... to the same login here" "$OUT" "$k_login@vinhphuc.gov.vn"

fails "--sync does not go with --from-ldif (their staff, not ours)" 2 absorb hoa-binh --sync --dry-run
contains "... and says so" "$ERR" "--sync does not go with --from-ldif"

# --- hostile input ----------------------------------------------------------------------
{
	printf 'version: 1\n\n'
	printf 'dn: uid=evil,ou=people,dc=x\nobjectClass: inetOrgPerson\nuid: evil\ncn: Evil One\n'
	printf 'employeeNumber: X1\ndepartmentNumber: so-noi-vu\ndescription:< file:///etc/hostname\n\n'
	printf 'dn: uid=chg,ou=people,dc=x\nchangetype: delete\n\n'
	printf 'dn: uid=nomap,ou=people,dc=x\nobjectClass: inetOrgPerson\nuid: nomap\ncn: Lê Văn Lạ\n'
	printf 'employeeNumber: X2\ndepartmentNumber: khong-co\n\n'
	printf 'dn: uid=good,ou=people,dc=x\nobjectClass: inetOrgPerson\nuid: tot\ncn:: %s\n' \
		"$(printf 'Lê Văn Tốt' | base64)"
	printf 'employeeNumber: X3\ndepartmentNumber: so-noi-vu\nuserPassword: {SSHA}%s\n' \
		"$(printf 'abcdefghijklmnopqrstuvwx' | base64)"
} >"$T/evil.ldif"
printf 'so-noi-vu,so-noi-vu\n' >"$T/evil.map"
fails "a hostile export: partial" 8 provctl -f tab batch import --from-ldif "$T/evil.ldif" \
	--source test --units-map "$T/evil.map" --credentials "$T/evil-cred.csv"
contains "a URL value is refused, never read" "$OUT" "entry 1 (line 3): a URL value"
contains "a change record is refused" "$OUT" "entry 2 (line 11): a change record"
contains "an unmapped unit is named" "$OUT" "unit: 'khong-co' is not in --units-map"
contains "the good entry is made" "$OUT" $'test.X3\tcreated\ttot\t'

dovecot_stop_all
done_testing
