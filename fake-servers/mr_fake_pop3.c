/*
 * mr_fake_pop3.c - the fake POP3 server's default behaviour: what a
 * correct server answers (RFC 1939, with CAPA from RFC 2449, STLS from
 * RFC 2595 4, AUTH from RFC 5034, response codes from RFC 2449 8 and
 * RFC 3206).  The engine frames nothing and answers nothing itself: see
 * mr_fake.h.
 *
 * States (RFC 1939 3): AUTHORIZATION (USER/PASS, APOP, AUTH, CAPA, STLS,
 * QUIT), an AUTH exchange under way (every line is a "<sasl>" response,
 * RFC 5034 4), TRANSACTION over the session's copy of INBOX (STAT, LIST,
 * UIDL, RETR, TOP, DELE, RSET, NOOP, CAPA, QUIT), and UPDATE on QUIT:
 * the messages marked by DELE leave the session's mailbox.
 *
 * Choices (a real server may differ):
 *   - the greeting's APOP timestamp is <pid.session.time@host>: RFC 1939 7
 *     wants it different on every greeting; the session number keeps two
 *     sessions of the same second apart.
 *   - command lines are accepted up to the config's max_line although
 *     RFC 2449 4 caps them at 255 octets (a note says so); a bare LF ends
 *     a line (noted).
 *   - "AUTH" without a mechanism lists the mechanisms, one per line (as
 *     Dovecot and the pre-RFC 5034 servers do; Outlook probes with it).
 *   - XOAUTH2 is accepted by AUTH although CAPA's SASL line lists only
 *     PLAIN LOGIN CRAM-MD5.
 *   - after MAX_BAD consecutive protocol errors (unknown command, wrong
 *     state, bad arguments, garbage lines; failed logins do not count)
 *     the server says so and closes, as Dovecot does (it allows 20): a
 *     client stuck in a loop should see an end, not hang a test.
 *   - RETR (not TOP) sets \Seen on the message (visible in the session's
 *     mailbox result).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mr_cmd_line.h"
#include "mr_fake.h"
#include "mr_mailbox.h"
#include "mr_sasl.h"

#define MAX_BAD 10
#define RFC_LINE_MAX 255 /* RFC 2449 4: a command line, CRLF included */

typedef enum pop3_state { P_AUTH = 0, P_SASL, P_TRANS, P_DONE } pop3_state;

typedef struct pop3_st {
    pop3_state state;
    mr_cmdline_reader rd;
    mr_cmdline cur;        /* the unit input() framed last; cmd->name may point into it */
    char timestamp[160];   /* the greeting's <...>, for APOP */
    char user[256];        /* from USER */
    int have_user;
    mr_sasl sasl;
    mr_folder *inbox;      /* TRANSACTION: the session's INBOX */
    unsigned bad;          /* consecutive protocol errors */
} pop3_st;

/* ------------------------------------------------------------ helpers */

static void good(pop3_st *st) { st->bad = 0; }

/* A protocol error: "-ERR text"; the MAX_BADth in a row closes. */
static void bad(mr_sess *s, pop3_st *st, const char *text)
{
    mr_sess_sendf(s, "-ERR %s\r\n", text);
    if (++st->bad >= MAX_BAD) {
        mr_sess_sends(s, "-ERR Too many bad commands, closing connection\r\n");
        mr_sess_note(s, "closing after %u consecutive bad commands", st->bad);
        st->state = P_DONE;
        mr_sess_close(s);
    }
}

static size_t nmsgs(const pop3_st *st) { return st->inbox ? st->inbox->count : 0; }

/* Split args on runs of spaces into at most max words; returns the
 * number of words, max + 1 when there are more. */
typedef struct word {
    const uint8_t *p;
    size_t len;
} word;

static size_t split(const uint8_t *a, size_t len, word *w, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && a[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t b = i;
        while (i < len && a[i] != ' ')
            i++;
        if (n == max)
            return max + 1;
        w[n].p = a + b;
        w[n].len = i - b;
        n++;
    }
    return n;
}

