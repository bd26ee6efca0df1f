/*
 * mr_fuzz.c - the helpers every fuzz target shares: reading the
 * configuration header, options and limits (with the counting, failing
 * allocator of common/mr_testalloc.h), feeding strategies, contract
 * checks, the driver of the parser targets, and running the CLI parse
 * engine into memory for the property targets (mr_fuzz.h).
 */
#define _GNU_SOURCE /* open_memstream on older C libraries */
#include "mr_fuzz.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void mr_fuzz_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mr_fuzz: %s:%d: check `%s` failed: ", file, line, what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* ------------------------------------------------------------ the input */

mr_fuzz_input mr_fuzz_split(const uint8_t *data, size_t size, size_t n)
{
    mr_fuzz_input in;
    in.header = data;
    in.header_len = size < n ? size : n;
    in.data = data + in.header_len;
    in.len = size - in.header_len;
    return in;
}

uint8_t mr_fuzz_hdr(const mr_fuzz_input *in, size_t i)
{
    return i < in->header_len ? in->header[i] : 0;
}

/* ------------------------------------------------------------ options */

void mr_fuzz_small_limits(mr_limits *l)
{
    l->max_line = 200;
    l->max_lines = 24;
    l->max_body = 2048;
    l->max_memory = 8192;
    l->max_pending = 4;
    l->max_diags = 2;
    l->max_depth = 6;
    l->max_items = 150;
}

void mr_fuzz_options(uint8_t flags, uint8_t budget, mr_fuzz_alloc *fa, mr_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = (flags & MR_FUZZ_STRICT) ? MR_STRICT : MR_LENIENT;
    if (flags & MR_FUZZ_SMALL_LIMITS)
        mr_fuzz_small_limits(&o->limits);
    if (flags & MR_FUZZ_STREAM)
        o->limits.stream_threshold = 8;
    if (fa) {
        mr_test_alloc_init(fa, (flags & MR_FUZZ_FAIL_ALLOC) ? (size_t)budget + 1 : 0, 1);
        o->alloc = &fa->a;
    }
}

size_t mr_fuzz_memory_bound(const mr_limits *in)
{
    mr_limits l = *in;
    mr_limits_resolve(&l);
    /* Vectors double (x2), lines may be pinned once (x2), and the IMAP
     * value tree and typed results come on top of the kept bytes. */
    return 8 * (l.max_memory + l.max_line) + l.max_pending * 256 + 64 * 1024;
}

/* ------------------------------------------------------------ feeding */

void mr_fuzz_feeder_init(mr_fuzz_feeder *f, uint8_t flags, uint8_t seed)
{
    f->kind = (flags >> MR_FUZZ_FEED_SHIFT) & 7;
    f->state = 0x9e3779b9u ^ seed;
}

size_t mr_fuzz_feeder_next(mr_fuzz_feeder *f, size_t left)
{
    static const size_t fixed[7] = {SIZE_MAX, 1, 2, 3, 7, 64, 4096};
    size_t n;
    if (left == 0)
        return 0;
    if (f->kind < 7) {
        n = fixed[f->kind];
    } else {
        /* xorshift32: pieces of 1-32 bytes */
        f->state ^= f->state << 13;
        f->state ^= f->state >> 17;
        f->state ^= f->state << 5;
        n = 1 + (f->state & 31);
    }
    return n < left ? n : left;
}

uint8_t *mr_fuzz_copy(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    if (n && p)
        memcpy(b, p, n);
    return b;
}

/* ------------------------------------------------------------ checks */

unsigned mr_fuzz_touch(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    unsigned sum = 0;
    MR_FUZZ_CHECK(p != NULL || n == 0, "a span of %zu bytes has no pointer", n);
    for (size_t i = 0; i < n; i++)
        sum += b[i];
    return sum;
}

void mr_fuzz_digest(mr_fuzz_stream *st, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        st->digest ^= (v >> (8 * i)) & 0xff;
        st->digest *= 0x100000001b3ull;
    }
}

void mr_fuzz_check_error(const mr_fuzz_stream *st, const mr_error *e)
{
    MR_FUZZ_CHECK(e->code > MR_E_OK && e->code < MR_E__COUNT, "error code %d", (int)e->code);
    MR_FUZZ_CHECK(strcmp(mr_errcode_name(e->code), "UNKNOWN") != 0, "error %d has no name",
                  (int)e->code);
    MR_FUZZ_CHECK(mr_errcode_reason(e->code) && *mr_errcode_reason(e->code), "error %s has no reason",
                  mr_errcode_name(e->code));
    MR_FUZZ_CHECK(e->offset <= st->seen, "%s at offset %llu, but only %llu bytes were fed",
                  mr_errcode_name(e->code), (unsigned long long)e->offset,
                  (unsigned long long)st->seen);
    if (e->detail)
        mr_fuzz_touch(e->detail, strlen(e->detail));
}

