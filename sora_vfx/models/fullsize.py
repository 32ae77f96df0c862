"""Pipelines at real models' sizes with random weights: the GPU benchmark's models.

Each builds the published architecture of a model (its diffusers config: layers, widths,
heads, text encoder, VAE, scheduler) with random weights, so it costs the compute and memory
of the real model without its multi-gigabyte download (nothing is downloaded at run time).
The pictures are noise; ``benchmarks/gpu.py`` measures seconds and memory with them.

- ``wan2.1-1.3b``: Wan2.1-T2V-1.3B (30 layers of 1536, UMT5-XXL text encoder, Wan VAE).
- ``wan2.1-14b``: Wan2.1-T2V-14B (40 layers of 5120). Wan2.1-I2V-14B adds a CLIP image
  encoder and image cross-attention (about 5% more transformer compute) to the same layers.
- ``ltx-video-2b``: LTX-Video 0.9 (28 layers of 2048, T5-XXL text encoder, LTX VAE).

``small=True`` keeps every class, layout and config key and shrinks the widths and depths, so
the same code paths run on a CPU in seconds (``benchmarks/gpu.py --quick``, the tests).
``build_pipeline(..., device="meta")`` builds without allocating weights: the memory plan
sizes a 14B model from it on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from .tiny import byte_level_tokenizer, save_model_once

#: Text encoders: the published configs' sizes.
_UMT5_XXL = dict(d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64, vocab_size=256384,
                 feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, relative_attention_max_distance=128)
_T5_XXL = dict(d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64, vocab_size=32128,
               feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, relative_attention_max_distance=128)
_SMALL_TEXT = dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)


@dataclass(frozen=True)
class FullSize:
    """One real model's architecture: what ``build_pipeline`` builds."""

    name: str
    published: str  # the model whose configs these are
    family: str
    transformer: dict[str, Any]
    small_transformer: dict[str, Any]
    text_encoder: dict[str, Any]
    #: ``sora_vfx.json`` of the written folder: its native size, frame limit and default steps.
    limits: dict[str, Any]


SIZES: dict[str, FullSize] = {
    "wan2.1-1.3b": FullSize(
        "wan2.1-1.3b", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "wan",
        transformer=dict(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=30),
        small_transformer=dict(num_attention_heads=2, attention_head_dim=16, ffn_dim=64, num_layers=2),
        text_encoder=_UMT5_XXL,
        limits={"max_frames": 81, "default_size": [832, 480], "default_steps": 50, "max_sequence_length": 512}),
    "wan2.1-14b": FullSize(
        "wan2.1-14b", "Wan-AI/Wan2.1-T2V-14B-Diffusers", "wan",
        transformer=dict(num_attention_heads=40, attention_head_dim=128, ffn_dim=13824, num_layers=40),
        small_transformer=dict(num_attention_heads=4, attention_head_dim=16, ffn_dim=96, num_layers=3),
        text_encoder=_UMT5_XXL,
        limits={"max_frames": 81, "default_size": [1280, 720], "default_steps": 50, "max_sequence_length": 512}),
    "ltx-video-2b": FullSize(
        "ltx-video-2b", "Lightricks/LTX-Video (0.9.0)", "ltx",
        transformer=dict(num_attention_heads=32, attention_head_dim=64, cross_attention_dim=2048, num_layers=28),
        small_transformer=dict(num_attention_heads=2, attention_head_dim=16, cross_attention_dim=32, num_layers=2),
        text_encoder=_T5_XXL,
        limits={"max_frames": 257, "default_size": [704, 480], "default_steps": 50, "max_sequence_length": 128}),
}


def fullsize(name: str) -> FullSize:
    """The architecture called ``name``; ModelError lists the known ones."""
    if name not in SIZES:
        raise ModelError(f"no full-size model {name!r}; known: {', '.join(SIZES)}")
    return SIZES[name]


