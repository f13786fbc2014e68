"""Keras' outputs for the heads `predict` applies, from a small heads file written here.

Usage: /work/venv-keras/bin/python Tests/Fixtures/predict/make_predict_fixtures.py

Writes, beside this script:
  heads.h5                 a heads file in the documented schema (Docs/file-format.md), written
                           with h5py: four heads, one of each kind, some with hidden layers, on
                           features of two taps (widths 6 and 4)
  predict_fixtures.json    eight feature rows (each tap L2-normalised on its own) and, per head,
                           what real Keras computes for them, plus the readout predict must give

The heads are rebuilt in Keras from the file by layer name, exactly as Docs/file-format.md tells
a Python user to: Input(10) -> Dense(h, relu, name=<head>_hidden[_k]) ... -> Dense(outputs,
activation=kind, name=<head>). Keras has no layer for an embedding head's readout, so its Dense
output (the predicted vector) comes from Keras and the nearest class vector (squared Euclidean,
ties to the lower index) is taken here with NumPy. Tanh values are mapped back onto the label
range in float64, and sigmoid labels are those with probability >= threshold.
PredictTests/KerasHeadsTests reads both files; no Python runs at test time.
"""

import json
import os

import h5py
import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TAPS = ["conv4_block6_out", "conv5_block3_out"]  # names only: the rows below are made up
WIDTHS = [6, 4]
D = sum(WIDTHS)
ROWS = 8

HEADS = [
    dict(name="style", kind="softmax", outputs=3, hidden=[5], classes=["calm", "busy", "loud"]),
    dict(name="tags", kind="sigmoid", outputs=3, hidden=[], classes=["high_contrast", "warm", "wide"],
         thresholds=[0.3, 0.5, 0.7]),
    dict(name="score", kind="tanh", outputs=1, hidden=[4, 3], label_range=[1.0, 10.0]),
    dict(name="hue", kind="embedding", outputs=3, hidden=[], classes=["Red", "Yellow", "Green", "Blue"]),
]


def layer_names(head):
    hidden = [f"{head['name']}_hidden" if i == 0 else f"{head['name']}_hidden_{i + 1}"
              for i in range(len(head["hidden"]))]
    return hidden + [head["name"]]


