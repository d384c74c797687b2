#!/usr/bin/env python3
"""make-corpus.py: writes the seed corpora of the fuzz targets into
tests/fuzz/corpus/<target>/ (small valid files of each format, and a few
near misses), from the presets and from what the writers of the engine
produce. Run it from anywhere; it replaces the generated seeds. Regression
inputs (corpus/<target>/regress-*) are kept."""
import gzip, json, os, re, struct, sys, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PRESETS = os.path.join(ROOT, "resources", "presets")
SEP = b"\n--LLFUZZ--\n"
# 6x5 JPEGs (gray and RGB, quality 30), written once with libjpeg
JPEG_GRAY = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb0043001b12141714111b1716171e1c1b2028422b28252528513a3d3042605565645f555d5b6a7899816a7190735b5d85b586909ea3abadab6780bcc9baa6c799a8aba4ffc0000b080005000601011100ffc40014000100000000000000000000000000000001ffc4001f1000000504030000000000000000000000010203041100051213415161ffda0008010100003f001c26ded8c4abe9db91c09138f023ef55ffd9")
JPEG_RGB = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb0043001b12141714111b1716171e1c1b2028422b28252528513a3d3042605565645f555d5b6a7899816a7190735b5d85b586909ea3abadab6780bcc9baa6c799a8aba4ffdb0043011c1e1e2823284e2b2b4ea46e5d6ea4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4ffc00011080005000603012200021101031101ffc4001500010100000000000000000000000000000003ffc4001a100100030003000000000000000000000001000203042141ffc40014010100000000000000000000000000000002ffc40017110003010000000000000000000000000000010221ffda000c03010002110311003f00a61c4a6dbdb0b759e350a81ea0ac44453b29819fffd9")


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clear(target):
    d = os.path.join(HERE, "corpus", target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            if not n.startswith("regress-"):
                os.unlink(os.path.join(d, n))


def npy(descr, shape, payload, version=1):
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    lenfield = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + lenfield + h.encode() + payload


def f4(vals):
    return struct.pack("<%df" % len(vals), *vals)


def png(w, h, color_type, pixels):
    """pixels: bytes of h rows of w * channels."""
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = b"".join(b"\0" + pixels[y * w * ch:(y + 1) * w * ch] for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def spec_texts():
    out = {}
    for n in sorted(os.listdir(PRESETS)):
        text = open(os.path.join(PRESETS, n), "rb").read()
        out[n] = text
    return out


def main():
    for t in ["safetensors", "checkpoint-meta", "npy", "idx", "cifar", "csv", "image-folder",
              "spec", "study", "analysis"]:
        clear(t)
    presets = spec_texts()
    specs = {n: t for n, t in presets.items() if b'"layerlab-study"' not in t}
    studies = {n: t for n, t in presets.items() if b'"layerlab-study"' in t}

    # spec: the smallest presets whole, and a minimal spec
    minimal = json.dumps({"format": "layerlab-spec", "version": 1, "name": "min",
        "graph": {"blocks": [{"name": "x", "type": "Input", "props": {"shape": [4]}},
                             {"name": "fc", "type": "Linear", "inputs": ["x"], "props": {"out_features": 3}}]},
        "dataset": {"kind": "synthetic", "generator": "blobs"}}).encode()
    put("spec", "minimal.json", minimal)
    for n, t in specs.items():
        if len(t) < 6000:
            put("spec", n, t)

    # study: each study with the spec file it names, renamed spec.json
    for n, t in studies.items():
        names = set(re.findall(rb'"spec": "([^"]+)"', t))
        if len(names) > 1 or len(t) > 12000:
            continue
        body = re.sub(rb'"spec": "[^"]+"', b'"spec": "spec.json"', t)
        if names:
            body += SEP + presets[names.pop().decode()]
        put("study", n, body)

    # safetensors: the fuzz graph's tensors (x (6) -> fc (5) -> bn -> head (3))
    def graph_tensors(dtype="F32", prefix="fc"):
        size = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}[dtype]
        shapes = [(prefix + ".weight", [5, 6]), (prefix + ".bias", [5]), ("bn.weight", [5]), ("bn.bias", [5]),
                  ("bn.running_mean", [5]), ("bn.running_var", [5]), ("head.weight", [3, 5]), ("head.bias", [3])]
        out = []
        for name, shape in shapes:
            n = 1
            for s in shape:
                n *= s
            out.append((name, dtype, shape, bytes((i * 7 + 1) % 61 for i in range(n * size))))
        return out
    put("safetensors", "graph-f32.safetensors", safetensors(graph_tensors(), {"format": "pt"}))
    put("safetensors", "graph-f16.safetensors", safetensors(graph_tensors("F16")))
    put("safetensors", "graph-bf16.safetensors", safetensors(graph_tensors("BF16")))
    put("safetensors", "graph-f64-enc.safetensors", safetensors(graph_tensors("F64", "enc")))
    extra = graph_tensors() + [("optimizer.m", "F32", [2, 3], f4([1, 2, 3, 4, 5, 6]))]
    put("safetensors", "extra.safetensors",
        safetensors(extra, {"format": "pt", "layerlab.extra": '["optimizer.m"]', "epoch": "2"}))
    put("safetensors", "mismatch.safetensors",
        safetensors([("fc.weight", "F32", [6, 5], f4(range(30))), ("other", "F32", [], f4([1]))]))

    # checkpoint-meta: spec SEP extra SEP epoch SEP step
    put("checkpoint-meta", "minimal", minimal + SEP + b'["optimizer.m"]' + SEP + b"3" + SEP + b"120")
    put("checkpoint-meta", "fmnist-ann", specs["fmnist-ann.json"] + SEP + b"[]" + SEP + b"10")

    # npy: features [SEP labels]
    put("npy", "f4-i8", npy("<f4", (4, 3), f4(range(12))) + SEP + npy("<i8", (4,), struct.pack("<4q", 0, 1, 2, 1)))
    put("npy", "u1-image", npy("|u1", (2, 1, 2, 2), bytes(range(8))) + SEP + npy("<i4", (2,), struct.pack("<2i", 1, 0)))
    put("npy", "f8-v2-seq", npy("<f8", (2, 3, 2), struct.pack("<12d", *range(12)), 2) + SEP +
        npy("<f4", (2, 3), f4([0, 1, 1, 0, 0, 1])))
    put("npy", "f4-1d", npy("<f4", (5,), f4(range(5))))
    put("npy", "predictions", npy("<f4", (2, 4), f4([0, 1, 1, 0.9, 1, 2, 0, 0.4])))

    # idx: flags, images SEP labels (flags: 1 gzips images, 2 labels)
    images = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(range(48))
    labels = struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
    put("idx", "plain", b"\0" + images + SEP + labels)
    put("idx", "gzip-wrapped", b"\3" + images + SEP + labels)
    put("idx", "gzip-raw", b"\0" + gzip.compress(images, mtime=0) + SEP + gzip.compress(labels, mtime=0))

    # cifar: flags (1: CIFAR-100), batch [SEP batch [SEP fine_label_names.txt]]
    rec10 = lambda l: bytes([l]) + bytes((i * 3) % 256 for i in range(3072))
    rec100 = lambda c, f: bytes([c, f]) + bytes((i * 5) % 256 for i in range(3072))
    put("cifar", "cifar10", b"\0" + rec10(3) + rec10(9) + SEP + rec10(0))
    names = "\n".join("class%d" % i for i in range(100)).encode()
    put("cifar", "cifar100", b"\1" + rec100(1, 42) + SEP + rec100(19, 99) + SEP + names)

    # csv: label column name, newline, file
    put("csv", "numeric", b"label\nx1,x2,label\n1.5,2,0\n-3,4e2,1\n0,0,1\n")
    put("csv", "named-classes", b"species\n\"sepal length\",width,species\n5.1,3.5,setosa\n4.9,3.0,virginica\n")
    put("csv", "crlf", b"y\r\ny,a\r\n1,2\r\n0,3\r\n")

    # image-folder: channels/height/width bytes, then "class/name\n" + bytes, cut at SEP
    gray = png(3, 2, 0, bytes([0, 128, 255, 64, 32, 16]))
    rgba = png(2, 2, 6, bytes(range(16)))
    rgb = png(2, 1, 2, bytes(range(6)))
    put("image-folder", "png-jpeg", b"\0\x07\x07" + b"cat/a.png\n" + gray + SEP + b"cat/b.jpg\n" + JPEG_GRAY
        + SEP + b"dog/c.png\n" + rgba + SEP + b"dog/d.jpeg\n" + JPEG_RGB)
    put("image-folder", "rgb", b"\1\x03\x04" + b"a/x.png\n" + rgb + SEP + b"b/y.jpg\n" + JPEG_RGB)

    # analysis: flags (1: epoch-001), JSON SEP embed SEP embed-labels SEP predictions
    payload = {"split": "test", "epoch": 3, "epochs": 3, "from_test_set": True, "n_classes": 2,
               "class_names": ["no", "yes"], "confusion": [[3, 1], [0, 4]],
               "precision": [1, 0.8], "recall": [0.75, 1], "f1": [0.857, 0.889], "support": [4, 4],
               "n_recon": 1, "recon_shape": [1, 2, 2], "recon_input": [0, 0.5, 1, 0.25],
               "recon_output": [0.1, 0.4, 0.9, 0.3], "recon_index": [4], "n_embed": 3, "embed_dim": 2,
               "embed_block": "fc1", "embed_index": [0, 5, 7]}
    put("analysis", "test", b"\0" + json.dumps(payload, indent=2).encode() + SEP
        + npy("<f4", (3, 2), f4(range(6))) + SEP + npy("<f4", (3,), f4([0, 1, 1])) + SEP
        + npy("<f4", (2, 4), f4([0, 1, 1, 0.9, 5, 0, 0, 0.6])))
    val = dict(payload, split="val", epoch=1, from_test_set=False)
    del val["n_embed"]
    put("analysis", "epoch", b"\1" + json.dumps(val).encode())


if __name__ == "__main__":
    sys.exit(main())
