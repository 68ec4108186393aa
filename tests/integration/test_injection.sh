#!/usr/bin/env bash
# Injection: names, titles, logins, aliases, unit codes and search operands
# carrying every RFC 4514 / RFC 4515 special (and NUL, leading and trailing
# spaces) either round-trip byte-exact or are refused with a clear error;
# none widens a search or addresses another entry.  The CSV path too.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-inject.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
PEOPLE="ou=people,$LDAP_BASE"
count_people() {
	ldap_root -b "$PEOPLE" -s one '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:'
}
attr_of() {  # attr_of LOGIN ATTR: the attribute's values, exact
	ldap_root -b "$PEOPLE" -s one "(uid=$1)" "$2" | ldif_values "$2"
}
refused_or() {  # refused_or NAME: passes when the last command exited 2, 3 or 6 with a message
	if [[ $RC == 2 || $RC == 3 || $RC == 6 ]] && [[ -n $ERR ]]; then
		return 0
	fi
	diag "$1: exit $RC, stdout: ${OUT:0:300}, stderr: ${ERR:0:300}"
	return 1
}
json_field() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$2" | head -n 1
}
run() {  # run CMD...: like ok/fails without judging
	RC=0
	OUT=$("$@" 2>"$T/err") || RC=$?
	ERR=$(<"$T/err")
}

ok "the victim" provctl -f json user add --name 'Trần Văn Bình' --unit so-noi-vu --employee-id VICTIM1
eq "victim login" "$(json_field login "$OUT")" binhtv
victim_before=$(ldap_root -b "$PEOPLE" -s one '(uid=binhtv)' '*' | sort)

# shellcheck disable=SC1003
SPECIALS=(',' '+' '"' '\' '<' '>' ';' '=' '#' '*' '(' ')' '*)(uid=*' '\2a' ',ou=people' '+uid=binhtv'
	')(|(uid=*' '\00' 'a\,b' '# x' ' x' 'x ')

# --- names and titles --------------------------------------------------------
i=0 bad=0
for s in "${SPECIALS[@]}"; do
	i=$((i + 1))
	name="Lê $s Hoa"
	title="Cán bộ $s (IT)"
	run provctl -f json user add --name "$name" --unit so-y-te --employee-id "INJ$i" --title "$title"
	if ((RC == 0)); then
		login=$(json_field login "$OUT")
		want_name=$(printf '%s' "$name" | tr -s ' ')
		want_title=$(printf '%s' "$title" | tr -s ' ')
		got_cn=$(attr_of "$login" cn)
		got_title=$(attr_of "$login" title)
		if [[ $got_cn != "$want_name" || $got_title != "$want_title" ]]; then
			bad=$((bad + 1))
			diag "[$s]: cn '$got_cn' (want '$want_name'), title '$got_title' (want '$want_title')"
		fi
		run provctl -f json user show "$login"
		if [[ $RC != 0 || $(json_field employee_id "$OUT") != "INJ$i" ]]; then
			bad=$((bad + 1))
			diag "[$s]: user show $login: exit $RC: $OUT"
		fi
	elif ! refused_or "name/title [$s]"; then
		bad=$((bad + 1))
	fi
done
eq "names and titles with specials round-trip or are refused" "$bad" 0

ok "a title with ( ) * \\ is stored byte-exact" provctl -f json user add --name 'Phạm Thị Lan' \
	--unit so-y-te --employee-id TITLE1 --title 'Chuyên viên (CNTT) * \5c \2a, a+b; <x>="q"#'
lan=$(json_field login "$OUT")
eq "title byte-exact in the directory" "$(attr_of "$lan" title)" 'Chuyên viên (CNTT) * \5c \2a, a+b; <x>="q"#'
ok "modify the title to specials" provctl user modify "$lan" --title '*)(uid=*'
eq "modified title byte-exact" "$(attr_of "$lan" title)" '*)(uid=*'

# --- explicit logins -------------------------------------------------------
i=0 bad=0
for s in "${SPECIALS[@]}"; do
	i=$((i + 1))
	n0=$(count_people)
	run provctl -f json user add --name 'Hoàng Văn Nam' --unit so-y-te --employee-id "LOGIN$i" --login "nam$s"
	if ((RC == 0)); then
		login=$(json_field login "$OUT")
		if [[ $login != "nam$s" ]] || [[ $(attr_of "$login" employeeNumber) != "LOGIN$i" ]]; then
			bad=$((bad + 1))
			diag "login [nam$s] accepted as [$login]"
		fi
	elif ! refused_or "login [$s]"; then
		bad=$((bad + 1))
	elif [[ $(count_people) != "$n0" ]]; then
		bad=$((bad + 1))
		diag "login [$s] refused but an entry was written"
	fi
