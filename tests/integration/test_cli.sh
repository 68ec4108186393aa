#!/usr/bin/env bash
# provctl's conventions: --help on every command, a noun lists its verbs,
# help for one command, one output shape per command whatever the row
# count, typed JSON, -o columns and a narrow default, sizes as typed, one
# time format out and both accepted in, cert show shows the record.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up

# --- help ---------------------------------------------------------------------
ok "provctl --commands" provctl --commands
while IFS= read -r line; do
	set -- $line
	cmd=$1
	[[ ${2-} == --* || -z ${2-} ]] || cmd="$1 $2"
	# shellcheck disable=SC2086
	ok "provctl $cmd --help" provctl $cmd --help
	contains "$cmd --help shows its usage" "$OUT" "usage: provctl $cmd"
done <<<"$OUT"
ok "provctl user lists its verbs" provctl user
contains "verbs of user" "$OUT" "  disable "
contains "verbs of user: summaries" "$OUT" "lock the account"
fails "an unknown verb is a usage error" 2 provctl user frob
contains "and lists the verbs" "$ERR" "  passwd "
ok "provctl help user add" provctl help user add
contains "shows user add" "$OUT" "usage: provctl user add"
lacks "and only user add" "$OUT" "user show"
ok "provctl help user" provctl help user
contains "help user shows every user command" "$OUT" "usage: provctl user purge"

# --- shapes -------------------------------------------------------------------
ok "user add" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh \
	--employee-id NV0001 --quota 5G
ok "user list of one row" provctl user list
header() { head -1 <<<"$1" | tr -s ' '; }
eq "a table even for one row" "$(header "$OUT")" "LOGIN NAME UNIT STATUS MAIL"
ok "user list of two rows" provctl user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id NV0002
ok "user list" provctl user list
eq "same header for two rows" "$(header "$OUT")" "LOGIN NAME UNIT STATUS MAIL"
ok "user list is narrow by default" test "$(wc -L <<<"$OUT")" -le 100
ok "user show" provctl user show annv
contains "show is key: value" "$OUT" "login:           annv"
contains "quota as typed" "$OUT" "quota:           5G"
if [[ $OUT =~ created:\ +([^$'\n']*) ]]; then created=${BASH_REMATCH[1]}; else created=; fi
ok "times are ISO 8601 UTC" test -n "$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$created")"

ok "-o chooses columns" provctl -o login,quota,created user list
eq "-o header" "$(header "$OUT")" "LOGIN QUOTA CREATED"
contains "-o values" "$(tr -s ' ' <<<"$OUT")" "annv 5G $created"
ok "-o after the command" provctl user list -o mail
eq "-o mail" "$OUT" $'MAIL\nannv@vinhphuc.gov.vn\nbinhtt@vinhphuc.gov.vn'
fails "-o names an unknown column" 2 provctl -o login,nope user list
contains "and lists the real ones" "$ERR" "no column 'nope'; columns: login,mail,name"
ok "-o all" provctl -o all user list
contains "every field" "$OUT" "EMPLOYEE_ID"

# Every account record has every field (empty when unset): one tab header
# for a listing that mixes them, and -o may name a field only some have.
ok "user disable with a reason" provctl user disable annv --reason 'long leave'
ok "-f tab user list" provctl -f tab user list
eq "one header line" "$(grep -c '^login' <<<"$OUT")" 1
eq "every row as wide as the header" "$(awk -F'\t' '{print NF}' <<<"$OUT" | sort -u)" 17
ok "-o a field only one account has" provctl -f tab -o login,disabled_reason user list
eq "empty for the other" "$OUT" $'login\tdisabled_reason\nannv\tlong leave\nbinhtt\t'
ok "user enable" provctl user enable annv
fails "-o names an unknown field of a show" 2 provctl user show annv -o login,nope
contains "and lists the real ones" "$ERR" "-o: no field 'nope'; fields: login,mail,name"
ok "-o a field the show has, though empty" provctl user show binhtt -o login,disabled_reason
ok "the summary of a listing is whole under -o" provctl user delete binhtt --dry-run -o login
ok "report units is narrow by default" provctl report units
ok "report units fits 132 columns" test "$(wc -L <<<"$OUT")" -le 132

