#!/usr/bin/env bash
# fuzz/run.sh - run the libFuzzer targets built by make fuzz (build/fuzz/)
# one after the other and print a table: exec/s, coverage, corpus, crashes.
#
#   fuzz/run.sh [TARGET...]          (default: every target)
#
# Variables:
#   FUZZ_SECONDS  seconds per target (default 60)
#   JOBS          libFuzzer -fork=JOBS worker processes (default 2)
#   FUZZ_OUT      where the targets are (default build/fuzz)
#
# Each target reads its options file (dict, max_len), starts from its
# committed seeds (corpora/fuzz/TARGET/) and keeps every new input in
# build/fuzz/corpus/TARGET/ (make fuzz-merge folds them into the seeds).
# Crashes, timeouts and OOMs are saved to build/fuzz/crashes/TARGET/ and
# the run goes on; the exit status is 1 when any target saved one.  Full
# logs: build/fuzz/logs/TARGET.log.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${FUZZ_OUT:-$TOP/build/fuzz}
SECONDS_PER=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}

targets=("$@")
all=0
if [ ${#targets[@]} -eq 0 ]; then
  all=1
  mapfile -t targets < <(cd "$TOP/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

opt() { # options-file key -> value
  sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "$TOP/fuzz/$1.options" | head -1
}

rows=()
bad=0
new_files=() # crash, timeout and OOM inputs this run saved
for t in "${targets[@]}"; do
  bin=$OUT/$t
  if [ ! -x "$bin" ]; then
    if [ $all = 1 ] && grep -q '^/\* fuzz/build.sh: full' "$TOP/fuzz/$t.c"; then
      echo "run.sh: $t was not built (it needs GMime); skipped" >&2
      continue
    fi
    echo "run.sh: $bin is missing: run make fuzz first" >&2
    exit 2
  fi
  corpus=$OUT/corpus/$t
  crashes=$OUT/crashes/$t
  log=$OUT/logs/$t.log
  mkdir -p "$corpus" "$crashes" "$OUT/logs" "$TOP/corpora/fuzz/$t"
  mapfile -t before < <(ls "$crashes")
  echo "== $t: ${SECONDS_PER}s, $JOBS jobs (log: ${log#$TOP/})"
  args=(-fork="$JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
        -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048
        -max_len="$(opt "$t" max_len)" -dict="$OUT/$(opt "$t" dict)"
        -artifact_prefix="$crashes/" -print_final_stats=1)
  (cd "$OUT" && "$bin" "${args[@]}" "$corpus" "$TOP/corpora/fuzz/$t") >"$log" 2>&1
  # The last status line of fork mode:
  #   #N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c time: Ts job: J
  last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1)
  execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  secs=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")
  # Fork mode's own exec/s is one worker's; this is all of them together.
  eps=$([ -n "$execs" ] && [ "${secs:-0}" -gt 0 ] && echo $((execs / secs)))
  found=0
  while read -r f; do
    [[ " ${before[*]} " == *" $f "* ]] && continue
    new_files+=("${crashes#$TOP/}/$f")
    found=$((found + 1))
  done < <(ls "$crashes")
  [ "$found" -gt 0 ] && bad=1
  rows+=("$(printf '%-16s %8s %10s %9s %7s %8s %7s %8s' "$t" "${secs:-?}s" "${execs:-?}" \
    "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found")")
done

echo
printf '%-16s %8s %10s %9s %7s %8s %7s %8s\n' target time execs exec/s cov features corpus crashes
printf '%s\n' "${rows[@]}"
if [ $bad -ne 0 ]; then
  echo
  echo "crash, timeout or OOM inputs saved by this run:"
  printf '%s\n' "${new_files[@]}"
  echo "reproduce with: build/fuzz/TARGET FILE   (then keep it in fuzz/regressions/TARGET/)"
fi
exit $bad
