#!/usr/bin/env python3
"""Writes the golden fixtures for ImageIO's TIFF, WebP and GIF decoders: small files of every
variant Headstart reads, and what Pillow makes of them, exactly as `keras.utils.load_img` +
`img_to_array` would (Image.open(...).convert('RGB')).

Run with a Python that has Pillow, numpy and tifffile (scikit-image optional, for real
photographs):  python make_tiff_webp_gif_fixtures.py
Pillow writes what it can; tifffile writes what Pillow cannot (tiles, 16-bit colour, CMYK
16-bit, separate planes, predictors, BigTIFF), with strips and tiles compressed by Pillow's own
libtiff where tifffile would need imagecodecs (LZW, PackBits, JPEG) and assembled by a tiny
TIFF writer below, which also covers the rest (sub-byte palettes, fill order 2, unusual extra samples), and tiny WebP and GIF
writers cover animations with offset frames, transparency and palettes Pillow's writers never
produce. Outputs (next to this script):
  src/*          the images to decode
  rgb/*.rgb      raw uint8 (H, W, 3) arrays: Pillow's open().convert('RGB')
  bad/*          files Pillow refuses too (truncated, garbage, pixel bombs, kinds it has no mode
                 for)
  refused/*      files Pillow reads but Headstart refuses (Docs/keras-parity.md lists why)
  manifest.json  what each file is and what is expected of it
"""
import io
import json
import os
import struct
import sys

import numpy as np
import tifffile
from PIL import Image, ImageOps, features

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pillow"))
from make_pillow_fixtures import photo, synthetic  # noqa: E402 - the shared test pictures

manifest = {"pillow": Image.__version__, "libtiff": features.version("libtiff"),
            "libwebp": features.version("webp"), "decode": [], "bad": [], "refused": []}


def save_rgb(name, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    assert arr.ndim == 3 and arr.shape[2] == 3
    with open(os.path.join(HERE, "rgb", name), "wb") as f:
        f.write(arr.tobytes())
    return name


def pillow_rgb(data):
    """What Keras' load_img(color_mode='rgb') hands to resize: open + convert('RGB'); also
    Pillow's mode and the opened image (loaded)."""
    opened = Image.open(io.BytesIO(data))
    mode = opened.mode
    im = opened.convert("RGB") if opened.mode != "RGB" else opened
    opened.load()
    return im, mode, opened


def add(name, data, note, tolerance=0):
    """A decode case: the file and Pillow's RGB. `tolerance` is the largest |difference| the
    test allows (0 unless the note says why not)."""
    assert name not in {e["file"][4:] for e in manifest["decode"]}, name
    with open(os.path.join(HERE, "src", name), "wb") as f:
        f.write(data)
    im, mode, opened = pillow_rgb(data)
    arr = np.asarray(im)
    stem = name.replace(".", "_")
    # The orientation Pillow still reports once the image is loaded (a TIFF's is applied and
    # dropped while loading), and what exif_transpose then makes of the image.
    orientation = opened.getexif().get(0x0112, 1)
    entry = {"file": "src/" + name, "expected": save_rgb(stem + ".rgb", arr),
             "width": im.size[0], "height": im.size[1],
             "note": f"{note} (Pillow mode {mode})", "tolerance": tolerance, "orientation": orientation}
    if orientation != 1:
        turned = ImageOps.exif_transpose(opened).convert("RGB")
        entry["applied"] = save_rgb(stem + "_apply.rgb", np.asarray(turned))
        entry["appliedWidth"], entry["appliedHeight"] = turned.size
    manifest["decode"].append(entry)
    return arr


def add_bad(name, data, reason):
    """A file Pillow refuses; Headstart must refuse it with `reason` in its message."""
    with open(os.path.join(HERE, "bad", name), "wb") as f:
        f.write(data)
    try:
        pillow_rgb(data)
        pillow_error = None
    except Exception as e:  # noqa: BLE001 - any refusal is what we want to see
        pillow_error = f"{type(e).__name__}: {e}"
    assert pillow_error is not None, f"Pillow accepted {name}"
    manifest["bad"].append({"file": "bad/" + name, "reason": reason, "pillow": pillow_error})


def add_refused(name, data, reason, note):
    """A file Pillow reads but Headstart refuses (Docs/keras-parity.md says why)."""
    with open(os.path.join(HERE, "refused", name), "wb") as f:
        f.write(data)
    pillow_rgb(data)  # Pillow must read it, or it belongs in bad/
    manifest["refused"].append({"file": "refused/" + name, "reason": reason, "note": note})


# ---- TIFF -----------------------------------------------------------------------------------
def pil_tiff(im, **kw):
    buf = io.BytesIO()
    im.save(buf, format="TIFF", **kw)
    return buf.getvalue()


def tf_tiff(arr, **kw):
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, **kw)
    return buf.getvalue()


def pillow_compressed_blocks(im, tile, compression):
    """Each tile of `im` (zero-padded to whole tiles) compressed by Pillow's libtiff, as the
    bytes of a one-strip TIFF's only strip, plus that file's JPEGTables (or None)."""
    th, tw = tile
    arr = np.asarray(im)
    h, w = arr.shape[:2]
    blocks, tables = [], None
    for y in range(0, h, th):
        for x in range(0, w, tw):
            part = np.zeros((th, tw) + arr.shape[2:], arr.dtype)
            part[: min(th, h - y), : min(tw, w - x)] = arr[y:y + th, x:x + tw]
            data = pil_tiff(Image.fromarray(part, im.mode), compression=compression)
            page = tifffile.TiffFile(io.BytesIO(data)).pages[0]
            assert len(page.dataoffsets) == 1
            off, count = page.dataoffsets[0], page.databytecounts[0]
            blocks.append(data[off:off + count])
            tables = page.jpegtables
    return blocks, tables


