/*
 * fuzz_fake_session.c - the fake servers' protocol modules (mr_proto_pop3,
 * mr_proto_imap, mr_proto_smtp, behind fake-servers/mr_fake.h) over what
 * an arbitrary client sends: the command readers, and the code that
 * executes the commands (IMAP SEARCH/FETCH/STORE/APPEND/COPY/MOVE/RENAME,
 * SMTP MAIL/RCPT/DATA/BDAT, POP3 TOP/LIST/DELE, the SASL exchanges), the
 * session's mailbox (mr_mailbox.c) and the MIME views (mr_mime.c) of the
 * messages it holds or that the client APPENDs.
 *
 * Input: 3 header bytes, then what the client sent.
 *   0  setup: bits 0-1 the protocol (0 POP3, 1 IMAP, 2 SMTP, 3 IMAP);
 *      bits 2-3 TLS (0 none, 1 implicit, 2 and 3 STARTTLS); bit 4 a canned
 *      login first (POP3 USER/PASS, IMAP LOGIN and SELECT INBOX, SMTP
 *      EHLO); bit 5 small limits (max_line 128, max_literal 512,
 *      max_command 1024); bit 6 every fifth command gets the module's
 *      error_reply() instead of execute() (a scenario's "error" action);
 *      bit 7 the client half-closes at the end
 *   1  flags (mr_fuzz.h): bits 4-6 choose the feeding (whole, 1, 2, 3, 7,
 *      64 bytes, 4 KiB, varying)
 *   2  seed of the varying feeding
 *
 * A stand-in for the engine (mr_server.c, mr_engine.c) implements the
 * mr_sess_*() functions over memory, as tests/unit/mr_mocksess.c does,
 * and calls input() as the engine's process_input() does: with every
 * unconsumed byte, here in an exact-size copy freed once the unit has
 * been answered, so that ASan reports a module reading past what it was
 * given or keeping a pointer into an old buffer.  After STARTTLS/STLS it
 * calls tls_started() and goes on with the bytes that follow (a client
 * that waited for the answer; the real engine drops what came before the
 * handshake, which depends on how TCP cut the bytes).
 *
 * The session runs twice: fed whole, and in the pieces the feeding says.
 * Checks:
 *   - input() consumes at least one byte and at most what it was given
 *     when it frames a unit; the number of calls is bounded by the bytes;
 *   - the output of one command is bounded by its size and the mailbox's
 *     bytes (no runaway loops);
 *   - chunking invariance: both runs send the same bytes after the
 *     greeting (the POP3 greeting's APOP timestamp holds the time), answer
 *     the same commands (not the same error units: the rest of a refused
 *     line or literal is dropped in as many units as it takes reads), end
 *     in the same state (closed, TLS,
 *     user, notes, messages received, the mailbox's folders and counts).
 *     Values that are not deterministic are left out: UIDVALIDITY numbers
 *     (a process-wide counter for CREATE and RENAME), a CRAM-MD5
 *     challenge (random: runs whose data names CRAM are not compared), an
 *     APPEND's internal date (time(): not compared when the clock moved
 *     during the runs and the data names APPEND);
 *   - no crash, leak or undefined behaviour (ASan, LSan, UBSan).
 * A session whose output passes OUT_BUDGET stops there (a client that
 * stopped reading), so that a few COPY commands cannot make every input
 * slow.
 */
/* fuzz/build.sh: full (links the fake servers' modules, GMime, libcrypto) */
#include <stdarg.h>
#include <stdio.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mr_fake.h"
#include "mr_fuzz.h"
#include "mr_mailbox.h"
#include "mr_mime.h"

#define OUT_BUDGET ((size_t)4 << 20)

/* ------------------------------------------------------------ the mailbox */

/* A few varied messages: plain, multipart/alternative, a mixed one with a
 * base64 attachment, a forwarded message/rfc822, encoded words and groups
 * in the headers, 8-bit bytes, a header-only one. */
