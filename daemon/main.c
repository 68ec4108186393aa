/*
 * provd — provisioning daemon for staff mailboxes and certificates.
 *
 * Start-up order (acquire, then drop): read and check the config and
 * templates, open the control socket, then drop to the service user and
 * check the drop worked, then run the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <ldap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "account_admin.h"
#include "audit.h"
#include "bootstrap.h"
#include "ca.h"
#include "ca_cmd.h"
#include "cert.h"
#include "check.h"
#include "escrow.h"
#include "crl.h"
#include "crlsync.h"
#include "renew.h"
#include "notice.h"
#include "ocsp.h"
#include "command.h"
#include "cert.h"
#include "config.h"
#include "control.h"
#include "dir.h"
#include "account.h"
#include "log.h"
#include "initialpw.h"
#include "olddomain.h"
#include "pendingpw.h"
#include "loop.h"
#include "provd.h"
#include "request.h"
#include "rollover.h"
#include "status.h"
#include "template.h"
#include "unitcount.h"
#include "units.h"
#include "whois.h"
#include "workpool.h"
#include "writer.h"
#include "xmalloc.h"

#define SHUTDOWN_GRACE_MS 30000

static struct provd pd;
static uint64_t shutdown_deadline;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: provd [-dnvJ] [-c FILE]\n"
	    "       provd [-c FILE] bootstrap --units UNITS.csv --credentials FILE "
	    "[-o FILE.ldif] [--threads N] STAFF.csv...\n"
	    "  -c FILE  configuration file (default %s/provd/provd.conf)\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -n       check the configuration and templates, then exit\n"
	    "  -J       verify the audit journal (provd stopped), then exit\n"
	    "  -v       verbose (debug) logging\n"
	    "  -V       print the version\n", PROVD_SYSCONFDIR);
}

/* request_done's audit step (request_set_audit): the journal. */
static int
audit_hook(const struct request *req, int code, const char *msg,
           request_durable_fn *durable, void *ctx)
{
	return audit_request(req->pd->audit, req, code, msg, durable, ctx);
}

/* Hooks by which lower layers reach higher ones: each layer includes only
 * itself and those below it (docs/architecture.md), so what runs across
 * layers upward is wired here, once. */
static void
wire_layers(void)
{
	request_set_audit(audit_hook);
	lifecycle_set_certs(cert_lifecycle, cert_lifecycle_preview);
	lifecycle_set_reissue(cert_lifecycle_move_reissue);
	account_purge_set_certs(escrow_expire);
	crl_set_hooks(&rollover_crl_hooks);
	ocsp_set_hooks(&rollover_ocsp_hooks);
	ca_show_set_more(rollover_show);
	if (whois_add_part(cert_whois_part) < 0)
		fatalx("whois: too many parts");
}

static int
load_template(const struct config *cfg, struct template **out, char *err, size_t errlen)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/account.ldif", cfg->template_dir);
	return template_load(path, out, err, errlen);
}

/* The writer lease shows another provider took writes while this provd
 * held it.  The lease entry may replicate before the other side's other
 * changes do, so the check runs again SPLIT_RECHECK_MS later, when
 * replication has had time to bring them (one pending re-run at most). */
#define SPLIT_RECHECK_MS 10000u

static struct timer *split_recheck;

static void
recheck_after_split(void *ctx)
{
	split_recheck = NULL;
	check_background(ctx, "after another provider took writes while this provd held the "
	                      "writer lease (again, once replication has caught up)");
}

static void
check_after_split(struct provd *p)
{
	check_background(p, "after another provider took writes while this provd held the "
	                    "writer lease");
	if (split_recheck == NULL)
		split_recheck = loop_timer(p->loop, SPLIT_RECHECK_MS, recheck_after_split, p);
}

/*
 * Requests are accepted once the unit list is read (every handler and
 * every scope check needs it), or once the directory is known to be down
 * (they then say so), or after ACCEPT_WAIT_MS at the latest.  Until then
 * clients wait in the socket's backlog instead of being told "unit list
 * not loaded" in the moment after a start.
 */
