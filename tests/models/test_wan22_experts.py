"""Wan 2.2 A14B's two experts (``transformer`` for high noise, ``transformer_2`` below
``boundary_ratio``): context windows, step caches, quantisation and memory plans cover both.

A tiny two-expert ``WanPipeline`` (the tiny Wan model with a second, differently seeded
expert) is saved and loaded like any folder.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sora_vfx.console import quiet_progress_bars
from sora_vfx.models import SORA_VFX_JSON, load_model
from sora_vfx.models.acceleration import Acceleration
from sora_vfx.models.tiny import TINY_LIMITS, build_tiny_pipeline

FRAMES, HEIGHT, WIDTH = 9, 32, 64


def build_two_experts():
    from diffusers import WanPipeline

    components = build_tiny_pipeline("t2v").components
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        expert = type(components["transformer"])(**components["transformer"].config)
    # Half the steps on each expert, so that a two-step render runs both.
    return WanPipeline(**{**components, "transformer_2": expert.eval()}, boundary_ratio=0.5)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan22") / "model"
    with quiet_progress_bars():
        build_two_experts().save_pretrained(folder, safe_serialization=True)
    (folder / SORA_VFX_JSON).write_text(json.dumps(TINY_LIMITS))
    return folder


def frames_seen(model) -> dict[str, list[int]]:
    """Latent frames each expert is called on, recorded by forward hooks."""
    seen: dict[str, list[int]] = {"transformer": [], "transformer_2": []}
    for name, calls in seen.items():
        getattr(model.pipeline, name).register_forward_pre_hook(
            lambda _module, _args, kwargs, calls=calls: calls.append(kwargs["hidden_states"].shape[2]),
            with_kwargs=True)
    return seen


def generate(model, seed: int = 3) -> np.ndarray:
    return model.generate(prompt="a red ball", negative_prompt=None, num_frames=FRAMES, height=HEIGHT, width=WIDTH,
                          num_inference_steps=2, guidance_scale=5.0, generator=torch.Generator().manual_seed(seed))


def test_both_experts_load_and_render(folder):
    model = load_model(str(folder), device="cpu")
    assert model.family.name == "Wan"
    assert model.pipeline.transformer_2 is not None and model.pipeline.config.boundary_ratio == 0.5
    seen = frames_seen(model)
    frames = generate(model)
    assert frames.shape == (FRAMES, HEIGHT, WIDTH, 3)
    # Two steps with guidance: one cond and one uncond call on each expert.
    assert len(seen["transformer"]) == len(seen["transformer_2"]) == 2


def test_context_windows_wrap_both_experts(folder):
    """A shot of 33 frames (9 latent frames) in windows of 9 frames (3 latent frames): neither
    expert ever sees more than one window."""
    model = load_model(str(folder), device="cpu")
    seen = frames_seen(model)
    total = 33
    latents = torch.randn(1, 8, 9, HEIGHT // 8, WIDTH // 8, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        result = model.denoise(windows=[(0, 3), (2, 3), (4, 3), (6, 3)], prompt="a red ball", negative_prompt=None,
                               num_frames=total, height=HEIGHT, width=WIDTH, num_inference_steps=2,
                               guidance_scale=5.0, latents=latents)
    assert result.shape == latents.shape
    assert seen["transformer"] and seen["transformer_2"]
    assert set(seen["transformer"]) == set(seen["transformer_2"]) == {3}


def test_a_step_cache_and_an_attention_backend_reach_both_experts(folder):
    model = load_model(str(folder), device="cpu", acceleration=Acceleration.parse(cache="first-block",
                                                                                  attention="native"))
    for name in ("transformer", "transformer_2"):
        assert getattr(model.pipeline, name).is_cache_enabled, f"{name} has no step cache"


def test_int8_quantises_both_experts(folder):
    pytest.importorskip("torchao")
    model = load_model(str(folder), device="cpu", acceleration=Acceleration.parse(quantize="int8"))
    for name in ("transformer", "transformer_2"):
        weight = getattr(model.pipeline, name).blocks[0].ffn.net[0].proj.weight
        assert type(weight).__name__ == "Int8Tensor", name


def test_the_low_memory_plan_renders_the_same_pixels_with_both_experts(folder):
    fast = generate(load_model(str(folder), device="cpu", memory="fast"))
    low_model = load_model(str(folder), device="cpu", memory="low")
    assert low_model.memory_plan == "low"
    np.testing.assert_array_equal(generate(low_model), fast)
