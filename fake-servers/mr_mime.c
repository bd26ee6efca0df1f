/*
 * mr_mime.c - ENVELOPE, BODY, BODYSTRUCTURE, BODY[section], and what
 * SEARCH looks at, for the fake IMAP server (mr_mime.h).
 *
 * Where the rules come from:
 *   - ENVELOPE, BODY and BODYSTRUCTURE: RFC 9051 7.5.2 and the grammar in
 *     RFC 9051 9 (body, body-type-1part, body-ext-1part, body-ext-mpart,
 *     envelope, address); the same as RFC 3501 7.4.2;
 *   - section specifiers: RFC 9051 6.4.5 (FETCH BODY[section]);
 *   - MIME structure: RFC 2045 (Content-Type, parameters, defaults, 5.2),
 *     RFC 2046 5.1.1 (boundary delimiters), 5.1.5 (digest defaults),
 *     RFC 2183 (Content-Disposition), RFC 3282 (Content-Language), RFC
 *     2557 (Content-Location), RFC 2231 3 (parameter continuations, which
 *     are joined; values are not decoded), RFC 6532 (8-bit headers, sent
 *     as literals);
 *   - addresses: RFC 5322 3.4 (with its obsolete route syntax, 4.4).
 *
 * The structure is computed from the raw bytes here, not through GMime,
 * because IMAP needs exact byte offsets: a part's size and line count
 * must match what BODY[n] returns, and those are the bytes between the
 * part's header and the CRLF that precedes the next delimiter.  GMime
 * (3.0) parses the message for what needs decoding: SEARCH BODY/TEXT
 * (transfer encodings, charsets, RFC 2047 words) and the Date header.
 * The GMimeMessage is built on first use and cached in the view.
 *
 * Choices (where the RFCs leave room; Dovecot 2.3 does the same unless
 * said otherwise):
 *   - header values are the raw text, unfolded (CRLF before white space
 *     removed) and trimmed; RFC 2047 words stay encoded.  (Dovecot also
 *     collapses white space in subjects and names "for humans".)
 *   - a display name is the phrase's words joined by one space (quoted
 *     strings unquoted); an addr-spec with no phrase takes its comment as
 *     name; a missing domain is "MISSING_DOMAIN" and a missing local part
 *     "MISSING_MAILBOX", so that host is never NIL outside a group;
 *     groups: (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); an empty or
 *     missing Sender/Reply-To is From (RFC 9051 7.5.2);
 *   - strings holding '"', '\\', control characters (CR, LF, TAB, NUL...)
 *     or 8-bit bytes are sent as literals; the rest as quoted strings;
 *     absent values as NIL.  (A NUL cannot be sent in a literal either,
 *     RFC 9051 9 CHAR8; a header holding one is sent as it is);
 *   - a text part with no parameters gets ("charset" "us-ascii") (RFC 2045
 *     5.2); a missing Content-Transfer-Encoding is "7bit"; a Content-Type
 *     that does not parse is text/plain; charset=us-ascii (RFC 2045 5.2;
 *     Dovecot keeps a lone "text" type with an empty subtype);
 *   - line counts are the number of LF bytes in the body (a last line
 *     without CRLF is not counted);
 *   - message/global is an encapsulated message like message/rfc822, as
 *     RFC 9051's grammar (media-message) says (Dovecot 2.3 treats it as a
 *     basic part);
 *   - a multipart with no boundary parameter or no delimiter line gets one
 *     empty text/plain part at the end of its body (IMAP needs at least one);
 *   - bounds: nesting deeper than MR_MIME_MAX_DEPTH, or parts beyond
 *     MR_MIME_MAX_PARTS, are not parsed into: such a composite part is
 *     reported as application/octet-stream.
 */
#include "mr_mime.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#define MR_MIME_MAX_DEPTH 64
#define MR_MIME_MAX_PARTS 10000
#define MR_MIME_MAX_FIELDS 10000     /* header fields kept per entity */
#define MR_MIME_MAX_PARAMS 256       /* parameters kept per header */
#define MR_MIME_MAX_SECTION_PARTS 64 /* numbers in a section spec */
#define MR_MIME_MAX_FIELD_NAMES 1000 /* names in HEADER.FIELDS (...) */

/* ------------------------------------------------------------ arena */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

typedef struct arena {
    chunk *head;
} arena;

static void oom(void)
{
    fputs("mailrig: out of memory\n", stderr);
    abort();
}

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!n)
        n = 16;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        chunk *c = malloc(sizeof *c + cap);
        if (!c)
            oom();
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

/* Temporaries made while answering one call (unfolded values, parsed
 * address lists, section names) go back when the call ends: the view is
 * kept as long as the message, so they would otherwise pile up with
 * every FETCH. */
typedef struct arena_mark {
    chunk *head;
    size_t used;
} arena_mark;

static arena_mark arena_get_mark(const arena *a)
{
    arena_mark m = {a->head, a->head ? a->head->used : 0};
    return m;
}

static void arena_release(arena *a, arena_mark m)
{
    while (a->head && a->head != m.head) {
        chunk *n = a->head->next;
        free(a->head);
        a->head = n;
    }
    if (a->head)
        a->head->used = m.used;
}

