/*
 * test_certs.c - unit tests of the run-time test certificates
 * (fake-servers/mr_certs.h): for every profile the leaf a server context
 * presents is verified against DIR/ca.pem the way a client verifies it
 * (X509_verify_cert with the names checked by X509_check_host and
 * X509_check_ip_asc), and must pass or fail as the profile says; the
 * extensions are the ones the profile promises; and a real TLS handshake
 * runs in memory (two memory BIOs per side) between a client trusting
 * ca.pem and the valid profile's context.
 *
 * The same check by hand, with the leaf written out of the test:
 *   openssl verify -CAfile DIR/ca.pem -verify_hostname localhost leaf.pem
 *   (valid: OK; expired: error 10 "certificate has expired"; wrong-host:
 *   error 62 "hostname mismatch"; self-signed: error 18; unknown-ca:
 *   error 20 "unable to get local issuer certificate")
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mr_certs.h"

typedef struct fixture {
    char dir[64];
    char sub[96];
    mr_certs *certs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mr-test-certs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* A directory that does not exist yet, two levels down: mkdir -p. */
    snprintf(f->sub, sizeof f->sub, "%s/a/b", f->dir);
    char err[256] = "";
    f->certs = mr_certs_new(f->sub, NULL, err, sizeof err);
    if (!f->certs)
        fail_msg("mr_certs_new: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char path[160];
    mr_certs_free(f->certs);
    snprintf(path, sizeof path, "%s/ca.pem", f->sub);
    unlink(path);
    snprintf(path, sizeof path, "%s/a/b", f->dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/a", f->dir);
    rmdir(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static X509 *read_ca(const char *file)
{
    FILE *fp = fopen(file, "r");
    assert_non_null(fp);
    X509 *ca = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(ca);
    return ca;
}

/* Verify the leaf of ctx (with the chain the context sends, as untrusted
 * certificates) against cafile only.  Returns X509_V_OK or the error. */
static int verify_leaf(SSL_CTX *ctx, const char *cafile)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    assert_non_null(leaf);
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);

    X509_STORE *store = X509_STORE_new();
    assert_non_null(store);
    assert_int_equal(X509_STORE_load_file(store, cafile), 1);
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    assert_non_null(sc);
    assert_int_equal(X509_STORE_CTX_init(sc, store, leaf, chain), 1);
    int ok = X509_verify_cert(sc);
    int e = X509_STORE_CTX_get_error(sc);
    X509_STORE_CTX_free(sc);
    X509_STORE_free(store);
    if (ok == 1)
        assert_int_equal(e, X509_V_OK);
    else
        assert_int_not_equal(e, X509_V_OK);
    ERR_clear_error();
    return e;
}

/* 1 when the leaf of ctx is for localhost, 127.0.0.1 and ::1. */
static int leaf_names_ok(SSL_CTX *ctx)
{
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    return X509_check_host(leaf, "localhost", 0, 0, NULL) == 1 &&
           X509_check_ip_asc(leaf, "127.0.0.1", 0) == 1 && X509_check_ip_asc(leaf, "::1", 0) == 1;
}

static SSL_CTX *ctx_of(fixture *f, mr_cert_profile p)
{
    char err[256] = "";
    SSL_CTX *ctx = mr_certs_ctx(f->certs, p, err, sizeof err);
    if (!ctx)
        fail_msg("mr_certs_ctx(%s): %s", mr_cert_profile_name(p), err);
    /* Cached: the same context the second time. */
    assert_ptr_equal(mr_certs_ctx(f->certs, p, err, sizeof err), ctx);
    return ctx;
}

static void test_profile_names(void **state)
{
    (void)state;
    for (int i = 0; i < MR_CERT_NPROFILES; i++) {
        mr_cert_profile p = MR_CERT_NPROFILES;
        assert_int_equal(mr_cert_profile_parse(mr_cert_profile_name((mr_cert_profile)i), &p), 0);
        assert_int_equal(p, i);
    }
    assert_string_equal(mr_cert_profile_name(MR_CERT_VALID), "valid");
    assert_string_equal(mr_cert_profile_name(MR_CERT_SELF_SIGNED), "self-signed");
    assert_string_equal(mr_cert_profile_name(MR_CERT_EXPIRED), "expired");
    assert_string_equal(mr_cert_profile_name(MR_CERT_WRONG_HOST), "wrong-host");
    assert_string_equal(mr_cert_profile_name(MR_CERT_UNKNOWN_CA), "unknown-ca");
    mr_cert_profile p;
    assert_int_equal(mr_cert_profile_parse("nope", &p), -1);
    assert_int_equal(mr_cert_profile_parse("", &p), -1);
    assert_int_equal(mr_cert_profile_parse(NULL, &p), -1);
}

static void test_cafile(void **state)
{
    fixture *f = *state;
    char want[160];
    snprintf(want, sizeof want, "%s/ca.pem", f->sub);
    assert_string_equal(mr_certs_cafile(f->certs), want);

    /* ca.pem holds one certificate, a CA, and no key. */
    FILE *fp = fopen(want, "r");
    assert_non_null(fp);
    char line[128];
    int certs = 0, other = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0)
            certs++;
        else if (strncmp(line, "-----BEGIN", 10) == 0)
            other++;
    }
    fclose(fp);
    assert_int_equal(certs, 1);
    assert_int_equal(other, 0);

    X509 *ca = read_ca(want);
    assert_int_equal(X509_check_ca(ca), 1);
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(ca, NID_basic_constraints, NULL, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    BASIC_CONSTRAINTS_free(bc);
    assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
    assert_true(X509_get_key_usage(ca) & KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(ca));
    assert_int_equal(X509_get_ext_by_critical(ca, 1, -1) >= 0, 1);
    X509_free(ca);

    /* Nothing but ca.pem in the directory: no key on disk. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = ca.pem", f->sub);
    assert_int_equal(system(cmd), 0);
}

static void check_leaf_extensions(X509 *leaf, X509 *ca)
{
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints, NULL, NULL);
    assert_non_null(bc);
    assert_false(bc->ca);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_check_ca(leaf), 0);
    assert_true(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE);
    assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
    assert_int_equal(X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0), 1);
    if (ca) {
        const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(leaf);
        const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(ca);
        assert_non_null(akid);
        assert_non_null(skid);
        assert_int_equal(ASN1_OCTET_STRING_cmp(akid, skid), 0);
    }
    /* A positive serial of 16 octets. */
    const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
    assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
    assert_int_equal(ASN1_STRING_length(sn), 16);
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    assert_non_null(pk);
    assert_true(EVP_PKEY_is_a(pk, "EC"));
}

