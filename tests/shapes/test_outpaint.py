"""The outpainting variant's parts: its context is the one ``WanVACEPipeline`` builds, it starts
as the text-to-video model, and diffusers' guess of the VAE's compression is corrected."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sora_vfx.models.context import WindowedTransformer
from sora_vfx.models.folders import SHAPES_DIR
from sora_vfx.models.shapes.model import VACE_IN_CHANNELS, assemble
from sora_vfx.models.shapes.train import border_masks, filmed_box, outpaint_transformer_from, vace_context


@pytest.fixture(scope="module")
def untrained():
    """A ``WanVACEPipeline`` made of the shipped text-to-video folder and fresh context blocks."""
    from diffusers import WanPipeline

    t2v = WanPipeline.from_pretrained(SHAPES_DIR / "t2v", local_files_only=True)
    torch.manual_seed(0)
    components = dict(tokenizer=t2v.tokenizer, text_encoder=t2v.text_encoder, vae=t2v.vae,
                      transformer=outpaint_transformer_from(t2v.transformer), scheduler=t2v.scheduler)
    return t2v, assemble(components, "outpaint")


def test_the_vae_compression_comes_from_its_config(untrained):
    from diffusers import WanVACEPipeline

    _t2v, pipeline = untrained
    # diffusers counts down-sampling stages (4x) and misses the residual VAE's 2x2 patches.
    assert 2 ** len(pipeline.vae.temperal_downsample) == 4
    assert pipeline.vae_scale_factor_spatial == 8 and pipeline.vae_scale_factor_temporal == 2
    plain = WanVACEPipeline(**{k: getattr(pipeline, k) for k in ("tokenizer", "text_encoder", "vae", "transformer",
                                                                  "scheduler")})
    assert plain.vae_scale_factor_spatial == 4  # what the loader corrects; if diffusers fixes it, drop the fix


def test_training_context_is_the_pipelines_own(untrained):
    _t2v, pipeline = untrained
    video = torch.rand(1, 3, 9, 64, 64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    masks = border_masks([(12, 0, 52, 64)], 9, 64, 64)
    grey_border = video * (1 - masks)
    with torch.no_grad():
        ours = vace_context(pipeline, pipeline.vae, grey_border, masks)
        pictures = ((grey_border + 1) / 2).permute(0, 2, 3, 4, 1).numpy()
        mask_pictures = masks.repeat(1, 3, 1, 1, 1).permute(0, 2, 3, 4, 1).numpy()
        video_in, mask_in, refs = pipeline.preprocess_conditions(list(pictures), list(mask_pictures), None, 1, 64, 64,
                                                                 9, torch.float32, "cpu")
        theirs = torch.cat([pipeline.prepare_video_latents(video_in, mask_in, refs),
                            pipeline.prepare_masks(mask_in, refs)], dim=1)
    assert ours.shape == (1, VACE_IN_CHANNELS, 5, 8, 8)
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_the_outpainting_transformer_starts_as_the_text_to_video_one(untrained):
    t2v, pipeline = untrained
    generator = torch.Generator().manual_seed(2)
    hidden = torch.randn(1, 16, 3, 8, 8, generator=generator)
    text = torch.randn(1, 32, 64, generator=generator)
    context = torch.randn(1, VACE_IN_CHANNELS, 3, 8, 8, generator=generator)
    timestep = torch.tensor([500.0])
    with torch.no_grad():
        base = t2v.transformer(hidden_states=hidden, timestep=timestep, encoder_hidden_states=text,
                               return_dict=False)[0]
        vace = pipeline.transformer(hidden_states=hidden, timestep=timestep, encoder_hidden_states=text,
                                    control_hidden_states=context, return_dict=False)[0]
    assert torch.allclose(base, vace, atol=1e-5)  # the context adds exactly zero; float order may differ


def test_windows_slice_the_context_with_the_latents(untrained):
    _t2v, pipeline = untrained
    seen = []
    transformer = pipeline.transformer

    def spy(**kwargs):
        seen.append((kwargs["hidden_states"].shape[2], kwargs["control_hidden_states"].shape[2]))
        return transformer(**kwargs)

    windowed = WindowedTransformer(spy, [(0, 3), (2, 3)])
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        out = windowed(hidden_states=torch.randn(1, 16, 5, 8, 8, generator=generator), timestep=torch.tensor([10.0]),
                       encoder_hidden_states=torch.randn(1, 32, 64, generator=generator),
                       control_hidden_states=torch.randn(1, VACE_IN_CHANNELS, 5, 8, 8, generator=generator),
                       return_dict=False)[0]
    assert seen == [(3, 3), (3, 3)] and out.shape == (1, 16, 5, 8, 8)


def test_filmed_boxes_leave_a_plate_and_a_border():
    rng = np.random.default_rng(0)
    for _ in range(200):
        x0, y0, x1, y1 = filmed_box(rng, 64, 64)
        assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
        area = (x1 - x0) * (y1 - y0)
        assert (64 - 2 * (64 // 3)) ** 2 <= area < 64 * 64  # each pad at most a third
