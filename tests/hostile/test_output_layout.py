"""A render writes inside its output folder only, and no shot can take a name the output uses
for itself (the manifest, the conform, the review, hidden temporaries)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main

FAST = ["--steps", "1", "--handles", "0"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_shot(name: str) -> str:
    """An EDL body of one 5-frame shot called ``name`` (for the ``write_edl`` fixture)."""
    return f"""
        TITLE: layout
        001  A001 V     C        10:00:00:00 10:00:00:05 01:00:00:00 01:00:00:05
        * SHOT: {name}
    """


@pytest.mark.parametrize("name", ["review", "Review", "manifest.json", "renders.otio", ".", ".sh010"])
def test_a_shot_named_like_the_outputs_own_files_is_refused_when_the_edit_is_read(tmp_path, name, write_edl):
    result = run("shots", write_edl(one_shot(name)))
    assert result.exit_code == 2
    assert f"cut.edl, event 001 (line 2): shot name '{name}'" in result.stderr
    assert "reserved" in result.stderr or "must not start with '.'" in result.stderr
    result = run("render", write_edl(one_shot(name)), "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 2 and not (tmp_path / "out").exists()


def test_a_shot_sheet_cannot_rename_a_shot_to_a_reserved_name(tmp_path, write_edl):
    sheet = tmp_path / "sheet.toml"
    sheet.write_text('[shots.SH0010]\nname = "manifest.json"\n')
    result = run("shots", write_edl(one_shot("SH0010")), "--shot-sheet", sheet)
    assert result.exit_code == 2
    assert "[shots.SH0010] shot name 'manifest.json' is a name the output uses itself" in result.stderr


def test_a_shot_folder_linked_outside_the_output_is_refused_before_anything_renders(tmp_path, write_edl):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "SH0010").symlink_to(elsewhere)
    result = run("render", write_edl(one_shot("SH0010")), "-o", out, *FAST)
    assert result.exit_code == 2
    assert f"{out / 'SH0010'} -> {elsewhere}" in result.stderr and "symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == [] and not (out / "manifest.json").exists()


def test_a_frame_or_manifest_linked_outside_the_output_is_refused(tmp_path, write_edl):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "old.exr").write_bytes(b"not mine")
    (elsewhere / "manifest.json").write_text("{}")
    out = tmp_path / "out"
    (out / "SH0010").mkdir(parents=True)
    (out / "SH0010" / "SH0010.1001.exr").symlink_to(elsewhere / "old.exr")
    (out / "manifest.json").symlink_to(elsewhere / "manifest.json")
    result = run("render", write_edl(one_shot("SH0010")), "-o", out, *FAST)
    assert result.exit_code == 2
    assert "2 path(s) in the output folder lead outside it" in result.stderr
    assert (elsewhere / "old.exr").read_bytes() == b"not mine"


def test_links_that_stay_inside_the_output_are_fine(tmp_path, write_edl):
    out = tmp_path / "out"
    (out / "storage").mkdir(parents=True)
    (out / "SH0010").symlink_to(out / "storage")
    result = run("render", write_edl(one_shot("SH0010")), "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert len(list((out / "storage").glob("SH0010.*.exr"))) == 5


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_every_file_of_a_render_follows_the_umask_as_frames_do(tmp_path, umask, write_edl):
    import os
    import stat

    out = tmp_path / "out"
    previous = os.umask(umask)
    try:
        result = run("render", write_edl(one_shot("SH0010")), "-o", out, *FAST, "--no-review")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    expected = 0o666 & ~umask
    for path in [out / "manifest.json", out / "renders.otio", *sorted((out / "SH0010").glob("*.exr"))]:
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_shot_names_that_differ_only_in_case_are_refused(write_edl):
    path = write_edl("""
        TITLE: case
        001  A001 V     C        10:00:00:00 10:00:00:05 01:00:00:00 01:00:00:05
        * SHOT: SH0010
        002  A002 V     C        10:00:00:00 10:00:00:05 01:00:00:05 01:00:00:10
        * SHOT: sh0010
    """)
    result = run("shots", path)
    assert result.exit_code == 2
    expected = "shot names 'SH0010' (event 001 (line 2)) and 'sh0010' (event 002 (line 4)) differ only in case"
    assert expected in result.stderr
