"""Property tests: generated EDL text, OTIO JSON and sora_vfx.toml configs go through the real
readers; each is read or refused with a sora-vfx error, never an internal one. At least 2,000
inputs per format (the count is printed: ``pytest -s tests/hostile/test_properties.py``)."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora_vfx.config import load_config
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.errors import SoraVfxError

EXAMPLES = 2000
MAX_EXAMPLES = 3000  # Hypothesis may stop short of its budget; the count asserted is EXAMPLES
PROPERTY = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])
FOLDER = Path(tempfile.mkdtemp(prefix="sora_vfx-properties-"))


def read_or_refuse(read, path: Path, counter: list[int]) -> None:
    """Call ``read(path)``; a SoraVfxError is a clean refusal, anything else fails the test.
    ``counter``: [inputs, inputs read without error]."""
    counter[0] += 1
    try:
        read(path)
        counter[1] += 1
    except SoraVfxError as exc:
        assert str(exc), "an error without a message"
    except RecursionError:
        pytest.fail(f"{path.read_text(errors='replace')[:500]!r}: recursion")


# --- EDL text: event lines, comments and noise, each field valid or not -------------------------
timecode = st.one_of(
    st.builds(lambda h, m, s, f, sep: f"{h:02d}:{m:02d}:{s:02d}{sep}{f:02d}", st.integers(0, 99), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99), st.sampled_from([":", ";", ".", ","])),
    st.text(alphabet="0123456789:;", max_size=14),
)
event_line = st.builds(
    lambda number, reel, channel, transition, tcs: f"{number}  {reel} {channel} {transition} {' '.join(tcs)}",
    st.one_of(st.integers(0, 9999).map(lambda n: f"{n:03d}"), st.text(max_size=4)),
    st.one_of(st.sampled_from(["AX", "A001", "BL", "BLACK", "A001_C002"]), st.text(max_size=12)),
    st.sampled_from(["V", "A", "A2", "V2", "AA/V", "B", "NONE", "v"]),
    st.sampled_from(["C", "D 012", "W001 010", "K B", "D", "C    ", "X 5"]),
    st.lists(timecode, min_size=0, max_size=5),
)
comment_line = st.builds(
    lambda key, value: f"* {key}: {value}",
    st.sampled_from(["SHOT", "PROMPT", "NEGATIVE", "STYLE", "SEED", "NOTE", "FROM CLIP NAME", "LOC", "CONTINUES",
                     "ASC_SOP", "ASC_SAT", "SOURCE FILE"]),
    st.one_of(st.text(max_size=40), timecode.map(lambda tc: f"{tc} YELLOW SH_0010"), st.integers().map(str)),
)
other_line = st.one_of(
    st.sampled_from(["TITLE: GENERATED", "FCM: DROP FRAME", "FCM: NON-DROP FRAME", "", "M2   A001  048.0  01:00:00:00",
                     "* FREEZE FRAME", "SPLIT:    VIDEO DELAY=  00:00:00:12"]),
    st.text(max_size=60),
)
def tc24(frame: int) -> str:
    return f"{frame // 86400:02d}:{frame // 1440 % 60:02d}:{frame // 24 % 60:02d}:{frame % 24:02d}"


@st.composite
def well_formed_edl(draw) -> str:
    """Events with valid timecodes one after another at 24 fps, with comments among them: the
    inputs that get past the first checks into shot making, names, prompts and handles."""
    lines, record = ["TITLE: GENERATED", ""], 86400
    for number in range(1, draw(st.integers(1, 6)) + 1):
        source, length = draw(st.integers(0, 86400)), draw(st.integers(1, 200))
        lines.append(f"{number:03d}  {draw(st.sampled_from(['AX', 'A001', 'B002']))} V     C        "
                     f"{tc24(source)} {tc24(source + length)} {tc24(record)} {tc24(record + length)}")
        lines += draw(st.lists(comment_line, max_size=3))
        record += length
    return "\n".join(lines)


edl_text = st.one_of(
    st.lists(st.one_of(event_line, event_line, comment_line, other_line), max_size=24).map("\n".join),
    well_formed_edl(),
)
EDL_COUNT = [0, 0]


@PROPERTY
@given(text=edl_text, fps=st.sampled_from([None, "24", "25", "29.97df", "23.976", "30"]))
def test_generated_edl_text_is_read_or_refused(text, fps):
    path = FOLDER / "generated.edl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_or_refuse(lambda p: read_edit(p, EditOptions(fps=fps)), path, EDL_COUNT)


# --- OTIO JSON: the schema's shapes with values of every kind -----------------------------------
number = st.one_of(st.integers(-10**15, 10**15), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0, 1, 24, 23.976, -1, 1e300]))
anything = st.recursive(st.one_of(st.none(), st.booleans(), number, st.text(max_size=12)),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=8)
rational = st.one_of(st.fixed_dictionaries({"OTIO_SCHEMA": st.just("RationalTime.1"), "rate": number,
                                            "value": number}), anything)
time_range = st.one_of(st.fixed_dictionaries({"OTIO_SCHEMA": st.just("TimeRange.1"), "start_time": rational,
                                              "duration": rational}), st.none(), anything)
metadata = st.one_of(st.fixed_dictionaries({}, optional={"sora_vfx": st.dictionaries(
    st.sampled_from(["shot", "prompt", "seed", "style", "reference", "continues", "negative_prompt"]), anything,
    max_size=4)}), anything)
clip = st.fixed_dictionaries({"OTIO_SCHEMA": st.sampled_from(["Clip.1", "Clip.2", "Gap.1", "Transition.1",
                                                              "Clip.9", "Nope.1"]),
                              "name": st.one_of(st.text(max_size=10), anything), "source_range": time_range,
                              "metadata": metadata},
                             optional={"markers": st.lists(anything, max_size=2), "effects": st.lists(anything,
                                                                                                      max_size=2)})
track = st.fixed_dictionaries({"OTIO_SCHEMA": st.sampled_from(["Track.1", "Stack.1"]),
                               "kind": st.sampled_from(["Video", "Audio", "Other", ""]),
                               "name": st.text(max_size=6), "children": st.lists(clip, max_size=4)},
                              optional={"source_range": time_range})
timeline = st.fixed_dictionaries({
    "OTIO_SCHEMA": st.sampled_from(["Timeline.1", "Timeline.1", "Clip.1", "Stack.1"]),
    "name": st.text(max_size=8),
    "global_start_time": st.one_of(st.none(), rational),
    "tracks": st.fixed_dictionaries({"OTIO_SCHEMA": st.sampled_from(["Stack.1", "Track.1"]),
                                     "children": st.lists(st.one_of(track, clip), max_size=3)}),
})
@st.composite
def well_formed_otio(draw) -> dict:
    """A timeline OTIO itself writes (clips with lengths and sora_vfx metadata of any value, gaps,
    nested stacks), so that generated documents also reach shot making."""
    import opentimelineio as otio

    edit = otio.schema.Timeline(name="generated")
    for _ in range(draw(st.integers(1, 2))):
        track = otio.schema.Track(name=draw(st.sampled_from(["V1", "V2", "", "A1"])))
        for _ in range(draw(st.integers(0, 4))):
            length = draw(st.integers(1, 500))
            span = otio.opentime.TimeRange(otio.opentime.RationalTime(draw(st.integers(0, 10**5)), 24),
                                           otio.opentime.RationalTime(length, 24))
            if draw(st.booleans()):
                track.append(otio.schema.Clip(name=draw(st.text(max_size=8)), source_range=span,
                                              metadata={"sora_vfx": draw(st.dictionaries(
                                                  st.sampled_from(["shot", "prompt", "seed", "style",
                                                                   "continues", "reference"]),
                                                  st.one_of(st.text(max_size=10), number, st.booleans()),
                                                  max_size=3))}))
            else:
                track.append(otio.schema.Gap(source_range=span))
        edit.tracks.append(track)
    return json.loads(otio.adapters.write_to_string(edit))


OTIO_COUNT = [0, 0]


@PROPERTY
@given(document=st.one_of(timeline, well_formed_otio()))
def test_generated_otio_json_is_read_or_refused(document):
    path = FOLDER / "generated.otio"
    path.write_text(json.dumps(document, allow_nan=True))
    read_or_refuse(lambda p: read_edit(p, EditOptions()), path, OTIO_COUNT)


# --- sora_vfx.toml: known and unknown tables and keys, values of every TOML type -----------------
def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


toml_scalar = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(max_size=12),
                        st.sampled_from(["64x32", "832x480", "0x0", "tiny", "zip", "ACEScg"]))
toml_any = st.recursive(toml_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                        max_leaves=6)
keys = st.sampled_from(["model", "size", "steps", "guidance", "colorspace", "compression", "seed", "device",
                        "prompt", "negative_prompt", "loras", "reference", "certificate", "key", "ai_mark",
                        "display", "view", "trust_anchors", "path", "scale", "speed"])
table = st.dictionaries(keys, st.one_of(toml_any, st.lists(st.dictionaries(st.sampled_from(["path", "scale", "x"]),
                                                                           toml_scalar, max_size=2), max_size=2)),
                        max_size=5)
config_text = st.lists(st.one_of(
    st.tuples(st.sampled_from(["render", "review", "styles.look", "styles.x y", "colours", "styles"]), table).map(
        lambda pair: f"[{pair[0]}]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in pair[1].items())),
    st.tuples(st.sampled_from(["render", "styles", "review"]), toml_scalar).map(
        lambda pair: f"{pair[0]} = {toml_value(pair[1])}"),
    st.text(max_size=30),
), max_size=4).map(lambda parts: "\n".join(sorted(parts, key=lambda part: part.startswith("[")))
                   )
CONFIG_COUNT = [0, 0]


@PROPERTY
@given(text=config_text)
def test_generated_configs_are_read_or_refused(text):
    path = FOLDER / "sora_vfx.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_or_refuse(load_config, path, CONFIG_COUNT)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print(f"\nproperty inputs (read / refused): {EDL_COUNT[0]} EDL texts ({EDL_COUNT[1]} / "
          f"{EDL_COUNT[0] - EDL_COUNT[1]}), {OTIO_COUNT[0]} OTIO documents ({OTIO_COUNT[1]} / "
          f"{OTIO_COUNT[0] - OTIO_COUNT[1]}), {CONFIG_COUNT[0]} configs ({CONFIG_COUNT[1]} / "
          f"{CONFIG_COUNT[0] - CONFIG_COUNT[1]}), none an internal error")
    for count in (EDL_COUNT, OTIO_COUNT, CONFIG_COUNT):
        assert count[0] in (0, ) or count[0] >= EXAMPLES
