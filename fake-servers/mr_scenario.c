/*
 * mr_scenario.c - the scenario file reader (mr_scenario.h): a plain-text
 * file that says what a fake server does beyond a correct server's
 * default answers, and what the client is expected to do.  The format,
 * every rule of it and the RFC sections behind the examples are in
 * docs/scenarios.md; tests/data/scenario/{ok,bad}/ hold one case per
 * file, and every message fail() can report has a bad case
 * (tests/test_scenario.py checks that).
 *
 * The reader works line by line over bytes it does not own, copies what
 * it keeps, and is bounded by mr_scenario_limits: file size, line length,
 * steps, and a regular expression's length and expanded size (glibc's
 * regcomp copies a repeated sub-expression once per count, so "(a{255}){255}"
 * would cost it tens of thousands of nodes).  Only libc and POSIX
 * <regex.h>: the fuzz target fuzz/fuzz_scenario.c links it as it is.
 * On error everything is freed and *out is left empty.
 */
#include "mr_scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MS 3600000u            /* one hour: delays, drip, timeouts */
#define MAX_COUNT 1000000u         /* nth, times */
#define MAX_REPEAT 1000000000u     /* repeat COUNT */
#define MAX_SPLIT 1000             /* split points of one send */
#define MAX_MSGNUM 1000000u        /* ${msg:N}, ${size:N} */
#define MAX_WORD 64                /* a verb or a variable name */
#define MAX_RE_BOUND 255           /* {N} in a pattern */
#define MAX_RE_COST 4096           /* a pattern's size with repetitions expanded */

/* ------------------------------------------------------------ reader state */

typedef struct sc_ref { /* a ${NAME} to check once every save is known */
    const char *name;
    unsigned line, col;
} sc_ref;

#define NMETA 15 /* metadata keys (meta_keys) */

typedef struct sc_reader {
    mr_scenario_limits lim;
    mr_scenario *s;
    mr_scenario_error *err;
    const uint8_t *p; /* the current line, without its LF (and CR) */
    size_t n;
    unsigned line;
    size_t steps;
    int in_steps;          /* a rule or an expectation was read */
    long cur;              /* the rule that takes actions, or -1 */
    size_t caprules, capexpects, capacts; /* capacities (capacts: rule cur's) */
    unsigned meta_line[NMETA];
    sc_ref *refs;
    size_t nrefs, caprefs;
} sc_reader;

typedef enum { T_END, T_WORD, T_STR } tok_kind;

typedef struct sc_tok {
    tok_kind kind;
    size_t pos; /* 0-based in the line; T_STR: the opening quote */
    size_t len; /* T_STR: quotes included */
} sc_tok;

static const char *const meta_keys[NMETA] = {
    "name",     "protocol", "description", "rfc",  "tags",           "tls",  "cert", "user",
    "password", "mailbox",  "seed",        "timeout", "needs", "runs", "client-timeout"};
static const char *const builtin_subs[] = {"tag", "cmd", "args", "user", "host", "count", "msg",
                                           "size"};

