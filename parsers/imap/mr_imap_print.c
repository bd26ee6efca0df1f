/*
 * mr_imap_print.c - print an IMAP response back in canonical wire form
 * (mr_imap_print() in mr_imap.h).
 *
 * The printer is the inverse of the value-tree reader of mr_imap.c: it
 * prints the response head (tag, "*" or "+", number, keyword as sent), the
 * resp-text of status responses and continuations, and the value tree of
 * data responses.  It never looks at the typed structures, so a response
 * the parser does not understand prints as well as one it does.
 *
 * Canonical form (RFC 9051 9, the formal syntax):
 *
 *   response-tagged  tag SP keyword SP ["[" code "]" SP] [text] CRLF
 *   status/untagged  "*" SP keyword SP ["[" code "]" SP] [text] CRLF
 *   data             "*" SP [number SP] keyword *(SP value) CRLF
 *                    (SP before CRLF when the last value is an atom that
 *                    would read as a literal announcement, "x{5}")
 *                    (an unknown response that is no values: its text,
 *                    after the SP/HTAB that separated it from the keyword
 *                    as sent, possibly none; not printable when it had
 *                    literals, which the reader did not keep)
 *                    (between two values in a row, no SP when the server
 *                    sent none, and the SP/HTAB bytes as sent between two
 *                    atoms: a mailbox name sent unquoted with white space
 *                    in it, which the LIST and STATUS decoders join back
 *                    from those bytes, docs/imap-quirks.md quirks 15, 16;
 *                    see put_gap)
 *   continue-req     "+" SP text CRLF, the text as sent
 *   bare code        ["[" code "]" SP] text CRLF: an untagged status with
 *                    no keyword, which the reader makes of a line that
 *                    starts with "[" (a server quirk), printed as it came
 *   code             "[" name [SP args_text] "]", args trimmed of SP/HTAB
 *                    (a SP before "]" after an atom with a "[" still open)
 *   value            NIL; an atom or number as sent (an atom's section
 *                    "[" items joined by SP "]" and "<origin>" after it);
 *                    "quoted" with only \ and " escaped (RFC 9051 9,
 *                    quoted-specials); {n} CRLF bytes, {n+} when sent
 *                    non-synchronizing (RFC 7888); ~{n} CRLF bytes
 *                    (RFC 3516 literal8); "(" values joined by SP ")".
 *
 * resp-text is ["[" resp-text-code "]" SP] [text] in RFC 9051 9: the SP
 * after "]" is printed even when no text follows (RFC 3501 9 required
 * text; RFC 9051 made it optional, not the SP).
 *
 * Nesting is walked with an explicit stack of MR_MAX_DEPTH_CAP frames (the
 * most any parser limit allows), so no recursion; a deeper tree, which the
 * parser cannot produce, is refused with SIZE_MAX.  Output is written like
 * snprintf: at most cap bytes, the full length returned.
 */
#include "mr_imap.h"

#include <string.h>

/* An output that counts what it could not store. */
typedef struct pbuf {
    uint8_t *out;
    size_t cap;
    size_t len;   /* bytes the full output needs so far */
    int overflow; /* len would exceed SIZE_MAX - 1 */
} pbuf;

static void put(pbuf *b, const void *p, size_t n)
{
    if (n == 0 || b->overflow)
        return;
    if (n >= SIZE_MAX - b->len) {
        b->overflow = 1;
        return;
    }
    if (b->len < b->cap) {
        size_t room = b->cap - b->len;
        memcpy(b->out + b->len, p, n < room ? n : room);
    }
    b->len += n;
}

static void put_c(pbuf *b, uint8_t c) { put(b, &c, 1); }

static void put_s(pbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_span(pbuf *b, mr_span s) { put(b, s.ptr, s.len); }

static void put_u64(pbuf *b, uint64_t v)
{
    char buf[24];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, buf + i, sizeof buf - i);
}

