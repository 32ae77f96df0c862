"""Model families: one record per family holds every fact sora_vfx knows about it.

A folder's family comes from the pipeline class named in its ``model_index.json``. The record
says which classes belong to it, which kind each class is (text-to-video, image-to-video,
image inpainting) and what it is conditioned on, the frame and size rules (a folder's
``sora_vfx.json`` may override them), which pipeline attributes hold the VAE's compression,
whether a shot's windows share one noise tensor, and the dtype its VAE has to run in.

Adding a video family is one record here, listed in ``VIDEO_FAMILIES``, plus its tiny test
model in ``tests/models/test_families.py``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from sora_vfx.errors import ModelError

#: The file in a model folder that overrides its family's limits (see ``read_model_overrides``).
SORA_VFX_JSON = "sora_vfx.json"
#: The limits a family record sets and a folder's ``sora_vfx.json`` may override.
LIMIT_KEYS = ("max_frames", "frame_multiple", "frame_offset", "size_multiple", "default_size")

Kind = Literal["t2v", "i2v", "inpaint", "outpaint"]

# Stable Diffusion's VAE scale, assumed for image pipelines that do not state theirs.
_IMAGE_VAE_SCALE = 8


@dataclass(frozen=True)
class FrameRule:
    """Valid frame counts for one call: ``frame_multiple * k + frame_offset``, at most ``max_frames``."""

    max_frames: int
    frame_multiple: int
    frame_offset: int

    def round_up(self, num_frames: int) -> int:
        """The smallest valid frame count that is at least ``num_frames``."""
        # k starts at 1 when frame_offset is 0, so that 0 frames is never "valid".
        k = max(
            0 if self.frame_offset else 1, math.ceil((num_frames - self.frame_offset) / self.frame_multiple)
        )
        return k * self.frame_multiple + self.frame_offset

    def describe(self) -> str:
        """The valid frame counts in words, e.g. "4k+1" or "a multiple of 8"."""
        if self.frame_offset:
            return f"{self.frame_multiple}k+{self.frame_offset}"
        return f"a multiple of {self.frame_multiple}"


@dataclass(frozen=True)
class SizeRule:
    """Height and width are multiples of ``size_multiple``; ``default_size`` is (width, height).

    Image pipelines state both themselves: ``size_multiple=None`` means twice the loaded VAE's
    scale (a latent side even), and ``native`` puts the pipeline's own sample size before
    ``default_size``.
    """

    size_multiple: int | None
    default_size: tuple[int, int]
    native: bool = False


@dataclass(frozen=True)
class KindRule:
    """One kind of pipeline in a family.

    ``markers``: substrings of the class name that pick this kind; empty matches any class.
    ``conditioning``: what the pipeline call takes besides the prompt (e.g. "image").
    """

    kind: Kind
    markers: tuple[str, ...] = ()
    conditioning: tuple[str, ...] = ()


@dataclass(frozen=True)
class LatentLayout:
    """Latent channels, frames per latent frame and pixels per latent pixel of a loaded model."""

    channels: int
    temporal: int
    spatial: int


@dataclass(frozen=True)
class Family:
    """Everything sora_vfx knows about one model family.

    ``class_prefix``: pipeline classes whose name starts with it and holds "Pipeline" belong
    to the family (None: recognised by ``call_arguments`` instead). ``kinds`` are tried in
    order. ``temporal_attribute``/``spatial_attribute`` name the pipeline attributes holding
    the VAE's compression. ``shot_noise_kinds``: kinds whose windows slice one shot-wide noise
    tensor. ``context_axis``: the frame axis of the latents its transformer takes, for context
    windows (``models.context``); None where a shot's windows cannot be denoised as one.
    ``vae_dtype``: the dtype the VAE loads in whatever the rest of the model uses.
    """

    name: str
    class_prefix: str | None
    kinds: tuple[KindRule, ...]
    frames: FrameRule | None
    size: SizeRule
    temporal_attribute: str | None = None
    spatial_attribute: str | None = None
    shot_noise_kinds: tuple[Kind, ...] = ()
    context_axis: int | None = None
    vae_dtype: Literal["float32"] | None = None
    call_arguments: tuple[str, ...] = ()

    def accepts(self, class_name: str, *, check_diffusers: bool = True) -> bool:
        """Whether ``class_name`` is one of this family's pipelines.

        ``check_diffusers`` also asks diffusers whether the class exists, which imports every
        pipeline (seconds); a farm driver that only plans skips it, the render node checks.
        """
        if self.class_prefix is None or not class_name.startswith(self.class_prefix) or "Pipeline" not in class_name:
            return False
        return not check_diffusers or _in_diffusers(class_name)

    def kind_of(self, class_name: str) -> Kind:
        """The kind of one of this family's pipeline classes."""
        return self._kind_rule(class_name).kind

    def conditioning(self, kind: str) -> tuple[str, ...]:
        """What a pipeline of this kind is given besides the prompt; () for an unknown kind."""
        return next((rule.conditioning for rule in self.kinds if rule.kind == kind), ())

    def limits(self) -> dict[str, Any]:
        """The record's frame and size limits, by ``LIMIT_KEYS`` name."""
        limits: dict[str, Any] = {"default_size": self.size.default_size}
        if self.size.size_multiple is not None:
            limits["size_multiple"] = self.size.size_multiple
        if self.frames is not None:
            limits.update(max_frames=self.frames.max_frames, frame_multiple=self.frames.frame_multiple,
                          frame_offset=self.frames.frame_offset)
        return limits

    def temporal_compression(self, pipeline: Any) -> int:
        """Frames per latent frame of a loaded pipeline; 1 where the family or pipeline does not say."""
        value = getattr(pipeline, self.temporal_attribute, None) if self.temporal_attribute else None
        return value if isinstance(value, int) and value > 0 else 1

    def spatial_compression(self, pipeline: Any) -> int:
        """Pixels per latent pixel (each side) of a loaded pipeline; Stable Diffusion's 8 where unsaid."""
        value = getattr(pipeline, self.spatial_attribute, None) if self.spatial_attribute else None
        return int(value or _IMAGE_VAE_SCALE)

    def latent_layout(self, pipeline: Any, kind: str) -> LatentLayout | None:
        """The latent layout of a loaded pipeline of this kind, for drawing one noise tensor
        per shot; None where the family's windows draw their own noise."""
        config = getattr(getattr(pipeline, "transformer", None), "config", None)
        if kind not in self.shot_noise_kinds or config is None:
            return None
        # out_channels: an image-to-video transformer also takes its conditioning as input channels.
        channels = getattr(config, "out_channels", None) or config.in_channels
        return LatentLayout(int(channels), self.temporal_compression(pipeline),
                            self.spatial_compression(pipeline))

    def size_multiple_of(self, pipeline: Any) -> int:
        """The height and width multiple of a loaded pipeline."""
        if self.size.size_multiple is not None:
            return self.size.size_multiple
        return 2 * self.spatial_compression(pipeline)

    def default_size_of(self, pipeline: Any) -> tuple[int, int]:
        """The (width, height) a loaded pipeline works at by default."""
        if not self.size.native:
            return self.size.default_size
        scale = self.spatial_compression(pipeline)
        denoiser = getattr(pipeline, "unet", None) or getattr(pipeline, "transformer", None)
        sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
        if isinstance(sample, int) and getattr(pipeline, "unet", None) is not None:
            return sample * scale, sample * scale
        default = getattr(pipeline, "default_sample_size", None)
        if isinstance(default, int):
            return default * scale, default * scale
        return self.size.default_size

    def missing_arguments(self, call_parameters: Collection[str]) -> list[str]:
        """The ``call_arguments`` a pipeline's call does not take."""
        return [name for name in self.call_arguments if name not in call_parameters]

    def _kind_rule(self, class_name: str) -> KindRule:
        for rule in self.kinds:
            if not rule.markers or any(marker in class_name for marker in rule.markers):
                return rule
        raise ModelError(f"{self.name}: no kind for {class_name}, kinds: {', '.join(r.kind for r in self.kinds)}")


