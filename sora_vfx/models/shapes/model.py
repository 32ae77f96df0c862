"""The ``shapes`` model's components before training: the real Wan classes, at a small size.

Tokenizer (one token per word of the grammar), UMT5 text encoder, ``AutoencoderKLWan``,
``WanTransformer3DModel`` and a flow-matching scheduler: the same classes as Wan 2.1/2.2, so
the trained folders load through ``DiffusionPipeline.from_pretrained`` like any user's model.
The image-to-video variant is ``WanImageToVideoPipeline`` in Wan 2.2's first-frame mode
(``expand_timesteps``): the first latent frame is the encoded reference, held clean at
timestep 0, so the one transformer serves both variants. The outpainting variant is a
``WanVACEPipeline``: the same transformer with VACE context blocks beside some of its layers,
which read the filmed part of each frame and where the border is.
"""

from __future__ import annotations

from typing import Any

import torch

from sora_vfx.shapes.grammar import COLOURS, MOTIONS, PANS, SHAPES, SIZES

#: Frame size (width, height) and length the model is trained at.
NATIVE_SIZE = (64, 64)
NATIVE_FRAMES = 25
#: Prompt tokens: the longest caption of the grammar is 27 words and commas.
MAX_TOKENS = 32
LATENT_CHANNELS = 16
TEXT_DIM = 64
SCHEDULER_SHIFT = 3.0
DEFAULT_STEPS = 20
#: How much smaller in space the VAE's latents are: 8 as shipped (a 64x64 frame is 4x4 tokens),
#: or 4 (8x8 tokens, four times the transformer's tokens: two objects share a token less often).
VAE_SPATIAL_SCALES = (8, 4)
#: The transformer layers a VACE context block feeds (WanVACE needs layer 0; here every one).
VACE_LAYERS = (0, 1, 2, 3, 4, 5)


def vace_in_channels(spatial: int = 8) -> int:
    """The VACE context's channels, as ``WanVACEPipeline`` builds them: the filmed frames'
    latents, the border's latents, and the mask folded ``spatial`` x ``spatial`` into channels."""
    return 2 * LATENT_CHANNELS + spatial * spatial


VACE_IN_CHANNELS = vace_in_channels()

_SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")


def vocabulary() -> list[str]:
    """Every word and mark of the grammar, after the special tokens."""
    words = {"a", "on", "background", "and", "camera", "panning", ","}
    words.update(COLOURS, SHAPES, (s for s in SIZES if s != "medium"), PANS)
    for motion in MOTIONS:
        words.update(motion.split())
    return [*_SPECIAL_TOKENS, *sorted(words)]


def build_tokenizer() -> Any:
    """A word-level tokenizer: lower-cased words and commas, unknown words as ``<unk>``, each
    prompt ending in ``</s>`` as Wan's T5 prompts do."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(vocabulary())}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=MAX_TOKENS)


def build_text_encoder(vocab_size: int) -> torch.nn.Module:
    """A two-layer UMT5 encoder, trained with the transformer."""
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(
        vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=16, d_ff=128, num_layers=2, num_heads=4,
        relative_attention_num_buckets=16, relative_attention_max_distance=32,
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    ))


def build_vae(spatial: int = 8) -> torch.nn.Module:
    """Wan's causal video VAE in Wan 2.2's residual form (pixels folded 2x2 into channels,
    averaging shortcuts around every resampling): ``spatial`` (8 or 4) times smaller in space,
    2x in time, 16 latent channels. The shortcuts let a small VAE learn flat colours and sharp
    edges in minutes; 2x in time keeps an object's path in the latents rather than in the
    decoder's guesses. At 4 the VAE has one spatial downsampling fewer."""
    from diffusers import AutoencoderKLWan

    if spatial not in VAE_SPATIAL_SCALES:
        scales = " or ".join(map(str, VAE_SPATIAL_SCALES))
        raise ValueError(f"the VAE is {scales} times smaller in space, not {spatial}")
    dim_mult, temporal = ([1, 2, 2], [False, True]) if spatial == 8 else ([2, 2], [True])
    return AutoencoderKLWan(
        base_dim=24, z_dim=LATENT_CHANNELS, dim_mult=dim_mult, num_res_blocks=1, temperal_downsample=temporal,
        is_residual=True, patch_size=2, in_channels=12, out_channels=12,
        scale_factor_temporal=2, scale_factor_spatial=spatial,
        latents_mean=[0.0] * LATENT_CHANNELS, latents_std=[1.0] * LATENT_CHANNELS,
    )


#: Transformer blocks.
LAYERS = 6

#: Attention heads of the transformer and their width (3 x 32 = 96). Wan's rotary positions give
#: each of x and y ``2 * (head_dim // 6)`` channels at frequencies from 1 down to 1/10000 a
#: token: with 16-wide heads that is one usable frequency per axis, with 32-wide ones two, which
#: is what places an object, and moves it, within the 4x4 tokens of a frame.
HEADS, HEAD_DIM = 3, 32


def build_transformer() -> torch.nn.Module:
    """Wan's diffusion transformer at a small size: 2x2 latent patches (16x16 pixels a token
    with the shipped VAE, 8x8 with ``build_vae(4)``; Wan 2.2's first-frame image-to-video mode
    assumes 2x2), 6 layers of width 96."""
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=HEADS, attention_head_dim=HEAD_DIM, in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS, text_dim=TEXT_DIM, freq_dim=64, ffn_dim=384, num_layers=LAYERS,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=64,
    )


def build_outpaint_transformer(spatial: int = 8) -> torch.nn.Module:
    """The transformer of :func:`build_transformer` with VACE context blocks beside the layers
    in :data:`VACE_LAYERS` (``WanVACETransformer3DModel``), for a VAE ``spatial`` times smaller
    in space."""
    from diffusers import WanVACETransformer3DModel

    return WanVACETransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=HEADS, attention_head_dim=HEAD_DIM, in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS, text_dim=TEXT_DIM, freq_dim=64, ffn_dim=384, num_layers=LAYERS,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=64,
        vace_layers=list(VACE_LAYERS), vace_in_channels=vace_in_channels(spatial),
    )


def build_scheduler() -> Any:
    """Flow matching with Wan's shift, so sampling spends its steps where the picture forms."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(shift=SCHEDULER_SHIFT)


def assemble(components: dict[str, Any], kind: str) -> Any:
    """The ``WanPipeline`` (``kind="t2v"``), first-frame ``WanImageToVideoPipeline`` ("i2v") or
    ``WanVACEPipeline`` ("outpaint", its transformer from :func:`build_outpaint_transformer`)."""
    if kind == "t2v":
        from diffusers import WanPipeline

        return WanPipeline(**components)
    if kind == "outpaint":
        from diffusers import WanVACEPipeline

        from sora_vfx.models.families.wan import correct_vae_factors

        return correct_vae_factors(WanVACEPipeline(**components))
    from diffusers import WanImageToVideoPipeline

    return WanImageToVideoPipeline(**components, image_encoder=None, image_processor=None, expand_timesteps=True)
