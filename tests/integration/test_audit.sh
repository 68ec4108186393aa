#!/usr/bin/env bash
# The audit journal end to end: one hash-chained record per command, no
# secret ever written, `audit verify` naming the first changed, deleted,
# inserted or torn record, `audit show` filters, roles, and provd's memory
# kept from other processes of its user (not dumpable).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
STAFF=$(staff_csv 8000)

# Files holding secrets live outside the sandbox, which is searched for them.
T=$(mktemp -d /tmp/provd-audit-files.XXXXXX)
at_exit rm -rf -- "$T"

DAY0=$(date -u +%F)   # every record is from this day or later (a run may pass midnight)
sandbox_up
J=$SANDBOX_DIR/state/audit.journal
KEY=$SANDBOX_DIR/state/audit.key
SEAL=$SANDBOX_DIR/state/audit.seal

stop_pid() { kill "$1" 2>/dev/null || true; }

json_field() { # json_field NAME: the first "NAME":"value" in $OUT
	printf '%s' "$OUT" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# --- commands that handle secrets ------------------------------------------------
ok "ping" provctl ping
ok "user add" provctl -f json user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
pw_add=$(json_field password)
[[ -n $pw_add ]] || diag "no password in: $OUT"
pw_stdin="Chon-qua-stdin-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
# provctl sends --password-stdin as "--password-stdin=VALUE"; when this
# provctl cannot, the test sends that wire form itself.
send_request() { # send_request FIELD...: one REQUEST frame, prints "status=N msg=..."
	python3 - "$PROVD_SOCKET" "$@" <<'PY'
import socket, struct, sys
fields = [a.encode() for a in sys.argv[2:]]
body = struct.pack(">BBH", 1, 1, len(fields))
for f in fields:
    body += struct.pack(">I", len(f)) + f
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(struct.pack(">I", len(body)) + body)
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 8 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
        (blen,) = struct.unpack(">I", buf[:4])
        frame, buf = buf[4:4 + blen], buf[4 + blen:]
        ver, ftype, n = struct.unpack(">BBH", frame[:4])
        p, got = 4, []
        for _ in range(n):
            (flen,) = struct.unpack(">I", frame[p:p + 4])
            got.append(frame[p + 4:p + 4 + flen])
            p += 4 + flen
        if ftype == 19:
            print("status=%s msg=%s" % (got[0].decode(), got[1].decode("utf-8", "replace")))
            sys.exit(0)
sys.exit(1)
PY
}
if printf '%s\n' "$pw_stdin" | provctl user passwd annv --password-stdin >"$T/out" 2>"$T/err"; then
	diag "provctl user passwd --password-stdin: $(<"$T/out")"
else
	diag "provctl user passwd --password-stdin: $(<"$T/err"); sending the wire form"
	ok "user passwd --password-stdin (wire form)" send_request user passwd annv "--password-stdin=$pw_stdin"
	contains "password set from the wire form" "$OUT" "status=0 "
fi
ok "the password read from stdin binds" \
	ldapwhoami -x -H "$LDAP_URI" -D "uid=annv,ou=people,$LDAP_BASE" -w "$pw_stdin"
pw_file="Chon-qua-tep-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$pw_file" >"$T/pw"
ok "user passwd --password-file" provctl user passwd annv --password-file "$T/pw"
ok "user passwd --generate" provctl -f json user passwd annv --generate
pw_gen=$(json_field password)
[[ -n $pw_gen ]] || diag "no generated password in: $OUT"
head -n 21 "$STAFF" >"$T/s20.csv"
ok "batch import with --credentials" provctl -f json batch import "$T/s20.csv" --credentials "$T/cred.csv"
eq "credentials for 20 rows" "$(tail -n +2 "$T/cred.csv" | wc -l)" 20
ok "user show" provctl -f json user show annv
fails "a failing command is audited too" 3 provctl user show khongcoai

# --- the journal ----------------------------------------------------------------
eq "journal mode 0600" "$(stat -c %a "$J")" 600
eq "one record per command so far" "$(wc -l <"$J")" 8
ok "audit verify" provctl -f json audit verify
contains "verify: intact" "$OUT" '"result":"intact"'
contains "verify: 8 records" "$OUT" '"records":8'

# Recompute the chain independently: hash = SHA-256 of the line before
# ,"hash":  and prev = the hash of the line before (genesis first); mac =
# HMAC-SHA256 of the hash under the key in state/audit.key.
eq "journal key: mode 0600, 32 bytes" "$(stat -c '%a %s' "$KEY")" "600 32"
hexkey=$(od -An -tx1 -v "$KEY" | tr -d ' \n')
mac_of() { printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" | sed 's/.*= //'; }
chain_ok=1 prev=$(printf '%s' 'provd audit journal v1' | sha256sum | cut -d' ' -f1) n=0
while IFS= read -r line; do
	n=$((n + 1))
	body=${line%,\"hash\":*}
	want=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
	mac=$(mac_of "$want")
	[[ $line == "$body,\"hash\":\"$want\",\"mac\":\"$mac\"}" ]] || { chain_ok=0; diag "line $n: hash or mac"; }
	[[ $line == *"\"prev\":\"$prev\""* ]] || { chain_ok=0; diag "line $n: prev"; }
	[[ $line == "{\"seq\":$n,"* ]] || { chain_ok=0; diag "line $n: seq"; }
	prev=$want
done <"$J"
eq "the chain recomputes with sha256sum" "$chain_ok" 1

journal=$(<"$J")
contains "user add recorded with the login" "$journal" '"cmd":"user add","args":"--name Nguyễn Văn An --unit so-tai-chinh --employee-id NV0001","note":"login=annv"'
contains "secret options recorded as redacted" "$journal" '"args":"annv --password-stdin [redacted]"'
contains "failure recorded with its status" "$journal" '"status":3,"status_name":"not-found"'
contains "peer uid and name recorded" "$journal" '"uid":0,"user":"root"'
contains "syslog line carries seq and hash" "$(<"$SANDBOX_DIR/provd.log")" "seq=2 hash="

# No password anywhere: journal, provd.log, any file of the sandbox (the
# directory database included).
{
	printf '%s\n' "$pw_add" "$pw_stdin" "$pw_file" "$pw_gen"
	tail -n +2 "$T/cred.csv" | cut -d, -f4
} | grep -v '^$' >"$T/secrets"
eq "24 secrets to look for" "$(wc -l <"$T/secrets")" 24
eq "no secret in the journal" "$(grep -cF -f "$T/secrets" "$J")" 0
eq "no secret in provd.log" "$(grep -caF -f "$T/secrets" "$SANDBOX_DIR/provd.log")" 0
# Reads only the data of sparse files (slapd's 1 GiB data.mdb is mostly a hole).
files_with_secrets() { # files_with_secrets SECRETS DIR
	python3 - "$1" "$2" <<'PY'
import os, sys
secrets = [l.rstrip("\n").encode() for l in open(sys.argv[1]) if l.strip()]
for root, _, files in os.walk(sys.argv[2]):
    for name in files:
        path = os.path.join(root, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            fd, off, data = f.fileno(), 0, bytearray()
            size = os.fstat(fd).st_size
            while off < size:
                try:
                    start = os.lseek(fd, off, os.SEEK_DATA)
                except OSError:
                    break
                end = os.lseek(fd, start, os.SEEK_HOLE)
                data += os.pread(fd, end - start, start)
                off = end
        if any(s in data for s in secrets):
            print(path)
PY
}
eq "the search finds a planted secret" \
	"$(head -n 1 "$T/secrets" >"$SANDBOX_DIR/planted" && files_with_secrets "$T/secrets" "$SANDBOX_DIR")" \
	"$SANDBOX_DIR/planted"
rm -f "$SANDBOX_DIR/planted"
eq "no secret in any file of the sandbox" "$(files_with_secrets "$T/secrets" "$SANDBOX_DIR")" ""

# --- audit show -------------------------------------------------------------------
ok "audit show --login annv" provctl -f json audit show --login annv
contains "show: the user add" "$OUT" '"command":"user add"'
contains "show: the password change" "$OUT" '"command":"user passwd"'
contains "show: the fields" "$OUT" '"seq":2,"time":"'
contains "show: user and uid" "$OUT" '"user":"root","uid":0'
lacks "show: other logins' records left out" "$OUT" '"command":"batch import"'
lacks "show: no secret" "$OUT" "$pw_stdin"
n_before=$(wc -l <"$J")
ok "audit show --since the day the test began" provctl -f tab audit show --since "$DAY0"
eq "since that day: every record" "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" "$n_before"
ok "audit show --since the future" provctl -f tab audit show --since 2999-01-01T00:00:00
eq "since the future: nothing" "$(printf '%s' "$OUT" | tail -n +2)" ""
fails "audit show --since malformed" 2 provctl audit show --since yesterday
contains "since error names the option" "$ERR" "since:"
fails "audit show --login malformed" 2 provctl audit show --login 'a*'

# --- roles --------------------------------------------------------------------------
chmod 0666 "$PROVD_SOCKET"
fails "no role: audit verify refused" 5 runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" audit verify
fails "no role: audit show refused" 5 runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" audit show
# Give nobody's group the auditor role only (reload): it reads, it cannot write.
sed -i 's/^\(  auditor   = \[ "provd-audit"\)/\1, "nogroup"/' "$SANDBOX_DIR/provd.conf"
ok "provd reloads the edited configuration" reload_provd
ok "auditor: audit verify" runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" audit verify
ok "auditor: audit show" runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" -f json audit show --login annv
contains "auditor sees the user add" "$OUT" '"command":"user add"'
n_refused=$(wc -l <"$J")
fails "auditor: user add refused" 5 runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" \
	user add --name 'Lê Thị Hoa' --unit so-y-te --employee-id NV0099
# (among the records since: a background record may follow it)
contains "the refusal is audited" "$(tail -n +$((n_refused + 1)) "$J" | grep '"user":"nobody",')" \
	'"cmd":"user add"'
# A grant scoped to a district does not open the province's journal.
sed -i -e 's/, "nogroup" \];/ ];/' \
	-e 's/^\(  auditor   = .*\)$/\1\n  scoped = ( { group = "nogroup"; role = "admin"; unit = "huyen-tam-dao"; } );/' \
	"$SANDBOX_DIR/provd.conf"
ok "provd reloads the edited configuration" reload_provd
fails "scoped admin: audit show refused" 5 runuser -u nobody -- "$BUILD/provctl" -s "$PROVD_SOCKET" audit show
contains "the refusal explains scoped grants" "$ERR" "scoped to units"
chmod 0660 "$PROVD_SOCKET"

# --- the seal follows the journal while provd runs ---------------------------------
sealed_seq() { sed -n 's/^provd audit seal v1 seq=\([0-9]*\) .*/\1/p' "$SEAL"; }
s0=$(sealed_seq)
n0=$(wc -l <"$J")
# A checkpoint comes once 64 records follow the last one, and the last one
# may have been taken just before n0 (a slow machine syncs between the
# pings): 140 records always carry the seal past n0 + 64.
for _ in $(seq 140); do provctl ping >/dev/null; done
for _ in $(seq 300); do (($(sealed_seq) >= n0 + 64)) && break; sleep 0.1; done
# One read of the seal for its seq and its hash: the next checkpoint (128
# records on) may replace it between two reads.
seal_now=$(<"$SEAL")
seal_seq=$(sed -n 's/^provd audit seal v1 seq=\([0-9]*\) .*/\1/p' <<<"$seal_now")
ok "140 records later the seal has moved on by 64 or more (from $s0)" test "${seal_seq:-0}" -ge $((n0 + 64))
ok "and no further than the journal" test "${seal_seq:-0}" -le "$(wc -l <"$J")"
eq "the seal names that record's hash" "$(sed 's/.* hash=\([0-9a-f]*\) .*/\1/' <<<"$seal_now")" \
	"$(sed -n "${seal_seq:-0}p" "$J" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')"

# --- provd killed -9 in a burst of commands: every record is a whole line ------
for _ in $(seq 40); do provctl ping >/dev/null 2>&1 & done
sleep 0.05
kill -9 "$(<"$SANDBOX_DIR/provd.pid")"
wait
ok "provd starts after kill -9" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
ok "audit verify after kill -9" provctl -f json audit verify
contains "intact after kill -9" "$OUT" '"result":"intact"'

# --- tampering: provd stopped, the journal edited, provd started, verify ----------
ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
cp -p "$J" "$T/journal.orig"
cp -p "$SEAL" "$T/seal.orig"
nlines=$(wc -l <"$J")
seal=$(<"$SEAL")
eq "the seal at shutdown names the last record" "${seal%% hash=*}" "provd audit seal v1 seq=$nlines"
last_hash=$(tail -n 1 "$J" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
eq "the seal carries the last record's hash" "$(sed 's/.* hash=\([0-9a-f]*\) .*/\1/' <<<"$seal")" "$last_hash"
eq "the seal's MAC recomputes under the key" "${seal##* mac=}" "$(mac_of "${seal% mac=*}")"
contains "the seal went to the log too" "$(<"$SANDBOX_DIR/provd.log")" "audit seal: $seal"
restore() { cp -p "$T/journal.orig" "$J"; cp -p "$T/seal.orig" "$SEAL"; }

tampered() { # tampered NAME WANT_LINE WANT_PROBLEM: provd -J and audit verify name it
	local name=$1 line=$2 problem=$3
	fails "$name: provd -J finds it with provd stopped" 1 "$BUILD/provd" -J -c "$SANDBOX_DIR/provd.conf"
	contains "$name: provd -J names line $line" "$OUT" "broken at line $line ($problem)"
	ok "$name: provd starts" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
	fails "$name: audit verify fails" 6 provctl -f json audit verify
	contains "$name: problem $problem" "$OUT" "\"problem\":\"$problem\""
	contains "$name: names line $line" "$OUT" "\"line\":\"$line\""
	contains "$name: message names the line" "$ERR" "broken at line $line ($problem)"
	ok "$name: stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
	restore
}
refused() { # refused NAME WORDS: provd must exit at start-up, and say WORDS
	local name=$1 words=$2 from pid msg=''
	from=$(($(wc -l <"$SANDBOX_DIR/provd.log") + 1))
	"$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" >/dev/null 2>&1
	pid=$(tail -n +"$from" "$SANDBOX_DIR/provd.log" | sed -n 's/.* provd\[\([0-9]*\)\]: .*/\1/p' | head -n 1)
	for _ in $(seq 300); do
		msg=$(tail -n +"$from" "$SANDBOX_DIR/provd.log" | grep 'fatal: audit:')
		[[ -n $msg ]] && break
		sleep 0.1
	done
	ok "$name: provd refuses to start" test -n "$msg"
	contains "$name: the refusal says why" "$msg" "$words"
	[[ -n $pid ]] || pid=$(tail -n +"$from" "$SANDBOX_DIR/provd.log" | sed -n 's/.* provd\[\([0-9]*\)\]: .*/\1/p' | head -n 1)
	for _ in $(seq 300); do [[ -n $pid ]] && pid_gone "$pid" && break; sleep 0.1; done
	ok "$name: provd is gone" pid_gone "${pid:-0}"
	fails "$name: no provd answers" any provctl ping
	rm -f "$SANDBOX_DIR/provd.pid"
	restore
}

ok "provd -J on the intact journal" "$BUILD/provd" -J -c "$SANDBOX_DIR/provd.conf"
contains "provd -J: intact" "$OUT" "intact: $nlines records, chain and MACs verified"

sed -i '3s/"uid":0/"uid":7/' "$J"
tampered "one byte of record 3 changed" 3 changed

sed -i '5d' "$J"
tampered "record 5 deleted" 5 deleted

sed -i '6a {"seq":7,"time":"2026-01-01T00:00:00Z","req":1,"uid":0,"user":"root","pid":1,"cmd":"user delete","args":"annv","note":"","status":0,"status_name":"ok","ms":0,"msg":"ok","prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"1111111111111111111111111111111111111111111111111111111111111111"}' "$J"
tampered "forged line inserted after record 6" 7 inserted

sed -n 2p "$T/journal.orig" >"$T/line2"
sed -i "6r $T/line2" "$J"
tampered "copy of record 2 inserted after record 6" 7 inserted

# A write cut short by a crash: half a record after the last one.
printf '{"seq":%d,"time":"2026-01-01T00:00:00Z","req":1,"ui' "$((nlines + 1))" >>"$J"
tampered "a write cut short after the last record" "$((nlines + 1))" torn
contains "start-up warned about the torn line" "$(tail -n 40 "$SANDBOX_DIR/provd.log")" "is incomplete"

# Rewrites with recomputed hashes: record 3 changed, and its hash (and
# every later prev and hash, the whole tail) recomputed as anyone could.
# rechain FROM: recompute hash and prev from line FROM to the end; records
# keep their old mac (nobody without the key can make a new one).
rechain() {
	local from=$1 n=0 prev='' line body h
	: >"$T/rechained"
	while IFS= read -r line; do
		n=$((n + 1))
		if ((n >= from)); then
			line=$(sed "s/\"prev\":\"[0-9a-f]*\"/\"prev\":\"$prev\"/" <<<"$line")
			body=${line%,\"hash\":*}
			h=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
			line=$(sed "s/\"hash\":\"[0-9a-f]*\"/\"hash\":\"$h\"/" <<<"$line")
		fi
		prev=$(sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/' <<<"$line")
		printf '%s\n' "$line" >>"$T/rechained"
	done <"$J"
	cat "$T/rechained" >"$J"
}
sed -i '3s/"uid":0/"uid":7/' "$J"
rechain 3
ok "rewrite: the unkeyed chain still recomputes" bash -c '
	prev=$(printf %s "provd audit journal v1" | sha256sum | cut -d" " -f1)
	while IFS= read -r line; do
		body=${line%,\"hash\":*}; h=$(printf %s "$body" | sha256sum | cut -d" " -f1)
		[[ $line == "$body,\"hash\":\"$h\""* && $line == *"\"prev\":\"$prev\""* ]] || exit 1
		prev=$h
	done <"$1"' _ "$J"
fails "rewrite: provd -J names record 3" 1 "$BUILD/provd" -J -c "$SANDBOX_DIR/provd.conf"
contains "rewrite: line 3 forged" "$OUT" "broken at line 3 (forged)"
refused "rewrite with recomputed hashes" "record $nlines, the last of the journal"

# Only record 3 rewritten, its hash recomputed, the tail untouched: provd
# starts (its head vouches for itself) and verify names record 3.
sed -i '3s/"uid":0/"uid":7/' "$J"
rechain 3
head -n 3 "$J" >"$T/part" && tail -n +4 "$T/journal.orig" >>"$T/part" && cat "$T/part" >"$J"
tampered "record 3 rewritten with a recomputed hash" 3 forged

# A forged last record: correct seq, prev and hash, no key.
last=$(tail -n 1 "$J")
sed -i '$d' "$J"
printf '%s\n' "$(sed 's/"uid":0/"uid":9/' <<<"$last")" >>"$J"
rechain "$nlines"
refused "forged last record" "record $nlines, the last of the journal $J, carries a wrong MAC"
last=$(tail -n 1 "$J")
sed -i '$d' "$J"
printf '%s}\n' "${last%,\"mac\":*}" >>"$J"
rechain "$nlines"
refused "last record without a MAC" "carries no MAC"

# The end cut off: the seal names a later record.
head -n "$((nlines - 2))" "$T/journal.orig" >"$J"
refused "last two records cut off" "records $((nlines - 1)) to $nlines were removed from its end"
head -n "$((nlines - 2))" "$T/journal.orig" >"$J"
ok "provd -J: the cut is named" test -n "$("$BUILD/provd" -J -c "$SANDBOX_DIR/provd.conf" | grep -F 'removed from its end')"
restore

# Two histories from the same start: the journal of one with the seal of
# the other (same record count, another last record).
ok "history A: provd starts" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
for _ in 1 2 3; do provctl ping >/dev/null; done
ok "history A: stop" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
cp -p "$SEAL" "$T/seal.a"
restore
ok "history B: provd starts" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
for _ in 1 2 3; do provctl status >/dev/null; done
ok "history B: stop" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
eq "both histories end at the same record" "$(sed 's/ hash=.*//' "$T/seal.a")" "$(sed 's/ hash=.*//' "$SEAL")"
cp -p "$T/seal.a" "$SEAL"
refused "journal B with seal A" "is not the one provd sealed: it was replaced"

# The seal forged, deleted or swapped; the key replaced or removed.
sed -i 's/seq=\([0-9]*\)/seq=1\1/' "$SEAL"
refused "seal edited" "does not match provd's journal key"
rm -f "$SEAL"
refused "seal removed" "cannot open the journal seal"
cp -p "$KEY" "$T/key.orig"
head -c 32 /dev/urandom >"$KEY"
refused "key replaced" "carries a wrong MAC"
rm -f "$KEY"
refused "key removed" "its key $KEY is missing"
cp -p "$T/key.orig" "$KEY"
eq "key restored" "$(cmp "$KEY" "$T/key.orig" && echo same)" same

# Untouched: the chain continues across restarts.
ok "provd starts on the intact journal" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
ok "audit verify after restarts" provctl -f json audit verify
contains "intact after restarts" "$OUT" '"result":"intact"'
contains "restart continued the chain" "$OUT" "\"records\":$nlines,"

# Records removed from the end while provd runs: the writer knows its head.
head -n 4 "$J" >"$T/short" && cat "$T/short" >"$J"
fails "tail removed while running: verify fails" 6 provctl -f json audit verify
contains "tail removed: deleted" "$OUT" '"problem":"deleted"'
contains "tail removed: names the end" "$ERR" "removed from its end"
cp -p "$T/journal.orig" "$J"

# --- provd's memory is not readable by other processes of its user -------------
# A second provd that drops to nobody: its /proc files stay root's (not
# dumpable), so a process running as nobody cannot read them, while it can
# read those of an ordinary nobody process.  Its journal, opened as root
# before the drop, is still written after it.
S2=$SANDBOX_DIR/second
mkdir -m 755 "$S2"
sed -e "s|\"$SANDBOX_DIR/provd.sock\"|\"$S2/provd.sock\"|" \
	-e "s|\"$SANDBOX_DIR/state\"|\"$S2/state\"|" \
	-e 's|^\(  user *= \)"[^"]*"|\1"nobody"|' "$SANDBOX_DIR/provd.conf" >"$S2/provd.conf"
chmod 600 "$S2/provd.conf"
"$BUILD/provd" -d -c "$S2/provd.conf" </dev/null >"$S2/provd.log" 2>&1 &
pid2=$!
disown "$pid2"
at_exit stop_pid "$pid2"
for _ in $(seq 300); do [[ -S $S2/provd.sock ]] && break; sleep 0.1; done
ok "provd as nobody answers" provctl -s "$S2/provd.sock" ping
eq "it runs as nobody" "$(awk '/^Uid:/ {print $2}' "/proc/$pid2/status")" 65534
eq "its /proc files stay root's (not dumpable)" "$(stat -c %u "/proc/$pid2/environ")" 0
fails "nobody cannot read its environment" any runuser -u nobody -- cat "/proc/$pid2/environ"
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 30 &
ctl_pid=$!
disown "$ctl_pid"
at_exit stop_pid "$ctl_pid"
sleep 0.2
ok "control: nobody reads an ordinary nobody process" \
	runuser -u nobody -- bash -c 'cat "$1" >/dev/null' _ "/proc/$ctl_pid/environ"
eq "journal handed to the service user" "$(stat -c %U "$S2/state/audit.journal")" nobody
contains "engine wrote the journal after the drop" "$(<"$S2/state/audit.journal")" '"cmd":"ping"'
kill "$pid2"
for _ in $(seq 300); do pid_gone "$pid2" && break; sleep 0.1; done
ok "provd as nobody stopped" pid_gone "$pid2"
lacks "no sanitizer report from provd as nobody" "$(<"$S2/provd.log")" "Sanitizer"
lacks "no runtime error from provd as nobody" "$(<"$S2/provd.log")" "runtime error:"

done_testing
