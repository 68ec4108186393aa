# shellcheck shell=bash
# lib.sh — sourced by tests/integration/test_*.sh.
#
#   . "$(dirname "$0")/../lib.sh"
#   sandbox_up [--no-provd] [tools/sandbox start options]
#   ok NAME CMD...                 passes when CMD exits 0
#   fails NAME EXIT CMD...         passes when CMD exits EXIT ("any": non-zero)
#   contains NAME HAYSTACK NEEDLE  passes when NEEDLE is a substring
#   lacks NAME HAYSTACK NEEDLE     passes when it is not
#   eq NAME GOT WANT               passes when the two strings are equal
#   diag MSG...                    a TAP comment
#   done_testing                   prints the plan; exit status 1 on any failure
#   skip_all REASON                the whole file cannot run here
#   skip_part NAME REASON          checks NAME cannot run here
#
# Both are failures unless the run allows this file to skip
# (ALLOW_SKIP=name,... for tests/run-integration, which judges them).
#
# ok and fails leave the command's stdout in $OUT, its stderr in $ERR and
# its exit status in $RC.  Output is TAP: "ok N - name" / "not ok N - name".
#
# Also: staff_csv N (the path of a generated N-row staff CSV, made once per
# build by tools/gen-staff; $PROVD_STAFF_CSV overrides the 8000-row one),
# provctl (runs "$BUILD/provctl"), proc_holds_hex PID HEX, hex_of STRING, ldap_root (ldapsearch as the
# rootdn over ldapi, SASL EXTERNAL), ldap_mail (ldapsearch as the mail
# service identity over TCP), pid_gone PID, within SECS CMD... (CMD until it
# succeeds), reload_provd (SIGHUP, and wait until provd has reloaded),
# queued_bytes PID and queued_at PID [BYTES] (requests wait unread at
# process PID), replace_mark FILE and stop_when_replaced FILE PID (hold
# PID once FILE is rewritten), notice_sweeps and swept_since N (expiry-notice sweeps
# begun; a whole one since), ldif_values ATTR (values of ATTR in the LDIF
# on stdin, base64 decoded), at_exit CMD... (run CMD when the test ends),
# test_user NAME [--own-group] (a real UNIX user for role and privilege
# tests, in nogroup or a group of its own; removed, with that group, at the
# end, once the sandboxes are stopped and its processes gone).
#
# Environment: BUILD (build directory, default "build", relative to the
# repository), KEEP_SANDBOX=1 (leave sandboxes running at the end).

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$TESTS_DIR/.." && pwd -P)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$REPO/$BUILD
export BUILD
PATH="$PATH:/usr/sbin:/sbin"
SANDBOX_TOOL=$REPO/tools/sandbox

OUT=''
ERR=''
RC=0
_t_count=0
_t_failed=0
_t_done=0
_t_sandboxes=()
_t_at_exit=()
_t_users=()
_t_errfile=$(mktemp "${TMPDIR:-/tmp}/provd-test-err.XXXXXX")

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

