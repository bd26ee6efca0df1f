/*
 * test_smtp.c - unit tests of the SMTP reply parser (parsers/smtp/mr_smtp.c).
 *
 * Most cases go through check_case(), which feeds the input whole, byte by
 * byte and split in two at every position, in lenient and in strict mode,
 * serialises every event (replies with their lines, texts, typed fields and
 * diagnostics) and requires: the same string for every chunking; the same
 * results in both modes once diagnostics are left out; no diagnostic in
 * lenient mode; NEED_MORE only with every byte consumed; the stream offset
 * after each reply equal to the reply's end; fatal errors sticky.  Each
 * chunk is copied right before a PROT_NONE page and scribbled over once
 * consumed, so a read past its end faults and a pointer kept into it after
 * NEED_MORE shows up as a difference.  The case then asserts on the
 * strict-mode string (or on the parser's fields directly).
 */
/* mr_testutil.h needs MAP_ANONYMOUS, which glibc hides under -D_POSIX_C_SOURCE alone. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mr_testutil.h"
#include "smtp/mr_smtp.h"

#define S(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)

/* ---- serialising results ------------------------------------------------------- */

static void ser_reply(mr_sbuf *b, const mr_smtp_reply *r, int with_diags)
{
    mr_sb_printf(b, "  cmd=%s code=%u mixed=%d range=%llu-%llu lines=%zu\n", mr_smtp_cmd_name(r->cmd),
                 r->code, r->mixed_codes, (unsigned long long)r->offset, (unsigned long long)r->end,
                 r->n_lines);
    if (r->enhanced.present) {
        mr_sb_printf(b, "  enhanced=%u.%u.%u raw=|", r->enhanced.klass, r->enhanced.subject,
                     r->enhanced.detail);
        mr_sb_span(b, r->enhanced.raw);
        mr_sb_printf(b, "|\n");
    }
    for (size_t i = 0; i < r->n_lines; i++) {
        mr_sb_printf(b, "  line@%llu eol=%u |", (unsigned long long)r->lines[i].offset, r->lines[i].eol);
        mr_sb_bytes(b, r->lines[i].ptr, r->lines[i].len);
        mr_sb_printf(b, "| text=|");
        mr_sb_span(b, r->texts[i]);
        mr_sb_printf(b, "|\n");
    }
    if (r->domain.len) {
        mr_sb_printf(b, "  domain=|");
        mr_sb_span(b, r->domain);
        mr_sb_printf(b, "|\n");
    }
    for (size_t i = 0; i < r->n_keywords; i++) {
        const mr_smtp_keyword *k = &r->keywords[i];
        mr_sb_printf(b, "  kw %s name=|", mr_smtp_ext_name(k->kind));
        mr_sb_span(b, k->name);
        mr_sb_printf(b, "| args=|");
        mr_sb_span(b, k->args);
        mr_sb_printf(b, "| params=%zu", k->n_params);
        for (size_t j = 0; j < k->n_params; j++) {
            mr_sb_printf(b, " |");
            mr_sb_span(b, k->params[j]);
            mr_sb_printf(b, "|");
        }
        if (k->has_number)
            mr_sb_printf(b, " number=%llu", (unsigned long long)k->number);
        if (k->legacy)
            mr_sb_printf(b, " legacy");
        mr_sb_printf(b, "\n");
    }
    if (r->code == 334 && r->cmd != MR_SMTP_GREETING) {
        mr_sb_printf(b, "  sasl=%s|", r->sasl.ptr ? "" : "(none)");
        mr_sb_span(b, r->sasl);
        mr_sb_printf(b, "|\n");
    }
    if (with_diags) {
        for (size_t i = 0; i < r->n_diags; i++)
            mr_sb_printf(b, "  diag@%llu [%s] %s\n", (unsigned long long)r->diags[i].offset, r->diags[i].ref,
                         r->diags[i].message);
        if (r->diags_dropped)
            mr_sb_printf(b, "  diags dropped=%zu\n", r->diags_dropped);
    }
}

static void ser_event(mr_sbuf *b, const mr_smtp_event *ev, int with_diags)
{
    mr_sb_printf(b, "%s", mr_event_type_name(ev->type));
    if (ev->type == MR_EV_ERROR)
        mr_sb_printf(b, " %s@%llu (%s)", mr_errcode_name(ev->error.code), (unsigned long long)ev->error.offset,
                     ev->error.detail ? ev->error.detail : "-");
    mr_sb_printf(b, "\n");
    if (ev->reply)
        ser_reply(b, ev->reply, with_diags);
}

/* ---- the chunking / mode harness ------------------------------------------------------ */

typedef struct run_cfg {
    mr_mode mode;
    mr_limits limits;
    const mr_smtp_cmd *cmds;
    size_t n_cmds;
} run_cfg;

