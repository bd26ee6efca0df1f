/*
 * mr_testutil.h - helpers shared by the C unit tests (header-only).
 *
 *   mr_sbuf         a growable string for serialising results to compare
 *   mr_guard_copy   put bytes right before a PROT_NONE page, so a read one
 *                   byte past the end faults even without ASan
 *                   (picohttpparser's trick)
 *   mr_fail_alloc   an allocator that fails the Nth allocation and counts
 *                   bytes in use, for failmalloc loops and peak-memory checks
 *   mr_cut_*        the chunkings an input is fed in (whole, pieces of
 *                   1..17 bytes, two pieces cut at every position), and
 *                   the check that each gives the whole input's result
 */
#ifndef MR_TESTUTIL_H
#define MR_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/mr_core.h"
#include "mr_testalloc.h"

typedef struct mr_sbuf {
    char *s;
    size_t len, cap;
} mr_sbuf;

static inline void mr_sb_add(mr_sbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        if (!b->s)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}

static inline void mr_sb_printf(mr_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void mr_sb_printf(mr_sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if ((size_t)n < sizeof tmp) {
        mr_sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    mr_sb_add(b, big, (size_t)n);
    free(big);
}

/* Bytes shown with C escapes, for readable diffs. */
static inline void mr_sb_bytes(mr_sbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\r')
            mr_sb_add(b, "\\r", 2);
        else if (c == '\n')
            mr_sb_add(b, "\\n", 2);
        else if (c == '\\' || c == '|')
            mr_sb_printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            mr_sb_printf(b, "\\x%02x", c);
        else
            mr_sb_add(b, &c, 1);
    }
}

static inline void mr_sb_span(mr_sbuf *b, mr_span s) { mr_sb_bytes(b, s.ptr, s.len); }

/* A label (as is), then a span's bytes (escaped): " kw=" "FETCH". */
static inline void mr_sb_field(mr_sbuf *b, const char *label, mr_span s)
{
    mr_sb_add(b, label, strlen(label));
    mr_sb_span(b, s);
}

static inline void mr_sb_free(mr_sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

/* A region whose end touches a PROT_NONE page. */
typedef struct mr_guard {
    uint8_t *base;
    size_t size; /* usable bytes */
    size_t page;
} mr_guard;

static inline void mr_guard_init(mr_guard *g, size_t max)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->size = (max + g->page - 1) / g->page * g->page;
    if (g->size == 0)
        g->size = g->page;
    g->base = mmap(NULL, g->size + g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED)
        abort();
    if (mprotect(g->base + g->size, g->page, PROT_NONE) != 0)
        abort();
}

/* Copy n bytes so that they end exactly at the guard page. */
static inline const uint8_t *mr_guard_copy(mr_guard *g, const void *p, size_t n)
{
    if (n > g->size)
        abort();
    uint8_t *dst = g->base + g->size - n;
    if (n)
        memcpy(dst, p, n);
    return dst;
}

/* Scribble over the region, so that pointers kept into it show up as garbage. */
static inline void mr_guard_scribble(mr_guard *g) { memset(g->base, 'Z', g->size); }

static inline void mr_guard_free(mr_guard *g) { munmap(g->base, g->size + g->page); }

/* An allocator that fails the fail_at-th call (1-based; 0 = never) and
 * tracks usage (common/mr_testalloc.h). */
typedef mr_test_alloc mr_fail_alloc;

static inline void mr_fail_alloc_init(mr_fail_alloc *f, size_t fail_at)
{
    mr_test_alloc_init(f, fail_at, 0);
}

/*
 * Chunkings.  A chunking is (piece, split): piece 0 feeds the input whole,
 * piece k in pieces of k bytes, piece MR_CUT_AT in two pieces cut at split.
 */
#define MR_CUT_AT SIZE_MAX

/* The length of the piece that starts at pos, of an input of n bytes. */
static inline size_t mr_cut_len(size_t n, size_t pos, size_t piece, size_t split)
{
    if (piece == MR_CUT_AT)
        return pos < split ? split - pos : n - pos;
    return piece && piece < n - pos ? piece : n - pos;
}

/*
 * The chunkings after the whole one, for an input of n bytes: start with
 * piece = split = 0; each call steps to the next, 0 after the last.
 *     for (size_t piece = 0, split = 0; mr_cut_next(n, &piece, &split);)
 */
static inline int mr_cut_next(size_t n, size_t *piece, size_t *split)
{
    if (*piece < 17) {
        ++*piece;
        return 1;
    }
    *piece = MR_CUT_AT;
    return ++*split < n;
}

/* Fail unless got (a chunking's result; freed here) is the whole input's. */
static inline void mr_cut_check(const char *whole, char *got, size_t piece, size_t split)
{
    if (strcmp(got, whole) != 0) {
        if (piece == MR_CUT_AT)
            fail_msg("split at %zu differs:\nwhole: %s\nthis:  %s", split, whole, got);
        fail_msg("piece %zu differs:\nwhole: %s\nthis:  %s", piece, whole, got);
    }
    free(got);
}

#endif /* MR_TESTUTIL_H */
