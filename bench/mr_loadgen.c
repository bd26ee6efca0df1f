/*
 * mr_loadgen.c - the client of the server benchmarks (bench/servers.py):
 * N concurrent connections, each doing one short dialogue over and over,
 * the same program against mailrig serve and against real servers.
 *
 *   IMAP (RFC 9051/3501): greeting "* OK", a1 LOGIN, a2 SELECT INBOX,
 *        a3 FETCH 1:F (ENVELOPE BODYSTRUCTURE) (F FETCH responses must
 *        come back, "* n FETCH" counted; literals skipped by their {n}
 *        byte count), a4 LOGOUT; each tagged reply must be OK.
 *   POP3 (RFC 1939): greeting, USER, PASS, STAT, LIST (multi-line), RETR 1
 *        (multi-line), QUIT; each reply must be +OK.
 *   SMTP (RFC 5321): greeting 220, EHLO, MAIL FROM, RCPT TO, DATA (354),
 *        a small message (250), QUIT (221); 2xx/3xx as listed.
 *
 * A session is one connection: connect (and the TLS handshake with
 * --tls: implicit TLS, RFC 8314), the dialogue, close.  The client closes
 * as soon as the last reply is in.  epoll, non-blocking sockets, one
 * thread; OpenSSL for TLS (the server's certificate is verified against
 * --cafile and the host when --cafile is given; full handshakes, no
 * session reuse, so that every contender pays the same).
 *
 * Output, one JSON line on stdout:
 *   {"protocol":..,"tls":..,"concurrency":..,"sessions":..,"errors":..,
 *    "seconds":..,"sessions_per_s":..,"p50_ms":..,"p99_ms":..,
 *    "client_cpu_s":..}
 * sessions counts dialogues completed before the deadline; sessions in
 * flight at the deadline are dropped uncounted.  Errors (connection
 * refused or reset, a reply that is not the expected status, a wrong
 * FETCH count, a session taking more than --timeout seconds) are counted
 * and the first few printed on stderr.
 *
 * --idle N: open N connections (at most --concurrency connecting at
 * once), read each greeting (after the handshake with --tls), then print
 *   {"event":"established","connections":N,"errors":E,"seconds":S}
 * and hold them until stdin reaches EOF, SIGTERM/SIGINT, or --seconds
 * have passed; then {"event":"closed","dropped":D} (D: connections the
 * server closed while held).  bench/servers.py reads the server's VmHWM
 * in between.
 *
 * RLIMIT_NOFILE is raised to the hard limit.  Exit status 0, or 1 when
 * any error was seen, 2 for bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

enum proto { P_IMAP, P_POP3, P_SMTP };

/* What the reply to a step must be. */
enum expect {
    X_IMAP_GREETING,  /* "* OK" or "* PREAUTH" */
    X_IMAP_TAGGED,    /* tagged OK for the step's tag */
    X_POP3_OK,        /* +OK, one line */
    X_POP3_MULTI,     /* +OK, then lines up to "." */
    X_SMTP_2,         /* 2xx, possibly multi-line */
    X_SMTP_3,         /* 3xx */
};

typedef struct step {
    char *cmd;         /* NULL: nothing to send (the greeting) */
    size_t cmdlen;
    enum expect expect;
    char tag[8];       /* IMAP */
    int fetches;       /* IMAP: the FETCH responses the reply must hold, or -1 */
} step;

enum cstate { C_FREE, C_CONNECTING, C_HANDSHAKE, C_DIALOGUE, C_IDLE };

typedef struct conn {
    int fd;
    enum cstate st;
    SSL *ssl;
    int step;            /* index into steps */
    size_t out_off;      /* bytes of the current command sent */
    int sent;            /* the current command is all sent */
    char *in;            /* bytes received and not yet parsed */
    size_t in_len, in_cap;
    /* reply state */
    uint64_t skip;       /* IMAP: literal bytes still to skip */
    int in_resp;         /* IMAP: inside a response (after a literal) */
    int multi;           /* POP3: inside a multi-line body */
    int fetch_count;
    double t_start;
    double deadline;
} conn;

