"""Trains a Bernoulli RBM on Fashion-MNIST binarized at pixel >= 128 with a reference library and
writes it in the raw interop format of packages/core/INTEROP.md, for bench/rbm-quality-table.ts
to evaluate beside this library's models. One JSON line: library, epochs, training seconds.

  python3 bench/quality_export.py --lib sklearn|torch --out DIR [--hidden 500] [--epochs 3]
      [--lr 0.05] [--batch 100] [--rows 60000]

sklearn: BernoulliRBM (PCD-1, 100 persistent chains... its own recipe), n_iter = epochs.
torch: the CD-1 recipe of bench/reference_torch.py (momentum 0.5 then 0.9, L2 1e-4).
Debian: apt-get install python3-sklearn python3-torch dataset-fashion-mnist."""
import argparse
import gzip
import json
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def binarized_images(rows):
    with gzip.open(FASHION, "rb") as f:
        raw = f.read()
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16)[: rows * 784]
    return (pixels.reshape(rows, 784) >= 128).astype(np.float32)


def train_sklearn(data, a):
    from sklearn.neural_network import BernoulliRBM
    rbm = BernoulliRBM(n_components=a.hidden, learning_rate=a.lr, batch_size=a.batch, n_iter=a.epochs, random_state=a.seed)
    rbm.fit(data)
    # components_ is hidden x visible; intercept_visible_ / intercept_hidden_ the biases.
    return rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_


def train_torch(data, a):
    import torch
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(a.seed)
    x = torch.from_numpy(data)
    n, nv = x.shape
    W = torch.randn(nv, a.hidden) * 0.01
    b = torch.zeros(nv)
    c = torch.zeros(a.hidden)
    vW, vb, vc = torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(c)
    decay = 1e-4
    with torch.no_grad():
        for epoch in range(a.epochs):
            momentum = 0.5 if epoch == 0 else 0.9
            order = torch.randperm(n)
            for i in range(0, n, a.batch):
                v0 = x[order[i:i + a.batch]]
                h0 = torch.sigmoid(v0 @ W + c)
                v1 = torch.sigmoid(torch.bernoulli(h0) @ W.t() + b)
                h1 = torch.sigmoid(v1 @ W + c)
                gW = (v0.t() @ h0 - v1.t() @ h1) / v0.shape[0] - decay * W
                vW.mul_(momentum).add_(gW, alpha=a.lr)
                vb.mul_(momentum).add_((v0 - v1).mean(0), alpha=a.lr)
                vc.mul_(momentum).add_((h0 - h1).mean(0), alpha=a.lr)
                W.add_(vW)
                b.add_(vb)
                c.add_(vc)
    return W.numpy(), b.numpy(), c.numpy()


def write_raw(out, W, b, c):
    os.makedirs(out, exist_ok=True)
    W = np.ascontiguousarray(W, dtype="<f8")
    W.tofile(os.path.join(out, "W.bin"))
    np.asarray(b, dtype="<f8").tofile(os.path.join(out, "b.bin"))
    np.asarray(c, dtype="<f8").tofile(os.path.join(out, "c.bin"))
    nv, nh = W.shape
    with open(os.path.join(out, "rbm.json"), "w") as f:
        json.dump({"format": "boltzmann.ts/raw-rbm", "version": 1,
                   "visible": {"type": "bernoulli", "size": nv}, "hidden": {"type": "bernoulli", "size": nh},
                   "arrays": {"visible-hidden.weights": {"file": "W.bin", "dtype": "float64", "shape": [nv, nh]},
                              "visible.bias": {"file": "b.bin", "dtype": "float64", "shape": [nv]},
                              "hidden.bias": {"file": "c.bin", "dtype": "float64", "shape": [nh]}}}, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["sklearn", "torch"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    data = binarized_images(a.rows)
    start = time.perf_counter()
    W, b, c = (train_sklearn if a.lib == "sklearn" else train_torch)(data, a)
    seconds = time.perf_counter() - start
    write_raw(a.out, W, b, c)
    print(json.dumps({"lib": a.lib, "hidden": a.hidden, "epochs": a.epochs, "lr": a.lr, "batch": a.batch,
                      "rows": a.rows, "train_seconds": round(seconds, 2), "model": os.path.join(a.out, "rbm.json")}), flush=True)


if __name__ == "__main__":
    main()