/* "quoted" (RFC 9051 9): DQUOTE *QUOTED-CHAR DQUOTE, where only the
 * quoted-specials DQUOTE and "\" need a backslash. */
static void put_quoted(pbuf *b, mr_span s)
{
    size_t i = 0, run = 0;
    put_c(b, '"');
    for (i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c == '"' || c == '\\') {
            put(b, s.ptr + run, i - run);
            put_c(b, '\\');
            run = i;
        }
    }
    put(b, s.ptr + run, s.len - run);
    put_c(b, '"');
}

/* An atom whose last "[" is not followed by a "]" (rd_atom in mr_imap.c
 * then reads a "]" right after it as part of the atom). */
static int bracket_open(const mr_imap_value *v)
{
    int open = 0;
    if (v->type != MR_IMAP_V_ATOM || v->has_section)
        return 0;
    for (size_t i = 0; i < v->raw.len; i++) {
        if (v->raw.ptr[i] == '[')
            open = 1;
        else if (v->raw.ptr[i] == ']')
            open = 0;
    }
    return open;
}

/* A span with SP and HTAB trimmed from its start (the reader trims the end). */
static mr_span ltrim(mr_span s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    return s;
}

/* ------------------------------------------------------------ values */

typedef struct frame {
    const mr_imap_value *items;
    size_t n, i;
    uint8_t close;                /* ')' for a list, ']' for a section, 0 for the top */
    const mr_imap_value *owner;   /* the atom a section belongs to (its origin follows) */
} frame;

/* One value that is not a list: 0, or -1 when it cannot be printed (a
 * streamed literal, a type outside mr_imap_vtype). */
static int put_scalar(pbuf *b, const mr_imap_value *v)
{
    switch ((mr_imap_vtype)v->type) {
    case MR_IMAP_V_NIL:
        put_s(b, "NIL");
        return 0;
    case MR_IMAP_V_ATOM:
    case MR_IMAP_V_NUMBER:
        put_span(b, v->raw);
        return 0;
    case MR_IMAP_V_QUOTED:
        put_quoted(b, v->str);
        return 0;
    case MR_IMAP_V_LITERAL:
    case MR_IMAP_V_LITERAL8:
        if (v->streamed)
            return -1; /* the bytes were handed out as chunks, not kept */
        if (v->type == MR_IMAP_V_LITERAL8)
            put_c(b, '~');
        put_c(b, '{');
        put_u64(b, (uint64_t)v->str.len);
        if (v->nonsync)
            put_c(b, '+');
        put_s(b, "}\r\n");
        put_span(b, v->str);
        return 0;
    case MR_IMAP_V_LIST:
        break;
    }
    return -1; /* not a type of mr_imap_vtype (lists are handled by the caller) */
}

/* Print p[0..n) and return 1 when it is only SP and HTAB; else 0. */
static int put_white(pbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    put(b, p, n);
    return 1;
}

/*
 * What separated two values in a row, a and v, as sent, where the reader
 * depends on it, else a single SP:
 *   - nothing, when v started right where a ended ("l{2}" in a code's
 *     arguments, whose text is kept as sent, at any depth; "\"a\"\"b\"");
 *   - at the top level (top), the SP and HTAB bytes, when both are atoms
 *     or numbers in one run of bytes: the decoders read an unquoted
 *     mailbox name with SP or HTAB in it from exactly those bytes
 *     (split_mailbox in mr_imap_data.c).
 * Where a value ends is known for atoms, numbers and quoted strings.
 */
static void put_gap(pbuf *b, const mr_imap_value *a, const mr_imap_value *v, int top)
{
    uint64_t end;
    int atomic = (a->type == MR_IMAP_V_ATOM || a->type == MR_IMAP_V_NUMBER) && !a->has_section;
    if (atomic)
        end = a->offset + a->raw.len;
    else if (a->type == MR_IMAP_V_QUOTED)
        end = a->offset + a->raw.len + 2;
    else
        end = UINT64_MAX;
    if (v->offset == end)
        return;
    if (top && atomic && (v->type == MR_IMAP_V_ATOM || v->type == MR_IMAP_V_NUMBER) && v->offset > end &&
        v->offset - end <= 1024 &&
        /* Compared as addresses: the two atoms need not lie in one buffer. */
        (uintptr_t)v->raw.ptr - (uintptr_t)a->raw.ptr == v->offset - a->offset &&
        put_white(b, a->raw.ptr + a->raw.len, (size_t)(v->offset - end)))
        return;
    put_c(b, ' ');
}

