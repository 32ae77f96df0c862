"""``$SORA_VFX_DEBUG`` asks for tracebacks; "0", "false" or empty leave them off."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_debug_off_values_keep_one_line_errors(tmp_path, value):
    result = CliRunner().invoke(main, ["shots", str(tmp_path / "missing.edl")], env={"SORA_VFX_DEBUG": value})
    assert result.exit_code == 2
    assert result.stderr.strip() == f"sora-vfx: error: {tmp_path / 'missing.edl'}: no such edit file"


def test_debug_on_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(main, ["shots", str(tmp_path / "missing.edl")], env={"SORA_VFX_DEBUG": "1"})
    assert result.exit_code == 2  # the error's own exit code, traceback or not
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.rstrip().endswith(f"EditError: {tmp_path / 'missing.edl'}: no such edit file")
