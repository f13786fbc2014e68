#!/usr/bin/env python3
"""Time per epoch of `finetune` against the Keras script a user would write (same model, conv5
unfrozen, same heads, same batch size), with and without augmentation.

Run from the repository root with a Python that has tensorflow-cpu, keras 3, h5py, scipy, Pillow:

    swift build -c release --product headstart
    python Benchmarks/bench_finetune.py                      # the bundled 240 images, 3 epochs, 2 repeats
    python Benchmarks/bench_finetune.py --images 960         # 960 images cut from them
    python Benchmarks/bench_finetune.py --images 48 --epochs 2 --repeats 1 --configs plain   # a quick look

What it does:

1. Data: Datasets/sample (240 JPEGs, labels.csv with a split column: 168 train, 36 val, 36 test).
   With --images N it writes N JPEGs under --scratch instead, each a random crop
   (85-100 % of each side) of sample image i mod 240, resized back to the original size and
   re-encoded at quality 90 with Pillow, carrying that image's labels and split, so an epoch is
   long enough to time. Both tools read the same folder and labels.csv at 224 x 224 (ResNet50's
   default input size; nearest-neighbour resize, as extract's default).
2. Once: `extract --weights random --seed 0` and `fit-heads` with the demo's finetune start heads
   (harmony softmax, primary_color embedding, balance tanh). Not timed as part of either side.
3. Per repeat, per configuration, alternating in the same run so both see the same machine:
   (a) ours:  finetune --epochs E --batch-size 16 (Adam 1e-4), a whole process; its log gives the
       seconds of every epoch and the one-off "block inputs ... computed once" pass (decoding +
       frozen prefix); with augmentation there is no cache and every epoch runs the whole network;
   (b) keras: a separate python process: keras.applications.ResNet50(weights=None,
       include_top=False) loaded with the backbone our no-augmentation run exported (the values
       do not change the arithmetic; --keras-weights random keeps Keras' initialisers), every
       layer frozen but those named conv5*, called with training=False (batch norm in inference
       mode, Keras' fine-tuning guide), GlobalAveragePooling2D, UnitNormalization (L2), the same
       heads started from the same heads file (Dense softmax; Dense tanh on labels mapped from
       the heads file's label_range with MSE; the embedding head as Dense(E) -> logits
       -|p - v_c|^2 against learned class vectors, categorical cross-entropy on the same
       wheel-smoothed targets), the same loss weights, Adam(1e-4), batch 16, shuffled, validation
       on the same val rows every epoch. Input pipeline: a keras.utils.PyDataset whose batches
       are load_img(target_size, interpolation='nearest') -> img_to_array -> [legacy
       ImageDataGenerator.random_transform (Keras 3 keeps the class in
       keras.src.legacy.preprocessing.image)] -> resnet50.preprocess_input: what
       ImageDataGenerator.flow_from_dataframe does per image (Keras 3 has no public
       ImageDataGenerator, and the venv has no pandas). A callback times every epoch (training
       plus validation, as ours).
   Configurations: "plain" (no augmentation) and "augment" (horizontal flip, rotation 10 degrees,
   zoom 0.1 in both tools). When the built finetune has no --rotation-range the augmented run of
   ours is skipped with a message (Keras still runs).
4. Prints the machine header (bench_support.py), the commands, per-repeat figures and a table:
   epoch 1 (Keras includes tracing), the steady epoch (mean of epochs >= 2), the whole run (ours:
   the one-off pass plus E epochs) and the ratios Keras / ours.

(Benchmarks/bench.py runs this, with the issue's settings, and every other stage in one command.)
Tuning variables (OPENBLAS_CORETYPE, OMP_NUM_THREADS, ...) are removed unless --keep-env.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_support

BATCH = 16
LEARNING_RATE = 1e-4
SIZE = 224
HEADS = ["harmony=softmax:harmony", "primary=embedding:primary_color", "balance=tanh:balance"]
AUGMENT = {"horizontal_flip": True, "rotation_range": 10.0, "zoom_range": 0.1}
AUGMENT_FLAGS = ["--horizontal-flip", "--rotation-range", "10", "--zoom-range", "0.1"]


# ---------------------------------------------------------------------------------------------
# The data.
# ---------------------------------------------------------------------------------------------


def synthesise(sample_images: Path, sample_labels: Path, count: int, out: Path, seed: int = 0) -> None:
  """`count` JPEGs cropped from the sample images, with the source rows' labels (see the doc)."""
  from PIL import Image

  with open(sample_labels, newline="") as f:
    reader = csv.DictReader(f)
    fields, rows = reader.fieldnames, list(reader)
  rng = random.Random(seed)
  tmp = out.with_name(out.name + ".writing")
  (tmp / "images").mkdir(parents=True, exist_ok=True)
  written = []
  for i in range(count):
    row = dict(rows[i % len(rows)])
    with Image.open(sample_images / row["path"]) as image:
      image = image.convert("RGB")
      w, h = image.size
      cw, ch = int(w * rng.uniform(0.85, 1.0)), int(h * rng.uniform(0.85, 1.0))
      x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
      crop = image.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BILINEAR)
      row["path"] = f"synth_{i:05d}.jpg"
      crop.save(tmp / "images" / row["path"], quality=90)
    written.append(row)
  with open(tmp / "labels.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(written)
  tmp.rename(out)


# ---------------------------------------------------------------------------------------------
# The Keras side (its own process: `bench_finetune.py keras CONFIG.json`).
# ---------------------------------------------------------------------------------------------


def keras_main(config_path: str) -> None:
  started = time.perf_counter()
  config = json.loads(Path(config_path).read_text())
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import h5py
  import numpy as np
  import keras
  from keras import layers, ops
  from keras.applications import resnet50
  from keras.src.legacy.preprocessing.image import ImageDataGenerator

  imported = time.perf_counter()
  keras.utils.set_random_seed(config["seed"])
  images = Path(config["images"])
  with open(config["labels"], newline="") as f:
    rows = list(csv.DictReader(f))

  # The heads as fit-heads wrote them: kind, classes, label range, starting weights.
  heads = []
  with h5py.File(config["heads"], "r") as f:
    text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
    for name in f.attrs["heads"]:
      name = text(name)
      g = f["heads"][name]
      hidden = list(np.atleast_1d(g.attrs["hidden"]))
      names = [f"{name}_hidden" if i == 0 else f"{name}_hidden_{i + 1}" for i in range(len(hidden))] + [name]
      heads.append({
        "name": name, "kind": text(g.attrs["kind"]), "column": text(g.attrs["column"]),
        "loss_weight": float(g.attrs["loss_weight"]),
        "classes": [text(c) for c in np.atleast_1d(g.attrs.get("class_names", []))],
        "label_range": g["label_range"][:] if "label_range" in g else None,
        "sigma": float(g.attrs["wheel_sigma"]) if "wheel_sigma" in g.attrs else None,
        "vectors": g["class_vectors"][:] if "class_vectors" in g else None,
        "layers": [(n, g[n]["kernel"][:], g[n]["bias"][:]) for n in names],
      })

  def targets(selected):
    out, weights = [], []
    for head in heads:
      values = [r[head["column"]] for r in selected]
      if head["kind"] == "softmax":
        index = {c: i for i, c in enumerate(head["classes"])}
        out.append(np.array([index[v] for v in values], np.int32))
        weights.append(np.ones(len(values), np.float32))
      elif head["kind"] == "tanh":
        low, high = (float(v) for v in head["label_range"])
        x = np.array([float(v) if v != "" else np.nan for v in values], np.float64)
        ok = ~np.isnan(x)
        out.append(np.where(ok, (x - low) / (high - low) * 2 - 1, 0).astype(np.float32)[:, None])
        weights.append(ok.astype(np.float32))
      elif head["kind"] == "embedding":
        c = len(head["classes"])
        d = np.arange(c)
        dist = np.abs(d[:, None] - d[None, :]) % c
        dist = np.minimum(dist, c - dist)
        soft = np.exp(-(dist.astype(np.float64) ** 2) / (2 * head["sigma"] ** 2))
        soft = (soft / soft.sum(1, keepdims=True)).astype(np.float32)
        index = {n: i for i, n in enumerate(head["classes"])}
        out.append(soft[[index[v] for v in values]])
        weights.append(np.ones(len(values), np.float32))
      else:
        raise SystemExit(f"head {head['name']}: {head['kind']} not handled by this benchmark")
    return tuple(out), tuple(weights)

  augmenter = ImageDataGenerator(**config["augment"]) if config["augment"] else None

  class Images(keras.utils.PyDataset):
    """Batches of (preprocessed images, head targets, sample weights), as flow_from_dataframe."""

    def __init__(self, selected, shuffle, augment):
      super().__init__()
      self.paths = [images / r["path"] for r in selected]
      self.y, self.w = targets(selected)
      self.order = np.arange(len(selected))
      self.shuffle, self.augment = shuffle, augment
      self.on_epoch_end()

    def __len__(self):
      return (len(self.paths) + BATCH - 1) // BATCH

    def on_epoch_end(self):
      if self.shuffle:
        np.random.shuffle(self.order)

    def __getitem__(self, index):
      picked = self.order[index * BATCH:(index + 1) * BATCH]
      batch = np.zeros((len(picked), SIZE, SIZE, 3), np.float32)
      for k, i in enumerate(picked):
        x = keras.utils.img_to_array(
          keras.utils.load_img(self.paths[i], target_size=(SIZE, SIZE), interpolation="nearest"))
        if self.augment:
          x = augmenter.random_transform(x)
        batch[k] = x
      return (resnet50.preprocess_input(batch), tuple(y[picked] for y in self.y),
              tuple(w[picked] for w in self.w))

  train = Images([r for r in rows if r["split"] == "train"], shuffle=True, augment=augmenter is not None)
  val = Images([r for r in rows if r["split"] in ("val", "validation")], shuffle=False, augment=False)

  class WheelLogits(layers.Layer):
    """Logits -|p - v_c|^2 against learned class vectors v (C, E)."""

    def __init__(self, vectors, **kwargs):
      super().__init__(**kwargs)
      self.initial = vectors

    def build(self, input_shape):
      self.vectors = self.add_weight(shape=self.initial.shape, name="class_vectors",
                                     initializer=keras.initializers.Constant(self.initial))

    def call(self, p):
      diff = ops.expand_dims(p, 1) - ops.expand_dims(self.vectors, 0)
      return -ops.sum(diff * diff, axis=-1)

  base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
  if config["weights"]:
    base.load_weights(config["weights"])
  for layer in base.layers:
    layer.trainable = layer.name.startswith("conv5")
  inputs = keras.Input(shape=(SIZE, SIZE, 3))
  features = layers.UnitNormalization()(layers.GlobalAveragePooling2D()(base(inputs, training=False)))
  outputs, losses = [], []
  for head in heads:
    x = features
    for n, kernel, bias in head["layers"][:-1]:
      x = layers.Dense(kernel.shape[1], activation="relu", name=n)(x)
    n, kernel, bias = head["layers"][-1]
    activation = {"softmax": "softmax", "tanh": "tanh", "embedding": None}[head["kind"]]
    x = layers.Dense(kernel.shape[1], activation=activation, name=n)(x)
    if head["kind"] == "embedding":
      x = WheelLogits(head["vectors"], name=f"{head['name']}_logits")(x)
    outputs.append(x)
    losses.append({"softmax": keras.losses.SparseCategoricalCrossentropy(), "tanh": keras.losses.MeanSquaredError(),
                   "embedding": keras.losses.CategoricalCrossentropy(from_logits=True)}[head["kind"]])
  model = keras.Model(inputs, outputs)
  for head in heads:  # the heads start where fit-heads left them, as ours
    for n, kernel, bias in head["layers"]:
      model.get_layer(n).set_weights([kernel, bias])
  model.compile(optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), loss=losses,
                loss_weights=[h["loss_weight"] for h in heads])

  class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
      self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
      seconds.append(time.perf_counter() - self.start)
      print(f"keras epoch {epoch + 1}: loss {logs['loss']:.4f}, val_loss {logs.get('val_loss', float('nan')):.4f};"
            f" {seconds[-1]:.1f} s", file=sys.stderr, flush=True)

  seconds: list[float] = []
  built = time.perf_counter()
  model.fit(train, validation_data=val, epochs=config["epochs"], verbose=0, callbacks=[EpochTimer()])
  import tensorflow as tf
  result = {"epoch_seconds": seconds, "fit_seconds": time.perf_counter() - built,
            "import_seconds": imported - started, "build_seconds": built - imported,
            "trainable_weights": len(model.trainable_weights),
            "trainable_parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__}}
  Path(config["out"]).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------------

EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+: .*; ([0-9.]+) s(?: \([^)]*\))?, ETA")
PREFIX_LINE = re.compile(r"computed once: ([0-9.]+) s in the frozen prefix \(([0-9.]+) s with decoding\)")


