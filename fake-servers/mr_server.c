/*
 * mr_server.c - the fake servers' event loop: listening sockets, one
 * epoll loop for every session, TLS through OpenSSL (implicit and
 * STARTTLS), the per-session output queue that the scenario fills
 * (writes, split writes, drips, delays, stalls, closes, resets, TLS
 * events), timers, and the transcript (docs/transcript.md) of each
 * session.  The scenario engine is mr_engine.c; the protocols are
 * mr_fake_{pop3,imap,smtp}.c behind mr_fake.h.
 *
 * Every session is bounded: its input buffer (the config's max_command
 * plus one line), its transcript (MR_TRS_MAX bytes of data, then a
 * comment), its idle time.  One session's trouble never stops another.
 */
#define _GNU_SOURCE
#include "mr_server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>

#include "mr_transcript.h"

#define MR_TRS_MAX (16u << 20)   /* data bytes recorded per session */
#define MR_READ_CHUNK 65536
#define MR_REPEAT_CHUNK 65536
#define MR_LISTEN_TAG (1ull << 63)

/* A session has at most one live entry in the heap: the one whose time
 * is its sched_when.  A deadline that moves later (the idle timeout, with
 * every command) does not push a new entry; the old one fires, finds
 * nothing due, and schedules the next.  So the heap stays about as big as
 * the number of sessions. */
typedef struct mr_timer {
    double when;
    unsigned slot;
    unsigned id;
} mr_timer;

static volatile sig_atomic_t g_stop;

double mr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double mr_sess_time(const mr_sess *s) { return mr_now() - s->t0; }

const char *mr_end_name(mr_end e)
{
    switch (e) {
    case MR_END_NONE: return "running";
    case MR_END_CLIENT_CLOSE: return "client-close";
    case MR_END_CLIENT_RESET: return "client-reset";
    case MR_END_SERVER_CLOSE: return "server-close";
    case MR_END_SERVER_RESET: return "server-reset";
    case MR_END_TIMEOUT: return "timeout";
    case MR_END_TLS_FAILED: return "tls-failed";
    case MR_END_TERMINATED: return "terminated";
    case MR_END_ERROR: return "error";
    }
    return "?";
}

/* ------------------------------------------------------------ transcript */

static void trs_segment(mr_sess *s, char dir, const uint8_t *p, size_t n)
{
    if (!s->trs)
        return;
    if (s->trs_bytes >= MR_TRS_MAX) {
        if (!s->trs_truncated) {
            fprintf(s->trs, "# transcript truncated: more than %u bytes of data; later bytes are counted, not recorded\n",
                    MR_TRS_MAX);
            s->trs_truncated = 1;
        }
        return;
    }
    if (n > MR_TRS_MAX - s->trs_bytes)
        n = MR_TRS_MAX - s->trs_bytes;
    s->trs_bytes += n;
    mr_transcript_write_segment(s->trs, dir, mr_sess_time(s), p, n);
}

static void trs_event(mr_sess *s, const char *name, const char *args)
{
    if (s->trs)
        mr_transcript_write_event(s->trs, mr_sess_time(s), name, args);
}

void mr_sess_trs_comment(mr_sess *s, const char *fmt, ...)
{
    if (!s->trs)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* A comment must hold no control bytes (docs/transcript.md). */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    fprintf(s->trs, "# %s\n", line);
}

void mr_sess_trs_path(const mr_sess *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s/session-%04u.trs", s->srv->out, s->id);
}

/* The transcript is appended to its file as the session goes (after each
 * round of work), so a live session's transcript can be watched, and a
 * server that dies leaves what it had.  No descriptor is held between
 * flushes: 10,000 sessions need only their sockets. */
int mr_sess_trs_flush(mr_sess *s)
{
    if (!s->trs || !s->srv->out[0] || s->trs_failed)
        return s->trs_failed ? -1 : 0;
    if (fflush(s->trs) != 0)
        return -1;
    if (!s->trs_len)
        return 0;
    char path[4200];
    mr_sess_trs_path(s, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    size_t done = 0;
    while (fd >= 0 && done < s->trs_len) {
        ssize_t w = write(fd, s->trs_buf + done, s->trs_len - done);
        if (w <= 0 && errno != EINTR)
            break;
        if (w > 0)
            done += (size_t)w;
    }
    if (fd >= 0)
        close(fd);
    if (done < s->trs_len) {
        s->trs_failed = 1;
        return -1;
    }
    /* start the memory stream afresh: what is in the file is not kept */
    fclose(s->trs);
    free(s->trs_buf);
    s->trs_buf = NULL;
    s->trs_len = 0;
    s->trs = open_memstream(&s->trs_buf, &s->trs_len);
    return s->trs ? 0 : -1;
}

/* ------------------------------------------------------------ timers */

static void heap_push(mr_server *srv, mr_timer t)
{
    if (srv->nheap == srv->capheap) {
        size_t cap = srv->capheap ? srv->capheap * 2 : 256;
        mr_timer *h = realloc(srv->heap, cap * sizeof *h);
        if (!h)
            abort();
        srv->heap = h;
        srv->capheap = cap;
    }
    size_t i = srv->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (srv->heap[p].when <= t.when)
            break;
        srv->heap[i] = srv->heap[p];
        i = p;
    }
    srv->heap[i] = t;
}

