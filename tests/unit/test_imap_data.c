/*
 * test_imap_data.c - unit tests of the IMAP typed layer other than FETCH:
 * modified UTF-7 (parsers/imap/mr_imap_mutf7.c), mailbox names, sequence
 * sets and untagged data (mr_imap_data.c), response codes
 * (mr_imap_code.c).
 *
 * The decoder of modified UTF-7 is tested on its own: the RFC 3501 5.1.3
 * example, every invalid form, output truncation, and two properties
 * against an encoder written here (every string round-trips; every
 * string the decoder accepts is the one canonical encoding of what it
 * decodes to).  Everything else goes through the public API
 * (mr_imap_new / mr_imap_next) with real server responses; the typed
 * result is serialised and compared, in lenient and strict mode (a
 * lenient path must give the same typed result in both, with its
 * diagnostic in strict mode only), and the serialisation must not depend
 * on how the input is cut.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mr_imap_testutil.h"

/* ---- modified UTF-7 ------------------------------------------------------ */

/* Decode to a NUL-terminated string, or NULL when invalid. */
static char *mutf7(const char *in)
{
    size_t n = mr_imap_mutf7_decode((const uint8_t *)in, strlen(in), NULL, 0);
    if (n == SIZE_MAX)
        return NULL;
    char *out = malloc(n + 1);
    assert_non_null(out);
    assert_int_equal(mr_imap_mutf7_decode((const uint8_t *)in, strlen(in), (uint8_t *)out, n), n);
    out[n] = 0;
    return out;
}

static void expect_mutf7(const char *in, const char *want)
{
    char *got = mutf7(in);
    if (!got)
        fail_msg("\"%s\" rejected, want \"%s\"", in, want);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\" -> \"%s\", want \"%s\"", in, got, want);
    free(got);
}

static void expect_mutf7_invalid(const char *in)
{
    char *got = mutf7(in);
    if (got)
        fail_msg("\"%s\" accepted as \"%s\"", in, got);
}

static void test_mutf7_valid(void **state)
{
    (void)state;
    /* RFC 3501 5.1.3's example. */
    expect_mutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    expect_mutf7("&-", "&");
    expect_mutf7("Tom &- Jerry", "Tom & Jerry");
    expect_mutf7("", "");
    expect_mutf7("plain ASCII ~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}", "plain ASCII ~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}");
    /* U+00E9 (one unit: 3 chars, 2 zero bits left), U+00E9 U+00E8 (6 chars, 4 bits). */
    expect_mutf7("caf&AOk-", "caf\xc3\xa9");
    expect_mutf7("&AOkA6A-", "\xc3\xa9\xc3\xa8");
    /* Three units: 8 chars, no bits left. */
    expect_mutf7("&AOkA6ADq-", "\xc3\xa9\xc3\xa8\xc3\xaa");
    /* A shift then "&-": two shifts need a direct character between them, "&" is one. */
    expect_mutf7("&AOk-&-", "\xc3\xa9&");
    expect_mutf7("&AOk-x&AOg-", "\xc3\xa9x\xc3\xa8");
    /* U+1F600 as the surrogate pair D83D DE00. */
    expect_mutf7("&2D3eAA-", "\xf0\x9f\x98\x80");
    /* Control characters and DEL are encoded (they cannot represent themselves). */
    expect_mutf7("&AAkAfw-", "\t\x7f");
    /* "," is the base64 character 63 ("/" in RFC 4648). */
    expect_mutf7("&,,,,,w-", "\xef\xbf\xbf\xef\xbf\xbf"); /* U+FFFF U+FFFF */
}

static void test_mutf7_invalid(void **state)
{
    (void)state;
    expect_mutf7_invalid("&");          /* shift never closed */
    expect_mutf7_invalid("abc&AOk");    /* ends inside base64 */
    expect_mutf7_invalid("&AO!-");      /* "!" is not modified base64 */
    expect_mutf7_invalid("&AO/-");      /* "/" is RFC 4648's, not modified base64 */
    expect_mutf7_invalid("&AOk=-");     /* no padding in modified base64 */
    expect_mutf7_invalid("&AOl-");      /* leftover bits are not zero */
    expect_mutf7_invalid("&AOkA-");     /* a superfluous character (6 bits left) */
    expect_mutf7_invalid("&A-");        /* 6 bits, no unit */
    expect_mutf7_invalid("&AGE-");      /* "a" must be direct */
    expect_mutf7_invalid("&ACY-");      /* "&" must be "&-" */
    expect_mutf7_invalid("&ACA-");      /* SP must be direct */
    expect_mutf7_invalid("&AH4-");      /* "~" must be direct */
    expect_mutf7_invalid("&AOk-&AOg-"); /* two adjacent shifts are one: "&AOkA6A-" */
    expect_mutf7_invalid("&2D0-");      /* a high surrogate alone */
    expect_mutf7_invalid("&2D0AOg-");   /* a high surrogate followed by a BMP character */
    expect_mutf7_invalid("&3gA-");      /* a low surrogate alone */
    expect_mutf7_invalid("&3gDYPQ-");   /* low then high */
    expect_mutf7_invalid("caf\xc3\xa9"); /* raw 8-bit (UTF-8) */
    expect_mutf7_invalid("a\tb");       /* raw control character */
    expect_mutf7_invalid("a\x7f");      /* raw DEL */
    expect_mutf7_invalid(" &-&");       /* a later "&" never closed */
}

static void test_mutf7_truncated_output(void **state)
{
    (void)state;
    const char *in = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
    const char *want = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
    size_t full = strlen(want);
    for (size_t cap = 0; cap <= full + 2; cap++) {
        uint8_t buf[64];
        memset(buf, 0xAA, sizeof buf);
        assert_int_equal(mr_imap_mutf7_decode((const uint8_t *)in, strlen(in), buf, cap), full);
        size_t w = cap < full ? cap : full;
        assert_memory_equal(buf, want, w);
        for (size_t i = w; i < sizeof buf; i++)
            assert_int_equal(buf[i], 0xAA); /* nothing written past cap */
    }
}

/* An encoder (RFC 3501 5.1.3), only for the properties below: UTF-8 in, canonical modified UTF-7 out. */
static const char mb64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static void enc_flush(mr_sbuf *o, const uint16_t *units, size_t n)
{
    uint32_t bits = 0;
    unsigned nbits = 0;
    mr_sb_add(o, "&", 1);
    for (size_t i = 0; i < n; i++) {
        bits = (bits << 16) | units[i];
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            mr_sb_add(o, &mb64[(bits >> nbits) & 63], 1);
        }
    }
    if (nbits)
        mr_sb_add(o, &mb64[(bits << (6 - nbits)) & 63], 1);
    mr_sb_add(o, "-", 1);
}

static void mutf7_encode(const uint32_t *cps, size_t n, mr_sbuf *o)
{
    uint16_t units[512];
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = cps[i];
        if (cp >= 0x20 && cp <= 0x7E) {
            if (nu)
                enc_flush(o, units, nu);
            nu = 0;
            if (cp == '&')
                mr_sb_add(o, "&-", 2);
            else {
                char ch = (char)cp;
                mr_sb_add(o, &ch, 1);
            }
        } else if (cp >= 0x10000) {
            units[nu++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            units[nu++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            units[nu++] = (uint16_t)cp;
        }
    }
    if (nu)
        enc_flush(o, units, nu);
}

static void utf8_encode(const uint32_t *cps, size_t n, mr_sbuf *o)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = cps[i];
        uint8_t b[4];
        size_t k;
        if (cp < 0x80)
            b[0] = (uint8_t)cp, k = 1;
        else if (cp < 0x800)
            b[0] = (uint8_t)(0xC0 | (cp >> 6)), b[1] = (uint8_t)(0x80 | (cp & 0x3F)), k = 2;
        else if (cp < 0x10000)
            b[0] = (uint8_t)(0xE0 | (cp >> 12)), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)),
            b[2] = (uint8_t)(0x80 | (cp & 0x3F)), k = 3;
        else
            b[0] = (uint8_t)(0xF0 | (cp >> 18)), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F)),
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F)), k = 4;
        mr_sb_add(o, b, k);
    }
}

/* Decode UTF-8 (known valid) to code points. */
static size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cps)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        size_t more = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        uint32_t cp = more == 0 ? b : more == 1 ? (b & 0x1Fu) : more == 2 ? (b & 0x0Fu) : (b & 0x07u);
        for (size_t j = 1; j <= more; j++)
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        cps[k++] = cp;
        i += more + 1;
    }
    return k;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static uint32_t random_cp(void)
{
    switch (rnd() % 6) {
    case 0: return 0x20 + rnd() % 0x5F;            /* printable ASCII */
    case 1: return '&';
    case 2: return rnd() % 0x20;                  /* control */
    case 3: return 0x80 + rnd() % 0x780;          /* 2-byte UTF-8 */
    case 4: {
        uint32_t cp = 0x800 + rnd() % 0xF800;     /* BMP, no surrogate */
        return cp >= 0xD800 && cp <= 0xDFFF ? 0x4E2D : cp;
    }
    default: return 0x10000 + rnd() % 0x100000;   /* astral */
    }
}

/* Property 1: decode(encode(s)) == s for random strings of code points. */
static void test_mutf7_roundtrip(void **state)
{
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        uint32_t cps[40];
        size_t n = rnd() % 40;
        for (size_t i = 0; i < n; i++)
            cps[i] = random_cp();
        mr_sbuf enc = {0}, want = {0};
        mr_sb_add(&enc, "", 0);
        mr_sb_add(&want, "", 0);
        mutf7_encode(cps, n, &enc);
        utf8_encode(cps, n, &want);
        size_t got_n = mr_imap_mutf7_decode((const uint8_t *)enc.s, enc.len, NULL, 0);
        if (got_n != want.len)
            fail_msg("\"%s\": decoded length %zu, want %zu", enc.s, got_n, want.len);
        uint8_t *got = malloc(got_n + 1);
        assert_non_null(got);
        mr_imap_mutf7_decode((const uint8_t *)enc.s, enc.len, got, got_n);
        assert_memory_equal(got, want.s, got_n);
        free(got);
        mr_sb_free(&enc);
        mr_sb_free(&want);
    }
}

