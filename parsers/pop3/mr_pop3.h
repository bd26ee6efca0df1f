/*
 * mr_pop3.h - sans-I/O parser of what a POP3 server sends.
 *
 * Rules from RFC 1939 (POP3), RFC 2449 (CAPA, RESP-CODES), RFC 3206 (SYS
 * and AUTH codes), RFC 5034 (SASL), RFC 6856 (UTF8) and RFC 2595 (STLS).
 *
 * Whether a response is single- or multi-line depends on the command it
 * answers (RFC 1939 3), so the caller pushes each command it sends with
 * mr_pop3_expect() (or mr_pop3_expect_line() with the command's bytes);
 * pipelined commands queue up.  With no command queued the parser guesses:
 * a +OK response is multi-line when the line after it is not itself a
 * status line (MR_POP3_GUESS).  The first response is the greeting.
 *
 * Feeding:
 *
 *   size_t off = 0, used;
 *   mr_pop3_event ev;
 *   while (mr_pop3_next(p, buf + off, n - off, &used, &ev) != MR_EV_NEED_MORE) {
 *       off += used;
 *       ... ev.type is MR_EV_RESPONSE, MR_EV_BODY_CHUNK or MR_EV_ERROR ...
 *   }
 *   off += used;   (now off == n: every byte was consumed)
 *
 * Bodies of RETR and TOP larger than limits.stream_threshold are handed out
 * as MR_EV_BODY_CHUNK events (dot-unstuffed, line ends kept) followed by
 * the MR_EV_RESPONSE, so a 100 MB message needs no 100 MB of parser memory;
 * smaller bodies come whole in response->lines.  Setting stream_threshold
 * to 1 streams every body.
 *
 * Lifetimes: the event, the response and every span in them are valid
 * until the next call on the parser.  Spans point into the caller's buffer
 * when the response lay there whole, else into the parser's arena.
 */
#ifndef MR_POP3_H
#define MR_POP3_H

#include "../core/mr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The command a response answers: decides framing and typed decoding. */
#define MR_POP3_CMD_MAP(XX)                                                  \
    XX(GREETING, "greeting", 0)  /* the server's first response */           \
    XX(USER, "user", 0)                                                      \
    XX(PASS, "pass", 0)                                                      \
    XX(APOP, "apop", 0)                                                      \
    XX(AUTH, "auth", 0)          /* AUTH mech: "+ challenge" until +OK/-ERR */ \
    XX(AUTH_LIST, "auth-list", 1) /* AUTH without argument: mechanism list */ \
    XX(STAT, "stat", 0)                                                      \
    XX(LIST, "list", 1)          /* LIST: scan listing of every message */   \
    XX(LIST_ONE, "list-one", 0)  /* LIST msg */                              \
    XX(UIDL, "uidl", 1)                                                      \
    XX(UIDL_ONE, "uidl-one", 0)                                              \
    XX(RETR, "retr", 1)                                                      \
    XX(TOP, "top", 1)                                                        \
    XX(DELE, "dele", 0)                                                      \
    XX(NOOP, "noop", 0)                                                      \
    XX(RSET, "rset", 0)                                                      \
    XX(QUIT, "quit", 0)                                                      \
    XX(CAPA, "capa", 1)                                                      \
    XX(STLS, "stls", 0)                                                      \
    XX(UTF8, "utf8", 0)                                                      \
    XX(LANG, "lang", 0)          /* LANG tag */                              \
    XX(LANG_LIST, "lang-list", 1) /* LANG without argument (RFC 6856 3) */   \
    XX(OTHER, "other", 0)        /* any other single-line command */         \
    XX(OTHER_MULTI, "other-multi", 1) /* any other multi-line command */     \
    XX(GUESS, "guess", 0)        /* unknown: decide from what follows */

typedef enum mr_pop3_cmd {
#define MR_XX(name, str, multi) MR_POP3_##name,
    MR_POP3_CMD_MAP(MR_XX)
#undef MR_XX
    MR_POP3__CMD_COUNT
} mr_pop3_cmd;

const char *mr_pop3_cmd_name(mr_pop3_cmd cmd);

