/*
 * mr_json_imap.c - IMAP parser events as jansson objects, in the key order
 * that docs/cli.md ("IMAP") documents: the response head, the response
 * code, the typed data of each response type (RFC 9051 7 and the
 * extensions of parsers/imap/mr_imap.h), and the generic value tree.
 *
 * Every builder returns NULL when jansson runs out of memory; a partly
 * built object is released first.  Nesting (lists, body structures,
 * threads) is as deep as the parser allowed (limits.max_depth, at most
 * MR_MAX_DEPTH_CAP); the builders stop at that depth and write
 * {"too_deep":true}, which the parser never makes them do.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "mr_json.h"

#define put mr_json_put
#define push mr_json_push
#define finish mr_json_finish
#define span mr_json_span

/* Deeper than any tree the parser hands out. */
#define JSON_MAX_DEPTH (MR_MAX_DEPTH_CAP + 8)

/* {key: v}, v stolen. */
static json_t *object1(const char *key, json_t *v)
{
    json_t *o = json_object();
    int ok = 1;
    put(o, key, v, &ok);
    return finish(o, ok);
}

static json_t *too_deep(void) { return object1("too_deep", json_true()); }

/* A number: an integer up to 2^63-1 (json_int_t), beyond that (no RFC
 * allows it: mod-sequence-value is 63-bit, RFC 7162 7) a string of digits. */
static json_t *num(uint64_t v)
{
    char buf[24];
    if (v <= (uint64_t)LLONG_MAX)
        return json_integer((json_int_t)v);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static int is_status(mr_imap_type t)
{
    return t == MR_IMAP_TYPE_OK || t == MR_IMAP_TYPE_NO || t == MR_IMAP_TYPE_BAD ||
           t == MR_IMAP_TYPE_PREAUTH || t == MR_IMAP_TYPE_BYE;
}

/* ------------------------------------------------------------ value tree */

static json_t *value_at(const mr_imap_value *v, size_t depth);

static json_t *values_at(const mr_imap_value *v, size_t n, size_t depth)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        push(a, value_at(&v[i], depth), &ok);
    return finish(a, ok);
}

static json_t *literal(const char *key, const mr_imap_value *v)
{
    json_t *o = json_object();
    int ok = 1;
    put(o, key, v->streamed ? json_null() : span(v->str), &ok);
    put(o, "size", num(v->streamed ? v->num : (uint64_t)v->str.len), &ok);
    if (v->nonsync)
        put(o, "nonsync", json_true(), &ok);
    if (v->streamed)
        put(o, "streamed", json_true(), &ok);
    return finish(o, ok);
}

static json_t *value_at(const mr_imap_value *v, size_t depth)
{
    json_t *o;
    int ok = 1;
    if (depth > JSON_MAX_DEPTH)
        return too_deep();
    switch ((mr_imap_vtype)v->type) {
    case MR_IMAP_V_NIL:
        return json_null();
    case MR_IMAP_V_NUMBER:
        if (v->num <= (uint64_t)LLONG_MAX)
            return json_integer((json_int_t)v->num);
        return object1("number", span(v->raw));
    case MR_IMAP_V_QUOTED:
        return span(v->str);
    case MR_IMAP_V_LITERAL:
        return literal("literal", v);
    case MR_IMAP_V_LITERAL8:
        return literal("literal8", v);
    case MR_IMAP_V_LIST:
        return values_at(v->items, v->items ? v->n_items : 0, depth + 1);
    case MR_IMAP_V_ATOM:
        break;
    }
    o = json_object();
    put(o, "atom", span(v->raw), &ok);
    if (v->has_section)
        put(o, "section", values_at(v->items, v->items ? v->n_items : 0, depth + 1), &ok);
    if (v->has_origin)
        put(o, "origin", num(v->num), &ok);
    return finish(o, ok);
}

json_t *mr_json_imap_value(const mr_imap_value *v) { return value_at(v, 0); }

/* ------------------------------------------------------------ small types */

