#!/usr/bin/env python3
"""Regenerate the Keras parity fixtures: test photographs and the features Keras computes.

Run from the repository root with a Python that has tensorflow-cpu, keras 3, Pillow, h5py,
scikit-image and scikit-learn (e.g. /work/venv-keras):

    python Tests/Fixtures/make_keras_fixtures.py

It (re)writes, and nothing else:

* Tests/Fixtures/images/*      small real photographs (from scikit-image's and scikit-learn's
                               bundled data, no download) saved in the variants a decoder must
                               handle: baseline / progressive / grayscale / CMYK / 4:4:4 JPEG,
                               EXIF-rotated JPEG, RGB / RGBA / palette+tRNS / grayscale / 16-bit
                               PNG, a tiny image and a wide one. File names say the variant.
* Tests/Fixtures/keras/<case>.f32   per case, raw little-endian float32, row-major [rows, dim]:
                               the features a Keras user gets (see `user_features`).
* Tests/Fixtures/keras/manifest.json  versions, the weight-generator cross-check values, and
                               per case: backbone, HEIGHTxWIDTH, interpolation, taps and their
                               widths, image paths (relative to Tests/Fixtures), file name, and
                               the float32-TF vs float64-NumPy pooling noise.

Weights are not ImageNet weights (no download is possible on test machines): every parameter
comes from the deterministic generator of Docs/keras-parity.md (seed 0), implemented here
bit-exactly in vectorised NumPy (uint32 hashing, float32 results). Swift implements the same
generator (`--weights random --seed 0`), so the two sides compute the same network.

What a Keras user does, and what the features are, for each image:

    img = keras.utils.load_img(path, target_size=(H, W), interpolation=I)
    x   = keras.utils.img_to_array(img)
    x   = keras.applications.<resnet50|vgg16|vgg19>.preprocess_input(x)   # 'caffe': BGR, mean
    outs = keras.Model(model.input, [model.get_layer(t).output for t in taps]).predict(batch)
    per tap: global average pool over H, W, then L2-normalise (float64), concatenated in tap
    order, stored as float32.

Everything is deterministic for fixed library versions (recorded in the manifest); JPEG bytes
depend on Pillow's bundled libjpeg, so re-running with another Pillow may change the images
and hence the numbers (the manifest and images are regenerated together).
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
from PIL import Image

FIXTURES = Path(__file__).resolve().parent
IMAGES = FIXTURES / "images"
KERAS_DIR = FIXTURES / "keras"
SEED = 0

# ---------------------------------------------------------------------------------------------
# The synthetic weight generator (Docs/keras-parity.md), bit-exact, vectorised.
# ---------------------------------------------------------------------------------------------

M1 = np.uint32(0x85EBCA6B)
M2 = np.uint32(0xC2B2AE35)


def fmix32(x: np.ndarray) -> np.ndarray:
    """Murmur3 finaliser on uint32 (wrapping multiplies)."""
    x = np.asarray(x, dtype=np.uint32).copy()
    x ^= x >> np.uint32(16)
    x *= M1
    x ^= x >> np.uint32(13)
    x *= M2
    x ^= x >> np.uint32(16)
    return x


def fnv1a32(s: str) -> np.uint32:
    """FNV-1a over the UTF-8 bytes of s."""
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return np.uint32(h)


def uniform_f32(seed: int, layer: str, role: str, count: int) -> np.ndarray:
    """f_i in [-1, 1) for i = 0..count-1, exactly as the spec says."""
    key = fnv1a32(f"{seed}:{layer}/{role}")
    i = np.arange(count, dtype=np.uint32)
    u = fmix32(key ^ fmix32(i))
    # (u >> 8) has 24 bits: exact in float32; the scale and the -1 are exact too.
    return (u >> np.uint32(8)).astype(np.float32) * np.float32(2.0**-23) - np.float32(1.0)


def synthetic_array(seed: int, layer: str, role: str, shape: tuple[int, ...]) -> np.ndarray:
    """One parameter array in Keras' layout (kernels HWIO), float32, per the role table."""
    count = int(np.prod(shape))
    f = uniform_f32(seed, layer, role, count)
    one = np.float32(1.0)
    if role == "kernel":
        fan_in = int(np.prod(shape[:-1]))
        v = f * np.float32(np.sqrt(6.0 / fan_in))
    elif role in ("bias", "beta", "moving_mean"):
        v = f * np.float32(0.1)
    elif role == "gamma":
        v = one + f * np.float32(0.25)
    elif role == "moving_variance":
        v = one + f * np.float32(0.5)
    else:
        raise ValueError(f"no generator rule for role {role!r} of layer {layer!r}")
    assert v.dtype == np.float32
    return v.reshape(shape)


