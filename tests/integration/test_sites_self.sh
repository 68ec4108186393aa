#!/usr/bin/env bash
# The password page honours the writer lease.  With two sites its ldap.uri
# is the same ordered list as provd's ldap.uris; a password change goes to
# the first provider that answers only if the writer lease there names it,
# otherwise the page refuses (503 not-writer) and changes nothing:
#   - both slapds up: the change lands on slapd #1, the writer;
#   - a page that reaches only slapd #2 while the sites write to slapd #1:
#     refused, the password unchanged on both slapds, the log says why;
#   - slapd #1 dies: refused until provd takes the lease over on slapd #2,
#     then the change lands there.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-sites-self.XXXXXX)
at_exit rm -rf "$T"
CLIENT=$TESTS_DIR/tools/selfclient.py

sandbox_up --replicas 2
P="ou=people,$LDAP_BASE"
P1=$PROVD_SOCKET
json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])" "$1"; }
hash_on() {  # hash_on 1|2 LOGIN
	local q=ldap_root
	[[ $1 == 1 ]] || q=ldap_root2
	$q -b "uid=$2,$P" -s base userPassword | grep '^userPassword'
}
binds_on() {  # binds_on URI LOGIN PASSWORD
	ldapwhoami -x -H "$1" -D "uid=$2,$P" -w "$3" >/dev/null 2>&1
}
echo 0 >"$T/src"
page_at() {  # page_at URL ARGS...: selfclient from an address of its own
	local n url=$1
	shift
	n=$(($(<"$T/src") + 1))
	echo "$n" >"$T/src"
	python3 "$CLIENT" "$url" "$@" --source "127.0.$((n / 250 + 1)).$((n % 250 + 1))"
}

contains "the page lists both providers, in provd's order" "$(<"$SANDBOX_DIR/self.conf")" \
	"uri     = \"$LDAPI_URI $LDAPI_URI2\";"
ok "user add" provctl -s "$P1" -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id ST0001
PW=$(json_field password <<<"$OUT")
ok "another" provctl -s "$P1" -f json user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id ST0002
PW_B=$(json_field password <<<"$OUT")
# shellcheck disable=SC2317
on_2() { ldap_root2 -b "uid=binhtt,$P" -s base 1.1 | grep -q '^dn:'; }
ok "both reach slapd #2 (within 10 s)" within 10 on_2

# --- both up: the writer takes the change --------------------------------------------------------
NEW1='Song-Lo-chay-qua-2026'
ok "change through the page" page_at "$SELF_URL" change annv "$PW" "$NEW1"
eq "changed" "$OUT" "200 changed"
ok "the new password binds on slapd #1" binds_on "$LDAP_URI" annv "$NEW1"

# --- a page that reaches only slapd #2 -----------------------------------------------------------
sed -e "s|uri     = \"$LDAPI_URI $LDAPI_URI2\";|uri     = \"ldapi://%2Fnonexistent%2Fldapi $LDAPI_URI2\";|" \
	-e "s|self-audit.log|self-audit-cut.log|" "$SANDBOX_DIR/self.conf" >"$T/cut.conf"
contains "its list starts with a provider it cannot reach" "$(<"$T/cut.conf")" "nonexistent"
"$BUILD/provd-self" -d -c "$T/cut.conf" -p "$T/cut.port" >"$T/cut.log" 2>&1 &
cut_pid=$!
at_exit kill "$cut_pid"
# shellcheck disable=SC2317
cut_up() { [[ -s $T/cut.port ]]; }
ok "the cut-off page starts (within 5 s)" within 5 cut_up
CUT_URL="http://127.0.0.1:$(<"$T/cut.port")/"
before1=$(hash_on 1 binhtt)
before2=$(hash_on 2 binhtt)
NEW2='Tam-Dao-mua-suong-2026'
ok "change through the cut-off page" page_at "$CUT_URL" change binhtt "$PW_B" "$NEW2"
eq "refused: not the writer" "$OUT" "503 not-writer"
eq "the password unchanged on slapd #2" "$(hash_on 2 binhtt)" "$before2"
eq "and on slapd #1" "$(hash_on 1 binhtt)" "$before1"
ok "the old password still binds on slapd #2" binds_on "ldap://127.0.0.1:$LDAP_PORT2" binhtt "$PW_B"
contains "the page's log says who writes" "$(<"$T/cut.log")" "not the writer: the sites write to $LDAPI_URI (position 0"
# A new password the rules refuse is checked after the current one, with
# a bind only: that works on any provider.
ok "a refused new password is still judged there (reads go anywhere)" \
	page_at "$CUT_URL" change binhtt "$PW_B" 'matkhau2024'
eq "as a common password" "$OUT" "400 common"

# --- the writer dies: refused until the lease moves, then on slapd #2 ----------------------------
ok "kill slapd #1" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
ok "at once: the site's page refuses" page_at "$SELF_URL" change binhtt "$PW_B" "$NEW2"
eq "not the writer (the lease on slapd #2 still names slapd #1)" "$OUT" "503 not-writer"
eq "nothing changed" "$(hash_on 2 binhtt)" "$before2"
# shellcheck disable=SC2317
lease_moved() { ldap_root2 -b "cn=provd-writer,$LDAP_BASE" -s base description | grep -q '^description: 1 '; }
ok "provd takes the lease over on slapd #2 (within 20 s)" within 20 lease_moved
ok "then the change goes through" page_at "$SELF_URL" change binhtt "$PW_B" "$NEW2"
eq "changed" "$OUT" "200 changed"
ok "on slapd #2, the writer now" binds_on "ldap://127.0.0.1:$LDAP_PORT2" binhtt "$NEW2"

done_testing
