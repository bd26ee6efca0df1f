/*
 * mr_cli_parse.h - the engine behind "mailrig parse" (docs/cli.md), as a
 * library so that tests can drive it with any feeding strategy.
 *
 * One stream = one fresh parser.  The engine feeds server bytes to the
 * POP3, SMTP or IMAP parser, writes one JSON object per response to
 * cfg.out (JSON Lines, mr_json.h), or with cfg.print the IMAP response in
 * canonical wire form (mr_imap_print()), and one "NAME:OFFSET: message"
 * line per error to cfg.err.  In dialogue mode it also reads the client's side of a
 * transcript: commands are queued with mr_*_expect_line() in file order,
 * interleaved with the server segments, and client bytes that are not
 * commands are skipped:
 *
 *   POP3  lines sent while mr_pop3_in_sasl() (SASL responses, RFC 5034 4);
 *   SMTP  lines sent while the last reply was 334 (SASL, RFC 4954 4);
 *         after a 354 reply to DATA, the message up to and including
 *         CRLF "." CRLF (RFC 5321 4.1.1.4), after which a DATA_END reply
 *         is expected; after "BDAT n [LAST]", exactly n bytes (RFC 3030 2).
 *   IMAP  the literal data after a line ending in {n}, {n+} or ~{n}
 *         (RFC 9051 4.3, RFC 7888, RFC 3516), and the rest of the command
 *         after it; a synchronizing literal only once the server sent "+"
 *         (a tagged reply instead cancels the command); lines sent while
 *         mr_imap_in_sasl() (RFC 9051 6.2.2); "DONE" ending IDLE (RFC 2177).
 *
 * How server bytes are cut into mr_*_next() calls is the feeding strategy;
 * a correct parser gives the same output for every strategy, which is what
 * tests/unit/test_chunking.c checks.
 */
#ifndef MR_CLI_PARSE_H
#define MR_CLI_PARSE_H

#include <stdint.h>
#include <stdio.h>

#include "core/mr_core.h"
#include "mr_transcript.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses of "mailrig parse" (docs/cli.md, "Exit status"). */
enum {
    MR_CLI_EXIT_OK = 0,     /* every response parsed */
    MR_CLI_EXIT_FAILED = 1, /* at least one error event */
    MR_CLI_EXIT_USAGE = 2   /* bad usage, unreadable input, transcript syntax error, no memory */
};

typedef enum mr_cli_protocol { MR_CLI_POP3, MR_CLI_SMTP, MR_CLI_IMAP } mr_cli_protocol;

/* "pop3", "smtp", "imap". */
const char *mr_cli_protocol_name(mr_cli_protocol p);

typedef enum mr_cli_feed_kind {
    MR_FEED_SEGMENTS = 0, /* each server segment in its own call (raw mode: as WHOLE) */
    MR_FEED_WHOLE,        /* raw: everything in one call; dialogue: each run of
                           * consecutive server segments in one call */
    MR_FEED_PIECES,       /* pieces of `piece` bytes; in dialogue mode counted
                           * from the start of each run */
    MR_FEED_SPLITS        /* cut at the given offsets of the server byte stream
                           * (and, in dialogue mode, at the ends of runs) */
} mr_cli_feed_kind;

/*
 * A run is a maximal sequence of server segments with no client segment
 * between them (events and metadata do not end a run).  Client bytes are
 * handled between runs, so re-cutting a run never changes the order of
 * client and server bytes.
 */
typedef struct mr_cli_feed {
    mr_cli_feed_kind kind;
    size_t piece;           /* MR_FEED_PIECES: >= 1 */
    const uint64_t *splits; /* MR_FEED_SPLITS: ascending server stream offsets */
    size_t n_splits;
} mr_cli_feed;

