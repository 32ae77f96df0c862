"""Plate fixtures: the shared corpus, small plates written in code, raw-bit readers, the tiny
inpainting model loaded once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
BEACHBALL = CORPUS / "plates" / "beachball"
DISPLAYWINDOW = CORPUS / "exr" / "displaywindow"
DAMAGED = CORPUS / "exr" / "damaged"
#: Keeps every model call in these tests a fraction of a second.
WORK = ["--work-size", "64x48", "--steps", "2"]


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared corpus not found: {path}")
    return path


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Two OpenMP threads on a shared two-core machine spin-wait for each other when the other
    core is busy: the tiny model then runs 20-50x slower. One thread keeps these tests fast;
    the setting is put back after each module, so other tests are not affected."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def inpaint_model(sora_cache):
    from sora_vfx.plates.model import load_plate_model

    return load_plate_model("tiny")


def read_raw(path: Path, channels: int | None = None) -> tuple[oiio.ImageSpec, np.ndarray]:
    """Spec and pixels in the file's own type (float16 for half): bits as stored. Mixed types
    come as float32. ``channels``: only the first ones."""
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    try:
        spec = oiio.ImageSpec(inp.spec())
        count = channels or spec.nchannels
        pixels = inp.read_image(0, 0, 0, count, oiio.UNKNOWN if not spec.channelformats else oiio.FLOAT)
        assert pixels is not None, inp.geterror()
        return spec, np.asarray(pixels).reshape(spec.height, spec.width, count)
    finally:
        inp.close()


def bits(pixels: np.ndarray) -> np.ndarray:
    return pixels.view(np.uint16 if pixels.dtype == np.float16 else np.uint32)


def write_plate(
    path: Path,
    pixels: np.ndarray,
    *,
    origin: tuple[int, int] = (0, 0),
    display: tuple[int, int, int, int] | None = None,
    channels: Sequence[str] = ("R", "G", "B", "A"),
    pixel_type: str = "half",
    attributes: Mapping[str, tuple[str, object]] | None = None,
) -> Path:
    """Write a plate with OIIO; ``display`` is (x, y, width, height); attributes are
    name -> (OIIO type name, value)."""
    height, width, nchannels = pixels.shape
    spec = oiio.ImageSpec(width, height, nchannels, pixel_type)
    spec.x, spec.y = origin
    dx, dy, dw, dh = display or (origin[0], origin[1], width, height)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = dx, dy, dw, dh
    spec.channelnames = tuple(channels)
    if "A" in channels:
        spec.alpha_channel = list(channels).index("A")
    for name, (type_name, value) in (attributes or {}).items():
        spec.attribute(name, oiio.TypeDesc(type_name), value)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(pixels))
    assert out.close()
    return path


def gradient(width: int, height: int, channels: int = 4, *, seed: int = 0) -> np.ndarray:
    """A smooth plate with some noise: every pixel different, alpha 1."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([xs / width, ys / height, 0.5 + 0.25 * np.sin(xs / 7.0)], axis=2)
    rgb += rng.normal(0.0, 0.01, rgb.shape).astype(np.float32)
    if channels == 3:
        return rgb.astype(np.float32)
    return np.concatenate([rgb, np.ones((height, width, channels - 3), np.float32)], axis=2)


def generated_area(out_spec: oiio.ImageSpec, plate_display: tuple[int, int, int, int],
                   filmed: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean (H, W) over the output's data window: inside the new display window but
    neither in the old display window nor in the filmed data window (boxes x, y, w, h in
    output coordinates)."""
    ys = np.arange(out_spec.y, out_spec.y + out_spec.height)[:, None]
    xs = np.arange(out_spec.x, out_spec.x + out_spec.width)[None, :]

    def inside(box):
        x, y, w, h = box
        return (xs >= x) & (xs < x + w) & (ys >= y) & (ys < y + h)

    display = (out_spec.full_x, out_spec.full_y, out_spec.full_width, out_spec.full_height)
    return inside(display) & ~inside(plate_display) & ~inside(filmed)
