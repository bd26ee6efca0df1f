/*
 * mr_profile.h - client profiles for the conformance runner: how to run
 * one real client (curl, fetchmail, Python's imaplib, ...) for each
 * protocol and TLS mode, which optional behaviours it can be asked for,
 * and what success looks like.  The format is conformance/clients/README.md;
 * one file per client, conformance/clients/NAME.profile.
 *
 * Commands are kept as words (split and unquoted when the file is read)
 * and filled in word by word, so no shell ever sees a value: a password
 * with a space or a quote stays one argument.
 */
#ifndef MR_PROFILE_H
#define MR_PROFILE_H

#include <stddef.h>

#define MR_PROF_MAX_WORDS 256 /* words in one command or line */

typedef struct mr_prof_words {
    char **w;             /* words, placeholders not yet filled */
    size_t n;
} mr_prof_words;

typedef struct mr_prof_run {
    char *proto;          /* imap, pop3, smtp or * */
    char *tls;            /* none, implicit, starttls or * */
    mr_prof_words cmd;
    unsigned line;
} mr_prof_run;

typedef struct mr_prof_feature {
    char *proto, *name;
    mr_prof_words args;   /* inserted at {features}; may be empty */
} mr_prof_feature;

typedef struct mr_prof_env {
    char *name, *value;
} mr_prof_env;

typedef struct mr_prof_file {
    char *name, *proto, *tls;
    char *text;           /* the indented block, indent removed, one
                             '\n' after each line */
} mr_prof_file;

typedef struct mr_prof_known {
    char *scenario;       /* a scenario's name: value */
    char *verdict;        /* fail, crash or hang */
    char *reason;
} mr_prof_known;

typedef struct mr_profile {
    char *path;           /* the file, or NULL for a command template */
    char *dir;            /* {root}: the profile's folder */
    char *name, *description;
    mr_prof_words requires;
    mr_prof_words version;
    int success[32];      /* exit statuses meaning success (default 0) */
    size_t nsuccess;
    mr_prof_run *runs;
    size_t nruns;
    mr_prof_feature *features;
    size_t nfeatures;
    mr_prof_env *envs;
    size_t nenvs;
    mr_prof_file *files;
    size_t nfiles;
    mr_prof_known *known;
    size_t nknown;
} mr_profile;

/* Read a profile file.  0 ok; -1 with "PATH:LINE:COL: message" (or
 * "PATH: strerror") in msg. */
int mr_profile_load(const char *path, mr_profile *p, char *msg, size_t msglen);
/* The same from a buffer (not NUL-terminated); file is the name used in
 * messages.  path and dir are left NULL. */
int mr_profile_read(const char *data, size_t len, const char *file, mr_profile *p, char *msg,
                    size_t msglen);
/* A profile of one command template given on the command line: it runs
 * for every protocol and TLS mode ("run * *: TEMPLATE"). */
int mr_profile_template(const char *tmpl, mr_profile *p, char *msg, size_t msglen);
void mr_profile_free(mr_profile *p);

/* The first run line for proto and tls, or NULL. */
const mr_prof_run *mr_profile_run(const mr_profile *p, const char *proto, const char *tls);
/* The feature line for proto and name, or NULL. */
const mr_prof_feature *mr_profile_feature(const mr_profile *p, const char *proto,
                                          const char *name);
/* Whether file line i is the one used for its name with proto and tls
 * (the first matching line of that name). */
int mr_profile_file_used(const mr_profile *p, size_t i, const char *proto, const char *tls);
/* The known line for a scenario name, or NULL. */
const mr_prof_known *mr_profile_known(const mr_profile *p, const char *scenario);
int mr_profile_success(const mr_profile *p, int status);

/* Placeholders: {name} is looked up with fn (NULL: unknown placeholder);
 * "{{" is a literal '{'.  Returns a malloc'd string, or NULL with msg
 * set. */
typedef const char *(*mr_prof_lookup)(void *ctx, const char *name);
char *mr_profile_fill(const char *text, mr_prof_lookup fn, void *ctx, char *msg, size_t msglen);

#endif