void mr_fuzz_check_range(mr_fuzz_stream *st, uint64_t offset, uint64_t end)
{
    MR_FUZZ_CHECK(offset < end, "empty or reversed range [%llu, %llu)", (unsigned long long)offset,
                  (unsigned long long)end);
    MR_FUZZ_CHECK(offset >= st->last_end, "range [%llu, %llu) starts before the previous end %llu",
                  (unsigned long long)offset, (unsigned long long)end,
                  (unsigned long long)st->last_end);
    MR_FUZZ_CHECK(end <= st->seen, "range [%llu, %llu) ends past the %llu bytes fed",
                  (unsigned long long)offset, (unsigned long long)end, (unsigned long long)st->seen);
    st->last_end = end;
    mr_fuzz_digest(st, offset);
    mr_fuzz_digest(st, end);
}

void mr_fuzz_check_line(const mr_line *l, uint64_t lo, uint64_t hi)
{
    MR_FUZZ_CHECK(l->eol <= 2, "line end of %u bytes", (unsigned)l->eol);
    MR_FUZZ_CHECK(l->offset >= lo && l->offset + l->len + l->eol <= hi,
                  "line at %llu (%zu + %u bytes) outside its response [%llu, %llu)",
                  (unsigned long long)l->offset, l->len, (unsigned)l->eol, (unsigned long long)lo,
                  (unsigned long long)hi);
    mr_fuzz_touch(l->ptr, l->len);
}

void mr_fuzz_check_diags(const mr_fuzz_stream *st, const mr_diag *d, size_t n, size_t dropped)
{
    mr_limits l = st->opt->limits;
    mr_limits_resolve(&l);
    if (st->opt->mode == MR_LENIENT) {
        MR_FUZZ_CHECK(n == 0 && dropped == 0, "%zu diagnostics in lenient mode", n + dropped);
        return;
    }
    MR_FUZZ_CHECK(n <= l.max_diags, "%zu diagnostics kept, limit %zu", n, l.max_diags);
    MR_FUZZ_CHECK(n == 0 || d != NULL, "%zu diagnostics without an array", n);
    for (size_t i = 0; i < n; i++) {
        MR_FUZZ_CHECK(d[i].ref && *d[i].ref && d[i].message && *d[i].message,
                      "diagnostic %zu without a rule or message", i);
        mr_fuzz_touch(d[i].ref, strlen(d[i].ref));
        mr_fuzz_touch(d[i].message, strlen(d[i].message));
        MR_FUZZ_CHECK(d[i].offset <= st->seen, "diagnostic at %llu past the %llu bytes fed",
                      (unsigned long long)d[i].offset, (unsigned long long)st->seen);
    }
}

void mr_fuzz_count_event(mr_fuzz_stream *st)
{
    st->events++;
    MR_FUZZ_CHECK(st->events <= 2 * st->seen + 16, "%llu events from %llu bytes: no progress",
                  (unsigned long long)st->events, (unsigned long long)st->seen);
}

/* ------------------------------------------------------------ the CLI engine */

void mr_fuzz_engine(const mr_cli_config *cfg_in, const uint8_t *data, size_t len,
                    const mr_transcript *t, mr_fuzz_output *o)
{
    mr_cli_config cfg = *cfg_in;
    memset(o, 0, sizeof *o);
    cfg.out = open_memstream(&o->out, &o->out_len);
    cfg.err = open_memstream(&o->err, &o->err_len);
    if (!cfg.out || !cfg.err)
        abort();
    cfg.name = "<fuzz>";
    if (t)
        o->status = mr_cli_parse_transcript(&cfg, t);
    else
        o->status = mr_cli_parse_bytes(&cfg, data, len);
    if (fclose(cfg.out) != 0 || fclose(cfg.err) != 0)
        abort();
    MR_FUZZ_CHECK(o->status == MR_CLI_EXIT_OK || o->status == MR_CLI_EXIT_FAILED ||
                      o->status == MR_CLI_EXIT_USAGE,
                  "exit status %d", o->status);
}