/*
 * Classify a command line as a client sends it ("LIST 3\r\n" -> LIST_ONE,
 * "TOP 1 10" -> TOP, "AUTH" -> AUTH_LIST).  Unknown keywords -> OTHER.
 */
mr_pop3_cmd mr_pop3_cmd_classify(const uint8_t *line, size_t len);

typedef enum mr_pop3_status {
    MR_POP3_STATUS_OK,   /* +OK */
    MR_POP3_STATUS_ERR,  /* -ERR */
    MR_POP3_STATUS_CONT, /* "+" continuation of a SASL exchange (RFC 5034 4) */
    MR_POP3_STATUS_NONE  /* the line is not a status line (error MR_E_BAD_STATUS) */
} mr_pop3_status;

/* "+OK", "-ERR", "+"; NULL for MR_POP3_STATUS_NONE. */
const char *mr_pop3_status_name(mr_pop3_status s);

/* Response codes (RFC 2449 8, RFC 3206, RFC 6856). */
typedef enum mr_pop3_code {
    MR_POP3_CODE_NONE = 0,
    MR_POP3_CODE_IN_USE,      /* [IN-USE] RFC 2449 8.1.1 */
    MR_POP3_CODE_LOGIN_DELAY, /* [LOGIN-DELAY] RFC 2449 8.1.2 */
    MR_POP3_CODE_SYS_TEMP,    /* [SYS/TEMP] RFC 3206 4 */
    MR_POP3_CODE_SYS_PERM,    /* [SYS/PERM] RFC 3206 4 */
    MR_POP3_CODE_SYS,         /* [SYS/other] */
    MR_POP3_CODE_AUTH,        /* [AUTH] RFC 3206 5 */
    MR_POP3_CODE_UTF8,        /* [UTF8] RFC 6856 2 */
    MR_POP3_CODE_OTHER        /* any other code, kept in response->code */
} mr_pop3_code;

const char *mr_pop3_code_name(mr_pop3_code c);

/* CAPA capabilities (RFC 2449 6, RFC 5034 6, RFC 6856 2, RFC 2595 4). */
typedef enum mr_pop3_capa_kind {
    MR_POP3_CAPA_OTHER = 0, /* unknown: name and params kept */
    MR_POP3_CAPA_TOP,
    MR_POP3_CAPA_USER,
    MR_POP3_CAPA_SASL,           /* params: mechanism names */
    MR_POP3_CAPA_RESP_CODES,
    MR_POP3_CAPA_LOGIN_DELAY,    /* number (seconds), per_user */
    MR_POP3_CAPA_PIPELINING,
    MR_POP3_CAPA_EXPIRE,         /* number (days) or never, per_user */
    MR_POP3_CAPA_UIDL,
    MR_POP3_CAPA_IMPLEMENTATION, /* args: free text */
    MR_POP3_CAPA_STLS,
    MR_POP3_CAPA_UTF8,           /* per_user when "UTF8 USER" */
    MR_POP3_CAPA_AUTH_RESP_CODE,
    MR_POP3_CAPA_LANG
} mr_pop3_capa_kind;

const char *mr_pop3_capa_kind_name(mr_pop3_capa_kind k);

typedef struct mr_pop3_capa {
    mr_pop3_capa_kind kind;
    mr_span name;           /* capa-tag as sent */
    mr_span args;           /* everything after the tag, trimmed */
    const mr_span *params;  /* args split at spaces */
    size_t n_params;
    uint64_t number;        /* LOGIN-DELAY seconds, EXPIRE days */
    int has_number;
    int never;              /* EXPIRE NEVER */
    int per_user;           /* trailing USER: the value may change after login */
} mr_pop3_capa;

/* One line of a LIST or UIDL answer, or the answer for one message. */
typedef struct mr_pop3_entry {
    uint64_t msg;   /* message number */
    uint64_t size;  /* LIST: octets */
    mr_span uid;    /* UIDL: unique-id (RFC 1939 7: 1-70 chars 0x21-0x7E) */
} mr_pop3_entry;

