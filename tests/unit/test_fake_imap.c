/*
 * test_fake_imap.c - the fake IMAP server's default behaviour
 * (fake-servers/mr_fake_imap.c) and its command reader and tokenizer
 * (fake-servers/mr_cmd_imap.c), through the stand-in session
 * (mr_mocksess.h): a whole session, every SASL mechanism (RFC 9051 6.2.2),
 * synchronizing and non-synchronizing literals (RFC 9051 4.3, RFC 7888),
 * the same answers at every split of the client's bytes, bounds, garbage,
 * STARTTLS (RFC 9051 6.2.1), IDLE (RFC 2177), APPEND and FETCH back,
 * SEARCH keys (RFC 3501 6.4.4), COPY/MOVE/UID EXPUNGE (RFC 4315, 6851).
 *
 * Every byte the server sends in these tests also goes through the
 * repository's strict IMAP response parser (parsers/imap/mr_imap.h), told
 * which commands were sent: it must parse and report no RFC deviation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "imap/mr_imap.h"
#include "mr_cmd_imap.h"
#include "mr_fake.h"
#include "mr_mailbox.h"
#include "mr_mocksess.h"

/* ------------------------------------------------------------ fixtures */

static const char *const MSGS[] = {
    "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nCc: carol@example.com\r\n"
    "Subject: Hello one\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\n"
    "First body with banana\r\n",
    "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: second\r\n"
    "Date: Tue, 2 Jan 2024 10:00:00 +0000\r\nX-Tag: red\r\n\r\nl1\r\nl2\r\n",
    "From: carol@example.com\r\nTo: alice@example.com\r\nSubject: Third, multipart\r\n"
    "Date: Wed, 3 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    "part one cherry\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--b--\r\n",
};
#define NMSGS 3
#define DAY 86400
#define T2024 1704067200 /* 2024-01-01T00:00:00Z */

static mr_mailbox *mailbox(void)
{
    mr_mailbox *mb = mr_mailbox_new();
    mr_folder *f = mr_mailbox_find(mb, "INBOX");
    assert_non_null(f);
    mr_folder_append(f, (const uint8_t *)MSGS[0], strlen(MSGS[0]), MR_F_SEEN, T2024);
    mr_folder_append(f, (const uint8_t *)MSGS[1], strlen(MSGS[1]), MR_F_FLAGGED | MR_F_RECENT,
                     T2024 + DAY);
    mr_folder_append(f, (const uint8_t *)MSGS[2], strlen(MSGS[2]), MR_F_RECENT, T2024 + 2 * DAY);
    f->msgs[0]->flags &= ~(unsigned)MR_F_RECENT; /* mr_folder_append sets it */
    mr_msg_add_keyword(f->msgs[1], "$Work");
    assert_non_null(mr_mailbox_create(mb, "Archive"));
    assert_non_null(mr_mailbox_create(mb, "Archive/2024"));
    return mb;
}

/* A session and its strict checker. */
typedef struct T {
    mr_mailbox *mb;
    mr_sess *s;
    mr_imap_parser *p;
    size_t responses;
} T;

static void check_event(T *t, mr_event_type ty, const mr_imap_event *ev, const char *out)
{
    if (ty == MR_EV_ERROR) {
        fprintf(stderr, "strict parser error %s (%s) at %llu in:\n%s\n",
                mr_errcode_name(ev->error.code), ev->error.detail ? ev->error.detail : "",
                (unsigned long long)ev->error.offset, out);
        fail();
    }
    if (ty == MR_EV_RESPONSE) {
        const mr_imap_response *r = ev->response;
        for (size_t i = 0; i < r->n_diags; i++)
            fprintf(stderr, "strict diagnostic %s: %s at %llu in:\n%s\n", r->diags[i].ref,
                    r->diags[i].message, (unsigned long long)r->diags[i].offset, out);
        assert_int_equal(r->n_diags, 0);
        t->responses++;
    }
}

/* Feed what the server sent to the strict parser. */
static void check_server(T *t, const char *out)
{
    size_t n = strlen(out), off = 0, used;
    mr_imap_event ev;
    while (off < n) {
        mr_event_type ty = mr_imap_next(t->p, (const uint8_t *)out + off, n - off, &used, &ev);
        off += used;
        if (ty == MR_EV_NEED_MORE)
            break;
        check_event(t, ty, &ev, out);
    }
    assert_int_equal(off, n);
}

static void start_cfg(T *t, mr_tls_mode tls, size_t max_line, size_t max_literal)
{
    mr_fake_config cfg;
    mr_options o;
    memset(&cfg, 0, sizeof cfg);
    memset(&o, 0, sizeof o);
    memset(t, 0, sizeof *t);
    t->mb = mailbox();
    cfg.mailbox = t->mb;
    cfg.tls = tls;
    cfg.max_line = max_line;
    cfg.max_literal = max_literal;
    cfg.hostname = "imap.test";
    t->s = mock_new(&mr_proto_imap, &cfg);
    o.mode = MR_STRICT;
    t->p = mr_imap_new(&o);
    assert_non_null(t->p);
    mock_greet(t->s);
    char *g = mock_take(t->s);
    assert_true(strncmp(g, "* OK [CAPABILITY IMAP4rev1 ", 27) == 0);
    assert_non_null(strstr(g, "] mailrig IMAP ready\r\n"));
    check_server(t, g);
    free(g);
}

static void start(T *t) { start_cfg(t, MR_TLS_NONE, 0, 0); }

static void stop(T *t)
{
    mr_imap_event ev;
    assert_int_equal(mr_imap_finish(t->p, &ev), MR_EV_NEED_MORE);
    mr_imap_free(t->p);
    mock_free(t->s);
    mr_mailbox_free(t->mb);
}

/* Tell the checker about every command line in what the client sends
 * (first lines only: a line after a literal is skipped). */
