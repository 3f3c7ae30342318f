#!/usr/bin/python3
"""Train the benchmark 'judge' classifier (NOT shipped in the app).

    /usr/bin/python3 tools/models/train_judge.py          # train + export bench/models/judge.onnx

A small supervised CNN trained on ALL 60k labelled Fashion-MNIST train images.
It is only used to MEASURE pseudo-label accuracy of generated images
(tools/models/evaluate.py and the TypeScript benchmarks).

    input  image  float32 [B,1,28,28], pixel values in [0,1] (pixel/255)
    output logits float32 [B,10] (class order as in resources/data/fashion-mnist/classes.json)
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

DEFAULTS = dict(batch=128, epochs=5, lr=2e-3, seed=777, weight_decay=5e-4)


class Judge(nn.Module):
    def __init__(self):
        super().__init__()
        def blk(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*blk(1, 32), nn.MaxPool2d(2), *blk(32, 64), nn.MaxPool2d(2),
                                      *blk(64, 128))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 7 * 7, 128),
                                  nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(128, 10))

    def forward(self, image):
        return self.head(self.features((image - 0.286) / 0.353))


def shift_aug(x, g):
    """Random +-2 px translation and horizontal flip (p=0.5)."""
    B = x.shape[0]
    pad = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (B,), generator=g)
    dy = torch.randint(0, 5, (B,), generator=g)
    ar = torch.arange(28)
    rows = (dy[:, None] + ar[None, :])[:, :, None].expand(B, 28, 28)
    cols = (dx[:, None] + ar[None, :])[:, None, :].expand(B, 28, 28)
    out = pad[torch.arange(B)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(B, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def load_judge(ckpt_path):
    m = Judge()
    m.load_state_dict(torch.load(ckpt_path)["model"])
    return m.eval()


@torch.no_grad()
def accuracy(model, X, Y, bs=1000):
    model.eval()
    pred = torch.cat([model(X[i:i + bs]).argmax(1) for i in range(0, len(X), bs)])
    return (pred == Y).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--work-dir", default="/tmp/winnow-models/judge")
    p.add_argument("--out", default=fmnist.repo_path("bench", "models", "judge.onnx"))
    p.add_argument("--export-only", action="store_true")
    a = p.parse_args()
    fmnist.setup_torch(a.seed)
    os.makedirs(a.work_dir, exist_ok=True)
    ckpt_path = os.path.join(a.work_dir, "ckpt.pt")
    xtr, ytr = fmnist.load_split("train")
    xte, yte = fmnist.load_split("test")
    X = torch.from_numpy(xtr).float().div_(255).unsqueeze(1)
    Y = torch.from_numpy(ytr.astype("int64"))
    Xte = torch.from_numpy(xte).float().div_(255).unsqueeze(1)
    Yte = torch.from_numpy(yte.astype("int64"))
    model = Judge()
    if not a.export_only:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
        steps_per_epoch = len(X) // a.batch
        total = steps_per_epoch * a.epochs
        epoch0, elapsed, hist = 0, 0.0, []
        if os.path.exists(ckpt_path):
            ck = torch.load(ckpt_path)
            model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
            epoch0, elapsed, hist = ck["epoch"], ck["elapsed"], ck["hist"]
        t0 = time.time() - elapsed
        for ep in range(epoch0, a.epochs):
            model.train()
            g = torch.Generator().manual_seed(a.seed * 1000 + ep)
            perm = torch.randperm(len(X), generator=g)
            for i in range(steps_per_epoch):
                step = ep * steps_per_epoch + i
                for gr in opt.param_groups:
                    gr["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * step / total))
                idx = perm[i * a.batch:(i + 1) * a.batch]
                loss = F.cross_entropy(model(shift_aug(X[idx], g)), Y[idx], label_smoothing=0.05)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            acc = accuracy(model, Xte, Yte)
            hist.append({"epoch": ep + 1, "test_acc": acc, "elapsed_s": round(time.time() - t0, 1)})
            print(f"epoch {ep + 1}/{a.epochs} loss {loss.item():.3f} test acc {acc:.4f} {time.time() - t0:.0f}s",
                  flush=True)
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": ep + 1,
                        "elapsed": time.time() - t0, "hist": hist, "args": vars(a)}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    ck = torch.load(ckpt_path)
    model = load_judge(ckpt_path)
    acc = accuracy(model, Xte, Yte)
    import onnx
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    torch.onnx.export(model, (torch.rand(2, 1, 28, 28),), a.out, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    onnx.checker.check_model(onnx.load(a.out))
    info = {
        "name": "judge",
        "purpose": "benchmark-only Fashion-MNIST classifier used to measure pseudo-label accuracy of generated "
                   "images; trained with all 60k real train labels; never shipped in the app",
        "onnx": {"inputs": {"image": {"dtype": "float32", "shape": ["batch", 1, 28, 28], "range": "[0,1] (pixel/255)"}},
                 "outputs": {"logits": {"dtype": "float32", "shape": ["batch", 10]}}, "opset": 13},
        "classes": fmnist.CLASSES,
        "architecture": "CNN conv32-pool-conv64-pool-conv128 (3x3, BatchNorm, ReLU) + FC 6272-128-10, dropout 0.3",
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": {"epochs": ck["epoch"], "batch_size": ck["args"]["batch"], "optimizer":
                     f"AdamW(lr={ck['args']['lr']}, wd={ck['args']['weight_decay']}), cosine decay, label smoothing 0.05",
                     "augmentation": "random +-2 px shift, horizontal flip", "seed": ck["args"]["seed"],
                     "threads": 1, "wall_time_s": round(ck["elapsed"]), "history": ck["hist"],
                     "script": "tools/models/train_judge.py"},
        "test_accuracy": round(acc, 4),
        "license": "weights derived from Fashion-MNIST (MIT, Copyright (c) 2017 Zalando SE)",
    }
    with open(os.path.join(os.path.dirname(a.out), "judge.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"exported {a.out}; test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
