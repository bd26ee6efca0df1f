/*
 * mr_core.h - types shared by every mailrig parser (POP3, SMTP, IMAP).
 *
 * The parsers are sans-I/O: the caller owns sockets and buffers and feeds
 * bytes in any chunking; a parser answers with one event at a time
 * (a complete response, a chunk of a streamed body, "need more", or an
 * error).  This header holds what all of them share:
 *
 *   mr_span      a pointer and a length; results point into the caller's
 *                buffer when the response lay there whole, else into the
 *                parser's per-response arena.
 *   mr_errcode   named error codes with a reason string (llhttp style),
 *                generated from one table, MR_ERROR_MAP.
 *   mr_error     code + byte offset in the stream + a detail string.
 *   mr_diag      a strict-mode diagnostic: a deviation from an RFC, with
 *                the RFC and section it breaks.
 *   mr_limits    bounds on everything a peer controls; each one has its
 *                own error code.
 *   mr_options   limits, strict/lenient, and a replaceable allocator.
 *
 * Lifetimes: every span, line and diagnostic a parser hands out stays valid
 * until the next call into that parser (or until it is reset or freed).
 */
#ifndef MR_CORE_H
#define MR_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A run of bytes.  Never NUL-terminated; ptr may be NULL when len is 0. */
typedef struct mr_span {
    const uint8_t *ptr;
    size_t len;
} mr_span;

/* One line of a response: the text without its line end. */
typedef struct mr_line {
    const uint8_t *ptr;
    size_t len;        /* bytes of text, line end excluded */
    uint64_t offset;   /* stream offset of the line's first byte */
    uint8_t eol;       /* bytes of line end after the text: 2 CRLF, 1 bare LF */
    uint8_t in_input;  /* internal: 1 while ptr points into the caller's buffer */
} mr_line;

/*
 * Error codes.  XX(NAME, fatal, "reason").  A fatal error stops the stream:
 * the parser stays in the error state until it is reset, because it can no
 * longer tell where the next response starts.  A non-fatal error concerns
 * one response whose end was found: the response is consumed, the error is
 * reported with what could be parsed of it, and parsing goes on.
 */
#define MR_ERROR_MAP(XX)                                                                   \
    XX(OK, 0, "no error")                                                                  \
    XX(LINE_TOO_LONG, 1, "a line is longer than limits.max_line")                          \
    XX(BODY_TOO_LARGE, 1, "a multi-line response is larger than limits.max_body")         \
    XX(TOO_MANY_LINES, 1, "a response has more lines than limits.max_lines")               \
    XX(MEMORY_LIMIT, 1, "a response needs more memory than limits.max_memory")             \
    XX(TOO_MANY_PENDING, 1, "more commands awaiting a response than limits.max_pending")   \
    XX(NO_MEMORY, 1, "the allocator returned NULL")                                        \
    XX(UNEXPECTED_EOF, 1, "the stream ended inside a response")                            \
    XX(BAD_STATUS, 0, "a POP3 response does not start with +OK, -ERR or +")                \
    XX(BAD_REPLY_CODE, 0, "an SMTP reply line does not start with a three-digit code")     \
    XX(BAD_SEPARATOR, 0, "an SMTP reply code is not followed by SP, '-' or the line end")  \
    XX(BAD_FIELD, 0, "a field does not have the form the command's response requires")     \
    XX(BAD_BASE64, 0, "a SASL challenge is not valid base64")                              \
    XX(UNEXPECTED_RESPONSE, 0, "a response arrived that no command asked for")             \
    XX(BAD_SYNTAX, 0, "an IMAP response does not follow the grammar")                     \
    XX(LITERAL_TOO_LARGE, 1, "an IMAP literal is larger than limits.max_body")             \
    XX(TOO_DEEP, 0, "lists are nested deeper than limits.max_depth")                       \
    XX(TOO_MANY_ITEMS, 0, "a response has more values than limits.max_items")             \
    XX(USAGE, 1, "the API was called in a way its contract forbids")

typedef enum mr_errcode {
#define MR_XX_ENUM(name, fatal, reason) MR_E_##name,
    MR_ERROR_MAP(MR_XX_ENUM)
#undef MR_XX_ENUM
    MR_E__COUNT
} mr_errcode;