static const char *const messages[] = {
    "Return-Path: <alice@example.org>\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
    "From: Alice Example <alice@example.org>\r\n"
    "Subject: afternoon meeting\r\n"
    "To: bob@example.com, \"Carol C.\" <carol@example.net>\r\n"
    "Cc: team: dave@example.com, erin@example.com;\r\n"
    "Message-Id: <B27397-0100000@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n",

    "From: =?UTF-8?B?SsO8cmdlbg==?= <juergen@example.de>\r\n"
    "To: bob@example.com\r\n"
    "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= and more\r\n"
    "Date: Tue, 01 Mar 2022 10:00:00 +0100\r\n"
    "In-Reply-To: <B27397-0100000@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--alt-1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=C3=BC=C3=9Fe aus Berlin\r\n"
    "--alt-1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Gr\xc3\xbc\xc3\x9f" "e</p>\r\n"
    "--alt-1--\r\n"
    "epilogue\r\n",

    "From: bob@example.com\r\n"
    "To: alice@example.org\r\n"
    "Subject: report attached\r\n"
    "Date: Wed, 02 Mar 2022 12:30:00 +0000\r\n"
    "Message-ID: <report-2@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=mix\r\n"
    "\r\n"
    "--mix\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "See the attachment.\r\n"
    "--mix\r\n"
    "Content-Type: application/octet-stream; name=\"r.bin\"\r\n"
    "Content-Disposition: attachment; filename*0=\"r\"; filename*1=\".bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Language: en, de\r\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
    "\r\n"
    "aGVsbG8gd29ybGQK\r\n"
    "--mix\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: carol@example.net\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/digest; boundary=d\r\n"
    "\r\n"
    "--d\r\n"
    "\r\n"
    "Subject: digest item\r\n"
    "\r\n"
    "item body\r\n"
    "--d--\r\n"
    "--mix--\r\n",

    "From: undisclosed-recipients:;\r\n"
    "Sender: \"Weird \\\"quoted\\\"\" <@route.example:x@y.example>\r\n"
    "Reply-To: nobody\r\n"
    "Subject: caf\xc3\xa9 8-bit header\r\n"
    "Date: not a date\r\n"
    "X-Spam: yes\r\n"
    "\r\n"
    "8-bit body: caf\xc3\xa9 and \xe9t\xe9\r\n"
    "..a dot line\r\n",

    ("Subject: header only\r\n"
     "From: x@example.com\r\n"),
};

static mr_mailbox *the_mailbox;

static void make_mailbox(void)
{
    mr_mailbox *mb = mr_mailbox_new();
    mr_folder *inbox = mr_mailbox_find(mb, "INBOX");
    mr_folder *sent = mr_mailbox_create(mb, "Sent");
    mr_folder *arch = mr_mailbox_create(mb, "Archive/2024");
    static const unsigned flags[] = {MR_F_SEEN, MR_F_SEEN | MR_F_ANSWERED, MR_F_FLAGGED, 0,
                                     MR_F_DELETED | MR_F_DRAFT};
    size_t n = sizeof messages / sizeof messages[0];
    for (size_t i = 0; i < n; i++) {
        mr_msg *m = mr_folder_append(inbox, (const uint8_t *)messages[i], strlen(messages[i]),
                                     flags[i], (time_t)1600000000 + (time_t)i * 86400);
        m->flags &= ~(unsigned)MR_F_RECENT;
        if (i == 2)
            mr_msg_add_keyword(m, "$Forwarded");
    }
    mr_folder_append(sent, (const uint8_t *)messages[0], strlen(messages[0]), MR_F_SEEN,
                     (time_t)1650000000);
    mr_folder_append(arch, (const uint8_t *)messages[2], strlen(messages[2]), 0, (time_t)1700000000);
    the_mailbox = mb;
}

/* ------------------------------------------------------------ the engine */

typedef struct rcvd {
    uint64_t digest; /* of every message received: from, rcpts, bytes */
    size_t n;
} rcvd;

