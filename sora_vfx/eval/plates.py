"""Plate extension measured against the truth: the shapes world knows what lies outside a crop.

A case is a full-frame clip of the shapes world, its middle cropped as the "filmed" plate.
Extended back to full size, the border is compared with the clip:

- **found**: of the frames where the truth has an object's centre in the border (and the
  object mostly in frame) that the plate shows in the filmed area on some other frame (it
  leaves or enters the filmed frame: the shot tells where it is), the share where a blob of its
  colour in the border (filmed pixels do not count) lies within :data:`FOUND_DISTANCE` of the
  frame width of its true centre;
- **flicker** (still plates): the border's mean absolute frame-to-frame change against the
  filmed area's own;
- **seam**: the mean colour difference between a band just outside the seam and one just
  inside it, against the difference between two neighbouring bands inside the plate.

Pictures are compared display-referred (the model's pictures), in [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sora_vfx.eval.segment import UNCLASSIFIED, classify_colours, find_blobs
from sora_vfx.imaging.masks import seam_bands
from sora_vfx.shapes import COLOURS, Box, Clip, Scene, SceneObject, caption, draw_clip, plan_clip

#: An object counts as found when a blob of its colour is this close (a share of the frame width).
FOUND_DISTANCE = 0.05
#: Targets of the issue: found share, flicker ratio, seam ratio.
FOUND_TARGET = 0.9
FLICKER_TARGET = 1.2
SEAM_TARGET = 1.5
#: Band width either side of the seam, as a share of the frame width (at least 2 pixels).
BAND_SHARE = 0.03
#: Film grain on the case plates (standard deviation, display-referred): a still plate's own
#: frame-to-frame change, which the border's flicker is measured against.
GRAIN = 0.01
#: A truth object counts in a frame when at least this share of it is in the full frame.
_VISIBLE = 0.75
#: Kinds of case: an object crossing the filmed edge, a pan over still objects, a still plate.
KINDS = ("crossing", "pan", "still")


@dataclass(frozen=True, eq=False)
class PlateCase:
    """A full-frame clip and the crop of it that plays the filmed plate."""

    name: str
    kind: str
    clip: Clip
    box: Box
    grain: float = 0.0
    seed: int = 0

    @property
    def prompt(self) -> str:
        return caption(self.clip.plan.scene)

    @property
    def plate(self) -> np.ndarray:
        """The filmed frames: (frames, box height, box width, 3) display-referred, with a film
        grain of ``grain`` (standard deviation) that differs on every frame, as a camera's does."""
        frames = draw_clip(self.clip.plan, box=self.box).frames
        if self.grain:
            noise = np.random.default_rng([self.seed, 23]).normal(0.0, self.grain, frames.shape)
            frames = np.clip(frames + noise.astype(np.float32), 0.0, 1.0)
        return frames

    @property
    def pad(self) -> tuple[int, int, int, int]:
        """Left, right, bottom, top: what ``extend --pad`` adds to get the full frame back."""
        full_w, full_h = self.clip.plan.width, self.clip.plan.height
        b = self.box
        return b.x, full_w - b.x - b.width, full_h - b.y - b.height, b.y


def _scene(rng: np.random.Generator, kind: str, colour: str | None = None) -> Scene:
    colours = list(COLOURS)
    background = str(rng.choice([c for c in colours if c != colour]))
    colour = colour or str(rng.choice([c for c in colours if c != background]))
    shape = str(rng.choice(["ball", "square"]))
    if kind == "crossing":
        motion, pan = str(rng.choice(["moving left", "moving right"])), None
    elif kind == "pan":
        motion, pan = "standing still", str(rng.choice(["left", "right"]))
    else:
        motion, pan = "standing still", None
    return Scene(objects=(SceneObject(colour=colour, shape=shape, size="small", motion=motion),),
                 background=background, pan=pan)


def plate_cases(count: int, *, seed: int = 0, frames: int = 25, size: tuple[int, int] = (64, 64),
                pad: float = 0.2, grain: float = GRAIN, kinds: tuple[str, ...] = KINDS,
                colour: str | None = None) -> list[PlateCase]:
    """``count`` cases, ``kinds`` in turn; the filmed crop leaves ``pad`` of the width on each
    side; plates carry ``grain``; objects are ``colour`` (default: drawn). Crossing and pan cases
    are redrawn until the truth has the object in the border on at least a fifth of the frames."""
    rng = np.random.default_rng([seed, 17])
    width, height = size
    side = round(width * pad)
    box = Box(side, 0, width - 2 * side, height)
    cases = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        for _ in range(64):
            plan = plan_clip(_scene(rng, kind, colour), frames=frames, width=width, height=height, rng=rng)
            clip = draw_clip(plan)
            outside = _in_border(clip, box)
            if kind == "still" or outside.mean() >= 0.2:
                break
        cases.append(PlateCase(f"{kind}{index:02d}", kind, clip, box, grain, seed * 1000 + index))
    return cases


def _in_border(clip: Clip, box: Box) -> np.ndarray:
    """(frames,) whether an object that the filmed area shows on some frame has its centre
    outside the filmed box, the object mostly in frame."""
    found = np.zeros(clip.frames.shape[0], dtype=bool)
    for truth in clip.objects:
        found |= _border_frames(truth, box)
    return found