/* Property 2: whatever the decoder accepts is the canonical encoding of its result. */
static void test_mutf7_accepts_only_canonical(void **state)
{
    (void)state;
    static const char alphabet[] = "&-&-AAAB2D3e4gwk+,a _~";
    size_t accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        char in[16];
        size_t n = rnd() % sizeof in;
        for (size_t i = 0; i < n; i++)
            in[i] = alphabet[rnd() % (sizeof alphabet - 1)];
        size_t m = mr_imap_mutf7_decode((const uint8_t *)in, n, NULL, 0);
        if (m == SIZE_MAX)
            continue;
        accepted++;
        uint8_t out[64];
        uint32_t cps[64];
        assert_true(m <= sizeof out);
        mr_imap_mutf7_decode((const uint8_t *)in, n, out, m);
        size_t k = utf8_decode(out, m, cps);
        mr_sbuf enc = {0};
        mr_sb_add(&enc, "", 0);
        mutf7_encode(cps, k, &enc);
        if (enc.len != n || memcmp(enc.s, in, n) != 0)
            fail_msg("accepted \"%.*s\" but its canonical form is \"%s\"", (int)n, in, enc.s);
        mr_sb_free(&enc);
    }
    assert_true(accepted > 1000); /* the property was exercised */
}

/* ---- parsing through the public API ------------------------------------- */

static void dump_value(mr_sbuf *b, const mr_imap_value *v)
{
    if (!v) {
        mr_sb_add(b, "-", 1);
        return;
    }
    switch (v->type) {
    case MR_IMAP_V_NIL:
        mr_sb_add(b, "NIL", 3);
        break;
    case MR_IMAP_V_ATOM:
    case MR_IMAP_V_NUMBER:
        mr_sb_span(b, v->raw);
        break;
    case MR_IMAP_V_LIST:
        mr_sb_add(b, "(", 1);
        for (size_t i = 0; i < v->n_items; i++) {
            if (i)
                mr_sb_add(b, " ", 1);
            dump_value(b, &v->items[i]);
        }
        mr_sb_add(b, ")", 1);
        break;
    default:
        mr_sb_add(b, "\"", 1);
        mr_sb_span(b, v->str);
        mr_sb_add(b, "\"", 1);
        break;
    }
}

static void dump_spans(mr_sbuf *b, const char *key, const mr_span *s, size_t n)
{
    mr_sb_printf(b, " %s=", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            mr_sb_add(b, ",", 1);
        mr_sb_span(b, s[i]);
    }
}

static void dump_num(mr_sbuf *b, uint64_t x)
{
    if (x == MR_IMAP_STAR)
        mr_sb_add(b, "*", 1);
    else
        mr_sb_printf(b, "%llu", (unsigned long long)x);
}

static void dump_set(mr_sbuf *b, const mr_imap_seqset *s)
{
    if (s->n == 0)
        mr_sb_add(b, "-", 1);
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            mr_sb_add(b, ",", 1);
        dump_num(b, s->ranges[i].lo);
        if (s->ranges[i].hi != s->ranges[i].lo) {
            mr_sb_add(b, ":", 1);
            dump_num(b, s->ranges[i].hi);
        }
    }
}

static void dump_mailbox(mr_sbuf *b, const char *key, const mr_imap_mailbox *m)
{
    mr_sb_printf(b, " %s=", key);
    mr_sb_span(b, m->name);
    if (!m->mutf7_ok)
        mr_sb_add(b, "(raw)", 5);
}

static void dump_params(mr_sbuf *b, const char *key, const mr_imap_params *p)
{
    mr_sb_printf(b, " %s=", key);
    if (p->nil)
        mr_sb_add(b, "NIL", 3);
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            mr_sb_add(b, ",", 1);
        dump_value(b, p->items[i].name);
        mr_sb_add(b, "=", 1);
        dump_value(b, p->items[i].value);
    }
}

static void dump_thread(mr_sbuf *b, const mr_imap_thread_node *t)
{
    mr_sb_printf(b, "%llu", (unsigned long long)t->num);
    if (t->n_children == 0)
        return;
    mr_sb_add(b, "(", 1);
    for (size_t i = 0; i < t->n_children; i++) {
        if (i)
            mr_sb_add(b, " ", 1);
        dump_thread(b, &t->children[i]);
    }
    mr_sb_add(b, ")", 1);
}

static void dump_ns(mr_sbuf *b, const char *key, const mr_imap_ns_list *l)
{
    mr_sb_printf(b, " %s=", key);
    if (l->nil) {
        mr_sb_add(b, "NIL", 3);
        return;
    }
    mr_sb_add(b, "[", 1);
    for (size_t i = 0; i < l->n; i++) {
        const mr_imap_ns *ns = &l->items[i];
        if (i)
            mr_sb_add(b, " ", 1);
        dump_value(b, ns->prefix);
        if (ns->delimiter < 0)
            mr_sb_add(b, "|NIL", 4);
        else
            mr_sb_printf(b, "|%c", ns->delimiter);
        for (size_t k = 0; k < ns->n_exts; k++) {
            mr_sb_add(b, "|", 1);
            dump_value(b, ns->exts[k].name);
            mr_sb_add(b, ":", 1);
            for (size_t j = 0; j < ns->exts[k].n_values; j++) {
                if (j)
                    mr_sb_add(b, ",", 1);
                dump_value(b, &ns->exts[k].values[j]);
            }
        }
    }
    mr_sb_add(b, "]", 1);
}

static void dump_ptrs(mr_sbuf *b, const char *key, const mr_imap_value *const *v, size_t n)
{
    mr_sb_printf(b, " %s=", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            mr_sb_add(b, ",", 1);
        dump_value(b, v[i]);
    }
}

static void dump_code(mr_sbuf *b, const mr_imap_code *c)
{
    mr_sb_printf(b, " [%s", mr_imap_code_name(c->kind));
    if (c->kind == MR_IMAP_CODE_OTHER)
        mr_sb_field(b, " ", c->name);
    if (c->args_text.len)
        mr_sb_field(b, " args=", c->args_text);
    if (c->number)
        mr_sb_printf(b, " num=%llu", (unsigned long long)c->number);
    if (c->set1.n) {
        mr_sb_add(b, " set1=", 6);
        dump_set(b, &c->set1);
    }
    if (c->set2.n) {
        mr_sb_add(b, " set2=", 6);
        dump_set(b, &c->set2);
    }
    if (c->atoms)
        dump_spans(b, "atoms", c->atoms, c->n_atoms);
    if (c->text.len)
        mr_sb_field(b, " text=", c->text);
    mr_sb_add(b, "]", 1);
}

