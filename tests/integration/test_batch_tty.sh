#!/usr/bin/env bash
# batch import on a terminal (driven through a pseudo-terminal with
# script(1)): one live progress line on stderr with done/total, rate and
# ETA; then only the rows that need attention and one summary; every row
# with -v or in --report FILE; without a terminal the output is unchanged.
# The credentials file appears only with the first password.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null || skip_all "script(1) is not installed"
STAFF=$(staff_csv 2000)
T=$(mktemp -d /tmp/provd-batchtty.XXXXXX)
at_exit rm -rf "$T"
sandbox_up

# Run "$@" on a pseudo-terminal (stdin, stdout and stderr); the transcript,
# with CR LF turned into LF, is in $OUT, the exit status in $RC.
on_tty() {
	local cmd
	printf -v cmd '%q ' "$@"
	OUT=$(script -qefc "$cmd" /dev/null </dev/null >"$T/tty.out"; echo $?)
	RC=$OUT
	OUT=$(tr -d '\r' <"$T/tty.out")
}

# 800 rows, two of them with an unknown unit.
{
	head -n 801 "$STAFF" | sed -e '11s/,[a-z-]*,/,khong-co,/' -e '201s/,[a-z-]*,/,khong-co,/'
} >"$T/s800.csv"
bad1=$(sed -n 11p "$T/s800.csv" | cut -d, -f1)

on_tty "$BUILD/provctl" batch import "$T/s800.csv" --credentials "$T/cred.csv"
eq "exit 8: two rows rejected" "$RC" 8
contains "progress shows done/total" "$OUT" "/800 rows"
contains "progress shows the rate" "$OUT" "rows/s"
contains "progress shows the ETA" "$OUT" "ETA"
rows=$(grep -E '^[0-9]+ +VP' <<<"$OUT" || true)
eq "only the rows that need attention" "$(wc -l <<<"$rows")" 2
contains "the rejected row" "$rows" "$bad1"
contains "says why" "$rows" "khong-co"
eq "one summary" "$(grep -c '^summary:' <<<"$OUT")" 1
contains "summary counts" "$OUT" "created:   798"
lacks "the summary is not repeated as a message" "$OUT" "provctl: 800 rows"
eq "credentials: header + 798 rows" "$(wc -l <"$T/cred.csv")" 799

# The same file again, -v: every row; --report: every row to a file.
on_tty "$BUILD/provctl" batch import "$T/s800.csv" -v --report "$T/report.tsv" \
	--credentials "$T/cred2.csv"
eq "re-run: still two rejected" "$RC" 8
eq "-v: every row" "$(grep -cE '^[0-9]+ +VP' <<<"$OUT")" 800
eq "--report: header, 800 rows, summary header and line" "$(wc -l <"$T/report.tsv")" 803
contains "--report is tab-separated" "$(<"$T/report.tsv")" $'\tunchanged\tmanhnn\t'
ok "no password made: no credentials file" test ! -e "$T/cred2.csv"

# Not a terminal: every row, as before.
fails "without a terminal" 8 provctl batch import "$T/s800.csv" --dry-run
eq "every row printed" "$(grep -cE '^[0-9]+ +VP' <<<"$OUT")" 800

# A run that fails before any account exists leaves nothing behind, and
# its retry is not blocked.
printf 'no,such,header\n1,2,3\n' >"$T/bad.csv"
fails "a bad header fails" 2 provctl batch import "$T/bad.csv" --credentials "$T/cred3.csv"
ok "and leaves no credentials file" test ! -e "$T/cred3.csv"
head -n 1 "$STAFF" >"$T/new.csv"
sed -n '1001,1003p' "$STAFF" >>"$T/new.csv"
ok "the retry with the same --credentials" provctl batch import "$T/new.csv" \
	--credentials "$T/cred3.csv"
eq "made its file, 0600" "$(stat -c %a "$T/cred3.csv")" 600
eq "with three passwords" "$(wc -l <"$T/cred3.csv")" 4
fails "an existing credentials file is refused" 2 provctl batch import "$T/new.csv" \
	--credentials "$T/cred3.csv"
contains "saying why" "$ERR" "refusing to overwrite"

done_testing
