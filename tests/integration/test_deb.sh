#!/usr/bin/env bash
# The Debian package: `make deb` builds provd_*.deb with dpkg-buildpackage
# (lintian reports no error); dpkg installs it into a scratch root (its
# maintainer scripts run with DPKG_ROOT) with every file in place, the
# service user and state directory made, the configuration 0600 and owned
# by that user; and the installed provd, run in that root, accepts the
# installed /etc/provd/provd.conf (provd -n).
# itest: build-independent
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

for tool in dpkg-buildpackage dh lintian fakeroot chroot; do
	ok "$tool is installed (tools/install-deps)" command -v "$tool"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/provd-deb.XXXXXX")
at_exit rm -rf -- "$tmp"

ok "make deb" env -u MAKEFLAGS -u MAKELEVEL -u SANITIZE make -s -C "$REPO" deb "BUILD=$tmp/build"
debs=("$tmp"/build/deb/provd_*_*.deb)
ok "provd_*.deb built" test -f "${debs[0]}"
deb=${debs[0]}
ok "lintian" lintian "$deb"
lacks "lintian: no error" "$OUT" "E: "

# --- into a scratch root -------------------------------------------------------
R=$tmp/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc"
: >"$R/var/lib/dpkg/status"
: >"$R/etc/passwd"
: >"$R/etc/group"
ok "dpkg --root installs it" dpkg --root="$R" --force-depends --force-script-chrootless \
	--log=/dev/null -i "$deb"
ok "dpkg lists it installed" bash -c \
	"dpkg --root='$R' -s provd | grep -q '^Status: install ok installed'"
for f in usr/sbin/provd usr/bin/provctl usr/share/man/man8/provd.8.gz \
	usr/share/man/man1/provctl.1.gz usr/share/man/man5/provd.conf.5.gz \
	usr/share/provd/account.ldif usr/share/provd/schema/provd.ldif \
	usr/share/provd/profiles/staff-email.conf usr/share/provd/examples/provd.conf \
	usr/share/provd/notice/expiry.vi.txt usr/share/provd/reorg/vinh-phuc-2025.csv \
	usr/share/provd/units/vinh-phuc-2020.csv \
	usr/share/provd/examples/dovecot/dovecot-ldap.conf.ext \
	usr/share/provd/examples/postfix/main.cf.snippet \
	lib/systemd/system/provd.service usr/lib/sysusers.d/provd.conf \
	usr/lib/tmpfiles.d/provd.conf usr/share/bash-completion/completions/provctl \
	usr/share/doc/provd/copyright etc/provd/provd.conf; do
	ok "installed: /$f" test -f "$R/$f"
done
unit=$(<"$R/lib/systemd/system/provd.service")
contains "the unit runs /usr/sbin/provd" "$unit" "ExecStart=/usr/sbin/provd -c /etc/provd/provd.conf"
lacks "the unit has no /usr/local" "$unit" "/usr/local"
ok "postinst made the service user" grep -q '^provd:' "$R/etc/passwd"
ok "and the role groups" grep -q '^provd-admin:' "$R/etc/group"
ok "and the state directory" test -d "$R/var/lib/provd"
eq "configuration mode 0600" "$(stat -c %a "$R/etc/provd/provd.conf")" 600
eq "configuration owned by provd" \
	"$(stat -c %u "$R/etc/provd/provd.conf")" "$(grep '^provd:' "$R/etc/passwd" | cut -d: -f3)"
ok "/etc/provd/provd.conf is a conffile" bash -c \
	"dpkg-query --admindir='$R/var/lib/dpkg' -W -f='\${Conffiles}' provd | grep -q /etc/provd/provd.conf"

# provd from the package, in the scratch root with the libraries it links.
ldd "$R/usr/sbin/provd" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
	mkdir -p "$R${lib%/*}"
	cp -L "$lib" "$R$lib"
done
ok "provd -n -c /etc/provd/provd.conf in the root" \
	chroot "$R" /usr/sbin/provd -n -c /etc/provd/provd.conf
contains "configuration OK" "$OUT" "configuration OK"
ok "provctl --version in the root" chroot "$R" /usr/bin/provctl --version

ok "dpkg --root removes it" dpkg --root="$R" --force-script-chrootless --log=/dev/null \
	--purge provd
ok "no program left" test ! -e "$R/usr/sbin/provd"

done_testing
