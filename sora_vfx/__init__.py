"""sora_vfx: generative shots and plate extensions for the VFX pipeline."""

import logging as _logging
import os as _os

__version__ = "0.1.0"

# torchao (optional: --quantize) is imported by diffusers whenever it is installed; on import it
# logs each optional CUDA kernel it cannot load on this machine, and torch and diffusers add
# notes about it. None of that is actionable (a kernel that is needed fails where it is used),
# so those three loggers only speak on errors.
for _name in ("torchao", "torch.utils._pytree", "diffusers.quantizers.torchao.torchao_quantizer"):
    _logging.getLogger(_name).setLevel(_logging.ERROR)

# Intel MKL picks its matrix kernels by the memory alignment of each operand unless told to be
# reproducible, so the same weights at another address (a memory plan that offloads them, a
# farm node that maps them from disk) can give pixels a few 1e-6 apart. STRICT conditional
# reproducibility keeps them bit-identical at no measured cost (tests/models/test_memory.py).
# It must be set before MKL's first call: a user's own setting wins.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

del _logging, _os, _name
