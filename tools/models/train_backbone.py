#!/usr/bin/python3
"""Train the label-free image backbone (SimCLR-style contrastive CNN) and export it.

    /usr/bin/python3 tools/models/train_backbone.py                # train + export
    /usr/bin/python3 tools/models/train_backbone.py --export-only

Uses only the 60k Fashion-MNIST TRAIN images, never their labels. Two random
augmented views of each image (random resized crop/shift via an affine warp,
horizontal flip, brightness/contrast jitter, Gaussian noise, random erasing)
are pulled together with the NT-Xent loss (temperature --tau) through a small
projection head; the exported encoder is the CNN up to the 128-d global-pooled
representation, whitened (mean/ZCA matrix fitted on the train images, no labels,
after training; improves linear probes, nearest-centroid and kNN) and
L2-normalised to unit length.

Export: resources/models/fmnist-backbone/encoder.onnx
    input  image    float32 [B,1,28,28], pixel values in [0,1] (pixel/255, white garment on black)
    output features float32 [B,128], L2-normalised (norm 1)
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULTS = dict(batch=128, steps=1800, lr=1.5e-3, warmup=100, tau=0.2, seed=4321, weight_decay=1e-4)
FEAT_DIM = 128


def block(cin, cout, stride):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Encoder(nn.Module):
    """[B,1,28,28] in [0,1] -> [B,128] unit-norm features.

    features = normalize((pooled - mu) @ W): mu/W are a label-free ZCA-style
    whitening fitted on the train images after contrastive training
    (identity until fitted)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(*block(1, 32, 1), *block(32, 64, 2), *block(64, 64, 1),
                                 *block(64, 128, 2), *block(128, FEAT_DIM, 1))
        self.register_buffer("mu", torch.zeros(FEAT_DIM))
        self.register_buffer("W", torch.eye(FEAT_DIM))

    def raw(self, image):
        h = self.net((image - 0.286) / 0.353)  # Fashion-MNIST train mean/std
        return h.mean(dim=(2, 3))

    def forward(self, image):
        return F.normalize((self.raw(image) - self.mu) @ self.W, dim=1)


class SimCLR(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.head = nn.Sequential(nn.Linear(FEAT_DIM, 256), nn.ReLU(inplace=True), nn.Linear(256, 64))

    def forward(self, x):
        return F.normalize(self.head(self.enc.raw(x)), dim=1)


def augment(x, g):
    """x: [B,1,28,28] in [0,1]. Batched random augmentation on CPU tensors."""
    B = x.shape[0]
    u = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    scale = 0.6 + 0.4 * u(B)                         # crop side as a fraction of the image
    aspect = torch.exp((u(B) - 0.5) * 0.5)           # ~[0.78, 1.28]
    sx, sy = scale * aspect.sqrt(), scale / aspect.sqrt()
    flip = torch.where(u(B) < 0.5, -1.0, 1.0)
    tx = (u(B) * 2 - 1) * (1 - sx).clamp(min=0) + (u(B) - 0.5) * 0.2
    ty = (u(B) * 2 - 1) * (1 - sy).clamp(min=0) + (u(B) - 0.5) * 0.2
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = sx * flip
    theta[:, 1, 1] = sy
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # brightness / contrast / gamma jitter
    y = y.clamp(0, 1) ** torch.exp((u(B, 1, 1, 1) - 0.5) * 0.8)
    y = y * (0.6 + 0.6 * u(B, 1, 1, 1))
    y = y + 0.05 * torch.randn(y.shape, generator=g) * (u(B, 1, 1, 1) < 0.5)
    # random erasing of a rectangle (p=0.5)
    h = (4 + u(B) * 10).long()
    w = (4 + u(B) * 10).long()
    r0 = (u(B) * (28 - h)).long()
    c0 = (u(B) * (28 - w)).long()
    ar = torch.arange(28)
    rows = (ar[None, :] >= r0[:, None]) & (ar[None, :] < (r0 + h)[:, None])
    cols = (ar[None, :] >= c0[:, None]) & (ar[None, :] < (c0 + w)[:, None])
    mask = (rows[:, :, None] & cols[:, None, :]) & (u(B) < 0.5)[:, None, None]
    y = y.masked_fill(mask[:, None], 0.0)
    return y.clamp(0, 1)


def nt_xent(z1, z2, tau):
    z = torch.cat([z1, z2])
    n = z1.shape[0]
    sim = z @ z.t() / tau
    sim.fill_diagonal_(-1e9)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def parse():
    p = argparse.ArgumentParser()
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--work-dir", default="/tmp/winnow-models/backbone")
    p.add_argument("--out-dir", default=fmnist.repo_path("resources", "models", "fmnist-backbone"))
    p.add_argument("--ckpt-every", type=int, default=100)
    p.add_argument("--export-only", action="store_true")
    p.add_argument("--no-export", action="store_true")
    return p.parse_args()


def train(a):
    fmnist.setup_torch(a.seed)
    os.makedirs(a.work_dir, exist_ok=True)
    ckpt_path = os.path.join(a.work_dir, "ckpt.pt")
    x_np, _ = fmnist.load_split("train")  # labels are NOT used
    X = torch.from_numpy(x_np).float().div_(255).unsqueeze(1)
    N = X.shape[0]
    model = SimCLR()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    step, elapsed, log = 0, 0.0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
        step, elapsed, log = ck["step"], ck["elapsed"], ck["log"]
        print(f"resumed at step {step}", flush=True)
    t_start = time.time() - elapsed
    run = 0.0
    model.train()
    while step < a.steps:
        g = torch.Generator().manual_seed(a.seed * 7919 + step)
        idx = torch.randint(0, N, (a.batch,), generator=g)
        x = X[idx]
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for gr in opt.param_groups:
            gr["lr"] = lr
        loss = nt_xent(model(augment(x, g)), model(augment(x, g)), a.tau)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run += loss.item()
        if step % 20 == 0:
            el = time.time() - t_start
            log.append({"step": step, "loss": run / 20, "elapsed_s": round(el, 1)})
            print(f"step {step}/{a.steps} loss {run / 20:.4f} lr {lr:.2e} {el:.0f}s", flush=True)
            run = 0.0
        if step % a.ckpt_every == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "elapsed": time.time() - t_start, "log": log, "args": vars(a)}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    print(f"done: {step} steps in {time.time() - t_start:.0f}s", flush=True)


