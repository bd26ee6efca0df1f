/*
 * fuzz_cmd_imap.c - the fake IMAP server's command reader and argument
 * tokenizer (fake-servers/mr_cmd_imap.h) over arbitrary client bytes.
 *
 * Input: 3 header bytes, then what the client sent.
 *   0  setup: bit 0 small limits (every bound within reach), bit 1 SASL
 *      mode from the start, bit 2 the client half-closes at the end, bit 3
 *      every third synchronizing literal is refused (mr_imapcmd_refuse),
 *      bit 4 the SASL mode is switched after each unit (a module doing
 *      AUTHENTICATE)
 *   1  flags (mr_fuzz.h): bits 4-6 choose the feeding (whole, 1, 2, 3, 7,
 *      64 bytes, 4 KiB, varying)
 *   2  seed of the varying feeding
 *
 * The reader runs twice over the data: fed whole (the reference), and in
 * the pieces the feeding says, each call given an exact-size copy of the
 * unconsumed bytes (so ASan catches a read past them or a pointer kept
 * into an old buffer).  Checks:
 *   - progress: a unit consumes at least one byte and at most what it was
 *     given; MORE and CONTINUE consume nothing; the calls are bounded;
 *   - bounds: a command fits max_command and max_literals; while the
 *     reader waits for more of a command it holds at most max_command
 *     bytes;
 *   - chunking invariance: both runs frame the same units (result, bytes
 *     consumed, tag, name, args, error, continuations) in the same order;
 *   - the tokenizer on each command's args: tokens in order and inside the
 *     args, nesting within max_depth, parentheses matched, values
 *     readable, the same tokens on a second run; sequence sets parse the
 *     same with and without room for the ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "mr_cmd_imap.h"
#include "mr_fuzz.h"

typedef struct run {
    uint64_t digest;
    size_t units;
    size_t conts;
    uint64_t skipped; /* bytes of refused commands dropped since the last unit:
                         how many calls drop them depends on the cuts */
} run;

static void fold(run *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = r->digest ? r->digest : 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    r->digest = h;
}

static void fold_u64(run *r, uint64_t v) { fold(r, &v, sizeof v); }

static void check_tokens(const mr_imapcmd *c, mr_imapcmd_tokens *tk)
{
    int rc = mr_imapcmd_tokenize(tk, c->args, c->args_len);
    size_t n = tk->n, prev_end = 0;
    uint64_t sum = 0;
    if (rc != 0) {
        MR_FUZZ_CHECK(tk->err.code > MR_IMAPCMD_E_OK && tk->err.code < MR_IMAPCMD_E__COUNT,
                      "tokenizer error code %d", (int)tk->err.code);
        MR_FUZZ_CHECK(tk->err.message != NULL, "tokenizer error without a message");
        MR_FUZZ_CHECK(tk->err.offset <= c->args_len, "error at %zu of %zu", tk->err.offset,
                      c->args_len);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const mr_imaptok *t = &tk->tok[i];
        MR_FUZZ_CHECK(t->type <= MR_IMAPTOK_CLOSE, "token type %u", (unsigned)t->type);
        MR_FUZZ_CHECK(t->offset >= prev_end && t->offset < t->end && t->end <= c->args_len,
                      "token %zu at [%zu, %zu) after %zu in %zu", i, t->offset, t->end, prev_end,
                      c->args_len);
        MR_FUZZ_CHECK(t->depth <= tk->max_depth, "depth %u", (unsigned)t->depth);
        mr_fuzz_touch(t->str, t->len);
        if (!t->escaped)
            MR_FUZZ_CHECK(t->len == 0 || (t->str >= c->args && t->str + t->len <= c->args + c->args_len),
                          "token %zu value outside the args", i);
        if (t->type == MR_IMAPTOK_OPEN) {
            MR_FUZZ_CHECK(t->match > i && t->match < n && tk->tok[t->match].type == MR_IMAPTOK_CLOSE &&
                              tk->tok[t->match].match == i && tk->tok[t->match].depth == t->depth,
                          "unmatched '(' at token %zu", i);
        }
        if (t->type == MR_IMAPTOK_ATOM) {
            mr_imapcmd_range rg[4];
            int d1, d2;
            long k = mr_imapcmd_seqset(t->str, t->len, NULL, 0, &d1);
            if (k >= 0) {
                long k2 = mr_imapcmd_seqset(t->str, t->len, rg, 4, &d2);
                MR_FUZZ_CHECK(k2 == k && d1 == d2, "sequence set counted %ld then %ld", k, k2);
                for (long j = 0; j < k && j < 4; j++)
                    MR_FUZZ_CHECK((rg[j].lo >= 1 && rg[j].lo <= 0xffffffffu) || rg[j].lo == MR_IMAPCMD_STAR,
                                  "range bound %llu", (unsigned long long)rg[j].lo);
            }
        }
        sum += t->type + t->len + t->offset;
        prev_end = t->end;
    }
    /* the same tokens again */
    MR_FUZZ_CHECK(mr_imapcmd_tokenize(tk, c->args, c->args_len) == 0 && tk->n == n,
                  "tokenizing twice differs");
    for (size_t i = 0; i < n; i++)
        sum -= tk->tok[i].type + tk->tok[i].len + tk->tok[i].offset;
    MR_FUZZ_CHECK(sum == 0, "tokenizing twice gives other tokens");
}

