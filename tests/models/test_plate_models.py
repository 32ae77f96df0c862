"""Models that extend plates load like every other model: ``resolve_model(plate=True)`` knows
image inpainting folders (their family recognised by what their call takes) and the tiny
inpainting model, and a loaded model says what it fills under a mask."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from sora_vfx.errors import ModelError
from sora_vfx.models import describe_model, family_of, resolve_model
from sora_vfx.models.families.image_inpainting import IMAGE_INPAINTING
from sora_vfx.models.families.registry import image_families, mask_filling
from sora_vfx.models.families.wan import WAN
from sora_vfx.models.tiny_inpaint import TINY_INPAINT_LIMITS, ensure_tiny_inpaint_model, tiny_inpaint_dir


def write_index(folder: Path, class_name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": class_name}))
    return folder


def test_image_inpainting_pipelines_are_a_family_only_where_plates_ask():
    assert family_of("StableDiffusionInpaintPipeline", images=True) is IMAGE_INPAINTING
    assert image_families() == (IMAGE_INPAINTING,)
    with pytest.raises(ModelError, match="pipeline not supported: StableDiffusionInpaintPipeline, supported video"):
        family_of("StableDiffusionInpaintPipeline")  # render: as before
    with pytest.raises(ModelError) as refused:
        family_of("StableDiffusionPipeline", images=True)  # no mask in its call
    assert "image inpainting: any pipeline whose call takes prompt, image, mask_image" in str(refused.value)
    assert family_of("WanVACEPipeline", images=True) is WAN


def test_what_a_kind_fills_under_a_mask():
    assert mask_filling(WAN, "outpaint") == "shot"
    assert mask_filling(IMAGE_INPAINTING, "inpaint") == "picture"
    assert mask_filling(WAN, "t2v") is None and mask_filling(WAN, "i2v") is None


def test_the_tiny_inpainting_model_resolves_for_plates_only(sora_cache):
    found = resolve_model("tiny", plate=True)
    assert (found.name, found.folder, found.family, found.kind) == ("tiny", tiny_inpaint_dir(), IMAGE_INPAINTING,
                                                                    "inpaint")
    assert found.limits["size_multiple"] == TINY_INPAINT_LIMITS["size_multiple"]
    assert found.limits["vae_tiling"] is False  # image pictures never went through VAE tiling
    assert resolve_model("tiny").kind == "t2v"  # render's tiny model
    assert resolve_model("shapes", plate=True).name == "shapes-outpaint"


def test_an_image_inpainting_folder_is_described_without_weights(tmp_path):
    folder = ensure_tiny_inpaint_model(tmp_path / "cache")
    with pytest.raises(ModelError, match="pipeline not supported: StableDiffusionInpaintPipeline"):
        resolve_model(str(folder))
    described = describe_model(str(folder), plate=True)
    assert (described.name, described.kind, described.mask_filling) == (str(folder), "inpaint", "picture")
    assert (described.max_frames, described.size_multiple, described.default_size) == (1, 8, (128, 128))
    assert described.pipeline is None


def test_sizes_an_image_folder_does_not_set_come_from_its_pipeline(tmp_path):
    folder = write_index(tmp_path / "sd", "StableDiffusionInpaintPipeline")
    found = resolve_model(str(folder), plate=True, check_diffusers=False)
    assert "size_multiple" not in found.limits and "default_size" not in found.limits
    described = describe_model(str(folder), plate=True)
    # Without weights the record's fallbacks; ``load_model`` reads the loaded pipeline's.
    assert (described.size_multiple, described.default_size) == (16, (512, 512))


def test_an_outpainting_model_draws_one_noise_for_the_shot():
    pipeline = SimpleNamespace(transformer=SimpleNamespace(config=SimpleNamespace(out_channels=16, in_channels=96)),
                               vae_scale_factor_temporal=4, vae_scale_factor_spatial=8)
    layout = WAN.latent_layout(pipeline, "outpaint")
    assert (layout.channels, layout.temporal, layout.spatial) == (16, 4, 8)
