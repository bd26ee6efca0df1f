/*
 * test_pop3.c - unit tests of the POP3 response parser (parsers/pop3/).
 *
 * Each test asserts real fields; every input is also run through every
 * chunking (whole, byte by byte, every piece size up to 17, a split at
 * every position) with the input placed right before a guard page, and
 * the serialised results must be identical.  Data-driven cases over the
 * RFC examples live in tests/data/pop3/ and run through the CLI.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mr_testutil.h"
#include "pop3/mr_pop3.h"

/* ---- harness ------------------------------------------------------------ */

static void dump_response(mr_sbuf *b, const mr_pop3_response *r)
{
    const char *st = mr_pop3_status_name(r->status);
    mr_sb_printf(b, "%s %s", mr_pop3_cmd_name(r->cmd), st ? st : "(none)");
    if (r->code.len) {
        mr_sb_printf(b, " [%s:", mr_pop3_code_name(r->code_kind));
        mr_sb_span(b, r->code);
        mr_sb_add(b, "]", 1);
    }
    mr_sb_add(b, " text=", 6);
    mr_sb_span(b, r->text);
    mr_sb_printf(b, " range=%llu-%llu", (unsigned long long)r->offset, (unsigned long long)r->end);
    if (r->multiline) {
        mr_sb_printf(b, " body=%llu streamed=%d lines=", (unsigned long long)r->body_bytes, r->streamed);
        for (size_t i = 0; i < r->n_lines; i++) {
            mr_sb_add(b, "|", 1);
            mr_sb_bytes(b, r->lines[i].ptr, r->lines[i].len);
            mr_sb_printf(b, "@%llu/%u", (unsigned long long)r->lines[i].offset, r->lines[i].eol);
        }
    }
    if (r->timestamp.len) {
        mr_sb_add(b, " ts=", 4);
        mr_sb_span(b, r->timestamp);
    }
    if (r->cmd == MR_POP3_STAT && r->status == MR_POP3_STATUS_OK)
        mr_sb_printf(b, " count=%llu size=%llu", (unsigned long long)r->count, (unsigned long long)r->size);
    for (size_t i = 0; i < r->n_entries; i++) {
        mr_sb_printf(b, " e%llu:%llu:", (unsigned long long)r->entries[i].msg, (unsigned long long)r->entries[i].size);
        mr_sb_span(b, r->entries[i].uid);
    }
    for (size_t i = 0; i < r->n_capas; i++) {
        const mr_pop3_capa *k = &r->capas[i];
        mr_sb_printf(b, " capa:%s:", mr_pop3_capa_kind_name(k->kind));
        mr_sb_span(b, k->name);
        for (size_t j = 0; j < k->n_params; j++) {
            mr_sb_add(b, ",", 1);
            mr_sb_span(b, k->params[j]);
        }
        mr_sb_printf(b, "#%llu/%d/%d/%d", (unsigned long long)k->number, k->has_number, k->never, k->per_user);
    }
    if (r->status == MR_POP3_STATUS_CONT && r->sasl.ptr) {
        mr_sb_add(b, " sasl=", 6);
        mr_sb_span(b, r->sasl);
    }
    for (size_t i = 0; i < r->n_items; i++) {
        mr_sb_add(b, " item=", 6);
        mr_sb_span(b, r->items[i]);
    }
    for (size_t i = 0; i < r->n_diags; i++)
        mr_sb_printf(b, " diag@%llu{%s: %s}", (unsigned long long)r->diags[i].offset, r->diags[i].ref,
                     r->diags[i].message);
}

typedef struct feed_result {
    mr_sbuf out;
    mr_sbuf body; /* concatenated chunks of the current streamed body */
    int fatal;
} feed_result;

static void on_event(feed_result *fr, mr_event_type t, const mr_pop3_event *ev)
{
    if (t == MR_EV_BODY_CHUNK) {
        assert_true(ev->chunk.len > 0);
        mr_sb_add(&fr->body, ev->chunk.ptr, ev->chunk.len);
        return;
    }
    if (t == MR_EV_ERROR)
        mr_sb_printf(&fr->out, "ERROR %s@%llu ", mr_errcode_name(ev->error.code),
                     (unsigned long long)ev->error.offset);
    if (ev->response) {
        dump_response(&fr->out, ev->response);
        if (ev->response->streamed) {
            assert_int_equal(fr->body.len, ev->response->body_bytes);
            mr_sb_add(&fr->out, " chunks=", 8);
            mr_sb_bytes(&fr->out, (const uint8_t *)fr->body.s, fr->body.len);
        }
        fr->body.len = 0;
    }
    mr_sb_add(&fr->out, "\n", 1);
    if (t == MR_EV_ERROR && mr_errcode_is_fatal(ev->error.code))
        fr->fatal = 1;
}

/*
 * Parse `in` after queueing `cmds` (newline-separated command lines; NULL
 * for none), feeding pieces of `piece` bytes (0 = whole), or two pieces
 * split at `split` when piece == SIZE_MAX.  Each piece is copied right
 * before a guard page and scribbled over after it is consumed.
 */
