"""What the publish tests share: a reviewed render to publish, and the Kitsu server the Kitsu
tests talk to, started once for the session (only when a test asks for it)."""

from __future__ import annotations

import shutil

import pytest

from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.render import RenderSettings, render_edit
from sora_vfx.review import ReviewSettings, build_review
from tests.conftest import SAMPLES
from tests.publish.kitsu_server import missing_tools, start_kitsu

EDL = SAMPLES / "sequence_24fps.edl"


@pytest.fixture(scope="session")
def reviewed(tmp_path_factory, tiny_model):
    """The sample edit rendered (tiny model, 32x32, handles 2) and reviewed: the movies publish sends."""
    out = tmp_path_factory.mktemp("publish") / "out"
    report = render_edit(read_edit(EDL, EditOptions(handles=2)), out, RenderSettings(steps=1, size=(32, 32)),
                         model=tiny_model, progress=False)
    assert not report.failed
    build_review(out, ReviewSettings(), progress=False)
    return out


@pytest.fixture
def copy(reviewed, tmp_path):
    """A copy of ``reviewed`` that a test may render into again."""
    target = tmp_path / "out"
    shutil.copytree(reviewed, target)
    return target


@pytest.fixture(scope="session")
def kitsu(tmp_path_factory):
    missing = missing_tools()
    if missing:
        pytest.fail(f"the publish tests run a real Kitsu server; missing: {', '.join(missing)} "
                    "(`make test` installs them)")
    server = start_kitsu(tmp_path_factory.mktemp("kitsu"))
    yield server
    server.stop()
