"""EXR frames: pixels and header round trip, real EXR attribute types, atomic writes, safe
reads of damaged files, and the writer pool."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from sora_vfx.errors import ImagingError
from sora_vfx.imaging import exr
from sora_vfx.imaging.color import chromaticities_for, get_converter
from sora_vfx.imaging.exr import (
    COMPRESSIONS,
    FrameWriter,
    is_complete_frame,
    read_exr_header,
    read_exr_pixels,
    write_exr_frame,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "exr"

ATTRIBUTES: dict[str, object] = {
    "oiio:ColorSpace": "ACEScg",
    "chromaticities": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
    "timeCode": "01:02:03:04",
    "framesPerSecond": Fraction(24000, 1001),
    "software": "sora_vfx test",
    "sora_vfx:shot": "sh010",
    "sora_vfx:prompt": "a café at night ☕",
    "sora_vfx:seed": 1234,
    "sora_vfx:steps": 2,
    "sora_vfx:job_hash": "abc123",
}
# EXR compression enum values, as stored in the file's "compression" attribute.
EXR_COMPRESSION_CODES = {
    "none": 0,
    "rle": 1,
    "zips": 2,
    "zip": 3,
    "piz": 4,
    "pxr24": 5,
    "b44": 6,
    "b44a": 7,
    "dwaa": 8,
    "dwab": 9,
}


@pytest.fixture(autouse=True)
def _no_ocio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCIO", raising=False)


def frame(h: int = 8, w: int = 16, c: int = 4, seed: int = 0) -> np.ndarray:
    """Values beyond [0, 1] and negative too: scene-linear frames have both."""
    return np.random.default_rng(seed).uniform(-0.5, 4.0, (h, w, c)).astype(np.float32)


def half(px: np.ndarray) -> np.ndarray:
    return px.astype(np.float16).astype(np.float32)


def raw_header(path: Path) -> dict[str, tuple[str, bytes]]:
    """Attribute name -> (EXR type name, raw bytes), parsed from the file itself, so the
    test sees what exrheader would show, not OIIO's reading of it."""
    data = path.read_bytes()
    assert data[:4] == b"\x76\x2f\x31\x01", "not an OpenEXR file"
    pos, attrs = 8, {}
    while True:
        end = data.index(b"\0", pos)
        name, pos = data[pos:end].decode(), end + 1
        if not name:
            return attrs
        end = data.index(b"\0", pos)
        type_name, pos = data[pos:end].decode(), end + 1
        (size,) = struct.unpack_from("<i", data, pos)
        attrs[name] = (type_name, data[pos + 4 : pos + 4 + size])
        pos += 4 + size


def test_pixels_round_trip_half_rounded(tmp_path: Path) -> None:
    px = frame()
    path = tmp_path / "sh010.1001.exr"
    write_exr_frame(path, px, attributes=ATTRIBUTES)
    out = read_exr_pixels(path)
    assert out.dtype == np.float32 and out.shape == (8, 16, 4)
    np.testing.assert_array_equal(out, half(px))
    assert os.listdir(tmp_path) == ["sh010.1001.exr"]


def test_rgb_gets_alpha_one(tmp_path: Path) -> None:
    px = frame(c=3)
    write_exr_frame(tmp_path / "a.exr", px)
    out = read_exr_pixels(tmp_path / "a.exr")
    np.testing.assert_array_equal(out[..., :3], half(px))
    np.testing.assert_array_equal(out[..., 3], 1.0)
    assert read_exr_header(tmp_path / "a.exr")["channels"] == ("R", "G", "B", "A")


def test_float_pixels_are_exact(tmp_path: Path) -> None:
    px = frame()
    write_exr_frame(tmp_path / "f.exr", px, pixel_type="float")
    assert read_exr_header(tmp_path / "f.exr")["pixel_type"] == "float"
    np.testing.assert_array_equal(read_exr_pixels(tmp_path / "f.exr"), px)