/* An nstring: null for NIL (or absent), a string otherwise; a streamed
 * literal's bytes were not kept: {"streamed":true,"size":n}. */
static json_t *nstring(mr_imap_nstring v)
{
    json_t *o;
    int ok = 1;
    if (!v || v->type == MR_IMAP_V_NIL)
        return json_null();
    if (v->type == MR_IMAP_V_LIST)
        return value_at(v, 0); /* not a string: show what came */
    if (!v->streamed)
        return span(v->str);
    o = json_object();
    put(o, "streamed", json_true(), &ok);
    put(o, "size", num(v->num), &ok);
    return finish(o, ok);
}

static json_t *seq_number(uint64_t v) { return v == MR_IMAP_STAR ? json_string("*") : num(v); }

/* [[lo,hi],...], "*" for MR_IMAP_STAR. */
static json_t *seqset(const mr_imap_seqset *s)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < s->n && ok; i++) {
        json_t *r = json_array();
        int ok2 = 1;
        push(r, seq_number(s->ranges[i].lo), &ok2);
        push(r, seq_number(s->ranges[i].hi), &ok2);
        push(a, finish(r, ok2), &ok);
    }
    return finish(a, ok);
}

/* {"raw": the astring as sent, "name": UTF-8, "mutf7_ok": bool}. */
static json_t *mailbox(const mr_imap_mailbox *m)
{
    json_t *o = json_object();
    int ok = 1;
    put(o, "raw", nstring(m->value), &ok);
    put(o, "name", span(m->name), &ok);
    put(o, "mutf7_ok", json_boolean(m->mutf7_ok), &ok);
    return finish(o, ok);
}

/* A delimiter byte as a one-character string, or null for NIL (-1). */
static json_t *delimiter(int d)
{
    uint8_t c = (uint8_t)d;
    return d < 0 ? json_null() : mr_json_bytes(&c, 1);
}

/* [{k1: name, k2: value}, ...], or null for NIL. */
static json_t *params(const mr_imap_params *p, const char *k1, const char *k2)
{
    json_t *a;
    int ok = 1;
    if (p->nil)
        return json_null();
    a = json_array();
    for (size_t i = 0; i < p->n && ok; i++) {
        json_t *o = json_object();
        int ok2 = 1;
        put(o, k1, nstring(p->items[i].name), &ok2);
        put(o, k2, nstring(p->items[i].value), &ok2);
        push(a, finish(o, ok2), &ok);
    }
    return finish(a, ok);
}

static json_t *nstrings(const mr_imap_value *const *v, size_t n)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        push(a, nstring(v[i]), &ok);
    return finish(a, ok);
}

/* {"text": as sent, "iso": RFC 3339 with the zone as sent, "unix": seconds}. */
static json_t *date_time(const mr_imap_value *v, const mr_imap_time *t)
{
    char iso[64];
    int z = t->zone < 0 ? -t->zone : t->zone;
    json_t *o = json_object();
    int ok = 1;
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", t->year, t->month,
             t->day, t->hour, t->minute, t->second, t->zone < 0 ? '-' : '+', z / 60, z % 60);
    put(o, "text", nstring(v), &ok);
    put(o, "iso", json_string(iso), &ok);
    put(o, "unix", json_integer((json_int_t)t->unix_time), &ok);
    return finish(o, ok);
}

/* ------------------------------------------------------------ ENVELOPE, BODY */

/* Addresses (RFC 9051 7.5.2): null for NIL, else a list of
 * {"name","adl","mailbox","host"}, {"group": name} where a group starts
 * and {"group_end": true} where it ends. */
