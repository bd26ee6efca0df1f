/*
 * mr_fake.h - what a protocol's default behaviour sees of a fake-server
 * session (docs/fake-servers.md).
 *
 * The engine (mr_server.c, mr_engine.c) owns the sockets, TLS, timers,
 * the output queue, the transcript and the scenario.  A protocol module
 * (mr_fake_pop3.c, mr_fake_imap.c, mr_fake_smtp.c) owns only its state
 * machine: it frames the client's input into commands (input()), and
 * answers a command the way a correct server would (execute()).  Between
 * the two the engine matches the scenario's rules, so that a script can
 * replace, precede or follow any default answer.
 *
 * A module never does I/O: it queues reply bytes with mr_sess_send*(),
 * and asks for effects (start TLS, close) that the engine performs after
 * the reply has been written.
 */
#ifndef MR_FAKE_H
#define MR_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "mr_buf.h"

typedef struct mr_sess mr_sess;
typedef struct mr_mailbox mr_mailbox;

typedef enum mr_tls_mode {
    MR_TLS_NONE = 0,    /* plaintext only */
    MR_TLS_IMPLICIT,    /* TLS from the first byte (993, 995, 465) */
    MR_TLS_STARTTLS     /* plaintext, upgraded by STARTTLS / STLS */
} mr_tls_mode;

const char *mr_tls_mode_name(mr_tls_mode m);
int mr_tls_mode_parse(const char *s, mr_tls_mode *out); /* 0 ok, -1 unknown */

/* What every session of one server shares (read-only for modules). */
typedef struct mr_fake_config {
    const char *protocol;      /* "pop3", "imap", "smtp" */
    const char *hostname;      /* in greetings and EHLO; default "localhost" */
    const char *user;          /* the accepted login; default "user" */
    const char *password;      /* default "password" */
    mr_tls_mode tls;
    const mr_mailbox *mailbox; /* the loaded mailbox; sessions work on copies */
    size_t max_line;           /* a command line, CRLF included; default 8192 */
    size_t max_literal;        /* one client literal, DATA or BDAT body, or
                                  APPEND message; default 64 MiB */
    size_t max_command;        /* one IMAP command with its literals; default 64 MiB */
} mr_fake_config;

/* One unit of client input, as the module's reader framed it.  The
 * pointers point into the engine's input buffer and stay valid until the
 * command has been answered. */
typedef struct mr_cmd {
    const char *tag;          /* IMAP tag; "" for POP3 and SMTP */
    const char *name;         /* the upper-case verb ("LOGIN", "UID FETCH",
                                 "MAIL", "STLS") or a pseudo command in
                                 angle brackets: "<sasl>" (a SASL response
                                 line), "<data>" (an SMTP message after
                                 DATA, through the final dot).  IMAP's
                                 DONE, ending IDLE, is "DONE". */
    const uint8_t *line;      /* the whole command as sent, literals
                                 included, without the final CRLF */
    size_t line_len;
    const uint8_t *args;      /* what follows the verb and its space */
    size_t args_len;
    size_t consumed;          /* input bytes this unit used, CRLF included */
} mr_cmd;

/* What input() found. */
enum {
    MR_IN_MORE = 0,    /* not a whole unit yet; consumed nothing (the
                          module may have queued an IMAP continuation) */
    MR_IN_COMMAND,     /* *cmd is a whole unit: the engine matches the
                          scenario, then (unless a rule replaces it)
                          calls execute() */
    MR_IN_ERROR        /* garbage or a bound passed: the module queued the
                          protocol's error reply itself; cmd->consumed
                          bytes are dropped (cmd->line/line_len say what,
                          for the transcript) */
};

typedef struct mr_proto {
    const char *name;                   /* "pop3", "imap", "smtp" */
    size_t state_size;                  /* zeroed, then init() */
    void (*init)(mr_sess *s, void *st);
    void (*fini)(mr_sess *s, void *st);
    /* Queue the default greeting. */
    void (*greeting)(mr_sess *s, void *st);
    /* Frame the next unit from p[0..n).  eof: the client has half-closed,
     * no more bytes will come.  Never reads past n; never consumes more
     * than one unit; bounded by the config's limits. */
    int (*input)(mr_sess *s, void *st, const uint8_t *p, size_t n, int eof, mr_cmd *cmd);
    /* Answer cmd the way a correct server does: queue the reply, change
     * state, maybe mr_sess_starttls() or mr_sess_close(). */
    void (*execute)(mr_sess *s, void *st, const mr_cmd *cmd);
    /* Queue the protocol's error answer to cmd with this human text (a
     * scenario's "error" action, deterministic error injection):
     * IMAP "TAG NO text", POP3 "-ERR text", SMTP "451 4.3.0 text" (or 454
     * for STARTTLS/AUTH, 554 after DATA). */
    void (*error_reply)(mr_sess *s, void *st, const mr_cmd *cmd, const char *text);
    /* TLS has just been established (implicit, or after STARTTLS):
     * forget what RFC 3207 4.2 / RFC 2595 3.1 / RFC 9051 6.2.1 say to
     * forget (EHLO state, capabilities). */
    void (*tls_started)(mr_sess *s, void *st);
} mr_proto;

extern const mr_proto mr_proto_pop3;
extern const mr_proto mr_proto_imap;
extern const mr_proto mr_proto_smtp;
const mr_proto *mr_proto_find(const char *name);

/* ------------------------------------------------ for protocol modules */

const mr_fake_config *mr_sess_config(const mr_sess *s);
unsigned mr_sess_id(const mr_sess *s);            /* 1, 2, ... per server */
int mr_sess_tls_active(const mr_sess *s);         /* inside TLS now */
/* STARTTLS/STLS may be offered: the server is in starttls mode and TLS is
 * not active yet. */
int mr_sess_starttls_offerable(const mr_sess *s);

/* The session's own copy of the server's mailbox, made on first use (so
 * concurrent sessions never see each other's changes, and each session's
 * result says what its client did).  Never NULL. */
mr_mailbox *mr_sess_mailbox(mr_sess *s);

/* Append bytes to the reply being built.  Everything a module queues
 * while answering one command goes out as one write() (one segment). */
void mr_sess_send(mr_sess *s, const void *p, size_t n);
void mr_sess_sends(mr_sess *s, const char *str);
void mr_sess_sendf(mr_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End the current segment: what is queued after this goes out in a
 * separate write (an IMAP continuation before a long answer, say). */
void mr_sess_segment(mr_sess *s);

/* After the reply queued so far has been written: start the TLS handshake
 * (STARTTLS, STLS).  Plaintext the client sent after the command is
 * discarded and recorded (RFC 3207 4.2, RFC 2595 3.1). */
void mr_sess_starttls(mr_sess *s);
/* After the reply queued so far has been written: close the connection
 * (QUIT, LOGOUT, too many errors). */
void mr_sess_close(mr_sess *s);

/* A note for the transcript (a comment line) and the session result:
 * "authenticated as user", "message 3 deleted", "stored received/2.eml". */
void mr_sess_note(mr_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* SMTP: keep a received message (the bytes after dot-unstuffing, or the
 * BDAT chunks joined) with its envelope; the engine stores it in the
 * session's results. */
void mr_sess_received(mr_sess *s, const char *mail_from, const char *const *rcpts,
                      size_t nrcpts, const uint8_t *msg, size_t len);

/* The authenticated user, once a module has accepted credentials (for the
 * session result). */
void mr_sess_set_user(mr_sess *s, const char *user);

#endif