/* Record and check one result. */
static void record(run *r, const mr_imapcmd_reader *rd, mr_imapcmd_result res, const mr_imapcmd *c,
                   size_t n, mr_imapcmd_tokens *tk)
{
    const mr_imapcmd_limits *l = &rd->lim;
    switch (res) {
    case MR_IMAPCMD_MORE:
        MR_FUZZ_CHECK(rd->skipping || n <= l->max_command, "waiting with %zu bytes, max_command %zu",
                      n, l->max_command);
        return;
    case MR_IMAPCMD_CONTINUE:
        fold_u64(r, (uint64_t)res);
        r->conts++;
        fold(r, c->tag, strlen(c->tag));
        return;
    case MR_IMAPCMD_COMMAND:
    case MR_IMAPCMD_ERROR:
        break;
    }
    MR_FUZZ_CHECK(c->consumed > 0 && c->consumed <= n, "consumed %zu of %zu", c->consumed, n);
    if (res == MR_IMAPCMD_ERROR && c->err.code == MR_IMAPCMD_E_SKIPPED) {
        MR_FUZZ_CHECK(!c->reply, "a skip to answer");
        r->skipped += c->consumed;
        return;
    }
    fold_u64(r, r->skipped);
    r->skipped = 0;
    fold_u64(r, (uint64_t)res);
    r->units++;
    MR_FUZZ_CHECK(strlen(c->tag) <= MR_IMAPCMD_MAX_TAG && strlen(c->name) <= MR_IMAPCMD_MAX_NAME,
                  "tag or name too long");
    fold_u64(r, c->consumed);
    fold(r, c->tag, strlen(c->tag) + 1);
    fold(r, c->name, strlen(c->name) + 1);
    if (res == MR_IMAPCMD_ERROR) {
        MR_FUZZ_CHECK(c->err.code > MR_IMAPCMD_E_OK && c->err.code < MR_IMAPCMD_E__COUNT,
                      "error code %d", (int)c->err.code);
        MR_FUZZ_CHECK(c->err.message != NULL, "error without a message");
        fold_u64(r, (uint64_t)c->err.code << 1 | (uint64_t)(c->reply != 0));
        return;
    }
    MR_FUZZ_CHECK(c->consumed <= l->max_command, "a command of %zu bytes, max_command %zu",
                  c->consumed, l->max_command);
    MR_FUZZ_CHECK(c->nliterals <= l->max_literals, "%zu literals", c->nliterals);
    MR_FUZZ_CHECK(c->line_len < c->consumed && c->args >= c->line &&
                      c->args + c->args_len == c->line + c->line_len,
                  "args outside the line");
    MR_FUZZ_CHECK(c->name[0] != 0, "a command without a name");
    fold(r, c->args, c->args_len);
    fold_u64(r, c->line_len);
    check_tokens(c, tk);
}

