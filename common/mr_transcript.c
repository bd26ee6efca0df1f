/*
 * mr_transcript.c - the transcript reader and writer (docs/transcript.md).
 *
 * The reader walks the buffer line by line (memchr for LF) and decodes
 * each line into an item.  Decoded segment bytes go into one growing byte
 * pool and event/metadata strings into one string pool, so a transcript
 * with a million segments costs three allocations, not a million; items
 * record offsets while the pools may still move and get pointers at the
 * end.  A "+" line appends to the last segment, whose bytes are always
 * the tail of the byte pool (nothing else writes to it in between).
 *
 * Every failure goes through fail(): line, column and a message; nothing
 * is allocated on the error path that is not released before returning.
 */
#include "mr_transcript.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mr_utf8.h"

#if defined(__GNUC__) || defined(__clang__)
#define MR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MR_PRINTF(a, b)
#endif

static const char *const known_events[] = {"tls", "close", "client-close", "reset", "timeout"};

/* The header line, exactly. */
static const char header_prefix[] = "# mailrig transcript ";

/* Longest TIME token the reader accepts ("0.001311" is 8). */
#define MAX_TIME_CHARS 40

/* ---------------------------------------------------------------- pools */

typedef struct pool {
    uint8_t *p;
    size_t len, cap;
} pool;

/* Make room for extra more bytes.  0 on success, -1 when out of memory. */
static int pool_reserve(pool *b, size_t extra)
{
    size_t need, cap;
    uint8_t *np;
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -1;
    need = b->len + extra;
    cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    np = realloc(b->p, cap);
    if (!np)
        return -1;
    b->p = np;
    b->cap = cap;
    return 0;
}

/* ---------------------------------------------------------------- reader */

/* An item while reading: offsets into the pools, which may still move. */
typedef struct build_item {
    mr_transcript_item_kind kind;
    size_t line;
    char dir;
    int has_time;
    double time;
    size_t boff, blen;       /* SEGMENT: bytes in the byte pool */
    size_t name_off, val_off; /* EVENT, META: strings in the string pool */
} build_item;

typedef struct reader {
    mr_transcript_limits lim;
    mr_transcript_error *err;
    size_t lineno;
    pool bytes, strs;
    build_item *items;
    size_t n_items, cap_items;
    int can_continue; /* the last item is a segment: a "+" line may follow */
} reader;

