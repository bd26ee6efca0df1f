/*
 * mr_fake_smtp.c - the fake SMTP server's default behaviour: what a
 * correct ESMTP server answers (RFC 5321), with STARTTLS (RFC 3207), AUTH
 * (RFC 4954), CHUNKING/BDAT (RFC 3030), SIZE (RFC 1870), 8BITMIME
 * (RFC 6152), PIPELINING (RFC 2920), DSN parameters (RFC 3461), SMTPUTF8
 * (RFC 6531) and enhanced status codes (RFC 2034, RFC 3463) on every
 * reply after the greeting.  See mr_fake.h for the module contract.
 *
 * Units: a command line; after "354" the message through the final dot
 * ("<data>", one unit); a BDAT line together with its chunk ("BDAT"); an
 * AUTH exchange's client lines ("<sasl>").  input() frames exactly one
 * unit, so pipelined commands (RFC 2920 3.1) simply wait their turn.
 *
 * Choices (a real server may differ):
 *   - AUTH is offered and accepted with or without TLS (a test harness
 *     wants to see what a client does in plaintext; RFC 4954 4 leaves the
 *     policy to the server).  Mail is accepted without AUTH.  XOAUTH2 is
 *     accepted although not advertised.
 *   - MAIL needs HELO or EHLO first (RFC 5321 4.1.4 allows refusing it);
 *     ESMTP parameters need EHLO; AUTH needs EHLO.
 *   - paths must be in angle brackets (RFC 5321 4.1.2); non-ASCII in a
 *     path needs the SMTPUTF8 parameter (RFC 6531 3.4).
 *   - command lines are accepted up to the config's max_line, over
 *     RFC 5321 4.5.3.1.4's 512 (noted); a bare LF ends a command line
 *     (noted), but only CRLF "." CRLF ends DATA (no smuggling ambiguity).
 *   - DATA or BDAT over max_literal: the rest is read and dropped, never
 *     buffered, and 552 5.3.4 answers at its end (RFC 1870 6.3).  An
 *     over-long command line is answered 500 5.5.2 at once, and the rest
 *     of it is dropped up to its LF.
 *   - after MAX_BAD consecutive protocol errors (5xx syntax and sequence
 *     errors; failed AUTH does not count) "421 4.7.0" and close (RFC 5321
 *     4.3.2 allows 421 at any time), as Postfix does after its
 *     smtpd_hard_error_limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mr_cmd_line.h"
#include "mr_fake.h"
#include "mr_sasl.h"

#define MAX_BAD 10
#define MAX_RCPT 100      /* RFC 5321 4.5.3.1.8 asks for at least 100 */
#define MAX_PATH 512      /* stored; RFC 5321 4.5.3.1.3 says 256 */
#define RFC_PATH_MAX 256
#define RFC_LINE_MAX 512  /* RFC 5321 4.5.3.1.4, CRLF included */

typedef enum smtp_mode { S_CMD = 0, S_SASL, S_DATA, S_DONE } smtp_mode;

typedef struct smtp_st {
    smtp_mode mode;
    mr_cmdline_reader rd;
    mr_cmdline cur;        /* the line input() framed last (cmd->name may point here) */
    mr_data_reader dr;
    mr_data_unit du;       /* the "<data>" unit framed last */
    mr_bdat_reader br;
    mr_bdat_unit bu;       /* the BDAT chunk framed last */
    int bu_valid;          /* bu belongs to the BDAT unit being answered */
    int helo;              /* 0 none, 1 HELO, 2 EHLO */
    int authed;
    mr_sasl sasl;
    /* The mail transaction (RFC 5321 3.3). */
    int in_mail;
    int txn_over;          /* DATA/BDAT LAST framed: reset before the next command */
    char from[MAX_PATH + 1];
    char *rcpts[MAX_RCPT];
    size_t nrcpt;
    int smtputf8;          /* MAIL ... SMTPUTF8 */
    int body_8bit;         /* MAIL ... BODY=8BITMIME */
    int bdat;              /* BDAT used in this transaction (RFC 3030 3: no DATA then) */
    mr_buf msg;            /* BDAT chunks so far; DATA's unstuffed message */
    unsigned queued;       /* messages accepted, for "queued as N" */
    unsigned bad;          /* consecutive protocol errors */
} smtp_st;

/* ------------------------------------------------------------ helpers */

static void good(smtp_st *st) { st->bad = 0; }

static const char *host(const mr_sess *s)
{
    const char *h = mr_sess_config(s)->hostname;
    return h && *h ? h : "localhost";
}

