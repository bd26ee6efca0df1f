/*
 * mr_imap.c - the IMAP response parser: framing, the value-tree reader,
 * response heads (tag, keyword, resp-text, response codes) and events.
 *
 * Framing (RFC 9051 2.2.2, 4.3): a response is a line, unless the line
 * ends in a literal announcement {n} / {n+} / ~{n}, in which case n bytes
 * follow and then the line goes on.  Each piece of text goes into the
 * store as a line (eol 1 or 2), each literal as a line with eol 0; a
 * literal above limits.stream_threshold goes out as MR_EV_BODY_CHUNK
 * events and leaves an empty placeholder line.  Only new bytes are
 * scanned: the line reader finds LF without re-scanning, literal bytes are
 * counted, and a line's text is scanned for quotes only when it ends in
 * "}".  Whether "{5}" at the end of a line is a literal depends on where
 * it stands: inside a quoted string it is text, in a resp-text (after OK,
 * NO, BAD, BYE, PREAUTH, outside a response code's brackets, or after "+")
 * it is text too (RFC 9051 9: text = 1*TEXT-CHAR).
 *
 * When the last piece of a response arrives, the response is read once:
 * the head by hand, the rest by an iterative value reader (no recursion,
 * nesting bounded by limits.max_depth, values by limits.max_items), then
 * the typed decoders of mr_imap_code.c, mr_imap_data.c, mr_imap_fetch.c.
 */
#include "mr_imap_int.h"

#include <string.h>

#include "../core/mr_base.h"
#include "../core/mr_base64.h"

/* ------------------------------------------------------------ names */

static const char *const vtype_names[] = {"nil", "atom", "number", "quoted", "literal", "literal8", "list"};

const char *mr_imap_vtype_name(mr_imap_vtype t)
{
    return (unsigned)t < sizeof vtype_names / sizeof *vtype_names ? vtype_names[t] : "unknown";
}

static const char *const code_wire[] = {
    "NONE",
#define MR_XX(name, wire) wire,
    MR_IMAP_CODE_MAP(MR_XX)
#undef MR_XX
};

/* The wire name of entry k of a table generated from an XX map; "OTHER"
 * for the map's catch-all entry (whose wire name is empty). */
static const char *wire_name(const char *const *table, unsigned count, unsigned k, unsigned other)
{
    if (k == other)
        return "OTHER";
    return k < count ? table[k] : "UNKNOWN";
}

const char *mr_imap_code_name(mr_imap_code_kind k)
{
    return wire_name(code_wire, MR_IMAP_CODE__COUNT, (unsigned)k, MR_IMAP_CODE_OTHER);
}

static const char *const fetch_wire[] = {
#define MR_XX(name, wire) wire,
    MR_IMAP_FETCH_MAP(MR_XX)
#undef MR_XX
};

const char *mr_imap_fetch_kind_name(mr_imap_fetch_kind k)
{
    return wire_name(fetch_wire, MR_IMAP_FETCH__COUNT, (unsigned)k, MR_IMAP_FETCH_OTHER);
}

static const char *const status_wire[] = {
#define MR_XX(name, wire) wire,
    MR_IMAP_STATUS_MAP(MR_XX)
#undef MR_XX
};

const char *mr_imap_status_kind_name(mr_imap_status_kind k)
{
    return wire_name(status_wire, MR_IMAP_STATUS__COUNT, (unsigned)k, MR_IMAP_STATUS_OTHER);
}

static const char *const type_wire[] = {
#define MR_XX(name, wire, num) wire,
    MR_IMAP_TYPE_MAP(MR_XX)
#undef MR_XX
};
static const uint8_t type_numbered[] = {
#define MR_XX(name, wire, num) num,
    MR_IMAP_TYPE_MAP(MR_XX)
#undef MR_XX
};

const char *mr_imap_type_name(mr_imap_type t)
{
    return wire_name(type_wire, MR_IMAP_TYPE__COUNT, (unsigned)t, MR_IMAP_TYPE_OTHER);
}

const char *mr_imap_kind_name(mr_imap_kind k)
{
    switch (k) {
    case MR_IMAP_TAGGED: return "tagged";
    case MR_IMAP_UNTAGGED: return "untagged";
    case MR_IMAP_CONTINUATION: return "continuation";
    }
    return "unknown";
}

static const struct {
    unsigned bit;
    const char *name;
} mbx_attrs[] = {
    {MR_IMAP_MBX_NOINFERIORS, "\\Noinferiors"}, {MR_IMAP_MBX_NOSELECT, "\\Noselect"},
    {MR_IMAP_MBX_MARKED, "\\Marked"},           {MR_IMAP_MBX_UNMARKED, "\\Unmarked"},
    {MR_IMAP_MBX_NONEXISTENT, "\\NonExistent"}, {MR_IMAP_MBX_SUBSCRIBED, "\\Subscribed"},
    {MR_IMAP_MBX_REMOTE, "\\Remote"},           {MR_IMAP_MBX_HASCHILDREN, "\\HasChildren"},
    {MR_IMAP_MBX_HASNOCHILDREN, "\\HasNoChildren"}, {MR_IMAP_MBX_ALL, "\\All"},
    {MR_IMAP_MBX_ARCHIVE, "\\Archive"},         {MR_IMAP_MBX_DRAFTS, "\\Drafts"},
    {MR_IMAP_MBX_FLAGGED, "\\Flagged"},         {MR_IMAP_MBX_JUNK, "\\Junk"},
    {MR_IMAP_MBX_SENT, "\\Sent"},               {MR_IMAP_MBX_TRASH, "\\Trash"},
    {MR_IMAP_MBX_IMPORTANT, "\\Important"},
};

const char *mr_imap_mbx_attr_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof mbx_attrs / sizeof *mbx_attrs; i++)
        if (mbx_attrs[i].bit == bit)
            return mbx_attrs[i].name;
    return NULL;
}

/* ------------------------------------------------------------ value helpers */

int mr_imap_value_is_string(const mr_imap_value *v, int astring)
{
    if (!v)
        return 0;
    switch (v->type) {
    case MR_IMAP_V_QUOTED:
    case MR_IMAP_V_LITERAL:
    case MR_IMAP_V_LITERAL8:
        return 1;
    case MR_IMAP_V_ATOM:
    case MR_IMAP_V_NUMBER:
        return astring && !v->has_section;
    default:
        return 0;
    }
}

int mr_imap_value_is_atom(const mr_imap_value *v, const char *lit)
{
    return v && (v->type == MR_IMAP_V_ATOM || v->type == MR_IMAP_V_NUMBER) && !v->has_section &&
           mr_span_eq_ci(v->raw, lit);
}

int mr_imap_value_is_nil(const mr_imap_value *v) { return !v || v->type == MR_IMAP_V_NIL; }

/* ------------------------------------------------------------ the parser */

enum { ST_LINE = 0, ST_LITERAL, ST_STREAM };

/* How the text of a response's lines is read when looking for literals. */
enum {
    CTX_DATA = 0, /* values: "{n}" at a line end outside quotes is a literal */
    CTX_STATUS,   /* resp-text: literals only inside a response code's "[...]" */
    CTX_TEXT      /* continuation: never a literal */
};

typedef struct lit_rec {
    uint64_t size;
    uint8_t streamed, binary, nonsync;
} lit_rec;

typedef struct tag_rec {
    uint8_t *buf;      /* tag bytes then command name bytes */
    size_t tag_len, cmd_len;
    int auth;          /* AUTHENTICATE */
} tag_rec;

/* A frame of the value reader: an open list or section. */
typedef struct frame {
    size_t start;      /* index in the value stack of the frame's first element */
    size_t owner;      /* section: index of the atom that owns it */
    int section;
} frame;

