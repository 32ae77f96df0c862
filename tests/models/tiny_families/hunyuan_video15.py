"""Tiny random-weight HunyuanVideo 1.5 pipelines (text-to-video and image-to-video), built offline.

``build_t2v`` returns a ``diffusers.HunyuanVideo15Pipeline`` and ``build_i2v`` a
``diffusers.HunyuanVideo15ImageToVideoPipeline``, made of diffusers' and transformers' own classes with
random weights: nothing is downloaded. Each model is drawn under ``torch.manual_seed(0)``, so repeated
builds have identical weights. Both builders take every component from one set of constructors; i2v adds
a SigLIP image encoder and its image processor.

What stays as in the real model:

* the VAE compresses 16x in space and 4x in time (``vae.spatial_compression_ratio`` and
  ``vae.temporal_compression_ratio``), so ``num_frames`` gives ``(num_frames - 1) // 4 + 1`` latent frames
  and height and width are floored to multiples of 16;
* the transformer reads the latents, as many image-latent channels and a mask channel
  (``in_channels = 2 * latent_channels + 1``), with patch sizes 1;
* the prompt goes through a Qwen2.5-VL text model, whose chat template starts with the 108 tokens that the
  pipelines crop, and its quoted text through a ByT5-tokenized T5 glyph encoder;
* guidance is a ``ClassifierFreeGuidance`` guider component.

What is shrunk: widths are 8-32 channels with one to three layers (but the transformer's ByT5 projection
is 2048 wide whatever its input, the bulk of its 4.4M weights), SigLIP looks at 28x28 pixels (4 tokens),
and ``transformer.config.target_size`` is 64: i2v's output size is the bucket of about 64x64 pixels
(64x64, 48x80, 80x48, 32x128, ...) nearest the image's aspect ratio, instead of about 640x640.
"""

from __future__ import annotations

from typing import Any

import torch

from sora_vfx.models.tokenizer import byte_level_tokenizer
from tests.models.tiny_families.common import t5_encoder

# Widths shared by an encoder and the transformer input that reads it.
_TEXT_DIM = 32  # Qwen2.5-VL hidden size = transformer text_embed_dim
_GLYPH_DIM = 32  # ByT5 (T5) d_model = transformer text_embed_2_dim
_IMAGE_DIM = 32  # SigLIP hidden size = transformer image_embed_dim
_LATENT_CHANNELS = 8
_SIGLIP_SIZE = 28  # two 14-pixel patches a side
# The pipelines crop this many tokens off the front of each templated prompt
# (prompt_template_encode_start_idx): Qwen2.5-VL's tokens for the system message.
_TEMPLATE_TOKENS = 108
# The byte-level tokenizer spends a token per byte, so the template stands for the system message with
# exactly _TEMPLATE_TOKENS special tokens: the cropped embeddings then start at the user prompt, as with Qwen.
_TEMPLATE_TOKEN = "<|im_start|>"
_CHAT_TEMPLATE = (
    "{{ '" + _TEMPLATE_TOKEN + "' * " + str(_TEMPLATE_TOKENS) + " }}"
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ message['content'] }}{% endif %}{% endfor %}"
)


def build_t2v():
    """A tiny ``HunyuanVideo15Pipeline``."""
    from diffusers import HunyuanVideo15Pipeline

    return HunyuanVideo15Pipeline(**_shared_components())


def build_i2v():
    """A tiny ``HunyuanVideo15ImageToVideoPipeline``: the t2v components plus a SigLIP image encoder."""
    from diffusers import HunyuanVideo15ImageToVideoPipeline

    return HunyuanVideo15ImageToVideoPipeline(
        **_shared_components(), image_encoder=_image_encoder(), feature_extractor=_feature_extractor()
    )


def _shared_components() -> dict[str, Any]:
    from diffusers import ClassifierFreeGuidance, FlowMatchEulerDiscreteScheduler

    tokenizer = _tokenizer()
    tokenizer_2 = _glyph_tokenizer()
    return {
        "tokenizer": tokenizer,
        "text_encoder": _text_encoder(len(tokenizer)),
        "tokenizer_2": tokenizer_2,
        "text_encoder_2": _glyph_encoder(len(tokenizer_2)),
        "transformer": _transformer(),
        "vae": _vae(),
        "scheduler": FlowMatchEulerDiscreteScheduler(),
        "guider": ClassifierFreeGuidance(guidance_scale=6.0),
    }


def _tokenizer():
    """Stands in for Qwen2Tokenizer: byte-level, with a chat template for ``apply_chat_template``."""
    tokenizer = byte_level_tokenizer(("<pad>", "</s>", "<unk>", _TEMPLATE_TOKEN))
    # Registered as special, so that the template's markers are not split into bytes.
    tokenizer.add_tokens([_TEMPLATE_TOKEN], special_tokens=True)
    tokenizer.chat_template = _CHAT_TEMPLATE
    return tokenizer


def _glyph_tokenizer():
    # ByT5's tokenizer is byte-level by design and needs no vocabulary file.
    from transformers import ByT5Tokenizer

    return ByT5Tokenizer()


def _text_encoder(vocab_size: int):
    from transformers import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    torch.manual_seed(0)
    config = Qwen2_5_VLTextConfig(
        vocab_size=vocab_size,
        hidden_size=_TEXT_DIM,
        intermediate_size=64,
        # The pipeline reads hidden_states[-3]: three layers make it the output of the first.
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        # Multimodal RoPE: the sections split the 4 rotary frequencies of an 8-channel head.
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [1, 1, 2]},
        pad_token_id=0,
        bos_token_id=None,
        eos_token_id=1,
    )
    return Qwen2_5_VLTextModel(config)


def _glyph_encoder(vocab_size: int):
    torch.manual_seed(0)
    return t5_encoder(vocab_size, width=_GLYPH_DIM)


def _image_encoder():
    from transformers import SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(0)
    config = SiglipVisionConfig(
        hidden_size=_IMAGE_DIM,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        image_size=_SIGLIP_SIZE,
        patch_size=14,
    )
    return SiglipVisionModel(config)


def _feature_extractor():
    # The PIL flavour of SiglipImageProcessor: the default one needs torchvision.
    from transformers import SiglipImageProcessorPil

    return SiglipImageProcessorPil(size={"height": _SIGLIP_SIZE, "width": _SIGLIP_SIZE})


def _transformer():
    from diffusers import HunyuanVideo15Transformer3DModel

    torch.manual_seed(0)
    return HunyuanVideo15Transformer3DModel(
        in_channels=2 * _LATENT_CHANNELS + 1,  # noisy latents, image latents, image mask
        out_channels=_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=16,
        num_layers=1,
        num_refiner_layers=1,
        patch_size=1,
        patch_size_t=1,
        text_embed_dim=_TEXT_DIM,
        text_embed_2_dim=_GLYPH_DIM,
        image_embed_dim=_IMAGE_DIM,
        rope_axes_dim=(4, 6, 6),  # frames, rows, columns: they add up to attention_head_dim
        target_size=64,
    )


def _vae():
    from diffusers import AutoencoderKLHunyuanVideo15

    torch.manual_seed(0)
    # Five blocks: four 2x spatial steps (16x), the last two of them also 2x in time (4x).
    return AutoencoderKLHunyuanVideo15(
        latent_channels=_LATENT_CHANNELS,
        block_out_channels=(8, 8, 16, 16, 16),
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    )
