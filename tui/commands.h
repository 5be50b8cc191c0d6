/* commands.h — thaw's subcommands, one list: the dispatcher in main.c and the
 * usage text both come from it. Each is `int cmd_NAME(int argc, char **argv)`
 * in tui/cmd_NAME.c; argv[0] is the subcommand's name. It returns the exit
 * status and is the only code that prints (to stdout, errors to stderr). */
#ifndef THAW_COMMANDS_H
#define THAW_COMMANDS_H

/*        name   arguments     what it does */
#define THAW_COMMANDS(X) \
    X(info, "[MODEL.json]", "print a model's layer tree (the built-in reference model by default)") \
    X(data, "SPEC [--seed N] [--input CxHxW] [--mean M] [--std S]", \
      "what a data spec yields: classes, counts per split, geometry, pixel statistics") \
    X(pretrain, "--data SPEC --out MODEL.json [options]", \
      "train the reference architecture from scratch and save it (how models/ is made)")

#define THAW_COMMAND_DECLARE(name, args, help) int cmd_##name(int argc, char **argv);
THAW_COMMANDS(THAW_COMMAND_DECLARE)
#undef THAW_COMMAND_DECLARE

#endif
