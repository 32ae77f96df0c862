"""Faster sampling: step caches, attention backends, compilation and quantised weights.

Each is off by default and each changes pixels a little, so a render's choice is part of every
shot's job hash (``Acceleration.summary``). ``benchmarks/speed.py`` measures what each one gains
and what it costs the picture.

- ``--cache first-block[:THRESHOLD]``: diffusers' First Block Cache. When the first
  transformer block's output has changed less than THRESHOLD (default 0.05) since the last
  step, the other blocks' last residual is reused.
- ``--cache taylorseer[:INTERVAL]``: diffusers' TaylorSeer cache (lite mode), predicting the
  blocks' output from a Taylor series for INTERVAL - 1 steps out of INTERVAL (default 5).
- ``--attention NAME``: diffusers' ``set_attention_backend`` (native, flex, flash, sage, ...):
  refused when the backend's package is missing here.
- ``--compile``: ``torch.compile`` of the transformer's repeated blocks (regional compilation:
  each block compiles once), or of the whole transformer where it lists none.
- ``--quantize int8|fp8``: the transformer's weights quantised by torchao (int8 or float8
  weight-only); needs ``torchao`` (``pip install sora_vfx[speed]``); fp8 needs CUDA.

Caches and context windows: a window of a long shot is another picture than its neighbour, so
each window keeps its own cache state (``window_cache_context``): a cache never reuses one
window's residual for the next.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ConfigError, ModelError
from ..settings import QUANTIZE_CHOICES

log = logging.getLogger("sora_vfx")

#: Cache name -> (the value after ``:``, its default).
CACHES = {"first-block": ("threshold", 0.05), "taylorseer": ("interval", 5)}
#: A cache value as users write it: 4, 0.1, .05, 1e-2 (no hex, no nan or inf).
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?")
QUANTIZE = tuple(choice for choice in QUANTIZE_CHOICES if choice != "none")


@dataclass(frozen=True)
class Acceleration:
    """The speed options of a render, checked (``parse``); the default is none of them."""

    cache: str | None = None
    cache_value: float | None = None
    attention: str | None = None
    compile: bool = False
    quantize: str | None = None

    @classmethod
    def parse(cls, *, cache: str | None = None, attention: str | None = None, compile: bool = False,
              quantize: str | None = None) -> Acceleration:
        """The options as typed (``--cache first-block:0.1`` etc.); "none" or "" means off.

        Raises:
            ConfigError: an unknown cache, attention backend or quantisation, or a bad value.
        """
        name, value = _parse_cache(cache)
        attention = (attention or "").strip() or None
        if attention is not None:
            attention_backend(attention)
        quantize = (quantize or "").strip().lower() or None
        if quantize in ("none", "off"):
            quantize = None
        if quantize is not None and quantize not in QUANTIZE:
            raise ConfigError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZE)}")
        return cls(name, value, attention, bool(compile), quantize)

    @property
    def is_default(self) -> bool:
        return self == Acceleration()

    def summary(self) -> dict[str, Any]:
        """The options that are on, for the job hash, headers, the manifest and ``--json``."""
        values: dict[str, Any] = {}
        if self.cache:
            values["cache"] = f"{self.cache}:{self.cache_value:g}"
        if self.attention:
            values["attention"] = self.attention
        if self.compile:
            values["compile"] = True
        if self.quantize:
            values["quantize"] = self.quantize
        return values

    def describe(self) -> str:
        return describe_speed(self.summary()) or "none"

    def check_device(self, device: torch.device, dtype: torch.dtype = torch.float32) -> None:
        """Refuse what this device or install cannot run, before anything loads.

        Raises:
            ModelError: torchao missing, fp8 off CUDA, the attention backend's package missing,
                or the backend not running on ``device`` in ``dtype`` (the model's).
        """
        if self.quantize and importlib.util.find_spec("torchao") is None:
            raise ModelError(f"--quantize {self.quantize} needs torchao: pip install torchao "
                             "(or sora_vfx[speed]), or render without --quantize")
        if self.quantize == "fp8" and torch.device(device).type != "cuda":
            raise ModelError(f"--quantize fp8 needs a CUDA device (float8 kernels); device {device} has none: "
                             "use --quantize int8")
        if self.attention:
            check_attention_backend(self.attention, device, dtype)

    def quantization_config(self, transformers: tuple[str, ...] = ("transformer",)) -> Any:
        """diffusers' quantisation config of ``quantize`` for the pipeline's ``transformers``
        (its family's denoisers: two experts in some; one a folder lacks is skipped); None without."""
        if not self.quantize:
            return None
        from diffusers import PipelineQuantizationConfig, TorchAoConfig
        from torchao.quantization import Float8WeightOnlyConfig, Int8WeightOnlyConfig

        config = Int8WeightOnlyConfig() if self.quantize == "int8" else Float8WeightOnlyConfig()
        return PipelineQuantizationConfig(quant_mapping={name: TorchAoConfig(config) for name in transformers})

    def apply(self, pipeline: Any, transformers: tuple[str, ...] = ("transformer",)) -> None:
        """Turn on the cache, attention backend and compilation on each of a loaded pipeline's
        ``transformers`` (its family's denoisers) that it has."""
        present = [getattr(pipeline, name) for name in transformers if getattr(pipeline, name, None) is not None]
        if not present and not self.is_default:
            raise ModelError(f"{type(pipeline).__name__} has no transformer: speed options do not apply to it")
        for transformer in present:
            self._apply(transformer)

    def _apply(self, transformer: Any) -> None:
        if self.attention:
            transformer.set_attention_backend(self.attention)
        if self.cache:
            if not hasattr(transformer, "enable_cache"):
                raise ModelError(f"{type(transformer).__name__} takes no step cache (--cache {self.cache})")
            try:
                transformer.enable_cache(self._cache_config())
            except (ValueError, TypeError) as exc:  # diffusers refuses a transformer it cannot cache
                raise ModelError(f"--cache {self.cache}: {type(transformer).__name__}: {exc}") from exc
        if self.compile:
            # A cache's hooks run inside the blocks and are kept out of the graph
            # (torch.compiler.disable): with one on, the graph breaks around them.
            whole = self.cache is None
            if getattr(transformer, "_repeated_blocks", None):
                transformer.compile_repeated_blocks(fullgraph=whole)
            else:
                transformer.compile(fullgraph=False)

    def _cache_config(self) -> Any:
        from diffusers import FirstBlockCacheConfig, TaylorSeerCacheConfig

        if self.cache == "first-block":
            return FirstBlockCacheConfig(threshold=float(self.cache_value))
        return TaylorSeerCacheConfig(cache_interval=int(self.cache_value), use_lite_mode=True)


def describe_speed(summary: dict[str, Any]) -> str:
    """A ``summary()`` in words, as the log and the ``sora_vfx:speed`` header give it:
    "cache first-block:0.1, compile"; "" when none is on."""
    return ", ".join(key if value is True else f"{key} {value}" for key, value in sorted(summary.items()))


def _parse_cache(text: str | None) -> tuple[str | None, float | None]:
    text = (text or "").strip().lower()
    if text in ("", "none", "off"):
        return None, None
    name, _, value = text.partition(":")
    if name not in CACHES:
        raise ConfigError(f"--cache {text!r}: choose one of {', '.join(CACHES)} (e.g. first-block:0.1), or none")
    what, default = CACHES[name]
    if not value:
        return name, float(default)
    rule = {"first-block": f"the {what} is a number above 0 and below 10, e.g. first-block:0.1",
            "taylorseer": f"the {what} is a whole number of steps from 2 to 50, e.g. taylorseer:4"}[name]
    number = float(value) if _DECIMAL.fullmatch(value) else math.nan  # words, hex, nan, inf: not numbers
    if not math.isfinite(number):  # also 1e400, which float() makes inf
        raise ConfigError(f"--cache {text!r}: {rule}")
    valid = 0 < number < 10 if name == "first-block" else number == int(number) and 2 <= number <= 50
    if not valid:
        raise ConfigError(f"--cache {text!r}: {rule}")
    return name, number


def attention_backend(name: str) -> Any:
    """diffusers' ``AttentionBackendName`` of ``name``; ConfigError lists the known ones."""
    from diffusers.models.attention_dispatch import AttentionBackendName

    known = ", ".join(backend.value for backend in AttentionBackendName
                      if not backend.value.startswith("_") and not backend.value.endswith("_hub"))
    if name.endswith("_hub"):
        raise ConfigError(f"--attention {name}: a '_hub' backend downloads its kernels from the Hugging Face Hub "
                          f"when it runs, and sora_vfx never downloads; install the package instead: {known}")
    try:
        return AttentionBackendName(name)
    except ValueError:
        raise ConfigError(f"--attention {name!r}: unknown backend; diffusers knows {known}") from None


def check_attention_backend(name: str, device: torch.device | None = None,
                            dtype: torch.dtype = torch.float32) -> None:
    """Raise ModelError when the backend's package is missing or too old here, or, given the
    ``device``, when the backend does not run there in ``dtype``: one small attention call is
    tried, as the shots would make it (PyTorch's own kernels, such as ``_native_cudnn``, need
    no package but run only on some devices; without this, every shot would fail)."""
    from diffusers.models.attention_dispatch import _check_attention_backend_requirements, dispatch_attention_fn

    backend = attention_backend(name)
    try:
        _check_attention_backend_requirements(backend)
    except (RuntimeError, ImportError) as exc:
        raise ModelError(f"--attention {name}: cannot be used here: {str(exc).strip()}") from None
    if device is None:
        return
    # (batch, tokens, heads, head size): a head size every fused kernel takes.
    probe = torch.zeros(1, 8, 2, 64, device=device, dtype=dtype)
    try:
        dispatch_attention_fn(probe, probe, probe, backend=backend)
    # A kernel missing for the device is NotImplementedError in PyTorch; a refused layout, RuntimeError or ValueError.
    except (RuntimeError, ValueError, NotImplementedError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"--attention {name}: does not run on {torch.device(device)} in {dtype} ({reason}); "
                         "use --attention native, or render on a device it supports") from None


def current_cache_context(module: torch.nn.Module) -> Any:
    """The cache context the pipeline set on ``module``'s cache hooks (diffusers'
    ``CacheContext``), or None when it has no cache or no context is set."""
    from diffusers.hooks.hooks import HookRegistry, StateManager

    registry = getattr(module, "_diffusers_hook", None)
    if not isinstance(registry, HookRegistry):
        return None
    for child in (registry, *registry._get_child_registries()):
        for hook in child.hooks.values():
            for attribute in vars(hook).values():
                if isinstance(attribute, StateManager):
                    return attribute._context
    return None


@contextmanager
def window_cache_context(module: torch.nn.Module, start: int) -> Iterator[None]:
    """Give the window of latent frames from ``start`` its own cache state: the pipeline's
    context (cond or uncond) with the window's first frame added to its name."""
    context = current_cache_context(module)
    if context is None:
        yield
        return
    from dataclasses import replace

    from diffusers.hooks.hooks import _set_cache_context

    _set_cache_context(module, replace(context, name=f"{context.name}@{start}"))
    try:
        yield
    finally:
        _set_cache_context(module, context)
