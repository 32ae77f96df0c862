"""Memory plans: where a pipeline's weights live while it renders, chosen to fit the device.

A plan only moves weights; it never changes pixels (tested: every plan renders the same
frames). From fastest to leanest:

- ``fast``: every component on the device.
- ``balanced``: diffusers' model CPU offload: each component moves to the accelerator when it
  runs and back afterwards, so the device holds the largest one (an accelerator only).
- ``low``: diffusers' group offload, block by block: the device holds one transformer block at a
  time. On CUDA the next block is copied on a side stream while one runs; on the CPU the blocks
  wait on disk (a folder under the cache) and are read back one at a time, so a farm node with
  little memory can still render a model larger than its RAM. A component whose weights are not
  mostly in top-level blocks (a text encoder, its layers one level down) goes layer by layer
  on an accelerator instead: block by block it would move to the device whole
  (``offload_groups``); from the CPU's disk it is read whole.

``auto`` (the default) estimates what each plan needs (``MemoryNeeds``: the weights of each
component at the dtype they run in, plus the activations of one window at the render size) and
takes the fastest plan that fits the device's free memory with a margin (``choose_plan``). A
shot that runs out of memory is rendered again once on the next plan down (``lower_plan``).
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError, ModelError
from ..settings import MEMORY_CHOICES
from .families import Family

log = logging.getLogger("sora_vfx")

#: The plans, fastest first; ``auto`` picks one of them.
PLANS = MEMORY_CHOICES[1:]
#: A plan fits when its estimate is at most this share of the free memory: the estimate leaves
#: out the allocator's fragmentation, the CUDA context and the text encoder's activations.
HEADROOM = 0.85
#: Components that stay on the device under ``low``: the VAE is small and its causal decode
#: keeps a cache between calls that group offloading would move back and forth.
ON_DEVICE_UNDER_LOW = ("vae",)


#: Under ``low``, a component whose top-level blocks (``ModuleList``, ``Sequential``) hold at least
#: this share of its weights is offloaded block by block, any other layer by layer.
BLOCK_SHARE = 0.5


@dataclass(frozen=True)
class MemoryNeeds:
    """What a render needs on the device: each component's weights, one window's activations and,
    for ``low``, each component's largest offload group (``offload_groups``), in bytes."""

    weights: Mapping[str, int]
    working: int
    groups: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.weights.values()) + self.working

    def of_plan(self, plan: str) -> int:
        """Device bytes the plan needs, by estimate."""
        if plan == "fast":
            return self.total
        if plan == "balanced":
            return max(self.weights.values(), default=0) + self.working
        # low: what stays on the device, and the largest offload group twice (on CUDA the next
        # group is copied in while one runs); without groups, a twentieth of the largest component.
        on_device = sum(size for name, size in self.weights.items() if name in ON_DEVICE_UNDER_LOW)
        offloaded = [size for name, size in self.groups.items() if name not in ON_DEVICE_UNDER_LOW]
        group = max(offloaded) if offloaded else max(self.weights.values(), default=0) // 20
        return on_device + self.working + 2 * group

    def describe(self) -> str:
        parts = ", ".join(f"{name} {_gib(size)}" for name, size in sorted(self.weights.items(), key=lambda kv: -kv[1]))
        return f"weights {_gib(sum(self.weights.values()))} ({parts}), activations {_gib(self.working)}"


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.0f} MiB"


def check_memory_choice(choice: str) -> str:
    """The choice, checked; ConfigError lists the valid ones."""
    if choice not in MEMORY_CHOICES:
        raise ConfigError(f"memory plan {choice!r}: choose one of {', '.join(MEMORY_CHOICES)}")
    return choice


def plans_for(device: torch.device) -> tuple[str, ...]:
    """The plans a device can use, fastest first: ``balanced`` needs an accelerator."""
    return PLANS if torch.device(device).type != "cpu" else ("fast", "low")


def choose_plan(needs: MemoryNeeds, free: int | None, *, device: torch.device) -> str:
    """The fastest plan whose estimate fits ``HEADROOM`` of ``free`` bytes; the leanest when
    none does. ``free`` None (a device whose free memory torch cannot tell) gives ``fast``; so
    does the CPU, whose memory already holds the weights read to load them (``--memory low``
    moves them to disk)."""
    available = plans_for(device)
    if free is None or torch.device(device).type == "cpu":
        return "fast"
    for plan in available:
        if needs.of_plan(plan) <= HEADROOM * free:
            return plan
    return available[-1]


