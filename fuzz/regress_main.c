/*
 * regress_main.c - run a fuzz target without a fuzzing engine: every
 * file named on the command line (a directory: every file in it, not
 * recursing) is read and passed once to LLVMFuzzerTestOneInput().
 *
 * This is how make fuzz-regress replays the corpora and the crash
 * reproducers (fuzz/regressions/) on every make test, with any compiler,
 * under ASan+UBSan; make coverage links it with llvm's profiling instead.
 * A target that finds a broken invariant aborts, so the run fails; the
 * input that did it is named on stderr (from a SIGABRT/SIGSEGV handler
 * and the sanitizers' death callback).  With -v every input is named.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr_fuzz.h"

static int verbose;
static unsigned long n_files;
static const char *current; /* the input being run, for the death message */

/* Provided by the sanitizer runtimes (ASan, UBSan), absent otherwise. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void say_current(void)
{
    static const char pre[] = "\nregress: the failing input is ";
    if (!current)
        return;
    /* write() only: this runs from a signal handler. */
    if (write(2, pre, sizeof pre - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static void on_signal(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Inputs above this are refused: a fuzz input is bytes, not megabytes. */
#define MAX_INPUT ((size_t)64 * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *exact;
    size_t len = 0;
    int rc;
    if (!f) {
        perror(path);
        return 1;
    }
    rc = mr_cli_slurp(f, MAX_INPUT, &buf, &len);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path,
                rc == -2 ? "larger than 64 MiB" : rc == -3 ? "out of memory" : "read error");
        free(buf);
        return 1;
    }
    if (verbose)
        fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    /* An exact-size copy, so that a read past the input is caught. */
    exact = mr_fuzz_copy(buf, len);
    free(buf);
    current = path;
    LLVMFuzzerTestOneInput(exact, len);
    current = NULL;
    free(exact);
    n_files++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in dir, in name order (so that runs are repeatable). */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int bad = 0;
    if (!d) {
        perror(dir);
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn;
            cap = cap ? cap * 2 : 256;
            nn = realloc(names, cap * sizeof *names);
            if (!nn)
                abort();
            names = nn;
        }
        names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
        if (!names[n])
            abort();
        sprintf(names[n], "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            bad |= run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return bad;
}

int main(int argc, char **argv)
{
    int bad = 0;
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_current);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            bad |= run_dir(argv[i]);
        } else {
            bad |= run_file(argv[i]);
        }
    }
    printf("%s: %lu inputs replayed\n", argc > 0 ? argv[0] : "regress", n_files);
    return bad;
}
