"""Movies through PyAV: H.264 MP4 previews (FFmpeg's libx264, which the PyAV wheels include)
and ProRes 422 HQ dailies (FFmpeg's prores_ks) that an editor cuts with.

Frames come in as 8-bit display RGB (sRGB display, from the OCIO view transform) and are
stored as BT.709 limited range (4:2:0 8-bit for H.264, 4:2:2 10-bit for ProRes), tagged BT.709
primaries and the sRGB transfer curve. A ProRes daily carries its first frame's timecode and
the shot's reel in a QuickTime timecode track, so an NLE places and relinks it by timecode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ReviewError
from ..imaging.wav import Audio
from ..text import one_line


@dataclass(frozen=True)
class MovieFormat:
    """An encoder, its options, pixel format and container."""

    codec: str
    options: Mapping[str, str]
    pix_fmt: str
    container: str
    suffix: str
    #: The encoder of a shot's sound, where it has any.
    audio_codec: str


# Previews are watched, not graded: a fast preset keeps review cheap after every render, and
# CRF 18 is visually lossless for this kind of material.
H264 = MovieFormat("libx264", {"preset": "veryfast", "crf": "18"}, "yuv420p", "mp4", ".mp4", "aac")
#: ProRes 422 HQ (profile 3), Apple's vendor tag, as Avid and Resolve expect it.
PRORES_HQ = MovieFormat("prores_ks", {"profile": "3", "vendor": "apl0"}, "yuv422p10le", "mov", ".mov", "pcm_s24le")


def check_encoder(movie_format: MovieFormat = H264) -> None:
    """Raises ReviewError when this PyAV build has no encoder for ``movie_format``."""
    import av

    try:
        av.codec.Codec(movie_format.codec, "w")
    except Exception as exc:
        raise ReviewError(f"this PyAV build ({av.__version__}) has no {movie_format.codec} encoder: {exc}") from None


class MovieWriter:
    """Writes one movie, frame by frame; the file appears only when ``close`` succeeds.

    Args:
        path: the final path (written to a temporary name beside it first).
        size: (width, height), both even.
        rate: frames per second, exact (e.g. Fraction(24000, 1001)).
        metadata: container tags such as title and comment (each one line: a prompt's line
            breaks and control characters become spaces, as in every one-line field).
        movie_format: ``H264`` (default) or ``PRORES_HQ``.
        timecode: the first frame's timecode (and ``reel``, the tape name, as one line), in a
            timecode track.
        audio: the sound that starts with the first frame (AAC in previews, 24-bit PCM in dailies).
    """

    def __init__(self, path: Path, *, size: tuple[int, int], rate: Fraction,
                 metadata: Mapping[str, str] | None = None, movie_format: MovieFormat = H264,
                 timecode: str | None = None, reel: str | None = None, audio: Audio | None = None) -> None:
        import av

        self.path = Path(path)
        self.size = size
        self.rate = Fraction(rate).limit_denominator(1_000_000)
        self.frames = 0
        self.format = movie_format
        self._temp = self.path.with_name(f".{self.path.stem}.partial{movie_format.suffix}")
        try:
            self._container = av.open(str(self._temp), "w", format=movie_format.container,
                                      container_options={"movflags": "+faststart"})
            stream = self._container.add_stream(movie_format.codec, rate=self.rate, options=dict(movie_format.options))
            stream.width, stream.height = size
            stream.pix_fmt = movie_format.pix_fmt
            if timecode:
                # FFmpeg's QuickTime muxer makes a timecode (tmcd) track from these tags.
                stream.metadata["timecode"] = timecode
                if reel and one_line(reel).strip():
                    stream.metadata["reel_name"] = one_line(reel).strip()
            stream.time_base = 1 / self.rate
            context = stream.codec_context
            context.color_range = av.video.reformatter.ColorRange.MPEG
            context.colorspace = av.video.reformatter.Colorspace.ITU709
            context.color_primaries = av.video.reformatter.ColorPrimaries.BT709
            context.color_trc = av.video.reformatter.ColorTrc.IEC61966_2_1
            for key, value in (metadata or {}).items():
                self._container.metadata[one_line(key)] = one_line(value)
            self._audio = audio
            layout = {1: "mono", 2: "stereo"}.get(audio.samples.shape[1]) if audio is not None else None
            if audio is not None and layout is None:
                raise ReviewError(f"{audio.samples.shape[1]} sound channels; movies take mono or stereo")
            self._audio_stream = None if audio is None else self._container.add_stream(
                movie_format.audio_codec, rate=audio.sample_rate, layout=layout)
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
            frame = frame.reformat(format=self.format.pix_fmt, src_colorspace=Colorspace.ITU709,
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
        """Flush the encoder, add the sound, and move the movie to its final name."""
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            if self._audio_stream is not None:
                self._write_audio()
            self._container.close()
            self._temp.replace(self.path)
        except Exception as exc:
            self.abort()
            raise ReviewError(f"cannot write {self.path}: {exc}") from exc
        return self.path

    def _write_audio(self) -> None:
        """The whole sound in one frame: PyAV's encoder cuts it into the codec's frame size."""
        import av

        audio = self._audio
        planar = np.ascontiguousarray(audio.samples.T, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=self._audio_stream.layout.name)
        frame.sample_rate, frame.pts = audio.sample_rate, 0
        for packet in [*self._audio_stream.encode(frame), *self._audio_stream.encode()]:
            self._container.mux(packet)

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
