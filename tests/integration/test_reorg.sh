#!/usr/bin/env bash
# A reorganisation as one plan: the example file (etc/reorg, Vĩnh Phúc into
# Phú Thọ) planned and applied on generated staff, with provd and then
# slapd killed (SIGKILL) in the middle of an apply and the same file
# applied again: each account moved once, its old address kept as an
# alias exactly once, no address lost, every unit that goes gone.  A file
# with errors is refused whole, each error with its line.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
B=$LDAP_BASE
P=ou=people,$B
TMP=$(mktemp -d /tmp/provd-reorg.XXXXXX)
at_exit rm -rf -- "$TMP"
EXAMPLE=$REPO/etc/reorg/vinh-phuc-2025.csv
STATUS=$SANDBOX_DIR/state/reorg.status
N=2000

ok "the example file is what tools/gen-reorg makes" cmp <("$REPO/tools/gen-reorg") "$EXAMPLE"

# --- a file with errors ----------------------------------------------------------------
cat >"$TMP/bad.csv" <<'CSV'
reorg,bad-plan
unit,xa-moi,Xã Mới,hamlet,
merge,xa-khong-co,so-noi-vu
merge,so-tai-chinh,so-tai-chinh
rename,so-y-te,Sở Y tế mới
merge,so-y-te,so-noi-vu
merge,so-tu-phap,so-ke-hoach-dau-tu
merge,so-ke-hoach-dau-tu,so-noi-vu
parent,huyen-tam-dao,xa-kim-phu-tam-dao
merge,so-cong-thuong,
frobnicate,x
domain,vinhphuc.gov.vn,phutho.gov.vn,someday
abolish,huyen-tam-dao,so-noi-vu,so-y-te,extra
CSV
before=$(ldap_root -b "$B" '(objectClass=*)' '*' entryCSN)
fails "a file with errors is refused (6)" 6 provctl -f json reorg plan "$TMP/bad.csv"
ERRS=$OUT
err_line() {   # err_line LINE TEXT: a record of $ERRS for that line mentions TEXT
	python3 - "$1" "$2" "$ERRS" <<'PY'
import json, sys
line, text, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for l in out.splitlines():
    r = json.loads(l)
    if str(r.get("line")) == str(line) and text in r.get("error", ""):
        sys.exit(0)
sys.exit(1)
PY
}
ok "line 2: an unknown kind" err_line 2 "kind"
ok "line 3: an unknown unit" err_line 3 "no unit 'xa-khong-co'"
ok "line 4: a unit merged into itself" err_line 4 "so-tai-chinh"
ok "line 6: a unit both merged and kept" err_line 6 "both merged and kept"
ok "line 7: a target that goes too" err_line 7 "goes too"
ok "line 9: a cycle of parents" err_line 9 "cycle"
ok "line 10: an empty target" err_line 10 "empty"
ok "line 11: an unknown statement" err_line 11 "unknown statement"
ok "line 12: a bad date" err_line 12 "UNTIL"
ok "line 13: too many fields" err_line 13 "fields"
fails "apply refuses the same file" 6 provctl reorg apply "$TMP/bad.csv"
eq "nothing changed" "$(ldap_root -b "$B" '(objectClass=*)' '*' entryCSN)" "$before"

# --- staff, and the configuration the file asks for -----------------------------------
ok "$N staff" provctl batch import "$(staff_csv $N)" --credentials "$TMP/cred.csv"
ok "a CA" provctl ca create --subject '/C=VN/O=UBND/CN=Reorg Test CA' --key ec-p256 --days 365
HOLDER=$(awk -F, 'NR == 2 { print $1 }' "$TMP/cred.csv")
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k" \
	-subj /CN=x -out "$TMP/r.csr" 2>/dev/null
ok "a certificate for $HOLDER" provctl -f json cert issue "$HOLDER" --csr "$TMP/r.csr"
SERIAL=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")

fails "the example needs the new domain in provd.conf first" 6 provctl -f json reorg plan "$EXAMPLE"
ERRS=$OUT
dline=$(grep -n '^domain,' "$EXAMPLE" | cut -d: -f1)
ok "... said on the domain line ($dline)" err_line "$dline" "mail.domain"

