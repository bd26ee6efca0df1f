/*
 * fuzz_mime.c - the fake IMAP server's MIME views (fake-servers/mr_mime.h)
 * over arbitrary message bytes: what a client APPENDs (IMAP) or sends
 * (SMTP) is parsed by mr_mime.c when it is fetched or searched.
 *
 * Input: 2 header bytes, then the message.
 *   0  bits 0-5: the length of a section spec taken from the end of the
 *      data (0: none); bit 6: the message's view is released and built
 *      again between the calls; bit 7: SEARCH BODY instead of TEXT
 *   1  bits 0-4: the length of a SEARCH needle taken from before the spec
 *      (and a header field name to look up)
 *
 * Calls mr_mime_envelope, mr_mime_bodystructure (BODY and BODYSTRUCTURE),
 * mr_mime_section with fixed specs and the input's, mr_mime_header,
 * mr_mime_contains and mr_mime_date, then mr_mime_release.  Checks:
 *   - the answers read as IMAP: "* 1 FETCH (ENVELOPE e BODY b
 *     BODYSTRUCTURE bs)" goes through the repo's IMAP parser (lenient,
 *     parsers/imap/mr_imap.h) with no error, as one typed FETCH response
 *     of three items;
 *   - sections: BODY[] is the message; BODY[HEADER] then BODY[TEXT] is the
 *     message; for every part of BODYSTRUCTURE that is not multipart,
 *     BODY[part] holds as many bytes as the structure's size says, and
 *     as many LFs as its line count (text and message parts), and
 *     BODY[part.MIME] then BODY[part] is a piece of the message;
 *   - the same answers a second time (cached) and after a release;
 *   - the nesting of the structure stays within the parser's default
 *     depth (mr_mime.c bounds it), and nothing crashes, leaks or
 *     overflows the stack.
 */
/* fuzz/build.sh: full (links the fake servers' modules, GMime, libcrypto) */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "imap/mr_imap.h"
#include "mr_fuzz.h"
#include "mr_mime.h"

static const char *const fixed_specs[] = {
    "", "HEADER", "TEXT", "1", "2", "1.MIME", "1.2", "2.1", "1.1.1", "2.HEADER", "1.TEXT",
    "HEADER.FIELDS (FROM TO Subject)", "HEADER.FIELDS.NOT (Received date)", "3.HEADER.FIELDS (CONTENT-TYPE)",
    "1.1.1.1.1.1.1.1.1.1", "0", "1.", "HEADER.FIELDS ()", "x",
};

typedef struct ctx {
    mr_msgdata *d;
    mr_buf sec;
    size_t checked;
} ctx;

static void section(ctx *c, const char *spec, size_t n, int must_parse)
{
    mr_buf_reset(&c->sec);
    int r = mr_mime_section(c->d, spec, n, &c->sec);
    MR_FUZZ_CHECK(r == 0 || r == -1, "mr_mime_section returned %d", r);
    if (must_parse)
        MR_FUZZ_CHECK(r == 0, "section \"%.*s\" refused", (int)n, spec);
    else if (r == -1)
        MR_FUZZ_CHECK(c->sec.len == 0, "a refused section wrote %zu bytes", c->sec.len);
    mr_fuzz_touch(c->sec.data, c->sec.len);
}

/* b's bytes occur in the message. */
static int is_piece(const mr_msgdata *d, const mr_buf *b)
{
    if (b->len == 0)
        return 1;
    if (b->len > d->len)
        return 0;
    for (size_t i = 0; i + b->len <= d->len; i++)
        if (d->data[i] == b->data[0] && memcmp(d->data + i, b->data, b->len) == 0)
            return 1;
    return 0;
}

