/*
 * mr_json.c - parser events as jansson objects, in the key order that
 * docs/cli.md documents.  Every builder returns NULL when jansson runs out
 * of memory; a partly built object is released first.
 */
#include "mr_json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_utf8.h"

/* Set key to v (stolen); remembers a failure (o or v NULL, or the set
 * failed) in *ok. */
void mr_json_put(json_t *o, const char *key, json_t *v, int *ok)
{
    if (!o || !v) {
        json_decref(v);
        *ok = 0;
    } else if (json_object_set_new_nocheck(o, key, v) != 0) {
        *ok = 0;
    }
}

/* Append v (stolen) to array a, the same way. */
void mr_json_push(json_t *a, json_t *v, int *ok)
{
    if (!a || !v) {
        json_decref(v);
        *ok = 0;
    } else if (json_array_append_new(a, v) != 0) {
        *ok = 0;
    }
}

json_t *mr_json_finish(json_t *o, int ok)
{
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *mr_json_span(mr_span s) { return mr_json_bytes(s.ptr, s.len); }

#define put mr_json_put
#define push mr_json_push
#define finish mr_json_finish
#define span mr_json_span

/* Integers beyond json_int_t (long long; never in practice) are clamped. */
static json_t *u64(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? (json_int_t)LLONG_MAX : (json_int_t)v);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *mr_json_bytes(const uint8_t *p, size_t len)
{
    static const uint8_t fffd[3] = {0xEF, 0xBF, 0xBD};
    uint8_t *buf;
    size_t i = 0, o = 0;
    json_t *s;

    if (len == 0)
        return json_string("");
    if (mr_utf8_valid(p, len))
        return json_stringn_nocheck((const char *)p, len);
    /* Each replaced byte becomes at most 3 bytes. */
    if (len > SIZE_MAX / 3)
        return NULL;
    buf = malloc(len * 3);
    if (!buf)
        return NULL;
    while (i < len) {
        size_t n;
        if (mr_utf8_next(p + i, len - i, &n)) {
            memcpy(buf + o, p + i, n);
            o += n;
        } else {
            memcpy(buf + o, fffd, 3);
            o += 3;
        }
        i += n;
    }
    s = json_stringn_nocheck((const char *)buf, o);
    free(buf);
    return s;
}

json_t *mr_json_error(const mr_error *e)
{
    json_t *o = json_object();
    int ok = 1;
    put(o, "code", json_string(mr_errcode_name(e->code)), &ok);
    put(o, "reason", json_string(mr_errcode_reason(e->code)), &ok);
    put(o, "detail", str_or_null(e->detail), &ok);
    put(o, "offset", u64(e->offset), &ok);
    return finish(o, ok);
}

json_t *mr_json_range(uint64_t a, uint64_t b)
{
    json_t *r = json_array();
    int ok = 1;
    push(r, u64(a), &ok);
    push(r, u64(b), &ok);
    return finish(r, ok);
}

json_t *mr_json_diagnostics(const mr_diag *d, size_t n)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        json_t *o = json_object();
        int ok2 = 1;
        put(o, "offset", u64(d[i].offset), &ok2);
        put(o, "ref", str_or_null(d[i].ref), &ok2);
        put(o, "message", str_or_null(d[i].message), &ok2);
        push(a, finish(o, ok2), &ok);
    }
    return finish(a, ok);
}

json_t *mr_json_span_list(const mr_span *s, size_t n)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        push(a, span(s[i]), &ok);
    return finish(a, ok);
}

/* ------------------------------------------------------------------ POP3 */

/*
 * A POP3 capability or an SMTP EHLO keyword: name, kind, params, number
 * when present, then up to two flags (a NULL key is skipped).
 */