typedef struct mr_cli_config {
    mr_cli_protocol protocol;
    mr_options options;     /* limits and mode, as for mr_pop3_new()/mr_smtp_new()/mr_imap_new() */
    int dialogue;           /* the input is a transcript (--dialogue) */
    mr_cli_feed feed;
    FILE *out;              /* JSON Lines */
    FILE *err;              /* error messages */
    const char *name;       /* the input's name in messages: a path or "<stdin>" */
    int hide_chunks;        /* leave out "chunks" (the only key that depends on feeding) */
    int print;              /* IMAP: write responses in wire form (mr_imap_print), not JSON */
    int no_greeting;        /* IMAP: the stream starts after the greeting (mr_imap_skip_greeting) */
} mr_cli_config;

/* ---------------------------------------------------------- one stream */

typedef struct mr_cli_stream mr_cli_stream;

/* A fresh parser for cfg (which must outlive the stream).  NULL when out
 * of memory. */
mr_cli_stream *mr_cli_stream_new(const mr_cli_config *cfg);
void mr_cli_stream_free(mr_cli_stream *s); /* NULL is a no-op */

/* For messages in dialogue mode: errors name the transcript line of the
 * server segment they fall in.  Indexes t's segments (t need not outlive
 * the call); without memory for the index, messages go without lines. */
void mr_cli_stream_set_transcript(mr_cli_stream *s, const mr_transcript *t);

/* Feed server bytes as one mr_*_next() call sequence (one "chunk"). */
void mr_cli_stream_server(mr_cli_stream *s, const uint8_t *data, size_t len);

/* Client bytes (dialogue mode): commands are queued, the rest skipped. */
void mr_cli_stream_client(mr_cli_stream *s, const uint8_t *data, size_t len);

/* End of input: mr_*_finish().  Returns the stream's exit status. */
int mr_cli_stream_finish(mr_cli_stream *s);

/* ---------------------------------------------------------- whole inputs */

/* Raw mode: data is what the server sent; cfg.feed says how to cut it. */
int mr_cli_parse_bytes(const mr_cli_config *cfg, const uint8_t *data, size_t len);

/* Dialogue mode on a transcript read with mr_transcript_read().  Fails
 * with MR_CLI_EXIT_USAGE when its "# protocol:" is not cfg->protocol. */
int mr_cli_parse_transcript(const mr_cli_config *cfg, const mr_transcript *t);

/*
 * One FILE of the command line ("-" = stdin, named "<stdin>"): raw or
 * dialogue as cfg->dialogue says.  Raw input is read in blocks (no size
 * bound: the parser bounds its memory); a transcript is read whole,
 * bounded by MR_TRANSCRIPT_DEFAULT_MAX_SIZE.  cfg->name is ignored.
 */
int mr_cli_parse_file(const mr_cli_config *cfg, const char *path);

/*
 * Read all of f into a malloc()ed buffer (*data, free it; may be NULL when
 * *len is 0).  Returns 0, -1 on a read error (errno set), -2 when f holds
 * more than max bytes, -3 when out of memory.
 */
int mr_cli_slurp(FILE *f, size_t max, uint8_t **data, size_t *len);

/* ---------------------------------------------------------- command line */

/* mr_cli_parse_args() returns this for --help. */
#define MR_CLI_HELP 3

/*
 * Parse the arguments after "parse": PROTOCOL, options, FILEs, in any
 * order ("--" ends the options; "-" is stdin).  Fills *cfg (out, err and
 * name are left NULL) and files[0..*n_files) (pointers into argv; files
 * needs room for argc entries).  Returns 0, MR_CLI_HELP, or
 * MR_CLI_EXIT_USAGE after printing the reason to err.
 */
int mr_cli_parse_args(int argc, char *const argv[], mr_cli_config *cfg, const char **files,
                      size_t *n_files, FILE *err);

/* The usage text of "mailrig parse". */
void mr_cli_parse_usage(FILE *f);

/* "mailrig parse ARGS...": returns the exit status. */
int mr_cli_parse_main(int argc, char *const argv[], FILE *out, FILE *err);

#ifdef __cplusplus
}
#endif
#endif /* MR_CLI_PARSE_H */