static mr_timer heap_pop(mr_server *srv)
{
    mr_timer top = srv->heap[0];
    mr_timer last = srv->heap[--srv->nheap];
    size_t i = 0, n = srv->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && srv->heap[c + 1].when < srv->heap[c].when)
            c++;
        if (last.when <= srv->heap[c].when)
            break;
        srv->heap[i] = srv->heap[c];
        i = c;
    }
    if (n)
        srv->heap[i] = last;
    return top;
}

static void reschedule(mr_sess *s)
{
    double d = 0;
    double ds[3] = {s->op_deadline, s->idle_deadline, s->close_deadline};
    for (int i = 0; i < 3; i++)
        if (ds[i] > 0 && (d == 0 || ds[i] < d))
            d = ds[i];
    if (d == 0)
        return;
    double when = s->t0 + d;
    if (s->sched_when > 0 && s->sched_when <= when)
        return; /* an entry at least as early is pending */
    s->sched_when = when;
    heap_push(s->srv, (mr_timer){when, s->slot, s->id});
}

/* ------------------------------------------------------------ output queue */

static mr_op *op_new(mr_sess *s, mr_op_kind k)
{
    mr_op *op = calloc(1, sizeof *op);
    if (!op)
        abort();
    op->kind = k;
    if (s->qtail)
        s->qtail->next = op;
    else
        s->q = op;
    s->qtail = op;
    return op;
}

static void op_free(mr_op *op)
{
    mr_buf_free(&op->data);
    mr_buf_free(&op->chunk);
    free(op);
}

void mr_sess_flush(mr_sess *s)
{
    if (!s->cur.len)
        return;
    mr_op *op = op_new(s, MR_OP_WRITE);
    op->data = s->cur;
    s->cur = (mr_buf)MR_BUF_INIT;
}

void mr_sess_push(mr_sess *s, mr_op_kind k)
{
    mr_sess_flush(s);
    op_new(s, k);
}

mr_op *mr_sess_push_write(mr_sess *s, const void *p, size_t n, uint32_t drip_ms)
{
    mr_sess_flush(s);
    mr_op *op = op_new(s, MR_OP_WRITE);
    mr_buf_add(&op->data, p, n);
    op->ms = drip_ms;
    return op;
}

/* ------------------------------------------------------------ mr_fake.h */

const mr_fake_config *mr_sess_config(const mr_sess *s) { return &s->srv->cfg; }
unsigned mr_sess_id(const mr_sess *s) { return s->id; }
int mr_sess_tls_active(const mr_sess *s) { return s->tls_active; }

int mr_sess_starttls_offerable(const mr_sess *s)
{
    return s->srv->cfg.tls == MR_TLS_STARTTLS && !s->tls_active && !s->tls_handshaking;
}

mr_mailbox *mr_sess_mailbox(mr_sess *s)
{
    if (!s->mb)
        s->mb = mr_mailbox_clone(s->srv->mailbox);
    return s->mb;
}

void mr_sess_send(mr_sess *s, const void *p, size_t n) { mr_buf_add(&s->cur, p, n); }
void mr_sess_sends(mr_sess *s, const char *str) { mr_buf_adds(&s->cur, str); }

void mr_sess_sendf(mr_sess *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mr_buf_vprintf(&s->cur, fmt, ap);
    va_end(ap);
}

void mr_sess_segment(mr_sess *s) { mr_sess_flush(s); }
void mr_sess_starttls(mr_sess *s) { mr_sess_push(s, MR_OP_STARTTLS); }
void mr_sess_close(mr_sess *s) { mr_sess_push(s, MR_OP_CLOSE); }

void mr_sess_note(mr_sess *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mr_buf_adds(&s->notes, line);
    mr_buf_addc(&s->notes, '\n');
    mr_sess_trs_comment(s, "note: %s", line);
}

void mr_sess_set_user(mr_sess *s, const char *user)
{
    free(s->user);
    s->user = strdup(user);
}

/* A JSON string of bytes that should be UTF-8 (RFC 6531 addresses, notes
 * quoting the client); bytes that are not become U+FFFD, so nothing is
 * lost silently. */
