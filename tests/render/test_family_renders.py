"""Every video family renders an edit from a saved folder (``sora-vfx render EDIT --model DIR``).

Each family's tiny pipeline (``tests.models.tiny_families``) is saved as a safetensors folder
and rendered through the command line, text-to-video and, where the family has one,
image-to-video (the sample edit's SHP_0040 names a reference image): one EXR per frame with
full headers. LTX-2's sound goes beside the frames, into the conform and into the review
movie; HunyuanVideo 1.5's image-to-video shot has the shot's size; SkyReels-V2 renders long
shots itself (``--windows forcing``).
"""

from __future__ import annotations

import json
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.console import quiet_progress_bars
from sora_vfx.imaging import read_exr_header, read_exr_pixels
from sora_vfx.models import SORA_VFX_JSON, video_families
from tests.conftest import SAMPLES
from tests.models.tiny_families import TINY_MODELS
from tests.models.tiny_families import ltx2 as tests_ltx2

EDIT = SAMPLES / "shapes_24fps.edl"
HANDLES = 2
FRAMES = 17 + 2 * HANDLES  # each sample shot lasts 17 frames at 24 fps
CASES = [(name, "t2v") for name in TINY_MODELS] + [(name, "i2v") for name, tiny in TINY_MODELS.items()
                                                    if tiny.build_i2v is not None]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Each family's tiny pipeline of a kind, saved once per module on first use."""
    saved: dict[tuple[str, str], Path] = {}

    def get(name: str, kind: str) -> Path:
        if (name, kind) not in saved:
            tiny = TINY_MODELS[name]
            folder = tmp_path_factory.mktemp("families") / f"{name.replace(' ', '_')}-{kind}"
            pipeline = tiny.build() if kind == "t2v" else tiny.build_i2v()
            with quiet_progress_bars():
                pipeline.save_pretrained(folder, safe_serialization=True)
            (folder / SORA_VFX_JSON).write_text(json.dumps(tiny.overrides))
            saved[name, kind] = folder
        return saved[name, kind]

    return get


def render(folder: Path, out: Path, shot: str, *more: str):
    result = CliRunner().invoke(main, ["render", str(EDIT), "--model", str(folder), "--shots", shot,
                                       "--handles", str(HANDLES), "--steps", "2", "-o", str(out), *more])
    assert result.exit_code == 0, result.output
    return result


def test_every_video_family_is_rendered_here():
    assert {name for name, _kind in CASES} == {family.name for family in video_families()}
    # The 2026 families render both kinds.
    assert {("LTX-2", "i2v"), ("HunyuanVideo 1.5", "i2v"), ("SkyReels-V2", "i2v")} <= set(CASES)


@pytest.mark.parametrize("name, kind", CASES, ids=[f"{name}-{kind}" for name, kind in CASES])
def test_a_saved_folder_renders_one_exr_per_frame_with_full_headers(folders, tmp_path, name, kind):
    folder = folders(name, kind)
    shot = "SHP_0040" if kind == "i2v" else "SHP_0010"
    render(folder, tmp_path, shot, "--no-review")
    frames = sorted((tmp_path / shot).glob("*.exr"))
    assert [f.name for f in frames] == [f"{shot}.{n}.exr" for n in range(1001, 1001 + FRAMES)]
    header = read_exr_header(frames[0])
    assert header["sora_vfx:model"] == str(folder)
    assert header["sora_vfx:shot"] == shot
    assert header["oiio:ColorSpace"] == "lin_ap1_scene"  # ACEScg, by its OCIO name
    assert header["timeCode"] and header["framesPerSecond"] == Fraction(24)
    assert len(str(header["sora_vfx:job_hash"])) == 16
    assert header["sora_vfx:prompt"].startswith("a large")
    pixels = read_exr_pixels(frames[-1])
    tiny = TINY_MODELS[name]
    assert pixels.shape == (tiny.height, tiny.width, 4)
    assert np.isfinite(pixels).all() and pixels[..., :3].std() > 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [entry["status"] for entry in manifest["shots"]] == ["rendered"]


