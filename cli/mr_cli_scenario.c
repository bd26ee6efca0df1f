/* mr_cli_scenario.c - placeholder until the scenario reader lands. */
#include "mr_cli_scenario.h"
int mr_cli_scenario_main(int argc, char **argv, FILE *out, FILE *err)
{
    fputs("mailrig scenario: not built yet\n", err);
    return 2;
}
