#!/usr/bin/env python3
"""test_blocks_torch.py: blocks against PyTorch (LayerNorm, Upsample).

  test_blocks_torch.py BLOCK_IO

For each case, block-io runs the block on the reference and the CPU
backends (forward, then backward of a random dy) and writes its checkpoint
and tensors; this script loads the checkpoint into the torch.nn module by
its tensor names (load_state_dict(strict=True): the names and shapes must be
PyTorch's), runs the module in double precision on the same x and dy, and
compares y, dx and every parameter gradient by relative error.

Exits 0 on success, 1 on failure, 77 (saying what is missing) to skip."""
import json
import os
import struct
import subprocess
import sys
import tempfile

BLOCK_IO = sys.argv[1]

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from graphs import python_with  # noqa: E402


python_with("numpy", "torch")
import numpy as np
import torch

# (block type, properties, per-sample shape, batch, the torch module)
CASES = [
    ("LayerNorm", "", (10,), 6, lambda: torch.nn.LayerNorm(10)),
    ("LayerNorm", "dims=2;eps=0.001", (5, 7), 3, lambda: torch.nn.LayerNorm((5, 7), eps=1e-3)),
    ("LayerNorm", "dims=1", (4, 9), 2, lambda: torch.nn.LayerNorm(9)),
    ("LayerNorm", "dims=3", (2, 3, 4), 3, lambda: torch.nn.LayerNorm((2, 3, 4))),
    ("LayerNorm", "elementwise_affine=false", (6, 5), 2,
     lambda: torch.nn.LayerNorm(5, elementwise_affine=False)),
    ("Upsample", "", (3, 4, 5), 2, lambda: torch.nn.Upsample(scale_factor=2)),
    ("Upsample", "mode=bilinear", (3, 4, 5), 2,
     lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear")),
    ("Upsample", "mode=bilinear;scale_factor=3", (2, 5, 3), 2,
     lambda: torch.nn.Upsample(scale_factor=3, mode="bilinear")),
    ("Upsample", "scale_factor=3", (2, 5, 3), 1, lambda: torch.nn.Upsample(scale_factor=3)),
    ("Upsample", "mode=bilinear", (1, 1, 1), 2,
     lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear")),
]
# relative error allowed: the reference rounds each output to float once; the
# CPU sums in float
TOLERANCE = {"ref": 1e-6, "cpu": 2e-5}


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy()
    return out


def load(path, shape):
    return np.fromfile(path, dtype="<f4").reshape(shape).astype(np.float64)


def rel_err(got, want):
    scale = max(np.abs(want).max(), 1e-30)
    return float(np.abs(got - want).max() / scale)


def main():
    failures, checked = [], 0
    with tempfile.TemporaryDirectory(prefix="ll-torch-") as tmp:
        for seed, (block, props, shape, batch, make) in enumerate(CASES, start=1):
            for backend in ("ref", "cpu"):
                what = f"{block} [{props or 'defaults'}] {shape} on {backend}"
                d = os.path.join(tmp, f"{seed}-{backend}")
                os.mkdir(d)
                run = subprocess.run(
                    [BLOCK_IO, d, backend, block, props, ",".join(map(str, shape)), str(batch),
                     str(seed)], capture_output=True, text=True)
                if run.returncode != 0:
                    failures.append(f"{what}: block-io failed: {run.stderr.strip()}")
                    continue
                tensors = read_safetensors(os.path.join(d, "params.safetensors"))
                state = {k[len("b."):]: torch.from_numpy(v).double()
                         for k, v in tensors.items() if k.startswith("b.")}
                module = make().double()
                try:
                    module.load_state_dict(state, strict=True)
                except RuntimeError as e:
                    failures.append(f"{what}: checkpoint names {sorted(state)} do not load into "
                                    f"{type(module).__name__}: {e}")
                    continue
                x = torch.from_numpy(load(os.path.join(d, "x.bin"), (batch, *shape)))
                x.requires_grad_(True)
                y = module(x)
                dy = torch.from_numpy(load(os.path.join(d, "dy.bin"), tuple(y.shape)))
                y.backward(dy)
                pairs = [("y", load(os.path.join(d, "y.bin"), tuple(y.shape)), y.detach()),
                         ("dx", load(os.path.join(d, "dx.bin"), (batch, *shape)), x.grad)]
                for name, p in module.named_parameters():
                    got = load(os.path.join(d, f"grad-{name}.bin"), tuple(p.shape))
                    pairs.append((f"d{name}", got, p.grad))
                for name, got, want in pairs:
                    e = rel_err(got, want.numpy())
                    checked += 1
                    if not e <= TOLERANCE[backend]:
                        failures.append(f"{what}: {name} relative error {e:.3g} > "
                                        f"{TOLERANCE[backend]:.0e}")
    for f in failures:
        print("FAIL", f)
    print(f"# {len(CASES)} cases x 2 backends, {checked} tensors against torch "
          f"{torch.__version__}: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