static json_t *named_item(mr_span name, const char *kind, const mr_span *params, size_t n_params,
                          int has_number, uint64_t number, const char *flag1, int on1, const char *flag2,
                          int on2)
{
    json_t *o = json_object();
    int ok = 1;
    put(o, "name", span(name), &ok);
    put(o, "kind", json_string(kind), &ok);
    put(o, "params", mr_json_span_list(params, n_params), &ok);
    if (has_number)
        put(o, "number", u64(number), &ok);
    if (flag1 && on1)
        put(o, flag1, json_true(), &ok);
    if (flag2 && on2)
        put(o, flag2, json_true(), &ok);
    return finish(o, ok);
}

static json_t *pop3_capas(const mr_pop3_response *r)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < r->n_capas && ok; i++) {
        const mr_pop3_capa *k = &r->capas[i];
        push(a, named_item(k->name, mr_pop3_capa_kind_name(k->kind), k->params, k->n_params, k->has_number,
                           k->number, "never", k->never, "per_user", k->per_user), &ok);
    }
    return finish(a, ok);
}

static json_t *pop3_entries(const mr_pop3_response *r, int uidl)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < r->n_entries && ok; i++) {
        json_t *o = json_object();
        int ok2 = 1;
        put(o, "msg", u64(r->entries[i].msg), &ok2);
        if (uidl)
            put(o, "uid", span(r->entries[i].uid), &ok2);
        else
            put(o, "size", u64(r->entries[i].size), &ok2);
        push(a, finish(o, ok2), &ok);
    }
    return finish(a, ok);
}

static json_t *pop3_fields(const mr_pop3_response *r)
{
    json_t *f = json_object();
    int ok = 1;
    if (r->status == MR_POP3_STATUS_CONT && r->cmd == MR_POP3_AUTH) {
        put(f, "challenge", span(r->sasl), &ok);
        return finish(f, ok);
    }
    if (r->cmd == MR_POP3_GREETING) {
        if (r->timestamp.len)
            put(f, "timestamp", span(r->timestamp), &ok);
        return finish(f, ok);
    }
    if (r->status != MR_POP3_STATUS_OK)
        return f;
    switch (r->cmd) {
    case MR_POP3_STAT:
        put(f, "count", u64(r->count), &ok);
        put(f, "size", u64(r->size), &ok);
        break;
    case MR_POP3_LIST:
    case MR_POP3_LIST_ONE:
        put(f, "entries", pop3_entries(r, 0), &ok);
        break;
    case MR_POP3_UIDL:
    case MR_POP3_UIDL_ONE:
        put(f, "entries", pop3_entries(r, 1), &ok);
        break;
    case MR_POP3_CAPA:
        put(f, "capabilities", pop3_capas(r), &ok);
        break;
    case MR_POP3_AUTH_LIST:
    case MR_POP3_LANG_LIST:
        put(f, "items", mr_json_span_list(r->items, r->n_items), &ok);
        break;
    default:
        break;
    }
    return finish(f, ok);
}

json_t *mr_json_pop3(const mr_pop3_event *ev, uint64_t chunks, int show_chunks)
{
    const mr_pop3_response *r = ev->response;
    json_t *o = json_object();
    int ok = 1;
    put(o, "protocol", json_string("pop3"), &ok);
    if (r) {
        put(o, "kind", json_string(mr_pop3_cmd_name(r->cmd)), &ok);
        /* MR_POP3_STATUS_NONE: the line was no status line (BAD_STATUS). */
        put(o, "status",
            r->status == MR_POP3_STATUS_NONE ? json_null()
                                             : json_string(mr_pop3_status_name(r->status)),
            &ok);
        put(o, "code", r->code.len ? span(r->code) : json_null(), &ok);
        put(o, "code_kind",
            r->code_kind != MR_POP3_CODE_NONE ? json_string(mr_pop3_code_name(r->code_kind))
                                              : json_null(),
            &ok);
        put(o, "text", span(r->text), &ok);
        put(o, "range", mr_json_range(r->offset, r->end), &ok);
        put(o, "multiline", json_boolean(r->multiline), &ok);
        if (r->multiline) {
            put(o, "body_bytes", u64(r->body_bytes), &ok);
            put(o, "streamed", json_boolean(r->streamed), &ok);
            if (r->streamed && show_chunks)
                put(o, "chunks", u64(chunks), &ok);
            if (!r->streamed) {
                json_t *lines = json_array();
                int ok2 = 1;
                for (size_t i = 0; i < r->n_lines && ok2; i++)
                    push(lines, mr_json_bytes(r->lines[i].ptr, r->lines[i].len), &ok2);
                put(o, "lines", finish(lines, ok2), &ok);
            }
        }
        put(o, "fields", pop3_fields(r), &ok);
        put(o, "diagnostics", mr_json_diagnostics(r->diags, r->n_diags), &ok);
    }
    if (ev->type == MR_EV_ERROR)
        put(o, "error", mr_json_error(&ev->error), &ok);
    if (r && r->diags_dropped)
        put(o, "diagnostics_dropped", u64(r->diags_dropped), &ok);
    return finish(o, ok);
}

