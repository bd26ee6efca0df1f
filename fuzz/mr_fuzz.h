/*
 * mr_fuzz.h - what the mailrig fuzz targets share (docs/fuzzing.md).
 *
 * Every target is a libFuzzer entry point, LLVMFuzzerTestOneInput().  The
 * first bytes of an input choose the configuration (STYLE.md, after
 * libxml2 and llhttp): which command a response answers, strict or
 * lenient, small limits, streaming, how the bytes are cut into calls, and
 * which allocation fails.  The rest is what the server sent.  So one
 * target covers many modes, and a crash reproducer carries its mode.
 *
 * A target does not only wait for a crash: it checks the parsers'
 * contracts after every event (offsets inside what was fed, ranges in
 * order, spans readable, counts consistent, memory within the limits) and
 * calls mr_fuzz_fail(), which prints what broke and aborts, so that the
 * fuzzer saves the input.
 *
 * The same sources link with libFuzzer (make fuzz, fuzz/build.sh), with
 * AFL++'s driver (make fuzz-afl), or with fuzz/regress_main.c, a plain
 * main() that replays files (make fuzz-regress, part of make test).
 */
#ifndef MR_FUZZ_H
#define MR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/mr_core.h"
#include "mr_cli_parse.h"
#include "mr_testalloc.h"

/* The entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "mr_fuzz: FILE:LINE: check `what` failed: MESSAGE" and abort(). */
_Noreturn void mr_fuzz_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Check an invariant; the message is a printf format and its arguments. */
#define MR_FUZZ_CHECK(cond, ...) \
    ((cond) ? (void)0 : mr_fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))

/* ------------------------------------------------------------ the input */

/*
 * An input: a fixed-size header of configuration bytes, then the data.
 * Header bytes missing from a short input read as 0, so every input is
 * valid; the data is then empty.
 */
typedef struct mr_fuzz_input {
    const uint8_t *header;
    size_t header_len; /* bytes of header present (<= the size asked for) */
    const uint8_t *data;
    size_t len;
} mr_fuzz_input;

/* Split an input after n header bytes. */
mr_fuzz_input mr_fuzz_split(const uint8_t *data, size_t size, size_t n);

/* Header byte i, 0 when the input was too short to hold it. */
uint8_t mr_fuzz_hdr(const mr_fuzz_input *in, size_t i);

/* ------------------------------------------------------------ options */

/* The flags byte, shared by the targets that take options. */
enum {
    MR_FUZZ_STRICT = 1 << 0,       /* MR_STRICT */
    MR_FUZZ_SMALL_LIMITS = 1 << 1, /* mr_fuzz_small_limits(): every limit within reach */
    MR_FUZZ_STREAM = 1 << 2,       /* stream_threshold 8: stream every body and literal */
    MR_FUZZ_FAIL_ALLOC = 1 << 3,   /* the allocator fails from the Nth call on */
    MR_FUZZ_FEED_SHIFT = 4         /* bits 4-6: the feeding (mr_fuzz_feeder) */
};

/* Limits small enough that random inputs reach every one of them. */
void mr_fuzz_small_limits(mr_limits *l);

/* The counting allocator (common/mr_testalloc.h), sticky: with the
 * failing-allocator flag every call from number budget + 1 on fails. */
typedef mr_test_alloc mr_fuzz_alloc;

/*
 * Options from the flags byte: mode, limits, stream threshold; with
 * MR_FUZZ_FAIL_ALLOC and fa not NULL, an allocator failing from call
 * number budget + 1 on.  fa (if given) is always initialised and used,
 * so that peak memory is measured.
 */
void mr_fuzz_options(uint8_t flags, uint8_t budget, mr_fuzz_alloc *fa, mr_options *o);

/*
 * The physical memory a parser may hold at any time under limits l: a
 * small factor of max_memory and max_line (mr_store.h), plus the pending
 * commands and a fixed part.  Checked against mr_fuzz_alloc.peak.
 */
size_t mr_fuzz_memory_bound(const mr_limits *l);

/* ------------------------------------------------------------ feeding */

/*
 * How the data is cut into next() calls, from the 3 feeding bits of the
 * flags byte: whole, 1, 2, 3, 7 or 64 bytes at a time, 4 KiB reads, or
 * pieces of varying size (1-32 bytes) from a generator seeded by seed.
 * Each piece is copied into a buffer of its exact size, freed after the
 * call sequence that consumed it, so that ASan reports a parser that
 * reads past a piece or keeps a pointer into an old one.
 */
typedef struct mr_fuzz_feeder {
    unsigned kind;
    uint32_t state;
} mr_fuzz_feeder;

void mr_fuzz_feeder_init(mr_fuzz_feeder *f, uint8_t flags, uint8_t seed);
/* The size of the next piece (>= 1, <= left; 0 when left is 0). */
size_t mr_fuzz_feeder_next(mr_fuzz_feeder *f, size_t left);
/* A malloc()ed copy of p[0..n) (n may be 0; p NULL: n bytes, not set);
 * aborts when out of memory. */
uint8_t *mr_fuzz_copy(const uint8_t *p, size_t n);

/* ------------------------------------------------------------ checks */

/* Read every byte of p[0..n), so that ASan reports a span that is not
 * readable; returns a sum that callers may ignore. */
unsigned mr_fuzz_touch(const void *p, size_t n);