/* A fatal error must repeat, consuming nothing, on next() and finish(). */
static void check_sticky(mr_smtp_parser *p, const mr_error *e)
{
    mr_smtp_event ev;
    size_t used = 99;
    assert_int_equal(mr_smtp_next(p, S("250 ok\r\n"), &used, &ev), MR_EV_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(ev.error.code, e->code);
    assert_int_equal(ev.error.offset, e->offset);
    assert_null(ev.reply);
    assert_int_equal(mr_smtp_finish(p, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, e->code);
    assert_int_equal(ev.error.offset, e->offset);
}

/* Feed in[0, len) cut at cuts[0..ncuts) (increasing), appending every event to out. */
static void run_chunks(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts, const run_cfg *cfg,
                       int with_diags, mr_sbuf *out)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = cfg->mode;
    o.limits = cfg->limits;
    mr_smtp_parser *p = mr_smtp_new(&o);
    assert_non_null(p);
    int dead = 0;
    for (size_t i = 0; i < cfg->n_cmds; i++) {
        int rc = mr_smtp_expect(p, cfg->cmds[i]);
        if (rc != 0) {
            mr_sb_printf(out, "expect: %s\n", mr_errcode_name((mr_errcode)rc));
            dead = 1;
        }
    }
    mr_guard g;
    mr_guard_init(&g, len ? len : 1);
    size_t start = 0;
    for (size_t k = 0; k <= ncuts && !dead; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        size_t n = end - start;
        const uint8_t *chunk = mr_guard_copy(&g, in + start, n);
        size_t off = 0;
        for (;;) {
            size_t used = 12345;
            mr_smtp_event ev;
            mr_event_type t = mr_smtp_next(p, chunk + off, n - off, &used, &ev);
            assert_int_equal(t, ev.type);
            assert_true(used <= n - off);
            off += used;
            if (t == MR_EV_NEED_MORE) {
                assert_int_equal(off, n);
                assert_null(ev.reply);
                break;
            }
            ser_event(out, &ev, with_diags);
            if (t == MR_EV_ERROR && mr_errcode_is_fatal(ev.error.code)) {
                assert_null(ev.reply);
                assert_non_null(ev.error.detail);
                check_sticky(p, &ev.error);
                dead = 1;
                break;
            }
            assert_non_null(ev.reply);
            if (t == MR_EV_ERROR)
                assert_non_null(ev.error.detail);
            assert_int_equal(mr_smtp_offset(p), ev.reply->end);
            if (cfg->mode == MR_LENIENT)
                assert_int_equal(ev.reply->n_diags, 0);
        }
        mr_guard_scribble(&g);
        start = end;
    }
    if (!dead) {
        mr_smtp_event ev;
        mr_event_type t = mr_smtp_finish(p, &ev);
        mr_sb_printf(out, "finish: ");
        ser_event(out, &ev, with_diags);
        if (t == MR_EV_ERROR)
            check_sticky(p, &ev.error);
        else
            assert_int_equal(t, MR_EV_NEED_MORE);
    }
    mr_sb_printf(out, "pending=%zu\n", mr_smtp_pending(p));
    mr_guard_free(&g);
    mr_smtp_free(p);
}

static char *run_whole(const uint8_t *in, size_t len, const run_cfg *cfg, int with_diags)
{
    mr_sbuf b = {0};
    run_chunks(in, len, NULL, 0, cfg, with_diags, &b);
    return b.s;
}

static void expect_same(const char *want, const char *got, const char *what, size_t at)
{
    if (strcmp(want, got) != 0) {
        fprintf(stderr, "chunking %s (%zu) differs\n--- whole:\n%s\n--- got:\n%s\n", what, at, want, got);
        fail();
    }
}

/*
 * Run one case every way; returns the strict-mode serialisation (with
 * diagnostics), to be freed by the caller.
 */
static char *check_case_cfg(const uint8_t *in, size_t len, const run_cfg *base)
{
    char *whole[2];
    for (int m = 0; m < 2; m++) {
        run_cfg cfg = *base;
        cfg.mode = m ? MR_STRICT : MR_LENIENT;
        whole[m] = run_whole(in, len, &cfg, 1);
        /* byte by byte */
        size_t *cuts = malloc((len ? len : 1) * sizeof *cuts);
        assert_non_null(cuts);
        for (size_t i = 1; i < len; i++)
            cuts[i - 1] = i;
        mr_sbuf b = {0};
        run_chunks(in, len, cuts, len ? len - 1 : 0, &cfg, 1, &b);
        expect_same(whole[m], b.s, "byte by byte", 1);
        mr_sb_free(&b);
        /* two pieces, at every position (including empty ones) */
        for (size_t i = 0; i <= len; i++) {
            size_t cut = i;
            run_chunks(in, len, &cut, 1, &cfg, 1, &b);
            expect_same(whole[m], b.s, "split at", i);
            mr_sb_free(&b);
        }
        /* three pieces */
        for (size_t i = 1; i + 1 < len; i += 7) {
            size_t c3[2] = {i, i + (len - i) / 2};
            run_chunks(in, len, c3, 2, &cfg, 1, &b);
            expect_same(whole[m], b.s, "three pieces from", i);
            mr_sb_free(&b);
        }
        free(cuts);
    }
    /* Same results in both modes, diagnostics aside. */
    run_cfg cl = *base, cs = *base;
    cl.mode = MR_LENIENT;
    cs.mode = MR_STRICT;
    char *l = run_whole(in, len, &cl, 0), *s = run_whole(in, len, &cs, 0);
    if (strcmp(l, s) != 0) {
        fprintf(stderr, "lenient and strict differ\n--- lenient:\n%s\n--- strict:\n%s\n", l, s);
        fail();
    }
    free(l);
    free(s);
    free(whole[0]);
    return whole[1];
}

static char *check_case(const char *in, const mr_smtp_cmd *cmds, size_t n_cmds)
{
    run_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.cmds = cmds;
    cfg.n_cmds = n_cmds;
    return check_case_cfg((const uint8_t *)in, strlen(in), &cfg);
}

#define CHECK(in, ...)                                                                 \
    check_case((in), (const mr_smtp_cmd[]){MR_SMTP_OTHER, __VA_ARGS__} + 1,          \
               sizeof((const mr_smtp_cmd[]){MR_SMTP_OTHER, __VA_ARGS__}) / sizeof(mr_smtp_cmd) - 1)

static void assert_has(const char *s, const char *needle)
{
    if (!strstr(s, needle)) {
        fprintf(stderr, "expected to find:\n%s\n--- in:\n%s\n", needle, s);
        fail();
    }
}

static void assert_lacks(const char *s, const char *needle)
{
    if (strstr(s, needle)) {
        fprintf(stderr, "did not expect:\n%s\n--- in:\n%s\n", needle, s);
        fail();
    }
}

static size_t count_of(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *q = strstr(s, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

/* ---- direct feeding -------------------------------------------------------------------- */

typedef struct feeder {
    mr_smtp_parser *p;
    const uint8_t *buf;
    size_t len, off;
} feeder;

static mr_event_type feed(feeder *f, mr_smtp_event *ev)
{
    size_t used = 0;
    mr_event_type t = mr_smtp_next(f->p, f->buf + f->off, f->len - f->off, &used, ev);
    f->off += used;
    return t;
}

static mr_smtp_parser *mk(mr_mode mode)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    mr_smtp_parser *p = mr_smtp_new(&o);
    assert_non_null(p);
    return p;
}

static int span_is(mr_span s, const char *lit) { return mr_span_eq(s, lit); }

static int points_into(const void *ptr, const uint8_t *buf, size_t len)
{
    const uint8_t *q = ptr;
    return q >= buf && q <= buf + len;
}

/* ---- single and multi-line replies ------------------------------------------------------ */

static void test_greeting_single_line(void **state)
{
    (void)state;
    static const char in[] = "220 mail.example.com ESMTP Postfix\r\n";
    mr_smtp_parser *p = mk(MR_STRICT);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    const mr_smtp_reply *r = ev.reply;
    assert_int_equal(r->cmd, MR_SMTP_GREETING);
    assert_int_equal(r->code, 220);
    assert_int_equal(r->n_lines, 1);
    assert_true(span_is(r->texts[0], "mail.example.com ESMTP Postfix"));
    assert_true(span_is(r->domain, "mail.example.com"));
    assert_int_equal(r->offset, 0);
    assert_int_equal(r->end, sizeof in - 1);
    assert_int_equal(r->n_diags, 0);
    assert_int_equal(r->mixed_codes, 0);
    assert_false(r->enhanced.present);
    assert_string_equal(mr_smtp_severity(r->code), "positive-completion");
    /* zero copy: the reply lay whole in the buffer */
    assert_true(points_into(r->lines[0].ptr, f.buf, f.len));
    assert_true(points_into(r->texts[0].ptr, f.buf, f.len));
    assert_true(points_into(r->domain.ptr, f.buf, f.len));
    assert_int_equal(f.off, f.len);
    assert_int_equal(feed(&f, &ev), MR_EV_NEED_MORE);
    assert_int_equal(mr_smtp_finish(p, &ev), MR_EV_NEED_MORE);
    mr_smtp_free(p);
    free(CHECK(in));
}

static void test_multiline_reply(void **state)
{
    (void)state;
    static const char in[] = "220 mx ready\r\n"
                             "214-Commands supported:\r\n"
                             "214-  HELO EHLO MAIL RCPT DATA\r\n"
                             "214 End of HELP info\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_HELP), 0);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_GREETING);
    assert_int_equal(mr_smtp_pending(p), 1); /* the greeting answers no command */
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    const mr_smtp_reply *r = ev.reply;
    assert_int_equal(r->cmd, MR_SMTP_HELP);
    assert_int_equal(r->code, 214);
    assert_int_equal(r->n_lines, 3);
    assert_true(span_is(r->texts[0], "Commands supported:"));
    assert_true(span_is(r->texts[1], "  HELO EHLO MAIL RCPT DATA"));
    assert_true(span_is(r->texts[2], "End of HELP info"));
    assert_int_equal(r->lines[1].offset, 14 + 25);
    assert_int_equal(r->offset, 14);
    assert_int_equal(r->end, sizeof in - 1);
    for (size_t i = 0; i < r->n_lines; i++)
        assert_true(points_into(r->texts[i].ptr, f.buf, f.len));
    assert_int_equal(mr_smtp_pending(p), 0);
    mr_smtp_free(p);
    char *s = CHECK(in, MR_SMTP_HELP);
    assert_has(s, "cmd=help code=214 mixed=0 range=14-");
    free(s);
}

static void test_zero_copy_and_pinning(void **state)
{
    (void)state;
    /* The first feed ends inside the reply: its lines must be copied
     * before NEED_MORE, the buffer can then be reused. */
    char buf1[] = "220 a\r\n250-first line\r\n250-sec";
    char buf2[] = "ond line\r\n250 last\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    mr_smtp_event ev;
    size_t used;
    assert_int_equal(mr_smtp_next(p, (const uint8_t *)buf1, strlen(buf1), &used, &ev), MR_EV_RESPONSE);
    assert_int_equal(used, 7);
    size_t rest = strlen(buf1) - used;
    assert_int_equal(mr_smtp_next(p, (const uint8_t *)buf1 + 7, rest, &used, &ev), MR_EV_NEED_MORE);
    assert_int_equal(used, rest);
    memset(buf1, 'Z', sizeof buf1 - 1); /* the caller reuses its buffer */
    assert_int_equal(mr_smtp_next(p, (const uint8_t *)buf2, strlen(buf2), &used, &ev), MR_EV_RESPONSE);
    const mr_smtp_reply *r = ev.reply;
    assert_int_equal(r->n_lines, 3);
    assert_true(span_is(r->texts[0], "first line"));
    assert_true(span_is(r->texts[1], "second line"));
    assert_true(span_is(r->texts[2], "last"));
    assert_false(points_into(r->texts[0].ptr, (const uint8_t *)buf1, sizeof buf1));
    assert_false(points_into(r->texts[1].ptr, (const uint8_t *)buf1, sizeof buf1));
    /* the last line lay whole in buf2: still zero copy */
    assert_true(points_into(r->texts[2].ptr, (const uint8_t *)buf2, sizeof buf2));
    mr_smtp_free(p);
}

static void test_pipelined_replies(void **state)
{
    (void)state;
    static const char in[] = "220 mx.example.com ESMTP\r\n"
                             "250-mx.example.com\r\n"
                             "250-PIPELINING\r\n"
                             "250 8BITMIME\r\n"
                             "250 2.1.0 Ok\r\n"
                             "250 2.1.5 Ok\r\n"
                             "354 End data with <CR><LF>.<CR><LF>\r\n"
                             "250 2.0.0 Ok: queued as 4FKJ3\r\n"
                             "221 2.0.0 Bye\r\n";
    static const char *const cmd_lines[] = {"EHLO client.example\r\n", "MAIL FROM:<a@example.org>\r\n",
                                            "RCPT TO:<b@example.com>\r\n", "DATA\r\n", ".\r\n", "quit\r\n"};
    static const mr_smtp_cmd want[] = {MR_SMTP_GREETING, MR_SMTP_EHLO, MR_SMTP_MAIL, MR_SMTP_RCPT,
                                       MR_SMTP_DATA, MR_SMTP_DATA_END, MR_SMTP_QUIT};
    static const unsigned codes[] = {220, 250, 250, 250, 354, 250, 221};
    mr_smtp_parser *p = mk(MR_STRICT);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(mr_smtp_expect_line(p, (const uint8_t *)cmd_lines[i], strlen(cmd_lines[i])), 0);
    assert_int_equal(mr_smtp_pending(p), 6);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
        assert_int_equal(ev.reply->cmd, want[i]);
        assert_int_equal(ev.reply->code, codes[i]);
        assert_int_equal(ev.reply->n_diags, 0);
        assert_int_equal(mr_smtp_pending(p), i == 0 ? 6 : 6 - i);
        assert_int_equal(mr_smtp_offset(p), ev.reply->end);
        assert_true(points_into(ev.reply->lines[0].ptr, f.buf, f.len));
    }
    assert_int_equal(feed(&f, &ev), MR_EV_NEED_MORE);
    mr_smtp_free(p);
    char *s = CHECK(in, MR_SMTP_EHLO, MR_SMTP_MAIL, MR_SMTP_RCPT, MR_SMTP_DATA, MR_SMTP_DATA_END, MR_SMTP_QUIT);
    assert_has(s, "cmd=data code=354");
    assert_has(s, "cmd=data-end code=250");
    assert_has(s, "enhanced=2.0.0 raw=|2.0.0|");
    assert_has(s, "pending=0\n");
    assert_lacks(s, "diag@");
    free(s);
}

static void test_bare_codes_and_lenient_forms(void **state)
{
    (void)state;
    /* RFC 5321 4.2: clients must accept a code alone, with or without SP;
     * bare LF, trailing spaces and HTAB in text are taken too. */
    char *s = CHECK("220 x\r\n250\r\n250 \r\n250 text with\ttab  \n250-a\n250 b\r\n", MR_SMTP_NOOP,
                    MR_SMTP_NOOP, MR_SMTP_NOOP, MR_SMTP_NOOP);
    assert_has(s, "  line@7 eol=2 |250| text=||\n");
    assert_has(s, "  line@12 eol=2 |250 | text=||\n");
    assert_has(s, "text=|text with\\x09tab  |\n");
    assert_has(s, "  line@38 eol=1 |250-a| text=|a|\n");
    assert_has(s, "pending=0\n");
    assert_lacks(s, "error");
    free(s);
}

/* ---- framing errors ------------------------------------------------------------------- */

static void test_bad_code_alone(void **state)
{
    (void)state;
    static const char in[] = "garbage\r\n220 mx ok\r\n25x oops\r\n250 fine\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_NOOP), 0);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    /* A line without a code: its own non-fatal error, answers nothing. */
    assert_int_equal(feed(&f, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_BAD_REPLY_CODE);
    assert_int_equal(ev.error.offset, 0);
    assert_non_null(ev.error.detail);
    assert_non_null(ev.reply);
    assert_int_equal(ev.reply->code, 0);
    assert_int_equal(ev.reply->cmd, MR_SMTP_OTHER);
    assert_true(span_is(ev.reply->texts[0], "garbage"));
    assert_int_equal(mr_smtp_pending(p), 1);
    /* so the next reply is still the greeting */
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_GREETING);
    assert_int_equal(feed(&f, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_BAD_REPLY_CODE);
    assert_int_equal(ev.error.offset, 20 + 2); /* the 'x' */
    assert_int_equal(mr_smtp_pending(p), 1);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_NOOP);
    assert_int_equal(mr_smtp_pending(p), 0);
    mr_smtp_free(p);
    char *s = CHECK(in, MR_SMTP_NOOP);
    assert_has(s, "error BAD_REPLY_CODE@0 ");
    assert_has(s, "error BAD_REPLY_CODE@22 ");
    free(s);
    /* an empty line and a two-digit line */
    s = CHECK("220 a\r\n\r\n25\r\n");
    assert_has(s, "error BAD_REPLY_CODE@7 ");
    assert_has(s, "error BAD_REPLY_CODE@11 ");
    free(s);
}

static void test_bad_code_mid_reply(void **state)
{
    (void)state;
    /* A line without a code inside a multi-line reply stays in it; the
     * reply ends at its real final line, so later replies keep matching
     * their commands. */
    static const char in[] = "220 a\r\n"
                             "550-5.7.1 first\r\n"
                             "wrapped text\r\n"
                             "550-5.7.1 more\r\n"
                             "550 5.7.1 last\r\n"
                             "250 2.0.0 reset\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_RCPT), 0);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_RSET), 0);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(feed(&f, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_BAD_REPLY_CODE);
    assert_int_equal(ev.error.offset, 7 + 17);
    const mr_smtp_reply *r = ev.reply;
    assert_int_equal(r->cmd, MR_SMTP_RCPT);
    assert_int_equal(r->code, 550);
    assert_int_equal(r->n_lines, 4);
    assert_true(span_is(r->texts[1], "wrapped text"));
    assert_true(span_is(r->texts[3], "5.7.1 last"));
    assert_true(r->enhanced.present);
    assert_int_equal(r->enhanced.klass, 5);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_RSET);
    assert_int_equal(mr_smtp_pending(p), 0);
    mr_smtp_free(p);
    char *s = CHECK(in, MR_SMTP_RCPT, MR_SMTP_RSET);
    assert_has(s, "error BAD_REPLY_CODE@24 ");
    assert_has(s, "cmd=rset code=250");
    free(s);
}