/* "LINE_TOO_LONG"; "UNKNOWN" for a value outside the enum. */
const char *mr_errcode_name(mr_errcode code);
/* The table's reason sentence. */
const char *mr_errcode_reason(mr_errcode code);
/* 1 when the stream cannot go on after this error. */
int mr_errcode_is_fatal(mr_errcode code);

typedef struct mr_error {
    mr_errcode code;
    uint64_t offset;    /* stream offset of the offending byte */
    const char *detail; /* static string saying what exactly was wrong, or NULL */
} mr_error;

/*
 * A strict-mode diagnostic.  ref names the rule ("RFC 5321 4.2.1"), message
 * says what the server did ("codes differ between lines of a multi-line
 * reply").  Both are static strings.
 */
typedef struct mr_diag {
    uint64_t offset;
    const char *ref;
    const char *message;
} mr_diag;

/*
 * Bounds on what a peer controls.  Zero in a field means "use the default"
 * when passed through mr_limits_resolve(); use SIZE_MAX for "no bound".
 */
typedef struct mr_limits {
    size_t max_line;         /* bytes in one line, line end excluded (default 64 KiB) */
    size_t max_lines;        /* lines kept for one response; streamed bodies keep none (default 1,000,000) */
    uint64_t max_body;       /* bytes of one multi-line body or IMAP literal, streamed or not (default 1 GiB) */
    size_t max_memory;       /* logical size of one response: kept bytes, line table, fields (default 64 MiB) */
    size_t stream_threshold; /* bodies above this are handed out as chunks (default 1 MiB) */
    size_t max_pending;      /* commands awaiting a response (default 100,000) */
    size_t max_diags;        /* diagnostics kept per response; more are counted only (default 64) */
    size_t max_depth;        /* IMAP: nesting of lists and body structures (default 100, at most 1000) */
    size_t max_items;        /* IMAP: values in one response (default 1,000,000) */
} mr_limits;

#define MR_DEFAULT_MAX_LINE ((size_t)64 * 1024)
#define MR_DEFAULT_MAX_LINES ((size_t)1000 * 1000)
#define MR_DEFAULT_MAX_BODY ((uint64_t)1024 * 1024 * 1024)
#define MR_DEFAULT_MAX_MEMORY ((size_t)64 * 1024 * 1024)
#define MR_DEFAULT_STREAM_THRESHOLD ((size_t)1024 * 1024)
#define MR_DEFAULT_MAX_PENDING ((size_t)100 * 1000)
#define MR_DEFAULT_MAX_DIAGS ((size_t)64)
#define MR_DEFAULT_MAX_DEPTH ((size_t)100)
#define MR_MAX_DEPTH_CAP ((size_t)1000)
#define MR_DEFAULT_MAX_ITEMS ((size_t)1000 * 1000)

/* Fill every zero field of *l with its default. */
void mr_limits_resolve(mr_limits *l);

/* A replaceable allocator, so tests can fail every allocation in turn. */
typedef struct mr_allocator {
    void *(*alloc)(size_t size, void *ud);
    void *(*realloc)(void *ptr, size_t size, void *ud);
    void (*free)(void *ptr, void *ud);
    void *ud;
} mr_allocator;

/* malloc/realloc/free. */
const mr_allocator *mr_default_allocator(void);

typedef enum mr_mode {
    MR_LENIENT = 0, /* accept what a robust client accepts, record nothing */
    MR_STRICT = 1   /* same results, plus a diagnostic for each RFC deviation */
} mr_mode;

typedef struct mr_options {
    mr_limits limits;            /* zero fields take defaults */
    mr_mode mode;
    const mr_allocator *alloc;   /* NULL: mr_default_allocator() */
} mr_options;

/* What one call to a parser's next() function produced. */
typedef enum mr_event_type {
    MR_EV_NEED_MORE = 0, /* every byte given was consumed; no result yet */
    MR_EV_RESPONSE,      /* a complete response */
    MR_EV_BODY_CHUNK,    /* a piece of a streamed multi-line body */
    MR_EV_ERROR          /* see the event's error; fatal ones stop the stream */
} mr_event_type;

const char *mr_event_type_name(mr_event_type t);

/* Compare a span with a C string, exactly or ASCII case-insensitively. */
int mr_span_eq(mr_span s, const char *lit);
int mr_span_eq_ci(mr_span s, const char *lit);

#ifdef __cplusplus
}
#endif
#endif /* MR_CORE_H */
