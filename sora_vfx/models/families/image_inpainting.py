"""Image inpainting pipelines (Stable Diffusion, SDXL, SD3, Flux Fill, ...): they extend plates
frame by frame. Recognised by what their call takes, not by name."""

from __future__ import annotations

from sora_vfx.models.families.base import Family, KindRule, SizeRule

IMAGE_INPAINTING = Family(
    name="image inpainting",
    class_prefix=None,
    kinds=(KindRule("inpaint", conditioning=("image", "mask_image")),),
    frames=None,
    size=SizeRule(size_multiple=None, default_size=(512, 512), native=True),
    spatial_attribute="vae_scale_factor",
    required_arguments=("prompt", "image", "mask_image", "height", "width", "generator", "output_type"),
)
