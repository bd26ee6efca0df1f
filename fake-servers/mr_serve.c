/*
 * mr_serve.c - "mailrig serve": a scripted fake POP3, IMAP or SMTP server
 * (docs/fake-servers.md).  Reads the options and the scenario, loads the
 * mailbox, makes the test certificates, listens (loopback, port 0 by
 * default), prints one machine-readable "listening" line, serves every
 * client on one event loop (mr_server.c), and on SIGTERM/SIGINT or after
 * --sessions N writes every session's transcript and verdict, and the
 * report.
 */
#define _GNU_SOURCE
#include "mr_server_int.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr_mime.h"

#ifndef MR_DEFAULT_MAILBOX
#define MR_DEFAULT_MAILBOX "corpora/mailbox/default"
#endif

int mr_server_listen(mr_server *srv, char *err, size_t errlen);
void mr_server_signals(void);
int mr_server_loop(mr_server *srv);
void mr_server_shutdown(mr_server *srv);
int mr_serve_main(int argc, char **argv);

const mr_proto *mr_proto_find(const char *name)
{
    if (!name)
        return NULL;
    if (strcmp(name, "pop3") == 0)
        return &mr_proto_pop3;
    if (strcmp(name, "imap") == 0)
        return &mr_proto_imap;
    if (strcmp(name, "smtp") == 0)
        return &mr_proto_smtp;
    return NULL;
}

