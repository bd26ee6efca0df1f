/*
 * mr_utf8.c - UTF-8 validation, one sequence at a time (see mr_utf8.h).
 *
 * Well-formed sequences (Unicode table 3-7):
 *   00..7F
 *   C2..DF 80..BF
 *   E0     A0..BF 80..BF
 *   E1..EC 80..BF 80..BF
 *   ED     80..9F 80..BF
 *   EE..EF 80..BF 80..BF
 *   F0     90..BF 80..BF 80..BF
 *   F1..F3 80..BF 80..BF 80..BF
 *   F4     80..8F 80..BF 80..BF
 */
#include "mr_utf8.h"

int mr_utf8_next(const uint8_t *p, size_t len, size_t *n)
{
    uint8_t c = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */

    if (c < 0x80) {
        *n = 1;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *n = 1; /* 80..C1, F5..FF never start a sequence */
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        uint8_t b;
        if (i >= len) {
            *n = i;
            return 0;
        }
        b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
            *n = i;
            return 0;
        }
    }
    *n = need + 1;
    return 1;
}

int mr_utf8_valid(const uint8_t *p, size_t len)
{
    size_t i = 0, n;
    while (i < len) {
        if (!mr_utf8_next(p + i, len - i, &n))
            return 0;
        i += n;
    }
    return 1;
}
