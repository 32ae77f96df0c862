"""The output transform: the model's display-referred picture to scene-linear frames and back
(``--output-transform inverse-view|srgb``), with OCIO's built-in configs and a user's config."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.errors import ImagingError
from sora_vfx.imaging import get_converter, read_display_frames, read_exr_header, read_exr_pixels
from sora_vfx.imaging.transform import MAX_SCENE_VALUE, OutputTransform
from sora_vfx.render import read_manifest

GREY = np.linspace(0.0, 1.0, 4097, dtype=np.float32)
_STEPS = np.linspace(0.0, 1.0, 17, dtype=np.float32)
#: Every colour of a 17-step cube: the gamut's corners and edges included.
CUBE = np.stack(np.meshgrid(_STEPS, _STEPS, _STEPS, indexing="ij"), -1).reshape(-1, 3)

#: A user's config: one display whose view is a 2.4 gamma with scene 4.0 at display white.
USER_CONFIG = """\
ocio_profile_version: 2
roles:
  default: linear
  scene_linear: linear
file_rules:
  - !<Rule> {name: Default, colorspace: default}
displays:
  Studio Monitor:
    - !<View> {name: Gamma 2.4 to 4.0, colorspace: monitor}
colorspaces:
  - !<ColorSpace>
    name: linear
  - !<ColorSpace>
    name: monitor
    from_scene_reference: !<GroupTransform>
      children:
        - !<MatrixTransform> {matrix: [0.25, 0, 0, 0, 0, 0.25, 0, 0, 0, 0, 0.25, 0, 0, 0, 0, 1]}
        - !<ExponentTransform> {value: [2.4, 2.4, 2.4, 1], direction: inverse}
"""


def round_trip(transform: OutputTransform, picture: np.ndarray, colorspace: str) -> np.ndarray:
    """The picture to scene-linear, stored as half floats (as in the EXR), and back."""
    linear = transform.to_scene(picture, colorspace)
    assert np.isfinite(linear).all()
    return transform.to_picture(linear.astype(np.float16).astype(np.float32), colorspace)


@pytest.mark.parametrize("config", ["ocio://cg-config-v4.0.0_aces-v2.0_ocio-v2.5",
                                    "ocio://studio-config-v4.0.0_aces-v2.0_ocio-v2.5"])
def test_a_dense_ramp_survives_the_inverse_view_and_half_floats(config):
    transform = OutputTransform.resolve("inverse-view", converter=get_converter(config))
    assert (transform.display, transform.view) == ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)")
    grey = np.stack([GREY] * 3, -1)
    assert np.abs(round_trip(transform, grey, "ACEScg") - grey).max() < 2e-4
    # Saturated corners are where a tone-mapping view bends most; they still come back.
    assert np.abs(round_trip(transform, CUBE, "ACEScg") - CUBE).max() < 0.01
    # Display white is a highlight, not paper white.
    assert transform.to_scene(np.ones((1, 3), np.float32), "ACEScg").min() > 10


def test_a_users_config_through_ocio(tmp_path, monkeypatch):
    path = tmp_path / "studio.ocio"
    path.write_text(USER_CONFIG)
    monkeypatch.setenv("OCIO", str(path))
    transform = OutputTransform.resolve("inverse-view")
    assert (transform.display, transform.view, transform.config) == ("Studio Monitor", "Gamma 2.4 to 4.0", str(path))
    grey = np.stack([GREY] * 3, -1)
    np.testing.assert_allclose(transform.to_scene(grey, "linear")[-1], [4.0, 4.0, 4.0], rtol=1e-4)
    # The toe of a 2.4 gamma sinks below the smallest half float: display 1/4096 comes back as 0.
    assert np.abs(round_trip(transform, grey, "linear") - grey).max() <= 1 / 4096
    assert np.abs(round_trip(transform, CUBE, "linear") - CUBE).max() < 2e-4
    with pytest.raises(ImagingError, match="unknown OCIO view 'ACES' for display 'Studio Monitor'.*Gamma 2.4"):
        OutputTransform.resolve("inverse-view", view="ACES")


def test_what_the_view_cannot_invert_is_clamped_finite():
    transform = OutputTransform.resolve("inverse-view")
    odd = np.array([[np.nan, 0.5, 0.5], [np.inf, -np.inf, 2.0], [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]], np.float32)
    linear = transform.to_scene(odd, "ACEScg")
    assert np.isfinite(linear).all() and np.abs(linear).max() <= MAX_SCENE_VALUE
    # Beyond display white is display white.
    np.testing.assert_array_equal(linear[2], linear[3])
    assert np.isfinite(transform.to_picture(np.array([[np.nan, np.inf, -np.inf]], np.float32), "ACEScg")).all()


def test_srgb_is_srgb_texture_bit_for_bit():
    picture = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    srgb = OutputTransform.resolve("srgb")
    expected = get_converter().convert(picture, src="srgb_tx", dst="ACEScg")
    np.testing.assert_array_equal(srgb.to_scene(picture, "ACEScg"), expected)
    assert srgb.header_attributes() == {"sora_vfx:output_transform": "srgb"}


SHAPES_EDL = """\
TITLE: white
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:00:17 01:00:00:00 01:00:00:17
* SHOT: WHT_0010
* PROMPT: a large white ball moving right on a blue background
"""


def test_a_render_has_highlights_where_the_model_drew_white_and_reads_back_as_drawn(tmp_path):
    edl = tmp_path / "white.edl"
    edl.write_text(SHAPES_EDL)
    pictures = {}
    for kind in ("inverse-view", "srgb"):
        out = tmp_path / kind
        result = CliRunner().invoke(main, ["render", str(edl), "-o", str(out), "--model", "shapes", "--handles", "0",
                                           "--no-review", "--output-transform", kind])
        assert result.exit_code == 0, result.output
        entry = read_manifest(out).entry("WHT_0010")
        first = out / "WHT_0010" / "WHT_0010.1001.exr"
        pictures[kind] = read_display_frames(sorted((out / "WHT_0010").glob("*.exr")), colorspace=entry.colorspace)
        linear = read_exr_pixels(first)[..., :3]
        header = read_exr_header(first)
        assert header["sora_vfx:output_transform"] == kind == entry.spec.output_transform
        if kind == "inverse-view":
            assert (header["sora_vfx:display"], header["sora_vfx:view"]) == (
                "sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)")
            assert header["sora_vfx:ocio_config"] == get_converter().config_uri
            assert linear.max() > 2  # the white ball (drawn a little under display white) is a highlight
        else:
            assert linear.max() <= 1.0 + 1e-3
    # The same seed draws the same picture; each transform reads back to it.
    assert np.abs(pictures["inverse-view"] - pictures["srgb"]).max() < 0.01
