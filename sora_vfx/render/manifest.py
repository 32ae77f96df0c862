"""``OUT/manifest.json``: one entry per shot with its spec, seed, frames, job_hash and timings.

Renders of a subset of shots (``--shots``, farm tasks) merge into the manifest already there.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import RenderError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = Path(out_dir) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RenderError(f"{path}: not a readable sora_vfx manifest: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("shots"), list):
        raise RenderError(f"{path}: not a sora_vfx manifest (no 'shots' list)")
    return data


def merge_manifest(out_dir: Path, *, edit: Path, order: list[str], entries: list[dict[str, Any]],
                   settings: dict[str, Any]) -> dict[str, Any]:
    """Write the manifest with ``entries`` replacing same-named shots; shots in edit ``order``."""
    out_dir = Path(out_dir)
    try:
        existing = read_manifest(out_dir) or {}
    except RenderError:
        existing = {}
    by_name = {entry["name"]: entry for entry in existing.get("shots", [])}
    by_name.update({entry["name"]: entry for entry in entries})
    ranked = {name: index for index, name in enumerate(order)}
    shots = sorted(by_name.values(), key=lambda e: (ranked.get(e["name"], len(ranked)), e["name"]))
    manifest = {
        "version": MANIFEST_VERSION,
        "software": f"sora_vfx {__version__}",
        "edit": str(Path(edit).resolve()),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "settings": settings,
        "shots": shots,
    }
    write_json_atomic(out_dir / MANIFEST_NAME, manifest)
    return manifest


def write_json_atomic(path: Path, data: Any) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, default=str)
            out.write("\n")
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise RenderError(f"{path}: cannot write: {exc.strerror or exc}") from None
