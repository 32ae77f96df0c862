"""The defaults that several layers share, named once.

A default used by one module alone stays in that module.
"""

from __future__ import annotations

#: Frame number of each shot's first frame (``head_in``).
START_FRAME = 1001
#: Frames rendered before and after each cut.
HANDLES = 8
#: The longest shot an edit may hold, handles included: an hour at 24 fps.
MAX_SHOT_FRAMES = 86_400
#: The working colour space frames are written in.
COLORSPACE = "ACEScg"
#: EXR compression of written frames, and every compression they may be written with.
COMPRESSION = "zip"
COMPRESSIONS = ("zip", "zips", "piz", "pxr24", "b44", "b44a", "dwaa", "dwab", "rle", "none")
#: The model used when none is named.
MODEL = "tiny"
#: Classifier-free guidance scale when neither the user nor the style sets one.
GUIDANCE = 5.0
#: Denoising steps when neither the user, the style nor the model folder sets them.
STEPS = 30
#: The OCIO colour space of a model's pictures: the sRGB texture encoding (display white is 1.0).
SRGB_TEXTURE = "srgb_tx"
#: How a shot longer than the model's frame limit joins its windows (``render.windows``).
WINDOW_METHODS = ("context", "continue", "crossfade", "forcing")
WINDOWS = "context"
#: How the model's display-referred picture becomes scene-linear (``imaging.transform``).
OUTPUT_TRANSFORMS = ("inverse-view", "srgb")
OUTPUT_TRANSFORM = "inverse-view"