static char *parse_with(const char *cmds, const uint8_t *in, size_t n, const mr_options *opt, size_t piece,
                        size_t split)
{
    mr_pop3_parser *p = mr_pop3_new(opt);
    assert_non_null(p);
    if (cmds) {
        const char *s = cmds;
        while (*s) {
            const char *e = strchr(s, '\n');
            size_t l = e ? (size_t)(e - s) : strlen(s);
            assert_int_equal(mr_pop3_expect_line(p, (const uint8_t *)s, l), 0);
            s += l + (e ? 1 : 0);
        }
    }
    feed_result fr;
    memset(&fr, 0, sizeof fr);
    mr_sb_add(&fr.out, "", 0);
    mr_guard g;
    mr_guard_init(&g, n ? n : 1);
    size_t pos = 0;
    while (pos < n && !fr.fatal) {
        size_t k = n - pos;
        if (piece == SIZE_MAX)
            k = pos < split ? split - pos : n - pos;
        else if (piece && piece < k)
            k = piece;
        const uint8_t *buf = mr_guard_copy(&g, in + pos, k);
        size_t off = 0, used;
        mr_pop3_event ev;
        for (;;) {
            mr_event_type t = mr_pop3_next(p, buf + off, k - off, &used, &ev);
            assert_true(used <= k - off);
            off += used;
            if (t == MR_EV_NEED_MORE)
                break;
            on_event(&fr, t, &ev);
            if (fr.fatal)
                break;
        }
        if (!fr.fatal)
            assert_int_equal(off, k); /* NEED_MORE means everything was consumed */
        mr_guard_scribble(&g);
        pos += k;
    }
    if (!fr.fatal) {
        mr_pop3_event ev;
        mr_event_type t;
        while ((t = mr_pop3_finish(p, &ev)) != MR_EV_NEED_MORE) {
            on_event(&fr, t, &ev);
            if (t == MR_EV_ERROR)
                break;
        }
        if (t == MR_EV_NEED_MORE)
            assert_int_equal(mr_pop3_offset(p), n);
    }
    mr_guard_free(&g);
    mr_pop3_free(p);
    mr_sb_free(&fr.body);
    return fr.out.s;
}

/* Parse whole, then assert every other chunking gives the same output. */
static char *parse_all_ways(const char *cmds, const char *in, size_t n, const mr_options *opt)
{
    const uint8_t *u = (const uint8_t *)in;
    char *whole = parse_with(cmds, u, n, opt, 0, 0);
    for (size_t piece = 1; piece <= 17; piece++) {
        char *o = parse_with(cmds, u, n, opt, piece, 0);
        if (strcmp(o, whole) != 0)
            fail_msg("piece %zu differs:\nwhole: %s\nthis:  %s", piece, whole, o);
        free(o);
    }
    for (size_t s = 1; s < n; s++) {
        char *o = parse_with(cmds, u, n, opt, SIZE_MAX, s);
        if (strcmp(o, whole) != 0)
            fail_msg("split at %zu differs:\nwhole: %s\nthis:  %s", s, whole, o);
        free(o);
    }
    return whole;
}

static mr_options lenient(void)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    return o;
}

static mr_options strict(void)
{
    mr_options o = lenient();
    o.mode = MR_STRICT;
    return o;
}

#define S(x) x, sizeof(x) - 1

