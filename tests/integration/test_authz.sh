#!/usr/bin/env bash
# test_authz — the authorization matrix, generated from the command table.
#
# Every command of `provctl --command-table` is run by real UNIX users (made
# here with useradd, removed at the end) holding each role over the whole
# province, each role scoped to one district (huyen-tam-dao), and no role,
# against a target inside the district and one outside it (so-tai-chinh).
# The expected status comes from the table's roles and scope alone:
#
#   no role of the command            5 (permission)
#   a province-wide role              the fixture's success status
#   a scoped role, scope none or ca   5
#   a scoped role, scope read         the fixture's success status
#   a scoped role, unit/account/cert  inside: success; outside: 5
#   a scoped role, scope each         inside: success; outside: the row or
#                                     entry is left (fixture's status)
#
# and every refusal leaves the directory and the published CRL exactly as
# they were (a dump before and after, entryCSN included).  A command in the
# table without a fixture here fails the test: a new command cannot skip it.
. "$(dirname "$0")/../lib.sh"

(($(id -u) == 0)) || skip_all "needs root (useradd for the role users)"
command -v useradd >/dev/null || skip_all "useradd not installed"

sandbox_up
DISTRICT=huyen-tam-dao
INSIDE_UNIT=xa-kim-phu-tam-dao          # a commune of the district
INSIDE_UNIT2=thi-tran-lien-hong-tam-dao
OUTSIDE_UNIT=so-tai-chinh
OUTSIDE_UNIT2=so-noi-vu

# --- users and groups -----------------------------------------------------------
P=pz$$                                  # unique prefix (this shell's pid): tests may run side by side
ROLES=(admin officer onboarder auditor)
IDENTITIES=()
GROUPS_MADE=()
remove_ids() {
	local x
	for x in "${IDENTITIES[@]}"; do userdel "$x" 2>/dev/null || true; done
	for x in "${GROUPS_MADE[@]}"; do groupdel "$x" || true; done
}
at_exit remove_ids
add_group() { groupadd "$1" && GROUPS_MADE+=("$1"); }
add_user() {   # add_user NAME [GROUP]
	local name=$1 group=${2:-}
	useradd -M -N -g "${P}sock" -s /usr/sbin/nologin ${group:+-G "$group"} "$name" &&
		IDENTITIES+=("$name")
}
add_group "${P}sock"
roles_conf=''
scoped_conf=''
for r in "${ROLES[@]}"; do
	add_group "$P$r"
	add_group "$P${r}s"
	add_user "$P$r" "$P$r"
	add_user "$P${r}s" "$P${r}s"
	roles_conf+="  $r = [ \"$P$r\" ];"$'\n'
	scoped_conf+="${scoped_conf:+,
    }{ group = \"$P${r}s\"; role = \"$r\"; unit = \"$DISTRICT\"; }"
done
add_user "${P}none"

# role and scope of an identity: "admin" / "admin scoped" / "" (none)
identity_role() {
	local id=${1#"$P"}
	case $id in
	none) printf '' ;;
	*s) printf '%s scoped' "${id%s}" ;;
	*) printf '%s' "$id" ;;
	esac
}

conf=$SANDBOX_DIR/provd.conf
python3 - "$conf" "${P}sock" "$roles_conf" "$scoped_conf" <<'EOF'
import re, sys
path, sock, roles, scoped = sys.argv[1:]
s = open(path).read()
s = re.sub(r'socket_group = "[^"]*";', 'socket_group = "%s";' % sock, s)
s = re.sub(r'roles = \{.*?\};', 'roles = {\n%s  scoped = ( %s );\n};' % (roles, scoped),
           s, flags=re.S)
open(path, 'w').write(s)
EOF
ok "provd restarts with the role groups" bash -c \
	"'$SANDBOX_TOOL' stop-provd '$SANDBOX_DIR' && '$SANDBOX_TOOL' start-provd '$SANDBOX_DIR' --provd '$BUILD/provd'"
eq "the socket belongs to the socket group" "$(stat -c %G "$PROVD_SOCKET")" "${P}sock"

# A scratch directory every test user can read and write.
W=$(mktemp -d /tmp/provd-authz.XXXXXX)
chmod 1777 "$W"
at_exit rm -rf "$W"

