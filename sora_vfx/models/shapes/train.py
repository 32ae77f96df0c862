"""Train the ``shapes`` model: ``python -m sora_vfx.models.shapes.train --out DIR``.

Three stages, all on clips drawn by the shapes world (``world.render_clip`` of
``grammar.random_scene``), all deterministic from ``--seed`` on a given machine and thread
count:

1. the VAE learns to encode and decode clips (random crops, then whole frames);
2. a fixed set of clips is encoded once, and the latents' per-channel mean and standard
   deviation become the VAE's ``latents_mean``/``latents_std`` (as in Wan's config);
3. the transformer and the text encoder learn flow matching on those latents: text-to-video
   on most samples, first-frame image-to-video (Wan 2.2's ``expand_timesteps``) on the rest,
   with a share of empty captions so classifier-free guidance has an unconditional branch.

The result is two pipeline folders, ``DIR/t2v`` (``WanPipeline``) and ``DIR/i2v``
(``WanImageToVideoPipeline``), sharing every weight, each with a ``sora_vfx.json`` and a
model card. ``--budget`` scales every stage's steps (``--budget 0.02`` is a smoke test).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sora_vfx.console import quiet_progress_bars, quiet_transformers
from sora_vfx.models.families import SORA_VFX_JSON

from . import grammar, world
from .model import (
    DEFAULT_STEPS,
    MAX_TOKENS,
    NATIVE_FRAMES,
    NATIVE_SIZE,
    assemble,
    build_scheduler,
    build_text_encoder,
    build_tokenizer,
    build_transformer,
    build_vae,
)


@dataclass(frozen=True)
class Recipe:
    """Every number that decides the weights, recorded in the model card."""

    seed: int = 0
    threads: int = 2
    vae_crop_steps: int = 1600
    vae_full_steps: int = 400
    vae_crop: int = 32
    vae_crop_frames: int = 5
    vae_full_frames: int = 9
    vae_batch: int = 8
    vae_lr: float = 2e-3
    vae_kl: float = 1e-4
    vae_sample: bool = False  # decode posterior samples (a VAE) or means (an autoencoder)
    vae_object_weight: float = 0.0  # extra loss weight on pixels that differ from the background
    clips: int = 3072
    dit_steps: int = 6000
    dit_batch: int = 16
    dit_lr: float = 5e-4
    dit_warmup: int = 100
    image_share: float = 0.3
    empty_caption_share: float = 0.1
    ema: float = 0.999
    device: str = "cpu"

    def scaled(self, budget: float) -> Recipe:
        """The same recipe with every step and clip count times ``budget`` (at least 2)."""
        counts = ("vae_crop_steps", "vae_full_steps", "clips", "dit_steps", "dit_warmup")
        return Recipe(**{**asdict(self), **{k: max(2, round(getattr(self, k) * budget)) for k in counts}})


def _clips(rng: np.random.Generator, count: int, frames: int, device: str = "cpu") -> tuple[torch.Tensor, list[str]]:
    """``count`` random clips as a (count, 3, frames, H, W) tensor in [-1, 1], and captions."""
    pixels, captions = [], []
    width, height = NATIVE_SIZE
    for _ in range(count):
        scene = grammar.random_scene(rng)
        pixels.append(world.render_clip(scene, frames=frames, width=width, height=height, rng=rng).frames)
        captions.append(grammar.caption(scene))
    video = torch.from_numpy(np.stack(pixels)).permute(0, 4, 1, 2, 3).contiguous()
    return (video * 2 - 1).to(device), captions


def _cosine(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def train_vae(vae: torch.nn.Module, recipe: Recipe, rng: np.random.Generator, log) -> dict[str, float]:
    """Reconstruction (squared and absolute error) plus a small KL term; returns figures."""
    optimizer = torch.optim.AdamW(vae.parameters(), lr=recipe.vae_lr, weight_decay=0.0)
    total = recipe.vae_crop_steps + recipe.vae_full_steps
    vae.train()
    started = time.perf_counter()
    for step in range(total):
        for group in optimizer.param_groups:
            group["lr"] = recipe.vae_lr * _cosine(step, total, 50)
        crop = step < recipe.vae_crop_steps
        frames = recipe.vae_crop_frames if crop else recipe.vae_full_frames
        batch = recipe.vae_batch if crop else recipe.vae_batch // 2
        video, _ = _clips(rng, batch, frames, recipe.device)
        if crop:
            size = recipe.vae_crop
            x0, y0 = (int(v) for v in rng.integers(0, NATIVE_SIZE[0] - size + 1, size=2))
            video = video[..., y0:y0 + size, x0:x0 + size]
        posterior = vae.encode(video).latent_dist
        decoded = vae.decode(posterior.sample() if recipe.vae_sample else posterior.mode()).sample
        error = decoded - video
        if recipe.vae_object_weight:
            # Objects are a small share of the pixels: weigh them up (pixels far from the median).
            background = video.flatten(2).median(dim=2).values[..., None, None, None]
            error = error * (1 + recipe.vae_object_weight * ((video - background).abs().sum(1, keepdim=True) > 0.3))
        kl = 0.5 * (posterior.mean.pow(2) + posterior.var - 1.0 - posterior.logvar).mean()
        loss = error.pow(2).mean() + 0.5 * error.abs().mean() + recipe.vae_kl * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        if step % 200 == 0 or step == total - 1:
            log(f"vae {step + 1}/{total}: loss {loss.item():.4f}, {time.perf_counter() - started:.0f} s")
    vae.eval()
    return measure_vae(vae, recipe, log)


def measure_vae(vae: torch.nn.Module, recipe: Recipe, log, count: int = 24) -> dict[str, float]:
    """How much of the picture survives the VAE alone: PSNR, and the adherence of
    reconstructed clips to their captions (an upper bound for the whole model)."""
    from sora_vfx.eval import measure_shot, summarize

    measures, errors = [], []
    with torch.no_grad():
        for start in range(0, count, 8):
            video, captions = _clips(np.random.default_rng(recipe.seed + 7 + start), 8, NATIVE_FRAMES, recipe.device)
            decoded = vae.decode(vae.encode(video).latent_dist.mode()).sample
            errors.append(float(((decoded - video) / 2).pow(2).mean()))
            pictures = ((decoded.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 4, 1).cpu().numpy()
            measures += [measure_shot(p, scene=c) for p, c in zip(pictures, captions, strict=True)]
    summary = summarize(measures)
    figures = {"vae_psnr_db": round(10 * math.log10(1 / max(float(np.mean(errors)), 1e-12)), 2),
               "vae_object_colour": round(summary.object_colour_correct, 3),
               "vae_motion": round(summary.motion_correct, 3),
               "vae_background": round(summary.background_correct, 3)}
    log(f"vae reconstruction: {figures}")
    return figures


def encode_dataset(vae: torch.nn.Module, recipe: Recipe, rng: np.random.Generator, log):
    """The latents of ``recipe.clips`` clips (posterior modes) and their captions."""
    from sora_vfx.models.cpu import route_conv3d_to_onednn

    # A copy, so the saved VAE's modules stay the stock diffusers ones.
    encoder = copy.deepcopy(vae).eval()
    if recipe.device == "cpu":
        route_conv3d_to_onednn(encoder)
    latents, captions = [], []
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, recipe.clips, 16):
            video, words = _clips(rng, min(16, recipe.clips - start), NATIVE_FRAMES, recipe.device)
            latents.append(encoder.encode(video).latent_dist.mode().cpu())
            captions += words
    log(f"encoded {recipe.clips} clips in {time.perf_counter() - started:.0f} s")
    return torch.cat(latents), captions


def train_transformer(pipeline: Any, latents: torch.Tensor, captions: list[str], recipe: Recipe,
                      generator: torch.Generator, log) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """Flow matching: ``x_t = (1 - s) x_0 + s e``, the transformer predicts ``e - x_0``.

    Returns the EMA weights of the transformer and text encoder, and figures.
    """
    transformer, text_encoder = pipeline.transformer, pipeline.text_encoder
    modules = torch.nn.ModuleDict({"transformer": transformer, "text_encoder": text_encoder}).train()
    optimizer = torch.optim.AdamW(modules.parameters(), lr=recipe.dit_lr, weight_decay=0.01)
    ema = {name: value.detach().clone() for name, value in modules.state_dict().items()}
    shift = pipeline.scheduler.config.shift
    patch = transformer.config.patch_size
    count, _, frames, height, width = latents.shape
    tokens_per_frame = (height // patch[1]) * (width // patch[2])
    started, losses = time.perf_counter(), []
    for step in range(recipe.dit_steps):
        for group in optimizer.param_groups:
            group["lr"] = recipe.dit_lr * _cosine(step, recipe.dit_steps, recipe.dit_warmup)
        index = torch.randint(count, (recipe.dit_batch,), generator=generator)
        clean = latents[index].to(recipe.device)
        words = [captions[i] for i in index.tolist()]
        empty = torch.rand(recipe.dit_batch, generator=generator) < recipe.empty_caption_share
        words = ["" if drop else text for text, drop in zip(words, empty.tolist(), strict=True)]
        # Sigmas drawn with the sampler's shift, so training sees noise levels as sampling does.
        u = torch.rand(recipe.dit_batch, generator=generator)
        sigma = shift * u / (1 + (shift - 1) * u)
        noise = torch.randn(clean.shape, generator=generator).to(recipe.device)
        sigma = sigma.to(recipe.device)
        noisy = (1 - sigma.view(-1, 1, 1, 1, 1)) * clean + sigma.view(-1, 1, 1, 1, 1) * noise
        # Image-to-video samples keep their first latent frame clean, at timestep 0.
        image = torch.rand(recipe.dit_batch, generator=generator) < recipe.image_share
        noisy[image.to(recipe.device), :, 0] = clean[image.to(recipe.device), :, 0]
        image = image.to(recipe.device)
        timestep = (sigma * 1000).view(-1, 1).repeat(1, frames * tokens_per_frame)
        timestep[image, :tokens_per_frame] = 0
        weight = torch.ones(recipe.dit_batch, 1, frames, 1, 1, device=recipe.device)
        weight[image, :, 0] = 0
        embeds = pipeline._get_t5_prompt_embeds(prompt=words, max_sequence_length=MAX_TOKENS, device=recipe.device)
        predicted = transformer(hidden_states=noisy, timestep=timestep, encoder_hidden_states=embeds,
                                return_dict=False)[0]
        loss = (weight * (predicted - (noise - clean)).pow(2)).sum() / (weight.sum() * predicted[0, :, 0].numel())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(modules.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            for name, value in modules.state_dict().items():
                ema[name].lerp_(value, 1 - recipe.ema)
        losses.append(loss.item())
        if step % 200 == 0 or step == recipe.dit_steps - 1:
            log(f"transformer {step + 1}/{recipe.dit_steps}: loss {np.mean(losses[-200:]):.4f}, "
                f"{time.perf_counter() - started:.0f} s")
    modules.eval()
    return ema, {"final_loss": round(float(np.mean(losses[-200:])), 4)}


def train(out: Path, recipe: Recipe, *, log=print) -> dict[str, Any]:
    """Train and save both folders under ``out``; return the training figures."""
    torch.set_num_threads(recipe.threads)
    started = time.perf_counter()
    rng = np.random.default_rng(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        tokenizer = build_tokenizer()
        text_encoder = build_text_encoder(len(tokenizer))
        vae = build_vae()
        transformer = build_transformer()
        for module in (text_encoder, vae, transformer):
            module.to(recipe.device)
        components = dict(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                          scheduler=build_scheduler())
        with quiet_transformers():
            pipeline = assemble(components, "t2v")
        figures = train_vae(vae, recipe, rng, log)
        vae_seconds = time.perf_counter() - started
        latents, captions = encode_dataset(vae, recipe, rng, log)
        mean = latents.mean(dim=(0, 2, 3, 4))
        std = latents.std(dim=(0, 2, 3, 4)).clamp_min(1e-4)
        vae.register_to_config(latents_mean=mean.tolist(), latents_std=std.tolist())
        normalised = (latents - mean.view(1, -1, 1, 1, 1)) / std.view(1, -1, 1, 1, 1)
        ema, dit_figures = train_transformer(pipeline, normalised, captions, recipe, generator, log)
        torch.nn.ModuleDict({"transformer": transformer, "text_encoder": text_encoder}).load_state_dict(ema)
    figures.update(dit_figures, vae_minutes=round(vae_seconds / 60, 1),
                   minutes=round((time.perf_counter() - started) / 60, 1))
    for module in (text_encoder, vae, transformer):
        module.to("cpu")
    for kind in ("t2v", "i2v"):
        with quiet_transformers():
            save(assemble(components, kind), out / kind, recipe, figures)
    log(f"saved {out / 't2v'} and {out / 'i2v'} in {figures['minutes']} min")
    return figures


#: The folder overrides every copy of the model carries (read by ``models.folders``).
OVERRIDES = {"max_frames": NATIVE_FRAMES, "default_size": list(NATIVE_SIZE), "default_steps": DEFAULT_STEPS,
             "max_sequence_length": MAX_TOKENS}


def save(pipeline: Any, folder: Path, recipe: Recipe, figures: dict[str, Any]) -> None:
    """``save_pretrained`` (safetensors) plus ``sora_vfx.json`` and ``training.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in (pipeline.text_encoder, pipeline.vae, pipeline.transformer):
        module.eval()
    with quiet_progress_bars():
        pipeline.save_pretrained(folder, safe_serialization=True)
    (folder / SORA_VFX_JSON).write_text(json.dumps(OVERRIDES, indent=2) + "\n")
    (folder / "training.json").write_text(json.dumps({"recipe": asdict(recipe), "figures": figures}, indent=2) + "\n")
    (folder / "README.md").write_text(model_card(type(pipeline).__name__, recipe, figures))