static void arena_free(arena *a)
{
    for (chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    a->head = NULL;
}

/* ------------------------------------------------------------ types */

/* A string: p NULL means NIL. */
typedef struct bstr {
    const uint8_t *p;
    size_t n;
} bstr;

typedef struct param {
    bstr name, value;
} param;

typedef struct field {
    size_t fstart, fend;  /* the whole field, line end(s) included */
    size_t nstart, nlen;  /* the name */
    size_t vstart, vend;  /* the raw value: after ':' to before the last line end */
} field;

typedef struct entity {
    size_t hstart, hend;  /* header fields [hstart, hend) */
    size_t bstart, bend;  /* body; the blank line is [hend, bstart) */
    field *fields;
    size_t nfields;
    /* Content-Type */
    bstr type, subtype;
    param *params;
    size_t nparams;
    int multipart, message, text;
    /* other MIME fields (NIL when absent) */
    bstr id, desc, cte, md5, location;
    bstr dsp_type;
    param *dsp_params;
    size_t ndsp_params;
    bstr *langs;
    size_t nlangs;
    size_t lines;
    struct entity **kids; /* multipart */
    size_t nkids;
    struct entity *msg;   /* message/rfc822, message/global */
} entity;

typedef struct hcache {
    char *name;
    char *value;
} hcache;

typedef struct view {
    arena a;
    const uint8_t *data;
    size_t len;
    entity *root;
    size_t nparts;
    hcache *hc;
    size_t nhc;
    GMimeMessage *gm;
    int gm_tried;
    char *body_text;    /* casefolded decoded text parts (g_malloc) */
    char *header_text;  /* casefolded decoded header fields (g_malloc) */
    int text_done;
    mr_buf out[3];      /* ENVELOPE, BODY, BODYSTRUCTURE, made once */
    int have_out[3];
} view;

/* ------------------------------------------------------------ small helpers */

static int is_wsp(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bstr lit(const char *s)
{
    bstr b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static int bstr_ieq(bstr b, const char *s)
{
    size_t n = strlen(s);
    return b.p && b.n == n && strncasecmp((const char *)b.p, s, n) == 0;
}

/* Unfold a raw value: drop CRLF and bare LF, keep everything else; trim
 * leading and trailing white space. */
static bstr unfold(view *v, size_t start, size_t end)
{
    const uint8_t *d = v->data;
    while (start < end && (is_wsp(d[start]) || d[start] == '\r' || d[start] == '\n'))
        start++;
    uint8_t *o = arena_alloc(&v->a, end - start + 1);
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        if (d[i] == '\n')
            continue;
        if (d[i] == '\r' && i + 1 < end && d[i + 1] == '\n')
            continue;
        if (d[i] == '\r' && i + 1 == end)
            continue;
        o[n++] = d[i];
    }
    while (n && is_wsp(o[n - 1]))
        n--;
    o[n] = 0;
    bstr b = {o, n};
    return b;
}

/* ------------------------------------------------------------ header fields */

/* Line end at or after p within [p, end): returns the index of the byte
 * after the line end (or end), and sets *content_end to where the line's
 * content ends. */
static size_t line_end(const uint8_t *d, size_t p, size_t end, size_t *content_end)
{
    const uint8_t *nl = memchr(d + p, '\n', end - p);
    if (!nl) {
        *content_end = end;
        return end;
    }
    size_t i = (size_t)(nl - d);
    *content_end = (i > p && d[i - 1] == '\r') ? i - 1 : i;
    return i + 1;
}

/* Parse the entity starting at [start, end): header fields, then the body
 * after the first empty line (none: the body is empty at end). */
static void parse_header(view *v, entity *e, size_t start, size_t end)
{
    const uint8_t *d = v->data;
    e->hstart = start;
    size_t p = start, cap = 0;
    field *cur = NULL;
    e->hend = e->bstart = end;
    while (p < end) {
        size_t ce, next = line_end(d, p, end, &ce);
        if (ce == p) { /* empty line: end of header */
            e->hend = p;
            e->bstart = next;
            break;
        }
        if (is_wsp(d[p]) && cur) { /* continuation */
            cur->fend = next;
            cur->vend = ce;
        } else {
            const uint8_t *colon = memchr(d + p, ':', ce - p);
            cur = NULL;
            if (colon && e->nfields < MR_MIME_MAX_FIELDS) {
                if (e->nfields == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    field *nf = arena_alloc(&v->a, ncap * sizeof *nf);
                    if (cap)
                        memcpy(nf, e->fields, cap * sizeof *nf);
                    e->fields = nf;
                    cap = ncap;
                }
                cur = &e->fields[e->nfields++];
                cur->fstart = p;
                cur->fend = next;
                cur->nstart = p;
                size_t nl = (size_t)(colon - (d + p));
                while (nl && is_wsp(d[p + nl - 1]))
                    nl--;
                cur->nlen = nl;
                cur->vstart = (size_t)(colon - d) + 1;
                cur->vend = ce;
            }
        }
        p = next;
    }
    e->bend = end;
}

static const field *find_field(const entity *e, const uint8_t *d, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < e->nfields; i++)
        if (e->fields[i].nlen == n && strncasecmp((const char *)d + e->fields[i].nstart, name, n) == 0)
            return &e->fields[i];
    return NULL;
}

/* The unfolded value of e's first NAME field, or NIL. */
static bstr field_value(view *v, const entity *e, const char *name)
{
    const field *f = find_field(e, v->data, name);
    if (!f) {
        bstr nil = {NULL, 0};
        return nil;
    }
    return unfold(v, f->vstart, f->vend);
}

/* A growable byte string in the arena. */
typedef struct sbuild {
    uint8_t *p;
    size_t n, cap;
} sbuild;

static void sb_add(view *v, sbuild *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        while (ncap < b->n + n + 1)
            ncap *= 2;
        uint8_t *np = arena_alloc(&v->a, ncap);
        if (b->n)
            memcpy(np, b->p, b->n);
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

static bstr sb_str(sbuild *b)
{
    bstr s = {b->p ? b->p : (const uint8_t *)"", b->n};
    return s;
}

/* ------------------------------------------------------------ RFC 2045 tokens */

typedef struct lexer {
    const uint8_t *p;
    size_t n, i;
    bstr last_comment;
} lexer;

static int is_tspecial(uint8_t c)
{
    return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != 0;
}

/* Skip white space and comments, remembering the last comment's text. */
static void skip_cfws(view *v, lexer *lx)
{
    while (lx->i < lx->n) {
        uint8_t c = lx->p[lx->i];
        if (is_wsp(c) || c == '\r' || c == '\n') {
            lx->i++;
        } else if (c == '(') {
            size_t depth = 0;
            uint8_t *o = arena_alloc(&v->a, lx->n - lx->i + 1);
            size_t on = 0;
            while (lx->i < lx->n) {
                c = lx->p[lx->i++];
                if (c == '\\' && lx->i < lx->n) {
                    o[on++] = lx->p[lx->i++];
                    continue;
                }
                if (c == '(') {
                    if (depth++ == 0)
                        continue;
                } else if (c == ')') {
                    if (--depth == 0)
                        break;
                }
                o[on++] = c;
            }
            while (on && is_wsp(o[on - 1]))
                on--;
            size_t k = 0;
            while (k < on && is_wsp(o[k]))
                k++;
            o[on] = 0;
            lx->last_comment.p = o + k;
            lx->last_comment.n = on - k;
        } else {
            break;
        }
    }
}

/* A token (RFC 2045 5.1; 8-bit bytes allowed). */
static bstr lex_token(lexer *lx)
{
    size_t s = lx->i;
    while (lx->i < lx->n) {
        uint8_t c = lx->p[lx->i];
        if (c <= ' ' || c == 0x7f || is_tspecial(c))
            break;
        lx->i++;
    }
    bstr b = {lx->p + s, lx->i - s};
    return b;
}

/* A quoted string at lx->i (which is '"'): its content unescaped. */
static bstr lex_quoted(view *v, lexer *lx)
{
    uint8_t *o = arena_alloc(&v->a, lx->n - lx->i + 1);
    size_t on = 0;
    lx->i++;
    while (lx->i < lx->n) {
        uint8_t c = lx->p[lx->i++];
        if (c == '"')
            break;
        if (c == '\\' && lx->i < lx->n)
            c = lx->p[lx->i++];
        if (c == '\r' || c == '\n')
            continue; /* folding inside the quotes */
        o[on++] = c;
    }
    o[on] = 0;
    bstr b = {o, on};
    return b;
}

static int lex_peek(lexer *lx)
{
    return lx->i < lx->n ? lx->p[lx->i] : -1;
}

/* The segment number of "base*N" or "base*N*" (RFC 2231 3), or -1. */
static long segment_of(bstr name, bstr base, int *encoded)
{
    if (name.n <= base.n + 1 || strncasecmp((const char *)name.p, (const char *)base.p, base.n) != 0 ||
        name.p[base.n] != '*')
        return -1;
    size_t k = base.n + 1, dl = 0;
    long num = 0;
    while (k + dl < name.n && isdigit(name.p[k + dl]) && dl < 6)
        num = num * 10 + (name.p[k + dl++] - '0');
    if (!dl || (dl > 1 && name.p[k] == '0'))
        return -1;
    size_t after = k + dl;
    if (after == name.n) {
        *encoded = 0;
        return num;
    }
    if (after + 1 == name.n && name.p[after] == '*') {
        *encoded = 1;
        return num;
    }
    return -1;
}

/* RFC 2231 3: join "name*0", "name*1", ... into "name" ("name*0*" ...:
 * encoded, the joined name is "name*" and the value stays encoded).  The
 * joined parameter takes the place of segment 0; a name without segment 0
 * is left as it is.  Returns the new count. */
static size_t join_continuations(view *v, param *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *star = ps[i].name.p ? memchr(ps[i].name.p, '*', ps[i].name.n) : NULL;
        if (!star || star == ps[i].name.p)
            continue;
        bstr base = {ps[i].name.p, (size_t)(star - ps[i].name.p)};
        int enc0;
        if (segment_of(ps[i].name, base, &enc0) != 0)
            continue;
        sbuild val = {0};
        int any_enc = 0;
        for (long seg = 0;; seg++) {
            size_t j;
            for (j = i; j < n; j++) {
                int enc;
                if (ps[j].name.p && segment_of(ps[j].name, base, &enc) == seg) {
                    any_enc |= enc;
                    sb_add(v, &val, ps[j].value.p, ps[j].value.n);
                    if (j != i)
                        ps[j].name.p = NULL; /* joined: dropped below */
                    break;
                }
            }
            if (j == n)
                break;
        }
        uint8_t *nm = arena_alloc(&v->a, base.n + 2);
        memcpy(nm, base.p, base.n);
        size_t nl = base.n;
        if (any_enc)
            nm[nl++] = '*';
        nm[nl] = 0;
        ps[i].name.p = nm;
        ps[i].name.n = nl;
        ps[i].value = sb_str(&val);
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (ps[i].name.p)
            ps[w++] = ps[i];
    return w;
}

/* Parameters: *(";" name "=" value); lenient (stops at what it cannot read). */
static void parse_params(view *v, lexer *lx, param **out, size_t *nout)
{
    param *ps = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        skip_cfws(v, lx);
        if (lex_peek(lx) != ';')
            break;
        lx->i++;
        skip_cfws(v, lx);
        bstr name = lex_token(lx);
        if (!name.n)
            break;
        skip_cfws(v, lx);
        if (lex_peek(lx) != '=')
            break;
        lx->i++;
        skip_cfws(v, lx);
        bstr val;
        if (lex_peek(lx) == '"') {
            val = lex_quoted(v, lx);
        } else {
            val = lex_token(lx);
            if (!val.p)
                val = lit("");
        }
        if (n == MR_MIME_MAX_PARAMS)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            param *np = arena_alloc(&v->a, ncap * sizeof *np);
            if (cap)
                memcpy(np, ps, cap * sizeof *np);
            ps = np;
            cap = ncap;
        }
        ps[n].name = name;
        ps[n].value = val;
        n++;
    }
    *out = ps;
    *nout = n ? join_continuations(v, ps, n) : 0;
}

