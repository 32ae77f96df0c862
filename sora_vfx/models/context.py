"""Context windows in latent space: a whole shot denoised as one by a model with a frame limit.

At every denoising step the pipeline's own loop (prompt encoding, guidance, scheduler,
image conditioning) runs on the whole shot's latents; only its transformer is wrapped
(``WindowedTransformer``), so that the transformer sees overlapping windows of frames and
their predictions are joined where windows overlap (``blend_weights``: each frame from the
window whose middle is nearest, every window seeing its neighbours' frames). Each step the
windows move on by a quarter of their stride, back to where they started every
:data:`TILINGS` steps (``shifted_windows``), so that no frame sits where two windows meet at
every step and the windows settle on one picture there; with a step cache (``--cache``), which
keeps state per window across steps, they stay put. The shot is then
decoded by its family's hooks: as one stream where a causal VAE decodes latent frame after
latent frame carrying its cache (``Family.decode_stream``: the frames of one decode of the
whole shot, with the memory of one latent frame), else in overlapping windows
(``Family.decode_window``). Memory stays at about one window of transformer activations plus
the whole shot's latents.

This needs a family whose transformer takes latents with frames on one axis and, where the
timestep is given per token, tokens in frame order: ``Family.context_axis``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from sora_vfx.models.acceleration import current_cache_context, window_cache_context

#: A window of latent frames: (first latent frame, number of latent frames).
LatentWindow = tuple[int, int]


def blend_weights(windows: Sequence[LatentWindow], total: int) -> list[torch.Tensor]:
    """Each window's weight per latent frame: 1 where the frame is nearer its middle than any
    other covering window's (the earlier window on a tie), else 0.

    Every window still sees the frames it shares with its neighbours, so their predictions are
    made with each other's latents in view; but each frame takes one window's prediction, never
    an average of two that may disagree (two positions of one object, averaged, make a ghost).
    ``benchmarks/long_shots.py`` measured both: averaging with weights ramped across each
    overlap left larger steps at the seams (README, "Long shots").

    Raises:
        ValueError: the windows leave a frame uncovered or run past ``total``.
    """
    owner = torch.full((total,), -1, dtype=torch.long)
    distance = torch.full((total,), float("inf"), dtype=torch.float64)
    for index, (start, length) in enumerate(windows):
        if start < 0 or start + length > total:
            raise ValueError(f"latent window {start}..{start + length - 1} runs outside the shot's {total} frames")
        frames = torch.arange(start, start + length)
        from_middle = (frames - (start + (length - 1) / 2)).abs().double()
        nearer = from_middle < distance[frames]
        owner[frames[nearer]] = index
        distance[frames[nearer]] = from_middle[nearer]
    if bool((owner < 0).any()):
        raise ValueError(f"latent windows {list(windows)} leave frames of the shot's {total} uncovered")
    return [(owner[start:start + length] == index).float() for index, (start, length) in enumerate(windows)]


#: Context windows cycle through this many tilings, one a step, the k-th moved on by k / TILINGS
#: of the distance between window starts (``benchmarks/long_shots.py``, 4 shots: the mean step
#: across a seam 2.07x the shot's median step with one tiling, 1.13x with two, 1.00x with four).
TILINGS = 4


def shifted_windows(windows: Sequence[LatentWindow], total: int, fraction: float) -> list[LatentWindow]:
    """The same windows moved on by ``fraction`` of the distance between their starts, plus the
    first and last windows, so that every frame is still covered: where two windows meet at one
    step, they do not meet at the next. ``fraction`` 0, one window, or windows of different
    lengths (the plan gives one length) stay as they are."""
    if not fraction or len(windows) < 2 or len({length for _, length in windows}) != 1:
        return list(windows)
    starts = [start for start, _ in windows]
    length = windows[0][1]
    offset = max(1, round((starts[1] - starts[0]) * fraction))
    moved = [0] + [min(start + offset, total - length) for start in starts[:-1]]
    return sorted({(start, length) for start in moved} | {(total - length, length)})


#: Keyword inputs of a transformer call that hold latent frames like ``hidden_states`` (VACE's
#: context: the filmed frames and the mask), sliced to the same window.
FRAME_INPUTS = ("control_hidden_states",)


class WindowedTransformer:
    """A pipeline's transformer, called on windows of the frames it is given.

    Everything but the call is the wrapped transformer's (``dtype``, ``config``,
    ``cache_context``, ...), so the pipeline's loop runs unchanged. ``axis`` is the frame axis
    of ``hidden_states``, of the prediction and of the :data:`FRAME_INPUTS`.
    """

    def __init__(self, transformer: torch.nn.Module, windows: Sequence[LatentWindow], *, axis: int = 2):
        self._transformer = transformer
        self._windows = list(windows)
        self._axis = axis
        self._tilings: list[list[LatentWindow]] = []
        self._weights: list[list[torch.Tensor]] | None = None
        self._step, self._timestep = -1, None
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transformer, name)

    def __call__(self, *args: Any, hidden_states: torch.Tensor, timestep: torch.Tensor, return_dict: bool = True,
                 **kwargs: Any) -> Any:
        frames = hidden_states.shape[self._axis]
        if self._windows == [(0, frames)]:
            self.calls += 1
            return self._transformer(*args, hidden_states=hidden_states, timestep=timestep, return_dict=return_dict,
                                     **kwargs)
        if self._weights is None:
            self._tilings = [shifted_windows(self._windows, frames, k / TILINGS) for k in range(TILINGS)]
            self._weights = [blend_weights(tiling, frames) for tiling in self._tilings]
        # A new timestep is a new denoising step (the guided and unguided calls of one step share
        # it). A step cache (--cache) keeps state per window across steps, so it keeps one tiling.
        if self._timestep is None or not torch.equal(timestep, self._timestep):
            self._step += 1
            self._timestep = timestep.clone()
        tiling = self._step % len(self._tilings) if current_cache_context(self._transformer) is None else 0
        # Per-token timesteps (first-frame conditioning) list the tokens frame by frame.
        tokens_per_frame = timestep.shape[-1] // frames if timestep.ndim == 2 else None
        blended: torch.Tensor | None = None
        for (start, length), weight in zip(self._tilings[tiling], self._weights[tiling], strict=True):
            window_timestep = timestep
            if tokens_per_frame is not None:
                window_timestep = timestep[:, start * tokens_per_frame:(start + length) * tokens_per_frame]
            window_inputs = {name: value.narrow(self._axis, start, length) for name, value in kwargs.items()
                             if name in FRAME_INPUTS and torch.is_tensor(value) and value.shape[self._axis] == frames}
            # A step cache (--cache) keeps each window's state apart: its neighbour is another picture.
            with window_cache_context(self._transformer, start):
                output = self._transformer(*args, hidden_states=hidden_states.narrow(self._axis, start, length),
                                           timestep=window_timestep, return_dict=False,
                                           **{**kwargs, **window_inputs})[0]
            if blended is None:
                shape = list(output.shape)
                shape[self._axis] = frames
                blended = output.new_zeros(shape, dtype=torch.float32)
            view = [1] * output.ndim
            view[self._axis] = length
            blended.narrow(self._axis, start, length).add_(output.float() * weight.to(output.device).view(view))
            self.calls += 1
        assert blended is not None
        result = blended.to(hidden_states.dtype if hidden_states.is_floating_point() else blended.dtype)
        if return_dict:
            from diffusers.models.modeling_outputs import Transformer2DModelOutput

            return Transformer2DModelOutput(sample=result)
        return (result,)


@contextmanager
def windowed_transformers(pipeline: Any, windows: Sequence[LatentWindow], *, axis: int = 2,
                          names: Sequence[str] = ("transformer",)) -> Iterator[list]:
    """Wrap the pipeline's transformers (``names``: its family's ``transformers``, two experts
    in some) for the duration of the block; yields the wrappers."""
    wrapped = []
    originals = {}
    for name in names:
        module = getattr(pipeline, name, None)
        if module is None:
            continue
        originals[name] = module
        wrapper = WindowedTransformer(module, windows, axis=axis)
        # Past the pipeline's __setattr__, which would register the wrapper in its config.
        object.__setattr__(pipeline, name, wrapper)
        wrapped.append(wrapper)
    try:
        yield wrapped
    finally:
        for name, module in originals.items():
            object.__setattr__(pipeline, name, module)
