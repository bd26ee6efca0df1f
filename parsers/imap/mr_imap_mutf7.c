/*
 * mr_imap_mutf7.c - modified UTF-7 mailbox names (RFC 3501 5.1.3) to UTF-8.
 *
 * Before UTF8=ACCEPT (RFC 6855) an IMAP server sends mailbox names in
 * modified UTF-7: printable US-ASCII (0x20-0x7E) stands for itself except
 * "&"; "&-" is "&"; "&" ... "-" encloses UTF-16BE in modified base64 (","
 * for "/", no "=" padding).  The decoder is strict, because RFC 3501 5.1.3
 * gives every name exactly one form:
 *
 *   - "&" must be closed by "-" (names end in US-ASCII);
 *   - only the modified base64 alphabet may appear inside a shift;
 *   - the bits left over after the last 16-bit unit must be fewer than 6
 *     and zero (no superfluous or dirty character);
 *   - a shift must not encode printable US-ASCII, which must be sent
 *     directly (that includes "&", whose form is "&-");
 *   - two shifts must not follow each other ("&AGE-&AGE-" is "&AGEAYQ-");
 *   - UTF-16 surrogates must pair up inside a shift;
 *   - direct text must be printable US-ASCII: a raw control byte, DEL or
 *     8-bit byte is not modified UTF-7 (an 8-bit name is often UTF-8 sent
 *     without UTF8=ACCEPT; mr_imap_data.c decides what to make of it).
 */
#include "mr_imap_int.h"

/* Modified base64 (RFC 3501 5.1.3: RFC 4648 4 with "," for "/"): value, or 64 for "not in alphabet". */
static uint8_t mb64_value(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return (uint8_t)(ch - 'A');
    if (ch >= 'a' && ch <= 'z')
        return (uint8_t)(ch - 'a' + 26);
    if (ch >= '0' && ch <= '9')
        return (uint8_t)(ch - '0' + 52);
    if (ch == '+')
        return 62;
    if (ch == ',')
        return 63;
    return 64;
}

/* Write one byte at *pos if it fits, and count it. */
static void put(uint8_t *out, size_t cap, size_t *pos, uint8_t b)
{
    if (*pos < cap)
        out[*pos] = b;
    (*pos)++;
}

/* Append code point cp (<= 0x10FFFF, not a surrogate) as UTF-8. */
static void put_utf8(uint8_t *out, size_t cap, size_t *pos, uint32_t cp)
{
    if (cp < 0x80) {
        put(out, cap, pos, (uint8_t)cp);
    } else if (cp < 0x800) {
        put(out, cap, pos, (uint8_t)(0xC0 | (cp >> 6)));
        put(out, cap, pos, (uint8_t)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put(out, cap, pos, (uint8_t)(0xE0 | (cp >> 12)));
        put(out, cap, pos, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, pos, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        put(out, cap, pos, (uint8_t)(0xF0 | (cp >> 18)));
        put(out, cap, pos, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
        put(out, cap, pos, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, pos, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

/*
 * Decode the base64 run inside one shift (the bytes between "&" and "-",
 * not empty).  Returns 1 and appends UTF-8, or 0 when the run is invalid.
 */
static int decode_shift(mr_span run, uint8_t *out, size_t cap, size_t *pos)
{
    mr_cursor cur = mr_cur_from_span(run);
    uint32_t bits = 0;  /* pending bits, right-aligned */
    unsigned nbits = 0; /* how many; < 16 between units */
    uint32_t high = 0;  /* a high surrogate waiting for its low half */
    uint8_t ch;

    while (mr_cur_get_u8(&cur, &ch)) {
        uint8_t v = mb64_value(ch);
        if (v == 64)
            return 0;
        bits = (bits << 6) | v;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        uint32_t unit = (bits >> nbits) & 0xFFFF;
        bits &= (1u << nbits) - 1;
        if (high) {
            if (unit < 0xDC00 || unit > 0xDFFF)
                return 0; /* high surrogate not followed by a low one */
            put_utf8(out, cap, pos, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
            high = 0;
        } else if (unit >= 0xD800 && unit <= 0xDBFF) {
            high = unit;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            return 0; /* low surrogate alone */
        } else if (unit >= 0x20 && unit <= 0x7E) {
            return 0; /* printable US-ASCII must represent itself */
        } else {
            put_utf8(out, cap, pos, unit);
        }
    }
    /* A whole superfluous character (6+ bits) or non-zero padding bits are
     * a second form of the same name; an unpaired high surrogate is not text. */
    if (nbits >= 6 || bits != 0 || high)
        return 0;
    return 1;
}

size_t mr_imap_mutf7_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    mr_cursor cur;
    size_t pos = 0;
    int after_shift = 0; /* the previous byte closed a base64 shift */
    uint8_t ch;

    mr_cur_init(&cur, in, len);
    while (mr_cur_get_u8(&cur, &ch)) {
        if (ch != '&') {
            if (ch < 0x20 || ch > 0x7E)
                return SIZE_MAX; /* must have been encoded */
            put(out, cap, &pos, ch);
            after_shift = 0;
            continue;
        }
        mr_span run;
        if (!mr_cur_take_until(&cur, '-', &run))
            return SIZE_MAX; /* "&" never closed */
        mr_cur_skip(&cur, 1);
        if (run.len == 0) { /* "&-" */
            put(out, cap, &pos, '&');
            after_shift = 0;
            continue;
        }
        if (after_shift)
            return SIZE_MAX; /* "-&" inside what must be one shift */
        if (!decode_shift(run, out, cap, &pos))
            return SIZE_MAX;
        after_shift = 1;
    }
    return pos;
}
