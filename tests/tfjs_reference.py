#!/usr/bin/python3
"""tfjs_reference.py: an independent forward pass of a TF.js layers model.

Written from the Keras and TF.js definitions, in numpy and float64, sharing
nothing with thaw's importer: channels-last tensors, HWIO kernels,
TensorFlow's "same" padding, the manifest's byte layout and quantisation.
thaw's tests use it two ways:

  tfjs_reference.py MODEL.json --input IN.f32 --compare LOGITS.f32 [--tol 1e-4]
      IN.f32 is one input as thaw feeds it (float32, channels first, already
      normalised); LOGITS.f32 thaw's logits for it. Prints the largest
      difference relative to the largest reference logit and exits 1 when it
      is above the tolerance.

  tfjs_reference.py MODEL.json --image PHOTO.png [--labels CLASSES.json]
      the top 5 for a photo resized with PIL's bilinear filter and scaled to
      x/127.5 - 1, as MobileNet expects.

tests/data/import/make_fixtures.py imports it to write the expected logits
of the synthetic fixtures. A softmax is skipped wherever it is (thaw drops
the final one and refuses any other), so outputs are logits.
"""
import argparse
import json
import os
import sys

import numpy as np


def load_weights(folder, manifest):
    """Every weight of the manifest as a float64 array, by name."""
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q is None:
                a = np.frombuffer(data, "<f4", n, off).astype(np.float64)
                off += 4 * n
            elif q["dtype"] == "float16":
                a = np.frombuffer(data, "<f2", n, off).astype(np.float64)
                off += 2 * n
            else:
                kind, size = ("u1", 1) if q["dtype"] == "uint8" else ("<u2", 2)
                a = np.frombuffer(data, kind, n, off).astype(np.float64) * q["scale"] + q["min"]
                off += size * n
            out[w["name"]] = a.reshape(w["shape"])
        assert off == len(data), "the shards do not hold the manifest's weights"
    return out


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pad_hw(x, top, bottom, left, right, value=0.0):
    return np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=value)


def window_pads(cfg, x, k, s):
    if cfg.get("padding", "valid") == "same":
        return same_pads(x.shape[0], k, s) + same_pads(x.shape[1], k, s)
    return 0, 0, 0, 0


def patches(x, k, s):
    """Every k x k window of x (H, W, C) at stride s: (P, Q, k, k, C)."""
    P = (x.shape[0] - k) // s + 1
    Q = (x.shape[1] - k) // s + 1
    out = np.empty((P, Q, k, k, x.shape[2]))
    for i in range(k):
        for j in range(k):
            out[:, :, i, j, :] = x[i:i + s * (P - 1) + 1:s, j:j + s * (Q - 1) + 1:s, :]
    return out


