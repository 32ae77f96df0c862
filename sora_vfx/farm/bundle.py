"""Open Job Description job bundles: the same render as ``sora-vfx render``, one task per shot.

A bundle is a folder with ``template.yaml``, ``parameter_values.yaml`` and
``asset_references.yaml``, as AWS Deadline Cloud expects (``deadline bundle submit BUNDLE``);
``openjd run BUNDLE/template.yaml -p Edit=... -p OutputDir=...`` runs it on one machine.

``Render`` has one task per shot (task parameter ``Shot``), each running
``sora-vfx render EDIT --out OUT --shots SHOT``; re-running a task keeps the frames already on
disk with the same ``job_hash``. A shot marked ``CONTINUES`` starts from the frames of the shot
it continues, and OpenJD orders steps, not the tasks of one step: such shots go in ``Render 2``,
which runs after ``Render``, shots continuing those in ``Render 3``, and so on. ``Conform`` runs
after every render step and writes ``manifest.json`` and ``renders.otio`` from what is on disk
(``render --conform-only``).
Job parameters: Edit, OutputDir, Model, Style, Size, Steps, Seed and the sora-vfx command on the
workers; the options that decide which shots exist (handles, frame rate, tracks, ...) are fixed
in the template, since the task list was made with them.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import defaults
from ..editorial import EditOptions
from ..editorial.links import continuation_depth
from ..errors import FarmError
from ..files import write_text_atomically
from ..models.folders import BUILTIN_NAMES
from ..render import RenderPlan, RenderSettings
from ..settings import RENDER_SETTINGS

TEMPLATE_NAME = "template.yaml"
PARAMETERS_NAME = "parameter_values.yaml"
ASSETS_NAME = "asset_references.yaml"
BUNDLE_FILES = (TEMPLATE_NAME, PARAMETERS_NAME, ASSETS_NAME)
# Deadline reads either spelling; a stale .json beside a fresh .yaml would be ambiguous.
_OTHER_SPELLINGS = tuple(name.replace(".yaml", ".json") for name in BUNDLE_FILES)
SPECIFICATION = "jobtemplate-2023-09"
RENDER_STEP = "Render"
CONFORM_STEP = "Conform"
DEFAULT_COMMAND = "sora-vfx"
MAX_TASKS = 1024  # values in one task parameter's range (jobtemplate-2023-09)
_EDIT_PATTERNS = ["*.edl", "*.otio", "*.otioz", "*.xml", "*.fcpxml"]

@dataclass(frozen=True)
class FarmRender:
    """Everything a farm task passes to ``sora-vfx render``: paths absolute, defaults resolved."""

    @property
    def shot_sheet(self) -> Path | None:
        return self.reading.shot_sheet

    edit: Path
    out_dir: Path
    shots: tuple[str, ...]
    subset: bool  # --shots chose some of the edit's shots: the conform step checks only those
    #: Per shot of ``shots``: 0 when it continues no shot of this render, else one more than the
    #: shot it continues (``editorial.links.continuation_depth``); empty: every shot 0.
    depths: tuple[int, ...] = ()
    reading: EditOptions = EditOptions()  # how the edit was read: the tasks read it the same way
    model: str = defaults.MODEL
    style: str = ""
    size: str = ""
    steps: int = 0  # 0: each shot's style or the model decides
    config: Path | None = None
    #: The other render settings as ``render`` options, fixed in the template (``Setting.farm``).
    options: tuple[str, ...] = ()
    inputs: tuple[Path, ...] = ()  # files the tasks read besides the edit: references, LoRAs
    model_folder: Path | None = None

    def render_steps(self) -> list[tuple[str, ...]]:
        """The shots of each render step, by depth: a shot comes one step after the shot it
        continues, so that its task starts when that shot's frames are on disk."""
        depths = self.depths or (0,) * len(self.shots)
        steps: list[list[str]] = [[] for _ in range(max(depths, default=0) + 1)]
        for shot, depth in zip(self.shots, depths, strict=True):
            steps[depth].append(shot)
        return [tuple(shots) for shots in steps]


def render_step_name(depth: int) -> str:
    """The render step of the shots of this depth: ``Render`` for the shots that continue none,
    ``Render 2`` for those that continue them, ..."""
    return RENDER_STEP if depth == 0 else f"{RENDER_STEP} {depth + 1}"


