/*
 * mr_linereader.h - incremental line framing, shared by the parsers.
 *
 * Splits a byte stream fed in any chunking into lines ending in LF (CRLF
 * or, leniently, bare LF; RFC 1939 3, RFC 5321 2.3.8).  A line that lies
 * whole in the bytes given is returned as a pointer into them (in_input =
 * 1).  A line cut by the end of a feed is kept in the reader's own buffer,
 * and when the rest arrives only the new bytes are scanned for LF: feeding
 * byte by byte costs the same scanning as feeding the whole stream, never a
 * re-scan from the start of the line.  The buffer is bounded by
 * limits.max_line, so a peer that never sends LF gets MR_E_LINE_TOO_LONG,
 * reported at the first byte past the bound.
 *
 * Internal to the parsers.
 */
#ifndef MR_LINEREADER_H
#define MR_LINEREADER_H

#include "mr_core.h"

typedef struct mr_linereader {
    const mr_allocator *alloc;
    size_t max_line;
    uint8_t *buf;         /* partial line, or the last line returned from it */
    size_t len, cap;
    int buf_returned;     /* buf holds a line already returned: drop it on the next call */
    int replay;           /* return the line in buf again on the next call (mr_lr_unread) */
    uint64_t offset;      /* stream offset of the next byte to be fed */
} mr_linereader;

typedef enum mr_lr_result {
    MR_LR_MORE = 0, /* every byte consumed; a partial line (if any) is kept */
    MR_LR_LINE,     /* *out is a complete line */
    MR_LR_ERROR     /* *err says why; the reader is unusable until reset */
} mr_lr_result;

void mr_lr_init(mr_linereader *lr, const mr_allocator *alloc, size_t max_line);
void mr_lr_cleanup(mr_linereader *lr);
void mr_lr_reset(mr_linereader *lr);

/*
 * Take the next line from data.  *used is set to the bytes consumed.  The
 * line is valid until the next call to mr_lr_next() or mr_lr_reset(), and,
 * when in_input is 1, for as long as the caller keeps data.
 */
mr_lr_result mr_lr_next(mr_linereader *lr, const uint8_t *data, size_t len, size_t *used,
                        mr_line *out, mr_error *err);

/*
 * Give back the line the last mr_lr_next() returned, so that the next call
 * returns it again.  A line in the caller's input is given back as bytes:
 * the return value is how many, and the caller must feed them again.  A
 * line from the reader's buffer is replayed from there (returns 0).  A
 * parser uses this to stop in front of a line without keeping a pointer
 * into input the caller may release after the call.
 */
size_t mr_lr_unread(mr_linereader *lr, const mr_line *line);

/*
 * The fast path of a parser fed in small pieces: when a line is already
 * being kept (an earlier feed ended inside it) and data holds no LF, fits
 * the buffer and stays within max_line, append it and return 1; else
 * return 0 and change nothing (the caller takes the general path through
 * mr_lr_next(), which reaches the same state).  Inline: for a feed of one
 * byte, the call is most of the cost.
 */
static inline int mr_lr_absorb(mr_linereader *lr, const uint8_t *data, size_t len)
{
    if (lr->len == 0 || lr->buf_returned || lr->replay || len > 8 || len == 0 ||
        lr->len + len > lr->cap || lr->len + len > lr->max_line)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (data[i] == '\n')
            return 0;
    for (size_t i = 0; i < len; i++)
        lr->buf[lr->len + i] = data[i];
    lr->len += len;
    lr->offset += len;
    return 1;
}

/* Bytes of an unfinished line held (0 at a line boundary). */
size_t mr_lr_partial(const mr_linereader *lr);

#endif /* MR_LINEREADER_H */