python3 - "$SANDBOX_DIR/provd.conf" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('domain = "vinhphuc.gov.vn";',
              'domain = "phutho.gov.vn";\n  old_domains = ( { domain = "vinhphuc.gov.vn"; until = "2026-07-01"; } );')
s = s.replace('organization = "UBND tỉnh Vĩnh Phúc";', 'organization = "UBND tỉnh Phú Thọ";')
open(p, 'w').write(s)
PY
restart_provd() {
	"$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR" >/dev/null 2>&1 || true
	"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
}
ok "provd restarts with the old domain kept until 2026-07-01" restart_provd
fails "the file keeps the old domain forever: the until date must match" 6 \
	provctl -f json reorg plan "$EXAMPLE"
ERRS=$OUT
ok "... said on the domain line" err_line "$dline" "the old domain until 2026-07-01"

python3 - "$SANDBOX_DIR/provd.conf" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('old_domains = ( { domain = "vinhphuc.gov.vn"; until = "2026-07-01"; } );',
              'previous_domains = [ "vinhphuc.gov.vn" ];')
open(p, 'w').write(s)
PY
ok "provd restarts with mail.domain phutho.gov.vn" restart_provd

# --- plan --------------------------------------------------------------------------------
ok "plan the example" provctl -f json reorg plan "$EXAMPLE"
total=$(grep '"unit":"TOTAL"' <<<"$OUT")
contains "every account moves" "$total" "\"accounts_moved\":$N,"
contains "every account gets an address" "$total" "\"addresses_added\":$N,"
contains "one holder of a certificate to re-issue" "$total" '"certificates_reissue":1'
contains "a merged department's address is kept by the new one" "$OUT" \
	'"addresses_kept":"so-ke-hoach-dau-tu,so-tai-chinh"'
contains "a district is abolished" "$OUT" '"unit":"huyen-tam-dao","action":"abolish"'
plan_id=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["plan_id"])' <<<"$total")
ok "the plan has an id" test -n "$plan_id"
eq "plan wrote nothing" "$(ldap_root -b "$P" -s one "(mail=*@phutho.gov.vn)" 1.1 | grep -c '^dn:' || true)" 0

# --- apply, killed twice ---------------------------------------------------------------
wait_done() {   # wait_done N: the status file counts N accounts of this run
	local i v
	for ((i = 0; i < 600; i++)); do
		v=$(sed -n 's/^accounts_done=//p' "$STATUS" 2>/dev/null || true)
		[[ -n $v && $v -ge $1 ]] && return 0
		sleep 0.05
	done
	return 1
}
provctl reorg apply "$EXAMPLE" >"$SANDBOX_DIR/apply1.out" 2>&1 &
apid=$!
ok "apply under way (500 accounts)" wait_done 500
ok "slapd killed mid-apply" "$SANDBOX_TOOL" kill-slapd "$SANDBOX_DIR"
wait "$apid" && rc=0 || rc=$?
ok "... the apply does not claim success ($rc)" test "$rc" -ne 0
ok "slapd back" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
ok "provd reconnects" within 30 provctl -f json user show "$HOLDER"
moved1=$(ldap_root -b "$P" -s one "(mail=*@phutho.gov.vn)" 1.1 | grep -c '^dn:' || true)
ok "some accounts moved before ($moved1)" test "$moved1" -gt 0 -a "$moved1" -lt "$N"

rm -f "$STATUS"
provctl reorg apply "$EXAMPLE" >"$SANDBOX_DIR/apply2.out" 2>&1 &
apid=$!
ok "the second apply under way" wait_done 500
pid=$(<"$SANDBOX_DIR/provd.pid")
ok "provd killed mid-apply (SIGKILL)" kill -KILL "$pid"
wait "$apid" || true
ok "provd restarts" restart_provd
ok "reorg status says how far it got" provctl -f json reorg status
contains "... this plan" "$OUT" "\"plan_id\":\"$plan_id\""
contains "... not finished" "$OUT" '"result":"running"'
moved2=$(ldap_root -b "$P" -s one "(mail=*@phutho.gov.vn)" 1.1 | grep -c '^dn:' || true)
ok "more moved, not all ($moved2)" test "$moved2" -gt "$moved1" -a "$moved2" -lt "$N"

