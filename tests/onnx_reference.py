"""The PyTorch side of tests/test_onnx.c: a torchvision network built with
weights=None, seeded random weights and BatchNorm statistics, exported with
torch.onnx.export into DIR/model.onnx beside a fixed batch (input.f32) and
PyTorch's logits for it in evaluation mode (logits.f32), float32 raw; and
for one training step (BatchNorm on batch statistics, dropout and stochastic
depth off: thaw imports them as identities) the labels (labels.i32) and
every parameter's gradient of the mean cross-entropy computed in float64,
in named_parameters order (grads.f64), with each tensor's name, size and
how far PyTorch's own float32 gradient is from it in the L2 norm
(grads.txt), the tolerance for a tensor whose true gradient is zero. A
network that reduces by 32 is ill-conditioned at 32x32 (its last stages are
1x1, each training-mode BatchNorm there sees 4 values a channel): float32
itself is off by 1e-3 there, so the test asks for such networks at 64x64.

    /usr/bin/python3 tests/onnx_reference.py ARCH DIR [--size S] [--batch N] [--classes K]
"""
import argparse
import copy
import os

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("dir")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    m = getattr(torchvision.models, a.arch)(weights=None, num_classes=a.classes).eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    x = torch.randn(a.batch, 3, a.size, a.size)
    path = os.path.join(a.dir, "model.onnx")
    torch.onnx.export(m, x, path, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, input_names=["input"], output_names=["logits"])
    with torch.no_grad():
        y = m(x)
    x.numpy().astype("float32").tofile(os.path.join(a.dir, "input.f32"))
    y.numpy().astype("float32").tofile(os.path.join(a.dir, "logits.f32"))

    labels = torch.arange(a.batch) % a.classes
    m64 = copy.deepcopy(m).double()
    g32, g64 = step(m, x, labels), step(m64, x.double(), labels)
    labels.numpy().astype("int32").tofile(os.path.join(a.dir, "labels.i32"))
    torch.cat([g.reshape(-1) for g in g64]).numpy().astype("float64").tofile(
        os.path.join(a.dir, "grads.f64"))
    with open(os.path.join(a.dir, "grads.txt"), "w") as f:
        for (name, p), g, h in zip(m.named_parameters(), g32, g64):
            f.write("%s %d %.9g\n" % (name, p.numel(), (g.double() - h).norm().item()))


def step(m, x, labels):
    """The parameter gradients of one training step's mean cross-entropy."""
    m.train()
    for mod in m.modules():
        if isinstance(mod, torch.nn.Dropout) or type(mod).__name__ == "StochasticDepth":
            mod.eval()
    torch.nn.functional.cross_entropy(m(x), labels).backward()
    return [p.grad.detach() for p in m.parameters()]

if __name__ == "__main__":
    main()
