"""The family records themselves: frame rules, kinds, recognised classes, sizes; no weights."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sora_vfx.errors import ModelError
from sora_vfx.models import FAMILIES, VIDEO_FAMILIES, family_of
from sora_vfx.models.families import (
    ANIMATEDIFF,
    COGVIDEOX,
    IMAGE_INPAINTING,
    LIMIT_KEYS,
    LTX_VIDEO,
    WAN,
    FrameRule,
)

# The limits each family had before the records existed: a change here changes renders.
KNOWN_LIMITS = {
    "Wan": (81, 4, 1, 16, (832, 480)),
    "LTX-Video": (161, 8, 1, 32, (704, 480)),
    "CogVideoX": (49, 8, 1, 16, (720, 480)),
    "AnimateDiff": (16, 1, 0, 8, (512, 512)),
}


@pytest.mark.parametrize("family", VIDEO_FAMILIES, ids=lambda f: f.name)
def test_video_limits(family):
    assert family.limits() == dict(zip(LIMIT_KEYS, KNOWN_LIMITS[family.name], strict=True))
    rule = family.frames
    assert rule.round_up(rule.max_frames) == rule.max_frames
    assert all(side % family.size.size_multiple == 0 for side in family.size.default_size)


@pytest.mark.parametrize(
    ("rule", "asked", "valid", "words"),
    [
        (WAN.frames, [0, 1, 2, 5, 6, 16, 17, 18], [1, 1, 5, 5, 9, 17, 17, 21], "4k+1"),
        (LTX_VIDEO.frames, [0, 1, 2, 9, 10], [1, 1, 9, 9, 17], "8k+1"),
        (ANIMATEDIFF.frames, [0, 1, 2, 16], [1, 1, 2, 16], "a multiple of 1"),
        (FrameRule(max_frames=64, frame_multiple=8, frame_offset=0), [0, 1, 8, 9], [8, 8, 8, 16], "a multiple of 8"),
    ],
)  # fmt: skip
def test_frame_rule(rule, asked, valid, words):
    assert [rule.round_up(n) for n in asked] == valid
    assert rule.describe() == words


@pytest.mark.parametrize(
    ("class_name", "family", "kind"),
    [
        ("WanPipeline", WAN, "t2v"),
        ("WanImageToVideoPipeline", WAN, "i2v"),
        ("WanVACEPipeline", WAN, "outpaint"),
        ("LTXPipeline", LTX_VIDEO, "t2v"),
        ("LTXImageToVideoPipeline", LTX_VIDEO, "i2v"),
        ("LTXI2VLongMultiPromptPipeline", LTX_VIDEO, "i2v"),
        ("CogVideoXPipeline", COGVIDEOX, "t2v"),
        ("CogVideoXImageToVideoPipeline", COGVIDEOX, "i2v"),
        ("AnimateDiffPipeline", ANIMATEDIFF, "t2v"),
    ],
)
def test_family_and_kind_of_a_class(class_name, family, kind):
    assert family_of(class_name) is family
    assert family.kind_of(class_name) == kind
    assert family.conditioning(kind) == {"i2v": ("image",), "outpaint": ("video", "mask")}.get(kind, ())


def test_accepted_classes_are_what_they_were():
    """Prefix, "Pipeline" in the name, and part of diffusers: the rule before the records."""
    import diffusers

    prefixes = {"Wan": WAN, "LTX": LTX_VIDEO, "CogVideoX": COGVIDEOX, "AnimateDiff": ANIMATEDIFF}
    for name in dir(diffusers):
        expected = next((f for p, f in prefixes.items() if name.startswith(p) and "Pipeline" in name), None)
        accepted = [family for family in VIDEO_FAMILIES if family.accepts(name, check_diffusers=False)]
        assert accepted == ([expected] if expected else []), name


@pytest.mark.parametrize("class_name", ["StableDiffusionPipeline", "WanNotARealPipeline", "WanTransformer3DModel"])
def test_an_unknown_class_lists_the_supported_families(class_name):
    with pytest.raises(ModelError) as refused:
        family_of(class_name)
    assert str(refused.value) == (
        f"pipeline not supported: {class_name}, supported video families: Wan, LTX-Video, CogVideoX, AnimateDiff"
    )


def test_a_planning_driver_does_not_ask_diffusers():
    assert family_of("WanNotARealPipeline", check_diffusers=False) is WAN


def test_temporal_compression_reads_the_familys_attribute():
    pipeline = SimpleNamespace(vae_scale_factor_temporal=4, vae_temporal_compression_ratio=8)
    assert [f.temporal_compression(pipeline) for f in VIDEO_FAMILIES] == [4, 8, 4, 1]
    assert WAN.temporal_compression(None) == 1  # a described model has no pipeline
    assert WAN.temporal_compression(SimpleNamespace(vae_scale_factor_temporal=0)) == 1


def test_only_wan_shares_one_noise_per_shot():
    # An image-to-video transformer also takes its conditioning as input channels: the noise has its out_channels.
    transformer = SimpleNamespace(config=SimpleNamespace(in_channels=36, out_channels=16))
    pipeline = SimpleNamespace(transformer=transformer, vae_scale_factor_temporal=4, vae_scale_factor_spatial=8,
                               vae_temporal_compression_ratio=8, vae_spatial_compression_ratio=32)
    layout = WAN.latent_layout(pipeline, "t2v")
    assert (layout.channels, layout.temporal, layout.spatial) == (16, 4, 8)
    assert WAN.latent_layout(pipeline, "i2v") == layout
    assert WAN.latent_layout(SimpleNamespace(), "t2v") is None
    assert all(f.latent_layout(pipeline, "t2v") is None for f in FAMILIES if f is not WAN)


def test_vae_dtype():
    assert {f.name: f.vae_dtype for f in FAMILIES if f.vae_dtype} == {"Wan": "float32"}


def test_image_inpainting_sizes_come_from_the_pipeline():
    unet = SimpleNamespace(config=SimpleNamespace(sample_size=64))
    transformer = SimpleNamespace(config=SimpleNamespace(sample_size=64))
    assert IMAGE_INPAINTING.default_size_of(SimpleNamespace(unet=unet, vae_scale_factor=8)) == (512, 512)
    assert IMAGE_INPAINTING.default_size_of(SimpleNamespace(unet=unet, vae_scale_factor=4)) == (256, 256)
    flux = SimpleNamespace(transformer=transformer, default_sample_size=128, vae_scale_factor=8)
    assert IMAGE_INPAINTING.default_size_of(flux) == (1024, 1024)
    assert IMAGE_INPAINTING.default_size_of(SimpleNamespace()) == (512, 512)
    assert IMAGE_INPAINTING.size_multiple_of(SimpleNamespace(vae_scale_factor=16)) == 32
    assert IMAGE_INPAINTING.size_multiple_of(SimpleNamespace(vae_scale_factor=None)) == 16
    assert IMAGE_INPAINTING.kind_of("StableDiffusionInpaintPipeline") == "inpaint"
    assert IMAGE_INPAINTING.missing_arguments(["prompt", "image", "height", "width"]) == [
        "mask_image", "generator", "output_type"
    ]
