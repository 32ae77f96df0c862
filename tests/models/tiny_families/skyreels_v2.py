"""Tiny SkyReels-V2 diffusion forcing pipelines with random weights, built in code for the tests.

SkyReels-V2 is Wan 2.1 trained for diffusion forcing: its transformer takes one timestep per
latent frame, so the pipelines can denoise long videos segment by segment, each segment
continuing from the last latent frames of the one before (``base_num_frames``,
``overlap_history``), and can denoise frames asynchronously (``ar_step``, ``causal_block_size``).
Its tokenizer, UMT5 text encoder and VAE are Wan's, so they are taken from the project's tiny
Wan model (same weights, same shaped decoder, the real 8x spatial and 4x temporal compression);
only the transformer and the scheduler are SkyReels-V2's own. The text-to-video and
image-to-video pipelines share one set of components: the image-to-video pipeline writes the
image's latent frame in place of the first noisy frame, it adds no input channels.

Nothing is downloaded; every build gives the same weights and leaves the global RNG untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from sora_vfx.models.tiny import build_tiny_pipeline

if TYPE_CHECKING:
    from diffusers import SkyReelsV2DiffusionForcingImageToVideoPipeline, SkyReelsV2DiffusionForcingPipeline

# The flow shifts SkyReels-V2's pipeline docstrings recommend: 8.0 for T2V, 5.0 for I2V.
_T2V_FLOW_SHIFT = 8.0
_I2V_FLOW_SHIFT = 5.0


def _components(flow_shift: float) -> dict:
    """Tokenizer, text encoder and VAE of the tiny Wan model, a tiny SkyReels-V2 transformer and
    the flow-matching UniPC scheduler the published SkyReels-V2 models use."""
    from diffusers import SkyReelsV2Transformer3DModel, UniPCMultistepScheduler

    wan = build_tiny_pipeline("t2v").components
    text_encoder, vae = wan["text_encoder"], wan["vae"]
    z_dim = vae.config.z_dim
    # fork_rng keeps the caller's global RNG untouched by manual_seed.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformer = SkyReelsV2Transformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=z_dim,
            out_channels=z_dim,
            text_dim=text_encoder.config.d_model,
            freq_dim=64,
            ffn_dim=48,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            # Covers 4096 px (256 patches of 16 px) on each axis, as the tiny Wan model.
            rope_max_seq_len=256,
            # The published diffusion forcing models embed the frame rate (the pipelines' fps).
            inject_sample_info=True,
        )
    transformer.eval()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift)
    return dict(
        tokenizer=wan["tokenizer"], text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler
    )


def build_t2v() -> SkyReelsV2DiffusionForcingPipeline:
    """A tiny ``SkyReelsV2DiffusionForcingPipeline`` (text to video) on the CPU in float32."""
    from diffusers import SkyReelsV2DiffusionForcingPipeline

    return SkyReelsV2DiffusionForcingPipeline(**_components(_T2V_FLOW_SHIFT))


def build_i2v() -> SkyReelsV2DiffusionForcingImageToVideoPipeline:
    """A tiny ``SkyReelsV2DiffusionForcingImageToVideoPipeline`` (first frame to video) on the CPU
    in float32; it takes a PIL image or a tensor as ``image``."""
    from diffusers import SkyReelsV2DiffusionForcingImageToVideoPipeline

    return SkyReelsV2DiffusionForcingImageToVideoPipeline(**_components(_I2V_FLOW_SHIFT))
