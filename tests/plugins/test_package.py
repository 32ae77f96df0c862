"""plugins/package.py (``make plugins``): one source for what both hosts share, copied in at packaging."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path

from tests.conftest import ROOT

from .conftest import run_package

PLUGINS = ROOT / "plugins"
COMMON = PLUGINS / "common"
COMMON_FILES = ("process.py", "timeline.py")
HOST_PACKAGES = {"nuke": "sora_vfx_nuke", "blender": "sora_vfx_blender"}


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_both_hosts_run_the_one_common_source(packaged):
    assert sorted(p.name for p in COMMON.glob("*.py")) == list(COMMON_FILES)
    for host, package in HOST_PACKAGES.items():
        for name in COMMON_FILES:
            assert (packaged / host / package / name).read_bytes() == (COMMON / name).read_bytes()
            assert not (PLUGINS / host / package / name).exists()  # no hand-kept copy in the sources
    assert sorted(tree(packaged)) == [
        ".sora_vfx_plugins",
        "blender/sora_vfx-0.1.0.zip",
        *(f"blender/sora_vfx_blender/{name}" for name in (
            "__init__.py", "blender_manifest.toml", "operators.py", "preferences.py", "process.py", "timeline.py")),
        "nuke/init.py", "nuke/menu.py", "nuke/sora_render.py",
        *(f"nuke/sora_vfx_nuke/{name}" for name in (
            "__init__.py", "actions.py", "background.py", "jobs.py", "knobs.py", "menu.py", "nodes.py",
            "process.py", "runs.py", "timeline.py")),
    ]


def test_packaging_is_deterministic_and_replaces_its_own_output(packaged, tmp_path):
    again = tmp_path / "again"
    assert run_package(again).returncode == 0
    (again / "nuke" / "stale.py").write_text("left from an earlier run\n")
    result = run_package(again)
    assert result.returncode == 0, result.stderr
    assert tree(again) == tree(packaged)  # the zip too, byte for byte; the stale file is gone


def copy_sources(tmp_path: Path) -> Path:
    """A copy of plugins/ to break on purpose; its package.py packages the copy."""
    sources = tmp_path / "plugins"
    shutil.copytree(PLUGINS, sources, ignore=shutil.ignore_patterns("__pycache__"))
    return sources


def test_a_copy_of_the_common_source_in_a_host_is_refused(tmp_path):
    sources = copy_sources(tmp_path)
    shutil.copyfile(COMMON / "process.py", sources / "nuke" / "sora_vfx_nuke" / "process.py")
    result = run_package(tmp_path / "out", script=sources / "package.py")
    assert result.returncode == 1 and not (tmp_path / "out").exists()
    assert "plugins/nuke/sora_vfx_nuke/process.py must not exist: packaging copies plugins/common/process.py" \
        in result.stderr


def test_a_folder_it_did_not_make_is_left_alone(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    result = run_package(mine)
    assert result.returncode == 1 and "is not empty and was not made by package.py" in result.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    sources = copy_sources(tmp_path)
    result = run_package(sources / "out", script=sources / "package.py")
    assert result.returncode == 1 and "cannot be inside the sources" in result.stderr
    assert not (sources / "out").exists()


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_hosts_never_import_torch_or_sora_vfx(packaged):
    # The work happens in the sora-vfx process; a host only loads what it wrote.
    for path in packaged.rglob("*.py"):
        assert not imported_modules(path) & {"torch", "sora_vfx", "numpy", "opentimelineio"}, path


def test_common_and_nuke_code_parse_as_nukes_python(packaged):
    # Nuke 13 runs Python 3.7 (no walrus, no positional-only parameters, no match).
    for path in [*sorted(COMMON.glob("*.py")), *sorted((packaged / "nuke").rglob("*.py"))]:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))


def test_the_plugins_read_the_manifest_version_sora_vfx_writes():
    from sora_vfx.render.manifest import MANIFEST_VERSION, READABLE_VERSIONS

    spec = importlib.util.spec_from_file_location("sora_vfx_plugins_common_process", COMMON / "process.py")
    process = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(process)
    assert MANIFEST_VERSION in process.MANIFEST_VERSIONS
    assert set(process.MANIFEST_VERSIONS) == set(READABLE_VERSIONS)
