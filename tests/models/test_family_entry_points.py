"""A studio adds a family through the ``sora_vfx.families`` entry point group, without forking.

The test writes a small installed distribution (a module and its ``.dist-info`` with
``entry_points.txt``) into a folder on ``PYTHONPATH`` and runs the real ``sora-vfx`` in a
process of its own: the family is the plain (not diffusion forcing) SkyReels-V2 pipeline,
which sora_vfx does not ship, and it renders a shot of the sample edit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sora_vfx.console import quiet_progress_bars
from sora_vfx.models import SORA_VFX_JSON
from tests.conftest import SAMPLES
from tests.models.tiny_families import skyreels_v2

SORA_VFX = Path(sys.executable).with_name("sora-vfx")

FAMILY_MODULE = '''
"""A studio's family for SkyReels-V2's plain pipelines."""
from sora_vfx.models.families import FrameRule, SizeRule
from sora_vfx.models.families.wan import VIDEO_KINDS, WanFamily

PLAIN_SKYREELS = WanFamily(
    name="SkyReels-V2 plain", class_prefix="SkyReelsV2Pipeline", classes=("SkyReelsV2Pipeline",),
    kinds=VIDEO_KINDS, frames=FrameRule(max_frames=97, frame_multiple=4, frame_offset=1),
    size=SizeRule(size_multiple=16, default_size=(960, 544)),
    temporal_attribute="vae_scale_factor_temporal", spatial_attribute="vae_scale_factor_spatial",
    vae_dtype="float32")

NOT_A_FAMILY = 42
'''


def install(folder: Path, entry: str) -> dict[str, str]:
    """``studio_families`` installed into ``folder`` with one entry point; the environment that
    finds it."""
    folder.mkdir()
    (folder / "studio_families.py").write_text(textwrap.dedent(FAMILY_MODULE))
    info = folder / "studio_families-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: studio-families\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[sora_vfx.families]\n{entry}\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SORA_VFX), *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def plain_skyreels(tmp_path_factory) -> Path:
    from diffusers import SkyReelsV2Pipeline

    folder = tmp_path_factory.mktemp("studio") / "plain-skyreels"
    components = skyreels_v2._components(8.0)
    # The plain pipeline passes no frame rate: its transformer embeds none.
    transformer = components["transformer"]
    components["transformer"] = type(transformer).from_config({**transformer.config, "inject_sample_info": False})
    pipeline = SkyReelsV2Pipeline(**components)
    with quiet_progress_bars():
        pipeline.save_pretrained(folder, safe_serialization=True)
    (folder / SORA_VFX_JSON).write_text(json.dumps({"max_frames": 17, "default_size": [64, 32],
                                                    "default_steps": 2}))
    return folder


def test_without_the_package_the_pipeline_is_refused(plain_skyreels, tmp_path):
    result = run(dict(os.environ), "render", str(SAMPLES / "shapes_24fps.edl"), "--model", str(plain_skyreels),
                 "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "pipeline not supported: SkyReelsV2Pipeline; the SkyReels-V2 family renders shots with" in result.stderr


def test_a_family_from_an_entry_point_is_listed_and_renders_a_shot(plain_skyreels, tmp_path):
    env = install(tmp_path / "site", "plain = studio_families:PLAIN_SKYREELS")
    listed = run(env, "models", "--json")
    assert listed.returncode == 0, listed.stderr
    families = {family["name"]: family for family in json.loads(listed.stdout)["families"]}
    assert families["SkyReels-V2 plain"]["origin"] == "studio-families"
    assert families["SkyReels-V2 plain"]["pipelines"] == ["SkyReelsV2Pipeline"]
    out = tmp_path / "out"
    rendered = run(env, "render", str(SAMPLES / "shapes_24fps.edl"), "--model", str(plain_skyreels),
                   "--shots", "SHP_0010", "--handles", "0", "-o", str(out), "--no-review", "--json")
    assert rendered.returncode == 0, rendered.stderr
    assert len(list((out / "SHP_0010").glob("SHP_0010.*.exr"))) == 17


def test_an_entry_point_that_is_no_family_is_a_clear_error(tmp_path):
    env = install(tmp_path / "site", "broken = studio_families:NOT_A_FAMILY")
    result = run(env, "models")
    assert result.returncode == 2
    assert result.stderr.strip() == ("sora-vfx: error: entry point broken = studio_families:NOT_A_FAMILY "
                                     "(sora_vfx.families): gives a int, not a sora_vfx Family")
