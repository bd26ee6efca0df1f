/*
 * test_imap.c - unit tests of the IMAP parser's syntax layer
 * (parsers/imap/mr_imap.c): framing, literals and their contexts,
 * streaming, the value tree, response heads, tags and SASL, limits, and
 * every error path.  Typed decoding is tested in test_imap_fetch.c and
 * test_imap_data.c; the RFC examples run as data-driven cases.
 *
 * Every input runs through every chunking (whole, pieces of 1..17 bytes,
 * a split at every position), each piece right before a guard page and
 * scribbled over once consumed; the serialised results must be identical.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mr_imap_testutil.h"

/* ---- harness ------------------------------------------------------------ */

static void dump_value(mr_sbuf *b, const mr_imap_value *v);

/* v's items between open and close, separated by SP. */
static void dump_items(mr_sbuf *b, const mr_imap_value *v, char open, char close)
{
    mr_sb_add(b, &open, 1);
    for (size_t i = 0; i < v->n_items; i++) {
        if (i)
            mr_sb_add(b, " ", 1);
        dump_value(b, &v->items[i]);
    }
    mr_sb_add(b, &close, 1);
}

static void dump_value(mr_sbuf *b, const mr_imap_value *v)
{
    switch (v->type) {
    case MR_IMAP_V_NIL:
        mr_sb_add(b, "NIL", 3);
        break;
    case MR_IMAP_V_ATOM:
    case MR_IMAP_V_NUMBER:
        mr_sb_field(b, v->type == MR_IMAP_V_ATOM ? "a:" : "n:", v->raw);
        if (v->type == MR_IMAP_V_NUMBER)
            mr_sb_printf(b, "=%llu", (unsigned long long)v->num);
        if (v->has_section)
            dump_items(b, v, '[', ']');
        if (v->has_origin)
            mr_sb_printf(b, "<%llu>", (unsigned long long)v->num);
        break;
    case MR_IMAP_V_QUOTED:
        mr_sb_field(b, "q:", v->str);
        if (v->escaped)
            mr_sb_field(b, "/raw:", v->raw);
        break;
    case MR_IMAP_V_LITERAL:
    case MR_IMAP_V_LITERAL8:
        mr_sb_printf(b, "%s%u{%llu%s}", v->type == MR_IMAP_V_LITERAL ? "lit" : "lit8", v->literal_index,
                     (unsigned long long)v->num, v->nonsync ? "+" : "");
        if (v->streamed)
            mr_sb_add(b, "streamed", 8);
        else
            mr_sb_span(b, v->str);
        break;
    case MR_IMAP_V_LIST:
        dump_items(b, v, '(', ')');
        break;
    }
    mr_sb_printf(b, "@%llu", (unsigned long long)v->offset);
}

static void dump_response(mr_sbuf *b, const mr_imap_response *r)
{
    mr_sb_printf(b, "%s %s", mr_imap_kind_name(r->kind), mr_imap_type_name(r->type));
    if (r->tag.len)
        mr_sb_field(b, " tag=", r->tag);
    if (r->has_number)
        mr_sb_printf(b, " num=%llu", (unsigned long long)r->number);
    mr_sb_field(b, " kw=", r->keyword);
    if (r->cmd.len)
        mr_sb_field(b, " cmd=", r->cmd);
    if (r->greeting)
        mr_sb_add(b, " greeting", 9);
    if (r->has_code) {
        mr_sb_field(b, " code=", r->code.name);
        mr_sb_field(b, "|", r->code.args_text);
        mr_sb_printf(b, "|%zu", r->code.n_args);
        for (size_t i = 0; i < r->code.n_args; i++) {
            mr_sb_add(b, " ", 1);
            dump_value(b, &r->code.args[i]);
        }
    }
    mr_sb_field(b, " text=", r->text);
    if (r->has_sasl)
        mr_sb_field(b, " sasl=", r->sasl);
    mr_sb_printf(b, " range=%llu-%llu lits=%d/%d values:", (unsigned long long)r->offset,
                 (unsigned long long)r->end, r->n_literals, r->n_streamed);
    for (size_t i = 0; i < r->n_values; i++) {
        mr_sb_add(b, " ", 1);
        dump_value(b, &r->values[i]);
    }
    mr_imap_sb_diags(b, r);
}

