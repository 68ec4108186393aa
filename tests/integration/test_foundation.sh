#!/usr/bin/env bash
# The foundation end to end: provd + provctl against a real slapd — ping,
# status, units, user add/show, roles, malformed frames, reload, shutdown.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
RAW="python3 $REPO/tests/tools/rawclient.py"

sandbox_up

ok "ping answers" provctl ping
contains "ping says pong" "$OUT" "pong"
ok "status" provctl -f json status
contains "status: directory connected" "$OUT" '"ldap":"connected"'
contains "status: 166 units" "$OUT" '"units":166'

ok "unit list" provctl -f tab unit list
eq "unit list has 166 units" "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 166
ok "unit show" provctl -f json unit show xa-kim-phu-tam-dao
contains "unit show: Vietnamese name" "$OUT" '"kind":"commune"'
contains "unit show: path through the district" "$OUT" 'Tam Đảo / '
fails "unit show unknown" 3 provctl unit show khong-co

# The issue's own example.
ok "user add" provctl -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
contains "login annv" "$OUT" '"login":"annv"'
contains "mail annv@domain" "$OUT" '"mail":"annv@vinhphuc.gov.vn"'
contains "dn returned" "$OUT" '"dn":"uid=annv,ou=people,dc=vinhphuc,dc=gov,dc=vn"'
contains "initial password returned once" "$OUT" '"password":"'
pw=$(printf '%s' "$OUT" | sed -n 's/.*"password":"\([^"]*\)".*/\1/p')
eq "cn stored in NFC with diacritics" \
	"$(ldap_root -b "$LDAP_BASE" uid=annv cn | ldif_values cn)" 'Nguyễn Văn An'
eq "pwdReset set" "$(ldap_root -b "$LDAP_BASE" uid=annv pwdReset | ldif_values pwdReset)" TRUE
ok "the initial password binds" ldapwhoami -x -H "$LDAP_URI" \
	-D uid=annv,ou=people,$LDAP_BASE -w "$pw"
ok "user show json" provctl -f json user show annv
contains "user show: employee_id" "$OUT" '"employee_id":"NV0001"'
contains "user show: unit name" "$OUT" '"unit_name":"Sở Tài chính"'
contains "user show: status" "$OUT" '"status":"active"'
ok "user show by mail" provctl -f tab user show annv@vinhphuc.gov.vn
contains "user show by mail finds annv" "$OUT" 'annv'

# NFD input, capitals and stray spaces fold to the same person; the login
# collision takes the lowest free suffix.

ok "user add NFD/capitals" provctl -f json user add --name "  NGÔ   VĂN AN " --unit so-noi-vu --employee-id NV0002
contains "collision gets annv2" "$OUT" '"login":"annv2"'
eq "cn normalised" "$(ldap_root -b "$LDAP_BASE" uid=annv2 cn | ldif_values cn)" 'Ngô Văn An'


# Clear errors, stable exit codes.
fails "unknown unit" 3 provctl user add --name 'Lê Thị Hoa' --unit khong-co --employee-id NV0003
contains "unknown unit named" "$ERR" "unit: unknown unit 'khong-co'"
fails "duplicate employee id" 4 provctl user add --name 'Lê Thị Hoa' --unit so-y-te --employee-id NV0001
contains "duplicate names the account" "$ERR" "NV0001 already has the account 'annv'"
fails "missing argument" 2 provctl user add --name 'Lê Thị Hoa' --unit so-y-te
contains "missing argument named" "$ERR" "employee-id"
fails "unknown option" 2 provctl user add --nme x
fails "unknown command" 2 provctl user frobnicate
fails "bad employee id" 6 provctl user add --name 'Lê Thị Hoa' --unit so-y-te --employee-id 'a b'
fails "bad phone" 6 provctl user add --name 'Lê Thị Hoa' --unit so-y-te --employee-id NV0009 --phone 'call me'
contains "bad phone named" "$ERR" "phone:"
fails "show unknown" 3 provctl user show nobodyhere
# Filter specials never widen a search.
fails "filter specials are literal" 3 provctl user show 'ann*'
fails "filter injection is literal" 3 provctl user show '*)(uid=*'

# Roles come from the caller's credentials: nobody maps to no role.
chmod 0666 "$PROVD_SOCKET"
fails "caller without a role is refused" 5 runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" ping
contains "permission error names the role" "$ERR" "permission denied"
chmod 0660 "$PROVD_SOCKET"

# Malformed frames are refused and provd keeps serving.
for mode in oversized badversion badtype garbage truncated-field; do
	ok "raw $mode" $RAW "$PROVD_SOCKET" "$mode"
	contains "raw $mode refused with a protocol status" "$OUT" "status=9"
	ok "still serving after $mode" provctl ping
done

# Silent and half-frame clients time out (client_timeout lowered by SIGHUP).
sed -i 's/client_timeout = [0-9]*;/client_timeout = 2;/' "$SANDBOX_DIR/provd.conf"
ok "provd reloads the edited configuration" reload_provd
ok "silent client" $RAW "$PROVD_SOCKET" silent 10
contains "silent client is closed" "$OUT" "status=9"
ok "half-frame client" $RAW "$PROVD_SOCKET" halfframe 10
contains "half-frame client is closed" "$OUT" "status=9"
ok "reload kept serving" provctl ping

# A second instance on the same socket is refused.
fails "second instance refused" any "$BUILD/provd" -d -c "$SANDBOX_DIR/provd.conf"
contains "second instance says why" "$ERR" "already running"
ok "first instance still serves" provctl ping

# provd -n checks the configuration.
ok "provd -n" "$BUILD/provd" -n -c "$SANDBOX_DIR/provd.conf"
chmod 0644 "$SANDBOX_DIR/provd.conf"
fails "provd -n refuses a readable config" 1 "$BUILD/provd" -n -c "$SANDBOX_DIR/provd.conf"
contains "refusal names the file" "$ERR" "provd.conf"
chmod 0600 "$SANDBOX_DIR/provd.conf"
# A misspelt setting is an error naming its line, not a silent default.
bad=$SANDBOX_DIR/misspelt.conf
(umask 077 && sed 's/^\(\s*\)\(daemon\s*[:=]\s*{\)/\1\2\n  retention_day = 90;/' \
	"$SANDBOX_DIR/provd.conf" >"$bad")
line=$(grep -n 'retention_day = 90' "$bad" | cut -d: -f1)
fails "provd -n refuses an unknown setting" 1 "$BUILD/provd" -n -c "$bad"
contains "and names it with its line" "$ERR" "misspelt.conf:$line: unknown setting 'daemon.retention_day'"
(umask 077 && printf 'extra = { x = 1; };\n' | cat "$SANDBOX_DIR/provd.conf" - >"$bad")
fails "provd -n refuses an unknown group" 1 "$BUILD/provd" -n -c "$bad"
contains "and names the setting in it" "$ERR" "unknown setting 'extra.x'"

# SIGTERM: provd exits cleanly and removes its socket.
pid=$(cat "$SANDBOX_DIR/provd.pid")
kill -TERM "$pid"
for _ in $(seq 300); do pid_gone "$pid" && break; sleep 0.1; done
ok "SIGTERM stops provd" pid_gone "$pid"
ok "socket removed" test ! -e "$PROVD_SOCKET"
fails "provctl reports provd unreachable" 7 provctl ping

done_testing
