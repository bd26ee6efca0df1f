/*
 * mr_imap_testutil.h - the IMAP side of the unit-test harness, shared by
 * test_imap.c, test_imap_data.c and test_imap_fetch.c (header-only).
 *
 *   mr_imap_feed       feed bytes to a parser in one chunking (see mr_cut_*
 *                      in mr_testutil.h), each piece right before a guard
 *                      page and scribbled over once consumed
 *   mr_imap_sb_diags   a response's strict-mode diagnostics, serialised
 */
#ifndef MR_IMAP_TESTUTIL_H
#define MR_IMAP_TESTUTIL_H

#include "imap/mr_imap.h"
#include "mr_testutil.h"

typedef void (*mr_imap_on_event)(void *ud, mr_event_type t, const mr_imap_event *ev);

/*
 * Feed in[0, n) to p in the chunking (piece, split), calling on_event (if
 * not NULL) with every event but NEED_MORE, up to the first fatal error.
 * Checks that mr_imap_next() never takes more than it is given and, short
 * of a fatal error, takes all of every piece.  Returns the fatal error's
 * code, or 0.  Does not call mr_imap_finish().
 */
static inline int mr_imap_feed(mr_imap_parser *p, const void *in, size_t n, size_t piece, size_t split,
                               mr_imap_on_event on_event, void *ud)
{
    mr_guard g;
    mr_guard_init(&g, n ? n : 1);
    int fatal = 0;
    for (size_t pos = 0; pos < n && !fatal;) {
        size_t k = mr_cut_len(n, pos, piece, split), off = 0, used;
        const uint8_t *buf = mr_guard_copy(&g, (const uint8_t *)in + pos, k);
        mr_imap_event ev;
        while (!fatal) {
            mr_event_type t = mr_imap_next(p, buf + off, k - off, &used, &ev);
            assert_true(used <= k - off);
            off += used;
            if (t == MR_EV_NEED_MORE) {
                assert_int_equal(off, k);
                break;
            }
            if (on_event)
                on_event(ud, t, &ev);
            if (t == MR_EV_ERROR && mr_errcode_is_fatal(ev.error.code))
                fatal = (int)ev.error.code;
        }
        mr_guard_scribble(&g);
        pos += k;
    }
    mr_guard_free(&g);
    return fatal;
}

/* " diag@offset{ref: message}" for each of r's diagnostics. */
static inline void mr_imap_sb_diags(mr_sbuf *b, const mr_imap_response *r)
{
    for (size_t i = 0; i < r->n_diags; i++)
        mr_sb_printf(b, " diag@%llu{%s: %s}", (unsigned long long)r->diags[i].offset, r->diags[i].ref,
                     r->diags[i].message);
}

#endif /* MR_IMAP_TESTUTIL_H */