def build_pipeline(name: str, *, small: bool = False, device: str = "cpu", dtype: torch.dtype = torch.bfloat16,
                   seed: int = 0) -> Any:
    """The pipeline of ``name`` with random weights (normal, std 0.02; norms 1, biases 0).

    Args:
        small: the same layout, narrow and shallow (for CPUs and tests).
        device: where the weights are made; "meta" makes none (sizes only).
        dtype: the weights' dtype.
        seed: the weights' seed (the same seed gives the same weights on the same device).
    """
    size = fullsize(name)
    text_config = {**size.text_encoder, **(_SMALL_TEXT if small else {})}
    transformer_config = size.small_transformer if small else size.transformer
    builder = _wan if size.family == "wan" else _ltx
    from accelerate import init_empty_weights
    from diffusers.utils import logging as diffusers_logging

    with init_empty_weights(include_buffers=False):
        components = builder(transformer_config, text_config, small)
    # The published text encoders share one embedding between `shared` and the encoder.
    text_encoder = components["text_encoder"]
    text_encoder.set_input_embeddings(text_encoder.get_input_embeddings())
    generator = None if device == "meta" else torch.Generator(device).manual_seed(seed)
    verbosity = diffusers_logging.get_verbosity()
    # A cast with `to()` warns about the modules that from_pretrained keeps in float32; the
    # folder is loaded through from_pretrained, which does.
    diffusers_logging.set_verbosity_error()
    try:
        for component in components.values():
            if isinstance(component, torch.nn.Module):
                _materialise(component, device, dtype, generator)
    finally:
        diffusers_logging.set_verbosity(verbosity)
    pipeline_class = components.pop("pipeline_class")
    return pipeline_class(**components)


def write_model(name: str, folder: Path, *, small: bool = False, seed: int = 0) -> Path:
    """Write ``build_pipeline(name)`` as a model folder (bfloat16 safetensors, ``sora_vfx.json``)
    that ``--model FOLDER`` and ``DiffusionPipeline.from_pretrained`` load; kept when it exists.

    Raises:
        ModelError: the folder cannot be written.
    """
    folder = Path(folder)
    if (folder / "model_index.json").is_file():
        return folder
    size = fullsize(name)
    limits = dict(size.limits)
    if small:
        limits.update(default_size=[64, 64], max_frames=17)
    pipeline = build_pipeline(name, small=small, seed=seed)
    return save_model_once(pipeline, folder, {**limits, "fullsize": name, "small": small},
                           what=f"the {name} model")


def _materialise(module: torch.nn.Module, device: str, dtype: torch.dtype, generator: Any) -> None:
    """Give the module's meta parameters storage on ``device`` and random values."""
    if device == "meta":
        module.to(dtype=dtype)
        module.eval()
        return
    module.to_empty(device=device)
    with torch.no_grad():
        for parameter_name, parameter in module.named_parameters():
            if parameter.ndim >= 2:
                parameter.normal_(0.0, 0.02, generator=generator)
            elif parameter_name.endswith("bias"):
                parameter.zero_()
            else:
                parameter.fill_(1.0)
        for _buffer_name, buffer in module.named_buffers():
            if buffer.is_floating_point():
                buffer.zero_()
    module.to(dtype=dtype)
    module.eval()


def _tokenizer(max_length: int) -> Any:
    # The published tokenizers are SentencePiece files from the Hub; a byte-level one encodes
    # every prompt into ids below the text encoder's vocabulary, at the same padded length.
    return byte_level_tokenizer(model_max_length=max_length)


def _wan(transformer: dict[str, Any], text: dict[str, Any], small: bool) -> dict[str, Any]:
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    text_dim = text["d_model"]
    vae = AutoencoderKLWan(base_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1) if small else AutoencoderKLWan()
    return dict(
        pipeline_class=WanPipeline,
        tokenizer=_tokenizer(512),
        text_encoder=UMT5EncoderModel(UMT5Config(**text, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                                 decoder_start_token_id=0)),
        vae=vae,
        transformer=WanTransformer3DModel(
            patch_size=(1, 2, 2), in_channels=16, out_channels=16, text_dim=text_dim, freq_dim=256,
            cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024, **transformer),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
                                          num_train_timesteps=1000),
    )


def _ltx(transformer: dict[str, Any], text: dict[str, Any], small: bool) -> dict[str, Any]:
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
        tokenizer=_tokenizer(128),
        text_encoder=T5EncoderModel(T5Config(**text, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                                             decoder_start_token_id=0)),
        vae=vae,
        transformer=LTXVideoTransformer3DModel(in_channels=channels, out_channels=channels,
                                               caption_channels=text["d_model"], **transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05,
                                                  base_image_seq_len=1024, max_image_seq_len=4096,
                                                  shift_terminal=0.1),
    )
