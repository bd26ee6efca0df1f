/*
 * etpan-client - libetpan as a command-line IMAP or POP3 client, for
 * mailrig's conformance runs (README.md here).
 *
 *   etpan-client --protocol imap|pop3 --host H --port P --user U
 *                --password W [--tls none|implicit|starttls] [--cafile F]
 *                [--timeout S] [--maildir DIR] [--auth MECH]
 *                [--delete[=N]] [--mark-seen] [--headers-only]
 *                [--uidl-file F]
 *
 * IMAP: connect (mailimap_socket_connect, mailimap_ssl_connect, or
 * mailimap_socket_starttls after the greeting), LOGIN (mailimap_login) or
 * AUTHENTICATE (mailimap_authenticate, through Cyrus SASL), LIST "" *,
 * SELECT INBOX, FETCH 1:* (UID RFC822.SIZE FLAGS ENVELOPE BODYSTRUCTURE),
 * then FETCH n (BODY.PEEK[]) (or BODY.PEEK[HEADER]) of each message,
 * optionally STORE \Seen, STORE \Deleted and EXPUNGE, LOGOUT.
 * POP3: connect (the same three ways; STLS), USER/PASS, APOP or AUTH,
 * STAT, LIST and UIDL (mailpop3_list), RETR each, optionally DELE each,
 * QUIT.
 *
 * One line per message on stdout: UID (IMAP) or UIDL (POP3), size, subject
 * (decoded, on one line), separated by tabs.  Warnings on stderr.
 *
 * Certificates: libetpan's TLS (GnuTLS in Debian's build) does not verify
 * the server's certificate, and mailstream_ssl_set_server_certicate does
 * nothing there.  So this program verifies the chain the server presented
 * (mailstream_get_certificate_chain) itself with OpenSSL, against --cafile
 * and for the name --host, right after the handshake and before anything
 * else is sent; a certificate that fails ends the session (exit 1).
 *
 * Exit status: 0 after a complete normal session, 1 on any protocol, TLS
 * or file error (reported on stderr), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };
enum tls_mode { TLS_NONE, TLS_IMPLICIT, TLS_STARTTLS };

static struct {
    const char *protocol, *host, *user, *password, *cafile, *maildir, *auth, *uidl_file;
    const char *delete_set; /* IMAP: "N" or "N:M"; POP3: non-NULL means DELE each */
    enum tls_mode tls;
    long port, timeout;
    int mark_seen, headers_only;
} opt = {.password = "", .timeout = 10};

static const char *prog = "etpan-client";

static void warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: warning: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_ERR);
}

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    va_end(ap);
    exit(EXIT_USAGE);
}

/* ------------------------------------------------------------ output */

/* The subject decoded (RFC 2047, to UTF-8) on one line: runs of white
 * space and control characters become one space, ends trimmed. */
static void print_line(const char *uid, unsigned long size, const char *raw_subject)
{
    char *decoded = NULL;
    const char *s = raw_subject ? raw_subject : "";
    size_t idx = 0;
    if (raw_subject &&
        mailmime_encoded_phrase_parse("utf-8", raw_subject, strlen(raw_subject), &idx, "utf-8", &decoded) ==
            MAILIMF_NO_ERROR &&
        decoded)
        s = decoded;
    printf("%s\t%lu\t", uid, size);
    int space = 0, any = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            space = 1;
            continue;
        }
        if (space && any)
            putchar(' ');
        space = 0;
        any = 1;
        putchar(*p);
    }
    putchar('\n');
    fflush(stdout);
    free(decoded);
}

/* The Subject header of a message (unfolded, raw), or NULL. */
static char *header_subject(const char *msg, size_t len)
{
    size_t idx = 0;
    struct mailimf_fields *fields = NULL;
    char *out = NULL;
    if (mailimf_envelope_fields_parse(msg, len, &idx, &fields) != MAILIMF_NO_ERROR || !fields)
        return NULL;
    for (clistiter *it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
        struct mailimf_field *f = clist_content(it);
        if (f->fld_type == MAILIMF_FIELD_SUBJECT && f->fld_data.fld_subject) {
            out = strdup(f->fld_data.fld_subject->sbj_value);
            break;
        }
    }
    mailimf_fields_free(fields);
    return out;
}