void mr_fuzz_output_free(mr_fuzz_output *o)
{
    free(o->out);
    free(o->err);
    memset(o, 0, sizeof *o);
}

/* The line of s (length n) holding byte i, for messages. */
static void line_at(const char *s, size_t n, size_t i, size_t *start, size_t *len)
{
    size_t a = i, b = i;
    while (a > 0 && s[a - 1] != '\n')
        a--;
    while (b < n && s[b] != '\n')
        b++;
    *start = a;
    *len = b - a > 300 ? 300 : b - a;
}

static void same_text(const char *a, size_t al, const char *b, size_t bl, const char *stream,
                      const char *what)
{
    size_t i = 0, as, an, bs, bn;
    if (al == bl && memcmp(a, b, al) == 0)
        return;
    while (i < al && i < bl && a[i] == b[i])
        i++;
    line_at(a, al, i, &as, &an);
    line_at(b, bl, i, &bs, &bn);
    mr_fuzz_fail(__FILE__, __LINE__, "same output", "%s: %s differs at byte %zu:\n  %.*s\n  %.*s",
                 what, stream, i, (int)an, a + as, (int)bn, b + bs);
}

void mr_fuzz_same_output(const mr_fuzz_output *a, const mr_fuzz_output *b, const char *what)
{
    same_text(a->out, a->out_len, b->out, b->out_len, "stdout", what);
    same_text(a->err, a->err_len, b->err, b->err_len, "stderr", what);
    MR_FUZZ_CHECK(a->status == b->status, "%s: exit status %d vs %d", what, a->status, b->status);
}

void mr_fuzz_engine_config(uint8_t mode, uint8_t flags, mr_cli_config *cfg)
{
    static const mr_cli_protocol proto[4] = {MR_CLI_POP3, MR_CLI_SMTP, MR_CLI_IMAP, MR_CLI_IMAP};
    memset(cfg, 0, sizeof *cfg);
    cfg->protocol = proto[mode & 3];
    mr_fuzz_options(flags, 0, NULL, &cfg->options);
    cfg->dialogue = (mode & MR_FUZZ_MODE_DIALOGUE) != 0;
    cfg->feed.kind = MR_FEED_WHOLE;
    cfg->hide_chunks = 1;
    if (cfg->protocol == MR_CLI_IMAP) {
        cfg->no_greeting = (mode & MR_FUZZ_MODE_NO_GREETING) != 0;
        cfg->print = (mode & MR_FUZZ_MODE_PRINT) != 0;
    }
}

int mr_fuzz_transcript(const uint8_t *data, size_t len, mr_transcript *t)
{
    mr_transcript_error e;
    return mr_transcript_read(data, len, NULL, t, &e) == 0 ? 0 : -1;
}

uint64_t mr_fuzz_server_len(const mr_transcript *t)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->n_items; i++)
        if (t->items[i].kind == MR_TRANSCRIPT_SEGMENT && t->items[i].dir == 'S')
            n += t->items[i].len;
    return n;
}

/* ------------------------------------------------------------ the driver */

/* After a fatal error every call returns the same error and consumes nothing. */
static void check_sticky(const mr_fuzz_ops *ops, void *p, void *ctx, mr_errcode code)
{
    static const uint8_t byte = 'x';
    size_t used = 1;
    mr_event_type t = ops->next(p, &byte, 1, &used, ctx);
    MR_FUZZ_CHECK(t == MR_EV_ERROR && ops->error(ctx)->code == code && used == 0,
                  "after fatal %s a call returned %s (%s), consuming %zu", mr_errcode_name(code),
                  mr_event_type_name(t), t == MR_EV_ERROR ? mr_errcode_name(ops->error(ctx)->code) : "-",
                  used);
}

/* One event: checked, counted; returns 1 when it is a fatal error. */
static int on_event(const mr_fuzz_ops *ops, mr_fuzz_stream *st, void *p, void *ctx, mr_event_type t)
{
    const mr_error *e;
    MR_FUZZ_CHECK(t == MR_EV_RESPONSE || t == MR_EV_BODY_CHUNK || t == MR_EV_ERROR,
                  "event type %d", (int)t);
    mr_fuzz_count_event(st);
    mr_fuzz_digest(st, (uint64_t)t);
    MR_FUZZ_CHECK(strcmp(mr_event_type_name(t), "unknown") != 0, "event %d has no name", (int)t);
    if (t == MR_EV_ERROR) {
        e = ops->error(ctx);
        mr_fuzz_check_error(st, e);
        mr_fuzz_digest(st, (uint64_t)e->code);
        mr_fuzz_digest(st, e->offset);
    }
    ops->check(st, p, ctx, t);
    return t == MR_EV_ERROR && mr_errcode_is_fatal(ops->error(ctx)->code);
}

