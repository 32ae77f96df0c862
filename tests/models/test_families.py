"""Every registered video family through the real public path.

Each family's pipeline is built in code with tiny random weights (``tests.models.tiny_families``;
no download), saved as a safetensors pipeline folder with a ``sora_vfx.json``, then loaded
with ``load_model`` and rendered with ``LoadedModel.generate``, exactly as a downloaded model
would be. The tiny VAEs keep the real models' compression, so each family record's frame and
size rules are tested against real pipeline code. The tests iterate the registry: a family
without a tiny model fails them.
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
from sora_vfx.models import SORA_VFX_JSON, LoadedModel, describe_model, families, load_model, video_families
from sora_vfx.models.families import family_named
from sora_vfx.models.families.image_inpainting import IMAGE_INPAINTING
from sora_vfx.models.tiny_inpaint import build_tiny_inpaint_pipeline
from tests.models.tiny_families import TINY_MODELS, TinyModel


def seeded(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


#: Every registered family's tiny pipeline builder: video families render below, the image
#: inpainting family in tests/plates.
TINY_BUILDERS = {
    **{name: tiny.build for name, tiny in TINY_MODELS.items()},
    "image inpainting": build_tiny_inpaint_pipeline,
}
NAMES = [family.name for family in video_families()]

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
    return saved_models("CogVideoX")


@pytest.fixture
def animatediff(saved_models) -> Saved:
    return saved_models("AnimateDiff")


# --- tests ------------------------------------------------------------------------------------


def test_every_registered_family_has_a_tiny_model():
    assert sorted(TINY_BUILDERS) == sorted(family.name for family in families())
    for name, tiny in TINY_MODELS.items():
        assert tiny.family == name
        assert family_named(name).accepts(tiny.pipeline_class), name


def test_the_tiny_inpainting_model_is_an_image_inpainting_pipeline():
    with quiet_transformers():
        pipeline = build_tiny_inpaint_pipeline()
    parameters = inspect.signature(type(pipeline).__call__).parameters
    assert IMAGE_INPAINTING.missing_arguments(parameters) == []
    assert IMAGE_INPAINTING.size_multiple_of(pipeline) == 2 * pipeline.vae_scale_factor
    assert not any(family.accepts(type(pipeline).__name__) for family in video_families())


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_family_kind_and_limits(name, saved):
    spec, model = saved.spec, saved.model
    assert type(model.pipeline).__name__ == spec.pipeline_class
    assert (model.name, model.folder) == (str(saved.folder), saved.folder)
    assert (model.family, model.kind) == (family_named(spec.family), "t2v")
    assert (model.device, model.dtype) == (torch.device("cpu"), torch.float32)
    expected = {**family_named(spec.family).limits(), **spec.overrides}
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
    rule, size = family_named(spec.family).frames, family_named(spec.family).size
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
    arguments = dict(
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
    )
    if spec.plain_call is not None:
        arguments = spec.plain_call(saved.built, arguments)
    expected = saved.built(**arguments).frames[0]
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
    assert family_named(spec.family).spatial_compression(model.pipeline) == spec.pixels_per_latent
    layout = model.latent_layout
    if "t2v" in family_named(spec.family).shot_noise_kinds:
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


def test_ltx2_refuses_sides_below_64_before_its_decoder_would_fail(saved_models):
    """LTX-2's decoder pads by reflection: a 32-pixel side passes the pipeline's own check and
    fails after denoising. sora_vfx refuses it up front, with the rule."""
    model = saved_models("LTX-2").model
    with pytest.raises(ModelError) as refused:
        model.check_inputs(9, 32, 64)
    assert str(refused.value) == (f"`height` and `width` have to be at least 64 for {model.name} but are 32 and 64.")
