"""OpenEXR frames through OpenImageIO: atomic writes with metadata, safe reads, a writer pool.

OIIO names some EXR attributes differently from the file: the EXR ``timeCode`` attribute is
OIIO's ``smpte:TimeCode`` (TypeTimeCode), and OIIO 3 stores ``oiio:ColorSpace`` as the EXR
``colorInteropID`` (e.g. ``lin_ap1_scene`` for ACEScg) and drops names it cannot map. Here
callers use the EXR names (``timeCode``, ``framesPerSecond``, ``chromaticities``) both ways.
"""

from __future__ import annotations

import math
import numbers
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from sora_vfx import defaults
from sora_vfx.errors import ImagingError
from sora_vfx.files import remove_stale_temporaries, write_atomically
from sora_vfx.text import one_line

COMPRESSIONS = defaults.COMPRESSIONS
PIXEL_TYPES = ("half", "float")
#: Refuse to decode more float32 values than this (4 GiB): a damaged header can claim any size.
MAX_DECODE_VALUES = 1 << 30

_TIMECODE = re.compile(r"(\d{2}):(\d{2}):(\d{2})([:;])(\d{2})")
_INT32 = range(-(2**31), 2**31)


def oiio_error(obj: object | None = None) -> str:
    """OIIO's pending error text; never raises (damaged files put raw bytes in it)."""
    try:
        text = obj.geterror() if obj is not None else oiio.geterror()  # type: ignore[attr-defined]
    except UnicodeDecodeError as exc:
        text = bytes(exc.object).decode("utf-8", "replace")
    except Exception as exc:  # an error about the error must not hide the first
        text = f"(no error text: {exc})"
    text = " ".join(str(text).split()) or "unknown OpenImageIO error"
    # Damaged headers make OIIO repeat itself at length; the start says what is wrong.
    return text if len(text) <= 400 else text[:400] + " ..."


def check_compression(compression: str) -> str:
    """Validate an EXR compression name before any frame is written.

    Returns:
        The name in lower case, with its quality (``dwaa:45``) when one was given.
    Raises:
        ImagingError: an unknown name, or a quality on anything but ``dwaa``/``dwab`` or one
            that is not a positive number.
    """
    name, _, quality = compression.strip().lower().partition(":")
    ok = name in COMPRESSIONS
    if ok and quality:
        # Only DWA takes a quality suffix (OIIO reads it as openexr:dwaCompressionLevel).
        try:
            level = float(quality)
            ok = name in ("dwaa", "dwab") and math.isfinite(level) and level > 0
        except ValueError:
            ok = False
        quality = quality.strip()
    if not ok:
        raise ImagingError(
            f"unknown EXR compression {compression!r}, available: {', '.join(COMPRESSIONS)} "
            "(dwaa and dwab take a quality, e.g. dwaa:45)"
        )
    return f"{name}:{quality}" if quality else name


def _check_pixel_type(pixel_type: str) -> str:
    if pixel_type not in PIXEL_TYPES:
        raise ImagingError(f"unknown EXR pixel type {pixel_type!r}, available: {', '.join(PIXEL_TYPES)}")
    return pixel_type