/* The typed content of one response, one line. */
static void dump_response(mr_sbuf *b, const mr_imap_response *r)
{
    mr_sb_printf(b, "%s", mr_imap_type_name(r->type));
    if (r->has_code)
        dump_code(b, &r->code);
    if (r->type <= MR_IMAP_TYPE_BYE || r->type == MR_IMAP_TYPE_CONTINUE || r->type == MR_IMAP_TYPE_OTHER) {
        /* status responses carry only their code */
    } else if (!r->typed) {
        mr_sb_add(b, " untyped", 8);
    } else {
        switch (r->type) {
        case MR_IMAP_TYPE_CAPABILITY:
        case MR_IMAP_TYPE_ENABLED:
        case MR_IMAP_TYPE_FLAGS:
            dump_spans(b, "atoms", r->u.atoms.items, r->u.atoms.n);
            break;
        case MR_IMAP_TYPE_LIST:
        case MR_IMAP_TYPE_LSUB: {
            const mr_imap_list *l = &r->u.list;
            dump_spans(b, "attrs", l->attrs, l->n_attrs);
            mr_sb_printf(b, " bits=%#x", l->attr_bits);
            if (l->delimiter < 0)
                mr_sb_add(b, " delim=NIL", 10);
            else
                mr_sb_printf(b, " delim=%c", l->delimiter);
            dump_mailbox(b, "name", &l->mailbox);
            if (l->childinfo) {
                mr_sb_add(b, " childinfo=", 11);
                dump_value(b, l->childinfo);
            }
            if (l->has_oldname)
                dump_mailbox(b, "oldname", &l->oldname);
            if (l->extended) {
                mr_sb_add(b, " ext=", 5);
                dump_value(b, l->extended);
            }
            break;
        }
        case MR_IMAP_TYPE_STATUS:
            dump_mailbox(b, "name", &r->u.status.mailbox);
            for (size_t i = 0; i < r->u.status.n; i++) {
                const mr_imap_status_item *it = &r->u.status.items[i];
                mr_sb_printf(b, " %s:", mr_imap_status_kind_name(it->kind));
                mr_sb_span(b, it->name);
                if (it->nil)
                    mr_sb_add(b, "=NIL", 4);
                else if (it->text.len) {
                    mr_sb_field(b, "=", it->text);
                } else if (it->kind != MR_IMAP_STATUS_OTHER)
                    mr_sb_printf(b, "=%llu", (unsigned long long)it->number);
                else {
                    mr_sb_add(b, "~", 1);
                    dump_value(b, it->value);
                }
            }
            break;
        case MR_IMAP_TYPE_SEARCH:
        case MR_IMAP_TYPE_SORT:
            mr_sb_add(b, " nums=", 6);
            for (size_t i = 0; i < r->u.search.n; i++)
                mr_sb_printf(b, "%s%llu", i ? "," : "", (unsigned long long)r->u.search.nums[i]);
            if (r->u.search.has_modseq)
                mr_sb_printf(b, " modseq=%llu", (unsigned long long)r->u.search.modseq);
            break;
        case MR_IMAP_TYPE_ESEARCH: {
            const mr_imap_esearch *e = &r->u.esearch;
            if (e->tag) {
                mr_sb_add(b, " tag=", 5);
                dump_value(b, e->tag);
            }
            if (e->uid)
                mr_sb_add(b, " uid", 4);
            for (size_t i = 0; i < e->n; i++) {
                mr_sb_field(b, " ", e->items[i].name);
                mr_sb_add(b, "=", 1);
                if (e->items[i].set.n)
                    dump_set(b, &e->items[i].set);
                else if (e->items[i].value->type == MR_IMAP_V_NUMBER)
                    mr_sb_printf(b, "%llu", (unsigned long long)e->items[i].number);
                else {
                    mr_sb_add(b, "~", 1);
                    dump_value(b, e->items[i].value);
                }
            }
            break;
        }
        case MR_IMAP_TYPE_THREAD:
            mr_sb_add(b, " roots=", 7);
            for (size_t i = 0; i < r->u.thread.n; i++) {
                if (i)
                    mr_sb_add(b, " ", 1);
                dump_thread(b, &r->u.thread.roots[i]);
            }
            break;
        case MR_IMAP_TYPE_NAMESPACE:
            dump_ns(b, "personal", &r->u.ns.personal);
            dump_ns(b, "other", &r->u.ns.other);
            dump_ns(b, "shared", &r->u.ns.shared);
            break;
        case MR_IMAP_TYPE_ID:
            dump_params(b, "fields", &r->u.id.fields);
            break;
        case MR_IMAP_TYPE_QUOTA:
            mr_sb_add(b, " root=", 6);
            dump_value(b, r->u.quota.root);
            for (size_t i = 0; i < r->u.quota.n_res; i++) {
                mr_sb_add(b, " ", 1);
                dump_value(b, r->u.quota.res[i].name);
                mr_sb_printf(b, "=%llu/%llu", (unsigned long long)r->u.quota.res[i].usage,
                             (unsigned long long)r->u.quota.res[i].limit);
            }
            break;
        case MR_IMAP_TYPE_QUOTAROOT:
            dump_mailbox(b, "name", &r->u.quotaroot.mailbox);
            dump_ptrs(b, "roots", r->u.quotaroot.roots, r->u.quotaroot.n_roots);
            break;
        case MR_IMAP_TYPE_METADATA:
            dump_mailbox(b, "name", &r->u.metadata.mailbox);
            if (r->u.metadata.with_values)
                dump_params(b, "values", &r->u.metadata.entries);
            else
                dump_ptrs(b, "entries", r->u.metadata.names, r->u.metadata.n_names);
            break;
        case MR_IMAP_TYPE_ACL:
        case MR_IMAP_TYPE_MYRIGHTS:
        case MR_IMAP_TYPE_LISTRIGHTS: {
            const mr_imap_acl *a = &r->u.acl;
            dump_mailbox(b, "name", &a->mailbox);
            if (r->type == MR_IMAP_TYPE_ACL)
                dump_params(b, "acl", &a->entries);
            if (a->identifier) {
                mr_sb_add(b, " id=", 4);
                dump_value(b, a->identifier);
            }
            if (a->rights) {
                mr_sb_add(b, " rights=", 8);
                dump_value(b, a->rights);
            }
            if (r->type == MR_IMAP_TYPE_LISTRIGHTS)
                dump_ptrs(b, "optional", a->optional, a->n_optional);
            break;
        }
        case MR_IMAP_TYPE_VANISHED:
            mr_sb_printf(b, " earlier=%d uids=", r->u.vanished.earlier);
            dump_set(b, &r->u.vanished.uids);
            break;
        case MR_IMAP_TYPE_EXISTS:
        case MR_IMAP_TYPE_RECENT:
        case MR_IMAP_TYPE_EXPUNGE:
            mr_sb_printf(b, " n=%llu", (unsigned long long)r->number);
            break;
        default:
            break;
        }
    }
    mr_imap_sb_diags(b, r);
}

#define GREETING "* OK ready\r\n"

typedef struct dump_result {
    mr_sbuf out;
    size_t events; /* non-chunk events so far; the first is the greeting */
} dump_result;

static void on_event(void *ud, mr_event_type t, const mr_imap_event *ev)
{
    dump_result *d = ud;
    if (t == MR_EV_BODY_CHUNK)
        return;
    if (d->events++ == 0 && t == MR_EV_RESPONSE)
        return; /* the greeting */
    if (t == MR_EV_ERROR)
        mr_sb_printf(&d->out, "ERROR %s@%llu %s: ", mr_errcode_name(ev->error.code),
                     (unsigned long long)ev->error.offset, ev->error.detail ? ev->error.detail : "");
    if (ev->response)
        dump_response(&d->out, ev->response);
    mr_sb_add(&d->out, "\n", 1);
}

/*
 * Parse GREETING + in, fed in the chunking (piece, split) of those
 * strlen(GREETING) + n bytes, and serialise every response after the
 * greeting, one line each (errors prefixed "ERROR code@offset detail: ").
 * utf8: mr_imap_set_utf8().
 */
static char *run_opt(const char *in, size_t n, const mr_options *o, int utf8, size_t piece, size_t split)
{
    mr_imap_parser *p = mr_imap_new(o);
    if (!p) /* the failing allocator's first call */
        return strdup("NEW FAILED\n");
    mr_imap_set_utf8(p, utf8);
    dump_result d;
    memset(&d, 0, sizeof d);
    mr_sb_add(&d.out, "", 0);
    mr_sbuf all = {0};
    mr_sb_add(&all, GREETING, strlen(GREETING));
    mr_sb_add(&all, in, n);
    mr_imap_feed(p, all.s, all.len, piece, split, on_event, &d);
    mr_sb_free(&all);
    mr_imap_free(p);
    return d.out.s;
}

static char *run(const char *in, size_t n, mr_mode mode, int utf8, size_t piece, size_t split)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = mode;
    return run_opt(in, n, &o, utf8, piece, split);
}

/* Parse in both modes and all chunkings; return the strict output, check the lenient one is it minus diagnostics. */
static char *parse_checked(const char *in, int utf8)
{
    size_t n = strlen(in);
    char *strict = run(in, n, MR_STRICT, utf8, 0, 0);
    char *len = run(in, n, MR_LENIENT, utf8, 0, 0);
    for (size_t piece = 0, split = 0; mr_cut_next(strlen(GREETING) + n, &piece, &split);)
        mr_cut_check(strict, run(in, n, MR_STRICT, utf8, piece, split), piece, split);
    /* Lenient = strict without its " diag@...{...}" parts. */
    mr_sbuf stripped = {0};
    mr_sb_add(&stripped, "", 0);
    for (const char *s = strict; *s;) {
        const char *d = strstr(s, " diag@");
        if (!d) {
            mr_sb_add(&stripped, s, strlen(s));
            break;
        }
        mr_sb_add(&stripped, s, (size_t)(d - s));
        const char *e = strchr(d, '}');
        assert_non_null(e);
        s = e + 1;
    }
    if (strcmp(stripped.s, len) != 0)
        fail_msg("lenient differs from strict minus diagnostics:\nstrict:  %s\nlenient: %s", strict, len);
    mr_sb_free(&stripped);
    free(len);
    return strict;
}

/* want: parse_checked(in).  Its offsets count from the start of the stream:
 * the response under test starts at 12, after GREETING. */
static void expect(const char *in, const char *want)
{
    char *got = parse_checked(in, 0);
    if (strcmp(got, want) != 0)
        fail_msg("input: %s\nwant: %s\ngot:  %s", in, want, got);
    free(got);
}

static void expect_utf8(const char *in, const char *want)
{
    char *got = parse_checked(in, 1);
    if (strcmp(got, want) != 0)
        fail_msg("input: %s\nwant: %s\ngot:  %s", in, want, got);
    free(got);
}

/* ---- data ------------------------------------------------------------------- */

static void test_capability_enabled_flags(void **state)
{
    (void)state;
    expect("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LITERAL+\r\n",
           "CAPABILITY atoms=IMAP4rev1,STARTTLS,AUTH=PLAIN,LITERAL+\n");
    expect("* CAPABILITY IMAP4rev2 imap4rev1 idle\r\n", "CAPABILITY atoms=IMAP4rev2,imap4rev1,idle\n");
    /* No IMAP4rev1/rev2: kept, diagnosed. */
    expect("* CAPABILITY IDLE\r\n", "CAPABILITY atoms=IDLE diag@12{RFC 9051 9: a CAPABILITY response lists neither "
                                    "IMAP4rev2 nor IMAP4rev1}\n");
    /* A quoted capability: kept with a diagnostic; a list cannot be one. */
    expect("* CAPABILITY IMAP4rev1 \"X-Q\"\r\n",
           "CAPABILITY atoms=IMAP4rev1,X-Q diag@35{RFC 9051 7.2.2: a capability sent as a string; capabilities are atoms}\n");
    expect("* CAPABILITY IMAP4rev1 (X)\r\n",
           "ERROR BAD_FIELD@35 a capability is not an atom: CAPABILITY untyped\n");
    expect("* ENABLED CONDSTORE QRESYNC\r\n", "ENABLED atoms=CONDSTORE,QRESYNC\n");
    expect("* ENABLED\r\n", "ENABLED atoms=\n");

    expect("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
           "FLAGS atoms=\\\\Answered,\\\\Flagged,\\\\Deleted,\\\\Seen,\\\\Draft,$Forwarded\n");
    expect("* FLAGS ()\r\n", "FLAGS atoms=\n");
    /* Lenient paths: no parentheses; \* (a flag-perm); a quoted flag. */
    expect("* FLAGS \\Seen \\Draft\r\n",
           "FLAGS atoms=\\\\Seen,\\\\Draft diag@20{RFC 9051 7.3.5: the flags of a FLAGS response are not in parentheses}\n");
    expect("* FLAGS (\\Seen \\*)\r\n", "FLAGS atoms=\\\\Seen,\\\\* diag@27{RFC 9051 9: \\* is a flag-perm, only for PERMANENTFLAGS}\n");
    expect("* FLAGS (\"$x\")\r\n", "FLAGS atoms=$x diag@21{RFC 9051 7.3.5: a flag sent as a string; flags are atoms}\n");
    /* BAD: nested list, NIL-less nothing. */
    expect("* FLAGS ((\\Seen))\r\n", "ERROR BAD_FIELD@21 a flag is not an atom: FLAGS untyped\n");
    expect("* FLAGS (\\Seen) (\\Draft)\r\n",
           "ERROR BAD_FIELD@20 FLAGS is not followed by one parenthesised flag list: FLAGS untyped\n");
}