def lower_plan(plan: str, device: torch.device) -> str | None:
    """The next plan down from ``plan`` on this device; None below ``low``."""
    available = plans_for(device)
    index = available.index(plan) if plan in available else len(available)
    return available[index + 1] if index + 1 < len(available) else None


def free_memory(device: torch.device) -> int | None:
    """Free bytes on the device: CUDA's own count, the CPU's available memory; None where unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "cpu":
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
    return None


def _bytes(tensors: Any, dtype: torch.dtype | None) -> int:
    """Bytes of ``tensors``, the floating ones at ``dtype`` when given (what they will run in)."""
    element = torch.empty((), dtype=dtype).element_size() if dtype else None
    return sum(tensor.numel() * (element if element and tensor.is_floating_point() else tensor.element_size())
               for tensor in tensors)


def offload_groups(component: torch.nn.Module, dtype: torch.dtype | None = None) -> tuple[str, list[int]]:
    """How ``low`` offloads ``component``, and the bytes of each group it moves at once:
    ``block_level`` (each block of its top-level ``ModuleList``/``Sequential`` children, and the
    rest as one group) when those blocks hold at least ``BLOCK_SHARE`` of its weights, else
    ``leaf_level`` (each layer diffusers offloads by itself: linear, convolution, embedding;
    what is left with its own module). A text encoder keeps its layers one level down
    (``encoder.block``): block by block, diffusers would move all of it as one group."""
    from diffusers.hooks._common import _GO_LC_SUPPORTED_PYTORCH_LAYERS

    total = _bytes([*component.parameters(), *component.buffers()], dtype)
    blocks = [block for child in component.children() if isinstance(child, torch.nn.ModuleList | torch.nn.Sequential)
              for block in child]
    sizes = [_bytes([*block.parameters(), *block.buffers()], dtype) for block in blocks]
    if blocks and sum(sizes) >= BLOCK_SHARE * total:
        return "block_level", [*sizes, total - sum(sizes)]
    leaves = [module for module in component.modules() if isinstance(module, _GO_LC_SUPPORTED_PYTORCH_LAYERS)]
    in_leaves = {id(tensor) for module in leaves for tensor in [*module.parameters(), *module.buffers()]}
    rest = _bytes([tensor for tensor in [*component.parameters(), *component.buffers()] if id(tensor) not in in_leaves],
                  dtype)
    return "leaf_level", [*(_bytes([*module.parameters(), *module.buffers()], dtype) for module in leaves), rest]


def weight_bytes(components: Mapping[str, Any], dtype: torch.dtype | None = None) -> dict[str, int]:
    """Bytes of each torch component's parameters and buffers; at ``dtype`` for the floating
    ones when given (what they will run in), else as they are. Works on ``meta`` modules."""
    return {name: _bytes([*component.parameters(), *component.buffers()], dtype)
            for name, component in components.items() if isinstance(component, torch.nn.Module)}


def working_bytes(pipeline: Any, family: Family, *, frames: int, height: int, width: int, dtype: torch.dtype) -> int:
    """Activations of one transformer call over ``frames`` frames at ``height`` x ``width``, or
    of the VAE's decode, whichever is larger, by estimate: the tokens times the widest layer's
    features, a few times over (attention through a fused kernel is linear in the tokens).
    The family reads its transformer's config (``Family.transformer_geometry``); where that
    says nothing, an eighth of the transformer's weights."""
    transformer = getattr(pipeline, "transformer", None)
    geometry = family.transformer_geometry(getattr(transformer, "config", None))
    spatial = family.spatial_compression(pipeline)
    temporal = family.temporal_compression(pipeline)
    if geometry is None:
        weights = weight_bytes({"transformer": transformer}, dtype).get("transformer", 0)
        return weights // 8
    patch_t, patch_h, patch_w = geometry.patch
    latent_frames = (frames - 1) // temporal + 1
    tokens = (latent_frames // patch_t) * (height // spatial // patch_h) * (width // spatial // patch_w)
    element = torch.empty((), dtype=dtype).element_size()
    # q, k, v, the attention output and two residual streams, plus the feed-forward's middle twice.
    transformer_bytes = tokens * (6 * geometry.inner + 2 * geometry.ffn) * element
    # The VAE decodes one latent frame (``temporal`` frames) at a time at full size, its first
    # stage's channels wide, some eight tensors alive; tiling on accelerators bounds it further.
    vae_config = getattr(getattr(pipeline, "vae", None), "config", None)
    channels = getattr(vae_config, "base_dim", None) or (getattr(vae_config, "block_out_channels", None) or [128])[0]
    vae_bytes = height * width * temporal * int(channels) * element * 8
    return max(transformer_bytes, vae_bytes)


def estimate_needs(pipeline: Any, family: Family, *, frames: int, height: int, width: int,
                   dtype: torch.dtype) -> MemoryNeeds:
    """``MemoryNeeds`` of a loaded (or ``meta``) pipeline of ``family`` rendering windows of ``frames``."""
    groups = {name: max(offload_groups(component, dtype)[1]) for name, component in pipeline.components.items()
              if isinstance(component, torch.nn.Module)}
    return MemoryNeeds(weight_bytes(pipeline.components, dtype),
                       working_bytes(pipeline, family, frames=frames, height=height, width=width, dtype=dtype), groups)


_OFFLOAD_FOLDERS: list[Path] = []


def _offload_folder() -> Path:
    """A private folder for the blocks the CPU's ``low`` plan keeps on disk; removed at exit."""
    if not _OFFLOAD_FOLDERS:
        atexit.register(lambda: [shutil.rmtree(path, ignore_errors=True) for path in _OFFLOAD_FOLDERS])
    folder = Path(tempfile.mkdtemp(prefix="sora_vfx_offload_"))
    _OFFLOAD_FOLDERS.append(folder)
    return folder


def check_plan(choice: str, device: torch.device) -> None:
    """Raise unless this device can use the memory plan (or ``auto``).

    Raises:
        ConfigError: no such plan. ModelError: ``balanced`` on the CPU.
    """
    check_memory_choice(choice)
    if choice != "auto" and choice not in plans_for(device):
        raise ModelError(f"memory plan {choice!r} moves each model between CPU memory and an accelerator; "
                         f"device {device} is the CPU: use --memory fast or low")


def apply_plan(pipeline: Any, plan: str, device: torch.device) -> None:
    """Put the pipeline's weights where ``plan`` keeps them. A pipeline may only go down the
    plans (``lower_plan``), never back up: offload hooks stay on its modules.

    Raises:
        ModelError: the plan needs what this device lacks (``balanced`` on the CPU).
    """
    device = torch.device(device)
    check_plan(plan, device)
    if plan == "fast":
        pipeline.to(device)
        return
    if hasattr(pipeline, "remove_all_hooks"):
        pipeline.remove_all_hooks()
    pipeline.to("cpu")
    if plan == "balanced":
        pipeline.enable_model_cpu_offload(device=device)
        return
    from diffusers.hooks import apply_group_offloading

    cuda = device.type == "cuda"
    # On the CPU the blocks wait on disk, each component in a folder of its own: the files are
    # named after the blocks, so two experts of one architecture would overwrite each other's.
    disk = _offload_folder() if device.type == "cpu" else None
    for name, component in pipeline.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        if name in ON_DEVICE_UNDER_LOW:
            component.to(device)
            continue
        # Layer by layer from disk would break tied weights (a text encoder's embedding, held by
        # two layers: the second layer's file is written after the first emptied the weight), so
        # from disk a component without top-level blocks goes whole, as one group.
        offload_type = offload_groups(component)[0] if disk is None else "block_level"
        options = dict(onload_device=device, offload_device=torch.device("cpu"), offload_type=offload_type,
                       num_blocks_per_group=1 if offload_type == "block_level" else None, use_stream=cuda,
                       record_stream=cuda, non_blocking=cuda,
                       offload_to_disk_path=None if disk is None else str(disk / name))
        if hasattr(component, "enable_group_offload"):
            component.enable_group_offload(**options)
        else:
            apply_group_offloading(module=component, **options)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation failure: CUDA's, MPS's or the CPU allocator's."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(
        marker in text for marker in ("out of memory", "DefaultCPUAllocator: can't allocate memory",
                                      "DefaultCPUAllocator: not enough memory"))
