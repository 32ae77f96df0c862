"""Sound a model makes with a shot: 24-bit PCM WAV files beside its frames.

A model that makes sound (LTX-2) gives float samples in [-1, 1] at its vocoder's rate. They
are written as 24-bit PCM, the depth editors and sound departments take without conversion,
at the model's own rate (no resampling: that is the editor's choice, as a frame rate is).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from sora_vfx.errors import ImagingError
from sora_vfx.files import write_atomically

_SAMPLE_BYTES = 3
_FULL_SCALE = 2 ** 23 - 1


@dataclass(frozen=True)
class Audio:
    """Float32 samples (samples, channels) in [-1, 1] at ``sample_rate`` per second."""

    samples: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    def lasting(self, frames: int, fps: Fraction | float) -> Audio:
        """This sound cut, or padded with silence, to exactly ``frames`` at ``fps``."""
        length = round(frames * self.sample_rate / Fraction(fps))
        samples = self.samples[:length]
        if len(samples) < length:
            pad = np.zeros((length - len(samples), samples.shape[1]), np.float32)
            samples = np.concatenate([samples, pad])
        return Audio(np.ascontiguousarray(samples, dtype=np.float32), self.sample_rate)


def write_wav(path: Path, audio: Audio) -> Path:
    """Write ``audio`` as a 24-bit PCM WAV, atomically (no reader sees half a file).

    Raises:
        ImagingError: the file cannot be written.
    """
    scaled = np.round(np.clip(audio.samples, -1.0, 1.0) * _FULL_SCALE).astype("<i4")
    # The three low bytes of each little-endian 32-bit sample, interleaved by channel.
    pcm = scaled.view(np.uint8).reshape(*scaled.shape, 4)[..., :_SAMPLE_BYTES].tobytes()

    def write(temporary: Path) -> None:
        with wave.open(str(temporary), "wb") as handle:
            handle.setnchannels(audio.samples.shape[1])
            handle.setsampwidth(_SAMPLE_BYTES)
            handle.setframerate(audio.sample_rate)
            handle.writeframes(pcm)

    return write_atomically(Path(path), write, what="sound", error=ImagingError, suffix=".wav")


def read_wav(path: Path) -> Audio:
    """A WAV file written by ``write_wav`` (or any 16- or 24-bit PCM WAV) as float samples.

    Raises:
        ImagingError: the file is missing, not a PCM WAV, or damaged.
    """
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            data = handle.readframes(handle.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise ImagingError(f"cannot read sound {path}: {exc}") from None
    if width not in (2, 3):
        raise ImagingError(f"cannot read sound {path}: {8 * width}-bit samples; 16- or 24-bit PCM only")
    raw = np.frombuffer(data, np.uint8).reshape(-1, width)
    # Sign-extend each little-endian sample into the top bytes of an int32.
    padded = np.zeros((len(raw), 4), np.uint8)
    padded[:, 4 - width:] = raw
    values = padded.view("<i4").reshape(-1) / float(2 ** 31 - 2 ** (32 - 8 * width))
    return Audio(values.astype(np.float32).reshape(-1, channels), rate)