static MR_PRINTF(3, 4) int fail(reader *r, size_t col, const char *fmt, ...)
{
    va_list ap;
    r->err->line = r->lineno;
    r->err->col = col;
    va_start(ap, fmt);
    vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* A byte as a message shows it: 'x' when printable, else 0xHH. */
static const char *show_byte(uint8_t c, char buf[8])
{
    if (c > 0x20 && c < 0x7F)
        snprintf(buf, 8, "'%c'", (char)c);
    else
        snprintf(buf, 8, "0x%02X", (unsigned)c);
    return buf;
}

static int is_space(uint8_t c) { return c == ' ' || c == '\t'; }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_ctl(uint8_t c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

static size_t skip_space(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && is_space(p[i]))
        i++;
    return i;
}

/* Error on the first control byte (other than HTAB) in p[from..n). */
static int check_no_ctl(reader *r, const uint8_t *p, size_t n, size_t from, const char *where)
{
    for (size_t i = from; i < n; i++) {
        if (is_ctl(p[i]))
            return fail(r, i + 1, "control byte 0x%02X in %s", (unsigned)p[i], where);
    }
    return 0;
}

static int new_item(reader *r, mr_transcript_item_kind kind, build_item **out)
{
    build_item *it;
    if (r->n_items >= r->lim.max_items)
        return fail(r, 1, "more than %zu items (segments, events and metadata lines)",
                    r->lim.max_items);
    if (r->n_items == r->cap_items) {
        size_t cap = r->cap_items ? r->cap_items * 2 : 64;
        build_item *ni;
        if (cap > SIZE_MAX / sizeof *ni)
            return fail(r, 1, "out of memory");
        ni = realloc(r->items, cap * sizeof *ni);
        if (!ni)
            return fail(r, 1, "out of memory");
        r->items = ni;
        r->cap_items = cap;
    }
    it = &r->items[r->n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = r->lineno;
    *out = it;
    r->can_continue = kind == MR_TRANSCRIPT_SEGMENT;
    return 0;
}

/* Copy p[0..n) and a NUL into the string pool; *off gets where. */
static int add_string(reader *r, const uint8_t *p, size_t n, size_t *off)
{
    if (n == SIZE_MAX || pool_reserve(&r->strs, n + 1) < 0)
        return fail(r, 1, "out of memory");
    *off = r->strs.len;
    if (n)
        memcpy(r->strs.p + r->strs.len, p, n);
    r->strs.p[r->strs.len + n] = 0;
    r->strs.len += n + 1;
    return 0;
}

/*
 * TIME at p[*i] (a digit): digits, optionally "." and digits, then SP,
 * HTAB or the end of the line.  Advances *i past it.
 */
static int parse_time(reader *r, const uint8_t *p, size_t n, size_t *i, double *t)
{
    size_t start = *i, j = *i;
    char buf[MAX_TIME_CHARS + 1];
    while (j < n && is_digit(p[j]))
        j++;
    if (j < n && p[j] == '.') {
        size_t frac = ++j;
        while (j < n && is_digit(p[j]))
            j++;
        if (j == frac)
            return fail(r, start + 1, "bad time: expected seconds such as 0.001311");
    }
    if (j < n && !is_space(p[j]))
        return fail(r, start + 1, "bad time: expected seconds such as 0.001311");
    if (j - start > MAX_TIME_CHARS)
        return fail(r, start + 1, "time is longer than %d characters", MAX_TIME_CHARS);
    memcpy(buf, p + start, j - start);
    buf[j - start] = 0;
    *t = strtod(buf, NULL);
    *i = j;
    return 0;
}

/*
 * The quoted string at p[*i] (a '"'), decoded onto the end of the byte
 * pool; *decoded gets how many bytes it added.  Advances *i past the
 * closing quote.
 */
static int parse_string(reader *r, const uint8_t *p, size_t n, size_t *i, size_t *decoded)
{
    size_t open = *i, q = *i + 1;
    uint8_t *out;
    size_t k = 0;
    char sb[8];

    /* Decoded bytes never outnumber the source bytes.  One more, so that
     * the pool exists even for a string cut at the line end ("S \""):
     * no arithmetic on a null pointer below. */
    if (pool_reserve(&r->bytes, n - q + 1) < 0)
        return fail(r, open + 1, "out of memory");
    out = r->bytes.p + r->bytes.len;
    while (q < n) {
        uint8_t c = p[q];
        if (c == '"') {
            r->bytes.len += k;
            *decoded = k;
            *i = q + 1;
            return 0;
        }
        if (c == '\\') {
            uint8_t e;
            if (q + 1 >= n)
                return fail(r, q + 1, "'\\' at the end of the line (the string has no closing quote)");
            e = p[q + 1];
            switch (e) {
            case 'r': out[k++] = '\r'; break;
            case 'n': out[k++] = '\n'; break;
            case 't': out[k++] = '\t'; break;
            case '0': out[k++] = 0; break;
            case '\\': out[k++] = '\\'; break;
            case '"': out[k++] = '"'; break;
            case 'x': {
                int v = 0;
                for (size_t h = q + 2; h < q + 4; h++) {
                    uint8_t d = h < n ? p[h] : 0;
                    int dv;
                    if (d >= '0' && d <= '9') dv = d - '0';
                    else if (d >= 'a' && d <= 'f') dv = d - 'a' + 10;
                    else if (d >= 'A' && d <= 'F') dv = d - 'A' + 10;
                    else
                        return fail(r, q + 1, "\\x must be followed by two hex digits");
                    v = v * 16 + dv;
                }
                out[k++] = (uint8_t)v;
                q += 2;
                break;
            }
            default:
                if (e > 0x20 && e < 0x7F)
                    return fail(r, q + 1,
                                "unknown escape '\\%c' (known: \\r \\n \\t \\0 \\\\ \\\" \\xHH)",
                                (char)e);
                return fail(r, q + 1,
                            "unknown escape: '\\' followed by byte 0x%02X (known: \\r \\n \\t "
                            "\\0 \\\\ \\\" \\xHH)",
                            (unsigned)e);
            }
            q += 2;
            continue;
        }
        if (c < 0x20 || c == 0x7F)
            return fail(r, q + 1,
                        "raw control byte %s in a string (write it as \\r, \\n, \\t, \\0 or \\xHH)",
                        show_byte(c, sb));
        out[k++] = c;
        q++;
    }
    return fail(r, open + 1, "the string starting here has no closing quote");
}

/* After a string: only white space may follow. */
static int expect_end(reader *r, const uint8_t *p, size_t n, size_t i)
{
    i = skip_space(p, n, i);
    if (i < n)
        return fail(r, i + 1, "unexpected text after the closing quote");
    return 0;
}

/*
 * The head shared by segment and event lines: the kind letter p[0], one or
 * more spaces, an optional TIME and the spaces after it.  Leaves *i at what
 * follows.
 */
static int parse_head(reader *r, const uint8_t *p, size_t n, size_t *i, int *has_time, double *t)
{
    *i = 1;
    *has_time = 0;
    *t = 0;
    if (*i >= n || !is_space(p[*i]))
        return fail(r, 2, "expected a space after '%c'", (char)p[0]);
    *i = skip_space(p, n, *i);
    if (*i < n && is_digit(p[*i])) {
        if (parse_time(r, p, n, i, t) < 0)
            return -1;
        *has_time = 1;
        *i = skip_space(p, n, *i);
    }
    return 0;
}

/* "S [TIME] "BYTES"" and "C [TIME] "BYTES"". */
static int parse_segment(reader *r, const uint8_t *p, size_t n)
{
    size_t i, len;
    build_item *it;
    int has_time;
    double t;
    char dir = (char)p[0];

    if (parse_head(r, p, n, &i, &has_time, &t) < 0)
        return -1;
    if (i >= n || p[i] != '"')
        return fail(r, i + 1, has_time ? "expected a quoted string after the time"
                                        : "expected a time or a quoted string");
    if (new_item(r, MR_TRANSCRIPT_SEGMENT, &it) < 0)
        return -1;
    it->dir = dir;
    it->has_time = has_time;
    it->time = t;
    it->boff = r->bytes.len;
    if (parse_string(r, p, n, &i, &len) < 0)
        return -1;
    it->blen = len;
    return expect_end(r, p, n, i);
}

/* "+ "BYTES"": more bytes of the segment above. */
static int parse_continuation(reader *r, const uint8_t *p, size_t n)
{
    size_t i = 1, len;
    if (!r->can_continue)
        return fail(r, 1, "a '+' line must follow an S, C or '+' line");
    if (i >= n || !is_space(p[i]))
        return fail(r, 2, "expected a space after '+'");
    i = skip_space(p, n, i);
    if (i >= n || p[i] != '"')
        return fail(r, i + 1, "expected a quoted string (a '+' line has no time)");
    if (parse_string(r, p, n, &i, &len) < 0)
        return -1;
    r->items[r->n_items - 1].blen += len;
    return expect_end(r, p, n, i);
}

/* "E [TIME] EVENT [ARGS]". */
static int parse_event(reader *r, const uint8_t *p, size_t n)
{
    size_t i, name_start, name_end, args_start, args_end;
    build_item *it;
    int has_time, known = 0;
    double t;
    char sb[8];

    if (parse_head(r, p, n, &i, &has_time, &t) < 0)
        return -1;
    if (i >= n)
        return fail(r, i + 1, "missing event name (one of: %s)", MR_TRANSCRIPT_EVENTS);
    name_start = i;
    if (!(p[i] >= 'a' && p[i] <= 'z'))
        return fail(r, i + 1, "bad event name: expected one of: %s", MR_TRANSCRIPT_EVENTS);
    while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || is_digit(p[i]) || p[i] == '-'))
        i++;
    if (i < n && !is_space(p[i]))
        return fail(r, i + 1, "bad character %s in event name", show_byte(p[i], sb));
    name_end = i;
    for (size_t k = 0; k < sizeof known_events / sizeof known_events[0]; k++) {
        size_t kl = strlen(known_events[k]);
        if (kl == name_end - name_start && memcmp(known_events[k], p + name_start, kl) == 0)
            known = 1;
    }
    if (!known)
        return fail(r, name_start + 1, "unknown event '%.*s' (known: %s)",
                    (int)(name_end - name_start > 40 ? 40 : name_end - name_start),
                    (const char *)p + name_start, MR_TRANSCRIPT_EVENTS);
    args_start = skip_space(p, n, i);
    args_end = n;
    while (args_end > args_start && is_space(p[args_end - 1]))
        args_end--;
    if (check_no_ctl(r, p, args_end, args_start, "event arguments") < 0)
        return -1;
    if (new_item(r, MR_TRANSCRIPT_EVENT, &it) < 0)
        return -1;
    it->has_time = has_time;
    it->time = t;
    if (add_string(r, p + name_start, name_end - name_start, &it->name_off) < 0)
        return -1;
    return add_string(r, p + args_start, args_end - args_start, &it->val_off);
}

