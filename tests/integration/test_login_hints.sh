#!/usr/bin/env bash
# Login choice at scale: a create starts at the lowest suffix of its base
# not known to be taken (one search, not one per four suffixes), and a
# login freed through provd (purge) is given again, the lowest free first.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

SANDBOX_SLAPD_DEBUG=stats sandbox_up
# The searches of a user add (its login candidates, then its check) name its
# employee id; provd's timers (the initial-password sweep, every 2 s here,
# the counts) search ou=people too, with filters of their own, at any
# moment: not counted.
searches() { grep -ci 'SRCH base="ou=people,.*(employeeNumber=zz' "$SANDBOX_DIR/slapd.log" || true; }
add() { # add N: one more Khúc Thừa Dụ, employee id ZZN
	provctl -f json user add --name 'Khúc Thừa Dụ' --unit so-noi-vu --employee-id "ZZ$1"
}

for i in $(seq 1 12); do
	ok "add $i" add "$i"
done
contains "the twelfth is dukt12" "$OUT" '"login":"dukt12"'
before=$(searches)
ok "add 13" add 13
contains "the thirteenth is dukt13" "$OUT" '"login":"dukt13"'
eq "one search for the login, one to verify" "$(($(searches) - before))" 2

# Free dukt2 and dukt7 through provd: the next ones get them, lowest first
# (dukt7 is the first candidate of the second round from the hint).
for l in dukt2 dukt7; do
	ok "delete $l" provctl user delete "$l"
	ok "$l due for purge" purge_due "$l"
done
ok "purge" provctl user purge
ok "add 14" add 14
contains "the freed login is given again" "$OUT" '"login":"dukt2"'
ok "add 15" add 15
contains "then the next freed one" "$OUT" '"login":"dukt7"'
ok "add 16" add 16
contains "then the next free one" "$OUT" '"login":"dukt14"'

done_testing
