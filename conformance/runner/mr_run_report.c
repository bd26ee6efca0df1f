/*
 * mr_run_report.c - judging one run (mr_run_judge) and the reports of
 * "mailrig run": results.json, junit.xml, report.md, the summary table,
 * and each job's job.json that --replay reads.
 *
 * The verdict, in order: a client killed at its hang limit is a hang; a
 * client killed by a signal, or that printed a sanitizer report, is a
 * crash; any failed expectation (the server's, from the session's result
 * file, or the runner's: exit, output, memory, mailbox) is a fail.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "mr_run.h"

const char *mr_verdict_name(mr_verdict v)
{
    static const char *const n[] = {"pass", "fail", "crash", "hang", "skip", "error"};
    return (unsigned)v < MR_V_COUNT ? n[v] : "?";
}

void mr_job_reason(mr_job *j, const char *fmt, ...)
{
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_t *s = json_string(buf);
    if (!s) {
        /* not UTF-8 (a client's stderr line, a path): jansson refuses
         * it, and the reason would be lost */
        for (char *c = buf; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
        s = json_string(buf);
    }
    json_array_append_new(j->reasons, s);
}

static void check(mr_job *j, const mr_sc_expect *e, int passed, const char *detail)
{
    json_array_append_new(j->checks, json_pack("{s:i,s:s,s:s,s:b,s:s}", "line", (int)e->line,
                                               "expect", e->text ? e->text : "", "by",
                                               mr_sc_expect_is_client(e->kind) ? "runner" : "server",
                                               "passed", passed, "detail", detail ? detail : ""));
    if (!passed)
        mr_job_reason(j, "%s (line %u): %s", e->text ? e->text : "?", e->line, detail ? detail : "");
}

/* The first object of arr whose integer key is v, or NULL. */
static json_t *find_by_int(json_t *arr, const char *key, json_int_t v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_integer_value(json_object_get(x, key)) == v)
            return x;
    }
    return NULL;
}

/* The judged session's result: the highest-numbered session-NNNN.json. */
static json_t *last_session(const mr_job *j)
{
    char *dir;
    if (asprintf(&dir, "%s/server", j->dir) < 0)
        return NULL;
    DIR *d = opendir(dir);
    unsigned best = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            unsigned n;
            char tail[8];
            if (sscanf(e->d_name, "session-%u.jso%1s", &n, tail) == 2 && strcmp(tail, "n") == 0 &&
                n > best)
                best = n;
        }
        closedir(d);
    }
    json_t *o = NULL;
    if (best) {
        char *p;
        if (asprintf(&p, "%s/session-%04u.json", dir, best) >= 0) {
            o = json_load_file(p, 0, NULL);
            free(p);
        }
    }
    free(dir);
    return o;
}

static int count_sessions(const mr_job *j)
{
    json_t *s = j->session;
    return s && json_is_integer(json_object_get(s, "session")) ?
               (int)json_integer_value(json_object_get(s, "session")) : 0;
}

static json_t *folder(json_t *mbox, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(mbox, "folders"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && (strcmp(n, name) == 0 || (strcasecmp(name, "INBOX") == 0 && strcasecmp(n, "INBOX") == 0)))
            return f;
    }
    return NULL;
}

static int has_flag(json_t *msg, const char *flag)
{
    size_t i;
    json_t *v;
    const char *lists[] = {"flags", "keywords"};
    for (size_t k = 0; k < 2; k++)
        json_array_foreach(json_object_get(msg, lists[k]), i, v)
        {
            const char *s = json_string_value(v);
            if (s && strcasecmp(s, flag) == 0)
                return 1;
        }
    return 0;
}

static int sanitizer_line(const char *err, char *out, size_t outlen)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "ERROR: MemorySanitizer", "WARNING: ThreadSanitizer",
                                        "runtime error:", "ERROR: HWAddressSanitizer"};
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        const char *p = err ? strstr(err, marks[i]) : NULL;
        if (p) {
            const char *b = p;
            while (b > err && b[-1] != '\n')
                b--;
            size_t n = strcspn(b, "\n");
            snprintf(out, outlen, "%.*s", (int)(n > 300 ? 300 : n), b);
            return 1;
        }
    }
    return 0;
}