static void test_list_lsub(void **state)
{
    (void)state;
    expect("* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
           "LIST attrs=\\\\Noselect bits=0x2 delim=/ name=~/Mail/foo\n");
    expect("* LSUB () \".\" #news.comp.mail.misc\r\n", "LSUB attrs= bits=0 delim=. name=#news.comp.mail.misc\n");
    /* Every known attribute, any case. */
    expect("* LIST (\\noinferiors \\NOSELECT \\Marked \\Unmarked \\NonExistent \\Subscribed \\Remote "
           "\\HasChildren \\HasNoChildren \\All \\Archive \\Drafts \\Flagged \\Junk \\Sent \\Trash \\Important "
           "\\X-Other) NIL \"x\"\r\n",
           "LIST attrs=\\\\noinferiors,\\\\NOSELECT,\\\\Marked,\\\\Unmarked,\\\\NonExistent,\\\\Subscribed,\\\\Remote,"
           "\\\\HasChildren,\\\\HasNoChildren,\\\\All,\\\\Archive,\\\\Drafts,\\\\Flagged,\\\\Junk,\\\\Sent,\\\\Trash,"
           "\\\\Important,\\\\X-Other bits=0x1ffff delim=NIL name=x\n");
    /* INBOX in any case; quoted-specials in the delimiter. */
    expect("* LIST () \"\\\\\" inbox\r\n", "LIST attrs= bits=0 delim=\\ name=INBOX\n");
    expect("* LIST () \"/\" \"InBoX\"\r\n", "LIST attrs= bits=0 delim=/ name=INBOX\n");
    /* Modified UTF-7 name, and a literal name. */
    expect("* LIST (\\HasNoChildren) \"/\" \"&U,BTFw-/&ZeVnLIqe-\"\r\n",
           "LIST attrs=\\\\HasNoChildren bits=0x100 delim=/ "
           "name=\\xe5\\x8f\\xb0\\xe5\\x8c\\x97/\\xe6\\x97\\xa5\\xe6\\x9c\\xac\\xe8\\xaa\\x9e\n");
    expect("* LIST () \"/\" {7}\r\nSent it\r\n", "LIST attrs= bits=0 delim=/ name=Sent it\n");
    /* RFC 5258 CHILDINFO, RFC 9051 OLDNAME, an unknown extended item. */
    expect("* LIST (\\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\") X-ITEM 7)\r\n",
           "LIST attrs=\\\\Subscribed bits=0x20 delim=/ name=Foo childinfo=(\"SUBSCRIBED\") "
           "ext=(\"CHILDINFO\" (\"SUBSCRIBED\") X-ITEM 7)\n");
    expect("* LIST () \"/\" \"NewName\" (OLDNAME (\"&AOk-t&AOk-\"))\r\n",
           "LIST attrs= bits=0 delim=/ name=NewName oldname=\\xc3\\xa9t\\xc3\\xa9 ext=(OLDNAME (\"&AOk-t&AOk-\"))\n");
    /* A mailbox called NIL (an atom is an astring). */
    expect("* LIST () \"/\" NIL\r\n", "LIST attrs= bits=0 delim=/ name=NIL\n");

    /* Lenient: delimiter as an atom, as a literal, as ""; attribute without "\", quoted attribute; extra value. */
    expect("* LIST () / foo\r\n",
           "LIST attrs= bits=0 delim=/ name=foo diag@22{RFC 9051 7.3.1: a hierarchy delimiter is not a quoted character}\n");
    expect("* LIST () {1}\r\n/ foo\r\n",
           "LIST attrs= bits=0 delim=/ name=foo diag@22{RFC 9051 7.3.1: a hierarchy delimiter is not a quoted character}\n");
    expect("* LIST () \"\" foo\r\n",
           "LIST attrs= bits=0 delim=NIL name=foo diag@22{RFC 9051 7.3.1: an empty hierarchy delimiter, where NIL means none}\n");
    expect("* LIST (Marked \"\\\\Sent\") \"/\" foo\r\n",
           "LIST attrs=Marked,\\\\Sent bits=0x4000 delim=/ name=foo diag@20{RFC 9051 7.3.1: a mailbox attribute does not "
           "start with \\} diag@27{RFC 9051 7.3.1: a mailbox attribute is a string, not an atom}\n");
    expect("* LIST () \"/\" foo () bar\r\n",
           "LIST attrs= bits=0 delim=/ name=foo ext=() diag@33{RFC 9051 7.3.1: values after a LIST response's extended data}\n");

    /* A name with SP sent as atoms (Gromox, Exchange): the bytes from the first to the last. */
    expect("* LIST (\\HasNoChildren) \"/\" Deleted  Items\r\n",
           "LIST attrs=\\\\HasNoChildren bits=0x100 delim=/ name=Deleted  Items diag@47{RFC 9051 9: values are separated by "
           "exactly one SP} diag@40{RFC 9051 9: a mailbox name with SP in it is not quoted}\n");
    expect("* LIST () \"/\" Attivit&AOA- del mese\r\n",
           "LIST attrs= bits=0 delim=/ name=Attivit\\xc3\\xa0 del mese diag@26{RFC 9051 9: a mailbox name with SP in it is "
           "not quoted}\n");
    /* HTAB (Exchange) cannot stand for itself in modified UTF-7: the bytes as sent. */
    expect("* LIST () \"/\" Da\tOggetto\r\n",
           "LIST attrs= bits=0 delim=/ name=Da\\x09Oggetto(raw) diag@26{RFC 9051 9: a mailbox name with SP in it is not "
           "quoted} diag@26{RFC 3501 5.1.3: a mailbox name is not valid modified UTF-7}\n");

    /* BAD. */
    expect("* LIST () \"/\"\r\n", "ERROR BAD_FIELD@22 LIST needs attributes, a delimiter and a mailbox: LIST untyped\n");
    expect("* LIST \\Noselect \"/\" foo\r\n",
           "ERROR BAD_FIELD@19 LIST attributes are not a parenthesised list: LIST untyped\n");
    expect("* LIST () \"//\" foo\r\n",
           "ERROR BAD_FIELD@22 a hierarchy delimiter is not one quoted character or NIL: LIST untyped\n");
    expect("* LIST () \"/\" (foo)\r\n", "ERROR BAD_FIELD@26 a mailbox name is not an astring: LIST untyped\n");
    expect("* LIST ((x)) \"/\" foo\r\n", "ERROR BAD_FIELD@20 a mailbox attribute is not an atom: LIST untyped\n");
    expect("* LIST () \"/\" foo (CHILDINFO)\r\n",
           "ERROR BAD_FIELD@30 LIST extended data is not tag/value pairs: LIST untyped\n");
    expect("* LIST () \"/\" foo x (y)\r\n",
           "ERROR BAD_FIELD@30 LIST extended data is not a parenthesised list: LIST untyped\n");
    expect("* LIST () \"/\" foo (OLDNAME bar)\r\n",
           "ERROR BAD_FIELD@39 OLDNAME is not a list of one mailbox: LIST untyped\n");
    expect("* LIST () \"/\" foo (CHILDINFO x)\r\n", "ERROR BAD_FIELD@41 CHILDINFO is not a list: LIST untyped\n");
}

static void test_mailbox_names(void **state)
{
    (void)state;
    /* Invalid modified UTF-7: the raw bytes, mutf7_ok 0, a diagnostic. */
    expect("* LIST () \"/\" \"&Jjo\"\r\n",
           "LIST attrs= bits=0 delim=/ name=&Jjo(raw) diag@26{RFC 3501 5.1.3: a mailbox name is not valid modified UTF-7}\n");
    expect("* LIST () \"/\" \"&AGE-\"\r\n",
           "LIST attrs= bits=0 delim=/ name=&AGE-(raw) diag@26{RFC 3501 5.1.3: a mailbox name is not valid modified UTF-7}\n");
    /* 8-bit UTF-8 without UTF8=ACCEPT: kept as UTF-8, diagnosed under RFC 6855. */
    expect("* LIST () \"/\" \"caf\xc3\xa9\"\r\n",
           "LIST attrs= bits=0 delim=/ name=caf\\xc3\\xa9(raw) diag@26{RFC 3501 9: 8-bit bytes in a quoted string "
           "(allowed only after UTF8=ACCEPT)} diag@26{RFC 6855 3: a mailbox name is UTF-8 although UTF8=ACCEPT is not "
           "enabled}\n");
    /* 8-bit, not UTF-8. */
    expect("* LIST () \"/\" \"caf\xe9\"\r\n",
           "LIST attrs= bits=0 delim=/ name=caf\\xe9(raw) diag@26{RFC 3501 9: 8-bit bytes in a quoted string (allowed only "
           "after UTF8=ACCEPT)} diag@26{RFC 3501 5.1.3: a mailbox name is not valid modified UTF-7}\n");
    /* UTF8=ACCEPT: names are UTF-8 as sent, "&" is just "&". */
    expect_utf8("* LIST () \"/\" \"caf\xc3\xa9 &AOk-\"\r\n", "LIST attrs= bits=0 delim=/ name=caf\\xc3\\xa9 &AOk-\n");
    expect_utf8("* LIST () \"/\" \"caf\xe9\"\r\n",
                "LIST attrs= bits=0 delim=/ name=caf\\xe9 diag@26{RFC 6855 3: a mailbox name is not valid UTF-8}\n");
    expect_utf8("* LIST () \"/\" \"a\xed\xa0\x80\"\r\n", /* an encoded surrogate is not UTF-8 */
                "LIST attrs= bits=0 delim=/ name=a\\xed\\xa0\\x80 diag@26{RFC 6855 3: a mailbox name is not valid UTF-8}\n");
    expect_utf8("* LIST () \"/\" \"\xc0\xaf\"\r\n", /* overlong */
                "LIST attrs= bits=0 delim=/ name=\\xc0\\xaf diag@26{RFC 6855 3: a mailbox name is not valid UTF-8}\n");
    expect_utf8("* STATUS iNbOx (MESSAGES 1)\r\n", "STATUS name=INBOX MESSAGES:MESSAGES=1\n");
    /* ENABLED UTF8=ACCEPT switches names to UTF-8 for what follows. */
    expect("* ENABLED UTF8=ACCEPT\r\n* LIST () \"/\" \"&AOk-\"\r\n",
           "ENABLED atoms=UTF8=ACCEPT\nLIST attrs= bits=0 delim=/ name=&AOk-\n");
}

