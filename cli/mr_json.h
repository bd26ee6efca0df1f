/*
 * mr_json.h - a parser event as a jansson object (the schema of
 * docs/cli.md, "JSON output").
 *
 * One object per response; the key order is part of the schema, so every
 * object is built in order and must be dumped with JSON_PRESERVE_ORDER.
 * Byte strings from the wire become JSON strings with every invalid UTF-8
 * sequence replaced by U+FFFD (maximal subparts, as Python's "replace");
 * the "range" key gives the exact bytes' place in the stream.
 */
#ifndef MR_JSON_H
#define MR_JSON_H

#include <jansson.h>

#include "imap/mr_imap.h"
#include "pop3/mr_pop3.h"
#include "smtp/mr_smtp.h"

/* A JSON string of p[0..len) (NULL allowed when len is 0), made valid
 * UTF-8 as above.  NULL when out of memory. */
json_t *mr_json_bytes(const uint8_t *p, size_t len);

/* {"code","reason","detail","offset"} for one error. */
json_t *mr_json_error(const mr_error *e);

/*
 * A POP3 event: MR_EV_RESPONSE, or MR_EV_ERROR (with or without a
 * response).  chunks is the number of MR_EV_BODY_CHUNK events that came
 * before a streamed response; it is written as "chunks" when show_chunks
 * is 1.  NULL when out of memory.
 */
json_t *mr_json_pop3(const mr_pop3_event *ev, uint64_t chunks, int show_chunks);

/* An SMTP event: MR_EV_RESPONSE or MR_EV_ERROR.  NULL when out of memory. */
json_t *mr_json_smtp(const mr_smtp_event *ev);

/*
 * An IMAP event: MR_EV_RESPONSE, or MR_EV_ERROR (with or without a
 * response); chunks and show_chunks as for POP3, counting the literal
 * chunks of the response (mr_json_imap.c).  NULL when out of memory.
 */
json_t *mr_json_imap(const mr_imap_event *ev, uint64_t chunks, int show_chunks);

/* One value of an IMAP value tree (docs/cli.md, "IMAP values"). */
json_t *mr_json_imap_value(const mr_imap_value *v);

/*
 * Building blocks shared by the mr_json*.c files.  Each builder returns
 * NULL when out of memory.  put and push steal v and clear *ok on failure,
 * a NULL o, a or v included, so that a builder need not check each
 * allocation: it calls json_object(), puts, and returns finish(o, ok),
 * which releases o and returns NULL when !ok.
 */
void mr_json_put(json_t *o, const char *key, json_t *v, int *ok);
void mr_json_push(json_t *a, json_t *v, int *ok);
json_t *mr_json_finish(json_t *o, int ok);
json_t *mr_json_span(mr_span s);                              /* mr_json_bytes of s */
json_t *mr_json_range(uint64_t a, uint64_t b);               /* [a,b] */
json_t *mr_json_diagnostics(const mr_diag *d, size_t n);      /* [{offset,ref,message}] */
json_t *mr_json_span_list(const mr_span *s, size_t n);        /* [string...] */

#endif /* MR_JSON_H */
