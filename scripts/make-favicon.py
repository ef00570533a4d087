#!/usr/bin/env python3
"""Draws Latchkey's favicon (a white keyhole on the primary blue, DESIGN.md) as
public/favicon.svg and, rasterised at 16, 32 and 48 px, public/favicon.ico.
Standard library only; run it again after changing the shape."""
import struct
import zlib
from pathlib import Path

BLUE = (0x09, 0x69, 0xDA)
SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#0969da"/>
<circle cx="16" cy="13" r="5.5" fill="#fff"/>
<path d="M13.5 15 L18.5 15 L20 25 L12 25 Z" fill="#fff"/>
</svg>
"""


def inside_rounded_square(x, y, r=7.0, size=32.0):
    cx = min(max(x, r), size - r)
    cy = min(max(y, r), size - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def inside_keyhole(x, y):
    if (x - 16) ** 2 + (y - 13) ** 2 <= 5.5 ** 2:
        return True
    if 15 <= y <= 25:
        half = 2.5 + (y - 15) / 10 * 1.5
        return abs(x - 16) <= half
    return False


def render(px):
    rows = []
    n = 4  # samples per axis per pixel
    for j in range(px):
        row = bytearray([0])  # PNG filter: none
        for i in range(px):
            cover = key = 0
            for sj in range(n):
                for si in range(n):
                    x = (i + (si + 0.5) / n) * 32 / px
                    y = (j + (sj + 0.5) / n) * 32 / px
                    if inside_rounded_square(x, y):
                        cover += 1
                        key += inside_keyhole(x, y)
            total = n * n
            if cover == 0:
                row += bytes([0, 0, 0, 0])
                continue
            w = key / cover
            rgb = [round(c * (1 - w) + 255 * w) for c in BLUE]
            row += bytes(rgb + [round(255 * cover / total)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", px, px, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(sizes):
    images = [render(s) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for s, png in zip(sizes, images):
        out += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
    return out + b"".join(images)


public = Path(__file__).resolve().parent.parent / "public"
public.mkdir(exist_ok=True)
(public / "favicon.svg").write_text(SVG)
(public / "favicon.ico").write_bytes(ico([16, 32, 48]))
