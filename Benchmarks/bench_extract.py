#!/usr/bin/env python3
"""Benchmark `headstart extract` against the Keras script a user would write, on the same photographs.

Run from the repository root with a Python that has tensorflow-cpu, keras 3, Pillow, h5py and
scikit-image/scikit-learn (their bundled photographs are the raw material):

    swift build -c release --product headstart
    python Benchmarks/bench_extract.py                      # ResNet50, VGG16, VGG19 at 224x224
    python Benchmarks/bench_extract.py --backbones resnet50 --n 128 --repeats 3
    python Benchmarks/bench_extract.py --camera --n 16 --backbones resnet50   # 12 MP JPEGs
    python Benchmarks/bench_extract.py --memory             # peak resident memory, batch 16
    python Benchmarks/bench_extract.py --skip-ours          # only the Keras side

(Benchmarks/bench.py runs this and every other stage in one command.)

What it does:

1. Makes (or reuses) a folder of N JPEG photographs at typical camera-roll-thumbnail sizes
   (about 500x375, some portrait) under --scratch, cut from scikit-image's and scikit-learn's
   bundled photographs with random crops, flips and quality, so every file is different.
   With --camera: N synthesised camera-sized JPEGs instead, 4000x3000 (one in four portrait),
   the same photographs upscaled with Pillow's LANCZOS and given mild sensor-like noise so they
   weigh what a 12 MP camera JPEG weighs (3-6 MB at quality 92). They are not real camera photos.
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
   With --memory both run under `/usr/bin/time -v` at batch 16 (ours --batch-size 16, Keras
   predict batch 16) and the maximum resident set size of each process is reported.
3. Prints the machine header (bench_support.py), the commands and a table of images/s, with the
   ratio ours / keras.

If the extract binary is missing or fails, its rows say so and the Keras side still runs.
Tuning variables (OPENBLAS_CORETYPE, OMP_NUM_THREADS, ...) are removed unless --keep-env.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_support
from bench_support import max_rss_kib, tool_missing

LAST_TAP = {"resnet50": "conv5_block3_out", "vgg16": "block5_pool", "vgg19": "block5_pool"}
PHOTO_SEED = 7
TIME = "/usr/bin/time"


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


def _crop(src, rng, portrait: bool):
  """A random crop of `src` with a 4:3 (or 3:4) aspect, flipped half the time (a PIL image)."""
  from PIL import Image
  h, w, _ = src.shape
  aspect = 3 / 4 if portrait else 4 / 3  # width / height
  ch = int(min(h, w / aspect) * rng.uniform(0.6, 1.0))
  cw = int(ch * aspect)
  y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
  img = Image.fromarray(src[y:y + ch, x:x + cw])
  if rng.uniform() < 0.5:
    img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
  return img


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
    portrait = i % 4 == 3
    img = _crop(sources[i % len(sources)], rng, portrait)
    tw = int(rng.integers(480, 521))
    size = (tw * 3 // 4, tw) if portrait else (tw, tw * 3 // 4)
    img = img.resize(size, Image.Resampling.LANCZOS)
    img.save(folder / f"photo_{i:04d}.jpg", "JPEG", quality=int(rng.integers(85, 96)))
  stamp.write_text(want)
  return sorted(p.name for p in folder.glob("*.jpg"))


def make_camera_photos(folder: Path, n: int) -> list[str]:
  """N synthesised camera-sized JPEGs, 4000x3000 (one in four 3000x4000), quality 92: crops of the
  bundled photographs upscaled with LANCZOS plus mild grain (luminance and colour noise, sigma
  4-7 levels) so the files weigh 3-6 MB like a 12 MP camera's. Reused when already made."""
  import numpy as np
  from PIL import Image
  stamp = folder / ".made"
  want = f"n={n} seed={PHOTO_SEED} camera 4000x3000 q92 v1"
  if stamp.exists() and stamp.read_text() == want:
    return sorted(p.name for p in folder.glob("*.jpg"))
  folder.mkdir(parents=True, exist_ok=True)
  for old in folder.glob("*.jpg"):
    old.unlink()
  rng = np.random.default_rng(PHOTO_SEED + 1)
  sources = source_photographs()
  started = time.perf_counter()
  for i in range(n):
    portrait = i % 4 == 3
    img = _crop(sources[i % len(sources)], rng, portrait)
    img = img.resize((3000, 4000) if portrait else (4000, 3000), Image.Resampling.LANCZOS)
    a = np.asarray(img, dtype=np.float32)
    sigma = rng.uniform(4.0, 7.0)
    grain = rng.standard_normal(a.shape[:2], dtype=np.float32)[..., None] * sigma
    grain = grain + rng.standard_normal(a.shape, dtype=np.float32) * (sigma / 2)
    a = np.clip(a + grain, 0, 255).astype(np.uint8)
    Image.fromarray(a).save(folder / f"camera_{i:04d}.jpg", "JPEG", quality=92)
  stamp.write_text(want)
  names = sorted(p.name for p in folder.glob("*.jpg"))
  mb = [(folder / x).stat().st_size / 1e6 for x in names]
  print(f"synthesised {n} camera-sized JPEGs (4000x3000, {min(mb):.1f}-{max(mb):.1f} MB) in "
        f"{folder} in {time.perf_counter() - started:.0f} s", flush=True)
  return names