# --- JSON -----------------------------------------------------------------------
ok "-f json user show" provctl -f json user show annv
ok "typed JSON" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["quota"] == 5368709120, r["quota"]
assert r["aliases"] is None, r["aliases"]
assert r["created"].endswith("Z") and "T" in r["created"], r["created"]
' "$OUT"
ok "-f json status" provctl -f json status
ok "numbers are numbers" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert isinstance(r["accounts"], int) and r["accounts"] == 2, r
assert isinstance(r["uptime_s"], int), r
' "$OUT"
ok "-f json -o" provctl -f json -o login,quota user list
eq "-o in JSON" "$(head -1 <<<"$OUT")" '{"login":"annv","quota":5368709120}'
ok "-f tab keeps bytes" provctl -f tab -o login,quota user list
eq "tab" "$(sed -n 2p <<<"$OUT")" $'annv\t5368709120'

# --- times in -----------------------------------------------------------------
day=${created%%T*}
ok "audit show --since ISO" provctl audit show --since "${day}T00:00:00Z"
contains "ISO since" "$OUT" "user add"
ok "audit show --since GeneralizedTime" provctl audit show --since "${day//-/}000000Z"
contains "GeneralizedTime since" "$OUT" "user add"
fails "audit show --since nonsense" 2 provctl audit show --since yesterday
iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
ok "user add" provctl -f tab user add --name 'Lê Văn Cường' --unit so-noi-vu --employee-id NV0003
ok "password_expires is ISO" grep -qE $'\t'"$iso"$'\t' <<<"$OUT"
ok "user delete --dry-run" provctl user delete cuonglv --dry-run
ok "the purge date in the message is ISO" grep -qE "purged after $iso" <<<"$OUT"

# --- mistyped commands and options ------------------------------------------------
fails "a mistyped noun" 2 provctl usr list
contains "is suggested with its verb" "$ERR" "did you mean 'user list'?"
fails "a mistyped verb" 2 provctl user shwo annv
contains "is suggested" "$ERR" "did you mean 'user show'?"
fails "help of a mistyped command" 2 provctl help usr add
contains "suggests as well" "$ERR" "did you mean 'user add'?"
lacks "a far one is not" "$(provctl user frob 2>&1)" "did you mean"
fails "a mistyped option" 2 provctl user add --nme X --unit so-noi-vu --employee-id NV0009
contains "is suggested" "$ERR" "(did you mean --name?)"
fails "a shortened option" 2 provctl user delete annv --dry
contains "is completed" "$ERR" "(did you mean --dry-run?)"
fails "a required option left out" 2 provctl cert revoke 0a
eq "is named with the whole usage" "$ERR" \
	"provctl: missing --reason REASON (usage: cert revoke SERIAL --reason REASON [OPTIONS])"
fails "an operand left out" 2 provctl alias add annv
eq "the one missing is named" "$ERR" "provctl: missing ADDRESS (usage: alias add LOGIN ADDRESS)"

# --- cert show ------------------------------------------------------------------
ok "ca create" provctl ca create --subject '/CN=Test CA' --key ec-p256 --days 30
tmp=$(mktemp -d)
at_exit rm -rf -- "$tmp"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k" \
	-subj /CN=annv -out "$tmp/csr" 2>/dev/null
fails "cert issue by an unknown profile" 3 provctl cert issue annv --csr "$tmp/csr" --profile smime
contains "names the profiles there are" "$ERR" "no profile 'smime' (profiles: staff-email, staff-sign)"
fails "cert issue with both a CSR and --generate" 2 provctl cert issue annv --csr "$tmp/csr" \
	--generate --p12 "$tmp/x.p12"
contains "says they exclude each other" "$ERR" "takes --csr FILE or --generate, not both"
ok "cert issue" provctl cert issue annv --csr "$tmp/csr"
ok "cert list" provctl -f tab -o serial cert list --login annv
serial=$(sed -n 2p <<<"$OUT")
ok "cert show" provctl cert show "$serial"
contains "cert show shows the record" "$OUT" "status:"
contains "with its owner" "$OUT" "login:           annv"
lacks "not the PEM" "$OUT" "BEGIN CERTIFICATE"
ok "cert show --pem" provctl cert show "$serial" --pem
contains "--pem prints the PEM" "$OUT" "-----BEGIN CERTIFICATE-----"
ok "the PEM is a certificate" openssl x509 -noout -in <(printf '%s\n' "$OUT")
ok "cert list --expiring-within 1000d, as cert renew reads it" \
	provctl -f tab -o serial cert list --expiring-within 1000d
