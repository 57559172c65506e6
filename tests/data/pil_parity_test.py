"""prepare-data --source imagefolder against PIL and BigGAN-PyTorch, pixel for pixel.

usage: pil_parity_test.py BIGGAN_BINARY SHARED_DIR WORK_DIR

Makes an ImageFolder of images in many formats, modes and sizes, prepares it at 32, 64 and 128
px without shuffling, and requires:
  * the file order and labels of BigGAN-PyTorch's own ImageFolder walk (its datasets.py from
    SHARED_DIR/reference/bp-bench when present, else the same rules written here);
  * every stored pixel equal to PIL + torchvision (CenterCropLongEdge, Resize) on
    Image.open(f).convert('RGB');
  * with --biggan-pytorch-bytes, every byte equal to BigGAN-PyTorch's make_hdf5 chain
    (ToTensor, Normalize, (255 * ((x + 1) / 2)).byte());
  * files PIL cannot read, and damaged files, skipped.
Exit 77 (skip) when PIL, torchvision, torch or h5py are missing.
"""
import importlib.util
import io
import os
import shutil
import struct
import subprocess
import sys
import types
import zlib

try:
    import h5py
    import numpy as np
    import torch
    import torchvision.transforms as T
    import torchvision.transforms.functional as F
    from PIL import Image
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e} (apt-get install python3-pil python3-torchvision python3-h5py)")
    sys.exit(77)

binary, shared, work = sys.argv[1], sys.argv[2], sys.argv[3]
rng = np.random.default_rng(1234)


