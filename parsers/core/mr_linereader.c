/*
 * mr_linereader.c - incremental line framing (see mr_linereader.h).
 *
 * Invariant: lr->buf[0, lr->len) never contains LF except as its last byte
 * when buf_returned is set, so new bytes are the only ones ever scanned.
 */
#include "mr_linereader.h"

#include <string.h>

void mr_lr_init(mr_linereader *lr, const mr_allocator *alloc, size_t max_line)
{
    memset(lr, 0, sizeof *lr);
    lr->alloc = alloc;
    lr->max_line = max_line;
}

void mr_lr_cleanup(mr_linereader *lr)
{
    if (lr->buf)
        lr->alloc->free(lr->buf, lr->alloc->ud);
    lr->buf = NULL;
    lr->len = lr->cap = 0;
}

void mr_lr_reset(mr_linereader *lr)
{
    lr->len = 0;
    lr->buf_returned = 0;
    lr->replay = 0;
    lr->offset = 0;
}

size_t mr_lr_unread(mr_linereader *lr, const mr_line *line)
{
    if (line->in_input) {
        size_t n = line->len + line->eol;
        lr->offset -= n;
        return n;
    }
    lr->replay = 1;
    return 0;
}

size_t mr_lr_partial(const mr_linereader *lr) { return lr->buf_returned && !lr->replay ? 0 : lr->len; }

/* Room for max_line bytes of text plus CR LF. */
static int reserve(mr_linereader *lr, size_t need)
{
    if (need <= lr->cap)
        return 1;
    size_t cap = lr->cap ? lr->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > lr->max_line + 2 && need <= lr->max_line + 2)
        cap = lr->max_line + 2;
    uint8_t *nb = lr->alloc->realloc(lr->buf, cap, lr->alloc->ud);
    if (!nb)
        return 0;
    lr->buf = nb;
    lr->cap = cap;
    return 1;
}

static void make_line(mr_line *out, const uint8_t *start, size_t n_with_lf, uint64_t offset, int in_input)
{
    size_t text = n_with_lf - 1;
    uint8_t eol = 1;
    if (text > 0 && start[text - 1] == '\r') {
        text--;
        eol = 2;
    }
    out->ptr = start;
    out->len = text;
    out->offset = offset;
    out->eol = eol;
    out->in_input = (uint8_t)in_input;
}

mr_lr_result mr_lr_next(mr_linereader *lr, const uint8_t *data, size_t len, size_t *used,
                        mr_line *out, mr_error *err)
{
    *used = 0;
    if (lr->replay) {
        lr->replay = 0;
        make_line(out, lr->buf, lr->len, lr->offset - lr->len, 0);
        return MR_LR_LINE;
    }
    if (lr->buf_returned) {
        lr->len = 0;
        lr->buf_returned = 0;
    }
    /* Fed a byte at a time, a call to memchr() and one to memcpy() were
     * most of the cost of a call (make bench, mailrig-1): one byte is
     * looked at and copied inline. */
    const uint8_t *lf = len == 1 ? (data[0] == '\n' ? data : NULL)
                        : len ? memchr(data, '\n', len) : NULL;
    size_t take = lf ? (size_t)(lf - data) + 1 : len;
    /* The text may be max_line bytes, then CR LF; without an LF yet, a
     * trailing CR may still belong to the line end. */
    size_t total = lr->len + take;
    size_t text_len = total;
    if (lf) {
        text_len = total - 1;
        if (text_len > 0 && (take >= 2 ? data[take - 2] : lr->buf[lr->len - 1]) == '\r')
            text_len--;
    } else if (total > 0 && data && take > 0 && data[take - 1] == '\r') {
        text_len = total - 1;
    }
    if (text_len > lr->max_line) {
        err->code = MR_E_LINE_TOO_LONG;
        err->offset = lr->offset - lr->len + lr->max_line;
        err->detail = "no line end within limits.max_line bytes";
        return MR_LR_ERROR;
    }
    if (lr->len == 0 && lf) {
        /* Whole line in the input: zero copy. */
        make_line(out, data, take, lr->offset, 1);
        lr->offset += take;
        *used = take;
        return MR_LR_LINE;
    }
    if (take > 0) {
        if (!reserve(lr, total)) {
            err->code = MR_E_NO_MEMORY;
            err->offset = lr->offset;
            err->detail = "line buffer";
            return MR_LR_ERROR;
        }
        if (take == 1)
            lr->buf[lr->len] = data[0];
        else
            memcpy(lr->buf + lr->len, data, take);
        lr->len = total;
        lr->offset += take;
        *used = take;
    }
    if (!lf)
        return MR_LR_MORE;
    make_line(out, lr->buf, lr->len, lr->offset - lr->len, 0);
    lr->buf_returned = 1;
    return MR_LR_LINE;
}
