"""Project configuration: ``sora_vfx.toml`` (styles and render defaults) and the environment.

Looked up in this order: ``--config``, ``$SORA_VFX_CONFIG``, ``sora_vfx.toml`` beside the edit,
``sora_vfx.toml`` in the current folder. Every key is optional.

```toml
[render]
model = "tiny"          # or a diffusers pipeline folder
size = "64x32"
steps = 4
guidance = 5.0
colorspace = "ACEScg"
compression = "zip"

[styles.mylook]
prompt = "{prompt}, moody, anamorphic"
negative_prompt = "text"
steps = 30
guidance = 6.0
loras = [{ path = "loras/look.safetensors", scale = 0.8 }]
reference = "refs/look.png"

[review]                # dailies page and preview movies (sora-vfx review)
certificate = "keys/c2pa_chain.pem"   # PEM chain: signing certificate first, then intermediates
key = "keys/c2pa_key.pem"             # its private key (unencrypted PEM)
ai_mark = true          # burn a visible "AI GENERATED" mark into preview movies
display = "sRGB - Display"            # OCIO display and view for thumbnails and movies
view = "ACES 1.0 - SDR Video"
trust_anchors = "keys/ca.pem"         # root certificates that `sora-vfx verify` trusts
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .styles import BUILTIN_STYLES, Style, styles_from_config

CONFIG_NAME = "sora_vfx.toml"
_RENDER_KEYS = {"model", "size", "steps", "guidance", "colorspace", "compression", "seed", "device"}
_REVIEW_KEYS = {"certificate", "key", "ai_mark", "display", "view", "trust_anchors"}


@dataclass
class ProjectConfig:
    path: Path | None = None
    render: dict[str, Any] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)
    styles: dict[str, Style] = field(default_factory=lambda: dict(BUILTIN_STYLES))


def cache_dir() -> Path:
    """Where built-in models are saved: ``$SORA_VFX_CACHE`` or ``~/.cache/sora_vfx``."""
    return Path(os.environ.get("SORA_VFX_CACHE") or Path.home() / ".cache" / "sora_vfx")


def find_config(explicit: Path | None = None, *, edit: Path | None = None) -> Path | None:
    """The project config file to use, in the order the module docstring gives.

    Args:
        explicit: a ``--config`` path; it must exist.
        edit: the edit file; a ``sora_vfx.toml`` beside it comes before the current folder's.
    Returns:
        The config path, or None when there is none (every setting then takes its default).
    Raises:
        ConfigError: ``explicit`` or ``$SORA_VFX_CONFIG`` names something that is not a file.
    """
    if explicit is not None:
        if not Path(explicit).is_file():
            raise ConfigError(f"{explicit}: no such config file")
        return Path(explicit)
    env = os.environ.get("SORA_VFX_CONFIG")
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"$SORA_VFX_CONFIG names {env}, which is not a file")
        return Path(env)
    for folder in ([Path(edit).parent] if edit else []) + [Path.cwd()]:
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: Path | None = None, *, edit: Path | None = None) -> ProjectConfig:
    """Find (see :func:`find_config`) and read the project config.

    Unknown tables and keys are refused so that a typo does not silently fall back to a
    default. Styles are parsed here; ``[render]`` and ``[review]`` values are checked later, by
    whoever uses them.

    Returns:
        The config; an empty one with the built-in styles when no file is found.
    Raises:
        ConfigError: a named file is missing, or the file is unreadable, not TOML, or has
            unknown tables or ``[render]``/``[review]`` keys.
        StyleError: a bad ``[styles.NAME]`` table.
    """
    path = find_config(explicit, edit=edit)
    if path is None:
        return ProjectConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"render", "review", "styles"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; valid: render, review, styles")
    for table in ("render", "review", "styles"):
        if not isinstance(data.get(table, {}), dict):
            raise ConfigError(f"{path}: {table} has to be a table ([{table}]), not {data[table]!r}")
    render = data.get("render", {})
    bad = set(render) - _RENDER_KEYS
    if bad:
        raise ConfigError(f"{path}: [render] unknown key(s) {', '.join(sorted(bad))}; "
                          f"valid: {', '.join(sorted(_RENDER_KEYS))}")
    review = data.get("review", {})
    bad = set(review) - _REVIEW_KEYS
    if bad:
        raise ConfigError(f"{path}: [review] unknown key(s) {', '.join(sorted(bad))}; "
                          f"valid: {', '.join(sorted(_REVIEW_KEYS))}")
    return ProjectConfig(path=path, render=render, review=review,
                         styles=styles_from_config(data.get("styles", {}), config_path=path))
