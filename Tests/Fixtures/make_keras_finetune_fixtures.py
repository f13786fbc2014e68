#!/usr/bin/env python3
"""Regenerate the Keras fine-tuning parity fixture (issue 4, Tests bullet 2).

Run from the repository root with /work/venv-keras (tensorflow 2.21, keras 3.15.1):

    /work/venv-keras/bin/python Tests/Fixtures/make_keras_finetune_fixtures.py

The model is what a Keras user fine-tunes: keras.applications.ResNet50(weights=None,
include_top=False, input_shape=(64, 64, 3)) with the synthetic weights of Docs/keras-parity.md
(seed 0; conv5 is 2x2 at this size), then GlobalAveragePooling2D and tf.math.l2_normalize
(the features `extract` computes for the tap conv5_block3_out), then two heads on them:
`kind` Dense(3, softmax) with categorical cross-entropy (loss weight 1) and `score`
Dense(2, tanh) with mean squared error (loss weight 0.5). Every layer before conv5 has
trainable=False; every conv5 layer stays trainable (kernels, biases, gamma and beta train).
Each run starts from the same weights and takes a few steps of tf.GradientTape +
optimizer.apply_gradients on one fixed batch of 4 examples:

  sgd           SGD(lr 0.005, momentum 0.9), model(images, training=False): batch norm frozen;
                the whole model from the 'caffe'-preprocessed images (frozen prefix included)
  adam          Adam(lr 1e-4, epsilon 1e-3), training=False, from a stored conv5 input (below)
  sgd_bn_train  SGD(lr 0.005), training=True, from the stored conv5 input: conv5's batch norms
                use batch statistics and move their moving mean and variance (momentum 0.99);
                the frozen layers' batch norms would stay in inference mode (Keras 3 runs a
                BatchNormalization with trainable=False in inference mode)

Why two runs start at conv5's input (keras.Model(conv4_block6_out, the output), the same
layers): with synthetic weights the frozen prefix maps any images to nearly the same deep
features (cosine ~0.998, Docs/keras-parity.md), so the batch's rows differ by ~1e-3 of their
size. Batch statistics then subtract nearly equal numbers and Adam's normalised step turns
rounding noise into visible updates; two correct float32 implementations drift apart by
~1e-3 for reasons that say nothing about the algorithm. The stored input `block_input_random`
(ReLU of uniform values, independent per image) is well conditioned; the frozen prefix is a
constant function, so starting there is the same training with the prefix output given.

Adam's default epsilon (1e-7) makes a parameter whose gradient is below ~1e-6 move by
lr * 0.03 * g / epsilon: a gradient known to 1e-9 (float32 sums of ~1e-3 terms) gives an update
known only to ~3e-4 of the learning rate. The `adam` run uses epsilon 1e-3, where the update
is a smooth function of the gradient, to hold the 1e-4 bar. (Measured once with epsilon 1e-7,
2 steps: losses 5.9e-7, head updates 6.0e-4 and conv5 updates 3.2e-4 of the largest update,
all else equal; not committed, as Adam's debug-build steps over 15M parameters are slow.)

Files written into Tests/Fixtures/finetune/ (raw little-endian float32, row-major):
  input.f32           (4, 64, 64, 3) the batch, 'caffe'-preprocessed values
  block_input.f32     (4, 4, 4, 1024) conv4_block6_out of input.f32, the input of the trained block
  block_input_random.f32  (4, 4, 4, 1024) the stored conv5 input of the `adam` and `sgd_bn_train` runs
  heads_initial.f32   head parameters: kind kernel (2048, 3), bias (3), score kernel (2048, 2),
                      bias (2) (MultiHeadModel's layout)
  <run>_heads.f32     the head parameters after the run
  <run>_deltas.f32    per conv5 array (manifest `arrays`, in order): trained minus initial
                      (computed in float64, stored float32) at the array's sample indices
  manifest.json       versions, targets, runs (optimizer, steps, losses per step before each
                      update, per-array full sums of |delta|), arrays with their sample indices
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

FIXTURES = Path(__file__).resolve().parent
OUT = FIXTURES / "finetune"
sys.path.insert(0, str(FIXTURES))
from make_keras_fixtures import set_synthetic_weights  # noqa: E402  (the generator, bit-exact)

SIZE = 64
BATCH = 4
SAMPLES = 512  # elements compared per conv5 array (all of them when smaller)
KIND_CLASSES = 3
SCORE_OUTPUTS = 2
LOSS_WEIGHTS = {"kind": 1.0, "score": 0.5}


def sample_indices(n: int) -> np.ndarray:
    """Evenly spread flat indices: k * (n - 1) // (S - 1) for k < S (every index if n <= S)."""
    if n <= SAMPLES:
        return np.arange(n, dtype=np.int64)
    k = np.arange(SAMPLES, dtype=np.int64)
    return k * (n - 1) // (SAMPLES - 1)


