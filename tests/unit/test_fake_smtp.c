/*
 * test_fake_smtp.c - the fake SMTP server's default behaviour
 * (fake-servers/mr_fake_smtp.c) and the readers under it
 * (mr_cmd_line.c), through the stand-in session (mr_mocksess.h): whole
 * sessions with DATA (dot-unstuffing, RFC 5321 4.5.2) and BDAT (RFC
 * 3030), the MAIL/RCPT parameters (RFC 1870, 6152, 3461, 6531, 4954 5),
 * AUTH (RFC 4954) by every mechanism, STARTTLS (RFC 3207 4.2 state
 * reset, pipelined plaintext dropped), pipelining (RFC 2920), the bounds
 * (line length, DATA/BDAT size), garbage, and the same answers at every
 * chunking of the client's bytes.
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

static mr_sess *start(mr_tls_mode tls, size_t max_line, size_t max_literal)
{
    mr_fake_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tls = tls;
    cfg.max_line = max_line;
    cfg.max_literal = max_literal;
    cfg.hostname = "smtp.test";
    mr_sess *s = mock_new(&mr_proto_smtp, &cfg);
    mock_greet(s);
    char *g = mock_take(s);
    assert_string_equal(g, "220 smtp.test ESMTP mailrig\r\n");
    free(g);
    return s;
}

static void expectn(mr_sess *s, const char *send, size_t n, const char *want)
{
    mock_feed(s, send, n);
    char *got = mock_take(s);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "sent:  %.*s\nwant:  %s\ngot:   %s\n", (int)n, send, want, got);
    assert_string_equal(got, want);
    free(got);
}

static void expect(mr_sess *s, const char *send, const char *want) { expectn(s, send, strlen(send), want); }

static void b64(const char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

static size_t unb64(const char *in, char *out)
{
    int n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
    assert_true(n >= 0);
    size_t len = strlen(in);
    while (len && in[len - 1] == '=') {
        n--;
        len--;
    }
    out[n] = 0;
    return (size_t)n;
}

#define EHLO_HEAD "250-smtp.test Hello c.example\r\n250-PIPELINING\r\n250-SIZE %zu\r\n250-8BITMIME\r\n" \
                  "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n"

static void ehlo(mr_sess *s, size_t max_literal, int starttls)
{
    char want[512];
    snprintf(want, sizeof want, EHLO_HEAD "%s250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 HELP\r\n", max_literal,
             starttls ? "250-STARTTLS\r\n" : "");
    expect(s, "EHLO c.example\r\n", want);
}

/* ------------------------------------------------------------ sessions */

static void test_session_data_and_bdat(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    expect(s, "MAIL FROM:<a@x.example> SIZE=100 BODY=8BITMIME\r\n", "250 2.1.0 Ok\r\n");
    expect(s, "RCPT TO:<b@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@y.example\r\n", "250 2.1.5 Ok\r\n");
    expect(s, "rcpt to:<c@y.example>\r\n", "250 2.1.5 Ok\r\n");
    expect(s, "DATA\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n");
    expect(s, "Subject: t\r\n\r\n", "");
    expect(s, "..leading dot\r\n.. two\r\n.\r", "");
    expect(s, "\nQUIT\r\n", "250 2.0.0 Ok: queued as 1\r\n221 2.0.0 Bye\r\n");
    assert_true(mock_closed(s));
    assert_int_equal(mock_nreceived(s), 1);
    const mock_received *r = mock_received_at(s, 0);
    assert_string_equal(r->from, "a@x.example");
    assert_int_equal(r->nrcpts, 2);
    assert_string_equal(r->rcpts[0], "b@y.example");
    assert_string_equal(r->rcpts[1], "c@y.example");
    const char body[] = "Subject: t\r\n\r\n.leading dot\r\n. two\r\n";
    assert_int_equal(r->msg.len, sizeof body - 1);
    assert_memory_equal(r->msg.data, body, sizeof body - 1);
    mock_free(s);

    s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    expect(s, "MAIL FROM:<>\r\n", "250 2.1.0 Ok\r\n");
    expect(s, "RCPT TO:<postmaster>\r\n", "250 2.1.5 Ok\r\n");
    expect(s, "BDAT 7\r\nhello\r\n", "250 2.0.0 7 octets received\r\n");
    expect(s, "DATA\r\n", "503 5.5.1 Error: DATA after BDAT in one transaction (RFC 3030 3)\r\n");
    expect(s, "BDAT 4 LAST\r\n", "");
    expect(s, ".\r\n\n", "250 2.0.0 Ok: queued as 1\r\n");
    r = mock_received_at(s, 0);
    assert_string_equal(r->from, "");
    assert_int_equal(r->msg.len, 11);
    assert_memory_equal(r->msg.data, "hello\r\n.\r\n\n", 11); /* BDAT: no unstuffing */
    /* A new transaction may use DATA again; the empty message. */
    expect(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n.\r\n",
           "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 2\r\n");
    assert_int_equal(mock_received_at(s, 1)->msg.len, 0);
    expect(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 0 LAST\r\n",
           "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as 3\r\n");
    mock_free(s);
}