json_t *mr_json_text(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);
    if (j)
        return j;
    mr_buf b = MR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80)
            mr_buf_addc(&b, c);
        else
            mr_buf_adds(&b, "\xef\xbf\xbd");
    }
    j = json_stringn((const char *)b.data, b.len);
    mr_buf_free(&b);
    return j ? j : json_string("");
}

void mr_sess_received(mr_sess *s, const char *mail_from, const char *const *rcpts,
                      size_t nrcpts, const uint8_t *msg, size_t len)
{
    s->nreceived++;
    char path[4200] = "";
    if (s->srv->out[0]) {
        snprintf(path, sizeof path, "%s/session-%04u.received-%u.eml", s->srv->out, s->id,
                 s->nreceived);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(msg, 1, len, f);
            fclose(f);
        } else {
            path[0] = 0;
        }
    }
    if (!s->received)
        s->received = json_array();
    json_t *o = json_object();
    json_object_set_new(o, "from", mr_json_text(mail_from ? mail_from : "", mail_from ? strlen(mail_from) : 0));
    json_t *rc = json_array();
    for (size_t i = 0; i < nrcpts; i++)
        json_array_append_new(rc, mr_json_text(rcpts[i], strlen(rcpts[i])));
    json_object_set_new(o, "rcpts", rc);
    json_object_set_new(o, "size", json_integer((json_int_t)len));
    json_object_set_new(o, "file", path[0] ? json_string(path) : json_null());
    json_array_append_new(s->received, o);
    mr_sess_note(s, "received message %u (%zu bytes)%s%s", s->nreceived, len,
                 path[0] ? ", stored in " : "", path);
}

/* ------------------------------------------------------------ I/O */

static void sess_end(mr_sess *s, mr_end e)
{
    if (!s->end)
        s->end = e;
}

static void set_interest(mr_sess *s)
{
    if (s->fd < 0)
        return;
    struct epoll_event ev = {0};
    ev.events = (s->reading_paused ? 0 : EPOLLIN | EPOLLRDHUP) | (s->want_out ? EPOLLOUT : 0);
    ev.data.u64 = ((uint64_t)s->id << 32) | s->slot;
    epoll_ctl(s->srv->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static const char *ssl_err_text(char *buf, size_t n)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, n, "%s", errno ? strerror(errno) : "connection closed");
        return buf;
    }
    ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

/* Write p[0..n) once.  >0 written, 0 blocked, -1 failed (session ended). */
static ssize_t raw_write(mr_sess *s, const uint8_t *p, size_t n)
{
    if (s->ssl) {
        ERR_clear_error();
        int r = SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (r > 0)
            return r;
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            s->want_out = 1;
            return 0;
        }
        char buf[160];
        mr_sess_trs_comment(s, "TLS write failed: %s", ssl_err_text(buf, sizeof buf));
        sess_end(s, MR_END_CLIENT_CLOSE);
        return -1;
    }
    ssize_t r = send(s->fd, p, n, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s->want_out = 1;
        return 0;
    }
    if (errno == EINTR)
        return 0;
    sess_end(s, errno == ECONNRESET ? MR_END_CLIENT_RESET : MR_END_CLIENT_CLOSE);
    return -1;
}

static void wrote(mr_sess *s, const uint8_t *p, size_t n)
{
    trs_segment(s, 'S', p, n);
    s->bytes_out += n;
    s->last_write = mr_sess_time(s);
    if (s->srv->close_within > 0)
        s->close_deadline = s->last_write + s->srv->close_within;
}