/* ------------------------------------------------------------ Maildir */

static int maildir_seq;

static void mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        die("path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                die("mkdir %s: %s", buf, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        die("mkdir %s: %s", buf, strerror(errno));
}

static void maildir_init(void)
{
    char p[PATH_MAX];
    static const char *subs[] = {"cur", "new", "tmp"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", opt.maildir, subs[i]);
        mkdir_p(p);
    }
}

/* Write into tmp/, then rename into new/ (no flags) or cur/NAME:2,FLAGS.
 * The bytes as received. */
static void maildir_deliver(const char *data, size_t len, const char *flags)
{
    char host[256] = "localhost", name[512], tmp[PATH_MAX], dest[PATH_MAX];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    for (char *h = host; *h; h++)
        if (*h == '/' || *h == ':')
            *h = '_';
    snprintf(name, sizeof name, "%ld.P%ldQ%d.%s", (long)time(NULL), (long)getpid(), ++maildir_seq, host);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", opt.maildir, name);
    FILE *f = fopen(tmp, "wbx");
    if (!f)
        die("%s: %s", tmp, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        die("%s: %s", tmp, strerror(errno));
    }
    if (fclose(f) != 0)
        die("%s: %s", tmp, strerror(errno));
    if (flags && *flags)
        snprintf(dest, sizeof dest, "%s/cur/%s:2,%s", opt.maildir, name, flags);
    else
        snprintf(dest, sizeof dest, "%s/new/%s", opt.maildir, name);
    if (rename(tmp, dest) < 0)
        die("rename %s: %s", dest, strerror(errno));
}

/* ------------------------------------------------------------ TLS */

static void ssl_callback(struct mailstream_ssl_context *ctx, void *data)
{
    (void)data;
    mailstream_ssl_set_server_name(ctx, (char *)opt.host);
    /* A no-op (-1) with GnuTLS; the chain is verified after the handshake. */
    if (opt.cafile)
        (void)mailstream_ssl_set_server_certicate(ctx, (char *)opt.cafile, NULL);
}

/* Verify the server's chain against --cafile (else the system's CAs) and
 * the host name; die when it does not verify. */
static void verify_chain(mailstream *s)
{
    carray *chain = s ? mailstream_get_certificate_chain(s) : NULL;
    if (!chain || carray_count(chain) == 0)
        die("TLS: the server presented no certificate");
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *leaf = NULL;
    for (unsigned i = 0; i < carray_count(chain); i++) {
        MMAPString *der = carray_get(chain, i);
        const unsigned char *p = (const unsigned char *)der->str;
        X509 *x = d2i_X509(NULL, &p, (long)der->len);
        if (!x)
            die("TLS: certificate %u of the chain does not parse", i);
        if (i == 0)
            leaf = x;
        else
            sk_X509_push(untrusted, x);
    }
    mailstream_certificate_chain_free(chain);
    int ok = opt.cafile ? X509_STORE_load_locations(store, opt.cafile, NULL) : X509_STORE_set_default_paths(store);
    if (ok != 1)
        die("TLS: cannot load the CA file %s", opt.cafile ? opt.cafile : "(system)");
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set1_host(param, opt.host, 0);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        die("TLS: certificate verification failed for %s: %s", opt.host, X509_verify_cert_error_string(err));
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
}

/* ------------------------------------------------------------ IMAP */

static mailimap *imap;

static void imap_check(int r, const char *what)
{
    if (r == MAILIMAP_NO_ERROR)
        return;
    const char *resp = imap && imap->imap_response ? imap->imap_response : "";
    die("IMAP %s failed: libetpan error %d%s%s", what, r, *resp ? ": " : "", resp);
}

