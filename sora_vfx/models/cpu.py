"""CPU execution: send 3D convolutions to oneDNN.

PyTorch runs a float32 CPU convolution through oneDNN (``mkldnn_convolution``) only when a
heuristic written for 2D images says it pays: a batch above 1, kernels wider than 3, groups,
or more than 20,480 values in the input's first four dimensions. A video VAE decodes one
latent frame at a time, batch 1, with 3x3x3 kernels, so each convolution with fewer than
20,480 channels x frames x rows falls to ``slow_conv3d`` (im2col + GEMM), which is several
times slower for small channel counts; small VAEs (the built-in models, previews) spend most
of their decode there. Full-size VAEs mostly pass the heuristic already, so they change
little. The figures are in benchmarks/README.md.

The two paths round differently, so a few half-float pixel values move by one unit in their
last place against a stock diffusers loop (tested). oneDNN's results do not depend on
the thread count, so a farm node and a workstation still write the same pixels.
``SORA_VFX_CPU_CONV=native`` keeps PyTorch's own choice (pixels identical to a stock
diffusers loop).
"""

from __future__ import annotations

import logging
import os
import types

import torch

log = logging.getLogger("sora_vfx")

ENV_VAR = "SORA_VFX_CPU_CONV"
_CHOICES = ("onednn", "native")


def conv_backend() -> str:
    """``onednn`` (default) or ``native``, from ``$SORA_VFX_CPU_CONV``."""
    value = os.environ.get(ENV_VAR, "onednn").strip().lower() or "onednn"
    if value not in _CHOICES:
        log.warning("%s=%r is not one of %s; using onednn", ENV_VAR, value, ", ".join(_CHOICES))
        return "onednn"
    return value


def route_conv3d_to_onednn(module: torch.nn.Module) -> int:
    """Make every ``Conv3d`` in ``module`` run through oneDNN on CPU float32 inputs without
    gradients (anything else takes PyTorch's own path). Returns how many were routed."""
    if conv_backend() == "native" or not torch.backends.mkldnn.is_available():
        return 0
    routed = 0
    for conv in module.modules():
        if not _routable(conv):
            continue
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            continue  # 'same'/'valid' or padded by the module: leave to PyTorch
        conv._conv_forward = types.MethodType(_onednn_conv_forward, conv)
        routed += 1
    return routed


def _routable(conv: torch.nn.Module) -> bool:
    # Subclasses such as diffusers' causal convolutions pad in forward() and then call
    # Conv3d.forward -> _conv_forward, the part replaced; one that overrides _conv_forward
    # itself is left alone.
    return isinstance(conv, torch.nn.Conv3d) and type(conv)._conv_forward is torch.nn.Conv3d._conv_forward


def _onednn_conv_forward(
    self: torch.nn.Conv3d, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    if (
        input.device.type == "cpu"
        and input.dtype == torch.float32
        and weight.dtype == torch.float32
        and input.dim() == 5
        and not torch.is_grad_enabled()
    ):
        return torch.ops.aten.mkldnn_convolution(
            input, weight, bias, list(self.padding), list(self.stride), list(self.dilation), self.groups
        )
    return torch.nn.Conv3d._conv_forward(self, input, weight, bias)
