#!/usr/bin/python3
"""Export a trained DDPM checkpoint to resources/models/fmnist-ddpm/.

    /usr/bin/python3 tools/models/export_generator.py [--ckpt PATH] [--out-dir DIR]

Writes denoiser.onnx (EMA weights), conditioning.json and model_card.json.
An existing model_card.json's "quality" section (written by evaluate.py) is kept.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402

FMNIST_LICENSE = {
    "dataset": "Fashion-MNIST (Zalando Research), https://github.com/zalandoresearch/fashion-mnist",
    "license": "MIT",
    "notice": "Copyright (c) 2017 Zalando SE, https://tech.zalando.com. Permission is hereby granted, "
              "free of charge, to any person obtaining a copy of this software and associated documentation "
              "files (the \"Software\"), to deal in the Software without restriction, ... (MIT licence; full "
              "text in resources/data/fashion-mnist/LICENSE). The model weights are derived from this data set.",
}


def write_conditioning_json(path, emb, null, classes=fmnist.CLASSES):
    """emb: [10,D] unit rows (list of lists), null: [D] unit vector."""
    doc = {
        "format": "winnow-conditioning/1",
        "dim": len(null),
        "classes": list(classes),
        "vocabulary": {str(i): fmnist.VOCABULARY[i] for i in range(len(classes))},
        "embeddings": [[round(float(v), 7) for v in row] for row in emb],
        "null_embedding": [round(float(v), 7) for v in null],
        "notes": "embeddings[i] is the conditioning vector of class i (L2 norm 1, fed as-is to the "
                 "denoiser's 'cond' input); null_embedding is the unconditional (classifier-free "
                 "guidance) vector. vocabulary maps class index -> lower-case words/synonyms that "
                 "select that class. The denoiser accepts any float32 vector of length dim "
                 "(mixtures, perturbations); class rows have norm 1, so a perturbation of L2 norm "
                 "eps is on the scale of the embedding itself.",
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def export_onnx(unet, path, cond_dim):
    import torch
    unet.eval()
    B = 2
    args = (torch.randn(B, 1, 28, 28), torch.tensor([999.0, 10.0]), torch.randn(B, cond_dim))
    torch.onnx.export(unet, args, path, input_names=["x", "t", "cond"], output_names=["eps"],
                      dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "cond": {0: "batch"},
                                    "eps": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))


def schedule_section():
    from ddpm_model import T_STEPS, BETA_START, BETA_END, make_schedule
    _, ab = make_schedule()
    return {
        "type": "DDPM, epsilon (noise) prediction",
        "T": T_STEPS,
        "beta_schedule": "linear",
        "beta_start": BETA_START,
        "beta_end": BETA_END,
        "betas": "betas[i] = beta_start + (beta_end - beta_start) * i / (T - 1), i = 0..T-1 (numpy.linspace)",
        "alpha_bar": "alpha_bar[t] = prod_{i=0..t} (1 - betas[i])  (computed in float64)",
        "forward_process": "x_t = sqrt(alpha_bar[t]) * x_0 + sqrt(1 - alpha_bar[t]) * eps, eps ~ N(0, I)",
        "t_meaning": "integer timestep index 0..T-1 passed as float32 (e.g. 999.0); t=T-1 is pure noise, "
                     "t=0 the least noisy step",
        "alpha_bar_values": [float(f"{v:.9g}") for v in ab],
    }


def sampler_section(steps=20, guidance=2.5):
    return {
        "recommended": "DDIM, eta = 0 (deterministic), classifier-free guidance",
        "default_steps": steps,
        "default_guidance_scale": guidance,
        "timesteps": "trailing spacing: for S steps, tau_i = T - 1 - floor(i*T/S) (integer division) for i = 0..S-1 "
                     "(S=20, T=1000: 999, 949, ..., 49)",
        "initial_noise": "x ~ N(0, I), shape [B,1,28,28]",
        "guidance": "eps = eps_null + g * (eps_cond - eps_null)  (eps_null: cond = null_embedding); "
                    "both can be computed in one batch of 2B",
        "update": "a = alpha_bar[tau_i]; a_prev = alpha_bar[tau_{i+1}] (1.0 after the last step); "
                  "x0 = clip((x - sqrt(1-a)*eps) / sqrt(a), -1, 1); eps' = (x - sqrt(a)*x0) / sqrt(1-a); "
                  "x = sqrt(a_prev)*x0 + sqrt(1-a_prev)*eps'",
        "output": "final x in [-1,1]; pixel = round((x + 1) * 127.5) clipped to 0..255 (0 = black background)",
    }


def export(ckpt_path, out_dir):
    torch = fmnist.setup_torch(0)
    from ddpm_model import DDPMModel
    os.makedirs(out_dir, exist_ok=True)
    ck = torch.load(ckpt_path)
    a = ck["args"]
    model = DDPMModel(ch=a["ch"], cond_dim=a["cond_dim"])
    model.load_state_dict(ck["ema"])
    model.eval()
    emb = model.embeddings().detach()
    onnx_path = os.path.join(out_dir, "denoiser.onnx")
    export_onnx(model.unet, onnx_path, a["cond_dim"])
    write_conditioning_json(os.path.join(out_dir, "conditioning.json"), emb[:10].tolist(), emb[10].tolist())

    card_path = os.path.join(out_dir, "model_card.json")
    old = {}
    if os.path.exists(card_path):
        with open(card_path) as f:
            old = json.load(f)
    nparams = sum(p.numel() for p in model.unet.parameters())
    log = ck["log"]
    card = {
        "name": "fmnist-ddpm",
        "description": "Class-conditional DDPM (small UNet, eps-prediction) for 28x28 grey-scale "
                       "Fashion-MNIST-like images, conditioned on a continuous embedding vector; "
                       "classifier-free guidance via a learned NULL embedding.",
        "files": {"denoiser": "denoiser.onnx", "conditioning": "conditioning.json"},
        "onnx": {
            "opset": 13,
            "inputs": {
                "x": {"dtype": "float32", "shape": ["batch", 1, 28, 28], "meaning": "noisy image x_t, pixel range [-1,1]"},
                "t": {"dtype": "float32", "shape": ["batch"], "meaning": "timestep index 0..999 as float"},
                "cond": {"dtype": "float32", "shape": ["batch", a["cond_dim"]],
                         "meaning": "conditioning vector (class row or null_embedding from conditioning.json, or any mix)"},
            },
            "outputs": {"eps": {"dtype": "float32", "shape": ["batch", 1, 28, 28], "meaning": "predicted noise"}},
        },
        "architecture": {
            "type": "UNet 28->14->7, GroupNorm+SiLU residual blocks with FiLM (scale/shift) from "
                    "time+conditioning embedding, one self-attention block (4 heads) at 7x7",
            "base_channels": a["ch"], "channels": [a["ch"], 2 * a["ch"], 4 * a["ch"]],
            "time_embedding": f"sinusoidal({a['ch']}) of float t -> MLP -> {4 * a['ch']}",
            "conditioning": f"cond [{a['cond_dim']}] -> MLP -> {4 * a['ch']}, added to the time embedding",
            "parameters": nparams,
            "embedding_table": "11 x %d learned (10 classes + NULL), rows L2-normalised to 1" % a["cond_dim"],
        },
        "conditioning_dim": a["cond_dim"],
        "pixel_range": "[-1, 1] (x = pixel/127.5 - 1, white garment on black background)",
        "noise_schedule": schedule_section(),
        "sampler": sampler_section(),
        "training": {
            "data": "Fashion-MNIST train split, all 60000 images with their labels",
            "objective": "MSE(eps_pred, eps), t ~ Uniform{0..999}",
            "cfg_label_dropout": a["p_uncond"],
            "steps": ck["step"], "batch_size": a["batch"],
            "epochs": round(ck["step"] * a["batch"] / 60000, 2),
            "optimizer": f"AdamW(lr={a['lr']}, weight_decay={a['weight_decay']}), {a['warmup']} warm-up steps, "
                         f"cosine decay to {a['min_lr_frac']}*lr, grad-norm clip 1.0",
            "ema_decay": a["ema"], "exported_weights": "EMA",
            "seed": a["seed"],
            "threads": 1,
            "wall_time_s": round(ck["elapsed"]),
            "final_loss_avg_last_500_steps": round(sum(r["loss"] for r in log[-10:]) / max(1, len(log[-10:])), 4),
            "hardware": "1 CPU thread (x86-64, AVX2), torch 1.13 (Debian)",
            "script": "tools/models/train_generator.py",
        },
        "license": FMNIST_LICENSE,
        "quality": old.get("quality", {"status": "not evaluated yet; run tools/models/evaluate.py"}),
    }
    if "sampler" in old and "default_guidance_scale" in old["sampler"]:
        card["sampler"]["default_guidance_scale"] = old["sampler"]["default_guidance_scale"]
    with open(card_path, "w") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    print(f"exported {onnx_path} ({os.path.getsize(onnx_path)} bytes), {nparams} params")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="/tmp/winnow-models/generator/ckpt.pt")
    p.add_argument("--out-dir", default=fmnist.repo_path("resources", "models", "fmnist-ddpm"))
    a = p.parse_args()
    export(a.ckpt, a.out_dir)
