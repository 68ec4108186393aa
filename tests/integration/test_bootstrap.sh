#!/usr/bin/env bash
# provd bootstrap: the offline first load.  A generated file (and a small
# one with collisions and bad rows) becomes LDIF that slapadd -q loads into
# the stopped sandbox slapd; the accounts then work as if imported online:
# credentials bind, the hash verifies in Dovecot, the logins are those of an
# online dry run of the same file in file order, and an online import of the
# same file afterwards finds every row unchanged.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-bootstrap.XXXXXX)
at_exit rm -rf "$T"

count_people() {
	ldap_root -b "ou=people,$LDAP_BASE" -s one '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:'
}

head -n 3001 "$STAFF" >"$T/s3000.csv"
# Collisions and mistakes: two people with one name (the second gets the
# next suffix), one who asked for a login and an alias, a login that the
# alias of an earlier row holds, a repeated employee id (case folded), an
# unknown unit, a bad phone.
cat >"$T/edge.csv" <<'EOF'
employee_id,full_name,unit,title,phone,login,aliases
ZZ000001,Khúc Thừa Dụ,so-noi-vu,,,,
ZZ000002,Khúc Thừa Dụ,so-noi-vu,,,,
ZZ000003,Trần Thị Bình,so-noi-vu,,,binhtt,vanthu@vinhphuc.gov.vn
ZZ000004,Vũ Văn Thư,so-noi-vu,,,vanthu,
zz000001,Khúc Thừa Dụ,so-noi-vu,,,,
ZZ000005,Lê Văn Cường,no-such-unit,,,,
ZZ000006,Lê Văn Dũng,so-noi-vu,,12ab,,
EOF

sandbox_up --bootstrap "$T/s3000.csv" --bootstrap "$T/edge.csv"
CRED=$BOOTSTRAP_CREDENTIALS
eq "3000 + 3 accounts loaded" "$(count_people)" 3003
eq "credentials file is 0600" "$(stat -c %a "$CRED")" 600
eq "the LDIF is 0600" "$(stat -c %a "$SANDBOX_DIR/bootstrap.ldif")" 600
eq "credentials: header + 3003 rows" "$(wc -l <"$CRED")" 3004
eq "credentials header" "$(head -1 "$CRED")" "login,mail,employee_id,password,expires,change_at"
row2=$(sed -n 2p "$CRED")
eq "each row says by when, in ISO 8601 as provctl writes it" \
	"$(cut -d, -f5 <<<"$row2" | sed -E 's/T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/T/')" "$(date -u -d '+14 days' +%Y-%m-%dT)"
eq "... and where to change it" "$(cut -d, -f6 <<<"$row2")" "$SELF_URL"
log=$(cat "$SANDBOX_DIR/bootstrap.log")
contains "summary" "$log" "3007 rows: 3003 created, 4 rejected"
contains "repeated id (case folded) named" "$log" "edge.csv: row 6: employee_id: zz000001 already has an account"
contains "unknown unit named" "$log" "edge.csv: row 7: unit: unknown unit 'no-such-unit'"
contains "bad phone named" "$log" "edge.csv: row 8: phone"
contains "login held by an alias" "$log" "edge.csv: row 5: login: 'vanthu' is already taken"
lacks "no password in the log" "$log" "$(cut -d, -f4 <<<"$row2")"
eq "same name: first" "$(grep ',ZZ000001,' "$CRED" | cut -d, -f1)" "dukt"
eq "same name: second" "$(grep ',ZZ000002,' "$CRED" | cut -d, -f1)" "dukt2"
eq "the alias is on the entry" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" '(uid=binhtt)' mailLocalAddress | ldif_values mailLocalAddress)" \
	"vanthu@vinhphuc.gov.vn"

# The accounts work.
login=$(cut -d, -f1 <<<"$row2")
pw=$(cut -d, -f4 <<<"$row2")
ok "user show" provctl -f tab user show "$login"
contains "user show: active, in its unit" "$OUT" "$(sed -n 2p "$T/s3000.csv" | cut -d, -f3)"
ok "a credential binds" ldapwhoami -x -H "$LDAP_URI" -D "uid=$login,ou=people,$LDAP_BASE" -w "$pw"
fails "a wrong password does not" 49 ldapwhoami -x -H "$LDAP_URI" \
	-D "uid=$login,ou=people,$LDAP_BASE" -w "wrong$pw"
hash=$(ldap_root -b "ou=people,$LDAP_BASE" "(uid=$login)" userPassword | ldif_values userPassword)
ok "Dovecot verifies the hash" doveadm pw -t "$hash" -p "$pw"
eq "must change at first login" \
	"$(ldap_root -b "ou=people,$LDAP_BASE" "(uid=$login)" pwdReset | ldif_values pwdReset)" TRUE
# (provd counts once it has the directory, in the background)
ok "status counts them" within 30 sh -c "'$BUILD/provctl' -f json status | grep -q '\"accounts\":3003'"
ok "audit show" provctl -f tab audit show
contains "the load is in the audit journal" "$OUT" "3007 rows: 3003 created, 4 rejected; LDIF sha256 $(sha256sum <"$SANDBOX_DIR/bootstrap.ldif" | cut -d' ' -f1)"

# The entries are what an online import makes: the same file again is
# unchanged, and an online dry run (rows one at a time, file order) on an
# empty directory picks the same logins.
ok "online import of the same file" provctl -f json batch import "$T/s3000.csv" --credentials "$T/again.csv"
contains "every row unchanged" "$OUT" '"created":0,"updated":0,"unchanged":3000'
boot_dir=$SANDBOX_DIR
sandbox_up
ok "online dry run" provctl -f tab batch import "$T/s3000.csv" --dry-run --on-error stop
awk -F'\t' '$3 == "create" { print $2 "," $4 }' <<<"$OUT" | sort >"$T/online"
awk -F, 'NR > 1 && $3 !~ /^ZZ/ { print $3 "," $1 }' "$CRED" | sort >"$T/offline"
eq "3000 logins planned online" "$(wc -l <"$T/online")" 3000
ok "the same logins as online" cmp "$T/online" "$T/offline"

# Refusals: no overwriting, no LDIF to a terminal, usage.
fails "credentials file is never overwritten" 2 "$BUILD/provd" -c "$boot_dir/provd.conf" \
	bootstrap --units "$REPO/etc/units/vinh-phuc-2020.csv" --credentials "$CRED" \
	-o "$T/x.ldif" "$T/edge.csv"
ok "nothing written then" test ! -e "$T/x.ldif"
fails "units are required" 2 "$BUILD/provd" -c "$boot_dir/provd.conf" bootstrap \
	--credentials "$T/c2.csv" "$T/edge.csv"

done_testing