# Every video family has text-to-video pipelines and image-to-video ones named this way.
_VIDEO_KINDS = (
    KindRule("i2v", markers=("ImageToVideo", "I2V"), conditioning=("image",)),
    KindRule("t2v"),
)

#: Video inpainting/outpainting (Wan VACE): given the frames and a mask of what to generate.
OUTPAINT = KindRule("outpaint", markers=("VACE",), conditioning=("video", "mask"))

WAN = Family(
    name="Wan",
    class_prefix="Wan",
    kinds=(OUTPAINT, *_VIDEO_KINDS),
    frames=FrameRule(max_frames=81, frame_multiple=4, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(832, 480)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
    shot_noise_kinds=("t2v", "i2v"),
    # Latents (batch, channels, frames, height, width); per-token timesteps in frame order.
    context_axis=2,
    # Wan's VAE is meant to run in float32 even when the transformer runs in bfloat16.
    vae_dtype="float32",
)
LTX_VIDEO = Family(
    name="LTX-Video",
    class_prefix="LTX",
    kinds=_VIDEO_KINDS,
    frames=FrameRule(max_frames=161, frame_multiple=8, frame_offset=1),
    size=SizeRule(size_multiple=32, default_size=(704, 480)),
    temporal_attribute="vae_temporal_compression_ratio",
    spatial_attribute="vae_spatial_compression_ratio",
)
COGVIDEOX = Family(
    name="CogVideoX",
    class_prefix="CogVideoX",
    kinds=_VIDEO_KINDS,
    # 8k+1: the CogVideoX VAE turns an even number of latent frames into 4 frames each.
    frames=FrameRule(max_frames=49, frame_multiple=8, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(720, 480)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
)
ANIMATEDIFF = Family(
    name="AnimateDiff",
    class_prefix="AnimateDiff",
    kinds=_VIDEO_KINDS,
    frames=FrameRule(max_frames=16, frame_multiple=1, frame_offset=0),
    size=SizeRule(size_multiple=8, default_size=(512, 512)),
    # Its VAE is Stable Diffusion's, frame by frame: no temporal compression.
    spatial_attribute="vae_scale_factor",
)
#: Image inpainting pipelines (Stable Diffusion, SDXL, SD3, Flux Fill, ...) extend plates.
IMAGE_INPAINTING = Family(
    name="image inpainting",
    class_prefix=None,
    kinds=(KindRule("inpaint", conditioning=("image", "mask_image")),),
    frames=None,
    size=SizeRule(size_multiple=None, default_size=(512, 512), native=True),
    spatial_attribute="vae_scale_factor",
    call_arguments=("prompt", "image", "mask_image", "height", "width", "generator", "output_type"),
)

#: The families ``load_model`` renders shots with, in the order errors list them.
VIDEO_FAMILIES: tuple[Family, ...] = (WAN, LTX_VIDEO, COGVIDEOX, ANIMATEDIFF)
FAMILIES: tuple[Family, ...] = (*VIDEO_FAMILIES, IMAGE_INPAINTING)


def family_of(class_name: str, *, check_diffusers: bool = True) -> Family:
    """The video family of a pipeline class name.

    Args:
        check_diffusers: also ask diffusers whether the class exists (see ``Family.accepts``).
    Raises:
        ModelError: no video family has this pipeline; the message lists the families.
    """
    # Longest prefix first, so that a family named like the start of another never takes its classes.
    for family in sorted(VIDEO_FAMILIES, key=lambda f: len(f.class_prefix or ""), reverse=True):
        if family.accepts(class_name, check_diffusers=check_diffusers):
            return family
    raise ModelError(
        f"pipeline not supported: {class_name}, supported video families: "
        f"{', '.join(family.name for family in VIDEO_FAMILIES)}"
    )


def _in_diffusers(class_name: str) -> bool:
    import diffusers

    return hasattr(diffusers, class_name)
