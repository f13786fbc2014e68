#!/usr/bin/env python3
"""Benchmark `headstart fit-heads` against the Keras script a user would write, on the same feature file.

Run from the repository root with a Python that has tensorflow-cpu, keras 3, h5py and numpy:

    swift build -c release --product headstart
    python Benchmarks/bench_fit_heads.py                       # 20,000 x 2048, 6 heads, 10 epochs
    python Benchmarks/bench_fit_heads.py --rows 4000 --repeats 1   # a quick look

What it does:

1. Writes (or reuses) a real feature file (Docs/file-format.md) under --scratch: N rows of width
   D, each row a non-negative, L2-normalised vector made from a 32-dimensional latent code through
   a fixed random map, plus a direction every row shares and per-row noise (so rows have cosine
   ~0.5 to one another, as pooled CNN features do). Labels come from a teacher on the latent code
   with label noise, so the heads are learnable but not trivially: two softmax columns (10 and 5
   classes), two two-class columns (sigmoid heads), a 1..10 score with 5 % missing (tanh head)
   and a 12-class colour-wheel hue (embedding head), plus a `split` column (80 % train, 20 % val).
2. For each repeat, alternating in the same run so both see the same machine state:
   (a) ours:  fit-heads --features F --heads HEADS.json --epochs 10 --batch-size 32 --patience 5
              --seed S --metrics M.json, timed as a whole process;
   (b) keras: a separate `python` process running what a Keras user writes: h5py reads the
       file, one keras.Model with the same six heads (Dense -> activation, linear heads; with
       --hidden N the softmax head "genre" gets a Dense(N, relu) hidden layer in both),
       Adam(learning_rate=0.01), batch 32,
       10 epochs, shuffle=True, missing labels as sample_weight 0, validation_data on the val
       rows, EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True) (what
       fit-heads does), then predictions on the val rows and the same metrics. Timed as a whole
       process (interpreter start-up and TensorFlow import included), and inside the process
       for model.fit alone.
   The embedding head in Keras is a custom layer holding the class vectors (C, E) that outputs
   the logits -|p - v_c|^2, trained with CategoricalCrossentropy(from_logits=True) against the
   same wheel-smoothed soft targets (sigma 0.5) fit-heads uses: the same loss.
3. Prints the machine header (bench_support.py), the commands, wall times, the ratio, and
   the validation metrics of both on the same validation rows: accuracy for the softmax,
   sigmoid (at 0.5) and embedding heads, MAE in label units for the tanh head.
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

WHEEL = ["Magenta", "Red-Magenta", "Red", "Orange", "Yellow", "Yellow-Green", "Green", "Green-Cyan",
         "Cyan", "Blue-Cyan", "Blue", "Blue-Magenta"]
SIGMA = 0.5
EMBED_DIM = 10
LR, BATCH, PATIENCE = 0.01, 32, 5

HEADS = [
  {"name": "style", "kind": "softmax", "column": "style"},
  {"name": "genre", "kind": "softmax", "column": "genre"},
  {"name": "portrait", "kind": "sigmoid", "column": "portrait"},
  {"name": "people", "kind": "sigmoid", "column": "people"},
  {"name": "quality", "kind": "tanh", "column": "quality"},
  {"name": "hue", "kind": "embedding", "column": "hue"},
]


# ---------------------------------------------------------------------------------------------
# The feature file.
# ---------------------------------------------------------------------------------------------


def make_feature_file(path: Path, rows: int, width: int, seed: int = 0, checksums: bool = True) -> None:
  import h5py
  import numpy as np

  rng = np.random.default_rng(seed)
  latent = 32
  z = rng.standard_normal((rows, latent)).astype(np.float32)
  mixing = rng.standard_normal((latent, width)).astype(np.float32) / np.sqrt(latent)
  common = np.abs(rng.standard_normal(width)).astype(np.float32)
  features = np.empty((rows, width), dtype=np.float32)
  for start in range(0, rows, 4096):  # in blocks: the full float64 temporaries would be large
    stop = min(rows, start + 4096)
    block = 1.2 * common + z[start:stop] @ mixing + 0.8 * rng.standard_normal((stop - start, width))
    block = np.log1p(np.exp(block))  # softplus: non-negative, like pooled ReLU activations
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    features[start:stop] = block.astype(np.float32)

  def classes(count, noise):
    w = rng.standard_normal((latent, count))
    return np.argmax(z @ w + noise * rng.gumbel(size=(rows, count)), axis=1).astype(np.int32)

  def flag(noise):
    w = rng.standard_normal(latent)
    return ((z @ w + noise * rng.standard_normal(rows)) > 0.3).astype(np.int32)

  style = classes(10, 1.0)
  genre = classes(5, 1.5)
  portrait = flag(1.0)
  people = flag(2.0)
  q = z @ rng.standard_normal(latent) / np.sqrt(latent) + 0.3 * rng.standard_normal(rows)
  quality = np.clip(np.round(5.5 + 2.0 * q), 1, 10).astype(np.float32)
  quality[rng.random(rows) < 0.05] = np.nan
  angle = np.arctan2(z[:, 1], z[:, 0]) + 0.25 * rng.standard_normal(rows)
  hue = (np.floor((angle / (2 * np.pi)) * len(WHEEL)).astype(np.int64) % len(WHEEL)).astype(np.int32)
  split = (rng.random(rows) < 0.2).astype(np.int32)  # 0 train, 1 val

  string = h5py.string_dtype("utf-8")
  tmp = path.with_suffix(".tmp.h5")
  with h5py.File(tmp, "w") as f:
    chunk_rows = max(1, min(rows, (1 << 20) // (4 * width)))
    # As Headstart writes it: Fletcher-32 checksums on every numeric dataset (--no-checksums: the
    # layout of earlier versions).
    f.create_dataset("features", data=features, chunks=(chunk_rows, width), maxshape=(None, width),
                     fletcher32=checksums)
    f.create_dataset("paths", data=[f"img/{i:06d}.jpg" for i in range(rows)], dtype=string)
    labels = f.create_group("labels")

    def categorical(name, values, names):
      d = labels.create_dataset(name, data=values.astype(np.int32), fletcher32=checksums)
      d.attrs.create("classes", names, dtype=string)

    categorical("style", style, [f"style{i}" for i in range(10)])
    categorical("genre", genre, [f"genre{i}" for i in range(5)])
    categorical("portrait", portrait, ["no", "yes"])
    categorical("people", people, ["no", "yes"])
    categorical("hue", hue, WHEEL)
    categorical("split", split, ["train", "val"])
    labels.create_dataset("quality", data=quality, fletcher32=checksums)
    failed = f.create_group("failed")
    failed.create_dataset("paths", shape=(0,), dtype=string)
    failed.create_dataset("reasons", shape=(0,), dtype=string)
    for key, value in {
      "format_version": 1, "complete": 1, "backbone": "resnet50",
      "weights_file": "synthetic (bench_fit_heads.py)", "weights_sha256": "", "height": 224,
      "width": 224, "interpolation": "nearest", "preprocessing": "caffe", "exif": "ignore",
      "normalization": "l2 per tap", "tool_version": "0.1.0",
      "warning": "synthetic features for benchmarking",
    }.items():
      f.attrs[key] = value
    f.attrs.create("taps", ["conv5_block3_out"], dtype=string)
    f.attrs["tap_widths"] = np.array([width], dtype=np.int64)
  tmp.rename(path)


# ---------------------------------------------------------------------------------------------
# The Keras side (runs in its own process: `bench_fit_heads.py keras FILE EPOCHS OUT.json`).
# ---------------------------------------------------------------------------------------------


def keras_main(feature_path: str, epochs: int, out_path: str, seed: int, hidden: int) -> None:
  started = time.perf_counter()
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import h5py
  import numpy as np
  import keras
  from keras import layers, ops

  imported = time.perf_counter()
  keras.utils.set_random_seed(seed)
  with h5py.File(feature_path, "r") as f:
    x = f["features"][...]
    lab = {name: f["labels"][name][...] for name in f["labels"]}
  split = lab["split"]
  train, val = np.where(split == 0)[0], np.where(split == 1)[0]

  c = len(WHEEL)
  d = np.arange(c)
  dist = np.abs(d[:, None] - d[None, :]) % c
  dist = np.minimum(dist, c - dist)
  soft = np.exp(-(dist.astype(np.float64) ** 2) / (2 * SIGMA * SIGMA))
  soft = (soft / soft.sum(1, keepdims=True)).astype(np.float32)

  q = lab["quality"]
  q_ok = ~np.isnan(q)
  low, high = float(np.nanmin(q[train])), float(np.nanmax(q[train]))
  y = {
    "style": lab["style"], "genre": lab["genre"],
    "portrait": lab["portrait"].astype(np.float32)[:, None],
    "people": lab["people"].astype(np.float32)[:, None],
    "quality": np.where(q_ok, (q - low) / (high - low) * 2 - 1, 0).astype(np.float32)[:, None],
    "hue": soft[lab["hue"]],
  }
  w = {k: np.ones(len(x), np.float32) for k in y}
  w["quality"] = q_ok.astype(np.float32)

  class WheelLogits(layers.Layer):
    """Logits -|p - v_c|^2 against learned class vectors v (C, E), started on the unit circle."""

    def build(self, input_shape):
      angle = 2 * np.pi * np.arange(c) / c
      init = np.zeros((c, EMBED_DIM), np.float32)
      init[:, 0], init[:, 1] = np.cos(angle), np.sin(angle)
      init += np.random.default_rng(seed).uniform(-0.05, 0.05, init.shape).astype(np.float32)
      self.vectors = self.add_weight(shape=(c, EMBED_DIM), initializer=keras.initializers.Constant(init),
                                     name="class_vectors")

    def call(self, p):
      diff = ops.expand_dims(p, 1) - ops.expand_dims(self.vectors, 0)
      return -ops.sum(diff * diff, axis=-1)

  inp = keras.Input(shape=(x.shape[1],), name="features")
  outputs = {
    "style": layers.Dense(10, activation="softmax", name="style")(inp),
    "genre": layers.Dense(5, activation="softmax", name="genre")(
      layers.Dense(hidden, activation="relu", name="genre_hidden")(inp) if hidden else inp),
    "portrait": layers.Dense(1, activation="sigmoid", name="portrait")(inp),
    "people": layers.Dense(1, activation="sigmoid", name="people")(inp),
    "quality": layers.Dense(1, activation="tanh", name="quality")(inp),
    "hue": WheelLogits(name="hue")(layers.Dense(EMBED_DIM, name="hue_embedding")(inp)),
  }
  model = keras.Model(inp, outputs)
  model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=LR),
    loss={"style": "sparse_categorical_crossentropy", "genre": "sparse_categorical_crossentropy",
          "portrait": "binary_crossentropy", "people": "binary_crossentropy", "quality": "mse",
          "hue": keras.losses.CategoricalCrossentropy(from_logits=True)})
  sub = lambda rows: ({k: v[rows] for k, v in y.items()}, {k: v[rows] for k, v in w.items()})  # noqa
  y_train, w_train = sub(train)
  y_val, w_val = sub(val)
  fit_started = time.perf_counter()
  history = model.fit(
    x[train], y_train, sample_weight=w_train, batch_size=BATCH, epochs=epochs, shuffle=True,
    validation_data=(x[val], y_val, w_val), verbose=0,
    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE,
                                             restore_best_weights=True)])
  fit_seconds = time.perf_counter() - fit_started
  p = model.predict(x[val], batch_size=1024, verbose=0)
  metrics = {
    "style": float(np.mean(np.argmax(p["style"], 1) == lab["style"][val])),
    "genre": float(np.mean(np.argmax(p["genre"], 1) == lab["genre"][val])),
    "portrait": float(np.mean((p["portrait"][:, 0] >= 0.5) == (lab["portrait"][val] == 1))),
    "people": float(np.mean((p["people"][:, 0] >= 0.5) == (lab["people"][val] == 1))),
    "hue": float(np.mean(np.argmax(p["hue"], 1) == lab["hue"][val])),
  }
  qv = q[val]
  ok = ~np.isnan(qv)
  pred = (p["quality"][:, 0].astype(np.float64) + 1) / 2 * (high - low) + low
  metrics["quality"] = float(np.mean(np.abs(pred[ok] - qv[ok])))
  result = {"metrics": metrics, "fit_seconds": fit_seconds, "import_seconds": imported - started,
            "epochs_run": len(history.history["loss"]),
            "in_process_seconds": time.perf_counter() - started,
            "versions": {"keras": keras.__version__, "numpy": np.__version__, "h5py": h5py.__version__}}
  try:
    import tensorflow as tf
    result["versions"]["tensorflow"] = tf.__version__
  except ImportError:
    pass
  Path(out_path).write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The driver.
# ---------------------------------------------------------------------------------------------


def our_metrics(path: Path) -> dict:
  heads = json.loads(path.read_text())["heads"]
  out = {}
  for name, report in heads.items():
    val = report["val"]
    if report["kind"] == "tanh":
      out[name] = val["mae"]
    elif report["kind"] == "sigmoid":
      out[name] = val["labels"][0]["accuracy_at_half"] if "labels" in val else val["accuracy_at_half"]
    else:
      out[name] = val["accuracy"]
  return out


def prepare(scratch: Path, rows: int, width: int, hidden: int, checksums: bool = True) -> tuple[Path, Path]:
  """The feature file (written once per size) and the heads file for `hidden` (0: linear)."""
  scratch.mkdir(parents=True, exist_ok=True)
  features = scratch / f"features_{rows}x{width}{'' if checksums else '_nochecksums'}.h5"
  if not features.exists():
    t = time.perf_counter()
    make_feature_file(features, rows, width, checksums=checksums)
    print(f"wrote {features} in {time.perf_counter() - t:.1f} s", flush=True)
  heads = [dict(h) for h in HEADS]
  if hidden:
    heads[1]["hidden"] = [hidden]
  heads_json = scratch / (f"heads_hidden{hidden}.json" if hidden else "heads.json")
  heads_json.write_text(json.dumps({"heads": heads}, indent=2))
  return features, heads_json


def compare(fit_heads: list[str], scratch: Path, rows: int = 20000, width: int = 2048,
            epochs: int = 10, repeats: int = 2, seed: int = 0, hidden: int = 0,
            python: str = sys.executable, skip_keras: bool = False, extra: str = "",
            checksums: bool = True) -> dict:
  """Alternates fit-heads (argv prefix `fit_heads`) and the Keras script per repeat, printing each
  run; returns the times, metrics and commands. Raises RuntimeError when a side fails."""
  features, heads_json = prepare(scratch, rows, width, hidden, checksums)

  # Repeat r runs both sides with seed + r: validation metrics differ by a point or so between
  # seeds (initial weights, batch order), so they are compared as means over the repeats.
  def ours_cmd(seed):
    return fit_heads + ["--features", str(features), "--heads", str(heads_json), "--epochs",
                        str(epochs), "--batch-size", str(BATCH), "--patience", str(PATIENCE), "--seed",
                        str(seed), "--learning-rate", str(LR), "--quiet", "--metrics",
                        str(scratch / "ours_metrics.json")] + shlex.split(extra)
  keras_out = scratch / "keras_result.json"

  def keras_cmd(seed):
    return [python, os.path.abspath(__file__), "keras", str(features), str(epochs),
            str(keras_out), str(seed), str(hidden)]
  print("ours: ", shlex.join(ours_cmd(seed)), "(seed + repeat)")
  if not skip_keras:
    print("keras:", shlex.join(keras_cmd(seed)), "(seed + repeat)", flush=True)
  missing = bench_support.tool_missing(fit_heads)
  if missing:
    raise RuntimeError(missing)

  out = {"rows": rows, "width": width, "epochs": epochs, "hidden": hidden, "repeats": repeats,
         "ours_times": [], "keras_times": [], "keras_fit": [], "ours_metrics": [], "keras_metrics": [],
         "keras_epochs": [], "versions": {},
         "commands": {"ours": shlex.join(ours_cmd(seed)), "keras": shlex.join(keras_cmd(seed))}}
  for repeat in range(repeats):
    s = seed + repeat
    t = time.perf_counter()
    run = subprocess.run(ours_cmd(s), capture_output=True, text=True)
    out["ours_times"].append(time.perf_counter() - t)
    if run.returncode != 0:
      raise RuntimeError(f"fit-heads failed ({run.returncode}): {run.stderr[-3000:]}")
    out["ours_metrics"].append(our_metrics(scratch / "ours_metrics.json"))
    first = (run.stdout.splitlines() or [""])[0]
    print(f"repeat {repeat + 1}: fit-heads {out['ours_times'][-1]:.2f} s  ({first})", flush=True)
    if skip_keras:
      continue
    t = time.perf_counter()
    run = subprocess.run(keras_cmd(s), capture_output=True, text=True)
    out["keras_times"].append(time.perf_counter() - t)
    if run.returncode != 0:
      raise RuntimeError(f"keras failed ({run.returncode}): {run.stderr[-3000:]}")
    info = json.loads(keras_out.read_text())
    out["keras_metrics"].append(info["metrics"])
    out["keras_fit"].append(info["fit_seconds"])
    out["keras_epochs"].append(info["epochs_run"])
    out["versions"] = info["versions"]
    print(f"repeat {repeat + 1}: keras {out['keras_times'][-1]:.2f} s (model.fit {out['keras_fit'][-1]:.2f} s, "
          f"{info['epochs_run']} epochs)", flush=True)
  ours, keras = out["ours_times"], out["keras_times"]
  out["ours_median_s"] = statistics.median(ours)
  if keras:
    out["keras_median_s"] = statistics.median(keras)
    out["keras_fit_median_s"] = statistics.median(out["keras_fit"])
    out["ratio"] = out["keras_median_s"] / out["ours_median_s"]
    out["ratio_fit"] = out["keras_fit_median_s"] / out["ours_median_s"]
    out["ratio_least_favourable"] = min(keras) / max(ours)
  return out


def report(out: dict) -> None:
  """The summary: times, the ratio, the validation metrics of both sides."""
  print(f"rows {out['rows']} x {out['width']}, 6 heads (genre hidden {out['hidden']}), Adam lr {LR}, "
        f"batch {BATCH}, {out['epochs']} epochs, early stopping patience {PATIENCE}")
  if out["versions"]:
    print("versions:", json.dumps(out["versions"]))
  ours_times, keras_times, keras_fit = out["ours_times"], out["keras_times"], out["keras_fit"]
  print(f"fit-heads whole process: {', '.join(f'{t:.2f}' for t in ours_times)} s "
        f"(median {out['ours_median_s']:.2f}, best {min(ours_times):.2f})")
  if keras_times:
    print(f"keras whole process:     {', '.join(f'{t:.2f}' for t in keras_times)} s "
          f"(median {out['keras_median_s']:.2f}, best {min(keras_times):.2f}); "
          f"model.fit alone {', '.join(f'{t:.2f}' for t in keras_fit)} s")
    print(f"ratio (median keras / median fit-heads): {out['ratio']:.1f}x; "
          f"vs model.fit alone {out['ratio_fit']:.1f}x; "
          f"least favourable (fastest keras / slowest fit-heads): {out['ratio_least_favourable']:.1f}x")
  print()
  print(f"validation metrics, mean over {out['repeats']} seeds (each seed's value in brackets)")
  print(f"{'head':10} {'metric':9} {'fit-heads':>10} {'keras':>10}")
  for head in HEADS:
    name = head["name"]
    metric = "MAE" if head["kind"] == "tanh" else "accuracy"
    ours = [run.get(name, float("nan")) for run in out["ours_metrics"]]
    keras = [run[name] for run in out["keras_metrics"] if name in run]
    k = f"{statistics.mean(keras):.4f}" if keras else "-"
    print(f"{name:10} {metric:9} {statistics.mean(ours):10.4f} {k:>10}   "
          f"[{', '.join(f'{v:.3f}' for v in ours)}] [{', '.join(f'{v:.3f}' for v in keras)}]")


def main() -> None:
  if len(sys.argv) > 1 and sys.argv[1] == "keras":
    keras_main(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    return
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--rows", type=int, default=20000)
  parser.add_argument("--width", type=int, default=2048)
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--repeats", type=int, default=2)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--scratch", default="/tmp/headstart-bench-fit-heads")
  parser.add_argument("--bin", default=".build/release", help="folder of the release build (holds headstart)")
  parser.add_argument("--python", default=sys.executable)
  parser.add_argument("--hidden", type=int, default=0, help="hidden ReLU units of the genre head (0: linear)")
  parser.add_argument("--skip-keras", action="store_true")
  parser.add_argument("--extra", default="", help="extra fit-heads arguments, e.g. '--max-memory 64M'")
  parser.add_argument("--no-checksums", action="store_true",
                      help="write the feature file without Fletcher-32 checksums (the layout of earlier versions)")
  bench_support.add_environment_flag(parser)
  args = parser.parse_args()

  rule = bench_support.apply_environment_rule(args.keep_env)
  fit_heads = bench_support.tool_command(args.bin, "fit-heads")
  bench_support.machine_header(fit_heads, rule, python=args.python, title="bench_fit_heads.py")
  try:
    out = compare(fit_heads, Path(args.scratch), rows=args.rows, width=args.width, epochs=args.epochs,
                  repeats=args.repeats, seed=args.seed, hidden=args.hidden, python=args.python,
                  skip_keras=args.skip_keras, extra=args.extra, checksums=not args.no_checksums)
  except RuntimeError as e:
    print(e)
    sys.exit(1)
  print()
  report(out)


if __name__ == "__main__":
  main()
