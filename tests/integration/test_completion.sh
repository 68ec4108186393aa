#!/usr/bin/env bash
# Bash completion of provctl (tools/completion/provctl.bash) against a real
# provd: global options, nouns, verbs, the options of a command, unit codes
# after --unit and logins after "user show", fed by provctl --commands and
# provctl complete.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
PATH=$BUILD:$PATH
# shellcheck source=tools/completion/provctl.bash
. "$REPO/tools/completion/provctl.bash"

ok "completion registered for provctl" complete -p provctl
contains "complete -F _provctl" "$OUT" "-F _provctl provctl"

# Candidates for the command line given as words; the last word is the one
# being completed.  Prints them sorted, one per line.
candidates() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_provctl provctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
lines() { printf '%s\n' "$@" | sort; }

# --- provctl --commands, the table behind it ---------------------------------
ok "provctl --commands" provctl --commands
table=$OUT
eq "one line per command of --help" "$(grep -c . <<<"$table")" \
	"$(provctl --help | sed -n '/^commands:/,/^exit codes:/p' | grep -c '^  [a-z]')"
contains "user add with its options" "$table" \
	"user add --name=NAME --unit=CODE --employee-id=ID --title=TITLE --phone=PHONE --login=LOGIN --alias=ADDR --quota=SIZE"
contains "flags have no metavar, operands follow --" "$table" "user delete --now --dry-run --yes -- LOGIN"
contains "a one-word command with an operand" "$table" "whois -- LOGIN|MAIL|EMPLOYEE_ID|NAME"

# --- static candidates --------------------------------------------------------
candidates provctl us >/dev/null
contains "the table is loaded once and kept in the shell" "${_provctl_table_text-}" "user add"

nouns=$(cut -d' ' -f1 <<<"$table" | sort -u)
eq "nouns" "$(candidates provctl '')" "$(printf '%s\nhelp\n' "$nouns" | sort)"
eq "nouns by prefix" "$(candidates provctl u)" "$(lines unit user)"
eq "global options" "$(candidates provctl -)" "$(lines -s -f -h -V --help --version)"
eq "formats after -f" "$(candidates provctl -f '')" "$(lines table tab json)"
eq "nouns after a global option" "$(candidates provctl -f json ce)" "cert"
eq "verbs of user" "$(candidates provctl user '')" \
	"$(lines add show list modify move disable enable delete purge passwd)"
eq "verbs of cert by prefix" "$(candidates provctl cert re)" "$(lines revoke release renew)"
eq "options of user add" "$(candidates provctl user add --)" \
	"$(lines --name --unit --employee-id --title --phone --login --alias --quota)"
eq "options of user add by prefix" "$(candidates provctl user add --n)" "--name"
eq "options after other options" "$(candidates provctl user add --name X --unit so-noi-vu --e)" \
	"--employee-id"
eq "status values of user list" "$(candidates provctl user list --status '')" \
	"$(lines active disabled deleted)"
eq "status values of cert list" "$(candidates provctl cert list --status '')" \
	"$(lines valid hold revoked expired)"
eq "revocation reasons" "$(candidates provctl cert revoke 3a0f --reason key)" "keyCompromise"
eq "nothing after a command without operands" "$(candidates provctl ping '')" ""
eq "help takes a noun" "$(candidates provctl help ce)" "cert"

# --- unit codes from provd ---------------------------------------------------------
want=$(provctl -f tab unit list | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "code") c = i; next } c { print $c }' | grep '^so-t' | sort)
ok "the sandbox has units starting with so-t" test -n "$want"
eq "unit codes after --unit" "$(candidates provctl user add --unit so-t)" "$want"
eq "unit codes after --unit=" "$(candidates provctl user add --unit = so-t)" "$want"
eq "unit codes in one word --unit=so-t" "$(candidates provctl user add --unit=so-t)" \
	"$(while read -r u; do printf -- '--unit=%s\n' "$u"; done <<<"$want")"
eq "unit codes as the operand of unit show" "$(candidates provctl unit show so-tai-c)" "so-tai-chinh"
eq "unit codes with -s SOCKET given" \
	"$(candidates provctl -s "$PROVD_SOCKET" user list --unit so-tai-c)" "so-tai-chinh"
eq "no units from a socket where nothing listens" \
	"$(candidates provctl -s "$SANDBOX_DIR/none.sock" user list --unit so-)" ""

# --- logins from provd ---------------------------------------------------------
ok "create annv" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "create anhlt" provctl user add --name 'Lê Thị Anh' --unit so-noi-vu --employee-id NV0002
ok "create binhtt" provctl user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id NV0003
eq "logins after user show" "$(candidates provctl user show an)" "$(lines anhlt annv)"
eq "all logins after user show" "$(candidates provctl user show '')" "$(lines anhlt annv binhtt)"
eq "logins after whois" "$(candidates provctl whois b)" "binhtt"
eq "logins for the first operand of alias add" "$(candidates provctl alias add ann)" "annv"
eq "no logins for the second operand of alias add" "$(candidates provctl alias add annv '')" ""
eq "logins after --login" "$(candidates provctl cert list --login bi)" "binhtt"
eq "logins after an option of user disable" \
	"$(candidates provctl user disable --reason leave ann)" "annv"
eq "no candidates once the operand is given" "$(candidates provctl user show annv '')" ""

done_testing