static void test_pipelining(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    /* RFC 2920 3.1: the whole group in one write; answers in order. */
    size_t seg0 = mock_segments(s);
    expect(s,
           "EHLO c.example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<bad\r\nRCPT TO:<e@f>\r\nDATA\r\n"
           "line\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 3 LAST\r\nxyzRSET\r\nQUIT\r\nNOOP\r\n",
           "250-smtp.test Hello c.example\r\n250-PIPELINING\r\n250-SIZE 67108864\r\n250-8BITMIME\r\n"
           "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n"
           "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 HELP\r\n"
           "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.1.3 Bad recipient address syntax\r\n250 2.1.5 Ok\r\n"
           "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n"
           "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as 2\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n");
    assert_int_equal(mock_segments(s) - seg0, 12); /* one write per command */
    assert_int_equal(mock_nreceived(s), 2);
    assert_int_equal(mock_received_at(s, 0)->nrcpts, 2);
    mock_free(s);
}

/* ------------------------------------------------------------ the table */

typedef struct cmd_case {
    const char *why;
    const char *setup; /* sent first, answers ignored */
    const char *send;
    const char *want;
} cmd_case;

#define E "EHLO c\r\n"
#define M E "MAIL FROM:<a@b>\r\n"
#define R M "RCPT TO:<c@d>\r\n"