static void expect_lines(T *t, const char *send)
{
    const char *p = send;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        (void)mr_imap_expect_line(t->p, (const uint8_t *)p, len + (e ? 2 : 0));
        uint64_t size;
        int bin, ns;
        size_t st;
        if (e && mr_imap_literal_marker((const uint8_t *)p, len, &size, &bin, &ns, &st) == 1) {
            /* skip the literal and the rest of the command */
            if (size > strlen(e + 2))
                return;
            const char *q = e + 2 + size;
            while (*q) {
                const char *e2 = strstr(q, "\r\n");
                if (!e2) {
                    q += strlen(q);
                    break;
                }
                size_t l2 = (size_t)(e2 - q);
                if (mr_imap_literal_marker((const uint8_t *)q, l2, &size, &bin, &ns, &st) == 1) {
                    if (size > strlen(e2 + 2))
                        return;
                    q = e2 + 2 + size;
                }
                else {
                    q = e2 + 2;
                    break;
                }
            }
            p = q;
            continue;
        }
        p = e ? e + 2 : p + len;
    }
}

/* Send; returns what the server answered (free), checked strictly. */
static char *say(T *t, const char *send)
{
    expect_lines(t, send);
    mock_feeds(t->s, send);
    char *got = mock_take(t->s);
    check_server(t, got);
    return got;
}

static void has(const char *got, const char *want)
{
    if (!strstr(got, want))
        fprintf(stderr, "want: %s\ngot:  %s\n", want, got);
    assert_non_null(strstr(got, want));
}

static void lacks(const char *got, const char *want)
{
    if (strstr(got, want))
        fprintf(stderr, "unwanted: %s\ngot:  %s\n", want, got);
    assert_null(strstr(got, want));
}

/* Send; the answer must contain want. */
static void expect_has(T *t, const char *send, const char *want)
{
    char *got = say(t, send);
    has(got, want);
    free(got);
}

/* Send; the answer must be exactly want. */
static void expect_eq(T *t, const char *send, const char *want)
{
    char *got = say(t, send);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "sent: %s\nwant: %s\ngot:  %s\n", send, want, got);
    assert_string_equal(got, want);
    free(got);
}

static void login(T *t)
{
    expect_has(t, "l1 LOGIN user password\r\n", "l1 OK [CAPABILITY IMAP4rev1 ");
}

static void login_select(T *t)
{
    login(t);
    expect_has(t, "s1 SELECT INBOX\r\n", "s1 OK [READ-WRITE] SELECT completed\r\n");
}

