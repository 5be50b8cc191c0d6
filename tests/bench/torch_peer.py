"""PyTorch's training throughput on thaw's reference model, for `make bench`.

The model is fashion-resnet as thaw builds it (core/model.c, reference_net):
  stem    conv 3x3 1->32 (no bias), BatchNorm, ReLU          28x28
  stage1  basic block 32->32                                  28x28
  stage2  basic block 32->64, stride 2, 1x1 projection        14x14
  stage3  basic block 64->128, stride 2, 1x1 projection        7x7
  head    global average pool, linear 128->classes
A basic block is conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input or a
projection (conv1x1(stride)-BN), then ReLU.

usage: python3 torch_peer.py THREADS BATCH MODE[,MODE...] [SECONDS]
  full  trains everything; head  trains only the head (the rest frozen);
  eval  forward passes in evaluation mode under torch.no_grad();
  mobilenet-full, mobilenet-eval  the same on MobileNet v1 0.25 at 224x224
  (the architecture thaw imports, TensorFlow's "same" padding);
  memory  the growth of resident memory over training steps, per image.
Prints one line per mode: mode=M img/s=N, the rate of whole SGD steps
(momentum 0.9) or forward passes on random input; memory prints
mb_per_image=X.
  depthwise  times the 3x3 depthwise convolutions thaw-bench times
(DEPTHWISE_SHAPES: channels, side, stride; padding 1, no bias), forward and
backward (input and weight gradients), each the median of 5 runs of
SECONDS/10: one line per shape, "dw C SIDE STRIDE fwd_ms=F bwd_ms=B".
"""
import resource
import sys
import time

import torch
from torch import nn


def conv_bn(cin, cout, k, stride):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, cout, 3, stride)
        self.conv2, self.bn2 = conv_bn(cout, cout, 3, 1)
        needs_proj = stride != 1 or cin != cout
        self.proj = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if needs_proj else None

    def forward(self, x):
        main = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        side = x if self.proj is None else self.proj(x)
        return torch.relu(main + side)


class FashionResNet(nn.Module):
    def __init__(self, in_channels=1, classes=10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(in_channels, 32, 3, 1), nn.ReLU())
        self.stage1 = BasicBlock(32, 32, 1)
        self.stage2 = BasicBlock(32, 64, 2)
        self.stage3 = BasicBlock(64, 128, 2)
        self.head = nn.Linear(128, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(x.mean(dim=(2, 3)))


class MobileNetV1(nn.Module):
    """MobileNet v1 with width multiplier 0.25, as thaw imports Keras' model:
    conv-BN-ReLU6, then 13 depthwise-separable blocks, global average pool,
    a 1000-class linear head. Stride-2 convolutions pad 0 top/left and 1
    bottom/right (TensorFlow's "same")."""

    def __init__(self, alpha=0.25, classes=1000):
        super().__init__()

        def conv(cin, cout, k, stride, groups=1):
            pad = nn.ZeroPad2d((0, 1, 0, 1)) if stride == 2 else nn.ZeroPad2d(k // 2)
            return [pad, nn.Conv2d(cin, cout, k, stride, 0, groups=groups, bias=False),
                    nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6()]

        def ch(n):
            return int(n * alpha)

        layers = conv(3, ch(32), 3, 2)
        spec = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
               [(1024, 2), (1024, 1)]
        cin = ch(32)
        for cout, stride in spec:
            layers += conv(cin, cin, 3, stride, groups=cin)
            layers += [nn.Conv2d(cin, ch(cout), 1, bias=False), nn.BatchNorm2d(ch(cout), eps=1e-3),
                       nn.ReLU6()]
            cin = ch(cout)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


DEPTHWISE_SHAPES = [(32, 112, 1), (64, 56, 1), (128, 28, 1), (256, 14, 1),
                    (32, 112, 2), (64, 56, 2), (128, 28, 2), (256, 14, 2)]


def median_ms(run, seconds):
    times = []
    for _ in range(5):
        steps, start = 0, time.perf_counter()
        while True:
            run()
            steps += 1
            if time.perf_counter() - start >= seconds / 10:
                break
        times.append(1e3 * (time.perf_counter() - start) / steps)
    return sorted(times)[2]


def depthwise(batch, seconds):
    for c, side, stride in DEPTHWISE_SHAPES:
        x = torch.randn(batch, c, side, side)
        w = torch.randn(c, 1, 3, 3)
        with torch.no_grad():
            y = nn.functional.conv2d(x, w, None, stride, 1, 1, c)
        dy = torch.randn(y.shape)

        def fwd():
            with torch.no_grad():
                nn.functional.conv2d(x, w, None, stride, 1, 1, c)

        def bwd():
            torch.ops.aten.convolution_backward(dy, x, w, None, [stride, stride], [1, 1], [1, 1],
                                                False, [0, 0], c, [True, True, False])

        fwd(), bwd()
        print(f"dw {c} {side} {stride} fwd_ms={median_ms(fwd, seconds):.3f} "
              f"bwd_ms={median_ms(bwd, seconds):.3f}", flush=True)


def rss_mb():
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(mode, batch, seconds):
    torch.manual_seed(0)
    mobile = mode.startswith("mobilenet")
    net = MobileNetV1() if mobile else FashionResNet()
    shape = (batch, 3, 224, 224) if mobile else (batch, 1, 28, 28)
    x = torch.randn(*shape)
    y = torch.randint(0, 1000 if mobile else 10, (batch,))
    if mode.endswith("eval"):
        net.eval()

        def step():
            with torch.no_grad():
                net(x)
    else:
        if mode == "head":
            for name, p in net.named_parameters():
                p.requires_grad_(name.startswith("head."))
        opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x), y).backward()
            opt.step()

    before = rss_mb()
    for _ in range(3 if mobile else 5):
        step()
    if mode == "memory":
        print(f"mode=memory img/s=0 mb_per_image={(rss_mb() - before) / batch:.3f}", flush=True)
        return
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    rate = steps * batch / (time.perf_counter() - start)
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} batch={batch} mode={mode} "
          f"img/s={rate:.1f}", flush=True)


MODES = ("full", "head", "eval", "mobilenet-full", "mobilenet-eval", "memory", "depthwise")


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    modes = (sys.argv[3] if len(sys.argv) > 3 else "full").split(",")
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 4.0
    for mode in modes:
        if mode not in MODES:
            sys.exit(f"torch_peer.py: mode {mode!r}: expected one of {', '.join(MODES)}")
    torch.set_num_threads(threads)
    for mode in modes:
        if mode == "depthwise":
            depthwise(batch, seconds)
        else:
            measure(mode, batch, seconds)


if __name__ == "__main__":
    main()
