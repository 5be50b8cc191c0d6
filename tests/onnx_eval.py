#!/usr/bin/python3
"""onnx_eval.py MODEL.onnx INPUT.f32 OUTPUT.f32 — runs an ONNX graph with
numpy, each operator as ONNX's operator documents it (opset 14), for the
operators thaw's ONNX export writes for text models: the reference the tests
compare thaw's own forward pass with, where no ONNX runtime is installed.
INPUT.f32 holds the graph input's float32 values (any batch), OUTPUT.f32 gets
the output's. An operator it does not know is an error, never skipped."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

DTYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.INT64: np.int64}


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv1d(x, w, b, a):
    (k,) = a["kernel_shape"]
    p = a.get("pads", [0, 0])
    if list(a.get("strides", [1])) != [1] or list(a.get("dilations", [1])) != [1] or a.get("group", 1) != 1:
        raise SystemExit("Conv: only stride 1, dilation 1, one group")
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[1])))
    out = xp.shape[2] - k + 1
    y = np.zeros((x.shape[0], w.shape[0], out), np.float32)
    for j in range(k):
        y += np.einsum("oc,nct->not", w[:, :, j], xp[:, :, j:j + out])
    return y + (b.reshape(1, -1, 1) if b is not None else 0)


def gemm(x, w, b, a):
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        raise SystemExit("Gemm: only transB")
    y = x @ (w.T if a.get("transB", 0) else w)
    return y + b if b is not None else y


def run(node, v):
    a = attrs(node)
    x = [v[i] if i else None for i in node.input]
    op = node.op_type
    binary = {"Add": np.add, "Mul": np.multiply, "Div": np.divide, "Min": np.minimum, "Max": np.maximum,
              "Greater": np.greater, "Less": np.less, "Equal": np.equal, "And": np.logical_and}
    if op in binary:
        return binary[op](x[0], x[1])
    if op == "Flatten":
        ax = a.get("axis", 1)
        return x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
    if op == "Round":
        return np.round(x[0])          # half to even, as ONNX's Round
    if op == "Not":
        return np.logical_not(x[0])
    if op == "Where":
        return np.where(x[0], x[1], x[2])
    if op == "Cast":
        return x[0].astype(DTYPES[a["to"]])
    if op == "Gather":
        return np.take(x[0], x[1], axis=a.get("axis", 0))
    if op == "Unsqueeze":
        return np.expand_dims(x[0], tuple(int(i) for i in x[1]))
    if op == "Transpose":
        return np.transpose(x[0], a["perm"])
    if op == "ReduceMax":
        return np.max(x[0], axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
    if op == "ReduceSum":
        return np.sum(x[0], axis=tuple(int(i) for i in x[1]), keepdims=bool(a.get("keepdims", 1)))
    if op == "Clip":
        return np.clip(x[0], x[1], x[2])
    if op == "Relu":
        return np.maximum(x[0], 0)
    if op == "Concat":
        return np.concatenate(x, axis=a["axis"])
    if op == "Identity":
        return x[0]
    if op == "Conv":
        return conv1d(x[0], x[1], x[2] if len(x) > 2 else None, a)
    if op == "Gemm":
        return gemm(x[0], x[1], x[2] if len(x) > 2 else None, a)
    raise SystemExit("onnx_eval.py: no %s here" % op)


def main():
    model = onnx.load(sys.argv[1])
    g = model.graph
    v = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    dims = [d.dim_value for d in g.input[0].type.tensor_type.shape.dim[1:]]
    v[g.input[0].name] = np.fromfile(sys.argv[2], np.float32).reshape([-1] + dims)
    for node in g.node:
        v[node.output[0]] = run(node, v)
    v[g.output[0].name].astype(np.float32).tofile(sys.argv[3])


main()
