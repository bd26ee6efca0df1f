/*
 * fuzz_strict.c - property: strict mode only adds diagnostics.  Whatever
 * strict mode accepts with no error and no diagnostic, lenient mode must
 * parse to exactly the same result (docs/parsers.md, "Strict and
 * lenient").
 *
 * Input: 2 header bytes, then the data.
 *   0  mode (mr_fuzz_engine_config): protocol, dialogue, IMAP
 *      --no-greeting (--print is not used: the JSON is compared)
 *   1  flags (mr_fuzz.h): small limits, streaming; the strict bit is
 *      ignored, both modes run
 *
 * The parse engine runs twice; when the strict run exits 0 and its JSON
 * holds no diagnostic, the lenient run's JSON, messages and exit status
 * must be byte-identical.  Every JSON object has a "diagnostics" array, so
 * the strict output must then not hold the text "diagnostics":[{ (which
 * cannot occur inside a JSON string, where quotes are escaped).
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "mr_fuzz.h"

static int has_diagnostics(const mr_fuzz_output *o)
{
    return memmem(o->out, o->out_len, "\"diagnostics\":[{", 16) != NULL ||
           memmem(o->out, o->out_len, "\"diagnostics_dropped\"", 21) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 2);
    uint8_t mode = mr_fuzz_hdr(&in, 0) & (uint8_t)~MR_FUZZ_MODE_PRINT;
    uint8_t flags = mr_fuzz_hdr(&in, 1) & (MR_FUZZ_SMALL_LIMITS | MR_FUZZ_STREAM);
    mr_cli_config strict, lenient;
    mr_transcript t, *tp = NULL;
    mr_fuzz_output s, l;

    mr_fuzz_engine_config(mode, flags | MR_FUZZ_STRICT, &strict);
    mr_fuzz_engine_config(mode, flags, &lenient);
    if (strict.dialogue) {
        if (mr_fuzz_transcript(in.data, in.len, &t) != 0)
            return 0;
        tp = &t;
    }
    mr_fuzz_engine(&strict, in.data, in.len, tp, &s);
    if (s.status == MR_CLI_EXIT_OK && !has_diagnostics(&s)) {
        mr_fuzz_engine(&lenient, in.data, in.len, tp, &l);
        mr_fuzz_same_output(&s, &l, "lenient vs strict (no diagnostic)");
        mr_fuzz_output_free(&l);
    }
    mr_fuzz_output_free(&s);
    if (tp)
        mr_transcript_cleanup(tp);
    return 0;
}
