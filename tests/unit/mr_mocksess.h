/*
 * mr_mocksess.h - a stand-in for the fake-server engine in the protocol
 * modules' unit tests: it implements mr_fake.h's mr_sess_*() functions
 * over memory, feeds a module bytes as a client would, and lets a test
 * read what the module answered.  No sockets, no scenario: every command
 * gets the module's default answer.
 */
#ifndef MR_MOCKSESS_H
#define MR_MOCKSESS_H

#include "mr_fake.h"
#include "mr_mailbox.h"

typedef struct mock_received {
    char *from;
    char **rcpts;
    size_t nrcpts;
    mr_buf msg;
} mock_received;

/* Make a session of module p; cfg is copied (defaults filled in for
 * NULL/0 fields); mailbox may be NULL for an empty one. */
mr_sess *mock_new(const mr_proto *p, const mr_fake_config *cfg);
void mock_free(mr_sess *s);

void mock_greet(mr_sess *s);
/* Feed client bytes; every whole command is answered.  Returns the number
 * of commands answered. */
int mock_feed(mr_sess *s, const void *p, size_t n);
int mock_feeds(mr_sess *s, const char *str);
/* The client half-closed. */
int mock_eof(mr_sess *s);

/* Everything the module sent since the last mock_take(), NUL-terminated;
 * the caller frees.  Segments are separated by nothing; mock_segments()
 * counts the writes. */
char *mock_take(mr_sess *s);
size_t mock_segments(const mr_sess *s);

int mock_closed(const mr_sess *s);       /* mr_sess_close() was asked */
int mock_tls(const mr_sess *s);          /* TLS is active (after mr_sess_starttls) */
const char *mock_user(const mr_sess *s); /* mr_sess_set_user(), or NULL */
const char *mock_notes(const mr_sess *s);/* the notes, one per line */
size_t mock_nreceived(const mr_sess *s);
const mock_received *mock_received_at(const mr_sess *s, size_t i);
/* Inputs that came back MR_IN_ERROR. */
size_t mock_errors(const mr_sess *s);

#endif
