/*
 * mr_sasl.h - the server side of the SASL mechanisms the fake servers
 * offer (RFC 4422): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login),
 * CRAM-MD5 (RFC 2195) and XOAUTH2 (Google's, IMAP and SMTP).  Protocol
 * neutral: the POP3 (RFC 5034), IMAP (RFC 9051 6.2.2) and SMTP (RFC 4954)
 * modules frame the exchange and move base64 text in and out.
 */
#ifndef MR_SASL_H
#define MR_SASL_H

#include <stddef.h>
#include <stdint.h>

typedef enum mr_sasl_mech {
    MR_SASL_PLAIN = 0,
    MR_SASL_LOGIN,
    MR_SASL_CRAM_MD5,
    MR_SASL_XOAUTH2,
    MR_SASL_NMECHS
} mr_sasl_mech;

/* Parse a mechanism name (case-insensitive); -1 if not offered. */
int mr_sasl_mech_parse(const char *name, size_t len, mr_sasl_mech *out);
const char *mr_sasl_mech_name(mr_sasl_mech m);

typedef enum mr_sasl_status {
    MR_SASL_CHALLENGE = 0,  /* send the base64 challenge in out, read a response */
    MR_SASL_OK,             /* authenticated as the configured user */
    MR_SASL_FAIL,           /* wrong credentials */
    MR_SASL_MALFORMED,      /* not base64, wrong shape */
    MR_SASL_ABORTED         /* the client sent "*" (RFC 4422 3.5) */
} mr_sasl_status;

typedef struct mr_sasl {
    mr_sasl_mech mech;
    int step;
    char challenge[128];    /* CRAM-MD5: the challenge sent */
    char login_user[256];   /* LOGIN: the user name while the password is asked */
    const char *user, *password;
    const char *hostname;
    char authenticated[256]; /* the authentication identity on OK */
} mr_sasl;

/* Begin an exchange; initial: the client's initial response (base64, or
 * "=" for an empty one, RFC 4954 4), or NULL.  Writes the base64
 * challenge to send (NUL-terminated) into out when it returns
 * MR_SASL_CHALLENGE. */
mr_sasl_status mr_sasl_start(mr_sasl *x, mr_sasl_mech m, const char *user, const char *password,
                             const char *hostname, const uint8_t *initial, size_t initial_len,
                             char *out, size_t outlen);
/* The client's next response line (base64, without CRLF). */
mr_sasl_status mr_sasl_step(mr_sasl *x, const uint8_t *resp, size_t len, char *out, size_t outlen);

#endif
