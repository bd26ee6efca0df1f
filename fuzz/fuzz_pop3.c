/*
 * fuzz_pop3.c - the POP3 response parser (parsers/pop3/mr_pop3.h).
 *
 * Input: 4 header bytes, then what the server sent.
 *   0  the command every response after the greeting answers
 *      (byte % the command count, skipping GREETING; GUESS queues
 *      nothing and lets the parser guess single- or multi-line)
 *   1  flags (mr_fuzz.h: strict, small limits, streaming, failing
 *      allocator, feeding)
 *   2  seed of the varying feeding
 *   3  allocation number that fails, with the failing-allocator flag
 *
 * Checks per event, beyond "no crash": ranges in order and within what
 * was fed, every line and span readable and inside its response, body
 * size equal to the lines (or to the chunks of a streamed body), typed
 * results consistent with the command, no diagnostics in lenient mode.
 */
#include <jansson.h>

#include "mr_fuzz.h"
#include "mr_json.h"
#include "pop3/mr_pop3.h"

typedef struct ctx {
    mr_pop3_cmd cmd;
    mr_pop3_event ev;
    uint64_t chunk_bytes; /* of the streamed body under way */
} ctx;

static void *create(const mr_options *o) { return mr_pop3_new(o); }
static void destroy(void *p) { mr_pop3_free(p); }
static uint64_t offset(const void *p) { return mr_pop3_offset(p); }
static const mr_error *error(const void *c) { return &((const ctx *)c)->ev.error; }

static void before(void *p, void *vc)
{
    ctx *c = vc;
    if (c->cmd != MR_POP3_GUESS && mr_pop3_pending(p) == 0)
        (void)mr_pop3_expect(p, c->cmd); /* NO_MEMORY shows in the next event */
}

static mr_event_type next(void *p, const uint8_t *d, size_t n, size_t *used, void *vc)
{
    return mr_pop3_next(p, d, n, used, &((ctx *)vc)->ev);
}

static mr_event_type finish(void *p, void *vc) { return mr_pop3_finish(p, &((ctx *)vc)->ev); }

static void reset(void *p, void *vc)
{
    mr_pop3_reset(p);
    ((ctx *)vc)->chunk_bytes = 0;
}

static void touch_span(mr_span s) { mr_fuzz_touch(s.ptr, s.len); }

