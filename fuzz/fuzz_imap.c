/*
 * fuzz_imap.c - the IMAP response parser (parsers/imap/mr_imap.h), its
 * printer and its utilities (modified UTF-7, date-time).
 *
 * Input: 4 header bytes, then what the server sent.
 *   0  setup: bit 0 the stream starts after the greeting, bit 1 UTF-8
 *      mailbox names (RFC 6855), bits 2-4 a command line the client sent
 *      first (table below: AUTHENTICATE makes "+" lines SASL challenges)
 *   1  flags (mr_fuzz.h)
 *   2  seed of the varying feeding
 *   3  allocation number that fails, with the failing-allocator flag
 *
 * Checks per event: ranges in order and within what was fed; the value
 * tree well formed (types, counts, depth within max_depth, numbers equal
 * to their digits, literals the size they announced, every value inside
 * its response); streamed literal chunks in order and within their size;
 * every typed result readable (through the JSON builder, which reads each
 * span); the printer's length exact and its truncation safe; every string
 * value decoded as modified UTF-7 into valid UTF-8 or refused; every
 * date-time that parses in range.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "imap/mr_imap.h"
#include "mr_fuzz.h"
#include "mr_json.h"
#include "mr_utf8.h"

static const char *const commands[8] = {
    NULL,
    "a1 AUTHENTICATE PLAIN\r\n",
    "a1 IDLE\r\n",
    "a1 UID FETCH 1:* (FLAGS BODY.PEEK[])\r\n",
    "a1 SELECT INBOX\r\n",
    "a1 LIST \"\" *\r\n",
    "a1 APPEND INBOX {5}\r\n",
    "a1 AUTHENTICATE XOAUTH2\r\n",
};

typedef struct ctx {
    uint8_t setup;
    int started;
    mr_imap_event ev;
    const mr_imap_response *r; /* the response being checked */
    size_t values;             /* values counted in its tree */
    int literals;              /* literals counted in its tree */
    uint32_t lit_index;        /* the streamed literal under way */
    uint64_t lit_done;         /* its bytes handed out so far */
    int lit_open;
} ctx;

static void *create(const mr_options *o) { return mr_imap_new(o); }
static void destroy(void *p) { mr_imap_free(p); }
static uint64_t offset(const void *p) { return mr_imap_offset(p); }
static const mr_error *error(const void *c) { return &((const ctx *)c)->ev.error; }

static void before(void *p, void *vc)
{
    ctx *c = vc;
    const char *cmd = commands[(c->setup >> 2) & 7];
    if (c->started)
        return;
    c->started = 1;
    if (c->setup & 1)
        mr_imap_skip_greeting(p);
    if (c->setup & 2)
        mr_imap_set_utf8(p, 1);
    if (cmd)
        (void)mr_imap_expect_line(p, (const uint8_t *)cmd, strlen(cmd));
}

static mr_event_type next(void *p, const uint8_t *d, size_t n, size_t *used, void *vc)
{
    return mr_imap_next(p, d, n, used, &((ctx *)vc)->ev);
}

static mr_event_type finish(void *p, void *vc) { return mr_imap_finish(p, &((ctx *)vc)->ev); }

static void reset(void *p, void *vc)
{
    ctx *c = vc;
    mr_imap_reset(p);
    c->started = 0; /* the setup again: greeting, UTF-8, the command */
    c->lit_open = 0;
}

/* A string value as a mailbox name: decoded, or refused, never more. */
static void check_mutf7(mr_span s)
{
    size_t n = mr_imap_mutf7_decode(s.ptr, s.len, NULL, 0), half;
    uint8_t *out;
    if (n == SIZE_MAX)
        return;
    out = mr_fuzz_copy(NULL, n);
    MR_FUZZ_CHECK(mr_imap_mutf7_decode(s.ptr, s.len, out, n) == n, "decoding twice differs");
    MR_FUZZ_CHECK(mr_utf8_valid(out, n), "modified UTF-7 decoded into invalid UTF-8");
    half = n / 2;
    MR_FUZZ_CHECK(mr_imap_mutf7_decode(s.ptr, s.len, out, half) == n,
                  "a short buffer changes the length");
    free(out);
}

