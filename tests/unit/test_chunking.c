/*
 * test_chunking.c - a parser's output must not depend on how its input is
 * cut (STYLE.md, after llhttp's fixtures).
 *
 * For every case file under tests/data/ (any depth, *.case) and every
 * transcript corpora/transcripts/NAME.trs, run the parse engine
 * (cli/mr_cli_parse.h) with the case's "# args:" and "# mode:" and feed
 * the server's bytes:
 *
 *   whole (the reference), one segment at a time, byte by byte, in fixed
 *   pieces of 2..64 bytes, and split in two at every position (at 200
 *   sampled positions when there are more than 8 KiB of server bytes).
 *
 * In dialogue mode each run of consecutive server segments is re-cut and
 * client bytes stay where they are.  stdout, stderr and the exit status
 * must be byte-identical to the reference.  The "chunks" key (how many
 * chunks a streamed POP3 body or IMAP literal came in) is left out: it is
 * the one value that legitimately depends on the feeding.  The protocol
 * is the case's directory name (tests/data/imap/x.case: imap) or the
 * transcript's "# protocol:" line.
 *
 * Cases whose transcript does not read or whose arguments do not parse
 * (usage-error cases) have nothing to re-cut and are skipped.  Run from
 * the top directory (make unit-plain / unit-asan do).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mr_cli_parse.h"
#include "mr_transcript.h"

#define FULL_SPLIT_MAX 8192 /* split at every position up to this many server bytes */
#define SAMPLED_SPLITS 200
#define MAX_PIECE 64
#define MAX_ARGS 64

/* ---------------------------------------------------------- collecting */

static char **paths;
static size_t n_paths, cap_paths;

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void add_path(const char *p)
{
    if (n_paths == cap_paths) {
        cap_paths = cap_paths ? cap_paths * 2 : 64;
        paths = realloc(paths, cap_paths * sizeof *paths);
        if (!paths)
            abort();
    }
    paths[n_paths] = strdup(p);
    if (!paths[n_paths])
        abort();
    n_paths++;
}