static json_t *addresses(const mr_imap_addresses *a)
{
    json_t *arr;
    int ok = 1;
    if (a->nil)
        return json_null();
    arr = json_array();
    for (size_t i = 0; i < a->n && ok; i++) {
        const mr_imap_address *ad = &a->items[i];
        json_t *o = json_object();
        int ok2 = 1;
        switch (ad->kind) {
        case MR_IMAP_ADDR_GROUP_START:
            put(o, "group", nstring(ad->mailbox), &ok2);
            break;
        case MR_IMAP_ADDR_GROUP_END:
            put(o, "group_end", json_true(), &ok2);
            break;
        case MR_IMAP_ADDR_MAILBOX:
        default:
            put(o, "name", nstring(ad->name), &ok2);
            put(o, "adl", nstring(ad->adl), &ok2);
            put(o, "mailbox", nstring(ad->mailbox), &ok2);
            put(o, "host", nstring(ad->host), &ok2);
            break;
        }
        push(arr, finish(o, ok2), &ok);
    }
    return finish(arr, ok);
}

static json_t *envelope(const mr_imap_envelope *e)
{
    json_t *o;
    int ok = 1;
    if (!e)
        return json_null();
    o = json_object();
    put(o, "date", nstring(e->date), &ok);
    put(o, "subject", nstring(e->subject), &ok);
    put(o, "from", addresses(&e->from), &ok);
    put(o, "sender", addresses(&e->sender), &ok);
    put(o, "reply_to", addresses(&e->reply_to), &ok);
    put(o, "to", addresses(&e->to), &ok);
    put(o, "cc", addresses(&e->cc), &ok);
    put(o, "bcc", addresses(&e->bcc), &ok);
    put(o, "in_reply_to", nstring(e->in_reply_to), &ok);
    put(o, "message_id", nstring(e->message_id), &ok);
    return finish(o, ok);
}

static json_t *disposition(const mr_imap_disposition *d)
{
    json_t *o;
    int ok = 1;
    if (!d->type || d->type->type == MR_IMAP_V_NIL)
        return json_null();
    o = json_object();
    put(o, "type", nstring(d->type), &ok);
    put(o, "params", params(&d->params, "name", "value"), &ok);
    return finish(o, ok);
}

/* BODY / BODYSTRUCTURE (RFC 9051 7.5.2): extension fields only as far as
 * the server sent them (ext_count). */
static json_t *body_at(const mr_imap_body *b, size_t depth)
{
    json_t *o;
    int ok = 1;
    if (!b)
        return json_null();
    if (depth > JSON_MAX_DEPTH)
        return too_deep();
    o = json_object();
    put(o, "multipart", json_boolean(b->multipart), &ok);
    if (b->multipart) {
        json_t *parts = json_array();
        int ok2 = 1;
        put(o, "subtype", nstring(b->subtype), &ok);
        for (size_t i = 0; i < b->n_parts && ok2; i++)
            push(parts, body_at(&b->parts[i], depth + 1), &ok2);
        put(o, "parts", finish(parts, ok2), &ok);
        if (b->ext_count >= 1)
            put(o, "params", params(&b->ext_params, "name", "value"), &ok);
    } else {
        put(o, "type", nstring(b->type), &ok);
        put(o, "subtype", nstring(b->subtype), &ok);
        put(o, "params", params(&b->params, "name", "value"), &ok);
        put(o, "id", nstring(b->id), &ok);
        put(o, "description", nstring(b->description), &ok);
        put(o, "encoding", nstring(b->encoding), &ok);
        put(o, "size", num(b->size), &ok);
        if (b->envelope) {
            put(o, "envelope", envelope(b->envelope), &ok);
            put(o, "body", b->n_parts ? body_at(&b->parts[0], depth + 1) : json_null(), &ok);
        }
        if (b->has_lines)
            put(o, "lines", num(b->lines), &ok);
        if (b->ext_count >= 1)
            put(o, "md5", nstring(b->md5), &ok);
    }
    if (b->ext_count >= 2)
        put(o, "disposition", disposition(&b->disposition), &ok);
    if (b->ext_count >= 3)
        put(o, "language", b->language ? value_at(b->language, depth + 1) : json_null(), &ok);
    if (b->ext_count >= 4)
        put(o, "location", nstring(b->location), &ok);
    if (b->n_extensions)
        put(o, "extensions", values_at(b->extensions, b->n_extensions, depth + 1), &ok);
    return finish(o, ok);
}

/* ------------------------------------------------------------ FETCH */

