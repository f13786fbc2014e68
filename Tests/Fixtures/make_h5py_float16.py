"""weights/h5py_float16.h5: float16 datasets as h5py writes them, for HDF5Tests/Float16Tests.

    /work/venv-keras/bin/python Tests/Fixtures/make_h5py_float16.py

`half` (3, 4) float16 in chunks of one row and growable (like finetune's block-input cache),
`bits` the same values' IEEE binary16 bit patterns as uint16, so the test can check bits exactly.
Values: exact halves, the largest finite (65504), the smallest subnormal (2^-24), a value that
rounds (0.1), a negative zero and infinity.
"""

from pathlib import Path

import h5py
import numpy as np

values = np.array([[1, -2.5, 65504, 2.0 ** -24], [0.1, -0.0, np.inf, 3.140625],
                   [1e-3, -1e4, 0.5, 2048.5]], dtype=np.float16)
path = Path(__file__).resolve().parent / "weights" / "h5py_float16.h5"
with h5py.File(path, "w", track_order=False) as f:
  f.create_dataset("half", data=values, chunks=(1, 4), maxshape=(None, 4))
  f.create_dataset("bits", data=values.view(np.uint16))
print(f"wrote {path}: {values.tolist()}")