static void test_bad_separator(void **state)
{
    (void)state;
    /* "NNN" then neither SP, '-' nor the end: the line ends the reply. */
    char *s = CHECK("220 a\r\n250\tOK\r\n250-b\r\n250_c\r\n251 d\r\n", MR_SMTP_NOOP, MR_SMTP_NOOP,
                    MR_SMTP_NOOP);
    assert_has(s, "error BAD_SEPARATOR@10 (");
    assert_has(s, "  cmd=noop code=250 mixed=0 range=7-15 lines=1\n"
                  "  line@7 eol=2 |250\\x09OK| text=|\\x09OK|\n");
    assert_has(s, "error BAD_SEPARATOR@25 (");
    assert_has(s, "  cmd=noop code=250 mixed=0 range=15-29 lines=2\n");
    assert_has(s, "response\n  cmd=noop code=251 mixed=0 range=29-36 lines=1\n");
    assert_has(s, "pending=0\n");
    free(s);
}

static void test_mixed_codes(void **state)
{
    (void)state;
    char *s = CHECK("220 a\r\n250-one\r\n251-two\r\n252 three\r\n", MR_SMTP_VRFY);
    assert_has(s, "response\n  cmd=vrfy code=252 mixed=1 range=7-");
    assert_has(s, "  diag@16 [RFC 5321 4.2.1] codes differ between lines of a multi-line reply\n");
    assert_has(s, "  diag@25 [RFC 5321 4.2.1] codes differ between lines of a multi-line reply\n");
    free(s);
}

static void test_eof(void **state)
{
    (void)state;
    /* open multi-line reply */
    char *s = CHECK("220 a\r\n250-one\r\n250-two\r\n");
    assert_has(s, "finish: error UNEXPECTED_EOF@25 (missing final line");
    free(s);
    /* partial line, between replies and inside one */
    s = CHECK("220 a\r\n250 no line end");
    assert_has(s, "finish: error UNEXPECTED_EOF@22 (the stream ended inside a line");
    free(s);
    s = CHECK("220 a\r\n250-one\r\n250 tw");
    assert_has(s, "finish: error UNEXPECTED_EOF@22 (the stream ended inside a line");
    free(s);
    /* a lone CR is not a line end */
    s = CHECK("220 a\r");
    assert_has(s, "finish: error UNEXPECTED_EOF@6 ");
    free(s);
    /* a clean end */
    s = CHECK("220 a\r\n");
    assert_has(s, "finish: need-more\n");
    free(s);
    s = CHECK("");
    assert_string_equal(s, "finish: need-more\npending=0\n");
    free(s);
}

/* ---- limits ------------------------------------------------------------------------------ */

