/*
 * mr_scenario.h - the scenario file reader: what a fake server should do
 * beyond (or instead of) a correct server's default answers, and what
 * the client is expected to do.  The format is docs/scenarios.md; this
 * is the in-memory form the engine (mr_engine.c) runs.
 *
 * Dependency-free (libc and POSIX <regex.h>) so that the fuzz target
 * fuzz/fuzz_scenario.c builds it with the parsers.  Every error is
 * reported as FILE:LINE:COL: message.
 */
#ifndef MR_SCENARIO_H
#define MR_SCENARIO_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ templates */

/* A reply template: literal bytes and substitutions, in order. */
typedef enum mr_sc_sub {
    MR_SUB_LIT = 0,   /* bytes */
    MR_SUB_TAG,       /* ${tag}: the IMAP tag of the command answered */
    MR_SUB_CMD,       /* ${cmd}: its verb */
    MR_SUB_ARGS,      /* ${args}: its arguments as sent */
    MR_SUB_GROUP,     /* ${1}..${9}: a group of the rule's match; num */
    MR_SUB_VAR,       /* ${NAME}: a variable saved by an earlier rule; name */
    MR_SUB_USER,      /* ${user}: the configured user name */
    MR_SUB_HOST,      /* ${host}: the configured host name */
    MR_SUB_COUNT,     /* ${count}: messages in INBOX */
    MR_SUB_MSG,       /* ${msg:N}: the bytes of message N of INBOX; num */
    MR_SUB_SIZE       /* ${size:N}: its size in octets; num */
} mr_sc_sub;

typedef struct mr_sc_part {
    mr_sc_sub kind;
    uint8_t *bytes;   /* MR_SUB_LIT: the unescaped bytes */
    size_t len;
    unsigned num;     /* GROUP 1-9; MSG and SIZE: 1-based message number */
    char *name;       /* VAR */
} mr_sc_part;

typedef struct mr_sc_tmpl {
    mr_sc_part *parts;
    size_t nparts;
} mr_sc_tmpl;

/* ------------------------------------------------------------ actions */

typedef enum mr_sc_act {
    MR_ACT_SEND = 0,    /* send TEMPLATE [split N,N...] [drip MS] [join] */
    MR_ACT_REPEAT,      /* repeat COUNT|forever TEMPLATE: the bytes COUNT
                           times, streamed as the socket takes them */
    MR_ACT_DEFAULT,     /* default [join]: the protocol's own answer */
    MR_ACT_ERROR,       /* error [TEMPLATE] [join]: the protocol's error
                           answer, with this text */
    MR_ACT_DELAY,       /* delay MS */
    MR_ACT_STALL,       /* stall: answer nothing more, keep the connection */
    MR_ACT_CLOSE,       /* close */
    MR_ACT_RESET,       /* reset: close with RST (SO_LINGER 0) */
    MR_ACT_HALF_CLOSE,  /* half-close: shutdown(SHUT_WR), keep reading */
    MR_ACT_STARTTLS,    /* starttls: the TLS handshake now */
    MR_ACT_TLS_CLOSE,   /* tls-close: close_notify, then close */
    MR_ACT_TLS_ALERT    /* tls-alert: a fatal alert record, then close */
} mr_sc_act;

typedef struct mr_sc_action {
    mr_sc_act kind;
    unsigned line, col;       /* where it was written */
    mr_sc_tmpl text;          /* SEND, REPEAT, ERROR (may be empty) */
    uint64_t count;           /* REPEAT; UINT64_MAX for "forever" */
    uint32_t ms;              /* DELAY */
    uint32_t drip_ms;         /* SEND: one byte per write, this far apart */
    size_t *split;            /* SEND: offsets where a new write begins, */
    size_t nsplit;            /*   strictly increasing, > 0 */
    int join;                 /* SEND, DEFAULT, ERROR: in the same write as
                                 the bytes before (one TCP segment) */
    int has_drip;             /* SEND: drip was given (drip_ms 0 is then one
                                 byte per write with no pause) */
} mr_sc_action;

/* ------------------------------------------------------------ rules */

typedef enum mr_sc_trigger {
    MR_ON_GREETING = 0, /* on greeting: replaces the default greeting */
    MR_ON_COMMAND,      /* on VERB|* [...]: a client command */
    MR_ON_TLS           /* on tls: right after a TLS handshake completed */
} mr_sc_trigger;

typedef enum mr_sc_phase {
    MR_PHASE_ANY = 0,
    MR_PHASE_PLAINTEXT,   /* before TLS is active */
    MR_PHASE_TLS          /* inside TLS */
} mr_sc_phase;

typedef struct mr_sc_rule {
    mr_sc_trigger trigger;
    unsigned line, col;
    char *command;        /* ON_COMMAND: upper-case verb ("UID FETCH",
                             "<sasl>", "<data>") or "*" for any */
    int has_match;
    regex_t match;        /* match "REGEX": on the whole command line */
    char *match_src;
    unsigned nth;         /* 0: always; N: only the Nth command that
                             matches verb and pattern ("first" is 1) */
    unsigned times;       /* with nth 0: at most this many times (0: no limit) */
    double chance;        /* 0: no chance; (0,1]: fires with this
                             probability, from the scenario's seed */
    mr_sc_phase phase;
    char *save;           /* save NAME: group 1 (or the whole match)
                             becomes ${NAME} */
    mr_sc_action *acts;
    size_t nacts;
} mr_sc_rule;

