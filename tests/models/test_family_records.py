"""The family records themselves: frame rules, kinds, recognised classes, sizes; no weights."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sora_vfx.errors import ModelError
from sora_vfx.models import families, family_of, video_families
from sora_vfx.models.families import LIMIT_KEYS, FrameRule, family_named
from sora_vfx.models.families.animatediff import ANIMATEDIFF
from sora_vfx.models.families.cogvideox import COGVIDEOX
from sora_vfx.models.families.hunyuan_video15 import HUNYUAN_VIDEO_15
from sora_vfx.models.families.image_inpainting import IMAGE_INPAINTING
from sora_vfx.models.families.ltx2 import LTX_2
from sora_vfx.models.families.ltx_video import LTX_VIDEO
from sora_vfx.models.families.skyreels_v2 import SKYREELS_V2
from sora_vfx.models.families.wan import WAN

# The limits of each family: the first four as they were before the records existed (a change
# here changes renders), the 2026 ones as their pipelines and model cards give them.
KNOWN_LIMITS = {
    "Wan": (81, 4, 1, 16, (832, 480)),
    "LTX-2": (481, 8, 1, 32, (768, 512)),
    "LTX-Video": (161, 8, 1, 32, (704, 480)),
    "HunyuanVideo 1.5": (121, 4, 1, 16, (848, 480)),
    "SkyReels-V2": (97, 4, 1, 16, (960, 544)),
    "CogVideoX": (49, 8, 1, 16, (720, 480)),
    "AnimateDiff": (16, 1, 0, 8, (512, 512)),
}


def test_the_registry_lists_the_builtin_families_in_order():
    assert [family.name for family in families()] == [*KNOWN_LIMITS, "image inpainting"]
    assert family_named("LTX-2") is LTX_2
    with pytest.raises(ModelError, match="no model family 'Sora'; families: Wan, LTX-2, "):
        family_named("Sora")


@pytest.mark.parametrize("family", video_families(), ids=lambda f: f.name)
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
        ("LTX2Pipeline", LTX_2, "t2v"),
        ("LTX2ImageToVideoPipeline", LTX_2, "i2v"),
        ("LTX2HDRPipeline", LTX_2, "hdr"),
        ("HunyuanVideo15Pipeline", HUNYUAN_VIDEO_15, "t2v"),
        ("HunyuanVideo15ImageToVideoPipeline", HUNYUAN_VIDEO_15, "i2v"),
        ("SkyReelsV2DiffusionForcingPipeline", SKYREELS_V2, "t2v"),
        ("SkyReelsV2DiffusionForcingImageToVideoPipeline", SKYREELS_V2, "i2v"),
    ],
)
def test_family_and_kind_of_a_class(class_name, family, kind):
    assert family_of(class_name) is family
    assert family.kind_of(class_name) == kind
    expected = {"i2v": ("image",), "outpaint": ("video", "mask"), "hdr": ("reference_video",)}.get(kind, ())
    assert family.conditioning(kind) == expected


def test_ltx2_is_never_taken_for_ltx_video():
    """LTX-2's classes start with LTX-Video's prefix; the longest prefix owns a class, so even an
    LTX-2 class that no family renders with is refused rather than read as LTX-Video 0.9."""
    import diffusers

    ltx2_classes = [name for name in dir(diffusers) if name.startswith("LTX2") and "Pipeline" in name]
    assert {"LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2HDRPipeline", "LTX2LatentUpsamplePipeline"} <= set(
        ltx2_classes)
    for name in ltx2_classes:
        if name in LTX_2.classes:
            assert family_of(name) is LTX_2
            continue
        with pytest.raises(ModelError) as refused:
            family_of(name)
        assert str(refused.value) == (f"pipeline not supported: {name}; the LTX-2 family renders shots with "
                                      "LTX2Pipeline, LTX2ImageToVideoPipeline, LTX2HDRPipeline")


def test_accepted_classes_are_what_they_were():
    """Prefix, "Pipeline" in the name, and part of diffusers: the rule before the records, for
    the families that had one; the longest prefix wins; 2026 families list their classes."""
    import diffusers

    prefixes = {"Wan": WAN, "LTX": LTX_VIDEO, "CogVideoX": COGVIDEOX, "AnimateDiff": ANIMATEDIFF}
    listed = {name: family for family in (LTX_2, SKYREELS_V2) for name in family.classes}
    for name in dir(diffusers):
        if name.startswith(("LTX2", "SkyReelsV2", "HunyuanVideo15")):
            continue
        expected = next((f for p, f in prefixes.items() if name.startswith(p) and "Pipeline" in name), None)
        accepted = [family for family in video_families() if family.accepts(name, check_diffusers=False)]
        assert accepted == ([expected] if expected else []), name
    for name, family in listed.items():
        assert family_of(name) is family


@pytest.mark.parametrize("class_name", ["StableDiffusionPipeline", "WanNotARealPipeline", "WanTransformer3DModel"])
def test_an_unknown_class_lists_the_supported_families(class_name):
    with pytest.raises(ModelError) as refused:
        family_of(class_name)
    assert str(refused.value) == (
        f"pipeline not supported: {class_name}, supported video families: Wan, LTX-2, LTX-Video, HunyuanVideo 1.5, "
        "SkyReels-V2, CogVideoX, AnimateDiff"
    )


def test_a_planning_driver_does_not_ask_diffusers():
    assert family_of("WanNotARealPipeline", check_diffusers=False) is WAN


def test_temporal_compression_reads_the_familys_attribute():
    pipeline = SimpleNamespace(vae_scale_factor_temporal=4, vae_temporal_compression_ratio=8)
    assert [f.temporal_compression(pipeline) for f in video_families()] == [4, 8, 8, 4, 4, 4, 1]
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
    assert all(f.latent_layout(pipeline, "t2v") is None for f in families() if f is not WAN)


def test_vae_dtype():
    assert {f.name: f.vae_dtype for f in families() if f.vae_dtype} == {"Wan": "float32", "SkyReels-V2": "float32"}


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


def test_sora_vfx_models_lists_every_family_with_its_rules():
    from click.testing import CliRunner

    from sora_vfx.cli.main import main

    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0, result.output
    for family in families():
        assert f"\n{family.name}\n" in f"\n{result.output}"
    assert "  rules:     frames 8k+1 up to 481, sides multiples of 32, at least 64, default 768x512\n" in result.output
    assert "  windows:   forcing, continue, crossfade\n" in result.output  # SkyReels-V2
    assert "  outputs:   frames, audio\n" in result.output  # LTX-2
    assert "  shapes           Wan t2v\n" in result.output