static void expect_output(const char *cmds, const char *in, size_t n, mr_options o, const char *want)
{
    char *got = parse_all_ways(cmds, in, n, &o);
    if (strcmp(got, want) != 0)
        fail_msg("output differs:\nwant: %s\ngot:  %s", want, got);
    free(got);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_greeting_apop_timestamp(void **state)
{
    (void)state;
    /* RFC 1939 7 (APOP example) */
    expect_output(NULL, S("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"), lenient(),
                  "greeting +OK text=POP3 server ready <1896.697170952@dbc.mtview.ca.us> range=0-57"
                  " ts=<1896.697170952@dbc.mtview.ca.us>\n");
}

static void test_stat_list_uidl(void **state)
{
    (void)state;
    /* RFC 1939 5 and 7 examples */
    expect_output("STAT\nLIST\nLIST 2\nLIST 3\nUIDL\nUIDL 2",
                  S("+OK ready\r\n"
                    "+OK 2 320\r\n"
                    "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"
                    "+OK 2 200\r\n"
                    "-ERR no such message, only 2 messages in maildrop\r\n"
                    "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"
                    "+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
                  lenient(),
                  "greeting +OK text=ready range=0-11\n"
                  "stat +OK text=2 320 range=11-22 count=2 size=320\n"
                  "list +OK text=2 messages (320 octets) range=22-68 body=14 streamed=0 lines=|1 120@51/2|2 200@58/2"
                  " e1:120: e2:200:\n"
                  "list-one +OK text=2 200 range=68-79 e2:200:\n"
                  "list-one -ERR text=no such message, only 2 messages in maildrop range=79-130\n"
                  "uidl +OK text= range=130-188 body=50 streamed=0 lines=|1 whqtswO00WBw418f9t5JxYwZ@135/2"
                  "|2 QhdPYR:00WBw1Ph7x7@163/2 e1:0:whqtswO00WBw418f9t5JxYwZ e2:0:QhdPYR:00WBw1Ph7x7\n"
                  "uidl-one +OK text=2 QhdPYR:00WBw1Ph7x7 range=188-214 e2:0:QhdPYR:00WBw1Ph7x7\n");
}

static void test_capa_every_capability(void **state)
{
    (void)state;
    /* RFC 2449 5 example plus every capability of RFC 2449 6, 5034, 6856, 2595 */
    expect_output("CAPA",
                  S("+OK hi\r\n"
                    "+OK Capability list follows\r\n"
                    "TOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900 USER\r\n"
                    "PIPELINING\r\nEXPIRE NEVER\r\nEXPIRE 60 USER\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n"
                    "STLS\r\nUTF8 USER\r\nAUTH-RESP-CODE\r\nLANG\r\nX-FOO a b\r\n.\r\n"),
                  lenient(),
                  "greeting +OK text=hi range=0-8\n"
                  "capa +OK text=Capability list follows range=8-247 body=207 streamed=0 lines=|TOP@37/2|USER@42/2"
                  "|SASL CRAM-MD5 KERBEROS_V4@48/2|RESP-CODES@75/2|LOGIN-DELAY 900 USER@87/2|PIPELINING@109/2"
                  "|EXPIRE NEVER@121/2|EXPIRE 60 USER@135/2|UIDL@151/2|IMPLEMENTATION Shlemazle-Plotz-v302@157/2"
                  "|STLS@194/2|UTF8 USER@200/2|AUTH-RESP-CODE@211/2|LANG@227/2|X-FOO a b@233/2"
                  " capa:top:TOP#0/0/0/0 capa:user:USER#0/0/0/0 capa:sasl:SASL,CRAM-MD5,KERBEROS_V4#0/0/0/0"
                  " capa:resp-codes:RESP-CODES#0/0/0/0 capa:login-delay:LOGIN-DELAY,900,USER#900/1/0/1"
                  " capa:pipelining:PIPELINING#0/0/0/0 capa:expire:EXPIRE,NEVER#0/0/1/0"
                  " capa:expire:EXPIRE,60,USER#60/1/0/1 capa:uidl:UIDL#0/0/0/0"
                  " capa:implementation:IMPLEMENTATION,Shlemazle-Plotz-v302#0/0/0/0 capa:stls:STLS#0/0/0/0"
                  " capa:utf8:UTF8,USER#0/0/0/1 capa:auth-resp-code:AUTH-RESP-CODE#0/0/0/0 capa:lang:LANG#0/0/0/0"
                  " capa:other:X-FOO,a,b#0/0/0/0\n");
}

static void test_resp_codes(void **state)
{
    (void)state;
    /* RFC 2449 8.1, RFC 3206, RFC 6856 */
    expect_output("PASS x\nPASS x\nPASS x\nPASS x\nPASS x\nPASS x\nUTF8\nPASS x",
                  S("+OK\r\n"
                    "-ERR [IN-USE] Do you have another POP session running?\r\n"
                    "-ERR [LOGIN-DELAY] wait\r\n"
                    "-ERR [SYS/TEMP] later\r\n"
                    "-ERR [SYS/PERM] never\r\n"
                    "-ERR [AUTH] bad password\r\n"
                    "-ERR [X-NEW/SUB] what\r\n"
                    "-ERR [UTF8] not supported\r\n"
                    "-ERR [SYS/QUOTA]\r\n"),
                  lenient(),
                  "greeting +OK text= range=0-5\n"
                  "pass -ERR [in-use:IN-USE] text=Do you have another POP session running? range=5-61\n"
                  "pass -ERR [login-delay:LOGIN-DELAY] text=wait range=61-86\n"
                  "pass -ERR [sys-temp:SYS/TEMP] text=later range=86-109\n"
                  "pass -ERR [sys-perm:SYS/PERM] text=never range=109-132\n"
                  "pass -ERR [auth:AUTH] text=bad password range=132-158\n"
                  "pass -ERR [other:X-NEW/SUB] text=what range=158-181\n"
                  "utf8 -ERR [utf8:UTF8] text=not supported range=181-208\n"
                  "pass -ERR [sys:SYS/QUOTA] text= range=208-226\n");
}

static void test_retr_dot_unstuffing(void **state)
{
    (void)state;
    /* RFC 1939 3: a line starting with "." is stuffed; "." alone ends */
    expect_output("RETR 1\nTOP 1 0",
                  S("+OK\r\n"
                    "+OK 120 octets\r\nSubject: x\r\n\r\n..\r\n...two\r\n.x\r\nend\r\n.\r\n"
                    "+OK\r\nSubject: x\r\n\r\n.\r\n"),
                  lenient(),
                  "greeting +OK text= range=0-5\n"
                  "retr +OK text=120 octets range=5-59 body=32 streamed=0 lines=|Subject: x@21/2|@33/2|.@35/2"
                  "|..two@39/2|x@47/2|end@51/2\n"
                  "top +OK text= range=59-81 body=14 streamed=0 lines=|Subject: x@64/2|@76/2\n");
}

static void test_streamed_body_matches_whole(void **state)
{
    (void)state;
    const char in[] = "+OK\r\n+OK\r\nline one\r\n..dotted\r\n\r\n..\r\nlast\n.\r\n+OK bye\r\n";
    mr_options o = lenient();
    o.limits.stream_threshold = 1;
    expect_output("RETR 1\nQUIT", in, sizeof in - 1, o,
                  "greeting +OK text= range=0-5\n"
                  "retr +OK text= range=5-44 body=29 streamed=1 lines= chunks=line one\\r\\n.dotted\\r\\n\\r\\n.\\r\\nlast\\n\n"
                  "quit +OK text=bye range=44-53\n");
}

static void test_guess_framing(void **state)
{
    (void)state;
    /* Raw server bytes, no commands known: the line after +OK decides. */
    expect_output(NULL,
                  S("+OK hi\r\n+OK 2 320\r\n+OK list\r\n1 120\r\n.\r\n-ERR no\r\n+ \r\n+OK\r\n+OK last\r\n"),
                  lenient(),
                  "greeting +OK text=hi range=0-8\n"
                  "other +OK text=2 320 range=8-19\n"
                  "other-multi +OK text=list range=19-39 body=7 streamed=0 lines=|1 120@29/2\n"
                  "other -ERR text=no range=39-48\n"
                  "auth + text= range=48-52 sasl=\n"
                  "other +OK text= range=52-57\n"
                  "other +OK text=last range=57-67\n");
}

static void test_sasl_continuations(void **state)
{
    (void)state;
    /* RFC 5034 4 */
    mr_pop3_parser *p = mr_pop3_new(NULL);
    assert_non_null(p);
    assert_int_equal(mr_pop3_expect(p, MR_POP3_AUTH), 0);
    assert_true(mr_pop3_in_sasl(p));
    const char in[] = "+OK\r\n+ \r\n+ dGVzdA==\r\n+OK logged in\r\n";
    const uint8_t *d = (const uint8_t *)in;
    size_t n = sizeof in - 1, off = 0, used;
    mr_pop3_event ev;
    assert_int_equal(mr_pop3_next(p, d, n, &used, &ev), MR_EV_RESPONSE); /* greeting */
    off += used;
    assert_int_equal(mr_pop3_next(p, d + off, n - off, &used, &ev), MR_EV_RESPONSE);
    off += used;
    assert_int_equal(ev.response->status, MR_POP3_STATUS_CONT);
    assert_int_equal(ev.response->sasl.len, 0);
    assert_true(mr_pop3_in_sasl(p));
    assert_int_equal(mr_pop3_next(p, d + off, n - off, &used, &ev), MR_EV_RESPONSE);
    off += used;
    assert_int_equal(ev.response->cmd, MR_POP3_AUTH);
    assert_int_equal(ev.response->sasl.len, 4);
    assert_memory_equal(ev.response->sasl.ptr, "test", 4);
    assert_int_equal(mr_pop3_pending(p), 1);
    assert_int_equal(mr_pop3_next(p, d + off, n - off, &used, &ev), MR_EV_RESPONSE);
    off += used;
    assert_int_equal(ev.response->status, MR_POP3_STATUS_OK);
    assert_false(mr_pop3_in_sasl(p));
    assert_int_equal(mr_pop3_pending(p), 0);
    assert_int_equal(mr_pop3_next(p, d + off, n - off, &used, &ev), MR_EV_NEED_MORE);
    mr_pop3_free(p);

    /* "+" answering another command answers it, as poplib takes it. */
    expect_output("NOOP\nSTAT", S("+OK\r\n+ what\r\n+OK 1 2\r\n"), strict(),
                  "greeting +OK text= range=0-5\n"
                  "noop + text=what range=5-13 diag@5{RFC 5034 4: continuation outside an AUTH exchange}\n"
                  "stat +OK text=1 2 range=13-22 count=1 size=2\n");
    expect_output("AUTH PLAIN", S("+OK\r\n+ !!!\r\n-ERR\r\n"), lenient(),
                  "greeting +OK text= range=0-5\n"
                  "ERROR BAD_BASE64@7 auth + text=!!! range=5-12\n"
                  "auth -ERR text= range=12-18\n");
}

static void test_auth_and_lang_lists(void **state)
{
    (void)state;
    expect_output("AUTH\nLANG", S("+OK\r\n+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n+OK\r\nen English\r\nde Deutsch\r\n.\r\n"),
                  lenient(),
                  "greeting +OK text= range=0-5\n"
                  "auth-list +OK text= range=5-27 body=14 streamed=0 lines=|PLAIN@10/2|LOGIN@17/2 item=PLAIN item=LOGIN\n"
                  "lang-list +OK text= range=27-59 body=24 streamed=0 lines=|en English@32/2|de Deutsch@44/2"
                  " item=en item=de\n");
}

static void test_strict_diagnostics(void **state)
{
    (void)state;
    const char in[] = "+ok hi\n+OKfine\r\n+OK  two\r\n-ERR [BAD\r\n+OK\r\nSASL\r\nLOGIN-DELAY x\r\nTOP 1\r\n.\r\n";
    const char *cmds = "NOOP\nNOOP\nNOOP\nCAPA";
    /* Lenient: same results, no diagnostics. */
    expect_output(cmds, in, sizeof in - 1, lenient(),
                  "greeting +OK text=hi range=0-7\n"
                  "noop +OK text=fine range=7-16\n"
                  "noop +OK text=two range=16-26\n"
                  "noop -ERR text=[BAD range=26-37\n"
                  "capa +OK text= range=37-73 body=28 streamed=0 lines=|SASL@42/2|LOGIN-DELAY x@48/2|TOP 1@63/2"
                  " capa:sasl:SASL#0/0/0/0 capa:login-delay:LOGIN-DELAY,x#0/0/0/0 capa:top:TOP,1#0/0/0/0\n");
    expect_output(cmds, in, sizeof in - 1, strict(),
                  "greeting +OK text=hi range=0-7 diag@6{RFC 1939 3: line ends in a bare LF instead of CRLF}"
                  " diag@0{RFC 1939 3: status indicator is not in upper case}\n"
                  "noop +OK text=fine range=7-16 diag@10{RFC 1939 3: status indicator is not followed by SP or CRLF}\n"
                  "noop +OK text=two range=16-26 diag@20{RFC 2449 3: more than one SP after the status indicator}\n"
                  "noop -ERR text=[BAD range=26-37 diag@31{RFC 2449 8: '[' opens a response code that is never closed}\n"
                  "capa +OK text= range=37-73 body=28 streamed=0 lines=|SASL@42/2|LOGIN-DELAY x@48/2|TOP 1@63/2"
                  " capa:sasl:SASL#0/0/0/0 capa:login-delay:LOGIN-DELAY,x#0/0/0/0 capa:top:TOP,1#0/0/0/0"
                  " diag@42{RFC 2449 6.3: SASL lists no mechanism}"
                  " diag@48{RFC 2449 6: LOGIN-DELAY takes seconds, then optionally USER}"
                  " diag@67{RFC 2449 6: this capability takes no argument}\n");
}

static void test_field_errors_keep_stream(void **state)
{
    (void)state;
    /* Non-fatal errors: the response is consumed and parsing goes on. */
    expect_output("STAT\nLIST 1\nUIDL\nNOOP\nNOOP",
                  S("+OK\r\n+OK lots\r\n+OK 1\r\n+OK\r\n1 a\r\n.\r\n* nonsense\r\n+OK\r\n"),
                  lenient(),
                  "greeting +OK text= range=0-5\n"
                  "ERROR BAD_FIELD@5 stat +OK text=lots range=5-15 count=0 size=0\n"
                  "ERROR BAD_FIELD@15 list-one +OK text=1 range=15-22\n"
                  "uidl +OK text= range=22-35 body=5 streamed=0 lines=|1 a@27/2 e1:0:a\n"
                  "ERROR BAD_STATUS@35 noop (none) text=* nonsense range=35-47\n"
                  "noop +OK text= range=47-52\n");
    expect_output("LIST", S("+OK\r\n+OK\r\n1 120\r\nx 5\r\n.\r\n"), lenient(),
                  "greeting +OK text= range=0-5\n"
                  "ERROR BAD_FIELD@17 list +OK text= range=5-25 body=12 streamed=0 lines=|1 120@10/2|x 5@17/2 e1:120:\n");
}

static void test_fatal_errors_and_eof(void **state)
{
    (void)state;
    mr_options o = lenient();
    o.limits.max_line = 10;
    /* A line of exactly max_line bytes is fine; one more is an error at the 11th byte. */
    expect_output(NULL, S("+OK 456789\r\n+OK 4567890\r\n"), o,
                  "greeting +OK text=456789 range=0-12\nERROR LINE_TOO_LONG@22 \n");
    expect_output(NULL, S("+OK 4567890123456"), o, "ERROR LINE_TOO_LONG@10 \n");
    /* End of stream inside a body, inside a line. */
    expect_output("RETR 1", S("+OK\r\n+OK\r\nabc\r\n"), lenient(),
                  "greeting +OK text= range=0-5\nERROR UNEXPECTED_EOF@15 \n");
    expect_output(NULL, S("+OK\r\n+OK par"), lenient(), "greeting +OK text= range=0-5\nERROR UNEXPECTED_EOF@12 \n");
    /* Body limits. */
    o = lenient();
    o.limits.max_body = 8;
    expect_output("RETR 1", S("+OK\r\n+OK\r\n1234\r\n5678\r\n.\r\n"), o,
                  "greeting +OK text= range=0-5\nERROR BODY_TOO_LARGE@18 \n");
    o = lenient();
    o.limits.max_lines = 2;
    expect_output("LIST", S("+OK\r\n+OK\r\n1 1\r\n2 2\r\n3 3\r\n.\r\n"), o,
                  "greeting +OK text= range=0-5\nERROR TOO_MANY_LINES@20 \n");
    o = lenient();
    o.limits.max_memory = 64 * 1024;
    o.limits.stream_threshold = SIZE_MAX;
    mr_sbuf big = {0};
    mr_sb_printf(&big, "+OK\r\n+OK\r\n");
    for (int i = 0; i < 5000; i++)
        mr_sb_printf(&big, "%d 1000\r\n", i);
    mr_sb_printf(&big, ".\r\n");
    char *got = parse_with("LIST", (const uint8_t *)big.s, big.len, &o, 0, 0);
    assert_non_null(strstr(got, "ERROR MEMORY_LIMIT@"));
    /* max_memory bounds the logical size: the same byte however it is fed. */
    static const size_t pieces[] = {1, 7, 4096};
    for (size_t i = 0; i < 3; i++) {
        char *other = parse_with("LIST", (const uint8_t *)big.s, big.len, &o, pieces[i], 0);
        assert_string_equal(other, got);
        free(other);
    }
    free(got);
    mr_sb_free(&big);
}

static void test_fatal_error_is_sticky(void **state)
{
    (void)state;
    mr_options o = lenient();
    o.limits.max_line = 4;
    mr_pop3_parser *p = mr_pop3_new(&o);
    mr_pop3_event ev;
    size_t used;
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)"+OK xyz\r\n", 9, &used, &ev), MR_EV_ERROR);
    assert_int_equal(ev.error.code, MR_E_LINE_TOO_LONG);
    assert_int_equal(ev.error.offset, 4);
    assert_non_null(ev.error.detail);
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)"+OK\r\n", 5, &used, &ev), MR_EV_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(ev.error.code, MR_E_LINE_TOO_LONG);
    assert_int_equal(mr_pop3_finish(p, &ev), MR_EV_ERROR);
    mr_pop3_reset(p);
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)"+OK\r\n", 5, &used, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.response->cmd, MR_POP3_GREETING);
    mr_pop3_free(p);
}