def compact_indices(manifest: dict) -> str:
    """JSON with one line per sample-index list, not one line per index."""
    lists = []

    def placeholder(a):
        lists.append(a["indices"])
        return dict(a, indices=f"@{len(lists) - 1}@")

    arrays = manifest["arrays"]
    if isinstance(arrays, dict):
        listed = {k: [placeholder(a) for a in v] for k, v in arrays.items()}
    else:
        listed = [placeholder(a) for a in arrays]
    text = json.dumps(dict(manifest, arrays=listed), indent=1)
    for i, indices in enumerate(lists):
        text = text.replace(f'"@{i}@"', json.dumps(indices))
    return text


def build(rng_heads):
    import keras
    import tensorflow as tf

    base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    set_synthetic_weights(base, 0)
    for layer in base.layers:
        layer.trainable = layer.name.startswith("conv5_")
    kind = keras.layers.Dense(KIND_CLASSES, activation="softmax", name="kind")
    score = keras.layers.Dense(SCORE_OUTPUTS, activation="tanh", name="score")
    kind.build((None, 2048))
    score.build((None, 2048))
    kind.set_weights(rng_heads[0])
    score.set_weights(rng_heads[1])
    pool = keras.layers.GlobalAveragePooling2D()

    stage = keras.Model(base.get_layer("conv4_block6_out").output, base.output)

    def forward(x, training, from_block_input):
        y = stage(x, training=training) if from_block_input else base(x, training=training)
        features = tf.math.l2_normalize(pool(y), axis=-1)
        return kind(features), score(features)

    return base, kind, score, forward


