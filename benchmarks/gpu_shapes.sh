#!/usr/bin/env bash
# Train the shapes model with the GPU recipe on one H100/H200 and measure it, in one command
# (issue 29; run it on a card after benchmarks/gpu.py). From the repository root:
#
#     OUT=/some/folder bash benchmarks/gpu_shapes.sh          # the device tool sets $OUT
#     OUT=/tmp/rehearsal bash benchmarks/gpu_shapes.sh --rehearse   # here: --fit 6, batches of 8, on the CPU
#     OUT=/some/folder bash benchmarks/gpu_shapes.sh --set dit_occupancy_weight=1   # more options: the training's
#     OUT=/some/folder bash benchmarks/gpu_shapes.sh --set vae_spatial=8   # the CPU model's 4x4 tokens a frame
#
# Writes to $OUT: train.log, quality_t2v.json (benchmarks/quality.py's text-to-video series,
# 60 shots, the same prompts and seeds as the CPU model's figures) and the trained folders as
# two archives under 16 MiB each: t2v.tar and outpaint.tar (its transformer and configs; the
# rest is t2v's). Back here, the three folders again (DIR: where they go):
#
#     tar -C DIR -xf t2v.tar && tar -C DIR -xf outpaint.tar
#     for part in vae text_encoder tokenizer; do cp -r DIR/t2v/$part DIR/outpaint/; done
#     python -m sora_vfx.models.shapes.train --out DIR --stage i2v   # the same weights as t2v
#
# On a lent card, carry .whl (benchmarks/gpu_wheels.sh): benchmarks/gpu_env.sh installs sora_vfx's
# packages from it, as for benchmarks/gpu_run.sh.
set -euo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
# shellcheck source=benchmarks/gpu_env.sh
source benchmarks/gpu_env.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = "--rehearse" ]; then
    shift
    train="--recipe gpu --device cpu --threads 2 --fit 6 --set dit_batch=8 --set vae_batch=4 --set outpaint_batch=8"
    quality="--shots 4"
else
    # --fit: the recipe's counts scaled to 7 minutes on this card, from a few steps of each stage
    # timed first; --stop-after guards the command's limit all the same.
    train="--recipe gpu --fit 7 --stop-after 8.5"
    quality="--shots 60"
fi
# shellcheck disable=SC2086
$python -m sora_vfx.models.shapes.train --out "$work/shapes" $train "$@" 2>&1 | tee "$OUT/train.log"
# shellcheck disable=SC2086
$python benchmarks/quality.py --model "$work/shapes/t2v" $quality --image-shots 0 --long-shots 0 \
    --json "$OUT/quality_t2v.json" 2>&1 | tee -a "$OUT/train.log"
tar -C "$work/shapes" -cf "$OUT/t2v.tar" t2v
tar -C "$work/shapes" -cf "$OUT/outpaint.tar" --exclude=outpaint/vae --exclude=outpaint/text_encoder \
    --exclude=outpaint/tokenizer outpaint
ls -l "$OUT"
