/*
 * mr_cli_scenario.h - "mailrig scenario check FILE...": read scenario
 * files (docs/scenarios.md) and report each as ok or FILE:LINE:COL:
 * message; --json prints what was read.
 */
#ifndef MR_CLI_SCENARIO_H
#define MR_CLI_SCENARIO_H

#include <stdio.h>

int mr_cli_scenario_main(int argc, char **argv, FILE *out, FILE *err);

#endif
