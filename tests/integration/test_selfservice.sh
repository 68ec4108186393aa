#!/usr/bin/env bash
# The self-service password page (provd-self) and initial passwords that
# expire: every refusal with its own message and nothing changed, the
# change itself done by slapd (Password Modify, pwdReset cleared by the
# server), CSRF and rate limits, no password anywhere on disk, the expiry
# sweep, report passwords.  The real-browser and Dovecot halves are in
# test_mailstack.sh.
# (latency and equal-timing bounds: runs with no other test beside it)
# itest: alone
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-self.XXXXXX)
at_exit rm -rf "$T"
CLIENT=$TESTS_DIR/tools/selfclient.py

sandbox_up
P="ou=people,$LDAP_BASE"
ok "the sandbox prints SELF_URL" test -n "${SELF_URL:-}"

# Each call comes from an address of its own (127.0.1.N), so the
# per-address limit meets only the flood below.
# (a file holds the count: `ok` runs its command in a subshell)
echo 0 >"$T/src"
page() {
	local n
	n=$(($(<"$T/src") + 1))
	echo "$n" >"$T/src"
	python3 "$CLIENT" "$SELF_URL" "$@" --source "127.0.$((n / 250 + 1)).$((n % 250 + 1))"
}
attr() { ldap_root -b "uid=$1,$P" -s base "$2" | ldif_values "$2"; }
binds() { ldapwhoami -x -H "$LDAP_URI" -D "uid=$1,$P" -w "$2" >/dev/null 2>&1; }
hash_of() { ldap_root -b "uid=$1,$P" -s base userPassword | grep '^userPassword'; }
json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])" "$1"; }
PASSWORDS=()
# start_page NAME LINE: another provd-self on the sandbox's configuration
# with LINE added to self { } and an audit log of its own, in the
# background; sets PAGE_PID and PAGE_PORT (empty if it did not start).
start_page() {
	sed -e "s/port       = 0;/port = 0;\n  $2/" \
		-e "s|self-audit.log|self-audit-$1.log|" "$SANDBOX_DIR/self.conf" >"$T/$1.conf"
	"$BUILD/provd-self" -d -c "$T/$1.conf" -p "$T/$1.port" >"$T/$1.log" 2>&1 &
	PAGE_PID=$!
	at_exit kill "$PAGE_PID"
	for _ in $(seq 1 300); do [[ -s $T/$1.port ]] && break; sleep 0.1; done
	PAGE_PORT=$(cat "$T/$1.port" 2>/dev/null)
}

# --- a new account: the initial password, its deadline, where to change it -------
ok "user add" provctl -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id SS0001
PW_AN=$(json_field password <<<"$OUT"); PASSWORDS+=("$PW_AN")
eq "the reply says where to change it" "$(json_field password_page <<<"$OUT")" "$SELF_URL"
exp=$(json_field password_expires <<<"$OUT")
want=$(date -u -d '+14 days' +%Y-%m-%d)
eq "the initial password expires in 14 days (ISO 8601)" "${exp:0:10}" "$want"
eq "pwdEndTime holds the deadline" "$(attr annv pwdEndTime)" "$(date -u -d "$exp" +%Y%m%d%H%M%SZ)"
eq "pwdReset is set" "$(attr annv pwdReset)" TRUE
ok "add two more" provctl -f json user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id SS0002
PW_BINH=$(json_field password <<<"$OUT"); PASSWORDS+=("$PW_BINH")
ok "and one" provctl -f json user add --name 'Lê Văn Cường' --unit xa-kim-phu-tam-dao --employee-id SS0003
PW_CUONG=$(json_field password <<<"$OUT"); PASSWORDS+=("$PW_CUONG")