static void test_status(void **state)
{
    (void)state;
    expect("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
           "STATUS name=blurdybloop MESSAGES:MESSAGES=231 UIDNEXT:UIDNEXT=44292\n");
    expect("* STATUS \"A b\" (messages 1 RECENT 2 UIDVALIDITY 3 UNSEEN 4 DELETED 5 SIZE 6000000000 "
           "HIGHESTMODSEQ 7011231777 APPENDLIMIT 1000 MAILBOXID (F2212ea87-6097-4256-9d51-71338625) X-NEW (a b))\r\n",
           "STATUS name=A b MESSAGES:messages=1 RECENT:RECENT=2 UIDVALIDITY:UIDVALIDITY=3 UNSEEN:UNSEEN=4 "
           "DELETED:DELETED=5 SIZE:SIZE=6000000000 HIGHESTMODSEQ:HIGHESTMODSEQ=7011231777 "
           "APPENDLIMIT:APPENDLIMIT=1000 MAILBOXID:MAILBOXID=F2212ea87-6097-4256-9d51-71338625 OTHER:X-NEW~(a b)\n");
    /* Gromox: "* STATUS Deleted Items (...)", the name unquoted. */
    expect("* STATUS Deleted Items (MESSAGES 0 UNSEEN 0 RECENT 0)\r\n",
           "STATUS name=Deleted Items MESSAGES:MESSAGES=0 UNSEEN:UNSEEN=0 RECENT:RECENT=0 diag@21{RFC 9051 9: a mailbox "
           "name with SP in it is not quoted}\n");
    expect("* STATUS a b (c) (MESSAGES 0)\r\n",
           "ERROR BAD_FIELD@29 STATUS is not a mailbox and one parenthesised item list: STATUS untyped\n");
    expect("* STATUS foo (APPENDLIMIT NIL)\r\n", "STATUS name=foo APPENDLIMIT:APPENDLIMIT=NIL\n");
    expect("* STATUS foo ()\r\n", "STATUS name=foo\n");
    expect("* STATUS foo (UIDVALIDITY 0)\r\n",
           "STATUS name=foo UIDVALIDITY:UIDVALIDITY=0 diag@38{RFC 9051 9: STATUS UIDNEXT or UIDVALIDITY is 0, not an "
           "nz-number}\n");
    /* BAD. */
    expect("* STATUS foo (MESSAGES abc)\r\n",
           "ERROR BAD_FIELD@35 a STATUS item's value is not a number: STATUS untyped\n");
    expect("* STATUS foo (MESSAGES NIL)\r\n",
           "ERROR BAD_FIELD@35 a STATUS item's value is not a number: STATUS untyped\n");
    expect("* STATUS foo (MESSAGES)\r\n", "ERROR BAD_FIELD@25 STATUS items are not name/value pairs: STATUS untyped\n");
    expect("* STATUS foo (\"MESSAGES\" 1)\r\n",
           "ERROR BAD_FIELD@26 a STATUS item name is not an atom: STATUS untyped\n");
    expect("* STATUS foo (MAILBOXID abc)\r\n", "ERROR BAD_FIELD@36 MAILBOXID is not (objectid): STATUS untyped\n");
    expect("* STATUS foo\r\n",
           "ERROR BAD_FIELD@21 STATUS is not a mailbox and one parenthesised item list: STATUS untyped\n");
    expect("* STATUS (MESSAGES 1) (MESSAGES 1)\r\n",
           "ERROR BAD_FIELD@21 a mailbox name is not an astring: STATUS untyped\n");
}

static void test_search_sort(void **state)
{
    (void)state;
    expect("* SEARCH 2 84 882\r\n", "SEARCH nums=2,84,882\n");
    expect("* SEARCH\r\n", "SEARCH nums=\n");
    expect("* SEARCH 2 5 6 (MODSEQ 917162500)\r\n", "SEARCH nums=2,5,6 modseq=917162500\n");
    expect("* SORT 5 3 4 1 2\r\n", "SORT nums=5,3,4,1,2\n");
    expect("* SORT 5 3 (modseq 12)\r\n", "SORT nums=5,3 modseq=12\n");
    expect("* SEARCH 0 3\r\n", "SEARCH nums=0,3 diag@21{RFC 9051 9: a SEARCH or SORT result is 0, not an nz-number}\n");
    expect("* SEARCH 1 x\r\n", "ERROR BAD_FIELD@23 a SEARCH or SORT result is not a number: SEARCH untyped\n");
    expect("* SEARCH 1 (MODSEQ)\r\n",
           "ERROR BAD_FIELD@23 a SEARCH or SORT result ends in a list that is not (MODSEQ n): SEARCH untyped\n");
    expect("* SEARCH (MODSEQ 1) 2\r\n", "ERROR BAD_FIELD@21 a SEARCH or SORT result is not a number: SEARCH untyped\n");
}

static void test_esearch(void **state)
{
    (void)state;
    expect("* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n", "ESEARCH tag=\"A282\" MIN=2 COUNT=3\n");
    expect("* ESEARCH (TAG \"A284\") UID ALL 4:6,8,11:*\r\n", "ESEARCH tag=\"A284\" uid ALL=4:6,8,11:*\n");
    expect("* ESEARCH (TAG \"a\") UID MIN 7 MAX 3800 ALL 7 MODSEQ 124 X-NEW (1 2)\r\n",
           "ESEARCH tag=\"a\" uid MIN=7 MAX=3800 ALL=7 MODSEQ=124 X-NEW=~(1 2)\n");
    expect("* ESEARCH\r\n", "ESEARCH\n");
    expect("* ESEARCH UID COUNT 0\r\n", "ESEARCH uid COUNT=0\n");
    /* BAD. */
    expect("* ESEARCH (TAG) COUNT 1\r\n", "ERROR BAD_FIELD@22 an ESEARCH correlator is not (TAG string): ESEARCH untyped\n");
    expect("* ESEARCH COUNT\r\n", "ERROR BAD_FIELD@22 ESEARCH return data are not name/value pairs: ESEARCH untyped\n");
    expect("* ESEARCH MIN x\r\n",
           "ERROR BAD_FIELD@26 ESEARCH MIN, MAX, COUNT or MODSEQ is not a number: ESEARCH untyped\n");
    expect("* ESEARCH ALL 0:3\r\n",
           "ERROR BAD_FIELD@26 a sequence set is not (nz-number / \"*\") [\":\" ...] separated by \",\": ESEARCH untyped\n");
    expect("* ESEARCH \"MIN\" 1\r\n",
           "ERROR BAD_FIELD@22 an ESEARCH return data name is not an atom: ESEARCH untyped\n");
}

static void test_thread(void **state)
{
    (void)state;
    /* RFC 5256 4's example. */
    expect("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n", "THREAD roots=2 3(6(4(23) 44(7(96))))\n");
    /* A dummy parent (num 0). */
    expect("* THREAD ((3)(5))\r\n", "THREAD roots=0(3 5)\n");
    expect("* THREAD (1 (2)(3 4))\r\n", "THREAD roots=1(2 3(4))\n");
    /* One nested list that holds two: a dummy between 1 and them, and a diagnostic. */
    expect("* THREAD (1 ((2)(3 4)))\r\n",
           "THREAD roots=1(0(2 3(4))) diag@24{RFC 5256 5: thread-nested has one thread-list, not two or more}\n");
    expect("* THREAD\r\n", "THREAD roots=\n");
    /* One nested list where thread-nested needs two: kept, diagnosed. */
    expect("* THREAD (1 (2))\r\n",
           "THREAD roots=1(2) diag@24{RFC 5256 5: thread-nested has one thread-list, not two or more}\n");
    /* BAD. */
    expect("* THREAD ()\r\n", "ERROR BAD_FIELD@21 an empty thread list: THREAD untyped\n");
    expect("* THREAD 1\r\n", "ERROR BAD_FIELD@21 a THREAD element is not a parenthesised list: THREAD untyped\n");
    expect("* THREAD (1 (2)(3) 4)\r\n",
           "ERROR BAD_FIELD@31 a thread list has a number after a nested list: THREAD untyped\n");
    /* The forest is kept within limits.max_depth (100): a chain is as deep as it is long. */
    {
        mr_sbuf in = {0}, want = {0};
        mr_sb_add(&in, "* THREAD (", 10);
        mr_sb_add(&want, "THREAD roots=", 13);
        for (int i = 1; i <= 99; i++) {
            mr_sb_printf(&in, "%d ", i);
            mr_sb_printf(&want, "%d(", i);
        }
        mr_sb_add(&in, "(100)(200))\r\n", 14);
        mr_sb_add(&want, "100 200", 7);
        for (int i = 1; i <= 99; i++)
            mr_sb_add(&want, ")", 1);
        mr_sb_add(&want, "\n", 1);
        char *got = run(in.s, in.len, MR_LENIENT, 0, 0, 0);
        assert_string_equal(got, want.s);
        free(got);
        /* One level more. */
        in.len = 0;
        mr_sb_add(&in, "* THREAD (", 10);
        for (int i = 1; i <= 100; i++)
            mr_sb_printf(&in, "%d ", i);
        mr_sb_add(&in, "(101)(201))\r\n", 14);
        got = run(in.s, in.len, MR_LENIENT, 0, 0, 0);
        assert_string_equal(got, "ERROR BAD_FIELD@314 a thread is deeper than limits.max_depth: THREAD untyped\n");
        free(got);
        mr_sb_free(&in);
        mr_sb_free(&want);
    }
    expect("* THREAD (1 x)\r\n",
           "ERROR BAD_FIELD@24 a thread list has a number after a nested list: THREAD untyped\n");
}

