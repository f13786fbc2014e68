#!/usr/bin/env python3
"""Writes the golden fixtures of the formats Headstart decodes in Swift (BMP, PNM): small files
in every variant, and what Pillow makes of them, as `keras.utils.load_img` would (open, then
convert('RGB')).

Run with a Python that has Pillow and numpy (scikit-image optional, for real photographs; Keras
optional, for the load_img cases):  python make_format_fixtures.py
Outputs (under formats/, next to this script):
  src/*.bmp, src/*.pbm|pgm|ppm   the files to decode: written by Pillow where it can write the
                                 variant, built byte by byte here where it cannot (RLE, bit
                                 fields, OS/2 and V4/V5 headers, top-down rows, odd palettes,
                                 ASCII PNM, odd maxvals, comments)
  rgb/*.rgb                      raw uint8 (H, W, 3): Pillow's open().convert('RGB')
  bad/*                          files Pillow refuses (the script checks that it does)
  manifest.json                  what each file is and what is expected of it; also `blocks`,
                                 ASCII PNMs too big to commit, rebuilt by the test from a recipe
Every rule the Swift decoders follow was found by experiment against Pillow 13; each has a file
here, named after the rule where it is a quirk.
"""
import io
import json
import os
import re
import struct
import sys
import warnings
import zlib

import numpy as np
from PIL import Image

warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # bomb_rle.bmp is refused as intended

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "formats")
sys.path.insert(0, HERE)
from make_pillow_fixtures import photo, synthetic  # noqa: E402

manifest = {"pillow": Image.__version__, "decode": [], "bad": [], "keras": [], "blocks": []}


# ---- BMP, byte by byte ------------------------------------------------------------------------
def info_header(size, w, h, bits, compression=0, colors=0, masks=None):
    """A BITMAPINFOHEADER (40) or a longer one (52, 56, 64, 108, 124): masks (r, g, b, a) sit at
    bytes 40..56 of the longer ones; V4/V5 get an sRGB colour space and zero end points."""
    head = struct.pack("<IiiHHIIiiII", size, w, h, 1, bits, compression, 0, 2835, 2835, colors, 0)
    if size > 40:
        extra = struct.pack("<IIII", *(list(masks or (0, 0, 0, 0)) + [0])[:4])
        if size >= 108:
            extra += struct.pack("<I", 0x73524742) + b"\0" * 48
        head += (extra + b"\0" * size)[: size - 40]
    return head


def core_header(w, h, bits):
    """OS/2 1.x BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries."""
    return struct.pack("<IHHHH", 12, w, h, 1, bits)


def bmp(header, pixels, palette=b"", between=b"", offset=None):
    """File header + header + (masks) + palette + pixels; bfOffBits points at the pixels unless
    `offset` says otherwise."""
    body = header + between + palette
    off = 14 + len(body) if offset is None else offset
    return b"BM" + struct.pack("<IHHI", 14 + len(body) + len(pixels), 0, 0, off) + body + pixels


