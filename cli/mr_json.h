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

#endif /* MR_JSON_H */
