"""Model folders with null components and absurd frame sizes fail before any weights load."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.models.folders import SHAPES_DIR
from tests.conftest import SAMPLES

EDL = SAMPLES / "sequence_24fps.edl"


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.mark.parametrize(("component", "named"), [("transformer", "transformer or transformer_2"), ("vae", "vae"),
                                                  ("text_encoder", "text_encoder")])
def test_a_component_given_as_null_is_named(tmp_path, component, named):
    folder = tmp_path / "model"
    shutil.copytree(SHAPES_DIR / "t2v", folder)
    index = json.loads((folder / "model_index.json").read_text())
    index[component] = [None, None]
    (folder / "model_index.json").write_text(json.dumps(index))
    result = run("render", EDL, "-o", tmp_path / "out", "--model", folder, "--steps", "1")
    assert result.exit_code == 2, result.output
    assert f"{folder / 'model_index.json'}: WanPipeline needs {named}, which the folder gives as null" in result.stderr


def test_a_frame_size_past_the_limit_is_refused_before_the_model_loads(tmp_path):
    result = run("render", EDL, "-o", tmp_path / "out", "--size", "100000x100000", "--model", tmp_path / "absent")
    assert result.exit_code == 2
    assert "size 100000x100000 is 10000.0 megapixels a frame, more than the 33.2 allowed" in result.stderr
    # The limit moves with the environment; then the (missing) model is what fails.
    result = run("render", EDL, "-o", tmp_path / "out", "--size", "100000x100000", "--model", tmp_path / "absent",
                 env={"SORA_VFX_MAX_PIXELS": str(10**10)})
    assert result.exit_code == 2 and "model folder not found" in result.stderr
