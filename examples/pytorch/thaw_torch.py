"""Converts models between PyTorch and thaw's model files, both ways, and
writes the golden fixture thaw's tests compare against.

    python3 thaw_torch.py to-thaw STATE_DICT.pt MODEL.json [--like OTHER.json] [--size H W]
    python3 thaw_torch.py to-torch MODEL.json STATE_DICT.pt
    python3 thaw_torch.py golden FOLDER
    python3 thaw_torch.py golden-mobilenet FOLDER
    python3 thaw_torch.py logits MODEL.json OUT.safetensors [--batch N] [--seed N]

to-thaw   a PyTorch state_dict (torch.save of model.state_dict(), or of the
          model) into MODEL.json + MODEL.safetensors. The architecture is
          OTHER.json's (its input, normalisation and class names too), or by
          default thaw's reference model (fashion-resnet, as
          tests/bench/torch_peer.py defines it) with the input channels and
          class count read from the state_dict and a 28x28 input.
to-torch  a thaw model into a state_dict file that load_state_dict accepts
          for the same architecture (ThawNet below builds it from the JSON).
golden    a small model with residual blocks and BatchNorm, an input batch,
          and PyTorch's logits, loss, parameter gradients and updated running
          statistics for it, computed in float64 (tests/data/golden/).
golden-mobilenet  the same for a small model of MobileNet v1, v2 and v3 parts
          (mobilenet.json: depthwise and grouped convolutions, TensorFlow's
          "same" padding, relu6, hardswish, an inverted residual and a
          squeeze-and-excite gate), and layers.safetensors: the activations
          (their kinks included) and convolutions one by one, straight from
          torch.nn.functional rather than through this bridge.
logits    a seeded random batch for a thaw model ("input") and the model's
          evaluation-mode logits for it ("logits_eval", float64 inside):
          thaw's tests check that this bridge computes what thaw does.

Needs PyTorch (Debian: apt-get install python3-torch, then run with
/usr/bin/python3). safetensors files are read and written here directly:
8 bytes of little-endian header length, the JSON header, the raw data.
"""
import argparse
import json
import os
import struct
import sys

import torch
from torch import nn

FORMAT, VERSION = "thaw-model", 2   # writes version 2; reads 1 and 2

