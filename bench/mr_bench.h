/*
 * mr_bench.h - the contract between the benchmark driver (mr_bench_main.c)
 * and a family of contenders (one .c file per library: mailrig, Dovecot's
 * lib-imap, libetpan).
 *
 * Each family is linked into its own program (build/bench/mr-bench-NAME),
 * so that libraries never share a process and a missing library only
 * drops its own program.  The driver loads a corpus, calls setup() once,
 * run() once untimed as a warm-up, then run() as many times as the time
 * budget asks, and prints one JSON line; bench/run.py alternates programs
 * between rounds and makes the table.
 *
 * Every run() parses the whole corpus from its first byte, as a client
 * would receive it, and returns what it found.  The driver checks that
 * every pass returns the same counts, and bench/run.py that every
 * contender of a protocol agrees on `responses`, so that a contender that
 * stops early or skips work shows up as a mismatch, not as a fast figure.
 */
#ifndef MR_BENCH_H
#define MR_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* One client command line, CRLF removed; points into mr_bench_corpus.client. */
typedef struct mr_bench_line {
    const uint8_t *p;
    size_t n;
} mr_bench_line;

typedef struct mr_bench_corpus {
    const char *name;            /* "imap", "pop3", "smtp-exim", "smtp-batch" */
    const char *protocol;        /* "imap", "pop3", "smtp" */
    const uint8_t *server;       /* every byte the server sent, in order */
    size_t server_len;
    const uint8_t *client;       /* every byte the client sent, in order */
    size_t client_len;
    const mr_bench_line *cmds;   /* the client's lines, in order */
    size_t n_cmds;
} mr_bench_corpus;

/* What one pass found; identical from pass to pass. */
typedef struct mr_bench_result {
    uint64_t responses;  /* IMAP: tagged + untagged + continuation responses;
                          * POP3: status responses (a multi-line one counts once);
                          * SMTP: replies (a multi-line reply counts once);
                          * floors: lines ('\n' bytes) or bytes */
    uint64_t decoded;    /* IMAP: ENVELOPEs + BODYSTRUCTUREs decoded to typed
                          * form (0 for a generic parse); POP3: RETR/TOP
                          * message bodies un-stuffed; SMTP: 0 */
    uint64_t bytes;      /* payload bytes delivered (literal / message bytes),
                          * or 0 when the contender does not see them apart */
} mr_bench_result;

typedef struct mr_bench_contender {
    const char *name;        /* "mailrig", "dovecot-decode", ...: unique in its program
                              * for one protocol */
    const char *protocol;    /* the corpora it parses: "imap", "pop3", "smtp"; "any" */
    const char *what;        /* one line for the table's legend */
    /* Prepare (not timed).  Returns the state passed to run(), or NULL
     * with a message in err. */
    void *(*setup)(const mr_bench_corpus *c, char *err, size_t errlen);
    /* One whole pass.  Returns 0, or -1 with a message in err (a parse
     * error is a failure of the benchmark, not a figure). */
    int (*run)(void *state, const mr_bench_corpus *c, mr_bench_result *out, char *err,
               size_t errlen);
    void (*teardown)(void *state); /* NULL state is a no-op */
} mr_bench_contender;

/* Each family's .c file defines these two. */
extern const mr_bench_contender mr_bench_family[];
extern const size_t mr_bench_family_n;
extern const char *const mr_bench_family_name; /* "mailrig", "dovecot", "etpan" */

#endif