# --- the form ------------------------------------------------------------------------
ok "GET /" page get
contains "200 and a plain form" "$OUT" "200 form"
contains "no caching" "$OUT" "Cache-Control: no-store"
contains "a strict CSP" "$OUT" "Content-Security-Policy: default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
contains "no framing" "$OUT" "X-Frame-Options: DENY"
contains "the form cookie is HttpOnly and SameSite=Strict" "$OUT" "HttpOnly; SameSite=Strict"
ok "the page is in Vietnamese first" bash -c "curl -sf '$SELF_URL' | grep -q '<html lang=\"vi\">'"
ok "the rules are shown before typing" bash -c "curl -sf '$SELF_URL' | grep -q 'có ít nhất 10 ký tự'"
ok "fields named login, current, new, confirm" bash -c \
	"curl -sf '$SELF_URL' | grep -c 'name=\"\\(login\\|current\\|new\\|confirm\\|csrf\\)\"' | grep -qx 5"
ok "relative URLs only, so the page works under a proxy's prefix" bash -c \
	"curl -sf '$SELF_URL' >'$T/form.html' && grep -q 'href=\"style.css\"' '$T/form.html' && grep -q '<form method=\"post\">' '$T/form.html' && ! grep -q '=\"/' '$T/form.html'"
ok "style sheet" bash -c "curl -sf '${SELF_URL}style.css' | grep -q 'font-family'"
ok "unknown paths are 404" bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' '${SELF_URL}admin') == 404 ]]"
ok "other methods are 405" bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' -X DELETE '$SELF_URL') == 405 ]]"

# --- refusals: each its own message, nothing changed --------------------------------
before=$(hash_of annv)
NEWPW='Tre-xanh-bon-mua-2025'; PASSWORDS+=("$NEWPW")
check_refusal() {
	local name=$1 want=$2
	shift 2
	ok "$name" page change "$@"
	eq "$name: answer" "$OUT" "$want"
}
check_refusal "wrong current password" "400 wrong-credentials" annv 'not-the-password' "$NEWPW"
check_refusal "unknown login: the same answer" "400 wrong-credentials" nobody 'not-the-password' "$NEWPW"
check_refusal "unknown address: the same answer" "400 wrong-credentials" "nobody@vinhphuc.gov.vn" x "$NEWPW"
check_refusal "a filter in the login matches nobody" "400 wrong-credentials" 'ann*' "$PW_AN" "$NEWPW"
check_refusal "confirmation differs" "400 mismatch" annv "$PW_AN" "$NEWPW" "${NEWPW}x"
check_refusal "too short" "400 too-short" annv "$PW_AN" 'Ngan-9'
check_refusal "common password" "400 common" annv "$PW_AN" 'matkhau2024'
check_refusal "common in leetspeak" "400 common" annv "$PW_AN" 'P@ssw0rd123'
check_refusal "contains the login" "400 has-login" annv "$PW_AN" 'my-annv-secret-1'
check_refusal "contains the name (without diacritics)" "400 has-name" annv "$PW_AN" 'nguyen-rat-dep-trai'
check_refusal "name rule needs the right password first" "400 wrong-credentials" annv 'wrong' 'nguyen-rat-dep-trai'
check_refusal "same as the current one" "400 same" annv "$PW_AN" "$PW_AN"
check_refusal "missing field" "400 missing" annv "$PW_AN" '' ''
check_refusal "no CSRF token" "403 form-expired" annv "$PW_AN" "$NEWPW" --no-token
check_refusal "no CSRF cookie" "403 form-expired" annv "$PW_AN" "$NEWPW" --no-cookie
check_refusal "the cookie of another form" "403 form-expired" annv "$PW_AN" "$NEWPW" --other-cookie
check_refusal "forged CSRF token" "403 form-expired" annv "$PW_AN" "$NEWPW" \
	--token "00000000000000000000000000000000.6b000000.$(printf '0%.0s' {1..64})"
ok "oversized body refused" bash -c "[[ \$(head -c 9000 /dev/zero | tr '\\0' a | curl -s -o /dev/null -w '%{http_code}' --data-binary @- -H 'Content-Type: application/x-www-form-urlencoded' '$SELF_URL') == 400 ]]"
eq "nothing changed by any refusal" "$(hash_of annv)" "$before"
eq "pwdReset still set" "$(attr annv pwdReset)" TRUE

