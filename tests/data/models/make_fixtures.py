"""Writes the model-file fixtures the tests in tests/test_models_*.c read.

    python3 tests/data/models/make_fixtures.py     (from the repository root)

tiny.json + tiny.safetensors is a small valid model (every layer type, a
residual block with and without projection); every other file breaks one
rule, named after the test that loads it: bad_*.json (the model JSON),
st_*.safetensors (the safetensors container) and w_*.safetensors (weights
that do not fit the architecture, each with a w_*.json that points at it).
Only the standard library is needed; the output is deterministic.
"""
import json
import math
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

TINY = {
    "format": "thaw-model",
    "version": 1,
    "weights": "tiny.safetensors",
    "input": {"channels": 2, "height": 6, "width": 6, "mean": [0.5, 0.25], "std": [0.5, 2]},
    "classes": ["circle", "square", "star"],
    "provenance": {"dataset": "shapes", "dataset_classes": [0, 2, 5], "epochs": 3, "seed": 7,
                   "test_accuracy": 0.875, "finetuned_from": None},
    "frozen": ["stem", "stage2.conv1"],
    "architecture": {"type": "sequential", "layers": [
        {"name": "stem", "type": "sequential", "layers": [
            {"name": "0", "type": "conv2d", "in_channels": 2, "out_channels": 4, "kernel_size": 3,
             "stride": 1, "padding": 1, "bias": True},
            {"name": "1", "type": "batchnorm2d", "num_features": 4, "eps": 1e-05, "momentum": 0.1},
            {"name": "2", "type": "relu"}]},
        {"name": "stage1", "type": "residual", "in_channels": 4, "out_channels": 4, "stride": 1,
         "projection": False},
        {"name": "pool1", "type": "maxpool2d", "kernel_size": 2, "stride": 2, "padding": 0},
        {"name": "stage2", "type": "residual", "in_channels": 4, "out_channels": 8, "stride": 2,
         "projection": True},
        {"name": "pool", "type": "avgpool"},
        {"name": "flat", "type": "flatten"},
        {"name": "drop", "type": "dropout", "p": 0.25},
        {"name": "head", "type": "linear", "in_features": 8, "out_features": 3, "bias": True}]},
}

# (name, shape) in the order PyTorch's state_dict lists them; BatchNorm layers
# also carry num_batches_tracked.
def bn(prefix, c):
    return [(prefix + ".weight", [c]), (prefix + ".bias", [c]),
            (prefix + ".running_mean", [c]), (prefix + ".running_var", [c]),
            (prefix + ".num_batches_tracked", None)]

TENSORS = ([("stem.0.weight", [4, 2, 3, 3]), ("stem.0.bias", [4])] + bn("stem.1", 4) +
           [("stage1.conv1.weight", [4, 4, 3, 3])] + bn("stage1.bn1", 4) +
           [("stage1.conv2.weight", [4, 4, 3, 3])] + bn("stage1.bn2", 4) +
           [("stage2.conv1.weight", [8, 4, 3, 3])] + bn("stage2.bn1", 8) +
           [("stage2.conv2.weight", [8, 8, 3, 3])] + bn("stage2.bn2", 8) +
           [("stage2.proj.0.weight", [8, 4, 1, 1])] + bn("stage2.proj.1", 8) +
           [("head.weight", [3, 8]), ("head.bias", [3])])


def safetensors(entries, header_extra=None, pad=True):
    """entries: (name, dtype, shape, raw bytes). Returns the file's bytes."""
    header, data = {}, b""
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if header_extra:
        header.update(header_extra)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def raw_header(text, data=b""):
    return struct.pack("<Q", len(text)) + text + data


def tiny_entries(seed=1):
    rnd = random.Random(seed)
    out = []
    for name, shape in TENSORS:
        if shape is None:
            out.append((name, "I64", [], struct.pack("<q", 12)))
            continue
        n = math.prod(shape)
        if name.endswith("running_var"):
            vals = [rnd.uniform(0.5, 1.5) for _ in range(n)]
        else:
            vals = [rnd.uniform(-0.5, 0.5) for _ in range(n)]
        out.append((name, "F32", shape, struct.pack("<%df" % n, *vals)))
    return out