static void b64(const char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

static size_t unb64(const char *in, size_t len, char *out)
{
    int n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
    assert_true(n >= 0);
    while (len && in[len - 1] == '=') {
        n--;
        len--;
    }
    out[n] = 0;
    return (size_t)n;
}

/* ------------------------------------------------------------ a session */

static void test_session(void **state)
{
    T t;
    char *got;
    start(&t);
    got = say(&t, "a0 CAPABILITY\r\n");
    has(got, "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE "
             "UNSELECT CHILDREN AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=XOAUTH2\r\n");
    lacks(got, "STARTTLS");
    lacks(got, "LOGINDISABLED");
    has(got, "a0 OK CAPABILITY completed\r\n");
    free(got);
    expect_has(&t, "a1 SELECT INBOX\r\n", "a1 BAD Command not valid in this state\r\n");
    expect_eq(&t, "a2 LOGIN user wrong\r\n", "a2 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
    got = say(&t, "a3 LOGIN \"user\" \"password\"\r\n");
    has(got, "a3 OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT "
             "CHILDREN] LOGIN completed\r\n");
    lacks(got, "AUTH=");
    free(got);
    assert_string_equal(mock_user(t.s), "user");
    expect_has(&t, "a3b LOGIN user password\r\n", "a3b BAD");
    got = say(&t, "a4 LIST \"\" \"*\"\r\n");
    has(got, "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n");
    has(got, "* LIST (\\HasChildren) \"/\" \"Archive\"\r\n");
    has(got, "* LIST (\\HasNoChildren) \"/\" \"Archive/2024\"\r\n");
    free(got);
    got = say(&t, "a5 LIST \"\" %\r\n");
    lacks(got, "Archive/2024");
    has(got, "\"Archive\"");
    free(got);
    expect_eq(&t, "a6 LIST \"\" \"\"\r\n", "* LIST (\\Noselect) \"/\" \"\"\r\na6 OK LIST completed\r\n");
    expect_eq(&t, "a6b LIST Archive/ %\r\n",
              "* LIST (\\HasNoChildren) \"/\" \"Archive/2024\"\r\na6b OK LIST completed\r\n");
    expect_eq(&t, "a6c list \"\" inbox\r\n",
              "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\na6c OK LIST completed\r\n");
    expect_eq(&t, "a7 NAMESPACE\r\n", "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\na7 OK NAMESPACE completed\r\n");
    expect_eq(&t, "a8 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\r\n",
              "* STATUS \"INBOX\" (MESSAGES 3 RECENT 2 UIDNEXT 4 UIDVALIDITY 1 UNSEEN 2)\r\n"
              "a8 OK STATUS completed\r\n");
    got = say(&t, "a9 SELECT inbox\r\n");
    has(got, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n");
    has(got, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]");
    has(got, "* 3 EXISTS\r\n* 2 RECENT\r\n* OK [UNSEEN 2] ");
    has(got, "* OK [UIDVALIDITY 1] ");
    has(got, "* OK [UIDNEXT 4] ");
    has(got, "a9 OK [READ-WRITE] SELECT completed\r\n");
    free(got);
    got = say(&t, "b1 FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)\r\n");
    has(got, "* 1 FETCH (FLAGS (\\Seen) ENVELOPE (\"Mon, 1 Jan 2024 10:00:00 +0000\" \"Hello one\" ");
    has(got, "* 2 FETCH (FLAGS (\\Flagged \\Recent $Work) ENVELOPE ");
    has(got, "BODYSTRUCTURE ((\"text\" \"plain\"");
    has(got, "b1 OK FETCH completed\r\n");
    free(got);
    got = say(&t, "b2 FETCH 2 (BODY.PEEK[HEADER] RFC822.SIZE UID)\r\n");
    has(got, "* 2 FETCH (BODY[HEADER] {");
    has(got, "X-Tag: red\r\n\r\n RFC822.SIZE ");
    has(got, " UID 2)\r\n");
    lacks(got, "\\Seen");
    free(got);
    got = say(&t, "b3 FETCH 2 BODY[TEXT]\r\n");
    has(got, "* 2 FETCH (BODY[TEXT] {8}\r\nl1\r\nl2\r\n FLAGS (\\Seen \\Flagged \\Recent $Work))\r\n");
    free(got);
    got = say(&t, "b4 UID FETCH 3 (BODY.PEEK[1] BODY.PEEK[]<0.4> BODY.PEEK[HEADER.FIELDS (Subject)])\r\n");
    has(got, "* 3 FETCH (UID 3 BODY[1] {15}\r\npart one cherry BODY[]<0> {4}\r\nFrom BODY[HEADER.FIELDS "
             "(SUBJECT)] {");
    has(got, "Subject: Third, multipart\r\n");
    free(got);
    expect_eq(&t, "b5 STORE 1 +FLAGS (\\Deleted)\r\n",
              "* 1 FETCH (FLAGS (\\Seen \\Deleted))\r\nb5 OK STORE completed\r\n");
    expect_eq(&t, "b5b STORE 1:2 -FLAGS.SILENT \\Seen\r\n", "b5b OK STORE completed\r\n");
    expect_eq(&t, "b5c UID STORE 2 FLAGS (\\Answered foo)\r\n",
              "* 2 FETCH (UID 2 FLAGS (\\Answered \\Recent foo))\r\nb5c OK UID STORE completed\r\n");
    expect_eq(&t, "b6 EXPUNGE\r\n", "* 1 EXPUNGE\r\nb6 OK EXPUNGE completed\r\n");
    expect_eq(&t, "b7 FETCH 1:* UID\r\n",
              "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\nb7 OK FETCH completed\r\n");
    expect_has(&t, "b8 FETCH 3 FLAGS\r\n", "b8 BAD Invalid message sequence number\r\n");
    expect_eq(&t, "b9 UID FETCH 7:9 FLAGS\r\n", "b9 OK UID FETCH completed\r\n");
    expect_eq(&t, "c1 NOOP\r\n", "c1 OK NOOP completed\r\n");
    expect_eq(&t, "c2 CHECK\r\n", "c2 OK CHECK completed\r\n");
    expect_eq(&t, "c3 ID (\"name\" \"test\" \"version\" NIL)\r\n",
              "* ID (\"name\" \"mailrig\" \"vendor\" \"mailrig\")\r\nc3 OK ID completed\r\n");
    expect_eq(&t, "c4 ENABLE UTF8=ACCEPT\r\n", "c4 BAD Command not valid in this state\r\n");
    expect_eq(&t, "c5 XYZZY\r\n", "c5 BAD Unknown command\r\n");
    expect_eq(&t, "c6 LOGOUT\r\n", "* BYE mailrig IMAP server logging out\r\nc6 OK LOGOUT completed\r\n");
    assert_true(mock_closed(t.s));
    stop(&t);
}

static void test_mailboxes(void **state)
{
    T t;
    char *got;
    start(&t);
    login(&t);
    expect_eq(&t, "e1 ENABLE UTF8=ACCEPT\r\n", "* ENABLED\r\ne1 OK ENABLE completed\r\n");
    expect_eq(&t, "m1 CREATE Work/\r\n", "m1 OK CREATE completed\r\n");
    expect_eq(&t, "m2 CREATE Work\r\n", "m2 NO [ALREADYEXISTS] Mailbox exists\r\n");
    expect_eq(&t, "m3 RENAME Work Play\r\n", "m3 OK RENAME completed\r\n");
    expect_eq(&t, "m4 SUBSCRIBE Play\r\n", "m4 OK SUBSCRIBE completed\r\n");
    expect_eq(&t, "m5 LSUB \"\" P*\r\n", "* LSUB (\\HasNoChildren) \"/\" \"Play\"\r\nm5 OK LSUB completed\r\n");
    expect_eq(&t, "m6 UNSUBSCRIBE Play\r\n", "m6 OK UNSUBSCRIBE completed\r\n");
    expect_eq(&t, "m6b LSUB \"\" P*\r\n", "m6b OK LSUB completed\r\n");
    expect_eq(&t, "m7 DELETE Play\r\n", "m7 OK DELETE completed\r\n");
    expect_eq(&t, "m8 DELETE Play\r\n", "m8 NO [NONEXISTENT] No such mailbox\r\n");
    expect_eq(&t, "m9 DELETE INBOX\r\n", "m9 NO [CANNOT] INBOX cannot be deleted\r\n");
    expect_eq(&t, "n1 SELECT Nope\r\n", "n1 NO [NONEXISTENT] No such mailbox\r\n");
    got = say(&t, "n2 EXAMINE INBOX\r\n");
    has(got, "* OK [PERMANENTFLAGS ()]");
    has(got, "n2 OK [READ-ONLY] EXAMINE completed\r\n");
    free(got);
    expect_eq(&t, "n3 STORE 1 +FLAGS \\Deleted\r\n", "n3 NO Mailbox is read-only\r\n");
    got = say(&t, "n4 FETCH 3 BODY[1]\r\n");
    lacks(got, "FLAGS"); /* read-only: \Seen is not set */
    free(got);
    expect_eq(&t, "n5 UNSELECT\r\n", "n5 OK UNSELECT completed\r\n");
    expect_eq(&t, "n6 FETCH 1 FLAGS\r\n", "n6 BAD Command not valid in this state\r\n");
    /* COPY, MOVE, UID EXPUNGE */
    expect_has(&t, "n7 SELECT INBOX\r\n", "n7 OK [READ-WRITE]");
    char want[256];
    unsigned av = mr_mailbox_find(mr_sess_mailbox(t.s), "Archive")->uidvalidity;
    snprintf(want, sizeof want, "c1 OK [COPYUID %u 1:2 1:2] COPY completed\r\n", av);
    expect_eq(&t, "c1 COPY 1:2 Archive\r\n", want);
    expect_eq(&t, "c2 COPY 1 Nowhere\r\n", "c2 NO [TRYCREATE] No such mailbox\r\n");
    snprintf(want, sizeof want,
             "* OK [COPYUID %u 2:3 3:4] Moved\r\n* 2 EXPUNGE\r\n* 2 EXPUNGE\r\nc3 OK UID MOVE completed\r\n",
             av);
    expect_eq(&t, "c3 UID MOVE 2:3 Archive\r\n", want);
    expect_eq(&t, "c4 STATUS Archive (MESSAGES UIDNEXT)\r\n",
              "* STATUS \"Archive\" (MESSAGES 4 UIDNEXT 5)\r\nc4 OK STATUS completed\r\n");
    expect_eq(&t, "c5 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n", "c5 OK STORE completed\r\n");
    expect_eq(&t, "c6 UID EXPUNGE 7\r\n", "c6 OK UID EXPUNGE completed\r\n");
    expect_eq(&t, "c7 UID EXPUNGE 1\r\n", "* 1 EXPUNGE\r\nc7 OK UID EXPUNGE completed\r\n");
    expect_has(&t, "c8 SELECT Archive\r\n", "* 4 EXISTS\r\n");
    expect_eq(&t, "c9 STORE 2:3 +FLAGS.SILENT (\\Deleted)\r\n", "c9 OK STORE completed\r\n");
    expect_eq(&t, "d1 CLOSE\r\n", "d1 OK CLOSE completed\r\n");
    expect_eq(&t, "d2 STATUS Archive (MESSAGES)\r\n", "* STATUS \"Archive\" (MESSAGES 2)\r\nd2 OK STATUS completed\r\n");
    stop(&t);
}

/* ------------------------------------------------------------ SASL */

static void test_authenticate(void **state)
{
    T t;
    char buf[2048], enc[1024], dec[512];
    char *got;
    /* PLAIN with an initial response (SASL-IR) */
    start(&t);
    b64("\0user\0password", 14, enc);
    snprintf(buf, sizeof buf, "p1 AUTHENTICATE PLAIN %s\r\n", enc);
    expect_has(&t, buf, "p1 OK [CAPABILITY IMAP4rev1 ");
    assert_string_equal(mock_user(t.s), "user");
    stop(&t);
    /* PLAIN without: an empty continuation first */
    start(&t);
    expect_eq(&t, "p2 AUTHENTICATE PLAIN\r\n", "+ \r\n");
    b64("\0user\0wrong", 11, enc);
    snprintf(buf, sizeof buf, "%s\r\n", enc);
    expect_eq(&t, buf, "p2 NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
    assert_null(mock_user(t.s));
    /* an abort */
    expect_eq(&t, "p3 AUTHENTICATE PLAIN\r\n", "+ \r\n");
    expect_eq(&t, "*\r\n", "p3 BAD AUTHENTICATE aborted\r\n");
    expect_eq(&t, "p4 AUTHENTICATE PLAIN\r\n", "+ \r\n");
    expect_eq(&t, "!!!\r\n", "p4 BAD Invalid SASL response\r\n");
    expect_eq(&t, "p5 AUTHENTICATE GSSAPI\r\n", "p5 NO Unsupported authentication mechanism\r\n");
    stop(&t);
    /* LOGIN */
    start(&t);
    got = say(&t, "q1 AUTHENTICATE LOGIN\r\n");
    assert_true(strncmp(got, "+ ", 2) == 0);
    unb64(got + 2, strlen(got) - 4, dec);
    assert_string_equal(dec, "Username:");
    free(got);
    b64("user", 4, enc);
    snprintf(buf, sizeof buf, "%s\r\n", enc);
    got = say(&t, buf);
    unb64(got + 2, strlen(got) - 4, dec);
    assert_string_equal(dec, "Password:");
    free(got);
    b64("password", 8, enc);
    snprintf(buf, sizeof buf, "%s\r\n", enc);
    expect_has(&t, buf, "q1 OK [CAPABILITY");
    stop(&t);
    /* CRAM-MD5 (RFC 2195 2) */
    start(&t);
    got = say(&t, "r1 AUTHENTICATE CRAM-MD5\r\n");
    assert_true(strncmp(got, "+ ", 2) == 0);
    size_t cl = unb64(got + 2, strlen(got) - 4, dec);
    free(got);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_md5(), "password", 8, (unsigned char *)dec, cl, mac, &maclen);
    int k = snprintf(buf, sizeof buf, "user ");
    for (unsigned i = 0; i < maclen; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%02x", mac[i]);
    b64(buf, (size_t)k, enc);
    snprintf(buf, sizeof buf, "%s\r\n", enc);
    expect_has(&t, buf, "r1 OK [CAPABILITY");
    stop(&t);
    /* XOAUTH2 */
    start(&t);
    const char *xo = "user=user\001auth=Bearer password\001\001";
    b64(xo, strlen(xo), enc);
    snprintf(buf, sizeof buf, "x1 AUTHENTICATE XOAUTH2 %s\r\n", enc);
    expect_has(&t, buf, "x1 OK [CAPABILITY");
    assert_string_equal(mock_user(t.s), "user");
    stop(&t);
}

/* ------------------------------------------------------------ literals */

static void test_literals(void **state)
{
    T t;
    start(&t);
    /* synchronizing: one continuation per literal */
    expect_eq(&t, "a LOGIN {4}\r\n", "+ Ready for literal data\r\n");
    expect_eq(&t, "user {8}\r\n", "+ Ready for literal data\r\n");
    expect_has(&t, "password\r\n", "a OK [CAPABILITY");
    stop(&t);
    start(&t);
    /* non-synchronizing: none */
    expect_has(&t, "a LOGIN {4+}\r\nuser {8+}\r\npassword\r\n", "a OK [CAPABILITY");
    stop(&t);
    /* a literal announced for a command not valid now: refused before the continuation */
    start(&t);
    expect_eq(&t, "a APPEND INBOX {5}\r\n", "a BAD Command not valid in this state\r\n");
    expect_eq(&t, "b FOO {5}\r\n", "b BAD Unknown command\r\n");
    stop(&t);
}

static void test_literals_select(void **state)
{
    T t;
    char *got;
    start(&t);
    login(&t);
    got = say(&t, "b SELECT ~{5+}\r\nINBOX\r\n");
    has(got, "b OK [READ-WRITE]");
    free(got);
    stop(&t);
}

/* The same client bytes, cut anywhere, give the same server bytes. */
static char *run_chunked(const char *in, size_t n, size_t split, size_t piece)
{
    T t;
    mr_buf out = MR_BUF_INIT;
    char *g;
    start(&t);
    for (size_t pos = 0; pos < n;) {
        size_t k = piece ? piece : (pos < split ? split - pos : n - pos);
        if (k > n - pos)
            k = n - pos;
        mock_feed(t.s, in + pos, k);
        pos += k;
        g = mock_take(t.s);
        mr_buf_adds(&out, g);
        free(g);
    }
    mr_imap_free(t.p);
    t.p = NULL;
    mock_free(t.s);
    mr_mailbox_free(t.mb);
    g = mr_buf_strdup(&out);
    mr_buf_free(&out);
    return g;
}

static void test_chunking(void **state)
{
    static const char in[] =
        "a LOGIN {4}\r\nuser {8+}\r\npassword\r\n"
        "b SELECT \"INBOX\"\r\n"
        "c APPEND INBOX (\\Seen) \"05-Jan-2024 10:00:00 +0100\" {28}\r\n"
        "Subject: x\r\n\r\nliteral body\r\n\r\n"
        "d FETCH 4 (BODY.PEEK[TEXT] FLAGS)\r\n"
        "e UID SEARCH OR SUBJECT \"x\" FROM {5+}\r\nalice\r\n"
        "f IDLE\r\nDONE\r\n"
        "g STORE 1:* +FLAGS (\\Answered)\r\n"
        "h LOGOUT\r\n";
    size_t n = sizeof in - 1;
    char *whole = run_chunked(in, n, n, 0);
    has(whole, "h OK LOGOUT completed");
    has(whole, "literal body");
    for (size_t piece = 1; piece <= 3; piece++) {
        char *c = run_chunked(in, n, 0, piece);
        assert_string_equal(c, whole);
        free(c);
    }
    for (size_t split = 1; split < n; split++) {
        char *c = run_chunked(in, n, split, 0);
        if (strcmp(c, whole) != 0)
            fprintf(stderr, "split at %zu differs\n", split);
        assert_string_equal(c, whole);
        free(c);
    }
    /* and the whole session is strictly valid */
    T t;
    start(&t);
    char *got = say(&t, in);
    assert_string_equal(got, whole);
    free(got);
    free(whole);
    stop(&t);
}

/* ------------------------------------------------------------ bounds, garbage */

static void test_bounds(void **state)
{
    T t;
    char *got, *big;
    start_cfg(&t, MR_TLS_NONE, 100, 1000);
    login(&t);
    /* a synchronizing literal over the limit: no continuation */
    expect_eq(&t, "a1 APPEND INBOX {5000}\r\n", "a1 BAD [TOOBIG] literal too large\r\n");
    /* a non-synchronizing one: skipped, whatever the chunks */
    big = calloc(1, 6000);
    strcpy(big, "a2 APPEND INBOX {5000+}\r\n");
    size_t hl = strlen(big);
    memset(big + hl, 'x', 5000);
    strcpy(big + hl + 5000, " more {3+}\r\nabc\r\na3 NOOP\r\n");
    expect_lines(&t, "a2 APPEND INBOX {5000+}\r\n");
    mock_feed(t.s, big, 100);
    mock_feed(t.s, big + 100, strlen(big) - 100);
    got = mock_take(t.s);
    (void)mr_imap_expect_line(t.p, (const uint8_t *)"a3 NOOP\r\n", 9);
    check_server(&t, got);
    assert_string_equal(got, "a2 BAD [TOOBIG] literal too large\r\na3 OK NOOP completed\r\n");
    free(got);
    /* a long line: BAD once, the rest dropped */
    memset(big, 'y', 300);
    strcpy(big, "a4 ");
    big[3] = 'y';
    strcpy(big + 290, "\r\na5 NOOP\r\n");
    expect_lines(&t, "a4 X\r\na5 NOOP\r\n");
    mock_feed(t.s, big, 150);
    mock_feed(t.s, big + 150, strlen(big) - 150);
    got = mock_take(t.s);
    check_server(&t, got);
    assert_string_equal(got, "a4 BAD command line too long\r\na5 OK NOOP completed\r\n");
    free(got);
    /* APPENDs: each within max_literal (1000 here), and all of a
     * session's together within four of them */
    {
        char cmd[1100], *ap;
        memset(cmd, 0, sizeof cmd);
        for (int k = 0; k < 5; k++) {
            int n = snprintf(cmd, sizeof cmd, "p%d APPEND Archive {900+}\r\n", k);
            memset(cmd + n, 'z', 900);
            strcpy(cmd + n + 900, "\r\n");
            ap = say(&t, cmd);
            has(ap, k < 4 ? "OK [APPENDUID" : "NO [LIMIT] This session may append 4000 bytes in all");
            free(ap);
        }
    }
    /* deep nesting */
    expect_has(&t, "a6 SELECT INBOX\r\n", "a6 OK");
    expect_eq(&t, "a7 SEARCH ((((((((((((((((((((((((((((((((((ALL))))))))))))))))))))))))))))))))))\r\n",
              "a7 BAD parentheses nested too deeply at byte 32\r\n");
    expect_eq(&t, "a8 SEARCH ((((((((ALL))))))))\r\n", "* SEARCH 1 2 3\r\na8 OK SEARCH completed\r\n");
    free(big);
    stop(&t);
    /* many literals */
    start(&t);
    mr_buf b = MR_BUF_INIT;
    mr_buf_adds(&b, "m ID (");
    for (int i = 0; i < 1001; i++)
        mr_buf_adds(&b, "{1+}\r\nx ");
    mr_buf_adds(&b, ")\r\nn NOOP\r\n");
    expect_lines(&t, "m ID ({1+}\r\nx )\r\nn NOOP\r\n");
    mock_feed(t.s, b.data, b.len);
    got = mock_take(t.s);
    check_server(&t, got);
    assert_string_equal(got, "m BAD too many literals in one command\r\nn OK NOOP completed\r\n");
    free(got);
    mr_buf_free(&b);
    stop(&t);
}

static void test_garbage(void **state)
{
    T t;
    start(&t);
    expect_eq(&t, "\r\n", "* BAD missing or invalid tag\r\n");
    expect_eq(&t, "+tag NOOP\r\n", "* BAD missing or invalid tag\r\n");
    expect_eq(&t, "tag\r\n", "* BAD missing command name\r\n");
    expect_eq(&t, "t1 \r\n", "t1 BAD missing command name\r\n");
    expect_eq(&t, "t2 UID\r\n", "t2 BAD UID needs a command\r\n");
    expect_eq(&t, "t3 LOGIN \"a\r\n", "t3 BAD unterminated quoted string at byte 0\r\n");
    expect_eq(&t, "t4 LOGIN a b c\r\n", "t4 BAD LOGIN takes a user name and a password\r\n");
    expect_eq(&t, "t5 LOGIN \"a\\x\" b\r\n",
              "t5 BAD only \\\" and \\\\ may be escaped in a quoted string at byte 2\r\n");
    expect_eq(&t, "t6 LOGIN a)\r\n", "t6 BAD unbalanced ')' at byte 1\r\n");
    expect_eq(&t, "t7 LOGIN {99999999999999999999999}\r\n", "t7 BAD literal size too large\r\n");
    expect_eq(&t, "DONE\r\n", "* BAD Unexpected DONE\r\n");
    expect_eq(&t, "t8 LOGIN u\xff p\r\n", "t8 BAD invalid character in an atom at byte 1\r\n");
    /* bare LF works */
    expect_eq(&t, "t9 NOOP\n", "t9 OK NOOP completed\r\n");
    /* 20 BADs in a row end the session */
    for (int i = 0; i < 20; i++) {
        assert_false(mock_closed(t.s));
        char *got = say(&t, "x BOGUS\r\n");
        free(got);
    }
    assert_true(mock_closed(t.s));
    stop(&t);
}

static void test_random_garbage(void **state)
{
    /* bytes from a fixed generator: no crash, every input consumed */
    uint32_t x = 12345;
    for (int round = 0; round < 200; round++) {
        mr_fake_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.max_line = 64;
        cfg.max_literal = 100;
        mr_sess *s = mock_new(&mr_proto_imap, &cfg);
        uint8_t buf[512];
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            uint8_t c = (uint8_t)(x >> 16);
            static const char alpha[] = "a LOGIN{}+~()\"\\ \r\n1*:,NIL[]<>.AUTHENTICATE";
            buf[i] = (x >> 8) & 1 ? (uint8_t)alpha[c % (sizeof alpha - 1)] : c;
        }
        for (size_t pos = 0; pos < sizeof buf && !mock_closed(s); pos += 7)
            mock_feed(s, buf + pos, sizeof buf - pos < 7 ? sizeof buf - pos : 7);
        mock_eof(s);
        free(mock_take(s));
        mock_free(s);
    }
}

/* ------------------------------------------------------------ STARTTLS, IDLE */

static void test_starttls(void **state)
{
    T t;
    char *got;
    start_cfg(&t, MR_TLS_STARTTLS, 0, 0);
    got = say(&t, "a CAPABILITY\r\n");
    has(got, " STARTTLS ");
    free(got);
    /* plaintext after STARTTLS is dropped (RFC 9051 6.2.1) */
    expect_eq(&t, "b STARTTLS\r\nc NOOP\r\n", "b OK Begin TLS negotiation now\r\n");
    assert_true(mock_tls(t.s));
    mr_imap_free(t.p);
    mr_options o;
    memset(&o, 0, sizeof o);
    o.mode = MR_STRICT;
    t.p = mr_imap_new(&o);
    mr_imap_skip_greeting(t.p);
    got = say(&t, "d CAPABILITY\r\n");
    lacks(got, "STARTTLS");
    has(got, "AUTH=PLAIN");
    free(got);
    expect_eq(&t, "e STARTTLS\r\n", "e BAD STARTTLS not available\r\n");
    login(&t);
    stop(&t);
    /* STARTTLS after login is invalid */
    start_cfg(&t, MR_TLS_STARTTLS, 0, 0);
    login(&t);
    expect_eq(&t, "f STARTTLS\r\n", "f BAD Command not valid in this state\r\n");
    stop(&t);
}

static void test_idle(void **state)
{
    T t;
    start(&t);
    login(&t);
    expect_eq(&t, "i1 IDLE\r\n", "+ idling\r\n");
    expect_eq(&t, "DONE\r\n", "i1 OK IDLE terminated\r\n");
    expect_eq(&t, "i2 IDLE\r\n", "+ idling\r\n");
    expect_eq(&t, "i3 NOOP\r\n", "i2 BAD Expected DONE\r\n");
    expect_eq(&t, "i4 NOOP\r\n", "i4 OK NOOP completed\r\n");
    stop(&t);
}

/* ------------------------------------------------------------ APPEND */

static void test_append(void **state)
{
    T t;
    char *got;
    const char *msg = "From: z@example.com\r\nSubject: appended\r\n\r\nhello append\r\n";
    char buf[512];
    start(&t);
    login_select(&t);
    snprintf(buf, sizeof buf, "a1 APPEND INBOX (\\Flagged kw1) \"17-Jul-1996 02:44:25 -0700\" {%zu}\r\n",
             strlen(msg));
    expect_eq(&t, buf, "+ Ready for literal data\r\n");
    snprintf(buf, sizeof buf, "%s\r\n", msg);
    expect_eq(&t, buf, "* 4 EXISTS\r\n* 3 RECENT\r\na1 OK [APPENDUID 1 4] APPEND completed\r\n");
    got = say(&t, "a2 FETCH 4 (FLAGS INTERNALDATE RFC822.SIZE BODY[])\r\n");
    snprintf(buf, sizeof buf,
             "* 4 FETCH (FLAGS (\\Seen \\Flagged \\Recent kw1) INTERNALDATE \"17-Jul-1996 09:44:25 +0000\" "
             "RFC822.SIZE %zu BODY[] {%zu}\r\n%s)\r\n",
             strlen(msg), strlen(msg), msg);
    has(got, buf);
    free(got);
    expect_eq(&t, "a3 APPEND Nope {1+}\r\nx\r\n", "a3 NO [TRYCREATE] No such mailbox\r\n");
    expect_eq(&t, "a4 APPEND INBOX \"bad date\" {1+}\r\nx\r\n", "a4 BAD Invalid date-time in APPEND\r\n");
    snprintf(buf, sizeof buf, "a5 OK [APPENDUID %u 1] APPEND completed\r\n",
             mr_mailbox_find(mr_sess_mailbox(t.s), "Archive")->uidvalidity);
    expect_eq(&t, "a5 APPEND Archive {3+}\r\nabc\r\n", buf);
    stop(&t);
}

/* ------------------------------------------------------------ SEARCH */

static void test_search(void **state)
{
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"ALL", "1 2 3"},
        {"SEEN", "1"},
        {"UNSEEN", "2 3"},
        {"FLAGGED", "2"},
        {"UNFLAGGED", "1 3"},
        {"ANSWERED", ""},
        {"UNANSWERED", "1 2 3"},
        {"DELETED", ""},
        {"UNDELETED", "1 2 3"},
        {"DRAFT", ""},
        {"RECENT", "2 3"},
        {"NEW", "2 3"},
        {"OLD", "1"},
        {"KEYWORD $Work", "2"},
        {"UNKEYWORD $Work", "1 3"},
        {"FROM alice", "1"},
        {"TO alice", "2 3"},
        {"CC carol", "1"},
        {"BCC x", ""},
        {"SUBJECT \"hello ONE\"", "1"},
        {"HEADER X-Tag red", "2"},
        {"HEADER X-Tag \"\"", "2"},
        {"BODY cherry", "3"},
        {"TEXT banana", "1"},
        {"TEXT \"Hello one\"", "1"},
        {"LARGER 180", "3"},
        {"SMALLER 180", "2"},
        {"BEFORE 2-Jan-2024", "1"},
        {"ON 2-Jan-2024", "2"},
        {"SINCE \"02-Jan-2024\"", "2 3"},
        {"SENTBEFORE 2-Jan-2024", "1"},
        {"SENTON 3-Jan-2024", "3"},
        {"SENTSINCE 2-Jan-2024", "2 3"},
        {"UID 2:*", "2 3"},
        {"2,3", "2 3"},
        {"1:*", "1 2 3"},
        {"NOT SEEN", "2 3"},
        {"OR SEEN FLAGGED", "1 2"},
        {"(SEEN) (FROM alice)", "1"},
        {"SEEN FLAGGED", ""},
        {"NOT (OR SEEN FLAGGED)", "3"},
        {"CHARSET UTF-8 ALL", "1 2 3"},
        {"charset us-ascii seen", "1"},
    };
    T t;
    char buf[256], want[256];
    start(&t);
    login_select(&t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "s%zu SEARCH %s\r\n", i, cases[i].keys);
        snprintf(want, sizeof want, "* SEARCH%s%s\r\ns%zu OK SEARCH completed\r\n",
                 *cases[i].want ? " " : "", cases[i].want, i);
        expect_eq(&t, buf, want);
    }
    expect_eq(&t, "u1 UID SEARCH 1:2\r\n", "* SEARCH 1 2\r\nu1 OK UID SEARCH completed\r\n");
    expect_eq(&t, "u2 SEARCH CHARSET KOI8-R ALL\r\n",
              "u2 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset\r\n");
    expect_eq(&t, "u3 SEARCH FOO\r\n", "u3 BAD Unknown search key\r\n");
    expect_eq(&t, "u4 SEARCH OR SEEN\r\n", "u4 BAD Missing search key\r\n");
    expect_eq(&t, "u5 SEARCH BEFORE 31-Foo-2024\r\n", "u5 BAD Invalid date in search key\r\n");
    expect_eq(&t, "u6 SEARCH $\r\n", "u6 BAD $ needs SEARCHRES, not supported\r\n");
    stop(&t);
}

