#!/usr/bin/env bash
# The README as a newcomer follows it: the repository's files alone, copied
# into an empty directory with no sibling folders, built and started with
# `make run` (packages, build, sandbox, demo), then the README's "Using
# provctl against the sandbox" block pasted line by line: every line must
# succeed.  (test_newcomer covers the clone, the generator and the demo's
# keep/restart/reset.)
# itest: build-independent
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v make >/dev/null || skip_all "make is not installed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/provd-readme.XXXXXX")
chmod 755 "$tmp"
clone=$tmp/provd
at_exit "$REPO/tools/sandbox" stop "$clone/run/sandbox"
at_exit rm -rf -- "$tmp"
mkdir "$clone"
# The working tree's files (what a clone of this commit would hold, with the
# changes not committed yet).
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - --) |
	tar xf - -C "$clone"

ok "make run in the copy" env -u BUILD -u MAKEFLAGS -u MAKELEVEL -u SANITIZE make -s -j2 -C "$clone" run
contains "make run shows the demo account" "$OUT" '"login":"annv"'

# The README's block, from the eval line to the ldapsearch line.
flow=$(sed -n '/^## Using provctl/,/^```$/p' "$clone/README.md" |
	sed -n '/^eval/,/ldif-readable$/p' | sed -e :a -e '/\\$/N; s/\\\n//; ta')
contains "the README has the block" "$flow" "provctl ping"
while IFS= read -r line; do
	[[ -n $line ]] || continue
	ok "README: ${line:0:70}" bash -c "cd '$clone' && eval \"\$(cat run/sandbox/env)\" &&
		export PATH=\"\$PWD/build:\$PATH\" && $line"
	case $line in
	*ldif-readable*)
		contains "the entry reads as text" "$OUT" "cn: Nguyễn Văn An"
		lacks "no password hash shown" "$OUT" "{SSHA"
		lacks "no base64 value" "$OUT" "::"
		;;
	esac
done <<<"$flow"

done_testing
