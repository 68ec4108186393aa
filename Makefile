# provd — build, test, run, install.
#
#   make                 build provd and provctl into build/
#   make check           install missing packages, check the format of the files
#                        in .clang-format-files, that every mutant of
#                        tests/mutation/mutants still applies, build, run unit + integration
#                        tests, then the same suite again under ASan+UBSan
#   make run             start a private slapd + provd (tools/sandbox) and show it working
#   make bench           benchmarks in bench/ (ratios against ldapadd / openssl ca;
#                        bench/fair: ping latency under hostile callers, as root)
#   make deb             the Debian package into build/deb (dpkg-buildpackage, lintian)
#   make fuzz            libFuzzer targets, each for FUZZ_SECONDS
#   make mutate          apply each mutant of tests/mutation/mutants, run the
#                        tests meant to kill it, print the score and survivors
#                        (MUTANTS="m01 m02" for some; only the list's
#                        applicability is part of check)
#   make SANITIZE=address,undefined   sanitizer build (into build-san/)
#   make CC=clang        any C17 compiler: gcc and clang are both kept warning-free

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
DATADIR   ?= $(PREFIX)/share/provd
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
VERSION   := 0.1.0

CC        ?= cc
SANITIZE  ?=
ifeq ($(SANITIZE),)
BUILD     ?= build
OPT       ?= -O2 -D_FORTIFY_SOURCE=2
else
BUILD     ?= build-san
OPT       ?= -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wpointer-arith -Wcast-qual -Werror=format-security \
             -Werror=implicit-function-declaration -Werror
CPPFLAGS  += -D_GNU_SOURCE -DPROVD_VERSION='"$(VERSION)"' \
             -DPROVD_DATADIR='"$(DATADIR)"' -DPROVD_SYSCONFDIR='"$(SYSCONFDIR)"'
CFLAGS    += -std=c17 -g $(OPT) $(WARN) -fstack-protector-strong -fPIE -MMD -MP
LDFLAGS   += -pie -Wl,-z,relro,-z,now $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LIBS_SELF   := -lmicrohttpd
LIBS_DAEMON := -lldap -llber -lssl -lcrypto -lconfig -lunistring -lcrypt -lseccomp -lpthread
LIBS_TEST   := -lcmocka
LIBS_OCSPD  := -lmicrohttpd -lcrypto -lpthread

# Layers (docs/architecture.md): a source file sees the headers of its own
# folder and of the layers below it, nothing else, so an upward #include
# does not build.  proto/ and pki/ are libraries below the daemon; main.c
# and the command table (daemon/) sit on top and see everything; tests and
# fuzzers too.  tools/include-graph checks the same order from the sources.
INC_proto             := -Iproto
INC_pki               := -Ipki -Iproto -I/usr/include/p11-kit-1
INC_daemon/core       := -Idaemon/core -Iproto -Ipki
INC_daemon/directory  := -Idaemon/directory $(INC_daemon/core)
INC_daemon/ctl        := -Idaemon/ctl $(INC_daemon/directory)
INC_daemon/accounts   := -Idaemon/accounts $(INC_daemon/ctl)
INC_daemon/certs      := -Idaemon/certs $(INC_daemon/accounts)
INC_daemon            := -Idaemon $(INC_daemon/certs)
INC_tools/provctl     := -Itools/provctl -Iproto
INC_tools/keygen      := -Itools/keygen -Ipki
INC_tools/provd-self  := -Itools/provd-self -Idaemon/directory -Idaemon/core -Iproto -Ipki
INC_ocsp              := -Iocsp -Ipki
INC_ALL               := $(INC_daemon) -Itools/provctl
inc_of = $(or $(INC_$(patsubst %/,%,$(dir $(1)))),$(INC_ALL))

