"""The shipped ``shapes`` model: loads like any user's folder, draws what the prompt says,
and its training script runs."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sora_vfx.cli import main
from sora_vfx.eval import measure_shot
from sora_vfx.imaging import read_exr_pixels, read_reference_image
from sora_vfx.models import load_model
from sora_vfx.models.folders import SHAPES_DIR
from sora_vfx.render import read_manifest
from sora_vfx.review.figures import evaluate_render, read_shot_frames

ROOT = Path(__file__).resolve().parents[2]
DEMO_EDL = ROOT / "sample_edls" / "shapes_24fps.edl"
# Prompts the model draws reliably; thresholds below are what the benchmark measures, with margin.
PROMPTS = [
    "a large red ball moving right on a blue background",
    "a large yellow square moving left on a black background",
    "a large white ball moving down on a green background",
    "a large blue square standing still on a yellow background",
]


def write_edl(path: Path, prompts: list[str], frames: int = 25) -> Path:
    lines = ["TITLE: SHAPES_TEST", "FCM: NON-DROP FRAME", ""]
    for number, prompt in enumerate(prompts, start=1):
        start, end = (number - 1) * frames, number * frames
        tc = [f"01:00:{f // 24:02d}:{f % 24:02d}" for f in (start, end)]
        lines += [f"{number:03d}  AX       V     C        00:00:00:00 00:00:01:01 {tc[0]} {tc[1]}",
                  f"* SHOT: SH{number:03d}0", f"* PROMPT: {prompt}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def render(*args: str):
    result = CliRunner().invoke(main, ["render", *map(str, args), "--no-review", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_weights_ship_as_safetensors_within_budget():
    files = [p for p in SHAPES_DIR.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert weights and not [p for p in files if p.suffix in (".bin", ".pt", ".pth", ".ckpt")]
    assert sum(p.stat().st_size for p in weights) <= 40 * 2**20  # issue 14's budget, the three folders together
    for kind, measured in (("t2v", "Measured adherence"), ("i2v", "Measured adherence"),
                           ("outpaint", "Measured against the truth")):
        card = (SHAPES_DIR / kind / "README.md").read_text()
        assert "python -m sora_vfx.models.shapes.train" in card and measured in card
    assert "| video |" in (SHAPES_DIR / "outpaint" / "README.md").read_text()  # benchmarks/plates.py --card


def test_the_training_scripts_default_recipe_is_the_one_the_shipped_folders_record():
    """The card's command (``--out`` and nothing else) reproduces the shipped weights only if the
    script's defaults are their recipe; fields added since count at their defaults."""
    from sora_vfx.models.shapes.train import Recipe

    defaults = asdict(Recipe())
    for kind in ("t2v", "i2v", "outpaint"):
        recorded = json.loads((SHAPES_DIR / kind / "training.json").read_text())["recipe"]
        assert {**defaults, **recorded} == defaults, kind


def test_plain_diffusers_loads_the_shipped_folders():
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline, WanPipeline, WanTransformer3DModel

    t2v = WanPipeline.from_pretrained(SHAPES_DIR / "t2v", local_files_only=True)
    i2v = WanImageToVideoPipeline.from_pretrained(SHAPES_DIR / "i2v", local_files_only=True)
    assert isinstance(t2v.vae, AutoencoderKLWan) and isinstance(t2v.transformer, WanTransformer3DModel)
    assert i2v.config.expand_timesteps
    frames = t2v(prompt=PROMPTS[0], num_frames=25, height=64, width=64, num_inference_steps=20, guidance_scale=5.0,
                 generator=torch.Generator().manual_seed(0), output_type="np", max_sequence_length=32).frames[0]
    measured = measure_shot(np.asarray(frames, np.float32), scene=PROMPTS[0])
    assert measured.background_ok and measured.colour_ok


def test_render_with_model_shapes_draws_the_prompts(tmp_path):
    out = tmp_path / "out"
    render(write_edl(tmp_path / "cut.edl", PROMPTS), "-o", out, "--model", "shapes", "--handles", "0")
    result = evaluate_render(out)
    assert len(result.shots) == len(PROMPTS), result.skipped
    shots = list(result.shots.values())
    # benchmarks/quality.py: background right in 100% of 60 shots, object colour in 87% (large
    # objects, as here, more often); motion (32%) is measured there, not asserted here.
    assert all(shot.background_ok for shot in shots)
    assert sum(shot.colour_ok for shot in shots) >= 3
    manifest = read_manifest(out)
    assert {entry.spec.model for entry in manifest.shots} == {"shapes"}
    # The random-weights tiny model, measured the same way, does not follow the prompts.
    tiny = tmp_path / "tiny"
    render(write_edl(tmp_path / "cut.edl", PROMPTS), "-o", tiny, "--model", "tiny", "--handles", "0", "--size", "64x64")
    assert sum(shot.background_ok for shot in evaluate_render(tiny).shots.values()) <= 1


