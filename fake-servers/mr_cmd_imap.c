/*
 * mr_cmd_imap.c - the fake IMAP server's command reader and argument
 * tokenizer (mr_cmd_imap.h).  Grammar: RFC 9051 9 (command, tag, atom,
 * quoted, literal, sequence-set), RFC 7888 3 and 6 (non-synchronizing
 * literals), RFC 3516 4.3 (literal8).  libc only.
 */
#include "mr_cmd_imap.h"

#include <stdlib.h>
#include <string.h>

static const char *const err_names[] = {
#define MR_XX(name, msg) #name,
    MR_IMAPCMD_ERROR_MAP(MR_XX)
#undef MR_XX
};

static const char *const err_msgs[] = {
#define MR_XX(name, msg) msg,
    MR_IMAPCMD_ERROR_MAP(MR_XX)
#undef MR_XX
};

const char *mr_imapcmd_errname(mr_imapcmd_errcode c)
{
    return (unsigned)c < MR_IMAPCMD_E__COUNT ? err_names[c] : "UNKNOWN";
}

const char *mr_imapcmd_errmsg(mr_imapcmd_errcode c)
{
    return (unsigned)c < MR_IMAPCMD_E__COUNT ? err_msgs[c] : "unknown error";
}

/* ------------------------------------------------------------ characters */

/* ATOM-CHAR (RFC 9051 9): CHAR except atom-specials "(" ")" "{" SP CTL
 * list-wildcards quoted-specials resp-specials. */
static int is_atom_char(uint8_t c)
{
    if (c <= 0x20 || c >= 0x7f)
        return 0;
    return !strchr("(){%*\"\\]", c);
}

/* A tag: 1*<any ASTRING-CHAR except "+"> (RFC 9051 9); ASTRING-CHAR is
 * ATOM-CHAR or resp-specials ("]"). */
static int is_tag_char(uint8_t c) { return c != '+' && (is_atom_char(c) || c == ']'); }

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static uint8_t upper(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c; }

/* ------------------------------------------------------------ reader */

void mr_imapcmd_init(mr_imapcmd_reader *r, const mr_imapcmd_limits *lim)
{
    memset(r, 0, sizeof *r);
    if (lim)
        r->lim = *lim;
    if (!r->lim.max_line)
        r->lim.max_line = MR_IMAPCMD_DEFAULT_MAX_LINE;
    if (r->lim.max_line < 8)
        r->lim.max_line = 8;
    if (!r->lim.max_literal)
        r->lim.max_literal = MR_IMAPCMD_DEFAULT_MAX_LITERAL;
    if (!r->lim.max_command)
        r->lim.max_command = MR_IMAPCMD_DEFAULT_MAX_COMMAND;
    if (!r->lim.max_literals)
        r->lim.max_literals = MR_IMAPCMD_DEFAULT_MAX_LITERALS;
}

static void unit_reset(mr_imapcmd_reader *r)
{
    r->in_literal = r->skipping = r->sync = r->cont_done = 0;
    r->pos = r->line_start = 0;
    r->lit_left = 0;
    r->nliterals = 0;
    r->first_len = 0;
    r->bare_lf = 0;
    r->ms = r->ms_ns = r->ms_over = r->ms_cr = 0;
    r->ms_val = 0;
}

void mr_imapcmd_reset(mr_imapcmd_reader *r) { unit_reset(r); }

void mr_imapcmd_set_sasl(mr_imapcmd_reader *r, int on) { r->sasl = on != 0; }

/*
 * Does the line text t[0..len) end in a literal announcement: "{n}",
 * "{n+}", "~{n}", "~{n+}"?  1 (size, nonsync, literal8 set), 0 no,
 * -1 when the digits do not fit in 64 bits.
 */
