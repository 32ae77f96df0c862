"""Pipelines at real models' sizes with random weights: the GPU benchmark's models.

Each builds the published architecture of a model (its diffusers config: layers, widths,
heads, text encoder, VAE, scheduler) with random weights, so it costs the compute and memory
of the real model without its multi-gigabyte download (nothing is downloaded at run time).
The pictures are noise; ``benchmarks/gpu.py`` measures seconds and memory with them. The
architectures live with their families (``Family.full_sizes``); ``sora-vfx models`` lists them.

``small=True`` keeps every class, layout and config key and shrinks the widths and depths, so
the same code paths run on a CPU in seconds (``benchmarks/gpu.py --quick``, the tests).
``build_pipeline(..., device="meta")`` builds without allocating weights: the memory plan
sizes a 14B model from it on any machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from .families import FullSize, families
from .tiny import save_model_once


def full_sizes() -> dict[str, FullSize]:
    """Every registered family's published architectures, by name."""
    return {name: size for family in families() for name, size in family.full_sizes.items()}


def fullsize(name: str) -> FullSize:
    """The architecture called ``name``; ModelError lists the known ones."""
    sizes = full_sizes()
    if name not in sizes:
        raise ModelError(f"no full-size model {name!r}; known: {', '.join(sizes)}")
    return sizes[name]


def build_pipeline(name: str, *, small: bool = False, device: str = "cpu", dtype: torch.dtype = torch.bfloat16,
                   seed: int = 0) -> Any:
    """The pipeline of ``name`` with random weights (normal, std 0.02; norms 1, biases 0).

    Args:
        small: the same layout, narrow and shallow (for CPUs and tests).
        device: where the weights are made; "meta" makes none (sizes only).
        dtype: the weights' dtype.
        seed: the weights' seed (the same seed gives the same weights on the same device).
    """
    size = fullsize(name)
    text_config = {**size.text_encoder, **(size.small_text_encoder if small else {})}
    transformer_config = size.small_transformer if small else size.transformer
    from accelerate import init_empty_weights
    from diffusers.utils import logging as diffusers_logging

    with init_empty_weights(include_buffers=False):
        components = size.components(transformer_config, text_config, small)
    generator = None if device == "meta" else torch.Generator(device).manual_seed(seed)
    verbosity = diffusers_logging.get_verbosity()
    # A cast with `to()` warns about the modules that from_pretrained keeps in float32; the
    # folder is loaded through from_pretrained, which does.
    diffusers_logging.set_verbosity_error()
    try:
        for component in components.values():
            if isinstance(component, torch.nn.Module):
                _materialise(component, device, dtype, generator)
    finally:
        diffusers_logging.set_verbosity(verbosity)
    pipeline_class = components.pop("pipeline_class")
    return pipeline_class(**components)


def write_model(name: str, folder: Path, *, small: bool = False, seed: int = 0, device: str = "cpu") -> Path:
    """Write ``build_pipeline(name)`` as a model folder (bfloat16 safetensors, ``sora_vfx.json``)
    that ``--model FOLDER`` and ``DiffusionPipeline.from_pretrained`` load; kept when it exists.
    ``device``: where the random weights are drawn (a GPU draws billions in a second; the
    folder's values then differ from the CPU's, which only the benchmark's timings see).

    Raises:
        ModelError: the folder cannot be written.
    """
    folder = Path(folder)
    if (folder / "model_index.json").is_file():
        return folder
    size = fullsize(name)
    limits = dict(size.limits)
    if small:
        limits.update(default_size=[64, 64], max_frames=17)
    pipeline = build_pipeline(name, small=small, seed=seed, device=device)
    return save_model_once(pipeline, folder, {**limits, "fullsize": name, "small": small},
                           what=f"the {name} model")


def _materialise(module: torch.nn.Module, device: str, dtype: torch.dtype, generator: Any) -> None:
    """Give the module's meta parameters storage on ``device`` and random values."""
    if device != "meta":
        module.to_empty(device=device)
    # Weights a transformers model shares (a T5 encoder's embedding, Gemma's embedding and head) are
    # separate tensors under init_empty_weights and again after to_empty: one tensor, counted and drawn once.
    if callable(getattr(module, "tie_weights", None)):
        module.tie_weights()
    if device == "meta":
        module.to(dtype=dtype)
        module.eval()
        return
    with torch.no_grad():
        for parameter_name, parameter in module.named_parameters():
            if parameter.ndim >= 2:
                parameter.normal_(0.0, 0.02, generator=generator)
            elif parameter_name.endswith("bias"):
                parameter.zero_()
            else:
                parameter.fill_(1.0)
        for _buffer_name, buffer in module.named_buffers():
            if buffer.is_floating_point():
                buffer.zero_()
    module.to(dtype=dtype)
    module.eval()
