/*
 * test_imap_fetch.c - unit tests of the typed FETCH layer of the IMAP
 * parser (parsers/imap/mr_imap_fetch.c): item names and sections,
 * ENVELOPE with address groups, BODY and BODYSTRUCTURE, date-time.
 *
 * Responses go through the real parser (mr_imap_new / mr_imap_next), after
 * a greeting, with the input right before a guard page.  The examples are
 * those of RFC 9051 7.5.2 / 8 and RFC 3501 7.4.2 / 8, a nested multipart
 * with a MESSAGE/RFC822 part as Dovecot and Cyrus send it, and one case
 * for every lenient path (the diagnostic must appear in strict mode, the
 * typed result must be the same in both modes) and every BAD path (offset
 * and detail of the MR_E_BAD_FIELD error).  Larger inputs also run through
 * every chunking, and a failing allocator hits every allocation.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imap/mr_imap_int.h"
#include "mr_imap_testutil.h"

#define GREETING "* OK ready\r\n"

/* ---- dumping typed results (compared across modes and chunkings) --------- */

/* before, then v: NIL or "string" (streamed: ""). */
static void dump_nstr(mr_sbuf *b, const char *before, mr_imap_nstring v)
{
    mr_sb_add(b, before, strlen(before));
    if (!v || v->type == MR_IMAP_V_NIL) {
        mr_sb_add(b, "NIL", 3);
        return;
    }
    mr_sb_add(b, "\"", 1);
    if (!v->streamed)
        mr_sb_span(b, v->str);
    mr_sb_add(b, "\"", 1);
}

static void dump_params(mr_sbuf *b, const mr_imap_params *p)
{
    if (p->nil) {
        mr_sb_add(b, "NIL", 3);
        return;
    }
    mr_sb_add(b, "(", 1);
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            mr_sb_add(b, " ", 1);
        dump_nstr(b, "", p->items[i].name);
        dump_nstr(b, "=", p->items[i].value);
    }
    mr_sb_add(b, ")", 1);
}

static void dump_addrs(mr_sbuf *b, const mr_imap_addresses *a)
{
    if (a->nil) {
        mr_sb_add(b, "NIL", 3);
        return;
    }
    mr_sb_add(b, "[", 1);
    for (size_t i = 0; i < a->n; i++) {
        const mr_imap_address *x = &a->items[i];
        mr_sb_printf(b, "%s{k%d", i ? " " : "", (int)x->kind);
        dump_nstr(b, " ", x->name);
        dump_nstr(b, " ", x->adl);
        dump_nstr(b, " ", x->mailbox);
        dump_nstr(b, " ", x->host);
        mr_sb_add(b, "}", 1);
    }
    mr_sb_add(b, "]", 1);
}

static void dump_envelope(mr_sbuf *b, const mr_imap_envelope *e)
{
    dump_nstr(b, "env(", e->date);
    dump_nstr(b, " ", e->subject);
    const mr_imap_addresses *l[] = {&e->from, &e->sender, &e->reply_to, &e->to, &e->cc, &e->bcc};
    for (size_t i = 0; i < 6; i++) {
        mr_sb_add(b, " ", 1);
        dump_addrs(b, l[i]);
    }
    dump_nstr(b, " ", e->in_reply_to);
    dump_nstr(b, " ", e->message_id);
    mr_sb_add(b, ")", 1);
}

static void dump_body(mr_sbuf *b, const mr_imap_body *x)
{
    mr_sb_add(b, "body(", 5);
    if (x->multipart) {
        mr_sb_add(b, "multi ", 6);
        for (size_t i = 0; i < x->n_parts; i++)
            dump_body(b, &x->parts[i]);
        dump_nstr(b, " ", x->subtype);
    } else {
        dump_nstr(b, "", x->type);
        dump_nstr(b, "/", x->subtype);
        mr_sb_add(b, " ", 1);
        dump_params(b, &x->params);
        dump_nstr(b, " id=", x->id);
        dump_nstr(b, " desc=", x->description);
        dump_nstr(b, " enc=", x->encoding);
        mr_sb_printf(b, " size=%llu", (unsigned long long)x->size);
        if (x->has_lines)
            mr_sb_printf(b, " lines=%llu", (unsigned long long)x->lines);
        if (x->envelope) {
            mr_sb_add(b, " ", 1);
            dump_envelope(b, x->envelope);
        }
        for (size_t i = 0; i < x->n_parts; i++) {
            mr_sb_add(b, " ", 1);
            dump_body(b, &x->parts[i]);
        }
    }
    mr_sb_printf(b, " ext%d", x->ext_count);
    if (x->ext_count >= 1) {
        mr_sb_add(b, " ", 1);
        if (x->multipart)
            dump_params(b, &x->ext_params);
        else
            dump_nstr(b, "", x->md5);
    }
    if (x->ext_count >= 2) {
        dump_nstr(b, " dsp=", x->disposition.type);
        dump_params(b, &x->disposition.params);
    }
    if (x->ext_count >= 3)
        mr_sb_printf(b, " lang=%s", mr_imap_vtype_name((mr_imap_vtype)x->language->type));
    if (x->ext_count >= 4)
        dump_nstr(b, " loc=", x->location);
    if (x->n_extensions)
        mr_sb_printf(b, " more=%zu", x->n_extensions);
    mr_sb_add(b, ")", 1);
}

static void dump_fetch(mr_sbuf *b, const mr_imap_fetch *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const mr_imap_fetch_item *it = &f->items[i];
        mr_sb_printf(b, " %s", mr_imap_fetch_kind_name(it->kind));
        if (it->name->has_section) {
            mr_sb_field(b, "[", it->section);
            mr_sb_add(b, "]", 1);
        }
        if (it->has_origin)
            mr_sb_printf(b, "<%llu>", (unsigned long long)it->origin);
        mr_sb_printf(b, "=#%llu", (unsigned long long)it->number);
        for (size_t j = 0; j < it->n_atoms; j++) {
            mr_sb_field(b, ",", it->atoms[j]);
        }
        if (it->has_time)
            mr_sb_printf(b, " t=%lld/%d", (long long)it->time.unix_time, it->time.zone);
        if (it->data)
            dump_nstr(b, " d=", it->data);
        if (it->envelope)
            dump_envelope(b, it->envelope);
        if (it->body)
            dump_body(b, it->body);
    }
}

/* One line per result: error, typed FETCH, diagnostics.  ud: the mr_sbuf. */
static void dump_event(void *ud, mr_event_type t, const mr_imap_event *ev)
{
    mr_sbuf *b = ud;
    if (t == MR_EV_BODY_CHUNK) {
        mr_sb_printf(b, "chunk %u %zu\n", ev->literal.index, ev->chunk.len);
        return;
    }
    if (t == MR_EV_ERROR)
        mr_sb_printf(b, "ERROR %s@%llu %s ", mr_errcode_name(ev->error.code),
                     (unsigned long long)ev->error.offset, ev->error.detail ? ev->error.detail : "");
    const mr_imap_response *r = ev->response;
    if (r) {
        mr_sb_printf(b, "%s typed=%d", mr_imap_type_name(r->type), r->typed);
        if (r->type == MR_IMAP_TYPE_FETCH && r->typed)
            dump_fetch(b, &r->u.fetch);
        mr_imap_sb_diags(b, r);
    }
    mr_sb_add(b, "\n", 1);
}

/* Feed in the chunking (piece, split); the dump of every event. */
static char *dump_stream(const char *in, size_t n, const mr_options *opt, size_t piece, size_t split)
{
    mr_imap_parser *p = mr_imap_new(opt);
    assert_non_null(p);
    mr_sbuf out;
    memset(&out, 0, sizeof out);
    mr_sb_add(&out, "", 0);
    mr_imap_feed(p, in, n, piece, split, dump_event, &out);
    mr_imap_free(p);
    return out.s;
}

static mr_options opts(mr_mode mode)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    return o;
}

/* The same dump in every chunking; returns it. */
static char *dump_all_ways(const char *in, mr_mode mode)
{
    mr_options o = opts(mode);
    size_t n = strlen(in);
    char *whole = dump_stream(in, n, &o, 0, 0);
    for (size_t piece = 0, split = 0; mr_cut_next(n, &piece, &split);)
        mr_cut_check(whole, dump_stream(in, n, &o, piece, split), piece, split);
    return whole;
}

/* ---- parsing one response ------------------------------------------------ */

typedef struct run {
    mr_imap_parser *p;
    mr_guard g;
    mr_imap_event ev;
    mr_event_type t;
    const mr_imap_response *r;
} run;

/*
 * Parse GREETING then resp[0, n) (one whole response) in `mode`.  The
 * result stays valid until run_free().  max_depth 0: the default.
 */
