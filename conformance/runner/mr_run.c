/*
 * mr_run.c - "mailrig run" (mr_run.h): the command line, finding the
 * scenarios and the profile, and the loop that runs the jobs in
 * parallel: each job starts "mailrig serve" for its scenario, waits for
 * its listening line, runs the client (once per "runs:"), captures its
 * output, kills it at its hang limit, then lets the server finish and
 * hands the job to the judge (mr_run_report.c).
 */
#define _GNU_SOURCE /* pipe2, execvpe */
#include "mr_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MR_CLIENTS_DIR
#define MR_CLIENTS_DIR "conformance/clients"
#endif

enum { J_PENDING, J_SERVER, J_CLIENT, J_DRAIN, J_FINISH, J_DONE };

#define SERVER_START_S 15.0 /* the listening line must come within this */
#define SERVER_GRACE_S 0.5  /* after the last client run, before SIGTERM: the
                               client is gone, so its sessions end at once */
#define DRAIN_S 2.0         /* client output after its exit (a child may hold it) */

static volatile sig_atomic_t g_stop;
static void on_stop(int sig) { g_stop = sig; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* rm -r of a job's folder from an earlier run (only what we made). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *sub = xasprintf("%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(sub);
        else
            unlink(sub);
        free(sub);
    }
    closedir(d);
    rmdir(path);
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    fchmod(fd, mode);
    return close(fd);
}

/* ------------------------------------------------------------ scenarios */

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.scn under path (sorted), or path itself. */
static int collect(const char *path, char ***list, size_t *n, size_t *cap, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "mailrig run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (!top && !has_suffix(path, ".scn"))
            return 0;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *list = realloc(*list, *cap * sizeof **list);
            if (!*list)
                abort();
        }
        (*list)[(*n)++] = xstrdup(path);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "mailrig run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, nc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == nc) {
            nc = nc ? nc * 2 : 64;
            names = realloc(names, nc * sizeof *names);
            if (!names)
                abort();
        }
        names[nn++] = xasprintf("%s%s%s", path, has_suffix(path, "/") ? "" : "/", e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        if (rc == 0 && collect(names[i], list, n, cap, 0) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static int protocol_wanted(const char *filter, const char *proto)
{
    if (!filter)
        return 1;
    size_t l = strlen(proto);
    for (const char *p = filter; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == l && strncmp(p, proto, l) == 0)
            return 1;
        p += n + (c != NULL);
    }
    return 0;
}

/* ------------------------------------------------------------ placeholders */

typedef struct fill_ctx {
    mr_runner *r;
    mr_job *j;
    char maildir[PATH_MAX], state[PATH_MAX], mbox[PATH_MAX + 8], timeout[16], file[PATH_MAX + 256];
} fill_ctx;

static const char *lookup(void *vctx, const char *name)
{
    fill_ctx *c = vctx;
    mr_job *j = c->j;
    if (strcmp(name, "root") == 0)
        return c->r->prof.dir;
    if (strcmp(name, "bindir") == 0)
        return c->r->bindir;
    if (!j)
        return NULL;
    if (strcmp(name, "host") == 0)
        return "localhost";
    if (strcmp(name, "ip") == 0)
        return "127.0.0.1";
    if (strcmp(name, "port") == 0)
        return j->port;
    if (strcmp(name, "user") == 0)
        return j->sc.user ? j->sc.user : "user";
    if (strcmp(name, "password") == 0)
        return j->sc.password ? j->sc.password : "password";
    if (strcmp(name, "cafile") == 0)
        return j->cafile;
    if (strcmp(name, "tls") == 0)
        return j->tls;
    if (strcmp(name, "protocol") == 0)
        return j->sc.protocol;
    if (strcmp(name, "maildir") == 0)
        return c->maildir;
    if (strcmp(name, "state") == 0)
        return c->state;
    if (strcmp(name, "mbox") == 0)
        return c->mbox;
    if (strcmp(name, "timeout") == 0)
        return c->timeout;
    if (strcmp(name, "message") == 0)
        return c->r->message;
    if (strcmp(name, "from") == 0)
        return "user@localhost";
    if (strcmp(name, "to") == 0)
        return "rcpt@localhost";
    if (strncmp(name, "file:", 5) == 0) {
        snprintf(c->file, sizeof c->file, "%s/%s", c->state, name + 5);
        return c->file;
    }
    return NULL;
}

static void fill_init(fill_ctx *c, mr_runner *r, mr_job *j)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->j = j;
    if (j) {
        /* absolute: the client runs in its state folder, so a relative
         * --out would name the wrong place from there */
        char *abs = realpath(j->dir, NULL); /* the job's folder exists by now */
        const char *dir = abs ? abs : j->dir;
        snprintf(c->maildir, sizeof c->maildir, "%s/maildir-%u", dir, j->run);
        snprintf(c->state, sizeof c->state, "%s/state", dir);
        free(abs);
        snprintf(c->mbox, sizeof c->mbox, "%s/mbox", c->state);
        snprintf(c->timeout, sizeof c->timeout, "%u", (j->timeout_ms + 999) / 1000);
    }
}

/* The feature words a scenario needs, or the name of one the profile
 * lacks (in *missing). */
