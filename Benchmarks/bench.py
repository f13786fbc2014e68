#!/usr/bin/env python3
"""Every Headstart benchmark in one command: each stage against what a Keras user would run,
alternating ours and Keras in the same run, with medians, ratios and the machine header.

Run from anywhere, with a Python that has tensorflow-cpu, keras 3, Pillow, h5py, scikit-image and
scikit-learn (and, optionally, openvino and threadpoolctl), after `swift build -c release`:

    python Benchmarks/bench.py                   # every stage that can run (an hour or more)
    python Benchmarks/bench.py --quick           # tiny sizes: a smoke test, not a measurement
    python Benchmarks/bench.py --stages extract,memory --backbones vgg16 --repeats 3
    python Benchmarks/bench.py --json figures.json

Stages (default: all that can run on this machine):

  extract    `extract` vs the Keras script (load_img -> preprocess_input -> predict -> GAP -> L2
             -> h5py) on N photographs of about 500x375, per backbone, 224x224; images/s, and
             effective GFLOP/s (direct-convolution FLOPs / time) beside the tool's measured sgemm.
             (bench_extract.py)
  openvino   model-only images/s of the same Keras backbone (weights=None, include_top=False, up
             to the last tap) in Keras (predict_on_batch) and in OpenVINO (openvino.convert_model,
             CPU, INFERENCE_PRECISION_HINT f32, PERFORMANCE_HINT LATENCY), batches of 16 random
             inputs after a warm-up; beside ours end to end (from the extract stage) and, with
             --network-only, ours network only (the opt-in Swift layer profile, a release test
             build). Needs the openvino package.
  memory     peak resident memory (/usr/bin/time -v) of `extract` and of the Keras script, both
             at batch 16, per backbone; target ours/Keras <= 0.5. (bench_extract.py --memory)
  camera     `extract` vs the Keras script on SYNTHESISED 12 MP JPEGs (4000x3000, sample photos
             upscaled with noise added, 3-6 MB each; not real camera photos). (bench_extract.py
             --camera)
  fit-heads  six heads on 20,000 x 2048 features, 10 epochs, whole process vs Keras; linear and
             with a 64-unit hidden layer on one head. (bench_fit_heads.py)
  finetune   seconds per epoch of `finetune` vs Keras (ResNet50 conv5 unfrozen + 3 heads, batch
             16) on 960 images, 3 epochs, without and with augmentation. (bench_finetune.py)

Every stage alternates ours and Keras within each repeat (--repeats, default 2) so both see the
same machine state, prints every run and the command lines, then a table of medians and ratios.
The end prints every stage's headline ratio against issue 9's targets.

Environment rule: tuning variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, OMP_NUM_THREADS, ...;
see bench_support.py) are removed from every process the benchmark starts, so the figures are
"with no tuning variables set"; --keep-env keeps them. The header says which were found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import bench_extract
import bench_finetune
import bench_fit_heads
import bench_support
from bench_extract import LAST_TAP, fmt

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("extract", "fit-heads", "finetune", "openvino", "memory", "camera")
RUN_ORDER = ("extract", "openvino", "memory", "camera", "fit-heads", "finetune")
# Direct-convolution FLOPs per 224x224 image up to LAST_TAP (2 x multiply-adds of every Conv2D,
# counted on the Keras models): what "effective GFLOP/s" divides by.
DIRECT_GFLOP = {"resnet50": 7.712, "vgg16": 30.693, "vgg19": 39.017}
MODEL_BATCH = 16


# ---------------------------------------------------------------------------------------------
# Model-only throughput, Keras or OpenVINO (its own process: `bench.py --model-worker ...`).
# ---------------------------------------------------------------------------------------------


def convert_to_openvino(model, batch: int):
  """openvino.Model from the Keras model: directly, else through a tf.function, else through a
  SavedModel. Returns (model, the path that worked, {path: why it failed})."""
  import openvino as ov
  import tensorflow as tf
  failures = {}
  shape = (batch, 224, 224, 3)
  try:
    return ov.convert_model(model, input=[shape]), "openvino.convert_model(keras.Model)", failures
  except Exception as e:  # noqa: BLE001 (any failure: try the next path)
    failures["keras.Model"] = f"{type(e).__name__}: {str(e)[:300]}"
  try:
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(shape, tf.float32))
    return ov.convert_model(concrete), "openvino.convert_model(tf.function)", failures
  except Exception as e:  # noqa: BLE001
    failures["tf.function"] = f"{type(e).__name__}: {str(e)[:300]}"
  import tempfile
  folder = tempfile.mkdtemp(prefix="headstart-ov-")
  model.export(folder, format="tf_saved_model", verbose=False)
  return ov.convert_model(folder, input=[shape]), "openvino.convert_model(SavedModel)", failures


def model_worker(engine: str, backbone: str, batch: int, batches: int, warmup: int) -> None:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import keras
  import numpy as np
  import tensorflow  # noqa: F401

  ctor = {"resnet50": keras.applications.ResNet50, "vgg16": keras.applications.VGG16,
          "vgg19": keras.applications.VGG19}[backbone]
  t = time.perf_counter()
  base = ctor(weights=None, include_top=False, input_shape=(224, 224, 3))
  model = keras.Model(base.input, base.get_layer(LAST_TAP[backbone]).output)
  info = {"engine": engine, "backbone": backbone, "batch": batch, "batches": batches,
          "warmup": warmup, "build_s": time.perf_counter() - t}
  # Inputs in the range preprocess_input gives ('caffe': BGR minus the ImageNet mean).
  x = np.random.default_rng(0).uniform(-124, 152, (batch, 224, 224, 3)).astype(np.float32)
  if engine == "keras":
    info["call"] = "model.predict_on_batch(x)"

    def run():
      return model.predict_on_batch(x)
  else:
    import openvino as ov
    t = time.perf_counter()
    converted, path, failures = convert_to_openvino(model, batch)
    info.update({"openvino": ov.__version__, "conversion": path, "conversion_failures": failures,
                 "convert_s": time.perf_counter() - t})
    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    t = time.perf_counter()
    compiled = ov.Core().compile_model(converted, "CPU", config)
    info["compile_s"] = time.perf_counter() - t
    info["config"] = config
    properties = {}
    for key in ("INFERENCE_PRECISION_HINT", "PERFORMANCE_HINT", "NUM_STREAMS", "INFERENCE_NUM_THREADS"):
      value = compiled.get_property(key)
      properties[key] = value.get_type_name() if hasattr(value, "get_type_name") else str(value)
    info["properties"] = properties
    request = compiled.create_infer_request()
    info["call"] = "compiled.create_infer_request().infer(x)"

    def run():
      return request.infer([x])[compiled.output(0)]
    reference = np.asarray(model.predict_on_batch(x))
    got = np.asarray(run())
    info["max_abs_diff_vs_keras"] = float(np.max(np.abs(got - reference)))
    info["max_abs_keras"] = float(np.max(np.abs(reference)))
  for _ in range(warmup):
    run()
  seconds = []
  for _ in range(batches):
    t = time.perf_counter()
    run()
    seconds.append(time.perf_counter() - t)
  info["batch_seconds"] = seconds
  info["images_per_s"] = batch * batches / sum(seconds)
  print("RESULT " + json.dumps(info), flush=True)


def run_model_only(python: str, engine: str, backbone: str, batches: int, warmup: int) -> dict:
  cmd = [python, str(Path(__file__).resolve()), "--model-worker", engine, "--backbones", backbone,
         "--ov-batches", str(batches), "--ov-warmup", str(warmup)]
  t = time.perf_counter()
  proc = subprocess.run(cmd, capture_output=True, text=True)
  for line in proc.stdout.splitlines():
    if line.startswith("RESULT "):
      result = json.loads(line[7:])
      result.update({"cmd": cmd, "process_s": time.perf_counter() - t})
      return result
  return {"error": f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-600:]}", "cmd": cmd}


# ---------------------------------------------------------------------------------------------
# Ours, network only: the opt-in Swift layer profile (a release test build).
# ---------------------------------------------------------------------------------------------

PROFILE_TOTAL = re.compile(r"PROFILE total ([0-9.]+) ms per image, ([0-9.]+) images/s")


def swift_profile_commands(package: Path, build: Path) -> tuple[list[str], list[str]]:
  common = ["-c", "release", "-Xswiftc", "-enable-testing", "--package-path", str(package),
            "--scratch-path", str(build)]
  return (["swift", "build"] + common + ["--build-tests"],
          ["swift", "test"] + common + ["--skip-build", "--filter", "BenchmarkTests/testLayerProfile"])


def run_network_only(test_cmd: list[str], backbone: str) -> dict:
  env = dict(os.environ, HEADSTART_PROFILE=backbone)
  proc = subprocess.run(test_cmd, capture_output=True, text=True, env=env)
  out = proc.stdout + proc.stderr
  m = PROFILE_TOTAL.search(out)
  if not m:
    return {"error": f"exit {proc.returncode}, no 'PROFILE total' line: {out.strip()[-400:]}"}
  return {"ms_per_image": float(m.group(1)), "images_per_s": float(m.group(2)),
          "layers": [line for line in out.splitlines() if line.startswith("PROFILE ")]}


# ---------------------------------------------------------------------------------------------
# The stages.
# ---------------------------------------------------------------------------------------------


def banner(title: str) -> None:
  print(f"\n===== stage: {title} =====", flush=True)


def med(values):
  values = [v for v in values if v is not None]
  return statistics.median(values) if values else None


class Bench:
  def __init__(self, args, header: dict):
    self.args = args
    self.header = header
    self.extract = bench_support.tool_command(args.bin, "extract")
    self.scratch = Path(args.scratch)
    self.scratch.mkdir(parents=True, exist_ok=True)
    self.keras = "tensorflow" in header["python"] and "keras" in header["python"]
    self.figures = {}   # stage -> what --json saves
    self.headlines = []  # (stage, what, value text, target text, met: bool | None)
    self.sgemm = None
    for line in header["tool_version"]:
      m = re.match(r"sgemm: ([0-9.]+) GFLOP/s", line)
      if m:
        self.sgemm = float(m.group(1))

  # extract-like stages share this: alternate, summarise, print.
  def _extract_like(self, images: Path, n: int, backbones: list[str], memory: bool = False,
                    keras_batch: int = 32) -> dict:
    a = self.args
    results = bench_extract.compare(self.extract, images, backbones, a.repeats, self.scratch,
                                    keras_batch=keras_batch, ours_batch=16 if memory else None,
                                    memory=memory, skip_keras=not self.keras, python=a.python)
    summary = bench_extract.summarise(results, n)
    for e in bench_extract.errors(results):
      print("note:", e)
    return {"images": str(images), "n": n, "results": results, "summary": summary}

  def stage_extract(self) -> None:
    a = self.args
    images = self.scratch / f"photos_{a.n}"
    names = bench_extract.make_photos(images, a.n)
    print(f"images: {bench_extract.describe_photos(images, names, False)}; input 224x224, "
          f"nearest resize; ours --batch-size 16 (default), Keras predict batch 32", flush=True)
    out = self._extract_like(images, len(names), a.backbones)
    print()
    bench_extract.print_speed_table(out["summary"], a.repeats)
    print(f"effective GFLOP/s (direct-convolution FLOPs per image x images/s; the tool's sgemm "
          f"peak in the header: {fmt(self.sgemm, '.1f')} GFLOP/s)")
    for b, s in out["summary"].items():
      ours = s["ours_ips"] * DIRECT_GFLOP[b] if s["ours_ips"] else None
      keras = s["keras_ips"] * DIRECT_GFLOP[b] if s["keras_ips"] else None
      s["ours_effective_gflops"], s["keras_effective_gflops"] = ours, keras
      print(f"  {b:9s} {DIRECT_GFLOP[b]:6.2f} GFLOP/image: ours {fmt(ours, '.1f')}, keras "
            f"{fmt(keras, '.1f')} GFLOP/s")
      self.headlines.append(("extract", f"{b} images/s ours/Keras", s["ratio"], 2.0, "min"))
    self.figures["extract"] = out

  def stage_camera(self) -> None:
    a = self.args
    images = self.scratch / f"camera_{a.camera_n}"
    names = bench_extract.make_camera_photos(images, a.camera_n)
    described = bench_extract.describe_photos(images, names, True)
    print(f"images: {described}; input 224x224, nearest resize", flush=True)
    out = self._extract_like(images, len(names), a.camera_backbones)
    print()
    bench_extract.print_speed_table(out["summary"], a.repeats)
    print("note: these are synthesised 12 MP JPEGs (upscaled sample photographs with added noise), "
          "not real camera photos; decoding cost is that of a 4000x3000 JPEG of that size.")
    for b, s in out["summary"].items():
      self.headlines.append(("camera", f"{b} synthesised 12 MP images/s ours/Keras", s["ratio"],
                             None, "min"))
    self.figures["camera"] = out

  def stage_memory(self) -> None:
    a = self.args
    problem = bench_extract.ensure_time()
    if problem:
      raise RuntimeError(problem)
    images = self.scratch / f"photos_{a.n}"
    names = bench_extract.make_photos(images, a.n)
    print(f"images: {bench_extract.describe_photos(images, names, False)}; both sides at batch 16 "
          f"(ours --batch-size 16, Keras predict batch 16), each under /usr/bin/time -v", flush=True)
    out = self._extract_like(images, len(names), a.backbones, memory=True, keras_batch=16)
    print()
    bench_extract.print_memory_table(out["summary"], a.repeats)
    for b, s in out["summary"].items():
      self.headlines.append(("memory", f"{b} peak RSS ours/Keras", s.get("rss_ratio"), 0.5, "max"))
    self.figures["memory"] = out

  def stage_openvino(self) -> None:
    a = self.args
    print(f"model only, batch {MODEL_BATCH} random inputs, {a.ov_warmup} warm-up batches, then "
          f"{a.ov_batches} timed; Keras predict_on_batch vs OpenVINO (f32, latency hint); each "
          f"engine in its own process, alternating", flush=True)
    test_cmd = None
    if a.network_only:
      build_cmd, test_cmd = swift_profile_commands(Path(a.package), self.scratch / "swift-profile-build")
      print("ours network only: building the release tests (slow the first time):", shlex.join(build_cmd),
            flush=True)
      t = time.perf_counter()
      proc = subprocess.run(build_cmd, capture_output=True, text=True)
      if proc.returncode != 0:
        print(f"  build failed ({proc.returncode}); no network-only figures: "
              f"{(proc.stderr or proc.stdout).strip()[-600:]}")
        test_cmd = None
      else:
        print(f"  built in {time.perf_counter() - t:.0f} s; per backbone: HEADSTART_PROFILE=<backbone> "
              f"{shlex.join(test_cmd)}", flush=True)
    runs = {b: {"keras": [], "openvino": [], "network": []} for b in a.backbones}
    for r in range(a.repeats):
      for b in a.backbones:
        for engine in ("keras", "openvino"):
          res = run_model_only(a.python, engine, b, a.ov_batches, a.ov_warmup)
          runs[b][engine].append(res)
          if "error" in res:
            msg = res["error"]
          else:
            msg = f"{res['images_per_s']:.2f} images/s"
            if engine == "openvino":
              msg += (f" ({res['conversion']}, converted in {res['convert_s']:.1f} s, compiled in "
                      f"{res['compile_s']:.1f} s; {res['properties']}; max |diff| vs Keras "
                      f"{res['max_abs_diff_vs_keras']:.2g} of {res['max_abs_keras']:.2g})")
              for path, why in res["conversion_failures"].items():
                msg += f"\n      conversion via {path} failed: {why}"
          print(f"[{r + 1}/{a.repeats}] {engine:8s} {b:9s} {msg}", flush=True)
          if r == 0:
            print("      $", shlex.join(res["cmd"]), flush=True)
        if test_cmd:
          res = run_network_only(test_cmd, b)
          runs[b]["network"].append(res)
          msg = res.get("error") or f"{res['images_per_s']:.2f} images/s ({res['ms_per_image']:.1f} ms per image)"
          print(f"[{r + 1}/{a.repeats}] ours-net {b:9s} {msg}", flush=True)

    extract = self.figures.get("extract", {}).get("summary", {})
    summary = {}
    print()
    print(f"images/s (median of {a.repeats}; higher is better)")
    head = (f"{'backbone':9s} | {'ours e2e':>8s} | {'ours net':>8s} | {'keras model':>11s} | "
            f"{'openvino model':>14s} | {'ours e2e/openvino':>17s} | {'ours e2e/keras model':>20s} | "
            f"{'openvino/keras':>14s}")
    print(head)
    print("-" * len(head))
    for b in a.backbones:
      keras = med([x.get("images_per_s") for x in runs[b]["keras"]])
      ov = med([x.get("images_per_s") for x in runs[b]["openvino"]])
      net = med([x.get("images_per_s") for x in runs[b]["network"]])
      e2e = extract.get(b, {}).get("ours_ips")
      ratio = lambda x, y: x / y if x and y else None  # noqa: E731
      s = {"ours_end_to_end_ips": e2e, "ours_network_ips": net, "keras_model_ips": keras,
           "openvino_model_ips": ov, "ours_vs_openvino": ratio(e2e, ov),
           "ours_vs_keras_model": ratio(e2e, keras), "openvino_vs_keras": ratio(ov, keras),
           "ours_network_vs_openvino": ratio(net, ov)}
      summary[b] = s
      print(f"{b:9s} | {fmt(e2e):>8s} | {fmt(net):>8s} | {fmt(keras):>11s} | {fmt(ov):>14s} | "
            f"{fmt(s['ours_vs_openvino'], '.2f', 'x'):>17s} | {fmt(s['ours_vs_keras_model'], '.2f', 'x'):>20s} | "
            f"{fmt(s['openvino_vs_keras'], '.2f', 'x'):>14s}")
      self.headlines.append(("openvino", f"{b} ours end to end / OpenVINO model only",
                             s["ours_vs_openvino"], 1.0, "min"))
      if net:
        self.headlines.append(("openvino", f"{b} ours network only / OpenVINO model only",
                               s["ours_network_vs_openvino"], None, "min"))
    print("effective GFLOP/s (direct-convolution FLOPs / time):")
    for b, s in summary.items():
      parts = [f"{name} {s[key] * DIRECT_GFLOP[b]:.1f}" for name, key in (
        ("ours e2e", "ours_end_to_end_ips"), ("ours net", "ours_network_ips"),
        ("keras model", "keras_model_ips"), ("openvino model", "openvino_model_ips")) if s[key]]
      print(f"  {b:9s} " + ", ".join(parts))
    print("ours e2e = whole extract process from the extract stage of this run (decoding, start-up "
          "and writing included; '-' when that stage did not run); ours net = the Swift layer "
          "profile, network only (--network-only); model = the network alone on a ready batch.")
    self.figures["openvino"] = {"runs": runs, "summary": summary}

  def stage_fit_heads(self) -> None:
    a = self.args
    fit_heads = bench_support.tool_command(a.bin, "fit-heads")
    outs = {}
    for hidden in (0, a.hidden):
      label = f"genre hidden {hidden}" if hidden else "six linear heads"
      print(f"--- {label}: {a.rows} x 2048 features, {a.fit_epochs} epochs ---", flush=True)
      outs[hidden] = bench_fit_heads.compare(
        fit_heads, self.scratch / "fit-heads", rows=a.rows, epochs=a.fit_epochs, repeats=a.repeats,
        hidden=hidden, python=a.python, skip_keras=not self.keras)
      print()
      bench_fit_heads.report(outs[hidden])
      print()
    print(f"seconds, whole process (median of {a.repeats}); speed-up = Keras time / our time")
    head = (f"{'configuration':17s} | {'fit-heads':>9s} | {'keras':>8s} | {'keras fit':>9s} | "
            f"{'speed-up':>8s} | {'vs fit':>7s}")
    print(head)
    print("-" * len(head))
    for hidden, out in outs.items():
      label = f"genre hidden {hidden}" if hidden else "linear"
      print(f"{label:17s} | {out['ours_median_s']:9.2f} | {fmt(out.get('keras_median_s')):>8s} | "
            f"{fmt(out.get('keras_fit_median_s')):>9s} | {fmt(out.get('ratio'), '.1f', 'x'):>8s} | "
            f"{fmt(out.get('ratio_fit'), '.1f', 'x'):>7s}")
      self.headlines.append(("fit-heads", f"{label} whole process Keras/ours", out.get("ratio"), 25.0, "min"))
    self.figures["fit-heads"] = {str(k): v for k, v in outs.items()}

  def stage_finetune(self) -> None:
    a = self.args
    out = bench_finetune.compare(a.bin, self.scratch / "finetune", ROOT / "Datasets" / "sample",
                                 count=a.finetune_images, epochs=a.finetune_epochs, repeats=a.repeats,
                                 configs=("plain", "augment"), python=a.python, skip_keras=not self.keras)
    print()
    bench_finetune.report(out)
    targets = {"plain": 3.0, "augment": 1.5}
    for config, sides in out["summary"].items():
      ratio = sides.get("ratios", {}).get("steady")
      self.headlines.append(("finetune", f"{config} steady epoch Keras/ours", ratio, targets[config], "min"))
    self.figures["finetune"] = out

  def run(self, stages: list[str]) -> None:
    for stage in RUN_ORDER:
      if stage not in stages:
        continue
      banner(stage)
      t = time.perf_counter()
      try:
        getattr(self, "stage_" + stage.replace("-", "_"))()
      except Exception as e:  # noqa: BLE001 (one stage failing must not lose the others)
        print(f"stage {stage} failed: {e}")
        if not isinstance(e, RuntimeError):
          traceback.print_exc(file=sys.stdout)
        self.figures.setdefault(stage, {})["error"] = str(e)
        self.headlines.append((stage, "failed", None, None, None))
      print(f"(stage {stage}: {time.perf_counter() - t:.0f} s)", flush=True)

  def print_summary(self) -> list[dict]:
    print("\n===== summary: each stage against issue 9's targets =====")
    rows = []
    for stage, what, value, target, kind in self.headlines:
      if value is None:
        verdict = "no figure"
      elif target is None:
        verdict = "measured (no target)"
      else:
        met = value >= target if kind == "min" else value <= target
        verdict = "target met" if met else "target NOT met"
      target_text = "-" if target is None else (f">= {target:g}x" if kind == "min" else f"<= {target:g}")
      value_text = "-" if value is None else (f"{value:.2f}" + ("x" if kind == "min" else ""))
      print(f"{stage:9s} {what:50s} {value_text:>8s}   target {target_text:8s} {verdict}")
      rows.append({"stage": stage, "what": what, "value": value, "target": target, "kind": kind,
                   "verdict": verdict})
    if self.args.quick:
      print("(--quick: smoke-test sizes on whatever load the machine has; these are not measurements)")
    return rows


# ---------------------------------------------------------------------------------------------
# The command.
# ---------------------------------------------------------------------------------------------


def main() -> None:
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--stages", help=f"comma-separated, from {', '.join(STAGES)} (default: all that can run)")
  ap.add_argument("--repeats", type=int, help="alternating repeats per stage (default 2; --quick 1)")
  ap.add_argument("--quick", action="store_true",
                  help="tiny sizes for a smoke test (a few minutes); not a measurement")
  ap.add_argument("--bin", default=str(ROOT / ".build" / "release"),
                  help="folder of the release tools (default: .build/release of this repository)")
  ap.add_argument("--json", help="save every figure, command and the header to this file")
  ap.add_argument("--scratch", default="/tmp/headstart-bench", help="scratch folder (photos, outputs)")
  ap.add_argument("--python", default=sys.executable, help="the Python that runs the Keras sides")
  ap.add_argument("--backbones", help="extract, memory and openvino stages (default resnet50,vgg16,vgg19; "
                                      "--quick resnet50)")
  ap.add_argument("--n", type=int, help="photographs of about 500x375 (default 64; --quick 8)")
  ap.add_argument("--camera-n", type=int, help="synthesised 12 MP JPEGs (default 16; --quick 2)")
  ap.add_argument("--camera-backbones", default="resnet50", help="camera stage (default resnet50)")
  ap.add_argument("--rows", type=int, help="fit-heads feature rows (default 20000; --quick 2000)")
  ap.add_argument("--fit-epochs", type=int, help="fit-heads epochs (default 10; --quick 2)")
  ap.add_argument("--hidden", type=int, default=64, help="hidden units of the second fit-heads run (default 64)")
  ap.add_argument("--finetune-images", type=int, help="finetune set size (default 960; --quick 48)")
  ap.add_argument("--finetune-epochs", type=int, help="finetune epochs (default 3; --quick 2)")
  ap.add_argument("--ov-batches", type=int, help="timed model-only batches (default 10; --quick 2)")
  ap.add_argument("--ov-warmup", type=int, default=2, help="untimed model-only batches first")
  ap.add_argument("--network-only", action="store_true",
                  help="openvino stage: also time ours network only (Swift layer profile; builds the "
                       "release tests under the scratch folder, several minutes)")
  ap.add_argument("--package", default=str(ROOT), help="Swift package for --network-only (default: this one)")
  bench_support.add_environment_flag(ap)
  ap.add_argument("--model-worker", choices=["keras", "openvino"], help=argparse.SUPPRESS)
  args = ap.parse_args()

  if args.model_worker:
    model_worker(args.model_worker, args.backbones, MODEL_BATCH, args.ov_batches, args.ov_warmup)
    return

  quick = args.quick
  pick = lambda value, full, small: value if value is not None else (small if quick else full)  # noqa: E731
  args.repeats = pick(args.repeats, 2, 1)
  args.backbones = [b.strip() for b in pick(args.backbones, "resnet50,vgg16,vgg19", "resnet50").split(",") if b.strip()]
  args.camera_backbones = [b.strip() for b in args.camera_backbones.split(",") if b.strip()]
  args.n = pick(args.n, 64, 8)
  args.camera_n = pick(args.camera_n, 16, 2)
  args.rows = pick(args.rows, 20000, 2000)
  args.fit_epochs = pick(args.fit_epochs, 10, 2)
  args.finetune_images = pick(args.finetune_images, 960, 48)
  args.finetune_epochs = pick(args.finetune_epochs, 3, 2)
  args.ov_batches = pick(args.ov_batches, 10, 2)
  unknown = [b for b in args.backbones + args.camera_backbones if b not in LAST_TAP]
  if unknown:
    sys.exit(f"unknown backbone(s) {unknown}; choose from {sorted(LAST_TAP)}")
  wanted = None
  if args.stages:
    wanted = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in wanted if s not in STAGES]
    if bad:
      sys.exit(f"unknown stage(s) {bad}; choose from {', '.join(STAGES)}")

  rule = bench_support.apply_environment_rule(args.keep_env)
  header = bench_support.machine_header(bench_support.tool_command(args.bin, "extract"), rule,
                                        python=args.python, title="bench.py")
  if quick:
    print("--quick: tiny sizes, one repeat: a smoke test of the benchmark, NOT a measurement")
  bench = Bench(args, header)

  # Which stages can run here.
  reasons = {}
  python = header["python"]
  has_openvino = "openvino" in python
  for stage in STAGES:
    tools = {"fit-heads": ["fit-heads"], "finetune": ["extract", "fit-heads", "finetune"]}.get(stage, ["extract"])
    if stage == "openvino":
      tools = []
      if not (bench.keras and has_openvino):
        reasons[stage] = "needs tensorflow and openvino in " + args.python
    for name in tools:
      missing = bench_support.tool_missing(bench_support.tool_command(args.bin, name))
      if missing:
        reasons[stage] = missing
  stages = wanted if wanted is not None else [s for s in STAGES if s not in reasons]
  if not bench.keras:
    print(f"note: tensorflow/keras not importable by {args.python}: only our side runs")
  for stage in STAGES:
    if stage in reasons and (wanted is None or stage in wanted):
      print(f"stage {stage}: {'skipped' if wanted is None else 'cannot run'}: {reasons[stage]}")
  print("stages, in run order:", ", ".join(s for s in RUN_ORDER if s in stages and s not in reasons))
  bench.run([s for s in stages if s not in reasons])
  headlines = bench.print_summary()
  for stage in STAGES:
    if stage in reasons and (wanted is None or stage in wanted):
      print(f"{stage:9s} did not run: {reasons[stage]}")

  if args.json:
    settings = {k: v for k, v in vars(args).items() if k != "model_worker"}
    Path(args.json).write_text(json.dumps(
      {"header": header, "settings": settings, "stages": bench.figures, "summary": headlines,
       "skipped": reasons}, indent=1, default=str))
    print("figures saved to", args.json)


if __name__ == "__main__":
  main()
