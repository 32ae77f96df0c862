"""Training clips of the shapes world, as tensors: drawn by :mod:`sora_vfx.shapes.world` in numpy
(the CPU recipe, whose weights ship), or planned there and drawn by :func:`draw_clips` with torch
on the training device (the GPU recipe, where drawing clips one by one in numpy would keep the
card waiting). Both draw the same plans to the same pixels, to float32 rounding."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from sora_vfx.shapes import grammar, world

from .model import NATIVE_SIZE


class Clips(NamedTuple):
    """Clips drawn by the shapes world, as the training loops take them."""

    video: torch.Tensor
    """(N, 3, frames, H, W) in [-1, 1]."""
    captions: list[str]
    covered: torch.Tensor
    """(N, 1, frames, H, W): the share of each pixel that an object covers."""
    motion: torch.Tensor | None
    """(N, 2, frames, H, W): each pixel's screen velocity (:func:`world.motion_field`), when asked for."""
    each: torch.Tensor
    """(N, grammar.MAX_OBJECTS, frames, H, W): the share of each pixel that each prompted object
    covers, in the caption's order (:func:`world.object_coverages`); zeros for an object the
    scene lacks."""


def world_clips(rng: np.random.Generator, count: int, frames: int, device: str = "cpu", *, motion: bool = False,
                on_device: bool = False) -> Clips:
    """``count`` random clips of the native size. The draws from ``rng`` are the same whatever
    ``motion`` and ``on_device`` are: ``on_device`` only moves the drawing to :func:`draw_clips`."""
    width, height = NATIVE_SIZE
    plans = []
    for _ in range(count):  # a scene, then its plan, in turn
        scene = grammar.random_scene(rng)
        plans.append(world.plan_clip(scene, frames=frames, width=width, height=height, rng=rng))
    captions = [grammar.caption(plan.scene) for plan in plans]
    if on_device:
        video, each, field = draw_clips(plans, device)
        return Clips(video * 2 - 1, captions, each.amax(1, keepdim=True), field if motion else None, each)
    pixels, each, fields = [], [], []
    for plan in plans:
        clip = world.draw_clip(plan)
        pixels.append(clip.frames)
        coverages = world.object_coverages(clip)
        each.append(np.pad(coverages, ((0, grammar.MAX_OBJECTS - len(coverages)), (0, 0), (0, 0), (0, 0))))
        if motion:
            fields.append(world.motion_field(clip))
    video = torch.from_numpy(np.stack(pixels)).permute(0, 4, 1, 2, 3).contiguous()
    objects = torch.from_numpy(np.stack(each)).to(device)
    field = torch.from_numpy(np.stack(fields)).permute(0, 4, 1, 2, 3).contiguous().to(device) if motion else None
    return Clips((video * 2 - 1).to(device), captions, objects.amax(1, keepdim=True), field, objects)


def draw_clips(plans: list[world.ClipPlan],
               device: str | torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw full-frame clips of ``plans`` (all of one length and size) with torch on ``device``,
    as :func:`world.draw_clip`, :func:`world.object_coverages` and :func:`world.motion_field` do
    in numpy: (N, 3, frames, H, W) sRGB in [0, 1], (N, grammar.MAX_OBJECTS, frames, H, W) each
    object's coverage and (N, 2, frames, H, W) screen velocity."""
    frames, width, height = plans[0].frames, plans[0].width, plans[0].height
    if any((p.frames, p.width, p.height) != (frames, width, height) for p in plans):
        raise ValueError("draw_clips draws plans of one length and size")
    count = len(plans)

    def tensor(values, dtype=torch.float32) -> torch.Tensor:
        return torch.tensor(values, dtype=dtype, device=device)

    t = torch.arange(frames, dtype=torch.float32, device=device)
    xs = torch.arange(width, dtype=torch.float32, device=device) + 0.5
    ys = torch.arange(height, dtype=torch.float32, device=device) + 0.5
    pan = tensor([p.pan_velocity for p in plans])
    world_x = xs[None, None, :] + (t[None, :] * pan[:, None])[:, :, None]  # (N, frames, W)
    waves = torch.zeros_like(world_x)
    most = max(len(p.texture) for p in plans)
    for k in range(most):
        # Each wave's angular frequency is rounded to float32 from float64, as in numpy.
        frequency = tensor([2 * np.pi / p.texture[k][0] if k < len(p.texture) else 0.0 for p in plans])
        phase = tensor([p.texture[k][1] if k < len(p.texture) else 0.0 for p in plans])
        share = tensor([1.0 / len(p.texture) if k < len(p.texture) else 0.0 for p in plans])
        waves = waves + torch.sin(frequency[:, None, None] * world_x + phase[:, None, None]) * share[:, None, None]
    strength = tensor([world.TEXTURE_STRENGTH / 2 if p.texture else 0.0 for p in plans])
    mix = (strength[:, None, None] * (1 + waves))[:, :, None, :, None]  # (N, frames, 1, W, 1)
    background = tensor([grammar.PALETTE[p.scene.background] for p in plans])[:, None, None, None, :]
    video = (background + mix * (0.5 - background)).expand(count, frames, height, width, 3)
    each = torch.zeros(count, grammar.MAX_OBJECTS, frames, height, width, device=device)
    field = torch.zeros(count, frames, height, width, 2, device=device)
    field[..., 0] = -pan[:, None, None, None]
    for slot in range(max(len(p.objects) for p in plans)):
        present = [slot < len(p.objects) for p in plans]
        objects = [p.objects[slot] if here else p.objects[0] for p, here in zip(plans, present, strict=True)]
        screen = tensor([(o.velocity[0] - p.pan_velocity, o.velocity[1]) for o, p in zip(objects, plans, strict=True)])
        start = tensor([o.start for o in objects])
        centre = start[:, None, :] + t[None, :, None] * screen[:, None, :]  # (N, frames, 2)
        dx = xs[None, None, None, :] - centre[:, :, 0, None, None]
        dy = ys[None, None, :, None] - centre[:, :, 1, None, None]
        radius = tensor([o.radius for o in objects])[:, None, None, None]
        ball = (radius + 0.5 - torch.sqrt(dx * dx + dy * dy)).clamp(0, 1)
        over_x = (torch.minimum(dx + 0.5, radius) - torch.maximum(dx - 0.5, -radius)).clamp(0, 1)
        over_y = (torch.minimum(dy + 0.5, radius) - torch.maximum(dy - 0.5, -radius)).clamp(0, 1)
        is_ball = tensor([o.obj.shape == "ball" for o in objects], torch.bool)[:, None, None, None]
        coverage = torch.where(is_ball, ball, over_x * over_y) * tensor(present)[:, None, None, None]
        colour = tensor([grammar.PALETTE[o.obj.colour] for o in objects])[:, None, None, None, :]
        video = video + coverage[..., None] * (colour - video)
        each[:, slot] = coverage
        field = field + coverage[..., None] * (screen[:, None, None, None, :] - field)
    return video.permute(0, 4, 1, 2, 3).contiguous(), each, field.permute(0, 4, 1, 2, 3).contiguous()
