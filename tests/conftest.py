"""Shared test helpers: paths to the sample edits and the shared corpus, small edit writers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_edls"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture
def write_edl(tmp_path: Path):
    """Write an EDL body (dedented) to a file and return its path."""

    def write(body: str, name: str = "cut.edl") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body).lstrip("\n"))
        return path

    return write