def photo(w, h, channels=3):
    """Smooth structure plus noise: resampling errors show up at edges and in gradients."""
    yy, xx = np.mgrid[0:h, 0:w]
    planes = [(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx * 7 + yy * 3) % 256)]
    planes.append(((xx // 3 + yy // 5) % 2) * 200)
    base = np.stack(planes[:channels], -1).astype(np.float64)
    img = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(samples, bit_depth, color_type, palette=None):
    """A PNG PIL cannot write itself (16-bit colour, 2-bit grey): rows of samples, filter 0."""
    h, w = samples.shape[:2]
    per_pixel = samples.reshape(h, w, -1)
    rows = []
    for y in range(h):
        if bit_depth == 16:
            row = per_pixel[y].astype(">u2").tobytes()
        elif bit_depth == 8:
            row = per_pixel[y].astype(np.uint8).tobytes()
        else:
            bits = "".join(format(int(v), f"0{bit_depth}b") for v in per_pixel[y].ravel())
            bits += "0" * (-len(bits) % 8)
            row = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
        rows.append(b"\0" + row)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(palette))
    return out + png_chunk(b"IDAT", zlib.compress(b"".join(rows))) + png_chunk(b"IEND", b"")


def bmp(pixels_bgr_rows, bits, width, height, masks=None, top_down=False):
    """A BMP with a 40-byte header (plus bitfield masks); rows given bottom-up unless top_down."""
    stride = ((width * bits + 31) >> 3) & ~3
    data = b"".join(r + b"\0" * (stride - len(r)) for r in pixels_bgr_rows)
    extra = b"" if masks is None else b"".join(struct.pack("<I", m) for m in masks)
    offset = 14 + 40 + len(extra)
    header = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, bits,
                         0 if masks is None else 3, len(data), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + header + extra + data


def save(img, path, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, **kw)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def make_folder(root):
    shutil.rmtree(root, ignore_errors=True)
    a, b, c = f"{root}/apple", f"{root}/banana split", f"{root}/cherry"
    # JPEG: sizes both ways non-square, tiny, huge; subsampling, progressive, grey, CMYK.
    for i, (w, h) in enumerate([(500, 375), (375, 500), (333, 500), (64, 64), (31, 17), (7, 5), (4032, 3025)]):
        save(Image.fromarray(photo(w, h)), f"{a}/rgb_{i}.jpg", quality=int(rng.integers(60, 98)))
    save(Image.fromarray(photo(257, 190)), f"{a}/sub444.JPEG", quality=92, subsampling=0)
    save(Image.fromarray(photo(190, 257)), f"{a}/sub422.jpeg", quality=85, subsampling=1)
    save(Image.fromarray(photo(300, 211)), f"{a}/progressive.jpg", quality=80, progressive=True)
    save(Image.fromarray(photo(211, 150, 1), "L"), f"{a}/grey.jpg", quality=90)
    save(Image.fromarray(photo(160, 123, 4), "CMYK"), f"{a}/cmyk.jpg", quality=90)
    # A JPEG without its end marker and one cut in the middle: PIL refuses both as truncated.
    buf = io.BytesIO()
    Image.fromarray(photo(120, 90)).save(buf, "JPEG", quality=90)
    write(f"{a}/no_eoi.jpg", buf.getvalue()[:-2])
    write(f"{a}/truncated.jpg", buf.getvalue()[: len(buf.getvalue()) // 2])
    # PNG: every mode PIL writes, and raw ones it does not.
    save(Image.fromarray(photo(200, 150)), f"{b}/rgb.png")
    save(Image.fromarray(photo(150, 200, 1), "L"), f"{b}/grey.png")
    save(Image.fromarray(photo(99, 77, 4), "RGBA"), f"{b}/rgba.png")
    save(Image.fromarray(photo(77, 99, 2), "LA"), f"{b}/la.png")
    save(Image.fromarray(photo(180, 120)).quantize(64), f"{b}/palette.png")
    pal = Image.fromarray(photo(120, 180)).quantize(16)
    save(pal, f"{b}/palette_trns.png", transparency=3)
    save(Image.fromarray(photo(64, 48, 1) > 128).convert("1"), f"{b}/bitmap.png")
    save(Image.fromarray((photo(90, 70, 1).astype(np.uint16) * 257)), f"{b}/grey16.png")
    write(f"{b}/rgb16.png", raw_png(rng.integers(0, 65536, (70, 90, 3)), 16, 2))
    write(f"{b}/rgba16.png", raw_png(rng.integers(0, 65536, (50, 40, 4)), 16, 6))
    write(f"{b}/grey2.png", raw_png(rng.integers(0, 4, (33, 45)), 2, 0))
    write(f"{b}/grey4.png", raw_png(rng.integers(0, 16, (45, 33)), 4, 0))
    write(f"{b}/pal4.png", raw_png(rng.integers(0, 12, (40, 52)), 4, 3, rng.integers(0, 256, 36)))
    write(f"{b}/one_pixel.png", raw_png(np.array([[[10, 200, 30]]]), 8, 2))
    save(Image.fromarray(photo(3, 40)), f"{b}/thin.png")
    save(Image.fromarray(photo(40, 3)), f"{b}/flat.png")
    # A flipped bit in the image data.
    good = io.BytesIO()
    Image.fromarray(photo(64, 64)).save(good, "PNG")
    damaged = bytearray(good.getvalue())
    damaged[damaged.find(b"IDAT") + 40] ^= 0x10
    write(f"{b}/damaged.png", bytes(damaged))
    # BMP, PPM/PGM/PBM; nested folders whose walk order differs from a path sort.
    save(Image.fromarray(photo(101, 66)), f"{c}/rgb.bmp")
    save(Image.fromarray(photo(66, 101)).quantize(200), f"{c}/palette.bmp")
    save(Image.fromarray(photo(50, 40, 1), "L"), f"{c}/grey.BMP")
    no_offset = bytearray(open(f"{c}/palette.bmp", "rb").read())
    no_offset[10:14] = b"\0\0\0\0"  # no pixel offset: the pixels follow the palette
    write(f"{c}/palette_no_offset.bmp", bytes(no_offset))
    save(Image.fromarray(photo(41, 29, 1) > 100).convert("1"), f"{c}/bitmap.bmp")
    px = photo(37, 23)
    write(f"{c}/bgrx32.bmp", bmp([bytes(px[y][:, ::-1].astype(np.uint8).tobytes()) for y in range(22, -1, -1)], 24, 37, 23))
    v16 = rng.integers(0, 65536, (21, 30)).astype("<u2")
    write(f"{c}/rgb555.bmp", bmp([v16[y].tobytes() for y in range(21)], 16, 30, 21, top_down=True))
    write(f"{c}/rgb565.bmp", bmp([v16[y].tobytes() for y in range(21)], 16, 30, 21, masks=(0xF800, 0x7E0, 0x1F)))
    x32 = rng.integers(0, 256, (19, 26, 4)).astype(np.uint8)
    write(f"{c}/bgra32.bmp", bmp([x32[y].tobytes() for y in range(19)], 32, 26, 19))
    save(Image.fromarray(photo(88, 61)), f"{c}/rgb.ppm")
    save(Image.fromarray(photo(61, 88, 1), "L"), f"{c}/grey.pgm")
    deep = rng.integers(0, 1001, (25, 31, 3))
    write(f"{c}/maxval1000.ppm", b"P6\n# deep\n31 25\n1000\n" + deep.astype(">u2").tobytes())
    small = rng.integers(0, 16, (20, 24))
    write(f"{c}/maxval15.pgm", b"P5 24 20 15\n" + small.astype(np.uint8).tobytes())
    g16 = rng.integers(0, 65536, (22, 18))
    write(f"{c}/maxval65535.pgm", b"P5\n18 22\n65535\n" + g16.astype(">u2").tobytes())
    plain = rng.integers(0, 8, (9, 12, 3))
    write(f"{c}/plain.ppm", b"P3\n12 9\n7\n" + " ".join(str(int(v)) for v in plain.ravel()).encode() + b"\n")
    write(f"{c}/deeper/zz.png", open(f"{b}/rgb.png", "rb").read())
    write(f"{c}/deeper-still/a.jpg", open(f"{a}/rgb_3.jpg", "rb").read())
    write(f"{c}/deeper still/b.jpg", open(f"{a}/rgb_4.jpg", "rb").read())
    # "deeper/inner" sorts after "deeper still" as a string, before it component by component.
    write(f"{c}/deeper/inner/c.png", open(f"{b}/grey.png", "rb").read())
    os.symlink(f"{b}/rgba.png", f"{c}/linked.png")  # a link to a file is listed
    os.symlink(a, f"{c}/link_to_apple")  # os.walk does not descend into a link to a folder
    write(f"{c}/notes.txt", b"not an image")
    write(f"{c}/fake.jpg", b"this is text with an image's name")


def bp_walk(root):
    """BigGAN-PyTorch's find_classes + make_dataset, from its own datasets.py when present."""
    path = os.path.join(shared, "reference/bp-bench/BigGAN-PyTorch/datasets.py")
    if os.path.exists(path):
        stub = types.ModuleType("tqdm")
        stub.tqdm = lambda x, *a, **k: x
        stub.trange = range
        sys.modules.setdefault("tqdm", stub)
        spec = importlib.util.spec_from_file_location("bp_datasets", path)
        bp = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bp)
        classes, class_to_idx = bp.find_classes(root)
        print(f"order: BigGAN-PyTorch's datasets.py ({path})")
        return bp.make_dataset(root, class_to_idx)
    print("order: ../shared absent, BigGAN-PyTorch's walk rules as written in this test")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    exts = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm")
    out = []
    for i, cls in enumerate(classes):
        for r, _, fnames in sorted(os.walk(os.path.join(root, cls))):
            out += [(os.path.join(r, f), i) for f in sorted(fnames) if f.lower().endswith(exts)]
    return out


def pil_pixels(path, res):
    with open(path, "rb") as f:
        img = Image.open(f).convert("RGB")
    img = T.Resize(res)(F.center_crop(img, min(img.size)))  # CenterCropLongEdge, Resize
    return np.asarray(img).transpose(2, 0, 1)


def biggan_pytorch_bytes(path, res):
    with open(path, "rb") as f:
        img = Image.open(f).convert("RGB")
    chain = T.Compose([T.Lambda(lambda im: F.center_crop(im, min(im.size))), T.Resize(res), T.ToTensor(),
                       T.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])])
    x = chain(img)[None]
    return (255 * ((x + 1) / 2)).byte()[0].numpy()  # make_hdf5.py


def prepare(root, res, out, *extra):
    cmd = [binary, "prepare-data", "--source", "imagefolder", "--input", root, "--resolution", str(res),
           "--no-shuffle", "--progress", "none", "--output", out, *extra]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout, run.stderr)
        sys.exit(f"FAIL: {' '.join(cmd)} exited {run.returncode}")
    return run.stderr + run.stdout


