"""AnimateDiff (``AnimateDiffPipeline`` and its kin): Stable Diffusion's UNet with motion modules."""

from __future__ import annotations

from sora_vfx.models.families.base import Family, FrameRule, SizeRule
from sora_vfx.models.families.wan import VIDEO_KINDS

ANIMATEDIFF = Family(
    name="AnimateDiff",
    class_prefix="AnimateDiff",
    kinds=VIDEO_KINDS,
    frames=FrameRule(max_frames=16, frame_multiple=1, frame_offset=0),
    size=SizeRule(size_multiple=8, default_size=(512, 512)),
    # Its VAE is Stable Diffusion's, frame by frame: no temporal compression.
    spatial_attribute="vae_scale_factor",
)
