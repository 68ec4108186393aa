#!/usr/bin/env bash
# status counts accounts and certificates without counting entries: the
# numbers follow provd's own adds and deletes at once, and a count made
# when the directory comes back picks up what other writers did.
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
sandbox_up
status_is "empty" 0 0
ok "import 200" provctl batch import "$T/s200.csv" --credentials "$T/c.csv"
status_is "after the import" 200 0
ok "add one" provctl user add --name 'Khúc Thừa Dụ' --unit so-noi-vu --employee-id ZZ1
status_is "after user add" 201 0
ok "disable" provctl user disable dukt
status_is "after disable" 201 1
ok "delete (held)" provctl user delete dukt
ok "due for purge" purge_due dukt
ok "purge" provctl user purge
status_is "after purge" 200 0

# Another writer: seen once provd counts again (the directory came back).
ldapdelete -Q -Y EXTERNAL -H "$LDAPI_URI" \
	"uid=$(sed -n 2p "$T/c.csv" | cut -d, -f1),ou=people,$LDAP_BASE"
ok "restart slapd" "$SANDBOX_TOOL" restart-slapd "$SANDBOX_DIR"
within 20 sh -c "'$BUILD/provctl' -f json status | grep -q '\"accounts\":199'"
ok "status after the directory came back" provctl -f json status
eq "a delete by another writer counted" "$(field accounts)" 199

done_testing
