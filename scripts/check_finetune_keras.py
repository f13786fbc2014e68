"""Checks finetune's export in real Keras (not run in CI; needs tensorflow/keras, h5py, pillow).

    check_finetune_keras.py MODEL.h5 MODEL.heads.h5 IMAGES_DIR PREDICTIONS.csv

Builds keras.applications.<Backbone>(weights=None, include_top=False) at the heads file's input
size, loads MODEL.h5 with `load_weights` (Keras' legacy h5 loader, by topology), runs every image
listed in PREDICTIONS.csv (written by `predict --heads MODEL.heads.h5 --weights MODEL.h5`)
through Keras' own load_img / preprocess_input, pools and L2-normalises each tap the heads file
records (the last block's output, and any earlier tap a head reads: those layers are frozen in
fine-tuning), feeds each head its own taps, applies its dense layers, and prints the largest difference from
predict's softmax probabilities and tanh values (in tanh units); embedding heads are compared by
their nearest wheel class. Exit status 1 when a difference exceeds 1e-4 or a class differs.

Tests/Fixtures/make_finetune_roundtrip.py imports `read_heads`, `keras_features` and
`apply_heads` to commit Keras' outputs for the round-trip test.
"""

import csv
import sys

import h5py
import numpy as np


def _text(value):
  return value.decode() if isinstance(value, bytes) else str(value)


def read_heads(path):
  """The heads file's input settings and heads: (settings dict, [head dict]) in head order."""
  with h5py.File(path, "r") as f:
    attrs = f.attrs
    taps = [_text(t) for t in np.atleast_1d(attrs["taps"])]
    widths = [int(w) for w in np.atleast_1d(attrs["tap_widths"])]
    starts = dict(zip(taps, np.cumsum([0] + widths[:-1]).tolist()))
    settings = {"backbone": _text(attrs["backbone"]), "height": int(attrs["height"]),
                "width": int(attrs["width"]), "interpolation": _text(attrs["interpolation"]), "taps": taps}
    heads = []
    for name in attrs["heads"]:
      name = _text(name)
      g = f["heads"][name]
      hidden = list(np.atleast_1d(g.attrs["hidden"]))
      names = [f"{name}_hidden" if i == 0 else f"{name}_hidden_{i + 1}" for i in range(len(hidden))] + [name]
      # A head on some of the taps (its `taps` attribute) reads their columns of the row.
      own = [_text(t) for t in np.atleast_1d(g.attrs["taps"])] if "taps" in g.attrs else None
      columns = None if own is None else np.concatenate(
        [np.arange(starts[t], starts[t] + widths[taps.index(t)]) for t in own])
      heads.append({
        "name": name, "kind": _text(g.attrs["kind"]), "columns": columns,
        "layers": [(g[n]["kernel"][:], g[n]["bias"][:]) for n in names],
        "classes": [_text(c) for c in np.atleast_1d(g.attrs.get("class_names", []))],
        "label_range": [float(v) for v in g["label_range"][:]] if "label_range" in g else None,
        "class_vectors": g["class_vectors"][:] if "class_vectors" in g else None,
      })
  return settings, heads


def keras_features(model_path, settings, image_paths):
  """(N, D) the heads' input row of Keras' model loaded from MODEL.h5: each tap of
  settings["taps"] ("last": the model's output) pooled and L2-normalised, side by side."""
  import keras

  applications = {"resnet50": (keras.applications.ResNet50, keras.applications.resnet50),
                  "vgg16": (keras.applications.VGG16, keras.applications.vgg16),
                  "vgg19": (keras.applications.VGG19, keras.applications.vgg19)}
  constructor, module = applications[settings["backbone"]]
  height, width = settings["height"], settings["width"]
  model = constructor(weights=None, include_top=False, input_shape=(height, width, 3))
  model.load_weights(model_path)
  taps = settings.get("taps", ["last"])
  outputs = [model.output if t == "last" else model.get_layer(t).output for t in taps]
  tapped = keras.Model(model.input, outputs)
  batch = np.stack([
    keras.utils.img_to_array(keras.utils.load_img(p, target_size=(height, width),
                                                  interpolation=settings["interpolation"]))
    for p in image_paths])
  produced = tapped.predict(module.preprocess_input(batch), verbose=0)
  if len(taps) == 1:
    produced = [produced]
  rows = []
  for y in produced:
    pooled = y.mean(axis=(1, 2))
    rows.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
  return np.concatenate(rows, axis=1)


def apply_heads(heads, features):
  """Per head (by name): softmax probabilities (N, C), raw tanh outputs (N, K), or the nearest
  wheel class names (N) of an embedding head."""
  out = {}
  for head in heads:
    x = features if head.get("columns") is None else features[:, head["columns"]]
    for kernel, bias in head["layers"][:-1]:
      x = np.maximum(x @ kernel + bias, 0)
    z = x @ head["layers"][-1][0] + head["layers"][-1][1]
    if head["kind"] == "softmax":
      p = np.exp(z - z.max(axis=1, keepdims=True))
      out[head["name"]] = p / p.sum(axis=1, keepdims=True)
    elif head["kind"] == "tanh":
      out[head["name"]] = np.tanh(z)
    elif head["kind"] == "embedding":
      d = ((z[:, None, :] - head["class_vectors"][None, :, :]) ** 2).sum(axis=-1)
      out[head["name"]] = [head["classes"][i] for i in np.argmin(d, axis=1)]
  return out


def compare(heads, outputs, rows):
  """The largest |Keras - predict| over softmax probabilities and tanh outputs (in tanh units),
  and the number of embedding classes that differ, for predict's CSV rows."""
  worst, mismatched = 0.0, 0
  for head in heads:
    name, kind = head["name"], head["kind"]
    if name not in outputs:
      print(f"head {name}: {kind} not compared by this script")
      continue
    if kind == "softmax":
      ours = np.array([[float(r[f"{name}:{c}"]) for c in head["classes"]] for r in rows])
    elif kind == "tanh":
      low, high = head["label_range"]
      columns = [name] if outputs[name].shape[1] == 1 else [f"{name}:{i}" for i in range(outputs[name].shape[1])]
      ours = np.array([[(float(r[c]) - low) / (high - low) * 2 - 1 for c in columns] for r in rows])
    else:
      mismatched += sum(a != r[name] for a, r in zip(outputs[name], rows))
      continue
    worst = max(worst, float(np.abs(outputs[name] - ours).max()))
  return worst, mismatched


def main():
  import keras

  model_path, heads_path, images_dir, predictions_path = sys.argv[1:5]
  settings, heads = read_heads(heads_path)
  with open(predictions_path, newline="") as f:
    rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
  features = keras_features(model_path, settings, [f"{images_dir}/{r['path']}" for r in rows])
  worst, mismatched = compare(heads, apply_heads(heads, features), rows)
  print(f"{len(rows)} images, Keras {keras.__version__}: max |Keras - predict| = {worst:.3g}"
        f" (softmax, tanh); embedding classes differing: {mismatched}")
  sys.exit(0 if worst <= 1e-4 and mismatched == 0 else 1)


if __name__ == "__main__":
  main()
