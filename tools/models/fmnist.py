"""Shared helpers for the Winnow default-model scripts.

* IDX (gzip) reading/writing for Fashion-MNIST.
* Class names / vocabulary.
* Seeding and single-thread setup (the dev machine has 2 cores; one is
  reserved for other work, so every script calls ``setup_torch()``).
"""
import gzip
import os
import random
import struct

import numpy as np

FMNIST_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")

CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# Simple words/synonyms -> class index (lower-case). The runtime's text
# conditioning encoder maps a prompt word to a class row of the embedding table.
VOCABULARY = {
    0: ["t-shirt/top", "t-shirt", "tshirt", "t shirt", "tee", "top"],
    1: ["trouser", "trousers", "pants", "jeans", "slacks"],
    2: ["pullover", "sweater", "jumper"],
    3: ["dress", "gown"],
    4: ["coat", "jacket", "overcoat"],
    5: ["sandal", "sandals"],
    6: ["shirt", "blouse"],
    7: ["sneaker", "sneakers", "trainer", "trainers"],
    8: ["bag", "handbag", "purse"],
    9: ["ankle boot", "ankle boots", "boot", "boots"],
}

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def repo_path(*parts):
    return os.path.join(REPO_ROOT, *parts)


def read_idx(path):
    """Read a (optionally gzipped) IDX file into a numpy array (uint8)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, "only unsigned-byte IDX supported"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims).copy()


def write_idx_gz(path, arr):
    """Write a uint8 array as a gzip IDX file (deterministic: mtime=0)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(header)
            f.write(arr.tobytes())


def load_split(split):
    """split: 'train' (60k) or 'test' (10k). Returns (images uint8 [N,28,28], labels uint8 [N])."""
    prefix = {"train": "train", "test": "t10k"}[split]
    x = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FMNIST_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return x, y


_INTEROP_SET = False


def setup_torch(seed, threads=1):
    """One CPU thread + seed python/numpy/torch. Safe to call more than once."""
    global _INTEROP_SET
    import torch
    torch.set_num_threads(threads)
    if not _INTEROP_SET:
        # may only be set once per process, before any parallel work
        torch.set_num_interop_threads(1)
        _INTEROP_SET = True
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch
