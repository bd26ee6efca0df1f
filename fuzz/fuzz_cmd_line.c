/*
 * fuzz_cmd_line.c - the fake servers' client-input readers
 * (fake-servers/mr_cmd_line.h): the bounded command-line reader, the
 * SMTP DATA reader (dot-unstuffing) and the BDAT chunk reader, over
 * arbitrary client bytes cut into arbitrary pieces.
 *
 * Input: 4 header bytes, then what the client sent.
 *   0  mode: bits 0-1 the reader mix (0 command lines, 1 raw SASL lines,
 *      2 an SMTP server's mix: a "DATA" line switches to the DATA reader
 *      and a "BDAT n" line frames its chunk, 3 DATA bodies only)
 *   1  flags (mr_fuzz.h): bits 4-6 choose the feeding
 *   2  seed of the varying feeding
 *   3  limits: max_line 3 + (b & 63), times 16 with bit 6; max_literal
 *      32, or 1 MiB with bit 7
 *
 * As an engine does, the target keeps the unconsumed bytes and appends
 * each piece; every reader call sees them in a buffer of exactly their
 * size (ASan catches a read past it).  Checks: each unit consumes at
 * least one byte and no more than it was given; MORE consumes nothing
 * and leaves fewer buffered bytes than the bound (max_line for a line,
 * max_literal + 3 for DATA, max_line + max_literal for BDAT); a line
 * unit fits max_line, its verb is upper-case printable ASCII, its parts
 * lie inside it; a DATA body ends in CRLF (or is empty), fits max and
 * unstuffs to no more than itself; and the units found (everything but
 * the DISCARD units, whose cut depends on the pieces) are the same
 * whatever the feeding: the run is compared with the whole input fed at
 * once.
 */
#include <stdlib.h>
#include <string.h>

#include "mr_cmd_line.h"
#include "mr_fuzz.h"

enum { MIX_LINES = 0, MIX_RAW, MIX_SMTP, MIX_DATA };

typedef struct run {
    unsigned mix;
    size_t max_line, max_literal;
    mr_cmdline_reader rd;
    mr_data_reader dr;
    mr_bdat_reader br;
    int in_data;           /* SMTP mix: after a DATA line */
    uint64_t bdat_total;   /* SMTP mix: accepted chunk bytes of the message */
    uint64_t digest;       /* of the units found */
    uint64_t units;
    uint64_t consumed;
} run;

static void fold(run *r, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        r->digest ^= (v >> (8 * i)) & 0xff;
        r->digest *= 0x100000001b3ULL;
    }
}

static void fold_bytes(run *r, const uint8_t *p, size_t n)
{
    fold(r, n);
    for (size_t i = 0; i < n; i++) {
        r->digest ^= p[i];
        r->digest *= 0x100000001b3ULL;
    }
}

static void check_line(const run *r, const mr_cmdline *c, const uint8_t *p, size_t n, int raw)
{
    MR_FUZZ_CHECK(c->consumed >= 1 && c->consumed <= n, "line consumed %zu of %zu", c->consumed, n);
    MR_FUZZ_CHECK(c->consumed <= r->max_line, "line of %zu octets over max_line %zu", c->consumed, r->max_line);
    MR_FUZZ_CHECK(c->line == p, "line not at the start");
    MR_FUZZ_CHECK(c->line_len + 1 + !c->bare_lf == c->consumed, "line %zu + eol != consumed %zu", c->line_len,
                  c->consumed);
    MR_FUZZ_CHECK(p[c->consumed - 1] == '\n', "unit does not end in LF");
    MR_FUZZ_CHECK(!memchr(p, '\n', c->consumed - 1), "LF inside a line");
    MR_FUZZ_CHECK(!memchr(p, 0, c->line_len), "NUL inside a line unit");
    MR_FUZZ_CHECK(c->args >= p && c->args + c->args_len <= p + c->line_len, "args outside the line");
    mr_fuzz_touch(c->args, c->args_len);
    size_t vl = strlen(c->verb);
    if (raw) {
        MR_FUZZ_CHECK(vl == 0 && c->args_len == c->line_len, "raw line split");
        return;
    }
    MR_FUZZ_CHECK(vl >= 1 && vl <= MR_CMDLINE_VERB_MAX, "verb of %zu chars", vl);
    for (size_t i = 0; i < vl; i++) {
        char ch = c->verb[i];
        MR_FUZZ_CHECK(ch >= 0x21 && ch <= 0x7e && !(ch >= 'a' && ch <= 'z'), "verb byte 0x%02x",
                      (unsigned)(uint8_t)ch);
    }
}

static void check_error(const run *r, const mr_cmdline *c, size_t n)
{
    MR_FUZZ_CHECK(c->consumed >= 1 && c->consumed <= n, "error consumed %zu of %zu", c->consumed, n);
    MR_FUZZ_CHECK(c->err > MR_CMDLINE_E_NONE && c->err < MR_CMDLINE_E__COUNT, "error code %d", (int)c->err);
    MR_FUZZ_CHECK(strcmp(mr_cmdline_err_name(c->err), "?") != 0, "unnamed error");
    mr_fuzz_touch(c->line, c->line_len);
    if (c->err != MR_CMDLINE_E_TOO_LONG && c->err != MR_CMDLINE_E_DISCARD)
        MR_FUZZ_CHECK(c->consumed <= r->max_line && c->line_ended, "%s unit of %zu octets",
                      mr_cmdline_err_name(c->err), c->consumed);
}

/* One reader call on p[0..n): returns what it consumed (0: MORE). */
static size_t step(run *r, const uint8_t *p, size_t n)
{
    if (r->mix == MIX_DATA || r->in_data) {
        mr_data_unit u;
        int t = mr_data_read(&r->dr, p, n, &u);
        MR_FUZZ_CHECK(t >= MR_DATA_MORE && t <= MR_DATA_DISCARD, "data result %d", t);
        if (t == MR_DATA_MORE) {
            MR_FUZZ_CHECK(n < r->max_literal + 3, "DATA holds %zu octets, max %zu", n, r->max_literal);
            return 0;
        }
        MR_FUZZ_CHECK(u.consumed >= 1 && u.consumed <= n, "data consumed %zu of %zu", u.consumed, n);
        if (t == MR_DATA_END) {
            MR_FUZZ_CHECK(u.body == p && u.body_len + 3 == u.consumed, "body %zu, consumed %zu", u.body_len,
                          u.consumed);
            MR_FUZZ_CHECK(u.body_len <= r->max_literal, "body %zu over %zu", u.body_len, r->max_literal);
            MR_FUZZ_CHECK(memcmp(p + u.body_len, ".\r\n", 3) == 0, "no final dot");
            MR_FUZZ_CHECK(u.body_len == 0 || (u.body_len >= 2 && p[u.body_len - 2] == '\r' && p[u.body_len - 1] == '\n'),
                          "body does not end in CRLF");
            uint8_t *out = mr_fuzz_copy(NULL, u.body_len);
            size_t ol = mr_data_unstuff(u.body, u.body_len, out);
            MR_FUZZ_CHECK(ol <= u.body_len, "unstuffed %zu > %zu", ol, u.body_len);
            fold(r, 0xD0);
            fold_bytes(r, out, ol);
            free(out);
        } else if (t == MR_DATA_TOO_BIG) {
            MR_FUZZ_CHECK(p[u.consumed - 1] == '\n', "TOO_BIG not at the final dot");
            fold(r, 0xD1);
        }
        if (t != MR_DATA_DISCARD) {
            fold(r, u.bare_lf);
            fold(r, u.bare_cr);
            fold(r, (uint64_t)u.eight_bit);
            r->in_data = 0;
            r->units++;
        }
        return u.consumed;
    }

    if (mr_bdat_dropping(&r->br)) {
        mr_bdat_unit u;
        int t = mr_bdat_read(&r->br, p, n, 0, 0, 0, &u);
        if (t == MR_BDAT_MORE) {
            MR_FUZZ_CHECK(n == 0, "BDAT drop MORE with %zu bytes", n);
            return 0;
        }
        MR_FUZZ_CHECK(t == MR_BDAT_DISCARD || t == MR_BDAT_TOO_BIG, "bdat drop result %d", t);
        MR_FUZZ_CHECK(u.consumed >= 1 && u.consumed <= n, "bdat consumed %zu of %zu", u.consumed, n);
        if (t == MR_BDAT_TOO_BIG) {
            fold(r, 0xB1);
            r->bdat_total = 0;
            r->units++;
        }
        return u.consumed;
    }

    int raw = r->mix == MIX_RAW;
    mr_cmdline c;
    int t = mr_cmdline_read(&r->rd, p, n, raw ? MR_CMDLINE_RAW : 0, &c);
    MR_FUZZ_CHECK(r->rd.scanned <= n, "scanned %zu of %zu", r->rd.scanned, n);
    if (t == MR_CMDLINE_MORE) {
        MR_FUZZ_CHECK(n < r->max_line, "MORE with %zu octets buffered, max_line %zu", n, r->max_line);
        return 0;
    }
    if (t == MR_CMDLINE_ERROR) {
        check_error(r, &c, n);
        if (c.err != MR_CMDLINE_E_DISCARD) {
            fold(r, 0xE0 + (uint64_t)c.err);
            fold(r, c.err_off);
            r->units++;
        }
        return c.consumed;
    }
    MR_FUZZ_CHECK(t == MR_CMDLINE_UNIT, "line result %d", t);
    check_line(r, &c, p, n, raw);
    if (r->mix == MIX_SMTP && strcmp(c.verb, "BDAT") == 0) {
        uint64_t size;
        int last;
        if (mr_bdat_parse(c.args, c.args_len, &size, &last) == 0) {
            uint64_t budget = r->bdat_total < r->max_literal ? r->max_literal - r->bdat_total : 0;
            mr_bdat_unit u;
            int b = mr_bdat_read(&r->br, p, n, c.consumed, size, budget, &u);
            if (b == MR_BDAT_MORE) {
                MR_FUZZ_CHECK(n < c.consumed + r->max_literal, "BDAT waits with %zu octets", n);
                return 0;
            }
            MR_FUZZ_CHECK(u.consumed >= c.consumed && u.consumed <= n, "bdat consumed %zu (line %zu) of %zu",
                          u.consumed, c.consumed, n);
            if (b == MR_BDAT_CHUNK) {
                MR_FUZZ_CHECK(u.chunk == p + c.consumed && u.chunk_len == size && size <= budget, "chunk");
                fold(r, 0xB0);
                fold_bytes(r, u.chunk, u.chunk_len);
                r->bdat_total = last ? 0 : r->bdat_total + size;
                r->units++;
            } else if (b == MR_BDAT_TOO_BIG) {
                fold(r, 0xB1);
                r->bdat_total = 0;
                r->units++;
            } else {
                MR_FUZZ_CHECK(b == MR_BDAT_DISCARD && u.consumed == n, "bdat result %d", b);
            }
            return u.consumed;
        }
    }
    fold(r, 0xA0);
    fold_bytes(r, (const uint8_t *)c.verb, strlen(c.verb));
    fold_bytes(r, c.args, c.args_len);
    fold(r, (uint64_t)c.bare_lf);
    r->units++;
    if (r->mix == MIX_SMTP && strcmp(c.verb, "DATA") == 0 && c.args_len == 0) {
        r->in_data = 1;
        mr_data_init(&r->dr, r->max_literal);
    }
    return c.consumed;
}