static void close_fd(mr_sess *s, int rst)
{
    if (s->fd < 0)
        return;
    if (rst) {
        struct linger lg = {1, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    epoll_ctl(s->srv->epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
}

/* The socket as OpenSSL sees it: a BIO over the descriptor that first
 * hands out bytes already read (the start of a ClientHello that arrived
 * while a scenario delayed between the STARTTLS reply and the handshake),
 * then reads the socket itself. */
typedef struct tls_io {
    int fd;
    uint8_t *pre;
    size_t prelen, preoff;
} tls_io;

static BIO_METHOD *g_bio_method;

static int bio_read(BIO *b, char *out, int n)
{
    tls_io *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (io->preoff < io->prelen) {
        size_t k = io->prelen - io->preoff;
        if (k > (size_t)n)
            k = (size_t)n;
        memcpy(out, io->pre + io->preoff, k);
        io->preoff += k;
        return (int)k;
    }
    ssize_t r = recv(io->fd, out, (size_t)n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        BIO_set_retry_read(b);
        return -1;
    }
    return r < 0 ? -1 : (int)r;
}

static int bio_write(BIO *b, const char *in, int n)
{
    tls_io *io = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = send(io->fd, in, (size_t)n, MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        BIO_set_retry_write(b);
        return -1;
    }
    return r < 0 ? -1 : (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_destroy(BIO *b)
{
    tls_io *io = BIO_get_data(b);
    if (io) {
        free(io->pre);
        free(io);
    }
    BIO_set_data(b, NULL);
    return 1;
}

static BIO *socket_bio(int fd, const uint8_t *pre, size_t prelen)
{
    if (!g_bio_method) {
        g_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mailrig socket");
        if (!g_bio_method || !BIO_meth_set_read(g_bio_method, bio_read) ||
            !BIO_meth_set_write(g_bio_method, bio_write) ||
            !BIO_meth_set_ctrl(g_bio_method, bio_ctrl) ||
            !BIO_meth_set_destroy(g_bio_method, bio_destroy))
            return NULL;
    }
    BIO *b = BIO_new(g_bio_method);
    tls_io *io = calloc(1, sizeof *io);
    if (!b || !io) {
        BIO_free(b);
        free(io);
        return NULL;
    }
    io->fd = fd;
    if (prelen) {
        io->pre = malloc(prelen);
        if (!io->pre) {
            BIO_free(b);
            free(io);
            return NULL;
        }
        memcpy(io->pre, pre, prelen);
        io->prelen = prelen;
    }
    BIO_set_data(b, io);
    BIO_set_init(b, 1);
    return b;
}

/* Start the handshake; pre: client bytes already read that belong to it. */
static void start_tls(mr_sess *s, const uint8_t *pre, size_t prelen)
{
    s->ssl = SSL_new(s->srv->ctx);
    BIO *b = s->ssl ? socket_bio(s->fd, pre, prelen) : NULL;
    if (!b) {
        snprintf(s->tls_error, sizeof s->tls_error, "cannot set up TLS (SSL_new)");
        sess_end(s, MR_END_ERROR);
        return;
    }
    SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_bio(s->ssl, b, b);
    SSL_set_accept_state(s->ssl);
    s->tls_handshaking = 1;
}

/* Where a TLS handshake record starts in p[0..n) (content type 22,
 * version 3.x, RFC 8446 5.1), or n. */
static size_t tls_record_start(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (p[i] == 0x16 && p[i + 1] == 0x03 && p[i + 2] <= 0x04)
            return i;
    return n;
}

/* Progress the handshake: 1 done, 0 waiting, -1 failed. */
static int handshake(mr_sess *s)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->tls_handshaking = 0;
        s->tls_active = 1;
        char args[160];
        snprintf(args, sizeof args, "%s %s", SSL_get_version(s->ssl),
                 SSL_CIPHER_get_name(SSL_get_current_cipher(s->ssl)));
        trs_event(s, "tls", args);
        s->last_input = mr_sess_time(s);
        return 1;
    }
    int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        s->want_out = 0;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        s->want_out = 1;
        return 0;
    }
    ssl_err_text(s->tls_error, sizeof s->tls_error);
    mr_sess_trs_comment(s, "TLS handshake failed: %s", s->tls_error);
    sess_end(s, MR_END_TLS_FAILED);
    return -1;
}

/* A TLS alert record in plaintext (RFC 8446 6: level fatal, description
 * internal_error), written under the TLS layer: the client sees a broken
 * or aborted TLS stream. */
static void tls_alert(mr_sess *s)
{
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50};
    ssize_t r = send(s->fd, alert, sizeof alert, MSG_NOSIGNAL);
    (void)r;
    mr_sess_trs_comment(s, "raw TLS alert record written (fatal internal_error)");
}

enum { OP_DONE, OP_BLOCKED, OP_ENDED };

/* Run the head of the queue. */
static int run_op(mr_sess *s)
{
    mr_op *op = s->q;
    double now = mr_sess_time(s);
    if (s->half_closed && (op->kind == MR_OP_WRITE || op->kind == MR_OP_REPEAT)) {
        /* After a half-close the client's commands are still read and
         * judged, but nothing can be sent. */
        mr_sess_trs_comment(s, "not sent (the server half-closed): %zu bytes", op->data.len);
        op->kind = MR_OP_RESUME;
    }
    switch (op->kind) {
    case MR_OP_WRITE: {
        if (op->ms && op->off > 0 && op->off < op->data.len) {
            if (!op->started) {
                op->started = 1;
                s->op_deadline = now + op->ms / 1000.0;
                return OP_BLOCKED;
            }
            if (now < s->op_deadline)
                return OP_BLOCKED;
        }
        while (op->off < op->data.len) {
            size_t n = op->ms ? 1 : op->data.len - op->off;
            ssize_t r = raw_write(s, op->data.data + op->off, n);
            if (r < 0)
                return OP_ENDED;
            if (r == 0)
                return OP_BLOCKED;
            wrote(s, op->data.data + op->off, (size_t)r);
            op->off += (size_t)r;
            if (op->ms && op->off < op->data.len) {
                op->started = 1;
                s->op_deadline = mr_sess_time(s) + op->ms / 1000.0;
                return OP_BLOCKED;
            }
        }
        break;
    }
    case MR_OP_REPEAT:
        for (;;) {
            if (op->off == op->chunk.len) {
                if (op->left == 0 || op->data.len == 0)
                    break;
                mr_buf_reset(&op->chunk);
                op->off = 0;
                while (op->left > 0 && (op->chunk.len == 0 || op->chunk.len + op->data.len <= MR_REPEAT_CHUNK)) {
                    mr_buf_add(&op->chunk, op->data.data, op->data.len);
                    if (op->left != UINT64_MAX)
                        op->left--;
                }
            }
            ssize_t r = raw_write(s, op->chunk.data + op->off, op->chunk.len - op->off);
            if (r < 0)
                return OP_ENDED;
            if (r == 0)
                return OP_BLOCKED;
            wrote(s, op->chunk.data + op->off, (size_t)r);
            op->off += (size_t)r;
        }
        break;
    case MR_OP_DELAY:
        if (!op->started) {
            op->started = 1;
            s->op_deadline = now + op->ms / 1000.0;
            if (op->ms)
                return OP_BLOCKED;
        }
        if (now < s->op_deadline)
            return OP_BLOCKED;
        break;
    case MR_OP_STALL:
        if (!s->stalled)
            mr_sess_trs_comment(s, "stall: the server answers nothing more");
        s->stalled = 1;
        return OP_BLOCKED;
    case MR_OP_CLOSE:
        if (s->ssl && s->tls_active)
            SSL_shutdown(s->ssl);
        trs_event(s, "close", NULL);
        close_fd(s, 0);
        sess_end(s, MR_END_SERVER_CLOSE);
        return OP_ENDED;
    case MR_OP_RESET:
        trs_event(s, "reset", NULL);
        close_fd(s, 1);
        sess_end(s, MR_END_SERVER_RESET);
        return OP_ENDED;
    case MR_OP_HALF_CLOSE:
        if (s->ssl && s->tls_active)
            SSL_shutdown(s->ssl);
        shutdown(s->fd, SHUT_WR);
        s->half_closed = 1;
        mr_sess_trs_comment(s, "half-close: the server shut down its side for writing");
        break;
    case MR_OP_STARTTLS:
        if (!s->srv->ctx) {
            mr_sess_trs_comment(s, "starttls: no TLS context (server started without certificates)");
            break;
        }
        if (s->ssl) {
            mr_sess_trs_comment(s, "starttls: TLS is already active; ignored");
            break;
        }
    {
        /* RFC 3207 4.2, RFC 2595 3.1, RFC 9051 6.2.1: what the client
         * sent after the command, before TLS, is discarded.  When the
         * scenario waited before the handshake, the client's ClientHello
         * may be read already: from the first TLS record on, the bytes
         * are handed to TLS. */
        const uint8_t *p = s->in.data + s->in_off;
        size_t n = mr_sess_pending(s), hello = tls_record_start(p, n);
        if (hello) {
            s->discarded_after_starttls += hello;
            mr_sess_trs_comment(s, "discarded %zu bytes the client sent after STARTTLS, before TLS", hello);
            mr_sess_note(s, "discarded %zu plaintext bytes sent after STARTTLS before TLS", hello);
        }
        if (n > hello)
            mr_sess_trs_comment(s, "the %zu bytes read from the first TLS record on go to the handshake",
                                n - hello);
        start_tls(s, p + hello, n - hello);
        mr_buf_reset(&s->in);
        s->in_off = 0;
        break;
    }
    case MR_OP_TLS_CLOSE:
        if (s->ssl && s->tls_active) {
            SSL_shutdown(s->ssl);
            mr_sess_trs_comment(s, "TLS close_notify sent");
        }
        trs_event(s, "close", NULL);
        close_fd(s, 0);
        sess_end(s, MR_END_SERVER_CLOSE);
        return OP_ENDED;
    case MR_OP_TLS_ALERT:
        tls_alert(s);
        trs_event(s, "close", NULL);
        close_fd(s, 0);
        sess_end(s, MR_END_SERVER_CLOSE);
        return OP_ENDED;
    case MR_OP_RESUME:
        break;
    }
    s->op_deadline = 0;
    s->q = op->next;
    if (!s->q)
        s->qtail = NULL;
    op_free(op);
    return OP_DONE;
}

/* Read what is there.  Returns 0 normally, -1 when the session ended. */
static int read_some(mr_sess *s)
{
    static uint8_t buf[MR_READ_CHUNK];
    size_t limit = s->srv->cfg.max_command + s->srv->cfg.max_line + 65536;
    for (int rounds = 0; rounds < 8; rounds++) {
        if (mr_sess_pending(s) >= limit) {
            s->reading_paused = 1;
            return 0;
        }
        ssize_t r;
        if (s->ssl) {
            ERR_clear_error();
            int n = SSL_read(s->ssl, buf, sizeof buf);
            if (n > 0) {
                r = n;
            } else {
                int e = SSL_get_error(s->ssl, n);
                if (e == SSL_ERROR_WANT_READ)
                    return 0;
                if (e == SSL_ERROR_WANT_WRITE) {
                    s->want_out = 1;
                    return 0;
                }
                if (e == SSL_ERROR_ZERO_RETURN) {
                    mr_sess_trs_comment(s, "TLS close_notify from the client");
                } else {
                    char eb[160];
                    mr_sess_trs_comment(s, "TLS read ended: %s", ssl_err_text(eb, sizeof eb));
                }
                trs_event(s, "client-close", NULL);
                sess_end(s, MR_END_CLIENT_CLOSE);
                return -1;
            }
        } else {
            r = recv(s->fd, buf, sizeof buf, 0);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return 0;
                if (errno == ECONNRESET) {
                    trs_event(s, "reset", "client");
                    sess_end(s, MR_END_CLIENT_RESET);
                } else {
                    mr_sess_trs_comment(s, "read failed: %s", strerror(errno));
                    sess_end(s, MR_END_ERROR);
                }
                return -1;
            }
            if (r == 0) {
                trs_event(s, "client-close", NULL);
                sess_end(s, MR_END_CLIENT_CLOSE);
                return -1;
            }
        }
        trs_segment(s, 'C', buf, (size_t)r);
        s->bytes_in += (uint64_t)r;
        s->last_input = mr_sess_time(s);
        if (s->in_off && (s->in_off >= 65536 || s->in_off * 2 >= s->in.len)) {
            /* Answered bytes go in one move now and then, not one per
             * command: pipelined short commands stay linear. */
            mr_buf_consume(&s->in, s->in_off);
            s->in_off = 0;
        }
        mr_buf_add(&s->in, buf, (size_t)r);
        if ((size_t)r < sizeof buf && !(s->ssl && SSL_pending(s->ssl)))
            return 0;
    }
    return 0;
}

