"""The built-in tiny inpainting model: a Stable Diffusion inpainting pipeline with random
weights, built in code.

Like the tiny video models (``tiny.py``) it proves the whole path (tokenizer, CLIP text
encoder, 9-channel UNet, VAE, scheduler, save, load, generate) without downloading anything
and gives deterministic abstract pictures; it does not know what a beach looks like.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from sora_vfx.console import quiet_transformers
from sora_vfx.models.tiny import (
    cache_root,
    is_saved_model,
    save_model_once,
)
from sora_vfx.models.tokenizer import byte_level_tokenizer

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

# Part of the cache folder's name: bump it whenever the weights or limits built here change.
TINY_INPAINT_VERSION = "1"
#: What ``extend --model`` calls this model (``resolve_model``'s ``plate``).
TINY_INPAINT_NAME = "tiny"
#: Names this version of the weights (its cache folder; in plate job hashes).
TINY_INPAINT_ID = f"tiny-inpaint-{TINY_INPAINT_VERSION}"

# Read back by the plate loader from the saved folder's sora_vfx.json. default_size is the
# working area (width x height is kept, the aspect follows the plate); size_multiple keeps the
# latents divisible by the UNet's one downsampling step.
TINY_INPAINT_LIMITS: dict[str, Any] = {
    "default_size": [128, 128],
    "size_multiple": 8,
    "default_steps": 8,
}

_SPECIAL_TOKENS = ("<|startoftext|>", "<|endoftext|>")
_MAX_TOKENS = 32
_TEXT_DIM = 32
_LATENT_CHANNELS = 4


def _tiny_text_encoder(vocab_size: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=_TEXT_DIM,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=_MAX_TOKENS,
        projection_dim=_TEXT_DIM,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        attention_dropout=0.0,
    )
    return CLIPTextModel(config)


def _low_pass(size: int) -> torch.Tensor:
    taps = torch.tensor([1.0, 2.0, 1.0]) if size == 3 else torch.ones(size)
    kernel = taps[:, None] * taps[None, :]
    return kernel / kernel.sum()


@torch.no_grad()
def _shape_decoder(vae: torch.nn.Module, gain: float = 1.5, target_std: float = 0.45) -> None:
    """Redraw the decoder's convolutions as a random channel mix times a blur kernel.

    Random 3x3 kernels decode to a near-grey, high-frequency texture; a low-pass kernel keeps
    the randomness in colours and soft shapes. The output convolution is then rescaled so that
    unit-normal latents decode to channels of mean 0 and ``target_std`` in [-1, 1].
    """
    for module in vae.decoder.modules():
        if not isinstance(module, torch.nn.Conv2d) or module.weight[0, 0].numel() == 1:
            continue
        out_ch, in_ch, kh, _kw = module.weight.shape
        mix = torch.randn(out_ch, in_ch) * (gain / in_ch**0.5)
        module.weight.copy_(mix[:, :, None, None] * _low_pass(kh))
    probe = torch.randn(4, vae.config.latent_channels, 16, 16)
    decoded = vae.eval().decode(probe, return_dict=False)[0]
    mean = decoded.mean(dim=(0, 2, 3))
    scale = target_std / decoded.std(dim=(0, 2, 3)).clamp_min(1e-6)
    conv_out = vae.decoder.conv_out
    conv_out.weight.mul_(scale.view(-1, 1, 1, 1))
    conv_out.bias.copy_((conv_out.bias - mean) * scale)


def build_tiny_inpaint_pipeline() -> DiffusionPipeline:
    """Build a tiny ``StableDiffusionInpaintPipeline`` with random weights, identical on every call.

    The UNet takes 9 channels (4 noisy latents, 1 mask, 4 masked-image latents) as the real
    Stable Diffusion inpainting models do; the VAE downsamples by 4.

    Returns:
        The pipeline on the CPU in float32, every module in eval mode, no safety checker.
    """
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    with torch.random.fork_rng(devices=[]):
        bos, eos = _SPECIAL_TOKENS
        tokenizer = byte_level_tokenizer(_SPECIAL_TOKENS, bos=bos, eos=eos, pad=eos, unk=eos,
                                         model_max_length=_MAX_TOKENS)
        # Each component has its own seed so resizing one leaves the others unchanged.
        torch.manual_seed(0)
        text_encoder = _tiny_text_encoder(len(tokenizer))
        torch.manual_seed(0)
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D"] * 3,
            up_block_types=["UpDecoderBlock2D"] * 3,
            block_out_channels=[16, 32, 32],
            layers_per_block=1,
            latent_channels=_LATENT_CHANNELS,
            norm_num_groups=8,
            sample_size=128,
        )
        _shape_decoder(vae)
        torch.manual_seed(0)
        unet = UNet2DConditionModel(
            sample_size=32,
            in_channels=2 * _LATENT_CHANNELS + 1,
            out_channels=_LATENT_CHANNELS,
            layers_per_block=1,
            block_out_channels=(32, 64),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=_TEXT_DIM,
            attention_head_dim=8,
            norm_num_groups=8,
        )
    scheduler = DDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
        clip_sample=False, set_alpha_to_one=False, steps_offset=1,
    )
    for module in (text_encoder, vae, unet):
        module.eval()
    with quiet_transformers():
        from diffusers import StableDiffusionInpaintPipeline

    return StableDiffusionInpaintPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def tiny_inpaint_dir(cache_dir: Path | None = None) -> Path:
    """Where the tiny inpainting model of this version is (or will be) saved."""
    return cache_root(cache_dir) / "models" / TINY_INPAINT_ID


def ensure_tiny_inpaint_model(cache_dir: Path | None = None) -> Path:
    """Save the tiny inpainting pipeline to the cache once and return its folder.

    Written to a temporary sibling folder and renamed into place, so a reader never sees half a
    model; when another process wins that race, its copy is used.

    Raises:
        ModelError: the cache folder cannot be written.
    """
    folder = tiny_inpaint_dir(cache_dir)
    if is_saved_model(folder):
        return folder
    limits = {"tiny_model_version": TINY_INPAINT_VERSION, "kind": "inpaint", **TINY_INPAINT_LIMITS}
    return save_model_once(build_tiny_inpaint_pipeline(), folder, limits, what="the tiny inpainting model")