def parse_ours(log: str) -> dict:
  epochs = [float(m.group(2)) for m in map(EPOCH_LINE.match, log.splitlines()) if m]
  prefix = PREFIX_LINE.search(log)
  return {"epoch_seconds": epochs, "prefix_seconds": float(prefix.group(1)) if prefix else 0.0,
          "once_seconds": float(prefix.group(2)) if prefix else 0.0}


def steady(epochs: list[float]) -> float:
  """The mean of epochs 2.. (epoch 1 alone when there is only one)."""
  return statistics.mean(epochs[1:]) if len(epochs) > 1 else epochs[0]


def run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
  result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
  if result.returncode != 0:
    raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stderr[-3000:]}")
  return result


def prepare(bin_dir: str | Path, scratch: Path, sample: Path, count: int = 0) -> dict:
  """The data folder (the sample, or `count` images cut from it) and, once, its features and the
  starting heads (the demo's finetune start heads). Neither is timed."""
  tool = lambda name: bench_support.tool_command(bin_dir, name)  # noqa: E731
  scratch.mkdir(parents=True, exist_ok=True)
  if count:
    data = scratch / f"synth_{count}"
    if not data.exists():
      t = time.perf_counter()
      synthesise(sample / "images", sample / "labels.csv", count, data)
      print(f"wrote {count} images to {data} in {time.perf_counter() - t:.1f} s", flush=True)
  else:
    data = sample
  images, labels = data / "images", data / "labels.csv"
  features, heads = scratch / f"features_{data.name}.h5", scratch / f"heads_{data.name}.h5"
  for name in ("extract", "fit-heads", "finetune"):
    missing = bench_support.tool_missing(tool(name))
    if missing:
      raise RuntimeError(missing)
  if not heads.exists():
    prepare = [
      tool("extract") + ["--images", str(images), "--labels", str(labels), "--backbone", "resnet50",
                         "--weights", "random", "--seed", "0", "--output", str(features), "--overwrite",
                         "--quiet"],
      tool("fit-heads") + ["--features", str(features)] + [a for h in HEADS for a in ("--head", h)]
      + ["--output", str(heads), "--quiet"],
    ]
    for cmd in prepare:
      print("prepare:", shlex.join(cmd))
      t = time.perf_counter()
      run(cmd, cmd[0])
      print(f"  {time.perf_counter() - t:.1f} s", flush=True)
  return {"data": data, "images": images, "labels": labels, "heads": heads}


