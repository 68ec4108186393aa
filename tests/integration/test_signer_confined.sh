#!/usr/bin/env bash
# The signer runs under a seccomp filter: made (as root, with gdb) to run a
# program, open a network socket or fork, it is refused with EPERM and keeps
# signing; a local (AF_UNIX) socket is still allowed.  Under Landlock it
# may write only beneath the key's directory: a file elsewhere (provd's
# state, the CRL) is refused with EACCES, reading stays open.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
command -v gdb >/dev/null || { echo "not ok 1 - gdb is needed (tools/install-deps installs it)"; exit 1; }

sandbox_up
ok "ca create" provctl ca create --subject '/CN=Confined CA' --key ec-p256 --days 30
ok "ca show" provctl -f json ca show
spid=$(sed -n 's/.*"signer_pid":\([0-9]*\).*/\1/p' <<<"$OUT" | head -n1)
ok "the signer's pid" test -n "$spid"
eq "the signer has a seccomp filter" "$(awk '/^Seccomp:/ {print $2}' "/proc/$spid/status")" 2

# Call into the signer: the result of the call, then errno.
in_signer() {
	gdb -p "$spid" -batch -nx -ex "print (int)$1" -ex 'print *(int *)__errno_location()' \
		2>/dev/null | sed -n 's/^\$[0-9]* = //p' | tr '\n' ' '
}
eq "execve is refused (EPERM)" "$(in_signer 'execve("/bin/true", (char **)0, (char **)0)')" "-1 1 "
eq "an IPv4 socket is refused (EPERM)" "$(in_signer 'socket(2, 1, 0)')" "-1 1 "
eq "fork is refused (EPERM)" "$(in_signer 'fork()')" "-1 1 "
res=$(in_signer 'socket(1, 1, 0)')
ok "an AF_UNIX socket is allowed" test "${res%% *}" -ge 0
KD=$SANDBOX_DIR/state/ca
eq "a file outside the key directory cannot be made (EACCES)" \
	"$(in_signer "open(\"$SANDBOX_DIR/state/probe\", 65, 384)")" "-1 13 "
ok "and none was" test ! -e "$SANDBOX_DIR/state/probe"
eq "the CRL cannot be written (EACCES)" \
	"$(in_signer "open(\"$SANDBOX_DIR/state/crl/ca.crl\", 1)")" "-1 13 "
res=$(in_signer "open(\"$KD/probe\", 65, 384)")
ok "a file beneath the key directory can" test "${res%% *}" -ge 0
rm -f "$KD/probe"
res=$(in_signer 'open("/etc/hostname", 0)')
ok "reading elsewhere is still allowed" test "${res%% *}" -ge 0
ok "the signer still runs" kill -0 "$spid"
ok "and signs" provctl crl publish
ok "the CRL verifies" openssl crl -inform DER -in "$SANDBOX_DIR/state/crl/ca.crl" \
	-CAfile "$SANDBOX_DIR/state/ca/ca.pem" -noout

done_testing