static int has_section(mr_imap_fetch_kind k)
{
    return k == MR_IMAP_FETCH_BODY_SECTION || k == MR_IMAP_FETCH_BINARY ||
           k == MR_IMAP_FETCH_BINARY_SIZE;
}

static json_t *fetch_value(const mr_imap_fetch_item *it)
{
    switch (it->kind) {
    case MR_IMAP_FETCH_FLAGS:
        return mr_json_span_list(it->atoms, it->n_atoms);
    case MR_IMAP_FETCH_UID:
    case MR_IMAP_FETCH_RFC822_SIZE:
    case MR_IMAP_FETCH_BINARY_SIZE:
    case MR_IMAP_FETCH_MODSEQ:
        return num(it->number);
    case MR_IMAP_FETCH_INTERNALDATE:
    case MR_IMAP_FETCH_SAVEDATE:
        return it->has_time ? date_time(it->value, &it->time) : json_null();
    case MR_IMAP_FETCH_RFC822:
    case MR_IMAP_FETCH_RFC822_HEADER:
    case MR_IMAP_FETCH_RFC822_TEXT:
    case MR_IMAP_FETCH_BODY_SECTION:
    case MR_IMAP_FETCH_BINARY:
    case MR_IMAP_FETCH_EMAILID:
    case MR_IMAP_FETCH_THREADID:
    case MR_IMAP_FETCH_PREVIEW:
        return nstring(it->data);
    case MR_IMAP_FETCH_ENVELOPE:
        return envelope(it->envelope);
    case MR_IMAP_FETCH_BODY:
    case MR_IMAP_FETCH_BODYSTRUCTURE:
        return body_at(it->body, 0);
    case MR_IMAP_FETCH_OTHER:
    default:
        return it->value ? value_at(it->value, 0) : json_null();
    }
}

static json_t *fetch_item(const mr_imap_fetch_item *it)
{
    json_t *x = json_object();
    int ok = 1;
    put(x, "item",
        json_string(it->kind == MR_IMAP_FETCH_OTHER ? "OTHER" : mr_imap_fetch_kind_name(it->kind)),
        &ok);
    put(x, "name", it->name ? span(it->name->raw) : json_null(), &ok);
    put(x, "section", has_section(it->kind) ? span(it->section) : json_null(), &ok);
    put(x, "origin", it->has_origin ? num(it->origin) : json_null(), &ok);
    put(x, "value", fetch_value(it), &ok);
    return finish(x, ok);
}

static json_t *fetch(const mr_imap_fetch *f)
{
    json_t *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < f->n && ok; i++)
        push(a, fetch_item(&f->items[i]), &ok);
    return object1("items", finish(a, ok));
}

/* ------------------------------------------------------------ other data */

static json_t *list_data(const mr_imap_list *l)
{
    json_t *o = json_object(), *known = json_array();
    int ok = 1;
    for (unsigned bit = 1; bit && ok; bit <<= 1) {
        const char *n = (l->attr_bits & bit) ? mr_imap_mbx_attr_name(bit) : NULL;
        if (n)
            push(known, json_string(n), &ok);
    }
    put(o, "attributes", mr_json_span_list(l->attrs, l->n_attrs), &ok);
    put(o, "known", known, &ok);
    put(o, "delimiter", delimiter(l->delimiter), &ok);
    put(o, "mailbox", mailbox(&l->mailbox), &ok);
    if (l->childinfo)
        put(o, "childinfo", value_at(l->childinfo, 0), &ok);
    if (l->has_oldname)
        put(o, "oldname", mailbox(&l->oldname), &ok);
    if (l->extended)
        put(o, "extended", value_at(l->extended, 0), &ok);
    return finish(o, ok);
}

