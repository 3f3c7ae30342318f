#!/usr/bin/python3
"""Labelled evaluation sets for Winnow's scores, with injected label noise, from Debian packages.

Writes, deterministically from --seed, one ImageFolder set:

  OUT/real/train/<class>/<n>.png   real images with their true labels (--train per class)
  OUT/real/val/<class>/<n>.png     real images with their true labels (--val per class)
  OUT/real/test/<class>/<n>.png    real images with their true labels (--test per class; none by default)
  OUT/synthetic/<label>/<n>.png    the "synthetic" pool (--pool per class before the noise): a
                                   share --noise of it carries a wrong label, a uniformly random
                                   other class; the folder is the label Winnow is told
  OUT/truth.jsonl                  one line per pool image: its path, the label it was given and its
                                   true label (outside synthetic/, so Winnow never reads it)
  OUT/dataset.json                 what was built: source, classes, sizes, seed, noise

Every image is 28x28 greyscale, a light object on a dark background (Fashion-MNIST's polarity, the
input of Winnow's embedded backbone). Images are drawn without replacement from one source, so the
splits are disjoint, and exact duplicates are dropped first (Winnow would skip them on import).

Sources (see README.md beside this file for the packages):
  fashion  Fashion-MNIST's 10,000 test images (dataset-fashion-mnist; the embedded models were
           trained on the train split, so these are images they have never seen)
  digits   scikit-learn's 1,797 8x8 handwritten digits (python3-sklearn), values 0-16 scaled to
           0-255 and upscaled bicubically to 24x24 inside a 2-pixel black margin
  fonts    the letters A-J (as notMNIST) rendered from every distinct Latin font of the installed
           Debian font packages, each image one random font under a random small affine jitter
"""

import argparse
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

PACKAGES = {
    'numpy': 'python3-numpy',
    'PIL': 'python3-pil',
    'sklearn': 'python3-sklearn',
    'fontTools': 'python3-fonttools',
}


def need(module):
    """Imports a module or exits naming the Debian package that provides it."""
    try:
        return __import__(module)
    except ImportError:
        sys.exit(f'error: Python module {module} is missing. Fix: apt-get install {PACKAGES[module]}')


np = need('numpy')
need('PIL')
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

SIZE = 28
FMNIST_DIR = Path('/usr/share/datasets/fashion-mnist')
# The demo's class names (src/main/pipeline/demo.ts), which the embedded generator's prompts know.
FMNIST_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
LETTERS = list('ABCDEFGHIJ')
# Font packages whose Latin fonts are drawn from (directories under /usr/share/fonts), with the
# Debian package that installs each. Symbol and math fonts (fonts-lyx, dingbats) are not listed.
FONT_DIRS = {
    'truetype/dejavu': 'fonts-dejavu-core / fonts-dejavu-extra',
    'truetype/liberation': 'fonts-liberation',
    'truetype/freefont': 'fonts-freefont-ttf',
    'opentype/urw-base35': 'fonts-urw-base35',
    'truetype/noto': 'fonts-noto-core',
}
# Font files there that map A-J to something else than those letters (symbols, dingbats, math
# alphabets, Nüshu).
NOT_LETTERS = ('math', 'symbol', 'd050000l', 'nushu')


# ---------------------------------------------------------------- sources: (images uint8 [N,28,28], labels, classes)


def load_fashion(_rng):
    import gzip

    images_path = FMNIST_DIR / 't10k-images-idx3-ubyte.gz'
    labels_path = FMNIST_DIR / 't10k-labels-idx1-ubyte.gz'
    if not images_path.exists():
        sys.exit(f'error: {images_path} is missing. Fix: apt-get install dataset-fashion-mnist')
    with gzip.open(images_path) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, SIZE, SIZE)
    with gzip.open(labels_path) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return images, labels, FMNIST_CLASSES


