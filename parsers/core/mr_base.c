/*
 * mr_base.c - setting up and releasing the parts shared by the parsers.
 */
#include "mr_base.h"

#include <string.h>

void *mr_base_new(const mr_options *opt, size_t size)
{
    mr_options o;
    memset(&o, 0, sizeof o);
    if (opt)
        o = *opt;
    if (!o.alloc)
        o.alloc = mr_default_allocator();
    mr_limits_resolve(&o.limits);
    mr_parser_base *b = o.alloc->alloc(size, o.alloc->ud);
    if (!b)
        return NULL;
    memset(b, 0, size);
    b->opt = o;
    mr_store_init(&b->st, &o);
    mr_lr_init(&b->lr, o.alloc, o.limits.max_line);
    mr_pending_init(&b->pend, o.alloc, o.limits.max_pending);
    return b;
}

void mr_base_free(void *parser)
{
    mr_parser_base *b = parser;
    if (!b)
        return;
    mr_store_cleanup(&b->st);
    mr_lr_cleanup(&b->lr);
    mr_pending_cleanup(&b->pend);
    b->opt.alloc->free(b, b->opt.alloc->ud);
}