static json_t *status_item(const mr_imap_status_item *it)
{
    json_t *x = json_object(), *v;
    int ok = 1;
    if (it->kind == MR_IMAP_STATUS_OTHER)
        v = it->value ? value_at(it->value, 0) : json_null();
    else if (it->kind == MR_IMAP_STATUS_MAILBOXID)
        v = span(it->text);
    else if (it->nil)
        v = json_null();
    else
        v = num(it->number);
    put(x, "name", span(it->name), &ok);
    put(x, "kind",
        json_string(it->kind == MR_IMAP_STATUS_OTHER ? "OTHER" : mr_imap_status_kind_name(it->kind)),
        &ok);
    put(x, "value", v, &ok);
    return finish(x, ok);
}

static json_t *status_data(const mr_imap_status *s)
{
    json_t *o = json_object(), *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < s->n && ok; i++)
        push(a, status_item(&s->items[i]), &ok);
    put(o, "mailbox", mailbox(&s->mailbox), &ok);
    put(o, "items", a, &ok);
    return finish(o, ok);
}

static json_t *search_data(const mr_imap_search *s)
{
    json_t *o = json_object(), *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < s->n && ok; i++)
        push(a, num(s->nums[i]), &ok);
    put(o, "numbers", a, &ok);
    put(o, "modseq", s->has_modseq ? num(s->modseq) : json_null(), &ok);
    return finish(o, ok);
}

/* ESEARCH return data (RFC 4731 3.1, RFC 9051 7.3.4, RFC 7162 3.1.5):
 * MIN, MAX, COUNT and MODSEQ are numbers, ALL a sequence set, anything
 * else its value as sent. */
static json_t *esearch_item(const mr_imap_esearch_item *it)
{
    json_t *x = json_object(), *v;
    int ok = 1;
    if (mr_span_eq_ci(it->name, "MIN") || mr_span_eq_ci(it->name, "MAX") ||
        mr_span_eq_ci(it->name, "COUNT") || mr_span_eq_ci(it->name, "MODSEQ"))
        v = num(it->number);
    else if (mr_span_eq_ci(it->name, "ALL"))
        v = seqset(&it->set);
    else
        v = it->value ? value_at(it->value, 0) : json_null();
    put(x, "name", span(it->name), &ok);
    put(x, "value", v, &ok);
    return finish(x, ok);
}

static json_t *esearch_data(const mr_imap_esearch *e)
{
    json_t *o = json_object(), *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < e->n && ok; i++)
        push(a, esearch_item(&e->items[i]), &ok);
    put(o, "tag", nstring(e->tag), &ok);
    put(o, "uid", json_boolean(e->uid), &ok);
    put(o, "items", a, &ok);
    return finish(o, ok);
}

/* THREAD (RFC 5256 4): {"num": n, or null for a dummy parent, "children": [...]}. */
static json_t *thread_nodes(const mr_imap_thread_node *n, size_t count, size_t depth)
{
    json_t *a;
    int ok = 1;
    if (depth > JSON_MAX_DEPTH)
        return too_deep();
    a = json_array();
    for (size_t i = 0; i < count && ok; i++) {
        json_t *o = json_object();
        int ok2 = 1;
        put(o, "num", n[i].num ? num(n[i].num) : json_null(), &ok2);
        put(o, "children", thread_nodes(n[i].children, n[i].n_children, depth + 1), &ok2);
        push(a, finish(o, ok2), &ok);
    }
    return finish(a, ok);
}

/* {"name", "values": [...]}: one namespace response extension (RFC 2342 5). */
static json_t *ns_extension(const mr_imap_ns_ext *e)
{
    json_t *x = json_object(), *vals = json_array();
    int ok = 1;
    for (size_t j = 0; j < e->n_values && ok; j++)
        push(vals, nstring(&e->values[j]), &ok);
    put(x, "name", nstring(e->name), &ok);
    put(x, "values", vals, &ok);
    return finish(x, ok);
}

