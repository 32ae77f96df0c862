"""``vae_spatial=4``: the shapes recipe with a finer token grid (a 64x64 frame as 8x8 tokens, not
4x4), whose three folders still load and render with plain diffusers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from sora_vfx.models.shapes.model import build_vae, vace_in_channels
from sora_vfx.models.shapes.train import Recipe


def test_the_vae_is_eight_or_four_times_smaller_in_space():
    clip = torch.rand(1, 3, 9, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for spatial, side in ((8, 8), (4, 16)):
        vae = build_vae(spatial).eval()
        with torch.no_grad():
            latents = vae.encode(clip).latent_dist.mode()
            assert latents.shape == (1, 16, 5, side, side)
            assert vae.decode(latents).sample.shape == clip.shape
    assert vace_in_channels(4) == 2 * 16 + 4 * 4
    with pytest.raises(ValueError, match="8 or 4 times smaller in space, not 2"):
        build_vae(2)
    with pytest.raises(ValueError, match="vae_spatial is 8 or 4, not 16"):
        Recipe(vae_spatial=16)


def test_a_finer_token_grid_trains_three_folders_that_plain_diffusers_renders(tmp_path):
    from diffusers import WanImageToVideoPipeline, WanPipeline, WanVACEPipeline

    from sora_vfx.models.families.wan import correct_vae_factors
    from sora_vfx.models.shapes.train import main as train

    out = tmp_path / "fine"
    train(["--out", str(out), "--budget", "0.002", "--threads", "1", "--set", "vae_spatial=4"])
    assert json.loads((out / "t2v" / "training.json").read_text())["recipe"]["vae_spatial"] == 4
    card = (out / "t2v" / "README.md").read_text()
    assert "4x smaller in space" in card and "--set vae_spatial=4" in card
    prompt = "a large red ball moving right on a blue background"
    common = dict(num_frames=5, height=64, width=64, num_inference_steps=2, guidance_scale=5.0,
                  output_type="np", max_sequence_length=32)
    t2v = WanPipeline.from_pretrained(out / "t2v", local_files_only=True)
    assert t2v.vae_scale_factor_spatial == 4
    tokens = []
    hook = t2v.transformer.patch_embedding.register_forward_hook(lambda _m, _i, output: tokens.append(output.shape))
    frames = t2v(prompt=prompt, generator=torch.Generator().manual_seed(0), **common).frames[0]
    hook.remove()
    assert frames.shape == (5, 64, 64, 3) and np.isfinite(frames).all()
    assert tokens[0][-2:] == (8, 8)  # tokens a frame: 16x16 latents in 2x2 patches
    # Wan 2.2's first-frame image-to-video mode (its timesteps per 2x2 patch) at 8x8 tokens.
    i2v = WanImageToVideoPipeline.from_pretrained(out / "i2v", local_files_only=True)
    pictures = [Image.fromarray((frame * 255).round().astype(np.uint8)) for frame in frames]
    moving = i2v(image=pictures[0], prompt=prompt, generator=torch.Generator().manual_seed(0),
                 **common).frames[0]
    assert moving.shape == (5, 64, 64, 3) and np.isfinite(moving).all()
    # The outpainting folder: its context folds the mask 4x4 into channels.
    vace = correct_vae_factors(WanVACEPipeline.from_pretrained(out / "outpaint", local_files_only=True))
    assert vace.transformer.config.vace_in_channels == vace_in_channels(4)
    border = np.zeros((64, 64, 3), np.uint8)
    border[:, 48:] = 255
    extended = vace(video=pictures, mask=[Image.fromarray(border)] * 5, prompt=prompt,
                    generator=torch.Generator().manual_seed(0), **common).frames[0]
    assert extended.shape == (5, 64, 64, 3) and np.isfinite(extended).all()