as() {   # as USER provctl ARGS...
	local user=$1
	shift
	runuser -u "$user" -- "$BUILD/provctl" -s "$PROVD_SOCKET" "$@"
}

# --- fixtures --------------------------------------------------------------------
ok "ca create (root)" provctl ca create --subject '/C=VN/O=UBND/CN=Authz Test CA' --key ec-p256 --days 365

n=0
next() { n=$((n + 1)); }
make_csr() {   # make_csr NAME -> $W/NAME.csr
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$W/$1.key" -subj "/CN=ignored" -out "$W/$1.csr" 2>/dev/null
	chmod 644 "$W/$1.csr"
}
new_account() {   # new_account UNIT -> login in $LOGIN
	local given
	next
	# Given names of letters only: the login is the given name + initials.
	given=$(printf 'T%s' "$(tr 0-9 a-j <<<"$n$P")")
	LOGIN=$(provctl -f tab user add --name "Phạm Văn $given" --unit "$1" \
		--employee-id "AZ$P$n" | awk -F'\t' 'NR == 2 { print $1 }')
	[[ -n $LOGIN ]] || diag "fixture: user add in $1 failed"
}
new_cert() {   # new_cert UNIT -> $LOGIN, $SERIAL
	new_account "$1"
	make_csr "c$n"
	SERIAL=$(provctl -f json cert issue "$LOGIN" --csr "$W/c$n.csr" |
		python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["serial"])')
}
new_unit() {   # new_unit KIND PARENT -> $UNIT
	next
	UNIT=az-$P-$n
	provctl unit add "$UNIT" --name "Đơn vị $n" --kind "$1" ${2:+--parent "$2"} >/dev/null ||
		diag "fixture: unit add $UNIT failed"
}
target_unit() { [[ $1 == in ]] && printf '%s' "$INSIDE_UNIT" || printf '%s' "$OUTSIDE_UNIT"; }
target_unit2() { [[ $1 == in ]] && printf '%s' "$INSIDE_UNIT2" || printf '%s' "$OUTSIDE_UNIT2"; }

new_account "$INSIDE_UNIT"; READ_IN=$LOGIN
new_account "$OUTSIDE_UNIT"; READ_OUT=$LOGIN
new_cert "$INSIDE_UNIT"; READ_SERIAL_IN=$SERIAL
new_cert "$OUTSIDE_UNIT"; READ_SERIAL_OUT=$SERIAL