@dataclass
class Bundle:
    """A written job bundle and what the user should know about it."""

    folder: Path
    files: list[Path]
    render: FarmRender
    parameter_values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def openjd_run_args(self) -> list[str]:
        """``openjd run`` arguments that run this bundle here, with the exported parameters."""
        args = ["openjd", "run", str(self.folder / TEMPLATE_NAME)]
        for name, value in self.parameter_values.items():
            if PARAMETER_DEFAULTS.get(name, object()) != value:
                args += ["-p", f"{name}={value}"]
        return args


# The template's defaults are generic; parameter_values.yaml carries what the export chose.
PARAMETER_DEFAULTS: dict[str, Any] = {
    "Model": defaults.MODEL, "Style": "", "Size": "", "Steps": 0, "Seed": 0, "SoraVfx": DEFAULT_COMMAND,
}


def farm_render(*, plan: RenderPlan, reading: EditOptions, config: Path | None = None) -> FarmRender:
    """The farm's view of a checked render plan: absolute paths and the resolved options.

    Args:
        plan: the render, checked (``plan_without_weights``).
        reading: how the plan's edit was read.
        config: the project config given with ``--config``, if any.
    """
    settings = plan.settings
    model = settings.model
    model_folder = None
    if model not in BUILTIN_NAMES:
        model_folder = absolute(model)
        model = str(model_folder)
    inputs: set[Path] = set()
    for spec in (shot.spec for shot in plan.shots):
        if spec.reference:
            inputs.add(absolute(spec.reference))
        inputs.update(absolute(lora[0]) for lora in spec.loras)
    shots = tuple(shot.name for shot in plan.shots)
    # Only links inside the render order it: a predecessor left out by --shots is on disk already.
    depth = continuation_depth([shot.job for shot in plan.shots])
    shot_sheet = absolute(reading.shot_sheet) if reading.shot_sheet else None
    return FarmRender(
        edit=absolute(plan.edit.path),
        out_dir=absolute(plan.out_dir),
        shots=shots,
        subset=bool(settings.shots),
        depths=tuple(depth[name] for name in shots),
        model=model,
        style=settings.style or "",
        size=f"{settings.size[0]}x{settings.size[1]}" if settings.size else "",
        steps=settings.steps or 0,
        reading=dataclasses.replace(reading, shot_sheet=shot_sheet, fps=str(reading.fps) if reading.fps else None,
                                    shot_pattern=reading.shot_pattern or None),
        config=absolute(config) if config else None,
        options=tuple(_fixed_options(settings)),
        inputs=tuple(sorted(inputs)),
        model_folder=model_folder,
    )


def _fixed_options(settings: RenderSettings) -> list[str]:
    """The settings every task renders with, as options (paths absolute: a farm mounts the
    names users see); a speed option as its job hash has it."""
    options = []
    for setting in RENDER_SETTINGS:
        if setting.farm == "fixed":
            value = settings.value(setting)
            options += setting.farm_arguments(absolute(value) if setting.kind == "path" and value else value)
    return options


def job_template(*, render: FarmRender, gpus: int = 0) -> dict[str, Any]:
    """The Open Job Description job template (a plain dict, in the order it is written).

    Args:
        render: the render each task runs.
        gpus: GPUs a render task's host must have (0: no requirement).
    Raises:
        FarmError: more shots in a render step than a step holds; a fixed option holds ``{{``,
            which OpenJD would read as a placeholder.
    """
    render_steps = [_render_step(render, depth, shots, gpus) for depth, shots in enumerate(render.render_steps())]
    conform_shots = ["--shots", ",".join(render.shots)] if render.subset else []
    conform_step = {
        "name": CONFORM_STEP,
        "description": "Writes manifest.json, renders.otio and the review from the frames on disk; fails if any "
                       "is missing.",
        "dependencies": [{"dependsOn": step["name"]} for step in render_steps],
        "script": {"actions": {"onRun": {
            "command": "{{Param.SoraVfx}}",
            "args": [*_render_args(render), *conform_shots, "--conform-only"],
        }}},
    }
    return {
        "specificationVersion": SPECIFICATION,
        "name": f"sora-vfx {_plain(render.edit.stem)}",
        "description": (
            f"Renders the shots of {_plain(render.edit.name)} with sora-vfx, one task per shot, then writes "
            "the conform timeline (renders.otio) and manifest.json from what is on disk. "
            "Exported by `sora-vfx farm export`."
        ),
        "parameterDefinitions": _parameter_definitions(render),
        "steps": [*render_steps, conform_step],
    }