struct mr_imap_parser {
    mr_parser_base base;
    int state;
    int failed;
    mr_error fatal;
    int emitted;          /* a response was handed out: reset the store on the next call */
    int in_resp;          /* pieces of a response are in the store */
    int ctx;              /* CTX_* of the current response */
    int code_open;        /* CTX_STATUS: inside "[" of the response code, not yet closed */
    size_t scan_from;     /* first line: where the scan for quotes starts (after "[" in CTX_STATUS) */
    int greeting_done;
    int utf8;
    int expecting;        /* expect_line() was ever called */

    /* current literal */
    uint64_t lit_size, lit_done, lit_offset;
    uint8_t *lit_buf;
    lit_rec *lits;
    size_t n_lits, cap_lits;
    size_t ctx_line;      /* store line announcing the literal being streamed */
    size_t ctx_len;

    tag_rec *tags;
    size_t n_tags, cap_tags;
    int sasl;             /* an AUTHENTICATE is pending */

    /* value reader */
    mr_imap_value *stack;
    size_t n_stack, cap_stack;
    frame *frames;
    size_t n_frames, cap_frames;
    size_t n_made;        /* values made for the current response */

    mr_imap_response resp;
};

static void tags_clear(mr_imap_parser *p)
{
    const mr_allocator *a = p->base.opt.alloc;
    for (size_t i = 0; i < p->n_tags; i++)
        a->free(p->tags[i].buf, a->ud);
    p->n_tags = 0;
    p->sasl = 0;
}

mr_imap_parser *mr_imap_new(const mr_options *opt)
{
    return mr_base_new(opt, sizeof(mr_imap_parser));
}

void mr_imap_free(mr_imap_parser *p)
{
    if (!p)
        return;
    const mr_allocator *a = p->base.opt.alloc;
    tags_clear(p);
    a->free(p->tags, a->ud);
    a->free(p->lits, a->ud);
    a->free(p->stack, a->ud);
    a->free(p->frames, a->ud);
    mr_base_free(p);
}

static void response_reset(mr_imap_parser *p)
{
    mr_store_reset(&p->base.st);
    p->n_lits = 0;
    p->in_resp = 0;
    p->emitted = 0;
    p->code_open = 0;
    p->scan_from = 0;
    p->lit_buf = NULL;
    memset(&p->resp, 0, sizeof p->resp);
}

void mr_imap_reset(mr_imap_parser *p)
{
    response_reset(p);
    mr_lr_reset(&p->base.lr);
    tags_clear(p);
    p->state = ST_LINE;
    p->failed = 0;
    p->greeting_done = 0;
    p->utf8 = 0;
    p->expecting = 0;
}

void mr_imap_set_utf8(mr_imap_parser *p, int on) { p->utf8 = on != 0; }
void mr_imap_skip_greeting(mr_imap_parser *p) { p->greeting_done = 1; }
int mr_imap_utf8(const mr_imap_parser *p) { return p->utf8; }
size_t mr_imap_pending(const mr_imap_parser *p) { return p->n_tags; }
int mr_imap_in_sasl(const mr_imap_parser *p) { return p->sasl; }
uint64_t mr_imap_offset(const mr_imap_parser *p) { return p->base.lr.offset; }

static int grow_vec(mr_imap_parser *p, void **vec, size_t *cap, size_t elem, size_t need)
{
    if (need <= *cap) /* the usual case: no call */
        return 1;
    return mr_vec_grow(p->base.opt.alloc, vec, cap, elem, need);
}

/* ------------------------------------------------------------ commands */

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 9). */
static int is_tag_char(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' &&
           c != '"' && c != '\\' && c != '+';
}

int mr_imap_expect_line(mr_imap_parser *p, const uint8_t *line, size_t len)
{
    mr_span whole = {line, len};
    mr_cursor c = mr_cur_from_span(mr_span_strip_eol(whole));
    mr_span tag, cmd, arg;
    if (!mr_cur_get_word(&c, &tag) || !mr_cur_skip_space(&c) || !mr_cur_get_word(&c, &cmd))
        return MR_E_BAD_FIELD;
    for (size_t i = 0; i < tag.len; i++)
        if (!is_tag_char(tag.ptr[i]))
            return MR_E_BAD_FIELD;
    /* "UID FETCH": the command name is two words (RFC 9051 6.4.9). */
    size_t cmd_len = cmd.len;
    if (mr_span_eq_ci(cmd, "UID") && mr_cur_skip_space(&c) && mr_cur_get_word(&c, &arg))
        cmd_len = (size_t)(arg.ptr + arg.len - cmd.ptr);
    if (p->n_tags >= p->base.opt.limits.max_pending)
        return MR_E_TOO_MANY_PENDING;
    if (!grow_vec(p, (void **)&p->tags, &p->cap_tags, sizeof(tag_rec), p->n_tags + 1))
        return MR_E_NO_MEMORY;
    const mr_allocator *a = p->base.opt.alloc;
    uint8_t *buf = a->alloc(tag.len + cmd_len + 1, a->ud);
    if (!buf)
        return MR_E_NO_MEMORY;
    memcpy(buf, tag.ptr, tag.len);
    memcpy(buf + tag.len, cmd.ptr, cmd_len);
    tag_rec *t = &p->tags[p->n_tags++];
    t->buf = buf;
    t->tag_len = tag.len;
    t->cmd_len = cmd_len;
    t->auth = mr_span_eq_ci(cmd, "AUTHENTICATE");
    if (t->auth)
        p->sasl = 1;
    p->expecting = 1;
    return 0;
}

/* Find the tag; copies the command name into the store.  0 when unknown. */
static int take_tag(mr_imap_parser *p, mr_span tag, mr_span *cmd)
{
    for (size_t i = 0; i < p->n_tags; i++) {
        tag_rec *t = &p->tags[i];
        if (t->tag_len != tag.len || memcmp(t->buf, tag.ptr, tag.len) != 0)
            continue;
        const uint8_t *copy = mr_store_dup(&p->base.st, t->buf + t->tag_len, t->cmd_len);
        if (!copy)
            return -1;
        cmd->ptr = copy;
        cmd->len = t->cmd_len;
        const mr_allocator *a = p->base.opt.alloc;
        a->free(t->buf, a->ud);
        memmove(&p->tags[i], &p->tags[i + 1], (p->n_tags - i - 1) * sizeof(tag_rec));
        p->n_tags--;
        p->sasl = 0;
        for (size_t j = 0; j < p->n_tags; j++)
            if (p->tags[j].auth)
                p->sasl = 1;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ framing */

static mr_event_type fail(mr_imap_parser *p, mr_imap_event *ev, mr_errcode code, uint64_t offset,
                          const char *detail)
{
    p->failed = 1;
    p->fatal.code = code;
    p->fatal.offset = offset;
    p->fatal.detail = detail;
    ev->type = MR_EV_ERROR;
    ev->error = p->fatal;
    ev->response = NULL; /* a fatal error concerns the stream, not a response */
    return MR_EV_ERROR;
}

static mr_event_type fail_store(mr_imap_parser *p, mr_imap_event *ev, uint64_t offset)
{
    mr_errcode e = p->base.st.err ? p->base.st.err : MR_E_NO_MEMORY;
    return fail(p, ev, e, offset, NULL);
}

/*
 * The context of a response from its first line (RFC 9051 7, 9 response):
 * sets p->ctx and, for a status response whose resp-text starts with "[",
 * opens the code (p->code_open) and sets where the quote scan starts.
 */
static void head_context(mr_imap_parser *p, const mr_line *l)
{
    mr_cursor c;
    mr_cur_init(&c, l->ptr, l->len);
    p->ctx = CTX_DATA;
    if (mr_cur_next_is(&c, '+')) {
        p->ctx = CTX_TEXT;
        return;
    }
    mr_span w;
    if (!mr_cur_get_word(&c, &w))
        return;
    mr_cur_skip_space(&c);
    mr_span kw;
    mr_cur_take_class(&c, MR_C_ALPHA, &kw);
    if (!(mr_span_eq_ci(kw, "OK") || mr_span_eq_ci(kw, "NO") || mr_span_eq_ci(kw, "BAD") ||
          mr_span_eq_ci(kw, "BYE") || mr_span_eq_ci(kw, "PREAUTH")))
        return;
    uint8_t ch;
    if (mr_cur_peek(&c, &ch) && ch != ' ' && ch != '\t' && ch != '[')
        return; /* "* OKAY": not a status keyword */
    p->ctx = CTX_STATUS;
    mr_cur_skip_space(&c);
    if (mr_cur_accept(&c, '[')) {
        p->code_open = 1;
        p->scan_from = l->len - mr_cur_len(&c);
    }
}

/*
 * Does the DQUOTE at t[i] end a quoted string?  Leniently only when what
 * follows can follow a value: SP, ")", "]" or the line end.  A DQUOTE
 * followed by anything else is taken as data: servers that forget to
 * escape one (NetEase, MailKit#485: "HTML"") stay readable, and valid
 * input, whose closing DQUOTE is always followed by one of these, reads
 * the same (docs/imap-quirks.md, G3).
 */
static int quote_closes(const uint8_t *t, size_t n, size_t i)
{
    if (i + 1 >= n)
        return 1;
    uint8_t c = t[i + 1];
    return c == ' ' || c == ')' || c == ']' || c == '\t';
}

/*
 * Scan a line's text for quotes (and, in a status response, the code's
 * closing bracket) and say whether position `at` lies outside any quoted
 * string (and, for CTX_STATUS, inside the still open code).  The first
 * line is scanned from p->scan_from, later ones from their start.
 */
static int literal_allowed(mr_imap_parser *p, const uint8_t *t, size_t len, size_t at, int first)
{
    size_t i = first ? p->scan_from : 0;
    if (p->ctx == CTX_STATUS && !p->code_open)
        return 0;
    int inq = 0;
    for (; i < at; i++) {
        uint8_t ch = t[i];
        if (inq) {
            if (ch == '\\' && i + 1 < at)
                i++;
            else if (ch == '"' && quote_closes(t, len, i))
                inq = 0;
        } else if (ch == '"') {
            inq = 1;
        } else if (ch == ']' && p->ctx == CTX_STATUS) {
            p->code_open = 0;
            return 0;
        }
    }
    return !inq;
}

/* Does the line end in a literal announcement?  (mr_imap_literal_marker) */
int mr_imap_literal_marker(const uint8_t *t, size_t n, uint64_t *size, int *binary, int *nonsync,
                           size_t *start)
{
    if (n < 3 || t[n - 1] != '}')
        return 0;
    size_t i = n - 1;
    *nonsync = 0;
    if (t[i - 1] == '+') {
        *nonsync = 1;
        i--;
    }
    size_t end = i;
    while (i > 0 && mr_is(t[i - 1], MR_C_DIGIT))
        i--;
    if (i == end || i == 0 || t[i - 1] != '{')
        return 0;
    size_t open = i - 1;
    *binary = open > 0 && t[open - 1] == '~';
    *start = *binary ? open - 1 : open;
    mr_cursor c;
    mr_cur_init(&c, t + i, end - i);
    return mr_cur_get_u64(&c, size) ? 1 : -1;
}

static int literal_marker(const mr_line *l, uint64_t *size, int *binary, int *nonsync, size_t *brace)
{
    return mr_imap_literal_marker(l->ptr, l->len, size, binary, nonsync, brace);
}

static int lit_push(mr_imap_parser *p, uint64_t size, int binary, int nonsync, int streamed)
{
    if (!grow_vec(p, (void **)&p->lits, &p->cap_lits, sizeof(lit_rec), p->n_lits + 1))
        return 0;
    lit_rec *r = &p->lits[p->n_lits++];
    r->size = size;
    r->binary = (uint8_t)binary;
    r->nonsync = (uint8_t)nonsync;
    r->streamed = (uint8_t)streamed;
    return 1;
}

static mr_event_type build_response(mr_imap_parser *p, mr_imap_event *ev, uint64_t end);

/* Every field of *ev zeroed, field by field: a memset() of the whole
 * struct compiles to "rep stos", whose start-up cost was 40% of a call
 * fed one byte (make bench, mailrig-1). */
static inline void clear_event(mr_imap_event *ev)
{
    ev->type = MR_EV_NEED_MORE;
    ev->response = NULL;
    ev->chunk.ptr = NULL;
    ev->chunk.len = 0;
    ev->literal.index = 0;
    ev->literal.binary = 0;
    ev->literal.size = 0;
    ev->literal.done = 0;
    ev->literal.context.ptr = NULL;
    ev->literal.context.len = 0;
    ev->error.code = MR_E_OK;
    ev->error.offset = 0;
    ev->error.detail = NULL;
}

/* Everything but the fast path of mr_imap_next(). */
__attribute__((noinline)) static mr_event_type next_slow(mr_imap_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_imap_event *ev)
{
    clear_event(ev);
    *consumed = 0;
    if (p->failed) {
        ev->type = MR_EV_ERROR;
        ev->error = p->fatal;
        return MR_EV_ERROR;
    }
    if (p->emitted)
        response_reset(p);
    mr_store *st = &p->base.st;
    size_t off = 0;
    for (;;) {
        if (p->state == ST_LINE) {
            mr_line line;
            mr_error err;
            size_t used = 0;
            mr_lr_result r = mr_lr_next(&p->base.lr, data + off, len - off, &used, &line, &err);
            off += used;
            *consumed = off;
            if (r == MR_LR_ERROR)
                return fail(p, ev, err.code, err.offset, err.detail);
            if (r == MR_LR_MORE) {
                if (p->in_resp && !mr_store_pin(st))
                    return fail_store(p, ev, p->base.lr.offset);
                ev->type = MR_EV_NEED_MORE;
                return MR_EV_NEED_MORE;
            }
            int first = !p->in_resp;
            if (first) {
                p->in_resp = 1;
                head_context(p, &line);
                p->resp.offset = line.offset;
            }
            if (!mr_store_push_line(st, &line))
                return fail_store(p, ev, line.offset);
            uint64_t size = 0;
            int binary = 0, nonsync = 0;
            size_t brace = 0;
            int m = p->ctx == CTX_TEXT ? 0 : literal_marker(&line, &size, &binary, &nonsync, &brace);
            if (m != 0 && !literal_allowed(p, line.ptr, line.len, brace, first))
                m = 0;
            if (m == 0) {
                uint64_t end = line.offset + line.len + line.eol;
                return build_response(p, ev, end);
            }
            uint64_t at = line.offset + brace;
            if (m < 0 || size > p->base.opt.limits.max_body)
                return fail(p, ev, MR_E_LITERAL_TOO_LARGE, at,
                            m < 0 ? "literal size does not fit in 64 bits"
                                  : "literal larger than limits.max_body");
            p->lit_size = size;
            p->lit_done = 0;
            p->lit_offset = line.offset + line.len + line.eol;
            p->lit_buf = NULL;
            int streamed = size > p->base.opt.limits.stream_threshold;
            if (!lit_push(p, size, binary, nonsync, streamed))
                return fail(p, ev, MR_E_NO_MEMORY, at, NULL);
            if (streamed) {
                p->state = ST_STREAM;
                p->ctx_line = st->n_lines - 1;
                p->ctx_len = brace;
                if (!mr_store_count(st, sizeof(mr_line)))
                    return fail_store(p, ev, at);
            } else {
                /* Counted now, at the "{", so that the limit does not depend on chunking. */
                if (!mr_store_count(st, (size_t)size + sizeof(mr_line)))
                    return fail_store(p, ev, at);
                p->state = ST_LITERAL;
            }
            continue;
        }

        if (p->state == ST_LITERAL) {
            uint64_t need = p->lit_size - p->lit_done;
            size_t avail = len - off;
            if (p->lit_done == 0 && avail >= need) {
                mr_line l = {data + off, (size_t)need, p->lit_offset, 0, 1};
                if (!mr_store_push_counted(st, &l))
                    return fail_store(p, ev, p->lit_offset);
                off += (size_t)need;
                *consumed = off;
                p->base.lr.offset += need;
                p->state = ST_LINE;
                continue;
            }
            if (!p->lit_buf) {
                p->lit_buf = mr_store_reserve(st, (size_t)p->lit_size);
                if (!p->lit_buf)
                    return fail_store(p, ev, p->lit_offset);
            }
            size_t take = avail < need ? avail : (size_t)need;
            if (take)
                memcpy(p->lit_buf + p->lit_done, data + off, take);
            p->lit_done += take;
            p->base.lr.offset += take;
            off += take;
            *consumed = off;
            if (p->lit_done < p->lit_size) {
                if (!mr_store_pin(st))
                    return fail_store(p, ev, p->base.lr.offset);
                ev->type = MR_EV_NEED_MORE;
                return MR_EV_NEED_MORE;
            }
            mr_line l = {p->lit_buf, (size_t)p->lit_size, p->lit_offset, 0, 0};
            if (!mr_store_push_counted(st, &l))
                return fail_store(p, ev, p->lit_offset);
            p->lit_buf = NULL;
            p->state = ST_LINE;
            continue;
        }

        /* ST_STREAM */
        uint64_t need = p->lit_size - p->lit_done;
        size_t avail = len - off;
        if (need == 0) {
            mr_line l = {NULL, 0, p->lit_offset, 0, 0};
            if (!mr_store_push_counted(st, &l))
                return fail_store(p, ev, p->lit_offset);
            p->state = ST_LINE;
            continue;
        }
        if (avail == 0) {
            if (!mr_store_pin(st))
                return fail_store(p, ev, p->base.lr.offset);
            ev->type = MR_EV_NEED_MORE;
            return MR_EV_NEED_MORE;
        }
        size_t take = avail < need ? avail : (size_t)need;
        /* Pin first: the caller may let go of its buffer after this event. */
        if (!mr_store_pin(st))
            return fail_store(p, ev, p->base.lr.offset);
        const mr_line *cl = &st->lines[p->ctx_line];
        ev->type = MR_EV_BODY_CHUNK;
        ev->chunk.ptr = data + off;
        ev->chunk.len = take;
        ev->literal.index = (uint32_t)(p->n_lits - 1);
        ev->literal.binary = p->lits[p->n_lits - 1].binary;
        ev->literal.size = p->lit_size;
        ev->literal.done = p->lit_done;
        ev->literal.context.ptr = cl->ptr;
        ev->literal.context.len = p->ctx_len;
        p->lit_done += take;
        /* The stream offset moves past the chunk: keep the line reader's count right. */
        p->base.lr.offset += take;
        off += take;
        *consumed = off;
        return MR_EV_BODY_CHUNK;
    }
}

/*
 * Fed in small pieces, most calls only add to the line being kept or to
 * the literal being copied: that is done here, in a function small enough
 * to cost little more than the call (make bench, mailrig-1).  The
 * previous call returned NEED_MORE and pinned what pointed into the
 * caller's data, so nothing else changes.
 */
mr_event_type mr_imap_next(mr_imap_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_imap_event *ev)
{
    /* The middle of a literal being copied, and this piece does not end
     * it: the bytes go to the literal's buffer in the store. */
    if (p->state == ST_LITERAL && p->lit_buf && len < p->lit_size - p->lit_done && data &&
        !p->failed) {
        clear_event(ev);
        if (len == 1)
            p->lit_buf[p->lit_done] = data[0];
        else if (len)
            memcpy(p->lit_buf + p->lit_done, data, len);
        p->lit_done += len;
        p->base.lr.offset += len;
        *consumed = len;
        return MR_EV_NEED_MORE;
    }
    if (!p->failed && p->state == ST_LINE && !p->emitted && data && mr_lr_absorb(&p->base.lr, data, len)) {
        clear_event(ev);
        *consumed = len;
        return MR_EV_NEED_MORE;
    }
    return next_slow(p, data, len, consumed, ev);
}

mr_event_type mr_imap_finish(mr_imap_parser *p, mr_imap_event *ev)
{
    clear_event(ev);
    if (p->failed) {
        ev->type = MR_EV_ERROR;
        ev->error = p->fatal;
        return MR_EV_ERROR;
    }
    if (p->emitted)
        response_reset(p);
    if (p->in_resp || p->state != ST_LINE || mr_lr_partial(&p->base.lr) > 0)
        return fail(p, ev, MR_E_UNEXPECTED_EOF, p->base.lr.offset,
                    p->state != ST_LINE ? "the stream ended inside a literal"
                                        : "the stream ended inside a response line");
    ev->type = MR_EV_NEED_MORE;
    return MR_EV_NEED_MORE;
}

/* ------------------------------------------------------------ value reader */

/* Reads values across the response's pieces (text lines and literals). */
typedef struct rd {
    mr_imap_parser *p;
    mr_store *st;
    const mr_line *lines;
    size_t n_lines, li;   /* li: the text line being read */
    mr_cursor cur;        /* the rest of lines[li] */
    uint32_t lit_index;   /* index of the next literal */
    int in_code;          /* reading a response code's arguments: "]" ends them */
    size_t *n_made;       /* values made for this response, against max_items */
    mr_errcode err;       /* MR_E_OK, BAD_SYNTAX, TOO_DEEP, TOO_MANY_ITEMS, or a store error */
    uint64_t err_off;
    const char *err_detail;
} rd;

static uint64_t rd_off(const rd *r)
{
    const mr_line *l = &r->lines[r->li];
    return l->offset + (uint64_t)(r->cur.p - l->ptr);
}

static int rd_fail(rd *r, mr_errcode code, uint64_t off, const char *detail)
{
    if (r->err == MR_E_OK) {
        r->err = code;
        r->err_off = off;
        r->err_detail = detail;
    }
    return 0;
}

static int rd_nomem(rd *r)
{
    return rd_fail(r, r->st->err ? r->st->err : MR_E_NO_MEMORY, rd_off(r), NULL);
}

static void rd_diag(rd *r, uint64_t off, const char *ref, const char *msg)
{
    mr_store_diag(r->st, off, ref, msg);
}

/* Does the literal announcement that ends the current text line start at
 * pos?  The framing decided that the line ends in one (the next line is
 * literal data, eol 0); the same literal_marker() finds where it starts. */
static int rd_literal_at(const rd *r, const uint8_t *pos, int *binary, int *nonsync)
{
    if (r->li + 1 >= r->n_lines || r->lines[r->li + 1].eol != 0)
        return 0;
    const mr_line *l = &r->lines[r->li];
    uint64_t size;
    size_t brace;
    return literal_marker(l, &size, binary, nonsync, &brace) == 1 && l->ptr + brace == pos;
}

/* Push a value on the stack, counting it against max_items and max_memory. */
static mr_imap_value *rd_push(rd *r, int type, uint64_t off)
{
    mr_imap_parser *p = r->p;
    if (*r->n_made >= p->base.opt.limits.max_items) {
        rd_fail(r, MR_E_TOO_MANY_ITEMS, off, "more values than limits.max_items");
        return NULL;
    }
    if (!mr_store_count(r->st, sizeof(mr_imap_value))) {
        rd_nomem(r);
        return NULL;
    }
    if (!grow_vec(p, (void **)&p->stack, &p->cap_stack, sizeof(mr_imap_value), p->n_stack + 1)) {
        rd_fail(r, MR_E_NO_MEMORY, off, NULL);
        return NULL;
    }
    (*r->n_made)++;
    mr_imap_value *v = &p->stack[p->n_stack++];
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)type;
    v->offset = off;
    return v;
}

/* Move stack[start..] into the arena (already counted). */
static int rd_collect(rd *r, size_t start, const mr_imap_value **items, size_t *n)
{
    mr_imap_parser *p = r->p;
    *n = p->n_stack - start;
    *items = NULL;
    if (*n) {
        mr_imap_value *a = mr_store_reserve(r->st, *n * sizeof(mr_imap_value));
        if (!a)
            return rd_nomem(r);
        memcpy(a, &p->stack[start], *n * sizeof(mr_imap_value));
        *items = a;
    }
    p->n_stack = start;
    return 1;
}

static int rd_open(rd *r, int section, size_t owner, uint64_t off, size_t fbase)
{
    mr_imap_parser *p = r->p;
    if (p->n_frames - fbase >= p->base.opt.limits.max_depth)
        return rd_fail(r, MR_E_TOO_DEEP, off, "lists nested deeper than limits.max_depth");
    if (!grow_vec(p, (void **)&p->frames, &p->cap_frames, sizeof(frame), p->n_frames + 1))
        return rd_fail(r, MR_E_NO_MEMORY, off, NULL);
    frame *f = &p->frames[p->n_frames++];
    f->start = p->n_stack;
    f->owner = owner;
    f->section = section;
    (void)off;
    return 1;
}

static int rd_quoted(rd *r)
{
    uint64_t off = rd_off(r);
    mr_cur_skip(&r->cur, 1);
    const uint8_t *t = r->cur.p;
    size_t n = r->cur.len, i = 0;
    int escaped = 0, high = 0, odd_escape = 0, bare_quote = 0;
    for (;;) {
        while (i < n && mr_is(t[i], MR_C_QPLAIN))
            i++;
        if (i >= n)
            return rd_fail(r, MR_E_BAD_SYNTAX, off, "quoted string not closed on its line");
        uint8_t c = t[i];
        if (c == '"' && quote_closes(t, n, i))
            break;
        if (c == '"') {
            bare_quote = 1;
            i++;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= n)
                return rd_fail(r, MR_E_BAD_SYNTAX, off, "quoted string not closed on its line");
            escaped = 1;
            if (t[i + 1] != '\\' && t[i + 1] != '"')
                odd_escape = 1;
            i += 2;
            continue;
        }
        if (c >= 0x80)
            high = 1;
        else if (c < 0x20 || c == 0x7f)
            rd_diag(r, off, "RFC 9051 9", "a control character inside a quoted string");
        i++;
    }
    mr_imap_value *v = rd_push(r, MR_IMAP_V_QUOTED, off);
    if (!v)
        return 0;
    /* Not v->str = v->raw: reading back the two stores just made as one
     * 16-byte load defeats store forwarding (a fifth of rd_values' time). */
    v->raw.ptr = v->str.ptr = t;
    v->raw.len = v->str.len = i;
    v->escaped = (uint8_t)escaped;
    if (escaped) {
        uint8_t *d = mr_store_alloc(r->st, i ? i : 1);
        if (!d)
            return rd_nomem(r);
        size_t k = 0;
        for (size_t j = 0; j < i; j++) {
            if (t[j] == '\\')
                j++;
            d[k++] = t[j];
        }
        v = &r->p->stack[r->p->n_stack - 1];
        v->str.ptr = d;
        v->str.len = k;
    }
    if (odd_escape)
        rd_diag(r, off, "RFC 9051 9", "a backslash in a quoted string escapes neither \\ nor \"");
    if (bare_quote)
        rd_diag(r, off, "RFC 9051 9", "a DQUOTE inside a quoted string is not escaped");
    if (high && !r->p->utf8)
        rd_diag(r, off, "RFC 3501 9", "8-bit bytes in a quoted string (allowed only after UTF8=ACCEPT)");
    mr_cur_skip(&r->cur, i + 1);
    return 1;
}