static const mr_imap_response *run_parse_n(run *x, const char *resp, size_t n, mr_mode mode, size_t max_depth)
{
    memset(x, 0, sizeof *x);
    mr_options o = opts(mode);
    o.limits.max_depth = max_depth;
    x->p = mr_imap_new(&o);
    assert_non_null(x->p);
    size_t used;
    mr_event_type t = mr_imap_next(x->p, (const uint8_t *)GREETING, strlen(GREETING), &used, &x->ev);
    assert_int_equal(t, MR_EV_RESPONSE);
    assert_int_equal(used, strlen(GREETING));
    mr_guard_init(&x->g, n);
    const uint8_t *buf = mr_guard_copy(&x->g, resp, n);
    x->t = mr_imap_next(x->p, buf, n, &used, &x->ev);
    assert_int_equal(used, n);
    assert_true(x->t == MR_EV_RESPONSE || x->t == MR_EV_ERROR);
    assert_non_null(x->ev.response);
    x->r = x->ev.response;
    return x->r;
}

static const mr_imap_response *run_parse(run *x, const char *resp, mr_mode mode, size_t max_depth)
{
    return run_parse_n(x, resp, strlen(resp), mode, max_depth);
}

static void run_free(run *x)
{
    mr_imap_free(x->p);
    mr_guard_free(&x->g);
}

/* The stream offset of the first occurrence of mark in resp. */
static uint64_t off_of(const char *resp, const char *mark)
{
    const char *at = strstr(resp, mark);
    if (!at)
        fail_msg("marker %s not in %s", mark, resp);
    return strlen(GREETING) + (uint64_t)(at - resp);
}

static const mr_imap_fetch_item *item(const mr_imap_response *r, mr_imap_fetch_kind k)
{
    assert_int_equal(r->type, MR_IMAP_TYPE_FETCH);
    assert_true(r->typed);
    for (size_t i = 0; i < r->u.fetch.n; i++)
        if (r->u.fetch.items[i].kind == k)
            return &r->u.fetch.items[i];
    fail_msg("no FETCH item of kind %s", mr_imap_fetch_kind_name(k));
    return NULL;
}

static int count_diag(const mr_imap_response *r, const char *msg)
{
    int n = 0;
    for (size_t i = 0; i < r->n_diags; i++)
        if (strcmp(r->diags[i].message, msg) == 0)
            n++;
    return n;
}

#define assert_nstr(v, lit)                                                               \
    do {                                                                                  \
        mr_imap_nstring v_ = (v);                                                         \
        assert_non_null(v_);                                                              \
        assert_int_not_equal(v_->type, MR_IMAP_V_NIL);                                    \
        if (!mr_span_eq(v_->str, lit))                                                    \
            fail_msg("want \"%s\", got \"%.*s\"", lit, (int)v_->str.len, (const char *)v_->str.ptr); \
    } while (0)

#define assert_nil(v) assert_true(mr_imap_value_is_nil(v))
#define assert_span(s, lit) assert_true(mr_span_eq((s), (lit)))

/* ---- RFC examples -------------------------------------------------------- */

static void test_rfc9051_fetch_example(void **state)
{
    (void)state;
    /* RFC 9051 7.5.2 */
    run x;
    const mr_imap_response *r =
        run_parse(&x, "* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827 UID 447)\r\n", MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    assert_int_equal(r->number, 23);
    assert_int_equal(r->u.fetch.n, 3);
    const mr_imap_fetch_item *f = item(r, MR_IMAP_FETCH_FLAGS);
    assert_int_equal(f->n_atoms, 1);
    assert_span(f->atoms[0], "\\Seen");
    assert_int_equal(item(r, MR_IMAP_FETCH_RFC822_SIZE)->number, 44827);
    assert_int_equal(item(r, MR_IMAP_FETCH_UID)->number, 447);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    /* RFC 9051 6.4.9: STORE answer, flags only; and an empty flag list */
    r = run_parse(&x, "* 4 FETCH (FLAGS (\\Deleted \\Flagged \\Seen) UID 9)\r\n", MR_STRICT, 0);
    f = item(r, MR_IMAP_FETCH_FLAGS);
    assert_int_equal(f->n_atoms, 3);
    assert_span(f->atoms[2], "\\Seen");
    run_free(&x);
    r = run_parse(&x, "* 4 FETCH (FLAGS ())\r\n", MR_STRICT, 0);
    assert_int_equal(item(r, MR_IMAP_FETCH_FLAGS)->n_atoms, 0);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);
}

static const char RFC_FULL[] =
    "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "
    "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
    "\"<B27397-0100000@cac.washington.edu>\") "
    "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";

