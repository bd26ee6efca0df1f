/*
 * mr_mime.h - what the fake IMAP server computes from a message's MIME
 * structure, through GMime: ENVELOPE, BODY and BODYSTRUCTURE, the bytes of
 * a BODY[section], and what SEARCH looks at.
 *
 * Every function appends IMAP wire syntax (RFC 9051 7.5.2, 9) to an
 * mr_buf, quoting strings or sending them as literals when they hold CR,
 * LF, '"', '\\' or 8-bit bytes.  Parsing is lazy: the view is built on the
 * first call for a message and kept in its mr_msgdata.
 */
#ifndef MR_MIME_H
#define MR_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "mr_buf.h"
#include "mr_mailbox.h"

/* Call once before any other function (g_mime_init). */
void mr_mime_init(void);
/* Free the cached view of d (called when d's last reference goes). */
void mr_mime_release(mr_msgdata *d);

/* ENVELOPE (RFC 9051 7.5.2): date subject from sender reply-to to cc bcc
 * in-reply-to message-id, addresses as (name adl mailbox host), groups
 * as RFC 9051 says. */
void mr_mime_envelope(mr_msgdata *d, mr_buf *out);
/* BODYSTRUCTURE (extensible = 1) or BODY (extensible = 0). */
void mr_mime_bodystructure(mr_msgdata *d, int extensible, mr_buf *out);

/* The bytes of BODY[section] (RFC 9051 6.4.5): section is the text between
 * the brackets: "", "HEADER", "TEXT", "1", "1.2.MIME", "2.HEADER",
 * "HEADER.FIELDS (FROM TO)", "HEADER.FIELDS.NOT (X-A)".  Appends the
 * bytes (no literal framing) to out.  Returns 0, or -1 when the section
 * text is malformed (the server answers BAD).  A part that does not
 * exist gives empty bytes (0). */
int mr_mime_section(mr_msgdata *d, const char *section, size_t len, mr_buf *out);

/* The unfolded value of the first header field NAME (case-insensitive),
 * or NULL; for SEARCH HEADER/FROM/TO/CC/BCC/SUBJECT and SORT-like uses.
 * Valid while d lives. */
const char *mr_mime_header(mr_msgdata *d, const char *name);
/* SEARCH BODY (body_only = 1) and TEXT (0): case-insensitive substring
 * match over the decoded text parts (and headers for TEXT). */
int mr_mime_contains(mr_msgdata *d, const char *needle, int body_only);
/* The Date: header as time_t, or (time_t)-1 (SEARCH SENTBEFORE/ON/SINCE). */
long long mr_mime_date(mr_msgdata *d);

#endif
