"""thaw's reference transfer experiment, done in plain PyTorch.

    /usr/bin/python3 examples/pytorch/reference_experiment.py [--seeds 3] [--epochs 30]
        [--threads 2] [--model models/fashion-resnet.json]

Protocol. The source model is models/fashion-resnet (trained by thaw on
Fashion-MNIST classes 0-4). The target task is Fashion-MNIST classes 5-9,
relabelled 0-4: for each seed, 20 training and 50 validation images per class
drawn without replacement from the official training split, and all 5000
official test images of those classes for the score. Pixels are scaled to
[0, 1] and normalised with the model file's input mean and std. A fresh head
(Linear 128->5, PyTorch's default init) replaces the source head. Training:
SGD, momentum 0.9, weight decay 5e-4 on every trainable tensor, batch 32 (the
last batch of an epoch is partial), a constant learning rate, no
augmentation, 30 epochs; the score is test accuracy after the last epoch (no
early stopping; the validation images are drawn, so the training draw follows
the protocol, and reported only). Strategies:

  scratch         the same architecture, fresh init, all trainable, lr 0.01
  fe bn-eval      only the head trains (lr 0.01); the frozen body stays in eval
                  mode: BatchNorm uses, and never updates, its running
                  statistics (Keras's behaviour, and thaw's)
  fe bn-train     only the head trains, but model.train() as usual, so the
                  frozen BatchNorm layers normalise with batch statistics and
                  their running statistics drift to the new data (PyTorch's
                  naive default: requires_grad=False does not freeze them)
  fe train-bn     as bn-train, plus BatchNorm's scale and shift trainable
                  (fast.ai's train_bn=True)
  finetune        everything trainable at 0.01, train mode
  discriminative  body at 0.001, head at 0.01, train mode

Each seed draws its own images, head init and data order; within a seed
every strategy sees the same draw, head init and order, so Δtransfer =
strategy − scratch of the same seed is a paired difference. The table gives
mean ± sample std over seeds, in percent and percentage points.

Against thaw. The same protocol in thaw is

    thaw compare --model models/fashion-resnet.json \\
        --data fashion:classes=5-9,shots=20,val=50 \\
        --strategies feature-extraction,finetune,"discriminative factor=10" \\
        --seeds 3 --epochs 30 --batch 32 --lr 0.01

Its rows correspond to scratch (baseline), fe bn-eval (thaw's frozen
BatchNorm uses its running statistics), finetune and discriminative. thaw
draws images and initialises with its own generator, so single seeds differ;
compare means and spreads, not seed by seed.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from thaw_torch import FlatLinear, ThawNet, load_thaw  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
CLASSES, SHOTS, VAL = range(5, 10), 20, 50
BATCH, LR, BODY_LR, MOMENTUM, WD = 32, 0.01, 0.001, 0.9, 5e-4
STRATEGIES = ["scratch", "fe bn-eval", "fe bn-train", "fe train-bn", "finetune", "discriminative"]


def read_idx(name):
    """An IDX file (gzipped or not) as a numpy array of its declared shape."""
    path = os.path.join(DATA, name)
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            raw = f.read()
    else:
        with open(path, "rb") as f:
            raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def to_tensor(images, mean, std):
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float, normalised as the model expects."""
    return (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1) - mean) / std


def draw(labels, seed):
    """Indices of SHOTS training and VAL validation images per class (seeded)."""
    rs = np.random.RandomState(seed)
    train, val = [], []
    for c in CLASSES:
        pick = rs.choice(np.flatnonzero(labels == c), SHOTS + VAL, replace=False)
        train += list(pick[:SHOTS])
        val += list(pick[SHOTS:])
    return np.array(train), np.array(val)


