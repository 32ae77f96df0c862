"""Which plate channels go into the extended frame, in which order and type, and which header
attributes come along."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PlateError
from ..imaging.plates_io import PlateHeader, RawAttribute

MASK_CHANNEL = "mask"
#: Attributes that describe the file rather than the picture; the writer sets its own.
_DROPPED_PREFIXES = ("oiio:", "openexr:", "sora_vfx:")
_DROPPED_NAMES = {"compression", "multiView"}


@dataclass(frozen=True)
class ChannelPlan:
    """Output channels R, G, B, A, mask, then any kept extra channels.

    ``read`` lists the plate channels to decode, colour (and alpha) first, in the output's
    order; ``dtype`` is the decode and buffer type: half when every one of them is half, so
    their bits go through untouched, float otherwise.
    """

    read: tuple[int, ...]
    has_alpha: bool
    names: tuple[str, ...]
    types: tuple[str, ...]
    dropped: tuple[str, ...]

    @property
    def pixel_type(self) -> str:
        return "half" if all(t == "half" for t in self.types) else "float"

    @property
    def dtype(self) -> type[np.floating]:
        return np.float16 if self.pixel_type == "half" else np.float32

    @property
    def channel_types(self) -> tuple[str, ...] | None:
        """Per-channel types for the writer, None when all share the buffer's type."""
        return None if len(set(self.types)) == 1 else self.types

    @property
    def extras(self) -> tuple[str, ...]:
        return self.names[5:]


def plan_channels(header: PlateHeader, *, keep_extra: bool) -> ChannelPlan:
    """The channel plan for a plate; PlateError when it has no R, G and B."""
    names = header.channels
    missing = [c for c in ("R", "G", "B") if c not in names]
    if missing:
        raise PlateError(
            f"plate {header.path}: no {', '.join(missing)} channel{'s' * (len(missing) > 1)}; "
            f"a plate needs R, G and B (it has {', '.join(names)})"
        )
    colour = [names.index(c) for c in ("R", "G", "B", "A") if c in names]
    has_alpha = "A" in names
    others = [i for i in range(len(names)) if i not in colour]
    kept = others if keep_extra else []

    def out_type(index: int) -> str:
        return "half" if header.channel_types[index] == "half" else "float"

    rgb_type = out_type(colour[0])
    types = [out_type(i) for i in colour[:3]]
    types.append(out_type(colour[3]) if has_alpha else rgb_type)
    types.append(rgb_type)  # the mask: 0 and 1 are exact in any type
    types.extend(out_type(i) for i in kept)
    return ChannelPlan(
        read=tuple(colour + kept),
        has_alpha=has_alpha,
        names=("R", "G", "B", "A", MASK_CHANNEL, *(names[i] for i in kept)),
        types=tuple(types),
        dropped=tuple(names[i] for i in others if i not in kept),
    )


def carried_attributes(header: PlateHeader, *, keep_views: bool) -> list[RawAttribute]:
    """The plate's header attributes that describe the picture (timecode, rate, aspect, ...).

    ``multiView`` only comes along with the extra channels: without them the output has one view.
    """
    carried = []
    for name, type_desc, value in header.attributes:
        if name.startswith(_DROPPED_PREFIXES) or (name in _DROPPED_NAMES and not (keep_views and name == "multiView")):
            continue
        carried.append((name, type_desc, value))
    return carried