/* Frame and answer one unit of input.  1 if something was done. */
static int process_input(mr_sess *s)
{
    size_t n = mr_sess_pending(s);
    if (!n)
        return 0;
    mr_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    int r = s->srv->proto->input(s, s->st, s->in.data + s->in_off, n, s->eof, &cmd);
    if (r == MR_IN_MORE) {
        mr_sess_flush(s); /* an IMAP continuation, say */
        return s->q != NULL;
    }
    if (cmd.consumed == 0 || cmd.consumed > n) {
        mr_sess_trs_comment(s, "internal error: the %s reader consumed %zu of %zu bytes",
                            s->srv->proto->name, cmd.consumed, n);
        sess_end(s, MR_END_ERROR);
        return 0;
    }
    s->ncmds++;
    if (r == MR_IN_COMMAND)
        mr_engine_command(s, &cmd);
    else
        mr_engine_input_error(s, &cmd);
    s->cmd = NULL;
    mr_sess_flush(s);
    s->in_off += cmd.consumed;
    if (s->in_off == s->in.len) {
        s->in.len = 0;
        s->in_off = 0;
    }
    if (s->reading_paused) {
        s->reading_paused = 0;
    }
    return 1;
}

/* Make all the progress possible now. */
static void sess_run(mr_sess *s)
{
    for (int guard = 0; guard < 100000 && !s->end; guard++) {
        if (s->tls_handshaking) {
            int h = handshake(s);
            if (h <= 0)
                break;
            if (s->srv->proto->tls_started)
                s->srv->proto->tls_started(s, s->st);
            mr_engine_tls(s);
            mr_sess_flush(s);
            continue;
        }
        if (s->q) {
            int r = run_op(s);
            if (r == OP_DONE)
                continue;
            break;
        }
        if (s->stalled)
            break;
        if (!process_input(s))
            break;
    }
    double t = mr_sess_time(s);
    unsigned tmo = s->srv->o.timeout_ms;
    s->idle_deadline = (s->last_input > s->last_write ? s->last_input : s->last_write) + tmo / 1000.0;
    if (s->idle_deadline <= t)
        s->idle_deadline = t + 0.001;
}

