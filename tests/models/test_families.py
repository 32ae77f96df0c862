"""Every registered video family (Wan, LTX-Video, CogVideoX, AnimateDiff) through the real public path.

Each family's pipeline is built in code with tiny random weights (no download; Wan's is the
built-in tiny model), saved as a safetensors pipeline folder with a ``sora_vfx.json``, then
loaded with ``load_model`` and rendered with ``LoadedModel.generate``, exactly as a downloaded
model would be. The tiny VAEs keep the real models' compression (LTX: 32x spatial, 8x temporal;
Wan, CogVideoX and AnimateDiff: 8x spatial; Wan 4x and CogVideoX 4x temporal), so each family
record's frame and size rules are tested against real pipeline code. A new family record needs
its tiny model in ``TINY_MODELS`` (or ``TINY_BUILDERS`` for an image family).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sora_vfx.console import quiet_progress_bars, quiet_transformers
from sora_vfx.errors import ModelError
from sora_vfx.models import FAMILIES, SORA_VFX_JSON, VIDEO_FAMILIES, LoadedModel, describe_model, load_model
from sora_vfx.models.families import ANIMATEDIFF, COGVIDEOX, IMAGE_INPAINTING, LTX_VIDEO, WAN, Family
from sora_vfx.models.tiny import TINY_LIMITS, build_tiny_pipeline, byte_level_tokenizer
from sora_vfx.models.tiny_inpaint import build_tiny_inpaint_pipeline

_TEXT_DIM = 32
_MAX_TOKENS = 16


def seeded(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


# --- tiny components, built offline ----------------------------------------------------------


def _tokenizer():
    # model_max_length: AnimateDiff pads CLIP prompts to it.
    return byte_level_tokenizer(model_max_length=_MAX_TOKENS)


def _t5_encoder(vocab_size: int):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(
            vocab_size=vocab_size,
            d_model=_TEXT_DIM,
            d_kv=8,
            d_ff=64,
            num_layers=1,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=32,
            dropout_rate=0.0,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )


def build_ltx():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    text_encoder = _t5_encoder(len(tokenizer))
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
        caption_channels=_TEXT_DIM,
    )
    return LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )


def build_cogvideox():
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    text_encoder = _t5_encoder(len(tokenizer))
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
        text_embed_dim=_TEXT_DIM,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        # The joint positional embedding covers exactly this many text tokens: it has to equal
        # the max_sequence_length the prompts are encoded with (set in sora_vfx.json below).
        max_text_seq_length=_MAX_TOKENS,
    )
    return CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )


def build_animatediff():
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    with quiet_transformers():  # importing it warns that torchvision is missing
        from diffusers import AnimateDiffPipeline

    tokenizer = _tokenizer()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=_TEXT_DIM,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=1,
            max_position_embeddings=_MAX_TOKENS,
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
        cross_attention_dim=_TEXT_DIM,
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


# --- one tiny model per family ----------------------------------------------------------------


@dataclass(frozen=True)
class TinyModel:
    family: Family  # its record, which LoadedModel.family has to be
    pipeline_class: str
    build: Any
    overrides: dict[str, Any]  # written to sora_vfx.json
    frames: int  # a valid count for one render
    height: int
    width: int
    broken_frames: int  # breaks the family's frame rule
    too_many_frames: int  # follows the rule but is above max_frames
    frames_per_latent: int  # the tiny VAE's temporal compression
    pixels_per_latent: int  # and its spatial one

    @property
    def extra_call_args(self) -> dict[str, Any]:
        """What sora_vfx adds to a plain pipeline call."""
        if "max_sequence_length" in self.overrides:
            return {"max_sequence_length": self.overrides["max_sequence_length"]}
        return {}


TINY_MODELS = {
    WAN.name: TinyModel(
        family=WAN,
        pipeline_class="WanPipeline",
        build=build_tiny_pipeline,
        overrides=TINY_LIMITS,
        frames=9,
        height=32,
        width=64,
        broken_frames=10,
        too_many_frames=21,
        frames_per_latent=4,
        pixels_per_latent=8,
    ),
    LTX_VIDEO.name: TinyModel(
        family=LTX_VIDEO,
        pipeline_class="LTXPipeline",
        build=build_ltx,
        overrides={"max_frames": 17, "default_size": [64, 32], "max_sequence_length": _MAX_TOKENS, "default_steps": 2},
        frames=9,
        height=32,
        width=64,
        broken_frames=10,
        too_many_frames=25,
        frames_per_latent=8,
        pixels_per_latent=32,
    ),
    COGVIDEOX.name: TinyModel(
        family=COGVIDEOX,
        pipeline_class="CogVideoXPipeline",
        build=build_cogvideox,
        overrides={"max_frames": 17, "default_size": [32, 16], "max_sequence_length": _MAX_TOKENS, "default_steps": 2},
        frames=9,
        height=16,
        width=32,
        broken_frames=8,
        too_many_frames=25,
        frames_per_latent=4,
        pixels_per_latent=8,
    ),
    ANIMATEDIFF.name: TinyModel(
        family=ANIMATEDIFF,
        pipeline_class="AnimateDiffPipeline",
        build=build_animatediff,
        overrides={"max_frames": 8, "default_size": [24, 16], "default_steps": 2},
        frames=4,
        height=16,
        width=24,
        broken_frames=0,
        too_many_frames=9,
        frames_per_latent=1,
        pixels_per_latent=8,
    ),
}
#: Every registered family's tiny pipeline builder: video families render below, the image
#: inpainting family in tests/plates.
TINY_BUILDERS = {
    **{name: tiny.build for name, tiny in TINY_MODELS.items()},
    IMAGE_INPAINTING.name: build_tiny_inpaint_pipeline,
}
NAMES = [family.name for family in VIDEO_FAMILIES]

PROMPT = "misty forest at dawn"
NEGATIVE = "blurry"
STEPS = 2
GUIDANCE = 5.0


@dataclass
class Saved:
    spec: TinyModel
    folder: Path
    built: Any  # the pipeline as built, before save and load
    model: LoadedModel

    def generate(self, seed: int, **overrides: Any) -> np.ndarray:
        call = dict(
            prompt=PROMPT,
            negative_prompt=NEGATIVE,
            num_frames=self.spec.frames,
            height=self.spec.height,
            width=self.spec.width,
            num_inference_steps=STEPS,
            guidance_scale=GUIDANCE,
        )
        return self.model.generate(generator=seeded(seed), **{**call, **overrides})


def _save_and_load(name: str, tmp_path_factory) -> Saved:
    spec = TINY_MODELS[name]
    # fork_rng: the manual_seed calls above must not touch other tests' global RNG.
    with torch.random.fork_rng(devices=[]):
        pipeline = spec.build()
    for module in pipeline.components.values():
        if isinstance(module, torch.nn.Module):
            module.eval()
    pipeline.set_progress_bar_config(disable=True)
    folder = tmp_path_factory.mktemp(name) / "model"
    with quiet_progress_bars():
        pipeline.save_pretrained(folder, safe_serialization=True)
    (folder / SORA_VFX_JSON).write_text(json.dumps(spec.overrides, indent=2) + "\n")
    return Saved(spec, folder, pipeline, load_model(str(folder), device="cpu"))


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """Each family's tiny model, saved and loaded once per module, on first use."""
    models: dict[str, Saved] = {}

    def get(name: str) -> Saved:
        if name not in TINY_MODELS:
            pytest.fail(f"family {name} has no tiny test model: add one to TINY_MODELS")
        if name not in models:
            models[name] = _save_and_load(name, tmp_path_factory)
        return models[name]

    return get