static void run_init(run *r, unsigned mix, size_t max_line, size_t max_literal)
{
    memset(r, 0, sizeof *r);
    r->mix = mix;
    r->max_line = max_line;
    r->max_literal = max_literal;
    mr_cmdline_init(&r->rd, max_line);
    mr_data_init(&r->dr, max_literal);
    r->digest = 0xcbf29ce484222325ULL;
}

/* Feed data as the feeder cuts it; returns the bytes left unconsumed. */
static size_t drive(run *r, const uint8_t *data, size_t len, uint8_t flags, uint8_t seed)
{
    mr_fuzz_feeder f;
    mr_fuzz_feeder_init(&f, flags, seed);
    uint8_t *buf = NULL; /* the unconsumed bytes, exactly sized */
    size_t have = 0, off = 0;
    uint64_t calls = 0;
    while (off < len) {
        size_t k = mr_fuzz_feeder_next(&f, len - off);
        uint8_t *nb = mr_fuzz_copy(NULL, have + k);
        if (have)
            memcpy(nb, buf, have);
        memcpy(nb + have, data + off, k);
        free(buf);
        buf = nb;
        have += k;
        off += k;
        size_t pos = 0;
        for (;;) {
            uint8_t *view = mr_fuzz_copy(buf + pos, have - pos);
            size_t used = step(r, view, have - pos);
            free(view);
            MR_FUZZ_CHECK(++calls <= 4 * (uint64_t)len + 16, "no progress: %llu calls for %zu bytes",
                          (unsigned long long)calls, len);
            if (used == 0)
                break;
            pos += used;
            r->consumed += used;
        }
        if (pos) {
            uint8_t *rest = mr_fuzz_copy(buf + pos, have - pos);
            free(buf);
            buf = rest;
            have -= pos;
        }
    }
    free(buf);
    MR_FUZZ_CHECK(r->consumed + have == len, "consumed %llu + left %zu != %zu", (unsigned long long)r->consumed,
                  have, len);
    return have;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 4);
    unsigned mix = mr_fuzz_hdr(&in, 0) & 3;
    uint8_t flags = mr_fuzz_hdr(&in, 1), seed = mr_fuzz_hdr(&in, 2), lim = mr_fuzz_hdr(&in, 3);
    size_t max_line = (3 + (size_t)(lim & 63)) * ((lim & 64) ? 16 : 1);
    size_t max_literal = (lim & 128) ? (size_t)1 << 20 : 32;

    run a, b;
    run_init(&a, mix, max_line, max_literal);
    size_t left_a = drive(&a, in.data, in.len, flags, seed);
    /* The same bytes at once (feeding kind 0). */
    run_init(&b, mix, max_line, max_literal);
    size_t left_b = drive(&b, in.data, in.len, 0, 0);
    MR_FUZZ_CHECK(a.units == b.units && a.digest == b.digest,
                  "chunking changed the units: %llu units (digest %016llx) fed in pieces, %llu (%016llx) at once",
                  (unsigned long long)a.units, (unsigned long long)a.digest, (unsigned long long)b.units,
                  (unsigned long long)b.digest);
    /* What stays unconsumed differs only when it is being dropped. */
    if (!a.rd.discarding && !b.rd.discarding && !a.dr.discarding && !b.dr.discarding && !mr_bdat_dropping(&a.br) &&
        !mr_bdat_dropping(&b.br))
        MR_FUZZ_CHECK(left_a == left_b, "%zu bytes left fed in pieces, %zu at once", left_a, left_b);
    return 0;
}
