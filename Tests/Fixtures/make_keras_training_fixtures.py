#!/usr/bin/env python3
"""Keras training fixture for `fit-heads`: three small heads trained at once on cached features.

Writes Tests/Fixtures/keras_training/ (manifest.json + raw little-endian float32/int32 files) so
the Swift side can replay Keras 3 training without Python: same initial weights, same batches in
the same order (shuffle=False), same masked losses, same optimiser updates.

Run:  /work/venv-keras/bin/python Tests/Fixtures/make_keras_training_fixtures.py
(Keras 3.15.1, TensorFlow 2.21 backend, CPU.)  Everything is deterministic; the script asserts that
training twice gives bit-identical weights and losses, and prints the max |difference| between
Keras' float32 SGD run and a float64 NumPy re-implementation of it (the intrinsic float32 noise).
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.config.experimental.enable_op_determinism()
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_training")
N, D, BATCH = 96, 32, 16
N_HARMONY, N_TAGS, HIDDEN = 6, 3, 16
LOSS_WEIGHTS = {"score": 1.0, "harmony": 0.5, "tags": 2.0}
SCORE_MISSING = [3, 17, 40, 41, 77]
HARMONY_MISSING = [5, 18, 50, 90]
TAGS_MISSING = [7, 33, 60]

# (layer name, kernel shape, bias shape) in the documented weight order.
LAYERS = [
  ("score", (D, 1), (1,)),
  ("harmony_hidden", (D, HIDDEN), (HIDDEN,)),
  ("harmony", (HIDDEN, N_HARMONY), (N_HARMONY,)),
  ("tags", (D, N_TAGS), (N_TAGS,)),
]
WEIGHT_ORDER = []
for _name, _k, _b in LAYERS:
  WEIGHT_ORDER += [(f"{_name}/kernel", _k), (f"{_name}/bias", _b)]

RUNS = [
  # name, optimiser factory, settings recorded in the manifest, epochs
  ("sgd", lambda: keras.optimizers.SGD(learning_rate=0.1),
   {"class": "SGD", "learning_rate": 0.1, "momentum": 0.0, "nesterov": False}, 2),
  ("adam", lambda: keras.optimizers.Adam(learning_rate=0.01),
   {"class": "Adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
    "amsgrad": False}, 2),
  ("sgd_momentum", lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
   {"class": "SGD", "learning_rate": 0.05, "momentum": 0.9, "nesterov": False}, 1),
  ("rmsprop", lambda: keras.optimizers.RMSprop(learning_rate=0.01),
   {"class": "RMSprop", "learning_rate": 0.01, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
    "centered": False}, 1),
  ("adamax", lambda: keras.optimizers.Adamax(learning_rate=0.01),
   {"class": "Adamax", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}, 1),
  # Keras 3's decoupled weight decay (every optimiser's `weight_decay`; nothing is excluded unless
  # exclude_from_weight_decay is called): before each update, w -= w * weight_decay * lr.
  ("adam_weight_decay", lambda: keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.1),
   {"class": "Adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
    "amsgrad": False, "weight_decay": 0.1}, 2),
  ("sgd_weight_decay", lambda: keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.05),
   {"class": "SGD", "learning_rate": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.05}, 2),
]

UPDATE_RULES = {
  "SGD": "momentum == 0: w -= lr*g.  momentum > 0: m = m*momentum - lr*g; w += m (m starts at 0).",
  "Adam": "t = step (1-based); alpha = lr*sqrt(1-beta_2^t)/(1-beta_1^t); m += (g-m)*(1-beta_1); "
          "v += (g*g-v)*(1-beta_2); w -= m*alpha/(sqrt(v)+epsilon).  m, v start at 0.",
  "RMSprop": "v = rho*v + (1-rho)*g*g; w -= lr*g/sqrt(v+epsilon)  (epsilon INSIDE the sqrt). "
             "v starts at 0.",
  "Adamax": "t = step (1-based); m += (g-m)*(1-beta_1); u = max(beta_2*u, |g|); "
            "w -= lr*m/((1-beta_1^t)*(u+epsilon)).  m, u start at 0.",
}


def make_data():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((N, D)).astype(np.float32)
  x = x / np.linalg.norm(x, axis=1, keepdims=True)
  x = x.astype(np.float32)
  lrng = np.random.default_rng(2)
  score = lrng.integers(1, 11, size=N).astype(np.float32)
  score[SCORE_MISSING] = np.nan
  harmony = lrng.integers(0, N_HARMONY, size=N).astype(np.int32)
  harmony[HARMONY_MISSING] = -1
  tags = lrng.integers(0, 2, size=(N, N_TAGS)).astype(np.float32)
  tags[TAGS_MISSING] = -1.0
  return x, score, harmony, tags


def keras_targets(score, harmony, tags):
  """Masked labels -> (y dict, sample_weight dict): missing rows get target 0 and weight 0."""
  s_ok = ~np.isnan(score)
  h_ok = harmony >= 0
  t_ok = np.all(tags >= 0, axis=1)
  mapped = np.where(s_ok, (score.astype(np.float64) - 1.0) / 9.0 * 2.0 - 1.0, 0.0)
  y = {
    "score": mapped.astype(np.float32).reshape(N, 1),
    "harmony": np.where(h_ok, harmony, 0).astype(np.int32),
    "tags": np.where(t_ok[:, None], tags, 0.0).astype(np.float32),
  }
  w = {
    "score": s_ok.astype(np.float32),
    "harmony": h_ok.astype(np.float32),
    "tags": t_ok.astype(np.float32),
  }
  return y, w


def initial_weights():
  rng = np.random.default_rng(1)
  return [rng.uniform(-0.3, 0.3, size=shape).astype(np.float32) for _, shape in WEIGHT_ORDER]


def build_model():
  inp = keras.Input(shape=(D,), name="features")
  score = keras.layers.Dense(1, activation="tanh", name="score")(inp)
  hidden = keras.layers.Dense(HIDDEN, activation="relu", name="harmony_hidden")(inp)
  harmony = keras.layers.Dense(N_HARMONY, activation="softmax", name="harmony")(hidden)
  tags = keras.layers.Dense(N_TAGS, activation="sigmoid", name="tags")(inp)
  return keras.Model(inp, {"score": score, "harmony": harmony, "tags": tags}, name="heads")


def get_weights(model):
  out = []
  for name, _, _ in LAYERS:
    k, b = model.get_layer(name).get_weights()
    out += [k, b]
  return out


def set_weights(model, arrays):
  for i, (name, _, _) in enumerate(LAYERS):
    model.get_layer(name).set_weights([arrays[2 * i], arrays[2 * i + 1]])


def compile_model(model, optimiser):
  model.compile(
    optimizer=optimiser,
    loss={
      "score": keras.losses.MeanSquaredError(),
      "harmony": keras.losses.SparseCategoricalCrossentropy(),
      "tags": keras.losses.BinaryCrossentropy(),
    },
    loss_weights=LOSS_WEIGHTS,
  )


def train(init, make_opt, epochs, x, y, w, rows=N):
  keras.utils.set_random_seed(0)
  model = build_model()
  set_weights(model, init)
  compile_model(model, make_opt())
  sub = lambda d: {k: v[:rows] for k, v in d.items()}  # noqa: E731
  hist = model.fit(x[:rows], sub(y), sample_weight=sub(w), batch_size=BATCH, epochs=epochs,
                   shuffle=False, verbose=0)
  losses = {k: [float(v) for v in hist.history[k]] for k in
            ["loss", "score_loss", "harmony_loss", "tags_loss"]}
  return get_weights(model), losses


# ---- float64 NumPy reference of the masked forward/backward (for the noise figure) ----

def np_step_grads(ws, xb, yb, wb):
  """Loss and gradients of one batch, float64, following Keras' reductions (documented below)."""
  sk, sb, hk1, hb1, hk2, hb2, tk, tb = ws
  b = xb.shape[0]
  # score: tanh, MSE (mean over the 1 output), sum(w*l)/B
  p = np.tanh(xb @ sk + sb)
  d = p - yb["score"]
  l_s = np.sum(wb["score"] * np.mean(d * d, axis=1)) / b
  dz_s = (2.0 * d * wb["score"][:, None] / b) * (1.0 - p * p)
  # harmony: relu hidden, softmax; CE from the logits, sum(w*l)/B
  h = np.maximum(xb @ hk1 + hb1, 0.0)
  z = h @ hk2 + hb2
  zm = z - z.max(axis=1, keepdims=True)
  lse = np.log(np.exp(zm).sum(axis=1))
  lab = yb["harmony"]
  ce = lse - zm[np.arange(b), lab]
  l_h = np.sum(wb["harmony"] * ce) / b
  sm = np.exp(zm - lse[:, None])
  onehot = np.eye(N_HARMONY)[lab]
  dz_h = (sm - onehot) * wb["harmony"][:, None] / b
  dh = (dz_h @ hk2.T) * (h > 0)
  # tags: sigmoid; BCE from the logits, mean over 3 labels, sum(w*l)/B
  zt = xb @ tk + tb
  t = yb["tags"]
  bce = np.maximum(zt, 0) - zt * t + np.log1p(np.exp(-np.abs(zt)))
  l_t = np.sum(wb["tags"] * bce.mean(axis=1)) / b
  dz_t = (1.0 / (1.0 + np.exp(-zt)) - t) * wb["tags"][:, None] / (N_TAGS * b)
  ls, lh, lt = LOSS_WEIGHTS["score"], LOSS_WEIGHTS["harmony"], LOSS_WEIGHTS["tags"]
  grads = [ls * xb.T @ dz_s, ls * dz_s.sum(0),
           lh * xb.T @ dh, lh * dh.sum(0), lh * h.T @ dz_h, lh * dz_h.sum(0),
           lt * xb.T @ dz_t, lt * dz_t.sum(0)]
  total = ls * l_s + lh * l_h + lt * l_t
  return (total, l_s, l_h, l_t), grads


