"""Tiny random-weight LTX-2 pipelines, built in code from diffusers' and transformers' own classes.

``build_t2v``, ``build_i2v`` and ``build_hdr`` return ``LTX2Pipeline``, ``LTX2ImageToVideoPipeline`` and
``LTX2HDRPipeline`` with the same eight components: a byte-fallback ``GemmaTokenizer``, a ``Gemma3``
text encoder, the text connectors, the audio-video transformer, the video VAE, the audio VAE, the vocoder
and the scheduler. Nothing is downloaded; each component is built under ``torch.manual_seed(0)``, so every
call gives the same weights, and the caller's random state is left as it was.

The components are a few layers of 2 to 32 channels, but they keep the real LTX-2 geometry:

- the video VAE compresses 32x in space and 8x in time (a 4-pixel patch, then three spatiotemporal 2x
  blocks), so frame counts follow 8k+1 and sizes are multiples of 32 as with the real model; its decoder
  pads by reflection, as the real one does, which needs two latent pixels: 64 is the smallest size;
- the audio VAE works on 16 kHz audio with a 160-sample mel hop and compresses time and mel bins 4x
  (25 latent frames a second); the vocoder upsamples each mel frame 240x to 24 kHz stereo;
- the text connectors replace padding with learnable registers, so ``max_sequence_length`` must be a
  multiple of ``TEXT_REGISTERS`` (128 in the real model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

# Video latent channels (128 in the real VAE).
_LATENT_CHANNELS = 8
# Gemma hidden size, and its layers: the connectors read every layer's hidden states plus the embeddings.
_TEXT_DIM = 16
_TEXT_LAYERS = 2
# The connectors' learnable registers: prompts are padded to a multiple of this many tokens.
TEXT_REGISTERS = 8
# The audio VAE's latents are packed as (time, channels x mel bins / 4) tokens, and its per-channel latent
# statistics have `base_channels` entries: the two must agree (8 x 64 / 4 = 128 in the real model).
_AUDIO_LATENT_CHANNELS = 2
_MEL_BINS = 16
_AUDIO_TOKEN_DIM = _AUDIO_LATENT_CHANNELS * _MEL_BINS // 4
_AUDIO_CHANNELS = 2  # stereo
_GEMMA_SPECIAL_TOKENS = ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")

_Module = TypeVar("_Module", bound=torch.nn.Module)


def build_t2v():
    """A tiny ``diffusers.LTX2Pipeline`` (text to video and audio)."""
    from diffusers import LTX2Pipeline

    return LTX2Pipeline(**_components())


def build_i2v():
    """A tiny ``diffusers.LTX2ImageToVideoPipeline`` (first frame given as ``image``)."""
    from diffusers import LTX2ImageToVideoPipeline

    return LTX2ImageToVideoPipeline(**_components())


def build_hdr():
    """A tiny ``diffusers.LTX2HDRPipeline``: an SDR reference video to linear HDR (LogC3 decoded), no audio.

    The real pipeline gets its HDR behaviour from an IC-LoRA loaded with ``load_lora_weights``; this one has
    none, so its pictures are as random as the others'.
    """
    from diffusers import LTX2HDRPipeline

    return LTX2HDRPipeline(**_components())


def _components() -> dict[str, object]:
    from diffusers import FlowMatchEulerDiscreteScheduler

    # The pipelines compute the schedule's shift `mu` from the token count with these settings.
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096
    )
    tokenizer = _tokenizer()
    return {
        "scheduler": scheduler,
        "vae": _seeded(_video_vae),
        "audio_vae": _seeded(_audio_vae),
        "text_encoder": _seeded(_text_encoder, len(tokenizer)),
        "tokenizer": tokenizer,
        "connectors": _seeded(_connectors),
        "transformer": _seeded(_transformer),
        "vocoder": _seeded(_vocoder),
    }


def _seeded(build: Callable[..., _Module], *args: object) -> _Module:
    """``build(*args)`` under ``torch.manual_seed(0)``, in eval mode, leaving the caller's random state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build(*args).eval()