def parameter_values(*, render: FarmRender, command: str = DEFAULT_COMMAND) -> dict[str, Any]:
    """The job parameter values this export chose, by name."""
    values: dict[str, Any] = {
        "Edit": str(render.edit), "OutputDir": str(render.out_dir), "Model": render.model,
        "Style": render.style, "Size": render.size, "Steps": render.steps,
        "Seed": render.reading.project_seed,
        "SoraVfx": command,
    }
    if render.shot_sheet:
        values["ShotSheet"] = str(render.shot_sheet)
    if render.config:
        values["Config"] = str(render.config)
    return values


def asset_references(*, render: FarmRender) -> dict[str, Any]:
    """Files the tasks read that no PATH parameter names (job attachments upload these), and
    the model folder as a referenced path (mapped, not uploaded)."""
    return {"assetReferences": {
        "inputs": {"directories": [], "filenames": [str(path) for path in render.inputs]},
        "outputs": {"directories": []},
        "referencedPaths": [str(render.model_folder)] if render.model_folder else [],
    }}


def validate_template(*, template: dict[str, Any], values: dict[str, Any], bundle_dir: Path) -> None:
    """Decode the template with ``openjd-model`` and instantiate the job with ``values``.

    Raises:
        FarmError: every problem ``openjd-model`` found, in one message.
    """
    from openjd.model import DecodeValidationError, create_job, decode_job_template, preprocess_job_parameters

    try:
        decoded = decode_job_template(template=template)
    except DecodeValidationError as exc:
        raise FarmError(f"the job template is not valid Open Job Description: {exc}") from None
    try:
        resolved = preprocess_job_parameters(
            job_template=decoded, job_parameter_values={name: str(value) for name, value in values.items()},
            job_template_dir=bundle_dir, current_working_dir=Path.cwd(),
        )
        create_job(job_template=decoded, job_parameter_values=resolved)
    except (ValueError, DecodeValidationError) as exc:
        raise FarmError(f"the job template does not accept the exported parameter values: {exc}") from None