static void test_line_too_long(void **state)
{
    (void)state;
    run_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_line = 10;
    static const char in[] = "220 012345\r\n250 0123456789X\r\n";
    char *s = check_case_cfg((const uint8_t *)in, sizeof in - 1, &cfg);
    assert_has(s, "response\n  cmd=greeting code=220");
    assert_has(s, "error LINE_TOO_LONG@22 (");
    assert_lacks(s, "finish:");
    free(s);
    /* a peer that never sends LF */
    static const char in2[] = "220 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    s = check_case_cfg((const uint8_t *)in2, sizeof in2 - 1, &cfg);
    assert_string_equal(s, "error LINE_TOO_LONG@10 (no line end within limits.max_line bytes)\npending=0\n");
    free(s);
}

static void test_too_many_lines(void **state)
{
    (void)state;
    run_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_lines = 3;
    static const char in[] = "220 a\r\n250-a\r\n250-b\r\n250 c\r\n250-a\r\n250-b\r\n250-c\r\n250 d\r\n";
    char *s = check_case_cfg((const uint8_t *)in, sizeof in - 1, &cfg);
    assert_has(s, "range=7-28 lines=3\n");
    assert_has(s, "error TOO_MANY_LINES@49 (a reply has more lines than limits.max_lines)\n");
    free(s);
}

static void test_memory_limit(void **state)
{
    (void)state;
    /* max_memory bounds the logical size of a reply, so the error comes
     * at the same byte fed whole and fed byte by byte. */
    char *first = NULL;
    mr_sbuf in = {0};
    mr_sb_printf(&in, "220 a\r\n");
    for (int i = 0; i < 200; i++)
        mr_sb_printf(&in, "250-line %03d of a long reply, padded to make it heavier\r\n", i);
    mr_sb_printf(&in, "250 end\r\n");
    run_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_memory = 4096;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        mr_sbuf out = {0};
        size_t *cuts = malloc(in.len * sizeof *cuts);
        for (size_t i = 1; i < in.len; i++)
            cuts[i - 1] = i;
        run_chunks((const uint8_t *)in.s, in.len, cuts, bytewise ? in.len - 1 : 0, &cfg, 1, &out);
        assert_has(out.s, "error MEMORY_LIMIT@");
        assert_has(out.s, "(a reply needs more memory than limits.max_memory)");
        assert_lacks(out.s, "finish:");
        if (!first)
            first = strdup(out.s);
        else
            assert_string_equal(out.s, first);
        free(cuts);
        mr_sb_free(&out);
    }
    free(first);
    /* the same reply fits in the default limit */
    char *s = run_whole((const uint8_t *)in.s, in.len, &(run_cfg){0}, 1);
    assert_has(s, "lines=201\n");
    free(s);
    mr_sb_free(&in);
}

