/*
 * fuzz_transcript.c - the transcript reader and writer
 * (common/mr_transcript.h, docs/transcript.md) and the dialogue mode of
 * the parse engine, which reads the client's side of a transcript
 * (commands, SASL lines, SMTP DATA and BDAT, IMAP literals and IDLE).
 *
 * Input: a transcript file as it is, with no header, so that the corpus
 * is a folder of readable .trs files.
 *
 * 1. Reading either succeeds, or fails with a line, a column and a
 *    message that are in range.
 * 2. What was read, written back with the writers, reads back to the same
 *    items (kind, direction, bytes, event, metadata; times within the
 *    writer's 6 decimals), and writing that again gives the same bytes.
 * 3. A transcript for pop3, smtp or imap runs through "mailrig parse
 *    --dialogue" (lenient, and strict with small limits) without
 *    breaking any of the engine's own checks.
 */
#define _GNU_SOURCE /* open_memstream on older C libraries */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mr_fuzz.h"
#include "mr_transcript.h"

static void check_error(const uint8_t *data, size_t len, const mr_transcript_error *e)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    MR_FUZZ_CHECK(memchr(e->message, 0, sizeof e->message) != NULL, "message not terminated");
    MR_FUZZ_CHECK(e->message[0] != 0, "an error without a message");
    MR_FUZZ_CHECK(e->line <= lines, "error at line %zu of %zu", e->line, lines);
    MR_FUZZ_CHECK(e->line == 0 || e->col >= 1, "error at column %zu", e->col);
}

/* Write t with the writers into a malloc()ed buffer. */
static char *write_all(const mr_transcript *t, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        abort();
    MR_FUZZ_CHECK(mr_transcript_write_header(f, NULL) == 0, "writing the header");
    for (size_t i = 0; i < t->n_items; i++) {
        const mr_transcript_item *it = &t->items[i];
        double time = it->has_time ? it->time : -1;
        int rc = 0;
        switch (it->kind) {
        case MR_TRANSCRIPT_SEGMENT:
            rc = mr_transcript_write_segment(f, it->dir, time, it->bytes, it->len);
            break;
        case MR_TRANSCRIPT_EVENT:
            rc = mr_transcript_write_event(f, time, it->name, it->value);
            break;
        case MR_TRANSCRIPT_META:
            rc = mr_transcript_write_meta(f, it->name, it->value);
            break;
        }
        MR_FUZZ_CHECK(rc == 0, "item %zu (line %zu) that was read cannot be written", i, it->line);
    }
    if (fclose(f) != 0)
        abort();
    return buf;
}

static void same_items(const mr_transcript *a, const mr_transcript *b)
{
    MR_FUZZ_CHECK(a->n_items == b->n_items, "%zu items read, %zu after writing", a->n_items,
                  b->n_items);
    for (size_t i = 0; i < a->n_items; i++) {
        const mr_transcript_item *x = &a->items[i], *y = &b->items[i];
        MR_FUZZ_CHECK(x->kind == y->kind && x->dir == y->dir && x->has_time == y->has_time,
                      "item %zu (line %zu) changed kind, direction or time", i, x->line);
        MR_FUZZ_CHECK(x->len == y->len && (x->len == 0 || memcmp(x->bytes, y->bytes, x->len) == 0),
                      "segment %zu (line %zu) changed its bytes", i, x->line);
        MR_FUZZ_CHECK((x->name == NULL) == (y->name == NULL) &&
                          (!x->name || strcmp(x->name, y->name) == 0),
                      "item %zu (line %zu) changed its name", i, x->line);
        MR_FUZZ_CHECK((x->value == NULL) == (y->value == NULL) &&
                          (!x->value || strcmp(x->value, y->value) == 0),
                      "item %zu (line %zu) changed its value", i, x->line);
        if (x->has_time)
            MR_FUZZ_CHECK(fabs(x->time - y->time) <= 1e-6 * (1 + fabs(x->time)),
                          "item %zu (line %zu): time %.9g written back as %.9g", i, x->line,
                          x->time, y->time);
    }
}

static void run_engine(const mr_transcript *t)
{
    static const char *const names[3] = {"pop3", "smtp", "imap"};
    static const uint8_t modes[3] = {0, 1, 2};
    const char *proto = mr_transcript_meta(t, "protocol", NULL);
    mr_cli_config cfg;
    mr_fuzz_output o;
    for (int i = 0; proto && i < 3; i++) {
        if (strcmp(proto, names[i]) != 0)
            continue;
        mr_fuzz_engine_config(modes[i] | MR_FUZZ_MODE_DIALOGUE, 0, &cfg);
        mr_fuzz_engine(&cfg, NULL, 0, t, &o);
        mr_fuzz_output_free(&o);
        mr_fuzz_engine_config(modes[i] | MR_FUZZ_MODE_DIALOGUE, MR_FUZZ_STRICT | MR_FUZZ_SMALL_LIMITS,
                              &cfg);
        mr_fuzz_engine(&cfg, NULL, 0, t, &o);
        mr_fuzz_output_free(&o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_transcript t1, t2, t3;
    mr_transcript_error e;
    char *w1, *w2;
    size_t n1, n2;

    if (mr_transcript_read(data, size, NULL, &t1, &e) != 0) {
        check_error(data, size, &e);
        return 0;
    }
    w1 = write_all(&t1, &n1);
    MR_FUZZ_CHECK(mr_transcript_read((const uint8_t *)w1, n1, NULL, &t2, &e) == 0,
                  "what the writers wrote does not read: %zu:%zu: %s", e.line, e.col, e.message);
    same_items(&t1, &t2);
    w2 = write_all(&t2, &n2);
    MR_FUZZ_CHECK(n1 == n2 && memcmp(w1, w2, n1) == 0, "writing is not a fixed point");
    MR_FUZZ_CHECK(mr_transcript_read((const uint8_t *)w2, n2, NULL, &t3, &e) == 0, "reread");
    mr_transcript_cleanup(&t3);
    run_engine(&t1);
    free(w1);
    free(w2);
    mr_transcript_cleanup(&t1);
    mr_transcript_cleanup(&t2);
    return 0;
}