def test_a_shot_with_a_reference_renders_with_the_image_to_video_twin(tmp_path):
    out = tmp_path / "out"
    render(DEMO_EDL, "-o", out, "--model", "shapes", "--handles", "4", "--shots", "SHP_0010,SHP_0040")
    manifest = read_manifest(out)
    assert manifest.entry("SHP_0010").spec.model == "shapes"
    assert manifest.entry("SHP_0040").spec.model == "shapes-i2v"
    reference = read_reference_image(ROOT / "sample_edls" / "refs" / "blue_square.png", width=64, height=64)
    first = read_shot_frames(out, manifest.entry("SHP_0040"))[0]
    assert np.abs(first - reference).mean() < 0.05


def test_the_same_seed_gives_the_same_pixels_another_seed_another_picture(tmp_path):
    edl = write_edl(tmp_path / "cut.edl", PROMPTS[:1])
    pictures = {}
    for label, seed in (("a", "0"), ("b", "0"), ("c", "5")):
        out = tmp_path / label
        render(edl, "-o", out, "--model", "shapes", "--handles", "0", "--seed", seed)
        pictures[label] = np.stack([read_exr_pixels(p) for p in sorted((out / "SH0010").glob("*.exr"))])
        assert evaluate_render(out).shots["SH0010"].background_ok
    assert np.array_equal(pictures["a"], pictures["b"])
    assert not np.array_equal(pictures["a"], pictures["c"])