/* ------------------------------------------------------------ reader and tokenizer */

static void test_reader(void **state)
{
    mr_imapcmd_reader r;
    mr_imapcmd c;
    const char *in = "a1 uid fetch 1:* (FLAGS)\r\nb2 LOGIN {3}\r\nabc {2+}\r\nxy\r\n";
    size_t n = strlen(in), off = 0;
    mr_imapcmd_init(&r, NULL);
    /* byte by byte: MORE until each command is whole */
    size_t avail = 0;
    int cont = 0, cmds = 0;
    while (off < n) {
        mr_imapcmd_result res = mr_imapcmd_next(&r, (const uint8_t *)in + off, avail, 0, &c);
        if (res == MR_IMAPCMD_MORE) {
            assert_true(off + avail < n);
            avail++;
            continue;
        }
        if (res == MR_IMAPCMD_CONTINUE) {
            cont++;
            assert_string_equal(c.name, "LOGIN");
            continue;
        }
        assert_int_equal(res, MR_IMAPCMD_COMMAND);
        if (cmds == 0) {
            assert_string_equal(c.tag, "a1");
            assert_string_equal(c.name, "UID FETCH");
            assert_int_equal(c.args_len, 11);
            assert_memory_equal(c.args, "1:* (FLAGS)", 11);
        } else {
            assert_string_equal(c.tag, "b2");
            assert_string_equal(c.name, "LOGIN");
            assert_int_equal(c.nliterals, 2);
            assert_int_equal(c.consumed, n - off);
        }
        cmds++;
        off += c.consumed;
        avail -= c.consumed;
    }
    assert_int_equal(cmds, 2);
    assert_int_equal(cont, 1);

    /* eof in the middle */
    mr_imapcmd_init(&r, NULL);
    assert_int_equal(mr_imapcmd_next(&r, (const uint8_t *)"a NO", 4, 1, &c), MR_IMAPCMD_ERROR);
    assert_int_equal(c.err.code, MR_IMAPCMD_E_EOF);
    assert_int_equal(c.consumed, 4);
    /* SASL mode */
    mr_imapcmd_set_sasl(&r, 1);
    assert_int_equal(mr_imapcmd_next(&r, (const uint8_t *)"AGI={5}\r\n", 9, 0, &c), MR_IMAPCMD_COMMAND);
    assert_string_equal(c.name, "<sasl>");
    assert_int_equal(c.args_len, 7);
}