# --- a disabled account ---------------------------------------------------------------
ok "disable binhtt" provctl user disable binhtt --reason 'test'
check_refusal "disabled account" "403 disabled" binhtt "$PW_BINH" "$NEWPW"
ok "enable binhtt" provctl user enable binhtt

# --- the change -----------------------------------------------------------------------
ok "change by mail address" page change "annv@vinhphuc.gov.vn" "$PW_AN" "$NEWPW"
eq "changed" "$OUT" "200 changed"
ok "the new password binds" binds annv "$NEWPW"
ok "the old one no longer binds" bash -c "! ldapwhoami -x -H '$LDAP_URI' -D 'uid=annv,$P' -w '$PW_AN' >/dev/null 2>&1"
eq "slapd cleared pwdReset" "$(attr annv pwdReset)" ""
eq "the deadline is lifted" "$(attr annv pwdEndTime)" ""
contains "slapd hashed it (yescrypt, olcPasswordHash)" "$(hash_of annv)" "userPassword::"
ok "the change is audited with the client's address" grep -q '"event":"password-change","login":"annv","address":"127.0.[0-9]*.[0-9]*","initial":true,"outcome":"changed"' "$SANDBOX_DIR/self-audit.log"
eq "the audit log is 0600" "$(stat -c %a "$SANDBOX_DIR/self-audit.log")" 600
NEWPW2='Song-Lo-chay-mai-99'; PASSWORDS+=("$NEWPW2")
ok "a second change" page change annv "$NEWPW" "$NEWPW2"
eq "changed again" "$OUT" "200 changed"
check_refusal "slapd's history refuses an old password" "400 policy" annv "$NEWPW2" "$NEWPW"
ok "still the second one" binds annv "$NEWPW2"

# --- timing tells nothing: annv's password is now slapd's yescrypt (tens of ms to
# check), an unknown login checks nothing; both answer after the same floor.
t_known=(); t_unknown=()
for _ in 1 2 3; do
	page change annv 'wrong-guess-1234' 'Chim-en-bay-xa-99' --time >"$T/t" && t_known+=("$(cut -d' ' -f3 <"$T/t")")
	page change nobody-here 'wrong-guess-1234' 'Chim-en-bay-xa-99' --time >"$T/t" && t_unknown+=("$(cut -d' ' -f3 <"$T/t")")
done
ok "wrong password and unknown login take the same time (${t_known[*]} vs ${t_unknown[*]} ms)" \
	python3 - "${t_known[*]}" "${t_unknown[*]}" <<'PY'
import statistics, sys
known = [float(x) for x in sys.argv[1].split()]
unknown = [float(x) for x in sys.argv[2].split()]
assert len(known) == len(unknown) == 3, (known, unknown)
assert min(known + unknown) >= 250, "answered before the floor"
assert abs(statistics.median(known) - statistics.median(unknown)) < 100, (known, unknown)
PY

# --- initial passwords expire ----------------------------------------------------------
ok "report passwords before" provctl -f json report passwords --unit so-noi-vu
contains "binhtt still on the initial password" "$OUT" '"passwords_initial":1'
ldap_modify() { ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null; }
ok "binhtt's deadline passes" ldap_modify <<EOF2
dn: uid=binhtt,$P
changetype: modify
replace: pwdEndTime
pwdEndTime: 20200101000000Z
EOF2
ok "slapd refuses the expired initial password at once" bash -c "! ldapwhoami -x -H '$LDAP_URI' -D 'uid=binhtt,$P' -w '$PW_BINH' >/dev/null 2>&1"
check_refusal "the page says it expired" "403 expired" binhtt "$PW_BINH" "$NEWPW"
gone=0
for _ in $(seq 1 150); do
	if [[ -z $(hash_of binhtt) ]]; then gone=1; break; fi
	sleep 0.2
done
eq "the sweep removed the unused password" "$gone" 1
eq "the deadline stays as the record" "$(attr binhtt pwdEndTime)" 20200101000000Z
ok "report passwords after" provctl -f json report passwords --unit so-noi-vu
contains "one expired" "$OUT" '"passwords_expired":1'
ok "report passwords for the province" provctl -f json report passwords
contains "total: one expired, one initial, one own" "$(tail -n 1 <<<"$OUT")" \
	'"accounts_active":3,"passwords_initial":1,"passwords_expired":1,"passwords_own":1'
