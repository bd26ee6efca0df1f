/*
 * mr_profile.c - the client profile reader (mr_profile.h; the format is
 * conformance/clients/README.md).  Errors are FILE:LINE:COL: message.
 */
#include "mr_profile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1u << 20)   /* a profile is a small text file */
#define MAX_WORDS MR_PROF_MAX_WORDS

typedef struct rd {
    const char *file;
    unsigned line;
    char *msg;
    size_t msglen;
} rd;

static int fail(rd *r, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(rd *r, size_t col, const char *fmt, ...)
{
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(r->msg, r->msglen, "%s:%u:%zu: %s", r->file, r->line, col + 1, text);
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort(); /* a profile is small: no memory at all is not worth a path */
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void *grow(void *arr, size_t n, size_t size)
{
    /* arrays grow one element at a time: profiles have a few dozen lines */
    void *q = realloc(arr, (n + 1) * size);
    if (!q)
        abort();
    memset((char *)q + n * size, 0, size);
    return q;
}

/* Split s[0..n) into words: blanks separate; "..." groups, with \" and
 * \\ as escapes.  col0 is the column of s in the line, for messages. */
static int split_words(rd *r, const char *s, size_t n, size_t col0, mr_prof_words *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        if (out->n >= MAX_WORDS)
            return fail(r, col0 + i, "more than %d words", MAX_WORDS);
        char *w = malloc(n - i + 1);
        size_t k = 0;
        if (!w)
            abort();
        while (i < n && !is_blank(s[i])) {
            if (s[i] == '"') {
                size_t q = i++;
                while (i < n && s[i] != '"') {
                    if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
                        i++;
                    w[k++] = s[i++];
                }
                if (i == n) {
                    free(w);
                    return fail(r, col0 + q, "string not closed (a '\"' is missing)");
                }
                i++;
            } else {
                w[k++] = s[i++];
            }
        }
        w[k] = 0;
        out->w = grow(out->w, out->n, sizeof *out->w);
        out->w[out->n++] = w;
    }
    return 0;
}

static void free_words(mr_prof_words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->w[i]);
    free(w->w);
    w->w = NULL;
    w->n = 0;
}

/* The head's words (before the ':'), at most max, each a plain word. */
static int head_words(rd *r, const char *s, size_t n, char **out, size_t max, size_t *got)
{
    size_t i = 0;
    *got = 0;
    while (i < n) {
        while (i < n && is_blank(s[i]))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !is_blank(s[i]))
            i++;
        if (*got == max)
            return fail(r, b, "unexpected '%.*s' before the ':'", (int)(i - b > 40 ? 40 : i - b),
                        s + b);
        out[(*got)++] = dup_n(s + b, i - b);
    }
    return 0;
}

static int one_of(const char *w, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(w, *set) == 0)
            return 1;
    return 0;
}

static const char *const PROTOS[] = {"imap", "pop3", "smtp", "*", NULL};
static const char *const TLSES[] = {"none", "implicit", "starttls", "*", NULL};

static int parse(rd *r, const char *data, size_t len, mr_profile *p)
{
    size_t pos = 0;
    mr_prof_file *block = NULL; /* the file line whose indented lines follow */
    size_t indent = 0;
    int have_success = 0;
    while (pos < len) {
        const char *ln = data + pos;
        const char *nl = memchr(ln, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - ln) : len - pos;
        pos += n + (nl != NULL);
        r->line++;
        if (n > 0 && ln[n - 1] == '\r')
            n--;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)ln[i] < 0x20 && ln[i] != '\t')
                return fail(r, i, "a control byte 0x%02X", (unsigned char)ln[i]);
        size_t b = 0;
        while (b < n && is_blank(ln[b]))
            b++;
        if (block && (b > 0 || b == n)) {
            /* a line of the file's text (blank lines included) */
            if (b < n && indent == 0)
                indent = b;
            if (b < n && b < indent)
                return fail(r, b, "this line is indented less than the file's first line");
            size_t cut = b == n ? n : indent;
            size_t old = strlen(block->text);
            block->text = realloc(block->text, old + (n - cut) + 2);
            if (!block->text)
                abort();
            memcpy(block->text + old, ln + cut, n - cut);
            block->text[old + (n - cut)] = '\n';
            block->text[old + (n - cut) + 1] = 0;
            continue;
        }
        if (block) {
            /* the block ended: drop its trailing blank lines */
            size_t l = strlen(block->text);
            while (l >= 2 && block->text[l - 1] == '\n' && block->text[l - 2] == '\n')
                block->text[--l] = 0;
            if (l == 1)
                block->text[0] = 0;
            block = NULL;
        }
        if (b == n || ln[b] == '#')
            continue;
        if (b > 0)
            return fail(r, b, "an indented line that is not part of a file block");
        const char *colon = memchr(ln, ':', n);
        if (!colon)
            return fail(r, n, "expected 'KEY: VALUE' (a ':' is missing)");
        size_t hl = (size_t)(colon - ln), v = hl + 1;
        while (v < n && is_blank(ln[v]))
            v++;
        size_t vend = n;
        while (vend > v && is_blank(ln[vend - 1]))
            vend--;
        char *head[4] = {0};
        size_t nh = 0;
        if (head_words(r, ln, hl, head, 4, &nh) != 0)
            goto bad;
        if (nh == 0) {
            fail(r, 0, "a line must start with a key");
            goto bad;
        }
        const char *key = head[0];