static int is_key_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '-' || c == '.';
}

/* "# key: value" is metadata; any other "#" line is a comment. */
static int parse_hash(reader *r, const uint8_t *p, size_t n)
{
    size_t i, key_start, key_end, val_start, val_end;
    build_item *it;

    if (check_no_ctl(r, p, n, 0, "a comment") < 0)
        return -1;
    i = skip_space(p, n, 1);
    key_start = i;
    while (i < n && is_key_char(p[i]))
        i++;
    key_end = i;
    if (key_end == key_start || i >= n || p[i] != ':' || (i + 1 < n && !is_space(p[i + 1])))
        return 0; /* a comment */
    val_start = skip_space(p, n, i + 1);
    val_end = n;
    while (val_end > val_start && is_space(p[val_end - 1]))
        val_end--;
    if (new_item(r, MR_TRANSCRIPT_META, &it) < 0)
        return -1;
    if (add_string(r, p + key_start, key_end - key_start, &it->name_off) < 0)
        return -1;
    return add_string(r, p + val_start, val_end - val_start, &it->val_off);
}

static int parse_header(reader *r, const uint8_t *p, size_t n, int *version)
{
    size_t pl = sizeof header_prefix - 1, i;
    unsigned long v = 0;
    if (n < pl || memcmp(p, header_prefix, pl) != 0)
        return fail(r, 1, "not a mailrig transcript: the first line must be \"# mailrig transcript %d\"",
                    MR_TRANSCRIPT_VERSION);
    for (i = pl; i < n && is_digit(p[i]) && v < 1000000; i++)
        v = v * 10 + (unsigned long)(p[i] - '0');
    if (i == pl || i != n)
        return fail(r, (i == pl ? pl : i) + 1,
                    "bad version: the first line must be \"# mailrig transcript %d\"",
                    MR_TRANSCRIPT_VERSION);
    if (v != MR_TRANSCRIPT_VERSION)
        return fail(r, pl + 1, "unsupported transcript version %lu (this reader knows %d)", v,
                    MR_TRANSCRIPT_VERSION);
    *version = (int)v;
    return 0;
}

