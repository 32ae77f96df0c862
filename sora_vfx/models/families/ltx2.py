"""LTX-2 (``LTX2Pipeline``, ``LTX2ImageToVideoPipeline``, ``LTX2HDRPipeline``): picture and sound.

One transformer denoises video and audio latents together; the call returns the frames and
the sound the vocoder made from the audio latents (``extra_outputs``: an ``Audio`` padded with
silence or cut to exactly the call's frames / frame rate; the pipeline's is 10-50 ms short).
Time positions are scaled by the frame rate, so the call gets the edit's. ``LTX2HDRPipeline``
turns an SDR reference video into linear HDR light (LogC3 decoded): its kind is ``hdr``. Its
packed latents (batch, tokens, channels) have no frame axis to cut into windows: long shots
cross-fade, or continue from an image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sora_vfx.imaging.wav import Audio
from sora_vfx.models.families.base import Family, FrameRule, FullSize, KindRule, SizeRule, pil_image
from sora_vfx.models.families.ltx_video import with_frame_rate
from sora_vfx.models.families.wan import VIDEO_KINDS

#: LTX2HDRPipeline: an SDR reference video in, the same picture as linear HDR light out.
HDR = KindRule("hdr", markers=("HDR",), conditioning=("reference_video",))


#: The HDR pipeline's light: ARRI's LogC3 curve decoded, with no gamut conversion anywhere in
#: its code, so Rec.709 primaries (diffusers' pipelines/ltx2/image_processor.py).
HDR_COLORSPACE = "lin_rec709_srgb"


class LTX2Family(Family):
    def call_arguments(self, pipeline: Any, arguments: dict[str, Any], *, frame_rate: float | None) -> dict[str, Any]:
        arguments = with_frame_rate(arguments, frame_rate)
        if "image" in arguments:
            # The pipeline compresses the first frame as the model was trained (H.264), from PIL only.
            arguments["image"] = pil_image(arguments["image"])
        if "reference_video" in arguments:
            from diffusers.pipelines.ltx2.pipeline_ltx2_hdr_lora import LTX2HDRReferenceCondition

            video = arguments.pop("reference_video")
            arguments["reference_conditions"] = LTX2HDRReferenceCondition(frames=video, strength=1.0)
        return arguments

    def output_colorspace(self, kind: str) -> str | None:
        return HDR_COLORSPACE if kind == "hdr" else None

    def extra_outputs(self, pipeline: Any, output: Any, *, num_frames: int, frame_rate: float | None) -> dict[str, Any]:
        audio = getattr(output, "audio", None)
        if audio is None or frame_rate is None:
            return {}
        # The vocoder's rate; the pipeline's `audio_sampling_rate` is its mel spectrogram's.
        rate = int(pipeline.vocoder.config.output_sampling_rate)
        return {"audio": Audio(_as_samples(audio), rate).lasting(num_frames, frame_rate)}


def _as_samples(audio: Any) -> np.ndarray:
    """The first video's sound as float32 (samples, channels): the call gives a tensor (videos,
    channels, samples) whatever its ``output_type``."""
    return np.ascontiguousarray(audio[0].detach().float().cpu().numpy().T)


# --- full size (benchmarks/gpu.py) -----------------------------------------------------------
# The published configs are those diffusers' scripts/convert_ltx2_to_diffusers.py loads LTX-2's
# weights into (strictly); the small ones keep every key and shrink widths and depths.

# Gemma 3 12B, LTX-2's text encoder as published (its SigLIP tower included, as the pipeline holds it).
_GEMMA3_12B = dict(
    boi_token_index=255999, eoi_token_index=256000, image_token_index=262144, bos_token_id=2, eos_token_id=106,
    pad_token_id=0, mm_tokens_per_image=256, initializer_range=0.02,
    # Five sliding-window layers, then one global layer (Gemma 3's default layer pattern).
    text_config=dict(
        vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48, num_attention_heads=16,
        num_key_value_heads=8, head_dim=256, query_pre_attn_scalar=256, hidden_activation="gelu_pytorch_tanh",
        rms_norm_eps=1e-6, max_position_embeddings=131072, sliding_window=1024, attention_bias=False,
        attn_logit_softcapping=None, final_logit_softcapping=None,
        rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                         "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}}),
    vision_config=dict(
        hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, image_size=896,
        patch_size=14, num_channels=3, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, vision_use_head=False),
)
_SMALL_GEMMA3 = dict(
    # 16-pixel images of 4-pixel patches, pooled to 2x2 tokens.
    mm_tokens_per_image=4,
    # Six layers, so that one is global as every sixth published one is.
    text_config={**_GEMMA3_12B["text_config"], "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 6,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8, "query_pre_attn_scalar": 8},
    vision_config={**_GEMMA3_12B["vision_config"], "hidden_size": 16, "intermediate_size": 32,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": 16, "patch_size": 4},
)
_LTX2_TRANSFORMER = dict(
    in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32, attention_head_dim=128,
    cross_attention_dim=4096, vae_scale_factors=(8, 32, 32), pos_embed_max_pos=20, base_height=2048,
    base_width=2048, gated_attn=False, cross_attn_mod=False, audio_in_channels=128, audio_out_channels=128,
    audio_patch_size=1, audio_patch_size_t=1, audio_num_attention_heads=32, audio_attention_head_dim=64,
    audio_cross_attention_dim=2048, audio_scale_factor=4, audio_pos_embed_max_pos=20, audio_sampling_rate=16000,
    audio_hop_length=160, audio_gated_attn=False, audio_cross_attn_mod=False, num_layers=48,
    activation_fn="gelu-approximate", qk_norm="rms_norm_across_heads", norm_elementwise_affine=False, norm_eps=1e-6,
    caption_channels=3840, attention_bias=True, attention_out_bias=True, rope_theta=10000.0,
    rope_double_precision=True, causal_offset=1, timestep_scale_multiplier=1000,
    cross_attn_timestep_scale_multiplier=1000, rope_type="split", use_prompt_embeddings=True, perturbed_attn=False,
)
# Video attention 2 x 8 wide, audio 2 x 4; latent channels those of the small VAEs; captions at the text width.
_SMALL_LTX2_TRANSFORMER = {
    **_LTX2_TRANSFORMER, "in_channels": 8, "out_channels": 8, "num_attention_heads": 2, "attention_head_dim": 8,
    "cross_attention_dim": 16, "audio_in_channels": 8, "audio_out_channels": 8, "audio_num_attention_heads": 2,
    "audio_attention_head_dim": 4, "audio_cross_attention_dim": 8, "num_layers": 2,
    "caption_channels": _SMALL_GEMMA3["text_config"]["hidden_size"],
}
# Their width and input factor are the text encoder's (`_full_size`): they read every one of its hidden states.
_CONNECTORS = dict(
    video_connector_num_attention_heads=30, video_connector_attention_head_dim=128, video_connector_num_layers=2,
    video_connector_num_learnable_registers=128, video_gated_attn=False, audio_connector_num_attention_heads=30,
    audio_connector_attention_head_dim=128, audio_connector_num_layers=2, audio_connector_num_learnable_registers=128,
    audio_gated_attn=False, connector_rope_base_seq_len=4096, rope_theta=10000.0, rope_double_precision=True,
    causal_temporal_positioning=False, rope_type="split", per_modality_projections=False, proj_bias=False,
)
# Each connector works at the text width (2 x 8); prompts are padded to a multiple of 8 registers.
_SMALL_CONNECTORS = {
    **_CONNECTORS, "video_connector_num_attention_heads": 2, "video_connector_attention_head_dim": 8,
    "video_connector_num_layers": 1, "video_connector_num_learnable_registers": 8,
    "audio_connector_num_attention_heads": 2, "audio_connector_attention_head_dim": 8,
    "audio_connector_num_layers": 1, "audio_connector_num_learnable_registers": 8,
}
# 32x in space and 8x in time: a 4-pixel patch, then 2x blocks. The compression is stated, as the published
# config does: the class would count 64x and 16x from `spatio_temporal_scaling`.
_VIDEO_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=128, block_out_channels=(256, 512, 1024, 2048),
    down_block_types=("LTX2VideoDownBlock3D",) * 4, decoder_block_out_channels=(256, 512, 1024),
    layers_per_block=(4, 6, 6, 2, 2), decoder_layers_per_block=(5, 5, 5, 5),
    spatio_temporal_scaling=(True, True, True, True), decoder_spatio_temporal_scaling=(True, True, True),
    decoder_inject_noise=(False, False, False, False),
    downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
    upsample_type=("spatiotemporal", "spatiotemporal", "spatiotemporal"), upsample_residual=(True, True, True),
    upsample_factor=(2, 2, 2), timestep_conditioning=False, patch_size=4, patch_size_t=1, resnet_norm_eps=1e-6,
    encoder_causal=True, decoder_causal=False, encoder_spatial_padding_mode="zeros",
    decoder_spatial_padding_mode="reflect", spatial_compression_ratio=32, temporal_compression_ratio=8,
)
# An upsampler's channels fold into its 2x2x2 steps: every decoder block has a multiple of 8 of them after halving.
_SMALL_VIDEO_VAE = {**_VIDEO_VAE, "latent_channels": 8, "block_out_channels": (8, 16, 32, 64),
                    "decoder_block_out_channels": (8, 16, 32), "layers_per_block": (1, 1, 1, 1, 1),
                    "decoder_layers_per_block": (1, 1, 1, 1)}
# 16 kHz audio, a 160-sample mel hop, 4x in time and in mel bins. The transformer's audio tokens are
# latent channels x mel bins / 4 wide, and the latent statistics have `base_channels` entries: 8 x 64 / 4.
_AUDIO_VAE = dict(
    base_channels=128, output_channels=2, ch_mult=(1, 2, 4), num_res_blocks=2, attn_resolutions=None, in_channels=2,
    resolution=256, latent_channels=8, norm_type="pixel", causality_axis="height", dropout=0.0,
    mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=64,
    double_z=True,
)
_SMALL_AUDIO_VAE = {**_AUDIO_VAE, "base_channels": 8, "num_res_blocks": 1, "latent_channels": 2, "mel_bins": 16}
# Stereo mel frames (channels x mel bins in) upsampled 240x: 100 mel frames a second to 24 kHz.
_VOCODER = dict(
    in_channels=128, hidden_channels=1024, out_channels=2, upsample_kernel_sizes=[16, 15, 8, 4, 4],
    upsample_factors=[6, 5, 2, 2, 2], resnet_kernel_sizes=[3, 7, 11], resnet_dilations=[[1, 3, 5]] * 3,
    act_fn="leaky_relu", leaky_relu_negative_slope=0.1, antialias=False, final_act_fn="tanh", final_bias=True,
    output_sampling_rate=24000,
)
# Each upsampling halves the channels: 64 leaves 2 after the fifth.
_SMALL_VOCODER = {**_VOCODER, "in_channels": 32, "hidden_channels": 64, "resnet_kernel_sizes": [3],
                  "resnet_dilations": [[1, 3, 5]]}
_SCHEDULER = dict(use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024,
                  max_image_seq_len=4096, shift_terminal=0.1)


def _gemma_tokenizer() -> Any:
    """Gemma's tokenizer class, which the pipeline is typed for, built in code with no merges: every
    UTF-8 byte falls back to a token of its own, and the word-start mark Gemma writes for spaces
    (U+2581) has one too. Its special tokens have Gemma's ids, and like Gemma's it starts each prompt
    with ``<bos>``."""
    from transformers import GemmaTokenizer

    vocab = {token: i for i, token in enumerate(("<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "\u2581"))}
    vocab.update({f"<0x{byte:02X}>": len(vocab) + byte for byte in range(256)})
    return GemmaTokenizer(vocab=vocab, merges=[], add_bos_token=True)


def _full_size(transformer: Mapping[str, Any], text: Mapping[str, Any], small: bool) -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors, LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    # The embeddings and every layer's hidden states, stacked.
    text_states = dict(caption_channels=text["text_config"]["hidden_size"],
                       text_proj_in_factor=text["text_config"]["num_hidden_layers"] + 1)
    return dict(
        pipeline_class=LTX2Pipeline,
        tokenizer=_gemma_tokenizer(),
        text_encoder=Gemma3ForConditionalGeneration(Gemma3Config(**text)),
        connectors=LTX2TextConnectors(**(_SMALL_CONNECTORS if small else _CONNECTORS), **text_states),
        transformer=LTX2VideoTransformer3DModel(**transformer),
        vae=AutoencoderKLLTX2Video(**(_SMALL_VIDEO_VAE if small else _VIDEO_VAE)),
        audio_vae=AutoencoderKLLTX2Audio(**(_SMALL_AUDIO_VAE if small else _AUDIO_VAE)),
        vocoder=LTX2Vocoder(**(_SMALL_VOCODER if small else _VOCODER)),
        scheduler=FlowMatchEulerDiscreteScheduler(**_SCHEDULER),
    )


FULL_SIZES = {"ltx-2-19b": FullSize(
    "ltx-2-19b", "Lightricks/LTX-2", transformer=_LTX2_TRANSFORMER, small_transformer=_SMALL_LTX2_TRANSFORMER,
    text_encoder=_GEMMA3_12B, small_text_encoder=_SMALL_GEMMA3,
    # The reference clip (its position encoding was trained to 481 frames); 40 steps: LTX-2.0's reference,
    # where diffusers' call default of 30 follows later versions.
    limits={"max_frames": 121, "default_size": [768, 512], "default_steps": 40, "max_sequence_length": 1024},
    # 14B in the video stream, 5B in the audio stream (the model card's "19B").
    components=_full_size, parameters=18_880_000_000)}

LTX_2 = LTX2Family(
    name="LTX-2",
    class_prefix="LTX2",
    # Not its upsamplers, refiners or in-context pipelines: those are steps of a larger graph.
    classes=("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2HDRPipeline"),
    kinds=(HDR, *VIDEO_KINDS),
    # About 20 s: how far its position encoding was trained (481 frames at 24 fps).
    frames=FrameRule(max_frames=481, frame_multiple=8, frame_offset=1),
    size=SizeRule(size_multiple=32, default_size=(768, 512), min_size=64),
    temporal_attribute="vae_temporal_compression_ratio",
    spatial_attribute="vae_spatial_compression_ratio",
    frame_rate_conditioned=True,
    outputs=("audio",),
    full_sizes=FULL_SIZES,
)