static int rd_literal(rd *r, int binary, int nonsync)
{
    uint64_t off = rd_off(r);
    const mr_line *data = &r->lines[r->li + 1];
    mr_imap_value *v = rd_push(r, binary ? MR_IMAP_V_LITERAL8 : MR_IMAP_V_LITERAL, off);
    if (!v)
        return 0;
    uint32_t idx = r->lit_index++;
    v->literal_index = idx;
    v->nonsync = (uint8_t)nonsync;
    if (idx < r->p->n_lits) {
        v->num = r->p->lits[idx].size;
        v->streamed = r->p->lits[idx].streamed;
    }
    if (!v->streamed) {
        v->str.ptr = data->ptr;
        v->str.len = data->len;
    }
    if (nonsync)
        rd_diag(r, off, "RFC 7888 4", "a server sent a non-synchronizing literal {n+}");
    /* The text goes on after the literal, on line li + 2. */
    if (r->li + 2 >= r->n_lines)
        return rd_fail(r, MR_E_BAD_SYNTAX, off, "nothing follows a literal");
    r->li += 2;
    mr_cur_init(&r->cur, r->lines[r->li].ptr, r->lines[r->li].len);
    return 1;
}

/* Bytes that end an atom (RFC 9051 9: atom-specials), leniently: list
 * wildcards and "]" are kept in atoms, except that "]" ends a section or a
 * response code. */