# Indented excerpt of a possibly long text, for failure diagnostics.
_t_show() {
	local label=$1 text=$2
	((${#text} <= 2000)) || text="${text:0:2000}..."
	diag "$label: $text"
}

_t_result() {
	local passed=$1 name=$2
	_t_count=$((_t_count + 1))
	if ((passed)); then
		printf 'ok %d - %s\n' "$_t_count" "$name"
	else
		_t_failed=$((_t_failed + 1))
		printf 'not ok %d - %s\n' "$_t_count" "$name"
	fi
}

_t_run() {
	RC=0
	OUT=$("$@" 2>"$_t_errfile") || RC=$?
	ERR=$(<"$_t_errfile")
}

ok() {
	local name=$1
	shift
	_t_run "$@"
	if ((RC == 0)); then
		_t_result 1 "$name"
	else
		_t_result 0 "$name"
		diag "command: $* (exit $RC, expected 0)"
		[[ -z $OUT ]] || _t_show stdout "$OUT"
		[[ -z $ERR ]] || _t_show stderr "$ERR"
	fi
}

fails() {
	local name=$1 want=$2
	shift 2
	_t_run "$@"
	if [[ $want == any && $RC -ne 0 ]] || [[ $want != any && $RC == "$want" ]]; then
		_t_result 1 "$name"
	else
		_t_result 0 "$name"
		diag "command: $* (exit $RC, expected $want)"
		[[ -z $OUT ]] || _t_show stdout "$OUT"
		[[ -z $ERR ]] || _t_show stderr "$ERR"
	fi
}

contains() {
	if [[ $2 == *"$3"* ]]; then
		_t_result 1 "$1"
	else
		_t_result 0 "$1"
		_t_show 'looked for' "$3"
		_t_show 'in' "$2"
	fi
}

lacks() {
	if [[ $2 != *"$3"* ]]; then
		_t_result 1 "$1"
	else
		_t_result 0 "$1"
		_t_show 'found' "$3"
		_t_show 'in' "$2"
	fi
}

eq() {
	if [[ $2 == "$3" ]]; then
		_t_result 1 "$1"
	else
		_t_result 0 "$1"
		_t_show got "$2"
		_t_show want "$3"
	fi
}

done_testing() {
	_t_done=1
	printf '1..%d\n' "$_t_count"
	if ((_t_count == 0)); then
		diag "no tests ran"
		exit 1
	fi
	if ((_t_failed)); then
		diag "failed $_t_failed of $_t_count"
		exit 1
	fi
	exit 0
}

skip_all() {
	_t_done=1
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

test_user() {
	local name=$1
	if [[ ${2:-} == --own-group ]]; then
		groupadd "$name" && useradd -M -g "$name" -s /usr/sbin/nologin "$name" || return 1
	else
		useradd -M -N -g nogroup -s /usr/sbin/nologin "$name" || return 1
	fi
	_t_users+=("$name")
}

# split_users: ENG and CA, the engine's and the signer's service users of
# a daemon.signer_user sandbox (root only: the test is skipped otherwise).
split_users() {
	(($(id -u) == 0)) || skip_all "needs root (useradd, privilege drop)"
	ENG=provdt-eng$$
	CA=provdt-ca$$
	test_user "$ENG" || exit 1
	test_user "$CA" || exit 1
}
# as_eng CMD...: CMD as the engine's user (split_users).
as_eng() { setpriv --reuid="$ENG" --regid=nogroup --clear-groups "$@"; }

# vcrl CERT CAFILE CRL(DER): openssl verify -crl_check with that CA's CRL.
vcrl() {
	local crl
	crl=$(openssl crl -inform DER -in "$3") || return 1
	openssl verify -CAfile "$2" -crl_check -CRLfile <(printf '%s\n' "$crl") "$1"
}
# sn CERT: its serial number, hex.
sn() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# ocsp_ask CERT ISSUER: OCSP over HTTP ($OCSP_URL from the sandbox),
# the answer verified with that issuer alone.
ocsp_ask() {
	openssl ocsp -url "$OCSP_URL" -issuer "$2" -CAfile "$2" -cert "$1" -resp_text
}

_t_remove_users() {
	local u i
	for u in "${_t_users[@]}"; do
		for i in $(seq 50); do pgrep -u "$u" >/dev/null || break; sleep 0.1; done
		userdel "$u" || true
		! getent group "$u" >/dev/null || groupdel "$u" || true
	done
}

skip_part() {
	_t_count=$((_t_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$_t_count" "$1" "$2"
}

at_exit() {
	local q
	printf -v q '%q ' "$@"
	_t_at_exit+=("$q")
}

# proc_holds_hex PID HEX: do the bytes HEX occur anywhere in the readable
# memory of process PID (root, or the process's own user)?  Exit 0 found,
# 1 not found, 2 when the scan itself failed (so that a failed scan never
# passes for "not there").  Mappings larger than 1 GiB (a sanitizer's
# shadow memory) are skipped.  Tests use it to show a secret never entered
# a process; pair it with a positive control.
proc_holds_hex() {
	python3 - "$1" "$2" <<'PY'
import re, sys
CHUNK, BIG = 16 << 20, 1 << 30
try:
    pid, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not m or m.group(3)[0] != "r":
                continue
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            if hi - lo > BIG:
                continue
            tail = b""
            for off in range(lo, hi, CHUNK):
                try:
                    mem.seek(off)
                    block = mem.read(min(CHUNK, hi - off))
                except (OSError, ValueError, OverflowError):
                    tail = b""
                    continue
                if needle in tail + block:
                    sys.exit(0)
                tail = block[-(len(needle) - 1):] if len(needle) > 1 else b""
except SystemExit:
    raise
except BaseException as e:
    print("proc_holds_hex: %s" % e, file=sys.stderr)
    sys.exit(2)
sys.exit(1)
PY
}

# hex_of STRING: its bytes as lower-case hex (for proc_holds_hex).
hex_of() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# Has process PID ended?  (A zombie waiting for its parent counts as ended.)
pid_gone() {
	local stat
	kill -0 "$1" 2>/dev/null || return 0
	[[ -r /proc/$1/stat ]] || return 1
	stat=$(<"/proc/$1/stat") || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

provctl() {
	"$BUILD/provctl" "$@"
}

staff_csv() {
	local n=$1 path
	if [[ $n == 8000 && -n ${PROVD_STAFF_CSV:-} ]]; then
		printf '%s\n' "$PROVD_STAFF_CSV"
		return
	fi
	path=$BUILD/data/staff-$n.csv
	if [[ ! -r $path ]]; then
		mkdir -p "$BUILD/data"
		"$REPO/tools/gen-staff" -n "$n" -o "$path" || exit 1
	fi
	printf '%s\n' "$path"
}

# Make the deleted account LOGIN due for `user purge` now (its
# provdDeleteAfter in the past).
purge_due() {
	ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=$1,ou=people,$LDAP_BASE
changetype: modify
replace: provdDeleteAfter
provdDeleteAfter: 20200101000000Z
EOF
}

ldap_root() {
	ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI" -LLL -o ldif-wrap=no "$@"
}

# The same on the second slapd of a --replicas 2 sandbox.
ldap_root2() {
	ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI2" -LLL -o ldif-wrap=no "$@"
}

# Two-slapd sandboxes: the olcSyncrepl value of the slapd behind LDAPI, and
# replacing it (a partition: point it at a dead port; the heal: put it back).
syncrepl_of() {  # syncrepl_of LDAPI
	ldapsearch -Q -Y EXTERNAL -H "$1" -LLL -o ldif-wrap=no -b 'olcDatabase={1}mdb,cn=config' \
		-s base olcSyncrepl | sed -n 's/^olcSyncrepl: //p'
}
set_syncrepl() {  # set_syncrepl LDAPI VALUE
	printf 'dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcSyncrepl\nolcSyncrepl: %s\n' \
		"$2" | ldapmodify -Q -Y EXTERNAL -H "$1" >/dev/null
}

# Run CMD... until it succeeds, for at most SECONDS (tenths of a second steps).
within() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ping_fast [MS]: provctl ping answered within MS ms (default 1000) — a
# loop held by something it waits for (a bind, a signer) answers later.
ping_fast() {
	local t0=${EPOCHREALTIME/./} ms
	timeout 10 "$BUILD/provctl" ping >/dev/null 2>&1 || return 1
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	((ms < ${1:-1000})) || {
		diag "ping took $ms ms"
		return 1
	}
}

# reload_provd: SIGHUP to the sandbox's provd, then wait (up to 30 s: the
# sanitizer build on a loaded machine) until its log says it has the new
# configuration.  Fails when it does not; a test checks it with ok.
_t_reloads() { grep -c 'configuration reloaded from' "$SANDBOX_DIR/provd.log"; }
_t_reloaded_since() { (($(_t_reloads) > $1)); }
reload_provd() {
	local before
	before=$(_t_reloads)
	kill -HUP "$(<"$SANDBOX_DIR/provd.pid")" || return 1
	within 30 _t_reloaded_since "$before"
}

# queued_bytes PID: the bytes waiting unread in the UNIX sockets of process
# PID (a stopped signer's queue).  queued_at PID [BYTES]: more than BYTES
# (default 0) wait there.  Tests take queued_bytes before they send a
# request to a held process and wait (within) for queued_at past it before
# they act on "the request is in flight".
queued_bytes() {
	ss -xpnH 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { q += $3 } END { print q + 0 }'
}
queued_at() {
	(($(queued_bytes "$1") > ${2:-0}))
}

# replace_mark FILE, then stop_when_replaced FILE PID: SIGSTOP process PID
# as soon as FILE (in the sandbox, written by rename) is replaced after the
# mark (up to 20 s), to hold PID in the middle of what comes right after
# that write (a rollover's key generation after the old CA's last CRL).
# The file is looked at every 3 ms without a process started: one per
# look let a quick step end before the hold on a loaded machine.
replace_mark() { ln -f "$1" "$SANDBOX_DIR/replace-mark.${1##*/}"; }
stop_when_replaced() {
	local nap end=$((${EPOCHREALTIME/./} + 20000000))
	exec {nap}<> <(:)
	while [[ $1 -ef $SANDBOX_DIR/replace-mark.${1##*/} ]] && ((${EPOCHREALTIME/./} < end)); do
		read -rt 0.003 -u "$nap" || :
	done
	exec {nap}>&-
	kill -STOP "$2"
}

# notice_sweeps: how many expiry-notice sweeps provd has begun (each starts
# with its search for the certificates near expiry, which the sandbox's
# slapd logs with SANDBOX_SLAPD_DEBUG=stats).  swept_since N: two more
# than N have begun, so one whole sweep ran after N was read: a notice it
# would send (again) is with sendmail.  For "no second notice" checks,
# instead of a fixed wait that a loaded machine can outlast.
notice_sweeps() {
	grep -c 'SRCH base=.* filter="(&(objectClass=provdCertificate)(provdCertStatus=valid)(provdCertNotAfter>=.*(!(provdCertRenewedBy=\*)))"' \
		"$SANDBOX_DIR/slapd.log" || true
}
swept_since() { (($(notice_sweeps) >= $1 + 2)); }

# Two-slapd sandboxes: both hold the same contextCSNs (sorted), read one
# after the other.  The writer lease, renewed every few seconds, moves them:
# use it under within, not once.
# shellcheck disable=SC2317
csns_agree() {
	local c1 c2
	c1=$(ldap_root -b "$LDAP_BASE" -s base contextCSN | ldif_values contextCSN | sort) &&
		c2=$(ldap_root2 -b "$LDAP_BASE" -s base contextCSN | ldif_values contextCSN | sort) &&
		[[ -n $c1 && $c1 == "$c2" ]]
}

# The mail identity's password, copied to a 0600 file (ldapsearch -y warns
# about the sandbox's world-readable one).
mail_secret_file() {
	local f=$_t_errfile.mail.${SANDBOX_DIR##*/}
	if [[ ! -s $f ]]; then
		(umask 077 && cat "$SANDBOX_DIR/mail.secret" >"$f")
	fi
	printf '%s' "$f"
}

ldap_mail() {
	ldapsearch -x -H "$LDAP_URI" -D "$LDAP_MAIL_DN" -y "$(mail_secret_file)" \
		-LLL -o ldif-wrap=no "$@"
}

# Values of attribute $1 (any options, e.g. ;binary, ignored) in unwrapped
# LDIF on stdin, one per line; base64 values decoded.
ldif_values() {
	local want=${1,,} line name value
	while IFS= read -r line; do
		[[ $line == *:* ]] || continue
		name=${line%%:*}
		name=${name%%;*}
		[[ ${name,,} == "$want" ]] || continue
		value=${line#*:}
		if [[ $value == :* ]]; then
			value=${value#:}
			value=${value# }
			printf '%s' "$value" | base64 -d
			printf '\n'
		else
			printf '%s\n' "${value# }"
		fi
	done
}

# Start a sandbox in a new directory under /tmp and take over its
# environment (PROVD_SOCKET, LDAP_URI, LDAPI_URI, LDAP_BASE, SANDBOX_DIR,
# ...).  provd is "$BUILD/provd" unless --no-provd or --provd is given.
# May be called more than once; the last call's environment wins.
sandbox_up() {
	local dir env arg with_bin=1
	for arg in "$@"; do
		[[ $arg != --no-provd && $arg != --provd ]] || with_bin=0
	done
	((with_bin == 0)) || set -- "$@" --provd "$BUILD/provd"
	dir=$(mktemp -d /tmp/provd-test.XXXXXX)
	chmod 755 "$dir"
	_t_sandboxes+=("$dir")
	if ! env=$("$SANDBOX_TOOL" start "$dir" "$@"); then
		printf 'Bail out! tools/sandbox start %s failed\n' "$dir"
		exit 1
	fi
	eval "$env"
}

# provd built with sanitizers reports in its log; such a report fails the test.
_t_check_provd_log() {
	local log
	for log in "$1/provd.log" "$1/self.log" "$1/ocsp.log"; do
		[[ -f $log ]] || continue
		if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$log"; then
			diag "sanitizer report in $log:"
			diag "$(grep -m 20 -A 10 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$log")"
			return 1
		fi
	done
}

_t_exit() {
	local rc=$? dir cmd bad=0
	for cmd in "${_t_at_exit[@]}"; do
		eval "$cmd" || true
	done
	for dir in "${_t_sandboxes[@]}"; do
		if [[ ${KEEP_SANDBOX:-0} == 1 ]]; then
			diag "sandbox left running in $dir (stop it with: tools/sandbox stop $dir)"
			continue
		fi
		"$SANDBOX_TOOL" stop "$dir" || true
		_t_check_provd_log "$dir" || bad=1
		if ((rc == 0 && _t_failed == 0 && bad == 0)); then
			rm -rf -- "$dir"
		else
			diag "sandbox kept for inspection in $dir"
		fi
	done
	_t_remove_users
	rm -f -- "$_t_errfile" "$_t_errfile".mail.*
	if ((rc == 0 && _t_done == 0)); then
		diag "test script ended without done_testing"
		rc=1
	fi
	((bad == 0)) || rc=1
	exit "$rc"
}
trap _t_exit EXIT
