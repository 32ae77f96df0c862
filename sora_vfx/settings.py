"""The render settings, each declared once: its type, default, valid values and help.

``RENDER_SETTINGS`` is the one list. From it come the options of ``render`` and ``farm export``
(``cli.render.settings_options``), the ``[render]`` table's check in ``sora_vfx.toml``
(``config``), the values ``RenderSettings`` is built from, and the options each farm task runs
with (``farm.bundle``). A new setting is one more ``Setting`` here and one field of
``render.RenderSettings`` (or of ``models.acceleration.Acceleration`` for a speed option);
``tests/test_settings.py`` checks that every surface has it.

What a value means for a device or a model (a CUDA device, an attention backend's package) is
checked where the model is loaded, so that a workstation can plan a render for other machines.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from . import defaults

#: The most denoising steps a config, style or option may ask for.
MAX_STEPS = 1000
#: The largest guidance scale a config, style or option may ask for.
MAX_GUIDANCE = 100.0
#: Where the weights live (``models.memory``): ``auto`` sizes a plan from the model and device.
MEMORY_CHOICES = ("auto", "fast", "balanced", "low")
#: Weight quantisation of the transformer (``models.acceleration``).
QUANTIZE_CHOICES = ("none", "int8", "fp8")

_KINDS = ("text", "integer", "number", "boolean", "size", "choice", "path", "names")
_SIZE = re.compile(r"\s*(-?\d+)\s*[xX]\s*(-?\d+)\s*")


@dataclass(frozen=True)
class Setting:
    """One render setting.

    Attributes:
        name: its ``RenderSettings`` field (``speed``: its ``Acceleration`` field) and ``[render]`` key.
        kind: text, integer, number, boolean, size (WxH), choice, path or names (A,B).
        help: the option's help text.
        default: the value when neither the option nor the config gives one (None: the model,
            style or device decides).
        choices, low, high: the valid values (choice), or the range (integer, number).
        flag: the command-line option; default ``--`` and the name with dashes.
        metavar: how the help shows the value.
        config: whether ``[render]`` may set it.
        farm: how a farm task gets it: ``fixed`` (an option in the job template), ``parameter``
            (a job parameter the submitter may change) or ``""`` (the task list decides it).
        farm_always: a fixed option written even at its default, so every node renders with
            the value the export resolved.
        speed: a speed option (``RenderSettings.speed``), which changes pixels a little.
        manifest: whether ``manifest.json``'s settings record it (the speed options as one
            ``speed`` object).
    """

    name: str
    kind: str
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    flag: str = ""
    metavar: str | None = None
    config: bool = True
    farm: str = "fixed"
    farm_always: bool = False
    speed: bool = False
    manifest: bool = True

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {_KINDS}")
        if not self.flag:
            object.__setattr__(self, "flag", "--" + self.name.replace("_", "-"))

    @property
    def negated(self) -> bool:
        """A ``--no-...`` flag that turns off a setting that is on by default (``--no-audio``)."""
        return self.kind == "boolean" and self.default is True

    def problem(self, value: Any) -> str | None:
        """Why a ``[render]`` value (as TOML gives it) breaks this setting, or None."""
        return check_value(value, kind=self.kind, low=self.low, high=self.high, choices=self.choices)

    def parse(self, value: Any, *, where: str) -> Any:
        """The setting's value from an option's text or a config value; None stays None.

        Args:
            where: how the error names the value (``--size``, ``[render] size``).
        Raises:
            ConfigError: the value breaks the setting.
        """
        from .errors import ConfigError

        if value is None:
            return None
        if self.kind == "size":
            return parse_size(value, what=where)
        problem = self.problem(value)
        if problem:
            raise ConfigError(f"{where} {problem}")
        return value

    def farm_arguments(self, value: Any) -> list[str]:
        """The ``render`` option(s) a farm task runs with for ``value``: none at the default."""
        if value is None or (value == self.default and not self.farm_always):
            return []
        if self.kind == "boolean":
            return [self.flag] if value != self.default else []
        return [f"{self.flag}={value}"]


def check_value(value: Any, *, kind: str, low: float | None = None, high: float | None = None,
                choices: tuple[str, ...] = ()) -> str | None:
    """Why ``value`` is not a valid ``kind`` (in ``low``..``high``, one of ``choices``), or None."""
    if kind in ("text", "size", "choice", "names"):
        ok = isinstance(value, str)
    elif kind == "path":
        ok = isinstance(value, str | os.PathLike)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        wanted = {"size": 'a string like "832x480"', "integer": "a whole number", "number": "a finite number",
                  "boolean": "true or false"}.get(kind, "a string")
        return f"has to be {wanted}, not {value!r}"
    if kind == "size" and _size_problem(value) is not None:
        return f'has to be WIDTHxHEIGHT like "832x480", not {value!r}'
    if choices and value not in choices:
        return f"has to be one of {', '.join(choices)}, not {value!r}"
    if low is not None and high is not None and not low <= value <= high:
        return f"has to be from {low:g} to {high:g}, not {value!r}"
    return None


def parse_size(text: str, *, what: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` as two positive integers; ``what`` names the option in the error.

    Raises:
        ConfigError: not two positive whole numbers joined by ``x``.
    """
    from .errors import ConfigError

    problem = _size_problem(text)
    if problem is not None:
        raise ConfigError(f"{what} {text!r}: {problem}")
    match = _SIZE.fullmatch(str(text))
    return int(match[1]), int(match[2])