def test_extra_named_channel(tmp_path: Path) -> None:
    px = frame(c=5)
    names = ("R", "G", "B", "A", "mask")
    write_exr_frame(tmp_path / "m.exr", px, channel_names=names)
    assert read_exr_header(tmp_path / "m.exr")["channels"] == names
    np.testing.assert_array_equal(read_exr_pixels(tmp_path / "m.exr"), half(px))


@pytest.mark.parametrize(
    ("px", "names", "message"),
    [
        (frame(c=5), None, "5 channels need channel_names"),
        (frame(c=2), ("R", "R"), "distinct"),
        (frame()[0], None, r"\(H, W, C\)"),
        (frame().astype(np.uint16), None, "must be float"),
    ],
)
def test_bad_pixels_are_refused(
    tmp_path: Path, px: np.ndarray, names: tuple[str, ...] | None, message: str
) -> None:
    with pytest.raises(ImagingError, match=message):
        write_exr_frame(tmp_path / "bad.exr", px, channel_names=names)
    assert os.listdir(tmp_path) == []


def test_header_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "h.exr"
    attrs = {**ATTRIBUTES, "chromaticities": chromaticities_for("ACEScg"), "sora_vfx:cfg": 7.5}
    write_exr_frame(path, frame(), attributes=attrs, compression="piz")
    header = read_exr_header(path)
    # OIIO 3 stores oiio:ColorSpace as the interop id; it must still name ACEScg.
    assert get_converter().resolve(str(header["oiio:ColorSpace"])) == "ACEScg"
    assert header["chromaticities"] == pytest.approx(ATTRIBUTES["chromaticities"], rel=1e-6)
    assert header["timeCode"] == "01:02:03:04"
    assert header["framesPerSecond"] == Fraction(24000, 1001)
    assert header["compression"] == "piz"
    assert header["software"] == "sora_vfx test"
    for key in ("sora_vfx:shot", "sora_vfx:prompt", "sora_vfx:seed", "sora_vfx:steps", "sora_vfx:job_hash"):
        assert header[key] == ATTRIBUTES[key]
    assert header["sora_vfx:cfg"] == 7.5
    assert (header["width"], header["height"]) == (16, 8)
    assert header["data_window"] == header["display_window"] == (0, 0, 15, 7)


def test_file_has_real_exr_attribute_types(tmp_path: Path) -> None:
    path = tmp_path / "t.exr"
    write_exr_frame(path, frame(), attributes={**ATTRIBUTES, "timeCode": "23:59:58;29"})
    raw = raw_header(path)
    assert raw["timeCode"] == ("timecode", struct.pack("<II", 0x23595869, 0))  # BCD, drop bit
    assert raw["framesPerSecond"] == ("rational", struct.pack("<iI", 24000, 1001))
    assert raw["chromaticities"][0] == "chromaticities"
    assert struct.unpack("<8f", raw["chromaticities"][1]) == pytest.approx(
        ATTRIBUTES["chromaticities"], rel=1e-6
    )
    assert raw["colorInteropID"] == ("string", b"lin_ap1_scene")
    assert raw["compression"] == ("compression", bytes([EXR_COMPRESSION_CODES["zip"]]))
    assert raw["sora_vfx:seed"] == ("int", struct.pack("<i", 1234))
    assert raw["sora_vfx:shot"] == ("string", b"sh010")
    assert read_exr_header(path)["timeCode"] == "23:59:58;29"


def test_fps_number_and_big_int(tmp_path: Path) -> None:
    path = tmp_path / "n.exr"
    attrs = {"framesPerSecond": 24000 / 1001, "sora_vfx:seed": 2**40 + 1}
    write_exr_frame(path, frame(), attributes=attrs)
    header = read_exr_header(path)
    assert header["framesPerSecond"] == Fraction(24000, 1001)
    # EXR ints are 32-bit: a larger seed is kept exact as text.
    assert header["sora_vfx:seed"] == str(2**40 + 1)


