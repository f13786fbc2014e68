#!/usr/bin/env python3
"""Checks a fit-heads HTML report (standard library only, so CI needs no packages).

    report_check.py static REPORT.html           well-formed, self-contained, all sections
    report_check.py dom REPORT.html DOM.html     Chromium's --dump-dom shows every section and plot
    report_check.py pixels REPORT.html SHOT.png  the screenshot is not blank and shows the plots' colours
    report_check.py crop SHOT.png OUT.png TOP HEIGHT [SCALE]   a strip of a screenshot (for Docs/)

Each check prints what it measured and exits 1 on the first failure.
"""
import html.parser
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def fail(message):
    print("report check FAILED: " + message)
    sys.exit(1)


# ---- the page as written -----------------------------------------------------------------


class Balance(html.parser.HTMLParser):
    """Every non-void element closed, in order (html.parser itself forgives everything)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.counts = [], [], {}

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") and value and not (value.startswith("data:") or value.startswith("#")):
                self.problems.append("external reference %s=%r" % (name, value[:80]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("src", "href") and value and not (value.startswith("data:") or value.startswith("#")):
                self.problems.append("external reference %s=%r" % (name, value[:80]))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()


def expected_sections(text):
    """(head id, kind) of every head section, from the page itself."""
    return re.findall(r'<section class="head" id="([^"]+)" data-kind="([^"]+)"', text)


PLOTS = {"softmax": ["confusion"], "embedding": ["wheel", "confusion"], "sigmoid": ["histogram"], "tanh": ["scatter"]}


def check_static(path):
    text = open(path, encoding="utf-8").read()
    parser = Balance()
    parser.feed(text)
    parser.close()
    if parser.problems:
        fail("; ".join(parser.problems[:5]))
    if parser.stack:
        fail("unclosed elements: %s" % parser.stack[-5:])
    try:
        ET.fromstring(text.replace("<!DOCTYPE html>", "", 1))
    except ET.ParseError as error:
        fail("not well-formed XML: %s" % error)
    stripped = re.sub(r"data:image/jpeg;base64,[A-Za-z0-9+/=]*", "", text)
    for forbidden in ("http:", "https:", "//", "<script", "<link", "@import", "url(", "@font-face", "<iframe"):
        if forbidden in stripped:
            fail("external reference or script: %r found" % forbidden)
    sections = expected_sections(text)
    if not sections:
        fail("no head sections")
    for anchor_id, kind in sections:
        body = text.split('id="%s"' % anchor_id, 1)[1].split("</section>", 1)[0]
        for plot in PLOTS.get(kind, []) + ["chart"]:
            if 'class="card %s"' % plot not in body:
                fail("section %s (%s) has no %s" % (anchor_id, kind, plot))
    images = len(re.findall(r'src="data:image/jpeg;base64,', text))
    print("static: %d bytes, well-formed, self-contained; %d head sections (%s); %d svg, %d embedded thumbnails"
          % (len(text), len(sections), ", ".join(k for _, k in sections), parser.counts.get("svg", 0), images))


def check_dom(path, dom_path):
    text = open(path, encoding="utf-8").read()
    dom = open(dom_path, encoding="utf-8").read()
    if 'id="summary"' not in dom:
        fail("the rendered DOM has no summary header")
    for anchor_id, kind in expected_sections(text):
        if 'id="%s"' % anchor_id not in dom:
            fail("the rendered DOM lacks section %s" % anchor_id)
    for tag in ("svg", "rect", "circle", "path", "img", "section", "figure"):
        written, rendered = text.count("<%s " % tag) + text.count("<%s>" % tag), dom.count("<%s " % tag) + dom.count(
            "<%s>" % tag)
        if written != rendered:
            fail("%d <%s> written but %d in Chromium's DOM" % (written, tag, rendered))
    print("dom: Chromium parsed every section and all %d <svg>, %d <rect>, %d <circle>, %d <img>"
          % (dom.count("<svg"), dom.count("<rect"), dom.count("<circle"), dom.count("<img")))


# ---- PNG (8-bit RGB or RGBA, not interlaced: what Chromium writes) -------------------------


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    at, idat, width, height, color, depth, interlace = 8, [], 0, 0, 0, 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        at += 12 + length
    if depth != 8 or color not in (2, 6) or interlace:
        fail("unsupported PNG (depth %d, colour type %d, interlace %d)" % (depth, color, interlace))
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    # Keep RGB only.
    if channels == 4:
        rows = [bytearray(b for i, b in enumerate(row) if i % 4 != 3) for row in rows]
    return width, height, rows


def write_png(path, width, height, rows):
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def hex_rgb(text):
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def check_pixels(path, png_path):
    text = open(path, encoding="utf-8").read()
    width, height, rows = read_png(png_path)
    counts = {}
    for row in rows:
        for i in range(0, len(row), 3):
            key = (row[i], row[i + 1], row[i + 2])
            counts[key] = counts.get(key, 0) + 1
    total = width * height
    background = max(counts.values())
    print("pixels: %dx%d screenshot, %d distinct colours, the commonest covers %.0f%%"
          % (width, height, len(counts), 100.0 * background / total))
    if len(counts) < 200 or background > 0.9 * total:
        fail("the screenshot looks blank")

    def near(target, tolerance=10):
        return sum(n for (r, g, b), n in counts.items()
                   if abs(r - target[0]) <= tolerance and abs(g - target[1]) <= tolerance and abs(b - target[2]) <= tolerance)

    # Every wheel sector colour and the heat map's darkest cell colour the page uses must be on
    # screen in solid patches (sectors are hundreds of pixels each).
    wheel = sorted(set(re.findall(r'class="sector" data-class="\d+" fill="(#[0-9a-f]{6})"', text)))
    heat = sorted(set(re.findall(r'class="cell"[^>]*fill="(#[0-9a-f]{6})"', text)),
                  key=lambda h: sum(hex_rgb(h)))[:1]
    wanted = [("wheel sector", h, 150) for h in wheel] + [("darkest heat-map cell", h, 60) for h in heat]
    wanted += [("train curve", "#2563eb", 40), ("validation curve", "#ea580c", 40)]
    if not wheel and "data-kind=\"embedding\"" in text:
        fail("an embedding section without wheel sectors")
    for name, colour, minimum in wanted:
        found = near(hex_rgb(colour))
        if found < minimum:
            fail("%s colour %s: %d pixels on screen, expected at least %d" % (name, colour, found, minimum))
    print("pixels: found %d wheel sector colours, the darkest heat-map cell colour and both curve colours on screen"
          % len(wheel))


def crop(png_path, out_path, top, height, scale=1):
    width, full_height, rows = read_png(png_path)
    rows = rows[top:top + height]
    if scale > 1:
        rows = [bytearray(b for x in range(0, width, scale) for b in row[3 * x:3 * x + 3]) for row in rows[::scale]]
        width = (width + scale - 1) // scale
    write_png(out_path, width, len(rows), rows)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "static":
        check_static(sys.argv[2])
    elif command == "dom":
        check_dom(sys.argv[2], sys.argv[3])
    elif command == "pixels":
        check_pixels(sys.argv[2], sys.argv[3])
    elif command == "crop":
        crop(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    else:
        print(__doc__)
        sys.exit(2)