# fixture COMMAND in|out: sets ARGS (after the command words) and OKST (the
# status when allowed), EACHST (scope each, outside: the status when the
# entry is left).  Returns 1 for a command it does not know.
fixture() {
	local cmd=$1 t=$2 u login
	u=$(target_unit "$t")
	OKST=0
	EACHST=0
	case $cmd in
	ping | status | "unit list" | "user list" | "cert list" | "ca show" | "crl show" | \
	"audit show" | "audit verify" | "report expiring" | "ocsp show" | "ocsp refresh")
		ARGS=() ;;
	whois | "user show")
		[[ $t == in ]] && ARGS=("$READ_IN") || ARGS=("$READ_OUT") ;;
	"unit show") ARGS=("$u") ;;
	"report units" | "report passwords") ARGS=(--unit "$u") ;;
	"cert show")
		[[ $t == in ]] && ARGS=("$READ_SERIAL_IN") || ARGS=("$READ_SERIAL_OUT") ;;
	"cert export-index") next; ARGS=("$W/index$n.txt") ;;
	"cert escrow-export")
		# Allowed, the certificate has no escrow copy (a key from a CSR).
		[[ $t == in ]] && ARGS=("$READ_SERIAL_IN") || ARGS=("$READ_SERIAL_OUT")
		OKST=3 ;;
	complete) ARGS=(units so-) ;;
	"unit add")
		next
		if [[ $t == in ]]; then
			ARGS=("az-$P-$n" --name "Xã Mới $n" --kind commune --parent "$DISTRICT")
		else
			ARGS=("az-$P-$n" --name "Sở Mới $n" --kind department)
		fi ;;
	"unit modify")
		if [[ $t == in ]]; then new_unit commune "$DISTRICT"; else new_unit department ''; fi
		ARGS=("$UNIT" --name "Tên mới $n") ;;
	"unit merge")
		if [[ $t == in ]]; then new_unit commune "$DISTRICT"; else new_unit department ''; fi
		local from=$UNIT
		if [[ $t == in ]]; then new_unit commune "$DISTRICT"; else new_unit department ''; fi
		ARGS=("$from" --into "$UNIT") ;;
	"unit remove")
		if [[ $t == in ]]; then new_unit commune "$DISTRICT"; else new_unit department ''; fi
		ARGS=("$UNIT") ;;
	"reorg plan" | "reorg apply")
		# A whole plan that changes nothing: the unit keeps its name.
		next
		printf 'reorg,authz-%s-%s\nrename,%s,Sở Nội vụ\n' "${P#pz}" "$n" "$OUTSIDE_UNIT2" \
			>"$W/r$n.csv"
		chmod 644 "$W/r$n.csv"
		ARGS=("$W/r$n.csv") ;;
	"reorg status") ARGS=() ;;         # after the reorg apply rows
	"user add")
		next
		ARGS=(--name "Lê Văn $(tr 0-9 a-j <<<"$n$P")" --unit "$u" --employee-id "AA$P$n") ;;
	"user modify") new_account "$u"; ARGS=("$LOGIN" --title "Chuyên viên") ;;
	"user move") new_account "$u"; ARGS=("$LOGIN" --unit "$(target_unit2 "$t")") ;;
	"user disable") new_account "$u"; ARGS=("$LOGIN" --reason "leave") ;;
	"user enable")
		new_account "$u"
		provctl user disable "$LOGIN" >/dev/null
		ARGS=("$LOGIN") ;;
	"user delete") new_account "$u"; ARGS=("$LOGIN") ;;
	"user purge")
		new_account "$u"
		provctl user delete "$LOGIN" >/dev/null
		printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: provdDeleteAfter\nprovdDeleteAfter: 20000101000000Z\n' \
			"$LOGIN" "$LDAP_BASE" | ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null
		ARGS=() ;;
	"user passwd") new_account "$u"; ARGS=("$LOGIN" --generate) ;;
	"alias add") new_account "$u"; ARGS=("$LOGIN" "bi-danh-$P-$n@vinhphuc.gov.vn") ;;
	"alias remove")
		new_account "$u"
		provctl alias add "$LOGIN" "bd-$P-$n@vinhphuc.gov.vn" >/dev/null
		ARGS=("$LOGIN" "bd-$P-$n@vinhphuc.gov.vn") ;;
	"batch import")
		next
		printf 'employee_id,full_name,unit\nBB%s%s,Trần Văn %s,%s\n' "$P" "$n" \
			"$(tr 0-9 a-j <<<"$n$P")" "$u" >"$W/b$n.csv"
		chmod 644 "$W/b$n.csv"
		ARGS=("$W/b$n.csv" --credentials "$W/cred$n.csv")
		EACHST=8 ;;
	"batch apply")
		next
		printf 'row,action,employee_id,full_name,unit,login\n2,create,BP%s%s,Trần Văn %s,%s,bp%s%s\n' \
			"$P" "$n" "$(tr 0-9 a-j <<<"$n$P")" "$u" "$(tr A-Z a-z <<<"$P")" "$n" >"$W/p$n.csv"
		chmod 644 "$W/p$n.csv"
		ARGS=("$W/p$n.csv" --credentials "$W/pcred$n.csv")
		EACHST=8 ;;
	"ca create")
		ARGS=(--subject '/CN=Second' --key ec-p256 --days 10)
		OKST=4 ;;                       # allowed, but the CA exists
	"ca rollover")
		# Allowed, then refused for its --days (out of range: a usage
		# error, checked after the role): the CA stays as it is for the
		# commands after it.
		ARGS=(--subject '/CN=Next' --key ec-p256 --days 0)
		OKST=2 ;;
	"ca import")
		ARGS=(--cert "$W/ca.pem" --key /nonexistent/ca.key)
		OKST=4 ;;
	"cert issue") new_account "$u"; make_csr "i$n"; ARGS=("$LOGIN" --csr "$W/i$n.csr") ;;
	"cert revoke") new_cert "$u"; ARGS=("$SERIAL" --reason superseded) ;;
	"cert renew")
		# One certificate; a scoped officer's renewal outside the scope
		# is refused before anything is written.
		new_cert "$u"; ARGS=("$SERIAL"); EACHST=5 ;;
	"cert release")
		new_cert "$u"
		provctl cert revoke "$SERIAL" --reason certificateHold >/dev/null
		ARGS=("$SERIAL") ;;
	"crl publish") ARGS=() ;;
	check) ARGS=() ;;                   # without --fix: reads, reports
	*) return 1 ;;
	esac
	return 0
}

