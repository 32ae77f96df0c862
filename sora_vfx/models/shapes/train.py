"""Train the ``shapes`` model: ``python -m sora_vfx.models.shapes.train --out DIR``.

Three stages, all on clips drawn by the shapes world (``world.render_clip`` of
``grammar.random_scene``), all deterministic from ``--seed`` on a given machine and thread
count:

1. the VAE learns to encode and decode clips (random crops, then whole frames);
2. a fixed set of clips is encoded once, and the latents' per-channel mean and standard
   deviation become the VAE's ``latents_mean``/``latents_std`` (as in Wan's config);
3. the transformer and the text encoder learn flow matching on those latents: text-to-video
   on most samples, first-frame image-to-video (Wan 2.2's ``expand_timesteps``) on the rest,
   with a share of empty captions so classifier-free guidance has an unconditional branch;
   optionally (``dit_motion_weight``) beside a training-only head that predicts each token's
   screen motion from a middle block (:class:`MotionHead`), dropped at save.

4. the outpainting variant (``WanVACEPipeline``): the transformer with VACE context blocks
   learns to fill the border of clips whose middle alone is given ("filmed"), for plate
   extension; it starts from stage 3's weights.

The result is three pipeline folders: ``DIR/t2v`` (``WanPipeline``) and ``DIR/i2v``
(``WanImageToVideoPipeline``), sharing every weight, and ``DIR/outpaint``; each with a
``sora_vfx.json`` and a model card. ``--stage outpaint`` runs stage 4 alone on the ``DIR/t2v``
an earlier run of the same recipe left, ``--stage base`` stages 1-3 alone. ``--budget`` scales
every stage's steps (``--budget 0.02`` is a smoke test); ``--fit MINUTES`` chooses the budget of
the stages a run trains from a few steps of each timed first (:mod:`.fit`). ``--recipe gpu`` is the recipe sized
for one H100/H200 (:meth:`Recipe.gpu`), its clips drawn on the card (:mod:`.clips`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from string import Template
from typing import Any, NamedTuple

import numpy as np
import torch

from sora_vfx.console import quiet_progress_bars, quiet_transformers
from sora_vfx.errors import ModelError
from sora_vfx.models.families import SORA_VFX_JSON
from sora_vfx.shapes import grammar

from .checkpoint import RUN_JSON, Checkpoints, Stopped, numpy_state, set_numpy_state
from .clips import world_clips
from .fit import PROBE_CLIPS, PROBE_STEPS, STAGE_COUNTS, STAGES_RUN, StepTimes, estimate, fitted_budget
from .model import (
    DEFAULT_STEPS,
    LAYERS,
    MAX_TOKENS,
    NATIVE_FRAMES,
    NATIVE_SIZE,
    VACE_LAYERS,
    VAE_SPATIAL_SCALES,
    assemble,
    build_outpaint_transformer,
    build_scheduler,
    build_text_encoder,
    build_tokenizer,
    build_transformer,
    build_vae,
)

#: How the transformer stage draws its noise levels: uniformly then shifted as the sampler
#: spaces its steps (``shift``), or SD3's logit-normal (``logit-normal``: the logistic of a
#: standard normal, most of them near the middle, where the picture's layout settles).
SIGMA_SAMPLINGS = ("shift", "logit-normal")


@dataclass(frozen=True)
class Recipe:
    """Every number that decides the weights, recorded in the model card."""

    seed: int = 0
    threads: int = 2
    vae_crop_steps: int = 1500
    vae_full_steps: int = 200
    vae_crop: int = 32
    vae_crop_frames: int = 5
    vae_full_frames: int = 9
    vae_batch: int = 8
    vae_lr: float = 2e-3
    vae_kl: float = 1e-3
    vae_sample: bool = True  # decode posterior samples (a VAE) or means (an autoencoder)
    vae_object_weight: float = 2.0  # extra loss weight on pixels that an object covers
    # How much smaller in space the latents are (``model.VAE_SPATIAL_SCALES``): 8, a 64x64 frame
    # as 4x4 tokens; or 4, as 8x8 tokens, where two objects share a token far less often, for
    # four times the transformer's tokens (a recipe for a GPU).
    vae_spatial: int = 8
    clips: int = 8192
    dit_steps: int = 12000
    dit_batch: int = 16
    dit_lr: float = 8e-4
    # Muon on the blocks' weight matrices, AdamW on the rest; "muon-float32": the same with Muon's
    # orthogonalisation in float32 (much faster on a CPU without bfloat16 instructions); or "adamw" on all
    dit_optimizer: str = "muon-float32"
    dit_sigma_shift: float = 4.0  # shift of the noise levels trained on; 0: the sampler's own
    dit_sigma_sampling: str = "shift"  # noise levels: "shift" (uniform, then dit_sigma_shift) or "logit-normal"
    dit_warmup: int = 300
    image_share: float = 0.3
    empty_caption_share: float = 0.1
    dit_object_weight: float = 3.0  # extra loss weight on latent pixels that an object touches
    dit_short_latents: int = 5  # latent frames (9 frames) seen in the first, short phase
    dit_short_share: float = 0.6  # share of the steps in the short phase
    # An auxiliary head (training only, dropped at save) that predicts each token's screen motion
    # from the output of this many transformer blocks, weighted so in the loss; 0: none.
    dit_motion_weight: float = 10.0
    dit_motion_layer: int = 3
    # The same head also predicts which tokens an object touches (logistic loss, weighted so;
    # 0: not), so that the middle of the network has to know how many objects there are and where.
    dit_occupancy_weight: float = 1.0
    # Grounding (training only, as TokenCompose): the cross-attention from the tokens each object
    # covers to the words of its own clause of the caption, pulled towards that object, weighted
    # so; 0: none. Binds each object's colour and motion to its own clause.
    dit_grounding_weight: float = 0.0
    ema: float = 0.999
    # A second phase of the transformer stage: this many steps more, from its weights, on
    # ``refine_clips`` fresh clips at their whole length, noise levels drawn as
    # ``refine_sigma_sampling`` says, a new cosine schedule from ``refine_lr``; 0: none.
    refine_steps: int = 0
    refine_clips: int = 2048
    refine_lr: float = 2e-4
    refine_warmup: int = 100
    refine_sigma_sampling: str = "logit-normal"
    refine_grounding_weight: float = 0.0  # the refine phase's dit_grounding_weight
    # The outpainting stage (``WanVACEPipeline``), trained on the stages above.
    outpaint_clips: int = 1536
    outpaint_steps: int = 4000
    outpaint_batch: int = 16
    outpaint_lr: float = 4e-4
    outpaint_warmup: int = 50
    outpaint_empty_caption_share: float = 0.5
    outpaint_border_weight: float = 3.0  # extra loss weight on latent pixels of the border
    outpaint_plate_weight: float = 0.25  # loss weight of filmed latent pixels: the context holds them
    outpaint_single_frame_share: float = 0.15  # samples of one frame, as a still plate's border
    outpaint_short_share: float = 0.6  # share of the steps on each clip's first 9 frames
    device: str = "cpu"
    clips_on_device: bool = False  # draw the clips with torch on the device (the GPU recipe), not numpy

    def __post_init__(self) -> None:
        # Checked here, so that a mistyped --set fails before the VAE stage, not after it.
        if self.dit_optimizer not in ("muon", "muon-float32", "adamw"):
            raise ValueError(f"dit_optimizer is muon, muon-float32 or adamw, not {self.dit_optimizer!r}")
        for name in ("dit_sigma_sampling", "refine_sigma_sampling"):
            if getattr(self, name) not in SIGMA_SAMPLINGS:
                raise ValueError(f"{name} is {' or '.join(SIGMA_SAMPLINGS)}, not {getattr(self, name)!r}")
        if self.vae_spatial not in VAE_SPATIAL_SCALES:
            raise ValueError(f"vae_spatial is {' or '.join(map(str, VAE_SPATIAL_SCALES))}, not {self.vae_spatial}")
        if not 1 <= self.dit_motion_layer <= LAYERS:
            raise ValueError(f"dit_motion_layer is 1 to {LAYERS}, not {self.dit_motion_layer}")

    @classmethod
    def gpu(cls, **fields: Any) -> Recipe:
        """The recipe sized for one H100 or H200 (``--recipe gpu``): the CPU recipe's stages with
        four times the clips a step, twice the encoded clips and the outpainting clips; the clips
        drawn on the card. Its step counts are estimates for about
        8 minutes of all stages on such a card; each stage logs its seconds, by which to size the
        next run (``--set``)."""
        return cls(**{**GPU_RECIPE, **fields})

    def scaled(self, budget: float, stages: tuple[str, ...] = tuple(STAGE_COUNTS)) -> Recipe:
        """The same recipe with every step and clip count of ``stages`` (keys of
        :data:`STAGE_COUNTS`) times ``budget`` (at least 2)."""
        counts = [name for stage in stages for name in STAGE_COUNTS[stage]]
        # A count at 0 (a phase turned off) stays off.
        return Recipe(**{**asdict(self), **{k: max(2, round(getattr(self, k) * budget)) if getattr(self, k) else 0
                                            for k in counts}})


def _causal_padded(frames: torch.Tensor, temporal: int) -> torch.Tensor:
    """``frames`` (N, C, frames, H, W) with its first frame repeated ``temporal - 1`` times in
    front, so that pooling ``temporal`` frames at a time groups them as the causal VAE does:
    the first frame alone, then ``temporal`` frames per latent frame."""
    if temporal == 1:
        return frames
    return torch.cat([frames[:, :, :1].expand(-1, -1, temporal - 1, -1, -1), frames], dim=2)


def latent_object_mask(covered: torch.Tensor, temporal: int, spatial: int) -> torch.Tensor:
    """Which latent pixels an object touches: ``covered`` (N, 1, frames, H, W) pooled the way
    the causal VAE groups pixels (the first frame alone, then ``temporal`` frames per latent
    frame; ``spatial`` pixels a side), grown by one latent pixel for the receptive field."""
    pooled = torch.nn.functional.max_pool3d(_causal_padded(covered, temporal), kernel_size=(temporal, spatial, spatial))
    return torch.nn.functional.max_pool3d(pooled, kernel_size=(1, 3, 3), stride=1, padding=(0, 1, 1)) > 0


#: Screen speeds (pixels per frame) are divided by this for the motion head: the world's objects
#: cross 40-60% of the frame in a clip, about 1-1.6 pixels a frame at the native size.
MOTION_SCALE = 1.5


def token_motion(motion: torch.Tensor, temporal: int, pixels: int) -> torch.Tensor:
    """Each transformer token's mean screen motion: ``motion`` (N, 2, frames, H, W) grouped as the
    causal VAE groups frames (the first alone, then ``temporal`` a latent frame) and averaged
    over the ``pixels`` x ``pixels`` a token covers; (N, 2, latent frames, H / pixels, W / pixels),
    divided by :data:`MOTION_SCALE`."""
    pooled = torch.nn.functional.avg_pool3d(_causal_padded(motion, temporal), kernel_size=(temporal, pixels, pixels))
    return pooled / MOTION_SCALE


def _cosine(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def train_vae(vae: torch.nn.Module, recipe: Recipe, rng: np.random.Generator, log,
              checkpoints: Checkpoints | None = None) -> dict[str, float]:
    """Reconstruction (squared and absolute error) plus a small KL term; returns figures.
    ``checkpoints``: where the loop's state is kept, and resumed from."""
    checkpoints = checkpoints or Checkpoints(None, {})
    optimizer = torch.optim.AdamW(vae.parameters(), lr=recipe.vae_lr, weight_decay=0.0)
    total = recipe.vae_crop_steps + recipe.vae_full_steps
    vae.train()
    started = time.perf_counter()
    first = _resume(checkpoints, "vae", vae, [optimizer], None, rng=rng, log=log, total=total)
    for step in range(first, total):
        for group in optimizer.param_groups:
            group["lr"] = recipe.vae_lr * _cosine(step, total, 50)
        crop = step < recipe.vae_crop_steps
        frames = recipe.vae_crop_frames if crop else recipe.vae_full_frames
        batch = recipe.vae_batch if crop else recipe.vae_batch // 2
        video, _, covered, *_ = world_clips(rng, batch, frames, recipe.device, on_device=recipe.clips_on_device)
        if crop:
            size = recipe.vae_crop
            x0, y0 = (int(v) for v in rng.integers(0, NATIVE_SIZE[0] - size + 1, size=2))
            video = video[..., y0:y0 + size, x0:x0 + size]
            covered = covered[..., y0:y0 + size, x0:x0 + size]
        posterior = vae.encode(video).latent_dist
        decoded = vae.decode(posterior.sample() if recipe.vae_sample else posterior.mode()).sample
        error = decoded - video
        if recipe.vae_object_weight:
            # Objects cover a few percent of the pixels, and they are what the prompt is about.
            error = error * (1 + recipe.vae_object_weight * covered)
        kl = 0.5 * (posterior.mean.pow(2) + posterior.var - 1.0 - posterior.logvar).mean()
        loss = error.pow(2).mean() + 0.5 * error.abs().mean() + recipe.vae_kl * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        if step % 200 == 0 or step == total - 1:
            log(f"vae {step + 1}/{total}: loss {loss.item():.4f}, {time.perf_counter() - started:.0f} s")
        checkpoints.step("vae", lambda step=step: _state(step, vae, [optimizer], None, rng=rng), last=step == total - 1)
    vae.eval()
    return measure_vae(vae, recipe, log)