static void check_time(mr_span s)
{
    mr_imap_time t;
    if (!mr_imap_parse_time(s, &t))
        return;
    MR_FUZZ_CHECK(t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour >= 0 &&
                      t.hour <= 24 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 &&
                      t.second <= 60 && t.zone >= -(99 * 60 + 59) && t.zone <= 99 * 60 + 59,
                  "date-time out of range: %d-%d-%d %d:%d:%d %d", t.year, t.month, t.day, t.hour,
                  t.minute, t.second, t.zone);
}

static void check_value(ctx *c, const mr_fuzz_stream *st, const mr_imap_value *v, size_t depth)
{
    const mr_imap_response *r = c->r;
    mr_limits l = st->opt->limits;
    mr_limits_resolve(&l);
    c->values++;
    MR_FUZZ_CHECK(v->type <= MR_IMAP_V_LIST, "value type %u", (unsigned)v->type);
    MR_FUZZ_CHECK(depth <= l.max_depth + 1, "a value at depth %zu, limit %zu", depth, l.max_depth);
    MR_FUZZ_CHECK(v->offset >= r->offset && v->offset < r->end,
                  "a value at %llu outside its response [%llu, %llu)", (unsigned long long)v->offset,
                  (unsigned long long)r->offset, (unsigned long long)r->end);
    mr_fuzz_touch(v->raw.ptr, v->raw.len);
    mr_fuzz_touch(v->str.ptr, v->str.len);
    MR_FUZZ_CHECK(!v->has_section || v->type == MR_IMAP_V_ATOM, "a section after a %s",
                  mr_imap_vtype_name(v->type));
    MR_FUZZ_CHECK(!v->streamed || v->type == MR_IMAP_V_LITERAL || v->type == MR_IMAP_V_LITERAL8,
                  "a streamed %s", mr_imap_vtype_name(v->type));
    switch (v->type) {
    case MR_IMAP_V_NUMBER: {
        uint64_t n = 0;
        MR_FUZZ_CHECK(v->raw.len > 0, "a number without digits");
        for (size_t i = 0; i < v->raw.len; i++) {
            uint64_t d = (uint64_t)(v->raw.ptr[i] - '0');
            MR_FUZZ_CHECK(v->raw.ptr[i] >= '0' && v->raw.ptr[i] <= '9', "a number with a non-digit");
            MR_FUZZ_CHECK(n < UINT64_MAX / 10 || (n == UINT64_MAX / 10 && d <= UINT64_MAX % 10),
                          "a number over 64 bits");
            n = n * 10 + d;
        }
        MR_FUZZ_CHECK(n == v->num, "number %llu read as %llu", (unsigned long long)n,
                      (unsigned long long)v->num);
        break;
    }
    case MR_IMAP_V_QUOTED:
        MR_FUZZ_CHECK(v->escaped || (v->str.len == v->raw.len), "unescaped quoted text changed");
        MR_FUZZ_CHECK(v->str.len <= v->raw.len, "unescaping made the text longer");
        break;
    case MR_IMAP_V_LITERAL:
    case MR_IMAP_V_LITERAL8:
        c->literals++;
        MR_FUZZ_CHECK((int)v->literal_index < r->n_literals, "literal index %u of %d",
                      (unsigned)v->literal_index, r->n_literals);
        if (v->streamed)
            MR_FUZZ_CHECK(v->str.len == 0, "a streamed literal kept bytes");
        else
            MR_FUZZ_CHECK(v->str.len == v->num, "a literal of %llu bytes holds %zu",
                          (unsigned long long)v->num, v->str.len);
        break;
    case MR_IMAP_V_LIST:
    case MR_IMAP_V_ATOM:
        break;
    default:
        break;
    }
    if (v->type == MR_IMAP_V_QUOTED || v->type == MR_IMAP_V_ATOM ||
        ((v->type == MR_IMAP_V_LITERAL || v->type == MR_IMAP_V_LITERAL8) && !v->streamed)) {
        if (v->str.len <= 1024)
            check_mutf7(v->str);
        if (v->str.len >= 20 && v->str.len <= 40)
            check_time(v->str);
    }
    MR_FUZZ_CHECK(v->n_items == 0 || v->items, "%zu items without an array", v->n_items);
    MR_FUZZ_CHECK(v->n_items == 0 || v->type == MR_IMAP_V_LIST || v->has_section,
                  "a %s with items", mr_imap_vtype_name(v->type));
    for (size_t i = 0; i < v->n_items; i++)
        check_value(c, st, &v->items[i], depth + 1);
}

