/*
 * mr_cursor.h - the bounded cursor every parser reads through.
 *
 * After BoringSSL's CBS: a cursor is a span that shrinks from the front as
 * it is read.  Every getter checks the length once, returns 1 on success
 * and 0 on failure, and leaves the cursor unchanged when it fails, so a
 * caller never does pointer arithmetic and cannot read out of bounds by
 * accident.  Character classes come from one 256-entry table
 * (mr_cclass), not from chains of comparisons per byte.
 *
 * Internal to mailrig (the parsers and the CLI); not installed as public API.
 */
#ifndef MR_CURSOR_H
#define MR_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mr_core.h"

typedef struct mr_cursor {
    const uint8_t *p;
    size_t len;
} mr_cursor;

/* Character classes, one bit each (see mr_cursor.c for the table). */
enum {
    MR_C_DIGIT = 1 << 0,  /* 0-9 */
    MR_C_ALPHA = 1 << 1,  /* A-Z a-z */
    MR_C_VCHAR = 1 << 2,  /* %x21-7E, visible ASCII */
    MR_C_SPACE = 1 << 3,  /* SP, HTAB */
    MR_C_RCHAR = 1 << 4,  /* RFC 2449 rchar: %x21-2E / %x30-5C / %x5E-7F */
    MR_C_B64 = 1 << 5,    /* A-Z a-z 0-9 + / */
    MR_C_KEYW = 1 << 6,   /* RFC 5321 ehlo-keyword chars: ALPHA DIGIT "-" */
    MR_C_TEXT = 1 << 7,   /* RFC 5321 textstring: HT, %d32-126 */
    MR_C_QPLAIN = 1 << 8, /* RFC 9051 9 QUOTED-CHAR needing no closer look:
                           * %x20-7E except DQUOTE and "\" */
    MR_C_APLAIN = 1 << 9  /* RFC 9051 9 atom bytes needing no closer look:
                           * %x21-7E except ( ) DQUOTE [ ] { ~ */
};
extern const uint16_t mr_cclass[256];

static inline int mr_is(uint8_t c, unsigned cls) { return (mr_cclass[c] & cls) != 0; }

static inline void mr_cur_init(mr_cursor *c, const uint8_t *p, size_t len)
{
    c->p = p;
    c->len = len;
}

static inline mr_cursor mr_cur_from_span(mr_span s)
{
    mr_cursor c = {s.ptr, s.len};
    return c;
}

static inline mr_span mr_cur_rest(const mr_cursor *c)
{
    mr_span s = {c->p, c->len};
    return s;
}

static inline size_t mr_cur_len(const mr_cursor *c) { return c->len; }
static inline int mr_cur_empty(const mr_cursor *c) { return c->len == 0; }

/* Peek the next byte without consuming it. */
static inline int mr_cur_peek(const mr_cursor *c, uint8_t *out)
{
    if (c->len == 0)
        return 0;
    *out = c->p[0];
    return 1;
}

/* 1 when the next byte is ch. */
static inline int mr_cur_next_is(const mr_cursor *c, uint8_t ch)
{
    return c->len > 0 && c->p[0] == ch;
}

static inline int mr_cur_get_u8(mr_cursor *c, uint8_t *out)
{
    if (c->len == 0)
        return 0;
    *out = c->p[0];
    c->p++;
    c->len--;
    return 1;
}

static inline int mr_cur_skip(mr_cursor *c, size_t n)
{
    if (c->len < n)
        return 0;
    c->p += n;
    c->len -= n;
    return 1;
}

/* Take exactly n bytes. */
static inline int mr_cur_get_span(mr_cursor *c, size_t n, mr_span *out)
{
    if (c->len < n)
        return 0;
    out->ptr = c->p;
    out->len = n;
    c->p += n;
    c->len -= n;
    return 1;
}

/* Consume ch if it is next. */
static inline int mr_cur_accept(mr_cursor *c, uint8_t ch)
{
    if (c->len == 0 || c->p[0] != ch)
        return 0;
    c->p++;
    c->len--;
    return 1;
}

/* Consume the literal lit (exact bytes) if it is next. */
int mr_cur_accept_str(mr_cursor *c, const char *lit);
/* Same, ASCII case-insensitive. */
int mr_cur_accept_str_ci(mr_cursor *c, const char *lit);

/* Take the longest run (maybe empty) of bytes in class cls; returns its length. */
size_t mr_cur_take_class(mr_cursor *c, unsigned cls, mr_span *out);

/* Take bytes up to (not including) the first ch; fails if ch does not occur. */
int mr_cur_take_until(mr_cursor *c, uint8_t ch, mr_span *out);

/* Skip SP and HTAB; returns how many were skipped.  Inline: the IMAP
 * parser calls it before every value. */
static inline size_t mr_cur_skip_space(mr_cursor *c)
{
    size_t i = 0;
    while (i < c->len && (c->p[i] == ' ' || c->p[i] == '\t'))
        i++;
    c->p += i;
    c->len -= i;
    return i;
}

/*
 * A decimal number of 1 or more digits that fits in uint64_t.  Fails (and
 * leaves the cursor unchanged) on no digit and on overflow:
 * 99999999999999999999 is an error, not a wrap-around.
 */
int mr_cur_get_u64(mr_cursor *c, uint64_t *out);

/* Exactly n digits (n <= 9). */
int mr_cur_get_digits(mr_cursor *c, size_t n, unsigned *out);

/* Take a run of non-space bytes (anything but SP and HTAB); fails when empty. */
int mr_cur_get_word(mr_cursor *c, mr_span *out);

/* Trim SP and HTAB from the end of a span. */
mr_span mr_span_rtrim(mr_span s);

/* Drop the CR and LF bytes that end a span (a command line as sent). */
mr_span mr_span_strip_eol(mr_span s);

#endif /* MR_CURSOR_H */