static const param *find_param(const param *ps, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (bstr_ieq(ps[i].name, name))
            return &ps[i];
    return NULL;
}

/* ------------------------------------------------------------ MIME structure */

static void parse_entity(view *v, entity *e, size_t start, size_t end, int digest_child, int depth);

static entity *new_entity(view *v)
{
    entity *e = arena_alloc(&v->a, sizeof *e);
    memset(e, 0, sizeof *e);
    v->nparts++;
    return e;
}

static void set_default_type(entity *e, int digest_child)
{
    if (digest_child) {
        e->type = lit("message");
        e->subtype = lit("rfc822");
    } else {
        e->type = lit("text");
        e->subtype = lit("plain");
        static param charset = {{(const uint8_t *)"charset", 7}, {(const uint8_t *)"us-ascii", 8}};
        e->params = &charset;
        e->nparams = 1;
    }
}

static void parse_content_fields(view *v, entity *e, int digest_child)
{
    const field *f = find_field(e, v->data, "Content-Type");
    int ok = 0;
    if (f) {
        lexer lx = {v->data + f->vstart, f->vend - f->vstart, 0, {NULL, 0}};
        skip_cfws(v, &lx);
        bstr t = lex_token(&lx);
        skip_cfws(v, &lx);
        if (t.n && lex_peek(&lx) == '/') {
            lx.i++;
            skip_cfws(v, &lx);
            bstr st = lex_token(&lx);
            if (st.n) {
                e->type = t;
                e->subtype = st;
                parse_params(v, &lx, &e->params, &e->nparams);
                ok = 1;
            }
        }
        if (!ok)
            digest_child = 0; /* RFC 2045 5.2: invalid means text/plain */
    }
    if (!ok)
        set_default_type(e, digest_child);
    e->text = bstr_ieq(e->type, "text");
    e->multipart = bstr_ieq(e->type, "multipart");
    e->message = bstr_ieq(e->type, "message") && (bstr_ieq(e->subtype, "rfc822") || bstr_ieq(e->subtype, "global"));
    if (e->text && e->nparams == 0) { /* RFC 2045 5.2: the default charset */
        static param charset = {{(const uint8_t *)"charset", 7}, {(const uint8_t *)"us-ascii", 8}};
        e->params = &charset;
        e->nparams = 1;
    }
    e->id = field_value(v, e, "Content-ID");
    e->desc = field_value(v, e, "Content-Description");
    e->cte = field_value(v, e, "Content-Transfer-Encoding");
    if (!e->cte.p)
        e->cte = lit("7bit");
    e->md5 = field_value(v, e, "Content-MD5");
    e->location = field_value(v, e, "Content-Location");
    f = find_field(e, v->data, "Content-Disposition");
    if (f) {
        lexer lx = {v->data + f->vstart, f->vend - f->vstart, 0, {NULL, 0}};
        skip_cfws(v, &lx);
        bstr t = lex_token(&lx);
        if (t.n) {
            e->dsp_type = t;
            parse_params(v, &lx, &e->dsp_params, &e->ndsp_params);
        }
    }
    f = find_field(e, v->data, "Content-Language");
    if (f) {
        lexer lx = {v->data + f->vstart, f->vend - f->vstart, 0, {NULL, 0}};
        size_t cap = 0;
        for (;;) {
            skip_cfws(v, &lx);
            bstr t = lex_token(&lx);
            if (t.n && e->nlangs < MR_MIME_MAX_PARAMS) {
                if (e->nlangs == cap) {
                    size_t ncap = cap ? cap * 2 : 4;
                    bstr *nl = arena_alloc(&v->a, ncap * sizeof *nl);
                    if (cap)
                        memcpy(nl, e->langs, cap * sizeof *nl);
                    e->langs = nl;
                    cap = ncap;
                }
                e->langs[e->nlangs++] = t;
            }
            skip_cfws(v, &lx);
            if (lex_peek(&lx) != ',')
                break;
            lx.i++;
        }
    }
}

