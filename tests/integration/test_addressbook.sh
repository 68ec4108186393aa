#!/usr/bin/env bash
# The address-book identity (cn=addressbook,ou=services): a mail client
# bound as it finds a colleague by address or name and reads mail, cn and
# userCertificate;binary -- and nothing else: no other attribute, no
# password, no certificate records, no service entries.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
T=$(mktemp -d /tmp/provd-book.XXXXXX)
at_exit rm -rf "$T"
(umask 077 && cat "$SANDBOX_DIR/addressbook.secret" >"$T/secret")
book() {
	ldapsearch -x -H "$LDAP_URI" -D "$LDAP_ADDRBOOK_DN" -y "$T/secret" -LLL \
		-o ldif-wrap=no "$@"
}
# Attribute names in LDIF on stdin, one per line, sorted, without dn.
attr_names() { grep -o '^[A-Za-z;]*:' | tr -d ':' | grep -v '^dn$' | sort -u; }

ok "ca create" provctl ca create --subject '/CN=Book CA' --key ec-p256 --days 30
ok "user add" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh \
	--employee-id NV1 --title 'Chuyên viên' --phone 0912345678
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k" \
	-subj /CN=x -out "$T/csr" 2>/dev/null
ok "cert issue" provctl cert issue annv --csr "$T/csr"
ok "the sandbox has the address-book identity" test -s "$SANDBOX_DIR/addressbook.secret"
contains "and exports its DN" "$LDAP_ADDRBOOK_DN" "cn=addressbook,ou=services,"

people=ou=people,$LDAP_BASE
ok "by address, every attribute asked for" book -b "$people" '(mail=annv@vinhphuc.gov.vn)' '*' '+'
eq "sees exactly mail, cn and userCertificate;binary" "$(attr_names <<<"$OUT")" \
	"$(printf '%s\n' cn mail 'userCertificate;binary' | sort)"
ok "the certificate is the one issued" bash -c \
	"grep '^userCertificate;binary::' <<<\"\$1\" | cut -d' ' -f2 | base64 -d |
	 openssl x509 -inform DER -noout -subject" _ "$OUT"
ok "by name" book -b "ou=people,$LDAP_BASE" '(cn=*Văn An*)' mail
contains "found by cn" "$OUT" "mail: annv@vinhphuc.gov.vn"

ok "by login" book -b "$people" '(uid=annv)' mail
eq "uid is not searchable for it" "$OUT" ""
ok "by phone" book -b "$people" '(telephoneNumber=0912345678)' mail
eq "nor the phone" "$OUT" ""
# Outside ou=people it is as if nothing existed (noSuchObject).
fails "no certificate records" 32 book -b "ou=pki,$LDAP_BASE" '(objectClass=*)'
fails "no service entries" 32 book -b "ou=services,$LDAP_BASE" '(objectClass=*)'
fails "no units" 32 book -b "ou=units,$LDAP_BASE" '(objectClass=*)'
fails "nor the base" 32 book -b "$LDAP_BASE" -s one '(objectClass=*)'
ok "the mail identity still reads the account" ldap_mail -b "$LDAP_BASE" '(uid=annv)' \
	title telephoneNumber
contains "mail identity: title" "$OUT" "title:"
fails "anonymous sees nothing" any bash -c "ldapsearch -x -H '$LDAP_URI' -LLL \
	-b 'ou=people,$LDAP_BASE' '(mail=*)' mail | grep -q mail:"

done_testing
