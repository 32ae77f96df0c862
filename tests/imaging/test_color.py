"""OCIO colour conversion: pinned config, sRGB -> ACEScg values, aliases, $OCIO, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import PyOpenColorIO as ocio
import pytest

from sora_vfx.errors import ImagingError
from sora_vfx.imaging import color
from sora_vfx.imaging.color import (
    PINNED_CONFIG,
    ColorConverter,
    chromaticities_for,
    default_config_uri,
    from_scene_linear,
    get_converter,
    to_scene_linear,
)

# Rec.709 (D65) -> AP1 (ACES white), Bradford-adapted, as published with the ACES configs.
REC709_TO_AP1 = np.array(
    [
        [0.6130974, 0.3395231, 0.0473795],
        [0.0701937, 0.9163539, 0.0134524],
        [0.0206156, 0.1095698, 0.8698147],
    ]
)

AP1 = (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767)
AP0 = (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.0770, 0.32168, 0.33767)
REC709 = (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290)
REC2020 = (0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290)

TINY_CONFIG = """\
ocio_profile_version: 2

roles:
  default: raw
  scene_linear: linear

displays:
  sRGB:
    - !<View> {name: Raw, colorspace: raw}

colorspaces:
  - !<ColorSpace>
    name: raw
    isdata: true

  - !<ColorSpace>
    name: linear
    aliases: [lin_rec709]

  - !<ColorSpace>
    name: srgb_tx
    to_scene_reference: !<ExponentWithLinearTransform> {gamma: 2.4, offset: 0.055}
