"""A render folder damaged by hand or by accident, read by ``eval`` and ``review``: a damaged
manifest is refused (exit 2) with the file and the shot's field named; a shot whose frames
differ in size stops ``eval``; an absurd frame size is refused before a movie is opened; a
declared frame range of a billion frames costs what is on disk.

A property test feeds generated damage to every field of a real manifest: the readers refuse
it with a sora-vfx error or read it, never an internal error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora_vfx.cli.main import main
from sora_vfx.errors import SoraVfxError
from sora_vfx.imaging import write_exr_frame
from sora_vfx.render import read_manifest
from tests.conftest import ROOT

SHOT = "DMG_0010"
EDL = f"""\
TITLE: damaged
FCM: NON-DROP FRAME

001  AX       V     C        01:00:00:00 01:00:00:05 01:00:00:00 01:00:00:05
* SHOT: {SHOT}
* PROMPT: a large red ball moving right on a blue background
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, tiny_model) -> Path:
    """One shot of five 32x32 frames, no handles; copy it before changing it."""
    from sora_vfx.editorial import EditOptions, read_edit
    from sora_vfx.render import RenderSettings, render_edit

    folder = tmp_path_factory.mktemp("damaged")
    (folder / "cut.edl").write_text(EDL)
    out = folder / "out"
    report = render_edit(read_edit(folder / "cut.edl", EditOptions(handles=0)), out,
                         RenderSettings(steps=2, size=(32, 32)), model=tiny_model, progress=False)
    assert not report.failed
    return out


