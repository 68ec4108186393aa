# shellcheck shell=bash
# mailstack.sh — Dovecot and Postfix from private configuration, for the
# integration tests that check what the mail servers read (sourced after
# tests/lib.sh):
#
#   mail_stack_needed          install Dovecot and Postfix, or skip the file
#   configure SRC DST SEP KEY VALUE...
#                              copy a shipped file, setting KEY = VALUE
#   dovecot_start NAME URI [KEY VALUE]...
#                              a private Dovecot (auth only) reading the
#                              directory with etc/dovecot/dovecot-ldap.conf.ext;
#                              needs TMP (mode 755) and MAILPW set
#   dconf NAME                 its dovecot.conf
#   auth NAME USER PASSWORD    one passdb check: exit 0 (accepted) or 77
#   dovecot_stop_all           stop every Dovecot started, and check
#
# Dovecot runs with its own base_dir, state_dir and instance_name, no
# listeners; nothing under /etc is read or written.

mail_packages_installed() {
	local pkg status
	for pkg in dovecot-core dovecot-ldap postfix postfix-ldap; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) || return 1
		[[ $status == *' ok installed' ]] || return 1
	done
}

mail_stack_needed() {
	local deps_out bin
	if ! mail_packages_installed &&
		! deps_out=$("$REPO/tools/install-deps" --mail 2>&1); then
		skip_all "Dovecot and Postfix are not installed and cannot be installed here" \
			"($(printf '%s\n' "$deps_out" | tail -n 1))"
	fi
	for bin in dovecot doveadm postmap; do
		if ! command -v "$bin" >/dev/null 2>&1; then
			printf 'Bail out! %s missing although tools/install-deps --mail succeeded\n' "$bin"
			exit 1
		fi
	done
}

# Copy a shipped file, pointing KEY at VALUE; bail out when KEY is not in
# it (the shipped file changed shape and the test would test nothing).
configure() {
	local src=$1 dst=$2 sep=$3
	shift 3
	cp -- "$src" "$dst"
	while (($# >= 2)); do
		if ! grep -q "^$1 = " "$dst"; then
			printf 'Bail out! %s has no "%s = " line\n' "$src" "$1"
			exit 1
		fi
		sed -i "s${sep}^$1 = .*${sep}$1 = $2${sep}" "$dst"
		shift 2
	done
}

DOVECOT_PIDS=()

# dovecot_start NAME URI [KEY VALUE]...
dovecot_start() {
	local name=$1 uri=$2 dir=$TMP/dovecot-$1 i pid
	shift 2
	mkdir -m 755 "$dir"
	configure "$REPO/etc/dovecot/dovecot-ldap.conf.ext" "$dir/ldap.conf.ext" '|' \
		uris "$uri" dnpass "$MAILPW" "$@"
	chmod 600 "$dir/ldap.conf.ext"
	cat >"$dir/dovecot.conf" <<EOF
instance_name = provd-test-$name-$$
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols =
ssl = no
auth_failure_delay = 0
auth_mechanisms = plain
disable_plaintext_auth = no
auth_username_format = %Lu
passdb {
  driver = ldap
  args = $dir/ldap.conf.ext
}
userdb {
  driver = ldap
  args = $dir/ldap.conf.ext
}
EOF
	if ! dovecot -c "$dir/dovecot.conf"; then
		printf 'Bail out! dovecot (%s) did not start\n' "$name"
		exit 1
	fi
	for ((i = 0; i < 50; i++)); do
		[[ -s $dir/run/master.pid ]] && break
		sleep 0.1
	done
	if [[ ! -s $dir/run/master.pid ]]; then
		printf 'Bail out! dovecot (%s) wrote no master.pid\n' "$name"
		exit 1
	fi
	pid=$(<"$dir/run/master.pid")
	DOVECOT_PIDS+=("$pid")
	at_exit dovecot_kill "$pid" "$dir/dovecot.conf"
}

# Last resort at exit (a failed or interrupted run): SIGTERM to master PID
# when it is still the dovecot started with CONF.
dovecot_kill() {
	local pid=$1 conf=$2 cmd
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 0
	pid_gone "$pid" && return 0
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	[[ $cmd == *"$conf"* ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
}

dconf() { printf '%s' "$TMP/dovecot-$1/dovecot.conf"; }

# auth NAME USER PASSWORD: one passdb check, exit 0 (accepted) or 77.
# no-penalty: without it Dovecot's auth penalty (kept per client IP, here
# the empty one) delays each login after a failure by up to 15 s.
auth() {
	doveadm -c "$(dconf "$1")" auth test -x no-penalty "$2" "$3"
}

# Stop every Dovecot dovecot_start started (each takes about a second:
# together), then check that each master is gone.
dovecot_stop_all() {
	local conf pid i
	for conf in "$TMP"/dovecot-*/dovecot.conf; do
		doveadm -c "$conf" stop &
	done
	wait
	for pid in "${DOVECOT_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			pid_gone "$pid" && break
			sleep 0.1
		done
		ok "dovecot master $pid stopped" pid_gone "$pid"
	done
}