/* ------------------------------------------------------------ lifecycle */

static void sess_free(mr_sess *s)
{
    mr_server *srv = s->srv;
    close_fd(s, 0);
    if (s->ssl)
        SSL_free(s->ssl);
    if (srv->proto->fini)
        srv->proto->fini(s, s->st);
    free(s->st);
    mr_engine_free_session(s);
    if (s->mb)
        mr_mailbox_free(s->mb);
    free(s->user);
    mr_buf_free(&s->in);
    mr_buf_free(&s->cur);
    mr_buf_free(&s->notes);
    json_decref(s->received);
    mr_buf_free(&s->line0);
    while (s->q) {
        mr_op *n = s->q->next;
        op_free(s->q);
        s->q = n;
    }
    if (s->trs)
        fclose(s->trs);
    free(s->trs_buf);
    srv->slots[s->slot] = NULL;
    srv->live--;
    free(s);
}

static void sess_finish(mr_sess *s)
{
    mr_server *srv = s->srv;
    if (s->end == MR_END_TIMEOUT)
        trs_event(s, "timeout", NULL);
    if (s->end == MR_END_TERMINATED) {
        mr_sess_trs_comment(s, "the server was stopped");
        trs_event(s, "close", "terminated");
    }
    if (s->end == MR_END_TLS_FAILED)
        trs_event(s, "client-close", "tls handshake failed");
    mr_engine_finish(s);
    srv->ended++;
    sess_free(s);
    if (srv->o.max_sessions && srv->ended >= srv->o.max_sessions)
        srv->stop = 1;
}

