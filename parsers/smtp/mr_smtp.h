/*
 * mr_smtp.h - sans-I/O parser of what an SMTP server sends.
 *
 * Rules from RFC 5321 (replies, 4.2), RFC 3463 and RFC 2034 (enhanced
 * status codes), RFC 1870 (SIZE), RFC 2920 (PIPELINING), RFC 3030
 * (CHUNKING, BINARYMIME), RFC 4954 (AUTH, 334 challenges), RFC 6531
 * (SMTPUTF8), RFC 3461 (DSN) and RFC 3207 (STARTTLS).
 *
 * Every reply is framed the same way (RFC 5321 4.2: "NNN-text" lines up
 * to a final "NNN text" line), so the parser needs no command to frame it;
 * several pipelined replies in one read come out one by one.  The command
 * a reply answers only chooses its typed decoding (EHLO keywords, 334
 * challenges), so mr_smtp_expect() is optional: with nothing queued the
 * parser guesses (MR_SMTP_GUESS: first reply = greeting, 334 = AUTH
 * challenge, a 250 reply whose lines after the first are all EHLO keyword
 * lines = EHLO).
 *
 * Feeding works as in mr_pop3.h: call mr_smtp_next() with the bytes after
 * *consumed until it returns MR_EV_NEED_MORE; at end of stream call
 * mr_smtp_finish().  The event, the reply and every span in them are valid
 * until the next call on the parser.
 */
#ifndef MR_SMTP_H
#define MR_SMTP_H

#include "../core/mr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MR_SMTP_CMD_MAP(XX)                                                \
    XX(GREETING, "greeting")   /* the 220 (or 421/554) opening reply */    \
    XX(EHLO, "ehlo")                                                       \
    XX(HELO, "helo")                                                       \
    XX(LHLO, "lhlo")           /* LMTP, RFC 2033: answered like EHLO */    \
    XX(MAIL, "mail")                                                       \
    XX(RCPT, "rcpt")                                                       \
    XX(DATA, "data")           /* the 354 (or error) before the message */ \
    XX(DATA_END, "data-end")   /* the reply after <CRLF>.<CRLF> */         \
    XX(BDAT, "bdat")                                                       \
    XX(RSET, "rset")                                                       \
    XX(VRFY, "vrfy")                                                       \
    XX(EXPN, "expn")                                                       \
    XX(HELP, "help")                                                       \
    XX(NOOP, "noop")                                                       \
    XX(QUIT, "quit")                                                       \
    XX(STARTTLS, "starttls")                                               \
    XX(AUTH, "auth")           /* 334 challenges until the final reply */  \
    XX(OTHER, "other")                                                     \
    XX(GUESS, "guess")

typedef enum mr_smtp_cmd {
#define MR_XX(name, str) MR_SMTP_##name,
    MR_SMTP_CMD_MAP(MR_XX)
#undef MR_XX
    MR_SMTP__CMD_COUNT
} mr_smtp_cmd;

const char *mr_smtp_cmd_name(mr_smtp_cmd cmd);

/*
 * Classify a client command line ("EHLO x\r\n" -> EHLO, "MAIL FROM:<..>" ->
 * MAIL, ".\r\n" -> DATA_END).  The verb is case-insensitive and must be
 * followed by SP, HTAB, the line end or nothing.  Unknown -> OTHER.
 */
mr_smtp_cmd mr_smtp_cmd_classify(const uint8_t *line, size_t len);

/* EHLO keywords (RFC 5321 4.1.1.1 and the extensions above). */
typedef enum mr_smtp_ext {
    MR_SMTP_EXT_OTHER = 0,          /* unknown: name and params kept */
    MR_SMTP_EXT_SIZE,               /* number: max size, 0 = none declared (RFC 1870) */
    MR_SMTP_EXT_AUTH,               /* params: mechanisms (RFC 4954) */
    MR_SMTP_EXT_8BITMIME,
    MR_SMTP_EXT_PIPELINING,
    MR_SMTP_EXT_CHUNKING,
    MR_SMTP_EXT_BINARYMIME,
    MR_SMTP_EXT_SMTPUTF8,
    MR_SMTP_EXT_DSN,
    MR_SMTP_EXT_STARTTLS,
    MR_SMTP_EXT_ENHANCEDSTATUSCODES,
    MR_SMTP_EXT_DELIVERBY,          /* number: min-by-time, optional (RFC 2852) */
    MR_SMTP_EXT_REQUIRETLS,         /* RFC 8689 */
    MR_SMTP_EXT_VRFY,
    MR_SMTP_EXT_ETRN,
    MR_SMTP_EXT_EXPN,
    MR_SMTP_EXT_HELP
} mr_smtp_ext;

const char *mr_smtp_ext_name(mr_smtp_ext e);

typedef struct mr_smtp_keyword {
    mr_smtp_ext kind;
    mr_span name;          /* keyword as sent */
    mr_span args;          /* everything after the keyword, trimmed */
    const mr_span *params; /* args split at spaces */
    size_t n_params;
    uint64_t number;       /* SIZE, DELIVERBY */
    int has_number;
    int legacy;            /* "AUTH=PLAIN LOGIN": pre-RFC 4954 form */
} mr_smtp_keyword;