static struct {
    enum proto proto;
    const char *host, *port, *cafile, *user, *password, *rcpt, *from;
    int tls;
    int concurrency;
    double seconds;
    double timeout;
    int idle;
    int fetch;
    int verbose;
} opt = {
    .proto = P_IMAP, .host = "127.0.0.1", .port = NULL, .user = "user",
    .password = "password", .rcpt = NULL, .from = "bench@mailrig.test",
    .concurrency = 16, .seconds = 5, .timeout = 10, .fetch = 10,
};

static step steps[16];
static int nsteps;
static struct addrinfo *addr;
static SSL_CTX *ssl_ctx;
static int epfd;
static conn *conns;
static int nconns;

static uint64_t n_sessions, n_errors;
static int errors_printed;
static char first_error[256];
static uint32_t *lat_us;        /* session latencies in microseconds */
static size_t lat_n, lat_cap;

static volatile sig_atomic_t stop_flag;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mr_loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static char *xstrdup_printf(size_t *len, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s)
        die("out of memory");
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (len)
        *len = (size_t)n;
    return s;
}

static void add_step(enum expect x, int fetches, const char *fmt, ...)
{
    step *s = &steps[nsteps];
    memset(s, 0, sizeof *s);
    s->expect = x;
    s->fetches = fetches;
    if (x == X_IMAP_TAGGED)
        snprintf(s->tag, sizeof s->tag, "a%d", nsteps);
    if (fmt) {
        va_list ap;
        char buf[4096];
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof buf)
            die("command too long");
        if (x == X_IMAP_TAGGED)
            s->cmd = xstrdup_printf(&s->cmdlen, "%s %s", s->tag, buf);
        else
            s->cmd = xstrdup_printf(&s->cmdlen, "%s", buf);
    }
    nsteps++;
}

/* The dialogue of each protocol. */
static void make_steps(void)
{
    switch (opt.proto) {
    case P_IMAP:
        add_step(X_IMAP_GREETING, -1, NULL);
        add_step(X_IMAP_TAGGED, -1, "LOGIN \"%s\" \"%s\"\r\n", opt.user, opt.password);
        add_step(X_IMAP_TAGGED, -1, "SELECT INBOX\r\n");
        add_step(X_IMAP_TAGGED, opt.fetch, "FETCH 1:%d (ENVELOPE BODYSTRUCTURE)\r\n", opt.fetch);
        add_step(X_IMAP_TAGGED, -1, "LOGOUT\r\n");
        break;
    case P_POP3:
        add_step(X_POP3_OK, -1, NULL);
        add_step(X_POP3_OK, -1, "USER %s\r\n", opt.user);
        add_step(X_POP3_OK, -1, "PASS %s\r\n", opt.password);
        add_step(X_POP3_OK, -1, "STAT\r\n");
        add_step(X_POP3_MULTI, -1, "LIST\r\n");
        add_step(X_POP3_MULTI, -1, "RETR 1\r\n");
        add_step(X_POP3_OK, -1, "QUIT\r\n");
        break;
    case P_SMTP: {
        const char *rcpt = opt.rcpt ? opt.rcpt : "user@mailrig.test";
        add_step(X_SMTP_2, -1, NULL);
        add_step(X_SMTP_2, -1, "EHLO client.mailrig.test\r\n");
        add_step(X_SMTP_2, -1, "MAIL FROM:<%s>\r\n", opt.from);
        add_step(X_SMTP_2, -1, "RCPT TO:<%s>\r\n", rcpt);
        add_step(X_SMTP_3, -1, "DATA\r\n");
        add_step(X_SMTP_2, -1,
                 "From: Bench <%s>\r\n"
                 "To: <%s>\r\n"
                 "Subject: mailrig server benchmark\r\n"
                 "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                 "Message-ID: <bench@mailrig.test>\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=us-ascii\r\n"
                 "\r\n"
                 "A short message of the server benchmark.\r\n"
                 "..a line that starts with a dot, stuffed.\r\n"
                 "The third line, and the last.\r\n"
                 ".\r\n",
                 opt.from, rcpt);
        add_step(X_SMTP_2, -1, "QUIT\r\n");
        break;
    }
    }
}