def compare(bin_dir: str | Path, scratch: Path, sample: Path, count: int = 0, epochs: int = 3,
            repeats: int = 2, configs: tuple[str, ...] = ("plain", "augment"),
            python: str = sys.executable, keras_weights: str = "ours", skip_ours: bool = False,
            skip_keras: bool = False) -> dict:
  """Alternates finetune and the Keras script per repeat and configuration, printing each run;
  returns the figures, medians and commands. Raises RuntimeError when a side fails."""
  scratch = Path(scratch).resolve()
  prepared = prepare(bin_dir, scratch, Path(sample).resolve(), count)
  images, labels, heads = prepared["images"], prepared["labels"], prepared["heads"]
  finetune = bench_support.tool_command(bin_dir, "finetune")
  help_text = run(finetune + ["--help"], "finetune --help").stdout
  ours_augments = "--rotation-range" in help_text
  exported = scratch / "ours_plain" / "model.h5"

  def ours_cmd(config):
    out = scratch / f"ours_{config}" / "model.h5"
    return finetune + ["--images", str(images), "--labels", str(labels), "--heads", str(heads),
                       "--weights", "random", "--seed", "0", "--epochs", str(epochs), "--batch-size",
                       str(BATCH), "--output", str(out)] + (AUGMENT_FLAGS if config == "augment" else [])

  def keras_cmd(config):
    spec = {"images": str(images), "labels": str(labels), "heads": str(heads), "epochs": epochs,
            "seed": 0, "augment": AUGMENT if config == "augment" else {},
            "weights": str(exported) if keras_weights == "ours" else "",
            "out": str(scratch / f"keras_{config}.json")}
    path = scratch / f"keras_{config}_config.json"
    path.write_text(json.dumps(spec, indent=1))
    return [python, os.path.abspath(__file__), "keras", str(path)]

  commands = {}
  for config in configs:
    commands[config] = {"ours": shlex.join(ours_cmd(config)), "keras": shlex.join(keras_cmd(config))}
    print(f"ours ({config}): ", commands[config]["ours"])
    print(f"keras ({config}):", commands[config]["keras"],
          f"(spec: {scratch / f'keras_{config}_config.json'})", flush=True)
  if "augment" in configs and not ours_augments:
    print("note: this finetune has no augmentation flags (--rotation-range missing from --help): "
          "the augmented run of ours is skipped; Keras' still runs.")

  results = {c: {"ours": [], "keras": []} for c in configs}
  versions = {}
  for repeat in range(repeats):
    for config in configs:
      if not skip_ours and (config == "plain" or ours_augments):
        cmd = ours_cmd(config)
        out = Path(cmd[cmd.index("--output") + 1])
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in out.parent.iterdir():  # a leftover .partial checkpoint would resume
          stale.unlink()
        t = time.perf_counter()
        done = run(cmd, "finetune")
        figures = parse_ours(done.stderr + done.stdout)
        figures["process_seconds"] = time.perf_counter() - t
        results[config]["ours"].append(figures)
        print(f"repeat {repeat + 1} {config}: finetune {figures['process_seconds']:.1f} s; once "
              f"{figures['once_seconds']:.1f} s (prefix {figures['prefix_seconds']:.1f} s); epochs "
              f"{', '.join(f'{s:.1f}' for s in figures['epoch_seconds'])} s", flush=True)
      if skip_keras:
        continue
      if keras_weights == "ours" and not exported.exists():
        raise RuntimeError("no exported backbone yet (run the plain configuration first, or "
                           "--keras-weights random)")
      cmd = keras_cmd(config)
      t = time.perf_counter()
      run(cmd, "keras")
      figures = json.loads((scratch / f"keras_{config}.json").read_text())
      figures["process_seconds"] = time.perf_counter() - t
      versions = figures["versions"]
      results[config]["keras"].append(figures)
      print(f"repeat {repeat + 1} {config}: keras {figures['process_seconds']:.1f} s (import "
            f"{figures['import_seconds']:.1f} s, model {figures['build_seconds']:.1f} s, fit "
            f"{figures['fit_seconds']:.1f} s; {figures['trainable_parameters']} trainable); epochs "
            f"{', '.join(f'{s:.1f}' for s in figures['epoch_seconds'])} s", flush=True)

  with open(labels, newline="") as f:
    split = [r["split"] for r in csv.DictReader(f)]
  summary = {}
  for config in configs:
    summary[config] = {}
    for side in ("ours", "keras"):
      runs = results[config][side]
      if not runs:
        continue
      summary[config][side] = {
        "first": statistics.median(r["epoch_seconds"][0] for r in runs),
        "steady": statistics.median(steady(r["epoch_seconds"]) for r in runs),
        "once": statistics.median(r.get("once_seconds", 0.0) for r in runs),
        "whole": statistics.median(r.get("once_seconds", 0.0) + sum(r["epoch_seconds"]) for r in runs),
        "process": statistics.median(r["process_seconds"] for r in runs)}
    if "ours" in summary[config] and "keras" in summary[config]:
      o, k = summary[config]["ours"], summary[config]["keras"]
      summary[config]["ratios"] = {"steady": k["steady"] / o["steady"], "whole": k["whole"] / o["whole"],
                                   "process": k["process"] / o["process"]}
  return {"images": len(split), "train": split.count("train"), "val": split.count("val"),
          "epochs": epochs, "repeats": repeats, "keras_weights": keras_weights, "versions": versions,
          "runs": results, "summary": summary, "commands": commands}