static void test_pending_limit_and_usage(void **state)
{
    (void)state;
    mr_options o = lenient();
    o.limits.max_pending = 3;
    mr_pop3_parser *p = mr_pop3_new(&o);
    for (int i = 0; i < 3; i++)
        assert_int_equal(mr_pop3_expect(p, MR_POP3_NOOP), 0);
    assert_int_equal(mr_pop3_expect(p, MR_POP3_NOOP), MR_E_TOO_MANY_PENDING);
    assert_int_equal(mr_pop3_expect(p, MR_POP3_GREETING), MR_E_USAGE);
    assert_int_equal(mr_pop3_expect(p, (mr_pop3_cmd)999), MR_E_USAGE);
    mr_pop3_free(p);
    mr_pop3_free(NULL);
}

static void test_classify(void **state)
{
    (void)state;
    static const struct { const char *line; mr_pop3_cmd want; } t[] = {
        {"LIST\r\n", MR_POP3_LIST},       {"list 3\r\n", MR_POP3_LIST_ONE}, {"UIDL", MR_POP3_UIDL},
        {"UIDL 1 ", MR_POP3_UIDL_ONE},    {"TOP 1 10", MR_POP3_TOP},        {"RETR 2", MR_POP3_RETR},
        {"AUTH\r\n", MR_POP3_AUTH_LIST},  {"AUTH PLAIN", MR_POP3_AUTH},     {"CAPA", MR_POP3_CAPA},
        {"STLS", MR_POP3_STLS},           {"LANG", MR_POP3_LANG_LIST},      {"LANG fr", MR_POP3_LANG},
        {"XTND XMIT", MR_POP3_OTHER},     {"", MR_POP3_OTHER},              {"APOP a b", MR_POP3_APOP},
        {"QUIT\r\n", MR_POP3_QUIT},       {"UTF8", MR_POP3_UTF8},           {"  ", MR_POP3_OTHER},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(mr_pop3_cmd_classify((const uint8_t *)t[i].line, strlen(t[i].line)), t[i].want);
}

/* Results lie in the caller's buffer when the response did; else in the arena. */
static void test_zero_copy_and_pinning(void **state)
{
    (void)state;
    mr_pop3_parser *p = mr_pop3_new(NULL);
    mr_pop3_expect(p, MR_POP3_LIST);
    static const char in[] = "+OK hi\r\n";
    mr_pop3_event ev;
    size_t used;
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)in, 8, &used, &ev), MR_EV_RESPONSE);
    assert_ptr_equal(ev.response->text.ptr, (const uint8_t *)in + 4);
    /* A LIST whose first half is fed from a buffer that is then overwritten. */
    char buf[64];
    strcpy(buf, "+OK\r\n1 120\r\n2 2");
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)buf, strlen(buf), &used, &ev), MR_EV_NEED_MORE);
    memset(buf, 'Z', sizeof buf);
    strcpy(buf, "00\r\n.\r\n");
    assert_int_equal(mr_pop3_next(p, (const uint8_t *)buf, strlen(buf), &used, &ev), MR_EV_RESPONSE);
    assert_int_equal(ev.response->n_entries, 2);
    assert_int_equal(ev.response->entries[0].size, 120);
    assert_int_equal(ev.response->entries[1].size, 200);
    assert_memory_equal(ev.response->lines[0].ptr, "1 120", 5);
    mr_pop3_free(p);
}