/* Call the reader until it wants more; returns the bytes consumed. */
static size_t drain(run *r, mr_imapcmd_reader *rd, const uint8_t *p, size_t n, int eof, uint8_t setup,
                    mr_imapcmd_tokens *tk, size_t *calls, size_t budget)
{
    size_t off = 0;
    for (;;) {
        mr_imapcmd c;
        mr_imapcmd_result res = mr_imapcmd_next(rd, p + off, n - off, eof, &c);
        MR_FUZZ_CHECK(++*calls <= budget, "more than %zu calls", budget);
        record(r, rd, res, &c, n - off, tk);
        if (res == MR_IMAPCMD_MORE)
            return off;
        if (res == MR_IMAPCMD_CONTINUE) {
            /* a module that refuses every third literal */
            if ((r->conts % 3) == 0 && (setup & 8)) {
                mr_imapcmd_refuse(rd, p + off, &c);
                MR_FUZZ_CHECK(c.consumed > 0 && c.consumed <= n - off, "refused %zu of %zu",
                              c.consumed, n - off);
                fold_u64(r, c.consumed);
                off += c.consumed;
            }
            continue;
        }
        off += c.consumed;
        if ((setup & 16) && !(res == MR_IMAPCMD_ERROR && c.err.code == MR_IMAPCMD_E_SKIPPED))
            mr_imapcmd_set_sasl(rd, !rd->sasl);
    }
}

static void init_reader(mr_imapcmd_reader *rd, uint8_t setup)
{
    mr_imapcmd_limits lim;
    memset(&lim, 0, sizeof lim);
    if (setup & 1) {
        lim.max_line = 64;
        lim.max_literal = 100;
        lim.max_command = 512;
        lim.max_literals = 4;
    }
    mr_imapcmd_init(rd, &lim);
    if (setup & 2)
        mr_imapcmd_set_sasl(rd, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 3);
    uint8_t setup = mr_fuzz_hdr(&in, 0);
    int eof = (setup & 4) != 0;
    size_t budget = 4 * in.len + 16, calls = 0;
    mr_imapcmd_reader rd;
    mr_imapcmd_tokens tk;
    run ref, cut;
    mr_fuzz_feeder f;
    uint8_t *buf = NULL;
    size_t have = 0, pos = 0;

    memset(&ref, 0, sizeof ref);
    memset(&cut, 0, sizeof cut);
    mr_imapcmd_tokens_init(&tk, (setup & 1) ? 64 : 0, (setup & 1) ? 4 : 0);

    /* the reference: everything at once (in an exact-size copy) */
    {
        uint8_t *all = mr_fuzz_copy(in.data, in.len);
        size_t off;
        init_reader(&rd, setup);
        off = drain(&ref, &rd, all, in.len, 0, setup, &tk, &calls, budget);
        if (eof)
            off += drain(&ref, &rd, all + off, in.len - off, 1, setup, &tk, &calls, budget);
        MR_FUZZ_CHECK(!eof || off == in.len, "eof left %zu bytes", in.len - off);
        free(all);
    }

    /* the same bytes in pieces */
    calls = 0;
    init_reader(&rd, setup);
    mr_fuzz_feeder_init(&f, mr_fuzz_hdr(&in, 1), mr_fuzz_hdr(&in, 2));
    while (pos < in.len) {
        size_t k = mr_fuzz_feeder_next(&f, in.len - pos), used;
        uint8_t *nb = mr_fuzz_copy(NULL, have + k);
        if (have)
            memcpy(nb, buf, have);
        memcpy(nb + have, in.data + pos, k);
        free(buf);
        buf = nb;
        have += k;
        pos += k;
        used = drain(&cut, &rd, buf, have, 0, setup, &tk, &calls, budget);
        if (used) {
            nb = mr_fuzz_copy(buf + used, have - used);
            free(buf);
            buf = nb;
            have -= used;
        }
    }
    if (eof) {
        size_t used = drain(&cut, &rd, buf ? buf : (const uint8_t *)"", have, 1, setup, &tk, &calls,
                            budget);
        MR_FUZZ_CHECK(used == have, "eof left %zu bytes", have - used);
    }
    free(buf);
    mr_imapcmd_tokens_cleanup(&tk);

    MR_FUZZ_CHECK(ref.units == cut.units && ref.conts == cut.conts,
                  "whole: %zu units %zu continuations; in pieces: %zu, %zu", ref.units, ref.conts,
                  cut.units, cut.conts);
    MR_FUZZ_CHECK(ref.digest == cut.digest && ref.skipped == cut.skipped,
                  "the units differ between whole and in pieces");
    return 0;
}
