"""CogVideoX (``CogVideoXPipeline``, ``CogVideoXImageToVideoPipeline``): the record's facts only."""

from __future__ import annotations

from sora_vfx.models.families.base import Family, FrameRule, SizeRule
from sora_vfx.models.families.wan import VIDEO_KINDS

COGVIDEOX = Family(
    name="CogVideoX",
    class_prefix="CogVideoX",
    kinds=VIDEO_KINDS,
    # 8k+1: the CogVideoX VAE turns an even number of latent frames into 4 frames each.
    frames=FrameRule(max_frames=49, frame_multiple=8, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(720, 480)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
)
