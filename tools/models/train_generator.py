#!/usr/bin/python3
"""Train the class-conditional Fashion-MNIST DDPM and export it for Winnow.

    /usr/bin/python3 tools/models/train_generator.py                 # train + export
    /usr/bin/python3 tools/models/train_generator.py --export-only   # export from last checkpoint

Training: noise-prediction (eps) DDPM, linear betas 1e-4..0.02, T=1000, on the
60k Fashion-MNIST TRAIN images scaled to [-1,1]. Conditioning is a continuous
D-dim vector; in training it is a row of a learned 11 x D table (10 classes +
NULL), rows L2-normalised to 1. The label is replaced by NULL with probability
--p-uncond (classifier-free guidance). AdamW, linear warm-up then cosine decay,
EMA of the weights (the EMA weights are exported). Single CPU thread.

Checkpoints (every --ckpt-every steps) go to --work-dir; a re-run resumes from
the latest checkpoint, and the data order / noise are re-seeded per step from
(--seed, step), so a resumed run is identical to an uninterrupted one.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

DEFAULTS = dict(ch=24, cond_dim=64, batch=64, steps=7500, lr=4e-4, warmup=200,
                min_lr_frac=0.05, ema=0.999, p_uncond=0.12, seed=1234, weight_decay=0.0)


def parse():
    p = argparse.ArgumentParser()
    for k, v in DEFAULTS.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--work-dir", default="/tmp/winnow-models/generator")
    p.add_argument("--out-dir", default=fmnist.repo_path("resources", "models", "fmnist-ddpm"))
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--export-only", action="store_true")
    p.add_argument("--no-export", action="store_true")
    return p.parse_args()


def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    prog = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * prog)))


def train(a):
    torch = fmnist.setup_torch(a.seed)
    import torch.nn.functional as F
    from ddpm_model import DDPMModel, make_schedule, T_STEPS, NULL_INDEX

    os.makedirs(a.work_dir, exist_ok=True)
    ckpt_path = os.path.join(a.work_dir, "ckpt.pt")
    x_np, y_np = fmnist.load_split("train")
    X = torch.from_numpy(x_np).float().div_(127.5).sub_(1.0).unsqueeze(1)  # [-1,1]
    Y = torch.from_numpy(y_np.astype("int64"))
    N = X.shape[0]
    _, ab = make_schedule()
    sqrt_ab = torch.tensor(ab, dtype=torch.float32).sqrt()
    sqrt_1mab = torch.tensor(1 - ab, dtype=torch.float32).sqrt()

    model = DDPMModel(ch=a.ch, cond_dim=a.cond_dim)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    step, elapsed, log = 0, 0.0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
        step, elapsed, log = ck["step"], ck["elapsed"], ck["log"]
        print(f"resumed at step {step} ({elapsed:.0f}s)", flush=True)
    nparams = sum(p.numel() for p in model.unet.parameters())
    print(f"UNet params: {nparams}", flush=True)

    perm, perm_epoch = None, -1
    t_start = time.time() - elapsed
    run_loss = 0.0
    model.train()
    while step < a.steps:
        epoch, pos = divmod(step * a.batch, N)
        if epoch != perm_epoch:
            perm = torch.randperm(N, generator=torch.Generator().manual_seed(a.seed * 1000 + epoch))
            perm_epoch = epoch
        idx = perm[pos:pos + a.batch]
        if len(idx) < a.batch:  # wrap into the next epoch's permutation
            nxt = torch.randperm(N, generator=torch.Generator().manual_seed(a.seed * 1000 + epoch + 1))
            idx = torch.cat([idx, nxt[:a.batch - len(idx)]])
        g = torch.Generator().manual_seed(a.seed * 7919 + step)
        x0, y = X[idx], Y[idx].clone()
        y[torch.rand(a.batch, generator=g) < a.p_uncond] = NULL_INDEX
        t = torch.randint(0, T_STEPS, (a.batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        xt = sqrt_ab[t].view(-1, 1, 1, 1) * x0 + sqrt_1mab[t].view(-1, 1, 1, 1) * noise
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step, a)
        loss = F.mse_loss(model(xt, t.float(), y), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        step += 1
        run_loss += loss.item()
        if step % 50 == 0:
            el = time.time() - t_start
            log.append({"step": step, "loss": run_loss / 50, "elapsed_s": round(el, 1)})
            print(f"step {step}/{a.steps} loss {run_loss / 50:.4f} lr {lr_at(step, a):.2e} "
                  f"{el:.0f}s ({el / step:.3f}s/step)", flush=True)
            run_loss = 0.0
        if step % a.ckpt_every == 0 or step == a.steps:
            tmp = ckpt_path + ".tmp"
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "step": step, "elapsed": time.time() - t_start, "log": log, "args": vars(a)}, tmp)
            os.replace(tmp, ckpt_path)
    print(f"done: {step} steps in {time.time() - t_start:.0f}s", flush=True)


def main():
    a = parse()
    if not a.export_only:
        train(a)
    if not a.no_export:
        from export_generator import export
        export(os.path.join(a.work_dir, "ckpt.pt"), a.out_dir)


if __name__ == "__main__":
    main()
