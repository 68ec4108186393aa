#!/usr/bin/env bash
# Unit primitives of a reorganisation: unit merge (staff and sub-units move,
# the merged units' addresses are kept on the unit they became, their
# certificates follow the account<->certificate rule), unit remove (refused
# while a unit has staff, sub-units or kept addresses), the ward kind, and
# the address policy treating a kept unit address like a unit's own.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sandbox_up
B=$LDAP_BASE
P=ou=people,$B
TMP=$(mktemp -d /tmp/provd-merge.XXXXXX)
at_exit rm -rf -- "$TMP"
D=vinhphuc.gov.vn

attr_of() { ldap_root -b "uid=$1,$P" -s base "$2" | ldif_values "$2"; }
unit_attr() { ldap_root -b "ou=$1,ou=units,$B" -s base "$2" | ldif_values "$2"; }

ok "ca" provctl ca create --subject '/C=VN/O=UBND/CN=Merge Test CA' --key ec-p256 --days 365
ok "a district" provctl unit add huyen-moi --name 'Huyện Mới' --kind district
ok "commune A" provctl unit add xa-a --name 'Xã A' --kind commune --parent huyen-moi
ok "commune B" provctl unit add xa-b --name 'Xã B' --kind commune --parent huyen-moi
ok "a village below B" provctl unit add thon-b1 --name 'Thôn B1' --kind commune --parent xa-b
ok "the new commune, a ward" provctl unit add phuong-ab --name 'Phường AB' --kind ward --parent huyen-moi
eq "ward is a kind" "$(unit_attr phuong-ab provdUnitKind)" ward
fails "an unknown kind" 2 provctl unit add xa-c --name 'Xã C' --kind hamlet

ok "staff of A" provctl user add --name 'Nguyễn Văn An' --unit xa-a --employee-id UM001
ok "staff of A (2)" provctl user add --name 'Trần Thị Bình' --unit xa-a --employee-id UM002
ok "staff of B" provctl user add --name 'Lê Văn Cường' --unit xa-b --employee-id UM003
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/k" \
	-subj /CN=x -out "$TMP/r.csr" 2>/dev/null
ok "a certificate for annv" provctl -f json cert issue annv --csr "$TMP/r.csr"
SERIAL=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])' <<<"$OUT")

fails "merge into a unit that does not exist" 3 provctl unit merge xa-a --into xa-khong-co
fails "merge a unit into itself" 4 provctl unit merge xa-a phuong-ab --into phuong-ab
fails "merge a parent into its own commune" 4 provctl unit merge huyen-moi --into xa-a
fails "merge an unknown unit" 3 provctl unit merge xa-a xa-khong-co --into phuong-ab

ok "dry run" provctl -f json unit merge xa-a xa-b --into phuong-ab --dry-run
contains "dry run: two accounts from A" "$OUT" '"unit":"xa-a","into":"phuong-ab","accounts":2'
contains "dry run: one sub-unit of B" "$OUT" '"unit":"xa-b","into":"phuong-ab","accounts":1,"sub_units":1'
eq "dry run changed nothing" "$(attr_of annv departmentNumber)" xa-a

ok "merge A and B into AB" provctl -f json unit merge xa-a xa-b --into phuong-ab
contains "the certificate holder is listed" "$OUT" '"login":"annv"'
eq "annv moved" "$(attr_of annv departmentNumber)" phuong-ab
eq "its unit name followed" "$(attr_of annv ou)" "Phường AB"
eq "cuonglv moved" "$(attr_of cuonglv departmentNumber)" phuong-ab
eq "the sub-unit of B has the new parent" "$(unit_attr thon-b1 provdUnitParent)" phuong-ab
fails "A's entry is gone" 32 ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=xa-a,ou=units,$B" -s base
eq "AB keeps both addresses" "$(unit_attr phuong-ab provdUnitAlias | sort | tr '\n' ' ')" "xa-a xa-b "
ok "the certificate" provctl -f json cert show "$SERIAL"
contains "was revoked for the changed affiliation" "$OUT" affiliationChanged
ok "unit list no longer has A" provctl -f tab unit list
lacks "... A" "$OUT" $'\nxa-a\t'

before=$(ldap_root -b "$B" '(|(objectClass=provdUnit)(objectClass=inetOrgPerson))' '*' entryCSN)
ok "merge again converges" provctl unit merge xa-a xa-b --into phuong-ab
eq "... and writes nothing" "$(ldap_root -b "$B" '(|(objectClass=provdUnit)(objectClass=inetOrgPerson))' '*' entryCSN)" "$before"

# The address policy: the old unit addresses stay the unit's.
fails "an alias that was A's unit address" 6 provctl alias add annv "xa-a@$D"
contains "... named as kept for A" "$ERR" "merged into it"
fails "a new unit with A's code" 4 provctl unit add xa-a --name 'Xã A' --kind commune --parent huyen-moi

# A merge of a unit that kept addresses itself passes them on.
ok "commune E" provctl unit add xa-e --name 'Xã E' --kind commune --parent huyen-moi
ok "AB into E" provctl unit merge phuong-ab --into xa-e
eq "E keeps AB's addresses and AB's own" "$(unit_attr xa-e provdUnitAlias | sort | tr '\n' ' ')" \
	"phuong-ab xa-a xa-b "

# unit remove
ok "commune F" provctl unit add xa-f --name 'Xã F' --kind commune --parent huyen-moi
ok "staff of F" provctl user add --name 'Đỗ Văn Hùng' --unit xa-f --employee-id UM004
fails "remove a unit with staff" 4 provctl unit remove xa-f
contains "... says why" "$ERR" "1 account"
fails "remove a unit that keeps addresses" 4 provctl unit remove xa-e
fails "remove a unit with sub-units" 4 provctl unit remove huyen-moi
contains "... says why" "$ERR" "sub-unit"
ok "an empty commune" provctl unit add xa-rong --name 'Xã Rỗng' --kind commune --parent huyen-moi
ok "remove --dry-run" provctl unit remove xa-rong --dry-run
ok "... still there" ldap_root -b "ou=xa-rong,ou=units,$B" -s base
ok "remove it" provctl unit remove xa-rong
fails "... gone" 32 ldapsearch -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=xa-rong,ou=units,$B" -s base
fails "remove an unknown unit" 3 provctl unit remove xa-rong
ok "a deleted account still counts" provctl user add --name 'Vũ Văn Giang' --unit thon-b1 --employee-id UM009
ok "... delete it" provctl user delete giangvv --yes
fails "remove a unit whose staff is deleted but not purged" 4 provctl unit remove thon-b1
ok "audited" provctl -f json audit show
contains "... the merge with its units" "$OUT" "unit=xa-a,xa-b into=phuong-ab"

done_testing
