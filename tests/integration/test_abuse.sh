#!/usr/bin/env bash
# Abuse: 200 concurrent clients, silent and half-frame clients, oversized,
# wrong-version and random frames, and more connections than the per-uid
# cap — while a well-behaved client keeps getting answers within 100 ms.
# itest: alone
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-abuse.XXXXXX)
chmod 755 "$T"
at_exit rm -rf "$T"

sandbox_up ${ABUSE_PROVD:+--provd "$ABUSE_PROVD"}
CONF=$SANDBOX_DIR/provd.conf
# The abusers run as nobody, given a role through its group, so that the
# per-uid cap they hit is not the well-behaved client's (root).
chmod 0666 "$PROVD_SOCKET"
sed -i -e 's/^  auditor   = \[ "provd-audit" \];/  auditor   = [ "provd-audit", "nogroup" ];/' \
	-e 's/max_clients_per_uid = [0-9]*;/max_clients_per_uid = 250;/' \
	-e 's/client_timeout = [0-9]*;/client_timeout = 30;/' "$CONF"
ok "config edited" grep -q '"nogroup"' "$CONF"
ok "provd reloads the edited configuration" reload_provd
abuse() {  # niced: the probe measures provd, not the scheduler
	nice -n 10 runuser -u nobody -- python3 "$REPO/tests/tools/abuse.py" "$PROVD_SOCKET" "$@"
}
field() {  # field KEY TEXT: the value of KEY=... in TEXT
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# The well-behaved client (root): pings in a loop, each timed from connect
# to answer (abuse.py probe); failures keep their reason.  provd (every
# thread) and the probe run under the real-time FIFO policy, the abusers
# at nice 10: what the bound measures is how provd shares itself among its
# clients, not how long the machine's other work (a loaded CI runner, the
# test beside this one) keeps two processes off the CPU.
probe() {
	chrt -f 10 python3 "$REPO/tests/tools/abuse.py" "$PROVD_SOCKET" probe "$T/stop" "$T/probe"
}
provd_pid=$(<"$SANDBOX_DIR/provd.pid")
ok "provd's threads real-time (SCHED_FIFO)" bash -c \
	'for t in /proc/$1/task/*; do chrt -f -p 10 "${t##*/}" || exit 1; done' _ "$provd_pid"
mark() {  # mark PHASE: for placing slow probe pings
	printf '%s %s\n' "$EPOCHREALTIME" "$1" >>"$T/phases"
}
mark start
probe &
prober=$!

ok "nobody may ping" abuse flood 1
contains "nobody's ping answered" "$OUT" "answered_ok=1"

mark flood
ok "200 concurrent clients" abuse flood 200
diag "$OUT"
eq "all 200 answered" "$(field answered_ok "$OUT")" 200

# The flood's clients connect first and ping together: on a loaded machine
# connecting all 200 can take longer than the short timeout the idle
# clients are for, so that one is set only now.
sed -i -e 's/client_timeout = [0-9]*;/client_timeout = 2;/' "$CONF"
ok "provd reloads the edited configuration" reload_provd
mark idle
ok "silent and half-frame clients" abuse idle 20 10
diag "$OUT"
eq "all 40 closed with status 9" "$(field closed9 "$OUT")" 40
ok "closed after client_timeout, not much later" test "$(field slowest_s "$OUT" | cut -d. -f1)" -lt 5

mark hostile
ok "hostile frames" abuse hostile 30
diag "$OUT"
eq "oversized, wrong version and random bytes refused (status 9) and closed" \
	"$(field refused9_closed "$OUT")" 90

# The per-uid cap counts live connections only.
sed -i -e 's/max_clients_per_uid = [0-9]*;/max_clients_per_uid = 20;/' -e 's/client_timeout = [0-9]*;/client_timeout = 30;/' "$CONF"
ok "provd reloads the edited configuration" reload_provd
mark cap
ok "more connections than the cap" abuse cap 35
diag "$OUT"
eq "20 connections held" "$(field held "$OUT")" 20
eq "the 20 held answer" "$(field accepted "$OUT")" 20
eq "15 refused with status 5" "$(field refused5 "$OUT")" 15
eq "refused connections are closed" "$(field refused_closed "$OUT")" 15
eq "no other answers" "$(field other "$OUT")" 0
eq "after closing, 20 fit again" "$(field again_ok "$OUT")" 20
ok "a second round is not refused by stale counts" abuse cap 20
eq "second round: 20 held" "$(field held "$OUT")" 20
eq "second round: none refused" "$(field refused5 "$OUT")" 0

mark end
touch "$T/stop"
wait "$prober"
n=$(wc -l <"$T/probe")
bad=$(awk '$2 != 0' "$T/probe" | wc -l)
max=$(sort -n "$T/probe" | tail -n 1 | cut -d' ' -f1)
ok "the probe ran" test "$n" -gt 10
eq "every probe ping succeeded" "$bad" 0
[[ $bad == 0 ]] || diag "$(awk '$2 != 0' "$T/probe" | head -n 5)"
diag "probe: $n pings; ms p50 $(sort -n "$T/probe" | awk -v n="$n" 'NR == int(n/2)+1 {print $1}')," \
	"p90 $(sort -n "$T/probe" | awk -v n="$n" 'NR == int(n*0.9)+1 {print $1}')," \
	"p99 $(sort -n "$T/probe" | awk -v n="$n" 'NR == int(n*0.99)+1 {print $1}'), max $max"
slow=$(awk 'NR == FNR { t[NR] = $1; p[NR] = $2; n = NR; next }
	$1 >= 50 { ph = "?"; for (i = 1; i <= n; i++) if (t[i] <= $3) ph = p[i]; printf "%s ms during %s; ", $1, ph }' \
	"$T/phases" "$T/probe")
[[ -z $slow ]] || diag "pings of 50 ms or more: $slow"
diag "provd's own time for the probe's pings (audit ms=): max $(grep 'user=root .*cmd="ping"' "$SANDBOX_DIR/provd.log" |
	sed -n 's/.* ms=\([0-9]*\) .*/\1/p' | sort -n | tail -n 1) ms; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# The bound is provd's; a sanitizer build runs every instruction two to
# three times slower, so there it is 250 ms (the plain build keeps 100).
bound=100
[[ $(basename "$BUILD") == *san* ]] && bound=250
ok "every probe ping answered within $bound ms (p100 < $bound)" test "$max" -lt "$bound"
ok "provd still serves" provctl ping

done_testing
