"""Render a Sora node: write its input, check whether anything changed, run sora-vfx, show the result.

``render`` (the Render button) writes the node's input (the plate, or the reference image) as an
ACEScg EXR, computes the inputs hash, and when the last version was made from the same inputs
says "up to date" and stops. Otherwise it runs the ``sora-vfx`` command line for a new version
folder in the background (``background.BackgroundRun``) and, when it finishes, points the node's
Read at the new version. ``submit_to_farm`` does the same through ``sora-vfx farm export`` and
the studio's submit command; ``render_all`` renders a script's nodes without a GUI (``nuke -t``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil

import nuke

from . import jobs, knobs, nodes
from .background import BackgroundRun
from .process import (
    ShimError,
    SoraProcess,
    find_executable,
    frame_paths,
    read_manifest,
    render_progress_files,
    shot_pattern,
)

#: The command that submits an OpenJD job bundle folder (its path is appended), e.g.
#: ``deadline bundle submit``: where it is set, SoraGenerate can render on the farm.
FARM_ENV = "SORA_VFX_FARM_SUBMIT"
_FRAME_TOKEN = re.compile(r"#+|@+|%0?\d*d")


class Prepared:
    """One render of a node, ready to run: its settings, version folder and command line."""

    def __init__(self, node):
        self.node = node
        self.kind = nodes.sora_kind(node)
        self.name = node.name()
        self.settings = nodes.settings(node)
        self.executable = find_executable()
        self.root = nodes.output_root(node)
        self.colorspace = self.settings.get("colorspace") or nodes.WORKING_COLORSPACES[0]
        if self.kind == knobs.EXTEND:
            self._prepare_plate()
        else:
            self._prepare_shot()
        self.inputs_hash = jobs.inputs_hash(self.kind, self.settings, executable=self.executable,
                                            inputs=self.inputs)
        self.version, self.resumes = jobs.version_for(self.root, self.inputs_hash)
        self.out = os.path.join(self.root, self.version)

    def _prepare_plate(self) -> None:
        source = self.node.input(0)
        if source is None:
            raise ShimError("connect the plate to the node's input")
        if self.settings["frame_range"] == "custom":
            self.first, self.last = int(self.settings["first"]), int(self.settings["last"])
        else:
            self.first, self.last = int(source.firstFrame()), int(source.lastFrame())
        if self.last < self.first:
            raise ShimError(f"frame range {self.first}-{self.last}: the last frame is before the first")
        pattern, digest, self.colorspace = write_input(self.node, "plate", self.root, self.name, self.first, self.last)
        self.plate = plate_with_range(pattern, self.first, self.last)
        self.inputs = {"plate": digest, "mask": None}
        self.mask = None
        if self.node.input(1) is not None:
            pattern, self.inputs["mask"], _ = write_input(self.node, "mask", self.root, f"{self.name}_mask",
                                                          self.first, self.last, channels="alpha")
            self.mask = plate_with_range(pattern, self.first, self.last)

    def _prepare_shot(self) -> None:
        self.shot = jobs.shot_name_of(self.settings, self.name)
        self.first, self.last = int(self.settings["first"]), int(self.settings["last"])
        self.inputs = {"reference": None, "edit": None}
        self.reference = None
        source = self.node.input(0)
        if source is not None:
            frame = int(source.firstFrame())
            pattern, self.inputs["reference"], _ = write_input(self.node, "reference", self.root,
                                                               f"{self.name}_reference", frame, frame)
            self.reference = frame_paths(pattern, frame, frame)[0]
        if self.settings["source"] == "edit shot":
            self.inputs["edit"] = jobs.file_digest(jobs.edit_file(self.settings))

    def command(self) -> list[str]:
        """The sora-vfx command line (writes a prompt shot's OTIO or an edit shot's sheet into OUT)."""
        if self.kind == knobs.EXTEND:
            return jobs.extend_command(self.settings, executable=self.executable, plate=self.plate, out=self.out,
                                       plate_colorspace=self.colorspace, mask=self.mask)
        return jobs.generate_command(self.settings, executable=self.executable, out=self.out,
                                     node_name=self.name, reference=self.reference)

    def expected_files(self) -> list[str]:
        """The frames sora-vfx will write, to follow its progress."""
        if self.kind == knobs.EXTEND:
            return frame_paths(os.path.join(self.out, f"{self.name}_ext.####.exr"), self.first, self.last)
        return render_progress_files(self.out, [{"name": self.shot, "head_in": self.first, "tail_out": self.last}])

    def record(self, status: str, **fields) -> dict:
        record = {"node": self.name, "kind": self.kind, "version": self.version, "status": status,
                  "inputs_hash": self.inputs_hash, "inputs": self.inputs, "settings": self.settings}
        previous = jobs.read_record(self.out) or {}
        record.update({k: v for k, v in previous.items() if k in ("command", "pattern", "first", "last")})
        record.update(fields)
        jobs.write_record(self.out, record)
        return record


def write_input(node, source: str, root: str, name: str, first: int, last: int, *,
                channels: str | None = None) -> tuple[str, str, str]:
    """Write the node's input ``source`` (an Input inside it), frames ``first``-``last``, as
    32-bit float EXRs in the working colour space (``channels``: the Write's, e.g. ``alpha``;
    default its own), into ``root/inputs/<name>_<digest>/``: the same pixels give the same
    folder, so a resumed render finds its plate unchanged. Returns (``####`` pattern, digest,
    colour space)."""
    staging = os.path.join(root, "inputs", "incoming")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    pattern = os.path.join(staging, f"{name}.####.exr")
    node.begin()
    try:
        write = nuke.nodes.Write(inputs=[nodes.inner(node, source)])
        try:
            write["file"].setValue(pattern.replace("\\", "/"))
            if channels:
                write["channels"].setValue(channels)
            for knob, value in (("file_type", "exr"), ("datatype", "32 bit float"),
                                ("compression", "Zip (1 scanline)"), ("metadata", "no metadata")):
                write[knob].setValue(value)
            colorspace = nodes.set_colorspace(write, []) or "scene_linear"
            nuke.execute(write, first, last)
        finally:
            nuke.delete(write)
    finally:
        node.end()
    files = frame_paths(pattern, first, last)
    missing = [path for path in files if not os.path.isfile(path)]
    if missing:
        raise ShimError(f"the input was not written: {missing[0]} is missing")
    digest = jobs.files_digest(files)
    final = os.path.join(root, "inputs", f"{name}_{digest[:16]}")
    if os.path.isdir(final):
        shutil.rmtree(staging)
    else:
        os.replace(staging, final)
    return os.path.join(final, os.path.basename(pattern)), digest, colorspace


def plate_with_range(pattern: str, first: int, last: int) -> str:
    """``plate.####.exr`` with the range written in, as sora-vfx reads it: ``plate.1001-1100####.exr``."""
    tokens = list(_FRAME_TOKEN.finditer(pattern))
    if not tokens:
        return pattern
    token = tokens[-1]
    return f"{pattern[: token.start()]}{first}-{last}{pattern[token.start():]}"


