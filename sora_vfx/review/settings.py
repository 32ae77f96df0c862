"""Review settings: the ``[review]`` table of ``sora_vfx.toml`` with command-line options on top.

Paths in the config are relative to the config file's folder; paths given as options are
relative to the current folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ProjectConfig
from ..errors import ReviewError


@dataclass(frozen=True)
class ReviewSettings:
    """How to build a review: signing identity, the burnt-in mark and the OCIO display/view.

    ``display`` and ``view`` None mean the OCIO config's default display and its default view
    (``sRGB - Display`` / ``ACES 2.0 - SDR 100 nits (Rec.709)`` in the pinned config).
    """

    certificate: Path | None = None
    key: Path | None = None
    ai_mark: bool = True
    display: str | None = None
    view: str | None = None
    trust_anchors: Path | None = None
    #: Also write a ProRes 422 HQ daily of each shot (``review --prores``, ``[review] prores``).
    prores: bool = False

    @property
    def signs(self) -> bool:
        return self.certificate is not None


def review_settings(
    config: ProjectConfig,
    *,
    certificate: Path | None = None,
    key: Path | None = None,
    ai_mark: bool | None = None,
    display: str | None = None,
    view: str | None = None,
    trust_anchors: Path | None = None,
    prores: bool | None = None,
) -> ReviewSettings:
    """Merge the config's ``[review]`` table with options (options win).

    Raises:
        ReviewError: a value of the wrong type, or a certificate without its key (or the reverse).
    """
    table = config.review
    where = f"{config.path}: [review]" if config.path else "[review]"

    def path_of(name: str, given: Path | None) -> Path | None:
        if given is not None:
            return Path(given)
        value = table.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ReviewError(f"{where} {name} = {value!r}: expected a file path")
        path = Path(value).expanduser()
        return path if path.is_absolute() or config.path is None else config.path.parent / path

    def text_of(name: str, given: str | None) -> str | None:
        value: Any = given if given is not None else table.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ReviewError(f"{where} {name} = {value!r}: expected a name")
        return value

    mark = ai_mark if ai_mark is not None else table.get("ai_mark", True)
    if not isinstance(mark, bool):
        raise ReviewError(f"{where} ai_mark = {mark!r}: expected true or false")
    dailies = prores if prores is not None else table.get("prores", False)
    if not isinstance(dailies, bool):
        raise ReviewError(f"{where} prores = {dailies!r}: expected true or false")
    cert, private_key = path_of("certificate", certificate), path_of("key", key)
    if (cert is None) != (private_key is None):
        missing, given = ("key", cert) if private_key is None else ("certificate", private_key)
        raise ReviewError(f"signing needs both a certificate and its key; {given} was given but no {missing} "
                          "(--certificate and --key, or [review] certificate and key in sora_vfx.toml)")
    return ReviewSettings(
        certificate=cert,
        key=private_key,
        ai_mark=mark,
        display=text_of("display", display),
        view=text_of("view", view),
        trust_anchors=path_of("trust_anchors", trust_anchors),
        prores=dailies,
    )