def describe_photos(folder: Path, names: list[str], camera: bool) -> str:
  mb = [(folder / x).stat().st_size / 1e6 for x in names] or [0.0]
  if camera:
    return (f"{len(names)} SYNTHESISED 12 MP JPEGs (4000x3000, upscaled sample photos with added "
            f"noise, not real camera photos; {min(mb):.1f}-{max(mb):.1f} MB, median "
            f"{statistics.median(mb):.1f} MB) in {folder}")
  return f"{len(names)} JPEGs of about 500x375 in {folder}"


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
# One run of each side.
# ---------------------------------------------------------------------------------------------


def time_prefix(memory: bool) -> list[str]:
  return [TIME, "-v"] if memory else []


def run_ours(extract: list[str], images: Path, backbone: str, output: Path,
             batch_size: int | None = None, memory: bool = False) -> dict:
  """One whole `extract` process; `extract` is its argv prefix (bench_support.tool_command)."""
  cmd = extract + ["--images", str(images), "--backbone", backbone, "--weights", "random",
                   "--seed", "0", "--output", str(output), "--overwrite"]
  if batch_size:
    cmd += ["--batch-size", str(batch_size)]
  cmd = time_prefix(memory) + cmd
  missing = tool_missing(extract)
  if missing:
    return {"error": missing, "cmd": cmd}
  t = time.perf_counter()
  proc = subprocess.run(cmd, capture_output=True, text=True)
  seconds = time.perf_counter() - t
  if proc.returncode != 0:
    return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "cmd": cmd}
  result = {"seconds": seconds, "cmd": cmd}
  if memory:
    result["max_rss_kib"] = max_rss_kib(proc.stderr)
  return result


def run_keras(images: Path, backbone: str, output: Path, batch: int, memory: bool = False,
              python: str = sys.executable) -> dict:
  cmd = time_prefix(memory) + [
    python, str(Path(__file__).resolve()), "--keras-worker", "--images", str(images),
    "--backbone", backbone, "--output", str(output), "--batch", str(batch)]
  t = time.perf_counter()
  proc = subprocess.run(cmd, capture_output=True, text=True)
  seconds = time.perf_counter() - t
  if proc.returncode != 0:
    return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}", "cmd": cmd}
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  result["process_s"] = seconds
  result["cmd"] = cmd
  if memory:
    result["max_rss_kib"] = max_rss_kib(proc.stderr)
  return result


# ---------------------------------------------------------------------------------------------
# Alternating runs, medians, the table.
# ---------------------------------------------------------------------------------------------


