/*
 * fuzz_smtp.c - the SMTP reply parser (parsers/smtp/mr_smtp.h).
 *
 * Input: 4 header bytes, then what the server sent.
 *   0  the command every reply after the greeting answers (byte % the
 *      command count, skipping GREETING; GUESS queues nothing)
 *   1  flags (mr_fuzz.h)
 *   2  seed of the varying feeding
 *   3  allocation number that fails, with the failing-allocator flag
 *
 * Checks per event: ranges in order and within what was fed; every line
 * inside its reply and each line's text inside that line; the reply code
 * the three digits of its final line; EHLO keywords, enhanced code, domain and SASL challenge
 * readable; a fatal error carries no reply; no diagnostics in lenient mode.
 */
#include <jansson.h>

#include "mr_fuzz.h"
#include "mr_json.h"
#include "smtp/mr_smtp.h"

typedef struct ctx {
    mr_smtp_cmd cmd;
    mr_smtp_event ev;
} ctx;

static void *create(const mr_options *o) { return mr_smtp_new(o); }
static void destroy(void *p) { mr_smtp_free(p); }
static uint64_t offset(const void *p) { return mr_smtp_offset(p); }
static const mr_error *error(const void *c) { return &((const ctx *)c)->ev.error; }

static void before(void *p, void *vc)
{
    ctx *c = vc;
    if (c->cmd != MR_SMTP_GUESS && mr_smtp_pending(p) == 0)
        (void)mr_smtp_expect(p, c->cmd); /* a failure is fatal and shows in the next event */
}

static mr_event_type next(void *p, const uint8_t *d, size_t n, size_t *used, void *vc)
{
    return mr_smtp_next(p, d, n, used, &((ctx *)vc)->ev);
}

static mr_event_type finish(void *p, void *vc) { return mr_smtp_finish(p, &((ctx *)vc)->ev); }
static void reset(void *p, void *vc) { mr_smtp_reset(p); }

static void touch_span(mr_span s) { mr_fuzz_touch(s.ptr, s.len); }

static void check_reply(mr_fuzz_stream *st, const mr_smtp_reply *r, int ok)
{
    MR_FUZZ_CHECK(r->cmd < MR_SMTP__CMD_COUNT && r->cmd != MR_SMTP_GUESS, "command %d", (int)r->cmd);
    mr_fuzz_check_range(st, r->offset, r->end);
    MR_FUZZ_CHECK(r->n_lines > 0 && r->lines && r->texts, "a reply with %zu lines", r->n_lines);
    MR_FUZZ_CHECK(r->code <= 999, "reply code %u", r->code);
    if (ok) {
        /* The code is the three digits the final line starts with
         * ("000" to "999": the class is checked in strict mode only). */
        const mr_line *last = &r->lines[r->n_lines - 1];
        MR_FUZZ_CHECK(last->len >= 3 && last->ptr[0] >= '0' && last->ptr[0] <= '9' &&
                          last->ptr[1] >= '0' && last->ptr[1] <= '9' && last->ptr[2] >= '0' &&
                          last->ptr[2] <= '9' &&
                          (unsigned)((last->ptr[0] - '0') * 100 + (last->ptr[1] - '0') * 10 +
                                     (last->ptr[2] - '0')) == r->code,
                      "reply code %u is not the final line's", r->code);
    }
    for (size_t i = 0; i < r->n_lines; i++) {
        const mr_line *l = &r->lines[i];
        mr_span t = r->texts[i];
        mr_fuzz_check_line(l, r->offset, r->end);
        MR_FUZZ_CHECK(i == 0 || l->offset > r->lines[i - 1].offset, "lines out of order");
        MR_FUZZ_CHECK(t.len == 0 || (t.ptr >= l->ptr && t.ptr + t.len <= l->ptr + l->len),
                      "the text of line %zu is not inside the line", i);
    }
    MR_FUZZ_CHECK(r->lines[0].offset == r->offset, "first line at %llu, reply at %llu",
                  (unsigned long long)r->lines[0].offset, (unsigned long long)r->offset);
    if (r->enhanced.present) {
        MR_FUZZ_CHECK(r->enhanced.klass >= 2 && r->enhanced.klass <= 5, "enhanced class %u",
                      r->enhanced.klass);
        MR_FUZZ_CHECK(r->enhanced.raw.len >= 5, "enhanced code of %zu bytes", r->enhanced.raw.len);
    }
    touch_span(r->enhanced.raw);
    touch_span(r->domain);
    touch_span(r->sasl);
    MR_FUZZ_CHECK(r->n_keywords == 0 || r->keywords, "keywords without an array");
    for (size_t i = 0; i < r->n_keywords; i++) {
        const mr_smtp_keyword *k = &r->keywords[i];
        MR_FUZZ_CHECK(k->kind <= MR_SMTP_EXT_HELP, "keyword kind %d", (int)k->kind);
        /* A line that is no keyword is a BAD_FIELD, its word kept as OTHER. */
        MR_FUZZ_CHECK(!ok || k->name.len > 0, "keyword without a name");
        touch_span(k->name);
        touch_span(k->args);
        MR_FUZZ_CHECK(k->n_params == 0 || k->params, "parameters without an array");
        for (size_t j = 0; j < k->n_params; j++)
            touch_span(k->params[j]);
    }
    MR_FUZZ_CHECK(mr_smtp_severity(r->code) != NULL, "no severity");
    mr_fuzz_check_diags(st, r->diags, r->n_diags, r->diags_dropped);
    mr_fuzz_digest(st, r->code);
}

static void check(mr_fuzz_stream *st, void *p, void *vc, mr_event_type t)
{
    ctx *c = vc;
    const mr_smtp_event *ev = &c->ev;
    (void)p;
    MR_FUZZ_CHECK(ev->type == t, "event type %d returned as %d", (int)ev->type, (int)t);
    MR_FUZZ_CHECK(t != MR_EV_BODY_CHUNK, "SMTP has no body chunks");
    /* Every field again, through the JSON builder (names, typed results). */
    json_decref(mr_json_smtp(ev));
    if (t == MR_EV_RESPONSE) {
        MR_FUZZ_CHECK(ev->reply != NULL, "a response event without a reply");
        check_reply(st, ev->reply, 1);
    } else if (mr_errcode_is_fatal(ev->error.code)) {
        MR_FUZZ_CHECK(ev->reply == NULL, "fatal %s with a reply", mr_errcode_name(ev->error.code));
    } else {
        MR_FUZZ_CHECK(ev->reply != NULL, "non-fatal %s without its reply",
                      mr_errcode_name(ev->error.code));
        check_reply(st, ev->reply, 0);
        MR_FUZZ_CHECK(ev->error.offset >= ev->reply->offset && ev->error.offset < ev->reply->end,
                      "%s at %llu outside its reply [%llu, %llu)", mr_errcode_name(ev->error.code),
                      (unsigned long long)ev->error.offset, (unsigned long long)ev->reply->offset,
                      (unsigned long long)ev->reply->end);
    }
}

static const mr_fuzz_ops ops = {create, destroy, before, next, finish, reset, error, check, offset};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 4);
    ctx c = {0};
    c.cmd = (mr_smtp_cmd)(1 + mr_fuzz_hdr(&in, 0) % (MR_SMTP__CMD_COUNT - 1));
    mr_fuzz_drive(&ops, &c, &in, mr_fuzz_hdr(&in, 1), mr_fuzz_hdr(&in, 2), mr_fuzz_hdr(&in, 3));
    return 0;
}
