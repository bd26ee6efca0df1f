/*
 * mr_base64.h - base64 decoding for SASL challenges (RFC 4648 4).
 *
 * Used for POP3 "+ base64" continuations (RFC 5034 4) and SMTP 334
 * challenges (RFC 4954 4).  Internal to the parsers.
 */
#ifndef MR_BASE64_H
#define MR_BASE64_H

#include "mr_core.h"

/* Upper bound of the decoded size of n input bytes. */
static inline size_t mr_base64_max_decoded(size_t n) { return n / 4 * 3 + 3; }

typedef enum mr_b64_result {
    MR_B64_OK = 0,        /* canonical: padded to a multiple of 4 */
    MR_B64_UNPADDED,      /* valid but the final '=' padding is missing */
    MR_B64_INVALID        /* a byte outside the alphabet, or bad padding */
} mr_b64_result;

/*
 * Decode in into out (room for mr_base64_max_decoded(in.len) bytes);
 * *out_len gets the decoded length.  On MR_B64_INVALID, *err_at gets the
 * index of the offending input byte.
 */
mr_b64_result mr_base64_decode(mr_span in, uint8_t *out, size_t *out_len, size_t *err_at);

#endif /* MR_BASE64_H */