def build(strategy, meta, source_state, seed):
    """The network and its optimizer for one strategy; the head is fresh."""
    torch.manual_seed(seed)                      # the same inits for every strategy of a seed
    net = ThawNet(meta["architecture"])          # fresh everywhere: scratch keeps this
    net.head = FlatLinear(net.head.in_features, len(CLASSES))
    if strategy != "scratch":
        missing, unexpected = net.load_state_dict(source_state, strict=False)
        assert not unexpected and all(k.startswith("head.") for k in missing)
    head = list(net.head.parameters())
    body = [p for n, p in net.named_parameters() if not n.startswith("head.")]
    if strategy.startswith("fe"):
        bn_affine = {id(p) for m in net.modules() if isinstance(m, nn.BatchNorm2d)
                     for p in m.parameters()}
        for p in body:
            p.requires_grad_(strategy == "fe train-bn" and id(p) in bn_affine)
        groups = [{"params": head + [p for p in body if p.requires_grad], "lr": LR}]
    elif strategy == "discriminative":
        groups = [{"params": body, "lr": BODY_LR}, {"params": head, "lr": LR}]
    else:                                        # scratch, finetune
        groups = [{"params": body + head, "lr": LR}]
    return net, torch.optim.SGD(groups, lr=LR, momentum=MOMENTUM, weight_decay=WD)


def set_mode(net, strategy):
    """Train mode, except that bn-eval keeps every layer below the head in eval."""
    net.train()
    if strategy == "fe bn-eval":
        for name, child in net.named_children():
            if name != "head":
                child.eval()


@torch.no_grad()
def accuracy(net, x, y):
    net.eval()
    hits = sum((net(x[i:i + 100]).argmax(1) == y[i:i + 100]).sum().item()
               for i in range(0, len(x), 100))
    return 100.0 * hits / len(x)


def run(strategy, meta, source_state, data, seed, epochs):
    (xtr, ytr), (xval, yval), (xte, yte) = data
    net, opt = build(strategy, meta, source_state, seed)
    order = torch.Generator().manual_seed(seed)  # the same data order for every strategy
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        set_mode(net, strategy)
        perm = torch.randperm(len(xtr), generator=order)
        for i in range(0, len(xtr), BATCH):
            b = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xtr[b]), ytr[b]).backward()
            opt.step()
    return accuracy(net, xte, yte), accuracy(net, xval, yval)


def mean_std(v):
    v = np.asarray(v, dtype=float)
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="models/fashion-resnet.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    meta, source = load_thaw(args.model)
    source_state = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    mean, std = meta["input"]["mean"][0], meta["input"]["std"][0]
    train_x, train_y = read_idx("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte")
    test_x, test_y = read_idx("t10k-images-idx3-ubyte"), read_idx("t10k-labels-idx1-ubyte")
    keep = np.isin(test_y, CLASSES)
    test = (to_tensor(test_x[keep], mean, std), torch.from_numpy(test_y[keep] - 5).long())

    test_acc = {s: [] for s in STRATEGIES}
    print("per seed: test acc % (val acc %)")
    for seed in range(1, args.seeds + 1):
        tr, va = draw(train_y, seed)
        data = [(to_tensor(train_x[i], mean, std), torch.from_numpy(train_y[i] - 5).long())
                for i in (tr, va)] + [test]
        for s in STRATEGIES:
            acc, val = run(s, meta, source_state, data, seed, args.epochs)
            test_acc[s].append(acc)
            print("  seed %d  %-15s %6.2f (%6.2f)" % (seed, s, acc, val), flush=True)

    print("\n%d seeds, %d epochs, %d test images, torch %s, %d thread(s)"
          % (args.seeds, args.epochs, len(test[1]), torch.__version__, args.threads))
    print("%-15s %16s %18s" % ("strategy", "test acc %", "Δtransfer pts"))
    for s in STRATEGIES:
        am, asd = mean_std(test_acc[s])
        if s == "scratch":
            print("%-15s %7.2f ± %-6.2f %18s" % (s, am, asd, "–"))
            continue
        dm, dsd = mean_std(np.subtract(test_acc[s], test_acc["scratch"]))
        print("%-15s %7.2f ± %-6.2f %+8.2f ± %-6.2f" % (s, am, asd, dm, dsd))
    print("wall %.1f s" % (time.perf_counter() - start))


if __name__ == "__main__":
    main()