#define WANT(k, cnt, form)                                                                      \
    if (nh != (cnt)) {                                                                          \
        fail(r, 0, "'%s' takes the form: %s", k, form);                                        \
        goto bad;                                                                               \
    }
        if (strcmp(key, "name") == 0 || strcmp(key, "description") == 0) {
            WANT(key, 1, "KEY: VALUE");
            char **slot = key[0] == 'n' ? &p->name : &p->description;
            if (*slot) {
                fail(r, 0, "duplicate '%s'", key);
                goto bad;
            }
            if (v == vend) {
                fail(r, v, "'%s' needs a value", key);
                goto bad;
            }
            *slot = dup_n(ln + v, vend - v);
        } else if (strcmp(key, "requires") == 0 || strcmp(key, "version") == 0) {
            WANT(key, 1, "KEY: WORDS");
            mr_prof_words *w = key[0] == 'r' ? &p->requires : &p->version;
            if (w->n) {
                fail(r, 0, "duplicate '%s'", key);
                goto bad;
            }
            if (split_words(r, ln + v, vend - v, v, w) != 0)
                goto bad;
        } else if (strcmp(key, "success") == 0) {
            WANT(key, 1, "success: STATUS...");
            if (have_success++) {
                fail(r, 0, "duplicate 'success'");
                goto bad;
            }
            size_t i = v;
            while (i < vend) {
                /* digits, within the line: the data is not NUL-terminated */
                size_t end = i;
                unsigned long st = 0;
                while (end < vend && ln[end] >= '0' && ln[end] <= '9' && st <= 255)
                    st = st * 10 + (unsigned long)(ln[end++] - '0');
                if (end == i || st > 255 || (end < vend && !is_blank(ln[end]))) {
                    fail(r, i, "success takes exit statuses from 0 to 255");
                    goto bad;
                }
                if (p->nsuccess == sizeof p->success / sizeof *p->success) {
                    fail(r, i, "too many statuses");
                    goto bad;
                }
                p->success[p->nsuccess++] = (int)st;
                i = end;
                while (i < vend && is_blank(ln[i]))
                    i++;
            }
            if (p->nsuccess == 0) {
                fail(r, v, "success needs at least one exit status");
                goto bad;
            }
        } else if (strcmp(key, "run") == 0) {
            WANT(key, 3, "run PROTOCOL TLS: COMMAND...");
            if (!one_of(head[1], PROTOS) || !one_of(head[2], TLSES)) {
                fail(r, 4, "run takes a protocol (imap, pop3, smtp or *) and a TLS mode (none, "
                           "implicit, starttls or *)");
                goto bad;
            }
            p->runs = grow(p->runs, p->nruns, sizeof *p->runs);
            mr_prof_run *x = &p->runs[p->nruns++];
            x->proto = head[1], x->tls = head[2], head[1] = head[2] = NULL;
            x->line = r->line;
            if (split_words(r, ln + v, vend - v, v, &x->cmd) != 0)
                goto bad;
            if (x->cmd.n == 0) {
                fail(r, v, "run needs a command");
                goto bad;
            }
        } else if (strcmp(key, "feature") == 0) {
            WANT(key, 3, "feature PROTOCOL NAME: WORDS...");
            if (!one_of(head[1], PROTOS)) {
                fail(r, 8, "feature takes a protocol: imap, pop3, smtp or *");
                goto bad;
            }
            p->features = grow(p->features, p->nfeatures, sizeof *p->features);
            mr_prof_feature *x = &p->features[p->nfeatures++];
            x->proto = head[1], x->name = head[2], head[1] = head[2] = NULL;
            if (split_words(r, ln + v, vend - v, v, &x->args) != 0)
                goto bad;
        } else if (strcmp(key, "env") == 0) {
            WANT(key, 2, "env NAME: VALUE");
            p->envs = grow(p->envs, p->nenvs, sizeof *p->envs);
            mr_prof_env *x = &p->envs[p->nenvs++];
            x->name = head[1], head[1] = NULL;
            x->value = dup_n(ln + v, vend - v);
        } else if (strcmp(key, "file") == 0) {
            WANT(key, 4, "file NAME PROTOCOL TLS: then indented lines");
            if (!one_of(head[2], PROTOS) || !one_of(head[3], TLSES)) {
                fail(r, 5, "file takes a name, a protocol (imap, pop3, smtp or *) and a TLS "
                           "mode (none, implicit, starttls or *)");
                goto bad;
            }
            if (strchr(head[1], '/') || strcmp(head[1], ".") == 0 || strcmp(head[1], "..") == 0) {
                fail(r, 5, "a file name may not hold a '/'");
                goto bad;
            }
            if (v != vend) {
                fail(r, v, "the file's text goes on the indented lines below, not after the ':'");
                goto bad;
            }
            p->files = grow(p->files, p->nfiles, sizeof *p->files);
            block = &p->files[p->nfiles++];
            block->name = head[1], block->proto = head[2], block->tls = head[3];
            head[1] = head[2] = head[3] = NULL;
            block->text = dup_n("", 0);
            indent = 0;
        } else if (strcmp(key, "known") == 0) {
            WANT(key, 3, "known SCENARIO VERDICT: REASON");
            static const char *const V[] = {"fail", "crash", "hang", NULL};
            if (!one_of(head[2], V)) {
                fail(r, 6, "known takes a verdict: fail, crash or hang");
                goto bad;
            }
            if (v == vend) {
                fail(r, v, "known needs a reason after the ':'");
                goto bad;
            }
            p->known = grow(p->known, p->nknown, sizeof *p->known);
            mr_prof_known *x = &p->known[p->nknown++];
            x->scenario = head[1], x->verdict = head[2], head[1] = head[2] = NULL;
            x->reason = dup_n(ln + v, vend - v);
        } else {
            fail(r, 0, "unknown key '%.40s' (expected name, description, requires, version, "
                       "success, run, feature, env, file or known)", key);
            goto bad;
        }
