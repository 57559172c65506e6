"""Writes a small dataset exactly as BigGAN-PyTorch's make_hdf5.py lays it out (h5py, no
attributes, class-major order, chunks of 500 along N). usage: make_h5py_dataset.py OUT.hdf5

Image i is filled with (i * 7) % 256 and has label i // 16 (64 images, 4 classes, 16 px)."""
import sys

import h5py
import numpy as np

n, res = 64, 16
imgs = np.stack([np.full((3, res, res), (i * 7) % 256, dtype=np.uint8) for i in range(n)])
labels = np.arange(n, dtype=np.int64) // 16
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("imgs", data=imgs, dtype="uint8", maxshape=imgs.shape,
                     chunks=(min(500, n), 3, res, res))
    f.create_dataset("labels", data=labels, dtype="int64", maxshape=labels.shape, chunks=(min(500, n),))
