# provd — build, test, run, install.
#
#   make                 build provd and provctl into build/
#   make check           install missing packages, build, run unit + integration
#                        tests, then the same suite again under ASan+UBSan
#   make run             start a private slapd + provd (tools/sandbox) and show it working
#   make bench           benchmarks in bench/ (ratios against ldapadd / openssl ca)
#   make fuzz            libFuzzer targets, each for FUZZ_SECONDS
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
             -DPROVD_DATADIR='"$(DATADIR)"' -DPROVD_SYSCONFDIR='"$(SYSCONFDIR)"' \
             -Iproto -Idaemon -Ipki -Itools/provctl
CFLAGS    += -std=c17 -g $(OPT) $(WARN) -fstack-protector-strong -fPIE -MMD -MP
LDFLAGS   += -pie -Wl,-z,relro,-z,now $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LIBS_DAEMON := -lldap -llber -lssl -lcrypto -lconfig -lunistring -lcrypt -lpthread
LIBS_TEST   := -lcmocka

PROTO_SRC  := $(wildcard proto/*.c)
CORE_SRC   := $(filter-out daemon/main.c,$(wildcard daemon/*.c)) $(wildcard pki/*.c)
PROVCTL_SRC := $(wildcard tools/provctl/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

PROTO_OBJ  := $(PROTO_SRC:%.c=$(BUILD)/%.o)
CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
PROVCTL_OBJ := $(PROVCTL_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/provd $(BUILD)/provctl

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libproto.a: $(PROTO_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libprovdcore.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/provd: $(BUILD)/daemon/main.o $(BUILD)/libprovdcore.a $(BUILD)/libproto.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

$(BUILD)/provctl: $(PROVCTL_OBJ) $(BUILD)/libproto.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# Each tests/unit/test_X.c is one cmocka program linked against the core.
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libprovdcore.a $(BUILD)/libproto.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_TEST)

unit-tests: $(UNIT_BIN)

deps:
	@tools/install-deps

# Unit tests, then integration tests against a real slapd, in the plain build
# and again in the sanitizer build.
check: deps
	$(MAKE) test-suite
	$(MAKE) SANITIZE=address,undefined test-suite
	$(MAKE) test-fuzz-smoke

test-suite: all unit-tests
	tests/run-unit $(BUILD)
	tests/run-integration $(BUILD)

test-unit: all unit-tests
	tests/run-unit $(BUILD)

test-integration: all
	tests/run-integration $(BUILD)

run: deps all
	tools/demo $(BUILD)

bench: deps all
	bench/run $(BUILD)

FUZZ_SECONDS ?= 600
FUZZ_BUILD := build-fuzz
fuzz: deps
	tests/fuzz/run $(FUZZ_SECONDS)
test-fuzz-smoke:
	tests/fuzz/run 20

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BUILD)/provd $(DESTDIR)$(SBINDIR)/provd
	install -m 0755 $(BUILD)/provctl $(DESTDIR)$(BINDIR)/provctl
	cp -R templates/. $(DESTDIR)$(DATADIR)/

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check test-suite test-unit test-integration unit-tests deps run bench fuzz test-fuzz-smoke install clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
