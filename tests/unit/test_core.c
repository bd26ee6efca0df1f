/*
 * test_core.c - unit tests of the shared parser core (parsers/core/).
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/mr_base64.h"
#include "core/mr_cursor.h"
#include "core/mr_linereader.h"
#include "core/mr_pending.h"
#include "core/mr_store.h"
#include "mr_testutil.h"

/* The class table, rebuilt from the RFC definitions it cites. */
static void test_class_table(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        unsigned want = 0;
        int alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        int digit = c >= '0' && c <= '9';
        if (digit) want |= MR_C_DIGIT;
        if (alpha) want |= MR_C_ALPHA;
        if (c >= 0x21 && c <= 0x7e) want |= MR_C_VCHAR;
        if (c == ' ' || c == '\t') want |= MR_C_SPACE;
        if ((c >= 0x21 && c <= 0x2e) || (c >= 0x30 && c <= 0x5c) || (c >= 0x5e && c <= 0x7f)) want |= MR_C_RCHAR;
        if (alpha || digit || c == '+' || c == '/') want |= MR_C_B64;
        if (alpha || digit || c == '-') want |= MR_C_KEYW;
        if (c == '\t' || (c >= 32 && c <= 126)) want |= MR_C_TEXT;
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') want |= MR_C_QPLAIN;
        if (c > 0x20 && c <= 0x7e && !strchr("()\"[]{~", c)) want |= MR_C_APLAIN;
        if (mr_cclass[c] != want)
            fail_msg("class of byte 0x%02x is 0x%03x, want 0x%03x", c, mr_cclass[c], want);
    }
}

static void test_cursor_numbers(void **state)
{
    (void)state;
    mr_cursor c;
    uint64_t v;
    mr_cur_init(&c, (const uint8_t *)"18446744073709551615 x", 22);
    assert_true(mr_cur_get_u64(&c, &v));
    assert_true(v == UINT64_MAX);
    assert_int_equal(c.len, 2);
    /* Overflow and empty fail and leave the cursor unchanged. */
    mr_cur_init(&c, (const uint8_t *)"18446744073709551616", 20);
    assert_false(mr_cur_get_u64(&c, &v));
    assert_int_equal(c.len, 20);
    mr_cur_init(&c, (const uint8_t *)"99999999999999999999", 20);
    assert_false(mr_cur_get_u64(&c, &v));
    mr_cur_init(&c, (const uint8_t *)"x1", 2);
    assert_false(mr_cur_get_u64(&c, &v));
    assert_int_equal(c.len, 2);
    mr_cur_init(&c, NULL, 0);
    assert_false(mr_cur_get_u64(&c, &v));
    unsigned d;
    mr_cur_init(&c, (const uint8_t *)"2501", 4);
    assert_true(mr_cur_get_digits(&c, 3, &d));
    assert_int_equal(d, 250);
    assert_false(mr_cur_get_digits(&c, 2, &d)); /* only 1 left */
    assert_int_equal(c.len, 1);
    mr_cur_init(&c, (const uint8_t *)"2x1", 3);
    assert_false(mr_cur_get_digits(&c, 3, &d));
    assert_int_equal(c.len, 3);
}

static void test_cursor_reads(void **state)
{
    (void)state;
    mr_cursor c;
    mr_span s;
    uint8_t b;
    mr_cur_init(&c, (const uint8_t *)"+ok  [x] rest  ", 15);
    assert_false(mr_cur_accept_str(&c, "+OK"));
    assert_true(mr_cur_accept_str_ci(&c, "+OK"));
    assert_int_equal(mr_cur_skip_space(&c), 2);
    assert_true(mr_cur_accept(&c, '['));
    assert_true(mr_cur_take_until(&c, ']', &s));
    assert_true(mr_span_eq(s, "x"));
    assert_false(mr_cur_take_until(&c, '{', &s));
    assert_true(mr_cur_next_is(&c, ']'));
    assert_true(mr_cur_skip(&c, 2));
    assert_true(mr_cur_get_word(&c, &s));
    assert_true(mr_span_eq(s, "rest"));
    assert_true(mr_span_eq(mr_span_rtrim(mr_cur_rest(&c)), ""));
    assert_false(mr_cur_skip(&c, 3));
    assert_int_equal(c.len, 2);
    assert_true(mr_cur_get_span(&c, 2, &s));
    assert_false(mr_cur_get_u8(&c, &b));
    assert_false(mr_cur_peek(&c, &b));
    assert_false(mr_cur_get_word(&c, &s));
    assert_true(mr_span_eq_ci((mr_span){(const uint8_t *)"SaSl", 4}, "sasl"));
    assert_false(mr_span_eq_ci((mr_span){(const uint8_t *)"SaSl", 4}, "sas"));
    assert_true(mr_span_eq(mr_span_strip_eol((mr_span){(const uint8_t *)"LIST 1\r\n", 8}), "LIST 1"));
    assert_true(mr_span_eq(mr_span_strip_eol((mr_span){(const uint8_t *)"\r\n\n", 3}), ""));
    assert_true(mr_span_eq(mr_span_strip_eol((mr_span){(const uint8_t *)"a\rb", 3}), "a\rb"));
}