static void test_too_many_pending(void **state)
{
    (void)state;
    mr_options o;
    memset(&o, 0, sizeof o);
    o.limits.max_pending = 2;
    mr_smtp_parser *p = mr_smtp_new(&o);
    assert_non_null(p);
    mr_smtp_event ev;
    size_t used;
    assert_int_equal(mr_smtp_next(p, S("220 a\r\n"), &used, &ev), MR_EV_RESPONSE);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_MAIL), 0);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_RCPT), 0);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_RCPT), MR_E_TOO_MANY_PENDING);
    assert_int_equal(mr_smtp_pending(p), 2);
    /* fatal and sticky, at the stream offset where it happened */
    assert_int_equal(mr_smtp_next(p, S("250 ok\r\n"), &used, &ev), MR_EV_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(ev.error.code, MR_E_TOO_MANY_PENDING);
    assert_int_equal(ev.error.offset, 7);
    assert_non_null(ev.error.detail);
    assert_int_equal(mr_smtp_expect(p, MR_SMTP_RSET), MR_E_TOO_MANY_PENDING);
    assert_int_equal(mr_smtp_finish(p, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_TOO_MANY_PENDING);
    /* reset starts a new stream */
    mr_smtp_reset(p);
    assert_int_equal(mr_smtp_pending(p), 0);
    assert_int_equal(mr_smtp_offset(p), 0);
    assert_int_equal(mr_smtp_next(p, S("220 b\r\n"), &used, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_GREETING);
    assert_int_equal(mr_smtp_expect(p, (mr_smtp_cmd)999), MR_E_USAGE);
    mr_smtp_free(p);
    mr_smtp_free(NULL);
}

/* ---- allocation failures ---------------------------------------------------------------- */

static const char fail_input[] = "220 mx.example.com ESMTP\r\n"
                                 "250-mx.example.com\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n"
                                 "250-X-FOO a b c\r\n250 PIPELINING\r\n"
                                 "334 VXNlcm5hbWU6\r\n"
                                 "235 2.7.0 ok\r\n"
                                 "250-2.1.0 a\r\n251 2.1.0 b\n";

/* One run with allocator a; chunks of 5 bytes force buffering and pinning. */
static void fail_run(const mr_allocator *a, mr_sbuf *out)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = MR_STRICT;
    o.alloc = a;
    mr_smtp_parser *p = mr_smtp_new(&o);
    if (!p) {
        mr_sb_printf(out, "new failed\n");
        return;
    }
    static const mr_smtp_cmd cmds[] = {MR_SMTP_EHLO, MR_SMTP_AUTH, MR_SMTP_MAIL};
    for (size_t i = 0; i < 3; i++) {
        int rc = mr_smtp_expect(p, cmds[i]);
        if (rc != 0)
            assert_int_equal(rc, MR_E_NO_MEMORY);
    }
    const uint8_t *in = (const uint8_t *)fail_input;
    size_t len = sizeof fail_input - 1;
    for (size_t start = 0; start < len; start += 5) {
        size_t n = len - start < 5 ? len - start : 5, off = 0;
        uint8_t chunk[5];
        memcpy(chunk, in + start, n);
        for (;;) {
            size_t used;
            mr_smtp_event ev;
            mr_event_type t = mr_smtp_next(p, chunk + off, n - off, &used, &ev);
            off += used;
            if (t == MR_EV_NEED_MORE)
                break;
            ser_event(out, &ev, 1);
            if (t == MR_EV_ERROR && mr_errcode_is_fatal(ev.error.code)) {
                assert_int_equal(ev.error.code, MR_E_NO_MEMORY);
                check_sticky(p, &ev.error);
                mr_smtp_free(p);
                return;
            }
        }
        memset(chunk, 'Z', sizeof chunk);
    }
    mr_smtp_event ev;
    mr_smtp_finish(p, &ev);
    ser_event(out, &ev, 1);
    mr_smtp_free(p);
}

static void test_no_memory_every_allocation(void **state)
{
    (void)state;
    mr_sbuf want = {0};
    fail_run(NULL, &want);
    assert_has(want.s, "kw auth name=|AUTH|");
    assert_has(want.s, "sasl=|Username:|");
    size_t n;
    int failures = 0;
    for (n = 1; n < 10000; n++) {
        mr_fail_alloc f;
        mr_fail_alloc_init(&f, n);
        mr_sbuf got = {0};
        fail_run(&f.a, &got);
        assert_int_equal(f.in_use, 0); /* no leak, whatever failed */
        if (f.failed == 0) {
            /* every allocation succeeded: same results as malloc */
            assert_string_equal(got.s, want.s);
            mr_sb_free(&got);
            break;
        }
        if (strstr(got.s, "NO_MEMORY") || strstr(got.s, "new failed"))
            failures++;
        mr_sb_free(&got);
    }
    assert_true(n < 10000);
    assert_true(n > 5);
    assert_true(failures > 0);
    mr_sb_free(&want);
}

/* ---- enhanced status codes --------------------------------------------------------------- */

static void test_enhanced_codes(void **state)
{
    (void)state;
    char *s = CHECK("220 a\r\n"
                    "250 2.1.0 Sender ok\r\n"
                    "550-5.1.1 no such\r\n550 5.1.1 user\r\n"
                    "451 4.3.0\r\n"
                    "250 2.100.999 big\r\n"
                    "250 2.0 not one\r\n"
                    "250 3.0.0 bad class\r\n"
                    "250 2.0.0x no\r\n"
                    "250 2.1000.0 too long\r\n",
                    MR_SMTP_MAIL, MR_SMTP_RCPT, MR_SMTP_DATA, MR_SMTP_NOOP, MR_SMTP_NOOP, MR_SMTP_NOOP,
                    MR_SMTP_NOOP, MR_SMTP_NOOP);
    assert_has(s, "enhanced=2.1.0 raw=|2.1.0|\n");
    assert_has(s, "enhanced=5.1.1 raw=|5.1.1|\n");
    assert_has(s, "enhanced=4.3.0 raw=|4.3.0|\n");
    assert_has(s, "enhanced=2.100.999 raw=|2.100.999|\n");
    assert_int_equal(count_of(s, "enhanced="), 4);
    assert_lacks(s, "diag@");
    free(s);

    /* strict: class mismatch, leading zero, different codes per line */
    s = CHECK("220 a\r\n"
              "250 5.0.0 wrong class\r\n"
              "250 2.01.0 zero\r\n"
              "550-5.1.1 a\r\n550-5.1.2 b\r\n550 c\r\n",
              MR_SMTP_NOOP, MR_SMTP_NOOP, MR_SMTP_RCPT);
    assert_has(s, "enhanced=5.0.0 raw=|5.0.0|\n  line@7 eol=2 |250 5.0.0 wrong class| text=|5.0.0 wrong class|\n"
                  "  diag@11 [RFC 2034 4] enhanced status code class differs from the reply code's first digit\n");
    assert_has(s, "enhanced=2.1.0 raw=|2.01.0|\n");
    assert_has(s, "  diag@34 [RFC 3463 2] enhanced status code sub-code has a leading zero\n");
    assert_has(s, "  diag@64 [RFC 2034 4] lines of one reply carry different enhanced status codes\n");
    assert_has(s, "  diag@77 [RFC 2034 4] lines of one reply carry different enhanced status codes\n");
    free(s);
}

/* ---- EHLO ------------------------------------------------------------------------------------ */

static const char ehlo_all[] = "220 mail.example.com ESMTP\r\n"
                               "250-mail.example.com Hello client.example [192.0.2.1]\r\n"
                               "250-SIZE 35882577\r\n"
                               "250-8BITMIME\r\n"
                               "250-PIPELINING\r\n"
                               "250-CHUNKING\r\n"
                               "250-BINARYMIME\r\n"
                               "250-SMTPUTF8\r\n"
                               "250-DSN\r\n"
                               "250-STARTTLS\r\n"
                               "250-ENHANCEDSTATUSCODES\r\n"
                               "250-DELIVERBY 240\r\n"
                               "250-REQUIRETLS\r\n"
                               "250-VRFY\r\n"
                               "250-ETRN\r\n"
                               "250-EXPN\r\n"
                               "250-HELP\r\n"
                               "250-AUTH PLAIN LOGIN XOAUTH2\r\n"
                               "250-AUTH=PLAIN LOGIN\r\n"
                               "250-X-EXPS GSSAPI NTLM\r\n"
                               "250-starttls\r\n"
                               "250-Size 0\r\n"
                               "250-DELIVERBY\r\n"
                               "250 size\r\n";

static void test_ehlo_every_keyword(void **state)
{
    (void)state;
    mr_smtp_parser *p = mk(MR_STRICT);
    assert_int_equal(mr_smtp_expect_line(p, S("EHLO client.example\r\n")), 0);
    feeder f = {p, (const uint8_t *)ehlo_all, sizeof ehlo_all - 1, 0};
    mr_smtp_event ev;
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    const mr_smtp_reply *r = ev.reply;
    assert_int_equal(r->cmd, MR_SMTP_EHLO);
    assert_true(span_is(r->domain, "mail.example.com"));
    static const mr_smtp_ext kinds[] = {
        MR_SMTP_EXT_SIZE,     MR_SMTP_EXT_8BITMIME,   MR_SMTP_EXT_PIPELINING,          MR_SMTP_EXT_CHUNKING,
        MR_SMTP_EXT_BINARYMIME, MR_SMTP_EXT_SMTPUTF8, MR_SMTP_EXT_DSN,                 MR_SMTP_EXT_STARTTLS,
        MR_SMTP_EXT_ENHANCEDSTATUSCODES, MR_SMTP_EXT_DELIVERBY, MR_SMTP_EXT_REQUIRETLS, MR_SMTP_EXT_VRFY,
        MR_SMTP_EXT_ETRN,     MR_SMTP_EXT_EXPN,       MR_SMTP_EXT_HELP,                MR_SMTP_EXT_AUTH,
        MR_SMTP_EXT_AUTH,     MR_SMTP_EXT_OTHER,      MR_SMTP_EXT_STARTTLS,            MR_SMTP_EXT_SIZE,
        MR_SMTP_EXT_DELIVERBY, MR_SMTP_EXT_SIZE};
    assert_int_equal(r->n_keywords, sizeof kinds / sizeof kinds[0]);
    for (size_t i = 0; i < r->n_keywords; i++)
        assert_int_equal(r->keywords[i].kind, kinds[i]);
    const mr_smtp_keyword *k = r->keywords;
    assert_true(k[0].has_number);
    assert_int_equal(k[0].number, 35882577);
    assert_true(k[9].has_number);
    assert_int_equal(k[9].number, 240);
    assert_int_equal(k[15].n_params, 3);
    assert_true(span_is(k[15].params[0], "PLAIN"));
    assert_true(span_is(k[15].params[2], "XOAUTH2"));
    assert_false(k[15].legacy);
    assert_true(k[16].legacy);
    assert_int_equal(k[16].n_params, 2);
    assert_true(span_is(k[16].args, "PLAIN LOGIN"));
    assert_true(span_is(k[17].name, "X-EXPS"));
    assert_true(span_is(k[17].args, "GSSAPI NTLM"));
    assert_int_equal(k[17].n_params, 2);
    assert_true(span_is(k[18].name, "starttls")); /* keywords are case-insensitive */
    assert_true(k[19].has_number);                /* SIZE 0: no fixed maximum (RFC 1870 3) */
    assert_int_equal(k[19].number, 0);
    assert_false(k[20].has_number);
    assert_false(k[21].has_number);
    /* strict: only the legacy AUTH= form deviates */
    assert_int_equal(r->n_diags, 1);
    assert_string_equal(r->diags[0].ref, "RFC 5321 4.1.1.1");
    mr_smtp_free(p);

    char *s = CHECK(ehlo_all, MR_SMTP_EHLO);
    assert_has(s, "  kw auth name=|AUTH| args=|PLAIN LOGIN| params=2 |PLAIN| |LOGIN| legacy\n");
    assert_has(s, "  kw size name=|SIZE| args=|35882577| params=1 |35882577| number=35882577\n");
    assert_has(s, "  kw other name=|X-EXPS| args=|GSSAPI NTLM| params=2 |GSSAPI| |NTLM|\n");
    assert_has(s, "[RFC 5321 4.1.1.1] '=' instead of SP after the EHLO keyword (pre-RFC 4954 form)\n");
    free(s);
    /* LHLO is answered like EHLO (RFC 2033) */
    s = CHECK("220 lmtp\r\n250-lmtp.example\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n", MR_SMTP_LHLO);
    assert_has(s, "cmd=lhlo code=250");
    assert_has(s, "  kw enhancedstatuscodes name=|ENHANCEDSTATUSCODES|");
    free(s);
}

static void test_ehlo_bad_fields_and_diags(void **state)
{
    (void)state;
    char *s = CHECK("220 a\r\n250-mx\r\n250-SIZE abc\r\n250 PIPELINING\r\n", MR_SMTP_EHLO);
    assert_has(s, "error BAD_FIELD@24 (EHLO keyword parameter is not a decimal number");
    assert_has(s, "  kw size name=|SIZE| args=|abc| params=1 |abc|\n");
    assert_has(s, "  kw pipelining");
    free(s);
    s = CHECK("220 a\r\n250-mx\r\n250-SIZE 12x\r\n250 SIZE 99999999999999999999\r\n", MR_SMTP_EHLO);
    assert_has(s, "error BAD_FIELD@26 (");
    assert_has(s, "  kw size name=|SIZE| args=|99999999999999999999| params=1 |99999999999999999999|\n");
    free(s);
    s = CHECK("220 a\r\n250-mx\r\n250-_FOO\r\n250-FO_O bar\r\n250 OK\r\n", MR_SMTP_EHLO);
    assert_has(s, "error BAD_FIELD@19 (EHLO reply line does not start with an ehlo-keyword");
    assert_has(s, "  kw other name=|_FOO| args=|| params=0\n");
    assert_has(s, "  kw other name=|FO_O| args=|bar| params=1 |bar|\n");
    free(s);
    /* an EHLO error reply is not decoded */
    s = CHECK("220 a\r\n502 5.5.1 EHLO not implemented\r\n", MR_SMTP_EHLO);
    assert_has(s, "cmd=ehlo code=502");
    assert_lacks(s, "domain=|5.5.1|");
    assert_lacks(s, "  kw ");
    free(s);

    /* strict diagnostics of EHLO lines */
    s = CHECK("220 a\r\n"
              "250-mx.example.com\r\n"      /* 7 */
              "250-PIPELINING now\r\n"      /* 27 */
              "250-SIZE 10 20\r\n"          /* 47 */
              "250-AUTH\r\n"                /* 63 */
              "250-AUTH plain LOGIN\r\n"    /* 73 */
              "250-DSN  \r\n"               /* 95 */
              "250-X-A b  c\r\n"            /* 106 */
              "250-X-B b\x01 c\r\n"         /* 120 */
              "250-STARTTLS\tx\r\n"         /* 134 */
              "250 SMTPUTF8\r\n",
              MR_SMTP_EHLO);
    assert_has(s, "  diag@42 [RFC 2920 2] parameter after an EHLO keyword that takes none\n");
    assert_has(s, "  diag@59 [RFC 1870 3] more than one parameter after an EHLO keyword that takes one number\n");
    assert_has(s, "  diag@71 [RFC 4954 3] AUTH lists no SASL mechanism\n");
    assert_has(s, "  diag@82 [RFC 4422 3.1] SASL mechanism name is not 1-20 of A-Z 0-9 - _\n");
    assert_has(s, "  diag@102 [RFC 5321 4.1.1.1] EHLO reply line ends in white space\n");
    assert_has(s, "  diag@115 [RFC 5321 4.1.1.1] EHLO parameters not separated by a single SP\n");
    assert_has(s, "  diag@129 [RFC 5321 4.1.1.1] EHLO parameter has a byte outside %d33-126\n");
    assert_has(s, "  diag@146 [RFC 5321 4.1.1.1] HTAB instead of SP after the EHLO keyword\n");
    assert_has(s, "  diag@147 [RFC 3207 2] parameter after an EHLO keyword that takes none\n");
    assert_lacks(s, "error");
    free(s);
    /* EHLO reply without a domain / with a malformed one */
    s = CHECK("220 a\r\n250 \r\n250 -bad-.example hi\r\n", MR_SMTP_EHLO, MR_SMTP_HELO);
    assert_has(s, "  diag@11 [RFC 5321 4.1.1.1] EHLO reply names no domain\n");
    assert_has(s, "  diag@17 [RFC 5321 4.1.1.1] HELO reply domain is neither a Domain nor an address-literal\n");
    assert_has(s, "cmd=helo code=250");
    assert_has(s, "domain=|-bad-.example|");
    free(s);
}

static void test_guess(void **state)
{
    (void)state;
    /* Nothing queued: the first reply is the greeting, 334 an AUTH
     * challenge, a multi-line 250 of ehlo-lines an EHLO answer. */
    char *s = CHECK("220 a\r\n"
                    "250-mx.example.com greets you\r\n250-PIPELINING\r\n250-AUTH=LOGIN\r\n250 SIZE 100\r\n"
                    "250-mx\r\n250 Ok: queued\r\n"
                    "250 mx.example.com\r\n"
                    "334 \r\n"
                    "235 ok\r\n");
    assert_has(s, "cmd=greeting code=220");
    assert_has(s, "cmd=ehlo code=250 mixed=0 range=7-");
    assert_has(s, "  kw size name=|SIZE| args=|100| params=1 |100| number=100\n");
    assert_has(s, "cmd=other code=250 mixed=0 range=84-");
    assert_has(s, "cmd=other code=250 mixed=0 range=108-");
    assert_has(s, "cmd=auth code=334");
    assert_has(s, "  sasl=||\n");
    assert_has(s, "cmd=other code=235");
    free(s);
    /* a GUESS entry in the queue behaves the same and is popped */
    s = CHECK("220 a\r\n250-mx\r\n250 8BITMIME\r\n250 ok\r\n", MR_SMTP_GUESS, MR_SMTP_NOOP);
    assert_has(s, "cmd=ehlo code=250");
    assert_has(s, "cmd=noop code=250");
    assert_has(s, "pending=0\n");
    free(s);
}

/* ---- AUTH ---------------------------------------------------------------------------------- */

static void test_auth_334(void **state)
{
    (void)state;
    static const char in[] = "220 a\r\n"
                             "334 VXNlcm5hbWU6\r\n" /* "Username:" */
                             "334 UGFzc3dvcmQ6\r\n" /* "Password:" */
                             "334 \r\n"
                             "334 not*base64\r\n"
                             "235 2.7.0 Authentication successful\r\n"
                             "250 2.1.0 Ok\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    assert_int_equal(mr_smtp_expect_line(p, S("AUTH LOGIN\r\n")), 0);
    assert_int_equal(mr_smtp_expect_line(p, S("MAIL FROM:<>\r\n")), 0);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_AUTH);
    assert_int_equal(ev.reply->sasl.len, 9);
    assert_memory_equal(ev.reply->sasl.ptr, "Username:", 9);
    assert_int_equal(mr_smtp_pending(p), 2); /* 334 does not end the exchange */
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_memory_equal(ev.reply->sasl.ptr, "Password:", 9);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->sasl.len, 0); /* empty challenge (RFC 4954 4) */
    assert_int_equal(feed(&f, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_BAD_BASE64);
    assert_int_equal(ev.error.offset, 7 + 18 + 18 + 6 + 4 + 3); /* the '*' */
    assert_int_equal(ev.reply->code, 334);
    assert_int_equal(mr_smtp_pending(p), 2);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_AUTH);
    assert_int_equal(ev.reply->code, 235);
    assert_int_equal(mr_smtp_pending(p), 1);
    assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.reply->cmd, MR_SMTP_MAIL);
    assert_int_equal(mr_smtp_pending(p), 0);
    mr_smtp_free(p);
    char *s = CHECK(in, MR_SMTP_AUTH, MR_SMTP_MAIL);
    assert_has(s, "error BAD_BASE64@56 (");
    assert_has(s, "  sasl=|Password:|\n");
    assert_has(s, "  sasl=(none)||\n");
    assert_lacks(s, "diag@");
    free(s);
    /* strict: multi-line challenge, trailing space, missing padding */
    s = CHECK("220 a\r\n334-YQ==\r\n334 Yg==\r\n334 YWJj \r\n334 YWI\r\n", MR_SMTP_AUTH);
    assert_has(s, "  sasl=|a|\n  diag@17 [RFC 4954 4] a 334 challenge spans more than one line\n");
    assert_has(s, "  sasl=|abc|\n  diag@35 [RFC 4954 4] white space after the base64 challenge\n");
    assert_has(s, "  sasl=|ab|\n  diag@45 [RFC 4648 3.2] base64 challenge lacks its '=' padding\n");
    assert_has(s, "pending=1\n");
    free(s);
}

