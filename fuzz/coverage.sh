#!/usr/bin/env bash
# fuzz/coverage.sh - source-based coverage (llvm-cov) of parsers/ reached
# by the committed seed corpora alone (corpora/fuzz/*/).
#
# Builds every target with clang's -fprofile-instr-generate
# -fcoverage-mapping through fuzz/build.sh, linked with the standalone
# replay driver (no fuzzing: each seed runs once), replays each target's
# corpus, merges the profiles, and prints a per-file table of parsers/ with
# line, function and branch coverage; an HTML report goes to
# build/coverage/html/index.html.  Exits 1 when the totals are under the
# goals: COVERAGE_LINES (default 95) percent of lines and COVERAGE_BRANCHES
# (default 85) percent of branches.
#
# Variables: CLANG (clang-14), LLVM_COV (llvm-cov-14), LLVM_PROFDATA
# (llvm-profdata-14).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CLANG=${CLANG:-clang-14}
LLVM_COV=${LLVM_COV:-llvm-cov-14}
LLVM_PROFDATA=${LLVM_PROFDATA:-llvm-profdata-14}
GOAL_LINES=${COVERAGE_LINES:-95}
GOAL_BRANCHES=${COVERAGE_BRANCHES:-85}
OUT=$TOP/build/coverage

rm -rf "$OUT/prof" "$OUT/html"
mkdir -p "$OUT/prof"
CC=$CLANG CXX=${CLANG/clang/clang++} \
  CFLAGS="-O0 -g -fprofile-instr-generate -fcoverage-mapping" \
  LIB_FUZZING_ENGINE=standalone OUT=$OUT WORK=$OUT/obj \
  "$TOP/fuzz/build.sh" >/dev/null

objs=()
for bin in "$OUT"/fuzz_*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  t=$(basename "$bin")
  case $t in *.zip | *.options | *.dict) continue ;; esac
  dirs=()
  [ -d "$TOP/corpora/fuzz/$t" ] && dirs+=("$TOP/corpora/fuzz/$t")
  [ -d "$TOP/fuzz/regressions/$t" ] && dirs+=("$TOP/fuzz/regressions/$t")
  [ ${#dirs[@]} -gt 0 ] || continue
  LLVM_PROFILE_FILE="$OUT/prof/$t-%p.profraw" "$bin" "${dirs[@]}" >/dev/null
  objs+=("$bin")
done
[ ${#objs[@]} -gt 0 ] || { echo "coverage.sh: no corpus to replay" >&2; exit 2; }

"$LLVM_PROFDATA" merge -sparse "$OUT"/prof/*.profraw -o "$OUT/all.profdata"
object_args=("${objs[0]}")
for o in "${objs[@]:1}"; do object_args+=(-object "$o"); done

# Only the parsers count (not the CLI, the transcript reader or the harness).
sources=$(cd "$TOP" && ls parsers/*/*.c)
# shellcheck disable=SC2086
(cd "$TOP" && "$LLVM_COV" report -instr-profile="$OUT/all.profdata" "${object_args[@]}" \
  -show-region-summary=false $sources) | tee "$OUT/report.txt"
# shellcheck disable=SC2086
(cd "$TOP" && "$LLVM_COV" show -format=html -output-dir="$OUT/html" -show-branches=count \
  -instr-profile="$OUT/all.profdata" "${object_args[@]}" $sources)
echo "HTML report: ${OUT#$TOP/}/html/index.html"

# What each target reaches alone (its own seeds), then all together above.
echo
printf '%-16s %8s %8s   of\n' target lines branches
for bin in "${objs[@]}"; do
  t=$(basename "$bin")
  case $t in # the parsers a target drives
    fuzz_pop3) mine="parsers/core parsers/pop3" ;;
    fuzz_smtp) mine="parsers/core parsers/smtp" ;;
    fuzz_imap | fuzz_roundtrip) mine="parsers/core parsers/imap" ;;
    *) mine="parsers/core parsers/pop3 parsers/smtp parsers/imap" ;;
  esac
  "$LLVM_PROFDATA" merge -sparse "$OUT"/prof/"$t"-*.profraw -o "$OUT/$t.profdata"
  # shellcheck disable=SC2086
  (cd "$TOP" && "$LLVM_COV" report -instr-profile="$OUT/$t.profdata" "$bin" \
    $(for d in $mine; do ls "$d"/*.c; done)) |
    awk -v t="$t" -v m="${mine//parsers\//}" '/^TOTAL/ { printf "%-16s %8s %8s   %s\n", t, $(NF-3), $NF, m }'
done
echo

# TOTAL  functions missed cover  lines missed cover  branches missed cover
read -r lines branches < <(awk '/^TOTAL/ { print $(NF-3), $NF }' "$OUT/report.txt" | tr -d '%')
echo "parsers/: ${lines}% of lines (goal ${GOAL_LINES}%), ${branches}% of branches (goal ${GOAL_BRANCHES}%)"
awk -v l="$lines" -v b="$branches" -v gl="$GOAL_LINES" -v gb="$GOAL_BRANCHES" \
  'BEGIN { exit !(l + 0 >= gl && b + 0 >= gb) }' || {
  echo "coverage.sh: under the goal" >&2
  exit 1
}
