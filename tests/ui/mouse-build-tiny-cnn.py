#!/usr/bin/env python3
"""Builds the tiny CNN of EXPERIMENTS.md E14 in the real LayerLab window with
the mouse alone (xdotool: clicks, double-clicks, scroll wheel), trains it and
saves screenshots of the sequence. Nothing is typed.

Run it on a virtual display:
    xvfb-run -a -s "-screen 0 1600x1000x24" tests/ui/mouse-build-tiny-cnn.py build/app/layerlab docs/screenshots

Needs xdotool and ImageMagick's `import` (Debian: xdotool imagemagick). The
coordinates are those of the window's default size (1400x900) at the top left
of a 1600x1000 screen. At the end the script checks the graph it built (the
autosaved spec) against the tiny-cnn preset: the same block types in the same
order and the same 7,426 parameters."""
import json, os, subprocess, sys, tempfile, time

LAYERLAB, OUT = sys.argv[1], sys.argv[2]
STATE = tempfile.mkdtemp(prefix="ll-mouse-")
ENV = dict(os.environ, XDG_STATE_HOME=STATE + "/state", XDG_DATA_HOME=STATE + "/data",
           GSK_RENDERER="cairo")
S = 1600 / 1389  # the coordinates below were read off screenshots shown at 1389 px wide


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True)


def at(x, y):
    return int(x * S), int(y * S)


def click(p, n=1, button=1):
    xdo("mousemove", *p)
    time.sleep(0.1)
    xdo("click", "--repeat", n, "--delay", 40, button)
    time.sleep(0.3)


def double(p):
    click(p, 2)


def shot(name):
    subprocess.run(["import", "-window", "root", os.path.join(OUT, name + ".png")], check=True)
    print("screenshot", name)


def palette_top():
    click(at(90, 400), 20, 4)  # wheel up


def palette_bottom():
    click(at(90, 400), 20, 5)  # wheel down


# palette rows (double-click appends after the selection, connected, and selects it)
CONV2D, BATCHNORM2D, RELU, LINEAR = at(36, 407), at(54, 632), at(30, 222), at(33, 493)
DROPOUT, MAXPOOL, GAP = at(38, 538), at(46, 333), at(56, 300)  # with the palette at its bottom
# inspector of the selected block
OUT_MINUS, KERNEL_MINUS, BIAS_SWITCH = at(1155, 155), at(1155, 189), at(1013, 360)
INPUT_BLOCK, LAYOUT_BUTTON, START = at(528, 250), at(1008, 23), at(957, 494)
TRAINING_TAB, CURVES_TAB, ANALYSIS_TAB = at(1000, 60), at(298, 512), at(423, 512)


def conv(out=16, kernel=3):
    palette_top()
    double(CONV2D)
    if out < 16:
        click(OUT_MINUS, 16 - out)
    if kernel < 3:
        click(KERNEL_MINUS, 3 - kernel)
    click(BIAS_SWITCH)  # bias off: BatchNorm follows


def conv_block(out):
    conv(out)
    double(BATCHNORM2D)
    double(RELU)
    palette_bottom()
    double(DROPOUT)
    click(OUT_MINUS, 45)  # p: 0.5 -> 0.05 in steps of 0.01


app = subprocess.Popen([LAYERLAB], env=ENV)
try:
    time.sleep(4)
    shot("mouse-1-empty")
    click(INPUT_BLOCK)
    conv_block(8)
    shot("mouse-2-first-block")
    conv_block(16)
    palette_bottom()
    double(MAXPOOL)
    conv(8, 1)  # the 1x1 squeeze
    for _ in range(3):
        conv_block(16)
    palette_bottom()
    double(GAP)
    palette_top()
    double(LINEAR)  # 10 outputs by default
    click(LAYOUT_BUTTON)
    time.sleep(1)
    shot("mouse-3-built")
    # train with a new spec's settings, unchanged: Adam, one-cycle, 3 epochs
    # on Fashion-MNIST (the default dataset)
    click(TRAINING_TAB)
    click(START)
    click(CURVES_TAB)
    time.sleep(8)  # mid-run: an epoch takes about 10 s on 2 cores
    shot("mouse-4-training")
    deadline = time.time() + 600
    autosave = os.path.join(STATE, "state", "layerlab", "autosave.json")
    runs = os.path.join(STATE, "data", "layerlab", "runs")
    while time.time() < deadline:
        done = [d for d in os.listdir(runs) if os.path.exists(os.path.join(runs, d, "final.safetensors"))] \
            if os.path.isdir(runs) else []
        if done:
            break
        time.sleep(5)
    time.sleep(3)
    shot("mouse-5-trained")
    click(ANALYSIS_TAB)
    time.sleep(3)
    shot("mouse-6-analysis")
finally:
    app.terminate()
    app.wait()

# the graph built by mouse is the tiny-cnn preset's
built = json.load(open(autosave))
preset = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "resources", "presets",
                                     "tiny-cnn.json")))
types = [b["type"] for b in built["graph"]["blocks"]]
assert types == [b["type"] for b in preset["graph"]["blocks"]], types
summary = json.loads(subprocess.run([LAYERLAB, "summary", autosave, "--json"], capture_output=True,
                                    text=True, check=True).stdout)
assert summary["total_params"] == 7426, summary["total_params"]
metrics = [json.loads(l) for d in os.listdir(runs) for l in open(os.path.join(runs, d, "metrics.jsonl"))]
print("built by mouse:", len(types), "blocks,", summary["total_params"], "parameters;",
      "epochs:", [(m["epoch"], round(m.get("val_accuracy", 0), 4)) for m in metrics])
