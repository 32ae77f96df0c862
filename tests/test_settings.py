"""Each render setting is declared once (``settings.RENDER_SETTINGS``): the options of ``render``
and ``farm export``, the ``[render]`` table of ``sora_vfx.toml``, ``RenderSettings``, the
manifest and the options of every farm task come from that one list and agree with it."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.cli.render import settings_from_options, settings_options
from sora_vfx.errors import ConfigError
from sora_vfx.models.acceleration import Acceleration
from sora_vfx.render import RenderSettings
from sora_vfx.settings import RENDER_SETTINGS
from tests.conftest import SAMPLES

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"
EDL = SAMPLES / "sequence_24fps.edl"

#: A valid value other than the default for each setting, as a user types it and as TOML holds it.
SAMPLE = {
    "model": ("shapes", "shapes"), "shots": ("SH010", None), "size": ("64x32", "64x32"), "steps": ("3", 3),
    "guidance": ("4.5", 4.5), "style": ("noir", "noir"), "colorspace": ("lin_rec709", "lin_rec709"),
    "compression": ("piz", "piz"), "max_window": ("9", 9), "windows": ("crossfade", "crossfade"),
    "output_transform": ("srgb", "srgb"), "display": ("sRGB - Display", "sRGB - Display"),
    "view": ("ACES 2.0 - SDR 100 nits (Rec.709)", "ACES 2.0 - SDR 100 nits (Rec.709)"),
    "device": ("cuda", "cuda"), "memory": ("low", "low"), "cache": ("taylorseer:3", "taylorseer:3"),
    "attention": ("native", "native"), "compile": (None, True), "quantize": ("int8", "int8"),
    "conform": ("xml", "xml"), "audio": (None, False), "reference_render": (None, None),
}


def parsed(args: list[str], config: Path | None = None) -> RenderSettings:
    """``RenderSettings`` as ``render`` makes them from these options."""
    found = {}

    @click.command()
    @settings_options
    def command(**options):
        found["settings"] = settings_from_options(options, EDL)

    result = CliRunner().invoke(command, [*args, *(["--config", str(config)] if config else [])],
                                standalone_mode=False, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return found["settings"]


def test_every_setting_is_declared_once_and_known_everywhere():
    names = [setting.name for setting in RENDER_SETTINGS]
    assert len(names) == len(set(names)) and set(names) == set(SAMPLE)
    fields = {field.name for field in dataclasses.fields(RenderSettings)}
    speed = {field.name for field in dataclasses.fields(Acceleration)}
    for setting in RENDER_SETTINGS:
        assert setting.name in (speed if setting.speed else fields), setting.name
    for command in (["render", "--help"], ["farm", "export", "--help"]):
        text = CliRunner().invoke(main, command, terminal_width=200).output
        for setting in RENDER_SETTINGS:
            assert f"{setting.flag} " in text, (command, setting.flag)
    manifest = json.loads((SCHEMAS / "manifest.schema.json").read_text())["$defs"]["renderSettings"]["properties"]
    assert set(RenderSettings().summary()) == set(manifest)


def test_the_option_and_the_config_key_give_the_same_setting(tmp_path):
    for setting in RENDER_SETTINGS:
        typed, stored = SAMPLE[setting.name]
        if typed is None and setting.kind != "boolean":
            continue
        flag = [setting.flag] if setting.kind == "boolean" else [f"{setting.flag}={typed}"]
        from_option = parsed(flag)
        assert from_option != RenderSettings(), f"{setting.flag} changed nothing"
        if setting.config:
            config = tmp_path / f"{setting.name}.toml"
            config.write_text(f"[render]\n{setting.name} = {json.dumps(stored)}\n")
            assert parsed([], config) == from_option, setting.name
    # An option wins over the config.
    config = tmp_path / "both.toml"
    config.write_text('[render]\nsteps = 7\nwindows = "continue"\n')
    both = parsed(["--steps=3"], config)
    assert (both.steps, both.windows) == (3, "continue")


@pytest.mark.parametrize("setting", [s for s in RENDER_SETTINGS if s.config and s.kind != "text"],
                         ids=lambda setting: setting.name)
def test_the_config_refuses_a_wrong_value_by_its_key(tmp_path, setting):
    config = tmp_path / "sora_vfx.toml"
    wrong = '"x"' if setting.kind in ("integer", "number", "boolean") else ("5" if setting.kind != "size" else '"big"')
    config.write_text(f"[render]\n{setting.name} = {wrong}\n")
    with pytest.raises(ConfigError, match=rf"\[render\] {setting.name} has to be"):
        parsed([], config)


def test_every_fixed_setting_reaches_the_farm_tasks_as_its_option(tmp_path):
    """A farm export from this CPU machine may target CUDA nodes: the device is checked where
    the model loads, on the node."""
    args = []
    for setting in RENDER_SETTINGS:
        typed, _ = SAMPLE[setting.name]
        if setting.farm and setting.kind == "boolean":
            args.append(setting.flag)
        elif setting.farm and typed is not None:
            args.append(f"{setting.flag}={typed}")
    reference = tmp_path / "sdr"
    result = CliRunner().invoke(main, ["farm", "export", str(EDL), "--handles", "1", "-o", str(tmp_path / "bundle"),
                                       "--render-out", str(tmp_path / "out"), "--reference-render", str(reference),
                                       *args])
    assert result.exit_code == 0, result.output
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text())
    task = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    for setting in RENDER_SETTINGS:
        typed, _ = SAMPLE[setting.name]
        if setting.farm == "fixed" and setting.kind == "boolean":
            assert setting.flag in task
        elif setting.farm == "fixed" and setting.kind != "path":
            assert f"{setting.flag}={typed}" in task, setting.flag
        elif setting.farm == "parameter":
            assert f"{setting.flag}={{{{Param.{setting.name.capitalize()}}}}}" in task
    assert f"--reference-render={reference}" in task
    # The task's options, read back by render, give the settings the export chose.
    fixed = [arg for arg in task if "{{" not in arg and arg.startswith("--") and arg not in ("--out", "--shots")
             and not arg.startswith(("--handles=", "--start-frame=", "--no-review"))]
    parameters = [f"{s.flag}={SAMPLE[s.name][0]}" for s in RENDER_SETTINGS if s.farm == "parameter"]
    assert parsed(fixed + parameters) == parsed(args + [f"--reference-render={reference}"])


def test_a_config_key_that_no_setting_reads_is_refused(tmp_path):
    # [render] seed was once accepted and never read: the project seed is the edit's --seed.
    config = tmp_path / "sora_vfx.toml"
    config.write_text("[render]\nseed = 5\n")
    with pytest.raises(ConfigError, match=r"\[render\] unknown key\(s\) seed; valid: attention, audio"):
        parsed([], config)


@pytest.mark.parametrize(("cores", "threads"), [(1, 2), (2, 2), (4, 4), (16, 8), (128, 8)])
def test_frames_are_converted_and_written_on_a_thread_for_each_core(monkeypatch, cores, threads):
    # The inverse view transform takes about a quarter of a second a 480p frame on one core:
    # a GPU machine's cores convert a shot's 81 frames while the bare pipeline would be done.
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    assert RenderSettings().writer_threads == threads