def np_optimizer(settings):
  """float64 update rule matching UPDATE_RULES; returns step(ws, grads, t) with t 1-based."""
  c = settings["class"]
  lr = settings["learning_rate"]
  state = {}

  def step(ws, grads, t):
    out = []
    wd = settings.get("weight_decay")
    for i, (wv, g) in enumerate(zip(ws, grads)):
      if wd:
        wv = wv - wv * wd * lr  # decoupled weight decay, before the update
      if c == "SGD":
        if settings["momentum"] == 0:
          out.append(wv - lr * g)
        else:
          m = state.get(i, np.zeros_like(wv)) * settings["momentum"] - lr * g
          state[i] = m
          out.append(wv + m)
      elif c == "Adam":
        b1, b2, eps = settings["beta_1"], settings["beta_2"], settings["epsilon"]
        m, v = state.get(i, (np.zeros_like(wv), np.zeros_like(wv)))
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        state[i] = (m, v)
        out.append(wv - m * alpha / (np.sqrt(v) + eps))
      elif c == "RMSprop":
        rho, eps = settings["rho"], settings["epsilon"]
        v = rho * state.get(i, np.zeros_like(wv)) + (1 - rho) * g * g
        state[i] = v
        out.append(wv - lr * g / np.sqrt(v + eps))
      elif c == "Adamax":
        b1, b2, eps = settings["beta_1"], settings["beta_2"], settings["epsilon"]
        m, u = state.get(i, (np.zeros_like(wv), np.zeros_like(wv)))
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        state[i] = (m, u)
        out.append(wv - lr * m / ((1 - b1 ** t) * (u + eps)))
      else:
        raise ValueError(c)
    return out

  return step


