"""Records how Keras 3's native `.weights.h5` writer names the layer groups of the three backbones.

Run with the Keras venv (keras 3, h5py):
    /work/venv-keras/bin/python Tests/Fixtures/weights/make_native_groups.py

Writes native_groups.json next to this script: for ResNet50, VGG16 and VGG19
(keras.applications, weights=None, include_top=False)
  "keras":  the Keras version that made it
  "layers": [name, class name] of every layer in `model.layers` order
  "groups": {group under /layers: the layer name Keras stored in that group's `vars` `name` attribute}
Each model's weights are really saved with `model.save_weights` and read back with h5py (the files
themselves, 58-94 MB, are not kept). Older Keras 3 releases wrote the same groups without the
`name` attribute; the Swift tests rebuild the names from the layer list and check them against
"groups".
"""
import json
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py
import keras

HERE = os.path.dirname(os.path.abspath(__file__))


def describe(constructor):
    # A fresh session so the input layer is called `input_layer`, not `input_layer_3`.
    keras.backend.clear_session()
    model = constructor(weights=None, include_top=False)
    layers = [[layer.name, type(layer).__name__] for layer in model.layers]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.weights.h5")
        model.save_weights(path)
        groups = {}
        with h5py.File(path, "r") as f:
            for group, member in f["layers"].items():
                name = member["vars"].attrs["name"]
                groups[group] = name.decode() if isinstance(name, bytes) else str(name)
    return {"layers": layers, "groups": dict(sorted(groups.items()))}


def main():
    out = {"keras": keras.__version__}
    for key, constructor in [
        ("resnet50", keras.applications.ResNet50),
        ("vgg16", keras.applications.VGG16),
        ("vgg19", keras.applications.VGG19),
    ]:
        out[key] = describe(constructor)
    # One layer or group per line: small, and readable in a diff.
    lines = ["{", ' "keras": %s,' % json.dumps(out.pop("keras"))]
    for i, (key, model) in enumerate(out.items()):
        layers = ",\n".join("   " + json.dumps(layer) for layer in model["layers"])
        groups = ",\n".join("   %s: %s" % (json.dumps(g), json.dumps(n)) for g, n in model["groups"].items())
        lines.append(' %s: {\n  "layers": [\n%s\n  ],\n  "groups": {\n%s\n  }\n }%s'
                     % (json.dumps(key), layers, groups, "," if i + 1 < len(out) else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # still JSON
    with open(os.path.join(HERE, "native_groups.json"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
