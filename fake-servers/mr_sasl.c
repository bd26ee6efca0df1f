/*
 * mr_sasl.c - the server side of PLAIN (RFC 4616 2), LOGIN
 * (draft-murchison-sasl-login-00), CRAM-MD5 (RFC 2195 2) and XOAUTH2
 * (https://developers.google.com/gmail/imap/xoauth2-protocol), as
 * mr_sasl.h says.  RFC 4422 3.5: "*" aborts an exchange at any step.
 *
 * Bounds: a response decodes into at most MAX_DECODED octets (longer ones
 * are MALFORMED); each identity is at most 255 octets; challenges are a
 * fixed size.  Base64 (RFC 4648 4) is decoded with the parsers' decoder;
 * unpadded input is accepted (some clients drop the padding).
 */
#include "mr_sasl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/mr_base64.h"

#define MAX_DECODED 1024

static const char *const mech_names[MR_SASL_NMECHS] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};

/* The JSON error of a failed XOAUTH2 exchange (Google's document). */
static const char xoauth2_error[] =
    "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}";

int mr_sasl_mech_parse(const char *name, size_t len, mr_sasl_mech *out)
{
    for (int m = 0; m < MR_SASL_NMECHS; m++) {
        size_t k = strlen(mech_names[m]);
        if (k != len)
            continue;
        size_t i = 0;
        for (; i < k; i++) {
            char c = name[i];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (c != mech_names[m][i])
                break;
        }
        if (i == k) {
            *out = (mr_sasl_mech)m;
            return 0;
        }
    }
    return -1;
}

const char *mr_sasl_mech_name(mr_sasl_mech m)
{
    return (unsigned)m < MR_SASL_NMECHS ? mech_names[m] : "?";
}

/* Base64-encode p[0..n) into out (NUL-terminated); -1 if it does not fit. */
static int b64_encode(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (n + 2) / 3 * 4 + 1;
    if (!out || outlen < need)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return 0;
}

static mr_sasl_status challenge(mr_sasl *x, const char *text, char *out, size_t outlen)
{
    (void)x;
    if (b64_encode((const uint8_t *)text, strlen(text), out, outlen) < 0)
        return MR_SASL_MALFORMED;
    return MR_SASL_CHALLENGE;
}

/* Decode a response; -1 when it is not base64 or too long. */
static int decode(const uint8_t *p, size_t n, uint8_t *out, size_t *out_len)
{
    if (mr_base64_max_decoded(n) > MAX_DECODED)
        return -1;
    size_t err_at = 0;
    mr_span sp = {p, n};
    if (mr_base64_decode(sp, out, out_len, &err_at) == MR_B64_INVALID)
        return -1;
    return 0;
}

/* a[0..alen) equals the C string b. */
static int eq(const uint8_t *a, size_t alen, const char *b)
{
    size_t bl = strlen(b);
    return alen == bl && (bl == 0 || CRYPTO_memcmp(a, b, bl) == 0);
}

static mr_sasl_status ok(mr_sasl *x, const uint8_t *id, size_t len)
{
    if (len >= sizeof x->authenticated)
        len = sizeof x->authenticated - 1;
    memcpy(x->authenticated, id, len);
    x->authenticated[len] = 0;
    x->step = -1; /* done */
    return MR_SASL_OK;
}

/* RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd. */
static mr_sasl_status plain(mr_sasl *x, const uint8_t *d, size_t n)
{
    const uint8_t *nul1 = memchr(d, 0, n);
    if (!nul1)
        return MR_SASL_MALFORMED;
    size_t zlen = (size_t)(nul1 - d);
    const uint8_t *c = nul1 + 1;
    size_t rest = n - zlen - 1;
    const uint8_t *nul2 = memchr(c, 0, rest);
    if (!nul2)
        return MR_SASL_MALFORMED;
    size_t clen = (size_t)(nul2 - c);
    const uint8_t *pw = nul2 + 1;
    size_t plen = rest - clen - 1;
    if (clen == 0 || clen > 255 || zlen > 255 || plen > 255 || memchr(pw, 0, plen))
        return MR_SASL_MALFORMED;
    x->step = -1;
    if (!eq(c, clen, x->user) || !eq(pw, plen, x->password))
        return MR_SASL_FAIL;
    /* We authorise only the identity itself (RFC 4616 2: an authzid the
     * server does not allow fails the exchange). */
    if (zlen && (zlen != clen || memcmp(d, c, clen) != 0))
        return MR_SASL_FAIL;
    return ok(x, c, clen);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* RFC 2195 2: "user SP 32 lower-case hex digits of HMAC-MD5(password, challenge)". */
static mr_sasl_status cram(mr_sasl *x, const uint8_t *d, size_t n)
{
    x->step = -1;
    if (n < 34 || d[n - 33] != ' ')
        return MR_SASL_MALFORMED;
    size_t ulen = n - 33;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    if (!HMAC(EVP_md5(), x->password, (int)strlen(x->password), (const uint8_t *)x->challenge,
              strlen(x->challenge), mac, &maclen) || maclen != 16)
        return MR_SASL_FAIL;
    char want[33];
    hex(mac, 16, want);
    int good = 1;
    for (size_t i = 0; i < 32; i++) {
        uint8_t c = d[n - 32 + i];
        if (c >= 'A' && c <= 'F')
            c = (uint8_t)(c - 'A' + 'a');
        good &= c == (uint8_t)want[i];
    }
    if (!good || !eq(d, ulen, x->user))
        return MR_SASL_FAIL;
    return ok(x, d, ulen);
}

/* "user=" USER ^A "auth=Bearer " TOKEN ^A ^A; 1 and the fields, or 0. */
static int xoauth2_parse(const uint8_t *d, size_t n, const uint8_t **user, size_t *ulen,
                         const uint8_t **tok, size_t *tlen)
{
    if (n < 2 || d[n - 1] != 1 || d[n - 2] != 1)
        return 0;
    *user = *tok = NULL;
    size_t i = 0;
    while (i < n - 1) {
        const uint8_t *f = d + i;
        const uint8_t *e = memchr(f, 1, n - i);
        size_t fl = (size_t)(e - f);
        if (fl == 0)
            break;
        if (fl >= 5 && memcmp(f, "user=", 5) == 0) {
            *user = f + 5;
            *ulen = fl - 5;
        } else if (fl >= 12 && memcmp(f, "auth=", 5) == 0 && strncasecmp((const char *)f + 5, "Bearer ", 7) == 0) {
            *tok = f + 12;
            *tlen = fl - 12;
        }
        i += fl + 1;
    }
    return *user && *tok && i == n - 1;
}

static mr_sasl_status xoauth2(mr_sasl *x, const uint8_t *d, size_t n, char *out, size_t outlen)
{
    const uint8_t *u, *t;
    size_t ul = 0, tl = 0;
    if (!xoauth2_parse(d, n, &u, &ul, &t, &tl)) {
        x->step = -1;
        return MR_SASL_MALFORMED;
    }
    if (eq(u, ul, x->user) && eq(t, tl, x->password))
        return ok(x, u, ul);
    /* Google: the error is a challenge; the client answers it with an
     * empty response and then gets the failure. */
    x->step = 1;
    return challenge(x, xoauth2_error, out, outlen);
}

static void cram_challenge(mr_sasl *x)
{
    uint32_t rnd = 0;
    if (RAND_bytes((unsigned char *)&rnd, sizeof rnd) != 1)
        rnd = (uint32_t)getpid() ^ (uint32_t)clock();
    snprintf(x->challenge, sizeof x->challenge, "<%u.%lld@%.80s>", (unsigned)rnd,
             (long long)time(NULL), x->hostname ? x->hostname : "localhost");
}

mr_sasl_status mr_sasl_start(mr_sasl *x, mr_sasl_mech m, const char *user, const char *password,
                             const char *hostname, const uint8_t *initial, size_t initial_len,
                             char *out, size_t outlen)
{
    memset(x, 0, sizeof *x);
    x->mech = m;
    x->user = user ? user : "";
    x->password = password ? password : "";
    x->hostname = hostname ? hostname : "localhost";
    if (out && outlen)
        out[0] = 0;
    /* RFC 4954 4, RFC 5034 4: "=" is an empty initial response. */
    int has_initial = initial != NULL;
    if (has_initial && initial_len == 1 && initial[0] == '=')
        initial_len = 0;
    switch (m) {
    case MR_SASL_PLAIN:
    case MR_SASL_XOAUTH2:
        if (has_initial)
            return mr_sasl_step(x, initial, initial_len, out, outlen);
        return challenge(x, "", out, outlen);
    case MR_SASL_LOGIN:
        if (has_initial)
            return mr_sasl_step(x, initial, initial_len, out, outlen);
        return challenge(x, "Username:", out, outlen);
    case MR_SASL_CRAM_MD5:
        /* A server-first mechanism takes no initial response (RFC 4422 3.3). */
        if (has_initial) {
            x->step = -1;
            return MR_SASL_MALFORMED;
        }
        cram_challenge(x);
        return challenge(x, x->challenge, out, outlen);
    default:
        x->step = -1;
        return MR_SASL_MALFORMED;
    }
}

mr_sasl_status mr_sasl_step(mr_sasl *x, const uint8_t *resp, size_t len, char *out, size_t outlen)
{
    if (out && outlen)
        out[0] = 0;
    if (len == 1 && resp[0] == '*') {
        x->step = -1;
        return MR_SASL_ABORTED;
    }
    if (x->step < 0)
        return MR_SASL_MALFORMED;
    uint8_t d[MAX_DECODED];
    size_t n = 0;
    if (decode(resp, len, d, &n) < 0) {
        x->step = -1;
        return MR_SASL_MALFORMED;
    }
    switch (x->mech) {
    case MR_SASL_PLAIN:
        return plain(x, d, n);
    case MR_SASL_LOGIN:
        if (x->step == 0) {
            if (n >= sizeof x->login_user || memchr(d, 0, n)) {
                x->step = -1;
                return MR_SASL_MALFORMED;
            }
            memcpy(x->login_user, d, n);
            x->login_user[n] = 0;
            x->step = 1;
            return challenge(x, "Password:", out, outlen);
        }
        x->step = -1;
        if (strcmp(x->login_user, x->user) != 0 || !eq(d, n, x->password))
            return MR_SASL_FAIL;
        return ok(x, (const uint8_t *)x->login_user, strlen(x->login_user));
    case MR_SASL_CRAM_MD5:
        return cram(x, d, n);
    case MR_SASL_XOAUTH2:
        if (x->step == 1) { /* the client's answer to the error challenge */
            x->step = -1;
            return MR_SASL_FAIL;
        }
        return xoauth2(x, d, n, out, outlen);
    default:
        x->step = -1;
        return MR_SASL_MALFORMED;
    }
}