def _pack_timecode(text: str, path: Path) -> tuple[int, int]:
    """SMPTE 12M BCD packing (OpenEXR's TV60 layout) of "HH:MM:SS:FF"; ';' sets drop frame."""
    match = _TIMECODE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ImagingError(f"cannot write {path}: timeCode {text!r} is not HH:MM:SS:FF")
    hh, mm, ss, sep, ff = match.groups()
    h, m, s, f = int(hh), int(mm), int(ss), int(ff)
    if h > 23 or m > 59 or s > 59 or f > 39:  # 39: the frame tens digit has two bits
        raise ImagingError(f"cannot write {path}: timeCode {text!r} is out of range")

    def bcd(v: int) -> int:
        return ((v // 10) << 4) | (v % 10)

    drop = 1 if sep == ";" else 0
    return bcd(f) | (drop << 6) | (bcd(s) << 8) | (bcd(m) << 16) | (bcd(h) << 24), 0


def _unpack_timecode(packed: int) -> str:
    def digits(shift: int, tens_bits: int) -> int:
        return ((packed >> (shift + 4)) & ((1 << tens_bits) - 1)) * 10 + ((packed >> shift) & 0xF)

    sep = ";" if packed & (1 << 6) else ":"
    return f"{digits(24, 2):02d}:{digits(16, 3):02d}:{digits(8, 3):02d}{sep}{digits(0, 2):02d}"


def apply_attributes(spec: oiio.ImageSpec, attributes: Mapping[str, object], path: Path) -> None:
    """Set header attributes on ``spec`` under their EXR names, each with the EXR type it needs.

    ``timeCode`` is packed as a SMPTE timecode, ``framesPerSecond`` and fractions become
    rationals, ``chromaticities`` eight floats; ints outside 32 bits are written as text so
    they stay exact. None values are skipped. Text follows the one-line rule
    (:func:`sora_vfx.text.one_line`): a prompt's line breaks and control characters become
    spaces (OpenImageIO would cut a string at U+0000, and drop one that starts with it).

    Args:
        path: the file being written, named in errors.
    Raises:
        ImagingError: a bad timecode, rate or chromaticities, or a value of another type.
    """
    for name, value in attributes.items():
        if value is None:  # e.g. chromaticities_for() of an unknown space: omit the attribute
            continue
        if name in ("timeCode", "smpte:TimeCode"):
            spec.attribute("smpte:TimeCode", oiio.TypeTimeCode, _pack_timecode(value, path))
        elif name == "framesPerSecond" or (
            isinstance(value, numbers.Rational) and not isinstance(value, numbers.Integral)
        ):
            if not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
                raise ImagingError(f"cannot write {path}: {name} {value!r} is not a positive rate")
            rate = Fraction(value).limit_denominator(1_000_000)
            if rate.numerator not in _INT32 or rate.denominator not in _INT32:
                raise ImagingError(f"cannot write {path}: {name} {value!r} does not fit a rational")
            spec.attribute(name, oiio.TypeRational, (rate.numerator, rate.denominator))
        elif name == "chromaticities":
            values = tuple(float(v) for v in value)  # type: ignore[attr-defined]
            if len(values) != 8:
                raise ImagingError(f"cannot write {path}: chromaticities needs 8 floats")
            spec.attribute(name, oiio.TypeDesc("float[8]"), values)
        elif isinstance(value, str):
            spec.attribute(name, one_line(value))
        elif isinstance(value, numbers.Integral):
            # EXR has no 64-bit int attribute: keep big values (seeds) exact as text.
            spec.attribute(name, int(value) if int(value) in _INT32 else str(int(value)))
        elif isinstance(value, numbers.Real):
            spec.attribute(name, float(value))
        else:
            raise ImagingError(
                f"cannot write {path}: attribute {name} has unsupported type "
                f"{type(value).__name__} (use str, int, float or Fraction)"
            )


def _pixels_for(
    rgba: np.ndarray, channel_names: Sequence[str] | None, path: Path
) -> tuple[np.ndarray, tuple[str, ...]]:
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ImagingError(f"cannot write {path}: pixels must be (H, W, C), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ImagingError(f"cannot write {path}: pixels must be float, got {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if channel_names is None:
        if arr.shape[2] == 3:
            alpha = np.ones((*arr.shape[:2], 1), dtype=np.float32)
            arr = np.concatenate([arr, alpha], axis=2)
        elif arr.shape[2] != 4:
            raise ImagingError(f"cannot write {path}: {arr.shape[2]} channels need channel_names")
        return arr, ("R", "G", "B", "A")
    names = tuple(channel_names)
    if len(names) != arr.shape[2] or len(set(names)) != len(names) or not all(names):
        raise ImagingError(
            f"cannot write {path}: channel_names {names} must be {arr.shape[2]} distinct names"
        )
    return arr, names


def _encode(tmp: Path, spec: oiio.ImageSpec, pixels: np.ndarray) -> None:
    """Write one scanline EXR with OIIO (which releases the GIL while it encodes)."""
    out = oiio.ImageOutput.create("openexr")
    if out is None:
        raise ImagingError(f"OpenImageIO has no OpenEXR writer: {oiio_error()}")
    if not out.open(str(tmp), spec):
        raise ImagingError(oiio_error(out))
    try:
        written = out.write_image(pixels)
    finally:
        closed = out.close()  # close() flushes the last chunks: its result counts too
    if not (written and closed):
        raise ImagingError(oiio_error(out))


def clean_stale_temp_files(folder: Path | str) -> list[Path]:
    """Remove temporary frames left by killed writers; return what was removed."""
    return remove_stale_temporaries(folder, ".*.tmp.exr")


def check_exr_target(path: Path | str) -> Path:
    """The path an EXR will be written to; ImagingError unless it ends in .exr in a folder that exists."""
    path = Path(path)
    if path.suffix.lower() != ".exr":
        raise ImagingError(f"cannot write {path}: an EXR frame's name must end in .exr")
    if not path.parent.is_dir():
        raise ImagingError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


def write_exr_frame(
    path: Path | str,
    rgba: np.ndarray,
    *,
    attributes: Mapping[str, object] | None = None,
    compression: str = defaults.COMPRESSION,
    pixel_type: str = "half",
    channel_names: Sequence[str] | None = None,
) -> None:
    """Write ``rgba`` (H, W, 4) or (H, W, 3) float pixels as a scanline EXR, atomically.

    Args:
        path: final file name, ending in ``.exr``; its folder must exist.
        rgba: float pixels; three channels get A = 1. Other counts need ``channel_names``.
        attributes: header attributes: str, int, float, Fraction; ``timeCode`` as
            "HH:MM:SS:FF", ``framesPerSecond`` as a Fraction (e.g. 24000/1001),
            ``chromaticities`` as 8 floats. None values are left out.
        compression: one of :data:`COMPRESSIONS`, or ``dwaa:45``-style with a quality.
        pixel_type: "half" or "float".
        channel_names: names for every channel, e.g. ("R", "G", "B", "A", "mask").

    Raises:
        ImagingError: bad arguments, missing folder, or OIIO failed; no file is left behind.
    """
    path = check_exr_target(path)
    comp, pixel_type = check_compression(compression), _check_pixel_type(pixel_type)
    pixels, names = _pixels_for(rgba, channel_names, path)
    height, width, nchannels = pixels.shape
    spec = oiio.ImageSpec(width, height, nchannels, pixel_type)
    spec.channelnames = names
    spec.alpha_channel = names.index("A") if "A" in names else -1
    apply_attributes(spec, attributes or {}, path)
    spec.attribute("compression", comp)

    write_exr(path, spec, pixels)


def write_exr(path: Path, spec: oiio.ImageSpec, pixels: np.ndarray) -> None:
    """Encode ``pixels`` with a finished ``spec`` by ``files.write_atomically``: to a temporary
    name beside ``path``, then renamed into place; a failure leaves nothing behind.

    Raises:
        ImagingError: OIIO failed (the message names ``path``).
    """
    # ".exr" last so that OIIO picks the format by the temporary name.
    write_atomically(path, lambda temporary: _encode(temporary, spec, np.ascontiguousarray(pixels)),
                     what="EXR", error=ImagingError, suffix=".exr")


def _attribute_value(param: oiio.ParamValue) -> object:
    try:
        value = param.value
    except UnicodeDecodeError as exc:  # a string attribute that is not UTF-8
        return bytes(exc.object).decode("utf-8", "replace")
    except Exception:  # a type the bindings cannot convert: keep its text
        return None
    if str(param.type) == "timecode" and isinstance(value, tuple) and value:
        return _unpack_timecode(int(value[0]))
    if str(param.type) == "rational" and isinstance(value, tuple) and len(value) == 2:
        num, den = value
        return Fraction(int(num), int(den)) if den else None
    return value


_RENAMED = {"smpte:TimeCode": "timeCode"}  # OIIO name -> the EXR name callers write


def inclusive_window(x: int, y: int, width: int, height: int) -> tuple[int, int, int, int]:
    """EXR-style inclusive box (x0, y0, x1, y1)."""
    return x, y, x + width - 1, y + height - 1


def open_image(path: Path) -> oiio.ImageInput:
    """Open any image OIIO reads; the caller closes it.

    Raises:
        ImagingError: missing or unreadable (OIIO's reason, or the bindings' on odd header bytes).
    """
    if not path.is_file():
        raise ImagingError(f"cannot read {path}: no such file")
    try:
        inp = oiio.ImageInput.open(str(path))
    except Exception as exc:  # bindings can raise on odd bytes in headers
        raise ImagingError(f"cannot read {path}: {exc}") from exc
    if inp is None:
        raise ImagingError(f"cannot read {path}: {oiio_error()}")
    return inp


def _open(path: Path | str) -> tuple[oiio.ImageInput, dict[str, object]]:
    """Open an EXR and return its input (caller closes it) and its header dict."""
    path = Path(path)
    inp = open_image(path)
    try:
        if inp.format_name() != "openexr":
            raise ImagingError(f"cannot read {path}: not an OpenEXR file ({inp.format_name()})")
        spec = inp.spec()
        header: dict[str, object] = {}
        for param in spec.extra_attribs:
            try:
                name = param.name
            except UnicodeDecodeError:
                continue  # a damaged name is no use to anyone
            value = _attribute_value(param)
            if value is not None:
                header[_RENAMED.get(name, name)] = value
        header.update(
            width=spec.width,
            height=spec.height,
            channels=tuple(spec.channelnames),
            pixel_type=str(spec.format),
            deep=bool(spec.deep),
            data_window=inclusive_window(spec.x, spec.y, spec.width, spec.height),
            display_window=inclusive_window(spec.full_x, spec.full_y, spec.full_width, spec.full_height),
        )
    except Exception as exc:
        inp.close()
        if isinstance(exc, ImagingError):
            raise
        raise ImagingError(f"cannot read {path}: {exc}") from exc
    return inp, header


def _decode(inp: oiio.ImageInput, header: Mapping[str, object], path: Path | str) -> np.ndarray:
    width, height = int(header["width"]), int(header["height"])  # type: ignore[call-overload]
    nchannels = len(header["channels"])  # type: ignore[arg-type]
    if header["deep"]:
        raise ImagingError(f"cannot read {path}: deep EXR images are not supported")
    if width <= 0 or height <= 0 or nchannels <= 0:
        raise ImagingError(f"cannot read {path}: empty image ({width}x{height}x{nchannels})")
    if width * height * nchannels > MAX_DECODE_VALUES:
        raise ImagingError(f"cannot read {path}: {width}x{height}x{nchannels} is too large to decode")
    try:
        pixels = inp.read_image("float")
    except Exception as exc:
        raise ImagingError(f"cannot read {path}: {exc}") from exc
    if pixels is None:
        raise ImagingError(f"cannot read {path}: {oiio_error(inp)}")
    return np.asarray(pixels, dtype=np.float32).reshape(height, width, nchannels)


def read_exr_header(path: Path | str) -> dict[str, object]:
    """All header attributes plus width, height, channels, pixel_type, deep, data_window and
    display_window (inclusive x0, y0, x1, y1). ``timeCode`` reads back as "HH:MM:SS:FF" and
    rationals such as ``framesPerSecond`` as Fractions.

    Raises:
        ImagingError: missing, unreadable or not an EXR.
    """
    inp, header = _open(path)
    inp.close()
    return header


def read_exr_pixels(path: Path | str) -> np.ndarray:
    """The data window's pixels as float32 (H, W, C), channels in header order.

    Raises:
        ImagingError: missing, unreadable, damaged, deep or implausibly large.
    """
    return read_exr(path)[1]


def read_exr(path: Path | str) -> tuple[dict[str, object], np.ndarray]:
    """:func:`read_exr_header` and :func:`read_exr_pixels` of one file, opened once.

    Raises:
        ImagingError: missing, unreadable, damaged, deep or implausibly large.
    """
    inp, header = _open(path)
    try:
        return header, _decode(inp, header, path)
    finally:
        inp.close()


def is_complete_frame(path: Path | str, *, job_hash: str) -> bool:
    """True only if ``path`` is an EXR whose pixels decode and whose job hash is ``job_hash``."""
    try:
        inp, header = _open(path)
    except Exception:  # resume only needs a yes or no
        return False
    try:
        if header.get("sora_vfx:job_hash") != job_hash:
            return False
        _decode(inp, header, path)
        return True
    except Exception:
        return False
    finally:
        inp.close()


class FrameWriter:
    """Writes EXR frames on worker threads so encoding overlaps the next diffusion step.

    ``submit`` blocks while ``max_pending`` frames wait, so memory stays bounded. The first
    failed write is raised by the next ``submit`` and by ``close`` (or leaving the ``with``).
    """

    def __init__(
        self,
        *,
        max_workers: int = 2,
        max_pending: int | None = None,
        compression: str = defaults.COMPRESSION,
        pixel_type: str = "half",
    ) -> None:
        if max_workers < 1:
            raise ImagingError(f"FrameWriter needs max_workers >= 1, got {max_workers}")
        self.compression = check_compression(compression)
        self.pixel_type = _check_pixel_type(pixel_type)
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="sora_vfx-exr")
        self._slots = threading.BoundedSemaphore(max_pending or 2 * max_workers)
        self._lock = threading.Lock()
        self._error: ImagingError | None = None
        self._closed = False

    def submit(
        self,
        path: Path | str,
        rgba: np.ndarray,
        attributes: Mapping[str, object] | None = None,
        *,
        channel_names: Sequence[str] | None = None,
        prepare: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Future[None]:
        """Queue one frame; ``rgba`` is copied, so the caller may reuse its buffer.

        ``prepare``: what turns ``rgba`` into the pixels written, run on the worker thread (a
        colour transform: OCIO's releases the GIL, so the frames convert in parallel).
        """
        self._raise_error()
        if self._closed:
            raise ImagingError(f"cannot write {path}: the FrameWriter is closed")
        # A copy, because the caller's buffer (often a torch tensor's view) changes next step.
        pixels = np.array(rgba, dtype=np.float32, copy=True)
        options = dict(attributes=dict(attributes or {}), compression=self.compression, pixel_type=self.pixel_type,
                       channel_names=channel_names)

        def job() -> None:
            write_exr_frame(Path(path), pixels if prepare is None else prepare(pixels), **options)

        self._slots.acquire()
        try:
            future = self._pool.submit(self._run, Path(path), job)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def _run(self, path: Path, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as exc:
            error = exc if isinstance(exc, ImagingError) else ImagingError(f"cannot write {path}: {exc}")
            with self._lock:
                if self._error is None:
                    self._error = error
            if error is exc:
                raise
            raise error from exc

    def _raise_error(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error

    def close(self) -> None:
        """Wait for every queued frame; raise the first write error, if any."""
        self._closed = True
        self._pool.shutdown(wait=True)
        self._raise_error()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            # Already failing: drop frames not yet started, finish the ones being written
            # (they are complete and atomic) and let the original error through.
            self._closed = True
            self._pool.shutdown(wait=True, cancel_futures=True)