typedef struct feed_result {
    mr_sbuf out;
    mr_sbuf body; /* concatenated chunks of the current streamed literal */
    uint64_t chunk_expect; /* the next chunk's literal.done */
} feed_result;

static void on_event(void *ud, mr_event_type t, const mr_imap_event *ev)
{
    feed_result *fr = ud;
    if (t == MR_EV_BODY_CHUNK) {
        assert_true(ev->chunk.len > 0);
        assert_int_equal(ev->literal.done, fr->chunk_expect);
        assert_true(ev->literal.done + ev->chunk.len <= ev->literal.size);
        fr->chunk_expect += ev->chunk.len;
        if (fr->chunk_expect == ev->literal.size) {
            mr_sb_printf(&fr->out, "STREAM#%u size=%llu ctx=", ev->literal.index,
                         (unsigned long long)ev->literal.size);
            mr_sb_span(&fr->out, ev->literal.context);
            mr_sb_add(&fr->out, " data=", 6);
            fr->chunk_expect = 0;
        }
        mr_sb_add(&fr->body, ev->chunk.ptr, ev->chunk.len);
        if (fr->chunk_expect == 0) {
            mr_sb_bytes(&fr->out, (const uint8_t *)fr->body.s, fr->body.len);
            mr_sb_add(&fr->out, "\n", 1);
            fr->body.len = 0;
        }
        return;
    }
    if (t == MR_EV_ERROR)
        mr_sb_printf(&fr->out, "ERROR %s@%llu ", mr_errcode_name(ev->error.code),
                     (unsigned long long)ev->error.offset);
    if (ev->response)
        dump_response(&fr->out, ev->response);
    mr_sb_add(&fr->out, "\n", 1);
}

/*
 * Parse in[0, n) after queueing cmds (newline-separated command lines, or
 * NULL), fed in the chunking (piece, split); then mr_imap_finish().  The
 * dump of every event, one line each.
 */
static char *parse_with(const char *cmds, const char *in, size_t n, const mr_options *opt, size_t piece,
                        size_t split)
{
    mr_imap_parser *p = mr_imap_new(opt);
    assert_non_null(p);
    if (cmds) {
        const char *s = cmds;
        while (*s) {
            const char *e = strchr(s, '\n');
            size_t l = e ? (size_t)(e - s) : strlen(s);
            mr_imap_expect_line(p, (const uint8_t *)s, l);
            s += l + (e ? 1 : 0);
        }
    }
    feed_result fr;
    memset(&fr, 0, sizeof fr);
    mr_sb_add(&fr.out, "", 0);
    if (!mr_imap_feed(p, in, n, piece, split, on_event, &fr)) {
        mr_imap_event ev;
        mr_event_type t;
        while ((t = mr_imap_finish(p, &ev)) != MR_EV_NEED_MORE) {
            on_event(&fr, t, &ev);
            if (t == MR_EV_ERROR)
                break;
        }
        if (t == MR_EV_NEED_MORE)
            assert_int_equal(mr_imap_offset(p), n);
    }
    mr_imap_free(p);
    mr_sb_free(&fr.body);
    return fr.out.s;
}

static mr_options opts(mr_mode mode)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    return o;
}

/* Parse in every chunking and compare with the expected dump, line for line. */
static void check(const char *cmds, const char *in, const mr_options *opt, const char *expected)
{
    size_t n = strlen(in);
    char *got = parse_with(cmds, in, n, opt, 0, 0);
    for (size_t piece = 0, split = 0; mr_cut_next(n, &piece, &split);)
        mr_cut_check(got, parse_with(cmds, in, n, opt, piece, split), piece, split);
    if (getenv("MR_TEST_PRINT")) /* for writing cases: show, do not judge */
        printf("---\n%s", got);
    else if (strcmp(got, expected) != 0)
        fail_msg("input:\n%s\nexpected:\n%s\ngot:\n%s", in, expected, got);
    free(got);
}

static void check_lenient(const char *in, const char *expected)
{
    mr_options o = opts(MR_LENIENT);
    check(NULL, in, &o, expected);
}

static void check_strict(const char *in, const char *expected)
{
    mr_options o = opts(MR_STRICT);
    check(NULL, in, &o, expected);
}

/* ---- response heads ----------------------------------------------------- */

