"""A tiny random-weight AnimateDiff pipeline: Stable Diffusion's 8x VAE, frame by frame."""

from __future__ import annotations

import torch

from sora_vfx.console import quiet_transformers
from tests.models.tiny_families.common import MAX_TOKENS, TEXT_DIM, text_tokenizer


def build_t2v():
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    with quiet_transformers():  # importing it warns that torchvision is missing
        from diffusers import AnimateDiffPipeline

    tokenizer = text_tokenizer()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_DIM,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=1,
            max_position_embeddings=MAX_TOKENS,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=1,
        )
    )
    torch.manual_seed(0)
    # Four blocks: the 8x spatial compression of Stable Diffusion's VAE.
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    torch.manual_seed(0)
    motion_adapter = MotionAdapter(
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False)
    # The pipeline merges the 2D UNet and the motion adapter into a UNetMotionModel.
    return AnimateDiffPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        motion_adapter=motion_adapter,
        scheduler=scheduler,
    )