static void test_334_answers_shifted_queue(void **state)
{
    (void)state;
    /* RFC 4954 4.1's CRAM-MD5 example has a greeting with no final line,
     * so it runs on into the EHLO reply and the 334 answers EHLO in the
     * queue: still decoded as the challenge it is, and EHLO is used up. */
    char *s = CHECK("220-smtp.example.com ESMTP Server\r\n"
                    "250-smtp.example.com Hello client.example.com\r\n"
                    "250 STARTTLS\r\n"
                    "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n"
                    "235 2.7.0 Authentication successful\r\n",
                    MR_SMTP_EHLO, MR_SMTP_AUTH);
    assert_has(s, "cmd=greeting code=250 mixed=1");
    assert_has(s, "cmd=ehlo code=334");
    assert_has(s, "  sasl=|<4192942341.12828472@sourcefour.andrew.cmu.edu>|\n");
    assert_has(s, "cmd=auth code=235");
    assert_has(s, "pending=0\n");
    free(s);
}

/* Feed in one buffer after queueing the command lines; return the strict-mode diagnostics count per reply. */
static void utf8_run(const char *const *cmds, size_t n_cmds, const char *in, const size_t *want_diags,
                     size_t n_replies)
{
    mr_smtp_parser *p = mk(MR_STRICT);
    for (size_t i = 0; i < n_cmds; i++)
        assert_int_equal(mr_smtp_expect_line(p, (const uint8_t *)cmds[i], strlen(cmds[i])), 0);
    feeder f = {p, (const uint8_t *)in, strlen(in), 0};
    mr_smtp_event ev;
    for (size_t i = 0; i < n_replies; i++) {
        assert_int_equal(feed(&f, &ev), MR_EV_RESPONSE);
        if (ev.reply->n_diags != want_diags[i]) {
            fprintf(stderr, "reply %zu: %zu diagnostics, want %zu\n", i, ev.reply->n_diags, want_diags[i]);
            fail();
        }
        for (size_t d = 0; d < ev.reply->n_diags; d++)
            assert_string_equal(ev.reply->diags[d].ref, "RFC 6531 3.7.4");
    }
    assert_int_equal(feed(&f, &ev), MR_EV_NEED_MORE);
    mr_smtp_free(p);
}

