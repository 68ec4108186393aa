#!/usr/bin/env bash
# Man pages: they format without a single groff warning, man(1) renders
# them, and they cannot drift from the code: every command (with each of its
# options) of the command table is in provctl.1, and every setting
# daemon/core/config.c reads is in provd.conf.5 (and only those).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v groff >/dev/null || skip_all "groff is not installed"
MAN=$REPO/docs/man
export LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat MANWIDTH=100

# Rendered text of a page, in ASCII, whitespace squeezed to single spaces.
rendered() {
	groff -man -Tascii -P-c -P-b -P-u "$1" 2>/dev/null | tr -s ' \t\n' '   '
}

for page in provd.8 provd-ocsp.8 provctl.1 provd.conf.5 provd-self.8; do
	ok "$page exists" test -s "$MAN/$page"
	ok "$page: groff -ww -man runs" groff -ww -z -man -Tutf8 "$MAN/$page"
	eq "$page: no groff warnings (-man)" "$ERR" ""
	ok "$page: groff -ww -mandoc runs" groff -ww -z -mandoc -Tutf8 "$MAN/$page"
	eq "$page: no groff warnings (-mandoc)" "$ERR" ""
	if command -v man >/dev/null; then
		ok "$page: man -l renders" man -l "$MAN/$page"
		contains "$page: man -l shows NAME" "$OUT" "NAME"
		eq "$page: man -l prints nothing on stderr" "$ERR" ""
	fi
done

# provd-ocsp.8 documents every option of provd-ocsp's usage line.
fails "provd-ocsp without -d prints its usage" 2 "$BUILD/provd-ocsp"
text=$(rendered "$MAN/provd-ocsp.8")
missing=''
for o in $(printf '%s' "${ERR#usage: provd-ocsp}" | grep -o -- ' \[\?-[a-z]' | tr -d ' [' | sort -u); do
	[[ $text == *"$o "* || $text == *"$o"[A-Z]* ]] || missing+="$o "
done
eq "provd-ocsp.8 documents every option of its usage" "$missing" ""

# --- provctl.1 against the command table ---------------------------------
ok "provctl --help" "$BUILD/provctl" --help
help=$OUT
commands=()
in_list=0
while IFS= read -r line; do
	case $line in
	commands:) in_list=1; continue ;;
	'exit codes:') in_list=0 ;;
	esac
	((in_list)) || continue
	[[ $line == '  '[a-z]* ]] || continue
	line=${line#  }
	line=${line%%  *}
	commands+=("$line")
done <<<"$help"
ok "provctl --help lists at least 30 commands (got ${#commands[@]})" test "${#commands[@]}" -ge 30

text=$(rendered "$MAN/provctl.1")
missing=''
for c in "${commands[@]}"; do
	[[ " $text " == *" $c "* ]] || missing+="'$c' "
done
eq "provctl.1 documents every command of provctl --help" "$missing" ""

# Each command's entry (its .TP tag line) names every option of the table,
# and has an example.
ok "provctl --commands" "$BUILD/provctl" --commands
table=$OUT
missing_opts=''
missing_examples=''
while IFS= read -r line; do
	read -r -a words <<<"$line"
	name=${words[0]}
	rest=("${words[@]:1}")
	if ((${#rest[@]} > 0)) && [[ ${rest[0]} != -* ]]; then
		name+=" ${rest[0]}"
		rest=("${rest[@]:1}")
	fi
	tag=$(grep -m1 -F "\\fB${name//-/\\-}\\fP" "$MAN/provctl.1" || true)
	if [[ -z $tag ]]; then
		missing_opts+="[$name: no entry] "
		continue
	fi
	for w in "${rest[@]}"; do
		[[ $w == -- ]] && break
		opt=${w%%=*}
		[[ $tag == *"\\fB${opt//-/\\-}\\fP"* ]] || missing_opts+="[$name $opt] "
	done
	# An example: a line "provctl ... NAME ...".
	grep -E '^provctl ' "$MAN/provctl.1" | grep -qF -- "${name//-/\\-}" ||
		missing_examples+="[$name] "
done <<<"$table"
eq "provctl.1 shows every option of every command" "$missing_opts" ""
eq "provctl.1 has an example of every command" "$missing_examples" ""
contains "provctl.1 documents --commands" "$text" "--commands"
contains "provctl.1 documents PROVD_SOCKET" "$text" "PROVD_SOCKET"

# --- provd.conf.5 against daemon/core/config.c ------------------------------------
settings=$(grep -oE '"(daemon|ldap|mail|roles|pki)\.[a-z_]+"' "$REPO/daemon/core/config.c" | tr -d '"' | sort -u)
# roles.<name> is built from the role names in load_roles().
roles=$(sed -n 's/.*names\[\] = {\(.*\)};.*/\1/p' "$REPO/daemon/core/config.c" | grep -oE '"[a-z]+"' | tr -d '"')
for r in $roles; do
	settings+=$'\n'"roles.$r"
done
settings=$(printf '%s\n' "$settings" | sort -u)
n=$(printf '%s\n' "$settings" | grep -c .)
ok "config.c has at least 35 settings (found $n)" test "$n" -ge 35
ok "config.c names the four roles" test "$(grep -c . <<<"$roles")" -eq 4

text=$(rendered "$MAN/provd.conf.5")
missing=''
for s in $settings; do
	[[ $text =~ (^|[^a-z_.])${s//./\\.}([^a-z_]|$) ]] || missing+="$s "
done
eq "provd.conf.5 documents every setting of config.c" "$missing" ""

documented=$(grep -oE '^\.B (daemon|ldap|mail|roles|pki)\.[a-z_]+$' "$MAN/provd.conf.5" | sed 's/^\.B //' | sort -u)
extra=''
for s in $documented; do
	grep -qxF "$s" <<<"$settings" || extra+="$s "
done
eq "provd.conf.5 documents no setting config.c does not read" "$extra" ""

# Every setting has its default written down.
src=$(<"$MAN/provd.conf.5")
nodefault=''
for s in $documented; do
	entry=${src#*$'\n'.TP$'\n'".B $s"$'\n'}
	entry=${entry%%$'\n'.[TS][PH]*}
	[[ ${entry,,} == *default* || ${entry,,} == *required* ]] || nodefault+="$s "
done
eq "every setting in provd.conf.5 states its default or that it is required" "$nodefault" ""

# provd.8 documents every option provd accepts.
ok "provd -h" "$BUILD/provd" -h
text=$(rendered "$MAN/provd.8")
missing=''
while read -r o; do
	[[ $text == *" $o "* ]] || missing+="$o "
done < <(grep -oE '^  -[a-zA-Z]' <<<"$OUT")
eq "provd.8 documents every option of provd -h" "$missing" ""
for w in SIGTERM SIGHUP /etc/provd/provd.conf /run/provd/provd.sock daemon.user; do
	contains "provd.8 mentions $w" "$text" "$w"
done

# --- provd-self.8 against its configuration reader ----------------------------
self_text=$(rendered "$MAN/provd-self.8")
for group in self ldap; do
	keys=$(sed -n "/^static const char \*const keys_$group\[\]/,/NULL };/p" "$REPO/tools/provd-self/main.c" |
		grep -o '"[a-z_]*"' | tr -d '"')
	ok "provd-self reads some $group keys" test -n "$keys"
	for k in $keys; do
		contains "provd-self.8 documents $group.$k" "$self_text" "$group.$k"
	done
done

done_testing
