#!/usr/bin/env bash
# The CA key out of the engine's reach: provd started as root drops the
# engine to one service user and the signer to another (daemon.signer_user);
# the engine's uid cannot open the key, read it, or trace the signer, while
# certificates and CRLs are still signed.  (A token key in this layout:
# test_signer_user_hsm.sh.)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
split_users

sandbox_up --user "$ENG" --signer-user "$CA" --hsm
KEY=$SANDBOX_DIR/state/ca-key/ca.key
pid=$(<"$SANDBOX_DIR/provd.pid")
# provd binds its socket before it forks the signer and drops its
# privileges, and answers only once it runs its loop: ping first.
ok "ping" provctl ping
eq "the engine runs as the service user" "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" "$(id -u "$ENG")"
ok "ca create" provctl ca create --subject '/CN=Split CA' --key ec-p256 --days 30
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
ok "the signer's pid is known" test -n "$spid"
eq "the signer runs as its own user" "$(awk '/^Uid:/ {print $2}' "/proc/$spid/status")" "$(id -u "$CA")"
eq "the key belongs to the signer's user" "$(stat -c %U "$KEY")" "$CA"
eq "the key is 0600" "$(stat -c %a "$KEY")" 600
eq "its directory is the signer's, 0700" "$(stat -c '%U %a' "${KEY%/*}")" "$CA 700"

# What the engine's uid can do.
fails "the engine's uid cannot open the key" any as_eng cat "$KEY"
fails "the engine's uid cannot list the key's directory" any as_eng ls "${KEY%/*}"
fails "the engine's uid cannot read the signer's environment" any as_eng cat "/proc/$spid/environ"
fails "the engine's uid cannot read the signer's memory" any as_eng \
	python3 -c 'import sys; open("/proc/%s/mem" % sys.argv[1], "rb").read(1)' "$spid"
fails "the engine's uid cannot ptrace the signer" any as_eng python3 - "$spid" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
if libc.ptrace(PTRACE_ATTACH, int(sys.argv[1]), None, None) != 0:
    sys.exit("ptrace: errno %d" % ctypes.get_errno())
PY
# And the split still signs.
ok "crl publish (signed by the signer, written by the engine)" provctl crl publish
ok "the CRL verifies with the CA certificate" \
	openssl crl -inform DER -in "$SANDBOX_DIR/state/crl/ca.crl" -CAfile "$SANDBOX_DIR/state/ca/ca.pem" -noout
# A signer that dies is replaced, as its own user still: the engine's uid
# could not start one, the launcher forked before the drop does.
kill -KILL "$spid"
ok "the dead signer is replaced" within 30 bash -c \
	'p=$("$1" -f json ca show | sed -n "s/.*\"signer_pid\":\([0-9]*\).*/\1/p"); [[ -n $p && $p != "$2" ]] && kill -0 "$p"' \
	_ "$BUILD/provctl" "$spid"
ok "ca show" provctl -f json ca show
spid2=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
eq "the new signer runs as the signer's user" "$(awk '/^Uid:/ {print $2}' "/proc/$spid2/status")" "$(id -u "$CA")"
fails "the engine's uid cannot read the new signer's memory" any as_eng \
	python3 -c 'import sys; open("/proc/%s/mem" % sys.argv[1], "rb").read(1)' "$spid2"
ok "crl publish with the new signer" provctl crl publish
ok "that CRL verifies" \
	openssl crl -inform DER -in "$SANDBOX_DIR/state/crl/ca.crl" -CAfile "$SANDBOX_DIR/state/ca/ca.pem" -noout

# The launcher cannot be forked again once provd has dropped its rights:
# when it dies provd says so in the log and in `status`, the live signer
# goes on signing, and once that one ends too certificates and CRLs are
# refused with the reason while everything else is served.
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
lpid=$(sed -n 's/.*"launcher_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
ok "the launcher is known" test "${lpid:-0}" -gt 0
eq "the launcher runs as the signer's user" "$(awk '/^Uid:/ {print $2}' "/proc/$lpid/status")" "$(id -u "$CA")"
kill -KILL "$lpid"
ok "provd notices the launcher's end" within 30 bash -c '"$1" status | grep -q "launcher gone"' \
	_ "$BUILD/provctl"
contains "and says it in the log" "$(<"$SANDBOX_DIR/provd.log")" "the signer launcher has ended"
ok "the live signer still signs a CRL" provctl crl publish
ok "a person for a certificate" provctl user add --name 'Lê Văn Cường' --unit so-tai-chinh \
	--employee-id NV0009
lu=$(provctl -f tab user list | awk -F'\t' '/Cường/ {print $1; exit}')
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$SANDBOX_DIR/l.key" \
	-subj /CN=x -out "$SANDBOX_DIR/l.csr" 2>/dev/null
kill -KILL "$spid"
ok "provd notices the signer's end" within 30 bash -c '"$1" status | grep -q "not running"' \
	_ "$BUILD/provctl"
ok "ping answers with no signer" provctl ping
ok "status answers" provctl status
contains "status says the launcher is gone" "$OUT" "launcher gone"
contains "and that the signer does not run" "$OUT" "not running"
fails "crl publish is refused" 7 provctl crl publish
contains "with the reason" "$ERR" "launcher is gone"
fails "cert issue is refused" 7 provctl cert issue "$lu" --csr "$SANDBOX_DIR/l.csr"
contains "with the reason too" "$ERR" "launcher is gone"
ok "user list still answers" provctl user list
ok "provd restarts with the split key" bash -c \
	'"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "ca show after restart" provctl ca show
contains "the CA is loaded" "$OUT" "Split CA"

# ---- ca rollover with the split key ------------------------------------------
T=$(mktemp -d /tmp/provd-splitroll.XXXXXX)
at_exit rm -rf "$T"
S=$SANDBOX_DIR/state
KD=${KEY%/*}
cp "$S/ca/ca.pem" "$T/g1.pem"
ok "staff" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/a.key" \
	-subj /CN=x -out "$T/a.csr" 2>/dev/null
ok "issue under generation 1" provctl cert issue annv --csr "$T/a.csr"
printf '%s\n' "$OUT" >"$T/a.pem"
old_key_sum=$(sha256sum <"$KEY")
m0=$("$BUILD/provctl" -f json ca show | sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' | head -n1)
ok "ca rollover --link (signer_user)" provctl -f json ca rollover --link \
	--subject '/CN=Split CA G2' --key ec-p256 --days 30
cp "$S/ca/ca.pem" "$T/g2.pem"
eq "the new CA is current" "$(openssl x509 -in "$T/g2.pem" -noout -subject)" "subject=CN = Split CA G2"
eq "the old key moved to gen-1, unchanged" "$(sha256sum <"$KD/gen-1/ca.key")" "$old_key_sum"
eq "gen-1 is the signer's, 0700" "$(stat -c '%U %a' "$KD/gen-1")" "$CA 700"
eq "the retired key is the signer's, 0600" "$(stat -c '%U %a' "$KD/gen-1/ca.key")" "$CA 600"
eq "the new key is the signer's, 0600" "$(stat -c '%U %a' "$KEY")" "$CA 600"
ok "the retired certificate is kept with it" cmp "$KD/gen-1/ca.pem" "$T/g1.pem"
fails "the engine's uid cannot read the retired key" any as_eng cat "$KD/gen-1/ca.key"
ok "ca show" provctl -f json ca show
contains "generation 1 retired" "$OUT" '"generation":1,"role":"retired"'
gpid=$(sed -n 's/.*"generation":1,"role":"retired".*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT")
ok "the retired generation has a signer" test -n "$gpid" -a "$gpid" != 0
eq "which runs as the signer's user" "$(awk '/^Uid:/ {print $2}' "/proc/$gpid/status")" "$(id -u "$CA")"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/b.key" \
	-subj /CN=x -out "$T/b.csr" 2>/dev/null
ok "issue under generation 2" provctl cert issue annv --csr "$T/b.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/b.pem"
ok "it verifies with the new CA" openssl verify -CAfile "$T/g2.pem" "$T/b.pem"
ok "and through the link certificate with the old one" openssl verify -CAfile "$T/g1.pem" \
	-untrusted "$S/ca/ca-link-gen-1.pem" "$T/b.pem"
ok "revoke the old certificate" provctl cert revoke "$(openssl x509 -in "$T/a.pem" -noout -serial | cut -d= -f2)" \
	--reason superseded
ok "the old CA's CRL is signed by the retired key" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/g1.pem" -noout

# ---- more rollovers in the same run: the spare is replaced -------------------
# The rollover made the spare generation 1's signer; provd asks its spawner
# (forked before the drop) for a new spare, without touching the signers
# that run.
spare_of() { sed -n 's/.*"spare_launcher_pid":\([-0-9]*\).*/\1/p' <<<"$1" | head -n1; }
field() { sed -n "s/.*\"$1\":\\([-0-9]*\\).*/\\1/p" <<<"$2" | head -n1; }
ok "a new spare signer comes without a restart" within 30 bash -c \
	'o=$("$1" -f json ca show); p=$(sed -n "s/.*\"spare_launcher_pid\":\([-0-9]*\).*/\1/p" <<<"$o" | head -n1); ((${p:--1} > 0))' \
	_ "$BUILD/provctl"
ok "ca show" provctl -f json ca show
slp=$(spare_of "$OUT")
swp=$(field spawner_pid "$OUT")
mpid=$(field signer_pid "$OUT")
eq "the spare's launcher runs as the signer's user" "$(awk '/^Uid:/ {print $2}' "/proc/$slp/status")" "$(id -u "$CA")"
eq "it is the spawner's child" "$(awk '/^PPid:/ {print $2}' "/proc/$slp/status")" "$swp"
fails "the engine's uid cannot read the spare launcher's memory" any as_eng \
	python3 -c 'import sys; open("/proc/%s/mem" % sys.argv[1], "rb").read(1)' "$slp"
ok "the current signer was not disturbed" kill -0 "$m0"
eq "it is still the current signer" "$mpid" "$m0"
ok "nor the retired generation's" kill -0 "$gpid"

# Generation 3, RSA-4096, made while provd answers: the main signer makes
# the key; it is held once the old CA's last CRL is out, so in the middle
# of the key generation, and ping is answered before the rollover returns.
replace_mark "$S/crl/ca.crl"
"$BUILD/provctl" ca rollover --link --subject '/CN=Split CA G3' --key rsa-4096 --days 30 \
	>"$T/roll3.out" 2>&1 &
roller=$!
stop_when_replaced "$S/crl/ca.crl" "$mpid"
sleep 0.3
ok "ping answers while the signer makes the RSA-4096 key" timeout 3 "$BUILD/provctl" ping
ok "before the rollover has returned" kill -0 "$roller"
kill -CONT "$mpid"
wait "$roller"
eq "the second rollover of this run succeeds" "$?" 0
cp "$S/ca/ca.pem" "$T/g3.pem"
eq "generation 3 is current" "$(openssl x509 -in "$T/g3.pem" -noout -subject)" "subject=CN = Split CA G3"
ok "gen-2 holds generation 2" cmp "$KD/gen-2/ca.pem" "$T/g2.pem"
eq "its key is the signer's, 0600" "$(stat -c '%U %a' "$KD/gen-2/ca.key")" "$CA 600"
ok "generation 1's signer goes on" kill -0 "$gpid"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/c.key" \
	-subj /CN=x -out "$T/c.csr" 2>/dev/null
ok "issue under generation 3" provctl cert issue annv --csr "$T/c.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/c.pem"
ok "crl publish (three generations)" provctl crl publish
ok "generation 3's certificate verifies with its CRL" vcrl "$T/c.pem" "$T/g3.pem" "$S/crl/ca.crl"
ok "generation 2's verifies with generation 2's CRL" vcrl "$T/b.pem" "$T/g2.pem" "$S/crl/ca-gen-2.crl"
fails "generation 1's revoked one fails with generation 1's CRL" any \
	vcrl "$T/a.pem" "$T/g1.pem" "$S/crl/ca-gen-1.crl"
contains "as revoked" "$OUT$ERR" "certificate revoked"
ok "OCSP for generation 2's certificate, signed for generation 2" ocsp_ask "$T/b.pem" "$T/g2.pem"
contains "good" "$OUT" "$T/b.pem: good"
contains "verified with generation 2 alone" "$ERR" "Response verify OK"

# Generation 4: the spare made after the last rollover is used up in turn,
# and another one follows.  With the spawner gone the next rollover is
# refused with the reason, nothing changed, and the rest goes on.
ok "a spare again" within 30 bash -c \
	'o=$("$1" -f json ca show); p=$(sed -n "s/.*\"spare_launcher_pid\":\([-0-9]*\).*/\1/p" <<<"$o" | head -n1); ((${p:--1} > 0))' \
	_ "$BUILD/provctl"
ok "ca show" provctl -f json ca show
swp=$(field spawner_pid "$OUT")
slp=$(spare_of "$OUT")
ok "the spawner is known" test "${swp:-0}" -gt 0
# The spare's signer dies before it is used: its launcher starts another.
sss=$(pgrep -P "$slp" | head -n1)
ok "the spare's signer is known" test -n "$sss"
kill -KILL "$sss"
kill -KILL "$swp"
ok "the third rollover of this run uses the spare (the spawner's end does not take it)" \
	provctl ca rollover --subject '/CN=Split CA G4' --key ec-p256 --days 30
cp "$S/ca/ca.pem" "$T/g4.pem"
ok "gen-3 holds generation 3" cmp "$KD/gen-3/ca.pem" "$T/g3.pem"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/d.key" \
	-subj /CN=x -out "$T/d.csr" 2>/dev/null
ok "issue under generation 4" provctl cert issue annv --csr "$T/d.csr" --profile staff-sign
printf '%s\n' "$OUT" >"$T/d.pem"
ok "revoke generation 3's certificate" provctl cert revoke "$(sn "$T/c.pem")" --reason superseded
ok "generation 4's certificate verifies with its CRL" vcrl "$T/d.pem" "$T/g4.pem" "$S/crl/ca.crl"
fails "generation 3's revoked one fails with generation 3's CRL" any \
	vcrl "$T/c.pem" "$T/g3.pem" "$S/crl/ca-gen-3.crl"
contains "as revoked" "$OUT$ERR" "certificate revoked"
ok "generation 2's still verifies with its CRL" vcrl "$T/b.pem" "$T/g2.pem" "$S/crl/ca-gen-2.crl"
ok "OCSP for generation 3's certificate" ocsp_ask "$T/c.pem" "$T/g3.pem"
contains "revoked" "$OUT" "$T/c.pem: revoked"
contains "verified with generation 3 alone" "$ERR" "Response verify OK"
ok "provd says no new spare came" within 30 grep -q "no new spare signer" "$SANDBOX_DIR/provd.log"
fails "a fourth rollover without a spare is refused" 1 provctl ca rollover \
	--subject '/CN=Split CA G5' --key ec-p256 --days 30
contains "with the reason" "$ERR" "spawner is gone"
contains "and what to do" "$ERR" "restart provd"
ok "nothing changed by it" cmp "$S/ca/ca.pem" "$T/g4.pem"
ok "crl publish still works" provctl crl publish
ok "restart" bash -c '"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "every generation is back" provctl -f json ca show
contains "generation 3 retired after restart" "$OUT" '"generation":3,"role":"retired"'
ok "crl publish after restart" provctl crl publish
ok "the retired keys still sign their CRLs" \
	openssl crl -inform DER -in "$S/crl/ca-gen-1.crl" -CAfile "$T/g1.pem" -noout
ok "generation 3's too" openssl crl -inform DER -in "$S/crl/ca-gen-3.crl" -CAfile "$T/g3.pem" -noout
ok "and a rollover works again" provctl ca rollover --subject '/CN=Split CA G5' \
	--key ec-p256 --days 30
ok "gen-4 holds generation 4" cmp "$KD/gen-4/ca.pem" "$T/g4.pem"

done_testing