/* A 100 MB message streams through with bounded parser memory. */
static void test_100mb_body_bounded_memory(void **state)
{
    (void)state;
    mr_fail_alloc fa;
    mr_fail_alloc_init(&fa, 0);
    mr_options o = lenient();
    o.alloc = &fa.a;
    mr_pop3_parser *p = mr_pop3_new(&o);
    mr_pop3_expect(p, MR_POP3_RETR);
    const size_t total = (size_t)100 * 1024 * 1024;
    /* 76-byte lines, every 10th dot-stuffed, fed in 64 KiB reads. */
    char line[80];
    memset(line, 'x', 76);
    line[76] = '\r';
    line[77] = '\n';
    const size_t piece = 64 * 1024;
    uint8_t *buf = malloc(piece + 80);
    uint64_t want_body = 0, got_body = 0, chunks = 0, fed = 0;
    size_t fill = 0, nline = 0;
    int done = 0, saw_response = 0;
    memcpy(buf, "+OK\r\n+OK\r\n", 10);
    fill = 10;
    while (!done) {
        while (fill < piece && fed + fill < total) {
            int stuffed = nline++ % 10 == 0;
            if (stuffed) {
                buf[fill++] = '.';
                buf[fill++] = '.';
            }
            memcpy(buf + fill, line, 78);
            fill += 78;
            want_body += stuffed ? 79 : 78;
        }
        if (fed + fill >= total) {
            memcpy(buf + fill, ".\r\n", 3);
            fill += 3;
            done = 1;
        }
        size_t off = 0, used;
        mr_pop3_event ev;
        mr_event_type t;
        while ((t = mr_pop3_next(p, buf + off, fill - off, &used, &ev)) != MR_EV_NEED_MORE) {
            off += used;
            if (t == MR_EV_BODY_CHUNK) {
                got_body += ev.chunk.len;
                chunks++;
            } else {
                assert_int_equal(t, MR_EV_RESPONSE);
                if (ev.response->cmd == MR_POP3_RETR) {
                    saw_response = 1;
                    assert_true(ev.response->streamed);
                    assert_int_equal(ev.response->body_bytes, want_body);
                }
            }
        }
        fed += fill;
        fill = 0;
    }
    assert_true(saw_response);
    assert_int_equal(got_body, want_body);
    assert_true(chunks > 100);
    if (getenv("MR_TEST_VERBOSE"))
        fprintf(stderr, "100MB: body=%llu chunks=%llu peak=%zu\n", (unsigned long long)got_body, (unsigned long long)chunks, fa.peak);
    /* The parser never held more than a few MiB (threshold 1 MiB + copies). */
    assert_true(fa.peak < (size_t)4 * 1024 * 1024);
    mr_pop3_free(p);
    assert_int_equal(fa.in_use, 0);
    free(buf);
}

