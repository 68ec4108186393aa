#!/usr/bin/env bash
# test_address — the one address policy, on every path that gives an
# account an address: user add --alias, alias add, the batch mail and
# aliases columns, and an explicit login (its mail is login@domain).
# Each case is refused on each path, with status 6 (policy) or 4 (taken)
# and a message naming the rule, and the address is stored nowhere.
# Then uniqueness under concurrency: six parallel alias adds of one
# address, and an alias add racing a user add --alias, give it to exactly
# one account.
. "$(dirname "$0")/../lib.sh"

sandbox_up
D=vinhphuc.gov.vn
T=$(mktemp -d /tmp/provd-addr.XXXXXX)
at_exit rm -rf "$T"

# A configured reserved name besides the built-in ones.
sed -i 's/^\(  retention_days = .*\)$/\1\n  reserved = [ "Info" ];/' "$SANDBOX_DIR/provd.conf"
ok "provd reloads the edited configuration" reload_provd

ok "annv" provctl user add --name 'Nguyễn Văn An' --unit so-tai-chinh --employee-id NV0001
ok "binhtt" provctl user add --name 'Trần Thị Bình' --unit so-noi-vu --employee-id NV0002
ok "an alias of annv" provctl alias add annv an.nguyen@$D

holders() {   # holders ADDR: accounts holding ADDR as mail or alias
	ldapsearch -LLL -Q -Y EXTERNAL -H "$LDAPI_URI" -b "ou=people,$LDAP_BASE" \
		"(|(mail=$1)(mailLocalAddress=$1))" uid | grep -c '^uid:'
}

# case NAME ADDRESS STATUS RULE-TEXT
cases=(
	"foreign domain|ceo@gmail.com|6|outside the mail domain"
	"look-alike domain|ceo@evil$D|6|outside the mail domain"
	"subdomain|an@sotaichinh.$D|6|outside the mail domain"
	"upper-case subdomain|AN@SoTaiChinh.VinhPhuc.gov.vn|6|outside the mail domain"
	"postmaster|postmaster@$D|6|reserved address"
	"abuse|abuse@$D|6|reserved address"
	"hostmaster|hostmaster@$D|6|reserved address"
	"webmaster|webmaster@$D|6|reserved address"
	"root in capitals|ROOT@$D|6|reserved address"
	"mailer-daemon|Mailer-Daemon@$D|6|reserved address"
	"noreply|noreply@$D|6|reserved address"
	"configured reserved name|info@$D|6|reserved address"
	"subaddress of postmaster|postmaster+x@$D|6|subaddress"
	"unit address|so-tai-chinh@$D|6|address of the unit"
	"district address in capitals|HUYEN-TAM-DAO@VINHPHUC.GOV.VN|6|address of the unit"
	"someone's mail|annv@$D|4|already used"
	"someone's mail in capitals|AnNV@VinhPhuc.Gov.VN|4|already used"
	"someone's alias|an.nguyen@$D|4|already used"
	"Unicode local part|ánnv@$D|6|not a mail address"
	"full-width letters|ｐｏｓｔｍａｓｔｅｒ@$D|6|not a mail address"
	"IDN domain|an@vĩnhphúc.gov.vn|6|not a mail address"
	"IDN domain, A-label|an@xn--vnhphc-5ya4f.gov.vn|6|outside the mail domain"
)