def wav_facts(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path)) as handle:
        return handle.getnframes(), handle.getframerate(), handle.getnchannels()


def test_ltx2_sound_lasts_the_shot_and_is_in_the_conform_and_the_movie(folders, tmp_path):
    render(folders("LTX-2", "t2v"), tmp_path, "SHP_0010,SHP_0020")
    for shot in ("SHP_0010", "SHP_0020"):
        samples, rate, channels = wav_facts(tmp_path / shot / f"{shot}.wav")
        # The vocoder's rate; 21 frames at 24 fps are exactly 0.875 s.
        assert (rate, channels) == (24000, 2)
        assert samples == FRAMES * rate // 24
    timeline = otio.adapters.read_from_file(str(tmp_path / "renders.otio"))
    sound = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Audio]
    assert [track.name for track in sound] == ["sora_vfx sound"]
    clips = list(sound[0].find_clips())
    assert [clip.name for clip in clips] == ["SHP_0010", "SHP_0020"]
    # At each shot's record time, the cut's part of the sound (handles left for trims).
    assert [clip.range_in_parent().start_time.to_frames() for clip in clips] == [0, 17]
    assert clips[1].source_range == otio.opentime.TimeRange(otio.opentime.RationalTime(HANDLES, 24),
                                                            otio.opentime.RationalTime(17, 24))
    assert clips[1].media_reference.target_url == (tmp_path / "SHP_0020" / "SHP_0020.wav").resolve().as_uri()
    with av.open(str(tmp_path / "review" / "movies" / "SHP_0010.mp4")) as movie:
        audio = movie.streams.audio[0]
        assert (audio.codec_context.name, audio.sample_rate) == ("aac", 24000)
        assert float(audio.duration * audio.time_base) == pytest.approx(FRAMES / 24, abs=0.03)
    # The editors' formats carry the pictures; the sound track is OTIO's.
    edl = (tmp_path / "renders.edl").read_text()
    assert "SHP_0010" in edl and ".wav" not in edl


def test_no_audio_writes_no_sound(folders, tmp_path):
    render(folders("LTX-2", "t2v"), tmp_path, "SHP_0010", "--no-audio", "--no-review")
    assert not list(tmp_path.rglob("*.wav"))
    timeline = otio.adapters.read_from_file(str(tmp_path / "renders.otio"))
    assert [track.kind for track in timeline.tracks] == [otio.schema.TrackKind.Video]


def test_a_full_re_render_without_sound_removes_the_old_sound(folders, tmp_path):
    render(folders("LTX-2", "t2v"), tmp_path, "SHP_0010", "--no-review")
    assert (tmp_path / "SHP_0010" / "SHP_0010.wav").is_file()
    render(folders("LTX-2", "t2v"), tmp_path, "SHP_0010", "--no-review", "--no-audio", "--force")
    assert not (tmp_path / "SHP_0010" / "SHP_0010.wav").exists()


def test_hunyuan_image_to_video_keeps_the_shots_size(folders, tmp_path):
    """Its pipeline would crop the image to the size bucket nearest its aspect (80x48 for a
    64x32 picture at the tiny model's target size); the shot's size wins."""
    render(folders("HunyuanVideo 1.5", "i2v"), tmp_path, "SHP_0040", "--size", "64x32", "--no-review")
    frame = read_exr_pixels(tmp_path / "SHP_0040" / "SHP_0040.1001.exr")
    assert frame.shape[:2] == (32, 64)


def test_skyreels_renders_a_long_shot_in_one_call_by_diffusion_forcing(folders, tmp_path):
    """33 frames with a 17-frame window: the model carries the shot from window to window
    itself; the manifest and headers record the method, and a second render is identical."""
    folder = folders("SkyReels-V2", "t2v")
    for out in (tmp_path / "a", tmp_path / "b"):
        result = CliRunner().invoke(main, ["render", str(EDIT), "--model", str(folder), "--shots", "SHP_0010",
                                           "--handles", "8", "--steps", "2", "-o", str(out), "--no-review"])
        assert result.exit_code == 0, result.output
    frames = sorted((tmp_path / "a" / "SHP_0010").glob("*.exr"))
    assert len(frames) == 33
    header = read_exr_header(frames[20])
    assert header["sora_vfx:windows"] == "forcing"
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["shots"][0]["spec"]["windows"] == "forcing"
    for frame in frames[::8]:
        np.testing.assert_array_equal(read_exr_pixels(frame), read_exr_pixels(tmp_path / "b" / "SHP_0010" / frame.name))