@pytest.fixture
def saved(request, saved_models) -> Saved:
    """The saved-and-loaded tiny model of the family named by the test's ``name``."""
    return saved_models(request.node.callspec.params["name"])


@pytest.fixture
def cogvideox(saved_models) -> Saved:
    return saved_models(COGVIDEOX.name)


@pytest.fixture
def animatediff(saved_models) -> Saved:
    return saved_models(ANIMATEDIFF.name)


# --- tests ------------------------------------------------------------------------------------


def test_every_registered_family_has_a_tiny_model():
    assert list(TINY_BUILDERS) == [family.name for family in FAMILIES]
    for name, tiny in TINY_MODELS.items():
        assert tiny.family.name == name
        assert tiny.family.accepts(tiny.pipeline_class), name


def test_the_tiny_inpainting_model_is_an_image_inpainting_pipeline():
    with quiet_transformers():
        pipeline = build_tiny_inpaint_pipeline()
    parameters = inspect.signature(type(pipeline).__call__).parameters
    assert IMAGE_INPAINTING.missing_arguments(parameters) == []
    assert IMAGE_INPAINTING.size_multiple_of(pipeline) == 2 * pipeline.vae_scale_factor
    assert not any(family.accepts(type(pipeline).__name__) for family in VIDEO_FAMILIES)


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_family_kind_and_limits(name, saved):
    spec, model = saved.spec, saved.model
    assert type(model.pipeline).__name__ == spec.pipeline_class
    assert (model.name, model.folder) == (str(saved.folder), saved.folder)
    assert (model.family, model.kind) == (spec.family, "t2v")
    assert (model.device, model.dtype) == (torch.device("cpu"), torch.float32)
    expected = {**spec.family.limits(), **spec.overrides}
    assert model.max_frames == expected["max_frames"]
    assert model.frame_multiple == expected["frame_multiple"]
    assert model.frame_offset == expected["frame_offset"]
    assert model.size_multiple == expected["size_multiple"]
    assert model.default_size == tuple(expected["default_size"])
    assert model.max_sequence_length == spec.overrides.get("max_sequence_length")
    assert model.default_steps == spec.overrides["default_steps"]
    # The render size and frame count used below, and the default size, are valid for it.
    model.check_inputs(spec.frames, spec.height, spec.width)
    width, height = model.default_size
    model.check_inputs(model.max_frames, height, width)
    # The family record's own limits follow its own rules.
    rule, size = spec.family.frames, spec.family.size
    assert rule.round_up(rule.max_frames) == rule.max_frames
    assert all(side % size.size_multiple == 0 for side in size.default_size)
    # A farm driver plans with describe_model: same limits, same fingerprint, without the weights.
    described = describe_model(str(saved.folder))
    keys = ("name", "kind", "family", "max_frames", "frame_multiple", "frame_offset", "size_multiple",
            "default_size", "max_sequence_length", "default_steps", "folder")
    assert {k: getattr(described, k) for k in keys} == {k: getattr(model, k) for k in keys}
    assert described.fingerprint == model.fingerprint


