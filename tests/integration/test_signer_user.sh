#!/usr/bin/env bash
# The CA key out of the engine's reach: provd started as root drops the
# engine to one service user and the signer to another (daemon.signer_user);
# the engine's uid cannot open the key, read it, or trace the signer, while
# certificates and CRLs are still signed.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
(($(id -u) == 0)) || skip_all "needs root (useradd, privilege drop)"
ENG=provdt-eng$$
CA=provdt-ca$$
test_user "$ENG" || exit 1
test_user "$CA" || exit 1
as_eng() { setpriv --reuid="$ENG" --regid=nogroup --clear-groups "$@"; }

sandbox_up --user "$ENG" --signer-user "$CA"
KEY=$SANDBOX_DIR/state/ca-key/ca.key
pid=$(<"$SANDBOX_DIR/provd.pid")
eq "the engine runs as the service user" "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" "$(id -u "$ENG")"
ok "ping" provctl ping
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
ok "the dead signer is replaced" within 5 bash -c \
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
ok "provd restarts with the split key" bash -c \
	'"$1" stop-provd "$2" && "$1" start-provd "$2" --provd "$3"' _ \
	"$SANDBOX_TOOL" "$SANDBOX_DIR" "$BUILD/provd"
ok "ca show after restart" provctl ca show
contains "the CA is loaded" "$OUT" "Split CA"

done_testing
