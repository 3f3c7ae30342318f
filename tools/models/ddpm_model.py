"""Class-conditional DDPM denoiser (small UNet) with a CONTINUOUS conditioning input.

The network ``UNet(x, t, cond) -> eps`` predicts the noise added to ``x``.

* ``x``   float32 [B,1,28,28], pixel range [-1, 1] (noised image x_t)
* ``t``   float32 [B], the integer DDPM timestep 0..T-1 stored as float
          (t=0 is the least noisy step; alpha_bar[t] as in ``make_schedule``)
* ``cond`` float32 [B,D], a conditioning vector. The learned class table rows
          and the learned NULL row are L2-normalised to norm 1 before use, so
          a class conditioning is a unit vector; the denoiser itself accepts any
          vector (no normalisation of ``cond`` inside the forward pass), so
          mixtures / perturbations / optimised vectors can be fed directly.

``DDPMModel`` wraps the UNet with the 11 x D embedding table (10 classes + NULL,
row 10 = NULL) used in training for classifier-free guidance.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

T_STEPS = 1000
BETA_START = 1e-4
BETA_END = 0.02
NUM_CLASSES = 10
NULL_INDEX = 10


def make_schedule(T=T_STEPS, beta_start=BETA_START, beta_end=BETA_END):
    """Linear beta schedule (Ho et al. 2020). Returns float64 numpy arrays."""
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    alphas = 1.0 - betas
    alpha_bar = np.cumprod(alphas)
    return betas, alpha_bar


def timestep_embedding(t, dim, max_period=10000.0):
    """Sinusoidal embedding of a float timestep tensor [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def norm(ch):
    return nn.GroupNorm(min(8, ch), ch)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, edim, dropout=0.0):
        super().__init__()
        self.n1 = norm(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(edim, 2 * cout)  # scale/shift (FiLM) from time+cond
        self.n2 = norm(cout)
        self.drop = nn.Dropout(dropout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = self.c1(F.silu(self.n1(x)))
        s, b = self.emb(F.silu(e))[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + s) + b
        h = self.c2(self.drop(F.silu(h)))
        return self.skip(x) + h


class Attn(nn.Module):
    def __init__(self, ch, heads=4):
        super().__init__()
        self.n = norm(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.out = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.heads = heads

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.n(x)).reshape(B, 3, self.heads, C // self.heads, H * W).unbind(1)
        w = torch.softmax(torch.einsum("bhcn,bhcm->bhnm", q, k) / math.sqrt(C // self.heads), dim=-1)
        h = torch.einsum("bhnm,bhcm->bhcn", w, v).reshape(B, C, H, W)
        return x + self.out(h)


class UNet(nn.Module):
    """28 -> 14 -> 7 UNet. ch=32: about 1.6M parameters."""

    def __init__(self, ch=32, cond_dim=64, dropout=0.0):
        super().__init__()
        self.ch = ch
        self.cond_dim = cond_dim
        ed = 4 * ch
        self.t_mlp = nn.Sequential(nn.Linear(ch, ed), nn.SiLU(), nn.Linear(ed, ed))
        self.c_mlp = nn.Sequential(nn.Linear(cond_dim, ed), nn.SiLU(), nn.Linear(ed, ed))
        c1, c2, c3 = ch, 2 * ch, 4 * ch
        self.inp = nn.Conv2d(1, c1, 3, padding=1)
        self.d1 = ResBlock(c1, c1, ed, dropout)
        self.down1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)   # 28 -> 14
        self.d2 = ResBlock(c1, c2, ed, dropout)
        self.down2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)   # 14 -> 7
        self.d3 = ResBlock(c2, c3, ed, dropout)
        self.m1 = ResBlock(c3, c3, ed, dropout)
        self.mattn = Attn(c3)
        self.m2 = ResBlock(c3, c3, ed, dropout)
        self.u3 = ResBlock(c3 + c3, c3, ed, dropout)
        self.up2 = nn.Conv2d(c3, c2, 3, padding=1)               # after 7 -> 14 upsample
        self.u2 = ResBlock(c2 + c2, c2, ed, dropout)
        self.up1 = nn.Conv2d(c2, c1, 3, padding=1)               # after 14 -> 28 upsample
        self.u1 = ResBlock(c1 + c1, c1, ed, dropout)
        self.out_n = norm(c1)
        self.out = nn.Conv2d(c1, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x, t, cond):
        e = self.t_mlp(timestep_embedding(t, self.ch)) + self.c_mlp(cond)
        h0 = self.inp(x)
        h1 = self.d1(h0, e)
        h2 = self.d2(self.down1(h1), e)
        h3 = self.d3(self.down2(h2), e)
        m = self.m2(self.mattn(self.m1(h3, e)), e)
        u = self.u3(torch.cat([m, h3], 1), e)
        u = self.up2(F.interpolate(u, scale_factor=2.0, mode="nearest"))
        u = self.u2(torch.cat([u, h2], 1), e)
        u = self.up1(F.interpolate(u, scale_factor=2.0, mode="nearest"))
        u = self.u1(torch.cat([u, h1], 1), e)
        return self.out(F.silu(self.out_n(u)))


class DDPMModel(nn.Module):
    """UNet + learned (10 classes + NULL) embedding table, rows L2-normalised."""

    def __init__(self, ch=32, cond_dim=64, dropout=0.0):
        super().__init__()
        self.unet = UNet(ch, cond_dim, dropout)
        self.table = nn.Parameter(torch.randn(NUM_CLASSES + 1, cond_dim))

    def embeddings(self):
        return F.normalize(self.table, dim=1)

    def forward(self, x, t, labels):
        return self.unet(x, t, self.embeddings()[labels])


# ---------------------------------------------------------------- sampling
def ddim_timesteps(S, T=T_STEPS):
    """'Trailing' spacing: tau_i = T - 1 - floor(i*T/S), i = 0..S-1 (descending, integer
    arithmetic). For T=1000, S=20: 999, 949, ..., 49."""
    return [T - 1 - (i * T) // S for i in range(S)]


@torch.no_grad()
def ddim_sample(unet, cond, null, steps=20, guidance=3.0, generator=None, x=None, clip=True):
    """Deterministic DDIM (eta=0) with classifier-free guidance.

    cond: [B,D] conditioning, null: [D] NULL embedding. Returns images in [-1,1].
    """
    _, ab = make_schedule()
    B = cond.shape[0]
    if x is None:
        x = torch.randn(B, 1, 28, 28, generator=generator)
    ts = ddim_timesteps(steps)
    nullb = null[None, :].expand(B, -1)
    for i, t in enumerate(ts):
        a_t = float(ab[t])
        a_prev = float(ab[ts[i + 1]]) if i + 1 < len(ts) else 1.0
        tt = torch.full((B,), float(t))
        if guidance == 1.0:
            eps = unet(x, tt, cond)
        else:
            e = unet(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([nullb, cond]))
            e_null, e_cond = e[:B], e[B:]
            eps = e_null + guidance * (e_cond - e_null)
        x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
        if clip:
            x0 = x0.clamp(-1, 1)
            eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1 - a_t)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return x.clamp(-1, 1)