def main():
    root = os.path.join(work, "folder")
    make_folder(root)
    walk = bp_walk(root)
    readable, refused_by_pil = [], []
    for path, label in walk:
        try:
            pil_pixels(path, 8)
            readable.append((path, int(label)))
        except Exception as e:  # noqa: BLE001 - PIL raises many types
            refused_by_pil.append(path)
            print(f"PIL refuses {os.path.relpath(path, root)}: {type(e).__name__}")
    expected = readable
    unreadable = ("no_eoi.jpg", "truncated.jpg", "damaged.png", "fake.jpg")
    assert sorted(os.path.basename(p) for p in refused_by_pil) == sorted(unreadable), refused_by_pil
    failures = 0
    for res in (32, 64, 128):
        for mode in ("pil", "biggan-pytorch"):
            out = os.path.join(work, f"prep_{res}_{mode}.hdf5")
            log = prepare(root, res, out, *(["--biggan-pytorch-bytes"] if mode != "pil" else []))
            assert f"skipping {len(unreadable)} unreadable image(s)" in log, log
            for skipped in unreadable:
                assert skipped in log, f"{skipped} not reported as skipped:\n{log}"
            with h5py.File(out, "r") as f:
                imgs, labels = f["imgs"][:], f["labels"][:]
            assert len(imgs) == len(expected), f"{len(imgs)} images stored, {len(expected)} expected:\n{log}"
            assert labels.tolist() == [l for _, l in expected], f"labels differ from BigGAN-PyTorch's walk"
            for i, (path, _) in enumerate(expected):
                want = pil_pixels(path, res) if mode == "pil" else biggan_pytorch_bytes(path, res)
                if not np.array_equal(imgs[i], want):
                    diff = np.abs(imgs[i].astype(int) - want.astype(int))
                    print(f"FAIL {res} px {mode}: {os.path.relpath(path, root)}: {np.mean(diff == 0):.1%} of pixels "
                          f"equal, max |diff| {diff.max()}")
                    failures += 1
            print(f"{res} px, {mode} values: {len(expected)} images compared")
    if failures:
        sys.exit(f"FAIL: {failures} image(s) differ")
    print(f"PASS: {len(expected)} images x 3 resolutions x 2 value conventions equal, byte for byte")


main()