static int atom_stop(uint8_t c)
{
    return c <= 0x20 || c == 0x7f || c == '(' || c == ')' || c == '"';
}

/* Names a section may follow: BODY[, BODY.PEEK[, BINARY[, BINARY.PEEK[, BINARY.SIZE[. */
static int is_section_name(mr_span s)
{
    return mr_span_eq_ci(s, "BODY") || mr_span_eq_ci(s, "BODY.PEEK") || mr_span_eq_ci(s, "BINARY") ||
           mr_span_eq_ci(s, "BINARY.PEEK") || mr_span_eq_ci(s, "BINARY.SIZE");
}

static int rd_atom(rd *r, int in_section)
{
    uint64_t off = rd_off(r);
    const uint8_t *t = r->cur.p;
    size_t n = r->cur.len, i = 0;
    int high = 0, bracket = 0;
    for (; i < n; i++) {
        while (i < n && mr_is(t[i], MR_C_APLAIN))
            i++;
        if (i >= n)
            break;
        uint8_t c = t[i];
        if (atom_stop(c))
            break;
        if (c == ']' && !bracket && (in_section || r->in_code))
            break;
        if (c == '[') {
            /* "[" is an ATOM-CHAR; it opens a section only after a
             * fetch-att name (RFC 9051 9 msg-att-static, section). */
            mr_span name = {t, i};
            if (is_section_name(name))
                break;
            bracket = 1;
        }
        if (c == ']')
            bracket = 0;
        if ((c == '{' || c == '~') && i > 0) {
            int b, ns;
            if (rd_literal_at(r, t + i, &b, &ns))
                break;
        }
        if (c >= 0x80)
            high = 1;
    }
    if (i == 0)
        return rd_fail(r, MR_E_BAD_SYNTAX, off, "unexpected byte where a value should start");
    mr_span raw = {t, i};
    mr_imap_value *v;
    /* NIL in any case: for a letter, b | 0x20 is it only for b in either case. */
    if (i == 3 && (t[0] | 0x20) == 'n' && (t[1] | 0x20) == 'i' && (t[2] | 0x20) == 'l' &&
        !(i < n && t[i] == '[')) {
        v = rd_push(r, MR_IMAP_V_NIL, off);
    } else {
        mr_cursor c = mr_cur_from_span(raw);
        uint64_t num;
        int is_num = t[0] >= '0' && t[0] <= '9' && mr_cur_get_u64(&c, &num) && mr_cur_empty(&c);
        v = rd_push(r, is_num ? MR_IMAP_V_NUMBER : MR_IMAP_V_ATOM, off);
        if (v && is_num)
            v->num = num;
    }
    if (!v)
        return 0;
    v->raw = raw;
    v->str = raw;
    if (high)
        rd_diag(r, off, "RFC 9051 9", "8-bit bytes in an atom");
    mr_cur_skip(&r->cur, i);
    return 1;
}

