#!/usr/bin/env bash
# fuzz/build.sh - build every fuzz target, the way OSS-Fuzz and
# ClusterFuzzLite call a project's build script (docs/fuzzing.md).
#
# Contract (https://google.github.io/oss-fuzz/getting-started/new-project-guide/):
#   $CC, $CXX, $CFLAGS      the compiler and flags (sanitizers included)
#   $LIB_FUZZING_ENGINE     what to link for the engine (-fsanitize=fuzzer,
#                           AFL++'s driver, ...); "standalone" links
#                           fuzz/regress_main.c instead (no engine: replays
#                           files; make coverage uses it)
#   $OUT                    where targets, <target>.options, the .dict files
#                           and <target>_seed_corpus.zip go
#   $WORK                   scratch space for objects (default $OUT/obj)
# Extra knobs for local builds: FUZZ_WERROR=1 adds -Werror, JOBS=N
# compiles N files at a time.
#
# Every fuzz/fuzz_*.c is a target.  A target whose source holds the line
# "/* fuzz/build.sh: full ... */" also links the fake servers' protocol
# modules, mailbox, MIME views and SASL (fake-servers/mr_*.c without the
# engine: mr_server.c, mr_engine.c, mr_report.c, mr_serve.c, mr_certs.c,
# which need sockets and a main), with GMime and OpenSSL's libcrypto; when
# pkg-config finds no gmime-3.0 (OSS-Fuzz's base image), those targets are
# skipped with a message.  Its options file is
# fuzz/<target>.options and names its dictionary; the dictionaries are
# fuzz/*.dict, plus mail.dict (all of them together) for the targets that
# take every protocol.  Seeds come from corpora/fuzz/<target>/.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang}
CXX=${CXX:-clang++}
CFLAGS=${CFLAGS:-}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}
OUT=${OUT:-$TOP/build/fuzz}
WORK=${WORK:-$OUT/obj}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
WORK=$(cd "$WORK" && pwd)

WARN="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter"
[ "${FUZZ_WERROR:-0}" = 1 ] && WARN="$WARN -Werror"
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L $WARN -I$TOP/parsers -I$TOP/common -I$TOP/cli -I$TOP/fake-servers -I$TOP/conformance/runner -I$TOP/fuzz"
JANSSON_CFLAGS=$(pkg-config --cflags jansson 2>/dev/null || true)

# jansson is linked statically when the static library is there, so that
# the targets run on a machine without it (OSS-Fuzz's runner image).
JANSSON_LIBS=-ljansson
libdir=$(pkg-config --variable=libdir jansson 2>/dev/null || true)
if [ -n "$libdir" ] && [ -f "$libdir/libjansson.a" ]; then
  JANSSON_LIBS="$libdir/libjansson.a"
fi

