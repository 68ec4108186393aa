#!/usr/bin/env bash
# The newcomer's path: a clone of the repository in an empty directory (no
# sibling folders) has every file it needs, `make run`'s demo works from it,
# a second run keeps the sandbox, RESET=1 starts afresh; the staff
# generator is deterministic and realistic.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-newcomer.XXXXXX)
chmod 755 "$T"
at_exit rm -rf "$T"

# --- the repository stands alone --------------------------------------------------
ok "nothing tracked refers to a folder outside the repository" \
	bash -c "cd '$REPO' && ! git grep -n -e '\\.\\./shared' -e '/work/shared' -- . ':!tests/integration/test_newcomer.sh'"
ok "the unit tree ships in the repository" test -s "$REPO/etc/units/vinh-phuc-2020.csv"
eq "166 units (20 departments incl. the office, 9 districts, 137 communes)" \
	"$(tail -n +2 "$REPO/etc/units/vinh-phuc-2020.csv" | python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(sys.stdin)))')" 166

# --- the generator ------------------------------------------------------------------
G=$REPO/tools/gen-staff
ok "gen-staff writes 500 rows" "$G" -n 500 -o "$T/a.csv"
ok "again, to standard output" bash -c "'$G' -n 500 >'$T/b.csv'"
ok "same arguments, same bytes" cmp "$T/a.csv" "$T/b.csv"
ok "another seed, other people" bash -c "! '$G' -n 500 --seed 7 | cmp -s - '$T/a.csv'"
eq "header is what batch import reads" "$(head -n 1 "$T/a.csv")" "employee_id,full_name,unit,title,phone"
eq "501 lines" "$(wc -l <"$T/a.csv")" 501
ok "8000 rows: realistic shape" python3 - "$G" "$REPO/etc/units/vinh-phuc-2020.csv" <<'PY'
import collections, csv, io, subprocess, sys, unicodedata
gen, units_path = sys.argv[1], sys.argv[2]
out = subprocess.run([gen, "-n", "8000"], check=True, capture_output=True).stdout.decode()
rows = list(csv.DictReader(io.StringIO(out)))
units = {r["code"]: r["kind"] for r in csv.DictReader(open(units_path, encoding="utf-8"))}
assert len(rows) == 8000, len(rows)
ids = [r["employee_id"] for r in rows]
assert len(set(ids)) == 8000 and ids[0] == "VP19000001" and ids[-1] == "VP19008000", ids[:2]
assert all(r["unit"] in units for r in rows), "unknown unit"
per_unit = collections.Counter(r["unit"] for r in rows)
assert len(per_unit) == len(units), "every unit has staff"
by_kind = collections.defaultdict(list)
for code, n in per_unit.items():
    by_kind[units[code]].append(n)
avg = {k: sum(v) / len(v) for k, v in by_kind.items()}
assert avg["department"] > 2 * avg["district"] > 2 * avg["commune"], avg
fam = collections.Counter(r["full_name"].split()[0] for r in rows)
share = fam["Nguyễn"] / 8000
assert 0.30 < share < 0.45, share
assert fam.most_common(1)[0][0] == "Nguyễn"
words = collections.Counter(len(r["full_name"].split()) for r in rows)
assert words[3] > words[4] > 0 and set(words) <= {3, 4}, words
assert all(unicodedata.normalize("NFC", r["full_name"]) == r["full_name"] for r in rows)
assert all(len(r["phone"]) == 10 and r["phone"].startswith("09") and r["phone"].isdigit() for r in rows)
commune_titles = {r["title"] for r in rows if units[r["unit"]] == "commune"}
assert "Chủ tịch UBND" in commune_titles and "Giám đốc" not in commune_titles, commune_titles
PY
ok "an unknown units file is an error" bash -c "! '$G' -n 1 --units '$T/none.csv' 2>/dev/null"

# --- a clone in an empty directory ------------------------------------------------
mkdir -p "$T/empty"
ok "clone into an empty directory" git clone -q "$REPO" "$T/empty/provd"
C=$T/empty/provd
# The working tree may hold changes not yet committed: test what is there.
(cd "$REPO" && git diff HEAD --binary) | (cd "$C" && git apply --allow-empty 2>/dev/null || true)
ok "first run of the demo" "$C/tools/demo" "$BUILD"
contains "demo adds a person" "$OUT" "login:"
contains "demo shows the entry readable" "$OUT" "cn: Nguyễn Văn An"
lacks "no password hash shown" "$OUT" "{SSHA"
lacks "no base64 name shown" "$OUT" "cn::"
_t_sandboxes+=("$C/run/sandbox")
ok "the demo made its own staff file" test -s "$C/run/staff-8000.csv"
ok "second run" "$C/tools/demo" "$BUILD"
contains "second run keeps the sandbox and says so" "$ERR" "keeping the running sandbox"
ok "annv is still there" bash -c "eval \"\$(cat '$C/run/sandbox/env')\" && '$BUILD/provctl' user show annv"
ok "stop it" "$SANDBOX_TOOL" stop "$C/run/sandbox"
ok "third run restarts the stopped sandbox" "$C/tools/demo" "$BUILD"
contains "says it starts it again" "$ERR" "starting the stopped sandbox"
ok "annv survived the restart" bash -c "eval \"\$(cat '$C/run/sandbox/env')\" && '$BUILD/provctl' user show annv"
ok "provd-ocsp answers again at its URL (the README's openssl ocsp)" \
	bash -c "eval \"\$(cat '$C/run/sandbox/env')\" && curl -s -o /dev/null \"\$OCSP_URL\""
ok "and the password page at the URL provd gives out" \
	bash -c "eval \"\$(cat '$C/run/sandbox/env')\" && curl -sf -o /dev/null \"\$SELF_URL\" &&
		grep -qF \"\$SELF_URL\" '$C/run/sandbox/provd.conf'"
ok "RESET=1 starts afresh" env RESET=1 "$C/tools/demo" "$BUILD"
contains "says it wipes" "$ERR" "wiping"
ok "stop it again" "$SANDBOX_TOOL" stop "$C/run/sandbox"

done_testing
