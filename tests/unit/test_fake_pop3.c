/*
 * test_fake_pop3.c - the fake POP3 server's default behaviour
 * (fake-servers/mr_fake_pop3.c) and the SASL mechanisms (mr_sasl.c),
 * through the stand-in session (mr_mocksess.h): whole sessions by every
 * login method (RFC 1939 7, RFC 5034), the TRANSACTION commands and the
 * UPDATE state, CAPA and STLS (RFC 2449, RFC 2595), garbage and bounds,
 * and the same answers at every chunking of the client's bytes.
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

#include "mr_cmd_line.h"
#include "mr_fake.h"
#include "mr_mailbox.h"
#include "mr_mocksess.h"
#include "mr_sasl.h"

/* ------------------------------------------------------------ fixtures */

static const char *const MSGS[] = {
    "From: a@example.com\r\nSubject: one\r\n\r\nHello\r\n.dot line\r\n..two dots\r\n",
    "From: b@example.com\r\nSubject: two\r\n\r\nl1\r\nl2\r\nl3\r\n",
    "Subject: three, no final CRLF\r\n\r\nlast",
};
#define NMSGS 3

static mr_mailbox *mailbox(void)
{
    mr_mailbox *mb = mr_mailbox_new();
    mr_folder *f = mr_mailbox_find(mb, "INBOX");
    assert_non_null(f);
    for (size_t i = 0; i < NMSGS; i++)
        mr_folder_append(f, (const uint8_t *)MSGS[i], strlen(MSGS[i]), 0, 0);
    return mb;
}

typedef struct fixture {
    mr_mailbox *mb;
    mr_sess *s;
    char greeting[256];
} fixture;

static void start(fixture *fx, mr_tls_mode tls, size_t max_line)
{
    mr_fake_config cfg;
    memset(&cfg, 0, sizeof cfg);
    fx->mb = mailbox();
    cfg.mailbox = fx->mb;
    cfg.tls = tls;
    cfg.max_line = max_line;
    cfg.hostname = "pop.test";
    fx->s = mock_new(&mr_proto_pop3, &cfg);
    mock_greet(fx->s);
    char *g = mock_take(fx->s);
    snprintf(fx->greeting, sizeof fx->greeting, "%s", g);
    free(g);
}

static void stop(fixture *fx)
{
    mock_free(fx->s);
    mr_mailbox_free(fx->mb);
}

/* Send str; what the server answers must be want. */
static void expect(mr_sess *s, const char *send, const char *want)
{
    mock_feeds(s, send);
    char *got = mock_take(s);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "sent:  %s\nwant:  %s\ngot:   %s\n", send, want, got);
    assert_string_equal(got, want);
    free(got);
}

