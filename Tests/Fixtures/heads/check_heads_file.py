"""Opens a heads file (heads.h5) with h5py and rebuilds the heads as a Keras model by layer name.

Usage: python check_heads_file.py HEADS_H5 [--sample]

Builds Input(input_width) -> per head Dense(hidden, relu)... -> Dense(outputs, kind) with the
layer names stored in the file, loads every kernel/bias by name, and checks Keras' predictions
on random features against a NumPy forward pass. With --sample (the file HeadsFileTests writes
to /tmp/headstart-heads-check.h5), also checks that Keras' model.weights order gives the flat
parameter buffer the test wrote, parameter i = i * 0.001 - 0.25 in float32.
Not run by `swift test`; run by hand with the Keras venv.
"""

import json
import sys

import h5py
import numpy as np
import keras


def main(path, sample):
    with h5py.File(path, "r") as f:
        assert f.attrs["kind"] == "headstart-heads", f.attrs["kind"]
        assert int(f.attrs["format_version"]) == 1
        width = int(f.attrs["input_width"])
        assert width == sum(int(w) for w in f.attrs["tap_widths"])
        print("backbone", f.attrs["backbone"], "taps", list(f.attrs["taps"]), "input_width", width)
        names = [str(n) for n in f.attrs["heads"]]
        heads = {}
        for name in names:
            g = f["heads"][name]
            hidden = [int(h) for h in g.attrs["hidden"]]
            layers = [f"{name}_hidden" if i == 0 else f"{name}_hidden_{i + 1}" for i in range(len(hidden))]
            layers.append(name)
            heads[name] = dict(
                kind=str(g.attrs["kind"]),
                units=hidden + [int(g.attrs["outputs"])],
                layers=layers,
                weights=[(g[l]["kernel"][:], g[l]["bias"][:]) for l in layers],
                extra={k: (list(g.attrs[k]) if k == "class_names" else g.attrs[k]) for k in g.attrs},
                arrays={k: g[k][:].tolist() for k in ("label_range", "thresholds") if k in g},
            )
        t = f["training"]
        print("training", json.loads(t.attrs["optimizer"]), "epochs", int(t.attrs["epochs_run"]),
              "best", int(t.attrs["best_epoch"]), "history", sorted(t["history"].keys()))

    inputs = keras.Input(shape=(width,), name="features")
    outputs = {}
    for name in names:
        h = heads[name]
        x = inputs
        for i, (units, layer) in enumerate(zip(h["units"], h["layers"])):
            last = i == len(h["units"]) - 1
            x = keras.layers.Dense(units, activation=h["kind"] if last else "relu", name=layer)(x)
        outputs[name] = x
    model = keras.Model(inputs, [outputs[n] for n in names])
    for name in names:
        for layer, (kernel, bias) in zip(heads[name]["layers"], heads[name]["weights"]):
            model.get_layer(layer).set_weights([kernel, bias])

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, width)).astype(np.float32)
    predicted = model.predict(x, verbose=0)
    worst = 0.0
    for name, keras_out in zip(names, predicted):
        a = x.astype(np.float64)
        weights = heads[name]["weights"]
        for i, (kernel, bias) in enumerate(weights):
            a = a @ kernel.astype(np.float64) + bias
            if i < len(weights) - 1:
                a = np.maximum(a, 0)
        kind = heads[name]["kind"]
        if kind == "tanh":
            a = np.tanh(a)
        elif kind == "sigmoid":
            a = 1 / (1 + np.exp(-a))
        else:
            a = np.exp(a - a.max(axis=1, keepdims=True))
            a /= a.sum(axis=1, keepdims=True)
        diff = float(np.abs(keras_out - a).max())
        worst = max(worst, diff)
        print(f"head {name} ({kind}, layers {heads[name]['layers']}): max |keras - numpy| = {diff:.3g}",
              heads[name]["extra"], heads[name]["arrays"])
    assert worst < 1e-5, worst

    if sample:
        # Head by head in the file's order, each layer's kernel then bias: MultiHeadModel's layout.
        # (Keras' model.weights of this functional model lists layers by depth, not by head.)
        flat = np.concatenate([
            w.numpy().ravel()
            for name in names for layer in heads[name]["layers"]
            for w in model.get_layer(layer).weights
        ])
        expected = np.arange(flat.size, dtype=np.float32) * np.float32(0.001) - np.float32(0.25)
        print("sample parameters:", flat.size, "max |keras layers by name - swift buffer| =",
              float(np.abs(flat - expected).max()))
        print("keras model.weights order:", [w.path for w in model.weights])
        assert np.array_equal(flat, expected)
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1], "--sample" in sys.argv[2:])