/* Feeding byte by byte a 4 MB multi-line response costs linear work. */
static void test_byte_by_byte_is_linear(void **state)
{
    (void)state;
    mr_options o = lenient();
    o.limits.max_line = 8 * 1024 * 1024;
    o.limits.stream_threshold = SIZE_MAX;
    mr_pop3_parser *p = mr_pop3_new(&o);
    mr_pop3_expect(p, MR_POP3_OTHER_MULTI);
    /* One 4 MB line: a re-scan per byte would be 8e12 steps and never end. */
    const size_t n = 4 * 1024 * 1024;
    uint8_t *in = malloc(n + 32);
    memcpy(in, "+OK\r\n+OK\r\n", 10);
    memset(in + 10, 'a', n);
    memcpy(in + 10 + n, "\r\n.\r\n", 5);
    size_t total = n + 15, responses = 0;
    for (size_t i = 0; i < total; i++) {
        size_t used;
        mr_pop3_event ev;
        mr_event_type t;
        size_t off = 0;
        while ((t = mr_pop3_next(p, in + i + off, 1 - off, &used, &ev)) != MR_EV_NEED_MORE) {
            off += used;
            assert_int_equal(t, MR_EV_RESPONSE);
            responses++;
            if (responses == 2)
                assert_int_equal(ev.response->lines[0].len, n);
        }
    }
    assert_int_equal(responses, 2);
    mr_pop3_free(p);
    free(in);
}

