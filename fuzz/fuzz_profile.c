/*
 * fuzz_profile.c - the client profile reader of the conformance runner
 * (conformance/runner/mr_profile.h; "mailrig run --client FILE").
 *
 * Input: a profile file as it is, with no header, so that the corpus is a
 * folder of readable .profile files (corpora/fuzz/fuzz_profile/ holds the
 * cases of tests/data/profile/ and the profiles of conformance/clients/).
 * It is read with mr_profile_read(), then, when it has no NUL byte, also
 * as a --client command template (mr_profile_template()).  Checks:
 *
 * 1. Reading either succeeds, or fails with "fuzz.profile:LINE:COL:
 *    message": a line of the input, a column within that line (or just
 *    after it), a message, and the profile left empty.
 * 2. What was read is consistent: a name, at least one run line; every
 *    run, feature and file line has a valid protocol and TLS mode; no
 *    command of more than 256 words or of none; run lines on lines of the
 *    input, in order; success statuses 0-255 (at least one); file names
 *    without '/' and not "." or ".."; a file's text is empty or ends in
 *    exactly one '\n'; known verdicts fail, crash or hang, with a reason.
 * 3. Filling every word, file text and env value with a fixed lookup
 *    (mr_profile_fill) agrees with a separate reference: the same text,
 *    or an error for the same inputs; a filled value is not filled again.
 * 4. The look-ups agree with the lists: mr_profile_run(), _feature() and
 *    _file_used() return lines that fit, the first that fits.
 * 5. mr_profile_free() empties the profile (LeakSanitizer checks the rest).
 */
#include <stdlib.h>
#include <string.h>

#include "mr_fuzz.h"

#include "mr_profile.h" /* fuzz/build.sh compiles conformance/runner/mr_profile.c */

#define FILE_NAME "fuzz.profile"

static const char *const PROTO_SET[] = {"imap", "pop3", "smtp", "*", NULL};
static const char *const TLS_SET[] = {"none", "implicit", "starttls", "*", NULL};

static int in_set(const char *w, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(w, *set) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ placeholders */

/* Values hold braces: they must come out as they are, not be filled
 * again.  {root} is long, so that the output has to grow. */
#define LONG_VALUE                                                                           \
    "/a/rather/long/folder/name/for/the/profile/root/so/that/the/filled/text/outgrows/its/" \
    "first/allocation/which/is/the/text/length/plus/sixty/four"
#define LONGEST (sizeof LONG_VALUE - 1)

static const char *fixed_lookup(void *ctx, const char *name)
{
    (void)ctx;
    static const struct {
        const char *name, *value;
    } v[] = {{"port", "143"},       {"user", "u{ser}"},   {"password", "{{p}"},
             {"host", "localhost"}, {"features", ""},     {"root", LONG_VALUE},
             {"state", "/s"},       {"file:rc", "/s/rc"}, {"x", "{"}};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (strcmp(name, v[i].name) == 0)
            return v[i].value;
    return NULL;
}

/* The reference: "{{" is '{'; "{NAME}" (NAME at most 63 bytes, up to the
 * first '}') is its value; any other '{' is an error.  Returns the length
 * written to out (which is large enough), or -1. */
static long ref_fill(const char *s, char *out)
{
    long n = 0;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        if (s[i] != '{') {
            out[n++] = s[i++];
            continue;
        }
        if (i + 1 < len && s[i + 1] == '{') {
            out[n++] = '{';
            i += 2;
            continue;
        }
        size_t k = i + 1;
        while (k < len && s[k] != '}')
            k++;
        if (k == len || k - i - 1 > 63)
            return -1;
        char name[64];
        memcpy(name, s + i + 1, k - i - 1);
        name[k - i - 1] = 0;
        const char *val = fixed_lookup(NULL, name);
        if (!val)
            return -1;
        size_t vl = strlen(val);
        memcpy(out + n, val, vl);
        n += (long)vl;
        i = k + 1;
    }
    return n;
}

static void check_fill(const char *text)
{
    char msg[300];
    msg[0] = 0;
    char *got = mr_profile_fill(text, fixed_lookup, NULL, msg, sizeof msg);
    /* each byte gives at most the longest value */
    char *want = malloc(strlen(text) * LONGEST + 1);
    MR_FUZZ_CHECK(want != NULL, "malloc");
    long n = ref_fill(text, want);
    if (n < 0) {
        MR_FUZZ_CHECK(got == NULL, "'%.60s' filled as '%.60s', the reference refuses it", text,
                      got);
        MR_FUZZ_CHECK(msg[0] != 0 && memchr(msg, 0, sizeof msg), "no message for '%.60s'", text);
    } else {
        MR_FUZZ_CHECK(got != NULL, "'%.60s' refused (%s), the reference fills it", text, msg);
        MR_FUZZ_CHECK(strlen(got) == (size_t)n && memcmp(got, want, (size_t)n) == 0,
                      "'%.60s' filled as '%.60s', the reference says '%.*s'", text, got,
                      (int)(n > 60 ? 60 : n), want);
    }
    free(got);
    free(want);
}