def main() -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    OUT.mkdir(parents=True, exist_ok=True)
    # 'caffe'-range pixels: BGR minus the ImageNet mean lies in about [-124, 152].
    x = rng.uniform(-120.0, 130.0, size=(BATCH, SIZE, SIZE, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    kind_targets = np.eye(KIND_CLASSES, dtype=np.float32)[labels]
    score_targets = rng.uniform(-0.9, 0.9, size=(BATCH, SCORE_OUTPUTS)).astype(np.float32)
    # Head weights large enough that the block gets a real gradient through the L2 normalisation.
    heads = [
        [rng.uniform(-1.5, 1.5, size=(2048, KIND_CLASSES)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(KIND_CLASSES,)).astype(np.float32)],
        [rng.uniform(-1.5, 1.5, size=(2048, SCORE_OUTPUTS)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(SCORE_OUTPUTS,)).astype(np.float32)],
    ]
    flat_heads = np.concatenate([a.reshape(-1) for head in heads for a in head])

    base, _, _, _ = build(heads)
    block_input = keras.Model(base.input, base.get_layer("conv4_block6_out").output)(x, training=False)
    (OUT / "input.f32").write_bytes(x.astype("<f4").tobytes())
    (OUT / "block_input.f32").write_bytes(np.asarray(block_input).astype("<f4").tobytes())
    random_input = np.maximum(rng.uniform(-1.0, 2.0, size=block_input.shape), 0).astype(np.float32)
    (OUT / "block_input_random.f32").write_bytes(random_input.astype("<f4").tobytes())
    (OUT / "heads_initial.f32").write_bytes(flat_heads.astype("<f4").tobytes())

    arrays = []
    for layer in base.layers:
        if not layer.name.startswith("conv5_"):
            continue
        for w in layer.weights:
            n = int(np.prod(w.shape))
            arrays.append(dict(layer=layer.name, role=w.path.split("/")[-1], shape=list(w.shape),
                               indices=sample_indices(n).tolist()))

    runs = [
        dict(name="sgd", optimizer=dict(name="sgd", learning_rate=0.005, momentum=0.9), training=False,
             steps=3, input="input.f32"),
        dict(name="adam", optimizer=dict(name="adam", learning_rate=1e-4, epsilon=1e-3),
             training=False, steps=2, input="block_input_random.f32"),
        dict(name="sgd_bn_train", optimizer=dict(name="sgd", learning_rate=0.005, momentum=0.0),
             training=True, steps=2, input="block_input_random.f32"),
    ]
    for run in runs:
        base, kind, score, forward = build(heads)
        initial = {(a["layer"], a["role"]): None for a in arrays}
        for layer in base.layers:
            for w in layer.weights:
                key = (layer.name, w.path.split("/")[-1])
                if key in initial:
                    initial[key] = np.asarray(w.numpy(), dtype=np.float64)
        o = run["optimizer"]
        if o["name"] == "sgd":
            optimizer = keras.optimizers.SGD(learning_rate=o["learning_rate"], momentum=o["momentum"])
        else:
            optimizer = keras.optimizers.Adam(learning_rate=o["learning_rate"], epsilon=o["epsilon"])
        variables = base.trainable_variables + kind.trainable_variables + score.trainable_variables
        cce = keras.losses.CategoricalCrossentropy()
        mse = keras.losses.MeanSquaredError()
        training = run["training"]

        from_block_input = run["input"] != "input.f32"
        inputs = tf.constant(random_input if from_block_input else x)

        @tf.function
        def step(inputs):
            with tf.GradientTape() as tape:
                p_kind, p_score = forward(inputs, training, from_block_input)
                l_kind = cce(kind_targets, p_kind)
                l_score = mse(score_targets, p_score)
                total = LOSS_WEIGHTS["kind"] * l_kind + LOSS_WEIGHTS["score"] * l_score
            grads = tape.gradient(total, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return total, l_kind, l_score

        losses = []
        for _ in range(run["steps"]):
            total, l_kind, l_score = step(inputs)
            losses.append(dict(total=float(total), kind=float(l_kind), score=float(l_score)))
        deltas, sums = [], []
        trained = {}
        for layer in base.layers:
            for w in layer.weights:
                trained[(layer.name, w.path.split("/")[-1])] = np.asarray(w.numpy(), dtype=np.float64)
        for a in arrays:
            key = (a["layer"], a["role"])
            d = (trained[key] - initial[key]).reshape(-1)
            deltas.append(d[np.array(a["indices"], dtype=np.int64)])
            sums.append(float(np.abs(d).sum()))
        (OUT / f"{run['name']}_deltas.f32").write_bytes(
            np.concatenate(deltas).astype("<f4").tobytes())
        final_heads = np.concatenate(
            [np.asarray(v.numpy()).reshape(-1) for v in kind.weights + score.weights])
        (OUT / f"{run['name']}_heads.f32").write_bytes(final_heads.astype("<f4").tobytes())
        run["losses"] = losses
        run["abs_delta_sums"] = sums
        run["trainable_variables"] = len(variables)
        print(run["name"], losses, "max |delta|", max(float(np.abs(d).max()) for d in deltas), flush=True)

    manifest = dict(
        versions=dict(tensorflow=tf.__version__, keras=keras.__version__, numpy=np.__version__),
        model=("ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3)), synthetic weights "
               "seed 0; GAP; tf.math.l2_normalize; heads kind Dense(3, softmax) CCE weight 1, "
               "score Dense(2, tanh) MSE weight 0.5; layers before conv5 trainable=False"),
        batch=BATCH, size=SIZE, kind_labels=labels.tolist(),
        score_targets=score_targets.astype(np.float64).tolist(),
        loss_weights=LOSS_WEIGHTS, runs=runs, arrays=arrays)
    (OUT / "manifest.json").write_text(compact_indices(manifest) + "\n")
    vgg(x, labels, kind_targets, score_targets, rng)
    early_tap()


def early_tap() -> None:
    """VGG16's block5 trained with a head on an earlier tap (issue 13): the heads' input row is
    [block1_pool (64), block5_pool (512)], each GAP + l2_normalize as `extract` computes it.
    `kind` Dense(3, softmax) reads block1_pool only, a branch entirely before the trained block
    (frozen, so its input is fixed and only its own weights train); `score` Dense(2, tanh) reads
    both taps concatenated (its gradient reaches block5 through the block5_pool columns only).
    SGD(lr 0.005, momentum 0.9), 3 steps from input.f32 through the whole model
    (training=False), the targets and loss weights of manifest.json. Reads input.f32 and
    manifest.json (written by main()), so it can run alone: `... make_keras_finetune_fixtures.py
    --early-tap`.

    Files: early_tap_manifest.json (as vgg_manifest.json, one run), early_tap_heads_initial.f32
    and early_tap_sgd_heads.f32 (kind kernel (64, 3), bias, score kernel (576, 2), bias: Keras'
    shapes), early_tap_sgd_deltas.f32 (block5 arrays at their sample indices), and
    early_tap_features.f32 (4, 576): the initial heads' input row.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(13)
    stored = json.loads((OUT / "manifest.json").read_text())
    x = np.frombuffer((OUT / "input.f32").read_bytes(), dtype="<f4").reshape(BATCH, SIZE, SIZE, 3)
    labels = np.array(stored["kind_labels"])
    kind_targets = np.eye(KIND_CLASSES, dtype=np.float32)[labels]
    score_targets = np.array(stored["score_targets"], dtype=np.float32)
    early, early_width, row_width = "block1_pool", 64, 64 + 512
    heads = [
        [rng.uniform(-1.5, 1.5, size=(early_width, KIND_CLASSES)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(KIND_CLASSES,)).astype(np.float32)],
        [rng.uniform(-1.5, 1.5, size=(row_width, SCORE_OUTPUTS)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(SCORE_OUTPUTS,)).astype(np.float32)],
    ]
    flat_heads = np.concatenate([a.reshape(-1) for head in heads for a in head])
    (OUT / "early_tap_heads_initial.f32").write_bytes(flat_heads.astype("<f4").tobytes())

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    set_synthetic_weights(base, 0)
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5_")
    both = keras.Model(base.input, [base.get_layer(early).output, base.output])
    kind = keras.layers.Dense(KIND_CLASSES, activation="softmax", name="kind")
    score = keras.layers.Dense(SCORE_OUTPUTS, activation="tanh", name="score")
    kind.build((None, early_width))
    score.build((None, row_width))
    kind.set_weights(heads[0])
    score.set_weights(heads[1])
    pool = keras.layers.GlobalAveragePooling2D()
    inputs = tf.constant(x)

    def row(training):
        y_early, y_block = both(inputs, training=training)
        f_early = tf.math.l2_normalize(pool(y_early), axis=-1)
        f_block = tf.math.l2_normalize(pool(y_block), axis=-1)
        return f_early, tf.concat([f_early, f_block], axis=-1)

    (OUT / "early_tap_features.f32").write_bytes(np.asarray(row(False)[1]).astype("<f4").tobytes())
    listed = [dict(layer=l.name, role=w.path.split("/")[-1], shape=list(w.shape),
                   indices=sample_indices(int(np.prod(w.shape))).tolist())
              for l in base.layers if l.name.startswith("block5_") for w in l.weights]
    initial = {(a["layer"], a["role"]): np.asarray(base.get_layer(a["layer"]).weights[
        0 if a["role"] == "kernel" else 1].numpy(), dtype=np.float64) for a in listed}
    run = dict(name="early_tap_sgd", backbone="vgg16", taps=[early, "block5_pool"],
               head_taps=dict(kind=[early], score=[early, "block5_pool"]),
               optimizer=dict(name="sgd", learning_rate=0.005, momentum=0.9), training=False, steps=3,
               input="input.f32")
    optimizer = keras.optimizers.SGD(learning_rate=0.005, momentum=0.9)
    variables = base.trainable_variables + kind.trainable_variables + score.trainable_variables
    cce = keras.losses.CategoricalCrossentropy()
    mse = keras.losses.MeanSquaredError()

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            f_early, features = row(False)
            l_kind = cce(kind_targets, kind(f_early))
            l_score = mse(score_targets, score(features))
            total = LOSS_WEIGHTS["kind"] * l_kind + LOSS_WEIGHTS["score"] * l_score
        grads = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return total, l_kind, l_score

    losses = []
    for _ in range(run["steps"]):
        total, l_kind, l_score = step()
        losses.append(dict(total=float(total), kind=float(l_kind), score=float(l_score)))
    deltas, sums = [], []
    for a in listed:
        w = base.get_layer(a["layer"]).weights[0 if a["role"] == "kernel" else 1]
        d = (np.asarray(w.numpy(), dtype=np.float64) - initial[(a["layer"], a["role"])]).reshape(-1)
        deltas.append(d[np.array(a["indices"], dtype=np.int64)])
        sums.append(float(np.abs(d).sum()))
    (OUT / f"{run['name']}_deltas.f32").write_bytes(np.concatenate(deltas).astype("<f4").tobytes())
    final_heads = np.concatenate([np.asarray(v.numpy()).reshape(-1) for v in kind.weights + score.weights])
    (OUT / f"{run['name']}_heads.f32").write_bytes(final_heads.astype("<f4").tobytes())
    run.update(losses=losses, abs_delta_sums=sums, trainable_variables=len(variables))
    print(run["name"], losses, flush=True)
    manifest = dict(
        model=("VGG16(weights=None, include_top=False, input_shape=(64, 64, 3)), synthetic weights seed 0; "
               "GAP + tf.math.l2_normalize of block1_pool and block5_pool; kind on block1_pool, score on "
               "both concatenated; layers before block5 trainable=False"),
        batch=BATCH, size=SIZE, kind_labels=labels.tolist(),
        score_targets=score_targets.astype(np.float64).tolist(), loss_weights=LOSS_WEIGHTS, runs=[run],
        arrays={"vgg16": listed})
    (OUT / "early_tap_manifest.json").write_text(compact_indices(manifest) + "\n")


def vgg(x, labels, kind_targets, score_targets, rng) -> None:
    """VGG16 and VGG19: block5 trained with the same heads (on 512 features), no batch norm.

    Files: vgg_manifest.json (as manifest.json, plus `backbone` per run), vgg_heads_initial.f32
    (kind kernel (512, 3), bias, score kernel (512, 2), bias), vgg_block_input_random.f32
    (4, 4, 4, 512), and per run <run>_heads.f32, <run>_deltas.f32 as above.
    """
    import keras
    import tensorflow as tf

    heads = [
        [rng.uniform(-1.5, 1.5, size=(512, KIND_CLASSES)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(KIND_CLASSES,)).astype(np.float32)],
        [rng.uniform(-1.5, 1.5, size=(512, SCORE_OUTPUTS)).astype(np.float32),
         rng.uniform(-0.2, 0.2, size=(SCORE_OUTPUTS,)).astype(np.float32)],
    ]
    flat_heads = np.concatenate([a.reshape(-1) for head in heads for a in head])
    (OUT / "vgg_heads_initial.f32").write_bytes(flat_heads.astype("<f4").tobytes())
    random_input = np.maximum(rng.uniform(-1.0, 2.0, size=(BATCH, 4, 4, 512)), 0).astype(np.float32)
    (OUT / "vgg_block_input_random.f32").write_bytes(random_input.astype("<f4").tobytes())
    runs = [
        dict(name="vgg16_sgd", backbone="vgg16", optimizer=dict(name="sgd", learning_rate=0.005, momentum=0.9),
             training=False, steps=3, input="input.f32"),
        dict(name="vgg16_adam", backbone="vgg16", optimizer=dict(name="adam", learning_rate=1e-4, epsilon=1e-3),
             training=False, steps=2, input="vgg_block_input_random.f32"),
        dict(name="vgg19_sgd", backbone="vgg19", optimizer=dict(name="sgd", learning_rate=0.005, momentum=0.9),
             training=False, steps=2, input="input.f32"),
    ]
    arrays = {}
    for run in runs:
        ctor = keras.applications.VGG16 if run["backbone"] == "vgg16" else keras.applications.VGG19
        base = ctor(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
        set_synthetic_weights(base, 0)
        for layer in base.layers:
            layer.trainable = layer.name.startswith("block5_")
        kind = keras.layers.Dense(KIND_CLASSES, activation="softmax", name="kind")
        score = keras.layers.Dense(SCORE_OUTPUTS, activation="tanh", name="score")
        kind.build((None, 512))
        score.build((None, 512))
        kind.set_weights(heads[0])
        score.set_weights(heads[1])
        pool = keras.layers.GlobalAveragePooling2D()
        stage = keras.Model(base.get_layer("block4_pool").output, base.output)
        from_block_input = run["input"] != "input.f32"
        inputs = tf.constant(random_input if from_block_input else x)
        listed = [dict(layer=l.name, role=w.path.split("/")[-1], shape=list(w.shape),
                       indices=sample_indices(int(np.prod(w.shape))).tolist())
                  for l in base.layers if l.name.startswith("block5_") for w in l.weights]
        arrays[run["backbone"]] = listed
        initial = {(a["layer"], a["role"]): np.asarray(base.get_layer(a["layer"]).weights[
            0 if a["role"] == "kernel" else 1].numpy(), dtype=np.float64) for a in listed}
        o = run["optimizer"]
        if o["name"] == "sgd":
            optimizer = keras.optimizers.SGD(learning_rate=o["learning_rate"], momentum=o["momentum"])
        else:
            optimizer = keras.optimizers.Adam(learning_rate=o["learning_rate"], epsilon=o["epsilon"])
        variables = base.trainable_variables + kind.trainable_variables + score.trainable_variables
        cce = keras.losses.CategoricalCrossentropy()
        mse = keras.losses.MeanSquaredError()

        @tf.function
        def step(inputs):
            with tf.GradientTape() as tape:
                y = stage(inputs, training=False) if from_block_input else base(inputs, training=False)
                features = tf.math.l2_normalize(pool(y), axis=-1)
                l_kind = cce(kind_targets, kind(features))
                l_score = mse(score_targets, score(features))
                total = LOSS_WEIGHTS["kind"] * l_kind + LOSS_WEIGHTS["score"] * l_score
            grads = tape.gradient(total, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return total, l_kind, l_score

        losses = []
        for _ in range(run["steps"]):
            total, l_kind, l_score = step(inputs)
            losses.append(dict(total=float(total), kind=float(l_kind), score=float(l_score)))
        deltas, sums = [], []
        for a in listed:
            w = base.get_layer(a["layer"]).weights[0 if a["role"] == "kernel" else 1]
            d = (np.asarray(w.numpy(), dtype=np.float64) - initial[(a["layer"], a["role"])]).reshape(-1)
            deltas.append(d[np.array(a["indices"], dtype=np.int64)])
            sums.append(float(np.abs(d).sum()))
        (OUT / f"{run['name']}_deltas.f32").write_bytes(np.concatenate(deltas).astype("<f4").tobytes())
        final_heads = np.concatenate(
            [np.asarray(v.numpy()).reshape(-1) for v in kind.weights + score.weights])
        (OUT / f"{run['name']}_heads.f32").write_bytes(final_heads.astype("<f4").tobytes())
        run.update(losses=losses, abs_delta_sums=sums, trainable_variables=len(variables))
        print(run["name"], losses, flush=True)
    manifest = dict(
        model=("VGG16 / VGG19(weights=None, include_top=False, input_shape=(64, 64, 3)), synthetic "
               "weights seed 0; GAP; tf.math.l2_normalize; the same heads on 512 features; layers "
               "before block5 trainable=False"),
        batch=BATCH, size=SIZE, kind_labels=labels.tolist(),
        score_targets=score_targets.astype(np.float64).tolist(), loss_weights=LOSS_WEIGHTS, runs=runs,
        arrays=arrays)
    (OUT / "vgg_manifest.json").write_text(compact_indices(manifest) + "\n")


if __name__ == "__main__":
    if "--early-tap" in sys.argv:
        early_tap()
    else:
        main()
