/*
 * mr_cmd_line.h - the client-input readers the fake POP3 and SMTP servers
 * share: a bounded command-line reader, the SMTP DATA body reader and the
 * BDAT chunk reader.  Sans-I/O and libc only (fuzz/build.sh compiles this
 * file without OpenSSL or GMime).
 *
 * Every reader looks at the engine's unconsumed input p[0..n) and answers
 * one of three things, never merged: "more" (nothing consumed; call again
 * with the same bytes and more after them), "a unit of k bytes" or "an
 * error unit of k bytes" (k >= 1 and k <= n).  A reader never consumes
 * more than one unit and never reads past n.  Between calls the caller
 * must pass the same unconsumed bytes again (a prefix of the new p): the
 * readers keep a scan offset so that they never rescan what they have
 * seen (picohttpparser's slowloris counter-measure).
 *
 * Rules:
 *   - lines end in CRLF; a bare LF is accepted and flagged (RFC 5321
 *     2.3.8 and 4.1.1.4 ask for CRLF; RFC 1939 3 likewise).
 *   - a command line, its line end included, is at most max_line octets.
 *     The RFC limits are smaller (RFC 1939 3: 255 for POP3, RFC 5321
 *     4.5.3.1.4: 512 for SMTP); the modules accept up to max_line and note
 *     the excess.  A longer line is an error unit consuming what has been
 *     seen; the reader then keeps discarding, without buffering, through
 *     the next LF (MR_CMDLINE_E_DISCARD units).
 *   - DATA: the body ends at CRLF "." CRLF (RFC 5321 4.1.1.4; the data's
 *     start counts as a line start); only that ends it, a bare LF does
 *     not (so no "SMTP smuggling" ambiguity).  Lines beginning with "."
 *     are unstuffed by mr_data_unstuff (RFC 5321 4.5.2).
 *   - BDAT: "BDAT size [LAST]" then exactly size octets (RFC 3030 2).
 */
#ifndef MR_CMD_LINE_H
#define MR_CMD_LINE_H

#include <stddef.h>
#include <stdint.h>

/* What a reader returns. */
enum {
    MR_CMDLINE_MORE = 0,  /* not a whole unit yet; nothing consumed */
    MR_CMDLINE_UNIT,      /* a unit: see the out structure */
    MR_CMDLINE_ERROR      /* an error unit: err says which; consumed bytes are dropped */
};

#define MR_CMDLINE_ERRORS(XX)                                                   \
    XX(NONE, "no error")                                                        \
    XX(TOO_LONG, "line too long")                                               \
    XX(DISCARD, "rest of an over-long line, discarded")                         \
    XX(NUL, "NUL byte in the line")                                             \
    XX(EMPTY, "empty line")                                                     \
    XX(NO_VERB, "no command verb")                                              \
    XX(VERB, "command verb holds a non-ASCII or control byte")                  \
    XX(VERB_LONG, "command verb too long")

typedef enum mr_cmdline_err {
#define MR_CMDLINE_XX(n, s) MR_CMDLINE_E_##n,
    MR_CMDLINE_ERRORS(MR_CMDLINE_XX)
#undef MR_CMDLINE_XX
    MR_CMDLINE_E__COUNT
} mr_cmdline_err;

const char *mr_cmdline_err_name(mr_cmdline_err e);   /* "TOO_LONG"; "?" if unknown */
const char *mr_cmdline_err_reason(mr_cmdline_err e); /* "line too long" */

/* The longest verb kept (SMTP's STARTTLS is 8; longer ones are errors). */
#define MR_CMDLINE_VERB_MAX 15

/* Reader flags. */
enum {
    MR_CMDLINE_RAW = 1 << 0 /* a SASL response line: no verb split, empty allowed */
};

typedef struct mr_cmdline_reader {
    size_t max_line;  /* a line with its line end; at least 3 */
    size_t scanned;   /* invariant: p[0..scanned) holds no LF (and was checked) */
    int discarding;   /* inside an over-long line: drop through the next LF */
} mr_cmdline_reader;

/* One line (or error unit).  Pointers point into p. */
typedef struct mr_cmdline {
    const uint8_t *line;  /* the line without its line end (error units: what was dropped) */
    size_t line_len;
    char verb[MR_CMDLINE_VERB_MAX + 1]; /* upper-cased, NUL-terminated; "" when RAW */
    const uint8_t *args;  /* after the verb and one space; the whole line when RAW */
    size_t args_len;
    size_t consumed;      /* line end included */
    int bare_lf;          /* the line ended in LF without CR */
    int line_ended;       /* an error unit that reached its line's end */
    mr_cmdline_err err;
    size_t err_off;       /* offset in the unit of what is wrong */
} mr_cmdline;

