/*
 * mr_server_int.h - the fake-server engine's private types, shared by the
 * event loop (mr_server.c: sockets, TLS, the output queue, timers, the
 * transcript), the scenario engine (mr_engine.c: rules, templates,
 * expectations, verdicts) and the results (mr_report.c).  Not for
 * protocol modules: they see mr_fake.h only.
 */
#ifndef MR_SERVER_INT_H
#define MR_SERVER_INT_H

#include <regex.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "mr_buf.h"
#include "mr_certs.h"
#include "mr_fake.h"
#include "mr_mailbox.h"
#include "mr_scenario.h"

typedef struct mr_server mr_server;

/* ------------------------------------------------------------ output queue */

typedef enum mr_op_kind {
    MR_OP_WRITE = 0,  /* data, one write() per op (drip: one byte per write) */
    MR_OP_REPEAT,     /* data, count times */
    MR_OP_DELAY,
    MR_OP_STALL,
    MR_OP_CLOSE,
    MR_OP_RESET,
    MR_OP_HALF_CLOSE,
    MR_OP_STARTTLS,
    MR_OP_TLS_CLOSE,
    MR_OP_TLS_ALERT,
    MR_OP_RESUME      /* internal: fire "on tls" rules etc. */
} mr_op_kind;

typedef struct mr_op {
    mr_op_kind kind;
    mr_buf data;         /* WRITE: the bytes; REPEAT: one repetition */
    mr_buf chunk;        /* REPEAT: repetitions being written */
    size_t off;          /* WRITE: bytes written; REPEAT: of chunk */
    uint64_t left;       /* REPEAT: repetitions left (UINT64_MAX forever) */
    uint32_t ms;         /* DELAY; WRITE: drip interval (0: no drip) */
    int started;         /* DELAY: timer armed */
    struct mr_op *next;
} mr_op;

/* ------------------------------------------------------------ sessions */

typedef enum mr_end {
    MR_END_NONE = 0,
    MR_END_CLIENT_CLOSE,   /* the client closed */
    MR_END_CLIENT_RESET,   /* the client reset the connection */
    MR_END_SERVER_CLOSE,   /* the script or the protocol closed */
    MR_END_SERVER_RESET,   /* the script reset */
    MR_END_TIMEOUT,        /* idle past the timeout, or a close-within deadline */
    MR_END_TLS_FAILED,     /* the TLS handshake failed */
    MR_END_TERMINATED,     /* the server was stopped (SIGTERM, SIGINT) */
    MR_END_ERROR           /* an I/O error */
} mr_end;

const char *mr_end_name(mr_end e);

/* Per-expectation state while the session runs. */
typedef struct mr_exstate {
    int passed;          /* for SEND: seen; for NO_SEND/SILENT_AFTER: not violated */
    int armed;           /* SILENT_AFTER: the pattern was seen */
    unsigned long *first;/* ORDER: the command number of each pattern's first match (0: none) */
    char detail[512];
} mr_exstate;

typedef struct mr_var {
    char *name;
    char *value;
    size_t len;
} mr_var;

struct mr_sess {
    mr_server *srv;
    unsigned id;
    unsigned slot;
    int fd;
    char peer[1100];  /* NI_MAXHOST + NI_MAXSERV + 2 */
    double t0;                 /* monotonic seconds at accept */
    double last_write;         /* seconds since t0 of the last server write */
    double last_input;
    /* protocol */
    void *st;
    mr_mailbox *mb;            /* copy made on first use */
    char *user;
    /* TLS */
    SSL *ssl;
    int tls_handshaking;
    int tls_active;
    char tls_error[160];
    /* input */
    mr_buf in;                 /* bytes read; those before in_off are answered */
    size_t in_off;
    int eof;
    int reading_paused;
    unsigned long ncmds;       /* commands framed so far */
    /* output */
    mr_buf cur;                /* the segment being built */
    mr_op *q, *qtail;
    int want_out;              /* waiting for EPOLLOUT */
    int stalled;
    int half_closed;
    int closing;
    /* timers: the earliest deadline of each kind (seconds since t0; 0 none) */
    double op_deadline;
    double idle_deadline;
    double close_deadline;
    double sched_when;         /* the pending heap entry's time (absolute), or 0 */
    /* scenario */
    int greeted;               /* the greeting (default or a rule's) was queued */
    unsigned *rule_seen;       /* per rule: matching commands seen */
    unsigned *rule_fired;
    mr_var *vars;
    size_t nvars;
    mr_exstate *ex;
    /* the command being answered, for substitutions */
    const mr_cmd *cmd;
    mr_buf line0;              /* its line with a NUL after it, for regexec */
    int have_line0;
    regmatch_t groups[10];
    const uint8_t *group_base;
    /* results */
    FILE *trs;                 /* open_memstream() of what is not yet in the file */
    char *trs_buf;
    size_t trs_len;
    int trs_failed;            /* the file could not be written */
    uint64_t trs_bytes;        /* bytes of data recorded */
    int trs_truncated;
    mr_buf notes;              /* one note per line */
    unsigned nreceived;
    struct json_t *received;   /* JSON array: one object per message (jansson) */
    uint64_t bytes_in, bytes_out;
    size_t discarded_after_starttls;
    mr_end end;
};