contains "finds it" "$OUT" "$serial"
ok "a bare number is days" provctl -f tab -o serial cert list --expiring-within 1000
contains "finds it too" "$OUT" "$serial"
ok "--expiring-within 1h" provctl -f tab -o serial cert list --expiring-within 1h
lacks "does not" "$OUT" "$serial"
ok "cert revoke --invalidity-date ISO" provctl cert revoke "$serial" --reason keyCompromise \
	--invalidity-date "${day}T00:00:00Z"
ok "cert show after revoke" provctl -f json cert show "$serial"
contains "invalidity date shown ISO" "$OUT" "\"invalidity_date\":\"${day}T00:00:00Z\""
fails "revoking it again: conflict" 4 provctl cert revoke "$serial" --reason keyCompromise
ok "which says when, in ISO" grep -qE "already revoked \(keyCompromise, $iso\)" <<<"$ERR"
ok "-f json ocsp show" provctl -f json ocsp show
ok "its times are ISO, its counts numbers" python3 -c '
import json, re, sys
r = json.loads(sys.argv[1])
iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
assert iso.match(r["responder_not_after"]) and iso.match(r["last_full_refresh"]), r
assert all(isinstance(r[k], int) for k in ("signed_since_start", "pending")), r
' "$OUT"

# --- an empty listing prints its header (tab: the header line alone) -------------
# The header of an empty listing is the one a listing with rows prints, so
# the command table's field list cannot drift from the daemon's records.
empty_and_full() {  # NAME EMPTY-ARGS FULL-ARGS
	local name=$1 empty=$2 full=$3 head
	eval "ok '$name with rows' provctl -f tab $full"
	head=$(head -1 <<<"$OUT")
	ok "$name with rows has rows" test "$(wc -l <<<"$OUT")" -gt 1
	eval "ok '$name, no rows: tab' provctl -f tab $empty"
	eq "$name, no rows: tab prints the same header, alone" "$OUT" "$head"
	eval "ok '$name, no rows: table' provctl $empty"
	ok "$name, no rows: the table is one header line" test "$(wc -l <<<"$OUT")" -eq 1 -a -n "$OUT"
	eval "ok '$name, no rows: json' provctl -f json $empty"
	eq "$name, no rows: json prints no object" "$OUT" ""
}
empty_and_full "user list" "user list --name zzzz" "user list"
eq "user list, no rows: the default columns" "$(provctl user list --name zzzz)" "LOGIN  NAME  UNIT  STATUS  MAIL"
empty_and_full "cert list" "cert list --login nobody" "cert list"
empty_and_full "unit list" "unit list --kind province" "unit list"

# unit list --kind: one kind of unit, checked against the kinds.
ok "unit list --kind district" provctl -f tab -o code,kind unit list --kind district
eq "the 9 districts of Vĩnh Phúc" "$(tail -n +2 <<<"$OUT" | wc -l)" 9
eq "and only districts" "$(tail -n +2 <<<"$OUT" | cut -f2 | sort -u)" district
ok "unit list --kind commune" provctl -f tab -o kind unit list --kind commune
eq "137 communes" "$(tail -n +2 <<<"$OUT" | sort | uniq -c | tr -s ' ')" " 137 commune"
fails "an unknown kind" 2 provctl unit list --kind hamlet
contains "names the value and lists the kinds" "$ERR" \
	"--kind: 'hamlet' is not one of province, department, district, ward or commune"
ok "-o on an empty listing" provctl -f tab -o login,quota user list --name zzzz
eq "header of the -o columns" "$OUT" $'login\tquota'
fails "-o with an unknown column on an empty listing" 2 provctl -o login,nope user list --name zzzz
contains "lists the columns" "$ERR" "no column 'nope'; columns: login,mail,"

