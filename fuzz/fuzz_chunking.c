/*
 * fuzz_chunking.c - property: a parser's output does not depend on how
 * its input is cut into calls (STYLE.md; tests/unit/test_chunking.c does
 * the same over the case files).
 *
 * Input: 3 header bytes, 2 * K split bytes, then the data.
 *   0  mode (mr_fuzz_engine_config): protocol, dialogue (the data is a
 *      transcript), IMAP --no-greeting and --print
 *   1  flags (mr_fuzz.h: strict, small limits, streaming; the feeding
 *      and allocator bits are not used: this target chooses the cuts)
 *   2  K = byte % 17, the number of split points
 *   then K little-endian 16-bit values, each taken modulo the number of
 *   server bytes + 1: the offsets of the server byte stream where a new
 *   call starts
 *
 * The parse engine of "mailrig parse" runs on the data fed whole (the
 * reference), cut at the split points, one server segment at a time
 * (dialogue), and one byte at a time (up to 2 KiB of server bytes).
 * Its JSON Lines (or printed responses), its messages and its exit
 * status must be byte-identical to the reference's.
 */
#include <stdlib.h>
#include <string.h>

#include "mr_fuzz.h"

#define MAX_SPLITS 16
#define BYTEWISE_MAX 2048

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void run_compare(const mr_cli_config *cfg, const mr_fuzz_input *body, const mr_transcript *t,
                        const mr_fuzz_output *ref, mr_cli_feed feed, const char *what)
{
    mr_cli_config c = *cfg;
    mr_fuzz_output o;
    c.feed = feed;
    mr_fuzz_engine(&c, body->data, body->len, t, &o);
    mr_fuzz_same_output(ref, &o, what);
    mr_fuzz_output_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 3), body;
    size_t k = mr_fuzz_hdr(&in, 2) % (MAX_SPLITS + 1), n = 0;
    uint64_t splits[MAX_SPLITS], server_len;
    mr_cli_config cfg;
    mr_transcript t, *tp = NULL;
    mr_fuzz_output ref;
    mr_cli_feed feed;

    body = mr_fuzz_split(in.data, in.len, 2 * k);
    k = body.header_len / 2;
    mr_fuzz_engine_config(mr_fuzz_hdr(&in, 0), mr_fuzz_hdr(&in, 1), &cfg);
    server_len = body.len;
    if (cfg.dialogue) {
        if (mr_fuzz_transcript(body.data, body.len, &t) != 0)
            return 0;
        tp = &t;
        server_len = mr_fuzz_server_len(&t);
    }
    for (size_t i = 0; i < k; i++) {
        uint64_t v = (uint64_t)body.header[2 * i] | (uint64_t)body.header[2 * i + 1] << 8;
        splits[i] = v % (server_len + 1);
    }
    qsort(splits, k, sizeof *splits, cmp_u64);
    for (size_t i = 0; i < k; i++)
        if (n == 0 || splits[i] != splits[n - 1])
            splits[n++] = splits[i];

    mr_fuzz_engine(&cfg, body.data, body.len, tp, &ref);

    memset(&feed, 0, sizeof feed);
    feed.kind = MR_FEED_SPLITS;
    feed.splits = splits;
    feed.n_splits = n;
    run_compare(&cfg, &body, tp, &ref, feed, "cut at the split points vs whole");
    if (cfg.dialogue) {
        memset(&feed, 0, sizeof feed);
        feed.kind = MR_FEED_SEGMENTS;
        run_compare(&cfg, &body, tp, &ref, feed, "segment by segment vs whole");
    }
    if (server_len <= BYTEWISE_MAX) {
        memset(&feed, 0, sizeof feed);
        feed.kind = MR_FEED_PIECES;
        feed.piece = 1;
        run_compare(&cfg, &body, tp, &ref, feed, "byte by byte vs whole");
    }
    mr_fuzz_output_free(&ref);
    if (tp)
        mr_transcript_cleanup(tp);
    return 0;
}
