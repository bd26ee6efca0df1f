/*
 * fuzz_roundtrip.c - property: the IMAP printer (mr_imap_print) writes
 * what the parser reads back to the same result, and its output is a
 * fixed point (tests/test_imap_cli.py checks the same on the cases).
 *
 * Input: 1 header byte, then what the server sent.
 *   0  bit 0: the stream starts after the greeting; bit 1: UTF-8 mailbox
 *      names from the start (RFC 6855)
 *
 * 1. x is parsed; each printable response (a response, or an error about
 *    its meaning only: BAD_FIELD, BAD_BASE64; not one the printer
 *    refuses) is printed, giving P.
 * 2. P is parsed: every response must be printable, as many as in x, and
 *    each the same as x's as JSON, leaving out where it was ("range"),
 *    the diagnostics, and the error's offset; and "greeting" when x's
 *    first response was not printable (P's first one is then taken for
 *    the greeting).
 * 3. P printed again is P.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "imap/mr_imap.h"
#include "mr_fuzz.h"
#include "mr_json.h"

typedef struct result {
    json_t *objs;  /* the printable responses, normalised */
    uint8_t *printed;
    size_t printed_len, printed_cap;
    int first_printable; /* -1 no response yet, else 1 or 0 */
    int unprintable;     /* responses that are not printable */
} result;

static int printable(const mr_imap_event *ev)
{
    if (!ev->response)
        return 0;
    return ev->type == MR_EV_RESPONSE || ev->error.code == MR_E_BAD_FIELD ||
           ev->error.code == MR_E_BAD_BASE64;
}

static void append_print(result *res, const mr_imap_response *r, size_t n)
{
    if (res->printed_len + n > res->printed_cap) {
        size_t cap = (res->printed_len + n) * 2;
        uint8_t *b = realloc(res->printed, cap);
        if (!b)
            abort();
        res->printed = b;
        res->printed_cap = cap;
    }
    MR_FUZZ_CHECK(mr_imap_print(r, res->printed + res->printed_len, n) == n, "print length");
    res->printed_len += n;
}

static json_t *normalised(const mr_imap_event *ev)
{
    json_t *o = mr_json_imap(ev, 0, 0), *e;
    if (!o)
        abort();
    json_object_del(o, "range");
    json_object_del(o, "diagnostics");
    json_object_del(o, "diagnostics_dropped");
    if ((e = json_object_get(o, "error")) != NULL)
        json_object_del(e, "offset");
    return o;
}

static void parse(const uint8_t *x, size_t len, uint8_t setup, result *res)
{
    static const uint8_t none[1];
    mr_imap_parser *p = mr_imap_new(NULL);
    mr_imap_event ev;
    size_t off = 0, used, n;
    mr_event_type t;
    if (!p)
        abort();
    if (!x)
        x = none; /* no arithmetic on a null pointer */
    memset(res, 0, sizeof *res);
    res->objs = json_array();
    res->first_printable = -1;
    if (setup & 1)
        mr_imap_skip_greeting(p);
    if (setup & 2)
        mr_imap_set_utf8(p, 1);
    for (int end = 0;;) {
        t = end ? mr_imap_finish(p, &ev) : mr_imap_next(p, x + off, len - off, &used, &ev);
        if (!end)
            off += used;
        if (t == MR_EV_NEED_MORE) {
            if (end)
                break;
            end = 1;
            continue;
        }
        if (t == MR_EV_BODY_CHUNK)
            continue;
        if (t == MR_EV_ERROR && mr_errcode_is_fatal(ev.error.code))
            break;
        if (!ev.response)
            continue;
        /* The printer refuses an unknown response kept as text without
         * its literals (mr_imap_print.c): it is left out like an error. */
        n = printable(&ev) ? mr_imap_print(ev.response, NULL, 0) : SIZE_MAX;
        if (res->first_printable < 0)
            res->first_printable = n != SIZE_MAX;
        if (n != SIZE_MAX) {
            json_array_append_new(res->objs, normalised(&ev));
            append_print(res, ev.response, n);
        } else {
            res->unprintable++;
        }
    }
    mr_imap_free(p);
}

static void drop_greeting(json_t *objs)
{
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) json_object_del(o, "greeting");
}

static void free_result(result *r)
{
    json_decref(r->objs);
    free(r->printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 1);
    uint8_t setup = mr_fuzz_hdr(&in, 0);
    result a, b, c;

    parse(in.data, in.len, setup, &a);
    parse(a.printed, a.printed_len, setup, &b);
    MR_FUZZ_CHECK(b.unprintable == 0, "%d printed responses do not parse back", b.unprintable);
    if (a.first_printable == 0) {
        drop_greeting(a.objs);
        drop_greeting(b.objs);
    }
    MR_FUZZ_CHECK(json_array_size(a.objs) == json_array_size(b.objs),
                  "%zu responses printed, %zu parsed back", json_array_size(a.objs),
                  json_array_size(b.objs));
    for (size_t i = 0; i < json_array_size(a.objs); i++) {
        json_t *u = json_array_get(a.objs, i), *v = json_array_get(b.objs, i);
        if (!json_equal(u, v)) {
            char *su = json_dumps(u, JSON_PRESERVE_ORDER), *sv = json_dumps(v, JSON_PRESERVE_ORDER);
            mr_fuzz_fail(__FILE__, __LINE__, "parse(print(x)) == parse(x)",
                         "response %zu differs:\n  parsed:  %s\n  printed: %s", i + 1,
                         su ? su : "?", sv ? sv : "?");
        }
    }
    parse(b.printed, b.printed_len, setup, &c);
    MR_FUZZ_CHECK(c.printed_len == b.printed_len &&
                      (b.printed_len == 0 || memcmp(c.printed, b.printed, b.printed_len) == 0),
                  "printing is not a fixed point: %zu bytes, then %zu", b.printed_len, c.printed_len);
    free_result(&a);
    free_result(&b);
    free_result(&c);
    return 0;
}
