/*
 * mr_utf8.h - UTF-8 validation, one sequence at a time.
 *
 * Used by the transcript writer (which writes valid UTF-8 as is and
 * escapes every other byte above 0x7F), by the CLI's JSON output (which
 * replaces invalid bytes with U+FFFD) and by the IMAP parser (UTF-8
 * mailbox names, RFC 6855 3).  Validity follows RFC 3629 4 /
 * Unicode table 3-7: no overlong forms, no surrogates, nothing above
 * U+10FFFF.  An invalid run is measured as a "maximal subpart" (Unicode
 * 3.9, U+FFFD substitution of maximal subparts), the same rule as
 * Python's bytes.decode("utf-8", "replace").
 */
#ifndef MR_UTF8_H
#define MR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Look at the sequence starting at p (len >= 1).  Returns 1 when a valid
 * sequence starts there, with *n its length (1-4); returns 0 when not,
 * with *n the length of the maximal subpart to replace (>= 1).
 */
int mr_utf8_next(const uint8_t *p, size_t len, size_t *n);

/* 1 when all of p[0..len) is valid UTF-8. */
int mr_utf8_valid(const uint8_t *p, size_t len);

#endif /* MR_UTF8_H */