# The library and the CLI engine, compiled with the fuzzing flags.
# From fake-servers/, only the dependency-free readers: the scenario reader
# and the command readers (mr_cmd_*.c); from the runner, the client profile
# reader (conformance/runner/mr_profile.c).
LIB_SRCS=$(cd "$TOP" && { ls parsers/*/*.c common/*.c cli/*.c fuzz/mr_fuzz.c \
  fake-servers/mr_buf.c fake-servers/mr_scenario.c fake-servers/mr_cmd_*.c \
  conformance/runner/mr_profile.c 2>/dev/null || true; } |
  grep -v '^cli/main\.c$')
# The "full" targets' extra sources: the fake servers without the engine.
FULL_SRCS=$(cd "$TOP" && ls fake-servers/mr_*.c |
  grep -v -e '/mr_server\.c$' -e '/mr_engine\.c$' -e '/mr_report\.c$' -e '/mr_serve\.c$' -e '/mr_certs\.c$' |
  grep -v -x -F "$(printf '%s\n' $LIB_SRCS)")
GMIME_CFLAGS= FULL_LIBS= HAVE_FULL=0
if pkg-config --exists gmime-3.0 2>/dev/null; then
  HAVE_FULL=1
  GMIME_CFLAGS=$(pkg-config --cflags gmime-3.0)
  FULL_LIBS="$(pkg-config --libs gmime-3.0) $(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)"
fi
compile() { # src -> $WORK/<src with / as _>.o
  local src=$1 obj
  obj="$WORK/$(echo "${src%.c}" | tr / _).o"
  # shellcheck disable=SC2086
  $CC $CFLAGS $FLAGS $JANSSON_CFLAGS $GMIME_CFLAGS -c "$TOP/$src" -o "$obj"
}
export -f compile
export CC CFLAGS FLAGS JANSSON_CFLAGS GMIME_CFLAGS TOP WORK

TARGETS=
FULL_TARGETS=
for t in $(cd "$TOP/fuzz" && ls fuzz_*.c | sed 's/\.c$//'); do
  if grep -q '^/\* fuzz/build\.sh: full' "$TOP/fuzz/$t.c"; then
    if [ "$HAVE_FULL" = 1 ]; then
      TARGETS="$TARGETS $t"
      FULL_TARGETS="$FULL_TARGETS $t"
    else
      echo "fuzz/build.sh: skipping $t: it needs GMime (pkg-config gmime-3.0) and libcrypto" >&2
    fi
  else
    TARGETS="$TARGETS $t"
  fi
done
[ -n "$FULL_TARGETS" ] || FULL_SRCS=
ENGINE_SRC=
[ "$LIB_FUZZING_ENGINE" = standalone ] && ENGINE_SRC=fuzz/regress_main.c
# shellcheck disable=SC2086
printf '%s\n' $LIB_SRCS $FULL_SRCS $ENGINE_SRC $(for t in $TARGETS; do echo "fuzz/$t.c"; done) |
  xargs -P "$JOBS" -I{} bash -c 'compile "$1"' _ {}

rm -f "$WORK/libmailrig-fuzz.a" "$WORK/libmailrig-fuzz-full.a"
# shellcheck disable=SC2046
${AR:-ar} rcs "$WORK/libmailrig-fuzz.a" $(for s in $LIB_SRCS; do echo "$WORK/$(echo "${s%.c}" | tr / _).o"; done)
if [ -n "$FULL_SRCS" ]; then
  # shellcheck disable=SC2046
  ${AR:-ar} rcs "$WORK/libmailrig-fuzz-full.a" $(for s in $FULL_SRCS; do echo "$WORK/$(echo "${s%.c}" | tr / _).o"; done)
fi

ENGINE=$LIB_FUZZING_ENGINE
[ "$LIB_FUZZING_ENGINE" = standalone ] && ENGINE="$WORK/fuzz_regress_main.o"

for t in $TARGETS; do
  full_a= full_libs=
  case " $FULL_TARGETS " in *" $t "*) full_a="$WORK/libmailrig-fuzz-full.a" full_libs=$FULL_LIBS ;; esac
  # shellcheck disable=SC2086
  $CXX $CFLAGS "$WORK/fuzz_$t.o" $ENGINE $full_a "$WORK/libmailrig-fuzz.a" $full_libs $JANSSON_LIBS -lm \
    -o "$OUT/$t"
  cp "$TOP/fuzz/$t.options" "$OUT/$t.options"
  seeds="$TOP/corpora/fuzz/$t"
  if [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    if command -v zip >/dev/null; then
      (cd "$seeds" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    else
      python3 -m zipfile -c "$OUT/${t}_seed_corpus.zip" "$seeds"/*
    fi
  fi
done

# Dictionaries: one per protocol, and all of them for the mixed targets.
cp "$TOP"/fuzz/*.dict "$OUT/"
cat "$TOP"/fuzz/pop3.dict "$TOP"/fuzz/smtp.dict "$TOP"/fuzz/imap.dict "$TOP"/fuzz/transcript.dict \
  > "$OUT/mail.dict"

echo "fuzz/build.sh: built $(echo $TARGETS | wc -w) targets in $OUT"
