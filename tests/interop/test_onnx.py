#!/usr/bin/env python3
"""Models taken elsewhere and brought back (meson suite interop).

Usage: test_onnx.py LAYERLAB LL_FORWARD SOURCE_ROOT NODE_MODULES CASE

For each graph: `layerlab export --onnx`, then Debian's python3-onnx checks
the file (checker with full_check, strict shape inference), and ONNX Runtime
(onnxruntime-node, in NODE_MODULES) runs it on 64 samples and must give
LayerLab's outputs within 1e-4 of their scale. Cases:
  blocks   the small graphs below, which hold every exportable block type
Exits 0 on success, 1 on failure, 77 (saying what is missing) to skip."""
import json, os, subprocess, sys, tempfile

LAYERLAB, LL_FORWARD, ROOT, NODE_MODULES, CASE = sys.argv[1:6]
SAMPLES = 64


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


def python_with(*modules):
    """Re-runs this script under Debian's python3 when this interpreter (a
    virtualenv, pyenv) lacks the modules; skips when none has them."""
    try:
        for m in modules:
            __import__(m)
        return
    except ImportError as e:
        missing = e.name
    system = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system) and os.path.exists(system):
        os.execv(system, [system, *sys.argv])
    skip(f"python3 module {missing} is missing (Debian: python3-{missing})")


python_with("numpy", "onnx")
import numpy as np
import onnx
import onnx.shape_inference

TMP = tempfile.mkdtemp(prefix="ll-interop-")
STORE = os.path.join(TMP, "store")
ENV = dict(os.environ, XDG_DATA_HOME=STORE, OPENBLAS_NUM_THREADS="1")


