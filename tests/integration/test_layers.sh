#!/usr/bin/env bash
# Layers: the include graph has no circle and no upward arrow
# (tools/include-graph), and the Makefile refuses an upward include; the
# files in .clang-format-files are formatted; directory names are spelt
# only in daemon/directory/schema.h (tools/schema-names).  Each
# breakage is made in a copy of the sources, never in the tree itself.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

ok "include-graph: the tree has no circle and no upward arrow" "$REPO/tools/include-graph"
eq "include-graph: nothing on stderr" "$ERR" ""
contains "include-graph: prints daemon/accounts/" "$OUT" "daemon/accounts/"
contains "include-graph: names what a layer sees" "$OUT" \
	"daemon/ctl/  (sees: daemon/directory/ daemon/core/"
ok "include-graph --dot" "$REPO/tools/include-graph" --dot
contains "include-graph --dot: a digraph" "$OUT" "digraph provd {"

if command -v clang-format >/dev/null; then
	ok "make check-format: the listed files are formatted" make -s -C "$REPO" check-format
else
	ok "clang-format is installed (tools/install-deps)" false
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/provd-layers.XXXXXX")
at_exit rm -rf -- "$tmp"

# A fresh copy of what the graph and the compiler read.
copy() {
	rm -rf -- "$tmp/src"
	mkdir -p "$tmp/src/tools"
	cp -r "$REPO/Makefile" "$REPO/proto" "$REPO/pki" "$REPO/daemon" "$tmp/src/"
	cp -r "$REPO/tools/provctl" "$REPO/tools/include-graph" "$REPO/tools/schema-names" \
		"$tmp/src/tools/"
}
# Add an #include line after the first #include of a file in the copy.
add_include() {
	sed -i "0,/^#include/s//#include \"$2\"\n#include/" "$tmp/src/$1"
}
# Compile one object of the copy with the Makefile's flags.
compile() {
	make -s -C "$tmp/src" BUILD="$tmp/b" "$tmp/b/$1.o"
}

copy
ok "the copy's graph is clean" "$tmp/src/tools/include-graph" "$tmp/src"
ok "the copy compiles daemon/accounts/whois.c" compile daemon/accounts/whois

# Upward: accounts reaching into certs.
add_include daemon/accounts/whois.c cert.h
fails "include-graph: an upward include fails" 1 "$tmp/src/tools/include-graph" "$tmp/src"
contains "include-graph: names the upward include" "$ERR" \
	'daemon/accounts/whois.c: includes "cert.h" (daemon/certs/), which daemon/accounts/ may not see'
fails "make: an upward include does not build" any compile daemon/accounts/whois
contains "make: the compiler cannot find the higher header" "$ERR" "cert.h"

# Upward from a header: core reaching into ctl.
copy
add_include daemon/core/loop.h request.h
fails "include-graph: an upward include in a header fails" 1 \
	"$tmp/src/tools/include-graph" "$tmp/src"
contains "include-graph: names the header" "$ERR" 'daemon/core/loop.h: includes "request.h"'

# Sideways: one library into the other.
copy
add_include proto/wire.c hex.h
fails "include-graph: proto/ including pki/ fails" 1 "$tmp/src/tools/include-graph" "$tmp/src"
fails "make: proto/ including pki/ does not build" any compile proto/wire

# A circle inside one layer, which the compiler alone would accept.
copy
add_include daemon/core/log.c loop.h
ok "the circle compiles (only the graph sees it)" compile daemon/core/log
fails "include-graph: a circle fails" 1 "$tmp/src/tools/include-graph" "$tmp/src"
contains "include-graph: names the circle" "$ERR" "circle: daemon/core/log <-> daemon/core/loop"

# A folder the Makefile does not place in a layer.
copy
mkdir -p "$tmp/src/daemon/extra"
printf '#include "log.h"\n' >"$tmp/src/daemon/extra/x.c"
fails "include-graph: a folder without a layer fails" 1 "$tmp/src/tools/include-graph" "$tmp/src"
contains "include-graph: names the folder" "$ERR" "folder daemon/extra has no INC_daemon/extra line"

# Directory names spelt once, everywhere in daemon/ and the tools.
ok "schema-names: no attribute or class spelt outside schema.h" \
	"$REPO/tools/schema-names"
eq "schema-names: nothing on stderr" "$ERR" ""
copy
ok "the copy's names are clean" "$tmp/src/tools/schema-names" "$tmp/src"
sed -i 's/"(" AT_UNIT "=%s)", esc/"(departmentNumber=%s)", esc/' "$tmp/src/daemon/accounts/report.c"
fails "schema-names: a filter with a spelt-out attribute fails" 1 \
	"$tmp/src/tools/schema-names" "$tmp/src"
contains "schema-names: names the file and the macro" "$ERR" \
	'daemon/accounts/report.c:'
contains "schema-names: names the macro" "$ERR" '"departmentNumber" spelt out: use AT_UNIT'
copy
sed -i 's/dir_entry_get(ld, e, AT_MAIL_ALIAS)/dir_entry_get(ld, e, "mailLocalAddress")/' \
	"$tmp/src/daemon/accounts/account.c"
sed -i 's/dir_entry_get_all(ld, e, AT_MAIL_ALIAS)/dir_entry_get_all(ld, e, "mailLocalAddress")/' \
	"$tmp/src/daemon/accounts/account.c"
fails "schema-names: an attribute name as a literal fails" 1 \
	"$tmp/src/tools/schema-names" "$tmp/src"
contains "schema-names: names the literal" "$ERR" '"mailLocalAddress" spelt out: use AT_MAIL_ALIAS'

done_testing