static void usage(FILE *f)
{
    fputs("usage: mailrig serve --protocol imap|pop3|smtp [options]\n"
          "\n"
          "A scripted fake mail server.  Without --scenario it is a correct\n"
          "server over the mailbox; a scenario (docs/scenarios.md) changes what\n"
          "it answers and says what the client is expected to do.\n"
          "\n"
          "  -p, --protocol P      imap, pop3 or smtp (or the scenario's)\n"
          "  -s, --scenario FILE   the scenario to serve to every client\n"
          "  -l, --listen A:PORT   where to listen (default 127.0.0.1:0: a free\n"
          "                        port on loopback; IPv6 as [::1]:0)\n"
          "      --tls MODE        none, implicit or starttls (default: the\n"
          "                        scenario's, else none)\n"
          "      --cert PROFILE    valid, self-signed, expired, wrong-host,\n"
          "                        unknown-ca (default: the scenario's, else valid)\n"
          "      --cert-dir DIR    where the test CA's ca.pem is written\n"
          "                        (default OUT/certs)\n"
          "  -m, --mailbox DIR     a Maildir or a folder of .eml files (default:\n"
          "                        the scenario's, else $MAILRIG_MAILBOX, else the\n"
          "                        default mailbox of corpora/mailbox/default)\n"
          "  -o, --out DIR         transcripts, verdicts, mailboxes and received\n"
          "                        messages, per session (default: a new /tmp dir)\n"
          "      --no-transcripts  keep only verdicts (for load tests)\n"
          "      --ready-file F    also write the listening line to F\n"
          "  -n, --sessions N      stop after N sessions have ended\n"
          "      --timeout MS      end a session idle this long (default: the\n"
          "                        scenario's, else 30000)\n"
          "      --max-conns N     concurrent sessions (default 20000)\n"
          "      --user U, --password P, --hostname H\n"
          "                        credentials accepted (user/password) and the\n"
          "                        host name in greetings (localhost)\n"
          "      --report FMT      json, junit or tap: a report of every session\n"
          "                        at exit, on stdout (or --report-file F)\n"
          "  -q, --quiet           no per-session lines on stdout\n"
          "\n"
          "stdout: a JSON line {\"event\":\"listening\",...} once listening, then one\n"
          "{\"event\":\"session\",...} line per session (unless --report or --quiet).\n"
          "Exit status: 0 when every session passed, 1 when one failed, 2 for bad\n"
          "usage, a bad scenario or a setup error.\n",
          f);
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int parse_uint(const char *s, unsigned *out)
{
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (!*s || *e || errno || v > 100000000ul)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static char *dir_of(const char *file)
{
    char *d = strdup(file);
    char *slash = d ? strrchr(d, '/') : NULL;
    if (!d)
        return NULL;
    if (slash)
        slash[1] = 0;
    else
        d[0] = 0;
    return d;
}

int mr_serve_main(int argc, char **argv)
{
    enum { O_TLS = 256, O_CERT, O_CERT_DIR, O_NO_TRS, O_READY, O_TIMEOUT, O_MAXC, O_USER, O_PASS,
           O_HOST, O_REPORT, O_REPORT_FILE };
    static const struct option opts[] = {
        {"protocol", required_argument, NULL, 'p'}, {"scenario", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},   {"tls", required_argument, NULL, O_TLS},
        {"cert", required_argument, NULL, O_CERT},  {"cert-dir", required_argument, NULL, O_CERT_DIR},
        {"mailbox", required_argument, NULL, 'm'},  {"out", required_argument, NULL, 'o'},
        {"no-transcripts", no_argument, NULL, O_NO_TRS},
        {"ready-file", required_argument, NULL, O_READY},
        {"sessions", required_argument, NULL, 'n'}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"max-conns", required_argument, NULL, O_MAXC}, {"user", required_argument, NULL, O_USER},
        {"password", required_argument, NULL, O_PASS}, {"hostname", required_argument, NULL, O_HOST},
        {"report", required_argument, NULL, O_REPORT},
        {"report-file", required_argument, NULL, O_REPORT_FILE},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static mr_server srv_storage;
    mr_server *srv = &srv_storage;
    memset(srv, 0, sizeof *srv);
    srv->epfd = -1;
    mr_server_opts *o = &srv->o;
    /* getopt_long with argv[0] = "serve" */
    char **av = argv - 1;
    int ac = argc + 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, "+p:s:l:m:o:n:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->protocol = optarg; break;
        case 's': o->scenario = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'm': o->mailbox = optarg; break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case 'n':
            if (parse_uint(optarg, &o->max_sessions)) {
                fprintf(stderr, "mailrig serve: --sessions %s: expected a number\n", optarg);
                return 2;
            }
            break;
        case O_TLS: o->tls = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_CERT_DIR: o->cert_dir = optarg; break;
        case O_NO_TRS: o->no_transcripts = 1; break;
        case O_READY: o->ready_file = optarg; break;
        case O_TIMEOUT:
            if (parse_uint(optarg, &o->timeout_ms) || !o->timeout_ms) {
                fprintf(stderr, "mailrig serve: --timeout %s: expected milliseconds > 0\n", optarg);
                return 2;
            }
            break;
        case O_MAXC:
            if (parse_uint(optarg, &o->max_conns) || !o->max_conns) {
                fprintf(stderr, "mailrig serve: --max-conns %s: expected a number > 0\n", optarg);
                return 2;
            }
            break;
        case O_USER: o->user = optarg; break;
        case O_PASS: o->password = optarg; break;
        case O_HOST: o->hostname = optarg; break;
        case O_REPORT: o->report = optarg; break;
        case O_REPORT_FILE: o->report_file = optarg; break;
        default:
            fprintf(stderr, "mailrig serve: bad option '%s' (see mailrig serve --help)\n",
                    av[optind - 1]);
            return 2;
        }
    }
    if (optind < ac) {
        fprintf(stderr, "mailrig serve: unexpected argument '%s'\n", av[optind]);
        return 2;
    }
    if (o->report && strcmp(o->report, "json") && strcmp(o->report, "junit") && strcmp(o->report, "tap")) {
        fprintf(stderr, "mailrig serve: --report %s: expected json, junit or tap\n", o->report);
        return 2;
    }

    /* The scenario, and what it sets unless an option says otherwise. */
    char msg[4300];
    char *sc_dir = NULL;
    if (o->scenario) {
        if (mr_scenario_load(o->scenario, NULL, &srv->sc, msg, sizeof msg) != 0) {
            fprintf(stderr, "%s\n", msg);
            return 2;
        }
        srv->have_sc = 1;
        sc_dir = dir_of(o->scenario);
        if (o->protocol && strcmp(o->protocol, srv->sc.protocol) != 0) {
            fprintf(stderr, "mailrig serve: --protocol %s, but %s is a %s scenario\n", o->protocol,
                    o->scenario, srv->sc.protocol);
            return 2;
        }
        if (!o->protocol)
            o->protocol = srv->sc.protocol;
        if (!o->tls)
            o->tls = srv->sc.tls;
        if (!o->cert)
            o->cert = srv->sc.cert;
        if (!o->user)
            o->user = srv->sc.user;
        if (!o->password)
            o->password = srv->sc.password;
        if (!o->timeout_ms)
            o->timeout_ms = srv->sc.timeout_ms;
    }
    srv->proto = mr_proto_find(o->protocol);
    if (!srv->proto) {
        fprintf(stderr, "mailrig serve: %s: --protocol imap, pop3 or smtp is needed\n",
                o->protocol ? o->protocol : "no protocol");
        return 2;
    }
    if (!o->timeout_ms)
        o->timeout_ms = 30000;
    if (!o->max_conns)
        o->max_conns = 20000;
    mr_tls_mode mode = MR_TLS_NONE;
    if (o->tls && mr_tls_mode_parse(o->tls, &mode) != 0) {
        fprintf(stderr, "mailrig serve: --tls %s: expected none, implicit or starttls\n", o->tls);
        return 2;
    }
    srv->profile = MR_CERT_VALID;
    if (o->cert && mr_cert_profile_parse(o->cert, &srv->profile) != 0) {
        fprintf(stderr, "mailrig serve: --cert %s: expected valid, self-signed, expired, wrong-host or unknown-ca\n",
                o->cert);
        return 2;
    }

    /* The mailbox. */
    char mbpath[4096] = "";
    if (o->mailbox)
        snprintf(mbpath, sizeof mbpath, "%s", o->mailbox);
    else if (srv->have_sc && srv->sc.mailbox)
        snprintf(mbpath, sizeof mbpath, "%s%s", srv->sc.mailbox[0] == '/' ? "" : sc_dir, srv->sc.mailbox);
    else if (getenv("MAILRIG_MAILBOX"))
        snprintf(mbpath, sizeof mbpath, "%s", getenv("MAILRIG_MAILBOX"));
    else if (access(MR_DEFAULT_MAILBOX, R_OK) == 0)
        snprintf(mbpath, sizeof mbpath, "%s", MR_DEFAULT_MAILBOX);
    free(sc_dir);
    mr_mime_init();
    if (mbpath[0]) {
        srv->mailbox = mr_mailbox_load(mbpath, msg, sizeof msg);
        if (!srv->mailbox) {
            fprintf(stderr, "mailrig serve: %s\n", msg);
            return 2;
        }
    } else {
        srv->mailbox = mr_mailbox_new();
    }

    /* Results. */
    if (o->out) {
        if (mkdirs(o->out) != 0) {
            fprintf(stderr, "mailrig serve: --out %s: %s\n", o->out, strerror(errno));
            return 2;
        }
        snprintf(srv->out, sizeof srv->out, "%s", o->out);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(srv->out, sizeof srv->out, "%s/mailrig-serve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(srv->out)) {
            fprintf(stderr, "mailrig serve: cannot make a results directory: %s\n", strerror(errno));
            return 2;
        }
    }

    srv->cfg.protocol = srv->proto->name;
    srv->cfg.hostname = o->hostname ? o->hostname : "localhost";
    srv->cfg.user = o->user ? o->user : "user";
    srv->cfg.password = o->password ? o->password : "password";
    srv->cfg.tls = mode;
    srv->cfg.mailbox = srv->mailbox;
    srv->cfg.max_line = 8192;
    srv->cfg.max_literal = 64u << 20;
    srv->cfg.max_command = 64u << 20;
    if (srv->have_sc)
        for (size_t i = 0; i < srv->sc.nexpects; i++)
            if (srv->sc.expects[i].kind == MR_EX_CLOSE_WITHIN) {
                double w = srv->sc.expects[i].ms / 1000.0;
                if (srv->close_within == 0 || w < srv->close_within)
                    srv->close_within = w;
            }

    /* TLS: the test CA and the profile's certificate. */
    if (mode != MR_TLS_NONE) {
        char cdir[8400];
        if (o->cert_dir)
            snprintf(cdir, sizeof cdir, "%s", o->cert_dir);
        else
            snprintf(cdir, sizeof cdir, "%s/certs", srv->out);
        srv->certs = mr_certs_new(cdir, srv->cfg.hostname, msg, sizeof msg);
        if (!srv->certs) {
            fprintf(stderr, "mailrig serve: certificates: %s\n", msg);
            return 2;
        }
        srv->ctx = mr_certs_ctx(srv->certs, srv->profile, msg, sizeof msg);
        if (!srv->ctx) {
            fprintf(stderr, "mailrig serve: certificates: %s\n", msg);
            return 2;
        }
        snprintf(srv->cafile, sizeof srv->cafile, "%s", mr_certs_cafile(srv->certs));
    }

    mr_server_signals();
    if (mr_server_listen(srv, msg, sizeof msg) != 0) {
        fprintf(stderr, "mailrig serve: %s\n", msg);
        return 2;
    }

    json_t *ev = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i}", "event", "listening", "protocol",
                           srv->proto->name, "host", srv->host, "port", srv->port, "tls",
                           mr_tls_mode_name(mode), "pid", (int)getpid());
    json_object_set_new(ev, "cert", mode != MR_TLS_NONE ? json_string(mr_cert_profile_name(srv->profile)) : json_null());
    json_object_set_new(ev, "cafile", srv->cafile[0] ? json_string(srv->cafile) : json_null());
    json_object_set_new(ev, "out", json_string(srv->out));
    json_object_set_new(ev, "scenario", srv->have_sc ? json_string(srv->sc.name) : json_null());
    json_object_set_new(ev, "mailbox", mbpath[0] ? json_string(mbpath) : json_null());
    json_object_set_new(ev, "user", json_string(srv->cfg.user));
    json_object_set_new(ev, "password", json_string(srv->cfg.password));
    char *line = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(ev);
    if (o->ready_file) {
        char tmpf[8400];
        snprintf(tmpf, sizeof tmpf, "%s.tmp", o->ready_file);
        FILE *f = fopen(tmpf, "w");
        if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0 || rename(tmpf, o->ready_file) != 0) {
            fprintf(stderr, "mailrig serve: --ready-file %s: %s\n", o->ready_file, strerror(errno));
            free(line);
            return 2;
        }
    }
    printf("%s\n", line);
    fflush(stdout);
    free(line);

    mr_server_loop(srv);
    mr_server_shutdown(srv);

    int rc = srv->failed ? 1 : 0;
    if (o->report) {
        FILE *f = o->report_file ? fopen(o->report_file, "w") : stdout;
        if (!f) {
            fprintf(stderr, "mailrig serve: --report-file %s: %s\n", o->report_file, strerror(errno));
            rc = 2;
        } else {
            mr_report_write(srv, o->report, f);
            if (f != stdout)
                fclose(f);
        }
    }
    fflush(stdout);
    mr_buf_free(&srv->results);
    if (srv->certs)
        mr_certs_free(srv->certs);
    mr_mailbox_free(srv->mailbox);
    if (srv->have_sc)
        mr_scenario_free(&srv->sc);
    return rc;
}