def report(out: dict) -> None:
  """The table of medians and the ratios Keras / ours."""
  print(f"{out['images']} images ({out['train']} train, {out['val']} val) at {SIZE}x{SIZE}, ResNet50 "
        f"conv5 + {len(HEADS)} heads, Adam {LEARNING_RATE}, batch {BATCH}, {out['epochs']} epochs, "
        f"{out['repeats']} repeats; medians over repeats; Keras weights: "
        f"{'our exported backbone' if out['keras_weights'] == 'ours' else 'Keras initialisers'}")
  if out["versions"]:
    print("versions:", json.dumps(out["versions"]))
  print("| configuration | tool | epoch 1 s | steady epoch s (epochs >= 2) | one-off pass s | "
        f"whole run s ({out['epochs']} epochs) | whole process s |")
  print("| --- | --- | --- | --- | --- | --- | --- |")
  for config, sides in out["summary"].items():
    for side in ("ours", "keras"):
      if side not in sides:
        continue
      s = sides[side]
      label = "finetune" if side == "ours" else "Keras"
      once_text = f"{s['once']:.1f}" if side == "ours" else "-"
      print(f"| {config} | {label} | {s['first']:.1f} | {s['steady']:.1f} | {once_text} | {s['whole']:.1f} | "
            f"{s['process']:.1f} |")
  for config, sides in out["summary"].items():
    if "ratios" in sides:
      r = sides["ratios"]
      print(f"{config}: steady epoch {r['steady']:.2f}x, whole run {r['whole']:.2f}x, whole process "
            f"{r['process']:.2f}x (Keras / ours)")


