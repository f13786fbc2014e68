"""Gradients from real Keras/TensorFlow for the engine's backward passes.

Writes keras_backward.json next to this script: for each case the inputs (deterministic,
sin/cos-based, so the script needs no data files), and the gradients of L = sum(y * g) for a
fixed upstream gradient g, taken with tf.GradientTape through the Keras layer itself:
  * Conv2D: strides 1 and 2, kernels 1x1/3x3/7x7, 'same' and 'valid' (dx, dkernel, dbias);
  * BatchNormalization (ResNet50's epsilon 1.001e-5, momentum 0.99) with training=False
    (frozen statistics) and training=True (batch statistics; also the moving mean/variance
    after the call);
  * MaxPooling2D with ties in every window ('valid' 2x2 as VGG, 'same' 3x3/2, and ResNet's
    ZeroPadding2D(1) + 3x3/2 'valid' on negative inputs, where the padding can win);
  * tf.math.l2_normalize on rows (including one below the epsilon).
All arrays are flattened row-major (NHWC, kernels HWIO). Run with the Keras venv:
  /work/venv-keras/bin/python Tests/Fixtures/keras_backward/make_keras_backward_fixtures.py
"""

import json
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def wave(shape, a, b, scale=1.0, offset=0.0, fn=math.sin):
    n = int(np.prod(shape))
    return np.array([scale * fn(a * i + b) + offset for i in range(n)], np.float32).reshape(shape)


def flat(t):
    # 9 significant digits round-trip float32 exactly and keep the fixture small.
    return [float(f"{v:.9g}") for v in np.asarray(t, np.float32).reshape(-1)]


def conv_case(n, h, w, cin, cout, kh, kw, stride, padding):
    x = wave((n, h, w, cin), 0.31, 0.2)
    k = wave((kh, kw, cin, cout), 0.17, 0.5, scale=0.3, fn=math.cos)
    b = wave((cout,), 1.3, 0.1, scale=0.2)
    layer = keras.layers.Conv2D(cout, (kh, kw), strides=stride, padding=padding)
    layer.build((n, h, w, cin))
    layer.set_weights([k, b])
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = layer(xv)
        g = wave(tuple(y.shape), 0.37, 0.9, fn=math.cos)
        loss = tf.reduce_sum(y * g)
    dx, dk, db = tape.gradient(loss, [xv, layer.kernel, layer.bias])
    return {
        "batch": n, "height": h, "width": w, "inChannels": cin, "outChannels": cout,
        "kernelHeight": kh, "kernelWidth": kw, "stride": stride, "padding": padding,
        "x": flat(x), "kernel": flat(k), "bias": flat(b), "y": flat(y), "dy": flat(g),
        "dx": flat(dx), "dKernel": flat(dk), "dBias": flat(db),
    }


def batchnorm_case(training):
    n, h, w, c = 2, 3, 3, 5
    x = wave((n, h, w, c), 0.23, 0.4, scale=1.5, offset=0.5)
    gamma = wave((c,), 0.9, 0.3, scale=0.5, offset=1.0)
    beta = wave((c,), 1.1, 0.7, scale=0.3)
    mean = wave((c,), 0.7, 0.2, scale=0.4)
    var = wave((c,), 0.5, 0.1, scale=0.3, offset=0.8)
    layer = keras.layers.BatchNormalization(epsilon=1.001e-5, momentum=0.99)
    layer.build((n, h, w, c))
    layer.set_weights([gamma, beta, mean, var])
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = layer(xv, training=training)
        g = wave(tuple(y.shape), 0.41, 0.3, fn=math.cos)
        loss = tf.reduce_sum(y * g)
    dx, dgamma, dbeta = tape.gradient(loss, [xv, layer.gamma, layer.beta])
    return {
        "training": training, "batch": n, "height": h, "width": w, "channels": c,
        "epsilon": 1.001e-5, "momentum": 0.99,
        "x": flat(x), "gamma": flat(gamma), "beta": flat(beta),
        "movingMean": flat(mean), "movingVariance": flat(var), "y": flat(y), "dy": flat(g),
        "dx": flat(dx), "dGamma": flat(dgamma), "dBeta": flat(dbeta),
        "movingMeanAfter": flat(layer.moving_mean), "movingVarianceAfter": flat(layer.moving_variance),
    }


def maxpool_case(kind):
    n, h, w, c = 2, 7, 7, 3
    # Few distinct values: many ties inside every window.
    x = np.floor(wave((n, h, w, c), 0.9, 0.1, scale=2.0)).astype(np.float32)
    if kind == "resnet":
        x = x - 3.0  # all negative, so the zero padding is the maximum at the borders
        model = keras.Sequential([
            keras.layers.ZeroPadding2D(1),
            keras.layers.MaxPooling2D(3, strides=2, padding="valid"),
        ])
        window = {"size": 3, "stride": 2, "padding": "zero1"}
    elif kind == "same":
        model = keras.Sequential([keras.layers.MaxPooling2D(3, strides=2, padding="same")])
        window = {"size": 3, "stride": 2, "padding": "same"}
    else:
        model = keras.Sequential([keras.layers.MaxPooling2D(2, strides=2, padding="valid")])
        window = {"size": 2, "stride": 2, "padding": "valid"}
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = model(xv)
        g = wave(tuple(y.shape), 0.53, 0.2, offset=1.5)
        loss = tf.reduce_sum(y * g)
    dx = tape.gradient(loss, xv)
    return dict(window, kind=kind, batch=n, height=h, width=w, channels=c,
                x=flat(x), y=flat(y), dy=flat(g), dx=flat(dx))


def l2_case():
    rows, d = 3, 6
    x = wave((rows, d), 0.7, 0.3)
    x[2] = wave((d,), 0.9, 0.1, scale=1e-8)  # squared norm below TF's 1e-12
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = tf.math.l2_normalize(xv, axis=-1, epsilon=1e-12)
        g = wave((rows, d), 0.61, 0.5, fn=math.cos)
        loss = tf.reduce_sum(y * g)
    dx = tape.gradient(loss, xv)
    return {"rows": rows, "width": d, "x": flat(x), "y": flat(y), "dy": flat(g), "dx": flat(dx)}


def main():
    out = {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "conv": [
            conv_case(2, 5, 5, 3, 4, 3, 3, 1, "same"),
            conv_case(2, 6, 6, 3, 4, 3, 3, 2, "same"),
            conv_case(1, 6, 7, 2, 3, 3, 3, 1, "valid"),
            conv_case(2, 5, 5, 4, 6, 1, 1, 1, "valid"),
            conv_case(2, 5, 5, 4, 6, 1, 1, 2, "valid"),
            conv_case(1, 9, 9, 2, 3, 7, 7, 2, "same"),
            conv_case(1, 11, 10, 2, 3, 7, 7, 2, "valid"),
        ],
        "batchNorm": [batchnorm_case(False), batchnorm_case(True)],
        "maxPool": [maxpool_case("vgg"), maxpool_case("same"), maxpool_case("resnet")],
        "l2Normalize": l2_case(),
    }
    path = os.path.join(HERE, "keras_backward.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