def check_bundle_folder(*, folder: Path, force: bool = False) -> None:
    """A bundle goes into a new or empty folder, or over an old bundle with ``force``.

    Raises:
        FarmError: the folder is a file, or is not empty and ``force`` is off.
    """
    if folder.exists() and not folder.is_dir():
        raise FarmError(f"bundle folder {folder} is a file")
    if folder.is_dir() and not force:
        entries = sorted(p.name for p in folder.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise FarmError(f"bundle folder {folder} is not empty ({shown}); choose a new folder "
                            "or pass --force to write the bundle over it")


def export_bundle(*, plan: RenderPlan, reading: EditOptions, folder: Path, config: Path | None = None,
                  command: str = DEFAULT_COMMAND, gpus: int = 0, force: bool = False) -> Bundle:
    """Write the job bundle for a checked render plan.

    Args:
        plan: the render, checked without weights (``plan_without_weights``).
        reading: how its edit was read; config: the project config given, if any.
        folder: the bundle folder; created, or replaced with ``force``.
        command: the sora-vfx command on the workers (the SoraVfx parameter's value).
        gpus: GPUs each render task's host must have; 0 asks for none.
        force: write over a folder that is not empty.
    Returns:
        The bundle, with warnings about paths the farm may not see.
    Raises:
        FarmError: the folder is not empty (without ``force``), or the template is not valid.
    """
    folder = absolute(folder)
    check_bundle_folder(folder=folder, force=force)
    render = farm_render(plan=plan, reading=reading, config=config)
    template = job_template(render=render, gpus=gpus)
    values = parameter_values(render=render, command=command)
    validate_template(template=template, values=values, bundle_dir=folder)
    documents = {
        TEMPLATE_NAME: _header(render) + _dump(template),
        PARAMETERS_NAME: _dump({"parameterValues": [{"name": k, "value": v} for k, v in values.items()]}),
        ASSETS_NAME: _dump(asset_references(render=render)),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _OTHER_SPELLINGS:
            (folder / name).unlink(missing_ok=True)
    except OSError as exc:
        raise FarmError(f"cannot write the bundle to {folder}: {exc.strerror or exc}") from None
    files = [write_text_atomically(folder / name, text, what="job bundle file", error=FarmError)
             for name, text in documents.items()]
    return Bundle(folder, files, render, values, warnings=visibility_warnings(render))


def visibility_warnings(render: FarmRender) -> list[str]:
    """Inputs on another file system than the output folder: a farm that mounts only the
    output's share would not see them."""
    try:
        out_device = os.stat(_existing(render.out_dir)).st_dev
    except OSError:
        return []
    named = [("edit", render.edit), ("shot sheet", render.shot_sheet), ("config", render.config),
             ("model folder", render.model_folder), *(("input", path) for path in render.inputs)]
    warnings = []
    for what, path in named:
        if path is None:
            continue
        try:
            device = os.stat(path).st_dev
        except OSError:
            continue
        if device != out_device:
            warnings.append(f"{what} {path} is on another file system than the output folder {render.out_dir}: "
                            "make sure the farm's workers see it at the same path (or use job attachments)")
    return warnings


def absolute(path: str | Path) -> Path:
    """An absolute path, ``..`` removed, symlinks kept: a farm mounts the names users see."""
    return Path(os.path.abspath(os.path.expanduser(path)))


def _parameter_definitions(render: FarmRender) -> list[dict[str, Any]]:
    group = "sora-vfx render"
    definitions: list[dict[str, Any]] = [
        {"name": "Edit", "type": "PATH", "objectType": "FILE", "dataFlow": "IN", "minLength": 1,
         "description": "The edit to render (CMX 3600 EDL, OTIO, FCP XML). Its shots were listed at export.",
         "userInterface": {"control": "CHOOSE_INPUT_FILE", "label": "Edit", "groupLabel": group,
                           "fileFilters": [{"label": "Edits", "patterns": _EDIT_PATTERNS},
                                           {"label": "All Files", "patterns": ["*"]}]}},
        {"name": "OutputDir", "type": "PATH", "objectType": "DIRECTORY", "dataFlow": "OUT", "minLength": 1,
         "description": "Output folder: OUT/<shot>/<shot>.####.exr, manifest.json, renders.otio.",
         "userInterface": {"control": "CHOOSE_DIRECTORY", "label": "Output folder", "groupLabel": group}},
        {"name": "Model", "type": "STRING", "minLength": 1, "default": PARAMETER_DEFAULTS["Model"],
         "description": "'tiny' (built in) or a diffusers pipeline folder that every worker can read.",
         "userInterface": {"control": "LINE_EDIT", "label": "Model", "groupLabel": group}},
        {"name": "Style", "type": "STRING", "default": PARAMETER_DEFAULTS["Style"],
         "description": "Style for shots whose edit names none (empty: none).",
         "userInterface": {"control": "LINE_EDIT", "label": "Style", "groupLabel": group}},
        {"name": "Size", "type": "STRING", "default": PARAMETER_DEFAULTS["Size"],
         "description": "Frame size WIDTHxHEIGHT, e.g. 832x480 (empty: the model's).",
         "userInterface": {"control": "LINE_EDIT", "label": "Size", "groupLabel": group}},
        {"name": "Steps", "type": "INT", "minValue": 0, "default": PARAMETER_DEFAULTS["Steps"],
         "description": "Denoising steps (0: each shot's style or the model decides).",
         "userInterface": {"control": "SPIN_BOX", "label": "Steps", "groupLabel": group}},
        {"name": "Seed", "type": "INT", "minValue": 0, "default": PARAMETER_DEFAULTS["Seed"],
         "description": "Project seed; each shot's seed derives from it and the shot name.",
         "userInterface": {"control": "SPIN_BOX", "label": "Project seed", "groupLabel": group}},
    ]
    if render.shot_sheet:
        definitions.append(_toml_file("ShotSheet", "Shot sheet", "TOML shot sheet: names, prompts, styles, seeds."))
    if render.config:
        definitions.append(_toml_file("Config", "Project config", "Project config (sora_vfx.toml)."))
    definitions.append(
        {"name": "SoraVfx", "type": "STRING", "minLength": 1, "default": PARAMETER_DEFAULTS["SoraVfx"],
         "description": "The sora-vfx command on the workers (a name on PATH or a full path).",
         "userInterface": {"control": "LINE_EDIT", "label": "sora-vfx command", "groupLabel": "Software"}})
    return definitions


def _toml_file(name: str, label: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "PATH", "objectType": "FILE", "dataFlow": "IN", "minLength": 1,
            "description": description,
            "userInterface": {"control": "CHOOSE_INPUT_FILE", "label": label, "groupLabel": "sora-vfx render",
                              "fileFilters": [{"label": "TOML", "patterns": ["*.toml"]},
                                              {"label": "All Files", "patterns": ["*"]}]}}


def _render_step(render: FarmRender, depth: int, shots: tuple[str, ...], gpus: int) -> dict[str, Any]:
    """One render step: a task per shot; after the step before when its shots continue others."""
    name = render_step_name(depth)
    if len(shots) > MAX_TASKS:
        raise FarmError(f"{len(shots)} shots in step {name}: an Open Job Description step holds at most "
                        f"{MAX_TASKS} tasks; export the edit in parts with --shots")
    kept = "A re-run keeps the frames already on disk with the same job_hash."
    step: dict[str, Any] = {"name": name, "description": f"One task per shot. {kept}"}
    if depth:
        previous = render_step_name(depth - 1)
        step["description"] = f"One task per shot that continues a shot of step {previous}, from its frames. {kept}"
        step["dependencies"] = [{"dependsOn": previous}]
    step |= {
        "parameterSpace": {
            "taskParameterDefinitions": [{"name": "Shot", "type": "STRING", "range": list(shots)}],
        },
        "script": {"actions": {"onRun": {
            "command": "{{Param.SoraVfx}}",
            # The review (movies of every shot on disk) is built once, by Conform.
            "args": [*_render_args(render), "--shots", "{{Task.Param.Shot}}", "--no-review"],
        }}},
    }
    if gpus:
        step["hostRequirements"] = {"amounts": [{"name": "amount.worker.gpu", "min": gpus}]}
    return step


def _render_args(render: FarmRender) -> list[str]:
    """``sora-vfx render`` arguments shared by every step: parameters, then fixed options."""
    args = ["render", "{{Param.Edit}}", "--out", "{{Param.OutputDir}}",
            "--model={{Param.Model}}", "--style={{Param.Style}}", "--size={{Param.Size}}",
            "--steps={{Param.Steps}}", "--seed={{Param.Seed}}"]
    if render.shot_sheet:
        args += ["--shot-sheet", "{{Param.ShotSheet}}"]
    if render.config:
        args += ["--config", "{{Param.Config}}"]
    reading = render.reading
    fixed = [f"--handles={reading.handles}", f"--start-frame={reading.start_frame}"]
    fixed += [f"--fps={reading.fps}"] if reading.fps else []
    fixed += [f"--track={track}" for track in reading.tracks]
    fixed += [f"--shot-pattern={reading.shot_pattern}"] if reading.shot_pattern else []
    if reading.max_shot_frames != defaults.MAX_SHOT_FRAMES:
        fixed += [f"--max-shot-frames={reading.max_shot_frames}"]
    fixed += render.options
    for arg in fixed:
        if "{{" in arg:
            raise FarmError(f"option {arg!r} holds '{{{{', which Open Job Description reads as a placeholder")
    return args + fixed


def _plain(text: str) -> str:
    return text.replace("{{", "{ {")


def _header(render: FarmRender) -> str:
    return (f"# Open Job Description job template: sora-vfx render of {_plain(render.edit.name)}, one task per shot.\n"
            "# Exported by `sora-vfx farm export`. Submit: `deadline bundle submit BUNDLE`;\n"
            "# run here: `openjd run BUNDLE/template.yaml -p Edit=EDIT -p OutputDir=OUT`.\n")


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
