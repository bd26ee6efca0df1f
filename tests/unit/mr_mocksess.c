/* mr_mocksess.c - the in-memory session of mr_mocksess.h. */
#include "mr_mocksess.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mr_sess {
    const mr_proto *proto;
    void *st;
    mr_fake_config cfg;
    mr_mailbox *own_cfg_mailbox;
    mr_mailbox *mb;
    mr_buf in, out, notes;
    size_t segments;
    int seg_open;
    int closed, tls, want_tls, eof;
    char *user;
    mock_received *rcv;
    size_t nrcv;
    size_t errors;
};

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        abort();
    memcpy(d, s, n);
    return d;
}

mr_sess *mock_new(const mr_proto *p, const mr_fake_config *cfg)
{
    mr_sess *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->proto = p;
    if (cfg)
        s->cfg = *cfg;
    if (!s->cfg.protocol)
        s->cfg.protocol = p->name;
    if (!s->cfg.hostname)
        s->cfg.hostname = "localhost";
    if (!s->cfg.user)
        s->cfg.user = "user";
    if (!s->cfg.password)
        s->cfg.password = "password";
    if (!s->cfg.max_line)
        s->cfg.max_line = 8192;
    if (!s->cfg.max_literal)
        s->cfg.max_literal = 64u << 20;
    if (!s->cfg.max_command)
        s->cfg.max_command = 64u << 20;
    if (!s->cfg.mailbox) {
        s->own_cfg_mailbox = mr_mailbox_new();
        s->cfg.mailbox = s->own_cfg_mailbox;
    }
    s->st = calloc(1, p->state_size ? p->state_size : 1);
    if (!s->st)
        abort();
    if (s->cfg.tls == MR_TLS_IMPLICIT)
        s->tls = 1;
    if (p->init)
        p->init(s, s->st);
    if (s->tls && p->tls_started)
        p->tls_started(s, s->st);
    return s;
}

void mock_free(mr_sess *s)
{
    if (!s)
        return;
    if (s->proto->fini)
        s->proto->fini(s, s->st);
    free(s->st);
    if (s->mb)
        mr_mailbox_free(s->mb);
    if (s->own_cfg_mailbox)
        mr_mailbox_free(s->own_cfg_mailbox);
    mr_buf_free(&s->in);
    mr_buf_free(&s->out);
    mr_buf_free(&s->notes);
    free(s->user);
    for (size_t i = 0; i < s->nrcv; i++) {
        free(s->rcv[i].from);
        for (size_t j = 0; j < s->rcv[i].nrcpts; j++)
            free(s->rcv[i].rcpts[j]);
        free(s->rcv[i].rcpts);
        mr_buf_free(&s->rcv[i].msg);
    }
    free(s->rcv);
    free(s);
}

static void end_segment(mr_sess *s)
{
    if (s->seg_open) {
        s->segments++;
        s->seg_open = 0;
    }
}

void mock_greet(mr_sess *s)
{
    s->proto->greeting(s, s->st);
    end_segment(s);
}

static int run(mr_sess *s)
{
    int answered = 0;
    while (!s->closed) {
        mr_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        int r = s->proto->input(s, s->st, s->in.data, s->in.len, s->eof, &cmd);
        if (r == MR_IN_MORE) {
            end_segment(s);
            break;
        }
        if (cmd.consumed == 0 || cmd.consumed > s->in.len) {
            fprintf(stderr, "mock: module consumed %zu of %zu bytes\n", cmd.consumed, s->in.len);
            abort();
        }
        if (r == MR_IN_COMMAND) {
            s->proto->execute(s, s->st, &cmd);
            answered++;
        } else {
            s->errors++;
        }
        end_segment(s);
        mr_buf_consume(&s->in, cmd.consumed);
        if (s->want_tls) {
            s->want_tls = 0;
            s->tls = 1;
            s->in.len = 0; /* RFC 3207 4.2: plaintext after the command is dropped */
            if (s->proto->tls_started)
                s->proto->tls_started(s, s->st);
        }
    }
    return answered;
}

int mock_feed(mr_sess *s, const void *p, size_t n)
{
    mr_buf_add(&s->in, p, n);
    return run(s);
}

int mock_feeds(mr_sess *s, const char *str) { return mock_feed(s, str, strlen(str)); }

int mock_eof(mr_sess *s)
{
    s->eof = 1;
    return run(s);
}

char *mock_take(mr_sess *s)
{
    char *r = mr_buf_strdup(&s->out);
    mr_buf_reset(&s->out);
    return r;
}

size_t mock_segments(const mr_sess *s) { return s->segments; }
int mock_closed(const mr_sess *s) { return s->closed; }
int mock_tls(const mr_sess *s) { return s->tls; }
const char *mock_user(const mr_sess *s) { return s->user; }
size_t mock_errors(const mr_sess *s) { return s->errors; }

const char *mock_notes(const mr_sess *s)
{
    mr_buf *b = (mr_buf *)&s->notes;
    mr_buf_reserve(b, 1);
    b->data[b->len] = 0;
    return (const char *)b->data;
}

size_t mock_nreceived(const mr_sess *s) { return s->nrcv; }
const mock_received *mock_received_at(const mr_sess *s, size_t i) { return i < s->nrcv ? &s->rcv[i] : NULL; }

/* ------------------------------------------------ mr_fake.h for modules */

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

void mr_sess_send(mr_sess *s, const void *p, size_t n)
{
    mr_buf_add(&s->out, p, n);
    if (n)
        s->seg_open = 1;
}

void mr_sess_sends(mr_sess *s, const char *str) { mr_sess_send(s, str, strlen(str)); }

void mr_sess_sendf(mr_sess *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t before = s->out.len;
    mr_buf_vprintf(&s->out, fmt, ap);
    va_end(ap);
    if (s->out.len > before)
        s->seg_open = 1;
}

void mr_sess_segment(mr_sess *s) { end_segment(s); }
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
    mock_received *r = realloc(s->rcv, (s->nrcv + 1) * sizeof *r);
    if (!r)
        abort();
    s->rcv = r;
    mock_received *m = &s->rcv[s->nrcv++];
    memset(m, 0, sizeof *m);
    m->from = dupstr(mail_from ? mail_from : "");
    m->rcpts = calloc(nrcpts ? nrcpts : 1, sizeof *m->rcpts);
    if (!m->rcpts)
        abort();
    for (size_t i = 0; i < nrcpts; i++)
        m->rcpts[i] = dupstr(rcpts[i]);
    m->nrcpts = nrcpts;
    mr_buf_add(&m->msg, msg, len);
}

void mr_sess_set_user(mr_sess *s, const char *user)
{
    free(s->user);
    s->user = dupstr(user);
}