static void reset_txn(smtp_st *st)
{
    for (size_t i = 0; i < st->nrcpt; i++)
        free(st->rcpts[i]);
    st->nrcpt = 0;
    st->in_mail = 0;
    st->txn_over = 0;
    st->from[0] = 0;
    st->smtputf8 = 0;
    st->body_8bit = 0;
    st->bdat = 0;
    mr_buf_reset(&st->msg);
}

/* A protocol error reply ("5xx x.y.z text"); the MAX_BADth in a row closes. */
static void bad(mr_sess *s, smtp_st *st, const char *reply)
{
    mr_sess_sendf(s, "%s\r\n", reply);
    if (++st->bad >= MAX_BAD) {
        mr_sess_sendf(s, "421 4.7.0 %s Error: too many errors\r\n", host(s));
        mr_sess_note(s, "closing after %u consecutive errors", st->bad);
        st->mode = S_DONE;
        mr_sess_close(s);
    }
}

static int ci_prefix(const uint8_t *p, size_t len, const char *pre)
{
    size_t k = strlen(pre);
    return len >= k && strncasecmp((const char *)p, pre, k) == 0;
}

static int ci_eq(const uint8_t *p, size_t len, const char *w)
{
    return len == strlen(w) && strncasecmp((const char *)p, w, len) == 0;
}

/* RFC 3461 4: xtext = *( xchar other than "+" and "=" / "+" 2HEXUPPER ). */
static int xtext_ok(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '+') {
            for (int k = 1; k <= 2; k++) {
                if (i + (size_t)k >= n)
                    return 0;
                uint8_t h = p[i + (size_t)k];
                if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')))
                    return 0;
            }
            i += 2;
        } else if (c < 0x21 || c > 0x7e || c == '=') {
            return 0;
        }
    }
    return 1;
}

/*
 * "FROM:<path>" / "TO:<path>" and what follows: the path between the
 * brackets into out, *params after the ">" and its space.  RFC 5321
 * 4.1.2: quoted strings may hold ">" and spaces.  A space after the colon
 * is accepted (*sp_after_colon set).  0 ok, -1 syntax, -2 too long.
 */
static int parse_path(const uint8_t *a, size_t len, const char *kw, char *out, int *non_ascii,
                      int *sp_after_colon, const uint8_t **params, size_t *plen)
{
    size_t k = strlen(kw), i;
    *non_ascii = 0;
    *sp_after_colon = 0;
    if (!ci_prefix(a, len, kw))
        return -1;
    i = k;
    while (i < len && a[i] == ' ') {
        i++;
        *sp_after_colon = 1;
    }
    if (i >= len || a[i] != '<')
        return -1;
    i++;
    size_t b = i;
    int quoted = 0;
    for (; i < len; i++) {
        uint8_t c = a[i];
        if (quoted && c == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && c == '>')
            break;
        else if (c < 0x20 || c == 0x7f || (!quoted && (c == ' ' || c == '<')))
            return -1;
        if (c >= 0x80)
            *non_ascii = 1;
    }
    if (i >= len)
        return -1;
    size_t pl = i - b;
    if (pl > MAX_PATH)
        return -2;
    memcpy(out, a + b, pl);
    out[pl] = 0;
    i++; /* '>' */
    if (i < len && a[i] != ' ')
        return -1;
    while (i < len && a[i] == ' ')
        i++;
    *params = a + i;
    *plen = len - i;
    return 0;
}

/* The next "KEY[=VALUE]" of a parameter list. */
typedef struct param {
    const uint8_t *key, *val;
    size_t klen, vlen;
    int has_val;
} param;

static int next_param(const uint8_t **p, size_t *len, param *out)
{
    const uint8_t *a = *p;
    size_t n = *len, i = 0;
    while (i < n && a[i] == ' ')
        i++;
    if (i == n)
        return 0;
    size_t b = i;
    while (i < n && a[i] != ' ')
        i++;
    const uint8_t *w = a + b;
    size_t wl = i - b;
    const uint8_t *eq = memchr(w, '=', wl);
    out->key = w;
    out->klen = eq ? (size_t)(eq - w) : wl;
    out->has_val = eq != NULL;
    out->val = eq ? eq + 1 : w + wl;
    out->vlen = eq ? wl - out->klen - 1 : 0;
    *p = a + i;
    *len = n - i;
    return 1;
}

/* ------------------------------------------------------------ commands */

