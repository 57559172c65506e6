"""Writes a small dataset exactly as BigGAN-PyTorch's make_hdf5.py lays it out (h5py, no
attributes, class-major order, chunks of 500 along N), optionally compressed as its
--compression does (lzf) or with gzip. usage: make_h5py_dataset.py OUT.hdf5 [none|lzf|gzip]

Image i has value (i * 7) % 256 at every pixel but the first column of each row, which holds
noise seeded by i (so that compression has something to do); label i // 16 (64 images, 4
classes, 16 px)."""
import sys

import h5py
import numpy as np

n, res = 64, 16
compression = sys.argv[2] if len(sys.argv) > 2 else "none"
imgs = np.stack([np.full((3, res, res), (i * 7) % 256, dtype=np.uint8) for i in range(n)])
for i in range(n):
    imgs[i, :, :, 0] = np.random.default_rng(i).integers(0, 256, (3, res))
kw = {} if compression == "none" else {"compression": compression}
labels = np.arange(n, dtype=np.int64) // 16
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("imgs", data=imgs, dtype="uint8", maxshape=imgs.shape,
                     chunks=(min(500, n), 3, res, res), **kw)
    f.create_dataset("labels", data=labels, dtype="int64", maxshape=labels.shape, chunks=(min(500, n),), **kw)