/* What a target knows about the stream so far. */
typedef struct mr_fuzz_stream {
    const mr_options *opt;
    uint64_t seen;     /* bytes fed so far, the current piece included */
    uint64_t last_end; /* end of the last response delivered */
    uint64_t events;   /* events so far */
    uint64_t digest;   /* of every event's type, range and error: runs compare it */
} mr_fuzz_stream;

/* Fold v into the stream's digest (FNV-1a over its 8 bytes). */
void mr_fuzz_digest(mr_fuzz_stream *st, uint64_t v);

/*
 * An error: a known code other than OK, its name and reason, an offset
 * within what was fed, a readable detail.
 */
void mr_fuzz_check_error(const mr_fuzz_stream *st, const mr_error *e);

/*
 * A response's range [offset, end): not empty, after the previous
 * response's end, within what was fed.  Updates st->last_end.
 */
void mr_fuzz_check_range(mr_fuzz_stream *st, uint64_t offset, uint64_t end);

/* A line of a response: inside [lo, hi), readable, a valid line end. */
void mr_fuzz_check_line(const mr_line *l, uint64_t lo, uint64_t hi);

/* Diagnostics: none in lenient mode; in strict mode at most max_diags,
 * each with a rule and a message, at an offset within what was fed. */
void mr_fuzz_check_diags(const mr_fuzz_stream *st, const mr_diag *d, size_t n, size_t dropped);

/*
 * Events must make progress: over a stream, at most two events per byte
 * fed plus a constant (each response ends in a line end, each chunk holds
 * a byte).  Counts one event.
 */
void mr_fuzz_count_event(mr_fuzz_stream *st);

/* ------------------------------------------------------------ the driver */

/*
 * One parser under test, as the driver sees it.  ctx is the target's own
 * state (it holds the last event); p is the parser.  The driver feeds the
 * data as the feeder says, counts and bounds events, checks that a fatal
 * error repeats and consumes nothing, ends the stream with finish(),
 * checks the stream offset and the peak memory against the limits; then
 * (unless allocations fail) resets the parser, runs the same data the
 * same way again and checks that the events are the same (digest); and
 * checks that everything allocated was freed.
 */
typedef struct mr_fuzz_ops {
    void *(*create)(const mr_options *o);
    void (*destroy)(void *p);
    void (*before)(void *p, void *ctx);   /* before each next(): queue commands (may be NULL) */
    mr_event_type (*next)(void *p, const uint8_t *data, size_t len, size_t *used, void *ctx);
    mr_event_type (*finish)(void *p, void *ctx);
    void (*reset)(void *p, void *ctx);    /* mr_*_reset(), and the target's own setup again */
    const mr_error *(*error)(const void *ctx); /* the error of the last MR_EV_ERROR */
    void (*check)(mr_fuzz_stream *st, void *p, void *ctx, mr_event_type t); /* one event */
    uint64_t (*offset)(const void *p);
} mr_fuzz_ops;

/* Run ops over in->data with the options of the flags byte (header bytes
 * flags, seed for the feeder, and budget for the failing allocator). */
void mr_fuzz_drive(const mr_fuzz_ops *ops, void *ctx, const mr_fuzz_input *in, uint8_t flags,
                   uint8_t seed, uint8_t budget);

/* ------------------------------------------------------------ the CLI engine */

/* What one run of the parse engine (cli/mr_cli_parse.h) wrote. */
typedef struct mr_fuzz_output {
    char *out, *err; /* malloc()ed, NUL-terminated */
    size_t out_len, err_len;
    int status;
} mr_fuzz_output;

/*
 * Run the engine on raw server bytes (t NULL) or on a transcript, with
 * cfg (whose out and err are replaced by memory streams).  Aborts when
 * the memory streams cannot be made.
 */
void mr_fuzz_engine(const mr_cli_config *cfg, const uint8_t *data, size_t len,
                    const mr_transcript *t, mr_fuzz_output *o);
void mr_fuzz_output_free(mr_fuzz_output *o);

/* Abort with the first differing line when a and b differ in stdout,
 * stderr or exit status; what names the two runs. */
void mr_fuzz_same_output(const mr_fuzz_output *a, const mr_fuzz_output *b, const char *what);

/*
 * The protocol and engine configuration from a "mode" byte: bits 0-1 the
 * protocol (0 POP3, 1 SMTP, 2 and 3 IMAP), bit 2 dialogue (the data is a
 * transcript), bit 3 IMAP --no-greeting, bit 4 IMAP --print.  Options
 * from the flags byte (mr_fuzz_options without an allocator).
 */
void mr_fuzz_engine_config(uint8_t mode, uint8_t flags, mr_cli_config *cfg);

enum {
    MR_FUZZ_MODE_DIALOGUE = 1 << 2,
    MR_FUZZ_MODE_NO_GREETING = 1 << 3,
    MR_FUZZ_MODE_PRINT = 1 << 4
};

/*
 * Read data as a transcript for the engine (dialogue mode).  0 on
 * success; -1 when it does not read (nothing to clean up).
 */
int mr_fuzz_transcript(const uint8_t *data, size_t len, mr_transcript *t);

/* The server bytes of a dialogue (their total length). */
uint64_t mr_fuzz_server_len(const mr_transcript *t);

#endif /* MR_FUZZ_H */
