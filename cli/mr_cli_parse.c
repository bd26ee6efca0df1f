/*
 * mr_cli_parse.c - the engine of "mailrig parse": feeding strategies, the
 * dialogue-mode client tracker, JSON Lines output, error messages, the
 * option parser and the subcommand's main (see mr_cli_parse.h and
 * docs/cli.md).
 */
#include "mr_cli_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/mr_cursor.h"
#include "imap/mr_imap.h"
#include "mr_json.h"
#include "pop3/mr_pop3.h"
#include "smtp/mr_smtp.h"

/* Client command lines are classified from their first bytes; the rest of
 * an overlong line is dropped (RFC 5321 4.5.3.1.4 allows 512 octets, RFC
 * 2449 4 allows 255), so memory stays bounded whatever the transcript holds. */
#define CMD_MAX 4096

/* Raw input from a file is fed in blocks of about this size. */
#define RAW_BLOCK ((size_t)64 * 1024)

/* A parser that returns this many events in a row without consuming a byte
 * is stuck (a parser bug); the stream is stopped rather than looping. */
#define MAX_IDLE_EVENTS 1000000

/* IMAP: the last bytes of a client line are kept apart from the (maybe
 * truncated) line, to find a literal announcement at its end:
 * "~{18446744073709551615+}" CRLF is 26 bytes. */
#define TAIL_MAX 32

/* IMAP: the tag of a command waiting for "+" before its literal. */
#define TAG_MAX 64

/* "\r\n.\r\n": the end of DATA (RFC 5321 4.1.1.4). */
static const uint8_t data_end[5] = {'\r', '\n', '.', '\r', '\n'};

struct mr_cli_stream {
    const mr_cli_config *cfg;
    mr_pop3_parser *pop3;
    mr_smtp_parser *smtp;
    mr_imap_parser *imap;
    uint8_t *print_buf;       /* --print: one response in wire form */
    size_t print_cap;
    /* Dialogue: where each non-empty S segment starts in the server stream
     * and its transcript line, for "(S segment at line N)"; ascending. */
    uint64_t *seg_off;
    size_t *seg_line;
    size_t n_seg;
    int have_trs;
    uint64_t server_total;    /* server bytes in the transcript */
    int status;               /* worst exit status so far */
    int stopped;              /* a fatal error (or no memory) ended the stream */
    uint64_t chunks;          /* POP3 body / IMAP literal chunks since the last response */

    /* Client side, dialogue mode. */
    uint8_t line[CMD_MAX];    /* the command line being collected (truncated) */
    size_t line_len;
    uint64_t skip_left;       /* bytes still to skip: an IMAP literal, an SMTP BDAT payload */
    int in_data;              /* SMTP: inside a DATA message */
    size_t data_match;        /* bytes of data_end matched so far */
    unsigned last_code;       /* SMTP: code of the last reply */
    uint8_t tail[TAIL_MAX];   /* IMAP: the last bytes of the line being collected */
    size_t tail_len;
    int in_command;           /* IMAP: the next line goes on with a command after a literal */
    int lit_waiting;          /* IMAP: a synchronizing literal awaits the server's "+" */
    uint64_t lit_wait_size;   /*   its size */
    uint8_t cmd_tag[TAG_MAX]; /* IMAP: the tag of the command being sent */
    size_t cmd_tag_len;
};

const char *mr_cli_protocol_name(mr_cli_protocol p)
{
    switch (p) {
    case MR_CLI_SMTP: return "smtp";
    case MR_CLI_IMAP: return "imap";
    case MR_CLI_POP3: break;
    }
    return "pop3";
}

static void raise_status(mr_cli_stream *s, int st)
{
    if (st > s->status)
        s->status = st;
}

mr_cli_stream *mr_cli_stream_new(const mr_cli_config *cfg)
{
    mr_cli_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    if (cfg->protocol == MR_CLI_SMTP)
        s->smtp = mr_smtp_new(&cfg->options);
    else if (cfg->protocol == MR_CLI_IMAP)
    {
        s->imap = mr_imap_new(&cfg->options);
        if (s->imap && cfg->no_greeting)
            mr_imap_skip_greeting(s->imap);
    } else
        s->pop3 = mr_pop3_new(&cfg->options);
    if (!s->smtp && !s->pop3 && !s->imap) {
        free(s);
        return NULL;
    }
    return s;
}

void mr_cli_stream_free(mr_cli_stream *s)
{
    if (!s)
        return;
    mr_pop3_free(s->pop3);
    mr_smtp_free(s->smtp);
    mr_imap_free(s->imap);
    free(s->print_buf);
    free(s->seg_off);
    free(s->seg_line);
    free(s);
}

void mr_cli_stream_set_transcript(mr_cli_stream *s, const mr_transcript *t)
{
    uint64_t at = 0;
    size_t n = 0;
    free(s->seg_off);
    free(s->seg_line);
    s->seg_off = malloc((t->n_items ? t->n_items : 1) * sizeof *s->seg_off);
    s->seg_line = malloc((t->n_items ? t->n_items : 1) * sizeof *s->seg_line);
    s->n_seg = 0;
    s->have_trs = 1;
    if (!s->seg_off || !s->seg_line) { /* messages just go without the line */
        free(s->seg_off);
        free(s->seg_line);
        s->seg_off = NULL;
        s->seg_line = NULL;
        s->have_trs = 0;
        return;
    }
    for (size_t i = 0; i < t->n_items; i++) {
        const mr_transcript_item *it = &t->items[i];
        if (it->kind != MR_TRANSCRIPT_SEGMENT || it->dir != 'S' || it->len == 0)
            continue;
        s->seg_off[n] = at;
        s->seg_line[n] = it->line;
        n++;
        at += it->len;
    }
    s->n_seg = n;
    s->server_total = at;
}

