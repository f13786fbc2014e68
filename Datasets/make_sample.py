#!/usr/bin/env python3
"""Generate Datasets/sample: small abstract compositions whose labels are true by construction.

Run from the repository root (needs only Pillow and NumPy):

    python Datasets/make_sample.py

It rewrites Datasets/sample/images/ (JPEGs at the top level, PNGs under png/) and
Datasets/sample/labels.csv. The output is deterministic (fixed seed; JPEG bytes depend only on
Pillow's bundled libjpeg).

Each image is a saturated background (the dominant colour, > 50 % of the area) with 1-19 flat
shapes (ellipses, rectangles, triangles) on it, rendered at twice the size and downscaled with
Lanczos. The labels come from the generator, not from looking at the pixels afterwards:

* primary_color   the 30-degree HSV hue sector of the background colour (Red at 0 degrees,
                  Orange 30, ..., Red-Magenta 330); the background hue lies within 9 degrees of
                  the sector centre, so the class is unambiguous.
* harmony         the rule that produced the palette from the background hue: monochromatic
                  (one hue, different saturation/value), analogous (+-30), complementary
                  (+180), split_complementary (+150, +210), triadic (+120, +240), tetradic
                  (+90, +180, +270).
* complexity      1-10 integer: the image has 2*complexity - 1 shapes.
* contrast        1-10, one decimal: 1 + 9 * min(1, |mean luminance of the shapes - luminance
                  of the background| / 0.75), luminance Rec. 601 on the rendered (pre-JPEG)
                  pixels; the generator aims at a drawn level by setting the shapes' value.
* balance         1-10, one decimal: 1 + 9 * (1 - |L - R| / (L + R)) where L and R are the
                  left and right halves' "visual weight" (shape area times its luminance
                  difference from the background); a drawn fraction of shapes is mirrored
                  across the vertical axis, so mirrored compositions score ~10. Left empty
                  (missing) for every 20th image on purpose, to exercise missing labels.
* split           train / val / test, 70 / 15 / 15 %, drawn at random.
* tags            a multi-label set, `;`-separated, derived from the labels above (so it is
                  true whenever they are): `warm` when primary_color is Red, Orange or Yellow,
                  `high_contrast` when contrast >= 7, `busy` when complexity >= 7; `-` when the
                  image has none of them (the empty set, as fit-heads reads it).
"""

from __future__ import annotations

import colorsys
import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent / "sample"
COUNT = 240
WIDTH, HEIGHT = 128, 96  # stored size; rendered at SCALE times that
SCALE = 2
SEED = 20251123

# Hue sectors of 30 degrees, centred on multiples of 30, Red at 0.
COLOR_NAMES = ["Red", "Orange", "Yellow", "Yellow-Green", "Green", "Green-Cyan", "Cyan",
               "Blue-Cyan", "Blue", "Blue-Magenta", "Magenta", "Red-Magenta"]
HARMONIES = {
    "monochromatic": [0],
    "analogous": [0, 30, -30],
    "complementary": [0, 180],
    "split_complementary": [0, 150, 210],
    "triadic": [0, 120, 240],
    "tetradic": [0, 90, 180, 270],
}


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of float RGB in [0, 1]."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def hsv(h_deg: float, s: float, v: float) -> tuple[float, float, float]:
    return colorsys.hsv_to_rgb((h_deg % 360) / 360.0, s, v)


def draw_shape(draw: ImageDraw.ImageDraw, kind: int, box: tuple[float, float, float, float],
               fill: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = box
    if kind == 0:
        draw.ellipse(box, fill=fill)
    elif kind == 1:
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)


def mirrored(box, width):
    x0, y0, x1, y1 = box
    return (width - 1 - x1, y0, width - 1 - x0, y1)