static void record_error(conn *c, const char *fmt, ...)
{
    n_errors++;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!first_error[0])
        snprintf(first_error, sizeof first_error, "%s", msg);
    if (errors_printed < 5 || opt.verbose) {
        fprintf(stderr, "mr_loadgen: error at step %d: %s\n", c ? c->step : -1, msg);
        errors_printed++;
    }
}

static void conn_close(conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);   /* also removes it from the epoll set */
        c->fd = -1;
    }
    c->st = C_FREE;
    c->in_len = 0;
}

static int conn_open(conn *c)
{
    c->fd = socket(addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        record_error(c, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->step = 0;
    c->out_off = 0;
    c->sent = 1;     /* the greeting: nothing to send */
    c->in_len = 0;
    c->skip = 0;
    c->in_resp = 0;
    c->multi = 0;
    c->fetch_count = 0;
    c->t_start = now();
    c->deadline = c->t_start + opt.timeout;
    c->st = C_CONNECTING;
    if (connect(c->fd, addr->ai_addr, addr->ai_addrlen) != 0 && errno != EINPROGRESS) {
        record_error(c, "connect: %s", strerror(errno));
        conn_close(c);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP,
                             .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
    return 0;
}

/* Raw I/O through TLS or not: >0 bytes, 0 EOF, -1 would block, -2 error. */
static ssize_t io_read(conn *c, char *buf, size_t len)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)len);
        if (n > 0)
            return n;
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -1;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        int sys = e == SSL_ERROR_SYSCALL ? errno : 0;
        ERR_clear_error();
        return e == SSL_ERROR_SYSCALL && sys == 0 ? 0 : -2;
    }
    ssize_t n = read(c->fd, buf, len);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
}

static ssize_t io_write(conn *c, const char *buf, size_t len)
{
    if (c->ssl) {
        int n = SSL_write(c->ssl, buf, (int)len);
        if (n > 0)
            return n;
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -1;
        ERR_clear_error();
        return -2;
    }
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
}