static int needed(const mr_profile *p, const mr_job *j, const mr_prof_feature ***out, size_t *n,
                  char *missing, size_t mlen)
{
    *out = NULL;
    *n = 0;
    if (!j->sc.needs)
        return 0;
    char *list = xstrdup(j->sc.needs), *save = NULL;
    for (char *w = strtok_r(list, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
        const mr_prof_feature *f = mr_profile_feature(p, j->sc.protocol, w);
        if (!f) {
            snprintf(missing, mlen, "%s", w);
            free(list);
            free(*out);
            *out = NULL;
            return -1;
        }
        *out = realloc(*out, (*n + 1) * sizeof **out);
        if (!*out)
            abort();
        (*out)[(*n)++] = f;
    }
    free(list);
    return 0;
}

static void push_word(mr_job *j, char *w)
{
    j->argv = realloc(j->argv, (j->argc + 2) * sizeof *j->argv);
    if (!j->argv)
        abort();
    j->argv[j->argc++] = w;
    j->argv[j->argc] = NULL;
}

static void free_argv(mr_job *j)
{
    for (size_t i = 0; i < j->argc; i++)
        free(j->argv[i]);
    free(j->argv);
    j->argv = NULL;
    j->argc = 0;
}


/* Whether the profile can run this job; else a skip reason. */
static int runnable(mr_runner *r, mr_job *j)
{
    if (!mr_profile_run(&r->prof, j->sc.protocol, j->tls)) {
        mr_job_reason(j, "%s has no command for %s with TLS %s", r->prof.name, j->sc.protocol, j->tls);
        return 0;
    }
    const mr_prof_feature **f;
    size_t n;
    char missing[128];
    if (needed(&r->prof, j, &f, &n, missing, sizeof missing) != 0) {
        mr_job_reason(j, "needs the client behaviour '%s', which %s's profile does not provide", missing,
               r->prof.name);
        return 0;
    }
    free(f);
    return 1;
}

/* ------------------------------------------------------------ processes */

static void capture_open(mr_capture *c, int fd)
{
    free(c->buf);
    c->buf = malloc(MR_OUT_CAP + 1);
    if (!c->buf)
        abort();
    c->buf[0] = 0;
    c->len = 0;
    c->total = 0;
    c->fd = fd;
}

static void capture_read(mr_capture *c)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close(c->fd);
            c->fd = -1;
            return;
        }
        c->total += (unsigned long long)n;
        size_t keep = (size_t)n;
        if (keep > MR_OUT_CAP - c->len)
            keep = MR_OUT_CAP - c->len;
        memcpy(c->buf + c->len, tmp, keep);
        c->len += keep;
        c->buf[c->len] = 0;
    }
}

static void capture_close(mr_capture *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static pid_t start_server(mr_runner *r, mr_job *j, char *err, size_t errlen)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    char *sdir = xasprintf("%s/server", j->dir), *elog = xasprintf("%s/server.err", j->dir);
    char sessions[12];
    snprintf(sessions, sizeof sessions, "%u", j->sc.runs ? j->sc.runs : 1);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        int e = open(elog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null < 0 || e < 0)
            _exit(127);
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(e, 2);
        char *argv[] = {"mailrig", "serve", "--protocol", j->sc.protocol, "--scenario", j->path,
                        "--sessions", sessions, "--out", sdir, "--listen", "127.0.0.1:0", NULL};
        execv(r->exe, argv);
        dprintf(2, "mailrig run: cannot start %s: %s\n", r->exe, strerror(errno));
        _exit(127);
    }
    free(sdir);
    free(elog);
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    setpgid(pid, pid);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    j->server_fd = out[0];
    return pid;
}

/* The listening line: {"event":"listening",...,"port":N,...,"cafile":...}. */
static int parse_listening(mr_job *j)
{
    json_error_t e;
    json_t *o = json_loadb(j->line, j->linelen, 0, &e);
    int ok = 0;
    if (o) {
        json_t *port = json_object_get(o, "port"), *ca = json_object_get(o, "cafile");
        if (json_is_integer(port)) {
            snprintf(j->port, sizeof j->port, "%d", (int)json_integer_value(port));
            snprintf(j->cafile, sizeof j->cafile, "%s", json_is_string(ca) ? json_string_value(ca) : "");
            ok = 1;
        }
        json_decref(o);
    }
    return ok ? 0 : -1;
}