static void test_namespace(void **state)
{
    (void)state;
    expect("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n", "NAMESPACE personal=[\"\"|/] other=NIL shared=NIL\n");
    expect("* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) ((\"~\" \"/\")) "
           "((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#ftp/\" \"/\")(\"#news.\" \".\"))\r\n",
           "NAMESPACE personal=[\"\"|/ \"#mh/\"|/|\"X-PARAM\":\"FLAG1\",\"FLAG2\"] other=[\"~\"|/] "
           "shared=[\"#shared/\"|/ \"#public/\"|/ \"#ftp/\"|/ \"#news.\"|.]\n");
    expect("* NAMESPACE ((\"INBOX.\" NIL)) NIL NIL\r\n", "NAMESPACE personal=[\"INBOX.\"|NIL] other=NIL shared=NIL\n");
    /* Lenient: () for NIL, an atom prefix, a delimiter atom, an atom extension name. */
    expect("* NAMESPACE () NIL NIL\r\n",
           "NAMESPACE personal=[] other=NIL shared=NIL diag@24{RFC 9051 7.3.2: an empty namespace list, where NIL means none}\n");
    expect("* NAMESPACE ((INBOX. .)) NIL NIL\r\n",
           "NAMESPACE personal=[INBOX.|.] other=NIL shared=NIL diag@26{RFC 9051 7.3.2: a namespace prefix is an atom, not "
           "a string} diag@33{RFC 9051 7.3.2: a hierarchy delimiter is not a quoted character}\n");
    expect("* NAMESPACE ((\"\" \"/\" X (\"a\"))) NIL NIL\r\n",
           "NAMESPACE personal=[\"\"|/|X:\"a\"] other=NIL shared=NIL diag@33{RFC 2342 5: a namespace extension name is an "
           "atom, not a string}\n");
    /* BAD. */
    expect("* NAMESPACE NIL NIL\r\n",
           "ERROR BAD_FIELD@24 NAMESPACE is not three namespaces (personal, other users', shared): NAMESPACE untyped\n");
    expect("* NAMESPACE x NIL NIL\r\n", "ERROR BAD_FIELD@24 a namespace is not NIL or a list: NAMESPACE untyped\n");
    expect("* NAMESPACE ((\"\")) NIL NIL\r\n",
           "ERROR BAD_FIELD@25 a namespace is not (prefix delimiter [extensions]): NAMESPACE untyped\n");
    expect("* NAMESPACE ((\"\" \"/\" \"X\" \"a\")) NIL NIL\r\n",
           "ERROR BAD_FIELD@37 a namespace extension's values are not a list of strings: NAMESPACE untyped\n");
    expect("* NAMESPACE (((a) \"/\")) NIL NIL\r\n", "ERROR BAD_FIELD@26 a namespace prefix is not a string: NAMESPACE untyped\n");
}

static void test_id_quota_metadata(void **state)
{
    (void)state;
    expect("* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" NIL)\r\n",
           "ID fields=\"name\"=\"Cyrus\",\"version\"=\"1.5\",\"os\"=NIL\n");
    expect("* ID NIL\r\n", "ID fields=NIL\n");
    expect("* ID (name Dovecot)\r\n", "ID fields=name=Dovecot diag@18{RFC 2971 4: a name is an atom, not a string} "
                                      "diag@23{RFC 2971 4: a value is an atom, not a string}\n");
    expect("* ID (\"name\")\r\n", "ERROR BAD_FIELD@18 ID fields are not string/nstring pairs: ID untyped\n");
    expect("* ID\r\n", "ERROR BAD_FIELD@12 ID is not followed by one list or NIL: ID untyped\n");

    expect("* QUOTA \"\" (STORAGE 10 512)\r\n", "QUOTA root=\"\" STORAGE=10/512\n");
    expect("* QUOTA user.x (STORAGE 10 512 MESSAGE 1 100000000000)\r\n",
           "QUOTA root=user.x STORAGE=10/512 MESSAGE=1/100000000000\n");
    expect("* QUOTA \"\" (STORAGE 10)\r\n", "ERROR BAD_FIELD@23 QUOTA resources are not name/usage/limit triples: QUOTA untyped\n");
    expect("* QUOTA \"\" (STORAGE 10 x)\r\n", "ERROR BAD_FIELD@35 a QUOTA resource limit is not a number: QUOTA untyped\n");
    expect("* QUOTA \"\" (STORAGE x 1)\r\n", "ERROR BAD_FIELD@32 a QUOTA resource usage is not a number: QUOTA untyped\n");
    expect("* QUOTA \"\" (1 1 1)\r\n", "ERROR BAD_FIELD@24 a QUOTA resource name is not an atom: QUOTA untyped\n");
    expect("* QUOTA (STORAGE 1 1)\r\n",
           "ERROR BAD_FIELD@20 QUOTA is not a root name and one parenthesised resource list: QUOTA untyped\n");

    expect("* QUOTAROOT INBOX \"\"\r\n", "QUOTAROOT name=INBOX roots=\"\"\n");
    expect("* QUOTAROOT comp.mail.mime\r\n", "QUOTAROOT name=comp.mail.mime roots=\n");
    expect("* QUOTAROOT INBOX a (b)\r\n", "ERROR BAD_FIELD@32 a quota root name is not an astring: QUOTAROOT untyped\n");

    expect("* METADATA \"INBOX\" (/private/comment \"My own comment\")\r\n",
           "METADATA name=INBOX values=/private/comment=\"My own comment\"\n");
    expect("* METADATA \"\" (/shared/comment NIL /shared/admin {3}\r\nx@y)\r\n",
           "METADATA name= values=/shared/comment=NIL,/shared/admin=\"x@y\"\n");
    expect("* METADATA \"INBOX\" /shared/comment /private/comment\r\n",
           "METADATA name=INBOX entries=/shared/comment,/private/comment\n");
    expect("* METADATA \"INBOX\" (/shared/comment)\r\n",
           "ERROR BAD_FIELD@32 METADATA values are not entry/value pairs: METADATA untyped\n");
    expect("* METADATA \"INBOX\" (a b) c\r\n",
           "ERROR BAD_FIELD@31 METADATA values are not one list of entry/value pairs: METADATA untyped\n");
    expect("* METADATA \"INBOX\" a (b)\r\n", "ERROR BAD_FIELD@33 a METADATA entry is not an astring: METADATA untyped\n");
    expect("* METADATA INBOX\r\n", "ERROR BAD_FIELD@23 METADATA needs a mailbox and entries: METADATA untyped\n");
}

static void test_acl_vanished_counts(void **state)
{
    (void)state;
    expect("* ACL INBOX Fred rwipsldexta -Fred \"\"\r\n", "ACL name=INBOX acl=Fred=rwipsldexta,-Fred=\"\"\n");
    expect("* ACL foo\r\n", "ACL name=foo acl=\n");
    expect("* MYRIGHTS INBOX rwiptsldaex\r\n", "MYRIGHTS name=INBOX rights=rwiptsldaex\n");
    expect("* LISTRIGHTS ~/Mail/saved smith la r swicdkxte\r\n",
           "LISTRIGHTS name=~/Mail/saved id=smith rights=la optional=r,swicdkxte\n");
    expect("* LISTRIGHTS x smith \"\"\r\n", "LISTRIGHTS name=x id=smith rights=\"\" optional=\n");
    expect("* ACL INBOX Fred\r\n", "ERROR BAD_FIELD@24 ACL entries are not identifier/rights pairs: ACL untyped\n");
    expect("* MYRIGHTS INBOX\r\n", "ERROR BAD_FIELD@23 MYRIGHTS is not a mailbox and rights: MYRIGHTS untyped\n");
    expect("* MYRIGHTS INBOX a b\r\n", "ERROR BAD_FIELD@31 MYRIGHTS is not a mailbox and rights: MYRIGHTS untyped\n");
    expect("* LISTRIGHTS INBOX smith\r\n",
           "ERROR BAD_FIELD@31 LISTRIGHTS is not a mailbox, an identifier and rights: LISTRIGHTS untyped\n");
    expect("* LISTRIGHTS INBOX smith a (b)\r\n",
           "ERROR BAD_FIELD@39 LISTRIGHTS rights are not an astring: LISTRIGHTS untyped\n");

    expect("* VANISHED (EARLIER) 300:310,405,411\r\n", "VANISHED earlier=1 uids=300:310,405,411\n");
    expect("* VANISHED 41\r\n", "VANISHED earlier=0 uids=41\n");
    expect("* VANISHED (LATER) 41\r\n",
           "ERROR BAD_FIELD@23 VANISHED is followed by a list that is not (EARLIER): VANISHED untyped\n");
    expect("* VANISHED (EARLIER)\r\n", "ERROR BAD_FIELD@23 VANISHED is not followed by one UID set: VANISHED untyped\n");
    expect("* VANISHED 1:x\r\n",
           "ERROR BAD_FIELD@25 a sequence set is not (nz-number / \"*\") [\":\" ...] separated by \",\": VANISHED untyped\n");

    expect("* 23 EXISTS\r\n* 1 RECENT\r\n* 44 EXPUNGE\r\n", "EXISTS n=23\nRECENT n=1\nEXPUNGE n=44\n");
}

