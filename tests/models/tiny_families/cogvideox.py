"""A tiny random-weight CogVideoX pipeline: 8x spatial and 4x temporal, as CogVideoX 1.0's VAE."""

from __future__ import annotations

import torch

from tests.models.tiny_families.common import MAX_TOKENS, TEXT_DIM, t5_encoder, text_tokenizer


def build_t2v():
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    tokenizer = text_tokenizer()
    torch.manual_seed(0)
    text_encoder = t5_encoder(len(tokenizer))
    torch.manual_seed(0)
    # Four blocks: 8x spatial, and 4x temporal, as CogVideoX 1.0's VAE.
    vae = AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=8,  # heads x dim must be divisible by 16 for the 3D sin-cos embeddings
        in_channels=4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=TEXT_DIM,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        # The joint positional embedding covers exactly this many text tokens: it has to equal
        # the max_sequence_length the prompts are encoded with (set in sora_vfx.json below).
        max_text_seq_length=MAX_TOKENS,
    )
    return CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )
