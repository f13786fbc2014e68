#!/usr/bin/env python3
"""Writes the ImageIO golden fixtures: small JPEG/PNG files in every variant Headstart reads,
and what Pillow makes of them, exactly as `keras.utils.load_img` + `img_to_array` would.

Run from anywhere with a Python that has Pillow and numpy (scikit-image optional, for real
photographs):  python make_pillow_fixtures.py
Outputs (next to this script):
  src/*.jpg, src/*.png      the images to decode (PNGs mostly written by the tiny encoder
                            below, because Pillow cannot write interlaced or arbitrary
                            16-bit/low-bit-depth PNGs)
  rgb/*.rgb                 raw uint8 (H, W, 3) arrays: Pillow's open().convert('RGB'),
                            resize outputs, exif_transpose outputs
  bad/*                     files Pillow refuses (empty, truncated, corrupt CRC, not an image,
                            pixel bomb)
  manifest.json             what each file is and what is expected of it
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
RESAMPLE = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}


def photo(name, size):
    """A real photograph (scikit-image's bundled ones) cropped and shrunk to `size` (w, h);
    a smooth synthetic picture when scikit-image is absent."""
    try:
        import skimage.data

        arr = getattr(skimage.data, name)()
        im = Image.fromarray(arr)
    except Exception:  # pragma: no cover - fallback only
        h, w = 300, 400
        yy, xx = np.mgrid[0:h, 0:w]
        arr = np.stack([xx * 255 // w, yy * 255 // h, (xx ^ yy) & 255], -1).astype(np.uint8)
        im = Image.fromarray(arr)
    w, h = size
    # Center crop to the aspect ratio, then a BICUBIC shrink (any detail is fine).
    W, H = im.size
    if W * h > H * w:
        cw = H * w // h
        im = im.crop(((W - cw) // 2, 0, (W - cw) // 2 + cw, H))
    else:
        ch = W * h // w
        im = im.crop((0, (H - ch) // 2, W, (H - ch) // 2 + ch))
    return np.asarray(im.resize(size, Image.BICUBIC))


def synthetic(w, h, seed):
    """Gradients plus noise: exercises every byte value and sharp edges."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1), (xx * yy) % 256], -1)
    noise = rng.integers(-40, 41, (h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


# ---- a tiny PNG encoder (filter type 0, optional Adam7) -------------------------------------
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_rows(samples, bit_depth):
    """samples: (h, w, c) integer array -> list of packed row bytes."""
    h, w, c = samples.shape
    rows = []
    for y in range(h):
        flat = samples[y].reshape(-1)
        if bit_depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            per = 8 // bit_depth
            out = bytearray((len(flat) * bit_depth + 7) // 8)
            for i, v in enumerate(flat):
                out[i // per] |= int(v) << (8 - bit_depth * (i % per + 1))
            rows.append(bytes(out))
    return rows


def encode_png(samples, bit_depth, color_type, interlace=False, extra_before=(), extra_after=()):
    if samples.ndim == 2:
        samples = samples[:, :, None]
    h, w, _ = samples.shape
    raw = b""
    if not interlace:
        raw = b"".join(b"\0" + r for r in pack_rows(samples, bit_depth))
    else:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            raw += b"".join(b"\0" + r for r in pack_rows(sub, bit_depth))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, data in extra_before:
        out += chunk(kind, data)
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    for kind, data in extra_after:
        out += chunk(kind, data)
    return out + chunk(b"IEND", b"")


def exif_orientation(value, big_endian):
    """A minimal TIFF/EXIF block: IFD0 with one Orientation (0x0112, SHORT) entry."""
    e = ">" if big_endian else "<"
    head = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHI", 0x0112, 3, 1)
    ifd += struct.pack(e + "H", value) + b"\0\0" + struct.pack(e + "I", 0)
    return head + ifd


# ---- the fixture set ------------------------------------------------------------------------
manifest = {"pillow": Image.__version__, "decode": [], "resize": [], "exif": [], "bad": []}


def save_rgb(name, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    assert arr.ndim == 3 and arr.shape[2] == 3
    with open(os.path.join(HERE, "rgb", name), "wb") as f:
        f.write(arr.tobytes())
    return name


def pillow_rgb(data):
    """What Keras' load_img(color_mode='rgb') hands to resize: open + convert('RGB')."""
    im = Image.open(io.BytesIO(data))
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im


def add_source(name, data, note):
    with open(os.path.join(HERE, "src", name), "wb") as f:
        f.write(data)
    im = pillow_rgb(data)
    arr = np.asarray(im)
    stem = name.replace(".", "_")
    manifest["decode"].append({"file": "src/" + name, "expected": save_rgb(stem + ".rgb", arr),
                               "width": im.size[0], "height": im.size[1], "note": note})
    return arr


def jpeg_bytes(arr_or_im, **kw):
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", **kw)
    return buf.getvalue()


def pil_png_bytes(im, **kw):
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def main():
    for sub in ("src", "rgb", "bad"):
        os.makedirs(os.path.join(HERE, sub), exist_ok=True)
        for f in os.listdir(os.path.join(HERE, sub)):
            os.remove(os.path.join(HERE, sub, f))

    astro = photo("astronaut", (128, 96))
    chelsea = photo("chelsea", (150, 100))
    coffee = photo("coffee", (60, 40))
    synth = synthetic(64, 48, 1)

    # JPEG variants (Pillow's encoder; its bundled libjpeg-turbo).
    j = {}
    j["astro_420"] = add_source("astro_420.jpg", jpeg_bytes(astro, quality=90), "baseline 4:2:0")
    add_source("astro_444.jpg", jpeg_bytes(astro, quality=95, subsampling=0), "baseline 4:4:4")
    add_source("astro_422.jpg", jpeg_bytes(astro, quality=85, subsampling=1), "baseline 4:2:2")
    add_source("astro_progressive.jpg", jpeg_bytes(astro, quality=90, progressive=True),
               "progressive 4:2:0")
    j["chelsea"] = add_source("chelsea_420.jpg", jpeg_bytes(chelsea, quality=75), "baseline 4:2:0")
    add_source("odd_37x29.jpg", jpeg_bytes(synthetic(37, 29, 2), quality=80),
               "odd size, partial MCUs")
    add_source("gray.jpg", jpeg_bytes(Image.fromarray(astro).convert("L"), quality=90),
               "grayscale")
    cmyk = Image.fromarray(chelsea[:64, :80]).convert("CMYK")
    cmyk_data = jpeg_bytes(cmyk, quality=90)
    assert b"Adobe" in cmyk_data
    add_source("cmyk_adobe.jpg", cmyk_data, "Adobe CMYK (stored inverted)")
    add_source("rgb_no_ycc.jpg", jpeg_bytes(astro[:48, :64], quality=90, keep_rgb=True),
               "RGB components (Adobe transform 0), no YCbCr")
    add_source("q100_444.jpg", jpeg_bytes(astro[:48, :64], quality=100, subsampling=0),
               "quality 100, 4:4:4")
    restart = jpeg_bytes(astro, quality=90, restart_marker_blocks=4)
    add_source("astro_restart.jpg", restart, "restart markers")

    # PNG variants.
    g8 = (astro[..., 0].astype(int) * 3 + astro[..., 1].astype(int) * 5) // 8
    g8 = g8[:48, :64].astype(np.uint8)
    add_source("rgb8.png", pil_png_bytes(Image.fromarray(synth)), "RGB 8-bit (Pillow writer)")
    add_source("gray8.png", pil_png_bytes(Image.fromarray(g8)), "gray 8-bit (Pillow writer)")
    rgba = np.dstack([synth, synthetic(64, 48, 3)[..., 0]])
    add_source("rgba8.png", pil_png_bytes(Image.fromarray(rgba, "RGBA")), "RGBA 8-bit")
    la = np.dstack([g8, 255 - g8])
    add_source("la8.png", encode_png(la, 8, 4), "gray+alpha 8-bit")
    for bits in (1, 2, 4):
        v = (g8.astype(int) >> (8 - bits))
        add_source(f"gray{bits}.png", encode_png(v, bits, 0), f"gray {bits}-bit")
    g16 = (g8.astype(np.uint32) * 257 // 3).astype(np.uint16)
    g16[::7, ::5] = np.arange(g16[::7, ::5].size).reshape(g16[::7, ::5].shape) * 37  # small ones
    add_source("gray16.png", encode_png(g16, 16, 0), "gray 16-bit (Pillow I;16, clips to 255)")
    rgb16 = synth.astype(np.uint16) * 257 + np.random.default_rng(4).integers(0, 256, synth.shape)
    add_source("rgb16.png", encode_png(rgb16.astype(np.uint16), 16, 2), "RGB 16-bit")
    rgba16 = np.dstack([rgb16, rgb16[..., :1]]).astype(np.uint16)
    add_source("rgba16.png", encode_png(rgba16, 16, 6), "RGBA 16-bit")
    la16 = np.dstack([g16, g16]).astype(np.uint16)
    add_source("la16.png", encode_png(la16, 16, 4), "gray+alpha 16-bit")
    # Palettes: 8-bit with a short palette (indices past its end read as black in Pillow),
    # 4-bit with a tRNS chunk.
    pal = np.random.default_rng(5).integers(0, 256, (200, 3)).astype(np.uint8)
    idx8 = np.asarray(synth[..., 0], dtype=np.uint8) // 1  # 0..255, some past 200
    add_source("palette8.png", encode_png(idx8, 8, 3, extra_before=[(b"PLTE", pal.tobytes())]),
               "palette 8-bit, indices beyond the palette")
    idx4 = synth[..., 1] >> 4
    trns = bytes(range(0, 256, 16))
    add_source("palette4_trns.png",
               encode_png(idx4, 4, 3, extra_before=[(b"PLTE", pal[:16].tobytes()),
                                                    (b"tRNS", trns)]),
               "palette 4-bit with tRNS")
    add_source("gray8_trns.png", encode_png(g8, 8, 0, extra_before=[(b"tRNS", b"\0\x80")]),
               "gray with tRNS (ignored by convert)")
    add_source("rgb8_interlaced.png", encode_png(synthetic(37, 29, 6), 8, 2, interlace=True),
               "RGB Adam7, odd size")
    add_source("palette2_interlaced.png",
               encode_png(synth[..., 2] >> 6, 2, 3, interlace=True,
                          extra_before=[(b"PLTE", pal[:4].tobytes())]),
               "palette 2-bit Adam7")
    add_source("rgba16_interlaced.png", encode_png(rgba16[:13, :11], 16, 6, interlace=True),
               "RGBA 16-bit Adam7, tiny")

    # A typical photo size for the decode+resize timing test (no expected pixels: too big).
    perf = jpeg_bytes(photo("chelsea", (500, 375)), quality=85)
    with open(os.path.join(HERE, "src", "perf_500x375.jpg"), "wb") as f:
        f.write(perf)
    manifest["perf"] = "src/perf_500x375.jpg"

    # Resize: Pillow's Image.resize((w, h), resample) on the RGB image, as Keras calls it.
    # (20, 140) and (5, 80) shrink the height much more than the width, where Pillow runs the
    # vertical pass first; (7, 300) does that while enlarging the width.
    cases = [
        ("astro_420", j["astro_420"], [(224, 224), (48, 64), (53, 37), (15, 20)]),
        ("chelsea", j["chelsea"], [(48, 64), (53, 37), (7, 300), (20, 140)]),
        ("synth", synth, [(48, 64), (53, 37), (100, 31), (1, 1), (5, 80)]),
        ("coffee", coffee, [(53, 37)]),
    ]
    for stem, arr, sizes in cases:
        src_name = save_rgb(f"{stem}_src.rgb", arr)
        for (h, w) in sizes:
            for interp, resample in RESAMPLE.items():
                im = Image.fromarray(arr)
                out = im if im.size == (w, h) else im.resize((w, h), resample)
                name = save_rgb(f"{stem}_{interp}_{h}x{w}.rgb", np.asarray(out))
                manifest["resize"].append({"source": src_name, "srcWidth": arr.shape[1],
                                           "srcHeight": arr.shape[0], "height": h, "width": w,
                                           "interpolation": interp, "expected": name})

    # A wider sweep stored as CRC-32s of Pillow's output (raw bytes would be too big):
    # random targets, each axis shrunk, kept or enlarged, both pass orders.
    rng = np.random.default_rng(12)
    manifest["resizeSweep"] = []
    for stem, arr in [("synth", synth), ("chelsea", j["chelsea"]), ("astro_420", j["astro_420"])]:
        H, W = arr.shape[:2]
        for case in range(40):
            w = int(rng.integers(1, 121)) if case % 8 else W
            h = int(rng.integers(1, 121)) if case % 8 != 3 else H
            for interp, resample in RESAMPLE.items():
                im = Image.fromarray(arr)
                out = im if im.size == (w, h) else im.resize((w, h), resample)
                manifest["resizeSweep"].append(
                    {"source": f"{stem}_src.rgb", "srcWidth": W, "srcHeight": H, "height": h,
                     "width": w, "interpolation": interp,
                     "crc32": zlib.crc32(np.asarray(out).tobytes())})

    # EXIF orientation: JPEG (little- and big-endian TIFF) and PNG eXIf.
    base = Image.fromarray(coffee)
    for orient, big, fmt in [(6, False, "jpg"), (3, True, "jpg"), (8, True, "jpg"),
                             (5, False, "jpg"), (2, False, "png"), (7, True, "png")]:
        exif = exif_orientation(orient, big)
        name = f"exif{orient}_{'be' if big else 'le'}.{fmt}"
        if fmt == "jpg":
            data = jpeg_bytes(base, quality=90, exif=b"Exif\0\0" + exif)
        else:
            data = encode_png(coffee, 8, 2, extra_before=[(b"eXIf", exif)])
        with open(os.path.join(HERE, "src", name), "wb") as f:
            f.write(data)
        im = Image.open(io.BytesIO(data))
        assert im.getexif().get(0x0112) == orient, name
        plain = np.asarray(im.convert("RGB"))
        turned = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        stem = name.replace(".", "_")
        manifest["exif"].append({"file": "src/" + name, "orientation": orient,
                                 "ignored": save_rgb(stem + "_ignore.rgb", plain),
                                 "applied": save_rgb(stem + "_apply.rgb", turned),
                                 "appliedWidth": turned.shape[1],
                                 "appliedHeight": turned.shape[0]})

    # The real thing: keras.utils.load_img + img_to_array on whole files (CRC-32 of the uint8
    # array), when Keras is installed; otherwise the same steps spelled out with Pillow.
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras.utils import img_to_array, load_img

        def keras_pixels(path, h, w, interp):
            arr = img_to_array(load_img(path, target_size=(h, w), interpolation=interp))
            return arr.astype(np.uint8), "keras"
    except Exception:  # pragma: no cover - Keras absent
        def keras_pixels(path, h, w, interp):
            im = pillow_rgb(open(path, "rb").read())
            if im.size != (w, h):
                im = im.resize((w, h), RESAMPLE[interp])
            return np.asarray(im), "pillow"
    manifest["keras"] = []
    for name, h, w in [("perf_500x375.jpg", 224, 224), ("perf_500x375.jpg", 300, 200),
                       ("cmyk_adobe.jpg", 224, 224), ("rgba16.png", 224, 224),
                       ("palette2_interlaced.png", 31, 97), ("exif6_le.jpg", 48, 64)]:
        for interp in RESAMPLE:
            arr, via = keras_pixels(os.path.join(HERE, "src", name), h, w, interp)
            assert arr.shape == (h, w, 3)
            manifest["keras"].append({"file": "src/" + name, "height": h, "width": w,
                                      "interpolation": interp, "via": via,
                                      "crc32": zlib.crc32(arr.tobytes())})

    # Bad files, each with the kind of reason we expect; check that Pillow refuses them too.
    good_jpg = jpeg_bytes(astro, quality=90)
    good_png = encode_png(synth, 8, 2)
    idat = good_png.index(b"IDAT")
    bad_crc = bytearray(good_png)
    bad_crc[29] ^= 0xFF  # IHDR's CRC (8 signature + 4 length + 4 type + 13 data)
    bomb = encode_png(np.zeros((1, 1), np.uint8), 8, 0)
    bomb = bytearray(bomb)
    bomb[16:24] = struct.pack(">II", 20000, 20000)
    bomb[29:33] = struct.pack(">I", zlib.crc32(bytes(bomb[12:29])))
    bad = [
        ("empty.jpg", b"", "empty file"),
        ("truncated.jpg", good_jpg[: len(good_jpg) // 2], "truncated JPEG"),
        ("truncated_header.jpg", good_jpg[:300], "truncated JPEG"),
        ("truncated.png", good_png[: idat + 200], "truncated PNG"),
        ("bad_crc.png", bytes(bad_crc), "CRC error"),
        ("text.jpg", b"this is not an image, just some text\n", "unrecognised image format"),
        ("bomb.png", bytes(bomb), "exceeds the limit"),
    ]
    for name, data, reason in bad:
        with open(os.path.join(HERE, "bad", name), "wb") as f:
            f.write(data)
        try:
            pillow_rgb(data).load()
            pillow_error = None
        except Exception as e:  # noqa: BLE001 - any refusal is what we want to see
            pillow_error = f"{type(e).__name__}: {e}"
        assert pillow_error is not None, f"Pillow accepted {name}"
        manifest["bad"].append({"file": "bad/" + name, "reason": reason, "pillow": pillow_error})

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(HERE)
                for fn in fns)
    print(f"wrote {len(manifest['decode'])} decode, {len(manifest['resize'])} resize, "
          f"{len(manifest['exif'])} exif, {len(manifest['bad'])} bad fixtures; {total} bytes")


if __name__ == "__main__":
    main()
