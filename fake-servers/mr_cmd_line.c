/*
 * mr_cmd_line.c - the command-line, DATA and BDAT readers of
 * mr_cmd_line.h (RFC 1939 3, RFC 5321 2.3.8, 4.1.1.4, 4.5.2, 4.5.3.1.4,
 * RFC 3030 2).  libc only.
 */
#include "mr_cmd_line.h"

#include <string.h>

static const char *const err_names[] = {
#define MR_CMDLINE_XX(n, s) #n,
    MR_CMDLINE_ERRORS(MR_CMDLINE_XX)
#undef MR_CMDLINE_XX
};

static const char *const err_reasons[] = {
#define MR_CMDLINE_XX(n, s) s,
    MR_CMDLINE_ERRORS(MR_CMDLINE_XX)
#undef MR_CMDLINE_XX
};

const char *mr_cmdline_err_name(mr_cmdline_err e)
{
    return (unsigned)e < MR_CMDLINE_E__COUNT ? err_names[e] : "?";
}

const char *mr_cmdline_err_reason(mr_cmdline_err e)
{
    return (unsigned)e < MR_CMDLINE_E__COUNT ? err_reasons[e] : "unknown error";
}

void mr_cmdline_init(mr_cmdline_reader *r, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->max_line = max_line < 3 ? 3 : max_line;
}

void mr_cmdline_reset(mr_cmdline_reader *r)
{
    r->scanned = 0;
    r->discarding = 0;
}

static int error_unit(mr_cmdline *out, const uint8_t *p, size_t line_len, size_t consumed,
                      mr_cmdline_err e, size_t off, int ended)
{
    out->line = p;
    out->line_len = line_len;
    out->consumed = consumed;
    out->err = e;
    out->err_off = off;
    out->line_ended = ended;
    return MR_CMDLINE_ERROR;
}

int mr_cmdline_read(mr_cmdline_reader *r, const uint8_t *p, size_t n, unsigned flags, mr_cmdline *out)
{
    memset(out, 0, sizeof *out);
    out->line = p;
    out->args = p;
    if (n == 0)
        return MR_CMDLINE_MORE;

    if (r->discarding) {
        const uint8_t *lf = memchr(p, '\n', n);
        if (!lf)
            return error_unit(out, p, n, n, MR_CMDLINE_E_DISCARD, 0, 0);
        r->discarding = 0;
        size_t c = (size_t)(lf - p) + 1;
        return error_unit(out, p, c - 1, c, MR_CMDLINE_E_DISCARD, 0, 1);
    }

    size_t limit = n < r->max_line ? n : r->max_line;
    if (r->scanned > limit) /* the caller broke the contract; start over */
        r->scanned = 0;
    const uint8_t *lf = memchr(p + r->scanned, '\n', limit - r->scanned);
    if (!lf) {
        if (n < r->max_line) {
            r->scanned = limit;
            return MR_CMDLINE_MORE;
        }
        /* Over the bound: drop what is here, through the LF if it came. */
        r->scanned = 0;
        const uint8_t *lf2 = n > limit ? memchr(p + limit, '\n', n - limit) : NULL;
        if (lf2) {
            size_t c = (size_t)(lf2 - p) + 1;
            size_t ll = c - 1 - (c >= 2 && p[c - 2] == '\r');
            return error_unit(out, p, ll, c, MR_CMDLINE_E_TOO_LONG, r->max_line, 1);
        }
        r->discarding = 1;
        return error_unit(out, p, n, n, MR_CMDLINE_E_TOO_LONG, r->max_line, 0);
    }
    r->scanned = 0;

    size_t i = (size_t)(lf - p);
    size_t len = i;
    if (i > 0 && p[i - 1] == '\r')
        len = i - 1;
    else
        out->bare_lf = 1;
    out->consumed = i + 1;
    out->line_len = len;

    const uint8_t *nul = memchr(p, 0, len);
    if (nul)
        return error_unit(out, p, len, i + 1, MR_CMDLINE_E_NUL, (size_t)(nul - p), 1);

    if (flags & MR_CMDLINE_RAW) {
        out->args = p;
        out->args_len = len;
        return MR_CMDLINE_UNIT;
    }
    if (len == 0)
        return error_unit(out, p, 0, i + 1, MR_CMDLINE_E_EMPTY, 0, 1);

    size_t v = 0;
    while (v < len && p[v] != ' ') {
        if (p[v] < 0x21 || p[v] > 0x7e)
            return error_unit(out, p, len, i + 1, MR_CMDLINE_E_VERB, v, 1);
        v++;
    }
    if (v == 0)
        return error_unit(out, p, len, i + 1, MR_CMDLINE_E_NO_VERB, 0, 1);
    if (v > MR_CMDLINE_VERB_MAX)
        return error_unit(out, p, len, i + 1, MR_CMDLINE_E_VERB_LONG, MR_CMDLINE_VERB_MAX, 1);
    for (size_t k = 0; k < v; k++) {
        uint8_t c = p[k];
        out->verb[k] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    out->verb[v] = 0;
    if (v < len) { /* p[v] is the space */
        out->args = p + v + 1;
        out->args_len = len - v - 1;
    } else {
        out->args = p + len;
        out->args_len = 0;
    }
    return MR_CMDLINE_UNIT;
}

/* ------------------------------------------------------------ DATA */

/* The scanner's states; D_BOL is the start of a line (after CRLF, or the
 * start of the data: RFC 5321 4.1.1.4 counts the CRLF of the DATA
 * command line as the first of the terminator's). */
enum { D_BOL = 0, D_MID, D_CR, D_DOT, D_DOTCR };

void mr_data_init(mr_data_reader *r, size_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

static void data_restart(mr_data_reader *r, mr_data_unit *u)
{
    u->bare_lf = r->bare_lf;
    u->bare_cr = r->bare_cr;
    u->eight_bit = r->eight_bit;
    size_t max = r->max;
    mr_data_init(r, max);
}

/* Scan p[from..n) from r->state; on the terminator's LF, *end = its index
 * and 1.  Counts bare LF/CR and 8-bit bytes. */
static int data_scan(mr_data_reader *r, const uint8_t *p, size_t from, size_t n, size_t *end)
{
    unsigned st = r->state;
    for (size_t i = from; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x80)
            r->eight_bit = 1;
        switch (st) {
        case D_MID:
        mid:
            if (c == '\r')
                st = D_CR;
            else if (c == '\n')
                r->bare_lf++;
            break;
        case D_BOL:
            if (c == '.')
                st = D_DOT;
            else {
                st = D_MID;
                goto mid;
            }
            break;
        case D_CR:
            if (c == '\n')
                st = D_BOL;
            else if (c != '\r') {
                r->bare_cr++;
                st = D_MID;
                goto mid;
            } else
                r->bare_cr++;
            break;
        case D_DOT:
            if (c == '\r')
                st = D_DOTCR;
            else {
                st = D_MID;
                goto mid;
            }
            break;
        case D_DOTCR:
            if (c == '\n') {
                r->state = D_BOL;
                *end = i;
                return 1;
            }
            r->bare_cr++;
            st = D_MID;
            goto mid;
        default:
            st = D_MID;
            break;
        }
    }
    r->state = st;
    return 0;
}

int mr_data_read(mr_data_reader *r, const uint8_t *p, size_t n, mr_data_unit *u)
{
    memset(u, 0, sizeof *u);
    size_t end;
    if (r->discarding) {
        if (n == 0)
            return MR_DATA_MORE;
        if (data_scan(r, p, 0, n, &end)) {
            u->consumed = end + 1;
            data_restart(r, u);
            return MR_DATA_TOO_BIG;
        }
        u->consumed = n;
        r->dropped += n;
        return MR_DATA_DISCARD;
    }
    if (r->scan > n) /* contract broken: start over */
        r->scan = 0, r->state = D_BOL;
    if (data_scan(r, p, r->scan, n, &end)) {
        /* p[end-2..end] is ".\r\n"; the message runs through the CRLF before. */
        u->consumed = end + 1;
        u->body = p;
        u->body_len = end - 2;
        int big = u->body_len > r->max;
        data_restart(r, u);
        return big ? MR_DATA_TOO_BIG : MR_DATA_END;
    }
    r->scan = n;
    /* No end in p[0..n): if n >= max + 3, a terminator starting at an
     * offset <= max would have been seen, so the message is over max. */
    if (n >= 3 && n - 3 >= r->max) {
        r->discarding = 1;
        r->scan = 0;
        r->dropped += n;
        u->consumed = n;
        return MR_DATA_DISCARD;
    }
    return MR_DATA_MORE;
}

size_t mr_data_unstuff(const uint8_t *body, size_t n, uint8_t *out)
{
    size_t o = 0;
    int bol = 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = body[i];
        if (bol && c == '.') {
            bol = 0;
            continue;
        }
        out[o++] = c;
        bol = c == '\n' && i > 0 && body[i - 1] == '\r';
    }
    return o;
}