/* Feed all of in->data to p as the feeder says, then finish(); fills *st. */
static void feed_all(const mr_fuzz_ops *ops, void *p, void *ctx, const mr_fuzz_input *in,
                     const mr_options *opt, uint8_t flags, uint8_t seed, mr_fuzz_stream *st)
{
    mr_fuzz_feeder feeder;
    mr_errcode fatal = MR_E_OK;
    size_t off = 0;

    memset(st, 0, sizeof *st);
    st->opt = opt;
    st->digest = 0xcbf29ce484222325ull;
    mr_fuzz_feeder_init(&feeder, flags, seed);
    while (off < in->len && fatal == MR_E_OK) {
        size_t n = mr_fuzz_feeder_next(&feeder, in->len - off), pos = 0;
        uint8_t *piece = mr_fuzz_copy(in->data + off, n);
        st->seen += n;
        for (;;) {
            size_t used = SIZE_MAX;
            mr_event_type t;
            if (ops->before)
                ops->before(p, ctx);
            t = ops->next(p, piece + pos, n - pos, &used, ctx);
            MR_FUZZ_CHECK(used <= n - pos, "consumed %zu of %zu bytes", used, n - pos);
            pos += used;
            if (t == MR_EV_NEED_MORE) {
                MR_FUZZ_CHECK(pos == n, "NEED_MORE with %zu bytes left", n - pos);
                break;
            }
            if (on_event(ops, st, p, ctx, t)) {
                fatal = ops->error(ctx)->code;
                check_sticky(ops, p, ctx, fatal);
                break;
            }
        }
        free(piece);
        off += n;
    }
    /* Only the fatal error may keep bytes unconsumed. */
    if (fatal == MR_E_OK) {
        MR_FUZZ_CHECK(ops->offset(p) == st->seen, "offset %llu after %llu bytes fed",
                      (unsigned long long)ops->offset(p), (unsigned long long)st->seen);
        for (int i = 0; i < 64; i++) {
            mr_event_type t = ops->finish(p, ctx);
            MR_FUZZ_CHECK(t != MR_EV_BODY_CHUNK, "finish() gave a body chunk");
            if (t == MR_EV_NEED_MORE)
                break;
            MR_FUZZ_CHECK(i < 63, "finish() does not end");
            if (on_event(ops, st, p, ctx, t))
                break;
        }
    } else {
        MR_FUZZ_CHECK(ops->offset(p) <= st->seen, "offset %llu after %llu bytes fed",
                      (unsigned long long)ops->offset(p), (unsigned long long)st->seen);
    }
}

void mr_fuzz_drive(const mr_fuzz_ops *ops, void *ctx, const mr_fuzz_input *in, uint8_t flags,
                   uint8_t seed, uint8_t budget)
{
    mr_fuzz_alloc fa;
    mr_options opt;
    mr_fuzz_stream st, again;
    void *p;

    mr_fuzz_options(flags, budget, &fa, &opt);
    p = ops->create(&opt);
    if (!p) {
        MR_FUZZ_CHECK(fa.fail_at != 0, "the parser could not be created without a failing allocator");
        return;
    }
    feed_all(ops, p, ctx, in, &opt, flags, seed, &st);
    if (fa.fail_at == 0) {
        MR_FUZZ_CHECK(fa.peak <= mr_fuzz_memory_bound(&opt.limits),
                      "peak memory %zu over the bound %zu for these limits", fa.peak,
                      mr_fuzz_memory_bound(&opt.limits));
        /* Reset is back to the start of a stream: the same run again. */
        ops->reset(p, ctx);
        feed_all(ops, p, ctx, in, &opt, flags, seed, &again);
        MR_FUZZ_CHECK(again.events == st.events && again.digest == st.digest,
                      "after reset: %llu events (digest %016llx), before: %llu (%016llx)",
                      (unsigned long long)again.events, (unsigned long long)again.digest,
                      (unsigned long long)st.events, (unsigned long long)st.digest);
    }
    ops->destroy(p);
    MR_FUZZ_CHECK(fa.in_use == 0, "%zu bytes still allocated after free", fa.in_use);
}
