"""Output frame buffers: the generated border as a template, the filmed pixels copied in as decoded.

With a static border every worker thread keeps one buffer filled from the template and only
rewrites the filmed rectangle for each frame (restoring the template where the previous
frame's rectangle was), so a frame costs its decode, one copy of the filmed pixels and its
encode: no full-frame copy.
"""

from __future__ import annotations

import threading

import numpy as np

from .border import Border
from .channels import ChannelPlan
from .geometry import Box, Layout


def border_template(layout: Layout, channels: ChannelPlan, border: Border) -> np.ndarray:
    """The new display window with the border filled in: RGB, A = 1 and mask = 1 on the strips,
    zero elsewhere (where the filmed pixels go, or EXR's empty space around them)."""
    display = layout.display
    template = np.zeros((display.height, display.width, len(channels.names)), dtype=channels.dtype)
    origin = Box(0, 0, display.width, display.height)
    for box, rgb in border.strips:
        target = template[box.slices(origin)]
        target[..., :3] = rgb
        target[..., 3] = 1.0
        target[..., 4] = 1.0
    return template


def _paste(target: np.ndarray, pixels: np.ndarray, channels: ChannelPlan) -> None:
    colour = 4 if channels.has_alpha else 3
    target[..., :colour] = pixels[..., :colour]
    if not channels.has_alpha:
        target[..., 3] = 1.0  # filmed pixels are opaque
    target[..., 4] = 0.0
    if channels.extras:
        target[..., 5:] = pixels[..., colour:]


def _blend_patches(buffer: np.ndarray, out_box: Box, filmed: Box, layout: Layout,
                   patches: list[tuple[Box, np.ndarray, np.ndarray]]) -> None:
    """Generated pixels over the filmed ones where a matte is above 0: ``filmed * (1 - m) +
    generated * m``, alpha towards 1, ``mask`` = m. Pixels where m is 0 are not touched, and only
    filmed pixels are (the filmed paste restores them for the next frame of a shared buffer)."""
    display = layout.display
    for box, rgb, weights in patches:
        placed = box.shifted(display.x, display.y)
        region = placed.intersect(filmed).intersect(out_box)
        if region.empty:
            continue
        rows, cols = region.shifted(-placed.x, -placed.y).slices(Box(0, 0, box.width, box.height))
        target = buffer[region.slices(out_box)]
        weight = weights[rows, cols]
        chosen = weight > 0.0
        if not chosen.any():
            continue
        w = weight[chosen][:, None]
        pixels = target[chosen].astype(np.float32)
        pixels[:, :3] = pixels[:, :3] * (1.0 - w) + rgb[rows, cols][chosen] * w
        pixels[:, 3] = pixels[:, 3] * (1.0 - w[:, 0]) + w[:, 0]
        pixels[:, 4] = w[:, 0]
        target[chosen] = pixels.astype(buffer.dtype)


class FrameAssembler:
    """Builds output frames from a border template (and the matte's ``patches`` over the plate).

    ``shared`` templates (a static border) are never written to: each thread works in its own
    buffer. A template that is not shared belongs to one frame and is filled in place.
    """

    def __init__(self, layout: Layout, channels: ChannelPlan, template: np.ndarray, *, shared: bool,
                 patches: list[tuple[Box, np.ndarray, np.ndarray]] | None = None):
        self.layout, self.channels, self.template, self.shared = layout, channels, template, shared
        self.patches = list(patches or ())
        self._local = threading.local()

    def assemble(self, data: Box, pixels: np.ndarray) -> tuple[np.ndarray, Box]:
        """The frame whose data window is ``data``: its buffer (valid until this thread's next
        call) and the output data window it covers."""
        layout = self.layout
        out_box, filmed = layout.data_window(data), layout.filmed(data)
        if out_box != layout.display:  # overscan beyond the new frame: kept, in a buffer of its own
            buffer = np.zeros((out_box.height, out_box.width, self.template.shape[2]), self.template.dtype)
            buffer[layout.display.slices(out_box)] = self.template
        elif not self.shared:
            buffer = self.template
        else:
            buffer = getattr(self._local, "buffer", None)
            previous = getattr(self._local, "filmed", None)
            if buffer is None:
                buffer = self._local.buffer = self.template.copy()
            elif previous is not None and previous != filmed:
                region = previous.slices(layout.display)
                buffer[region] = self.template[region]
            self._local.filmed = filmed
        _paste(buffer[filmed.slices(out_box)], pixels, self.channels)
        if self.patches:
            _blend_patches(buffer, out_box, filmed, layout, self.patches)
        return buffer, out_box