static void test_heads(void **state)
{
    (void)state;
    check_lenient("* OK [UIDNEXT 4392] Predicted next UID\r\n"
                  "A142 OK [READ-WRITE] SELECT completed\r\n"
                  "* 172 EXISTS\r\n"
                  "+ Ready for additional command text\r\n"
                  "a2 bad Command unknown\r\n"
                  "* BYE Autologout; idle for too long\r\n",
                  "untagged OK kw=OK greeting code=UIDNEXT|4392|1 n:4392=4392@14 text=Predicted next UID range=0-40 lits=0/0 values:\n"
                  "tagged OK tag=A142 kw=OK code=READ-WRITE||0 text=SELECT completed range=40-79 lits=0/0 values:\n"
                  "untagged EXISTS num=172 kw=EXISTS text= range=79-93 lits=0/0 values:\n"
                  "continuation + kw= text=Ready for additional command text range=93-130 lits=0/0 values:\n"
                  "tagged BAD tag=a2 kw=bad text=Command unknown range=130-154 lits=0/0 values:\n"
                  "untagged BYE kw=BYE text=Autologout; idle for too long range=154-191 lits=0/0 values:\n");
}

/* ---- values ------------------------------------------------------------- */

static void test_values(void **state)
{
    (void)state;
    check_lenient("* 12 XDATA (FLAGS (\\Seen \\*) UID 7 BODY[HEADER.FIELDS (From To)]<0> NIL "
                  "X \"a \\\"q\\\" \\\\\" 007 18446744073709551616)\r\n",
                  "untagged OTHER num=12 kw=XDATA greeting text= range=0-114 lits=0/0 values: (a:FLAGS@12 (a:\\\\Seen@19 a:\\\\*@25)@18 a:UID@29 n:7=7@33 a:BODY[a:HEADER.FIELDS@40 (a:From@55 a:To@60)@54]<0>@35 NIL@68 a:X@72 q:a \"q\" \\\\/raw:a \\\\\"q\\\\\" \\\\\\\\@74 n:007=7@87 a:18446744073709551616@91)@11\n");
    /* THREAD lists touch each other with no SP (RFC 5256 4). */
    check_lenient("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
                  "untagged THREAD kw=THREAD greeting text= range=0-35 lits=0/0 values: (n:2=2@10)@9 (n:3=3@13 n:6=6@15 (n:4=4@18 n:23=23@20)@17 (n:44=44@24 n:7=7@27 n:96=96@29)@23)@12\n");
    /* An empty list, an empty section, a sequence set, NIL in any case. */
    check_lenient("* X () BODY[] 1:3,5:* nil\r\n",
                  "untagged OTHER kw=X greeting text= range=0-27 lits=0/0 values: ()@4 a:BODY[]@7 a:1:3,5:*@14 NIL@22\n");
}

static void test_literals(void **state)
{
    (void)state;
    /* {n}, ~{n}, {n+}, {0}, a literal right after a literal, and CRLF inside one. */
    check_lenient("* 1 XDATA (BODY[] {7}\r\nab\r\ncd. BINARY[1] ~{2}\r\n\x01\x02 X {0}\r\n {1+}\r\n"
                  "y{2}\r\nzz)\r\n",
                  "untagged OTHER num=1 kw=XDATA greeting text= range=0-75 lits=5/0 values: (a:BODY[]@11 lit0{7}ab\\r\\ncd.@18 a:BINARY[n:1=1@38]@31 lit81{2}\\x01\\x02@41 a:X@50 lit2{0}@52 lit3{1+}y@58 lit4{2}zz@65)@10\n");
    /* A literal as a response's only value, followed by more. */
    check_lenient("* 2 FETCH (RFC822 {3}\r\nabc)\r\n* 3 EXPUNGE\r\n",
                  "untagged FETCH num=2 kw=FETCH greeting text= range=0-29 lits=1/0 values: (a:RFC822@11 lit0{3}abc@18)@10\n"
                  "untagged EXPUNGE num=3 kw=EXPUNGE text= range=29-42 lits=0/0 values:\n");
}

