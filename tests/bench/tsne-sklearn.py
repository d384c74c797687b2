#!/usr/bin/env python3
"""scikit-learn's t-SNE on the first N Fashion-MNIST test images, as
../shared/bench/torch_reference.py --tsne N runs it (pixels / 255,
PCA(50, random_state=0), then TSNE(2, perplexity=30, init="pca",
learning_rate="auto", random_state=0, n_jobs=threads)), without the model
training in front. Prints wall and CPU seconds (PCA included) and the KL.

Usage: /usr/bin/python3 tsne-sklearn.py [N=5000] [threads=2] [dir]
"""
import gzip, os, struct, sys, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
d = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
# sklearn's Barnes-Hut gradient uses OpenMP threads, PCA uses BLAS threads
os.environ.setdefault("OMP_NUM_THREADS", str(threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz"), "rb") as f:
    data = f.read()
count, rows, cols = struct.unpack(">III", data[4:16])
x = np.frombuffer(data, np.uint8, offset=16).reshape(count, rows * cols)[:n].astype(np.float32) / 255.0
t0, c0 = time.perf_counter(), time.process_time()
p = PCA(50, random_state=0).fit_transform(x)
ts = TSNE(2, perplexity=30, init="pca", learning_rate="auto", random_state=0, n_jobs=threads)
ts.fit_transform(p)
print(f"sklearn {sklearn.__version__} TSNE n={n} barnes_hut seconds={time.perf_counter() - t0:.2f} "
      f"cpu={time.process_time() - c0:.2f} kl={ts.kl_divergence_:.4f} iterations={ts.n_iter_ + 1}",
      flush=True)