def _tokenizer():
    """Gemma's own tokenizer class with no merges: every UTF-8 byte falls back to its own token.

    The pipelines are typed for ``GemmaTokenizer``; like Gemma's, it starts each prompt with ``<bos>`` and
    pads on the left. Gemma writes spaces as "▁", which gets a token of its own.
    """
    from transformers import GemmaTokenizer

    vocab = {token: i for i, token in enumerate((*_GEMMA_SPECIAL_TOKENS, "▁"))}
    vocab.update({f"<0x{byte:02X}>": len(vocab) + byte for byte in range(256)})
    return GemmaTokenizer(vocab=vocab, merges=[], add_bos_token=True)


def _text_encoder(vocab_size: int):
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    text_config = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=_TEXT_DIM,
        intermediate_size=32,
        num_hidden_layers=_TEXT_LAYERS,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        query_pre_attn_scalar=8,
        max_position_embeddings=2048,
        sliding_window=64,
    )
    # Only prompt enhancement feeds it images; 16-pixel images of 4-pixel patches pooled to 2x2 tokens.
    vision_config = SiglipVisionConfig(
        hidden_size=_TEXT_DIM,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=16,
        patch_size=4,
    )
    return Gemma3ForConditionalGeneration(
        Gemma3Config(text_config=text_config, vision_config=vision_config, mm_tokens_per_image=4)
    )


def _connectors():
    from diffusers.pipelines.ltx2 import LTX2TextConnectors

    # Each connector works at the text width (heads x head dim = `_TEXT_DIM`).
    return LTX2TextConnectors(
        caption_channels=_TEXT_DIM,
        text_proj_in_factor=_TEXT_LAYERS + 1,
        video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=TEXT_REGISTERS,
        audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=TEXT_REGISTERS,
    )


def _transformer():
    from diffusers import LTX2VideoTransformer3DModel

    # Video attention is 2 x 8 wide and audio 2 x 4; the audio sampling defaults match `_audio_vae`.
    return LTX2VideoTransformer3DModel(
        in_channels=_LATENT_CHANNELS,
        out_channels=_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=_AUDIO_TOKEN_DIM,
        audio_out_channels=_AUDIO_TOKEN_DIM,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        caption_channels=_TEXT_DIM,
    )


def _video_vae():
    from diffusers import AutoencoderKLLTX2Video

    # A 4-pixel patch and three spatiotemporal 2x blocks: 4 x 2^3 = 32x in space, 2^3 = 8x in time.
    # The decoder's blocks halve their channels as they upsample: 32 -> 16 -> 8 -> 4.
    return AutoencoderKLLTX2Video(
        latent_channels=_LATENT_CHANNELS,
        block_out_channels=(8, 16, 32),
        down_block_types=("LTX2VideoDownBlock3D",) * 3,
        layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True),
        downsample_type=("spatiotemporal",) * 3,
        decoder_block_out_channels=(8, 16, 32),
        decoder_layers_per_block=(1, 1, 1, 1),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False,) * 4,
        upsample_type=("spatiotemporal",) * 3,
        upsample_residual=(True, True, True),
        upsample_factor=(2, 2, 2),
        patch_size=4,
        patch_size_t=1,
    )


def _audio_vae():
    from diffusers import AutoencoderKLLTX2Audio

    # Three levels: 4x in time and in mel bins, as the real model (which hardcodes that factor).
    return AutoencoderKLLTX2Audio(
        base_channels=_AUDIO_TOKEN_DIM,
        output_channels=_AUDIO_CHANNELS,
        ch_mult=(1, 2, 4),
        num_res_blocks=1,
        in_channels=_AUDIO_CHANNELS,
        latent_channels=_AUDIO_LATENT_CHANNELS,
        mel_bins=_MEL_BINS,
        sample_rate=16000,
        mel_hop_length=160,
    )


def _vocoder():
    from diffusers.pipelines.ltx2 import LTX2Vocoder

    # 6 x 5 x 8 = 240 samples per mel frame: 100 mel frames a second to 24 kHz, as the real vocoder.
    # Each kernel is a multiple of its stride plus an even remainder, so lengths scale exactly.
    return LTX2Vocoder(
        in_channels=_AUDIO_CHANNELS * _MEL_BINS,
        hidden_channels=32,
        out_channels=_AUDIO_CHANNELS,
        upsample_kernel_sizes=[16, 15, 16],
        upsample_factors=[6, 5, 8],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=24000,
    )
