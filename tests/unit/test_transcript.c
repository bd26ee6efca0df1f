/*
 * test_transcript.c - unit tests of the transcript reader and writer
 * (common/mr_transcript.h, docs/transcript.md): every escape, every error
 * path with its line and column, the bounds, and write -> read round trips
 * over all byte values.  Inputs are copied into exact-size heap buffers
 * with no terminating NUL, so a read past the end shows up under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mr_transcript.h"
#include "mr_utf8.h"

/* Read text[0..len) from an exact-size copy. */
static int read_n(const char *text, size_t len, const mr_transcript_limits *lim, mr_transcript *t,
                  mr_transcript_error *e)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;
    assert_non_null(copy);
    memcpy(copy, text, len);
    rc = mr_transcript_read(copy, len, lim, t, e);
    free(copy);
    return rc;
}

static int read_s(const char *text, mr_transcript *t, mr_transcript_error *e)
{
    return read_n(text, strlen(text), NULL, t, e);
}

/* The transcript must fail at line:col with a message containing msg. */
static void expect_error_n(const char *text, size_t len, const mr_transcript_limits *lim,
                           size_t line, size_t col, const char *msg)
{
    mr_transcript t;
    mr_transcript_error e;
    int rc = read_n(text, len, lim, &t, &e);
    if (rc == 0) {
        mr_transcript_cleanup(&t);
        fail_msg("expected an error at %zu:%zu (%s) for: %s", line, col, msg, text);
    }
    if (e.line != line || e.col != col || !strstr(e.message, msg))
        fail_msg("expected %zu:%zu: ...%s... got %zu:%zu: %s", line, col, msg, e.line, e.col,
                 e.message);
    assert_null(t.items);
}

static void expect_error(const char *text, size_t line, size_t col, const char *msg)
{
    expect_error_n(text, strlen(text), NULL, line, col, msg);
}

#define HDR "# mailrig transcript 1\n"

/* ------------------------------------------------------------- reading */

static void test_escapes(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    static const uint8_t want[] = {'\r', '\n', '\t', 0, '\\', '"', 'A', 0xff, 0xFF, 0xab,
                                   0xC3, 0xA9, ' ', '~', '\''};
    (void)state;
    assert_int_equal(read_s(HDR "S \"\\r\\n\\t\\0\\\\\\\"\\x41\\xff\\xFF\\xaB\xC3\xA9 ~'\"\n", &t, &e), 0);
    assert_int_equal(t.n_items, 1);
    assert_int_equal(t.items[0].kind, MR_TRANSCRIPT_SEGMENT);
    assert_int_equal(t.items[0].dir, 'S');
    assert_int_equal(t.items[0].has_time, 0);
    assert_int_equal(t.items[0].len, sizeof want);
    assert_memory_equal(t.items[0].bytes, want, sizeof want);
    mr_transcript_cleanup(&t);
}

static void test_raw_high_bytes(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    (void)state;
    /* Bytes 0x80-0xFF may stand for themselves, even when not valid UTF-8. */
    assert_int_equal(read_s(HDR "C \"\xff\xfe\x80\"\n", &t, &e), 0);
    assert_int_equal(t.items[0].len, 3);
    assert_memory_equal(t.items[0].bytes, "\xff\xfe\x80", 3);
    assert_int_equal(t.items[0].dir, 'C');
    mr_transcript_cleanup(&t);
}

