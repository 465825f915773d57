"""Shared parts of the Python reference benchmarks: data loading, the line protocol of
bench/rbm-epoch.ts (--serve), and the summary line in the same JSON format as the TypeScript
benchmark. Standalone: python3 bench/reference_<lib>.py [--epochs 3] [--rows 60000]."""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

FASHION_MNIST_TRAIN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
VISIBLE, HIDDEN, BATCH = 784, 500, 100
CEILING_GFLOPS = 200.0


def load_images(rows):
    """`rows` Fashion-MNIST training images in [0, 1] as float32, or random binary ones."""
    if os.path.exists(FASHION_MNIST_TRAIN):
        with gzip.open(FASHION_MNIST_TRAIN, "rb") as f:
            raw = f.read()
        count = int.from_bytes(raw[4:8], "big")
        if int.from_bytes(raw[0:4], "big") == 0x803 and count >= rows:
            pixels = np.frombuffer(raw, dtype=np.uint8, offset=16)[: rows * VISIBLE]
            return pixels.reshape(rows, VISIBLE).astype(np.float32) / 255.0, "fashion-mnist"
    rng = np.random.default_rng(7)
    return (rng.random((rows, VISIBLE)) < 0.3).astype(np.float32), "random-binary"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb():
    """Resident memory now (Linux /proc), for the per-epoch growth check; None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return None


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(name, describe, make_trainer, precisions=("float32",)):
    """make_trainer(data, precision) -> (epoch_fn, label); epoch_fn() runs one timed epoch.
    `precisions`: the values --precision accepts (the first is the default)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", choices=precisions, default=precisions[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--serve", action="store_true", help="line protocol of bench/rbm-epoch.ts")
    args = parser.parse_args()
    data, source = load_images(args.rows)
    epoch, label = make_trainer(data, args.precision)
    if args.precision != precisions[0]:
        name, describe = f"{name}-{args.precision}", f"{describe}, products in {args.precision}"
    epoch(warmup=True)
    if args.serve:
        send({"ready": True, "gemm": label, "data": source})
        for line in sys.stdin:
            if line.strip() != "epoch":
                break
            start, cpu_start = time.perf_counter(), time.process_time()
            epoch(warmup=False)
            send({"seconds": time.perf_counter() - start, "cpuSeconds": time.process_time() - cpu_start, "rssMb": peak_rss_mb(), "rssNowMb": current_rss_mb()})
        return
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        epoch(warmup=False)
        seconds.append(time.perf_counter() - start)
    s = statistics.median(seconds)
    gflops = 2 * 5 * BATCH * VISIBLE * HIDDEN * (args.rows // BATCH) / s / 1e9
    send({
        "config": name, "gemm": label, "data": source, "rows": args.rows, "batch": BATCH,
        "visible": VISIBLE, "hidden": HIDDEN, "epochs": len(seconds),
        "seconds_per_epoch": round(s, 3), "epoch_seconds": [round(x, 3) for x in seconds],
        "gflops": round(gflops, 1), "ceiling_fraction": round(gflops / CEILING_GFLOPS, 3),
        "peak_rss_mb": round(peak_rss_mb()), "note": describe,
    })
