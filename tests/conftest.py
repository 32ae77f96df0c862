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


@pytest.fixture(scope="session", autouse=True)
def sora_cache(tmp_path_factory) -> Path:
    """One model cache for the whole run, never the user's ~/.cache (subprocesses inherit it)."""
    import os

    path = tmp_path_factory.mktemp("sora_cache")
    previous = os.environ.get("SORA_VFX_CACHE")
    os.environ["SORA_VFX_CACHE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("SORA_VFX_CACHE", None)
    else:
        os.environ["SORA_VFX_CACHE"] = previous


@pytest.fixture(scope="session")
def tiny_model(sora_cache):
    """The built-in tiny text-to-video model, loaded once for the session."""
    from sora_vfx.models import load_model

    return load_model("tiny")