/* After "]" of a section: "<" number ">" (RFC 9051 9, msg-att-static). */
static int rd_origin(rd *r, mr_imap_value *owner)
{
    if (!mr_cur_next_is(&r->cur, '<'))
        return 1;
    mr_cursor save = r->cur;
    uint64_t off = rd_off(r);
    uint64_t n;
    mr_cur_skip(&r->cur, 1);
    if (!mr_cur_get_u64(&r->cur, &n)) {
        r->cur = save;
        return rd_fail(r, MR_E_BAD_SYNTAX, off, "bad <origin> after a section");
    }
    if (mr_cur_next_is(&r->cur, '.')) {
        /* "<0.28>": the request's partial range echoed (WildDuck); the
         * origin is what counts (lenient). */
        uint64_t len;
        mr_cursor s2 = r->cur;
        mr_cur_skip(&s2, 1);
        if (mr_cur_get_u64(&s2, &len) && mr_cur_next_is(&s2, '>')) {
            rd_diag(r, off, "RFC 9051 9", "a FETCH response gives <origin.length>; only <origin> is allowed");
            r->cur = s2;
        }
    }
    if (!mr_cur_accept(&r->cur, '>')) {
        r->cur = save;
        return rd_fail(r, MR_E_BAD_SYNTAX, off, "bad <origin> after a section");
    }
    owner->has_origin = 1;
    owner->num = n;
    return 1;
}

/*
 * Read values up to the end of the response (or, with r->in_code, up to a
 * "]" at the top level, which is left unread).  The top-level values go to
 * *out in the arena.  Iterative: lists and sections are frames.
 */
static int rd_values(rd *r, const mr_imap_value **out, size_t *n_out)
{
    mr_imap_parser *p = r->p;
    size_t sbase = p->n_stack, fbase = p->n_frames;
    int after_value = 0, after_open = 0;
    *out = NULL;
    *n_out = 0;
    for (;;) {
        uint64_t sp_off = rd_off(r);
        size_t nsp = mr_cur_skip_space(&r->cur);
        uint8_t c;
        int at_end = !mr_cur_peek(&r->cur, &c);
        int in_section = p->n_frames > fbase && p->frames[p->n_frames - 1].section;
        int closing = at_end || c == ')' || (c == ']' && (in_section || r->in_code));
        if (nsp > 1 || (nsp && (closing || after_open)))
            rd_diag(r, sp_off, "RFC 9051 9", "values are separated by exactly one SP");
        else if (!nsp && after_value && !closing && c != '(')
            rd_diag(r, sp_off, "RFC 9051 9", "no SP between two values");
        after_value = after_open = 0;
        if (at_end) {
            if (r->li + 1 < r->n_lines)
                return rd_fail(r, MR_E_BAD_SYNTAX, rd_off(r), "a literal was not read");
            if (p->n_frames > fbase)
                return rd_fail(r, MR_E_BAD_SYNTAX, rd_off(r),
                               in_section ? "\"[\" not closed" : "\"(\" not closed");
            break;
        }
        uint64_t off = rd_off(r);
        if (c == ')') {
            if (p->n_frames == fbase || in_section)
                return rd_fail(r, MR_E_BAD_SYNTAX, off, "\")\" without \"(\"");
            frame f = p->frames[--p->n_frames];
            const mr_imap_value *items;
            size_t n;
            if (!rd_collect(r, f.start, &items, &n))
                return 0;
            /* stack[f.start - 1] is the list, pushed at its "(". */
            mr_imap_value *v = &p->stack[f.start - 1];
            v->items = items;
            v->n_items = n;
            mr_cur_skip(&r->cur, 1);
            after_value = 1;
            continue;
        }
        if (c == ']') {
            if (in_section) {
                frame f = p->frames[--p->n_frames];
                const mr_imap_value *items;
                size_t n;
                if (!rd_collect(r, f.start, &items, &n))
                    return 0;
                mr_imap_value *owner = &p->stack[f.owner];
                owner->items = items;
                owner->n_items = n;
                mr_cur_skip(&r->cur, 1);
                if (!rd_origin(r, owner))
                    return 0;
                after_value = 1;
                continue;
            }
            if (r->in_code && p->n_frames == fbase)
                break;
            if (r->in_code)
                return rd_fail(r, MR_E_BAD_SYNTAX, off, "\"]\" inside a list");
        }
        if (c == '(') {
            mr_imap_value *v = rd_push(r, MR_IMAP_V_LIST, off);
            if (!v || !rd_open(r, 0, 0, off, fbase))
                return 0;
            mr_cur_skip(&r->cur, 1);
            after_open = 1;
            continue;
        }
        if (c == '"') {
            if (!rd_quoted(r))
                return 0;
            after_value = 1;
            continue;
        }
        int binary, nonsync;
        if ((c == '{' || c == '~') && rd_literal_at(r, r->cur.p, &binary, &nonsync)) {
            if (!rd_literal(r, binary, nonsync))
                return 0;
            after_value = 1;
            continue;
        }
        if (!rd_atom(r, in_section))
            return 0;
        if (mr_cur_next_is(&r->cur, '[')) {
            size_t owner = p->n_stack - 1;
            p->stack[owner].has_section = 1;
            if (!rd_open(r, 1, owner, rd_off(r), fbase))
                return 0;
            mr_cur_skip(&r->cur, 1);
            after_open = 1;
            continue;
        }
        after_value = 1;
    }
    return rd_collect(r, sbase, out, n_out);
}

/* Undo what a failed rd_values() left on the stacks. */
static void rd_unwind(rd *r, size_t sbase, size_t fbase)
{
    r->p->n_stack = sbase;
    r->p->n_frames = fbase;
}

/* ------------------------------------------------------------ responses */

/* keyword: letters, digits and "-" "." "_" "=" (RFC 9051 9 atoms as used). */
static size_t take_keyword(mr_cursor *c, mr_span *out)
{
    size_t i = 0;
    while (i < c->len) {
        uint8_t ch = c->p[i];
        if (!(mr_is(ch, MR_C_ALPHA | MR_C_DIGIT) || ch == '-' || ch == '.' || ch == '_' || ch == '='))
            break;
        i++;
    }
    mr_cur_get_span(c, i, out);
    return i;
}

static mr_imap_type type_of(mr_span kw)
{
    /* XLIST (Gmail's pre-SPECIAL-USE LIST) has LIST's grammar. */
    if (kw.len == 0)
        return MR_IMAP_TYPE_OTHER;
    if (mr_span_eq_ci(kw, "XLIST"))
        return MR_IMAP_TYPE_LIST;
    /* The keywords are upper case letters: compare the first byte, case
     * folded, before calling (a response's keyword is looked up in 28). */
    uint8_t first = (uint8_t)(kw.ptr[0] & ~0x20);
    for (int t = 0; t < MR_IMAP_TYPE_CONTINUE; t++)
        if ((uint8_t)type_wire[t][0] == first && mr_span_eq_ci(kw, type_wire[t]))
            return (mr_imap_type)t;
    return MR_IMAP_TYPE_OTHER;
}

static int is_status(mr_imap_type t) { return t <= MR_IMAP_TYPE_BYE; }