static void test_rfc3501_fetch_full(void **state)
{
    (void)state;
    /* RFC 3501 8 / RFC 9051 8: "a003 fetch 12 full" */
    run x;
    const mr_imap_response *r = run_parse(&x, RFC_FULL, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    assert_int_equal(r->u.fetch.n, 5);

    const mr_imap_fetch_item *d = item(r, MR_IMAP_FETCH_INTERNALDATE);
    assert_true(d->has_time);
    assert_int_equal(d->time.year, 1996);
    assert_int_equal(d->time.month, 7);
    assert_int_equal(d->time.day, 17);
    assert_int_equal(d->time.hour, 2);
    assert_int_equal(d->time.minute, 44);
    assert_int_equal(d->time.second, 25);
    assert_int_equal(d->time.zone, -420);
    assert_int_equal(d->time.unix_time, 837596665);
    assert_int_equal(item(r, MR_IMAP_FETCH_RFC822_SIZE)->number, 4286);

    const mr_imap_envelope *e = item(r, MR_IMAP_FETCH_ENVELOPE)->envelope;
    assert_non_null(e);
    assert_nstr(e->date, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
    assert_nstr(e->subject, "IMAP4rev1 WG mtg summary and minutes");
    assert_int_equal(e->from.n, 1);
    assert_int_equal(e->from.items[0].kind, MR_IMAP_ADDR_MAILBOX);
    assert_nstr(e->from.items[0].name, "Terry Gray");
    assert_nil(e->from.items[0].adl);
    assert_nstr(e->from.items[0].mailbox, "gray");
    assert_nstr(e->from.items[0].host, "cac.washington.edu");
    assert_int_equal(e->sender.n, 1);
    assert_int_equal(e->reply_to.n, 1);
    assert_int_equal(e->to.n, 1);
    assert_nil(e->to.items[0].name);
    assert_nstr(e->to.items[0].mailbox, "imap");
    assert_int_equal(e->cc.n, 2);
    assert_nstr(e->cc.items[1].name, "John Klensin");
    assert_nstr(e->cc.items[1].host, "MIT.EDU");
    assert_true(e->bcc.nil);
    assert_int_equal(e->bcc.n, 0);
    assert_nil(e->in_reply_to);
    assert_nstr(e->message_id, "<B27397-0100000@cac.washington.edu>");

    const mr_imap_body *b = item(r, MR_IMAP_FETCH_BODY)->body;
    assert_non_null(b);
    assert_false(b->multipart);
    assert_nstr(b->type, "TEXT");
    assert_nstr(b->subtype, "PLAIN");
    assert_int_equal(b->params.n, 1);
    assert_nstr(b->params.items[0].name, "CHARSET");
    assert_nstr(b->params.items[0].value, "US-ASCII");
    assert_nil(b->id);
    assert_nil(b->description);
    assert_nstr(b->encoding, "7BIT");
    assert_int_equal(b->size, 3028);
    assert_true(b->has_lines);
    assert_int_equal(b->lines, 92);
    assert_int_equal(b->ext_count, 0);
    assert_null(b->envelope);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    /* Same typed result in lenient mode and in every chunking. */
    char *s = dump_all_ways(GREETING "* 12 FETCH (FLAGS (\\Seen))\r\n", MR_STRICT);
    free(s);
    char full[sizeof GREETING + sizeof RFC_FULL];
    snprintf(full, sizeof full, "%s%s", GREETING, RFC_FULL);
    char *st = dump_all_ways(full, MR_STRICT);
    char *le = dump_all_ways(full, MR_LENIENT);
    assert_string_equal(st, le);
    free(st);
    free(le);
}

static void test_body_header_literal(void **state)
{
    (void)state;
    /* RFC 9051 8: "a004 fetch 12 body[header]", the header as a literal */
    const char *hdr = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
                      "From: Terry Gray <gray@cac.washington.edu>\r\n"
                      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
                      "To: imap@cac.washington.edu\r\n"
                      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
                      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
                      "\r\n";
    assert_int_equal(strlen(hdr), 342);
    char in[1024];
    snprintf(in, sizeof in, "* 12 FETCH (BODY[HEADER] {%zu}\r\n%s)\r\n", strlen(hdr), hdr);
    run x;
    const mr_imap_response *r = run_parse(&x, in, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    const mr_imap_fetch_item *f = item(r, MR_IMAP_FETCH_BODY_SECTION);
    assert_span(f->section, "HEADER");
    assert_false(f->has_origin);
    assert_int_equal(f->data->type, MR_IMAP_V_LITERAL);
    assert_true(mr_span_eq(f->data->str, hdr));
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    char full[1100];
    snprintf(full, sizeof full, "%s%s", GREETING, in);
    free(dump_all_ways(full, MR_STRICT));

    /* Above stream_threshold the literal goes out as chunks; the item is
     * still typed, its data marked streamed. */
    mr_options o = opts(MR_STRICT);
    o.limits.stream_threshold = 100;
    mr_imap_parser *p = mr_imap_new(&o);
    size_t n = strlen(full), off = 0, used, chunked = 0;
    mr_imap_event ev;
    int typed = 0;
    for (;;) {
        mr_event_type t = mr_imap_next(p, (const uint8_t *)full + off, n - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            break;
        if (t == MR_EV_BODY_CHUNK) {
            chunked += ev.chunk.len;
            continue;
        }
        assert_int_equal(t, MR_EV_RESPONSE);
        if (ev.response->type != MR_IMAP_TYPE_FETCH)
            continue;
        const mr_imap_fetch_item *it = item(ev.response, MR_IMAP_FETCH_BODY_SECTION);
        assert_true(it->data->streamed);
        assert_int_equal(it->data->num, 342);
        assert_int_equal(ev.response->n_diags, 0);
        typed = 1;
    }
    assert_true(typed);
    assert_int_equal(chunked, 342);
    mr_imap_free(p);
}

static void test_rfc_bodystructure_examples(void **state)
{
    (void)state;
    /* RFC 3501 7.4.2 / RFC 9051 7.5.2 BODYSTRUCTURE examples */
    run x;
    const mr_imap_response *r = run_parse(
        &x, "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 2279 48))\r\n",
        MR_STRICT, 0);
    const mr_imap_body *b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_false(b->multipart);
    assert_int_equal(b->size, 2279);
    assert_int_equal(b->lines, 48);
    assert_int_equal(b->ext_count, 0);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    r = run_parse(&x,
                  "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 "
                  "23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
                  "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\"))\r\n",
                  MR_STRICT, 0);
    b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_true(b->multipart);
    assert_null(b->type);
    assert_nstr(b->subtype, "MIXED");
    assert_int_equal(b->n_parts, 2);
    assert_int_equal(b->ext_count, 0);
    assert_int_equal(b->parts[0].size, 1152);
    assert_int_equal(b->parts[0].lines, 23);
    const mr_imap_body *p = &b->parts[1];
    assert_int_equal(p->params.n, 2);
    assert_nstr(p->params.items[1].name, "NAME");
    assert_nstr(p->params.items[1].value, "cc.diff");
    assert_nstr(p->id, "<960723163407.20117h@cac.washington.edu>");
    assert_nstr(p->description, "Compiler diff");
    assert_nstr(p->encoding, "BASE64");
    assert_int_equal(p->size, 4554);
    assert_int_equal(p->lines, 73);
    /* RFC 9051 9: 1*body with no SP between the parts; there is none here */
    assert_int_equal(r->n_diags, 0);
    run_free(&x);
}

/* A Dovecot-style BODYSTRUCTURE: multipart/mixed holding a text part and a
 * forwarded MESSAGE/RFC822 whose body is itself multipart, with full
 * extension data at every level. */
static const char NESTED[] =
    "* 3 FETCH (UID 71 BODYSTRUCTURE ("
    "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)"
    "(\"message\" \"rfc822\" (\"name\" \"fwd.eml\") NIL \"Forwarded\" \"7bit\" 500 "
    "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"afternoon meeting\" "
    "((\"Fred Foobar\" NIL \"foobar\" \"blurdybloop.example\")) NIL NIL "
    "((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL "
    "\"<B27397-0100000@blurdybloop.example>\") "
    "("
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"quoted-printable\" 100 4 NIL NIL NIL NIL)"
    "(\"application\" \"pdf\" (\"name\" \"a.pdf\") \"<id1@x>\" NIL \"base64\" 2000 NIL "
    "(\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL)"
    " \"mixed\" (\"boundary\" \"inner\") NIL NIL NIL) 25 "
    "NIL (\"attachment\" (\"filename\" \"fwd.eml\")) \"en\" NIL)"
    " \"mixed\" (\"boundary\" \"outer\") NIL (\"en\" \"de\") \"http://example.net/loc\"))\r\n";

static void test_nested_multipart_with_message(void **state)
{
    (void)state;
    run x;
    const mr_imap_response *r = run_parse(&x, NESTED, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    assert_int_equal(r->n_diags, 0);
    assert_int_equal(item(r, MR_IMAP_FETCH_UID)->number, 71);
    const mr_imap_body *b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_true(b->multipart);
    assert_int_equal(b->n_parts, 2);
    assert_nstr(b->subtype, "mixed");
    assert_int_equal(b->ext_count, 4);
    assert_int_equal(b->ext_params.n, 1);
    assert_nstr(b->ext_params.items[0].value, "outer");
    assert_null(b->disposition.type);
    assert_int_equal(b->language->type, MR_IMAP_V_LIST);
    assert_int_equal(b->language->n_items, 2);
    assert_nstr(b->location, "http://example.net/loc");
    assert_int_equal(b->n_extensions, 0);

    const mr_imap_body *t = &b->parts[0];
    assert_nstr(t->type, "text"); /* ABNF strings are case-insensitive: no diagnostic */
    assert_int_equal(t->lines, 1);
    assert_int_equal(t->ext_count, 4);
    assert_nil(t->md5);

    const mr_imap_body *m = &b->parts[1];
    assert_false(m->multipart);
    assert_nstr(m->type, "message");
    assert_nstr(m->subtype, "rfc822");
    assert_nstr(m->description, "Forwarded");
    assert_int_equal(m->size, 500);
    assert_non_null(m->envelope);
    assert_nstr(m->envelope->subject, "afternoon meeting");
    assert_true(m->envelope->sender.nil);
    assert_nstr(m->envelope->to.items[0].mailbox, "mooch");
    assert_nstr(m->envelope->message_id, "<B27397-0100000@blurdybloop.example>");
    assert_true(m->has_lines);
    assert_int_equal(m->lines, 25);
    assert_int_equal(m->ext_count, 4);
    assert_nstr(m->disposition.type, "attachment");
    assert_int_equal(m->disposition.params.n, 1);
    assert_nstr(m->disposition.params.items[0].value, "fwd.eml");
    assert_nstr(m->language, "en");
    assert_nil(m->location);

    assert_int_equal(m->n_parts, 1);
    const mr_imap_body *in = &m->parts[0];
    assert_true(in->multipart);
    assert_int_equal(in->n_parts, 2);
    assert_nstr(in->ext_params.items[0].value, "inner");
    assert_int_equal(in->ext_count, 4);
    const mr_imap_body *pdf = &in->parts[1];
    assert_nstr(pdf->type, "application");
    assert_nstr(pdf->id, "<id1@x>");
    assert_false(pdf->has_lines);
    assert_int_equal(pdf->size, 2000);
    assert_nstr(pdf->disposition.type, "attachment");
    assert_nstr(pdf->disposition.params.items[0].name, "filename");
    assert_int_equal(in->parts[0].lines, 4);
    assert_nstr(in->parts[0].encoding, "quoted-printable");
    run_free(&x);

    char full[sizeof GREETING + sizeof NESTED];
    snprintf(full, sizeof full, "%s%s", GREETING, NESTED);
    char *st = dump_all_ways(full, MR_STRICT);
    char *le = dump_all_ways(full, MR_LENIENT);
    assert_string_equal(st, le);
    free(st);
    free(le);

    /* MESSAGE/GLOBAL (RFC 9051 9, body-type-msg) has envelope, body and lines too. */
    r = run_parse(&x,
                  "* 3 FETCH (BODY (\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8BIT\" 40 (NIL NIL NIL NIL NIL NIL NIL "
                  "NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"8BIT\" 10 1) 3))\r\n",
                  MR_STRICT, 0);
    b = item(r, MR_IMAP_FETCH_BODY)->body;
    assert_non_null(b->envelope);
    assert_nil(b->envelope->date);
    assert_true(b->envelope->from.nil);
    assert_int_equal(b->n_parts, 1);
    assert_int_equal(b->parts[0].lines, 1);
    assert_int_equal(b->lines, 3);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    /* An IMAP4rev1 server sends MESSAGE/GLOBAL as a basic part: fine too. */
    r = run_parse(&x, "* 3 FETCH (BODY (\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8BIT\" 40))\r\n", MR_STRICT, 0);
    b = item(r, MR_IMAP_FETCH_BODY)->body;
    assert_null(b->envelope);
    assert_int_equal(b->n_parts, 0);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);
}

static void test_address_groups(void **state)
{
    (void)state;
    /* RFC 9051 7.5.2 group syntax: "undisclosed-recipients:;" and a group with members */
    run x;
    const mr_imap_response *r = run_parse(
        &x,
        "* 5 FETCH (ENVELOPE (NIL \"\" NIL NIL NIL "
        "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
        "((NIL NIL \"team\" NIL)(\"Ann\" NIL \"ann\" \"x.example\")(\"Bob\" \"@relay.example\" \"bob\" "
        "\"x.example\")(NIL NIL NIL NIL)(NIL NIL \"carol\" \"y.example\")) NIL \"\" NIL))\r\n",
        MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    const mr_imap_envelope *e = item(r, MR_IMAP_FETCH_ENVELOPE)->envelope;
    assert_nil(e->date);
    assert_nstr(e->subject, ""); /* present but empty: the empty string */
    assert_true(e->from.nil);
    assert_int_equal(e->to.n, 2);
    assert_int_equal(e->to.items[0].kind, MR_IMAP_ADDR_GROUP_START);
    assert_nstr(e->to.items[0].mailbox, "undisclosed-recipients");
    assert_int_equal(e->to.items[1].kind, MR_IMAP_ADDR_GROUP_END);
    assert_int_equal(e->cc.n, 5);
    assert_int_equal(e->cc.items[0].kind, MR_IMAP_ADDR_GROUP_START);
    assert_nstr(e->cc.items[0].mailbox, "team");
    assert_int_equal(e->cc.items[1].kind, MR_IMAP_ADDR_MAILBOX);
    assert_nstr(e->cc.items[2].adl, "@relay.example");
    assert_int_equal(e->cc.items[3].kind, MR_IMAP_ADDR_GROUP_END);
    assert_int_equal(e->cc.items[4].kind, MR_IMAP_ADDR_MAILBOX);
    assert_nstr(e->cc.items[4].host, "y.example");
    assert_true(e->bcc.nil);
    assert_nstr(e->in_reply_to, "");
    assert_nil(e->message_id);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);
}

static void test_sections_and_extensions(void **state)
{
    (void)state;
    run x;
    static const char in[] = "* 9 FETCH (UID 8 BODY[1.2.HEADER.FIELDS (From \"X-Y Z\")]<10> \"abc\" BODY[]<0> NIL "
                             "BODY[1.MIME] NIL BODY[TEXT] \"t\" BODY[HEADER.FIELDS.NOT (Received)] \"h\" "
                             "BINARY[1] ~{3}\r\na\0b BINARY.SIZE[2] 33 BINARY[] \"\" "
                             "MODSEQ (624140003) EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) "
                             "SAVEDATE \"01-Jan-2020 10:00:00 +0100\" PREVIEW \"Hello there\" X-GM-MSGID 1278455344230334865)\r\n";
    /* the NUL inside the literal8: sizeof, not strlen */
    const mr_imap_response *r = run_parse_n(&x, in, sizeof in - 1, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    assert_int_equal(r->u.fetch.n, 15);
    const mr_imap_fetch_item *it = r->u.fetch.items;
    assert_int_equal(it[1].kind, MR_IMAP_FETCH_BODY_SECTION);
    assert_span(it[1].section, "1.2.HEADER.FIELDS (From \"X-Y Z\")");
    assert_true(it[1].has_origin);
    assert_int_equal(it[1].origin, 10);
    assert_nstr(it[1].data, "abc");
    assert_span(it[2].section, "");
    assert_true(it[2].has_origin);
    assert_int_equal(it[2].origin, 0);
    assert_nil(it[2].data);
    assert_span(it[3].section, "1.MIME");
    assert_span(it[4].section, "TEXT");
    assert_span(it[5].section, "HEADER.FIELDS.NOT (Received)");
    assert_int_equal(it[6].kind, MR_IMAP_FETCH_BINARY);
    assert_span(it[6].section, "1");
    assert_int_equal(it[6].data->type, MR_IMAP_V_LITERAL8);
    assert_int_equal(it[6].data->str.len, 3);
    assert_int_equal(it[6].data->str.ptr[1], 0);
    assert_int_equal(it[7].kind, MR_IMAP_FETCH_BINARY_SIZE);
    assert_span(it[7].section, "2");
    assert_int_equal(it[7].number, 33);
    assert_int_equal(it[8].kind, MR_IMAP_FETCH_BINARY);
    assert_nstr(it[8].data, "");
    assert_int_equal(it[9].kind, MR_IMAP_FETCH_MODSEQ);
    assert_int_equal(it[9].number, 624140003);
    assert_int_equal(it[10].kind, MR_IMAP_FETCH_EMAILID);
    assert_nstr(it[10].data, "M6d99ac3275bb4e");
    assert_int_equal(it[11].kind, MR_IMAP_FETCH_THREADID);
    assert_nstr(it[11].data, "T64b478a75b7ea9");
    assert_int_equal(it[12].kind, MR_IMAP_FETCH_SAVEDATE);
    assert_true(it[12].has_time);
    assert_int_equal(it[12].time.zone, 60);
    assert_int_equal(it[12].time.unix_time, 1577869200);
    assert_int_equal(it[13].kind, MR_IMAP_FETCH_PREVIEW);
    assert_nstr(it[13].data, "Hello there");
    assert_int_equal(it[14].kind, MR_IMAP_FETCH_OTHER); /* unknown: value kept, no error */
    assert_int_equal(it[14].value->type, MR_IMAP_V_NUMBER);
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    /* THREADID NIL, SAVEDATE NIL (RFC 8474, RFC 8514), PREVIEW NIL, lower-case names */
    const mr_imap_response *q =
        run_parse(&x, "* 9 FETCH (threadid NIL savedate NIL preview NIL uid 3 Body[header] NIL)\r\n", MR_STRICT, 0);
    assert_nil(item(q, MR_IMAP_FETCH_THREADID)->data);
    assert_non_null(item(q, MR_IMAP_FETCH_THREADID)->data); /* the NIL value itself */
    assert_false(item(q, MR_IMAP_FETCH_SAVEDATE)->has_time);
    assert_nil(item(q, MR_IMAP_FETCH_SAVEDATE)->data);
    assert_nil(item(q, MR_IMAP_FETCH_PREVIEW)->data);
    assert_int_equal(item(q, MR_IMAP_FETCH_UID)->number, 3);
    assert_span(item(q, MR_IMAP_FETCH_BODY_SECTION)->section, "header");
    assert_int_equal(q->n_diags, 0);
    run_free(&x);

    /* Section normalisation: single spaces, strings bare when they are
     * atoms, quoted (with escapes) otherwise; an unknown item with a
     * section is OTHER but keeps its section text. */
    q = run_parse(&x, "* 9 FETCH (BODY[HEADER.FIELDS (\"From\" {3}\r\nA\"B \"c\\\\d\" \"\" NIL)] NIL "
                      "BODY[HEADER.FIELDS.NOT (To)] NIL X-FOO[1] 7 BODY[4294967296] NIL)\r\n",
                  MR_STRICT, 0);
    assert_int_equal(q->u.fetch.n, 4);
    assert_span(q->u.fetch.items[0].section, "HEADER.FIELDS (From \"A\\\"B\" \"c\\\\d\" \"\" NIL)");
    assert_span(q->u.fetch.items[1].section, "HEADER.FIELDS.NOT (To)");
    /* "[" opens a section only after BODY and BINARY names: X-FOO[1] is one atom. */
    assert_int_equal(q->u.fetch.items[2].kind, MR_IMAP_FETCH_OTHER);
    assert_span(q->u.fetch.items[2].name->raw, "X-FOO[1]");
    assert_int_equal(q->u.fetch.items[2].value->num, 7);
    assert_int_equal(count_diag(q, "section is not a section-spec"), 1); /* only BODY[4294967296] */
    assert_int_equal(q->n_diags, 1);
    run_free(&x);

    /* RFC822, RFC822.HEADER, RFC822.TEXT (RFC 3501 7.4.2) */
    q = run_parse(&x, "* 9 FETCH (RFC822 {5}\r\nab\r\nc RFC822.HEADER \"h\" RFC822.TEXT NIL)\r\n", MR_STRICT, 0);
    assert_nstr(item(q, MR_IMAP_FETCH_RFC822)->data, "ab\r\nc");
    assert_nstr(item(q, MR_IMAP_FETCH_RFC822_HEADER)->data, "h");
    assert_nil(item(q, MR_IMAP_FETCH_RFC822_TEXT)->data);
    assert_int_equal(q->n_diags, 0);
    run_free(&x);
}

/* ---- lenient paths ------------------------------------------------------- */

typedef struct lenient_case {
    const char *resp;   /* the response after the greeting */
    const char *diag;   /* a diagnostic message it must give in strict mode */
    const char *ref;    /* its ref */
    const char *mark;   /* its offset: first occurrence of mark */
} lenient_case;

static const lenient_case lenient_cases[] = {
    /* body structure */
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" () NIL NIL \"7BIT\" 5 1))\r\n",
     "empty body parameter list; NIL expected", "RFC 9051 9", "()"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"A\" \"1\" \"B\") NIL NIL \"7BIT\" 5 1))\r\n",
     "body parameter name without a value", "RFC 9051 9", "\"B\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"A\" NIL) NIL NIL \"7BIT\" 5 1))\r\n",
     "body parameter NIL; a string is expected", "RFC 9051 9", "NIL)"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (CHARSET \"x\") NIL NIL \"7BIT\" 5 1))\r\n",
     "body parameter sent as an atom, not a string", "RFC 9051 9", "CHARSET"},
    {"* 1 FETCH (BODYSTRUCTURE (\"\" \"\" NIL NIL NIL \"7BIT\" 5))\r\n",
     "empty media type or subtype", "RFC 9051 9", "\"\""},
    {"* 1 FETCH (BODYSTRUCTURE (NIL \"PLAIN\" NIL NIL NIL \"7BIT\" 5))\r\n",
     "media type or subtype NIL; a string is expected", "RFC 9051 9", "NIL"},
    {"* 1 FETCH (BODYSTRUCTURE (TEXT PLAIN NIL NIL NIL \"7BIT\" 5 1))\r\n",
     "media type or subtype sent as an atom, not a string", "RFC 9051 9", "TEXT"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5))\r\n",
     "TEXT part without body-fld-lines", "RFC 9051 9", "(\"TEXT\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 NIL (\"inline\" NIL)))\r\n",
     "TEXT part without body-fld-lines", "RFC 9051 9", "NIL (\"inline"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" \"5\" 1))\r\n",
     "body-fld-octets sent as a string, not a number", "RFC 9051 9", "\"5\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" -1 1))\r\n",
     "negative body-fld-octets; taken as 0", "RFC 9051 9", "-1"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" \"-1\" 1))\r\n",
     "negative body-fld-octets; taken as 0", "RFC 9051 9", "\"-1\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" NIL 1))\r\n",
     "body-fld-octets NIL; taken as 0", "RFC 9051 9", "NIL 1"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 4294967296 1))\r\n",
     "body-fld-octets larger than a 32-bit number", "RFC 9051 9", "4294967296"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL NIL 5 1))\r\n",
     "body-fld-enc NIL; a string is expected", "RFC 9051 9", "NIL 5"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL \"<id>\" NIL \"7BIT\" 5 1 NIL NIL NIL NIL \"x\" (1 (2))))\r\n",
     "undefined body-extension data after body-fld-loc", "RFC 9051 7.5.2", "\"x\""},
    {"* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL))\r\n",
     "extension data in a BODY response (BODYSTRUCTURE only)", "RFC 9051 7.5.2", "NIL))"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MIXED\"))\r\n",
     "multipart body with no body parts", "RFC 9051 9", "(\"MIXED\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL NIL))\r\n",
     "multipart body with no body parts", "RFC 9051 9", "(\"MIXED\" ("},
    {"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1)))\r\n",
     "multipart body without a media subtype", "RFC 9051 9", "((\"TEXT"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MULTIPART\" \"MIXED\" NIL NIL NIL \"7BIT\" 0))\r\n",
     "MULTIPART type sent as a single part without body parts", "RFC 9051 9", "(\"MULTIPART"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5))\r\n",
     "MESSAGE/RFC822 part without envelope, body structure and lines", "RFC 9051 9", "(\"MESSAGE"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5 (NIL NIL NIL NIL NIL NIL NIL "
     "NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1)))\r\n",
     "MESSAGE/RFC822 part without body-fld-lines", "RFC 9051 9", "(\"MESSAGE"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL \"attachment\"))\r\n",
     "body disposition is a bare string, not a list", "RFC 9051 9", "\"attachment\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL (\"attachment\")))\r\n",
     "body disposition without a parameter list", "RFC 9051 9", "(\"attachment\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL ()))\r\n",
     "empty body disposition list; NIL expected", "RFC 9051 9", "()"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL (\"a\" NIL NIL)))\r\n",
     "body disposition has more than 2 fields", "RFC 9051 9", "NIL)))"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL NIL ()))\r\n",
     "empty body language list", "RFC 9051 9", "()"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL NIL (\"en\" de)))\r\n",
     "body language list holds a non-string", "RFC 9051 9", "de)"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL NIL 7))\r\n",
     "body language is not a string, list or NIL", "RFC 9051 9", "7))"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL ID NIL \"7BIT\" 5 1))\r\n",
     "an atom where a string or NIL is expected", "RFC 9051 9", "ID"},
    /* envelope */
    {"* 1 FETCH (ENVELOPE (NIL NIL () NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "empty address list; NIL expected", "RFC 9051 9", "()"},
    {"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "ENVELOPE has more than 10 fields; extra ignored", "RFC 9051 9", "NIL))"},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "end-of-group marker without a group start", "RFC 9051 7.5.2", "(NIL NIL NIL NIL)"},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"h\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL "
     "NIL NIL NIL))\r\n",
     "address group started inside another group", "RFC 9051 7.5.2", "(NIL NIL \"h\""},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"g\" NIL)) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "address group not closed by an end-of-group marker", "RFC 9051 7.5.2", "((NIL"},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((\"x\" NIL NIL \"host\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "address with a NIL mailbox but a host", "RFC 9051 7.5.2", "(\"x\""},
    /* date-time */
    {"* 1 FETCH (INTERNALDATE \"7-Jul-1996 02:44:25 -0700\")\r\n",
     "date-time day of one digit not padded with a space (date-day-fixed)", "RFC 9051 9", "\"7-"},
    {"* 1 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25\")\r\n",
     "date-time without a zone; +0000 assumed", "RFC 9051 9", "\"17"},
    {"* 1 FETCH (INTERNALDATE {26}\r\n17-Jul-1996 02:44:25 -0700)\r\n",
     "date-time sent as a literal, not a quoted string", "RFC 9051 9", "{26}"},
    /* "()" as a body (Domino, quirk 26): an unknown body, no error. */
    {"* 1 FETCH (BODYSTRUCTURE ())\r\n",
     "a body structure is an empty list; taken as an unknown body", "RFC 9051 7.5.2", "()"},
    /* A string that is no date (Domino's "00-Jan-0000 ...", quirk 34): no time, no error. */
    {"* 1 FETCH (INTERNALDATE \"17-Jul-1996\")\r\n",
     "INTERNALDATE is not a valid date-time; no time taken", "RFC 9051 9", "\"17"},
    {"* 1 FETCH (INTERNALDATE \"31-Jun-1996 02:44:25 -0700\")\r\n",
     "INTERNALDATE is not a valid date-time; no time taken", "RFC 9051 9", "\"31"},
    /* items */
    {"* 1 FETCH ()\r\n", "FETCH with an empty list; msg-att needs an item", "RFC 9051 9", "()"},
    {"* 1 FETCH (FLAGS NIL)\r\n", "FLAGS NIL; a list is expected", "RFC 9051 9", "NIL"},
    {"* 1 FETCH (UID 0)\r\n", "UID 0; uniqueid is a non-zero number", "RFC 9051 9", "0)"},
    {"* 1 FETCH (UID 4294967296)\r\n", "number larger than 32 bits", "RFC 9051 9", "42"},
    {"* 1 FETCH (RFC822.SIZE 9223372036854775808)\r\n", "number64 larger than 63 bits", "RFC 9051 9", "92"},
    {"* 1 FETCH (MODSEQ 17)\r\n", "MODSEQ value without parentheses", "RFC 7162 7", "17"},
    {"* 1 FETCH (MODSEQ (0))\r\n", "mod-sequence-value outside 1..2^63-1", "RFC 7162 7", "0)"},
    {"* 1 FETCH (EMAILID M1)\r\n", "objectid without parentheses", "RFC 8474", "M1"},
    {"* 1 FETCH (EMAILID (\"M1\"))\r\n", "objectid is not 1-255 letters, digits, \"_\" or \"-\"", "RFC 8474",
     "\"M1\""},
    {"* 1 FETCH (THREADID (T.1))\r\n", "objectid is not 1-255 letters, digits, \"_\" or \"-\"", "RFC 8474",
     "T.1"},
    {"* 1 FETCH (EMAILID NIL)\r\n", "EMAILID NIL; an objectid is expected", "RFC 8474", "NIL"},
    {"* 1 FETCH (PREVIEW (FUZZY \"text\"))\r\n", "PREVIEW value is a list; an nstring is expected", "RFC 8970",
     "(FUZZY"},
    {"* 1 FETCH (PREVIEW ((LAZY)))\r\n", "PREVIEW value is a list; an nstring is expected", "RFC 8970",
     "((LAZY"},
    {"* 1 FETCH (BODY.PEEK[TEXT] \"x\")\r\n", "BODY.PEEK[...] in a FETCH response; BODY[...] expected",
     "RFC 9051 7.5.2", "BODY.PEEK"},
    {"* 1 FETCH (BINARY.PEEK[1] \"x\")\r\n", "BINARY.PEEK[...] in a FETCH response; BINARY[...] expected",
     "RFC 9051 7.5.2", "BINARY.PEEK"},
    {"* 1 FETCH (BODY[0] \"x\")\r\n", "section is not a section-spec", "RFC 9051 9", "BODY"},
    {"* 1 FETCH (BODY[1.FOO] \"x\")\r\n", "section is not a section-spec", "RFC 9051 9", "BODY"},
    {"* 1 FETCH (BODY[1HEADER] \"x\")\r\n", "section is not a section-spec", "RFC 9051 9", "BODY"},
    {"* 1 FETCH (BODY[MIME] \"x\")\r\n", "section is not a section-spec", "RFC 9051 9", "BODY"},
    {"* 1 FETCH (BODY[HEADER.FIELDS] \"x\")\r\n", "section is not a section-spec", "RFC 9051 9", "BODY"},
    {"* 1 FETCH (BINARY[1.TEXT] \"x\")\r\n", "section is not a section-part", "RFC 3516 7", "BINARY"},
    {"* 1 FETCH (BINARY.SIZE[1]<0> 5)\r\n", "BINARY.SIZE[] with an origin <n>", "RFC 3516 7", "BINARY"},
    {"* 1 FETCH (BODY[] ~{1}\r\nx)\r\n", "literal8 outside a BINARY[] response", "RFC 3516 4.3", "~{1}"},
};

static void test_lenient_paths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lenient_cases / sizeof lenient_cases[0]; i++) {
        const lenient_case *c = &lenient_cases[i];
        run x;
        const mr_imap_response *r = run_parse(&x, c->resp, MR_STRICT, 0);
        if (x.t != MR_EV_RESPONSE || !r->typed)
            fail_msg("case %zu: not typed: %s (%s)", i, c->resp, x.ev.error.detail);
        int found = 0;
        for (size_t k = 0; k < r->n_diags; k++)
            if (strcmp(r->diags[k].message, c->diag) == 0 && strcmp(r->diags[k].ref, c->ref) == 0 &&
                r->diags[k].offset == off_of(c->resp, c->mark))
                found = 1;
        if (!found) {
            for (size_t k = 0; k < r->n_diags; k++)
                print_message("  diag@%llu {%s: %s}\n", (unsigned long long)r->diags[k].offset, r->diags[k].ref,
                              r->diags[k].message);
            fail_msg("case %zu: no diagnostic {%s: %s} at %llu for %s", i, c->ref, c->diag,
                     (unsigned long long)off_of(c->resp, c->mark), c->resp);
        }
        run_free(&x);

        /* Lenient: the same typed result, no diagnostics. */
        char full[512];
        snprintf(full, sizeof full, "%s%s", GREETING, c->resp);
        mr_options ol = opts(MR_LENIENT), os = opts(MR_STRICT);
        char *le = dump_stream(full, strlen(full), &ol, 0, 0);
        char *st = dump_stream(full, strlen(full), &os, 0, 0);
        assert_null(strstr(le, "diag@"));
        char *cut = strstr(st, " diag@"); /* strict = lenient + diagnostics at the end */
        assert_non_null(cut);
        assert_memory_equal(st, le, (size_t)(cut - st));
        assert_int_equal(le[cut - st], '\n');
        free(le);
        free(st);
    }
}