static void check_words(const mr_prof_words *w, int need_one, const char *what)
{
    MR_FUZZ_CHECK(w->n <= MR_PROF_MAX_WORDS, "%s: %zu words", what, w->n);
    MR_FUZZ_CHECK(!need_one || w->n >= 1, "%s: no word", what);
    MR_FUZZ_CHECK(w->n == 0 || w->w != NULL, "%s: words missing", what);
    for (size_t i = 0; i < w->n; i++) {
        MR_FUZZ_CHECK(w->w[i] != NULL, "%s: word %zu is NULL", what, i);
        check_fill(w->w[i]);
    }
}

/* ------------------------------------------------------------ the profile */

static void check_lookups(const mr_profile *p)
{
    static const char *const protos[] = {"imap", "pop3", "smtp"};
    static const char *const tlses[] = {"none", "implicit", "starttls"};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            const char *pr = protos[a], *tl = tlses[b];
            const mr_prof_run *run = mr_profile_run(p, pr, tl);
            const mr_prof_run *first = NULL;
            for (size_t i = 0; i < p->nruns && !first; i++)
                if ((!strcmp(p->runs[i].proto, "*") || !strcmp(p->runs[i].proto, pr)) &&
                    (!strcmp(p->runs[i].tls, "*") || !strcmp(p->runs[i].tls, tl)))
                    first = &p->runs[i];
            MR_FUZZ_CHECK(run == first, "mr_profile_run(%s, %s) is not the first that fits", pr,
                          tl);
            /* one file per name at most */
            for (size_t i = 0; i < p->nfiles; i++) {
                if (!mr_profile_file_used(p, i, pr, tl))
                    continue;
                for (size_t j = i + 1; j < p->nfiles; j++)
                    MR_FUZZ_CHECK(!mr_profile_file_used(p, j, pr, tl) ||
                                      strcmp(p->files[i].name, p->files[j].name) != 0,
                                  "two files %s used for %s %s", p->files[i].name, pr, tl);
            }
        }
    for (size_t i = 0; i < p->nfeatures; i++) {
        const mr_prof_feature *f = mr_profile_feature(p, "imap", p->features[i].name);
        if (!strcmp(p->features[i].proto, "*") || !strcmp(p->features[i].proto, "imap"))
            MR_FUZZ_CHECK(f && f <= &p->features[i] && !strcmp(f->name, p->features[i].name),
                          "feature %s for imap not found", p->features[i].name);
    }
    for (size_t i = 0; i < p->nknown; i++) {
        const mr_prof_known *k = mr_profile_known(p, p->known[i].scenario);
        MR_FUZZ_CHECK(k && k <= &p->known[i], "known %s not found", p->known[i].scenario);
    }
    /* a control byte is never in a scenario name read from a profile */
    MR_FUZZ_CHECK(mr_profile_known(p, "\x01") == NULL, "known \\x01");
    for (size_t i = 0; i < p->nsuccess; i++)
        MR_FUZZ_CHECK(mr_profile_success(p, p->success[i]), "success %d", p->success[i]);
    MR_FUZZ_CHECK(!mr_profile_success(p, 256) && !mr_profile_success(p, -1), "success out of range");
}

static void check_profile(const mr_profile *p, size_t lines)
{
    MR_FUZZ_CHECK(p->path == NULL && p->dir == NULL, "read from a buffer: no path");
    MR_FUZZ_CHECK(p->name && p->name[0], "no name");
    MR_FUZZ_CHECK(!p->description || p->description[0], "an empty description");
    MR_FUZZ_CHECK(p->nruns >= 1 && p->runs, "no run line");
    MR_FUZZ_CHECK(p->nsuccess >= 1 && p->nsuccess <= 32, "%zu success statuses", p->nsuccess);
    for (size_t i = 0; i < p->nsuccess; i++)
        MR_FUZZ_CHECK(p->success[i] >= 0 && p->success[i] <= 255, "success %d", p->success[i]);
    check_words(&p->requires, 0, "requires");
    check_words(&p->version, 0, "version");
    unsigned last = 0;
    for (size_t i = 0; i < p->nruns; i++) {
        const mr_prof_run *r = &p->runs[i];
        MR_FUZZ_CHECK(in_set(r->proto, PROTO_SET) && in_set(r->tls, TLS_SET),
                      "run %zu: protocol '%s', TLS '%s'", i, r->proto, r->tls);
        MR_FUZZ_CHECK(r->line > last && r->line <= lines, "run %zu on line %u (after %u, of %zu)",
                      i, r->line, last, lines);
        last = r->line;
        check_words(&r->cmd, 1, "run");
    }
    for (size_t i = 0; i < p->nfeatures; i++) {
        const mr_prof_feature *f = &p->features[i];
        MR_FUZZ_CHECK(in_set(f->proto, PROTO_SET) && f->name && f->name[0],
                      "feature %zu: protocol '%s'", i, f->proto);
        check_words(&f->args, 0, "feature");
    }
    for (size_t i = 0; i < p->nenvs; i++) {
        MR_FUZZ_CHECK(p->envs[i].name && p->envs[i].name[0] && p->envs[i].value,
                      "env %zu", i);
        check_fill(p->envs[i].value);
    }
    for (size_t i = 0; i < p->nfiles; i++) {
        const mr_prof_file *f = &p->files[i];
        MR_FUZZ_CHECK(f->name && !strchr(f->name, '/') && strcmp(f->name, ".") &&
                          strcmp(f->name, ".."),
                      "file name '%s'", f->name);
        MR_FUZZ_CHECK(in_set(f->proto, PROTO_SET) && in_set(f->tls, TLS_SET),
                      "file %s: protocol '%s', TLS '%s'", f->name, f->proto, f->tls);
        size_t l = strlen(f->text);
        MR_FUZZ_CHECK(l == 0 || (f->text[l - 1] == '\n' && (l == 1 || f->text[l - 2] != '\n')),
                      "file %s: text does not end in one newline: '%.60s'", f->name, f->text);
        MR_FUZZ_CHECK(!(l == 1 && f->text[0] == '\n'), "file %s: a text of one newline", f->name);
        for (size_t k = 0; k < l; k++)
            MR_FUZZ_CHECK((unsigned char)f->text[k] >= 0x20 || f->text[k] == '\n' ||
                              f->text[k] == '\t',
                          "file %s: control byte 0x%02X", f->name, (unsigned char)f->text[k]);
        check_fill(f->text);
    }
    for (size_t i = 0; i < p->nknown; i++) {
        const mr_prof_known *k = &p->known[i];
        MR_FUZZ_CHECK(k->scenario && (!strcmp(k->verdict, "fail") || !strcmp(k->verdict, "crash") ||
                                      !strcmp(k->verdict, "hang")),
                      "known %zu: verdict '%s'", i, k->verdict);
        MR_FUZZ_CHECK(k->reason && k->reason[0], "known %zu: no reason", i);
    }
    check_lookups(p);
}