def load_digits(_rng):
    need('sklearn')
    from sklearn.datasets import load_digits as sk_digits

    digits = sk_digits()
    inner = SIZE - 4
    out = np.zeros((len(digits.images), SIZE, SIZE), np.uint8)
    for i, small in enumerate(digits.images):
        img = Image.fromarray(np.clip(small * (255 / 16), 0, 255).astype(np.uint8))
        out[i, 2 : 2 + inner, 2 : 2 + inner] = np.asarray(img.resize((inner, inner), Image.BICUBIC))
    return out, digits.target.astype(np.int64), [str(d) for d in range(10)]


def latin_fonts():
    """Every installed font file of FONT_DIRS that maps all of LETTERS, sorted by path."""
    need('fontTools')
    from fontTools.ttLib import TTFont

    root = Path('/usr/share/fonts')
    present = [d for d in FONT_DIRS if (root / d).is_dir()]
    if not present:
        sys.exit('error: no font package found. Fix: apt-get install ' + ' '.join(p.split(' /')[0] for p in FONT_DIRS.values()))
    fonts = []
    for d in present:
        for path in sorted((root / d).rglob('*')):
            if path.suffix.lower() not in ('.ttf', '.otf') or any(w in path.name.lower() for w in NOT_LETTERS):
                continue
            try:
                cmap = TTFont(path, lazy=True)['cmap'].getBestCmap() or {}
            except Exception:  # an unreadable font file is simply not used
                continue
            if all(ord(c) in cmap for c in LETTERS):
                fonts.append(path)
    return fonts


