#!/usr/bin/env python3
"""Models taken elsewhere and brought back (meson suite interop).

Usage: test_onnx.py LAYERLAB LL_FORWARD SOURCE_ROOT NODE_MODULES CASE

For each graph: `layerlab export --onnx`, then Debian's python3-onnx checks
the file (checker with full_check, strict shape inference), ONNX Runtime
(onnxruntime-node, in NODE_MODULES) runs it on 64 samples and must give
LayerLab's outputs within 1e-4 of their scale, and `layerlab import` of the
file must give back the same graph and LayerLab's outputs bit for bit. Cases:
  blocks   the small graphs of graphs.py, which hold every exportable block type;
           import's errors (unsupported operators listed, malformed files)
  presets  every preset's graph (each distinct graph of a study's trials),
           trained for one short epoch, exported by run id
  torch    a CNN and an LSTM model built in PyTorch, exported by
           torch.onnx.export, imported: PyTorch's outputs within 1e-5
Exits 0 on success, 1 on failure, 77 (saying what is missing) to skip."""
import atexit, json, os, shutil, subprocess, sys

LAYERLAB, LL_FORWARD, ROOT, NODE_MODULES, CASE = sys.argv[1:6]
SAMPLES = 64


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graphs import (RESIZE_NORM, SEQUENCE, VISION, checkpoint_without_spec, python_with,  # noqa: E402
                    run_in, skip, workspace, write_spec)

python_with("numpy", "onnx")
import numpy as np
import onnx
import onnx.shape_inference

