#!/usr/bin/env python3
"""PyTorch reference timings on a chosen device (a GPU), for bench-cuda.sh.

Reuses the models and the IDX reader of the shared reference script
(shared/bench/torch_reference.py, not modified) and times one training epoch
of each model the same way, on --device. Prints one line per model:

  torch 2.x device=cuda:0 model=cnn params=... epochs=1 train_img_per_s=... test_acc=...

Differences from the CPU reference, all for a fair GPU comparison:
- the model lives on the device; each batch is indexed on the host and
  copied to the device, as LayerLab's loader does;
- --warmup steps run before the timed epoch (CUDA context, cuBLAS/cuDNN
  handles and autotuning are not part of an epoch);
- TF32 is off unless --tf32 (LayerLab computes in plain FP32);
- the clock stops after torch.cuda.synchronize().
"""
import argparse
import importlib.util
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_reference(path):
    spec = importlib.util.spec_from_file_location("torch_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def default_reference():
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.environ.get("LAYERLAB_TORCH_REFERENCE", ""),
              os.path.join(here, "..", "..", "shared", "bench", "torch_reference.py"),
              os.path.join(here, "..", "..", "..", "shared", "bench", "torch_reference.py")):
        if p and os.path.exists(p):
            return p
    return None


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--models", default="mlp,cnn,ae")
    ap.add_argument("--warmup", type=int, default=20, help="untimed steps before the epoch")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 tensor cores")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reference", default=default_reference())
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    if not a.reference:
        sys.exit("torch_cuda_reference.py: cannot find torch_reference.py; pass --reference")
    ref = load_reference(a.reference)
    d = (a.data or ref.D).rstrip("/") + "/"
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.manual_seed(0)
    xtr = torch.from_numpy(ref.idx(d + "train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    ytr = torch.from_numpy(ref.idx(d + "train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(ref.idx(d + "t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    yte = torch.from_numpy(ref.idx(d + "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    name_dev = str(dev) + (" " + torch.cuda.get_device_name(dev) if dev.type == "cuda" else "")
    ms = ref.models()
    for name in a.models.split(","):
        m = ms[name]().to(dev)
        nparam = sum(p.numel() for p in m.parameters())
        opt = (torch.optim.Adam(m.parameters(), 1e-3) if name == "ae"
               else torch.optim.SGD(m.parameters(), 0.05, momentum=0.9))

        def step(x, y):
            x, y = x.to(dev), y.to(dev)
            out = m(x)
            loss = F.mse_loss(out, x) if name == "ae" else F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        n = xtr.shape[0]
        m.train()
        for i in range(a.warmup):
            j = (i * a.batch) % max(n - a.batch, 1)
            step(xtr[j:j + a.batch], ytr[j:j + a.batch])
        sync(dev)
        t_train = 0.0
        for ep in range(a.epochs):
            perm = torch.randperm(n)
            t0 = time.perf_counter()
            for i in range(0, n - a.batch + 1, a.batch):
                idx_ = perm[i:i + a.batch]
                step(xtr[idx_], ytr[idx_])
            sync(dev)
            t_train += time.perf_counter() - t0
        m.eval()
        with torch.no_grad():
            out = torch.cat([m(xte[i:i + 1000].to(dev)).cpu() for i in range(0, xte.shape[0], 1000)])
            metric = (F.mse_loss(out, xte).item() if name == "ae"
                      else (out.argmax(1) == yte).float().mean().item())
        ips = a.epochs * (n // a.batch) * a.batch / t_train
        print(f"torch {torch.__version__} device={name_dev.replace(' ', '_')} model={name} "
              f"params={nparam} epochs={a.epochs} train_img_per_s={ips:.0f} "
              f"{'test_mse' if name == 'ae' else 'test_acc'}={metric:.4f}", flush=True)


if __name__ == "__main__":
    main()
