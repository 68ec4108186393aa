#!/usr/bin/env bash
# status counts accounts, disabled accounts and certificates without
# counting entries: the numbers follow provd's own adds, deletes, disables
# and enables at once (no search: slapd's statistics log shows none), and a
# count made when the directory comes back picks up what other writers did.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)
T=$(mktemp -d /tmp/provd-counts.XXXXXX)
at_exit rm -rf "$T"

field() { # field NAME: NAME's value in the last `status -f json`
	grep -o "\"$1\":[0-9]*" <<<"$OUT" | head -1 | cut -d: -f2
}
status_is() { # status_is WHAT ACCOUNTS DISABLED
	ok "status ($1)" provctl -f json status
	eq "$1: accounts" "$(field accounts)" "$2"
	eq "$1: disabled" "$(field accounts_disabled)" "$3"
}

head -n 201 "$STAFF" >"$T/s200.csv"
export SANDBOX_SLAPD_DEBUG=stats   # every operation in slapd.log
sandbox_up
LOCKED_SEARCH='SRCH base=.* filter="(pwdAccountLockedTime=000001010000'  # as slapd writes it
status_is "empty" 0 0
ok "import 200" provctl batch import "$T/s200.csv" --credentials "$T/c.csv"
status_is "after the import" 200 0
ok "add one" provctl user add --name 'Khúc Thừa Dụ' --unit so-noi-vu --employee-id ZZ1
status_is "after user add" 201 0
within 60 grep -q "$LOCKED_SEARCH" "$SANDBOX_DIR/slapd.log"
ok "the first count read the disabled accounts" grep -q "$LOCKED_SEARCH" "$SANDBOX_DIR/slapd.log"
mark=$(stat -c %s "$SANDBOX_DIR/slapd.log")
ok "disable" provctl user disable dukt
status_is "after disable" 201 1
ok "enable" provctl user enable dukt
status_is "after enable" 201 0
ok "disable again" provctl user disable dukt
status_is "after disable again" 201 1
since=$(tail -c +$((mark + 1)) "$SANDBOX_DIR/slapd.log")
ok "slapd logged the operations meanwhile" grep -q 'MOD dn=' <<<"$since"
eq "status searched for no disabled account" "$(grep -c "$LOCKED_SEARCH" <<<"$since")" 0
ok "delete (held)" provctl user delete dukt
ok "due for purge" purge_due dukt
ok "purge" provctl user purge
status_is "after purge" 200 0

# Another writer: seen once provd counts again (the directory came back).
ldapdelete -Q -Y EXTERNAL -H "$LDAPI_URI" \
	"uid=$(sed -n 2p "$T/c.csv" | cut -d, -f1),ou=people,$LDAP_BASE"
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=$(sed -n 3p "$T/c.csv" | cut -d, -f1),ou=people,$LDAP_BASE
changetype: modify
replace: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
EOF
ok "restart slapd" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
# (the count runs in the background once the directory is back: wait for
# both numbers, then read them)
within 60 sh -c "'$BUILD/provctl' -f json status | grep '\"accounts\":199' | grep -q '\"accounts_disabled\":1'"
ok "status after the directory came back" provctl -f json status
eq "a delete by another writer counted" "$(field accounts)" 199
eq "a lock by another writer counted" "$(field accounts_disabled)" 1

done_testing