/* Where "{n}" at a line end is text, not a literal (RFC 9051 9). */
static void test_literal_contexts(void **state)
{
    (void)state;
    check_lenient("* OK see {5}\r\n"
                  "+ send {5}\r\n"
                  "* LIST () \"/\" \"x {3}\r\n"
                  "* NO [BADCHARSET ({5}\r\nUTF-8 X)] no {2}\r\n",
                  "untagged OK kw=OK greeting text=see {5} range=0-14 lits=0/0 values:\n"
                  "continuation + kw= text=send {5} range=14-26 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@40 untagged LIST kw=LIST text= range=26-48 lits=0/0 values:\n"
                  "untagged NO kw=NO code=BADCHARSET|({5}|1 (lit0{5}UTF-8@66 a:X@77)@65 text=no {2} range=48-89 lits=1/0 values:\n");
}

/* The one reader of "{n}" / "{n+}" / "~{n}" at a line end (parser and CLI). */
static void test_literal_marker(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc, binary, nonsync;
        uint64_t size;
        size_t start;
    } cases[] = {
        {"* 1 FETCH (BODY[] {12}", 1, 0, 0, 12, 18},
        {"a APPEND x {5+}", 1, 0, 1, 5, 11},
        {"BINARY[] ~{0}", 1, 1, 0, 0, 9},
        {"{7}", 1, 0, 0, 7, 0},
        {"x {18446744073709551616}", -1, 0, 0, 0, 2},
        {"x {}", 0, 0, 0, 0, 0},
        {"x 5}", 0, 0, 0, 0, 0},
        {"x {5", 0, 0, 0, 0, 0},
        {"x {+}", 0, 0, 0, 0, 0},
        {"}", 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t size = 99;
        int binary = 9, nonsync = 9;
        size_t start = 99;
        const char *t = cases[i].text;
        int rc = mr_imap_literal_marker((const uint8_t *)t, strlen(t), &size, &binary, &nonsync, &start);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", t, rc, cases[i].rc);
        if (rc != 0)
            assert_int_equal(start, cases[i].start);
        if (rc == 1) {
            assert_int_equal(size, cases[i].size);
            assert_int_equal(binary, cases[i].binary);
            assert_int_equal(nonsync, cases[i].nonsync);
        }
    }
}

/* ---- streaming ---------------------------------------------------------- */

static void test_streaming(void **state)
{
    (void)state;
    mr_options o = opts(MR_LENIENT);
    o.limits.stream_threshold = 4;
    check(NULL,
          "* 1 FETCH (UID 9 BODY[] {10}\r\n0123456789 BODY[1] {4}\r\nkept BINARY[2] ~{5}\r\nABCDE)\r\n"
          "* 2 FETCH (BODY[] {0}\r\n)\r\n",
          &o,
          "STREAM#0 size=10 ctx=* 1 FETCH (UID 9 BODY[]  data=0123456789\n"
                  "STREAM#2 size=5 ctx= BINARY[2]  data=ABCDE\n"
                  "untagged FETCH num=1 kw=FETCH greeting text= range=0-83 lits=3/2 values: (a:UID@11 n:9=9@15 a:BODY[]@17 lit0{10}streamed@24 a:BODY[n:1=1@46]@41 lit1{4}kept@49 a:BINARY[n:2=2@66]@59 lit82{5}streamed@69)@10\n"
                  "untagged FETCH num=2 kw=FETCH text= range=83-109 lits=1/0 values: (a:BODY[]@94 lit0{0}@101)@93\n");
}

/* A 4 MB literal streamed with threshold 64 KiB never holds more than a
 * few pages of parser memory. */
static void test_streaming_memory(void **state)
{
    (void)state;
    const size_t size = 4u << 20;
    char head[64];
    int hn = snprintf(head, sizeof head, "* 1 FETCH (BODY[] {%zu}\r\n", size);
    size_t n = (size_t)hn + size + 3;
    uint8_t *in = malloc(n);
    assert_non_null(in);
    memcpy(in, head, (size_t)hn);
    memset(in + hn, 'x', size);
    memcpy(in + hn + size, ")\r\n", 3);
    mr_fail_alloc fa;
    mr_fail_alloc_init(&fa, 0);
    mr_options o = opts(MR_LENIENT);
    o.alloc = &fa.a;
    o.limits.stream_threshold = 64 * 1024;
    mr_imap_parser *p = mr_imap_new(&o);
    uint64_t got = 0;
    int responses = 0;
    for (size_t pos = 0; pos < n;) {
        size_t k = n - pos < 4096 ? n - pos : 4096, off = 0, used;
        mr_imap_event ev;
        mr_event_type t;
        while ((t = mr_imap_next(p, in + pos + off, k - off, &used, &ev)) != MR_EV_NEED_MORE) {
            off += used;
            if (t == MR_EV_BODY_CHUNK)
                got += ev.chunk.len;
            else if (t == MR_EV_RESPONSE)
                responses++;
            else
                fail_msg("error %s", mr_errcode_name(ev.error.code));
        }
        pos += k;
    }
    assert_int_equal(got, size);
    assert_int_equal(responses, 1);
    assert_true(fa.peak < 64 * 1024);
    mr_imap_free(p);
    assert_int_equal(fa.in_use, 0);
    free(in);
}

