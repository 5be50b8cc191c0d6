/* strategy.h — freeze strategies as presets over a model's parameter groups,
 * and the layer patterns commands name layers with.
 *
 * Groups. A model's groups are the root's direct children that hold
 * parameters (slices other than running statistics), in order; the last one
 * is the head. The reference net has five: stem, stage1, stage2, stage3, head
 * (pool holds nothing).
 *
 * Strategies, applied from a base learning rate (the head's):
 *
 *   feature-extraction  every group frozen but the head (Keras' transfer-learning
 *                       guide; fast.ai's freeze()); every rate base
 *   finetune            everything trains at base
 *   gradual             ULMFiT's gradual unfreezing: starts as feature-extraction
 *                       and fills a plan that thaws the group below the head at
 *                       epoch `every`, the next at 2*every, ... down to group 0
 *   discriminative      everything trains; the head at base, the others at
 *                       base/factor (fast.ai's slice(hi)), or with lo > 0 the
 *                       geometric spread lo .. base over all groups, group 0 at
 *                       lo (fast.ai's slice(lo, hi), even_mults)
 *   layer-decay         everything trains; group i of G at base * decay^(G-1-i)
 *                       (timm's layer_decay ** (max_id - id))
 *   freeze-bottom       the first `groups` groups frozen, the rest train at base:
 *                       a text model's pretrained embedding kept while the
 *                       layers above it (a CNN's filters) learn
 *
 * Freezing goes through model_freeze, so BatchNorm layers in frozen groups
 * keep training when m->train_bn is set (fast.ai's train_bn).
 *
 * Text form: a name, then key=value items separated by spaces and/or commas:
 *
 *   name                          keys     valid                  default
 *   feature-extraction (feature)  -
 *   finetune (fine-tuning)        -
 *   gradual                       every    integer in [1, 1e6]    1 (ULMFiT)
 *   discriminative                factor   > 0                    10
 *                                 lo       >= 0; 0 = use factor   0
 *   layer-decay                   decay    (0, 1]; a bare number  1/2.6 (ULMFiT)
 *                                          is the decay, too
 *   freeze-bottom                 groups   integer, below the     1
 *                                          group count
 *
 * Layer patterns, as typed in commands: "all" (the root), a dotted path
 * ("stage2.conv1"), or a glob whose '*' matches any run of characters within
 * one name, never a '.' ("stage*", "stage3.*", "*.bn1"); so "stage3.*" names
 * stage3's direct children.
 *
 * Usage:
 *
 *     strategy s;
 *     thaw_plan plan;
 *     thaw_err err = {0};
 *     if (strategy_parse(&s, "gradual every=2", &err) ||
 *         strategy_apply(&s, &m, 0.01f, &plan, &err))
 *         ... report err.msg ...
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (int i = 0; i < plan.n; i++)
 *             if (plan.ev[i].epoch == epoch)
 *                 model_freeze(&m, model_find(&m, plan.ev[i].path), 0);
 *         ... train one epoch ...
 *     }
 *
 *     layer *hit[16];
 *     int n = model_match(&m, "*.bn1", hit, 16, &err);   // stage1.bn1, stage2.bn1, stage3.bn1
 */
#ifndef THAW_STRATEGY_H
#define THAW_STRATEGY_H

#include <stddef.h>

#include "model.h"

#define STRATEGY_GROUPS_MAX 64

/* Every strategy, once: X(KIND, its name, another name the text form
 * accepts or NULL). The kinds, their names, what strategy_parse reads and
 * strategy_names all come from this list. */
#define STRAT_KINDS(X)                                                                            \
    X(FEATURE_EXTRACTION, "feature-extraction", "feature")                                        \
    X(FINETUNE, "finetune", "fine-tuning")                                                        \
    X(GRADUAL, "gradual", NULL)                                                                   \
    X(DISCRIMINATIVE, "discriminative", NULL)                                                     \
    X(LAYER_DECAY, "layer-decay", NULL)                                                          \
    X(FREEZE_BOTTOM, "freeze-bottom", NULL)

typedef enum strat_kind {
#define STRAT_KIND_ENUM(kind, name, alias) STRAT_##kind,
    STRAT_KINDS(STRAT_KIND_ENUM)
#undef STRAT_KIND_ENUM
    STRAT_KIND_COUNT
} strat_kind;

/* The kinds' names in order, NULL-terminated (for completion and help). */
extern const char *const strategy_names[STRAT_KIND_COUNT + 1];

typedef struct strategy {
    strat_kind kind;
    int every;        /* gradual: epochs between thaws */
    double factor;    /* discriminative: the body's rate is base/factor */
    double lo;        /* discriminative: if > 0, group 0's rate (geometric spread to base) */
    double decay;     /* layer-decay: rate ratio between neighbouring groups */
    int groups;       /* freeze-bottom: the groups frozen, from group 0 */
} strategy;

/* A buffer this long holds any strategy_format output. */
#define STRATEGY_TEXT_MAX 96

/* At the start of epoch `epoch` (0-based, from the start of training), thaw
 * the group at `path`. */
typedef struct thaw_event {
    int epoch;
    char path[LAYER_PATH_MAX];
} thaw_event;

typedef struct thaw_plan {
    int n;
    thaw_event ev[STRATEGY_GROUPS_MAX];
} thaw_plan;

/* Sets kind and every other field to its default (table above). */
void strategy_default(strategy *s, strat_kind kind);

/* Reads the text form into s. THAW_EINVAL, with s unchanged, for an empty
 * text, an unknown name, a key the kind does not take, a key given twice, a
 * malformed or non-finite number, or a value out of its range; the message
 * names the offending item and lists the names or keys that are valid. */
int strategy_parse(strategy *s, const char *text, thaw_err *err);

/* Writes the text form of s into buf (always terminated when cap > 0,
 * truncated past cap), with the canonical name; values at their default and
 * keys the kind does not take are left out. strategy_parse reads it back to
 * the same values. */
void strategy_format(const strategy *s, char *buf, size_t cap);

/* "feature-extraction", "finetune", "gradual", "discriminative",
 * "layer-decay"; "unknown" for anything else. */
const char *strategy_name(strat_kind k);

/* Stores up to cap of m's groups (see above) in group, in order, and returns
 * how many it stored. */
int model_groups(const model *m, layer **group, int cap);

/* Sets every slice's frozen flag and learning rate in m from the strategy
 * and base_lr, whatever they were before. For gradual, plan receives the
 * thaw events, top down; for the other kinds plan may be NULL and, if not,
 * is emptied. THAW_EINVAL, with m unchanged, when base_lr is not a positive
 * number, a field of s is out of its text form's range, lo exceeds base_lr,
 * plan is NULL for gradual, or m has fewer than 2 groups (nothing to split;
 * finetune excepted) or more than STRATEGY_GROUPS_MAX. */
int strategy_apply(const strategy *s, model *m, float base_lr, thaw_plan *plan, thaw_err *err);

/* Stores up to cap of the nodes that pattern names in out, in depth-first
 * pre-order, and returns how many it stored. A node that matches is not
 * searched further, so out never holds a node and its descendant. When
 * nothing matches: -1, with THAW_ENOTFOUND in err and a message that names
 * the pattern and lists the model's top-level layers. */
int model_match(const model *m, const char *pattern, layer **out, int cap, thaw_err *err);

#endif