struct mr_sess {
    const mr_proto *proto;
    void *st;
    mr_fake_config cfg;
    mr_mailbox *mb;
    mr_buf in, out, notes;
    size_t greeting_len;      /* output bytes of the greeting */
    size_t commands, errors, injected;
    int closed, tls, want_tls, eof, stopped, inject;
    char *user;
    rcvd rcv;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (!h)
        h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

const mr_fake_config *mr_sess_config(const mr_sess *s) { return &s->cfg; }
unsigned mr_sess_id(const mr_sess *s) { return 1; }
int mr_sess_tls_active(const mr_sess *s) { return s->tls; }
int mr_sess_starttls_offerable(const mr_sess *s) { return s->cfg.tls == MR_TLS_STARTTLS && !s->tls; }

mr_mailbox *mr_sess_mailbox(mr_sess *s)
{
    if (!s->mb)
        s->mb = mr_mailbox_clone(s->cfg.mailbox);
    return s->mb;
}

void mr_sess_send(mr_sess *s, const void *p, size_t n) { mr_buf_add(&s->out, p, n); }
void mr_sess_sends(mr_sess *s, const char *str) { mr_buf_adds(&s->out, str); }

void mr_sess_sendf(mr_sess *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mr_buf_vprintf(&s->out, fmt, ap);
    va_end(ap);
}

void mr_sess_segment(mr_sess *s) {}
void mr_sess_starttls(mr_sess *s) { s->want_tls = 1; }
void mr_sess_close(mr_sess *s) { s->closed = 1; }

void mr_sess_note(mr_sess *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mr_buf_vprintf(&s->notes, fmt, ap);
    va_end(ap);
    mr_buf_addc(&s->notes, '\n');
}

void mr_sess_received(mr_sess *s, const char *mail_from, const char *const *rcpts,
                      size_t nrcpts, const uint8_t *msg, size_t len)
{
    uint64_t h = s->rcv.digest;
    MR_FUZZ_CHECK(mail_from != NULL && (nrcpts == 0 || rcpts != NULL), "received without envelope");
    h = fnv(h, mail_from, strlen(mail_from) + 1);
    for (size_t i = 0; i < nrcpts; i++)
        h = fnv(h, rcpts[i], strlen(rcpts[i]) + 1);
    mr_fuzz_touch(msg, len);
    h = fnv(h, msg, len);
    h = fnv(h, &len, sizeof len);
    s->rcv.digest = h;
    s->rcv.n++;
}

void mr_sess_set_user(mr_sess *s, const char *user)
{
    size_t n = strlen(user) + 1;
    free(s->user);
    s->user = malloc(n);
    if (!s->user)
        abort();
    memcpy(s->user, user, n);
}

/* The bytes of every message of the session's mailbox (the bound on what
 * one command may send is a multiple of it). */
static size_t mailbox_bytes(mr_sess *s)
{
    const mr_mailbox *mb = s->mb ? s->mb : s->cfg.mailbox;
    size_t total = 0;
    for (size_t i = 0; i < mb->nfolders; i++)
        for (size_t j = 0; j < mb->folders[i]->count; j++)
            total += mb->folders[i]->msgs[j]->d->len + 256;
    return total;
}

/* Frame and answer every whole unit in s->in, as process_input() does. */
static void process(mr_sess *s)
{
    while (!s->closed && !s->stopped && s->in.len > 0) {
        size_t n = s->in.len, before = s->out.len;
        uint8_t *copy = mr_fuzz_copy(s->in.data, n);
        mr_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        int r = s->proto->input(s, s->st, copy, n, s->eof, &cmd);
        MR_FUZZ_CHECK(r == MR_IN_MORE || r == MR_IN_COMMAND || r == MR_IN_ERROR, "input() returned %d", r);
        if (r == MR_IN_MORE) {
            /* at most a continuation line */
            MR_FUZZ_CHECK(s->out.len - before <= 256, "%zu bytes sent while waiting",
                          s->out.len - before);
            free(copy);
            break;
        }
        MR_FUZZ_CHECK(cmd.consumed >= 1 && cmd.consumed <= n, "a unit consumed %zu of %zu bytes",
                      cmd.consumed, n);
        MR_FUZZ_CHECK(cmd.line_len <= cmd.consumed || cmd.line == NULL,
                      "line of %zu bytes in a unit of %zu", cmd.line_len, cmd.consumed);
        if (cmd.line && cmd.line_len)
            MR_FUZZ_CHECK(cmd.line >= copy && cmd.line + cmd.line_len <= copy + n,
                          "the unit's line is outside the input");
        if (r == MR_IN_COMMAND) {
            MR_FUZZ_CHECK(cmd.name != NULL && cmd.tag != NULL, "a command without name or tag");
            if (cmd.args && cmd.args_len)
                MR_FUZZ_CHECK(cmd.args >= copy && cmd.args + cmd.args_len <= copy + n,
                              "the command's args are outside the input");
            s->commands++;
            if (s->inject && s->commands % 5 == 0) {
                s->injected++;
                s->proto->error_reply(s, s->st, &cmd, "injected error");
            } else {
                s->proto->execute(s, s->st, &cmd);
            }
        } else {
            s->errors++;
        }
        if (s->out.len - before > 4096 + 16 * cmd.consumed) {
            size_t bound = 4096 + 16 * cmd.consumed * (mailbox_bytes(s) + 1);
            MR_FUZZ_CHECK(s->out.len - before <= bound, "%zu bytes sent for a unit of %zu",
                          s->out.len - before, cmd.consumed);
        }
        free(copy);
        mr_buf_consume(&s->in, cmd.consumed);
        if (s->out.len > OUT_BUDGET)
            s->stopped = 1;
        if (s->want_tls) {
            s->want_tls = 0;
            s->tls = 1;
            if (s->proto->tls_started)
                s->proto->tls_started(s, s->st);
        }
    }
}

static const mr_proto *const protos[4] = {&mr_proto_pop3, &mr_proto_imap, &mr_proto_smtp,
                                          &mr_proto_imap};
static const char *const logins[4] = {
    "USER user\r\nPASS password\r\n",
    "a LOGIN user password\r\nb SELECT INBOX\r\n",
    "EHLO client.example\r\n",
    "a LOGIN user password\r\nb SELECT INBOX\r\n",
};

typedef struct outcome {
    mr_buf out, notes;
    size_t commands, errors;
    int closed, tls, stopped;
    char *user;
    rcvd rcv;
    uint64_t mailbox; /* folder names, counts, uids, flags */
} outcome;

static uint64_t mailbox_digest(const mr_mailbox *mb)
{
    uint64_t h = 0;
    if (!mb)
        return 0;
    for (size_t i = 0; i < mb->nfolders; i++) {
        const mr_folder *f = mb->folders[i];
        h = fnv(h, f->name, strlen(f->name) + 1);
        h = fnv(h, &f->count, sizeof f->count);
        h = fnv(h, &f->uidnext, sizeof f->uidnext);
        for (size_t j = 0; j < f->count; j++) {
            const mr_msg *m = f->msgs[j];
            h = fnv(h, &m->uid, sizeof m->uid);
            h = fnv(h, &m->flags, sizeof m->flags);
            h = fnv(h, &m->d->len, sizeof m->d->len);
            h = fnv(h, &m->pop3_deleted, sizeof m->pop3_deleted);
            for (size_t k = 0; k < m->nkeywords; k++)
                h = fnv(h, m->keywords[k], strlen(m->keywords[k]) + 1);
        }
    }
    return h;
}

static void run_session(uint8_t setup, const uint8_t *data, size_t len, uint8_t flags, uint8_t seed,
                        int whole, outcome *o)
{
    mr_sess s;
    mr_fuzz_feeder fd;
    size_t off = 0, calls = 0;
    memset(&s, 0, sizeof s);
    s.proto = protos[setup & 3];
    s.cfg.protocol = s.proto->name;
    s.cfg.hostname = "mail.example";
    s.cfg.user = "user";
    s.cfg.password = "password";
    s.cfg.tls = ((setup >> 2) & 3) == 0 ? MR_TLS_NONE
              : ((setup >> 2) & 3) == 1 ? MR_TLS_IMPLICIT : MR_TLS_STARTTLS;
    s.cfg.mailbox = the_mailbox;
    if (setup & 0x20) {
        s.cfg.max_line = 128;
        s.cfg.max_literal = 512;
        s.cfg.max_command = 1024;
    } else {
        s.cfg.max_line = 8192;
        s.cfg.max_literal = 1 << 20;
        s.cfg.max_command = 2 << 20;
    }
    s.inject = (setup & 0x40) != 0;
    s.st = calloc(1, s.proto->state_size ? s.proto->state_size : 1);
    if (!s.st)
        abort();
    if (s.cfg.tls == MR_TLS_IMPLICIT)
        s.tls = 1;
    s.proto->init(&s, s.st);
    if (s.tls && s.proto->tls_started)
        s.proto->tls_started(&s, s.st);
    s.proto->greeting(&s, s.st);
    s.greeting_len = s.out.len;

    mr_fuzz_feeder_init(&fd, whole ? 0 : flags, seed);
    while (off < len && !s.closed && !s.stopped) {
        size_t k = whole ? len - off : mr_fuzz_feeder_next(&fd, len - off);
        mr_buf_add(&s.in, data + off, k);
        off += k;
        process(&s);
        MR_FUZZ_CHECK(++calls <= len + 1, "more feeding calls than bytes");
    }
    if ((setup & 0x80) && !s.closed && !s.stopped) {
        s.eof = 1;
        process(&s);
    }

    /* What the run did, for the comparison. */
    memset(o, 0, sizeof *o);
    mr_buf_add(&o->out, s.out.data + s.greeting_len, s.out.len - s.greeting_len);
    mr_buf_add(&o->notes, s.notes.data, s.notes.len);
    o->commands = s.commands;
    o->errors = s.errors;
    o->closed = s.closed;
    o->tls = s.tls;
    o->stopped = s.stopped;
    o->user = s.user;
    o->rcv = s.rcv;
    o->mailbox = mailbox_digest(s.mb);

    s.proto->fini(&s, s.st);
    free(s.st);
    if (s.mb)
        mr_mailbox_free(s.mb);
    mr_buf_free(&s.in);
    mr_buf_free(&s.out);
    mr_buf_free(&s.notes);
}

static void outcome_free(outcome *o)
{
    mr_buf_free(&o->out);
    mr_buf_free(&o->notes);
    free(o->user);
}

/* Replace the numbers after UIDVALIDITY, COPYUID and APPENDUID by '#'
 * (CREATE and RENAME draw them from a process-wide counter). */
static void normalise(mr_buf *b)
{
    static const char *const keys[] = {"UIDVALIDITY ", "COPYUID ", "APPENDUID "};
    for (size_t i = 0; i < b->len; i++)
        for (size_t k = 0; k < 3; k++) {
            size_t kl = strlen(keys[k]);
            if (i + kl <= b->len && memcmp(b->data + i, keys[k], kl) == 0) {
                size_t j = i + kl;
                while (j < b->len && b->data[j] >= '0' && b->data[j] <= '9')
                    b->data[j++] = '#';
            }
        }
}

static int names(const uint8_t *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= n; i++) {
        size_t k = 0;
        while (k < w && (p[i + k] | 0x20) == (word[k] | 0x20))
            k++;
        if (k == w)
            return 1;
    }
    return 0;
}

