#!/usr/bin/env bash
# Destructive commands preview: --dry-run on user delete, purge, move,
# disable and unit modify prints what would change, certificates included,
# and changes nothing; on a terminal (a pseudo-terminal through script(1))
# they show that preview and ask, unless --yes; without a terminal they run
# as before.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null || skip_all "script(1) is not installed"
T=$(mktemp -d /tmp/provd-preview.XXXXXX)
at_exit rm -rf "$T"
sandbox_up

# Run "$@" on a pseudo-terminal, typing $ANSWER; transcript in $OUT.
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	RC=$( (printf '%s\n' "${ANSWER-}"; sleep 2) | script -qefc "$cmd" /dev/null \
		>"$T/tty.out"; echo "${PIPESTATUS[1]}")
	OUT=$(tr -d '\r' <"$T/tty.out")
}
cert_status() { provctl -f tab -o status cert show "$1" | sed -n 2p; }
unit_of() { provctl -f tab -o unit user show "$1" | sed -n 2p; }
status_of() { provctl -f tab -o status user show "$1" | sed -n 2p; }

ok "ca create" provctl ca create --subject '/CN=Preview CA' --key ec-p256 --days 30
for who in 'Nguyễn Văn An:NV1' 'Trần Thị Bình:NV2' 'Lê Văn Cường:NV3'; do
	provctl user add --name "${who%%:*}" --unit so-tai-chinh --employee-id "${who##*:}" >/dev/null
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k" \
	-subj /CN=x -out "$T/csr" 2>/dev/null
serial=$(provctl cert issue annv --csr "$T/csr" >/dev/null &&
	provctl -f tab -o serial cert list --login annv | sed -n 2p)
ok "a certificate for annv" test -n "$serial"

# --- --dry-run: what would change, nothing changed --------------------------
ok "move --dry-run" provctl user move annv --unit so-noi-vu --dry-run
contains "names the unit change" "$OUT" "so-tai-chinh -> so-noi-vu"
contains "names the certificate" "$OUT" "$serial"
contains "and what happens to it" "$OUT" "would be revoked (affiliationChanged)"
eq "still in its unit" "$(unit_of annv)" so-tai-chinh
eq "certificate still valid" "$(cert_status "$serial")" valid

ok "disable --dry-run" provctl user disable annv --dry-run
contains "status change" "$OUT" "active -> disabled"
contains "hold" "$OUT" "would be put on hold: $serial"
eq "still active" "$(status_of annv)" active

ok "delete --dry-run" provctl -f json user delete annv --dry-run
contains "delete: status" "$OUT" '"status":"active -> deleted"'
contains "delete: hold for the retention" "$OUT" "would be put on hold for the retention: $serial"
ok "delete --now --dry-run" provctl user delete annv --now --dry-run
contains "delete --now: the entry goes" "$OUT" "remove the entry of annv"
contains "delete --now: its certificate is revoked" "$OUT" "would be revoked (cessationOfOperation): $serial"
ok "the entry is still there" provctl user show annv
eq "certificate still valid after the previews" "$(cert_status "$serial")" valid

ok "unit modify --dry-run" provctl -f tab unit modify so-noi-vu --name 'Sở Nội vụ mới' --dry-run
contains "unit: from and to" "$OUT" $'so-noi-vu\tname\tSở Nội vụ\tSở Nội vụ mới'
eq "unit name unchanged" "$(provctl -f tab -o name unit show so-noi-vu | sed -n 2p)" "Sở Nội vụ"

# --- on a terminal: preview, then ask ---------------------------------------
ANSWER=n on_tty "$BUILD/provctl" user move annv --unit so-noi-vu
eq "declined: exit 2" "$RC" 2
contains "the preview was shown" "$OUT" "would be revoked (affiliationChanged): $serial"
contains "the question was asked" "$OUT" "Apply these changes? [y/N]"
contains "nothing changed" "$OUT" "not confirmed; nothing changed"
eq "declined: still in its unit" "$(unit_of annv)" so-tai-chinh
eq "declined: certificate valid" "$(cert_status "$serial")" valid

ANSWER=y on_tty "$BUILD/provctl" user disable annv --reason 'nghỉ phép'
eq "confirmed: exit 0" "$RC" 0
eq "confirmed: disabled" "$(status_of annv)" disabled
eq "confirmed: certificate on hold" "$(cert_status "$serial")" hold

ANSWER= on_tty "$BUILD/provctl" user delete binhtt --yes
eq "--yes: exit 0" "$RC" 0
lacks "--yes: no question" "$OUT" "Apply these changes?"
eq "--yes: deleted" "$(status_of binhtt)" deleted

# --- no terminal: as before, no question --------------------------------------
ok "no terminal: runs at once" provctl user move cuonglv --unit so-noi-vu </dev/null
lacks "no terminal: no question" "$ERR" "Apply"
eq "no terminal: moved" "$(unit_of cuonglv)" so-noi-vu

done_testing