static int out_match(regex_t *re, mr_capture *c)
{
    if (!c->buf)
        return 0;
    for (size_t i = 0; i < c->len; i++)
        if (c->buf[i] == 0)
            c->buf[i] = ' '; /* a NUL would end the text early */
    return regexec(re, c->buf, 0, NULL, 0) == 0;
}

void mr_run_judge(mr_runner *r, mr_job *j)
{
    int st = j->client_status;
    char buf[600];
    int hang = j->killed_by_us, crash = 0;
    if (!hang && WIFEXITED(st))
        j->exit_code = WEXITSTATUS(st);
    if (!hang && WIFSIGNALED(st))
        j->signal = WTERMSIG(st);
    j->session = last_session(j);
    const char *mbox_path = NULL;
    if (j->session) {
        const char *t = json_string_value(json_object_get(j->session, "transcript"));
        if (t)
            j->transcript = strdup(t);
        mbox_path = json_string_value(json_object_get(j->session, "mailbox"));
    }
    json_t *mbox = mbox_path ? json_load_file(mbox_path, 0, NULL) : NULL;

    if (hang) {
        mr_job_reason(j, "hang: the client was still running after %.1f s and was killed",
                   j->timeout_ms / 1000.0);
    } else if (j->signal >= 0) {
        crash = 1;
        mr_job_reason(j, "crash: the client was killed by signal %d (%s)", j->signal,
                   strsignal(j->signal));
    } else if (sanitizer_line(j->err.buf, buf, sizeof buf)) {
        crash = 1;
        mr_job_reason(j, "crash: sanitizer report: %s", buf);
    }
    if (j->sc.runs > 1 && count_sessions(j) < (int)j->sc.runs && !hang && !crash)
        mr_job_reason(j, "the server saw %d session%s of the %u runs", count_sessions(j),
                   count_sessions(j) == 1 ? "" : "s", j->sc.runs);

    /* the server's expectations, as the session's result says */
    json_t *sx = j->session ? json_object_get(j->session, "expectations") : NULL;
    for (size_t i = 0; i < j->sc.nexpects; i++) {
        const mr_sc_expect *e = &j->sc.expects[i];
        if (mr_sc_expect_is_client(e->kind))
            continue;
        if (!j->session) {
            int vacuous = e->kind == MR_EX_NO_SEND || e->kind == MR_EX_SILENT_AFTER;
            check(j, e, vacuous, vacuous ? "the client never connected" :
                                           "the client never connected to the server");
            continue;
        }
        json_t *found = find_by_int(sx, "line", (json_int_t)e->line);
        if (!found) {
            check(j, e, 0, "the server's result does not have this expectation");
            continue;
        }
        const char *d = json_string_value(json_object_get(found, "detail"));
        check(j, e, json_is_true(json_object_get(found, "passed")), d);
    }
    /* the runner's */
    for (size_t i = 0; i < j->sc.nexpects; i++) {
        const mr_sc_expect *e = &j->sc.expects[i];
        if (!mr_sc_expect_is_client(e->kind))
            continue;
        switch (e->kind) {
        case MR_EX_EXIT: {
            int ok = !hang && !crash && j->exit_code >= 0 &&
                     mr_profile_success(&r->prof, j->exit_code);
            if (hang || crash)
                snprintf(buf, sizeof buf, "the client %s", hang ? "hung" : "crashed");
            else
                snprintf(buf, sizeof buf, "exit status %d, which means %s", j->exit_code,
                         ok ? "success" : "failure");
            check(j, e, !hang && !crash && ok == e->success, buf);
            break;
        }
        case MR_EX_OUTPUT:
        case MR_EX_NO_OUTPUT: {
            regex_t *re = (regex_t *)&e->pats[0].re;
            int in_out = out_match(re, &j->out), in_err = out_match(re, &j->err);
            int seen = in_out || in_err;
            if (seen)
                snprintf(buf, sizeof buf, "the client printed it (on %s)",
                         in_out && in_err ? "stdout and stderr" : in_out ? "stdout" : "stderr");
            else
                snprintf(buf, sizeof buf, "the client's output (%llu + %llu bytes) does not match",
                         j->out.total, j->err.total);
            check(j, e, seen == (e->kind == MR_EX_OUTPUT), buf);
            break;
        }
        case MR_EX_MEMORY_BELOW:
            snprintf(buf, sizeof buf, "peak RSS %.1f MiB (limit %.1f MiB)", j->maxrss_kb / 1024.0,
                     e->n / 1048576.0);
            check(j, e, (uint64_t)j->maxrss_kb * 1024 < e->n, buf);
            break;
        case MR_EX_SUBMITTED: {
            json_t *rec = j->session ? json_object_get(j->session, "received") : NULL;
            size_t n = json_array_size(rec);
            snprintf(buf, sizeof buf, "the server accepted %zu message%s", n, n == 1 ? "" : "s");
            check(j, e, n == e->n, buf);
            break;
        }
        case MR_EX_MESSAGES:
        case MR_EX_FLAG:
        case MR_EX_NO_FLAG: {
            json_t *f = mbox ? folder(mbox, e->folder) : NULL;
            if (!mbox) {
                check(j, e, 0, "no mailbox after the session (the client never connected?)");
                break;
            }
            if (!f) {
                snprintf(buf, sizeof buf, "there is no folder %s after the session", e->folder);
                check(j, e, 0, buf);
                break;
            }
            json_t *msgs = json_object_get(f, "messages");
            if (e->kind == MR_EX_MESSAGES) {
                size_t n = json_array_size(msgs);
                snprintf(buf, sizeof buf, "%zu message%s left in %s", n, n == 1 ? "" : "s",
                         e->folder);
                check(j, e, n == e->n, buf);
                break;
            }
            json_t *found = find_by_int(msgs, "uid", (json_int_t)e->n);
            if (!found) {
                snprintf(buf, sizeof buf, "there is no message with UID %llu in %s",
                         (unsigned long long)e->n, e->folder);
                check(j, e, 0, buf);
                break;
            }
            int has = has_flag(found, e->flag);
            snprintf(buf, sizeof buf, "UID %llu %s %s", (unsigned long long)e->n,
                     has ? "has" : "does not have", e->flag);
            check(j, e, has == (e->kind == MR_EX_FLAG), buf);
            break;
        }
        default:
            break;
        }
    }
    json_decref(mbox);
    j->verdict = hang ? MR_V_HANG : crash ? MR_V_CRASH : json_array_size(j->reasons) ? MR_V_FAIL
                                                                                     : MR_V_PASS;
    /* The fake server itself must end cleanly (exit 0 or 1, its verdict),
     * with no sanitizer report: anything else is mailrig's fault, not the
     * client's, and makes the verdict an error. */
    if (j->server_done) {
        int ss = j->server_status;
        char *elog;
        if (asprintf(&elog, "%s/server.err", j->dir) < 0)
            abort();
        FILE *f = fopen(elog, "r");
        free(elog);
        char *text = NULL;
        size_t tlen = 0;
        if (f) {
            text = calloc(1, MR_OUT_CAP + 1);
            if (text)
                tlen = fread(text, 1, MR_OUT_CAP, f);
            fclose(f);
        }
        if (WIFSIGNALED(ss) && !j->term_sent) {
            mr_job_reason(j, "mailrig's fake server died of signal %d (%s): a mailrig bug",
                       WTERMSIG(ss), strsignal(WTERMSIG(ss)));
            j->verdict = MR_V_ERROR;
        } else if (WIFEXITED(ss) && WEXITSTATUS(ss) > 1) {
            mr_job_reason(j, "mailrig's fake server exited with status %d (see server.err)",
                       WEXITSTATUS(ss));
            j->verdict = MR_V_ERROR;
        }
        if (text && tlen && sanitizer_line(text, buf, sizeof buf)) {
            mr_job_reason(j, "mailrig's fake server printed a sanitizer report (a mailrig bug): %s",
                       buf);
            j->verdict = MR_V_ERROR;
        }
        free(text);
    }
    const mr_prof_known *k = mr_profile_known(&r->prof, j->sc.name);
    j->known = k && strcmp(k->verdict, mr_verdict_name(j->verdict)) == 0;
}