/* The remaining BAD paths, one each. */
static void test_more_bad_paths(void **state)
{
    (void)state;
    expect("* FLAGS\r\n", "ERROR BAD_FIELD@12 FLAGS has no flag list: FLAGS untyped\n");
    expect("* LIST () \"/\" foo ((x) 1)\r\n",
           "ERROR BAD_FIELD@31 a LIST extended data tag is not an astring: LIST untyped\n");
    expect("* NAMESPACE ((\"\" \"/\" (x) (\"a\"))) NIL NIL\r\n",
           "ERROR BAD_FIELD@33 a namespace extension name is not a string: NAMESPACE untyped\n");
    expect("* NAMESPACE ((\"\" \"/\" \"X\" (\"a\" (b)))) NIL NIL\r\n",
           "ERROR BAD_FIELD@42 a namespace extension value is not a string: NAMESPACE untyped\n");
    expect("* ID ((a) \"b\")\r\n", "ERROR BAD_FIELD@18 ID fields are not string/nstring pairs: ID untyped\n");
    expect("* ID (\"a\" (b))\r\n", "ERROR BAD_FIELD@22 ID fields are not string/nstring pairs: ID untyped\n");
    expect("* ACL INBOX a (b)\r\n", "ERROR BAD_FIELD@26 ACL entries are not identifier/rights pairs: ACL untyped\n");
    expect("* MYRIGHTS INBOX (r)\r\n", "ERROR BAD_FIELD@29 MYRIGHTS rights are not an astring: MYRIGHTS untyped\n");
    expect("* LISTRIGHTS INBOX (a) b\r\n",
           "ERROR BAD_FIELD@31 a LISTRIGHTS identifier is not an astring: LISTRIGHTS untyped\n");
    expect("* LISTRIGHTS INBOX a (b)\r\n", "ERROR BAD_FIELD@33 LISTRIGHTS rights are not an astring: LISTRIGHTS untyped\n");
    expect("* QUOTAROOT\r\n", "ERROR BAD_FIELD@12 QUOTAROOT has no mailbox: QUOTAROOT untyped\n");
    expect("* ACL\r\n", "ERROR BAD_FIELD@12 ACL has no mailbox: ACL untyped\n");
    expect("* VANISHED (EARLIER) (1)\r\n", "ERROR BAD_FIELD@33 a sequence set is not an atom: VANISHED untyped\n");
    expect("* VANISHED \"\"\r\n",
           "ERROR BAD_FIELD@23 a sequence set is empty: VANISHED untyped diag@23{RFC 9051 9: a sequence set is sent as a "
           "string}\n");
    expect("* THREAD (0 1)\r\n",
           "THREAD roots=0(1) diag@22{RFC 5256 5: a thread member is 0, not an nz-number}\n");
    /* A 4-byte UTF-8 name after UTF8=ACCEPT. */
    expect_utf8("* LIST () \"/\" \"\xf0\x9f\x98\x80\"\r\n", "LIST attrs= bits=0 delim=/ name=\\xf0\\x9f\\x98\\x80\n");
    expect_utf8("* LIST () \"/\" \"\xf4\x90\x80\x80\"\r\n", /* past U+10FFFF */
                "LIST attrs= bits=0 delim=/ name=\\xf4\\x90\\x80\\x80 diag@26{RFC 6855 3: a mailbox name is not valid UTF-8}\n");
    /* Codes: a CAPABILITY code with a list, an empty METADATA code. */
    expect("* OK [CAPABILITY IMAP4rev1 (x)] x\r\n",
           "OK [CAPABILITY args=IMAP4rev1 (x)] diag@29{RFC 9051 7.1: a response code's arguments do not have the form its "
           "RFC gives}\n");
    expect("a NO [METADATA] x\r\n",
           "NO [METADATA] diag@18{RFC 5464 5: a response code's arguments do not have the form its RFC gives}\n");
}

static void test_seqsets(void **state)
{
    (void)state;
    expect("* VANISHED 1:3,5,7:*\r\n", "VANISHED earlier=0 uids=1:3,5,7:*\n");
    expect("* VANISHED *:4,5:7,*\r\n", "VANISHED earlier=0 uids=*:4,5:7,*\n");
    expect("* VANISHED 9:2\r\n", "VANISHED earlier=0 uids=9:2\n"); /* as sent, lo > hi */
    expect("* VANISHED 18446744073709551614\r\n", "VANISHED earlier=0 uids=18446744073709551614\n");
    /* A quoted set: taken, diagnosed. */
    expect("* VANISHED \"1:2\"\r\n",
           "VANISHED earlier=0 uids=1:2 diag@23{RFC 9051 9: a sequence set is sent as a string}\n");
    static const char *const bad[] = {"0", "1,0", "1:0", "01:2x", "1,,2", "1,", ",1", "1:", ":1", "1:2:3",
                                      "$", "1.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char in[64], *got;
        snprintf(in, sizeof in, "* VANISHED %s\r\n", bad[i]);
        got = parse_checked(in, 0);
        if (!strstr(got, "ERROR BAD_FIELD@") || !strstr(got, "a sequence set is not"))
            fail_msg("\"%s\" accepted: %s", bad[i], got);
        free(got);
    }
}

/* ---- response codes ---------------------------------------------------------- */

static void test_codes_typed(void **state)
{
    (void)state;
    expect("* OK [ALERT] System shutdown in 10 minutes\r\n", "OK [ALERT]\n");
    expect("a NO [BADCHARSET (UTF-8 \"US-ASCII\")] no\r\n", "NO [BADCHARSET args=(UTF-8 \"US-ASCII\") atoms=UTF-8,US-ASCII]\n");
    expect("a NO [BADCHARSET] no\r\n", "NO [BADCHARSET]\n");
    expect("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN] Dovecot ready.\r\n",
           "OK [CAPABILITY args=IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN "
           "atoms=IMAP4rev1,SASL-IR,LOGIN-REFERRALS,ID,ENABLE,IDLE,AUTH=PLAIN]\n");
    expect("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
           "OK [PERMANENTFLAGS args=(\\\\Deleted \\\\Seen \\\\*) atoms=\\\\Deleted,\\\\Seen,\\\\*]\n");
    expect("* OK [PERMANENTFLAGS ()] none\r\n", "OK [PERMANENTFLAGS args=()]\n");
    expect("* OK [UIDNEXT 4392] Predicted next UID\r\n", "OK [UIDNEXT args=4392 num=4392]\n");
    expect("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", "OK [UIDVALIDITY args=3857529045 num=3857529045]\n");
    expect("* OK [UNSEEN 12] Message 12 is first unseen\r\n", "OK [UNSEEN args=12 num=12]\n");
    expect("* OK [HIGHESTMODSEQ 715194045007] Highest\r\n", "OK [HIGHESTMODSEQ args=715194045007 num=715194045007]\n");
    expect("a OK [APPENDUID 38505 3955] APPEND completed\r\n", "OK [APPENDUID args=38505 3955 num=38505 set1=3955]\n");
    expect("a OK [APPENDUID 38505 3955:3957] MULTIAPPEND\r\n",
           "OK [APPENDUID args=38505 3955:3957 num=38505 set1=3955:3957]\n");
    expect("a OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
           "OK [COPYUID args=38505 304,319:320 3956:3958 num=38505 set1=304,319:320 set2=3956:3958]\n");
    expect("d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n", "OK [MODIFIED args=7,9 set1=7,9]\n");
    expect("a NO [REFERRAL IMAP://user;AUTH=*@SERVER2/] Remote Server\r\n",
           "NO [REFERRAL args=IMAP://user;AUTH=*@SERVER2/ text=IMAP://user;AUTH=*@SERVER2/]\n");
    expect("a OK [METADATA LONGENTRIES 2199] GETMETADATA complete\r\n",
           "OK [METADATA args=LONGENTRIES 2199 num=2199 text=LONGENTRIES]\n");
    expect("a NO [METADATA MAXSIZE 1024] too big\r\n", "NO [METADATA args=MAXSIZE 1024 num=1024 text=MAXSIZE]\n");
    expect("a NO [METADATA TOOMANY] SETMETADATA failed\r\n", "NO [METADATA args=TOOMANY text=TOOMANY]\n");
    expect("a NO [METADATA NOPRIVATE] no\r\n", "NO [METADATA args=NOPRIVATE text=NOPRIVATE]\n");
    expect("a OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Completed\r\n",
           "OK [MAILBOXID args=(F2212ea87-6097-4256-9d51-71338625) text=F2212ea87-6097-4256-9d51-71338625]\n");
    /* Case-insensitive names. */
    expect("* ok [uidnext 5] x\r\n", "OK [UIDNEXT args=5 num=5]\n");
    /* Unknown: OTHER, not an error. */
    expect("* OK [X-FOO bar baz] hi\r\n", "OK [OTHER X-FOO args=bar baz]\n");
}

