#!/usr/bin/env bash
# fuzz/merge.sh - minimise the committed seed corpora: for each target,
# libFuzzer's -merge=1 keeps the smallest set of inputs that reaches all
# the coverage of corpora/fuzz/TARGET/, of what make fuzz-run found
# (build/fuzz/corpus/TARGET/) and of the seeds made from the test cases
# (build/fuzz/seeds/TARGET/, make fuzz-seeds).  The result replaces
# corpora/fuzz/TARGET/; files are named by the SHA-1 of their content.
# Inputs are cut to MERGE_MAX_LEN bytes (default 4096, below the targets'
# max_len): that keeps the committed corpora about a quarter of the size
# for about 1% fewer coverage edges.
#
#   fuzz/merge.sh [TARGET...]    (default: every target)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${FUZZ_OUT:-$TOP/build/fuzz}

targets=("$@")
all=0
if [ ${#targets[@]} -eq 0 ]; then
  all=1
  mapfile -t targets < <(cd "$TOP/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

for t in "${targets[@]}"; do
  if [ ! -x "$OUT/$t" ] && [ $all = 1 ] && grep -q '^/\* fuzz/build.sh: full' "$TOP/fuzz/$t.c"; then
    echo "merge.sh: $t was not built (it needs GMime); skipped" >&2
    continue
  fi
  dest=$TOP/corpora/fuzz/$t
  tmp=$OUT/merge/$t
  # the target's own -max_len (its .options file), else 4096
  opt_len=$(sed -n 's/^max_len[[:space:]]*=[[:space:]]*//p' "$TOP/fuzz/$t.options" 2>/dev/null | head -1)
  max_len=${MERGE_MAX_LEN:-${opt_len:-4096}}
  rm -rf "$tmp"
  mkdir -p "$tmp" "$dest" "$OUT/logs"
  srcs=("$dest")
  for d in "$OUT/corpus/$t" "$OUT/seeds/$t"; do
    [ -d "$d" ] && srcs+=("$d")
  done
  before=$(ls "$dest" | wc -l)
  "$OUT/$t" -merge=1 -max_len="$max_len" -timeout=10 "$tmp" "${srcs[@]}" >"$OUT/logs/$t.merge.log" 2>&1 || {
    echo "merge.sh: $t: merge failed, see ${OUT#$TOP/}/logs/$t.merge.log" >&2
    exit 1
  }
  rm -rf "$dest"
  mv "$tmp" "$dest"
  printf '%-16s %5d -> %5d inputs, %s\n' "$t" "$before" "$(ls "$dest" | wc -l)" \
    "$(du -sh "$dest" | cut -f1)"
done
