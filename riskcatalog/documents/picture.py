"""A flowchart (riskcatalog.documents.flowchart's Drawing) painted as a PNG with Pillow, for Word documents.

The same layout as the site's SVG, painted at SCALE times its size so that it prints sharply at the width of
an A4 page (16 cm at about 250 dots per inch). No browser and no system graphics library: Pillow's wheel
carries its own. Chinese text needs a font with Chinese characters: RISKCATALOG_FONT names one, else the
usual places are looked in (Debian's fonts-wqy-microhei or fonts-noto-cjk, Windows' and macOS's own).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .flowchart import LINE, Box, Diamond, Drawing, Label, Line

#: Pixels per layout pixel: a 738 px chart is 1,845 px wide, 290 dpi across 16 cm.
SCALE = 2.5

#: Fonts with Chinese characters, in the order they are tried.
FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
)


class NoChineseFont(Exception):
    """No font with Chinese characters was found: the flowcharts cannot be painted."""

    def __init__(self) -> None:
        super().__init__("no font with Chinese characters for drawing the flowcharts — install one "
                         "(Debian: apt-get install fonts-wqy-microhei) or set RISKCATALOG_FONT to a .ttf/.ttc file")


@cache
def font_file() -> str:
    """A font file with Chinese characters; NoChineseFont if there is none."""
    named = os.environ.get("RISKCATALOG_FONT")
    candidates = ([named] if named else []) + list(FONTS) + _fontconfig()
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _has_chinese(candidate):
            return candidate
    raise NoChineseFont()


def _fontconfig() -> list[str]:
    """The font fontconfig offers for Chinese, where fontconfig is installed."""
    if not shutil.which("fc-match"):
        return []
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return [found.stdout.strip()] if found.returncode == 0 else []


def _has_chinese(path: str) -> bool:
    """Whether the font draws Chinese: 岗 comes out otherwise than a character no font has (the missing-glyph box)."""
    try:
        font = ImageFont.truetype(path, 24)
    except OSError:
        return False
    drawn = lambda text: bytes(font.getmask(text))  # noqa: E731
    return drawn("岗") != drawn("\U0010fffd")


@cache
def _font(size: float, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_file(), round(size * SCALE))


def png(drawing: Drawing) -> bytes:
    """The drawing as PNG bytes, SCALE times its layout size, on white."""
    return _encoded(_painted(drawing))


def png_pages(drawing: Drawing, page_height: float, first_height: float | None = None) -> list[bytes]:
    """The drawing as PNGs no taller than page_height (layout pixels) each, the first no taller than first_height
    (the room left under a heading), cut between one step and the next (a step taller than a page is cut where
    the page ends), for a long power on several printed pages."""
    image, cuts, top = _painted(drawing), [], 0.0
    room = first_height or page_height
    while drawing.height - top > room:
        fitting = [y for y in drawing.breaks if top < y <= top + room]
        top = fitting[-1] if fitting else top + room
        cuts.append(top)
        room = page_height
    edges = [0.0, *cuts, drawing.height]
    return [_encoded(image.crop((0, round(a * SCALE), image.width, round(b * SCALE)))) for a, b in zip(edges, edges[1:])]


def _painted(drawing: Drawing) -> Image.Image:
    image = Image.new("RGB", (round(drawing.width * SCALE), round(drawing.height * SCALE)), "white")
    pen = ImageDraw.Draw(image)
    for shape in drawing.shapes:
        _paint(pen, shape)
    return image


def _encoded(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # A chart has few colours besides the edges of its text: a palette of 128 keeps them, in a third of the bytes.
    image.quantize(128, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=6)
    return out.getvalue()


def _s(*values: float) -> list[float]:
    return [value * SCALE for value in values]


def _paint(pen: ImageDraw.ImageDraw, shape) -> None:
    if isinstance(shape, Box):
        box = _s(shape.x, shape.y, shape.x + shape.w, shape.y + shape.h)
        pen.rounded_rectangle(box, radius=shape.radius * SCALE, fill=shape.fill,
                              outline=None if shape.dashed else shape.stroke, width=round(1.2 * SCALE))
        if shape.dashed:
            corners = [(shape.x, shape.y), (shape.x + shape.w, shape.y), (shape.x + shape.w, shape.y + shape.h),
                       (shape.x, shape.y + shape.h), (shape.x, shape.y)]
            _dashed(pen, corners, shape.stroke, 4)
        if shape.stripe:
            pen.rounded_rectangle(_s(shape.x, shape.y, shape.x + 5, shape.y + shape.h), radius=2 * SCALE,
                                  fill=shape.stripe)
    elif isinstance(shape, Diamond):
        points = [(shape.cx, shape.cy - shape.hh), (shape.cx + shape.hw, shape.cy), (shape.cx, shape.cy + shape.hh),
                  (shape.cx - shape.hw, shape.cy)]
        pen.polygon([tuple(_s(x, y)) for x, y in points], fill="#fffdf5", outline="#8a6d00", width=round(1.4 * SCALE))
    elif isinstance(shape, Line):
        if shape.dashed:
            _dashed(pen, shape.points, shape.colour, 3)
        else:
            pen.line([tuple(_s(x, y)) for x, y in shape.points], fill=shape.colour, width=round(1.3 * SCALE),
                     joint="curve")
        if shape.arrow:
            _arrowhead(pen, shape.points[-2], shape.points[-1], shape.colour)
    elif isinstance(shape, Label):
        font = _font(shape.size, shape.bold)
        for n, line in enumerate(shape.lines):
            at = _s(shape.x, shape.top + n * shape.size * LINE + shape.size * 0.1)
            # Bold by a stroke of the text's own colour: a Chinese font seldom comes with a bold face.
            pen.text(tuple(at), line, font=font, fill=shape.colour, stroke_width=1 if shape.bold else 0,
                     stroke_fill=shape.colour)


def _dashed(pen: ImageDraw.ImageDraw, points: list[tuple[float, float]], colour: str, dash: float) -> None:
    """A dashed polyline: dash on, dash off, along each segment."""
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        steps = max(int(length // dash), 1)
        for n in range(0, steps, 2):
            a, b = n / steps, min((n + 1) / steps, 1)
            pen.line([tuple(_s(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a)),
                      tuple(_s(x0 + (x1 - x0) * b, y0 + (y1 - y0) * b))], fill=colour, width=round(1.2 * SCALE))


def _arrowhead(pen: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], colour: str) -> None:
    (x0, y0), (x1, y1) = start, end
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    size = 6.5
    points = [(x1, y1), (x1 - ux * size - uy * size * 0.55, y1 - uy * size + ux * size * 0.55),
              (x1 - ux * size + uy * size * 0.55, y1 - uy * size - ux * size * 0.55)]
    pen.polygon([tuple(_s(x, y)) for x, y in points], fill=colour)