WHITEN_EPS = 1e-2  # eigenvalue floor, as a fraction of the largest eigenvalue


@torch.no_grad()
def fit_whitening(enc):
    """Label-free whitening of the pooled features over the 60k train images:
    mu = mean, W = U diag(1/sqrt(lambda + eps*lambda_max)) U^T (ZCA, keeps 128 dims)."""
    x_np, _ = fmnist.load_split("train")
    X = torch.from_numpy(x_np).float().div_(255).unsqueeze(1)
    enc.eval()
    R = torch.cat([enc.raw(X[i:i + 1000]) for i in range(0, len(X), 1000)]).double()
    mu = R.mean(0)
    ev, U = torch.linalg.eigh(torch.cov((R - mu).T))
    W = U @ torch.diag(1.0 / (ev.clamp(min=0) + WHITEN_EPS * ev.max()).sqrt()) @ U.T
    return mu.float(), W.float()


def load_encoder(ckpt_path):
    """Encoder with the whitening stored in the checkpoint (fitted and saved on first use)."""
    ck = torch.load(ckpt_path)
    m = SimCLR()
    missing, unexpected = m.load_state_dict(ck["model"], strict=False)
    assert not unexpected and set(missing) <= {"enc.mu", "enc.W"}, (missing, unexpected)
    m.eval()
    if "whitening" not in ck:
        ck["whitening"] = fit_whitening(m.enc)
        torch.save(ck, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
    m.enc.mu.copy_(ck["whitening"][0])
    m.enc.W.copy_(ck["whitening"][1])
    return m.enc


def export(ckpt_path, out_dir):
    fmnist.setup_torch(0)
    import onnx
    os.makedirs(out_dir, exist_ok=True)
    ck = torch.load(ckpt_path)
    a = ck["args"]
    enc = load_encoder(ckpt_path)
    path = os.path.join(out_dir, "encoder.onnx")
    torch.onnx.export(enc, (torch.rand(2, 1, 28, 28),), path, input_names=["image"], output_names=["features"],
                      dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}}, opset_version=13,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    card_path = os.path.join(out_dir, "model_card.json")
    old = {}
    if os.path.exists(card_path):
        with open(card_path) as f:
            old = json.load(f)
    from export_generator import FMNIST_LICENSE
    card = {
        "name": "fmnist-backbone",
        "description": "Label-free image feature extractor for 28x28 grey-scale Fashion-MNIST-like images "
                       "(SimCLR-style contrastive CNN). Used for embeddings, similarity, diversity and "
                       "few-label linear probes.",
        "files": {"encoder": "encoder.onnx"},
        "onnx": {
            "opset": 13,
            "inputs": {"image": {"dtype": "float32", "shape": ["batch", 1, 28, 28],
                                 "meaning": "pixel values in [0,1] (pixel/255), white garment on black background "
                                            "(normalisation with mean 0.286 / std 0.353 is inside the model)"}},
            "outputs": {"features": {"dtype": "float32", "shape": ["batch", FEAT_DIM],
                                     "meaning": "L2-normalised (unit norm) feature vector; cosine similarity = dot product"}},
        },
        "architecture": {
            "type": "CNN: 5 x (conv3x3 + BatchNorm + ReLU), channels 32-64-64-128-128, strides 1-2-1-2-1, "
                    "global average pool -> 128, ZCA whitening (128x128, fitted label-free on the train "
                    f"images after training, eigenvalue floor {WHITEN_EPS} x max), L2-normalise",
            "parameters": sum(p.numel() for p in enc.parameters()),
            "training_head": "MLP 128-256-64 projection head (discarded)",
        },
        "training": {
            "data": "Fashion-MNIST train split, 60000 images, NO labels",
            "objective": f"SimCLR NT-Xent, temperature {a['tau']}, two augmented views per image",
            "augmentations": "random resized crop (side 0.6-1.0, aspect 0.78-1.28) + shift, horizontal flip, "
                             "gamma/brightness jitter, Gaussian noise (p=0.5), random erasing (p=0.5)",
            "steps": ck["step"], "batch_size": a["batch"],
            "epochs": round(ck["step"] * a["batch"] / 60000, 2),
            "optimizer": f"AdamW(lr={a['lr']}, weight_decay={a['weight_decay']}), {a['warmup']} warm-up steps, cosine decay",
            "seed": a["seed"], "threads": 1, "wall_time_s": round(ck["elapsed"]),
            "hardware": "1 CPU thread (x86-64, AVX2), torch 1.13 (Debian)",
            "script": "tools/models/train_backbone.py",
        },
        "license": FMNIST_LICENSE,
        "quality": old.get("quality", {"status": "not evaluated yet; run tools/models/evaluate.py"}),
    }
    with open(card_path, "w") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    print(f"exported {path} ({os.path.getsize(path)} bytes)")


def main():
    a = parse()
    if not a.export_only:
        train(a)
    if not a.no_export:
        export(os.path.join(a.work_dir, "ckpt.pt"), a.out_dir)


if __name__ == "__main__":
    main()