TMP, ENV = workspace("ll-interop-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
STORE = ENV["XDG_DATA_HOME"]


def run(*args, check=True, timeout=600):
    return run_in(ENV, *args, check=check, timeout=timeout)


def have_ort():
    if subprocess.run(["node", "--version"], capture_output=True).returncode != 0:
        return "node is missing (Debian: nodejs)"
    if not os.path.isdir(os.path.join(NODE_MODULES, "onnxruntime-node")):
        return (f"onnxruntime-node is not installed in {NODE_MODULES} "
                "(`./setup.sh test` installs it with npm)")
    return None


def spec(name, blocks):
    return write_spec(TMP, name, blocks)


def onnx_check(path):
    """Debian's python3-onnx: the checker with full_check, then strict shape
    inference, whose output shapes must be the graph's."""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    assert model.opset_import[0].version == 17, model.opset_import
    return model, inferred


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def make_inputs(model, rng, dir_):
    feeds = {"inputs": [], "outputs": [o.name for o in model.graph.output]}
    arrays = {}
    for vi in model.graph.input:
        shape = [SAMPLES] + dims(vi)[1:]
        if vi.name == "tokens":  # indices of the embedding
            a = rng.integers(0, 20, size=shape).astype(np.float32)
        else:
            a = rng.standard_normal(shape).astype(np.float32)
        a.tofile(os.path.join(dir_, vi.name + ".bin"))
        arrays[vi.name] = a
        feeds["inputs"].append({"name": vi.name, "shape": shape, "type": "float32"})
    with open(os.path.join(dir_, "feeds.json"), "w") as f:
        json.dump(feeds, f)
    return arrays


def read_outputs(model, dir_, suffix):
    return {o.name: np.fromfile(os.path.join(dir_, f"{o.name}.{suffix}.bin"), dtype=np.float32)
            for o in model.graph.output}


def close(ll, other, tol, what):
    for name, a in ll.items():
        b = other[name]
        assert a.shape == b.shape, (what, name, a.shape, b.shape)
        scale = max(float(np.abs(a).max()), 1e-6)
        err = float(np.abs(a - b).max())
        print(f"  {what} {name}: max |diff| {err:.3g} (scale {scale:.3g})")
        assert err <= tol * scale, f"{what}: output {name} differs by {err} (scale {scale})"


def graph_of(spec_path):
    with open(spec_path) as f:
        blocks = json.load(f)["graph"]["blocks"]
    return {b["name"]: {k: v for k, v in b.items() if k != "position"} for b in blocks}


def round_trip(name, path, checkpoint, model, ll):
    """`layerlab import` of the exported file: the same graph, and the same
    outputs bit for bit."""
    dir_ = os.path.dirname(path)
    spec_path = os.path.join(dir_, name + "-imported.json")
    run(LAYERLAB, "import", path, "--out", spec_path)
    weights = spec_path[:-5] + ".safetensors"
    with open(spec_path) as f:
        imported = json.load(f)
    assert imported["training"]["init_from"] == [{"checkpoint": os.path.realpath(weights), "reinit": False}], \
        imported["training"]["init_from"]
    meta = {p.key: p.value for p in model.metadata_props}
    original = os.path.join(dir_, name + "-original.json")
    with open(original, "w") as f:
        f.write(meta["layerlab.spec"])
    a, b = graph_of(original), graph_of(spec_path)
    assert a == b, {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
    outs = [o.name for o in model.graph.output]
    run(LL_FORWARD, "run", weights, str(SAMPLES), dir_, *outs)
    again = read_outputs(model, dir_, "ll")
    for o in outs:
        assert again[o].tobytes() == ll[o].tobytes(), f"{name}: {o} differs after the round trip"
    print(f"  {name}: import gives the same {len(b)} blocks and the same outputs bit for bit")


def prove(name, checkpoint, expect_outputs=None, run_id=None):
    """Export (the checkpoint, or the run when run_id is given: its best
    checkpoint, which is `checkpoint`), check, run in ONNX Runtime, import;
    returns the model."""
    dir_ = os.path.join(TMP, name)
    os.makedirs(dir_, exist_ok=True)
    path = os.path.join(dir_, name + ".onnx")
    if run_id:
        run(LAYERLAB, "export", run_id, "--store", STORE, "--onnx", path)
    else:
        run(LAYERLAB, "export", checkpoint, "--onnx", path)
    model, inferred = onnx_check(path)
    outs = [o.name for o in model.graph.output]
    if expect_outputs is not None:
        assert outs == expect_outputs, outs
    for o in inferred.graph.output:
        assert dims(o)[0] == "N", (o.name, dims(o))
    meta = {p.key: p.value for p in model.metadata_props}
    assert {"spec_hash", "layerlab.spec"} <= set(meta), sorted(meta)
    if run_id:
        assert meta["run_id"] == run_id, meta["run_id"]
    arrays = make_inputs(model, np.random.default_rng(7), dir_)
    run(LL_FORWARD, "run", checkpoint, str(SAMPLES), dir_, *outs)
    ll = read_outputs(model, dir_, "ll")
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "interop", "ort-run.js"), path, dir_],
                       capture_output=True, text=True, env=dict(ENV, NODE_PATH=NODE_MODULES),
                       timeout=600)
    assert p.returncode == 0, p.stderr
    close(ll, read_outputs(model, dir_, "ort"), 1e-4, f"{name}: ONNX Runtime")
    round_trip(name, path, checkpoint, model, ll)
    return model, meta


def case_blocks():
    missing = have_ort()
    if missing:
        skip(missing)
    for name, blocks, outs in (("vision", VISION, ["probs", "code"]),
                               ("sequence", SEQUENCE, ["head", "lstm_last"]),
                               ("resize-norm", RESIZE_NORM, ["ln2"])):
        ckpt = os.path.join(TMP, name + ".safetensors")
        run(LL_FORWARD, "init", spec(name, blocks), ckpt, "3")
        model, _ = prove(name, ckpt, outs)
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"{name}: {len(model.graph.node)} nodes, ops {' '.join(ops)}")
    # a block type ONNX has no operator for is named (none today: every
    # registered type exports), and a checkpoint without a spec is refused
    bad = checkpoint_without_spec(TMP)
    p = run(LAYERLAB, "export", bad, "--onnx", os.path.join(TMP, "x.onnx"), check=False)
    assert p.returncode == 1 and "no spec" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(TMP, "x.onnx"))
    import_errors()