"""


def srgb_eotf(v: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding, in float64."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@pytest.fixture(autouse=True)
def _no_ocio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCIO", raising=False)


def test_default_config_is_the_pinned_builtin() -> None:
    assert default_config_uri() == PINNED_CONFIG
    builtin = [entry[0] for entry in ocio.BuiltinConfigRegistry().getBuiltinConfigs()]
    assert PINNED_CONFIG.removeprefix("ocio://") in builtin
    assert get_converter().config_name == "cg-config-v4.0.0_aces-v2.0_ocio-v2.5"


def test_srgb_white_is_acescg_white() -> None:
    out = to_scene_linear(np.ones((2, 2, 3), dtype=np.float32))
    np.testing.assert_allclose(out, 1.0, atol=1e-4)


@pytest.mark.parametrize("value", [0.0, 0.02, 0.04045, 0.18, 0.5, 0.8, 1.0])
def test_srgb_grey_follows_the_srgb_eotf(value: float) -> None:
    # Neutral stays neutral through Rec.709 -> AP1, so each channel is the EOTF alone.
    out = to_scene_linear(np.full(3, value, dtype=np.float32))
    np.testing.assert_allclose(out, srgb_eotf(value), rtol=1e-4, atol=1e-6)


def test_srgb_half_is_about_0214() -> None:
    assert to_scene_linear(np.array([0.5, 0.5, 0.5]))[0] == pytest.approx(0.21404, abs=1e-4)


def test_colours_follow_eotf_then_rec709_to_ap1() -> None:
    rgb = np.random.default_rng(7).random((64, 3), dtype=np.float32)
    expected = srgb_eotf(rgb) @ REC709_TO_AP1.T
    np.testing.assert_allclose(to_scene_linear(rgb), expected, atol=2e-4)


def test_round_trip_through_scene_linear() -> None:
    rgb = np.random.default_rng(3).random((4, 5, 6, 3), dtype=np.float32)
    lin = to_scene_linear(rgb)
    back = from_scene_linear(lin)
    assert back.shape == rgb.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, rgb, atol=1e-4)


def test_alpha_passes_through_and_input_is_not_modified() -> None:
    rgba = np.array([[0.5, 0.25, 1.0, 0.3]], dtype=np.float64)
    before = rgba.copy()
    out = to_scene_linear(rgba)
    assert out.dtype == np.float32
    assert out[0, 3] == pytest.approx(0.3)
    np.testing.assert_array_equal(rgba, before)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((4, 2), dtype=np.float32), "shape"),
        (np.zeros((4, 3), dtype=np.uint8), "dtype uint8"),
    ],
)
def test_bad_arrays_are_refused(bad: np.ndarray, message: str) -> None:
    with pytest.raises(ImagingError, match=message):
        to_scene_linear(bad)


@pytest.mark.parametrize("alias", ["ACEScg", "acescg", "lin_ap1", "ACES - ACEScg", "scene_linear"])
def test_names_aliases_and_roles_resolve(alias: str) -> None:
    assert get_converter().resolve(alias) == "ACEScg"


def test_processors_are_cached_across_aliases() -> None:
    conv = ColorConverter()
    first = conv.processor("srgb_tx", "ACEScg")
    assert conv.processor("sRGB - Texture", "lin_ap1") is first


def test_unknown_colour_space_lists_options_and_config() -> None:
    with pytest.raises(ImagingError) as info:
        to_scene_linear(np.zeros(3), dst="ACEScgg")
    text = str(info.value)
    assert "'ACEScgg'" in text
    assert PINNED_CONFIG in text
    assert "ACEScg," in text and "ACES2065-1" in text


def test_ocio_environment_variable_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tiny.ocio"
    config.write_text(TINY_CONFIG)
    monkeypatch.setenv("OCIO", str(config))
    assert default_config_uri() == str(config)
    assert get_converter().colorspace_names() == ["raw", "linear", "srgb_tx"]
    out = to_scene_linear(np.full(3, 0.5, dtype=np.float32), dst="linear")
    np.testing.assert_allclose(out, srgb_eotf(0.5), rtol=1e-4)
    # The tiny config has no ACEScg: the default destination fails, naming the config.
    with pytest.raises(ImagingError, match=r"'ACEScg'.*tiny\.ocio.*raw, linear, srgb_tx"):
        to_scene_linear(np.zeros(3))
    # Chromaticities come from the alias, whatever the config calls the space.
    assert chromaticities_for("linear") == REC709


def test_an_ocio_config_that_is_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    """In a child process: OCIO opening a FIFO that nobody writes waits for ever, holding the
    GIL, so no thread of this process could time it out."""
    fifo = tmp_path / "config.ocio"
    os.mkfifo(fifo)
    load = ("from sora_vfx.errors import ImagingError\nfrom sora_vfx.imaging.color import ColorConverter\n"
            "try:\n    ColorConverter()\nexcept ImagingError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", load], env={**os.environ, "OCIO": str(fifo)}, capture_output=True,
                            text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert result.stdout == f"cannot load OCIO config {fifo} (from $OCIO): it is a FIFO, not a regular file\n", \
        result.stderr


def test_missing_ocio_config_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nope.ocio"
    monkeypatch.setenv("OCIO", str(missing))
    with pytest.raises(ImagingError, match=r"nope\.ocio \(from \$OCIO\)"):
        get_converter()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ACEScg", AP1),
        ("scene_linear", AP1),
        ("ACEScct", AP1),
        ("ACES2065-1", AP0),
        ("lin_rec709", REC709),
        ("Linear Rec.709 (sRGB)", REC709),
        ("srgb_tx", REC709),
        ("lin_rec2020", REC2020),
    ],
)
def test_chromaticities(name: str, expected: tuple[float, ...]) -> None:
    assert chromaticities_for(name) == expected


@pytest.mark.parametrize("name", ["Raw", "sRGB - Display", "no such space"])
def test_chromaticities_unknown_is_none(name: str) -> None:
    assert chromaticities_for(name) is None


def test_converting_from_threads_matches_one_thread() -> None:
    conv = ColorConverter()
    frames = [np.random.default_rng(i).random((32, 32, 3), dtype=np.float32) for i in range(8)]
    expected = [conv.to_scene_linear(f) for f in frames]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(10):
                results[k] = conv.to_scene_linear(frames[k])
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, want in enumerate(expected):
        np.testing.assert_array_equal(results[k], want)


def test_shared_converter_is_reused() -> None:
    assert get_converter() is get_converter()
    assert color.get_converter(PINNED_CONFIG) is get_converter()
