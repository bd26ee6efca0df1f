/*
 * mr_bench_main.c - the driver of one benchmark program (one family of
 * contenders, see mr_bench.h).
 *
 *   mr-bench-FAMILY list
 *       one line per contender: NAME TAB PROTOCOL TAB WHAT
 *   mr-bench-FAMILY run CONTENDER CORPUS [--min-ms N] [--passes N]
 *       CORPUS is a path prefix: CORPUS.server and CORPUS.client are the
 *       bytes each side sent; its protocol is the part of the base name
 *       before the first '-' ("imap-dovecot" is IMAP).  Prints one JSON
 *       line: passes, nanoseconds per pass (mean over the timed passes),
 *       bytes, and the counts of mr_bench_result.
 *   mr-bench-FAMILY extract TRANSCRIPT.trs PREFIX
 *       writes PREFIX.server and PREFIX.client from a transcript
 *       (docs/transcript.md), for every contender and for the Python ones.
 *
 * Timing: one untimed warm-up pass, then passes until --min-ms have gone
 * by (at least 1, default 300 ms) or exactly --passes N; CLOCK_MONOTONIC.
 * Every pass must give the same result as the warm-up, else exit 1.
 */
#include "mr_bench.h"

#include "mr_cli_parse.h"
#include "mr_transcript.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CORPUS ((size_t)1 << 30) /* 1 GiB per side */

static int usage(void)
{
    fprintf(stderr,
            "usage: mr-bench-%s list\n"
            "       mr-bench-%s run CONTENDER CORPUS [--min-ms N] [--passes N]\n"
            "       mr-bench-%s extract TRANSCRIPT.trs PREFIX\n",
            mr_bench_family_name, mr_bench_family_name, mr_bench_family_name);
    return 2;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mr-bench: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    int rc = mr_cli_slurp(f, MAX_CORPUS, &data, len);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "mr-bench: %s: cannot read it whole (larger than 1 GiB, or no memory)\n",
                path);
        return NULL;
    }
    if (!data && !(data = malloc(1))) /* an empty file: NULL is not an error here */
        fprintf(stderr, "mr-bench: out of memory\n");
    return data;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "mr-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int extract(const char *trs, const char *prefix)
{
    size_t len;
    uint8_t *data = slurp(trs, &len);
    if (!data)
        return 1;
    mr_transcript t;
    mr_transcript_error e;
    if (mr_transcript_read(data, len, NULL, &t, &e) != 0) {
        fprintf(stderr, "%s:%zu:%zu: %s\n", trs, e.line, e.col, e.message);
        free(data);
        return 1;
    }
    int rc = 0;
    const char dirs[2] = {'S', 'C'};
    const char *ext[2] = {".server", ".client"};
    for (int i = 0; i < 2 && rc == 0; i++) {
        size_t n;
        uint8_t *bytes = mr_transcript_concat(&t, dirs[i], &n);
        char path[4096];
        if (!bytes || (size_t)snprintf(path, sizeof path, "%s%s", prefix, ext[i]) >= sizeof path ||
            write_file(path, bytes, n) != 0)
            rc = 1;
        free(bytes);
    }
    mr_transcript_cleanup(&t);
    free(data);
    return rc;
}

/* The client's lines, CRLF (or a bare LF) removed; a last line without
 * one is kept. */
static mr_bench_line *split_lines(const uint8_t *p, size_t n, size_t *count)
{
    size_t cap = 16, k = 0;
    mr_bench_line *v = malloc(cap * sizeof *v);
    size_t i = 0;
    while (v && i < n) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n;
        size_t stop = end;
        if (stop > i && p[stop - 1] == '\r')
            stop--;
        if (k == cap) {
            mr_bench_line *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return NULL;
            }
            v = nv;
            cap *= 2;
        }
        v[k].p = p + i;
        v[k].n = stop - i;
        k++;
        i = nl ? end + 1 : n;
    }
    *count = k;
    return v;
}

/* A contender by name for this protocol ("any" parses every corpus). */
static const mr_bench_contender *find(const char *name, const char *protocol)
{
    for (size_t i = 0; i < mr_bench_family_n; i++) {
        const mr_bench_contender *ct = &mr_bench_family[i];
        if (strcmp(ct->name, name) == 0 &&
            (strcmp(ct->protocol, protocol) == 0 || strcmp(ct->protocol, "any") == 0))
            return ct;
    }
    return NULL;
}

