#!/usr/bin/env python3
"""The PyTorch module export, run by PyTorch (meson suite interop).

Usage: test_pytorch.py LAYERLAB LL_FORWARD SOURCE_ROOT CASE

For each graph: `layerlab export CHECKPOINT_OR_RUN --pytorch DIR`, then
Debian's python3-torch imports DIR/model.py, load() reads the weights, and
the module must give LayerLab's outputs (ll-forward run, on the CPU) on 64
samples within TOLERANCE; its state_dict must hold the checkpoint's tensors
under their names (LAYERLAB_NAMES lists the recurrent ones PyTorch numbers),
in standard torch.nn modules, and a training step must reach every
parameter; the module so trained, saved under layerlab_state_dict()'s names,
must give the same outputs in LayerLab again. Cases:
  blocks   the small graphs of graphs.py, which hold every exportable block
           type (random weights and BatchNorm statistics), on random inputs;
           and what the command refuses
  presets  the graphs of every preset in resources/presets (a study's base
           spec and its stages' specs, as written), each trained for a few
           steps, on the first 64 test samples
Exits 0 on success, 1 on failure, 77 (saying what is missing) to skip."""
import importlib.util, json, os, shutil, struct, sys, time

START = time.time()
LAYERLAB, LL_FORWARD, ROOT, CASE = sys.argv[1:5]
SAMPLES = 64
# max |PyTorch - LayerLab| over an output, relative to the output's scale
# where that is above 1 (float32 sums in another order; measured: below 1e-6)
TOLERANCE = 1e-5

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graphs import (RESIZE_NORM, SEQUENCE, VISION, checkpoint_without_spec, python_with,  # noqa: E402
                    run_in, skip, workspace, write_spec)

python_with("numpy", "torch")
import numpy as np
import torch

TMP, ENV = workspace("ll-pytorch-")
PRESETS = os.path.join(ROOT, "resources", "presets")
FMNIST = "/usr/share/datasets/fashion-mnist"
torch.set_num_threads(1)


def run(*args, check=True, timeout=600):
    return run_in(ENV, *args, check=check, timeout=timeout)


