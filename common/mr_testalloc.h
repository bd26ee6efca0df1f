/*
 * mr_testalloc.h - a counting allocator that can fail, for the unit tests
 * (tests/unit/mr_testutil.h) and the fuzz targets (fuzz/mr_fuzz.c); not
 * part of the library.  Header-only.
 *
 * It records the bytes in use and their peak (each block carries its size
 * in a 16-byte header, which keeps the block aligned for any type), and
 * fails call number fail_at (1-based; 0: never) - only that one, or, with
 * sticky, every call from then on.  Pass &x.a as mr_options.alloc.
 */
#ifndef MR_TESTALLOC_H
#define MR_TESTALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mr_core.h"

typedef struct mr_test_alloc {
    mr_allocator a;
    size_t calls;   /* alloc and realloc calls so far */
    size_t fail_at; /* the call that fails (1-based), 0 never */
    int sticky;     /* 1: every call from fail_at on fails */
    size_t failed;  /* calls that failed */
    size_t in_use, peak; /* bytes */
} mr_test_alloc;

typedef struct { size_t size; size_t pad; } mr_test_alloc_hdr;

static inline int mr_test_alloc_fails(mr_test_alloc *f)
{
    ++f->calls;
    if (f->fail_at && (f->calls == f->fail_at || (f->sticky && f->calls > f->fail_at))) {
        f->failed++;
        return 1;
    }
    return 0;
}

static inline void mr_test_alloc_count(mr_test_alloc *f, size_t old, size_t n)
{
    f->in_use = f->in_use - old + n;
    if (f->in_use > f->peak)
        f->peak = f->in_use;
}

static inline void *mr_test_alloc_alloc(size_t n, void *ud)
{
    mr_test_alloc *f = ud;
    mr_test_alloc_hdr *h;
    if (mr_test_alloc_fails(f) || n > SIZE_MAX - sizeof *h || !(h = malloc(sizeof *h + n)))
        return NULL;
    h->size = n;
    mr_test_alloc_count(f, 0, n);
    return h + 1;
}

static inline void mr_test_alloc_free(void *p, void *ud)
{
    mr_test_alloc *f = ud;
    mr_test_alloc_hdr *h;
    if (!p)
        return;
    h = (mr_test_alloc_hdr *)p - 1;
    f->in_use -= h->size;
    free(h);
}

static inline void *mr_test_alloc_realloc(void *p, size_t n, void *ud)
{
    mr_test_alloc *f = ud;
    mr_test_alloc_hdr *h, *nh;
    size_t old;
    if (!p)
        return mr_test_alloc_alloc(n, ud);
    if (mr_test_alloc_fails(f) || n > SIZE_MAX - sizeof *h)
        return NULL;
    h = (mr_test_alloc_hdr *)p - 1;
    old = h->size;
    if (!(nh = realloc(h, sizeof *nh + n)))
        return NULL;
    nh->size = n;
    mr_test_alloc_count(f, old, n);
    return nh + 1;
}

static inline void mr_test_alloc_init(mr_test_alloc *f, size_t fail_at, int sticky)
{
    memset(f, 0, sizeof *f);
    f->a.alloc = mr_test_alloc_alloc;
    f->a.realloc = mr_test_alloc_realloc;
    f->a.free = mr_test_alloc_free;
    f->a.ud = f;
    f->fail_at = fail_at;
    f->sticky = sticky;
}

#endif /* MR_TESTALLOC_H */
