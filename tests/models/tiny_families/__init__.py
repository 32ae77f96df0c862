"""One tiny random-weight pipeline per registered video family, built offline.

Each family's module builds its pipelines from diffusers' own classes with a few layers of
8-32 channels, keeping the real VAE's compression where it can, so that the family record's
frame and size rules meet real pipeline code. ``TINY_MODELS`` describes each: how to build it,
the ``sora_vfx.json`` its saved folder gets, and the sizes and frame counts the tests use.
A new family adds its module here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sora_vfx.models.tiny import TINY_LIMITS, build_tiny_pipeline
from tests.models.tiny_families import animatediff, cogvideox, hunyuan_video15, ltx2, ltx_video, skyreels_v2
from tests.models.tiny_families.common import MAX_TOKENS


@dataclass(frozen=True)
class TinyModel:
    family: str  # the registered family's name
    pipeline_class: str
    build: Callable[[], Any]
    overrides: dict[str, Any]  # written to sora_vfx.json
    frames: int  # a valid count for one render
    height: int
    width: int
    broken_frames: int  # breaks the family's frame rule
    too_many_frames: int  # follows the rule but is above max_frames
    frames_per_latent: int  # the tiny VAE's temporal compression
    pixels_per_latent: int  # and its spatial one
    #: The family's image-to-video pipeline of the same size, where the tests build one.
    build_i2v: Callable[[], Any] | None = None
    #: What a plain diffusers call needs besides the common arguments.
    call_args: dict[str, Any] = field(default_factory=dict)
    #: Prepares a plain diffusers call of the built pipeline from the common arguments, for a
    #: family whose call differs (returns the arguments to call it with).
    plain_call: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None

    @property
    def extra_call_args(self) -> dict[str, Any]:
        """What sora_vfx adds to a plain pipeline call."""
        extra = dict(self.call_args)
        if "max_sequence_length" in self.overrides:
            extra["max_sequence_length"] = self.overrides["max_sequence_length"]
        return extra


def _guider_call(pipeline: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """HunyuanVideo 1.5 takes its guidance scale as a component, not an argument."""
    arguments = dict(arguments)
    pipeline.guider = pipeline.guider.new(guidance_scale=arguments.pop("guidance_scale"))
    return arguments


def _overrides(max_frames: int, width: int, height: int, **more: Any) -> dict[str, Any]:
    return {"max_frames": max_frames, "default_size": [width, height], "default_steps": 2, **more}


TINY_MODELS: dict[str, TinyModel] = {
    "Wan": TinyModel(
        "Wan", "WanPipeline", build_tiny_pipeline, TINY_LIMITS, frames=9, height=32, width=64,
        broken_frames=10, too_many_frames=21, frames_per_latent=4, pixels_per_latent=8,
        build_i2v=lambda: build_tiny_pipeline("i2v")),
    "LTX-Video": TinyModel(
        "LTX-Video", "LTXPipeline", ltx_video.build_t2v,
        _overrides(17, 64, 32, max_sequence_length=MAX_TOKENS), frames=9, height=32, width=64,
        broken_frames=10, too_many_frames=25, frames_per_latent=8, pixels_per_latent=32,
        build_i2v=ltx_video.build_i2v),
    "CogVideoX": TinyModel(
        "CogVideoX", "CogVideoXPipeline", cogvideox.build_t2v,
        _overrides(17, 32, 16, max_sequence_length=MAX_TOKENS), frames=9, height=16, width=32,
        broken_frames=8, too_many_frames=25, frames_per_latent=4, pixels_per_latent=8),
    "AnimateDiff": TinyModel(
        "AnimateDiff", "AnimateDiffPipeline", animatediff.build_t2v, _overrides(8, 24, 16), frames=4, height=16,
        width=24, broken_frames=0, too_many_frames=9, frames_per_latent=1, pixels_per_latent=8),
    "LTX-2": TinyModel(
        "LTX-2", "LTX2Pipeline", ltx2.build_t2v,
        _overrides(17, 64, 64, max_sequence_length=2 * ltx2.TEXT_REGISTERS), frames=9, height=64, width=64,
        broken_frames=10, too_many_frames=25, frames_per_latent=8, pixels_per_latent=32, build_i2v=ltx2.build_i2v),
    "HunyuanVideo 1.5": TinyModel(
        "HunyuanVideo 1.5", "HunyuanVideo15Pipeline", hunyuan_video15.build_t2v, _overrides(17, 64, 32), frames=9,
        height=32, width=64, broken_frames=10, too_many_frames=25, frames_per_latent=4, pixels_per_latent=16,
        build_i2v=hunyuan_video15.build_i2v, plain_call=_guider_call),
    "SkyReels-V2": TinyModel(
        "SkyReels-V2", "SkyReelsV2DiffusionForcingPipeline", skyreels_v2.build_t2v,
        _overrides(17, 64, 32, max_sequence_length=MAX_TOKENS), frames=9, height=32, width=64, broken_frames=10,
        too_many_frames=21, frames_per_latent=4, pixels_per_latent=8, build_i2v=skyreels_v2.build_i2v),
}