static void imap_flags(struct mailimap_msg_att_dynamic *dyn, char *out)
{
    int d = 0, f = 0, r = 0, s = 0, t = 0;
    if (dyn && dyn->att_list)
        for (clistiter *it = clist_begin(dyn->att_list); it; it = clist_next(it)) {
            struct mailimap_flag_fetch *ff = clist_content(it);
            if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER || !ff->fl_flag)
                continue;
            switch (ff->fl_flag->fl_type) {
            case MAILIMAP_FLAG_DRAFT: d = 1; break;
            case MAILIMAP_FLAG_FLAGGED: f = 1; break;
            case MAILIMAP_FLAG_ANSWERED: r = 1; break;
            case MAILIMAP_FLAG_SEEN: s = 1; break;
            case MAILIMAP_FLAG_DELETED: t = 1; break;
            default: break;
            }
        }
    char *o = out;
    if (d) *o++ = 'D';
    if (f) *o++ = 'F';
    if (r) *o++ = 'R';
    if (s) *o++ = 'S';
    if (t) *o++ = 'T';
    *o = 0;
}

struct imap_msg {
    uint32_t uid, size;
    char *subject;
    char flags[8];
    int seen_uid, seen_size, seen_flags, seen_env, seen_bs;
};

static void imap_store(struct mailimap_set *set, struct mailimap_flag *flag, const char *what)
{
    struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
    mailimap_flag_list_add(fl, flag);
    struct mailimap_store_att_flags *sf = mailimap_store_att_flags_new_add_flags_silent(fl);
    int r = mailimap_store(imap, set, sf);
    mailimap_store_att_flags_free(sf);
    mailimap_set_free(set);
    imap_check(r, what);
}

static struct mailimap_set *parse_set(const char *s)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10), b;
    if (end == s || a == 0)
        return NULL;
    if (*end == 0)
        return mailimap_set_new_single((uint32_t)a);
    if (*end != ':')
        return NULL;
    if (strcmp(end + 1, "*") == 0)
        return mailimap_set_new_interval((uint32_t)a, 0);
    const char *s2 = end + 1;
    b = strtoul(s2, &end, 10);
    if (end == s2 || *end || b == 0)
        return NULL;
    return mailimap_set_new_interval((uint32_t)a, (uint32_t)b);
}

