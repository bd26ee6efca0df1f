/*
 * mr_base64.c - RFC 4648 section 4 base64 decoder.
 */
#include "mr_base64.h"

static int val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

mr_b64_result mr_base64_decode(mr_span in, uint8_t *out, size_t *out_len, size_t *err_at)
{
    uint32_t acc = 0;
    size_t nbits = 0, o = 0, i = 0, data_chars = 0, pad = 0;
    for (; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '=') {
            pad++;
            continue;
        }
        int v = val(c);
        if (v < 0 || pad) { /* no data after padding */
            *err_at = i;
            return MR_B64_INVALID;
        }
        data_chars++;
        acc = (acc << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[o++] = (uint8_t)(acc >> nbits);
        }
    }
    *out_len = o;
    /* One data char in a final group cannot encode a byte; padding at most 2. */
    if (data_chars % 4 == 1 || pad > 2 || (pad && (data_chars + pad) % 4 != 0)) {
        *err_at = in.len ? in.len - 1 : 0;
        return MR_B64_INVALID;
    }
    return data_chars % 4 == 0 || pad ? MR_B64_OK : MR_B64_UNPADDED;
}
