#!/usr/bin/env bash
# A batch that waits on a slow directory is not the client's silence.  While
# rows are in flight provd stops reading the client's CSV; if the directory
# then holds them for longer than daemon.client_timeout, the client has sent
# nothing for that long only because provd did not read.  The connection
# must stay open and the batch finish.  slapd is held with SIGSTOP (well
# under provd's own ldap.timeout) with client_timeout at 2 s.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/provd-batch-stall.XXXXXX)
at_exit rm -rf "$T"

sandbox_up
SLAPD_PID=$(<"$SANDBOX_DIR/slapd.pid")
# never leave slapd stopped behind
at_exit kill -CONT "$SLAPD_PID"
sed -i 's/client_timeout = [0-9]*;/client_timeout = 2;/' "$SANDBOX_DIR/provd.conf"
ok "provd reloads the edited configuration" reload_provd

CSV=$(staff_csv 2000)
start=$(date +%s%N)
provctl -f json batch import "$CSV" --credentials "$T/cred.csv" >"$T/out" 2>"$T/err" &
client=$!
# Hold the directory once the import is under way (its first rows made).
rows_made() { [[ -s $T/cred.csv && $(wc -l <"$T/cred.csv") -gt 50 ]]; }
ok "the import is under way" within 30 rows_made
kill -STOP "$SLAPD_PID"
sleep 5
kill -CONT "$SLAPD_PID"
rc=0
wait "$client" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
diag "import took ${ms} ms with the directory held for 5 s"
eq "the import held past client_timeout finishes: exit 0" "$rc" 0
lacks "provd did not close the connection" "$(<"$T/err")" "closed the connection"
contains "every row created" "$(<"$T/out")" '"created":2000'
eq "2000 credentials" "$(($(wc -l <"$T/cred.csv") - 1))" 2000
ok "the stall was inside the import (it took over 5 s)" test "$ms" -gt 5000
lacks "no client closed for silence" "$(<"$SANDBOX_DIR/provd.log")" "streamed input stopped"

done_testing