#define ACCEPT_WAIT_MS 5000u

static bool accepting;

static void
accept_requests(void *ctx)
{
	struct provd *p = ctx;

	if (accepting || p->stopping)
		return;
	accepting = true;
	if (control_start(p->control, p, command_dispatch) < 0)
		fatal("control socket");
}

static void
on_units_loaded(void *ctx, bool ok)
{
	(void)ok;
	accept_requests(ctx);
}

static void
on_dir_state(void *ctx, bool up)
{
	struct provd *p = ctx;

	writer_on_state(p->writer, up);
	if (!up)
		accept_requests(p);
	if (up) {
		units_reload(p, on_units_loaded, p);
		status_counts_refresh(p);
		unitcount_refresh(p);
		acct_upgrade_name_words(p);
		cert_upgrade_records(p);
	}
	/* Back after a loss (failover, healed partition): look for what the
	 * providers may have merged badly. */
	if (up && dir_reconnects(p->dir) > 0)
		check_background(p, "after the directory connection came back");
}

static void
shutdown_check(void *arg)
{
	(void)arg;
	/* Requests first; then the CRL's marker removals already sent (a
	 * marker left behind only costs the next publish a little work). */
	if ((control_active_requests(pd.control) == 0 && crl_clears_in_flight(&pd) == 0) ||
	    loop_now_ms() >= shutdown_deadline) {
		if (control_active_requests(pd.control) > 0)
			log_warnx("shutdown: %zu requests still running after %d s; exiting",
			          control_active_requests(pd.control), SHUTDOWN_GRACE_MS / 1000);
		loop_stop(pd.loop);
		return;
	}
	loop_timer(pd.loop, 50, shutdown_check, NULL);
}

static void
reload_config(void)
{
	struct config ncfg;
	struct template *ntpl = NULL;
	char err[512];

	if (config_load(pd.cfg.path, true, &ncfg, err, sizeof(err)) < 0) {
		log_warnx("reload: %s; keeping the running configuration", err);
		return;
	}
	if (load_template(&ncfg, &ntpl, err, sizeof(err)) < 0) {
		log_warnx("reload: %s; keeping the running configuration", err);
		config_free(&ncfg);
		return;
	}
	if (strcmp(ncfg.socket_path, pd.cfg.socket_path) != 0)
		log_warnx("reload: daemon.socket changed; it takes effect at restart");
	template_free(pd.account_tpl);
	pd.account_tpl = ntpl;
	/* Keep the socket path of the running instance. */
	free(ncfg.socket_path);
	ncfg.socket_path = xstrdup(pd.cfg.socket_path);
	config_free(&pd.cfg);
	pd.cfg = ncfg;
	log_set_facility(pd.cfg.syslog_facility);
	dir_reconfigure(pd.dir, &pd.cfg);
	olddomain_refresh(&pd);
	log_info("configuration reloaded from %s", pd.cfg.path);
}

static void
on_signal(void *arg, int fd, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)arg;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (pd.stopping)
				break;
			log_info("signal %u: finishing %zu requests in flight, then exiting",
			         si.ssi_signo, control_active_requests(pd.control));
			pd.stopping = true;
			control_stop_accepting(pd.control);
			shutdown_deadline = loop_now_ms() + SHUTDOWN_GRACE_MS;
			shutdown_check(NULL);
			break;
		case SIGHUP:
			reload_config();
			break;
		}
	}
}

