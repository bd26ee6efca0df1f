/*
 * mr_store.c - per-response arena, line vector and diagnostics (see mr_store.h).
 */
#include "mr_store.h"

#include <string.h>

struct mr_chunk {
    struct mr_chunk *next;
    size_t cap, used;
    /* data follows, 16-byte aligned */
};

#define CHUNK_HDR ((sizeof(struct mr_chunk) + 15) & ~(size_t)15)
#define FIRST_CHUNK 4096
#define MAX_CHUNK (256 * 1024) /* growth stops here, so the arena wastes little */

int mr_store_init(mr_store *s, const mr_options *opt)
{
    memset(s, 0, sizeof *s);
    if (opt) {
        s->lim = opt->limits;
        s->mode = opt->mode;
        s->alloc = opt->alloc;
    }
    if (!s->alloc)
        s->alloc = mr_default_allocator();
    mr_limits_resolve(&s->lim);
    return 0;
}

static void free_chunks(mr_store *s, struct mr_chunk *c)
{
    while (c) {
        struct mr_chunk *n = c->next;
        s->arena_bytes -= c->cap + CHUNK_HDR;
        s->alloc->free(c, s->alloc->ud);
        c = n;
    }
}

void mr_store_cleanup(mr_store *s)
{
    free_chunks(s, s->chunks);
    s->chunks = NULL;
    if (s->lines)
        s->alloc->free(s->lines, s->alloc->ud);
    if (s->diags)
        s->alloc->free(s->diags, s->alloc->ud);
    s->lines = NULL;
    s->diags = NULL;
    s->cap_lines = s->cap_diags = 0;
}

void mr_store_reset(mr_store *s)
{
    /* Keep the largest chunk up to MAX_CHUNK, free the rest: a session of
     * responses of similar size then reuses one chunk instead of getting
     * fresh memory from malloc for each (which the C library had given
     * back to the kernel: page faults were a fifth of a POP3 session fed
     * in 4 KB reads, make bench).  At most MAX_CHUNK stays held. */
    struct mr_chunk *keep = NULL, **link = &s->chunks, **keep_link = NULL;
    for (struct mr_chunk *c = s->chunks; c; link = &c->next, c = c->next)
        if (c->cap <= MAX_CHUNK && (!keep || c->cap > keep->cap)) {
            keep = c;
            keep_link = link;
        }
    if (keep) {
        *keep_link = keep->next; /* unlink it, free the others */
        keep->used = 0;
        keep->next = NULL;
    }
    free_chunks(s, s->chunks);
    s->chunks = keep;
    /* A vector that grew for one huge response is given back. */
    if (s->cap_lines > 4096) {
        s->alloc->free(s->lines, s->alloc->ud);
        s->lines = NULL;
        s->cap_lines = 0;
    }
    s->n_lines = s->pinned = 0;
    s->n_diags = s->diags_dropped = 0;
    s->logical = 0;
    s->err = MR_E_OK;
}

size_t mr_store_memory(const mr_store *s)
{
    return s->arena_bytes + s->cap_lines * sizeof(mr_line) + s->cap_diags * sizeof(mr_diag);
}

/* Arena memory, not counted: callers count what they store. */
static void *arena_alloc(mr_store *s, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct mr_chunk *c = s->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = FIRST_CHUNK;
        if (c) /* grow geometrically up to MAX_CHUNK */
            cap = c->cap < MAX_CHUNK ? c->cap * 2 : MAX_CHUNK;
        while (cap < n)
            cap *= 2;
        c = s->alloc->alloc(cap + CHUNK_HDR, s->alloc->ud);
        if (!c) {
            s->err = MR_E_NO_MEMORY;
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        c->next = s->chunks;
        s->chunks = c;
        s->arena_bytes += cap + CHUNK_HDR;
    }
    void *p = (uint8_t *)c + CHUNK_HDR + c->used;
    c->used += n;
    return p;
}

void *mr_store_alloc(mr_store *s, size_t n)
{
    if (!mr_store_count(s, (n + 7) & ~(size_t)7))
        return NULL;
    return arena_alloc(s, n);
}

