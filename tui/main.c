/* main.c — thaw's entry point: picks the subcommand from tui/commands.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "par.h"
#include "workbench.h"

static const struct {
    const char *name, *args, *help;
    int (*run)(int argc, char **argv);
} commands[] = {
#define THAW_COMMAND_ENTRY(fn, name, args, help) { name, args, help, cmd_##fn },
    THAW_COMMANDS(THAW_COMMAND_ENTRY)
#undef THAW_COMMAND_ENTRY
};

static void usage(FILE *to)
{
    cli_print(to, "usage: thaw [MODEL.json] [--data SPEC] [--contrast] [--lesson FILE]   the workbench\n"
                "       thaw COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        cli_print(to, "  thaw %s %-20s %s\n", commands[i].name, commands[i].args, commands[i].help);
    cli_print(to, "\nTHAW_THREADS=N sets the number of threads (default: the processors online).\n");
}

/* thaw [MODEL.json] [--data SPEC] [--contrast]: the workbench. */
static int open_workbench(int argc, char **argv)
{
    wb_opts o = { 0 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            o.data = argv[++i];
        else if (!strcmp(argv[i], "--contrast"))
            o.contrast = 1;
        else if (!strcmp(argv[i], "--lesson") && i + 1 < argc)
            o.lesson = argv[++i];
        else if (argv[i][0] != '-' && !o.model)
            o.model = argv[i];
        else {
            cli_print(stderr, "thaw: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return workbench_main(&o);
}

int main(int argc, char **argv)
{
    if (thaw_threads_set(0) < 0) {
        cli_print(stderr, "thaw: THAW_THREADS must be a whole number from 1 to %d\n", PAR_THREADS_MAX);
        return 2;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    size_t n = argc >= 2 ? strlen(argv[1]) : 0;
    if (argc < 2 || argv[1][0] == '-' || (n > 5 && !strcmp(argv[1] + n - 5, ".json")))
        return open_workbench(argc, argv);
    cli_print(stderr, "thaw: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
