#!/usr/bin/env python3
"""Fault tests of the `layerlab` command line (meson suite e2e): what the
user gets when a split is empty, the disk fills up, memory runs out, the
store is read-only, a process is killed mid-epoch or mid-checkpoint, and
when several trainers write one store at once. Small synthetic data, so
each case takes a few seconds.

Usage: test_faults.py LAYERLAB SOURCE_ROOT CASE FAULT_INJECT_SO
Each case exits 0 on success, 1 on failure, 77 to skip. FAULT_INJECT_SO is
tests/e2e/fault-inject.c built as an LD_PRELOAD library (see there)."""
import json, os, resource, shutil, signal, struct, subprocess, sys, tempfile, time

LAYERLAB, ROOT, CASE, INJECT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
WORK = tempfile.mkdtemp(prefix="ll-faults-")
STORE = os.path.join(WORK, "store")
ENV = dict(os.environ, XDG_DATA_HOME=WORK, OPENBLAS_NUM_THREADS="1",
           # the injection library goes first; a sanitizer build must allow it
           ASAN_OPTIONS="verify_asan_link_order=0")


def run(*args, check=True, env=None, store=STORE, timeout=120, preexec=None):
    """layerlab ARGS (train, eval and runs get --out STORE)."""
    extra = ["--out", store] if args and args[0] in ("train", "eval", "runs") and store else []
    p = subprocess.run([LAYERLAB, *args, *extra], capture_output=True, text=True,
                       env=env or ENV, timeout=timeout, preexec_fn=preexec)
    if check and p.returncode != 0:
        sys.exit(f"layerlab {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def events(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def runs(store=STORE):
    return {r["id"]: r for r in json.loads(run("runs", "--json", store=store).stdout)}


def spec(path, data, blocks=None, epochs=4, batch=32, seed=1, **training):
    """A spec file: an MLP (or the given blocks) on data."""
    if blocks is None:
        blocks = [{"name": "x", "type": "Input", "props": {"shape": [16]}},
                  {"name": "fc1", "type": "Linear", "inputs": ["x"], "props": {"out_features": 64}},
                  {"name": "relu", "type": "ReLU", "inputs": ["fc1"]},
                  {"name": "fc2", "type": "Linear", "inputs": ["relu"], "props": {"out_features": 4}}]
    s = {"format": "layerlab-spec", "version": 1, "name": os.path.basename(path)[:-5],
         "graph": {"blocks": blocks}, "data": data,
         "losses": [{"output": blocks[-1]["name"], "target": "label", "type": "cross_entropy"}],
         "training": dict({"epochs": epochs, "batch_size": batch, "seed": seed,
                           "optimizer": {"type": "adam", "lr": 0.01}}, **training)}
    with open(path, "w") as f:
        json.dump(s, f)
    return path


def blobs(n=800, test_n=200, features=16, classes=4):
    return {"dataset": {"kind": "synthetic", "generator": "blobs", "n": n, "test_n": test_n,
                        "classes": classes, "features": features, "noise": 2.0},
            "validation_split": 0.1, "normalize": "none"}


def blobs_spec(name="blobs", **kw):
    data = blobs(**{k: kw.pop(k) for k in ("n", "test_n", "features") if k in kw})
    return spec(os.path.join(WORK, name + ".json"), data, **kw)


def train(path, *extra, **kw):
    p = run("train", path, "--jsonl", *extra, check=False, **kw)
    evs = events(p.stdout)
    return p, evs, next((e["run_id"] for e in evs if e.get("run_id")), None)


def numbers(evs):
    """The epoch and final metrics, without timings, run ids and paths."""
    drop = ("images_per_second", "test_images_per_second", "elapsed", "run_id", "checkpoint", "step")
    return [{k: v for k, v in e.items() if k not in drop}
            for e in evs if e["event"] in ("epoch", "finished")]


def metadata(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


def assert_failed_cleanly(p, *words):
    assert p.returncode not in (0, 2) and p.returncode < 128 and p.returncode >= 0, \
        (p.returncode, p.stderr[-2000:])
    for w in words:
        assert w in p.stderr, (w, p.stderr[-2000:])


# ---- an empty or tiny split ---------------------------------------------------------------

def case_empty_split():
    """A dataset too small for a test split trains and says "no test set";
    one too small to train refuses with a message; `eval` of a checkpoint
    whose data has no test split says so. Never a crash (was: SIGSEGV)."""
    def csv(name, rows):
        path = os.path.join(WORK, name)
        with open(path, "w") as f:
            f.write("a,b,label\n")
            for i in range(rows):
                f.write(f"{0.1 * i:.2f},{1 - 0.1 * i:.2f},{i % 2}\n")
        return path

    mlp = [{"name": "x", "type": "Input", "props": {"shape": [2]}},
           {"name": "fc", "type": "Linear", "inputs": ["x"], "props": {"out_features": 2}}]

    def csv_spec(rows, val, batch):
        data = {"dataset": {"kind": "csv", "path": csv(f"rows{rows}.csv", rows), "label_column": "label"},
                "validation_split": val, "normalize": "none"}
        return spec(os.path.join(WORK, f"csv{rows}-{val}.json"), data, blocks=mlp, epochs=2, batch=batch)

    # fewer than 10 rows: the 10% test split is empty; 1 row; fewer rows than a batch
    for rows, val, batch in ((4, 0.0, 2), (9, 0.0, 4), (1, 0.0, 1), (6, 0.5, 2), (3, 0.0, 3)):
        p, evs, rid = train(csv_spec(rows, val, batch))
        assert p.returncode == 0, (rows, val, p.returncode, p.stderr[-2000:])
        fin = evs[-1]
        said = any(e["event"] == "log" and "no test set" in e["message"] for e in evs)
        assert fin["event"] == "finished" and said == ("test_loss" not in fin), (said, fin)
        assert said or rows == 9, (rows, evs)  # 9 rows: a test split of one sample
        assert os.path.exists(fin["checkpoint"])
        assert runs()[rid]["status"] == "finished"
        assert os.path.exists(os.path.join(runs()[rid]["dir"], "analysis", "test.json")) == (not said)
        if rows == 4:
            ev = run("eval", fin["checkpoint"], check=False)
            assert_failed_cleanly(ev, "nothing to evaluate", "test split")
    # the splits take every sample: a clear refusal, before any run is recorded
    before = len(runs())
    p, _, _ = train(csv_spec(1, 0.5, 1))
    assert_failed_cleanly(p, "training split is empty")
    p, _, _ = train(csv_spec(3, 0.0, 8))
    assert_failed_cleanly(p, "batch_size")
    # an NPY dataset without test files, below 10 rows
    import array
    xs = os.path.join(WORK, "x.npy")
    ys = os.path.join(WORK, "y.npy")
    write_npy(xs, [0.1 * i for i in range(10)], (5, 2))
    write_npy(ys, [i % 2 for i in range(5)], (5,))
    data = {"dataset": {"kind": "npy", "train_images": xs, "train_labels": ys},
            "validation_split": 0.0, "normalize": "none"}
    p, evs, _ = train(spec(os.path.join(WORK, "npy.json"), data, blocks=mlp, epochs=1, batch=2))
    assert p.returncode == 0 and evs[-1]["event"] == "finished", (p.returncode, p.stderr[-2000:])
    print("empty and tiny splits: trained with 'no test set' or refused; runs recorded:",
          len(runs()) - before)


def write_npy(path, values, shape):
    import array
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(array.array("f", values).tobytes())


# ---- a full disk --------------------------------------------------------------------------

def mount_tmpfs(path, size):
    """A small tmpfs at path (root only); False where mounting is not allowed."""
    os.makedirs(path, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                       capture_output=True)
    return p.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def fill(path):
    """Fills the file system of path completely."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    os.close(fd)


def check_consistent(store, rid, p):
    """After a run on a disk that filled up: it either finished with all its
    files, or failed (exit status, store) without recording metrics."""
    r = runs(store).get(rid) if rid else None
    if p.returncode == 0:
        assert r and r["status"] == "finished", r
        assert r["checkpoint"] and os.path.exists(r["checkpoint"]), r
        fin = events(p.stdout)[-1]
        ev = events(run("eval", r["checkpoint"], "--jsonl", store=store).stdout)[-1]
        assert abs(ev["test_accuracy"] - fin["test_accuracy"]) < 1e-6, (ev, fin)
        return "finished"
    assert_failed_cleanly(p)
    assert "No space left on device" in p.stderr or "disk" in p.stderr or "full" in p.stderr, \
        p.stderr[-2000:]
    if r:
        assert r["status"] in ("failed", "crashed", "running"), r
        assert r["metrics"] is None, r  # never metrics of weights that were not saved
        if r["checkpoint"]:
            assert os.path.exists(r["checkpoint"]), r
    return "failed"


def case_disk_full():
    """The run store on a small file system (a 3 MiB tmpfs as root, else
    writes failing with ENOSPC through fault-inject): a failed checkpoint,
    metrics or store write fails the run, and `layerlab runs` works on a
    completely full disk."""
    big = [{"name": "x", "type": "Input", "props": {"shape": [16]}},
           {"name": "fc1", "type": "Linear", "inputs": ["x"], "props": {"out_features": 512}},
           {"name": "relu", "type": "ReLU", "inputs": ["fc1"]},
           {"name": "fc2", "type": "Linear", "inputs": ["relu"], "props": {"out_features": 512}},
           {"name": "relu2", "type": "ReLU", "inputs": ["fc2"]},
           {"name": "fc3", "type": "Linear", "inputs": ["relu2"], "props": {"out_features": 4}}]
    path = spec(os.path.join(WORK, "big.json"), blobs(n=400, test_n=100), blocks=big, epochs=3)
    small = blobs_spec("small", epochs=5)
    mnt = os.path.join(WORK, "mnt")
    real = mount_tmpfs(mnt, "3m")
    try:
        store = os.path.join(mnt, "store")
        env = ENV
        if not real:
            print("no tmpfs (not root): ENOSPC from fault-inject")
            env = dict(ENV, LD_PRELOAD=INJECT, LL_FAULT_FULL_UNDER=mnt, LL_FAULT_FULL_AFTER="3000000")
        # a checkpoint (3.2 MB with the optimizer state) larger than the disk
        p, evs, rid = train(path, store=store, env=env)
        assert check_consistent(store, rid, p) == "failed"
        assert "No space left on device" in p.stderr and "last.safetensors" in p.stderr, p.stderr
        # (recorded as failed, or crashed where the store itself could not be written)
        assert runs(store)[rid]["status"] in ("failed", "crashed"), runs(store)[rid]
        assert not [e for e in evs if e["event"] == "finished"], evs
        # the disk fills up at every point of a small run in turn
        outcomes = []
        for budget in range(40_000, 400_000, 30_000):
            if real:
                umount(mnt)
                mount_tmpfs(mnt, "3m")
                with open(os.path.join(mnt, "filler"), "wb") as f:
                    f.write(b"\0" * (3 * 1024 * 1024 - budget))
            else:
                shutil.rmtree(mnt, ignore_errors=True)
                os.makedirs(mnt)
                env = dict(env, LL_FAULT_FULL_AFTER=str(budget))
            p, evs, rid = train(small, store=store, env=env)
            outcomes.append(check_consistent(store, rid, p))
        assert "failed" in outcomes, outcomes
        # completely full: reading the store works, training says why it cannot
        if real:
            fill(mnt)
        else:
            env = dict(env, LL_FAULT_FULL_AFTER="0")
        listed = json.loads(run("runs", "--json", store=store, env=env).stdout)
        assert listed, listed
        p, _, _ = train(small, store=store, env=env)
        assert_failed_cleanly(p)
        print("disk full:", "tmpfs" if real else "fault-inject", "outcomes", outcomes)
        print("last failure:", p.stderr.strip().splitlines()[-1])
    finally:
        if real:
            umount(mnt)


# ---- out of memory, and sizes from a tampered run folder -------------------------------------

def sanitized():
    p = subprocess.run(["ldd", LAYERLAB], capture_output=True, text=True)
    return "libasan" in p.stdout or "libtsan" in p.stdout


def case_oom():
    """A conv net whose kernel scratch (576 MiB) does not fit under a 1 GB
    address space, and a run folder whose analysis/test.json claims 100,000
    classes: errors that say what was too big (were: abort, exit 134 and
    133)."""
    if sanitized():
        print("a sanitizer build reserves more address space than the limit")
        sys.exit(77)
    wide = [{"name": "x", "type": "Input", "props": {"shape": [16384]}},
            {"name": "r", "type": "Reshape", "inputs": ["x"], "props": {"shape": [1024, 4, 4]}},
            {"name": "conv", "type": "Conv2d", "inputs": ["r"],
             "props": {"out_channels": 1024, "kernel": 3, "padding": 1}},
            {"name": "f", "type": "Flatten", "inputs": ["conv"]},
            {"name": "fc", "type": "Linear", "inputs": ["f"], "props": {"out_features": 4}}]
    path = spec(os.path.join(WORK, "wide-conv.json"), blobs(n=64, test_n=16, features=16384),
                blocks=wide, epochs=1, batch=16, optimizer={"type": "sgd", "lr": 0.01})

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1_000_000_000, 1_000_000_000))

    p, evs, rid = train(path, preexec=limit, env=dict(ENV, OMP_NUM_THREADS="1"))
    assert_failed_cleanly(p, "out of memory for", "MiB) of CPU kernel scratch")
    assert runs()[rid]["status"] == "failed", runs()[rid]
    print("conv under 1 GB:", p.stderr.strip().splitlines()[-1])

    # a finished run whose analysis/test.json is tampered with
    _, evs, rid = train(blobs_spec("small", epochs=1))
    test_json = os.path.join(runs()[rid]["dir"], "analysis", "test.json")
    with open(test_json) as f:
        doc = json.load(f)
    doc["n_classes"] = 100000
    doc["confusion"] = [[] for _ in range(100000)]
    with open(test_json, "w") as f:
        json.dump(doc, f)
    if " report " not in run("help", check=False).stdout + run("help", check=False).stderr:
        print("no report verb (built without the plot library)")
        return
    for verb, extra in (("report", ["--out", os.path.join(WORK, "r.pdf")]),
                        ("export", ["--dir", os.path.join(WORK, "figures")])):
        p = run(verb, rid, "--store", STORE, *extra, check=False, store=None)
        assert_failed_cleanly(p, "test.json", "\"confusion\" has a row that is not n_classes numbers")
    print("tampered test.json:", p.stderr.strip())


# ---- a read-only store ------------------------------------------------------------------------

def case_read_only():
    """A store that cannot be written (a read-only tmpfs as root, a folder
    without write permission otherwise): reading verbs work, writing verbs
    fail naming the folder (was: "unable to open database file" for all)."""
    mnt = os.path.join(WORK, "ro")
    real = mount_tmpfs(mnt, "64m")
    if not real and os.geteuid() == 0:
        print("root without mount: a read-only store cannot be made")
        sys.exit(77)
    store = os.path.join(mnt, "store")
    try:
        small = blobs_spec("small", epochs=2)
        _, evs, rid = train(small, store=store)
        fin = evs[-1]
        assert fin["event"] == "finished", evs
        if real:
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        else:
            for d, _, files in os.walk(store):
                for name in files + [""]:
                    os.chmod(os.path.join(d, name), 0o555 if not name else 0o444)
        listed = runs(store)
        assert listed[rid]["status"] == "finished", listed
        ev = events(run("eval", rid, "--jsonl", store=store).stdout)[-1]
        assert abs(ev["test_accuracy"] - fin["test_accuracy"]) < 1e-6, (ev, fin)
        ev = events(run("eval", fin["checkpoint"], "--jsonl", store=store).stdout)[-1]
        assert ev["event"] == "finished", ev
        if " report " in run("help", check=False).stdout + run("help", check=False).stderr:
            pdf = os.path.join(WORK, "ro.pdf")
            run("report", rid, "--store", store, "--out", pdf, store=None)
            assert os.path.getsize(pdf) > 1000
            run("export", rid, "--store", store, "--dir", os.path.join(WORK, "fig"), store=None)
        p, _, _ = train(small, store=store)
        assert_failed_cleanly(p, "not writable", store)
        p = run("train", small, "--resume", rid, store=store, check=False)
        assert_failed_cleanly(p, "not writable", store)
        print("read-only store:", p.stderr.strip().splitlines()[-1])
    finally:
        if real:
            umount(mnt)
        else:
            for d, dirs, _ in os.walk(WORK):
                os.chmod(d, 0o755)


# ---- kill -9, leftovers and bookkeeping ------------------------------------------------------

def inject(**kw):
    return dict(ENV, LD_PRELOAD=INJECT, **{k: str(v) for k, v in kw.items()})


def straight(path, epochs):
    """The numbers of an uninterrupted run."""
    p, evs, _ = train(path, "--epochs", str(epochs))
    assert p.returncode == 0, p.stderr
    return numbers(evs)


def check_resume(path, rid, epochs, want):
    """--resume RID continues after the checkpoint's epoch with the numbers
    of the uninterrupted run."""
    ckpt = os.path.join(runs()[rid]["dir"], "last.safetensors")
    done = int(metadata(ckpt)["epoch"])
    p, evs, _ = train(path, "--epochs", str(epochs), "--resume", rid)
    assert p.returncode == 0, p.stderr
    got = numbers(evs)
    assert [e["epoch"] for e in got if e["event"] == "epoch"] == list(range(done + 1, epochs + 1))
    assert got == want[done:], (got, want[done:])
    return done


def check_crashed(rid, want_checkpoint):
    d = os.path.join(STORE, "runs", rid)
    r = runs()[rid]  # opening the store marks it crashed and removes its temporaries
    assert r["status"] == "crashed", r
    assert not [f for f in os.listdir(d) if ".tmp-" in f], os.listdir(d)
    if want_checkpoint:
        assert r["checkpoint"] == os.path.join(d, "last.safetensors"), r
    else:
        assert r["checkpoint"] is None, r
    lines = []
    if os.path.exists(os.path.join(d, "metrics.jsonl")):
        with open(os.path.join(d, "metrics.jsonl")) as f:
            lines = [json.loads(line) for line in f]  # every line whole
    return r, lines


def case_kill_checkpoint():
    """kill -9 in the middle of writing a checkpoint (fault-inject): the one
    before it survives, the temporary file is removed when the store next
    opens, the crashed run names its last.safetensors, and --resume gives the
    uninterrupted numbers. Killed in its very first checkpoint, --resume
    fails cleanly and adds no run."""
    path = blobs_spec("small", epochs=4)
    want = straight(path, 4)
    size = os.path.getsize(os.path.join(runs()[max(runs())]["dir"], "last.safetensors"))
    p, evs, rid = train(path, "--epochs", "4",
                        env=inject(LL_FAULT_KILL_MATCH="last.safetensors.tmp",
                                   LL_FAULT_KILL_AFTER=size + size // 2))
    assert p.returncode == -signal.SIGKILL, (p.returncode, p.stderr)
    d = os.path.join(STORE, "runs", rid)
    assert [f for f in os.listdir(d) if ".tmp-" in f], os.listdir(d)  # killed mid-write
    _, lines = check_crashed(rid, True)
    assert [e["epoch"] for e in lines] == [1], lines
    done = check_resume(path, rid, 4, want)
    assert done == 1, done
    # killed in the first checkpoint: nothing to resume, and no run added
    p, _, rid = train(path, env=inject(LL_FAULT_KILL_MATCH="last.safetensors.tmp",
                                       LL_FAULT_KILL_AFTER=0))
    assert p.returncode == -signal.SIGKILL, (p.returncode, p.stderr)
    check_crashed(rid, False)
    before = set(runs())
    p = run("train", path, "--resume", rid, check=False)
    assert_failed_cleanly(p, rid, "no checkpoint to resume")
    assert set(runs()) == before, set(runs()) - before
    print(f"killed mid-checkpoint after epoch {done}: resumed with the uninterrupted numbers")


def case_kill_epoch():
    """kill -9 in the middle of an epoch: the epochs before it are all in
    metrics.jsonl and in last.safetensors, and --resume gives the numbers of
    the uninterrupted run."""
    path = blobs_spec("long", n=40000, test_n=500, epochs=6)
    want = straight(path, 6)
    p = subprocess.Popen([LAYERLAB, "train", path, "--jsonl", "--out", STORE], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rid, seen = None, []
    for line in p.stdout:
        e = json.loads(line)
        rid = e.get("run_id") or rid
        if e["event"] == "epoch":
            seen.append(e)
            if e["epoch"] == 2:
                time.sleep(0.05)  # into the third epoch
                break
    p.kill()
    p.wait()
    _, lines = check_crashed(rid, True)
    assert [e["epoch"] for e in lines][:2] == [1, 2], lines
    assert [strip(e) for e in lines[:2]] == [strip(e) for e in seen], (lines, seen)
    done = check_resume(path, rid, 6, want)
    assert done >= 2, done
    print(f"killed in epoch {done + 1}: resumed with the uninterrupted numbers")


def strip(e):
    return {k: v for k, v in e.items() if k not in ("images_per_second", "elapsed", "run_id")}


def nan_copy(src, dst):
    """src with its first weight set to NaN."""
    if src != dst:
        shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        f.seek(8 + n)
        f.write(struct.pack("<f", float("nan")))


def case_nan_checkpoint():
    """A checkpoint whose weights hold NaN is reported as such by eval,
    transfer and --resume (were: "test_loss nan" with exit 0, and a
    diverged-learning-rate message)."""
    path = blobs_spec("small", epochs=2)
    p, evs, rid = train(path)
    assert p.returncode == 0, p.stderr
    bad = os.path.join(WORK, "nan.safetensors")
    nan_copy(evs[-1]["checkpoint"], bad)
    assert_failed_cleanly(run("eval", bad, check=False), "NaN or infinite", "fc1.weight")
    assert_failed_cleanly(run("transfer", path, "--from", bad, check=False, store=None),
                          "NaN or infinite", "fc1.weight")
    last = os.path.join(runs()[rid]["dir"], "last.safetensors")
    nan_copy(last, last)
    before = set(runs())
    p = run("train", path, "--epochs", "3", "--resume", rid, check=False)
    assert_failed_cleanly(p, "NaN or infinite")
    assert "learning rate" not in p.stderr, p.stderr
    assert set(runs()) == before
    print("NaN checkpoint:", p.stderr.strip().splitlines()[-1])


def case_concurrent():
    """Three trainers write one store at once while `runs` reads it: all
    finish, each with its own run, files and the same numbers (same seed)."""
    path = blobs_spec("small", n=4000, epochs=3)
    procs = [subprocess.Popen([LAYERLAB, "train", path, "--jsonl", "--out", STORE], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    reads = 0
    while any(p.poll() is None for p in procs):
        r = run("runs", "--json", check=False)
        assert r.returncode == 0, r.stderr
        reads += 1
    outs = [(p.returncode, *p.communicate()) for p in procs]
    for rc, out, err in outs:
        assert rc == 0, (rc, err)
    evs = [events(out) for _, out, _ in outs]
    ids = {e[-1]["run_id"] for e in evs}
    assert len(ids) == 3, ids
    listed = runs()
    for e in evs:
        r = listed[e[-1]["run_id"]]
        assert r["status"] == "finished" and os.path.exists(r["checkpoint"]), r
        with open(os.path.join(r["dir"], "metrics.jsonl")) as f:
            assert [json.loads(line)["epoch"] for line in f] == [1, 2, 3]
    assert numbers(evs[0]) == numbers(evs[1]) == numbers(evs[2])
    print(f"three trainers on one store: 3 finished runs, equal numbers; {reads} reads meanwhile")


CASES = {
    "fault-empty-split": case_empty_split,
    "fault-disk-full": case_disk_full,
    "fault-oom": case_oom,
    "fault-read-only": case_read_only,
    "fault-kill-checkpoint": case_kill_checkpoint,
    "fault-kill-epoch": case_kill_epoch,
    "fault-nan-checkpoint": case_nan_checkpoint,
    "fault-concurrent": case_concurrent,
}

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except AssertionError as e:
        import traceback
        traceback.print_exc()
        print("FAILED:", e)
        sys.exit(1)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