/* RFC 3463 2: class "." subject "." detail. */
typedef struct mr_smtp_enhanced {
    int present;
    unsigned klass, subject, detail;
    mr_span raw;
} mr_smtp_enhanced;

typedef struct mr_smtp_reply {
    mr_smtp_cmd cmd;            /* the command it answers (GUESS resolved) */
    unsigned code;              /* reply code of the final line (e.g. 250) */
    int mixed_codes;            /* lines carried different codes (RFC 5321 4.2.1) */
    mr_smtp_enhanced enhanced;  /* from the first line, when present */
    const mr_line *lines;       /* the raw lines, code included */
    const mr_span *texts;       /* each line's text after "NNN-" / "NNN " (enhanced code kept) */
    size_t n_lines;
    uint64_t offset, end;       /* stream byte range [offset, end) */

    /* Typed results. */
    mr_span domain;             /* greeting, positive EHLO/HELO/LHLO: the server's name (first
                                   word of the first text, after an enhanced code if any) */
    const mr_smtp_keyword *keywords; /* EHLO/LHLO */
    size_t n_keywords;
    mr_span sasl;               /* 334 (any but the greeting): decoded challenge (RFC 4954 4) */

    const mr_diag *diags;       /* strict mode only */
    size_t n_diags;
    size_t diags_dropped;
} mr_smtp_reply;

/* "positive-completion" (2yz), "positive-intermediate" (3yz),
 * "transient-negative" (4yz), "permanent-negative" (5yz), else "unknown". */
const char *mr_smtp_severity(unsigned code);

typedef struct mr_smtp_event {
    mr_event_type type;          /* never MR_EV_BODY_CHUNK */
    const mr_smtp_reply *reply;  /* RESPONSE, and non-fatal ERROR of a framed reply */
    mr_error error;
} mr_smtp_event;

typedef struct mr_smtp_parser mr_smtp_parser;

/* NULL when the allocator fails.  opt may be NULL (lenient, default limits). */
mr_smtp_parser *mr_smtp_new(const mr_options *opt);
void mr_smtp_free(mr_smtp_parser *p); /* NULL is a no-op */
/* Back to the start of a stream: expecting the greeting, nothing queued, no error. */
void mr_smtp_reset(mr_smtp_parser *p);

/*
 * Queue the command the next unanswered reply belongs to (pipelined
 * commands queue up, RFC 2920).  The greeting needs no entry.  Each reply
 * takes one entry off, except a 334 to AUTH (RFC 4954 4); DATA's 354 takes
 * DATA off, so queue DATA_END for the reply after the message.  Returns 0;
 * MR_E_USAGE for a cmd outside the enum; MR_E_TOO_MANY_PENDING
 * (limits.max_pending) or MR_E_NO_MEMORY, which are also fatal for the
 * stream (replies could no longer be matched to commands); or the sticky
 * fatal error the parser is already in.
 */
int mr_smtp_expect(mr_smtp_parser *p, mr_smtp_cmd cmd);
/*
 * Same, classifying the command line with mr_smtp_cmd_classify().  It also
 * notes an SMTPUTF8 parameter on MAIL, VRFY and EXPN, which allows UTF-8
 * in some replies (RFC 6531 3.7.4; strict mode notes it elsewhere), so
 * prefer it to mr_smtp_expect() when the command's bytes are at hand.
 */
int mr_smtp_expect_line(mr_smtp_parser *p, const uint8_t *line, size_t len);
/* Commands queued and not yet answered. */
size_t mr_smtp_pending(const mr_smtp_parser *p);

/*
 * Parse from data.  Sets *consumed and fills *ev.  Returns ev->type:
 *   MR_EV_NEED_MORE  all len bytes were consumed; feed more.  Lines of an
 *                    unfinished reply have been copied: data may be reused.
 *   MR_EV_RESPONSE   a complete reply (ev->reply); *consumed ends at its end.
 *   MR_EV_ERROR      ev->error.  Non-fatal (BAD_REPLY_CODE, BAD_SEPARATOR,
 *                    BAD_FIELD, BAD_BASE64): one framed reply was consumed
 *                    and ev->reply holds what was parsed of it; error.offset
 *                    is its first offending byte.  A line without a code
 *                    that starts a reply is reported alone and answers no
 *                    command; one inside a multi-line reply stays in it
 *                    (see mr_smtp.c).  Fatal (limits, NO_MEMORY, USAGE):
 *                    ev->reply is NULL and every later call returns the same
 *                    error, consuming nothing, until mr_smtp_reset().
 * Call again with the bytes after *consumed until it returns NEED_MORE.
 * Results are the same for any chunking of the input.
 */
mr_event_type mr_smtp_next(mr_smtp_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_smtp_event *ev);
/*
 * End of stream: MR_EV_NEED_MORE when it ended between replies, else the
 * fatal MR_E_UNEXPECTED_EOF (inside a line, or a multi-line reply with no
 * final line).
 */
mr_event_type mr_smtp_finish(mr_smtp_parser *p, mr_smtp_event *ev);
/* Stream offset of the next byte to be fed. */
uint64_t mr_smtp_offset(const mr_smtp_parser *p);

#ifdef __cplusplus
}
#endif
#endif /* MR_SMTP_H */