# A status change's CRL publish answers once the CRL is out; the pending
# markers it applied are removed after that, in the background (crl.c, R4).
# A dump taken while a removal is in flight would see the marker go: the
# comparisons wait for the markers to settle first (a marker that stays,
# e.g. one a racing release kept, is compared like any other attribute).
no_markers() {
	[[ -z $(ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=certificates,ou=pki,$LDAP_BASE" \
		-s one '(provdCertPending=*)' 1.1 2>/dev/null) ]]
}
settle_markers() {
	within 30 no_markers || diag "pending markers still there after 30 s"
}

dump() {
	ldapsearch -LLL -o ldif-wrap=no -Q -Y EXTERNAL -H "$LDAPI_URI" -b "$LDAP_BASE" \
		'(objectClass=*)' '*' entryCSN 2>&1 | sort
	sha256sum "$SANDBOX_DIR/state/crl/ca.crl" 2>/dev/null
}

# --- the matrix -----------------------------------------------------------------
install -m 644 "$SANDBOX_DIR/state/ca/ca.pem" "$W/ca.pem"
table=$("$BUILD/provctl" --command-table)
ok "the command table lists commands" test "$(grep -c . <<<"$table")" -ge 30
runs=0
refusals=0
while IFS=$'\t' read -r cmd roles scope _unitarg _rw _required; do
	read -ra words <<<"$cmd"
	for id in "${IDENTITIES[@]}"; do
		role=$(identity_role "$id")
		for t in in out; do
			if ! fixture "$cmd" "$t"; then
				_t_result 0 "$cmd: no fixture in test_authz.sh (add one for the new command)"
				break 2
			fi
			# expected status
			want=$OKST
			if [[ -z $role ]] || [[ ",$roles," != *",${role%% *},"* ]]; then
				want=5
			elif [[ $role == *scoped ]]; then
				case $scope in
				none | ca) want=5 ;;
				read) ;;
				unit | account | cert) [[ $t == in ]] || want=5 ;;
				each) [[ $t == in ]] || want=$EACHST ;;
				*) want=unknown-scope-$scope ;;
				esac
			fi
			compare=0
			[[ $want != 5 ]] || compare=1
			[[ $scope != each || $t != out || $role != *scoped ]] || compare=1
			if ((compare)); then
				settle_markers
				before=$(dump)
			fi
			fails "${role:-no role} ($id) $cmd ${ARGS[*]:0:1} [$t]: status $want" \
				"$want" as "$id" "${words[@]}" "${ARGS[@]}"
			runs=$((runs + 1))
			if ((compare)); then
				refusals=$((refusals + 1))
				after=$(dump)
				if [[ $before == "$after" ]]; then
					_t_result 1 "  ... and the directory and CRL are unchanged"
				else
					_t_result 0 "  ... and the directory and CRL are unchanged"
					diag "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -20)"
				fi
			fi
			# Read-only commands without a target need one run per identity.
			[[ $scope != read && $scope != none && $scope != ca ]] || [[ $cmd == whois ||
				$cmd == "user show" || $cmd == "unit show" || $cmd == "cert show" ||
				$cmd == "report units" || $cmd == "report passwords" ||
				$cmd == "cert escrow-export" ]] || break
		done
	done
done <<<"$table"
diag "matrix: $runs runs, $refusals compared dumps"

# Commands that check each entry may have none to check.
ok "scoped admin: user purge with nothing to purge" as "${P}admins" user purge
printf 'employee_id,full_name,unit\n' >"$W/empty.csv"
chmod 644 "$W/empty.csv"
ok "scoped onboarder: a batch without rows" as "${P}onboarders" batch import "$W/empty.csv" \
	--credentials "$W/empty-cred.csv"
ok "provd still answers" provctl ping
ok "the matrix ran" test "$runs" -ge 200

done_testing
