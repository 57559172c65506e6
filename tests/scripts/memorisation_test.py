"""scripts/memorisation.py: copies of training images are flagged, fresh images are not, and a
size mismatch, a missing or damaged file and a missing array are errors naming the file. Skips
(77) without h5py."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    print('skipped: /usr/bin/python3 has no h5py or numpy')
    sys.exit(77)

script = os.path.join(sys.argv[1], 'scripts', 'memorisation.py')
rng = np.random.default_rng(0)
with tempfile.TemporaryDirectory() as d:
    def dataset(name, imgs):
        with h5py.File(f'{d}/{name}', 'w') as f:
            f['imgs'] = imgs
        return f'{d}/{name}'
    train = rng.integers(0, 256, (200, 3, 8, 8), dtype=np.uint8)
    train_path = dataset('train.hdf5', train)
    test_path = dataset('test.hdf5', rng.integers(0, 256, (1000, 3, 8, 8), dtype=np.uint8))
    # Copies with a little noise, as a memorising G gives them, in G's [-1, 1] float range.
    copies = train[rng.integers(0, 200, 500)].astype(np.float32) / 127.5 - 1 + rng.normal(0, 0.01, (500, 3, 8, 8))
    np.savez(f'{d}/copies.npz', x=copies.astype(np.float32))
    np.savez(f'{d}/fresh.npz', x=rng.integers(0, 256, (500, 3, 8, 8), dtype=np.uint8))
    np.savez(f'{d}/wrong.npz', x=rng.integers(0, 256, (5, 3, 16, 16), dtype=np.uint8))
    out = subprocess.run([sys.executable, script, train_path, test_path, f'{d}/copies.npz', f'{d}/fresh.npz'],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    copied, fresh = (json.loads(line) for line in out)
    assert copied['closer_than_test_p1'] > 0.99, copied
    assert 0.05 < fresh['closer_than_test_p10'] < 0.16 and fresh['closer_than_test_p1'] < 0.04, fresh
    assert copied['median_distance'] < 0.1 * fresh['median_distance'], (copied, fresh)
    np.savez(f'{d}/unnamed.npz', y=np.zeros(3))
    open(f'{d}/junk.npz', 'w').write('not a zip')
    with h5py.File(f'{d}/labels_only.hdf5', 'w') as f:
        f['labels'] = np.zeros(3)
    dataset('empty.hdf5', np.zeros((0, 3, 8, 8), np.uint8))
    usage = subprocess.run([sys.executable, script, train_path], capture_output=True, text=True)
    assert usage.returncode == 2 and 'usage: memorisation.py TRAIN.hdf5 TEST.hdf5 SAMPLES.npz' in usage.stderr, usage
    for args, message in (
            ([train_path, test_path, f'{d}/wrong.npz'], 'wrong.npz: samples of 768 values each, training images of 192'),
            ([train_path, test_path, f'{d}/unnamed.npz'], "unnamed.npz: no 'x' in this npz file (it holds y)"),
            ([train_path, test_path, f'{d}/junk.npz'], 'junk.npz: cannot be read as an npz file'),
            ([train_path, test_path, f'{d}/absent.npz'], 'absent.npz: cannot be read as an npz file'),
            ([f'{d}/labels_only.hdf5', test_path, f'{d}/fresh.npz'],
             "labels_only.hdf5: no 'imgs' in this HDF5 file (it holds labels)"),
            ([f'{d}/empty.hdf5', test_path, f'{d}/fresh.npz'], "empty.hdf5: 'imgs' holds no images")):
        bad = subprocess.run([sys.executable, script] + args, capture_output=True, text=True)
        assert bad.returncode == 1 and message in bad.stderr and 'Traceback' not in bad.stderr, (message, bad)
print('memorisation: copies flagged, fresh images not, bad inputs named')