/* A decimal number of at most 9 digits (RFC 1939 3: no sign). */
static int number(const word *w, size_t *out)
{
    if (w->len == 0 || w->len > 9)
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->p[i] < '0' || w->p[i] > '9')
            return -1;
        v = v * 10 + (size_t)(w->p[i] - '0');
    }
    *out = v;
    return 0;
}

/* A message number: its index in INBOX, or -1 after queuing the error.
 * RFC 1939 5: a message marked as deleted may not be referred to. */
static int msg_index(mr_sess *s, pop3_st *st, const word *w, size_t *idx)
{
    size_t n;
    if (number(w, &n) < 0) {
        bad(s, st, "Invalid message number");
        return -1;
    }
    if (n == 0 || n > nmsgs(st)) {
        bad(s, st, "No such message");
        return -1;
    }
    if (st->inbox->msgs[n - 1]->pop3_deleted) {
        mr_sess_sendf(s, "-ERR Message %zu already deleted\r\n", n);
        return -1;
    }
    *idx = n - 1;
    return 0;
}

static void totals(const pop3_st *st, size_t *count, unsigned long long *octets)
{
    *count = 0;
    *octets = 0;
    for (size_t i = 0; i < nmsgs(st); i++) {
        const mr_msg *m = st->inbox->msgs[i];
        if (!m->pop3_deleted) {
            (*count)++;
            *octets += m->d->len;
        }
    }
}

/*
 * Send lines of a message with byte-stuffing (RFC 1939 3: a line that
 * begins with "." gets another): the header and, after the empty line
 * that ends it, at most body_lines lines of the body (SIZE_MAX: all).
 * The last line gets a CRLF when the message lacks one; then ".".
 */
static void send_message(mr_sess *s, const mr_msg *m, size_t body_lines)
{
    const uint8_t *d = m->d->data;
    size_t len = m->d->len, o = 0;
    int in_body = 0;
    size_t sent_body = 0;
    const uint8_t *ends_with_lf = NULL;
    while (o < len) {
        if (in_body && sent_body >= body_lines)
            break;
        const uint8_t *lf = memchr(d + o, '\n', len - o);
        size_t e = lf ? (size_t)(lf - d) + 1 : len;
        if (d[o] == '.')
            mr_sess_send(s, ".", 1);
        mr_sess_send(s, d + o, e - o);
        ends_with_lf = lf;
        if (in_body)
            sent_body++;
        else if (e - o == 1 || (e - o == 2 && d[o] == '\r'))
            in_body = 1; /* the empty line that ends the header */
        o = e;
    }
    if (o > 0 && !ends_with_lf)
        mr_sess_send(s, "\r\n", 2);
    mr_sess_send(s, ".\r\n", 3);
}

