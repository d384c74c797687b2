#!/usr/bin/env python3
"""End-to-end tests of the `layerlab` command line (meson suite e2e).

Usage: test_cli.py LAYERLAB SOURCE_ROOT CASE
Each case exits 0 on success, 1 on failure, 77 to skip."""
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
    return {k: v for k, v in e.items() if k not in ("images_per_second", "elapsed", "run_id", "checkpoint")}


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

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except AssertionError as e:
        print("FAILED:", e)
        sys.exit(1)