/* ------------------------------------------------------------ reports */

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static char *path_in(const mr_job *j, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", j->dir, name) < 0)
        abort();
    return p;
}

static json_t *job_json(mr_runner *r, mr_job *j)
{
    json_t *o = json_object(), *argv = json_array();
    const mr_prof_known *k = mr_profile_known(&r->prof, j->sc.name);
    for (size_t i = 0; i < j->argc; i++)
        json_array_append_new(argv, json_string(j->argv[i]));
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(o, "name", str_or_null(j->sc.name));
    json_object_set_new(o, "protocol", json_string(j->sc.protocol));
    json_object_set_new(o, "file", json_string(j->path));
    json_object_set_new(o, "description", str_or_null(j->sc.description));
    json_object_set_new(o, "rfc", str_or_null(j->sc.rfc));
    json_object_set_new(o, "tls", json_string(j->tls));
    json_object_set_new(o, "verdict", json_string(mr_verdict_name(j->verdict)));
    json_object_set_new(o, "known", k ? json_pack("{s:s,s:s,s:b}", "verdict", k->verdict, "reason",
                                                  k->reason, "matches", j->known)
                                      : json_null());
    json_object_set_new(o, "reasons", json_incref(j->reasons));
    json_object_set_new(o, "checks", json_incref(j->checks));
    json_object_set_new(o, "duration", json_real(j->duration));
    json_object_set_new(o, "runs", json_integer(j->sc.runs));
    json_object_set_new(o, "exit_code", j->exit_code >= 0 ? json_integer(j->exit_code) : json_null());
    json_object_set_new(o, "signal", j->signal >= 0 ? json_integer(j->signal) : json_null());
    json_object_set_new(o, "max_rss_kb", json_integer(j->maxrss_kb));
    json_object_set_new(o, "command", argv);
    json_object_set_new(o, "dir", json_string(j->dir));
    json_object_set_new(o, "transcript", str_or_null(j->transcript));
    json_object_set_new(o, "server_verdict",
                        j->session ? json_incref(json_object_get(j->session, "verdict")) : json_null());
    json_object_set_new(o, "server_end",
                        j->session ? json_incref(json_object_get(j->session, "end")) : json_null());
    if (j->argc) {
        char name[32];
        snprintf(name, sizeof name, "client-%u.out", j->run);
        json_object_set_new(o, "client_stdout", json_string(name));
        snprintf(name, sizeof name, "client-%u.err", j->run);
        json_object_set_new(o, "client_stderr", json_string(name));
        json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)j->out.total));
        json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)j->err.total));
    }
    return o;
}

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 && c != '\n' && c != '\t')
            fputc('?', f); /* not allowed in XML 1.0 */
        else
            fputc(c, f);
    }
}

