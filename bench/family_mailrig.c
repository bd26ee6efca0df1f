/*
 * family_mailrig.c - mailrig's own contenders for the benchmarks
 * (mr_bench.h), and the floors every parser is measured against.
 *
 * For each protocol: "mailrig" feeds the whole session in one buffer, as
 * a client that has read everything would; "mailrig-4k", "mailrig-7" and
 * "mailrig-1" feed it in 4096-byte reads, 7-byte pieces and one byte at a
 * time, to show what chunking costs.  Every contender tells the parser the
 * client's commands the way a client does (expect_line: needed for POP3,
 * whose multi-line framing depends on the command, RFC 1939 3, and for
 * SMTP's pipelined replies, RFC 2920), all of them before the first byte:
 * the parsers queue them.  IMAP parses typed: ENVELOPE and BODYSTRUCTURE
 * decoded (mr_imap_fetch_item.envelope, .body), as every parse does.
 *
 * Floors ("any" protocol): "memchr" finds every '\n' of the server bytes
 * (the least a line-based parser must do), "memcpy" copies them once, and
 * "call-1" calls a function that is not inlined once per byte, keeping
 * the byte: the least feeding one byte at a time can cost.
 */
#include "mr_bench.h"

#include "imap/mr_imap.h"
#include "pop3/mr_pop3.h"
#include "smtp/mr_smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ shared */

typedef struct state {
    mr_pop3_parser *pop3;
    mr_smtp_parser *smtp;
    mr_imap_parser *imap;
    int *kind;     /* POP3, SMTP: each client line's command, classified once */
    size_t *after_dot; /* SMTP: the line after the next "." line at or after i */
    uint8_t *copy; /* memcpy floor */
} state;

static void teardown_any(void *arg)
{
    state *st = arg;
    if (!st)
        return;
    mr_pop3_free(st->pop3);
    mr_smtp_free(st->smtp);
    mr_imap_free(st->imap);
    free(st->kind);
    free(st->after_dot);
    free(st->copy);
    free(st);
}

static void *setup_any(const mr_bench_corpus *c, char *err, size_t errlen)
{
    state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (strcmp(c->protocol, "pop3") == 0)
        st->pop3 = mr_pop3_new(NULL);
    else if (strcmp(c->protocol, "smtp") == 0)
        st->smtp = mr_smtp_new(NULL);
    else if (strcmp(c->protocol, "imap") == 0)
        st->imap = mr_imap_new(NULL);
    if (!st->pop3 && !st->smtp && !st->imap) {
        snprintf(err, errlen, "cannot make a %s parser", c->protocol);
        free(st);
        return NULL;
    }
    /* A client knows which command it sent: the passes queue enums
     * (mr_*_expect), not lines to classify. */
    st->kind = malloc((c->n_cmds ? c->n_cmds : 1) * sizeof *st->kind);
    if (!st->kind) {
        snprintf(err, errlen, "out of memory");
        teardown_any(st);
        return NULL;
    }
    if (st->smtp) {
        st->after_dot = malloc((c->n_cmds + 1) * sizeof *st->after_dot);
        if (!st->after_dot) {
            snprintf(err, errlen, "out of memory");
            teardown_any(st);
            return NULL;
        }
        st->after_dot[c->n_cmds] = c->n_cmds;
        for (size_t i = c->n_cmds; i-- > 0;)
            st->after_dot[i] = c->cmds[i].n == 1 && c->cmds[i].p[0] == '.' ? i + 1
                                                                          : st->after_dot[i + 1];
    }
    for (size_t i = 0; i < c->n_cmds; i++)
        st->kind[i] = st->pop3   ? (int)mr_pop3_cmd_classify(c->cmds[i].p, c->cmds[i].n)
                      : st->smtp ? (int)mr_smtp_cmd_classify(c->cmds[i].p, c->cmds[i].n)
                                 : 0;
    return st;
}

static int fail(char *err, size_t errlen, const char *what, mr_error e)
{
    snprintf(err, errlen, "%s at stream offset %llu: %s%s%s", mr_errcode_name(e.code),
             (unsigned long long)e.offset, mr_errcode_reason(e.code), e.detail ? ": " : "",
             e.detail ? e.detail : "");
    (void)what;
    return -1;
}

/* ------------------------------------------------------------ POP3 */

static int pop3_queue(state *st, const mr_bench_corpus *c, char *err, size_t errlen)
{
    mr_pop3_reset(st->pop3);
    for (size_t i = 0; i < c->n_cmds; i++)
        if (mr_pop3_expect(st->pop3, (mr_pop3_cmd)st->kind[i]) != 0) {
            snprintf(err, errlen, "cannot queue command %zu", i + 1);
            return -1;
        }
    return 0;
}