static void test_lenient_values(void **state)
{
    (void)state;
    /* What the lenient readings mean. */
    run x;
    const mr_imap_response *r =
        run_parse(&x, "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"A\" \"1\" \"B\") NIL NIL \"7BIT\" -1))\r\n",
                  MR_LENIENT, 0);
    const mr_imap_body *b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_int_equal(b->params.n, 2);
    assert_nstr(b->params.items[1].name, "B");
    assert_null(b->params.items[1].value);
    assert_int_equal(b->size, 0);
    assert_false(b->has_lines);
    assert_int_equal(b->ext_count, 0);
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" () NIL NIL \"7BIT\" \"77\" \"md5\"))\r\n", MR_LENIENT,
                  0);
    b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_false(b->params.nil);
    assert_int_equal(b->params.n, 0);
    assert_int_equal(b->size, 77);
    assert_false(b->has_lines);
    assert_int_equal(b->ext_count, 1); /* what follows the size is extension data */
    assert_nstr(b->md5, "md5");
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (BODYSTRUCTURE (\"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL NIL))\r\n", MR_LENIENT, 0);
    b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_true(b->multipart);
    assert_int_equal(b->n_parts, 0);
    assert_nstr(b->subtype, "MIXED");
    assert_int_equal(b->ext_count, 4);
    assert_nstr(b->ext_params.items[0].value, "b");
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL \"inline\"))\r\n",
                  MR_LENIENT, 0);
    b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_nstr(b->disposition.type, "inline");
    assert_true(b->disposition.params.nil);
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5 \"md5\"))\r\n",
                  MR_LENIENT, 0);
    b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    assert_null(b->envelope);
    assert_int_equal(b->n_parts, 0);
    assert_nstr(b->md5, "md5");
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25\" MODSEQ 9 EMAILID M1 "
                      "PREVIEW (FUZZY \"pv\") FLAGS NIL BODY.PEEK[1] \"x\")\r\n",
                  MR_LENIENT, 0);
    const mr_imap_fetch_item *d = item(r, MR_IMAP_FETCH_INTERNALDATE);
    assert_int_equal(d->time.zone, 0);
    assert_int_equal(d->time.unix_time, 837571465);
    assert_int_equal(item(r, MR_IMAP_FETCH_MODSEQ)->number, 9);
    assert_nstr(item(r, MR_IMAP_FETCH_EMAILID)->data, "M1");
    assert_nstr(item(r, MR_IMAP_FETCH_PREVIEW)->data, "pv");
    assert_int_equal(item(r, MR_IMAP_FETCH_FLAGS)->n_atoms, 0);
    assert_span(item(r, MR_IMAP_FETCH_BODY_SECTION)->section, "1");
    assert_int_equal(r->n_diags, 0);
    run_free(&x);

    r = run_parse(&x, "* 1 FETCH (PREVIEW ((LAZY)))\r\n", MR_LENIENT, 0);
    assert_null(item(r, MR_IMAP_FETCH_PREVIEW)->data);
    run_free(&x);

    /* One diagnostic per offending part. */
    r = run_parse(&x, "* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL)"
                      "(\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 5 1 \"md5\") \"ALTERNATIVE\" NIL))\r\n",
                  MR_STRICT, 0);
    assert_int_equal(count_diag(r, "extension data in a BODY response (BODYSTRUCTURE only)"), 3);
    assert_int_equal(r->n_diags, 3);
    b = item(r, MR_IMAP_FETCH_BODY)->body;
    assert_nstr(b->parts[1].md5, "md5");
    assert_true(b->ext_params.nil);
    run_free(&x);
}

