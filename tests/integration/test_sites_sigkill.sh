#!/usr/bin/env bash
# A provider killed with SIGKILL during a partition, with the sandbox's
# syncprov checkpoint settings (olcSpCheckpoint, see "Replication settings
# that converge" in docs/operations.md): both sides take changes while they
# are cut off, slapd #1 is killed right after its last writes and started
# again, the partition heals, and the two databases end equal — the same
# entries with the same values and the same entryCSNs.
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 300)
T=$(mktemp -d /tmp/provd-sites-kill.XXXXXX)
at_exit rm -rf "$T"

sandbox_up --replicas 2
B=$LDAP_BASE
P1=$PROVD_SOCKET

# The data of one slapd: every entry but the writer lease (renewed all the
# time), values and entryCSN, one line per value, sorted.
# shellcheck disable=SC2317
dump() {  # dump LDAPI
	ldapsearch -Q -Y EXTERNAL -H "$1" -LLL -o ldif-wrap=no -b "$B" '(!(cn=provd-writer))' \
		'*' entryCSN |
		awk '/^dn: /{dn=$0; next} /^$/{next} {print dn "\t" $0}' | LC_ALL=C sort
}
# shellcheck disable=SC2317
converged() {
	dump "$LDAPI_URI" >"$T/d1" && dump "$LDAPI_URI2" >"$T/d2" && [[ -s $T/d1 ]] && cmp -s "$T/d1" "$T/d2"
}

# --- before: 300 people on both --------------------------------------------------------------------
ok "import 300 people" provctl -s "$P1" batch import "$STAFF" --credentials "$T/cred.csv"
ok "both slapds hold the same data (within 20 s)" within 20 converged

# A clean restart writes slapd #1's contextCSN and starts its checkpoint
# count afresh: the changes below (a few dozen operations) all come after
# the last checkpoint unless the settings checkpoint every write.
ok "restart slapd #1 cleanly" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
# shellcheck disable=SC2317
writes_on_1() {
	local s
	s=$(provctl -s "$P1" status) &&
		grep -qx "ldap_uri: *$LDAPI_URI" <<<"$s" && grep -qx 'ldap_writes: *open' <<<"$s"
}
ok "provd #1 writes to slapd #1 again (within 20 s)" within 20 writes_on_1

# --- the partition: both sides take changes ---------------------------------------------------------
r1=$(syncrepl_of "$LDAPI_URI")
r2=$(syncrepl_of "$LDAPI_URI2")
ok "partition: slapd #1 pulls from a dead port" set_syncrepl "$LDAPI_URI" "${r1/127.0.0.1:$LDAP_PORT2/127.0.0.1:1}"
ok "partition: slapd #2 pulls from a dead port" set_syncrepl "$LDAPI_URI2" "${r2/127.0.0.1:$LDAP_PORT/127.0.0.1:1}"
mapfile -t logins < <(ldap_root -b "ou=people,$B" -s one '(employeeNumber=VP*)' uid | sed -n 's/^uid: //p' | sort)
ok "300 logins" test "${#logins[@]}" -eq 300
# Site 1 (through provd, the writer): new people and phone changes.
given=(An Bình Cường Dũng Em Giang Hà Hải Hùng Khoa Lâm Minh Nam Oanh Phúc Quang Sơn Tâm Uyên Vinh)
for ((i = 1; i <= 3; i++)); do
	ok "site 1 adds KP$i" provctl -s "$P1" user add --name "Phạm Văn ${given[i - 1]}" --unit so-noi-vu \
		--employee-id "KP$(printf '%04d' "$i")"
done
for ((i = 0; i < 5; i++)); do
	ok "site 1 changes ${logins[i]}'s phone" provctl -s "$P1" user modify "${logins[i]}" --phone "+84 211 3999 $((100 + i))"
done
# Site 2 (straight to slapd #2, as a cut-off site would): other entries.
for ((i = 100; i < 140; i++)); do
	printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Chuyen vien %d\n\n' \
		"${logins[i]}" "$B" "$i"
done >"$T/site2.ldif"
ok "site 2 changes 40 titles" ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI2" -f "$T/site2.ldif"
# Killed right after its last writes: the checkpoint decides what slapd #1
# knows of them when it starts again.
ok "site 1 adds one more" provctl -s "$P1" user add --name 'Đỗ Thị Cuối' --unit so-y-te --employee-id KP9999
ok "SIGKILL slapd #1" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
ok "start slapd #1 again (still partitioned)" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
ok "site 1's last add survived the kill on slapd #1" ldap_root -b "ou=people,$B" -s one '(employeeNumber=KP9999)' 1.1
contains "it is there" "$OUT" "dn:"

# --- the heal ---------------------------------------------------------------------------------------
ok "heal slapd #1" set_syncrepl "$LDAPI_URI" "$r1"
ok "heal slapd #2" set_syncrepl "$LDAPI_URI2" "$r2"
converged_long() {
	local i
	for ((i = 0; i < 60; i++)); do
		converged && return 0
		sleep 0.5
	done
	return 1
}
if ! ok "the two databases converge (within 30 s)" converged_long; then
	diag "differences (slapd #1 <, slapd #2 >): $(diff "$T/d1" "$T/d2" | grep -c '^[<>]') lines"
	diff "$T/d1" "$T/d2" | head -n 10 | while IFS= read -r l; do diag "$l"; done
fi
eq "site 1's 4 new people on slapd #2" "$(grep -c $'\temployeeNumber: KP' "$T/d2")" 4
eq "site 2's 40 titles on slapd #1" "$(grep -c $'\ttitle: Chuyen vien 1[0-3][0-9]$' "$T/d1")" 40
eq "site 1's 5 phone changes on slapd #2" \
	"$(grep $'\ttelephoneNumber: ' "$T/d2" | cut -f2 | tr -cd '0-9\n' | grep -c '399910[0-4]$')" 5
if ! ok "contextCSN equal on both (within 10 s)" within 10 csns_agree; then
	diag "slapd #1: $(ldap_root -b "$B" -s base contextCSN | ldif_values contextCSN | sort | tr '\n' ' ')"
	diag "slapd #2: $(ldap_root2 -b "$B" -s base contextCSN | ldif_values contextCSN | sort | tr '\n' ' ')"
fi

done_testing
