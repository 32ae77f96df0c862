"""The [review] table of sora_vfx.toml and its options."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_vfx.config import load_config
from sora_vfx.errors import ConfigError, ReviewError
from sora_vfx.review import review_settings


def settings_from(tmp_path: Path, text: str, **options):
    path = tmp_path / "sora_vfx.toml"
    path.write_text(text)
    return review_settings(load_config(path), **options)


def test_defaults(tmp_path):
    settings = settings_from(tmp_path, "")
    assert (settings.certificate, settings.key, settings.ai_mark, settings.display, settings.view) == \
        (None, None, True, None, None)
    assert not settings.signs


def test_paths_are_relative_to_the_config_and_options_win(tmp_path):
    settings = settings_from(tmp_path, '[review]\ncertificate = "keys/c.pem"\nkey = "keys/k.pem"\nai_mark = false\n'
                                       'trust_anchors = "/abs/root.pem"\nview = "Un-tone-mapped"\n')
    assert settings.certificate == tmp_path / "keys" / "c.pem" and settings.key == tmp_path / "keys" / "k.pem"
    assert settings.trust_anchors == Path("/abs/root.pem")
    assert settings.ai_mark is False and settings.view == "Un-tone-mapped"
    given = settings_from(tmp_path, '[review]\nai_mark = false\n', ai_mark=True, certificate=Path("c"), key=Path("k"))
    assert given.ai_mark is True and given.certificate == Path("c")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("[review]\nwatermark = true\n", ConfigError,
         r"\[review\] unknown key\(s\) watermark; valid: ai_mark, certificate, display, key, prores, "
         r"trust_anchors, view"),
        ('[review]\nai_mark = "yes"\n', ConfigError, r"\[review\] ai_mark has to be true or false, not 'yes'"),
        ("[review]\ncertificate = 3\nkey = \"k\"\n", ConfigError, r"\[review\] certificate has to be a string, not 3"),
        ('[review]\nkey = "k.pem"\n', ReviewError, r"signing needs both a certificate and its key"),
    ],
)
def test_bad_review_table(tmp_path, text, error, message):
    with pytest.raises(error, match=message):
        settings_from(tmp_path, text)
