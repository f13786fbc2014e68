# Writes heads_fixtures.json: Keras 3 optimiser updates and head losses for EngineTests.
# Run with the Keras venv:  /work/venv-keras/bin/python make_optimizer_fixtures.py
# Optimisers: 3 steps on fixed per-step gradients from fixed weights (one variable, 5 floats).
# Losses: value and gradient w.r.t. the pre-activation logits, computed inside tf.function as
# model.fit does (there Keras 3's TF backend takes the logits behind a softmax/sigmoid output
# and never clips), with sample weight 0 for masked rows and a loss weight.
import json

import numpy as np
import tensorflow as tf
import keras

out = {"keras": keras.__version__, "optimizers": [], "losses": []}
w0 = np.array([0.5, -1.25, 2.0, 0.0, -0.1], np.float32)
grads = [
    np.array([0.1, -0.2, 0.3, 0.0, 1.5], np.float32),
    np.array([-0.4, 0.25, 0.05, 0.7, -1.0], np.float32),
    np.array([0.3, 0.3, -0.6, -0.2, 0.01], np.float32),
]
configs = [
    ("sgd", keras.optimizers.SGD, {}),
    ("sgd_momentum", keras.optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd_nesterov", keras.optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adam", keras.optimizers.Adam, {}),
    ("adam_lr", keras.optimizers.Adam, {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99}),
    ("adam_wd", keras.optimizers.Adam, {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("adamax", keras.optimizers.Adamax, {}),
    ("adamax_lr", keras.optimizers.Adamax, {"learning_rate": 0.05}),
    ("rmsprop", keras.optimizers.RMSprop, {}),
    ("rmsprop_lr", keras.optimizers.RMSprop, {"learning_rate": 0.05, "rho": 0.8}),
    ("rmsprop_momentum", keras.optimizers.RMSprop, {"learning_rate": 0.05, "momentum": 0.5}),
    ("sgd_wd", keras.optimizers.SGD, {"learning_rate": 0.1, "weight_decay": 0.2}),
]
for name, cls, kw in configs:
    opt = cls(**kw)
    var = keras.Variable(w0.copy())
    steps = []
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
        steps.append(np.asarray(var.numpy(), np.float64).tolist())
    cfg = {k: v for k, v in opt.get_config().items() if isinstance(v, (int, float, bool)) or v is None}
    out["optimizers"].append({"name": name, "config": cfg, "steps": steps})
out["initial"] = w0.astype(np.float64).tolist()
out["gradients"] = [g.astype(np.float64).tolist() for g in grads]

rng = np.random.default_rng(5)
B = 5
z3 = (rng.standard_normal((B, 3)) * 2).astype(np.float32)
z3[2] = [40.0, -40.0, 0.0]  # saturated: a clipped loss would differ
z4 = (rng.standard_normal((B, 4)) * 2).astype(np.float32)
z4[1, 0] = 30.0
z4[3, 2] = -30.0
onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0]]
onehot[2] = [0, 1, 0]
multi = (rng.random((B, 4)) > 0.5).astype(np.float32)
multi[1, 0] = 0.0
reg = (rng.random((B, 2)) * 2 - 1).astype(np.float32)
z2 = rng.standard_normal((B, 2)).astype(np.float32)
mask = np.array([1, 0, 1, 1, 0], np.float32)
cases = [
    ("softmax_cce", keras.activations.softmax, keras.losses.CategoricalCrossentropy(), z3, onehot, 0.7),
    ("sigmoid_bce", keras.activations.sigmoid, keras.losses.BinaryCrossentropy(), z4, multi, 1.3),
    ("tanh_mse", keras.activations.tanh, keras.losses.MeanSquaredError(), z2, reg, 0.5),
]
for name, act, loss, z, y, lw in cases:
    @tf.function
    def f(z, y, w):
        with tf.GradientTape() as tape:
            tape.watch(z)
            value = loss(y, act(z), sample_weight=w) * lw
        return value, tape.gradient(value, z)

    value, grad = f(tf.constant(z), tf.constant(y), tf.constant(mask))
    eager = float(loss(y, act(tf.constant(z)), sample_weight=mask)) * lw
    out["losses"].append({
        "name": name, "logits": z.astype(np.float64).tolist(), "labels": y.astype(np.float64).tolist(),
        "mask": mask.astype(np.float64).tolist(), "lossWeight": lw, "value": float(value),
        "eagerValue": eager, "gradient": np.asarray(grad, np.float64).tolist(),
    })
# The masked-row denominator: a zero sample weight keeps the row in the batch count.
mse = keras.losses.MeanSquaredError()
a = float(mse(np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32), sample_weight=[1, 1, 0, 0]))
out["maskedDenominatorCheck"] = {"mseOnesVsZerosWeights1100": a}

# One real training step of a tiny two-head model: Dense(5->4, relu) feeding a softmax
# classifier (3) and a tanh regressor (2), loss weights, per-head sample weights masking rows;
# train_on_batch with SGD(0.1), so weights after = weights before - 0.1 * gradient.
inp = keras.Input((5,))
hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inp)
cls = keras.layers.Dense(3, activation="softmax", name="cls")(hidden)
regr = keras.layers.Dense(2, activation="tanh", name="reg")(hidden)
model = keras.Model(inp, [cls, regr])
model.compile(
    optimizer=keras.optimizers.SGD(0.1), loss=["categorical_crossentropy", "mse"],
    loss_weights=[0.7, 0.5])
weights = [(rng.standard_normal(w.shape) * 0.8).astype(np.float32) for w in model.get_weights()]
model.set_weights(weights)
x = rng.standard_normal((6, 5)).astype(np.float32)
y_cls = np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 1, 0]]
y_reg = (rng.random((6, 2)) * 2 - 1).astype(np.float32)
w_cls = np.array([1, 1, 0, 1, 1, 1], np.float32)
w_reg = np.array([1, 0, 1, 1, 0, 1], np.float32)
loss_value = model.train_on_batch(x, [y_cls, y_reg], sample_weight=[w_cls, w_reg])
out["twoHeadStep"] = {
    "weightsBefore": [w.ravel().astype(np.float64).tolist() for w in weights],
    "weightsAfter": [w.ravel().astype(np.float64).tolist() for w in model.get_weights()],
    "x": x.astype(np.float64).tolist(), "yClass": y_cls.astype(np.float64).tolist(),
    "yRegression": y_reg.astype(np.float64).tolist(), "maskClass": w_cls.astype(np.float64).tolist(),
    "maskRegression": w_reg.astype(np.float64).tolist(), "lossWeights": [0.7, 0.5],
    "learningRate": 0.1, "loss": float(np.asarray(loss_value).ravel()[0]),
}
with open("heads_fixtures.json", "w") as fh:
    json.dump(out, fh, indent=1)
print(json.dumps({k: out[k] for k in ("keras", "maskedDenominatorCheck")}), out["twoHeadStep"]["loss"])
for l in out["losses"]:
    print(l["name"], l["value"], l["eagerValue"])
