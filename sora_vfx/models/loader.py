"""Load a local diffusers video pipeline (safetensors only) and generate frames with it.

Every model, the built-in tiny one included, goes through ``load_model`` ->
``DiffusionPipeline.from_pretrained(folder, local_files_only=True, use_safetensors=True)``.
Nothing is downloaded and no code shipped with a model is ever run.
"""

from __future__ import annotations

import inspect
import logging
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sora_vfx import defaults
from sora_vfx.console import quiet_progress_bars, quiet_transformers
from sora_vfx.errors import ModelError
from sora_vfx.models.acceleration import Acceleration
from sora_vfx.models.context import windowed_transformers
from sora_vfx.models.cpu import route_conv3d_to_onednn
from sora_vfx.models.families import Family, FrameRule, LatentLayout, family_of
from sora_vfx.models.families.registry import MaskFilling, mask_filling
from sora_vfx.models.folders import ModelFolder, folder_fingerprint, resolve_model
from sora_vfx.models.memory import (
    apply_plan,
    check_plan,
    choose_plan,
    estimate_needs,
    free_memory,
    lower_plan,
)

log = logging.getLogger("sora_vfx")

_PROMPT_CACHE_SIZE = 32


def available_devices() -> list[str]:
    """Names of the devices torch can use here, best first."""
    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if torch.backends.mps.is_available():
        devices.append("mps")
    return [*devices, "cpu"]


def pick_device(requested: str | None = None) -> torch.device:
    """The requested device, or the best available one (cuda > mps > cpu).

    Raises:
        ModelError: the requested device is unknown or not available here.
    """
    available = available_devices()
    if requested is None:
        return torch.device("cuda" if available[0].startswith("cuda") else available[0])
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError) as exc:
        raise ModelError(f"unknown device: {requested}, available: {', '.join(available)}") from exc
    names = {device.type, str(device)}
    if device.type == "cuda" and device.index is None:
        names.add("cuda:0")
    if not names & set(available):
        raise ModelError(f"device not available: {requested}, available: {', '.join(available)}")
    return device


