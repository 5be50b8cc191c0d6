/* main.c — thaw's entry point: picks the subcommand from tui/commands.h. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "gemm.h"

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
    fprintf(to, "usage: thaw COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  thaw %s %-20s %s\n", commands[i].name, commands[i].args, commands[i].help);
    fprintf(to, "\nTHAW_THREADS=N sets the number of threads (default 1).\n");
}

int main(int argc, char **argv)
{
    if (thaw_threads_set(0) < 0) {
        fprintf(stderr, "thaw: THAW_THREADS must be a whole number from 1 to 256\n");
        return 2;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "thaw: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
