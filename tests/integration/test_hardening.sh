#!/usr/bin/env bash
# Smaller holes a local caller could use: an export file that follows a
# link or is truncated before provd authorises the request; a password cut
# short at a NUL; bidi and C1 control characters in titles and unit names;
# an invalidity date in the future; sandbox secrets readable by anyone.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
(($(id -u) == 0)) || skip_all "needs root (useradd)"
T=$(mktemp -d /tmp/provd-hard.XXXXXX)
chmod 755 "$T"
at_exit rm -rf "$T"
NOROLE=provdt-nohard$$
test_user "$NOROLE" || exit 1

sandbox_up
chmod 0666 "$PROVD_SOCKET"

# --- sandbox files -----------------------------------------------------------------
eq "mail.secret is 0600" "$(stat -c %a "$SANDBOX_DIR/mail.secret")" 600
eq "config.ldif is 0600" "$(stat -c %a "$SANDBOX_DIR/config.ldif")" 600
eq "provd.log is 0640" "$(stat -c %a "$SANDBOX_DIR/provd.log")" 640

# --- cert export-index: written only once authorised, never through a link --------
ok "ca create" provctl ca create --subject '/CN=Hardening CA' --key ec-p256 --days 30
printf 'precious\n' >"$T/victim"
chmod 666 "$T/victim"
fails "no role: export-index refused" 5 \
	runuser -u "$NOROLE" -- "$BUILD/provctl" -s "$PROVD_SOCKET" cert export-index "$T/victim"
eq "a refused export leaves the file alone" "$(<"$T/victim")" precious
ln -s "$T/victim" "$T/link"
ok "export-index to a symlink" provctl cert export-index "$T/link"
eq "the link's target is untouched" "$(<"$T/victim")" precious
ok "the export replaced the link with a file" test -f "$T/link" -a ! -L "$T/link"
ok "export-index again over its own file" provctl cert export-index "$T/link"
eq "no temporary file left behind" "$(find "$T" -name 'link.*' ! -name 'link.attr' | wc -l)" 0
ok "the .attr file came with it, a file too" test -f "$T/link.attr" -a ! -L "$T/link.attr"

# --- --password-stdin: a NUL byte is refused, not cut at ---------------------------
ok "an account" provctl -f json user add --name 'Vũ Thị Lan' --unit so-noi-vu --employee-id NVHARD01
login=$(sed -n 's/.*"login":"\([^"]*\)".*/\1/p' <<<"$OUT")
fails "password with a NUL on stdin refused" 2 \
	bash -c 'printf "Abcdefghijk1\0tail\n" | "$1" user passwd "$2" --password-stdin' _ "$BUILD/provctl" "$login"
contains "the refusal names the NUL" "$ERR" "NUL"

# --- bidi and C1 control characters -----------------------------------------------
fails "title with U+202E refused" 6 provctl user add --name 'Vũ Văn Hải' --unit so-noi-vu \
	--employee-id NVHARD02 --title $'Chuy\u202Een vi\u00ean'
fails "title with C1 U+0085 refused" 6 provctl user add --name 'Vũ Văn Hải' --unit so-noi-vu \
	--employee-id NVHARD02 --title $'Chuy\u0085en'
fails "unit name with U+202E refused" 6 provctl unit add xa-bidi --name $'X\u00e3 \u202eM\u1edbi' \
	--kind commune --parent huyen-tam-dao
fails "unit name with U+2066 refused" 6 provctl unit add xa-bidi --name $'X\u00e3 \u2066M\u1edbi' \
	--kind commune --parent huyen-tam-dao
ok "a Vietnamese title is still fine" provctl -f json user add --name 'Vũ Văn Hải' --unit so-noi-vu \
	--employee-id NVHARD02 --title 'Chuyên viên  chính'
contains "spaces collapsed, letters kept" "$(provctl -f json user show "$(sed -n 's/.*"login":"\([^"]*\)".*/\1/p' <<<"$OUT")")" \
	'"title":"Chuyên viên chính"'

# --- --invalidity-date in the future ------------------------------------------------
fails "future invalidity date refused" 2 provctl cert revoke 01 --reason keyCompromise \
	--invalidity-date "$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)"
contains "the message says why" "$ERR" "in the future"

done_testing
