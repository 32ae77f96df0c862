"""The plate-model interface: one loaded model that fills masks, asked what it can do.

A plate is extended by a model that fills what a mask marks (``LoadedModel.mask_filling``).
A video outpainting model (the Wan VACE layout: ``video`` and ``mask``) fills the border of a
whole shot at once, every frame seeing its neighbours, and a single frame as a shot of one; an
image inpainting pipeline (Stable Diffusion, SDXL, SD3, Flux Fill, ... inpainting) fills one
frame a call. Both load through ``models.load_model`` with ``plate=True`` (``tiny`` is then the
tiny inpainting model, ``shapes`` its outpainting twin), and what a model fills decides the
ways it can extend a plate (``ExtensionPath``).

A plate longer than a video model's frame limit is denoised as one in overlapping latent
windows (``models.context``, as long shots are) and decoded as one stream. A frame filled on
its own gets a fresh CPU generator with the same seed, so every frame starts from the same
noise and a still border stays still.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import defaults
from ..errors import ModelError
from ..models.families import pipelines_of_kind
from ..models.families.registry import MaskFilling, image_families, mask_filling
from ..models.folders import ModelFolder, resolve_model
from ..models.loader import LoadedModel, load_model
from ..render.windows import plan_windows
from ..seeds import cpu_generator

#: Latent frames two neighbouring windows share (the model sees both sides of each seam).
WINDOW_OVERLAP_LATENTS = 3
#: The display value of the border in a video model's input (mid grey: 0 once normalised), as
#: the outpainting model was trained to see it.
BORDER_GREY = 0.5


class ExtensionPath(Enum):
    """How a plate's border is generated (``sora-vfx extend`` without a flag takes the model's
    own way: the first of ``PlateModel.paths``)."""

    #: The whole shot at once, every frame seeing its neighbours: a video outpainting model's way.
    VIDEO = "video"
    #: Each frame on its own, every one from the same noise: an image inpainting model's way, a
    #: video outpainting model's with ``--per-frame``.
    PER_FRAME = "per_frame"
    #: Once, from the reference frame, the one border reused on every frame (``--static``).
    STATIC = "static"

    @property
    def recorded(self) -> str:
        """What headers (``sora_vfx:extend_path``), ``extend --json`` and job hashes call it:
        "video", or "frame" for the two ways that fill a frame on its own."""
        return "video" if self is ExtensionPath.VIDEO else "frame"


def extension_paths(filling: MaskFilling | None) -> tuple[ExtensionPath, ...]:
    """The ways a model that fills ``filling`` (``mask_filling``) extends plates, its own
    first: a model that fills shots any way, one that fills pictures frame by frame; none
    for a model that fills no mask."""
    if filling == "shot":
        return ExtensionPath.VIDEO, ExtensionPath.PER_FRAME, ExtensionPath.STATIC
    if filling == "picture":
        return ExtensionPath.PER_FRAME, ExtensionPath.STATIC
    return ()


@dataclass
class PlateModel:
    """A loaded model with the plate path's interface.

    The model's ``default_size`` (width, height) sets the working area; the working size
    follows the aspect of the frame being extended and is a multiple of its ``size_multiple``.
    """

    model: LoadedModel = field(repr=False)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def default_steps(self) -> int:
        return self.model.default_steps

    @property
    def paths(self) -> tuple[ExtensionPath, ...]:
        """The ways this model extends plates, its own first (``extension_paths``)."""
        return extension_paths(self.model.mask_filling)

    def working_size(self, width: int, height: int, pixel_aspect: float = 1.0) -> tuple[int, int]:
        """The model's frame for a ``width`` x ``height`` picture: the area of its
        ``default_size``, the picture's aspect, each side a multiple of its ``size_multiple``."""
        multiple = self.model.size_multiple
        area = self.model.default_size[0] * self.model.default_size[1]
        aspect = width * pixel_aspect / height
        w = max(multiple, round(math.sqrt(area * aspect) / multiple) * multiple)
        h = max(multiple, round(math.sqrt(area / aspect) / multiple) * multiple)
        return w, h

    def check_size(self, width: int, height: int) -> None:
        """Raise ModelError unless the model can work at ``width`` x ``height``."""
        self.model.check_inputs(1, height, width)

    def frame_windows(self, num_frames: int) -> list[tuple[int, int]]:
        """The windows (first frame, frames) a plate of ``num_frames`` is denoised in, in frames
        of the plate rounded up to a count the model's latents hold."""
        model = self.model
        temporal = model.temporal_compression
        total = model.round_up_frames(num_frames)
        overlap = min(WINDOW_OVERLAP_LATENTS * temporal, model.max_frames - temporal)
        return [(w.start, w.length) for w in
                plan_windows(total, max_frames=model.max_frames, overlap=overlap, align=temporal)]

    def outpaint(self, *, pictures: np.ndarray, masks: np.ndarray, prompt: str, negative_prompt: str | None,
                 num_inference_steps: int, guidance_scale: float, seed: int) -> np.ndarray:
        """Fill ``masks`` (1 = generate) of every frame of ``pictures``, the whole shot at once.

        Args:
            pictures: float32 (frames, height, width, 3), display-referred, in [0, 1].
            masks: float32 (frames, height, width), 1 where pixels are to be generated.
            seed: the noise is drawn on the CPU from this seed.
        Returns:
            float32 (frames, height, width, 3) in [0, 1].
        Raises:
            ModelError: the model cannot fill a shot (``ExtensionPath.VIDEO`` not in ``paths``), or a bad size.
        """
        model = self.model
        if model.mask_filling != "shot":
            raise ModelError(f"model {model.name} cannot fill a whole shot at once; it is not a video outpainting "
                             "model")
        count, height, width = pictures.shape[:3]
        self.check_size(width, height)
        total = model.round_up_frames(count)
        if total > count:  # the model's frame rule: hold the last frame
            pictures = np.concatenate([pictures, np.repeat(pictures[-1:], total - count, axis=0)])
            masks = np.concatenate([masks, np.repeat(masks[-1:], total - count, axis=0)])
        binary = (masks > 0.5)[..., None]
        video = np.where(binary, np.float32(BORDER_GREY), pictures).astype(np.float32)
        mask = np.repeat(binary.astype(np.float32), 3, axis=-1)
        temporal = model.temporal_compression
        latent_windows = [(start // temporal, (length - 1) // temporal + 1)
                          for start, length in self.frame_windows(count)]
        noise = _shot_noise(model, total, height, width, seed)
        with torch.inference_mode():
            latents = model.denoise(
                windows=latent_windows, prompt=prompt, negative_prompt=negative_prompt, num_frames=total,
                height=height, width=width, num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                latents=noise, video=video[None], mask=mask[None],
            )
        if model.streams_decode(latents):
            frames = np.concatenate([chunk for _index, chunk in model.decode_stream(latents)])
        else:
            frames = model.decode(latents, 0, latents.shape[2])
        return np.ascontiguousarray(np.clip(frames[:count], 0.0, 1.0), dtype=np.float32)

    def inpaint(self, *, image: np.ndarray, mask: np.ndarray, prompt: str, negative_prompt: str | None,
                num_inference_steps: int, guidance_scale: float, seed: int) -> np.ndarray:
        """Fill ``mask`` (1 = generate) of one frame on its own: a still plate's border, or a
        plate extended frame by frame with the same noise on every frame. A video model fills
        it as a shot of one frame.

        Args:
            image: float32 (height, width, 3), display-referred, in [0, 1].
            mask: float32 (height, width), 1 where pixels are to be generated.
            seed: the noise is drawn on the CPU from this seed, the same on every call.
        Returns:
            float32 (height, width, 3) in [0, 1].
        """
        if self.model.mask_filling == "shot":
            return self.outpaint(pictures=image[None], masks=mask[None], prompt=prompt,
                                 negative_prompt=negative_prompt, num_inference_steps=num_inference_steps,
                                 guidance_scale=guidance_scale, seed=seed)[0]
        height, width = image.shape[:2]
        self.check_size(width, height)
        pipeline = self.model.pipeline
        params = inspect.signature(pipeline.__call__).parameters
        kwargs: dict[str, Any] = dict(
            prompt=prompt,
            image=np.ascontiguousarray(image[None], dtype=np.float32),
            mask_image=np.ascontiguousarray(mask[None, :, :, None], dtype=np.float32),
            height=height,
            width=width,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            generator=cpu_generator(seed),
            output_type="np",
        )
        if "negative_prompt" in params and negative_prompt:
            kwargs["negative_prompt"] = negative_prompt
        if "strength" in params:
            kwargs["strength"] = 1.0  # the border is new: start from pure noise
        with torch.inference_mode():
            result = pipeline(**kwargs)
        images = np.asarray(result.images, dtype=np.float32)
        return np.ascontiguousarray(np.clip(images[0], 0.0, 1.0))


def _shot_noise(model: LoadedModel, frames: int, height: int, width: int, seed: int) -> torch.Tensor:
    """The shot's initial noise in the model's latent layout, drawn on the CPU (the same on any device)."""
    layout = model.latent_layout
    if layout is None:
        raise ModelError(f"model {model.name}: its family gives no latent layout for a shot's noise "
                         f"({model.kind} is not among its shot_noise_kinds)")
    shape = (1, layout.channels, (frames - 1) // layout.temporal + 1, height // layout.spatial,
             width // layout.spatial)
    noise = torch.randn(shape, generator=cpu_generator(seed), dtype=torch.float32)
    return noise.to(model.device, torch.float32)


def describe_plate_model(model: str = defaults.MODEL, *, cache_dir: Path | None = None) -> ModelFolder:
    """The checked folder of the model a plate is to be extended with, read without its weights.

    Raises:
        ModelError: missing folder, pickle weights, foreign code, or a pipeline that fills no
            mask (neither a video outpainting nor an image inpainting one).
    """
    found = resolve_model(model, cache_dir=cache_dir, check_diffusers=False, plate=True)
    if not extension_paths(mask_filling(found.family, found.kind)):
        what = "a video" if found.family.frames is not None else "an image"
        images = "; ".join(", ".join(family.describe()["pipelines"]) for family in image_families())
        raise ModelError(
            f"{found.folder}: {found.class_name} is {what} pipeline without a mask; plate extension needs a video "
            f"outpainting pipeline ({' or '.join(pipelines_of_kind('outpaint'))}) or an image inpainting one "
            f"(StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline, FluxFillPipeline, ...: {images})"
        )
    return found


def load_plate_model(model: str = defaults.MODEL, *, device: str | None = None,
                     cache_dir: Path | None = None) -> PlateModel:
    """Load the model a plate is extended with: the built-in ``tiny`` (image inpainting) or
    ``shapes`` (its video outpainting twin), or a local diffusers folder of either kind.

    Args:
        model: a built-in name, or a folder holding ``model_index.json`` (safetensors only).
        device: torch device name; default the best available.
        cache_dir: where the tiny model is saved; default ``$SORA_VFX_CACHE``.
    Raises:
        ModelError: as ``describe_plate_model`` (checked before any weights are read), or a
            load failure.
    """
    describe_plate_model(model, cache_dir=cache_dir)
    return PlateModel(load_model(model, device=device, cache_dir=cache_dir, plate=True))