def compare(extract: list[str], images: Path, backbones: list[str], repeats: int, scratch: Path,
            keras_batch: int = 32, ours_batch: int | None = None, memory: bool = False,
            skip_ours: bool = False, skip_keras: bool = False,
            python: str = sys.executable) -> dict:
  """Alternates ours and Keras per repeat and backbone, printing every run (and each command the
  first time); returns {backbone: {"ours": [run...], "keras": [run...]}}."""
  results = {b: {"ours": [], "keras": []} for b in backbones}
  for r in range(repeats):
    for b in backbones:
      if not skip_ours:
        res = run_ours(extract, images, b, scratch / f"ours_{b}.h5", ours_batch, memory)
        results[b]["ours"].append(res)
        msg = res.get("error") or f"{res['seconds']:.2f} s" + _rss_text(res)
        print(f"[{r + 1}/{repeats}] ours  {b:9s} {msg}", flush=True)
        if r == 0:
          print("      $", shlex.join(res["cmd"]), flush=True)
      if not skip_keras:
        res = run_keras(images, b, scratch / f"keras_{b}.h5", keras_batch, memory, python)
        results[b]["keras"].append(res)
        msg = res.get("error") or (f"{res['with_model_s']:.2f} s with model construction "
                                   f"({res['model_s']:.2f} s of it), process "
                                   f"{res['process_s']:.2f} s" + _rss_text(res))
        print(f"[{r + 1}/{repeats}] keras {b:9s} {msg}", flush=True)
        if r == 0:
          print("      $", shlex.join(res["cmd"]), flush=True)
  return results


def _rss_text(res: dict) -> str:
  kib = res.get("max_rss_kib")
  return f", peak RSS {kib / 1024:.0f} MiB" if kib else ""


def _median(values: list[float]) -> float | None:
  return statistics.median(values) if values else None


def summarise(results: dict, n: int) -> dict:
  """Median images/s per side and the ratios ours / keras, per backbone (None where missing)."""
  out = {}
  for b, sides in results.items():
    ours = _median([x["seconds"] for x in sides["ours"] if "seconds" in x])
    kw = _median([x["with_model_s"] for x in sides["keras"] if "with_model_s" in x])
    ko = _median([x["without_model_s"] for x in sides["keras"] if "without_model_s" in x])
    rss_o = _median([x["max_rss_kib"] for x in sides["ours"] if x.get("max_rss_kib")])
    rss_k = _median([x["max_rss_kib"] for x in sides["keras"] if x.get("max_rss_kib")])
    ips = lambda s: n / s if s else None  # noqa: E731
    row = {"ours_ips": ips(ours), "keras_ips": ips(ko), "keras_with_model_ips": ips(kw),
           "ratio": ko / ours if ours and ko else None,
           "ratio_with_model": kw / ours if ours and kw else None,
           "ours_runs_ips": [n / x["seconds"] for x in sides["ours"] if "seconds" in x],
           "keras_runs_ips": [n / x["without_model_s"] for x in sides["keras"] if "without_model_s" in x]}
    if rss_o or rss_k:
      row.update({"ours_max_rss_mib": rss_o / 1024 if rss_o else None,
                  "keras_max_rss_mib": rss_k / 1024 if rss_k else None,
                  "rss_ratio": rss_o / rss_k if rss_o and rss_k else None})
    out[b] = row
  return out


def fmt(value, spec: str = ".2f", suffix: str = "") -> str:
  return "-" if value is None else f"{value:{spec}}{suffix}"


def print_speed_table(summary: dict, repeats: int) -> None:
  print(f"images/s (median of {repeats}; higher is better; ratio = ours / keras speed)")
  head = (f"{'backbone':9s} | {'ours':>8s} | {'keras+model':>11s} | {'keras':>8s} | "
          f"{'ours/keras+model':>16s} | {'ours/keras':>10s}")
  print(head)
  print("-" * len(head))
  for b, s in summary.items():
    print(f"{b:9s} | {fmt(s['ours_ips']):>8s} | {fmt(s['keras_with_model_ips']):>11s} | "
          f"{fmt(s['keras_ips']):>8s} | {fmt(s['ratio_with_model'], '.2f', 'x'):>16s} | "
          f"{fmt(s['ratio'], '.2f', 'x'):>10s}")
  print("per run images/s (machine noise shows here):")
  for b, s in summary.items():
    for side in ("ours", "keras"):
      if s[f"{side}_runs_ips"]:
        print(f"  {b:9s} {side:5s} " + "  ".join(f"{v:.2f}" for v in s[f"{side}_runs_ips"]))
  print("ours = whole extract process; keras+model = user script after imports, including "
        "model construction; keras = the same without model construction.")


