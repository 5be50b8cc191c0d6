#!/usr/bin/python3
"""make_fixtures.py: writes the small TF.js layers models thaw's import tests read.

Each folder holds model.json, its weight shards, input.f32 (one input as
thaw feeds it: float32, channels first, normalised) and logits.f32 (what the
model gives for it, by tests/tfjs_reference.py's independent forward pass).
Run from the repository's root with Debian's python3 and numpy:

    /usr/bin/python3 tests/data/import/make_fixtures.py

  convnet    functional, as tensorflowjs_converter writes it: Conv2D with a
             fused relu, BatchNormalization, MaxPooling2D, Flatten (a Dense
             after it reads Keras' H, W, C order), Dropout, Dense + softmax;
             float32 weights, one group split over two shards
  quant      the same model stored as uint8, uint16 and float16
  mobile     MobileNet v1's first block: stride-2 "same" padding,
             ZeroPadding2D + a valid DepthwiseConv2D (depth multiplier 2),
             relu6 as Activation and as ReLU(max_value=6), BatchNorm eps 1e-3,
             global pooling, Reshape, and a 1x1 convolution head
  residual   an Add of a branch and its input, an Add of two branches, a
             squeeze-and-excite Multiply with Keras 2's hard_sigmoid, swish
  teachable  Teachable Machine's image export: a Sequential of a Sequential
             (a nested Model and a Flatten) and a Sequential (the classifier),
             shards named "./weights.bin", metadata.json with the class names
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import tfjs_reference  # noqa: E402

rng = np.random.default_rng(16)


def layer(cls, name, inbound=None, **cfg):
    cfg["name"] = name
    e = {"class_name": cls, "config": cfg, "name": name}
    if inbound is not None:
        e["inbound_nodes"] = [[[i, 0, 0, {}] for i in inbound]] if inbound else []
    return e


def functional(name, layers, inp, out):
    return {"class_name": "Model", "config": {"name": name, "layers": layers,
                                              "input_layers": [[inp, 0, 0]],
                                              "output_layers": [[out, 0, 0]]}}


def conv_weights(name, k, cin, cout, bias):
    w = [(name + "/kernel", rng.normal(0, 0.5, (k, k, cin, cout)))]
    return w + ([(name + "/bias", rng.normal(0, 0.1, cout))] if bias else [])


def bn_weights(name, c):
    return [(name + "/gamma", rng.uniform(0.5, 1.5, c)), (name + "/beta", rng.normal(0, 0.2, c)),
            (name + "/moving_mean", rng.normal(0, 0.2, c)),
            (name + "/moving_variance", rng.uniform(0.5, 1.5, c))]


def encode(a, dtype):
    """(bytes, quantization or None, the values the bytes stand for)."""
    a = np.asarray(a, np.float64)
    if dtype == "float32":
        v = a.astype("<f4")
        return v.tobytes(), None, v.astype(np.float64)
    if dtype == "float16":
        v = a.astype("<f2")
        return v.tobytes(), {"dtype": "float16", "original_dtype": "float32"}, v.astype(np.float64)
    top = 255 if dtype == "uint8" else 65535
    lo, hi = float(a.min()), float(a.max())
    scale = (hi - lo) / top if hi > lo else 1.0
    q = np.round((a - lo) / scale).astype("u1" if dtype == "uint8" else "<u2")
    quant = {"dtype": dtype, "scale": scale, "min": lo}
    if dtype == "uint16":
        quant["original_dtype"] = "float32"
    return q.tobytes(), quant, q.astype(np.float64) * scale + lo


def write(folder, topology, groups, shards_of=None, names=None, extra=None):
    """groups: [[(name, array, dtype)...]...]; shards_of[g]: how many files group g spans."""
    path = os.path.join(HERE, folder)
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        os.remove(os.path.join(path, f))
    manifest = []
    for g, ws in enumerate(groups):
        data, entries = b"", []
        for name, a, dtype in ws:
            raw, quant, _ = encode(a, dtype)
            data += raw
            e = {"name": name, "shape": list(np.shape(a)), "dtype": "float32"}
            if quant:
                e["quantization"] = quant
            entries.append(e)
        n = (shards_of or {}).get(g, 1)
        files = names[g] if names else ["group%d-shard%dof%d" % (g + 1, i + 1, n) for i in range(n)]
        cut = [len(data) * i // n for i in range(n + 1)]
        for i, f in enumerate(files):
            with open(os.path.join(path, f.replace("./", "")), "wb") as out:
                out.write(data[cut[i]:cut[i + 1]])
        manifest.append({"paths": files, "weights": entries})
    doc = {"format": "layers-model", "generatedBy": "thaw's make_fixtures.py",
           "convertedBy": None, "modelTopology": topology, "weightsManifest": manifest}
    model = os.path.join(path, "model.json")
    with open(model, "w") as f:
        json.dump(doc, f)
    for name, text in (extra or {}).items():
        with open(os.path.join(path, name), "w") as f:
            f.write(text)
    h, w, c = tfjs_reference.input_shape(model)
    x = rng.uniform(-1, 1, (c, h, w)).astype("<f4")
    x.tofile(os.path.join(path, "input.f32"))
    z = tfjs_reference.forward(model, x.astype(np.float64).transpose(1, 2, 0))
    z.astype("<f4").tofile(os.path.join(path, "logits.f32"))
    print("%-10s %d logits" % (folder, z.size))


def convnet(dtypes):
    layers = [
        layer("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3], dtype="float32"),
        layer("Conv2D", "conv", ["input_1"], filters=4, kernel_size=[3, 3], strides=[1, 1],
              padding="same", activation="relu", use_bias=True, data_format="channels_last",
              dilation_rate=[1, 1]),
        layer("BatchNormalization", "conv_bn", ["conv"], axis=-1, epsilon=0.001, momentum=0.99),
        layer("Activation", "conv_relu", ["conv_bn"], activation="relu"),
        layer("MaxPooling2D", "pool", ["conv_relu"], pool_size=[2, 2], strides=None,
              padding="valid"),
        layer("Flatten", "flatten", ["pool"]),
        layer("Dropout", "dropout", ["flatten"], rate=0.25),
        layer("Dense", "dense", ["dropout"], units=5, activation="softmax", use_bias=True),
    ]
    topo = {"keras_version": "2.1.4", "backend": "tensorflow",
            "model_config": functional("convnet", layers, "input_1", "dense")}
    w1 = conv_weights("conv", 3, 3, 4, True) + bn_weights("conv_bn", 4)
    w2 = [("dense/kernel", rng.normal(0, 0.3, (64, 5))), ("dense/bias", rng.normal(0, 0.1, 5))]
    return topo, [[(n, a, dtypes[i % len(dtypes)]) for i, (n, a) in enumerate(w1)],
                  [(n, a, dtypes[(i + 1) % len(dtypes)]) for i, (n, a) in enumerate(w2)]]


def mobile():
    L = [
        layer("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3], dtype="float32"),
        layer("Conv2D", "conv1", ["input_1"], filters=8, kernel_size=[3, 3], strides=[2, 2],
              padding="same", use_bias=False, activation="linear"),
        layer("BatchNormalization", "conv1_bn", ["conv1"], epsilon=0.001),
        layer("Activation", "conv1_relu", ["conv1_bn"], activation="relu6"),
        layer("ZeroPadding2D", "conv_pad_1", ["conv1_relu"], padding=[[0, 1], [0, 1]]),
        layer("DepthwiseConv2D", "conv_dw_1", ["conv_pad_1"], kernel_size=[3, 3], strides=[2, 2],
              padding="valid", depth_multiplier=2, use_bias=False),
        layer("BatchNormalization", "conv_dw_1_bn", ["conv_dw_1"], epsilon=0.001),
        layer("ReLU", "conv_dw_1_relu", ["conv_dw_1_bn"], max_value=6.0),
        layer("Conv2D", "conv_pw_1", ["conv_dw_1_relu"], filters=8, kernel_size=[1, 1],
              padding="same", use_bias=False),
        layer("BatchNormalization", "conv_pw_1_bn", ["conv_pw_1"], epsilon=0.001),
        layer("Activation", "conv_pw_1_relu", ["conv_pw_1_bn"], activation="relu6"),
        layer("GlobalAveragePooling2D", "global_average_pooling2d_1", ["conv_pw_1_relu"]),
        layer("Reshape", "reshape_1", ["global_average_pooling2d_1"], target_shape=[1, 1, 16]),
        layer("Dropout", "dropout", ["reshape_1"], rate=0.001),
        layer("Conv2D", "conv_preds", ["dropout"], filters=4, kernel_size=[1, 1], padding="same",
              use_bias=True),
        layer("Activation", "act_softmax", ["conv_preds"], activation="softmax"),
        layer("Reshape", "reshape_2", ["act_softmax"], target_shape=[4]),
    ]
    # conv_pw_1 takes the 16 channels the depthwise layer gives.
    L[8]["config"]["filters"] = 16
    topo = {"keras_version": "2.1.4", "backend": "tensorflow",
            "model_config": functional("mobile", L, "input_1", "reshape_2")}
    w = (conv_weights("conv1", 3, 3, 8, False) + bn_weights("conv1_bn", 8) +
         [("conv_dw_1/depthwise_kernel", rng.normal(0, 0.5, (3, 3, 8, 2)))] +
         bn_weights("conv_dw_1_bn", 16) + conv_weights("conv_pw_1", 1, 16, 16, False) +
         bn_weights("conv_pw_1_bn", 16) + conv_weights("conv_preds", 1, 16, 4, True))
    return topo, [[(n, a, "float32")] for n, a in w]


def residual():
    L = [
        layer("InputLayer", "input", [], batch_input_shape=[None, 6, 6, 4]),
        layer("Conv2D", "stem", ["input"], filters=4, kernel_size=3, padding="same",
              activation="swish"),
        layer("Conv2D", "b1_expand", ["stem"], filters=4, kernel_size=1),
        layer("BatchNormalization", "b1_expand_bn", ["b1_expand"]),
        layer("ReLU", "b1_relu", ["b1_expand_bn"]),
        layer("Add", "b1_add", ["b1_relu", "stem"]),
        layer("Conv2D", "b2_conv", ["b1_add"], filters=6, kernel_size=3, padding="same"),
        layer("Conv2D", "b2_short", ["b1_add"], filters=6, kernel_size=1),
        layer("Add", "b2_add", ["b2_conv", "b2_short"]),
        layer("GlobalAveragePooling2D", "se_pool", ["b2_add"]),
        layer("Reshape", "se_reshape", ["se_pool"], target_shape=[1, 1, 6]),
        layer("Conv2D", "se_conv", ["se_reshape"], filters=6, kernel_size=1,
              activation="hard_sigmoid"),
        layer("Multiply", "se_mul", ["b2_add", "se_conv"]),
        layer("Activation", "act", ["se_mul"], activation="sigmoid"),
        layer("GlobalAveragePooling2D", "pool", ["act"]),
        layer("Dense", "head", ["pool"], units=3),
    ]
    topo = {"class_name": "Model", "keras_version": "2.4.0", "backend": "tensorflow",
            "config": functional("residual", L, "input", "head")["config"]}
    w = (conv_weights("stem", 3, 4, 4, True) + conv_weights("b1_expand", 1, 4, 4, True) +
         bn_weights("b1_expand_bn", 4) + conv_weights("b2_conv", 3, 4, 6, True) +
         conv_weights("b2_short", 1, 4, 6, True) + conv_weights("se_conv", 1, 6, 6, True) +
         [("head/kernel", rng.normal(0, 0.5, (6, 3))), ("head/bias", rng.normal(0, 0.1, 3))])
    return topo, [[(n, a, "float32") for n, a in w]]


def teachable():
    body = functional("model_1", [
        layer("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3]),
        layer("Conv2D", "conv1", ["input_1"], filters=4, kernel_size=3, strides=2,
              padding="same", use_bias=False),
        layer("BatchNormalization", "conv1_bn", ["conv1"], epsilon=0.001),
        layer("Activation", "conv1_relu", ["conv1_bn"], activation="relu6"),
    ], "input_1", "conv1_relu")
    # Teachable Machine's MobileNet v1 projects: the truncated model and a
    # Flatten in one Sequential, the classifier it trained in another.
    body = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        body, layer("Flatten", "flatten_Flatten1")]}}
    head = {"class_name": "Sequential", "config": {"name": "sequential_3", "layers": [
        layer("Dense", "dense_Dense1", batch_input_shape=[None, 64], units=6, activation="relu"),
        layer("Dense", "dense_Dense2", units=3, activation="softmax", use_bias=False),
    ]}}
    topo = {"class_name": "Sequential", "keras_version": "tfjs-layers 1.3.1",
            "backend": "tensor_flow.js",
            "config": {"name": "sequential_4", "layers": [body, head]}}
    w = (conv_weights("conv1", 3, 3, 4, False) + bn_weights("conv1_bn", 4) +
         [("dense_Dense1/kernel", rng.normal(0, 0.5, (64, 6))),
          ("dense_Dense1/bias", rng.normal(0, 0.1, 6)),
          ("dense_Dense2/kernel", rng.normal(0, 0.5, (6, 3)))])
    meta = {"tfjsVersion": "1.3.1", "tmVersion": "2.4.7", "packageVersion": "0.8.4",
            "packageName": "@teachablemachine/image", "timeStamp": "2024-01-01T00:00:00.000Z",
            "userMetadata": {}, "modelName": "tm-my-image-model",
            "labels": ["cat", "dog", "cat"], "imageSize": 8}
    return topo, [[(n, a, "float32") for n, a in w]], meta


def main():
    topo, groups = convnet(["float32"])
    write("convnet", topo, groups, shards_of={0: 2})
    topo, groups = convnet(["uint8", "float16", "uint16"])
    write("quant", topo, groups)
    topo, groups = mobile()
    write("mobile", topo, groups)
    topo, groups = residual()
    write("residual", topo, groups)
    topo, groups, meta = teachable()
    write("teachable", topo, groups, names=[["./weights.bin"]],
          extra={"metadata.json": json.dumps(meta, indent=1)})


if __name__ == "__main__":
    main()
