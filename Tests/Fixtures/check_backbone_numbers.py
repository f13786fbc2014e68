"""Spot-check Headstart's backbones against real Keras (not run by the test suite).

Builds keras.applications ResNet50 / VGG16 / VGG19 (include_top=False) with the synthetic
weights of Docs/keras-parity.md, runs a deterministic input through them, and writes, per
backbone, into OUT_DIR:
  <kind>.txt           "N H W" on the first line, the tap names on the second (comma-separated)
  <kind>_input.f32     input (N, H, W, 3) float32 little-endian
  <kind>_expected.f32  features (N, sum of tap widths): each tap GAP'd, L2-normalised, concatenated
Then `HEADSTART_PARITY_DIR=OUT_DIR swift test --filter KerasParitySpotCheck` compares.

Usage: /work/venv-keras/bin/python Tests/Fixtures/check_backbone_numbers.py OUT_DIR
"""
import math
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

M32 = 0xFFFFFFFF


def fmix32(x):
    x = np.asarray(x, dtype=np.uint64)
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & M32
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & M32
    x ^= x >> 16
    return x


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & M32
    return h


def synthetic(seed, layer, role, shape):
    n = int(np.prod(shape))
    key = np.uint64(fnv1a32(f"{seed}:{layer}/{role}"))
    u = fmix32(key ^ fmix32(np.arange(n, dtype=np.uint64)))
    f = (u >> 8).astype(np.float32) * np.float32(2.0**-23) - np.float32(1)
    if role == "kernel":
        fan_in = int(np.prod(shape[:-1]))
        v = f * np.float32(math.sqrt(6.0 / fan_in))
    elif role in ("bias", "beta", "moving_mean"):
        v = f * np.float32(0.1)
    elif role == "gamma":
        v = np.float32(1) + f * np.float32(0.25)
    elif role == "moving_variance":
        v = np.float32(1) + f * np.float32(0.5)
    return v.astype(np.float32).reshape(shape)


ROLES = {
    "Conv2D": ["kernel", "bias"],
    "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"],
}


def build(kind, h, w, seed):
    ctor = {"resnet50": keras.applications.ResNet50, "vgg16": keras.applications.VGG16,
            "vgg19": keras.applications.VGG19}[kind]
    model = ctor(weights=None, include_top=False, input_shape=(h, w, 3))
    for layer in model.layers:
        roles = ROLES.get(type(layer).__name__)
        if roles:
            layer.set_weights([synthetic(seed, layer.name, r, tuple(v.shape))
                               for r, v in zip(roles, layer.weights)])
    return model


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cases = {
        "resnet50": (2, 97, 130, ["conv1_relu", "pool1_pool", "conv2_block1_0_bn", "conv2_block1_out",
                                  "conv3_block1_out", "conv4_block6_2_relu", "conv5_block3_out"]),
        "vgg16": (2, 45, 38, ["block1_conv1", "block3_pool", "block5_pool"]),
        "vgg19": (1, 33, 50, ["block3_conv4", "block5_pool"]),
    }
    for kind, (n, h, w, taps) in cases.items():
        model = build(kind, h, w, seed=0)
        rng = np.random.default_rng(1)
        x = (rng.random((n, h, w, 3), dtype=np.float32) * 255 - 128).astype(np.float32)
        sub = keras.Model(model.input, [model.get_layer(t).output for t in taps])
        outs = sub(x, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        feats = [tf.math.l2_normalize(tf.reduce_mean(o, axis=[1, 2]), axis=-1).numpy() for o in outs]
        expected = np.concatenate(feats, axis=1).astype("<f4")
        with open(os.path.join(out_dir, f"{kind}.txt"), "w") as f:
            f.write(f"{n} {h} {w}\n{','.join(taps)}\n")
        x.astype("<f4").tofile(os.path.join(out_dir, f"{kind}_input.f32"))
        expected.tofile(os.path.join(out_dir, f"{kind}_expected.f32"))
        print(kind, expected.shape)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/headstart-parity")
