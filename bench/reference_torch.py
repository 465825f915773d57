"""PyTorch CPU CD-1 on the benchmark's data: 784 x 500, batch 100, lr 0.05, momentum 0.5 then
0.9, L2 1e-4, visible probabilities, sampled hidden units driving the chain, float32, all
cores. With --precision bfloat16 the five matrix products take bfloat16 operands (each
converted once per step; torch accumulates in float32) and everything else stays float32:
the usual ten-line mixed-precision change. Run: OMP_WAIT_POLICY=PASSIVE python3
bench/reference_torch.py [--epochs 3] [--precision float32|bfloat16]
(Debian: apt-get install python3-torch). Without PASSIVE, torch's idle threads spin."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads its OpenMP runtime

import torch  # noqa: E402

from reference_common import BATCH, HIDDEN, VISIBLE, main  # noqa: E402


def make_trainer(data, precision):
    # Debian's torch starts with one thread here (OpenMP sees 1); use every core, as sklearn's OpenBLAS does.
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    torch.manual_seed(0)
    x = torch.from_numpy(data)
    W = torch.randn(VISIBLE, HIDDEN) * 0.01
    b = torch.zeros(VISIBLE)
    c = torch.zeros(HIDDEN)
    vW, vb, vc = torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(c)
    lr, decay = 0.05, 1e-4
    state = {"epoch": 0}

    @torch.no_grad()
    def step(v0, momentum):
        h0 = torch.sigmoid(v0 @ W + c)
        h0s = torch.bernoulli(h0)
        v1 = torch.sigmoid(h0s @ W.t() + b)
        h1 = torch.sigmoid(v1 @ W + c)
        gW = (v0.t() @ h0 - v1.t() @ h1) / BATCH - decay * W
        update(gW, v0, v1, h0, h1, momentum)

    @torch.no_grad()
    def step_bf16(v0, momentum):
        # Operands converted once per step; products in bfloat16, their results back to float32.
        bf = torch.bfloat16
        Wb, v0b = W.to(bf), v0.to(bf)
        h0 = torch.sigmoid((v0b @ Wb).float() + c)
        h0s = torch.bernoulli(h0)
        v1 = torch.sigmoid((h0s.to(bf) @ Wb.t()).float() + b)
        v1b = v1.to(bf)
        h1 = torch.sigmoid((v1b @ Wb).float() + c)
        gW = ((v0b.t() @ h0.to(bf)).float() - (v1b.t() @ h1.to(bf)).float()) / BATCH - decay * W
        update(gW, v0, v1, h0, h1, momentum)

    def update(gW, v0, v1, h0, h1, momentum):
        vW.mul_(momentum).add_(gW, alpha=lr)
        vb.mul_(momentum).add_((v0 - v1).mean(0), alpha=lr)
        vc.mul_(momentum).add_((h0 - h1).mean(0), alpha=lr)
        W.add_(vW)
        b.add_(vb)
        c.add_(vc)

    run = step_bf16 if precision == "bfloat16" else step

    def epoch(warmup):
        if warmup:
            for i in range(5):
                run(x[i * BATCH:(i + 1) * BATCH], 0.5)
            return
        momentum = 0.5 if state["epoch"] == 0 else 0.9
        order = torch.randperm(x.shape[0])
        for i in range(0, x.shape[0], BATCH):
            run(x[order[i:i + BATCH]], momentum)
        state["epoch"] += 1

    products = ", bfloat16 products" if precision == "bfloat16" else ""
    return epoch, f"torch {torch.__version__} ({torch.get_num_threads()} threads{products})"


if __name__ == "__main__":
    main("torch", "CD-1, momentum 0.5->0.9, L2 1e-4, float32", make_trainer, precisions=("float32", "bfloat16"))