static void sess_step(mr_sess *s)
{
    sess_run(s);
    if (s->end) {
        sess_finish(s);
        return;
    }
    set_interest(s);
    reschedule(s);
    mr_sess_trs_flush(s);
}

static void on_accept(mr_server *srv, int lfd)
{
    for (int n = 0; n < 256; n++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (srv->live >= srv->o.max_conns) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        unsigned slot = 0;
        while (slot < srv->nslots && srv->slots[slot])
            slot++;
        if (slot == srv->nslots) {
            unsigned ns = srv->nslots ? srv->nslots * 2 : 64;
            mr_sess **sl2 = realloc(srv->slots, ns * sizeof *sl2);
            if (!sl2)
                abort();
            memset(sl2 + srv->nslots, 0, (ns - srv->nslots) * sizeof *sl2);
            srv->slots = sl2;
            srv->nslots = ns;
        }
        mr_sess *s = calloc(1, sizeof *s);
        if (!s)
            abort();
        s->srv = srv;
        s->id = ++srv->next_id;
        s->slot = slot;
        s->fd = fd;
        s->t0 = mr_now();
        srv->slots[slot] = s;
        srv->live++;
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            snprintf(s->peer, sizeof s->peer, "%s:%s", host, serv);
        if (!srv->o.no_transcripts) {
            s->trs = open_memstream(&s->trs_buf, &s->trs_len);
            if (s->trs) {
                mr_transcript_write_header(s->trs, srv->proto->name);
                mr_transcript_write_meta(s->trs, "server", "mailrig serve");
                if (srv->have_sc) {
                    mr_transcript_write_meta(s->trs, "scenario", srv->sc.name);
                    if (srv->sc.description)
                        mr_transcript_write_meta(s->trs, "description", srv->sc.description);
                    if (srv->sc.rfc)
                        mr_transcript_write_meta(s->trs, "rfc", srv->sc.rfc);
                }
                mr_transcript_write_meta(s->trs, "tls", mr_tls_mode_name(srv->cfg.tls));
                mr_transcript_write_meta(s->trs, "client", s->peer);
            }
        }
        struct epoll_event ev = {0};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = ((uint64_t)s->id << 32) | slot;
        epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
        s->st = calloc(1, srv->proto->state_size ? srv->proto->state_size : 1);
        if (!s->st)
            abort();
        if (srv->proto->init)
            srv->proto->init(s, s->st);
        mr_engine_init_session(s);
        if (srv->cfg.tls == MR_TLS_IMPLICIT)
            start_tls(s, NULL, 0); /* the greeting follows the handshake (mr_engine_tls) */
        else
            mr_engine_greeting(s);
        mr_sess_flush(s);
        sess_step(s);
    }
}

