"""Plate extension with a video outpainting model (the Wan VACE layout): the border of the
whole shot is generated at once, every frame seeing its neighbours.

The model is given every frame's filmed pixels at its working size and a mask of the border
(``WanVACEPipeline``'s ``video`` and ``mask``). A plate longer than the model's frame limit
is denoised as one in overlapping latent windows (``models.context``, as long shots are), and
decoded as one stream. The same model also fills a single frame (``inpaint``), which serves
``--static`` plates and ``--per-frame`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import ModelError
from ..models.loader import LoadedModel
from ..render.windows import plan_windows
from ..seeds import cpu_generator

#: Latent frames two neighbouring windows share (the model sees both sides of each seam).
WINDOW_OVERLAP_LATENTS = 3
#: The display value of the border in the model's input (mid grey: 0 once normalised), as
#: the outpainting model was trained to see it.
BORDER_GREY = 0.5


@dataclass
class VideoOutpaintModel:
    """A loaded video outpainting pipeline with the plate path's interface.

    The model's ``default_size`` (width, height) sets the working area; the working size
    follows the aspect of the frame being extended and is a multiple of its ``size_multiple``.
    """

    model: LoadedModel = field(repr=False)
    colorspace: str = "srgb_tx"

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def default_steps(self) -> int:
        return self.model.default_steps

    def working_size(self, width: int, height: int, pixel_aspect: float = 1.0) -> tuple[int, int]:
        """The model's frame for a ``width`` x ``height`` picture: its area, the picture's aspect."""
        from .inpaint import working_size

        return working_size(self.model.default_size, self.model.size_multiple, width, height, pixel_aspect)

    def check_size(self, width: int, height: int) -> None:
        """Raise ModelError unless the model can work at ``width`` x ``height``."""
        self.model.check_inputs(1, height, width)

    def frame_windows(self, num_frames: int) -> list[tuple[int, int]]:
        """The windows (first frame, frames) a plate of ``num_frames`` is denoised in, in frames
        of the plate rounded up to a count the model's latents hold."""
        temporal = self.model.temporal_compression
        total = self.model.round_up_frames(num_frames)
        overlap = min(WINDOW_OVERLAP_LATENTS * temporal, self.model.max_frames - temporal)
        return [(w.start, w.length) for w in
                plan_windows(total, max_frames=self.model.max_frames, overlap=overlap, align=temporal)]

    def outpaint(self, *, pictures: np.ndarray, masks: np.ndarray, prompt: str, negative_prompt: str | None,
                 num_inference_steps: int, guidance_scale: float, seed: int) -> np.ndarray:
        """Fill ``masks`` (1 = generate) of every frame of ``pictures``, the whole shot at once.

        Args:
            pictures: float32 (frames, height, width, 3), display-referred, in [0, 1].
            masks: float32 (frames, height, width), 1 where pixels are to be generated.
            seed: the noise is drawn on the CPU from this seed.
        Returns:
            float32 (frames, height, width, 3) in [0, 1].
        """
        count, height, width = pictures.shape[:3]
        self.check_size(width, height)
        model = self.model
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
        noise = _noise(model, total, height, width, seed)
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
        """One frame on its own (``InpaintModel.inpaint``'s interface): a still plate's border,
        or a plate extended frame by frame with the same noise on every frame."""
        return self.outpaint(pictures=image[None], masks=mask[None], prompt=prompt, negative_prompt=negative_prompt,
                             num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, seed=seed)[0]


def _noise(model: LoadedModel, frames: int, height: int, width: int, seed: int) -> torch.Tensor:
    """The shot's initial noise, drawn on the CPU (the same on any device)."""
    config = model.pipeline.transformer.config
    temporal = model.temporal_compression
    spatial = model.family.spatial_compression(model.pipeline)
    shape = (1, int(config.out_channels or config.in_channels), (frames - 1) // temporal + 1,
             height // spatial, width // spatial)
    noise = torch.randn(shape, generator=cpu_generator(seed), dtype=torch.float32)
    return noise.to(model.device, torch.float32)


def load_video_outpaint_model(model: str, *, device: str | None = None, cache_dir: Any = None) -> VideoOutpaintModel:
    """Load a video outpainting folder (``WanVACEPipeline``) or the built-in ``shapes`` one.

    Raises:
        ModelError: not a video outpainting pipeline, or a load failure.
    """
    from ..models.folders import OUTPAINT_VARIANTS
    from ..models.loader import load_model

    loaded = load_model(OUTPAINT_VARIANTS.get(model, model), device=device, cache_dir=cache_dir)
    if "video" not in loaded.conditioning:
        raise ModelError(f"model {loaded.name} ({type(loaded.pipeline).__name__}) is not a video outpainting model")
    return VideoOutpaintModel(loaded)