def _size_problem(text: object) -> str | None:
    """Why ``text`` is not ``WIDTHxHEIGHT`` of two positive whole numbers, or None."""
    match = _SIZE.fullmatch(str(text))
    if match is None:
        return "expected WIDTHxHEIGHT, e.g. 832x480"
    if int(match[1]) <= 0 or int(match[2]) <= 0:
        return "width and height must be positive"
    return None


#: Every render setting, in the order the help lists them, farm tasks pass them and the manifest records them.
RENDER_SETTINGS: tuple[Setting, ...] = (
    Setting("model", "text", "'tiny' (built in, default) or a local diffusers folder.", default=defaults.MODEL,
            farm="parameter"),
    Setting("shots", "names", "Render only these shots.", metavar="A,B", config=False, farm="", manifest=False),
    Setting("size", "size", "Frame size (default: the model's).", metavar="WxH", farm="parameter"),
    Setting("steps", "integer", "Denoising steps (0: each shot's style or the model decides).", low=0,
            high=MAX_STEPS, farm="parameter"),
    Setting("guidance", "number", f"Guidance scale (default {defaults.GUIDANCE:g}).", low=0, high=MAX_GUIDANCE),
    Setting("style", "text", "Style for shots whose edit names none.", farm="parameter"),
    Setting("colorspace", "text", f"Output colour space (default {defaults.COLORSPACE}).",
            default=defaults.COLORSPACE, farm_always=True),
    Setting("compression", "text", f"EXR compression: {', '.join(defaults.COMPRESSIONS)} (default "
            f"{defaults.COMPRESSION}).", default=defaults.COMPRESSION, farm_always=True),
    Setting("max_window", "integer", "Frames per model call for long shots (default: the model's limit).",
            low=1, high=defaults.MAX_SHOT_FRAMES, flag="--window", manifest=False),
    Setting("windows", "choice", "How long shots join their windows: context (denoised as one, default), continue "
            "(each window from the end of the one before), crossfade (independent windows) or forcing (the model "
            "carries the shot itself; `sora-vfx models` lists who can). A model that cannot uses its own, else "
            "crossfade.", default=defaults.WINDOWS, choices=defaults.WINDOW_METHODS),
    Setting("output_transform", "choice", "How the model's picture becomes scene-linear: inverse-view (default: the "
            "inverse of --display/--view, so display white is a highlight) or srgb (sRGB texture, white is 1.0).",
            default=defaults.OUTPUT_TRANSFORM, choices=defaults.OUTPUT_TRANSFORMS),
    Setting("display", "text", "OCIO display of inverse-view (default: the config's)."),
    Setting("view", "text", "OCIO view of inverse-view (default: the display's)."),
    Setting("device", "text", "cuda, cuda:1, mps or cpu (default: best available). Checked where the model "
            "loads: a farm export may name a device the workstation lacks.", manifest=False),
    Setting("memory", "choice", "Where the weights live: auto (default: the fastest plan that fits the device), "
            "fast (all on the device), balanced (each model moves to the device when it runs) or low (block by "
            "block). A shot that runs out of memory retries once on the next plan down.", default="auto",
            choices=MEMORY_CHOICES, metavar="PLAN"),
    Setting("cache", "text", "Step cache (changes pixels a little): first-block[:THRESHOLD] or "
            "taylorseer[:INTERVAL].", metavar="NAME[:VALUE]", speed=True),
    Setting("attention", "text", "Attention backend (diffusers'): native, flex, flash, sage, ... where installed.",
            metavar="BACKEND", speed=True),
    Setting("compile", "boolean", "torch.compile the transformer's blocks (slow first shot, faster after).",
            default=False, speed=True),
    Setting("quantize", "choice", "Quantise the transformer's weights with torchao: int8, or fp8 on CUDA.",
            choices=QUANTIZE_CHOICES, speed=True),
    Setting("conform", "text", "Conform timelines to write: otio, xml (FCP 7 XML: Premiere, Resolve), edl "
            "(CMX 3600), aaf (Avid), comma-separated; OTIO always. Default: OTIO plus the edit's own format.",
            metavar="FORMATS", manifest=False),
    Setting("audio", "boolean", "Do not write the sound of models that make it (OUT/<shot>/<shot>.wav).",
            default=True, flag="--no-audio"),
    Setting("reference_render", "path", "A render of the same edit whose frames a video-to-video model remakes "
            "(an HDR model: an SDR render, remade as scene-linear HDR light).", metavar="OUT", config=False),
)

#: The settings by name.
RENDER = {setting.name: setting for setting in RENDER_SETTINGS}