def measure_vae(vae: torch.nn.Module, recipe: Recipe, log, count: int = 24) -> dict[str, float]:
    """How much of the picture survives the VAE alone: PSNR, and the adherence of
    reconstructed clips to their captions (an upper bound for the whole model)."""
    from sora_vfx.eval import measure_shot, summarize

    measures, errors = [], []
    with torch.no_grad():
        for start in range(0, count, 8):
            video, captions, *_ = world_clips(np.random.default_rng(recipe.seed + 7 + start), 8, NATIVE_FRAMES,
                                                recipe.device, on_device=recipe.clips_on_device)
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


def encode_dataset(vae: torch.nn.Module, recipe: Recipe, rng: np.random.Generator, log, *, patch: int = 2):
    """The latents of ``recipe.clips`` clips (posterior modes), their captions, which latent
    pixels their objects touch (see :func:`latent_object_mask`), for the motion head
    (``recipe.dit_motion_weight``) each token's motion (:func:`token_motion`, ``patch`` latent
    pixels a token side), else None, and for grounding (``recipe.dit_grounding_weight``) which
    tokens each object touches (:func:`token_objects`), else None."""
    from sora_vfx.models.cpu import route_conv3d_to_onednn

    # A copy, so the saved VAE's modules stay the stock diffusers ones.
    encoder = copy.deepcopy(vae).eval()
    if recipe.device == "cpu":
        route_conv3d_to_onednn(encoder)
    temporal, spatial = vae.config.scale_factor_temporal, vae.config.scale_factor_spatial
    latents, captions, masks, motions, objects = [], [], [], [], []
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, recipe.clips, 16):
            video, words, covered, motion, each = world_clips(rng, min(16, recipe.clips - start), NATIVE_FRAMES,
                                                              recipe.device, motion=bool(recipe.dit_motion_weight),
                                                              on_device=recipe.clips_on_device)
            latents.append(encoder.encode(video).latent_dist.mode().cpu())
            masks.append(latent_object_mask(covered.cpu(), temporal, spatial))
            if motion is not None:
                motions.append(token_motion(motion.cpu(), temporal, spatial * patch))
            if recipe.dit_grounding_weight:
                objects.append(token_objects(each.cpu(), temporal, spatial * patch))
            captions += words
    log(f"encoded {recipe.clips} clips in {time.perf_counter() - started:.0f} s")
    return (torch.cat(latents), captions, torch.cat(masks), torch.cat(motions) if motions else None,
            torch.cat(objects) if objects else None)


def dit_optimizers(modules: torch.nn.Module, recipe: Recipe) -> list[torch.optim.Optimizer]:
    """The optimisers of the transformer stage: AdamW on every weight, or (``dit_optimizer="muon"``)
    Muon on the weight matrices inside the transformer's and text encoder's blocks, with its
    step sized as AdamW's (``match_rms_adamw``) so that one learning rate serves both, and AdamW
    on the rest (embeddings, the timestep and text projections, the output, norms, biases);
    ``"muon-float32"``: the same with Muon's orthogonalisation in float32 (:class:`PrecisionMuon`)."""
    if recipe.dit_optimizer == "adamw":
        return [torch.optim.AdamW(modules.parameters(), lr=recipe.dit_lr, weight_decay=0.01)]
    inside = ("transformer.blocks.", "text_encoder.encoder.block.")
    matrices = {name: value for name, value in modules.named_parameters()
                if value.ndim == 2 and name.startswith(inside)}
    rest = [value for name, value in modules.named_parameters() if name not in matrices]
    options = {"lr": recipe.dit_lr, "weight_decay": 0.01, "adjust_lr_fn": "match_rms_adamw"}
    muon = (PrecisionMuon(matrices.values(), ns_dtype=torch.float32, **options)
            if recipe.dit_optimizer == "muon-float32" else torch.optim.Muon(matrices.values(), **options))
    return [muon, torch.optim.AdamW(rest, lr=recipe.dit_lr, weight_decay=0.01)]


class PrecisionMuon(torch.optim.Muon):
    """torch's Muon with its Newton-Schulz orthogonalisation in ``ns_dtype`` instead of bfloat16.

    torch computes it in bfloat16, which a CPU without bfloat16 instructions multiplies about 25
    times slower than float32 (docs/shapes.md#retraining-it). With ``ns_dtype=torch.bfloat16``
    this gives torch's Muon's steps bit for bit (tests/shapes/test_muon.py); its state is
    torch's, so checkpoints load either way.
    """

    def __init__(self, params, *, ns_dtype: torch.dtype, **options):
        super().__init__(params, **options)
        self.ns_dtype = ns_dtype

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params: list[torch.Tensor] = []
            grads: list[torch.Tensor] = []
            buffers: list[torch.Tensor] = []
            self._init_group(group, params, grads, buffers)
            lr, momentum = group["lr"], group["momentum"]
            for param, grad, buffer in zip(params, grads, buffers, strict=True):
                buffer.lerp_(grad, 1 - momentum)
                update = grad.lerp(buffer, momentum) if group["nesterov"] else buffer
                update = _newton_schulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"],
                                        self.ns_dtype)
                param.mul_(1 - lr * group["weight_decay"])
                param.add_(update, alpha=-lr * _muon_lr_ratio(group["adjust_lr_fn"], param.shape))
        return loss