static void test_utf8_replies(void **state)
{
    (void)state;
    static const char in[] = "220 mx\r\n"
                             "250 J\xc3\xbcrgen <j\xc3\xbcrgen@example.com>\r\n"
                             "250 Sender ok \xce\xb4\r\n"
                             "251 will forward to <j\xc3\xbcrgen@b\xc3\xbc" "cher.example>\r\n"
                             "250 reset\r\n"
                             "251 again <j\xc3\xbcrgen@example.com>\r\n";
    /* With SMTPUTF8 on VRFY and MAIL: UTF-8 allowed in the VRFY reply and
     * the 251 of the transaction (RFC 6531 3.7.4.2, 3.7.4.1), not in the
     * 250 to MAIL, nor after RSET ended the transaction. */
    static const char *const with[] = {"VRFY j\xc3\xbcrgen SMTPUTF8\r\n",
                                       "MAIL FROM:<a@example.org> BODY=8BITMIME smtputf8\r\n",
                                       "RCPT TO:<j@example.com>\r\n", "RSET\r\n", "RCPT TO:<k@example.com>\r\n"};
    static const size_t want_with[] = {0, 0, 1, 0, 0, 1};
    utf8_run(with, 5, in, want_with, 6);
    /* Without the parameter every one of them is a deviation. */
    static const char *const without[] = {"VRFY j\xc3\xbcrgen\r\n", "MAIL FROM:<a@example.org>\r\n",
                                          "RCPT TO:<j@example.com>\r\n", "RSET\r\n",
                                          "RCPT TO:<k@example.com>\r\n"};
    static const size_t want_without[] = {0, 1, 1, 1, 0, 1};
    utf8_run(without, 5, in, want_without, 6);
    /* "SMTPUTF8" as the VRFY string itself is not the parameter */
    static const char *const as_arg[] = {"VRFY SMTPUTF8\r\n"};
    static const size_t want_as_arg[] = {0, 1};
    utf8_run(as_arg, 1, "220 mx\r\n250 J\xc3\xbcrgen\r\n", want_as_arg, 2);
}

/* ---- greeting --------------------------------------------------------------------------------- */

static void test_greeting_variants(void **state)
{
    (void)state;
    char *s = CHECK("220-mx.example.com ESMTP\r\n220-second\r\n220 last\r\n250 ok\r\n", MR_SMTP_EHLO);
    /* EHLO sent before the greeting arrived: the greeting is still first */
    assert_has(s, "cmd=greeting code=220 mixed=0 range=0-48 lines=3\n");
    assert_has(s, "domain=|mx.example.com|");
    assert_has(s, "cmd=ehlo code=250");
    assert_lacks(s, "diag@");
    free(s);
    /* an explicit GREETING is used up by the first reply */
    s = CHECK("220 [192.0.2.1] hi\r\n250 ok\r\n", MR_SMTP_GREETING, MR_SMTP_NOOP);
    assert_has(s, "domain=|[192.0.2.1]|");
    assert_has(s, "cmd=noop");
    assert_has(s, "pending=0\n");
    assert_lacks(s, "diag@");
    free(s);
    s = CHECK("554 5.7.1 mx.example.com no service for you\r\n");
    assert_has(s, "cmd=greeting code=554");
    assert_has(s, "enhanced=5.7.1");
    assert_has(s, "domain=|mx.example.com|"); /* the enhanced code is skipped */
    assert_lacks(s, "diag@");
    free(s);
    s = CHECK("220 2.0.0 mx.example.com ready\r\n");
    assert_has(s, "domain=|mx.example.com|");
    assert_has(s, "  diag@4 [RFC 5321 4.2] an enhanced status code stands where the domain belongs\n");
    free(s);
    s = CHECK("421 4.3.2 Service shutting down\r\n");
    assert_has(s, "cmd=greeting code=421");
    assert_has(s, "domain=|Service|"); /* free text: the first word is all there is */
    assert_lacks(s, "diag@");
    free(s);
    s = CHECK("250 mx.example.com hi\r\n");
    assert_has(s, "  diag@0 [RFC 5321 4.3.2] greeting code is not 220, 421 or 554\n");
    free(s);
    s = CHECK("220  mx_1.example hi\r\n");
    assert_has(s, "  diag@4 [RFC 5321 4.2] more than one SP between the reply code and the domain\n");
    assert_has(s, "  diag@5 [RFC 5321 4.2] greeting domain is neither a Domain nor an address-literal\n");
    free(s);
    s = CHECK("220\r\n");
    assert_has(s, "  diag@3 [RFC 5321 4.2.1] no SP after the reply code of the final line\n");
    assert_has(s, "  diag@3 [RFC 5321 4.2] 220 greeting names no domain\n");
    free(s);
}

/* ---- strict diagnostics on framing --------------------------------------------------------- */

static void test_strict_line_diags(void **state)
{
    (void)state;
    mr_sbuf in = {0};
    mr_sb_printf(&in, "220 a\n");                          /* 0: bare LF */
    mr_sb_printf(&in, "199 one\r\n");                      /* 6: code range */
    mr_sb_printf(&in, "260 two\r\n");                      /* 15: second digit */
    mr_sb_printf(&in, "250 \r\n");                         /* 24: no text */
    mr_sb_printf(&in, "250 ctl\x01 here\r\n");             /* 30: control */
    mr_sb_printf(&in, "250 caf\xc3\xa9\r\n");              /* 45: non-ASCII */
    mr_sb_printf(&in, "251 <j\xc3\xb6rg@example.com>\r\n"); /* 56: no SMTPUTF8 transaction */
    mr_sb_printf(&in, "250 ");                             /* long line */
    for (int i = 0; i < 520; i++)
        mr_sb_add(&in, "x", 1);
    mr_sb_printf(&in, "\r\n");
    run_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    char *s = check_case_cfg((const uint8_t *)in.s, in.len, &cfg);
    assert_has(s, "  diag@5 [RFC 5321 2.3.8] line ends in a bare LF instead of CRLF\n");
    assert_has(s, "  diag@6 [RFC 5321 4.2] reply code outside Reply-code (%x32-35 %x30-35 %x30-39)\n");
    assert_has(s, "  diag@15 [RFC 5321 4.2] reply code outside Reply-code");
    assert_has(s, "  diag@28 [RFC 5321 4.2] reply has no text (servers SHOULD NOT send bare codes)\n");
    assert_has(s, "  diag@37 [RFC 5321 4.2] control character in reply text\n");
    assert_has(s, "  diag@52 [RFC 6531 3.7.4] non-ASCII text in a reply that may not carry UTF-8\n");
    assert_has(s, "  diag@591 [RFC 5321 4.5.3.1.5] reply line longer than 512 octets with CRLF\n");
    assert_has(s, "  diag@62 [RFC 6531 3.7.4] non-ASCII text in a reply that may not carry UTF-8\n");
    assert_int_equal(count_of(s, "diag@"), 8);
    assert_lacks(s, "error");
    free(s);
    mr_sb_free(&in);

    /* max_diags keeps the first ones and counts the rest */
    mr_sbuf many = {0};
    mr_sb_printf(&many, "220 a\r\n");
    for (int i = 0; i < 10; i++)
        mr_sb_printf(&many, "25%d-x\n", i % 2);
    mr_sb_printf(&many, "250 end\r\n");
    memset(&cfg, 0, sizeof cfg);
    cfg.limits.max_diags = 4;
    s = check_case_cfg((const uint8_t *)many.s, many.len, &cfg);
    assert_int_equal(count_of(s, "diag@"), 4);
    assert_has(s, "  diags dropped=11\n");
    free(s);
    mr_sb_free(&many);
}

static void test_lenient_is_silent(void **state)
{
    (void)state;
    /* every deviating input above, in lenient mode: no diagnostic at all */
    static const char in[] = "250 x\n199 a\r\n250 \r\n250 c\x01\r\n250-a\r\n251 b\r\n"
                             "250 5.0.0 x\r\n250-2.0.0 a\r\n250 2.0.1 b\r\n";
    mr_smtp_parser *p = mk(MR_LENIENT);
    feeder f = {p, (const uint8_t *)in, sizeof in - 1, 0};
    mr_smtp_event ev;
    int replies = 0;
    while (feed(&f, &ev) != MR_EV_NEED_MORE) {
        assert_int_equal(ev.type, MR_EV_RESPONSE);
        assert_int_equal(ev.reply->n_diags, 0);
        assert_int_equal(ev.reply->diags_dropped, 0);
        replies++;
    }
    assert_int_equal(replies, 7);
    mr_smtp_free(p);
    /* the same input in strict mode does produce them */
    p = mk(MR_STRICT);
    f.p = p;
    f.off = 0;
    size_t diags = 0;
    while (feed(&f, &ev) != MR_EV_NEED_MORE)
        diags += ev.reply->n_diags;
    assert_true(diags >= 7);
    mr_smtp_free(p);
}

/* ---- classification and names ----------------------------------------------------------------- */

