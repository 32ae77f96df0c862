"""Image inpainting pipelines (Stable Diffusion, SDXL, SD3, Flux Fill, ...): they extend plates
frame by frame. Recognised by what their call takes, not by name."""

from __future__ import annotations

import inspect
from typing import Any

from sora_vfx.console import quiet_transformers
from sora_vfx.models.families.base import Family, KindRule, SizeRule


class ImageInpaintingFamily(Family):
    """Any diffusers pipeline whose call takes ``required_arguments``; one picture a call, its
    sizes read from the loaded pipeline unless a folder's ``sora_vfx.json`` sets them."""

    def accepts(self, class_name: str, *, check_diffusers: bool = True) -> bool:
        """Whether diffusers' ``class_name`` takes a prompt, an image and its mask: the class's
        call is read, so diffusers is imported whatever ``check_diffusers`` says."""
        import diffusers

        with quiet_transformers():
            pipeline_class = getattr(diffusers, class_name, None)
        if pipeline_class is None:
            return False
        return not self.missing_arguments(inspect.signature(pipeline_class.__call__).parameters)

    def limits(self) -> dict[str, Any]:
        """One picture a call, and no VAE tiling (the pictures plates have always been extended
        with); ``size_multiple`` and ``default_size`` come from the loaded pipeline
        (``size_multiple_of``, ``default_size_of``)."""
        return {"max_frames": 1, "frame_multiple": 1, "frame_offset": 0, "vae_tiling": False}


IMAGE_INPAINTING = ImageInpaintingFamily(
    name="image inpainting",
    class_prefix=None,
    kinds=(KindRule("inpaint", conditioning=("image", "mask_image")),),
    frames=None,
    size=SizeRule(size_multiple=None, default_size=(512, 512), native=True),
    spatial_attribute="vae_scale_factor",
    required_arguments=("prompt", "image", "mask_image", "height", "width", "generator", "output_type"),
)
