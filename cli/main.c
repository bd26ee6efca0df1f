/*
 * main.c - the mailrig command-line tool: dispatches to a subcommand.
 *
 *   mailrig parse pop3|smtp|imap [options] [FILE...]   (cli/mr_cli_parse.c)
 *   mailrig serve --protocol P --scenario FILE [...]    (fake-servers/mr_serve.c)
 *   mailrig scenario check FILE...                      (cli/mr_cli_scenario.c)
 *   mailrig run --client PROFILE SCENARIO...            (conformance/runner/mr_run.c)
 *   mailrig --help | --version
 *
 * See docs/cli.md.
 */
#include <stdio.h>
#include <string.h>

#include "mr_cli_parse.h"
#include "mr_cli_scenario.h"

int mr_serve_main(int argc, char **argv); /* fake-servers/mr_serve.c */
int mr_run_main(int argc, char **argv);   /* conformance/runner/mr_run.c */

#define MAILRIG_VERSION "0.1.0"

static void usage(FILE *f)
{
    fputs("usage: mailrig COMMAND [ARGS...]\n"
          "\n"
          "commands:\n"
          "  parse pop3|smtp|imap [options] [FILE...]\n"
          "                  parse what a server sent; one JSON object per\n"
          "                  response (mailrig parse --help)\n"
          "\n"
          "  serve --protocol imap|pop3|smtp [options]\n"
          "                  a scripted fake server (mailrig serve --help)\n"
          "\n"
          "  scenario check FILE...\n"
          "                  check scenario files (mailrig scenario --help)\n"
          "\n"
          "  run --client PROFILE|'COMMAND' SCENARIO...\n"
          "                  run a real client against each scenario's fake\n"
          "                  server and judge it (mailrig run --help)\n"
          "\n"
          "  -h, --help      show this help\n"
          "  --version       show the version\n",
          f);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (!cmd) {
        usage(stderr);
        return MR_CLI_EXIT_USAGE;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return MR_CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("mailrig %s\n", MAILRIG_VERSION);
        return MR_CLI_EXIT_OK;
    }
    if (strcmp(cmd, "parse") == 0)
        return mr_cli_parse_main(argc - 2, argv + 2, stdout, stderr);
    if (strcmp(cmd, "serve") == 0)
        return mr_serve_main(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return mr_run_main(argc - 2, argv + 2);
    if (strcmp(cmd, "scenario") == 0)
        return mr_cli_scenario_main(argc - 2, argv + 2, stdout, stderr);
    fprintf(stderr, "mailrig: unknown command '%s' (see mailrig --help)\n", cmd);
    return MR_CLI_EXIT_USAGE;
}
