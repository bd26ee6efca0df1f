/*
 * mr_certs.c - test certificates made at run time, and the server
 * contexts that present them (mr_certs.h).
 *
 * Everything is EC P-256, SHA-256.  The test CA (basicConstraints
 * critical CA:TRUE, keyUsage keyCertSign+cRLSign, subjectKeyIdentifier)
 * is made by mr_certs_new() and its certificate written to DIR/ca.pem;
 * a second CA, the "unknown" one, is made on demand and never written.
 * Leaves (basicConstraints CA:FALSE, keyUsage digitalSignature,
 * extendedKeyUsage serverAuth, subjectAltName, authorityKeyIdentifier)
 * are made per profile on first use.  Serials are 128 random bits (RFC
 * 5280 section 4.1.2.2 allows up to 20 octets, positive).  Private keys
 * never leave memory.
 *
 * Validity: now-1h .. now+30d (the hour absorbs clock skew between the
 * test and the client); the expired leaf: now-2y .. now-1y.
 */
#include "mr_certs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct mr_certs {
    char *dir;
    char *cafile;
    char *hostname;
    EVP_PKEY *ca_key;
    X509 *ca;
    EVP_PKEY *other_key;       /* the unknown CA, made on demand */
    X509 *other;
    SSL_CTX *ctx[MR_CERT_NPROFILES];
};

static const char *const profile_names[MR_CERT_NPROFILES] = {
    [MR_CERT_VALID] = "valid",
    [MR_CERT_SELF_SIGNED] = "self-signed",
    [MR_CERT_EXPIRED] = "expired",
    [MR_CERT_WRONG_HOST] = "wrong-host",
    [MR_CERT_UNKNOWN_CA] = "unknown-ca",
};

const char *mr_cert_profile_name(mr_cert_profile p)
{
    if ((unsigned)p >= MR_CERT_NPROFILES)
        return "?";
    return profile_names[p];
}

int mr_cert_profile_parse(const char *name, mr_cert_profile *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < MR_CERT_NPROFILES; i++)
        if (strcmp(name, profile_names[i]) == 0) {
            if (out)
                *out = (mr_cert_profile)i;
            return 0;
        }
    return -1;
}

/* An error message: what failed, then OpenSSL's first queued error, if
 * any (the queue is cleared). */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) {
        ERR_clear_error();
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_error();
    if (e && n >= 0 && (size_t)n < errlen) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err + n, errlen - (size_t)n, ": %s", buf);
    }
    ERR_clear_error();
}

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

/* mkdir -p */
static int mkdirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return -1;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            p[i] = c;
        }
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int random_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[0] &= 0x7f;           /* positive */
    b[0] |= 0x40;           /* and 16 octets long */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    if (!bn)
        return -1;
    ASN1_INTEGER *ai = X509_get_serialNumber(x);
    int ok = BN_to_ASN1_INTEGER(bn, ai) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A certificate for key, with subject CN=cn (O=mailrig test), issued by
 * issuer/issuer_key (or by itself when issuer is NULL), valid from
 * now+not_before to now+not_after seconds.  ca: a CA certificate, else a
 * server leaf for san. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       long not_before, long not_after, int ca, const char *san)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_NAME *name = NULL;
    if (!X509_set_version(x, X509_VERSION_3) || random_serial(x) != 0)
        goto fail;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), not_before) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), not_after))
        goto fail;
    if (!X509_set_pubkey(x, key))
        goto fail;
    name = X509_NAME_new();
    if (!name ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"mailrig test", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    if (!X509_set_subject_name(x, name))
        goto fail;
    if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
        goto fail;

    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    if (ca) {
        if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
            add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            add_ext(x, &v3, NID_subject_key_identifier, "hash"))
            goto fail;
        if (issuer && add_ext(x, &v3, NID_authority_key_identifier, "keyid:always"))
            goto fail;
    } else {
        if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") ||
            add_ext(x, &v3, NID_ext_key_usage, "serverAuth") ||
            add_ext(x, &v3, NID_subject_alt_name, san) ||
            add_ext(x, &v3, NID_subject_key_identifier, "hash"))
            goto fail;
        /* A self-signed leaf has no separate authority to name. */
        if (issuer && add_ext(x, &v3, NID_authority_key_identifier, "keyid:always"))
            goto fail;
    }
    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
        goto fail;
    X509_NAME_free(name);
    return x;
fail:
    X509_NAME_free(name);
    X509_free(x);
    return NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

