#!/usr/bin/python3
"""Measure the shipped models and write the figures into their model cards.

    /usr/bin/python3 tools/models/evaluate.py [--guidance G] [--sweep 1,2,3,4,5]

(a) pseudo-label accuracy of generated images (DDIM, eta=0, default steps and
    guidance), judged by bench/models/judge (trained on all real labels), with a
    per-class table (--per-class images per class);
(b) accuracy vs conditioning perturbation: cond = e_c + eps * u, u a random unit
    vector (one per image, seeded), eps in {0, 0.25, 0.5, 1, 2};
(c) backbone linear-probe (multinomial logistic regression on the 128-d
    features) test accuracy with 20 labels per class (the shipped demo-train set,
    and the mean over 5 other seeded draws) and with all 60k train labels;
    raw-pixel probe as a baseline.

The networks are evaluated with torch on the same weights that were exported
(EMA generator checkpoint + the exported conditioning.json embeddings; the
judge/backbone checkpoints); verify_onnx.py checks that the ONNX files give the
same outputs in onnxruntime-node (max |diff| ~1e-6).
Results: model_card.json "quality" sections, bench/models/eval_results.json,
bench/models/ddpm-samples.png.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DDPM_DIR = fmnist.repo_path("resources", "models", "fmnist-ddpm")
BB_DIR = fmnist.repo_path("resources", "models", "fmnist-backbone")
BENCH = fmnist.repo_path("bench", "models")
EPSILONS = [0.0, 0.25, 0.5, 1.0, 2.0]

def load_ddpm(ckpt):
    from ddpm_model import DDPMModel
    ck = torch.load(ckpt)
    m = DDPMModel(ch=ck["args"]["ch"], cond_dim=ck["args"]["cond_dim"])
    m.load_state_dict(ck["ema"])
    m.eval()
    with open(os.path.join(DDPM_DIR, "conditioning.json")) as f:
        cj = json.load(f)
    emb = torch.tensor(cj["embeddings"], dtype=torch.float32)
    null = torch.tensor(cj["null_embedding"], dtype=torch.float32)
    return m.unet, emb, null

@torch.no_grad()
def generate(unet, conds, null, steps, guidance, seed, bs=250):
    from ddpm_model import ddim_sample
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(len(conds), 1, 28, 28, generator=g)
    out = [ddim_sample(unet, conds[i:i + bs], null, steps, guidance, x=noise[i:i + bs].clone())
           for i in range(0, len(conds), bs)]
    return torch.cat(out)  # [-1,1]

@torch.no_grad()
def judge_acc(judge, imgs_pm1, labels):
    pred = judge((imgs_pm1 + 1) / 2).argmax(1)
    per = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
    return (pred == labels).float().mean().item(), per

@torch.no_grad()
def feats(enc, X01, bs=1000):
    return torch.cat([enc(X01[i:i + bs]) for i in range(0, len(X01), bs)])

def fit_logreg(Xf, y, wd, iters=200):
    """Multinomial logistic regression (bias, L2 = wd*|W|^2) with LBFGS."""
    W = torch.zeros(Xf.shape[1], 10, requires_grad=True)
    b = torch.zeros(10, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1, max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(Xf @ W + b, y) + wd * (W ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return W.detach(), b.detach()

def probe_acc(Ftr, ytr, Fte, yte, wd):
    W, b = fit_logreg(Ftr, ytr, wd)
    return ((Fte @ W + b).argmax(1) == yte).float().mean().item()

def linear_probe(enc, seed_draws=5):
    xtr, ytr = fmnist.load_split("train")
    xte, yte = fmnist.load_split("test")
    Xtr = torch.from_numpy(xtr).float().div(255).unsqueeze(1)
    Xte = torch.from_numpy(xte).float().div(255).unsqueeze(1)
    Ytr = torch.from_numpy(ytr.astype("int64"))
    Yte = torch.from_numpy(yte.astype("int64"))
    t0 = time.time()
    Ftr, Fte = feats(enc, Xtr), feats(enc, Xte)
    feat_time = time.time() - t0
    with open(fmnist.repo_path("resources", "data", "fashion-mnist", "indices.json")) as f:
        ind = json.load(f)
    demo_tr, demo_va = torch.tensor(ind["demo_train"]), torch.tensor(ind["demo_val"])
    res = {"feature_extraction_s_per_1000_images_torch_1thread": round(feat_time / 70, 3)}
    for name, (A, B) in {"backbone": (Ftr, Fte), "raw_pixels": (Xtr.flatten(1), Xte.flatten(1))}.items():
        # features are scaled so the regulariser grid is comparable: unit-norm rows
        A = F.normalize(A, dim=1) if name == "raw_pixels" else A
        B = F.normalize(B, dim=1) if name == "raw_pixels" else B
        grid = [1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
        val = {wd: probe_acc(A[demo_tr], Ytr[demo_tr], A[demo_va], Ytr[demo_va], wd) for wd in grid}
        wd = max(grid, key=lambda k: val[k])  # chosen on demo-val (train split), never on test
        demo = probe_acc(A[demo_tr], Ytr[demo_tr], B, Yte, wd)
        rng = np.random.RandomState(99)
        draws = []
        for _ in range(seed_draws):
            idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), 20, replace=False) for c in range(10)])
            draws.append(probe_acc(A[idx], Ytr[idx], B, Yte, wd))
        full = probe_acc(A, Ytr, B, Yte, 1e-5)
        extra = {}
        if name == "backbone":  # similarity-based figures on the unit-norm features
            cent = F.normalize(torch.stack([A[demo_tr][Ytr[demo_tr] == c].mean(0) for c in range(10)]), dim=1)
            extra["nearest_centroid_cosine_20_per_class_demo_train_set"] = round(
                ((B @ cent.T).argmax(1) == Yte).float().mean().item(), 4)
            knn = torch.cat([Ytr[(B[i:i + 500] @ A.T).topk(10, dim=1).indices].mode(1).values
                             for i in range(0, len(B), 500)])
            extra["knn10_cosine_all_60k"] = round((knn == Yte).float().mean().item(), 4)
        res[name] = {**extra,"20_per_class_demo_train_set": round(demo, 4),
                     "20_per_class_mean_of_5_random_draws": round(float(np.mean(draws)), 4),
                     "20_per_class_std_of_5_random_draws": round(float(np.std(draws)), 4),
                     "all_60k_labels": round(full, 4),
                     "l2_reg_20_per_class (chosen on demo-val)": wd, "l2_reg_all": 1e-5}
        print(name, res[name], flush=True)
    return res, Ftr, Ytr

def save_grid(imgs_pm1, path, nrow):
    from PIL import Image
    x = ((imgs_pm1[:, 0] + 1) * 127.5).round().clamp(0, 255).byte()
    rows = [torch.cat(list(x[r * nrow:(r + 1) * nrow]), 1) for r in range(len(x) // nrow)]
    Image.fromarray(torch.cat(rows, 0).numpy()).resize((nrow * 56, len(rows) * 56), Image.NEAREST).save(path)

def update_card(path, quality, guidance=None):
    with open(path) as f:
        card = json.load(f)
    card["quality"] = quality
    if guidance is not None:
        card["sampler"]["default_guidance_scale"] = guidance
    with open(path, "w") as f:
        json.dump(card, f, indent=1)
        f.write("\n")

def main():
    global DDPM_DIR, BB_DIR, BENCH
    p = argparse.ArgumentParser()
    p.add_argument("--ddpm-ckpt", default="/tmp/winnow-models/generator/ckpt.pt")
    p.add_argument("--backbone-ckpt", default="/tmp/winnow-models/backbone/ckpt.pt")
    p.add_argument("--judge-ckpt", default="/tmp/winnow-models/judge/ckpt.pt")
    p.add_argument("--guidance", type=float, default=2.5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--sweep", default="1,1.5,2,2.5,3,4,5", help="guidance values to compare (30 images/class); '' = skip")
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--eps-per-class", type=int, default=50)
    p.add_argument("--seed", type=int, default=31337)
    p.add_argument("--skip-probe", action="store_true")
    p.add_argument("--ddpm-dir", default=DDPM_DIR)
    p.add_argument("--backbone-dir", default=BB_DIR)
    p.add_argument("--bench-dir", default=BENCH)
    a = p.parse_args()
    DDPM_DIR, BB_DIR, BENCH = a.ddpm_dir, a.backbone_dir, a.bench_dir
    fmnist.setup_torch(a.seed)
    from train_judge import load_judge
    from train_backbone import load_encoder
    judge = load_judge(a.judge_ckpt)
    enc = load_encoder(a.backbone_ckpt)
    with open(os.path.join(BENCH, "judge.json")) as f:
        judge_info = json.load(f)
    unet, emb, null = load_ddpm(a.ddpm_ckpt)
    results = {"judge_test_accuracy": judge_info["test_accuracy"], "steps": a.steps}

    # guidance sweep
    if a.sweep:
        sweep = {}
        n = 30
        labels = torch.arange(10).repeat_interleave(n)
        for gs in [float(s) for s in a.sweep.split(",")]:
            imgs = generate(unet, emb[labels], null, a.steps, gs, a.seed + 1)
            acc, _ = judge_acc(judge, imgs, labels)
            f = feats(enc, (imgs + 1) / 2)
            div = np.mean([1 - (f[labels == c] @ f[labels == c].t()).mean().item() for c in range(10)])
            sweep[str(gs)] = {"accuracy": round(acc, 4), "within_class_feature_diversity": round(float(div), 4)}
            print("guidance", gs, sweep[str(gs)], flush=True)
        results["guidance_sweep_30_per_class"] = sweep

    # (a) default settings
    labels = torch.arange(10).repeat_interleave(a.per_class)
    t0 = time.time()
    imgs = generate(unet, emb[labels], null, a.steps, a.guidance, a.seed)
    gen_s = time.time() - t0
    acc, per = judge_acc(judge, imgs, labels)
    f = feats(enc, (imgs + 1) / 2)
    div = np.mean([1 - (f[labels == c] @ f[labels == c].t()).mean().item() for c in range(10)])
    results["default"] = {
        "guidance_scale": a.guidance, "steps": a.steps, "images_per_class": a.per_class,
        "pseudo_label_accuracy": round(acc, 4),
        "per_class_accuracy": {fmnist.CLASSES[c]: round(per[c], 4) for c in range(10)},
        "within_class_feature_diversity": round(float(div), 4),
        "sampling_ms_per_image_torch_1thread": round(1000 * gen_s / len(labels), 1),
    }
    print("default", results["default"], flush=True)
    os.makedirs(BENCH, exist_ok=True)
    k = min(10, a.per_class)  # one row per class
    grid_idx = torch.cat([torch.arange(c * a.per_class, c * a.per_class + k) for c in range(10)])
    save_grid(imgs[grid_idx], os.path.join(BENCH, "ddpm-samples.png"), k)

    # (b) perturbation sweep (same initial noise and directions for every eps)
    n = a.eps_per_class
    labels = torch.arange(10).repeat_interleave(n)
    g = torch.Generator().manual_seed(a.seed + 2)
    u = F.normalize(torch.randn(len(labels), emb.shape[1], generator=g), dim=1)
    eps_res = {}
    for e in EPSILONS:
        imgs = generate(unet, emb[labels] + e * u, null, a.steps, a.guidance, a.seed + 3)
        acc, per = judge_acc(judge, imgs, labels)
        eps_res[str(e)] = round(acc, 4)
        print("eps", e, acc, flush=True)
    results["perturbation"] = {"images_per_class": n, "guidance_scale": a.guidance,
                               "definition": "cond = embeddings[c] + eps * u, u uniform random unit vector",
                               "accuracy_by_eps": eps_res}

    # reference: within-class diversity of real test images (same measure as for generated ones)
    xte, yte = fmnist.load_split("test")
    real_idx = np.concatenate([np.flatnonzero(yte == c)[:100] for c in range(10)])
    fr = feats(enc, torch.from_numpy(xte[real_idx]).float().div(255).unsqueeze(1))
    yr = torch.from_numpy(yte[real_idx].astype("int64"))
    results["real_test_within_class_feature_diversity"] = round(float(np.mean(
        [1 - (fr[yr == c] @ fr[yr == c].t()).mean().item() for c in range(10)])), 4)

    # embedding geometry (useful for the runtime)
    cos = emb @ emb.t()
    results["embedding_geometry"] = {
        "max_cosine_between_classes": round(float((cos - 2 * torch.eye(10)).max()), 4),
        "mean_cosine_between_classes": round(float((cos.sum() - 10) / 90), 4),
        "cosine_null_to_classes_mean": round(float((emb @ null).mean()), 4),
    }

    # (c) linear probe
    if not a.skip_probe:
        probe, _, _ = linear_probe(enc)
        results["backbone_linear_probe"] = probe

    with open(os.path.join(BENCH, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    gq = {k: results[k] for k in ("default", "perturbation", "guidance_sweep_30_per_class",
                                  "real_test_within_class_feature_diversity", "embedding_geometry")
          if k in results}
    gq["diversity_definition"] = ("within_class_feature_diversity = mean over classes of (1 - mean pairwise "
                                  "cosine similarity of the backbone features of that class's images, self-pairs "
                                  "included); compare with real_test_within_class_feature_diversity")
    gq["judge"] = ("bench/models/judge.onnx, CNN trained on all 60k labelled real train images, "
                   f"test accuracy {judge_info['test_accuracy']}")
    gq["evaluated_with"] = "tools/models/evaluate.py (torch, same weights as the ONNX), seed %d" % a.seed
    update_card(os.path.join(DDPM_DIR, "model_card.json"), gq, guidance=a.guidance)
    if "backbone_linear_probe" in results:
        update_card(os.path.join(BB_DIR, "model_card.json"),
                    {"linear_probe_test_accuracy": results["backbone_linear_probe"],
                     "probe": "multinomial logistic regression (LBFGS) on the exported (unit-norm) features, "
                              "test split 10000 images",
                     "evaluated_with": "tools/models/evaluate.py"})
    print(json.dumps(results, indent=1))

if __name__ == "__main__":
    main()
