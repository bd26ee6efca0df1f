/*
 * mr_pop3.c - sans-I/O POP3 response parser (see mr_pop3.h).
 *
 * Framing (RFC 1939 3): a response is a status line "+OK"/"-ERR" [SP text]
 * CRLF; a +OK answer to a multi-line command is followed by dot-stuffed
 * lines and a line holding only ".".  SASL continuations are "+" [SP
 * base64] (RFC 5034 4).  Response codes in brackets follow the status
 * (RFC 2449 8).
 *
 * The parser reads whole lines through mr_linereader (zero copy when a
 * line lies in the caller's input) and keeps the lines of the response
 * being assembled in mr_store.  Typed fields (STAT, LIST, UIDL, CAPA, ...)
 * are decoded once, when the response is complete.  Bodies of RETR/TOP
 * beyond limits.stream_threshold switch to streaming: runs of lines that
 * are contiguous in the input become MR_EV_BODY_CHUNK events and are not
 * kept.
 *
 * Whenever the parser must stop in front of a line (to hand out a chunk
 * first, or because a guessed single-line response ended), it gives the
 * line back with mr_lr_unread(), so no pointer into the caller's input is
 * ever kept across calls.
 */
#include "mr_pop3.h"

#include <stdlib.h>
#include <string.h>

#include "../core/mr_base.h"
#include "../core/mr_base64.h"
#include "../core/mr_cursor.h"
#include "../core/mr_linereader.h"
#include "../core/mr_pending.h"
#include "../core/mr_store.h"

enum state {
    S_STATUS, /* expecting a status line */
    S_GUESS,  /* +OK seen, command unknown: the next line decides the framing */
    S_BODY,   /* inside a multi-line body */
    S_ERROR   /* a fatal error happened */
};

struct mr_pop3_parser {
    mr_parser_base base; /* options, store, line reader, pending commands */
    enum state state;
    int greeted;         /* the greeting has been parsed */
    int sasl_open;       /* an AUTH command awaits its final response */
    int after_result;    /* a result was handed out: start afresh on the next call */
    int streaming;       /* the current body is handed out in chunks */
    mr_span chunk;       /* body bytes not yet handed out (streaming) */
    int chunk_in_input;  /* chunk points into the current call's input */
    uint64_t chunks;     /* chunk events of the current body */
    size_t body_lines;   /* lines of the current body, kept or streamed */
    size_t drain;        /* next kept line to hand out after switching to streaming */
    mr_error fatal;
    mr_error resp_err;   /* non-fatal error of the current response */
    mr_pop3_response resp;
};

static const char *const cmd_names[] = {
#define MR_XX(name, str, multi) str,
    MR_POP3_CMD_MAP(MR_XX)
#undef MR_XX
};

static const unsigned char cmd_multi[] = {
#define MR_XX(name, str, multi) multi,
    MR_POP3_CMD_MAP(MR_XX)
#undef MR_XX
};

const char *mr_pop3_cmd_name(mr_pop3_cmd cmd)
{
    return (unsigned)cmd < MR_POP3__CMD_COUNT ? cmd_names[cmd] : "unknown";
}

const char *mr_pop3_status_name(mr_pop3_status s)
{
    switch (s) {
    case MR_POP3_STATUS_OK: return "+OK";
    case MR_POP3_STATUS_ERR: return "-ERR";
    case MR_POP3_STATUS_CONT: return "+";
    case MR_POP3_STATUS_NONE: return NULL;
    }
    return NULL;
}

const char *mr_pop3_code_name(mr_pop3_code c)
{
    static const char *const names[] = {"none", "in-use", "login-delay", "sys-temp", "sys-perm",
                                        "sys", "auth", "utf8", "other"};
    return (unsigned)c <= MR_POP3_CODE_OTHER ? names[c] : "unknown";
}

static const char *const capa_names[] = {
    "other", "top", "user", "sasl", "resp-codes", "login-delay", "pipelining", "expire",
    "uidl", "implementation", "stls", "utf8", "auth-resp-code", "lang"};

/* The capa-tag as sent for each kind (RFC 2449 6, RFC 5034 6, RFC 6856 2/3, RFC 2595 4). */
static const char *const capa_tags[] = {
    "", "TOP", "USER", "SASL", "RESP-CODES", "LOGIN-DELAY", "PIPELINING", "EXPIRE",
    "UIDL", "IMPLEMENTATION", "STLS", "UTF8", "AUTH-RESP-CODE", "LANG"};

const char *mr_pop3_capa_kind_name(mr_pop3_capa_kind k)
{
    return (unsigned)k <= MR_POP3_CAPA_LANG ? capa_names[k] : "unknown";
}

/* ---- commands ----------------------------------------------------------- */

