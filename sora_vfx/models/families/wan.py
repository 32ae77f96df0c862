"""Wan 2.1 and 2.2 (``WanPipeline``, ``WanImageToVideoPipeline``, ``WanVACEPipeline``).

Latents are (batch, channels, frames, height, width) with the timestep per token in frame
order (Wan 2.2's first-frame conditioning), so a shot's windows can be denoised as one. Wan
2.2 A14B has two experts (``transformer`` for high noise, ``transformer_2`` below
``boundary_ratio``): context windows, step caches and memory plans wrap both. The causal VAE
decodes latent frame after latent frame with a cache, so a whole shot decodes as one stream.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from sora_vfx.models.families.base import Family, FrameRule, FullSize, KindRule, SizeRule
from sora_vfx.models.tokenizer import byte_level_tokenizer

#: The video kinds every family names the same way (image-to-video classes say so).
VIDEO_KINDS = (
    KindRule("i2v", markers=("ImageToVideo", "I2V"), conditioning=("image",)),
    KindRule("t2v"),
)
#: Video inpainting/outpainting (VACE): given the frames and a mask of what to generate.
OUTPAINT = KindRule("outpaint", markers=("VACE",), conditioning=("video", "mask"))

#: UMT5-XXL, Wan's text encoder, as published.
UMT5_XXL = dict(d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64, vocab_size=256384,
                feed_forward_proj="gated-gelu", relative_attention_num_buckets=32,
                relative_attention_max_distance=128)
SMALL_T5 = dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)


class WanFamily(Family):
    """Wan's hooks: its VAE factors mended after loading, and its causal VAE decoded outside
    the pipeline (a stream, or windows), un-normalised as the pipeline does."""

    def after_load(self, pipeline: Any) -> None:
        correct_vae_factors(pipeline)

    def can_stream(self, pipeline: Any, latents: torch.Tensor) -> bool:
        """A causal VAE with a frame cache (``AutoencoderKLWan``), not tiling frames this size."""
        vae = getattr(pipeline, "vae", None)
        decoder = getattr(vae, "decoder", None)
        if vae is None or decoder is None or not all(hasattr(vae, name) for name in ("clear_cache", "post_quant_conv")):
            return False
        if "first_chunk" not in inspect.signature(decoder.forward).parameters:
            return False
        if getattr(vae.config, "patch_size", None) is not None and _unpatchify(vae) is None:
            return False
        if getattr(vae, "use_tiling", False):
            scale = int(getattr(vae, "spatial_compression_ratio", 8))
            height, width = latents.shape[-2:]
            if width > vae.tile_sample_min_width // scale or height > vae.tile_sample_min_height // scale:
                return False
        return True

    def decode_stream(self, pipeline: Any, latents: torch.Tensor) -> Iterator[tuple[int, np.ndarray]]:
        """The decoder runs one latent frame at a time with its causal cache, as its own
        ``decode`` does for a whole shot, so the frames are those of one decode of every latent
        (bit-identical) while memory holds one latent frame's activations."""
        vae = pipeline.vae
        patch = getattr(vae.config, "patch_size", None)
        # The VAE's own module undoes its patching (Wan 2.2), as its decode does.
        unpatchify = _unpatchify(vae) if patch is not None else None
        first = 0
        vae.clear_cache()
        try:
            # Inference mode per latent frame, never across a yield: the caller's mode stays its own.
            with torch.inference_mode():
                hidden = vae.post_quant_conv(_unnormalised(vae, latents))
            for index in range(hidden.shape[2]):
                with torch.inference_mode():
                    vae._conv_idx = [0]
                    video = vae.decoder(hidden[:, :, index:index + 1], feat_cache=vae._feat_map,
                                        feat_idx=vae._conv_idx, first_chunk=index == 0)
                    if unpatchify is not None:
                        video = unpatchify(video, patch_size=patch)
                    video = torch.clamp(video, min=-1.0, max=1.0)
                    frames = np.asarray(pipeline.video_processor.postprocess_video(video, output_type="np")[0],
                                        dtype=np.float32)
                yield first, np.ascontiguousarray(frames)
                first += len(frames)
        finally:
            vae.clear_cache()

    def decode_window(self, pipeline: Any, latents: torch.Tensor, start: int, length: int, *,
                      warmup: int = 1) -> np.ndarray:
        """The VAE decodes causally: a window's first latent frame is decoded as if it were the
        shot's first. Where the window starts inside the shot, ``warmup`` latent frames before
        it are decoded too and their frames dropped, so every frame kept has history."""
        vae = pipeline.vae
        temporal = int(pipeline.vae_scale_factor_temporal)
        warmup = min(warmup, start)
        with torch.inference_mode():
            video = vae.decode(_unnormalised(vae, latents[:, :, start - warmup:start + length]), return_dict=False)[0]
            frames = pipeline.video_processor.postprocess_video(video, output_type="np")[0]
        return np.ascontiguousarray(np.asarray(frames, dtype=np.float32)[warmup * temporal:])


def _unpatchify(vae: Any) -> Any:
    return getattr(sys.modules[type(vae).__module__], "unpatchify", None)