static void check_print(const mr_imap_response *r, int ok)
{
    size_t n = mr_imap_print(r, NULL, 0), half;
    uint8_t *out;
    if (n == SIZE_MAX) {
        /* Only streamed literals, an unknown response kept as text
         * without its literals, and a code with literals cannot be
         * printed (mr_imap.h). */
        MR_FUZZ_CHECK(!ok || r->n_streamed > 0 ||
                          (r->type == MR_IMAP_TYPE_OTHER && r->n_values == 0 && r->n_literals > 0) ||
                          (r->has_code && r->n_literals > 0),
                      "a response that parsed cannot be printed");
        return;
    }
    MR_FUZZ_CHECK(n >= 2, "printed in %zu bytes", n);
    out = mr_fuzz_copy(NULL, n);
    MR_FUZZ_CHECK(mr_imap_print(r, out, n) == n, "printing twice differs in length");
    MR_FUZZ_CHECK(out[n - 2] == '\r' && out[n - 1] == '\n', "printed without CRLF at the end");
    free(out);
    half = n / 2;
    out = mr_fuzz_copy(NULL, half);
    MR_FUZZ_CHECK(mr_imap_print(r, out, half) == n, "a short buffer changes the length");
    free(out);
}

static void check_response(mr_fuzz_stream *st, ctx *c, const mr_imap_event *ev, int ok)
{
    const mr_imap_response *r = ev->response;
    json_t *j;
    MR_FUZZ_CHECK(r->kind <= MR_IMAP_CONTINUATION, "kind %d", (int)r->kind);
    MR_FUZZ_CHECK(r->type < MR_IMAP_TYPE__COUNT, "type %d", (int)r->type);
    mr_fuzz_check_range(st, r->offset, r->end);
    /* A line that starts with neither a tag, "*" nor "+" is a BAD_SYNTAX
     * error of kind tagged with an empty tag; a response has a tag. */
    MR_FUZZ_CHECK(!ok || r->kind != MR_IMAP_TAGGED || r->tag.len > 0,
                  "a tagged response without a tag");
    MR_FUZZ_CHECK((r->kind == MR_IMAP_CONTINUATION) == (r->type == MR_IMAP_TYPE_CONTINUE),
                  "kind %s with type %s", mr_imap_kind_name(r->kind), mr_imap_type_name(r->type));
    if (r->has_code && ok) { /* a BAD_SYNTAX may stop before the code is read */
        MR_FUZZ_CHECK(r->code.kind > MR_IMAP_CODE_NONE && r->code.kind < MR_IMAP_CODE__COUNT,
                      "code kind %d", (int)r->code.kind);
        MR_FUZZ_CHECK(r->code.offset > r->offset && r->code.offset < r->end,
                      "a code at %llu outside its response", (unsigned long long)r->code.offset);
    }
    MR_FUZZ_CHECK(r->n_streamed >= 0 && r->n_streamed <= r->n_literals, "%d of %d literals streamed",
                  r->n_streamed, r->n_literals);
    MR_FUZZ_CHECK(r->n_values == 0 || r->values, "%zu values without an array", r->n_values);
    c->r = r;
    c->values = 0;
    c->literals = 0;
    for (size_t i = 0; i < r->n_values; i++)
        check_value(c, st, &r->values[i], 1);
    for (size_t i = 0; i < r->code.n_args; i++)
        check_value(c, st, &r->code.args[i], 1);
    MR_FUZZ_CHECK(c->literals <= r->n_literals, "%d literals in the tree, %d counted", c->literals,
                  r->n_literals);
    if (ok) {
        mr_limits l = st->opt->limits;
        mr_limits_resolve(&l);
        MR_FUZZ_CHECK(c->values <= l.max_items + 1, "%zu values, limit %zu", c->values, l.max_items);
    }
    mr_fuzz_check_diags(st, r->diags, r->n_diags, r->diags_dropped);
    /* Every typed result and span, read by the JSON builder. */
    j = mr_json_imap(ev, 0, 1);
    json_decref(j);
    check_print(r, ok);
    mr_fuzz_digest(st, (uint64_t)r->type << 8 | (uint64_t)r->kind);
    c->lit_open = 0;
}

