#!/usr/bin/env bash
# batch import: exact plans.  Logins are decided in file order against one
# search of the directory, so two dry runs of one file print the same
# plan; --plan-out writes it and batch apply applies exactly its logins,
# refusing (by row) a row whose login was taken in between; applying it
# again changes nothing.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-plan.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
head -n 301 "$STAFF" >"$T/first.csv"
{ head -n 1 "$STAFF"; sed -n 302,2301p "$STAFF"; } >"$T/next.csv"

# Some accounts already there: the plan must step round their logins.
ok "first 300 applied" provctl batch import "$T/first.csv" --credentials "$T/cred0.csv"

# Two dry runs of the same file: the same plan, byte for byte.
ok "dry run 1" provctl -f tab batch import "$T/next.csv" --dry-run --plan-out "$T/plan1.csv"
ok "dry run 2" provctl -f tab batch import "$T/next.csv" --dry-run --plan-out "$T/plan2.csv"
ok "the two plans are identical" cmp "$T/plan1.csv" "$T/plan2.csv"
eq "plan header" "$(head -1 "$T/plan1.csv")" "row,action,employee_id,full_name,unit,title,phone,login,mail,detail"
eq "plan: a line per row" "$(($(wc -l <"$T/plan1.csv") - 1))" 2000
eq "plan in row order" "$(tail -n +2 "$T/plan1.csv" | cut -d, -f1 | sort -n -c && echo sorted)" sorted
suffixed=$(tail -n +2 "$T/plan1.csv" | awk -F, '$2 == "create" && $8 ~ /[0-9]$/' | wc -l)
ok "the plan has colliding names (suffixed logins: $suffixed)" test "$suffixed" -gt 20
# In file order: of two rows with one login base, the earlier gets the lower suffix.
python3 - "$T/plan1.csv" >"$T/order.txt" <<'PY'
import csv, re, sys
seen = {}
bad = 0
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if r["action"] != "create":
        continue
    m = re.fullmatch(r"([a-z]+)(\d*)", r["login"])
    base, n = m.group(1), int(m.group(2) or 1)
    if base in seen and seen[base] > n:
        bad += 1
    seen[base] = n
print(bad)
PY
eq "suffixes follow file order" "$(cat "$T/order.txt")" 0

# Someone takes one of the planned logins before the plan is applied.
victim=$(tail -n +2 "$T/plan1.csv" | awk -F, '$2 == "create" && $8 ~ /[0-9]$/ {print $1 "," $8; exit}')
vrow=${victim%%,*}
vlogin=${victim#*,}
ok "another account takes $vlogin" provctl user add --name 'Hoàng Văn Khác' --unit so-noi-vu \
	--employee-id OTHER-1 --login "$vlogin"

fails "apply the plan: one row refused" 8 provctl -f tab batch apply "$T/plan1.csv" --credentials "$T/cred1.csv"
contains "the taken login's row is named" "$OUT" "row $vrow: login: '$vlogin' is already taken"
contains "the rest applied" "$OUT" $'applied\t2000\t'

# Applied = printed: every planned create has exactly the planned login.
tail -n +2 "$T/plan1.csv" | awk -F, -v r="$vrow" '$2 == "create" && $1 != r {print $3 " " $8}' | sort >"$T/want.txt"
ldap_root -b "ou=people,$LDAP_BASE" -s one '(employeeNumber=*)' employeeNumber uid |
	awk '/^employeeNumber:/ {e=$2} /^uid:/ {u=$2} /^$/ {if (e != "") print e " " u; e=""; u=""}' |
	sort >"$T/got-all.txt"
join "$T/want.txt" "$T/got-all.txt" | awk '$2 != $3' >"$T/diff.txt"
eq "every planned login is the login made" "$(wc -l <"$T/diff.txt")" 0
eq "every planned create was made" "$(join "$T/want.txt" "$T/got-all.txt" | wc -l)" "$(wc -l <"$T/want.txt")"

# Idempotent: the plan again changes nothing (the refused row stays refused).
fails "apply again" 8 provctl -f json batch apply "$T/plan1.csv" --credentials "$T/cred2.csv"
contains "nothing created or updated" "$OUT" '"created":0,"updated":0,"unchanged":1999'
ok "no credentials the second time" test ! -e "$T/cred2.csv"

# A plan is not an import file, and an import file is not a plan.
fails "import refuses a plan" 2 provctl batch import "$T/plan1.csv" --dry-run
contains "... says to use batch apply" "$ERR" "batch apply"
fails "apply refuses an import file" 2 provctl batch apply "$T/next.csv" --dry-run
contains "... names the plan's columns" "$ERR" "row, action and login"

done_testing
