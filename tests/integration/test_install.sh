#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR: every file in its place with
# its mode and nothing else, paths in the unit and the example config follow
# PREFIX, the installed programs run (provd -n accepts the installed example
# config and templates), the systemd files are valid, and uninstall leaves
# no file behind.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v make >/dev/null || skip_all "make is not installed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/provd-install.XXXXXX")
at_exit rm -rf -- "$tmp"

# Install from the build under test; a sanitizer build keeps its flags.
make_args=(-s -C "$REPO" "BUILD=$BUILD")
# shellcheck disable=SC2054  # one make argument
[[ ${BUILD##*/} != build-san* ]] || make_args+=(SANITIZE=address,undefined)

# The files install must produce (relative to DESTDIR) and their modes,
# derived from the source tree so a new template is expected too.
expected_files() {
	local prefix=$1 data=$1/share/provd f
	printf '%s 755\n' "${prefix#/}/sbin/provd" "${prefix#/}/sbin/provd-ocsp" "${prefix#/}/bin/provctl" \
		"${prefix#/}/sbin/provd-self" "${prefix#/}/sbin/provd-keygen"
	printf '%s 644\n' "${data#/}/common-passwords.txt" "${data#/}/examples/self.conf" \
		"${prefix#/}/share/man/man8/provd-self.8" "${prefix#/}/lib/systemd/system/provd-self.service"
	for f in "$REPO"/templates/*.ldif; do printf '%s 644\n' "${data#/}/${f##*/}"; done
	for f in "$REPO"/templates/profiles/*.conf; do printf '%s 644\n' "${data#/}/profiles/${f##*/}"; done
	for f in "$REPO"/templates/schema/*.ldif; do printf '%s 644\n' "${data#/}/schema/${f##*/}"; done
	for f in "$REPO"/templates/notice/*.txt; do printf '%s 644\n' "${data#/}/notice/${f##*/}"; done
	for f in "$REPO"/etc/units/*.csv; do printf '%s 644\n' "${data#/}/units/${f##*/}"; done
	for f in "$REPO"/etc/reorg/*.csv; do printf '%s 644\n' "${data#/}/reorg/${f##*/}"; done
	printf '%s 644\n' "${data#/}/examples/provd.conf"
	for f in "$REPO"/etc/dovecot/* "$REPO"/etc/postfix/*; do
		[[ -f $f ]] || continue
		f=${f#"$REPO"/etc/}
		printf '%s 644\n' "${data#/}/examples/$f"
	done
	printf '%s 644\n' \
		"${prefix#/}/share/man/man1/provctl.1" \
		"${prefix#/}/share/man/man5/provd.conf.5" \
		"${prefix#/}/share/man/man8/provd.8" \
		"${prefix#/}/share/man/man8/provd-ocsp.8" \
		"${prefix#/}/lib/systemd/system/provd.service" \
		"${prefix#/}/lib/systemd/system/provd-ocsp.service" \
		"${prefix#/}/lib/sysusers.d/provd.conf" \
		"${prefix#/}/lib/tmpfiles.d/provd.conf" \
		"${prefix#/}/share/bash-completion/completions/provctl" \
		"${prefix#/}/share/doc/provd/README.md"
	for f in "$REPO"/docs/*.md; do printf '%s 644\n' "${prefix#/}/share/doc/provd/${f##*/}"; done
}

installed_files() {
	(cd "$1" && find . \( -type f -o -type l \) -printf '%P %m\n')
}

# --- default PREFIX (/usr/local) ----------------------------------------------
root=$tmp/root
ok "make install DESTDIR=..." make "${make_args[@]}" install "DESTDIR=$root"
eq "the installed tree is exactly the expected files and modes" \
	"$(installed_files "$root" | sort)" "$(expected_files /usr/local | sort)"
ok "nothing is installed under /etc" test ! -e "$root/etc"
ok "directories are 0755" test -z "$(find "$root" -type d ! -perm 0755)"

p=$root/usr/local
ok "account.ldif is the repository's" cmp "$REPO/templates/account.ldif" "$p/share/provd/account.ldif"
ok "schema is the repository's" cmp "$REPO/templates/schema/provd.ldif" "$p/share/provd/schema/provd.ldif"
ok "provctl.1 is the repository's" cmp "$REPO/docs/man/provctl.1" "$p/share/man/man1/provctl.1"
ok "the completion is the repository's" cmp "$REPO/tools/completion/provctl.bash" \
	"$p/share/bash-completion/completions/provctl"
ok "example provd.conf is etc/provd.conf (default paths)" cmp "$REPO/etc/provd.conf" \
	"$p/share/provd/examples/provd.conf"
ok "the unit is etc/systemd/provd.service (default paths)" \
	cmp "$REPO/etc/systemd/provd.service" "$p/lib/systemd/system/provd.service"

ok "installed provd -V" "$p/sbin/provd" -V
eq "provd -V prints the version" "$OUT" "provd $(sed -n 's/^VERSION *:= *//p' "$REPO/Makefile")"
ok "installed provctl --help" "$p/bin/provctl" --help
contains "provctl --help lists user add" "$OUT" "user add"
ok "installed provctl --commands" "$p/bin/provctl" --commands
contains "provctl --commands lists the options of user add" "$OUT" "user add --name=NAME --unit=CODE"