static const cmd_case CASES[] = {
    {"RFC 5321 4.1.4: MAIL needs EHLO/HELO first", "", "MAIL FROM:<a@b>\r\n", "503 5.5.1 Error: send HELO/EHLO first\r\n"},
    {"RCPT needs MAIL", E, "RCPT TO:<a@b>\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
    {"DATA needs MAIL", E, "DATA\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
    {"RFC 5321 3.3: DATA without recipients", M, "DATA\r\n", "554 5.5.1 Error: no valid recipients\r\n"},
    {"DATA takes no argument", R, "DATA x\r\n", "501 5.5.4 Syntax: DATA\r\n"},
    {"path without brackets", E, "MAIL FROM:a@b\r\n", "501 5.1.7 Bad sender address syntax\r\n"},
    {"MAIL without FROM:", E, "MAIL TO:<a@b>\r\n", "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"},
    {"unterminated path", E, "MAIL FROM:<a@b\r\n", "501 5.1.7 Bad sender address syntax\r\n"},
    {"space inside a path", E, "MAIL FROM:<a b@c>\r\n", "501 5.1.7 Bad sender address syntax\r\n"},
    {"quoted local part with space and >", E, "MAIL FROM:<\"a >b\"@c>\r\n", "250 2.1.0 Ok\r\n"},
    {"source route accepted", E, "MAIL FROM:<@r1,@r2:a@b>\r\n", "250 2.1.0 Ok\r\n"},
    {"null reverse-path", E, "MAIL FROM:<>\r\n", "250 2.1.0 Ok\r\n"},
    {"space after the colon (lenient)", E, "MAIL FROM: <a@b>\r\n", "250 2.1.0 Ok\r\n"},
    {"RFC 1870 6.1: SIZE over the maximum", E, "MAIL FROM:<a@b> SIZE=99999999999\r\n",
     "552 5.3.4 Message size exceeds fixed maximum message size\r\n"},
    {"SIZE not a number", E, "MAIL FROM:<a@b> SIZE=12x\r\n", "501 5.5.4 Bad SIZE parameter value\r\n"},
    {"SIZE twice", E, "MAIL FROM:<a@b> SIZE=1 SIZE=2\r\n", "501 5.5.4 Duplicate parameter: SIZE\r\n"},
    {"RFC 5321 4.1.1.11: unknown parameter", E, "MAIL FROM:<a@b> FOO=bar\r\n", "555 5.5.4 Unsupported option: FOO\r\n"},
    {"BINARYMIME is not offered", E, "MAIL FROM:<a@b> BODY=BINARYMIME\r\n", "501 5.5.4 Bad BODY parameter value\r\n"},
    {"BODY=7BIT", E, "MAIL FROM:<a@b> BODY=7bit\r\n", "250 2.1.0 Ok\r\n"},
    {"ESMTP parameters need EHLO", "HELO c\r\n", "MAIL FROM:<a@b> SIZE=10\r\n", "555 5.5.4 ESMTP parameters need EHLO\r\n"},
    {"HELO allows plain MAIL", "HELO c\r\n", "MAIL FROM:<a@b>\r\n", "250 2.1.0 Ok\r\n"},
    {"RFC 6531 3.4: non-ASCII needs SMTPUTF8", E, "MAIL FROM:<\xc3\xbc@b>\r\n",
     "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter\r\n"},
    {"with SMTPUTF8", E, "MAIL FROM:<\xc3\xbc@b> SMTPUTF8\r\n", "250 2.1.0 Ok\r\n"},
    {"SMTPUTF8 takes no value", E, "MAIL FROM:<a@b> SMTPUTF8=1\r\n", "501 5.5.4 Bad SMTPUTF8 parameter value\r\n"},
    {"RCPT non-ASCII without SMTPUTF8 in MAIL", M, "RCPT TO:<\xc3\xbc@b>\r\n",
     "553 5.6.7 Non-ASCII address needs SMTPUTF8 in MAIL\r\n"},
    {"RFC 3461: RET, ENVID (xtext), RFC 4954 5: AUTH=<>", E, "MAIL FROM:<a@b> RET=HDRS ENVID=x+2By AUTH=<>\r\n",
     "250 2.1.0 Ok\r\n"},
    {"ENVID with a bad xtext", E, "MAIL FROM:<a@b> ENVID=a=b\r\n", "501 5.5.4 Bad ENVID parameter value\r\n"},
    {"RET with a bad value", E, "MAIL FROM:<a@b> RET=ALL\r\n", "501 5.5.4 Bad RET parameter value\r\n"},
    {"nested MAIL", M, "MAIL FROM:<a@b>\r\n", "503 5.5.1 Error: nested MAIL command\r\n"},
    {"empty forward-path", M, "RCPT TO:<>\r\n", "501 5.1.3 Bad recipient address syntax\r\n"},
    {"RCPT without TO:", M, "RCPT <a@b>\r\n", "501 5.5.4 Syntax: RCPT TO:<address>\r\n"},
    {"RFC 3461 4.1: NEVER alone", M, "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS\r\n", "501 5.5.4 Bad NOTIFY parameter value\r\n"},
    {"NOTIFY=DELAY", M, "RCPT TO:<a@b> NOTIFY=delay\r\n", "250 2.1.5 Ok\r\n"},
    {"RFC 3461 4.2: ORCPT needs addr-type;", M, "RCPT TO:<a@b> ORCPT=rfc822\r\n", "501 5.5.4 Bad ORCPT parameter value\r\n"},
    {"unknown RCPT parameter", M, "RCPT TO:<a@b> XX\r\n", "555 5.5.4 Unsupported option: XX\r\n"},
    {"RSET takes no argument", R, "RSET x\r\n", "501 5.5.4 Syntax: RSET\r\n"},
    {"RSET ends the transaction", R "RSET\r\n", "RCPT TO:<a@b>\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
    {"EHLO resets the transaction", R "EHLO c\r\n", "DATA\r\n", "503 5.5.1 Error: need MAIL command\r\n"},
    {"NOOP with an argument", "", "NOOP x\r\n", "250 2.0.0 Ok\r\n"},
    {"RFC 5321 3.5.3: VRFY", "", "VRFY a\r\n",
     "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"},
    {"VRFY without argument", "", "VRFY\r\n", "501 5.5.4 Syntax: VRFY address\r\n"},
    {"EXPN", "", "EXPN list\r\n", "502 5.5.1 Error: command not implemented\r\n"},
    {"HELP", "", "HELP\r\n", "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY QUIT HELP STARTTLS AUTH\r\n"},
    {"unknown command", "", "FOO\r\n", "500 5.5.2 Error: command not recognized\r\n"},
    {"EHLO without a domain", "", "EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n"},
    {"HELO", "", "HELO c\r\n", "250 smtp.test\r\n"},
    {"RFC 4954 4: AUTH needs EHLO", "HELO c\r\n", "AUTH PLAIN\r\n", "503 5.5.1 Error: send EHLO first\r\n"},
    {"AUTH in a transaction", M, "AUTH PLAIN\r\n", "503 5.5.1 Error: MAIL transaction in progress\r\n"},
    {"AUTH unknown mechanism", E, "AUTH GSSAPI\r\n", "504 5.5.4 Unrecognized authentication type\r\n"},
    {"AUTH without mechanism", E, "AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n"},
    {"STARTTLS not offered", "", "STARTTLS\r\n", "502 5.5.1 Error: command not implemented\r\n"},
    {"BDAT bad size: no chunk read", R, "BDAT x\r\nNOOP\r\n", "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n250 2.0.0 Ok\r\n"},
    {"BDAT bad end marker", R, "BDAT 1 FIRST\r\n", "501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n"},
    {"RFC 3030 2: chunk read even when refused", E, "BDAT 4\r\nNOOPNOOP\r\n",
     "503 5.5.1 Error: need MAIL command\r\n250 2.0.0 Ok\r\n"},
    {"BDAT without recipients", M, "BDAT 2 LAST\r\nab", "554 5.5.1 Error: no valid recipients\r\n"},
    {"empty line", "", "\r\n", "500 5.5.2 Error: bad syntax\r\n"},
    {"non-ASCII verb", "", "M\xc3\x80IL FROM:<a@b>\r\n", "500 5.5.2 Error: command not recognized\r\n"},
    {"verb too long", "", "MAILMAILMAILMAILMAIL\r\n", "500 5.5.2 Error: command not recognized\r\n"},
    {"bare LF ends a command line", "", "NOOP\n", "250 2.0.0 Ok\r\n"},
};

static void test_command_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const cmd_case *c = &CASES[i];
        mr_sess *s = start(MR_TLS_NONE, 0, 1000);
        mock_feeds(s, c->setup);
        free(mock_take(s));
        mock_feeds(s, c->send);
        char *got = mock_take(s);
        if (strcmp(got, c->want) != 0)
            fprintf(stderr, "case \"%s\": want \"%s\", got \"%s\"\n", c->why, c->want, got);
        assert_string_equal(got, c->want);
        free(got);
        mock_free(s);
    }
}

static void test_nul_and_garbage(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    expectn(s, "NO\0OP\r\nNOOP\r\n", 13, "500 5.5.2 Error: NUL byte in command\r\n250 2.0.0 Ok\r\n");
    assert_int_equal(mock_errors(s), 1);
    expect(s, "\x01\x02\x03\r\n", "500 5.5.2 Error: command not recognized\r\n");
    expect(s, " NOOP\r\n", "500 5.5.2 Error: command not recognized\r\n");
    mock_free(s);
}

static void test_rcpt_limit(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    mock_feeds(s, "EHLO c\r\nMAIL FROM:<a@b>\r\n");
    free(mock_take(s));
    for (int i = 0; i < 100; i++) {
        char line[64];
        snprintf(line, sizeof line, "RCPT TO:<r%d@d>\r\n", i);
        expect(s, line, "250 2.1.5 Ok\r\n");
    }
    expect(s, "RCPT TO:<r100@d>\r\n", "452 4.5.3 Error: too many recipients\r\n");
    expect(s, "DATA\r\nx\r\n.\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
    assert_int_equal(mock_received_at(s, 0)->nrcpts, 100);
    mock_free(s);
}

static void test_too_many_errors(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    for (int i = 0; i < 9; i++)
        expect(s, "BOGUS\r\n", "500 5.5.2 Error: command not recognized\r\n");
    expect(s, "BOGUS\r\nNOOP\r\n",
           "500 5.5.2 Error: command not recognized\r\n421 4.7.0 smtp.test Error: too many errors\r\n");
    assert_true(mock_closed(s));
    mock_free(s);
}

/* ------------------------------------------------------------ AUTH */

static void test_auth(void **state)
{
    (void)state;
    char plain[64], line[256], u[16], p[16], chal[256];
    b64("\0user\0password", 14, plain);
    b64("user", 4, u);
    b64("password", 8, p);

    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    snprintf(line, sizeof line, "AUTH PLAIN %s\r\n", plain);
    expect(s, line, "235 2.7.0 Authentication successful\r\n");
    assert_string_equal(mock_user(s), "user");
    expect(s, line, "503 5.5.1 Error: already authenticated\r\n");
    mock_free(s);

    s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    expect(s, "AUTH PLAIN\r\n", "334 \r\n");
    snprintf(line, sizeof line, "%s\r\n", plain);
    expect(s, line, "235 2.7.0 Authentication successful\r\n");
    mock_free(s);

    s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    expect(s, "AUTH PLAIN =\r\n", "501 5.5.2 Cannot decode response\r\n"); /* RFC 4954 4: "=" is empty */
    expect(s, "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n");
    snprintf(line, sizeof line, "%s\r\n", u);
    expect(s, line, "334 UGFzc3dvcmQ6\r\n");
    expect(s, "Zm9v\r\n", "535 5.7.8 Authentication credentials invalid\r\n");
    expect(s, "AUTH LOGIN\r\n*\r\n", "334 VXNlcm5hbWU6\r\n501 5.0.0 Authentication aborted\r\n");
    expect(s, "AUTH LOGIN\r\n%%%\r\n", "334 VXNlcm5hbWU6\r\n501 5.5.2 Cannot decode response\r\n");
    snprintf(line, sizeof line, "AUTH LOGIN %s\r\n%s\r\n", u, p);
    expect(s, line, "334 UGFzc3dvcmQ6\r\n235 2.7.0 Authentication successful\r\n");
    mock_free(s);

    /* XOAUTH2: a bad token gets the JSON challenge, then 535. */
    const char xb[] = "user=user\001auth=Bearer expired\001\001";
    const char xg[] = "user=user\001auth=Bearer password\001\001";
    char enc[128];
    s = start(MR_TLS_NONE, 0, 0);
    ehlo(s, 64u << 20, 0);
    b64(xb, sizeof xb - 1, enc);
    snprintf(line, sizeof line, "AUTH XOAUTH2 %s\r\n", enc);
    mock_feeds(s, line);
    char *got = mock_take(s);
    assert_true(strncmp(got, "334 ", 4) == 0);
    got[strlen(got) - 2] = 0;
    unb64(got + 4, chal);
    free(got);
    assert_string_equal(chal, "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
    expect(s, "\r\n", "535 5.7.8 Authentication credentials invalid\r\n");
    b64(xg, sizeof xg - 1, enc);
    snprintf(line, sizeof line, "AUTH XOAUTH2 %s\r\n", enc);
    expect(s, line, "235 2.7.0 Authentication successful\r\n");
    mock_free(s);

    /* CRAM-MD5 (RFC 2195 2), the response computed here. */
    for (int good = 0; good < 2; good++) {
        s = start(MR_TLS_NONE, 0, 0);
        ehlo(s, 64u << 20, 0);
        mock_feeds(s, "AUTH CRAM-MD5\r\n");
        got = mock_take(s);
        assert_true(strncmp(got, "334 ", 4) == 0);
        got[strlen(got) - 2] = 0;
        unb64(got + 4, chal);
        free(got);
        assert_non_null(strstr(chal, "@smtp.test>"));
        unsigned char mac[16];
        unsigned maclen = 0;
        const char *key = good ? "password" : "passwort";
        HMAC(EVP_md5(), key, (int)strlen(key), (const unsigned char *)chal, strlen(chal), mac, &maclen);
        char resp[64];
        int o = snprintf(resp, sizeof resp, "user ");
        for (int i = 0; i < 16; i++)
            o += snprintf(resp + o, sizeof resp - (size_t)o, "%02x", mac[i]);
        b64(resp, strlen(resp), enc);
        strcat(enc, "\r\n");
        expect(s, enc, good ? "235 2.7.0 Authentication successful\r\n"
                            : "535 5.7.8 Authentication credentials invalid\r\n");
        mock_free(s);
    }
}

/* ------------------------------------------------------------ STARTTLS */

static void test_starttls(void **state)
{
    (void)state;
    char plain[64], line[128];
    b64("\0user\0password", 14, plain);
    mr_sess *s = start(MR_TLS_STARTTLS, 0, 0);
    ehlo(s, 64u << 20, 1);
    snprintf(line, sizeof line, "AUTH PLAIN %s\r\n", plain);
    expect(s, line, "235 2.7.0 Authentication successful\r\n");
    expect(s, "MAIL FROM:<a@b>\r\n", "250 2.1.0 Ok\r\n");
    expect(s, "STARTTLS x\r\n", "501 5.5.4 Syntax: STARTTLS\r\n");
    /* RFC 3207 4.2: plaintext pipelined after STARTTLS is dropped. */
    expect(s, "STARTTLS\r\nRCPT TO:<c@d>\r\n", "220 2.0.0 Ready to start TLS\r\n");
    assert_true(mock_tls(s));
    /* ... and the state is the one before EHLO: no EHLO, no MAIL, no AUTH. */
    expect(s, "MAIL FROM:<a@b>\r\n", "503 5.5.1 Error: send HELO/EHLO first\r\n");
    ehlo(s, 64u << 20, 0);
    expect(s, "RCPT TO:<c@d>\r\n", "503 5.5.1 Error: need MAIL command\r\n");
    expect(s, line, "235 2.7.0 Authentication successful\r\n");
    expect(s, "STARTTLS\r\n", "503 5.5.1 Error: TLS already active\r\n");
    mock_free(s);

    s = start(MR_TLS_IMPLICIT, 0, 0);
    ehlo(s, 64u << 20, 0);
    mock_free(s);
}

/* ------------------------------------------------------------ bounds */

static void test_long_line(void **state)
{
    (void)state;
    char buf[300];
    memset(buf, 'X', 200);
    memcpy(buf + 200, "\r\nNOOP\r\n", 9);
    mr_sess *s = start(MR_TLS_NONE, 64, 0);
    expect(s, buf, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
    for (size_t i = 0; i < strlen(buf); i++)
        mock_feed(s, buf + i, 1);
    char *got = mock_take(s);
    assert_string_equal(got, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
    free(got);
    /* Exactly max_line with its CRLF is fine. */
    char ok[80];
    memset(ok, 'x', 62);
    memcpy(ok, "NOOP ", 5);
    memcpy(ok + 62, "\r\n", 3);
    expect(s, ok, "250 2.0.0 Ok\r\n");
    ok[61] = 'y';
    memcpy(ok + 62, "z\r\n", 4);
    expect(s, ok, "500 5.5.2 Error: line too long\r\n");
    mock_free(s);
}

static void test_data_size_limit(void **state)
{
    (void)state;
    const char *pre = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        mr_sess *s = start(MR_TLS_NONE, 0, 100);
        mock_feeds(s, pre);
        free(mock_take(s));
        char body[400];
        size_t n = 0;
        for (int i = 0; i < 30; i++)
            n += (size_t)snprintf(body + n, sizeof body - n, "line %02d\r\n", i);
        n += (size_t)snprintf(body + n, sizeof body - n, ".\r\nNOOP\r\n");
        if (bytewise)
            for (size_t i = 0; i < n; i++)
                mock_feed(s, body + i, 1);
        else
            mock_feed(s, body, n);
        char *got = mock_take(s);
        assert_string_equal(got, "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
        free(got);
        assert_int_equal(mock_nreceived(s), 0);
        /* The transaction is over; a message of exactly 100 octets fits. */
        expect(s, "DATA\r\n", "503 5.5.1 Error: need MAIL command\r\n");
        mock_feeds(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
        free(mock_take(s));
        char m100[128];
        memset(m100, 'm', 98);
        memcpy(m100 + 98, "\r\n.\r\n", 6);
        expect(s, m100, "250 2.0.0 Ok: queued as 1\r\n");
        assert_int_equal(mock_received_at(s, 0)->msg.len, 100);
        mock_feeds(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
        free(mock_take(s));
        m100[0] = 'M';
        memmove(m100 + 1, m100, 104);
        expect(s, m100, "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
        mock_free(s);
    }
}

static void test_bdat_size_limit(void **state)
{
    (void)state;
    const char *pre = "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n";
    const char *in = "BDAT 20 LAST\r\n01234567890123456789NOOP\r\n";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        mr_sess *s = start(MR_TLS_NONE, 0, 10);
        mock_feeds(s, pre);
        free(mock_take(s));
        if (bytewise)
            for (size_t i = 0; i < strlen(in); i++)
                mock_feed(s, in + i, 1);
        else
            mock_feeds(s, in);
        char *got = mock_take(s);
        assert_string_equal(got, "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
        free(got);
        /* The limit is on the message: 6 + 6 > 10. */
        expect(s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 6\r\nabcdefBDAT 6 LAST\r\nghijklNOOP\r\n",
               "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 6 octets received\r\n"
               "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n");
        assert_int_equal(mock_nreceived(s), 0);
        mock_free(s);
    }
}

static void test_data_bare_lf_and_8bit(void **state)
{
    (void)state;
    mr_sess *s = start(MR_TLS_NONE, 0, 0);
    expect(s, "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhi\n.\nmore \xc3\xa9\r\n.\r\n",
           "250-smtp.test Hello c\r\n250-PIPELINING\r\n250-SIZE 67108864\r\n250-8BITMIME\r\n"
           "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n"
           "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 HELP\r\n"
           "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
    const mock_received *r = mock_received_at(s, 0);
    const char want[] = "hi\n.\nmore \xc3\xa9\r\n"; /* a bare LF is no line start: the dot stays */
    assert_int_equal(r->msg.len, sizeof want - 1);
    assert_memory_equal(r->msg.data, want, sizeof want - 1);
    assert_non_null(strstr(mock_notes(s), "2 bare LF"));
    assert_non_null(strstr(mock_notes(s), "without BODY=8BITMIME"));
    mock_free(s);
}

/* ------------------------------------------------------------ chunking */

static char *run_cut(const char *input, size_t len, size_t piece, size_t cut)
{
    mr_sess *s = start(MR_TLS_NONE, 48, 64);
    if (piece == SIZE_MAX) {
        mock_feed(s, input, cut);
        mock_feed(s, input + cut, len - cut);
    } else {
        size_t step = piece ? piece : len;
        for (size_t o = 0; o < len; o += step)
            mock_feed(s, input + o, len - o < step ? len - o : step);
    }
    mock_eof(s);
    char *out = mock_take(s);
    size_t n = strlen(out) + strlen(mock_notes(s)) + 64;
    for (size_t i = 0; i < mock_nreceived(s); i++)
        n += mock_received_at(s, i)->msg.len + 8;
    char *all = malloc(n);
    assert_non_null(all);
    size_t o = (size_t)snprintf(all, n, "%s--notes--\n%s--%d--", out, mock_notes(s), mock_closed(s));
    for (size_t i = 0; i < mock_nreceived(s); i++) {
        const mock_received *r = mock_received_at(s, i);
        o += (size_t)snprintf(all + o, n - o, "[%.*s]", (int)r->msg.len, (const char *)r->msg.data);
    }
    free(out);
    mock_free(s);
    return all;
}

static void check_chunking(const char *input, size_t len)
{
    char *whole = run_cut(input, len, 0, 0);
    for (size_t piece = 1; piece <= 17; piece++) {
        char *got = run_cut(input, len, piece, 0);
        if (strcmp(got, whole) != 0)
            fprintf(stderr, "piece %zu:\n%s\nwhole:\n%s\n", piece, got, whole);
        assert_string_equal(got, whole);
        free(got);
    }
    for (size_t cut = 0; cut <= len; cut++) {
        char *got = run_cut(input, len, SIZE_MAX, cut);
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
#define S(x) {x, sizeof x - 1}
    static const struct {
        const char *s;
        size_t len;
    } scripts[] = {
        S("EHLO c\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nDATA\r\n..a\r\n.b\r\n\r\n.\r\nQUIT\r\n"),
        S("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 3\r\nabcBDAT 5 LAST\r\n\r\n.\r\nNOOP\r\n"),
        S("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"
          "0123456789012345678901234567890123456789\r\n0123456789012345678901234567890123456789\r\n.\r\nNOOP\r\n"),
        S("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 70 LAST\r\n"
          "0123456789012345678901234567890123456789012345678901234567890123456789RSET\r\n"),
        S("NOOP 0123456789012345678901234567890123456789012345678901234567890123456789\r\nNOOP\r\n"
          "N\0OP\r\n\r\nHELO x\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\r\n.\n.\r\n.\r\n"),
        S("EHLO c\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzc3dvcmQ=\r\nAUTH PLAIN\r\n*\r\nQUIT\r\n"),
    };
#undef S
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
        check_chunking(scripts[i].s, scripts[i].len);
}

/* ------------------------------------------------------------ readers */

static void test_reader_units(void **state)
{
    (void)state;
    mr_cmdline_reader r;
    mr_cmdline c;
    mr_cmdline_init(&r, 16);
    const uint8_t *p = (const uint8_t *)"mail FROM:<a>\r\nX";
    assert_int_equal(mr_cmdline_read(&r, p, 3, 0, &c), MR_CMDLINE_MORE);
    assert_int_equal(mr_cmdline_read(&r, p, 16, 0, &c), MR_CMDLINE_UNIT);
    assert_string_equal(c.verb, "MAIL");
    assert_int_equal(c.consumed, 15);
    assert_int_equal(c.args_len, 8);
    assert_memory_equal(c.args, "FROM:<a>", 8);
    assert_string_equal(mr_cmdline_err_name(MR_CMDLINE_E_TOO_LONG), "TOO_LONG");
    assert_string_equal(mr_cmdline_err_reason(MR_CMDLINE_E_NUL), "NUL byte in the line");

    uint64_t size;
    int last;
    assert_int_equal(mr_bdat_parse((const uint8_t *)"0 last", 6, &size, &last), 0);
    assert_true(last);
    assert_int_equal(mr_bdat_parse((const uint8_t *)"99999999999999999999", 20, &size, &last), -1);
    assert_int_equal(mr_bdat_parse((const uint8_t *)"12 ", 3, &size, &last), -1);
    assert_int_equal(mr_bdat_parse((const uint8_t *)"", 0, &size, &last), -1);

    uint8_t out[32];
    const char stuffed[] = ".a\r\n..b\r\nc.\r\n.";
    size_t n = mr_data_unstuff((const uint8_t *)stuffed, sizeof stuffed - 1, out);
    assert_int_equal(n, 11);
    assert_memory_equal(out, "a\r\n.b\r\nc.\r\n", 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_data_and_bdat),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_command_table),
        cmocka_unit_test(test_nul_and_garbage),
        cmocka_unit_test(test_rcpt_limit),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_data_size_limit),
        cmocka_unit_test(test_bdat_size_limit),
        cmocka_unit_test(test_data_bare_lf_and_8bit),
        cmocka_unit_test(test_chunking_invariance),
        cmocka_unit_test(test_reader_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