def _border_frames(truth, box: Box) -> np.ndarray:
    """(frames,) where ``truth``'s centre is outside ``box`` with the object mostly in frame,
    for an object whose centre is inside ``box`` on at least one frame; else all False."""
    x, y = truth.centre[:, 0], truth.centre[:, 1]
    out = (x < box.x) | (x >= box.x + box.width) | (y < box.y) | (y >= box.y + box.height)
    if out.all():
        return np.zeros_like(out)
    return out & (truth.visible >= _VISIBLE)


@dataclass(frozen=True)
class PlateMeasures:
    """One extension measured against its case's truth."""

    name: str
    kind: str
    border_frames: int
    found_frames: int
    flicker_border: float | None
    flicker_plate: float | None
    seam_difference: float
    inside_difference: float

    @property
    def found(self) -> float | None:
        return self.found_frames / self.border_frames if self.border_frames else None

    def to_dict(self) -> dict:
        return {**asdict(self), "found": self.found}


def measure_extension(case: PlateCase, pictures: np.ndarray) -> PlateMeasures:
    """Measure an extension of ``case``: ``pictures`` (frames, height, width, 3), the full
    extended frames back as display-referred pictures."""
    clip, box = case.clip, case.box
    count, height, width = pictures.shape[:3]
    border_mask = np.ones((height, width), dtype=bool)
    border_mask[box.y:box.y + box.height, box.x:box.x + box.width] = False
    classes = classify_colours(pictures)
    # Only what the border shows counts: an object half across the seam is not found by its
    # filmed half.
    classes[:, ~border_mask] = UNCLASSIFIED
    blobs = find_blobs(classes)
    reach = FOUND_DISTANCE * width
    wanted = found = 0
    for truth in clip.objects:
        colour = COLOURS.index(truth.obj.colour)
        for frame in np.flatnonzero(_border_frames(truth, box)[:count]):
            x, y = truth.centre[frame]
            wanted += 1
            index = blobs.of(colour, frame)
            if len(index) and np.min(np.hypot(blobs.x[index] - x, blobs.y[index] - y)) <= reach:
                found += 1
    flicker_border = flicker_plate = None
    if case.kind == "still" and count > 1:
        change = np.abs(np.diff(pictures, axis=0)).mean(axis=(0, 3))
        flicker_border = float(change[border_mask].mean())
        flicker_plate = float(change[~border_mask].mean())
    band = max(2, round(BAND_SHARE * width))
    inside, outside = _bands(border_mask, band)
    deeper, _ = _bands(border_mask, 2 * band)
    deeper &= ~inside
    seam = np.abs(pictures[:, outside].mean(axis=1) - pictures[:, inside].mean(axis=1)).mean()
    reference = np.abs(pictures[:, inside].mean(axis=1) - pictures[:, deeper].mean(axis=1)).mean()
    return PlateMeasures(case.name, case.kind, wanted, found, flicker_border, flicker_plate, float(seam),
                         float(reference))


def _bands(border: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    return seam_bands(border.astype(np.float32), width)


def summarize_plates(measures: list[PlateMeasures]) -> dict:
    """The totals: found share over all border frames, flicker ratio over still cases, seam
    ratio of the mean differences."""
    wanted = sum(m.border_frames for m in measures)
    still = [m for m in measures if m.flicker_border is not None]
    plate_flicker = sum(m.flicker_plate for m in still)
    inside = sum(m.inside_difference for m in measures)
    return {
        "cases": len(measures),
        "found": sum(m.found_frames for m in measures) / wanted if wanted else None,
        "border_frames": wanted,
        "flicker_ratio": sum(m.flicker_border for m in still) / plate_flicker if still and plate_flicker else None,
        "seam_ratio": sum(m.seam_difference for m in measures) / inside if inside else None,
        "seam_difference": float(np.mean([m.seam_difference for m in measures])) if measures else None,
    }


def highlight_range(plate_paths: list[Path], out_paths: list[Path]) -> tuple[float, float]:
    """The 99.9th percentile of the plate's scene-linear RGB and of the extension's border
    (where its ``mask`` channel is 1): a border that keeps the plate's highlights has them alike."""
    from sora_vfx.imaging.exr import read_exr_pixels

    plate = np.concatenate([read_exr_pixels(path)[..., :3].reshape(-1, 3) for path in plate_paths])
    border = []
    for path in out_paths:
        pixels = read_exr_pixels(path)
        border.append(pixels[..., :3][pixels[..., 4] > 0.5])
    return float(np.percentile(plate, 99.9)), float(np.percentile(np.concatenate(border), 99.9))


def write_case_plate(case: PlateCase, folder: Path, *, transform, colorspace: str, first: int = 1001) -> str:
    """The case's filmed frames as a scene-linear EXR sequence (``transform`` from the pictures,
    as a camera plate would come in); returns its ``####`` pattern."""
    from sora_vfx.imaging.exr import write_exr_frame

    folder.mkdir(parents=True, exist_ok=True)
    attributes = {"oiio:ColorSpace": colorspace}
    for offset, picture in enumerate(case.plate):
        write_exr_frame(folder / f"{case.name}.{first + offset:04d}.exr",
                        transform.to_scene(picture, colorspace), attributes=attributes)
    return str(folder / f"{case.name}.####.exr")
