"""Imaging: OCIO colour conversion and OpenEXR frames (OpenImageIO)."""

from sora_vfx.imaging.color import (
    PINNED_CONFIG,
    ColorConverter,
    chromaticities_for,
    default_config_uri,
    from_scene_linear,
    get_converter,
    to_scene_linear,
)
from sora_vfx.imaging.exr import (
    COMPRESSIONS,
    FrameWriter,
    is_complete_frame,
    read_exr,
    read_exr_header,
    read_exr_pixels,
    write_exr_frame,
)
from sora_vfx.imaging.images import read_display_frames, read_reference_image, write_image
from sora_vfx.imaging.transform import OutputTransform

__all__ = [
    "COMPRESSIONS",
    "PINNED_CONFIG",
    "ColorConverter",
    "FrameWriter",
    "OutputTransform",
    "chromaticities_for",
    "default_config_uri",
    "from_scene_linear",
    "get_converter",
    "is_complete_frame",
    "read_display_frames",
    "read_exr",
    "read_exr_header",
    "read_exr_pixels",
    "read_reference_image",
    "to_scene_linear",
    "write_exr_frame",
    "write_image",
]