static void test_valid(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_VALID);
    assert_int_equal(verify_leaf(ctx, mr_certs_cafile(f->certs)), X509_V_OK);
    assert_true(leaf_names_ok(ctx));
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    assert_int_equal(X509_check_host(leaf, "wrong.invalid", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(leaf, "10.0.0.1", 0), 0);
    X509 *ca = read_ca(mr_certs_cafile(f->certs));
    check_leaf_extensions(leaf, ca);
    /* Valid now, for about 30 days. */
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)), 1);
    assert_in_range(days, 29, 30);
    assert_int_equal(X509_cmp_current_time(X509_get0_notBefore(leaf)), -1);
    X509_free(ca);
    assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
}

static void test_expired(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_EXPIRED);
    assert_int_equal(verify_leaf(ctx, mr_certs_cafile(f->certs)), X509_V_ERR_CERT_HAS_EXPIRED);
    assert_true(leaf_names_ok(ctx));
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf)), 1);
    assert_in_range(days + 400, 400 - 366, 400 - 364);
    X509 *ca = read_ca(mr_certs_cafile(f->certs));
    check_leaf_extensions(leaf, ca);
    X509_free(ca);
}

static void test_wrong_host(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_WRONG_HOST);
    /* The chain is good; only the names are wrong. */
    assert_int_equal(verify_leaf(ctx, mr_certs_cafile(f->certs)), X509_V_OK);
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    assert_int_equal(X509_check_host(leaf, "localhost", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 0);
    assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 0);
    assert_int_equal(X509_check_host(leaf, "wrong.invalid", 0, 0, NULL), 1);
    X509 *ca = read_ca(mr_certs_cafile(f->certs));
    check_leaf_extensions(leaf, ca);
    X509_free(ca);
}

static void test_self_signed(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_SELF_SIGNED);
    int e = verify_leaf(ctx, mr_certs_cafile(f->certs));
    assert_int_equal(e, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    assert_true(leaf_names_ok(ctx));
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    check_leaf_extensions(leaf, NULL);
    X509_NAME *s = X509_get_subject_name(leaf), *i = X509_get_issuer_name(leaf);
    assert_int_equal(X509_NAME_cmp(s, i), 0);
    /* No chain is sent with it. */
    STACK_OF(X509) *chain = NULL;
    SSL_CTX_get0_chain_certs(ctx, &chain);
    assert_int_equal(chain ? sk_X509_num(chain) : 0, 0);
}

static void test_unknown_ca(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_UNKNOWN_CA);
    int e = verify_leaf(ctx, mr_certs_cafile(f->certs));
    /* The unknown CA is sent in the chain: a self-signed root nobody
     * trusts.  Without the chain it would be "unable to get local
     * issuer certificate"; either is the unknown CA. */
    assert_true(e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_true(leaf_names_ok(ctx));
    /* Its issuer is not the test CA. */
    X509 *ca = read_ca(mr_certs_cafile(f->certs));
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    assert_int_not_equal(X509_check_issued(ca, leaf), X509_V_OK);
    X509_free(ca);
    check_leaf_extensions(leaf, NULL);
}

/* Move what one side wrote to the other side's read BIO. */
static int pump(BIO *from, BIO *to)
{
    char buf[4096];
    int moved = 0, n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0) {
        assert_int_equal(BIO_write(to, buf, n), n);
        moved += n;
    }
    return moved;
}

/* A TLS handshake in memory: client_rbio <- server_wbio and back.
 * Returns the client's verify result; *hs_ok says whether both sides
 * finished. */
