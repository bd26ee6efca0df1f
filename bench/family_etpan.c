/*
 * family_etpan.c - libetpan (1.9.4) as a contender for the benchmarks
 * (mr_bench.h): its IMAP response parser and its POP3 client, reading the
 * server's bytes from memory through a mailstream.
 *
 * The bytes reach libetpan the way they reach it from a socket: a
 * mailstream_low driver over the corpus buffer (read hands out the next
 * bytes, up to what is asked, as a socket that has already received
 * everything would; write discards; at the end, -1), under a mailstream
 * with the 8192-byte buffer libetpan's own socket and TLS streams use
 * (mailstream_socket.c, mailstream_ssl.c).  Every pass makes a fresh
 * stream, buffer and POP3 session and closes them: a few allocations,
 * nothing next to the parse.
 *
 * "etpan-imap": what a libetpan client's commands do to read replies
 * (mailimap.c), minus what they do with the result.  The greeting:
 * mailstream_read_line (which is mailimap_read_line), then
 * mailimap_greeting_parse (no parser context, as mailimap_connect).  Then,
 * for each client command line (not the lines that answer a continuation
 * request: one parse reads a command's responses up to its completion),
 * the same read then mailimap_response_parse
 * with a parser context made from a session (mailimap_parser_context_new,
 * as mailimap_parse_response does for each response): it parses every
 * untagged response and continuation request up to the tagged completion,
 * ENVELOPE and BODYSTRUCTURE decoded into typed structs and body sections
 * read as literals into memory.  Each response is freed
 * (mailimap_response_free) as soon as it is counted.  Not done:
 * mailimap_parse_response's response_store (moving the parsed data into
 * the session) and its tag check, which only takes libetpan's own numeric
 * tags (snprintf "%i" of its counter, strcmp); the parser itself takes any
 * tag (is_tag_char: any ASTRING-CHAR but '+'), so the corpus's tags are
 * checked here instead, against the client's line.  LOGOUT is read one
 * untagged response at a time (see imap_run): libetpan's response parser
 * refuses a response that holds an untagged BYE.  libetpan does not
 * install mailimap_parser.h: the three parser entry points used are
 * declared below, as libetpan.so.20 exports them.
 *
 * "etpan-pop3": libetpan's mailpop3 client API driven from the client's
 * lines: mailpop3_connect reads the greeting over our stream, then each
 * line calls the function that sends that command and reads its reply
 * (mailpop3_capa, _user, _pass, _apop, _stat, _list, _retr, _top, _dele,
 * _noop, _rset, _quit); what they send is discarded.  mailpop3_list sends
 * LIST and then UIDL itself, so a LIST line must be followed by a UIDL
 * line, and both are read by that one call.  A command libetpan has no
 * function for (LIST n, UIDL n, AUTH, STLS, an unknown one) fails the
 * run, as does one libetpan would answer without the server (RETR of a
 * message its LIST did not show, APOP without a greeting timestamp).
 * mailpop3_retr and _top return the message with its lines un-stuffed and
 * ended by CRLF, each line cut at its first NUL (mailstream_read_multiline
 * appends C strings): `bytes` is that length.
 */
#include "mr_bench.h"

#include <libetpan/mailimap.h>
#include <libetpan/mailpop3.h>
#include <libetpan/mailstream.h>
#include <libetpan/mmapstring.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libetpan's parser entry points (src/low-level/imap/mailimap_parser.h of
 * 1.9.4, not installed). */
int mailimap_greeting_parse(mailstream *fd, MMAPString *buffer,
                            struct mailimap_parser_context *parser_ctx, size_t *indx,
                            struct mailimap_greeting **result, size_t progr_rate,
                            progress_function *progr_fun);
int mailimap_response_parse(mailstream *fd, MMAPString *buffer,
                            struct mailimap_parser_context *parser_ctx, size_t *indx,
                            struct mailimap_response **result, size_t progr_rate,
                            progress_function *progr_fun);
int mailimap_cont_req_or_resp_data_parse(mailstream *fd, MMAPString *buffer,
                                         struct mailimap_parser_context *parser_ctx,
                                         size_t *indx,
                                         struct mailimap_cont_req_or_resp_data **result,
                                         size_t progr_rate, progress_function *progr_fun);

/* The buffer size of libetpan's socket streams (mailstream_socket_open). */
#define ETPAN_STREAM_BUFFER 8192