static void lat_add(double secs)
{
    if (lat_n == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 65536;
        lat_us = realloc(lat_us, lat_cap * sizeof *lat_us);
        if (!lat_us)
            die("out of memory");
    }
    double us = secs * 1e6;
    lat_us[lat_n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

/* The step's reply is complete and as expected: go on.  Returns 1 when
 * the session is over. */
static int step_done(conn *c)
{
    c->step++;
    c->fetch_count = 0;
    c->multi = 0;
    if (c->step >= nsteps)
        return 1;
    c->out_off = 0;
    c->sent = 0;
    return 0;
}

static int is_digits_then(const char *p, const char *end, const char *word)
{
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    if (q == p || q >= end || *q != ' ')
        return 0;
    q++;
    size_t wl = strlen(word);
    if ((size_t)(end - q) < wl || strncasecmp(q, word, wl) != 0)
        return 0;
    return q + wl == end || q[wl] == ' ' || q[wl] == '(' || q[wl] == '\r';
}

/* One line of the reply, without its LF (and with its CR, if any).
 * Returns 1 step finished, 0 more to come, -1 error (recorded). */
static int on_line(conn *c, const char *line, size_t len)
{
    const step *s = &steps[c->step];
    size_t l = len;
    if (l && line[l - 1] == '\r')
        l--;
    const char *end = line + l;

    switch (s->expect) {
    case X_IMAP_GREETING:
    case X_IMAP_TAGGED: {
        int new_resp = !c->in_resp;
        /* A literal at the end of the line: {n} or {n+}; the response
         * goes on after its bytes. */
        c->in_resp = 0;
        if (l >= 3 && line[l - 1] == '}') {
            const char *q = line + l - 2;
            if (*q == '+')
                q--;
            uint64_t n = 0, mul = 1;
            int digits = 0;
            while (q > line && *q >= '0' && *q <= '9' && digits < 18) {
                n += (uint64_t)(*q - '0') * mul;
                mul *= 10;
                q--;
                digits++;
            }
            if (digits && *q == '{') {
                c->skip = n;
                c->in_resp = 1;
            }
        }
        if (!new_resp)
            return 0;
        if (s->expect == X_IMAP_GREETING) {
            if (l >= 4 && (strncasecmp(line, "* OK", 4) == 0 ||
                           (l >= 9 && strncasecmp(line, "* PREAUTH", 9) == 0)))
                return c->in_resp ? 0 : 1;
            record_error(c, "IMAP greeting: %.*s", (int)(l > 100 ? 100 : l), line);
            return -1;
        }
        if (l >= 2 && line[0] == '*' && line[1] == ' ') {
            if (is_digits_then(line + 2, end, "FETCH"))
                c->fetch_count++;
            return 0;
        }
        size_t tl = strlen(s->tag);
        if (l > tl && memcmp(line, s->tag, tl) == 0 && line[tl] == ' ') {
            if (l >= tl + 3 && strncasecmp(line + tl + 1, "OK", 2) == 0 &&
                (l == tl + 3 || line[tl + 3] == ' ')) {
                if (s->fetches >= 0 && c->fetch_count != s->fetches) {
                    record_error(c, "IMAP %s: %d FETCH responses, expected %d", s->tag,
                                 c->fetch_count, s->fetches);
                    return -1;
                }
                return 1;
            }
        }
        record_error(c, "IMAP: %.*s", (int)(l > 100 ? 100 : l), line);
        return -1;
    }
    case X_POP3_OK:
    case X_POP3_MULTI:
        if (c->multi) {
            if (l == 1 && line[0] == '.')
                return 1;
            return 0;
        }
        if (l >= 3 && memcmp(line, "+OK", 3) == 0 && (l == 3 || line[3] == ' ')) {
            if (s->expect == X_POP3_MULTI) {
                c->multi = 1;
                return 0;
            }
            return 1;
        }
        record_error(c, "POP3: %.*s", (int)(l > 100 ? 100 : l), line);
        return -1;
    case X_SMTP_2:
    case X_SMTP_3: {
        char want = s->expect == X_SMTP_2 ? '2' : '3';
        if (l < 3 || line[0] != want || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
            line[2] > '9' || (l > 3 && line[3] != ' ' && line[3] != '-')) {
            record_error(c, "SMTP: %.*s", (int)(l > 100 ? 100 : l), line);
            return -1;
        }
        return l > 3 && line[3] == '-' ? 0 : 1;
    }
    }
    return -1;
}

/* Parse what has come in.  Returns 1 when the session is over, 0 when
 * more is wanted, -1 on error. */
static int parse_input(conn *c)
{
    size_t pos = 0;
    int rc = 0;
    while (pos < c->in_len) {
        if (c->skip) {
            size_t take = c->in_len - pos;
            if (take > c->skip)
                take = (size_t)c->skip;
            c->skip -= take;
            pos += take;
            continue;
        }
        char *lf = memchr(c->in + pos, '\n', c->in_len - pos);
        if (!lf)
            break;
        size_t len = (size_t)(lf - (c->in + pos));
        int r = on_line(c, c->in + pos, len);
        pos += len + 1;
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 1) {
            if (step_done(c)) {
                rc = 1;
                break;
            }
            if (pos < c->in_len) {
                /* A server that speaks before it is asked (or pipelines
                 * its replies): not in these dialogues. */
                record_error(c, "bytes before the command was sent");
                rc = -1;
                break;
            }
        }
    }
    if (pos) {
        memmove(c->in, c->in + pos, c->in_len - pos);
        c->in_len -= pos;
    }
    return rc;
}

static void session_end(conn *c, int ok, int count)
{
    if (ok && count) {
        n_sessions++;
        lat_add(now() - c->t_start);
    }
    if (c->ssl && ok)
        SSL_shutdown(c->ssl);   /* close_notify; not waiting for the server's */
    conn_close(c);
}

/* Everything the connection can do now.  Returns 1 when the session is
 * over (successfully), 0 waiting, -1 failed (recorded, closed). */
static int drive(conn *c, uint32_t events)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        if (err == EINPROGRESS || (!err && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))))
            return 0;
        if (err) {
            record_error(c, "connect: %s", strerror(err));
            conn_close(c);
            return -1;
        }
        if (opt.tls) {
            c->ssl = SSL_new(ssl_ctx);
            if (!c->ssl)
                die("SSL_new failed");
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_connect_state(c->ssl);
            SSL_set_tlsext_host_name(c->ssl, "localhost");
            if (opt.cafile) {
                X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
                if (!X509_VERIFY_PARAM_set1_ip_asc(vp, opt.host))
                    X509_VERIFY_PARAM_set1_host(vp, opt.host, 0);
            }
            c->st = C_HANDSHAKE;
        } else {
            c->st = C_DIALOGUE;
        }
    }
    if (c->st == C_HANDSHAKE) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            unsigned long le = ERR_peek_error();
            char buf[160] = "";
            if (le)
                ERR_error_string_n(le, buf, sizeof buf);
            long vr = SSL_get_verify_result(c->ssl);
            record_error(c, "TLS handshake: %s%s%s", buf[0] ? buf : "connection closed",
                         vr != X509_V_OK ? ": " : "",
                         vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
            ERR_clear_error();
            conn_close(c);
            return -1;
        }
        c->st = C_DIALOGUE;
    }
    if (c->st == C_IDLE) {
        /* Held: anything from the server other than more bytes is a drop. */
        char buf[512];
        for (;;) {
            ssize_t n = io_read(c, buf, sizeof buf);
            if (n > 0)
                continue;
            if (n == -1)
                return 0;
            conn_close(c);
            return -1;
        }
    }
    for (;;) {
        /* Send the current command. */
        const step *s = &steps[c->step];
        while (!c->sent) {
            ssize_t n = io_write(c, s->cmd + c->out_off, s->cmdlen - c->out_off);
            if (n == -1)
                break;
            if (n < 0) {
                record_error(c, "write: %s", strerror(errno));
                conn_close(c);
                return -1;
            }
            c->out_off += (size_t)n;
            if (c->out_off == s->cmdlen)
                c->sent = 1;
        }
        /* Read what there is. */
        int eof = 0, progressed = 0;
        for (;;) {
            if (c->in_cap - c->in_len < 2048) {
                size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
                char *p = realloc(c->in, cap);
                if (!p)
                    die("out of memory");
                c->in = p;
                c->in_cap = cap;
            }
            ssize_t n = io_read(c, c->in + c->in_len, c->in_cap - c->in_len);
            if (n > 0) {
                c->in_len += (size_t)n;
                progressed = 1;
                continue;
            }
            if (n == 0)
                eof = 1;
            else if (n == -2) {
                record_error(c, "read: %s", strerror(errno));
                conn_close(c);
                return -1;
            }
            break;
        }
        int step_before = c->step;
        int r = parse_input(c);
        if (r < 0) {
            conn_close(c);
            return -1;
        }
        if (r == 1)
            return 1;
        if (opt.idle && c->step >= 1) {
            c->st = C_IDLE;
            return 1;
        }
        if (eof) {
            record_error(c, "connection closed by the server");
            conn_close(c);
            return -1;
        }
        /* A new command became due: send it and read again. */
        if (c->step != step_before && !c->sent)
            continue;
        if (!progressed)
            return 0;
        /* Edge-triggered: the read loop stopped at EAGAIN; done. */
        return 0;
    }
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(double p)
{
    if (!lat_n)
        return 0;
    size_t i = (size_t)(p * (double)(lat_n - 1) + 0.5);
    return lat_us[i] / 1000.0;
}