static int run_imap(void)
{
    int r;
    struct mailimap_set *delset = NULL;
    if (opt.delete_set && !(delset = parse_set(opt.delete_set)))
        usage_error("--delete %s: not N, N:M or N:*", opt.delete_set);

    imap = mailimap_new(0, NULL);
    mailimap_set_timeout(imap, opt.timeout);
    if (opt.tls == TLS_IMPLICIT)
        r = mailimap_ssl_connect_with_callback(imap, opt.host, (uint16_t)opt.port, ssl_callback, NULL);
    else
        r = mailimap_socket_connect(imap, opt.host, (uint16_t)opt.port);
    if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
        imap_check(r == MAILIMAP_NO_ERROR ? -1 : r, "connect");
    if (opt.tls == TLS_STARTTLS) {
        r = mailimap_socket_starttls_with_callback(imap, ssl_callback, NULL);
        imap_check(r, "STARTTLS");
    }
    if (opt.tls != TLS_NONE)
        verify_chain(imap->imap_stream);

    const char *auth = opt.auth ? opt.auth : "login";
    if (strcmp(auth, "login") == 0)
        r = mailimap_login(imap, opt.user, opt.password);
    else if (strcmp(auth, "plain") == 0)
        r = mailimap_authenticate(imap, "PLAIN", opt.host, NULL, NULL, opt.user, opt.user, opt.password, NULL);
    else if (strcmp(auth, "cram-md5") == 0)
        r = mailimap_authenticate(imap, "CRAM-MD5", opt.host, NULL, NULL, opt.user, opt.user, opt.password, NULL);
    else
        usage_error("--auth %s: IMAP takes login, plain or cram-md5", auth);
    imap_check(r, "login");

    clist *list = NULL;
    r = mailimap_list(imap, "", "*", &list);
    imap_check(r, "LIST");
    int inbox = 0;
    for (clistiter *it = clist_begin(list); it; it = clist_next(it)) {
        struct mailimap_mailbox_list *mb = clist_content(it);
        if (mb->mb_name && strcasecmp(mb->mb_name, "INBOX") == 0)
            inbox = 1;
    }
    if (!inbox)
        warn("LIST did not name INBOX");
    mailimap_list_result_free(list);

    r = mailimap_select(imap, "INBOX");
    imap_check(r, "SELECT INBOX");
    uint32_t exists = imap->imap_selection_info ? imap->imap_selection_info->sel_exists : 0;

    if (exists > 0) {
        struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
        mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
        struct mailimap_set *all = mailimap_set_new_interval(1, 0);
        clist *result = NULL;
        r = mailimap_fetch(imap, all, ft, &result);
        mailimap_set_free(all);
        mailimap_fetch_type_free(ft);
        imap_check(r, "FETCH 1:*");

        struct imap_msg *msgs = calloc(exists + 1, sizeof *msgs);
        if (!msgs)
            die("out of memory");
        for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
            struct mailimap_msg_att *ma = clist_content(it);
            if (ma->att_number < 1 || ma->att_number > exists) {
                warn("FETCH answered for message %u; SELECT said %u exist", ma->att_number, exists);
                continue;
            }
            struct imap_msg *m = &msgs[ma->att_number];
            for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
                struct mailimap_msg_att_item *item = clist_content(j);
                if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
                    imap_flags(item->att_data.att_dyn, m->flags);
                    m->seen_flags = 1;
                    continue;
                }
                if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
                    continue;
                struct mailimap_msg_att_static *st = item->att_data.att_static;
                switch (st->att_type) {
                case MAILIMAP_MSG_ATT_UID: m->uid = st->att_data.att_uid; m->seen_uid = 1; break;
                case MAILIMAP_MSG_ATT_RFC822_SIZE: m->size = st->att_data.att_rfc822_size; m->seen_size = 1; break;
                case MAILIMAP_MSG_ATT_BODYSTRUCTURE: m->seen_bs = 1; break;
                case MAILIMAP_MSG_ATT_ENVELOPE:
                    m->seen_env = 1;
                    if (st->att_data.att_env && st->att_data.att_env->env_subject)
                        m->subject = strdup(st->att_data.att_env->env_subject);
                    break;
                default: break;
                }
            }
        }
        mailimap_fetch_list_free(result);

        for (uint32_t n = 1; n <= exists; n++) {
            struct imap_msg *m = &msgs[n];
            if (!m->seen_uid || !m->seen_size || !m->seen_flags || !m->seen_env || !m->seen_bs)
                warn("message %u: FETCH 1:* did not give all of UID RFC822.SIZE FLAGS ENVELOPE BODYSTRUCTURE", n);
            struct mailimap_section *sec = opt.headers_only ? mailimap_section_new_header() : mailimap_section_new(NULL);
            struct mailimap_fetch_type *bt = mailimap_fetch_type_new_fetch_att(mailimap_fetch_att_new_body_peek_section(sec));
            struct mailimap_set *one = mailimap_set_new_single(n);
            clist *res = NULL;
            r = mailimap_fetch(imap, one, bt, &res);
            mailimap_set_free(one);
            mailimap_fetch_type_free(bt);
            imap_check(r, opt.headers_only ? "FETCH BODY.PEEK[HEADER]" : "FETCH BODY.PEEK[]");
            const char *body = NULL;
            size_t blen = 0;
            for (clistiter *it = clist_begin(res); it && !body; it = clist_next(it)) {
                struct mailimap_msg_att *ma = clist_content(it);
                if (ma->att_number != n)
                    continue;
                for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
                    struct mailimap_msg_att_item *item = clist_content(j);
                    if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
                        item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
                        item->att_data.att_static->att_data.att_body_section) {
                        struct mailimap_msg_att_body_section *bs = item->att_data.att_static->att_data.att_body_section;
                        body = bs->sec_body_part ? bs->sec_body_part : "";
                        blen = bs->sec_length;
                    }
                }
            }
            if (!body)
                die("message %u: no body section in the FETCH answer", n);
            if (!opt.headers_only && blen != m->size)
                warn("message %u (UID %u): RFC822.SIZE %u, BODY[] has %zu bytes", n, m->uid, m->size, blen);
            if (opt.maildir)
                maildir_deliver(body, blen, m->flags);
            mailimap_fetch_list_free(res);
            char uid[16];
            snprintf(uid, sizeof uid, "%u", m->uid);
            print_line(uid, m->size, m->subject);
            free(m->subject);
        }
        free(msgs);
    }
    if (opt.mark_seen && exists > 0)
        imap_store(mailimap_set_new_interval(1, 0), mailimap_flag_new_seen(), "STORE \\Seen");
    if (delset) {
        imap_store(delset, mailimap_flag_new_deleted(), "STORE \\Deleted");
        imap_check(mailimap_expunge(imap), "EXPUNGE");
    }
    r = mailimap_logout(imap);
    if (r != MAILIMAP_NO_ERROR)
        warn("LOGOUT: libetpan error %d", r);
    mailimap_free(imap);
    return EXIT_OK;
}