n=0
for c in "${cases[@]}"; do
	IFS='|' read -r name addr want rule <<<"$c"
	low=$(tr 'A-Z' 'a-z' <<<"$addr")
	before=$(holders "$low")
	n=$((n + 1))

	fails "user add --alias, $name" "$want" provctl user add --name "Lê Văn Cường" \
		--unit so-y-te --employee-id "AD$n" --alias "$addr"
	contains "  ... names the rule" "$ERR" "$rule"

	fails "alias add, $name" "$want" provctl alias add binhtt "$addr"
	contains "  ... names the rule" "$ERR" "$rule"

	printf 'employee_id,full_name,unit,mail,aliases\nBM%s,Đỗ Văn Dũng,so-y-te,%s,\nBA%s,Đỗ Văn Em,so-y-te,,%s\n' \
		"$n" "$addr" "$n" "$addr" >"$T/b$n.csv"
	fails "batch mail and aliases columns, $name" 8 provctl -f json batch import "$T/b$n.csv" \
		--credentials "$T/cred$n.csv"
	eq "  ... both rows rejected" "$(grep -c '"action":"rejected"' <<<"$OUT")" 2
	eq "  ... each naming the rule" "$(grep -c -F "$rule" <<<"$OUT")" 2

	eq "  ... $addr is held by no one more" "$(holders "$low")" "$before"
done

fails "explicit login root (its mail would be root@)" 6 provctl user add --name 'Phạm Văn Giang' \
	--unit so-y-te --employee-id LG1 --login root
contains "  ... names the rule" "$ERR" "reserved address"
fails "explicit login equal to a configured reserved name" 6 provctl user add \
	--name 'Phạm Văn Giang' --unit so-y-te --employee-id LG2 --login info
ok "an ordinary alias still passes, folded to lower case" provctl alias add binhtt Binh.Tran@VinhPhuc.gov.vn
eq "  ... stored lower case" "$(holders binh.tran@$D)" 1

# --- a unit's address is never a person's, whichever comes first -------------------------
ok "an alias that is not a unit address (yet)" provctl alias add binhtt xa-cu-tam-dao@$D
fails "unit add of a code whose address binhtt holds" 4 provctl unit add xa-cu-tam-dao \
	--name 'Xã Cũ' --kind commune --parent huyen-tam-dao
contains "  ... naming the holder" "$ERR" "'binhtt'"
fails "  ... and no unit was made" 3 provctl unit show xa-cu-tam-dao
ok "a unit whose address is free" provctl unit add xa-moi-tam-dao --name 'Xã Mới' \
	--kind commune --parent huyen-tam-dao
fails "  ... then its address cannot be an alias" 6 provctl alias add binhtt xa-moi-tam-dao@$D

# --- taken by a request in flight ------------------------------------------------
logins=()
for i in 1 2 3 4 5 6; do
	ok "account $i for the race" provctl -f tab user add --name "Vũ Văn Hùng" --unit so-y-te \
		--employee-id "RC$i"
	logins+=("$(awk -F'\t' 'NR == 2 { print $1 }' <<<"$OUT")")
done
for round in 1 2 3; do
	addr="chung$round@$D"
	pids=()
	for l in "${logins[@]}"; do
		"$BUILD/provctl" alias add "$l" "$addr" >"$T/race$round.$l.out" 2>&1 &
		pids+=($!)
	done
	won=0 lost=0 other=0
	for p in "${pids[@]}"; do
		rc=0
		wait "$p" || rc=$?
		case $rc in 0) won=$((won + 1)) ;; 4) lost=$((lost + 1)) ;; *) other=$((other + 1)) ;; esac
	done
	eq "round $round: six parallel alias adds of $addr: one wins" "$won" 1
	eq "round $round: the five others are refused as taken (4)" "$lost/$other" "5/0"
	eq "round $round: exactly one account holds $addr" "$(holders "$addr")" 1
done
# alias add racing user add --alias of one address, several rounds
for round in 1 2 3 4 5; do
	addr="dua$round@$D"
	"$BUILD/provctl" alias add "${logins[0]}" "$addr" >/dev/null 2>&1 &
	p1=$!
	"$BUILD/provctl" user add --name "Vũ Thị Lan" --unit so-y-te --employee-id "UA$round" \
		--alias "$addr" >/dev/null 2>&1 &
	p2=$!
	wait "$p1" || true
	wait "$p2" || true
	eq "round $round: alias add and user add --alias of $addr: one holder" "$(holders "$addr")" 1
done
ok "whois of a raced address answers" provctl whois chung1@$D

done_testing
