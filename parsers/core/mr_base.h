/*
 * mr_base.h - the parts every line-based response parser is built from.
 *
 * A parser (POP3, SMTP, and IMAP to come) embeds an mr_parser_base as its
 * first member: resolved options, the per-response store, the line reader
 * and the queue of commands awaiting a response.  mr_base_new() and
 * mr_base_free() allocate and release the whole parser through the
 * caller's allocator.  Internal to the parsers.
 */
#ifndef MR_BASE_H
#define MR_BASE_H

#include "mr_core.h"
#include "mr_linereader.h"
#include "mr_pending.h"
#include "mr_store.h"

typedef struct mr_parser_base {
    mr_options opt;     /* resolved: every limit set, allocator never NULL */
    mr_store st;        /* lines, arena and diagnostics of the current response */
    mr_linereader lr;
    mr_pending pend;    /* commands sent and not yet answered */
} mr_parser_base;

/*
 * Allocate a zeroed parser of `size` bytes whose first member is an
 * mr_parser_base, and set that up from opt (NULL: lenient, defaults).
 * NULL when the allocator fails.
 */
void *mr_base_new(const mr_options *opt, size_t size);

/* Release what mr_base_new() set up, and the parser itself. NULL is a no-op. */
void mr_base_free(void *parser);

#endif /* MR_BASE_H */