static size_t count_lf(const uint8_t *d, size_t s, size_t e)
{
    size_t n = 0;
    const uint8_t *p = d + s, *end = d + e;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static void add_kid(view *v, entity *e, entity *k, size_t *cap)
{
    if (e->nkids == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        entity **nk = arena_alloc(&v->a, ncap * sizeof *nk);
        if (*cap)
            memcpy(nk, e->kids, *cap * sizeof *nk);
        e->kids = nk;
        *cap = ncap;
    }
    e->kids[e->nkids++] = k;
}

/* Is there a delimiter line for boundary b at p (a line start)?  Returns
 * 0 no, 1 delimiter, 2 close delimiter; *next is the next line's start
 * (RFC 2046 5.1.1: "--" boundary, then "--" for the close delimiter, then
 * optional white space, then the line end). */
static int delimiter_at(const uint8_t *d, size_t p, size_t end, bstr b, size_t *next)
{
    if (end - p < 2 + b.n || d[p] != '-' || d[p + 1] != '-' || memcmp(d + p + 2, b.p, b.n) != 0)
        return 0;
    size_t i = p + 2 + b.n, ce;
    int close = 0;
    if (end - i >= 2 && d[i] == '-' && d[i + 1] == '-') {
        close = 1;
        i += 2;
    }
    *next = line_end(d, i, end, &ce);
    if (!close) {
        for (size_t k = i; k < ce; k++)
            if (!is_wsp(d[k]))
                return 0;
    }
    return close ? 2 : 1;
}

static void parse_multipart(view *v, entity *e, int depth)
{
    const param *bp = find_param(e->params, e->nparams, "boundary");
    const uint8_t *d = v->data;
    size_t cap = 0;
    int digest = bstr_ieq(e->subtype, "digest");
    if (bp && bp->value.n) {
        size_t p = e->bstart, part_start = 0;
        int in_part = 0;
        while (p < e->bend) {
            size_t next;
            int k = delimiter_at(d, p, e->bend, bp->value, &next);
            if (k) {
                if (in_part) {
                    size_t pe = p;
                    if (pe > part_start && d[pe - 1] == '\n')
                        pe--;
                    if (pe > part_start && d[pe - 1] == '\r')
                        pe--;
                    if (v->nparts < MR_MIME_MAX_PARTS) {
                        entity *kid = new_entity(v);
                        parse_entity(v, kid, part_start, pe, digest, depth + 1);
                        add_kid(v, e, kid, &cap);
                    }
                }
                if (k == 2) {
                    in_part = 0;
                    break;
                }
                in_part = 1;
                part_start = next;
                p = next;
                continue;
            }
            size_t ce;
            p = line_end(d, p, e->bend, &ce);
        }
        if (in_part && v->nparts < MR_MIME_MAX_PARTS) { /* no close delimiter */
            entity *kid = new_entity(v);
            parse_entity(v, kid, part_start < e->bend ? part_start : e->bend, e->bend, digest, depth + 1);
            add_kid(v, e, kid, &cap);
        }
    }
    if (e->nkids == 0) {
        entity *kid = new_entity(v);
        parse_entity(v, kid, e->bend, e->bend, 0, depth + 1);
        add_kid(v, e, kid, &cap);
    }
}

static void parse_entity(view *v, entity *e, size_t start, size_t end, int digest_child, int depth)
{
    parse_header(v, e, start, end);
    parse_content_fields(v, e, digest_child);
    e->lines = count_lf(v->data, e->bstart, e->bend);
    if ((e->multipart || e->message) && (depth >= MR_MIME_MAX_DEPTH || v->nparts >= MR_MIME_MAX_PARTS)) {
        e->multipart = e->message = e->text = 0;
        e->type = lit("application");
        e->subtype = lit("octet-stream");
        e->params = NULL;
        e->nparams = 0;
    }
    if (e->multipart) {
        parse_multipart(v, e, depth);
    } else if (e->message) {
        e->msg = new_entity(v);
        parse_entity(v, e->msg, e->bstart, e->bend, 0, depth + 1);
    }
}

/* ------------------------------------------------------------ the view */

static view *get_view(mr_msgdata *d)
{
    if (d->mime)
        return d->mime;
    view *v = calloc(1, sizeof *v);
    if (!v)
        oom();
    v->data = d->data;
    v->len = d->len;
    v->root = new_entity(v);
    parse_entity(v, v->root, 0, d->len, 0, 0);
    d->mime = v;
    return v;
}

static int gmime_ready;

void mr_mime_init(void)
{
    if (!gmime_ready) {
        g_mime_init();
        gmime_ready = 1;
    }
}

void mr_mime_release(mr_msgdata *d)
{
    if (!d || !d->mime)
        return;
    view *v = d->mime;
    if (v->gm)
        g_object_unref(v->gm);
    g_free(v->body_text);
    g_free(v->header_text);
    for (size_t i = 0; i < v->nhc; i++) {
        free(v->hc[i].name);
        free(v->hc[i].value);
    }
    free(v->hc);
    for (int i = 0; i < 3; i++)
        mr_buf_free(&v->out[i]);
    arena_free(&v->a);
    free(v);
    d->mime = NULL;
}

/* ------------------------------------------------------------ IMAP output */

static void put_nstring(mr_buf *out, bstr s)
{
    if (!s.p) {
        mr_buf_adds(out, "NIL");
        return;
    }
    int literal = 0;
    for (size_t i = 0; i < s.n && !literal; i++) {
        uint8_t c = s.p[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c >= 0x80)
            literal = 1;
    }
    if (literal) {
        mr_buf_printf(out, "{%zu}\r\n", s.n);
        mr_buf_add(out, s.p, s.n);
    } else {
        mr_buf_addc(out, '"');
        mr_buf_add(out, s.p, s.n);
        mr_buf_addc(out, '"');
    }
}

static void put_params(mr_buf *out, const param *ps, size_t n)
{
    if (!n) {
        mr_buf_adds(out, "NIL");
        return;
    }
    mr_buf_addc(out, '(');
    for (size_t i = 0; i < n; i++) {
        if (i)
            mr_buf_addc(out, ' ');
        put_nstring(out, ps[i].name);
        mr_buf_addc(out, ' ');
        put_nstring(out, ps[i].value);
    }
    mr_buf_addc(out, ')');
}

/* ---- addresses (RFC 5322 3.4) */

enum { T_END = 0, T_WORD, T_QWORD, T_DLIT, T_SPECIAL };

typedef struct atok {
    int kind;
    uint8_t ch;  /* T_SPECIAL */
    bstr s;      /* T_WORD, T_QWORD (unquoted), T_DLIT (with brackets) */
} atok;

typedef struct addr_lexer {
    lexer lx;
    atok t;       /* the current token */
    bstr comment; /* the last comment before or after it */
} addr_lexer;

static void anext(view *v, addr_lexer *al)
{
    lexer *lx = &al->lx;
    lx->last_comment.p = NULL;
    skip_cfws(v, lx);
    if (lx->last_comment.p)
        al->comment = lx->last_comment;
    int c = lex_peek(lx);
    if (c < 0) {
        al->t.kind = T_END;
        return;
    }
    if (c == '"') {
        al->t.kind = T_QWORD;
        al->t.s = lex_quoted(v, lx);
    } else if (c == '[') {
        size_t s = lx->i;
        while (lx->i < lx->n && lx->p[lx->i] != ']')
            lx->i += (lx->p[lx->i] == '\\' && lx->i + 1 < lx->n) ? 2 : 1;
        if (lx->i < lx->n)
            lx->i++;
        al->t.kind = T_DLIT;
        al->t.s.p = lx->p + s;
        al->t.s.n = lx->i - s;
    } else if (strchr("<>@,;:.", c) && c) {
        al->t.kind = T_SPECIAL;
        al->t.ch = (uint8_t)c;
        lx->i++;
    } else {
        size_t s = lx->i;
        while (lx->i < lx->n) {
            uint8_t b = lx->p[lx->i];
            if (is_wsp(b) || b == '\r' || b == '\n' || strchr("()<>@,;:.\"[]", b))
                break;
            lx->i++;
        }
        if (lx->i == s) { /* a stray ')', ']' or '\\': skip it */
            lx->i++;
            anext(v, al);
            return;
        }
        al->t.kind = T_WORD;
        al->t.s.p = lx->p + s;
        al->t.s.n = lx->i - s;
    }
}

static int is_sp(const addr_lexer *al, uint8_t c)
{
    return al->t.kind == T_SPECIAL && al->t.ch == c;
}

typedef struct addr_out {
    mr_buf *out;
    size_t count;
} addr_out;

static void put_addr(addr_out *ao, bstr name, bstr adl, bstr mbox, bstr host)
{
    if (ao->count++ == 0)
        mr_buf_addc(ao->out, '(');
    mr_buf_addc(ao->out, '(');
    put_nstring(ao->out, name);
    mr_buf_addc(ao->out, ' ');
    put_nstring(ao->out, adl);
    mr_buf_addc(ao->out, ' ');
    put_nstring(ao->out, mbox);
    mr_buf_addc(ao->out, ' ');
    put_nstring(ao->out, host);
    mr_buf_addc(ao->out, ')');
}

/* The tokens of an addr-spec's local part or domain, concatenated as
 * sent (quoted words unquoted), up to a token in stop. */
static bstr collect_until(view *v, addr_lexer *al, const char *stop)
{
    sbuild b = {0};
    while (al->t.kind != T_END && !(al->t.kind == T_SPECIAL && strchr(stop, al->t.ch))) {
        if (al->t.kind == T_SPECIAL)
            sb_add(v, &b, &al->t.ch, 1);
        else
            sb_add(v, &b, al->t.s.p, al->t.s.n);
        anext(v, al);
    }
    return sb_str(&b);
}

static const bstr NIL = {NULL, 0};

/* One mailbox; the current token starts it.  stop holds the specials that
 * end it (",", or ",;" inside a group). */
static void parse_mailbox(view *v, addr_lexer *al, addr_out *ao, const char *stop)
{
    sbuild phrase = {0};
    al->comment.p = NULL;
    /* Words up to "<", "@" or the end: a phrase, or the local part. */
    sbuild local = {0};
    int words = 0;
    while (al->t.kind == T_WORD || al->t.kind == T_QWORD || al->t.kind == T_DLIT || is_sp(al, '.')) {
        if (al->t.kind == T_SPECIAL) {
            sb_add(v, &local, ".", 1);
            sb_add(v, &phrase, ".", 1);
        } else {
            if (words++ && phrase.n && phrase.p[phrase.n - 1] != '.')
                sb_add(v, &phrase, " ", 1);
            sb_add(v, &phrase, al->t.s.p, al->t.s.n);
            sb_add(v, &local, al->t.s.p, al->t.s.n);
        }
        anext(v, al);
    }
    bstr name = NIL, adl = NIL, mbox = NIL, host = NIL;
    if (is_sp(al, '<')) {
        if (phrase.n)
            name = sb_str(&phrase);
        anext(v, al);
        if (is_sp(al, '@')) { /* obsolete route: "@a,@b:" (RFC 5322 4.4) */
            sbuild r = {0};
            while (al->t.kind != T_END && !is_sp(al, ':') && !is_sp(al, '>')) {
                if (al->t.kind == T_SPECIAL)
                    sb_add(v, &r, &al->t.ch, 1);
                else
                    sb_add(v, &r, al->t.s.p, al->t.s.n);
                anext(v, al);
            }
            if (is_sp(al, ':')) {
                anext(v, al);
                adl = sb_str(&r);
            }
        }
        bstr lp = collect_until(v, al, "@>");
        if (lp.n)
            mbox = lp;
        if (is_sp(al, '@')) {
            anext(v, al);
            bstr dom = collect_until(v, al, ">");
            if (dom.n)
                host = dom;
        }
        if (is_sp(al, '>'))
            anext(v, al);
        if (!name.p && al->comment.p && al->comment.n)
            name = al->comment;
    } else {
        if (local.n)
            mbox = sb_str(&local);
        if (is_sp(al, '@')) {
            anext(v, al);
            bstr dom = collect_until(v, al, stop);
            if (dom.n)
                host = dom;
        }
        if (al->comment.p && al->comment.n)
            name = al->comment;
    }
    /* Skip whatever else is there up to the separator. */
    while (al->t.kind != T_END && !(al->t.kind == T_SPECIAL && strchr(stop, al->t.ch)))
        anext(v, al);
    if (!mbox.p && !host.p && !name.p)
        return; /* nothing: an empty list element */
    if (!mbox.p)
        mbox = lit("MISSING_MAILBOX");
    if (!host.p)
        host = lit("MISSING_DOMAIN");
    put_addr(ao, name, adl, mbox, host);
}

/* Does a group start here: a phrase followed by ":"? (Looks ahead without
 * consuming.) */
static int group_ahead(view *v, const addr_lexer *al)
{
    addr_lexer la = *al;
    int words = 0;
    while (la.t.kind == T_WORD || la.t.kind == T_QWORD || is_sp(&la, '.')) {
        words++;
        anext(v, &la);
    }
    return words && is_sp(&la, ':');
}

/* An address list as ENVELOPE's member: NIL when there are none. */
static void put_address_list(view *v, mr_buf *out, bstr value)
{
    if (!value.p) {
        mr_buf_adds(out, "NIL");
        return;
    }
    addr_out ao = {out, 0};
    addr_lexer al;
    memset(&al, 0, sizeof al);
    al.lx.p = value.p;
    al.lx.n = value.n;
    anext(v, &al);
    size_t guard = 0;
    while (al.t.kind != T_END && guard++ < 100000) {
        if (is_sp(&al, ',') || is_sp(&al, ';') || is_sp(&al, '>')) {
            anext(v, &al);
            continue;
        }
        if (group_ahead(v, &al)) {
            sbuild g = {0};
            int words = 0;
            while (!is_sp(&al, ':')) {
                if (al.t.kind == T_SPECIAL) {
                    sb_add(v, &g, ".", 1);
                } else {
                    if (words++ && g.n && g.p[g.n - 1] != '.')
                        sb_add(v, &g, " ", 1);
                    sb_add(v, &g, al.t.s.p, al.t.s.n);
                }
                anext(v, &al);
            }
            anext(v, &al);
            put_addr(&ao, NIL, NIL, sb_str(&g), NIL);
            while (al.t.kind != T_END && !is_sp(&al, ';')) {
                if (is_sp(&al, ',')) {
                    anext(v, &al);
                    continue;
                }
                size_t before = al.lx.i;
                int kind = al.t.kind;
                parse_mailbox(v, &al, &ao, ",;");
                if (al.lx.i == before && al.t.kind == kind && !is_sp(&al, ',') && !is_sp(&al, ';'))
                    anext(v, &al); /* no progress: skip a token */
            }
            if (is_sp(&al, ';'))
                anext(v, &al);
            put_addr(&ao, NIL, NIL, NIL, NIL);
            continue;
        }
        size_t before = al.lx.i;
        int kind = al.t.kind;
        parse_mailbox(v, &al, &ao, ",");
        if (al.lx.i == before && al.t.kind == kind && !is_sp(&al, ','))
            anext(v, &al);
    }
    if (ao.count)
        mr_buf_addc(out, ')');
    else
        mr_buf_adds(out, "NIL");
}

static void put_envelope(view *v, const entity *m, mr_buf *out)
{
    bstr from = field_value(v, m, "From");
    bstr sender = field_value(v, m, "Sender");
    bstr reply = field_value(v, m, "Reply-To");
    mr_buf_addc(out, '(');
    put_nstring(out, field_value(v, m, "Date"));
    mr_buf_addc(out, ' ');
    put_nstring(out, field_value(v, m, "Subject"));
    mr_buf_addc(out, ' ');
    /* From, and Sender and Reply-To defaulting to it (RFC 9051 7.5.2):
     * "empty" is judged by what the list gives. */
    size_t at = out->len;
    put_address_list(v, out, from);
    size_t from_len = out->len - at;
    const bstr lists[2] = {sender, reply};
    for (int i = 0; i < 2; i++) {
        mr_buf_addc(out, ' ');
        size_t s = out->len;
        put_address_list(v, out, lists[i]);
        if (out->len - s == 3 && memcmp(out->data + s, "NIL", 3) == 0) {
            out->len = s;
            /* out->data may move in mr_buf_add: copy through a temporary */
            uint8_t *tmp = malloc(from_len ? from_len : 1);
            if (!tmp)
                oom();
            memcpy(tmp, out->data + at, from_len);
            mr_buf_add(out, tmp, from_len);
            free(tmp);
        }
    }
    static const char *const rest[] = {"To", "Cc", "Bcc"};
    for (int i = 0; i < 3; i++) {
        mr_buf_addc(out, ' ');
        put_address_list(v, out, field_value(v, m, rest[i]));
    }
    mr_buf_addc(out, ' ');
    put_nstring(out, field_value(v, m, "In-Reply-To"));
    mr_buf_addc(out, ' ');
    put_nstring(out, field_value(v, m, "Message-ID"));
    mr_buf_addc(out, ')');
}

static void put_body(view *v, const entity *e, int ext, mr_buf *out)
{
    mr_buf_addc(out, '(');
    if (e->multipart) {
        for (size_t i = 0; i < e->nkids; i++)
            put_body(v, e->kids[i], ext, out);
        mr_buf_addc(out, ' ');
        put_nstring(out, e->subtype);
        if (ext) {
            mr_buf_addc(out, ' ');
            put_params(out, e->params, e->nparams);
        }
    } else {
        put_nstring(out, e->type);
        mr_buf_addc(out, ' ');
        put_nstring(out, e->subtype);
        mr_buf_addc(out, ' ');
        put_params(out, e->params, e->nparams);
        mr_buf_addc(out, ' ');
        put_nstring(out, e->id);
        mr_buf_addc(out, ' ');
        put_nstring(out, e->desc);
        mr_buf_addc(out, ' ');
        put_nstring(out, e->cte);
        mr_buf_printf(out, " %zu", e->bend - e->bstart);
        if (e->message) {
            mr_buf_addc(out, ' ');
            put_envelope(v, e->msg, out);
            mr_buf_addc(out, ' ');
            put_body(v, e->msg, ext, out);
            mr_buf_printf(out, " %zu", e->lines);
        } else if (e->text) {
            mr_buf_printf(out, " %zu", e->lines);
        }
        if (ext) {
            mr_buf_addc(out, ' ');
            put_nstring(out, e->md5);
        }
    }
    if (ext) {
        mr_buf_addc(out, ' ');
        if (e->dsp_type.p) {
            mr_buf_addc(out, '(');
            put_nstring(out, e->dsp_type);
            mr_buf_addc(out, ' ');
            put_params(out, e->dsp_params, e->ndsp_params);
            mr_buf_addc(out, ')');
        } else {
            mr_buf_adds(out, "NIL");
        }
        mr_buf_addc(out, ' ');
        if (e->nlangs) {
            mr_buf_addc(out, '(');
            for (size_t i = 0; i < e->nlangs; i++) {
                if (i)
                    mr_buf_addc(out, ' ');
                put_nstring(out, e->langs[i]);
            }
            mr_buf_addc(out, ')');
        } else {
            mr_buf_adds(out, "NIL");
        }
        mr_buf_addc(out, ' ');
        put_nstring(out, e->location);
    }
    mr_buf_addc(out, ')');
}

/* ENVELOPE (0), BODY (1), BODYSTRUCTURE (2): computed on first use and
 * kept with the view, since clients fetch them again and again. */
static void put_cached(mr_msgdata *d, int which, mr_buf *out)
{
    view *v = get_view(d);
    if (!v->have_out[which]) {
        arena_mark m = arena_get_mark(&v->a);
        if (which == 0)
            put_envelope(v, v->root, &v->out[0]);
        else
            put_body(v, v->root, which == 2, &v->out[which]);
        arena_release(&v->a, m);
        v->have_out[which] = 1;
    }
    mr_buf_add(out, v->out[which].data, v->out[which].len);
}

void mr_mime_envelope(mr_msgdata *d, mr_buf *out) { put_cached(d, 0, out); }

void mr_mime_bodystructure(mr_msgdata *d, int extensible, mr_buf *out)
{
    put_cached(d, extensible ? 2 : 1, out);
}

/* ------------------------------------------------------------ sections */

typedef struct spec_parser {
    const uint8_t *p;
    size_t n, i;
} spec_parser;

static int sp_kw(spec_parser *sp, const char *kw)
{
    size_t k = strlen(kw);
    if (sp->n - sp->i >= k && strncasecmp((const char *)sp->p + sp->i, kw, k) == 0) {
        sp->i += k;
        return 1;
    }
    return 0;
}

/* ASTRING-CHAR (RFC 9051 9): ATOM-CHAR or "]". */
static int astring_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\", c);
}