/* Feed c->server in pieces of `piece` bytes (0: whole). */
static int pop3_feed(state *st, const mr_bench_corpus *c, size_t piece, mr_bench_result *r,
                     char *err, size_t errlen)
{
    if (pop3_queue(st, c, err, errlen) != 0)
        return -1;
    const uint8_t *data = c->server;
    size_t len = c->server_len, off = 0, chunk_end = 0;
    mr_pop3_event ev;
    while (off < len) {
        /* A read of `piece` bytes; after an event, the rest of it. */
        if (off == chunk_end)
            chunk_end = piece && piece < len - off ? off + piece : len;
        size_t used;
        mr_event_type t = mr_pop3_next(st->pop3, data + off, chunk_end - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            continue;
        if (t == MR_EV_ERROR)
            return fail(err, errlen, "pop3", ev.error);
        if (t == MR_EV_BODY_CHUNK) {
            r->bytes += ev.chunk.len;
            continue;
        }
        const mr_pop3_response *rs = ev.response;
        r->responses++;
        if ((rs->cmd == MR_POP3_RETR || rs->cmd == MR_POP3_TOP) &&
            rs->status == MR_POP3_STATUS_OK) {
            r->decoded++;
            if (!rs->streamed)
                r->bytes += rs->body_bytes;
        }
    }
    if (mr_pop3_finish(st->pop3, &ev) != MR_EV_NEED_MORE) {
        snprintf(err, errlen, "the stream ended inside a response");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ SMTP */

/*
 * The client's side of SMTP, as a pipelining client does it (RFC 2920
 * 3.1): queue the commands up to and including DATA; when DATA's reply
 * comes, skip the message if it was 354 (up to its "." line, whose reply
 * is DATA_END, RFC 5321 4.1.1.4) and queue the next group.
 */
typedef struct smtp_client {
    const mr_bench_corpus *c;
    size_t next; /* the next client line */
} smtp_client;

static int smtp_queue_group(state *st, smtp_client *cl)
{
    const mr_bench_corpus *c = cl->c;
    while (cl->next < c->n_cmds) {
        mr_smtp_cmd cmd = (mr_smtp_cmd)st->kind[cl->next++];
        if (mr_smtp_expect(st->smtp, cmd) != 0)
            return -1;
        if (cmd == MR_SMTP_DATA)
            break;
    }
    return 0;
}

static int smtp_after_data(state *st, smtp_client *cl, unsigned code)
{
    if (code == 354) {
        cl->next = st->after_dot[cl->next]; /* found in setup: the client knows its message */
        if (mr_smtp_expect(st->smtp, MR_SMTP_DATA_END) != 0)
            return -1;
    }
    return smtp_queue_group(st, cl);
}

static int smtp_feed(state *st, const mr_bench_corpus *c, size_t piece, mr_bench_result *r,
                     char *err, size_t errlen)
{
    smtp_client cl = {c, 0};
    mr_smtp_reset(st->smtp);
    if (smtp_queue_group(st, &cl) != 0) {
        snprintf(err, errlen, "cannot queue client line %zu", cl.next);
        return -1;
    }
    const uint8_t *data = c->server;
    size_t len = c->server_len, off = 0, chunk_end = 0;
    mr_smtp_event ev;
    while (off < len) {
        /* A read of `piece` bytes; after an event, the rest of it. */
        if (off == chunk_end)
            chunk_end = piece && piece < len - off ? off + piece : len;
        size_t used;
        mr_event_type t = mr_smtp_next(st->smtp, data + off, chunk_end - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            continue;
        if (t == MR_EV_ERROR)
            return fail(err, errlen, "smtp", ev.error);
        r->responses++;
        if (ev.reply->cmd == MR_SMTP_DATA && smtp_after_data(st, &cl, ev.reply->code) != 0) {
            snprintf(err, errlen, "cannot queue client line %zu", cl.next);
            return -1;
        }
    }
    if (mr_smtp_finish(st->smtp, &ev) != MR_EV_NEED_MORE) {
        snprintf(err, errlen, "the stream ended inside a reply");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ IMAP */

static void imap_count(const mr_imap_response *rs, mr_bench_result *r)
{
    r->responses++;
    if (rs->type != MR_IMAP_TYPE_FETCH || !rs->typed)
        return;
    for (size_t i = 0; i < rs->u.fetch.n; i++) {
        const mr_imap_fetch_item *it = &rs->u.fetch.items[i];
        if (it->kind == MR_IMAP_FETCH_ENVELOPE && it->envelope)
            r->decoded++;
        else if (it->kind == MR_IMAP_FETCH_BODYSTRUCTURE && it->body)
            r->decoded++;
        else if (it->kind == MR_IMAP_FETCH_BODY_SECTION && it->data && !it->data->streamed)
            r->bytes += it->data->str.len;
    }
}

static int imap_feed(state *st, const mr_bench_corpus *c, size_t piece, mr_bench_result *r,
                     char *err, size_t errlen)
{
    mr_imap_reset(st->imap);
    for (size_t i = 0; i < c->n_cmds; i++) {
        /* BAD_FIELD: not a command (a literal's line, DONE, SASL): ignored. */
        int rc = mr_imap_expect_line(st->imap, c->cmds[i].p, c->cmds[i].n);
        if (rc != 0 && rc != MR_E_BAD_FIELD) {
            snprintf(err, errlen, "cannot queue client line %zu: %s", i + 1,
                     mr_errcode_name((mr_errcode)rc));
            return -1;
        }
    }
    const uint8_t *data = c->server;
    size_t len = c->server_len, off = 0, chunk_end = 0;
    mr_imap_event ev;
    while (off < len) {
        /* A read of `piece` bytes; after an event, the rest of it. */
        if (off == chunk_end)
            chunk_end = piece && piece < len - off ? off + piece : len;
        size_t used;
        mr_event_type t = mr_imap_next(st->imap, data + off, chunk_end - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            continue;
        if (t == MR_EV_ERROR)
            return fail(err, errlen, "imap", ev.error);
        if (t == MR_EV_BODY_CHUNK) {
            r->bytes += ev.chunk.len;
            continue;
        }
        imap_count(ev.response, r);
    }
    if (mr_imap_finish(st->imap, &ev) != MR_EV_NEED_MORE) {
        snprintf(err, errlen, "the stream ended inside a response");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ contenders */

#define FEEDER(proto, suffix, piece)                                                        \
    static int run_##proto##_##suffix(void *st, const mr_bench_corpus *c, mr_bench_result *r, \
                                      char *err, size_t errlen)                            \
    {                                                                                       \
        return proto##_feed(st, c, piece, r, err, errlen);                                  \
    }
#define FEEDERS(proto)          \
    FEEDER(proto, whole, 0)     \
    FEEDER(proto, 4k, 4096)     \
    FEEDER(proto, 7, 7)         \
    FEEDER(proto, 1, 1)
FEEDERS(pop3)
FEEDERS(smtp)
FEEDERS(imap)

static int run_memchr(void *arg, const mr_bench_corpus *c, mr_bench_result *r, char *err,
                      size_t errlen)
{
    const uint8_t *p = c->server, *end = c->server + c->server_len;
    uint64_t lines = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        lines++;
        p = nl + 1;
    }
    r->responses = lines;
    return 0;
}

/* The least a parser fed one byte per call can cost: a call that is not
 * inlined, per byte, that keeps the byte and returns "need more". */
typedef struct call_floor {
    uint8_t *buf;
    size_t len;
} call_floor;

__attribute__((noinline)) static int feed_one(call_floor *f, const uint8_t *data, size_t len,
                                              size_t *used)
{
    f->buf[f->len++] = data[0];
    *used = len;
    return 0;
}

static int run_call1(void *arg, const mr_bench_corpus *c, mr_bench_result *r, char *err,
                     size_t errlen)
{
    state *st = arg;
    call_floor f = {st->copy, 0};
    uint64_t events = 0;
    for (size_t off = 0; off < c->server_len;) {
        size_t used;
        events += (uint64_t)feed_one(&f, c->server + off, 1, &used);
        off += used;
    }
    r->responses = events + (f.len ? f.buf[f.len - 1] : 0);
    return 0;
}

static void *setup_copy(const mr_bench_corpus *c, char *err, size_t errlen)
{
    state *st = calloc(1, sizeof *st);
    if (st)
        st->copy = malloc(c->server_len ? c->server_len : 1);
    if (!st || !st->copy) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return st;
}

static int run_memcpy(void *arg, const mr_bench_corpus *c, mr_bench_result *r, char *err,
                      size_t errlen)
{
    state *st = arg;
    memcpy(st->copy, c->server, c->server_len);
    /* Read the copy back so the compiler cannot drop it. */
    r->responses = c->server_len ? st->copy[c->server_len - 1] : 0;
    return 0;
}

static void *setup_none(const mr_bench_corpus *c, char *err, size_t errlen)
{
    static int dummy;
    return &dummy;
}

static void teardown_none(void *st)
{
}

#define CONTENDERS(proto, PROTO)                                                              \
    {"mailrig", #proto, "mailrig, " PROTO " fed whole", setup_any, run_##proto##_whole,     \
     teardown_any},                                                                         \
        {"mailrig-4k", #proto, "mailrig, " PROTO " fed in 4096-byte reads", setup_any,       \
         run_##proto##_4k, teardown_any},                                                   \
        {"mailrig-7", #proto, "mailrig, " PROTO " fed in 7-byte pieces", setup_any,          \
         run_##proto##_7, teardown_any},                                                    \
        {"mailrig-1", #proto, "mailrig, " PROTO " fed one byte at a time", setup_any,        \
         run_##proto##_1, teardown_any}

const mr_bench_contender mr_bench_family[] = {
    CONTENDERS(imap, "IMAP typed (ENVELOPE, BODYSTRUCTURE decoded)"),
    CONTENDERS(pop3, "POP3"),
    CONTENDERS(smtp, "SMTP"),
    {"memchr", "any", "floor: memchr for every '\\n' of the server bytes", setup_none, run_memchr,
     teardown_none},
    {"memcpy", "any", "floor: memcpy of the server bytes", setup_copy, run_memcpy, teardown_any},
    {"call-1", "any", "floor of 1-byte feeding: a call per byte that keeps the byte", setup_copy,
     run_call1, teardown_any},
};
const size_t mr_bench_family_n = sizeof mr_bench_family / sizeof mr_bench_family[0];
const char *const mr_bench_family_name = "mailrig";