def import_fails(data, *expected):
    path = os.path.join(TMP, "bad.onnx")
    with open(path, "wb") as f:
        f.write(data)
    p = run(LAYERLAB, "import", path, "--out", os.path.join(TMP, "bad.json"), "--force", check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    for e in expected:
        assert e in p.stderr, (e, p.stderr)
    assert not os.path.exists(os.path.join(TMP, "bad.json"))
    return p.stderr


def nested(depth):
    """A model whose graph input's type nests `depth` sequence types: each
    level is a length-delimited field, written outside in, in linear time."""
    def varint(n):
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    # ModelProto.graph (7), GraphProto.input (11), ValueInfoProto.type (2), then
    # TypeProto.sequence_type (4) and Sequence.elem_type (1) alternating
    tags = [0x3A, 0x5A, 0x12] + [0x22 if i % 2 == 0 else 0x0A for i in range(depth)]
    lengths = [0]
    for t in reversed(tags[1:]):
        lengths.append(1 + len(varint(lengths[-1])) + lengths[-1])
    lengths.reverse()
    return b"".join(bytes([t]) + varint(n) for t, n in zip(tags, lengths))


def import_errors():
    """Operators LayerLab has no block for are listed in one error, by node
    name and op type; malformed and hostile files are refused."""
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="fine"),
             helper.make_node("Abs", ["r"], ["a"], name="absolute"),
             helper.make_node("Cos", ["r"], ["c"], name="cosine"),
             helper.make_node("Add", ["a", "c"], ["y"], name="sum")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    err = import_fails(model.SerializeToString(), 'node "absolute" (Abs)', 'node "cosine" (Cos)',
                       "2 nodes or outputs")
    assert "sum" not in err, err  # it only reads what could not be imported
    # a Conv LayerLab cannot hold: asymmetric padding, named with the reason
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 3, 3], [0.1] * 18)
    xi = helper.make_tensor_value_info("img", TensorProto.FLOAT, ["N", 1, 8, 8])
    yo = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    conv = helper.make_node("Conv", ["img", "w"], ["out"], name="lopsided", pads=[0, 0, 1, 1])
    model = helper.make_model(helper.make_graph([conv], "g", [xi], [yo], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    import_fails(model.SerializeToString(), 'node "lopsided" (Conv: ', "symmetric")
    # not protobuf, truncated, nested past any real model (a recursion
    # without limit in the decoder), weights in another file
    import_fails(b"\xff" * 64, "not an ONNX model")
    good = os.path.join(TMP, "vision", "vision.onnx")
    with open(good, "rb") as f:
        data = f.read()
    import_fails(data[: len(data) // 2], "not an ONNX model")
    import_fails(nested(200000), "nested deeper")
    w.data_location = TensorProto.EXTERNAL
    del w.float_data[:]
    w.external_data.add(key="location", value="../../etc/passwd")
    model = helper.make_model(helper.make_graph([conv], "g", [xi], [yo], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    import_fails(model.SerializeToString(), "another file")
    print("import errors ok")


PRESETS = os.path.join(ROOT, "resources", "presets")
FMNIST = "/usr/share/datasets/fashion-mnist"
SHORT = ("--epochs", "1", "--limit", "256")


def case_presets():
    """Every preset's graph, trained for one short epoch: a spec preset once,
    a study's or sweep's trials (two per sweep) once per distinct graph."""
    missing = have_ort()
    if missing:
        skip(missing)
    if not os.path.isdir(FMNIST):
        skip("Fashion-MNIST is not installed (Debian: dataset-fashion-mnist)")
    seen = set()
    presets = sorted(f[:-5] for f in os.listdir(PRESETS) if f.endswith(".json"))
    for preset in presets:
        path = os.path.join(PRESETS, preset + ".json")
        with open(path) as f:
            doc = json.load(f)
        if doc["format"] == "layerlab-spec":
            verb, extra = "train", ()
        else:
            verb, extra = ("sweep", ("--trials", "2")) if "sweep" in doc else ("study", ())
        p = run(LAYERLAB, verb, path, "--jsonl", "--out", STORE, *SHORT, *extra)
        evs = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
        if verb == "train":
            runs = [evs[-1]["run_id"]]
        else:
            runs = [e["run_id"] for e in evs if e["event"] == "trial-finished" and e["status"] == "finished"]
        assert runs, (preset, p.stdout[-2000:])
        for i, rid in enumerate(runs):
            run_dir = os.path.join(STORE, "runs", rid)
            with open(os.path.join(run_dir, "spec.json")) as f:
                blocks = json.load(f)["graph"]["blocks"]
            key = json.dumps([{k: v for k, v in b.items() if k != "position"} for b in blocks],
                             sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            best = os.path.join(run_dir, "best.safetensors")
            ckpt = best if os.path.exists(best) else os.path.join(run_dir, "last.safetensors")
            prove(f"{preset}-{i}", ckpt, run_id=rid)
        print(f"{preset}: {len(runs)} run(s) trained, {len(seen)} distinct graphs so far")


def case_torch():
    """A CNN and a sequence model written in PyTorch, exported by
    torch.onnx.export (Debian's python3-torch), imported: LayerLab gives
    PyTorch's outputs within 1e-5 of their scale."""
    python_with("torch")
    import torch
    import torch.nn as nn
    torch.manual_seed(0)

    class Cnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.pool = nn.MaxPool2d(2)
            self.c2 = nn.Conv2d(8, 16, 3, stride=2)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.flat = nn.Flatten()
            self.fc = nn.Linear(16, 10)
            self.c3 = nn.Conv2d(8, 4, 1)
            self.fc2 = nn.Linear(4 * 7 * 7, 10)
            self.avg = nn.AvgPool2d(3, stride=1, padding=1)

        def forward(self, x):
            h = self.pool(torch.relu(self.bn(self.c1(x))))
            a = self.fc(self.flat(self.gap(nn.functional.gelu(self.c2(h)))))
            b = self.fc2(self.flat(torch.sigmoid(self.avg(self.c3(h)))))
            return torch.softmax(a + nn.functional.leaky_relu(b, 0.1), dim=-1)

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(30, 8)
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.proj = nn.Linear(16, 16)
            self.gru = nn.GRU(16, 12, batch_first=True)
            self.fc = nn.Linear(12, 4)

        def forward(self, tokens):
            y, _ = self.lstm(self.emb(tokens))
            _, h = self.gru(torch.tanh(self.proj(y)))
            return self.fc(h[-1])

    rng = np.random.default_rng(5)
    for name, model, x in (("torch-cnn", Cnn(), rng.standard_normal((SAMPLES, 1, 14, 14), dtype=np.float32)),
                           ("torch-lstm", Seq(), rng.integers(0, 30, (SAMPLES, 9)))):
        with torch.no_grad():  # BatchNorm statistics that are not the identity's
            for mod in model.modules():
                if isinstance(mod, nn.BatchNorm2d):
                    mod.running_mean.uniform_(-0.5, 0.5)
                    mod.running_var.uniform_(0.5, 1.5)
        model.eval()
        dir_ = os.path.join(TMP, name)
        os.makedirs(dir_)
        path = os.path.join(dir_, name + ".onnx")
        sample = torch.from_numpy(x[:2])
        torch.onnx.export(model, sample, path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()
        spec_path = os.path.join(dir_, name + ".json")
        run(LAYERLAB, "import", path, "--out", spec_path)
        blocks = graph_of(spec_path)
        print(f"{name}: {' '.join(b['type'] for b in blocks.values())}")
        x.astype(np.float32).tofile(os.path.join(dir_, "x.bin"))
        run(LL_FORWARD, "run", spec_path[:-5] + ".safetensors", str(SAMPLES), dir_, "y")
        got = np.fromfile(os.path.join(dir_, "y.ll.bin"), dtype=np.float32).reshape(want.shape)
        close({"y": want}, {"y": got}, 1e-5, f"{name}: PyTorch vs LayerLab")


CASES = {"blocks": case_blocks, "presets": case_presets, "torch": case_torch}

if __name__ == "__main__":
    probe = run(LAYERLAB, "import", os.path.join(TMP, "absent.onnx"), check=False)
    if "no ONNX support" in probe.stderr:
        skip("this build of LayerLab has no ONNX support (libprotobuf-c-dev, "
             "protobuf-c-compiler and libonnx-dev were missing when it was configured)")
    CASES[CASE]()
    print(f"{CASE} ok")
