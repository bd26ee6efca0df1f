/*
 * mr_store.h - per-response storage shared by the parsers.
 *
 * A parser keeps the lines of the response it is assembling, the typed
 * results it decodes, and its strict-mode diagnostics here.  Lines stay
 * where they are (zero copy) while they lie in the caller's buffer; when a
 * feed ends before the response does, mr_store_pin() copies the lines that
 * still point into the caller's buffer into the arena, each line at most
 * once, so the total copying stays linear in the input.
 *
 * limits.max_memory bounds the logical size of a response: the bytes of
 * its kept lines, its line table, its decoded fields and diagnostics.  That
 * size does not depend on how the input was chunked (a line counts the same
 * whether it stayed in the caller's buffer or was copied), so neither does
 * MR_E_MEMORY_LIMIT.  Physical use (arena chunks, vector capacity, copies
 * made by pinning) stays within a small factor of it.  limits.max_lines
 * bounds the kept lines.  A failed allocation sets store->err to
 * MR_E_MEMORY_LIMIT, MR_E_TOO_MANY_LINES or MR_E_NO_MEMORY and the caller
 * turns that into a fatal error.
 *
 * Internal to the parsers.
 */
#ifndef MR_STORE_H
#define MR_STORE_H

#include "mr_core.h"

struct mr_chunk;

typedef struct mr_store {
    const mr_allocator *alloc;
    mr_limits lim;              /* resolved: no zero fields */
    mr_mode mode;
    mr_errcode err;             /* why the last allocation failed */

    struct mr_chunk *chunks;    /* arena, newest chunk first */
    size_t arena_bytes;         /* bytes held by arena chunks */
    size_t logical;             /* logical size of the response, against max_memory */

    mr_line *lines;             /* lines of the current response */
    size_t n_lines, cap_lines;
    size_t pinned;              /* lines [0, pinned) no longer point into input */

    mr_diag *diags;             /* strict-mode diagnostics of the current response */
    size_t n_diags, cap_diags, diags_dropped;
} mr_store;

/*
 * Grow a vector so that it holds at least `need` elements of `elem` bytes
 * (capacity doubles, starting at 16).  0 when the allocator fails or the
 * size would overflow; the vector is then unchanged.  For the parsers'
 * own vectors (lines, diagnostics, IMAP tags, literals, the value stack).
 */
int mr_vec_grow(const mr_allocator *a, void **vec, size_t *cap, size_t elem, size_t need);

/* Resolves opt's limits; 0 on success, else an mr_errcode. */
int mr_store_init(mr_store *s, const mr_options *opt);
void mr_store_cleanup(mr_store *s);

/* Forget the current response: lines, diagnostics and arena (one chunk is kept). */
void mr_store_reset(mr_store *s);

/* Bytes held now (arena + vectors): physical use, for reports. */
size_t mr_store_memory(const mr_store *s);

/* Count n bytes of the response against max_memory. 0 (and s->err) when over.
 * Inline: the IMAP parser counts every value it makes. */
static inline int mr_store_count(mr_store *s, size_t n)
{
    if (n > s->lim.max_memory || s->logical > s->lim.max_memory - n) {
        s->err = MR_E_MEMORY_LIMIT;
        return 0;
    }
    s->logical += n;
    return 1;
}

/* Arena allocation, counted; 8-byte aligned, valid until mr_store_reset(). NULL + s->err on failure. */
void *mr_store_alloc(mr_store *s, size_t n);
/* Copy n bytes into the arena, counted. */
const uint8_t *mr_store_dup(mr_store *s, const void *p, size_t n);
/* Copy n bytes already counted (a line moved out of the caller's buffer). */
const uint8_t *mr_store_copy(mr_store *s, const void *p, size_t n);

/*
 * Append a line.  A line whose in_input is 0 lives in a buffer the parser
 * reuses (the line reader's), so it is copied into the arena now; one with
 * in_input 1 is kept as a pointer until mr_store_pin().  Fails with
 * MR_E_TOO_MANY_LINES past limits.max_lines.
 */
int mr_store_push_line(mr_store *s, const mr_line *line);

/*
 * Append a line whose bytes were counted already with mr_store_count():
 * with in_input 1 it points into the caller's buffer and is copied by
 * mr_store_pin(); with in_input 0 it already lies in the arena (see
 * mr_store_reserve()) and is kept as it is.  Used for IMAP literals, whose
 * size is known, and counted, before their bytes arrive.
 */
int mr_store_push_counted(mr_store *s, const mr_line *line);

/* Arena space for bytes counted already (NULL + s->err on failure). */
void *mr_store_reserve(mr_store *s, size_t n);

/* Copy every line that still points into the caller's buffer. 1 ok, 0 failure. */
int mr_store_pin(mr_store *s);

/* Copy one line (text and line end) into the arena if it points into input. */
int mr_store_pin_line(mr_store *s, mr_line *line);

/* Record a diagnostic; a no-op in lenient mode. Past max_diags only counted. */
void mr_store_diag(mr_store *s, uint64_t offset, const char *ref, const char *message);

#endif /* MR_STORE_H */
