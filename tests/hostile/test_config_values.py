"""Wrong value types and ranges anywhere in ``sora_vfx.toml`` are reported at once, each with
its table and key, before any model loads: exit 2, no internal error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.config import load_config
from sora_vfx.errors import ConfigError
from tests.conftest import SAMPLES

BAD = """
[render]
size = 64
model = 5
steps = "abc"
guidance = "x"
compression = 5

[styles.look]
steps = -5
loras = [{ path = 5, scale = "abc" }]

[styles.long]
steps = 1000000000000
guidance = nan
"""

EXPECTED = [
    '[render] size has to be a string like "832x480", not 64',
    "[render] model has to be a string, not 5",
    "[render] steps has to be a whole number, not 'abc'",
    "[render] guidance has to be a finite number, not 'x'",
    "[render] compression has to be a string, not 5",
    "[styles.look] steps has to be from 1 to 1000, not -5",
    "[styles.look] loras[1] path has to be a string, not 5",
    "[styles.look] loras[1] scale has to be a finite number, not 'abc'",
    "[styles.long] steps has to be from 1 to 1000, not 1000000000000",
    "[styles.long] guidance has to be a finite number, not nan",
]


def test_every_problem_is_reported_at_once_with_its_key(tmp_path):
    config = tmp_path / "sora_vfx.toml"
    config.write_text(BAD)
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    message = str(raised.value)
    assert message.startswith(f"{config}: {len(EXPECTED)} problem(s): ")
    for problem in EXPECTED:
        assert problem in message


@pytest.mark.parametrize("body", ["render = 5\n", "styles = 5\n", "[styles]\nlook = 5\n",
                                  "[styles.look]\nloras = 5\n", "[styles.look]\nloras = [5]\n",
                                  "[review]\nai_mark = 'yes'\n", '[render]\nsize = "big"\n'])
def test_render_refuses_a_bad_config_before_loading_a_model(tmp_path, body):
    config = tmp_path / "sora_vfx.toml"
    config.write_text(body)
    result = CliRunner().invoke(main, ["render", str(SAMPLES / "sequence_24fps.edl"), "-o", str(tmp_path / "out"),
                                       "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"{config}: 1 problem(s): " in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "out").exists()
