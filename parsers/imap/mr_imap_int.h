/*
 * mr_imap_int.h - what the IMAP parser's files share (internal).
 *
 *   mr_imap.c        framing, the value-tree reader, response heads
 *                    (tag, keyword, resp-text, code brackets), events
 *   mr_imap_code.c   typed response codes (mr_imap_decode_code)
 *   mr_imap_data.c   typed untagged data other than FETCH
 *                    (mr_imap_decode_data), mailbox names, sequence sets
 *   mr_imap_fetch.c  FETCH items: ENVELOPE, BODYSTRUCTURE, date-time
 *   mr_imap_mutf7.c  modified UTF-7 (RFC 3501 5.1.3)
 *   mr_imap_print.c  the canonical printer
 *
 * The decoders read the value tree and fill typed structures allocated
 * in the response's store.  Each returns one of MR_IMAP_DEC_*: OK; BAD
 * when the tree does not have the shape its RFC gives (c->bad_offset and
 * c->bad_detail say where and what; the response is then delivered with
 * typed = 0 and a non-fatal MR_E_BAD_FIELD); NOMEM when the store refused
 * an allocation (c->st->err says why; fatal).  Lenient-mode acceptance of
 * a known server deviation records a diagnostic with mr_imap_diag() and
 * returns OK.
 */
#ifndef MR_IMAP_INT_H
#define MR_IMAP_INT_H

#include "../core/mr_cursor.h"
#include "../core/mr_store.h"
#include "mr_imap.h"

enum { MR_IMAP_DEC_OK = 0, MR_IMAP_DEC_BAD = 1, MR_IMAP_DEC_NOMEM = 2 };

typedef struct mr_imap_dctx {
    mr_store *st;            /* arena, limits, mode, diagnostics */
    int utf8;                /* mailbox names are UTF-8 (RFC 6855 3) */
    size_t depth;            /* current nesting (body structures), against st->lim.max_depth */
    uint64_t bad_offset;     /* set with MR_IMAP_DEC_BAD */
    const char *bad_detail;  /* static string */
} mr_imap_dctx;

/* Record a BAD result: offset of the offending value, static detail. */
static inline int mr_imap_bad(mr_imap_dctx *c, uint64_t offset, const char *detail)
{
    c->bad_offset = offset;
    c->bad_detail = detail;
    return MR_IMAP_DEC_BAD;
}

/* A strict-mode diagnostic (no-op in lenient mode). */
static inline void mr_imap_diag(mr_imap_dctx *c, uint64_t offset, const char *ref, const char *msg)
{
    mr_store_diag(c->st, offset, ref, msg);
}

/* Fill code->kind and the typed fields from name, args_text and args. */
int mr_imap_decode_code(mr_imap_dctx *c, mr_imap_code *code);

/* Fill r->u for every r->type except FETCH, OK..BYE, CONTINUE and OTHER,
 * from r->values[0..n_values).  Sets nothing else of r. */
int mr_imap_decode_data(mr_imap_dctx *c, mr_imap_response *r);

/* FETCH: v is the parenthesised list after "FETCH". */
int mr_imap_decode_fetch(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_fetch *out);

/* A mailbox (astring) -> name as UTF-8, per c->utf8; strict diag when not
 * valid modified UTF-7 / UTF-8. */
int mr_imap_decode_mailbox(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_mailbox *out);

/* A sequence set ("1:3,5,7:*") from an atom or number value. */
int mr_imap_decode_seqset(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_seqset *out);

/* Helpers for decoders (mr_imap.c). */
/* 1 when v is an atom or number whose text equals lit, ASCII case-insensitively. */
int mr_imap_value_is_atom(const mr_imap_value *v, const char *lit);
/* 1 when v is NIL (or NULL). */
int mr_imap_value_is_nil(const mr_imap_value *v);


/*
 * Shared by the decoders (mr_imap_code.c, mr_imap_data.c, mr_imap_fetch.c).
 * Each test of a value is 0 for NULL; NIL is mr_imap_value_is_nil().
 */
/* A parenthesised list. */
static inline int mr_imap_is_list(const mr_imap_value *v) { return v && v->type == MR_IMAP_V_LIST; }

/* ATOM or NUMBER: what an astring may be besides a string. */
static inline int mr_imap_is_atomic(const mr_imap_value *v)
{
    return v && (v->type == MR_IMAP_V_ATOM || v->type == MR_IMAP_V_NUMBER);
}

/* A string (QUOTED, LITERAL, LITERAL8), not an atom. */
static inline int mr_imap_is_string(const mr_imap_value *v) { return mr_imap_value_is_string(v, 0); }

/*
 * A zeroed array of n elements of size (> 0) bytes in the store; n == 0
 * gets one element, so that an empty array still has an address.  NULL,
 * with c->st->err set, when the store refuses it.
 */
static inline void *mr_imap_alloc_zero(mr_imap_dctx *c, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / size) {
        c->st->err = MR_E_MEMORY_LIMIT;
        return NULL;
    }
    void *p = mr_store_alloc(c->st, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

/* 1 when atoms[0..n) lists IMAP4rev2 or IMAP4rev1 (RFC 9051 9, capability-data). */
static inline int mr_imap_has_imap4rev(const mr_span *atoms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mr_span_eq_ci(atoms[i], "IMAP4rev1") || mr_span_eq_ci(atoms[i], "IMAP4rev2"))
            return 1;
    return 0;
}

#endif /* MR_IMAP_INT_H */