static long handshake(SSL_CTX *server_ctx, const char *cafile, const char *host, int *hs_ok,
                      char *app_out, size_t app_len)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(cctx);
    assert_int_equal(SSL_CTX_load_verify_locations(cctx, cafile, NULL), 1);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL *cl = SSL_new(cctx), *sv = SSL_new(server_ctx);
    assert_non_null(cl);
    assert_non_null(sv);
    BIO *c_r = BIO_new(BIO_s_mem()), *c_w = BIO_new(BIO_s_mem());
    BIO *s_r = BIO_new(BIO_s_mem()), *s_w = BIO_new(BIO_s_mem());
    SSL_set_bio(cl, c_r, c_w);
    SSL_set_bio(sv, s_r, s_w);
    SSL_set_connect_state(cl);
    SSL_set_accept_state(sv);
    assert_int_equal(SSL_set_tlsext_host_name(cl, host), 1);
    assert_int_equal(SSL_set1_host(cl, host), 1);

    int c_done = 0, s_done = 0, failed = 0;
    for (int round = 0; round < 20 && !(c_done && s_done) && !failed; round++) {
        if (!c_done) {
            int r = SSL_do_handshake(cl);
            if (r == 1)
                c_done = 1;
            else if (SSL_get_error(cl, r) != SSL_ERROR_WANT_READ)
                failed = 1;
        }
        pump(c_w, s_r);
        if (!s_done && !failed) {
            int r = SSL_do_handshake(sv);
            if (r == 1)
                s_done = 1;
            else if (SSL_get_error(sv, r) != SSL_ERROR_WANT_READ)
                failed = 1;
        }
        pump(s_w, c_r);
    }
    *hs_ok = c_done && s_done && !failed;
    long vr = SSL_get_verify_result(cl);
    if (*hs_ok && app_out) {
        /* A greeting from the server reaches the client. */
        const char *greet = "* OK ready\r\n";
        assert_int_equal(SSL_write(sv, greet, (int)strlen(greet)), (int)strlen(greet));
        pump(s_w, c_r);
        int n = SSL_read(cl, app_out, (int)app_len - 1);
        assert_true(n > 0);
        app_out[n] = '\0';
        assert_true(SSL_version(cl) >= TLS1_2_VERSION);
    }
    SSL_free(cl);
    SSL_free(sv);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return vr;
}

static void test_handshake_valid(void **state)
{
    fixture *f = *state;
    SSL_CTX *ctx = ctx_of(f, MR_CERT_VALID);
    char got[64];
    int ok = 0;
    long vr = handshake(ctx, mr_certs_cafile(f->certs), "localhost", &ok, got, sizeof got);
    assert_true(ok);
    assert_int_equal(vr, X509_V_OK);
    assert_string_equal(got, "* OK ready\r\n");
}

static void test_handshake_rejected(void **state)
{
    fixture *f = *state;
    static const struct {
        mr_cert_profile p;
        long want;
    } cases[] = {
        {MR_CERT_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED},
        {MR_CERT_WRONG_HOST, X509_V_ERR_HOSTNAME_MISMATCH},
        {MR_CERT_SELF_SIGNED, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
        {MR_CERT_UNKNOWN_CA, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY}, /* the root is not sent */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ok = 1;
        long vr = handshake(ctx_of(f, cases[i].p), mr_certs_cafile(f->certs), "localhost", &ok,
                            NULL, 0);
        if (ok || vr != cases[i].want)
            fail_msg("%s: handshake %s, verify %ld (%s), want %ld",
                     mr_cert_profile_name(cases[i].p), ok ? "passed" : "failed", vr,
                     X509_verify_cert_error_string(vr), cases[i].want);
    }
}

static void test_errors(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(mr_certs_new(NULL, NULL, err, sizeof err));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    /* A path under a regular file cannot be made. */
    assert_null(mr_certs_new("/dev/null/x", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/dev/null/x"));
    assert_null(mr_certs_ctx(NULL, MR_CERT_VALID, err, sizeof err));
    mr_certs_free(NULL);
    assert_null(mr_certs_cafile(NULL));
}

/* Another valid host name gets its own SAN entry, next to the fixed ones. */
static void test_hostname(void **state)
{
    fixture *f = *state;
    char dir[160], err[256] = "";
    snprintf(dir, sizeof dir, "%s/h", f->dir);
    mr_certs *c = mr_certs_new(dir, "mail.test", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    SSL_CTX *ctx = mr_certs_ctx(c, MR_CERT_VALID, err, sizeof err);
    assert_non_null(ctx);
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    assert_int_equal(X509_check_host(leaf, "mail.test", 0, 0, NULL), 1);
    assert_true(leaf_names_ok(ctx));
    assert_int_equal(verify_leaf(ctx, mr_certs_cafile(c)), X509_V_OK);
    char path[200];
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    mr_certs_free(c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_names),
        cmocka_unit_test(test_cafile),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_unknown_ca),
        cmocka_unit_test(test_handshake_valid),
        cmocka_unit_test(test_handshake_rejected),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hostname),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