def test_animatediff_loads_its_motion_unet(animatediff):
    from diffusers import MotionAdapter, UNetMotionModel

    assert isinstance(animatediff.model.pipeline.unet, UNetMotionModel)
    assert isinstance(animatediff.model.pipeline.motion_adapter, MotionAdapter)


@pytest.mark.parametrize("name", NAMES)
def test_generate_shape_range_and_determinism(name, saved):
    spec = saved.spec
    frames = saved.generate(7)
    assert frames.shape == (spec.frames, spec.height, spec.width, 3)
    assert frames.dtype == np.float32
    assert frames.flags.c_contiguous
    assert np.isfinite(frames).all()
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    assert frames.std() > 0.05, "random weights should not decode to flat grey"
    assert np.array_equal(saved.generate(7), frames), "same seed, same pixels"
    assert not np.array_equal(saved.generate(8), frames), "another seed, other pixels"
    assert not np.array_equal(saved.generate(7, prompt="neon city at night"), frames), "another prompt"


@pytest.mark.parametrize("name", NAMES)
def test_loaded_model_renders_what_was_built(name, saved):
    """Save and load keep the model, and generate calls it as a plain diffusers call would."""
    spec = saved.spec
    expected = saved.built(
        prompt=PROMPT,
        negative_prompt=NEGATIVE,
        num_frames=spec.frames,
        height=spec.height,
        width=spec.width,
        num_inference_steps=STEPS,
        guidance_scale=GUIDANCE,
        generator=seeded(5),
        output_type="np",
        **spec.extra_call_args,
    ).frames[0]
    # Loaded (memory-mapped) weights and oneDNN-routed 3D convolutions round differently.
    np.testing.assert_allclose(saved.generate(5), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_every_accepted_frame_count_renders_that_many_frames(name, saved):
    model, spec = saved.model, saved.spec
    accepted = [n for n in range(1, model.max_frames + 1) if model.round_up_frames(n) == n]
    assert accepted[-1] == model.max_frames
    counts = {n: saved.generate(0, num_frames=n, num_inference_steps=1).shape for n in accepted}
    assert counts == {n: (n, spec.height, spec.width, 3) for n in accepted}


def test_a_frame_rule_that_does_not_fit_the_model_is_an_error(cogvideox):
    """CogVideoX's VAE turns an even number of latent frames into 4 frames each: with a 4k+1
    rule, 5 frames come back as 8. generate says so instead of passing them on."""
    wrong = dataclasses.replace(cogvideox.model, frame_multiple=4)
    assert wrong.round_up_frames(5) == 5
    with pytest.raises(ModelError) as refused:
        dataclasses.replace(cogvideox, model=wrong).generate(0, num_frames=5, num_inference_steps=1)
    assert str(refused.value).startswith(f"model {wrong.name} returned 8 frames for 5 requested; its frame rule (4k+1)")


@pytest.mark.parametrize("name", NAMES)
def test_the_record_reads_the_vaes_compression_from_the_pipeline(name, saved):
    """Windows align to the temporal compression; shot-wide noise needs the whole layout."""
    model, spec = saved.model, saved.spec
    assert model.temporal_compression == spec.frames_per_latent
    assert spec.family.spatial_compression(model.pipeline) == spec.pixels_per_latent
    layout = model.latent_layout
    if "t2v" in spec.family.shot_noise_kinds:
        assert layout is not None
        assert (layout.temporal, layout.spatial) == (spec.frames_per_latent, spec.pixels_per_latent)
        assert layout.channels == model.pipeline.transformer.config.in_channels
    else:
        assert layout is None


@pytest.mark.parametrize("name", NAMES)
def test_check_inputs_refuses_frame_counts_against_the_rule(name, saved):
    model, spec = saved.model, saved.spec
    bad = spec.broken_frames
    assert model.round_up_frames(bad) != bad
    rule = (
        f"`num_frames` has to be {model.frame_rule} but is {bad}; "
        f"the next valid count is {model.round_up_frames(max(bad, 1))}."
    )
    with pytest.raises(ModelError) as refused:
        model.check_inputs(bad, spec.height, spec.width)
    assert str(refused.value) == rule
    # generate checks first: the pipeline never sees the bad count.
    with pytest.raises(ModelError, match="`num_frames` has to be"):
        saved.generate(0, num_frames=bad)

    many = spec.too_many_frames
    assert model.round_up_frames(many) == many > model.max_frames
    with pytest.raises(ModelError) as refused:
        model.check_inputs(many, spec.height, spec.width)
    assert str(refused.value) == (
        f"`num_frames` has to be at most {model.max_frames} for {model.name} but is {many}; "
        "render longer shots in windows."
    )


@pytest.mark.parametrize("name", NAMES)
def test_check_inputs_refuses_sizes_off_the_family_multiple(name, saved):
    model, spec = saved.model, saved.spec
    height = spec.height + model.size_multiple // 2
    with pytest.raises(ModelError) as refused:
        model.check_inputs(spec.frames, height, spec.width)
    assert str(refused.value) == (
        f"`height` and `width` have to be divisible by {model.size_multiple} but are {height} and {spec.width}."
    )