/* ------------------------------------------------------------ memory stream */

typedef struct mem_source {
    const uint8_t *p;
    size_t left;
    mailstream *stream; /* to see what it still held when it was closed */
    size_t unread;      /* bytes never handed to the parser, set on close */
} mem_source;

/* At the end of the bytes, -1 (what libetpan's socket read gives on a
 * timeout): a 0 would be taken as "no data yet", and its literal reader
 * would ask again forever. */
static ssize_t mem_read(mailstream_low *low, void *buf, size_t count)
{
    mem_source *m = low->data;
    if (m->left == 0)
        return -1;
    size_t n = count < m->left ? count : m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (ssize_t)n;
}

static ssize_t mem_write(mailstream_low *low, const void *buf, size_t count)
{
    (void)low;
    (void)buf;
    return (ssize_t)count;
}

static int mem_close(mailstream_low *low)
{
    mem_source *m = low->data;
    m->unread = m->left + (m->stream ? m->stream->read_buffer_len : 0);
    return 0;
}

static int mem_get_fd(mailstream_low *low)
{
    (void)low;
    return -1;
}

static void mem_free(mailstream_low *low)
{
    free(low);
}

static void mem_cancel(mailstream_low *low)
{
    (void)low;
}

static struct mailstream_cancel *mem_get_cancel(mailstream_low *low)
{
    (void)low;
    return NULL;
}

static carray *mem_get_certificate_chain(mailstream_low *low)
{
    (void)low;
    return NULL;
}

static int mem_idle(mailstream_low *low)
{
    (void)low;
    return -1;
}

static mailstream_low_driver mem_driver = {
    .mailstream_read = mem_read,
    .mailstream_write = mem_write,
    .mailstream_close = mem_close,
    .mailstream_get_fd = mem_get_fd,
    .mailstream_free = mem_free,
    .mailstream_cancel = mem_cancel,
    .mailstream_get_cancel = mem_get_cancel,
    .mailstream_get_certificate_chain = mem_get_certificate_chain,
    .mailstream_setup_idle = mem_idle,
    .mailstream_unsetup_idle = mem_idle,
    .mailstream_interrupt_idle = mem_idle,
};

/* A mailstream over c->server; NULL when out of memory. */
static mailstream *mem_open(mem_source *m, const mr_bench_corpus *c)
{
    *m = (mem_source){.p = c->server, .left = c->server_len};
    mailstream_low *low = mailstream_low_new(m, &mem_driver);
    if (!low)
        return NULL;
    mailstream *s = mailstream_new(low, ETPAN_STREAM_BUFFER);
    if (!s) {
        mailstream_low_free(low);
        return NULL;
    }
    m->stream = s;
    return s;
}

/* ------------------------------------------------------------ errors */

static const char *imap_error(int e)
{
    switch (e) {
    case MAILIMAP_ERROR_STREAM:
        return "MAILIMAP_ERROR_STREAM (the bytes ended, or a response held an untagged BYE)";
    case MAILIMAP_ERROR_PARSE:
        return "MAILIMAP_ERROR_PARSE";
    case MAILIMAP_ERROR_MEMORY:
        return "MAILIMAP_ERROR_MEMORY";
    default:
        return "another MAILIMAP_ERROR (mailimap_types.h)";
    }
}

static const char *pop3_error(int e)
{
    static const char *const names[] = {
        "NO_ERROR",          "BAD_STATE",          "UNAUTHORIZED",
        "STREAM",            "DENIED",             "BAD_USER",
        "BAD_PASSWORD",      "CANT_LIST",          "NO_SUCH_MESSAGE",
        "MEMORY",            "CONNECTION_REFUSED", "APOP_NOT_SUPPORTED",
        "CAPA_NOT_SUPPORTED", "STLS_NOT_SUPPORTED", "SSL",
        "QUIT_FAILED",
    };
    return e >= 0 && (size_t)e < sizeof names / sizeof names[0] ? names[e] : "?";
}

/* ------------------------------------------------------------ IMAP */

typedef struct imap_state {
    mailimap *session; /* never connected: only the source of parser contexts */
} imap_state;

static void *imap_setup(const mr_bench_corpus *c, char *err, size_t errlen)
{
    (void)c;
    imap_state *st = calloc(1, sizeof *st);
    if (st)
        st->session = mailimap_new(0, NULL);
    if (!st || !st->session) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return st;
}

