"""Project configuration: ``sora_vfx.toml`` (styles and render defaults) and the environment.

Looked up in this order: ``--config``, ``$SORA_VFX_CONFIG``, ``sora_vfx.toml`` beside the edit,
``sora_vfx.toml`` in the current folder. Every key is optional. The ``[render]`` keys are the
render settings that ``settings.RENDER_SETTINGS`` declares (``sora-vfx render --help`` explains
each); an option given on the command line wins over the config.

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
view = "ACES 2.0 - SDR 100 nits (Rec.709)"
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
from .settings import MAX_GUIDANCE, MAX_STEPS, RENDER_SETTINGS, Setting, check_value
from .styles import BUILTIN_STYLES, Style, styles_from_config

CONFIG_NAME = "sora_vfx.toml"


@dataclass(frozen=True)
class _Rule:
    """What one config value may be: its kind (``settings.check_value``) and, for numbers, its range."""

    kind: str
    low: float | None = None
    high: float | None = None

    def problem(self, value: Any) -> str | None:
        return check_value(value, kind=self.kind, low=self.low, high=self.high)


#: ``[render]``: the render settings a config may set, as ``settings.RENDER_SETTINGS`` declares them.
_RENDER_RULES = {setting.name: setting for setting in RENDER_SETTINGS if setting.config}
_REVIEW_RULES = {
    "certificate": _Rule("text"), "key": _Rule("text"), "ai_mark": _Rule("boolean"), "display": _Rule("text"),
    "view": _Rule("text"), "trust_anchors": _Rule("text"), "prores": _Rule("boolean"),
}
_STYLE_RULES = {
    "prompt": _Rule("text"), "negative_prompt": _Rule("text"), "steps": _Rule("integer", 1, MAX_STEPS),
    "guidance": _Rule("number", 0, MAX_GUIDANCE), "reference": _Rule("text"),
}
_LORA_RULES = {"path": _Rule("text"), "scale": _Rule("number", -100, 100)}


def _check_table(table: dict[str, Any], rules: dict[str, _Rule | Setting], where: str, problems: list[str]) -> None:
    unknown = sorted(set(table) - set(rules))
    if unknown:
        problems.append(f"{where} unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(rules))}")
    for key, rule in rules.items():
        if key in table:
            problem = rule.problem(table[key])
            if problem:
                problems.append(f"{where} {key} {problem}")


def config_problems(data: dict[str, Any]) -> list[str]:
    """Every problem of a parsed ``sora_vfx.toml``, each naming its table and key."""
    problems: list[str] = []
    unknown = sorted(set(data) - {"render", "review", "styles"})
    if unknown:
        problems.append(f"unknown table(s) {', '.join(unknown)}; valid: render, review, styles")
    tables = {}
    for name in ("render", "review", "styles"):
        tables[name] = data.get(name, {})
        if not isinstance(tables[name], dict):
            problems.append(f"{name} has to be a table ([{name}]), not {tables[name]!r}")
            tables[name] = {}
    _check_table(tables["render"], _RENDER_RULES, "[render]", problems)
    _check_table(tables["review"], _REVIEW_RULES, "[review]", problems)
    for style, entry in tables["styles"].items():
        where = f"[styles.{style}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} has to be a table, not {entry!r}")
            continue
        _check_table({k: v for k, v in entry.items() if k != "loras"}, _STYLE_RULES, where, problems)
        loras = entry.get("loras", [])
        if not isinstance(loras, list):
            problems.append(f"{where} loras has to be a list of tables, not {loras!r}")
            continue
        for number, lora in enumerate(loras, start=1):
            if not isinstance(lora, dict) or "path" not in lora:
                problems.append(f"{where} loras[{number}] has to be a table with 'path' and optional 'scale', "
                                f"not {lora!r}")
                continue
            _check_table(lora, _LORA_RULES, f"{where} loras[{number}]", problems)
    return problems


@dataclass
class ProjectConfig:
    path: Path | None = None
    render: dict[str, Any] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)
    styles: dict[str, Style] = field(default_factory=lambda: dict(BUILTIN_STYLES))


#: The largest frame ``render`` makes unless ``$SORA_VFX_MAX_PIXELS`` allows more: 8K UHD.
MAX_RENDER_PIXELS = 7680 * 4320


def max_render_pixels() -> int:
    """``$SORA_VFX_MAX_PIXELS`` (a whole number of pixels a frame may have) or the default.

    Raises:
        ConfigError: the variable is set but not a positive whole number.
    """
    text = os.environ.get("SORA_VFX_MAX_PIXELS", "").strip()
    if not text:
        return MAX_RENDER_PIXELS
    if not text.isdigit() or int(text) <= 0:
        raise ConfigError(f"$SORA_VFX_MAX_PIXELS has to be a positive whole number of pixels, not {text!r}")
    return int(text)


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

    The whole file is checked against one schema (tables, keys, value types and ranges) and
    every problem is reported at once, each with its table and key: a typo never falls back to
    a default, and a wrong type never surfaces later, after a model has loaded. What only the
    user of a value can check (a model name, a colour space) is checked there.

    Returns:
        The config; an empty one with the built-in styles when no file is found.
    Raises:
        ConfigError: a named file is missing, or the file is unreadable, not TOML, or breaks
            the schema (unknown tables or keys, wrong value types, values out of range).
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
    problems = config_problems(data)
    if problems:
        listed = "; ".join(problems)
        raise ConfigError(f"{path}: {len(problems)} problem(s): {listed}")
    render, review = data.get("render", {}), data.get("review", {})
    return ProjectConfig(path=path, render=render, review=review,
                         styles=styles_from_config(data.get("styles", {}), config_path=path))
