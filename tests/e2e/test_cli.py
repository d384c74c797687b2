#!/usr/bin/env python3
"""End-to-end tests of the `layerlab` command line (meson suite e2e).

Usage: test_cli.py LAYERLAB SOURCE_ROOT CASE
Each case exits 0 on success, 1 on failure, 77 to skip."""
import csv
import json, os, signal, subprocess, sys, tempfile, time

LAYERLAB, ROOT, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
PRESETS = os.path.join(ROOT, "resources", "presets")
SMALL = os.path.join(ROOT, "tests", "e2e", "small-mlp.json")
FMNIST = "/usr/share/datasets/fashion-mnist"
STORE = tempfile.mkdtemp(prefix="ll-e2e-")
ENV = dict(os.environ, XDG_DATA_HOME=STORE)


def run(*args, check=True, timeout=600):
    p = subprocess.run([LAYERLAB, *args], capture_output=True, text=True, env=ENV, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"layerlab {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def events(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def train(spec, *extra):
    p = run("train", spec, "--jsonl", "--out", STORE, *extra)
    evs = events(p.stdout)
    last = evs[-1]
    if last["event"] != "finished":
        sys.exit(f"training {spec} did not finish: {last}")
    return evs, last


def need_fmnist():
    if not os.path.isdir(FMNIST):
        print("Fashion-MNIST is not installed (dataset-fashion-mnist)")
        sys.exit(77)


def case_verbs():
    blocks = json.loads(run("blocks", "--json").stdout)
    types = {b["type"] for b in blocks}
    for t in ("Input", "Linear", "Conv2d", "ConvTranspose2d", "LSTM", "GRU", "BatchNorm2d", "Embedding"):
        assert t in types, t
    s = json.loads(run("summary", os.path.join(PRESETS, "tiny-cnn.json"), "--json").stdout)
    assert s["total_params"] == 7426, s["total_params"]
    for b in s["blocks"]:
        assert set(b) >= {"name", "type", "output_shape", "params", "flops", "receptive_field"}
    assert run("frobnicate", check=False).returncode == 2
    assert "no such file to open" in run("frobnicate.json", check=False).stderr
    assert run("train", check=False).returncode == 2
    assert run("train", SMALL, "--epochs", "x", check=False).returncode == 2
    bad = run("summary", "/nonexistent.json", check=False)
    assert bad.returncode == 1 and "nonexistent" in bad.stderr
    print("verbs ok")


def case_preset(name, metric, ok):
    need_fmnist()
    t0 = time.time()
    evs, fin = train(os.path.join(PRESETS, name + ".json"))
    took = time.time() - t0
    print(f"{name}: {metric} = {fin.get(metric)} in {took:.0f} s, {fin['images_per_second']:.0f} img/s")
    assert ok(fin[metric]), f"{metric} = {fin[metric]}"
    assert os.path.exists(fin["checkpoint"])
    assert any(e["event"] == "epoch" for e in evs)


def strip_timing(e):
    return {k: v for k, v in e.items()
            if k not in ("images_per_second", "test_images_per_second", "elapsed", "run_id", "checkpoint")}


def case_determinism():
    need_fmnist()
    a = [strip_timing(e) for e in train(SMALL, "--seed", "11")[0] if e["event"] in ("epoch", "finished")]
    b = [strip_timing(e) for e in train(SMALL, "--seed", "11")[0] if e["event"] in ("epoch", "finished")]
    assert a == b, (a, b)
    c = [strip_timing(e) for e in train(SMALL, "--seed", "12")[0] if e["event"] in ("epoch", "finished")]
    assert a != c
    print("same seed, same numbers:", a[-1])
    # resuming is exact: 2 epochs, then 2 more from the checkpoint, equal 4 in one go
    straight = [strip_timing(e) for e in train(SMALL, "--epochs", "4")[0] if e["event"] == "epoch"]
    first = train(SMALL, "--epochs", "2")[1]
    resumed = [strip_timing(e) for e in train(SMALL, "--epochs", "4", "--resume", first["run_id"])[0]
               if e["event"] == "epoch"]
    assert [e["epoch"] for e in resumed] == [3, 4]
    for a_, b_ in zip(straight[2:], resumed):
        a_.pop("step", None); b_.pop("step", None)
    assert straight[2:] == resumed, (straight[2:], resumed)
    print("resume is exact:", resumed[-1])


def checkpoint_metadata(path):
    """The __metadata__ of a safetensors file, read by hand."""
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


def case_kill_resume():
    need_fmnist()
    p = subprocess.Popen([LAYERLAB, "train", SMALL, "--epochs", "40", "--jsonl", "--out", STORE],
                         stdout=subprocess.PIPE, text=True, env=ENV)
    run_id, epochs_seen = None, 0
    for line in p.stdout:
        e = json.loads(line)
        run_id = e.get("run_id", run_id)
        if e["event"] == "epoch":
            epochs_seen = e["epoch"]
            if epochs_seen == 2:
                time.sleep(0.05)  # into the third epoch
                break
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert run_id and epochs_seen == 2
    runs = json.loads(run("runs", "--json", "--out", STORE).stdout)
    mine = [r for r in runs if r["id"] == run_id][0]
    assert mine["status"] == "crashed", mine["status"]
    ckpt = os.path.join(mine["dir"], "last.safetensors")
    assert os.path.exists(ckpt)
    assert not [f for f in os.listdir(mine["dir"]) if ".tmp" in f], os.listdir(mine["dir"])
    ev = events(run("eval", ckpt, "--jsonl", "--out", STORE).stdout)
    assert ev[-1]["event"] == "finished" and ev[-1]["test_accuracy"] > 0.7, ev[-1]
    done = int(checkpoint_metadata(ckpt)["epoch"])
    assert done >= 2, done
    evs, fin = train(SMALL, "--epochs", str(done + 2), "--resume", run_id)
    epochs = [e["epoch"] for e in evs if e["event"] == "epoch"]
    assert epochs == [done + 1, done + 2], (done, epochs)
    print(f"killed after epoch {done}, resumed at {done + 1}: {fin['test_accuracy']}")


def case_ctrl_c():
    need_fmnist()
    p = subprocess.Popen([LAYERLAB, "train", SMALL, "--epochs", "40", "--jsonl", "--out", STORE],
                         stdout=subprocess.PIPE, text=True, env=ENV)
    for line in p.stdout:
        if json.loads(line)["event"] == "epoch":
            break
    p.send_signal(signal.SIGINT)
    rest = [json.loads(l) for l in p.stdout]
    p.wait(timeout=60)
    assert p.returncode == 130, p.returncode
    stopped = [e for e in rest if e["event"] == "stopped"]
    assert stopped and os.path.exists(stopped[0]["checkpoint"])
    ev = events(run("eval", stopped[0]["checkpoint"], "--jsonl").stdout)
    assert ev[-1]["event"] == "finished"
    print("Ctrl-C left", stopped[0]["checkpoint"])


CASES = {
    "verbs": case_verbs,
    "fmnist-ann": lambda: case_preset("fmnist-ann", "test_accuracy", lambda v: v >= 0.88),
    "fmnist-cnn": lambda: case_preset("fmnist-cnn", "test_accuracy", lambda v: v >= 0.90),
    "ae-pretrain": lambda: case_preset("ae-pretrain", "test_loss", lambda v: v <= 0.02),
    "determinism": case_determinism,
    "kill-resume": case_kill_resume,
    "ctrl-c": case_ctrl_c,
}


# ---- presets of every experiment, shortened: one epoch on a few hundred samples ----

SHORT = ("--epochs", "1", "--limit", "600")


def study(verb, name, *extra):
    p = run(verb, os.path.join(PRESETS, name + ".json"), "--jsonl", "--out", STORE, *SHORT, *extra,
            check=False, timeout=300)
    evs = events(p.stdout)
    assert evs and evs[-1]["event"] == "study-finished", (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    trials = [e for e in evs if e["event"] == "trial-finished"]
    for t in trials:
        assert t["status"] in ("finished", "pruned"), t
    assert p.returncode == 0, (p.returncode, p.stderr)
    fin = evs[-1]
    assert os.path.exists(fin["results"])
    with open(fin["results"]) as f:
        rows = f.read().strip().splitlines()
    assert len(rows) == len(trials) + 1, rows
    assert os.path.exists(os.path.join(fin["dir"], "study.json"))
    assert os.path.exists(os.path.join(fin["dir"], "trials.jsonl"))
    with open(fin["best"]["spec"]) as f:  # the best trial's spec, as it trained
        assert json.load(f)["format"] == "layerlab-spec"
    assert fin["best"]["spec"] == os.path.join(fin["dir"], "best-spec.json")
    print(f"{name}: {len(trials)} trials, best {fin['best']['label']} {fin['metric']} = {fin['best']['metric']:.4f}")
    return trials, fin


def by_stage(trials):
    out = {}
    for t in trials:
        out.setdefault(t["stage"], []).append(t)
    return out


def case_study_preset(name, verb="study", *extra, check=None, stages=None):
    def go():
        need_fmnist()
        trials, fin = study(verb, name, *extra)
        if stages:
            got = {k: len(v) for k, v in by_stage(trials).items()}
            assert got == stages, got
        for t in trials:
            if t["status"] == "finished":  # the study's metric, or the stage's own
                assert t["metric"] is not None, t
        if check:
            check(trials, fin)
    return go


def has_plot():
    p = run("help", check=False)
    return " report " in p.stdout + p.stderr


def check_png(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert w >= 600 and h >= 300, (path, w, h)


def check_figures(fin, names):
    """The study-finished event lists <study>/figures/NAME.png and .svg for each
    name (valid PNG, SVG that parses); `report --study` draws them again."""
    import xml.etree.ElementTree as ET
    if not has_plot():
        assert fin["figures"] == [], fin["figures"]
        return
    figdir = os.path.join(fin["dir"], "figures")
    want = sorted(os.path.join(figdir, n + ext) for n in names for ext in (".png", ".svg"))
    assert sorted(fin["figures"]) == want, (fin["figures"], want)
    for path in want:
        if path.endswith(".png"):
            check_png(path)
        else:
            assert ET.parse(path).getroot().tag.endswith("svg"), path
    for path in want:
        os.remove(path)
    p = run("report", "--study", fin["study_id"], "--store", STORE)
    assert sorted(p.stdout.split()) == want, p.stdout
    for path in want:
        check_png(path) if path.endswith(".png") else ET.parse(path)
    bad = run("report", "--study", "no-such-study", "--store", STORE, check=False)
    assert bad.returncode == 1 and "no-such-study" in bad.stderr, bad.stderr
    print("figures:", ", ".join(os.path.basename(p) for p in want))


def check_ae_sweep(trials, fin):
    # one axis: the reconstruction error against the bottleneck size; no heatmap
    check_figures(fin, ["metric", "curves"])


def check_even_odd(trials, fin):
    check_figures(fin, ["metric", "curves"])  # a bar per stage's trial


def check_arch(trials, fin):
    depth = [t for t in trials if t["stage"] == "depth"]
    for t in depth:
        assert abs(t["params"] - 100000) <= 2000, t["params"]
        assert t["param_budget"] == 100000, t
    linear = [t for t in trials if t["stage"] == "linear"][0]
    assert linear["params"] == 7850, linear["params"]


def check_changepoint(trials, fin):
    for model in ("lstm", "conv"):
        path = os.path.join(fin["dir"], f"detection-{model}.csv")
        with open(path) as f:
            rows = f.read().strip().splitlines()
        assert rows[0] == "sample,step,target,output", rows[0]
        assert len(rows) == 1 + 8 * 50, len(rows)
        probs = [float(r.split(",")[3]) for r in rows[1:]]
        assert all(0.0 <= p <= 1.0 for p in probs)
    check_figures(fin, ["metric", "curves", "detection"])


def check_embeddings(trials, fin):
    d = os.path.join(fin["dir"], "embeddings")
    for f in ("train_features.npy", "train_labels.npy", "test_features.npy", "test_labels.npy"):
        assert os.path.getsize(os.path.join(d, f)) > 128, f
    mlp = [t for t in trials if t["stage"] == "mlp"][0]
    assert mlp["metrics"]["test_accuracy"] > 0.1, mlp["metrics"]


def check_cifar(trials, fin):
    long = [t for t in trials if t["stage"] == "long"][0]
    assert "training.schedule" in long["values"], long["values"]


def check_rotation(trials, fin):
    proxy = [t for t in trials if t["stage"] == "proxy"][0]
    assert "test_accuracy" in proxy["metrics"]
    assert [t["values"]["value"] for t in trials if t["stage"] == "frozen"] == [1, 2, 3]


def case_spec_preset(name, metrics, errors=()):
    """A preset trained shortened: each metric (an accuracy) in [0, 1], each
    error (a regression head's MSE) >= 0."""
    def go():
        need_fmnist()
        evs, fin = train(os.path.join(PRESETS, name + ".json"), *SHORT)
        for m in metrics:
            assert m in fin and 0.0 <= fin[m] <= 1.0, (m, fin)
        for m in errors:
            assert m in fin and fin[m] >= 0.0, (m, fin)
        print(name, {m: fin[m] for m in list(metrics) + list(errors)})
    return go


def case_binary_report():
    """A binary classifier (fmnist-ann made even / odd with one logit): the
    final metrics carry precision, recall, F1 and the ROC AUC, the text
    output prints the 2 x 2 matrix and the AUC, and `report` draws it."""
    need_fmnist()
    spec = json.load(open(os.path.join(PRESETS, "fmnist-ann.json")))
    head = spec["losses"][0]["output"]
    for b in spec["graph"]["blocks"]:
        if b["name"] == head:
            b["props"]["out_features"] = 1
    spec["losses"] = [{"output": head, "target": "mapped", "type": "bce_logits"}]
    spec["data"]["label_map"] = "even-odd"
    path = os.path.join(STORE, "even-odd-binary.json")
    json.dump(spec, open(path, "w"))
    _, fin = train(path, *SHORT)
    for m in ("test_precision", "test_recall", "test_f1", "test_auc", "test_accuracy"):
        assert m in fin and 0.0 <= fin[m] <= 1.0, (m, fin)
    assert fin["test_auc"] > 0.6, fin
    text = run("train", path, "--out", STORE, *SHORT).stdout
    assert "confusion (row = true class)" in text and "ROC AUC" in text, text
    pdf = os.path.join(STORE, "binary.pdf")
    run("report", fin["run_id"], "--out", pdf, "--store", STORE)
    assert os.path.getsize(pdf) > 1000
    print("binary", {m: fin[m] for m in ("test_accuracy", "test_f1", "test_auc")})


def case_transfer():
    """`layerlab transfer`: a run's checkpoint against its own spec (all
    match), against a renamed and narrower copy (map, mismatch, missing),
    and the errors that name the run, the file and the block."""
    need_fmnist()
    tiny = os.path.join(PRESETS, "tiny-cnn.json")
    _, fin = train(tiny, *SHORT)
    ref = "run:" + fin["run_id"]
    rows = events(run("transfer", tiny, "--from", ref, "--out", STORE, "--jsonl").stdout)
    assert rows and all(r["status"] == "match" for r in rows), rows
    spec = json.load(open(tiny))
    for b in spec["graph"]["blocks"]:
        b["inputs"] = ["stem" if i == "conv1" else i for i in b.get("inputs", [])]
        if b["name"] == "conv1":
            b["name"] = "stem"
        if b["name"] == "logits":
            b["props"]["out_features"] = 5
    spec["graph"]["blocks"].append({"name": "extra", "type": "Linear", "inputs": ["logits"],
                                    "props": {"out_features": 2}})
    other = os.path.join(STORE, "renamed.json")
    json.dump(spec, open(other, "w"))
    rows = events(run("transfer", other, "--from", ref, "--out", STORE, "--jsonl",
                      "--map", "conv1=stem").stdout)
    by = {(r["graph"], r["file"]): r for r in rows}
    assert by[("stem.weight", "conv1.weight")]["status"] == "match", rows
    assert by[("logits.weight", "logits.weight")]["status"] == "shape mismatch", rows
    assert by[("logits.weight", "logits.weight")]["file_shape"] == "(10, 16)", rows
    assert by[("extra.weight", None)]["status"] == "missing in file", rows
    rows = events(run("transfer", other, "--from", ref, "--out", STORE, "--jsonl").stdout)
    assert {r["status"] for r in rows if r["file"] == "conv1.weight"} == {"not in graph"}, rows
    text = run("transfer", other, "--from", ref, "--out", STORE, "--map", "conv1=stem",
               "--blocks", "stem").stdout
    assert "1 match" in text and "not taken" in text, text
    bad = run("transfer", other, "--from", "run:nope", "--out", STORE, check=False)
    assert bad.returncode == 1 and "nope" in bad.stderr, bad.stderr
    bad = run("transfer", other, "--from", ref, "--out", STORE, "--blocks", "zz", check=False)
    assert bad.returncode == 1 and '"zz"' in bad.stderr, bad.stderr
    bad = run("transfer", other, "--from", ref, "--out", STORE, "--map", "conv9=stem", check=False)
    assert bad.returncode == 1 and '"conv9"' in bad.stderr and fin["run_id"] in bad.stderr, bad.stderr
    bad = run("transfer", other, "--from", "/nonexistent.safetensors", check=False)
    assert bad.returncode == 1 and "/nonexistent.safetensors" in bad.stderr, bad.stderr
    print("transfer ok")


def case_sweep_cli():
    need_fmnist()
    p = run("sweep", SMALL, "--axis", "training.optimizer.lr=0.01,0.001", "--range",
            "training.batch_size=32:64", "--random", "--trials", "3", "--jsonl", "--out", STORE, *SHORT)
    evs = events(p.stdout)
    fin = evs[-1]
    assert fin["event"] == "study-finished" and fin["trials"] == 3, fin
    started = [e for e in evs if e["event"] == "trial-started"]
    assert len(started) == 3
    for e in started:
        assert 32 <= e["values"]["training.batch_size"] <= 64
    assert any(e["event"] == "trial-epoch" for e in evs)
    # resuming a finished study trains nothing
    again = events(run("sweep", "--resume", fin["study_id"], "--jsonl", "--out", STORE, *SHORT).stdout)
    assert not [e for e in again if e["event"] == "trial-started"], again
    assert again[-1]["trials"] == 3
    # the terminal table and the two-axis heatmap
    text = run("sweep", SMALL, "--axis", "training.optimizer.lr=0.01,0.001", "--axis",
               "training.batch_size=32,64", "--out", STORE, *SHORT).stdout
    assert "rows: training.optimizer.lr, columns: training.batch_size" in text, text
    assert "best: trial" in text
    bad = run("sweep", SMALL, "--axis", "graph.blocks.nosuch.props.out_features=3", "--out", STORE,
              *SHORT, check=False)
    assert bad.returncode == 1 and "graph.blocks.nosuch.props.out_features" in bad.stdout + bad.stderr
    # --repeats: every trial over seeds, a results.csv row per seed, a table ranked by the mean
    p = run("sweep", SMALL, "--axis", "training.optimizer.lr=0.01,0.001", "--repeats", "2",
            "--jsonl", "--out", STORE, *SHORT)
    evs = events(p.stdout)
    done = [e for e in evs if e["event"] == "trial-finished"]
    assert len(done) == 4 and evs[-1]["trials"] == 4, evs[-1]
    assert [e["repeat"] for e in done] == [0, 1, 0, 1], done
    assert done[1]["seed"] == done[0]["seed"] + 1 and done[2]["seed"] == done[0]["seed"], done
    assert all(e["epochs"] == 1 and 0 < e["samples"] <= 600 for e in done), done
    with open(evs[-1]["results"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["seed"] for r in rows} == {str(done[0]["seed"]), str(done[1]["seed"])}, rows
    text = run("sweep", SMALL, "--axis", "training.optimizer.lr=0.01,0.001", "--repeats", "2",
               "--out", STORE, *SHORT).stdout
    assert "(over seeds)" in text and "mean \u00b1 sd over 2 seeds" in text, text
    bad = run("study", SMALL, "--repeats", "101", "--out", STORE, check=False)
    assert bad.returncode == 2, bad.stderr
    print("sweep CLI ok")


def case_loss_mismatch():
    """A graph whose output does not fit its loss is refused before training
    (exit 2) with the block and the fix named; fixed, it trains."""
    need_fmnist()
    spec = json.load(open(os.path.join(PRESETS, "tiny-cnn.json")))
    blocks = spec["graph"]["blocks"]
    # Input -> Conv2d -> ReLU -> MaxPool2d -> Conv2d -> ReLU -> Linear(10), no Flatten
    spec["graph"]["blocks"] = [
        next(b for b in blocks if b["type"] == "Input"),
        {"name": "conv1", "type": "Conv2d", "inputs": ["image"], "props": {"out_channels": 8}},
        {"name": "relu1", "type": "ReLU", "inputs": ["conv1"]},
        {"name": "pool", "type": "MaxPool2d", "inputs": ["relu1"]},
        {"name": "conv2", "type": "Conv2d", "inputs": ["pool"], "props": {"out_channels": 16}},
        {"name": "relu2", "type": "ReLU", "inputs": ["conv2"]},
        {"name": "linear1", "type": "Linear", "inputs": ["relu2"], "props": {"out_features": 10}},
    ]
    spec["losses"] = [{"output": "linear1", "target": "label", "type": "cross_entropy"}]
    spec.pop("record", None)
    spec.pop("positions", None)
    d = tempfile.mkdtemp(prefix="ll-e2e-spec-")
    path = os.path.join(d, "no-flatten.json")
    json.dump(spec, open(path, "w"))
    p = run("train", path, "--epochs", "1", "--limit", "600", "--out", STORE, check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "insert Flatten before linear1" in p.stderr, p.stderr
    assert "epoch 1/" not in p.stdout, p.stdout
    # the JSON-lines form says the same
    p = run("train", path, "--epochs", "1", "--limit", "600", "--jsonl", "--out", STORE, check=False)
    assert p.returncode == 2 and "insert Flatten before linear1" in events(p.stdout)[-1]["error"]
    # a wrong class count names the width to set
    spec["graph"]["blocks"][-1:] = [
        {"name": "flat", "type": "Flatten", "inputs": ["relu2"]},
        {"name": "linear1", "type": "Linear", "inputs": ["flat"], "props": {"out_features": 7}},
    ]
    json.dump(spec, open(path, "w"))
    p = run("train", path, "--epochs", "1", "--limit", "600", "--out", STORE, check=False)
    assert p.returncode == 2 and "out_features must be 10 for 10 classes" in p.stderr, p.stderr
    spec["graph"]["blocks"][-1]["props"]["out_features"] = 10
    json.dump(spec, open(path, "w"))
    train(path, "--epochs", "1", "--limit", "600")
    print("loss mismatch ok")


CASES.update({
    "loss-mismatch": case_loss_mismatch,
    "sweep-cli": case_sweep_cli,
    "transfer": case_transfer,
    "preset-even-odd-transfer": case_study_preset(
        "even-odd-transfer", check=check_even_odd,
        stages={"pretrain": 1, "frozen": 1, "finetuned": 1, "scratch": 1}),
    "preset-encoder-reuse": case_study_preset(
        "encoder-reuse", stages={"pretrain": 1, "trained-frozen": 1, "trained-finetuned": 1,
                                 "random-frozen": 1, "random-finetuned": 1}),
    "preset-rotation-transfer": case_study_preset(
        "rotation-transfer", check=check_rotation,
        stages={"proxy": 1, "frozen": 3, "finetuned": 3, "scratch": 1}),
    "preset-mnist-arch-search": case_study_preset(
        "mnist-arch-search", check=check_arch,
        stages={"linear": 1, "depth": 3, "optimizer": 4, "activation": 4, "cnn": 1}),
    "preset-ae-bottleneck-sweep": case_study_preset("ae-bottleneck-sweep", "sweep", "--trials", "4",
                                                    check=check_ae_sweep, stages={"sweep": 4}),
    "preset-changepoint": case_study_preset("changepoint", check=check_changepoint,
                                            stages={"lstm": 1, "conv": 1}),
    "preset-cifar-best": case_study_preset("cifar-best", check=check_cifar,
                                           stages={"short": 3, "long": 1}),
    "preset-embeddings-mlp": case_study_preset("embeddings-mlp", check=check_embeddings,
                                               stages={"encoder": 1, "mlp": 1}),
    "preset-fmnist-search": case_study_preset("fmnist-search", "sweep", "--trials", "6",
                                              stages={"sweep": 6}),
    "binary-report": case_binary_report,
    "preset-seq-memory": case_spec_preset("seq-memory", [
        "test_accuracy", "test_answers.appeared_accuracy", "test_answers.then_next_accuracy"]),
    "preset-two-input-sum": case_spec_preset("two-input-sum", [
        "test_accuracy", "test_digit_accuracy", "test_sum_accuracy"], ["test_sum_mse"]),
    "preset-tiny-cnn": case_spec_preset("tiny-cnn", ["test_accuracy"]),
    "preset-fmnist-ann": case_spec_preset("fmnist-ann", ["test_accuracy"]),
    "preset-fmnist-cnn": case_spec_preset("fmnist-cnn", ["test_accuracy"]),
    "preset-ae-pretrain": case_spec_preset("ae-pretrain", []),
})


# ---- input LayerLab does not trust: files and ids that must not write elsewhere,
# ---- nesting that overflowed json-glib's stack, guesses and warnings that hid faults

def blobs_spec(classes=3, features=2, hidden=8, losses=True):
    blocks = [{"name": "x", "type": "Input", "props": {"shape": [features]}},
              {"name": "fc1", "type": "Linear", "inputs": ["x"], "props": {"out_features": hidden}},
              {"name": "act1", "type": "ReLU", "inputs": ["fc1"]},
              {"name": "out", "type": "Linear", "inputs": ["act1"], "props": {"out_features": classes}}]
    spec = {"format": "layerlab-spec", "version": 1, "name": "blobs", "graph": {"blocks": blocks},
            "data": {"dataset": {"kind": "synthetic", "generator": "blobs", "n": 300, "test_n": 100,
                                 "classes": classes, "features": features, "noise": 0.3},
                     "normalize": "none"},
            "training": {"epochs": 1, "batch_size": 50, "seed": 3, "threads": 1}}
    if losses:
        spec["losses"] = [{"output": "out", "target": "label", "type": "cross_entropy"}]
    return spec


def write_json(name, obj):
    path = os.path.join(STORE, name)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def fails(p, *needles):
    """Exit 1 (not a crash), one clear message, no Json-CRITICAL warning."""
    text = p.stdout + p.stderr
    assert p.returncode == 1, (p.returncode, text[-2000:])
    assert "CRITICAL" not in text, text[-2000:]
    for n in needles:
        assert n in text, (n, text[-2000:])


def safetensors_with_spec(path, spec_text):
    import struct
    header = json.dumps({"__metadata__": {"spec": spec_text}}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)


def case_safe_input():
    spec_path = write_json("blobs.json", blobs_spec())
    # 3. nesting: 100,000 arrays overflowed the stack (exit 139) in summary, study and eval
    deep = "[" * 100000 + "]" * 100000
    fails(run("summary", write_json("deep.json", '{"graph":' + deep + "}"), check=False),
          "deep.json:1:137: nested deeper than 128")
    fails(run("study", write_json("deep-study.json", deep), "--out", STORE, check=False),
          "nested deeper than 128")
    ckpt = os.path.join(STORE, "deep.safetensors")
    safetensors_with_spec(ckpt, deep)
    fails(run("eval", ckpt, "--out", STORE, check=False), "nested deeper than 128")
    # 8. a block name holding \u0000 was cut short silently
    spec = blobs_spec()
    spec["graph"]["blocks"][1]["name"] = "fc1\u0000evil"
    fails(run("summary", write_json("nul.json", spec), check=False), "\\u0000")

    # 1. study files name paths inside their folder only
    victim = os.path.join(STORE, "victim.txt")
    with open(victim, "w") as f:
        f.write("keep me\n")
    rel = os.path.relpath(victim, os.path.join(STORE, "studies", "x"))  # from a study folder
    for bad, why in ((rel, '".." component'), (victim, "absolute path"),
                     ("results.csv", "own results.csv")):
        study = {"format": "layerlab-study", "version": 1, "spec": spec_path,
                 "stages": [{"name": "a", "export_outputs": {"block": "out", "path": bad}}]}
        fails(run("study", write_json("escape.json", study), "--out", STORE, check=False),
              "stages[0].export_outputs.path", why)
    with open(victim) as f:
        assert f.read() == "keep me\n"
    # ids from the command line are ids, not paths
    elsewhere = tempfile.mkdtemp(prefix="ll-e2e-elsewhere-")
    os.makedirs(os.path.join(STORE, "studies"), exist_ok=True)
    bad_id = os.path.relpath(elsewhere, os.path.join(STORE, "studies"))
    ok_study = write_json("ok.json", {"format": "layerlab-study", "version": 1, "spec": spec_path,
                                      "stages": [{"name": "a"}]})
    for args in (("study", ok_study), ("sweep",)):
        fails(run(*args, "--resume", bad_id, "--out", STORE, check=False), "is not an id of the store")
        assert os.listdir(elsewhere) == [], os.listdir(elsewhere)  # study.json, trials.jsonl, ...
    fails(run("eval", "../../x", "--out", STORE, check=False), "is not an id of the store")
    fails(run("train", spec_path, "--resume", "../x", "--out", STORE, check=False),
          "is not an id of the store")

    # 8. wrongly typed study fields were Json-CRITICAL warnings, ignored with exit 0
    for stage, needle in (({"export_outputs": "out"}, "stages[0].export_outputs: expected an object"),
                          ({"export_embeddings": ["out"]}, "stages[0].export_embeddings: expected an object")):
        study = {"format": "layerlab-study", "version": 1, "spec": spec_path,
                 "stages": [dict({"name": "a"}, **stage)]}
        fails(run("study", write_json("typed.json", study), "--out", STORE, check=False),
              "typed.json:", needle)
    study = {"format": "layerlab-study", "version": 1, "spec": spec_path,
             "groups": {"hidden": {"blocks": "fc1"}},
             "stages": [{"name": "a"}]}
    fails(run("study", write_json("groups.json", study), "--out", STORE, check=False),
          "groups.json:", "groups.hidden.blocks: expected an array")
    # 8. an NPY header without its closing quote; excerpts of a text file are short
    npy = os.path.join(STORE, "noquote.npy")
    header = "{'descr': '<f4, 'fortran_order': False, 'shape': (4, 2), }"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(npy, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(32))
    spec = blobs_spec()
    spec["data"]["dataset"] = {"kind": "npy", "train_images": npy}
    fails(run("train", write_json("npy.json", spec), "--out", STORE, check=False), "no closing quote")
    text_file = os.path.join(STORE, "notes.txt")
    with open(text_file, "w") as f:
        f.write(("secret line without commas " * 200 + "\n") * 50)
    spec["data"]["dataset"] = {"kind": "csv", "path": text_file}
    p = run("train", write_json("csv.json", spec), "--out", STORE, check=False)
    assert p.returncode == 1 and len(p.stderr) < 600, (p.returncode, len(p.stderr), p.stderr[:1000])
    assert p.stderr.count("secret") <= 3, p.stderr

    # 9. no loss given: a 2-feature, 2-class table was trained as an autoencoder
    csv = os.path.join(STORE, "two.csv")
    with open(csv, "w") as f:
        f.write("a,b,label\n" + "".join(f"{i % 7 / 7},{i % 5 / 5},{i % 2}\n" for i in range(60)))
    spec = blobs_spec(classes=2, features=2, losses=False)
    spec["data"] = {"dataset": {"kind": "csv", "path": csv, "label_column": "label"},
                    "normalize": "none"}
    spec["training"]["batch_size"] = 10
    p = run("train", write_json("two.json", spec), "--jsonl", "--out", STORE, check=False)
    fails(p, "the dataset has labels", '"losses"')
    # ... and data without labels (npy features only) is an autoencoder's
    import struct
    feats = os.path.join(STORE, "features.npy")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (200, 4), }"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(feats, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(struct.pack("<800f", *[((i * 37) % 11) / 11 for i in range(800)]))
    spec = blobs_spec(classes=4, features=4, hidden=2, losses=False)
    spec["data"] = {"dataset": {"kind": "npy", "train_images": feats}, "normalize": "none"}
    spec["training"]["batch_size"] = 20
    evs, fin = train(write_json("ae.json", spec))
    assert any("an autoencoder" in e.get("message", "") for e in evs if e["event"] == "log"), evs[:5]
    assert "test_loss" in fin and "test_accuracy" not in fin, fin

    # 1. outputs named on the command line: never replaced without --force
    _, fin = train(spec_path)
    if has_plot():
        pdf = os.path.join(STORE, "report.pdf")
        with open(pdf, "w") as f:
            f.write("mine")
        fails(run("report", fin["run_id"], "--store", STORE, "--out", pdf, check=False), "--force")
        assert open(pdf).read() == "mine"
        run("report", fin["run_id"], "--store", STORE, "--out", pdf, "--force")
        assert open(pdf, "rb").read(4) == b"%PDF"
        figs = os.path.join(STORE, "figs")
        os.makedirs(figs)
        with open(os.path.join(figs, "loss.png"), "w") as f:
            f.write("mine")
        fails(run("export", fin["run_id"], "--store", STORE, "--dir", figs, check=False), "loss.png", "--force")
        assert open(os.path.join(figs, "loss.png")).read() == "mine"
        run("export", fin["run_id"], "--store", STORE, "--dir", figs, "--force")
        check_png(os.path.join(figs, "loss.png"))
        assert "--force" in run("help").stdout
    print("safe input ok")


CASES["safe-input"] = case_safe_input


def case_run_names():
    """Runs are named after their spec (its name, else its file) and a sweep's
    trials after the study and their settings; `runs` renames them and sets
    their notes and tags, and shows them."""
    unnamed = blobs_spec()
    del unnamed["name"]
    train(write_json("my-blobs.json", unnamed))
    p = run("sweep", write_json("blobs.json", blobs_spec()), "--axis",
            "training.optimizer.lr=0.01,0.001", "--jsonl", "--out", STORE)
    assert events(p.stdout)[-1]["event"] == "study-finished", p.stdout[-2000:]
    runs = json.loads(run("runs", "--json", "--out", STORE).stdout)
    names = sorted(r["name"] for r in runs)
    assert names == ["my-blobs", "sweep-blobs / trial 1: lr 0.01",
                     "sweep-blobs / trial 2: lr 0.001"], names
    plain = [r for r in runs if r["name"] == "my-blobs"][0]
    assert plain["notes"] is None and plain["tags"] == [], plain
    rid = plain["id"]
    run("runs", "--out", STORE, "--rename", rid, "blobs baseline")
    run("runs", "--out", STORE, "--note", rid, "first try\nnoise 0.3")
    run("runs", "--out", STORE, "--tag", rid, "baseline, keep")
    run("runs", "--out", STORE, "--tag", rid, "paper")
    run("runs", "--out", STORE, "--untag", rid, "keep")
    mine = [r for r in json.loads(run("runs", "--json", "--out", STORE).stdout) if r["id"] == rid][0]
    assert mine["name"] == "blobs baseline", mine
    assert mine["notes"] == "first try\nnoise 0.3", mine
    assert mine["tags"] == ["baseline", "paper"], mine
    table = run("runs", "--out", STORE).stdout
    line = [l for l in table.splitlines() if l.startswith(rid)][0]
    assert "blobs baseline [baseline, paper]" in line, line
    assert "first try" in table and "noise 0.3" in table, table
    assert "sweep-blobs / trial 2: lr 0.001" in table, table
    # what cannot be done says why, exit 1; a bad command line, exit 2
    fails(run("runs", "--out", STORE, "--rename", "20250101-000000-ffff", "x", check=False),
          "no run \"20250101-000000-ffff\"")
    fails(run("runs", "--out", STORE, "--rename", rid, "two\nlines", check=False), "one line")
    fails(run("runs", "--out", STORE, "--rename", "../x", "y", check=False), "run id")
    assert run("runs", "--out", STORE, "--rename", rid, check=False).returncode == 2
    assert run("runs", "--out", STORE, "--rename", rid, "a", "--tag", rid, "b",
               check=False).returncode == 2
    # "" clears: the run is shown by its spec again in the window ("(unnamed)" here)
    run("runs", "--out", STORE, "--rename", rid, "")
    mine = [r for r in json.loads(run("runs", "--json", "--out", STORE).stdout) if r["id"] == rid][0]
    assert mine["name"] is None, mine
    print("run names ok")


CASES["run-names"] = case_run_names

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except AssertionError as e:
        print("FAILED:", e)
        sys.exit(1)
