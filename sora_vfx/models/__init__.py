"""Local diffusers video pipelines (safetensors only), the built-in tiny models and the trained
``shapes`` model."""

from sora_vfx.models.families import SORA_VFX_JSON, Family, families, family_of, video_families
from sora_vfx.models.folders import (
    BUILTIN_NAMES,
    IMAGE_VARIANTS,
    TINY_NAMES,
    ModelFolder,
    check_model_folder,
    folder_fingerprint,
    read_model_overrides,
    resolve_model,
)
from sora_vfx.models.loader import LoadedModel, describe_model, load_model, pick_device, pick_dtype
from sora_vfx.models.tiny import TINY_MODEL_VERSION, build_tiny_pipeline, ensure_tiny_model

__all__ = [
    "BUILTIN_NAMES",
    "IMAGE_VARIANTS",
    "SORA_VFX_JSON",
    "TINY_MODEL_VERSION",
    "TINY_NAMES",
    "Family",
    "LoadedModel",
    "ModelFolder",
    "build_tiny_pipeline",
    "check_model_folder",
    "describe_model",
    "ensure_tiny_model",
    "families",
    "family_of",
    "folder_fingerprint",
    "load_model",
    "pick_device",
    "pick_dtype",
    "read_model_overrides",
    "resolve_model",
    "video_families",
]
