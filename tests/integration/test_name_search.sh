#!/usr/bin/env bash
# Name search as people search: user list --name and whois match any word
# of the name, with or without diacritics (provdNameWords, written by
# provd, indexed), whole words ranked first; user modify --name keeps the
# words in step; entries written before the attribute existed get it when
# provd starts.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
add() { provctl user add --name "$1" --unit so-tai-chinh --employee-id "$2" >/dev/null; }
logins() { provctl -f tab -o login user list --name "$1" | tail -n +2 | tr '\n' ' '; }
words_of() {
	ldap_root -b "uid=$1,ou=people,$LDAP_BASE" -s base provdNameWords |
		ldif_values provdNameWords | sort | tr '\n' ' '
}

add 'Nguyễn Văn An' NV1       # annv
add 'Trần Văn Anh' NV2        # anhtv
add 'Đặng Thị Thu Hà' NV3     # hadtt
add 'Lê Anh Tuấn' NV4         # tuanla
add 'Nguyễn Thị Vân' NV5      # vannt

eq "provd writes the folded words" "$(words_of annv)" "an nguyen van "
eq "đ folds to d" "$(words_of hadtt)" "dang ha thi thu "

eq "without diacritics (both hold both words)" "$(logins 'nguyen van')" "annv vannt "
eq "a later part of the name; An before Anh" "$(logins 'Văn An')" "annv anhtv "
eq "given name alone, diacritics optional" "$(logins 'ha')" "hadtt "
eq "đ typed as d" "$(logins 'dang thu')" "hadtt "
eq "words in any order" "$(logins 'an nguyen')" "annv "
eq "whole words first, then prefixes" "$(logins 'an')" "annv anhtv tuanla "
eq "van: whole word, any position" "$(logins 'vân')" "annv anhtv vannt "
eq "with diacritics" "$(logins 'Nguyễn Văn')" "annv vannt "
eq "no match" "$(logins 'xyz')" ""
fails "nothing to search for" 6 provctl user list --name '--'

ok "whois by name" provctl -f tab -o login whois 'van an'
contains "whois finds annv" "$OUT" "annv"
ok "whois by name without diacritics" provctl -f json whois 'dang thi thu ha'
contains "whois finds hadtt" "$OUT" '"login":"hadtt"'

ok "user modify --name" provctl user modify tuanla --name 'Lê Minh Tuấn'
eq "the words follow" "$(words_of tuanla)" "le minh tuan "
eq "found by the new name" "$(logins 'minh')" "tuanla "

# An entry from before provdNameWords: provd fills it in at start.
printf 'dn: uid=annv,ou=people,%s\nchangetype: modify\ndelete: provdNameWords\n' "$LDAP_BASE" |
	ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
eq "words removed" "$(words_of annv)" ""
ok "provd stopped" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
ok "provd started" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR"
for _ in $(seq 300); do [[ -n $(words_of annv) ]] && break; sleep 0.1; done
eq "provd wrote them again at start" "$(words_of annv)" "an nguyen van "
ok "and logged it" within 30 grep -q "provdNameWords written on 1 account" "$SANDBOX_DIR/provd.log"

done_testing
