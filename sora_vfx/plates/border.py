"""Generate the border of one extended frame: plate -> model space -> inpaint -> plate space.

The model sees the whole new frame at its working resolution, the filmed part known and the
border masked. Only the border comes back: each strip around the old frame is resized from the
model's output to plate resolution and converted to the plate's colour space. Filmed pixels
never pass through here on their way to the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import OpenImageIO as oiio

from ..errors import ImagingError
from ..imaging.transform import OutputTransform
from .geometry import Box, Layout, distance_to
from .matte import matte_box
from .model import PlateModel

#: Filters: a non-negative one going down (no halo of negative light around the plate), a
#: mild cubic going up.
DOWN_FILTER = "triangle"
UP_FILTER = "mitchell"
#: A working pixel is "known" only when all of it is filmed; any generated share masks it.
_KNOWN = 0.999


@dataclass(frozen=True)
class Prompting:
    """What the model is asked for, the same on every frame."""

    prompt: str
    negative_prompt: str
    steps: int
    guidance: float
    seed: int


@dataclass
class Border:
    """Generated pixels, float32 RGB in the plate's colour space, one array per strip.

    Boxes are relative to the new display window's origin.
    """

    strips: list[tuple[Box, np.ndarray]]
    model_input: np.ndarray  # what the model saw (sRGB), for debugging and tests
    model_mask: np.ndarray
    model_output: np.ndarray
    #: Generated pixels over the plate where a matte asks for them (``matte_patches``).
    patches: list[tuple[Box, np.ndarray, np.ndarray]] = field(default_factory=list)


def _resize(pixels: np.ndarray, width: int, height: int, filtername: str) -> np.ndarray:
    source = oiio.ImageBuf(np.ascontiguousarray(pixels, dtype=np.float32))
    result = oiio.ImageBufAlgo.resize(source, filtername=filtername,
                                      roi=oiio.ROI(0, width, 0, height, 0, 1, 0, pixels.shape[2]))
    if result.has_error:
        raise ImagingError(f"cannot resize the model's frame: {result.geterror()}")
    return np.asarray(result.get_pixels(oiio.FLOAT), dtype=np.float32).reshape(height, width, pixels.shape[2])


def _resize_strip(source: oiio.ImageBuf, full: Box, strip: Box) -> np.ndarray:
    """Pixels of ``strip`` in ``source`` resized to ``full``: only the strip is computed."""
    nchannels = source.spec().nchannels
    spec = oiio.ImageSpec(strip.width, strip.height, nchannels, "float")
    spec.x, spec.y = strip.x, strip.y
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = full.x, full.y, full.width, full.height
    dst = oiio.ImageBuf(spec)
    roi = oiio.ROI(strip.x, strip.x_end, strip.y, strip.y_end, 0, 1, 0, nchannels)
    if not oiio.ImageBufAlgo.resize(dst, source, filtername=UP_FILTER, roi=roi):
        raise ImagingError(f"cannot resize the generated border: {dst.geterror()}")
    return np.asarray(dst.get_pixels(oiio.FLOAT, roi), dtype=np.float32).reshape(strip.height, strip.width, nchannels)


def build_canvas(layout: Layout, filmed: Box, rgb: np.ndarray) -> tuple[np.ndarray, Box]:
    """The new frame as float32 RGB + known (4 channels), relative to the display origin.

    Known is 1 over the old display window and the filmed pixels inside the new frame; the
    old display window outside the data window is black, as EXR says it is.
    """
    display = layout.display
    origin = Box(display.x, display.y, display.width, display.height)
    canvas = np.zeros((display.height, display.width, 4), dtype=np.float32)
    canvas[layout.plate_display.slices(origin)][..., 3] = 1.0
    visible = filmed.intersect(display)
    if not visible.empty:
        source = visible.shifted(-filmed.x, -filmed.y)
        rows, cols = source.slices(Box(0, 0, filmed.width, filmed.height))
        target = canvas[visible.slices(origin)]
        target[..., :3] = np.nan_to_num(rgb[rows, cols, :3].astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        target[..., 3] = 1.0
    return canvas, visible.shifted(-display.x, -display.y)


def apply_matte(canvas: np.ndarray, layout: Layout, matte: np.ndarray | None) -> np.ndarray:
    """The canvas the model sees: filmed pixels under the matte (``plates.matte``) become unknown,
    to be generated like the border. The canvas given is left as it is (its filmed pixels feather
    the seam)."""
    if matte is None:
        return canvas
    display = layout.display
    region = layout.plate_display.shifted(-display.x, -display.y).slices(Box(0, 0, display.width, display.height))
    seen = canvas.copy()
    seen[region] *= (1.0 - matte)[..., None]
    return seen


def matte_patches(*, layout: Layout, generated: np.ndarray, matte: np.ndarray | None,
                  ) -> list[tuple[Box, np.ndarray, np.ndarray]]:
    """The model's ``generated`` frame (in the plate's colour space) at plate resolution over the
    matte's extent: (box relative to the display origin, RGB, the matte's weights) or nothing."""
    if matte is None:
        return []
    extent = matte_box(matte)
    if extent.empty:
        return []
    display = layout.display
    box = extent.shifted(layout.plate_display.x - display.x, layout.plate_display.y - display.y)
    source = oiio.ImageBuf(np.ascontiguousarray(generated, dtype=np.float32))
    rgb = _resize_strip(source, Box(0, 0, display.width, display.height), box)
    weights = matte[extent.slices(Box(0, 0, matte.shape[1], matte.shape[0]))]
    return [(box, rgb, np.ascontiguousarray(weights))]


@dataclass
class ModelView:
    """What the model is given of one frame, at its working size: the picture (display-referred,
    the border black), the mask (1 where it draws) and the plate in its own scene-linear space
    (0 in the border), which the border's colour is anchored to."""

    picture: np.ndarray
    mask: np.ndarray
    plate: np.ndarray


