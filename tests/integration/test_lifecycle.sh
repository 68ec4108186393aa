#!/usr/bin/env bash
# What the records and the CRL say after each path of the account
# lifecycle (disable, enable, delete of a valid and of a held certificate,
# move, purge) and each revocation reason: every record's status and
# reason, and the CRL decoded by hand (tests/tools/crldump.py) — its number
# equal to the one provd reports, thisUpdate now, nextUpdate exactly
# crl_days later, and exactly the held and revoked serials, each with the
# reason code RFC 5280 gives its reason.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-life.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
CRL_DER=$SANDBOX_DIR/state/crl/ca.crl
CRL_DAYS=$(sed -n 's/^ *crl_days *= *\([0-9]*\);.*/\1/p' "$SANDBOX_DIR/provd.conf")
# RFC 5280 CRLReason codes.
declare -A CODE=([keyCompromise]=1 [affiliationChanged]=3 [superseded]=4
	[cessationOfOperation]=5 [certificateHold]=6 [privilegeWithdrawn]=9)

issue() { # issue LOGIN: a certificate for LOGIN; prints its serial (hex, lower case, no leading zeros)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
		-subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null || return 1
	"$BUILD/provctl" cert issue "$1" --csr "$T/$1.csr" >"$T/$1.pem" || return 1
	openssl x509 -in "$T/$1.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'
}
record_is() { # record_is NAME SERIAL STATUS REASON: the certificate record says so
	local name=$1 serial=$2 status=$3 reason=$4
	ok "$name: cert show" provctl -f json cert show "$serial"
	contains "$name: status $status" "$OUT" "\"status\":\"$status\""
	if [[ -n $reason ]]; then
		contains "$name: reason $reason" "$OUT" "\"reason\":\"$reason\""
	else
		lacks "$name: no reason" "$OUT" '"reason":"'"[a-zA-Z]"
	fi
}
# crl_is NAME "SERIAL:REASON ...": the CRL file, decoded, lists exactly
# these entries; its number is the one provd reports; its times are right.
crl_is() {
	local name=$1 want=$2 got number this next now next_num
	if ! python3 "$REPO/tests/tools/crldump.py" "$CRL_DER" >"$T/crl.dump"; then
		ok "$name: the CRL decodes" false
		return
	fi
	got=$(awk '$1 == "entry" { print $2 ":" $3 }' "$T/crl.dump" | sort | tr '\n' ' ')
	want=$(tr ' ' '\n' <<<"$want" | sed '/^$/d' | sort | tr '\n' ' ')
	eq "$name: CRL entries (serial:reason code)" "$got" "$want"
	number=$(awk '$1 == "number" { print $2 }' "$T/crl.dump")
	this=$(awk '$1 == "this_update" { print $2 }' "$T/crl.dump")
	next=$(awk '$1 == "next_update" { print $2 }' "$T/crl.dump")
	now=$(date +%s)
	ok "$name: ca show" provctl -f json ca show
	[[ $OUT =~ \"next_crl_number\":([0-9]+) ]] && next_num=${BASH_REMATCH[1]} || next_num=x
	eq "$name: the CRL number is the last one provd published" "$((number + 1))" "$next_num"
	ok "$name: thisUpdate is now (within 5 minutes)" test $((now - this)) -ge 0 -a $((now - this)) -le 300
	eq "$name: nextUpdate - thisUpdate is crl_days ($CRL_DAYS) days" "$((next - this))" "$((CRL_DAYS * 86400))"
	ok "$name: the directory holds the same CRL" bash -c \
		'"$1/provctl" crl show | openssl crl -outform DER | cmp - "$2"' _ "$BUILD" "$CRL_DER"
}

ok "ca create" provctl ca create --subject '/C=VN/O=UBND tỉnh Vĩnh Phúc/CN=Vinh Phuc Staff CA' --key ec-p256 --days 3650
for who in 'Nguyễn Văn An:so-tai-chinh:NV0001' 'Trần Thị Bình:so-tai-chinh:NV0002' \
	'Lê Văn Cường:so-tai-chinh:NV0003' 'Phạm Văn Dũng:so-tai-chinh:NV0004' \
	'Hoàng Văn Em:so-tai-chinh:NV0005'; do
	IFS=: read -r n u e <<<"$who"
	ok "add $n" provctl user add --name "$n" --unit "$u" --employee-id "$e"
done
a=$(issue annv) b=$(issue binhtt) c=$(issue cuonglv) d=$(issue dungpv)
e1=$(issue emhv) e2=$(issue emhv) e3=$(issue emhv) e4=$(issue emhv)
for s in "$a" "$b" "$c" "$d" "$e1" "$e2" "$e3" "$e4"; do
	ok "issued $s" test -n "$s"
done
ok "crl publish" provctl -f json crl publish
[[ $OUT =~ \"crl_number\":([0-9]+) ]] && reported=${BASH_REMATCH[1]} || reported=x
eq "the CRL file carries the number crl publish reported" \
	"$(python3 "$REPO/tests/tools/crldump.py" "$CRL_DER" | awk '$1 == "number" { print $2 }')" "$reported"
crl_is "nothing revoked" ""
record_is "fresh" "$a" valid ""

# --- revocation reasons by code -------------------------------------------------------
ok "revoke e1 keyCompromise" provctl -f json cert revoke "$e1" --reason keyCompromise
[[ $OUT =~ \"crl_number\":([0-9]+) ]] && reported=${BASH_REMATCH[1]} || reported=x
eq "cert revoke reports the CRL it published" \
	"$(python3 "$REPO/tests/tools/crldump.py" "$CRL_DER" | awk '$1 == "number" { print $2 }')" "$reported"
ok "revoke e2 superseded" provctl cert revoke "$e2" --reason superseded
ok "revoke e3 privilegeWithdrawn" provctl cert revoke "$e3" --reason privilegeWithdrawn
ok "hold e4" provctl cert revoke "$e4" --reason certificateHold
record_is "e1" "$e1" revoked keyCompromise
record_is "e2" "$e2" revoked superseded
record_is "e3" "$e3" revoked privilegeWithdrawn
record_is "e4" "$e4" hold certificateHold
crl_is "four revocations" "$e1:1 $e2:4 $e3:9 $e4:6"
ok "release e4" provctl cert release "$e4"
record_is "e4 released" "$e4" valid ""
crl_is "released e4 is off the CRL" "$e1:1 $e2:4 $e3:9"

# --- the account lifecycle ------------------------------------------------------------
ok "disable annv" provctl user disable annv
record_is "annv disabled" "$a" hold certificateHold
ok "enable annv" provctl user enable annv
record_is "annv enabled" "$a" valid ""
ok "disable binhtt" provctl user disable binhtt
record_is "binhtt disabled" "$b" hold certificateHold
crl_is "held for a disabled account" "$e1:1 $e2:4 $e3:9 $b:6"
ok "delete binhtt (its certificate on hold)" provctl user delete binhtt
# Deleted: on hold for the retention (user enable undoes it whole);
# revoked only when the account is purged.
record_is "binhtt deleted" "$b" hold certificateHold
ok "delete cuonglv (its certificate valid)" provctl user delete cuonglv
record_is "cuonglv deleted" "$c" hold certificateHold
ok "move dungpv" provctl user move dungpv --unit so-y-te
record_is "dungpv moved" "$d" revoked affiliationChanged
crl_is "after delete and move" "$e1:1 $e2:4 $e3:9 $b:6 $c:6 $d:3"

# Purged: the account goes, its certificate records and CRL entries stay.
ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" >/dev/null <<EOF
dn: uid=binhtt,ou=people,$LDAP_BASE
changetype: modify
replace: provdDeleteAfter
provdDeleteAfter: 20200101000000Z
EOF
ok "purge" provctl -f json user purge
contains "binhtt purged" "$OUT" '"login":"binhtt"'
fails "binhtt is gone" 3 provctl user show binhtt
record_is "binhtt purged" "$b" revoked cessationOfOperation
ok "crl publish after the purge" provctl crl publish
crl_is "after the purge" "$e1:1 $e2:4 $e3:9 $b:5 $c:6 $d:3"

# Reason names by code: the names provd accepts are the RFC 5280 ones.
for r in "${!CODE[@]}"; do
	s=$(issue annv)
	ok "revoke with $r" provctl cert revoke "$s" --reason "$r"
	python3 "$REPO/tests/tools/crldump.py" "$CRL_DER" >"$T/crl.dump"
	eq "$r is code ${CODE[$r]} in the CRL" "$(awk -v s="$s" '$1 == "entry" && $2 == s { print $3 }' "$T/crl.dump")" "${CODE[$r]}"
done

done_testing