static void first_diff(const mr_buf *a, const mr_buf *b, const char *what)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->data[i] == b->data[i])
        i++;
    if (i == a->len && i == b->len)
        return;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "whole:   %.*s\n", (int)((a->len > from ? a->len - from : 0) < 200 ? a->len - from : 200),
            (const char *)a->data + from);
    fprintf(stderr, "chunked: %.*s\n", (int)((b->len > from ? b->len - from : 0) < 200 ? b->len - from : 200),
            (const char *)b->data + from);
    mr_fuzz_fail(__FILE__, __LINE__, what, "differs at byte %zu (%zu and %zu bytes)", i, a->len, b->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_fuzz_input in = mr_fuzz_split(data, size, 3);
    uint8_t setup = mr_fuzz_hdr(&in, 0), flags = mr_fuzz_hdr(&in, 1), seed = mr_fuzz_hdr(&in, 2);
    const char *login = (setup & 0x10) ? logins[setup & 3] : "";
    size_t ll = strlen(login), len = ll + in.len;
    uint8_t *stream = mr_fuzz_copy(NULL, len);
    outcome a, b;
    time_t t0, t1;

    if (!the_mailbox) {
        /* A GLib critical is a misuse of GLib by mr_mime.c: fail on it. */
        g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
        mr_mime_init();
        make_mailbox();
    }
    memcpy(stream, login, ll);
    if (in.len)
        memcpy(stream + ll, in.data, in.len);

    t0 = time(NULL);
    run_session(setup, stream, len, flags, seed, 1, &a);
    run_session(setup, stream, len, flags, seed, 0, &b);
    t1 = time(NULL);

    if (!names(stream, len, "CRAM") && (t0 == t1 || !names(stream, len, "APPEND"))) {
        normalise(&a.out);
        normalise(&b.out);
        first_diff(&a.out, &b.out, "the output after the greeting");
        first_diff(&a.notes, &b.notes, "the notes");
        /* Not the error units: the rest of a refused line or literal is
         * dropped as it arrives, in as many units as reads. */
        MR_FUZZ_CHECK(a.commands == b.commands, "%zu commands whole, %zu chunked", a.commands,
                      b.commands);
        MR_FUZZ_CHECK(a.closed == b.closed && a.tls == b.tls && a.stopped == b.stopped,
                      "end state differs");
        MR_FUZZ_CHECK((a.user == NULL) == (b.user == NULL) && (!a.user || strcmp(a.user, b.user) == 0),
                      "the user differs");
        MR_FUZZ_CHECK(a.rcv.n == b.rcv.n && a.rcv.digest == b.rcv.digest, "received messages differ");
        MR_FUZZ_CHECK(a.mailbox == b.mailbox, "the mailboxes differ");
    }
    outcome_free(&a);
    outcome_free(&b);
    free(stream);
    return 0;
}
