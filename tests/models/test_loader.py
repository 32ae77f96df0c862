"""Loading pipeline folders (the tiny model through the same path as any folder) and generating."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sora_vfx.errors import ModelError
from sora_vfx.models import LoadedModel, build_tiny_pipeline, ensure_tiny_model, load_model
from sora_vfx.models.loader import pick_device, pick_dtype
from sora_vfx.models.tiny import TINY_LIMITS

CALL = dict(
    prompt="misty forest at dawn",
    negative_prompt="blurry",
    num_frames=9,
    height=32,
    width=32,
    num_inference_steps=2,
    guidance_scale=5.0,
)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def model(cache) -> LoadedModel:
    return load_model("tiny", cache_dir=cache, device="cpu")


def test_tiny_loads_from_its_folder(model, cache):
    folder = ensure_tiny_model(cache)
    assert type(model.pipeline).__name__ == "WanPipeline"
    assert Path(model.pipeline.config._name_or_path) == folder
    assert (model.name, model.kind, model.family.name) == ("tiny", "t2v", "Wan")
    assert (model.device, model.dtype) == (torch.device("cpu"), torch.float32)
    assert model.max_frames == TINY_LIMITS["max_frames"] == 17
    assert (model.frame_multiple, model.frame_offset, model.size_multiple) == (4, 1, 16)
    assert model.default_size == (64, 32)
    assert model.max_sequence_length == 64
    # Tiling is for accelerators only (and never for tiny): on the CPU it is slow and changes pixels.
    assert not model.pipeline.vae.use_tiling


def test_tiny_folder_loads_by_path_too(model, cache):
    by_path = load_model(str(ensure_tiny_model(cache)), device="cpu")
    assert by_path.name == str(ensure_tiny_model(cache))
    assert (by_path.max_frames, by_path.default_size) == (model.max_frames, model.default_size)


@pytest.mark.slow
def test_generate_shape_range_and_determinism(model):
    frames = model.generate(generator=seeded(7), **CALL)
    assert frames.shape == (9, 32, 32, 3)
    assert frames.dtype == np.float32
    assert np.isfinite(frames).all()
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    assert frames.std() > 0.05, "tiny model output should not be flat grey"
    assert np.array_equal(model.generate(generator=seeded(7), **CALL), frames)
    assert not np.array_equal(model.generate(generator=seeded(8), **CALL), frames)


@pytest.mark.slow
def test_default_size_and_max_frames_render(model):
    width, height = model.default_size
    frames = model.generate(
        **{**CALL, "num_frames": model.max_frames, "height": height, "width": width}, generator=seeded(0)
    )
    assert frames.shape == (17, 32, 64, 3)


@pytest.mark.slow
def test_cached_prompt_embeddings_match_a_plain_call(model, monkeypatch):
    model._prompt_cache.clear()
    calls = []
    real_encode = model.pipeline.encode_prompt

    @functools.wraps(real_encode)
    def counting_encode(**kwargs):
        calls.append(kwargs)
        return real_encode(**kwargs)

    monkeypatch.setattr(model.pipeline, "encode_prompt", counting_encode)
    ours = model.generate(generator=seeded(3), **CALL)
    again = model.generate(generator=seeded(4), **CALL)
    # The pipeline also calls encode_prompt itself, with prompt=None, to pass our embeddings on.
    encoded = [kw for kw in calls if kw["prompt"] is not None]
    assert len(encoded) == 1, "the second shot with the same prompts must reuse the embeddings"
    assert encoded[0]["max_sequence_length"] == 64
    monkeypatch.undo()
    plain = model.pipeline(generator=seeded(3), output_type="np", max_sequence_length=64, **CALL).frames[0]
    assert np.array_equal(ours, plain)
    assert not np.array_equal(ours, again)
    other = model.generate(generator=seeded(3), **{**CALL, "prompt": "neon city"})
    assert not np.array_equal(ours, other)


@pytest.mark.slow
def test_round_trip_keeps_the_built_model(model):
    built = build_tiny_pipeline()
    built.set_progress_bar_config(disable=True)
    expected = built(generator=seeded(5), output_type="np", max_sequence_length=64, **CALL).frames[0]
    # Weights are equal; loaded (memory-mapped) tensors may take other SIMD paths: allow rounding.
    np.testing.assert_allclose(model.generate(generator=seeded(5), **CALL), expected, atol=1e-4)


@pytest.mark.slow
def test_latents_are_passed_through(model):
    latents = torch.randn(1, 8, 3, 4, 4, generator=seeded(1))
    a = model.generate(generator=seeded(1), latents=latents, **CALL)
    b = model.generate(generator=seeded(2), latents=latents, **CALL)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("num_frames", "height", "width", "message"),
    [
        (9, 500, 300, "`height` and `width` have to be divisible by 16 but are 500 and 300."),
        (10, 32, 32, "`num_frames` has to be 4k+1 but is 10; the next valid count is 13."),
        (0, 32, 32, "`num_frames` has to be 4k+1 but is 0; the next valid count is 1."),
        (33, 32, 32, "`num_frames` has to be at most 17 for tiny but is 33; render longer shots in windows."),
    ],
)
def test_check_inputs(model, num_frames, height, width, message):
    with pytest.raises(ModelError) as info:
        model.check_inputs(num_frames, height, width)
    assert str(info.value) == message
    with pytest.raises(ModelError):
        model.generate(
            **{**CALL, "num_frames": num_frames, "height": height, "width": width}, generator=seeded(0)
        )


@pytest.mark.parametrize(
    ("asked", "valid"), [(0, 1), (1, 1), (2, 5), (5, 5), (6, 9), (16, 17), (17, 17), (18, 21)]
)
def test_round_up_frames_wan_rule(model, asked, valid):
    assert model.round_up_frames(asked) == valid
    model.check_inputs(min(valid, model.max_frames), 32, 32)


def test_round_up_frames_without_offset(model):
    rule = LoadedModel(
        pipeline=None, name="x", kind="t2v", device=torch.device("cpu"), dtype=torch.float32,
        max_frames=64, frame_multiple=8, frame_offset=0, size_multiple=8, default_size=(64, 64),
    )  # fmt: skip
    assert [rule.round_up_frames(n) for n in (0, 1, 8, 9)] == [8, 8, 8, 16]
    assert rule.frame_rule == "a multiple of 8"


def test_t2v_refuses_an_image(model):
    with pytest.raises(ModelError, match="text-to-video and takes no `image`"):
        model.generate(generator=seeded(0), image=np.zeros((32, 32, 3), np.float32), **CALL)


@pytest.mark.slow
def test_tiny_i2v(cache):
    model = load_model("tiny-i2v", cache_dir=cache, device="cpu")
    assert (model.kind, type(model.pipeline).__name__) == ("i2v", "WanImageToVideoPipeline")
    image = np.linspace(0, 1, 32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)
    frames = model.generate(generator=seeded(0), image=image, **CALL)
    assert frames.shape == (9, 32, 32, 3) and np.isfinite(frames).all()
    assert np.array_equal(model.generate(generator=seeded(0), image=image, **CALL), frames)
    with pytest.raises(ModelError, match="image-to-video and needs an `image`"):
        model.generate(generator=seeded(0), **CALL)


# Bad folders: each is refused before any weights are read.


def write_index(folder: Path, class_name="WanPipeline", **components) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    index = {"_class_name": class_name, "_diffusers_version": "0.42.1", **components}
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder


def test_missing_folder(tmp_path):
    with pytest.raises(ModelError, match=r"model folder not found: .*nowhere"):
        load_model(str(tmp_path / "nowhere"))


def test_folder_without_model_index(tmp_path):
    with pytest.raises(ModelError, match=r"is not a diffusers pipeline folder \(no model_index.json\)"):
        load_model(str(tmp_path))


def test_pickle_only_component(tmp_path):
    folder = write_index(tmp_path / "m", transformer=["diffusers", "WanTransformer3DModel"])
    (folder / "transformer").mkdir()
    (folder / "transformer" / "config.json").write_text("{}")
    (folder / "transformer" / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelError) as info:
        load_model(str(folder))
    assert "transformer/pytorch_model.bin" in str(info.value)
    assert "only safetensors are loaded" in str(info.value)


def test_pickle_beside_safetensors_is_ignored(model, cache, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(ensure_tiny_model(cache), folder)
    (folder / "vae" / "diffusion_pytorch_model.bin").write_bytes(b"not read")
    assert load_model(str(folder)).kind == "t2v"


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({"class_name": "StableDiffusionPipeline"}, "pipeline not supported: StableDiffusionPipeline, "
         "supported video families: Wan, LTX-2, LTX-Video, HunyuanVideo 1.5, SkyReels-V2, CogVideoX, AnimateDiff"),
        ({"class_name": "WanNotARealPipeline"}, "pipeline not supported: WanNotARealPipeline"),
        ({"class_name": ["my_pipeline", "WanPipeline"]}, "`_class_name` has to name a diffusers pipeline"),
        ({"vae": ["my_module", "MyVAE"]}, "component vae comes from 'my_module'"),
    ],
)  # fmt: skip
def test_unsupported_or_custom_code(tmp_path, index, message):
    folder = write_index(tmp_path / "m", index.pop("class_name", "WanPipeline"), **index)
    with pytest.raises(ModelError, match=message.replace("(", r"\(")):
        load_model(str(folder))


def test_load_failure_names_the_folder(tmp_path):
    folder = write_index(tmp_path / "m", vae=["diffusers", "AutoencoderKLWan"])
    with pytest.raises(ModelError, match=rf"cannot load model {folder}: "):
        load_model(str(folder))


def test_bad_sora_vfx_json(model, cache, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(ensure_tiny_model(cache), folder)
    (folder / "sora_vfx.json").write_text(json.dumps({"max_frames": "lots"}))
    with pytest.raises(ModelError, match=r"sora_vfx.json: bad value for max_frames: 'lots'"):
        load_model(str(folder))


def test_sora_vfx_json_overrides_the_family_table(model, cache, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(ensure_tiny_model(cache), folder)
    (folder / "sora_vfx.json").unlink()
    plain = load_model(str(folder))
    assert (plain.max_frames, plain.default_size, plain.max_sequence_length) == (81, (832, 480), None)
    (folder / "sora_vfx.json").write_text(json.dumps({"max_frames": 9}))
    assert load_model(str(folder)).max_frames == 9


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device().type in ("cuda", "mps", "cpu")
    with pytest.raises(ModelError, match=r"unknown device: banana, available: .*cpu"):
        pick_device("banana")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match=r"device not available: cuda, available: cpu"):
            pick_device("cuda")


def test_pick_dtype():
    assert pick_dtype(torch.device("cpu")) == torch.float32
    assert pick_dtype(torch.device("mps")) == torch.float32
    assert pick_dtype(torch.device("cuda")) == torch.bfloat16


def test_described_model_has_the_loaded_models_limits_and_fingerprint(model, cache, tmp_path):
    from sora_vfx.models import describe_model

    described = describe_model("tiny", cache_dir=cache)
    assert described.pipeline is None and described.device.type == "meta"
    keys = ("name", "kind", "family", "max_frames", "frame_multiple", "frame_offset", "size_multiple",
            "default_size", "max_sequence_length", "default_steps", "folder")
    assert {k: getattr(described, k) for k in keys} == {k: getattr(model, k) for k in keys}
    assert described.fingerprint == model.fingerprint
    # Other weights, other fingerprint.
    copy = tmp_path / "copy"
    shutil.copytree(model.folder, copy)
    (copy / "transformer" / "extra.safetensors").write_bytes(b"0" * 10)
    assert describe_model(str(copy)).fingerprint != model.fingerprint
