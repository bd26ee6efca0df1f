#!/usr/bin/env bash
# fuzz/afl.sh - build every fuzz target with AFL++ (ASan + UBSan) through
# fuzz/build.sh, then fuzz the chosen targets with afl-fuzz one after the
# other, print one line of stats per target and exit 1 if any saved a crash.
# `make fuzz-afl` runs it; ci/install-fuzz-deps installs AFL++.
#
# Variables:
#   AFL_TARGETS    targets to fuzz (default: every fuzz/fuzz_*.c)
#   FUZZ_SECONDS   seconds per target (default 60; afl-fuzz -V)
#   JOBS           afl-fuzz instances per target (default 1); above 1, one
#                  main (-M) and JOBS-1 secondaries (-S) share the output
#                  dir.  fuzz/build.sh also reads JOBS (files compiled at once)
#   FUZZ_AFL_CC, FUZZ_AFL_CXX  default afl-clang-fast, afl-clang-fast++
#                  (afl-clang-lto[++] works too with Debian 12's afl++ 4.04c
#                  and lld-14).  Not CC/CXX: make or CI may export those.
#   FUZZ_AFL_CFLAGS  default "-g -fno-omit-frame-pointer" (afl-cc adds -O3)
#   AFL_NO_AFFINITY=1  don't bind to a core (default: try, fall back)
# Output: build/fuzz-afl/ (targets, dicts), build/fuzz-afl/out/<target>/
# (afl-fuzz's output; the previous run's is kept as <target>.prev and its
# queue is added to the inputs).  Crashes: out/<target>/*/crashes/.
#
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer: afl-clang-fast maps it to AFL++'s
# libFuzzer-compatible driver (/usr/lib/afl/libAFLDriver.a on Debian), so
# the targets' LLVMFuzzerTestOneInput runs in AFL++'s persistent mode.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
DIR=$TOP/build/fuzz-afl
TARGETS=${AFL_TARGETS:-$(cd "$TOP/fuzz" && for f in fuzz_*.c; do echo "${f%.c}"; done)}
EXPLICIT=${AFL_TARGETS:+1}
unset AFL_TARGETS   # afl-fuzz warns about AFL_* variables it doesn't know
SECONDS_EACH=${FUZZ_SECONDS:-60}
INSTANCES=${JOBS:-1}

command -v afl-fuzz >/dev/null || { echo "afl.sh: afl-fuzz not found; run ci/install-fuzz-deps" >&2; exit 2; }

# Build: afl-cc reads AFL_USE_ASAN/AFL_USE_UBSAN and adds the sanitizers
# (UBSan traps, so a finding is a crash afl-fuzz sees).
echo "afl.sh: building the targets into $DIR"
AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 \
  CC=${FUZZ_AFL_CC:-afl-clang-fast} CXX=${FUZZ_AFL_CXX:-afl-clang-fast++} \
  CFLAGS=${FUZZ_AFL_CFLAGS:--g -fno-omit-frame-pointer} \
  LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$DIR WORK=$DIR/obj \
  "$TOP/fuzz/build.sh"

# What afl-fuzz needs on a machine we can't configure: don't insist on the
# CPU governor or on core_pattern, no UI when not on a terminal, try a free
# core but carry on without one.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
[ -t 1 ] || export AFL_NO_UI=1
[ "${AFL_NO_AFFINITY:-0}" = 1 ] || export AFL_TRY_AFFINITY=1

opt() { # target key -> value from fuzz/<target>.options
  sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "$TOP/fuzz/$1.options" | head -n1
}

for t in $TARGETS; do
  if [ ! -x "$DIR/$t" ]; then
    if [ -z "$EXPLICIT" ] && grep -q '^/\* fuzz/build.sh: full' "$TOP/fuzz/$t.c"; then
      echo "afl.sh: $t was not built (it needs GMime); skipped" >&2
      continue
    fi
    echo "afl.sh: no target $t" >&2
    exit 2
  fi
  out=$DIR/out/$t in=$DIR/in/$t
  rm -rf "$in" "$out.prev"
  mkdir -p "$in" "$DIR/out"
  [ -d "$out" ] && mv "$out" "$out.prev"
  # Inputs: the seeds, the previous run's queue, else a few bytes.
  if [ -d "$TOP/corpora/fuzz/$t" ]; then
    find "$TOP/corpora/fuzz/$t" -type f -exec cp -t "$in" {} +
  fi
  for q in "$out.prev"/*/queue; do
    [ -d "$q" ] || continue
    inst=$(basename "$(dirname "$q")") n=0
    for f in "$q"/id:*; do [ -f "$f" ] && [[ $f != *,orig:* ]] && cp "$f" "$in/prev_${inst}_$((n++))"; done
  done
  [ -n "$(ls -A "$in")" ] || printf '\001\000\000\000* OK hi\r\n' > "$in/min"

  args=(-i "$in" -o "$out" -V "$SECONDS_EACH" -m none)
  dict=$(opt "$t" dict) maxlen=$(opt "$t" max_len)
  [ -n "$dict" ] && args+=(-x "$DIR/$dict")
  [ -n "$maxlen" ] && args+=(-G "$maxlen")

  echo "afl.sh: fuzzing $t for ${SECONDS_EACH}s ($INSTANCES instance(s))"
  if [ "$INSTANCES" -le 1 ]; then
    afl-fuzz "${args[@]}" -- "$DIR/$t" || echo "afl.sh: afl-fuzz failed on $t" >&2
  else
    pids=()
    for i in $(seq 2 "$INSTANCES"); do
      AFL_NO_UI=1 afl-fuzz "${args[@]}" -S "s$i" -- "$DIR/$t" > "$DIR/out/$t.s$i.log" 2>&1 &
      pids+=($!)
    done
    afl-fuzz "${args[@]}" -M main -- "$DIR/$t" || echo "afl.sh: afl-fuzz failed on $t" >&2
    for p in "${pids[@]}"; do wait "$p" || echo "afl.sh: a secondary failed on $t" >&2; done
  fi
done

# One line per target, summed over its instances.
echo
printf '%-16s %12s %10s %8s %8s\n' target execs execs/s corpus crashes
status=0
for t in $TARGETS; do
  line=$(cat "$DIR/out/$t"/*/fuzzer_stats 2>/dev/null | awk -F' *: *' '
    $1 == "execs_done"    { e += $2 }
    $1 == "execs_per_sec" { s += $2 }
    $1 == "corpus_count"  { if ($2 > c) c = $2 }
    $1 == "saved_crashes" { k += $2 }
    END { if (NR) printf "%12d %10.0f %8d %8d", e, s, c, k }')
  if [ -z "$line" ]; then
    printf '%-16s no fuzzer_stats (afl-fuzz failed?)\n' "$t"; status=1; continue
  fi
  printf '%-16s %s\n' "$t" "$line"
  [ "$(echo "$line" | awk '{print $4}')" = 0 ] || status=1
done
[ "$status" = 0 ] || echo "afl.sh: crashes or failures; see $DIR/out/<target>/*/crashes/" >&2
exit "$status"