static void test_full_example(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    const char *text = HDR
        "# protocol: pop3\n"
        "# server: dovecot 2.3.19.1 (Debian 12), 127.0.0.1  \n"
        "# a comment: with a colon but\n"
        "#no-space:here\n"
        "\n"
        "   \t\n"
        "S 0.000000 \"+OK Dovecot (Debian) ready.\\r\\n\"\n"
        "C 0.000412 \"CAPA\\r\\n\"\n"
        "S 0.000690 \"+OK\\r\\n\"\n"
        "+ \"CAPA\\r\\n\"\n"
        "# comments may sit between + lines\n"
        "+   \"TOP\\r\\n\"\t\n"
        "+ \".\\r\\n\"\n"
        "E 0.001000 tls\n"
        "C \"QUIT\\r\\n\"\n"
        "S 0.001311 \"+OK Logging out.\\r\\n\"\n"
        "E 0.001400 close  some args here \n"
        "E timeout\n"
        "S \"\"";  /* no LF at the end */
    (void)state;
    assert_int_equal(read_s(text, &t, &e), 0);
    assert_int_equal(t.version, 1);
    assert_int_equal(t.n_items, 11);

    assert_int_equal(t.items[0].kind, MR_TRANSCRIPT_META);
    assert_string_equal(t.items[0].name, "protocol");
    assert_string_equal(t.items[0].value, "pop3");
    assert_int_equal(t.items[0].line, 2);
    assert_string_equal(t.items[1].name, "server");
    assert_string_equal(t.items[1].value, "dovecot 2.3.19.1 (Debian 12), 127.0.0.1");

    assert_int_equal(t.items[2].kind, MR_TRANSCRIPT_SEGMENT);
    assert_int_equal(t.items[2].has_time, 1);
    assert_true(t.items[2].time == 0.0);
    assert_int_equal(t.items[2].line, 8);
    assert_int_equal(t.items[3].dir, 'C');
    assert_true(t.items[3].time > 0.000411 && t.items[3].time < 0.000413);

    assert_int_equal(t.items[4].len, strlen("+OK\r\nCAPA\r\nTOP\r\n.\r\n"));
    assert_memory_equal(t.items[4].bytes, "+OK\r\nCAPA\r\nTOP\r\n.\r\n", t.items[4].len);
    assert_int_equal(t.items[4].line, 10);

    assert_int_equal(t.items[5].kind, MR_TRANSCRIPT_EVENT);
    assert_string_equal(t.items[5].name, "tls");
    assert_string_equal(t.items[5].value, "");
    assert_int_equal(t.items[5].has_time, 1);

    assert_int_equal(t.items[6].has_time, 0);
    assert_string_equal(t.items[8].name, "close");
    assert_string_equal(t.items[8].value, "some args here");
    assert_string_equal(t.items[9].name, "timeout");
    assert_int_equal(t.items[9].has_time, 0);
    assert_int_equal(t.items[10].len, 0);
    assert_null(t.items[10].bytes);

    assert_string_equal(mr_transcript_meta(&t, "protocol", NULL), "pop3");
    assert_null(mr_transcript_meta(&t, "missing", NULL));
    {
        const mr_transcript_item *it = NULL;
        assert_non_null(mr_transcript_meta(&t, "server", &it));
        assert_int_equal(it->line, 3);
    }
    {
        size_t n;
        uint8_t *s = mr_transcript_concat(&t, 'S', &n);
        const char *want = "+OK Dovecot (Debian) ready.\r\n+OK\r\nCAPA\r\nTOP\r\n.\r\n"
                           "+OK Logging out.\r\n";
        assert_int_equal(n, strlen(want));
        assert_memory_equal(s, want, n);
        free(s);
        s = mr_transcript_concat(&t, 'C', &n);
        assert_int_equal(n, 12);
        assert_memory_equal(s, "CAPA\r\nQUIT\r\n", 12);
        free(s);
    }
    mr_transcript_cleanup(&t);
    mr_transcript_cleanup(&t); /* idempotent */
    mr_transcript_cleanup(NULL);
}

static void test_crlf_lines(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    (void)state;
    assert_int_equal(read_s("# mailrig transcript 1\r\n# k: v\r\nS \"a\"\r\n+ \"b\"\r\n", &t, &e), 0);
    assert_int_equal(t.n_items, 2);
    assert_string_equal(t.items[0].value, "v");
    assert_int_equal(t.items[1].len, 2);
    assert_memory_equal(t.items[1].bytes, "ab", 2);
    mr_transcript_cleanup(&t);
}

static void test_header_only(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    (void)state;
    assert_int_equal(read_s("# mailrig transcript 1", &t, &e), 0);
    assert_int_equal(t.n_items, 0);
    assert_null(t.items);
    mr_transcript_cleanup(&t);
}

static void test_nul_in_string_escape(void **state)
{
    mr_transcript t;
    mr_transcript_error e;
    (void)state;
    assert_int_equal(read_s(HDR "S \"a\\0b\\x00\"\n", &t, &e), 0);
    assert_int_equal(t.items[0].len, 4);
    assert_memory_equal(t.items[0].bytes, "a\0b\0", 4);
    mr_transcript_cleanup(&t);
}

/* ------------------------------------------------------------- errors */

static void test_err_header(void **state)
{
    (void)state;
    expect_error_n("", 0, NULL, 1, 1, "empty file");
    expect_error("S \"x\"\n", 1, 1, "not a mailrig transcript");
    expect_error("# mailrig transcript\n", 1, 1, "not a mailrig transcript");
    expect_error("# mailrig transcript 2\n", 1, 22, "unsupported transcript version 2");
    expect_error("# mailrig transcript x\n", 1, 22, "bad version");
    expect_error("# mailrig transcript 1 \n", 1, 23, "bad version");
    expect_error("\n# mailrig transcript 1\n", 1, 1, "not a mailrig transcript");
}