static void on_timer(mr_server *srv, mr_timer t)
{
    if (t.slot >= srv->nslots)
        return;
    mr_sess *s = srv->slots[t.slot];
    if (!s || s->id != t.id || s->sched_when != t.when)
        return; /* gone, or superseded by an earlier entry */
    s->sched_when = 0;
    double now = mr_sess_time(s);
    if (s->close_deadline > 0 && now >= s->close_deadline) {
        mr_sess_trs_comment(s, "the client was still connected %.0f ms after the server's last write",
                            srv->close_within * 1000);
        sess_end(s, MR_END_TIMEOUT);
        sess_finish(s);
        return;
    }
    if (s->idle_deadline > 0 && now >= s->idle_deadline) {
        mr_sess_trs_comment(s, "idle for %u ms", srv->o.timeout_ms);
        sess_end(s, MR_END_TIMEOUT);
        sess_finish(s);
        return;
    }
    sess_step(s);
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ------------------------------------------------------------ listening */

int mr_server_listen(mr_server *srv, char *err, size_t errlen);
void mr_server_signals(void);
int mr_server_loop(mr_server *srv);
void mr_server_shutdown(mr_server *srv);

int mr_server_listen(mr_server *srv, char *err, size_t errlen)
{
    const char *spec = srv->o.listen ? srv->o.listen : "127.0.0.1:0";
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *e = strchr(spec, ']');
        if (!e || e[1] != ':' || (size_t)(e - spec - 1) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: expected [ADDRESS]:PORT", spec);
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(e - spec - 1));
        host[e - spec - 1] = 0;
        port = e + 2;
    } else {
        const char *c = strrchr(spec, ':');
        if (!c || (size_t)(c - spec) >= sizeof host || strchr(spec, ':') != c) {
            snprintf(err, errlen, "--listen %s: expected ADDRESS:PORT (IPv6 as [::1]:PORT)", spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(c - spec));
        host[c - spec] = 0;
        port = c + 1;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g) {
        snprintf(err, errlen, "--listen %s: %s (a numeric address is needed)", spec, gai_strerror(g));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char h[NI_MAXHOST], p[NI_MAXSERV];
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(srv->host, sizeof srv->host, "%s", h);
    srv->port = atoi(p);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u64 = MR_LISTEN_TAG;
    epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev);
    srv->lfd[0] = fd;
    srv->nlfd = 1;
    /* Room for 10,000 sessions and more. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return 0;
}

/* SIGTERM and SIGINT are caught, and blocked except while the loop waits
 * in epoll_pwait, from before the listening line is printed: a stop that
 * comes right after it still ends the sessions and writes the results. */
static sigset_t g_oldmask;

void mr_server_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &g_oldmask);
}

int mr_server_loop(mr_server *srv)
{
    sigset_t old = g_oldmask;

    struct epoll_event evs[256];
    while (!g_stop && !srv->stop) {
        int tmo = -1;
        if (srv->nheap) {
            double d = srv->heap[0].when - mr_now();
            tmo = d <= 0 ? 0 : (int)(d * 1000) + 1;
        }
        int n = epoll_pwait(srv->epfd, evs, 256, tmo, &old);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n && !srv->stop; i++) {
            uint64_t u = evs[i].data.u64;
            if (u & MR_LISTEN_TAG) {
                on_accept(srv, srv->lfd[u & 1]);
                continue;
            }
            unsigned slot = (unsigned)(u & 0xffffffffu), id = (unsigned)(u >> 32);
            if (slot >= srv->nslots)
                continue;
            mr_sess *s = srv->slots[slot];
            if (!s || s->id != id)
                continue;
            if (evs[i].events & EPOLLOUT)
                s->want_out = 0;
            if (s->reading_paused && (evs[i].events & (EPOLLHUP | EPOLLERR))) {
                /* reading is paused, so the error would be reported forever */
                trs_event(s, "reset", "client");
                sess_end(s, MR_END_CLIENT_RESET);
                sess_finish(s);
                continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
                if (s->tls_handshaking) {
                    /* the handshake reads for itself */
                } else if (!s->reading_paused && read_some(s) < 0) {
                    sess_finish(s);
                    continue;
                }
            }
            sess_step(s);
        }
        double now = mr_now();
        while (srv->nheap && srv->heap[0].when <= now && !srv->stop)
            on_timer(srv, heap_pop(srv));
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}

/* End every live session (their transcripts and verdicts are written). */
void mr_server_shutdown(mr_server *srv)
{
    for (unsigned i = 0; i < srv->nslots; i++) {
        mr_sess *s = srv->slots[i];
        if (!s)
            continue;
        sess_end(s, MR_END_TERMINATED);
        sess_finish(s);
    }
    for (int i = 0; i < srv->nlfd; i++)
        close(srv->lfd[i]);
    if (srv->epfd >= 0)
        close(srv->epfd);
    free(srv->slots);
    free(srv->heap);
    srv->slots = NULL;
    srv->heap = NULL;
    srv->nslots = 0;
}
