# Writes the tiny .npy and .npz seeds of the FuzzArrays target (Fuzz/Seeds/arrays) with numpy, as
# keras.datasets users save arrays. Run once: python Fuzz/Seeds/make_array_seeds.py
import os
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arrays")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
x = rng.integers(0, 256, size=(3, 2, 2, 3), dtype=np.uint8)
np.save(os.path.join(out, "rgb.npy"), x)
np.save(os.path.join(out, "gray.npy"), x[..., 0])
np.save(os.path.join(out, "labels-int64.npy"), np.array([0, 2, 1], dtype=np.int64))
np.save(os.path.join(out, "onehot-float32.npy"), np.eye(3, dtype=np.float32))
np.savez(os.path.join(out, "stored.npz"), x=x, y=np.array([[0], [2], [1]], dtype=np.uint8))
np.savez_compressed(os.path.join(out, "deflated.npz"), x_train=x, y_train=np.eye(3, dtype=np.float64))
