/*
 * mr_certs.h - test certificates made at run time (no private key is ever
 * written or committed) and the OpenSSL server contexts that use them.
 *
 * A test CA (EC P-256) signs a leaf for each profile; the CA certificate
 * is written to DIR/ca.pem so that a client can be pointed at it.  The
 * keys stay in memory.
 */
#ifndef MR_CERTS_H
#define MR_CERTS_H

#include <openssl/ssl.h>

typedef enum mr_cert_profile {
    MR_CERT_VALID = 0,    /* signed by the test CA, for localhost,
                             127.0.0.1 and ::1, valid now */
    MR_CERT_SELF_SIGNED,  /* the right names, but signed by itself */
    MR_CERT_EXPIRED,      /* signed by the test CA, expired a year ago */
    MR_CERT_WRONG_HOST,   /* signed by the test CA, for wrong.invalid only */
    MR_CERT_UNKNOWN_CA,   /* the right names, signed by another CA whose
                             certificate is not written anywhere */
    MR_CERT_NPROFILES
} mr_cert_profile;

const char *mr_cert_profile_name(mr_cert_profile p);   /* "valid", "self-signed", ... */
int mr_cert_profile_parse(const char *name, mr_cert_profile *out); /* 0 ok, -1 */

typedef struct mr_certs mr_certs;

/* Make the test CA and write DIR/ca.pem (DIR is created if needed).
 * hostname: the valid name (default "localhost").  NULL on error, with a
 * message in err. */
mr_certs *mr_certs_new(const char *dir, const char *hostname, char *err, size_t errlen);
void mr_certs_free(mr_certs *c);
const char *mr_certs_cafile(const mr_certs *c);       /* DIR/ca.pem */

/* A server context presenting the profile's certificate (leaf and key
 * made on first use, then cached); TLS 1.2 and 1.3.  Owned by c. */
SSL_CTX *mr_certs_ctx(mr_certs *c, mr_cert_profile p, char *err, size_t errlen);

#endif