static int parse_line(reader *r, const uint8_t *p, size_t n)
{
    char sb[8];
    if (n == 0)
        return 0;
    switch (p[0]) {
    case '#': return parse_hash(r, p, n);
    case 'S':
    case 'C': return parse_segment(r, p, n);
    case '+': return parse_continuation(r, p, n);
    case 'E': return parse_event(r, p, n);
    case ' ':
    case '\t':
        if (skip_space(p, n, 0) == n)
            return 0; /* blank */
        return fail(r, 1, "a line must not start with white space");
    default:
        return fail(r, 1, "unknown line type %s: expected S, C, +, E or #", show_byte(p[0], sb));
    }
}

static void reader_free(reader *r)
{
    free(r->bytes.p);
    free(r->strs.p);
    free(r->items);
}

int mr_transcript_read(const uint8_t *data, size_t len, const mr_transcript_limits *lim,
                       mr_transcript *out, mr_transcript_error *err)
{
    reader r;
    size_t pos = 0;
    int version = 0;
    mr_transcript_item *items = NULL;

    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    memset(&r, 0, sizeof r);
    if (lim)
        r.lim = *lim;
    if (!r.lim.max_size) r.lim.max_size = MR_TRANSCRIPT_DEFAULT_MAX_SIZE;
    if (!r.lim.max_line) r.lim.max_line = MR_TRANSCRIPT_DEFAULT_MAX_LINE;
    if (!r.lim.max_items) r.lim.max_items = MR_TRANSCRIPT_DEFAULT_MAX_ITEMS;
    r.err = err;

    if (len > r.lim.max_size) {
        r.lineno = 0;
        fail(&r, 0, "the file is larger than %zu bytes", r.lim.max_size);
        return -1;
    }
    if (len == 0) {
        r.lineno = 1;
        fail(&r, 1, "empty file: the first line must be \"# mailrig transcript %d\"",
             MR_TRANSCRIPT_VERSION);
        return -1;
    }
    while (pos < len) {
        const uint8_t *line = data + pos;
        const uint8_t *lf = memchr(line, '\n', len - pos);
        size_t n = lf ? (size_t)(lf - line) : len - pos;
        int rc;
        r.lineno++;
        pos += n + (lf ? 1 : 0);
        if (n > r.lim.max_line) {
            fail(&r, r.lim.max_line + 1, "line is longer than %zu bytes", r.lim.max_line);
            goto fail;
        }
        if (n > 0 && line[n - 1] == '\r')
            n--;
        rc = r.lineno == 1 ? parse_header(&r, line, n, &version) : parse_line(&r, line, n);
        if (rc < 0)
            goto fail;
    }

    if (r.n_items) {
        items = calloc(r.n_items, sizeof *items);
        if (!items) {
            fail(&r, 1, "out of memory");
            goto fail;
        }
    }
    for (size_t k = 0; k < r.n_items; k++) {
        const build_item *b = &r.items[k];
        mr_transcript_item *it = &items[k];
        it->kind = b->kind;
        it->line = b->line;
        it->dir = b->dir;
        it->has_time = b->has_time;
        it->time = b->time;
        if (b->kind == MR_TRANSCRIPT_SEGMENT) {
            it->bytes = b->blen ? r.bytes.p + b->boff : NULL;
            it->len = b->blen;
        } else {
            it->name = (const char *)r.strs.p + b->name_off;
            it->value = (const char *)r.strs.p + b->val_off;
        }
    }
    free(r.items);
    out->items = items;
    out->n_items = r.n_items;
    out->version = version;
    out->bytes_pool_ = r.bytes.p;
    out->str_pool_ = (char *)r.strs.p;
    return 0;

fail:
    reader_free(&r);
    return -1;
}

