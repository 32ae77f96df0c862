"""Plate extension: generate what lies outside the filmed frame, filmed pixels untouched."""

from sora_vfx.plates.extend import ExtendReport, extend_plate
from sora_vfx.plates.geometry import ANCHORS, Box, Layout, Padding, parse_aspect, parse_pad
from sora_vfx.plates.model import ExtensionPath, PlateModel, load_plate_model
from sora_vfx.plates.plan import ExtendSettings
from sora_vfx.plates.sequence import PlateSequence, read_plate_sequence

__all__ = [
    "ANCHORS",
    "Box",
    "ExtendReport",
    "ExtendSettings",
    "ExtensionPath",
    "Layout",
    "Padding",
    "PlateModel",
    "PlateSequence",
    "extend_plate",
    "load_plate_model",
    "parse_aspect",
    "parse_pad",
    "read_plate_sequence",
]