static int lit_marker(const uint8_t *t, size_t len, uint64_t *size, int *nonsync, int *l8)
{
    size_t i, e;
    uint64_t v = 0;
    if (len < 3 || t[len - 1] != '}')
        return 0;
    i = len - 1;
    *nonsync = 0;
    if (t[i - 1] == '+') {
        *nonsync = 1;
        i--;
    }
    e = i;
    while (i > 0 && is_digit(t[i - 1]))
        i--;
    if (i == e || i == 0 || t[i - 1] != '{')
        return 0;
    *l8 = i >= 2 && t[i - 2] == '~';
    for (size_t k = i; k < e; k++) {
        uint64_t d = (uint64_t)(t[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *size = v;
    return 1;
}

/* The tag at the start of a first line t[0..len): its length when it is
 * followed by SP, else 0. */
static size_t tag_len(const uint8_t *t, size_t len)
{
    size_t i = 0;
    while (i < len && is_tag_char(t[i]))
        i++;
    if (i == 0 || i >= len || t[i] != ' ' || i > MR_IMAPCMD_MAX_TAG)
        return 0;
    return i;
}

/* Read "tag SP verb [SP args]" (or DONE) from the first line t[0..len).
 * Fills out->tag (when the tag is good, even if the verb is not),
 * out->name and *args_off.  Returns an error code. */
static mr_imapcmd_errcode parse_head(const uint8_t *t, size_t len, int only_line, mr_imapcmd *out,
                                     size_t *args_off, const char **why)
{
    size_t tl, i, v, k = 0;
    out->tag[0] = 0;
    out->name[0] = 0;
    if (only_line && len == 4 && upper(t[0]) == 'D' && upper(t[1]) == 'O' && upper(t[2]) == 'N' &&
        upper(t[3]) == 'E') {
        memcpy(out->name, "DONE", 5); /* RFC 2177 3: ends IDLE */
        *args_off = len;
        return MR_IMAPCMD_E_OK;
    }
    tl = tag_len(t, len);
    if (!tl) {
        i = 0;
        while (i < len && is_tag_char(t[i]))
            i++;
        if (i > MR_IMAPCMD_MAX_TAG)
            *why = "tag too long";
        else if (i == 0)
            *why = "missing or invalid tag";
        else if (i < len && t[i] != ' ')
            *why = "invalid character in tag";
        else
            *why = "missing command name";
        return MR_IMAPCMD_E_BAD_TAG;
    }
    memcpy(out->tag, t, tl);
    out->tag[tl] = 0;
    i = tl + 1;
    for (int word = 0; word < 2; word++) {
        v = i;
        while (i < len && is_atom_char(t[i]))
            i++;
        if (i == v) {
            *why = word ? "UID needs a command" : "missing command name";
            return MR_IMAPCMD_E_BAD_COMMAND;
        }
        if (i < len && t[i] != ' ') {
            *why = "invalid character in command name";
            return MR_IMAPCMD_E_BAD_COMMAND;
        }
        if (k + (i - v) + (word ? 1 : 0) > MR_IMAPCMD_MAX_NAME) {
            *why = "command name too long";
            return MR_IMAPCMD_E_BAD_COMMAND;
        }
        if (word)
            out->name[k++] = ' ';
        for (size_t j = v; j < i; j++)
            out->name[k++] = (char)upper(t[j]);
        out->name[k] = 0;
        if (i < len)
            i++; /* the SP */
        if (word == 0 && strcmp(out->name, "UID") != 0)
            break;
    }
    *args_off = i;
    return MR_IMAPCMD_E_OK;
}

/* Refuse the command now: consumed bytes through r->pos; kind: 0 no
 * literal follows, 1 a synchronizing one (never sent), 2 a
 * non-synchronizing one of lit bytes (skipped), 3 mid-line (skip to the
 * line end). */
static mr_imapcmd_result reject(mr_imapcmd_reader *r, const uint8_t *p, size_t first_avail,
                                mr_imapcmd *out, mr_imapcmd_errcode code, const char *why,
                                size_t offset, int kind, uint64_t lit)
{
    size_t tl = tag_len(p, first_avail);
    out->name[0] = 0; /* what parse_head may have left: not known at every cut */
    if (tl) {
        memcpy(out->tag, p, tl);
        out->tag[tl] = 0;
    } else {
        out->tag[0] = 0;
    }
    out->line = p;
    out->line_len = r->pos;
    out->consumed = r->pos;
    out->err.code = code;
    out->err.offset = offset;
    out->err.message = why ? why : mr_imapcmd_errmsg(code);
    out->reply = 1;
    out->nliterals = r->nliterals;
    unit_reset(r);
    if (kind == 2) {
        r->skipping = 1;
        r->in_literal = 1;
        r->lit_left = lit;
    } else if (kind == 3) {
        r->skipping = 1;
    }
    return MR_IMAPCMD_ERROR;
}

/* Drop what arrives of a refused command: its lines, the literals they
 * announce (RFC 7888 4), up to the line that ends it.  A skipped line is
 * not kept, so a literal announcement at its end is recognised byte by
 * byte (r->ms), wherever the reads cut it. */
enum { MS_NONE = 0, MS_OPEN, MS_DIGITS, MS_PLUS, MS_CLOSE };

static mr_imapcmd_result skip(mr_imapcmd_reader *r, const uint8_t *p, size_t n, mr_imapcmd *out)
{
    int done = 0;
    size_t pos = 0;
    while (pos < n && !done) {
        if (r->in_literal) {
            uint64_t take = n - pos < r->lit_left ? n - pos : r->lit_left;
            pos += (size_t)take;
            r->lit_left -= take;
            if (!r->lit_left)
                r->in_literal = 0;
            continue;
        }
        uint8_t c = p[pos++];
        if (c == '\n') {
            if (r->ms == MS_CLOSE && r->ms_ns && !r->ms_over && r->ms_val) {
                r->in_literal = 1;
                r->lit_left = r->ms_val;
            } else if (!(r->ms == MS_CLOSE && r->ms_ns && !r->ms_over)) {
                done = 1; /* no literal, or one the client waits to be asked for */
            }
            r->ms = MS_NONE;
            r->ms_cr = 0;
            continue;
        }
        if (r->ms_cr) { /* a CR not before LF is an ordinary byte */
            r->ms_cr = 0;
            r->ms = MS_NONE;
        }
        if (c == '\r') {
            r->ms_cr = 1;
        } else if (c == '{') {
            r->ms = MS_OPEN;
            r->ms_val = 0;
            r->ms_over = r->ms_ns = 0;
        } else if (is_digit(c) && (r->ms == MS_OPEN || r->ms == MS_DIGITS)) {
            uint64_t d = (uint64_t)(c - '0');
            if (r->ms_val > (UINT64_MAX - d) / 10)
                r->ms_over = 1;
            else
                r->ms_val = r->ms_val * 10 + d;
            r->ms = MS_DIGITS;
        } else if (c == '+' && r->ms == MS_DIGITS) {
            r->ms = MS_PLUS;
            r->ms_ns = 1;
        } else if (c == '}' && (r->ms == MS_DIGITS || r->ms == MS_PLUS)) {
            r->ms = MS_CLOSE;
        } else {
            r->ms = MS_NONE;
        }
    }
    if (!pos)
        return MR_IMAPCMD_MORE;
    out->line = p;
    out->line_len = pos;
    out->consumed = pos;
    out->err.code = MR_IMAPCMD_E_SKIPPED;
    out->err.offset = 0;
    out->err.message = mr_imapcmd_errmsg(MR_IMAPCMD_E_SKIPPED);
    out->reply = 0;
    if (done)
        unit_reset(r);
    return MR_IMAPCMD_ERROR;
}

static mr_imapcmd_result eof_error(mr_imapcmd_reader *r, const uint8_t *p, size_t n, mr_imapcmd *out)
{
    out->line = p;
    out->line_len = n;
    out->consumed = n;
    out->err.code = MR_IMAPCMD_E_EOF;
    out->err.offset = n;
    out->err.message = mr_imapcmd_errmsg(MR_IMAPCMD_E_EOF);
    out->reply = 0;
    unit_reset(r);
    return MR_IMAPCMD_ERROR;
}

mr_imapcmd_result mr_imapcmd_next(mr_imapcmd_reader *r, const uint8_t *p, size_t n, int eof,
                                  mr_imapcmd *out)
{
    memset(out, 0, sizeof *out);
    if (r->skipping)
        return skip(r, p, n, out);
    if (r->pos > n) /* the caller dropped bytes it had not been told to: start over */
        unit_reset(r);
    for (;;) {
        if (r->in_literal) {
            if (r->sync && !r->cont_done) {
                size_t off;
                const char *why = NULL;
                r->cont_done = 1;
                (void)parse_head(p, r->first_len, 0, out, &off, &why);
                out->nliterals = r->nliterals;
                return MR_IMAPCMD_CONTINUE;
            }
            size_t avail = n - r->pos;
            uint64_t take = avail < r->lit_left ? avail : r->lit_left;
            r->pos += (size_t)take;
            r->lit_left -= take;
            if (r->lit_left) {
                if (eof)
                    return eof_error(r, p, n, out);
                return MR_IMAPCMD_MORE;
            }
            r->in_literal = 0;
            r->line_start = r->pos;
            continue;
        }
        size_t ls = r->line_start;
        /* A line passes a bound when no LF comes before byte trig: the
         * line's (max_line bytes, line end included) or the command's
         * (max_command), whichever is first.  Deciding at that byte, not
         * wherever a read happened to end, keeps the framing the same
         * however the bytes were cut; the rest is skipped. */
        size_t room = r->lim.max_command > ls ? r->lim.max_command - ls : 0;
        size_t trig = r->lim.max_line < room ? ls + r->lim.max_line : r->lim.max_command;
        mr_imapcmd_errcode big = r->lim.max_line <= room ? MR_IMAPCMD_E_LINE_TOO_LONG
                                                         : MR_IMAPCMD_E_COMMAND_TOO_LARGE;
        size_t upto = n < trig ? n : trig;
        const uint8_t *lf = r->pos < upto ? memchr(p + r->pos, '\n', upto - r->pos) : NULL;
        if (!lf) {
            if (n >= trig && trig > 0) {
                r->pos = trig;
                return reject(r, p, ls ? r->first_len : trig, out, big, NULL, trig, 3, 0);
            }
            r->pos = n;
            if (eof && n)
                return eof_error(r, p, n, out);
            return MR_IMAPCMD_MORE;
        }
        size_t end = (size_t)(lf - p) + 1, tl = end - 1 - ls;
        if (tl && p[end - 2] == '\r')
            tl--;
        else
            r->bare_lf = 1;
        r->pos = end;
        if (ls == 0)
            r->first_len = tl;
        size_t first = r->first_len; /* the first line's text */
        if (r->sasl) {
            memcpy(out->name, "<sasl>", 7);
            out->line = out->args = p;
            out->line_len = out->args_len = tl;
            out->consumed = end;
            out->bare_lf = r->bare_lf;
            unit_reset(r);
            return MR_IMAPCMD_COMMAND;
        }
        uint64_t size = 0;
        int ns = 0, l8 = 0, kind;
        int m = lit_marker(p + ls, tl, &size, &ns, &l8);
        kind = m == 1 ? (ns ? 2 : 1) : 0;
        if (m != 0 || ls == 0) {
            size_t off;
            const char *why = NULL;
            mr_imapcmd_errcode e = parse_head(p, first, m == 0, out, &off, &why);
            if (e)
                return reject(r, p, first, out, e, why, 0, kind, size);
        }
        if (m < 0)
            return reject(r, p, first, out, MR_IMAPCMD_E_BAD_LITERAL, "literal size too large", ls,
                          0, 0);
        if (m == 1) {
            if (++r->nliterals > r->lim.max_literals)
                return reject(r, p, first, out, MR_IMAPCMD_E_TOO_MANY_LITERALS, NULL, end, kind, size);
            if (size > r->lim.max_literal)
                return reject(r, p, first, out, MR_IMAPCMD_E_LITERAL_TOO_LARGE, NULL, end, kind, size);
            if (size > r->lim.max_command - end)
                return reject(r, p, first, out, MR_IMAPCMD_E_COMMAND_TOO_LARGE, NULL, end, kind, size);
            r->in_literal = 1;
            r->lit_left = size;
            r->sync = !ns;
            r->cont_done = 0;
            continue;
        }
        /* The last line: the command is whole. */
        size_t off = 0;
        const char *why = NULL;
        mr_imapcmd_errcode e = parse_head(p, first, ls == 0, out, &off, &why);
        if (e)
            return reject(r, p, first, out, e, why, 0, 0, 0);
        out->line = p;
        out->line_len = ls + tl;
        if (off > out->line_len)
            off = out->line_len;
        out->args = p + off;
        out->args_len = out->line_len - off;
        out->consumed = end;
        out->nliterals = r->nliterals;
        out->bare_lf = r->bare_lf;
        unit_reset(r);
        return MR_IMAPCMD_COMMAND;
    }
}

void mr_imapcmd_refuse(mr_imapcmd_reader *r, const uint8_t *p, mr_imapcmd *out)
{
    out->line = p;
    out->line_len = r->pos;
    out->consumed = r->pos;
    out->reply = 1;
    out->err.code = MR_IMAPCMD_E_OK;
    out->err.offset = r->pos;
    out->err.message = "command refused";
    unit_reset(r);
}

/* ------------------------------------------------------------ tokens */

void mr_imapcmd_tokens_init(mr_imapcmd_tokens *t, size_t max_tokens, size_t max_depth)
{
    memset(t, 0, sizeof *t);
    t->max_tokens = max_tokens ? max_tokens : 100000;
    t->max_depth = max_depth ? max_depth : 32;
}

void mr_imapcmd_tokens_cleanup(mr_imapcmd_tokens *t)
{
    free(t->tok);
    free(t->arena);
    t->tok = NULL;
    t->arena = NULL;
    t->n = t->cap = t->arena_len = t->arena_cap = 0;
}

static int tok_fail(mr_imapcmd_tokens *t, mr_imapcmd_errcode c, size_t off, const char *msg)
{
    t->err.code = c;
    t->err.offset = off;
    t->err.message = msg ? msg : mr_imapcmd_errmsg(c);
    return -1;
}

static mr_imaptok *tok_add(mr_imapcmd_tokens *t, uint8_t type, size_t off)
{
    if (t->n >= t->max_tokens) {
        tok_fail(t, MR_IMAPCMD_E_TOO_MANY_TOKENS, off, NULL);
        return NULL;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        mr_imaptok *nt;
        if (nc > t->max_tokens)
            nc = t->max_tokens;
        nt = realloc(t->tok, nc * sizeof *nt);
        if (!nt) {
            tok_fail(t, MR_IMAPCMD_E_NO_MEMORY, off, NULL);
            return NULL;
        }
        t->tok = nt;
        t->cap = nc;
    }
    mr_imaptok *k = &t->tok[t->n++];
    memset(k, 0, sizeof *k);
    k->type = type;
    k->offset = off;
    return k;
}

int mr_imapcmd_tokenize(mr_imapcmd_tokens *t, const uint8_t *a, size_t len)
{
    size_t i = 0, depth = 0, open = SIZE_MAX, no_close_before = 0;
    int need_sep = 0;
    t->n = 0;
    t->arena_len = 0;
    t->err.code = MR_IMAPCMD_E_OK;
    t->err.offset = 0;
    t->err.message = NULL;
    while (i < len) {
        uint8_t c = a[i];
        mr_imaptok *k;
        if (c == ' ') {
            i++;
            need_sep = 0;
            continue;
        }
        if (c == ')') {
            if (!depth)
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "unbalanced ')'");
            if (!(k = tok_add(t, MR_IMAPTOK_CLOSE, i)))
                return -1;
            depth--;
            k->depth = (uint32_t)depth;
            k->end = ++i;
            k->str = a + k->offset;
            k->len = 1;
            k->match = open;
            size_t parent = t->tok[open].match;
            t->tok[open].match = t->n - 1;
            open = parent;
            need_sep = 1;
            continue;
        }
        if (need_sep)
            return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "expected a space between arguments");
        if (c == '(') {
            if (depth >= t->max_depth)
                return tok_fail(t, MR_IMAPCMD_E_TOO_DEEP, i, NULL);
            if (!(k = tok_add(t, MR_IMAPTOK_OPEN, i)))
                return -1;
            k->depth = (uint32_t)depth++;
            k->str = a + i;
            k->len = 1;
            k->end = ++i;
            k->match = open; /* the parent while open; the CLOSE once closed */
            open = t->n - 1;
            continue;
        }
        need_sep = 1;
        if (c == '"') {
            size_t s = ++i;
            int esc = 0;
            while (i < len && a[i] != '"') {
                if (a[i] == '\\') {
                    if (i + 1 >= len || (a[i + 1] != '"' && a[i + 1] != '\\'))
                        return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i,
                                        "only \\\" and \\\\ may be escaped in a quoted string");
                    esc = 1;
                    i += 2;
                    continue;
                }
                if (a[i] == '\r' || a[i] == '\n' || a[i] == 0)
                    return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i,
                                    "CR, LF or NUL in a quoted string");
                i++;
            }
            if (i >= len)
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, s - 1, "unterminated quoted string");
            if (!(k = tok_add(t, MR_IMAPTOK_QUOTED, s - 1)))
                return -1;
            k->depth = (uint32_t)depth;
            k->end = i + 1;
            if (!esc) {
                k->str = a + s;
                k->len = i - s;
            } else {
                if (!t->arena || t->arena_cap < len) {
                    uint8_t *na = realloc(t->arena, len);
                    if (!na)
                        return tok_fail(t, MR_IMAPCMD_E_NO_MEMORY, s, NULL);
                    t->arena = na;
                    t->arena_cap = len;
                }
                uint8_t *d = t->arena + t->arena_len;
                size_t dn = 0;
                for (size_t j = s; j < i; j++) {
                    if (a[j] == '\\')
                        j++;
                    d[dn++] = a[j];
                }
                k->escaped = 1;
                k->str = d;
                k->len = dn;
                t->arena_len += dn;
            }
            i++;
            continue;
        }
        if (c == '{' || (c == '~' && i + 1 < len && a[i + 1] == '{')) {
            size_t s = i, d0;
            uint64_t v = 0;
            int l8 = c == '~', ns = 0;
            i += l8 ? 2 : 1;
            d0 = i;
            while (i < len && is_digit(a[i])) {
                uint64_t dg = (uint64_t)(a[i] - '0');
                if (v > (UINT64_MAX - dg) / 10)
                    return tok_fail(t, MR_IMAPCMD_E_SYNTAX, s, "literal size too large");
                v = v * 10 + dg;
                i++;
            }
            if (i == d0)
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, s, "a literal needs a size: {n}");
            if (i < len && a[i] == '+') {
                ns = 1;
                i++;
            }
            if (i >= len || a[i] != '}')
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "expected '}' after the literal size");
            i++;
            if (i < len && a[i] == '\r')
                i++;
            if (i >= len || a[i] != '\n')
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "a literal's size must end the line");
            i++;
            if (v > len - i)
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "literal shorter than its size");
            if (!(k = tok_add(t, MR_IMAPTOK_LITERAL, s)))
                return -1;
            k->depth = (uint32_t)depth;
            k->literal8 = (uint8_t)l8;
            k->nonsync = (uint8_t)ns;
            k->str = a + i;
            k->len = (size_t)v;
            i += (size_t)v;
            k->end = i;
            continue;
        }
        /* An atom, with sections: "[" ... "]" may hold SP, parentheses and
         * quoted strings (BODY[HEADER.FIELDS (From "To")]). */
        size_t s = i;
        while (i < len) {
            uint8_t b = a[i];
            if (b == '[' && i >= no_close_before) {
                size_t j = i + 1;
                int inq = 0;
                while (j < len) {
                    uint8_t x = a[j];
                    if (x == '\r' || x == '\n' || x == '{' || x == '[' || x == 0)
                        break;
                    if (inq) {
                        if (x == '\\' && j + 1 < len)
                            j++;
                        else if (x == '"')
                            inq = 0;
                    } else if (x == '"') {
                        inq = 1;
                    } else if (x == ']') {
                        break;
                    }
                    j++;
                }
                if (j < len && a[j] == ']' && !inq) {
                    for (size_t q = i + 1; q < j; q++)
                        if (a[q] < 0x20 || a[q] >= 0x7f)
                            return tok_fail(t, MR_IMAPCMD_E_SYNTAX, q,
                                            "invalid character in a section");
                    i = j + 1;
                    continue;
                }
                no_close_before = j; /* no "]" for any "[" before j: never rescan */
                i++;
                continue;
            }
            if (b == ' ' || b == '(' || b == ')')
                break;
            if (b == '{' || b == '"' || b < 0x20 || b >= 0x7f)
                return tok_fail(t, MR_IMAPCMD_E_SYNTAX, i, "invalid character in an atom");
            i++;
        }
        if (!(k = tok_add(t, MR_IMAPTOK_ATOM, s)))
            return -1;
        k->depth = (uint32_t)depth;
        k->str = a + s;
        k->len = i - s;
        k->end = i;
        if (mr_imaptok_eq(k, "NIL"))
            k->type = MR_IMAPTOK_NIL;
    }
    if (depth)
        return tok_fail(t, MR_IMAPCMD_E_SYNTAX, len, "unclosed '('");
    return 0;
}