#undef WANT
        for (size_t i = 0; i < 4; i++)
            free(head[i]);
        continue;
    bad:
        for (size_t i = 0; i < 4; i++)
            free(head[i]);
        return -1;
    }
    if (block) {
        size_t l = strlen(block->text);
        while (l >= 2 && block->text[l - 1] == '\n' && block->text[l - 2] == '\n')
            block->text[--l] = 0;
        if (l == 1)
            block->text[0] = 0;
    }
    if (!p->nsuccess)
        p->success[p->nsuccess++] = 0;
    return 0;
}

int mr_profile_read(const char *data, size_t len, const char *file, mr_profile *p, char *msg,
                    size_t msglen)
{
    memset(p, 0, sizeof *p);
    rd r = {file, 0, msg, msglen};
    int rc = parse(&r, data, len, p);
    if (rc == 0 && !p->name) {
        r.line = 1;
        fail(&r, 0, "the profile has no 'name:'");
        rc = -1;
    }
    if (rc == 0 && p->nruns == 0) {
        r.line = 1;
        fail(&r, 0, "the profile has no 'run' line");
        rc = -1;
    }
    if (rc != 0)
        mr_profile_free(p);
    return rc;
}

int mr_profile_load(const char *path, mr_profile *p, char *msg, size_t msglen)
{
    memset(p, 0, sizeof *p);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *data = malloc(MAX_FILE + 1);
    if (!data)
        abort();
    size_t len = fread(data, 1, MAX_FILE + 1, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || len > MAX_FILE) {
        snprintf(msg, msglen, "%s: %s", path, ioerr ? "read error" : "larger than 1 MiB");
        free(data);
        return -1;
    }
    int rc = mr_profile_read(data, len, path, p, msg, msglen);
    free(data);
    if (rc == 0) {
        p->path = dup_n(path, strlen(path));
        const char *slash = strrchr(path, '/');
        p->dir = slash ? dup_n(path, (size_t)(slash - path)) : dup_n(".", 1);
    }
    return rc;
}

