/*
 * mr_transcript.h - read and write mailrig transcripts (docs/transcript.md).
 *
 * A transcript records one session byte for byte: the segments each side
 * sent (S server, C client), events (E: tls, close, ...) and metadata
 * ("# key: value").  The reader takes the whole file from a memory buffer
 * (it is NUL-safe: it never relies on a terminating NUL) and returns a list
 * of items in file order; "+" continuation lines are appended to the
 * segment above them.  Everything it reads is bounded (file size, line
 * length, number of items); any violation and any syntax error is returned
 * as a line, a column and a message, never a crash.
 *
 * The writer side (mr_transcript_write_*) is what fake servers and capture
 * tools use: it escapes bytes as the spec says and breaks a segment after
 * each LF (and inside very long lines) into "+" lines, so that what it
 * writes reads back to the same bytes.
 */
#ifndef MR_TRANSCRIPT_H
#define MR_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The format version this code reads and writes ("# mailrig transcript 1"). */
#define MR_TRANSCRIPT_VERSION 1

/* Defaults of mr_transcript_limits. */
#define MR_TRANSCRIPT_DEFAULT_MAX_SIZE ((size_t)256 * 1024 * 1024) /* bytes of file */
#define MR_TRANSCRIPT_DEFAULT_MAX_LINE ((size_t)1024 * 1024)       /* bytes of one line */
#define MR_TRANSCRIPT_DEFAULT_MAX_ITEMS ((size_t)1000 * 1000)      /* segments + events + metadata */

/* Writers start a "+" line once a line holds this many bytes of escaped text. */
#define MR_TRANSCRIPT_WRAP 4096

/* Bounds on what a transcript file may hold.  Zero fields take the defaults. */
typedef struct mr_transcript_limits {
    size_t max_size;  /* bytes in the whole file */
    size_t max_line;  /* bytes in one line, line end excluded */
    size_t max_items; /* segments, events and metadata lines together */
} mr_transcript_limits;

typedef enum mr_transcript_item_kind {
    MR_TRANSCRIPT_SEGMENT, /* S or C line, with its "+" lines */
    MR_TRANSCRIPT_EVENT,   /* E line */
    MR_TRANSCRIPT_META     /* "# key: value" line */
} mr_transcript_item_kind;

/* Event names the reader accepts (docs/transcript.md, "Lines"). */
#define MR_TRANSCRIPT_EVENTS "tls, close, client-close, reset, timeout"

typedef struct mr_transcript_item {
    mr_transcript_item_kind kind;
    size_t line;          /* line number (1-based) where the item starts */
    char dir;             /* SEGMENT: 'S' (server) or 'C' (client); else 0 */
    int has_time;         /* SEGMENT, EVENT: 1 when TIME was given */
    double time;          /* seconds since the connection was accepted */
    const uint8_t *bytes; /* SEGMENT: the decoded bytes (may hold NUL); NULL if len 0 */
    size_t len;
    const char *name;     /* EVENT: event name; META: key; else NULL */
    const char *value;    /* EVENT: arguments ("" if none); META: value; else NULL */
} mr_transcript_item;

/* A transcript read into memory.  Owns everything its items point to. */
typedef struct mr_transcript {
    mr_transcript_item *items;
    size_t n_items;
    int version;
    /* private: storage behind the items */
    uint8_t *bytes_pool_;
    char *str_pool_;
} mr_transcript;

/*
 * Where and why reading failed.  line and col are 1-based; col counts
 * bytes from the start of the line.  line 0 means the file as a whole
 * (it is larger than limits.max_size).  message is a sentence without a
 * trailing period, suitable for "FILE:LINE:COL: message".
 */
typedef struct mr_transcript_error {
    size_t line;
    size_t col;
    char message[200];
} mr_transcript_error;

/*
 * Read the transcript in data[0..len).  lim may be NULL (defaults).
 * Returns 0 and fills *out (release it with mr_transcript_cleanup()), or
 * -1 and fills *err; *out is then empty and needs no cleanup.  Lines end
 * in LF; a CR right before the LF is ignored, so CRLF files read the same.
 * The last line need not end in LF.
 */
int mr_transcript_read(const uint8_t *data, size_t len, const mr_transcript_limits *lim,
                       mr_transcript *out, mr_transcript_error *err);

/* Release what mr_transcript_read() allocated and zero *t.  NULL is a no-op. */
void mr_transcript_cleanup(mr_transcript *t);

/* The value of the first metadata item with this key, or NULL.  When
 * item is not NULL it receives that item (for its line number). */
const char *mr_transcript_meta(const mr_transcript *t, const char *key,
                               const mr_transcript_item **item);

/*
 * The bytes of every segment of direction dir ('S' or 'C') concatenated,
 * in a buffer from malloc() that the caller frees; *len gets the length.
 * Returns NULL when malloc fails (or when there are no such bytes, with
 * *len = 0).
 */
uint8_t *mr_transcript_concat(const mr_transcript *t, char dir, size_t *len);

/* Writers.  Each returns 0, or -1 when writing to f failed. */

/* "# mailrig transcript 1", and "# protocol: P" when protocol is not NULL. */
int mr_transcript_write_header(FILE *f, const char *protocol);

/*
 * "# key: value".  key must match [A-Za-z0-9_.-]+ and value must hold no
 * control byte (other than HTAB); else nothing is written and -1 returned.
 */
int mr_transcript_write_meta(FILE *f, const char *key, const char *value);

/*
 * One segment: "S TIME \"...\"" (dir 'S' or 'C'), with TIME as %.6f and
 * left out when time < 0 (or NaN).  Bytes are escaped as the spec says:
 * \r \n \t \0 \\ \" for those bytes, \xHH for other bytes below 0x20, for
 * 0x7F and for bytes 0x80-0xFF that are not part of valid UTF-8; valid
 * UTF-8 is written as is.  After each LF (and when a line reaches
 * MR_TRANSCRIPT_WRAP bytes) the rest goes on a "+" line.  len 0 writes "".
 */
int mr_transcript_write_segment(FILE *f, char dir, double time, const uint8_t *bytes, size_t len);

/* "E TIME name args" (time < 0: left out; args NULL or "": none).  name must
 * be a known event and args must hold no control byte; else -1. */
int mr_transcript_write_event(FILE *f, double time, const char *name, const char *args);

#ifdef __cplusplus
}
#endif
#endif /* MR_TRANSCRIPT_H */