def _newton_schulz(matrix: torch.Tensor, coefficients: tuple[float, float, float], steps: int, eps: float,
                   dtype: torch.dtype) -> torch.Tensor:
    """Muon's quintic Newton-Schulz iteration towards the nearest orthogonal matrix, in ``dtype``
    (Keller Jordan's Muon, as torch.optim.Muon computes it)."""
    a, b, c = coefficients
    x = matrix.to(dtype)
    tall = matrix.size(0) > matrix.size(1)  # iterate on the smaller Gram matrix
    if tall:
        x = x.T
    x = x.div(x.norm().clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def _muon_lr_ratio(adjust: str | None, shape: torch.Size) -> float:
    """How Muon scales its learning rate for a (rows, columns) matrix, as torch.optim.Muon does."""
    rows, columns = shape[:2]
    if adjust is None or adjust == "original":
        return math.sqrt(max(1, rows / columns))
    return 0.2 * math.sqrt(max(rows, columns)) if adjust == "match_rms_adamw" else 1.0


#: What ``--recipe gpu`` changes in the CPU recipe (see :meth:`Recipe.gpu`).
GPU_RECIPE: dict[str, Any] = {
    "device": "cuda", "threads": 8, "clips_on_device": True,
    "vae_spatial": 4,  # 8x8 tokens a frame: two objects seldom share one (docs/shapes.md)
    "vae_batch": 32, "vae_crop_steps": 1500, "vae_full_steps": 300,
    "clips": 16384, "dit_batch": 64, "dit_steps": 6000, "dit_warmup": 200, "dit_motion_weight": 10.0,
    "dit_optimizer": "muon",  # a card computes Muon's iteration in bfloat16 fast
    "outpaint_clips": 3072, "outpaint_batch": 64, "outpaint_steps": 2000,
}


class FlowBatch(NamedTuple):
    """One batch of flow matching: which clips, their clean latents and captions, the noise
    level of each, the noise, and the noisy latents ``x_t = (1 - s) x_0 + s e``."""

    index: torch.Tensor
    clean: torch.Tensor
    words: list[str]
    sigma: torch.Tensor
    noise: torch.Tensor
    noisy: torch.Tensor


def flow_batch(latents: torch.Tensor, captions: list[str], *, frames: int, size: int, empty_share: float,
               shift: float, generator: torch.Generator, device: str, sampling: str = "shift") -> FlowBatch:
    """``size`` clips drawn from ``latents`` (their first ``frames`` latent frames), a share
    ``empty_share`` of their captions emptied (the unconditional branch of guidance), and noise
    levels drawn with ``shift`` as the sampler spaces its steps (``sampling="shift"``) or
    logit-normal (see :data:`SIGMA_SAMPLINGS`): the batch step both transformer stages share.
    The draws from ``generator`` come in this order, which the shipped weights were trained with."""
    index = torch.randint(latents.shape[0], (size,), generator=generator)
    clean = latents[index, :, :frames].to(device)
    words = [captions[i] for i in index.tolist()]
    empty = torch.rand(size, generator=generator) < empty_share
    words = ["" if drop else text for text, drop in zip(words, empty.tolist(), strict=True)]
    if sampling == "logit-normal":
        sigma = torch.sigmoid(torch.randn(size, generator=generator)).to(device)
    else:
        u = torch.rand(size, generator=generator)
        sigma = (shift * u / (1 + (shift - 1) * u)).to(device)
    noise = torch.randn(clean.shape, generator=generator).to(device)
    noisy = (1 - sigma.view(-1, 1, 1, 1, 1)) * clean + sigma.view(-1, 1, 1, 1, 1) * noise
    return FlowBatch(index, clean, words, sigma, noise, noisy)


def _learn(module: torch.nn.Module, optimizers: list[torch.optim.Optimizer], ema: dict[str, torch.Tensor],
           decay: float, weight: torch.Tensor, predicted: torch.Tensor, target: torch.Tensor,
           extra: torch.Tensor | None = None) -> float:
    """One step of each optimiser on the ``weight``-ed squared error of ``predicted`` against
    ``target`` (plus an ``extra`` loss term); the EMA copy follows. Returns the first loss."""
    loss = (weight * (predicted - target).pow(2)).sum() / weight.expand_as(predicted).sum()
    for each in optimizers:
        each.zero_grad(set_to_none=True)
    (loss if extra is None else loss + extra).backward()
    torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
    for each in optimizers:
        each.step()
    with torch.no_grad():
        for name, value in module.state_dict().items():
            ema[name].lerp_(value, 1 - decay)
    return loss.item()


class MotionHead(torch.nn.Module):
    """Training only: predicts each token's screen motion (:func:`token_motion`) from the output
    of the transformer's first ``layer`` blocks, so that the middle of the network has to know
    where things move (as VideoJAM asks it to know the flow); with ``occupancy``, also whether
    an object touches the token (:func:`token_occupancy`). Not saved: the saved transformer
    keeps Wan's plain layout."""

    def __init__(self, transformer: torch.nn.Module, layer: int, *, occupancy: bool = False):
        super().__init__()
        self.norm = torch.nn.LayerNorm(transformer.config.num_attention_heads * transformer.config.attention_head_dim)
        self.project = torch.nn.Linear(self.norm.normalized_shape[0], 2)
        # Made after the motion projection, so that a head without it starts as it always did.
        self.occupied = torch.nn.Linear(self.norm.normalized_shape[0], 1) if occupancy else None
        self.layer = layer
        self.hidden: torch.Tensor | None = None

    def watch(self, transformer: torch.nn.Module):
        """Keep block ``layer``'s output at every forward pass; returns the hook's handle."""
        return transformer.blocks[self.layer - 1].register_forward_hook(
            lambda _module, _inputs, output: setattr(self, "hidden", output))

    def loss(self, target: torch.Tensor) -> torch.Tensor:
        """Squared error against ``target`` (N, 2, frames, h, w), tokens in Wan's order (frame, row, column)."""
        predicted = self.project(self.norm(self.hidden))
        return (predicted - target.flatten(2).transpose(1, 2)).pow(2).mean()

    def occupancy_loss(self, target: torch.Tensor) -> torch.Tensor:
        """Logistic loss against ``target`` (N, 1, frames, h, w), 1 where an object touches the token."""
        logits = self.occupied(self.norm(self.hidden))
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, target.flatten(2).transpose(1, 2))


def token_occupancy(masks: torch.Tensor, pixels: int) -> torch.Tensor:
    """Which transformer tokens an object touches: ``masks`` (N, 1, frames, H, W, from
    :func:`latent_object_mask`) pooled over the ``pixels`` x ``pixels`` latent pixels of a token,
    as floats; (N, 1, frames, H / pixels, W / pixels)."""
    return torch.nn.functional.max_pool3d(masks.float(), kernel_size=(1, pixels, pixels))


def token_objects(each: torch.Tensor, temporal: int, pixels: int) -> torch.Tensor:
    """Which transformer tokens each object touches: ``each`` (N, objects, frames, H, W, from
    :attr:`Clips.each`) grouped as the causal VAE groups frames and pooled over the ``pixels`` x
    ``pixels`` a token covers; (N, objects, latent frames, H / pixels, W / pixels), bool."""
    return torch.nn.functional.max_pool3d(_causal_padded(each, temporal), kernel_size=(temporal, pixels, pixels)) > 0


def object_words(tokenizer: Any, captions: list[str]) -> torch.Tensor:
    """Which of each caption's tokens describe each of its objects, in the order
    :func:`~sora_vfx.shapes.grammar.caption` writes them: the first object's words come before
    ``on``, the second's after ``, and a`` up to the next comma; the article ``a`` is left out.
    (N, grammar.MAX_OBJECTS, MAX_TOKENS) float; an empty caption (guidance's unconditional
    branch) has none."""
    marks = torch.zeros(len(captions), grammar.MAX_OBJECTS, MAX_TOKENS)
    for row, text in enumerate(captions):
        words = tokenizer.tokenize(text)
        if not words:
            continue
        spans = [(0, words.index("on"))]
        if "and" in words:
            start = words.index("and") + 1
            stop = words.index(",", start) if "," in words[start:] else len(words)
            spans.append((start, stop))
        for slot, (start, stop) in enumerate(spans):
            for at in range(start, min(stop, MAX_TOKENS)):
                marks[row, slot, at] = float(words[at] != "a")
    return marks