def run(*args, check=True, timeout=600):
    p = subprocess.run(list(args), capture_output=True, text=True, env=ENV, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def have_ort():
    if subprocess.run(["node", "--version"], capture_output=True).returncode != 0:
        return "node is missing (Debian: nodejs)"
    if not os.path.isdir(os.path.join(NODE_MODULES, "onnxruntime-node")):
        return (f"onnxruntime-node is not installed in {NODE_MODULES} "
                "(`./setup.sh test` installs it with npm)")
    return None


def spec(name, blocks):
    """A spec file holding only a graph: blocks are (name, type, inputs, props)."""
    path = os.path.join(TMP, name + ".json")
    doc = {"format": "layerlab-spec", "version": 1, "name": name,
           "graph": {"blocks": [{"name": n, "type": t, "inputs": i, "props": p}
                                for n, t, i, p in blocks]}}
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


# Every exportable block type, most of their properties off their defaults,
# several inputs and outputs.
VISION = [
    ("image", "Input", [], {"shape": [3, 12, 12]}),
    ("c1", "Conv2d", ["image"], {"out_channels": 8, "kernel": 3, "padding": 1}),
    ("bn1", "BatchNorm2d", ["c1"], {"eps": 1e-3}),
    ("r1", "ReLU", ["bn1"], {}),
    ("mp", "MaxPool2d", ["r1"], {"kernel": 2}),
    ("c2", "Conv2d", ["mp"], {"out_channels": 8, "kernel": 3, "padding": 2, "dilation": 2,
                               "groups": 2, "bias": False}),
    ("lr", "LeakyReLU", ["c2"], {"negative_slope": 0.2}),
    ("sum", "Add", ["mp", "lr"], {}),
    ("ap", "AvgPool2d", ["sum"], {"kernel": 3, "stride": 1, "padding": 1}),
    ("ct", "ConvTranspose2d", ["ap"], {"out_channels": 4, "kernel": 3, "stride": 2,
                                       "padding": 1, "output_padding": 1}),
    ("el", "ELU", ["ct"], {"alpha": 0.7}),
    ("gap", "GlobalAvgPool", ["el"], {}),
    ("rs", "Reshape", ["ap"], {"shape": [8, 36]}),
    ("tok", "Linear", ["rs"], {"out_features": 4}),
    ("bnt", "BatchNorm1d", ["tok"], {"affine": False, "momentum": 0.3}),
    ("fl", "Flatten", ["bnt"], {}),
    ("cat", "Concat", ["gap", "fl"], {}),
    ("fc", "Linear", ["cat"], {"out_features": 16}),
    ("ge", "GELU", ["fc"], {}),
    ("dr", "Dropout", ["ge"], {"p": 0.3}),
    ("a", "Linear", ["dr"], {"out_features": 16, "bias": False}),
    ("b", "Sigmoid", ["a"], {}),
    ("c", "Tanh", ["a"], {}),
    ("abc", "Add", ["a", "b", "c"], {}),
    ("probs", "Softmax", ["abc"], {}),
    ("code", "Linear", ["dr"], {"out_features": 3}),
]
SEQUENCE = [
    ("tokens", "Input", [], {"shape": [10]}),
    ("signal", "Input", [], {"shape": [3, 16]}),
    ("emb", "Embedding", ["tokens"], {"num_embeddings": 20, "embedding_dim": 6}),
    ("lstm", "LSTM", ["emb"], {"hidden_size": 8, "return_sequences": True}),
    ("gru", "GRU", ["lstm"], {"hidden_size": 5}),
    ("rnn", "RNN", ["emb"], {"hidden_size": 4, "nonlinearity": "relu", "bias": False}),
    ("conv", "Conv1d", ["signal"], {"out_channels": 6, "kernel": 3, "padding": 1, "stride": 2}),
    ("bnc", "BatchNorm1d", ["conv"], {}),
    ("th", "Tanh", ["bnc"], {}),
    ("pool", "GlobalAvgPool", ["th"], {}),
    ("steps", "Reshape", ["signal"], {"shape": [16, 3]}),
    ("rnn2", "RNN", ["steps"], {"hidden_size": 4, "return_sequences": True}),
    ("per_step", "Linear", ["rnn2"], {"out_features": 2}),
    ("flat", "Flatten", ["per_step"], {}),
    ("joined", "Concat", ["gru", "rnn", "pool", "flat"], {}),
    ("bnj", "BatchNorm1d", ["joined"], {}),
    ("head", "Linear", ["bnj"], {"out_features": 3}),
    ("lstm_last", "LSTM", ["emb"], {"hidden_size": 3, "bias": False}),
]


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


def prove(name, checkpoint, expect_outputs=None):
    """Export, check, run in ONNX Runtime; returns the model."""
    dir_ = os.path.join(TMP, name)
    os.makedirs(dir_, exist_ok=True)
    path = os.path.join(dir_, name + ".onnx")
    run(LAYERLAB, "export", checkpoint, "--onnx", path)
    model, inferred = onnx_check(path)
    outs = [o.name for o in model.graph.output]
    if expect_outputs is not None:
        assert outs == expect_outputs, outs
    for o in inferred.graph.output:
        assert dims(o)[0] == "N", (o.name, dims(o))
    meta = {p.key: p.value for p in model.metadata_props}
    assert {"spec_hash", "layerlab.spec"} <= set(meta), sorted(meta)
    arrays = make_inputs(model, np.random.default_rng(7), dir_)
    run(LL_FORWARD, "run", checkpoint, str(SAMPLES), dir_, *outs)
    ll = read_outputs(model, dir_, "ll")
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "interop", "ort-run.js"), path, dir_],
                       capture_output=True, text=True, env=dict(ENV, NODE_PATH=NODE_MODULES),
                       timeout=600)
    assert p.returncode == 0, p.stderr
    close(ll, read_outputs(model, dir_, "ort"), 1e-4, f"{name}: ONNX Runtime")
    return model, meta


def case_blocks():
    missing = have_ort()
    if missing:
        skip(missing)
    for name, blocks, outs in (("vision", VISION, ["probs", "code"]),
                               ("sequence", SEQUENCE, ["head", "lstm_last"])):
        ckpt = os.path.join(TMP, name + ".safetensors")
        run(LL_FORWARD, "init", spec(name, blocks), ckpt, "3")
        model, _ = prove(name, ckpt, outs)
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"{name}: {len(model.graph.node)} nodes, ops {' '.join(ops)}")
    # a block type ONNX has no operator for is named (none today: every
    # registered type exports), and a checkpoint without a spec is refused
    bad = os.path.join(TMP, "nospec.safetensors")
    with open(bad, "wb") as f:
        header = b'{"__metadata__":{"format":"pt"}}    '
        f.write(len(header).to_bytes(8, "little") + header)
    p = run(LAYERLAB, "export", bad, "--onnx", os.path.join(TMP, "x.onnx"), check=False)
    assert p.returncode == 1 and "no spec" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(TMP, "x.onnx"))


CASES = {"blocks": case_blocks}

if __name__ == "__main__":
    CASES[CASE]()
    print(f"{CASE} ok")