def model_card(pipeline_class: str, recipe: Recipe, figures: dict[str, Any]) -> str:
    """The folder's README.md: what the model is, how it was made, what it can and cannot draw.
    ``benchmarks/quality.py --card`` adds the measured adherence below the marker line."""
    command = "python -m sora_vfx.models.shapes.train --out sora_vfx/models/shapes/weights"
    if recipe.seed:
        command += f" --seed {recipe.seed}"
    rows = "\n".join(f"| {key} | {value} |" for key, value in asdict(recipe).items())
    done = "\n".join(f"| {key} | {value} |" for key, value in figures.items())
    return f"""# shapes ({pipeline_class})

A small video diffusion model that draws the sora_vfx shapes world: one or two coloured balls
or squares moving on a plain background, prompted in one grammar:

    a [small|large] <colour> <ball|square> <motion> on a <colour> background
      [, and a [small|large] <colour> <ball|square> <motion>] [, camera panning left|right]

colours red, green, blue, yellow, white, black; motions moving left/right/up/down, standing
still. It is the built-in model of sora_vfx (`--model shapes`; shots with a reference image use
the image-to-video twin `shapes-i2v`), so that renders, tests and benchmarks can measure what
each render feature does to a picture. It has the layout of Wan 2.1/2.2 (`WanPipeline`,
`WanImageToVideoPipeline` in Wan 2.2's first-frame mode; `AutoencoderKLWan`,
`WanTransformer3DModel`, a UMT5 text encoder, flow matching) at a small size, and loads with
`DiffusionPipeline.from_pretrained(folder, local_files_only=True)`.

## What it can and cannot draw

- Native size {NATIVE_SIZE[0]}x{NATIVE_SIZE[1]}, {NATIVE_FRAMES} frames at most per call; longer shots render
  in windows.
- Only the grammar above: a word outside it becomes an unknown token and is ignored. It knows
  nothing of the real world: a lighthouse prompt gives a coloured blob.
- Colours are display-referred sRGB between 0.1 and 0.9.

## How it was made

`{command}` on the project's 2-core CPU machine ({figures.get("minutes", "?")} minutes), deterministic for
a given seed and thread count. Data: clips drawn on the fly by `sora_vfx.models.shapes.world`
from captions drawn by `grammar.random_scene` (a second object in a quarter of them, a camera
pan in a quarter). The VAE learns first (reconstruction, objects weighted up), then a fixed set
of clips is encoded and the transformer and text encoder learn flow matching on their latents,
image-to-video (first latent frame clean) on a share of the samples, empty captions on another.

| recipe | value |
| --- | --- |
{rows}

| training figure | value |
| --- | --- |
{done}

## Measured adherence

<!-- benchmarks/quality.py --card writes below this line -->
"""


def main(argv: list[str] | None = None) -> None:
    """The command line: ``--out DIR [--seed N] [--budget F]``."""
    parser = argparse.ArgumentParser(prog="python -m sora_vfx.models.shapes.train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for t2v/ and i2v/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=1.0, help="scale every stage's steps (1: the shipped model)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads; the result depends on it")
    parser.add_argument("--device", default="cpu", help="cpu (the shipped model) or cuda, for trying recipes")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one recipe field, e.g. dit_steps=12000 (for trying recipes)")
    args = parser.parse_args(argv)
    recipe = Recipe(seed=args.seed, threads=args.threads, device=args.device)
    for item in args.set:
        field_name, _, value = item.partition("=")
        kind = type(getattr(recipe, field_name))
        recipe = Recipe(**{**asdict(recipe), field_name: (value == "True") if kind is bool else kind(value)})
    if args.budget != 1.0:
        recipe = recipe.scaled(args.budget)

    def log(message: str) -> None:
        print(message, flush=True)

    train(args.out, recipe, log=log)


if __name__ == "__main__":
    main()