cat >"$TMP/other.csv" <<'CSV'
reorg,another-plan
rename,so-noi-vu,Sở Nội vụ
CSV
fails "another file waits until this apply finishes" 4 provctl reorg apply "$TMP/other.csv"

# On a terminal, with its progress line (script(1) gives it one).
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	RC=$(script -qefc "$cmd" /dev/null </dev/null >"$TMP/tty.out"; echo $?)
	OUT=$(tr -d '\r' <"$TMP/tty.out")
}
if command -v script >/dev/null; then
	on_tty "$BUILD/provctl" -s "$PROVD_SOCKET" reorg apply "$EXAMPLE"
else
	OUT=$(provctl reorg apply "$EXAMPLE" 2>&1) && RC=0 || RC=$?
	diag "script(1) is not installed: no terminal for the progress line"
fi
eq "the same file applied again" "$RC" 0
command -v script >/dev/null && contains "... with its progress on the terminal" "$OUT" "rows (100%)"
ok "reorg status" provctl -f json reorg status
contains "... finished" "$OUT" '"result":"finished"'

# --- what converged ------------------------------------------------------------------------
ldap_root -b "$P" -s one '(objectClass=inetOrgPerson)' uid mail mailLocalAddress departmentNumber \
	>"$TMP/after.ldif"