/* ------------------------------------------------------------ BDAT */

int mr_bdat_parse(const uint8_t *args, size_t len, uint64_t *size, int *last)
{
    size_t i = 0;
    uint64_t v = 0;
    *size = 0;
    *last = 0;
    while (i < len && args[i] >= '0' && args[i] <= '9') {
        if (v > (UINT64_C(1) << 63) / 10)
            return -1;
        v = v * 10 + (uint64_t)(args[i] - '0');
        if (v > (UINT64_C(1) << 63))
            return -1;
        i++;
    }
    if (i == 0)
        return -1;
    if (i < len) {
        static const char kw[] = " LAST";
        if (len - i != 5)
            return -1;
        for (size_t k = 0; k < 5; k++) {
            uint8_t c = args[i + k];
            if (c >= 'a' && c <= 'z')
                c = (uint8_t)(c - 'a' + 'A');
            if (c != (uint8_t)kw[k])
                return -1;
        }
        *last = 1;
    }
    *size = v;
    return 0;
}

int mr_bdat_dropping(const mr_bdat_reader *r) { return r->left > 0; }

int mr_bdat_read(mr_bdat_reader *r, const uint8_t *p, size_t n, size_t hdr_len, uint64_t size,
                 uint64_t budget, mr_bdat_unit *u)
{
    memset(u, 0, sizeof *u);
    if (r->left) {
        if (n == 0)
            return MR_BDAT_MORE;
        size_t take = (uint64_t)n < r->left ? n : (size_t)r->left;
        r->left -= take;
        u->consumed = take;
        return r->left ? MR_BDAT_DISCARD : MR_BDAT_TOO_BIG;
    }
    if (hdr_len > n || hdr_len == 0)
        return MR_BDAT_MORE;
    size_t avail = n - hdr_len;
    if (size <= budget) {
        if ((uint64_t)avail < size)
            return MR_BDAT_MORE;
        u->chunk = p + hdr_len;
        u->chunk_len = (size_t)size;
        u->consumed = hdr_len + (size_t)size;
        return MR_BDAT_CHUNK;
    }
    /* Over budget: drop what is here, and the rest as it comes. */
    size_t take = (uint64_t)avail < size ? avail : (size_t)size;
    r->left = size - take;
    u->consumed = hdr_len + take;
    return r->left ? MR_BDAT_DISCARD : MR_BDAT_TOO_BIG;
}
