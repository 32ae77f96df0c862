"""HunyuanVideo 1.5 (``HunyuanVideo15Pipeline``, ``HunyuanVideo15ImageToVideoPipeline``).

Its call takes no ``guidance_scale``: guidance is a component (the ``guider``), replaced before
a call by one of the same class with the shot's scale. Its image-to-video call takes no size:
it crops the image to the size bucket nearest the image's aspect; the shot's size wins instead
(the image is cropped to it), so an i2v shot has the size of the shot like any other. Neither
call takes a step callback, so its long shots cross-fade or continue from an image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sora_vfx.console import quiet_transformers
from sora_vfx.models.families.base import Family, FrameRule, FullSize, SizeRule, pil_image
from sora_vfx.models.families.wan import VIDEO_KINDS
from sora_vfx.models.tokenizer import byte_level_tokenizer


class HunyuanVideo15Family(Family):
    def call_arguments(self, pipeline: Any, arguments: dict[str, Any], *, frame_rate: float | None) -> dict[str, Any]:
        arguments = dict(arguments)
        scale = arguments.pop("guidance_scale", None)
        guider = getattr(pipeline, "guider", None)
        if scale is not None and guider is not None and guider.config.guidance_scale != scale:
            with quiet_transformers():
                pipeline.guider = guider.new(guidance_scale=float(scale))
        if "image" in arguments:
            arguments["image"] = pil_image(arguments["image"])
            size = (arguments.pop("height"), arguments.pop("width"))
            pipeline.video_processor = _shot_size_processor(pipeline.video_processor, size)
        return arguments


class _ShotSize:
    """The pipeline's video processor, but choosing the shot's (height, width) for every image."""

    def __init__(self, processor: Any, size: tuple[int, int]):
        self.processor, self.size = processor, size

    def __getattr__(self, name: str) -> Any:
        return getattr(self.processor, name)

    def calculate_default_height_width(self, height: int, width: int, target_size: int) -> tuple[int, int]:
        return self.size


def _shot_size_processor(processor: Any, size: tuple[int, int]) -> _ShotSize:
    return _ShotSize(processor.processor if isinstance(processor, _ShotSize) else processor, size)


# --- full size (benchmarks/gpu.py) -----------------------------------------------------------
# The published configs are those diffusers' scripts/convert_hunyuan_video1_5_to_diffusers.py loads the
# weights into (strictly); the small ones keep every key and shrink widths and depths.

# Qwen2.5-VL 7B's language model, the text encoder as the pipeline holds it (without the vision tower).
_QWEN25_VL_7B = dict(
    vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
    num_key_value_heads=4, hidden_act="silu", max_position_embeddings=128000, rms_norm_eps=1e-6,
    use_sliding_window=False, sliding_window=32768, max_window_layers=28, attention_dropout=0.0,
    bos_token_id=151643, eos_token_id=151645,
    # Multimodal RoPE: the sections split a head's rotary frequencies between time, rows and columns.
    rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
)
# The pipeline reads the third hidden state from the end: three layers make it the first layer's output.
_SMALL_QWEN = {**_QWEN25_VL_7B, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
               "num_attention_heads": 4, "num_key_value_heads": 2,
               "rope_parameters": {**_QWEN25_VL_7B["rope_parameters"], "mrope_section": [1, 1, 2]}}
# The glyph encoder: ByT5-small's encoder, its vocabulary grown by Glyph-SDXL-v2's colour and font tokens.
_BYT5_GLYPH = dict(
    vocab_size=1510, d_model=1472, d_kv=64, d_ff=3584, num_layers=12, num_decoder_layers=4, num_heads=6,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1,
    layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", tie_word_embeddings=False, is_encoder_decoder=False,
    use_cache=False,
)
_SMALL_BYT5 = {**_BYT5_GLYPH, "d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4}
# The 480p text-to-video transformer: 32 latent channels in, as many of the image's and a mask.
_TRANSFORMER_480P = dict(
    in_channels=65, out_channels=32, num_attention_heads=16, attention_head_dim=128, num_layers=54,
    num_refiner_layers=2, mlp_ratio=4.0, patch_size=1, patch_size_t=1, qk_norm="rms_norm",
    text_embed_dim=_QWEN25_VL_7B["hidden_size"], text_embed_2_dim=_BYT5_GLYPH["d_model"], image_embed_dim=1152,
    rope_theta=256.0, rope_axes_dim=(16, 56, 56), target_size=640, task_type="t2v", use_meanflow=False,
)
# The small VAE's 8 latent channels (17 in); rotary axes (frames, rows, columns) add up to the head size.
_SMALL_TRANSFORMER = {**_TRANSFORMER_480P, "in_channels": 17, "out_channels": 8, "num_attention_heads": 2,
                      "attention_head_dim": 16, "num_layers": 1, "num_refiner_layers": 1,
                      "text_embed_dim": _SMALL_QWEN["hidden_size"], "text_embed_2_dim": _SMALL_BYT5["d_model"],
                      "image_embed_dim": 32, "rope_axes_dim": (4, 6, 6)}
# 16x in space (four 2x steps), 4x in time (the last two also in time).
_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=32, block_out_channels=(128, 256, 512, 1024, 1024),
    layers_per_block=2, spatial_compression_ratio=16, temporal_compression_ratio=4, downsample_match_channel=True,
    upsample_match_channel=True, scaling_factor=1.03682,
)
_SMALL_VAE = {**_VAE, "latent_channels": 8, "block_out_channels": (8, 8, 16, 16, 16), "layers_per_block": 1}
# The pipeline crops this many tokens off the front of each templated prompt: Qwen's system message.
_TEMPLATE_TOKENS = 108
_TEMPLATE_TOKEN = "<|im_start|>"


def _prompt_tokenizer() -> Any:
    """A byte-level stand-in for Qwen's tokenizer, with a chat template for ``apply_chat_template``.

    A byte a token would make the system message hundreds of tokens; the template writes it as
    exactly the tokens the pipeline crops, so the embeddings it keeps start at the prompt, as with Qwen.
    """
    tokenizer = byte_level_tokenizer(("<pad>", "</s>", "<unk>", _TEMPLATE_TOKEN))
    # Registered as special, so that the template's markers are not split into bytes.
    tokenizer.add_tokens([_TEMPLATE_TOKEN], special_tokens=True)
    tokenizer.chat_template = (
        "{{ '" + _TEMPLATE_TOKEN + "' * " + str(_TEMPLATE_TOKENS) + " }}{% for message in messages %}"
        "{% if message['role'] == 'user' %}{{ message['content'] }}{% endif %}{% endfor %}"
    )
    return tokenizer


def _full_size(transformer: Mapping[str, Any], text: Mapping[str, Any], small: bool) -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Pipeline,
        HunyuanVideo15Transformer3DModel,
    )
    from transformers import ByT5Tokenizer, Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel, T5Config, T5EncoderModel

    # diffusers warns that guiders are experimental each time one is made.
    with quiet_transformers():
        guider = ClassifierFreeGuidance(guidance_scale=6.0)
    return dict(
        pipeline_class=HunyuanVideo15Pipeline,
        tokenizer=_prompt_tokenizer(),
        text_encoder=Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(**text)),
        # ByT5's tokenizer is byte-level by design and needs no vocabulary file.
        tokenizer_2=ByT5Tokenizer(),
        text_encoder_2=T5EncoderModel(T5Config(**(_SMALL_BYT5 if small else _BYT5_GLYPH))),
        transformer=HunyuanVideo15Transformer3DModel(**transformer),
        vae=AutoencoderKLHunyuanVideo15(**(_SMALL_VAE if small else _VAE)),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        guider=guider,
    )


FULL_SIZES = {"hunyuanvideo-1.5-480p": FullSize(
    "hunyuanvideo-1.5-480p", "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_t2v",
    transformer=_TRANSFORMER_480P, small_transformer=_SMALL_TRANSFORMER,
    text_encoder=_QWEN25_VL_7B, small_text_encoder=_SMALL_QWEN,
    limits={"max_frames": 121, "default_size": [848, 480], "default_steps": 50},
    components=_full_size, parameters=8_330_000_000)}

HUNYUAN_VIDEO_15 = HunyuanVideo15Family(
    name="HunyuanVideo 1.5",
    class_prefix="HunyuanVideo15",
    kinds=VIDEO_KINDS,
    frames=FrameRule(max_frames=121, frame_multiple=4, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(848, 480)),
    temporal_attribute="vae_scale_factor_temporal",
    spatial_attribute="vae_scale_factor_spatial",
    full_sizes=FULL_SIZES,
)
