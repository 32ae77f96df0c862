"""Kept latents (``OUT/<shot>/<shot>.latents.safetensors``) are a shortcut, never a source of
truth: latents that do not fit the job (shape, dtype, values), that do not decode, or that a
``--force`` render finds, are denoised again; the frames are those of a fresh render."""

from __future__ import annotations

import logging

import pytest
import torch
from safetensors.torch import save_file

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.imaging import read_exr_pixels
from sora_vfx.layout import latents_path
from sora_vfx.render import RenderSettings, read_manifest, render_edit

SHOT = "KEPT_0010"
# Nine frames at 32x32: one context window; the tiny model's latents are (1, 8, 3, 4, 4).
EDL = f"""\
TITLE: kept
FCM: NON-DROP FRAME

001  AX       V     C        01:00:00:00 01:00:00:09 01:00:00:00 01:00:00:09
* SHOT: {SHOT}
* PROMPT: a slow drift through clouds
"""
SHAPE = (1, 8, 3, 4, 4)


def render(path, out, model, **settings):
    return render_edit(read_edit(path, EditOptions(handles=0)), out,
                       RenderSettings(**{"steps": 2, "size": (32, 32), **settings}), model=model, progress=False)


def bits(folder):
    return [read_exr_pixels(p).tobytes() for p in sorted((folder / SHOT).glob("*.exr"))]


@pytest.fixture
def fresh(tmp_path, tiny_model, write_edl):
    """(edit, frames of a fresh render, a render folder whose frames are gone: only latents to come)."""
    path = write_edl(EDL)
    render(path, tmp_path / "fresh", tiny_model)
    out = tmp_path / "out"
    render(path, out, tiny_model)
    for frame in (out / SHOT).glob("*.exr"):
        frame.unlink()
    return path, bits(tmp_path / "fresh"), out


def keep(out, latents: torch.Tensor) -> None:
    """Leave ``latents`` as the shot's kept latents, with the job's own hash."""
    job_hash = read_manifest(out).entry(SHOT).job_hash
    save_file({"latents": latents.contiguous()}, str(latents_path(out, SHOT)),
              metadata={"job_hash": job_hash, "shot": SHOT})


BAD = {
    # 16x16 frames for a 32x32 job.
    "shape": lambda: torch.randn(1, 8, 3, 2, 2),
    # Too few latent frames: a shorter shot's.
    "frames": lambda: torch.randn(1, 8, 2, 4, 4),
    "dtype": lambda: torch.randn(SHAPE).to(torch.float16),
    "nan": lambda: torch.full(SHAPE, float("nan")),
    "inf": lambda: torch.randn(SHAPE).index_fill_(2, torch.tensor([1]), float("inf")),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_kept_latents_that_do_not_fit_the_job_are_denoised_again(fresh, tiny_model, caplog, kind):
    path, expected, out = fresh
    keep(out, BAD[kind]())
    with caplog.at_level(logging.WARNING, logger="sora_vfx"):
        report = render(path, out, tiny_model)
    assert report.results[0].status == "rendered", report.results[0].error
    assert bits(out) == expected
    warning = next(r.getMessage() for r in caplog.records if "kept latents" in r.getMessage())
    assert SHOT in warning and str(latents_path(out, SHOT)) in warning and "denoising again" in warning
    assert not latents_path(out, SHOT).exists()


def test_force_does_not_reuse_kept_latents(fresh, tiny_model):
    path, expected, out = fresh
    render(path, out, tiny_model)
    # Latents that fit the job in every way, but are not what it denoises to.
    keep(out, torch.zeros(SHAPE))
    report = render(path, out, tiny_model, force=True)
    assert report.results[0].frames_written == 9
    assert bits(out) == expected
    assert not latents_path(out, SHOT).exists()


def test_kept_latents_that_fail_to_decode_are_discarded_and_denoised_again(fresh, tiny_model, monkeypatch, caplog):
    path, expected, out = fresh
    keep(out, torch.zeros(SHAPE))
    stream = type(tiny_model).decode_stream

    def fails_on_the_kept_ones(self, latents):
        if not latents.any():
            raise RuntimeError("the VAE cannot decode these")
        return stream(self, latents)

    monkeypatch.setattr(type(tiny_model), "decode_stream", fails_on_the_kept_ones)
    with caplog.at_level(logging.WARNING, logger="sora_vfx"):
        report = render(path, out, tiny_model)
    result = report.results[0]
    assert (result.status, result.frames_written) == ("rendered", 9), result.error
    assert bits(out) == expected
    warning = next(r.getMessage() for r in caplog.records if "kept latents" in r.getMessage())
    assert SHOT in warning and "the VAE cannot decode these" in warning
    assert not latents_path(out, SHOT).exists()


def test_kept_latents_that_fail_part_way_leave_none_of_their_frames(fresh, tiny_model, monkeypatch):
    path, expected, out = fresh
    keep(out, torch.zeros(SHAPE))
    stream = type(tiny_model).decode_stream

    def fails_after_the_first_frames(self, latents):
        for number, chunk in enumerate(stream(self, latents)):
            if number == 1 and not latents.any():
                raise RuntimeError("the VAE gave up")
            yield chunk

    monkeypatch.setattr(type(tiny_model), "decode_stream", fails_after_the_first_frames)
    report = render(path, out, tiny_model)
    result = report.results[0]
    assert (result.status, result.frames_written) == ("rendered", 9), result.error
    # The frames decoded from the kept latents before they failed are written again, counted once.
    assert bits(out) == expected