def up_to_date(node, prepared: Prepared) -> dict | None:
    """The last version's record when it was made from these very inputs and its frames are all there."""
    last = node["last_version"].value()
    if not last or node["last_inputs_hash"].value() != prepared.inputs_hash:
        return None
    record = jobs.read_record(os.path.join(prepared.root, last))
    if record is None or record.get("status") != "done" or not jobs.frames_exist(record):
        return None
    return record


@nodes.guarded
def render(node, *, wait: bool = False) -> BackgroundRun | None:
    """The Render button: a new version, unless the last one is up to date; ``wait`` (and any
    session without a GUI) renders here instead of on a thread."""
    prepared = Prepared(node)
    current = up_to_date(node, prepared)
    if current is not None:
        nodes.refresh_versions(node, select=current["version"])
        nodes.set_status(node, f"{current['version']} is up to date (job {current.get('job_hash')}); nothing to render")
        return None
    command = prepared.command()
    prepared.record("started", command=command)
    verb = "resuming" if prepared.resumes else "rendering"
    nodes.set_status(node, f"{verb} {prepared.version}...")

    def steps(run: BackgroundRun):
        return run.run_process(SoraProcess(command, expected_files=prepared.expected_files()),
                               f"{verb} {prepared.version}")

    return BackgroundRun(f"{prepared.name} {prepared.version}", steps, lambda p: _finished(prepared, p),
                         on_error=lambda message: _failed(prepared, message),
                         on_cancel=lambda: _cancelled(prepared)).start(inline=wait or not nuke.GUI)