PROTO_SRC  := $(wildcard proto/*.c)
CORE_SRC   := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c)) $(wildcard pki/*.c)
PROVCTL_SRC := $(wildcard tools/provctl/*.c)
OCSPD_SRC  := $(wildcard ocsp/*.c)
SELF_SRC   := $(wildcard tools/provd-self/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

PROTO_OBJ  := $(PROTO_SRC:%.c=$(BUILD)/%.o)
CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
PROVCTL_OBJ := $(PROVCTL_SRC:%.c=$(BUILD)/%.o)
OCSPD_OBJ  := $(OCSPD_SRC:%.c=$(BUILD)/%.o)
SELF_OBJ   := $(SELF_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/provd $(BUILD)/provctl $(BUILD)/provd-ocsp $(BUILD)/provd-self $(BUILD)/provd-keygen

# The paths compiled in (DATADIR, SYSCONFDIR): the stamp changes when they
# do, so `make install PREFIX=/usr` after a plain `make` rebuilds instead of
# installing a provd that looks in /usr/local/share.
PATHS_STAMP := $(BUILD)/paths.stamp
PATHS_TEXT  := DATADIR=$(DATADIR) SYSCONFDIR=$(SYSCONFDIR) VERSION=$(VERSION)
$(PATHS_STAMP): FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(PATHS_TEXT)' ]; then \
		printf '%s\n' '$(PATHS_TEXT)' >$@; fi
FORCE:

$(BUILD)/%.o: %.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(call inc_of,$<) $(CFLAGS) -c -o $@ $<

$(BUILD)/libproto.a: $(PROTO_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libprovdcore.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/provd: $(BUILD)/daemon/main.o $(BUILD)/libprovdcore.a $(BUILD)/libproto.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

# The short-lived helper that makes server-side key pairs (cert issue --generate).
$(BUILD)/provd-keygen: $(BUILD)/tools/keygen/main.o $(BUILD)/libprovdcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

$(BUILD)/provctl: $(PROVCTL_OBJ) $(BUILD)/libproto.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The OCSP responder takes only the request reader and the error responses
# from the core (a static archive: nothing else is linked in).
$(BUILD)/provd-ocsp: $(OCSPD_OBJ) $(BUILD)/libprovdcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_OCSPD)

# The self-service password page: its own program (names and hex come
# from the core library; nothing of the engine is linked in).
$(BUILD)/provd-self: $(SELF_OBJ) $(BUILD)/libprovdcore.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SELF) $(LIBS_DAEMON)

# provd-self's unit test also links the page's own modules (not its main).
$(BUILD)/tests/unit/test_self.o: CPPFLAGS += -Itools/provd-self
$(BUILD)/tests/test_self: $(BUILD)/tests/unit/test_self.o \
    $(filter-out %/main.o,$(SELF_OBJ)) $(BUILD)/libprovdcore.a $(BUILD)/libproto.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_SELF) $(LIBS_DAEMON) $(LIBS_TEST)

# Each tests/unit/test_X.c is one cmocka program linked against the core.
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libprovdcore.a $(BUILD)/libproto.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_TEST)

unit-tests: $(UNIT_BIN)

deps:
	@tools/install-deps --mail

# Unit tests, then integration tests against a real slapd, in the plain build
# and again in the sanitizer build.
# Integration tests run CHECK_JOBS at a time (tests/run-integration: each
# keeps its own output, printed in order; "# itest: alone" tests run by
# themselves); one at a time by default, as several of them measure latency
# on the two cores CI has.  The sanitizer pass runs CHECK_SAN_JOBS at a time
# (default CHECK_JOBS): it looks for memory errors, and the tests with a
# latency or time bound are marked alone, but on a loaded machine two at a
# time can push the longest (test_authz) past TEST_TIMEOUT.  It does not
# repeat the tests that build their own tree ("# itest: build-independent");
# the fuzz targets, which measure nothing, run two at a time.
CHECK_JOBS ?= 1
CHECK_SAN_JOBS ?= $(CHECK_JOBS)
check: deps
	$(MAKE) check-format
	tests/mutation/run -n
	$(MAKE) TEST_JOBS=$(CHECK_JOBS) test-suite
	$(MAKE) SANITIZE=address,undefined TEST_JOBS=$(CHECK_SAN_JOBS) SKIP_BUILD_INDEPENDENT=1 test-suite
	$(MAKE) FUZZ_JOBS=2 test-fuzz-smoke

# The files listed in .clang-format-files must be as clang-format leaves them.
CLANG_FORMAT ?= clang-format
check-format:
	@bad=0; for f in $$(grep -v '^\#' .clang-format-files); do \
		if ! $(CLANG_FORMAT) --style=file "$$f" | cmp -s - "$$f"; then \
			echo "check-format: $$f is not formatted (run $(CLANG_FORMAT) -i $$f)"; bad=1; \
		fi; \
	done; exit $$bad

TEST_JOBS ?= 1
SKIP_BUILD_INDEPENDENT ?= 0
FUZZ_JOBS ?= 1
test-suite: all unit-tests
	tests/run-unit $(BUILD)
	TEST_JOBS=$(TEST_JOBS) SKIP_BUILD_INDEPENDENT=$(SKIP_BUILD_INDEPENDENT) tests/run-integration $(BUILD)

test-unit: all unit-tests
	tests/run-unit $(BUILD)

test-integration: all
	TEST_JOBS=$(TEST_JOBS) tests/run-integration $(BUILD)

run: deps all
	tools/demo $(BUILD)

bench: deps all
	bench/run $(BUILD)

# Mutation testing, on a copy of the tree (tests/mutation/run).
MUTANTS ?=
mutate: all unit-tests
	tests/mutation/run $(MUTANTS)

FUZZ_SECONDS ?= 600
FUZZ_BUILD := build-fuzz
fuzz: deps
	tests/fuzz/run $(FUZZ_SECONDS)
test-fuzz-smoke:
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run 10

# make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]: programs, templates,
# man pages, systemd unit (+ sysusers.d, tmpfiles.d), bash completion, docs
# and example configuration.  Nothing is written under SYSCONFDIR: the
# example goes to $(DATADIR)/examples, the operator copies it to /etc.
# Paths baked into the unit and the example (/usr/local/..., /etc/provd)
# follow SBINDIR, DATADIR and SYSCONFDIR.
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR      ?= $(PREFIX)/share/doc/provd

INSTALL_TEMPLATES := $(wildcard templates/*.ldif)
INSTALL_PROFILES  := $(wildcard templates/profiles/*.conf)
INSTALL_SCHEMA    := $(wildcard templates/schema/*.ldif)
INSTALL_NOTICES   := $(wildcard templates/notice/*.txt)
INSTALL_UNITS     := $(wildcard etc/units/*.csv)
INSTALL_REORG     := $(wildcard etc/reorg/*.csv)
INSTALL_MAN1      := docs/man/provctl.1
INSTALL_MAN5      := docs/man/provd.conf.5
INSTALL_MAN8      := docs/man/provd.8 docs/man/provd-ocsp.8 docs/man/provd-self.8
INSTALL_DOCS      := README.md $(wildcard docs/*.md)
# Regular files only (a directory's "$f/." exists, a file's does not).
install_files = $(foreach f,$(wildcard $(1)),$(if $(wildcard $(f)/.),,$(f)))
INSTALL_EX_DOVECOT := $(call install_files,etc/dovecot/*)
INSTALL_EX_POSTFIX := $(call install_files,etc/postfix/*)
INSTALL_PATHS := -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
                 -e 's|/usr/local/share/provd|$(DATADIR)|g' \
                 -e 's|/etc/provd/|$(SYSCONFDIR)/provd/|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(DATADIR)/profiles $(DESTDIR)$(DATADIR)/schema $(DESTDIR)$(DATADIR)/notice \
	    $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(DATADIR)/units $(DESTDIR)$(DATADIR)/reorg \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/provd $(DESTDIR)$(SBINDIR)/provd
	install -m 0755 $(BUILD)/provd-keygen $(DESTDIR)$(SBINDIR)/provd-keygen
	install -m 0755 $(BUILD)/provctl $(DESTDIR)$(BINDIR)/provctl
	install -m 0755 $(BUILD)/provd-ocsp $(DESTDIR)$(SBINDIR)/provd-ocsp
	install -m 0755 $(BUILD)/provd-self $(DESTDIR)$(SBINDIR)/provd-self
	install -m 0644 templates/self/common-passwords.txt $(DESTDIR)$(DATADIR)/common-passwords.txt
	sed $(INSTALL_PATHS) etc/self/self.conf >$(DESTDIR)$(DATADIR)/examples/self.conf
	chmod 0644 $(DESTDIR)$(DATADIR)/examples/self.conf
	sed $(INSTALL_PATHS) etc/systemd/provd-self.service >$(DESTDIR)$(SYSTEMDDIR)/provd-self.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/provd-self.service
	install -m 0644 $(INSTALL_TEMPLATES) $(DESTDIR)$(DATADIR)/
	$(if $(INSTALL_PROFILES),install -m 0644 $(INSTALL_PROFILES) $(DESTDIR)$(DATADIR)/profiles/)
	$(if $(INSTALL_SCHEMA),install -m 0644 $(INSTALL_SCHEMA) $(DESTDIR)$(DATADIR)/schema/)
	$(if $(INSTALL_NOTICES),install -m 0644 $(INSTALL_NOTICES) $(DESTDIR)$(DATADIR)/notice/)
	$(if $(INSTALL_UNITS),install -m 0644 $(INSTALL_UNITS) $(DESTDIR)$(DATADIR)/units/)
	$(if $(INSTALL_REORG),install -m 0644 $(INSTALL_REORG) $(DESTDIR)$(DATADIR)/reorg/)
	sed $(INSTALL_PATHS) etc/provd.conf >$(DESTDIR)$(DATADIR)/examples/provd.conf
	chmod 0644 $(DESTDIR)$(DATADIR)/examples/provd.conf
	$(if $(INSTALL_EX_DOVECOT),install -d $(DESTDIR)$(DATADIR)/examples/dovecot)
	$(if $(INSTALL_EX_DOVECOT),install -m 0644 $(INSTALL_EX_DOVECOT) $(DESTDIR)$(DATADIR)/examples/dovecot/)
	$(if $(INSTALL_EX_POSTFIX),install -d $(DESTDIR)$(DATADIR)/examples/postfix)
	$(if $(INSTALL_EX_POSTFIX),install -m 0644 $(INSTALL_EX_POSTFIX) $(DESTDIR)$(DATADIR)/examples/postfix/)
	install -m 0644 $(INSTALL_MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(INSTALL_MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(MANDIR)/man8/
	sed $(INSTALL_PATHS) etc/systemd/provd.service >$(DESTDIR)$(SYSTEMDDIR)/provd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/provd.service
	sed $(INSTALL_PATHS) etc/systemd/provd-ocsp.service >$(DESTDIR)$(SYSTEMDDIR)/provd-ocsp.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/provd-ocsp.service
	install -m 0644 etc/systemd/provd.sysusers $(DESTDIR)$(SYSUSERSDIR)/provd.conf
	install -m 0644 etc/systemd/provd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/provd.conf
	install -m 0644 tools/completion/provctl.bash $(DESTDIR)$(BASHCOMPDIR)/provctl
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/

# Removes exactly what install put there (and the directories only provd
# uses); shared directories such as $(MANDIR)/man1 stay.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/provd $(DESTDIR)$(SBINDIR)/provd-ocsp $(DESTDIR)$(BINDIR)/provctl \
	    $(DESTDIR)$(SBINDIR)/provd-self $(DESTDIR)$(SBINDIR)/provd-keygen
	rm -f $(DESTDIR)$(DATADIR)/common-passwords.txt $(DESTDIR)$(DATADIR)/examples/self.conf \
	    $(DESTDIR)$(SYSTEMDDIR)/provd-self.service
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(INSTALL_TEMPLATES)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/profiles/,$(notdir $(INSTALL_PROFILES)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/schema/,$(notdir $(INSTALL_SCHEMA)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/notice/,$(notdir $(INSTALL_NOTICES)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/units/,$(notdir $(INSTALL_UNITS)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/reorg/,$(notdir $(INSTALL_REORG)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/examples/dovecot/,$(notdir $(INSTALL_EX_DOVECOT)))
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/examples/postfix/,$(notdir $(INSTALL_EX_POSTFIX)))
	rm -f $(DESTDIR)$(DATADIR)/examples/provd.conf
	rm -f $(DESTDIR)$(MANDIR)/man1/provctl.1 $(DESTDIR)$(MANDIR)/man5/provd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/provd.8 $(DESTDIR)$(MANDIR)/man8/provd-ocsp.8 \
	    $(DESTDIR)$(MANDIR)/man8/provd-self.8
	rm -f $(DESTDIR)$(SYSTEMDDIR)/provd.service $(DESTDIR)$(SYSTEMDDIR)/provd-ocsp.service \
	    $(DESTDIR)$(SYSUSERSDIR)/provd.conf \
	    $(DESTDIR)$(TMPFILESDIR)/provd.conf $(DESTDIR)$(BASHCOMPDIR)/provctl
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
	for d in $(DESTDIR)$(DATADIR)/examples/dovecot $(DESTDIR)$(DATADIR)/examples/postfix \
	    $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(DATADIR)/profiles \
	    $(DESTDIR)$(DATADIR)/schema $(DESTDIR)$(DATADIR)/notice $(DESTDIR)$(DATADIR)/units \
	    $(DESTDIR)$(DATADIR)/reorg \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR); do \
		if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d"; fi; \
	done

# make deb: the Debian package (debian/), built with dpkg-buildpackage from
# a copy of the tracked files in $(BUILD)/deb, so the .deb and its
# companions land in $(BUILD)/deb and not next to the repository.  Then
# lintian, which must report no error.
DEB_DIR := $(BUILD)/deb
deb: deps
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/provd-$(VERSION)
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - --; \
	else \
		tar cf - --exclude='./build*' --exclude=./run .; \
	fi | tar xf - -C $(DEB_DIR)/provd-$(VERSION)
	cd $(DEB_DIR)/provd-$(VERSION) && env -u BUILD -u MAKEFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/provd_$(VERSION)_*.deb

clean:
	rm -rf build build-san build-fuzz

.PHONY: FORCE deb mutate all check check-format test-suite test-unit test-integration unit-tests deps run bench fuzz test-fuzz-smoke install uninstall clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