@pytest.mark.parametrize("compression", [*COMPRESSIONS, "dwaa:45", "DWAB"])
def test_every_compression(tmp_path: Path, compression: str) -> None:
    path = tmp_path / "c.exr"
    px = frame(h=32, w=32)
    write_exr_frame(path, px, compression=compression)
    name = compression.split(":")[0].lower()
    assert read_exr_header(path)["compression"] == name
    assert raw_header(path)["compression"][1] == bytes([EXR_COMPRESSION_CODES[name]])
    out = read_exr_pixels(path)
    if name in ("none", "rle", "zips", "zip", "piz", "pxr24"):  # lossless for half
        np.testing.assert_array_equal(out, half(px))
    else:  # lossy (b44 on noise is very lossy): only close on average
        assert np.abs(out - half(px)).mean() < 0.25
    if compression == "dwaa:45":
        assert read_exr_header(path)["openexr:dwaCompressionLevel"] == 45.0


@pytest.mark.parametrize("compression", ["lzw", "zip:9", "dwaa:x", "", "dwaa:inf", "dwab:nan"])
def test_unknown_compression_lists_valid_ones(tmp_path: Path, compression: str) -> None:
    with pytest.raises(ImagingError) as info:
        write_exr_frame(tmp_path / "c.exr", frame(), compression=compression)
    assert f"{compression!r}" in str(info.value)
    assert "zip, zips, piz, pxr24, b44, b44a, dwaa, dwab, rle, none" in str(info.value)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"timeCode": "1:02:03:04"}, "not HH:MM:SS:FF"),
        ({"timeCode": "24:00:00:00"}, "out of range"),
        ({"framesPerSecond": 0}, "positive rate"),
        ({"framesPerSecond": float("nan")}, "positive rate"),
        ({"framesPerSecond": float("inf")}, "positive rate"),
        ({"chromaticities": (0.1, 0.2)}, "8 floats"),
        ({"sora_vfx:list": [1, 2]}, "sora_vfx:list has unsupported type list"),
    ],
)
def test_bad_attributes(tmp_path: Path, attributes: dict[str, object], message: str) -> None:
    with pytest.raises(ImagingError, match=message):
        write_exr_frame(tmp_path / "a.exr", frame(), attributes=attributes)
    assert os.listdir(tmp_path) == []


def test_none_attribute_is_left_out(tmp_path: Path) -> None:
    write_exr_frame(tmp_path / "a.exr", frame(), attributes={"chromaticities": None})
    assert "chromaticities" not in read_exr_header(tmp_path / "a.exr")


def test_header_text_is_one_line_and_never_cut_short(tmp_path: Path) -> None:
    """A prompt's line breaks and control characters become spaces (the one-line rule): OIIO
    would cut a string at a NUL, and leave out one that starts with it."""
    write_exr_frame(tmp_path / "a.exr", frame(), attributes={
        "sora_vfx:prompt": "a harbour\r\nat dawn\x00, slow push\x1b[2J\u2028in", "sora_vfx:style": "\x00film"})
    header = read_exr_header(tmp_path / "a.exr")
    assert header["sora_vfx:prompt"] == "a harbour at dawn , slow push [2J in"
    assert header["sora_vfx:style"] == " film"


def test_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "a.exr"
    with pytest.raises(ImagingError, match=r"nope.*does not exist"):
        write_exr_frame(path, frame())
    assert not path.parent.exists()


def test_folder_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImagingError, match=r"a\.exr"):
        write_exr_frame(tmp_path / "file" / "a.exr", frame())


def test_name_must_end_in_exr(tmp_path: Path) -> None:
    with pytest.raises(ImagingError, match=r"\.exr"):
        write_exr_frame(tmp_path / "a.tif", frame())


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ImagingError, match=r"ro/a\.exr"):
            write_exr_frame(folder / "a.exr", frame())
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