/* Drop to the service user and verify the drop cannot be undone. */
static void
drop_privileges(const struct passwd *pw)
{
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		fatal("cannot drop privileges to %s", pw->pw_name);
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		fatalx("privilege drop to %s did not stick", pw->pw_name);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		fatalx("privilege drop to %s incomplete", pw->pw_name);
	/* A change of credentials resets the dumpable flag: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		fatal("cannot disable core dumps");
}

int
main(int argc, char **argv)
{
	const char *conf = PROVD_SYSCONFDIR "/provd/provd.conf";
	bool foreground = false, check_only = false, verbose = false, verify_journal = false;
	struct passwd *pw = NULL;
	uid_t sock_uid = (uid_t)-1, signer_uid = (uid_t)-1;
	gid_t sock_gid = (gid_t)-1;
	char err[1024];
	sigset_t sigs;
	int ch, sfd;

	/* "+": options stop at a subcommand (bootstrap), which has its own. */
	while ((ch = getopt(argc, argv, "+c:dnvJVh")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'd': foreground = true; break;
		case 'n': check_only = true; break;
		case 'J': verify_journal = true; break;
		case 'v': verbose = true; break;
		case 'V': printf("provd %s\n", PROVD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default:  usage(stderr); return 2;
		}
	}
	if (optind != argc && strcmp(argv[optind], "bootstrap") != 0) {
		usage(stderr);
		return 2;
	}
	log_init("provd", foreground || check_only || verify_journal || optind != argc,
	         LOG_DAEMON);
	log_set_verbose(verbose);

	/* Keep secrets (the bind password, generated passwords) out of core
	 * dumps and away from ptrace, before the first one is read. */
	{
		struct rlimit none = { 0, 0 };

		if (prctl(PR_SET_DUMPABLE, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0)
			fatal("cannot disable core dumps");
	}

	if (config_load(conf, true, &pd.cfg, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (load_template(&pd.cfg, &pd.account_tpl, err, sizeof(err)) < 0)
		fatalx("%s", err);
	command_check_table();
	wire_layers();
	if (optind != argc) {
		int rc = bootstrap_main(&pd, argc - optind, argv + optind);

		template_free(pd.account_tpl);
		config_free(&pd.cfg);
		return rc;
	}
	if (verify_journal) {
		int rc = audit_verify_offline(pd.cfg.state_dir, err, sizeof(err));

		printf("%s\n", err);
		template_free(pd.account_tpl);
		config_free(&pd.cfg);
		return rc == 0 ? 0 : rc == 1 ? 1 : 2;
	}
	if (check_only) {
		printf("%s: configuration OK\n", conf);
		template_free(pd.account_tpl);
		config_free(&pd.cfg);
		return 0;
	}
	if (!foreground)
		log_init("provd", false, pd.cfg.syslog_facility);

	signal(SIGPIPE, SIG_IGN);

	if (pd.cfg.user != NULL && geteuid() == 0) {
		if ((pw = getpwnam(pd.cfg.user)) == NULL)
			fatalx("daemon.user: no such user '%s'", pd.cfg.user);
		sock_uid = pw->pw_uid;
		sock_gid = pw->pw_gid;
	}
	if (pd.cfg.socket_group != NULL) {
		struct group *gr = getgrnam(pd.cfg.socket_group);

		if (gr == NULL)
			log_warnx("daemon.socket_group: no such group '%s'; "
			          "socket keeps its default group", pd.cfg.socket_group);
		else
			sock_gid = gr->gr_gid;
	}
	if (mkdir(pd.cfg.state_dir, 0750) < 0 && errno != EEXIST)
		fatal("state_dir %s", pd.cfg.state_dir);
	if (pw != NULL && chown(pd.cfg.state_dir, pw->pw_uid, pw->pw_gid) < 0)
		fatal("chown %s", pd.cfg.state_dir);
	if (control_open(&pd.control, pd.cfg.socket_path, sock_uid, sock_gid,
	                 err, sizeof(err)) < 0)
		fatalx("%s", err);
	/* From here a refusal removes the socket again: a listener nobody
	 * serves would look like a provd that hangs. */
	if (audit_open(&pd.audit, pd.cfg.state_dir, err, sizeof(err)) < 0) {
		control_free(pd.control);
		fatalx("audit: %s", err);
	}
	/* The signer is forked before any thread exists and before the engine
	 * drops privileges; it drops them itself and alone reads the CA key. */
	if (pd.cfg.signer_user != NULL && pw != NULL) {
		/* getpwnam_r: pw points into getpwnam's static storage. */
		struct passwd sbuf, *spw = NULL;
		char strs[4096];

		if (getpwnam_r(pd.cfg.signer_user, &sbuf, strs, sizeof(strs), &spw) != 0 ||
		    spw == NULL) {
			control_free(pd.control);
			fatalx("daemon.signer_user: no such user '%s'", pd.cfg.signer_user);
		}
		if (spw->pw_uid == 0 || spw->pw_uid == pw->pw_uid) {
			control_free(pd.control);
			fatalx("daemon.signer_user '%s' must be neither root nor daemon.user",
			       pd.cfg.signer_user);
		}
		signer_uid = spw->pw_uid;
	} else if (pd.cfg.signer_user != NULL) {
		log_warnx("daemon.signer_user is ignored: provd was not started as root "
		          "with daemon.user set");
	}
	if (ca_start(&pd, pw != NULL, pw ? pw->pw_uid : 0, pw ? pw->pw_gid : 0,
	             signer_uid, err, sizeof(err)) < 0 ||
	    (ca_ready(&pd) &&
	     rollover_load(&pd, pw != NULL, pw == NULL ? 0 : signer_uid != (uid_t)-1 ?
	                   signer_uid : pw->pw_uid, pw ? pw->pw_gid : 0, err, sizeof(err)) < 0)) {
		control_free(pd.control);
		fatalx("%s", err);
	}

	if (pw != NULL)
		drop_privileges(pw);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("signalfd");

	if ((pd.loop = loop_new()) == NULL)
		fatal("event loop");
	if (loop_add_fd(pd.loop, sfd, EPOLLIN, on_signal, NULL) < 0)
		fatal("event loop");
	pd.units = units_new();
	if ((pd.hashers = workpool_new(pd.loop, pd.cfg.hash_threads)) == NULL)
		fatal("start-up: worker pool");
	pd.dir = dir_new(pd.loop, &pd.cfg);
	pd.writer = writer_new(&pd, check_after_split);
	pd.started = time(NULL);
	(void)loop_timer(pd.loop, ACCEPT_WAIT_MS, accept_requests, &pd);
	dir_on_state(pd.dir, on_dir_state, &pd);
	status_counts_start(&pd);
	unitcount_start(&pd);
	account_start(&pd);
	dir_start(pd.dir);
	if (ca_ready(&pd))
		crl_start_timer(&pd);
	ca_supervise_start(&pd);
	initialpw_start(&pd);
	olddomain_start(&pd);
	(void)pendingpw_recover(&pd);
	crlsync_start(&pd);
	renew_start_timer(&pd);
	if (notice_start(&pd) < 0)
		fatal("expiry notice template");
	log_info("provd %s ready on %s (directory %s)", PROVD_VERSION,
	         pd.cfg.socket_path, dir_uri(pd.dir));

	loop_run(pd.loop);

	log_info("provd stopping");
	status_counts_stop(&pd);
	unitcount_stop(&pd);
	account_stop();
	control_free(pd.control);
	workpool_free(pd.hashers);
	initialpw_stop(&pd);
	olddomain_stop();
	crlsync_stop();
	writer_free(pd.writer);
	dir_free(pd.dir);
	if (pd.pki != NULL) {
		crl_state_free(pd.pki->crl);
		ocsp_state_free(pd.pki->ocsp);
	}
	if (pd.pki != NULL)
		rollover_free(pd.pki);
	ca_stop(pd.pki);
	loop_free(pd.loop);
	units_unref(pd.units);
	audit_close(pd.audit);
	template_free(pd.account_tpl);
	config_free(&pd.cfg);
	close(sfd);
	return 0;
}