void mr_transcript_cleanup(mr_transcript *t)
{
    if (!t)
        return;
    free(t->items);
    free(t->bytes_pool_);
    free(t->str_pool_);
    memset(t, 0, sizeof *t);
}

const char *mr_transcript_meta(const mr_transcript *t, const char *key,
                               const mr_transcript_item **item)
{
    for (size_t i = 0; i < t->n_items; i++) {
        const mr_transcript_item *it = &t->items[i];
        if (it->kind == MR_TRANSCRIPT_META && strcmp(it->name, key) == 0) {
            if (item)
                *item = it;
            return it->value;
        }
    }
    return NULL;
}

uint8_t *mr_transcript_concat(const mr_transcript *t, char dir, size_t *len)
{
    size_t total = 0, at = 0;
    uint8_t *buf;
    *len = 0;
    for (size_t i = 0; i < t->n_items; i++)
        if (t->items[i].kind == MR_TRANSCRIPT_SEGMENT && t->items[i].dir == dir)
            total += t->items[i].len; /* bounded by the file size */
    if (total == 0)
        return NULL;
    buf = malloc(total);
    if (!buf)
        return NULL;
    for (size_t i = 0; i < t->n_items; i++) {
        const mr_transcript_item *it = &t->items[i];
        if (it->kind == MR_TRANSCRIPT_SEGMENT && it->dir == dir && it->len) {
            memcpy(buf + at, it->bytes, it->len);
            at += it->len;
        }
    }
    *len = total;
    return buf;
}

