# mailrig - one command builds (make), one runs the tests (make test).
#
#   make              libmailrig.a and the mailrig tool, in build/
#   make test         unit tests (cmocka) and pytest, on a plain build and
#                     on an ASan+UBSan build (build/asan/), one pass of
#                     every benchmark contender (make bench-check), and the
#                     server load generator against mailrig serve with
#                     zero errors (make bench-serve-check)
#   make test-plain   the same on the plain build only
#   make test-asan    the same on the sanitizer build only, and the fuzz
#                     corpora replayed (make fuzz-regress)
#   make fuzz, fuzz-run, fuzz-merge, fuzz-afl, coverage: see fuzz/fuzz.mk
#   make bench        the parsers against Dovecot, libetpan and Python, side
#                     by side, the fake servers against Dovecot, and the
#                     scenario library's wall time against curl
#                     (bench/bench.mk, docs/performance.md)
#   make demo         the scenario library against curl: a verdict table
#   make matrix       every installed client against the library:
#                     docs/conformance-matrix.md (conformance/conformance.mk)
#   make clean
#
# Variables: CC (default cc), WERROR=0 to let warnings pass, PYTHON
# (default /usr/bin/python3, the interpreter Debian's pytest is for).

CC      ?= cc
# The build rules below are generated before "all" is defined; without this
# the first generated target (build/libmailrig.a) would be the default.
.DEFAULT_GOAL := all
PYTHON  ?= /usr/bin/python3
WERROR  ?= 1
PKGS    := jansson cmocka

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -Iparsers -Icommon -Icli -Ifake-servers \
               -Iconformance/runner -DMR_DEFAULT_MAILBOX='"$(CURDIR)/corpora/mailbox/default"' \
               -DMR_CLIENTS_DIR='"$(CURDIR)/conformance/clients"'
OPT_CFLAGS  ?= -O2 -g
ASAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

JANSSON_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
JANSSON_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
CMOCKA_LIBS    := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
GMIME_CFLAGS   := $(shell pkg-config --cflags gmime-3.0 2>/dev/null)
GMIME_LIBS     := $(shell pkg-config --libs gmime-3.0 2>/dev/null || echo -lgmime-3.0 -lgobject-2.0 -lglib-2.0)
SSL_LIBS       := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
FAKE_LIBS      := $(SSL_LIBS) $(GMIME_LIBS)

# The parser library: the shared core, one directory per protocol, and
# the transcript reader (common/).  No dependency beyond libc.
LIB_SRCS  := $(wildcard parsers/core/*.c) $(wildcard parsers/pop3/*.c) \
             $(wildcard parsers/smtp/*.c) $(wildcard parsers/imap/*.c) \
             $(wildcard common/*.c)
# The command-line tool: everything in cli/ (JSON output via jansson).
CLI_SRCS  := $(wildcard cli/*.c)
CLI_MAIN  := cli/main.c
CLI_LIBSRCS := $(filter-out $(CLI_MAIN),$(CLI_SRCS))
# The fake servers (fake-servers/, docs/fake-servers.md), in two parts:
# libmailrig-proto.a, the protocol modules, command readers, scenario
# reader, mailbox (GMime, OpenSSL's crypto for CRAM-MD5), and
# libmailrig-serve.a, the engine: event loop, TLS, certificates, scenario
# engine, results, and "mailrig serve".  The protocol modules' unit tests
# (tests/unit/test_fake_*.c) link the first with a stand-in for the
# second (tests/unit/mr_mocksess.c).
FAKE_SRCS  := $(wildcard fake-servers/*.c)
SERVE_SRCS := $(filter $(addprefix fake-servers/,mr_server.c mr_engine.c mr_report.c mr_certs.c mr_serve.c),$(FAKE_SRCS))
PROTO_SRCS := $(filter-out $(SERVE_SRCS),$(FAKE_SRCS))
# The conformance runner, "mailrig run" (conformance/runner/,
# docs/conformance.md): profiles, the job loop, judging and reports.
RUN_SRCS  := $(wildcard conformance/runner/*.c)
# One cmocka program per tests/unit/test_*.c.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

# $(1) = build dir, $(2) = extra CFLAGS
define build_rules
$(1)/%.o: %.c $(wildcard parsers/*/*.h common/*.h cli/*.h tests/unit/*.h fuzz/*.h fake-servers/*.h conformance/runner/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BASE_CFLAGS) $(2) $$(JANSSON_CFLAGS) $$(GMIME_CFLAGS) -c $$< -o $$@

$(1)/libmailrig.a: $(patsubst %.c,$(1)/%.o,$(LIB_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/libmailrig-cli.a: $(patsubst %.c,$(1)/%.o,$(CLI_LIBSRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/libmailrig-proto.a: $(patsubst %.c,$(1)/%.o,$(PROTO_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/libmailrig-serve.a: $(patsubst %.c,$(1)/%.o,$(SERVE_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/libmailrig-run.a: $(patsubst %.c,$(1)/%.o,$(RUN_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(1)/mailrig: $(1)/cli/main.o $(1)/libmailrig-cli.a $(1)/libmailrig-run.a $(1)/libmailrig-serve.a $(1)/libmailrig-proto.a $(1)/libmailrig.a
	$$(CC) $(2) -o $$@ $$^ $$(JANSSON_LIBS) $$(FAKE_LIBS)

$(1)/tests/%: $(1)/tests/unit/%.o $(1)/libmailrig-cli.a $(1)/libmailrig-serve.a $(1)/libmailrig-proto.a $(1)/libmailrig.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(CMOCKA_LIBS) $$(JANSSON_LIBS) $$(FAKE_LIBS)

$(1)/tests/test_fake_%: $(1)/tests/unit/test_fake_%.o $(1)/tests/unit/mr_mocksess.o $(1)/libmailrig-proto.a $(1)/libmailrig.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(CMOCKA_LIBS) $$(JANSSON_LIBS) $$(FAKE_LIBS)
endef

$(eval $(call build_rules,build,$(OPT_CFLAGS)))
$(eval $(call build_rules,build/asan,$(ASAN_FLAGS)))

UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))

.PHONY: all test test-plain test-asan clean unit-plain unit-asan pytest-plain pytest-asan check-python
all: build/libmailrig.a build/mailrig drivers
	@ln -sf build/mailrig mailrig 2>/dev/null || true

check-python:
	@$(PYTHON) -c 'import pytest' 2>/dev/null || { \
	  echo "error: $(PYTHON) has no pytest; run ci/install-deps (python3-pytest)"; exit 1; }

# Unit tests read their data relative to the top directory.
# Every program runs even when one fails; the target fails at the end.
unit-plain: $(addprefix build/tests/,$(UNIT_NAMES))
	@fail=; for t in $^; do echo "== $$t"; $$t || fail="$$fail $$t"; done; \
	 if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; fi

unit-asan: $(addprefix build/asan/tests/,$(UNIT_NAMES))
	@fail=; for t in $^; do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t || fail="$$fail $$t"; done; \
	 if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; fi

# Keep object files between runs.
.SECONDARY:

pytest-plain: build/mailrig check-python
	MAILRIG=$(CURDIR)/build/mailrig $(PYTHON) -m pytest -q tests

pytest-asan: build/asan/mailrig check-python
	MAILRIG=$(CURDIR)/build/asan/mailrig $(PYTHON) -m pytest -q tests

test-plain: all unit-plain pytest-plain
test-asan: unit-asan pytest-asan fuzz-regress
test: test-plain test-asan bench-check bench-serve-check

clean:
	rm -rf build mailrig

include fuzz/fuzz.mk
include bench/bench.mk
include conformance/conformance.mk
