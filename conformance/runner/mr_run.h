/*
 * mr_run.h - "mailrig run": the conformance runner.  For each scenario it
 * starts a fake server ("mailrig serve") on a free loopback port, runs a
 * real client against it from a profile (mr_profile.h), and judges the
 * server's verdict, the client process (exit status, signal, sanitizer
 * report, hang, peak memory, output) and the mailbox afterwards.  The
 * judging and the reports are in mr_run_report.c; docs/conformance.md
 * describes the whole.
 */
#ifndef MR_RUN_H
#define MR_RUN_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "mr_profile.h"
#include "mr_scenario.h"

typedef enum mr_verdict {
    MR_V_PASS = 0,
    MR_V_FAIL,    /* an expectation failed */
    MR_V_CRASH,   /* the client died of a signal or printed a sanitizer report */
    MR_V_HANG,    /* killed at the client timeout */
    MR_V_SKIP,    /* the profile cannot run it (protocol, TLS mode, feature) */
    MR_V_ERROR,   /* the runner could not run it (server, exec, files) */
    MR_V_COUNT
} mr_verdict;

const char *mr_verdict_name(mr_verdict v);

#define MR_OUT_CAP (1u << 20) /* client output kept per stream */

typedef struct mr_capture {
    char *buf;            /* the first MR_OUT_CAP bytes, NUL-terminated */
    size_t len;
    unsigned long long total; /* every byte the client wrote */
    int fd;               /* -1 once at EOF */
} mr_capture;

/* One scenario's run, from start to verdict. */
typedef struct mr_job {
    /* what */
    char *path;           /* the scenario file */
    mr_scenario sc;
    char *id;             /* "imap/starttls-stripped-no": protocol/file stem */
    char *dir;            /* OUT/imap/starttls-stripped-no */
    const char *tls;      /* the scenario's TLS mode (none when unset) */
    uint32_t timeout_ms;  /* the client's hang limit */
    /* state */
    int state;
    double t0, deadline;
    pid_t server;
    int server_fd;        /* the server's stdout, until its listening line */
    char line[4096];
    size_t linelen;
    int server_status, server_done;
    char port[8], cafile[4096];
    unsigned run;         /* 1-based client run */
    pid_t client;
    double client_t0;
    mr_capture out, err;
    int client_status;    /* of the last run reaped */
    int client_reaped, killed_by_us;
    int term_sent;        /* the server got its SIGTERM */
    long maxrss_kb;
    char **argv;          /* the last run's command */
    size_t argc;
    /* the result */
    mr_verdict verdict;
    int known;            /* the profile lists this scenario as known */
    json_t *reasons;      /* strings: why it did not pass */
    json_t *checks;       /* every expectation and its outcome */
    json_t *session;      /* the server's result of the judged session */
    double duration;
    int exit_code, signal; /* -1 when not applicable */
    char *transcript;
} mr_job;

typedef struct mr_run_opts {
    const char *client;   /* a profile name or file, or a template */
    const char *out;
    unsigned jobs;
    uint32_t timeout_ms;  /* default client hang limit */
    int quiet;
    int progress;         /* a progress bar (stderr is a terminal) */
    const char *protocols; /* comma separated filter, or NULL */
} mr_run_opts;

typedef struct mr_runner {
    mr_run_opts o;
    mr_profile prof;
    char *client_version;
    char exe[4096];       /* this program, to start "mailrig serve" */
    char bindir[4096];
    char *message;        /* {message}: a test message file */
    mr_job *jobs;
    size_t njobs;
    size_t done, tally[MR_V_COUNT];
    double t0, wall;
} mr_runner;

/* mr_run_report.c */
/* Add a reason the job did not pass (bytes that are not UTF-8 become '?'). */
void mr_job_reason(mr_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mr_run_judge(mr_runner *r, mr_job *j);
int mr_run_write_reports(mr_runner *r, char *msg, size_t msglen);
void mr_run_summary(mr_runner *r, FILE *f);

int mr_run_main(int argc, char **argv);

#endif
