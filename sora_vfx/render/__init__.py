"""Render shot jobs to EXR sequences: windows, the renderer loop, resume and the manifest."""

from .renderer import RenderReport, RenderSettings, ShotResult, frame_path, render_edit
from .spec import RenderSpec, build_spec

__all__ = ["RenderReport", "RenderSettings", "RenderSpec", "ShotResult", "build_spec", "frame_path", "render_edit"]