const uint8_t *mr_store_copy(mr_store *s, const void *p, size_t n)
{
    uint8_t *d = arena_alloc(s, n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

const uint8_t *mr_store_dup(mr_store *s, const void *p, size_t n)
{
    if (!mr_store_count(s, n))
        return NULL;
    return mr_store_copy(s, p, n);
}

int mr_vec_grow(const mr_allocator *a, void **vec, size_t *cap, size_t elem, size_t need)
{
    if (need <= *cap)
        return 1;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return 0;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return 0;
    void *nv = a->realloc(*vec, ncap * elem, a->ud);
    if (!nv)
        return 0;
    *vec = nv;
    *cap = ncap;
    return 1;
}

/* Grow a store vector; its elements are counted by the caller, not its capacity. */
static int grow(mr_store *s, void **vec, size_t *cap, size_t elem, size_t need)
{
    if (need <= *cap) /* the usual case, once per line: no call */
        return 1;
    if (mr_vec_grow(s->alloc, vec, cap, elem, need))
        return 1;
    s->err = MR_E_NO_MEMORY;
    return 0;
}

int mr_store_pin_line(mr_store *s, mr_line *line)
{
    if (!line->in_input)
        return 1;
    const uint8_t *copy = mr_store_copy(s, line->ptr, line->len + line->eol);
    if (!copy)
        return 0;
    line->ptr = copy;
    line->in_input = 0;
    return 1;
}

int mr_store_push_line(mr_store *s, const mr_line *line)
{
    if (s->n_lines >= s->lim.max_lines) {
        s->err = MR_E_TOO_MANY_LINES;
        return 0;
    }
    if (!mr_store_count(s, line->len + line->eol + sizeof(mr_line)))
        return 0;
    if (!grow(s, (void **)&s->lines, &s->cap_lines, sizeof(mr_line), s->n_lines + 1))
        return 0;
    mr_line *l = &s->lines[s->n_lines];
    *l = *line;
    if (!l->in_input) {
        /* It lives in a buffer the parser reuses: copy it now. */
        l->in_input = 1;
        if (!mr_store_pin_line(s, l))
            return 0;
    }
    s->n_lines++;
    return 1;
}

int mr_store_push_counted(mr_store *s, const mr_line *line)
{
    if (s->n_lines >= s->lim.max_lines) {
        s->err = MR_E_TOO_MANY_LINES;
        return 0;
    }
    if (!grow(s, (void **)&s->lines, &s->cap_lines, sizeof(mr_line), s->n_lines + 1))
        return 0;
    s->lines[s->n_lines++] = *line;
    return 1;
}

void *mr_store_reserve(mr_store *s, size_t n) { return arena_alloc(s, n ? n : 1); }

int mr_store_pin(mr_store *s)
{
    while (s->pinned < s->n_lines) {
        mr_line *first = &s->lines[s->pinned];
        if (!first->in_input || !first->ptr) {
            if (!mr_store_pin_line(s, first))
                return 0;
            s->pinned++;
            continue;
        }
        /* Lines back to back in the caller's buffer (a body fed in reads
         * of a few KB: all of it) go in one copy, not one per line: with
         * 4 KB reads, a copy per line was most of the cost of a POP3 RETR
         * (make bench, mailrig-4k). */
        const uint8_t *base = first->ptr, *end = base + first->len + first->eol;
        size_t j = s->pinned + 1;
        while (j < s->n_lines && s->lines[j].in_input && s->lines[j].ptr == end) {
            end += s->lines[j].len + s->lines[j].eol;
            j++;
        }
        size_t n = (size_t)(end - base);
        uint8_t *d = arena_alloc(s, n ? n : 1);
        if (!d)
            return 0;
        if (n)
            memcpy(d, base, n);
        for (size_t k = s->pinned; k < j; k++) {
            s->lines[k].ptr = d + (s->lines[k].ptr - base);
            s->lines[k].in_input = 0;
        }
        s->pinned = j;
    }
    return 1;
}

void mr_store_diag(mr_store *s, uint64_t offset, const char *ref, const char *message)
{
    if (s->mode != MR_STRICT)
        return;
    if (s->n_diags >= s->lim.max_diags || !mr_store_count(s, sizeof(mr_diag)) ||
        !grow(s, (void **)&s->diags, &s->cap_diags, sizeof(mr_diag), s->n_diags + 1)) {
        s->diags_dropped++;
        s->err = MR_E_OK; /* a dropped diagnostic is counted, not an error */
        return;
    }
    s->diags[s->n_diags].offset = offset;
    s->diags[s->n_diags].ref = ref;
    s->diags[s->n_diags].message = message;
    s->n_diags++;
}