/* Record an error at 0-based position pos of the current line. */
static int fail(sc_reader *r, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(sc_reader *r, size_t pos, const char *fmt, ...)
{
    va_list ap;
    r->err->line = r->line ? r->line : 1;
    r->err->col = pos >= UINT_MAX - 1 ? UINT_MAX - 1 : (unsigned)pos + 1;
    va_start(ap, fmt);
    vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int no_memory(sc_reader *r)
{
    return fail(r, 0, "out of memory"); /* untestable: not in a bad case */
}

/* Room for one more element in *arr (n used, *cap allocated), zeroed. */
static int grow(sc_reader *r, void **arr, size_t *cap, size_t n, size_t elem)
{
    size_t ncap;
    void *a;
    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 4;
    if (ncap > SIZE_MAX / elem)
        return no_memory(r);
    a = realloc(*arr, ncap * elem);
    if (!a)
        return no_memory(r);
    memset((char *)a + *cap * elem, 0, (ncap - *cap) * elem);
    *arr = a;
    *cap = ncap;
    return 0;
}

static char *dup_span(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static int is_alpha(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int is_verb_char(uint8_t c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
}

static int is_name_char(uint8_t c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

static int tok_is(const sc_reader *r, const sc_tok *t, const char *w)
{
    size_t n = strlen(w);
    return t->kind == T_WORD && t->len == n && memcmp(r->p + t->pos, w, n) == 0;
}

static int tok_is_ci(const sc_reader *r, const sc_tok *t, const char *w)
{
    size_t n = strlen(w);
    if (t->kind != T_WORD || t->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = r->p[t->pos + i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)w[i])
            return 0;
    }
    return 1;
}

/* A word for a message: at most 40 bytes of it. */
#define TOKF "%.*s"
#define TOKA(r, t) (int)((t)->len > 40 ? 40 : (t)->len), (const char *)(r)->p + (t)->pos

/* ------------------------------------------------------------ tokens */

/*
 * The next token from *pos: a word (a run of bytes up to a space or tab)
 * or a double-quoted string, which must be followed by a space, a tab or
 * the end of the line.  A '#' where a token starts is an error: comments
 * have their own lines.
 */
static int next_tok(sc_reader *r, size_t *pos, sc_tok *t)
{
    size_t i = *pos;
    while (i < r->n && is_blank(r->p[i]))
        i++;
    t->pos = i;
    t->len = 0;
    if (i == r->n) {
        t->kind = T_END;
        *pos = i;
        return 0;
    }
    if (r->p[i] == '#')
        return fail(r, i, "comments must be on their own line (a '#' outside a string)");
    if (r->p[i] == '"') {
        size_t j = i + 1;
        while (j < r->n && r->p[j] != '"')
            j += r->p[j] == '\\' ? 2 : 1;
        if (j >= r->n)
            return fail(r, i, "string not closed (a '\"' is missing)");
        j++;
        if (j < r->n && !is_blank(r->p[j]))
            return fail(r, j, "expected a space or the end of the line after the string");
        t->kind = T_STR;
        t->len = j - i;
        *pos = j;
        return 0;
    }
    while (i < r->n && !is_blank(r->p[i]))
        i++;
    t->kind = T_WORD;
    t->len = i - t->pos;
    *pos = i;
    return 0;
}

/* The token after what was read must be the end of the line. */
static int expect_end(sc_reader *r, size_t *pos, const char *after)
{
    sc_tok t;
    if (next_tok(r, pos, &t) != 0)
        return -1;
    if (t.kind == T_STR)
        return fail(r, t.pos, "unexpected string after %s", after);
    if (t.kind == T_WORD)
        return fail(r, t.pos, "unexpected '" TOKF "' after %s", TOKA(r, &t), after);
    return 0;
}

/* A decimal number from lo to hi in token t (what: for messages). */
static int tok_number(sc_reader *r, const sc_tok *t, uint64_t lo, uint64_t hi, const char *what,
                      uint64_t *out)
{
    uint64_t v = 0;
    if (t->kind == T_END)
        return fail(r, t->pos, "%s needs a number", what);
    if (t->kind == T_STR)
        return fail(r, t->pos, "%s needs a number, not a string", what);
    for (size_t i = 0; i < t->len; i++) {
        uint8_t c = r->p[t->pos + i];
        if (!is_digit(c))
            return fail(r, t->pos, "%s needs a number, not '" TOKF "'", what, TOKA(r, t));
        if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return fail(r, t->pos, "%s must be from %llu to %llu", what, (unsigned long long)lo,
                        (unsigned long long)hi);
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (v < lo || v > hi)
        return fail(r, t->pos, "%s must be from %llu to %llu", what, (unsigned long long)lo,
                    (unsigned long long)hi);
    *out = v;
    return 0;
}

static int next_number(sc_reader *r, size_t *pos, uint64_t lo, uint64_t hi, const char *what,
                       uint64_t *out)
{
    sc_tok t;
    if (next_tok(r, pos, &t) != 0)
        return -1;
    return tok_number(r, &t, lo, hi, what, out);
}

/* ------------------------------------------------------------ strings */

/*
 * The escape at p[i] == '\\' inside a string whose content ends at end:
 * its byte in *b; returns the bytes it takes, or -1.
 */
static int escape(sc_reader *r, size_t i, size_t end, uint8_t *b)
{
    uint8_t c = r->p[i + 1]; /* next_tok() kept the closing quote after it */
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    switch (c) {
    case 'r': *b = '\r'; return 2;
    case 'n': *b = '\n'; return 2;
    case 't': *b = '\t'; return 2;
    case '0': *b = 0; return 2;
    case '\\': *b = '\\'; return 2;
    case '"': *b = '"'; return 2;
    case '$': *b = '$'; return 2;
    case 'x': {
        const char *h1, *h2;
        if (i + 3 >= end || !r->p[i + 2] || !r->p[i + 3] ||
            !(h1 = strchr(hex, r->p[i + 2])) || !(h2 = strchr(hex, r->p[i + 3])))
            return fail(r, i, "\\x needs two hex digits");
        *b = (uint8_t)(((h1 - hex) % 16) * 16 + (h2 - hex) % 16);
        return 4;
    }
    default:
        if (c > 0x20 && c < 0x7f)
            return fail(r, i,
                        "unknown escape '\\%c' (expected \\r \\n \\t \\0 \\\\ \\\" \\$ or \\xHH)",
                        c);
        return fail(r, i, "unknown escape: a backslash before byte 0x%02X", c);
    }
}

/* A raw byte of a string's content: anything but a control byte. */
static int raw_ok(sc_reader *r, size_t i)
{
    if (r->p[i] == '\t')
        return fail(r, i, "a raw tab in a string (write \\t)");
    return 0; /* other control bytes were refused with the line */
}

/* The pattern text of string token t, unescaped, NUL-terminated. */
static int decode_plain(sc_reader *r, const sc_tok *t, char **out, size_t *outlen)
{
    size_t end = t->pos + t->len - 1, n = 0;
    char *s = malloc(t->len);
    if (!s)
        return no_memory(r);
    for (size_t i = t->pos + 1; i < end;) {
        uint8_t b;
        if (r->p[i] == '\\') {
            int k = escape(r, i, end, &b);
            if (k < 0) {
                free(s);
                return -1;
            }
            i += (size_t)k;
        } else {
            if (raw_ok(r, i) != 0) {
                free(s);
                return -1;
            }
            b = r->p[i++];
        }
        s[n++] = (char)b;
    }
    s[n] = 0;
    *out = s;
    *outlen = n;
    return 0;
}

static int tmpl_push(sc_reader *r, mr_sc_tmpl *t, size_t *cap, mr_sc_part **part)
{
    if (grow(r, (void **)&t->parts, cap, t->nparts, sizeof *t->parts) != 0)
        return -1;
    *part = &t->parts[t->nparts++];
    return 0;
}

static int tmpl_flush(sc_reader *r, mr_sc_tmpl *t, size_t *cap, uint8_t *lit, size_t *nlit)
{
    mr_sc_part *part;
    if (*nlit == 0)
        return 0;
    if (tmpl_push(r, t, cap, &part) != 0)
        return -1;
    part->kind = MR_SUB_LIT;
    part->bytes = malloc(*nlit);
    if (!part->bytes)
        return no_memory(r);
    memcpy(part->bytes, lit, *nlit);
    part->len = *nlit;
    *nlit = 0;
    return 0;
}

static int is_builtin(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof builtin_subs / sizeof *builtin_subs; i++)
        if (strlen(builtin_subs[i]) == n && memcmp(builtin_subs[i], p, n) == 0)
            return 1;
    return 0;
}

/* A variable name: a letter or '_', then letters, digits, '_', '-'. */
static int valid_name(const uint8_t *p, size_t n)
{
    if (n == 0 || n > MAX_WORD || !(is_alpha(p[0]) || p[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_name_char(p[i]))
            return 0;
    return 1;
}

/* ${...} whose content is p[a..b) (the '$' at a - 2): one part. */
static int substitution(sc_reader *r, const mr_sc_rule *rule, size_t a, size_t b, mr_sc_part *part)
{
    static const struct {
        const char *name;
        mr_sc_sub kind;
    } simple[] = {{"tag", MR_SUB_TAG},   {"cmd", MR_SUB_CMD},   {"args", MR_SUB_ARGS},
                  {"user", MR_SUB_USER}, {"host", MR_SUB_HOST}, {"count", MR_SUB_COUNT}};
    const uint8_t *p = r->p + a;
    size_t n = b - a, dollar = a - 2;
    int nd = (int)(n > 40 ? 40 : n);

    if (n == 0)
        return fail(r, dollar, "empty substitution '${}'");
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (strlen(simple[i].name) == n && memcmp(simple[i].name, p, n) == 0) {
            part->kind = simple[i].kind;
            return 0;
        }
    if (is_digit(p[0])) {
        size_t i = 0;
        while (i < n && is_digit(p[i]))
            i++;
        if (i < n)
            return fail(r, dollar, "unknown substitution '${%.*s}'", nd, (const char *)p);
        if (n != 1 || p[0] == '0')
            return fail(r, dollar, "a group substitution is ${1} to ${9}, not '${%.*s}'", nd,
                        (const char *)p);
        if (!rule->has_match)
            return fail(r, dollar, "${%c} needs a rule with a match", p[0]);
        if ((size_t)(p[0] - '0') > rule->match.re_nsub)
            return fail(r, dollar, "${%c}: the rule's match has %zu group(s)", p[0],
                        (size_t)rule->match.re_nsub);
        part->kind = MR_SUB_GROUP;
        part->num = (unsigned)(p[0] - '0');
        return 0;
    }
    if ((n > 4 && memcmp(p, "msg:", 4) == 0) || (n > 5 && memcmp(p, "size:", 5) == 0)) {
        size_t k = p[0] == 'm' ? 4 : 5;
        uint64_t v = 0;
        for (size_t i = k; i < n; i++) {
            if (!is_digit(p[i]) || v > MAX_MSGNUM)
                return fail(r, dollar, "${%.*s:N}: the message number must be from 1 to %u",
                            (int)k - 1, (const char *)p, MAX_MSGNUM);
            v = v * 10 + (uint64_t)(p[i] - '0');
        }
        if (v < 1 || v > MAX_MSGNUM)
            return fail(r, dollar, "${%.*s:N}: the message number must be from 1 to %u", (int)k - 1,
                        (const char *)p, MAX_MSGNUM);
        part->kind = p[0] == 'm' ? MR_SUB_MSG : MR_SUB_SIZE;
        part->num = (unsigned)v;
        return 0;
    }
    if (!valid_name(p, n) || is_builtin(p, n))
        return fail(r, dollar,
                    "unknown substitution '${%.*s}' (expected tag, cmd, args, 1-9, user, host, "
                    "count, msg:N, size:N or a saved name)",
                    nd, (const char *)p);
    part->kind = MR_SUB_VAR;
    part->name = dup_span(p, n);
    if (!part->name)
        return no_memory(r);
    if (grow(r, (void **)&r->refs, &r->caprefs, r->nrefs, sizeof *r->refs) != 0)
        return -1;
    r->refs[r->nrefs].name = part->name;
    r->refs[r->nrefs].line = r->line;
    r->refs[r->nrefs].col = (unsigned)dollar + 1;
    r->nrefs++;
    return 0;
}

/* A template from string token t, in rule (whose match ${1}..${9} use). */
static int decode_tmpl(sc_reader *r, const sc_tok *t, const mr_sc_rule *rule, mr_sc_tmpl *out)
{
    size_t end = t->pos + t->len - 1, nlit = 0, cap = 0;
    uint8_t *lit = malloc(t->len);
    int rc = -1;
    if (!lit)
        return no_memory(r);
    for (size_t i = t->pos + 1; i < end;) {
        uint8_t b;
        if (r->p[i] == '\\') {
            int k = escape(r, i, end, &b);
            if (k < 0)
                goto done;
            i += (size_t)k;
            lit[nlit++] = b;
        } else if (r->p[i] == '$' && i + 1 < end && r->p[i + 1] == '{') {
            size_t j = i + 2;
            mr_sc_part *part;
            while (j < end && r->p[j] != '}')
                j++;
            if (j >= end) {
                fail(r, i, "'${' without its '}'");
                goto done;
            }
            if (tmpl_flush(r, out, &cap, lit, &nlit) != 0 || tmpl_push(r, out, &cap, &part) != 0 ||
                substitution(r, rule, i + 2, j, part) != 0)
                goto done;
            i = j + 1;
        } else {
            if (raw_ok(r, i) != 0)
                goto done;
            lit[nlit++] = r->p[i++];
        }
    }
    rc = tmpl_flush(r, out, &cap, lit, &nlit);
done:
    free(lit);
    return rc;
}

/* ------------------------------------------------------------ patterns */

/*
 * The size of an ERE with its repetitions expanded, roughly as glibc's
 * regcomp builds it (each {m,n} copies the atom before it max(m,n)
 * times), saturating; -1 with an error when a bound is above 255.
 * Brackets, escapes and malformed braces count as one atom each
 * (regcomp judges their syntax).
 */
static int re_cost(sc_reader *r, size_t at, const char *re, size_t n)
{
    enum { DEPTH = 64 };
    uint64_t sum[DEPTH], last[DEPTH];
    size_t d = 0;
    sum[0] = last[0] = 0;
    for (size_t i = 0; i < n;) {
        uint64_t bound = 0;
        char c = re[i];
        if (c == '(' && d + 1 < DEPTH) {
            d++;
            sum[d] = last[d] = 0;
            i++;
            continue;
        }
        if (c == ')' && d > 0) {
            uint64_t g = sum[d] ? sum[d] : 1;
            d--;
            sum[d] += g;
            last[d] = g;
            i++;
            continue;
        }
        if (c == '|') {
            last[d] = 0;
            i++;
            continue;
        }
        if (c == '*' || c == '+' || c == '?') {
            sum[d] += last[d];
            last[d] *= 2;
            i++;
        } else if (c == '{' && i + 1 < n && is_digit((uint8_t)re[i + 1])) {
            size_t j = i + 1;
            uint64_t m = 0, hi = 0;
            int ok = 1;
            while (j < n && is_digit((uint8_t)re[j]) && m <= 100000)
                m = m * 10 + (uint64_t)(re[j++] - '0');
            hi = m;
            if (j < n && re[j] == ',') {
                j++;
                hi = 0;
                while (j < n && is_digit((uint8_t)re[j]) && hi <= 100000)
                    hi = hi * 10 + (uint64_t)(re[j++] - '0');
            }
            if (j >= n || re[j] != '}')
                ok = 0;
            if (ok) {
                bound = m > hi ? m : hi;
                if (bound > MAX_RE_BOUND)
                    return fail(r, at, "a repetition bound above %d in the pattern",
                                MAX_RE_BOUND);
                if (bound > 1)
                    sum[d] += last[d] * (bound - 1);
                last[d] *= bound ? bound : 1;
                i = j + 1;
            } else {
                sum[d]++;
                last[d] = 1;
                i++;
            }
        } else if (c == '[') {
            size_t j = i + 1;
            if (j < n && re[j] == '^')
                j++;
            if (j < n && re[j] == ']')
                j++;
            while (j < n && re[j] != ']') {
                if (re[j] == '[' && j + 1 < n && (re[j + 1] == ':' || re[j + 1] == '.' ||
                                                  re[j + 1] == '=')) {
                    char close = re[j + 1];
                    j += 2;
                    while (j + 1 < n && !(re[j] == close && re[j + 1] == ']'))
                        j++;
                    j += 2;
                } else
                    j++;
            }
            sum[d]++;
            last[d] = 1;
            i = j < n ? j + 1 : n;
        } else {
            sum[d]++;
            last[d] = 1;
            i += c == '\\' && i + 1 < n ? 2 : 1;
        }
        if (last[d] > MAX_RE_COST)
            last[d] = MAX_RE_COST + 1;
        if (sum[d] > MAX_RE_COST)
            return fail(r, at, "the pattern is too complex (its repetitions expand to more than "
                               "%d items)", MAX_RE_COST);
    }
    while (d > 0) { /* unbalanced: regcomp will say so */
        uint64_t g = sum[d];
        d--;
        sum[d] += g;
    }
    if (sum[0] > MAX_RE_COST)
        return fail(r, at, "the pattern is too complex (its repetitions expand to more than "
                           "%d items)", MAX_RE_COST);
    return 0;
}

/* Compile string token t into *re; *src gets the pattern text. */
static int compile(sc_reader *r, const sc_tok *t, regex_t *re, char **src)
{
    size_t n = 0;
    int rc;
    if (decode_plain(r, t, src, &n) != 0)
        return -1;
    if (n == 0)
        return fail(r, t->pos, "empty pattern");
    if (strlen(*src) != n)
        return fail(r, t->pos, "a pattern cannot hold a NUL byte");
    if (n > r->lim.max_regex)
        return fail(r, t->pos, "pattern longer than %zu bytes", r->lim.max_regex);
    if (re_cost(r, t->pos, *src, n) != 0)
        return -1;
    rc = regcomp(re, *src, REG_EXTENDED);
    if (rc != 0) {
        char buf[120];
        regerror(rc, re, buf, sizeof buf);
        return fail(r, t->pos, "bad pattern: %s", buf);
    }
    return 0;
}

/* A verb word (letters, digits, '-', '_', '.'), upper-cased into *out. */
static int verb_word(sc_reader *r, const sc_tok *t, char **out)
{
    char *s;
    if (t->len > MAX_WORD)
        return fail(r, t->pos, "a verb is at most %d bytes", MAX_WORD);
    for (size_t i = 0; i < t->len; i++)
        if (!is_verb_char(r->p[t->pos + i]))
            return fail(r, t->pos + i,
                        "bad verb '" TOKF "': letters, digits, '-', '_' and '.' only", TOKA(r, t));
    s = dup_span(r->p + t->pos, t->len);
    if (!s)
        return no_memory(r);
    for (char *c = s; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    *out = s;
    return 0;
}

/* ------------------------------------------------------------ steps */

static int count_step(sc_reader *r)
{
    if (++r->steps > r->lim.max_steps)
        return fail(r, 0, "more than %zu steps (rules, actions and expectations)",
                    r->lim.max_steps);
    return 0;
}

/* The rule taking actions is complete: it must have one. */
static int end_rule(sc_reader *r)
{
    if (r->cur >= 0) {
        const mr_sc_rule *rule = &r->s->rules[r->cur];
        if (rule->nacts == 0) {
            r->line = rule->line;
            return fail(r, 0, "a rule needs at least one indented action line");
        }
    }
    r->cur = -1;
    return 0;
}

/* An option word of a rule that greeting and tls triggers refuse. */
static int command_only(sc_reader *r, const mr_sc_rule *rule, const sc_tok *t)
{
    if (rule->trigger == MR_ON_COMMAND)
        return 0;
    return fail(r, t->pos, "'" TOKF "' makes no sense for 'on %s' (it happens once per connection)",
                TOKA(r, t), rule->trigger == MR_ON_GREETING ? "greeting" : "tls");
}

static int rule_line(sc_reader *r, size_t pos)
{
    mr_sc_rule *rule;
    sc_tok t;
    unsigned seen = 0; /* one bit per option */
    size_t save_pos = 0;

    if (end_rule(r) != 0 || count_step(r) != 0)
        return -1;
    r->in_steps = 1;
    if (grow(r, (void **)&r->s->rules, &r->caprules, r->s->nrules, sizeof *r->s->rules) != 0)
        return -1;
    rule = &r->s->rules[r->s->nrules++];
    r->cur = (long)(r->s->nrules - 1);
    r->capacts = 0;
    rule->line = r->line;
    rule->col = 1;

    if (next_tok(r, &pos, &t) != 0)
        return -1;
    if (t.kind != T_WORD)
        return fail(r, t.pos,
                    "'on' needs a trigger: greeting, tls, *, a command verb, <sasl> or <data>");
    if (tok_is_ci(r, &t, "greeting")) {
        rule->trigger = MR_ON_GREETING;
    } else if (tok_is_ci(r, &t, "tls")) {
        rule->trigger = MR_ON_TLS;
    } else if (r->p[t.pos] == '<') {
        if (!tok_is(r, &t, "<sasl>") && !tok_is(r, &t, "<data>"))
            return fail(r, t.pos, "unknown pseudo verb '" TOKF "' (expected <sasl> or <data>)",
                        TOKA(r, &t));
        rule->trigger = MR_ON_COMMAND;
        rule->command = dup_span(r->p + t.pos, t.len);
        if (!rule->command)
            return no_memory(r);
    } else if (tok_is(r, &t, "*")) {
        rule->trigger = MR_ON_COMMAND;
        rule->command = dup_span((const uint8_t *)"*", 1);
        if (!rule->command)
            return no_memory(r);
    } else if (tok_is_ci(r, &t, "uid")) {
        sc_tok t2;
        char *w;
        rule->trigger = MR_ON_COMMAND;
        if (next_tok(r, &pos, &t2) != 0)
            return -1;
        if (t2.kind != T_WORD)
            return fail(r, t2.pos, "UID needs a second word (as in 'on UID FETCH')");
        if (verb_word(r, &t2, &w) != 0)
            return -1;
        rule->command = malloc(strlen(w) + 5);
        if (!rule->command) {
            free(w);
            return no_memory(r);
        }
        memcpy(rule->command, "UID ", 4);
        memcpy(rule->command + 4, w, strlen(w) + 1);
        free(w);
    } else {
        rule->trigger = MR_ON_COMMAND;
        if (verb_word(r, &t, &rule->command) != 0)
            return -1;
    }

    for (;;) {
        static const char *const opts[] = {"first", "nth",       "always", "times", "match",
                                           "chance", "plaintext", "tls",    "save"};
        unsigned k;
        if (next_tok(r, &pos, &t) != 0)
            return -1;
        if (t.kind == T_END)
            break;
        if (t.kind == T_STR)
            return fail(r, t.pos, "unexpected string (a match pattern follows 'match')");
        for (k = 0; k < sizeof opts / sizeof *opts; k++)
            if (tok_is(r, &t, opts[k]))
                break;
        if (k == sizeof opts / sizeof *opts)
            return fail(r, t.pos,
                        "unknown rule option '" TOKF "' (expected first, nth, always, times, "
                        "match, chance, plaintext, tls or save)",
                        TOKA(r, &t));
        if (seen & (1u << k))
            return fail(r, t.pos, "option '%s' given twice", opts[k]);
        seen |= 1u << k;
        if ((seen & 7u) & ((seen & 7u) - 1)) /* two of first, nth, always */
            return fail(r, t.pos, "first, nth and always exclude one another");
        if ((seen & (1u << 6)) && (seen & (1u << 7)))
            return fail(r, t.pos, "plaintext and tls exclude one another");
        if ((seen & (1u << 3)) && (seen & 3u))
            return fail(r, t.pos, "times goes with always, not with first or nth");
        if (k != 5 && command_only(r, rule, &t) != 0)
            return -1;
        switch (k) {
        case 0:
            rule->nth = 1;
            break;
        case 1:
        case 3: {
            uint64_t v;
            if (next_number(r, &pos, 1, MAX_COUNT, k == 1 ? "nth" : "times", &v) != 0)
                return -1;
            if (k == 1)
                rule->nth = (unsigned)v;
            else
                rule->times = (unsigned)v;
            break;
        }
        case 2:
            break;
        case 4:
            if (next_tok(r, &pos, &t) != 0)
                return -1;
            if (t.kind != T_STR)
                return fail(r, t.pos, "match needs a \"REGEX\" string");
            if (compile(r, &t, &rule->match, &rule->match_src) != 0)
                return -1;
            rule->has_match = 1;
            break;
        case 5: {
            uint64_t ip = 0, frac = 0, scale = 1;
            size_t i = 0;
            int ok;
            if (next_tok(r, &pos, &t) != 0)
                return -1;
            if (t.kind != T_WORD)
                return fail(r, t.pos, "chance needs a decimal number above 0, at most 1");
            for (; i < t.len && is_digit(r->p[t.pos + i]); i++) {
                ip = ip * 10 + (uint64_t)(r->p[t.pos + i] - '0');
                if (ip > 10)
                    ip = 10;
            }
            ok = i > 0;
            if (ok && i < t.len && r->p[t.pos + i] == '.') {
                size_t f0 = ++i;
                for (; i < t.len && is_digit(r->p[t.pos + i]); i++) {
                    if (i - f0 == 9)
                        return fail(r, t.pos + i, "chance takes at most 9 decimals");
                    frac = frac * 10 + (uint64_t)(r->p[t.pos + i] - '0');
                    scale *= 10;
                }
                ok = i > f0;
            }
            if (!ok || i < t.len)
                return fail(r, t.pos, "chance needs a decimal number above 0, at most 1, not '" TOKF "'",
                            TOKA(r, &t));
            if (ip > 1 || (ip == 1 && frac != 0) || (ip == 0 && frac == 0))
                return fail(r, t.pos, "chance must be above 0 and at most 1");
            rule->chance = (double)ip + (double)frac / (double)scale;
            break;
        }
        case 6:
            rule->phase = MR_PHASE_PLAINTEXT;
            break;
        case 7:
            rule->phase = MR_PHASE_TLS;
            break;
        case 8:
            if (next_tok(r, &pos, &t) != 0)
                return -1;
            if (t.kind != T_WORD)
                return fail(r, t.pos, "save needs a variable name");
            if (!valid_name(r->p + t.pos, t.len))
                return fail(r, t.pos,
                            "bad variable name '" TOKF "': a letter or '_', then letters, digits, "
                            "'_' or '-' (at most %d)",
                            TOKA(r, &t), MAX_WORD);
            if (is_builtin(r->p + t.pos, t.len))
                return fail(r, t.pos, "'" TOKF "' is a built-in substitution, not a variable name",
                            TOKA(r, &t));
            save_pos = t.pos;
            rule->save = dup_span(r->p + t.pos, t.len);
            if (!rule->save)
                return no_memory(r);
            break;
        }
    }
    if (rule->save && !rule->has_match)
        return fail(r, save_pos, "save needs a match (it saves what the match found)");
    return 0;
}

static int parse_split(sc_reader *r, const sc_tok *t, mr_sc_action *a)
{
    size_t i = 0, cap = 0;
    if (t->kind != T_WORD)
        return fail(r, t->pos, "split needs offsets, as in 'split 3,10'");
    while (i < t->len) {
        size_t start = i;
        uint64_t v = 0;
        while (i < t->len && is_digit(r->p[t->pos + i])) {
            if (v > 100000000)
                return fail(r, t->pos + start, "split offset too large");
            v = v * 10 + (uint64_t)(r->p[t->pos + i++] - '0');
        }
        if (i == start)
            return fail(r, t->pos + i, "split needs offsets, as in 'split 3,10'");
        if (v == 0)
            return fail(r, t->pos + start, "a split offset must be above 0");
        if (a->nsplit && v <= a->split[a->nsplit - 1])
            return fail(r, t->pos + start, "split offsets must increase");
        if (a->nsplit == MAX_SPLIT)
            return fail(r, t->pos + start, "more than %d split offsets", MAX_SPLIT);
        if (grow(r, (void **)&a->split, &cap, a->nsplit, sizeof *a->split) != 0)
            return -1;
        a->split[a->nsplit++] = (size_t)v;
        if (i < t->len) {
            if (r->p[t->pos + i] != ',')
                return fail(r, t->pos + i, "split needs offsets, as in 'split 3,10'");
            i++;
            if (i == t->len)
                return fail(r, t->pos + i, "split needs offsets, as in 'split 3,10'");
        }
    }
    return 0;
}

/* A template argument: the string token t (required) */
static int tmpl_arg(sc_reader *r, const sc_tok *t, const char *act, mr_sc_action *a)
{
    const mr_sc_rule *rule = &r->s->rules[r->cur];
    if (t->kind != T_STR)
        return fail(r, t->pos, "%s needs a \"STRING\"", act);
    return decode_tmpl(r, t, rule, &a->text);
}

static int action_line(sc_reader *r, size_t pos)
{
    static const struct {
        const char *name;
        mr_sc_act kind;
    } acts[] = {{"send", MR_ACT_SEND},           {"repeat", MR_ACT_REPEAT},
                {"default", MR_ACT_DEFAULT},     {"error", MR_ACT_ERROR},
                {"delay", MR_ACT_DELAY},         {"stall", MR_ACT_STALL},
                {"close", MR_ACT_CLOSE},         {"reset", MR_ACT_RESET},
                {"half-close", MR_ACT_HALF_CLOSE}, {"starttls", MR_ACT_STARTTLS},
                {"tls-close", MR_ACT_TLS_CLOSE}, {"tls-alert", MR_ACT_TLS_ALERT}};
    mr_sc_rule *rule;
    mr_sc_action *a;
    sc_tok t;
    size_t k;

    if (next_tok(r, &pos, &t) != 0)
        return -1;
    if (r->cur < 0)
        return fail(r, t.pos,
                    r->in_steps ? "an indented action line must follow its 'on' line or other "
                                  "actions (an expect line came between)"
                                : "an indented action line before any 'on' rule");
    if (count_step(r) != 0)
        return -1;
    rule = &r->s->rules[r->cur];
    if (t.kind != T_WORD)
        return fail(r, t.pos, "expected an action (send, repeat, default, error, delay, stall, "
                              "close, reset, half-close, starttls, tls-close or tls-alert)");
    for (k = 0; k < sizeof acts / sizeof *acts; k++)
        if (tok_is(r, &t, acts[k].name))
            break;
    if (k == sizeof acts / sizeof *acts)
        return fail(r, t.pos,
                    "unknown action '" TOKF "' (expected send, repeat, default, error, delay, "
                    "stall, close, reset, half-close, starttls, tls-close or tls-alert)",
                    TOKA(r, &t));
    if (grow(r, (void **)&rule->acts, &r->capacts, rule->nacts, sizeof *rule->acts) != 0)
        return -1;
    a = &rule->acts[rule->nacts++];
    a->kind = acts[k].kind;
    a->line = r->line;
    a->col = (unsigned)t.pos + 1;

    switch (a->kind) {
    case MR_ACT_SEND: {
        unsigned seen = 0;
        size_t split_pos = 0, lit = 0;
        int subs = 0;
        if (next_tok(r, &pos, &t) != 0 || tmpl_arg(r, &t, "send", a) != 0)
            return -1;
        if (a->text.nparts == 0)
            return fail(r, t.pos, "send needs something to send (the string is empty)");
        for (size_t i = 0; i < a->text.nparts; i++) {
            if (a->text.parts[i].kind == MR_SUB_LIT)
                lit += a->text.parts[i].len;
            else
                subs = 1;
        }
        for (;;) {
            if (next_tok(r, &pos, &t) != 0)
                return -1;
            if (t.kind == T_END)
                break;
            if (tok_is(r, &t, "split")) {
                if (seen & 1)
                    return fail(r, t.pos, "option '%s' given twice", "split");
                seen |= 1;
                if (next_tok(r, &pos, &t) != 0 || parse_split(r, &t, a) != 0)
                    return -1;
                split_pos = t.pos;
            } else if (tok_is(r, &t, "drip")) {
                uint64_t v;
                if (seen & 2)
                    return fail(r, t.pos, "option '%s' given twice", "drip");
                seen |= 2;
                if (next_number(r, &pos, 0, MAX_MS, "drip", &v) != 0)
                    return -1;
                a->drip_ms = (uint32_t)v;
                a->has_drip = 1;
            } else if (tok_is(r, &t, "join")) {
                if (seen & 4)
                    return fail(r, t.pos, "option '%s' given twice", "join");
                seen |= 4;
                a->join = 1;
            } else if (t.kind == T_STR) {
                return fail(r, t.pos, "send takes one string");
            } else {
                return fail(r, t.pos,
                            "unknown send option '" TOKF "' (expected split, drip or join)",
                            TOKA(r, &t));
            }
        }
        if (!subs && a->nsplit && a->split[a->nsplit - 1] >= lit)
            return fail(r, split_pos, "split offset %zu is not inside the %zu bytes to send",
                        a->split[a->nsplit - 1], lit);
        return 0;
    }
    case MR_ACT_REPEAT:
        if (next_tok(r, &pos, &t) != 0)
            return -1;
        if (tok_is(r, &t, "forever")) {
            a->count = UINT64_MAX;
        } else if (t.kind != T_WORD) {
            return fail(r, t.pos, "repeat needs a count or 'forever', then a \"STRING\"");
        } else if (tok_number(r, &t, 1, MAX_REPEAT, "repeat", &a->count) != 0) {
            return -1;
        }
        if (next_tok(r, &pos, &t) != 0 || tmpl_arg(r, &t, "repeat", a) != 0)
            return -1;
        if (a->text.nparts == 0)
            return fail(r, t.pos, "repeat needs something to send (the string is empty)");
        return expect_end(r, &pos, "repeat's string");
    case MR_ACT_DEFAULT:
    case MR_ACT_ERROR:
        if (next_tok(r, &pos, &t) != 0)
            return -1;
        if (a->kind == MR_ACT_ERROR && t.kind == T_STR) {
            if (tmpl_arg(r, &t, "error", a) != 0 || next_tok(r, &pos, &t) != 0)
                return -1;
        }
        if (tok_is(r, &t, "join")) {
            a->join = 1;
            return expect_end(r, &pos, "join");
        }
        if (t.kind == T_END)
            return 0;
        if (a->kind == MR_ACT_DEFAULT)
            return fail(r, t.pos, "default takes only 'join'");
        return fail(r, t.pos, "error takes an optional \"STRING\", then an optional 'join'");
    case MR_ACT_DELAY: {
        uint64_t v;
        if (next_number(r, &pos, 0, MAX_MS, "delay", &v) != 0)
            return -1;
        a->ms = (uint32_t)v;
        return expect_end(r, &pos, "delay's milliseconds");
    }
    default:
        return expect_end(r, &pos, acts[k].name);
    }
}

/* A pattern: a bare verb word or a "REGEX" string. */
static int pattern(sc_reader *r, const sc_tok *t, mr_sc_pattern *pat)
{
    if (t->kind == T_STR) {
        if (compile(r, t, &pat->re, &pat->src) != 0)
            return -1;
        pat->has_re = 1;
        return 0;
    }
    if (verb_word(r, t, &pat->command) != 0)
        return -1;
    pat->src = dup_span(r->p + t->pos, t->len);
    return pat->src ? 0 : no_memory(r);
}

/* A memory size: digits with an optional K, M or G (powers of 1024). */
static int size_arg(sc_reader *r, const sc_tok *t, uint64_t *out)
{
    uint64_t mult = 1;
    sc_tok num = *t;
    if (t->kind == T_WORD && t->len > 1) {
        switch (r->p[t->pos + t->len - 1]) {
        case 'K': mult = 1ull << 10; break;
        case 'M': mult = 1ull << 20; break;
        case 'G': mult = 1ull << 30; break;
        }
        if (mult > 1)
            num.len--;
    }
    if (tok_number(r, &num, 1, (1ull << 40) / mult, "memory-below", out) != 0)
        return -1;
    *out *= mult;
    return 0;
}

/* The expectations the runner judges (mailrig run): on the client's exit
 * status and output, its peak memory, and the mailbox afterwards. */
static int client_expect(sc_reader *r, size_t pos, mr_sc_expect *e)
{
    sc_tok t;
    if (next_tok(r, &pos, &t) != 0)
        return -1;
    switch (e->kind) {
    case MR_EX_EXIT:
        if (tok_is(r, &t, "success"))
            e->success = 1;
        else if (!tok_is(r, &t, "failure"))
            return fail(r, t.pos, "exit takes success or failure");
        return expect_end(r, &pos, "exit's outcome");
    case MR_EX_OUTPUT:
    case MR_EX_NO_OUTPUT:
        if (t.kind != T_STR)
            return fail(r, t.pos, "%s takes a \"REGEX\"", mr_sc_expect_name(e->kind));
        e->pats = calloc(1, sizeof *e->pats);
        if (!e->pats)
            return no_memory(r);
        e->npats = 1;
        if (compile(r, &t, &e->pats[0].re, &e->pats[0].src) != 0)
            return -1;
        e->pats[0].has_re = 1;
        return expect_end(r, &pos, "the pattern");
    case MR_EX_MEMORY_BELOW:
        if (t.kind == T_END)
            return fail(r, t.pos, "memory-below needs a size: bytes, or a number with K, M or G");
        if (size_arg(r, &t, &e->n) != 0)
            return -1;
        return expect_end(r, &pos, "the size");
    case MR_EX_SUBMITTED:
        if (tok_number(r, &t, 0, 1000000, "submitted", &e->n) != 0)
            return -1;
        return expect_end(r, &pos, "the count");
    default: /* MESSAGES, FLAG, NO_FLAG: a folder first */
        break;
    }
    if (t.kind != T_WORD)
        return fail(r, t.pos, "%s needs a folder name (a word, e.g. INBOX)",
                    mr_sc_expect_name(e->kind));
    e->folder = dup_span(r->p + t.pos, t.len);
    if (!e->folder)
        return no_memory(r);
    if (next_tok(r, &pos, &t) != 0)
        return -1;
    if (e->kind == MR_EX_MESSAGES) {
        if (tok_number(r, &t, 0, 10000000, "messages", &e->n) != 0)
            return -1;
        return expect_end(r, &pos, "the count");
    }
    if (tok_number(r, &t, 1, UINT32_MAX, "the UID", &e->n) != 0)
        return -1;
    if (next_tok(r, &pos, &t) != 0)
        return -1;
    if (t.kind != T_WORD)
        return fail(r, t.pos, "%s needs a flag after the UID (\\Seen, \\Deleted, or a keyword)",
                    mr_sc_expect_name(e->kind));
    e->flag = dup_span(r->p + t.pos, t.len);
    if (!e->flag)
        return no_memory(r);
    return expect_end(r, &pos, "the flag");
}

static int expect_line(sc_reader *r, size_t pos)
{
    static const struct {
        const char *name;
        mr_sc_expect_kind kind;
    } kinds[] = {{"send", MR_EX_SEND},
                 {"no-send", MR_EX_NO_SEND},
                 {"order", MR_EX_ORDER},
                 {"close-within", MR_EX_CLOSE_WITHIN},
                 {"silent-after", MR_EX_SILENT_AFTER},
                 {"exit", MR_EX_EXIT},
                 {"output", MR_EX_OUTPUT},
                 {"no-output", MR_EX_NO_OUTPUT},
                 {"memory-below", MR_EX_MEMORY_BELOW},
                 {"messages", MR_EX_MESSAGES},
                 {"flag", MR_EX_FLAG},
                 {"no-flag", MR_EX_NO_FLAG},
                 {"submitted", MR_EX_SUBMITTED}};
    mr_sc_expect *e;
    sc_tok t;
    size_t k, end = r->n, patcap = 0;

    if (end_rule(r) != 0 || count_step(r) != 0)
        return -1;
    r->in_steps = 1;
    if (grow(r, (void **)&r->s->expects, &r->capexpects, r->s->nexpects, sizeof *r->s->expects) != 0)
        return -1;
    e = &r->s->expects[r->s->nexpects++];
    e->line = r->line;
    e->col = 1;
    while (end > 0 && is_blank(r->p[end - 1]))
        end--;
    e->text = dup_span(r->p, end);
    if (!e->text)
        return no_memory(r);

    if (next_tok(r, &pos, &t) != 0)
        return -1;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (tok_is(r, &t, kinds[k].name))
            break;
    if (k == sizeof kinds / sizeof *kinds) {
        if (t.kind == T_WORD)
            return fail(r, t.pos,
                        "unknown expectation '" TOKF "' (expected send, no-send, order, "
                        "close-within, silent-after, exit, output, no-output, memory-below, "
                        "messages, flag, no-flag or submitted)",
                        TOKA(r, &t));
        return fail(r, t.pos, "expect needs a kind: send, no-send, order, close-within, "
                              "silent-after, exit, output, no-output, memory-below, messages, "
                              "flag, no-flag or submitted");
    }
    e->kind = kinds[k].kind;
    if (mr_sc_expect_is_client(e->kind))
        return client_expect(r, pos, e);
    if (e->kind == MR_EX_CLOSE_WITHIN) {
        uint64_t v;
        if (next_number(r, &pos, 1, MAX_MS, "close-within", &v) != 0)
            return -1;
        e->ms = (uint32_t)v;
        return expect_end(r, &pos, "close-within's milliseconds");
    }
    for (;;) {
        if (next_tok(r, &pos, &t) != 0)
            return -1;
        if (t.kind == T_END)
            break;
        if (e->npats >= 1 && e->kind != MR_EX_ORDER) {
            if (e->kind == MR_EX_SILENT_AFTER)
                return fail(r, t.pos, "silent-after takes one pattern");
            if (e->phase != MR_PHASE_ANY)
                return fail(r, t.pos, "unexpected '" TOKF "' after the phase", TOKA(r, &t));
            if (tok_is(r, &t, "plaintext")) {
                e->phase = MR_PHASE_PLAINTEXT;
                continue;
            }
            if (tok_is(r, &t, "tls")) {
                e->phase = MR_PHASE_TLS;
                continue;
            }
            return fail(r, t.pos, "%s takes one pattern, then optionally plaintext or tls",
                        kinds[k].name);
        }
        if (grow(r, (void **)&e->pats, &patcap, e->npats, sizeof *e->pats) != 0)
            return -1;
        e->npats++;
        if (pattern(r, &t, &e->pats[e->npats - 1]) != 0)
            return -1;
    }
    if (e->npats == 0)
        return fail(r, t.pos, "%s needs a pattern: a verb or a \"REGEX\"", kinds[k].name);
    if (e->kind == MR_EX_ORDER && e->npats < 2)
        return fail(r, t.pos, "order needs at least two patterns");
    return 0;
}

/* ------------------------------------------------------------ metadata */

static int meta_line(sc_reader *r, size_t keylen)
{
    mr_scenario *s = r->s;
    size_t k, v = keylen + 1, end = r->n;
    char **slot = NULL;
    for (k = 0; k < NMETA; k++)
        if (strlen(meta_keys[k]) == keylen && memcmp(meta_keys[k], r->p, keylen) == 0)
            break;
    if (k == NMETA)
        return fail(r, 0,
                    "unknown metadata key '%.*s' (expected name, protocol, description, rfc, "
                    "tags, tls, cert, user, password, mailbox, seed, timeout, needs, runs or "
                    "client-timeout)",
                    (int)(keylen > 40 ? 40 : keylen), (const char *)r->p);
    if (r->in_steps)
        return fail(r, 0, "metadata must come before the first rule or expectation");
    if (r->meta_line[k])
        return fail(r, 0, "duplicate key '%s' (first given on line %u)", meta_keys[k],
                    r->meta_line[k]);
    r->meta_line[k] = r->line;
    while (v < end && is_blank(r->p[v]))
        v++;
    while (end > v && is_blank(r->p[end - 1]))
        end--;
    if (v == end)
        return fail(r, v, "'%s' needs a value", meta_keys[k]);
#define VALUE_IS(w) (end - v == strlen(w) && memcmp(r->p + v, w, strlen(w)) == 0)
    switch (k) {
    case 0: slot = &s->name; break;
    case 1:
        if (!VALUE_IS("pop3") && !VALUE_IS("imap") && !VALUE_IS("smtp"))
            return fail(r, v, "protocol must be pop3, imap or smtp");
        slot = &s->protocol;
        break;
    case 2: slot = &s->description; break;
    case 3: slot = &s->rfc; break;
    case 4: slot = &s->tags; break;
    case 5:
        if (!VALUE_IS("none") && !VALUE_IS("implicit") && !VALUE_IS("starttls"))
            return fail(r, v, "tls must be none, implicit or starttls");
        slot = &s->tls;
        break;
    case 6:
        if (!VALUE_IS("valid") && !VALUE_IS("self-signed") && !VALUE_IS("expired") &&
            !VALUE_IS("wrong-host") && !VALUE_IS("unknown-ca"))
            return fail(r, v, "cert must be valid, self-signed, expired, wrong-host or unknown-ca");
        slot = &s->cert;
        break;
    case 7: slot = &s->user; break;
    case 8: slot = &s->password; break;
    case 9: slot = &s->mailbox; break;
    case 12:
        /* feature names: words of letters, digits and '-', comma separated */
        for (size_t i = v; i < end; i++) {
            uint8_t c = r->p[i];
            if (!(is_alpha(c) || is_digit(c) || c == '-' || c == ',' || is_blank(c)))
                return fail(r, i, "needs is a comma-separated list of feature names (letters, "
                                  "digits and '-'), not '%c'", c);
        }
        slot = &s->needs;
        break;
    case 10:
    case 11:
    case 13:
    case 14: {
        sc_tok t = {T_WORD, v, end - v};
        uint64_t n;
        if (k == 10) {
            if (tok_number(r, &t, 0, UINT64_MAX, "seed", &n) != 0)
                return -1;
            s->seed = n;
        } else if (k == 13) {
            if (tok_number(r, &t, 1, 10, "runs", &n) != 0)
                return -1;
            s->runs = (unsigned)n;
        } else {
            if (tok_number(r, &t, k == 14 ? 1 : 0, MAX_MS, meta_keys[k], &n) != 0)
                return -1;
            if (k == 11)
                s->timeout_ms = (uint32_t)n;
            else
                s->client_timeout_ms = (uint32_t)n;
        }
        return 0;
    }
    }
#undef VALUE_IS
    *slot = dup_span(r->p + v, end - v);
    return *slot ? 0 : no_memory(r);
}

/* ------------------------------------------------------------ lines */

static int one_line(sc_reader *r)
{
    size_t i = 0, k;
    for (size_t j = 0; j < r->n; j++) {
        uint8_t c = r->p[j];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(r, j, "a raw control byte 0x%02X (inside a string write it as \\x%02X)",
                        c, c);
    }
    while (i < r->n && is_blank(r->p[i]))
        i++;
    if (i == r->n || r->p[i] == '#')
        return 0; /* blank or comment */
    if (i > 0)
        return action_line(r, 0);
    for (k = 0; k < r->n && is_name_char(r->p[k]); k++)
        ;
    if (k > 0 && k < r->n && r->p[k] == ':')
        return meta_line(r, k);
    if (k == 2 && memcmp(r->p, "on", 2) == 0 && (k == r->n || is_blank(r->p[k])))
        return rule_line(r, k);
    if (k == 6 && memcmp(r->p, "expect", 6) == 0 && (k == r->n || is_blank(r->p[k])))
        return expect_line(r, k);
    {
        size_t w = 0;
        while (w < r->n && !is_blank(r->p[w]) && w < 40)
            w++;
        return fail(r, 0,
                    "expected 'on', 'expect', a 'key: value' metadata line or an indented "
                    "action, not '%.*s'",
                    (int)w, (const char *)r->p);
    }
}

static int check_refs(sc_reader *r)
{
    for (size_t i = 0; i < r->nrefs; i++) {
        size_t j;
        for (j = 0; j < r->s->nrules; j++)
            if (r->s->rules[j].save && strcmp(r->s->rules[j].save, r->refs[i].name) == 0)
                break;
        if (j == r->s->nrules) {
            r->line = r->refs[i].line;
            return fail(r, r->refs[i].col - 1u, "unknown variable '${%s}': no rule has 'save %s'",
                        r->refs[i].name, r->refs[i].name);
        }
    }
    return 0;
}

static int read_all(sc_reader *r, const uint8_t *data, size_t len)
{
    size_t at = 0;
    if (len > r->lim.max_file)
        return fail(r, 0, "file larger than %zu bytes", r->lim.max_file);
    r->line = 0;
    while (at < len || (at == len && r->line == 0)) {
        const uint8_t *lf = len > at ? memchr(data + at, '\n', len - at) : NULL;
        size_t n = lf ? (size_t)(lf - (data + at)) : len - at;
        if (r->line == UINT_MAX - 1)
            return fail(r, 0, "too many lines");
        r->line++;
        r->p = data + at;
        r->n = n;
        if (lf && n > 0 && r->p[n - 1] == '\r')
            r->n--;
        if (r->n > r->lim.max_line)
            return fail(r, r->lim.max_line, "line longer than %zu bytes", r->lim.max_line);
        if (one_line(r) != 0)
            return -1;
        at += n + (lf ? 1 : 0);
        if (!lf)
            break;
    }
    r->p = NULL;
    r->n = 0;
    if (end_rule(r) != 0 || check_refs(r) != 0)
        return -1;
    r->line = 1;
    if (!r->s->name)
        return fail(r, 0, "the scenario needs a 'name: ...' line");
    if (!r->s->protocol)
        return fail(r, 0, "the scenario needs a 'protocol: pop3|imap|smtp' line");
    return 0;
}

int mr_scenario_read(const uint8_t *data, size_t len, const char *file,
                     const mr_scenario_limits *lim, mr_scenario *out, mr_scenario_error *err)
{
    sc_reader r;
    mr_scenario_error dummy;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    r.s = out;
    r.err = err;
    r.cur = -1;
    if (lim)
        r.lim = *lim;
    if (!r.lim.max_file)
        r.lim.max_file = (size_t)16 << 20;
    if (!r.lim.max_line)
        r.lim.max_line = (size_t)1 << 20;
    if (r.lim.max_line > UINT_MAX / 2)
        r.lim.max_line = UINT_MAX / 2;
    if (!r.lim.max_steps)
        r.lim.max_steps = 100000;
    if (!r.lim.max_regex)
        r.lim.max_regex = 1024;
    out->seed = 1;
    out->runs = 1;
    if (file && !(out->file = dup_span((const uint8_t *)file, strlen(file))))
        rc = no_memory(&r);
    else
        rc = read_all(&r, data ? data : (const uint8_t *)"", data ? len : 0);
    free(r.refs);
    if (rc != 0) {
        mr_scenario_free(out);
        if (!err->message[0])
            snprintf(err->message, sizeof err->message, "error");
        return -1;
    }
    return 0;
}

int mr_scenario_load(const char *path, const mr_scenario_limits *lim, mr_scenario *out,
                     char *msg, size_t msglen)
{
    size_t max = lim && lim->max_file ? lim->max_file : (size_t)16 << 20, len = 0, cap = 0;
    uint8_t *buf = NULL;
    mr_scenario_error e;
    FILE *f;
    int rc;
    memset(out, 0, sizeof *out);
    f = fopen(path, "rb");
    if (!f) {
        if (msg && msglen)
            snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb;
            if (ncap > max + 1)
                ncap = max + 1;
            if (ncap <= len) /* more than max: the reader says so */
                break;
            nb = realloc(buf, ncap);
            if (!nb) {
                fclose(f);
                free(buf);
                if (msg && msglen)
                    snprintf(msg, msglen, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int en = errno;
        fclose(f);
        free(buf);
        if (msg && msglen)
            snprintf(msg, msglen, "%s: %s", path, strerror(en ? en : EIO));
        return -1;
    }
    fclose(f);
    rc = mr_scenario_read(buf, len, path, lim, out, &e);
    free(buf);
    if (rc != 0 && msg && msglen)
        snprintf(msg, msglen, "%s:%u:%u: %s", path, e.line, e.col, e.message);
    return rc;
}

static void free_tmpl(mr_sc_tmpl *t)
{
    for (size_t i = 0; i < t->nparts; i++) {
        free(t->parts[i].bytes);
        free(t->parts[i].name);
    }
    free(t->parts);
}

void mr_scenario_free(mr_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrules; i++) {
        mr_sc_rule *r = &s->rules[i];
        for (size_t j = 0; j < r->nacts; j++) {
            free_tmpl(&r->acts[j].text);
            free(r->acts[j].split);
        }
        free(r->acts);
        if (r->has_match)
            regfree(&r->match);
        free(r->match_src);
        free(r->command);
        free(r->save);
    }
    free(s->rules);
    for (size_t i = 0; i < s->nexpects; i++) {
        mr_sc_expect *e = &s->expects[i];
        for (size_t j = 0; j < e->npats; j++) {
            if (e->pats[j].has_re)
                regfree(&e->pats[j].re);
            free(e->pats[j].command);
            free(e->pats[j].src);
        }
        free(e->pats);
        free(e->folder);
        free(e->flag);
        free(e->text);
    }
    free(s->expects);
    free(s->file);
    free(s->name);
    free(s->protocol);
    free(s->description);
    free(s->rfc);
    free(s->tags);
    free(s->tls);
    free(s->cert);
    free(s->user);
    free(s->password);
    free(s->mailbox);
    free(s->needs);
    memset(s, 0, sizeof *s);
}

const char *mr_sc_act_name(mr_sc_act a)
{
    static const char *const names[] = {"send",  "repeat", "default",    "error",
                                        "delay", "stall",  "close",      "reset",
                                        "half-close", "starttls", "tls-close", "tls-alert"};
    return (unsigned)a < sizeof names / sizeof *names ? names[a] : "?";
}

const char *mr_sc_expect_name(mr_sc_expect_kind k)
{
    static const char *const names[] = {"send",      "no-send",      "order",    "close-within",
                                        "silent-after", "exit",      "output",   "no-output",
                                        "memory-below", "messages",  "flag",     "no-flag",
                                        "submitted"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}