static int is_empty(const mr_profile *p)
{
    static const mr_profile zero;
    return memcmp(p, &zero, sizeof zero) == 0;
}

/* The length of line `line` (1-based) of the input, without its "\n" and a
 * "\r" before it. */
static size_t line_length(const uint8_t *data, size_t size, unsigned line)
{
    size_t pos = 0;
    for (unsigned l = 1; l < line && pos < size; l++) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        pos = nl ? (size_t)(nl - data) + 1 : size;
    }
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t n = nl ? (size_t)(nl - data) - pos : size - pos;
    if (n > 0 && data[pos + n - 1] == '\r')
        n--;
    return n;
}

static void check_error(const char *msg, const uint8_t *data, size_t size, size_t lines,
                        const char *file)
{
    size_t fl = strlen(file);
    unsigned line = 0, col = 0;
    int used = 0;
    MR_FUZZ_CHECK(strncmp(msg, file, fl) == 0 && msg[fl] == ':', "message '%s' without %s", msg,
                  file);
    MR_FUZZ_CHECK(sscanf(msg + fl, ":%u:%u: %n", &line, &col, &used) == 2 && used > 0 &&
                      msg[fl + (size_t)used] != 0,
                  "message '%s' is not FILE:LINE:COL: message", msg);
    MR_FUZZ_CHECK(line >= 1 && line <= lines, "error at line %u of %zu: %s", line, lines, msg);
    MR_FUZZ_CHECK(col >= 1 && col <= line_length(data, size, line) + 1,
                  "error at column %u of a line of %zu bytes: %s", col,
                  line_length(data, size, line), msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_profile p;
    char msg[1024];
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    memset(msg, 0, sizeof msg);
    if (mr_profile_read((const char *)data, size, FILE_NAME, &p, msg, sizeof msg) != 0) {
        check_error(msg, data, size, lines, FILE_NAME);
        MR_FUZZ_CHECK(is_empty(&p), "a failed read left something behind");
    } else {
        check_profile(&p, lines);
        mr_profile_free(&p);
        MR_FUZZ_CHECK(is_empty(&p), "free did not empty the profile");
    }

    /* the same bytes as a command template (one line: it is a C string) */
    if (size > 0 && !memchr(data, 0, size) && size < 4096) {
        char *t = malloc(size + 1);
        MR_FUZZ_CHECK(t != NULL, "malloc");
        memcpy(t, data, size);
        t[size] = 0;
        memset(msg, 0, sizeof msg);
        if (mr_profile_template(t, &p, msg, sizeof msg) != 0) {
            MR_FUZZ_CHECK(strncmp(msg, "--client:1:", 11) == 0 && strlen(msg) > 14,
                          "template message '%s'", msg);
            MR_FUZZ_CHECK(is_empty(&p), "a failed template left something behind");
        } else {
            MR_FUZZ_CHECK(p.nruns == 1 && !strcmp(p.runs[0].proto, "*") &&
                              !strcmp(p.runs[0].tls, "*") && p.name && p.description &&
                              !strcmp(p.description, t) && p.nsuccess == 1 && p.success[0] == 0,
                          "template profile");
            check_words(&p.runs[0].cmd, 1, "template");
            mr_profile_free(&p);
        }
        free(t);
    }
    return 0;
}
