# Sourced by the scripts that run on a GPU machine (benchmarks/gpu_run.sh, gpu_shapes.sh), from the
# repository root: where sora_vfx's packages are missing beside torch (a lent card reaches no
# package index), installs the wheels benchmarks/gpu_wheels.sh put in .whl/ into a folder of
# their own; then puts the checkout on the path.
python=${PYTHON:-python3}
if ! "$python" -c "import diffusers, OpenImageIO, PyOpenColorIO, opentimelineio, pyseq, ftfy" 2>/dev/null; then
    if ! ls .whl/*.whl >/dev/null 2>&1; then
        echo "sora_vfx's packages are missing here and there are no wheels in .whl: run benchmarks/gpu_wheels.sh" \
            "where PyPI is reachable and carry .whl" >&2
        return 1
    fi
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/sora_vfx_site .whl/*.whl || return 1
    export PYTHONPATH=/tmp/sora_vfx_site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