mr_certs *mr_certs_new(const char *dir, const char *hostname, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        set_err(err, errlen, "certificates: no directory given");
        return NULL;
    }
    if (!hostname || !*hostname)
        hostname = "localhost";
    mr_certs *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "certificates: out of memory");
        return NULL;
    }
    size_t dl = strlen(dir);
    c->dir = dup_str(dir);
    c->hostname = dup_str(hostname);
    c->cafile = malloc(dl + sizeof "/ca.pem");
    if (!c->dir || !c->hostname || !c->cafile) {
        set_err(err, errlen, "certificates: out of memory");
        goto fail;
    }
    memcpy(c->cafile, dir, dl);
    memcpy(c->cafile + dl, "/ca.pem", sizeof "/ca.pem");

    if (mkdirs(dir) != 0) {
        set_err(err, errlen, "certificates: cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    c->ca_key = new_key();
    if (!c->ca_key) {
        set_err(err, errlen, "certificates: cannot make the CA key");
        goto fail;
    }
    c->ca = make_cert(c->ca_key, "mailrig test CA", NULL, NULL, -3600L, 30L * 86400, 1, NULL);
    if (!c->ca) {
        set_err(err, errlen, "certificates: cannot make the CA certificate");
        goto fail;
    }
    /* Written under a temporary name and renamed, so that a reader never
     * sees half a file. */
    size_t tl = strlen(c->cafile) + sizeof ".tmp";
    char *tmp = malloc(tl);
    if (!tmp) {
        set_err(err, errlen, "certificates: out of memory");
        goto fail;
    }
    snprintf(tmp, tl, "%s.tmp", c->cafile);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        set_err(err, errlen, "certificates: cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        goto fail;
    }
    int ok = PEM_write_X509(f, c->ca) == 1;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, c->cafile) != 0) {
        set_err(err, errlen, "certificates: cannot write %s", c->cafile);
        remove(tmp);
        free(tmp);
        goto fail;
    }
    free(tmp);
    return c;
fail:
    mr_certs_free(c);
    return NULL;
}

void mr_certs_free(mr_certs *c)
{
    if (!c)
        return;
    for (int i = 0; i < MR_CERT_NPROFILES; i++)
        SSL_CTX_free(c->ctx[i]);
    X509_free(c->ca);
    EVP_PKEY_free(c->ca_key);
    X509_free(c->other);
    EVP_PKEY_free(c->other_key);
    free(c->dir);
    free(c->cafile);
    free(c->hostname);
    free(c);
}

const char *mr_certs_cafile(const mr_certs *c)
{
    return c ? c->cafile : NULL;
}

/* The subjectAltName value for the valid names: the hostname (as an IP
 * address when it is one), localhost, 127.0.0.1 and ::1, without
 * repeats. */
static void valid_san(const char *host, char *out, size_t outlen)
{
    const char *fixed = "DNS:localhost,IP:127.0.0.1,IP:::1";
    if (strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
        strcmp(host, "::1") == 0) {
        snprintf(out, outlen, "%s", fixed);
        return;
    }
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    if (ip) {
        ASN1_OCTET_STRING_free(ip);
        snprintf(out, outlen, "IP:%s,%s", host, fixed);
    } else {
        snprintf(out, outlen, "DNS:%s,%s", host, fixed);
    }
}

SSL_CTX *mr_certs_ctx(mr_certs *c, mr_cert_profile p, char *err, size_t errlen)
{
    if (!c || (unsigned)p >= MR_CERT_NPROFILES) {
        set_err(err, errlen, "certificates: no such profile");
        return NULL;
    }
    if (c->ctx[p])
        return c->ctx[p];

    char san[600];
    if (strlen(c->hostname) > 400) {
        set_err(err, errlen, "certificates: host name too long");
        return NULL;
    }
    if (p == MR_CERT_WRONG_HOST)
        snprintf(san, sizeof san, "DNS:wrong.invalid");
    else
        valid_san(c->hostname, san, sizeof san);
    const char *cn = p == MR_CERT_WRONG_HOST ? "wrong.invalid" : c->hostname;

    X509 *issuer = c->ca;
    EVP_PKEY *issuer_key = c->ca_key;
    if (p == MR_CERT_UNKNOWN_CA) {
        if (!c->other) {
            c->other_key = new_key();
            if (c->other_key)
                c->other = make_cert(c->other_key, "mailrig unknown CA", NULL, NULL,
                                     -3600L, 30L * 86400, 1, NULL);
            if (!c->other) {
                set_err(err, errlen, "certificates: cannot make the unknown CA");
                return NULL;
            }
        }
        issuer = c->other;
        issuer_key = c->other_key;
    } else if (p == MR_CERT_SELF_SIGNED) {
        issuer = NULL;
        issuer_key = NULL;
    }
    long nb = -3600L, na = 30L * 86400;
    if (p == MR_CERT_EXPIRED) {
        nb = -2L * 365 * 86400;
        na = -365L * 86400;
    }

    SSL_CTX *ctx = NULL;
    EVP_PKEY *key = new_key();
    X509 *leaf = key ? make_cert(key, cn, issuer, issuer_key, nb, na, 0, san) : NULL;
    if (!leaf) {
        set_err(err, errlen, "certificates: cannot make the %s certificate",
                mr_cert_profile_name(p));
        goto done;
    }
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        set_err(err, errlen, "certificates: cannot set up the %s context",
                mr_cert_profile_name(p));
        SSL_CTX_free(ctx);
        ctx = NULL;
        goto done;
    }
    /* The root is not sent: a client has it or must not trust the server
     * (RFC 8446 4.4.2 lets the root be left out).  No session tickets: a
     * fake server's sessions are never resumed, and each ticket costs both
     * sides a little on every handshake. */
    SSL_CTX_set_num_tickets(ctx, 0);
    c->ctx[p] = ctx;
done:
    X509_free(leaf);
    EVP_PKEY_free(key);
    return ctx;
}
