"""The built-in tiny inpainting model: built in code, saved once, loaded through from_pretrained,
deterministic, and it keeps what the mask says to keep."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sora_vfx.errors import ModelError
from sora_vfx.models.tiny_inpaint import (
    TINY_INPAINT_LIMITS,
    build_tiny_inpaint_pipeline,
    ensure_tiny_inpaint_model,
)
from sora_vfx.plates.model import load_plate_model


def test_build_is_deterministic_small_and_nine_channels():
    first, second = build_tiny_inpaint_pipeline(), build_tiny_inpaint_pipeline()
    for name in ("text_encoder", "unet", "vae"):
        a, b = getattr(first, name).state_dict(), getattr(second, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
        assert sum(p.numel() for p in getattr(first, name).parameters()) < 1_000_000, name
        assert not getattr(first, name).training
    assert first.unet.config.in_channels == 9  # noise + mask + masked-image latents
    assert type(first).__name__ == "StableDiffusionInpaintPipeline"


def test_saved_once_and_loaded_back_the_same(tmp_path):
    folder = ensure_tiny_inpaint_model(tmp_path)
    stamp = (folder / "model_index.json").stat().st_mtime_ns
    assert ensure_tiny_inpaint_model(tmp_path) == folder
    assert (folder / "model_index.json").stat().st_mtime_ns == stamp
    assert not list(folder.rglob("*.bin")) and list(folder.rglob("*.safetensors"))
    assert json.loads((folder / "sora_vfx.json").read_text())["default_size"] == TINY_INPAINT_LIMITS["default_size"]
    loaded = load_plate_model("tiny", cache_dir=tmp_path).model
    built = build_tiny_inpaint_pipeline()
    for name in ("text_encoder", "unet", "vae"):
        saved, fresh = getattr(loaded.pipeline, name).state_dict(), getattr(built, name).state_dict()
        assert all(torch.equal(saved[k], fresh[k]) for k in fresh), name
    prompt = "a misty beach at dawn"
    assert loaded.pipeline.tokenizer(prompt).input_ids == built.tokenizer(prompt).input_ids
    assert loaded.default_size == (128, 128) and loaded.size_multiple == 8
    assert (loaded.name, loaded.family.name, loaded.kind, loaded.mask_filling) == (
        "tiny", "image inpainting", "inpaint", "picture")


def test_inpaint_is_deterministic_and_seeded(inpaint_model):
    rng = np.random.default_rng(0)
    image = rng.random((48, 64, 3), dtype=np.float32)
    mask = np.zeros((48, 64), np.float32)
    mask[:, 40:] = 1.0
    args = dict(image=image, mask=mask, prompt="sea", negative_prompt=None, num_inference_steps=2,
                guidance_scale=5.0)
    first = inpaint_model.inpaint(**args, seed=7)
    again = inpaint_model.inpaint(**args, seed=7)
    other = inpaint_model.inpaint(**args, seed=8)
    assert first.shape == (48, 64, 3) and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0 and first.std() > 0.01
    assert np.array_equal(first, again)
    assert not np.array_equal(first[:, 40:], other[:, 40:])


def test_working_size_follows_the_frame(inpaint_model):
    assert inpaint_model.working_size(2560, 1556) == (168, 96)
    width, height = inpaint_model.working_size(1024, 858, pixel_aspect=2.0)
    assert width > 2 * height and width % 8 == height % 8 == 0
    with pytest.raises(ModelError, match="divisible by 8 but are 50 and 60"):
        inpaint_model.check_size(60, 50)