/* Every allocation failing in turn: a clean NO_MEMORY, never a crash or leak. */
static void test_failing_allocator(void **state)
{
    (void)state;
    const char in[] = "+OK <a@b>\r\n+OK\r\nTOP\r\nSASL PLAIN LOGIN\r\n.\r\n+OK 2 3\r\n+OK\r\n1 a\r\n2 b\r\n.\r\n"
                      "+ dGVzdA==\r\n+OK\r\n";
    int succeeded = 0;
    for (size_t fail_at = 1; fail_at < 200 && !succeeded; fail_at++) {
        mr_fail_alloc fa;
        mr_fail_alloc_init(&fa, fail_at);
        mr_options o = strict();
        o.alloc = &fa.a;
        mr_pop3_parser *p = mr_pop3_new(&o);
        if (!p) {
            assert_int_equal(fa.failed, 1);
            continue;
        }
        const char *cmds[] = {"CAPA", "STAT", "UIDL", "AUTH PLAIN"};
        int ok = 1;
        for (size_t i = 0; i < 4; i++)
            if (mr_pop3_expect_line(p, (const uint8_t *)cmds[i], strlen(cmds[i])) != 0)
                ok = 0;
        size_t responses = 0;
        for (size_t i = 0; ok && i < sizeof in - 1; i++) { /* byte by byte: most allocations */
            size_t used, off = 0;
            mr_pop3_event ev;
            mr_event_type t;
            while ((t = mr_pop3_next(p, (const uint8_t *)in + i + off, 1 - off, &used, &ev)) != MR_EV_NEED_MORE) {
                off += used;
                if (t == MR_EV_ERROR) {
                    assert_int_equal(ev.error.code, MR_E_NO_MEMORY);
                    ok = 0;
                    break;
                }
                responses++;
            }
        }
        if (ok) {
            assert_int_equal(responses, 6);
            succeeded = fa.failed == 0;
        }
        mr_pop3_free(p);
        assert_int_equal(fa.in_use, 0);
    }
    assert_true(succeeded);
}

