#!/usr/bin/python3
"""Training and inference throughput of LayerLab against PyTorch, same machine, same run.

For each reference model of torch_reference.py (mlp, the tiny CNN, the conv autoencoder) it runs
one epoch of `layerlab train tests/bench/MODEL.json --epochs 1 --jsonl` and torch_reference.py
with --threads 1, --threads 2 and OPENBLAS_NUM_THREADS=1 --threads 2, takes PyTorch's best
configuration per model, and prints (and with --markdown writes) a table of images per second for
training and inference and their ratio, plus the peak resident memory of both processes on the
tiny CNN (GNU time's %M). Runs are interleaved model by model and repeated (--repeat), and the best
of the repeats is kept on both sides, so a load spike from another process hurts neither side
more than the other.

Usage: /usr/bin/python3 tests/bench/bench-train.py [--build build] [--repeat 2] [--models mlp,cnn,ae]
           [--subset N] [--baseline OTHER_BUILD] [--markdown FILE] [--json FILE]
--subset N trains on the first N training images (and tests on the first N/6 test images) for a
quick look; leave it out for the numbers to report. --baseline runs a second LayerLab build (an
older commit, say) in the same interleaved loop and adds its numbers to the table.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# the project notes sit beside the checkout (../shared); LAYERLAB_TORCH_REFERENCE overrides
TORCH_REF = os.environ.get("LAYERLAB_TORCH_REFERENCE",
                           os.path.join(ROOT, "..", "shared", "bench", "torch_reference.py"))
DATA = "/usr/share/datasets/fashion-mnist"
TORCH_CONFIGS = [("threads=1", {}, 1), ("threads=2", {}, 2),
                 ("threads=2 OPENBLAS=1", {"OPENBLAS_NUM_THREADS": "1"}, 2)]
TIME = "/usr/bin/time"


def json_objects(text):
    """The JSON objects in text, one per line or pretty-printed back to back."""
    dec = json.JSONDecoder()
    i, out = 0, []
    while i < len(text):
        j = text.find("{", i)
        if j < 0:
            break
        try:
            obj, end = dec.raw_decode(text, j)
        except json.JSONDecodeError:
            i = j + 1
            continue
        out.append(obj)
        i = end
    return out


def timed(cmd, env=None, tries=3):
    """Runs cmd under GNU time; returns (stdout, peak RSS in KiB). A run killed by a signal
    (on a shared machine, someone else's clean-up) is tried again."""
    for attempt in range(tries):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            p = subprocess.run([TIME, "-o", tf.name, "-f", "%M"] + cmd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            lines = [l for l in tf.read().split("\n") if l.strip().isdigit()]
        if p.returncode == 0:
            return p.stdout, int(lines[-1]) if lines else 0
        print(f"bench-train: {' '.join(cmd)} failed ({p.returncode}), attempt {attempt + 1} of "
              f"{tries}:\n{p.stderr[-500:]}", file=sys.stderr, flush=True)
    sys.exit(f"bench-train: giving up on {' '.join(cmd)}")


def run_layerlab(exe, spec, outdir):
    out, rss = timed([exe, "train", spec, "--epochs", "1", "--jsonl", "--out", outdir])
    fin = [o for o in json_objects(out) if o.get("event") == "finished"]
    if not fin:
        sys.exit(f"bench-train: no finished event from {spec}:\n{out[-2000:]}")
    f = fin[-1]
    return {"train": f["images_per_second"], "infer": f.get("test_images_per_second", 0.0),
            "rss_kib": rss, "metric": f.get("test_accuracy", f.get("test_loss"))}


def run_torch(model, threads, extra_env, data):
    env = dict(os.environ)
    env.update(extra_env)
    out, rss = timed(["/usr/bin/python3", TORCH_REF, "--threads", str(threads), "--models", model,
                      "--data", data], env)
    m = re.search(r"train_img_per_s=(\d+) infer_img_per_s=(\d+)", out)
    if not m:
        sys.exit(f"bench-train: unexpected output from torch_reference.py:\n{out}")
    return {"train": float(m.group(1)), "infer": float(m.group(2)), "rss_kib": rss}


def write_subset(src, dst, n):
    """The first n training and n // 6 test images of an IDX folder, gzipped, as the loaders
    of both sides read them."""
    os.makedirs(dst, exist_ok=True)
    for split, count in (("train", n), ("t10k", max(n // 6, 1))):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            with gzip.open(os.path.join(src, f"{split}-{kind}.gz"), "rb") as f:
                data = f.read()
            magic, total = struct.unpack(">II", data[:8])
            count = min(count, total)
            if magic == 2051:
                r, c = struct.unpack(">II", data[8:16])
                body = struct.pack(">IIII", magic, count, r, c) + data[16:16 + count * r * c]
            else:
                body = struct.pack(">II", magic, count) + data[8:8 + count]
            with gzip.open(os.path.join(dst, f"{split}-{kind}.gz"), "wb", compresslevel=1) as f:
                f.write(body)


def spec_for(model, data, tmp):
    path = os.path.join(HERE, model + ".json")
    if data == DATA:
        return path
    with open(path) as f:
        spec = json.load(f)
    spec["data"]["dataset"]["path"] = data
    out = os.path.join(tmp, model + ".json")
    with open(out, "w") as f:
        json.dump(spec, f)
    return out


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], text=True, stdout=subprocess.PIPE).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--models", default="mlp,cnn,ae")
    ap.add_argument("--subset", type=int, default=0)
    ap.add_argument("--baseline", help="another LayerLab build folder to time in the same run")
    ap.add_argument("--markdown", help="also write the table (markdown) to this file")
    ap.add_argument("--json", help="also write every measurement to this file")
    a = ap.parse_args()
    exe = os.path.join(a.build, "app", "layerlab")
    if not os.access(exe, os.X_OK):
        sys.exit(f"bench-train: {exe} not found: build first (ninja -C {a.build})")
    for tool in (TIME, TORCH_REF):
        if not os.path.exists(tool):
            sys.exit(f"bench-train: {tool} is missing")
    models = a.models.split(",")
    base_exe = os.path.join(a.baseline, "app", "layerlab") if a.baseline else None
    if base_exe and not os.access(base_exe, os.X_OK):
        sys.exit(f"bench-train: {base_exe} not found")
    tmp = tempfile.mkdtemp(prefix="layerlab-bench-")
    try:
        data = DATA
        if a.subset:
            data = os.path.join(tmp, "data")
            write_subset(DATA, data, a.subset)
        runs = {m: {"layerlab": [], "baseline": [], "torch": {c[0]: [] for c in TORCH_CONFIGS}}
                for m in models}
        for rep in range(a.repeat):
            for m in models:
                spec = spec_for(m, data, tmp)
                r = run_layerlab(exe, spec, os.path.join(tmp, "runs"))
                runs[m]["layerlab"].append(r)
                print(f"[{rep + 1}/{a.repeat}] {m:4s} layerlab          train {r['train']:9.0f} "
                      f"infer {r['infer']:9.0f} img/s  rss {r['rss_kib'] / 1024:6.1f} MiB",
                      flush=True)
                if base_exe:
                    r = run_layerlab(base_exe, spec, os.path.join(tmp, "runs"))
                    runs[m]["baseline"].append(r)
                    print(f"[{rep + 1}/{a.repeat}] {m:4s} layerlab baseline train {r['train']:9.0f} "
                          f"infer {r['infer']:9.0f} img/s  rss {r['rss_kib'] / 1024:6.1f} MiB",
                          flush=True)
                for name, env, threads in TORCH_CONFIGS:
                    t = run_torch(m, threads, env, data)
                    runs[m]["torch"][name].append(t)
                    print(f"[{rep + 1}/{a.repeat}] {m:4s} torch {name:20s} train {t['train']:9.0f} "
                          f"infer {t['infer']:9.0f} img/s  rss {t['rss_kib'] / 1024:6.1f} MiB",
                          flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    names = {"mlp": "MLP 784-256-128-10", "cnn": "tiny CNN (7.4k params)", "ae": "conv autoencoder"}
    rows = []
    for m in models:
        ll = runs[m]["layerlab"]
        ll_train = max(r["train"] for r in ll)
        ll_infer = max(r["infer"] for r in ll)
        best_train = max(((max(r["train"] for r in rs), c) for c, rs in runs[m]["torch"].items()))
        best_infer = max(((max(r["infer"] for r in rs), c) for c, rs in runs[m]["torch"].items()))
        rows.append((m, ll_train, best_train, ll_infer, best_infer))
    date = datetime.date.today().isoformat()
    lines = [f"Measured {date} on {cpu_name()}, {os.cpu_count()} cores; one epoch of Fashion-MNIST"
             f"{f' (first {a.subset} images)' if a.subset else ''}, batch 128, best of "
             f"{a.repeat} runs per side; PyTorch's best of {', '.join(c[0] for c in TORCH_CONFIGS)}.",
             "",
             "| model | LayerLab train img/s | PyTorch best train img/s | ratio "
             "| LayerLab inference img/s | PyTorch best inference img/s | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for m, lt, (tt, tc), li, (ti, tic) in rows:
        lines.append(f"| {names.get(m, m)} | {lt:,.0f} | {tt:,.0f} ({tc}) | {lt / tt:.2f}x "
                     f"| {li:,.0f} | {ti:,.0f} ({tic}) | {li / ti:.2f}x |")
    if base_exe:
        lines += ["", f"Baseline build ({a.baseline}), same runs:", "",
                  "| model | baseline train img/s | ratio to PyTorch | baseline inference img/s "
                  "| peak RSS MiB |", "|---|---:|---:|---:|---:|"]
        for m, lt, (tt, tc), li, (ti, tic) in rows:
            b = runs[m]["baseline"]
            bt, bi = max(r["train"] for r in b), max(r["infer"] for r in b)
            lines.append(f"| {names.get(m, m)} | {bt:,.0f} | {bt / tt:.2f}x | "
                         f"{f'{bi:,.0f}' if bi else 'n/a'} | "
                         f"{max(r['rss_kib'] for r in b) / 1024:.0f} |")
    if "cnn" in models:
        ll_rss = max(r["rss_kib"] for r in runs["cnn"]["layerlab"])
        t_rss = min(r["rss_kib"] for rs in runs["cnn"]["torch"].values() for r in rs)
        lines += ["", f"Peak resident memory training the tiny CNN: LayerLab {ll_rss / 1024:.0f} MiB, "
                  f"PyTorch {t_rss / 1024:.0f} MiB (its smallest run), ratio {ll_rss / t_rss:.2f}."]
    text = "\n".join(lines)
    print()
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"date": date, "cpu": cpu_name(), "subset": a.subset, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
