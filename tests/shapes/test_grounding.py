"""Grounding (``dit_grounding_weight``): each object's words, which tokens each object covers, and
the training-only pull of the cross-attention from one to the other."""

from __future__ import annotations

import json

import numpy as np
import torch

from sora_vfx.models.shapes.model import MAX_TOKENS, TEXT_DIM, build_tokenizer, build_transformer
from sora_vfx.models.shapes.train import GroundingProbe, object_words, token_objects
from sora_vfx.shapes.grammar import caption, random_scene


def test_each_objects_words_are_its_own_clause_without_the_article():
    tokenizer = build_tokenizer()
    rng = np.random.default_rng(3)
    scenes = [random_scene(rng) for _ in range(60)]
    assert {len(scene.objects) for scene in scenes} == {1, 2}
    assert any(scene.pan for scene in scenes)  # ", camera panning ..." is no object's
    marks = object_words(tokenizer, [caption(scene) for scene in scenes] + [""])
    assert marks.shape == (61, 2, MAX_TOKENS)
    for scene, row in zip(scenes, marks, strict=False):
        tokens = tokenizer.tokenize(caption(scene))
        for slot in range(2):
            marked = [tokens[at] for at in range(len(tokens)) if row[slot, at]]
            if slot < len(scene.objects):
                obj = scene.objects[slot]
                expected = ([] if obj.size == "medium" else [obj.size]) + [obj.colour, obj.shape, *obj.motion.split()]
                assert marked == expected, caption(scene)
            else:
                assert marked == []
    assert not marks[-1].any()  # the empty caption of guidance's unconditional branch names nothing


def test_which_tokens_each_object_covers():
    each = torch.zeros(1, 2, 9, 16, 16)
    each[0, 0, 3, 5, 13] = 0.3  # the first object touches one pixel in frame 3
    tokens = token_objects(each, temporal=2, pixels=4)  # frame 0 alone, then 2 frames a latent frame
    assert tokens.shape == (1, 2, 5, 4, 4) and tokens.dtype == torch.bool
    assert tokens.sum() == 1 and tokens[0, 0, 2, 1, 3]
    assert not tokens[0, 1].any()  # no second object


def test_the_probe_pulls_each_objects_words_to_its_tokens_and_adds_no_weights():
    """On the shapes transformer's real layout: the probe's loss lies in [0, 1], falls when the
    attention learns from it alone, and hooking it changes neither the weights nor the output."""
    torch.manual_seed(0)
    transformer = build_transformer().eval()
    names = set(transformer.state_dict())
    latents = torch.randn(2, 16, 2, 8, 8)  # 2 latent frames of 4 x 4 tokens
    text = torch.randn(2, MAX_TOKENS, TEXT_DIM)
    timestep = torch.full((2,), 500)
    with torch.no_grad():
        plain = transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text, return_dict=False)[0]
    words = torch.zeros(2, 2, MAX_TOKENS)
    words[:, 0, 1:4] = 1  # the first object's words
    words[0, 1, 8:11] = 1  # the first sample names a second object; the second sample does not
    inside = torch.zeros(2, 2, 2, 4, 4, dtype=torch.bool)
    inside[:, 0, :, :, :2] = True  # the first object on the left, the second on the right
    inside[0, 1, :, :, 2:] = True
    probe = GroundingProbe()
    hooks = probe.watch(transformer)
    attention = [p for name, p in transformer.named_parameters() if ".attn2.to_q." in name or ".attn2.to_k." in name]
    optimizer = torch.optim.Adam(attention, lr=3e-3)
    losses = []
    for _ in range(25):
        with torch.no_grad():
            output = transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text,
                                 return_dict=False)[0]
        if not losses:
            assert torch.equal(output, plain)  # watching changes nothing the sampler sees
        probe.maps.clear()
        transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text, return_dict=False)
        assert len(probe.maps) == len(transformer.blocks)
        loss = probe.loss(words, inside.flatten(2))
        assert 0 <= loss.item() <= 1 and not probe.maps
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    for hook in hooks:
        hook.remove()
    transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text, return_dict=False)
    assert not probe.maps and set(transformer.state_dict()) == names
    # Nothing named on screen (empty captions): no pull, but a loss the step can still add.
    transformer.zero_grad()
    probe.watch(transformer)
    transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text, return_dict=False)
    assert probe.loss(torch.zeros_like(words), inside.flatten(2)).item() == 0


def test_the_training_script_grounds_the_refine_phase_and_saves_plain_wan(tmp_path, capsys):
    """``--set refine_grounding_weight=1``: the refine phase alone grounds, its loss is logged and
    recorded, the card says so, and the saved transformer has exactly the plain layout's weights."""
    from diffusers import WanPipeline
    from safetensors.torch import load_file

    from sora_vfx.models.shapes.train import main as train

    train(["--out", str(tmp_path / "run"), "--budget", "0.003", "--set", "dit_steps=10000",  # 30 steps
           "--set", "refine_steps=3000", "--set", "refine_grounding_weight=1.0", "--stage", "base"])  # 9 more
    folder = tmp_path / "run" / "t2v"
    recorded = json.loads((folder / "training.json").read_text())
    assert recorded["recipe"]["refine_grounding_weight"] == 1.0 and recorded["recipe"]["dit_grounding_weight"] == 0
    assert "final_grounding_loss" not in recorded["figures"]
    assert 0 < recorded["figures"]["refine_final_grounding_loss"] < 1
    out = capsys.readouterr().out
    assert "grounding" not in out.split("transformer 1/30:")[1].splitlines()[0]
    assert "grounding" in out.split("refine 1/9:")[1].splitlines()[0]
    card = (folder / "README.md").read_text()
    assert "In this phase, in every block" in card and "Throughout" not in card
    names = set(load_file(folder / "transformer" / "diffusion_pytorch_model.safetensors"))
    assert names == set(build_transformer().state_dict())
    assert type(WanPipeline.from_pretrained(folder, local_files_only=True).transformer).__name__ == \
        "WanTransformer3DModel"
