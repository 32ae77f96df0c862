"""Full-size architectures with random weights (``models.fullsize``): the published sizes, and
folders that load like any model."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.errors import ModelError
from sora_vfx.imaging import read_exr_header
from sora_vfx.models import family_of
from sora_vfx.models.fullsize import build_pipeline, full_sizes, write_model
from tests.conftest import SAMPLES


def parameters(module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e9


@pytest.mark.parametrize("name, transformer, text_encoder", [
    ("wan2.1-1.3b", 1.42, 5.68),  # Wan2.1-T2V-1.3B and UMT5-XXL's encoder
    ("wan2.1-14b", 14.29, 5.68),
    ("ltx-video-2b", 1.92, 4.76),  # LTX-Video 0.9 and T5-XXL's encoder
    ("ltx-2-19b", 18.88, 12.19),  # LTX-2 and Gemma 3 12B (its vision tower included)
    ("hunyuanvideo-1.5-480p", 8.33, 7.07),  # HunyuanVideo 1.5 and Qwen2.5-VL 7B's language model
])
def test_the_meta_pipelines_have_the_published_sizes(name, transformer, text_encoder):
    pipeline = build_pipeline(name, device="meta")
    assert parameters(pipeline.transformer) == pytest.approx(transformer, rel=0.01)
    assert parameters(pipeline.text_encoder) == pytest.approx(text_encoder, rel=0.01)
    assert pipeline.transformer.device.type == "meta"
    assert pipeline.transformer.dtype == torch.bfloat16


@pytest.mark.parametrize("name", list(full_sizes()))
def test_every_full_size_has_its_published_transformer_parameters(name):
    """All experts together (Wan 2.2 A14B: two), as the published checkpoints hold them."""
    pipeline = build_pipeline(name, device="meta")
    family = family_of(type(pipeline).__name__)
    denoisers = [getattr(pipeline, attribute) for attribute in family.transformers
                 if getattr(pipeline, attribute, None) is not None]
    assert sum(parameters(module) for module in denoisers) == pytest.approx(full_sizes()[name].parameters / 1e9,
                                                                              rel=0.01)


def test_an_unknown_size_is_named():
    with pytest.raises(ModelError, match="known: wan2.1-1.3b, wan2.1-14b, wan2.2-a14b, ltx-2-19b, ltx-video-2b, "
                                         "hunyuanvideo-1.5-480p"):
        build_pipeline("sora-2")


@pytest.mark.parametrize("name", list(full_sizes()))
def test_small_layouts_load_as_model_folders_and_render(tmp_path, name):
    folder = write_model(name, tmp_path / name, small=True)
    pipeline_class = type(build_pipeline(name, small=True, device="meta"))
    loaded = pipeline_class.from_pretrained(folder, local_files_only=True)
    assert type(loaded.transformer).__name__ == type(build_pipeline(name, device="meta").transformer).__name__
    result = CliRunner().invoke(main, ["render", str(SAMPLES / "shapes_24fps.edl"), "--model", str(folder),
                                       "--shots", "SHP_0010", "--handles", "0", "--steps", "2",
                                       "-o", str(tmp_path / "out"), "--no-review"])
    assert result.exit_code == 0, result.output
    frames = sorted((tmp_path / "out" / "SHP_0010").glob("*.exr"))
    assert len(frames) == 17
    assert read_exr_header(frames[0])["sora_vfx:model"] == str(folder)


def test_the_same_seed_gives_the_same_weights():
    first = build_pipeline("wan2.1-1.3b", small=True, seed=3).transformer.state_dict()
    again = build_pipeline("wan2.1-1.3b", small=True, seed=3).transformer.state_dict()
    other = build_pipeline("wan2.1-1.3b", small=True, seed=4).transformer.state_dict()
    assert all(torch.equal(first[key], again[key]) for key in first)
    assert not torch.equal(first["blocks.0.ffn.net.0.proj.weight"], other["blocks.0.ffn.net.0.proj.weight"])
