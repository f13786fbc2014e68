"""Makes the small HDF5 fixtures for HDF5Tests and the Keras weight-file tests.

Run with the Keras venv (keras 3, h5py, numpy):
    /work/venv-keras/bin/python Tests/Fixtures/weights/make_weight_fixtures.py

Files (all written next to this script, a few KB each):
  h5py_types.h5         datasets and attributes of every kind the Swift HDF5 wrapper reads,
                        written by plain h5py (float16/32/64, int, fixed and variable strings)
  tiny.weights.h5       a tiny functional model saved by Keras 3 `save_weights` (native layout)
  tiny_unnamed.weights.h5  the same without the layer-name attributes, as older Keras 3 wrote it
  tiny_checkpoint_deps.weights.h5  the same with `layers` moved to `_layer_checkpoint_dependencies`
  tiny_legacy.h5        the same weights through Keras' legacy HDF5 writer (layer_names / weight_names)
  tiny_model.h5         the same model saved whole in the legacy format (weights under model_weights)
  tiny_values.json      the known values, per layer and role
  keras1_tiny.h5        the same weights in the Keras 1 layout (conv1_conv_W_1:0, running_std), via h5py
  keras2_tiny.h5        the same weights in the Keras 2 layout (conv1_conv/kernel:0), via h5py
  resnet_old_names.h5   old ResNet50 layer names (conv1, bn_conv1, res2a_branch2a, fc1000), under
                        model_weights, with layer_names split into layer_names0/1, via h5py
  resnet_old_names.json the known values of resnet_old_names.h5, by current layer name

check_keras_loads.py (a developer check, not run by tests) loads files written by the Swift
writer with Keras.
"""
import json
import os

import h5py
import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def known(shape, offset, scale=0.01):
    """Deterministic float32 values, exactly representable and distinct per array."""
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float32) * np.float32(scale) + np.float32(offset)).reshape(shape)


def bytes_array(strings):
    """What Keras' save_attributes_to_hdf5_group stores: numpy 'S' (fixed-length bytes)."""
    return np.asarray([s.encode("utf8") for s in strings])


# ---------------------------------------------------------------------------------------------
# Plain h5py file for the wrapper's tests.
with h5py.File(path("h5py_types.h5"), "w") as f:
    f.create_dataset("f16", data=np.array([[0.5, -1.25, 3.0], [65504.0, 0.0, 1e-3]], dtype=np.float16))
    f.create_dataset("f32", data=known((2, 3, 4), -0.5))
    f.create_dataset("f64", data=np.array([1.0 / 3.0, -2.5, 1e30], dtype=np.float64))
    f.create_dataset("i32", data=np.array([-1, 0, 7, 2**31 - 1], dtype=np.int32))
    f.create_dataset("i64", data=np.array([[1, 2], [3, -4]], dtype=np.int64))
    f.create_dataset("scalar", data=np.float32(42.5))
    f.create_dataset("vstrings", data=["alpha", "βeta", ""], dtype=h5py.string_dtype("utf-8"))
    f.create_dataset("fstrings", data=bytes_array(["conv1", "bn_conv1", "x"]))
    f.create_dataset("empty_strings", shape=(0,), dtype=h5py.string_dtype("utf-8"))
    g = f.create_group("outer/inner")
    g.create_dataset("chunked", data=known((5, 3), 1.0), chunks=(2, 3), maxshape=(None, 3))
    f["outer"].create_group("b_second")
    f["outer"].create_group("a_first")
    f.attrs["vstring"] = "héllo"
    f.attrs["fstring"] = np.bytes_(b"2.2.4")
    f.attrs["fstrings"] = bytes_array(["a", "bb", "ccc"])
    f.attrs["vstrings"] = np.array(["x", "yy"], dtype=h5py.string_dtype("utf-8"))
    f.attrs["int"] = 7
    f.attrs["ints"] = np.array([224, 224, 3], dtype=np.int64)
    f.attrs["int32s"] = np.array([1, -2], dtype=np.int32)
    f.attrs["double"] = 0.25
    f.attrs["empty"] = np.asarray([])  # what Keras writes for a layer without weights
    f["f32"].attrs["units"] = "metres"