static void check_response(mr_fuzz_stream *st, ctx *c, const mr_pop3_response *r)
{
    uint64_t body = 0;
    MR_FUZZ_CHECK(r->cmd < MR_POP3__CMD_COUNT && r->cmd != MR_POP3_GUESS, "command %d", (int)r->cmd);
    MR_FUZZ_CHECK(r->status <= MR_POP3_STATUS_NONE, "status %d", (int)r->status);
    MR_FUZZ_CHECK(r->code_kind <= MR_POP3_CODE_OTHER, "code kind %d", (int)r->code_kind);
    /* "[]" is an empty code of kind OTHER (strict mode flags it). */
    MR_FUZZ_CHECK(r->code_kind != MR_POP3_CODE_NONE || r->code.len == 0,
                  "code of %zu bytes with kind %s", r->code.len, mr_pop3_code_name(r->code_kind));
    mr_fuzz_check_range(st, r->offset, r->end);
    mr_fuzz_check_line(&r->status_line, r->offset, r->end);
    MR_FUZZ_CHECK(r->status_line.offset == r->offset, "status line at %llu, response at %llu",
                  (unsigned long long)r->status_line.offset, (unsigned long long)r->offset);
    touch_span(r->code);
    touch_span(r->text);
    touch_span(r->timestamp);
    touch_span(r->sasl);
    MR_FUZZ_CHECK(r->multiline || (r->n_lines == 0 && !r->streamed), "single-line response with a body");
    MR_FUZZ_CHECK(r->n_lines == 0 || r->lines, "%zu lines without an array", r->n_lines);
    for (size_t i = 0; i < r->n_lines; i++) {
        mr_fuzz_check_line(&r->lines[i], r->offset, r->end);
        MR_FUZZ_CHECK(i == 0 || r->lines[i].offset > r->lines[i - 1].offset, "lines out of order");
        body += r->lines[i].len + r->lines[i].eol;
    }
    if (r->streamed) {
        MR_FUZZ_CHECK(r->n_lines == 0, "a streamed body kept %zu lines", r->n_lines);
        MR_FUZZ_CHECK(r->body_bytes == c->chunk_bytes, "streamed body of %llu bytes came in %llu",
                      (unsigned long long)r->body_bytes, (unsigned long long)c->chunk_bytes);
    } else {
        MR_FUZZ_CHECK(c->chunk_bytes == 0, "chunks before a body that is not streamed");
        MR_FUZZ_CHECK(r->body_bytes == body, "body_bytes %llu, lines hold %llu",
                      (unsigned long long)r->body_bytes, (unsigned long long)body);
    }
    MR_FUZZ_CHECK(r->body_bytes <= r->end - r->offset, "body larger than the response");
    MR_FUZZ_CHECK(r->n_entries == 0 || r->entries, "entries without an array");
    for (size_t i = 0; i < r->n_entries; i++)
        touch_span(r->entries[i].uid);
    MR_FUZZ_CHECK(r->n_capas == 0 || r->capas, "capabilities without an array");
    for (size_t i = 0; i < r->n_capas; i++) {
        const mr_pop3_capa *k = &r->capas[i];
        MR_FUZZ_CHECK(k->kind <= MR_POP3_CAPA_LANG, "capability kind %d", (int)k->kind);
        MR_FUZZ_CHECK(k->name.len > 0, "capability without a name");
        touch_span(k->name);
        touch_span(k->args);
        MR_FUZZ_CHECK(k->n_params == 0 || k->params, "parameters without an array");
        for (size_t j = 0; j < k->n_params; j++)
            touch_span(k->params[j]);
    }
    MR_FUZZ_CHECK(r->n_items == 0 || r->items, "items without an array");
    for (size_t i = 0; i < r->n_items; i++)
        touch_span(r->items[i]);
    if (r->status == MR_POP3_STATUS_CONT)
        MR_FUZZ_CHECK(!r->multiline, "a continuation with a body");
    mr_fuzz_check_diags(st, r->diags, r->n_diags, r->diags_dropped);
    MR_FUZZ_CHECK(mr_pop3_cmd_name(r->cmd) && mr_pop3_code_name(r->code_kind), "unnamed");
    /* Every field again, through the JSON builder (names, typed results). */
    json_decref(mr_json_pop3(&c->ev, 0, 1));
    mr_fuzz_digest(st, r->body_bytes);
    c->chunk_bytes = 0;
}

static void check(mr_fuzz_stream *st, void *p, void *vc, mr_event_type t)
{
    ctx *c = vc;
    const mr_pop3_event *ev = &c->ev;
    (void)p;
    MR_FUZZ_CHECK(ev->type == t, "event type %d returned as %d", (int)ev->type, (int)t);
    switch (t) {
    case MR_EV_BODY_CHUNK:
        MR_FUZZ_CHECK(ev->chunk.len > 0, "an empty body chunk");
        mr_fuzz_touch(ev->chunk.ptr, ev->chunk.len);
        c->chunk_bytes += ev->chunk.len;
        mr_fuzz_digest(st, ev->chunk.len);
        break;
    case MR_EV_RESPONSE:
        MR_FUZZ_CHECK(ev->response != NULL, "a response event without a response");
        check_response(st, c, ev->response);
        break;
    default:
        if (mr_errcode_is_fatal(ev->error.code))
            MR_FUZZ_CHECK(ev->response == NULL, "fatal %s with a response",
                          mr_errcode_name(ev->error.code));
        else if (ev->response)
            check_response(st, c, ev->response);
        break;
    }
}

static const mr_fuzz_ops ops = {create, destroy, before, next, finish, reset, error, check, offset};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 4);
    ctx c = {0};
    c.cmd = (mr_pop3_cmd)(1 + mr_fuzz_hdr(&in, 0) % (MR_POP3__CMD_COUNT - 1));
    mr_fuzz_drive(&ops, &c, &in, mr_fuzz_hdr(&in, 1), mr_fuzz_hdr(&in, 2), mr_fuzz_hdr(&in, 3));
    return 0;
}