# The installed example, pointed at the installed templates, passes provd -n.
conf=$tmp/provd.conf
sed "s|\"/usr/local/share/provd\"|\"$p/share/provd\"|" "$p/share/provd/examples/provd.conf" >"$conf"
chmod 600 "$conf"
ok "installed provd -n accepts the installed example and templates" "$p/sbin/provd" -n -c "$conf"
contains "provd -n says OK" "$OUT" "configuration OK"
chmod 644 "$conf"
fails "provd -n refuses a config readable by others" 1 "$p/sbin/provd" -n -c "$conf"
contains "the refusal names the mode" "$ERR" "0644"
sed -i "s|\"$p/share/provd\"|\"$tmp/nowhere\"|" "$conf"
chmod 600 "$conf"
fails "provd -n fails without templates" 1 "$p/sbin/provd" -n -c "$conf"

# man finds the installed pages.
if command -v man >/dev/null; then
	ok "man finds provd(8) in the installed tree" env MANPAGER=cat PAGER=cat \
		man -M "$p/share/man" 8 provd
	contains "man provd shows the page" "$OUT" "provisioning daemon"
else
	skip_part "man finds provd(8)" "man is not installed (tools/install-deps installs man-db)"
fi

# systemd: the unit verifies (ExecStart pointed into the DESTDIR), sysusers
# and tmpfiles entries create the user, groups and state directory in a
# scratch root.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/unit"
	sed "s|/usr/local/sbin/provd|$p/sbin/provd|g" "$p/lib/systemd/system/provd.service" \
		>"$tmp/unit/provd.service"
	ok "systemd-analyze verify provd.service" systemd-analyze verify --man=no "$tmp/unit/provd.service"
	lacks "systemd-analyze has no complaint" "$ERR$OUT" "provd.service"
	unit=$(<"$p/lib/systemd/system/provd.service")
	contains "unit: ExecStart runs the installed provd" "$unit" \
		"ExecStart=/usr/local/sbin/provd -c /etc/provd/provd.conf"
	contains "unit: config checked before start" "$unit" \
		"ExecStartPre=/usr/local/sbin/provd -n -c /etc/provd/provd.conf"
	# shellcheck disable=SC2016  # a literal $MAINPID
	contains "unit: reload is SIGHUP" "$unit" 'ExecReload=/bin/kill -HUP $MAINPID'
	lacks "unit: no User= (provd drops privileges itself)" "$unit" $'\nUser='
else
	skip_part "systemd-analyze verify provd.service" "systemd-analyze is not installed"
fi
if ((EUID == 0)) && command -v systemd-sysusers >/dev/null &&
	command -v systemd-tmpfiles >/dev/null; then
	sysroot=$tmp/sysroot
	mkdir -p "$sysroot/etc"
	ok "systemd-sysusers accepts sysusers.d/provd.conf" \
		systemd-sysusers --root="$sysroot" "$p/lib/sysusers.d/provd.conf"
	for g in provd provd-admin provd-officer provd-onboard provd-audit; do
		ok "sysusers created group $g" grep -q "^$g:" "$sysroot/etc/group"
	done
	ok "sysusers created user provd" grep -q '^provd:.*:/var/lib/provd:' "$sysroot/etc/passwd"
	ok "systemd-tmpfiles accepts tmpfiles.d/provd.conf" \
		systemd-tmpfiles --root="$sysroot" --create "$p/lib/tmpfiles.d/provd.conf"
	uid=$(awk -F: '$1 == "provd" { print $3 }' "$sysroot/etc/passwd")
	eq "state directory: mode 750, owned by provd" \
		"$(stat -c '%a %u' "$sysroot/var/lib/provd")" "750 $uid"
else
	skip_part "sysusers.d and tmpfiles.d entries" "not root, or systemd-sysusers/systemd-tmpfiles missing"
fi

# Uninstall leaves no file, and removes provd's own directories.
ok "make uninstall DESTDIR=..." make "${make_args[@]}" uninstall "DESTDIR=$root"
eq "no file left after uninstall" "$(installed_files "$root")" ""
ok "data directory removed" test ! -e "$p/share/provd"
ok "doc directory removed" test ! -e "$p/share/doc/provd"

# --- PREFIX=/usr: paths in the unit and the example follow -------------------
# From a copy of the build under test (made for the default PREFIX), so
# the rebuild for /usr leaves that build alone.
root=$tmp/root-usr
cp -a "$BUILD" "$tmp/build-usr"
usr_args=("${make_args[@]/#BUILD=*/BUILD=$tmp/build-usr}")
ok "make install PREFIX=/usr" make "${usr_args[@]}" install "DESTDIR=$root" PREFIX=/usr
eq "PREFIX=/usr: the tree is exactly the expected files" \
	"$(installed_files "$root" | sort)" "$(expected_files /usr | sort)"
unit=$(<"$root/usr/lib/systemd/system/provd.service")
contains "PREFIX=/usr: unit runs /usr/sbin/provd" "$unit" "ExecStart=/usr/sbin/provd -c /etc/provd/provd.conf"
lacks "PREFIX=/usr: unit has no /usr/local" "$unit" "/usr/local"
contains "PREFIX=/usr: example template_dir is /usr/share/provd" \
	"$(<"$root/usr/share/provd/examples/provd.conf")" 'template_dir = "/usr/share/provd"'
# The build under test was made with the default PREFIX: install rebuilt
# provd, whose compiled-in template directory follows PREFIX.
ok "PREFIX=/usr: provd was rebuilt for /usr/share/provd" \
	grep -aq '/usr/share/provd' "$root/usr/sbin/provd"
ok "PREFIX=/usr: provd has no /usr/local/share/provd" \
	bash -c "! grep -aq /usr/local/share/provd '$root/usr/sbin/provd'"
ok "make uninstall PREFIX=/usr" make "${usr_args[@]}" uninstall "DESTDIR=$root" PREFIX=/usr
eq "PREFIX=/usr: no file left after uninstall" "$(installed_files "$root")" ""

done_testing