def model_view(canvas: np.ndarray, *, work_size: tuple[int, int], transform: OutputTransform,
               colorspace: str) -> ModelView:
    """The new frame (``build_canvas``, in ``colorspace``) at the model's ``work_size``."""
    width, height = work_size
    small = _resize(canvas, width, height, DOWN_FILTER)
    known = small[..., 3]
    mask = (known < _KNOWN).astype(np.float32)
    weight = np.where(known > 1e-3, known, 1.0)[..., None]
    plate_small = np.where(known[..., None] > 1e-3, small[..., :3] / weight, 0.0).astype(np.float32)
    return ModelView(transform.to_picture(plate_small, colorspace), mask, plate_small)


def border_strips(*, layout: Layout, generated: np.ndarray, blend: int = 0,
                  canvas: tuple[np.ndarray, Box] | None = None) -> list[tuple[Box, np.ndarray]]:
    """The strips around the old frame, resized from the model's ``generated`` frame (already
    in the plate's colour space) to plate resolution; with ``blend``, feathered towards the
    filmed pixels of ``canvas`` (``build_canvas``'s result, needed only then)."""
    display = layout.display
    source = oiio.ImageBuf(np.ascontiguousarray(generated, dtype=np.float32))
    full = Box(0, 0, display.width, display.height)
    plate_box = layout.plate_display.shifted(-display.x, -display.y)
    if blend > 0 and canvas is None:
        raise ValueError("feathering the seam (blend) needs the frame's canvas")
    strips = []
    for strip in layout.strips():
        local = strip.shifted(-display.x, -display.y)
        pixels = _resize_strip(source, full, local)
        if blend > 0:
            _feather(pixels, local, canvas[0], (plate_box, canvas[1]), blend)
        strips.append((local, pixels))
    return strips


def generate_border(
    *,
    layout: Layout,
    filmed: Box,
    rgb: np.ndarray,
    model: PlateModel,
    work_size: tuple[int, int],
    prompting: Prompting,
    transform: OutputTransform,
    colorspace: str,
    blend: int = 0,
    matte: np.ndarray | None = None,
) -> Border:
    """Generate the strips around the old frame for one plate frame, on its own.

    Args:
        layout: the extended frame.
        filmed: where the frame's data window lands in the output (``layout.filmed``).
        rgb: the frame's data window, (height, width, >= 3), in ``colorspace``.
        model: the model; it fills this one frame on its own (``PlateModel.inpaint``).
        work_size: the model's (width, height).
        prompting: prompt, steps, guidance and seed.
        transform: takes the plate to the picture the model sees and the model's picture back.
        colorspace: the plate's colour space (resolved name).
        blend: feather this many pixels of the seam, on the generated side only.
        matte: filmed pixels to generate too (``plates.matte.read_matte``), or None.
    """
    canvas = build_canvas(layout, filmed, rgb)
    view = model_view(apply_matte(canvas[0], layout, matte), work_size=work_size, transform=transform,
                      colorspace=colorspace)
    generated = model.inpaint(
        image=view.picture, mask=view.mask, prompt=prompting.prompt, negative_prompt=prompting.negative_prompt,
        num_inference_steps=prompting.steps, guidance_scale=prompting.guidance, seed=prompting.seed,
    )
    scene = transform.to_scene(generated, colorspace)
    strips = border_strips(layout=layout, generated=scene, blend=blend, canvas=canvas)
    patches = matte_patches(layout=layout, generated=scene, matte=matte)
    return Border(strips, view.picture, view.mask, generated, patches)


def _feather(pixels: np.ndarray, strip: Box, canvas: np.ndarray, known: tuple[Box, Box], blend: int) -> None:
    """Blend the ``blend`` generated pixels nearest the filmed ones towards the filmed edge.

    The edge is the nearest filmed pixel (the plate's border pixels extended outward); weights
    rise smoothly from the seam, so filmed pixels stay as they are and pixels ``blend`` or more
    away are purely generated.
    """
    best, near_y, near_x = distance_to(strip, known[0])
    if not known[1].empty:
        other, other_y, other_x = distance_to(strip, known[1])
        closer = other < best
        best = np.where(closer, other, best)
        near_y, near_x = np.where(closer, other_y, near_y), np.where(closer, other_x, near_x)
    ramp = np.clip(best / (blend + 1), 0.0, 1.0)
    weight = ramp * ramp * (3.0 - 2.0 * ramp)
    band = weight < 1.0
    if not band.any():
        return
    edge = canvas[near_y[band], near_x[band], :3]
    w = weight[band][:, None]
    pixels[band] = edge + (pixels[band] - edge) * w