def checkpoint_tensors(path):
    """The safetensors file's tensor names and shapes, extras left out."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {})
    extra = set(json.loads(meta.get("layerlab.extra", "[]")))
    return {k: tuple(v["shape"]) for k, v in header.items() if k not in extra}, meta


def import_model(dir_, name):
    spec = importlib.util.spec_from_file_location(f"exported_{name}", os.path.join(dir_, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_module(mod, net, checkpoint, name):
    """The state_dict is the checkpoint's tensors by name, held by standard
    torch.nn modules, and a training step reaches every parameter."""
    tensors, _ = checkpoint_tensors(checkpoint)
    state = net.state_dict()
    as_layerlab = {mod.LAYERLAB_NAMES.get(k, k): tuple(v.shape) for k, v in state.items()}
    assert as_layerlab == tensors, (name, sorted(as_layerlab.items()), sorted(tensors.items()))
    for key, ckpt in mod.LAYERLAB_NAMES.items():
        # a tensor is renamed only by PyTorch's layer numbering of recurrent
        # weights, or with its block where the block's name is no Python name
        assert key == ckpt + "_l0" or key.split(".")[0] != ckpt.split(".")[0], (key, ckpt)
    assert sorted(mod.layerlab_state_dict(net)) == sorted(tensors), name
    for mname, m in net.named_modules():
        if mname and any(True for _ in m.parameters(recurse=False)):
            assert type(m).__module__.startswith("torch.nn.modules."), (mname, type(m))
    net.train()
    outs = net(*inputs_as_tensors(mod))
    outs = outs if isinstance(outs, tuple) else (outs,)
    sum(o.float().square().mean() for o in outs).backward()
    for pname, p in net.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, (name, pname)
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    net.eval()


def write_checkpoint(path, tensors, meta):
    """A safetensors file written by hand (no safetensors package needed)."""
    header, data = {"__metadata__": meta}, bytearray()
    for key, t in tensors.items():
        a = t.detach().numpy().astype("<f4")
        header[key] = {"dtype": "F32", "shape": list(a.shape),
                       "data_offsets": [len(data), len(data) + a.nbytes]}
        data += a.tobytes()
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def bring_back(mod, net, checkpoint, dir_, name, before):
    """The module trained one step in PyTorch goes back into LayerLab under
    layerlab_state_dict()'s names and gives PyTorch's outputs there."""
    _, meta = checkpoint_tensors(checkpoint)
    meta = {k: v for k, v in meta.items() if k != "layerlab.extra"}
    back = os.path.join(dir_, "trained-in-pytorch.safetensors")
    write_checkpoint(back, mod.layerlab_state_dict(net), meta)
    with torch.no_grad():
        outs = net(*inputs_as_tensors(mod))
    outs = outs if isinstance(outs, tuple) else (outs,)
    assert any(not torch.equal(a, b) for a, b in zip(before, outs)), f"{name}: the step changed nothing"
    run(LL_FORWARD, "run", back, str(SAMPLES), dir_, *mod.OUTPUTS)
    return compare(name + " back in LayerLab", dir_, mod, outs)


INPUTS = {}


def inputs_as_tensors(mod):
    return [torch.from_numpy(INPUTS[n]) for n in mod.INPUTS]


def prove(name, ref, checkpoint, make_inputs):
    """Exports ref (a run id or a checkpoint file), runs LayerLab and PyTorch
    on the same inputs and compares; returns the largest relative error."""
    dir_ = os.path.join(TMP, name)
    os.makedirs(dir_, exist_ok=True)
    out_dir = os.path.join(dir_, "model")
    p = run(LAYERLAB, "export", ref, "--pytorch", out_dir)
    assert sorted(os.listdir(out_dir)) == ["model.py", "weights.bin"], os.listdir(out_dir)
    assert p.stdout.split() == [os.path.join(out_dir, "model.py"),
                                os.path.join(out_dir, "weights.bin")], p.stdout
    mod = import_model(out_dir, name)
    make_inputs(mod, dir_)
    INPUTS.clear()
    for n, shape in mod.INPUTS.items():
        a = np.fromfile(os.path.join(dir_, n + ".bin"), dtype=np.float32)
        INPUTS[n] = a.reshape((SAMPLES, *shape))
    net = mod.load()
    assert not net.training
    with torch.no_grad():
        outs = net(*inputs_as_tensors(mod))
    outs = outs if isinstance(outs, tuple) else (outs,)
    assert len(outs) == len(mod.OUTPUTS), (name, len(outs), mod.OUTPUTS)
    run(LL_FORWARD, "run", checkpoint, str(SAMPLES), dir_, *mod.OUTPUTS)
    worst = compare(name, dir_, mod, outs)
    check_module(mod, net, checkpoint, name)
    return max(worst, bring_back(mod, net, checkpoint, dir_, name, outs))


def compare(name, dir_, mod, outs):
    """PyTorch's outputs against LayerLab's (DIR/<output>.ll.bin); returns
    the largest difference relative to the scale."""
    worst = 0.0
    for (n, shape), t in zip(mod.OUTPUTS.items(), outs):
        assert tuple(t.shape) == (SAMPLES, *shape), (name, n, tuple(t.shape), shape)
        ll = np.fromfile(os.path.join(dir_, n + ".ll.bin"), dtype=np.float32)
        got = t.numpy()
        assert ll.size == got.size, (name, n, ll.size, got.shape)
        ll = ll.reshape(got.shape)
        scale = max(float(np.abs(ll).max()), 1.0)
        err = float(np.abs(ll - got).max())
        print(f"  {name} {n} {tuple(got.shape)}: max |diff| {err:.3g} (scale {scale:.3g})")
        assert err <= TOLERANCE * scale, f"{name}: output {n} differs by {err} (scale {scale})"
        worst = max(worst, err / scale)
    return worst


def random_inputs(spec_blocks):
    """Inputs drawn at random: normal values, or indices into the table of
    the Embedding an Input feeds."""
    def make(mod, dir_):
        rng = np.random.default_rng(7)
        for name, type_, _, props in spec_blocks:
            if type_ != "Input":
                continue
            table = [p.get("num_embeddings") for _, t, ins, p in spec_blocks
                     if t == "Embedding" and name in ins]
            shape = (SAMPLES, *props["shape"])
            a = (rng.integers(0, table[0], size=shape) if table
                 else rng.standard_normal(shape)).astype(np.float32)
            a.tofile(os.path.join(dir_, name + ".bin"))
    return make


def test_samples(checkpoint):
    def make(mod, dir_):
        run(LL_FORWARD, "samples", checkpoint, str(SAMPLES), dir_)
    return make


# Block names that are no Python names, or that torch.nn.Module or the
# other blocks' names already take.
NAMES = [
    ("in", "Input", [], {"shape": [6]}),
    ("fc-1", "Linear", ["in"], {"out_features": 4}),
    ("train", "Linear", ["fc-1"], {"out_features": 4}),
    ("fc_1", "Linear", ["train"], {"out_features": 4}),
    ("9", "Tanh", ["fc_1"], {}),
    ("_x", "Linear", ["9"], {"out_features": 3}),
]
RENAMED = {"fc_1_.weight": "fc-1.weight", "fc_1_.bias": "fc-1.bias",
           "train_.weight": "train.weight", "train_.bias": "train.bias",
           "b_x.weight": "_x.weight", "b_x.bias": "_x.bias"}


def case_blocks():
    worst = 0.0
    for name, blocks in (("vision", VISION), ("sequence", SEQUENCE), ("resize-norm", RESIZE_NORM),
                         ("names", NAMES)):
        ckpt = os.path.join(TMP, name + ".safetensors")
        path = write_spec(TMP, name, blocks)
        with open(path) as f:
            doc = json.load(f)
        for b in doc["graph"]["blocks"]:
            b["frozen"] = b["name"] == "train"  # a frozen block stays frozen in PyTorch
        with open(path, "w") as f:
            json.dump(doc, f)
        run(LL_FORWARD, "init", path, ckpt, "3")
        worst = max(worst, prove(name, ckpt, ckpt, random_inputs(blocks)))
    mod = import_model(os.path.join(TMP, "names", "model"), "names_again")
    assert mod.LAYERLAB_NAMES == RENAMED, mod.LAYERLAB_NAMES
    assert list(mod.INPUTS) == ["in"] and list(mod.OUTPUTS) == ["_x"]
    net = mod.Model()
    assert [n for n, p in net.named_parameters() if not p.requires_grad] == [
        "train_.weight", "train_.bias"]
    types = {t for _, t, _, _ in VISION + SEQUENCE + RESIZE_NORM}
    p = run(LAYERLAB, "blocks", "--json")
    registered = {b["type"] for b in json.loads(p.stdout)}
    assert registered <= types, f"block types no graph here holds: {registered - types}"
    # what the command refuses: an existing file without --force (and leaves
    # it alone), a checkpoint without a spec, a run that does not exist
    ckpt = os.path.join(TMP, "vision.safetensors")
    out_dir = os.path.join(TMP, "vision", "model")
    model_py = os.path.join(out_dir, "model.py")
    with open(model_py, "a") as f:
        f.write("# edited\n")
    p = run(LAYERLAB, "export", ckpt, "--pytorch", out_dir, check=False)
    assert p.returncode == 1 and "already exists; --force replaces it" in p.stderr, p.stderr
    assert open(model_py).read().endswith("# edited\n")
    run(LAYERLAB, "export", ckpt, "--pytorch", out_dir, "--force")
    assert not open(model_py).read().endswith("# edited\n")
    bad = checkpoint_without_spec(TMP)
    p = run(LAYERLAB, "export", bad, "--pytorch", os.path.join(TMP, "nospec"), check=False)
    assert p.returncode == 1 and "no spec" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(TMP, "nospec"))
    p = run(LAYERLAB, "export", "no-such-run", "--pytorch", os.path.join(TMP, "x"), check=False)
    assert p.returncode == 1 and "no-such-run" in p.stderr, p.stderr
    p = run(LAYERLAB, "export", ckpt, "--pytorch", os.path.join(TMP, "x"), "--dir", TMP,
            check=False)
    assert p.returncode == 2, p.stderr
    print(f"blocks: {len(types)} block types, largest difference {worst:.3g} of the scale")


def preset_graphs():
    """(label, spec) for every distinct graph the presets hold: each spec
    preset, and a study's base spec and stage specs (file references read
    from the presets folder)."""
    seen, out = {}, []

    def add(label, spec):
        if isinstance(spec, str):
            with open(os.path.join(PRESETS, spec)) as f:
                spec = json.load(f)
        key = json.dumps(spec["graph"], sort_keys=True)
        if key in seen:
            seen[key][0].append(label)
            return
        entry = ([label], spec)
        seen[key] = entry
        out.append(entry)

    for file in sorted(os.listdir(PRESETS)):
        with open(os.path.join(PRESETS, file)) as f:
            doc = json.load(f)
        name = file[:-len(".json")]
        if doc["format"] == "layerlab-spec":
            add(name, doc)
        if "spec" in doc:
            add(name, doc["spec"])
        for stage in doc.get("stages", []):
            if "spec" in stage:
                add(f"{name}/{stage['name']}", stage["spec"])
    return out


def case_presets():
    if not os.path.isdir(FMNIST):
        skip(f"Fashion-MNIST is not installed in {FMNIST} (Debian: dataset-fashion-mnist)")
    graphs = preset_graphs()
    presets = {label.split("/")[0] for labels, _ in graphs for label in labels}
    assert len(presets) == len(os.listdir(PRESETS)) == 15, sorted(presets)
    worst = 0.0
    for labels, spec in graphs:
        t0 = time.time()
        spec = json.loads(json.dumps(spec))
        name = spec["name"]
        data = spec.setdefault("data", {})
        if data.get("dataset", {}).get("kind") == "npy":
            # a stage that reads an earlier stage's exported features: blobs
            # of the same width stand in for them
            width = next(b["props"]["shape"][0] for b in spec["graph"]["blocks"]
                         if b["type"] == "Input")
            data["dataset"] = {"kind": "synthetic", "generator": "blobs", "n": 600,
                               "test_n": 200, "classes": 10, "features": width}
        path = os.path.join(TMP, name + ".json")
        with open(path, "w") as f:
            json.dump(spec, f)
        p = run(LAYERLAB, "train", path, "--epochs", "1", "--limit", "300", "--batch", "64",
                "--jsonl")
        fin = json.loads(p.stdout.strip().splitlines()[-1])
        assert fin["event"] == "finished", fin
        checkpoint = fin["checkpoint"]
        # the run id resolves as `eval` and `transfer` take it: its best checkpoint
        best = os.path.join(os.path.dirname(checkpoint), "best.safetensors")
        if os.path.exists(best):
            checkpoint = best
        steps = int(checkpoint_tensors(checkpoint)[1]["step"])
        assert steps > 0, (name, steps)  # trained: the weights are not their initial values
        err = prove(name, fin["run_id"], checkpoint, test_samples(checkpoint))
        worst = max(worst, err)
        print(f"{name} ({', '.join(labels)}): {steps} steps, {time.time() - t0:.1f} s")
    print(f"presets: {len(presets)} presets, {len(graphs)} graphs, "
          f"largest difference {worst:.3g} of the scale")


CASES = {"blocks": case_blocks, "presets": case_presets}

if __name__ == "__main__":
    CASES[CASE]()
    shutil.rmtree(TMP)  # kept when the test fails, for a look at what it wrote
    print(f"{CASE} ok in {time.time() - START:.1f} s")