def main():
    rng = np.random.default_rng(2024)
    parts = []
    for width in WIDTHS:
        x = rng.standard_normal((ROWS, width))
        parts.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    features = np.concatenate(parts, axis=1).astype(np.float32)

    weights = {}
    for head in HEADS:
        layers = []
        fan_in = D
        for units in head["hidden"] + [head["outputs"]]:
            kernel = (rng.standard_normal((fan_in, units)) * 1.5).astype(np.float32)
            bias = (rng.standard_normal(units) * 0.3).astype(np.float32)
            layers.append((kernel, bias))
            fan_in = units
        weights[head["name"]] = layers
        if head["kind"] == "embedding":
            head["class_vectors"] = rng.standard_normal((len(head["classes"]), head["outputs"])).astype(np.float32)

    write_heads_file(os.path.join(HERE, "heads.h5"), weights)

    # Keras, built from the file by layer name.
    with h5py.File(os.path.join(HERE, "heads.h5"), "r") as f:
        names = [str(n) for n in f.attrs["heads"]]
        inputs = keras.Input(shape=(int(f.attrs["input_width"]),), name="features")
        outputs = []
        stored = {}
        for name in names:
            g = f["heads"][name]
            kind = str(g.attrs["kind"])
            units = [int(h) for h in g.attrs["hidden"]] + [int(g.attrs["outputs"])]
            head = next(h for h in HEADS if h["name"] == name)
            x = inputs
            for i, (n, layer) in enumerate(zip(units, layer_names(head))):
                last = i == len(units) - 1
                activation = (None if kind == "embedding" else kind) if last else "relu"
                x = keras.layers.Dense(n, activation=activation, name=layer)(x)
            outputs.append(x)
            stored[name] = [(g[l]["kernel"][:], g[l]["bias"][:]) for l in layer_names(head)]
        model = keras.Model(inputs, outputs)
        for name in names:
            head = next(h for h in HEADS if h["name"] == name)
            for layer, (kernel, bias) in zip(layer_names(head), stored[name]):
                model.get_layer(layer).set_weights([kernel, bias])
    predicted = model.predict(features, verbose=0)

    result = {
        "generator": "Tests/Fixtures/predict/make_predict_fixtures.py",
        "keras_version": keras.__version__,
        "features": [[float(v) for v in row] for row in features],
        "heads": {},
    }
    for head, out in zip(HEADS, predicted):
        out = np.asarray(out, dtype=np.float32)
        entry = {"kind": head["kind"], "keras": [[float(v) for v in row] for row in out]}
        if head["kind"] == "softmax":
            entry["predicted"] = [head["classes"][int(np.argmax(row))] for row in out]
        elif head["kind"] == "sigmoid":
            entry["labels"] = [[c for c, p, t in zip(head["classes"], row, head["thresholds"])
                                if float(p) >= float(np.float32(t))] for row in out]
        elif head["kind"] == "tanh":
            low, high = head["label_range"]
            entry["units"] = [float(np.float32(low + (float(row[0]) + 1) / 2 * (high - low))) for row in out]
        else:
            vectors = head["class_vectors"].astype(np.float64)
            distances = ((out.astype(np.float64)[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=2)
            entry["hue"] = [head["classes"][int(np.argmin(row))] for row in distances]
        result["heads"][head["name"]] = entry
    with open(os.path.join(HERE, "predict_fixtures.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote heads.h5 and predict_fixtures.json with Keras", keras.__version__)


def write_heads_file(path, weights):
    strings = h5py.string_dtype()
    with h5py.File(path, "w", track_order=False) as f:
        f.attrs["format_version"] = np.int64(1)
        f.attrs["kind"] = "headstart-heads"
        f.attrs["tool_version"] = "fixture"
        f.attrs.create("heads", [h["name"] for h in HEADS], dtype=strings)
        f.attrs["input_width"] = np.int64(D)
        f.attrs["backbone"] = "resnet50"
        f.attrs["weights_file"] = "random (seed 0)"
        f.attrs["weights_sha256"] = ""
        f.attrs["height"] = np.int64(32)
        f.attrs["width"] = np.int64(32)
        f.attrs["interpolation"] = "nearest"
        f.attrs["preprocessing"] = "caffe"
        f.attrs["exif"] = "ignore"
        f.attrs.create("taps", TAPS, dtype=strings)
        f.attrs["tap_widths"] = np.array(WIDTHS, dtype=np.int64)
        f.attrs["normalization"] = "l2 per tap"
        f.attrs["features_tool_version"] = "fixture"
        heads = f.create_group("heads")
        for head in HEADS:
            g = heads.create_group(head["name"])
            g.attrs["kind"] = head["kind"]
            g.attrs["column"] = head["name"]
            g.attrs["outputs"] = np.int64(head["outputs"])
            g.attrs["hidden"] = np.array(head["hidden"], dtype=np.int64)
            g.attrs["loss_weight"] = np.float64(1.0)
            if "classes" in head:
                g.attrs.create("class_names", head["classes"], dtype=strings)
            if head["kind"] == "tanh":
                g.create_dataset("label_range", data=np.array(head["label_range"], dtype=np.float32))
            if head["kind"] == "sigmoid":
                g.create_dataset("thresholds", data=np.array(head["thresholds"], dtype=np.float32))
            if head["kind"] == "embedding":
                g.attrs["wheel_sigma"] = np.float64(0.5)
                g.create_dataset("class_vectors", data=head["class_vectors"])
            for layer, (kernel, bias) in zip(layer_names(head), weights[head["name"]]):
                dense = g.create_group(layer)
                dense.create_dataset("kernel", data=kernel)
                dense.create_dataset("bias", data=bias)
        t = f.create_group("training")
        t.attrs["optimizer"] = '{"name": "adam", "learning_rate": 0.01}'
        t.attrs["epochs_run"] = np.int64(1)
        t.attrs["best_epoch"] = np.int64(1)
        t.attrs["batch_size"] = np.int64(32)
        t.attrs["seed"] = np.int64(0)
        t.create_group("history").create_dataset("loss", data=np.array([1.0], dtype=np.float32))


if __name__ == "__main__":
    main()