def np_train(init, x, y, w, settings, epochs, divide_by_weight_sum=False):
  ws = [a.astype(np.float64) for a in init]
  x64 = x.astype(np.float64)
  y64 = {k: (v if k == "harmony" else v.astype(np.float64)) for k, v in y.items()}
  w64 = {k: v.astype(np.float64) for k, v in w.items()}
  step = np_optimizer(settings)
  epoch_losses, t = [], 0
  for _ in range(epochs):
    acc = np.zeros(4)
    for s in range(0, N, BATCH):
      sl = slice(s, s + BATCH)
      wb = {k: v[sl] for k, v in w64.items()}
      if divide_by_weight_sum:  # the alternative reduction, to show Keras does NOT use it
        wb = {k: v * BATCH / max(v.sum(), 1e-300) for k, v in wb.items()}
      losses, grads = np_step_grads(ws, x64[sl], {k: v[sl] for k, v in y64.items()}, wb)
      acc += np.array(losses)
      t += 1
      ws = step(ws, grads, t)
    epoch_losses.append(acc / (N // BATCH))
  return ws, epoch_losses


def max_diffs(keras_w, keras_losses, ref_w, ref_losses):
  wdiff = max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(keras_w, ref_w))
  ldiff = 0.0
  for e in range(len(ref_losses)):
    for i, k in enumerate(["loss", "score_loss", "harmony_loss", "tags_loss"]):
      ldiff = max(ldiff, abs(keras_losses[k][e] - ref_losses[e][i]))
  return wdiff, ldiff


def check_logits_path(init, x, y, w):
  """Does fit's loss use the pre-activation logits (no clipping) for softmax/sigmoid heads?

  Scales the harmony/tags output layers so probabilities saturate beyond 1e-7 clipping and compares
  Keras' per-head losses (evaluate, same traced compute_loss path as fit) with both forms.
  """
  big = [a.copy() for a in init]
  big[4] *= 400.0
  big[6] *= 400.0
  model = build_model()
  set_weights(model, big)
  compile_model(model, keras.optimizers.SGD(learning_rate=0.0))
  r = model.evaluate(x[:BATCH], {k: v[:BATCH] for k, v in y.items()},
                     sample_weight={k: v[:BATCH] for k, v in w.items()}, batch_size=BATCH,
                     verbose=0, return_dict=True)
  ws = [a.astype(np.float64) for a in big]
  (_, _, l_h, l_t), _ = np_step_grads(ws, x[:BATCH].astype(np.float64),
                                      {k: v[:BATCH] for k, v in y.items()},
                                      {k: v[:BATCH].astype(np.float64) for k, v in w.items()})
  # clipped-probability forms
  xb = x[:BATCH].astype(np.float64)
  h = np.maximum(xb @ ws[2] + ws[3], 0)
  z = h @ ws[4] + ws[5]
  sm = np.exp(z - z.max(1, keepdims=True))
  sm /= sm.sum(1, keepdims=True)
  eps = 1e-7
  lab = y["harmony"][:BATCH]
  ce_clip = -np.log(np.clip(sm, eps, 1 - eps))[np.arange(BATCH), lab]
  l_h_clip = np.sum(w["harmony"][:BATCH] * ce_clip) / BATCH
  pt = 1 / (1 + np.exp(-(xb @ ws[6] + ws[7])))
  pt = np.clip(pt, eps, 1 - eps)
  t = y["tags"][:BATCH]
  bce_clip = -(t * np.log(pt) + (1 - t) * np.log(1 - pt))
  l_t_clip = np.sum(w["tags"][:BATCH] * bce_clip.mean(1)) / BATCH
  print(f"saturated check: keras harmony {r['harmony_loss']:.6f} logits-form {l_h:.6f} "
        f"clipped-form {l_h_clip:.6f}; keras tags {r['tags_loss']:.6f} logits-form {l_t:.6f} "
        f"clipped-form {l_t_clip:.6f}")
  uses_logits_h = abs(r["harmony_loss"] - l_h) < 1e-3 * max(1, l_h) and abs(l_h - l_h_clip) > 1e-2
  uses_logits_t = abs(r["tags_loss"] - l_t) < 1e-3 * max(1, l_t) and abs(l_t - l_t_clip) > 1e-2
  return {"harmony": {"keras": r["harmony_loss"], "logits_form": l_h, "clipped_form": l_h_clip,
                      "keras_uses_logits": bool(uses_logits_h)},
          "tags": {"keras": r["tags_loss"], "logits_form": l_t, "clipped_form": l_t_clip,
                   "keras_uses_logits": bool(uses_logits_t)}}


def write_raw(relpath, arr, dtype):
  path = os.path.join(OUT, relpath)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<")).tofile(path)
  return relpath


def write_weight_set(relpath, arrays):
  """One concatenated little-endian float32 file, arrays in WEIGHT_ORDER, row-major."""
  write_raw(relpath, np.concatenate([a.astype(np.float32).ravel() for a in arrays]), "<f4")
  return relpath


def main():
  os.makedirs(OUT, exist_ok=True)
  x, score, harmony, tags = make_data()
  y, w = keras_targets(score, harmony, tags)
  init = initial_weights()

  logits_check = check_logits_path(init, x, y, w)
  # The manifest states the logits path as a fact; fail if a Keras version changes it.
  assert logits_check["harmony"]["keras_uses_logits"] and logits_check["tags"]["keras_uses_logits"]

  runs_out = []
  sgd_final = None
  for name, make_opt, settings, epochs in RUNS:
    final, losses = train(init, make_opt, epochs, x, y, w)
    final2, losses2 = train(init, make_opt, epochs, x, y, w)
    assert all(np.array_equal(a, b) for a, b in zip(final, final2)), f"{name}: not bit-identical"
    assert losses == losses2, f"{name}: losses not bit-identical"
    first, first_losses = train(init, make_opt, 1, x, y, w, rows=BATCH)
    runs_out.append({
      "name": name,
      "optimizer": settings,
      "update_rule": UPDATE_RULES[settings["class"]] + (
        " Weight decay first: w -= w * weight_decay * learning_rate." if "weight_decay" in settings else ""),
      "epochs": epochs,
      "batch_size": BATCH,
      "steps_per_epoch": N // BATCH,
      "batches": [[s, s + BATCH] for s in range(0, N, BATCH)],
      "final_weights": write_weight_set(f"runs/{name}/final_weights.f32", final),
      "after_first_batch_weights": write_weight_set(f"runs/{name}/after_first_batch_weights.f32",
                                                    first),
      "epoch_losses": losses,
      "first_batch_losses": {k: v[0] for k, v in first_losses.items()},
    })
    ref_w, ref_losses = np_train(init, x, y, w, settings, epochs)
    wdiff, ldiff = max_diffs(final, losses, ref_w, ref_losses)
    runs_out[-1]["numpy_float64_reference"] = {"max_abs_weight_diff": wdiff,
                                               "max_abs_epoch_loss_diff": ldiff}
    print(f"{name}: epoch losses {losses['loss']}; Keras float32 vs NumPy float64: "
          f"max |dW| = {wdiff:.3e}, max |d loss| = {ldiff:.3e}")
    assert wdiff < 1e-5 and ldiff < 1e-5, f"{name}: NumPy reference disagrees beyond 1e-5"
    if name == "sgd":
      sgd_final = (final, losses)

  sgd_settings = RUNS[0][2]
  ref_w, ref_losses = np_train(init, x, y, w, sgd_settings, 2)
  wdiff, ldiff = max_diffs(*sgd_final, ref_w, ref_losses)
  print(f"NOISE: run sgd, Keras float32 vs NumPy float64: max |dW| = {wdiff:.3e}, "
        f"max |d epoch loss| = {ldiff:.3e}")
  alt_w, alt_losses = np_train(init, x, y, w, sgd_settings, 2, divide_by_weight_sum=True)
  alt_wdiff, alt_ldiff = max_diffs(*sgd_final, alt_w, alt_losses)
  print(f"alternative reduction sum(w*l)/sum(w): max |dW| = {alt_wdiff:.3e}, "
        f"max |d loss| = {alt_ldiff:.3e} (must be large)")
  assert alt_wdiff > 100 * wdiff, "cannot tell the two reductions apart"

  offsets, off = [], 0
  for (wname, shape), a in zip(WEIGHT_ORDER, init):
    offsets.append({"name": wname, "shape": list(shape), "offset_elements": off,
                    "count": int(a.size)})
    off += int(a.size)

  manifest = {
    "generator": "Tests/Fixtures/make_keras_training_fixtures.py",
    "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                 "numpy": np.__version__, "backend": keras.backend.backend()},
    "file_format": "All binary files are raw little-endian, row-major (C order), no header. "
                   "'.f32' = float32, '.i32' = int32. Paths are relative to this manifest.",
    "data": {
      "rows": N, "features": D,
      "x": {"file": write_raw("data/x.f32", x, "<f4"), "shape": [N, D], "dtype": "float32",
            "how": "numpy.random.default_rng(0).standard_normal((96, 32)) as float32, then each row "
                   "divided by its L2 norm in float32"},
      "labels": {
        "score": {"file": write_raw("data/score.f32", score, "<f4"), "shape": [N],
                  "dtype": "float32", "values": "integers 1..10, missing = NaN",
                  "missing_rows": SCORE_MISSING,
                  "mapping": "target = (y - 1) / 9 * 2 - 1 (computed in float64, stored to float32), "
                             "so 1 -> -1, 10 -> +1; tanh output compared with it"},
        "harmony": {"file": write_raw("data/harmony.i32", harmony, "<i4"), "shape": [N],
                    "dtype": "int32", "values": "class index 0..5, missing = -1",
                    "missing_rows": HARMONY_MISSING},
        "tags": {"file": write_raw("data/tags.f32", tags, "<f4"), "shape": [N, N_TAGS],
                 "dtype": "float32", "values": "0/1 per label; a missing row is all -1",
                 "missing_rows": TAGS_MISSING},
        "how": "numpy.random.default_rng(2): integers(1, 11, 96) for score, integers(0, 6, 96) for "
               "harmony, integers(0, 2, (96, 3)) for tags, then the missing rows overwritten",
      },
    },
    "model": {
      "input": {"name": "features", "width": D},
      "layers_in_order": [
        {"name": "score", "class": "Dense", "input": "features", "units": 1,
         "activation": "tanh", "kernel_shape": [D, 1], "bias_shape": [1], "output": "score"},
        {"name": "harmony_hidden", "class": "Dense", "input": "features", "units": HIDDEN,
         "activation": "relu", "kernel_shape": [D, HIDDEN], "bias_shape": [HIDDEN]},
        {"name": "harmony", "class": "Dense", "input": "harmony_hidden", "units": N_HARMONY,
         "activation": "softmax", "kernel_shape": [HIDDEN, N_HARMONY], "bias_shape": [N_HARMONY],
         "output": "harmony"},
        {"name": "tags", "class": "Dense", "input": "features", "units": N_TAGS,
         "activation": "sigmoid", "kernel_shape": [D, N_TAGS], "bias_shape": [N_TAGS],
         "output": "tags"},
      ],
      "dense": "y = activation(x @ kernel + bias), kernel shape [in, out]",
      "weight_order": offsets,
      "weight_files": "Each *weights.f32 file is the concatenation of the arrays in weight_order "
                      "(float32, row-major); offset_elements counts float32 elements.",
      "initial_weights": write_weight_set("initial_weights.f32", init),
      "initial_weights_how": "numpy.random.default_rng(1).uniform(-0.3, 0.3, size=shape) for each "
                             "array in weight_order, cast to float32 (saved; no need to reproduce)",
    },
    "losses": {
      "loss_weights": LOSS_WEIGHTS,
      "total": "loss = 1.0*score_loss + 0.5*harmony_loss + 2.0*tags_loss (per batch)",
      "score": "keras.losses.MeanSquaredError: per row mean over the 1 output of (p - t)^2",
      "harmony": "keras.losses.SparseCategoricalCrossentropy (integer labels, no one-hot in the "
                 "data; equivalent to categorical CE on one-hot(label)). Per row: "
                 "logsumexp(z) - z[label] where z = the pre-softmax logits (see logits_path)",
      "tags": "keras.losses.BinaryCrossentropy: per row mean over the 3 labels of "
              "max(z,0) - z*t + log(1 + exp(-|z|)) where z = the pre-sigmoid logits "
              "(see logits_path)",
      "logits_path": "With the TensorFlow backend, Dense(activation='softmax'/'sigmoid') outputs "
                     "carry their logits (_keras_logits) and the crossentropy losses use them "
                     "(from_logits=True internally): NO clipping to [1e-7, 1-1e-7] happens on "
                     "this path. The clipped form (probabilities clipped to [epsilon, 1-epsilon], "
                     "epsilon = keras.backend.epsilon() = 1e-7) is only used when a loss gets "
                     "probabilities without logits. Checked by saturating the heads:",
      "logits_path_check": logits_check,
      "gradients": "d score_loss/dz = 2*w*(p-t)/B*(1-p^2); d harmony_loss/dz = w*(softmax(z)-"
                   "onehot)/B; d tags_loss/dz = w*(sigmoid(z)-t)/(3*B); B = batch size (16)",
    },
    "masking": {
      "how": "model.fit(x, y_dict, sample_weight={'score': w_s, 'harmony': w_h, 'tags': w_t}) with "
             "a float32 weight per row per output: 1 if that head's label is present, 0 if "
             "missing. Missing targets are replaced by 0 (score 0.0, harmony class 0, tags "
             "0,0,0) before fitting; with weight 0 they do not contribute.",
      "reduction": "Keras 3.15.1 default reduction 'sum_over_batch_size': per output, batch loss "
                   "= sum_i(w_i * l_i) / B where B is the number of rows in the batch (16), NOT "
                   "the sum of the weights. Zero-weight rows still count in the divisor. "
                   "(keras/src/losses/loss.py reduce_values: divisor = number of elements of "
                   "the per-row loss vector; only reduction='mean_with_sample_weight' divides by "
                   "sum(w).) A batch whose rows are all missing gives loss 0 for that head.",
    },
    "reported_losses": {
      "keys": ["loss", "score_loss", "harmony_loss", "tags_loss"],
      "meaning": "History values per epoch. Each is the mean over the epoch's 6 batches of the "
                 "per-batch value computed in the forward pass BEFORE that batch's update "
                 "(Keras Mean tracker weighted by batch size; all batches are 16 rows). "
                 "score_loss/harmony_loss/tags_loss are UNWEIGHTED (before loss_weights); "
                 "loss is the weighted total.",
      "first_batch_losses": "the same values for the first batch alone (a 1-step fit on rows "
                            "0..15), i.e. the losses at the initial weights",
    },
    "training": {
      "call": "model.fit(x, y, sample_weight=..., batch_size=16, epochs=E, shuffle=False)",
      "batch_order": "rows 0..15, 16..31, ..., 80..95 every epoch (no shuffling; 96 = 6*16)",
      "every_run_starts_from": "initial_weights.f32 with fresh optimiser state",
      "after_first_batch": "weights after one optimiser step on rows 0..15 (separate 1-step fit "
                           "with the same optimiser settings)",
      "deterministic": "each run was trained twice and asserted bit-identical",
    },
    "runs": runs_out,
    "numpy_float64_reference": {
      "run": "sgd",
      "max_abs_weight_diff": wdiff,
      "max_abs_epoch_loss_diff": ldiff,
      "meaning": "float32 Keras vs float64 NumPy re-implementation of run 'sgd' (intrinsic noise); "
                 "every run has the same figure under runs[i].numpy_float64_reference",
      "alternative_reduction_sum_of_weights": {"max_abs_weight_diff": alt_wdiff,
                                               "max_abs_epoch_loss_diff": alt_ldiff},
      "alternative_meaning": "the same reference dividing by sum(w) instead of B disagrees this "
                             "much, so the divide-by-B reduction is verified, not assumed",
    },
  }
  with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
    f.write("\n")
  print("wrote", OUT)


if __name__ == "__main__":
  main()
