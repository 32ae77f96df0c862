"""Two quick probes of a ``shapes`` text-to-video folder, for choosing a training recipe
before spending the hours a whole series of renders (``quality.py``) needs to tell recipes apart:

- **word sensitivity**: how far the transformer's prediction moves when only the motion word of
  the prompt changes, against when only the colour word does (same noise, same noise level).
  A model whose motion words barely move its prediction draws its motion from the noise;
- **memorisation**: the flow-matching loss on clips the training set holds against fresh clips
  drawn the same way (same noise levels, same noise).

    .venv/bin/python benchmarks/shapes_probe.py sora_vfx/models/shapes/weights/t2v [OTHER ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sora_vfx.models.shapes.model import MAX_TOKENS  # noqa: E402
from sora_vfx.models.shapes.train import Recipe, encode_dataset, normalised  # noqa: E402

MOTIONS = ("moving left", "moving right", "moving up", "moving down")
COLOURS = ("red", "green", "yellow", "white")


def predictions(pipeline, prompts: list[str], noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """The transformer's velocity for one noisy latent ``noise`` under each prompt."""
    embeds = pipeline._get_t5_prompt_embeds(prompt=prompts, max_sequence_length=MAX_TOKENS, device="cpu")
    timestep = torch.full((len(prompts),), sigma * 1000.0)
    return pipeline.transformer(hidden_states=noise.expand(len(prompts), -1, -1, -1, -1), timestep=timestep,
                                encoder_hidden_states=embeds, return_dict=False)[0]


def spread(values: torch.Tensor) -> list[float]:
    return [float((values[i] - values[j]).norm()) for i, j in itertools.combinations(range(len(values)), 2)]


def word_sensitivity(pipeline, sigmas=(0.95, 0.7), samples: int = 4) -> dict[str, dict[str, float]]:
    channels = pipeline.transformer.config.in_channels
    noise = torch.randn(samples, channels, 13, 8, 8, generator=torch.Generator().manual_seed(0))
    figures = {}
    for sigma in sigmas:
        motion, colour = [], []
        for sample in noise:
            motion += spread(predictions(pipeline, [f"a large red ball {m} on a blue background" for m in MOTIONS],
                                         sample[None], sigma))
            colour += spread(predictions(pipeline, [f"a large {c} ball moving left on a blue background"
                                                    for c in COLOURS], sample[None], sigma))
        figures[f"sigma {sigma}"] = {"motion": round(float(np.mean(motion)), 3),
                                     "colour": round(float(np.mean(colour)), 3),
                                     "ratio": round(float(np.mean(motion) / np.mean(colour)), 3)}
    return figures


def memorisation(pipeline, seed: int, clips: int = 256) -> dict[str, float]:
    """Loss on the first ``clips`` training clips (``encode_dataset``'s draws for ``seed``) and on fresh ones."""
    recipe = Recipe(seed=seed, clips=clips)
    losses = {}
    for label, rng in (("training clips", np.random.default_rng([seed, 2])),
                       ("fresh clips", np.random.default_rng([seed + 99, 2]))):
        latents, captions, *_ = encode_dataset(pipeline.vae, recipe, rng, lambda _message: None)
        clean = normalised(pipeline.vae.config, latents)
        generator = torch.Generator().manual_seed(1)
        errors = []
        for start in range(0, clips, 32):
            x0 = clean[start:start + 32]
            sigma = torch.linspace(0.1, 0.95, len(x0)).view(-1, 1, 1, 1, 1)
            noise = torch.randn(x0.shape, generator=generator)
            embeds = pipeline._get_t5_prompt_embeds(prompt=captions[start:start + 32], max_sequence_length=MAX_TOKENS,
                                                    device="cpu")
            predicted = pipeline.transformer(hidden_states=(1 - sigma) * x0 + sigma * noise,
                                             timestep=sigma.flatten() * 1000, encoder_hidden_states=embeds,
                                             return_dict=False)[0]
            errors.append(float((predicted - (noise - x0)).pow(2).mean()))
        losses[label] = round(float(np.mean(errors)), 4)
    return losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="text-to-video folders (t2v/)")
    parser.add_argument("--clips", type=int, default=256, help="clips of each kind for the memorisation probe")
    parser.add_argument("--samples", type=int, default=4, help="noise samples for the word sensitivity probe")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    from diffusers import WanPipeline

    from sora_vfx.console import quiet_progress_bars, quiet_transformers

    results = {}
    with torch.no_grad():
        for folder in args.folders:
            with quiet_transformers(), quiet_progress_bars():
                pipeline = WanPipeline.from_pretrained(folder, local_files_only=True)
            recorded = json.loads((folder / "training.json").read_text())["recipe"] if (
                folder / "training.json").is_file() else {}
            results[str(folder)] = {"word sensitivity": word_sensitivity(pipeline, samples=args.samples),
                                    "memorisation": memorisation(pipeline, recorded.get("seed", 0), args.clips)}
            sensitivity = "; ".join(f"{sigma}: motion {f['motion']}, colour {f['colour']}, ratio {f['ratio']}"
                                    for sigma, f in results[str(folder)]["word sensitivity"].items())
            print(f"{folder}\n  word sensitivity  {sensitivity}\n  memorisation      "
                  + ", ".join(f"{k} {v}" for k, v in results[str(folder)]["memorisation"].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