static void md_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static const char *const PROTOS[] = {"imap", "pop3", "smtp"};

static void tally(const mr_runner *r, const char *proto, size_t t[MR_V_COUNT], size_t *total)
{
    memset(t, 0, sizeof(size_t) * MR_V_COUNT);
    *total = 0;
    for (size_t i = 0; i < r->njobs; i++)
        if (!proto || strcmp(r->jobs[i].sc.protocol, proto) == 0) {
            t[r->jobs[i].verdict]++;
            (*total)++;
        }
}

int mr_run_write_reports(mr_runner *r, char *msg, size_t msglen)
{
    char *p;
    int rc = 0;
    char abs_profile[PATH_MAX];
    const char *client_spec = r->o.client;
    if (r->prof.path && realpath(r->prof.path, abs_profile))
        client_spec = abs_profile;

    /* job.json per job, for --replay */
    for (size_t i = 0; i < r->njobs; i++) {
        mr_job *j = &r->jobs[i];
        json_t *o = json_pack("{s:s,s:s,s:i}", "scenario", j->path, "client", client_spec,
                              "default_timeout", (int)r->o.timeout_ms);
        p = path_in(j, "job.json");
        if (json_dump_file(o, p, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            rc = -1;
        free(p);
        json_decref(o);
    }

    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    size_t t[MR_V_COUNT], total;
    tally(r, NULL, t, &total);

    json_t *root = json_object(), *list = json_array(), *tot = json_object();
    json_object_set_new(root, "client", json_string(r->prof.name));
    json_object_set_new(root, "profile", str_or_null(r->prof.path ? client_spec : NULL));
    json_object_set_new(root, "template", str_or_null(r->prof.path ? NULL : r->o.client));
    json_object_set_new(root, "version", str_or_null(r->client_version));
    json_object_set_new(root, "finished", json_string(when));
    json_object_set_new(root, "wall_seconds", json_real(r->wall));
    json_object_set_new(root, "jobs", json_integer(r->o.jobs));
    json_object_set_new(tot, "scenarios", json_integer((json_int_t)total));
    for (int v = 0; v < MR_V_COUNT; v++)
        json_object_set_new(tot, mr_verdict_name((mr_verdict)v), json_integer((json_int_t)t[v]));
    json_object_set_new(root, "totals", tot);
    for (size_t i = 0; i < r->njobs; i++)
        json_array_append_new(list, job_json(r, &r->jobs[i]));
    json_object_set_new(root, "scenarios", list);
    if (asprintf(&p, "%s/results.json", r->o.out) < 0)
        abort();
    if (json_dump_file(root, p, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        snprintf(msg, msglen, "%s: cannot write", p);
        rc = -1;
    }
    free(p);
    json_decref(root);

    /* JUnit XML: one testsuite per protocol */
    if (asprintf(&p, "%s/junit.xml", r->o.out) < 0)
        abort();
    FILE *f = fopen(p, "w");
    if (f) {
        fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mailrig run: ");
        xml_text(f, r->prof.name);
        fprintf(f, "\" tests=\"%zu\" time=\"%.3f\">\n", total, r->wall);
        for (size_t pi = 0; pi < 3; pi++) {
            size_t pt[MR_V_COUNT], ptotal;
            tally(r, PROTOS[pi], pt, &ptotal);
            if (!ptotal)
                continue;
            fputs("  <testsuite name=\"", f);
            xml_text(f, r->prof.name); /* a profile's name may hold '"', '&', '<' */
            fprintf(f, ".%s\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\">\n",
                    PROTOS[pi], ptotal, pt[MR_V_FAIL] + pt[MR_V_HANG],
                    pt[MR_V_CRASH] + pt[MR_V_ERROR], pt[MR_V_SKIP]);
            for (size_t i = 0; i < r->njobs; i++) {
                mr_job *j = &r->jobs[i];
                if (strcmp(j->sc.protocol, PROTOS[pi]) != 0)
                    continue;
                const char *base = strchr(j->id, '/') + 1;
                fputs("    <testcase classname=\"", f);
                xml_text(f, r->prof.name);
                fprintf(f, ".%s\" name=\"", PROTOS[pi]);
                xml_text(f, base);
                fprintf(f, "\" time=\"%.3f\"", j->duration);
                if (j->verdict == MR_V_PASS) {
                    fputs("/>\n", f);
                    continue;
                }
                const char *first = json_string_value(json_array_get(j->reasons, 0));
                const char *tag = j->verdict == MR_V_SKIP ? "skipped"
                                  : j->verdict == MR_V_CRASH || j->verdict == MR_V_ERROR ? "error"
                                                                                         : "failure";
                fprintf(f, ">\n      <%s type=\"%s\" message=\"", tag, mr_verdict_name(j->verdict));
                xml_text(f, first ? first : "");
                fputs("\">", f);
                size_t k;
                json_t *x;
                json_array_foreach(j->reasons, k, x)
                {
                    xml_text(f, json_string_value(x));
                    fputc('\n', f);
                }
                if (j->transcript) {
                    fputs("transcript: ", f);
                    xml_text(f, j->transcript);
                    fputc('\n', f);
                }
                fprintf(f, "</%s>\n    </testcase>\n", tag);
            }
            fputs("  </testsuite>\n", f);
        }
        fputs("</testsuites>\n", f);
        if (fclose(f) != 0)
            rc = -1;
    } else {
        snprintf(msg, msglen, "%s: %s", p, strerror(errno));
        rc = -1;
    }
    free(p);

    /* Markdown */
    if (asprintf(&p, "%s/report.md", r->o.out) < 0)
        abort();
    f = fopen(p, "w");
    if (f) {
        fprintf(f, "# mailrig run: %s\n\n", r->prof.name);
        if (r->client_version)
            fprintf(f, "Client: `%s`  \n", r->client_version);
        fprintf(f, "%zu scenarios in %.1f s, %u at a time; finished %s.\n\n", total, r->wall,
                r->o.jobs, when);
        fputs("| protocol | scenarios | pass | fail | crash | hang | skip | error |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|\n", f);
        for (size_t pi = 0; pi <= 3; pi++) {
            size_t pt[MR_V_COUNT], ptotal;
            tally(r, pi < 3 ? PROTOS[pi] : NULL, pt, &ptotal);
            if (!ptotal)
                continue;
            fprintf(f, "| %s | %zu | %zu | %zu | %zu | %zu | %zu | %zu |\n",
                    pi < 3 ? PROTOS[pi] : "**total**", ptotal, pt[MR_V_PASS], pt[MR_V_FAIL],
                    pt[MR_V_CRASH], pt[MR_V_HANG], pt[MR_V_SKIP], pt[MR_V_ERROR]);
        }
        int any = 0;
        for (size_t i = 0; i < r->njobs; i++) {
            mr_job *j = &r->jobs[i];
            if (j->verdict == MR_V_PASS || j->verdict == MR_V_SKIP)
                continue;
            if (!any++)
                fputs("\n## Not passed\n", f);
            fprintf(f, "\n### %s: %s%s\n\n", j->id, mr_verdict_name(j->verdict),
                    j->known ? " (known)" : "");
            if (j->sc.description) {
                md_text(f, j->sc.description);
                fprintf(f, " (%s)\n\n", j->sc.rfc ? j->sc.rfc : "no RFC given");
            }
            size_t k;
            json_t *x;
            json_array_foreach(j->reasons, k, x)
            {
                fputs("- ", f);
                md_text(f, json_string_value(x));
                fputc('\n', f);
            }
            const mr_prof_known *kn = mr_profile_known(&r->prof, j->sc.name);
            if (kn) {
                fprintf(f, "- known %s: ", kn->verdict);
                md_text(f, kn->reason);
                fputc('\n', f);
            }
            fprintf(f, "- transcript: `%s`\n- client output: `%s/client-%u.out`, `.err`\n",
                    j->transcript ? j->transcript : "(none: the client never connected)", j->dir,
                    j->run);
            fprintf(f, "- rerun: `mailrig run --replay %s`\n", j->dir);
        }
        any = 0;
        for (size_t i = 0; i < r->njobs; i++) {
            mr_job *j = &r->jobs[i];
            if (j->verdict != MR_V_SKIP)
                continue;
            if (!any++)
                fputs("\n## Skipped\n\n", f);
            fprintf(f, "- %s: ", j->id);
            md_text(f, json_string_value(json_array_get(j->reasons, 0)));
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            rc = -1;
    } else {
        snprintf(msg, msglen, "%s: %s", p, strerror(errno));
        rc = -1;
    }
    free(p);
    return rc;
}

void mr_run_summary(mr_runner *r, FILE *f)
{
    size_t t[MR_V_COUNT], total;
    fprintf(f, "\n%-9s %9s %5s %5s %6s %5s %5s %6s\n", "protocol", "scenarios", "pass", "fail",
            "crash", "hang", "skip", "error");
    for (size_t pi = 0; pi <= 3; pi++) {
        tally(r, pi < 3 ? PROTOS[pi] : NULL, t, &total);
        if (!total)
            continue;
        fprintf(f, "%-9s %9zu %5zu %5zu %6zu %5zu %5zu %6zu\n", pi < 3 ? PROTOS[pi] : "total",
                total, t[MR_V_PASS], t[MR_V_FAIL], t[MR_V_CRASH], t[MR_V_HANG], t[MR_V_SKIP],
                t[MR_V_ERROR]);
    }
    int any = 0;
    for (size_t i = 0; i < r->njobs; i++) {
        mr_job *j = &r->jobs[i];
        if (j->verdict == MR_V_PASS || j->verdict == MR_V_SKIP)
            continue;
        if (!any++)
            fputs("\nnot passed:\n", f);
        const char *first = json_string_value(json_array_get(j->reasons, 0));
        fprintf(f, "  %-5s %s%s: %s\n", mr_verdict_name(j->verdict), j->id,
                j->known ? " (known)" : "", first ? first : "");
        if (j->transcript)
            fprintf(f, "        transcript: %s\n", j->transcript);
    }
    fprintf(f, "\n%s: %zu scenarios in %.1f s; reports: %s/report.md, %s/results.json, "
               "%s/junit.xml\n",
            r->prof.name, r->njobs, r->wall, r->o.out, r->o.out, r->o.out);
}
