"""Stable per-shot seeds and CPU-drawn noise.

A shot's seed depends only on the project seed and the shot's name, so it is the same in any
edit order, with any handles, on any machine. Noise is drawn from a CPU generator and then
moved to the device: the same seed gives the same noise on CPU, CUDA and MPS.
"""

from __future__ import annotations

import hashlib

MAX_SEED = 2**63 - 1


def shot_seed(project_seed: int, shot_name: str) -> int:
    """The seed of ``shot_name`` in a project seeded with ``project_seed``."""
    digest = hashlib.sha256(f"sora_vfx:{project_seed}:{shot_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & MAX_SEED


def parse_seed(value: object) -> int:
    """A seed from a comment, metadata or option; ValueError names the problem."""
    if isinstance(value, bool):
        raise ValueError(f"seed must be a whole number, not {value!r}")
    try:
        seed = int(str(value).strip(), 0) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError(f"seed must be a whole number, not {value!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed {seed} is out of range 0..{MAX_SEED}")
    return seed


def cpu_generator(seed: int):
    """A ``torch.Generator`` on the CPU seeded with ``seed`` (noise is drawn here, then moved)."""
    import torch

    return torch.Generator("cpu").manual_seed(seed)