# --- a quota of 0 is no limit: people read "unlimited", scripts the number --------
ok "quota unlimited" provctl user modify binhtt --quota unlimited
eq "stored as 0, which Dovecot's quota_rule reads as no limit" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" uid=binhtt provdMailQuota | ldif_values provdMailQuota)" 0
ok "user show" provctl user show binhtt
contains "shows it as unlimited" "$OUT" "quota:           unlimited"
ok "-f tab keeps the number" provctl -f tab -o login,quota user show binhtt
eq "tab: 0" "$OUT" $'login\tquota\nbinhtt\t0'
ok "-f json keeps the number" provctl -f json user show binhtt
contains "json: 0" "$OUT" '"quota":0'
ok "--quota 0 is the same" provctl user modify binhtt --quota 0
ok "user show" provctl user show binhtt
contains "unlimited again" "$OUT" "quota:           unlimited"
ok "a quota back" provctl user modify binhtt --quota 2G
ok "user show" provctl user show binhtt
contains "2G" "$OUT" "quota:           2G"

# --- a bad option value is a usage error (2), whatever the option ---------------
# Values the command line alone shows wrong; the message names the option and
# the value.  Values only the directory's rules can judge (a phone, a name)
# stay invalid input (6).  The cases run with --dry-run or on no real object
# where they could change something, so nothing here writes.
printf 'employee_id,full_name,unit\n' >"$SANDBOX_DIR/empty.csv"
bad_values=(
	"--status|bogus|user list --status bogus"
	"--status|active|cert list --status active"
	"--quota|lots|user add --name 'Lý Văn Bảy' --unit so-noi-vu --employee-id NV0777 --quota lots"
	"--quota|5X|user modify annv --quota 5X"
	"--kind|village|unit add xa-khac --name 'Xã Khác' --kind village --parent huyen-tam-dao"
	"--kind|village|unit modify so-noi-vu --kind village"
	"--kind|village|unit list --kind village"
	"--on-error|maybe|batch import $SANDBOX_DIR/empty.csv --dry-run --on-error maybe"
	"--expiring-within|soon|cert list --expiring-within soon"
	"--expiring-within|soon|cert renew --expiring-within soon --dry-run"
	"--invalidity-date|yesterday|cert revoke 01 --reason keyCompromise --invalidity-date yesterday"
	"--since|yesterday|audit show --since yesterday"
	"--reason|becauseISaidSo|cert revoke 01 --reason becauseISaidSo"
	"--key|rsa-1024|ca create --subject /CN=x --key rsa-1024 --days 10"
	"--days|0|ca create --subject /CN=x --key ec-p256 --days 0"
)
for case in "${bad_values[@]}"; do
	IFS='|' read -r opt val cmd <<<"$case"
	fails "bad $opt ($cmd): usage" 2 eval "provctl $cmd"
	contains "names $opt" "$ERR" "$opt"
	contains "and the value '$val'" "$ERR" "$val"
done
fails "the CLI checks a listed word itself (no provd needed)" 2 \
	"$BUILD/provctl" -s "$SANDBOX_DIR/no-such.sock" user list --status bogus
contains "and lists the words" "$ERR" "active, disabled or deleted"
fails "a bad phone is still invalid input" 6 provctl user modify annv --phone 'call me'
contains "named" "$ERR" "phone"

# --- a caller outside the socket's group is told which group --------------------
if (($(id -u) == 0)) && command -v setpriv >/dev/null; then
	group=provd-cli-$$
	groupadd "$group"
	at_exit groupdel "$group"
	chgrp "$group" "$PROVD_SOCKET"
	chmod 0660 "$PROVD_SOCKET"
	fails "no access to the socket: permission" 5 setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$BUILD/provctl" -s "$PROVD_SOCKET" ping
	contains "names the group" "$ERR" "open to group '$group'"
	contains "and the fix" "$ERR" "adduser"
	fails "a member of the group reaches provd (which checks roles)" 5 setpriv \
		--reuid=nobody --regid=nogroup --groups="$(getent group "$group" | cut -d: -f3)" \
		"$BUILD/provctl" -s "$PROVD_SOCKET" ping
	contains "provd's answer, not the socket's" "$ERR" "needs role"
else
	diag "not root or no setpriv: socket permission message not checked"
fi

done_testing