/* The response code: "[" atom [SP args] "]" (RFC 9051 9 resp-text-code). */
static int read_code(rd *r, mr_imap_response *resp)
{
    mr_imap_parser *p = r->p;
    mr_imap_code *code = &resp->code;
    uint64_t off = rd_off(r);
    mr_cursor save = r->cur;
    mr_cur_skip(&r->cur, 1);
    size_t i = 0;
    while (i < r->cur.len && !atom_stop(r->cur.p[i]) && r->cur.p[i] != ']')
        i++;
    if (i == 0) {
        /* "[" with no atom: the bracket is text (lenient). */
        rd_diag(r, off, "RFC 9051 9", "\"[\" that does not start a response code");
        r->cur = save;
        return 1;
    }
    resp->has_code = 1;
    code->offset = rd_off(r);
    mr_cur_get_span(&r->cur, i, &code->name);
    if (mr_cur_accept(&r->cur, ']'))
        return 1;
    if (!mr_cur_next_is(&r->cur, ' ')) {
        rd_diag(r, rd_off(r), "RFC 9051 9", "a response code's atom is not followed by SP or \"]\"");
    }
    mr_cur_skip_space(&r->cur);
    const uint8_t *args = r->cur.p;
    size_t li0 = r->li;
    size_t sbase = p->n_stack, fbase = p->n_frames;
    rd try = *r;
    try.in_code = 1;
    if (rd_values(&try, &code->args, &code->n_args) && mr_cur_next_is(&try.cur, ']')) {
        if (try.li == li0)
            code->args_text.len = (size_t)(try.cur.p - args);
        else
            code->args_text.len = r->cur.len; /* to the end of the code's first line */
        code->args_text.ptr = args;
        code->args_text = mr_span_rtrim(code->args_text);
        r->li = try.li;
        r->cur = try.cur;
        r->lit_index = try.lit_index;
        mr_cur_skip(&r->cur, 1);
        return 1;
    }
    if (try.err != MR_E_OK && try.err != MR_E_BAD_SYNTAX && try.err != MR_E_TOO_DEEP &&
        try.err != MR_E_TOO_MANY_ITEMS) {
        r->err = try.err;
        r->err_off = try.err_off;
        return 0;
    }
    /* Not values: free text up to "]" (RFC 9051 9: atom SP 1*<TEXT-CHAR except "]">). */
    rd_unwind(r, sbase, fbase);
    code->args = NULL;
    code->n_args = 0;
    mr_span text;
    if (mr_cur_take_until(&r->cur, ']', &text)) {
        mr_cur_skip(&r->cur, 1);
    } else {
        /* "* OK [not a code": no "]" on the line; the bracket is text. */
        rd_diag(r, off, "RFC 9051 9", "a response code's \"[\" is not closed");
        memset(code, 0, sizeof *code);
        resp->has_code = 0;
        r->cur = save;
        return 1;
    }
    code->args_text = mr_span_rtrim(text);
    return 1;
}

static void set_text(rd *r, mr_imap_response *resp)
{
    resp->text = mr_cur_rest(&r->cur);
    mr_cur_skip(&r->cur, resp->text.len);
}

/* resp-text after a status keyword (RFC 9051 9: SP resp-text). */
static int read_resp_text(rd *r, mr_imap_response *resp)
{
    uint64_t off = rd_off(r);
    if (mr_cur_empty(&r->cur)) {
        rd_diag(r, off, "RFC 9051 9", "no SP and text after the status keyword");
        return 1;
    }
    size_t nsp = mr_cur_skip_space(&r->cur);
    if (nsp != 1 && !(nsp > 1 && mr_cur_empty(&r->cur)))
        rd_diag(r, off, "RFC 9051 9", "the status is not followed by exactly one SP");
    if (mr_cur_next_is(&r->cur, '[')) {
        if (!read_code(r, resp))
            return 0;
        if (resp->has_code) {
            off = rd_off(r);
            nsp = mr_cur_skip_space(&r->cur);
            if (nsp == 0 && !mr_cur_empty(&r->cur))
                rd_diag(r, off, "RFC 9051 9", "no SP after a response code's \"]\"");
            else if (nsp == 0)
                rd_diag(r, off, "RFC 9051 9", "no SP and text after a response code (\"* OK [CODE]\")");
            else if (nsp > 1)
                rd_diag(r, off, "RFC 9051 9", "more than one SP after a response code");
        }
    }
    set_text(r, resp);
    if (r->li + 1 < r->n_lines)
        return rd_fail(r, MR_E_BAD_SYNTAX, rd_off(r), "a literal outside a response code");
    return 1;
}

/* A line that is a bare "[code] text" (no "*" and status before it). */
static int read_resp_text_code_only(rd *r, mr_imap_response *resp)
{
    if (!read_code(r, resp))
        return 0;
    mr_cur_skip_space(&r->cur);
    set_text(r, resp);
    if (r->li + 1 < r->n_lines)
        return rd_fail(r, MR_E_BAD_SYNTAX, rd_off(r), "a literal outside a response code");
    return 1;
}

/* Decode a SASL challenge (RFC 9051 6.2.2: "+" SP base64). */
static void decode_sasl(mr_imap_parser *p, mr_imap_response *resp, mr_imap_event *ev)
{
    mr_store *st = &p->base.st;
    mr_span t = mr_span_rtrim(resp->text);
    uint8_t *out = mr_store_alloc(st, mr_base64_max_decoded(t.len));
    if (!out)
        return;
    size_t n = 0, at = 0;
    mr_b64_result b = mr_base64_decode(t, out, &n, &at);
    if (b == MR_B64_INVALID) {
        ev->error.code = MR_E_BAD_BASE64;
        ev->error.offset = resp->offset + (uint64_t)(t.ptr - st->lines[0].ptr) + at;
        ev->error.detail = "an AUTHENTICATE challenge is not base64";
        return;
    }
    if (b == MR_B64_UNPADDED)
        mr_store_diag(st, resp->offset, "RFC 4648 4", "base64 without its \"=\" padding");
    resp->has_sasl = 1;
    resp->sasl.ptr = out;
    resp->sasl.len = n;
}

static int contains_atom(const mr_imap_response *r, const char *lit)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (mr_imap_value_is_atom(&r->values[i], lit))
            return 1;
    return 0;
}

/* The typed layer; returns MR_IMAP_DEC_*. */
static int decode(mr_imap_parser *p, mr_imap_response *resp, mr_imap_dctx *c)
{
    if (resp->has_code) {
        int d = mr_imap_decode_code(c, &resp->code);
        if (d != MR_IMAP_DEC_OK)
            return d;
    }
    switch (resp->type) {
    case MR_IMAP_TYPE_OK:
    case MR_IMAP_TYPE_NO:
    case MR_IMAP_TYPE_BAD:
    case MR_IMAP_TYPE_PREAUTH:
    case MR_IMAP_TYPE_BYE:
    case MR_IMAP_TYPE_CONTINUE:
    case MR_IMAP_TYPE_OTHER:
        return MR_IMAP_DEC_OK;
    case MR_IMAP_TYPE_FETCH:
        if (resp->n_values != 1 || resp->values[0].type != MR_IMAP_V_LIST)
            return mr_imap_bad(c, resp->n_values ? resp->values[0].offset : resp->offset,
                               "FETCH is not followed by one parenthesised list");
        {
            int d = mr_imap_decode_fetch(c, &resp->values[0], &resp->u.fetch);
            if (d == MR_IMAP_DEC_OK)
                resp->typed = 1;
            return d;
        }
    default: {
        int d = mr_imap_decode_data(c, resp);
        if (d == MR_IMAP_DEC_OK)
            resp->typed = 1;
        if (d == MR_IMAP_DEC_OK && resp->type == MR_IMAP_TYPE_ENABLED &&
            (contains_atom(resp, "UTF8=ACCEPT") || contains_atom(resp, "IMAP4rev2")))
            p->utf8 = 1;
        return d;
    }
    }
}

