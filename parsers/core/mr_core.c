/*
 * mr_core.c - error table, default limits, default allocator, span helpers.
 */
#include "mr_core.h"

#include <stdlib.h>
#include <string.h>

static const char *const err_names[] = {
#define MR_XX_NAME(name, fatal, reason) #name,
    MR_ERROR_MAP(MR_XX_NAME)
#undef MR_XX_NAME
};

static const char *const err_reasons[] = {
#define MR_XX_REASON(name, fatal, reason) reason,
    MR_ERROR_MAP(MR_XX_REASON)
#undef MR_XX_REASON
};

static const unsigned char err_fatal[] = {
#define MR_XX_FATAL(name, fatal, reason) fatal,
    MR_ERROR_MAP(MR_XX_FATAL)
#undef MR_XX_FATAL
};

const char *mr_errcode_name(mr_errcode code)
{
    return (unsigned)code < MR_E__COUNT ? err_names[code] : "UNKNOWN";
}

const char *mr_errcode_reason(mr_errcode code)
{
    return (unsigned)code < MR_E__COUNT ? err_reasons[code] : "unknown error code";
}

int mr_errcode_is_fatal(mr_errcode code)
{
    return (unsigned)code < MR_E__COUNT ? err_fatal[code] : 1;
}

const char *mr_event_type_name(mr_event_type t)
{
    switch (t) {
    case MR_EV_NEED_MORE: return "need-more";
    case MR_EV_RESPONSE: return "response";
    case MR_EV_BODY_CHUNK: return "body-chunk";
    case MR_EV_ERROR: return "error";
    }
    return "unknown";
}

void mr_limits_resolve(mr_limits *l)
{
    if (!l->max_line) l->max_line = MR_DEFAULT_MAX_LINE;
    if (!l->max_lines) l->max_lines = MR_DEFAULT_MAX_LINES;
    if (!l->max_body) l->max_body = MR_DEFAULT_MAX_BODY;
    if (!l->max_memory) l->max_memory = MR_DEFAULT_MAX_MEMORY;
    if (!l->stream_threshold) l->stream_threshold = MR_DEFAULT_STREAM_THRESHOLD;
    if (!l->max_pending) l->max_pending = MR_DEFAULT_MAX_PENDING;
    if (!l->max_diags) l->max_diags = MR_DEFAULT_MAX_DIAGS;
    if (!l->max_depth) l->max_depth = MR_DEFAULT_MAX_DEPTH;
    /* The typed decoders recurse once per level: keep the stack bounded. */
    if (l->max_depth > MR_MAX_DEPTH_CAP) l->max_depth = MR_MAX_DEPTH_CAP;
    if (!l->max_items) l->max_items = MR_DEFAULT_MAX_ITEMS;
}

static void *std_alloc(size_t n, void *ud) { (void)ud; return malloc(n); }
static void *std_realloc(void *p, size_t n, void *ud) { (void)ud; return realloc(p, n); }
static void std_free(void *p, void *ud) { (void)ud; free(p); }

static const mr_allocator std_allocator = {std_alloc, std_realloc, std_free, NULL};

const mr_allocator *mr_default_allocator(void) { return &std_allocator; }

int mr_span_eq(mr_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

int mr_span_eq_ci(mr_span s, const char *lit)
{
    /* One pass, no strlen(): most calls compare a keyword against a table
     * and differ at the first byte. */
    size_t i = 0;
    for (; i < s.len; i++) {
        unsigned char a = s.ptr[i], b = (unsigned char)lit[i];
        if (b == 0)
            return 0;
        /* For a letter b, a | 0x20 equals b | 0x20 only when a is b in
         * either case; other bytes must be equal. */
        unsigned char lb = (unsigned char)(b | 0x20);
        if (lb >= 'a' && lb <= 'z' ? (unsigned char)(a | 0x20) != lb : a != b)
            return 0;
    }
    return lit[i] == 0;
}