def test_the_training_script_makes_loadable_folders_and_a_kept_vae_stage_changes_nothing(tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from sora_vfx.models.shapes.train import main as train

    smoke = ["--budget", "0.003"]
    train(["--out", str(tmp_path / "whole"), *smoke])
    # The VAE stage kept in a folder, then reused: the same weights as one whole run.
    train(["--out", str(tmp_path / "kept"), "--vae-stage", str(tmp_path / "stage"), *smoke])
    train(["--out", str(tmp_path / "reused"), "--vae-stage", str(tmp_path / "stage"), *smoke])
    weights = "diffusion_pytorch_model.safetensors"
    for kind, component in (("t2v", "vae"), ("t2v", "transformer"), ("outpaint", "transformer")):
        whole = load_file(tmp_path / "whole" / kind / component / weights)
        for run in ("kept", "reused"):
            other = load_file(tmp_path / run / kind / component / weights)
            assert whole.keys() == other.keys()
            assert all(torch.equal(whole[name], other[name]) for name in whole), (kind, component, run)
    for kind in ("t2v", "i2v", "outpaint"):
        folder = tmp_path / "whole" / kind
        assert (folder / "README.md").is_file() and (folder / "training.json").is_file()
        # Where it was trained decides the weights' last bits: the card and the record say so.
        figures = json.loads((folder / "training.json").read_text())["figures"]
        assert figures["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        assert f"({figures['cpu_capability']}, torch {torch.__version__})" in (folder / "README.md").read_text()
        model = load_model(str(folder), device="cpu")
        assert model.kind == kind and model.default_size == (64, 64) and model.max_frames == 25
    # The outpainting stage alone, again on the same text-to-video folder: the same weights. Run
    # as if on a CPU with other vector instructions, its record and card name that machine for
    # the stage and keep the text-to-video folder's for stages 1-3.
    host = torch.backends.cpu.get_cpu_capability()
    other = "AVX512" if host != "AVX512" else "AVX2"
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: other)
    train(["--out", str(tmp_path / "whole"), "--stage", "outpaint", *smoke])
    again = load_file(tmp_path / "whole" / "outpaint" / "transformer" / weights)
    kept = load_file(tmp_path / "kept" / "outpaint" / "transformer" / weights)
    assert again.keys() == kept.keys() and all(torch.equal(again[name], kept[name]) for name in kept)
    figures = json.loads((tmp_path / "whole" / "outpaint" / "training.json").read_text())["figures"]
    assert (figures["cpu_capability"], figures["outpaint_cpu_capability"]) == (host, other)
    card = (tmp_path / "whole" / "outpaint" / "README.md").read_text()
    assert f"({host}, torch {torch.__version__}; its outpaint stage on {other}, torch {torch.__version__})" in card


def test_the_motion_head_trains_beside_the_transformer_and_is_not_saved(tmp_path):
    """``dit_motion_weight``: a head on the third block learns each token's motion beside the
    transformer (its loss is recorded), and the saved folder is plain Wan, loadable by
    ``WanPipeline``; a block the transformer does not have is refused before any training."""
    from diffusers import WanPipeline
    from safetensors.torch import load_file

    from sora_vfx.models.shapes.train import main as train

    train(["--out", str(tmp_path / "run"), "--budget", "0.003", "--set", "dit_motion_weight=1.0",
           "--set", "dit_steps=30", "--stage", "base"])
    recorded = json.loads((tmp_path / "run" / "t2v" / "training.json").read_text())
    assert recorded["recipe"]["dit_motion_weight"] == 1.0
    assert 0 < recorded["figures"]["final_motion_loss"] < 1
    names = load_file(tmp_path / "run" / "t2v" / "transformer" / "diffusion_pytorch_model.safetensors").keys()
    assert not [name for name in names if "motion" in name]
    pipeline = WanPipeline.from_pretrained(tmp_path / "run" / "t2v", local_files_only=True)
    assert type(pipeline.transformer).__name__ == "WanTransformer3DModel"
    assert not (tmp_path / "run" / "outpaint").exists()  # --stage base: stages 1-3 only
    assert "block 3 predicts each" in (tmp_path / "run" / "t2v" / "README.md").read_text()
    with pytest.raises(SystemExit):
        train(["--out", str(tmp_path / "bad"), "--budget", "0.003", "--set", "dit_motion_weight=1.0",
               "--set", "dit_motion_layer=7"])



def test_the_occupancy_head_learns_where_the_objects_are_and_is_not_saved(tmp_path, capsys):
    """``dit_occupancy_weight``: the same head also learns which tokens an object touches (its
    logistic loss falls as it trains), and the saved folder stays plain Wan."""
    from safetensors.torch import load_file

    from sora_vfx.models.shapes.train import main as train
    from sora_vfx.models.shapes.train import token_occupancy

    masks = torch.zeros(1, 1, 2, 4, 6, dtype=torch.bool)
    masks[0, 0, 1, 3, 4] = True
    occupied = token_occupancy(masks, 2)
    assert occupied.shape == (1, 1, 2, 2, 3) and occupied.sum() == 1 and occupied[0, 0, 1, 1, 2] == 1
    train(["--out", str(tmp_path / "run"), "--budget", "0.003", "--set", "dit_motion_weight=0",
           "--set", "dit_occupancy_weight=1.0", "--set", "dit_steps=20000", "--stage", "base"])  # 60 steps
    recorded = json.loads((tmp_path / "run" / "t2v" / "training.json").read_text())
    assert recorded["recipe"]["dit_occupancy_weight"] == 1.0 and "final_motion_loss" not in recorded["figures"]
    first = float(re.search(r"transformer 1/60: .*occupancy ([0-9.]+)", capsys.readouterr().out).group(1))
    assert 0 < recorded["figures"]["final_occupancy_loss"] < first - 0.01  # the mean of its 60 steps
    names = load_file(tmp_path / "run" / "t2v" / "transformer" / "diffusion_pytorch_model.safetensors").keys()
    assert not [name for name in names if "motion" in name or "occupied" in name]
    assert "which tokens an object touches" in (tmp_path / "run" / "t2v" / "README.md").read_text()


def test_a_vae_stage_of_another_recipe_is_refused(tmp_path):
    from sora_vfx.models.shapes.train import main as train

    train(["--out", str(tmp_path / "a"), "--vae-stage", str(tmp_path / "stage"), "--budget", "0.003"])
    with pytest.raises(SystemExit, match="another recipe"):
        train(["--out", str(tmp_path / "b"), "--vae-stage", str(tmp_path / "stage"), "--budget", "0.003",
               "--set", "vae_lr=0.001"])
    assert not (tmp_path / "b").exists()
    # A stage kept before a VAE field was added reads as trained with that field's old value.
    from sora_vfx.models.shapes.checkpoint import Checkpoints
    from sora_vfx.models.shapes.train import Recipe, vae_stage

    record = json.loads((tmp_path / "stage" / "stage.json").read_text())
    del record["recipe"]["vae_spatial"]
    (tmp_path / "stage" / "stage.json").write_text(json.dumps(record))
    said = []
    vae_stage(Recipe().scaled(0.003), tmp_path / "stage", said.append, Checkpoints(None, {}))
    assert said[0].startswith("vae: reusing")
    with pytest.raises(SystemExit, match="another recipe"):
        vae_stage(Recipe(vae_spatial=4).scaled(0.003), tmp_path / "stage", said.append, Checkpoints(None, {}))
    # The outpainting stage starts only from a text-to-video folder of its own recipe.
    with pytest.raises(SystemExit, match="another recipe"):
        train(["--out", str(tmp_path / "a"), "--stage", "outpaint", "--budget", "0.003", "--set", "dit_lr=0.001"])
    with pytest.raises(SystemExit, match="no trained text-to-video model"):
        train(["--out", str(tmp_path / "c"), "--stage", "outpaint", "--budget", "0.003"])
    # A folder recorded before vae_spatial existed was trained at 8: not a start for 4.
    record = json.loads((tmp_path / "a" / "t2v" / "training.json").read_text())
    del record["recipe"]["vae_spatial"]
    (tmp_path / "a" / "t2v" / "training.json").write_text(json.dumps(record))
    with pytest.raises(SystemExit, match="another recipe"):
        train(["--out", str(tmp_path / "a"), "--stage", "outpaint", "--budget", "0.003", "--set", "vae_spatial=4"])


def test_the_gpu_recipe_rehearses_here_with_its_clips_drawn_by_torch(tmp_path, monkeypatch):
    """``--recipe gpu --device cpu``: the GPU recipe's code path (clips drawn with torch, the
    motion head, its batch layout) at a smoke budget, smaller batches to keep it quick."""
    from sora_vfx.models.shapes import train as train_module
    from sora_vfx.models.shapes.train import GPU_RECIPE
    from sora_vfx.models.shapes.train import main as train

    train(["--out", str(tmp_path / "gpu"), "--recipe", "gpu", "--device", "cpu", "--threads", "1", "--budget", "0.002",
           "--stage", "base", "--set", "dit_batch=8", "--set", "vae_batch=4"])
    recipe = json.loads((tmp_path / "gpu" / "t2v" / "training.json").read_text())["recipe"]
    assert recipe["clips_on_device"] and recipe["device"] == "cpu" and recipe["dit_motion_weight"] == 10.0
    assert recipe["clips"] == round(GPU_RECIPE["clips"] * 0.002)
    model = load_model(str(tmp_path / "gpu" / "t2v"), device="cpu")
    assert model.kind == "t2v"
    # The card's command trains this recipe again: the same recipe, read back by the script.
    card = (tmp_path / "gpu" / "t2v" / "README.md").read_text()
    command = card.split("`python -m sora_vfx.models.shapes.train ")[1].split("`")[0]
    assert command.split()[:2] == ["--out", "sora_vfx/models/shapes/weights"] and "--recipe gpu --threads 1" in command
    assert "--set dit_batch=8" in command and "2-core CPU machine" in card
    seen = []
    monkeypatch.setattr(train_module, "run_training", lambda out, recipe, **_: seen.append(recipe))
    train(["--out", str(tmp_path / "again"), *command.split()[2:]])
    assert asdict(seen[0]) == recipe
    # The image-to-video folder from the text-to-video one alone (a GPU run brings back t2v only).
    saved = {path.relative_to(tmp_path / "gpu" / "i2v"): path.read_bytes()
             for path in (tmp_path / "gpu" / "i2v").rglob("*") if path.is_file()}
    shutil.rmtree(tmp_path / "gpu" / "i2v")
    train(["--out", str(tmp_path / "gpu"), "--stage", "i2v"])
    rebuilt = {path.relative_to(tmp_path / "gpu" / "i2v"): path.read_bytes()
               for path in (tmp_path / "gpu" / "i2v").rglob("*") if path.is_file()}
    assert rebuilt.keys() == saved.keys() and all(rebuilt[name] == saved[name] for name in saved)
    with pytest.raises(SystemExit) as refused:
        train(["--out", str(tmp_path / "gpu"), "--stage", "i2v", "--set", "dit_lr=0.1"])
    assert refused.value.code == 2
    with pytest.raises(SystemExit, match="no trained text-to-video model"):
        train(["--out", str(tmp_path / "none"), "--stage", "i2v"])


def test_the_refine_phase_alone_on_a_first_phase_folder_gives_the_whole_runs_folders(tmp_path):
    """``refine_steps``: the transformer stage goes on at whole length on clips of its own.
    ``--stage refine`` on the folders the first phase alone made gives the weights and files a
    whole run gives, byte for byte; it refuses a recipe without the phase or another first phase."""
    from safetensors.torch import load_file

    from sora_vfx.models.shapes.train import main as train

    smoke = ["--budget", "0.003"]
    refine = ["--set", "refine_steps=2000", "--set", "refine_clips=2048"]
    train(["--out", str(tmp_path / "whole"), *smoke, "--stage", "base", *refine])
    train(["--out", str(tmp_path / "parts"), *smoke, "--stage", "base"])
    weights = Path("transformer") / "diffusion_pytorch_model.safetensors"
    first = load_file(tmp_path / "parts" / "t2v" / weights)
    train(["--out", str(tmp_path / "parts"), *smoke, "--stage", "refine", *refine])
    refined = load_file(tmp_path / "parts" / "t2v" / weights)
    assert not all(torch.equal(first[name], refined[name]) for name in first)  # the phase trained
    for kind in ("t2v", "i2v"):
        whole, parts = tmp_path / "whole" / kind, tmp_path / "parts" / kind
        files = sorted(path.relative_to(whole) for path in whole.rglob("*") if path.is_file())
        assert files == sorted(path.relative_to(parts) for path in parts.rglob("*") if path.is_file())
        for name in files:
            if name.name in ("README.md", "training.json"):  # they hold the minutes each run took
                continue
            assert (whole / name).read_bytes() == (parts / name).read_bytes(), (kind, name)
        recorded = [json.loads((folder / "training.json").read_text()) for folder in (whole, parts)]
        assert recorded[0]["recipe"] == recorded[1]["recipe"] and recorded[0]["recipe"]["refine_steps"] == 6
        assert recorded[0]["figures"]["refine_final_loss"] == recorded[1]["figures"]["refine_final_loss"]
    assert "refine phase" in (tmp_path / "whole" / "t2v" / "README.md").read_text()
    # Refined by this recipe already: left as it is.
    train(["--out", str(tmp_path / "parts"), *smoke, "--stage", "refine", *refine])
    assert load_file(tmp_path / "parts" / "t2v" / weights).keys() == refined.keys()
    with pytest.raises(SystemExit, match="no refine phase"):
        train(["--out", str(tmp_path / "parts"), *smoke, "--stage", "refine"])
    with pytest.raises(SystemExit, match="not trained by this recipe's first phase"):
        train(["--out", str(tmp_path / "parts"), *smoke, "--stage", "refine", *refine, "--set", "refine_lr=0.001"])
    with pytest.raises(SystemExit, match="not trained by this recipe's first phase"):
        train(["--out", str(tmp_path / "whole"), *smoke, "--stage", "refine", *refine, "--set", "dit_lr=0.001"])


def test_noise_levels_are_drawn_shifted_or_logit_normal():
    """The transformer stage's noise levels: shift 4 puts most of them high (median 0.8), SD3's
    logit-normal near the middle (median 0.5, few beyond 0.1-0.9); another name is refused."""
    from sora_vfx.models.shapes.train import Recipe, flow_batch

    latents = torch.zeros(4, 2, 3, 2, 2)
    medians = {}
    for sampling in ("shift", "logit-normal"):
        batch = flow_batch(latents, ["a red ball"] * 4, frames=3, size=4000, empty_share=0.1, shift=4.0,
                           generator=torch.Generator().manual_seed(0), device="cpu", sampling=sampling)
        assert 0 < batch.sigma.min() and batch.sigma.max() < 1
        medians[sampling] = float(batch.sigma.median())
        if sampling == "logit-normal":
            assert float(((batch.sigma < 0.1) | (batch.sigma > 0.9)).float().mean()) < 0.05
    assert medians["shift"] == pytest.approx(0.8, abs=0.03)
    assert medians["logit-normal"] == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError, match="refine_sigma_sampling is shift or logit-normal"):
        Recipe(refine_sigma_sampling="cosine")
    # A phase turned off stays off at any budget; one turned on keeps at least 2 steps.
    assert Recipe(refine_steps=0).scaled(0.003).refine_steps == 0
    assert Recipe(refine_steps=2000).scaled(0.001).refine_steps == 2