# ---- safetensors -----------------------------------------------------------

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(data[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    """tensors: name -> tensor, written in the order given."""
    header, chunks, at = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [at, at + len(raw)]}
        chunks.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

# ---- the architecture, as thaw's JSON describes it ---------------------------


class Seq(nn.Module):
    """A sequential container whose children keep their thaw names."""

    def __init__(self, layers):
        super().__init__()
        for node in layers:
            self.add_module(node["name"], build(node))

    def forward(self, x):
        for child in self.children():
            x = child(x)
        return x


class Residual(nn.Module):
    """thaw's residual container (core/residual.c): act(body(x) + shortcut(x)),
    the shortcut the identity when absent. The body's children are the
    block's own attributes (conv1, bn1, relu, ...), as in torchvision."""

    def __init__(self, body, shortcut, activation):
        super().__init__()
        self.body = []
        for node in body:
            self.add_module(node["name"], build(node))
            self.body.append(node["name"])
        self.shortcut = shortcut["name"] if shortcut else None
        if shortcut:
            self.add_module(shortcut["name"], build(shortcut))
        self.activation = activation

    def forward(self, x):
        y = x
        for name in self.body:
            y = getattr(self, name)(y)
        y = y + (x if self.shortcut is None else getattr(self, self.shortcut)(x))
        return torch.relu(y) if self.activation == "relu" else y


class Gate(nn.Module):
    """thaw's gate container (core/gate.c): x * branch(x), squeeze-and-excite."""

    def __init__(self, branch):
        super().__init__()
        for node in branch:
            self.add_module(node["name"], build(node))

    def forward(self, x):
        g = x
        for child in self.children():
            g = child(g)
        return x * g


def conv(name, cin, cout, k, stride, pad):
    return {"name": name, "type": "conv2d", "in_channels": cin, "out_channels": cout,
            "kernel_size": k, "stride": stride, "padding": pad, "bias": False}


def bn(name, c):
    return {"name": name, "type": "batchnorm2d", "num_features": c, "eps": 1e-05, "momentum": 0.1}


def basic_block(name, cin, cout, stride, projection=None):
    """A ResNet basic block as version 2 writes it (version 1's "residual")."""
    if projection is None:
        projection = stride != 1 or cin != cout
    node = {"name": name, "type": "residual", "activation": "relu", "body": [
        conv("conv1", cin, cout, 3, stride, 1), bn("bn1", cout), {"name": "relu", "type": "relu"},
        conv("conv2", cout, cout, 3, 1, 1), bn("bn2", cout)]}
    if projection:
        node["shortcut"] = {"name": "proj", "type": "sequential",
                            "layers": [conv("0", cin, cout, 1, stride, 0), bn("1", cout)]}
    return node


class GlobalAvg(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True)


class Flat(nn.Module):
    """thaw keeps every tensor as (B, C, H, W); flat is (B, C*H*W, 1, 1)."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1, 1, 1)


class FlatLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x.reshape(x.shape[0], -1)).reshape(x.shape[0], -1, 1, 1)


class SidePaddedConv2d(nn.Conv2d):
    """thaw's conv2d: padding per side (top, bottom, left, right), as
    nn.ZeroPad2d before a convolution would add it, but keeping the
    convolution's own tensor names; even padding is nn.Conv2d's own."""

    def __init__(self, cin, cout, k, stride, sides, groups, bias):
        top, bottom, left, right = sides
        even = top == bottom and left == right
        super().__init__(cin, cout, k, stride, (top, left) if even else 0, groups=groups, bias=bias)
        self.sides = None if even else (left, right, top, bottom)   # F.pad's order

    def forward(self, x):
        if self.sides is not None:
            x = nn.functional.pad(x, self.sides)
        return super().forward(x)


# The lengths of the sequences the last embedding read, for the pools over
# time: (B) real positions, and the length L of the ids they came from.
SEQ = {"len": None, "steps": None}


class ThawEmbedding(nn.Embedding):
    """thaw's embedding: ids (B, 1, 1, L) as floats -> (B, D, 1, L), channels
    first; padding and ids outside the vocabulary look up zeros. Records each
    sample's length (up to its last real id) for SeqMean and SeqMax."""

    def __init__(self, vocab, dim, pad):
        super().__init__(vocab, dim, padding_idx=pad if pad >= 0 else None)
        self.pad = pad

    def forward(self, x):
        ids = x.reshape(x.shape[0], -1).round().long()
        real = (ids >= 0) & (ids < self.num_embeddings) & (ids != self.pad)
        y = super().forward(torch.where(real, ids, torch.zeros_like(ids))) * real.unsqueeze(-1)
        steps = torch.arange(1, ids.shape[1] + 1, device=ids.device)
        SEQ["len"] = (real * steps).max(dim=1).values
        SEQ["steps"] = ids.shape[1]
        return y.transpose(1, 2).unsqueeze(2)


def seq_mask(x):
    """(B, L') real positions of x (B, C, 1, L'), and their counts (B)."""
    steps = x.shape[-1]
    if SEQ["len"] is None:
        n = torch.full((x.shape[0],), steps, device=x.device)
    else:
        n = SEQ["len"]
        n = torch.where(n == 0, n, (n + steps - SEQ["steps"]).clamp(1, steps))
    return torch.arange(steps, device=x.device).unsqueeze(0) < n.unsqueeze(1), n


class SeqMean(nn.Module):
    def forward(self, x):
        mask, n = seq_mask(x)
        s = (x * mask[:, None, None, :]).sum(dim=-1, keepdim=True)
        return s / n.clamp(min=1)[:, None, None, None]


class SeqMax(nn.Module):
    def forward(self, x):
        mask, n = seq_mask(x)
        y = x.masked_fill(~mask[:, None, None, :], float("-inf")).amax(dim=-1, keepdim=True)
        return torch.where((n > 0)[:, None, None, None], y, torch.zeros_like(y))


class Concat(nn.Module):
    """thaw's concat: every branch reads the input, the outputs stacked
    along the channels."""

    def __init__(self, branches):
        super().__init__()
        for node in branches:
            self.add_module(node["name"], build(node))

    def forward(self, x):
        return torch.cat([b(x) for b in self.children()], dim=1)


class SeqConv1d(nn.Conv1d):
    """thaw's conv1d on (B, C, 1, L)."""

    def forward(self, x):
        return super().forward(x.squeeze(2)).unsqueeze(2)


def build(node):
    t = node["type"]
    if t == "embedding":
        return ThawEmbedding(node["num_embeddings"], node["embedding_dim"], node.get("padding_idx", 0))
    if t == "conv1d":
        return SeqConv1d(node["in_channels"], node["out_channels"], node["kernel_size"],
                         padding=node.get("padding", 0), bias=node.get("bias", True))
    if t == "concat":
        return Concat(node["branches"])
    if t == "seqmean":
        return SeqMean()
    if t == "seqmax":
        return SeqMax()
    if t == "sequential":
        return Seq(node["layers"])
    if t == "residual" and "body" not in node:   # version 1's basic block
        node = basic_block(node["name"], node["in_channels"], node["out_channels"],
                           node.get("stride", 1), node.get("projection"))
    if t == "residual":
        return Residual(node["body"], node.get("shortcut"), node.get("activation", "none"))
    if t == "gate":
        return Gate(node["branch"])
    if t == "silu":
        return nn.SiLU()
    if t == "relu6":
        return nn.ReLU6()
    if t == "hardswish":
        return nn.Hardswish()
    if t == "hardsigmoid":
        return nn.Hardsigmoid()
    if t == "sigmoid":
        return nn.Sigmoid()
    if t == "conv2d":
        pad = node.get("padding", 0)
        sides = [node.get(k, pad) for k in ("pad_top", "pad_bottom", "pad_left", "pad_right")]
        return SidePaddedConv2d(node["in_channels"], node["out_channels"], node["kernel_size"],
                                node.get("stride", 1), sides, node.get("groups", 1),
                                bias=node.get("bias", True))
    if t == "batchnorm2d":
        return nn.BatchNorm2d(node["num_features"], node.get("eps", 1e-5), node.get("momentum", 0.1))
    if t == "relu":
        return nn.ReLU()
    if t == "maxpool2d":
        k = node["kernel_size"]
        return nn.MaxPool2d(k, node.get("stride", k), node.get("padding", 0))
    if t == "avgpool":
        return GlobalAvg()
    if t == "flatten":
        return Flat()
    if t == "linear":
        return FlatLinear(node["in_features"], node["out_features"], bias=node.get("bias", True))
    if t == "dropout":
        return nn.Dropout(node.get("p", 0.5))
    raise SystemExit("unknown layer type %r" % t)


class ThawNet(nn.Module):
    """A thaw architecture as a PyTorch module; its state_dict names are the
    thaw file's tensor names. Output: (B, classes) logits."""

    def __init__(self, arch):
        super().__init__()
        for node in arch["layers"]:
            self.add_module(node["name"], build(node))

    def forward(self, x):
        for child in self.children():
            x = child(x)
        return x.reshape(x.shape[0], -1)


def reference_arch(in_channels, classes):
    """fashion-resnet, as models/mf_print.c (mf_meta_reference) and
    tests/bench/torch_peer.py define it."""
    return {"type": "sequential", "layers": [
        {"name": "stem", "type": "sequential", "layers": [
            conv("0", in_channels, 32, 3, 1, 1), bn("1", 32), {"name": "2", "type": "relu"}]},
        basic_block("stage1", 32, 32, 1), basic_block("stage2", 32, 64, 2),
        basic_block("stage3", 64, 128, 2),
        {"name": "pool", "type": "avgpool"},
        {"name": "head", "type": "linear", "in_features": 128, "out_features": classes, "bias": True}]}

# ---- conversions -------------------------------------------------------------


def save_thaw(path, meta, net):
    """meta: the JSON object without "weights"; net: a ThawNet of meta's architecture."""
    if not path.endswith(".json"):
        raise SystemExit("%s: expected a name ending in .json" % path)
    weights = path[:-len(".json")] + ".safetensors"
    tensors = {}
    for name, t in net.state_dict().items():
        t = t.to(torch.int64) if name.endswith("num_batches_tracked") else t.to(torch.float32)
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise SystemExit("%s: not finite; nothing written" % name)
        tensors[name] = t
    write_safetensors(weights, tensors)
    doc = {"format": FORMAT, "version": VERSION, "weights": os.path.basename(weights)}
    doc.update({k: v for k, v in meta.items() if k not in ("format", "version", "weights")})
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_thaw(path):
    with open(path) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT or meta.get("version") not in (1, VERSION):
        raise SystemExit("%s: not a %s version 1 or %d file" % (path, FORMAT, VERSION))
    net = ThawNet(meta["architecture"])
    tensors = read_safetensors(os.path.join(os.path.dirname(path), meta["weights"]))
    state = net.state_dict()
    for name in state:
        if name.endswith("num_batches_tracked") and name not in tensors:
            tensors[name] = state[name]   # optional in thaw's files
    try:
        net.load_state_dict({k: v.to(state[k].dtype) if k in state else v for k, v in tensors.items()})
    except RuntimeError as e:
        raise SystemExit("%s: the weights do not fit the architecture: %s" % (path, e))
    return meta, net


def to_thaw(args):
    sd = torch.load(args.state_dict, map_location="cpu")
    if isinstance(sd, nn.Module):
        sd = sd.state_dict()
    if args.like:
        with open(args.like) as f:
            meta = json.load(f)
        meta.pop("frozen", None)
        meta.pop("version", None)
    else:
        channels, classes = sd["stem.0.weight"].shape[1], sd["head.weight"].shape[0]
        meta = {"input": {"channels": channels, "height": args.size[0], "width": args.size[1],
                          "mean": [0.0] * channels, "std": [1.0] * channels},
                "classes": [str(i) for i in range(classes)],
                "architecture": reference_arch(channels, classes)}
    net = ThawNet(meta["architecture"])
    try:
        net.load_state_dict(sd)   # strict: every tensor present, none extra, shapes equal
    except RuntimeError as e:
        raise SystemExit("%s does not fit the architecture: %s" % (args.state_dict, e))
    save_thaw(args.model, meta, net)


def to_torch(args):
    _, net = load_thaw(args.model)
    torch.save(net.state_dict(), args.state_dict)

# ---- the golden fixture ------------------------------------------------------


GOLDEN_ARCH = {"type": "sequential", "layers": [
    {"name": "stem", "type": "sequential", "layers": [
        {"name": "0", "type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3,
         "stride": 1, "padding": 1, "bias": False},
        {"name": "1", "type": "batchnorm2d", "num_features": 8, "eps": 1e-05, "momentum": 0.1},
        {"name": "2", "type": "relu"}]},
    {"name": "pool1", "type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1},
    basic_block("stage1", 8, 8, 1), basic_block("stage2", 8, 16, 2),
    {"name": "mix", "type": "conv2d", "in_channels": 16, "out_channels": 16, "kernel_size": 3,
     "stride": 1, "padding": 1, "bias": True},
    {"name": "act", "type": "relu"},
    {"name": "pool", "type": "avgpool"},
    {"name": "flat", "type": "flatten"},
    {"name": "head", "type": "linear", "in_features": 16, "out_features": 5, "bias": True}]}


def golden_bn(net):
    """BatchNorm away from its identity start, so scale, shift and the
    running statistics all matter."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(5)


def golden_expect(net, x, y):
    """net's logits (evaluation and training mode), loss, parameter gradients
    and the running statistics after the training pass, in float64; net
    becomes float64."""
    net64 = net.double()
    net64.eval()
    with torch.no_grad():
        logits_eval = net64(x.double())
    net64.train()
    logits = net64(x.double())
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    expect = {"input": x, "labels": y.to(torch.int64),
              "logits_eval": logits_eval.float(), "logits": logits.detach().float(),
              "loss": loss.detach().float().reshape(())}
    for name, p in net64.named_parameters():
        expect["grad." + name] = p.grad.float()
    for name, b in net64.named_buffers():
        expect["after." + name] = b.to(torch.int64) if name.endswith("num_batches_tracked") else b.float()
    return expect


def golden(args):
    torch.manual_seed(1)
    os.makedirs(args.folder, exist_ok=True)
    meta = {"input": {"channels": 3, "height": 8, "width": 8, "mean": [0, 0, 0], "std": [1, 1, 1]},
            "classes": ["a", "b", "c", "d", "e"],
            "provenance": {"dataset": "random", "seed": 1},
            "architecture": GOLDEN_ARCH}
    net = ThawNet(GOLDEN_ARCH)
    golden_bn(net)
    save_thaw(os.path.join(args.folder, "golden.json"), meta, net)
    x = torch.randn(4, 3, 8, 8)
    y = torch.tensor([0, 3, 1, 4])
    write_safetensors(os.path.join(args.folder, "expect.safetensors"), golden_expect(net, x, y))


def conv_bn_act(name, cin, cout, k, stride, groups, sides, act):
    """conv (no bias) - BatchNorm (eps 1e-3, as Keras) - act, as a sequential."""
    top, bottom, left, right = sides
    return {"name": name, "type": "sequential", "layers": [
        {"name": "0", "type": "conv2d", "in_channels": cin, "out_channels": cout,
         "kernel_size": k, "stride": stride, "padding": 0, "bias": False, "groups": groups,
         "pad_top": top, "pad_bottom": bottom, "pad_left": left, "pad_right": right},
        {"name": "1", "type": "batchnorm2d", "num_features": cout, "eps": 1e-3, "momentum": 0.1},
        {"name": "2", "type": act}]}


SAME_S2, SAME_S1 = (0, 1, 0, 1), (1, 1, 1, 1)   # TensorFlow's "same" for a 3x3 kernel

MOBILENET_ARCH = {"type": "sequential", "layers": [
    # MobileNet v1: a strided stem, then depthwise 3x3 stride 2 and pointwise 1x1.
    conv_bn_act("conv1", 3, 8, 3, 2, 1, SAME_S2, "relu6"),
    conv_bn_act("conv_dw_1", 8, 8, 3, 2, 8, SAME_S2, "relu6"),
    conv_bn_act("conv_pw_1", 8, 16, 1, 1, 1, (0, 0, 0, 0), "relu6"),
    # MobileNet v2/v3: an inverted residual (expand, depthwise, squeeze-and-
    # excite, project; the identity shortcut, no activation after the sum).
    {"name": "block1", "type": "residual", "activation": "none", "body": [
        conv_bn_act("expand", 16, 32, 1, 1, 1, (0, 0, 0, 0), "hardswish"),
        conv_bn_act("depthwise", 32, 32, 3, 1, 32, SAME_S1, "hardswish"),
        {"name": "se", "type": "gate", "branch": [
            {"name": "avgpool", "type": "avgpool"},
            {"name": "fc1", "type": "conv2d", "in_channels": 32, "out_channels": 8,
             "kernel_size": 1, "stride": 1, "padding": 0, "bias": True},
            {"name": "relu", "type": "relu"},
            {"name": "fc2", "type": "conv2d", "in_channels": 8, "out_channels": 32,
             "kernel_size": 1, "stride": 1, "padding": 0, "bias": True},
            {"name": "scale", "type": "hardsigmoid"}]},
        {"name": "project", "type": "sequential", "layers": [
            {"name": "0", "type": "conv2d", "in_channels": 32, "out_channels": 16,
             "kernel_size": 1, "stride": 1, "padding": 0, "bias": False},
            {"name": "1", "type": "batchnorm2d", "num_features": 16, "eps": 1e-3,
             "momentum": 0.1}]}]},
    # A grouped convolution (two groups) with a depth multiplier of two in a
    # depthwise one, and a sigmoid-gated squeeze.
    conv_bn_act("mix", 16, 16, 3, 1, 2, SAME_S1, "relu6"),
    conv_bn_act("dw2", 16, 32, 3, 1, 16, SAME_S1, "hardswish"),
    {"name": "se2", "type": "gate", "branch": [
        {"name": "avgpool", "type": "avgpool"},
        {"name": "fc", "type": "conv2d", "in_channels": 32, "out_channels": 32,
         "kernel_size": 1, "stride": 1, "padding": 0, "bias": True},
        {"name": "sigmoid", "type": "sigmoid"}]},
    {"name": "pool", "type": "avgpool"},
    {"name": "flat", "type": "flatten"},
    {"name": "head", "type": "linear", "in_features": 32, "out_features": 5, "bias": True}]}

# (in, out, kernel, stride, groups, (top, bottom, left, right), bias, height, width)
GOLDEN_CONVS = [
    (4, 4, 3, 2, 4, (0, 1, 0, 1), True, 9, 8),     # depthwise, TensorFlow "same" at stride 2
    (3, 6, 3, 1, 3, (1, 1, 1, 1), True, 7, 7),     # depthwise, two filters per channel
    (4, 6, 3, 1, 2, (1, 1, 1, 1), False, 6, 7),    # two groups
    (8, 8, 3, 1, 1, (1, 2, 0, 1), True, 6, 6),     # uneven padding
    (4, 4, 5, 2, 4, (2, 2, 2, 2), False, 9, 9),    # depthwise 5x5, stride 2
]

ACTIVATIONS = {"relu6": nn.functional.relu6, "hardswish": nn.functional.hardswish,
               "hardsigmoid": nn.functional.hardsigmoid, "sigmoid": torch.sigmoid}


def scalar_grad(f, x, dy):
    """The gradient of f at x (float32) for output gradient dy, one value at a
    time: ATen's scalar kernels. torch 1.13's vectorised CPU hardswish
    backward gives 1 at x = 3 where its scalar and CUDA kernels (and later
    CPU releases, pytorch/pytorch#136345) give 3/2; thaw follows the latter."""
    dx = torch.empty(x.numel())
    for i, (xi, gi) in enumerate(zip(x.flatten(), dy.flatten())):
        t = xi.reshape(1).clone().requires_grad_()
        f(t).backward(gi.reshape(1))
        dx[i] = t.grad[0]
    return dx.reshape(x.shape)


def golden_layers():
    """Each activation on random values and on its kinks, and each of
    GOLDEN_CONVS, with a random output gradient: y and the gradients. The
    activations in float32 (their gradients at the kinks are PyTorch's
    choices), the convolutions in float64."""
    out = {}
    kinks = torch.tensor([-3.0, 0.0, 3.0, 6.0, -6.0, 1e-7, 2.5, -2.5])
    for name, f in ACTIVATIONS.items():
        x = torch.cat([kinks, torch.randn(40) * 4]).reshape(2, 3, 2, 4)
        dy = torch.randn(2, 3, 2, 4)
        out.update({"act.%s.x" % name: x, "act.%s.dy" % name: dy,
                    "act.%s.y" % name: f(x), "act.%s.dx" % name: scalar_grad(f, x, dy)})
    for i, (cin, cout, k, stride, groups, sides, bias, h, w) in enumerate(GOLDEN_CONVS):
        top, bottom, left, right = sides
        x = torch.randn(2, cin, h, w)
        wt = torch.randn(cout, cin // groups, k, k) * 0.5
        b = torch.randn(cout) if bias else None
        x64 = x.double().requires_grad_()
        w64 = wt.double().requires_grad_()
        b64 = b.double().requires_grad_() if bias else None
        y = nn.functional.conv2d(nn.functional.pad(x64, (left, right, top, bottom)), w64, b64,
                                 stride, 0, 1, groups)
        dy = torch.randn(y.shape)
        y.backward(dy.double())
        at = "conv.%d." % i
        out[at + "hp"] = torch.tensor([cin, cout, k, stride, groups, top, bottom, left, right,
                                       int(bias), h, w], dtype=torch.int64)
        out.update({at + "x": x, at + "weight": wt, at + "dy": dy, at + "y": y.detach().float(),
                    at + "dx": x64.grad.float(), at + "dweight": w64.grad.float()})
        if bias:
            out.update({at + "bias": b, at + "dbias": b64.grad.float()})
    return out


def golden_mobilenet(args):
    torch.manual_seed(16)
    os.makedirs(args.folder, exist_ok=True)
    meta = {"input": {"channels": 3, "height": 16, "width": 16, "mean": [0.5, 0.5, 0.5],
                      "std": [0.5, 0.5, 0.5]},
            "classes": ["a", "b", "c", "d", "e"],
            "provenance": {"dataset": "random", "seed": 16},
            "architecture": MOBILENET_ARCH}
    net = ThawNet(MOBILENET_ARCH)
    golden_bn(net)
    save_thaw(os.path.join(args.folder, "mobilenet.json"), meta, net)
    x = torch.randn(4, 3, 16, 16)
    y = torch.tensor([2, 0, 4, 1])
    write_safetensors(os.path.join(args.folder, "mobilenet_expect.safetensors"),
                      golden_expect(net, x, y))
    write_safetensors(os.path.join(args.folder, "layers.safetensors"), golden_layers())


def golden_text(args):
    """Two text models on one batch of ids, in float64: Kim's front
    (embedding, conv1d of width 3 padded by 1, ReLU, max over time, linear)
    and a bag of embeddings (embedding, mean over time, linear), with
    padding at the ends of the sequences and one sample of padding alone:
    the logits and every gradient, for tests/test_layers_golden.c."""
    torch.manual_seed(19)
    ids = torch.tensor([[5, 2, 7, 3, 0, 0, 0], [8, 1, 6, 4, 2, 3, 5], [6, 0, 0, 0, 0, 0, 0],
                        [0, 0, 0, 0, 0, 0, 0]], dtype=torch.float32).reshape(4, 1, 1, 7)
    out = {"text.ids": ids}
    archs = {
        "cnn": [{"name": "embed", "type": "embedding", "num_embeddings": 9, "embedding_dim": 4},
                {"name": "conv", "type": "conv1d", "in_channels": 4, "out_channels": 3,
                 "kernel_size": 3, "padding": 1},
                {"name": "relu", "type": "relu"}, {"name": "pool", "type": "seqmax"},
                {"name": "head", "type": "linear", "in_features": 3, "out_features": 2}],
        "kim": [{"name": "embed", "type": "embedding", "num_embeddings": 9, "embedding_dim": 4},
                {"name": "widths", "type": "concat", "branches": [
                    {"name": "w%d" % k, "type": "sequential", "layers": [
                        {"name": "conv", "type": "conv1d", "in_channels": 4, "out_channels": 2,
                         "kernel_size": k, "padding": k // 2},
                        {"name": "relu", "type": "relu"}, {"name": "pool", "type": "seqmax"}]}
                    for k in (3, 4, 5)]},
                {"name": "head", "type": "linear", "in_features": 6, "out_features": 2}],
        "boe": [{"name": "embed", "type": "embedding", "num_embeddings": 9, "embedding_dim": 4},
                {"name": "pool", "type": "seqmean"},
                {"name": "head", "type": "linear", "in_features": 4, "out_features": 2}],
    }
    for name, layers in archs.items():
        net = ThawNet({"type": "sequential", "layers": layers}).double()
        with torch.no_grad():
            for t in net.parameters():
                t.normal_()
            net.embed.weight[0].zero_()
        y = net(ids.double())
        dy = torch.randn(y.shape, dtype=torch.float64)
        y.backward(dy)
        out["text.%s.dy" % name] = dy.float()
        out["text.%s.y" % name] = y.detach().float()
        for k, t in net.named_parameters():
            out["text.%s.%s" % (name, k)] = t.detach().float()
            out["text.%s.d%s" % (name, k)] = t.grad.float()
    write_safetensors(os.path.join(args.folder, "text.safetensors"), out)


def logits(args):
    meta, net = load_thaw(args.model)
    torch.manual_seed(args.seed)
    i = meta["input"]
    x = torch.randn(args.batch, i["channels"], i["height"], i["width"])
    net = net.double().eval()
    with torch.no_grad():
        y = net(x.double())
    write_safetensors(args.out, {"input": x, "logits_eval": y.float()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("to-thaw", help="a PyTorch state_dict into thaw's model files")
    a.add_argument("state_dict")
    a.add_argument("model", help="MODEL.json (MODEL.safetensors is written beside it)")
    a.add_argument("--like", help="a thaw model JSON whose architecture the state_dict has")
    a.add_argument("--size", nargs=2, type=int, default=[28, 28], metavar=("H", "W"))
    a.set_defaults(run=to_thaw)
    b = sub.add_parser("to-torch", help="a thaw model into a PyTorch state_dict file")
    b.add_argument("model")
    b.add_argument("state_dict")
    b.set_defaults(run=to_torch)
    g = sub.add_parser("golden", help="the golden fixture for thaw's tests")
    g.add_argument("folder")
    g.set_defaults(run=golden)
    g = sub.add_parser("golden-mobilenet", help="the MobileNet parts' fixtures for thaw's tests")
    g.add_argument("folder")
    g.set_defaults(run=golden_mobilenet)
    g = sub.add_parser("golden-text", help="the text layers' fixture for thaw's tests")
    g.add_argument("folder")
    g.set_defaults(run=golden_text)
    g = sub.add_parser("logits", help="a random batch and a thaw model's logits for it")
    g.add_argument("model")
    g.add_argument("out")
    g.add_argument("--batch", type=int, default=3)
    g.add_argument("--seed", type=int, default=1)
    g.set_defaults(run=logits)
    args = ap.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