static int same(const mr_bench_result *a, const mr_bench_result *b)
{
    return a->responses == b->responses && a->decoded == b->decoded && a->bytes == b->bytes;
}

static int run(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    const char *prefix = argv[3];
    long min_ms = 300, passes = 0;
    for (int i = 4; i < argc; i++) {
        char *end;
        if (i + 1 < argc && strcmp(argv[i], "--min-ms") == 0) {
            min_ms = strtol(argv[++i], &end, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--passes") == 0) {
            passes = strtol(argv[++i], &end, 10);
        } else {
            return usage();
        }
        if (*end || min_ms < 0 || passes < 0)
            return usage();
    }

    const char *base = strrchr(prefix, '/');
    base = base ? base + 1 : prefix;
    size_t plen = strcspn(base, "-");
    char protocol[16];
    if (plen == 0 || plen >= sizeof protocol) {
        fprintf(stderr, "mr-bench: %s: the corpus name must start with its protocol\n", prefix);
        return 2;
    }
    memcpy(protocol, base, plen);
    protocol[plen] = 0;
    const mr_bench_contender *ct = find(argv[2], protocol);
    if (!ct) {
        fprintf(stderr, "mr-bench-%s: no contender %s for %s (see list)\n",
                mr_bench_family_name, argv[2], protocol);
        return 2;
    }

    char path[4096];
    mr_bench_corpus c = {.name = base, .protocol = protocol};
    uint8_t *server = NULL, *client = NULL;
    mr_bench_line *cmds = NULL;
    int rc = 1;
    snprintf(path, sizeof path, "%s.server", prefix);
    if (!(server = slurp(path, &c.server_len)))
        goto out;
    snprintf(path, sizeof path, "%s.client", prefix);
    if (!(client = slurp(path, &c.client_len)))
        goto out;
    c.server = server;
    c.client = client;
    if (!(cmds = split_lines(client, c.client_len, &c.n_cmds)))
        goto out;
    c.cmds = cmds;

    char err[512] = "";
    void *st = ct->setup(&c, err, sizeof err);
    if (!st) {
        fprintf(stderr, "mr-bench: %s setup: %s\n", ct->name, err);
        goto out;
    }
    mr_bench_result first = {0}, r;
    if (ct->run(st, &c, &first, err, sizeof err) != 0) {
        fprintf(stderr, "mr-bench: %s on %s: %s\n", ct->name, base, err);
        ct->teardown(st);
        goto out;
    }
    long done = 0;
    double t0 = now_ns(), t1 = t0;
    do {
        memset(&r, 0, sizeof r);
        if (ct->run(st, &c, &r, err, sizeof err) != 0) {
            fprintf(stderr, "mr-bench: %s on %s: %s\n", ct->name, base, err);
            ct->teardown(st);
            goto out;
        }
        if (!same(&r, &first)) {
            fprintf(stderr, "mr-bench: %s on %s: pass %ld found other counts than the first\n",
                    ct->name, base, done + 1);
            ct->teardown(st);
            goto out;
        }
        done++;
        t1 = now_ns();
    } while (passes ? done < passes : (t1 - t0) < (double)min_ms * 1e6);
    ct->teardown(st);

    printf("{\"family\": \"%s\", \"contender\": \"%s\", \"corpus\": \"%s\", \"passes\": %ld, "
           "\"ns_per_pass\": %.1f, \"server_bytes\": %zu, \"responses\": %" PRIu64
           ", \"decoded\": %" PRIu64 ", \"bytes\": %" PRIu64 "}\n",
           mr_bench_family_name, ct->name, base, done, (t1 - t0) / (double)done, c.server_len,
           first.responses, first.decoded, first.bytes);
    rc = 0;
out:
    free(cmds);
    free(client);
    free(server);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "list") == 0 && argc == 2) {
        for (size_t i = 0; i < mr_bench_family_n; i++)
            printf("%s\t%s\t%s\n", mr_bench_family[i].name, mr_bench_family[i].protocol,
                   mr_bench_family[i].what);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return run(argc, argv);
    if (strcmp(argv[1], "extract") == 0 && argc == 4)
        return extract(argv[2], argv[3]);
    return usage();
}
