"""LTX-Video 0.9 (``LTXPipeline``, ``LTXImageToVideoPipeline``).

Its transformer takes packed latents (batch, tokens, channels) whose rotary positions are
scaled by the frame rate: the call gets the edit's ``frame_rate``. Packed latents have no
frame axis to cut into windows, so long shots cross-fade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sora_vfx.models.families.base import Family, FrameRule, FullSize, SizeRule
from sora_vfx.models.families.wan import SMALL_T5, VIDEO_KINDS
from sora_vfx.models.tokenizer import byte_level_tokenizer

#: T5-XXL, LTX-Video's text encoder, as published.
T5_XXL = dict(d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64, vocab_size=32128,
              feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, relative_attention_max_distance=128)


class LTXVideoFamily(Family):
    def call_arguments(self, pipeline: Any, arguments: dict[str, Any], *, frame_rate: float | None) -> dict[str, Any]:
        return with_frame_rate(arguments, frame_rate)


def with_frame_rate(arguments: dict[str, Any], frame_rate: float | None) -> dict[str, Any]:
    """The arguments with the edit's frame rate (LTX pipelines scale time positions by it)."""
    return arguments if frame_rate is None else {**arguments, "frame_rate": float(frame_rate)}


def _full_size(transformer: Mapping[str, Any], text: Mapping[str, Any], small: bool) -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    vae = AutoencoderKLLTXVideo(block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                                layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
                                latent_channels=8) if small else AutoencoderKLLTXVideo()
    channels = 8 if small else 128
    return dict(
        pipeline_class=LTXPipeline,
        tokenizer=byte_level_tokenizer(model_max_length=128),
        text_encoder=T5EncoderModel(T5Config(**text, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                             decoder_start_token_id=0)),
        vae=vae,
        transformer=LTXVideoTransformer3DModel(in_channels=channels, out_channels=channels,
                                               caption_channels=text["d_model"], **transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05,
                                                  base_image_seq_len=1024, max_image_seq_len=4096,
                                                  shift_terminal=0.1),
    )


LTX_VIDEO = LTXVideoFamily(
    name="LTX-Video",
    class_prefix="LTX",
    # LTX-2's classes (LTX2...) start the same way: the registry gives a class to the family
    # with the longest prefix of its name.
    kinds=VIDEO_KINDS,
    frames=FrameRule(max_frames=161, frame_multiple=8, frame_offset=1),
    size=SizeRule(size_multiple=32, default_size=(704, 480)),
    temporal_attribute="vae_temporal_compression_ratio",
    spatial_attribute="vae_spatial_compression_ratio",
    frame_rate_conditioned=True,
    full_sizes={"ltx-video-2b": FullSize(
        "ltx-video-2b", "Lightricks/LTX-Video (0.9.0)",
        transformer=dict(num_attention_heads=32, attention_head_dim=64, cross_attention_dim=2048, num_layers=28),
        small_transformer=dict(num_attention_heads=2, attention_head_dim=16, cross_attention_dim=32, num_layers=2),
        text_encoder=T5_XXL, small_text_encoder=SMALL_T5,
        limits={"max_frames": 257, "default_size": [704, 480], "default_steps": 50, "max_sequence_length": 128},
        components=_full_size, parameters=1_920_000_000)},
)
