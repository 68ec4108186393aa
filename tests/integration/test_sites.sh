#!/usr/bin/env bash
# Two sites, one writer: the sandbox with --replicas 2 gives both provds the
# same ordered ldap.uris, so both write to the first slapd and the writer
# lease (cn=provd-writer) keeps it that way.
#   - two halves of a staff file imported at once through the two provds:
#     every person exactly once, credentials only for accounts that exist;
#   - the same file, in reverse order on the second site: nobody twice;
#   - a provd that cannot reach the writer refuses writes (status 7, says
#     why) while the lease is fresh, and takes over once it has ended.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 2000)
T=$(mktemp -d /tmp/provd-sites.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET
P2=$PROVD_SOCKET2

# shellcheck disable=SC2317
ids_on() {  # ids_on 1|2 PREFIX: employee numbers held under ou=people, one a line
	local q=ldap_root
	[[ $1 == 1 ]] || q=ldap_root2
	$q -b "ou=people,$B" -s one "(employeeNumber=$2*)" employeeNumber |
		sed -n 's/^employeeNumber: //p' | sort
}
# shellcheck disable=SC2317
count_on() {  # count_on 1|2 PREFIX N: slapd holds N entries with that prefix
	[[ $(ids_on "$1" "$2" | wc -l) == "$3" ]]
}
field() {  # field NAME: a "name: value" field of provctl's table output on stdin
	sed -n "s/^$1: *//p"
}

# --- the same writer for both ---------------------------------------------------------------
ok "provd #1 status" provctl -s "$P1" status
eq "provd #1 writes to slapd #1" "$(field ldap_uri <<<"$OUT")" "$LDAPI_URI"
eq "provd #1: writes open" "$(field ldap_writes <<<"$OUT")" open
ok "provd #2 status" provctl -s "$P2" status
eq "provd #2 also writes to slapd #1" "$(field ldap_uri <<<"$OUT")" "$LDAPI_URI"
eq "provd #2: writes open" "$(field ldap_writes <<<"$OUT")" open
ok "the writer lease is in the directory" ldap_root -b "cn=provd-writer,$B" -s base description
contains "it names position 0, slapd #1" "$(ldif_values description <<<"$OUT")" "0 "
contains "by its URI" "$OUT" "$LDAPI_URI"

# --- two halves at once ------------------------------------------------------------------------
head -n 1 "$STAFF" >"$T/h1.csv"
head -n 1 "$STAFF" >"$T/h2.csv"
sed -n '2,1001p' "$STAFF" >>"$T/h1.csv"
sed -n '1002,2001p' "$STAFF" >>"$T/h2.csv"
"$BUILD/provctl" -s "$P1" -f json batch import "$T/h1.csv" --credentials "$T/c1.csv" \
	>"$T/o1" 2>"$T/e1" &
pid1=$!
"$BUILD/provctl" -s "$P2" -f json batch import "$T/h2.csv" --credentials "$T/c2.csv" \
	>"$T/o2" 2>"$T/e2" &
pid2=$!
rc1=0 rc2=0
wait "$pid1" || rc1=$?
wait "$pid2" || rc2=$?
eq "half 1 through provd #1: exit 0" "$rc1" 0
eq "half 2 through provd #2: exit 0" "$rc2" 0
contains "half 1: 1000 created" "$(<"$T/o1")" '"created":1000'
contains "half 2: 1000 created" "$(<"$T/o2")" '"created":1000'
ok "slapd #1 holds all 2000" count_on 1 VP 2000
ok "slapd #2 holds all 2000 within 30 s" within 30 count_on 2 VP 2000
eq "no employee id twice on slapd #1" "$(ids_on 1 VP | uniq -d | wc -l)" 0
# Every login handed out exists, with the employee id it was given for.
tail -n +2 "$T/c1.csv" >"$T/creds"
tail -n +2 "$T/c2.csv" >>"$T/creds"
eq "2000 credentials" "$(wc -l <"$T/creds")" 2000
eq "2000 different logins" "$(cut -d, -f1 "$T/creds" | sort -u | wc -l)" 2000
ldap_root -b "ou=people,$B" -s one '(employeeNumber=VP*)' uid employeeNumber |
	awk '/^uid: / { u = $2 } /^employeeNumber: / { print u "," $2 }' | sort >"$T/held"
missing=0
while IFS=, read -r login _ _ _ _; do
	grep -q "^$login," "$T/held" || missing=$((missing + 1))
done <"$T/creds"
eq "every login in the credentials exists" "$missing" 0

# --- the same file in reverse order on the other site -----------------------------------------
"$REPO/tools/gen-staff" -n 1000 --prefix RV --seed 11 -o "$T/rv.csv"
{ head -n 1 "$T/rv.csv"; tail -n +2 "$T/rv.csv" | tac; } >"$T/rv-reversed.csv"
"$BUILD/provctl" -s "$P1" -f json batch import "$T/rv.csv" --credentials "$T/c3.csv" >"$T/o3" 2>"$T/e3" &
pid1=$!
"$BUILD/provctl" -s "$P2" -f json batch import "$T/rv-reversed.csv" --credentials "$T/c4.csv" >"$T/o4" 2>"$T/e4" &
pid2=$!
rc1=0 rc2=0
wait "$pid1" || rc1=$?
wait "$pid2" || rc2=$?
eq "forward through provd #1: exit 0" "$rc1" 0
eq "reversed through provd #2: exit 0" "$rc2" 0
# A run that did not exit 0 shows why: its error and the rows that were not made.
for k in 3 4; do
	[[ $rc1$rc2 == 00 ]] && break
	diag "run $k: $(<"$T/e$k")"
	diag "$(grep -v '"action":"\(created\|unchanged\|updated\)"' "$T/o$k" | head -n 20)"
done
ok "slapd #2 has the reversed run's 1000 within 30 s" within 30 count_on 2 RV 1000
ok "slapd #1: 1000 people" count_on 1 RV 1000
eq "nobody with two mailboxes" "$(ids_on 1 RV | uniq -d | wc -l)" 0
eq "nobody with none" "$(comm -23 <(tail -n +2 "$T/rv.csv" | cut -d, -f1 | sort -u) \
	<(ids_on 1 RV | sort -u) | wc -l)" 0
c3=$(sed -n 's/.*"created":\([0-9]*\).*/\1/p' "$T/o3")
c4=$(sed -n 's/.*"created":\([0-9]*\).*/\1/p' "$T/o4")
eq "the two runs created 1000 between them" "$((c3 + c4))" 1000

# --- a provd that cannot reach the writer --------------------------------------------------------
ok "stop provd #2" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR2"
# Site 2 loses its way to slapd #1: the first URI does not answer there.
sed -i "s|uris = \[ \"$LDAPI_URI\",|uris = [ \"ldapi://%2Fnonexistent%2Fldapi\",|" "$SANDBOX_DIR2/provd.conf"
contains "provd #2's first URI unreachable" "$(<"$SANDBOX_DIR2/provd.conf")" '"ldapi://%2Fnonexistent%2Fldapi", '
ok "start provd #2 again" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR2" --provd "$BUILD/provd"
ok "provd #2 reads through slapd #2" within 30 provctl -s "$P2" -f json user show "$(cut -d, -f1 <<<"$(head -n 1 "$T/creds")")"
fails "a write through provd #2 is refused with status 7" 7 \
	provctl -s "$P2" user add --name 'Đỗ Minh Khoa' --unit so-y-te --employee-id ST0001
contains "it says why" "$ERR" "not the writer"
contains "and names the writer" "$ERR" "$LDAPI_URI"
ok "provd #2 status" provctl -s "$P2" status
contains "status shows writes closed" "$(field ldap_writes <<<"$OUT")" "closed: not the writer"
contains "the log says so" "$(<"$SANDBOX_DIR2/provd.log")" "writer: writes refused: not the writer"
ok "provd #1 keeps writing" provctl -s "$P1" user add --name 'Đỗ Minh Khoa' --unit so-y-te --employee-id ST0001
# Site 1's provd stops: nobody renews the lease; site 2 takes over once it ends.
ok "stop provd #1" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
# shellcheck disable=SC2317
add_st2() { provctl -s "$P2" user add --name 'Vũ Thu Hà' --unit so-y-te --employee-id ST0002; }
ok "provd #2 takes over within 15 s" within 15 add_st2
ok "provd #2 status" provctl -s "$P2" status
eq "writes open on provd #2" "$(field ldap_writes <<<"$OUT")" open
ok "the lease names position 1 now" ldap_root2 -b "cn=provd-writer,$B" -s base description
contains "slapd #2's position" "$(ldif_values description <<<"$OUT")" "1 "
# provd #1 comes back: it must not write while site 2 holds the lease.
ok "start provd #1 again" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
# shellcheck disable=SC2317
writes_closed() { provctl -s "$P1" status | grep -q '^ldap_writes: *closed'; }
ok "provd #1 sees the lease of slapd #2 within 10 s" within 10 writes_closed
fails "a write through provd #1 is refused while site 2 writes" 7 \
	provctl -s "$P1" user add --name 'Phan Quốc Bảo' --unit so-y-te --employee-id ST0003
contains "it says who writes" "$ERR" "not the writer yet"

done_testing
