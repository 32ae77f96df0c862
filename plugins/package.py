"""Assemble the host plugins, ready to install: ``python3 plugins/package.py OUT`` (``make plugins``).

    OUT/nuke/                        a Nuke plugin folder: put it on NUKE_PATH
    OUT/blender/sora_vfx_blender/    the Blender extension's files
    OUT/blender/sora_vfx-0.1.0.zip   the extension as Blender installs it (Install from Disk)

Each host's folder under ``plugins/`` is copied as it is, then the files of ``plugins/common/``
(the host-neutral code both hosts run: one source, no hand-kept copies) go into each host's
Python package. The zip is what ``blender --command extension build`` makes of the extension
folder: ``blender_manifest.toml`` first and at the root, the other files beside it, deflated,
named ``<id>-<version>.zip`` from the manifest. Deterministic: the same sources give the same
bytes (files in sorted order, fixed times and permissions in the zip). Standard library only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

PLUGINS = Path(__file__).resolve().parent
COMMON = PLUGINS / "common"
# Host folder under plugins/ -> the Python package inside it that gets the common files.
HOSTS = {"nuke": "sora_vfx_nuke", "blender": "sora_vfx_blender"}
EXTENSION = Path("blender") / "sora_vfx_blender"
BLENDER_MANIFEST = "blender_manifest.toml"
# Written into OUT so that a later run may clear it; a folder without it is never emptied.
MARKER = ".sora_vfx_plugins"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """Why the plugins cannot be assembled, in one line."""


def source_files(folder: Path) -> list[Path]:
    """The files of a source folder, sorted, without Python caches, dot-files and built zips."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") or part == "__pycache__" for part in parts):
            continue
        if path.is_file() and path.suffix not in (".pyc", ".zip"):
            found.append(path)
    return found


def check_one_source() -> list[Path]:
    """The common files; a copy of one left in a host package is refused (it would fork)."""
    common = source_files(COMMON)
    if not common:
        raise PackageError(f"{COMMON} has no files")
    for host, package in HOSTS.items():
        for path in common:
            stray = PLUGINS / host / package / path.name
            if stray.exists():
                raise PackageError(f"{stray.relative_to(PLUGINS.parent)} must not exist: packaging copies "
                                   f"{path.relative_to(PLUGINS.parent)} there; edit that one and delete the copy")
    return common


def prepare_out(out: Path) -> None:
    """An empty OUT: made, or emptied when an earlier run made it; anything else is refused."""
    if out == PLUGINS or PLUGINS in out.parents:
        raise PackageError(f"{out}: the output cannot be inside the sources ({PLUGINS})")
    if out.exists():
        if not out.is_dir():
            raise PackageError(f"{out} is not a folder")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise PackageError(f"{out} is not empty and was not made by {Path(__file__).name}: "
                               "choose an empty or new folder")
        for entry in sorted(out.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Made by plugins/package.py; it empties this folder on every run.\n")


def copy_hosts(out: Path, common: list[Path]) -> None:
    for host, package in HOSTS.items():
        for path in source_files(PLUGINS / host):
            target = out / host / path.relative_to(PLUGINS / host)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        for path in common:
            shutil.copyfile(path, out / host / package / path.name)


def extension_zip(folder: Path, out_dir: Path) -> Path:
    """Zip an extension folder as Blender's ``extension build`` does; returns ``<id>-<version>.zip``."""
    manifest = tomllib.loads((folder / BLENDER_MANIFEST).read_text(encoding="utf-8"))
    names = [path.relative_to(folder).as_posix() for path in source_files(folder)]
    names.remove(BLENDER_MANIFEST)
    names.insert(0, BLENDER_MANIFEST)
    path = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions below are read
            info.external_attr = 0o100644 << 16
            archive.writestr(info, (folder / name).read_bytes(), compresslevel=9)
    return path


def package(out: Path) -> dict[str, Path]:
    """Assemble the plugins in ``out``; returns what a user installs."""
    out = out.resolve()
    common = check_one_source()
    prepare_out(out)
    copy_hosts(out, common)
    return {"nuke": out / "nuke", "blender": extension_zip(out / EXTENSION, out / EXTENSION.parent)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output folder (empty, new, or made by an earlier run)")
    args = parser.parse_args(argv)
    try:
        made = package(args.out)
    except PackageError as exc:
        print(f"package.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"Nuke plugin folder (put on NUKE_PATH): {made['nuke']}")
    print(f"Blender extension (Install from Disk): {made['blender']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