static const char *proto_name(void)
{
    return opt.proto == P_IMAP ? "imap" : opt.proto == P_POP3 ? "pop3" : "smtp";
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void run_load(void)
{
    struct epoll_event evs[256];
    double t0 = now(), end = t0 + opt.seconds, last_scan = t0;
    for (int i = 0; i < nconns; i++)
        conn_open(&conns[i]);
    while (!stop_flag) {
        double t = now();
        if (t >= end)
            break;
        int ms = (int)((end - t) * 1000) + 1;
        if (ms > 50)
            ms = 50;
        int n = epoll_wait(epfd, evs, 256, ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->st == C_FREE)
                continue;
            int r = drive(c, evs[i].events);
            if (r == 1) {
                session_end(c, 1, now() <= end);
                conn_open(c);
            } else if (r < 0) {
                conn_open(c);
            }
        }
        t = now();
        if (t - last_scan > 0.1) {
            last_scan = t;
            for (int i = 0; i < nconns; i++)
                if (conns[i].st != C_FREE && t > conns[i].deadline) {
                    record_error(&conns[i], "session timed out (%.0f s)", opt.timeout);
                    conn_close(&conns[i]);
                    conn_open(&conns[i]);
                }
        }
        /* A server that refuses everything: do not spin for the whole run. */
        if (n_errors > 10000 && n_sessions == 0)
            break;
    }
    double secs = now() - t0;
    if (secs > opt.seconds && !stop_flag)
        secs = opt.seconds;
    for (int i = 0; i < nconns; i++)
        if (conns[i].st != C_FREE)
            conn_close(&conns[i]);
    qsort(lat_us, lat_n, sizeof *lat_us, cmp_u32);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("{\"protocol\":\"%s\",\"tls\":%s,\"concurrency\":%d,\"sessions\":%llu,"
           "\"errors\":%llu,\"seconds\":%.3f,\"sessions_per_s\":%.1f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f",
           proto_name(), opt.tls ? "true" : "false", opt.concurrency,
           (unsigned long long)n_sessions, (unsigned long long)n_errors, secs,
           secs > 0 ? (double)n_sessions / secs : 0.0, pct_ms(0.50), pct_ms(0.99));
    printf(",\"client_cpu_s\":%.3f", cpu);
    if (first_error[0]) {
        printf(",\"first_error\":");
        json_str(first_error);
    }
    printf("}\n");
    fflush(stdout);
}