/* ------------------------------------------------------------ POP3 */

static mailpop3 *pop;

static void pop_check(int r, const char *what)
{
    if (r == MAILPOP3_NO_ERROR)
        return;
    const char *resp = pop && pop->pop3_response ? pop->pop3_response : "";
    die("POP3 %s failed: libetpan error %d%s%s", what, r, *resp ? ": " : "", resp);
}

/* The UIDLs of --uidl-file, one a line, as one string "\nA\nB\n". */
static char *read_uidls(void)
{
    FILE *f = fopen(opt.uidl_file, "r");
    size_t cap = 2, len = 1;
    char *all = malloc(cap), line[1024];
    if (!all)
        die("out of memory");
    strcpy(all, "\n");
    if (!f) {
        if (errno != ENOENT)
            die("%s: %s", opt.uidl_file, strerror(errno));
        return all;
    }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!*line)
            continue;
        size_t l = strlen(line);
        if (len + l + 2 > cap) {
            cap = (len + l + 2) * 2;
            if (!(all = realloc(all, cap)))
                die("out of memory");
        }
        memcpy(all + len, line, l);
        len += l;
        all[len++] = '\n';
        all[len] = 0;
    }
    fclose(f);
    return all;
}

static int uidl_known(const char *all, const char *uidl)
{
    size_t l = strlen(uidl);
    for (const char *p = all; (p = strstr(p, uidl)); p++)
        if (p > all && p[-1] == '\n' && p[l] == '\n')
            return 1;
    return 0;
}

