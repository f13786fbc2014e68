#!/usr/bin/env python3
"""Regenerate the array-input fixtures: a tiny CIFAR-10-like dataset and the features Keras
computes for it.

Run from the repository root with a Python that has numpy, Pillow, tensorflow-cpu and keras 3
(e.g. /work/venv):

    python Tests/Fixtures/make_array_fixtures.py

It (re)writes, and nothing else:

* Tests/Fixtures/arrays/cifar_like.npz             np.savez (zip entries stored): x uint8
                                                   (6, 32, 32, 3), y uint8 (6, 1) as
                                                   cifar10.load_data() gives them, and
                                                   y_onehot float32 (6, 4) as
                                                   keras.utils.to_categorical gives it
* Tests/Fixtures/arrays/cifar_like_compressed.npz  the same arrays with np.savez_compressed
                                                   (entries deflated)
* Tests/Fixtures/arrays/<case>.f32                 per case, float32 little-endian [6, dim]
* Tests/Fixtures/arrays/manifest.json              versions and the cases

The images are synthetic (gradients, discs, stripes, a checkerboard: small when compressed,
with edges that make a resize visible). The weights are the synthetic seed-0 weights of
Docs/keras-parity.md, from make_keras_fixtures.py, so `extract --weights` with the same
generated file computes the same network. What a Keras user does with such arrays:

    x = x_train                                            # (N, 32, 32, 3) uint8
    # at another size, each image as load_img(target_size=...) would resize it:
    x = np.stack([np.asarray(Image.fromarray(i).resize((W, H), resample)) for i in x])
    x = preprocess_input(x.astype("float32"))              # 'caffe'
    per tap: global average pool, L2-normalise, concatenated in tap order
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_keras_fixtures as kf  # noqa: E402  (the weight generator and the feature recipe)

OUT = kf.FIXTURES / "arrays"
TAPS = ["block1_pool", "block5_pool"]  # an early tap is image-sensitive even with synthetic weights


def make_arrays() -> tuple[np.ndarray, np.ndarray]:
    h, w = np.mgrid[0:32, 0:32].astype(np.float64)
    images = []
    for k in range(6):
        r = (h * (3 + k) + w * 2) % 256
        g = 255 * ((h - 8 - k) ** 2 + (w - 16) ** 2 < (60 + 20 * k))
        b = 255 * (((h // (2 + k % 3)) + (w // 4)) % 2) if k % 2 else (w * 8) % 256
        images.append(np.stack([r, g, np.broadcast_to(b, r.shape)], axis=-1).astype(np.uint8))
    x = np.stack(images)
    y = np.array([[3], [0], [1], [3], [2], [0]], dtype=np.uint8)
    return x, y


CASES = [
    dict(name="vgg16_32x32_own_size", backbone="vgg16", height=32, width=32, interpolation=None),
    dict(name="vgg16_48x40_bilinear", backbone="vgg16", height=48, width=40, interpolation="bilinear"),
]


def features(case: dict, x: np.ndarray) -> np.ndarray:
    _, preprocess = kf.applications(case["backbone"])
    if case["interpolation"] is not None:
        resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}[case["interpolation"]]
        x = np.stack([np.asarray(Image.fromarray(i).resize((case["width"], case["height"]), resample))
                      for i in x])
    batch = preprocess(x.astype("float32"))
    model = kf.build_backbone(case["backbone"], case["height"], case["width"])
    ours, _, widths = kf.user_features(model, dict(case, taps=TAPS), batch)
    return ours, widths


def main() -> None:
    import keras
    keras.utils.set_random_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    x, y = make_arrays()
    onehot = keras.utils.to_categorical(y[:, 0], 4)
    np.savez(OUT / "cifar_like.npz", x=x, y=y, y_onehot=onehot)
    np.savez_compressed(OUT / "cifar_like_compressed.npz", x=x, y=y, y_onehot=onehot)
    manifest = {"versions": kf.versions(), "generator": f"Docs/keras-parity.md seed {kf.SEED}",
                "taps": TAPS, "cases": []}
    for case in CASES:
        feats, widths = features(case, x)
        (OUT / f"{case['name']}.f32").write_bytes(feats.astype("<f4").tobytes())
        manifest["cases"].append(dict(case, rows=int(feats.shape[0]), dim=int(feats.shape[1]),
                                      tap_widths=widths, file=f"arrays/{case['name']}.f32"))
        print(case["name"], feats.shape, flush=True)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