static void test_base64(void **state)
{
    (void)state;
    static const struct { const char *in; mr_b64_result want; const char *out; } t[] = {
        {"", MR_B64_OK, ""},           {"dGVzdA==", MR_B64_OK, "test"}, {"dGVzdA", MR_B64_UNPADDED, "test"},
        {"Zm9vYmFy", MR_B64_OK, "foobar"}, {"Zg==", MR_B64_OK, "f"},    {"Zm8=", MR_B64_OK, "fo"},
        {"Z", MR_B64_INVALID, NULL},   {"Zg=x", MR_B64_INVALID, NULL},  {"Zg===", MR_B64_INVALID, NULL},
        {"Zm9v YmFy", MR_B64_INVALID, NULL}, {"Zg=", MR_B64_INVALID, NULL}, {"@@@@", MR_B64_INVALID, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        mr_span in = {(const uint8_t *)t[i].in, strlen(t[i].in)};
        uint8_t out[64];
        size_t n = 99, at = 99;
        mr_b64_result r = mr_base64_decode(in, out, &n, &at);
        if (r != t[i].want)
            fail_msg("base64 '%s': got %d want %d", t[i].in, r, t[i].want);
        if (t[i].out) {
            assert_int_equal(n, strlen(t[i].out));
            assert_memory_equal(out, t[i].out, n);
        } else {
            assert_true(at < in.len || in.len == 0);
        }
    }
}

/* Feed the line reader in pieces of k bytes; collect "text/eol@offset" lines. */
static char *read_lines(const char *in, size_t n, size_t k, size_t max_line, mr_errcode *err_out,
                        uint64_t *err_off)
{
    mr_linereader lr;
    mr_lr_init(&lr, mr_default_allocator(), max_line);
    mr_sbuf out = {0};
    mr_sb_add(&out, "", 0);
    *err_out = MR_E_OK;
    for (size_t pos = 0; pos < n && *err_out == MR_E_OK;) {
        size_t piece = k && k < n - pos ? k : n - pos, off = 0;
        for (;;) {
            size_t used;
            mr_line l;
            mr_error e;
            mr_lr_result r = mr_lr_next(&lr, (const uint8_t *)in + pos + off, piece - off, &used, &l, &e);
            off += used;
            if (r == MR_LR_MORE)
                break;
            if (r == MR_LR_ERROR) {
                *err_out = e.code;
                *err_off = e.offset;
                break;
            }
            mr_sb_bytes(&out, l.ptr, l.len);
            mr_sb_printf(&out, "/%u@%llu|", l.eol, (unsigned long long)l.offset);
        }
        pos += piece;
    }
    if (*err_out == MR_E_OK)
        mr_sb_printf(&out, "partial=%zu", mr_lr_partial(&lr));
    mr_lr_cleanup(&lr);
    return out.s;
}

static void test_linereader(void **state)
{
    (void)state;
    const char in[] = "a\r\nbb\n\r\n\nccc\r\r\nd\rx\ntail";
    const char *want = "a/2@0|bb/1@3|/2@6|/1@8|ccc\\r/2@9|d\\rx/1@15|partial=4";
    for (size_t k = 0; k <= sizeof in; k++) {
        mr_errcode e;
        uint64_t off;
        char *got = read_lines(in, sizeof in - 1, k, 100, &e, &off);
        assert_int_equal(e, MR_E_OK);
        if (strcmp(got, want) != 0)
            fail_msg("piece %zu: got %s want %s", k, got, want);
        free(got);
    }
}

static void test_linereader_limit(void **state)
{
    (void)state;
    for (size_t k = 0; k <= 12; k++) {
        mr_errcode e;
        uint64_t off = 0;
        /* 5 bytes of text allowed: "12345\r\n" passes, CR split from LF too. */
        char *got = read_lines("12345\r\n123456\r\n", 15, k, 5, &e, &off);
        assert_int_equal(e, MR_E_LINE_TOO_LONG);
        assert_int_equal(off, 12); /* 7 + 5: the first byte past the bound */
        free(got);
        got = read_lines("12345\r", 6, k, 5, &e, &off);
        assert_int_equal(e, MR_E_OK);
        free(got);
        got = read_lines("1234567", 7, k, 5, &e, &off);
        assert_int_equal(e, MR_E_LINE_TOO_LONG);
        assert_int_equal(off, 5);
        free(got);
    }
}

static void test_linereader_unread(void **state)
{
    (void)state;
    mr_linereader lr;
    mr_lr_init(&lr, mr_default_allocator(), 100);
    size_t used;
    mr_line l;
    mr_error e;
    /* In input: the bytes are given back. */
    assert_int_equal(mr_lr_next(&lr, (const uint8_t *)"ab\r\ncd\r\n", 8, &used, &l, &e), MR_LR_LINE);
    assert_int_equal(used, 4);
    assert_int_equal(mr_lr_unread(&lr, &l), 4);
    assert_int_equal(lr.offset, 0);
    /* From the buffer: replayed without consuming. */
    assert_int_equal(mr_lr_next(&lr, (const uint8_t *)"x", 1, &used, &l, &e), MR_LR_MORE);
    assert_int_equal(mr_lr_next(&lr, (const uint8_t *)"y\nz", 3, &used, &l, &e), MR_LR_LINE);
    assert_int_equal(used, 2);
    assert_int_equal(l.in_input, 0);
    assert_int_equal(mr_lr_unread(&lr, &l), 0);
    assert_int_equal(mr_lr_next(&lr, (const uint8_t *)"z", 1, &used, &l, &e), MR_LR_LINE);
    assert_int_equal(used, 0);
    assert_int_equal(l.len, 2);
    assert_memory_equal(l.ptr, "xy", 2);
    assert_int_equal(l.offset, 0);
    mr_lr_cleanup(&lr);
}

/* mr_vec_grow: doubling from 16, and a refusal (vector untouched) on overflow. */
static void test_vec_grow(void **state)
{
    (void)state;
    const mr_allocator *a = mr_default_allocator();
    int *v = NULL;
    size_t cap = 0;
    assert_true(mr_vec_grow(a, (void **)&v, &cap, sizeof *v, 1));
    assert_int_equal(cap, 16);
    assert_true(mr_vec_grow(a, (void **)&v, &cap, sizeof *v, 16));
    assert_int_equal(cap, 16);
    assert_true(mr_vec_grow(a, (void **)&v, &cap, sizeof *v, 100));
    assert_int_equal(cap, 128);
    v[127] = 7;
    int *before = v;
    assert_false(mr_vec_grow(a, (void **)&v, &cap, sizeof *v, SIZE_MAX / 2));
    assert_false(mr_vec_grow(a, (void **)&v, &cap, sizeof *v, SIZE_MAX));
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 128);
    assert_int_equal(v[127], 7);
    a->free(v, a->ud);
}

static void test_store_pin_and_limits(void **state)
{
    (void)state;
    mr_options o;
    memset(&o, 0, sizeof o);
    o.limits.max_lines = 3;
    o.mode = MR_STRICT;
    o.limits.max_diags = 2;
    mr_store st;
    mr_store_init(&st, &o);
    char buf[16] = "one\r\ntwo\r\n";
    mr_line a = {(const uint8_t *)buf, 3, 0, 2, 1}, b = {(const uint8_t *)buf + 5, 3, 5, 2, 1};
    assert_true(mr_store_push_line(&st, &a));
    assert_true(mr_store_push_line(&st, &b));
    assert_ptr_equal(st.lines[0].ptr, buf);
    assert_true(mr_store_pin(&st));
    memset(buf, 'Z', sizeof buf);
    assert_memory_equal(st.lines[0].ptr, "one\r\n", 5);
    assert_memory_equal(st.lines[1].ptr, "two\r\n", 5);
    assert_int_equal(st.lines[1].in_input, 0);
    assert_true(mr_store_push_line(&st, &a));
    assert_false(mr_store_push_line(&st, &a));
    assert_int_equal(st.err, MR_E_TOO_MANY_LINES);
    for (int i = 0; i < 5; i++)
        mr_store_diag(&st, (uint64_t)i, "RFC 1 2", "x");
    assert_int_equal(st.n_diags, 2);
    assert_int_equal(st.diags_dropped, 3);
    mr_store_reset(&st);
    assert_int_equal(st.n_lines, 0);
    assert_int_equal(st.n_diags, 0);
    mr_store_cleanup(&st);

    /* Memory bound, and lenient mode keeps no diagnostics. */
    memset(&o, 0, sizeof o);
    o.limits.max_memory = 10000;
    mr_store_init(&st, &o);
    assert_non_null(mr_store_alloc(&st, 1000));
    assert_null(mr_store_alloc(&st, 20000));
    assert_int_equal(st.err, MR_E_MEMORY_LIMIT);
    assert_true(mr_store_memory(&st) <= 10000);
    mr_store_diag(&st, 0, "RFC 1 2", "x");
    assert_int_equal(st.n_diags, 0);
    mr_store_cleanup(&st);
}