static void test_err_bounds(void **state)
{
    mr_transcript_limits lim = {0, 0, 0};
    char big[200];
    (void)state;
    lim.max_size = 30;
    expect_error_n(HDR "S \"0123456789\"\n", strlen(HDR "S \"0123456789\"\n"), &lim, 0, 0,
                   "larger than 30 bytes");
    lim.max_size = 0;
    lim.max_line = 24;
    expect_error_n(HDR "S \"0123456789012345678901\"\n", strlen(HDR) + 27, &lim, 2, 25,
                   "longer than 24 bytes");
    /* the header line is bounded too */
    lim.max_line = 10;
    expect_error_n(HDR, strlen(HDR), &lim, 1, 11, "longer than 10 bytes");
    lim.max_line = 0;
    lim.max_items = 3;
    snprintf(big, sizeof big, HDR "S \"a\"\n+ \"b\"\n# k: v\nE close\nC \"x\"\n");
    expect_error_n(big, strlen(big), &lim, 6, 1, "more than 3 items");
}

static void test_err_line_types(void **state)
{
    (void)state;
    expect_error(HDR "X \"a\"\n", 2, 1, "unknown line type 'X'");
    expect_error(HDR "s \"a\"\n", 2, 1, "unknown line type 's'");
    expect_error(HDR "\x01\n", 2, 1, "unknown line type 0x01");
    expect_error(HDR "  S \"a\"\n", 2, 1, "must not start with white space");
    expect_error(HDR "# ok\n#bad \x07 bell\n", 3, 6, "control byte 0x07 in a comment");
    expect_error(HDR "# k: v\x7f\n", 2, 7, "control byte 0x7F");
}

static void test_err_segments(void **state)
{
    (void)state;
    expect_error(HDR "S\"a\"\n", 2, 2, "expected a space after 'S'");
    expect_error(HDR "C\n", 2, 2, "expected a space after 'C'");
    expect_error(HDR "S \n", 2, 3, "expected a time or a quoted string");
    expect_error(HDR "S abc\n", 2, 3, "expected a time or a quoted string");
    expect_error(HDR "S 1.5\n", 2, 6, "expected a quoted string after the time");
    expect_error(HDR "S 1.5 x\n", 2, 7, "expected a quoted string after the time");
    expect_error(HDR "S 1.x \"a\"\n", 2, 3, "bad time");
    expect_error(HDR "S 1. \"a\"\n", 2, 3, "bad time");
    expect_error(HDR "S 1.2.3 \"a\"\n", 2, 3, "bad time");
    expect_error(HDR "S 12\"a\"\n", 2, 3, "bad time");
    expect_error(HDR "S 12345678901234567890123456789012345678901 \"a\"\n", 2, 3,
                 "time is longer than 40");
    expect_error(HDR "S \"abc\" x\n", 2, 9, "unexpected text after the closing quote");
    expect_error(HDR "S \"abc\"\"\n", 2, 8, "unexpected text after the closing quote");
}

static void test_err_strings(void **state)
{
    (void)state;
    expect_error(HDR "S \"ab\\qc\"\n", 2, 6, "unknown escape '\\q'");
    expect_error(HDR "S \"ab\\\x01\"\n", 2, 6, "followed by byte 0x01");
    expect_error(HDR "S \"ab\\x4\"\n", 2, 6, "\\x must be followed by two hex digits");
    expect_error(HDR "S \"ab\\xg0\"\n", 2, 6, "\\x must be followed by two hex digits");
    expect_error(HDR "S \"ab\\x", 2, 6, "\\x must be followed by two hex digits");
    expect_error(HDR "S \"ab\\\n", 2, 6, "'\\' at the end of the line");
    expect_error(HDR "S \"a\tb\"\n", 2, 5, "raw control byte 0x09");
    expect_error(HDR "S \"a\rb\"\n", 2, 5, "raw control byte 0x0D");
    expect_error(HDR "S \"a\x7f\"\n", 2, 5, "raw control byte 0x7F");
    expect_error_n(HDR "S \"a\0b\"\n", strlen(HDR) + 8, NULL, 2, 5, "raw control byte 0x00");
    expect_error(HDR "S \"abc\n", 2, 3, "has no closing quote");
    expect_error(HDR "S 0.5 \"abc", 2, 7, "has no closing quote");
    expect_error(HDR "S \"ok\"\n+ \"abc\\\"\n", 3, 3, "has no closing quote");
}

