#!/usr/bin/env bash
# Issue 28's run on a lent card, in one command: sora_vfx's packages from the carried wheels
# (benchmarks/gpu_env.sh), then benchmarks/gpu.py within its budget, each model's folder written
# to the card's own disk and removed after its rows. Results and log to $OUT. From here:
#
#     bash benchmarks/gpu_wheels.sh        # once, where PyPI is reachable: .whl/
#     device run: command "bash benchmarks/gpu_run.sh", carry [".whl"], timeout_s 600
#
# BUDGET (seconds, default 540) bounds the rows; options after the script go to gpu.py, e.g.
# --models hunyuanvideo-1.5-480p,wan2.1-14b --options none,best for the next card.
set -uo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
# shellcheck source=benchmarks/gpu_env.sh
source benchmarks/gpu_env.sh || exit 2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/gpu.log"
"$python" -c "import torch, diffusers; print('torch', torch.__version__, 'diffusers', diffusers.__version__)" \
    2>&1 | tee -a "$OUT/gpu.log"
"$python" benchmarks/gpu.py --budget "${BUDGET:-540}" --folders /tmp/sora_vfx_fullsize --remove-folders \
    --json "$OUT/gpu_results.json" "$@" 2>&1 | tee -a "$OUT/gpu.log"