/* Build the command of this run, write the profile's files, start it. */
static int start_client(mr_runner *r, mr_job *j, char *err, size_t errlen)
{
    fill_ctx c;
    fill_init(&c, r, j);
    const mr_prof_run *run = mr_profile_run(&r->prof, j->sc.protocol, j->tls);
    const mr_prof_feature **feats = NULL;
    size_t nfeats = 0;
    char missing[128];
    needed(&r->prof, j, &feats, &nfeats, missing, sizeof missing);
    free_argv(j);
    char fmsg[300];
    int rc = -1;

    if (mkdirs(c.state) != 0) {
        snprintf(err, errlen, "%s: %s", c.state, strerror(errno));
        goto out;
    }
    static const char *const sub[] = {"", "/cur", "/new", "/tmp"};
    for (size_t i = 0; i < 4; i++) {
        char *d = xasprintf("%s%s", c.maildir, sub[i]);
        int bad = mkdirs(d);
        free(d);
        if (bad) {
            snprintf(err, errlen, "%s: %s", c.maildir, strerror(errno));
            goto out;
        }
    }
    for (size_t i = 0; i < r->prof.nfiles; i++) {
        if (!mr_profile_file_used(&r->prof, i, j->sc.protocol, j->tls))
            continue;
        char *text = mr_profile_fill(r->prof.files[i].text, lookup, &c, fmsg, sizeof fmsg);
        if (!text) {
            snprintf(err, errlen, "profile file %s: %s", r->prof.files[i].name, fmsg);
            goto out;
        }
        char *path = xasprintf("%s/%s", c.state, r->prof.files[i].name);
        int bad = write_file(path, text, strlen(text), 0600);
        free(text);
        if (bad) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(path);
            goto out;
        }
        free(path);
    }
    for (size_t i = 0; i < run->cmd.n; i++) {
        if (strcmp(run->cmd.w[i], "{features}") == 0) {
            for (size_t k = 0; k < nfeats; k++)
                for (size_t a = 0; a < feats[k]->args.n; a++) {
                    char *w = mr_profile_fill(feats[k]->args.w[a], lookup, &c, fmsg, sizeof fmsg);
                    if (!w) {
                        snprintf(err, errlen, "feature %s: %s", feats[k]->name, fmsg);
                        goto out;
                    }
                    push_word(j, w);
                }
            continue;
        }
        char *w = mr_profile_fill(run->cmd.w[i], lookup, &c, fmsg, sizeof fmsg);
        if (!w) {
            snprintf(err, errlen, "%s line %u: %s", r->prof.path ? r->prof.path : "--client",
                     run->line, fmsg);
            goto out;
        }
        push_word(j, w);
    }
    /* the environment: ours, HOME and XDG_CONFIG_HOME in the state folder
     * (so the user's own ~/.fetchmailrc and such play no part), then the
     * profile's */
    char **env = NULL;
    size_t nenv = 0;
    extern char **environ;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "HOME=", 5) != 0 && strncmp(*e, "XDG_CONFIG_HOME=", 16) != 0) {
            env = realloc(env, (nenv + 2) * sizeof *env);
            if (!env)
                abort();
            env[nenv++] = xstrdup(*e);
        }
    env = realloc(env, (nenv + 4 + r->prof.nenvs) * sizeof *env);
    if (!env)
        abort();
    env[nenv++] = xasprintf("HOME=%s", c.state);
    env[nenv++] = xasprintf("XDG_CONFIG_HOME=%s/.config", c.state);
    for (size_t i = 0; i < r->prof.nenvs; i++) {
        char *v = mr_profile_fill(r->prof.envs[i].value, lookup, &c, fmsg, sizeof fmsg);
        if (!v) {
            snprintf(err, errlen, "env %s: %s", r->prof.envs[i].name, fmsg);
            for (size_t k = 0; k < nenv; k++)
                free(env[k]);
            free(env);
            goto out;
        }
        /* a later definition of a name wins: drop the earlier one */
        size_t nl = strlen(r->prof.envs[i].name);
        for (size_t k = 0; k < nenv; k++)
            if (strncmp(env[k], r->prof.envs[i].name, nl) == 0 && env[k][nl] == '=') {
                free(env[k]);
                env[k] = env[--nenv];
                break;
            }
        env[nenv++] = xasprintf("%s=%s", r->prof.envs[i].name, v);
        free(v);
    }
    env[nenv] = NULL;

    int o[2], e[2], x[2];
    if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0 || pipe2(x, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto env_out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        /* a profile's client runs in its state folder; a command template
         * typed by the user runs where mailrig run was started, so that
         * its relative paths mean what they meant in the user's shell */
        if (null < 0 || (r->prof.path && chdir(c.state) != 0))
            _exit(127);
        dup2(null, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execvpe(j->argv[0], j->argv, env);
        int no = errno;
        if (write(x[1], &no, sizeof no) < 0)
            _exit(127);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    close(x[1]);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(o[0]);
        close(e[0]);
        close(x[0]);
        goto env_out;
    }
    setpgid(pid, pid);
    int no = 0;
    ssize_t got;
    do
        got = read(x[0], &no, sizeof no); /* EOF when exec succeeded */
    while (got < 0 && errno == EINTR);
    close(x[0]);
    if (got == (ssize_t)sizeof no) {
        snprintf(err, errlen, "cannot run '%s': %s", j->argv[0], strerror(no));
        waitpid(pid, NULL, 0);
        close(o[0]);
        close(e[0]);
        goto env_out;
    }
    fcntl(o[0], F_SETFL, O_NONBLOCK);
    fcntl(e[0], F_SETFL, O_NONBLOCK);
    capture_open(&j->out, o[0]);
    capture_open(&j->err, e[0]);
    j->client = pid;
    j->client_t0 = now();
    j->client_reaped = 0;
    j->killed_by_us = 0;
    j->deadline = j->client_t0 + j->timeout_ms / 1000.0;
    rc = 0;
env_out:
    for (size_t k = 0; k < nenv; k++)
        free(env[k]);
    free(env);
out:
    free(feats);
    return rc;
}

/* Save this run's output next to the server's files. */
static void save_output(mr_job *j)
{
    char *p = xasprintf("%s/client-%u.out", j->dir, j->run);
    write_file(p, j->out.buf ? j->out.buf : "", j->out.len, 0644);
    free(p);
    p = xasprintf("%s/client-%u.err", j->dir, j->run);
    write_file(p, j->err.buf ? j->err.buf : "", j->err.len, 0644);
    free(p);
}

/* ------------------------------------------------------------ the loop */

static void finish(mr_runner *r, mr_job *j, mr_verdict v);
static void progress(mr_runner *r, mr_job *last);