static void test_codes_without_args(void **state)
{
    (void)state;
    static const char *const names[] = {
        "ALERT", "PARSE", "READ-ONLY", "READ-WRITE", "TRYCREATE", "UIDNOTSTICKY", "NOMODSEQ", "CLOSED",
        "UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED", "PRIVACYREQUIRED",
        "CONTACTADMIN", "NOPERM", "INUSE", "EXPUNGEISSUED", "CORRUPTION", "SERVERBUG", "CLIENTBUG", "CANNOT",
        "LIMIT", "OVERQUOTA", "ALREADYEXISTS", "NONEXISTENT", "NOTSAVED", "HASCHILDREN", "UNKNOWN-CTE",
        "COMPRESSIONACTIVE", "USEATTR"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char in[128], want[128], *got;
        snprintf(in, sizeof in, "a NO [%s] text\r\n", names[i]);
        snprintf(want, sizeof want, "NO [%s]\n", names[i]);
        got = parse_checked(in, 0);
        if (strcmp(got, want) != 0)
            fail_msg("want %s got %s", want, got);
        free(got);
        /* With an argument: kept, diagnosed. */
        snprintf(in, sizeof in, "a NO [%s extra] text\r\n", names[i]);
        got = parse_checked(in, 0);
        snprintf(want, sizeof want, "NO [%s args=extra] diag@", names[i]);
        if (strncmp(got, want, strlen(want)) != 0 || !strstr(got, "a response code that takes no argument has one"))
            fail_msg("want %s... got %s", want, got);
        free(got);
    }
    /* The code's name is found whatever its kind, so the whole map is covered. */
    for (int k = MR_IMAP_CODE_ALERT; k < MR_IMAP_CODE_OTHER; k++)
        assert_true(strlen(mr_imap_code_name((mr_imap_code_kind)k)) > 0);
}

static void test_codes_broken_args(void **state)
{
    (void)state;
    /* A known code whose arguments do not fit: kind kept, typed fields zero, diagnostic, text kept. */
    expect("* OK [UIDNEXT abc] Predicted next UID\r\n",
           "OK [UIDNEXT args=abc] diag@26{RFC 9051 7.1: a response code's arguments do not have the form its RFC gives}\n");
    expect("* OK [UIDNEXT] x\r\n",
           "OK [UIDNEXT] diag@18{RFC 9051 7.1: a response code's arguments do not have the form its RFC gives}\n");
    expect("* OK [UIDVALIDITY 0] x\r\n",
           "OK [UIDVALIDITY args=0] diag@30{RFC 9051 7.1: UIDNEXT or UIDVALIDITY is 0, not an nz-number}\n");
    expect("a OK [APPENDUID 1 0] x\r\n",
           "OK [APPENDUID args=1 0] diag@28{RFC 4315 3: a response code's arguments do not have the form its RFC gives}\n");
    expect("a OK [COPYUID 0 35 41] x\r\n",
           "OK [COPYUID args=0 35 41 set1=35 set2=41] diag@26{RFC 4315 3: a UIDVALIDITY is 0, not an nz-number}\n");
    expect("* OK [HIGHESTMODSEQ 0] x\r\n",
           "OK [HIGHESTMODSEQ args=0] diag@32{RFC 7162 7: HIGHESTMODSEQ is 0, not a mod-sequence-value (NOMODSEQ means "
           "none)}\n");
    expect("a OK [COPYUID 1 2:3] x\r\n",
           "OK [COPYUID args=1 2:3] diag@26{RFC 4315 3: a response code's arguments do not have the form its RFC gives}\n");
    expect("a OK [COPYUID 1 2 x] x\r\n",
           "OK [COPYUID args=1 2 x] diag@26{RFC 4315 3: a response code's arguments do not have the form its RFC gives}\n");
    expect("a OK [MODIFIED] x\r\n",
           "OK [MODIFIED] diag@18{RFC 7162 3.1.3: a response code's arguments do not have the form its RFC gives}\n");
    expect("* OK [PERMANENTFLAGS \\Seen] x\r\n",
           "OK [PERMANENTFLAGS args=\\\\Seen] diag@33{RFC 9051 7.1: a response code's arguments do not have the form its "
           "RFC gives}\n");
    /* RFC 9051 6.4.4.4's example 5 itself leaves out the parentheses. */
    expect("a NO [BADCHARSET UTF-8 \"KOI8-R\"] x\r\n",
           "NO [BADCHARSET args=UTF-8 \"KOI8-R\" atoms=UTF-8,KOI8-R] diag@29{RFC 9051 7.1: BADCHARSET's charsets are not in "
           "parentheses}\n");
    expect("a NO [BADCHARSET (UTF-8) x] x\r\n",
           "NO [BADCHARSET args=(UTF-8) x] diag@29{RFC 9051 7.1: a response code's arguments do not have the form its RFC "
           "gives}\n");
    expect("a NO [METADATA MAXSIZE] x\r\n",
           "NO [METADATA args=MAXSIZE] diag@27{RFC 5464 5: a response code's arguments do not have the form its RFC "
           "gives}\n");
    expect("a NO [METADATA OTHER 1] x\r\n",
           "NO [METADATA args=OTHER 1] diag@27{RFC 5464 5: a response code's arguments do not have the form its RFC gives}\n");
    expect("a OK [MAILBOXID abc] x\r\n",
           "OK [MAILBOXID args=abc] diag@28{RFC 8474 4.1: a response code's arguments do not have the form its RFC gives}\n");
    expect("a NO [REFERRAL] x\r\n",
           "NO [REFERRAL] diag@18{RFC 2221 3: a response code's arguments do not have the form its RFC gives}\n");
    expect("* OK [CAPABILITY IDLE] x\r\n",
           "OK [CAPABILITY args=IDLE atoms=IDLE] diag@29{RFC 9051 9: a CAPABILITY code lists neither IMAP4rev2 nor "
           "IMAP4rev1}\n");
}

/* ---- memory --------------------------------------------------------------- */

/* Every typed decoder and code, for the allocation tests. */
static const char k_all_types[] =
    "* CAPABILITY IMAP4rev1 IDLE\r\n"
    "* OK [PERMANENTFLAGS (\\Seen \\*)] x\r\n"
    "* OK [CAPABILITY IMAP4rev1 IDLE] x\r\n"
    "a NO [BADCHARSET (UTF-8 US-ASCII)] x\r\n"
    "a OK [COPYUID 38505 304,319:320 3956:3958] x\r\n"
    "a OK [MODIFIED 7,9] x\r\n"
    "* FLAGS (\\Seen \\Draft)\r\n"
    "* LIST (\\HasNoChildren) \"/\" \"&U,BTFw-/&ZeVnLIqe-\" (CHILDINFO (SUBSCRIBED) OLDNAME (\"&AOk-\"))\r\n"
    "* STATUS \"&AOk-\" (MESSAGES 1 MAILBOXID (abc) X (1))\r\n"
    "* SEARCH 1 2 3 (MODSEQ 5)\r\n"
    "* ESEARCH (TAG \"a\") UID ALL 1:3,5 MIN 1\r\n"
    "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"
    "* NAMESPACE ((\"\" \"/\" \"X\" (\"a\" \"b\"))) NIL ((\"#s/\" \"/\"))\r\n"
    "* ID (\"name\" \"x\")\r\n"
    "* QUOTA \"\" (STORAGE 1 2 MESSAGE 3 4)\r\n"
    "* QUOTAROOT INBOX a b\r\n"
    "* METADATA INBOX (/a 1 /b NIL)\r\n"
    "* METADATA INBOX /a /b\r\n"
    "* ACL INBOX a b c d\r\n"
    "* LISTRIGHTS INBOX a b c d\r\n"
    "* VANISHED (EARLIER) 1:3,5\r\n";

/* got is ref, or a prefix of ref's lines and then the fatal error err. */
static void check_degrades(const char *ref, const char *got, const char *err)
{
    if (strcmp(got, ref) == 0 || strcmp(got, "NEW FAILED\n") == 0)
        return;
    const char *last = got + strlen(got) - 1; /* the final '\n' */
    while (last > got && last[-1] != '\n')
        last--;
    size_t head = (size_t)(last - got);
    if (strncmp(got, ref, head) != 0)
        fail_msg("before the failure the output differs:\nref: %s\ngot: %s", ref, got);
    if (strncmp(last, "ERROR ", 6) != 0 || strncmp(last + 6, err, strlen(err)) != 0)
        fail_msg("the failure is not %s:\n%s", err, last);
}

static void test_failing_allocations(void **state)
{
    (void)state;
    size_t n = sizeof k_all_types - 1;
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = MR_STRICT;
    char *ref = run_opt(k_all_types, n, &o, 0, 0, 0);
    assert_null(strstr(ref, "ERROR"));
    for (int piece = 0; piece <= 5; piece += 5) {
        size_t fail_at;
        for (fail_at = 1;; fail_at++) {
            mr_fail_alloc fa;
            mr_fail_alloc_init(&fa, fail_at);
            o.alloc = &fa.a;
            char *got = run_opt(k_all_types, n, &o, 0, (size_t)piece, 0);
            assert_int_equal(fa.in_use, 0); /* everything freed */
            check_degrades(ref, got, "NO_MEMORY@");
            free(got);
            if (!fa.failed)
                break;
        }
        assert_true(fail_at > 2);
    }
    o.alloc = NULL;
    /* limits.max_memory reached at every point of the decoders. */
    for (size_t mem = 64; mem < 4096; mem += 8) {
        o.limits.max_memory = mem;
        char *got = run_opt(k_all_types, n, &o, 0, 0, 0);
        check_degrades(ref, got, "MEMORY_LIMIT@");
        free(got);
    }
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutf7_valid),
        cmocka_unit_test(test_mutf7_invalid),
        cmocka_unit_test(test_mutf7_truncated_output),
        cmocka_unit_test(test_mutf7_roundtrip),
        cmocka_unit_test(test_mutf7_accepts_only_canonical),
        cmocka_unit_test(test_capability_enabled_flags),
        cmocka_unit_test(test_list_lsub),
        cmocka_unit_test(test_mailbox_names),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_search_sort),
        cmocka_unit_test(test_esearch),
        cmocka_unit_test(test_thread),
        cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_id_quota_metadata),
        cmocka_unit_test(test_acl_vanished_counts),
        cmocka_unit_test(test_more_bad_paths),
        cmocka_unit_test(test_seqsets),
        cmocka_unit_test(test_codes_typed),
        cmocka_unit_test(test_codes_without_args),
        cmocka_unit_test(test_codes_broken_args),
        cmocka_unit_test(test_failing_allocations),
    };
    return cmocka_run_group_tests_name("imap_data", tests, NULL, NULL);
}