static json_t *ns_list(const mr_imap_ns_list *l)
{
    json_t *a;
    int ok = 1;
    if (l->nil)
        return json_null();
    a = json_array();
    for (size_t i = 0; i < l->n && ok; i++) {
        const mr_imap_ns *ns = &l->items[i];
        json_t *o = json_object(), *exts = json_array();
        int ok2 = 1;
        for (size_t k = 0; k < ns->n_exts && ok2; k++)
            push(exts, ns_extension(&ns->exts[k]), &ok2);
        put(o, "prefix", nstring(ns->prefix), &ok2);
        put(o, "delimiter", delimiter(ns->delimiter), &ok2);
        put(o, "extensions", exts, &ok2);
        push(a, finish(o, ok2), &ok);
    }
    return finish(a, ok);
}

static json_t *quota_data(const mr_imap_quota *q)
{
    json_t *o = json_object(), *a = json_array();
    int ok = 1;
    for (size_t i = 0; i < q->n_res && ok; i++) {
        json_t *x = json_object();
        int ok2 = 1;
        put(x, "name", nstring(q->res[i].name), &ok2);
        put(x, "usage", num(q->res[i].usage), &ok2);
        put(x, "limit", num(q->res[i].limit), &ok2);
        push(a, finish(x, ok2), &ok);
    }
    put(o, "root", nstring(q->root), &ok);
    put(o, "resources", a, &ok);
    return finish(o, ok);
}

/* The typed data of r, or null when it has none (status responses,
 * continuations, EXISTS/RECENT/EXPUNGE whose number is the data, OTHER,
 * and responses that did not decode). */
static json_t *data(const mr_imap_response *r)
{
    json_t *o;
    int ok = 1;
    if (!r->typed || r->kind != MR_IMAP_UNTAGGED || is_status(r->type))
        return json_null();
    switch (r->type) {
    case MR_IMAP_TYPE_CAPABILITY:
    case MR_IMAP_TYPE_ENABLED:
    case MR_IMAP_TYPE_FLAGS:
        return object1("items", mr_json_span_list(r->u.atoms.items, r->u.atoms.n));
    case MR_IMAP_TYPE_LIST:
    case MR_IMAP_TYPE_LSUB:
        return list_data(&r->u.list);
    case MR_IMAP_TYPE_STATUS:
        return status_data(&r->u.status);
    case MR_IMAP_TYPE_SEARCH:
    case MR_IMAP_TYPE_SORT:
        return search_data(&r->u.search);
    case MR_IMAP_TYPE_ESEARCH:
        return esearch_data(&r->u.esearch);
    case MR_IMAP_TYPE_THREAD:
        return object1("threads", thread_nodes(r->u.thread.roots, r->u.thread.n, 0));
    case MR_IMAP_TYPE_NAMESPACE:
        o = json_object();
        put(o, "personal", ns_list(&r->u.ns.personal), &ok);
        put(o, "other", ns_list(&r->u.ns.other), &ok);
        put(o, "shared", ns_list(&r->u.ns.shared), &ok);
        return finish(o, ok);
    case MR_IMAP_TYPE_ID:
        return object1("fields", params(&r->u.id.fields, "name", "value"));
    case MR_IMAP_TYPE_QUOTA:
        return quota_data(&r->u.quota);
    case MR_IMAP_TYPE_QUOTAROOT:
        o = json_object();
        put(o, "mailbox", mailbox(&r->u.quotaroot.mailbox), &ok);
        put(o, "roots", nstrings(r->u.quotaroot.roots, r->u.quotaroot.n_roots), &ok);
        return finish(o, ok);
    case MR_IMAP_TYPE_METADATA:
        o = json_object();
        put(o, "mailbox", mailbox(&r->u.metadata.mailbox), &ok);
        put(o, "with_values", json_boolean(r->u.metadata.with_values), &ok);
        if (r->u.metadata.with_values)
            put(o, "entries", params(&r->u.metadata.entries, "entry", "value"), &ok);
        else
            put(o, "entries", nstrings(r->u.metadata.names, r->u.metadata.n_names), &ok);
        return finish(o, ok);
    case MR_IMAP_TYPE_ACL:
    case MR_IMAP_TYPE_MYRIGHTS:
    case MR_IMAP_TYPE_LISTRIGHTS:
        o = json_object();
        put(o, "mailbox", mailbox(&r->u.acl.mailbox), &ok);
        if (r->type == MR_IMAP_TYPE_ACL) {
            put(o, "entries", params(&r->u.acl.entries, "identifier", "rights"), &ok);
        } else if (r->type == MR_IMAP_TYPE_MYRIGHTS) {
            put(o, "rights", nstring(r->u.acl.rights), &ok);
        } else {
            put(o, "identifier", nstring(r->u.acl.identifier), &ok);
            put(o, "required", nstring(r->u.acl.rights), &ok);
            put(o, "optional", nstrings(r->u.acl.optional, r->u.acl.n_optional), &ok);
        }
        return finish(o, ok);
    case MR_IMAP_TYPE_VANISHED:
        o = json_object();
        put(o, "earlier", json_boolean(r->u.vanished.earlier), &ok);
        put(o, "uids", seqset(&r->u.vanished.uids), &ok);
        return finish(o, ok);
    case MR_IMAP_TYPE_FETCH:
        return fetch(&r->u.fetch);
    default:
        return json_null();
    }
}