typedef struct mr_pop3_response {
    mr_pop3_cmd cmd;          /* the command it answers (GUESS resolved to OTHER/OTHER_MULTI) */
    mr_pop3_status status;
    mr_line status_line;      /* the first line */
    mr_span code;             /* resp-code without brackets ("SYS/TEMP"); len 0 if none */
    mr_pop3_code code_kind;
    mr_span text;             /* the human text after status and code */
    uint64_t offset, end;     /* stream byte range [offset, end) */

    int multiline;
    const mr_line *lines;     /* body lines, dot-unstuffed, terminator excluded */
    size_t n_lines;
    int streamed;             /* the body was handed out as MR_EV_BODY_CHUNK events */
    uint64_t body_bytes;      /* body size, unstuffed, line ends included */

    /* Typed results; which are set depends on cmd and status. */
    mr_span timestamp;        /* greeting: APOP timestamp "<...>" (RFC 1939 7) */
    uint64_t count, size;     /* STAT: messages and octets (RFC 1939 5) */
    const mr_pop3_entry *entries; /* LIST, LIST_ONE, UIDL, UIDL_ONE */
    size_t n_entries;
    const mr_pop3_capa *capas;    /* CAPA */
    size_t n_capas;
    mr_span sasl;             /* CONT: decoded challenge (RFC 5034 4) */
    const mr_span *items;     /* AUTH_LIST, LANG_LIST: the body lines' first words */
    size_t n_items;

    const mr_diag *diags;     /* strict mode only */
    size_t n_diags;
    size_t diags_dropped;     /* beyond limits.max_diags */
} mr_pop3_response;

typedef struct mr_pop3_event {
    mr_event_type type;
    /* MR_EV_RESPONSE; also MR_EV_ERROR when the error concerns one framed
     * response (non-fatal), which then holds what could be parsed. */
    const mr_pop3_response *response;
    mr_span chunk;  /* MR_EV_BODY_CHUNK */
    mr_error error; /* MR_EV_ERROR */
} mr_pop3_event;

typedef struct mr_pop3_parser mr_pop3_parser;

/* NULL when the allocator fails.  opt may be NULL (lenient, default limits). */
mr_pop3_parser *mr_pop3_new(const mr_options *opt);
void mr_pop3_free(mr_pop3_parser *p); /* NULL is a no-op */

/* Back to the start of a stream: expecting the greeting, nothing queued. */
void mr_pop3_reset(mr_pop3_parser *p);

/* Queue the command the next unanswered response belongs to.
 * Returns 0, or MR_E_TOO_MANY_PENDING / MR_E_NO_MEMORY. */
int mr_pop3_expect(mr_pop3_parser *p, mr_pop3_cmd cmd);
/* Same, classifying the command line with mr_pop3_cmd_classify(). */
int mr_pop3_expect_line(mr_pop3_parser *p, const uint8_t *line, size_t len);
/* Commands queued and not yet answered. */
size_t mr_pop3_pending(const mr_pop3_parser *p);
/* 1 while an AUTH exchange is under way (the client is sending SASL data, not commands). */
int mr_pop3_in_sasl(const mr_pop3_parser *p);

/*
 * Parse from data.  Sets *consumed and fills *ev.  Returns ev->type:
 *   MR_EV_NEED_MORE  all len bytes were consumed; feed more.
 *   MR_EV_RESPONSE   a complete response (ev->response).
 *   MR_EV_BODY_CHUNK a piece of a streamed body (ev->chunk).
 *   MR_EV_ERROR      ev->error; fatal errors repeat on every later call
 *                    until mr_pop3_reset().
 * Call again with the bytes after *consumed until it returns NEED_MORE.
 */
mr_event_type mr_pop3_next(mr_pop3_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_pop3_event *ev);

/*
 * End of stream.  Returns MR_EV_NEED_MORE when the stream ended between
 * responses, MR_EV_RESPONSE for a response that the end completes (a +OK
 * whose framing was being guessed), or MR_EV_ERROR (MR_E_UNEXPECTED_EOF)
 * when it ended inside one.  Call until it returns MR_EV_NEED_MORE.
 */
mr_event_type mr_pop3_finish(mr_pop3_parser *p, mr_pop3_event *ev);

/* Stream offset of the next byte to be fed. */
uint64_t mr_pop3_offset(const mr_pop3_parser *p);

#ifdef __cplusplus
}
#endif
#endif /* MR_POP3_H */
