#!/usr/bin/env bash
# Fail-back probing does not block the event loop.  provd's first URI is a
# blackholed port (SYNs dropped, nothing ever answers), so it runs on the
# second and probes the first every 2 s (ldap.failback_probe; 5 by
# default).  Meanwhile provctl ping keeps
# answering within milliseconds: the probe connects and binds
# asynchronously and gives up after its timeout without the loop waiting.
# (ping latency bounds: runs with no other test beside it)
# itest: alone
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-failback.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
python3 "$REPO/tests/tools/blackhole.py" >"$T/port" 2>"$T/bh.err" &
bh=$!
at_exit kill "$bh"
# shellcheck disable=SC2317
have_port() { [[ -s $T/port ]]; }
ok "a blackholed port (within 5 s)" within 5 have_port
read -r port <"$T/port"
ok "connecting to it hangs" bash -c "! timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$port'"

# ping_for SECONDS COUNT FILE: provctl ping in a loop for SECONDS and at
# least COUNT pings (on a loaded machine a ping can take 200 ms; 60 s at
# most); one line per ping in FILE, "MS EXIT".
# shellcheck disable=SC2317
ping_for() {
	local end cap t0 t1 rc n=0
	end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	cap=$((${EPOCHREALTIME/./} + 60000000))
	while ((${EPOCHREALTIME/./} < end || (n < $2 && ${EPOCHREALTIME/./} < cap))); do
		n=$((n + 1))
		t0=$EPOCHREALTIME
		rc=0
		"$BUILD/provctl" ping >/dev/null 2>>"$T/ping.err" || rc=$?
		t1=$EPOCHREALTIME
		printf '%s %d\n' "$(((${t1/./} - ${t0/./}) / 1000))" "$rc" >>"$3"
		sleep 0.01
	done
}
# pct FILE P: the P-th percentile of the first column of FILE.
pct() { sort -n "$1" | awk -v n="$(wc -l <"$1")" -v p="$2" 'NR == int(n * p / 100) + 1 {print $1}'; }

# What a ping costs here and now with nothing to probe (a sanitizer build
# on a loaded machine: tens of milliseconds): the bound below is on what
# probing adds to it.
ping_for 5 100 "$T/base"
ok "baseline pings ran" test "$(wc -l <"$T/base")" -ge 100
base99=$(pct "$T/base" 99)
diag "ping with nothing to probe: $(wc -l <"$T/base") pings; ms p50 $(pct "$T/base" 50), p99 $base99"

ok "stop provd" "$SANDBOX_TOOL" stop-provd "$SANDBOX_DIR"
sed -i "s|uris = \[ \"$LDAPI_URI\" \];|uris = [ \"ldap://127.0.0.1:$port\", \"$LDAPI_URI\" ];\n  writer_lease = 4;\n  failback_probe = 2;|" \
	"$SANDBOX_DIR/provd.conf"
contains "the blackholed port comes first" "$(<"$SANDBOX_DIR/provd.conf")" "\"ldap://127.0.0.1:$port\", "
contains "probes every 2 s" "$(<"$SANDBOX_DIR/provd.conf")" "failback_probe = 2;"
ok "provd with the blackholed URI first" "$SANDBOX_TOOL" start-provd "$SANDBOX_DIR" --provd "$BUILD/provd"
# shellcheck disable=SC2317
on_second() { provctl status | grep -q "^ldap_uri: *$LDAPI_URI\$"; }
ok "provd runs on the second URI (within 20 s)" within 20 on_second

# What provd has in flight to the dead port, sampled every 0.1 s: a probe
# shows as a provd socket in SYN-SENT.
(
	while [[ ! -e $T/stop ]]; do
		ss -Htnp state syn-sent "( dport = :$port )" | grep -c '"provd"' >>"$T/syn"
		sleep 0.1
	done
) &
sampler=$!
# provctl ping in a loop for 12 s (or longer, for 150 pings): at least four
# probes of the dead port start (one every 2 s, give or take the 0.5 s
# tick; at 5 s, three at most).
ping_for 12 150 "$T/ping"
touch "$T/stop"
wait "$sampler"
n=$(wc -l <"$T/ping")
ok "pings ran" test "$n" -ge 150
eq "every ping answered" "$(awk '$2 != 0' "$T/ping" | wc -l)" 0
p50=$(pct "$T/ping" 50)
p99=$(pct "$T/ping" 99)
max=$(sort -n "$T/ping" | tail -n 1 | cut -d' ' -f1)
diag "ping while probing a blackholed URI: $n pings; ms p50 $p50, p99 $p99, max $max"
probing=$(awk '$1 > 0' "$T/syn" | wc -l)
diag "samples with a probe in flight: $probing of $(wc -l <"$T/syn")"
ok "provd probed the dead port meanwhile" test "$probing" -ge 5
# A probe starts where a sample with none in flight is followed by one with one.
starts=$(awk 'NR > 1 && prev == 0 && $1 > 0 { n++ } { prev = $1 } END { print n + 0 }' "$T/syn")
diag "probes started while pinging: $starts"
ok "a probe every 2 s (ldap.failback_probe): at least four started" test "$starts" -ge 4
ok "p99 under 150 ms more than with nothing to probe ($base99 ms)" test "$p99" -lt $((base99 + 150))
ok "no ping waited for a probe (max under 500 ms more than p99 with nothing to probe; a blocking probe takes 1 s)" \
	test "$max" -lt $((base99 + 500))
ok "provd still on the second URI" on_second
lacks "and never moved back to the dead one" "$(<"$SANDBOX_DIR/provd.log")" "answers again"

done_testing
