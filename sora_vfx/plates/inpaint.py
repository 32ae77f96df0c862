"""Load a local diffusers image inpainting pipeline (or the built-in tiny one) and fill masks.

Plates are extended one frame at a time with an image inpainting pipeline (Stable Diffusion,
SDXL, SD3, Flux Fill, ... inpainting). Every frame gets a fresh CPU generator with the same
seed, so every frame starts from the same noise and a still border stays still.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..console import quiet_transformers
from ..errors import ModelError
from ..models.families import pipelines_of_kind
from ..models.families.image_inpainting import IMAGE_INPAINTING
from ..models.folders import check_model_folder, folder_fingerprint, read_model_overrides
from ..models.loader import from_pretrained_safely, pick_device, pick_dtype
from ..models.tiny_inpaint import ensure_tiny_inpaint_model
from ..seeds import cpu_generator

TINY_NAME = "tiny"


@dataclass
class InpaintModel:
    """A loaded image inpainting pipeline.

    ``default_size`` (width, height) sets the working area; the working size follows the
    aspect of the frame being extended and is a multiple of ``size_multiple``.
    """

    pipeline: Any = field(repr=False)
    name: str
    class_name: str
    device: torch.device
    dtype: torch.dtype
    default_size: tuple[int, int]
    size_multiple: int
    default_steps: int
    fingerprint: str
    colorspace: str = "srgb_tx"

    def working_size(self, width: int, height: int, pixel_aspect: float = 1.0) -> tuple[int, int]:
        """The model's frame for a ``width`` x ``height`` picture: its area, the picture's aspect."""
        return working_size(self.default_size, self.size_multiple, width, height, pixel_aspect)

    def check_size(self, width: int, height: int) -> None:
        """Raise ModelError unless the model can work at ``width`` x ``height``."""
        m = self.size_multiple
        if width <= 0 or height <= 0 or width % m or height % m:
            raise ModelError(f"`height` and `width` have to be divisible by {m} but are {height} and {width}.")

    def inpaint(
        self,
        *,
        image: np.ndarray,
        mask: np.ndarray,
        prompt: str,
        negative_prompt: str | None,
        num_inference_steps: int,
        guidance_scale: float,
        seed: int,
    ) -> np.ndarray:
        """Fill ``mask`` (1 = generate) of ``image``.

        Args:
            image: float32 (height, width, 3) in the model's colour space (sRGB), in [0, 1].
            mask: float32 (height, width), 1 where pixels are to be generated.
            seed: the noise is drawn on the CPU from this seed, the same on every call.
        Returns:
            float32 (height, width, 3) in [0, 1].
        """
        height, width = image.shape[:2]
        self.check_size(width, height)
        params = inspect.signature(self.pipeline.__call__).parameters
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
            result = self.pipeline(**kwargs)
        images = np.asarray(result.images, dtype=np.float32)
        return np.ascontiguousarray(np.clip(images[0], 0.0, 1.0))


def working_size(default_size: tuple[int, int], multiple: int, width: int, height: int,
                 pixel_aspect: float = 1.0) -> tuple[int, int]:
    """A model's frame for a ``width`` x ``height`` picture: the area of its ``default_size``,
    the picture's aspect, each side a multiple of ``multiple``."""
    area = default_size[0] * default_size[1]
    aspect = width * pixel_aspect / height
    w = max(multiple, round(math.sqrt(area * aspect) / multiple) * multiple)
    h = max(multiple, round(math.sqrt(area / aspect) / multiple) * multiple)
    return w, h


def is_video_outpainting(model: str) -> bool:
    """Whether ``model`` names a video outpainting model (a built-in's outpainting twin, or a
    folder holding a video family's outpainting pipeline) rather than an image inpainting one;
    reads only the folder's ``model_index.json``."""
    from ..models.families import video_kind
    from ..models.folders import OUTPAINT_VARIANTS, named_folder

    if model in OUTPAINT_VARIANTS:
        return True
    if model == TINY_NAME:
        return False
    class_name = check_model_folder(named_folder(model)[1])
    return video_kind(class_name) == "outpaint"


def _check_inpainting(folder: Path, class_name: str) -> None:
    import diffusers

    with quiet_transformers():
        pipeline_class = getattr(diffusers, class_name, None)
    if pipeline_class is None:
        raise ModelError(f"{folder}: pipeline {class_name} is not part of diffusers {diffusers.__version__}")
    params = inspect.signature(pipeline_class.__call__).parameters
    missing = IMAGE_INPAINTING.missing_arguments(params)
    if missing:
        video = "video" in params or "num_frames" in params
        kind = "a video pipeline without a mask" if video else "not an inpainting pipeline"
        raise ModelError(
            f"{folder}: {class_name} is {kind}; plate extension needs a video outpainting pipeline "
            f"({' or '.join(pipelines_of_kind('outpaint'))}) or an image inpainting one "
            f"(StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline, FluxFillPipeline, ...) whose "
            f"call takes {', '.join(IMAGE_INPAINTING.required_arguments)}"
        )


def load_plate_model(model: str = TINY_NAME, *, device: str | None = None, cache_dir: Path | None = None) -> Any:
    """The model a plate is extended with: a video outpainting model (``VideoOutpaintModel``)
    or an image inpainting one (``InpaintModel``), by what ``model`` names."""
    if is_video_outpainting(model):
        from .video import load_video_outpaint_model

        return load_video_outpaint_model(model, device=device, cache_dir=cache_dir)
    return load_inpaint_model(model, device=device, cache_dir=cache_dir)


def load_inpaint_model(model: str = TINY_NAME, *, device: str | None = None,
                       cache_dir: Path | None = None) -> InpaintModel:
    """Load the built-in tiny inpainting model or a local diffusers inpainting folder.

    Args:
        model: "tiny" or a folder holding ``model_index.json`` (safetensors weights only).
        device: torch device name; default the best available.
        cache_dir: where the tiny model is saved; default ``$SORA_VFX_CACHE``.
    Raises:
        ModelError: missing folder, pickle weights, foreign code, not an image inpainting
            pipeline, or a load failure.
    """
    torch_device = pick_device(device)
    from ..models.folders import named_folder

    if model == TINY_NAME:
        folder, name = ensure_tiny_inpaint_model(cache_dir), TINY_NAME
    else:
        name, folder = named_folder(model)
    class_name = check_model_folder(folder)
    _check_inpainting(folder, class_name)
    overrides = read_model_overrides(folder)
    dtype = pick_dtype(torch_device)
    pipeline = from_pretrained_safely(folder, dtype)
    pipeline.to(torch_device)
    pipeline.set_progress_bar_config(disable=True)
    default_size = overrides.get("default_size") or IMAGE_INPAINTING.default_size_of(pipeline)
    return InpaintModel(
        pipeline=pipeline,
        name=name,
        class_name=class_name,
        device=torch_device,
        dtype=dtype,
        default_size=(int(default_size[0]), int(default_size[1])),
        size_multiple=int(overrides.get("size_multiple", IMAGE_INPAINTING.size_multiple_of(pipeline))),
        default_steps=int(overrides.get("default_steps", 30)),
        fingerprint=folder_fingerprint(folder),
    )
