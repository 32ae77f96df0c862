"""The built-in tiny models: Wan pipelines with random weights, built in code.

They prove the whole path (tokenizer, text encoder, transformer, VAE, scheduler, save, load,
generate) without downloading anything, and give deterministic abstract pictures. Their
weights are random, so the prompt changes the picture but the picture does not depict it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from sora_vfx.console import quiet_progress_bars
from sora_vfx.errors import ModelError
from sora_vfx.files import remove_stale_temporaries, write_atomically
from sora_vfx.models.families import SORA_VFX_JSON
from sora_vfx.models.tokenizer import byte_level_tokenizer

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

# Part of the cache folder's name: bump it whenever the weights or limits built here change,
# so that no cache keeps serving an older tiny model.
TINY_MODEL_VERSION = "2"
TINY_KINDS = ("t2v", "i2v")
#: The diffusers class each kind of tiny model is.
TINY_PIPELINES = {"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline"}

# Limits the loader reads back from the saved folder's sora_vfx.json. max_frames is small so
# that long shots exercise the renderer's windows, as they would with a real model.
TINY_LIMITS: dict[str, Any] = {
    "max_frames": 17,
    "frame_multiple": 4,
    "frame_offset": 1,
    "size_multiple": 16,
    "default_size": [64, 32],
    "max_sequence_length": 64,
    "default_steps": 8,
    # Its VAE is small enough for any GPU, and tiles would change its pictures.
    "vae_tiling": False,
}

_Z_DIM = 8
_TEXT_DIM = 32


def _tiny_text_encoder(vocab_size: int):
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(
        vocab_size=vocab_size,
        d_model=_TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        # Dropout would draw from the global RNG if the model were ever left in train mode.
        dropout_rate=0.0,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return UMT5EncoderModel(config)


def _blur(kernel_size: tuple[int, ...], time_taps: tuple[float, float, float]) -> torch.Tensor:
    """A normalised low-pass kernel; for 3D kernels the first axis is causal time (t-2, t-1, t)."""
    kernel = torch.ones(())
    for axis, size in enumerate(kernel_size):
        taps = time_taps if len(kernel_size) == 3 and axis == 0 else (1.0, 2.0, 1.0)
        kernel = kernel.unsqueeze(-1) * (torch.tensor(taps) if size == 3 else torch.ones(size))
    return kernel / kernel.sum()


@torch.no_grad()
def _shape_decoder(vae: torch.nn.Module, gain: float = 1.5, target_std: float = 0.45) -> None:
    """Re-draw the decoder's convolutions as a random channel mix times a fixed blur kernel.

    Plain random 3x3 kernels decode to a near-grey high-frequency texture; a low-pass kernel
    keeps the randomness in colours and soft shapes instead. Convolutions look at the current
    frame only: mixing in the zero-padded causal history made every clip fade in the same way
    whatever the seed. Each temporal upsampler gives its two output frames one channel mix, the
    first frame blending the previous input frame in, so latent frames cross-fade rather than
    flicker. Last, the output convolution is rescaled so unit-normal latents decode to colour
    channels of mean 0 and ``target_std`` (in [-1, 1]): balanced colours, little clipping.
    """
    for module in vae.decoder.modules():
        if not isinstance(module, (torch.nn.Conv2d, torch.nn.Conv3d)) or module.weight[0, 0].numel() == 1:
            continue
        weight, bias = module.weight, module.bias
        out_ch, in_ch, *kernel_size = weight.shape
        is_time_upsampler = tuple(kernel_size) == (3, 1, 1) and out_ch == 2 * in_ch
        rows = in_ch if is_time_upsampler else out_ch
        mix = torch.randn(rows, in_ch) * (gain / in_ch**0.5)
        mix = mix.view(rows, in_ch, *([1] * len(kernel_size)))
        if is_time_upsampler:
            # Output channels [0, c) become frame 2t and [c, 2c) frame 2t+1 (WanResample).
            blend, current = _blur(kernel_size, (0.0, 1.0, 1.0)), _blur(kernel_size, (0.0, 0.0, 1.0))
            weight.copy_(torch.cat([mix * blend, mix * current]))
            bias[in_ch:] = bias[:in_ch]
        else:
            weight.copy_(mix * _blur(kernel_size, (0.0, 0.0, 1.0)))
    probe = torch.randn(2, vae.config.z_dim, 3, 8, 8)
    decoded = vae.eval().decode(probe, return_dict=False)[0]
    mean = decoded.mean(dim=(0, 2, 3, 4))
    scale = target_std / decoded.std(dim=(0, 2, 3, 4)).clamp_min(1e-6)
    conv_out = vae.decoder.conv_out
    conv_out.weight.mul_(scale.view(-1, *([1] * (conv_out.weight.dim() - 1))))
    conv_out.bias.copy_((conv_out.bias - mean) * scale)


def build_tiny_pipeline(kind: str = "t2v") -> DiffusionPipeline:
    """Build a tiny Wan pipeline with random weights, identical on every call.

    Args:
        kind: "t2v" (``WanPipeline``) or "i2v" (``WanImageToVideoPipeline``, first-frame
            conditioning without a CLIP image encoder, as Wan 2.2 does).
    Returns:
        The pipeline on the CPU in float32, every module in eval mode.
    Raises:
        ModelError: unknown kind.
    """
    if kind not in TINY_KINDS:
        raise ModelError(f"tiny model kind not supported: {kind}, available: {', '.join(TINY_KINDS)}")
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel

    # fork_rng keeps the caller's global RNG untouched by our manual_seed calls.
    with torch.random.fork_rng(devices=[]):
        tokenizer = byte_level_tokenizer()
        # Each component gets its own seed so resizing one leaves the others unchanged.
        torch.manual_seed(0)
        text_encoder = _tiny_text_encoder(len(tokenizer))
        torch.manual_seed(0)
        vae = AutoencoderKLWan(
            base_dim=8,
            z_dim=_Z_DIM,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
            # The defaults have 16 entries, one per channel of the real Wan VAE.
            latents_mean=[0.0] * _Z_DIM,
            latents_std=[1.0] * _Z_DIM,
        )
        _shape_decoder(vae)
        torch.manual_seed(0)
        # i2v concatenates the first-frame latents and a 4-channel frame mask to the noise.
        in_channels = _Z_DIM if kind == "t2v" else 2 * _Z_DIM + 4
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=in_channels,
            out_channels=_Z_DIM,
            text_dim=_TEXT_DIM,
            freq_dim=64,
            ffn_dim=48,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            # Covers 4096 px (256 patches of 16 px) on each axis.
            rope_max_seq_len=256,
        )
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    for module in (text_encoder, vae, transformer):
        module.eval()
    components = dict(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer
    )
    if kind == "t2v":
        from diffusers import WanPipeline

        return WanPipeline(**components)
    # Imported only here: importing it makes transformers warn when torchvision is missing.
    from diffusers import WanImageToVideoPipeline

    return WanImageToVideoPipeline(**components)


def cache_root(cache_dir: Path | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$SORA_VFX_CACHE``, else ``~/.cache/sora_vfx``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("SORA_VFX_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "sora_vfx"


def tiny_model_dir(cache_dir: Path | None = None, *, kind: str = "t2v") -> Path:
    """Where the tiny model of this version is (or will be) saved."""
    name = f"tiny-wan-{TINY_MODEL_VERSION}" if kind == "t2v" else f"tiny-wan-{kind}-{TINY_MODEL_VERSION}"
    return cache_root(cache_dir) / "models" / name


def is_saved_model(folder: Path) -> bool:
    """Whether ``folder`` holds a model saved by ``save_model_once`` (its last file is there)."""
    return (folder / "model_index.json").is_file() and (folder / SORA_VFX_JSON).is_file()


def ensure_tiny_model(cache_dir: Path | None = None, *, kind: str = "t2v") -> Path:
    """Save the tiny pipeline to the cache once and return its folder.

    The model is written to a temporary sibling folder and renamed into place, so a reader
    never sees half a model; when another process wins that race, its copy is used.

    Args:
        cache_dir: cache folder; default ``$SORA_VFX_CACHE`` or ``~/.cache/sora_vfx``.
        kind: "t2v" or "i2v".
    Returns:
        ``<cache>/models/tiny-wan-<version>`` (``tiny-wan-i2v-<version>`` for i2v).
    Raises:
        ModelError: the cache folder cannot be written.
    """
    folder = tiny_model_dir(cache_dir, kind=kind)
    if is_saved_model(folder):
        return folder
    limits = {"tiny_model_version": TINY_MODEL_VERSION, "kind": kind, **TINY_LIMITS}
    return save_model_once(build_tiny_pipeline(kind), folder, limits, what="the tiny model")


def save_model_once(pipeline: Any, folder: Path, limits: dict[str, Any], *, what: str) -> Path:
    """Save ``pipeline`` and its ``sora_vfx.json`` to ``folder`` through a temporary sibling
    (``files.write_atomically``).

    Only complete folders are renamed into place, so a reader never sees half a model; when
    another process wins the race, its copy is kept.

    Raises:
        ModelError: the cache folder cannot be written.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write {what} to {folder.parent}: {exc}") from exc
    # Temporary folders of writers that were killed: files.temporary_name's names for ``folder``.
    remove_stale_temporaries(folder.parent, f".{folder.name}.*.tmp")

    def write(temporary: Path) -> None:
        # A plain mkdir (not mkdtemp's 0700) so a shared cache stays readable to others.
        temporary.mkdir()
        with quiet_progress_bars():
            pipeline.save_pretrained(temporary, safe_serialization=True)
        (temporary / SORA_VFX_JSON).write_text(json.dumps(limits, indent=2) + "\n")
        if folder.exists() and not is_saved_model(folder):
            # Only complete folders are ever renamed into place, so this is foreign debris.
            shutil.rmtree(folder, ignore_errors=True)

    try:
        write_atomically(folder, write, what=what, error=ModelError)
    except ModelError:
        if not is_saved_model(folder):
            raise
        # Another process renamed its complete copy into place first.
    return folder