def activation(name, x, keras3):
    if name in ("linear", "softmax"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "hard_sigmoid":
        return np.clip(x / 6 + 0.5, 0, 1) if keras3 else np.clip(0.2 * x + 0.5, 0, 1)
    if name in ("swish", "silu"):
        return x / (1 + np.exp(-x))
    if name in ("hard_swish", "hard_silu"):
        return x * np.clip(x + 3, 0, 6) / 6
    raise ValueError("activation " + name)


class Runner:
    def __init__(self, weights, keras3):
        self.w = weights
        self.keras3 = keras3

    def weight(self, scopes, layer, var):
        for i in range(len(scopes) + 1):
            name = "".join(s + "/" for s in scopes[i:]) + layer + "/" + var
            if name in self.w:
                return self.w[name]
        raise KeyError(layer + "/" + var)

    def layer(self, entry, xs, scopes):
        cls, cfg = entry["class_name"], entry["config"]
        if cls in ("Model", "Functional", "Sequential"):
            return self.model(entry, xs[0], scopes + [cfg["name"]])
        x, name = xs[0], cfg["name"]
        W = lambda var: self.weight(scopes, name, var)
        act = lambda y: activation(cfg.get("activation") or "linear", y, self.keras3)
        if cls == "InputLayer":
            return x
        if cls in ("Conv2D", "DepthwiseConv2D"):
            k, s = pair(cfg["kernel_size"])[0], pair(cfg.get("strides", 1))[0]
            x = pad_hw(x, *window_pads(cfg, x, k, s))
            p = patches(x, k, s)
            if cls == "Conv2D":
                K = W("kernel")
                g = cfg.get("groups", 1)
                cg, og = x.shape[2] // g, K.shape[3] // g
                y = np.concatenate([np.tensordot(p[..., gi * cg:(gi + 1) * cg],
                                                 K[..., gi * og:(gi + 1) * og], 3)
                                    for gi in range(g)], axis=2)
            else:
                K = W("depthwise_kernel")                        # (k, k, C, m)
                y = np.einsum("pqijc,ijcm->pqcm", p, K).reshape(p.shape[0], p.shape[1], -1)
            if cfg.get("use_bias", True):
                y = y + W("bias")
            return act(y)
        if cls == "Dense":
            y = x @ W("kernel")
            if cfg.get("use_bias", True):
                y = y + W("bias")
            return act(y)
        if cls == "BatchNormalization":
            C = x.shape[-1]
            gamma = W("gamma") if cfg.get("scale", True) else np.ones(C)
            beta = W("beta") if cfg.get("center", True) else np.zeros(C)
            return (x - W("moving_mean")) / np.sqrt(W("moving_variance") + cfg.get("epsilon", 1e-3)) \
                * gamma + beta
        if cls == "Activation":
            return act(x)
        if cls == "ReLU":
            m = cfg.get("max_value")
            return np.maximum(x, 0) if m is None else np.clip(x, 0, m)
        if cls == "Softmax":
            return x
        if cls == "ZeroPadding2D":
            p = cfg.get("padding", 1)
            if isinstance(p, int):
                p = ((p, p), (p, p))
            elif isinstance(p[0], int):
                p = ((p[0], p[0]), (p[1], p[1]))
            return pad_hw(x, p[0][0], p[0][1], p[1][0], p[1][1])
        if cls == "GlobalAveragePooling2D":
            return x.mean(axis=(0, 1))
        if cls == "MaxPooling2D":
            k = pair(cfg.get("pool_size", 2))[0]
            s = pair(cfg.get("strides") or k)[0]
            x = pad_hw(x, *window_pads(cfg, x, k, s), value=-np.inf)
            return patches(x, k, s).max(axis=(2, 3))
        if cls == "Flatten":
            return x.reshape(-1)
        if cls == "Reshape":
            return x.reshape(cfg["target_shape"])
        if cls == "Dropout":
            return x
        if cls == "Add":
            return xs[0] + xs[1]
        if cls == "Multiply":
            return xs[0] * xs[1]
        if cls == "Rescaling":
            return x * np.asarray(cfg.get("scale", 1.0)) + np.asarray(cfg.get("offset", 0.0))
        raise ValueError("layer class " + cls)

    def model(self, entry, x, scopes):
        cfg = entry["config"]
        if entry["class_name"] == "Sequential":
            for e in cfg if isinstance(cfg, list) else cfg["layers"]:
                x = self.layer(e, [x], scopes)
            return x
        t = {}
        for e in cfg["layers"]:
            name = e["config"]["name"] if "config" in e and "name" in e["config"] else e["name"]
            nodes = e.get("inbound_nodes", [])
            ins = [t[r[0]] for r in nodes[0]] if nodes else [x]
            t[name] = self.layer(e, ins, scopes)
        return t[cfg["output_layers"][0][0]]


def forward(model_json, x_hwc):
    """The logits of model.json (a path) for one channels-last input."""
    doc = json.load(open(model_json))
    topo = doc["modelTopology"]
    keras = topo.get("model_config", topo)
    keras3 = str(topo.get("keras_version", "")).startswith("3.")
    r = Runner(load_weights(os.path.dirname(os.path.abspath(model_json)), doc["weightsManifest"]),
               keras3)
    return np.asarray(r.model(keras, np.asarray(x_hwc, np.float64), [])).reshape(-1)


def input_shape(model_json):
    """(H, W, C) of the model's input layer."""
    doc = json.load(open(model_json))
    topo = doc["modelTopology"]
    keras = topo.get("model_config", topo)
    while True:
        cfg = keras["config"]
        first = cfg[0] if isinstance(cfg, list) else cfg["layers"][0]
        c = first.get("config", {})
        shape = c.get("batch_input_shape") or c.get("batch_shape")
        if shape:
            return tuple(shape[1:])
        keras = first


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input")
    ap.add_argument("--compare")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--image")
    ap.add_argument("--labels")
    a = ap.parse_args()
    h, w, c = input_shape(a.model)
    if a.input:
        x = np.fromfile(a.input, "<f4").astype(np.float64).reshape(c, h, w).transpose(1, 2, 0)
        ref = forward(a.model, x)
        got = np.fromfile(a.compare, "<f4").astype(np.float64)
        if got.shape != ref.shape:
            print("thaw gives %d logits, the reference %d" % (got.size, ref.size))
            return 1
        rel = np.abs(got - ref).max() / np.abs(ref).max()
        print("max relative difference %.3g (largest |logit| %.4g, tolerance %g)"
              % (rel, np.abs(ref).max(), a.tol))
        return 0 if rel <= a.tol else 1
    if a.image:
        from PIL import Image
        img = Image.open(a.image).convert("RGB").resize((w, h), Image.BILINEAR)
        x = np.asarray(img, np.float64) / 127.5 - 1
        z = forward(a.model, x)
        p = np.exp(z - z.max())
        p /= p.sum()
        names = json.load(open(a.labels)) if a.labels else [str(i) for i in range(p.size)]
        for i in np.argsort(-p)[:5]:
            print("%.4f  %s" % (p[i], names[i]))
        return 0
    ap.error("give --input and --compare, or --image")


if __name__ == "__main__":
    sys.exit(main())
