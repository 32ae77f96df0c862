"""SkyReels-V2 diffusion forcing (``SkyReelsV2DiffusionForcingPipeline`` and its image-to-video twin).

A Wan-architecture model trained with diffusion forcing: each latent frame has its own noise
level, so the model itself carries a long shot on from the frames before. Its window method
``forcing`` renders a whole shot in one call: segments of the shot's window length, each
starting from the last ``overlap`` frames of the one before (the pipeline's
``overlap_history``), the carried frames lightly re-noised (``addnoise_condition``, the
published 20). The text-to-video call cannot take latents (diffusers 0.42), so each call draws
its own noise from the shot's seed; the re-noising draws from torch's global generator, which
``LoadedModel.generate`` seeds from the same seed.
"""

from __future__ import annotations

import math
from typing import Any

from sora_vfx.models.families.base import FrameRule, SizeRule
from sora_vfx.models.families.wan import VIDEO_KINDS, WanFamily

#: How much the carried frames of each segment are re-noised: the published setting for long shots.
ADD_NOISE_CONDITION = 20


class SkyReelsV2Family(WanFamily):
    def after_load(self, pipeline: Any) -> None:
        super().after_load(pipeline)
        # An asynchronous call (causal_block_size) stays in the transformer's config and, saved,
        # in the folder; with it, frames past the last whole block are never denoised. sora_vfx
        # renders synchronously: one frame a block.
        transformer = getattr(pipeline, "transformer", None)
        if transformer is not None and getattr(transformer.config, "num_frame_per_block", 1) != 1:
            transformer.register_to_config(num_frame_per_block=1)

    def call_arguments(self, pipeline: Any, arguments: dict[str, Any], *, frame_rate: float | None) -> dict[str, Any]:
        # Its text-to-video call requires `prompt` even when given the prompt's embeddings.
        arguments = {"prompt": None, **arguments}
        if frame_rate is not None:
            arguments["fps"] = round(frame_rate)
        # One call renders one window, unless it renders a whole shot (``long_call_arguments``).
        arguments.setdefault("base_num_frames", arguments["num_frames"])
        return arguments

    def long_call(self, *, frames: int, window: int, overlap: int) -> tuple[int, dict[str, Any]]:
        # The pipeline fails on a last segment shorter than the others (diffusers 0.42's image-
        # to-video one indexes past it): the call renders whole segments, the extra frames dropped.
        per_latent = self.frames.frame_multiple if self.frames else 4
        latents, base = (frames - 1) // per_latent + 1, (window - 1) // per_latent + 1
        carried = min((overlap - 1) // per_latent + 1, base - 1)
        if latents > base:
            segments = math.ceil((latents - base) / (base - carried))
            latents = base + segments * (base - carried)
        arguments = {"base_num_frames": window, "overlap_history": (carried - 1) * per_latent + 1,
                     "addnoise_condition": ADD_NOISE_CONDITION}
        return (latents - 1) * per_latent + 1, arguments


SKYREELS_V2 = SkyReelsV2Family(
    name="SkyReels-V2",
    class_prefix="SkyReelsV2",
    classes=("SkyReelsV2DiffusionForcingPipeline", "SkyReelsV2DiffusionForcingImageToVideoPipeline"),
    kinds=VIDEO_KINDS,
    frames=FrameRule(max_frames=97, frame_multiple=4, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(960, 544)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
    vae_dtype="float32",
    frame_rate_conditioned=True,
    native_window_method="forcing",
)
