"""RenderSpec: everything that decides a shot's pixels, and the ``job_hash`` over it."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..editorial.shotjob import ShotJob
from ..errors import RenderError, StyleError
from ..imaging.transform import OutputTransform
from ..styles import Style

# Bump when the way pixels are made changes (windows, blending, colour), so resume re-renders.
RENDER_ALGORITHM = 2


@dataclass(frozen=True)
class RenderSpec:
    shot: str
    prompt: str
    negative_prompt: str
    style: str
    seed: int
    model: str
    model_fingerprint: str
    width: int
    height: int
    steps: int
    guidance: float
    first_frame: int
    num_frames: int
    max_window: int
    window_overlap: int
    colorspace: str
    compression: str
    loras: tuple[tuple[str, float, str], ...] = ()
    reference: str | None = None
    reference_digest: str | None = None
    #: How windows of a long shot are made and joined: ``render.windows.WINDOW_METHODS``.
    windows: str = "crossfade"
    #: The shot this one continues, the frame of it this one starts from, and its job hash
    #: (a changed predecessor re-renders its successors).
    continues: str | None = None
    continues_frame: int | None = None
    continues_hash: str | None = None
    #: How the model's picture became scene-linear (``imaging.transform``): the kind, and the
    #: OCIO display and view of ``inverse-view``. Renders from before the choice were ``srgb``.
    output_transform: str = "srgb"
    display: str = ""
    view: str = ""
    algorithm: int = RENDER_ALGORITHM
    extra: dict = field(default_factory=dict)

    @property
    def job_hash(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def transform(self) -> OutputTransform:
        """The output transform this spec's frames are written with."""
        return OutputTransform(self.output_transform, self.display, self.view,
                               source=str(self.extra.get("model_colorspace", "")))

    def to_dict(self) -> dict:
        """JSON-ready fields plus ``job_hash``."""
        return {**asdict(self), "job_hash": self.job_hash}

    @classmethod
    def from_dict(cls, data: dict) -> RenderSpec:
        """The spec ``to_dict`` wrote (``job_hash`` is recomputed, not read)."""
        values = {name: data[name] for name in _FIELD_NAMES if name in data}
        values["loras"] = tuple(tuple(lora) for lora in values.get("loras", ()))
        return cls(**values)


_FIELD_NAMES = tuple(f.name for f in fields(RenderSpec))


#: A file hashed into a job (reference image, LoRA) is read up to this size and no further.
MAX_DIGEST_BYTES = 64 << 30


def file_digest(path: Path, *, what: str) -> str:
    """sha256 of a regular file (reference image, LoRA); RenderError names it when it is not a
    regular file (a FIFO or a device would block or never end), unreadable, or past
    :data:`MAX_DIGEST_BYTES`."""
    digest = hashlib.sha256()
    try:
        # Non-blocking, so that opening a FIFO with no writer returns at once; checked after
        # opening, so that what is read is what was checked.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise RenderError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise RenderError(f"{what} {path}: not a regular file")
        if status.st_size > MAX_DIGEST_BYTES:
            raise RenderError(f"{what} {path}: {status.st_size} bytes, more than the {MAX_DIGEST_BYTES} read")
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as exc:
            raise RenderError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()[:16]


def build_spec(
    job: ShotJob,
    style: Style,
    *,
    model: str,
    model_fingerprint: str,
    width: int,
    height: int,
    steps: int,
    guidance: float,
    max_window: int,
    window_overlap: int,
    colorspace: str,
    compression: str,
    windows: str = "crossfade",
    continues: tuple[RenderSpec, int] | None = None,
    transform: OutputTransform | None = None,
    extra: dict | None = None,
) -> RenderSpec:
    """The render spec of one shot: its prompts inside ``style``, its seed and frames, and the
    settings the caller resolved. LoRA files and the reference image are hashed so that a
    changed file changes the ``job_hash`` and re-renders the shot.

    ``steps`` falls back to the style's when None; the shot's reference wins over the style's.
    ``continues``: the spec of the shot this one continues and the frame of it this one starts
    from; that shot's frame replaces any reference image. ``extra``: more that decides the
    pixels (``{"speed": ...}``, the speed options); empty, as in every render before them,
    when none is on, so those renders keep their job hashes.

    Raises:
        StyleError: a LoRA file of the style is missing or is not ``.safetensors``.
        RenderError: a LoRA file or the reference image cannot be read.
    """
    prompt, negative = style.prompts(job.prompt, job.negative_prompt)
    loras = []
    for lora in style.loras:
        if not Path(lora.path).is_file():
            raise StyleError(f"style {style.name!r}: LoRA file {lora.path} not found")
        if Path(lora.path).suffix != ".safetensors":
            raise StyleError(f"style {style.name!r}: LoRA file {lora.path} is not .safetensors; "
                             "pickle weights are never loaded")
        loras.append((lora.path, lora.scale, file_digest(Path(lora.path), what="LoRA")))
    reference = None if continues else job.reference or style.reference
    digest = file_digest(Path(reference), what=f"shot {job.name}: reference image") if reference else None
    previous, previous_frame = continues if continues else (None, None)
    return RenderSpec(
        shot=job.name,
        prompt=prompt,
        negative_prompt=negative,
        style=style.name,
        seed=job.seed,
        model=model,
        model_fingerprint=model_fingerprint,
        width=width,
        height=height,
        steps=style.steps if style.steps and steps is None else steps,
        guidance=guidance,
        first_frame=job.head_in,
        num_frames=job.frame_count,
        max_window=max_window,
        window_overlap=window_overlap,
        colorspace=colorspace,
        compression=compression,
        loras=tuple(loras),
        reference=reference,
        reference_digest=digest,
        windows=windows,
        continues=previous.shot if previous else None,
        continues_frame=previous_frame,
        continues_hash=previous.job_hash if previous else None,
        output_transform=transform.kind if transform else "srgb",
        display=transform.display if transform else "",
        view=transform.view if transform else "",
        # Only a model that draws scene-linear light names its colour space: other specs keep their hashes.
        extra={**(extra or {}), **({"model_colorspace": transform.source} if transform and transform.source else {})},
    )