/* ------------------------------------------------------------ server */

typedef struct mr_server_opts {
    const char *protocol;
    const char *scenario;      /* a file, or NULL */
    const char *listen;        /* "127.0.0.1:0" */
    const char *tls;           /* none|implicit|starttls, NULL: scenario's or none */
    const char *cert;          /* a profile, NULL: scenario's or valid */
    const char *cert_dir;      /* where ca.pem goes; NULL: OUT/certs */
    const char *out;           /* results; NULL: a new temp dir */
    int no_transcripts;
    const char *ready_file;
    const char *mailbox;       /* a Maildir or .eml folder */
    const char *report;        /* json, junit, tap, or NULL */
    const char *report_file;   /* NULL: stdout */
    unsigned max_sessions;     /* exit after this many; 0: never */
    unsigned timeout_ms;       /* idle limit; 0: scenario's or 30000 */
    unsigned max_conns;        /* concurrent sessions; 0: 20000 */
    const char *user, *password, *hostname;
    int quiet;
} mr_server_opts;

typedef struct mr_session_result mr_session_result;

struct mr_server {
    mr_server_opts o;
    const mr_proto *proto;
    mr_scenario sc;
    int have_sc;
    mr_fake_config cfg;
    mr_mailbox *mailbox;
    mr_certs *certs;
    SSL_CTX *ctx;
    mr_cert_profile profile;
    int epfd;
    int lfd[2];
    int nlfd;
    char host[1025];  /* NI_MAXHOST */
    int port;
    char out[4096];
    char cafile[4096];
    unsigned next_id;
    mr_sess **slots;
    unsigned *slot_gen;
    unsigned nslots;
    unsigned live;
    unsigned ended;
    unsigned passed, failed;
    double close_within;       /* seconds: the least close-within, or 0 */
    /* timer heap */
    struct mr_timer *heap;
    size_t nheap, capheap;
    /* results kept for the report */
    mr_buf results;            /* JSON objects, one per line */
    int stop;
};

/* mr_server.c, for the engine */
static inline size_t mr_sess_pending(const mr_sess *s) { return s->in.len - s->in_off; }
double mr_now(void);
double mr_sess_time(const mr_sess *s);
void mr_sess_push(mr_sess *s, mr_op_kind k);            /* flush cur, then an op */
mr_op *mr_sess_push_write(mr_sess *s, const void *p, size_t n, uint32_t drip_ms);
void mr_sess_flush(mr_sess *s);                         /* cur -> a WRITE op */
void mr_sess_trs_comment(mr_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append what the transcript gained to OUT/session-NNNN.trs; 0 ok. */
int mr_sess_trs_flush(mr_sess *s);
void mr_sess_trs_path(const mr_sess *s, char *buf, size_t len);
/* A JSON string (jansson) of p[0..n); non-UTF-8 bytes become U+FFFD. */
struct json_t *mr_json_text(const char *p, size_t n);

/* mr_engine.c */
int mr_engine_init_session(mr_sess *s);
void mr_engine_free_session(mr_sess *s);
void mr_engine_greeting(mr_sess *s);
void mr_engine_tls(mr_sess *s);                         /* "on tls" rules */
void mr_engine_command(mr_sess *s, const mr_cmd *cmd);
void mr_engine_input_error(mr_sess *s, const mr_cmd *cmd);
/* At the end: evaluate the expectations, write the verdict and the
 * files, append the result to srv->results. */
void mr_engine_finish(mr_sess *s);

/* mr_report.c */
int mr_report_write(const mr_server *srv, const char *format, FILE *f);

#endif
