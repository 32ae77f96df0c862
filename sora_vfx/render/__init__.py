"""Render shot jobs to EXR sequences: windows, the renderer loop, resume and the manifest."""

from .renderer import (
    RenderPlan,
    RenderReport,
    RenderSettings,
    ShotResult,
    finish_render,
    frame_path,
    prepare_render,
    render_edit,
    render_shot,
)
from .spec import RenderSpec, build_spec

__all__ = [
    "RenderPlan",
    "RenderReport",
    "RenderSettings",
    "RenderSpec",
    "ShotResult",
    "build_spec",
    "finish_render",
    "frame_path",
    "prepare_render",
    "render_edit",
    "render_shot",
]