# ---------------------------------------------------------------------------------------------
# A tiny Keras model with ResNet-style layer names and known weights.
inputs = keras.Input((6, 6, 3), name="input_layer")
x = keras.layers.Conv2D(4, 3, name="conv1_conv")(inputs)
x = keras.layers.BatchNormalization(name="conv1_bn")(x)
x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
outputs = keras.layers.Dense(2, name="predictions")(x)
model = keras.Model(inputs, outputs)

values = {
    "conv1_conv": {"kernel": known((3, 3, 3, 4), -0.5), "bias": known((4,), 0.25)},
    "conv1_bn": {
        "gamma": known((4,), 1.0, 0.125),
        "beta": known((4,), -0.25, 0.0625),
        "moving_mean": known((4,), 0.5, -0.03125),
        "moving_variance": known((4,), 2.0, 0.5),
    },
    "predictions": {"kernel": known((4, 2), 0.75, -0.0625), "bias": known((2,), -1.0, 0.5)},
}
model.get_layer("conv1_conv").set_weights([values["conv1_conv"][k] for k in ["kernel", "bias"]])
model.get_layer("conv1_bn").set_weights(
    [values["conv1_bn"][k] for k in ["gamma", "beta", "moving_mean", "moving_variance"]])
model.get_layer("predictions").set_weights([values["predictions"][k] for k in ["kernel", "bias"]])

model.save_weights(path("tiny.weights.h5"))
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

with h5py.File(path("tiny_legacy.h5"), "w") as f:
    legacy_h5_format.save_weights_to_hdf5_group(f, model)
legacy_h5_format.save_model_to_hdf5(model, path("tiny_model.h5"), include_optimizer=False)

# Keras reads its own files back: a check that the fixtures are what Keras means.
probe = keras.Model.from_config(model.get_config())
probe.load_weights(path("tiny.weights.h5"))
for a, b in zip(probe.get_weights(), model.get_weights()):
    assert np.array_equal(a, b)


def to_json(vals):
    return {
        layer: {role: {"shape": list(a.shape), "values": [float(v) for v in a.ravel()]}
                for role, a in roles.items()}
        for layer, roles in vals.items()
    }


with open(path("tiny_values.json"), "w") as f:
    json.dump(to_json(values), f, indent=1)
    f.write("\n")

# ---------------------------------------------------------------------------------------------
# The Keras 1 layout: flat dataset names '<layer>_<W|b|gamma|...>_1:0'; BN's variance under
# the name running_std; no keras_version attribute (Keras 2 treats its absence as Keras 1).
k1_names = {"kernel": "W", "bias": "b", "gamma": "gamma", "beta": "beta",
            "moving_mean": "running_mean", "moving_variance": "running_std"}
layer_order = ["input_layer", "conv1_conv", "conv1_bn", "avg_pool", "predictions"]
with h5py.File(path("keras1_tiny.h5"), "w") as f:
    f.attrs["layer_names"] = bytes_array(layer_order)
    for layer in layer_order:
        g = f.create_group(layer)
        roles = values.get(layer, {})
        names = [f"{layer}_{k1_names[role]}_1:0" for role in roles]
        g.attrs["weight_names"] = bytes_array(names) if names else np.asarray([])
        for name, a in zip(names, roles.values()):
            g.create_dataset(name, data=a)

# The Keras 2 layout: '<layer>/<role>:0', i.e. nested groups under the layer group.
with h5py.File(path("keras2_tiny.h5"), "w") as f:
    f.attrs["layer_names"] = bytes_array(layer_order)
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.2.4"
    for layer in layer_order:
        g = f.create_group(layer)
        roles = values.get(layer, {})
        names = [f"{layer}/{role}:0" for role in roles]
        g.attrs["weight_names"] = bytes_array(names) if names else np.asarray([])
        for name, a in zip(names, roles.values()):
            g.create_dataset(name, data=a)

