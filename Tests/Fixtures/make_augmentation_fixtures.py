"""Golden outputs of Keras' ImageDataGenerator.apply_transform for AugmentationTests.

Run with the Keras venv:  /work/venv-keras/bin/python Tests/Fixtures/make_augmentation_fixtures.py
Writes Tests/Fixtures/augmentation/cases.json (the parameter sets and image sizes), one
little-endian float32 input image per size and one output per case, all (H, W, C) channels
last (the 40 small random cases share random_cases.f32, at the offsets the manifest gives, in
floats). The inputs are stored rather than recomputed in Swift because sin/cos may differ in the
last bit between NumPy and Foundation.

No randomness is involved on the Keras side: each case passes an explicit
transform_parameters dict, so the fixture pins down the resampling, not NumPy's stream.
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from keras.src.legacy.preprocessing.image import ImageDataGenerator  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "augmentation")


def test_image(h, w, c):
    """(H, W, C) float32 in about [0, 255]: smooth but asymmetric, so any axis mix-up shows."""
    r = np.arange(h, dtype=np.float64)[:, None, None]
    q = np.arange(w, dtype=np.float64)[None, :, None]
    k = np.arange(c, dtype=np.float64)[None, None, :]
    v = 127.5 + 100.0 * np.sin(0.37 * r + 0.11 * q * q / w + 1.3 * k) + 20.0 * np.cos(0.23 * q - 0.5 * r + k)
    return v.astype(np.float32)


CASES = [
    # name, (H, W, C), fill_mode, cval, transform_parameters
    ("rotation", (24, 32, 3), "nearest", 0.0, {"theta": 17.0}),
    ("rotation_square", (20, 20, 3), "nearest", 0.0, {"theta": -33.3}),
    ("shift_tx", (24, 32, 3), "nearest", 0.0, {"tx": 3.7}),
    ("shift_ty_pixels", (24, 32, 3), "constant", 0.0, {"ty": -5}),
    ("shear", (24, 32, 3), "nearest", 0.0, {"shear": 21.0}),
    ("zoom", (24, 32, 3), "nearest", 0.0, {"zx": 0.83, "zy": 1.19}),
    ("flip_horizontal", (24, 32, 3), "nearest", 0.0, {"flip_horizontal": True}),
    ("flip_vertical", (24, 32, 3), "nearest", 0.0, {"flip_vertical": True}),
    ("all_nearest", (24, 32, 3), "nearest", 0.0,
     {"theta": 12.5, "tx": -2.3, "ty": 4.1, "shear": 8.0, "zx": 1.12, "zy": 0.91, "flip_horizontal": True}),
    ("all_constant", (24, 32, 3), "constant", 17.25,
     {"theta": -24.0, "tx": 3.3, "ty": -1.7, "shear": -11.0, "zx": 0.88, "zy": 1.23, "flip_vertical": True}),
    ("all_reflect", (24, 32, 3), "reflect", 0.0,
     {"theta": 40.0, "tx": 5.5, "ty": -6.2, "shear": 15.0, "zx": 1.3, "zy": 1.4}),
    ("all_wrap", (24, 32, 3), "wrap", 0.0,
     {"theta": -52.0, "tx": -7.5, "ty": 9.1, "shear": -19.0, "zx": 1.45, "zy": 1.2, "flip_horizontal": True,
      "flip_vertical": True}),
    ("tall_one_channel", (31, 17, 1), "nearest", 0.0, {"theta": 28.0, "tx": 1.5, "zx": 0.9, "zy": 1.1}),
    ("tall_four_channels_constant", (19, 13, 4), "constant", -3.0,
     {"theta": 71.0, "ty": 2.25, "shear": 30.0, "zx": 1.6, "zy": 0.7}),
    ("large_zoom_out_reflect", (16, 22, 3), "reflect", 0.0, {"zx": 3.1, "zy": 2.7, "theta": 5.0}),
    ("large_zoom_out_wrap", (16, 22, 3), "wrap", 0.0, {"zx": 2.9, "zy": 3.3, "shear": -4.0}),
    ("identity", (24, 32, 3), "nearest", 0.0, {}),
]


def random_cases(count=40, seed=1234):
    """Small images under wild parameters (zoom up to 3, shifts past the edge, large angles) in
    every mode, so the boundary rules are exercised far outside the image too."""
    rng = np.random.default_rng(seed)
    modes = ["nearest", "constant", "reflect", "wrap"]
    cases = []
    for i in range(count):
        h, w = (int(v) for v in rng.integers(2, 12, 2))
        params = {
            "theta": float(rng.uniform(-180, 180)),
            "tx": float(rng.uniform(-1.5, 1.5) * h),
            "ty": float(rng.uniform(-1.5, 1.5) * w),
            "shear": float(rng.uniform(-60, 60)),
            "zx": float(rng.uniform(0.3, 3.0)),
            "zy": float(rng.uniform(0.3, 3.0)),
            "flip_horizontal": bool(rng.random() < 0.5),
            "flip_vertical": bool(rng.random() < 0.5),
        }
        cases.append((f"random_{i:02d}", (h, w, 2), modes[i % 4], float(rng.uniform(-10, 10)), params))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "image": "float32(127.5 + 100 sin(0.37 r + 0.11 q^2 / W + 1.3 k) + 20 cos(0.23 q - 0.5 r + k))",
        "cases": [],
    }
    packed, packed_count = [], 0
    for name, (h, w, c), fill_mode, cval, params in CASES + random_cases():
        x = test_image(h, w, c)
        gen = ImageDataGenerator(fill_mode=fill_mode, cval=cval)
        y = gen.apply_transform(x.copy(), dict(params))
        y = np.ascontiguousarray(y, dtype=np.float32)
        assert y.shape == (h, w, c)
        n = h * w * c
        if name.startswith("random"):
            # The many small random cases share one file, input then output, one after another.
            packed.append(x.reshape(-1))
            packed.append(y.reshape(-1))
            input_name, input_offset = "random_cases.f32", packed_count
            fname, output_offset = "random_cases.f32", packed_count + n
            packed_count += 2 * n
        else:
            fname, output_offset = name + ".f32", 0
            y.astype("<f4").tofile(os.path.join(OUT, fname))
            input_name, input_offset = f"input_{h}x{w}x{c}.f32", 0
            x.astype("<f4").tofile(os.path.join(OUT, input_name))
        full = {"theta": 0.0, "tx": 0.0, "ty": 0.0, "shear": 0.0, "zx": 1.0, "zy": 1.0,
                "flip_horizontal": False, "flip_vertical": False}
        full.update({k: (bool(v) if isinstance(v, bool) else float(v)) for k, v in params.items()})
        manifest["cases"].append({"name": name, "height": h, "width": w, "channels": c, "fill_mode": fill_mode,
                                  "cval": cval, "parameters": full, "input": input_name,
                                  "input_offset": input_offset, "output": fname, "output_offset": output_offset})
        if not name.startswith("random"):
            print(f"{name:32s} {h}x{w}x{c} {fill_mode:8s} changed {float(np.abs(y - x).max()):8.3f}")
    np.concatenate(packed).astype("<f4").tofile(os.path.join(OUT, "random_cases.f32"))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