static void test_classify_and_names(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        mr_smtp_cmd cmd;
    } cases[] = {
        {"EHLO client.example\r\n", MR_SMTP_EHLO}, {"helo x", MR_SMTP_HELO},
        {"LHLO x\r\n", MR_SMTP_LHLO},              {"MAIL FROM:<a@b> SIZE=10\r\n", MR_SMTP_MAIL},
        {"mail from:<>\r\n", MR_SMTP_MAIL},        {"RCPT TO:<b@c>\r\n", MR_SMTP_RCPT},
        {"DATA\r\n", MR_SMTP_DATA},                {"data\n", MR_SMTP_DATA},
        {".\r\n", MR_SMTP_DATA_END},               {".", MR_SMTP_DATA_END},
        {"..\r\n", MR_SMTP_OTHER},                 {"BDAT 100 LAST\r\n", MR_SMTP_BDAT},
        {"RSET\r\n", MR_SMTP_RSET},                {"VRFY u\r\n", MR_SMTP_VRFY},
        {"EXPN l\r\n", MR_SMTP_EXPN},              {"HELP\r\n", MR_SMTP_HELP},
        {"NOOP", MR_SMTP_NOOP},                    {"QUIT\r\n", MR_SMTP_QUIT},
        {"StartTLS\r\n", MR_SMTP_STARTTLS},        {"AUTH PLAIN AGFAAGI=\r\n", MR_SMTP_AUTH},
        {"MAILFROM:<a@b>\r\n", MR_SMTP_OTHER},     {"XCLIENT NAME=x\r\n", MR_SMTP_OTHER},
        {"", MR_SMTP_OTHER},                       {"\r\n", MR_SMTP_OTHER},
        {" EHLO x\r\n", MR_SMTP_OTHER},            {"QUIT2\r\n", MR_SMTP_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mr_smtp_cmd got = mr_smtp_cmd_classify((const uint8_t *)cases[i].line, strlen(cases[i].line));
        if (got != cases[i].cmd) {
            print_error("classify(\"%s\") = %s, want %s\n", cases[i].line, mr_smtp_cmd_name(got),
                        mr_smtp_cmd_name(cases[i].cmd));
            fail();
        }
    }
    assert_int_equal(mr_smtp_cmd_classify(NULL, 0), MR_SMTP_OTHER);
    assert_string_equal(mr_smtp_cmd_name(MR_SMTP_DATA_END), "data-end");
    assert_string_equal(mr_smtp_cmd_name(MR_SMTP_GUESS), "guess");
    assert_string_equal(mr_smtp_cmd_name((mr_smtp_cmd)999), "unknown");
    static const char *const ext[] = {"other",    "size",     "auth",       "8bitmime", "pipelining",
                                      "chunking", "binarymime", "smtputf8", "dsn",      "starttls",
                                      "enhancedstatuscodes", "deliverby", "requiretls", "vrfy", "etrn",
                                      "expn",     "help"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        assert_string_equal(mr_smtp_ext_name((mr_smtp_ext)i), ext[i]);
    assert_string_equal(mr_smtp_ext_name((mr_smtp_ext)99), "unknown");
    assert_string_equal(mr_smtp_severity(250), "positive-completion");
    assert_string_equal(mr_smtp_severity(354), "positive-intermediate");
    assert_string_equal(mr_smtp_severity(421), "transient-negative");
    assert_string_equal(mr_smtp_severity(550), "permanent-negative");
    assert_string_equal(mr_smtp_severity(199), "unknown");
    assert_string_equal(mr_smtp_severity(0), "unknown");
    assert_string_equal(mr_smtp_severity(650), "unknown");
}

/* ---- linear work ------------------------------------------------------------------------------- */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Feed in one byte per call; returns the CPU seconds it took.  Checks the
 * one reply it holds and how the allocator was used.
 */
static double feed_bytewise(const mr_sbuf *in, size_t want_lines, size_t max_line)
{
    mr_fail_alloc f;
    mr_fail_alloc_init(&f, 0);
    mr_options o;
    memset(&o, 0, sizeof o);
    o.alloc = &f.a;
    o.limits.max_line = max_line;
    mr_smtp_parser *p = mr_smtp_new(&o);
    assert_non_null(p);
    size_t responses = 0;
    double t0 = cpu_now();
    for (size_t i = 0; i < in->len; i++) {
        /* a run that is not linear would take hours: fail it instead */
        if ((i & 0xffff) == 0 && cpu_now() - t0 > 20.0) {
            fprintf(stderr, "feeding %zu bytes one by one: over 20 s CPU after %zu bytes\n", in->len, i);
            fail();
        }
        size_t off = 0, used;
        mr_smtp_event ev;
        const uint8_t *b = (const uint8_t *)in->s + i;
        while (mr_smtp_next(p, b + off, 1 - off, &used, &ev) != MR_EV_NEED_MORE) {
            off += used;
            assert_int_equal(ev.type, MR_EV_RESPONSE);
            assert_int_equal(ev.reply->n_lines, want_lines);
            responses++;
        }
    }
    double t = cpu_now() - t0;
    assert_int_equal(responses, 1);
    /* Storage grows geometrically: few allocator calls, memory a small
     * multiple of the input.  Copying the reply again on every feed, or
     * allocating per line, would break these bounds. */
    assert_true(f.calls < 80);
    assert_true(f.peak < 4 * in->len + 64 * 1024);
    mr_smtp_free(p);
    assert_int_equal(f.in_use, 0);
    return t;
}

static void build_many_lines(mr_sbuf *b, size_t bytes, size_t *lines)
{
    *lines = 0;
    while (b->len < bytes) {
        mr_sb_printf(b, "250-line %08zu of a large multi-line reply, fed one byte per call\r\n", *lines);
        (*lines)++;
    }
    mr_sb_printf(b, "250 end\r\n");
    (*lines)++;
}

static void build_one_line(mr_sbuf *b, size_t bytes)
{
    mr_sb_printf(b, "220 ");
    while (b->len < bytes)
        mr_sb_add(b, "0123456789abcdef", 16);
    mr_sb_printf(b, "\r\n");
}

static double best_of(const mr_sbuf *in, size_t lines, size_t max_line)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t = feed_bytewise(in, lines, max_line);
        if (t < best)
            best = t;
    }
    return best;
}

static void test_linear_bytewise(void **state)
{
    (void)state;
    const size_t mb = 1024 * 1024;
    /* (1) a 1 MB reply of short lines: nothing may be re-scanned or
     *     re-copied per feed; (2) one 512 KB line: the line reader may not
     *     re-scan the partial line. */
    for (int kind = 0; kind < 2; kind++) {
        mr_sbuf a = {0}, b = {0};
        size_t la = 1, lb = 1;
        if (kind == 0) {
            build_many_lines(&a, mb / 4, &la);
            build_many_lines(&b, mb, &lb);
        } else {
            build_one_line(&a, mb / 8);
            build_one_line(&b, mb / 2);
        }
        size_t max_line = kind ? mb : 0;
        double ta = best_of(&a, la, max_line), tb = best_of(&b, lb, max_line);
        /* 4x the input: linear work takes about 4x the time, quadratic 16x. */
        if (!(tb < 9.0 * ta + 0.05)) {
            print_error("kind %d: %zu bytes took %.3fs, %zu bytes %.3fs: not linear\n", kind, a.len, ta, b.len, tb);
            fail();
        }
        mr_sb_free(&a);
        mr_sb_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_single_line),
        cmocka_unit_test(test_multiline_reply),
        cmocka_unit_test(test_zero_copy_and_pinning),
        cmocka_unit_test(test_pipelined_replies),
        cmocka_unit_test(test_bare_codes_and_lenient_forms),
        cmocka_unit_test(test_bad_code_alone),
        cmocka_unit_test(test_bad_code_mid_reply),
        cmocka_unit_test(test_bad_separator),
        cmocka_unit_test(test_mixed_codes),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_too_many_lines),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_too_many_pending),
        cmocka_unit_test(test_no_memory_every_allocation),
        cmocka_unit_test(test_enhanced_codes),
        cmocka_unit_test(test_ehlo_every_keyword),
        cmocka_unit_test(test_ehlo_bad_fields_and_diags),
        cmocka_unit_test(test_guess),
        cmocka_unit_test(test_auth_334),
        cmocka_unit_test(test_334_answers_shifted_queue),
        cmocka_unit_test(test_utf8_replies),
        cmocka_unit_test(test_greeting_variants),
        cmocka_unit_test(test_strict_line_diags),
        cmocka_unit_test(test_lenient_is_silent),
        cmocka_unit_test(test_classify_and_names),
        cmocka_unit_test(test_linear_bytewise),
    };
    const char *filter = getenv("MR_TEST_FILTER"); /* e.g. MR_TEST_FILTER='test_auth*' */
    if (filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
