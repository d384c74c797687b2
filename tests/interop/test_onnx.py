#!/usr/bin/env python3
"""Models taken elsewhere and brought back (meson suite interop).

Usage: test_onnx.py LAYERLAB LL_FORWARD SOURCE_ROOT NODE_MODULES CASE

For each graph: `layerlab export --onnx`, then Debian's python3-onnx checks
the file (checker with full_check, strict shape inference), and ONNX Runtime
(onnxruntime-node, in NODE_MODULES) runs it on 64 samples and must give
LayerLab's outputs within 1e-4 of their scale. Cases:
  blocks   the small graphs of graphs.py, which hold every exportable block type
Exits 0 on success, 1 on failure, 77 (saying what is missing) to skip."""
import json, os, subprocess, sys

LAYERLAB, LL_FORWARD, ROOT, NODE_MODULES, CASE = sys.argv[1:6]
SAMPLES = 64


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graphs import (SEQUENCE, VISION, checkpoint_without_spec, python_with,  # noqa: E402
                    run_in, skip, workspace, write_spec)

python_with("numpy", "onnx")
import numpy as np
import onnx
import onnx.shape_inference

TMP, ENV = workspace("ll-interop-")


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
    bad = checkpoint_without_spec(TMP)
    p = run(LAYERLAB, "export", bad, "--onnx", os.path.join(TMP, "x.onnx"), check=False)
    assert p.returncode == 1 and "no spec" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(TMP, "x.onnx"))


CASES = {"blocks": case_blocks}

if __name__ == "__main__":
    CASES[CASE]()
    print(f"{CASE} ok")