def write(name, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(os.path.join(HERE, name), mode) as f:
        f.write(content)


def compact(obj):
    return json.dumps(obj, separators=(",", ":")) + "\n"


# Each bad JSON is tiny.json, compact, with one text replacement.
BAD_JSON = {
    "bad_empty": None,
    "bad_truncated": ('"input"', '"input"', 'TRUNCATE'),
    "bad_deep_nesting": None,
    "bad_duplicate_key": ('"stride":2,"projection"', '"stride":2,"stride":1,"projection"'),
    "bad_unknown_key": ('"stride":2,"projection"', '"Stride":2,"projection"'),
    "bad_unknown_top_key": ('"version":1,', '"version":1,"author":"x",'),
    "bad_kernel_fraction": ('"kernel_size":3,', '"kernel_size":2.5,'),
    "bad_kernel_infinite": ('"kernel_size":3,', '"kernel_size":1e309,'),
    "bad_kernel_string": ('"kernel_size":3,', '"kernel_size":"3",'),
    "bad_kernel_zero": ('"kernel_size":3,', '"kernel_size":0,'),
    "bad_channels_huge": ('"out_channels":4,"kernel_size"', '"out_channels":3000000000,"kernel_size"'),
    "bad_seed_beyond_double": ('"seed":7', '"seed":9007199254740993'),
    "bad_nul_escape": ('"square"', '"squ\\u0000are"'),
    "bad_invalid_utf8": ('"square"', '"squ\xff\xfeare"'),
    "bad_lone_surrogate": ('"square"', '"squ\\ud800are"'),
    "bad_control_char": ('"square"', '"\\u001b[2Jsquare"'),
    "bad_trailing_garbage": None,
    "bad_bom": None,
    "bad_root_array": None,
    "bad_unknown_type": ('"type":"relu"', '"type":"gelu"'),
    "bad_missing_field": ('"kernel_size":3,', ''),
    "bad_null_architecture": None,
    "bad_no_architecture": None,
    "bad_wrong_format": ('"thaw-model"', '"keras"'),
    "bad_wrong_version": ('"version":1', '"version":3'),
    "bad_weights_path": ('"tiny.safetensors"', '"../tiny.safetensors"'),
    "bad_weights_missing": ('"tiny.safetensors"', '"absent.safetensors"'),
    "bad_shapes_do_not_chain": ('"in_features":8', '"in_features":16'),
    "bad_too_many_params": ('"out_channels":4,"kernel_size":3', '"out_channels":65536,"kernel_size":64'),
    "bad_class_count": ('"star"]', '"star","moon"]'),
    "bad_duplicate_class": ('"star"]', '"circle"]'),
    "bad_mean_length": ('"mean":[0.5,0.25]', '"mean":[0.5]'),
    "bad_std_zero": ('"std":[0.5,2]', '"std":[0.5,0]'),
    "bad_accuracy_range": ('"test_accuracy":0.875', '"test_accuracy":87.5'),
    "bad_duplicate_layer_name": ('"name":"pool1"', '"name":"stage1"'),
    "bad_layer_name": ('"name":"pool1"', '"name":"pool.1"'),
    "bad_root_named": ('"architecture":{"type"', '"architecture":{"name":"net","type"'),
    "bad_root_not_sequential": None,
    "bad_needs_projection": ('"stride":2,"projection":true', '"stride":2,"projection":false'),
    "bad_maxpool_padding": ('"stride":2,"padding":0}', '"stride":2,"padding":2}'),
    "bad_dropout_p": ('"p":0.25', '"p":1'),
    "bad_eps_zero": ('"eps":1e-05', '"eps":0'),
    "bad_frozen_unknown": ('["stem","stage2.conv1"]', '["stem","stage9"]'),
    "bad_frozen_path": ('["stem","stage2.conv1"]', '["stem","stage2/conv1"]'),
    "bad_empty_sequential": ('"layers":[{"name":"0"', '"layers":[]},{"name":"x","type":"sequential","layers":[{"name":"0"'),
}


def main():
    base = compact(TINY)
    write("tiny.json", json.dumps(TINY, indent=2) + "\n")
    entries = tiny_entries()
    write("tiny.safetensors", safetensors(entries))

    for name, edit in BAD_JSON.items():
        if edit is None:
            continue
        old, new = edit[0], edit[1]
        assert base.count(old) == 1, (name, old)
        text = base.replace(old, new)
        if len(edit) == 3:
            text = base[:base.index(old) + len(old) + 1]
        write(name + ".json", text.encode("latin-1") if "\xff" in text else text)
    write("bad_empty.json", "")
    write("bad_deep_nesting.json", "[" * 100 + "]" * 100)
    write("bad_trailing_garbage.json", base.rstrip() + " {}\n")
    write("bad_bom.json", b"\xef\xbb\xbf" + base.encode())
    write("bad_root_array.json", "[" + base.rstrip() + "]\n")
    arch = json.dumps(TINY["architecture"], separators=(",", ":"))
    write("bad_null_architecture.json", base.replace(arch, "null"))
    no_arch = dict(TINY)
    del no_arch["architecture"]
    write("bad_no_architecture.json", compact(no_arch))
    write("bad_root_not_sequential.json",
          base.replace(arch, '{"type":"linear","in_features":72,"out_features":3}'))

    # Weights that do not fit tiny.json's architecture.
    def weights_case(name, entries_):
        write(name + ".safetensors", safetensors(entries_))
        write(name + ".json", base.replace('"tiny.safetensors"', '"%s.safetensors"' % name))

    def replace(name, new):
        return [new if e[0] == name else e for e in entries]

    weights_case("w_missing", [e for e in entries if e[0] != "stage1.conv2.weight"])
    weights_case("w_extra", entries + [("stage1.conv3.weight", "F32", [1], struct.pack("<f", 1))])
    weights_case("w_wrong_shape", replace("head.bias", ("head.bias", "F32", [1, 3], struct.pack("<3f", 1, 2, 3))))
    weights_case("w_wrong_dtype", replace("head.bias", ("head.bias", "F16", [3], b"\0" * 6)))
    weights_case("w_nan", replace("head.bias", ("head.bias", "F32", [3], struct.pack("<3f", 0, math.nan, 0))))
    weights_case("w_inf", replace("head.bias", ("head.bias", "F32", [3], struct.pack("<3f", 0, 0, math.inf))))
    weights_case("w_tracked_dtype", replace("stem.1.num_batches_tracked",
                                            ("stem.1.num_batches_tracked", "F32", [], struct.pack("<f", 3))))
    weights_case("w_tracked_negative", replace("stem.1.num_batches_tracked",
                                               ("stem.1.num_batches_tracked", "I64", [], struct.pack("<q", -1))))
    weights_case("w_tracked_stray", entries + [("stage1.num_batches_tracked", "I64", [], struct.pack("<q", 1))])
    weights_case("w_no_tracked", [e for e in entries if not e[0].endswith("num_batches_tracked")])
    write("w_unaligned.safetensors", safetensors(entries, pad=False))
    # A model whose last layer with parameters is a convolution: no new head.
    conv_head = json.loads(base)
    conv_head["weights"] = "head_conv.safetensors"
    conv_head["architecture"]["layers"][-1] = {
        "name": "head", "type": "conv2d", "in_channels": 8, "out_channels": 3, "kernel_size": 1,
        "stride": 1, "padding": 0, "bias": True}
    conv_head["architecture"]["layers"].remove({"name": "flat", "type": "flatten"})
    conv_head["architecture"]["layers"].append({"name": "flat", "type": "flatten"})
    write("head_conv.json", compact(conv_head))
    write("head_conv.safetensors", safetensors(replace("head.weight", (
        "head.weight", "F32", [3, 8, 1, 1], dict((e[0], e[3]) for e in entries)["head.weight"]))))
    write("w_unaligned.json", base.replace('"tiny.safetensors"', '"w_unaligned.safetensors"'))

    f4 = struct.pack("<f", 1.0)
    cases = {
        "st_too_small": b"\x05\0\0\0\0",
        "st_header_too_large": struct.pack("<Q", 1 << 63) + b"{}",
        "st_header_huge": struct.pack("<Q", (1 << 64) - 1) + b"{}",
        "st_header_overruns": struct.pack("<Q", 10) + b"{}",
        "st_not_utf8": raw_header(b'{"a\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_overlong_utf8": raw_header(b'{"a\xc0\xaf":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_bom": raw_header(b'\xef\xbb\xbf{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_not_json": raw_header(b"{"),
        "st_header_array": raw_header(b"[1, 2]"),
        "st_header_number": raw_header(b"42"),
        "st_trailing_garbage": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x', f4),
        "st_deep_nesting": raw_header(b'{"a":{"dtype":"F32","shape":[[[[1]]]],"data_offsets":[0,4]}}', f4),
        "st_unknown_dtype": raw_header(b'{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_lowercase_dtype": raw_header(b'{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_dtype_number": raw_header(b'{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}', f4),
        "st_shape_negative": raw_header(b'{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', f4),
        "st_shape_fraction": raw_header(b'{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}}', f4),
        "st_shape_string": raw_header(b'{"a":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', f4),
        "st_shape_null": raw_header(b'{"a":{"dtype":"F32","shape":[null],"data_offsets":[0,4]}}', f4),
        "st_shape_too_big": raw_header(b'{"a":{"dtype":"F32","shape":[281474976710656],"data_offsets":[0,4]}}', f4),
        "st_shape_overflow": raw_header(b'{"a":{"dtype":"F32","shape":[140737488355328,140737488355328],"data_offsets":[0,4]}}', f4),
        "st_rank_too_high": raw_header(b'{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}', f4),
        "st_offsets_one": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}', f4),
        "st_offsets_three": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', f4),
        "st_offsets_negative": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', f4),
        "st_offsets_fraction": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}', f4),
        "st_offsets_reversed": raw_header(b'{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', f4),
        "st_gap": raw_header(
            b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', f4 * 3),
        "st_overlap": raw_header(
            b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', f4 * 3),
        "st_not_from_zero": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f4 * 2),
        "st_wrong_length": raw_header(b'{"a":{"dtype":"I32","shape":[2,2],"data_offsets":[0,4]}}', f4),
        "st_sub_byte": raw_header(b'{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', b"\0\0"),
        "st_trailing_bytes": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4 + b"polyglot"),
        "st_truncated": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4[:2]),
        "st_no_tensors_with_data": raw_header(b'{}', f4),
        "st_duplicate_name": raw_header(
            b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_nul_name": raw_header(
            b'{"a\\u0000x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a\\u0000y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f4 * 2),
        "st_metadata_not_string": raw_header(b'{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_metadata_not_object": raw_header(b'{"__metadata__":"pt","a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_extra_key": raw_header(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"foo":1}}', f4),
        "st_missing_dtype": raw_header(b'{"a":{"shape":[1],"data_offsets":[0,4]}}', f4),
        "st_entry_not_object": raw_header(b'{"a":[1]}', b""),
        "st_control_name": raw_header(b'{"\\u001b[2J":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        "st_empty_name": raw_header(b'{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f4),
        # Accepted: padding whitespace around the header, zero-size and scalar
        # tensors, metadata of strings, an unpadded (unaligned) data section.
        "st_ok_whitespace": raw_header(b' \t{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} \r\n', f4),
        "st_ok_edge": raw_header(
            b'{"__metadata__":{"format":"pt"},"e":{"dtype":"F32","shape":[2,0],"data_offsets":[0,0]},'
            b'"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
            struct.pack("<q", -3) + struct.pack("<2f", 1.5, -2.0)),
    }
    for name, content in cases.items():
        write(name + ".safetensors", content)


if __name__ == "__main__":
    main()