def set_synthetic_weights(model, seed: int = SEED) -> int:
    """Set every weight of the model from the generator, by Keras layer name and role."""
    n = 0
    for layer in model.layers:
        if not layer.weights:
            continue
        values = []
        for w in layer.weights:
            role = w.path.split("/")[-1]  # Keras 3 variable path: "<layer>/<role>"
            values.append(synthetic_array(seed, layer.name, role, tuple(w.shape)))
            n += 1
        layer.set_weights(values)
    return n


# ---------------------------------------------------------------------------------------------
# Test photographs.
# ---------------------------------------------------------------------------------------------


def resized(arr: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """An antialiased downscale (Pillow LANCZOS) of a uint8 array to size=(W, H)."""
    return Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS)


def write_png_rgb16(path: Path, rgb16: np.ndarray) -> None:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot save RGB;16)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    path.write_bytes(png)


def exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def make_images() -> list[str]:
    """Write the test photographs; return their paths relative to Tests/Fixtures, in order."""
    import skimage.data as sd
    from sklearn.datasets import load_sample_images

    IMAGES.mkdir(parents=True, exist_ok=True)
    for old in IMAGES.iterdir():
        old.unlink()
    china, flower = load_sample_images().images  # both 427x640 RGB
    out: list[tuple[str, object]] = []

    def save(name: str, fn) -> None:
        fn(IMAGES / name)
        out.append(name)

    # 1. Baseline JPEG, square, larger than 224 (downscale).
    save("astronaut_baseline_q90_256x256.jpg",
         lambda p: resized(sd.astronaut(), (256, 256)).save(p, "JPEG", quality=90))
    # 2. Progressive JPEG, landscape.
    save("chelsea_progressive_300x200.jpg",
         lambda p: resized(sd.chelsea(), (300, 200)).save(
             p, "JPEG", quality=90, progressive=True, optimize=True))
    # 3. CMYK JPEG (Pillow writes Adobe-inverted CMYK; decoders must undo it).
    save("coffee_cmyk_240x160.jpg",
         lambda p: resized(sd.coffee(), (240, 160)).convert("CMYK").save(p, "JPEG", quality=90))
    # 4. Grayscale JPEG, smaller than 224 (upscale).
    save("camera_gray_180x180.jpg",
         lambda p: resized(sd.camera(), (180, 180)).save(p, "JPEG", quality=90))
    # 5. Portrait JPEG with 4:4:4 chroma (no subsampling).
    save("rocket_444_portrait_150x200.jpg",
         lambda p: resized(sd.rocket()[:, 170:490], (150, 200)).save(
             p, "JPEG", quality=92, subsampling=0))
    # 6. Wide JPEG strip, 4:2:0, height not a multiple of the MCU.
    save("china_wide_320x100.jpg",
         lambda p: resized(china[120:320], (320, 100)).save(p, "JPEG", quality=88))
    # 7. JPEG carrying EXIF Orientation=6; keras.utils.load_img ignores EXIF, so do the fixtures.
    save("flower_exif_orient6_224x168.jpg",
         lambda p: resized(flower[:, 40:600], (224, 168)).save(
             p, "JPEG", quality=90, exif=exif_orientation(6)))
    # 8. Tiny JPEG (20x15): far below MCU and target sizes.
    save("coffee_tiny_20x15.jpg",
         lambda p: resized(sd.coffee(), (20, 15)).save(p, "JPEG", quality=90))
    # 9. Plain RGB PNG.
    save("flower_rgb_240x160.png", lambda p: resized(flower, (240, 160)).save(p, "PNG"))

    # 10. RGBA PNG with varying alpha; the colour under transparent pixels is still the photo
    # (Pillow's RGBA->RGB conversion just drops alpha).
    def rgba(p: Path) -> None:
        rgb = np.asarray(resized(sd.hubble_deep_field(), (200, 174)))
        h, w, _ = rgb.shape
        yy, xx = np.mgrid[0:h, 0:w]
        alpha = (xx * 255 // (w - 1)).astype(np.uint8)
        alpha[(yy - h // 2) ** 2 + (xx - w // 2) ** 2 < (h // 4) ** 2] = 0
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(p, "PNG")

    save("hubble_rgba_200x174.png", rgba)

    # 11. Palette PNG with a transparent index (tRNS).
    def palette(p: Path) -> None:
        img = resized(sd.chelsea(), (160, 106)).quantize(colors=64, method=Image.Quantize.MEDIANCUT,
                                                          dither=Image.Dither.NONE)
        img.info["transparency"] = 0
        img.save(p, "PNG", transparency=0)

    save("chelsea_palette_trns_160x106.png", palette)
    # 12. Grayscale PNG, non-square, smaller than 224.
    save("coins_gray_192x152.png", lambda p: resized(sd.coins(), (192, 152)).save(p, "PNG"))

    # 13. 16-bit RGB PNG with meaningful low bytes (Pillow keeps the high byte on load).
    def png16(p: Path) -> None:
        src = np.asarray(resized(sd.retina(), (176, 176))).astype(np.float64)
        rng = np.random.default_rng(1234)
        v = np.clip(src * 257.0 + rng.integers(-200, 200, size=src.shape), 0, 65535)
        write_png_rgb16(p, v.astype(np.uint16))

    save("retina_rgb16_176x176.png", png16)
    return [f"images/{n}" for n in out]


# ---------------------------------------------------------------------------------------------
# Cases and features.
# ---------------------------------------------------------------------------------------------

RESNET_BLOCKS = [f"conv{s}_block{b}_out" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3))
                 for b in range(1, n + 1)]
VGG_BLOCKS = [f"block{b}_pool" for b in range(1, 6)]


def cases(images: list[str]) -> list[dict]:
    four = [images[0], images[2], images[3], images[9]]  # baseline, CMYK, gray, RGBA
    six = [images[0], images[1], images[4], images[5], images[10], images[12]]
    return [
        dict(name="resnet50_224x224_nearest_last", backbone="resnet50", height=224, width=224,
             interpolation="nearest", taps=["conv5_block3_out"], images=images),
        dict(name="resnet50_224x224_bilinear_last", backbone="resnet50", height=224, width=224,
             interpolation="bilinear", taps=["conv5_block3_out"], images=images),
        dict(name="resnet50_160x224_nearest_last", backbone="resnet50", height=160, width=224,
             interpolation="nearest", taps=["conv5_block3_out"], images=images),
        dict(name="resnet50_96x96_nearest_blocks", backbone="resnet50", height=96, width=96,
             interpolation="nearest", taps=RESNET_BLOCKS, images=four),
        dict(name="vgg16_224x224_nearest_last", backbone="vgg16", height=224, width=224,
             interpolation="nearest", taps=["block5_pool"], images=six),
        dict(name="vgg19_224x224_bilinear_last", backbone="vgg19", height=224, width=224,
             interpolation="bilinear", taps=["block5_pool"], images=six),
        dict(name="vgg16_96x128_nearest_blocks", backbone="vgg16", height=96, width=128,
             interpolation="nearest", taps=VGG_BLOCKS, images=four),
    ]


def applications(backbone: str):
    import keras
    return {
        "resnet50": (keras.applications.ResNet50, keras.applications.resnet50.preprocess_input),
        "vgg16": (keras.applications.VGG16, keras.applications.vgg16.preprocess_input),
        "vgg19": (keras.applications.VGG19, keras.applications.vgg19.preprocess_input),
    }[backbone]


def build_backbone(backbone: str, height: int, width: int):
    ctor, _ = applications(backbone)
    model = ctor(weights=None, include_top=False, input_shape=(height, width, 3))
    set_synthetic_weights(model, SEED)
    return model


def preprocessed_batch(case: dict) -> np.ndarray:
    """Exactly the user's loading path: load_img -> img_to_array -> preprocess_input."""
    import keras
    _, preprocess = applications(case["backbone"])
    xs = []
    for rel in case["images"]:
        img = keras.utils.load_img(str(FIXTURES / rel), target_size=(case["height"], case["width"]),
                                   interpolation=case["interpolation"])
        xs.append(preprocess(keras.utils.img_to_array(img)))
    return np.stack(xs).astype(np.float32)


def user_features(model, case: dict, x: np.ndarray):
    """Tap outputs -> (float64 NumPy GAP+L2 as float32, float32 TF GAP+L2, tap widths)."""
    import keras
    import tensorflow as tf
    taps = case["taps"]
    tapped = keras.Model(model.input, [model.get_layer(t).output for t in taps])
    outs = tapped.predict(x, batch_size=32, verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    ours, tfs, widths = [], [], []
    for o in outs:
        o = np.asarray(o)
        g = o.astype(np.float64).mean(axis=(1, 2))
        ours.append(g / np.linalg.norm(g, axis=1, keepdims=True))
        t = tf.math.l2_normalize(tf.reduce_mean(tf.constant(o), axis=[1, 2]), axis=-1)
        tfs.append(t.numpy())
        widths.append(int(o.shape[-1]))
    return (np.concatenate(ours, axis=1).astype(np.float32),
            np.concatenate(tfs, axis=1).astype(np.float32), widths)


def generator_check() -> dict:
    import keras
    checks = {}
    resnet = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(224, 224, 3))
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    for model, layer, role in ((resnet, "conv1_conv", "kernel"),
                               (resnet, "conv1_bn", "moving_variance"),
                               (vgg, "block1_conv1", "kernel")):
        w = next(v for v in model.get_layer(layer).weights if v.path.endswith("/" + role))
        a = synthetic_array(SEED, layer, role, tuple(w.shape))
        checks[f"{layer}/{role}"] = {
            "shape": list(a.shape),
            "key": int(fnv1a32(f"{SEED}:{layer}/{role}")),
            "first4": [float(v) for v in a.reshape(-1)[:4]],
            "first4_hex": [f"0x{int(b):08x}" for b in a.reshape(-1)[:4].view(np.uint32)],
            "sum_float64": float(a.astype(np.float64).sum()),
        }
    return checks


def versions() -> dict:
    import h5py
    import keras
    import PIL
    import tensorflow as tf
    return {"python": sys.version.split()[0], "tensorflow": tf.__version__,
            "keras": keras.__version__, "Pillow": PIL.__version__, "numpy": np.__version__,
            "h5py": h5py.__version__}


def image_facts(images: list[str]) -> list[dict]:
    """What Pillow decodes, per image, for checking a decoder without Keras: the mode and size
    Pillow opens, and a CRC-32 / sum / per-channel mean of the 8-bit RGB array that
    load_img (no target_size) yields, i.e. after Pillow's convert("RGB")."""
    facts = []
    for rel in images:
        path = FIXTURES / rel
        with Image.open(path) as im:
            mode, size = im.mode, im.size
            rgb = np.asarray(im.convert("RGB") if im.mode != "RGB" else im.copy())
        facts.append({
            "path": rel, "bytes": path.stat().st_size, "pillow_mode": mode,
            "width": size[0], "height": size[1],
            "rgb_crc32": zlib.crc32(np.ascontiguousarray(rgb).tobytes()) & 0xFFFFFFFF,
            "rgb_sum": int(rgb.astype(np.int64).sum()),
            "rgb_mean": [round(float(v), 6) for v in rgb.reshape(-1, 3).mean(axis=0)],
        })
    return facts


def loaded_crc32(case: dict) -> list[int]:
    """CRC-32 of the uint8 RGB (H, W, 3) array load_img returns for this case, per image."""
    import keras
    out = []
    for rel in case["images"]:
        img = keras.utils.load_img(str(FIXTURES / rel), target_size=(case["height"], case["width"]),
                                   interpolation=case["interpolation"])
        out.append(zlib.crc32(np.asarray(img, dtype=np.uint8).tobytes()) & 0xFFFFFFFF)
    return out


def main() -> None:
    import keras
    keras.utils.set_random_seed(0)
    images = make_images()
    KERAS_DIR.mkdir(parents=True, exist_ok=True)
    manifest = {
        "versions": versions(),
        "generator": f"Docs/keras-parity.md seed {SEED}",
        "generator_check": generator_check(),
        "features": ("per tap: mean over H and W of the tap output (float64), divided by its L2 "
                     "norm, concatenated in tap order, stored float32 little-endian row-major"),
        "loading": ("keras.utils.load_img(path, target_size=(height, width), "
                    "interpolation=interpolation) -> keras.utils.img_to_array -> "
                    "keras.applications.<backbone>.preprocess_input"),
        "images": image_facts(images),
        "cases": [],
    }
    for case in cases(images):
        print(f"case {case['name']}: {len(case['images'])} images", flush=True)
        x = preprocessed_batch(case)
        model = build_backbone(case["backbone"], case["height"], case["width"])
        feats, tf_feats, widths = user_features(model, case, x)
        assert feats.shape == (len(case["images"]), sum(widths))
        (KERAS_DIR / f"{case['name']}.f32").write_bytes(feats.astype("<f4").tobytes())
        entry = dict(case)
        entry.update(tap_widths=widths, rows=int(feats.shape[0]), dim=int(feats.shape[1]),
                     file=f"keras/{case['name']}.f32",
                     loaded_rgb_crc32=loaded_crc32(case),
                     tf_float32_vs_numpy_float64_max_abs_diff=float(np.abs(feats - tf_feats).max()))
        if not manifest["cases"]:
            first = x[0]
            entry["first_image_preprocessed"] = {
                "shape": list(first.shape),
                "channel_order": "BGR, mean-subtracted ('caffe')",
                "sum_float64": float(first.astype(np.float64).sum()),
                "first6": [float(v) for v in first.reshape(-1)[:6]],
            }
        manifest["cases"].append(entry)
        print(f"  dim {feats.shape[1]}  tf-vs-numpy max |diff| "
              f"{entry['tf_float32_vs_numpy_float64_max_abs_diff']:.3g}", flush=True)
    # How much the features move when only the resize changes: the scale a parity bug must
    # stay far below (the parity tolerance is 1e-5).
    by_name = {c["name"]: c for c in manifest["cases"]}
    a, b = (np.fromfile(KERAS_DIR / f"{n}.f32", "<f4") for n in
            ("resnet50_224x224_nearest_last", "resnet50_224x224_bilinear_last"))
    manifest["sensitivity"] = {
        "resnet50_224x224_nearest_vs_bilinear_max_abs_diff": float(np.abs(a - b).max()),
        "note": ("synthetic weights make features of different images similar (cosine ~0.998 "
                 "for ResNet50 'last'); early taps (the *_blocks cases) are far more "
                 "image-sensitive"),
    }
    assert by_name
    (KERAS_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote", KERAS_DIR / "manifest.json")


if __name__ == "__main__":
    main()
