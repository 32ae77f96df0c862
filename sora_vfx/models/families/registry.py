"""The registered families: the built-in ones and those a studio adds through an entry point.

A package adds a family by naming a ``Family`` (or a function returning one) in the
``sora_vfx.families`` entry point group, the way OTIO finds adapters through its plugin
manifest::

    [project.entry-points."sora_vfx.families"]
    my_model = "my_studio.sora:MY_FAMILY"

A family from outside is tried after the built-in ones and may not reuse a built-in name.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import cache
from importlib.metadata import entry_points
from typing import Literal

from sora_vfx.errors import ModelError
from sora_vfx.models.families.animatediff import ANIMATEDIFF
from sora_vfx.models.families.base import Family, Kind
from sora_vfx.models.families.cogvideox import COGVIDEOX
from sora_vfx.models.families.hunyuan_video15 import HUNYUAN_VIDEO_15
from sora_vfx.models.families.image_inpainting import IMAGE_INPAINTING
from sora_vfx.models.families.ltx2 import LTX_2
from sora_vfx.models.families.ltx_video import LTX_VIDEO
from sora_vfx.models.families.skyreels_v2 import SKYREELS_V2
from sora_vfx.models.families.wan import WAN

log = logging.getLogger("sora_vfx")

ENTRY_POINT_GROUP = "sora_vfx.families"
#: What a model fills under a mask (``mask_filling``).
MaskFilling = Literal["shot", "picture"]
#: The families that ship with sora_vfx, video families first, in the order errors list them.
BUILTIN_FAMILIES: tuple[Family, ...] = (
    WAN, LTX_2, LTX_VIDEO, HUNYUAN_VIDEO_15, SKYREELS_V2, COGVIDEOX, ANIMATEDIFF, IMAGE_INPAINTING,
)


@cache
def families() -> tuple[Family, ...]:
    """Every registered family: the built-in ones, then those of installed entry points.

    Raises:
        ModelError: an entry point that fails to load, is not a ``Family`` or reuses a name.
    """
    found = list(BUILTIN_FAMILIES)
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP})"
        try:
            family = entry.load()
            if callable(family) and not isinstance(family, Family):
                family = family()
        except Exception as exc:  # a studio's package may raise anything while importing
            raise ModelError(f"{where}: cannot load it: {type(exc).__name__}: {exc}") from exc
        if not isinstance(family, Family):
            raise ModelError(f"{where}: gives a {type(family).__name__}, not a sora_vfx Family")
        if any(known.name == family.name for known in found):
            raise ModelError(f"{where}: a family named {family.name!r} is already registered")
        distribution = getattr(entry.dist, "name", None) or entry.value.split(":")[0]
        found.append(_with_origin(family, distribution))
        log.debug("model family %s from %s", family.name, where)
    return tuple(found)


def video_families() -> tuple[Family, ...]:
    """The registered families that render shots (those with a frame rule)."""
    return tuple(family for family in families() if family.frames is not None)


def image_families() -> tuple[Family, ...]:
    """The registered families of single pictures (no frame rule): they extend plates frame by frame."""
    return tuple(family for family in families() if family.frames is None)


def family_named(name: str) -> Family:
    """The registered family called ``name``; ModelError lists them."""
    for family in families():
        if family.name == name:
            return family
    raise ModelError(f"no model family {name!r}; families: {', '.join(f.name for f in families())}")


def family_of(class_name: str, *, check_diffusers: bool = True, images: bool = False) -> Family:
    """The video family of a pipeline class name; with ``images``, an image family's too (tried
    after the video ones), as plate extension takes image inpainting pipelines.

    Args:
        check_diffusers: also ask diffusers whether the class exists (see ``Family.accepts``).
    Raises:
        ModelError: no family has this pipeline; the message lists the families.
    """
    # The family with the longest prefix of the name owns it: LTX-Video's "LTX" never takes
    # a class of LTX-2's "LTX2", even one LTX-2 refuses (an upsampler).
    owners = [f for f in video_families() if f.class_prefix and class_name.startswith(f.class_prefix)]
    candidates = [max(owners, key=lambda f: len(f.class_prefix or ""))] if owners else video_families()
    for family in candidates:
        if family.accepts(class_name, check_diffusers=check_diffusers):
            return family
    if owners and candidates[0].classes:
        raise ModelError(f"pipeline not supported: {class_name}; the {candidates[0].name} family renders shots with "
                         f"{', '.join(candidates[0].classes)}")
    pictures = image_families() if images else ()
    for family in pictures:
        if family.accepts(class_name, check_diffusers=check_diffusers):
            return family
    also = "".join(f"; {family.name}: {', '.join(family.describe()['pipelines'])}" for family in pictures)
    raise ModelError(
        f"pipeline not supported: {class_name}, supported video families: "
        f"{', '.join(family.name for family in video_families())}{also}"
    )


def mask_filling(family: Family, kind: str) -> MaskFilling | None:
    """What a pipeline of ``family`` and ``kind`` fills under a mask, by what the kind is
    conditioned on: "shot" (a masked video: the whole shot at once, or one frame as a shot of
    one), "picture" (a masked image: one picture a call), or None (it takes no mask)."""
    conditioning = family.conditioning(kind)
    if "video" in conditioning and "mask" in conditioning:
        return "shot"
    if "image" in conditioning and "mask_image" in conditioning:
        return "picture"
    return None


def video_kind(class_name: str) -> Kind | None:
    """The kind of a video pipeline class (without importing diffusers); None for a class no
    video family takes."""
    try:
        family = family_of(class_name, check_diffusers=False)
    except ModelError:
        return None
    return family.kind_of(class_name)


def pipelines_of_kind(kind: str) -> list[str]:
    """The pipeline classes of ``kind`` the registered families name, for messages: a family's
    listed classes of that kind, or its prefix with the kind's marker (``WanVACEPipeline``)."""
    found = []
    for family in families():
        for rule in (rule for rule in family.kinds if rule.kind == kind):
            listed = [name for name in family.classes if family.kind_of(name) == kind]
            found += listed or [f"{family.class_prefix}{marker}Pipeline" for marker in rule.markers
                                if family.class_prefix]
    return found


def _with_origin(family: Family, origin: str) -> Family:
    return dataclasses.replace(family, origin=origin)
