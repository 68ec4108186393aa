#!/usr/bin/env bash
# No secret is ever recorded: passwords sent in requests that are refused
# by role, fail to parse, name an unknown command or carry a stray word
# after a secret option never reach the journal, the log or any file of
# the sandbox.  Each password is unique and searched for everywhere.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
(($(id -u) == 0)) || skip_all "needs root (useradd)"
T=$(mktemp -d /tmp/provd-secrets.XXXXXX)
chmod 755 "$T"
at_exit rm -rf "$T"
NOROLE=provdt-nosec$$
test_user "$NOROLE" || exit 1

sandbox_up
chmod 0666 "$PROVD_SOCKET"
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
raw() { # raw USER WORD...: one REQUEST of these words, as USER
	local u=$1 w args=()
	shift
	for w in "$@"; do args+=("$(hex "$w")"); done
	runuser -u "$u" -- python3 "$REPO/tests/tools/abuse.py" "$PROVD_SOCKET" raw "${args[@]}"
}
secret() { # a fresh password, remembered in $T/secrets
	local s
	s="Sx$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')Q"
	printf '%s\n' "$s" >>"$T/secrets"
	printf '%s' "$s"
}

ok "an account" provctl -f json user add --name 'Đỗ Văn Bình' --unit so-noi-vu --employee-id NVSEC001
login=$(sed -n 's/.*"login":"\([^"]*\)".*/\1/p' <<<"$OUT")
secret >"$T/pw1"
chmod 644 "$T/pw1"

# Refused by role, before parsing: --password-file=CONTENT and a separate word.
fails "no role: user passwd --password-file refused" 5 \
	runuser -u "$NOROLE" -- "$BUILD/provctl" -s "$PROVD_SOCKET" user passwd "$login" --password-file "$T/pw1"
ok "no role, raw: --password-file then the value as its own word" \
	raw "$NOROLE" user passwd "$login" --password-file "$(secret)"
contains "refused with status 5" "$OUT" "status=5"
ok "no role, raw: --password-stdin=VALUE" raw "$NOROLE" user passwd "$login" "--password-stdin=$(secret)"
# Unknown command: the option is still known to be secret from the table.
ok "unknown command with a password option" raw root user passwdx "$login" "--password-file=$(secret)"
contains "unknown command: status 2" "$OUT" "status=2"
# Parse errors: a stray word after the secret option, an unknown option's value.
pw=$(secret)
fails "a stray word after --password-stdin" 2 provctl user passwd "$login" --password-stdin "$(secret)" <<<"$pw"
lacks "the error does not quote the stray word" "$ERR" "$(tail -n 1 "$T/secrets")"
ok "raw: unknown option carrying a value" raw root user passwd "$login" "--password-file=$(secret)" "--pasword=$(secret)"
contains "unknown option: status 2" "$OUT" "status=2"
ok "raw: the password as a lone operand after the option" raw root user passwd "$login" "--password-stdin=$(secret)" "$(secret)"
# A successful change, for completeness.
secret >"$T/pw2"
ok "user passwd from a file" provctl user passwd "$login" --password-file "$T/pw2"

ok "stop provd (everything flushed)" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
rm -f "$T/pw1" "$T/pw2"
J=$(<"$SANDBOX_DIR/state/audit.journal")
found=$(grep -rlaF -f "$T/secrets" "$SANDBOX_DIR" 2>/dev/null)
eq "none of the $(wc -l <"$T/secrets") passwords is in any file of the sandbox (journal, log, database)" \
	"$found" ""
[[ -z $found ]] || diag "$(grep -raoF -f "$T/secrets" "$SANDBOX_DIR" | head -n 20)"
contains "the refusals are recorded, redacted" "$J" \
	'"args":"'"$login"' --password-file [redacted]'
contains "an unparsed request shows what is not secret" "$J" \
	'--pasword [1 words not shown]'

done_testing
