"""The family record: a model family's facts and the small hooks where families differ.

A record says which pipeline classes belong to the family, which kind each class is
(text-to-video, image-to-video, outpainting, image inpainting) and what it is conditioned on,
the frame and size rules (a folder's ``sora_vfx.json`` may override them) and where the loaded
pipeline keeps its VAE's compression. Its methods are the hooks: how sora_vfx's call becomes
this family's (``call_arguments``), how its latents are laid out and held (``context_axis``,
``hold_known_latents``), how they are decoded outside the pipeline (``can_stream``,
``decode_stream``, ``decode_window``), what the memory estimate reads
(``transformer_geometry``), what a call gives besides frames (``extra_outputs``) and the
published architectures the GPU benchmark builds (``full_sizes``). A family that differs
subclasses ``Family`` and overrides a hook; the loader, context windows, renderer, memory plans
and full-size builders ask the record and never name a family.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from sora_vfx.errors import ModelError

#: The file in a model folder that overrides its family's limits (see ``read_model_overrides``).
SORA_VFX_JSON = "sora_vfx.json"
#: The limits a family record sets and a folder's ``sora_vfx.json`` may override.
LIMIT_KEYS = ("max_frames", "frame_multiple", "frame_offset", "size_multiple", "default_size")

Kind = Literal["t2v", "i2v", "inpaint", "outpaint", "hdr"]

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
    ``default_size``. ``min_size``: the smallest height and width the family renders.
    """

    size_multiple: int | None
    default_size: tuple[int, int]
    native: bool = False
    min_size: int = 1


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
class TransformerGeometry:
    """What the memory estimate reads from a transformer's config: its width (heads x head
    size), its feed-forward width and its patch (frames, height, width) in latent cells."""

    inner: int
    ffn: int
    patch: tuple[int, int, int]


@dataclass(frozen=True)
class FullSize:
    """One published model's architecture, built with random weights for the GPU benchmark.

    ``components(transformer, text_encoder, small)`` returns the pipeline class (under
    ``pipeline_class``) and its components, built on the meta device by the caller;
    ``parameters``: the transformers' parameters (every expert) of the published checkpoint,
    which the tests compare with the built ones.
    """

    name: str
    published: str
    transformer: Mapping[str, Any]
    small_transformer: Mapping[str, Any]
    text_encoder: Mapping[str, Any]
    small_text_encoder: Mapping[str, Any]
    #: ``sora_vfx.json`` of the written folder: its native size, frame limit and default steps.
    limits: Mapping[str, Any]
    components: Callable[[Mapping[str, Any], Mapping[str, Any], bool], dict[str, Any]]
    parameters: int