static void imap_teardown(void *arg)
{
    imap_state *st = arg;
    if (!st)
        return;
    mailimap_free(st->session);
    free(st);
}

static void imap_count_fetch(const struct mailimap_msg_att *att, mr_bench_result *r)
{
    for (clistiter *it = clist_begin(att->att_list); it; it = clist_next(it)) {
        const struct mailimap_msg_att_item *item = clist_content(it);
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || !item->att_data.att_static)
            continue;
        const struct mailimap_msg_att_static *s = item->att_data.att_static;
        switch (s->att_type) {
        case MAILIMAP_MSG_ATT_ENVELOPE:
            r->decoded += s->att_data.att_env != NULL;
            break;
        case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
            r->decoded += s->att_data.att_bodystructure != NULL;
            break;
        case MAILIMAP_MSG_ATT_BODY_SECTION:
            if (s->att_data.att_body_section)
                r->bytes += s->att_data.att_body_section->sec_length;
            break;
        case MAILIMAP_MSG_ATT_RFC822:
            r->bytes += s->att_data.att_rfc822.att_length;
            break;
        case MAILIMAP_MSG_ATT_RFC822_HEADER:
            r->bytes += s->att_data.att_rfc822_header.att_length;
            break;
        case MAILIMAP_MSG_ATT_RFC822_TEXT:
            r->bytes += s->att_data.att_rfc822_text.att_length;
            break;
        default:
            break;
        }
    }
}

/* Count one untagged response or continuation request. */
static void imap_count_item(const struct mailimap_cont_req_or_resp_data *d, mr_bench_result *r)
{
    r->responses++;
    if (d->rsp_type != MAILIMAP_RESP_RESP_DATA)
        return;
    const struct mailimap_response_data *rd = d->rsp_data.rsp_resp_data;
    if (rd->rsp_type != MAILIMAP_RESP_DATA_TYPE_MESSAGE_DATA)
        return;
    const struct mailimap_message_data *md = rd->rsp_data.rsp_message_data;
    if (md->mdt_type == MAILIMAP_MESSAGE_DATA_FETCH && md->mdt_msg_att)
        imap_count_fetch(md->mdt_msg_att, r);
}

/* Count one parsed response: its untagged responses and continuation
 * requests, and its completion.  Returns how many continuation requests
 * it held. */
static size_t imap_count(const struct mailimap_response *rsp, mr_bench_result *r)
{
    size_t conts = 0;
    r->responses++; /* rsp_resp_done */
    if (!rsp->rsp_cont_req_or_resp_data_list)
        return 0;
    for (clistiter *it = clist_begin(rsp->rsp_cont_req_or_resp_data_list); it;
         it = clist_next(it)) {
        const struct mailimap_cont_req_or_resp_data *d = clist_content(it);
        imap_count_item(d, r);
        conts += d->rsp_type == MAILIMAP_RESP_CONT_REQ;
    }
    return conts;
}

/* The tag of a client line: up to its first space. */
static size_t line_tag(const mr_bench_line *l)
{
    const uint8_t *sp = memchr(l->p, ' ', l->n);
    return sp ? (size_t)(sp - l->p) : l->n;
}

/* Whether a client line is "TAG LOGOUT". */
static int is_logout(const mr_bench_line *l)
{
    size_t t = line_tag(l);
    return l->n == t + 7 && strncasecmp((const char *)l->p + t + 1, "LOGOUT", 6) == 0;
}

