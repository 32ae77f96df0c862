"""Model families: one module per family holds its facts and its behaviour (``base.Family``).

``registry`` lists them, built-in and from the ``sora_vfx.families`` entry point group; the
rest of sora_vfx asks a family's record and never names a family.
"""

from sora_vfx.models.families.base import (
    LIMIT_KEYS,
    SORA_VFX_JSON,
    Family,
    FrameRule,
    FullSize,
    KindRule,
    LatentLayout,
    SizeRule,
    TransformerGeometry,
)
from sora_vfx.models.families.registry import (
    BUILTIN_FAMILIES,
    ENTRY_POINT_GROUP,
    families,
    family_named,
    family_of,
    pipelines_of_kind,
    video_families,
    video_kind,
)

__all__ = [
    "BUILTIN_FAMILIES",
    "ENTRY_POINT_GROUP",
    "LIMIT_KEYS",
    "SORA_VFX_JSON",
    "Family",
    "FrameRule",
    "FullSize",
    "KindRule",
    "LatentLayout",
    "SizeRule",
    "TransformerGeometry",
    "families",
    "pipelines_of_kind",
    "family_named",
    "family_of",
    "video_families",
    "video_kind",
]
