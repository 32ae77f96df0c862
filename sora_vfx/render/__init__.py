"""Render shot jobs to EXR sequences: plans, the renderer loop, windows, resume, the manifest.

The manifest's names are imported at once; the plan's, the renderer's and the report's on
first use, since they import torch and the model loaders: what only reads a render folder
(``sora-vfx eval``, review, publish) does not start torch.
"""

import importlib
from typing import TYPE_CHECKING, Any

from .manifest import FrameRange, Manifest, ManifestEntry, read_manifest
from .spec import RenderSpec, build_spec

if TYPE_CHECKING:
    from .plan import RenderPlan, RenderSettings, ShotPlan, prepare_render
    from .renderer import render_edit, render_shot
    from .report import RenderReport, ShotResult, finish_render

#: The module each name imported on first use comes from.
_LAZY = {
    "RenderPlan": "plan", "RenderSettings": "plan", "ShotPlan": "plan", "prepare_render": "plan",
    "render_edit": "renderer", "render_shot": "renderer",
    "RenderReport": "report", "ShotResult": "report", "finish_render": "report",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FrameRange",
    "Manifest",
    "ManifestEntry",
    "RenderPlan",
    "RenderReport",
    "RenderSettings",
    "RenderSpec",
    "ShotPlan",
    "ShotResult",
    "build_spec",
    "finish_render",
    "prepare_render",
    "read_manifest",
    "render_edit",
    "render_shot",
]