int mr_imaptok_eq(const mr_imaptok *tok, const char *s)
{
    size_t n = strlen(s);
    if (tok->len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (upper(tok->str[i]) != upper((uint8_t)s[i]))
            return 0;
    return 1;
}

int mr_imaptok_is_string(const mr_imaptok *tok)
{
    return tok->type == MR_IMAPTOK_ATOM || tok->type == MR_IMAPTOK_NIL ||
           tok->type == MR_IMAPTOK_QUOTED || tok->type == MR_IMAPTOK_LITERAL;
}

int mr_imaptok_number(const mr_imaptok *tok, uint64_t *out)
{
    uint64_t v = 0;
    if (tok->type != MR_IMAPTOK_ATOM || tok->len == 0 || tok->len > 20)
        return 0;
    for (size_t i = 0; i < tok->len; i++) {
        uint64_t d;
        if (!is_digit(tok->str[i]))
            return 0;
        d = (uint64_t)(tok->str[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* ------------------------------------------------------------ sequence sets */

/* seq-number = nz-number / "*"; nz-number fits 32 bits (RFC 9051 9). */
static int seq_number(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
    size_t s = *i;
    uint64_t x = 0;
    if (s < n && p[s] == '*') {
        *v = MR_IMAPCMD_STAR;
        *i = s + 1;
        return 1;
    }
    while (*i < n && is_digit(p[*i])) {
        x = x * 10 + (uint64_t)(p[*i] - '0');
        if (x > 0xffffffffu)
            return 0;
        (*i)++;
    }
    if (*i == s || x == 0)
        return 0;
    *v = x;
    return 1;
}

long mr_imapcmd_seqset(const uint8_t *p, size_t n, mr_imapcmd_range *out, size_t cap,
                       int *is_dollar)
{
    size_t i = 0;
    long count = 0;
    *is_dollar = 0;
    if (n == 1 && p[0] == '$') {
        *is_dollar = 1;
        return 0;
    }
    if (n == 0)
        return -1;
    for (;;) {
        uint64_t lo, hi;
        if (!seq_number(p, n, &i, &lo))
            return -1;
        hi = lo;
        if (i < n && p[i] == ':') {
            i++;
            if (!seq_number(p, n, &i, &hi))
                return -1;
        }
        if ((size_t)count < cap) {
            out[count].lo = lo;
            out[count].hi = hi;
        }
        if (count == 0x7fffffffL)
            return -1;
        count++;
        if (i == n)
            return count;
        if (p[i] != ',')
            return -1;
        i++;
    }
}