def glyph(font_path, letter, jitter, rng, canvas=112):
    """One letter, white on black, fitted into a 20x20 box centred in 28x28 (as MNIST), under an
    optional random affine jitter (rotation, shear, anisotropic scale, shift) drawn from rng."""
    font = ImageFont.truetype(str(font_path), int(canvas * 0.6))
    img = Image.new('L', (canvas, canvas), 0)
    ImageDraw.Draw(img).text((canvas / 2, canvas / 2), letter, fill=255, font=font, anchor='mm')
    box = img.getbbox()
    if box is None:
        return None
    img = img.crop(box)
    w, h = img.size
    scale = 20 / max(w, h)
    img = img.resize((max(1, round(w * scale * 4)), max(1, round(h * scale * 4))), Image.LANCZOS)
    big = Image.new('L', (SIZE * 4, SIZE * 4), 0)
    big.paste(img, ((SIZE * 4 - img.size[0]) // 2, (SIZE * 4 - img.size[1]) // 2))
    if jitter:
        angle = math.radians(rng.uniform(-12, 12))
        shear = rng.uniform(-0.2, 0.2)
        sx, sy = rng.uniform(0.85, 1.05), rng.uniform(0.85, 1.05)
        tx, ty = rng.uniform(-1.5, 1.5) * 4, rng.uniform(-1.5, 1.5) * 4
        # forward map M = R·Sh·S about the centre; PIL's AFFINE wants the inverse (output → input)
        c, s = math.cos(angle), math.sin(angle)
        m = np.array([[c, -s], [s, c]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([sx, sy])
        inv = np.linalg.inv(m)
        centre = SIZE * 2
        offset = np.array([centre, centre]) - inv @ np.array([centre + tx, centre + ty])
        big = big.transform(big.size, Image.AFFINE, (*inv[0], offset[0], *inv[1], offset[1]), Image.BILINEAR)
    return np.asarray(big.resize((SIZE, SIZE), Image.BOX))


def load_fonts(rng, per_class):
    candidates = latin_fonts()
    # Many font files share their Latin glyphs (Noto's script fonts reuse Noto Sans): keep one of each
    # look, judged by the plain rendering of all ten letters.
    fonts, looks = [], []
    for path in candidates:
        try:
            look = np.concatenate([glyph(path, c, False, None).astype(np.float32).ravel() for c in LETTERS])
        except (OSError, AttributeError):  # a font FreeType cannot render
            continue
        if all(np.abs(look - other).mean() > 4 for other in looks):
            fonts.append(path)
            looks.append(look)
    if len(fonts) < 10:
        sys.exit(f'error: only {len(fonts)} distinct Latin fonts found. Fix: apt-get install ' + ' '.join(p.split(' /')[0] for p in FONT_DIRS.values()))
    images, labels = [], []
    for c, letter in enumerate(LETTERS):
        for _ in range(per_class):
            images.append(glyph(fonts[rng.integers(len(fonts))], letter, True, rng))
            labels.append(c)
    source = {'fonts': len(fonts), 'font_files_with_latin': len(candidates)}
    return np.stack(images), np.array(labels, np.int64), LETTERS, source


# ---------------------------------------------------------------- the set


def unique(images, labels):
    """Drops exact duplicate images (keeping the first)."""
    seen, keep = set(), []
    for i, img in enumerate(images):
        key = hashlib.sha256(img.tobytes()).digest()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return images[keep], labels[keep]


def write(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, 'L').save(path, optimize=False)


def build(args):
    rng = np.random.default_rng(args.seed)
    need_per_class = args.train + args.val + args.pool + args.test
    source = {}
    if args.dataset == 'fashion':
        images, labels, classes = load_fashion(rng)
    elif args.dataset == 'digits':
        images, labels, classes = load_digits(rng)
    else:
        images, labels, classes, source = load_fonts(rng, need_per_class)
    images, labels = unique(images, labels)
    C = len(classes)
    splits = {'train': [], 'val': [], 'pool': [], 'test': []}
    for c in range(C):
        members = rng.permutation(np.flatnonzero(labels == c))
        if len(members) < need_per_class:
            sys.exit(
                f'error: class {classes[c]} of {args.dataset} has {len(members)} distinct images, fewer than '
                f'--train + --val + --pool + --test = {need_per_class}. Fix: ask for fewer per class.'
            )
        splits['train'] += list(members[: args.train])
        splits['val'] += list(members[args.train : args.train + args.val])
        pool_end = args.train + args.val + args.pool
        splits['pool'] += list(members[args.train + args.val : pool_end])
        # Drawn after the pool, so a set built without a test split has the same images with one.
        splits['test'] += list(members[pool_end:need_per_class])

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    for split in ('train', 'val', 'test'):
        for n, i in enumerate(splits[split]):
            write(out / 'real' / split / classes[labels[i]] / f'{n:05d}.png', images[i])

    pool = rng.permutation(np.array(splits['pool']))
    wrong = np.zeros(len(pool), bool)
    wrong[rng.choice(len(pool), round(args.noise * len(pool)), replace=False)] = True
    truth = []
    for n, i in enumerate(pool):
        true = int(labels[i])
        given = int((true + rng.integers(1, C)) % C) if wrong[n] else true  # uniform over the other classes
        rel = f'synthetic/{classes[given]}/{n:05d}.png'
        write(out / rel, images[i])
        truth.append({'file': rel, 'label': classes[given], 'true_label': classes[true], 'wrong': bool(wrong[n])})
    with open(out / 'truth.jsonl', 'w') as f:
        f.writelines(json.dumps(t) + '\n' for t in truth)
    meta = {
        'dataset': args.dataset,
        'classes': classes,
        'seed': args.seed,
        'noise': args.noise,
        'per_class': {'train': args.train, 'val': args.val, 'pool': args.pool, 'test': args.test},
        'pool_size': len(pool),
        'wrong': int(wrong.sum()),
        'image': [SIZE, SIZE, 1],
        **source,
    }
    (out / 'dataset.json').write_text(json.dumps(meta, indent=1) + '\n')
    print(json.dumps(meta))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', required=True, choices=['fashion', 'digits', 'fonts'])
    p.add_argument('--out', required=True, help='the folder to write (replaced if it exists)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--noise', type=float, default=0.2, help='share of the pool given a wrong label')
    p.add_argument('--train', type=int, default=20, help='real training images per class')
    p.add_argument('--val', type=int, default=100, help='real validation images per class')
    p.add_argument('--pool', type=int, default=100, help='pool images per class (before the noise)')
    p.add_argument('--test', type=int, default=0, help='real test images per class (held out: never imported as train or val)')
    args = p.parse_args()
    if not 0 <= args.noise < 1:
        p.error('--noise must be in [0, 1)')
    build(args)


if __name__ == '__main__':
    main()