/* ------------------------------------------------------------ expectations */

typedef enum mr_sc_expect_kind {
    MR_EX_SEND = 0,     /* expect send PAT [plaintext|tls] */
    MR_EX_NO_SEND,      /* expect no-send PAT [plaintext|tls] */
    MR_EX_ORDER,        /* expect order PAT PAT... : first matches in order */
    MR_EX_CLOSE_WITHIN, /* expect close-within MS: the client closes within
                           MS of the server's last write */
    MR_EX_SILENT_AFTER, /* expect silent-after PAT: nothing after the first
                           command matching PAT */
    /* Judged by the conformance runner (conformance/runner/, mailrig run)
     * on the client process and on the mailbox after the session; the
     * server ignores them. */
    MR_EX_EXIT,         /* expect exit success|failure: by the profile's
                           success statuses; success is set */
    MR_EX_OUTPUT,       /* expect output "REGEX": the client's stdout or
                           stderr matches; pats[0] */
    MR_EX_NO_OUTPUT,    /* expect no-output "REGEX": neither matches */
    MR_EX_MEMORY_BELOW, /* expect memory-below SIZE: peak RSS < n bytes */
    MR_EX_MESSAGES,     /* expect messages FOLDER N: N messages left */
    MR_EX_FLAG,         /* expect flag FOLDER UID FLAG: the message has it */
    MR_EX_NO_FLAG,      /* expect no-flag FOLDER UID FLAG: it has not */
    MR_EX_SUBMITTED     /* expect submitted N: N messages accepted (SMTP) */
} mr_sc_expect_kind;

/* The first kind judged by the runner rather than the server. */
#define MR_EX_FIRST_CLIENT MR_EX_EXIT
static inline int mr_sc_expect_is_client(mr_sc_expect_kind k) { return k >= MR_EX_FIRST_CLIENT; }

/* A pattern on a client command: a verb (bare word, matched on the
 * command's name) or "REGEX" (on the whole line). */
typedef struct mr_sc_pattern {
    char *command;        /* or NULL */
    int has_re;
    regex_t re;
    char *src;            /* as written, for reports */
} mr_sc_pattern;

typedef struct mr_sc_expect {
    mr_sc_expect_kind kind;
    unsigned line, col;
    char *text;           /* the line as written (for reports) */
    mr_sc_pattern *pats;
    size_t npats;
    mr_sc_phase phase;
    uint32_t ms;
    /* runner kinds */
    int success;          /* EXIT: 1 success, 0 failure */
    uint64_t n;           /* MEMORY_BELOW bytes; MESSAGES, SUBMITTED count;
                             FLAG, NO_FLAG: the UID */
    char *folder;         /* MESSAGES, FLAG, NO_FLAG */
    char *flag;           /* FLAG, NO_FLAG: "\\Seen", or a keyword */
} mr_sc_expect;

/* ------------------------------------------------------------ scenario */

typedef struct mr_scenario {
    char *file;           /* as given to the reader */
    /* metadata (name: value lines before the first step) */
    char *name;           /* required */
    char *protocol;       /* required: pop3, imap, smtp */
    char *description;
    char *rfc;            /* "RFC 3207 4.2; RFC 2595 3.1" */
    char *tags;           /* comma separated */
    char *tls;            /* none, implicit, starttls (NULL: not set) */
    char *cert;           /* valid, self-signed, expired, wrong-host, unknown-ca */
    char *user, *password;
    char *mailbox;        /* a folder, relative to the scenario file */
    uint64_t seed;        /* for chance rules; default 1 */
    uint32_t timeout_ms;  /* a session's idle limit; 0: the server's */
    /* for the conformance runner (mailrig run) */
    char *needs;          /* features the client profile must provide,
                             comma separated; NULL: none */
    unsigned runs;        /* client runs against one server, 1-10; the
                             last one is judged (default 1) */
    uint32_t client_timeout_ms; /* the client's hang limit; 0: the runner's */
    mr_sc_rule *rules;
    size_t nrules;
    mr_sc_expect *expects;
    size_t nexpects;
} mr_scenario;

typedef struct mr_scenario_limits {
    size_t max_file;      /* default 16 MiB */
    size_t max_line;      /* default 1 MiB */
    size_t max_steps;     /* rules + actions + expectations; default 100,000 */
    size_t max_regex;     /* a pattern's length; default 1024 */
} mr_scenario_limits;

typedef struct mr_scenario_error {
    unsigned line, col;   /* 1-based; col counts bytes */
    char message[200];
} mr_scenario_error;

/* Read a scenario from data.  0 ok; -1 with *err filled (and *out left
 * empty).  file is used in messages and kept in out->file. */
int mr_scenario_read(const uint8_t *data, size_t len, const char *file,
                     const mr_scenario_limits *lim, mr_scenario *out, mr_scenario_error *err);
/* Read the file PATH; on error writes "PATH:LINE:COL: message" (or
 * "PATH: strerror") into msg. */
int mr_scenario_load(const char *path, const mr_scenario_limits *lim, mr_scenario *out,
                     char *msg, size_t msglen);
void mr_scenario_free(mr_scenario *s);

/* The reader's names for kinds, for reports. */
const char *mr_sc_act_name(mr_sc_act a);
const char *mr_sc_expect_name(mr_sc_expect_kind k);

#endif