static int imap_run(void *arg, const mr_bench_corpus *c, mr_bench_result *r, char *err,
                    size_t errlen)
{
    imap_state *st = arg;
    mem_source src;
    int rc = -1;
    MMAPString *buf = mmap_string_new("");
    mailstream *s = buf ? mem_open(&src, c) : NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }

    /* The greeting, as mailimap_connect reads it. */
    struct mailimap_greeting *greeting = NULL;
    size_t indx = 0;
    if (!mailstream_read_line(s, buf)) {
        snprintf(err, errlen, "no greeting");
        goto out;
    }
    int e = mailimap_greeting_parse(s, buf, NULL, &indx, &greeting, 0, NULL);
    if (e != MAILIMAP_NO_ERROR) {
        snprintf(err, errlen, "greeting: mailimap_greeting_parse: %s", imap_error(e));
        goto out;
    }
    mailimap_greeting_free(greeting);
    r->responses++;

    /* Each command's responses, as mailimap_read_line + mailimap_parse_response. */
    for (size_t i = 0; i < c->n_cmds; i++) {
        const mr_bench_line *l = &c->cmds[i];
        if (!mailstream_read_line(s, buf)) {
            snprintf(err, errlen, "command %zu: the stream ended before its responses", i + 1);
            goto out;
        }
        /* mailimap_parse_response gives back a buffer grown past 128 KiB. */
        if (buf->allocated_len > 128 * 1024) {
            MMAPString *small = mmap_string_new_len(buf->str, buf->len);
            if (!small) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            mmap_string_free(buf);
            buf = small;
        }
        struct mailimap_parser_context *ctx = mailimap_parser_context_new(st->session);
        if (!ctx) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        struct mailimap_response *rsp = NULL;
        indx = 0;
        if (is_logout(l)) {
            /* LOGOUT's "* BYE" comes before its completion (RFC 9051 6.1.3),
             * and mailimap_response_parse reads a response with an untagged
             * BYE to its end and then refuses it (MAILIMAP_ERROR_STREAM);
             * mailimap_logout takes that as the end.  So the untagged
             * responses one at a time, by the function that
             * mailimap_response_parse calls for each, then the completion. */
            for (;;) {
                struct mailimap_cont_req_or_resp_data *d = NULL;
                e = mailimap_cont_req_or_resp_data_parse(s, buf, ctx, &indx, &d, 0, NULL);
                if (e != MAILIMAP_NO_ERROR)
                    break;
                if (d) {
                    imap_count_item(d, r);
                    mailimap_cont_req_or_resp_data_free(d);
                }
            }
            if (e != MAILIMAP_ERROR_PARSE) {
                mailimap_parser_context_free(ctx);
                snprintf(err, errlen, "command %zu: mailimap_cont_req_or_resp_data_parse: %s",
                         i + 1, imap_error(e));
                goto out;
            }
        }
        e = mailimap_response_parse(s, buf, ctx, &indx, &rsp, 0, NULL);
        mailimap_parser_context_free(ctx);
        if (e != MAILIMAP_NO_ERROR) {
            snprintf(err, errlen, "command %zu: mailimap_response_parse: %s", i + 1,
                     imap_error(e));
            goto out;
        }
        const struct mailimap_response_done *done = rsp->rsp_resp_done;
        size_t tn = line_tag(l);
        if (done->rsp_type != MAILIMAP_RESP_DONE_TYPE_TAGGED ||
            strlen(done->rsp_data.rsp_tagged->rsp_tag) != tn ||
            memcmp(done->rsp_data.rsp_tagged->rsp_tag, l->p, tn) != 0) {
            snprintf(err, errlen, "command %zu: its responses end with another tag", i + 1);
            mailimap_response_free(rsp);
            goto out;
        }
        /* The client lines that answered its continuation requests (a
         * literal's bytes, an AUTHENTICATE exchange) are not commands: the
         * one parse read all the responses up to the completion. */
        i += imap_count(rsp, r);
        mailimap_response_free(rsp);
    }
    rc = 0;
out:
    if (s) {
        mailstream_close(s);
        if (rc == 0 && src.unread) {
            snprintf(err, errlen, "%zu bytes left after the last command's responses",
                     src.unread);
            rc = -1;
        }
    }
    if (buf)
        mmap_string_free(buf);
    return rc;
}

/* ------------------------------------------------------------ POP3 */

static void *pop3_setup(const mr_bench_corpus *c, char *err, size_t errlen)
{
    (void)c;
    (void)err;
    (void)errlen;
    static int none;
    return &none;
}

static void pop3_teardown(void *st)
{
    (void)st;
}

/* The client line's verb (upper-cased, at most 4 letters) and its
 * arguments as a C string. */
typedef struct pop3_line {
    char verb[5];
    char args[POP3_STRING_SIZE];
    unsigned a1, a2;
    int n_nums; /* how many numbers args holds (0..2) */
} pop3_line;