static void test_tokens(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a \"b c\" NIL nil", "A:a Q:b c N:NIL N:nil"},
        {"(a (b)) c", "(:( A:a (:( A:b ):) ):) A:c"},
        {"\"x\\\"y\\\\z\"", "Q:x\"y\\z"},
        {"{3}\r\nabc x", "L:abc A:x"},
        {"~{2+}\r\n\0\1 x", "L:\0\1 A:x"},
        {"1:* (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> UID)",
         "A:1:* (:( A:BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> A:UID ):)"},
        {"[Gmail]/Sent %", "A:[Gmail]/Sent A:%"},
        {"[unclosed x", "A:[unclosed A:x"},
        {"\\Seen  \\Deleted ", "A:\\Seen A:\\Deleted"},
        {"", ""},
        {"(", "ERR:unclosed '('"},
        {"a(b)", "ERR:expected a space between arguments"},
        {"\"abc", "ERR:unterminated quoted string"},
        {"{5}\r\nab", "ERR:literal shorter than its size"},
        {"{x}", "ERR:a literal needs a size: {n}"},
        {"a\"b", "ERR:invalid character in an atom"},
    };
    mr_imapcmd_tokens tk;
    mr_imapcmd_tokens_init(&tk, 0, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[512];
        size_t gl = 0, inl = strlen(cases[i].in);
        if (i == 4)
            inl = 11;
        if (mr_imapcmd_tokenize(&tk, (const uint8_t *)cases[i].in, inl) != 0) {
            gl = (size_t)snprintf(got, sizeof got, "ERR:%s", tk.err.message);
        } else {
            for (size_t k = 0; k < tk.n; k++) {
                const mr_imaptok *t = &tk.tok[k];
                static const char ty[] = "ANQL()";
                gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%c:", k ? " " : "", ty[t->type]);
                memcpy(got + gl, t->str, t->len);
                gl += t->len;
            }
        }
        got[gl] = 0;
        size_t wl = i == 4 ? 8 : strlen(cases[i].want);
        if (gl != wl || memcmp(got, cases[i].want, wl) != 0)
            fprintf(stderr, "case %zu: want [%s] got [%s]\n", i, cases[i].want, got);
        assert_int_equal(gl, wl);
        assert_memory_equal(got, cases[i].want, wl);
    }
    /* matches */
    assert_int_equal(mr_imapcmd_tokenize(&tk, (const uint8_t *)"(a (b) c)", 9), 0);
    assert_int_equal(tk.tok[0].match, 6);
    assert_int_equal(tk.tok[2].match, 4);
    assert_int_equal(tk.tok[6].match, 0);
    assert_int_equal(tk.tok[3].depth, 2);
    mr_imapcmd_tokens_cleanup(&tk);
    /* sequence sets */
    mr_imapcmd_range rg[4];
    int dollar;
    assert_int_equal(mr_imapcmd_seqset((const uint8_t *)"2,4:7,9,*:3", 11, rg, 4, &dollar), 4);
    assert_true(rg[1].lo == 4 && rg[1].hi == 7 && rg[3].lo == MR_IMAPCMD_STAR && rg[3].hi == 3);
    assert_int_equal(mr_imapcmd_seqset((const uint8_t *)"$", 1, rg, 4, &dollar), 0);
    assert_int_equal(dollar, 1);
    assert_int_equal(mr_imapcmd_seqset((const uint8_t *)"0", 1, rg, 4, &dollar), -1);
    assert_int_equal(mr_imapcmd_seqset((const uint8_t *)"1,", 2, rg, 4, &dollar), -1);
    assert_int_equal(mr_imapcmd_seqset((const uint8_t *)"4294967296", 10, rg, 4, &dollar), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_mailboxes),
        cmocka_unit_test(test_authenticate),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_literals_select),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