static int run_pop3(void)
{
    int r;
    char *known = opt.uidl_file ? read_uidls() : NULL;
    pop = mailpop3_new(0, NULL);
    mailpop3_set_timeout(pop, opt.timeout);
    if (opt.tls == TLS_IMPLICIT)
        r = mailpop3_ssl_connect_with_callback(pop, opt.host, (uint16_t)opt.port, ssl_callback, NULL);
    else
        r = mailpop3_socket_connect(pop, opt.host, (uint16_t)opt.port);
    pop_check(r, "connect");
    if (opt.tls == TLS_STARTTLS)
        pop_check(mailpop3_socket_starttls_with_callback(pop, ssl_callback, NULL), "STLS");
    if (opt.tls != TLS_NONE)
        verify_chain(pop->pop3_stream);

    const char *auth = opt.auth ? opt.auth : "user";
    if (strcmp(auth, "user") == 0)
        r = mailpop3_login(pop, opt.user, opt.password);
    else if (strcmp(auth, "apop") == 0)
        r = mailpop3_apop(pop, opt.user, opt.password);
    else if (strcmp(auth, "plain") == 0)
        r = mailpop3_auth(pop, "PLAIN", opt.host, NULL, NULL, opt.user, opt.user, opt.password, NULL);
    else if (strcmp(auth, "cram-md5") == 0)
        r = mailpop3_auth(pop, "CRAM-MD5", opt.host, NULL, NULL, opt.user, opt.user, opt.password, NULL);
    else
        usage_error("--auth %s: POP3 takes user, apop, plain or cram-md5", auth);
    pop_check(r, "login");

    struct mailpop3_stat_response *st = NULL;
    pop_check(mailpop3_stat(pop, &st), "STAT");
    unsigned count = st->msgs_count;
    size_t total = st->msgs_size;
    mailpop3_stat_resp_free(st);

    carray *msgs = NULL;
    pop_check(mailpop3_list(pop, &msgs), "LIST/UIDL");
    if (carray_count(msgs) != count)
        warn("STAT said %u messages; LIST listed %u", count, carray_count(msgs));
    size_t sum = 0;
    FILE *uf = NULL;
    for (unsigned i = 0; i < carray_count(msgs); i++) {
        struct mailpop3_msg_info *mi = carray_get(msgs, i);
        if (mi)
            sum += mi->msg_size;
    }
    if (sum != total)
        warn("STAT said %zu octets; LIST adds up to %zu", total, sum);

    char **fresh = calloc(carray_count(msgs) + 1, sizeof *fresh);
    unsigned nfresh = 0;
    for (unsigned i = 0; i < carray_count(msgs); i++) {
        struct mailpop3_msg_info *mi = carray_get(msgs, i);
        if (!mi)
            continue;
        const char *uidl = mi->msg_uidl ? mi->msg_uidl : "";
        if (!mi->msg_uidl)
            warn("message %u: no UIDL", mi->msg_index);
        if (known && uidl_known(known, uidl))
            continue;
        char *data = NULL;
        size_t len = 0;
        pop_check(mailpop3_retr(pop, mi->msg_index, &data, &len), "RETR");
        if (len != mi->msg_size)
            warn("message %u (UIDL %s): LIST said %u octets, RETR gave %zu", mi->msg_index, uidl, mi->msg_size, len);
        if (opt.maildir)
            maildir_deliver(data, len, NULL);
        char *subject = header_subject(data, len);
        print_line(uidl, mi->msg_size, subject);
        free(subject);
        mailpop3_retr_free(data);
        fresh[nfresh++] = strdup(uidl);
        if (opt.delete_set)
            pop_check(mailpop3_dele(pop, mi->msg_index), "DELE");
    }
    pop_check(mailpop3_quit(pop), "QUIT");
    mailpop3_free(pop);
    if (known && nfresh) {
        if (!(uf = fopen(opt.uidl_file, "a")))
            die("%s: %s", opt.uidl_file, strerror(errno));
        for (unsigned i = 0; i < nfresh; i++)
            fprintf(uf, "%s\n", fresh[i]);
        if (fclose(uf) != 0)
            die("%s: %s", opt.uidl_file, strerror(errno));
    }
    for (unsigned i = 0; i < nfresh; i++)
        free(fresh[i]);
    free(fresh);
    free(known);
    return EXIT_OK;
}

/* ------------------------------------------------------------ main */

static void help(void)
{
    printf("usage: %s --protocol imap|pop3 --host H --port P --user U [--password W]\n"
           "       [--tls none|implicit|starttls] [--cafile F] [--timeout S] [--maildir DIR]\n"
           "       [--auth MECH] [--delete[=N]] [--mark-seen] [--headers-only] [--uidl-file F]\n"
           "\n"
           "libetpan as a mail client: one normal session, one line per message on stdout\n"
           "(UID or UIDL, size, subject).  --auth: IMAP login (default), plain, cram-md5;\n"
           "POP3 user (default), apop, plain, cram-md5.  --delete: POP3 DELE each message\n"
           "retrieved; IMAP --delete=N (N, N:M or N:*) STORE \\Deleted and EXPUNGE.\n"
           "Exit status: 0 complete session, 1 error, 2 bad usage.\n",
           prog);
}

