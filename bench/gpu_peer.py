"""The peer for bench/gpu.ts: the embedded DDPM denoiser in PyTorch, eager fp32 and bf16, on the same device.

The network is tools/models/ddpm_model.py's UNet (the model card's base channels); its weights are the
ONNX initialisers, matched by name. The export folded GroupNorm's affine parameters away, so those keep
their defaults: outputs differ from Winnow's, the work per call does not, and only speed is compared.
Images/s counts one image as 20 DDIM steps with classifier-free guidance (a batch of 2B per step), as
bench/gpu.ts's own figures do.

    python3 bench/gpu_peer.py --device cuda|cpu --batches 128,1024 [--out peer.json]

Prints one JSON object; needs torch and onnx (a missing one is reported in that object, not raised).
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / 'resources' / 'models' / 'fmnist-ddpm'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--batches', default='128,1024')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--out')
    args = parser.parse_args()
    try:
        import numpy as np
        import onnx
        import torch
        from onnx import numpy_helper
    except ImportError as error:
        print(json.dumps({'available': False, 'reason': f'{error.name} is not installed'}))
        return
    if args.device == 'cuda' and not torch.cuda.is_available():
        print(json.dumps({'available': False, 'reason': 'torch finds no CUDA device'}))
        return
    sys.path.insert(0, str(ROOT / 'tools' / 'models'))
    from ddpm_model import UNet

    card = json.loads((MODEL / 'model_card.json').read_text())
    torch.set_default_device(args.device)  # the UNet builds its timestep frequencies on the default device
    net = UNet(ch=card['base_channels'], cond_dim=64)
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(MODEL / 'denoiser.onnx')).graph.initializer}
    state = net.state_dict()
    matched = {k: torch.from_numpy(weights[k].copy()) for k, t in state.items()
               if k in weights and tuple(weights[k].shape) == tuple(t.shape)}
    net.load_state_dict({**state, **matched})
    net = net.to(args.device).eval()

    def sync() -> None:
        if args.device == 'cuda':
            torch.cuda.synchronize()

    results = []
    for batch in [int(b) for b in args.batches.split(',')]:
        for precision in ['fp32', 'bf16']:
            x = torch.randn(2 * batch, 1, 28, 28)
            t = torch.full((2 * batch,), 500.0)
            c = torch.randn(2 * batch, 64)
            with torch.no_grad(), torch.autocast(args.device, dtype=torch.bfloat16, enabled=precision == 'bf16'):
                for _ in range(2):
                    net(x, t, c)
                sync()
                reps = 5
                start = time.perf_counter()
                for _ in range(reps):
                    net(x, t, c)
                sync()
                seconds = (time.perf_counter() - start) / reps
            results.append({'batch': batch, 'precision': precision, 'msPerStep': seconds * 1000,
                            'imagesPerSecond': batch / (seconds * args.steps)})
    out = {'available': True, 'device': args.device, 'torch': torch.__version__,
           'matchedWeights': f'{len(matched)} of {len(state)}',
           'gpu': torch.cuda.get_device_name(0) if args.device == 'cuda' else None, 'results': results}
    print(json.dumps(out))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