python3 - "$TMP/after.ldif" "$TMP/cred.csv" "$EXAMPLE" "$N" >"$TMP/check.out" <<'PY' || true
import csv, sys
ldif, cred, example, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
people, cur = {}, None
for line in open(ldif, encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("dn: "):
        cur = {"alias": []}
    elif ": " in line and cur is not None:
        k, v = line.split(": ", 1)
        if k == "uid": people[v] = cur
        elif k == "mail": cur["mail"] = v
        elif k == "mailLocalAddress": cur["alias"].append(v)
        elif k == "departmentNumber": cur["unit"] = v
new_units = set()
for row in csv.reader(l for l in open(example, encoding="utf-8") if not l.startswith("#")):
    if row and row[0] == "unit": new_units.add(row[1])
bad = []
logins = [r["login"] for r in csv.DictReader(open(cred, encoding="utf-8"))]
if len(logins) != n: bad.append("cred has %d logins" % len(logins))
for login in logins:
    p = people.get(login)
    if p is None: bad.append("%s: gone" % login); continue
    if p.get("mail") != login + "@phutho.gov.vn": bad.append("%s: mail %s" % (login, p.get("mail")))
    old = login + "@vinhphuc.gov.vn"
    if p["alias"].count(old) != 1: bad.append("%s: old address %d times" % (login, p["alias"].count(old)))
    if p.get("unit") not in new_units: bad.append("%s: unit %s" % (login, p.get("unit")))
print("\n".join(bad[:20]) if bad else "ok")
PY
eq "every account: new mail, its old address kept once, a new unit" "$(<"$TMP/check.out")" ok
units=$(ldap_root -b "ou=units,$B" -s one '(objectClass=provdUnit)' ou | ldif_values ou | sort)
eq "the units are the plan's (1 province, 15 departments, 36 communes and wards)" \
	"$(wc -l <<<"$units")" 52
eq "... exactly the new ones" "$units" "$(grep '^unit,' "$EXAMPLE" | cut -d, -f2 | sort)"
ok "the certificate" provctl -f json cert show "$SERIAL"
contains "... was revoked for the changed affiliation" "$OUT" affiliationChanged
ok "plan again: nothing left" provctl -f json reorg plan "$EXAMPLE"
contains "... total zero" "$(grep '"unit":"TOTAL"' <<<"$OUT")" \
	'"accounts_moved":0,"addresses_added":0,"addresses_kept":null,"certificates_reissue":0'
ok "applied again: converged, nothing written" provctl reorg apply "$EXAMPLE"
fails "an old address is still the person's (address policy)" 4 \
	provctl alias add "$(sed -n 3p "$TMP/cred.csv" | cut -d, -f1)" "$HOLDER@vinhphuc.gov.vn"
fails "a merged unit's code is no one's address" 6 provctl alias add "$HOLDER" "so-tai-chinh@phutho.gov.vn"
# --- one uninterrupted apply: the certificates follow in that very run ---------------
ok "a unit" provctl unit add tmp-a --name 'Đơn vị tạm' --kind department --parent tinh-phu-tho
ok "a person in it" provctl -f json user add --name 'Lương Văn Tâm' --unit tmp-a --employee-id RG0001
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k2" \
	-subj /CN=x -out "$TMP/r2.csr" 2>/dev/null
ok "... with a certificate" provctl -f json cert issue tamlv --csr "$TMP/r2.csr"
SERIAL2=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")
ok "a second person there" provctl -f json user add --name 'Vi Thị Mai' --unit tmp-a --employee-id RG0002
ok "... with a key the office made" provctl -f json cert issue maivt --generate --p12 "$TMP/mai.p12"
SERIAL3=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")
printf 'reorg,tmp\nunit,tmp-b,Đơn vị mới,department,tinh-phu-tho\nmerge,tmp-a,tmp-b\n' >"$TMP/tmp.csv"
mkdir -m 700 "$TMP/p12" "$TMP/p12again"
ok "a small plan applied in one run (--p12-dir)" provctl -f json reorg apply "$TMP/tmp.csv" \
	--p12-dir "$TMP/p12"
contains "... lists the holder" "$OUT" '"login":"tamlv"'
ok "the certificate" provctl -f json cert show "$SERIAL2"
contains "... revoked in that run" "$OUT" affiliationChanged
ok "the office's certificate" provctl -f json cert show "$SERIAL3"
contains "... revoked in that run too" "$OUT" affiliationChanged
p12s=$(cd "$TMP/p12" && ls | sort | tr '\n' ' ')
new3=$(cd "$TMP/p12" && ls maivt-*.p12 2>/dev/null | sed 's/^maivt-//; s/\.p12$//' || true)
eq "one PKCS#12, re-issued in the same run, and the passphrases" "$p12s" \
	"maivt-$new3.p12 passphrases.csv "
eq "... the PKCS#12 is 0600" "$(stat -c %a "$TMP/p12/maivt-$new3.p12" 2>&1)" 600
pass=$(grep "^maivt,$new3," "$TMP/p12/passphrases.csv" | cut -d, -f4)
ok "... its passphrase opens it" bash -c "openssl pkcs12 -in '$TMP/p12/maivt-$new3.p12' \
	-passin 'pass:$pass' -nokeys -clcerts 2>/dev/null | openssl x509 -noout -nameopt utf8,sep_comma_plus_space -subject -ext subjectAltName \
	>'$TMP/new3.txt'"
contains "... the new certificate names the new organisation" "$(<"$TMP/new3.txt")" \
	"O=UBND tỉnh Phú Thọ"
contains "... and the address" "$(<"$TMP/new3.txt")" "email:maivt@phutho.gov.vn"
ok "... and is valid" provctl -f json cert show "$new3"
contains "... valid" "$OUT" '"status":"valid"'
contains "... recorded under the new unit" "$OUT" '"unit":"tmp-b"'
lacks "a certificate from a CSR is not re-issued" "$p12s" tamlv
ok "the same plan applied again (--p12-dir)" provctl -f json reorg apply "$TMP/tmp.csv" \
	--p12-dir "$TMP/p12again"
eq "... issues nothing twice" "$(ls -A "$TMP/p12again")" ""
ok "... the new certificate stays valid" provctl -f json cert show "$new3"
contains "... valid" "$OUT" '"status":"valid"'

ok "audited" provctl -f json audit show
contains "... with the plan id" "$OUT" "plan=$plan_id"

done_testing
