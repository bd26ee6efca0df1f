/*
 * mr_pending.h - the queue of commands awaiting a response.
 *
 * POP3 (RFC 2449 6.6) and SMTP (RFC 2920) clients may pipeline: several
 * commands are sent before the first response is read.  How a response is
 * framed (POP3: single- or multi-line) or decoded (SMTP: EHLO keywords)
 * depends on the command it answers, which the caller tells the parser by
 * pushing it here; responses take them off in order.  Bounded by
 * limits.max_pending.  Internal to the parsers.
 */
#ifndef MR_PENDING_H
#define MR_PENDING_H

#include "mr_core.h"

typedef struct mr_pending {
    const mr_allocator *alloc;
    size_t max;
    uint8_t *q;        /* ring of command kinds */
    size_t head, n, cap;
} mr_pending;

void mr_pending_init(mr_pending *p, const mr_allocator *alloc, size_t max);
void mr_pending_cleanup(mr_pending *p);
void mr_pending_clear(mr_pending *p);
/* 0 on success, else MR_E_TOO_MANY_PENDING or MR_E_NO_MEMORY. */
int mr_pending_push(mr_pending *p, uint8_t kind);
/* The oldest command, without removing it; 0 when none is pending. */
int mr_pending_peek(const mr_pending *p, uint8_t *kind);
void mr_pending_pop(mr_pending *p);
static inline size_t mr_pending_count(const mr_pending *p) { return p->n; }

#endif /* MR_PENDING_H */