@pytest.fixture
def out(rendered, tmp_path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(rendered, copy, ignore=shutil.ignore_patterns("review", ".review*"))
    return copy


def damage(out: Path, change) -> Path:
    """Apply ``change`` to the manifest's document (or write the text it returns)."""
    path = out / "manifest.json"
    document = json.loads(path.read_text())
    text = change(document)
    path.write_text(text if isinstance(text, str) else json.dumps(document))
    return path


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def entry(document):
    return document["shots"][0]


def set_in(*keys_and_value):
    *keys, value = keys_and_value

    def change(document):
        target = entry(document)
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


DAMAGED = {
    "pattern climbs out": (set_in("frames", "pattern", f"../elsewhere/{SHOT}.####.exr"),
                           "frames.pattern '../elsewhere/DMG_0010.####.exr' points outside the render folder"),
    "pattern absolute": (set_in("frames", "pattern", f"/tmp/{SHOT}/{SHOT}.####.exr"),
                         "points outside the render folder"),
    "pattern without a number": (set_in("frames", "pattern", f"{SHOT}/{SHOT}.exr"),
                                 "has no run of '#' for the frame number"),
    "job prompt a number": (set_in("job", "prompt", 5), "job.prompt has to be str, not 5"),
    "spec prompt a list": (set_in("spec", "prompt", ["a", "b"]), "spec.prompt has to be str, not ['a', 'b']"),
    "colour space a number": (set_in("spec", "colorspace", 7), "spec.colorspace has to be str, not 7"),
    "colour space an object": (set_in("spec", "colorspace", {"name": "ACEScg"}), "spec.colorspace has to be str"),
    "cut outside the frames": (set_in("frames", "cut_out", 2000), "frames 1001-1005 do not hold the cut 1001-2000"),
    "count": (set_in("frames", "count", 4), "frames.count 4 is not the 5 frames of 1001-1005"),
    "deep list": (lambda document: "[" * 100_000 + "]" * 100_000, "objects and lists nest more than 100 deep"),
    "deep inside a shot": (lambda document: json.dumps(document).replace(
        '"notes": []', '"notes": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000),
        "objects and lists nest more than 100 deep"),
    "name climbs out": (set_in("name", "../../sound"), "shot name '../../sound' must not contain '..'"),
    "name reserved": (set_in("name", "review"), "shot name 'review' is a name the output uses itself"),
    "huge number": (lambda document: json.dumps(document).replace('"seed": ', '"seed": ' + "9" * 5000, 1),
                    "not a readable sora_vfx manifest"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
@pytest.mark.parametrize("command", ["eval", "review"])
def test_a_damaged_manifest_is_refused_naming_the_file_and_field(out, case, command):
    change, message = DAMAGED[case]
    path = damage(out, change)
    result = run(command, out)
    assert result.exit_code == 2, result.output
    assert f"{path}: " in result.stderr and message in result.stderr, result.stderr
    if not case.startswith(("deep", "huge", "name")):
        assert f"shot {SHOT}: " in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_eval_stops_at_a_shot_whose_frames_differ_in_size(out):
    odd = out / SHOT / f"{SHOT}.1003.exr"
    write_exr_frame(odd, np.full((16, 16, 4), 0.5, np.float32))
    result = run("eval", out)
    assert result.exit_code == 2, result.output
    assert f"{out / 'manifest.json'}: shot {SHOT}: frame {odd} is 16x16" in result.stderr
    assert "internal error" not in result.output


def test_review_refuses_an_absurd_frame_size_before_opening_a_movie(out):
    path = damage(out, set_in("spec", "width", 10**6))
    damage(out, set_in("spec", "height", 10**6))
    result = run("review", out, "--prores")
    assert result.exit_code == 2, result.output
    assert f"{path}: shot {SHOT}: spec size 1000000x1000000 is larger than any frame sora_vfx reads" in result.stderr
    assert not (out / "review").exists()


def billion(document):
    frames = entry(document)["frames"]
    frames.update(first=0, last=10**9, count=10**9 + 1)


#: Run in a process of its own, under limits: the old code built a path for every declared
#: frame (3 million already cost 40 s and 1.4 GB): past 2 GB it fails rather than fill the machine.
LIMITED = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from sora_vfx.cli import main
    from sora_vfx.review import edit_movie, frames
    # Fewer slates than a review makes for a failed shot, so that the test is quick.
    edit_movie.SLATE_ALLOWANCE = frames.SLATE_ALLOWANCE = int(sys.argv[1])
    main(sys.argv[2:])
""")


def limited(*args, timeout=120, slates=2400):
    try:
        return subprocess.run([sys.executable, "-c", LIMITED, str(slates), *map(str, args)], capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"sora-vfx {' '.join(map(str, args))} still ran after {timeout} s")


def test_eval_of_a_billion_frame_range_costs_what_is_on_disk(out):
    damage(out, billion)
    result = limited("eval", out, "--json")
    assert result.returncode == 0, result.stderr
    skipped = json.loads(result.stdout)["skipped"][SHOT]
    assert skipped.startswith(f"shot {SHOT}: 999999996 of its 1000000001 frames are not on disk, the first "
                              f"{out / SHOT / f'{SHOT}.0000.exr'}"), skipped


def test_review_of_a_billion_frame_range_costs_what_is_on_disk(out):
    damage(out, billion)
    result = limited("review", out, "--json")
    # Frames are missing: the review is written, and says so (exit 2).
    assert result.returncode == 2, result.stderr
    assert "frames missing or unreadable (DMG_0010 0-999" in result.stderr
    report = json.loads(result.stdout)
    shot = report["shots"][0]
    assert shot["problems"][0] == ("999999996 of its 1000000001 frames (0-1000000000) are not on disk: its movies "
                                   "hold the 5 that are, without slates")
    assert len(shot["missing_frames"]) == 1000 and shot["movie"]
    import av

    with av.open(str(out / "review" / shot["movie"])) as movie:
        assert sum(1 for _ in movie.decode(video=0)) == 5


def test_review_of_a_failed_shot_with_a_billion_frame_cut_is_bounded(out):
    def failed(document):
        billion(document)
        entry(document).update(status="failed", error="it failed")
        entry(document)["frames"].update(cut_in=0, cut_out=10**9)

    damage(out, failed)
    result = limited("review", out, "--json", slates=48)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["shots"][0]["status"] == "failed"
    import av

    # The failed shot's slate: its cut length, at most SLATE_ALLOWANCE frames.
    with av.open(report["edit_movie"]) as movie:
        assert sum(1 for _ in movie.decode(video=0)) == 48


# --- generated damage: every field of a real manifest -------------------------------------------

EXAMPLES = 300
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])
FOLDER = Path(tempfile.mkdtemp(prefix="sora_vfx-damaged-"))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2, 2), st.integers(10**8, 10**12),
              st.floats(), st.text(max_size=12),
              st.sampled_from(["", "#", "../x.####.exr", "/abs/x.####.exr", f"{SHOT}/{SHOT}.####.exr",
                               f"{SHOT}/{SHOT}.##.exr", "x/##/y.#.exr", "ACEScg", "not a space", "24", "0",
                               "24000/1001", "01:00:00:00", "rendered", "failed", "a\0b"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children,
                                                                               max_size=3)),
    max_leaves=6,
)


#: Damage that keeps a value's JSON type, so that more manifests get past the reader to ``eval``
#: and ``review``: numbers anywhere, strings with patterns, colour spaces and rates.
same_type = {
    int: st.one_of(st.integers(), st.integers(-3, 3), st.integers(990, 1010), st.integers(10**8, 10**12)),
    float: st.floats(),
    bool: st.booleans(),
    str: st.one_of(st.text(max_size=12), json_values.filter(lambda value: isinstance(value, str))),
}


def paths(value, prefix=()):
    """Every path to a value inside a JSON document."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def test_generated_damage_is_read_or_refused_cleanly(rendered):
    from sora_vfx.review.display import DisplayTransform
    from sora_vfx.review.figures import evaluate_render
    from sora_vfx.review.frames import SLATE_ALLOWANCE, ShotFrames

    out = FOLDER / "out"
    shutil.copytree(rendered, out, ignore=shutil.ignore_patterns("review", ".review*"))
    original = json.loads((out / "manifest.json").read_text())
    fields = sorted((p for p in paths(original["shots"][0]) if p), key=repr)
    display = DisplayTransform(display=None, view=None)
    counts = [0, 0]

    def value_at(path):
        value = original["shots"][0]
        for key in path:
            value = value[key]
        return value

    def damaged(path):
        kind = type(value_at(path))
        return st.tuples(st.just(path), json_values if kind not in same_type else st.one_of(json_values,
                                                                                              same_type[kind]))

    @PROPERTY
    @given(st.lists(st.sampled_from(fields).flatmap(damaged), min_size=1, max_size=3))
    def check(changes):
        document = json.loads(json.dumps(original))
        for path, value in changes:
            target = document["shots"][0]
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change took the path away
        (out / "manifest.json").write_text(json.dumps(document))
        counts[0] += 1
        try:
            manifest = read_manifest(out)
            evaluate_render(out)
            for shot in manifest.shots:
                frames = ShotFrames(out, shot, display=display, ai_mark=True, identity=None)
                assert frames.count <= 2 * len(frames.on_disk) + SLATE_ALLOWANCE
            counts[1] += 1
        except SoraVfxError as exc:
            assert str(exc)
        except RecursionError:
            pytest.fail(f"{changes!r}: recursion")

    check()
    print(f"{counts[0]} damaged manifests, {counts[1]} read")
    assert counts[0] >= EXAMPLES // 2