done
eq "logins with specials round-trip or are refused" "$bad" 0
for s in 'binhtv,ou=people' 'binhtv+cn=x' 'binhtv\2c' ' binhtv' 'binhtv ' 'BINHTV' 'binhtv)(uid=*'; do
	run provctl user add --name 'Kẻ Mạo Danh' --unit so-y-te --employee-id "EVIL$RANDOM" --login "$s"
	ok "login [$s] does not take the victim's entry" test "$RC" -ne 0
done

# --- aliases -----------------------------------------------------------------
i=0 bad=0
for s in "${SPECIALS[@]}"; do
	i=$((i + 1))
	addr="al$s$i@vinhphuc.gov.vn"
	run provctl user add --name 'Đỗ Văn Tùng' --unit so-y-te --employee-id "ALIAS$i" --alias "$addr"
	if ((RC == 0)); then
		got=$(ldap_root -b "$PEOPLE" -s one "(employeeNumber=ALIAS$i)" mailLocalAddress | ldif_values mailLocalAddress)
		if [[ $got != *"${addr,,}"* ]]; then
			bad=$((bad + 1))
			diag "alias [$addr] stored as [$got]"
		fi
	elif ! refused_or "alias [$s]"; then
		bad=$((bad + 1))
	fi
	addr="bv$s$i@vinhphuc.gov.vn"
	run provctl alias add binhtv "$addr"
	if ((RC == 0)); then
		attr_of binhtv mailLocalAddress | grep -qxF "${addr,,}" || { bad=$((bad + 1)); diag "alias add [$addr] not stored exactly"; }
		provctl alias remove binhtv "${addr,,}" >/dev/null 2>&1
	elif ! refused_or "alias add [$s]"; then
		bad=$((bad + 1))
	fi
	run provctl alias add "binhtv$s" "ok$i@vinhphuc.gov.vn"
	refused_or "alias add to login [binhtv$s]" || bad=$((bad + 1))
done
eq "aliases with specials round-trip or are refused" "$bad" 0

# --- searches never widen ------------------------------------------------------
ok "a CA for certificate lists" provctl ca create --subject /CN=Test --key ec-p256 --days 30
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/b.key" \
	-subj /CN=b -out "$T/b.csr" 2>/dev/null
ok "a certificate for the victim" provctl cert issue binhtv --csr "$T/b.csr"
bad=0
for s in '*' 'binhtv*' '*binhtv' 'b*' '*)(uid=*' 'binhtv)(uid=*' '*)(|(uid=*' '\2a' 'binhtv\29' \
	'(uid=binhtv)' 'binhtv,ou=people' '*@vinhphuc.gov.vn' 'VICTIM*' '*)(employeeNumber=*'; do
	for cmd in "user show" "whois"; do
		# shellcheck disable=SC2086
		run provctl -f json $cmd "$s"
		if ((RC == 0)) || [[ $OUT == *binhtv* ]]; then
			bad=$((bad + 1))
			diag "$cmd [$s] found something: exit $RC: ${OUT:0:200}"
		fi
	done
	run provctl -f json cert list --login "$s"
	if [[ $OUT == *binhtv* ]] || [[ $RC != 0 && $RC != 2 && $RC != 3 && $RC != 6 ]]; then
		bad=$((bad + 1))
		diag "cert list --login [$s]: exit $RC: ${OUT:0:200}"
	fi
	run provctl -f json unit show "$s"
	((RC != 0)) || { bad=$((bad + 1)); diag "unit show [$s] answered: ${OUT:0:200}"; }
done
eq "no search operand widens a search" "$bad" 0
# Surrounding spaces are insignificant: they may address the same entry, no other.
for s in ' binhtv' 'binhtv ' '  binhtv  '; do
	run provctl -f json user show "$s"
	if ((RC == 0)); then
		eq "user show [$s] is binhtv itself" "$(json_field login "$OUT")" binhtv
	else
		ok "user show [$s] refused" refused_or "user show [$s]"
	fi
done
ok "user show '*' shows nobody" test "$(provctl user show '*' 2>/dev/null | wc -c)" -eq 0
ok "the victim's own certificate list still works" provctl -f json cert list --login binhtv
contains "and shows the certificate" "$OUT" '"login":"binhtv"'
bad=0
for s in "${SPECIALS[@]}" 'so-noi-vu*' 'so-*' 'so-noi-vu,ou=units'; do
	run provctl unit show "$s"
	((RC != 0)) || { bad=$((bad + 1)); diag "unit show [$s] answered"; }
	run provctl user add --name 'Vũ Thị Mai' --unit "$s" --employee-id "UNIT$RANDOM"
	refused_or "user add --unit [$s]" || bad=$((bad + 1))
	run provctl unit add "xa-$s" --name "Xã $s" --kind commune --parent huyen-tam-dao
	if ((RC == 0)); then
		bad=$((bad + 1))
		diag "unit add [xa-$s] accepted"
	elif ! refused_or "unit add [xa-$s]"; then
		bad=$((bad + 1))
	fi
