"""A command whose optional library is not installed says which extra installs it (exit 2),
instead of an internal error, and writes nothing."""

import sys

import pytest
from click.testing import CliRunner

from sora_vfx.cli.main import main
from tests.conftest import SAMPLES


@pytest.mark.parametrize("module", ["openjd", "openjd.model"])
def test_farm_export_without_the_farm_extra_names_it(tmp_path, monkeypatch, module):
    # `import openjd.model` now fails as when absent, whatever an earlier test imported.
    for name in [module, *(name for name in sys.modules if name.startswith(f"{module}."))]:
        monkeypatch.setitem(sys.modules, name, None)
    bundle = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["farm", "export", str(SAMPLES / "sequence_24fps.edl"), "--model", "tiny",
                                       "-o", str(bundle)])
    assert result.exit_code == 2, result.output
    assert "needs openjd" in result.stderr and "pip install 'sora_vfx[farm]'" in result.stderr
    assert "internal error" not in result.stderr
    assert not bundle.exists() or not any(bundle.iterdir())


def test_a_missing_library_no_extra_installs_is_still_a_bug(monkeypatch):
    from sora_vfx.cli.main import _extra_missing

    assert _extra_missing(ModuleNotFoundError("x", name="numpy")) is None
    assert _extra_missing(ModuleNotFoundError("x", name="distributed.client")) == "farm"
    assert _extra_missing(ValueError("x")) is None