/* ---- tags, SASL, UTF-8 -------------------------------------------------- */

static void test_tags_and_sasl(void **state)
{
    (void)state;
    mr_options o = opts(MR_STRICT);
    check("a1 UID FETCH 1:* (FLAGS)\r\n"
          "a2 AUTHENTICATE PLAIN\r\n"
          "DONE\r\n",
          "* OK hi\r\n"
          "+ \r\n"
          "+ dGVzdA==\r\n"
          "+ not base64!\r\n"
          "a2 OK done\r\n"
          "+ dGVzdA==\r\n"
          "zz OK who\r\n"
          "a1 OK fetched\r\n",
          &o,
          "untagged OK kw=OK greeting text=hi range=0-9 lits=0/0 values:\n"
                  "continuation + kw= text= sasl= range=9-13 lits=0/0 values:\n"
                  "continuation + kw= text=dGVzdA== sasl=test range=13-25 lits=0/0 values:\n"
                  "ERROR BAD_BASE64@30 continuation + kw= text=not base64! range=25-40 lits=0/0 values:\n"
                  "tagged OK tag=a2 kw=OK cmd=AUTHENTICATE text=done range=40-52 lits=0/0 values:\n"
                  "continuation + kw= text=dGVzdA== range=52-64 lits=0/0 values:\n"
                  "tagged OK tag=zz kw=OK text=who range=64-75 lits=0/0 values: diag@64{RFC 9051 2.2.1: a tagged response whose tag no command carried}\n"
                  "tagged OK tag=a1 kw=OK cmd=UID FETCH text=fetched range=75-90 lits=0/0 values:\n");

    mr_imap_parser *p = mr_imap_new(NULL);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"DONE\r\n", 6), MR_E_BAD_FIELD);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"a+ NOOP\r\n", 9), MR_E_BAD_FIELD);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"t1 AUTHENTICATE X\r\n", 19), 0);
    assert_int_equal(mr_imap_pending(p), 1);
    assert_true(mr_imap_in_sasl(p));
    assert_false(mr_imap_utf8(p));
    const char *in = "* ENABLED UTF8=ACCEPT\r\n";
    size_t used;
    mr_imap_event ev;
    assert_int_equal(mr_imap_next(p, (const uint8_t *)in, strlen(in), &used, &ev), MR_EV_RESPONSE);
    assert_true(mr_imap_utf8(p));
    mr_imap_reset(p);
    assert_int_equal(mr_imap_pending(p), 0);
    assert_false(mr_imap_in_sasl(p));
    assert_false(mr_imap_utf8(p));
    mr_imap_free(p);

    mr_options lim = opts(MR_LENIENT);
    lim.limits.max_pending = 2;
    p = mr_imap_new(&lim);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"a NOOP", 6), 0);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"b NOOP", 6), 0);
    assert_int_equal(mr_imap_expect_line(p, (const uint8_t *)"c NOOP", 6), MR_E_TOO_MANY_PENDING);
    mr_imap_free(p);
}

/* ---- strict mode -------------------------------------------------------- */