class _FailingOutput:
    """A real OIIO output that writes half the scanlines, then reports an error."""

    def __init__(self) -> None:
        self._out = oiio.ImageOutput.create("openexr")

    def open(self, name: str, spec: oiio.ImageSpec) -> bool:
        self.name = name
        return self._out.open(name, spec)

    def write_image(self, pixels: np.ndarray) -> bool:
        h = pixels.shape[0] // 2
        assert self._out.write_scanlines(0, h, 0, pixels[:h])
        assert Path(self.name).exists()  # a partial temp file really is on disk
        return False

    def close(self) -> bool:
        return self._out.close()

    def geterror(self) -> str:
        return "simulated: no space left on device"


def _patch_failing_output(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.SimpleNamespace(**{k: getattr(oiio, k) for k in dir(oiio)})
    fake.ImageOutput = types.SimpleNamespace(create=lambda _fmt: _FailingOutput())
    monkeypatch.setattr(exr, "oiio", fake)


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_failing_output(monkeypatch)
    path = tmp_path / "sh010.1001.exr"
    with pytest.raises(ImagingError, match=r"sh010\.1001\.exr.*no space left"):
        write_exr_frame(path, frame(h=64), attributes=ATTRIBUTES)
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_previous_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sh010.1001.exr"
    write_exr_frame(path, frame(seed=1), attributes=ATTRIBUTES)
    before = path.read_bytes()
    _patch_failing_output(monkeypatch)
    with pytest.raises(ImagingError):
        write_exr_frame(path, frame(seed=2), attributes=ATTRIBUTES)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_exception_during_encode_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(tmp: Path, spec: oiio.ImageSpec, pixels: np.ndarray) -> None:
        tmp.write_bytes(b"v/1\x01partial")
        assert tmp.name.startswith(".a.exr.") and tmp.name.endswith(".tmp.exr")
        raise RuntimeError("boom")

    monkeypatch.setattr(exr, "_encode", broken)
    with pytest.raises(ImagingError, match=r"a\.exr: boom"):
        write_exr_frame(tmp_path / "a.exr", frame())
    assert os.listdir(tmp_path) == []


def test_overwrite_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    write_exr_frame(path, frame(seed=1))
    write_exr_frame(path, frame(seed=2))
    np.testing.assert_array_equal(read_exr_pixels(path), half(frame(seed=2)))


def test_is_complete_frame(tmp_path: Path) -> None:
    path = tmp_path / "a.exr"
    write_exr_frame(path, frame(h=64, w=64), attributes=ATTRIBUTES)
    assert is_complete_frame(path, job_hash="abc123")
    assert not is_complete_frame(path, job_hash="other")
    assert not is_complete_frame(tmp_path / "missing.exr", job_hash="abc123")

    truncated = tmp_path / "truncated.exr"
    data = path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    assert not is_complete_frame(truncated, job_hash="abc123")
    with pytest.raises(ImagingError, match=r"truncated\.exr"):
        read_exr_pixels(truncated)

    text = tmp_path / "text.exr"
    text.write_text("not an image")
    assert not is_complete_frame(text, job_hash="abc123")

    no_hash = tmp_path / "nohash.exr"
    write_exr_frame(no_hash, frame())
    assert not is_complete_frame(no_hash, job_hash="abc123")


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImagingError, match=r"missing\.exr"):
        read_exr_header(tmp_path / "missing.exr")
    (tmp_path / "text.exr").write_text("not an image")
    with pytest.raises(ImagingError, match=r"text\.exr"):
        read_exr_pixels(tmp_path / "text.exr")


@pytest.mark.skipif(not (CORPUS / "displaywindow").is_dir(), reason="no shared corpus")
def test_reads_display_window_corpus() -> None:
    for path in sorted((CORPUS / "displaywindow").glob("*.exr")):
        header = read_exr_header(path)
        x0, y0, x1, y1 = header["data_window"]  # type: ignore[misc]
        pixels = read_exr_pixels(path)
        assert pixels.shape == (y1 - y0 + 1, x1 - x0 + 1, len(header["channels"])), path.name
        assert np.isfinite(pixels).all(), path.name


