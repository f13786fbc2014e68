"""Keras' outputs for the finetune round trip (FinetuneToolTests/RoundTripTests.swift).

Run by developers after a change to what finetune exports, not in CI (needs the built tools and
tensorflow/keras, h5py, Pillow):

    swift build --build-tests            # the test runs the debug products; so does this script
    /work/venv-keras/bin/python Tests/Fixtures/make_finetune_roundtrip.py [--bin .build/debug]

It writes finetune_roundtrip/labels.csv (eight of the fixture images, columns class, score, hue),
runs the commands listed in finetune_roundtrip/keras_outputs.json ("commands": extract with random
ResNet50 weights at 64 x 64 -> fit-heads with a softmax, a tanh and an embedding head -> finetune
for one epoch of Adam), loads the exported model.h5 into keras.applications.ResNet50(weights=None,
include_top=False, input_shape=(64, 64, 3)) with load_weights, and records, per image, Keras'
softmax probabilities, raw tanh output and nearest wheel class, computed with Keras' own
load_img / preprocess_input (scripts/check_finetune_keras.py). The model file's SHA-256 is
recorded for information: the test reruns the same commands and says when its file differs.
"""

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from check_finetune_keras import apply_heads, compare, keras_features, read_heads  # noqa: E402

OUT = HERE / "finetune_roundtrip"
# The images FinetuneHarness uses, with a class, a number and a hue each.
ROWS = [
  ("astronaut_baseline_q90_256x256.jpg", "a", 2.0, "Red"),
  ("chelsea_progressive_300x200.jpg", "a", 7.5, "Orange"),
  ("coffee_cmyk_240x160.jpg", "a", 4.0, "Yellow"),
  ("flower_rgb_240x160.png", "a", 9.0, "Red"),
  ("camera_gray_180x180.jpg", "b", 1.0, "Blue"),
  ("coins_gray_192x152.png", "b", 5.5, "Cyan"),
  ("hubble_rgba_200x174.png", "b", 8.0, "Blue"),
  ("china_wide_320x100.jpg", "b", 3.0, "Green"),
]
# {images}: Tests/Fixtures/images, {labels}: finetune_roundtrip/labels.csv, {work}: a fresh folder.
COMMANDS = [
  ["extract", "--images", "{images}", "--labels", "{labels}", "--weights", "random", "--seed", "0",
   "--size", "64x64", "--output", "{work}/features.h5", "--quiet"],
  ["fit-heads", "--features", "{work}/features.h5", "--head", "kind=softmax:class", "--head",
   "score=tanh:score", "--head", "hue=embedding:hue", "--epochs", "3", "--val-split", "0", "--seed", "0",
   "--output", "{work}/heads.h5", "--quiet"],
  ["finetune", "--images", "{images}", "--labels", "{labels}", "--heads", "{work}/heads.h5", "--weights",
   "random", "--seed", "0", "--output", "{work}/model.h5", "--epochs", "1", "--batch-size", "4",
   "--val-split", "0", "--quiet"],
  ["predict", "--heads", "{work}/model.heads.h5", "--weights", "{work}/model.h5", "--images", "{images}",
   "--output", "{work}/predictions.csv", "--quiet"],
]


def main():
  import keras

  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--bin", default=str(ROOT / ".build" / "debug"))
  args = parser.parse_args()
  OUT.mkdir(exist_ok=True)
  labels = OUT / "labels.csv"
  with open(labels, "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["path", "class", "score", "hue"])
    writer.writerows(ROWS)
  images = HERE / "images"
  with tempfile.TemporaryDirectory() as work:
    for command in COMMANDS:
      argv = [a.format(images=images, labels=labels, work=work) for a in command]
      argv = [str(Path(args.bin) / "headstart")] + argv  # headstart COMMAND ...
      subprocess.run(argv, check=True)
    model = Path(work) / "model.h5"
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    settings, heads = read_heads(Path(work) / "model.heads.h5")
    paths = [r[0] for r in ROWS]
    outputs = apply_heads(heads, keras_features(str(model), settings, [str(images / p) for p in paths]))
    # The same check the test makes, here against this run's predict.
    with open(Path(work) / "predictions.csv", newline="") as f:
      predicted = {r["path"]: r for r in csv.DictReader(f)}
    worst, mismatched = compare(heads, outputs, [predicted[p] for p in paths])
  per_image = {}
  for i, path in enumerate(paths):
    entry = {}
    for head in heads:
      value = outputs[head["name"]][i]
      entry[head["name"]] = value if isinstance(value, str) else [float(v) for v in value]
    per_image[path] = entry
  fixture = {
    "about": "Keras' outputs of finetune's exported model (make_finetune_roundtrip.py); softmax "
             "probabilities in class_names order, tanh raw outputs (label = (t + 1) / 2 * (high - low) + low), "
             "embedding nearest wheel class",
    "keras_version": keras.__version__,
    "model_sha256": sha,
    "commands": COMMANDS,
    "heads": [{"name": h["name"], "kind": h["kind"], "class_names": h["classes"], "label_range": h["label_range"]}
              for h in heads],
    "outputs": per_image,
  }
  (OUT / "keras_outputs.json").write_text(json.dumps(fixture, indent=1) + "\n")
  print(f"model.h5 sha256 {sha}; Keras {keras.__version__}: max |Keras - predict| = {worst:.3g}, "
        f"embedding classes differing: {mismatched}; wrote {OUT / 'keras_outputs.json'}")


if __name__ == "__main__":
  main()