@dataclass(frozen=True)
class Family:
    """Everything sora_vfx knows about one model family.

    ``class_prefix``: pipeline classes whose name starts with it and holds "Pipeline" belong
    to the family; ``classes``, where given, lists them instead (a family whose prefix names
    upscalers and refiners too). None and empty: recognised by ``call_arguments`` instead
    (image inpainting). ``kinds`` are tried in order. ``temporal_attribute``/
    ``spatial_attribute`` name the pipeline attributes holding the VAE's compression.
    ``shot_noise_kinds``: kinds whose windows slice one shot-wide noise tensor.
    ``context_axis``: the frame axis of the latents its transformer takes, for context windows
    (``models.context``); None where a shot's windows cannot be denoised as one.
    ``transformers``: the pipeline attributes holding denoisers (two experts in Wan 2.2).
    ``vae_dtype``: the dtype the VAE loads in whatever the rest of the model uses.
    ``required_arguments``: what an image family's call must take to be one of it.
    """

    name: str
    class_prefix: str | None
    kinds: tuple[KindRule, ...]
    frames: FrameRule | None
    size: SizeRule
    classes: tuple[str, ...] = ()
    temporal_attribute: str | None = None
    spatial_attribute: str | None = None
    shot_noise_kinds: tuple[Kind, ...] = ()
    context_axis: int | None = None
    transformers: tuple[str, ...] = ("transformer",)
    vae_dtype: Literal["float32"] | None = None
    required_arguments: tuple[str, ...] = ()
    #: Whether its pictures depend on the edit's frame rate (``call_arguments`` passes it on):
    #: then the rate is part of every shot's job hash.
    frame_rate_conditioned: bool = False
    #: A window method of its own (``--windows``): one call renders a whole shot, the model
    #: carrying it from window to window (``long_call_arguments``); its long shots' default.
    native_window_method: str | None = None
    #: What its calls give besides frames (``extra_outputs``), e.g. ("audio",).
    outputs: tuple[str, ...] = ()
    #: Published architectures by name (``models.fullsize``).
    full_sizes: Mapping[str, FullSize] = field(default_factory=dict)
    #: Where the record came from: "sora_vfx" or the distribution of an entry point.
    origin: str = "sora_vfx"

    # --- recognising pipelines ------------------------------------------------------------

    def accepts(self, class_name: str, *, check_diffusers: bool = True) -> bool:
        """Whether ``class_name`` is one of this family's pipelines.

        ``check_diffusers`` also asks diffusers whether the class exists, which imports every
        pipeline (seconds); a farm driver that only plans skips it, the render node checks.
        """
        if self.classes:
            known = class_name in self.classes
        else:
            known = self.class_prefix is not None and class_name.startswith(self.class_prefix) \
                and "Pipeline" in class_name
        return known and (not check_diffusers or _in_diffusers(class_name))

    def kind_of(self, class_name: str) -> Kind:
        """The kind of one of this family's pipeline classes."""
        for rule in self.kinds:
            if not rule.markers or any(marker in class_name for marker in rule.markers):
                return rule.kind
        raise ModelError(f"{self.name}: no kind for {class_name}, kinds: {', '.join(r.kind for r in self.kinds)}")

    def conditioning(self, kind: str) -> tuple[str, ...]:
        """What a pipeline of this kind is given besides the prompt; () for an unknown kind."""
        return next((rule.conditioning for rule in self.kinds if rule.kind == kind), ())

    def missing_arguments(self, call_parameters: Collection[str]) -> list[str]:
        """The ``required_arguments`` a pipeline's call does not take."""
        return [name for name in self.required_arguments if name not in call_parameters]

    def window_methods(self) -> tuple[str, ...]:
        """How its long shots can join their windows (``--windows``): ``context`` and
        ``continue`` need a frame axis (image-to-video kinds continue from a frame), any
        family cross-fades."""
        native = (self.native_window_method,) if self.native_window_method else ()
        if self.context_axis is not None:
            return (*native, "context", "continue", "crossfade")
        if any(rule.kind == "i2v" for rule in self.kinds):
            return (*native, "continue", "crossfade")
        return (*native, "crossfade")

    def describe(self) -> dict[str, Any]:
        """The record for people (``sora-vfx models``): pipelines, kinds, rules, windows, outputs."""
        kinds = [rule.kind + (f" ({', '.join(rule.conditioning)})" if rule.conditioning else "")
                 for rule in self.kinds]
        pipelines = list(self.classes) or ([f"{self.class_prefix}*Pipeline"] if self.class_prefix else
                                           [f"any pipeline whose call takes {', '.join(self.required_arguments)}"])
        return {"name": self.name, "origin": self.origin, "pipelines": pipelines, "kinds": kinds,
                "rules": self.describe_rules(), "windows": list(self.window_methods()) if self.frames else [],
                "outputs": list(self.outputs), "full_sizes": list(self.full_sizes)}

    # --- limits -----------------------------------------------------------------------------

    def limits(self) -> dict[str, Any]:
        """The record's frame and size limits, by ``LIMIT_KEYS`` name."""
        limits: dict[str, Any] = {"default_size": self.size.default_size}
        if self.size.size_multiple is not None:
            limits["size_multiple"] = self.size.size_multiple
        if self.frames is not None:
            limits.update(max_frames=self.frames.max_frames, frame_multiple=self.frames.frame_multiple,
                          frame_offset=self.frames.frame_offset)
        return limits

    def describe_rules(self) -> str:
        """Frame and size rules in words, for ``sora-vfx models``."""
        parts = []
        if self.frames is not None:
            parts.append(f"frames {self.frames.describe()} up to {self.frames.max_frames}")
        multiple = self.size.size_multiple
        parts.append(f"sides multiples of {multiple}" if multiple else "sides twice the VAE's scale")
        if self.size.min_size > 1:
            parts.append(f"at least {self.size.min_size}")
        width, height = self.size.default_size
        parts.append(f"default {width}x{height}")
        return ", ".join(parts)

    # --- reading a loaded pipeline ------------------------------------------------------------

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

    def transformer_geometry(self, config: Any) -> TransformerGeometry | None:
        """Width, feed-forward width and patch of a transformer config, for the memory
        estimate; None where the config does not say (the estimate then reads the weights)."""
        heads = getattr(config, "num_attention_heads", None)
        head_dim = getattr(config, "attention_head_dim", None)
        if not (isinstance(heads, int) and isinstance(head_dim, int)):
            return None
        inner = heads * head_dim
        patch = getattr(config, "patch_size", (1, 2, 2))
        if isinstance(patch, int):
            patch = (int(getattr(config, "patch_size_t", 1) or 1), patch, patch)
        patch_t, patch_h, patch_w = (1, *tuple(patch))[-3:]
        ffn = getattr(config, "ffn_dim", None) or 4 * inner
        return TransformerGeometry(inner, int(ffn), (int(patch_t), int(patch_h), int(patch_w)))

    # --- hooks: the pipeline call and its results ---------------------------------------------

    def after_load(self, pipeline: Any) -> None:
        """Mend what a loaded pipeline of this family gets wrong (nothing by default)."""

    def call_arguments(self, pipeline: Any, arguments: dict[str, Any], *, frame_rate: float | None) -> dict[str, Any]:
        """The pipeline call's keyword arguments made from sora_vfx's (diffusers' common names:
        ``prompt``, ``num_frames``, ``guidance_scale``, ...). ``frame_rate``: the edit's, for
        families that condition on it. The default passes them on unchanged."""
        return arguments

    def long_call(self, *, frames: int, window: int, overlap: int) -> tuple[int, dict[str, Any]]:
        """A call that renders a whole shot of ``frames`` (``native_window_method``) in windows
        of ``window`` frames, each carrying ``overlap`` frames of the one before: the frame
        count to call with (at least ``frames``; the caller drops the rest) and what the call adds."""
        raise ModelError(f"{self.name}: its pipelines render one window a call")

    def output_colorspace(self, kind: str) -> str | None:
        """The OCIO colour space of the light a pipeline of this kind draws, where it draws
        scene-linear light itself; None for display-referred pictures (the default), which the
        output transform takes to scene-linear."""
        return None

    def extra_outputs(self, pipeline: Any, output: Any, *, num_frames: int, frame_rate: float | None) -> dict[str, Any]:
        """What a call gave besides frames, by name (e.g. "audio": an ``imaging.wav.Audio``); none by default."""
        return {}

    # --- hooks: latents ---------------------------------------------------------------------

    def hold_known_latents(self, pipeline: Any, step: int, latents: torch.Tensor, known: torch.Tensor,
                           noise: torch.Tensor) -> torch.Tensor:
        """Latents after ``step`` with their first frames on the known path: the known latents
        noised to the next step's level (flow matching: ``sigma * noise + (1 - sigma) * known``),
        so the last step leaves them exactly known (``--windows continue``). Frames lie on
        ``context_axis``."""
        if self.context_axis is None:
            raise ModelError(f"{self.name}: its latents have no frame axis to hold known frames on")
        axis = self.context_axis
        frames = known.shape[axis]
        sigma = float(pipeline.scheduler.sigmas[step + 1])
        held = sigma * noise.narrow(axis, 0, frames).to(latents.device, latents.dtype) \
            + (1.0 - sigma) * known.to(latents.device, latents.dtype)
        latents = latents.clone()
        latents.narrow(axis, 0, frames).copy_(held)
        return latents

    def can_stream(self, pipeline: Any, latents: torch.Tensor) -> bool:
        """Whether ``decode_stream`` can decode these latents frame after frame."""
        return False

    def decode_stream(self, pipeline: Any, latents: torch.Tensor) -> Iterator[tuple[int, np.ndarray]]:
        """Decode a shot's latents as one stream: yields (first frame, float32 frames (n, h, w, 3))."""
        raise ModelError(f"{self.name}: its VAE cannot decode a shot as a stream")

    def decode_window(self, pipeline: Any, latents: torch.Tensor, start: int, length: int) -> np.ndarray:
        """Decode latent frames ``start .. start + length - 1`` to float32 frames (n, h, w, 3)."""
        raise ModelError(f"{self.name}: sora_vfx cannot decode its latents outside the pipeline")


def pil_image(image: Any) -> Any:
    """An image as 8-bit RGB PIL, for pipelines that take nothing else: a PIL image as it is;
    a float (1, 3, H, W) tensor or (H, W, 3) array in [0, 1] quantised."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if torch.is_tensor(image):
        image = image.detach().float().cpu().reshape(-1, *image.shape[-3:])[0].permute(1, 2, 0).numpy()
    values = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    return Image.fromarray(np.round(values * 255.0).astype(np.uint8), mode="RGB")


def _in_diffusers(class_name: str) -> bool:
    import diffusers

    return hasattr(diffusers, class_name)