static void test_pending_queue(void **state)
{
    (void)state;
    mr_pending q;
    mr_pending_init(&q, mr_default_allocator(), 40);
    uint8_t k;
    assert_false(mr_pending_peek(&q, &k));
    /* Wrap around the ring while growing. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 30; i++)
            assert_int_equal(mr_pending_push(&q, (uint8_t)i), 0);
        for (int i = 0; i < 30; i++) {
            assert_true(mr_pending_peek(&q, &k));
            assert_int_equal(k, i);
            mr_pending_pop(&q);
        }
    }
    for (int i = 0; i < 40; i++)
        assert_int_equal(mr_pending_push(&q, 1), 0);
    assert_int_equal(mr_pending_push(&q, 1), MR_E_TOO_MANY_PENDING);
    mr_pending_clear(&q);
    assert_int_equal(mr_pending_count(&q), 0);
    mr_pending_cleanup(&q);
}

static void test_error_table(void **state)
{
    (void)state;
    assert_string_equal(mr_errcode_name(MR_E_LINE_TOO_LONG), "LINE_TOO_LONG");
    assert_string_equal(mr_errcode_name((mr_errcode)999), "UNKNOWN");
    for (int e = 0; e < MR_E__COUNT; e++) {
        assert_true(strlen(mr_errcode_reason((mr_errcode)e)) > 5);
        assert_string_not_equal(mr_errcode_name((mr_errcode)e), "UNKNOWN");
    }
    assert_true(mr_errcode_is_fatal(MR_E_MEMORY_LIMIT));
    assert_false(mr_errcode_is_fatal(MR_E_BAD_FIELD));
    mr_limits l;
    memset(&l, 0, sizeof l);
    l.max_line = 7;
    mr_limits_resolve(&l);
    assert_int_equal(l.max_line, 7);
    assert_int_equal(l.max_lines, MR_DEFAULT_MAX_LINES);
    assert_string_equal(mr_event_type_name(MR_EV_BODY_CHUNK), "body-chunk");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_table),      cmocka_unit_test(test_cursor_numbers),
        cmocka_unit_test(test_cursor_reads),     cmocka_unit_test(test_base64),
        cmocka_unit_test(test_linereader),       cmocka_unit_test(test_linereader_limit),
        cmocka_unit_test(test_linereader_unread), cmocka_unit_test(test_store_pin_and_limits),
        cmocka_unit_test(test_vec_grow),
        cmocka_unit_test(test_pending_queue),    cmocka_unit_test(test_error_table),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
