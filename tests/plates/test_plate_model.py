"""One plate-model interface: the loaded model says which ways it extends a plate
(``ExtensionPath``); settings, the command line and the job hash name the way with that enum;
the plate modules import each other without a cycle."""

from __future__ import annotations

import itertools

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.errors import PlateError
from sora_vfx.plates import ExtendSettings, ExtensionPath, Padding, extend_plate
from sora_vfx.plates.model import describe_plate_model, extension_paths

from .conftest import gradient, write_plate

FAST = dict(steps=2, work_size=(64, 48), pad=Padding(8, 8, 0, 0))


@pytest.fixture
def plate(tmp_path):
    folder = tmp_path / "plates"
    folder.mkdir()
    for index, frame in enumerate((1, 2)):
        write_plate(folder / f"bg.{frame:04d}.exr", gradient(48, 32, seed=index))
    return folder / "bg.####.exr"


def test_each_path_keeps_the_name_headers_and_hashes_have_always_used():
    assert [path.recorded for path in ExtensionPath] == ["video", "frame", "frame"]
    assert extension_paths("shot") == (ExtensionPath.VIDEO, ExtensionPath.PER_FRAME, ExtensionPath.STATIC)
    assert extension_paths("picture") == (ExtensionPath.PER_FRAME, ExtensionPath.STATIC)
    assert extension_paths(None) == ()


def test_the_loaded_model_says_what_it_can_do(inpaint_model):
    assert inpaint_model.paths == (ExtensionPath.PER_FRAME, ExtensionPath.STATIC)
    assert inpaint_model.model.family.name == "image inpainting" and inpaint_model.model.mask_filling == "picture"
    assert extension_paths("shot")[0] is ExtensionPath.VIDEO
    assert describe_plate_model("shapes").kind == "outpaint"


def test_the_shorthands_are_one_path():
    assert ExtendSettings().path is None
    static = ExtendSettings(static=True)
    assert static.path is ExtensionPath.STATIC and static.static and not static.per_frame
    per_frame = ExtendSettings(per_frame=True)
    assert per_frame.path is ExtensionPath.PER_FRAME and per_frame.per_frame and not per_frame.static
    assert ExtendSettings(path=ExtensionPath.STATIC, static=True).path is ExtensionPath.STATIC
    with pytest.raises(PlateError, match="static and per_frame: give one way"):
        ExtendSettings(static=True, per_frame=True)
    with pytest.raises(PlateError, match="path video and static"):
        ExtendSettings(path=ExtensionPath.VIDEO, static=True)


def test_an_image_model_cannot_take_the_video_path(plate, tmp_path, inpaint_model):
    with pytest.raises(PlateError, match="model tiny cannot fill a whole shot at once"):
        extend_plate(plate, tmp_path / "out", ExtendSettings(**FAST, path=ExtensionPath.VIDEO), progress=False)
    # The plan expects a video model ("shapes"); the model given is asked, not its attributes.
    with pytest.raises(PlateError, match="model tiny cannot fill a whole shot at once"):
        extend_plate(plate, tmp_path / "out", ExtendSettings(**FAST, model="shapes"), model=inpaint_model,
                     progress=False)


def test_static_and_per_frame_together_are_a_usage_error(plate, tmp_path):
    result = CliRunner().invoke(main, ["extend", str(plate), "-o", str(tmp_path / "out"), "--pad", "8,8,0,0",
                                       "--static", "--per-frame"])
    assert result.exit_code == 2 and "--static and --per-frame: give one of them" in result.output
    assert not (tmp_path / "out").exists()


def test_no_module_cycle_inside_plates():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("sora_vfx")
    modules = sorted(m for m in graph.modules if m.startswith("sora_vfx.plates."))
    cycles = [(a, b) for a, b in itertools.combinations(modules, 2)
              if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)]
    assert cycles == []
    below = graph.find_upstream_modules("sora_vfx.models", as_package=True)
    assert not any(m.startswith("sora_vfx.plates") for m in below)
