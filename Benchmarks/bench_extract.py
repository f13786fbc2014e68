#!/usr/bin/env python3
"""Benchmark `extract` against the Keras script a user would write, on the same photographs.

Run from the repository root with a Python that has tensorflow-cpu, keras 3, Pillow, h5py and
scikit-image/scikit-learn (their bundled photographs are the raw material):

    swift build -c release --product extract
    python Benchmarks/bench_extract.py                      # ResNet50, VGG16, VGG19 at 224x224
    python Benchmarks/bench_extract.py --backbones resnet50 --n 128 --repeats 3
    python Benchmarks/bench_extract.py --skip-ours          # only the Keras side

What it does:

1. Makes (or reuses) a folder of N JPEG photographs at typical camera-roll-thumbnail sizes
   (about 500x375, some portrait) under --scratch, cut from scikit-image's and scikit-learn's
   bundled photographs with random crops, flips and quality, so every file is different.
2. For each repeat and each backbone, alternating in the same run so both sides see the same
   machine state:
   (a) ours:  <extract> --images DIR --backbone B --weights random --seed 0
                        --output OUT.h5 --overwrite
       timed as a whole process (start-up, weight generation, decoding, network, writing).
   (b) keras: a separate Python process running what a Keras user writes: load_img(target_size
       =(224, 224)) -> img_to_array -> preprocess_input -> Model(outputs=last tap).predict in
       batches of 32 -> global average pool -> L2 -> h5py file with features and paths. It is
       timed inside the process after the interpreter has started and TensorFlow is imported,
       reported both including model construction (weights=None, i.e. Keras' own random
       initialisation; loading an ImageNet .h5 would add to it) and excluding it.
3. Prints the commands, the machine (CPU, cores, memory, versions) and a table of images/s,
   with the ratio ours / keras.

If the extract binary is missing or fails, its rows say so and the Keras side still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

LAST_TAP = {"resnet50": "conv5_block3_out", "vgg16": "block5_pool", "vgg19": "block5_pool"}
PHOTO_SEED = 7


# ---------------------------------------------------------------------------------------------
# The photographs.
# ---------------------------------------------------------------------------------------------


def source_photographs():
    """Full-resolution colour photographs that ship inside scikit-image and scikit-learn."""
    import numpy as np
    import skimage.data as sd
    from sklearn.datasets import load_sample_images
    photos = [sd.astronaut(), sd.chelsea(), sd.coffee(), sd.rocket(), sd.hubble_deep_field(),
              sd.retina()]
    photos += list(load_sample_images().images)
    return [np.ascontiguousarray(p[..., :3]) for p in photos]


def make_photos(folder: Path, n: int) -> list[str]:
    """N different JPEGs around 500x375 (one in four portrait); reused when already made."""
    import numpy as np
    from PIL import Image
    stamp = folder / ".made"
    want = f"n={n} seed={PHOTO_SEED} v1"
    if stamp.exists() and stamp.read_text() == want:
        return sorted(p.name for p in folder.glob("*.jpg"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jpg"):
        old.unlink()
    rng = np.random.default_rng(PHOTO_SEED)
    sources = source_photographs()
    for i in range(n):
        src = sources[i % len(sources)]
        h, w, _ = src.shape
        portrait = i % 4 == 3
        aspect = 3 / 4 if portrait else 4 / 3  # width / height
        ch = int(min(h, w / aspect) * rng.uniform(0.6, 1.0))
        cw = int(ch * aspect)
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        img = Image.fromarray(src[y:y + ch, x:x + cw])
        if rng.uniform() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        tw = int(rng.integers(480, 521))
        size = (tw * 3 // 4, tw) if portrait else (tw, tw * 3 // 4)
        img = img.resize(size, Image.Resampling.LANCZOS)
        img.save(folder / f"photo_{i:04d}.jpg", "JPEG", quality=int(rng.integers(85, 96)))
    stamp.write_text(want)
    return sorted(p.name for p in folder.glob("*.jpg"))


# ---------------------------------------------------------------------------------------------
# The Keras side (runs in its own process: `bench_extract.py --keras-worker ...`).
# ---------------------------------------------------------------------------------------------


def keras_worker(images: Path, backbone: str, output: Path, batch: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import h5py
    import keras
    import numpy as np
    import tensorflow  # noqa: F401  (imported before the clock starts, like a user's notebook)

    t0 = time.perf_counter()
    ctor, preprocess = {
        "resnet50": (keras.applications.ResNet50, keras.applications.resnet50.preprocess_input),
        "vgg16": (keras.applications.VGG16, keras.applications.vgg16.preprocess_input),
        "vgg19": (keras.applications.VGG19, keras.applications.vgg19.preprocess_input),
    }[backbone]
    base = ctor(weights=None, include_top=False, input_shape=(224, 224, 3))
    model = keras.Model(base.input, base.get_layer(LAST_TAP[backbone]).output)
    t1 = time.perf_counter()

    paths = sorted(str(p.relative_to(images)) for p in images.rglob("*.jpg"))
    feats = []
    for start in range(0, len(paths), batch):
        chunk = paths[start:start + batch]
        x = np.stack([keras.utils.img_to_array(
            keras.utils.load_img(str(images / p), target_size=(224, 224))) for p in chunk])
        out = model.predict(preprocess(x), batch_size=batch, verbose=0)
        g = out.mean(axis=(1, 2))
        feats.append(g / np.linalg.norm(g, axis=1, keepdims=True))
    features = np.concatenate(feats).astype(np.float32)
    with h5py.File(output, "w") as f:
        f.create_dataset("features", data=features)
        f.create_dataset("paths", data=np.array(paths, dtype=object),
                         dtype=h5py.string_dtype("utf-8"))
    t2 = time.perf_counter()
    print(json.dumps({"n": len(paths), "with_model_s": t2 - t0, "without_model_s": t2 - t1,
                      "model_s": t1 - t0, "dim": int(features.shape[1])}))


# ---------------------------------------------------------------------------------------------
# Orchestration.
# ---------------------------------------------------------------------------------------------


def machine_facts() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "usable_cores": affinity, "memory": mem,
            "os": platform.platform(), "python": platform.python_version()}


def library_versions() -> dict:
    out = subprocess.run(
        [sys.executable, "-c",
         "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='2'\n"
         "import json, tensorflow as tf, keras, PIL, numpy, h5py\n"
         "print(json.dumps({'tensorflow': tf.__version__, 'keras': keras.__version__, "
         "'Pillow': PIL.__version__, 'numpy': numpy.__version__, 'h5py': h5py.__version__}))"],
        capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": out.stderr.strip()[-300:]}


def run_ours(extract: Path, images: Path, backbone: str, output: Path) -> dict:
    cmd = [str(extract), "--images", str(images), "--backbone", backbone, "--weights", "random",
           "--seed", "0", "--output", str(output), "--overwrite"]
    if not extract.is_file() or not os.access(extract, os.X_OK):
        return {"error": f"extract binary not found at {extract} (build it with "
                         f"`swift build -c release --product extract`, or pass --extract PATH)",
                "cmd": cmd}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "cmd": cmd}
    return {"seconds": seconds, "cmd": cmd}


def run_keras(images: Path, backbone: str, output: Path, batch: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--keras-worker", "--images",
           str(images), "--backbone", backbone, "--output", str(output), "--batch", str(batch)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "cmd": cmd}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = seconds
    result["cmd"] = cmd
    return result


def rate(n: int, seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"{n / statistics.median(seconds):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--extract", default=".build/release/extract", help="path to our binary")
    ap.add_argument("--n", type=int, default=64, help="number of photographs")
    ap.add_argument("--scratch", default="/tmp/headstart-bench", help="scratch folder")
    ap.add_argument("--backbones", default="resnet50,vgg16,vgg19")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32, help="Keras predict batch size")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--skip-keras", action="store_true")
    ap.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--images", help=argparse.SUPPRESS)
    ap.add_argument("--backbone", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.keras_worker:
        keras_worker(Path(args.images), args.backbone, Path(args.output), args.batch)
        return

    scratch = Path(args.scratch)
    images = scratch / "photos"
    names = make_photos(images, args.n)
    n = len(names)
    backbones = [b.strip() for b in args.backbones.split(",") if b.strip()]
    unknown = [b for b in backbones if b not in LAST_TAP]
    if unknown:
        sys.exit(f"unknown backbone(s) {unknown}; choose from {sorted(LAST_TAP)}")
    extract = Path(args.extract).resolve()

    print("command:", shlex.join([sys.executable] + sys.argv))
    print("machine:", json.dumps(machine_facts()))
    print("versions:", json.dumps(library_versions()))
    print(f"images: {n} JPEGs in {images} (about 500x375), input 224x224, nearest resize\n")

    results = {b: {"ours": [], "keras": []} for b in backbones}
    for r in range(args.repeats):
        for b in backbones:
            if not args.skip_ours:
                res = run_ours(extract, images, b, scratch / f"ours_{b}.h5")
                results[b]["ours"].append(res)
                msg = res.get("error") or f"{res['seconds']:.2f} s"
                print(f"[{r + 1}/{args.repeats}] ours  {b:9s} {msg}", flush=True)
                if r == 0 and b == backbones[0]:
                    print("    ", shlex.join(res["cmd"]))
            if not args.skip_keras:
                res = run_keras(images, b, scratch / f"keras_{b}.h5", args.batch)
                results[b]["keras"].append(res)
                msg = res.get("error") or (f"{res['with_model_s']:.2f} s with model construction "
                                           f"({res['model_s']:.2f} s of it), process "
                                           f"{res['process_s']:.2f} s")
                print(f"[{r + 1}/{args.repeats}] keras {b:9s} {msg}", flush=True)
                if r == 0 and b == backbones[0]:
                    print("    ", shlex.join(res["cmd"]))

    print(f"\nimages/s (median of {args.repeats}; higher is better)")
    head = (f"{'backbone':9s} | {'ours':>8s} | {'keras+model':>11s} | {'keras':>8s} | "
            f"{'ours/keras+model':>16s} | {'ours/keras':>10s}")
    print(head)
    print("-" * len(head))
    for b in backbones:
        ours = [x["seconds"] for x in results[b]["ours"] if "seconds" in x]
        kw = [x["with_model_s"] for x in results[b]["keras"] if "with_model_s" in x]
        ko = [x["without_model_s"] for x in results[b]["keras"] if "without_model_s" in x]

        def ratio(a, k):
            return f"{statistics.median(k) / statistics.median(a):.2f}x" if a and k else "-"

        print(f"{b:9s} | {rate(n, ours):>8s} | {rate(n, kw):>11s} | {rate(n, ko):>8s} | "
              f"{ratio(ours, kw):>16s} | {ratio(ours, ko):>10s}")
    print("\nper run images/s (machine noise shows here):")
    for b in backbones:
        for side, key in (("ours", "seconds"), ("keras+model", "with_model_s"),
                          ("keras", "without_model_s")):
            runs = [x[key] for x in results[b]["keras" if side != "ours" else "ours"] if key in x]
            if runs:
                print(f"  {b:9s} {side:11s} " + "  ".join(f"{n / t:.2f}" for t in runs))
    errors = {x["error"] for b in backbones for side in ("ours", "keras")
              for x in results[b][side] if "error" in x}
    for e in sorted(errors):
        print("note:", e)
    print("\nours = whole extract process; keras+model = user script after imports, including "
          "model construction; keras = the same without model construction.")


if __name__ == "__main__":
    main()
