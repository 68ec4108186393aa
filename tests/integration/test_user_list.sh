#!/usr/bin/env bash
# user list over 2,000 accounts loaded straight into slapd: paged results
# (page size 1000) give every account exactly once, --unit with and without
# --recursive, --status, --name, and a client that reads slowly
# (backpressure between pages).
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# "stats" makes slapd log each search, so the pages can be counted.
SANDBOX_SLAPD_DEBUG=stats sandbox_up
B=$LDAP_BASE
TMP=$(mktemp -d /tmp/provd-list.XXXXXX)
at_exit rm -rf -- "$TMP"

N=2000
DISTRICT=huyen-tam-dao
mapfile -t TAMDAO < <(awk -F, -v d="$DISTRICT" '$1 == d || $4 == d { print $1 }' \
	"$REPO/etc/units/vinh-phuc-2020.csv")
eq "the district and its communes" "${#TAMDAO[@]}" 10
FAMILIES=(Nguyễn Trần Lê Phạm Hoàng)

# Accounts 1..600 go round the district and its communes, the rest to one
# department.  Every 10th is disabled, every 25th deleted (deleted wins).
want_tree=0 want_district=0 want_dept=0 want_disabled=0 want_deleted=0 want_tran=0
{
	for ((i = 1; i <= N; i++)); do
		if ((i <= 600)); then
			unit=${TAMDAO[i % ${#TAMDAO[@]}]}
			want_tree=$((want_tree + 1))
			[[ $unit != "$DISTRICT" ]] || want_district=$((want_district + 1))
		else
			unit=so-tai-chinh
			want_dept=$((want_dept + 1))
		fi
		family=${FAMILIES[i % 5]}
		[[ $family != Trần ]] || want_tran=$((want_tran + 1))
		login=$(printf 'lt%05d' "$i")
		printf 'dn: uid=%s,ou=people,%s\n' "$login" "$B"
		printf 'objectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\nobjectClass: provdAccount\n'
		printf 'uid: %s\n' "$login"
		printf 'cn: %s Văn Thử %d\n' "$family" "$i"
		printf 'sn: %s\n' "$family"
		printf 'mail: %s@vinhphuc.gov.vn\n' "$login"
		printf 'employeeNumber: LT%05d\n' "$i"
		printf 'departmentNumber: %s\n' "$unit"
		if ((i % 7 == 0)); then
			printf 'givenName: Thử %d\ntitle: Chuyên viên %d\ntelephoneNumber: 0211%06d\n' "$i" "$i" "$i"
			printf 'provdMailQuota: %d\nmailLocalAddress: %s.bis@vinhphuc.gov.vn\n' $((i << 20)) "$login"
		fi
		((i % 10 != 0)) || printf 'provdDisabledReason: nghỉ phép %d\n' "$i"
		if ((i % 25 == 0)); then
			printf 'pwdAccountLockedTime: 000001010000Z\nprovdDeleteAfter: 20991231000000Z\n'
			want_deleted=$((want_deleted + 1))
		elif ((i % 10 == 0)); then
			printf 'pwdAccountLockedTime: 000001010000Z\n'
			want_disabled=$((want_disabled + 1))
		fi
		printf '\n'
	done
} >"$TMP/people.ldif"
ok "load $N accounts with ldapadd" ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" -f "$TMP/people.ldif"

# Searches slapd logged for user list (one per page).
pages() {
	grep -c 'SRCH base="ou=people,' "$SANDBOX_DIR/slapd.log" || true
}

before=$(pages)
ok "list everything" provctl -f json user list
eq "every account once" "$(grep -c '"login":' <<<"$OUT")" "$N"
eq "no login twice" "$(grep -o '"login":"[a-z0-9]*"' <<<"$OUT" | sort -u | wc -l)" "$N"
eq "every account's created time" "$(grep -c '"created":"20[0-9-]*T[0-9:]*Z"' <<<"$OUT")" "$N"
after=$(pages)
ok "paged: at least $((N / 1000)) searches of 1000" test $((after - before)) -ge $((N / 1000))
# What the listing asks slapd for: the attributes of the fields it prints
# (a field nobody prints, such as modifyTimestamp, costs slapd per entry),
# and every one of them (the created time above comes from createTimestamp).
listing_attrs() {
	awk '/SRCH base="ou=people,.*filter="\(&\(objectClass=inetOrgPerson\)\)"/ {
		match($0, /conn=[0-9]+ op=[0-9]+/); want = substr($0, RSTART, RLENGTH) }
	     want != "" && index($0, want " SRCH attr=") { sub(/.* SRCH attr=/, ""); last = $0; want = "" }
	     END { print last }' "$SANDBOX_DIR/slapd.log"
}
eq "the listing asks for the printed fields' attributes only" "$(listing_attrs)" \
	"uid mail cn givenName sn employeeNumber departmentNumber title telephoneNumber mailLocalAddress provdMailQuota pwdAccountLockedTime provdDisabledReason provdDeleteAfter createTimestamp"

# A table (and -o) prints some fields: provctl sends them (--fields), and
# provd asks slapd for the attributes those fields are read from, no more.
ok "the table's default columns" provctl user list
eq "its header" "$(head -n 1 <<<"$OUT" | tr -s ' ')" "LOGIN NAME UNIT STATUS MAIL"
eq "every account in the table" "$(($(wc -l <<<"$OUT") - 1))" "$N"
eq "disabled ones say so" "$(grep -c ' disabled ' <<<"$OUT")" "$want_disabled"
eq "deleted ones say so" "$(grep -c ' deleted ' <<<"$OUT")" "$want_deleted"
eq "the table asks for its columns' attributes" "$(listing_attrs)" \
	"uid mail cn departmentNumber pwdAccountLockedTime provdDeleteAfter"
ok "-o status alone" provctl -f tab -o status user list
eq "status is read from its two attributes" "$(listing_attrs)" "pwdAccountLockedTime provdDeleteAfter"
ok "-o dn alone" provctl -f tab -o dn user list
eq "a DN needs no attribute" "$(listing_attrs)" "1.1"
eq "but every DN is there" "$(grep -c '^uid=lt[0-9]*,ou=people,' <<<"$OUT")" "$N"
# Each field alone gives the values it has among all the fields.
ok "-f tab of every field" provctl -f tab user list
ALL=$OUT
IFS=$'\t' read -r -a FIELDS <<<"$(head -n 1 <<<"$ALL")"
eq "seventeen fields" "${#FIELDS[@]}" 17
for ((k = 0; k < ${#FIELDS[@]}; k++)); do
	ok "-o ${FIELDS[k]}" provctl -f tab -o "${FIELDS[k]}" user list
	# (both without their trailing empty lines, as $OUT has it)
	eq "-o ${FIELDS[k]}: the same values" "$(md5sum <<<"$OUT")" \
		"$(md5sum <<<"$(cut -f $((k + 1)) <<<"$ALL")")"
done
ok "-o in any order" provctl -f tab -o dn,status,login,unit_name user list
eq "the same values in that order" "$(md5sum <<<"$OUT")" \
	"$(md5sum <<<"$(awk -F'\t' -v OFS='\t' '{ print $17, $7, $1, $6 }' <<<"$ALL")")"
ok "json keeps every field" provctl -f json user list --unit so-tai-chinh --status deleted
eq "seventeen keys a record" "$(head -n 1 <<<"$OUT" | python3 -c 'import json, sys; print(len(json.loads(sys.stdin.readline())))')" 17
# --fields is what a client sends: hostile input, checked against the names.
fails "an unknown field" 2 provctl -f tab user list --fields 'login,uid)(objectClass=*'
contains "names the columns there are" "$ERR" "no column 'uid)(objectClass=*'; columns: login,mail,name"
fails "an empty field name" 2 provctl -f tab user list --fields 'login,,mail'
fails "too many names" 2 provctl -f tab user list --fields "$(printf 'login,%.0s' {1..64})mail"
ok "--fields given by hand wins over -o" provctl -f tab -o login user list --fields login,mail --unit so-tai-chinh
eq "only login printed" "$(head -n 1 <<<"$OUT")" "login"

ok "list a district with --recursive" provctl -f json user list --unit "$DISTRICT" --recursive
eq "the whole district tree" "$(grep -c '"login":' <<<"$OUT")" "$want_tree"
lacks "no department staff in it" "$OUT" '"unit":"so-tai-chinh"'
ok "list the district alone" provctl -f json user list --unit "$DISTRICT"
eq "only the district's own staff" "$(grep -c '"login":' <<<"$OUT")" "$want_district"
ok "list one department" provctl -f json user list --unit so-tai-chinh
eq "the department's staff" "$(grep -c '"login":' <<<"$OUT")" "$want_dept"
fails "--recursive without --unit" 2 provctl user list --recursive
fails "an unknown unit" 3 provctl user list --unit no-such-unit
contains "unknown unit named" "$ERR" "no-such-unit"

ok "list disabled accounts" provctl -f json user list --status disabled
eq "disabled count" "$(grep -c '"login":' <<<"$OUT")" "$want_disabled"
lacks "deleted ones are not 'disabled'" "$OUT" '"status":"deleted"'
ok "list deleted accounts" provctl -f json user list --status deleted
eq "deleted count" "$(grep -c '"login":' <<<"$OUT")" "$want_deleted"
ok "list active accounts" provctl -f json user list --status active
eq "active count" "$(grep -c '"login":' <<<"$OUT")" $((N - want_disabled - want_deleted))
fails "an unknown status" 2 provctl user list --status sleeping

ok "list by name prefix" provctl -f json user list --name 'Trần'
eq "everyone called Trần" "$(grep -c '"login":' <<<"$OUT")" "$want_tran"
ok "the prefix is normalised (case, NFD, spaces)" provctl -f json user list --name "$(printf ' tra\xcc\x82\xcc\x80n ')"
eq "same people" "$(grep -c '"login":' <<<"$OUT")" "$want_tran"
ok "name and unit together" provctl -f json user list --name 'Trần' --unit so-tai-chinh --status active
ok "filters combine" test "$(grep -c '"login":' <<<"$OUT")" -lt "$want_tran"
fails "a filter character in the name" 6 provctl user list --name 'Tr*n'

# A reader slower than provd: the output queue fills, provd waits for it to
# drain between pages, and nothing is lost.
ok "a slow reader gets everything" timeout 60 bash -c '"$1" -f json user list | { sleep 2; grep -c "\"login\":"; }' _ "$BUILD/provctl"
eq "all $N through backpressure" "$OUT" "$N"
ok "provd answers while a listing waits" timeout 60 bash -c '
	"$1" -f json user list | { sleep 2; cat >/dev/null; } &
	sleep 0.5
	"$1" ping
	wait' _ "$BUILD/provctl"
# slapd keeps one paged search per connection: listings at the same time
# (two of them slow) must not spoil each other's pages.
ok "three listings at once" timeout 60 bash -c '
	"$1" -f json user list | { sleep 1; grep -c "\"login\":"; } >"$2/a" &
	"$1" -f json user list | { sleep 1; grep -c "\"login\":"; } >"$2/b" &
	"$1" -f json user list --unit so-tai-chinh | grep -c "\"login\":" >"$2/c"
	wait' _ "$BUILD/provctl" "$TMP"
eq "first listing complete" "$(<"$TMP/a")" "$N"
eq "second listing complete" "$(<"$TMP/b")" "$N"
eq "third listing complete" "$(<"$TMP/c")" "$want_dept"

# A reader that goes away in the middle: provd stops the listing and lives on.
ok "a reader that quits early" timeout 60 bash -c '"$1" -f json user list | head -n 3 >/dev/null; true' _ "$BUILD/provctl"
ok "provd still serves" provctl ping

done_testing
