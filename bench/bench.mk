# bench/bench.mk - the benchmarks of the top-level Makefile (docs/performance.md).
#
#   make bench         build every benchmark program, run bench/run.py: the
#                      table on stdout and in bench/results.md; and
#                      make bench-servers (about 2 minutes more)
#   make bench-build   only the programs, in build/bench/
#   make bench-check   one pass of every contender over every corpus: the
#                      contenders of a protocol must agree on what they
#                      found (part of make test)
#
#   make bench-servers sessions per second of a short IMAP, POP3 and SMTP
#                      dialogue against mailrig serve and against Dovecot,
#                      Exim and aiosmtpd on loopback, plain and TLS, and
#                      10,000 idle sessions' memory (bench/servers.py): the
#                      table on stdout and in bench/results-servers.md
#   make bench-servers-check  1 s per contender: mailrig serve and every
#                      real server installed must see zero errors
#   make bench-serve-check    the same for mailrig serve only (no root, no
#                      real server; part of make test)
#
# Variables: BENCH_ROUNDS (default 7), BENCH_MIN_MS (per measurement,
# default 300), BENCH_ARGS (more options for bench/run.py, see --help);
# BENCH_SERVERS_ROUNDS (default 3), BENCH_SERVERS_SECONDS (per measurement,
# default 2), BENCH_SERVERS_CONCURRENCY (default 16), BENCH_SERVERS_IDLE
# (idle connections, default 10000; 0 leaves the idle test out),
# BENCH_SERVERS_ARGS (more options for bench/servers.py, see --help).
#
# Each family of contenders is its own program, built only when its library
# is installed (ci/install-deps installs both): mr-bench-mailrig always,
# mr-bench-dovecot with dovecot-dev (libdovecot's lib-imap), mr-bench-etpan
# with libetpan-dev.

BENCH_ROUNDS ?= 7
BENCH_MIN_MS ?= 300
BENCH_ARGS   ?=

BENCH_DIR    := build/bench
BENCH_CFLAGS := $(BASE_CFLAGS) $(OPT_CFLAGS) -Ibench
BENCH_DEPS   := bench/mr_bench.h $(wildcard parsers/*/*.h common/*.h cli/*.h)

# Dovecot installs its headers and libdovecot.so outside the default paths;
# its headers want config.h first.  -isystem: warnings in them are theirs.
DOVECOT_INC    := /usr/include/dovecot
DOVECOT_CFLAGS := -isystem $(DOVECOT_INC) -include $(DOVECOT_INC)/config.h
DOVECOT_LIBS   := -L/usr/lib/dovecot -Wl,-rpath,/usr/lib/dovecot -ldovecot
ETPAN_CFLAGS   := $(shell pkg-config --cflags libetpan 2>/dev/null)
ETPAN_LIBS     := -letpan  # pkg-config adds dpkg's no-PIE specs file; plain -l is enough

BENCH_PROGS := $(BENCH_DIR)/mr-bench-mailrig
ifneq ($(wildcard $(DOVECOT_INC)/imap-parser.h),)
BENCH_PROGS += $(BENCH_DIR)/mr-bench-dovecot
endif
ifneq ($(wildcard /usr/include/libetpan/mailimap.h),)
BENCH_PROGS += $(BENCH_DIR)/mr-bench-etpan
endif

# The corpora: the committed captures (corpora/bench/*.trs) as raw
# .server/.client files, and the synthetic SMTP batch (fixed seed).
BENCH_TRS     := $(wildcard corpora/bench/*.trs)
BENCH_CORPORA := $(patsubst corpora/bench/%.trs,$(BENCH_DIR)/corpora/%.server,$(BENCH_TRS)) \
                 $(BENCH_DIR)/corpora/smtp-batch.server

.PHONY: bench bench-build bench-check bench-servers bench-servers-check bench-serve-check
bench-build: $(BENCH_PROGS) $(BENCH_CORPORA)

bench: bench-build bench-servers bench-conformance
	$(PYTHON) bench/run.py --rounds $(BENCH_ROUNDS) --min-ms $(BENCH_MIN_MS) \
	  --results bench/results.md $(BENCH_ARGS)

bench-check: bench-build
	$(PYTHON) bench/run.py --check

$(BENCH_DIR)/%.o: bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH_DIR)/family_dovecot.o: bench/family_dovecot.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(DOVECOT_CFLAGS) -c $< -o $@

$(BENCH_DIR)/family_etpan.o: bench/family_etpan.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(ETPAN_CFLAGS) -c $< -o $@

BENCH_LINK := $(BENCH_DIR)/mr_bench_main.o build/libmailrig-cli.a build/libmailrig.a

$(BENCH_DIR)/mr-bench-mailrig: $(BENCH_DIR)/family_mailrig.o $(BENCH_LINK)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(JANSSON_LIBS)

$(BENCH_DIR)/mr-bench-dovecot: $(BENCH_DIR)/family_dovecot.o $(BENCH_LINK)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(DOVECOT_LIBS) $(JANSSON_LIBS)

$(BENCH_DIR)/mr-bench-etpan: $(BENCH_DIR)/family_etpan.o $(BENCH_LINK)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(ETPAN_LIBS) $(JANSSON_LIBS)

$(BENCH_DIR)/corpora/%.server: corpora/bench/%.trs $(BENCH_DIR)/mr-bench-mailrig
	@mkdir -p $(dir $@)
	$(BENCH_DIR)/mr-bench-mailrig extract $< $(BENCH_DIR)/corpora/$*

$(BENCH_DIR)/corpora/smtp-batch.server: bench/make-smtp-batch.py
	@mkdir -p $(dir $@)
	$(PYTHON) bench/make-smtp-batch.py $(BENCH_DIR)/corpora/smtp-batch

# The server benchmarks (bench/servers.py): one client program for all.
BENCH_SERVERS_ROUNDS      ?= 3
BENCH_SERVERS_SECONDS     ?= 2
BENCH_SERVERS_CONCURRENCY ?= 16
BENCH_SERVERS_IDLE        ?= 10000
BENCH_SERVERS_ARGS        ?=

$(BENCH_DIR)/mr_loadgen: bench/mr_loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(SSL_LIBS)

bench-servers: $(BENCH_DIR)/mr_loadgen build/mailrig
	$(PYTHON) bench/servers.py --rounds $(BENCH_SERVERS_ROUNDS) \
	  --seconds $(BENCH_SERVERS_SECONDS) --concurrency $(BENCH_SERVERS_CONCURRENCY) \
	  --idle $(BENCH_SERVERS_IDLE) --results bench/results-servers.md $(BENCH_SERVERS_ARGS)

bench-servers-check: $(BENCH_DIR)/mr_loadgen build/mailrig
	$(PYTHON) bench/servers.py --check $(BENCH_SERVERS_ARGS)

bench-serve-check: $(BENCH_DIR)/mr_loadgen build/mailrig
	$(PYTHON) bench/servers.py --check --only '*/mailrig'