static void test_strict_spacing(void **state)
{
    (void)state;
    check_strict("a1 OK\r\n"
                 "* SEARCH  2 3 \r\n"
                 "* OK [ALERT]Hi\r\n"
                 "+go\r\n",
                 "tagged OK tag=a1 kw=OK greeting text= range=0-7 lits=0/0 values: diag@5{RFC 9051 9: no SP and text after the status keyword} diag@0{RFC 9051 7.1: the greeting is not an untagged OK, PREAUTH or BYE}\n"
                  "untagged SEARCH kw=SEARCH text= range=7-23 lits=0/0 values: n:2=2@17 n:3=3@19 diag@15{RFC 9051 9: the keyword is not followed by exactly one SP} diag@20{RFC 9051 9: values are separated by exactly one SP}\n"
                  "untagged OK kw=OK code=ALERT||0 text=Hi range=23-39 lits=0/0 values: diag@35{RFC 9051 9: no SP after a response code's \"]\"}\n"
                  "continuation + kw= text=go range=39-44 lits=0/0 values: diag@40{RFC 9051 9: no SP after \"+\"}\n");
    /* Lenient mode accepts the same with no diagnostics. */
    check_lenient("* SEARCH  2 3 \r\n",
                  "untagged SEARCH kw=SEARCH greeting text= range=0-16 lits=0/0 values: n:2=2@10 n:3=3@12\n");
}

/* ---- errors ------------------------------------------------------------- */

static void test_syntax_errors_are_not_fatal(void **state)
{
    (void)state;
    check_lenient("* 1 FETCH (UID 1\r\n"
                  "* 2 FETCH UID 1)\r\n"
                  "a1 FETCH 1\r\n"
                  "* FETCH (UID 1)\r\n"
                  "* 3 FLAGS ()\r\n"
                  "(x)\r\n"
                  "* LIST () \"/\" \"a\r\n"
                  "* XUNKNOWN \"a\r\n"
                  "* 4 EXISTS\r\n",
                  "ERROR BAD_SYNTAX@16 untagged FETCH num=1 kw=FETCH greeting text= range=0-18 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@33 untagged FETCH num=2 kw=FETCH text= range=18-36 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@36 tagged FETCH tag=a1 kw=FETCH text= range=36-48 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@48 untagged FETCH kw=FETCH text= range=48-65 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@65 untagged FLAGS num=3 kw=FLAGS text= range=65-79 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@79 tagged OTHER kw= text= range=79-84 lits=0/0 values:\n"
                  "ERROR BAD_SYNTAX@98 untagged LIST kw=LIST text= range=84-102 lits=0/0 values:\n"
                  "untagged OTHER kw=XUNKNOWN text=\"a range=102-117 lits=0/0 values:\n"
                  "untagged EXISTS num=4 kw=EXISTS text= range=117-129 lits=0/0 values:\n");
}

static void test_limits(void **state)
{
    (void)state;
    /* 100,000 nested "(" are a clean, non-fatal TOO_DEEP. */
    size_t depth = 100000;
    size_t n = 12 + depth + 2 + 13;
    char *in = malloc(n + 1);
    assert_non_null(in);
    memcpy(in, "* 1 FETCH (", 11);
    memset(in + 11, '(', depth + 1);
    memcpy(in + 12 + depth, "\r\n* 2 EXISTS\r\n", 14);
    n = strlen(in);
    mr_options o = opts(MR_LENIENT);
    o.limits.max_line = 1 << 20;
    char *got = parse_with(NULL, in, n, &o, 0, 0);
    assert_string_equal(got, "ERROR TOO_DEEP@110 untagged FETCH num=1 kw=FETCH greeting text= "
                             "range=0-100014 lits=0/0 values:\n"
                             "untagged EXISTS num=2 kw=EXISTS text= range=100014-100026 lits=0/0 values:\n");
    free(got);
    free(in);

    o = opts(MR_LENIENT);
    o.limits.max_depth = 2;
    check(NULL, "* X ((a))\r\n* X (((a)))\r\n", &o,
          "untagged OTHER kw=X greeting text= range=0-11 lits=0/0 values: ((a:a@6)@5)@4\n"
                  "ERROR TOO_DEEP@17 untagged OTHER kw=X text= range=11-24 lits=0/0 values:\n");

    o = opts(MR_LENIENT);
    o.limits.max_items = 4;
    check(NULL, "* X (a b) c\r\n* X (a b c d)\r\n", &o,
          "untagged OTHER kw=X greeting text= range=0-13 lits=0/0 values: (a:a@5 a:b@7)@4 a:c@10\n"
                  "ERROR TOO_MANY_ITEMS@24 untagged OTHER kw=X text= range=13-28 lits=0/0 values:\n");

    /* Literal size: over max_body, and over 64 bits; both fatal, at the "{". */
    o = opts(MR_LENIENT);
    o.limits.max_body = 100;
    check(NULL, "* 1 FETCH (BODY[] {100}\r\n", &o, "ERROR UNEXPECTED_EOF@25 \n");
    check(NULL, "* 1 FETCH (BODY[] {101}\r\nxx", &o, "ERROR LITERAL_TOO_LARGE@18 \n");
    check_lenient("* 1 FETCH (BODY[] {18446744073709551616}\r\n", "ERROR LITERAL_TOO_LARGE@18 \n");

    /* A kept literal is counted against max_memory at its "{", whatever the chunking. */
    o = opts(MR_LENIENT);
    o.limits.max_memory = 1000;
    o.limits.stream_threshold = 5000;
    check(NULL, "* 1 FETCH (BODY[] {2000}\r\nxx", &o, "ERROR MEMORY_LIMIT@18 \n");

    /* Line length. */
    o = opts(MR_LENIENT);
    o.limits.max_line = 10;
    check(NULL, "* OK 12345678901234\r\n", &o, "ERROR LINE_TOO_LONG@10 \n");

    /* The end of the stream inside a line, inside a literal, between responses. */
    check_lenient("* OK x\r\n* 1 FETCH (", "untagged OK kw=OK greeting text=x range=0-8 lits=0/0 values:\n"
                  "ERROR UNEXPECTED_EOF@19 \n");
    check_lenient("* 1 FETCH (BODY[] {5}\r\nab", "ERROR UNEXPECTED_EOF@25 \n");
    check_lenient("* 1 FETCH (BODY[] {5}\r\nabcde", "ERROR UNEXPECTED_EOF@28 \n");
}

