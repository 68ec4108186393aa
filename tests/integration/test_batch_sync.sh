#!/usr/bin/env bash
# batch import --sync: the accounts of the file's units that the file no
# longer lists are deleted through user delete's path (retention; their
# certificates go on hold), other units are untouched, and more than
# mail.sync_max_delete_percent of those units' accounts is refused, with
# nothing written, unless --force.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-sync.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
ok "a CA" provctl ca create --subject '/CN=Sync Test CA' --key ec-p256 --days 30
head -n 601 "$STAFF" >"$T/all.csv"
ok "600 staff applied" provctl batch import "$T/all.csv" --credentials "$T/cred0.csv"

# The unit with most staff in the file, and its rows.
U=$(tail -n +2 "$T/all.csv" | cut -d, -f3 | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
nU=$(tail -n +2 "$T/all.csv" | awk -F, -v u="$U" '$3 == u' | wc -l)
diag "unit $U has $nU staff"
login_of() { ldap_root -b "ou=people,$LDAP_BASE" "(employeeNumber=$1)" uid | ldif_values uid; }
state_of() { provctl -f json user show "$1" | grep -o '"status":"[a-z]*"'; }

# One leaver in U (under 10 %): the file is the unit's rows but one.
{ head -1 "$T/all.csv"; tail -n +2 "$T/all.csv" | awk -F, -v u="$U" '$3 == u'; } >"$T/unit.csv"
leaver_emp=$(sed -n 2p "$T/unit.csv" | cut -d, -f1)
leaver=$(login_of "$leaver_emp")
{ head -1 "$T/unit.csv"; tail -n +3 "$T/unit.csv"; } >"$T/unit-1.csv"
other_emp=$(tail -n +2 "$T/all.csv" | awk -F, -v u="$U" '$3 != u {print $1; exit}')
other=$(login_of "$other_emp")

# The leaver holds a certificate: deleting follows the account-certificate rule.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/l.key" \
	-subj "/CN=$leaver" -out "$T/l.csr" 2>/dev/null
ok "the leaver has a certificate" provctl cert issue "$leaver" --csr "$T/l.csr"
serial=$(openssl x509 -noout -serial <<<"$OUT" | cut -d= -f2)

ok "sync dry run" provctl -f tab batch import "$T/unit-1.csv" --sync --dry-run
contains "the leaver is planned for delete" "$OUT" $'\t'"$leaver_emp"$'\tdelete\t'"$leaver"
contains "... and its certificate named" "$OUT" "certificate"
contains "summary counts it" "$OUT" $'plan\t'"$((nU - 1))"
eq "dry run: the leaver is still active" "$(state_of "$leaver")" '"status":"active"'

ok "sync" provctl -f tab batch import "$T/unit-1.csv" --sync --credentials "$T/cred1.csv"
contains "the leaver is deleted" "$OUT" $'\t'"$leaver_emp"$'\tdeleted\t'"$leaver"
eq "the leaver's account is deleted (retention)" "$(state_of "$leaver")" '"status":"deleted"'
ok "certificate show" provctl -f json cert show "$serial"
contains "the leaver's certificate is on hold" "$OUT" '"status":"hold"'
eq "staff of other units are untouched" "$(state_of "$other")" '"status":"active"'
eq "the others of the unit stay" "$(state_of "$(login_of "$(sed -n 2p "$T/unit-1.csv" | cut -d, -f1)")")" '"status":"active"'

ok "sync again: nothing more to delete" provctl -f json batch import "$T/unit-1.csv" --sync --credentials "$T/cred2.csv"
diag "summary: $(tail -1 <<<"$OUT")"
contains "... every row unchanged, none deleted" "$OUT" '"unchanged":'"$((nU - 1))"',"rejected":0,"failed":0,"deleted":0'

# Too many: a third of the unit missing from the file.
keep=$(( (nU - 1) * 2 / 3 ))
{ head -1 "$T/unit-1.csv"; tail -n +2 "$T/unit-1.csv" | head -n "$keep"; } >"$T/unit-third.csv"
gone=$(( nU - 1 - keep ))
fails "more than 10 % would go: refused" 4 provctl batch import "$T/unit-third.csv" --sync --credentials "$T/cred3.csv"
contains "... says how many and the limit" "$ERR" "$gone of the $((nU - 1)) accounts"
contains "... names the setting" "$ERR" "mail.sync_max_delete_percent (10%)"
last_emp=$(tail -1 "$T/unit-1.csv" | cut -d, -f1)
eq "... nothing was deleted" "$(state_of "$(login_of "$last_emp")")" '"status":"active"'
fails "also refused as a dry run" 4 provctl batch import "$T/unit-third.csv" --sync --dry-run

ok "with --force" provctl -f json batch import "$T/unit-third.csv" --sync --force --credentials "$T/cred4.csv"
contains "... they are deleted" "$OUT" '"deleted":'"$gone"
eq "... the last of the unit is deleted" "$(state_of "$(login_of "$last_emp")")" '"status":"deleted"'

# Without --sync nobody is deleted.
ok "import without --sync" provctl -f json batch import "$T/unit.csv" --credentials "$T/cred5.csv"
lacks "... no deleted field" "$OUT" '"deleted"'

done_testing
