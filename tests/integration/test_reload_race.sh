#!/usr/bin/env bash
# test_reload_race — nothing borrowed across an asynchronous step.  A
# 3,000-row batch import runs while, in a loop, units are added and renamed
# (each reloads the unit table) and the configuration is reloaded (SIGHUP).
# Every create holds the unit table snapshot it validated against; before,
# a reload freed the table under the creates in flight (ASan:
# heap-use-after-free in expand()) and provd died.  Run it in the sanitizer
# build: lib.sh fails the test on any sanitizer report in provd's log.
. "$(dirname "$0")/../lib.sh"

sandbox_up
T=$(mktemp -d /tmp/provd-race.XXXXXX)
at_exit rm -rf "$T"
csv=$(staff_csv 3000)
# The units the rows go to, renamed while the rows are in flight.
mapfile -t busy < <(tail -n +2 "$csv" | cut -d, -f3 | sort | uniq -c | sort -rn | awk 'NR <= 2 { print $2 }')

"$BUILD/provctl" -f json batch import "$csv" --credentials "$T/cred.csv" >"$T/batch.out" 2>"$T/batch.err" &
batch=$!
rounds=0
while kill -0 "$batch" 2>/dev/null; do
	rounds=$((rounds + 1))
	"$BUILD/provctl" unit add "xa-race-$rounds" --name "Xã Thử $rounds" --kind commune \
		--parent huyen-tam-dao >/dev/null 2>&1 || true
	for u in "${busy[@]}"; do
		"$BUILD/provctl" unit modify "$u" --name "Đơn vị $u $rounds" >/dev/null 2>&1 || true
	done
	kill -HUP "$(<"$SANDBOX_DIR/provd.pid")"
done
rc=0
wait "$batch" || rc=$?
diag "$rounds rounds of unit add, ${#busy[@]} unit renames and SIGHUP during the import"
ok "the reload loop ran during the import" test "$rounds" -ge 3
eq "the batch import finished cleanly" "$rc" 0
[[ $rc == 0 ]] || diag "$(tail -n 5 "$T/batch.err")"
eq "every row created" "$(grep -c '"action":"created"' "$T/batch.out")" 3000
ok "provd is still running" kill -0 "$(<"$SANDBOX_DIR/provd.pid")"
ok "provd answers" provctl ping
lacks "no sanitizer report in provd's log" "$(<"$SANDBOX_DIR/provd.log")" "Sanitizer"
ok "every account carries the unit name of its unit at creation or later" \
	test "$(ldap_root -b "ou=people,$LDAP_BASE" '(departmentNumber=*)' dn | grep -c '^dn:')" -eq 3000

done_testing