/* ---------------------------------------------------------------- writer */

static int valid_time(double time) { return !isnan(time) && time >= 0; }

int mr_transcript_write_header(FILE *f, const char *protocol)
{
    fprintf(f, "%s%d\n", header_prefix, MR_TRANSCRIPT_VERSION);
    if (protocol && mr_transcript_write_meta(f, "protocol", protocol) < 0)
        return -1;
    return ferror(f) ? -1 : 0;
}

int mr_transcript_write_meta(FILE *f, const char *key, const char *value)
{
    size_t kl = strlen(key);
    if (kl == 0)
        return -1;
    for (size_t i = 0; i < kl; i++)
        if (!is_key_char((uint8_t)key[i]))
            return -1;
    for (const char *v = value; *v; v++)
        if (is_ctl((uint8_t)*v))
            return -1;
    fprintf(f, "# %s: %s\n", key, value);
    return ferror(f) ? -1 : 0;
}

/* The escaped form of one byte, or NULL when it stands for itself. */
static const char *escape_byte(uint8_t c, char buf[5])
{
    switch (c) {
    case '\r': return "\\r";
    case '\n': return "\\n";
    case '\t': return "\\t";
    case 0: return "\\0";
    case '\\': return "\\\\";
    case '"': return "\\\"";
    default: break;
    }
    if (c < 0x20 || c >= 0x7F) {
        snprintf(buf, 5, "\\x%02x", (unsigned)c);
        return buf;
    }
    return NULL;
}

int mr_transcript_write_segment(FILE *f, char dir, double time, const uint8_t *bytes, size_t len)
{
    size_t i = 0, col = 0; /* col: escaped bytes on the current line */
    char eb[5];

    if (dir != 'S' && dir != 'C')
        return -1;
    if (valid_time(time) && time >= 1e12)
        return -1;
    if (valid_time(time)) {
        fprintf(f, "%c %.6f \"", dir, time);
    } else {
        fprintf(f, "%c \"", dir);
    }
    while (i < len) {
        size_t n = 1, w;
        const char *esc = NULL;
        uint8_t c = bytes[i];
        if (c >= 0x80) {
            if (!mr_utf8_next(bytes + i, len - i, &n)) {
                n = 1;
                esc = escape_byte(c, eb);
            }
        } else {
            esc = escape_byte(c, eb);
        }
        w = esc ? strlen(esc) : n;
        if (col > 0 && col + w > MR_TRANSCRIPT_WRAP) {
            fputs("\"\n+ \"", f);
            col = 0;
        }
        if (esc)
            fputs(esc, f);
        else
            fwrite(bytes + i, 1, n, f);
        col += w;
        i += n;
        if (c == '\n' && i < len) {
            fputs("\"\n+ \"", f);
            col = 0;
        }
    }
    fputs("\"\n", f);
    return ferror(f) ? -1 : 0;
}

int mr_transcript_write_event(FILE *f, double time, const char *name, const char *args)
{
    int known = 0;
    for (size_t k = 0; k < sizeof known_events / sizeof known_events[0]; k++)
        if (strcmp(known_events[k], name) == 0)
            known = 1;
    if (!known)
        return -1;
    if (args)
        for (const char *a = args; *a; a++)
            if (is_ctl((uint8_t)*a))
                return -1;
    if (valid_time(time) && time >= 1e12)
        return -1;
    fputc('E', f);
    if (valid_time(time))
        fprintf(f, " %.6f", time);
    fprintf(f, " %s", name);
    if (args && *args)
        fprintf(f, " %s", args);
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}