mr_pop3_cmd mr_pop3_cmd_classify(const uint8_t *line, size_t len)
{
    mr_span kw, rest, all = {line, len};
    mr_cursor c = mr_cur_from_span(mr_span_strip_eol(all));
    if (!mr_cur_get_word(&c, &kw))
        return MR_POP3_OTHER;
    mr_cur_skip_space(&c);
    rest = mr_span_rtrim(mr_cur_rest(&c));
    int arg = rest.len > 0;
    static const struct { const char *kw; mr_pop3_cmd with, without; } map[] = {
        {"USER", MR_POP3_USER, MR_POP3_USER},   {"PASS", MR_POP3_PASS, MR_POP3_PASS},
        {"APOP", MR_POP3_APOP, MR_POP3_APOP},   {"AUTH", MR_POP3_AUTH, MR_POP3_AUTH_LIST},
        {"STAT", MR_POP3_STAT, MR_POP3_STAT},   {"LIST", MR_POP3_LIST_ONE, MR_POP3_LIST},
        {"UIDL", MR_POP3_UIDL_ONE, MR_POP3_UIDL}, {"RETR", MR_POP3_RETR, MR_POP3_RETR},
        {"TOP", MR_POP3_TOP, MR_POP3_TOP},      {"DELE", MR_POP3_DELE, MR_POP3_DELE},
        {"NOOP", MR_POP3_NOOP, MR_POP3_NOOP},   {"RSET", MR_POP3_RSET, MR_POP3_RSET},
        {"QUIT", MR_POP3_QUIT, MR_POP3_QUIT},   {"CAPA", MR_POP3_CAPA, MR_POP3_CAPA},
        {"STLS", MR_POP3_STLS, MR_POP3_STLS},   {"UTF8", MR_POP3_UTF8, MR_POP3_UTF8},
        {"LANG", MR_POP3_LANG, MR_POP3_LANG_LIST},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (mr_span_eq_ci(kw, map[i].kw))
            return arg ? map[i].with : map[i].without;
    return MR_POP3_OTHER;
}

/* ---- lifecycle ---------------------------------------------------------- */

mr_pop3_parser *mr_pop3_new(const mr_options *opt)
{
    mr_pop3_parser *p = mr_base_new(opt, sizeof *p);
    if (p)
        mr_pop3_reset(p);
    return p;
}

void mr_pop3_free(mr_pop3_parser *p) { mr_base_free(p); }

static void begin_response(mr_pop3_parser *p)
{
    mr_store_reset(&p->base.st);
    memset(&p->resp, 0, sizeof p->resp);
    memset(&p->resp_err, 0, sizeof p->resp_err);
    p->streaming = 0;
    p->chunk.ptr = NULL;
    p->chunk.len = 0;
    p->chunks = 0;
    p->body_lines = 0;
    p->drain = 0;
    p->state = S_STATUS;
}

void mr_pop3_reset(mr_pop3_parser *p)
{
    mr_lr_reset(&p->base.lr);
    mr_pending_clear(&p->base.pend);
    begin_response(p);
    p->greeted = 0;
    p->sasl_open = 0;
    p->after_result = 0;
    memset(&p->fatal, 0, sizeof p->fatal);
}

int mr_pop3_expect(mr_pop3_parser *p, mr_pop3_cmd cmd)
{
    if ((unsigned)cmd >= MR_POP3__CMD_COUNT || cmd == MR_POP3_GREETING)
        return MR_E_USAGE;
    int rc = mr_pending_push(&p->base.pend, (uint8_t)cmd);
    if (rc == 0 && cmd == MR_POP3_AUTH)
        p->sasl_open = 1;
    return rc;
}

int mr_pop3_expect_line(mr_pop3_parser *p, const uint8_t *line, size_t len)
{
    return mr_pop3_expect(p, mr_pop3_cmd_classify(line, len));
}

size_t mr_pop3_pending(const mr_pop3_parser *p) { return mr_pending_count(&p->base.pend); }
int mr_pop3_in_sasl(const mr_pop3_parser *p) { return p->sasl_open; }
uint64_t mr_pop3_offset(const mr_pop3_parser *p) { return p->base.lr.offset; }

/* ---- helpers ------------------------------------------------------------ */

static void diag(mr_pop3_parser *p, uint64_t off, const char *ref, const char *msg)
{
    mr_store_diag(&p->base.st, off, ref, msg);
}

static uint64_t off_in(const mr_line *l, const uint8_t *at)
{
    return l->offset + (uint64_t)(at - l->ptr);
}

/* Record the first non-fatal error of the response. */
static void field_error(mr_pop3_parser *p, mr_errcode code, uint64_t off, const char *detail)
{
    if (p->resp_err.code != MR_E_OK)
        return;
    p->resp_err.code = code;
    p->resp_err.offset = off;
    p->resp_err.detail = detail;
}

static mr_event_type fail(mr_pop3_parser *p, mr_pop3_event *ev, mr_errcode code, uint64_t off,
                          const char *detail)
{
    p->state = S_ERROR;
    p->fatal.code = code;
    p->fatal.offset = off;
    p->fatal.detail = detail;
    ev->type = MR_EV_ERROR;
    ev->error = p->fatal;
    return MR_EV_ERROR;
}

static mr_event_type fail_store(mr_pop3_parser *p, mr_pop3_event *ev, uint64_t off)
{
    mr_errcode e = p->base.st.err != MR_E_OK ? p->base.st.err : MR_E_NO_MEMORY;
    return fail(p, ev, e, off, "while storing the response");
}

/* Line-level strict checks shared by every line (RFC 1939 3, RFC 2449 4). */
static void check_line(mr_pop3_parser *p, const mr_line *l, int status_line)
{
    if (p->base.opt.mode != MR_STRICT)
        return;
    if (l->eol != 2)
        diag(p, l->offset + l->len, "RFC 1939 3", "line ends in a bare LF instead of CRLF");
    if (status_line && l->len + 2 > 512)
        diag(p, l->offset + 510, "RFC 2449 4", "a status line is longer than 512 octets with CRLF");
    if (memchr(l->ptr, '\0', l->len))
        diag(p, l->offset + (uint64_t)((const uint8_t *)memchr(l->ptr, '\0', l->len) - l->ptr),
             "RFC 1939 3", "NUL byte in a response line");
}

/* Move spans of the response that point into [from, from+n) to `to`. */
static void rebase(mr_span *s, const uint8_t *from, size_t n, const uint8_t *to)
{
    if (s->ptr && s->ptr >= from && s->ptr <= from + n)
        s->ptr = to + (s->ptr - from);
}

/* Copy the status line out of the caller's input when a feed ends mid-response. */
static int pin_status(mr_pop3_parser *p)
{
    mr_line *l = &p->resp.status_line;
    if (!l->in_input || !l->ptr)
        return 1;
    const uint8_t *old = l->ptr;
    if (!mr_store_pin_line(&p->base.st, l))
        return 0;
    rebase(&p->resp.text, old, l->len, l->ptr);
    rebase(&p->resp.code, old, l->len, l->ptr);
    rebase(&p->resp.timestamp, old, l->len, l->ptr);
    return 1;
}

static int is_status_like(const mr_line *l)
{
    mr_span s = {l->ptr, l->len};
    mr_cursor c = mr_cur_from_span(s);
    if (mr_cur_accept_str_ci(&c, "+OK") || mr_cur_accept_str_ci(&c, "-ERR"))
        return c.len == 0 || c.p[0] == ' ' || c.p[0] == '[';
    return l->len == 1 ? l->ptr[0] == '+' : (l->len >= 2 && l->ptr[0] == '+' && l->ptr[1] == ' ');
}

/* Split s at runs of SP/HTAB into an arena array.  1 ok, 0 store failure. */
static int split_words(mr_pop3_parser *p, mr_span s, const mr_span **out, size_t *n_out)
{
    size_t n = 0;
    mr_cursor c = mr_cur_from_span(s);
    mr_span w;
    for (mr_cur_skip_space(&c); mr_cur_get_word(&c, &w); mr_cur_skip_space(&c))
        n++;
    *out = NULL;
    *n_out = n;
    if (n == 0)
        return 1;
    mr_span *arr = mr_store_alloc(&p->base.st, n * sizeof *arr);
    if (!arr)
        return 0;
    c = mr_cur_from_span(s);
    n = 0;
    for (mr_cur_skip_space(&c); mr_cur_get_word(&c, &w); mr_cur_skip_space(&c))
        arr[n++] = w;
    *out = arr;
    return 1;
}

/* ---- status line (RFC 1939 3, RFC 2449 3 and 8, RFC 5034 4) ------------- */

static mr_pop3_code classify_code(mr_span code)
{
    mr_cursor c = mr_cur_from_span(code);
    if (mr_span_eq_ci(code, "IN-USE")) return MR_POP3_CODE_IN_USE;
    if (mr_span_eq_ci(code, "LOGIN-DELAY")) return MR_POP3_CODE_LOGIN_DELAY;
    if (mr_span_eq_ci(code, "SYS/TEMP")) return MR_POP3_CODE_SYS_TEMP;
    if (mr_span_eq_ci(code, "SYS/PERM")) return MR_POP3_CODE_SYS_PERM;
    if (mr_cur_accept_str_ci(&c, "SYS/") || mr_span_eq_ci(code, "SYS")) return MR_POP3_CODE_SYS;
    if (mr_span_eq_ci(code, "AUTH")) return MR_POP3_CODE_AUTH;
    if (mr_span_eq_ci(code, "UTF8")) return MR_POP3_CODE_UTF8;
    return MR_POP3_CODE_OTHER;
}

/* Parse "[resp-code]" at the cursor if one is there. */
static void parse_resp_code(mr_pop3_parser *p, const mr_line *l, mr_cursor *c)
{
    mr_cursor save = *c;
    mr_span code;
    if (!mr_cur_accept(c, '['))
        return;
    if (!mr_cur_take_until(c, ']', &code)) {
        diag(p, off_in(l, save.p), "RFC 2449 8", "'[' opens a response code that is never closed");
        *c = save;
        return;
    }
    mr_cur_skip(c, 1); /* ']' */
    /* resp-code = "[" resp-level *("/" resp-level) "]"; resp-level = 1*rchar */
    int ok = code.len > 0;
    size_t level = 0;
    for (size_t i = 0; i < code.len && ok; i++) {
        if (code.ptr[i] == '/') {
            ok = level > 0;
            level = 0;
        } else if (!mr_is(code.ptr[i], MR_C_RCHAR)) {
            ok = 0;
        } else {
            level++;
        }
    }
    if (!ok || level == 0)
        diag(p, off_in(l, code.ptr), "RFC 2449 8", "response code is not resp-level *(\"/\" resp-level)");
    p->resp.code = code;
    p->resp.code_kind = classify_code(code);
    if (mr_cur_skip_space(c) == 0 && c->len > 0)
        diag(p, off_in(l, c->p), "RFC 2449 8", "no SP between the response code and the text");
}

/* Returns 0 for a line that is not a status line (non-fatal BAD_STATUS). */
static int parse_status(mr_pop3_parser *p, const mr_line *l)
{
    mr_pop3_response *r = &p->resp;
    mr_span s = {l->ptr, l->len};
    mr_cursor c = mr_cur_from_span(s);
    check_line(p, l, 1);
    if (mr_cur_accept_str_ci(&c, "+OK")) {
        r->status = MR_POP3_STATUS_OK;
        if (memcmp(l->ptr, "+OK", 3) != 0)
            diag(p, l->offset, "RFC 1939 3", "status indicator is not in upper case");
    } else if (mr_cur_accept_str_ci(&c, "-ERR")) {
        r->status = MR_POP3_STATUS_ERR;
        if (memcmp(l->ptr, "-ERR", 4) != 0)
            diag(p, l->offset, "RFC 1939 3", "status indicator is not in upper case");
    } else if (mr_cur_accept(&c, '+') && (c.len == 0 || c.p[0] == ' ')) {
        r->status = MR_POP3_STATUS_CONT;
    } else {
        r->status = MR_POP3_STATUS_NONE;
        r->text = s;
        field_error(p, MR_E_BAD_STATUS, l->offset, "expected +OK, -ERR or + at the start of the line");
        return 0;
    }
    if (c.len > 0 && c.p[0] != ' ') {
        /* "+OKhello": lenient clients take the rest as text. */
        diag(p, off_in(l, c.p), "RFC 1939 3", "status indicator is not followed by SP or CRLF");
    } else if (c.len > 0) {
        mr_cur_skip(&c, 1);
        if (r->status == MR_POP3_STATUS_CONT && c.len == 0)
            ; /* "+ " with an empty challenge */
        else if (c.len > 0 && c.p[0] == ' ')
            diag(p, off_in(l, c.p), "RFC 2449 3", "more than one SP after the status indicator");
        mr_cur_skip_space(&c);
    }
    if (r->status != MR_POP3_STATUS_CONT)
        parse_resp_code(p, l, &c);
    r->text = mr_span_rtrim(mr_cur_rest(&c));
    return 1;
}

/* ---- typed decoding ----------------------------------------------------- */

/* "msg SP size" or "msg SP uid" from text; 1 on success. */
static int parse_entry(mr_pop3_parser *p, mr_span text, const mr_line *l, int uidl, mr_pop3_entry *e)
{
    mr_cursor c = mr_cur_from_span(text);
    mr_span uid;
    memset(e, 0, sizeof *e);
    if (!mr_cur_get_u64(&c, &e->msg) || mr_cur_skip_space(&c) == 0)
        return 0;
    if (!uidl) {
        if (!mr_cur_get_u64(&c, &e->size))
            return 0;
        if (c.len > 0 && c.p[0] != ' ')
            return 0;
        return 1;
    }
    if (!mr_cur_get_word(&c, &uid))
        return 0;
    e->uid = uid;
    /* RFC 1939 7: unique-id is 1 to 70 characters in the range 0x21 to 0x7E */
    size_t bad = 0;
    for (size_t i = 0; i < uid.len; i++)
        if (!mr_is(uid.ptr[i], MR_C_VCHAR))
            bad++;
    if (uid.len > 70 || bad)
        diag(p, off_in(l, uid.ptr), "RFC 1939 7", "unique-id is not 1-70 characters from 0x21-0x7E");
    return 1;
}

static void decode_stat(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    mr_cursor c = mr_cur_from_span(r->text);
    /* RFC 1939 5: "+OK" SP count SP size, more text may follow */
    if (!mr_cur_get_u64(&c, &r->count) || mr_cur_skip_space(&c) == 0 || !mr_cur_get_u64(&c, &r->size) ||
        (c.len > 0 && c.p[0] != ' '))
        field_error(p, MR_E_BAD_FIELD, r->status_line.offset,
                    "STAT answer is not '+OK count size' (RFC 1939 5)");
}

static int decode_entries(mr_pop3_parser *p, int uidl, int one)
{
    mr_pop3_response *r = &p->resp;
    size_t n = one ? 1 : r->n_lines;
    if (n == 0)
        return 1;
    mr_pop3_entry *arr = mr_store_alloc(&p->base.st, n * sizeof *arr);
    if (!arr)
        return 0;
    r->entries = arr;
    if (one) {
        if (parse_entry(p, r->text, &r->status_line, uidl, &arr[0]))
            r->n_entries = 1;
        else
            field_error(p, MR_E_BAD_FIELD, r->status_line.offset,
                        uidl ? "UIDL answer is not '+OK msg unique-id' (RFC 1939 7)"
                             : "LIST answer is not '+OK msg size' (RFC 1939 5)");
        return 1;
    }
    for (size_t i = 0; i < r->n_lines; i++) {
        const mr_line *l = &r->lines[i];
        mr_span t = {l->ptr, l->len};
        if (parse_entry(p, t, l, uidl, &arr[r->n_entries]))
            r->n_entries++;
        else
            field_error(p, MR_E_BAD_FIELD, l->offset,
                        uidl ? "UIDL line is not 'msg unique-id' (RFC 1939 7)"
                             : "LIST line is not 'msg size' (RFC 1939 5)");
    }
    return 1;
}

static int decode_capa(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    if (r->n_lines == 0)
        return 1;
    mr_pop3_capa *arr = mr_store_alloc(&p->base.st, r->n_lines * sizeof *arr);
    if (!arr)
        return 0;
    r->capas = arr;
    for (size_t i = 0; i < r->n_lines; i++) {
        const mr_line *l = &r->lines[i];
        mr_span s = {l->ptr, l->len};
        mr_cursor c = mr_cur_from_span(s);
        mr_pop3_capa *k = &arr[r->n_capas];
        memset(k, 0, sizeof *k);
        mr_cur_skip_space(&c);
        if (!mr_cur_get_word(&c, &k->name))
            continue; /* an empty line lists nothing */
        mr_cur_skip_space(&c);
        k->args = mr_span_rtrim(mr_cur_rest(&c));
        if (!split_words(p, k->args, &k->params, &k->n_params))
            return 0;
        for (unsigned kind = MR_POP3_CAPA_TOP; kind <= MR_POP3_CAPA_LANG; kind++)
            if (mr_span_eq_ci(k->name, capa_tags[kind]))
                k->kind = (mr_pop3_capa_kind)kind;
        /* RFC 2449 3: capa-tag = 1*cchar, printable ASCII without "." */
        for (size_t j = 0; j < k->name.len; j++)
            if (!mr_is(k->name.ptr[j], MR_C_VCHAR) || k->name.ptr[j] == '.') {
                diag(p, off_in(l, k->name.ptr + j), "RFC 2449 3", "capability tag has a character outside cchar");
                break;
            }
        const mr_span *pr = k->params;
        size_t np = k->n_params;
        switch (k->kind) {
        case MR_POP3_CAPA_LOGIN_DELAY: /* RFC 2449 6.5: LOGIN-DELAY delay [USER] */
        case MR_POP3_CAPA_EXPIRE: {    /* RFC 2449 6.7: EXPIRE (days | NEVER) [USER] */
            int ok = np >= 1 && np <= 2;
            if (ok && k->kind == MR_POP3_CAPA_EXPIRE && mr_span_eq_ci(pr[0], "NEVER")) {
                k->never = 1;
            } else if (ok) {
                mr_cursor nc = mr_cur_from_span(pr[0]);
                ok = mr_cur_get_u64(&nc, &k->number) && nc.len == 0;
                k->has_number = ok;
            }
            if (ok && np == 2) {
                ok = mr_span_eq_ci(pr[1], "USER");
                k->per_user = ok;
            }
            if (!ok)
                diag(p, off_in(l, k->name.ptr), "RFC 2449 6",
                     k->kind == MR_POP3_CAPA_EXPIRE ? "EXPIRE takes days or NEVER, then optionally USER"
                                                    : "LOGIN-DELAY takes seconds, then optionally USER");
            break;
        }
        case MR_POP3_CAPA_UTF8: /* RFC 6856 2: UTF8 [USER] */
            if (np == 1 && mr_span_eq_ci(pr[0], "USER"))
                k->per_user = 1;
            else if (np)
                diag(p, off_in(l, k->name.ptr), "RFC 6856 2", "UTF8 takes no argument but USER");
            break;
        case MR_POP3_CAPA_SASL:
            if (np == 0)
                diag(p, off_in(l, k->name.ptr), "RFC 2449 6.3", "SASL lists no mechanism");
            break;
        case MR_POP3_CAPA_TOP: case MR_POP3_CAPA_USER: case MR_POP3_CAPA_RESP_CODES:
        case MR_POP3_CAPA_PIPELINING: case MR_POP3_CAPA_UIDL: case MR_POP3_CAPA_STLS:
        case MR_POP3_CAPA_AUTH_RESP_CODE:
            if (np)
                diag(p, off_in(l, pr[0].ptr), "RFC 2449 6", "this capability takes no argument");
            break;
        default:
            break;
        }
        r->n_capas++;
    }
    return 1;
}

static int decode_items(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    if (r->n_lines == 0)
        return 1;
    mr_span *arr = mr_store_alloc(&p->base.st, r->n_lines * sizeof *arr);
    if (!arr)
        return 0;
    r->items = arr;
    for (size_t i = 0; i < r->n_lines; i++) {
        mr_span s = {r->lines[i].ptr, r->lines[i].len};
        mr_cursor c = mr_cur_from_span(s);
        mr_cur_skip_space(&c);
        if (mr_cur_get_word(&c, &arr[r->n_items]))
            r->n_items++;
    }
    return 1;
}

static int decode_sasl(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    /* RFC 5034 4: the challenge is base64; "+" or "+ " alone is empty */
    uint8_t *out = mr_store_alloc(&p->base.st, mr_base64_max_decoded(r->text.len));
    size_t n = 0, at = 0;
    if (!out)
        return 0;
    mr_b64_result b = mr_base64_decode(r->text, out, &n, &at);
    if (b == MR_B64_INVALID) {
        field_error(p, MR_E_BAD_BASE64, off_in(&r->status_line, r->text.ptr + at),
                    "SASL challenge is not base64 (RFC 5034 4)");
        return 1;
    }
    if (b == MR_B64_UNPADDED)
        diag(p, off_in(&r->status_line, r->text.ptr), "RFC 4648 4", "base64 challenge lacks '=' padding");
    r->sasl.ptr = out;
    r->sasl.len = n;
    return 1;
}

static void decode_greeting(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    mr_cursor c = mr_cur_from_span(r->text);
    mr_span before, ts;
    if (r->status == MR_POP3_STATUS_CONT) {
        field_error(p, MR_E_BAD_STATUS, r->status_line.offset, "the greeting is a '+' continuation");
        return;
    }
    /* RFC 1939 7: the APOP timestamp is a msg-id "<...@...>" in the greeting */
    if (!mr_cur_take_until(&c, '<', &before))
        return;
    mr_cursor t = c;
    if (!mr_cur_take_until(&t, '>', &ts))
        return;
    ts.len++; /* include '>' */
    r->timestamp = ts;
    if (!memchr(ts.ptr, '@', ts.len))
        diag(p, off_in(&r->status_line, ts.ptr), "RFC 1939 7", "APOP timestamp is not a msg-id (no '@')");
}

/* Decode the typed fields of a complete response.  0 on store failure. */
static int decode(mr_pop3_parser *p)
{
    mr_pop3_response *r = &p->resp;
    r->lines = p->base.st.lines;
    r->n_lines = p->streaming ? 0 : p->base.st.n_lines;
    if (r->cmd == MR_POP3_GREETING) {
        decode_greeting(p);
        return 1;
    }
    if (r->status == MR_POP3_STATUS_CONT)
        return r->cmd == MR_POP3_AUTH ? decode_sasl(p) : 1;
    if (r->status != MR_POP3_STATUS_OK || p->resp_err.code != MR_E_OK)
        return 1;
    switch (r->cmd) {
    case MR_POP3_STAT: decode_stat(p); return 1;
    case MR_POP3_LIST: return decode_entries(p, 0, 0);
    case MR_POP3_LIST_ONE: return decode_entries(p, 0, 1);
    case MR_POP3_UIDL: return decode_entries(p, 1, 0);
    case MR_POP3_UIDL_ONE: return decode_entries(p, 1, 1);
    case MR_POP3_CAPA: return decode_capa(p);
    case MR_POP3_AUTH_LIST: case MR_POP3_LANG_LIST: return decode_items(p);
    default: return 1;
    }
}

/* Hand out the complete response (or its non-fatal error). */
static mr_event_type complete(mr_pop3_parser *p, mr_pop3_event *ev, uint64_t end)
{
    mr_pop3_response *r = &p->resp;
    r->end = end;
    r->streamed = p->streaming;
    if (!decode(p))
        return fail_store(p, ev, r->offset);
    r->diags = p->base.st.diags;
    r->n_diags = p->base.st.n_diags;
    r->diags_dropped = p->base.st.diags_dropped;
    p->after_result = 1;
    p->state = S_STATUS;
    ev->response = r;
    if (p->resp_err.code != MR_E_OK) {
        ev->type = MR_EV_ERROR;
        ev->error = p->resp_err;
        return MR_EV_ERROR;
    }
    ev->type = MR_EV_RESPONSE;
    return MR_EV_RESPONSE;
}

static mr_event_type emit_chunk(mr_pop3_parser *p, mr_pop3_event *ev)
{
    ev->type = MR_EV_BODY_CHUNK;
    ev->chunk = p->chunk;
    p->chunk.ptr = NULL;
    p->chunk.len = 0;
    p->chunks++;
    return MR_EV_BODY_CHUNK;
}

/* Hand out the next line kept before the switch to streaming. */
static mr_event_type drain_one(mr_pop3_parser *p, mr_pop3_event *ev)
{
    const mr_line *l = &p->base.st.lines[p->drain++];
    ev->type = MR_EV_BODY_CHUNK;
    ev->chunk.ptr = l->ptr;
    ev->chunk.len = l->len + l->eol;
    if (p->drain == p->base.st.n_lines) /* all out; their bytes stay in the arena */
        p->base.st.n_lines = p->base.st.pinned = p->drain = 0;
    p->chunks++;
    return MR_EV_BODY_CHUNK;
}

static int draining(const mr_pop3_parser *p) { return p->streaming && p->drain < p->base.st.n_lines; }

/*
 * Switch a RETR/TOP body to streaming once it passes stream_threshold: the
 * lines kept so far go out one chunk each (copied out of the caller's input
 * first, as they are handed out over several calls), later lines as runs.
 */
static mr_event_type start_streaming(mr_pop3_parser *p, mr_pop3_event *ev)
{
    if (!mr_store_pin(&p->base.st))
        return fail_store(p, ev, p->base.lr.offset);
    p->streaming = 1;
    p->drain = 0;
    return drain_one(p, ev);
}

/* ---- the state machine ---------------------------------------------------- */

enum { CONTINUE = -1 };

/* Start a response with its status line. */
static int on_status_line(mr_pop3_parser *p, const mr_line *in, mr_pop3_event *ev)
{
    mr_pop3_response *r = &p->resp;
    mr_line line = *in;
    const mr_line *l = &line;
    uint8_t head = MR_POP3_GUESS;
    int have = mr_pending_peek(&p->base.pend, &head);
    /* The status line counts against max_memory wherever it lies. */
    if (!mr_store_count(&p->base.st, in->len + in->eol))
        return (int)fail_store(p, ev, in->offset);
    if (!line.in_input) {
        /* The line reader reuses its buffer for the next line: copy now. */
        line.ptr = mr_store_copy(&p->base.st, in->ptr, in->len + in->eol);
        if (!line.ptr)
            return (int)fail_store(p, ev, in->offset);
    }
    r->offset = l->offset;
    r->status_line = *l;
    r->cmd = !p->greeted ? MR_POP3_GREETING : (mr_pop3_cmd)(have ? head : MR_POP3_GUESS);
    int ok = parse_status(p, l);
    uint64_t end = l->offset + l->len + l->eol;
    if (r->cmd == MR_POP3_GREETING) {
        p->greeted = 1;
        return (int)complete(p, ev, end);
    }
    if (ok && r->status == MR_POP3_STATUS_CONT) {
        /* A SASL challenge: the AUTH command stays pending (RFC 5034 4). */
        if (r->cmd == MR_POP3_GUESS)
            r->cmd = MR_POP3_AUTH;
        if (r->cmd == MR_POP3_AUTH)
            return (int)complete(p, ev, end);
        /* "+" to any other command: clients that test only the first byte
         * (poplib does) take it as the answer, so it answers the command. */
        diag(p, l->offset, "RFC 5034 4", "continuation outside an AUTH exchange");
        if (have)
            mr_pending_pop(&p->base.pend);
        return (int)complete(p, ev, end);
    }
    if (have)
        mr_pending_pop(&p->base.pend);
    if (r->cmd == MR_POP3_AUTH)
        p->sasl_open = 0;
    if (!ok || r->status != MR_POP3_STATUS_OK) {
        if (r->cmd == MR_POP3_GUESS)
            r->cmd = MR_POP3_OTHER;
        return (int)complete(p, ev, end);
    }
    if (r->cmd == MR_POP3_GUESS) {
        p->state = S_GUESS;
        return CONTINUE;
    }
    if (cmd_multi[r->cmd]) {
        r->multiline = 1;
        p->state = S_BODY;
        return CONTINUE;
    }
    return (int)complete(p, ev, end);
}

/* One line of a multi-line body (RFC 1939 3: dot-stuffing, "." ends). */
static int on_body_line(mr_pop3_parser *p, mr_line *l, mr_pop3_event *ev, size_t *give_back)
{
    mr_pop3_response *r = &p->resp;
    if (l->len == 1 && l->ptr[0] == '.') {
        if (p->chunk.len) {
            /* Hand out the body first; the terminator is read again. */
            *give_back = mr_lr_unread(&p->base.lr, l);
            return (int)emit_chunk(p, ev);
        }
        check_line(p, l, 0);
        return (int)complete(p, ev, l->offset + l->len + l->eol);
    }
    mr_line u = *l;
    if (u.len > 0 && u.ptr[0] == '.') { /* dot-stuffed: drop the first '.' */
        u.ptr++;
        u.len--;
    }
    uint64_t n = u.len + u.eol;
    if (p->streaming && p->chunk.len &&
        !(u.in_input && p->chunk_in_input && p->chunk.ptr + p->chunk.len == u.ptr)) {
        /* Not contiguous with the pending chunk: hand that out first and
         * read this line again on the next call (checked then, not now). */
        *give_back = mr_lr_unread(&p->base.lr, l);
        return (int)emit_chunk(p, ev);
    }
    check_line(p, l, 0);
    if (r->body_bytes + n > p->base.opt.limits.max_body)
        return (int)fail(p, ev, MR_E_BODY_TOO_LARGE, l->offset + (p->base.opt.limits.max_body - r->body_bytes),
                         "multi-line body");
    /* max_lines bounds the lines kept; a streamed body keeps none and is
     * bounded by max_body alone. */
    if (!p->streaming && ++p->body_lines > p->base.opt.limits.max_lines)
        return (int)fail(p, ev, MR_E_TOO_MANY_LINES, l->offset, "multi-line body");
    r->body_bytes += n;
    if (!p->streaming) {
        if (!mr_store_push_line(&p->base.st, &u))
            return (int)fail_store(p, ev, l->offset);
        if ((r->cmd == MR_POP3_RETR || r->cmd == MR_POP3_TOP || r->cmd == MR_POP3_OTHER_MULTI) &&
            r->body_bytes > p->base.opt.limits.stream_threshold)
            return (int)start_streaming(p, ev);
        return CONTINUE;
    }
    if (p->chunk.len) { /* contiguous: grow the pending chunk */
        p->chunk.len += n;
        return CONTINUE;
    }
    p->chunk.ptr = u.ptr;
    p->chunk.len = n;
    p->chunk_in_input = u.in_input;
    if (!u.in_input) /* in the line reader's buffer: hand it out before the next read */
        return (int)emit_chunk(p, ev);
    return CONTINUE;
}

static int on_line(mr_pop3_parser *p, mr_line *l, mr_pop3_event *ev, size_t *give_back)
{
    switch (p->state) {
    case S_STATUS:
        return on_status_line(p, l, ev);
    case S_GUESS:
        /* RFC 1939 3 gives no marker; a robust reader takes a following status
         * line as the start of the next response, anything else as a body. */
        if (is_status_like(l)) {
            *give_back = mr_lr_unread(&p->base.lr, l);
            p->resp.cmd = MR_POP3_OTHER;
            return (int)complete(p, ev, l->offset);
        }
        p->resp.cmd = MR_POP3_OTHER_MULTI;
        p->resp.multiline = 1;
        p->state = S_BODY;
        return on_body_line(p, l, ev, give_back);
    case S_BODY:
        return on_body_line(p, l, ev, give_back);
    case S_ERROR:
        break;
    }
    return (int)MR_EV_ERROR;
}

/* Every field of *ev zeroed, field by field: a memset() of the whole
 * struct can compile to "rep stos", costly for a call fed a few bytes. */
static inline void clear_event(mr_pop3_event *ev)
{
    ev->type = MR_EV_NEED_MORE;
    ev->response = NULL;
    ev->chunk.ptr = NULL;
    ev->chunk.len = 0;
    ev->error.code = MR_E_OK;
    ev->error.offset = 0;
    ev->error.detail = NULL;
}

/* Everything but the fast path of mr_pop3_next(). */
__attribute__((noinline)) static mr_event_type next_slow(mr_pop3_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_pop3_event *ev)
{
    size_t off = 0;
    clear_event(ev);
    *consumed = 0;
    if (p->state == S_ERROR) {
        ev->type = MR_EV_ERROR;
        ev->error = p->fatal;
        return MR_EV_ERROR;
    }
    if (p->after_result) {
        p->after_result = 0;
        begin_response(p);
    }
    if (draining(p))
        return drain_one(p, ev);
    for (;;) {
        mr_line line;
        mr_error err;
        size_t used = 0, give_back = 0;
        mr_lr_result lr = mr_lr_next(&p->base.lr, data ? data + off : NULL, len - off, &used, &line, &err);
        off += used;
        if (lr == MR_LR_ERROR) {
            *consumed = off;
            return fail(p, ev, err.code, err.offset, err.detail);
        }
        if (lr == MR_LR_MORE) {
            *consumed = off;
            /* The caller may drop its buffer now: copy what still points into it. */
            if (!pin_status(p) || !mr_store_pin(&p->base.st))
                return fail_store(p, ev, p->base.lr.offset);
            if (p->chunk.len)
                return emit_chunk(p, ev);
            return MR_EV_NEED_MORE;
        }
        int rc = on_line(p, &line, ev, &give_back);
        off -= give_back;
        if (rc != CONTINUE) {
            *consumed = off;
            if (rc == MR_EV_BODY_CHUNK) {
                if (!pin_status(p) || !mr_store_pin(&p->base.st))
                    return fail_store(p, ev, p->base.lr.offset);
            }
            return (mr_event_type)rc;
        }
    }
}

/*
 * Fed in small pieces, most calls only add to the line being kept: that
 * is done here, in a function small enough to cost little more than the
 * call (make bench, mailrig-1).  The previous call returned NEED_MORE and
 * pinned what pointed into the caller's data, so nothing else changes.
 */
mr_event_type mr_pop3_next(mr_pop3_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_pop3_event *ev)
{
    if (p->state != S_ERROR && !p->after_result && !draining(p) && p->chunk.len == 0 && data &&
        mr_lr_absorb(&p->base.lr, data, len)) {
        clear_event(ev);
        *consumed = len;
        return MR_EV_NEED_MORE;
    }
    return next_slow(p, data, len, consumed, ev);
}

mr_event_type mr_pop3_finish(mr_pop3_parser *p, mr_pop3_event *ev)
{
    clear_event(ev);
    if (p->state == S_ERROR) {
        ev->type = MR_EV_ERROR;
        ev->error = p->fatal;
        return MR_EV_ERROR;
    }
    if (p->after_result) {
        p->after_result = 0;
        begin_response(p);
    }
    if (draining(p))
        return drain_one(p, ev);
    if (p->chunk.len)
        return emit_chunk(p, ev);
    if (p->state == S_GUESS && mr_lr_partial(&p->base.lr) == 0) {
        /* The stream ended after a +OK whose framing was unknown: single-line. */
        p->resp.cmd = MR_POP3_OTHER;
        return complete(p, ev, p->base.lr.offset);
    }
    if (p->state != S_STATUS || mr_lr_partial(&p->base.lr) > 0)
        return fail(p, ev, MR_E_UNEXPECTED_EOF, p->base.lr.offset,
                    p->state == S_BODY ? "no '.' line ended the multi-line response"
                                       : "the last line has no line end");
    return MR_EV_NEED_MORE;
}