class GroundingProbe:
    """Training only, as TokenCompose grounds nouns: keeps every block's cross-attention (the
    softmax over the caption's tokens, the heads averaged) and pulls the attention that each
    object's own words get towards the tokens that object touches. No weights: nothing to drop
    at save, and the sampler's attention is the same module, unchanged."""

    def __init__(self) -> None:
        self.maps: list[torch.Tensor] = []

    def watch(self, transformer: torch.nn.Module) -> list[Any]:
        """Keep each block's cross-attention map at every forward pass; returns the hooks' handles."""
        return [block.attn2.register_forward_hook(self._keep) for block in transformer.blocks]

    def _keep(self, attn: torch.nn.Module, args: tuple, _output: torch.Tensor) -> None:
        hidden, text = args[0], args[1]  # a Wan block calls attn2(norm_hidden_states, encoder_hidden_states, ...)
        query = attn.norm_q(attn.to_q(hidden)).unflatten(2, (attn.heads, -1))
        key = attn.norm_k(attn.to_k(text)).unflatten(2, (attn.heads, -1))
        scores = torch.einsum("blhd,bthd->bhlt", query, key) * query.shape[-1] ** -0.5
        self.maps.append(scores.softmax(-1).mean(1))

    def loss(self, words: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        """``words`` (N, objects, text tokens) from :func:`object_words`, ``inside`` (N, objects,
        video tokens) which tokens each object touches: the mean over the blocks, samples and
        objects (those named and on screen) of ``(1 - share)^2``, where ``share`` is the part of
        the attention an object's words get that comes from the tokens it touches. Forgets the maps."""
        maps, self.maps = self.maps, []
        present = (words.sum(-1) > 0) & inside.any(-1)
        if not present.any():
            return maps[0].sum() * 0.0
        terms = []
        for attention in maps:
            given = torch.einsum("blt,bot->bol", attention, words)  # the attention each object's words get
            share = (given * inside).sum(-1) / given.sum(-1).clamp_min(1e-8)
            terms.append((1 - share[present]).pow(2).mean())
        return torch.stack(terms).mean()


def train_transformer(pipeline: Any, latents: torch.Tensor, captions: list[str], masks: torch.Tensor, recipe: Recipe,
                      generator: torch.Generator, log, checkpoints: Checkpoints | None = None,
                      motion: torch.Tensor | None = None, *, stage: str = "transformer",
                      keep_last: bool = False,
                      objects: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """Flow matching: ``x_t = (1 - s) x_0 + s e``, the transformer predicts ``e - x_0``.

    Latent pixels that an object touches (``masks``) weigh ``1 + recipe.dit_object_weight``
    in the loss: objects cover a few percent of a frame, and they are what the prompt is about.
    The first ``recipe.dit_short_share`` of the steps see only each clip's first
    ``recipe.dit_short_latents`` latent frames: the VAE is causal, so those are exactly the
    latents of the clip's first frames, and colour, shape and direction are learnt at a fraction
    of the cost before the whole length is.

    With ``recipe.dit_motion_weight``, a :class:`MotionHead` learns ``motion`` (each token's,
    from :func:`encode_dataset`) beside it, its loss weighted so; with
    ``recipe.dit_occupancy_weight``, also which tokens the objects touch (from ``masks``). With
    ``recipe.dit_grounding_weight``, a :class:`GroundingProbe` pulls the cross-attention of the
    tokens each object touches (``objects``, from :func:`encode_dataset`) to its own clause.

    ``stage`` names the checkpoints (the refine phase runs this loop again as ``"refine"``);
    ``keep_last`` writes the state after the last step too, for a phase that follows.

    Returns the EMA weights of the transformer and text encoder, and figures.
    """
    checkpoints = checkpoints or Checkpoints(None, {})
    transformer, text_encoder = pipeline.transformer, pipeline.text_encoder
    parts = {"transformer": transformer, "text_encoder": text_encoder}
    head = None
    if recipe.dit_motion_weight or recipe.dit_occupancy_weight:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed + 5)
            head = parts["motion_head"] = MotionHead(transformer, recipe.dit_motion_layer,
                                                     occupancy=bool(recipe.dit_occupancy_weight)).to(recipe.device)
    modules = torch.nn.ModuleDict(parts).train()
    optimizers = dit_optimizers(modules, recipe)
    ema = {name: value.detach().clone() for name, value in modules.state_dict().items()}
    # The recipe's shift, or the sampler's own (a larger one spends more samples at high noise,
    # where the prompt alone decides the picture).
    shift = recipe.dit_sigma_shift or pipeline.scheduler.config.shift
    patch = transformer.config.patch_size
    _, _, full_length, height, width = latents.shape
    tokens_per_frame = (height // patch[1]) * (width // patch[2])
    short_steps = round(recipe.dit_steps * recipe.dit_short_share)
    aside_weights = {"motion": recipe.dit_motion_weight, "occupancy": recipe.dit_occupancy_weight,
                     "grounding": recipe.dit_grounding_weight}
    started, losses = time.perf_counter(), []
    aside: dict[str, list[float]] = {name: [] for name, weight in aside_weights.items() if weight}
    first = _resume(checkpoints, stage, modules, optimizers, ema, generator=generator, losses=losses, log=log,
                    total=recipe.dit_steps, aside=aside)
    hooks = [head.watch(transformer)] if head is not None else []
    probe = None
    if recipe.dit_grounding_weight:
        if objects is None:
            raise ValueError("dit_grounding_weight needs which tokens each object touches (objects=)")
        probe = GroundingProbe()
        hooks += probe.watch(transformer)
    for step in range(first, recipe.dit_steps):
        for group in (group for optimizer in optimizers for group in optimizer.param_groups):
            group["lr"] = recipe.dit_lr * _cosine(step, recipe.dit_steps, recipe.dit_warmup)
        frames = min(recipe.dit_short_latents, full_length) if step < short_steps else full_length
        batch = flow_batch(latents, captions, frames=frames, size=recipe.dit_batch,
                           empty_share=recipe.empty_caption_share, shift=shift, generator=generator,
                           device=recipe.device, sampling=recipe.dit_sigma_sampling)
        noisy = batch.noisy
        # Image-to-video samples keep their first latent frame clean, at timestep 0.
        image = torch.rand(recipe.dit_batch, generator=generator) < recipe.image_share
        image = image.to(recipe.device)
        noisy[image, :, 0] = batch.clean[image, :, 0]
        timestep = (batch.sigma * 1000).view(-1, 1).repeat(1, frames * tokens_per_frame)
        timestep[image, :tokens_per_frame] = 0
        weight = 1 + recipe.dit_object_weight * masks[batch.index, :, :frames].to(recipe.device, torch.float32)
        weight[image, :, 0] = 0
        embeds = pipeline._get_t5_prompt_embeds(prompt=batch.words, max_sequence_length=MAX_TOKENS,
                                                device=recipe.device)
        predicted = transformer(hidden_states=noisy, timestep=timestep, encoder_hidden_states=embeds,
                                return_dict=False)[0]
        terms = {}
        if "motion" in aside:
            terms["motion"] = head.loss(motion[batch.index, :, :frames].to(recipe.device))
        if "occupancy" in aside:
            terms["occupancy"] = head.occupancy_loss(token_occupancy(masks[batch.index, :, :frames].to(recipe.device),
                                                                     patch[1]))
        if probe is not None:
            terms["grounding"] = probe.loss(object_words(pipeline.tokenizer, batch.words).to(recipe.device),
                                            objects[batch.index, :, :frames].flatten(2).to(recipe.device))
        for name, term in terms.items():
            aside[name].append(term.item())
        extra = sum(aside_weights[name] * term for name, term in terms.items()) if terms else None
        losses.append(_learn(modules, optimizers, ema, recipe.ema, weight, predicted, batch.noise - batch.clean, extra))
        if step % 200 == 0 or step == recipe.dit_steps - 1:
            also = "".join(f", {name} {np.mean(values[-200:]):.4f}" for name, values in aside.items())
            log(f"{stage} {step + 1}/{recipe.dit_steps}: loss {np.mean(losses[-200:]):.4f}{also}, "
                f"{time.perf_counter() - started:.0f} s")
        state = partial(_state, step, modules, optimizers, ema, generator=generator, losses=losses, aside=aside)
        checkpoints.step(stage, state, last=step == recipe.dit_steps - 1)
        if keep_last and step == recipe.dit_steps - 1 and checkpoints.folder is not None:
            checkpoints.write(stage, state())  # a later phase starts from it: a resumed run need not redo this one
    for hook in hooks:
        hook.remove()
    modules.eval()
    figures = {"final_loss": round(float(np.mean(losses[-200:])), 4)}
    figures.update({f"final_{name}_loss": round(float(np.mean(values[-200:])), 4)
                    for name, values in aside.items() if values})
    # The head is dropped: the saved folders keep Wan's layout.
    return {name: value for name, value in ema.items() if not name.startswith("motion_head.")}, figures


def _state(step: int, module: torch.nn.Module, optimizers: list[torch.optim.Optimizer],
           ema: dict[str, torch.Tensor] | None, *, rng: np.random.Generator | None = None,
           generator: torch.Generator | None = None, losses: list[float] | None = None,
           aside: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Everything a stage's loop needs to go on after ``step`` as if it had never stopped;
    ``aside``: the auxiliary losses by name (``"motion"`` is kept as ``"motion_losses"``)."""
    return {"step": step, "module": module.state_dict(), "optimizers": [each.state_dict() for each in optimizers],
            "ema": ema, "numpy": numpy_state(rng) if rng is not None else None,
            "generator": generator.get_state() if generator is not None else None,
            "torch": torch.get_rng_state(), "losses": list(losses or []),
            **{f"{name}_losses": list(values) for name, values in (aside or {}).items()}}


def _resume(checkpoints: Checkpoints, stage: str, module: torch.nn.Module, optimizers: list[torch.optim.Optimizer],
            ema: dict[str, torch.Tensor] | None, *, log, total: int, rng: np.random.Generator | None = None,
            generator: torch.Generator | None = None, losses: list[float] | None = None,
            aside: dict[str, list[float]] | None = None) -> int:
    """Load the state ``stage`` left in an earlier run of this recipe; returns the step to go on from (0: none)."""
    saved = checkpoints.restore(stage)
    if saved is None:
        return 0
    module.load_state_dict(saved["module"])
    for each, state in zip(optimizers, saved["optimizers"], strict=True):
        each.load_state_dict(state)
    if ema is not None:
        for name, value in saved["ema"].items():
            ema[name].copy_(value)
    if rng is not None:
        set_numpy_state(rng, saved["numpy"])
    if generator is not None:
        generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch"])
    if losses is not None:
        losses[:] = saved["losses"]
    for name, values in (aside or {}).items():
        values[:] = saved.get(f"{name}_losses", [])
    log(f"{stage}: resuming after step {saved['step'] + 1}/{total} from {checkpoints.path(stage)}")
    return saved["step"] + 1


#: Recipe fields added since the first checkpoints and folders were written, at the values that
#: train as the script did before they existed (not their defaults now): a checkpoint, run record
#: or ``training.json`` without one is read with these.
ADDED_FIELDS: dict[str, Any] = {"dit_motion_weight": 0.0, "dit_motion_layer": 3, "clips_on_device": False,
                                "dit_sigma_sampling": "shift", "refine_steps": 0, "refine_clips": 2048,
                                "refine_lr": 2e-4, "refine_warmup": 100, "refine_sigma_sampling": "logit-normal",
                                "dit_occupancy_weight": 0.0, "dit_optimizer": "adamw",
                                "dit_grounding_weight": 0.0, "refine_grounding_weight": 0.0, "vae_spatial": 8}

#: The recipe fields that decide the VAE stage: a stage folder trained with the same ones is
#: the VAE a full run would train, so ``--vae-stage`` can reuse it.
VAE_STAGE_FIELDS = ("seed", "threads", "device",
                    *(name for name in Recipe.__dataclass_fields__ if name.startswith("vae_")))
_STAGE_JSON = "stage.json"


def _kept_vae_stage(folder: Path | None) -> bool:
    """Whether ``folder`` (``--vae-stage``) holds a kept VAE stage, which :func:`vae_stage` reuses
    (or refuses, if another recipe trained it) instead of training one."""
    return folder is not None and (folder / _STAGE_JSON).is_file()


def vae_stage(recipe: Recipe, folder: Path | None, log,
              checkpoints: Checkpoints) -> tuple[torch.nn.Module, dict[str, float]]:
    """Stage 1: the trained VAE and its figures.

    The stage has its own seeds (the VAE's initial weights and its clips), so its result does not
    depend on what runs after it. With ``folder``, a VAE saved there by the same stage recipe is
    loaded instead of trained, and a newly trained one is saved there.
    """
    from diffusers import AutoencoderKLWan

    wanted = {name: getattr(recipe, name) for name in VAE_STAGE_FIELDS}
    if _kept_vae_stage(folder):
        recorded = json.loads((folder / _STAGE_JSON).read_text())
        # A field added since the stage was kept reads as it trained then.
        added = {name: value for name, value in ADDED_FIELDS.items() if name in VAE_STAGE_FIELDS}
        if {**added, **recorded.get("recipe", {})} != wanted:
            raise SystemExit(f"{folder} holds a VAE trained with another recipe ({recorded.get('recipe')}); "
                             "remove it or give another --vae-stage folder")
        log(f"vae: reusing {folder} ({recorded['figures']})")
        return AutoencoderKLWan.from_pretrained(folder).to(recipe.device), recorded["figures"]
    checkpoints.begin("vae")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        vae = build_vae(recipe.vae_spatial).to(recipe.device)
        figures = train_vae(vae, recipe, np.random.default_rng([recipe.seed, 1]), log, checkpoints)
    figures["vae_minutes"] = checkpoints.minutes("vae")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        vae.to("cpu").save_pretrained(folder, safe_serialization=True)
        vae.to(recipe.device)
        (folder / _STAGE_JSON).write_text(json.dumps({"recipe": wanted, "figures": figures}, indent=2) + "\n")
    return vae, figures


def train(out: Path, recipe: Recipe, *, log=print, vae_folder: Path | None = None,
          checkpoints: Checkpoints | None = None) -> dict[str, Any]:
    """Train and save both folders under ``out``; return the training figures.

    ``vae_folder``: where stage 1 is kept and reused (see :func:`vae_stage`); with
    ``checkpoints`` and no ``vae_folder``, stage 1 is kept beside the checkpoints, so that a
    resumed run does not train it again.
    """
    torch.set_num_threads(recipe.threads)
    checkpoints = checkpoints if checkpoints is not None else Checkpoints(None, {})
    if vae_folder is None and checkpoints.folder is not None:
        vae_folder = checkpoints.folder / "vae-stage"
    vae, figures = vae_stage(recipe, vae_folder, log, checkpoints)
    figures.update(machine(recipe))
    checkpoints.done("vae")
    # The transformer stage's minutes include encoding its clips; the dataset's checkpoint comes
    # before the transformer's, so a run stopped in between counts the encoding again.
    checkpoints.begin("transformer")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed + 1)
        tokenizer = build_tokenizer()
        text_encoder = build_text_encoder(len(tokenizer)).to(recipe.device)
        transformer = build_transformer().to(recipe.device)
    components = dict(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                      scheduler=build_scheduler())
    with quiet_transformers():
        pipeline = assemble(components, "t2v")
    latents, captions, masks, motion, objects = _dataset(vae, recipe, checkpoints, log,
                                                         patch=transformer.config.patch_size[1])
    mean = latents.mean(dim=(0, 2, 3, 4))
    std = latents.std(dim=(0, 2, 3, 4)).clamp_min(1e-4)
    vae.register_to_config(latents_mean=mean.tolist(), latents_std=std.tolist())
    normalised = (latents - mean.view(1, -1, 1, 1, 1)) / std.view(1, -1, 1, 1, 1)
    generator = torch.Generator().manual_seed(recipe.seed + 3)
    ema, dit_figures = train_transformer(pipeline, normalised, captions, masks, recipe, generator, log, checkpoints,
                                         motion, keep_last=bool(recipe.refine_steps), objects=objects)
    torch.nn.ModuleDict({"transformer": transformer, "text_encoder": text_encoder}).load_state_dict(ema)
    figures.update(dit_figures, dit_minutes=checkpoints.minutes("transformer"))
    if recipe.refine_steps:
        figures.update(refine_transformer(pipeline, recipe, checkpoints, log, mean=mean, std=std))
    # A reused stage's minutes count too: the figure is what one full run takes.
    figures["minutes"] = _total_minutes(figures)
    for module in (text_encoder, vae, transformer):
        module.to("cpu")
    for kind in ("t2v", "i2v"):
        with quiet_transformers():
            save(assemble(components, kind), out / kind, recipe, figures)
    log(f"saved {out / 't2v'} and {out / 'i2v'} ({figures['minutes']} min of training)")
    checkpoints.done("refine")
    checkpoints.done("transformer")
    checkpoints.done(_DATASET)
    return figures


def probe(recipe: Recipe, stages: tuple[str, ...]) -> dict[str, float]:
    """Seconds here for one step of each phase of ``stages`` (keys of ``STAGE_COUNTS``) and for
    one clip encoded, from throwaway models of ``recipe``'s shapes trained on a few
    clips: one step to warm up, then ``PROBE_STEPS`` timed in each phase (see :mod:`.fit`);
    ``vae_measure``: the VAE stage's measurement at its end, which does not scale. The torch
    (and CUDA) random generators are left as they were, so the run after it is the recipe's."""
    torch.set_num_threads(recipe.threads)
    steps = PROBE_STEPS + 1
    short = replace(recipe, vae_crop_steps=steps, vae_full_steps=steps, dit_steps=2 * steps, dit_short_share=0.5,
                    dit_warmup=1, outpaint_steps=2 * steps, outpaint_short_share=0.5, outpaint_warmup=1,
                    clips=PROBE_CLIPS, outpaint_clips=PROBE_CLIPS)
    quiet = lambda _message: None  # noqa: E731
    seconds: dict[str, float] = {}
    with torch.random.fork_rng(devices=None if torch.device(recipe.device).type == "cuda" else []):
        torch.manual_seed(recipe.seed)
        rng = np.random.default_rng([recipe.seed, 99])
        vae = build_vae(recipe.vae_spatial).to(recipe.device)
        if "vae" in stages:
            times = StepTimes()
            train_vae(vae, short, rng, quiet, times)
            seconds["vae_measure"] = time.perf_counter() - times.ends["vae"][-1]
            seconds["vae_crop"], seconds["vae_full"] = times.phases("vae")

        def encoding_seconds(encode) -> tuple[Any, float]:  # a clip's, the second time (the first warms up)
            encode()
            started = time.perf_counter()
            data = encode()
            return data, (time.perf_counter() - started) / PROBE_CLIPS

        tokenizer = build_tokenizer()
        text_encoder = build_text_encoder(len(tokenizer)).to(recipe.device)
        transformer = build_transformer().to(recipe.device)
        components = dict(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                          scheduler=build_scheduler())
        if "transformer" in stages or "refine" in stages:
            with quiet_transformers():
                pipeline = assemble(components, "t2v")
            patch = transformer.config.patch_size[1]
            data, seconds["encode"] = encoding_seconds(lambda: encode_dataset(vae, short, rng, quiet, patch=patch))
            latents, captions, masks, motion, objects = data
            times = StepTimes()
            train_transformer(pipeline, latents, captions, masks, short, torch.Generator().manual_seed(1), quiet, times,
                              motion, objects=objects)
            seconds["dit_short"], seconds["dit_long"] = times.phases("transformer")
        if "outpaint" in stages:
            components["transformer"] = outpaint_transformer_from(transformer, vae.config.scale_factor_spatial)
            components["transformer"].to(recipe.device)
            components["text_encoder"].eval()
            with quiet_transformers():
                pipeline = assemble(components, "outpaint")
            data, seconds["outpaint_encode"] = encoding_seconds(
                lambda: encode_outpaint_dataset(pipeline, short, rng, quiet))
            times = StepTimes()
            train_outpaint_transformer(pipeline, data, short, torch.Generator().manual_seed(2), quiet, times)
            seconds["outpaint_short"], seconds["outpaint_long"] = times.phases("outpaint")
    return seconds


def fit_recipe(recipe: Recipe, stages: tuple[str, ...], minutes: float, log) -> Recipe:
    """``--fit``: ``recipe`` with the counts of ``stages`` (keys of ``STAGE_COUNTS``) scaled (as
    ``--budget`` scales them) to take about ``minutes`` here, :func:`probe`'s own time included; logs what
    it measured and chose.

    Raises:
        ValueError: the stages cannot be fitted into ``minutes`` (see :func:`.fit.fitted_budget`).
    """
    started = time.perf_counter()
    seconds = probe(recipe, stages)
    took = time.perf_counter() - started
    each = ", ".join(f"{name} {value:.3g}" for name, value in seconds.items())
    log(f"fit: timed in {took:.0f} s (seconds a step or a clip: {each}); these stages take about "
        f"{estimate(recipe, stages, seconds) / 60:.1f} min at budget 1")
    budget = fitted_budget(recipe, stages, minutes * 60 - took, seconds)
    fitted = recipe.scaled(budget, stages)
    log(f"fit: about {estimate(fitted, stages, seconds) / 60:.1f} min at budget {budget:g}, which with the timing "
        f"fits {minutes:g} min")
    return fitted


def machine(recipe: Recipe) -> dict[str, str]:
    """Where a stage trains, for its record and the model card: torch's version and the CPU's
    vector instructions (``cpu_capability``), or the card's name. They decide the weights' last
    bits. Stages 1-3 record it as is, ``--stage outpaint`` and ``--stage refine`` with their
    prefix, so that a stage run alone on another machine names its own."""
    where = {"torch": torch.__version__}
    if recipe.device == "cpu":
        where["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    else:
        where["device_name"] = torch.cuda.get_device_name(torch.device(recipe.device))
    return where


def _total_minutes(figures: dict[str, Any]) -> float:
    """The minutes one whole run of stages 1-3 takes: the VAE, the transformer and its refine phase."""
    return round(figures["vae_minutes"] + figures["dit_minutes"] + figures.get("refine_minutes", 0), 1)


def refine_transformer(pipeline: Any, recipe: Recipe, checkpoints: Checkpoints, log, *, mean: torch.Tensor,
                       std: torch.Tensor) -> dict[str, float]:
    """The transformer stage's second phase (``recipe.refine_steps``): from the first phase's
    weights (in ``pipeline``, updated in place to this phase's EMA), on ``recipe.refine_clips``
    clips it has not seen, each at its whole length, with noise levels drawn as
    ``recipe.refine_sigma_sampling`` says and a new cosine schedule. Latents are normalised by
    the first phase's ``mean`` and ``std`` (the VAE's config). Returns its figures."""
    checkpoints.begin("refine")
    patch = pipeline.transformer.config.patch_size[1]
    phase = replace(recipe, dit_steps=recipe.refine_steps, dit_lr=recipe.refine_lr, dit_warmup=recipe.refine_warmup,
                    dit_short_share=0.0, dit_sigma_sampling=recipe.refine_sigma_sampling,
                    dit_grounding_weight=recipe.refine_grounding_weight, clips=recipe.refine_clips)
    # Encoded again when a run resumes in this phase: a few minutes, against keeping them.
    rng = np.random.default_rng([recipe.seed, 6])
    latents, captions, masks, motion, objects = encode_dataset(pipeline.vae, phase, rng, log, patch=patch)
    normalised = (latents - mean.view(1, -1, 1, 1, 1)) / std.view(1, -1, 1, 1, 1)
    generator = torch.Generator().manual_seed(recipe.seed + 6)
    ema, figures = train_transformer(pipeline, normalised, captions, masks, phase, generator, log, checkpoints,
                                     motion, stage="refine", objects=objects)
    parts = {"transformer": pipeline.transformer, "text_encoder": pipeline.text_encoder}
    torch.nn.ModuleDict(parts).load_state_dict(ema)
    figures = {f"refine_{key}": value for key, value in {**figures, **machine(recipe)}.items()}
    return {**figures, "refine_minutes": checkpoints.minutes("refine")}


_DATASET = "dataset"
_DATASET_PARTS = ("latents", "captions", "masks", "motion", "objects")


def _dataset(vae: torch.nn.Module, recipe: Recipe, checkpoints: Checkpoints | None, log, *, patch: int):
    """:func:`encode_dataset`'s result, kept beside the checkpoints until the transformer stage
    ends, so that a resumed run does not encode its clips again (minutes, for thousands)."""
    saved = checkpoints.restore(_DATASET) if checkpoints is not None else None
    if saved is not None:
        log(f"{_DATASET}: reusing {checkpoints.path(_DATASET)}")
        return tuple(saved.get(part) for part in _DATASET_PARTS)  # a dataset from before "objects" has none
    data = encode_dataset(vae, recipe, np.random.default_rng([recipe.seed, 2]), log, patch=patch)
    if checkpoints is not None and checkpoints.folder is not None:
        checkpoints.write(_DATASET, dict(zip(_DATASET_PARTS, data, strict=True)))
    return data


def filmed_box(rng: np.random.Generator, width: int, height: int) -> tuple[int, int, int, int]:
    """A random "filmed" area (x0, y0, x1, y1) of a ``width`` x ``height`` frame, as plate
    extensions leave it: the sides padded, or the top and bottom, or all four, or one side;
    each pad between a tenth and a third of the frame."""
    low, high = max(1, width // 10), width // 3
    pads = rng.integers(low, high + 1, size=4)  # left, right, top, bottom
    mode = int(rng.integers(4))
    keep = {0: (1, 1, 0, 0), 1: (0, 0, 1, 1), 2: (1, 1, 1, 1), 3: tuple(np.eye(4, dtype=int)[rng.integers(4)])}[mode]
    left, right, top, bottom = (int(p) * k for p, k in zip(pads, keep, strict=True))
    return left, top, width - right, height - bottom


def border_masks(boxes: list[tuple[int, int, int, int]], frames: int, width: int, height: int) -> torch.Tensor:
    """(N, 1, frames, height, width): 1 outside each filmed box (the border to generate)."""
    masks = torch.ones(len(boxes), 1, frames, height, width)
    for mask, (x0, y0, x1, y1) in zip(masks, boxes, strict=True):
        mask[..., y0:y1, x0:x1] = 0.0
    return masks


def normalised(config: Any, latents: torch.Tensor) -> torch.Tensor:
    """VAE latents normalised with the VAE ``config``'s latent mean and std exactly as the Wan
    pipelines do (times 1 / std); the inverse of ``models.context``'s un-normalising."""
    mean = torch.tensor(config.latents_mean).view(1, -1, 1, 1, 1).to(latents.device)
    inverse_std = 1.0 / torch.tensor(config.latents_std).view(1, -1, 1, 1, 1).to(latents.device)
    return (latents.float() - mean) * inverse_std


def vace_context(pipeline: Any, vae: torch.nn.Module, video: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """The context ``WanVACEPipeline`` gives its transformer for ``video`` (N, 3, frames, H, W)
    in [-1, 1] with its border grey (0) and ``masks`` (N, 1, frames, H, W), 1 on the border:
    the normalised latents of the filmed part, of the border, and the mask folded into channels
    (``prepare_video_latents`` and ``prepare_masks``, for a batch; ``vae`` may be a faster copy
    of the pipeline's)."""
    binary = (masks > 0.5).to(video.dtype)
    parts = [normalised(pipeline.vae.config, vae.encode(part).latent_dist.mode())
             for part in (video * (1 - binary), video * binary)]
    # No reference images: an empty list each, as the pipeline's call passes them.
    folded = torch.cat([pipeline.prepare_masks(mask[None], [[]]) for mask in binary])
    return torch.cat([*parts, folded.to(parts[0].device)], dim=1)


def encode_outpaint_dataset(pipeline: Any, recipe: Recipe, rng: np.random.Generator, log):
    """Stage 4's data: clean latents of ``recipe.outpaint_clips`` clips, their VACE context with
    a random filmed box (:func:`filmed_box`), captions, and the latent loss weights (border
    and objects weighted up)."""
    from sora_vfx.models.cpu import route_conv3d_to_onednn

    encoder = copy.deepcopy(pipeline.vae).eval()
    if recipe.device == "cpu":
        route_conv3d_to_onednn(encoder)
    config = pipeline.vae.config
    temporal, spatial = config.scale_factor_temporal, config.scale_factor_spatial
    width, height = NATIVE_SIZE
    latents, contexts, captions, weights = [], [], [], []
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, recipe.outpaint_clips, 16):
            count = min(16, recipe.outpaint_clips - start)
            video, words, covered, *_ = world_clips(rng, count, NATIVE_FRAMES, recipe.device,
                                                   on_device=recipe.clips_on_device)
            boxes = [filmed_box(rng, width, height) for _ in range(count)]
            masks = border_masks(boxes, NATIVE_FRAMES, width, height).to(recipe.device)
            clean = encoder.encode(video).latent_dist.mode()
            latents.append(normalised(config, clean).cpu())
            contexts.append(vace_context(pipeline, encoder, video * (1 - masks), masks).cpu())
            border = latent_object_mask(masks.cpu(), temporal, spatial).float()
            objects = latent_object_mask(covered.cpu(), temporal, spatial).float()
            plate = recipe.outpaint_plate_weight
            base = plate + (1 + recipe.outpaint_border_weight - plate) * border
            weights.append(base + recipe.dit_object_weight * objects)
            captions += words
    log(f"encoded {recipe.outpaint_clips} outpainting clips in {time.perf_counter() - started:.0f} s")
    return torch.cat(latents), torch.cat(contexts), captions, torch.cat(weights)


def outpaint_transformer_from(base: torch.nn.Module, spatial: int = 8) -> torch.nn.Module:
    """A VACE transformer whose main layers are ``base``'s, for a VAE ``spatial`` times smaller in
    space; each context block starts as a copy of the layer it feeds, its output projection at
    zero, so training starts from ``base``'s pictures exactly."""
    transformer = build_outpaint_transformer(spatial)
    missing, unexpected = transformer.load_state_dict(base.state_dict(), strict=False)
    if unexpected or any(not name.startswith("vace_") for name in missing):
        raise RuntimeError(f"the base transformer does not fit: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for block, layer in zip(transformer.vace_blocks, transformer.config.vace_layers, strict=True):
            source = transformer.blocks[layer]
            for name in ("attn1", "attn2", "norm2", "ffn"):
                getattr(block, name).load_state_dict(getattr(source, name).state_dict())
            block.scale_shift_table.copy_(source.scale_shift_table)
            block.proj_out.weight.zero_()
            block.proj_out.bias.zero_()
    return transformer


def train_outpaint_transformer(pipeline: Any, data, recipe: Recipe, generator: torch.Generator, log,
                               checkpoints: Checkpoints | None = None,
                               ) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """Flow matching as in :func:`train_transformer`, the context given: ``x_t = (1 - s) x_0 + s e``,
    the VACE transformer predicts ``e - x_0`` from ``x_t``, the prompt and the clip's context.
    Like stage 3, the first ``recipe.outpaint_short_share`` of the steps see each clip's first 9
    frames (the causal VAE's latents and the constant mask's are exactly their prefix). The text
    encoder stays as stage 3 left it. Returns the transformer's EMA weights and figures."""
    checkpoints = checkpoints or Checkpoints(None, {})
    latents, contexts, captions, weights = data
    transformer = pipeline.transformer.train()
    optimizer = torch.optim.AdamW(transformer.parameters(), lr=recipe.outpaint_lr, weight_decay=0.01)
    ema = {name: value.detach().clone() for name, value in transformer.state_dict().items()}
    shift = pipeline.scheduler.config.shift
    full_length = latents.shape[2]
    short_steps = round(recipe.outpaint_steps * recipe.outpaint_short_share)
    started, losses = time.perf_counter(), []
    first = _resume(checkpoints, "outpaint", transformer, [optimizer], ema, generator=generator, losses=losses, log=log,
                    total=recipe.outpaint_steps)
    for step in range(first, recipe.outpaint_steps):
        for group in optimizer.param_groups:
            group["lr"] = recipe.outpaint_lr * _cosine(step, recipe.outpaint_steps, recipe.outpaint_warmup)
        single = torch.rand(1, generator=generator).item() < recipe.outpaint_single_frame_share
        frames = 1 if single else min(recipe.dit_short_latents, full_length) if step < short_steps else full_length
        batch = flow_batch(latents, captions, frames=frames, size=recipe.outpaint_batch,
                           empty_share=recipe.outpaint_empty_caption_share, shift=shift, generator=generator,
                           device=recipe.device)
        context = contexts[batch.index, :, :frames].to(recipe.device)
        weight = weights[batch.index, :, :frames].to(recipe.device)
        with torch.no_grad():
            embeds = pipeline._get_t5_prompt_embeds(prompt=batch.words, max_sequence_length=MAX_TOKENS,
                                                    device=recipe.device)
        predicted = transformer(hidden_states=batch.noisy, timestep=batch.sigma * 1000, encoder_hidden_states=embeds,
                                control_hidden_states=context, return_dict=False)[0]
        losses.append(_learn(transformer, [optimizer], ema, recipe.ema, weight, predicted, batch.noise - batch.clean))
        if step % 200 == 0 or step == recipe.outpaint_steps - 1:
            log(f"outpaint {step + 1}/{recipe.outpaint_steps}: loss {np.mean(losses[-200:]):.4f}, "
                f"{time.perf_counter() - started:.0f} s")
        checkpoints.step("outpaint", lambda step=step: _state(step, transformer, [optimizer], ema, generator=generator,
                                                              losses=losses), last=step == recipe.outpaint_steps - 1)
    transformer.eval()
    return ema, {"outpaint_final_loss": round(float(np.mean(losses[-200:])), 4)}


def train_outpaint(out: Path, recipe: Recipe, *, log=print, checkpoints: Checkpoints | None = None) -> dict[str, Any]:
    """Stage 4: train ``DIR/outpaint`` from the ``DIR/t2v`` that stages 1-3 of ``recipe`` made.

    Raises:
        SystemExit: ``DIR/t2v`` is missing or was trained with another recipe.
    """
    from diffusers import WanPipeline

    base = out / "t2v"
    recorded = _t2v_record(base, "start outpainting from")
    # The fields stages 1-3 use: those the folder records (a field added since, as it trained then),
    # less this stage's own.
    base_recipe = {key: value for key, value in {**ADDED_FIELDS, **recorded["recipe"]}.items()
                   if not key.startswith("outpaint_")}
    if base_recipe != {key: value for key, value in asdict(recipe).items() if key in base_recipe}:
        raise SystemExit(f"{base} was trained with another recipe ({recorded['recipe']}); train it again first")
    torch.set_num_threads(recipe.threads)
    with quiet_transformers(), quiet_progress_bars():
        t2v = WanPipeline.from_pretrained(base, local_files_only=True, use_safetensors=True)
    checkpoints = checkpoints if checkpoints is not None else Checkpoints(None, {})
    checkpoints.begin("outpaint")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed + 10)
        transformer = outpaint_transformer_from(t2v.transformer, t2v.vae.config.scale_factor_spatial).to(recipe.device)
    components = dict(tokenizer=t2v.tokenizer, text_encoder=t2v.text_encoder.to(recipe.device).eval(),
                      vae=t2v.vae.to(recipe.device).eval(), transformer=transformer, scheduler=t2v.scheduler)
    with quiet_transformers():
        pipeline = assemble(components, "outpaint")
    data = encode_outpaint_dataset(pipeline, recipe, np.random.default_rng([recipe.seed, 4]), log)
    generator = torch.Generator().manual_seed(recipe.seed + 11)
    ema, figures = train_outpaint_transformer(pipeline, data, recipe, generator, log, checkpoints)
    transformer.load_state_dict(ema)
    figures["outpaint_minutes"] = checkpoints.minutes("outpaint")
    figures.update({f"outpaint_{key}": value for key, value in machine(recipe).items()})
    for module in (pipeline.text_encoder, pipeline.vae, transformer):
        module.to("cpu")
    save(pipeline, out / "outpaint", recipe, {**recorded["figures"], **figures})
    log(f"saved {out / 'outpaint'} ({figures['outpaint_minutes']} min of training)")
    checkpoints.done("outpaint")
    return figures


def refine_folder(out: Path, recipe: Recipe, *, log=print, checkpoints: Checkpoints | None = None) -> None:
    """``--stage refine``: the transformer stage's second phase (:func:`refine_transformer`) on a
    ``DIR/t2v`` that the first phase of ``recipe`` made (the same recipe with ``refine_steps``
    0), then ``DIR/t2v`` and ``DIR/i2v`` saved again: the folders a whole run of ``recipe`` gives,
    without training the first phase again. A folder this recipe refined already is left as is.

    Raises:
        SystemExit: ``recipe`` has no refine phase; ``DIR/t2v`` is missing, was trained with
            another recipe, or was refined by another.
    """
    from diffusers import WanPipeline

    if not recipe.refine_steps:
        raise SystemExit("--stage refine: this recipe has no refine phase (refine_steps is 0)")
    base = out / "t2v"
    recorded = _t2v_record(base, "refine")
    fields = {**ADDED_FIELDS, **recorded["recipe"]}
    if fields == asdict(recipe):
        log(f"{base} was refined by this recipe already")
        return
    first_phase = {key: value for key, value in asdict(recipe).items() if not key.startswith(("refine_", "outpaint_"))}
    if fields["refine_steps"] or first_phase != {key: fields.get(key) for key in first_phase}:
        raise SystemExit(f"{base} was not trained by this recipe's first phase ({recorded['recipe']}); "
                         "train it again first")
    torch.set_num_threads(recipe.threads)
    with quiet_transformers(), quiet_progress_bars():
        pipeline = WanPipeline.from_pretrained(base, local_files_only=True, use_safetensors=True)
    checkpoints = checkpoints if checkpoints is not None else Checkpoints(None, {})
    for module in (pipeline.text_encoder, pipeline.vae, pipeline.transformer):
        module.to(recipe.device)
    mean, std = (torch.tensor(pipeline.vae.config[key]) for key in ("latents_mean", "latents_std"))
    figures = {**recorded["figures"], **refine_transformer(pipeline, recipe, checkpoints, log, mean=mean, std=std)}
    figures["minutes"] = _total_minutes(figures)
    for module in (pipeline.text_encoder, pipeline.vae, pipeline.transformer):
        module.to("cpu")
    _save_loaded(pipeline, out, ("t2v", "i2v"), recipe, figures)
    log(f"saved {out / 't2v'} and {out / 'i2v'}, refined ({figures['refine_minutes']} min)")
    checkpoints.done("refine")


def _t2v_record(base: Path, purpose: str) -> dict[str, Any]:
    """``base/training.json`` of a trained text-to-video folder: its recipe and figures.

    Raises:
        SystemExit: no such folder, or no readable record in it.
    """
    try:
        recorded = json.loads((base / "training.json").read_text())
        if not isinstance(recorded["recipe"], dict) or not isinstance(recorded["figures"], dict):
            raise TypeError("its recipe and figures are not tables")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"{base}: no trained text-to-video model to {purpose} ({exc})") from None
    return recorded


def save_i2v(out: Path, *, log=print) -> None:
    """``DIR/i2v`` from ``DIR/t2v``: the same weights, as the first-frame
    ``WanImageToVideoPipeline`` (what stage 3 saves beside ``t2v``). For a ``t2v`` folder brought
    back alone, as ``benchmarks/gpu_shapes.sh`` does to keep its archives small.

    Raises:
        SystemExit: ``DIR/t2v`` is missing or holds no training record.
    """
    from diffusers import WanPipeline

    base = out / "t2v"
    recorded = _t2v_record(base, "make the image-to-video folder from")
    try:
        recipe = Recipe(**{**ADDED_FIELDS, **recorded["recipe"]})
    except (TypeError, ValueError) as exc:  # a field this script does not have, or a value it refuses
        raise SystemExit(f"{base}: a recipe this script cannot train ({exc})") from None
    with quiet_transformers(), quiet_progress_bars():
        t2v = WanPipeline.from_pretrained(base, local_files_only=True, use_safetensors=True)
    _save_loaded(t2v, out, ("i2v",), recipe, recorded["figures"])
    log(f"saved {out / 'i2v'} from {base}")


def _save_loaded(pipeline: Any, out: Path, kinds: tuple[str, ...], recipe: Recipe, figures: dict[str, Any]) -> None:
    """:func:`save` the components of a pipeline loaded from ``DIR/t2v`` as each of ``kinds``
    (``"t2v"``, ``"i2v"``) under ``out``, byte for byte the folders stage 3 saves.
    """
    components = {name: getattr(pipeline, name) for name in ("tokenizer", "text_encoder", "vae", "transformer",
                                                             "scheduler")}
    # A tokenizer loaded and saved again gains the loader's defaults in its config: every folder
    # keeps the tokenizer files stage 2 wrote. Read before saving, as ``t2v`` may be among ``kinds``.
    tokenizer = {path.name: path.read_bytes() for path in (out / "t2v" / "tokenizer").iterdir()}
    for kind in kinds:
        with quiet_transformers():
            save(assemble(components, kind), out / kind, recipe, figures)
        shutil.rmtree(out / kind / "tokenizer")
        (out / kind / "tokenizer").mkdir()
        for name, data in tokenizer.items():
            (out / kind / "tokenizer" / name).write_bytes(data)


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
    # A component loaded from a folder (a reused VAE stage, stage 3's t2v) remembers where it came
    # from; that path would make a run that reuses a stage differ from one that does not.
    for config in folder.glob("*/config.json"):
        fields = json.loads(config.read_text())
        if fields.pop("_name_or_path", None) is not None:
            config.write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
    (folder / SORA_VFX_JSON).write_text(json.dumps(OVERRIDES, indent=2) + "\n")
    (folder / "training.json").write_text(json.dumps({"recipe": asdict(recipe), "figures": figures}, indent=2) + "\n")
    (folder / "README.md").write_text(model_card(type(pipeline).__name__, recipe, figures))


def recipe_flags(recipe: Recipe) -> str:
    """The options of this script that train ``recipe``: ``--recipe gpu`` where it starts from the
    GPU recipe, then ``--seed``, ``--threads``, ``--device`` and a ``--set`` for every other field
    that differs from the recipe it starts from."""
    gpu = recipe.clips_on_device or recipe.device != "cpu"
    base = Recipe.gpu() if gpu else Recipe()
    flags = " --recipe gpu" if gpu else ""
    for name, value in asdict(recipe).items():
        if value == getattr(base, name):
            continue
        flags += f" --{name} {value}" if name in ("seed", "threads", "device") else f" --set {name}={value}"
    return flags


def model_card(pipeline_class: str, recipe: Recipe, figures: dict[str, Any]) -> str:
    """The folder's README.md (``model_card.md`` filled in): what the model is, how it was made,
    what it can and cannot draw. ``benchmarks/quality.py --card`` (``benchmarks/plates.py --card``
    for the outpainting variant) adds the measured figures below the marker line."""
    command = f"python -m sora_vfx.models.shapes.train --out sora_vfx/models/shapes/weights{recipe_flags(recipe)}"
    where = "the project's 2-core CPU machine" if recipe.device == "cpu" else "one CUDA card"
    if "torch" in figures:
        machines = [_machine_words(figures)]
        # A stage run alone (--stage outpaint, --stage refine) on another machine says so.
        for stage in ("refine", "outpaint"):
            own = {key[len(stage) + 1:]: value for key, value in figures.items() if key.startswith(f"{stage}_")}
            if "torch" in own and _machine_words(own) != machines[0]:
                machines.append(f"its {stage} stage on {_machine_words(own)}")
        where += f" ({'; '.join(machines)})"
    variant = _OUTPAINT_CARD if pipeline_class == "WanVACEPipeline" else _BASE_CARD
    values = {"pipeline_class": pipeline_class, "vace_layers": list(VACE_LAYERS),
              "outpaint_minutes": figures.get("outpaint_minutes", "?")}
    muon = {"muon": "(`torch.optim.Muon`, its steps sized as AdamW's)",
            "muon-float32": "(`torch.optim.Muon` with its Newton-Schulz\n   iteration in float32, not "
                            "bfloat16: the same steps, several times faster on a CPU without\n   bfloat16 "
                            "instructions; sized as AdamW's)"}
    if recipe.dit_optimizer == "adamw":
        optimizer = "All the transformer's and the text encoder's weights learn with AdamW"
    else:
        optimizer = ("The weight matrices inside the transformer's and the text encoder's blocks\n"
                     f"   learn with Muon {muon[recipe.dit_optimizer]}, the rest with AdamW")
    parts = {name: Template(text).substitute(values) for name, text in variant.items()}
    template = Template(Path(__file__).with_name("model_card.md").read_text(encoding="utf-8"))
    motion_head = "" if not recipe.dit_motion_weight else f"""
   During training only, a small head on the output of block {recipe.dit_motion_layer} predicts each
   token's screen motion (pixels per frame, from the world's plan), its squared error weighted
   {recipe.dit_motion_weight:g} beside the flow loss, so that the middle of the network has to know
   where things move (as VideoJAM does with optical flow); it is not saved, and the folder keeps
   Wan's plain layout."""
    if recipe.dit_occupancy_weight:
        motion_head += f"""
   The {"same" if recipe.dit_motion_weight else "a"} head predicts which tokens an object touches,
   its logistic loss weighted {recipe.dit_occupancy_weight:g}: the network has to know how many
   objects there are, and where, at every noise level."""
    grounding = """
   {when}, in every block, the cross-attention that each object's words get is pulled
   towards the tokens that object covers (as TokenCompose grounds nouns; weighted {weight:g}), so
   that each object takes its colour and motion from its own clause of the caption."""
    if recipe.dit_grounding_weight:
        motion_head += grounding.format(when="Throughout", weight=recipe.dit_grounding_weight)
    levels = ("logit-normal (SD3's: most near the middle, where the layout settles)"
              if recipe.refine_sigma_sampling == "logit-normal" else f"with shift {recipe.dit_sigma_shift:g}")
    refine = "" if not recipe.refine_steps else f"""
   A refine phase then goes on from those weights for {recipe.refine_steps} steps more, on
   {recipe.refine_clips} clips it has not seen, each at its whole length, with noise levels drawn
   {levels} and a new cosine schedule from a learning rate of {recipe.refine_lr:g}."""
    if recipe.refine_steps and recipe.refine_grounding_weight:
        refine += grounding.format(when="In this phase", weight=recipe.refine_grounding_weight)
    return template.substitute(
        parts, pipeline_class=pipeline_class, optimizer=optimizer, motion_head=motion_head, refine=refine,
        width=NATIVE_SIZE[0], height=NATIVE_SIZE[1], frames=NATIVE_FRAMES, spatial=recipe.vae_spatial,
        command=command, where=where, minutes=figures.get("minutes", "?"),
        rows="\n".join(f"| {key} | {value} |" for key, value in asdict(recipe).items()),
        done="\n".join(f"| {key} | {value} |" for key, value in figures.items()))


def _machine_words(figures: dict[str, Any]) -> str:
    """``AVX2, torch 2.13.0+cpu``: the machine a record's :func:`machine` figures name."""
    return f"{figures.get('cpu_capability', figures.get('device_name', 'CUDA'))}, torch {figures['torch']}"


#: The paragraphs of ``model_card.md`` that differ between the text-to-video and image-to-video
#: folders and the outpainting one.
_BASE_CARD = {
    "use": """It is the built-in model of sora_vfx (`--model shapes`; shots with a reference image use
the image-to-video twin `shapes-i2v`), so that renders, tests and benchmarks can measure what
each render feature does to a picture.""",
    "extra_stage": "",
    "fields": "`minutes` is the sum of both stages as they ran (`vae_minutes`, `dit_minutes`).",
    "marker": "## Measured adherence\n\n<!-- benchmarks/quality.py --card writes below this line -->",
}
_OUTPAINT_CARD = {
    "use": """It is the outpainting variant (`$pipeline_class`, Wan VACE's layout: the transformer with
VACE context blocks beside layers $vace_layers), which `sora-vfx extend --model shapes` uses to
fill the border of a plate for the whole shot at once: it is given each frame's filmed
pixels and a mask of the border, and continues the plate's objects, motion and background
into the border.""",
    "extra_stage": """
3. Outpainting (`--stage outpaint` runs it alone on the `t2v` folder of the same recipe): the
   transformer of stage 2 gets VACE context blocks, each a copy of the layer it feeds with its
   output projection at zero (so training starts from the text-to-video model exactly). A fixed
   set of clips, each with a random "filmed" box (the sides, the top and bottom, all four or one
   side padded by a tenth to a third of the frame), is encoded as `WanVACEPipeline` encodes its
   context (filmed latents, border latents, the mask folded into channels); the whole
   transformer then learns flow matching with that context, latent pixels of the border and of
   objects weighted up and filmed ones down (the context holds them), on each clip's first 9
   frames for the first share of the steps, empty captions on half the samples (a plate is often
   extended without a prompt) and single frames on a share (a still plate's border).
   $outpaint_minutes minutes.
""",
    "fields": "`minutes` is stages 1 and 2 as they ran for the `t2v` folder this one starts from.",
    "marker": "## Measured against the truth\n\n<!-- benchmarks/plates.py --card writes below this line -->",
}


#: The folder under ``--out`` where a run keeps its checkpoints and options until it ends.
CHECKPOINTS = "checkpoints"
#: The exit code of a run that stopped itself (``--stop-after``): not finished, resume it.
STOPPED_EXIT = 3


def run_training(out: Path, recipe: Recipe, *, stage: str = "all", vae_folder: Path | None = None,
                 checkpoints: Checkpoints | None = None, resuming: bool = False, log=print) -> None:
    """Stages 1-3 (``stage="all"``, or ``"base"`` alone; ``"refine"``: only the transformer's
    refine phase, see :func:`refine_folder`) then stage 4 (``"all"``, ``"outpaint"``),
    keeping their state in ``checkpoints``.

    ``resuming``: stages 1-3 are not run again when their folders were saved by this recipe and
    left no checkpoint (the run was stopped in stage 4). The checkpoints are removed at the end.

    Raises:
        Stopped: the run's time (``stop_after_seconds``) is up; its state is written.
    """
    if stage in ("all", "base") and not (resuming and _stages_1_to_3_done(out, recipe, checkpoints)):
        train(out, recipe, log=log, vae_folder=vae_folder, checkpoints=checkpoints)
    if stage == "refine":
        refine_folder(out, recipe, log=log, checkpoints=checkpoints)
    if stage in ("all", "outpaint"):
        train_outpaint(out, recipe, log=log, checkpoints=checkpoints)
    if checkpoints is not None and checkpoints.folder is not None:
        shutil.rmtree(checkpoints.folder, ignore_errors=True)


def _stages_1_to_3_done(out: Path, recipe: Recipe, checkpoints: Checkpoints | None) -> bool:
    path = checkpoints.path("transformer") if checkpoints is not None else None
    try:
        recorded = json.loads((out / "t2v" / "training.json").read_text())
    except (OSError, ValueError):
        return False
    return (path is None or not path.exists()) and recorded.get("recipe") == asdict(recipe) and (out / "i2v").is_dir()


def main(argv: list[str] | None = None) -> None:
    """The command line: ``--out DIR [--seed N] [--budget F] ...`` or ``--resume DIR``."""
    parser = argparse.ArgumentParser(prog="python -m sora_vfx.models.shapes.train", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder for t2v/, i2v/ and outpaint/")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="go on with the run that was stopped or killed in DIR, with its recipe and options, "
                             "to the weights a run without interruption gives")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage", choices=("all", "base", "refine", "outpaint", "i2v"), default="all",
                        help="all: every folder; base: DIR/t2v and DIR/i2v only (for trying recipes); "
                             "refine: only the transformer's refine phase, on the DIR/t2v of the same recipe "
                             "without it, saving DIR/t2v and DIR/i2v again; "
                             "outpaint: only DIR/outpaint, from the DIR/t2v of the same recipe; "
                             "i2v: only DIR/i2v, from DIR/t2v (the same weights; no training)")
    parser.add_argument("--budget", type=float, default=1.0, help="scale every stage's steps (1: the shipped model)")
    parser.add_argument("--recipe", choices=("cpu", "gpu"), default="cpu",
                        help="cpu: the shipped model's recipe; gpu: one sized for an H100 or H200 (device cuda, "
                             "clips drawn on the card)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads; the result depends on it (default: the recipe's, 2 for cpu)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: the recipe's); --recipe gpu "
                        "--device cpu rehearses the GPU recipe here")
    parser.add_argument("--vae-stage", type=Path, metavar="DIR",
                        help="keep the trained VAE here, and reuse it when its recipe matches (for trying recipes)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one recipe field, e.g. dit_steps=12000 (for trying recipes)")
    parser.add_argument("--checkpoint-minutes", type=float, default=10.0, metavar="M",
                        help="write the running stage's state to DIR/checkpoints at least this often (default 10)")
    parser.add_argument("--fit", type=float, metavar="MINUTES",
                        help="scale the step and clip counts of the stages this run trains so that they take about "
                             "this long here, timed first on a few steps of each (for a card whose speed is not known)")
    parser.add_argument("--stop-after", type=float, metavar="MINUTES",
                        help=f"stop after this long (--fit's timing included), the state written "
                             f"(exit {STOPPED_EXIT}); go on with --resume DIR")
    args = parser.parse_args(argv)
    begun = time.monotonic()
    recipe_options = [flag for flag, value, default in (
        ("--seed", args.seed, 0), ("--budget", args.budget, 1.0), ("--threads", args.threads, None),
        ("--device", args.device, None), ("--recipe", args.recipe, "cpu"), ("--vae-stage", args.vae_stage, None),
        ("--set", args.set, []), ("--fit", args.fit, None)) if value != default]
    if args.resume is not None:
        chosen = [flag for flag, value, default in (("--out", args.out, None), ("--stage", args.stage, "all"))
                  if value != default] + recipe_options
        if chosen:
            parser.error(f"--resume takes the run's recipe and options from {args.resume / CHECKPOINTS / RUN_JSON}; "
                         f"leave out {', '.join(chosen)}")
        try:
            run = json.loads((args.resume / CHECKPOINTS / RUN_JSON).read_text())
            recipe = Recipe(**{**ADDED_FIELDS, **run["recipe"]})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            parser.error(f"--resume {args.resume}: no run to go on with there ({exc})")
        out, stage = args.resume, run["stage"]
        vae_folder = Path(run["vae_stage"]) if run.get("vae_stage") else None
    else:
        if args.out is None:
            parser.error("give --out DIR (a new run) or --resume DIR (go on with a stopped one)")
        if args.stage == "i2v":
            if recipe_options:
                parser.error(f"--stage i2v takes the recipe of {args.out / 't2v'}; "
                             f"leave out {', '.join(recipe_options)}")
            save_i2v(args.out)
            return
        base = {"seed": args.seed, **({"threads": args.threads} if args.threads is not None else {}),
                **({"device": args.device} if args.device is not None else {})}
        recipe = Recipe.gpu(**base) if args.recipe == "gpu" else Recipe(**base)
        for item in args.set:
            field_name, _, value = item.partition("=")
            if field_name not in Recipe.__dataclass_fields__:
                parser.error(f"--set {item}: no recipe field {field_name!r}")
            kind = type(getattr(recipe, field_name))
            try:
                recipe = Recipe(**{**asdict(recipe), field_name: (value == "True") if kind is bool else kind(value)})
            except ValueError as error:
                parser.error(f"--set {item}: {error}")
        if args.budget != 1.0:
            recipe = recipe.scaled(args.budget)
        out, stage, vae_folder = args.out, args.stage, args.vae_stage
        if (out / CHECKPOINTS).exists():
            parser.error(f"{out / CHECKPOINTS} holds a stopped run: go on with --resume {out}, or remove it to "
                         "start again")
        if args.fit is not None:
            if args.budget != 1.0 or not args.fit > 0:
                parser.error(f"--fit {args.fit:g}: give a number of minutes above 0, and no --budget (it chooses one)")
            stages = STAGES_RUN[stage]
            if _kept_vae_stage(vae_folder):
                stages = tuple(each for each in stages if each != "vae")  # reused, not trained
            try:
                recipe = fit_recipe(recipe, stages, args.fit, lambda message: print(message, flush=True))
            except ValueError as error:
                parser.error(f"--fit {args.fit:g}: {error}")
    run = {"recipe": asdict(recipe), "stage": stage, "vae_stage": str(vae_folder) if vae_folder else None}
    # --stop-after counts from the command's start, the time --fit took included.
    stop_after = None if args.stop_after is None else args.stop_after * 60 - (time.monotonic() - begun)
    checkpoints = Checkpoints(out / CHECKPOINTS, asdict(recipe), run=run, every_seconds=args.checkpoint_minutes * 60,
                              stop_after_seconds=stop_after, defaults=ADDED_FIELDS)

    def log(message: str) -> None:
        print(message, flush=True)

    try:
        run_training(out, recipe, stage=stage, vae_folder=vae_folder, checkpoints=checkpoints,
                     resuming=args.resume is not None, log=log)
    except Stopped as stopped:
        log(str(stopped))
        raise SystemExit(STOPPED_EXIT) from None
    except ModelError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