def _unnormalised(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    """Denoised latents on the VAE's device and dtype, un-normalised with its latent mean and
    std exactly as the Wan pipelines do before ``vae.decode`` (dividing by 1 / std), so that a
    window decodes bit for bit as the pipeline's own call would."""
    config = vae.config
    latents = latents.to(device=vae.device, dtype=vae.dtype)
    mean = torch.tensor(config.latents_mean).view(1, config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
    inverse_std = 1.0 / torch.tensor(config.latents_std).view(1, config.z_dim, 1, 1, 1).to(latents.device,
                                                                                          latents.dtype)
    return latents / inverse_std + mean


def correct_vae_factors(pipeline: Any) -> Any:
    """Take the VAE's compression from its config where the pipeline guessed it.

    diffusers' ``WanVACEPipeline`` (and ``WanVideoToVideoPipeline``) count the VAE's
    down-sampling stages for its compression, which misses the 2x2 patch folding of Wan 2.2's
    residual VAE (``patch_size``): such a VAE compresses 8x while the pipeline assumes 4x and
    draws latents of the wrong size. ``WanPipeline`` reads ``vae.config.scale_factor_*``; so
    does this, for every pipeline that has both. Returns the pipeline.
    """
    from diffusers.video_processor import VideoProcessor

    config = getattr(getattr(pipeline, "vae", None), "config", None)
    changed = False
    for attribute, key in (("vae_scale_factor_spatial", "scale_factor_spatial"),
                           ("vae_scale_factor_temporal", "scale_factor_temporal")):
        value = getattr(config, key, None)
        if isinstance(value, int) and isinstance(getattr(pipeline, attribute, None), int) \
                and getattr(pipeline, attribute) != value:
            object.__setattr__(pipeline, attribute, value)
            changed = True
    if changed and isinstance(getattr(pipeline, "video_processor", None), VideoProcessor):
        pipeline.video_processor = VideoProcessor(vae_scale_factor=pipeline.vae_scale_factor_spatial)
    return pipeline


# --- full size (benchmarks/gpu.py) -----------------------------------------------------------


def umt5_encoder(text: Mapping[str, Any]) -> Any:
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(**text, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                       decoder_start_token_id=0))


def wan_transformer(transformer: Mapping[str, Any], text_dim: int, *, in_channels: int = 16) -> Any:
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), in_channels=in_channels, out_channels=16, text_dim=text_dim, freq_dim=256,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024, **transformer)


def wan_vae(small: bool) -> Any:
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1) if small else AutoencoderKLWan()


def _full_size(transformer: Mapping[str, Any], text: Mapping[str, Any], small: bool, *,
               experts: int = 1) -> dict[str, Any]:
    from diffusers import UniPCMultistepScheduler, WanPipeline

    components = dict(
        pipeline_class=WanPipeline,
        tokenizer=byte_level_tokenizer(model_max_length=512),
        text_encoder=umt5_encoder(text),
        vae=wan_vae(small),
        transformer=wan_transformer(transformer, text["d_model"]),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                          num_train_timesteps=1000),
    )
    if experts == 2:
        # Wan2.2-T2V-A14B: a high-noise and a low-noise expert of the same architecture.
        components.update(transformer_2=wan_transformer(transformer, text["d_model"]), boundary_ratio=0.875)
    return components


def _two_experts(transformer: Mapping[str, Any], text: Mapping[str, Any], small: bool) -> dict[str, Any]:
    return _full_size(transformer, text, small, experts=2)


_WAN_14B = dict(num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40)
_SMALL_14B = dict(num_attention_heads=4, attention_head_dim=16, ffn_dim=96, num_layers=3)
FULL_SIZES = {
    size.name: size for size in (
        FullSize("wan2.1-1.3b", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
                 transformer=dict(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30),
                 small_transformer=dict(num_attention_heads=2, attention_head_dim=16, ffn_dim=64, num_layers=2),
                 text_encoder=UMT5_XXL, small_text_encoder=SMALL_T5,
                 limits={"max_frames": 81, "default_size": [832, 480], "default_steps": 50,
                         "max_sequence_length": 512},
                 components=_full_size, parameters=1_420_000_000),
        FullSize("wan2.1-14b", "Wan-AI/Wan2.1-T2V-14B-Diffusers", transformer=_WAN_14B, small_transformer=_SMALL_14B,
                 text_encoder=UMT5_XXL, small_text_encoder=SMALL_T5,
                 limits={"max_frames": 81, "default_size": [1280, 720], "default_steps": 50,
                         "max_sequence_length": 512},
                 components=_full_size, parameters=14_290_000_000),
        FullSize("wan2.2-a14b", "Wan-AI/Wan2.2-T2V-A14B-Diffusers", transformer=_WAN_14B,
                 small_transformer=_SMALL_14B, text_encoder=UMT5_XXL, small_text_encoder=SMALL_T5,
                 limits={"max_frames": 81, "default_size": [1280, 720], "default_steps": 40,
                         "max_sequence_length": 512},
                 # Two experts of Wan2.1-14B's size (the model card rounds them to "27B, 14B active").
                 components=_two_experts, parameters=28_580_000_000),
    )
}

WAN = WanFamily(
    name="Wan",
    class_prefix="Wan",
    kinds=(OUTPAINT, *VIDEO_KINDS),
    frames=FrameRule(max_frames=81, frame_multiple=4, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(832, 480)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
    # An outpainting shot's context windows slice one noise tensor too (plate extension).
    shot_noise_kinds=("t2v", "i2v", "outpaint"),
    # Latents (batch, channels, frames, height, width); per-token timesteps in frame order.
    context_axis=2,
    transformers=("transformer", "transformer_2"),
    # Wan's VAE is meant to run in float32 even when the transformer runs in bfloat16.
    vae_dtype="float32",
    full_sizes=FULL_SIZES,
)