static void run_idle(void)
{
    struct epoll_event evs[256];
    double t0 = now();
    int opened = 0, established = 0, pending = 0, dropped = 0;
    int max_pending = opt.concurrency;
    /* Until every connection is established (or has failed). */
    while (!stop_flag && established + (int)n_errors < opt.idle) {
        while (pending < max_pending && opened < opt.idle) {
            conn *c = &conns[opened++];
            if (conn_open(c) == 0)
                pending++;
        }
        int n = epoll_wait(epfd, evs, 256, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->st == C_FREE)
                continue;
            int was_idle = c->st == C_IDLE;
            int r = drive(c, evs[i].events);
            if (was_idle) {
                if (r < 0)
                    dropped++;
                continue;
            }
            if (r == 1) {
                established++;
                pending--;
            } else if (r < 0) {
                pending--;
            }
        }
        double t = now();
        for (int i = 0; i < opened; i++)
            if ((conns[i].st == C_CONNECTING || conns[i].st == C_HANDSHAKE ||
                 conns[i].st == C_DIALOGUE) && t > conns[i].deadline) {
                record_error(&conns[i], "greeting timed out (%.0f s)", opt.timeout);
                conn_close(&conns[i]);
                pending--;
            }
        if (opt.seconds > 0 && t - t0 > opt.seconds + 600)
            break;
    }
    double secs = now() - t0;
    printf("{\"event\":\"established\",\"protocol\":\"%s\",\"tls\":%s,\"connections\":%d,"
           "\"errors\":%llu,\"seconds\":%.3f",
           proto_name(), opt.tls ? "true" : "false", established,
           (unsigned long long)n_errors, secs);
    if (first_error[0]) {
        printf(",\"first_error\":");
        json_str(first_error);
    }
    printf("}\n");
    fflush(stdout);

    /* Hold them: until stdin ends, a signal, or --seconds. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    int watch_stdin = epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) == 0;
    double hold_end = now() + opt.seconds;
    while (!stop_flag && now() < hold_end) {
        int n = epoll_wait(epfd, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                char b[256];
                ssize_t r = read(0, b, sizeof b);
                if (r <= 0) {
                    stop_flag = 1;
                    if (watch_stdin)
                        epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
                }
                continue;
            }
            if (c->st == C_FREE)
                continue;
            if (drive(c, evs[i].events) < 0)
                dropped++;
        }
    }
    int still = 0;
    for (int i = 0; i < opened; i++)
        if (conns[i].st != C_FREE) {
            still++;
            conn_close(&conns[i]);
        }
    printf("{\"event\":\"closed\",\"held\":%d,\"dropped\":%d}\n", still, dropped);
    fflush(stdout);
}

static void usage(void)
{
    fputs("usage: mr_loadgen --protocol imap|pop3|smtp --port N [--host H] [--tls]\n"
          "                  [--cafile F] [--user U] [--password P] [--rcpt ADDR]\n"
          "                  [--concurrency N] [--seconds S] [--timeout S] [--fetch N]\n"
          "                  [--idle N] [--verbose]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"protocol", required_argument, 0, 'P'},
        {"host", required_argument, 0, 'h'},
        {"port", required_argument, 0, 'p'},
        {"tls", no_argument, 0, 't'},
        {"cafile", required_argument, 0, 'C'},
        {"user", required_argument, 0, 'u'},
        {"password", required_argument, 0, 'w'},
        {"rcpt", required_argument, 0, 'r'},
        {"concurrency", required_argument, 0, 'c'},
        {"seconds", required_argument, 0, 's'},
        {"timeout", required_argument, 0, 'T'},
        {"fetch", required_argument, 0, 'f'},
        {"idle", required_argument, 0, 'i'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'H'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'P':
            if (strcmp(optarg, "imap") == 0)
                opt.proto = P_IMAP;
            else if (strcmp(optarg, "pop3") == 0)
                opt.proto = P_POP3;
            else if (strcmp(optarg, "smtp") == 0)
                opt.proto = P_SMTP;
            else
                usage();
            break;
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = optarg; break;
        case 't': opt.tls = 1; break;
        case 'C': opt.cafile = optarg; break;
        case 'u': opt.user = optarg; break;
        case 'w': opt.password = optarg; break;
        case 'r': opt.rcpt = optarg; break;
        case 'c': opt.concurrency = atoi(optarg); break;
        case 's': opt.seconds = atof(optarg); break;
        case 'T': opt.timeout = atof(optarg); break;
        case 'f': opt.fetch = atoi(optarg); break;
        case 'i': opt.idle = atoi(optarg); break;
        case 'v': opt.verbose = 1; break;
        default: usage();
        }
    }
    if (!opt.port || opt.concurrency < 1 || opt.fetch < 1 || opt.idle < 0 || optind != argc)
        usage();

    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    int gai = getaddrinfo(opt.host, opt.port, &hints, &addr);
    if (gai != 0)
        die("%s:%s: %s", opt.host, opt.port, gai_strerror(gai));

    if (opt.tls) {
        ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (!ssl_ctx)
            die("SSL_CTX_new failed");
        SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        /* A server that closes without close_notify after its last reply
         * is not an error here. */
        SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        if (opt.cafile) {
            if (SSL_CTX_load_verify_locations(ssl_ctx, opt.cafile, NULL) != 1)
                die("cannot read %s", opt.cafile);
            SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
        } else {
            SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
        }
    }
    make_steps();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    nconns = opt.idle ? opt.idle : opt.concurrency;
    conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns)
        die("out of memory");
    for (int i = 0; i < nconns; i++)
        conns[i].fd = -1;

    if (opt.idle)
        run_idle();
    else
        run_load();

    for (int i = 0; i < nconns; i++)
        free(conns[i].in);
    free(conns);
    free(lat_us);
    for (int i = 0; i < nsteps; i++)
        free(steps[i].cmd);
    freeaddrinfo(addr);
    SSL_CTX_free(ssl_ctx);
    close(epfd);
    return n_errors ? 1 : 0;
}
