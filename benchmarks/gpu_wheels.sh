#!/usr/bin/env bash
# Wheels for a GPU machine that has torch but no package index (a lent card; an air-gapped farm
# node): the packages sora_vfx renders with beyond torch, transformers and accelerate, pinned as
# in constraints.txt, for its Python (default 3.12), into .whl/ (ignored by git). From the
# repository root, on a machine that reaches PyPI:
#
#     bash benchmarks/gpu_wheels.sh            # then carry .whl to the card: benchmarks/gpu_env.sh installs them
#     PYTHON_VERSION=3.11 bash benchmarks/gpu_wheels.sh
#
# It prints how much would travel with the working tree (the device tool takes 64 MiB in all).
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
version=${PYTHON_VERSION:-3.12}
pin() {  # the constraints.txt pin of a package, or the one given
    local found
    found=$(grep -i "^$1==" constraints.txt || true)
    echo "${found:-$1${2:+==$2}}"
}
packages=(
    "$(pin diffusers)" "$(pin OpenImageIO)" "$(pin opencolorio)" "$(pin OpenTimelineIO)"
    "$(pin otio-cmx3600-adapter)" "$(pin otio-fcp-adapter)" "$(pin otio-aaf-adapter)" "$(pin pyaaf2)"
    "$(pin pyseq)" "$(pin ftfy)"
    # ftfy's wcwidth (the pure-Python release: the newer one is a 0.8 MB binary), diffusers' importlib_metadata
    wcwidth==0.2.13 importlib_metadata==10.2.0
    # --quantize int8/fp8 (benchmarks/gpu.py's fp8 row)
    torchao==0.18.0
)
rm -rf .whl && mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version "$version" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl "${packages[@]}"
wheels=$(du -cb .whl/*.whl | tail -1 | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
echo "$(ls .whl | wc -l) wheels in .whl: $((wheels / 1048576)) MiB; with the tracked files: $(((wheels + tree) / 1048576)) MiB"
