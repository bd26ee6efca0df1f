# fuzz/fuzz.mk - the fuzzing targets of the top-level Makefile (docs/fuzzing.md).
#
#   make fuzz            every target with clang + libFuzzer + ASan + UBSan,
#                        through fuzz/build.sh (the OSS-Fuzz build), in build/fuzz/
#   make fuzz-run        run each for FUZZ_SECONDS (60) with JOBS (2) workers
#                        (fuzz/run.sh); FUZZ_TARGETS="fuzz_imap ..." picks some
#   make fuzz-seeds      seeds from the test cases and captures (build/fuzz/seeds/)
#   make fuzz-merge      minimise corpora/fuzz/ with what was found (-merge=1)
#   make fuzz-regress    replay every corpus file and crash reproducer through
#                        a plain driver under ASan+UBSan ($(CC); part of make test)
#   make fuzz-replay     the same through the libFuzzer builds (clang's UBSan
#                        reports more than gcc's; CI runs it)
#   make fuzz-afl        the same targets under AFL++ (fuzz/afl.sh)
#   make coverage        llvm-cov of parsers/ from the seed corpora (fuzz/coverage.sh)

FUZZ_CC      ?= clang-14
FUZZ_CXX     ?= clang++-14
FUZZ_CFLAGS  ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all -fsanitize=fuzzer-no-link
FUZZ_SECONDS ?= 60
JOBS         ?= 2
FUZZ_TARGETS ?=

FUZZ_NAMES := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SHARED := fuzz/mr_fuzz.c fuzz/regress_main.c

.PHONY: fuzz fuzz-run fuzz-seeds fuzz-merge fuzz-regress fuzz-replay fuzz-afl coverage

fuzz:
	CC=$(FUZZ_CC) CXX=$(FUZZ_CXX) CFLAGS="$(FUZZ_CFLAGS)" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	  OUT=$(CURDIR)/build/fuzz FUZZ_WERROR=$(WERROR) fuzz/build.sh

fuzz-run: fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) fuzz/run.sh $(FUZZ_TARGETS)

fuzz-seeds: build/mailrig
	rm -rf build/fuzz/seeds
	$(PYTHON) fuzz/make-seeds.py --mailrig build/mailrig build/fuzz/seeds

fuzz-merge: fuzz fuzz-seeds
	fuzz/merge.sh $(FUZZ_TARGETS)

fuzz-afl:
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) AFL_TARGETS="$(FUZZ_TARGETS)" fuzz/afl.sh

coverage:
	fuzz/coverage.sh

# The replay drivers: each target linked with regress_main.c on the
# sanitizer build of the library (no libFuzzer, so gcc works too).
build/asan/fuzz-regress/%: build/asan/fuzz/%.o $(patsubst %.c,build/asan/%.o,$(FUZZ_SHARED)) \
                           build/asan/libmailrig-cli.a build/asan/libmailrig-run.a build/asan/libmailrig-proto.a \
                           build/asan/libmailrig.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(JANSSON_LIBS) $(FAKE_LIBS) -lm

fuzz-regress: $(addprefix build/asan/fuzz-regress/,$(FUZZ_NAMES))
	@fail=; for t in $(FUZZ_NAMES); do \
	  dirs=; for d in corpora/fuzz/$$t fuzz/regressions/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  [ -n "$$dirs" ] || { echo "fuzz-regress: $$t has no corpus"; fail="$$fail $$t"; continue; }; \
	  ASAN_OPTIONS=detect_leaks=1 build/asan/fuzz-regress/$$t $$dirs || fail="$$fail $$t"; \
	done; if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; fi

# -runs=0: libFuzzer runs every input of the given folders once and stops.
fuzz-replay: fuzz
	@fail=; for t in $(FUZZ_NAMES); do \
	  dirs=; for d in corpora/fuzz/$$t fuzz/regressions/$$t; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  build/fuzz/$$t -runs=0 $$dirs > build/fuzz/$$t.replay.log 2>&1 \
	    && echo "fuzz-replay: $$t: $$(grep -o 'Done [0-9]* runs' build/fuzz/$$t.replay.log)" \
	    || { tail -30 build/fuzz/$$t.replay.log; fail="$$fail $$t"; }; \
	done; if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; fi