# ---------------------------------------------------------------------------------------------
# Old ResNet50 names under model_weights, with layer_names split in two attributes (Keras does
# this when the list exceeds the 64 KB object-header limit; forced here on a short list).
old = {
    "conv1": ("conv1_conv", "conv", (3, 3, 3, 2)),
    "bn_conv1": ("conv1_bn", "bn", (2,)),
    "res2a_branch2a": ("conv2_block1_1_conv", "conv", (1, 1, 2, 2)),
    "bn2a_branch2a": ("conv2_block1_1_bn", "bn", (2,)),
    "res2a_branch2b": ("conv2_block1_2_conv", "conv", (1, 1, 2, 2)),
    "res2a_branch2c": ("conv2_block1_3_conv", "conv", (1, 1, 2, 2)),
    "res2a_branch1": ("conv2_block1_0_conv", "conv", (1, 1, 2, 2)),
    "bn2a_branch1": ("conv2_block1_0_bn", "bn", (2,)),
    "res5c_branch2c": ("conv5_block3_3_conv", "conv", (1, 1, 2, 2)),
    "bn4f_branch2b": ("conv4_block6_2_bn", "bn", (2,)),
    "fc1000": ("fc1000", "dense", (2, 3)),
}
old_values = {}
offset = 0.0
with h5py.File(path("resnet_old_names.h5"), "w") as f:
    f.attrs["model_config"] = b"{}"
    mw = f.create_group("model_weights")
    names = list(old)
    mw.attrs["layer_names0"] = bytes_array(names[:5])
    mw.attrs["layer_names1"] = bytes_array(names[5:])
    mw.attrs["backend"] = b"tensorflow"
    mw.attrs["keras_version"] = b"2.1.2"
    for name, (current, kind, shape) in old.items():
        g = mw.create_group(name)
        if kind == "bn":
            roles = ["gamma", "beta", "moving_mean", "moving_variance"]
            shapes = [shape] * 4
        else:
            roles = ["kernel", "bias"]
            shapes = [shape, (shape[-1],)]
        arrays = {}
        for role, s in zip(roles, shapes):
            offset += 1.0
            arrays[role] = known(s, offset, 0.5 if role == "moving_variance" else 0.01)
        old_values[current] = arrays
        wnames = [f"{name}/{role}:0" for role in roles]
        if name == "bn4f_branch2b":  # split weight_names too
            g.attrs["weight_names0"] = bytes_array(wnames[:2])
            g.attrs["weight_names1"] = bytes_array(wnames[2:])
        else:
            g.attrs["weight_names"] = bytes_array(wnames)
        for wname, role in zip(wnames, roles):
            g.create_dataset(wname, data=arrays[role])

with open(path("resnet_old_names.json"), "w") as f:
    json.dump(to_json(old_values), f, indent=1)
    f.write("\n")

for name in sorted(os.listdir(HERE)):
    print(f"{os.path.getsize(path(name)):8d}  {name}")

# ---------------------------------------------------------------------------------------------
# Keras 3 releases before layer names were stored in native files: the same file without the
# `name` attributes of the `vars` groups (groups stay named by class: conv2d, dense, ...).
import shutil  # noqa: E402

shutil.copy(path("tiny.weights.h5"), path("tiny_unnamed.weights.h5"))
with h5py.File(path("tiny_unnamed.weights.h5"), "a") as f:
    def strip(name, obj):
        if isinstance(obj, h5py.Group) and "name" in obj.attrs:
            del obj.attrs["name"]
    f.visititems(strip)
    if "name" in f["vars"].attrs:
        del f["vars"].attrs["name"]
print(f"{os.path.getsize(path('tiny_unnamed.weights.h5')):8d}  tiny_unnamed.weights.h5")

# Early Keras 3 files could hold the layers under `_layer_checkpoint_dependencies` instead of
# `layers`: the same file with the group moved.
shutil.copy(path("tiny.weights.h5"), path("tiny_checkpoint_deps.weights.h5"))
with h5py.File(path("tiny_checkpoint_deps.weights.h5"), "a") as f:
    f.move("layers", "_layer_checkpoint_dependencies")
print(f"{os.path.getsize(path('tiny_checkpoint_deps.weights.h5')):8d}  tiny_checkpoint_deps.weights.h5")