/* Every allocation failing in turn: a clean NO_MEMORY, no leak. */
static void test_failing_allocator(void **state)
{
    (void)state;
    const char *in = "* OK [CAPABILITY IMAP4rev1] hi\r\n"
                     "* 1 FETCH (FLAGS (\\Seen) BODY[HEADER] {5}\r\nab\r\nc \"q\\\"\" (a (b)))\r\n"
                     "+ x\r\n";
    size_t n = strlen(in);
    for (size_t k = 1; k < 200; k++) {
        mr_fail_alloc fa;
        mr_fail_alloc_init(&fa, k);
        mr_options o = opts(MR_STRICT);
        o.alloc = &fa.a;
        mr_imap_parser *p = mr_imap_new(&o);
        if (p) {
            mr_imap_expect_line(p, (const uint8_t *)"a1 NOOP", 7);
            int fatal = mr_imap_feed(p, in, n, 7, 0, NULL, NULL);
            if (fatal)
                assert_int_equal(fatal, MR_E_NO_MEMORY);
            mr_imap_free(p);
        }
        assert_int_equal(fa.in_use, 0);
        if (!fa.failed)
            return; /* every allocation has had its turn */
    }
    fail_msg("more than 200 allocations");
}

/* Feeding byte by byte costs the same as feeding whole (no re-scan). */
static void test_linear_cost(void **state)
{
    (void)state;
    /* One response of 4 MB in 200,000 pieces (literals), fed byte by byte. */
    mr_sbuf b = {0};
    mr_sb_add(&b, "* 1 FETCH (X (", 14);
    for (int i = 0; i < 200000; i++)
        mr_sb_add(&b, "{3}\r\nabc ", 9);
    mr_sb_add(&b, "))\r\n", 4);
    mr_options o = opts(MR_LENIENT);
    o.limits.max_items = 1 << 22;
    mr_imap_parser *p = mr_imap_new(&o);
    int got = 0;
    for (size_t i = 0; i < b.len; i++) {
        size_t used;
        mr_imap_event ev;
        mr_event_type t;
        size_t off = 0;
        while ((t = mr_imap_next(p, (const uint8_t *)b.s + i + off, 1 - off, &used, &ev)) != MR_EV_NEED_MORE) {
            off += used;
            assert_int_equal(t, MR_EV_RESPONSE);
            assert_int_equal(ev.response->n_literals, 200000);
            got++;
        }
    }
    assert_int_equal(got, 1);
    mr_imap_free(p);
    mr_sb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_literal_contexts),
        cmocka_unit_test(test_literal_marker),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_streaming_memory),
        cmocka_unit_test(test_tags_and_sasl),
        cmocka_unit_test(test_strict_spacing),
        cmocka_unit_test(test_syntax_errors_are_not_fatal),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_failing_allocator),
        cmocka_unit_test(test_linear_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
