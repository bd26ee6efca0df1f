/*
 * mr_pending.c - ring buffer of commands awaiting a response.
 */
#include "mr_pending.h"

#include <string.h>

void mr_pending_init(mr_pending *p, const mr_allocator *alloc, size_t max)
{
    memset(p, 0, sizeof *p);
    p->alloc = alloc;
    p->max = max;
}

void mr_pending_cleanup(mr_pending *p)
{
    if (p->q)
        p->alloc->free(p->q, p->alloc->ud);
    p->q = NULL;
    p->head = p->n = p->cap = 0;
}

void mr_pending_clear(mr_pending *p) { p->head = p->n = 0; }

int mr_pending_push(mr_pending *p, uint8_t kind)
{
    if (p->n >= p->max)
        return MR_E_TOO_MANY_PENDING;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        uint8_t *nq = p->alloc->alloc(ncap, p->alloc->ud);
        if (!nq)
            return MR_E_NO_MEMORY;
        for (size_t i = 0; i < p->n; i++)
            nq[i] = p->q[(p->head + i) % p->cap];
        if (p->q)
            p->alloc->free(p->q, p->alloc->ud);
        p->q = nq;
        p->cap = ncap;
        p->head = 0;
    }
    p->q[(p->head + p->n) % p->cap] = kind;
    p->n++;
    return 0;
}

int mr_pending_peek(const mr_pending *p, uint8_t *kind)
{
    if (p->n == 0)
        return 0;
    *kind = p->q[p->head];
    return 1;
}

void mr_pending_pop(mr_pending *p)
{
    if (p->n == 0)
        return;
    p->head = (p->head + 1) % p->cap;
    p->n--;
}