def main() -> None:
  if len(sys.argv) > 1 and sys.argv[1] == "keras":
    keras_main(sys.argv[2])
    return
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--images", type=int, default=0, help="synthesise this many images (0: the sample as is)")
  parser.add_argument("--sample", default="Datasets/sample")
  parser.add_argument("--epochs", type=int, default=3)
  parser.add_argument("--repeats", type=int, default=2)
  parser.add_argument("--configs", default="plain,augment", help="plain, augment or both (comma-separated)")
  parser.add_argument("--scratch", default="/tmp/headstart-bench-finetune")
  parser.add_argument("--bin", default=".build/release", help="folder of the release build (holds headstart)")
  parser.add_argument("--python", default=sys.executable)
  parser.add_argument("--keras-weights", choices=["ours", "random"], default="ours",
                      help="Keras' backbone: the file our plain run exported, or Keras' initialisers")
  parser.add_argument("--skip-keras", action="store_true")
  parser.add_argument("--skip-ours", action="store_true")
  bench_support.add_environment_flag(parser)
  args = parser.parse_args()

  rule = bench_support.apply_environment_rule(args.keep_env)
  bench_support.machine_header(bench_support.tool_command(args.bin, "finetune"), rule,
                               python=args.python, title="bench_finetune.py")
  try:
    out = compare(args.bin, Path(args.scratch), Path(args.sample), count=args.images, epochs=args.epochs,
                  repeats=args.repeats, configs=tuple(c for c in args.configs.split(",") if c),
                  python=args.python, keras_weights=args.keras_weights, skip_ours=args.skip_ours,
                  skip_keras=args.skip_keras)
  except RuntimeError as e:
    print(e)
    sys.exit(1)
  print()
  report(out)


if __name__ == "__main__":
  main()