static void test_err_continuation(void **state)
{
    (void)state;
    expect_error(HDR "+ \"a\"\n", 2, 1, "must follow an S, C or '+' line");
    expect_error(HDR "S \"a\"\nE close\n+ \"a\"\n", 4, 1, "must follow");
    expect_error(HDR "S \"a\"\n# k: v\n+ \"a\"\n", 4, 1, "must follow");
    expect_error(HDR "S \"a\"\n+\"b\"\n", 3, 2, "expected a space after '+'");
    expect_error(HDR "S \"a\"\n+ 0.5 \"b\"\n", 3, 3, "a '+' line has no time");
    expect_error(HDR "S \"a\"\n+ \"b\" c\n", 3, 7, "unexpected text");
}

static void test_err_events(void **state)
{
    (void)state;
    expect_error(HDR "Eclose\n", 2, 2, "expected a space after 'E'");
    expect_error(HDR "E \n", 2, 3, "missing event name");
    expect_error(HDR "E 0.5\n", 2, 6, "missing event name");
    expect_error(HDR "E 0.5 \n", 2, 7, "missing event name");
    expect_error(HDR "E Close\n", 2, 3, "bad event name");
    expect_error(HDR "E \"close\"\n", 2, 3, "bad event name");
    expect_error(HDR "E clo$e\n", 2, 6, "bad character '$' in event name");
    expect_error(HDR "E closed\n", 2, 3, "unknown event 'closed'");
    expect_error(HDR "E 0.1x close\n", 2, 3, "bad time");
    expect_error(HDR "E close a\x1b b\n", 2, 10, "control byte 0x1B in event arguments");
}

/* ------------------------------------------------------------- writing */

