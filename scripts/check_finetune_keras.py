"""Checks finetune's export in real Keras (not run in CI; needs tensorflow/keras, h5py, pillow).

    check_finetune_keras.py MODEL.h5 MODEL.heads.h5 IMAGES_DIR PREDICTIONS.csv

Builds keras.applications.<Backbone>(weights=None, include_top=False) at the heads file's input
size, loads MODEL.h5 with `load_weights` (Keras' legacy h5 loader, by topology), runs every image
listed in PREDICTIONS.csv (written by `predict --heads MODEL.heads.h5 --weights MODEL.h5`)
through Keras' own load_img / preprocess_input, pools and L2-normalises the last block's output,
applies the heads' softmax/tanh dense layers from the heads file, and prints the largest
difference from predict's probabilities. Exit status 1 when it exceeds 1e-4.
"""

import csv
import sys

import h5py
import numpy as np
import keras

model_path, heads_path, images_dir, predictions_path = sys.argv[1:5]
with h5py.File(heads_path, "r") as f:
    attrs = f.attrs
    backbone, height, width = str(attrs["backbone"]), int(attrs["height"]), int(attrs["width"])
    interpolation = str(attrs["interpolation"])
    heads = []
    for name in attrs["heads"]:
        g = f["heads"][name]
        kind = g.attrs["kind"]
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        hidden = list(np.atleast_1d(g.attrs["hidden"])) if len(np.atleast_1d(g.attrs["hidden"])) else []
        names = [f"{name}_hidden" if i == 0 else f"{name}_hidden_{i + 1}" for i in range(len(hidden))] + [name]
        layers = [(g[n]["kernel"][:], g[n]["bias"][:]) for n in names]
        classes = [c.decode() if isinstance(c, bytes) else str(c) for c in np.atleast_1d(g.attrs.get("class_names", []))]
        heads.append((str(name), kind, layers, classes))

applications = {"resnet50": (keras.applications.ResNet50, keras.applications.resnet50),
                "vgg16": (keras.applications.VGG16, keras.applications.vgg16),
                "vgg19": (keras.applications.VGG19, keras.applications.vgg19)}
constructor, module = applications[backbone]
model = constructor(weights=None, include_top=False, input_shape=(height, width, 3))
model.load_weights(model_path)

with open(predictions_path, newline="") as f:
    rows = [r for r in csv.DictReader(f) if r["status"] == "ok"]
batch = np.stack([
    keras.utils.img_to_array(keras.utils.load_img(f"{images_dir}/{r['path']}", target_size=(height, width),
                                                  interpolation=interpolation))
    for r in rows])
features = model.predict(module.preprocess_input(batch), verbose=0).mean(axis=(1, 2))
features /= np.linalg.norm(features, axis=1, keepdims=True)

worst = 0.0
for name, kind, layers, classes in heads:
    x = features
    for kernel, bias in layers[:-1]:
        x = np.maximum(x @ kernel + bias, 0)
    z = x @ layers[-1][0] + layers[-1][1]
    if kind == "softmax":
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        ours = np.array([[float(r[f"{name}:{c}"]) for c in classes] for r in rows])
        worst = max(worst, float(np.abs(p - ours).max()))
    else:
        print(f"head {name}: {kind} not compared by this script")
print(f"{len(rows)} images, Keras {keras.__version__}: max |Keras - predict| = {worst:.3g}")
sys.exit(0 if worst <= 1e-4 else 1)
