"""Styles: a look shared across shots, turned into pipeline arguments.

A style has a prompt template (``{prompt}`` is the shot's prompt), a negative prompt, optional
steps and guidance, LoRA files with scales and a reference image (first-frame conditioning for
image-to-video models). Built-in styles are below; ``sora_vfx.toml`` adds or replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StyleError


@dataclass(frozen=True)
class Lora:
    path: str
    scale: float = 1.0


@dataclass(frozen=True)
class Style:
    name: str
    prompt: str = "{prompt}"
    negative_prompt: str = ""
    steps: int | None = None
    guidance: float | None = None
    loras: tuple[Lora, ...] = ()
    reference: str | None = None

    def prompts(self, prompt: str, negative_prompt: str) -> tuple[str, str]:
        """The shot's prompt and negative prompt inside this style's templates."""
        text = self.prompt.replace("{prompt}", prompt).strip(" ,")
        negatives: list[str] = []
        for part in f"{negative_prompt},{self.negative_prompt}".split(","):
            if part.strip() and part.strip() not in negatives:
                negatives.append(part.strip())
        return text, ", ".join(negatives)


BUILTIN_STYLES: dict[str, Style] = {
    style.name: style
    for style in (
        Style("none"),
        Style(
            "film",
            "{prompt}, shot on 35mm film, natural light, soft film grain, shallow depth of field",
            "cartoon, cgi, oversaturated, text, watermark",
        ),
        Style(
            "noir",
            "{prompt}, black and white film noir, hard low-key light, deep shadows",
            "colour, bright, flat lighting, text, watermark",
        ),
        Style(
            "documentary",
            "{prompt}, handheld documentary footage, available light, realistic",
            "cgi, stylised, text, watermark",
        ),
        Style(
            "previs",
            "{prompt}, simple untextured previs render, grey shading, clear silhouettes",
            "photorealistic, text, watermark",
        ),
    )
}

_STYLE_KEYS = {"prompt", "negative_prompt", "steps", "guidance", "loras", "reference"}


def styles_from_config(table: dict[str, Any], *, config_path: Path) -> dict[str, Style]:
    """Parse ``[styles.NAME]`` tables; relative paths are relative to the config file."""
    styles = dict(BUILTIN_STYLES)
    for name, entry in table.items():
        where = f"{config_path}: [styles.{name}]"
        if not isinstance(entry, dict):
            raise StyleError(f"{where} must be a table")
        unknown = set(entry) - _STYLE_KEYS
        if unknown:
            raise StyleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; valid: "
                             f"{', '.join(sorted(_STYLE_KEYS))}")
        loras = []
        for item in entry.get("loras", []):
            if not isinstance(item, dict) or "path" not in item:
                raise StyleError(f"{where}: each LoRA is a table with 'path' and optional 'scale'")
            loras.append(Lora(str((config_path.parent / item["path"]).resolve()), float(item.get("scale", 1.0))))
        reference = entry.get("reference")
        try:
            styles[name] = Style(
                name=name,
                prompt=str(entry.get("prompt", "{prompt}")),
                negative_prompt=str(entry.get("negative_prompt", "")),
                steps=int(entry["steps"]) if "steps" in entry else None,
                guidance=float(entry["guidance"]) if "guidance" in entry else None,
                loras=tuple(loras),
                reference=str((config_path.parent / reference).resolve()) if reference else None,
            )
        except (TypeError, ValueError) as exc:
            raise StyleError(f"{where}: {exc}") from None
    return styles


def resolve_style(name: str | None, styles: dict[str, Style]) -> Style:
    """The style called ``name`` (``none`` when not given); unknown names list the known ones."""
    if not name:
        return styles.get("none", BUILTIN_STYLES["none"])
    try:
        return styles[name]
    except KeyError:
        raise StyleError(f"unknown style {name!r}; known styles: {', '.join(sorted(styles))}") from None