static void job_error(mr_runner *r, mr_job *j, const char *msg)
{
    mr_job_reason(j, "%s", msg);
    if (j->server > 0) {
        kill(-j->server, SIGKILL);
        waitpid(j->server, NULL, 0);
        j->server = 0;
    }
    if (j->server_fd >= 0)
        close(j->server_fd);
    j->server_fd = -1;
    finish(r, j, MR_V_ERROR);
}

static void start_job(mr_runner *r, mr_job *j)
{
    char err[PATH_MAX + 600];
    j->t0 = now();
    remove_tree(j->dir);
    if (mkdirs(j->dir) != 0) {
        snprintf(err, sizeof err, "%s: %s", j->dir, strerror(errno));
        job_error(r, j, err);
        return;
    }
    if (!runnable(r, j)) {
        finish(r, j, MR_V_SKIP);
        return;
    }
    j->server = start_server(r, j, err, sizeof err);
    if (j->server < 0) {
        j->server = 0;
        job_error(r, j, err);
        return;
    }
    j->state = J_SERVER;
    j->deadline = j->t0 + SERVER_START_S;
}

static void finish(mr_runner *r, mr_job *j, mr_verdict v)
{
    j->verdict = v;
    if (v != MR_V_SKIP && v != MR_V_ERROR)
        mr_run_judge(r, j); /* sets the verdict from what happened */
    j->duration = now() - j->t0;
    j->state = J_DONE;
    r->done++;
    r->tally[j->verdict]++;
    progress(r, j);
}

static void term_server(mr_job *j)
{
    j->state = J_FINISH;
    j->deadline = now() + SERVER_GRACE_S;
}

/* The client of this run has been reaped and its output drained. */
static void run_ended(mr_runner *r, mr_job *j)
{
    capture_close(&j->out);
    capture_close(&j->err);
    save_output(j);
    int ok = !j->killed_by_us && WIFEXITED(j->client_status) &&
             mr_profile_success(&r->prof, WEXITSTATUS(j->client_status));
    if (j->run < j->sc.runs && ok) {
        char err[PATH_MAX + 600];
        j->run++;
        if (start_client(r, j, err, sizeof err) != 0) {
            job_error(r, j, err);
            return;
        }
        j->state = J_CLIENT;
        return;
    }
    if (j->run < j->sc.runs && !j->killed_by_us && !WIFSIGNALED(j->client_status))
        mr_job_reason(j, "run %u of %u (which prepares the client's state) did not succeed: exit "
                  "status %d",
               j->run, j->sc.runs, WEXITSTATUS(j->client_status));
    term_server(j);
}

static void reap(mr_runner *r, mr_job *j)
{
    int st;
    struct rusage ru;
    if (j->state == J_CLIENT && !j->client_reaped) {
        pid_t p = wait4(j->client, &st, WNOHANG, &ru);
        if (p == j->client) {
            j->client_reaped = 1;
            j->client_status = st;
            if (ru.ru_maxrss > j->maxrss_kb)
                j->maxrss_kb = ru.ru_maxrss;
            kill(-j->client, SIGKILL); /* what it left running */
            j->state = J_DRAIN;
            j->deadline = now() + DRAIN_S;
        }
    }
    if (j->server > 0 && !j->server_done) {
        pid_t p = waitpid(j->server, &st, WNOHANG);
        if (p == j->server) {
            j->server_done = 1;
            j->server_status = st;
            kill(-j->server, SIGKILL);
            if (j->state == J_SERVER) {
                char msg[700];
                char *path = xasprintf("%s/server.err", j->dir);
                FILE *f = fopen(path, "r");
                char line[600] = "";
                if (f) {
                    if (!fgets(line, sizeof line, f))
                        line[0] = 0;
                    fclose(f);
                }
                line[strcspn(line, "\n")] = 0;
                free(path);
                snprintf(msg, sizeof msg, "the server exited before listening%s%s",
                         line[0] ? ": " : "", line);
                j->server = 0;
                job_error(r, j, msg);
            }
        }
    }
    if (j->state == J_FINISH && j->server_done) {
        j->server = 0;
        if (j->server_fd >= 0)
            close(j->server_fd);
        j->server_fd = -1;
        finish(r, j, MR_V_PASS);
    }
}

static void server_input(mr_runner *r, mr_job *j)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = read(j->server_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close(j->server_fd);
            j->server_fd = -1;
            return;
        }
        if (j->state != J_SERVER)
            continue; /* session lines: not needed, the result files have it */
        for (ssize_t i = 0; i < n; i++) {
            if (tmp[i] == '\n') {
                char err[PATH_MAX + 600];
                if (parse_listening(j) != 0) {
                    job_error(r, j, "the server's first line is not its listening line");
                    return;
                }
                j->run = 1;
                if (start_client(r, j, err, sizeof err) != 0) {
                    job_error(r, j, err);
                    return;
                }
                j->state = J_CLIENT;
                break;
            }
            if (j->linelen < sizeof j->line - 1)
                j->line[j->linelen++] = tmp[i];
        }
    }
}

static void timeouts(mr_runner *r, mr_job *j, double t)
{
    if (t < j->deadline)
        return;
    switch (j->state) {
    case J_SERVER:
        job_error(r, j, "the server did not start listening within 15 s");
        break;
    case J_CLIENT:
        if (!j->killed_by_us) {
            kill(-j->client, SIGKILL);
            j->killed_by_us = 1;
        }
        j->deadline = t + 5; /* it is reaped soon */
        break;
    case J_DRAIN:
        run_ended(r, j);
        break;
    case J_FINISH:
        if (j->server > 0) {
            /* SIGTERM: the server ends the open session and writes its
             * results; then SIGKILL if that hangs */
            if (!j->term_sent++)
                kill(j->server, SIGTERM);
            else
                kill(-j->server, SIGKILL);
            j->deadline = t + 3.0;
        }
        break;
    }
}

