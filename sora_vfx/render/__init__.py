"""Render shot jobs to EXR sequences: plans, the renderer loop, windows, resume, the manifest."""

from .manifest import FrameRange, Manifest, ManifestEntry, read_manifest
from .plan import RenderPlan, RenderSettings, ShotPlan, prepare_render
from .renderer import render_edit, render_shot
from .report import RenderReport, ShotResult, finish_render
from .spec import RenderSpec, build_spec

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