def composition(rng: np.random.Generator, color_index: int, harmony: str, complexity: int,
                contrast_level: int, mirror_fraction: float):
    """Render one composition; return (uint8 image at stored size, measured scores)."""
    w, h = WIDTH * SCALE, HEIGHT * SCALE
    base_hue = color_index * 30 + rng.uniform(-9, 9)
    bg_s, bg_v = rng.uniform(0.6, 0.9), rng.uniform(0.85, 1.0)
    bg = np.array(hsv(base_hue, bg_s, bg_v))
    offsets = HARMONIES[harmony]
    delta = 0.085 * contrast_level  # aimed value difference between shapes and background

    n_shapes = 2 * complexity - 1
    # Keep the background dominant: the shapes' summed area is at most ~40 % of the canvas.
    side = np.sqrt(0.40 * w * h / n_shapes) if n_shapes > 1 else 0.55 * h
    canvas = Image.new("RGB", (w, h), tuple(int(round(c * 255)) for c in bg))
    draw = ImageDraw.Draw(canvas)
    weight = np.zeros((h, w))  # per pixel: |luminance - background luminance| where a shape is
    mask = Image.new("L", (w, h), 0)
    mask_draw = ImageDraw.Draw(mask)
    bg_lum = float(luminance(bg))
    shape_lums = []
    placed = 0
    while placed < n_shapes:
        # Palette hues cycle over the harmony's offsets (the first shape may share the base hue).
        hue = base_hue + offsets[(placed + 1) % len(offsets)] + rng.uniform(-4, 4)
        s = rng.uniform(0.35, 0.95) if harmony == "monochromatic" else rng.uniform(0.5, 1.0)
        v = float(np.clip(bg_v - delta * rng.uniform(0.9, 1.1), 0.04, 1.0))
        rgb = np.array(hsv(hue, s, v))
        fill = tuple(int(round(c * 255)) for c in rgb)
        sw, sh = side * rng.uniform(0.6, 1.2), side * rng.uniform(0.6, 1.2)
        x0, y0 = rng.uniform(0, w - sw), rng.uniform(0, h - sh)
        box = (x0, y0, x0 + sw, y0 + sh)
        kind = int(rng.integers(0, 3))
        boxes = [box]
        if placed + 1 < n_shapes and rng.uniform() < mirror_fraction:
            boxes.append(mirrored(box, w))
        for b in boxes:
            draw_shape(draw, kind, b, fill)
            one = Image.new("L", (w, h), 0)
            draw_shape(ImageDraw.Draw(one), kind, b, 255)
            on = np.asarray(one) > 127
            weight[on] = abs(float(luminance(rgb)) - bg_lum)  # later shapes cover earlier ones
            draw_shape(mask_draw, kind, b, 255)
            shape_lums.append(float(luminance(rgb)))
            placed += 1
    covered = np.asarray(mask) > 127
    bg_fraction = 1.0 - covered.mean()

    half = w // 2
    left, right = weight[:, :half].sum(), weight[:, w - half:].sum()
    balance = 1 + 9 * (1 - abs(left - right) / max(left + right, 1e-9))
    pixels = np.asarray(canvas, dtype=np.float64) / 255.0
    shape_mean = float(luminance(pixels)[covered].mean()) if covered.any() else bg_lum
    contrast = 1 + 9 * min(1.0, abs(shape_mean - bg_lum) / 0.75)
    small = canvas.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    return small, dict(balance=round(balance, 1), contrast=round(contrast, 1),
                       bg_fraction=bg_fraction, base_hue=base_hue % 360)


WARM_COLORS = {"Red", "Orange", "Yellow"}


def tags_of(primary_color: str, contrast: float, complexity: int) -> str:
    """The multi-label `tags` cell: labels in a fixed order, `-` for the empty set."""
    tags = []
    if primary_color in WARM_COLORS:
        tags.append("warm")
    if contrast >= 7:
        tags.append("high_contrast")
    if complexity >= 7:
        tags.append("busy")
    return ";".join(tags) if tags else "-"


def main() -> None:
    rng = np.random.default_rng(SEED)
    if ROOT.exists():
        shutil.rmtree(ROOT)
    (ROOT / "images" / "png").mkdir(parents=True)
    # Balanced classes: every colour 20 times, every harmony 40 times, in a shuffled order.
    colors = np.repeat(np.arange(12), COUNT // 12)
    harmonies = np.repeat(np.arange(len(HARMONIES)), COUNT // len(HARMONIES))
    rng.shuffle(colors)
    rng.shuffle(harmonies)
    splits = np.array(["train"] * 168 + ["val"] * 36 + ["test"] * 36)
    rng.shuffle(splits)
    harmony_names = list(HARMONIES)
    rows = []
    for i in range(COUNT):
        harmony = harmony_names[harmonies[i]]
        complexity = int(rng.integers(1, 11))
        contrast_level = int(rng.integers(1, 11))
        mirror_fraction = float(rng.choice([0.0, 0.3, 0.7, 1.0]))
        while True:
            img, m = composition(rng, int(colors[i]), harmony, complexity, contrast_level,
                                 mirror_fraction)
            if m["bg_fraction"] > 0.5:  # the background must stay the dominant colour
                break
        png = i % 6 == 5
        rel = f"png/comp_{i:03d}.png" if png else f"comp_{i:03d}.jpg"
        if png:
            img.save(ROOT / "images" / rel, "PNG", optimize=True)
        else:
            img.save(ROOT / "images" / rel, "JPEG", quality=90)
        rows.append({
            "path": rel,
            "balance": "" if i % 20 == 19 else f"{m['balance']:.1f}",
            "contrast": f"{m['contrast']:.1f}",
            "complexity": complexity,
            "harmony": harmony,
            "primary_color": COLOR_NAMES[int(colors[i])],
            "split": splits[i],
            "tags": tags_of(COLOR_NAMES[int(colors[i])], m["contrast"], complexity),
        })
    with open(ROOT / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    total = sum(p.stat().st_size for p in (ROOT / "images").rglob("*") if p.is_file())
    print(f"wrote {COUNT} images ({total / 1e6:.2f} MB) and {ROOT / 'labels.csv'}")


if __name__ == "__main__":
    main()
