"""H.264 MP4 preview movies through PyAV (FFmpeg's libx264, which the PyAV wheels include).

Frames come in as 8-bit display RGB (sRGB display, from the OCIO view transform) and are
stored as 4:2:0 BT.709 limited range, tagged BT.709 primaries and the sRGB transfer curve.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ReviewError

CODEC = "libx264"
# Previews are watched, not graded: a fast preset keeps review cheap after every render, and
# CRF 18 is visually lossless for this kind of material.
CODEC_OPTIONS = {"preset": "veryfast", "crf": "18"}


def check_encoder() -> None:
    """Raises ReviewError when this PyAV build has no H.264 encoder."""
    import av

    try:
        av.codec.Codec(CODEC, "w")
    except Exception as exc:
        raise ReviewError(f"this PyAV build ({av.__version__}) has no {CODEC} encoder: {exc}") from None


class MovieWriter:
    """Writes one H.264 MP4, frame by frame; the file appears only when ``close`` succeeds.

    Args:
        path: the final .mp4 path (written to a temporary name beside it first).
        size: (width, height), both even.
        rate: frames per second, exact (e.g. Fraction(24000, 1001)).
        metadata: container tags such as title and comment.
    """

    def __init__(self, path: Path, *, size: tuple[int, int], rate: Fraction,
                 metadata: Mapping[str, str] | None = None) -> None:
        import av

        self.path = Path(path)
        self.size = size
        self.rate = Fraction(rate).limit_denominator(1_000_000)
        self.frames = 0
        self._temp = self.path.with_name(f".{self.path.stem}.partial.mp4")
        try:
            self._container = av.open(str(self._temp), "w", format="mp4",
                                      container_options={"movflags": "+faststart"})
            stream = self._container.add_stream(CODEC, rate=self.rate, options=dict(CODEC_OPTIONS))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.time_base = 1 / self.rate
            context = stream.codec_context
            context.color_range = av.video.reformatter.ColorRange.MPEG
            context.colorspace = av.video.reformatter.Colorspace.ITU709
            context.color_primaries = av.video.reformatter.ColorPrimaries.BT709
            context.color_trc = av.video.reformatter.ColorTrc.IEC61966_2_1
            for key, value in (metadata or {}).items():
                self._container.metadata[key] = value
        except Exception as exc:
            self.abort()
            raise ReviewError(f"cannot write {self.path}: {exc}") from exc
        self._stream = stream

    def write(self, rgb: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 frame of exactly ``size``."""
        import av
        from av.video.reformatter import ColorRange, Colorspace

        if rgb.shape != (self.size[1], self.size[0], 3) or rgb.dtype != np.uint8:
            raise ReviewError(f"cannot write {self.path}: frame {self.frames} is {rgb.shape} {rgb.dtype}, "
                              f"expected ({self.size[1]}, {self.size[0]}, 3) uint8")
        try:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame = frame.reformat(format="yuv420p", src_colorspace=Colorspace.ITU709,
                                   dst_colorspace=Colorspace.ITU709, src_color_range=ColorRange.JPEG,
                                   dst_color_range=ColorRange.MPEG)
            frame.pts = self.frames
            self.frames += 1
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except Exception as exc:
            self.abort()
            raise ReviewError(f"cannot write {self.path}: {exc}") from exc

    def close(self) -> Path:
        """Flush the encoder and move the movie to its final name."""
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._temp.replace(self.path)
        except Exception as exc:
            self.abort()
            raise ReviewError(f"cannot write {self.path}: {exc}") from exc
        return self.path

    def abort(self) -> None:
        """Close the container after a failure and remove the partial movie; never raises."""
        container = getattr(self, "_container", None)
        if container is not None:
            try:
                container.close()
            except Exception:  # already failing; the first error is the one to report
                pass
        self._temp.unlink(missing_ok=True)

    def __enter__(self) -> MovieWriter:
        return self

    def __exit__(self, exc_type, *_: object) -> None:
        if exc_type is not None:
            self.abort()
