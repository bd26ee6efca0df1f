/* mr_serve.c - "mailrig serve": placeholder until the engine lands. */
#include <stdio.h>
int mr_serve_main(int argc, char **argv);
int mr_serve_main(int argc, char **argv)
{
    fputs("mailrig serve: not built yet\n", stderr);
    return 2;
}