def print_memory_table(summary: dict, repeats: int) -> None:
  print(f"peak resident memory, MiB (/usr/bin/time -v, median of {repeats}; lower is better; "
        f"target ours/keras <= 0.5)")
  head = f"{'backbone':9s} | {'ours':>8s} | {'keras':>8s} | {'ours/keras':>10s}"
  print(head)
  print("-" * len(head))
  for b, s in summary.items():
    print(f"{b:9s} | {fmt(s.get('ours_max_rss_mib'), '.0f'):>8s} | "
          f"{fmt(s.get('keras_max_rss_mib'), '.0f'):>8s} | {fmt(s.get('rss_ratio'), '.2f'):>10s}")


def errors(results: dict) -> list[str]:
  return sorted({x["error"] for sides in results.values() for runs in sides.values()
                 for x in runs if "error" in x})


def ensure_time() -> str | None:
  """None when /usr/bin/time is there (installing GNU time with apt-get if it can, saying so),
  else why the memory figures cannot be taken."""
  if Path(TIME).exists():
    return None
  print(f"{TIME} is missing: installing GNU time with apt-get (needs root)", flush=True)
  for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "time"]):
    try:
      subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired):
      break
  return None if Path(TIME).exists() else f"{TIME} missing and could not be installed (apt-get install time)"


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--bin", default=".build/release", help="folder of the release build (holds headstart)")
  ap.add_argument("--n", type=int, default=64, help="number of photographs")
  ap.add_argument("--camera", action="store_true",
                  help="synthesised 12 MP camera-sized JPEGs instead of 500x375 photographs")
  ap.add_argument("--memory", action="store_true",
                  help="peak resident memory under /usr/bin/time -v, both sides at batch 16")
  ap.add_argument("--scratch", default="/tmp/headstart-bench", help="scratch folder")
  ap.add_argument("--backbones", default="resnet50,vgg16,vgg19")
  ap.add_argument("--repeats", type=int, default=2)
  ap.add_argument("--batch", type=int, default=32, help="Keras predict batch size")
  ap.add_argument("--skip-ours", action="store_true")
  ap.add_argument("--skip-keras", action="store_true")
  bench_support.add_environment_flag(ap)
  ap.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
  ap.add_argument("--images", help=argparse.SUPPRESS)
  ap.add_argument("--backbone", help=argparse.SUPPRESS)
  ap.add_argument("--output", help=argparse.SUPPRESS)
  args = ap.parse_args()

  if args.keras_worker:
    keras_worker(Path(args.images), args.backbone, Path(args.output), args.batch)
    return

  rule = bench_support.apply_environment_rule(args.keep_env)
  backbones = [b.strip() for b in args.backbones.split(",") if b.strip()]
  unknown = [b for b in backbones if b not in LAST_TAP]
  if unknown:
    sys.exit(f"unknown backbone(s) {unknown}; choose from {sorted(LAST_TAP)}")
  extract = bench_support.tool_command(args.bin, "extract")
  bench_support.machine_header(extract, rule, title="bench_extract.py")

  scratch = Path(args.scratch)
  images = scratch / (f"camera_{args.n}" if args.camera else "photos")
  names = (make_camera_photos if args.camera else make_photos)(images, args.n)
  n = len(names)
  print(f"images: {describe_photos(images, names, args.camera)}; input 224x224, nearest resize\n")
  if args.memory:
    problem = ensure_time()
    if problem:
      sys.exit(problem)

  results = compare(extract, images, backbones, args.repeats, scratch,
                    keras_batch=16 if args.memory else args.batch,
                    ours_batch=16 if args.memory else None, memory=args.memory,
                    skip_ours=args.skip_ours, skip_keras=args.skip_keras)
  summary = summarise(results, n)
  print()
  print_speed_table(summary, args.repeats)
  if args.memory:
    print()
    print_memory_table(summary, args.repeats)
  for e in errors(results):
    print("note:", e)


if __name__ == "__main__":
  main()