/* ------------------------------------------------------------------ SMTP */

static json_t *smtp_keywords(const mr_smtp_reply *r)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < r->n_keywords && ok; i++) {
        const mr_smtp_keyword *k = &r->keywords[i];
        push(a, named_item(k->name, mr_smtp_ext_name(k->kind), k->params, k->n_params, k->has_number, k->number,
                           "legacy", k->legacy, NULL, 0), &ok);
    }
    return finish(a, ok);
}

static json_t *smtp_fields(const mr_smtp_reply *r)
{
    json_t *f = json_object();
    int ok = 1;
    if (r->code == 334) {
        put(f, "challenge", span(r->sasl), &ok);
        return finish(f, ok);
    }
    switch (r->cmd) {
    case MR_SMTP_GREETING: /* "220 " or "554 " Domain (RFC 5321 4.2, 3.1) */
        if (r->domain.len)
            put(f, "domain", span(r->domain), &ok);
        break;
    case MR_SMTP_HELO:
    case MR_SMTP_EHLO:
    case MR_SMTP_LHLO:
        /* Only the success reply, 250, names the server and lists keywords
         * (RFC 5321 4.1.1.1 ehlo-ok-rsp, 4.3.2). */
        if (r->code != 250)
            break;
        if (r->domain.len)
            put(f, "domain", span(r->domain), &ok);
        if (r->cmd != MR_SMTP_HELO)
            put(f, "keywords", smtp_keywords(r), &ok);
        break;
    default:
        break;
    }
    return finish(f, ok);
}

static json_t *smtp_enhanced(const mr_smtp_enhanced *e)
{
    char buf[40];
    if (!e->present)
        return json_null();
    if (e->raw.len)
        return span(e->raw);
    snprintf(buf, sizeof buf, "%u.%u.%u", e->klass, e->subject, e->detail);
    return json_string(buf);
}

json_t *mr_json_smtp(const mr_smtp_event *ev)
{
    const mr_smtp_reply *r = ev->reply;
    json_t *o = json_object();
    int ok = 1;
    put(o, "protocol", json_string("smtp"), &ok);
    if (r) {
        put(o, "kind", json_string(mr_smtp_cmd_name(r->cmd)), &ok);
        put(o, "code", json_integer((json_int_t)r->code), &ok);
        put(o, "status", json_string(mr_smtp_severity(r->code)), &ok);
        put(o, "enhanced", smtp_enhanced(&r->enhanced), &ok);
        put(o, "text", mr_json_span_list(r->texts, r->n_lines), &ok);
        put(o, "mixed_codes", json_boolean(r->mixed_codes), &ok);
        put(o, "range", mr_json_range(r->offset, r->end), &ok);
        put(o, "fields", smtp_fields(r), &ok);
        put(o, "diagnostics", mr_json_diagnostics(r->diags, r->n_diags), &ok);
    }
    if (ev->type == MR_EV_ERROR)
        put(o, "error", mr_json_error(&ev->error), &ok);
    if (r && r->diags_dropped)
        put(o, "diagnostics_dropped", u64(r->diags_dropped), &ok);
    return finish(o, ok);
}