/* One header-fld-name (astring): atom, quoted string or literal. */
static int sp_astring(view *v, spec_parser *sp, bstr *out)
{
    if (sp->i >= sp->n)
        return -1;
    uint8_t c = sp->p[sp->i];
    if (c == '"') {
        uint8_t *o = arena_alloc(&v->a, sp->n - sp->i + 1);
        size_t on = 0;
        sp->i++;
        for (;;) {
            if (sp->i >= sp->n)
                return -1;
            c = sp->p[sp->i++];
            if (c == '"')
                break;
            if (c == '\\') {
                if (sp->i >= sp->n || (sp->p[sp->i] != '"' && sp->p[sp->i] != '\\'))
                    return -1;
                c = sp->p[sp->i++];
            } else if (c == '\r' || c == '\n' || c == 0) {
                return -1;
            }
            o[on++] = c;
        }
        out->p = o;
        out->n = on;
        return 0;
    }
    if (c == '{') {
        size_t num = 0, k = sp->i + 1, digits = 0;
        while (k < sp->n && isdigit(sp->p[k]) && digits < 10) {
            num = num * 10 + (size_t)(sp->p[k] - '0');
            k++;
            digits++;
        }
        if (!digits || k >= sp->n)
            return -1;
        if (sp->p[k] == '+')
            k++;
        if (sp->n - k < 3 || sp->p[k] != '}' || sp->p[k + 1] != '\r' || sp->p[k + 2] != '\n')
            return -1;
        k += 3;
        if (sp->n - k < num)
            return -1;
        out->p = sp->p + k;
        out->n = num;
        sp->i = k + num;
        return 0;
    }
    size_t s = sp->i;
    while (sp->i < sp->n && astring_char(sp->p[sp->i]))
        sp->i++;
    if (sp->i == s)
        return -1;
    out->p = sp->p + s;
    out->n = sp->i - s;
    return 0;
}

