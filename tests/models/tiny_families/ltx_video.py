"""A tiny random-weight LTX-Video pipeline: patch 4 x 2^3 spatial, 2^3 temporal, the real
LTX-Video VAE's 32x and 8x compression."""

from __future__ import annotations

import torch

from tests.models.tiny_families.common import TEXT_DIM, t5_encoder, text_tokenizer


def build_t2v():
    from diffusers import LTXPipeline

    return LTXPipeline(**_components())


def build_i2v():
    from diffusers import LTXImageToVideoPipeline

    return LTXImageToVideoPipeline(**_components())


def _components():
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    tokenizer = text_tokenizer()
    torch.manual_seed(0)
    text_encoder = t5_encoder(len(tokenizer))
    torch.manual_seed(0)
    # patch 4 x 2^3 spatial, 2^3 temporal: the real LTX-Video VAE's 32x and 8x compression.
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        patch_size=4,
        patch_size_t=1,
    )
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
    return dict(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
