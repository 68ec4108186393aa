#!/usr/bin/env bash
# A batch killed with kill -9 loses no initial password without notice:
# every row handed to the directory is written down (no password, only the
# employee id) before its add, and crossed off once its password is out;
# the provd that starts next reports the rows left in flight, in its log and
# in the audit journal, "(batch interrupted)".  Every account the batch
# made whose password is not in the credentials file is among them.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-batch-kill.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CSV=$(staff_csv 3000)
PENDING=$SANDBOX_DIR/state/batch-pending
count() { ldap_root -b "ou=people,$LDAP_BASE" -s one '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:'; }

# A batch that finishes leaves nothing behind.
head -n 21 "$CSV" >"$T/s20.csv"
ok "a batch of 20" provctl batch import "$T/s20.csv" --credentials "$T/cred20.csv"
eq "a finished batch leaves no pending file" "$(ls -A "$PENDING" 2>/dev/null)" ""

tail -n +22 "$CSV" | sed '1i employee_id,full_name,unit,title,phone' >"$T/rest.csv"
"$BUILD/provctl" batch import "$T/rest.csv" --credentials "$T/cred.csv" >"$T/batch.out" 2>&1 &
batcher=$!
ok "the batch is under way" within 30 bash -c '(( $(ldapsearch -Q -Y EXTERNAL -H "$1" -LLL -b "ou=people,$2" -s one "(objectClass=inetOrgPerson)" 1.1 | grep -c "^dn:") > 220 ))' _ "$LDAPI_URI" "$LDAP_BASE"
kill -KILL "$(<"$SANDBOX_DIR/provd.pid")"
wait "$batcher" 2>/dev/null
made=$(count)
ok "the pending file is left behind" bash -c 'ls "$1"/* >/dev/null' _ "$PENDING"
ok "it holds no password" python3 - "$T/cred.csv" "$PENDING" <<'PY'
import csv, glob, sys
pw = [r["password"] for r in csv.DictReader(open(sys.argv[1]))]
assert pw, "no credentials delivered before the kill"
text = "".join(open(f).read() for f in glob.glob(sys.argv[2] + "/*"))
bad = [p for p in pw if p in text]
sys.exit("passwords in the pending file: %d" % len(bad) if bad else 0)
PY

ok "provd starts again" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
ok "the log reports the interrupted batch" within 30 grep -q "batch import ended early" "$SANDBOX_DIR/provd.log"
ok "audit show" provctl -f json audit show
contains "the journal has a record of it" "$OUT" '"command":"(batch interrupted)"'
report=$(ls "$PENDING"/*.interrupted)
ok "the report is kept for the operator" test -s "$report"

# Every account of the batch without a delivered password is reported.
ldap_root -b "ou=people,$LDAP_BASE" -s one '(objectClass=inetOrgPerson)' employeeNumber |
	ldif_values employeeNumber | sort >"$T/made"
{ cut -d, -f1 "$T/s20.csv" | tail -n +2; grep -o 'VP[0-9]*' "$T/cred.csv" 2>/dev/null; } | sort -u >"$T/delivered"
comm -23 "$T/made" "$T/delivered" >"$T/lost"
awk '$1 == "+" {p[$2] = 1} $1 == "-" {delete p[$2]} END {for (k in p) print k}' "$report" |
	sort >"$T/reported"
eq "no account lost its password without notice" "$(comm -23 "$T/lost" "$T/reported")" ""
diag "accounts made: $made; passwords not delivered: $(wc -l <"$T/lost"); rows reported: $(wc -l <"$T/reported")"
ok "a second start reports nothing new" bash -c \
	'"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ "$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
eq "one report only" "$(grep -c "batch: a batch import ended early" "$SANDBOX_DIR/provd.log")" 1

# A row is crossed off when the bytes of its password reach the socket, not
# when they are queued: a client that stops reading and goes away leaves the
# rows whose credentials were still in provd's output queue in flight, and
# they are reported; the rows it was sent are not.
mkdir -p "$T/stop"
{ head -n1 "$CSV"; tail -n 1400 "$CSV"; } >"$T/stop/in.csv"
ok "a client that stops reading after 50 passwords" \
	python3 "$REPO/tests/tools/stopreader.py" "$PROVD_SOCKET" "$T/stop/in.csv" 50 "$T/stop/sent"
diag "$OUT"
ok "provd reports the batch" within 30 bash -c \
	'(( $(grep -c "batch: a batch import ended early" "$1") == 2 ))' _ "$SANDBOX_DIR/provd.log"
report2=$(ls -t "$PENDING"/*.interrupted | head -n1)
ok "a second report is kept" test "$report2" != "$report"
ldap_root -b "ou=people,$LDAP_BASE" -s one '(objectClass=inetOrgPerson)' employeeNumber |
	ldif_values employeeNumber | sort >"$T/stop/all"
cut -d, -f1 "$T/stop/in.csv" | tail -n +2 | sort >"$T/stop/ids"
comm -12 "$T/stop/all" "$T/stop/ids" >"$T/stop/made"
sort -u "$T/stop/sent" >"$T/stop/sent.s"
comm -23 "$T/stop/made" "$T/stop/sent.s" >"$T/stop/unsent"
awk '$1 == "+" {p[$2] = 1} $1 == "-" {delete p[$2]} END {for (k in p) print k}' "$report2" |
	sort >"$T/stop/reported"
ok "more accounts were made than the client was sent" test -s "$T/stop/unsent"
eq "every account whose password was not sent is reported" \
	"$(comm -23 "$T/stop/unsent" "$T/stop/reported")" ""
eq "no row the client was sent is reported" "$(comm -12 "$T/stop/sent.s" "$T/stop/reported")" ""
diag "made: $(wc -l <"$T/stop/made"); sent: $(wc -l <"$T/stop/sent.s"); reported: $(wc -l <"$T/stop/reported")"
ok "audit show" provctl -f json audit show
eq "two (batch interrupted) records" "$(grep -o '"command":"(batch interrupted)"' <<<"$OUT" | wc -l)" 2

done_testing