def rows(samples, bits, top_down=False):
    """(h, w) indices or (h, w, bytes) pixel bytes -> row data padded to 4 bytes, bottom row
    first unless top_down."""
    out = []
    for row in samples:
        if bits >= 8:
            data = np.ascontiguousarray(row, dtype=np.uint8).tobytes()
        else:
            per = 8 // bits
            data = bytearray((len(row) * bits + 7) // 8)
            for i, v in enumerate(row):
                data[i // per] |= int(v) << (8 - bits * (i % per + 1))
            data = bytes(data)
        out.append(data + b"\0" * (-len(data) % 4))
    return b"".join(out if top_down else out[::-1])


def bgr_palette(rgb, entry=4):
    """(n, 3) RGB -> BMP palette entries (B, G, R[, 0])."""
    return b"".join(bytes([b, g, r]) + b"\0" * (entry - 3) for r, g, b in np.asarray(rgb, int))


def rle_encode(indices, rle4):
    """A plain RLE8/RLE4 encoder: runs of equal pixels as encoded runs (RLE4: both nibbles the
    same), other stretches of 3 or more as absolute runs padded to 16 bits (the pixel data starts
    at an even offset in these files), end-of-line after each row, end-of-bitmap."""
    out = bytearray()
    for row in indices[::-1]:
        row = [int(v) for v in row]
        x = 0
        while x < len(row):
            run = 1
            while x + run < len(row) and run < 255 and row[x + run] == row[x]:
                run += 1
            if run >= 2 or len(row) - x < 3:
                out += bytes([run, row[x] * 17 if rle4 else row[x]])
                x += run
                continue
            n = 3  # up to the next pair of equal pixels
            while x + n < len(row) and n < 255 and not (x + n + 1 < len(row) and row[x + n] == row[x + n + 1]):
                n += 1
            vals = row[x:x + n]
            data = bytes(vals) if not rle4 else bytes(
                vals[i] << 4 | (vals[i + 1] if i + 1 < n else 0) for i in range(0, n, 2))
            out += bytes([0, n]) + data + b"\0" * (len(data) % 2)
            x += n
        out += b"\0\0"
    return bytes(out) + b"\0\1"


# ---- recording --------------------------------------------------------------------------------
def save_rgb(name, arr):
    with open(os.path.join(OUT, "rgb", name), "wb") as f:
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())
    return name


def pillow_rgb(data):
    """What Keras' load_img(color_mode='rgb') hands on: open + convert('RGB')."""
    im = Image.open(io.BytesIO(data))
    return im.convert("RGB") if im.mode != "RGB" else im


def add(name, data, note, mode=None):
    """A file Pillow decodes; `mode` is the image mode Pillow must give it (the quirk shown)."""
    with open(os.path.join(OUT, "src", name), "wb") as f:
        f.write(data)
    opened = Image.open(io.BytesIO(data))
    assert mode is None or opened.mode == mode, f"{name}: Pillow mode {opened.mode}, expected {mode}"
    im = pillow_rgb(data)
    manifest["decode"].append({"file": "src/" + name, "expected": save_rgb(name.replace(".", "_") + ".rgb",
                                                                           np.asarray(im)),
                               "width": im.size[0], "height": im.size[1],
                               "note": f"{note} [Pillow mode {opened.mode}]"})


def bad(name, data, reason):
    """A file Pillow refuses; ours must fail with a message containing `reason`."""
    with open(os.path.join(OUT, "bad", name), "wb") as f:
        f.write(data)
    try:
        pillow_rgb(data).load()
        error = None
    except Exception as e:  # noqa: BLE001 - any refusal is what we want to see
        error = f"{type(e).__name__}: {e}"
    assert error is not None, f"Pillow accepted {name}"
    error = re.sub(r" <_io.BytesIO object at 0x[0-9a-f]+>", "", error)  # the same text on every run
    manifest["bad"].append({"file": "bad/" + name, "reason": reason, "pillow": error[:200]})


# ---- the fixture set --------------------------------------------------------------------------
def bmp_fixtures():
    cat = photo("chelsea", (23, 13))  # odd width: row padding everywhere
    synth = synthetic(17, 9, 21)
    rng = np.random.default_rng(7)
    h, w = cat.shape[:2]
    bgr = cat[..., ::-1]
    pal16 = Image.fromarray(cat).quantize(16, dither=Image.Dither.NONE)
    idx16 = np.asarray(pal16)
    rgb16 = np.asarray(pal16.getpalette()[:48]).reshape(16, 3)
    pal256 = Image.fromarray(cat).quantize(200, dither=Image.Dither.NONE)
    idx256 = np.asarray(pal256)
    rgb256 = np.asarray(pal256.getpalette()[:600]).reshape(200, 3)
    bits1 = (cat.mean(axis=2) > 110).astype(np.uint8)
    two = np.array([[200, 30, 60], [20, 220, 120]])

    # Written by Pillow.
    for mode, note in [("RGB", "24-bit"), ("L", "8-bit gray (Pillow writes a gray-ramp palette)"),
                       ("1", "1-bit"), ("RGBA", "32-bit with alpha")]:
        im = Image.fromarray(cat).convert(mode) if mode != "RGBA" else Image.fromarray(
            np.dstack([cat, rng.integers(0, 256, (h, w), dtype=np.uint8)]), "RGBA")
        buf = io.BytesIO()
        im.save(buf, "BMP")
        add(f"pillow_{mode.lower()}.bmp", buf.getvalue(), f"Pillow's writer, {note}")
    buf = io.BytesIO()
    pal256.save(buf, "BMP")
    add("pillow_p.bmp", buf.getvalue(), "Pillow's writer, 8-bit palette of 200 colours")

    # Uncompressed, every depth and header.
    add("rgb24.bmp", bmp(info_header(40, w, h, 24), rows(bgr, 24)), "24-bit, 40-byte header")
    add("rgb24_topdown.bmp", bmp(info_header(40, w, -h, 24), rows(bgr, 24, top_down=True)),
        "24-bit top-down (negative height)")
    x = np.dstack([bgr, rng.integers(0, 256, (h, w), dtype=np.uint8)])
    add("rgb32.bmp", bmp(info_header(40, w, h, 32), rows(x, 32)), "32-bit BI_RGB, fourth byte ignored")
    v555 = ((cat[..., 0].astype(int) >> 3) << 10 | (cat[..., 1].astype(int) >> 3) << 5
            | cat[..., 2].astype(int) >> 3 | rng.integers(0, 2, (h, w)) << 15).astype("<u2")
    add("rgb16_555.bmp", bmp(info_header(40, w, h, 16), rows(v555.view(np.uint8).reshape(h, w, 2), 16)),
        "16-bit BI_RGB: 5-5-5, top bit ignored, v * 255 / 31")
    # Every value of each channel, with and without the top bit, and random values: 64x32.
    ramp = np.arange(64)
    allv = np.concatenate([ramp % 32 * 0x421 | (ramp >= 32) << 15, ramp << 5 | ramp % 32 << 11,
                           rng.integers(0, 65536, 64 * 30)]).astype("<u2").reshape(32, 64)
    add("rgb16_values.bmp", bmp(info_header(40, 64, 32, 16), rows(allv.view(np.uint8).reshape(32, 64, 2), 16)),
        "16-bit BI_RGB: every channel value, top bit set and not")
    add("pal8.bmp", bmp(info_header(40, w, h, 8, colors=200), rows(idx256, 8), bgr_palette(rgb256)),
        "8-bit palette of 200", mode="P")
    add("pal4.bmp", bmp(info_header(40, w, h, 4), rows(idx16, 4), bgr_palette(rgb16)), "4-bit palette", mode="P")
    add("pal1_colour.bmp", bmp(info_header(40, w, h, 1), rows(bits1, 1), bgr_palette(two)),
        "1-bit, two colours", mode="P")
    short = np.minimum(idx256, 60).astype(np.uint8)
    add("pal8_indices_past_palette.bmp",
        bmp(info_header(40, w, h, 8, colors=40), rows(short, 8), bgr_palette(rgb256[:40])),
        "8-bit, 40 colours, indices up to 60 read as black", mode="P")
    add("core_pal8.bmp", bmp(core_header(w, h, 8), rows(idx256, 8), bgr_palette(np.resize(rgb256, (256, 3)), 3)),
        "OS/2 12-byte header, 8-bit, 3-byte palette entries")
    add("core_pal4.bmp", bmp(core_header(w, h, 4), rows(idx16, 4), bgr_palette(rgb16, 3)), "OS/2 header, 4-bit")
    add("core_pal1.bmp", bmp(core_header(w, h, 1), rows(bits1, 1), bgr_palette(two, 3)), "OS/2 header, 1-bit")
    add("core_rgb24.bmp", bmp(core_header(w, h, 24), rows(bgr, 24)), "OS/2 header, 24-bit")
    for size in (52, 56, 64, 108, 124):
        add(f"rgb24_h{size}.bmp", bmp(info_header(size, w, h, 24), rows(bgr, 24)), f"{size}-byte header, 24-bit")
    add("pal8_v5_topdown.bmp",
        bmp(info_header(124, w, -h, 8, colors=200), rows(idx256, 8, top_down=True), bgr_palette(rgb256)),
        "V5 header, 8-bit palette, top-down")

    # Bit fields.
    v565 = ((cat[..., 0].astype(int) >> 3) << 11 | (cat[..., 1].astype(int) >> 2) << 5
            | cat[..., 2].astype(int) >> 3).astype("<u2")
    px565 = rows(v565.view(np.uint8).reshape(h, w, 2), 16)
    add("bf16_565.bmp", bmp(info_header(40, w, h, 16, 3), px565, between=struct.pack("<III", 0xF800, 0x7E0, 0x1F)),
        "16-bit bit fields 5-6-5 after a 40-byte header")
    add("bf16_565_values.bmp", bmp(info_header(40, 64, 32, 16, 3), rows(allv.view(np.uint8).reshape(32, 64, 2), 16),
                                   between=struct.pack("<III", 0xF800, 0x7E0, 0x1F)),
        "16-bit 5-6-5: every channel value")
    add("bf16_555_v4_alpha.bmp",
        bmp(info_header(108, w, h, 16, 3, masks=(0x7C00, 0x3E0, 0x1F, 0x8000)), rows(v555.view(np.uint8).reshape(h, w, 2), 16)),
        "16-bit bit fields 5-5-5 with an alpha mask (V4): alpha ignored")
    add("bf24.bmp", bmp(info_header(40, w, h, 24, 3), rows(bgr, 24), between=struct.pack("<III", 0xFF0000, 0xFF00, 0xFF)),
        "24-bit bit fields")
    px32 = rows(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), 32)
    layouts = [((0xFF0000, 0xFF00, 0xFF, 0), "bgrx"), ((0xFF000000, 0xFF00, 0xFF, 0), "bgxr"),
               ((0xFF000000, 0xFF0000, 0xFF00, 0), "xbgr"), ((0, 0, 0, 0), "zero_masks"),
               ((0xFF, 0xFF00, 0xFF0000, 0xFF000000), "rgba"), ((0xFF0000, 0xFF00, 0xFF, 0xFF000000), "bgra"),
               ((0xFF000000, 0xFF00, 0xFF, 0xFF0000), "bgar"), ((0xFF000000, 0xFF0000, 0xFF00, 0xFF), "abgr")]
    for masks, name in layouts:
        add(f"bf32_{name}_v5.bmp", bmp(info_header(124, w, h, 32, 3, masks=masks), px32),
            f"32-bit bit fields {name.upper()} (V5 header)")
    add("bf32_xbgr_h40.bmp", bmp(info_header(40, w, h, 32, 3), px32, between=struct.pack("<III", 0xFF000000, 0xFF0000, 0xFF00)),
        "32-bit bit fields XBGR after a 40-byte header")
    add("bf32_bgrx_h52.bmp", bmp(info_header(52, w, h, 32, 3, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF)), px32),
        "32-bit bit fields in a 52-byte header: no alpha mask there, so BGRX")
    add("rgb32_v4_masks_ignored.bmp", bmp(info_header(108, w, h, 32, 0, masks=(0xFF, 0xFF00, 0xFF0000, 0)), px32),
        "32-bit BI_RGB with masks in a V4 header: masks ignored")

    # Pillow's palette modes and where pixels start.
    gray = np.array([[i, i, i] for i in range(256)])
    g8 = cat.mean(axis=2).astype(np.uint8)
    add("gray_ramp8.bmp", bmp(info_header(40, w, h, 8), rows(g8, 8), bgr_palette(gray)),
        "8-bit gray-ramp palette: mode L", mode="L")
    add("gray_ramp5_past_palette.bmp", bmp(info_header(40, w, h, 8, colors=5), rows(g8, 8), bgr_palette(gray[:5])),
        "8-bit, palette 0..4 gray: mode L, indices past the palette are their own gray level", mode="L")
    add("gray_ramp4bit_w4.bmp", bmp(info_header(40, 4, 3, 4), rows(idx16[:3, :4], 4), bgr_palette(gray[:16])),
        "4-bit gray ramp, 4 wide: mode L reads one byte a pixel", mode="L")
    bw = np.array([[0, 0, 0], [255, 255, 255]])
    add("bw_palette8.bmp", bmp(info_header(40, w, h, 8, colors=2), rows(idx16, 8), bgr_palette(bw)),
        "8-bit with a black-white palette: mode 1, rows read as packed bits", mode="1")
    add("bw_palette4.bmp", bmp(info_header(40, w, h, 4, colors=2), rows(idx16, 4), bgr_palette(bw)),
        "4-bit with a black-white palette: mode 1, rows read as packed bits", mode="1")
    add("black_palette1.bmp", bmp(info_header(40, w, h, 1, colors=1), rows(bits1, 1), bgr_palette(bw[:1])),
        "1-bit with a one-entry black palette: mode 1, so index 1 is white", mode="1")
    add("wb_palette1.bmp", bmp(info_header(40, w, h, 1), rows(bits1, 1), bgr_palette(bw[::-1])),
        "1-bit white-black palette: mode P", mode="P")
    add("offset_at_palette.bmp", bmp(info_header(40, w, h, 8, colors=200), rows(idx256, 8), bgr_palette(rgb256),
                                     offset=54),
        "bfOffBits pointing at the palette: pixels read after it")
    add("offset_zero.bmp", bmp(info_header(40, w, h, 4), rows(idx16, 4), bgr_palette(rgb16), offset=0),
        "bfOffBits 0: pixels right after the palette")
    gap = bmp(info_header(40, w, h, 24), b"\xAA" * 5 + rows(bgr, 24))
    gap = gap[:10] + struct.pack("<I", 54 + 5) + gap[14:]
    add("offset_gap.bmp", gap, "bfOffBits past a 5-byte gap")
    into = bmp(info_header(40, 2, 1, 8, colors=0), b"", bgr_palette(rgb256[:3]), offset=18)
    add("offset_into_header_short_palette.bmp", into,
        "bfOffBits inside the header, palette cut short by the end of the file (missing entries black)")
    trail = rows(bgr, 24)
    add("rgb24_last_row_unpadded.bmp", bmp(info_header(40, w, h, 24), trail[:-(-(3 * w) % 4)]),
        "the last row's padding missing (Pillow does not need it)")

    # RLE.
    add("rle8.bmp", bmp(info_header(40, w, h, 8, 1, colors=200), rle_encode(idx256, False), bgr_palette(rgb256)),
        "RLE8, encoded and absolute runs")
    add("rle4.bmp", bmp(info_header(40, w, h, 4, 2), rle_encode(idx16, True), bgr_palette(rgb16)),
        "RLE4, encoded and absolute runs")
    pal = bgr_palette(np.array([[(37 * i + 10) % 256, (91 * i + 20) % 256, (53 * i + 30) % 256] for i in range(256)]))

    def rle(name, w, h, stream, note, comp=1, bits=None, palette=pal, colors=0, offset=None, gap=b"",
            mode=None):
        bits = bits or (8 if comp == 1 else 4)
        add(name, bmp(info_header(40, w, h, bits, comp, colors=colors), stream,
                      palette[: 4 * (colors or 1 << bits)] + gap, offset=offset), note, mode)

    rle("rle8_escapes.bmp", 6, 4, bytes([2, 5, 3, 6, 0, 0,  0, 2, 2, 1, 2, 7, 0, 0,  0, 4, 1, 2, 3, 4, 1, 8, 1, 9,
                                         0, 0,  6, 3, 0, 1]),
        "RLE8: runs, end-of-line, a delta, an absolute run, end-of-bitmap")
    rle("rle8_run_cut_at_row_end.bmp", 4, 3, bytes([6, 5, 2, 6, 0, 0,  4, 7, 0, 0,  4, 8, 0, 1]),
        "RLE8: a run past the row's end is cut and later runs dropped until end-of-line")
    rle("rle8_absolute_spills.bmp", 4, 3, bytes([0, 6, 1, 2, 3, 4, 5, 6, 2, 7, 0, 0,  4, 8, 0, 1]),
        "RLE8: an absolute run continues into the next row")
    rle("rle8_delta_linear.bmp", 4, 3, bytes([1, 5, 0, 2, 5, 1, 2, 6, 0, 0,  4, 7, 0, 1]),
        "RLE8: a delta skips dx + dy * width pixels of the stream")
    rle("rle8_odd_offset.bmp", 4, 2, bytes([0, 3, 1, 2, 3, 1, 4, 0, 0, 4, 7, 0, 1]),
        "RLE8 at an odd file offset: the absolute run's padding aligns to the file, so none here",
        gap=b"\xEE")
    rle("rle8_no_end_of_bitmap.bmp", 4, 2, bytes([4, 5, 0, 0, 4, 6]), "RLE8 that simply stops when full")
    rle("rle8_topdown.bmp", 4, -3, bytes([4, 5, 0, 0, 4, 6, 0, 0, 2, 7, 2, 8, 0, 1]), "RLE8 top-down")
    rle("rle8_gray_ramp.bmp", 4, 2, bytes([4, 5, 0, 0, 4, 200, 0, 1]), "RLE8 with palette 0..15 gray: mode L",
        palette=bgr_palette(gray), colors=16, mode="L")
    rle("rle8_bw_palette.bmp", 4, 2, bytes([2, 1, 2, 0, 0, 0, 2, 5, 2, 0, 0, 1]),
        "RLE8 with a black-white palette: mode 1, non-zero indices white", palette=bgr_palette(bw), colors=2,
        mode="1")
    rle("rle8_in_4bit_file.bmp", 4, 2, bytes([4, 5, 0, 0, 4, 20, 0, 1]),
        "RLE8 in a 4-bit file: RLE8 decoding, 16-colour palette", bits=4)
    rle("rle8_offset_at_palette.bmp", 4, 2, bytes([4, 5, 0, 0, 4, 6, 0, 1]),
        "RLE8, bfOffBits pointing at the palette", offset=54)
    rle("rle4_escapes.bmp", 6, 3, bytes([5, 0x12, 0, 0,  0, 3, 0x34, 0x50, 1, 0x66, 0, 0,  0, 2, 1, 0, 5, 0x78, 0, 1]),
        "RLE4: alternating nibbles, odd absolute run, delta", comp=2)
    rle("rle4_absolute_odd5.bmp", 6, 2, bytes([0, 5, 0x12, 0x34, 0x56, 0x78, 0, 0, 6, 0x55, 0, 1]),
        "RLE4: an absolute run of 5 uses 3 bytes, then aligns", comp=2)
    rle("rle4_gray_ramp.bmp", 4, 2, bytes([4, 0x1F, 0, 0, 4, 0x23, 0, 1]), "RLE4 with a gray ramp: mode L",
        comp=2, palette=bgr_palette(gray), mode="L")

    # Refused, as Pillow refuses them.
    good = bmp(info_header(40, w, h, 24), rows(bgr, 24))
    for cut in (10, 20, 40, 60, len(good) // 2, len(good) - 4):  # the last 3 are padding
        bad(f"truncated_{cut}.bmp", good[:cut], "truncated BMP")
    bad("bits2.bmp", bmp(info_header(40, 4, 1, 2), b"\0" * 4, bgr_palette(two[:1].repeat(4, 0))), "unsupported BMP")
    bad("header16.bmp", b"BM" + struct.pack("<IHHI", 50, 0, 0, 30) + struct.pack("<IHHHH", 16, 1, 1, 1, 24)
        + b"\0" * 20, "unsupported BMP")
    bad("bitfields_101010.bmp", bmp(info_header(56, 2, 1, 32, 3, masks=(0x3FF00000, 0xFFC00, 0x3FF, 0)), b"\0" * 8),
        "unsupported BMP")
    bad("bitfields_4444.bmp", bmp(info_header(56, 2, 1, 16, 3, masks=(0xF00, 0xF0, 0xF, 0xF000)), b"\0" * 4),
        "unsupported BMP")
    bad("bitfields_8bit.bmp", bmp(info_header(40, 2, 1, 8, 3), b"\0" * 4, between=b"\0" * 12), "unsupported BMP")
    bad("compression_jpeg.bmp", bmp(info_header(40, 2, 1, 24, 4), b"\xFF\xD8\xFF\xE0"), "unsupported BMP")
    bad("rle8_24bit.bmp", bmp(info_header(40, 2, 1, 24, 1), bytes([2, 1, 0, 1])), "unsupported BMP")
    bad("rle8_early_end.bmp", bmp(info_header(40, 4, 2, 8, 1), bytes([4, 5, 0, 0, 0, 1]), pal), "truncated BMP")
    bad("rle8_cut.bmp", bmp(info_header(40, 4, 2, 8, 1), bytes([4, 5, 0, 0, 0, 6, 1, 2, 3]), pal), "truncated BMP")
    bad("rle8_runs_without_end_of_line.bmp", bmp(info_header(40, 4, 2, 8, 1), bytes([4, 5, 4, 6, 0, 1]), pal),
        "truncated BMP")
    bad("palette_300.bmp", bmp(info_header(40, 2, 1, 8, colors=300), b"\0" * 4, bgr_palette(rgb256[:100].repeat(3, 0))),
        "unsupported BMP")
    bad("palette_70000.bmp", bmp(info_header(40, 2, 1, 8, colors=70000), b"\0" * 4), "unsupported BMP")
    bad("gray_ramp4bit_w8.bmp", bmp(info_header(40, 8, 1, 4), b"\0" * 4, bgr_palette(gray[:16])), "unsupported BMP")
    bad("width0.bmp", bmp(info_header(40, 0, 1, 24), b"\0" * 4), "corrupt BMP")
    bad("bomb.bmp", bmp(info_header(40, 100000, -100000, 24), b"\0" * 16), "exceeds the limit")
    bad("bomb_rle.bmp", bmp(info_header(40, 13000, 13000, 8, 1), bytes([0, 2, 255, 255]) * 4 + b"\0\1", pal),
        "truncated BMP")


def pnm_fixtures():
    cat = photo("chelsea", (23, 13))
    h, w = cat.shape[:2]
    g8 = cat.mean(axis=2).astype(np.uint8)
    rng = np.random.default_rng(9)

    def ascii_rows(values, per_line):
        flat = [str(int(v)) for v in np.asarray(values).reshape(-1)]
        return "\n".join(" ".join(flat[i:i + per_line]) for i in range(0, len(flat), per_line)).encode() + b"\n"

    # Written by Pillow.
    for mode, ext in [("1", "pbm"), ("L", "pgm"), ("RGB", "ppm"), ("I;16", "pgm")]:
        im = Image.fromarray(cat).convert("L" if mode == "I;16" else mode)
        if mode == "I;16":
            im = Image.fromarray(np.asarray(im).astype(np.uint16) * 3)  # mode I;16
        buf = io.BytesIO()
        im.save(buf, "PPM")
        add(f"pillow_{mode.replace(';', '').lower()}.{ext}", buf.getvalue(), f"Pillow's writer, mode {mode}")

    bits = (g8 > 110).astype(int)
    add("p1.pbm", b"P1\n# a comment\n%d %d\n" % (w, h) + ascii_rows(bits, 23), "P1 ASCII bits, 1 is black")
    add("p1_no_spaces.pbm", b"P1 %d %d\n" % (w, h) + b"".join(
        b"".join(b"%d" % v for v in row) + b"#row\n" for row in bits), "P1 with no spaces between bits, comments")
    packed = np.packbits(bits, axis=1).tobytes()
    add("p4.pbm", b"P4\n%d %d\n" % (w, h) + packed, "P4 binary bits")
    add("p2.pgm", b"P2\n%d %d\n255\n" % (w, h) + ascii_rows(g8, 17), "P2 ASCII, maxval 255")
    add("p2_maxval15.pgm", b"P2 %d %d 15\n" % (w, h) + ascii_rows(g8 >> 4, 30), "P2, maxval 15: v * 255 / 15")
    add("p2_maxval1000.pgm", b"P2 %d %d 1000\n" % (w, h) + ascii_rows(g8.astype(int) // 60, 30),
        "P2, maxval 1000: mode I, v * 65535 / 1000, clipped at 255")
    add("p3.ppm", b"P3\n%d %d\n255\n" % (w, h) + ascii_rows(cat, 12), "P3 ASCII, maxval 255")
    add("p3_maxval100.ppm", b"P3 %d %d 100\n" % (w, h) + ascii_rows(cat.astype(int) * 100 // 255, 12),
        "P3, maxval 100")
    add("p3_maxval65535.ppm", b"P3 %d %d 65535\n" % (w, h) + ascii_rows(cat.astype(int) * 257 + 128, 9),
        "P3, 16-bit: v * 255 / 65535")
    add("p5.pgm", b"P5\n%d %d\n255\n" % (w, h) + g8.tobytes(), "P5 binary, maxval 255")
    p5_15 = (g8 >> 4).astype(np.uint8)
    p5_15[::3, ::4] = rng.integers(16, 256, p5_15[::3, ::4].shape)
    add("p5_maxval15_above.pgm", b"P5 %d %d 15\n" % (w, h) + p5_15.tobytes(),
        "P5, maxval 15, some samples above it: clipped at 255")
    ties = np.array([[v for v in range(7)] * 3 + [6, 6]] * 3, dtype=np.uint8)
    add("p5_maxval6_ties.pgm", b"P5 23 3 6\n" + ties.tobytes(), "P5, maxval 6: 42.5 and 212.5 round half to even")
    p5_16 = (g8.astype(np.uint16) * 2).astype(">u2")
    p5_16[::4, ::3] = rng.integers(256, 65536, p5_16[::4, ::3].shape)
    add("p5_maxval65535.pgm", b"P5\n%d %d\n65535\n" % (w, h) + p5_16.tobytes(),
        "P5 16-bit: mode I, clipped at 255 (not scaled)")
    add("p5_maxval4095.pgm", b"P5\n%d %d\n4095\n" % (w, h) + (g8.astype(np.uint16) // 16).astype(">u2").tobytes(),
        "P5, maxval 4095: v * 65535 / 4095, clipped")
    add("p6.ppm", b"P6\n%d %d\n255\n" % (w, h) + cat.tobytes(), "P6 binary, maxval 255")
    add("p6_maxval100.ppm", b"P6 %d %d 100\n" % (w, h) + (cat.astype(int) * 100 // 255).astype(np.uint8).tobytes(),
        "P6, maxval 100")
    p6_16 = (cat.astype(np.uint16) * 257 + rng.integers(0, 256, cat.shape)).astype(">u2")
    add("p6_maxval65535.ppm", b"P6\n%d %d\n65535\n" % (w, h) + p6_16.tobytes(), "P6 16-bit: v * 255 / 65535")
    add("p6_maxval1000.ppm", b"P6 %d %d 1000\n" % (w, h) + (cat.astype(int) * 1000 // 255).astype(">u2").tobytes(),
        "P6, maxval 1000")
    add("header_comments.ppm", b"P6\n# made by hand\r%d\t# width\n\x0b%d\x0c#height\n  255\r" % (w, h)
        + cat.tobytes(), "P6 with comments, \\t \\v \\f \\r in the header and \\r ending it")
    add("header_comment_in_number.pgm", b"P5 2#cut out\n3 1 255\n" + bytes(range(23)),
        "a comment inside a number joins its digits: width 23")
    add("header_python_int.pgm", b"P5 +23 00001 2_55\n" + bytes(range(23)), "numbers as Python's int() reads them")
    add("data_starts_with_hash.pgm", b"P5 3 1 255 #ab", "one whitespace ends the header: '#ab' are pixels")
    add("p2_comment_in_number.pgm", b"P2 3 1 255\n1#c\n0 2 3\n", "P2: a comment inside a sample joins its digits")
    add("p2_trailing_junk.pgm", b"P2 2 1 255\n1 2 junk 999 -5\n", "P2: short junk after the last sample is ignored")
    add("p2_trailing_long_token.pgm", b"P2 2 1 255\n1 2 99999999999 abcdefghijklm\n",
        "P2: long tokens after the last sample are ignored when whitespace ends them")
    add("p1_trailing_bits.pbm", b"P1 2 1\n10 0101\n", "P1: more bits after the last are ignored")

    good = b"P6\n%d %d\n255\n" % (w, h) + cat.tobytes()
    for cut in (3, 8, 13, len(good) // 2, len(good) - 1):
        bad(f"p6_truncated_{cut}.ppm", good[:cut], "truncated PNM")
    bad("p2_truncated.pgm", b"P2 3 1 255\n1 2", "truncated PNM")
    bad("p1_truncated.pbm", b"P1 3 2\n1 0 1\n1 0", "truncated PNM")
    bad("maxval0.pgm", b"P5 1 1 0\n\0", "corrupt PNM")
    bad("maxval65536.pgm", b"P5 1 1 65536\n\0\0", "corrupt PNM")
    bad("token_too_long.pgm", b"P5 000000000001 1 255\n\0", "corrupt PNM")
    bad("width_negative.pgm", b"P5 -1 1 255\n\0", "corrupt PNM")
    bad("p2_above_maxval.pgm", b"P2 2 1 15\n3 16\n", "corrupt PNM")
    bad("p2_letter.pgm", b"P2 2 1 255\n3 x\n", "corrupt PNM")
    bad("p1_bad_char.pbm", b"P1 3 1\n102\n", "corrupt PNM")
    bad("p1_trailing_junk.pbm", b"P1 2 1\n10 x\n", "corrupt PNM")
    bad("p2_ends_in_long_token.pgm", b"P2 2 1 255\n1 2 99999999999", "corrupt PNM")
    bad("p2_ends_in_long_token_comment.pgm", b"P2 2 1 255\n1 2 99999999999#c\n", "corrupt PNM")
    bad("p2_comment_joins_too_few.pgm", b"P2 2 1 255\n1#c\n0 ", "truncated PNM")
    bad("header_eof_in_comment.ppm", b"P6 1 1 #", "truncated PNM")
    bad("bomb.ppm", b"P6 100000 100000 255\n" + b"\0" * 64, "exceeds the limit")
    bad("bomb_ascii.pgm", b"P2 13000 13000 255\n1 2 3\n", "truncated PNM")

    # Pillow reads ASCII data in 1 MiB blocks and checks the whole block holding the last sample:
    # junk just inside it is refused, junk just past it is not looked at. Too big to commit; the
    # test rebuilds each file as prefix + `spaces` spaces + suffix.
    # `last` is the last data offset at which the suffix still lies (P1), or still has 11
    # characters (P2), within the first block.
    for prefix, suffix, last in [(b"P1 2 1 10", b"x", (1 << 20) - 1), (b"P2 2 1 255 1 2", b"9" * 11, (1 << 20) - 11)]:
        samples = 2 if prefix.startswith(b"P1") else 3  # the data's length before the spaces
        for spaces in [last - samples + d for d in (-2, -1, 0, 1, 2)]:
            data = prefix + b" " * spaces + suffix
            try:
                pillow_rgb(data).load()
                accepted = True
            except Exception:  # noqa: BLE001
                accepted = False
            manifest["blocks"].append({"prefix": prefix.decode(), "spaces": spaces, "suffix": suffix.decode(),
                                       "accepted": accepted})


def keras_fixtures():
    """keras.utils.load_img + img_to_array on whole files (CRC-32 of the uint8 array), when Keras
    is installed; otherwise the same steps spelled out with Pillow."""
    resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras.utils import img_to_array, load_img

        def pixels(path, h, w, interp):
            return img_to_array(load_img(path, target_size=(h, w), interpolation=interp)).astype(np.uint8), "keras"
    except Exception:  # pragma: no cover - Keras absent
        def pixels(path, h, w, interp):
            im = pillow_rgb(open(path, "rb").read())
            return np.asarray(im if im.size == (w, h) else im.resize((w, h), resample[interp])), "pillow"
    for name, h, w in [("rgb24.bmp", 32, 40), ("rle8.bmp", 32, 40), ("bw_palette8.bmp", 7, 9),
                       ("p6_maxval65535.ppm", 32, 40), ("p2_maxval1000.pgm", 7, 9), ("p4.pbm", 32, 40)]:
        for interp in resample:
            arr, via = pixels(os.path.join(OUT, "src", name), h, w, interp)
            manifest["keras"].append({"file": "src/" + name, "height": h, "width": w, "interpolation": interp,
                                      "via": via, "crc32": zlib.crc32(arr.tobytes())})


def main():
    for sub in ("src", "rgb", "bad"):
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)
        for f in os.listdir(os.path.join(OUT, sub)):
            os.remove(os.path.join(OUT, sub, f))
    bmp_fixtures()
    pnm_fixtures()
    keras_fixtures()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"wrote {len(manifest['decode'])} decode, {len(manifest['bad'])} bad, {len(manifest['keras'])} "
          f"load_img, {len(manifest['blocks'])} block fixtures; {total} bytes")


if __name__ == "__main__":
    main()
