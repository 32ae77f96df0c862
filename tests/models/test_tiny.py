"""The built-in tiny model: deterministic build, saved once, atomically."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from sora_vfx import files
from sora_vfx.errors import ModelError
from sora_vfx.models import tiny
from sora_vfx.models.tiny import (
    SORA_VFX_JSON,
    TINY_LIMITS,
    TINY_MODEL_VERSION,
    build_tiny_pipeline,
    ensure_tiny_model,
    tiny_model_dir,
)

COMPONENTS = ("text_encoder", "transformer", "vae")


def test_build_is_deterministic():
    first, second = build_tiny_pipeline(), build_tiny_pipeline()
    for name in COMPONENTS:
        a, b = getattr(first, name).state_dict(), getattr(second, name).state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{key}"
    assert first.tokenizer("misty forest").input_ids == second.tokenizer("misty forest").input_ids
    assert first.scheduler.config == second.scheduler.config


def test_build_is_small_eval_and_float32():
    pipeline = build_tiny_pipeline()
    for name in COMPONENTS:
        module = getattr(pipeline, name)
        assert not module.training, name
        assert module.dtype == torch.float32
        assert sum(p.numel() for p in module.parameters()) < 200_000, name


def test_build_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    build_tiny_pipeline()
    assert torch.equal(torch.rand(4), expected)


def test_tokenizer_tells_prompts_apart_and_ends_with_eos():
    tokenizer = build_tiny_pipeline().tokenizer
    a = tokenizer("misty forest").input_ids
    b = tokenizer("neon city").input_ids
    assert a != b
    assert a[-1] == tokenizer.eos_token_id
    assert tokenizer.pad_token == "<pad>"
    assert tokenizer("café ☀").input_ids.count(tokenizer.unk_token_id) == 0


def test_unknown_kind():
    with pytest.raises(ModelError, match="tiny model kind not supported: v2v, available: t2v, i2v"):
        build_tiny_pipeline("v2v")


def test_cache_folder_from_argument_env_and_home(tmp_path, monkeypatch):
    name = f"tiny-wan-{TINY_MODEL_VERSION}"
    assert tiny_model_dir(tmp_path) == tmp_path / "models" / name
    assert tiny_model_dir(tmp_path, kind="i2v") == tmp_path / "models" / f"tiny-wan-i2v-{TINY_MODEL_VERSION}"
    monkeypatch.setenv("SORA_VFX_CACHE", str(tmp_path / "env"))
    assert tiny_model_dir() == tmp_path / "env" / "models" / name
    monkeypatch.delenv("SORA_VFX_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert tiny_model_dir() == tmp_path / "home" / ".cache" / "sora_vfx" / "models" / name


def test_ensure_saves_safetensors_once(tmp_path, monkeypatch):
    folder = ensure_tiny_model(tmp_path)
    assert folder == tiny_model_dir(tmp_path)
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "WanPipeline"
    limits = json.loads((folder / SORA_VFX_JSON).read_text())
    assert {k: limits[k] for k in TINY_LIMITS} == TINY_LIMITS
    weights = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.safetensors"))
    assert [w.split("/")[0] for w in weights] == ["text_encoder", "transformer", "vae"]
    assert not [p for p in folder.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".ckpt")]
    # Nothing but the finished folder is left beside it.
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]

    mtime = (folder / "model_index.json").stat().st_mtime_ns

    def must_not_build(kind="t2v"):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(tiny, "build_tiny_pipeline", must_not_build)
    assert ensure_tiny_model(tmp_path) == folder
    assert (folder / "model_index.json").stat().st_mtime_ns == mtime


def test_ensure_uses_the_copy_of_a_process_that_won_the_race(tmp_path, monkeypatch):
    real_replace = os.replace

    def lose_race(src, dst):
        # Another process finishes first: its complete folder appears, then our rename fails.
        shutil.copytree(src, dst)
        (dst / "winner").write_text("")
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", lose_race)
    folder = ensure_tiny_model(tmp_path)
    assert (folder / "winner").exists()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def test_ensure_replaces_debris_and_stale_temporary_folders(tmp_path):
    folder = tiny_model_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "transformer").mkdir()  # half a model, no model_index.json
    # A temporary folder (files.temporary_name) that a killed writer on another host left a day ago.
    stale = folder.parent / f".{folder.name}.otherhost-1.dead.tmp"
    stale.mkdir()
    os.utime(stale, (0, 0))
    assert ensure_tiny_model(tmp_path) == folder
    assert (folder / "model_index.json").is_file()
    assert not stale.exists()


def test_ensure_reports_unwritable_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ModelError, match="cannot write the tiny model"):
        ensure_tiny_model(blocker)
