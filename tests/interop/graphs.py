"""What the interop tests share: the small graphs that hold every exportable
block type, spec files made of them, a run store of their own, and finding a
python3 that has the modules a test needs."""
import json, os, subprocess, sys, tempfile


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


def workspace(prefix):
    """A new temporary folder, and an environment whose run store is inside it."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "store"), OPENBLAS_NUM_THREADS="1")
    return tmp, env


def run_in(env, *args, check=True, timeout=600):
    """Runs a command; with check, a failure ends the test with its output."""
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def write_spec(dir_, name, blocks):
    """A spec file holding only a graph: blocks are (name, type, inputs, props)."""
    path = os.path.join(dir_, name + ".json")
    doc = {"format": "layerlab-spec", "version": 1, "name": name,
           "graph": {"blocks": [{"name": n, "type": t, "inputs": i, "props": p}
                                for n, t, i, p in blocks]}}
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def checkpoint_without_spec(dir_):
    """A valid safetensors file with no tensors and no spec in its metadata:
    not one LayerLab wrote, so no model can be exported from it."""
    path = os.path.join(dir_, "nospec.safetensors")
    with open(path, "wb") as f:
        header = b'{"__metadata__":{"format":"pt"}}    '
        f.write(len(header).to_bytes(8, "little") + header)
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


# Upsample (nearest and bilinear) and LayerNorm, with and without affine
# parameters.
RESIZE_NORM = [
    ("img", "Input", [], {"shape": [3, 5, 6]}),
    ("up", "Upsample", ["img"], {"scale_factor": 2}),
    ("c", "Conv2d", ["up"], {"out_channels": 4, "kernel": 3, "padding": 1}),
    ("up2", "Upsample", ["c"], {"scale_factor": 3, "mode": "bilinear"}),
    ("ln", "LayerNorm", ["up2"], {"dims": 3, "eps": 1e-4}),
    ("gap", "GlobalAvgPool", ["ln"], {}),
    ("ln2", "LayerNorm", ["gap"], {"elementwise_affine": False}),
]