/* ------------------------------------------------------------ codes */

/*
 * Did the code's arguments have the form its RFC gives, so that the typed
 * fields are set?  mr_imap_decode_code() clears them when not (and records
 * a strict diagnostic); a cleared field reads as 0 or empty, which is what
 * this tells apart from a real 0.
 */
static int code_typed(const mr_imap_code *c)
{
    switch (c->kind) {
    case MR_IMAP_CODE_BADCHARSET: /* [BADCHARSET] alone is complete (RFC 9051 7.1) */
        return c->n_atoms > 0 || (c->n_args == 0 && c->args_text.len == 0);
    case MR_IMAP_CODE_CAPABILITY:
        return c->n_atoms > 0;
    case MR_IMAP_CODE_PERMANENTFLAGS: /* "()" is a valid empty list */
        return c->n_atoms > 0 || (c->n_args == 1 && c->args[0].type == MR_IMAP_V_LIST &&
                                  c->args[0].n_items == 0);
    case MR_IMAP_CODE_UIDNEXT:
    case MR_IMAP_CODE_UIDVALIDITY:
    case MR_IMAP_CODE_UNSEEN:
    case MR_IMAP_CODE_HIGHESTMODSEQ:
        return c->n_args == 1 && c->args[0].type == MR_IMAP_V_NUMBER;
    case MR_IMAP_CODE_APPENDUID:
    case MR_IMAP_CODE_MODIFIED:
        return c->set1.n > 0;
    case MR_IMAP_CODE_COPYUID:
        return c->set1.n > 0 && c->set2.n > 0;
    case MR_IMAP_CODE_REFERRAL:
    case MR_IMAP_CODE_MAILBOXID:
    case MR_IMAP_CODE_METADATA:
        return c->text.len > 0;
    default:
        return 1;
    }
}

/* {"kind","name","args", typed fields by kind}.  The typed fields are
 * written only when the arguments had their RFC's form (code_typed): a
 * code whose arguments do not has kind, name and args only. */