def pick_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on CUDA; float32 on MPS and CPU, where half precision is slow or unreliable."""
    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


@dataclass
class LoadedModel:
    """A loaded pipeline with the limits of its family; ``generate`` renders one window.

    Valid frame counts are ``frame_multiple * k + frame_offset`` up to ``max_frames``
    (``round_up_frames`` finds the next one); height and width are multiples of
    ``size_multiple``; ``default_size`` is (width, height): the ``family`` record's, or a
    folder's ``sora_vfx.json``.
    """

    pipeline: Any = field(repr=False)
    name: str
    kind: str
    device: torch.device
    dtype: torch.dtype
    max_frames: int
    frame_multiple: int
    frame_offset: int
    size_multiple: int
    default_size: tuple[int, int]
    family: Family | None = None
    max_sequence_length: int | None = None
    default_steps: int = defaults.STEPS
    folder: Path | None = None
    #: Where the weights live while rendering (``models.memory``): fast, balanced or low.
    memory_plan: str = "fast"
    #: The speed options turned on (``models.acceleration``); part of every job hash.
    acceleration: Acceleration = field(default_factory=Acceleration)
    _prompt_cache: dict[tuple, tuple[Any, Any]] = field(default_factory=dict, init=False, repr=False)
    _cache_prompts: bool | None = field(default=None, init=False, repr=False)
    _lora_names: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _active_loras: tuple[tuple[str, float], ...] = field(default=(), init=False, repr=False)
    _fingerprint: str | None = field(default=None, init=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """Identifies the weights (the folder's file names and sizes); part of every job hash."""
        if self._fingerprint is None:
            self._fingerprint = self.name if self.folder is None else folder_fingerprint(self.folder)
        return self._fingerprint

    def set_loras(self, loras: list[tuple[str, float]] | tuple[tuple[str, float], ...]) -> None:
        """Make exactly these (safetensors file, scale) LoRAs active; each file loads once.

        Raises:
            ModelError: the pipeline takes no LoRAs, or a file does not fit it.
        """
        wanted = tuple((str(path), float(scale)) for path, scale in loras)
        if wanted == self._active_loras:
            return
        if not wanted:
            self.pipeline.disable_lora()
            self._active_loras = ()
            self._prompt_cache.clear()
            return
        if not hasattr(self.pipeline, "load_lora_weights"):
            raise ModelError(f"model {self.name} ({type(self.pipeline).__name__}) does not take LoRAs")
        names = []
        for path, _scale in wanted:
            if path not in self._lora_names:
                name = f"sora_vfx_{len(self._lora_names)}"
                file = Path(path)
                try:
                    self.pipeline.load_lora_weights(str(file.parent), weight_name=file.name, adapter_name=name,
                                                    local_files_only=True)
                except Exception as exc:  # diffusers and peft raise many types for a bad file
                    raise ModelError(f"LoRA {path}: cannot load into {self.name}: {exc}") from exc
                self._lora_names[path] = name
            names.append(self._lora_names[path])
        self.pipeline.enable_lora()
        self.pipeline.set_adapters(names, adapter_weights=[scale for _path, scale in wanted])
        self._active_loras = wanted
        # A LoRA may also adapt the text encoder, so cached prompt embeddings may be stale.
        self._prompt_cache.clear()

    def lower_memory_plan(self) -> str | None:
        """Move the weights to the next memory plan down (after running out of memory); the new
        plan, or None when this one is the leanest."""
        plan = lower_plan(self.memory_plan, self.device)
        if plan is not None:
            apply_plan(self.pipeline, plan, self.device)
            log.warning("model %s: memory plan %s -> %s", self.name, self.memory_plan, plan)
            self.memory_plan = plan
        return plan

    @property
    def frames(self) -> FrameRule:
        """This model's frame rule: its family's, with the folder's overrides."""
        return FrameRule(self.max_frames, self.frame_multiple, self.frame_offset)

    def round_up_frames(self, num_frames: int) -> int:
        """The smallest valid frame count that is at least ``num_frames``."""
        return self.frames.round_up(num_frames)

    @property
    def frame_rule(self) -> str:
        """The valid frame counts in words, e.g. "4k+1"."""
        return self.frames.describe()

    @property
    def temporal_compression(self) -> int:
        """Frames per latent frame, read from the loaded pipeline; 1 where unknown."""
        return self.family.temporal_compression(self.pipeline) if self.family else 1

    @property
    def latent_layout(self) -> LatentLayout | None:
        """The latents' layout when a shot's windows share one noise tensor, else None."""
        return self.family.latent_layout(self.pipeline, self.kind) if self.family else None

    @property
    def conditioning(self) -> tuple[str, ...]:
        """What ``generate`` needs besides the prompt, e.g. ("image",) for image-to-video."""
        return self.family.conditioning(self.kind) if self.family else ()

    @property
    def mask_filling(self) -> MaskFilling | None:
        """What this model fills under a mask (plate extension): "shot", a whole shot at once
        (video outpainting, one frame as a shot of one); "picture", one picture a call (image
        inpainting); None, nothing: it takes no mask."""
        return mask_filling(self.family, self.kind) if self.family else None

    def check_inputs(self, num_frames: int, height: int, width: int, *, whole_shot: bool = False) -> None:
        """Raise ModelError unless this model can render these frames in one call
        (``whole_shot``: a call that renders a long shot in windows itself, past ``max_frames``)."""
        if height <= 0 or width <= 0 or height % self.size_multiple or width % self.size_multiple:
            multiple = self.size_multiple
            raise ModelError(
                f"`height` and `width` have to be divisible by {multiple} but are {height} and {width}."
            )
        smallest = self.family.size.min_size if self.family else 1
        if min(height, width) < smallest:
            raise ModelError(f"`height` and `width` have to be at least {smallest} for {self.name} but are "
                             f"{height} and {width}.")
        if num_frames < 1 or self.round_up_frames(num_frames) != num_frames:
            raise ModelError(
                f"`num_frames` has to be {self.frame_rule} but is {num_frames}; "
                f"the next valid count is {self.round_up_frames(max(num_frames, 1))}."
            )
        if num_frames > self.max_frames and not whole_shot:
            raise ModelError(
                f"`num_frames` has to be at most {self.max_frames} for {self.name} but is {num_frames}; "
                "render longer shots in windows."
            )

    @property
    def context_windows(self) -> bool:
        """Whether a shot's windows can be denoised as one (``denoise``)."""
        return self.family is not None and self.family.context_axis is not None

    def generate(
        self,
        *,
        prompt: str,
        negative_prompt: str | None,
        num_frames: int,
        height: int,
        width: int,
        num_inference_steps: int,
        guidance_scale: float,
        generator: torch.Generator,
        image: Any = None,
        latents: torch.Tensor | None = None,
        callback: Any = None,
        frame_rate: float | None = None,
        extras: dict[str, Any] | None = None,
        whole_shot: tuple[int, int] | None = None,
        reference_video: np.ndarray | None = None,
    ) -> np.ndarray:
        """Render one window of frames.

        Args:
            image: first frame for i2v models (PIL image, tensor, or float HxWx3 array in [0, 1]).
            latents: initial noise; when None it is drawn from ``generator``.
            callback: the pipeline's ``callback_on_step_end`` (it gets and may replace ``latents``).
            frame_rate: the edit's frames per second, for families that condition on it.
            extras: filled with what the call gave besides frames (``Family.extra_outputs``,
                e.g. "audio").
            whole_shot: (window, overlap) frames: render all ``num_frames`` in one call that
                carries the shot from window to window itself (``Family.native_window_method``).
            reference_video: float (num_frames, height, width, 3) pictures in [0, 1] that a
                video-to-video kind (``hdr``) remakes.
        Returns:
            float32 array (num_frames, height, width, 3), display-referred sRGB in [0, 1].
        Raises:
            ModelError: bad size or frame count, or an image given to/missing from the model.
        """
        self.check_inputs(num_frames, height, width, whole_shot=whole_shot is not None)
        call_frames, long_arguments = num_frames, {}
        if whole_shot is not None:
            call_frames, long_arguments = self.family.long_call(frames=num_frames, window=whole_shot[0],
                                                                overlap=whole_shot[1])
        kwargs = self._call_arguments(
            prompt=prompt, negative_prompt=negative_prompt, num_frames=call_frames, height=height, width=width,
            num_inference_steps=num_inference_steps, guidance_scale=guidance_scale, generator=generator,
            image=image, latents=latents, output_type="np", frame_rate=frame_rate, reference_video=reference_video)
        kwargs.update(long_arguments)
        if callback is not None:
            if "callback_on_step_end" not in inspect.signature(self.pipeline.__call__).parameters:
                raise ModelError(f"model {self.name} ({type(self.pipeline).__name__}) takes no step callback: "
                                 "it cannot hold known frames")
            kwargs.update(callback_on_step_end=callback, callback_on_step_end_tensor_inputs=["latents"])
        # Seeded from the call's generator: a pipeline that also draws from torch's global
        # generator (SkyReels-V2's re-noising) gives the same pixels on every run and node.
        with torch.random.fork_rng(devices=_rng_devices(self.device)):
            torch.manual_seed(generator.initial_seed())
            output = self.pipeline(**kwargs)
        frames = np.asarray(output.frames[0], dtype=np.float32)
        if frames.shape[0] == call_frames > num_frames:
            frames = frames[:num_frames]
        if extras is not None:
            extras.update(self.family.extra_outputs(self.pipeline, output, num_frames=num_frames,
                                                    frame_rate=frame_rate))
        if frames.shape[0] != num_frames:
            # The frame rule (its family record or sora_vfx.json) does not match the model.
            raise ModelError(
                f"model {self.name} returned {frames.shape[0]} frames for {num_frames} requested; its frame rule "
                f"({self.frame_rule}) does not fit this model: set frame_multiple/frame_offset in its "
                "sora_vfx.json"
            )
        return np.ascontiguousarray(frames)

    def denoise(
        self,
        *,
        windows: list[tuple[int, int]],
        prompt: str,
        negative_prompt: str | None,
        num_frames: int,
        height: int,
        width: int,
        num_inference_steps: int,
        guidance_scale: float,
        latents: torch.Tensor,
        image: Any = None,
        video: Any = None,
        mask: Any = None,
    ) -> torch.Tensor:
        """Denoise a whole shot of ``num_frames`` as one, the transformer seeing the latent
        ``windows`` (first latent frame, latent frames) at every step (``models.context``).
        A video outpainting model takes ``video`` and ``mask`` (see ``_call_arguments``).

        Returns:
            The final latents (float32, on the CPU), as the pipeline would decode them.
        Raises:
            ModelError: the family cannot (``context_windows``), or bad size, window or image.
        """
        if not self.context_windows:
            raise ModelError(f"model {self.name}: its family cannot denoise a shot in context windows")
        temporal = self.temporal_compression
        for _start, length in windows:
            self.check_inputs((length - 1) * temporal + 1, height, width)
        if self.round_up_frames(num_frames) != num_frames:
            raise ModelError(f"`num_frames` has to be {self.frame_rule} but is {num_frames}")
        kwargs = self._call_arguments(
            prompt=prompt, negative_prompt=negative_prompt, num_frames=num_frames, height=height, width=width,
            num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
            generator=torch.Generator("cpu"), image=image, latents=latents, output_type="latent",
            video=video, mask=mask)
        with windowed_transformers(self.pipeline, windows, axis=self.family.context_axis,
                                   names=self.family.transformers):
            result = self.pipeline(**kwargs).frames
        return result.detach().to("cpu", torch.float32)

    def streams_decode(self, latents: torch.Tensor) -> bool:
        """Whether ``decode_stream`` can decode these latents (else ``decode`` in windows)."""
        return self.family.can_stream(self.pipeline, latents)

    def decode_stream(self, latents: torch.Tensor) -> Iterator[tuple[int, np.ndarray]]:
        """Decode ``denoise``'s result frame after frame, exactly as one decode of the whole shot:
        yields (index of the first frame, float32 frames (n, height, width, 3) in [0, 1])."""
        return self.family.decode_stream(self.pipeline, latents)

    def decode(self, latents: torch.Tensor, start: int, length: int) -> np.ndarray:
        """Decode latent frames ``start .. start + length - 1`` of ``denoise``'s result.

        Returns:
            float32 (``(length - 1) * temporal + 1``, height, width, 3), display sRGB in [0, 1].
        """
        return self.family.decode_window(self.pipeline, latents, start, length)

    def _call_arguments(self, *, prompt: str, negative_prompt: str | None, image: Any, latents: torch.Tensor | None,
                        video: Any = None, mask: Any = None, frame_rate: float | None = None,
                        reference_video: np.ndarray | None = None, **fixed: Any) -> dict[str, Any]:
        """The pipeline call's arguments: ``fixed`` plus the image (image-to-video), the video
        and mask (outpainting: float (1, frames, height, width, 3) arrays in [0, 1], the mask 1
        where the model draws), noise and prompt as this model takes them, made the family's
        (``Family.call_arguments``)."""
        kwargs: dict[str, Any] = dict(fixed)
        if "video" in self.conditioning:
            if video is None or mask is None:
                raise ModelError(f"model {self.name} is a video outpainting model ({type(self.pipeline).__name__}) "
                                 "and needs a `video` and `mask`: it extends plates (`sora-vfx extend`).")
            kwargs.update(video=video, mask=mask)
        elif video is not None or mask is not None:
            raise ModelError(f"model {self.name} takes no `video` or `mask`.")
        if "reference_video" in self.conditioning:
            if reference_video is None:
                raise ModelError(f"model {self.name} remakes a reference video ({type(self.pipeline).__name__}) "
                                 "and needs one: render with --reference-render")
            kwargs["reference_video"] = np.ascontiguousarray(reference_video, dtype=np.float32)
        elif reference_video is not None:
            raise ModelError(f"model {self.name} takes no reference video.")
        if "image" in self.conditioning:
            if image is None:
                raise ModelError(f"model {self.name} is image-to-video and needs an `image` (first frame).")
            kwargs["image"] = _as_pipeline_image(image)
        elif image is not None:
            raise ModelError(f"model {self.name} is text-to-video and takes no `image`.")
        if latents is not None:
            kwargs["latents"] = latents
        call_params = inspect.signature(self.pipeline.__call__).parameters
        if self.max_sequence_length is not None and "max_sequence_length" in call_params:
            kwargs["max_sequence_length"] = self.max_sequence_length
        embeds = self.encode_prompt(prompt, negative_prompt)
        if embeds is None:
            kwargs.update(prompt=prompt, negative_prompt=negative_prompt)
        else:
            kwargs.update(prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1])
        return self.family.call_arguments(self.pipeline, kwargs, frame_rate=frame_rate) if self.family else kwargs

    def encode_prompt(self, prompt: str, negative_prompt: str | None) -> tuple[Any, Any] | None:
        """Prompt and negative embeddings, cached per (prompt, negative) so shots sharing a
        style encode once; None when the pipeline cannot take precomputed embeddings."""
        if self._cache_prompts is None:
            self._cache_prompts = _supports_prompt_embeds(self.pipeline)
        if not self._cache_prompts:
            return None
        key = (prompt, negative_prompt or "", self.max_sequence_length)
        if key in self._prompt_cache:
            return self._prompt_cache[key]
        encode = self.pipeline.encode_prompt
        params = inspect.signature(encode).parameters
        kwargs: dict[str, Any] = dict(prompt=prompt, negative_prompt=negative_prompt or "")
        # Always encode the negative so one cache entry serves any guidance_scale.
        kwargs["do_classifier_free_guidance"] = True
        kwargs["device"] = self.pipeline._execution_device
        for count in ("num_videos_per_prompt", "num_images_per_prompt"):
            if count in params:
                kwargs[count] = 1
        if "max_sequence_length" in params:
            # encode_prompt's own default can differ from __call__'s (226 against 512 in some).
            kwargs["max_sequence_length"] = self.max_sequence_length or _call_default(
                self.pipeline, "max_sequence_length"
            )
        with torch.no_grad():
            result = encode(**kwargs)
        if not (isinstance(result, tuple) and len(result) == 2 and all(torch.is_tensor(t) for t in result)):
            # Families that also return attention masks take plain prompts instead.
            self._cache_prompts = False
            return None
        if len(self._prompt_cache) >= _PROMPT_CACHE_SIZE:
            self._prompt_cache.pop(next(iter(self._prompt_cache)))
        self._prompt_cache[key] = result
        return result