static int name_in(const bstr *names, size_t n, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].n == len && strncasecmp((const char *)names[i].p, (const char *)name, len) == 0)
            return 1;
    return 0;
}

/* Resolve part numbers (RFC 9051 6.4.5); NULL when there is no such part. */
static const entity *resolve(const view *v, const unsigned long *nums, size_t n)
{
    const entity *e = v->root;
    int ctx = 1; /* e is a message whose parts we number */
    for (size_t i = 0; i < n; i++) {
        unsigned long k = nums[i];
        if (!ctx) {
            if (e->multipart) {
                if (k > e->nkids)
                    return NULL;
                e = e->kids[k - 1];
                continue;
            }
            if (!e->message)
                return NULL;
            e = e->msg;
        }
        if (e->multipart) {
            if (k > e->nkids)
                return NULL;
            e = e->kids[k - 1];
        } else if (k != 1) {
            return NULL;
        }
        ctx = 0;
    }
    return e;
}

static int section_impl(mr_msgdata *d, const char *section, size_t len, mr_buf *out);

int mr_mime_section(mr_msgdata *d, const char *section, size_t len, mr_buf *out)
{
    view *v = get_view(d);
    arena_mark m = arena_get_mark(&v->a);
    int r = section_impl(d, section, len, out);
    arena_release(&v->a, m);
    return r;
}