int mr_profile_template(const char *tmpl, mr_profile *p, char *msg, size_t msglen)
{
    memset(p, 0, sizeof *p);
    rd r = {"--client", 1, msg, msglen};
    p->dir = dup_n(".", 1);
    p->runs = grow(NULL, 0, sizeof *p->runs);
    p->nruns = 1;
    p->runs[0].proto = dup_n("*", 1);
    p->runs[0].tls = dup_n("*", 1);
    p->runs[0].line = 1;
    int bad = split_words(&r, tmpl, strlen(tmpl), 0, &p->runs[0].cmd);
    if (bad == 0 && p->runs[0].cmd.n == 0)
        bad = fail(&r, 0, "an empty command");
    if (bad != 0) {
        mr_profile_free(p);
        return -1;
    }
    /* the program's own name, for reports */
    const char *prog = p->runs[0].cmd.w[0], *base = strrchr(prog, '/');
    p->name = dup_n(base ? base + 1 : prog, strlen(base ? base + 1 : prog));
    p->description = dup_n(tmpl, strlen(tmpl));
    p->success[p->nsuccess++] = 0;
    return 0;
}

void mr_profile_free(mr_profile *p)
{
    free(p->path);
    free(p->dir);
    free(p->name);
    free(p->description);
    free_words(&p->requires);
    free_words(&p->version);
    for (size_t i = 0; i < p->nruns; i++) {
        free(p->runs[i].proto);
        free(p->runs[i].tls);
        free_words(&p->runs[i].cmd);
    }
    free(p->runs);
    for (size_t i = 0; i < p->nfeatures; i++) {
        free(p->features[i].proto);
        free(p->features[i].name);
        free_words(&p->features[i].args);
    }
    free(p->features);
    for (size_t i = 0; i < p->nenvs; i++) {
        free(p->envs[i].name);
        free(p->envs[i].value);
    }
    free(p->envs);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].name);
        free(p->files[i].proto);
        free(p->files[i].tls);
        free(p->files[i].text);
    }
    free(p->files);
    for (size_t i = 0; i < p->nknown; i++) {
        free(p->known[i].scenario);
        free(p->known[i].verdict);
        free(p->known[i].reason);
    }
    free(p->known);
    memset(p, 0, sizeof *p);
}

static int fits(const char *pat, const char *v) { return strcmp(pat, "*") == 0 || strcmp(pat, v) == 0; }

const mr_prof_run *mr_profile_run(const mr_profile *p, const char *proto, const char *tls)
{
    for (size_t i = 0; i < p->nruns; i++)
        if (fits(p->runs[i].proto, proto) && fits(p->runs[i].tls, tls))
            return &p->runs[i];
    return NULL;
}

const mr_prof_feature *mr_profile_feature(const mr_profile *p, const char *proto, const char *name)
{
    for (size_t i = 0; i < p->nfeatures; i++)
        if (fits(p->features[i].proto, proto) && strcmp(p->features[i].name, name) == 0)
            return &p->features[i];
    return NULL;
}

int mr_profile_file_used(const mr_profile *p, size_t i, const char *proto, const char *tls)
{
    const mr_prof_file *f = &p->files[i];
    if (!fits(f->proto, proto) || !fits(f->tls, tls))
        return 0;
    for (size_t j = 0; j < i; j++)
        if (strcmp(p->files[j].name, f->name) == 0 && fits(p->files[j].proto, proto) &&
            fits(p->files[j].tls, tls))
            return 0;
    return 1;
}

const mr_prof_known *mr_profile_known(const mr_profile *p, const char *scenario)
{
    for (size_t i = 0; i < p->nknown; i++)
        if (strcmp(p->known[i].scenario, scenario) == 0)
            return &p->known[i];
    return NULL;
}

int mr_profile_success(const mr_profile *p, int status)
{
    for (size_t i = 0; i < p->nsuccess; i++)
        if (p->success[i] == status)
            return 1;
    return 0;
}

char *mr_profile_fill(const char *text, mr_prof_lookup fn, void *ctx, char *msg, size_t msglen)
{
    size_t cap = strlen(text) + 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    for (const char *s = text; *s;) {
        const char *add = s;
        size_t addlen = 1;
        if (s[0] == '{' && s[1] == '{') {
            s += 2;
        } else if (s[0] == '{') {
            const char *end = strchr(s, '}');
            if (!end || end - s > 64) {
                snprintf(msg, msglen, "'%.40s': a '{' without its '}' (write '{{' for a brace)", s);
                free(out);
                return NULL;
            }
            char name[72];
            memcpy(name, s + 1, (size_t)(end - s - 1));
            name[end - s - 1] = 0;
            add = fn(ctx, name);
            if (!add) {
                snprintf(msg, msglen, "unknown placeholder {%s}", name);
                free(out);
                return NULL;
            }
            addlen = strlen(add);
            s = end + 1;
        } else {
            s++;
        }
        if (len + addlen + 1 > cap) {
            cap = (len + addlen + 1) * 2;
            out = realloc(out, cap);
            if (!out)
                abort();
        }
        memcpy(out + len, add, addlen);
        len += addlen;
    }
    out[len] = 0;
    return out;
}