def _finished(prepared: Prepared, process: SoraProcess) -> None:
    document = process.result(dict)
    if prepared.kind == knobs.EXTEND:
        frames = document["frames"]
        result = {"pattern": document["pattern"], "first": frames["first"], "last": frames["last"],
                  "colorspace": document.get("colorspace") or prepared.colorspace,
                  "job_hash": document.get("job_hash"), "seed": document.get("seed"), "model": document.get("model")}
    else:
        manifest = read_manifest(document["manifest"])
        entry = next((e for e in manifest["shots"] if e.get("name") == prepared.shot), None)
        if entry is None:
            raise ShimError(f"{document['manifest']} has no shot {prepared.shot}")
        spec = entry.get("spec") or {}
        result = {"pattern": shot_pattern(document["manifest"], entry), "first": entry["frames"]["first"],
                  "last": entry["frames"]["last"], "seed": entry.get("seed"), "job_hash": entry.get("job_hash"),
                  "colorspace": spec.get("colorspace") or prepared.colorspace, "model": spec.get("model")}
    prepared.record("done", **result)
    _remember(prepared, result.get("job_hash"))
    nodes.set_status(prepared.node, f"rendered {prepared.version} (job {result.get('job_hash')})")


def _remember(prepared: Prepared, job_hash: str | None) -> None:
    node = prepared.node
    node["last_version"].setValue(prepared.version)
    node["last_inputs_hash"].setValue(prepared.inputs_hash)
    node["last_inputs"].setValue(json.dumps(prepared.inputs, sort_keys=True))
    node["last_job_hash"].setValue(job_hash or "")
    nodes.refresh_versions(node, select=prepared.version)


def _failed(prepared: Prepared, message: str) -> None:
    prepared.record("failed", error=message)
    nodes.show_failure(prepared.node, message)


def _cancelled(prepared: Prepared) -> None:
    prepared.record("cancelled")
    nodes.set_status(prepared.node, f"cancelled; Render takes {prepared.version} up again")


@nodes.guarded
def submit_to_farm(node, *, wait: bool = False) -> BackgroundRun | None:
    """The Submit to farm button (SoraGenerate): ``sora-vfx farm export`` of the node's shot into
    the new version's ``bundle/``, then ``$SORA_VFX_FARM_SUBMIT BUNDLE``; the farm renders into
    the version folder, where the node's Read already points."""
    if nodes.sora_kind(node) != knobs.GENERATE:
        raise ShimError("only SoraGenerate renders on a farm (sora-vfx farm export renders shots of an edit)")
    submit = os.environ.get(FARM_ENV, "").strip()
    if not submit:
        raise ShimError(f"no farm is configured: set ${FARM_ENV} to the command that submits a job bundle, "
                        "e.g. 'deadline bundle submit'")
    prepared = Prepared(node)
    render_command = prepared.command()
    bundle = os.path.join(prepared.out, "bundle")
    export = jobs.farm_command(render_command, bundle=bundle, render_out=prepared.out)
    pattern = os.path.join(prepared.out, prepared.shot, f"{prepared.shot}.####.exr")
    prepared.record("started", command=export, pattern=pattern, first=prepared.first, last=prepared.last)

    def steps(run: BackgroundRun):
        exported = run.run_process(SoraProcess(export), f"writing the job bundle of {prepared.version}")
        if run.cancelled:
            return None
        exported.result(dict)
        return run.run_process(SoraProcess(shlex.split(submit) + [bundle]), "submitting to the farm")

    def done(process: SoraProcess) -> None:
        if process.returncode != 0:
            raise ShimError(process.error_message)
        reply = process.output.strip().splitlines()
        prepared.record("submitted", colorspace=prepared.colorspace, bundle=bundle,
                        farm_reply=reply[-1] if reply else "")
        _remember(prepared, None)
        nodes.set_status(node, f"{prepared.version} submitted to the farm: {reply[-1] if reply else 'ok'}")

    return BackgroundRun(f"{prepared.name} {prepared.version} to the farm", steps, done,
                         on_error=lambda message: _failed(prepared, message),
                         on_cancel=lambda: _cancelled(prepared)).start(inline=wait or not nuke.GUI)


def render_all(names: list[str] | None = None) -> int:
    """Render the script's Sora nodes (or those named) one after another, here, as ``nuke -t`` does;
    each prints its status. Returns how many failed."""
    failed = 0
    for node in nodes.sora_nodes(names):
        render(node, wait=True)
        status = node["status"].value()
        print(f"sora_vfx: {node.fullName()}: {status}")
        failed += status.startswith("ERROR")
    return failed
