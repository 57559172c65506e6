"""How close generated images come to the training set, against unseen real images.

usage: memorisation.py TRAIN.hdf5 TEST.hdf5 SAMPLES.npz [SAMPLES.npz ...]

For each image, the L2 distance (pixels in [0, 1]) to its nearest training image. Real test
images, which G never saw copies of, set the scale: a generator that copies its training set
puts many samples closer to a training image than almost any test image is (the first 1,000
test images set that scale). HDF5 files hold images under 'imgs' and npz files under 'x', as
`biggan prepare-data` and `biggan sample` write them. Prints one JSON line per samples file:
the median distance, and the shares of samples closer than the test images' 10th and 1st
percentiles (about 0.10 and 0.01 for a generator that does not copy).
"""
import json
import sys
import zipfile

import h5py
import numpy as np


def images(array):
    x = np.asarray(array)
    flat = x.reshape(len(x), -1).astype(np.float32)
    return flat / 255.0 if x.dtype == np.uint8 else (flat + 1.0) / 2.0


def read(path, key, limit=None):
    """The array `key` (its first `limit` rows) of an HDF5 or npz file, or exit 1 naming the file
    and what was expected."""
    kind = 'npz' if path.endswith('.npz') else 'HDF5'
    try:
        if kind == 'npz':
            with np.load(path) as z:
                names = z.files
                array = z[key][:limit] if key in names else None
        else:
            with h5py.File(path, 'r') as f:
                names = list(f.keys())
                array = f[key][:limit] if key in names else None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        sys.exit(f'{path}: cannot be read as an {kind} file ({e})')
    if array is None:
        sys.exit(f"{path}: no '{key}' in this {kind} file (it holds {', '.join(names) or 'nothing'})")
    if len(array) == 0:
        sys.exit(f"{path}: '{key}' holds no images")
    return array


def nearest(queries, train, chunk=256):
    train_sq = (train ** 2).sum(1)
    out = []
    for i in range(0, len(queries), chunk):
        q = queries[i:i + chunk]
        d2 = (q ** 2).sum(1)[:, None] - 2.0 * q @ train.T + train_sq[None, :]
        out.append(np.sqrt(np.maximum(d2.min(1), 0.0)))
    return np.concatenate(out)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    train_path, test_path, *sample_paths = sys.argv[1:]
    train = images(read(train_path, 'imgs'))
    test = images(read(test_path, 'imgs', limit=1000))
    if test.shape[1] != train.shape[1]:
        sys.exit(f'{test_path}: images of {test.shape[1]} values each, training images of {train.shape[1]}')
    test_d = nearest(test, train)
    p10, p1 = np.percentile(test_d, 10), np.percentile(test_d, 1)
    for path in sample_paths:
        samples = images(read(path, 'x'))
        if samples.shape[1] != train.shape[1]:
            sys.exit(f'{path}: samples of {samples.shape[1]} values each, training images of {train.shape[1]}')
        d = nearest(samples, train)
        print(json.dumps({'samples': path, 'count': len(d), 'median_distance': round(float(np.median(d)), 3),
                          'test_median_distance': round(float(np.median(test_d)), 3),
                          'closer_than_test_p10': round(float((d < p10).mean()), 3),
                          'closer_than_test_p1': round(float((d < p1).mean()), 3)}))


if __name__ == '__main__':
    main()
