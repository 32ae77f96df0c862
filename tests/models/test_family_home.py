"""Each family's behaviour lives in its own module: the rest of the package never names one.

The loader, context windows, renderer, memory plans and full-size builders ask the family
record (``models.families``); a family's name in code elsewhere would be an ``if family ==``
in disguise. Docstrings and comments may name families; code and its strings may not. The
built-in models are built from one family's classes and may name them: the tiny models
(``models/tiny*.py``) and the trained ``shapes`` model (``models/shapes/``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import sora_vfx
from sora_vfx.models import families

PACKAGE = Path(sora_vfx.__file__).parent
HOMES = ("models/families/", "models/tiny.py", "models/tiny_inpaint.py", "models/shapes/")


def family_names() -> set[str]:
    """What names a family in code: its class prefix and its listed pipeline classes."""
    names = set()
    for family in families():
        names.update(family.classes)
        if family.class_prefix:
            names.add(family.class_prefix)
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def names_in_code(path: Path, names: set[str]) -> list[str]:
    """``file:line: text`` of each identifier, attribute, import or string (not a docstring)
    in ``path`` that starts with one of ``names``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, ast.alias):
            words = [node.name.split(".")[-1], node.asname or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words = node.value.replace("(", " ").replace(")", " ").replace(",", " ").split()
        else:
            continue
        for word in words:
            if any(word.startswith(name) for name in names):
                found.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', '?')}: {word}")
    return found


def test_no_module_outside_the_families_home_names_a_family():
    names = family_names()
    assert {"Wan", "LTX2", "LTX", "HunyuanVideo15", "SkyReelsV2DiffusionForcingPipeline"} <= names
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(HOMES):
            offenders += names_in_code(path, names)
    assert offenders == []


def test_the_scan_finds_a_family_named_in_code(tmp_path):
    """The scan itself can fail: a branch on a family's class is found, its docstring is not."""
    module = PACKAGE / "render" / "_probe_for_test.py"
    try:
        module.write_text('"""Mentions WanPipeline in a docstring."""\n\n'
                          'def pick(name):\n    return name == "WanPipeline" or isinstance(name, LTX2Family)\n')
        found = names_in_code(module, family_names())
    finally:
        module.unlink()
    assert found == ["render/_probe_for_test.py:4: WanPipeline", "render/_probe_for_test.py:4: LTX2Family"]