def tiny_tiff(width, height, tags, blocks, tile=None, big_endian=False):
    """A TIFF with exactly the tags given ({tag: (type, values)}; types 3 SHORT, 4 LONG and 7
    UNDEFINED, whose value is bytes) and the given strips (or tiles of `tile` = (h, w)), for
    kinds no writer at hand produces. One strip of the whole image unless tags say otherwise."""
    e = ">" if big_endian else "<"
    if isinstance(blocks, bytes):
        blocks = [blocks]
    tags = dict(tags)
    tags.setdefault(256, (4, [width]))
    tags.setdefault(257, (4, [height]))
    tags.setdefault(259, (3, [1]))
    offsets_tag, counts_tag = (324, 325) if tile else (273, 279)
    if tile:
        tags[322] = (4, [tile[1]])
        tags[323] = (4, [tile[0]])
    else:
        tags.setdefault(278, (4, [height]))
    tags[counts_tag] = (4, [len(b) for b in blocks])
    tags[offsets_tag] = (4, [0] * len(blocks))  # filled in below
    entries = sorted(tags.items())
    extra_at = 8 + 2 + 12 * len(entries) + 4
    packed_values = []
    for tag, (kind, values) in entries:
        packed_values.append(values if kind == 7 else struct.pack(e + ("H" if kind == 3 else "I") * len(values), *values))
    extra_size = sum(len(p) + len(p) % 2 for p in packed_values if len(p) > 4)
    data_at = extra_at + extra_size
    starts, at = [], data_at
    for b in blocks:
        starts.append(at)
        at += len(b)
    out = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", len(entries))
    extra = b""
    for (tag, (kind, values)), packed in zip(entries, packed_values):
        if tag == offsets_tag:
            packed = struct.pack(e + "I" * len(blocks), *starts)
        count = len(packed) if kind == 7 else len(packed) // (2 if kind == 3 else 4)
        if len(packed) <= 4:
            value = packed.ljust(4, b"\0")
        else:
            value = struct.pack(e + "I", extra_at + len(extra))
            extra += packed + b"\0" * (len(packed) % 2)
        out += struct.pack(e + "HHI", tag, kind, count) + value
    return out + struct.pack(e + "I", 0) + extra + b"".join(blocks)


def pack_bits_rows(indices, bits):
    """(h, w) small integers -> rows packed most significant bits first, each row byte-aligned."""
    out = bytearray()
    for row in indices:
        acc, n = 0, 0
        line = bytearray()
        for v in row:
            acc = (acc << bits) | int(v)
            n += bits
            if n == 8:
                line.append(acc)
                acc, n = 0, 0
        if n:
            line.append(acc << (8 - n))
        out += line
    return bytes(out)


def colormap(entries, seed):
    """A TIFF ColorMap (R..., G..., B...) whose low bytes are noise, so only the high byte
    matters (Pillow keeps `value // 256`)."""
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.integers(0, 65536, 3 * entries)]