/* The transcript line of the S segment holding server byte off; 0 past the end. */
static size_t segment_line(const mr_cli_stream *s, uint64_t off)
{
    size_t lo = 0, hi = s->n_seg;
    if (off >= s->server_total || s->n_seg == 0)
        return 0;
    while (hi - lo > 1) { /* invariant: seg_off[lo] <= off < seg_off[hi] (or end) */
        size_t mid = lo + (hi - lo) / 2;
        if (s->seg_off[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return s->seg_line[lo];
}

static const char *name_of(const mr_cli_stream *s)
{
    return s->cfg->name ? s->cfg->name : "<input>";
}

static void out_of_memory(mr_cli_stream *s)
{
    fprintf(s->cfg->err, "%s: out of memory\n", name_of(s));
    raise_status(s, MR_CLI_EXIT_USAGE);
    s->stopped = 1;
}

/* Print one object as a line of JSON Lines and release it. */
static void emit(mr_cli_stream *s, json_t *o)
{
    if (!o) {
        out_of_memory(s);
        return;
    }
    if (json_dumpf(o, s->cfg->out, JSON_PRESERVE_ORDER | JSON_COMPACT) != 0)
        raise_status(s, MR_CLI_EXIT_USAGE); /* reported as a write error by the caller */
    fputc('\n', s->cfg->out);
    json_decref(o);
}

/* " (S segment at line N)" in dialogue mode, then the line end. */
static void end_message(mr_cli_stream *s, uint64_t offset)
{
    FILE *f = s->cfg->err;
    if (s->have_trs) {
        size_t line = segment_line(s, offset);
        if (line)
            fprintf(f, " (S segment at line %zu)", line);
        else
            fprintf(f, " (at the end of the server's bytes)");
    }
    fputc('\n', f);
}

/* "NAME:OFFSET: CODE: reason: detail (S segment at line N)"; a fatal
 * error stops the stream. */
static void report(mr_cli_stream *s, const mr_error *e)
{
    FILE *f = s->cfg->err;
    fprintf(f, "%s:%llu: %s: %s", name_of(s), (unsigned long long)e->offset,
            mr_errcode_name(e->code), mr_errcode_reason(e->code));
    if (e->detail)
        fprintf(f, ": %s", e->detail);
    end_message(s, e->offset);
    raise_status(s, MR_CLI_EXIT_FAILED);
    if (mr_errcode_is_fatal(e->code))
        s->stopped = 1;
}

/* An error of our own making (queueing a command failed): no response. */
static void stream_error(mr_cli_stream *s, int code, uint64_t offset, const char *detail)
{
    mr_error e;
    e.code = (mr_errcode)code;
    e.offset = offset;
    e.detail = detail;
    if (!s->cfg->print) { /* with --print, stdout holds wire bytes only */
        json_t *o = json_object();
        int ok = 1;
        mr_json_put(o, "protocol", json_string(mr_cli_protocol_name(s->cfg->protocol)), &ok);
        mr_json_put(o, "error", mr_json_error(&e), &ok);
        emit(s, mr_json_finish(o, ok));
    }
    report(s, &e);
}

/* ------------------------------------------------------------ POP3 events */

static void pop3_event(mr_cli_stream *s, const mr_pop3_event *ev)
{
    switch (ev->type) {
    case MR_EV_BODY_CHUNK:
        s->chunks++;
        return;
    case MR_EV_RESPONSE:
    case MR_EV_ERROR:
        emit(s, mr_json_pop3(ev, s->chunks, !s->cfg->hide_chunks));
        s->chunks = 0;
        if (ev->type == MR_EV_ERROR)
            report(s, &ev->error);
        return;
    case MR_EV_NEED_MORE:
        return;
    }
}

/* ------------------------------------------------------------ SMTP events */

static void smtp_event(mr_cli_stream *s, const mr_smtp_event *ev)
{
    if (ev->type != MR_EV_RESPONSE && ev->type != MR_EV_ERROR)
        return;
    if (ev->reply) {
        s->last_code = ev->reply->code;
        if (ev->reply->cmd == MR_SMTP_DATA && ev->reply->code == 354) {
            s->in_data = 1;
            s->data_match = 2; /* the DATA command's CRLF counts as the first one */
        }
    }
    emit(s, mr_json_smtp(ev));
    if (ev->type == MR_EV_ERROR)
        report(s, &ev->error);
}

/* ------------------------------------------------------------ IMAP events */

/* --print: the response in canonical wire form, or a message on stderr
 * ("NAME:OFFSET: cannot print ...", exit status 1) when it has none. */
static void print_imap(mr_cli_stream *s, const mr_imap_response *r)
{
    size_t n = mr_imap_print(r, NULL, 0);
    if (n == SIZE_MAX) {
        fprintf(s->cfg->err, "%s:%llu: cannot print this response in wire form: %s", name_of(s),
                (unsigned long long)r->offset,
                r->n_streamed ? "a literal was streamed (raise --stream-threshold)"
                : r->has_code ? "its response code holds a literal, which the code's text does not keep"
                              : "it did not read as values, and its literals were not kept");
        end_message(s, r->offset);
        raise_status(s, MR_CLI_EXIT_FAILED);
        return;
    }
    if (n > s->print_cap) {
        uint8_t *b = realloc(s->print_buf, n);
        if (!b) {
            out_of_memory(s);
            return;
        }
        s->print_buf = b;
        s->print_cap = n;
    }
    mr_imap_print(r, s->print_buf, n);
    if (fwrite(s->print_buf, 1, n, s->cfg->out) != n)
        raise_status(s, MR_CLI_EXIT_USAGE); /* reported as a write error by the caller */
}

/* The dialogue tracker's part: a synchronizing literal is sent after "+"
 * (RFC 9051 4.3, 7.5); a tagged reply to its command instead means the
 * server refused it, and the client sends neither the literal nor the rest
 * of the command. */
static void imap_track(mr_cli_stream *s, const mr_imap_response *r)
{
    if (!s->lit_waiting || !r)
        return;
    if (r->kind == MR_IMAP_CONTINUATION) {
        s->lit_waiting = 0;
        s->skip_left = s->lit_wait_size;
    } else if (r->kind == MR_IMAP_TAGGED && r->tag.len == s->cmd_tag_len &&
               memcmp(r->tag.ptr, s->cmd_tag, s->cmd_tag_len) == 0) {
        s->lit_waiting = 0;
        s->in_command = 0;
    }
}

/*
 * The response of an error event is printed (--print) only when the error
 * concerns its meaning, not its syntax: BAD_FIELD (a known response whose
 * tree does not have its RFC's shape) and BAD_BASE64 (a SASL challenge)
 * come with the whole value tree; after BAD_SYNTAX, TOO_DEEP and
 * TOO_MANY_ITEMS the tree is gone.
 */
static int printable_error(mr_errcode e)
{
    return e == MR_E_BAD_FIELD || e == MR_E_BAD_BASE64;
}

static void imap_event(mr_cli_stream *s, const mr_imap_event *ev)
{
    switch (ev->type) {
    case MR_EV_BODY_CHUNK:
        s->chunks++;
        return;
    case MR_EV_RESPONSE:
    case MR_EV_ERROR:
        imap_track(s, ev->response);
        if (!s->cfg->print)
            emit(s, mr_json_imap(ev, s->chunks, !s->cfg->hide_chunks));
        else if (ev->response && (ev->type == MR_EV_RESPONSE || printable_error(ev->error.code)))
            print_imap(s, ev->response);
        s->chunks = 0;
        if (ev->type == MR_EV_ERROR)
            report(s, &ev->error);
        return;
    case MR_EV_NEED_MORE:
        return;
    }
}

/* ------------------------------------------------------------ feeding */

static uint64_t server_offset(const mr_cli_stream *s)
{
    if (s->imap)
        return mr_imap_offset(s->imap);
    return s->pop3 ? mr_pop3_offset(s->pop3) : mr_smtp_offset(s->smtp);
}

/* One mr_*_next() call on data[0..len), or mr_*_finish() when finishing,
 * and the handling of the event it returns.  *used: the bytes consumed. */
static mr_event_type step(mr_cli_stream *s, const uint8_t *data, size_t len, size_t *used,
                          int finishing)
{
    mr_event_type t;
    *used = 0;
    if (s->pop3) {
        mr_pop3_event ev;
        t = finishing ? mr_pop3_finish(s->pop3, &ev) : mr_pop3_next(s->pop3, data, len, used, &ev);
        if (t != MR_EV_NEED_MORE)
            pop3_event(s, &ev);
    } else if (s->imap) {
        mr_imap_event ev;
        t = finishing ? mr_imap_finish(s->imap, &ev) : mr_imap_next(s->imap, data, len, used, &ev);
        if (t != MR_EV_NEED_MORE)
            imap_event(s, &ev);
    } else {
        mr_smtp_event ev;
        t = finishing ? mr_smtp_finish(s->smtp, &ev) : mr_smtp_next(s->smtp, data, len, used, &ev);
        if (t != MR_EV_NEED_MORE)
            smtp_event(s, &ev);
    }
    return t;
}

/* A parser bug: it returns events without end.  Stop the stream. */
static void stuck(mr_cli_stream *s, const char *what)
{
    fprintf(s->cfg->err, "%s:%llu: %s\n", name_of(s), (unsigned long long)server_offset(s), what);
    raise_status(s, MR_CLI_EXIT_USAGE);
    s->stopped = 1;
}

void mr_cli_stream_server(mr_cli_stream *s, const uint8_t *data, size_t len)
{
    static const uint8_t empty[1] = {0};
    size_t off = 0, used = 0, idle = 0;
    if (!data)
        data = empty; /* no arithmetic on NULL */
    while (!s->stopped) {
        mr_event_type t = step(s, data + off, len - off, &used, 0);
        off += used;
        if (t == MR_EV_NEED_MORE)
            break;
        idle = used ? 0 : idle + 1;
        if (idle > MAX_IDLE_EVENTS)
            stuck(s, "the parser returns events without consuming input");
    }
}

int mr_cli_stream_finish(mr_cli_stream *s)
{
    size_t n = 0, used;
    while (!s->stopped && step(s, NULL, 0, &used, 1) != MR_EV_NEED_MORE) {
        if (++n > MAX_IDLE_EVENTS)
            stuck(s, "the parser's finish() does not end");
    }
    return s->status;
}

/* ------------------------------------------------------------ client side */

/* The payload size of "BDAT n [LAST]", or 0 when there is none (or it
 * does not fit in 64 bits: the server will reject it; skip nothing). */
static uint64_t bdat_size(const uint8_t *line, size_t n)
{
    mr_cursor c;
    uint64_t v;
    mr_cur_init(&c, line, n);
    if (!mr_cur_skip(&c, 4))
        return 0;
    mr_cur_skip_space(&c);
    return mr_cur_get_u64(&c, &v) ? v : 0;
}

/*
 * The literal a client line announces at its end (RFC 9051 4.3: literal =
 * "{" number64 ["+"] "}" CRLF; RFC 7888 {n+}; RFC 3516 literal8 "~{n}"),
 * from the line's last bytes t[0..n) (line end included).  Returns 0 when
 * there is none (or its size does not fit in 64 bits), 1 for a
 * synchronizing literal, 2 for a non-synchronizing one, with *size.
 */
static int client_literal(const uint8_t *t, size_t n, uint64_t *size)
{
    int binary, nonsync;
    size_t at;
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
        n--;
    if (mr_imap_literal_marker(t, n, size, &binary, &nonsync, &at) != 1)
        return 0;
    return nonsync ? 2 : 1;
}

/* IMAP: one complete client line.  A command's first line is queued; a
 * line that goes on with a command after a literal, and a SASL response,
 * are not; then a literal announced at the line's end is skipped. */
static void imap_client_line(mr_cli_stream *s, const uint8_t *line, size_t n)
{
    uint64_t size = 0;
    int lit;
    if (s->in_command) {
        s->in_command = 0; /* the rest of the command (RFC 9051 4.3) */
    } else if (mr_imap_in_sasl(s->imap)) {
        return; /* a SASL response or "*" (RFC 9051 6.2.2) */
    } else {
        size_t t = 0;
        int rc = mr_imap_expect_line(s->imap, line, n);
        /* BAD_FIELD: no tag and command, such as IDLE's "DONE" (RFC 2177 3). */
        if (rc != 0 && rc != MR_E_BAD_FIELD)
            stream_error(s, rc, server_offset(s), "while queueing a client command");
        while (t < n && t < TAG_MAX && line[t] != ' ' && line[t] != '\t' && line[t] != '\r' &&
               line[t] != '\n')
            t++;
        memcpy(s->cmd_tag, line, t);
        s->cmd_tag_len = t;
    }
    lit = client_literal(s->tail, s->tail_len, &size);
    if (lit == 0)
        return;
    s->in_command = 1;
    if (lit == 2) {
        s->skip_left = size;
    } else {
        s->lit_waiting = 1;
        s->lit_wait_size = size;
    }
}

/* One complete client line (line end included, maybe truncated). */
static void client_line(mr_cli_stream *s, const uint8_t *line, size_t n)
{
    int rc;
    if (s->imap) {
        imap_client_line(s, line, n);
        return;
    }
    if (s->pop3) {
        if (mr_pop3_in_sasl(s->pop3))
            return; /* a SASL response (RFC 5034 4) */
        rc = mr_pop3_expect_line(s->pop3, line, n);
    } else {
        if (s->last_code == 334)
            return; /* a SASL response (RFC 4954 4) */
        rc = mr_smtp_expect_line(s->smtp, line, n);
        if (rc == 0 && mr_smtp_cmd_classify(line, n) == MR_SMTP_BDAT)
            s->skip_left = bdat_size(line, n);
    }
    if (rc != 0)
        stream_error(s, rc, server_offset(s), "while queueing a client command");
}

void mr_cli_stream_client(mr_cli_stream *s, const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len && !s->stopped) {
        if (s->lit_waiting) {
            /* The client sent the literal without a "+" in between: take
             * it as the literal anyway. */
            s->lit_waiting = 0;
            s->skip_left = s->lit_wait_size;
        }
        if (s->skip_left) {
            size_t take = len - i;
            if ((uint64_t)take > s->skip_left)
                take = (size_t)s->skip_left;
            s->skip_left -= take;
            i += take;
            continue;
        }
        if (s->in_data) {
            /* Look for CRLF "." CRLF; on a mismatch the match restarts at
             * CR (no proper suffix of a partial match is a longer prefix). */
            uint8_t c = data[i++];
            if (c == data_end[s->data_match])
                s->data_match++;
            else
                s->data_match = c == '\r' ? 1 : 0;
            if (s->data_match == sizeof data_end) {
                int rc;
                s->in_data = 0;
                s->data_match = 0;
                rc = mr_smtp_expect(s->smtp, MR_SMTP_DATA_END);
                if (rc != 0)
                    stream_error(s, rc, server_offset(s), "while queueing the end of DATA");
            }
            continue;
        }
        {
            const uint8_t *lf = memchr(data + i, '\n', len - i);
            size_t end = lf ? (size_t)(lf - data) + 1 : len;
            size_t take = end - i;
            if (take > CMD_MAX - s->line_len)
                take = CMD_MAX - s->line_len;
            memcpy(s->line + s->line_len, data + i, take);
            s->line_len += take;
            if (end - i >= TAIL_MAX) {
                memcpy(s->tail, data + end - TAIL_MAX, TAIL_MAX);
                s->tail_len = TAIL_MAX;
            } else {
                size_t add = end - i, keep = s->tail_len;
                if (keep > TAIL_MAX - add)
                    keep = TAIL_MAX - add;
                memmove(s->tail, s->tail + s->tail_len - keep, keep);
                memcpy(s->tail + keep, data + i, add);
                s->tail_len = keep + add;
            }
            i = end;
            if (lf) {
                client_line(s, s->line, s->line_len);
                s->line_len = 0;
                s->tail_len = 0;
            }
        }
    }
}

/* ------------------------------------------------------------ strategies */

/* A run of server segments and where it starts in the server stream. */
typedef struct run {
    const mr_span *parts;
    size_t n_parts;
    uint64_t base;
    uint8_t *scratch; /* for chunks that span segments */
    size_t scratch_cap;
    int oom;
} run;

static const uint8_t *gather(run *r, size_t k, size_t k_start, size_t a, size_t b)
{
    /* Bytes [a, b) of the run, starting in part k (which starts at k_start). */
    size_t at = 0;
    if (a - k_start + (b - a) <= r->parts[k].len)
        return r->parts[k].ptr + (a - k_start);
    if (r->scratch_cap < b - a) {
        uint8_t *n = realloc(r->scratch, b - a);
        if (!n) {
            r->oom = 1;
            return NULL;
        }
        r->scratch = n;
        r->scratch_cap = b - a;
    }
    while (at < b - a) {
        size_t from = a + at - k_start, n = r->parts[k].len - from;
        if (n > b - a - at)
            n = b - a - at;
        if (n > 0) /* an empty segment may have no pointer at all */
            memcpy(r->scratch + at, r->parts[k].ptr + from, n);
        at += n;
        k_start += r->parts[k].len;
        k++;
    }
    return r->scratch;
}

/* Feed one run, cut as cfg->feed says. */
static void feed_run(mr_cli_stream *s, run *r)
{
    const mr_cli_feed *f = &s->cfg->feed;
    size_t total = 0, pos = 0, k = 0, k_start = 0, si = 0;
    for (size_t i = 0; i < r->n_parts; i++)
        total += r->parts[i].len;
    while (f->kind == MR_FEED_SPLITS && si < f->n_splits && f->splits[si] <= r->base)
        si++;
    while (pos < total && !s->stopped) {
        size_t end = total;
        const uint8_t *p;
        while (k < r->n_parts && pos >= k_start + r->parts[k].len) {
            k_start += r->parts[k].len;
            k++;
        }
        switch (f->kind) {
        case MR_FEED_WHOLE:
            break;
        case MR_FEED_SEGMENTS:
            end = k_start + r->parts[k].len;
            break;
        case MR_FEED_PIECES: {
            size_t piece = f->piece ? f->piece : 1;
            end = pos + piece < pos || pos + piece > total ? total : pos + piece;
            break;
        }
        case MR_FEED_SPLITS:
            while (si < f->n_splits && f->splits[si] <= r->base + pos)
                si++;
            if (si < f->n_splits && f->splits[si] < r->base + total)
                end = (size_t)(f->splits[si] - r->base);
            break;
        }
        p = gather(r, k, k_start, pos, end);
        if (!p) {
            out_of_memory(s);
            return;
        }
        mr_cli_stream_server(s, p, end - pos);
        pos = end;
    }
}

int mr_cli_parse_bytes(const mr_cli_config *cfg, const uint8_t *data, size_t len)
{
    mr_cli_stream *s = mr_cli_stream_new(cfg);
    mr_span part = {data, len};
    run r;
    int st;
    if (!s) {
        fprintf(cfg->err, "%s: out of memory\n", cfg->name ? cfg->name : "<input>");
        return MR_CLI_EXIT_USAGE;
    }
    memset(&r, 0, sizeof r);
    r.parts = &part;
    r.n_parts = 1;
    feed_run(s, &r);
    free(r.scratch);
    st = mr_cli_stream_finish(s);
    mr_cli_stream_free(s);
    return st;
}

int mr_cli_parse_transcript(const mr_cli_config *cfg, const mr_transcript *t)
{
    const char *name = cfg->name ? cfg->name : "<input>";
    const mr_transcript_item *meta = NULL;
    const char *proto = mr_transcript_meta(t, "protocol", &meta);
    const char *want = mr_cli_protocol_name(cfg->protocol);
    mr_cli_stream *s;
    mr_span *parts;
    size_t n_parts = 0, i = 0;
    uint64_t server_off = 0;
    int st;
    run r;

    if (proto && strcmp(proto, want) != 0) {
        fprintf(cfg->err, "%s:%zu:1: this transcript is for protocol '%s', not %s\n", name,
                meta->line, proto, want);
        return MR_CLI_EXIT_USAGE;
    }
    s = mr_cli_stream_new(cfg);
    parts = malloc((t->n_items ? t->n_items : 1) * sizeof *parts);
    if (!s || !parts) {
        fprintf(cfg->err, "%s: out of memory\n", name);
        mr_cli_stream_free(s);
        free(parts);
        return MR_CLI_EXIT_USAGE;
    }
    mr_cli_stream_set_transcript(s, t);
    memset(&r, 0, sizeof r);
    while (i <= t->n_items && !s->stopped) {
        const mr_transcript_item *it = i < t->n_items ? &t->items[i] : NULL;
        if (it && it->kind == MR_TRANSCRIPT_SEGMENT && it->dir == 'S') {
            parts[n_parts].ptr = it->bytes;
            parts[n_parts].len = it->len;
            n_parts++;
        } else if (!it || (it->kind == MR_TRANSCRIPT_SEGMENT && it->dir == 'C')) {
            if (n_parts) {
                uint64_t run_len = 0;
                for (size_t k = 0; k < n_parts; k++)
                    run_len += parts[k].len;
                r.parts = parts;
                r.n_parts = n_parts;
                r.base = server_off;
                feed_run(s, &r);
                server_off += run_len;
                n_parts = 0;
            }
            if (it && !s->stopped)
                mr_cli_stream_client(s, it->bytes, it->len);
        }
        i++;
    }
    free(r.scratch);
    free(parts);
    st = mr_cli_stream_finish(s);
    mr_cli_stream_free(s);
    return st;
}

/* ------------------------------------------------------------ files */

int mr_cli_slurp(FILE *f, size_t max, uint8_t **data, size_t *len)
{
    /* Read up to max + 1 bytes: getting that many means "too large". */
    size_t limit = max == SIZE_MAX ? SIZE_MAX : max + 1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    *data = NULL;
    *len = 0;
    for (;;) {
        size_t got;
        if (n == cap) {
            size_t ncap = cap == 0 ? 64 * 1024 : (cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2);
            uint8_t *nb;
            if (ncap > limit)
                ncap = limit;
            if (ncap <= cap) { /* cap == limit == SIZE_MAX */
                free(buf);
                return -3;
            }
            nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return -3;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            free(buf);
            return -2;
        }
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                errno = e;
                return -1;
            }
            break;
        }
    }
    if (n == 0) {
        free(buf);
        buf = NULL;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Raw mode from a FILE: fed block by block (block = whole pieces). */
static int parse_raw_stream(const mr_cli_config *cfg, FILE *f)
{
    size_t block = RAW_BLOCK;
    uint8_t *buf;
    mr_cli_stream *s;
    int st;
    if (cfg->feed.kind == MR_FEED_PIECES && cfg->feed.piece > 0) {
        size_t p = cfg->feed.piece;
        block = p >= RAW_BLOCK ? p : (RAW_BLOCK / p) * p;
    }
    buf = malloc(block);
    s = mr_cli_stream_new(cfg);
    if (!buf || !s) {
        fprintf(cfg->err, "%s: out of memory\n", cfg->name);
        free(buf);
        mr_cli_stream_free(s);
        return MR_CLI_EXIT_USAGE;
    }
    for (;;) {
        size_t got = fread(buf, 1, block, f);
        if (got > 0) {
            if (cfg->feed.kind == MR_FEED_PIECES && cfg->feed.piece > 0) {
                for (size_t at = 0; at < got && !s->stopped; at += cfg->feed.piece) {
                    size_t n = got - at < cfg->feed.piece ? got - at : cfg->feed.piece;
                    mr_cli_stream_server(s, buf + at, n);
                }
            } else {
                mr_cli_stream_server(s, buf, got);
            }
        }
        if (got < block)
            break;
    }
    if (ferror(f)) {
        fprintf(cfg->err, "%s: read error: %s\n", cfg->name, strerror(errno));
        raise_status(s, MR_CLI_EXIT_USAGE);
    } else {
        mr_cli_stream_finish(s);
    }
    st = s->status;
    free(buf);
    mr_cli_stream_free(s);
    return st;
}

static int parse_dialogue_file(const mr_cli_config *cfg, FILE *f)
{
    uint8_t *data;
    size_t len;
    mr_transcript t;
    mr_transcript_error e;
    int rc = mr_cli_slurp(f, MR_TRANSCRIPT_DEFAULT_MAX_SIZE, &data, &len);
    if (rc == -1) {
        fprintf(cfg->err, "%s: read error: %s\n", cfg->name, strerror(errno));
        return MR_CLI_EXIT_USAGE;
    }
    if (rc == -2) {
        fprintf(cfg->err, "%s: the file is larger than %zu bytes\n", cfg->name,
                (size_t)MR_TRANSCRIPT_DEFAULT_MAX_SIZE);
        return MR_CLI_EXIT_USAGE;
    }
    if (rc == -3) {
        fprintf(cfg->err, "%s: out of memory\n", cfg->name);
        return MR_CLI_EXIT_USAGE;
    }
    if (mr_transcript_read(data, len, NULL, &t, &e) != 0) {
        if (e.line)
            fprintf(cfg->err, "%s:%zu:%zu: %s\n", cfg->name, e.line, e.col, e.message);
        else
            fprintf(cfg->err, "%s: %s\n", cfg->name, e.message);
        free(data);
        return MR_CLI_EXIT_USAGE;
    }
    free(data);
    rc = mr_cli_parse_transcript(cfg, &t);
    mr_transcript_cleanup(&t);
    return rc;
}

int mr_cli_parse_file(const mr_cli_config *cfg_in, const char *path)
{
    mr_cli_config cfg = *cfg_in;
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    int st;
    cfg.name = is_stdin ? "<stdin>" : path;
    if (!f) {
        fprintf(cfg.err, "%s: cannot open: %s\n", path, strerror(errno));
        return MR_CLI_EXIT_USAGE;
    }
    st = cfg.dialogue ? parse_dialogue_file(&cfg, f) : parse_raw_stream(&cfg, f);
    if (!is_stdin)
        fclose(f);
    fflush(cfg.out);
    return st;
}

/* ------------------------------------------------------------ options */

void mr_cli_parse_usage(FILE *f)
{
    fputs("usage: mailrig parse pop3|smtp|imap [options] [FILE...]\n"
          "\n"
          "Parse what a POP3, SMTP or IMAP server sent and print one JSON object\n"
          "per response (JSON Lines).  With no FILE, or when FILE is -, read stdin.\n"
          "Each FILE is a separate stream with a fresh parser.\n"
          "\n"
          "options:\n"
          "  --dialogue            FILE is a transcript (docs/transcript.md): the\n"
          "                        client's commands tell the parser what each\n"
          "                        response answers; without it FILE is the raw\n"
          "                        bytes the server sent\n"
          "  --strict              report deviations from the RFCs as diagnostics\n"
          "  --chunk N             feed the parser N bytes at a time (default: each\n"
          "                        server segment in dialogue mode, 64 KiB blocks\n"
          "                        in raw mode)\n"
          "  --no-greeting         IMAP: the input starts after the greeting (a\n"
          "                        fragment of a session)\n"
          "  --print               IMAP: write each response back in canonical wire\n"
          "                        form instead of JSON\n"
          "  --stream-threshold N  POP3 bodies, IMAP literals above N bytes are\n"
          "                        handed out as chunks\n"
          "  --max-line N          longest line a server may send\n"
          "  --max-lines N         most lines in one response\n"
          "  --max-body N          largest multi-line body or IMAP literal\n"
          "  --max-memory N        most parser memory for one response\n"
          "  --max-depth N         IMAP: deepest nesting of lists (at most 1000)\n"
          "  --max-items N         IMAP: most values in one response\n"
          "  -h, --help            show this help\n"
          "\n"
          "N is a positive number (of bytes for sizes), optionally followed by K,\n"
          "M or G (times 1024, 1024^2, 1024^3).\n"
          "\n"
          "exit status: 0 every response parsed, 1 a response failed to parse\n"
          "(also reported on stderr as FILE:OFFSET: message), 2 bad usage,\n"
          "unreadable FILE or transcript syntax error (FILE:LINE:COL: message).\n",
          f);
}

/* A positive size with an optional K/M/G suffix.  0 on success. */
static int parse_size(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v, mul = 1;
    mr_cursor c;
    mr_cur_init(&c, (const uint8_t *)s, strlen(s));
    if (!mr_cur_get_u64(&c, &v))
        return -1;
    if (mr_cur_accept(&c, 'k') || mr_cur_accept(&c, 'K'))
        mul = 1024;
    else if (mr_cur_accept(&c, 'm') || mr_cur_accept(&c, 'M'))
        mul = 1024 * 1024;
    else if (mr_cur_accept(&c, 'g') || mr_cur_accept(&c, 'G'))
        mul = 1024 * 1024 * 1024;
    if (!mr_cur_empty(&c) || v == 0 || v > UINT64_MAX / mul || v * mul > max)
        return -1;
    *out = v * mul;
    return 0;
}

typedef enum opt_id {
    OPT_STRICT,
    OPT_DIALOGUE,
    OPT_HELP,
    OPT_CHUNK,
    OPT_STREAM_THRESHOLD,
    OPT_MAX_LINE,
    OPT_MAX_LINES,
    OPT_MAX_BODY,
    OPT_MAX_MEMORY,
    OPT_MAX_DEPTH,
    OPT_MAX_ITEMS,
    OPT_PRINT,
    OPT_NO_GREETING,
} opt_id;

static const struct {
    const char *name;
    opt_id id;
    int has_value;
} opt_table[] = {
    {"--strict", OPT_STRICT, 0},
    {"--dialogue", OPT_DIALOGUE, 0},
    {"--help", OPT_HELP, 0},
    {"-h", OPT_HELP, 0},
    {"--chunk", OPT_CHUNK, 1},
    {"--stream-threshold", OPT_STREAM_THRESHOLD, 1},
    {"--max-line", OPT_MAX_LINE, 1},
    {"--max-lines", OPT_MAX_LINES, 1},
    {"--max-body", OPT_MAX_BODY, 1},
    {"--max-memory", OPT_MAX_MEMORY, 1},
    {"--max-depth", OPT_MAX_DEPTH, 1},
    {"--max-items", OPT_MAX_ITEMS, 1},
    {"--print", OPT_PRINT, 0},
    {"--no-greeting", OPT_NO_GREETING, 0},
};

int mr_cli_parse_args(int argc, char *const argv[], mr_cli_config *cfg, const char **files,
                      size_t *n_files, FILE *err)
{
    int have_proto = 0, opts_done = 0;
    memset(cfg, 0, sizeof *cfg);
    cfg->feed.kind = MR_FEED_SEGMENTS;
    *n_files = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k, nl;
        const char *val = NULL, *eq;
        uint64_t v = 0;
        if (opts_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!have_proto) {
                if (strcmp(a, "pop3") == 0) {
                    cfg->protocol = MR_CLI_POP3;
                } else if (strcmp(a, "smtp") == 0) {
                    cfg->protocol = MR_CLI_SMTP;
                } else if (strcmp(a, "imap") == 0) {
                    cfg->protocol = MR_CLI_IMAP;
                } else {
                    fprintf(err,
                            "mailrig parse: unknown protocol '%s' (expected pop3, smtp or imap)\n",
                            a);
                    return MR_CLI_EXIT_USAGE;
                }
                have_proto = 1;
            } else {
                files[(*n_files)++] = a;
            }
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts_done = 1;
            continue;
        }
        eq = strchr(a, '=');
        nl = eq ? (size_t)(eq - a) : strlen(a);
        for (k = 0; k < sizeof opt_table / sizeof opt_table[0]; k++)
            if (strlen(opt_table[k].name) == nl && strncmp(opt_table[k].name, a, nl) == 0)
                break;
        if (k == sizeof opt_table / sizeof opt_table[0]) {
            fprintf(err, "mailrig parse: unknown option '%.*s' (see mailrig parse --help)\n",
                    (int)nl, a);
            return MR_CLI_EXIT_USAGE;
        }
        if (opt_table[k].has_value) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                fprintf(err, "mailrig parse: %s needs a value\n", opt_table[k].name);
                return MR_CLI_EXIT_USAGE;
            }
            if (parse_size(val, opt_table[k].id == OPT_MAX_BODY ? UINT64_MAX : SIZE_MAX, &v) != 0) {
                fprintf(err,
                        "mailrig parse: %s: '%s' is not a positive size (digits, optionally "
                        "followed by K, M or G)\n",
                        opt_table[k].name, val);
                return MR_CLI_EXIT_USAGE;
            }
        } else if (eq) {
            fprintf(err, "mailrig parse: %s takes no value\n", opt_table[k].name);
            return MR_CLI_EXIT_USAGE;
        }
        switch (opt_table[k].id) {
        case OPT_STRICT: cfg->options.mode = MR_STRICT; break;
        case OPT_DIALOGUE: cfg->dialogue = 1; break;
        case OPT_HELP: return MR_CLI_HELP;
        case OPT_CHUNK:
            cfg->feed.kind = MR_FEED_PIECES;
            cfg->feed.piece = (size_t)v;
            break;
        case OPT_STREAM_THRESHOLD: cfg->options.limits.stream_threshold = (size_t)v; break;
        case OPT_MAX_LINE: cfg->options.limits.max_line = (size_t)v; break;
        case OPT_MAX_LINES: cfg->options.limits.max_lines = (size_t)v; break;
        case OPT_MAX_BODY: cfg->options.limits.max_body = v; break;
        case OPT_MAX_MEMORY: cfg->options.limits.max_memory = (size_t)v; break;
        case OPT_MAX_DEPTH: cfg->options.limits.max_depth = (size_t)v; break;
        case OPT_MAX_ITEMS: cfg->options.limits.max_items = (size_t)v; break;
        case OPT_PRINT: cfg->print = 1; break;
        case OPT_NO_GREETING: cfg->no_greeting = 1; break;
        }
    }
    if (!have_proto) {
        fprintf(err, "mailrig parse: missing protocol (pop3, smtp or imap)\n"
                     "usage: mailrig parse pop3|smtp|imap [options] [FILE...]\n");
        return MR_CLI_EXIT_USAGE;
    }
    if ((cfg->print || cfg->no_greeting) && cfg->protocol != MR_CLI_IMAP) {
        fprintf(err, "mailrig parse: %s is for imap only, not %s\n",
                cfg->print ? "--print" : "--no-greeting", mr_cli_protocol_name(cfg->protocol));
        return MR_CLI_EXIT_USAGE;
    }
    return 0;
}

int mr_cli_parse_main(int argc, char *const argv[], FILE *out, FILE *err)
{
    mr_cli_config cfg;
    const char **files = malloc((argc > 0 ? (size_t)argc : 1) * sizeof *files);
    size_t n_files = 0;
    int st = 0, rc;
    if (!files) {
        fprintf(err, "mailrig: out of memory\n");
        return MR_CLI_EXIT_USAGE;
    }
    rc = mr_cli_parse_args(argc, argv, &cfg, files, &n_files, err);
    if (rc == MR_CLI_HELP) {
        mr_cli_parse_usage(out);
        free(files);
        return MR_CLI_EXIT_OK;
    }
    if (rc != 0) {
        free(files);
        return rc;
    }
    cfg.out = out;
    cfg.err = err;
    if (n_files == 0) {
        st = mr_cli_parse_file(&cfg, "-");
    } else {
        for (size_t i = 0; i < n_files; i++) {
            int fst = mr_cli_parse_file(&cfg, files[i]);
            if (fst > st)
                st = fst;
        }
    }
    free(files);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(err, "mailrig parse: error writing the output\n");
        st = MR_CLI_EXIT_USAGE;
    }
    return st;
}