static long number(const char *s, const char *name, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        usage_error("%s %s: not a number from %ld to %ld", name, s, lo, hi);
    return v;
}

int main(int argc, char **argv)
{
    enum { O_PROTOCOL = 256, O_HOST, O_PORT, O_USER, O_PASSWORD, O_TLS, O_CAFILE, O_TIMEOUT,
           O_MAILDIR, O_AUTH, O_DELETE, O_MARK_SEEN, O_HEADERS_ONLY, O_UIDL_FILE, O_HELP };
    static const struct option longopts[] = {
        {"protocol", required_argument, 0, O_PROTOCOL}, {"host", required_argument, 0, O_HOST},
        {"port", required_argument, 0, O_PORT},         {"user", required_argument, 0, O_USER},
        {"password", required_argument, 0, O_PASSWORD}, {"tls", required_argument, 0, O_TLS},
        {"cafile", required_argument, 0, O_CAFILE},     {"timeout", required_argument, 0, O_TIMEOUT},
        {"maildir", required_argument, 0, O_MAILDIR},   {"auth", required_argument, 0, O_AUTH},
        {"delete", optional_argument, 0, O_DELETE},     {"mark-seen", no_argument, 0, O_MARK_SEEN},
        {"headers-only", no_argument, 0, O_HEADERS_ONLY}, {"uidl-file", required_argument, 0, O_UIDL_FILE},
        {"help", no_argument, 0, O_HELP},               {0, 0, 0, 0}};
    const char *tls = "none", *port = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_PROTOCOL: opt.protocol = optarg; break;
        case O_HOST: opt.host = optarg; break;
        case O_PORT: port = optarg; break;
        case O_USER: opt.user = optarg; break;
        case O_PASSWORD: opt.password = optarg; break;
        case O_TLS: tls = optarg; break;
        case O_CAFILE: opt.cafile = optarg; break;
        case O_TIMEOUT: opt.timeout = number(optarg, "--timeout", 1, 86400); break;
        case O_MAILDIR: opt.maildir = optarg; break;
        case O_AUTH: opt.auth = optarg; break;
        case O_DELETE: opt.delete_set = optarg ? optarg : ""; break;
        case O_MARK_SEEN: opt.mark_seen = 1; break;
        case O_HEADERS_ONLY: opt.headers_only = 1; break;
        case O_UIDL_FILE: opt.uidl_file = optarg; break;
        case O_HELP: help(); return EXIT_OK;
        default: usage_error("bad option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument %s", argv[optind]);
    if (!opt.protocol || (strcmp(opt.protocol, "imap") && strcmp(opt.protocol, "pop3")))
        usage_error("--protocol imap|pop3 is required");
    if (!opt.host || !port || !opt.user)
        usage_error("--host, --port and --user are required");
    opt.port = number(port, "--port", 1, 65535);
    if (strcmp(tls, "none") == 0)
        opt.tls = TLS_NONE;
    else if (strcmp(tls, "implicit") == 0)
        opt.tls = TLS_IMPLICIT;
    else if (strcmp(tls, "starttls") == 0)
        opt.tls = TLS_STARTTLS;
    else
        usage_error("--tls %s: none, implicit or starttls", tls);
    int imap_proto = strcmp(opt.protocol, "imap") == 0;
    if (imap_proto && opt.delete_set && !*opt.delete_set)
        usage_error("IMAP: --delete=N (a message number, N:M or N:*)");
    if (imap_proto && opt.uidl_file)
        usage_error("--uidl-file is for POP3");
    if (!imap_proto && (opt.mark_seen || opt.headers_only))
        usage_error("--mark-seen and --headers-only are for IMAP");
    if (opt.cafile && access(opt.cafile, R_OK) != 0)
        usage_error("--cafile %s: %s", opt.cafile, strerror(errno));

    /* The default for every stream; the sessions set their own as well. */
    mailstream_network_delay.tv_sec = opt.timeout;
    mailstream_network_delay.tv_usec = 0;
    if (opt.maildir)
        maildir_init();
    return imap_proto ? run_imap() : run_pop3();
}