done
eq "unit codes with specials are refused" "$bad" 0
ok "a unit name with specials" provctl unit add xa-thu-nghiem --name 'Xã (Thử) * \ "Nghiệm", #1; a+b=c <>' \
	--kind commune --parent huyen-tam-dao
ok "unit show it" provctl -f json unit show xa-thu-nghiem
contains "unit name round-trips" "$OUT" 'Xã (Thử) * \\ \"Nghiệm\", #1; a+b=c <>'

# --- NUL over a raw frame ------------------------------------------------------
# hex WORD: WORD as hex for a raw frame field, each "%00" a NUL byte.
hex() {
	printf '%s' "${1//%00/$'\x01'}" | od -An -tx1 -v | tr -s ' \n' '  ' | sed 's/ 01\b/ 00/g' | tr -d ' '
}
for args in "user show binh%00tv" "user show binhtv%00" "whois binhtv%00*" \
	"user add --name=L%00Hoa --unit=so-y-te --employee-id=NUL1" \
	"user add --name=Le_Hoa --unit=so-y-te%00 --employee-id=NUL2" \
	"user add --name=Le_Hoa --unit=so-y-te --employee-id=NUL3 --login=le%00x" \
	"user add --name=Le_Hoa --unit=so-y-te --employee-id=NUL4 --title=a%00b" \
	"unit show so-y-te%00" "cert list --login=binhtv%00"; do
	fields=()
	read -ra words <<<"$args"
	[[ ${words[0]} != whois ]] || words=(whois '' "${words[@]:1}")   # one-word command: empty verb
	for w in "${words[@]}"; do
		fields+=("$(hex "$w")")
	done
	ok "raw NUL: $args" python3 "$REPO/tests/tools/abuse.py" "$PROVD_SOCKET" raw "${fields[@]}"
	st=$(sed -n 's/^status=\([0-9]*\).*/\1/p' <<<"$OUT")
	ok "raw NUL refused (2, 6 or 9): $args (got $st)" test "$st" = 2 -o "$st" = 6 -o "$st" = 9
	lacks "raw NUL: nothing shown" "$OUT" "record "
done
eq "no account from a NUL" "$(ldap_root -b "$PEOPLE" '(|(employeeNumber=NUL1)(employeeNumber=NUL2)(employeeNumber=NUL3)(employeeNumber=NUL4))' 1.1 | grep -c '^dn:')" 0
ok "still serving after NULs" provctl ping

# --- the CSV path --------------------------------------------------------------
cat >"$T/inj.csv" <<'CSV'
employee_id,full_name,unit,title,phone
CSV1,"Ngô ""Văn"", (An) * \",so-noi-vu,"Trưởng phòng (A*B) \2a, x+y; <z>=#",0912345001
CSV2,Đinh Thị *)(uid=*,so-noi-vu,"a\,b=c+d",0912345002
CSV3,Mai Văn Long,so-noi-vu*,Cán bộ,0912345003
CSV4,"Lý Văn Hùng",so-noi-vu,"  khoảng trắng  ",0912345004
CSV
run provctl -f json batch import "$T/inj.csv" --credentials "$T/cred.csv"
batch_out=$OUT
diag "batch exit $RC"
ok "batch answered (0 or 8)" test "$RC" = 0 -o "$RC" = 8
check_row() {  # check_row ID NAME TITLE: created exactly, or reported rejected
	local id=$1 name=$2 title=$3 line login
	line=$(grep "\"employee_id\":\"$id\"" <<<"$batch_out" | head -n 1)
	if [[ $line == *'"action":"created"'* ]]; then
		login=$(ldap_root -b "$PEOPLE" -s one "(employeeNumber=$id)" uid | ldif_values uid)
		eq "CSV $id: name byte-exact" "$(attr_of "$login" cn)" "$name"
		eq "CSV $id: title byte-exact" "$(attr_of "$login" title)" "$title"
	else
		contains "CSV $id: rejected, with a reason" "$line" '"action":"rejected"'
		eq "CSV $id: nothing written" "$(ldap_root -b "$PEOPLE" "(employeeNumber=$id)" 1.1 | grep -c '^dn:')" 0
	fi
}
# shellcheck disable=SC1003
check_row CSV1 'Ngô "Văn", (An) * \' 'Trưởng phòng (A*B) \2a, x+y; <z>=#'
check_row CSV2 'Đinh Thị *)(uid=*' 'a\,b=c+d'
check_row CSV4 'Lý Văn Hùng' 'khoảng trắng'
line=$(grep '"employee_id":"CSV3"' <<<"$batch_out" | head -n 1)
contains "CSV: a unit code with * is rejected" "$line" '"action":"rejected"'

victim_after=$(ldap_root -b "$PEOPLE" -s one '(uid=binhtv)' '*' | grep -v -i '^userCertificate' | sort)
eq "the victim's entry is unchanged (but for its certificate)" "$victim_after" \
	"$(grep -v -i '^userCertificate' <<<"$victim_before")"

done_testing