static const char *vshort(mr_verdict v)
{
    static const char *const n[] = {"PASS", "FAIL", "CRASH", "HANG", "SKIP", "ERROR"};
    return n[v];
}

static void progress(mr_runner *r, mr_job *last)
{
    if (r->o.quiet)
        return;
    if (!r->o.progress) {
        fprintf(stderr, "[%*zu/%zu] %-5s %s (%.2fs)%s%s\n", r->njobs >= 100 ? 3 : 2, r->done,
                r->njobs, vshort(last->verdict), last->id, last->duration,
                last->known ? " known" : "", "");
        if (last->verdict != MR_V_PASS && last->verdict != MR_V_SKIP &&
            json_array_size(last->reasons))
            fprintf(stderr, "        %s\n", json_string_value(json_array_get(last->reasons, 0)));
        return;
    }
    /* a terminal: one line, redrawn */
    size_t width = 24, fill = r->njobs ? r->done * width / r->njobs : width;
    char bar[32];
    for (size_t i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    if (last->verdict != MR_V_PASS && last->verdict != MR_V_SKIP)
        fprintf(stderr, "\r\033[K%-5s %s: %s\n", vshort(last->verdict), last->id,
                json_array_size(last->reasons) ? json_string_value(json_array_get(last->reasons, 0))
                                               : "");
    fprintf(stderr, "\r\033[K[%s] %zu/%zu  pass %zu  fail %zu  crash %zu  hang %zu  skip %zu%s",
            bar, r->done, r->njobs, r->tally[MR_V_PASS], r->tally[MR_V_FAIL],
            r->tally[MR_V_CRASH], r->tally[MR_V_HANG], r->tally[MR_V_SKIP],
            r->tally[MR_V_ERROR] ? "  error" : "");
    if (r->tally[MR_V_ERROR])
        fprintf(stderr, " %zu", r->tally[MR_V_ERROR]);
    if (r->done == r->njobs)
        fputc('\n', stderr);
}

static void loop(mr_runner *r)
{
    size_t next = 0, running = 0;
    struct pollfd *pfd = calloc(r->njobs * 3 + 1, sizeof *pfd);
    mr_job **owner = calloc(r->njobs * 3 + 1, sizeof *owner);
    if (!pfd || !owner)
        abort();
    while (r->done < r->njobs) {
        if (g_stop) {
            /* interrupted: end every running job now; the servers write
             * what they have */
            for (size_t i = 0; i < r->njobs; i++) {
                mr_job *j = &r->jobs[i];
                if (j->state == J_CLIENT || j->state == J_DRAIN) {
                    kill(-j->client, SIGKILL);
                    waitpid(j->client, &j->client_status, 0);
                    capture_close(&j->out);
                    capture_close(&j->err);
                    save_output(j);
                }
                if (j->server > 0 && j->state != J_DONE) {
                    kill(j->server, SIGTERM);
                    waitpid(j->server, NULL, 0);
                    j->server = 0;
                }
                if (j->state != J_DONE) {
                    mr_job_reason(j, "interrupted (signal %d)", (int)g_stop);
                    finish(r, j, MR_V_ERROR);
                }
            }
            break;
        }
        running = 0;
        for (size_t i = 0; i < next; i++)
            running += r->jobs[i].state != J_DONE;
        while (running < r->o.jobs && next < r->njobs) {
            start_job(r, &r->jobs[next++]);
            running += r->jobs[next - 1].state != J_DONE;
        }
        size_t n = 0;
        double t = now(), wait = 0.05;
        for (size_t i = 0; i < next; i++) {
            mr_job *j = &r->jobs[i];
            if (j->state == J_DONE)
                continue;
            if (j->server_fd >= 0)
                pfd[n] = (struct pollfd){j->server_fd, POLLIN, 0}, owner[n++] = j;
            if (j->state == J_CLIENT || j->state == J_DRAIN) {
                if (j->out.fd >= 0)
                    pfd[n] = (struct pollfd){j->out.fd, POLLIN, 0}, owner[n++] = j;
                if (j->err.fd >= 0)
                    pfd[n] = (struct pollfd){j->err.fd, POLLIN, 0}, owner[n++] = j;
            }
            if (j->deadline - t < wait)
                wait = j->deadline - t;
        }
        if (wait < 0)
            wait = 0;
        poll(pfd, n, (int)(wait * 1000) + 1);
        for (size_t i = 0; i < n; i++) {
            mr_job *j = owner[i];
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) || j->state == J_DONE)
                continue;
            if (pfd[i].fd == j->server_fd)
                server_input(r, j);
            else if (pfd[i].fd == j->out.fd)
                capture_read(&j->out);
            else if (pfd[i].fd == j->err.fd)
                capture_read(&j->err);
        }
        t = now();
        for (size_t i = 0; i < next; i++) {
            mr_job *j = &r->jobs[i];
            if (j->state == J_DONE)
                continue;
            reap(r, j);
            if (j->state == J_DRAIN && j->out.fd < 0 && j->err.fd < 0)
                run_ended(r, j);
            if (j->state != J_DONE)
                timeouts(r, j, t);
        }
    }
    free(pfd);
    free(owner);
}

/* ------------------------------------------------------------ setup */

