"""Memory plans (``--memory``): chosen from the model's size and the device's memory, never
changing pixels, and lowered once when a shot runs out of memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.errors import ConfigError, ModelError
from sora_vfx.imaging import read_exr_pixels
from sora_vfx.models import family_of, load_model
from sora_vfx.models.fullsize import build_pipeline
from sora_vfx.models.memory import (
    MemoryNeeds,
    check_plan,
    choose_plan,
    estimate_needs,
    lower_plan,
    offload_groups,
    plans_for,
)
from sora_vfx.render import RenderSettings, read_manifest, render_edit
from tests.conftest import SAMPLES

GiB = 2**30
CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def needs_480p():
    """What each full-size model needs for 81 frames at 832x480, sized on the meta device."""
    return {name: estimate(build_pipeline(name, device="meta"), frames=81, height=480, width=832)
            for name in ("wan2.1-1.3b", "wan2.1-14b", "ltx-video-2b", "wan2.2-a14b")}


def estimate(pipeline, **size) -> MemoryNeeds:
    """``estimate_needs`` with the pipeline's own family record, as ``load_model`` asks it."""
    return estimate_needs(pipeline, family_of(type(pipeline).__name__), dtype=torch.bfloat16, **size)


def test_a_14b_model_gets_group_offload_on_24_gb_and_stays_on_device_on_141(needs_480p):
    needs = needs_480p["wan2.1-14b"]
    # The published sizes: a 14B transformer and UMT5-XXL's 5.7B text encoder, in bfloat16.
    assert 26 * GiB < needs.weights["transformer"] < 27.5 * GiB
    assert 10 * GiB < needs.weights["text_encoder"] < 11 * GiB
    assert choose_plan(needs, 24 * GiB, device=CUDA) == "low"
    assert choose_plan(needs, 48 * GiB, device=CUDA) == "balanced"
    assert choose_plan(needs, 141 * GiB, device=CUDA) == "fast"


def test_both_experts_of_wan22_a14b_count_and_balanced_holds_one(needs_480p):
    needs = needs_480p["wan2.2-a14b"]
    experts = needs.weights["transformer"], needs.weights["transformer_2"]
    assert experts[0] == experts[1] == needs_480p["wan2.1-14b"].weights["transformer"]
    # balanced moves each expert to the card only while it runs: the card holds one of them.
    assert needs.of_plan("balanced") == experts[0] + needs.working
    assert needs.of_plan("fast") == needs.of_plan("balanced") + experts[1] + needs.weights["text_encoder"] \
        + needs.weights["vae"]
    assert choose_plan(needs, 72 * GiB, device=CUDA) == "balanced"
    assert choose_plan(needs, 141 * GiB, device=CUDA) == "fast"


def test_low_moves_a_text_encoder_layer_by_layer_and_promises_its_largest_layer(needs_480p):
    pipeline = build_pipeline("wan2.1-14b", device="meta")
    # UMT5-XXL keeps its layers under encoder.block: block by block, diffusers would move all of
    # its 10.6 GiB to the card as one group, far past what low promises.
    kind, text_groups = offload_groups(pipeline.text_encoder, torch.bfloat16)
    assert kind == "leaf_level" and max(text_groups) == 256384 * 4096 * 2  # its embedding, 1.96 GiB
    kind, blocks = offload_groups(pipeline.transformer, torch.bfloat16)
    assert kind == "block_level" and len(blocks) == 40 + 1 and 0.6 * GiB < max(blocks) < 0.7 * GiB
    needs = needs_480p["wan2.1-14b"]
    # One group runs while the next is copied in; the VAE stays on the card.
    assert needs.of_plan("low") == needs.weights["vae"] + needs.working + 2 * max(text_groups)
    assert needs.of_plan("low") < needs.weights["text_encoder"]


def test_smaller_models_fit_smaller_cards(needs_480p):
    assert choose_plan(needs_480p["wan2.1-1.3b"], 24 * GiB, device=CUDA) == "fast"
    assert choose_plan(needs_480p["wan2.1-1.3b"], 12 * GiB, device=CUDA) == "low"
    assert choose_plan(needs_480p["ltx-video-2b"], 24 * GiB, device=CUDA) == "fast"


def test_bigger_frames_need_more_memory():
    pipeline = build_pipeline("wan2.1-14b", device="meta")
    small = estimate(pipeline, frames=81, height=480, width=832)
    large = estimate(pipeline, frames=81, height=720, width=1280)
    assert large.working > 2 * small.working and large.weights == small.weights


def test_plans_go_down_and_stop():
    assert plans_for(CUDA) == ("fast", "balanced", "low")
    assert [lower_plan(plan, CUDA) for plan in plans_for(CUDA)] == ["balanced", "low", None]
    # The CPU has no accelerator to move models to: it goes from fast straight to low.
    assert plans_for(torch.device("cpu")) == ("fast", "low")
    assert lower_plan("fast", torch.device("cpu")) == "low"
    # Its memory already holds the weights: auto keeps them there.
    assert choose_plan(MemoryNeeds({"transformer": 64 * GiB}, GiB), 8 * GiB, device=torch.device("cpu")) == "fast"
    # A device whose free memory cannot be read gets the fastest plan.
    assert choose_plan(MemoryNeeds({"transformer": 64 * GiB}, GiB), None, device=CUDA) == "fast"