/* Send str; the answer must begin with prefix.  Returns the answer (free). */
static char *expect_prefix(mr_sess *s, const char *send, const char *prefix)
{
    mock_feeds(s, send);
    char *got = mock_take(s);
    if (strncmp(got, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "sent:  %s\nwant:  %s...\ngot:   %s\n", send, prefix, got);
    assert_true(strncmp(got, prefix, strlen(prefix)) == 0);
    return got;
}

static void b64(const char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

static size_t unb64(const char *in, char *out)
{
    int n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
    assert_true(n >= 0);
    size_t len = strlen(in);
    while (len && in[len - 1] == '=') { /* EVP_DecodeBlock counts the padding */
        n--;
        len--;
    }
    out[n] = 0;
    return (size_t)n;
}

static void hexs(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* ------------------------------------------------------------ login */

static void test_greeting(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    assert_true(strncmp(fx.greeting, "+OK mailrig POP3 ready <", 24) == 0);
    assert_non_null(strstr(fx.greeting, "@pop.test>\r\n"));
    stop(&fx);
}

static void test_user_pass_session(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    mr_sess *s = fx.s;
    mr_folder *in = mr_mailbox_find(mr_sess_mailbox(s), "INBOX");
    char want[1024];
    size_t l0 = strlen(MSGS[0]), l1 = strlen(MSGS[1]), l2 = strlen(MSGS[2]);

    expect(s, "STAT\r\n", "-ERR Not logged in (command only valid in TRANSACTION state)\r\n");
    expect(s, "PASS password\r\n", "-ERR No USER given\r\n");
    expect(s, "USER user\r\n", "+OK Send PASS\r\n");
    expect(s, "PASS wrong\r\n", "-ERR [AUTH] Invalid user name or password\r\n");
    expect(s, "PASS password\r\n", "-ERR No USER given\r\n"); /* USER forgotten after failure */
    expect(s, "user user\r\n", "+OK Send PASS\r\n");           /* verbs are case-insensitive */
    snprintf(want, sizeof want, "+OK Logged in, 3 messages (%zu octets)\r\n", l0 + l1 + l2);
    expect(s, "PASS password\r\n", want);
    assert_string_equal(mock_user(s), "user");

    snprintf(want, sizeof want, "+OK 3 %zu\r\n", l0 + l1 + l2);
    expect(s, "STAT\r\n", want);
    snprintf(want, sizeof want, "+OK 3 messages (%zu octets)\r\n1 %zu\r\n2 %zu\r\n3 %zu\r\n.\r\n", l0 + l1 + l2,
             l0, l1, l2);
    expect(s, "LIST\r\n", want);
    snprintf(want, sizeof want, "+OK 2 %zu\r\n", l1);
    expect(s, "LIST 2\r\n", want);
    expect(s, "LIST 4\r\n", "-ERR No such message\r\n");
    expect(s, "LIST 0\r\n", "-ERR No such message\r\n");
    expect(s, "LIST x\r\n", "-ERR Invalid message number\r\n");
    expect(s, "LIST 1 2\r\n", "-ERR Syntax: LIST [msg]\r\n");
    snprintf(want, sizeof want, "+OK Unique-ID listing follows\r\n1 %s\r\n2 %s\r\n3 %s\r\n.\r\n",
             in->msgs[0]->uidl, in->msgs[1]->uidl, in->msgs[2]->uidl);
    expect(s, "UIDL\r\n", want);
    snprintf(want, sizeof want, "+OK 3 %s\r\n", in->msgs[2]->uidl);
    expect(s, "UIDL 3\r\n", want);

    /* RETR: byte-stuffed, terminated (RFC 1939 3). */
    snprintf(want, sizeof want,
             "+OK %zu octets\r\nFrom: a@example.com\r\nSubject: one\r\n\r\nHello\r\n..dot line\r\n...two dots\r\n.\r\n",
             l0);
    expect(s, "RETR 1\r\n", want);
    assert_true(in->msgs[0]->flags & MR_F_SEEN);
    /* A message without a final CRLF gets one before the dot. */
    snprintf(want, sizeof want, "+OK %zu octets\r\nSubject: three, no final CRLF\r\n\r\nlast\r\n.\r\n", l2);
    expect(s, "RETR 3\r\n", want);
    expect(s, "RETR\r\n", "-ERR Syntax: RETR msg\r\n");

    /* TOP (RFC 1939 7): the header, the empty line, n body lines. */
    expect(s, "TOP 2 0\r\n", "+OK Top of message follows\r\nFrom: b@example.com\r\nSubject: two\r\n\r\n.\r\n");
    expect(s, "TOP 2 2\r\n",
           "+OK Top of message follows\r\nFrom: b@example.com\r\nSubject: two\r\n\r\nl1\r\nl2\r\n.\r\n");
    expect(s, "TOP 2 99\r\n",
           "+OK Top of message follows\r\nFrom: b@example.com\r\nSubject: two\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n");
    expect(s, "TOP 1 1\r\n",
           "+OK Top of message follows\r\nFrom: a@example.com\r\nSubject: one\r\n\r\nHello\r\n.\r\n");
    expect(s, "TOP 2\r\n", "-ERR Syntax: TOP msg lines\r\n");
    expect(s, "TOP 2 x\r\n", "-ERR Invalid number of lines\r\n");

    /* DELE, then everything about that message fails; RSET undoes. */
    expect(s, "DELE 1\r\n", "+OK Message 1 deleted\r\n");
    expect(s, "DELE 1\r\n", "-ERR Message 1 already deleted\r\n");
    expect(s, "RETR 1\r\n", "-ERR Message 1 already deleted\r\n");
    snprintf(want, sizeof want, "+OK 2 %zu\r\n", l1 + l2);
    expect(s, "STAT\r\n", want);
    snprintf(want, sizeof want, "+OK 2 messages (%zu octets)\r\n2 %zu\r\n3 %zu\r\n.\r\n", l1 + l2, l1, l2);
    expect(s, "LIST\r\n", want);
    snprintf(want, sizeof want, "+OK maildrop has 3 messages (%zu octets)\r\n", l0 + l1 + l2);
    expect(s, "RSET\r\n", want);
    expect(s, "NOOP\r\n", "+OK\r\n");
    expect(s, "DELE 1\r\n", "+OK Message 1 deleted\r\n");
    expect(s, "DELE 3\r\n", "+OK Message 3 deleted\r\n");
    expect(s, "USER user\r\n", "-ERR Already logged in (command only valid in AUTHORIZATION state)\r\n");
    expect(s, "XYZZY\r\n", "-ERR Unknown command\r\n");

    /* QUIT commits (RFC 1939 6). */
    expect(s, "QUIT\r\n", "+OK mailrig POP3 server signing off (1 messages left)\r\n");
    assert_true(mock_closed(s));
    assert_int_equal(in->count, 1);
    assert_int_equal(in->msgs[0]->d->len, l1);
    assert_memory_equal(in->msgs[0]->d->data, MSGS[1], l1);
    assert_non_null(strstr(mock_notes(s), "message 3 deleted"));
    assert_non_null(strstr(mock_notes(s), "message 1 deleted"));
    assert_non_null(strstr(mock_notes(s), "authenticated as user"));
    /* The server's mailbox is untouched (the session works on a copy). */
    assert_int_equal(mr_mailbox_find(fx.mb, "INBOX")->count, 3);
    stop(&fx);
}

static void test_quit_in_authorization_no_update(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    expect(fx.s, "QUIT\r\n", "+OK mailrig POP3 server signing off\r\n");
    assert_true(mock_closed(fx.s));
    stop(&fx);
}

static void test_close_without_quit_keeps_messages(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    mock_feeds(fx.s, "USER user\r\nPASS password\r\nDELE 1\r\nDELE 2\r\n");
    free(mock_take(fx.s));
    mock_eof(fx.s);
    assert_int_equal(mr_mailbox_find(mr_sess_mailbox(fx.s), "INBOX")->count, 3); /* RFC 1939 6 */
    stop(&fx);
}

static void test_apop(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    const char *lt = strchr(fx.greeting, '<'), *gt = strchr(fx.greeting, '>');
    assert_non_null(lt);
    assert_non_null(gt);
    char stamp[200];
    snprintf(stamp, sizeof stamp, "%.*s", (int)(gt - lt + 1), lt);
    char both[300], digest[33], line[400];
    snprintf(both, sizeof both, "%spassword", stamp);
    unsigned char md[16];
    unsigned mdlen = 0;
    EVP_Digest(both, strlen(both), md, &mdlen, EVP_md5(), NULL);
    hexs(md, 16, digest);

    snprintf(line, sizeof line, "APOP user %032d\r\n", 0);
    expect(fx.s, line, "-ERR [AUTH] Invalid user name or digest\r\n");
    expect(fx.s, "APOP user\r\n", "-ERR Syntax: APOP name digest\r\n");
    snprintf(line, sizeof line, "APOP other %s\r\n", digest);
    expect(fx.s, line, "-ERR [AUTH] Invalid user name or digest\r\n");
    snprintf(line, sizeof line, "APOP user %s\r\n", digest);
    char *r = expect_prefix(fx.s, line, "+OK Logged in, 3 messages");
    free(r);
    assert_string_equal(mock_user(fx.s), "user");
    stop(&fx);
}

/* One AUTH exchange: the lines and the answers, in order. */
typedef struct auth_case {
    const char *why;
    const char *lines[4]; /* client lines, CRLF added */
    const char *want[4];  /* the answers; a "+ " answer compares its decoded text after "=" */
    int logged_in;
} auth_case;

static void b64_of(const char *text, size_t n, char *out) { b64(text, n, out); }

static void test_auth_table(void **state)
{
    (void)state;
    char plain[128], plain_bad[128], plain_authz[128], plain_malformed[64], u[32], p[32], pbad[32];
    char xo_good[256], xo_bad[256];
    b64_of("\0user\0password", 14, plain);
    b64_of("\0user\0wrong", 11, plain_bad);
    b64_of("user\0user\0password", 18, plain_authz);
    b64_of("user-password", 13, plain_malformed);
    b64_of("user", 4, u);
    b64_of("password", 8, p);
    b64_of("nope", 4, pbad);
    const char xg[] = "user=user\001auth=Bearer password\001\001";
    const char xb[] = "user=user\001auth=Bearer expired\001\001";
    b64_of(xg, sizeof xg - 1, xo_good);
    b64_of(xb, sizeof xb - 1, xo_bad);
    char l_plain[200], l_plain_bad[200], l_authz[200], l_xo_good[300], l_xo_bad[300], l_login_ir[64];
    char l_malformed[100];
    snprintf(l_plain, sizeof l_plain, "AUTH PLAIN %s", plain);
    snprintf(l_plain_bad, sizeof l_plain_bad, "AUTH PLAIN %s", plain_bad);
    snprintf(l_authz, sizeof l_authz, "AUTH PLAIN %s", plain_authz);
    snprintf(l_xo_good, sizeof l_xo_good, "AUTH XOAUTH2 %s", xo_good);
    snprintf(l_xo_bad, sizeof l_xo_bad, "AUTH XOAUTH2 %s", xo_bad);
    snprintf(l_login_ir, sizeof l_login_ir, "AUTH LOGIN %s", u);
    snprintf(l_malformed, sizeof l_malformed, "AUTH PLAIN %s", plain_malformed);

    const auth_case cases[] = {
        {"RFC 5034 4: PLAIN with an initial response", {l_plain}, {"+OK Logged in"}, 1},
        {"PLAIN, the response after an empty challenge", {"AUTH PLAIN", plain}, {"+ =", "+OK Logged in"}, 1},
        {"PLAIN, wrong password: RFC 3206 [AUTH]", {l_plain_bad}, {"-ERR [AUTH] Authentication failed"}, 0},
        {"RFC 4616 2: authzid equal to authcid is fine", {l_authz}, {"+OK Logged in"}, 1},
        {"PLAIN without the NULs", {l_malformed}, {"-ERR Malformed authentication response"}, 0},
        {"mechanism names are case-insensitive", {"auth plain", plain}, {"+ =", "+OK Logged in"}, 1},
        {"LOGIN", {"AUTH LOGIN", u, p}, {"+ =Username:", "+ =Password:", "+OK Logged in"}, 1},
        {"LOGIN with the user name as initial response", {l_login_ir, p}, {"+ =Password:", "+OK Logged in"}, 1},
        {"LOGIN, wrong password", {"AUTH LOGIN", u, pbad},
         {"+ =Username:", "+ =Password:", "-ERR [AUTH] Authentication failed"}, 0},
        {"RFC 4422 3.5: \"*\" aborts", {"AUTH LOGIN", "*"}, {"+ =Username:", "-ERR Authentication aborted"}, 0},
        {"not base64", {"AUTH PLAIN", "!!!"}, {"+ =", "-ERR Malformed authentication response"}, 0},
        {"XOAUTH2, good token", {l_xo_good}, {"+OK Logged in"}, 1},
        {"XOAUTH2, bad token: JSON challenge, empty line, failure", {l_xo_bad, ""},
         {"+ ={\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}",
          "-ERR [AUTH] Authentication failed"}, 0},
        {"unknown mechanism", {"AUTH GSSAPI"}, {"-ERR Unsupported authentication mechanism"}, 0},
        {"CRAM-MD5 takes no initial response (RFC 4422 3.3)", {"AUTH CRAM-MD5 abcd"},
         {"-ERR Malformed authentication response"}, 0},
        {"AUTH alone lists the mechanisms", {"AUTH"}, {"+OK Supported mechanisms follow\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n"}, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const auth_case *c = &cases[k];
        fixture fx;
        start(&fx, MR_TLS_NONE, 0);
        for (size_t i = 0; i < 4 && c->lines[i]; i++) {
            char line[512];
            snprintf(line, sizeof line, "%s\r\n", c->lines[i]);
            mock_feeds(fx.s, line);
            char *got = mock_take(fx.s);
            const char *w = c->want[i];
            int okk;
            if (w[0] == '+' && w[1] == ' ' && w[2] == '=') {
                char dec[512];
                okk = strncmp(got, "+ ", 2) == 0 && strlen(got) >= 4;
                if (okk) {
                    got[strlen(got) - 2] = 0;
                    unb64(got + 2, dec);
                    okk = strcmp(dec, w + 3) == 0;
                }
            } else {
                okk = strncmp(got, w, strlen(w)) == 0;
            }
            if (!okk)
                fprintf(stderr, "case \"%s\", line %zu: want \"%s\", got \"%s\"\n", c->why, i, w, got);
            assert_true(okk);
            free(got);
        }
        assert_int_equal(mock_user(fx.s) != NULL, c->logged_in);
        if (!c->logged_in) /* back in AUTHORIZATION: a normal login works */
            expect(fx.s, "USER user\r\n", "+OK Send PASS\r\n");
        stop(&fx);
    }
}

static void test_auth_cram_md5(void **state)
{
    (void)state;
    for (int good = 0; good < 2; good++) {
        fixture fx;
        start(&fx, MR_TLS_NONE, 0);
        char *r = expect_prefix(fx.s, "AUTH CRAM-MD5\r\n", "+ ");
        r[strlen(r) - 2] = 0;
        char chal[256];
        unb64(r + 2, chal);
        free(r);
        /* RFC 2195 2: <random.timestamp@hostname> */
        assert_true(chal[0] == '<');
        assert_non_null(strstr(chal, "@pop.test>"));
        unsigned char mac[16];
        unsigned maclen = 0;
        const char *key = good ? "password" : "wrong";
        HMAC(EVP_md5(), key, (int)strlen(key), (const unsigned char *)chal, strlen(chal), mac, &maclen);
        char resp[64], line[128];
        snprintf(resp, sizeof resp, "user ");
        hexs(mac, 16, resp + 5);
        b64(resp, strlen(resp), line);
        strcat(line, "\r\n");
        r = expect_prefix(fx.s, line, good ? "+OK Logged in" : "-ERR [AUTH] Authentication failed");
        free(r);
        assert_int_equal(mock_user(fx.s) != NULL, good);
        stop(&fx);
    }
}

/* ------------------------------------------------------------ CAPA, STLS */

static const char CAPA_BASE[] = "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n"
                                "RESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n";

static void test_capa_and_stls(void **state)
{
    (void)state;
    char capa[512], capa_stls[512];
    snprintf(capa, sizeof capa, "%sIMPLEMENTATION mailrig\r\n.\r\n", CAPA_BASE);
    snprintf(capa_stls, sizeof capa_stls, "%sSTLS\r\nIMPLEMENTATION mailrig\r\n.\r\n", CAPA_BASE);

    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    expect(fx.s, "CAPA\r\n", capa);
    expect(fx.s, "STLS\r\n", "-ERR STLS not available\r\n");
    stop(&fx);

    start(&fx, MR_TLS_STARTTLS, 0);
    expect(fx.s, "CAPA\r\n", capa_stls);
    expect(fx.s, "STLS now\r\n", "-ERR Syntax: STLS takes no argument\r\n");
    /* USER before STLS is forgotten; plaintext pipelined after STLS is dropped. */
    expect(fx.s, "USER user\r\n", "+OK Send PASS\r\n");
    expect(fx.s, "STLS\r\nPASS password\r\n", "+OK Begin TLS negotiation\r\n");
    assert_true(mock_tls(fx.s));
    assert_null(mock_user(fx.s));
    expect(fx.s, "PASS password\r\n", "-ERR No USER given\r\n");
    expect(fx.s, "CAPA\r\n", capa);
    expect(fx.s, "STLS\r\n", "-ERR TLS already active\r\n");
    expect(fx.s, "USER user\r\n", "+OK Send PASS\r\n");
    char *r = expect_prefix(fx.s, "PASS password\r\n", "+OK Logged in");
    free(r);
    expect(fx.s, "STLS\r\n", "-ERR Already logged in (command only valid in AUTHORIZATION state)\r\n");
    stop(&fx);

    start(&fx, MR_TLS_IMPLICIT, 0);
    expect(fx.s, "CAPA\r\n", capa);
    stop(&fx);
}

/* ------------------------------------------------------------ garbage, bounds */

static void test_garbage(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 64);
    char longline[200];
    memset(longline, 'A', 150);
    memcpy(longline + 150, "\r\n", 3);
    expect(fx.s, longline, "-ERR Line too long (max 64 octets)\r\n");
    expect(fx.s, "CAPA\r\n", "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5\r\n"
                             "RESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nIMPLEMENTATION mailrig\r\n.\r\n");
    /* Fed a byte at a time: answered once the bound passes, the rest dropped. */
    for (size_t i = 0; i < 150; i++)
        mock_feed(fx.s, "B", 1);
    char *got = mock_take(fx.s);
    assert_string_equal(got, "-ERR Line too long (max 64 octets)\r\n");
    free(got);
    expect(fx.s, "BBBB\r\nNOOP\r\n", "-ERR Not logged in (command only valid in TRANSACTION state)\r\n");
    mock_feed(fx.s, "NO\0OP\r\n", 7);
    got = mock_take(fx.s);
    assert_string_equal(got, "-ERR NUL byte in command\r\n");
    free(got);
    expect(fx.s, "\r\n", "-ERR Empty command\r\n");
    expect(fx.s, "\xc3\xa9t\xc3\xa9\r\n", "-ERR Unknown command\r\n");
    expect(fx.s, " USER x\r\n", "-ERR Unknown command\r\n");
    expect(fx.s, "USER user\n", "+OK Send PASS\r\n"); /* bare LF accepted, noted */
    assert_non_null(strstr(mock_notes(fx.s), "bare LF"));
    assert_false(mock_closed(fx.s));
    stop(&fx);
}

static void test_too_many_errors_close(void **state)
{
    (void)state;
    fixture fx;
    start(&fx, MR_TLS_NONE, 0);
    for (int i = 0; i < 9; i++)
        expect(fx.s, "BOGUS\r\n", "-ERR Unknown command\r\n");
    expect(fx.s, "NOOP\r\n", "-ERR Not logged in (command only valid in TRANSACTION state)\r\n"
                             "-ERR Too many bad commands, closing connection\r\n");
    assert_true(mock_closed(fx.s));
    stop(&fx);

    /* A good command in between starts the count again. */
    start(&fx, MR_TLS_NONE, 0);
    for (int i = 0; i < 30; i++) {
        mock_feeds(fx.s, i % 5 == 4 ? "CAPA\r\n" : "BOGUS\r\n");
        free(mock_take(fx.s));
    }
    assert_false(mock_closed(fx.s));
    stop(&fx);
}

/* ------------------------------------------------------------ chunking */

/* The whole output (greeting excluded), the notes and the flags of a
 * session fed input in pieces of size piece (0: whole), or in two pieces
 * cut at cut (piece SIZE_MAX). */
static char *run_cut(const char *input, size_t len, size_t piece, size_t cut, size_t max_line)
{
    fixture fx;
    start(&fx, MR_TLS_STARTTLS, max_line);
    if (piece == SIZE_MAX) {
        mock_feed(fx.s, input, cut);
        mock_feed(fx.s, input + cut, len - cut);
    } else {
        size_t step = piece ? piece : len;
        for (size_t o = 0; o < len; o += step)
            mock_feed(fx.s, input + o, len - o < step ? len - o : step);
    }
    mock_eof(fx.s);
    char *out = mock_take(fx.s);
    size_t n = strlen(out) + strlen(mock_notes(fx.s)) + 64;
    char *all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s--notes--\n%s--%d %d %zu--", out, mock_notes(fx.s), mock_closed(fx.s), mock_tls(fx.s),
             mr_mailbox_find(mr_sess_mailbox(fx.s), "INBOX")->count);
    free(out);
    stop(&fx);
    return all;
}

static void check_chunking(const char *input, size_t len, size_t max_line)
{
    char *whole = run_cut(input, len, 0, 0, max_line);
    for (size_t piece = 1; piece <= 17; piece++) {
        char *got = run_cut(input, len, piece, 0, max_line);
        if (strcmp(got, whole) != 0)
            fprintf(stderr, "piece %zu:\n%s\nwhole:\n%s\n", piece, got, whole);
        assert_string_equal(got, whole);
        free(got);
    }
    for (size_t cut = 0; cut <= len; cut++) {
        char *got = run_cut(input, len, SIZE_MAX, cut, max_line);
        if (strcmp(got, whole) != 0)
            fprintf(stderr, "cut at %zu:\n%s\nwhole:\n%s\n", cut, got, whole);
        assert_string_equal(got, whole);
        free(got);
    }
    free(whole);
}

static void test_chunking_invariance(void **state)
{
    (void)state;
    char plain[64], lp[128];
    b64("\0user\0password", 14, plain);
    snprintf(lp, sizeof lp, "AUTH PLAIN\r\n%s\r\n", plain);
#define S(x) {x, sizeof x - 1}
    static const struct {
        const char *s;
        size_t len;
    } scripts[] = {
        S("CAPA\r\nUSER user\r\nPASS wrong\r\nUSER user\nPASS password\r\nSTAT\r\nLIST\r\nUIDL 2\r\n"
          "RETR 1\r\nTOP 2 1\r\nDELE 2\r\nDELE 2\r\nRSET\r\nDELE 3\r\nNOOP\r\nQUIT\r\nNOOP\r\n"),
        S("AUTH LOGIN\r\ndXNlcg==\r\n*\r\nXX\r\n\r\nQUIT\r\n"),
        S("NOOP\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nCAPA\r\n"
          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        /* (not past STLS: what follows it is dropped only when it came with it) */
        S("CAPA\r\nSTLS x\r\nSTLS\r\n"),
        S("US\0R x\r\nUSER user\r\nPASS password\r\nLIST 1\r\n"),
    };
#undef S
    check_chunking(lp, strlen(lp), 40);
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        check_chunking(scripts[i].s, scripts[i].len, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting),
        cmocka_unit_test(test_user_pass_session),
        cmocka_unit_test(test_quit_in_authorization_no_update),
        cmocka_unit_test(test_close_without_quit_keeps_messages),
        cmocka_unit_test(test_apop),
        cmocka_unit_test(test_auth_table),
        cmocka_unit_test(test_auth_cram_md5),
        cmocka_unit_test(test_capa_and_stls),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_too_many_errors_close),
        cmocka_unit_test(test_chunking_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
