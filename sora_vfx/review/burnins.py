"""Burn-ins for preview movies: a bar above the picture (shot name, the "AI GENERATED" mark) and
one below it (frame number, timecodes). Bars, not overlays, so no picture pixel is covered.

Text is drawn with the font that Pillow ships, so no system font is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..text import one_line

AI_MARK = "AI GENERATED"
_TEXT = (235, 235, 235)
_DIM = (150, 150, 150)
_BAR = (16, 16, 16)
_MARK_BOX = (200, 30, 30)
_SLATE = (40, 40, 40)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class BurnInLayout:
    """Geometry of a burnt-in frame: ``width`` x (``bar`` + ``height`` + ``bar``)."""

    width: int
    height: int  # the picture's height
    bar: int
    font_size: int

    @classmethod
    def for_picture(cls, width: int, height: int) -> BurnInLayout:
        """Bars and a font sized for a ``width`` x ``height`` picture: text stays legible on
        small previews and in proportion on large ones."""
        font_size = max(12, round(width / 40))
        bar = round(font_size * 1.8)
        return cls(width, height, bar + bar % 2, font_size)

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.width, self.height + 2 * self.bar

    def picture_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the picture inside the frame."""
        return 0, self.bar, self.width, self.bar + self.height

    def top_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the bar above the picture."""
        return 0, 0, self.width, self.bar

    def bottom_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the bar below the picture."""
        return 0, self.bar + self.height, self.width, self.height + 2 * self.bar


def _bar(layout: BurnInLayout, left: str, right: str, *, mark: bool = False, centre: str = "") -> np.ndarray:
    # A bar holds one line of text: a line break would draw below the bar's edge.
    left, right, centre = one_line(left), one_line(right), one_line(centre)
    image = Image.new("RGB", (layout.width, layout.bar), _BAR)
    draw = ImageDraw.Draw(image)
    font = _font(layout.font_size)
    pad = max(4, layout.font_size // 2)
    middle = layout.bar / 2
    if left:
        draw.text((pad, middle), left, fill=_TEXT, font=font, anchor="lm")
    if centre:
        draw.text((layout.width / 2, middle), centre, fill=_DIM, font=font, anchor="mm")
    if right:
        if mark:
            x0, y0, x1, y1 = draw.textbbox((layout.width - pad, middle), right, font=font, anchor="rm")
            grow = max(2, layout.font_size // 5)
            draw.rectangle((x0 - grow, y0 - grow, x1 + grow, y1 + grow), fill=_MARK_BOX)
            draw.text((layout.width - pad, middle), right, fill=(255, 255, 255), font=font, anchor="rm")
        else:
            draw.text((layout.width - pad, middle), right, fill=_TEXT, font=font, anchor="rm")
    return np.asarray(image)


def top_bar(layout: BurnInLayout, title: str, *, ai_mark: bool, note: str = "") -> np.ndarray:
    """Shot name on the left, the red "AI GENERATED" mark on the right (when ``ai_mark``)."""
    return _bar(layout, title, AI_MARK if ai_mark else "", mark=True, centre=note)


def bottom_bar(layout: BurnInLayout, frame: int | None, timecode: str | None, record: str | None = None) -> np.ndarray:
    """Frame number and timecode on the left; the record timecode (edit movie) on the right."""
    left = "   ".join(part for part in (f"{frame:04d}" if frame is not None else "", f"TC {timecode}"
                                         if timecode else "") if part)
    return _bar(layout, left, f"REC {record}" if record else "")


def slate(layout: BurnInLayout, *lines: str) -> np.ndarray:
    """A grey picture with centred text (each of ``lines`` one line), standing in for a missing
    frame or a failed shot."""
    lines = tuple(one_line(line) for line in lines)
    image = Image.new("RGB", (layout.width, layout.height), _SLATE)
    draw = ImageDraw.Draw(image)
    font = _font(layout.font_size)
    step = layout.font_size * 1.4
    top = layout.height / 2 - step * (len(lines) - 1) / 2
    for index, line in enumerate(lines):
        draw.text((layout.width / 2, top + index * step), line, fill=_TEXT, font=font, anchor="mm")
    return np.asarray(image)


def compose(top: np.ndarray, picture: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Stack the bars and the picture into one (H, W, 3) uint8 frame."""
    return np.ascontiguousarray(np.concatenate([top, picture, bottom], axis=0))
