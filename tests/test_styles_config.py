"""Styles, the project config (sora_vfx.toml) and LoRAs applied through a style."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.config import load_config
from sora_vfx.errors import ConfigError, StyleError
from sora_vfx.imaging import read_exr_header, read_exr_pixels
from sora_vfx.styles import BUILTIN_STYLES, Style, resolve_style


def test_style_templates_and_negatives():
    style = Style("dusk", "{prompt}, golden hour", "text, watermark")
    assert style.prompts("a pier", "people, text") == ("a pier, golden hour", "people, text, watermark")
    assert BUILTIN_STYLES["none"].prompts("a pier", "") == ("a pier", "")


def test_unknown_style_lists_the_known_ones():
    with pytest.raises(StyleError, match="unknown style 'gothic'; known styles: documentary, film, noir, none, previs"):
        resolve_style("gothic", BUILTIN_STYLES)


def write_config(folder: Path, text: str) -> Path:
    path = folder / "sora_vfx.toml"
    path.write_text(text)
    return path


def test_config_styles_resolve_paths_against_the_config(tmp_path):
    path = write_config(tmp_path, """
        [render]
        steps = 3
        [styles.dusk]
        prompt = "{prompt}, dusk"
        steps = 5
        guidance = 7.5
        loras = [{ path = "loras/look.safetensors", scale = 0.5 }]
        reference = "refs/look.png"
    """.replace("\n        ", "\n"))
    config = load_config(edit=tmp_path / "cut.edl")
    assert config.path == path and config.render == {"steps": 3}
    dusk = config.styles["dusk"]
    assert dusk.loras[0].path == str((tmp_path / "loras" / "look.safetensors").resolve())
    assert dusk.loras[0].scale == 0.5 and dusk.steps == 5 and dusk.guidance == 7.5
    assert dusk.reference == str((tmp_path / "refs" / "look.png").resolve())
    assert "film" in config.styles


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("[render]\nspeed = 2\n", ConfigError, r"\[render\] unknown key\(s\) speed"),
        ("[colours]\n", ConfigError, r"unknown table\(s\) colours; valid: render, review, styles"),
        ("[styles.x]\ncolour = 1\n", ConfigError, r"\[styles.x\] unknown key\(s\) colour"),
        ("[styles.x]\nsteps = 'many'\n", ConfigError, r"\[styles.x\] steps has to be a whole number, not 'many'"),
        ("[render\n", ConfigError, "not valid TOML"),
        ("render = 5\n", ConfigError, r"render has to be a table \(\[render\]\), not 5"),
        ("review = 'ab'\n", ConfigError, r"review has to be a table \(\[review\]\), not 'ab'"),
    ],
)
def test_bad_config(tmp_path, text, error, message):
    write_config(tmp_path, text)
    with pytest.raises(error, match=message):
        load_config(edit=tmp_path / "cut.edl")


def make_lora(tiny_model, path: Path) -> Path:
    """A small random LoRA for the tiny transformer, saved as diffusers saves LoRAs."""
    generator = torch.Generator().manual_seed(0)
    weights = {}
    for name, module in tiny_model.pipeline.transformer.named_modules():
        if name.endswith(("attn1.to_q", "attn1.to_v")) and isinstance(module, torch.nn.Linear):
            weights[f"transformer.{name}.lora_A.weight"] = torch.randn(4, module.in_features, generator=generator)
            weights[f"transformer.{name}.lora_B.weight"] = torch.randn(module.out_features, 4, generator=generator)
    path.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(weights, str(path))
    return path


EDL = """TITLE: styled
001  A001 V     C        10:00:00:00 10:00:00:06 01:00:00:00 01:00:00:06
* SHOT: STY_0010
* PROMPT: a pier at dusk
* STYLE: {style}
"""


def render_style(tmp_path, style: str, name: str):
    edl = tmp_path / f"{name}.edl"
    edl.write_text(EDL.format(style=style))
    result = CliRunner().invoke(main, ["render", str(edl), "-o", str(tmp_path / name), "--handles", "0",
                                       "--size", "32x32", "--json"])
    return result


def test_a_style_lora_changes_the_pictures_and_its_steps_apply(tmp_path, tiny_model):
    make_lora(tiny_model, tmp_path / "loras" / "look.safetensors")
    write_config(tmp_path, """
[styles.plain]
steps = 3
[styles.looked]
steps = 3
loras = [{ path = "loras/look.safetensors", scale = 1.0 }]
[styles.off]
steps = 3
loras = [{ path = "loras/look.safetensors", scale = 0.0 }]
""")
    for style in ("plain", "looked", "off"):
        result = render_style(tmp_path, style, style)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["shots"][0]["frames_written"] == 6
    frame = "STY_0010/STY_0010.1001.exr"
    plain, looked, off = (read_exr_pixels(tmp_path / s / frame) for s in ("plain", "looked", "off"))
    assert np.abs(plain - looked).mean() > 0.01
    assert np.array_equal(plain, off)
    header = read_exr_header(tmp_path / "looked" / frame)
    assert header["sora_vfx:steps"] == 3 and header["sora_vfx:style"] == "looked"
    assert header["sora_vfx:job_hash"] != read_exr_header(tmp_path / "off" / frame)["sora_vfx:job_hash"]


def test_pickle_and_missing_loras_are_refused(tmp_path):
    (tmp_path / "look.pt").write_bytes(b"pickle")
    write_config(tmp_path, '[styles.bad]\nloras = [{ path = "look.pt" }]\n'
                           '[styles.gone]\nloras = [{ path = "x.safetensors" }]\n')
    result = render_style(tmp_path, "bad", "bad")
    assert result.exit_code == 2 and "is not .safetensors; pickle weights are never loaded" in result.stderr
    result = render_style(tmp_path, "gone", "gone")
    assert result.exit_code == 2 and "x.safetensors not found" in result.stderr