static json_t *code(const mr_imap_response *r)
{
    const mr_imap_code *c = &r->code;
    json_t *o;
    int ok = 1;
    if (!r->has_code)
        return json_null();
    o = json_object();
    put(o, "kind",
        json_string(c->kind == MR_IMAP_CODE_OTHER || c->kind == MR_IMAP_CODE_NONE
                        ? "OTHER"
                        : mr_imap_code_name(c->kind)),
        &ok);
    put(o, "name", span(c->name), &ok);
    put(o, "args", span(c->args_text), &ok);
    if (!code_typed(c))
        return finish(o, ok);
    switch (c->kind) {
    case MR_IMAP_CODE_BADCHARSET:
    case MR_IMAP_CODE_CAPABILITY:
    case MR_IMAP_CODE_PERMANENTFLAGS:
        put(o, "atoms", mr_json_span_list(c->atoms, c->n_atoms), &ok);
        break;
    case MR_IMAP_CODE_UIDNEXT:
    case MR_IMAP_CODE_UIDVALIDITY:
    case MR_IMAP_CODE_UNSEEN:
    case MR_IMAP_CODE_HIGHESTMODSEQ:
        put(o, "number", num(c->number), &ok);
        break;
    case MR_IMAP_CODE_APPENDUID: /* RFC 4315 3 */
        put(o, "uidvalidity", num(c->number), &ok);
        put(o, "uids", seqset(&c->set1), &ok);
        break;
    case MR_IMAP_CODE_COPYUID:
        put(o, "uidvalidity", num(c->number), &ok);
        put(o, "source", seqset(&c->set1), &ok);
        put(o, "dest", seqset(&c->set2), &ok);
        break;
    case MR_IMAP_CODE_MODIFIED: /* RFC 7162 3.1.3: UIDs after UID STORE, else sequence numbers */
        put(o, "set", seqset(&c->set1), &ok);
        break;
    case MR_IMAP_CODE_REFERRAL:
    case MR_IMAP_CODE_MAILBOXID:
        put(o, "text", span(c->text), &ok);
        break;
    case MR_IMAP_CODE_METADATA: /* RFC 5464 4.2.1, 4.3 */
        put(o, "text", span(c->text), &ok);
        if (mr_span_eq_ci(c->text, "LONGENTRIES") || mr_span_eq_ci(c->text, "MAXSIZE"))
            put(o, "number", num(c->number), &ok);
        break;
    case MR_IMAP_CODE_OTHER:
        put(o, "values", values_at(c->args, c->args ? c->n_args : 0, 0), &ok);
        break;
    default:
        break;
    }
    return finish(o, ok);
}

/* ------------------------------------------------------------ responses */

json_t *mr_json_imap(const mr_imap_event *ev, uint64_t chunks, int show_chunks)
{
    const mr_imap_response *r = ev->response;
    json_t *o = json_object();
    int ok = 1;
    put(o, "protocol", json_string("imap"), &ok);
    if (r) {
        /* resp-text: status responses and continuations; an unknown
         * response that did not read as values keeps its text too. */
        int has_text = r->kind == MR_IMAP_CONTINUATION || is_status(r->type) || r->text.len;
        put(o, "kind", json_string(mr_imap_kind_name(r->kind)), &ok);
        put(o, "type", json_string(mr_imap_type_name(r->type)), &ok);
        put(o, "tag", r->kind == MR_IMAP_TAGGED ? span(r->tag) : json_null(), &ok);
        put(o, "keyword", r->kind == MR_IMAP_CONTINUATION ? json_null() : span(r->keyword), &ok);
        put(o, "number", r->has_number ? num(r->number) : json_null(), &ok);
        put(o, "cmd", r->cmd.len ? span(r->cmd) : json_null(), &ok);
        put(o, "greeting", json_boolean(r->greeting), &ok);
        put(o, "code", code(r), &ok);
        put(o, "text", has_text ? span(r->text) : json_null(), &ok);
        put(o, "sasl", r->has_sasl ? span(r->sasl) : json_null(), &ok);
        put(o, "range", mr_json_range(r->offset, r->end), &ok);
        put(o, "literals", json_integer(r->n_literals), &ok);
        put(o, "streamed", json_integer(r->n_streamed), &ok);
        if (r->n_streamed && show_chunks)
            put(o, "chunks", num(chunks), &ok);
        put(o, "data", data(r), &ok);
        if (r->kind == MR_IMAP_UNTAGGED && !is_status(r->type) &&
            (r->type == MR_IMAP_TYPE_OTHER || !r->typed))
            put(o, "values", values_at(r->values, r->values ? r->n_values : 0, 0), &ok);
        put(o, "diagnostics", mr_json_diagnostics(r->diags, r->n_diags), &ok);
    }
    if (ev->type == MR_EV_ERROR)
        put(o, "error", mr_json_error(&ev->error), &ok);
    if (r && r->diags_dropped)
        put(o, "diagnostics_dropped", num(r->diags_dropped), &ok);
    return finish(o, ok);
}