def test_a_plan_the_device_cannot_use_is_refused():
    with pytest.raises(ModelError, match="'balanced'.*cpu"):
        check_plan("balanced", torch.device("cpu"))
    with pytest.raises(ConfigError, match="auto, fast, balanced, low"):
        check_plan("huge", torch.device("cpu"))


def test_every_plan_renders_the_same_pixels(sora_cache):
    def frames(memory):
        model = load_model("shapes", device="cpu", memory=memory)
        assert model.memory_plan == memory
        return model.generate(prompt="a large red ball moving left on a blue background", negative_prompt=None,
                              num_frames=9, height=64, width=64, num_inference_steps=3, guidance_scale=5.0,
                              generator=torch.Generator("cpu").manual_seed(4))

    np.testing.assert_array_equal(frames("fast"), frames("low"))


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_render_records_the_plan_and_refuses_one_the_device_cannot_use(tmp_path):
    edl = SAMPLES / "shapes_24fps.edl"
    result = run("render", edl, "--model", "shapes", "--shots", "SHP_0010", "--handles", "0", "--steps", "2",
                 "-o", tmp_path / "out", "--no-review", "--memory", "low", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["shots"][0]["memory_plan"] == "low"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["settings"]["memory"] == "low" and manifest["shots"][0]["memory_plan"] == "low"
    for plan, message in (("balanced", "memory plan 'balanced'"), ("lots", "'lots' is not one of 'auto', 'fast'")):
        refused = run("render", edl, "--model", "shapes", "-o", tmp_path / plan, "--memory", plan)
        assert refused.exit_code == 2 and message in refused.output and "Traceback" not in refused.output
        assert not (tmp_path / plan).exists()


class OutOfMemoryOn:
    """A transformer pre-hook that fails like a full GPU while the model is on the given plans.
    (An accelerator running out of memory cannot happen on this machine; everything after the
    failure is real.)"""

    def __init__(self, model, plans):
        self.model, self.plans, self.calls = model, plans, 0

    def __call__(self, module, args):
        self.calls += 1
        if self.model.memory_plan in self.plans:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def render_shot(tmp_path, name, model, shots="SHP_0010"):
    edit = read_edit(SAMPLES / "shapes_24fps.edl", EditOptions(handles=0))
    settings = RenderSettings(model="shapes", steps=2, shots=[shots])
    return render_edit(edit, tmp_path / name, settings, model=model, progress=False)


def test_a_shot_out_of_memory_renders_again_on_the_next_plan_down(tmp_path, caplog):
    reference = render_shot(tmp_path, "fast", load_model("shapes", device="cpu"))
    model = load_model("shapes", device="cpu")
    failing = OutOfMemoryOn(model, {"fast"})
    model.pipeline.transformer.register_forward_pre_hook(failing)
    report = render_shot(tmp_path, "retried", model)
    [result] = report.results
    assert result.status == "rendered" and result.memory_plan == "low" and model.memory_plan == "low"
    assert "out of memory with memory plan fast; rendering it again with low" in caplog.text
    # The same pixels as the shot rendered on the fast plan, under the same job hash.
    made = sorted((tmp_path / "retried" / "SHP_0010").glob("*.exr"))
    assert len(made) == result.frames_written == reference.results[0].frames_written
    for ours, theirs in zip(made, sorted((tmp_path / "fast" / "SHP_0010").glob("*.exr")), strict=True):
        np.testing.assert_array_equal(read_exr_pixels(ours), read_exr_pixels(theirs))
    assert read_manifest(tmp_path / "retried").entry("SHP_0010").memory_plan == "low"


def test_a_shot_out_of_memory_on_both_plans_fails_naming_them(tmp_path):
    model = load_model("shapes", device="cpu")
    model.pipeline.transformer.register_forward_pre_hook(OutOfMemoryOn(model, {"fast", "low"}))
    [result] = render_shot(tmp_path, "failed", model).results
    assert result.status == "failed"
    assert "out of memory with memory plan 'fast', and again with 'low'" in result.error
    assert "Tried to allocate 20.00 GiB" in result.error
    assert not list((tmp_path / "failed" / "SHP_0010").glob("*.exr"))


def test_out_of_memory_on_the_leanest_plan_says_so(tmp_path):
    model = load_model("shapes", device="cpu", memory="low")
    model.pipeline.transformer.register_forward_pre_hook(OutOfMemoryOn(model, {"low"}))
    [result] = render_shot(tmp_path, "failed", model).results
    assert result.status == "failed" and "memory plan 'low', the leanest on cpu" in result.error