static size_t count_lf(const mr_buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

static int nstr_ieq(mr_imap_nstring s, const char *lit)
{
    return s && (s->type == MR_IMAP_V_QUOTED || s->type == MR_IMAP_V_ATOM || s->type == MR_IMAP_V_LITERAL) &&
           mr_span_eq_ci(s->str, lit);
}

/* Every non-multipart part of the structure against BODY[path]. */
static void walk(ctx *c, const mr_imap_body *b, char *path, size_t plen, size_t depth)
{
    MR_FUZZ_CHECK(depth <= 200, "structure deeper than %zu", depth);
    if (plen > 400)
        return;
    if (b->multipart) {
        for (size_t i = 0; i < b->n_parts; i++) {
            int k = snprintf(path + plen, 16, "%s%zu", plen ? "." : "", i + 1);
            walk(c, &b->parts[i], path, plen + (size_t)k, depth + 1);
        }
        path[plen] = 0;
        return;
    }
    const char *spec = plen ? path : "1";
    size_t sl = plen ? plen : 1;
    section(c, spec, sl, 1);
    MR_FUZZ_CHECK(c->sec.len == b->size, "BODY[%s] holds %zu bytes, the structure says %llu", spec,
                  c->sec.len, (unsigned long long)b->size);
    MR_FUZZ_CHECK(is_piece(c->d, &c->sec), "BODY[%s] is not a piece of the message", spec);
    if (b->has_lines)
        MR_FUZZ_CHECK(count_lf(&c->sec) == b->lines, "BODY[%s] has %zu LFs, the structure says %llu lines",
                      spec, count_lf(&c->sec), (unsigned long long)b->lines);
    c->checked++;
    if (plen) {
        char mime[480];
        int k = snprintf(mime, sizeof mime, "%s.MIME", path);
        section(c, mime, (size_t)k, 1);
        MR_FUZZ_CHECK(is_piece(c->d, &c->sec), "BODY[%s] is not a piece of the message", mime);
    }
    if (nstr_ieq(b->type, "MESSAGE") && b->n_parts == 1 && b->parts && plen) {
        const mr_imap_body *in = &b->parts[0];
        if (in->multipart) {
            walk(c, in, path, plen, depth + 1);
        } else {
            int k = snprintf(path + plen, 16, ".1");
            walk(c, in, path, plen + (size_t)k, depth + 1);
        }
        path[plen] = 0;
    }
}

/* The answers as a FETCH response, through the IMAP parser. */
static void parse_fetch(ctx *c, const mr_buf *env, const mr_buf *body, const mr_buf *bs)
{
    mr_buf w = MR_BUF_INIT;
    mr_options o;
    mr_imap_parser *p;
    mr_imap_event ev;
    size_t off = 0, used, responses = 0;
    memset(&o, 0, sizeof o);
    o.mode = MR_LENIENT;
    o.limits.max_line = (size_t)1 << 24;
    o.limits.max_depth = MR_MAX_DEPTH_CAP;
    mr_buf_adds(&w, "* 1 FETCH (ENVELOPE ");
    mr_buf_add(&w, env->data, env->len);
    mr_buf_adds(&w, " BODY ");
    mr_buf_add(&w, body->data, body->len);
    mr_buf_adds(&w, " BODYSTRUCTURE ");
    mr_buf_add(&w, bs->data, bs->len);
    mr_buf_adds(&w, ")\r\n");
    p = mr_imap_new(&o);
    MR_FUZZ_CHECK(p != NULL, "mr_imap_new failed");
    mr_imap_skip_greeting(p);
    for (;;) {
        mr_event_type t = mr_imap_next(p, w.data + off, w.len - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            break;
        if (t == MR_EV_ERROR)
            mr_fuzz_fail(__FILE__, __LINE__, "no error", "%s (%s) at %llu of: %.*s",
                         mr_errcode_name(ev.error.code), ev.error.detail ? ev.error.detail : "",
                         (unsigned long long)ev.error.offset, (int)(w.len < 3000 ? w.len : 3000),
                         (const char *)w.data);
        if (t != MR_EV_RESPONSE)
            continue;
        const mr_imap_response *r = ev.response;
        responses++;
        MR_FUZZ_CHECK(r->type == MR_IMAP_TYPE_FETCH && r->typed && r->u.fetch.n == 3,
                      "not a typed FETCH of 3 items (type %d, typed %d)", (int)r->type, r->typed);
        const mr_imap_fetch_item *it = r->u.fetch.items;
        MR_FUZZ_CHECK(it[0].kind == MR_IMAP_FETCH_ENVELOPE && it[0].envelope, "no ENVELOPE");
        MR_FUZZ_CHECK(it[1].kind == MR_IMAP_FETCH_BODY && it[1].body, "no BODY");
        MR_FUZZ_CHECK(it[2].kind == MR_IMAP_FETCH_BODYSTRUCTURE && it[2].body, "no BODYSTRUCTURE");
        char path[512];
        path[0] = 0;
        walk(c, it[2].body, path, 0, 0);
    }
    MR_FUZZ_CHECK(off == w.len && responses == 1, "%zu responses, %zu of %zu bytes", responses, off, w.len);
    mr_imap_free(p);
    mr_buf_free(&w);
}

static void answers(ctx *c, mr_buf *env, mr_buf *body, mr_buf *bs)
{
    mr_mime_envelope(c->d, env);
    mr_mime_bodystructure(c->d, 0, body);
    mr_mime_bodystructure(c->d, 1, bs);
}

static int same(const mr_buf *a, const mr_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    mr_fuzz_input in = mr_fuzz_split(data, size, 2);
    uint8_t h0 = mr_fuzz_hdr(&in, 0), h1 = mr_fuzz_hdr(&in, 1);
    size_t ks = h0 & 63, kn = h1 & 31, len = in.len;
    const uint8_t *spec, *needle;
    mr_buf env = MR_BUF_INIT, body = MR_BUF_INIT, bs = MR_BUF_INIT;
    mr_buf env2 = MR_BUF_INIT, body2 = MR_BUF_INIT, bs2 = MR_BUF_INIT;
    mr_buf head = MR_BUF_INIT;
    ctx c;

    if (!ready) {
        /* A GLib critical is a misuse of GLib by mr_mime.c: fail on it. */
        g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
        mr_mime_init();
        ready = 1;
    }
    if (ks > len)
        ks = len;
    spec = in.data + len - ks;
    len -= ks;
    if (kn > len)
        kn = len;
    needle = in.data + len - kn;
    len -= kn;

    memset(&c, 0, sizeof c);
    c.d = calloc(1, sizeof *c.d);
    if (!c.d)
        abort();
    c.d->refs = 1;
    c.d->data = mr_fuzz_copy(in.data, len);
    c.d->len = len;

    answers(&c, &env, &body, &bs);
    parse_fetch(&c, &env, &body, &bs);

    /* BODY[] and BODY[HEADER] + BODY[TEXT] are the message. */
    section(&c, "", 0, 1);
    MR_FUZZ_CHECK(c.sec.len == len && (len == 0 || memcmp(c.sec.data, c.d->data, len) == 0),
                  "BODY[] is not the message (%zu of %zu bytes)", c.sec.len, len);
    section(&c, "HEADER", 6, 1);
    mr_buf_add(&head, c.sec.data, c.sec.len);
    section(&c, "TEXT", 4, 1);
    mr_buf_add(&head, c.sec.data, c.sec.len);
    MR_FUZZ_CHECK(head.len == len && (len == 0 || memcmp(head.data, c.d->data, len) == 0),
                  "HEADER + TEXT is not the message (%zu of %zu bytes)", head.len, len);

    for (size_t i = 0; i < sizeof fixed_specs / sizeof fixed_specs[0]; i++) {
        section(&c, fixed_specs[i], strlen(fixed_specs[i]), 0);
        if (c.sec.len && strncmp(fixed_specs[i], "HEADER.FIELDS", 13) != 0 &&
            !strstr(fixed_specs[i], ".HEADER.FIELDS"))
            MR_FUZZ_CHECK(is_piece(c.d, &c.sec), "BODY[%s] is not a piece of the message", fixed_specs[i]);
    }
    if (ks)
        section(&c, (const char *)spec, ks, 0);

    /* Header lookups, SEARCH and the date. */
    {
        static const char *const names[] = {"From", "subject", "DATE", "Message-ID", "X-None"};
        char name[40];
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            const char *v = mr_mime_header(c.d, names[i]);
            if (v)
                mr_fuzz_touch(v, strlen(v));
        }
        if (kn && !memchr(needle, 0, kn)) {
            memcpy(name, needle, kn);
            name[kn] = 0;
            const char *v = mr_mime_header(c.d, name);
            if (v)
                mr_fuzz_touch(v, strlen(v));
            (void)mr_mime_contains(c.d, name, (h0 & 0x80) != 0);
        }
        (void)mr_mime_contains(c.d, "hello", 0);
        (void)mr_mime_date(c.d);
    }

    /* Cached answers are the same; so are answers built again. */
    answers(&c, &env2, &body2, &bs2);
    MR_FUZZ_CHECK(same(&env, &env2) && same(&body, &body2) && same(&bs, &bs2), "the cached answers differ");
    if (h0 & 0x40) {
        mr_mime_release(c.d);
        mr_buf_reset(&env2);
        mr_buf_reset(&body2);
        mr_buf_reset(&bs2);
        answers(&c, &env2, &body2, &bs2);
        MR_FUZZ_CHECK(same(&env, &env2) && same(&body, &body2) && same(&bs, &bs2),
                      "the answers differ after a release");
    }

    mr_mime_release(c.d);
    free(c.d->data);
    free(c.d);
    mr_buf_free(&c.sec);
    mr_buf_free(&env);
    mr_buf_free(&body);
    mr_buf_free(&bs);
    mr_buf_free(&env2);
    mr_buf_free(&body2);
    mr_buf_free(&bs2);
    mr_buf_free(&head);
    return 0;
}