static char *write_to_string(void (*fn)(FILE *), size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    fn(f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void write_simple(FILE *f)
{
    static const uint8_t seg[] = "+OK hi\r\nline \"two\"\\\r\n\x01\x7f\xff\tx\0\xC3\xA9\xE2\x82";
    assert_int_equal(mr_transcript_write_header(f, "pop3"), 0);
    assert_int_equal(mr_transcript_write_meta(f, "server", "test 1.0"), 0);
    assert_int_equal(mr_transcript_write_segment(f, 'S', 0.25, seg, sizeof seg - 1), 0);
    assert_int_equal(mr_transcript_write_segment(f, 'C', -1, (const uint8_t *)"QUIT\r\n", 6), 0);
    assert_int_equal(mr_transcript_write_segment(f, 'S', -1, NULL, 0), 0);
    assert_int_equal(mr_transcript_write_event(f, 1.5, "close", NULL), 0);
    assert_int_equal(mr_transcript_write_event(f, -1, "reset", "by peer"), 0);
}

static void test_write_format(void **state)
{
    size_t len;
    char *s = write_to_string(write_simple, &len);
    const char *want = "# mailrig transcript 1\n"
                       "# protocol: pop3\n"
                       "# server: test 1.0\n"
                       "S 0.250000 \"+OK hi\\r\\n\"\n"
                       "+ \"line \\\"two\\\"\\\\\\r\\n\"\n"
                       "+ \"\\x01\\x7f\\xff\\tx\\0\xC3\xA9\\xe2\\x82\"\n"
                       "C \"QUIT\\r\\n\"\n"
                       "S \"\"\n"
                       "E 1.500000 close\n"
                       "E reset by peer\n";
    (void)state;
    assert_string_equal(s, want);
    free(s);
}

static void test_write_rejects(void **state)
{
    FILE *f = fopen("/dev/null", "w");
    (void)state;
    assert_non_null(f);
    assert_int_equal(mr_transcript_write_segment(f, 'X', -1, NULL, 0), -1);
    assert_int_equal(mr_transcript_write_segment(f, 'S', 1e13, NULL, 0), -1);
    assert_int_equal(mr_transcript_write_event(f, -1, "closed", NULL), -1);
    assert_int_equal(mr_transcript_write_event(f, -1, "close", "a\nb"), -1);
    assert_int_equal(mr_transcript_write_meta(f, "bad key", "v"), -1);
    assert_int_equal(mr_transcript_write_meta(f, "", "v"), -1);
    assert_int_equal(mr_transcript_write_meta(f, "k", "line\nbreak"), -1);
    fclose(f);
}

/* Deterministic pseudo-random bytes (xorshift). */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

#define N_SEGS 60
static uint8_t *segs[N_SEGS];
static size_t seg_len[N_SEGS];

static void write_random(FILE *f)
{
    assert_int_equal(mr_transcript_write_header(f, "smtp"), 0);
    for (int i = 0; i < N_SEGS; i++) {
        double t = (i % 3 == 0) ? -1 : i * 0.001;
        assert_int_equal(mr_transcript_write_segment(f, i % 2 ? 'C' : 'S', t, segs[i], seg_len[i]), 0);
        if (i % 7 == 0)
            assert_int_equal(mr_transcript_write_event(f, t, "tls", NULL), 0);
    }
}

static void test_round_trip(void **state)
{
    size_t len, k = 0;
    char *s;
    mr_transcript t;
    mr_transcript_error e;
    (void)state;
    for (int i = 0; i < N_SEGS; i++) {
        size_t n;
        switch (i % 5) {
        case 0: n = 256; break;                 /* every byte value once */
        case 1: n = rnd() % 64; break;
        case 2: n = 3 * MR_TRANSCRIPT_WRAP + rnd() % 100; break; /* wraps */
        default: n = rnd() % 2000; break;
        }
        segs[i] = malloc(n ? n : 1);
        assert_non_null(segs[i]);
        seg_len[i] = n;
        for (size_t j = 0; j < n; j++) {
            if (i % 5 == 0)
                segs[i][j] = (uint8_t)j;
            else if (i % 5 == 2)
                segs[i][j] = (uint8_t)("\xC3\xA9x\xE2\x82\xAC"[rnd() % 6]); /* mostly UTF-8 */
            else if (i % 5 == 3)
                segs[i][j] = (uint8_t)(rnd() % 8 == 0 ? '\n' : 'a' + rnd() % 26);
            else
                segs[i][j] = (uint8_t)rnd();
        }
    }
    s = write_to_string(write_random, &len);
    if (mr_transcript_read((const uint8_t *)s, len, NULL, &t, &e) != 0)
        fail_msg("round trip: %zu:%zu: %s", e.line, e.col, e.message);
    assert_string_equal(mr_transcript_meta(&t, "protocol", NULL), "smtp");
    for (size_t i = 0; i < t.n_items; i++) {
        const mr_transcript_item *it = &t.items[i];
        if (it->kind != MR_TRANSCRIPT_SEGMENT)
            continue;
        assert_true(k < N_SEGS);
        assert_int_equal(it->dir, k % 2 ? 'C' : 'S');
        assert_int_equal(it->len, seg_len[k]);
        if (seg_len[k])
            assert_memory_equal(it->bytes, segs[k], seg_len[k]);
        assert_int_equal(it->has_time, k % 3 != 0);
        k++;
    }
    assert_int_equal(k, N_SEGS);
    /* No written line is longer than the wrap width plus its frame. */
    for (char *line = s; line < s + len;) {
        char *lf = memchr(line, '\n', (size_t)(s + len - line));
        assert_non_null(lf);
        assert_true((size_t)(lf - line) <= MR_TRANSCRIPT_WRAP + 32);
        line = lf + 1;
    }
    mr_transcript_cleanup(&t);
    free(s);
    for (int i = 0; i < N_SEGS; i++)
        free(segs[i]);
}

/* ------------------------------------------------------------- utf-8 */

static void test_utf8(void **state)
{
    size_t n;
    (void)state;
    assert_int_equal(mr_utf8_next((const uint8_t *)"a", 1, &n), 1);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xC3\xA9", 2, &n), 1);
    assert_int_equal(n, 2);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xF0\x9F\x98\x80", 4, &n), 1);
    assert_int_equal(n, 4);
    /* overlong, surrogate, above U+10FFFF, lone continuation, truncated */
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xC0\x80", 2, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xE0\x80\x80", 3, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xED\xA0\x80", 3, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xF4\x90\x80\x80", 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\x80", 1, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xE2\x82", 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xE2\x82x", 3, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(mr_utf8_next((const uint8_t *)"\xF0\x9F\x98", 3, &n), 0);
    assert_int_equal(n, 3);
    assert_true(mr_utf8_valid((const uint8_t *)"abc\xC3\xA9", 5));
    assert_false(mr_utf8_valid((const uint8_t *)"abc\xC3", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_raw_high_bytes),
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_crlf_lines),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_nul_in_string_escape),
        cmocka_unit_test(test_err_header),
        cmocka_unit_test(test_err_bounds),
        cmocka_unit_test(test_err_line_types),
        cmocka_unit_test(test_err_segments),
        cmocka_unit_test(test_err_strings),
        cmocka_unit_test(test_err_continuation),
        cmocka_unit_test(test_err_events),
        cmocka_unit_test(test_write_format),
        cmocka_unit_test(test_write_rejects),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