ok "an admin issues a new one" provctl -f json user passwd binhtt --generate
PW_BINH2=$(json_field password <<<"$OUT"); PASSWORDS+=("$PW_BINH2")
ok "with a new deadline" test "$(attr binhtt pwdEndTime)" \> "$(date -u -d '+13 days' +%Y%m%d%H%M%SZ)"
ok "the new initial password binds" binds binhtt "$PW_BINH2"
ok "and the page takes it" page change binhtt "$PW_BINH2" 'Hoa-sen-no-giua-dam'
PASSWORDS+=('Hoa-sen-no-giua-dam')
eq "changed" "$OUT" "200 changed"
# A deadline left on a password of one's own (the page could not lift it)
# is lifted by the sweep.
ok "leave a deadline on annv's own password" ldap_modify <<EOF2
dn: uid=annv,$P
changetype: modify
replace: pwdEndTime
pwdEndTime: 20991231000000Z
EOF2
lifted=0
for _ in $(seq 1 150); do
	if [[ -z $(attr annv pwdEndTime) ]]; then lifted=1; break; fi
	sleep 0.2
done
eq "the sweep lifts it" "$lifted" 1
ok "chosen passwords carry no deadline" bash -c "printf '%s' 'Mua-thu-Ha-Noi-77' | '$BUILD/provctl' user passwd cuonglv --password-stdin"
PASSWORDS+=('Mua-thu-Ha-Noi-77')
eq "no pwdEndTime" "$(attr cuonglv pwdEndTime)" ""
ok "--must-change makes it initial again, with a deadline" bash -c "printf '%s' 'Mua-thu-Ha-Noi-78' | '$BUILD/provctl' user passwd cuonglv --password-stdin --must-change"
PASSWORDS+=('Mua-thu-Ha-Noi-78')
ok "deadline set" test -n "$(attr cuonglv pwdEndTime)"

