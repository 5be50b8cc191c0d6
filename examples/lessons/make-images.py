#!/usr/bin/env python3
"""Writes lesson 6's tiny image folder: hand-drawn-looking doodles of three
classes, 32x32 grey PNGs, one sub-folder per class.

    python3 examples/lessons/make-images.py [OUT]     # OUT: examples/lessons/images

    images/train/{circle,cross,triangle}/NN.png   16 per class
    images/test/{circle,cross,triangle}/NN.png     8 per class

Only the standard library (zlib for PNG). The same seed writes the same
files, byte for byte.
"""
import math
import os
import random
import struct
import sys
import zlib

SIZE = 32
CLASSES = ("circle", "cross", "triangle")
COUNTS = {"train": 16, "test": 8}


def png(path, pixels):
    """pixels: SIZE rows of SIZE values 0..255 -> an 8-bit greyscale PNG."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\0" + bytes(row) for row in pixels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy or 1e-9)
    t = max(0.0, min(1.0, t))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def draw(strokes, width, ink, paper, noise, r):
    """strokes: polylines of (x, y); a pen of `width` pixels, antialiased."""
    segs = [(a, b) for line in strokes for a, b in zip(line, line[1:])]
    rows = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            d = min(seg_dist(x + 0.5, y + 0.5, *a, *b) for a, b in segs)
            cover = max(0.0, min(1.0, width / 2 + 0.5 - d))
            v = paper + (ink - paper) * cover + r.gauss(0, noise)
            row.append(max(0, min(255, int(round(v)))))
        rows.append(row)
    return rows


def wobble(points, r, amount):
    return [(x + r.uniform(-amount, amount), y + r.uniform(-amount, amount)) for x, y in points]


def doodle(cls, r):
    cx, cy = SIZE / 2 + r.uniform(-4, 4), SIZE / 2 + r.uniform(-4, 4)
    s = r.uniform(7, 11)                      # half the size
    turn = r.uniform(0, 2 * math.pi)
    if cls == "circle":
        n = 24
        start = r.uniform(0, 2 * math.pi)
        sx, sy = s * r.uniform(0.8, 1.2), s * r.uniform(0.8, 1.2)
        pts = [(cx + sx * math.cos(start + 2 * math.pi * k / n * r.uniform(1.0, 1.08)),
                cy + sy * math.sin(start + 2 * math.pi * k / n * r.uniform(1.0, 1.08)))
               for k in range(n + 1)]
        strokes = [wobble(pts, r, 0.6)]
    elif cls == "cross":
        a = turn if r.random() < 0.5 else math.pi / 4 + r.uniform(-0.3, 0.3)
        strokes = []
        for k in range(2):
            t = a + k * math.pi / 2 + r.uniform(-0.15, 0.15)
            strokes.append(wobble([(cx - s * math.cos(t), cy - s * math.sin(t)),
                                   (cx + s * math.cos(t), cy + s * math.sin(t))], r, 1.0))
    else:
        pts = [(cx + s * math.cos(turn + 2 * math.pi * k / 3), cy + s * math.sin(turn + 2 * math.pi * k / 3))
               for k in range(3)]
        pts = wobble(pts, r, 1.5)
        strokes = [pts + [pts[0]]]
    ink = r.uniform(200, 255)
    paper = r.uniform(0, 40)
    return draw(strokes, r.uniform(1.6, 3.0), ink, paper, r.uniform(3, 12), r)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "images")
    r = random.Random(2024)
    for split, n in COUNTS.items():
        for cls in CLASSES:
            folder = os.path.join(out, split, cls)
            os.makedirs(folder, exist_ok=True)
            for i in range(n):
                png(os.path.join(folder, "%02d.png" % i), doodle(cls, r))


if __name__ == "__main__":
    main()