/* ---- BAD paths ----------------------------------------------------------- */

typedef struct bad_case {
    const char *resp;
    const char *detail;
    const char *mark; /* the error offset: first occurrence of mark */
} bad_case;

static const bad_case bad_cases[] = {
    {"* 1 FETCH (UID)\r\n", "a FETCH item name has no value", "UID"},
    {"* 1 FETCH (UID 1 FLAGS)\r\n", "a FETCH item name has no value", "FLAGS"},
    {"* 1 FETCH (\"UID\" 1)\r\n", "a FETCH item name is not an atom", "\"UID\""},
    {"* 1 FETCH (7 1)\r\n", "a FETCH item name is not an atom", "7"},
    {"* 1 FETCH ((UID) 1)\r\n", "a FETCH item name is not an atom", "(UID)"},
    {"* 1 FETCH (FLAGS \\Seen)\r\n", "FLAGS is not a parenthesised list", "\\Seen"},
    {"* 1 FETCH (FLAGS (\"x\"))\r\n", "a FLAGS element is not a flag", "\"x\""},
    {"* 1 FETCH (UID \"5\")\r\n", "UID is not a number", "\"5\""},
    {"* 1 FETCH (RFC822.SIZE NIL)\r\n", "RFC822.SIZE is not a number", "NIL"},
    {"* 1 FETCH (BINARY.SIZE[1] \"4\")\r\n", "BINARY.SIZE is not a number", "\"4\""},
    {"* 1 FETCH (INTERNALDATE NIL)\r\n", "INTERNALDATE is not a date-time", "NIL"},
    {"* 1 FETCH (SAVEDATE \"yesterday\")\r\n", "SAVEDATE is not a date-time or NIL", "\"yes"},
    {"* 1 FETCH (RFC822 (1))\r\n", "message data is not a string or NIL", "(1)"},
    {"* 1 FETCH (BODY[] ATOM)\r\n", "message data is not a string or NIL", "ATOM"},
    {"* 1 FETCH (BINARY[] 5)\r\n", "BINARY[] data is not a string, literal8 or NIL", "5)"},
    {"* 1 FETCH (PREVIEW 5)\r\n", "PREVIEW is not a string or NIL", "5)"},
    {"* 1 FETCH (PREVIEW ())\r\n", "PREVIEW is an empty list", "()"},
    {"* 1 FETCH (MODSEQ (1 2))\r\n", "MODSEQ is not a parenthesised number", "(1 2)"},
    {"* 1 FETCH (MODSEQ (\"1\"))\r\n", "MODSEQ is not a parenthesised number", "(\"1\")"},
    {"* 1 FETCH (EMAILID ())\r\n", "EMAILID or THREADID is not a parenthesised objectid", "()"},
    {"* 1 FETCH (THREADID ((T1)))\r\n", "EMAILID or THREADID is not a parenthesised objectid", "((T1))"},
    {"* 1 FETCH (BODY[HEADER.FIELDS ((From))] NIL)\r\n", "a section holds a nested list", "(From)"},
    /* envelope */
    {"* 1 FETCH (ENVELOPE NIL)\r\n", "ENVELOPE is not a parenthesised list", "NIL"},
    {"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", "ENVELOPE has fewer than 10 fields",
     "(NIL"},
    {"* 1 FETCH (ENVELOPE ((\"d\") NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "an envelope field is not a string or NIL", "(\"d\")"},
    {"* 1 FETCH (ENVELOPE (NIL NIL \"from\" NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "an envelope address list is not a list or NIL", "\"from\""},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "an address is not a list of 4 fields (name adl mailbox host)", "(NIL NIL \"a\")"},
    {"* 1 FETCH (ENVELOPE (NIL NIL (NIL) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "an address is not a list of 4 fields (name adl mailbox host)", "NIL) NIL"},
    {"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL (\"a\") \"h\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
     "an address field is not a string or NIL", "(\"a\")"},
    /* body structure */
    {"* 1 FETCH (BODY NIL)\r\n", "a body structure is not a parenthesised list", "NIL"},
    {"* 1 FETCH (BODYSTRUCTURE \"TEXT\")\r\n", "a body structure is not a parenthesised list", "\"TEXT\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\"))\r\n",
     "a single-part body has fewer than 7 fields (type, subtype, body-fields)", "(\"TEXT"},
    {"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\") \"MIXED\"))\r\n",
     "a single-part body has fewer than 7 fields (type, subtype, body-fields)", "(\"TEXT\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" \"CHARSET\" NIL NIL \"7BIT\" 5 1))\r\n",
     "a body parameter list is not a list or NIL", "\"CHARSET\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" ((\"A\") \"B\") NIL NIL \"7BIT\" 5 1))\r\n",
     "a body parameter is a list, not a string", "(\"A\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL (\"id\") NIL \"7BIT\" 5 1))\r\n",
     "a body field is not a string or NIL", "(\"id\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" (5) 1))\r\n",
     "body-fld-octets is not a number", "(5)"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" \"many\" 1))\r\n",
     "body-fld-octets is not a number", "\"many\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 (\"md5\")))\r\n",
     "body-fld-md5 is not a string or NIL", "(\"md5\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL 5))\r\n",
     "a body disposition is not a list or NIL", "5))"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL ((\"a\") NIL)))\r\n",
     "a body disposition type is not a string", "(\"a\")"},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL (\"a\" \"b\")))\r\n",
     "a body parameter list is not a list or NIL", "\"b\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1 NIL NIL NIL (\"loc\")))\r\n",
     "body extension field is not a string or NIL", "(\"loc\")"},
    {"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1) \"MIXED\" \"b\"))\r\n",
     "a body parameter list is not a list or NIL", "\"b\""},
    {"* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5 (NIL NIL NIL NIL NIL NIL NIL NIL "
     "NIL NIL)))\r\n",
     "a MESSAGE/RFC822 part has an envelope but no body structure", "(\"MESSAGE"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5 (NIL NIL NIL NIL NIL NIL NIL NIL "
     "NIL NIL) 12))\r\n",
     "a MESSAGE/RFC822 part has an envelope but no body structure", "12))"},
    {"* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 5 (NIL)))\r\n",
     "ENVELOPE has fewer than 10 fields", "(NIL)"},
    /* the first bad item wins, later ones are not looked at */
    {"* 1 FETCH (UID x FLAGS y)\r\n", "UID is not a number", "x"},
};

static void test_bad_paths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        for (int mode = 0; mode < 2; mode++) {
            run x;
            const mr_imap_response *r = run_parse(&x, c->resp, mode ? MR_STRICT : MR_LENIENT, 0);
            if (x.t != MR_EV_ERROR)
                fail_msg("case %zu: no error for %s", i, c->resp);
            assert_int_equal(x.ev.error.code, MR_E_BAD_FIELD);
            if (!x.ev.error.detail || strcmp(x.ev.error.detail, c->detail) != 0)
                fail_msg("case %zu: detail \"%s\", want \"%s\"", i, x.ev.error.detail ? x.ev.error.detail : "(null)",
                         c->detail);
            if (x.ev.error.offset != off_of(c->resp, c->mark))
                fail_msg("case %zu: offset %llu, want %llu", i, (unsigned long long)x.ev.error.offset,
                         (unsigned long long)off_of(c->resp, c->mark));
            assert_false(r->typed);
            assert_int_equal(r->n_values, 1); /* the tree is still delivered */
            /* Non-fatal: the next response parses. */
            size_t used;
            const char *next = "* 2 FETCH (UID 5)\r\n";
            assert_int_equal(mr_imap_next(x.p, (const uint8_t *)next, strlen(next), &used, &x.ev), MR_EV_RESPONSE);
            assert_true(x.ev.response->typed);
            run_free(&x);
        }
    }
}

/* ---- depth bound --------------------------------------------------------- */

static void sb_str(mr_sbuf *b, const char *s) { mr_sb_add(b, s, strlen(s)); }

/* A BODYSTRUCTURE of `levels` nested multiparts around one text part. */
static char *nested_multipart(size_t levels)
{
    mr_sbuf b;
    memset(&b, 0, sizeof b);
    sb_str(&b, "* 1 FETCH (BODYSTRUCTURE ");
    for (size_t i = 0; i < levels; i++)
        sb_str(&b, "(");
    sb_str(&b, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)");
    for (size_t i = 0; i < levels; i++)
        sb_str(&b, " \"MIXED\")");
    sb_str(&b, ")\r\n");
    return b.s;
}

static void test_depth_bound(void **state)
{
    (void)state;
    /* Through the parser, the list nesting bound of the value reader comes
     * first (the FETCH list is one level more than the body): 30 levels of
     * multipart parse with the default bound, and fail with max_depth 20. */
    char *in = nested_multipart(30);
    run x;
    const mr_imap_response *r = run_parse(&x, in, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    const mr_imap_body *b = item(r, MR_IMAP_FETCH_BODYSTRUCTURE)->body;
    for (int i = 0; i < 30; i++) {
        assert_true(b->multipart);
        assert_int_equal(b->n_parts, 1);
        b = &b->parts[0];
    }
    assert_false(b->multipart);
    assert_int_equal(b->lines, 1);
    run_free(&x);

    /* The decoder's own bound: decode the same tree with a store whose
     * max_depth is lower than the nesting. */
    r = run_parse(&x, in, MR_LENIENT, 0);
    for (size_t limit = 1; limit <= 33; limit++) {
        mr_options o = opts(MR_LENIENT);
        o.limits.max_depth = limit;
        mr_store st;
        assert_int_equal(mr_store_init(&st, &o), 0);
        mr_imap_dctx c;
        memset(&c, 0, sizeof c);
        c.st = &st;
        mr_imap_fetch f;
        int rc = mr_imap_decode_fetch(&c, &r->values[0], &f);
        /* 31 bodies: 30 multiparts and the text part */
        if (limit < 31) {
            assert_int_equal(rc, MR_IMAP_DEC_BAD);
            assert_string_equal(c.bad_detail, "body structure nested deeper than limits.max_depth");
            /* the offset of the first body one level too deep */
            assert_int_equal(c.bad_offset, strlen(GREETING) + 25 + limit);
        } else {
            assert_int_equal(rc, MR_IMAP_DEC_OK);
        }
        assert_int_equal(c.depth, 0); /* restored on every path */
        mr_store_cleanup(&st);
    }
    run_free(&x);
    free(in);

    in = nested_multipart(40);
    r = run_parse(&x, in, MR_LENIENT, 20);
    assert_int_equal(x.t, MR_EV_ERROR);
    assert_int_equal(x.ev.error.code, MR_E_TOO_DEEP);
    run_free(&x);
    free(in);

    /* message/rfc822 nesting counts too */
    mr_sbuf s;
    memset(&s, 0, sizeof s);
    sb_str(&s, "* 1 FETCH (BODY ");
    for (int i = 0; i < 12; i++)
        sb_str(&s, "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 9 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ");
    sb_str(&s, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)");
    for (int i = 0; i < 12; i++)
        sb_str(&s, " 2)");
    sb_str(&s, ")\r\n");
    r = run_parse(&x, s.s, MR_STRICT, 0);
    assert_int_equal(x.t, MR_EV_RESPONSE);
    assert_int_equal(r->n_diags, 0);
    b = item(r, MR_IMAP_FETCH_BODY)->body;
    for (int i = 0; i < 12; i++) {
        assert_non_null(b->envelope);
        assert_int_equal(b->lines, 2);
        b = &b->parts[0];
    }
    assert_nstr(b->type, "TEXT");
    mr_options o = opts(MR_LENIENT);
    o.limits.max_depth = 5;
    mr_store st;
    assert_int_equal(mr_store_init(&st, &o), 0);
    mr_imap_dctx c;
    memset(&c, 0, sizeof c);
    c.st = &st;
    mr_imap_fetch f;
    assert_int_equal(mr_imap_decode_fetch(&c, &r->values[0], &f), MR_IMAP_DEC_BAD);
    assert_string_equal(c.bad_detail, "body structure nested deeper than limits.max_depth");
    assert_int_equal(c.depth, 0);
    mr_store_cleanup(&st);
    run_free(&x);
    mr_sb_free(&s);
}

/* ---- date-time ----------------------------------------------------------- */

static int parse_time(const char *s, mr_imap_time *t)
{
    mr_span sp = {(const uint8_t *)s, strlen(s)};
    return mr_imap_parse_time(sp, t);
}

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t unix_time;
        int zone;
    } good[] = {
        {"17-Jul-1996 02:44:25 -0700", 837596665, -420},
        {"01-Jan-1970 00:00:00 +0000", 0, 0},
        {"31-Dec-1969 23:59:59 +0000", -1, 0},
        {"29-Feb-2000 12:00:00 +0000", 951825600, 0},  /* divisible by 400: leap */
        {"29-Feb-2024 23:59:59 +2359", 1709164859, 1439},
        {"01-Jan-0001 00:00:00 +0000", -62135596800LL, 0},
        {"31-Dec-9999 23:59:59 +0000", 253402300799LL, 0},
        {"19-Jan-2038 03:14:08 +0000", 2147483648LL, 0}, /* past 32-bit time_t */
        {"01-Mar-1900 00:00:00 -2359", -2203804860LL, -1439},
        {"31-Dec-2016 23:59:60 +0000", 1483228800, 0}, /* leap second: the next second */
        {"28-Feb-2100 00:00:00 +0530", 4107436200LL, 330},
        {" 1-Jan-1970 00:00:00 +0000", 0, 0},           /* date-day-fixed SP DIGIT */
        {"1-Jan-1970 00:00:00 +0000", 0, 0},            /* date-day, 1 digit */
        {"01-jan-1970 00:00:00 +0000", 0, 0},           /* month names are case-insensitive */
        {"01-JAN-1970 01:00:00 +0100", 0, 60},
        {"01-Jan-1970 00:00:00 -0000", 0, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        mr_imap_time t;
        memset(&t, 0x5a, sizeof t);
        if (!parse_time(good[i].s, &t))
            fail_msg("rejected: %s", good[i].s);
        if (t.unix_time != good[i].unix_time || t.zone != good[i].zone)
            fail_msg("%s: unix %lld zone %d", good[i].s, (long long)t.unix_time, t.zone);
    }
    mr_imap_time t;
    assert_true(parse_time("29-Feb-2024 23:59:59 +2359", &t));
    assert_int_equal(t.year, 2024);
    assert_int_equal(t.month, 2);
    assert_int_equal(t.day, 29);
    assert_int_equal(t.hour, 23);
    assert_int_equal(t.minute, 59);
    assert_int_equal(t.second, 59);

    static const char *const bad[] = {
        "",
        "29-Feb-1900 00:00:00 +0000", /* divisible by 100, not 400 */
        "29-Feb-2023 00:00:00 +0000",
        "31-Apr-2023 00:00:00 +0000",
        "32-Jan-2023 00:00:00 +0000",
        "00-Jan-2023 00:00:00 +0000",
        "01-Jan-0000 00:00:00 +0000",
        "01-Foo-2023 00:00:00 +0000",
        "01-Jan-23 00:00:00 +0000",
        "01-Jan-2023 24:00:00 +0000",
        "01-Jan-2023 23:60:00 +0000",
        "01-Jan-2023 23:59:61 +0000",
        "01-Jan-2023 23:59:59 +2400",
        "01-Jan-2023 23:59:59 +0060",
        "01-Jan-2023 23:59:59 0000",
        "01-Jan-2023 23:59:59 +000",
        "01-Jan-2023 23:59:59 +00000",
        "01-Jan-2023 23:59:59",       /* no zone: only the FETCH decoder accepts it (with a diag) */
        "01-Jan-2023 23:59:59 +0000 ",
        " 01-Jan-2023 23:59:59 +0000",
        "  1-Jan-2023 23:59:59 +0000",
        "001-Jan-2023 23:59:59 +0000",
        "01 Jan 2023 23:59:59 +0000",
        "01-Jan-2023T23:59:59 +0000",
        "01-Jan-2023 23:59 +0000",
        "01-Jan-2023  23:59:59 +0000",
        "1-Jan-2023 1:02:03 +0000",
        "01-Jan-2023 23:59:59 +00a0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_time(bad[i], &t))
            fail_msg("accepted: \"%s\"", bad[i]);
    /* A span is not NUL-terminated: parsing stops at its length. */
    mr_span cut = {(const uint8_t *)"17-Jul-1996 02:44:25 -0700 trailing", 26};
    assert_true(mr_imap_parse_time(cut, &t));
    assert_int_equal(t.unix_time, 837596665);
    cut.len = 25;
    assert_false(mr_imap_parse_time(cut, &t));
}

/* ---- allocation failures ------------------------------------------------- */

static void test_failing_allocator(void **state)
{
    (void)state;
    char full[sizeof GREETING + sizeof NESTED];
    snprintf(full, sizeof full, "%s%s", GREETING, NESTED);
    size_t n = strlen(full);
    mr_options o = opts(MR_STRICT);
    char *want = dump_stream(full, n, &o, 0, 0);
    size_t fails = 0;
    for (size_t k = 1;; k++) {
        if (k == 200)
            fail_msg("more than 200 allocations");
        mr_fail_alloc fa;
        mr_fail_alloc_init(&fa, k);
        o.alloc = &fa.a;
        mr_imap_parser *p = mr_imap_new(&o);
        if (!p)
            continue;
        mr_sbuf out;
        memset(&out, 0, sizeof out);
        mr_sb_add(&out, "", 0);
        int fatal = mr_imap_feed(p, full, n, 0, 0, dump_event, &out);
        if (fatal) {
            assert_int_equal(fatal, MR_E_NO_MEMORY);
            fails++;
        } else {
            assert_string_equal(out.s, want);
        }
        mr_imap_free(p);
        mr_sb_free(&out);
        assert_int_equal(fa.in_use, 0);
        if (!fa.failed)
            break; /* every allocation has had its turn */
    }
    assert_true(fails > 0);
    free(want);
}

/* ---- memory limit -------------------------------------------------------- */

static void test_memory_limit(void **state)
{
    (void)state;
    /* Typed fields count against max_memory; over it the stream stops
     * with MEMORY_LIMIT, never a partial typed result. */
    char full[sizeof GREETING + sizeof NESTED];
    snprintf(full, sizeof full, "%s%s", GREETING, NESTED);
    size_t n = strlen(full);
    int saw_ok = 0, saw_limit = 0;
    /* 8-byte steps: every allocation of the decoder is the one that fails once. */
    for (size_t lim = 512; lim < 24 * 1024; lim += 8) {
        mr_options o = opts(MR_LENIENT);
        o.limits.max_memory = lim;
        char *d = dump_stream(full, n, &o, 0, 0);
        if (strstr(d, "ERROR MEMORY_LIMIT"))
            saw_limit = 1;
        else if (strstr(d, "FETCH typed=1"))
            saw_ok = 1;
        else
            fail_msg("limit %zu: %s", lim, d);
        free(d);
    }
    assert_true(saw_ok);
    assert_true(saw_limit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9051_fetch_example),
        cmocka_unit_test(test_rfc3501_fetch_full),
        cmocka_unit_test(test_body_header_literal),
        cmocka_unit_test(test_rfc_bodystructure_examples),
        cmocka_unit_test(test_nested_multipart_with_message),
        cmocka_unit_test(test_address_groups),
        cmocka_unit_test(test_sections_and_extensions),
        cmocka_unit_test(test_lenient_paths),
        cmocka_unit_test(test_lenient_values),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_failing_allocator),
        cmocka_unit_test(test_memory_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