# Runs in a child process: a crash or hang there is a finding, not a dead test session.
_CORPUS_DRIVER = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a huge claimed size fails, not OOMs
from sora_vfx.errors import ImagingError
from sora_vfx.imaging.exr import read_exr_header, read_exr_pixels
for path in sys.argv[1:]:
    print(json.dumps(["start", path]), flush=True)
    try:
        read_exr_header(path)
        read_exr_pixels(path)
        result = "read"
    except ImagingError:
        result = "imaging_error"
    except BaseException as exc:
        result = "raised " + type(exc).__name__ + ": " + ascii(str(exc))[:200]
    print(json.dumps(["done", path, result]), flush=True)
"""


def _read_in_subprocess(
    paths: list[str], timeout: float = 120, driver: str = _CORPUS_DRIVER
) -> dict[str, str]:
    """Result per file; a file that kills or hangs the child is marked and skipped past."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results: dict[str, str] = {}
    remaining = list(paths)
    while remaining:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", driver, *remaining],
                capture_output=True,
                timeout=timeout,
                env=env,
                cwd=ROOT,
            )
            stdout, failure = proc.stdout, f"crashed (exit {proc.returncode})"
        except subprocess.TimeoutExpired as exc:
            stdout, failure = exc.stdout or b"", f"hung (> {timeout}s)"
        started = None
        for line in stdout.decode("utf-8", "replace").splitlines():
            event = json.loads(line)
            if event[0] == "start":
                started = event[1]
            else:
                results[event[1]] = event[2]
                started = None
        if started is None:
            break
        results[started] = failure
        remaining = remaining[remaining.index(started) + 1 :]
    return results


@pytest.mark.skipif(not (CORPUS / "damaged").is_dir(), reason="no shared corpus")
def test_damaged_corpus_never_crashes(tmp_path: Path) -> None:
    originals = sorted(p for p in (CORPUS / "damaged").iterdir() if p.name != "README.rst")
    # Our frames end in .exr, which sends OIIO straight to its EXR reader: test both ways.
    copies = []
    for src in originals:
        dst = tmp_path / f"{src.name}.exr"
        dst.write_bytes(src.read_bytes())
        copies.append(dst)
    paths = [str(p) for p in [*originals, *copies]]
    results = _read_in_subprocess(paths)
    assert set(results) == set(paths)
    bad = {Path(p).name: r for p, r in results.items() if r not in ("read", "imaging_error")}
    assert not bad, f"damaged EXRs that escape ImagingError: {bad}"


def test_subprocess_guard_reports_crash_and_hang() -> None:
    driver = _CORPUS_DRIVER.replace(
        "        read_exr_header(path)\n",
        "        if path == 'crash': import ctypes; ctypes.string_at(0)\n"
        "        if path == 'hang': import time; time.sleep(60)\n"
        "        read_exr_header(path)\n",
    )
    assert driver != _CORPUS_DRIVER
    results = _read_in_subprocess(["a", "crash", "b", "hang", "c"], timeout=5, driver=driver)
    assert results["crash"].startswith("crashed (exit -")
    assert results["hang"].startswith("hung")
    assert results["a"] == results["b"] == results["c"] == "imaging_error"


def _wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_frame_writer_writes_all_frames(tmp_path: Path) -> None:
    frames = {1001 + i: frame(seed=i) for i in range(6)}
    with FrameWriter(max_workers=2) as writer:
        for number, px in frames.items():
            buffer = px.copy()
            writer.submit(tmp_path / f"a.{number}.exr", buffer, {"sora_vfx:job_hash": "h"})
            buffer[:] = 0  # the writer copied it: reusing the buffer must not change the file
    for number, px in frames.items():
        path = tmp_path / f"a.{number}.exr"
        assert is_complete_frame(path, job_hash="h")
        np.testing.assert_array_equal(read_exr_pixels(path), half(px))
    assert len(os.listdir(tmp_path)) == len(frames)