static int pop3_split(const mr_bench_line *l, pop3_line *out)
{
    size_t v = 0;
    while (v < l->n && l->p[v] != ' ')
        v++;
    if (v == 0 || v > 4)
        return -1;
    for (size_t i = 0; i < v; i++) {
        char ch = (char)l->p[i];
        out->verb[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
    }
    out->verb[v] = 0;
    size_t a = v < l->n ? v + 1 : v;
    if (l->n - a >= sizeof out->args)
        return -1;
    memcpy(out->args, l->p + a, l->n - a);
    out->args[l->n - a] = 0;
    char extra;
    out->n_nums = sscanf(out->args, "%u %u %c", &out->a1, &out->a2, &extra);
    if (out->n_nums < 0)
        out->n_nums = 0;
    return 0;
}

/* Whether libetpan knows message n from its LIST, so that it will send a
 * command on it (mailpop3.c find_msg) rather than answer it itself; its
 * LIST must have been read already, else it would send LIST first. */
static int pop3_known(mailpop3 *f, unsigned n)
{
    carray *tab = f->pop3_msg_tab;
    return tab && n >= 1 && n <= carray_count(tab) && carray_get(tab, n - 1) != NULL;
}

static int pop3_run(void *arg, const mr_bench_corpus *c, mr_bench_result *r, char *err,
                    size_t errlen)
{
    (void)arg;
    mem_source src;
    int rc = -1;
    mailpop3 *f = mailpop3_new(0, NULL);
    mailstream *s = f ? mem_open(&src, c) : NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        if (f)
            mailpop3_free(f);
        return -1;
    }
    int e = mailpop3_connect(f, s);
    if (e != MAILPOP3_NO_ERROR && e != MAILPOP3_ERROR_UNAUTHORIZED) {
        snprintf(err, errlen, "greeting: mailpop3_connect: MAILPOP3_ERROR_%s", pop3_error(e));
        goto out;
    }
    if (!f->pop3_response) {
        snprintf(err, errlen, "greeting: not +OK or -ERR");
        goto out;
    }
    r->responses++;

    for (size_t i = 0; i < c->n_cmds; i++) {
        pop3_line pl;
        if (pop3_split(&c->cmds[i], &pl) != 0) {
            snprintf(err, errlen, "client line %zu: not a POP3 command libetpan can send", i + 1);
            goto out;
        }
        const char *v = pl.verb;
        f->pop3_response = NULL;
        uint64_t status_lines = 1;
        if (strcmp(v, "CAPA") == 0 && pl.args[0] == 0) {
            clist *capa = NULL;
            e = mailpop3_capa(f, &capa);
            if (e == MAILPOP3_NO_ERROR)
                mailpop3_capa_resp_free(capa);
            else if (e == MAILPOP3_ERROR_CAPA_NOT_SUPPORTED)
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "USER") == 0) {
            e = mailpop3_user(f, pl.args);
            if (e == MAILPOP3_ERROR_BAD_USER)
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "PASS") == 0) {
            e = mailpop3_pass(f, pl.args);
            if (e == MAILPOP3_ERROR_BAD_PASSWORD)
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "APOP") == 0) {
            if (!f->pop3_timestamp) {
                snprintf(err, errlen,
                         "client line %zu: APOP, and no timestamp in the greeting (libetpan "
                         "would not send it)",
                         i + 1);
                goto out;
            }
            /* The digest is libetpan's to compute; what it sends is discarded. */
            char *sp = strchr(pl.args, ' ');
            if (sp)
                *sp = 0;
            e = mailpop3_apop(f, pl.args, "");
            if (e == MAILPOP3_ERROR_DENIED)
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "STAT") == 0 && pl.args[0] == 0) {
            struct mailpop3_stat_response *stat = NULL;
            e = mailpop3_stat(f, &stat);
            if (e == MAILPOP3_NO_ERROR)
                mailpop3_stat_resp_free(stat);
            else if (e == MAILPOP3_ERROR_CAPA_NOT_SUPPORTED) /* its -ERR code for STAT */
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "LIST") == 0 && pl.args[0] == 0) {
            /* mailpop3_list sends LIST, then UIDL, and keeps the list. */
            if (f->pop3_msg_tab) {
                snprintf(err, errlen,
                         "client line %zu: a second LIST (libetpan keeps the first and "
                         "sends nothing)",
                         i + 1);
                goto out;
            }
            if (i + 1 >= c->n_cmds || c->cmds[i + 1].n != 4 ||
                strncasecmp((const char *)c->cmds[i + 1].p, "UIDL", 4) != 0) {
                snprintf(err, errlen,
                         "client line %zu: LIST not followed by UIDL (libetpan's "
                         "mailpop3_list sends both)",
                         i + 1);
                goto out;
            }
            carray *tab = NULL;
            e = mailpop3_list(f, &tab);
            if (e == MAILPOP3_ERROR_CANT_LIST) {
                e = MAILPOP3_NO_ERROR; /* -ERR to LIST: libetpan sent no UIDL */
            } else {
                status_lines = 2;
                i++;
            }
        } else if ((strcmp(v, "RETR") == 0 && pl.n_nums == 1) ||
                   (strcmp(v, "TOP") == 0 && pl.n_nums == 2)) {
            if (!pop3_known(f, pl.a1)) {
                snprintf(err, errlen,
                         "client line %zu: message %u is not in libetpan's LIST (it would "
                         "not send the command)",
                         i + 1, pl.a1);
                goto out;
            }
            char *msg = NULL;
            size_t len = 0;
            if (v[0] == 'R')
                e = mailpop3_retr(f, pl.a1, &msg, &len);
            else
                e = mailpop3_top(f, pl.a1, pl.a2, &msg, &len);
            if (e == MAILPOP3_NO_ERROR) {
                r->decoded++;
                r->bytes += len;
                if (v[0] == 'R')
                    mailpop3_retr_free(msg);
                else
                    mailpop3_top_free(msg);
            } else if (e == MAILPOP3_ERROR_NO_SUCH_MESSAGE) {
                e = MAILPOP3_NO_ERROR; /* -ERR */
            }
        } else if (strcmp(v, "DELE") == 0 && pl.n_nums == 1) {
            if (!pop3_known(f, pl.a1)) {
                snprintf(err, errlen,
                         "client line %zu: message %u is not in libetpan's LIST (it would "
                         "not send the command)",
                         i + 1, pl.a1);
                goto out;
            }
            e = mailpop3_dele(f, pl.a1);
            if (e == MAILPOP3_ERROR_NO_SUCH_MESSAGE)
                e = MAILPOP3_NO_ERROR;
        } else if (strcmp(v, "NOOP") == 0 && pl.args[0] == 0) {
            e = mailpop3_noop(f);
        } else if (strcmp(v, "RSET") == 0 && pl.args[0] == 0) {
            e = mailpop3_rset(f);
        } else if (strcmp(v, "QUIT") == 0 && pl.args[0] == 0) {
            /* Reads the reply, then closes the stream (and frees ours). */
            e = mailpop3_quit(f);
            if (e == MAILPOP3_NO_ERROR && !f->pop3_response)
                e = MAILPOP3_ERROR_STREAM;
            if (e == MAILPOP3_NO_ERROR && i + 1 < c->n_cmds) {
                snprintf(err, errlen, "client line %zu: lines after QUIT", i + 2);
                goto out;
            }
        } else {
            snprintf(err, errlen, "client line %zu: %.*s: libetpan has no function for it",
                     i + 1, (int)c->cmds[i].n, (const char *)c->cmds[i].p);
            goto out;
        }
        if (e != MAILPOP3_NO_ERROR) {
            snprintf(err, errlen, "client line %zu: MAILPOP3_ERROR_%s", i + 1, pop3_error(e));
            goto out;
        }
        if (!f->pop3_response) {
            snprintf(err, errlen, "client line %zu: its reply is not +OK or -ERR", i + 1);
            goto out;
        }
        r->responses += status_lines;
    }
    rc = 0;
out:;
    /* After QUIT, libetpan has closed the stream (mem_close counted what it
     * left).  Without it, mailpop3_free sends QUIT and reads a reply, then
     * closes: count first. */
    size_t unread = f->pop3_stream ? src.left + f->pop3_stream->read_buffer_len : src.unread;
    mailpop3_free(f);
    if (rc == 0 && unread) {
        snprintf(err, errlen, "%zu bytes left after the last command's reply", unread);
        rc = -1;
    }
    return rc;
}

/* ------------------------------------------------------------ contenders */

const mr_bench_contender mr_bench_family[] = {
    {"etpan-imap", "imap",
     "libetpan 1.9.4 mailimap parser (ENVELOPE, BODYSTRUCTURE decoded), 8 KiB mailstream",
     imap_setup, imap_run, imap_teardown},
    {"etpan-pop3", "pop3", "libetpan 1.9.4 mailpop3 client API, 8 KiB mailstream", pop3_setup,
     pop3_run, pop3_teardown},
};
const size_t mr_bench_family_n = sizeof mr_bench_family / sizeof mr_bench_family[0];
const char *const mr_bench_family_name = "etpan";