/* Inputs that must parse identically however they are cut (guard page on). */
static void test_chunking_invariance_corpus(void **state)
{
    (void)state;
    static const struct { const char *cmds; const char *in; size_t len; } t[] = {
        {"CAPA\nUSER a\nPASS b\nSTAT\nLIST\nRETR 1\nDELE 1\nQUIT",
         "+OK POP3 ready <1.2@x>\r\n+OK\r\nUSER\r\nTOP\r\n.\r\n+OK\r\n+OK\r\n+OK 1 5\r\n+OK\r\n1 5\r\n.\r\n"
         "+OK\r\nabc\r\n..\r\n.\r\n+OK\r\n+OK bye\r\n", 0},
        {NULL, "+OK\n+OK a\n-ERR b\n+OK c\nbody\n..x\n.\n+ Zm9v\n", 0},
        {"RETR 1", "+OK\r\n+OK\r\n\r\n\r\n.\r\n", 0},
        {"NOOP\nNOOP", "+OK\r\r\n+OK a\rb\r\n-ERR \x00\xff\r\n", sizeof "+OK\r\r\n+OK a\rb\r\n-ERR \x00\xff\r\n" - 1},
    };
    mr_options modes[3] = {lenient(), strict(), lenient()};
    modes[2].limits.stream_threshold = 1;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (size_t m = 0; m < 3; m++) {
            size_t n = t[i].len ? t[i].len : strlen(t[i].in);
            free(parse_all_ways(t[i].cmds, t[i].in, n, &modes[m]));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_apop_timestamp),
        cmocka_unit_test(test_stat_list_uidl),
        cmocka_unit_test(test_capa_every_capability),
        cmocka_unit_test(test_resp_codes),
        cmocka_unit_test(test_retr_dot_unstuffing),
        cmocka_unit_test(test_streamed_body_matches_whole),
        cmocka_unit_test(test_guess_framing),
        cmocka_unit_test(test_sasl_continuations),
        cmocka_unit_test(test_auth_and_lang_lists),
        cmocka_unit_test(test_strict_diagnostics),
        cmocka_unit_test(test_field_errors_keep_stream),
        cmocka_unit_test(test_fatal_errors_and_eof),
        cmocka_unit_test(test_fatal_error_is_sticky),
        cmocka_unit_test(test_pending_limit_and_usage),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_zero_copy_and_pinning),
        cmocka_unit_test(test_100mb_body_bounded_memory),
        cmocka_unit_test(test_byte_by_byte_is_linear),
        cmocka_unit_test(test_failing_allocator),
        cmocka_unit_test(test_chunking_invariance_corpus),
    };
    return cmocka_run_group_tests_name("pop3", tests, NULL, NULL);
}