def test_frame_writer_prepares_each_frame_on_its_threads(tmp_path: Path) -> None:
    threads = set()

    def brighter(pixels: np.ndarray) -> np.ndarray:
        threads.add(threading.current_thread().name)
        return pixels * 2

    frames = [frame(seed=i) for i in range(4)]
    with FrameWriter(max_workers=2) as writer:
        for number, px in enumerate(frames):
            writer.submit(tmp_path / f"b.{number}.exr", px, prepare=brighter)
    for number, px in enumerate(frames):
        np.testing.assert_array_equal(read_exr_pixels(tmp_path / f"b.{number}.exr"), half(px * 2))
    assert threads and all(name.startswith("sora_vfx-exr") for name in threads)


def test_frame_writer_raises_first_error(tmp_path: Path) -> None:
    writer = FrameWriter(max_workers=1)
    writer.submit(tmp_path / "ok.exr", frame())
    failed = writer.submit(tmp_path / "missing" / "bad.exr", frame())
    assert isinstance(failed.exception(timeout=10), ImagingError)
    with pytest.raises(ImagingError, match=r"missing/bad\.exr"):
        writer.submit(tmp_path / "late.exr", frame())
    with pytest.raises(ImagingError, match=r"missing/bad\.exr"):
        writer.close()
    assert os.listdir(tmp_path) == ["ok.exr"]


def test_frame_writer_context_raises_on_exit(tmp_path: Path) -> None:
    with pytest.raises(ImagingError, match=r"bad\.exr.*does not exist"), FrameWriter() as writer:
        writer.submit(tmp_path / "missing" / "bad.exr", frame())
    with FrameWriter() as writer:
        pass
    with pytest.raises(ImagingError, match="closed"):
        writer.submit(tmp_path / "after.exr", frame())


def test_frame_writer_wraps_unexpected_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("unexpected")

    monkeypatch.setattr(exr, "write_exr_frame", explode)
    with pytest.raises(ImagingError, match=r"x\.exr: unexpected"), FrameWriter() as writer:
        writer.submit(tmp_path / "x.exr", frame())


def test_frame_writer_bounds_pending_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    real_encode = exr._encode

    def slow_encode(tmp: Path, spec: oiio.ImageSpec, pixels: np.ndarray) -> None:
        gate.wait(10)
        real_encode(tmp, spec, pixels)

    monkeypatch.setattr(exr, "_encode", slow_encode)
    submitted: list[int] = []
    writer = FrameWriter(max_workers=1, max_pending=2)

    def produce() -> None:
        for i in range(4):
            writer.submit(tmp_path / f"f.{i}.exr", frame(seed=i))
            submitted.append(i)

    producer = threading.Thread(target=produce)
    producer.start()
    assert _wait_until(lambda: len(submitted) == 2)
    time.sleep(0.2)
    assert len(submitted) == 2  # the third submit waits for a free slot
    gate.set()
    producer.join(10)
    writer.close()
    assert submitted == [0, 1, 2, 3]
    assert sorted(os.listdir(tmp_path)) == [f"f.{i}.exr" for i in range(4)]


def test_frame_writer_drops_queued_frames_when_the_caller_fails(tmp_path: Path) -> None:
    with pytest.raises(KeyError), FrameWriter(max_workers=1, max_pending=8) as writer:
        for i in range(8):
            writer.submit(tmp_path / f"f.{i}.exr", frame(h=256, w=256, seed=i))
        raise KeyError("render failed")
    # Whatever was written is whole; no temp files are left.
    for name in os.listdir(tmp_path):
        assert not name.startswith("."), name
        read_exr_pixels(tmp_path / name)
