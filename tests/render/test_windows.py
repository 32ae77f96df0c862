import numpy as np
import pytest

from sora_vfx.render.windows import Window, WindowBlender, plan_windows


def test_short_shot_is_one_window():
    assert plan_windows(10, max_frames=17, overlap=4, align=4) == [Window(0, 10)]


@pytest.mark.parametrize("frames", [18, 40, 97, 240])
def test_windows_cover_the_shot_with_overlap(frames):
    windows = plan_windows(frames, max_frames=17, overlap=4, align=4)
    assert windows[0].start == 0 and windows[-1].end == frames
    assert all(w.length == 17 for w in windows)
    for before, after in zip(windows, windows[1:], strict=False):
        assert after.start < before.end, "consecutive windows must overlap"
        assert after.start > before.start
    assert all(w.start % 4 == 0 for w in windows[:-1])


def blend(windows, values, order=None):
    blender = WindowBlender(windows, order=order)
    out = {}
    for index in order if order is not None else range(len(windows)):
        w = windows[index]
        frames = np.full((w.length, 1, 1, 1), values[index], np.float32)
        for frame_index, frame in blender.add(index, frames):
            assert frame_index not in out
            out[frame_index] = float(frame[0, 0, 0])
    return out


def test_overlap_cross_fades_linearly():
    windows = [Window(0, 10), Window(6, 10)]
    out = blend(windows, [0.0, 1.0])
    assert sorted(out) == list(range(16))
    assert [out[i] for i in range(6)] == [0.0] * 6
    assert [round(out[i], 3) for i in range(6, 10)] == [0.2, 0.4, 0.6, 0.8]
    assert [out[i] for i in range(10, 16)] == [1.0] * 6


def test_frames_are_handed_on_as_soon_as_final():
    windows = plan_windows(100, max_frames=17, overlap=4, align=4)
    blender = WindowBlender(windows)
    first = list(blender.add(0, np.zeros((17, 1, 1, 1), np.float32)))
    assert [i for i, _ in first] == list(range(windows[1].start))


def test_resumed_windows_give_the_same_frames_they_own():
    windows = plan_windows(60, max_frames=17, overlap=4, align=4)
    values = [float(i) for i in range(len(windows))]
    full = blend(windows, values)
    partial = blend(windows, values, order=[2, 3])
    # Frames covered only by windows 2 and 3 (not 1 or 4) come out exactly as in a full render.
    owned = [f for f in partial if f >= windows[1].end and f < (windows[4].start if len(windows) > 4 else 60)]
    assert owned and all(partial[f] == full[f] for f in owned)
    with pytest.raises(ValueError, match="expected 2, got 3"):
        WindowBlender(windows, order=[2, 3]).add(3, np.zeros((17, 1, 1, 1), np.float32)).__next__()