void mr_cmdline_init(mr_cmdline_reader *r, size_t max_line);
/* Forget the scan and any discarding (new input after STARTTLS). */
void mr_cmdline_reset(mr_cmdline_reader *r);
/*
 * Read the next line from p[0..n).  Returns MR_CMDLINE_MORE (eof or not:
 * an unterminated line stays unconsumed), MR_CMDLINE_UNIT or
 * MR_CMDLINE_ERROR (out->err, out->err_off; out->consumed >= 1).  An
 * over-long line gives one MR_CMDLINE_E_TOO_LONG unit (answer it) and
 * then, if its end had not arrived, MR_CMDLINE_E_DISCARD units (answer
 * nothing) through its LF.
 */
int mr_cmdline_read(mr_cmdline_reader *r, const uint8_t *p, size_t n, unsigned flags, mr_cmdline *out);

/* ------------------------------------------------------------ DATA */

typedef struct mr_data_reader {
    size_t max;         /* the message (before unstuffing, through its last CRLF) */
    size_t scan;        /* p[0..scan) scanned; state says where that left us */
    unsigned state;     /* the scanner's state at scan */
    uint64_t dropped;   /* bytes consumed by MR_DATA_DISCARD units so far */
    int discarding;     /* the message is over max: dropping through the end */
    size_t bare_lf;     /* LF without CR seen in this message */
    size_t bare_cr;     /* CR without LF seen */
    int eight_bit;      /* a byte >= 0x80 seen */
} mr_data_reader;

/* What mr_data_read found. */
enum {
    MR_DATA_MORE = 0,   /* nothing consumed */
    MR_DATA_END,        /* the whole message, through the final dot line */
    MR_DATA_TOO_BIG,    /* the end of a message that was over max (all dropped) */
    MR_DATA_DISCARD     /* part of a message over max, dropped; the end is still to come */
};

typedef struct mr_data_unit {
    const uint8_t *body; /* END: the message as sent (dot-stuffed), through its last CRLF */
    size_t body_len;
    size_t consumed;     /* the final ".\r\n" included */
    size_t bare_lf;      /* END, TOO_BIG: LF without CR in the message */
    size_t bare_cr;      /* CR without LF */
    int eight_bit;       /* a byte >= 0x80 (RFC 6152: needs BODY=8BITMIME) */
} mr_data_unit;

void mr_data_init(mr_data_reader *r, size_t max);
/* Scan p[0..n) from where the last call stopped (p is the same input,
 * maybe longer).  After END or TOO_BIG the reader is ready for the next
 * message. */
int mr_data_read(mr_data_reader *r, const uint8_t *p, size_t n, mr_data_unit *u);
/* Copy body[0..n) into out (room for n bytes) without the stuffed dots:
 * a line's first "." is dropped (RFC 5321 4.5.2).  Returns the length. */
size_t mr_data_unstuff(const uint8_t *body, size_t n, uint8_t *out);

/* ------------------------------------------------------------ BDAT */

/* Parse BDAT's arguments "size [LAST]" (RFC 3030 2: chunk-size is 1*DIGIT,
 * end-marker "LAST", case-insensitive).  0 ok; -1 syntax error or a size
 * over 2^63. */
int mr_bdat_parse(const uint8_t *args, size_t len, uint64_t *size, int *last);

typedef struct mr_bdat_reader {
    uint64_t left;      /* chunk bytes still to drop (an over-size chunk) */
} mr_bdat_reader;

enum {
    MR_BDAT_MORE = 0,   /* nothing consumed */
    MR_BDAT_CHUNK,      /* header line and the whole chunk: u->chunk */
    MR_BDAT_DISCARD,    /* part of an over-size chunk dropped; more to drop */
    MR_BDAT_TOO_BIG     /* the last part of an over-size chunk dropped: answer now */
};

typedef struct mr_bdat_unit {
    const uint8_t *chunk;
    size_t chunk_len;
    size_t consumed;
} mr_bdat_unit;

/* Whether the reader is in the middle of dropping a chunk (then call
 * mr_bdat_read with hdr_len 0 before reading any line). */
int mr_bdat_dropping(const mr_bdat_reader *r);
/*
 * After a "BDAT size" line of hdr_len bytes (line end included) at the
 * start of p[0..n): frame its chunk.  budget: how many more message bytes
 * may be accepted.  A chunk within budget comes whole (CHUNK, consumed =
 * hdr_len + size); one over budget is dropped as it arrives (DISCARD
 * units, then TOO_BIG), never buffered.  While dropping, hdr_len, size
 * and budget are ignored.
 */
int mr_bdat_read(mr_bdat_reader *r, const uint8_t *p, size_t n, size_t hdr_len, uint64_t size,
                 uint64_t budget, mr_bdat_unit *u);

#endif