/* Values joined by SP, each list and section walked with an explicit stack. */
static int put_values(pbuf *b, const mr_imap_value *items, size_t n)
{
    static const size_t max_frames = MR_MAX_DEPTH_CAP + 2;
    frame stack[MR_MAX_DEPTH_CAP + 2];
    size_t depth = 1;
    stack[0].items = items;
    stack[0].n = n;
    stack[0].i = 0;
    stack[0].close = 0;
    stack[0].owner = NULL;
    while (depth > 0) {
        frame *f = &stack[depth - 1];
        const mr_imap_value *v;
        if (f->i == f->n) {
            if (f->close)
                put_c(b, f->close);
            if (f->owner && f->owner->has_origin) {
                put_c(b, '<');
                put_u64(b, f->owner->num);
                put_c(b, '>');
            }
            depth--;
            continue;
        }
        v = &f->items[f->i];
        if (f->i > 0)
            put_gap(b, &f->items[f->i - 1], v, depth == 1);
        f->i++;
        if (v->type == MR_IMAP_V_LIST || (v->type == MR_IMAP_V_ATOM && v->has_section)) {
            frame *nf;
            if (depth == max_frames)
                return -1;
            if (v->type == MR_IMAP_V_LIST) {
                put_c(b, '(');
            } else {
                put_span(b, v->raw);
                put_c(b, '[');
            }
            nf = &stack[depth++];
            nf->items = v->items;
            nf->n = v->items ? v->n_items : 0;
            nf->i = 0;
            nf->close = v->type == MR_IMAP_V_LIST ? ')' : ']';
            nf->owner = v->type == MR_IMAP_V_LIST ? NULL : v;
            continue;
        }
        if (put_scalar(b, v) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ responses */

static int all_digits(mr_span s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
    return s.len > 0;
}

/*
 * What separated an unknown response's keyword from its text, as sent:
 * its SP and HTAB bytes, or nothing ("* X(": a SP there would make "X"
 * read as something else, "* 2 (" a number); a single SP when the two do
 * not lie in one run of bytes.
 */
static void put_text_gap(pbuf *b, mr_span keyword, mr_span text)
{
    uintptr_t end = (uintptr_t)keyword.ptr + keyword.len, at = (uintptr_t)text.ptr;
    if (at >= end && at - end <= 64 && put_white(b, keyword.ptr + keyword.len, (size_t)(at - end)))
        return;
    put_c(b, ' ');
}

/*
 * 1 when v, printed last on a line, would read as a literal announcement:
 * an atom such as "x{5}" or "y{2+}" (the reader keeps "{" in atoms).  A
 * server can send one only with something after it on the line (else the
 * framer took it for a literal, RFC 9051 4.3), so the printer keeps a
 * trailing SP there.
 */
static int ends_like_literal(const mr_imap_value *v)
{
    const uint8_t *t = v->raw.ptr;
    size_t n = v->raw.len, i;
    if (v->type != MR_IMAP_V_ATOM || v->has_section || n < 3 || t[n - 1] != '}')
        return 0;
    i = n - 1;
    if (t[i - 1] == '+')
        i--;
    if (i == 0 || t[i - 1] < '0' || t[i - 1] > '9')
        return 0;
    while (i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9')
        i--;
    return i > 0 && t[i - 1] == '{';
}

static int is_status(mr_imap_type t)
{
    return t == MR_IMAP_TYPE_OK || t == MR_IMAP_TYPE_NO || t == MR_IMAP_TYPE_BAD ||
           t == MR_IMAP_TYPE_PREAUTH || t == MR_IMAP_TYPE_BYE;
}

/*
 * resp-text (RFC 9051 9): ["[" code "]" SP] [text], after the SP that
 * follows the status keyword.  The code's arguments are printed as sent
 * (args_text: free text by the grammar, already trimmed by the reader).
 * A response whose code holds a literal cannot be printed (SIZE_MAX): a
 * status response can hold literals only there, so n_literals says so.
 */
static int put_resp_text(pbuf *b, const mr_imap_response *r)
{
    if (r->has_code) {
        put_c(b, '[');
        put_span(b, r->code.name);
        if (r->n_literals > 0) {
            /* A literal in a code's arguments (outside RFC 9051 9's
             * grammar, resp-text-code: TEXT-CHAR only): their text is
             * kept up to the end of the first line only, so neither it
             * nor the values print back to the same response. */
            return -1;
        }
        {
            mr_span args = ltrim(r->code.args_text);
            if (args.len) {
                put_c(b, ' ');
                put_span(b, args);
                /* An atom with a "[" not yet closed would take the "]" in
                 * ("[X [ ]" is the atom "[", "[X []" reads no values). */
                if (r->code.n_args > 0 && bracket_open(&r->code.args[r->code.n_args - 1]))
                    put_c(b, ' ');
            }
        }
        put_s(b, "] ");
    }
    put_span(b, r->text);
    return 0;
}

size_t mr_imap_print(const mr_imap_response *r, uint8_t *out, size_t cap)
{
    pbuf b;
    b.out = out;
    b.cap = out ? cap : 0;
    b.len = 0;
    b.overflow = 0;
    if (!r)
        return SIZE_MAX;

    switch (r->kind) {
    case MR_IMAP_CONTINUATION:
        /* continue-req = "+" SP (resp-text / base64): the text as sent
         * (the reader takes no response code out of it). */
        put_s(&b, "+ ");
        put_span(&b, r->text);
        break;
    case MR_IMAP_TAGGED:
    case MR_IMAP_UNTAGGED:
        if (r->kind == MR_IMAP_UNTAGGED && is_status(r->type) && r->keyword.len == 0) {
            /* A bare "[code] text" line (a server quirk the reader takes
             * as "* OK"): printed as it came, so that it reads the same. */
            if (put_resp_text(&b, r) != 0)
                return SIZE_MAX;
            break;
        }
        if (r->kind == MR_IMAP_TAGGED)
            put_span(&b, r->tag);
        else
            put_c(&b, '*');
        put_c(&b, ' ');
        if (r->has_number) {
            put_u64(&b, r->number);
            put_c(&b, ' ');
        }
        put_span(&b, r->keyword);
        if (r->kind == MR_IMAP_TAGGED || is_status(r->type)) {
            /* resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text: the
             * SP even when resp-text is empty. */
            put_c(&b, ' ');
            if (put_resp_text(&b, r) != 0)
                return SIZE_MAX;
        } else if (r->n_values) {
            /* A keyword of digits with no number ("* 0()") was followed by
             * neither SP nor HTAB, or it would have read as a number. */
            if (r->has_number || !all_digits(r->keyword))
                put_c(&b, ' ');
            if (put_values(&b, r->values, r->n_values) != 0)
                return SIZE_MAX;
            if (ends_like_literal(&r->values[r->n_values - 1]))
                put_c(&b, ' ');
        } else if (r->text.len) {
            /* An unknown response that did not read as values: its text.
             * The reader kept only its first line, so one with literals
             * cannot be printed. */
            if (r->n_literals > 0)
                return SIZE_MAX;
            put_text_gap(&b, r->keyword, r->text);
            put_span(&b, r->text);
        }
        break;
    default:
        return SIZE_MAX;
    }
    put_s(&b, "\r\n");
    return b.overflow ? SIZE_MAX : b.len;
}