static void collect(const char *dir, const char *suffix, int recursive)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return; /* corpora/transcripts may not exist yet */
    while ((de = readdir(d)) != NULL) {
        char p[4096];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (recursive)
                collect(p, suffix, recursive);
        } else if (ends_with(de->d_name, suffix)) {
            add_path(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---------------------------------------------------------- one run */

typedef struct output {
    char *out, *err;
    size_t out_len, err_len;
    int status;
} output;

typedef struct tcase {
    mr_cli_config cfg;
    mr_transcript trs;
    uint8_t *server; /* raw mode: the S segments concatenated */
    size_t server_len;
} tcase;

static void run_once(const tcase *c, const mr_cli_feed *feed, output *o)
{
    mr_cli_config cfg = c->cfg;
    FILE *out, *err;
    memset(o, 0, sizeof *o);
    out = open_memstream(&o->out, &o->out_len);
    err = open_memstream(&o->err, &o->err_len);
    assert_non_null(out);
    assert_non_null(err);
    cfg.out = out;
    cfg.err = err;
    cfg.feed = *feed;
    if (cfg.dialogue)
        o->status = mr_cli_parse_transcript(&cfg, &c->trs);
    else
        o->status = mr_cli_parse_bytes(&cfg, c->server, c->server_len);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(fclose(err), 0);
}

static void free_output(output *o)
{
    free(o->out);
    free(o->err);
}

/* The first line where a and b differ, for the failure message. */
static void first_diff(const char *a, size_t al, const char *b, size_t bl, char *msg, size_t cap)
{
    size_t i = 0, line = 1, start = 0, ea, eb;
    while (i < al && i < bl && a[i] == b[i]) {
        if (a[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    for (ea = start; ea < al && a[ea] != '\n'; ea++) {}
    for (eb = start; eb < bl && b[eb] != '\n'; eb++) {}
    snprintf(msg, cap, "line %zu:\n  whole: %.*s\n  this:  %.*s", line,
             (int)(ea - start > 400 ? 400 : ea - start), a + start,
             (int)(eb - start > 400 ? 400 : eb - start), b + start);
}

static void compare(const char *path, const char *how, const output *ref, const output *o)
{
    char msg[1200];
    if (o->status != ref->status)
        fail_msg("%s: fed %s: exit status %d, whole stream %d", path, how, o->status, ref->status);
    if (o->out_len != ref->out_len || memcmp(o->out, ref->out, o->out_len) != 0) {
        first_diff(ref->out, ref->out_len, o->out, o->out_len, msg, sizeof msg);
        fail_msg("%s: fed %s: stdout differs from the whole stream at %s", path, how, msg);
    }
    if (o->err_len != ref->err_len || memcmp(o->err, ref->err, o->err_len) != 0) {
        first_diff(ref->err, ref->err_len, o->err, o->err_len, msg, sizeof msg);
        fail_msg("%s: fed %s: stderr differs from the whole stream at %s", path, how, msg);
    }
}

/* ---------------------------------------------------------- one case */

static uint32_t rng = 2463534242u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Split the "# args:" value at white space into argv[1..]. */
static int split_args(char *buf, char **argv, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok && n < max; tok = strtok_r(NULL, " \t", &save))
        argv[n++] = tok;
    return n;
}

static const char *dir_name(const char *path, char *buf, size_t cap)
{
    /* "tests/data/pop3/x.case" -> "pop3" */
    const char *slash = strrchr(path, '/');
    const char *prev = slash;
    size_t n;
    if (!slash)
        return "";
    while (prev > path && prev[-1] != '/')
        prev--;
    n = (size_t)(slash - prev);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, prev, n);
    buf[n] = 0;
    return buf;
}

static void test_one(void **state)
{
    const char *path = *state;
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    size_t len, trs_len;
    mr_transcript_error e;
    tcase c;
    char protocol[64], argbuf[1024];
    char *argv[MAX_ARGS + 1];
    const char **files;
    size_t n_files;
    int argc;
    const char *mode, *args;
    output ref, o;
    mr_cli_feed feed;
    char how[64];

    memset(&c, 0, sizeof c);
    assert_non_null(f);
    assert_int_equal(mr_cli_slurp(f, MR_TRANSCRIPT_DEFAULT_MAX_SIZE, &data, &len), 0);
    fclose(f);

    /* A case file's transcript ends at its "=== expected" line. */
    trs_len = len;
    if (ends_with(path, ".case")) {
        const uint8_t *p = data;
        trs_len = SIZE_MAX;
        while (p && p < data + len) {
            const uint8_t *lf = memchr(p, '\n', (size_t)(data + len - p));
            size_t n = lf ? (size_t)(lf - p) : (size_t)(data + len - p);
            if (n >= 12 && memcmp(p, "=== expected", 12) == 0 &&
                (n == 12 || (n == 13 && p[12] == '\r'))) {
                trs_len = (size_t)(p - data);
                break;
            }
            p = lf ? lf + 1 : NULL;
        }
        if (trs_len == SIZE_MAX)
            fail_msg("%s: no '=== expected' line", path);
    }
    if (mr_transcript_read(data, trs_len, NULL, &c.trs, &e) != 0) {
        free(data);
        print_message("%s: transcript does not read (%zu:%zu: %s): nothing to re-cut\n", path,
                      e.line, e.col, e.message);
        skip();
    }
    free(data);

    if (ends_with(path, ".case")) {
        dir_name(path, protocol, sizeof protocol);
    } else {
        const char *pr = mr_transcript_meta(&c.trs, "protocol", NULL);
        snprintf(protocol, sizeof protocol, "%s", pr ? pr : "");
    }
    mode = mr_transcript_meta(&c.trs, "mode", NULL);
    args = mr_transcript_meta(&c.trs, "args", NULL);
    snprintf(argbuf, sizeof argbuf, "%s", args ? args : "");
    argv[0] = protocol;
    argc = 1 + split_args(argbuf, argv + 1, MAX_ARGS);
    argv[argc] = NULL;
    files = calloc((size_t)argc, sizeof *files);
    assert_non_null(files);
    {
        FILE *devnull = fopen("/dev/null", "w");
        int rc = mr_cli_parse_args(argc, argv, &c.cfg, files, &n_files, devnull);
        fclose(devnull);
        free(files);
        if (rc != 0) {
            mr_transcript_cleanup(&c.trs);
            print_message("%s: protocol/args do not parse: nothing to re-cut\n", path);
            skip();
        }
    }
    if (!mode || strcmp(mode, "dialogue") == 0)
        c.cfg.dialogue = 1;
    else if (strcmp(mode, "raw") != 0)
        fail_msg("%s: mode must be dialogue or raw, not '%s'", path, mode);
    c.cfg.name = "<stdin>";
    c.cfg.hide_chunks = 1;
    c.server = mr_transcript_concat(&c.trs, 'S', &c.server_len);

    memset(&feed, 0, sizeof feed);
    feed.kind = MR_FEED_WHOLE;
    run_once(&c, &feed, &ref);

    feed.kind = MR_FEED_SEGMENTS;
    run_once(&c, &feed, &o);
    compare(path, "one segment at a time", &ref, &o);
    free_output(&o);

    feed.kind = MR_FEED_PIECES;
    for (size_t piece = 1; piece <= MAX_PIECE; piece++) {
        feed.piece = piece;
        run_once(&c, &feed, &o);
        snprintf(how, sizeof how, "in pieces of %zu bytes", piece);
        compare(path, how, &ref, &o);
        free_output(&o);
    }

    feed.kind = MR_FEED_SPLITS;
    feed.n_splits = 1;
    if (c.server_len > 1) {
        size_t n = c.server_len <= FULL_SPLIT_MAX ? c.server_len - 1 : SAMPLED_SPLITS;
        for (size_t i = 0; i < n; i++) {
            uint64_t at = c.server_len <= FULL_SPLIT_MAX ? i + 1 : 1 + rnd() % (c.server_len - 1);
            feed.splits = &at;
            run_once(&c, &feed, &o);
            snprintf(how, sizeof how, "split in two at server byte %llu", (unsigned long long)at);
            compare(path, how, &ref, &o);
            free_output(&o);
        }
    }
    free_output(&ref);
    free(c.server);
    mr_transcript_cleanup(&c.trs);
}

/* The runner must not pass by finding nothing. */
static void test_cases_found(void **state)
{
    (void)state;
    if (n_paths == 0)
        fail_msg("no case files under tests/data (run from the top directory)");
}

int main(void)
{
    struct CMUnitTest *tests;
    int rc;
    collect("tests/data", ".case", 1);
    collect("corpora/transcripts", ".trs", 0);
    if (n_paths)
        qsort(paths, n_paths, sizeof *paths, cmp_str);
    tests = calloc(n_paths + 1, sizeof *tests);
    if (!tests)
        return 1;
    tests[0].name = "cases_found";
    tests[0].test_func = test_cases_found;
    for (size_t i = 0; i < n_paths; i++) {
        tests[i + 1].name = paths[i];
        tests[i + 1].test_func = test_one;
        tests[i + 1].initial_state = paths[i];
    }
    rc = _cmocka_run_group_tests("chunking", tests, n_paths + 1, NULL, NULL);
    for (size_t i = 0; i < n_paths; i++)
        free(paths[i]);
    free(paths);
    free(tests);
    return rc;
}