def tiff_fixtures():
    synth = synthetic(24, 16, 21)
    rgb = Image.fromarray(synth)
    pic = photo("astronaut", (40, 32))
    gray = Image.fromarray(synth).convert("L")
    rng = np.random.default_rng(22)

    # Pillow's writer: every compression on the common modes, several strips each.
    for comp, short in [("raw", "none"), ("tiff_lzw", "lzw"), ("tiff_adobe_deflate", "deflate"),
                        ("packbits", "packbits")]:
        add(f"rgb8_{short}.tif", pil_tiff(rgb, compression=comp, strip_size=24 * 3 * 5),
            f"RGB 8-bit, {short}, strips of 5 rows")
        add(f"gray8_{short}.tif", pil_tiff(gray, compression=comp, strip_size=24 * 3),
            f"gray 8-bit, {short}, strips of 3 rows")
    add("rgb8_jpeg.tif", pil_tiff(Image.fromarray(pic), compression="jpeg", quality=85),
        "RGB JPEG-compressed (photometric RGB, components as stored)")
    add("gray8_jpeg.tif", pil_tiff(Image.fromarray(pic).convert("L"), compression="jpeg"),
        "gray JPEG-compressed")
    add("cmyk8_jpeg.tif", pil_tiff(Image.fromarray(pic).convert("CMYK"), compression="jpeg"),
        "CMYK JPEG-compressed")
    add("rgba8_lzw.tif", pil_tiff(Image.fromarray(np.dstack([synth, synth[..., 0]]), "RGBA"),
                                  compression="tiff_lzw"), "RGBA 8-bit (unassociated alpha), LZW")
    add("la8_deflate.tif", pil_tiff(Image.fromarray(np.dstack([synth[..., 1], synth[..., 2]]), "LA"),
                                    compression="tiff_adobe_deflate"), "gray+alpha 8-bit, deflate")
    add("cmyk8_none.tif", pil_tiff(rgb.convert("CMYK")), "CMYK 8-bit, none")
    cmyk_all = rng.integers(0, 256, (16, 24, 4)).astype(np.uint8)
    add("cmyk8_lzw.tif", pil_tiff(Image.fromarray(cmyk_all, "CMYK"), compression="tiff_lzw"),
        "CMYK 8-bit, random inks, LZW")
    pal = rgb.quantize(37)
    add("palette8_none.tif", pil_tiff(pal), "palette 8-bit, none")
    add("palette8_packbits.tif", pil_tiff(pal, compression="packbits"), "palette 8-bit, PackBits")
    bilevel = gray.point(lambda v: 255 if v > 128 else 0).convert("1")
    add("bilevel_none.tif", pil_tiff(bilevel), "1-bit, none")
    add("bilevel_g4.tif", pil_tiff(bilevel, compression="group4"), "1-bit, CCITT group 4")
    add("bilevel_packbits.tif", pil_tiff(bilevel, compression="packbits"), "1-bit, PackBits")
    g16 = (synth[..., 0].astype(np.uint16) * 257 // 3)
    g16[::3, ::4] = rng.integers(0, 300, g16[::3, ::4].shape)  # values around 255 matter
    add("gray16_deflate.tif", pil_tiff(Image.fromarray(g16), compression="tiff_adobe_deflate"),
        "gray 16-bit little-endian, deflate (I;16 clips to 255)")

    # tifffile: 16-bit colour, alpha kinds, byte orders, planes, predictors, tiles, BigTIFF.
    rgb16 = (synth.astype(np.uint16) * 257 + rng.integers(0, 256, synth.shape)).astype(np.uint16)
    add("rgb16_le.tif", tf_tiff(rgb16, photometric="rgb"), "RGB 16-bit little-endian")
    add("rgb16_be_deflate.tif", tf_tiff(rgb16, photometric="rgb", byteorder=">", compression="zlib"),
        "RGB 16-bit big-endian, deflate")
    add("gray16_be.tif", tf_tiff(g16, photometric="minisblack", byteorder=">"),
        "gray 16-bit big-endian (I;16B clips to 255)")
    add("gray16_signed.tif", tf_tiff((g16.astype(np.int32) - 200).astype(np.int16), photometric="minisblack"),
        "gray 16-bit signed (mode I, clipped to 0...255)")
    add("gray16_miniswhite_le.tif", tf_tiff(g16, photometric="miniswhite"),
        "gray 16-bit min-is-white little-endian (Pillow does not invert it)")
    add("gray8_miniswhite.tif", tf_tiff(synth[..., 0], photometric="miniswhite"), "gray 8-bit min-is-white")
    alpha = synth[..., 2:3]
    a16 = rgb16[..., :1]
    premul = (synth.astype(np.uint16) * alpha // 255).astype(np.uint8)
    add("rgba8_assoc.tif", tf_tiff(np.dstack([premul, alpha]), photometric="rgb", extrasamples=["assocalpha"]),
        "RGB 8-bit with associated (premultiplied) alpha: un-premultiplied")
    add("rgbx8_unspecified.tif", tf_tiff(np.dstack([synth, alpha]), photometric="rgb", extrasamples=["unspecified"]),
        "RGB 8-bit with an unspecified extra sample")
    add("rgba16_unassoc.tif", tf_tiff(np.dstack([rgb16, a16]), photometric="rgb", extrasamples=["unassalpha"]),
        "RGBA 16-bit, unassociated alpha")
    premul16 = (rgb16.astype(np.uint32) * a16 // 65535).astype(np.uint16)
    add("rgba16_assoc.tif", tf_tiff(np.dstack([premul16, a16]), photometric="rgb", extrasamples=["assocalpha"]),
        "RGBA 16-bit, associated alpha (high bytes un-premultiplied)")
    cmyk16 = rng.integers(0, 65536, (16, 24, 4)).astype(np.uint16)
    add("cmyk16.tif", tf_tiff(cmyk16, photometric="separated"), "CMYK 16-bit")
    add("cmyk16_be.tif", tf_tiff(cmyk16, photometric="separated", byteorder=">"), "CMYK 16-bit big-endian")
    planes = np.ascontiguousarray(synth.transpose(2, 0, 1))
    add("rgb8_planar.tif", tf_tiff(planes, photometric="rgb", planarconfig="separate"),
        "RGB 8-bit in separate planes, none")
    add("rgb8_planar_deflate.tif",
        tf_tiff(planes, photometric="rgb", planarconfig="separate", compression="zlib", rowsperstrip=5),
        "RGB 8-bit in separate planes, deflate, strips of 5 rows")
    add("rgba8_planar_deflate.tif",
        tf_tiff(np.ascontiguousarray(np.dstack([synth, alpha]).transpose(2, 0, 1)), photometric="rgb",
                planarconfig="separate", compression="zlib", extrasamples=["unassalpha"]),
        "RGBA 8-bit in separate planes, deflate")
    add("rgb16_planar_deflate.tif",
        tf_tiff(np.ascontiguousarray(rgb16.transpose(2, 0, 1)), photometric="rgb", planarconfig="separate",
                compression="zlib"), "RGB 16-bit in separate planes, deflate")
    add("rgb8_predictor.tif", tf_tiff(synth, photometric="rgb", compression="zlib", predictor=True),
        "RGB 8-bit, deflate with horizontal predictor")
    add("rgb16_predictor_be.tif", tf_tiff(rgb16, photometric="rgb", compression="zlib", predictor=True, byteorder=">"),
        "RGB 16-bit big-endian, deflate with horizontal predictor")
    big = synthetic(40, 36, 23)
    add("rgb8_tiles.tif", tf_tiff(big, photometric="rgb", tile=(16, 16)), "RGB 8-bit, 16x16 tiles (partial edge tiles), none")
    add("rgb8_tiles_deflate.tif", tf_tiff(big, photometric="rgb", tile=(16, 32), compression="zlib"),
        "RGB 8-bit, 32x16 tiles, deflate")
    add("gray16_tiles.tif", tf_tiff((big[..., 0].astype(np.uint16) * 3), photometric="minisblack", tile=(16, 16)),
        "gray 16-bit, tiles")
    add("rgb8_tiles_planar.tif", tf_tiff(np.ascontiguousarray(big.transpose(2, 0, 1)), photometric="rgb",
                                         tile=(16, 16), planarconfig="separate", compression="zlib"),
        "RGB 8-bit, tiles in separate planes, deflate")
    add("rgb8_bigtiff.tif", tf_tiff(synth, photometric="rgb", bigtiff=True), "BigTIFF, RGB 8-bit")
    pages = io.BytesIO()
    with tifffile.TiffWriter(pages) as writer:
        writer.write(synth, photometric="rgb")
        writer.write(synth[::-1], photometric="rgb")
    add("two_pages.tif", pages.getvalue(), "two pages: the first is read")
    for comp, short in [("tiff_lzw", "lzw"), ("packbits", "packbits")]:
        blocks, _ = pillow_compressed_blocks(Image.fromarray(big), (16, 16), comp)
        add(f"rgb8_tiles_{short}.tif",
            tiny_tiff(40, 36, {258: (3, [8] * 3), 259: (3, [{"tiff_lzw": 5, "packbits": 32773}[comp]]),
                               262: (3, [2]), 277: (3, [3])}, blocks, tile=(16, 16)),
            f"RGB 8-bit, 16x16 tiles, {short} (tiles compressed by Pillow's libtiff)")
    bigpic = photo("coffee", (40, 36))
    blocks, tables = pillow_compressed_blocks(Image.fromarray(bigpic), (16, 16), "jpeg")
    add("rgb8_tiles_jpeg.tif",
        tiny_tiff(40, 36, {258: (3, [8] * 3), 259: (3, [7]), 262: (3, [2]), 277: (3, [3]), 347: (7, tables)},
                  blocks, tile=(16, 16)),
        "RGB 8-bit, 16x16 JPEG tiles (photometric RGB)")
    # YCbCr JPEG, the usual JPEG-in-TIFF: libjpeg converts to RGB (Pillow sets JPEGCOLORMODE).
    jpeg = io.BytesIO()
    Image.fromarray(pic).save(jpeg, format="JPEG", quality=90)
    add("ycbcr_jpeg.tif",
        tiny_tiff(40, 32, {258: (3, [8] * 3), 259: (3, [7]), 262: (3, [6]), 277: (3, [3]), 530: (3, [2, 2])},
                  jpeg.getvalue()),
        "YCbCr 4:2:0 JPEG-compressed, one strip")
    ytiles = []
    for y in range(0, 36, 16):
        for x in range(0, 40, 16):
            part = np.zeros((16, 16, 3), np.uint8)
            part[: min(16, 36 - y), : min(16, 40 - x)] = bigpic[y:y + 16, x:x + 16]
            buf = io.BytesIO()
            Image.fromarray(part).save(buf, format="JPEG", quality=80)
            ytiles.append(buf.getvalue())
    add("ycbcr_jpeg_tiles.tif",
        tiny_tiff(40, 36, {258: (3, [8] * 3), 259: (3, [7]), 262: (3, [6]), 277: (3, [3]), 530: (3, [2, 2])},
                  ytiles, tile=(16, 16)),
        "YCbCr 4:2:0 JPEG tiles")
    # Orientation: Pillow turns the image while loading (exif_transpose) and drops the tag.
    for orientation in range(2, 9):
        add(f"orientation{orientation}.tif",
            tf_tiff(synth[:, :20], photometric="rgb", extratags=[(274, "H", 1, orientation, True)]),
            f"Orientation {orientation}, applied by Pillow while loading")

    # Kinds written by hand: sub-byte palettes and gray, fill order 2, rarer extra samples.
    idx = rng.integers(0, 256, (16, 24))
    for bits in (1, 2, 4):
        small = idx >> (8 - bits)
        add(f"palette{bits}.tif",
            tiny_tiff(24, 16, {258: (3, [bits]), 262: (3, [3]), 277: (3, [1]),
                               320: (3, colormap(1 << bits, bits))}, pack_bits_rows(small, bits)),
            f"palette {bits}-bit")
        add(f"gray{bits}_miniswhite.tif",
            tiny_tiff(24, 16, {258: (3, [bits]), 262: (3, [0]), 277: (3, [1])}, pack_bits_rows(small, bits)),
            f"gray {bits}-bit min-is-white")
    add("gray4.tif", tiny_tiff(24, 16, {258: (3, [4]), 262: (3, [1]), 277: (3, [1])},
                               pack_bits_rows(idx >> 4, 4)), "gray 4-bit")
    add("gray2_be.tif", tiny_tiff(24, 16, {258: (3, [2]), 262: (3, [1]), 277: (3, [1])},
                                  pack_bits_rows(idx >> 6, 2), big_endian=True), "gray 2-bit, big-endian")
    reverse = np.array([int(f"{v:08b}"[::-1], 2) for v in range(256)], np.uint8)
    add("gray8_fillorder2.tif",
        tiny_tiff(24, 16, {258: (3, [8]), 262: (3, [1]), 266: (3, [2]), 277: (3, [1])},
                  reverse[synth[..., 0]].tobytes()), "gray 8-bit, fill order 2 (bits reversed)")
    add("rgb8_fillorder2.tif",
        tiny_tiff(24, 16, {258: (3, [8, 8, 8]), 262: (3, [2]), 266: (3, [2]), 277: (3, [3])},
                  reverse[synth].tobytes()), "RGB 8-bit, fill order 2")
    rgbx5 = np.dstack([synth, alpha, synth[..., :1]])
    add("rgba8_extra_assoc_unspecified.tif",
        tiny_tiff(24, 16, {258: (3, [8] * 5), 262: (3, [2]), 277: (3, [5]), 338: (3, [1, 0])},
                  np.dstack([premul, alpha, synth[..., :1]]).tobytes()),
        "RGB + associated alpha + an unspecified sample (RGBaX)")
    add("rgb8_no_extrasamples_tag.tif",
        tiny_tiff(24, 16, {258: (3, [8] * 4), 262: (3, [2]), 277: (3, [4])}, rgbx5[..., :4].tobytes()),
        "RGB + a fourth sample without an ExtraSamples tag (Pillow: RGBA)")
    add("rgb8_corel999.tif",
        tiny_tiff(24, 16, {258: (3, [8] * 4), 262: (3, [2]), 277: (3, [4]), 338: (3, [999])},
                  rgbx5[..., :4].tobytes()), "RGB + an ExtraSamples value of 999 (Corel Draw)")
    add("palette8_alpha.tif",
        tiny_tiff(24, 16, {258: (3, [8, 8]), 262: (3, [3]), 277: (3, [2]), 338: (3, [2]),
                           320: (3, colormap(256, 9))}, np.dstack([idx, idx[::-1]]).astype(np.uint8).tobytes()),
        "palette 8-bit with alpha (PA)")
    add("gray8_signed.tif",
        tiny_tiff(24, 16, {258: (3, [8]), 262: (3, [1]), 277: (3, [1]), 339: (3, [2])},
                  synth[..., 1].tobytes()), "gray 8-bit signed (Pillow reads it as unsigned L)")

    # Bad TIFFs (Pillow refuses each too).
    good = pil_tiff(rgb, compression="tiff_lzw")
    add_bad("truncated_header.tif", good[:6], "corrupt TIFF")
    raw = pil_tiff(rgb)
    add_bad("truncated_strip.tif", raw[: len(raw) - 300], "corrupt TIFF")
    lzw_page = tifffile.TiffFile(io.BytesIO(good)).pages[0]
    cut = bytearray(good)
    cut[lzw_page.dataoffsets[0] + 10: lzw_page.dataoffsets[0] + lzw_page.databytecounts[0]] = b"\xff" * (
        lzw_page.databytecounts[0] - 10)
    add_bad("garbage_lzw.tif", bytes(cut), "corrupt TIFF")
    add_bad("bomb.tif", tiny_tiff(20000, 20000, {258: (3, [8]), 262: (3, [1]), 277: (3, [1])}, b"\0" * 64),
            "exceeds the limit")
    add_refused("gray12.tif", tiny_tiff(4, 4, {258: (3, [12]), 262: (3, [1]), 277: (3, [1])}, bytes(24)),
                "unsupported TIFF", "12-bit gray (Pillow: I;12)")
    add_refused("ycbcr_uncompressed.tif",
                tiny_tiff(24, 16, {258: (3, [8] * 3), 262: (3, [6]), 277: (3, [3]), 530: (3, [1, 1])},
                          synth.tobytes()), "unsupported TIFF", "YCbCr without JPEG compression")
    add_refused("rgb16_planar_none.tif",
                tf_tiff(np.ascontiguousarray(rgb16.transpose(2, 0, 1)), photometric="rgb", planarconfig="separate"),
                "Pillow misreads", "uncompressed 16-bit RGB in separate planes: Pillow's pixels are not the image's")
    add_bad("rgb_float32.tif", tf_tiff(synth.astype(np.float32), photometric="rgb"), "unsupported TIFF")
    add_bad("gray16_miniswhite_be.tif", tf_tiff(g16, photometric="miniswhite", byteorder=">"), "unsupported TIFF")
    add_bad("la8_assoc.tif", tf_tiff(np.dstack([premul[..., 0], alpha[..., 0]]), photometric="minisblack",
                                     extrasamples=["assocalpha"]), "unsupported TIFF")

# ---- WebP -----------------------------------------------------------------------------------
def pil_webp(im, **kw):
    buf = io.BytesIO()
    im.save(buf, format="WEBP", **kw)
    return buf.getvalue()


def riff_chunk(fourcc, payload):
    return fourcc + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)


def webp_chunks(data):
    """The chunks of a WebP file: [(fourcc, payload)]."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    at, out = 12, []
    while at + 8 <= len(data):
        fourcc, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        out.append((fourcc, data[at + 8:at + 8 + size]))
        at += 8 + size + size % 2
    return out


def webp_file(chunks):
    body = b"WEBP" + b"".join(riff_chunk(f, p) for f, p in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def u24(v):
    return struct.pack("<I", v)[:3]


def animated_webp(canvas, frames, background=(0, 0, 0, 0), alpha=True):
    """An animation of still WebP files placed at (x, y) (even) on a canvas of (w, h): the
    layout Pillow's writer never makes (its first frame always covers the canvas)."""
    w, h = canvas
    flags = 0x02 | (0x10 if alpha else 0)
    chunks = [(b"VP8X", bytes([flags, 0, 0, 0]) + u24(w - 1) + u24(h - 1)),
              (b"ANIM", bytes([background[2], background[1], background[0], background[3]]) + struct.pack("<H", 0))]
    for (x, y), still, blend in frames:
        inner = [(f, p) for f, p in webp_chunks(still) if f in (b"ALPH", b"VP8 ", b"VP8L")]
        fw, fh = Image.open(io.BytesIO(still)).size
        header = u24(x // 2) + u24(y // 2) + u24(fw - 1) + u24(fh - 1) + u24(100) + bytes([0 if blend else 2])
        chunks.append((b"ANMF", header + b"".join(riff_chunk(f, p) for f, p in inner)))
    return webp_file(chunks)


def webp_fixtures():
    pic = photo("chelsea", (37, 29))  # odd: chroma upsampling at the edges
    synth = synthetic(24, 16, 21)  # the TIFF fixtures' picture: the same pixels in both formats
    rng = np.random.default_rng(32)
    alpha = (np.arange(37)[None, :] * 7 + np.arange(29)[:, None] * 3).astype(np.uint8)
    alpha[:5, :5] = 0
    rgba = np.dstack([pic, alpha])
    for q in (20, 80, 100):
        add(f"lossy_q{q}.webp", pil_webp(Image.fromarray(pic), quality=q), f"lossy, quality {q}")
    add("lossy_alpha.webp", pil_webp(Image.fromarray(rgba, "RGBA"), quality=80),
        "lossy with alpha (alpha dropped, colour under it kept)")
    add("lossy_alpha_q50.webp", pil_webp(Image.fromarray(rgba, "RGBA"), quality=60, alpha_quality=50),
        "lossy with lossy-filtered alpha")
    add("lossless.webp", pil_webp(Image.fromarray(synth), lossless=True), "lossless RGB")
    add("lossless_alpha_exact.webp", pil_webp(Image.fromarray(rgba, "RGBA"), lossless=True, exact=True),
        "lossless RGBA, colour under transparency kept (exact)")
    add("lossless_alpha.webp", pil_webp(Image.fromarray(rgba, "RGBA"), lossless=True),
        "lossless RGBA, colour under transparency changed by the encoder")
    add("lossy_1x1.webp", pil_webp(Image.fromarray(pic[:1, :1]), quality=90), "lossy 1x1")
    add("lossy_1x17.webp", pil_webp(Image.fromarray(pic[:17, :1]), quality=90), "lossy 1x17")
    exif = b"Exif\0\0" + exif_orientation_block(6)
    add("lossy_exif6.webp", pil_webp(Image.fromarray(pic), quality=80, exif=exif),
        "lossy with EXIF Orientation 6 (not applied by load_img)")
    frames = [Image.fromarray(pic), Image.fromarray(pic[::-1].copy()), Image.fromarray(255 - pic)]
    add("animated_lossy.webp", pil_webp(frames[0], save_all=True, append_images=frames[1:], quality=70),
        "animation of three lossy frames: the first")
    add("animated_lossless.webp", pil_webp(frames[0], save_all=True, append_images=frames[1:], lossless=True),
        "animation of three lossless frames: the first")
    small = pil_webp(Image.fromarray(synth[:10, :12]), lossless=True)
    add("animated_offset_frame.webp",
        animated_webp((24, 16), [((6, 4), small, False), ((0, 0), pil_webp(Image.fromarray(synth), quality=50), True)],
                      background=(200, 100, 50, 255)),
        "first frame 12x10 at (6, 4) on a 24x16 canvas with an opaque background colour")
    small_alpha = pil_webp(Image.fromarray(np.dstack([synth[:10, :12], alpha[:10, :12]]), "RGBA"), quality=70)
    add("animated_offset_alpha.webp", animated_webp((20, 14), [((2, 2), small_alpha, True)]),
        "one lossy frame with alpha, offset, blended onto an empty canvas")

    good = pil_webp(Image.fromarray(pic), quality=80)
    add_bad("truncated.webp", good[: len(good) // 2], "WebP")
    add_bad("truncated_header.webp", good[:20], "WebP")
    garbage = bytearray(good)
    garbage[40:] = bytes(rng.integers(0, 256, len(good) - 40).astype(np.uint8))
    add("garbage_payload.webp", bytes(garbage), "lossy, its payload after byte 40 replaced by noise: "
        "libwebp decodes whatever the noise says, in Pillow too")
    # A valid animation whose one small frame sits on a 20000x20000 canvas: 200 bytes that the
    # animation decoder would turn into 3.2 GB of canvases.
    add_bad("bomb.webp", animated_webp((20000, 20000), [((0, 0), small, False)]), "exceeds the limit")
    lone = pil_webp(Image.fromarray(synth), lossless=True)
    add_bad("no_frames.webp", webp_file([(b"VP8X", bytes([0x02, 0, 0, 0]) + u24(23) + u24(15)),
                                          (b"ANIM", bytes(6))]), "WebP")
    assert lone

# ---- GIF ------------------------------------------------------------------------------------
def pil_gif(im, **kw):
    buf = io.BytesIO()
    im.save(buf, format="GIF", **kw)
    return buf.getvalue()


def lzw_literal(indices, min_size):
    """Valid GIF LZW data that sends every index as a literal code, with a clear code often
    enough that the code width never grows (the classic "uncompressed GIF")."""
    clear = 1 << min_size
    width = min_size + 1
    codes, run = [clear], 0
    limit = (1 << width) - clear - 2  # literals before the decoder's table would widen codes
    for v in indices:
        if run == limit:
            codes.append(clear)
            run = 0
        codes.append(int(v))
        run += 1
    codes.append(clear + 1)  # end of information
    acc, n, out = 0, 0, bytearray()
    for c in codes:
        acc |= c << n
        n += width
        while n >= 8:
            out.append(acc & 255)
            acc >>= 8
            n -= 8
    if n:
        out.append(acc & 255)
    return bytes(out)


def sub_blocks(data):
    out = bytearray()
    for i in range(0, len(data), 255):
        out.append(len(data[i:i + 255]))
        out += data[i:i + 255]
    return bytes(out) + b"\0"


def colour_table(colours):
    """(flag bits, padded table) for a table of len(colours) // 3 entries."""
    bits = max(1, (len(colours) // 3 - 1).bit_length())
    return bits, colours + b"\0" * (3 * (1 << bits) - len(colours))


def gif_file(screen, frames, global_table=None, background=0, version=b"GIF89a", trailer=True):
    """A GIF from frames given as dicts: rect (x, y, w, h), indices (row-major), optional
    local table, transparency, interlace, min_size, raw (LZW data instead of literals),
    gce (a graphic control extension even without transparency)."""
    out = bytearray(version + struct.pack("<HH", *screen))
    if global_table is not None:
        bits, table = colour_table(global_table)
        out += bytes([0x80 | (bits - 1), background, 0]) + table
    else:
        out += bytes([0, background, 0])
    for f in frames:
        for t in f.get("gces", [f.get("transparency", "none")] if "transparency" in f or f.get("gce") else []):
            flags = 0 if t is None or t == "none" else 1
            out += b"!\xf9\x04" + bytes([flags]) + struct.pack("<H", 10) + bytes([0 if not flags else t, 0])
        x, y, w, h = f["rect"]
        flags = 0x40 if f.get("interlace") else 0
        local = b""
        if f.get("local") is not None:
            bits, local = colour_table(f["local"])
            flags |= 0x80 | (bits - 1)
        out += b"," + struct.pack("<HHHH", x, y, w, h) + bytes([flags]) + local
        indices = list(f["indices"])
        if f.get("interlace"):
            rows = [indices[r * w:(r + 1) * w] for r in range(h)]
            order = [r for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)) for r in range(start, h, step)]
            indices = [v for r in order for v in rows[r]]
        min_size = f.get("min_size", 8)
        out += bytes([min_size]) + sub_blocks(f.get("raw") or lzw_literal(indices, min_size))
    return bytes(out) + (b";" if trailer else b"")


def gif_fixtures():
    pic = photo("coffee", (37, 29))
    synth = synthetic(24, 16, 41)
    rng = np.random.default_rng(42)
    table = bytes(rng.integers(0, 256, 3 * 16).astype(np.uint8))
    table4 = table[:12]
    ramp = bytes(v for i in range(16) for v in (i, i, i))

    # Pillow's writer: real LZW, interlaced by default from 16 rows up.
    quant = Image.fromarray(pic).quantize(64)
    add("photo.gif", pil_gif(quant), "photograph, 64 colours, Pillow's writer (interlaced)")
    add("photo_not_interlaced.gif", pil_gif(quant, interlace=False), "the same, not interlaced")
    add("noise_256.gif", pil_gif(Image.fromarray(rng.integers(0, 256, (48, 64)).astype(np.uint8), "P"),
                                 interlace=False),
        "256 colours of noise: LZW codes grow to 12 bits and the table is cleared")
    add("gray.gif", pil_gif(Image.fromarray(synth).convert("L")), "gray picture, Pillow's writer (its table holds the used grays only)")
    add("transparent.gif", pil_gif(quant, transparency=5), "transparency index 5 (ignored by convert)")
    frames = [Image.fromarray(pic).quantize(32), Image.fromarray(255 - pic).quantize(32)]
    add("animated.gif", pil_gif(frames[0], save_all=True, append_images=frames[1:], duration=100, loop=0),
        "two frames: the first")
    add("tiny_1x1.gif", pil_gif(Image.fromarray(pic[:1, :1]).quantize(2)), "1x1")

    # Written here: what Pillow does with the first frame's layout, tables and transparency.
    idx = [int(v) for v in rng.integers(0, 16, 24 * 16)]
    add("global_table.gif", gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx)], table),
        "global table of 16, literal codes")
    add("gif87a.gif", gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx)], table, version=b"GIF87a"),
        "GIF87a")
    add("past_table.gif", gif_file((16, 16), [dict(rect=(0, 0, 16, 16), indices=range(256))], table4),
        "indices 0..255 with a table of 4: black past its end")
    add("local_table.gif",
        gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx, local=table[::-1])], table),
        "a local table replaces the global one")
    add("local_short_table.gif",
        gif_file((16, 16), [dict(rect=(0, 0, 16, 16), indices=[i % 8 for i in range(256)], local=table4)], table),
        "local table of 4 with indices up to 7: black past its end, not the global colours")
    add("ramp_global.gif", gif_file((16, 16), [dict(rect=(0, 0, 16, 16), indices=range(256))], ramp),
        "global table that is the gray ramp 0..15: mode L, indices past it keep their own level")
    add("no_table.gif", gif_file((16, 16), [dict(rect=(0, 0, 16, 16), indices=range(256))]),
        "no colour table at all: mode L")
    add("ramp_local.gif",
        gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx, local=ramp)], table),
        "a local table that is the gray ramp is ignored: the global table colours the frame")
    small = [int(v) for v in rng.integers(0, 16, 10 * 7)]
    add("small_frame.gif",
        gif_file((24, 16), [dict(rect=(5, 3, 10, 7), indices=small)], table, background=9),
        "10x7 frame at (5, 3) on 24x16: index 0 around it, not the background colour")
    add("small_frame_transparent.gif",
        gif_file((24, 16), [dict(rect=(5, 3, 10, 7), indices=small, transparency=12)], table, background=9),
        "the same with transparency index 12: the transparent index around it")
    add("frame_past_screen.gif",
        gif_file((16, 10), [dict(rect=(8, 4, 14, 9), indices=[i % 16 for i in range(14 * 9)])], table),
        "14x9 frame at (8, 4) on a 16x10 screen: the image grows to 22x13")
    add("two_gces.gif",
        gif_file((24, 16), [dict(rect=(2, 2, 10, 7), indices=small, gces=[12, None])], table),
        "two graphic control extensions, the second without transparency: index 12 still fills")
    for h in (1, 2, 3, 5, 11):
        add(f"interlaced_h{h}.gif",
            gif_file((7, h), [dict(rect=(0, 0, 7, h), indices=[(i * 5) % 16 for i in range(7 * h)], interlace=True)],
                     table), f"interlaced, {h} rows")
    add("interlaced_small_frame.gif",
        gif_file((24, 16), [dict(rect=(3, 2, 9, 11), indices=[i % 16 for i in range(99)], interlace=True,
                                 local=table[::-1])], table),
        "interlaced 9x11 frame at (3, 2) with a local table")
    add("min_code_size_2.gif",
        gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=[i % 4 for i in idx], min_size=2)], table4),
        "LZW minimum code size 2")
    add_refused("min_code_size_9.gif",
                gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx, min_size=9)], table), "GIF",
                "LZW minimum code size 9 (invalid, above 8): Pillow decodes it, giflib does not")
    complete = gif_file((24, 16), [dict(rect=(0, 0, 24, 16), indices=idx)], table)
    add("no_trailer.gif", complete[:-1], "no trailer")
    add("no_terminator.gif", complete[:-2], "neither block terminator nor trailer (Pillow reads it)")
    add("extra_pixels.gif",
        gif_file((8, 4), [dict(rect=(0, 0, 8, 4), indices=[], raw=lzw_literal([3] * 40, 8))], table),
        "more pixels in the data than the frame holds: the rest is ignored")

    add_bad("truncated.gif", complete[: len(complete) // 2], "GIF")
    add_bad("cut_in_last_block.gif", complete[:-3], "GIF")
    add_bad("header_only.gif", gif_file((24, 16), [], table), "no image")
    add_bad("too_few_pixels.gif",
            gif_file((8, 4), [dict(rect=(0, 0, 8, 4), indices=[], raw=lzw_literal([3] * 20, 8))], table), "GIF")
    add_bad("empty_frame.gif", gif_file((8, 4), [dict(rect=(0, 0, 0, 0), indices=[])], table), "GIF")
    add_bad("bomb_screen.gif", gif_file((20000, 20000), [dict(rect=(0, 0, 2, 2), indices=[1] * 4)], table),
            "exceeds the limit")
    add_bad("bomb_frame.gif", gif_file((4, 4), [dict(rect=(0, 0, 30000, 30000), indices=[], raw=lzw_literal([1], 8))],
                                       table), "exceeds the limit")


def exif_orientation_block(value):
    """A minimal little-endian TIFF/EXIF block: IFD0 with one Orientation entry."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHI", 0x0112, 3, 1) + struct.pack("<H", value) + b"\0\0"
    return b"II" + struct.pack("<HI", 42, 8) + ifd + struct.pack("<I", 0)


def keras_cases(files):
    """keras.utils.load_img + img_to_array on whole files, as the CRC-32 of the uint8 array,
    when Keras is installed (otherwise the same steps spelled out with Pillow)."""
    import zlib

    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras.utils import img_to_array, load_img

        def pixels(path, h, w, interp):
            return img_to_array(load_img(path, target_size=(h, w), interpolation=interp)).astype(np.uint8), "keras"
    except Exception:  # pragma: no cover - Keras absent
        def pixels(path, h, w, interp):
            im = Image.open(path).convert("RGB")
            if im.size != (w, h):
                im = im.resize((w, h), {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}[interp])
            return np.asarray(im), "pillow"
    manifest["keras"] = []
    for name, h, w in files:
        for interp in ("nearest", "bilinear"):
            arr, via = pixels(os.path.join(HERE, "src", name), h, w, interp)
            assert arr.shape == (h, w, 3)
            manifest["keras"].append({"file": "src/" + name, "height": h, "width": w, "interpolation": interp,
                                      "via": via, "crc32": zlib.crc32(arr.tobytes())})


def main():
    for sub in ("src", "rgb", "bad", "refused"):
        os.makedirs(os.path.join(HERE, sub), exist_ok=True)
        for f in os.listdir(os.path.join(HERE, sub)):
            os.remove(os.path.join(HERE, sub, f))
    tiff_fixtures()
    webp_fixtures()
    gif_fixtures()
    keras_cases([("ycbcr_jpeg_tiles.tif", 224, 224), ("orientation6.tif", 30, 20), ("rgb16_le.tif", 31, 97),
                 ("lossy_alpha.webp", 224, 224), ("animated_offset_frame.webp", 50, 40),
                 ("small_frame_transparent.gif", 224, 224), ("photo.gif", 17, 23)])
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(HERE)
                for fn in fns if not fn.endswith(".py"))
    print(f"wrote {len(manifest['decode'])} decode and {len(manifest['bad'])} bad fixtures; {total} bytes")


if __name__ == "__main__":
    main()