/* Where profiles live: $MAILRIG_CLIENTS, else the source tree's. */
static const char *clients_dir(void)
{
    const char *d = getenv("MAILRIG_CLIENTS");
    return d && *d ? d : MR_CLIENTS_DIR;
}

static int load_profile(const char *spec, mr_profile *p, char *msg, size_t len)
{
    if (strpbrk(spec, "{ \t"))
        return mr_profile_template(spec, p, msg, len);
    if (strchr(spec, '/') || has_suffix(spec, ".profile"))
        return mr_profile_load(spec, p, msg, len);
    char *path = xasprintf("%s/%s.profile", clients_dir(), spec);
    if (access(path, F_OK) != 0) {
        snprintf(msg, len, "no client profile '%s' (looked for %s; 'mailrig run --list-clients' "
                           "lists them, or give a command template)", spec, path);
        free(path);
        return -1;
    }
    int rc = mr_profile_load(path, p, msg, len);
    free(path);
    return rc;
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *c = strchr(p, ':');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        char *f = xasprintf("%.*s/%s", (int)n, p, prog);
        int ok = access(f, X_OK) == 0;
        free(f);
        if (ok)
            return 1;
        p += n + (c != NULL);
    }
    return 0;
}

/* 0 when everything the profile requires is there; else the missing
 * program in msg. */
static int installed(mr_runner *r, char *msg, size_t len)
{
    fill_ctx c;
    fill_init(&c, r, NULL);
    for (size_t i = 0; i < r->prof.requires.n; i++) {
        char fm[300];
        char *w = mr_profile_fill(r->prof.requires.w[i], lookup, &c, fm, sizeof fm);
        if (!w) {
            snprintf(msg, len, "requires: %s", fm);
            return -1;
        }
        int ok = strchr(w, '/') ? access(w, X_OK) == 0 : on_path(w);
        if (!ok) {
            snprintf(msg, len, "%s is not installed (%s)", w,
                     strchr(w, '/') ? "no such executable" : "not on PATH");
            free(w);
            return -1;
        }
        free(w);
    }
    return 0;
}

/* The first line the version command prints (5 s at most). */
static char *client_version(mr_runner *r)
{
    if (!r->prof.version.n)
        return NULL;
    fill_ctx c;
    fill_init(&c, r, NULL);
    char **argv = calloc(r->prof.version.n + 1, sizeof *argv), fm[300];
    if (!argv)
        abort();
    for (size_t i = 0; i < r->prof.version.n; i++)
        if (!(argv[i] = mr_profile_fill(r->prof.version.w[i], lookup, &c, fm, sizeof fm)))
            argv[i] = xstrdup("");
    int p[2];
    char buf[4096];
    size_t len = 0;
    if (pipe2(p, O_CLOEXEC) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(p[1], 1);
            dup2(p[1], 2);
            execvp(argv[0], argv);
            _exit(127);
        }
        close(p[1]);
        double end = now() + 5;
        while (pid > 0 && len < sizeof buf - 1) {
            struct pollfd pf = {p[0], POLLIN, 0};
            int wait = (int)((end - now()) * 1000);
            if (wait <= 0 || poll(&pf, 1, wait) <= 0)
                break;
            ssize_t n = read(p[0], buf + len, sizeof buf - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        close(p[0]);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    for (size_t i = 0; i < r->prof.version.n; i++)
        free(argv[i]);
    free(argv);
    buf[len] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    return buf[0] ? xstrdup(buf) : NULL;
}

static const char TEST_MESSAGE[] =
    "From: Mailrig Test <user@localhost>\r\n"
    "To: Recipient <rcpt@localhost>\r\n"
    "Subject: mailrig conformance test message\r\n"
    "Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"
    "Message-ID: <conformance-test@mailrig.invalid>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This message was submitted by a client under test.\r\n"
    ".A line that starts with a dot (RFC 5321 4.5.2).\r\n"
    "The end.\r\n";

static void usage(FILE *f)
{
    fputs("usage: mailrig run --client PROFILE|'COMMAND TEMPLATE' [options] SCENARIO...\n"
          "       mailrig run --replay DIR\n"
          "       mailrig run --list-clients\n"
          "\n"
          "Runs a real client against the fake server of each scenario (files, or\n"
          "folders of *.scn) and judges what it did.  docs/conformance.md.\n"
          "\n"
          "  -c, --client C      a profile name (conformance/clients/C.profile), a\n"
          "                      profile file, or a command template such as\n"
          "                      'curl -sS --user {user}:{password} imap://{host}:{port}/'\n"
          "  -p, --protocol P    only these protocols (imap,pop3,smtp)\n"
          "  -j, --jobs N        scenarios run at once (default: the number of cores)\n"
          "  -o, --out DIR       results (default mailrig-run); earlier results of\n"
          "                      the same scenarios are replaced\n"
          "      --timeout MS    the client's hang limit when a scenario sets none\n"
          "                      (default 20000)\n"
          "  -q, --quiet         no progress, only the summary\n"
          "      --replay DIR    rerun one scenario's run (DIR is its result folder,\n"
          "                      OUT/PROTOCOL/NAME) the same way, into DIR/replay\n"
          "      --list-clients  the profiles, and whether each client is installed\n"
          "\n"
          "Writes OUT/results.json, OUT/junit.xml and OUT/report.md, and per scenario\n"
          "OUT/PROTOCOL/NAME/ (server transcript and verdict, client output).\n"
          "Exit status: 0 all passed (or skipped), 1 one failed, crashed, hung or\n"
          "could not run, 2 bad usage or a broken scenario or profile.\n",
          f);
}

static int list_clients(void)
{
    const char *dir = clients_dir();
    char **files = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "mailrig run: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (has_suffix(e->d_name, ".profile")) {
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                files = realloc(files, cap * sizeof *files);
                if (!files)
                    abort();
            }
            files[n++] = xasprintf("%s/%s", dir, e->d_name);
        }
    closedir(d);
    qsort(files, n, sizeof *files, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        mr_runner r;
        char msg[600];
        memset(&r, 0, sizeof r);
        snprintf(r.bindir, sizeof r.bindir, "%s", ".");
        ssize_t l = readlink("/proc/self/exe", r.exe, sizeof r.exe - 1);
        if (l > 0) {
            r.exe[l] = 0;
            snprintf(r.bindir, sizeof r.bindir, "%s", r.exe);
            char *sl = strrchr(r.bindir, '/');
            if (sl)
                *sl = 0;
        }
        if (mr_profile_load(files[i], &r.prof, msg, sizeof msg) != 0) {
            fprintf(stderr, "%s\n", msg);
            rc = 2;
        } else {
            int ok = installed(&r, msg, sizeof msg) == 0;
            printf("%s\t%s\t%s\n", r.prof.name, ok ? "installed" : "missing",
                   ok ? (r.prof.description ? r.prof.description : "") : msg);
            mr_profile_free(&r.prof);
        }
        free(files[i]);
    }
    free(files);
    return rc;
}