def test_ltx2_hdr_remakes_an_sdr_render_as_scene_linear_light(folders, tmp_path):
    """The HDR pipeline's linear light reaches the EXR converted from Rec.709 primaries to
    ACEScg, above 1.0 where the pipeline's output is, with no inverse view transform."""
    import torch
    from diffusers import DiffusionPipeline
    from diffusers.pipelines.ltx2.pipeline_ltx2_hdr_lora import LTX2HDRReferenceCondition

    from sora_vfx.imaging import get_converter
    from sora_vfx.imaging.images import read_display_frames

    hdr = tmp_path / "hdr-model"
    tiny = TINY_MODELS["LTX-2"]
    with quiet_progress_bars():
        tests_ltx2.build_hdr().save_pretrained(hdr, safe_serialization=True)
    (hdr / SORA_VFX_JSON).write_text(json.dumps(tiny.overrides))
    sdr, out = tmp_path / "sdr", tmp_path / "out"
    CliRunner().invoke(main, ["render", str(EDIT), "--model", str(folders("LTX-2", "t2v")), "--shots", "SHP_0010",
                              "--handles", "0", "--steps", "2", "-o", str(sdr), "--no-review"])
    refused = CliRunner().invoke(main, ["render", str(EDIT), "--model", str(hdr), "--shots", "SHP_0010",
                                        "--handles", "0", "--steps", "2", "-o", str(out)])
    assert refused.exit_code == 2 and "--reference-render" in refused.output
    result = CliRunner().invoke(main, ["render", str(EDIT), "--model", str(hdr), "--shots", "SHP_0010", "--handles",
                                       "0", "--steps", "2", "-o", str(out), "--no-review", "--reference-render",
                                       str(sdr)])
    assert result.exit_code == 0, result.output
    frames = sorted((out / "SHP_0010").glob("*.exr"))
    header = read_exr_header(frames[0])
    assert header["sora_vfx:output_transform"] == "scene-linear"
    assert header["sora_vfx:model_colorspace"] == "Linear Rec.709 (sRGB)"
    spec = json.loads((out / "manifest.json").read_text())["shots"][0]["spec"]
    assert spec["extra"]["reference_render"]["folder"] == str(sdr.resolve())

    # The same call through diffusers' own pipeline, given the SDR render's pictures.
    pictures = read_display_frames(sorted((sdr / "SHP_0010").glob("*.exr")), colorspace="ACEScg")
    with quiet_progress_bars():
        pipeline = DiffusionPipeline.from_pretrained(hdr, local_files_only=True, use_safetensors=True)
    pipeline.set_progress_bar_config(disable=True)
    light = pipeline(prompt=spec["prompt"], negative_prompt=spec["negative_prompt"] or None, num_frames=17, height=64,
                     width=64, num_inference_steps=2, guidance_scale=spec["guidance"], frame_rate=24.0,
                     generator=torch.Generator("cpu").manual_seed(spec["seed"]), output_type="np",
                     max_sequence_length=tiny.overrides["max_sequence_length"],
                     reference_conditions=LTX2HDRReferenceCondition(frames=pictures, strength=1.0)).frames[0]
    assert light.max() > 1.0
    expected = get_converter().convert(light, src="lin_rec709_srgb", dst="ACEScg")
    written = np.stack([read_exr_pixels(frame)[..., :3] for frame in frames])
    assert (written > 1.0).any()
    np.testing.assert_allclose(written, expected, rtol=2e-3, atol=2e-3)  # half floats