static mr_event_type build_response(mr_imap_parser *p, mr_imap_event *ev, uint64_t end)
{
    mr_store *st = &p->base.st;
    mr_imap_response *resp = &p->resp;
    resp->end = end;
    resp->n_literals = (int)p->n_lits;
    for (size_t i = 0; i < p->n_lits; i++)
        resp->n_streamed += p->lits[i].streamed;
    p->emitted = 1;
    p->in_resp = 0;
    resp->greeting = !p->greeting_done;
    p->greeting_done = 1;

    rd r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.st = st;
    p->n_made = 0;
    r.n_made = &p->n_made;
    r.lines = st->lines;
    r.n_lines = st->n_lines;
    mr_cur_init(&r.cur, r.lines[0].ptr, r.lines[0].len);
    p->n_stack = p->n_frames = 0;

    uint64_t off = resp->offset;
    int ok = 1;
    resp->type = MR_IMAP_TYPE_OTHER;
    if (mr_cur_accept(&r.cur, '+')) {
        /* continue-req = "+" SP (resp-text / base64) CRLF (RFC 9051 9). */
        resp->kind = MR_IMAP_CONTINUATION;
        resp->type = MR_IMAP_TYPE_CONTINUE;
        if (!mr_cur_accept(&r.cur, ' '))
            rd_diag(&r, rd_off(&r), "RFC 9051 9", "no SP after \"+\"");
        set_text(&r, resp);
    } else {
        if (mr_cur_accept(&r.cur, '*')) {
            resp->kind = MR_IMAP_UNTAGGED;
        } else if (mr_cur_next_is(&r.cur, '[')) {
            /* "[COPYUID 124 10 233]" alone on a line (Exchange 2013,
             * ruby/net-imap#250): read as "* OK [...]" (lenient). */
            rd_diag(&r, off, "RFC 9051 7.1", "a response code with no \"*\", tag or status before it");
            resp->kind = MR_IMAP_UNTAGGED;
            resp->type = MR_IMAP_TYPE_OK;
            ok = read_resp_text_code_only(&r, resp);
            goto head_done;
        } else {
            resp->kind = MR_IMAP_TAGGED;
            size_t i = 0;
            while (i < r.cur.len && is_tag_char(r.cur.p[i]))
                i++;
            mr_cur_get_span(&r.cur, i, &resp->tag);
            if (i == 0)
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, off, "a response starts with neither a tag, \"*\" nor \"+\"");
        }
        if (ok) {
            uint64_t sp = rd_off(&r);
            size_t nsp = mr_cur_skip_space(&r.cur);
            if (nsp == 0)
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, sp, "no SP after the tag or \"*\"");
            else if (nsp > 1)
                rd_diag(&r, sp, "RFC 9051 9", "more than one SP after the tag or \"*\"");
        }
        if (ok && resp->kind == MR_IMAP_UNTAGGED && r.cur.len && mr_is(r.cur.p[0], MR_C_DIGIT)) {
            uint64_t n;
            mr_cursor save = r.cur;
            size_t nd = 0;
            while (nd < r.cur.len && mr_is(r.cur.p[nd], MR_C_DIGIT))
                nd++;
            if (nd < r.cur.len && r.cur.p[nd] != ' ' && r.cur.p[nd] != '\t') {
                r.cur = save; /* "* 3D-FOO": a keyword that starts with a digit */
            } else if (!mr_cur_get_u64(&r.cur, &n)) {
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, rd_off(&r), "a message number does not fit in 64 bits");
            } else {
                resp->number = n;
                resp->has_number = 1;
                uint64_t sp = rd_off(&r);
                size_t nsp = mr_cur_skip_space(&r.cur);
                if (nsp != 1)
                    rd_diag(&r, sp, "RFC 9051 9", "the number is not followed by exactly one SP");
            }
        }
        if (ok) {
            if (!take_keyword(&r.cur, &resp->keyword))
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, rd_off(&r), "no response keyword");
            else
                resp->type = type_of(resp->keyword);
        }
        if (ok) {
            mr_imap_type t = resp->type;
            if (resp->kind == MR_IMAP_TAGGED && t > MR_IMAP_TYPE_BAD)
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, off, "a tagged response is not OK, NO or BAD");
            else if (t != MR_IMAP_TYPE_OTHER && type_numbered[t] && !resp->has_number)
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, off, "this response needs a number before its keyword");
            else if (t != MR_IMAP_TYPE_OTHER && !type_numbered[t] && resp->has_number)
                ok = rd_fail(&r, MR_E_BAD_SYNTAX, off, "this response takes no number before its keyword");
        }
        if (ok && is_status(resp->type)) {
            ok = read_resp_text(&r, resp);
        } else if (ok) {
            /* Data: SP and values; nothing for CAPABILITY-like lists that are empty. */
            if (!mr_cur_empty(&r.cur) || r.n_lines > 1) {
                uint64_t sp = rd_off(&r);
                size_t nsp = mr_cur_skip_space(&r.cur);
                if (nsp == 0 && !mr_cur_next_is(&r.cur, '('))
                    ok = rd_fail(&r, MR_E_BAD_SYNTAX, sp, "no SP after the response keyword");
                else if (nsp != 1)
                    rd_diag(&r, sp, "RFC 9051 9", "the keyword is not followed by exactly one SP");
                else if (mr_cur_empty(&r.cur) && r.n_lines == 1)
                    rd_diag(&r, sp, "RFC 9051 9", "SP after the keyword with nothing after it");
            }
            if (ok) {
                rd save = r;
                if (!rd_values(&r, &resp->values, &resp->n_values)) {
                    if (resp->type == MR_IMAP_TYPE_OTHER && r.err == MR_E_BAD_SYNTAX) {
                        /* An unknown response that is not values: keep it as text. */
                        rd_unwind(&r, 0, 0);
                        mr_store_diag(st, r.err_off, "RFC 9051 9",
                                      "an unknown response that does not read as values");
                        r = save;
                        resp->values = NULL;
                        resp->n_values = 0;
                        set_text(&r, resp);
                        r.li = r.n_lines - 1;
                    } else {
                        ok = 0;
                    }
                }
            }
        }
    }

head_done:
    if (ok && resp->kind == MR_IMAP_TAGGED) {
        int t = take_tag(p, resp->tag, &resp->cmd);
        if (t < 0)
            return fail_store(p, ev, off);
        if (t == 0 && p->expecting)
            mr_store_diag(st, off, "RFC 9051 2.2.1", "a tagged response whose tag no command carried");
    }
    if (ok && resp->greeting &&
        !(resp->kind == MR_IMAP_UNTAGGED && (resp->type == MR_IMAP_TYPE_OK ||
                                             resp->type == MR_IMAP_TYPE_PREAUTH ||
                                             resp->type == MR_IMAP_TYPE_BYE)))
        mr_store_diag(st, off, "RFC 9051 7.1", "the greeting is not an untagged OK, PREAUTH or BYE");

    ev->response = resp;
    if (!ok) {
        if (r.err != MR_E_BAD_SYNTAX && r.err != MR_E_TOO_DEEP && r.err != MR_E_TOO_MANY_ITEMS)
            return fail(p, ev, r.err, r.err_off, r.err_detail);
        resp->values = NULL;
        resp->n_values = 0;
        p->n_stack = p->n_frames = 0;
        ev->type = MR_EV_ERROR;
        ev->error.code = r.err;
        ev->error.offset = r.err_off;
        ev->error.detail = r.err_detail;
    } else {
        mr_imap_dctx c;
        memset(&c, 0, sizeof c);
        c.st = st;
        c.utf8 = p->utf8;
        ev->type = MR_EV_RESPONSE;
        if (resp->type == MR_IMAP_TYPE_CONTINUE && p->sasl)
            decode_sasl(p, resp, ev);
        int d = st->err ? MR_IMAP_DEC_NOMEM : decode(p, resp, &c);
        if (d == MR_IMAP_DEC_NOMEM)
            return fail_store(p, ev, off);
        if (d == MR_IMAP_DEC_BAD) {
            resp->typed = 0;
            ev->error.code = MR_E_BAD_FIELD;
            ev->error.offset = c.bad_offset;
            ev->error.detail = c.bad_detail;
        }
        if (ev->error.code != MR_E_OK)
            ev->type = MR_EV_ERROR;
    }
    resp->diags = st->diags;
    resp->n_diags = st->n_diags;
    resp->diags_dropped = st->diags_dropped;
    return ev->type;
}