static void check_chunk(mr_fuzz_stream *st, ctx *c, const mr_imap_event *ev)
{
    const mr_imap_literal_info *li = &ev->literal;
    MR_FUZZ_CHECK(ev->chunk.len > 0, "an empty literal chunk");
    mr_fuzz_touch(ev->chunk.ptr, ev->chunk.len);
    mr_fuzz_touch(li->context.ptr, li->context.len);
    if (c->lit_open && li->index == c->lit_index)
        MR_FUZZ_CHECK(li->done == c->lit_done, "chunk at %llu of literal %u, %llu handed out",
                      (unsigned long long)li->done, (unsigned)li->index,
                      (unsigned long long)c->lit_done);
    else
        MR_FUZZ_CHECK(li->done == 0 && (!c->lit_open || li->index > c->lit_index),
                      "literal %u starts at %llu", (unsigned)li->index, (unsigned long long)li->done);
    MR_FUZZ_CHECK(li->done + ev->chunk.len <= li->size, "chunk past the literal's %llu bytes",
                  (unsigned long long)li->size);
    c->lit_open = 1;
    mr_fuzz_digest(st, ev->chunk.len);
    c->lit_index = li->index;
    c->lit_done = li->done + ev->chunk.len;
}

static void check(mr_fuzz_stream *st, void *p, void *vc, mr_event_type t)
{
    ctx *c = vc;
    const mr_imap_event *ev = &c->ev;
    (void)p;
    MR_FUZZ_CHECK(ev->type == t, "event type %d returned as %d", (int)ev->type, (int)t);
    switch (t) {
    case MR_EV_BODY_CHUNK:
        check_chunk(st, c, ev);
        break;
    case MR_EV_RESPONSE:
        MR_FUZZ_CHECK(ev->response != NULL, "a response event without a response");
        check_response(st, c, ev, 1);
        break;
    default:
        if (mr_errcode_is_fatal(ev->error.code))
            MR_FUZZ_CHECK(ev->response == NULL, "fatal %s with a response",
                          mr_errcode_name(ev->error.code));
        else if (ev->response)
            check_response(st, c, ev, 0);
        break;
    }
}

static const mr_fuzz_ops ops = {create, destroy, before, next, finish, reset, error, check, offset};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 4);
    ctx c;
    memset(&c, 0, sizeof c);
    c.setup = mr_fuzz_hdr(&in, 0);
    mr_fuzz_drive(&ops, &c, &in, mr_fuzz_hdr(&in, 1), mr_fuzz_hdr(&in, 2), mr_fuzz_hdr(&in, 3));
    return 0;
}