int mr_run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"client", required_argument, NULL, 'c'}, {"protocol", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},   {"out", required_argument, NULL, 'o'},
        {"timeout", required_argument, NULL, 'T'}, {"quiet", no_argument, NULL, 'q'},
        {"replay", required_argument, NULL, 'R'}, {"list-clients", no_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    mr_runner r;
    memset(&r, 0, sizeof r);
    r.o.out = "mailrig-run";
    r.o.timeout_ms = 20000;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.o.jobs = cores > 0 ? (unsigned)cores : 2;
    const char *replay = NULL;
    char **av = calloc((size_t)argc + 2, sizeof *av);
    if (!av)
        abort();
    av[0] = "run";
    for (int i = 0; i < argc; i++)
        av[i + 1] = argv[i];
    int ac = argc + 1, c;
    optind = 1;
    while ((c = getopt_long(ac, av, "c:p:j:o:qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c': r.o.client = optarg; break;
        case 'p': r.o.protocols = optarg; break;
        case 'o': r.o.out = optarg; break;
        case 'q': r.o.quiet = 1; break;
        case 'R': replay = optarg; break;
        case 'L': free(av); return list_clients();
        case 'h': usage(stdout); free(av); return 0;
        case 'j':
        case 'T': {
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || errno || v == 0 || v > (c == 'j' ? 256ul : 3600000ul)) {
                fprintf(stderr, "mailrig run: --%s: '%s' is not a number from 1 to %lu\n",
                        c == 'j' ? "jobs" : "timeout", optarg, c == 'j' ? 256ul : 3600000ul);
                free(av);
                return 2;
            }
            if (c == 'j')
                r.o.jobs = (unsigned)v;
            else
                r.o.timeout_ms = (uint32_t)v;
            break;
        }
        default: usage(stderr); free(av); return 2;
        }
    }
    char **paths = av + optind;
    int npaths = ac - optind;
    char *replay_scn = NULL, *replay_client = NULL, *replay_out = NULL;
    if (replay) {
        /* the job's own record: the scenario, the client, the limit */
        char *jp = xasprintf("%s/job.json", replay);
        json_error_t je;
        json_t *o = json_load_file(jp, 0, &je);
        if (!o || !json_is_string(json_object_get(o, "scenario")) ||
            !json_is_string(json_object_get(o, "client"))) {
            fprintf(stderr, "mailrig run: %s: %s\n", jp, o ? "not a job record" : je.text);
            free(jp);
            json_decref(o);
            free(av);
            return 2;
        }
        replay_scn = xstrdup(json_string_value(json_object_get(o, "scenario")));
        replay_client = xstrdup(json_string_value(json_object_get(o, "client")));
        if (json_is_integer(json_object_get(o, "default_timeout")))
            r.o.timeout_ms = (uint32_t)json_integer_value(json_object_get(o, "default_timeout"));
        json_decref(o);
        free(jp);
        replay_out = xasprintf("%s/replay", replay);
        r.o.client = replay_client;
        r.o.out = replay_out;
        r.o.jobs = 1;
        paths = &replay_scn;
        npaths = 1;
    }
    int rc = 2;
    if (!r.o.client || npaths < 1) {
        fprintf(stderr, "mailrig run: %s\n",
                !r.o.client ? "--client is required" : "no scenario given");
        usage(stderr);
        goto out;
    }
    ssize_t l = readlink("/proc/self/exe", r.exe, sizeof r.exe - 1);
    if (l <= 0) {
        fprintf(stderr, "mailrig run: /proc/self/exe: %s\n", strerror(errno));
        goto out;
    }
    r.exe[l] = 0;
    snprintf(r.bindir, sizeof r.bindir, "%s", r.exe);
    *strrchr(r.bindir, '/') = 0;

    char msg[1200];
    if (load_profile(r.o.client, &r.prof, msg, sizeof msg) != 0) {
        fprintf(stderr, "%s\n", msg);
        goto out;
    }
    {
        /* {root} absolute: the client runs in its state folder */
        char abs[PATH_MAX];
        if (r.prof.dir && realpath(r.prof.dir, abs)) {
            free(r.prof.dir);
            r.prof.dir = xstrdup(abs);
        }
    }
    if (installed(&r, msg, sizeof msg) != 0) {
        fprintf(stderr, "mailrig run: the client of profile %s cannot run: %s\n", r.prof.name, msg);
        goto out;
    }

    /* --out made absolute: the server's paths (its CA file, transcripts)
     * and the client's placeholders must hold from any working folder */
    char outabs[PATH_MAX];
    if (r.o.out[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd) ||
            snprintf(outabs, sizeof outabs, "%s/%s", cwd, r.o.out) >= (int)sizeof outabs) {
            fprintf(stderr, "mailrig run: %s: cannot make the path absolute\n", r.o.out);
            goto out;
        }
        r.o.out = outabs;
    }

    /* every scenario is read before anything runs: a broken one stops it all */
    char **files = NULL;
    size_t nfiles = 0, cap = 0;
    for (int i = 0; i < npaths; i++)
        if (collect(paths[i], &files, &nfiles, &cap, 1) != 0)
            goto out_files;
    r.jobs = calloc(nfiles + 1, sizeof *r.jobs);
    if (!r.jobs)
        abort();
    int broken = 0;
    for (size_t i = 0; i < nfiles; i++) {
        mr_job *j = &r.jobs[r.njobs];
        if (mr_scenario_load(files[i], NULL, &j->sc, msg, sizeof msg) != 0) {
            fprintf(stderr, "%s\n", msg);
            broken = 1;
            continue;
        }
        if (!protocol_wanted(r.o.protocols, j->sc.protocol)) {
            mr_scenario_free(&j->sc);
            continue;
        }
        char abs[PATH_MAX];
        j->path = xstrdup(realpath(files[i], abs) ? abs : files[i]);
        const char *base = strrchr(files[i], '/');
        base = base ? base + 1 : files[i];
        size_t bl = strlen(base) - (has_suffix(base, ".scn") ? 4 : 0);
        j->id = xasprintf("%s/%.*s", j->sc.protocol, (int)bl, base);
        for (size_t k = 0; k < r.njobs; k++)
            if (strcmp(r.jobs[k].id, j->id) == 0) {
                char *id2 = xasprintf("%s-%zu", j->id, r.njobs + 1);
                free(j->id);
                j->id = id2;
                break;
            }
        j->dir = xasprintf("%s/%s", r.o.out, j->id);
        j->tls = j->sc.tls ? j->sc.tls : "none";
        j->timeout_ms = j->sc.client_timeout_ms ? j->sc.client_timeout_ms : r.o.timeout_ms;
        if (!j->sc.runs)
            j->sc.runs = 1;
        j->server_fd = -1;
        j->out.fd = j->err.fd = -1;
        j->exit_code = j->signal = -1;
        j->reasons = json_array();
        j->checks = json_array();
        r.njobs++;
    }
    if (broken)
        goto out_files;
    if (r.njobs == 0) {
        fprintf(stderr, "mailrig run: no scenario%s\n", r.o.protocols ? " of those protocols" : "");
        goto out_files;
    }
    if (mkdirs(r.o.out) != 0) {
        fprintf(stderr, "mailrig run: %s: %s\n", r.o.out, strerror(errno));
        goto out_files;
    }
    r.message = xasprintf("%s/message.eml", r.o.out);
    {
        char abs[PATH_MAX];
        if (write_file(r.message, TEST_MESSAGE, sizeof TEST_MESSAGE - 1, 0644) != 0 ||
            !realpath(r.message, abs)) {
            fprintf(stderr, "mailrig run: %s: %s\n", r.message, strerror(errno));
            goto out_files;
        }
        free(r.message);
        r.message = xstrdup(abs);
    }
    r.client_version = client_version(&r);
    r.o.progress = !r.o.quiet && isatty(2);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!r.o.quiet)
        fprintf(stderr, "mailrig run: %zu scenario%s against %s%s%s%s, %u at a time, into %s/\n",
                r.njobs, r.njobs == 1 ? "" : "s", r.prof.name, r.client_version ? " (" : "",
                r.client_version ? r.client_version : "", r.client_version ? ")" : "", r.o.jobs,
                r.o.out);
    r.t0 = now();
    loop(&r);
    r.wall = now() - r.t0;
    if (mr_run_write_reports(&r, msg, sizeof msg) != 0)
        fprintf(stderr, "mailrig run: %s\n", msg);
    mr_run_summary(&r, stdout);
    rc = r.tally[MR_V_FAIL] + r.tally[MR_V_CRASH] + r.tally[MR_V_HANG] + r.tally[MR_V_ERROR] ? 1 : 0;
    if (g_stop)
        rc = 128 + (int)g_stop;

out_files:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    for (size_t i = 0; i < r.njobs; i++) {
        mr_job *j = &r.jobs[i];
        mr_scenario_free(&j->sc);
        free(j->path);
        free(j->id);
        free(j->dir);
        free(j->out.buf);
        free(j->err.buf);
        free_argv(j);
        json_decref(j->reasons);
        json_decref(j->checks);
        json_decref(j->session);
        free(j->transcript);
    }
    free(r.jobs);
    free(r.message);
    free(r.client_version);
out:
    mr_profile_free(&r.prof);
    free(replay_scn);
    free(replay_client);
    free(replay_out);
    free(av);
    return rc;
}