static void md5_hex(const char *a, const char *b, char out[33])
{
    static const char h[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    out[0] = 0;
    if (!c)
        return;
    if (EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(c, a, strlen(a)) == 1 &&
        EVP_DigestUpdate(c, b, strlen(b)) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 16) {
        for (int i = 0; i < 16; i++) {
            out[2 * i] = h[md[i] >> 4];
            out[2 * i + 1] = h[md[i] & 15];
        }
        out[32] = 0;
    }
    EVP_MD_CTX_free(c);
}

/* ------------------------------------------------------------ states */

static void logged_in(mr_sess *s, pop3_st *st, const char *user, const char *how)
{
    mr_mailbox *mb = mr_sess_mailbox(s);
    st->inbox = mr_mailbox_find(mb, "INBOX");
    if (!st->inbox && mb->nfolders)
        st->inbox = mb->folders[0];
    for (size_t i = 0; i < nmsgs(st); i++)
        st->inbox->msgs[i]->pop3_deleted = 0;
    st->state = P_TRANS;
    st->have_user = 0;
    mr_sess_set_user(s, user);
    mr_sess_note(s, "authenticated as %s (%s)", user, how);
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    mr_sess_sendf(s, "+OK Logged in, %zu messages (%llu octets)\r\n", count, octets);
    good(st);
}

static void auth_failed(mr_sess *s, pop3_st *st, const char *how)
{
    /* RFC 3206 4: [AUTH] says the credentials, not the server, are wrong. */
    mr_sess_sendf(s, "-ERR [AUTH] %s\r\n", how);
    mr_sess_note(s, "authentication failed");
    st->state = P_AUTH;
    st->have_user = 0;
}

static void sasl_result(mr_sess *s, pop3_st *st, mr_sasl_status r, const char *chal)
{
    switch (r) {
    case MR_SASL_CHALLENGE:
        mr_sess_sendf(s, "+ %s\r\n", chal); /* RFC 5034 4: "+" SP base64 */
        st->state = P_SASL;
        break;
    case MR_SASL_OK: {
        char how[32];
        snprintf(how, sizeof how, "AUTH %s", mr_sasl_mech_name(st->sasl.mech));
        logged_in(s, st, st->sasl.authenticated, how);
        break;
    }
    case MR_SASL_FAIL:
        auth_failed(s, st, "Authentication failed");
        break;
    case MR_SASL_ABORTED:
        /* RFC 5034 4: "*" cancels; the server MUST reject the AUTH command. */
        mr_sess_sends(s, "-ERR Authentication aborted\r\n");
        st->state = P_AUTH;
        break;
    default:
        mr_sess_sends(s, "-ERR Malformed authentication response\r\n");
        st->state = P_AUTH;
        break;
    }
}

static void cmd_capa(mr_sess *s, pop3_st *st)
{
    /* RFC 2449 5-6; STLS from RFC 2595 4, SASL from RFC 5034 5. */
    mr_sess_sends(s, "+OK Capability list follows\r\n"
                     "TOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\nRESP-CODES\r\n"
                     "PIPELINING\r\nAUTH-RESP-CODE\r\n");
    if (st->state == P_AUTH && mr_sess_starttls_offerable(s))
        mr_sess_sends(s, "STLS\r\n");
    mr_sess_sends(s, "IMPLEMENTATION mailrig\r\n.\r\n");
    good(st);
}

static void cmd_quit(mr_sess *s, pop3_st *st)
{
    if (st->state == P_TRANS) {
        /* RFC 1939 6: the UPDATE state removes the marked messages. */
        size_t removed = 0;
        for (size_t i = nmsgs(st); i-- > 0;) {
            if (st->inbox->msgs[i]->pop3_deleted) {
                mr_sess_note(s, "message %zu deleted (uid %u)", i + 1, (unsigned)st->inbox->msgs[i]->uid);
                mr_folder_remove(st->inbox, i);
                removed++;
            }
        }
        mr_sess_note(s, "QUIT: %zu messages removed, %zu left", removed, nmsgs(st));
        if (nmsgs(st))
            mr_sess_sendf(s, "+OK mailrig POP3 server signing off (%zu messages left)\r\n", nmsgs(st));
        else
            mr_sess_sends(s, "+OK mailrig POP3 server signing off (maildrop empty)\r\n");
    } else {
        mr_sess_sends(s, "+OK mailrig POP3 server signing off\r\n");
    }
    st->state = P_DONE;
    mr_sess_close(s);
}

static void cmd_auth(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    word w[2];
    size_t nw = split(cmd->args, cmd->args_len, w, 2);
    if (nw == 0) {
        mr_sess_sends(s, "+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n");
        good(st);
        return;
    }
    if (nw > 2) {
        bad(s, st, "Syntax: AUTH mechanism [initial-response]");
        return;
    }
    mr_sasl_mech m;
    if (mr_sasl_mech_parse((const char *)w[0].p, w[0].len, &m) < 0) {
        bad(s, st, "Unsupported authentication mechanism");
        return;
    }
    const mr_fake_config *cfg = mr_sess_config(s);
    char chal[512];
    mr_sasl_status r = mr_sasl_start(&st->sasl, m, cfg->user, cfg->password, cfg->hostname,
                                     nw == 2 ? w[1].p : NULL, nw == 2 ? w[1].len : 0, chal, sizeof chal);
    good(st);
    sasl_result(s, st, r, chal);
}

static void cmd_user(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    if (cmd->args_len == 0 || cmd->args_len >= sizeof st->user) {
        bad(s, st, "Syntax: USER name");
        return;
    }
    memcpy(st->user, cmd->args, cmd->args_len);
    st->user[cmd->args_len] = 0;
    st->have_user = 1;
    mr_sess_sends(s, "+OK Send PASS\r\n");
    good(st);
}

static void cmd_pass(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    if (!st->have_user) {
        bad(s, st, "No USER given");
        return;
    }
    const mr_fake_config *cfg = mr_sess_config(s);
    /* RFC 1939 7: the password is the rest of the line, spaces included. */
    size_t pl = strlen(cfg->password);
    if (strcmp(st->user, cfg->user) == 0 && cmd->args_len == pl && memcmp(cmd->args, cfg->password, pl) == 0) {
        char u[256];
        snprintf(u, sizeof u, "%s", st->user);
        logged_in(s, st, u, "USER/PASS");
    } else {
        auth_failed(s, st, "Invalid user name or password");
    }
}

static void cmd_apop(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    word w[2];
    if (split(cmd->args, cmd->args_len, w, 2) != 2 || w[1].len != 32 || w[0].len > 255) {
        bad(s, st, "Syntax: APOP name digest");
        return;
    }
    const mr_fake_config *cfg = mr_sess_config(s);
    char want[33];
    md5_hex(st->timestamp, cfg->password, want);
    /* RFC 1939 7: the digest is in lower-case hex; accept either case. */
    if (w[0].len == strlen(cfg->user) && memcmp(w[0].p, cfg->user, w[0].len) == 0 && want[0] &&
        strncasecmp((const char *)w[1].p, want, 32) == 0)
        logged_in(s, st, cfg->user, "APOP");
    else
        auth_failed(s, st, "Invalid user name or digest");
}

static void cmd_stls(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    if (cmd->args_len) {
        bad(s, st, "Syntax: STLS takes no argument");
    } else if (mr_sess_tls_active(s)) {
        bad(s, st, "TLS already active"); /* RFC 2595 4 */
    } else if (!mr_sess_starttls_offerable(s)) {
        bad(s, st, "STLS not available");
    } else {
        mr_sess_sends(s, "+OK Begin TLS negotiation\r\n");
        mr_sess_starttls(s);
        good(st);
    }
}

static void cmd_stat(mr_sess *s, pop3_st *st)
{
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    mr_sess_sendf(s, "+OK %zu %llu\r\n", count, octets);
    good(st);
}

/* LIST and UIDL: one message, or all that are not deleted. */
static void cmd_list(mr_sess *s, pop3_st *st, const mr_cmd *cmd, int uidl)
{
    word w[1];
    size_t nw = split(cmd->args, cmd->args_len, w, 1);
    if (nw > 1) {
        bad(s, st, uidl ? "Syntax: UIDL [msg]" : "Syntax: LIST [msg]");
        return;
    }
    if (nw == 1) {
        size_t i;
        if (msg_index(s, st, &w[0], &i) < 0)
            return;
        const mr_msg *m = st->inbox->msgs[i];
        if (uidl)
            mr_sess_sendf(s, "+OK %zu %s\r\n", i + 1, m->uidl[0] ? m->uidl : "0");
        else
            mr_sess_sendf(s, "+OK %zu %zu\r\n", i + 1, m->d->len);
        good(st);
        return;
    }
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    if (uidl)
        mr_sess_sends(s, "+OK Unique-ID listing follows\r\n");
    else
        mr_sess_sendf(s, "+OK %zu messages (%llu octets)\r\n", count, octets);
    for (size_t i = 0; i < nmsgs(st); i++) {
        const mr_msg *m = st->inbox->msgs[i];
        if (m->pop3_deleted)
            continue;
        if (uidl) {
            if (m->uidl[0])
                mr_sess_sendf(s, "%zu %s\r\n", i + 1, m->uidl);
            else
                mr_sess_sendf(s, "%zu %u\r\n", i + 1, (unsigned)m->uid);
        } else {
            mr_sess_sendf(s, "%zu %zu\r\n", i + 1, m->d->len);
        }
    }
    mr_sess_sends(s, ".\r\n");
    good(st);
}

static void cmd_retr(mr_sess *s, pop3_st *st, const mr_cmd *cmd, int top)
{
    word w[2];
    size_t nw = split(cmd->args, cmd->args_len, w, 2);
    size_t lines = SIZE_MAX, i;
    if (nw != (top ? 2u : 1u)) {
        bad(s, st, top ? "Syntax: TOP msg lines" : "Syntax: RETR msg");
        return;
    }
    if (top && number(&w[1], &lines) < 0) {
        bad(s, st, "Invalid number of lines");
        return;
    }
    if (msg_index(s, st, &w[0], &i) < 0)
        return;
    mr_msg *m = st->inbox->msgs[i];
    if (top) {
        mr_sess_sends(s, "+OK Top of message follows\r\n");
    } else {
        mr_sess_sendf(s, "+OK %zu octets\r\n", m->d->len);
        m->flags |= MR_F_SEEN;
    }
    send_message(s, m, lines);
    good(st);
}

static void cmd_dele(mr_sess *s, pop3_st *st, const mr_cmd *cmd)
{
    word w[1];
    size_t i;
    if (split(cmd->args, cmd->args_len, w, 1) != 1) {
        bad(s, st, "Syntax: DELE msg");
        return;
    }
    if (msg_index(s, st, &w[0], &i) < 0)
        return;
    st->inbox->msgs[i]->pop3_deleted = 1;
    mr_sess_sendf(s, "+OK Message %zu deleted\r\n", i + 1);
    good(st);
}

static void cmd_rset(mr_sess *s, pop3_st *st)
{
    for (size_t i = 0; i < nmsgs(st); i++)
        st->inbox->msgs[i]->pop3_deleted = 0;
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    mr_sess_sendf(s, "+OK maildrop has %zu messages (%llu octets)\r\n", count, octets);
    good(st);
}

/* ------------------------------------------------------------ the vtable */

static void pop3_init(mr_sess *s, void *vst)
{
    pop3_st *st = vst;
    mr_cmdline_init(&st->rd, mr_sess_config(s)->max_line);
    st->state = P_AUTH;
}

static void pop3_fini(mr_sess *s, void *vst) { (void)s, (void)vst; }

static void pop3_greeting(mr_sess *s, void *vst)
{
    pop3_st *st = vst;
    const mr_fake_config *cfg = mr_sess_config(s);
    snprintf(st->timestamp, sizeof st->timestamp, "<%ld.%u.%lld@%.100s>", (long)getpid(), mr_sess_id(s),
             (long long)time(NULL), cfg->hostname ? cfg->hostname : "localhost");
    mr_sess_sendf(s, "+OK mailrig POP3 ready %s\r\n", st->timestamp);
}

static int pop3_input(mr_sess *s, void *vst, const uint8_t *p, size_t n, int eof, mr_cmd *cmd)
{
    pop3_st *st = vst;
    (void)eof;
    int sasl = st->state == P_SASL;
    int r = mr_cmdline_read(&st->rd, p, n, sasl ? MR_CMDLINE_RAW : 0, &st->cur);
    if (r == MR_CMDLINE_MORE)
        return MR_IN_MORE; /* at eof an unterminated line stays unanswered */
    const mr_cmdline *c = &st->cur;
    cmd->tag = "";
    cmd->name = sasl ? "<sasl>" : c->verb;
    cmd->line = c->line;
    cmd->line_len = c->line_len;
    cmd->args = c->args;
    cmd->args_len = c->args_len;
    cmd->consumed = c->consumed;
    if (r == MR_CMDLINE_ERROR) {
        cmd->name = sasl ? "<sasl>" : "";
        if (c->err == MR_CMDLINE_E_DISCARD)
            return MR_IN_ERROR; /* answered when the line was found too long */
        if (sasl)
            st->state = P_AUTH; /* RFC 5034 4: the exchange fails */
        if (c->err == MR_CMDLINE_E_TOO_LONG) {
            char t[80];
            snprintf(t, sizeof t, "Line too long (max %zu octets)", st->rd.max_line);
            bad(s, st, t);
        } else if (c->err == MR_CMDLINE_E_NUL) {
            bad(s, st, "NUL byte in command");
        } else if (c->err == MR_CMDLINE_E_EMPTY) {
            bad(s, st, "Empty command");
        } else {
            bad(s, st, "Unknown command");
        }
        return MR_IN_ERROR;
    }
    if (c->bare_lf)
        mr_sess_note(s, "line ended by a bare LF (RFC 1939 3 asks for CRLF)");
    /* RFC 5034 4: the 255-octet limit does not bind SASL responses. */
    if (!sasl && c->consumed > RFC_LINE_MAX)
        mr_sess_note(s, "command line of %zu octets, over RFC 2449 4's %d (accepted)", c->consumed,
                     RFC_LINE_MAX);
    return MR_IN_COMMAND;
}

static int is(const mr_cmd *cmd, const char *name) { return strcmp(cmd->name, name) == 0; }

static void pop3_execute(mr_sess *s, void *vst, const mr_cmd *cmd)
{
    pop3_st *st = vst;
    switch (st->state) {
    case P_SASL: {
        char chal[512];
        mr_sasl_status r = mr_sasl_step(&st->sasl, cmd->args, cmd->args_len, chal, sizeof chal);
        sasl_result(s, st, r, chal);
        return;
    }
    case P_DONE:
        return;
    case P_AUTH:
        if (is(cmd, "CAPA"))
            cmd_capa(s, st);
        else if (is(cmd, "QUIT"))
            cmd_quit(s, st);
        else if (is(cmd, "USER"))
            cmd_user(s, st, cmd);
        else if (is(cmd, "PASS"))
            cmd_pass(s, st, cmd);
        else if (is(cmd, "APOP"))
            cmd_apop(s, st, cmd);
        else if (is(cmd, "AUTH"))
            cmd_auth(s, st, cmd);
        else if (is(cmd, "STLS"))
            cmd_stls(s, st, cmd);
        else if (is(cmd, "STAT") || is(cmd, "LIST") || is(cmd, "UIDL") || is(cmd, "RETR") ||
                 is(cmd, "TOP") || is(cmd, "DELE") || is(cmd, "RSET") || is(cmd, "NOOP"))
            bad(s, st, "Not logged in (command only valid in TRANSACTION state)");
        else
            bad(s, st, "Unknown command");
        return;
    case P_TRANS:
        if (is(cmd, "STAT"))
            cmd_stat(s, st);
        else if (is(cmd, "LIST"))
            cmd_list(s, st, cmd, 0);
        else if (is(cmd, "UIDL"))
            cmd_list(s, st, cmd, 1);
        else if (is(cmd, "RETR"))
            cmd_retr(s, st, cmd, 0);
        else if (is(cmd, "TOP"))
            cmd_retr(s, st, cmd, 1);
        else if (is(cmd, "DELE"))
            cmd_dele(s, st, cmd);
        else if (is(cmd, "RSET"))
            cmd_rset(s, st);
        else if (is(cmd, "NOOP")) {
            mr_sess_sends(s, "+OK\r\n");
            good(st);
        } else if (is(cmd, "CAPA"))
            cmd_capa(s, st);
        else if (is(cmd, "QUIT"))
            cmd_quit(s, st);
        else if (is(cmd, "USER") || is(cmd, "PASS") || is(cmd, "APOP") || is(cmd, "AUTH") ||
                 is(cmd, "STLS"))
            bad(s, st, "Already logged in (command only valid in AUTHORIZATION state)");
        else
            bad(s, st, "Unknown command");
        return;
    }
}

static void pop3_error_reply(mr_sess *s, void *vst, const mr_cmd *cmd, const char *text)
{
    pop3_st *st = vst;
    (void)cmd;
    mr_sess_sendf(s, "-ERR %s\r\n", text);
    if (st->state == P_SASL)
        st->state = P_AUTH; /* the exchange ends with the error */
}

static void pop3_tls_started(mr_sess *s, void *vst)
{
    pop3_st *st = vst;
    (void)s;
    /* RFC 2595 4: after STLS the session is back in AUTHORIZATION; what
     * the client said in plaintext (USER) is forgotten. */
    mr_cmdline_reset(&st->rd);
    if (st->state != P_DONE) {
        st->state = P_AUTH;
        st->have_user = 0;
    }
}

const mr_proto mr_proto_pop3 = {
    "pop3",           sizeof(pop3_st), pop3_init,        pop3_fini, pop3_greeting,
    pop3_input,       pop3_execute,    pop3_error_reply, pop3_tls_started,
};
