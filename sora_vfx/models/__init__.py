"""Local diffusers video pipelines (safetensors only) and the built-in tiny models."""

from sora_vfx.models.loader import LoadedModel, load_model, pick_device, pick_dtype
from sora_vfx.models.tiny import TINY_MODEL_VERSION, build_tiny_pipeline, ensure_tiny_model

__all__ = [
    "TINY_MODEL_VERSION",
    "LoadedModel",
    "build_tiny_pipeline",
    "ensure_tiny_model",
    "load_model",
    "pick_device",
    "pick_dtype",
]