# --- rate limits: one address floods, others are served ----------------------------
ok "200 wrong attempts from one address" page flood cuonglv 200 --source 127.0.0.5
contains "most are refused before slapd" "$OUT" "429="
n429=$(sed -n 's/.*429=\([0-9]*\).*/\1/p' <<<"$OUT")
ok "at least 180 refused by the limit" test "${n429:-0}" -ge 180
ok "another address still gets the page" page timed --source 127.0.0.6
ms=${OUT#* }
bound=100   # the sanitizer build's page costs 5-10 times as much
[[ ${BUILD##*/} != build-san* ]] || bound=500
ok "within $bound ms (got $ms ms)" python3 -c "import sys; sys.exit(0 if float('$ms') < $bound else 1)"
ok "and a legitimate change goes through" page change annv "$NEWPW2" 'Ruong-bac-thang-2026' --source 127.0.0.7
PASSWORDS+=('Ruong-bac-thang-2026')
eq "changed" "$OUT" "200 changed"
# The account has one bucket whether it is named by login or by mail address.
ok "one more account" provctl -f json user add --name 'Đỗ Thị Hoa' --unit so-noi-vu --employee-id SS0004
PW_HOA=$(json_field password <<<"$OUT"); PASSWORDS+=("$PW_HOA")
HOA=$(json_field login <<<"$OUT"); HOA_MAIL=$(json_field mail <<<"$OUT")
# 20 wrong guesses, each from an address of its own (127.0.200.1-20, apart
# from page's), spend the account's limit.
ok "20 wrong guesses at its login" python3 "$CLIENT" "$SELF_URL" flood "$HOA" 20 \
	--each-from 127.0.200.1 --new 'Sao-Khue-sang-som-2026'
eq "... each one answered as wrong" "$OUT" "400=20"
check_refusal "its login's limit spent, its mail address is limited too" "429 rate-limited" \
	"$HOA_MAIL" "$PW_HOA" 'Sao-Khue-sang-som-2026'
ok "nothing changed" binds "$HOA" "$PW_HOA"
ok "wrong guesses are logged, rate-limited" test "$(grep -c 'password change refused' "$SANDBOX_DIR/self.log")" -le 60

# --- no password anywhere on disk -------------------------------------------------------
leaks=''
for pw in "${PASSWORDS[@]}"; do
	if grep -rqF -- "$pw" "$SANDBOX_DIR" --exclude-dir=db 2>/dev/null; then
		leaks+=" ${pw:0:4}…"
	fi
done
eq "no password in any file of the sandbox (logs, journal, audit)" "$leaks" ""

# --- started as root, it runs as its own user -------------------------------------------
if (($(id -u) == 0)); then
	id provd-self-test >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin provd-self-test
	at_exit userdel provd-self-test
	start_page root 'user = "provd-self-test";'
	rootpid=$PAGE_PID
	ok "as root: it listens" test -s "$T/root.port"
	# It writes its port file, then drops its privileges: looked at until
	# it has (a loaded machine can show the moment between).
	# shellcheck disable=SC2317
	dropped() { [[ $(ps -o user= -p "$rootpid" | tr -d ' ') == provd-self-test ]]; }
	ok "as root: it runs as self.user" within 30 dropped
	eq "as root: no root privilege left (real, effective, saved uid)" \
		"$(awk '/^Uid:/ {print $2, $3, $4}' "/proc/$rootpid/status")" \
		"$(id -u provd-self-test) $(id -u provd-self-test) $(id -u provd-self-test)"
	eq "as root: no capability left" "$(awk '/^CapEff:/ {print $2}' "/proc/$rootpid/status")" 0000000000000000
	ok "as root: it serves the form" curl -sf "http://127.0.0.1:$(<"$T/root.port")/"
	kill "$rootpid"
else
	fails "not root: this part needs root (useradd)" 0 true
fi

# --- behind a trusted proxy --------------------------------------------------------------
start_page proxy 'trusted_proxy = "127.0.0.1";'
proxypid=$PAGE_PID
PROXY_URL="http://127.0.0.1:$PAGE_PORT/"
# Every connection comes from the proxy: eight slow ones must not shut out the rest.
ok "behind the proxy: eight slow requests do not shut the page" python3 - "$PAGE_PORT" <<'EOF2'
import socket, sys, urllib.request
port = int(sys.argv[1])
slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
for s in slow:
    s.sendall(b"GET / HTTP/1.1\r\n")
req = urllib.request.Request(f"http://127.0.0.1:{port}/",
                             headers={"X-Forwarded-For": "198.51.100.7"})
sys.exit(0 if urllib.request.urlopen(req, timeout=5).status == 200 else 1)
EOF2
ok "behind the proxy: one IPv6 /64 is one client, whatever address it forwards" \
	python3 "$CLIENT" "$PROXY_URL" flood nobody 14 --source 127.0.0.1 --xff '2001:db8:7:8::{i}'
eq "... limited after its burst" "$OUT" "400=10 429=4"
ok "behind the proxy: another forwarded client is served" \
	python3 "$CLIENT" "$PROXY_URL" flood nobody 1 --source 127.0.0.1 --xff '2001:db8:7:9::1'
eq "... and not limited" "$OUT" "400=1"
kill "$proxypid"

# --- provd-self -n and a bad configuration --------------------------------------------
ok "provd-self -n accepts the sandbox configuration" "$BUILD/provd-self" -n -c "$SANDBOX_DIR/self.conf"
sed 's/min_length = 10;/min_lenght = 10;/' "$SANDBOX_DIR/self.conf" >"$T/bad.conf"
fails "a misspelt key is an error naming its line" 1 "$BUILD/provd-self" -n -c "$T/bad.conf"
contains "... the line and the key" "$ERR" 'unknown key "min_lenght"'
chmod 644 "$SANDBOX_DIR/self.secret"
fails "a readable password file is refused" 1 "$BUILD/provd-self" -n -c "$SANDBOX_DIR/self.conf"
contains "... saying why" "$ERR" "must be 0600"
chmod 600 "$SANDBOX_DIR/self.secret"

done_testing