def _rng_devices(device: torch.device) -> list:
    """The accelerators whose generator a call may draw from besides the CPU's."""
    return [device] if torch.device(device).type == "cuda" else []


def _supports_prompt_embeds(pipeline: Any) -> bool:
    encode = getattr(pipeline, "encode_prompt", None)
    if encode is None:
        return False
    call_params = inspect.signature(pipeline.__call__).parameters
    encode_params = inspect.signature(encode).parameters
    return {"prompt_embeds", "negative_prompt_embeds"} <= set(call_params) and {
        "prompt",
        "negative_prompt",
        "do_classifier_free_guidance",
        "device",
    } <= set(encode_params)


def _call_default(pipeline: Any, name: str) -> Any:
    param = inspect.signature(pipeline.__call__).parameters.get(name)
    return None if param is None or param.default is inspect.Parameter.empty else param.default


def _as_pipeline_image(image: Any) -> Any:
    """Float HxWx3 arrays become 1x3xHxW tensors: the i2v pipelines take PIL images or tensors."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3:
            raise ModelError(f"`image` has to be an HxWx3 array but has shape {image.shape}.")
        return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    return image


def load_model(
    model: str = "tiny",
    *,
    device: str | None = None,
    cache_dir: Path | None = None,
    memory: str = "auto",
    acceleration: Acceleration | None = None,
    render_size: tuple[int, int] | None = None,
    window: int | None = None,
    plate: bool = False,
) -> LoadedModel:
    """Load ``tiny``, ``shapes`` (and their twins) or a local diffusers pipeline folder.

    Args:
        model: a built-in name, or a folder holding ``model_index.json``.
        plate: a model that extends plates (``resolve_model``'s ``plate``): image inpainting
            pipelines load too, and ``tiny`` is the tiny inpainting model.
        device: torch device name; default the best available.
        cache_dir: where the tiny model is saved; default ``$SORA_VFX_CACHE``.
        memory: the memory plan (``models.memory``): auto, fast, balanced or low.
        acceleration: speed options (cache, attention backend, compile, quantisation).
        render_size, window: (width, height) and frames per call the ``auto`` plan is sized
            for; default the model's own size and frame limit.
    Returns:
        The loaded model with its family's limits.
    Raises:
        ModelError: missing folder, not a supported video pipeline, pickle weights, load
            failure, a memory plan or speed option this device or install cannot run.
    """
    torch_device = pick_device(device)
    check_plan(memory, torch_device)
    acceleration = acceleration or Acceleration()
    dtype = pick_dtype(torch_device)
    acceleration.check_device(torch_device, dtype)
    found = resolve_model(model, cache_dir=cache_dir, plate=plate)
    load_dtype: Any = dtype
    vae_dtype = getattr(torch, found.family.vae_dtype) if found.family.vae_dtype else dtype
    if vae_dtype != dtype:
        load_dtype = {"default": dtype, "vae": vae_dtype}
    pipeline = from_pretrained_safely(found.folder, load_dtype,
                                      quantization=acceleration.quantization_config(found.family.transformers))
    _allow_missing_ftfy(pipeline)
    loaded = _loaded(found, pipeline, torch_device, dtype)
    plan = memory
    if memory == "auto":
        width, height = render_size or loaded.default_size
        needs = estimate_needs(pipeline, found.family, frames=window or loaded.max_frames, height=height,
                               width=width, dtype=dtype)
        free = free_memory(torch_device)
        plan = choose_plan(needs, free, device=torch_device)
        log.info("model %s: memory plan %s (%s; %s free on %s)", found.name, plan, needs.describe(),
                 "unknown" if free is None else f"{free / 2**30:.1f} GiB", torch_device)
    else:
        log.info("model %s: memory plan %s (--memory)", found.name, plan)
    apply_plan(pipeline, plan, torch_device)
    vae = getattr(pipeline, "vae", None)
    # Slicing only acts on batches: harmless. Tiling saves accelerator memory on big frames but
    # changes pixels and, on the CPU, costs time (benchmarks/README.md): accelerators only, in
    # every memory plan, so that the plan never changes pixels.
    if hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
    if hasattr(vae, "enable_tiling") and torch_device.type != "cpu" and found.limits.get("vae_tiling", True):
        vae.enable_tiling()
    if torch_device.type == "cpu":
        routed = sum(route_conv3d_to_onednn(c) for c in pipeline.components.values() if isinstance(c, torch.nn.Module))
        if routed:
            log.debug("%s: %d 3D convolutions run through oneDNN on the CPU", found.name, routed)
    acceleration.apply(pipeline, found.family.transformers)
    if not acceleration.is_default:
        log.info("model %s: speed options: %s", found.name, acceleration.describe())
    pipeline.set_progress_bar_config(disable=True)
    loaded.memory_plan, loaded.acceleration = plan, acceleration
    return loaded


#: A model described but not loaded lives on no device: "meta" makes any use of it fail.
NO_DEVICE = torch.device("meta")


def describe_model(model: str, *, cache_dir: Path | None = None, plate: bool = False) -> LoadedModel:
    """The model's name, kind, family and limits, read from its folder without its weights.

    A farm's driver and its conform step need every shot's spec and job hash, which depend on
    the model's name, limits and files but not on its weights; loading those would cost
    minutes and gigabytes there. The result has ``pipeline=None`` on the "meta" device: specs
    and job hashes built with it equal the loaded model's, but it cannot generate. ``plate``:
    as ``load_model``'s.

    Raises:
        ModelError: missing folder, not a supported video pipeline, pickle weights.
    """
    found = resolve_model(model, cache_dir=cache_dir, check_diffusers=False, plate=plate)
    return _loaded(found, None, NO_DEVICE, torch.float32)


def _loaded(found: ModelFolder, pipeline: Any, device: torch.device, dtype: torch.dtype) -> LoadedModel:
    # An image family's record leaves the sizes to the loaded pipeline (its VAE, its sample size).
    limits, family = found.limits, found.family
    size_multiple = limits.get("size_multiple") or family.size_multiple_of(pipeline)
    default_size = limits.get("default_size") or family.default_size_of(pipeline)
    return LoadedModel(
        pipeline=pipeline,
        name=found.name,
        kind=found.kind,
        device=device,
        dtype=dtype,
        max_frames=int(limits["max_frames"]),
        frame_multiple=int(limits["frame_multiple"]),
        frame_offset=int(limits["frame_offset"]),
        size_multiple=int(size_multiple),
        default_size=(int(default_size[0]), int(default_size[1])),
        family=family,
        max_sequence_length=limits.get("max_sequence_length"),
        default_steps=int(limits.get("default_steps", defaults.STEPS)),
        folder=found.folder,
    )


def from_pretrained_safely(folder: Path, dtype: Any, *, quantization: Any = None) -> Any:
    """``DiffusionPipeline.from_pretrained`` of a checked folder: local files and safetensors
    only, quiet, and any failure as a ModelError naming the folder. ``quantization``: diffusers'
    ``PipelineQuantizationConfig`` (``Acceleration.quantization_config``)."""
    from diffusers.utils import deprecation_utils

    with quiet_transformers():
        from diffusers import DiffusionPipeline

    # diffusers renamed `torch_dtype` to `dtype` in mid-2026 and warns on the old name, but
    # releases before that ignore `dtype`: ask for whichever this one understands.
    dtype_argument = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
    extra = {} if quantization is None else {"quantization_config": quantization}
    try:
        with quiet_progress_bars(), quiet_transformers():
            pipeline = DiffusionPipeline.from_pretrained(
                folder, local_files_only=True, use_safetensors=True, **{dtype_argument: dtype}, **extra
            )
    except Exception as exc:  # any failure inside diffusers/transformers is a bad model folder
        raise ModelError(f"cannot load model {folder}: {type(exc).__name__}: {exc}") from exc
    try:
        family = family_of(type(pipeline).__name__, check_diffusers=False)
    except ModelError:
        family = None  # an image pipeline (plate extension): nothing to mend
    if family is not None:
        family.after_load(pipeline)
    return pipeline


def _allow_missing_ftfy(pipeline: Any) -> None:
    """Some diffusers pipeline modules call ``ftfy.fix_text`` without checking that ftfy is
    installed (an image-to-video one in 0.42); make them skip it, as the others do."""
    module = sys.modules.get(type(pipeline).__module__)
    if module is None or hasattr(module, "ftfy"):
        return
    clean = getattr(module, "basic_clean", None)
    code = getattr(clean, "__code__", None)
    if code is not None and "ftfy" in code.co_names:
        module.ftfy = types.SimpleNamespace(fix_text=lambda text: text)
