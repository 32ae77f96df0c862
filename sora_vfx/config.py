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
view = "ACES 2.0 - SDR 100 nits (Rec.709)"
trust_anchors = "keys/ca.pem"         # root certificates that `sora-vfx verify` trusts
```
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .styles import BUILTIN_STYLES, Style, styles_from_config

CONFIG_NAME = "sora_vfx.toml"
#: The most denoising steps a config or style may ask for.
MAX_STEPS = 1000
#: The largest guidance scale a config or style may ask for.
MAX_GUIDANCE = 100.0


@dataclass(frozen=True)
class _Rule:
    """What one config value may be: its TOML type and, for numbers, its range."""

    kind: str  # "string", "boolean", "integer", "number" or "size"
    low: float | None = None
    high: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks the rule, or None."""
        if self.kind in ("string", "size"):
            ok = isinstance(value, str)
        elif self.kind == "boolean":
            ok = isinstance(value, bool)
        elif self.kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok:
            wanted = {"size": 'a string like "832x480"', "integer": "a whole number", "number": "a finite number",
                      "boolean": "true or false"}.get(self.kind, "a string")
            return f"has to be {wanted}, not {value!r}"
        if self.kind == "size" and not re.fullmatch(r"\s*\d+\s*[xX]\s*\d+\s*", value):
            return f'has to be WIDTHxHEIGHT like "832x480", not {value!r}'
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            return f"has to be from {self.low:g} to {self.high:g}, not {value!r}"
        return None


_RENDER_RULES = {
    "model": _Rule("string"), "size": _Rule("size"), "steps": _Rule("integer", 1, MAX_STEPS),
    "guidance": _Rule("number", 0, MAX_GUIDANCE), "colorspace": _Rule("string"), "compression": _Rule("string"),
    "seed": _Rule("integer", 0, 2**63 - 1), "device": _Rule("string"), "windows": _Rule("string"),
    "output_transform": _Rule("string"), "display": _Rule("string"), "view": _Rule("string"),
    "memory": _Rule("string"), "cache": _Rule("string"), "attention": _Rule("string"), "compile": _Rule("boolean"),
    "quantize": _Rule("string"),
}
_REVIEW_RULES = {
    "certificate": _Rule("string"), "key": _Rule("string"), "ai_mark": _Rule("boolean"), "display": _Rule("string"),
    "view": _Rule("string"), "trust_anchors": _Rule("string"), "prores": _Rule("boolean"),
}
_STYLE_RULES = {
    "prompt": _Rule("string"), "negative_prompt": _Rule("string"), "steps": _Rule("integer", 1, MAX_STEPS),
    "guidance": _Rule("number", 0, MAX_GUIDANCE), "reference": _Rule("string"),
}
_LORA_RULES = {"path": _Rule("string"), "scale": _Rule("number", -100, 100)}


def _check_table(table: dict[str, Any], rules: dict[str, _Rule], where: str, problems: list[str]) -> None:
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