static int section_impl(mr_msgdata *d, const char *section, size_t len, mr_buf *out)
{
    if (!section && len)
        return -1;
    spec_parser sp = {(const uint8_t *)section, len, 0};
    unsigned long nums[MR_MIME_MAX_SECTION_PARTS];
    size_t nn = 0;
    /* section-part: nz-number *("." nz-number), then maybe "." section-text */
    while (sp.i < sp.n && isdigit((unsigned char)sp.p[sp.i])) {
        if (sp.p[sp.i] == '0' || nn == MR_MIME_MAX_SECTION_PARTS)
            return -1;
        unsigned long num = 0;
        while (sp.i < sp.n && isdigit((unsigned char)sp.p[sp.i])) {
            num = num * 10 + (unsigned long)(sp.p[sp.i] - '0');
            if (num > 0xffffffffu)
                return -1;
            sp.i++;
        }
        nums[nn++] = num;
        if (sp.i == sp.n)
            break;
        if (sp.p[sp.i] != '.')
            return -1;
        sp.i++;
        if (sp.i == sp.n)
            return -1; /* "1." */
    }
    enum { S_ALL, S_HEADER, S_TEXT, S_MIME, S_FIELDS, S_FIELDS_NOT } what = S_ALL;
    bstr *names = NULL;
    size_t nnames = 0;
    view *v = get_view(d);
    if (sp.i < sp.n) {
        if (sp_kw(&sp, "HEADER.FIELDS")) {
            what = sp_kw(&sp, ".NOT") ? S_FIELDS_NOT : S_FIELDS;
            if (!sp_kw(&sp, " ("))
                return -1;
            names = arena_alloc(&v->a, MR_MIME_MAX_FIELD_NAMES * sizeof *names);
            for (;;) {
                if (nnames == MR_MIME_MAX_FIELD_NAMES)
                    return -1;
                if (sp_astring(v, &sp, &names[nnames]) != 0)
                    return -1;
                nnames++;
                if (sp_kw(&sp, ")"))
                    break;
                if (!sp_kw(&sp, " "))
                    return -1;
            }
        } else if (sp_kw(&sp, "HEADER")) {
            what = S_HEADER;
        } else if (sp_kw(&sp, "TEXT")) {
            what = S_TEXT;
        } else if (nn && sp_kw(&sp, "MIME")) {
            what = S_MIME;
        } else {
            return -1;
        }
        if (sp.i != sp.n)
            return -1;
    }
    const entity *e = v->root;
    if (nn) {
        e = resolve(v, nums, nn);
        if (!e)
            return 0;
    }
    if (what == S_ALL) {
        if (nn)
            mr_buf_add(out, v->data + e->bstart, e->bend - e->bstart);
        else
            mr_buf_add(out, v->data, v->len);
        return 0;
    }
    if (what == S_MIME) {
        mr_buf_add(out, v->data + e->hstart, e->bstart - e->hstart);
        return 0;
    }
    if (nn) {
        if (!e->message)
            return 0;
        e = e->msg;
    }
    if (what == S_HEADER) {
        mr_buf_add(out, v->data + e->hstart, e->bstart - e->hstart);
    } else if (what == S_TEXT) {
        mr_buf_add(out, v->data + e->bstart, e->bend - e->bstart);
    } else {
        for (size_t i = 0; i < e->nfields; i++) {
            const field *f = &e->fields[i];
            int in = name_in(names, nnames, v->data + f->nstart, f->nlen);
            if (in != (what == S_FIELDS))
                continue;
            mr_buf_add(out, v->data + f->fstart, f->fend - f->fstart);
            if (f->fend == f->fstart || v->data[f->fend - 1] != '\n')
                mr_buf_adds(out, "\r\n");
        }
        mr_buf_adds(out, "\r\n");
    }
    return 0;
}