static void cmd_ehlo(mr_sess *s, smtp_st *st, const mr_cmd *cmd, int ehlo)
{
    const mr_fake_config *cfg = mr_sess_config(s);
    if (cmd->args_len == 0) {
        bad(s, st, ehlo ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
        return;
    }
    /* RFC 5321 4.1.4: EHLO/HELO in a session resets the transaction. */
    reset_txn(st);
    st->helo = ehlo ? 2 : 1;
    good(st);
    if (!ehlo) {
        mr_sess_sendf(s, "250 %s\r\n", host(s));
        return;
    }
    const char *ext[12];
    char size[48];
    size_t n = 0;
    snprintf(size, sizeof size, "SIZE %zu", cfg->max_literal); /* RFC 1870 4 */
    ext[n++] = "PIPELINING";
    ext[n++] = size;
    ext[n++] = "8BITMIME";
    ext[n++] = "SMTPUTF8";
    ext[n++] = "ENHANCEDSTATUSCODES";
    ext[n++] = "CHUNKING";
    ext[n++] = "DSN";
    if (mr_sess_starttls_offerable(s))
        ext[n++] = "STARTTLS";
    ext[n++] = "AUTH PLAIN LOGIN CRAM-MD5";
    ext[n++] = "HELP";
    mr_sess_sendf(s, "250-%s Hello %.*s\r\n", host(s), (int)(cmd->args_len > 255 ? 255 : cmd->args_len),
                  (const char *)cmd->args);
    for (size_t i = 0; i < n; i++)
        mr_sess_sendf(s, "250%c%s\r\n", i + 1 < n ? '-' : ' ', ext[i]);
}

/* The verdict on one MAIL or RCPT parameter, shared by both: seen is the
 * flag of the parameter it was recognised as (NULL: not recognised, 555
 * per RFC 5321 4.1.1.11), valid whether its value is well formed.
 * Answers and returns 0 when the command must be refused. */
static int param_ok(mr_sess *s, smtp_st *st, const param *pa, int *seen, int valid)
{
    char msg[160];
    int kl = (int)(pa->klen > 64 ? 64 : pa->klen);
    if (!seen)
        snprintf(msg, sizeof msg, "555 5.5.4 Unsupported option: %.*s", kl, (const char *)pa->key);
    else if (*seen)
        snprintf(msg, sizeof msg, "501 5.5.4 Duplicate parameter: %.*s", kl, (const char *)pa->key);
    else if (!valid)
        snprintf(msg, sizeof msg, "501 5.5.4 Bad %.*s parameter value", kl, (const char *)pa->key);
    else {
        *seen = 1;
        return 1;
    }
    bad(s, st, msg);
    return 0;
}

static void cmd_mail(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    const mr_fake_config *cfg = mr_sess_config(s);
    if (!st->helo) {
        bad(s, st, "503 5.5.1 Error: send HELO/EHLO first");
        return;
    }
    if (st->in_mail) {
        bad(s, st, "503 5.5.1 Error: nested MAIL command");
        return;
    }
    char path[MAX_PATH + 1];
    int non_ascii, sp;
    const uint8_t *pp;
    size_t pl;
    int r = parse_path(cmd->args, cmd->args_len, "FROM:", path, &non_ascii, &sp, &pp, &pl);
    if (r == -2) {
        bad(s, st, "501 5.1.7 Sender address too long");
        return;
    }
    if (r < 0) {
        bad(s, st, ci_prefix(cmd->args, cmd->args_len, "FROM:") ? "501 5.1.7 Bad sender address syntax"
                                                                 : "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    int seen_size = 0, seen_body = 0, seen_utf8 = 0, seen_ret = 0, seen_envid = 0, seen_auth = 0;
    int body8 = 0;
    param pa;
    while (next_param(&pp, &pl, &pa)) {
        if (st->helo != 2) {
            bad(s, st, "555 5.5.4 ESMTP parameters need EHLO");
            return;
        }
        int *seen = NULL, valid = 1;
        if (ci_eq(pa.key, pa.klen, "SIZE")) {
            /* RFC 1870 6: SIZE=1*20DIGIT; refuse what exceeds the maximum. */
            seen = &seen_size;
            valid = pa.has_val && pa.vlen >= 1 && pa.vlen <= 20;
            unsigned long long v = 0;
            for (size_t i = 0; valid && i < pa.vlen; i++) {
                if (pa.val[i] < '0' || pa.val[i] > '9' || v > (~0ULL - 9) / 10)
                    valid = 0;
                else
                    v = v * 10 + (unsigned)(pa.val[i] - '0');
            }
            if (valid && v > cfg->max_literal) {
                bad(s, st, "552 5.3.4 Message size exceeds fixed maximum message size");
                return;
            }
        } else if (ci_eq(pa.key, pa.klen, "BODY")) {
            /* RFC 6152 2; BINARYMIME (RFC 3030 3) is not offered. */
            seen = &seen_body;
            if (pa.has_val && ci_eq(pa.val, pa.vlen, "8BITMIME"))
                body8 = 1;
            else
                valid = pa.has_val && ci_eq(pa.val, pa.vlen, "7BIT");
        } else if (ci_eq(pa.key, pa.klen, "SMTPUTF8")) {
            seen = &seen_utf8; /* RFC 6531 3.4: no value */
            valid = !pa.has_val;
        } else if (ci_eq(pa.key, pa.klen, "RET")) {
            seen = &seen_ret; /* RFC 3461 4.3 */
            valid = pa.has_val && (ci_eq(pa.val, pa.vlen, "FULL") || ci_eq(pa.val, pa.vlen, "HDRS"));
        } else if (ci_eq(pa.key, pa.klen, "ENVID")) {
            seen = &seen_envid; /* RFC 3461 4.4: xtext, at most 100 chars */
            valid = pa.has_val && pa.vlen >= 1 && pa.vlen <= 100 && xtext_ok(pa.val, pa.vlen);
        } else if (ci_eq(pa.key, pa.klen, "AUTH")) {
            seen = &seen_auth; /* RFC 4954 5: xtext or "<>" */
            valid = pa.has_val && pa.vlen >= 1 && (ci_eq(pa.val, pa.vlen, "<>") || xtext_ok(pa.val, pa.vlen));
        }
        if (!param_ok(s, st, &pa, seen, valid))
            return;
    }
    if (non_ascii && !seen_utf8) {
        bad(s, st, "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        return;
    }
    if (sp)
        mr_sess_note(s, "space after \"MAIL FROM:\" (RFC 5321 4.1.1.2 has none)");
    if (strlen(path) > RFC_PATH_MAX)
        mr_sess_note(s, "reverse-path over RFC 5321 4.5.3.1.3's %d octets", RFC_PATH_MAX);
    reset_txn(st);
    snprintf(st->from, sizeof st->from, "%s", path);
    st->in_mail = 1;
    st->smtputf8 = seen_utf8;
    st->body_8bit = body8;
    mr_sess_sends(s, "250 2.1.0 Ok\r\n");
    good(st);
}

/* RFC 3461 4.1: NOTIFY=NEVER, or a list of SUCCESS, FAILURE, DELAY. */
static int notify_ok(const uint8_t *v, size_t n)
{
    if (ci_eq(v, n, "NEVER"))
        return 1;
    size_t i = 0;
    if (n == 0)
        return 0;
    while (i <= n) {
        const uint8_t *c = memchr(v + i, ',', n - i);
        size_t e = c ? (size_t)(c - v) : n;
        const uint8_t *w = v + i;
        size_t wl = e - i;
        if (!ci_eq(w, wl, "SUCCESS") && !ci_eq(w, wl, "FAILURE") && !ci_eq(w, wl, "DELAY"))
            return 0;
        i = e + 1;
    }
    return 1;
}

static void cmd_rcpt(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    if (!st->in_mail) {
        bad(s, st, "503 5.5.1 Error: need MAIL command");
        return;
    }
    char path[MAX_PATH + 1];
    int non_ascii, sp;
    const uint8_t *pp;
    size_t pl;
    int r = parse_path(cmd->args, cmd->args_len, "TO:", path, &non_ascii, &sp, &pp, &pl);
    if (r == -2) {
        bad(s, st, "501 5.1.3 Recipient address too long");
        return;
    }
    if (r < 0 || path[0] == 0) {
        bad(s, st, ci_prefix(cmd->args, cmd->args_len, "TO:") ? "501 5.1.3 Bad recipient address syntax"
                                                               : "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    int seen_notify = 0, seen_orcpt = 0;
    param pa;
    while (next_param(&pp, &pl, &pa)) {
        int *seen = NULL, valid = 1;
        if (st->helo != 2) {
            bad(s, st, "555 5.5.4 ESMTP parameters need EHLO");
            return;
        }
        if (ci_eq(pa.key, pa.klen, "NOTIFY")) {
            seen = &seen_notify;
            valid = pa.has_val && notify_ok(pa.val, pa.vlen);
        } else if (ci_eq(pa.key, pa.klen, "ORCPT")) {
            /* RFC 3461 4.2: addr-type ";" xtext */
            seen = &seen_orcpt;
            const uint8_t *semi = pa.has_val ? memchr(pa.val, ';', pa.vlen) : NULL;
            valid = semi && semi > pa.val && (size_t)(semi - pa.val) + 1 < pa.vlen &&
                    xtext_ok(semi + 1, pa.vlen - (size_t)(semi - pa.val) - 1);
        }
        if (!param_ok(s, st, &pa, seen, valid))
            return;
    }
    if (non_ascii && !st->smtputf8) {
        bad(s, st, "553 5.6.7 Non-ASCII address needs SMTPUTF8 in MAIL");
        return;
    }
    if (st->nrcpt >= MAX_RCPT) {
        /* RFC 5321 4.5.3.1.10: 452 for too many recipients. */
        mr_sess_sends(s, "452 4.5.3 Error: too many recipients\r\n");
        return;
    }
    if (sp)
        mr_sess_note(s, "space after \"RCPT TO:\" (RFC 5321 4.1.1.3 has none)");
    st->rcpts[st->nrcpt] = strdup(path);
    if (!st->rcpts[st->nrcpt])
        abort();
    st->nrcpt++;
    mr_sess_sends(s, "250 2.1.5 Ok\r\n");
    good(st);
}

static void deliver(mr_sess *s, smtp_st *st, const uint8_t *m, size_t len, const char *how)
{
    st->queued++;
    mr_sess_received(s, st->from, (const char *const *)st->rcpts, st->nrcpt, m, len);
    mr_sess_note(s, "message %u received by %s: %zu octets from <%s> to %zu recipients", st->queued, how, len,
                 st->from, st->nrcpt);
    mr_sess_sendf(s, "250 2.0.0 Ok: queued as %u\r\n", st->queued);
    reset_txn(st);
    good(st);
}

static void cmd_data(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    if (cmd->args_len) {
        bad(s, st, "501 5.5.4 Syntax: DATA");
    } else if (!st->in_mail) {
        bad(s, st, "503 5.5.1 Error: need MAIL command");
    } else if (st->bdat) {
        bad(s, st, "503 5.5.1 Error: DATA after BDAT in one transaction (RFC 3030 3)");
    } else if (st->nrcpt == 0) {
        /* RFC 5321 3.3: 554 "no valid recipients" (or 503). */
        bad(s, st, "554 5.5.1 Error: no valid recipients");
    } else {
        mr_sess_sends(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
        mr_data_init(&st->dr, mr_sess_config(s)->max_literal);
        st->mode = S_DATA;
        good(st);
    }
}

static void data_end(mr_sess *s, smtp_st *st)
{
    const mr_data_unit *u = &st->du;
    if (!st->in_mail) { /* cannot happen unless a scenario changed things */
        mr_sess_sends(s, "503 5.5.1 Error: no mail transaction\r\n");
        return;
    }
    mr_buf_reset(&st->msg);
    uint8_t *o = mr_buf_reserve(&st->msg, u->body_len + 1);
    st->msg.len = mr_data_unstuff(u->body, u->body_len, o); /* RFC 5321 4.5.2 */
    if (u->bare_lf || u->bare_cr)
        mr_sess_note(s, "message holds %zu bare LF and %zu bare CR (RFC 5321 2.3.8)", u->bare_lf, u->bare_cr);
    if (u->eight_bit && !st->body_8bit && !st->smtputf8)
        mr_sess_note(s, "8-bit message without BODY=8BITMIME (RFC 6152 3)");
    deliver(s, st, st->msg.data, st->msg.len, "DATA"); /* copied before the reset */
}

static void cmd_bdat(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    uint64_t size;
    int last;
    int have_chunk = st->bu_valid;
    st->bu_valid = 0;
    if (mr_bdat_parse(cmd->args, cmd->args_len, &size, &last) < 0 || !have_chunk) {
        bad(s, st, "501 5.5.4 Syntax: BDAT chunk-size [LAST]");
        return;
    }
    if (!st->in_mail) {
        bad(s, st, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (st->nrcpt == 0) {
        bad(s, st, "554 5.5.1 Error: no valid recipients");
        return;
    }
    st->bdat = 1;
    mr_buf_add(&st->msg, st->bu.chunk, st->bu.chunk_len);
    if (!last) {
        /* RFC 3030 2: each chunk gets its own reply. */
        mr_sess_sendf(s, "250 2.0.0 %zu octets received\r\n", st->bu.chunk_len);
        good(st);
        return;
    }
    deliver(s, st, st->msg.data, st->msg.len, "BDAT");
}

static void sasl_result(mr_sess *s, smtp_st *st, mr_sasl_status r, const char *chal)
{
    st->mode = S_CMD;
    switch (r) {
    case MR_SASL_CHALLENGE:
        mr_sess_sendf(s, "334 %s\r\n", chal); /* RFC 4954 4 */
        st->mode = S_SASL;
        break;
    case MR_SASL_OK:
        st->authed = 1;
        mr_sess_set_user(s, st->sasl.authenticated);
        mr_sess_note(s, "authenticated as %s (AUTH %s)", st->sasl.authenticated, mr_sasl_mech_name(st->sasl.mech));
        mr_sess_sends(s, "235 2.7.0 Authentication successful\r\n");
        break;
    case MR_SASL_FAIL:
        mr_sess_note(s, "authentication failed (AUTH %s)", mr_sasl_mech_name(st->sasl.mech));
        mr_sess_sends(s, "535 5.7.8 Authentication credentials invalid\r\n");
        break;
    case MR_SASL_ABORTED:
        /* RFC 4954 4: "*" cancels, and the server answers 501. */
        mr_sess_sends(s, "501 5.0.0 Authentication aborted\r\n");
        break;
    default:
        mr_sess_sends(s, "501 5.5.2 Cannot decode response\r\n");
        break;
    }
}

static void cmd_auth(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    /* RFC 4954 4: after EHLO, once, not during a mail transaction. */
    if (st->helo != 2) {
        bad(s, st, "503 5.5.1 Error: send EHLO first");
        return;
    }
    if (st->authed) {
        bad(s, st, "503 5.5.1 Error: already authenticated");
        return;
    }
    if (st->in_mail) {
        bad(s, st, "503 5.5.1 Error: MAIL transaction in progress");
        return;
    }
    const uint8_t *a = cmd->args;
    size_t n = cmd->args_len;
    const uint8_t *sp = memchr(a, ' ', n);
    size_t ml = sp ? (size_t)(sp - a) : n;
    const uint8_t *ir = sp ? sp + 1 : NULL;
    size_t irl = sp ? n - ml - 1 : 0;
    if (ml == 0 || (ir && (irl == 0 || memchr(ir, ' ', irl)))) {
        bad(s, st, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        return;
    }
    mr_sasl_mech m;
    if (mr_sasl_mech_parse((const char *)a, ml, &m) < 0) {
        bad(s, st, "504 5.5.4 Unrecognized authentication type");
        return;
    }
    const mr_fake_config *cfg = mr_sess_config(s);
    char chal[512];
    mr_sasl_status r = mr_sasl_start(&st->sasl, m, cfg->user, cfg->password, cfg->hostname, ir, irl, chal,
                                     sizeof chal);
    good(st);
    sasl_result(s, st, r, chal);
}

static void cmd_starttls(mr_sess *s, smtp_st *st, const mr_cmd *cmd)
{
    if (cmd->args_len)
        bad(s, st, "501 5.5.4 Syntax: STARTTLS"); /* RFC 3207 4: no parameters */
    else if (mr_sess_tls_active(s))
        bad(s, st, "503 5.5.1 Error: TLS already active");
    else if (!mr_sess_starttls_offerable(s))
        bad(s, st, "502 5.5.1 Error: command not implemented");
    else {
        mr_sess_sends(s, "220 2.0.0 Ready to start TLS\r\n");
        mr_sess_starttls(s);
        good(st);
    }
}

/* ------------------------------------------------------------ the vtable */

static void smtp_init(mr_sess *s, void *vst)
{
    smtp_st *st = vst;
    mr_cmdline_init(&st->rd, mr_sess_config(s)->max_line);
    mr_data_init(&st->dr, mr_sess_config(s)->max_literal);
}

static void smtp_fini(mr_sess *s, void *vst)
{
    smtp_st *st = vst;
    (void)s;
    reset_txn(st);
    mr_buf_free(&st->msg);
}

static void smtp_greeting(mr_sess *s, void *vst)
{
    (void)vst;
    mr_sess_sendf(s, "220 %s ESMTP mailrig\r\n", host(s));
}

static void too_big(mr_sess *s, smtp_st *st, const char *what)
{
    const mr_fake_config *cfg = mr_sess_config(s);
    mr_sess_note(s, "%s over the %zu-octet limit, dropped", what, cfg->max_literal);
    /* RFC 1870 6.3 (and RFC 5321 4.5.3.1.10): 552 for a message too big. */
    mr_sess_sends(s, "552 5.3.4 Message size exceeds fixed maximum message size\r\n");
    reset_txn(st);
}

/* Notes on a command line, once the unit it starts is framed (a BDAT line
 * is read again until its chunk is there). */
static void line_notes(mr_sess *s, const mr_cmdline *c, int sasl)
{
    if (c->bare_lf)
        mr_sess_note(s, "line ended by a bare LF (RFC 5321 2.3.8 asks for CRLF)");
    /* RFC 4954 4: AUTH lines and SASL responses may be longer (12288). */
    if (!sasl && c->consumed > RFC_LINE_MAX && strcmp(c->verb, "AUTH") != 0)
        mr_sess_note(s, "command line of %zu octets, over RFC 5321 4.5.3.1.4's %d (accepted)", c->consumed,
                     RFC_LINE_MAX);
}

static int smtp_input(mr_sess *s, void *vst, const uint8_t *p, size_t n, int eof, mr_cmd *cmd)
{
    smtp_st *st = vst;
    (void)eof;
    cmd->tag = "";
    cmd->line = p;
    cmd->args = p;
    if (st->txn_over)
        reset_txn(st); /* the last DATA/BDAT LAST was answered (maybe by a scenario) */

    if (st->mode == S_DATA) {
        int r = mr_data_read(&st->dr, p, n, &st->du);
        if (r == MR_DATA_MORE)
            return MR_IN_MORE;
        cmd->name = "<data>";
        cmd->consumed = st->du.consumed;
        cmd->line_len = st->du.consumed;
        if (r == MR_DATA_DISCARD)
            return MR_IN_ERROR; /* answered at the end */
        st->mode = S_CMD;
        if (r == MR_DATA_TOO_BIG) {
            too_big(s, st, "DATA message");
            return MR_IN_ERROR;
        }
        cmd->line_len = st->du.consumed - 2; /* without the final CRLF */
        cmd->args = st->du.body;
        cmd->args_len = st->du.body_len;
        st->txn_over = 1;
        return MR_IN_COMMAND;
    }

    if (mr_bdat_dropping(&st->br)) {
        int r = mr_bdat_read(&st->br, p, n, 0, 0, 0, &st->bu);
        if (r == MR_BDAT_MORE)
            return MR_IN_MORE;
        cmd->name = "BDAT";
        cmd->consumed = cmd->line_len = st->bu.consumed;
        if (r == MR_BDAT_TOO_BIG)
            too_big(s, st, "BDAT chunk");
        return MR_IN_ERROR;
    }

    int sasl = st->mode == S_SASL;
    int r = mr_cmdline_read(&st->rd, p, n, sasl ? MR_CMDLINE_RAW : 0, &st->cur);
    if (r == MR_CMDLINE_MORE)
        return MR_IN_MORE; /* at eof an unterminated line stays unanswered */
    const mr_cmdline *c = &st->cur;
    cmd->name = sasl ? "<sasl>" : c->verb;
    cmd->line = c->line;
    cmd->line_len = c->line_len;
    cmd->args = c->args;
    cmd->args_len = c->args_len;
    cmd->consumed = c->consumed;
    if (r == MR_CMDLINE_ERROR) {
        cmd->name = sasl ? "<sasl>" : "";
        if (c->err == MR_CMDLINE_E_DISCARD)
            return MR_IN_ERROR; /* answered when found too long */
        if (sasl) {
            st->mode = S_CMD;
            bad(s, st, "501 5.5.2 Cannot decode response");
        } else if (c->err == MR_CMDLINE_E_TOO_LONG) {
            bad(s, st, "500 5.5.2 Error: line too long"); /* RFC 5321 4.5.3.1.4 */
        } else if (c->err == MR_CMDLINE_E_NUL) {
            bad(s, st, "500 5.5.2 Error: NUL byte in command");
        } else if (c->err == MR_CMDLINE_E_EMPTY) {
            bad(s, st, "500 5.5.2 Error: bad syntax");
        } else {
            bad(s, st, "500 5.5.2 Error: command not recognized");
        }
        return MR_IN_ERROR;
    }
    st->bu_valid = 0;
    uint64_t size;
    int last;
    if (!sasl && strcmp(c->verb, "BDAT") == 0 && mr_bdat_parse(c->args, c->args_len, &size, &last) == 0) {
        /* RFC 3030 2: the chunk follows the line; read it whatever the answer. */
        size_t max = mr_sess_config(s)->max_literal;
        uint64_t budget = st->msg.len < max ? max - st->msg.len : 0;
        int b = mr_bdat_read(&st->br, p, n, c->consumed, size, budget, &st->bu);
        if (b == MR_BDAT_MORE)
            return MR_IN_MORE; /* the line is read again with the chunk: no notes yet */
        line_notes(s, c, sasl);
        cmd->consumed = st->bu.consumed;
        if (b == MR_BDAT_CHUNK) {
            cmd->line_len = st->bu.consumed; /* the chunk is part of the unit */
            st->bu_valid = 1;
            if (last)
                st->txn_over = 1;
            return MR_IN_COMMAND;
        }
        cmd->line_len = st->bu.consumed;
        if (b == MR_BDAT_TOO_BIG)
            too_big(s, st, "BDAT chunk");
        return MR_IN_ERROR;
    }
    line_notes(s, c, sasl);
    return MR_IN_COMMAND;
}

static int is(const mr_cmd *cmd, const char *name) { return strcmp(cmd->name, name) == 0; }

static void smtp_execute(mr_sess *s, void *vst, const mr_cmd *cmd)
{
    smtp_st *st = vst;
    if (st->mode == S_DONE)
        return;
    if (is(cmd, "<data>")) {
        data_end(s, st);
        return;
    }
    if (st->mode == S_SASL) {
        char chal[512];
        mr_sasl_status r = mr_sasl_step(&st->sasl, cmd->args, cmd->args_len, chal, sizeof chal);
        sasl_result(s, st, r, chal);
        return;
    }
    if (is(cmd, "EHLO"))
        cmd_ehlo(s, st, cmd, 1);
    else if (is(cmd, "HELO"))
        cmd_ehlo(s, st, cmd, 0);
    else if (is(cmd, "MAIL"))
        cmd_mail(s, st, cmd);
    else if (is(cmd, "RCPT"))
        cmd_rcpt(s, st, cmd);
    else if (is(cmd, "DATA"))
        cmd_data(s, st, cmd);
    else if (is(cmd, "BDAT"))
        cmd_bdat(s, st, cmd);
    else if (is(cmd, "RSET")) {
        if (cmd->args_len) {
            bad(s, st, "501 5.5.4 Syntax: RSET");
            return;
        }
        reset_txn(st);
        mr_sess_sends(s, "250 2.0.0 Ok\r\n");
        good(st);
    } else if (is(cmd, "NOOP")) {
        mr_sess_sends(s, "250 2.0.0 Ok\r\n"); /* RFC 5321 4.1.1.9: an argument is ignored */
        good(st);
    } else if (is(cmd, "VRFY")) {
        if (!cmd->args_len)
            bad(s, st, "501 5.5.4 Syntax: VRFY address");
        else {
            /* RFC 5321 3.5.3 */
            mr_sess_sends(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
            good(st);
        }
    } else if (is(cmd, "QUIT")) {
        mr_sess_sends(s, "221 2.0.0 Bye\r\n");
        st->mode = S_DONE;
        mr_sess_close(s);
    } else if (is(cmd, "HELP")) {
        mr_sess_sends(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY QUIT HELP "
                         "STARTTLS AUTH\r\n");
        good(st);
    } else if (is(cmd, "STARTTLS"))
        cmd_starttls(s, st, cmd);
    else if (is(cmd, "AUTH"))
        cmd_auth(s, st, cmd);
    else if (is(cmd, "EXPN") || is(cmd, "TURN") || is(cmd, "ETRN") || is(cmd, "ATRN"))
        bad(s, st, "502 5.5.1 Error: command not implemented");
    else
        bad(s, st, "500 5.5.2 Error: command not recognized");
}

static void smtp_error_reply(mr_sess *s, void *vst, const mr_cmd *cmd, const char *text)
{
    smtp_st *st = vst;
    if (is(cmd, "<data>")) {
        mr_sess_sendf(s, "554 5.3.0 %s\r\n", text);
        reset_txn(st);
    } else if (is(cmd, "STARTTLS") || is(cmd, "AUTH") || is(cmd, "<sasl>")) {
        mr_sess_sendf(s, "454 4.7.0 %s\r\n", text);
        if (st->mode == S_SASL)
            st->mode = S_CMD;
    } else {
        mr_sess_sendf(s, "451 4.3.0 %s\r\n", text);
        if (is(cmd, "BDAT"))
            reset_txn(st); /* the chunk is lost; so is the message */
    }
}

static void smtp_tls_started(mr_sess *s, void *vst)
{
    smtp_st *st = vst;
    /* RFC 3207 4.2: forget everything not learnt from TLS itself: back
     * to the state before EHLO, no AUTH, no transaction. */
    mr_cmdline_reset(&st->rd);
    mr_data_init(&st->dr, mr_sess_config(s)->max_literal);
    memset(&st->br, 0, sizeof st->br);
    st->bu_valid = 0;
    reset_txn(st);
    st->helo = 0;
    st->authed = 0;
    if (st->mode != S_DONE)
        st->mode = S_CMD;
}

const mr_proto mr_proto_smtp = {
    "smtp",     sizeof(smtp_st), smtp_init,        smtp_fini, smtp_greeting,
    smtp_input, smtp_execute,    smtp_error_reply, smtp_tls_started,
};
