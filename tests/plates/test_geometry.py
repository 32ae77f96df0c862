"""The new format: pads, sizes, aspects and anchors; the generated strips."""

from __future__ import annotations

import numpy as np
import pytest

from sora_vfx.errors import PlateError
from sora_vfx.plates.geometry import (
    Box,
    Layout,
    Padding,
    padding_to_aspect,
    padding_to_size,
    parse_aspect,
    parse_pad,
)

PLATE = Box(0, 0, 2048, 1556)


def test_parse_pad():
    assert parse_pad("256,256,0,0") == Padding(256, 256, 0, 0)
    assert parse_pad(" 1, 2 ,3,4") == Padding(1, 2, 3, 4)


@pytest.mark.parametrize("text, message", [
    ("256,256", "four whole numbers"),
    ("a,b,c,d", "four whole numbers"),
    ("10,-1,0,0", "would crop"),
    ("0,0,0,0", "adds no pixels"),
])
def test_bad_pads(text, message):
    with pytest.raises(PlateError, match=message):
        parse_pad(text)


def test_parse_aspect():
    assert parse_aspect("2.39") == 2.39
    assert parse_aspect("16:9") == pytest.approx(16 / 9)
    for bad in ("0", "-2", "x", "1:0", "nan"):
        with pytest.raises(PlateError, match="positive ratio"):
            parse_aspect(bad)


@pytest.mark.parametrize("anchor, expected", [
    ("center", Padding(256, 256, 22, 22)),
    ("left", Padding(0, 512, 22, 22)),
    ("top-right", Padding(512, 0, 44, 0)),
    ("bottom", Padding(256, 256, 0, 44)),
    ("bottom-left", Padding(0, 512, 0, 44)),
])
def test_to_size_anchors(anchor, expected):
    assert padding_to_size(PLATE, 2560, 1600, anchor) == expected


def test_to_size_never_crops():
    with pytest.raises(PlateError, match="smaller than the plate's 2048x1556"):
        padding_to_size(PLATE, 1920, 1600, "center")
    with pytest.raises(PlateError, match="nothing to extend"):
        padding_to_size(PLATE, 2048, 1556, "center")
    with pytest.raises(PlateError, match="unknown, available: center"):
        padding_to_size(PLATE, 4096, 1556, "middle")


def test_to_aspect_grows_the_short_side():
    wide = padding_to_aspect(PLATE, 2.39, "center")
    assert wide.left + wide.right == round(1556 * 2.39) - 2048 and wide.top == wide.bottom == 0
    tall = padding_to_aspect(Box(0, 0, 1920, 800), 16 / 9, "top")
    assert (tall.top, tall.bottom, tall.left + tall.right) == (0, 280, 0)
    # Anamorphic pixels (aspect 2): 1024 pixels wide already show 2048 wide.
    squeezed = padding_to_aspect(Box(0, 0, 1024, 858), 2.39, "center", pixel_aspect=2.0)
    assert squeezed.left + squeezed.right + 1024 == round(858 * 2.39 / 2)
    with pytest.raises(PlateError, match="already is"):
        padding_to_aspect(Box(0, 0, 239, 100), 2.39, "center")


def test_layout_keeps_the_origin_and_moves_the_plate():
    layout = Layout.build(Box(-40, -40, 481, 371), Padding(10, 20, 30, 40))
    assert layout.display == Box(-40, -40, 511, 441)
    assert layout.plate_display == Box(-30, 0, 481, 371)
    assert layout.offset == (10, 40)
    assert layout.filmed(Box(0, 0, 400, 300)) == Box(10, 40, 400, 300)
    # Overscan beyond the new frame stays in the data window.
    assert layout.data_window(Box(-100, 0, 100, 10)) == Box(-90, -40, 561, 441)


def test_strips_cover_exactly_the_new_area():
    layout = Layout.build(Box(5, 7, 30, 20), Padding(3, 4, 5, 6))
    d = layout.display
    covered = np.zeros((d.height, d.width), int)
    for strip in layout.strips():
        covered[strip.slices(d)] += 1
    expected = np.ones_like(covered)
    expected[layout.plate_display.slices(d)] = 0
    assert np.array_equal(covered, expected)
    one_sided = Layout.build(Box(0, 0, 30, 20), Padding(0, 8, 0, 0))
    assert one_sided.strips() == [Box(30, 0, 8, 20)]