/* ------------------------------------------------------------ SEARCH helpers */

const char *mr_mime_header(mr_msgdata *d, const char *name)
{
    if (!name)
        return NULL;
    view *v = get_view(d);
    for (size_t i = 0; i < v->nhc; i++)
        if (strcasecmp(v->hc[i].name, name) == 0)
            return v->hc[i].value;
    arena_mark m = arena_get_mark(&v->a);
    bstr val = field_value(v, v->root, name);
    if (!val.p) {
        arena_release(&v->a, m);
        return NULL;
    }
    hcache *nh = realloc(v->hc, (v->nhc + 1) * sizeof *nh);
    char *nm = strdup(name), *vl = malloc(val.n + 1);
    if (!nh || !nm || !vl)
        oom();
    memcpy(vl, val.p, val.n);
    vl[val.n] = 0;
    arena_release(&v->a, m);
    v->hc = nh;
    v->hc[v->nhc].name = nm;
    v->hc[v->nhc].value = vl;
    v->nhc++;
    return vl;
}

static GMimeMessage *get_gmime(view *v)
{
    if (v->gm_tried)
        return v->gm;
    v->gm_tried = 1;
    mr_mime_init();
    GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)v->data, v->len);
    GMimeParser *parser = g_mime_parser_new_with_stream(st);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    v->gm = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(st);
    return v->gm;
}

/* Casefolded UTF-8 of bytes in charset cs (NULL or unknown: taken as
 * UTF-8, invalid sequences replaced). */
static char *fold_text(const char *p, size_t n, const char *cs)
{
    char *utf8 = NULL;
    if (!p) /* an empty part's GByteArray has no data */
        p = "", n = 0;
    if (cs && g_ascii_strcasecmp(cs, "utf-8") != 0 && g_ascii_strcasecmp(cs, "us-ascii") != 0) {
        const char *iconv_name = g_mime_charset_iconv_name(cs);
        utf8 = g_convert_with_fallback(p, (gssize)n, "UTF-8", iconv_name, "?", NULL, NULL, NULL);
    }
    if (!utf8)
        utf8 = g_utf8_make_valid(p, (gssize)n);
    char *f = g_utf8_casefold(utf8, -1);
    g_free(utf8);
    return f;
}

static void collect_text(GMimeObject *obj, GString *acc, int depth)
{
    if (!obj || depth > MR_MIME_MAX_DEPTH)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            collect_text(g_mime_multipart_get_part(mp, i), acc, depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (m)
            collect_text(g_mime_message_get_mime_part(m), acc, depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        if (!ct || !g_mime_content_type_is_type(ct, "text", "*"))
            return;
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
        if (!w)
            return;
        GMimeStream *mem = g_mime_stream_mem_new();
        g_mime_data_wrapper_write_to_stream(w, mem); /* decodes the transfer encoding */
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        char *f = fold_text((const char *)ba->data, ba->len, g_mime_content_type_get_parameter(ct, "charset"));
        g_string_append(acc, f);
        g_string_append_c(acc, '\n');
        g_free(f);
        g_object_unref(mem);
    }
}

static void build_text(view *v)
{
    if (v->text_done)
        return;
    v->text_done = 1;
    GMimeMessage *m = get_gmime(v);
    GString *body = g_string_new(NULL);
    if (m)
        collect_text(g_mime_message_get_mime_part(m), body, 0);
    v->body_text = g_string_free(body, FALSE);
    GString *hdr = g_string_new(NULL);
    const entity *r = v->root;
    for (size_t i = 0; i < r->nfields; i++) {
        const field *f = &r->fields[i];
        bstr val = unfold(v, f->vstart, f->vend);
        char *dec = g_mime_utils_header_decode_text(NULL, (const char *)val.p);
        g_string_append_len(hdr, (const char *)v->data + f->nstart, (gssize)f->nlen);
        g_string_append(hdr, ": ");
        g_string_append(hdr, dec ? dec : (const char *)val.p);
        g_string_append_c(hdr, '\n');
        g_free(dec);
    }
    char *folded = fold_text(hdr->str, hdr->len, NULL);
    g_string_free(hdr, TRUE);
    v->header_text = folded;
}

int mr_mime_contains(mr_msgdata *d, const char *needle, int body_only)
{
    if (!needle)
        return 0;
    view *v = get_view(d);
    build_text(v);
    char *n = fold_text(needle, strlen(needle), NULL);
    int found = strstr(v->body_text, n) != NULL || (!body_only && strstr(v->header_text, n) != NULL);
    g_free(n);
    return found;
}

long long mr_mime_date(mr_msgdata *d)
{
    const char *s = mr_mime_header(d, "Date");
    if (!s)
        return -1;
    mr_mime_init();
    GDateTime *dt = g_mime_utils_header_decode_date(s);
    if (!dt)
        return -1;
    long long t = (long long)g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return t;
}
