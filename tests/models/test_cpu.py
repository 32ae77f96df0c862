"""3D convolutions of a loaded model run through oneDNN on the CPU (see sora_vfx.models.cpu)."""

from __future__ import annotations

import logging

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from sora_vfx.models import load_model
from sora_vfx.models.cpu import ENV_VAR, conv_backend, route_conv3d_to_onednn

pytestmark = pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="this torch has no oneDNN")


def _decode_ops(vae: torch.nn.Module, latents: torch.Tensor) -> tuple[torch.Tensor, set[str]]:
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        frames = vae.decode(latents).sample
    return frames, {event.key for event in prof.key_averages()}


@pytest.fixture(scope="module")
def latents() -> torch.Tensor:
    return torch.randn(1, 8, 3, 18, 32, generator=torch.Generator().manual_seed(0))


def test_loaded_vae_decodes_through_onednn(tiny_model, latents, monkeypatch, sora_cache):
    convs = [m for m in tiny_model.pipeline.vae.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and all("_conv_forward" in vars(conv) for conv in convs)
    routed, ops = _decode_ops(tiny_model.pipeline.vae, latents)
    assert "aten::mkldnn_convolution" in ops
    assert "aten::slow_conv3d_forward" not in ops

    monkeypatch.setenv(ENV_VAR, "native")
    native_model = load_model("tiny", device="cpu")
    assert not any("_conv_forward" in vars(m) for m in native_model.pipeline.vae.modules())
    native, ops = _decode_ops(native_model.pipeline.vae, latents)
    assert "aten::slow_conv3d_forward" in ops, "the tiny VAE's convolutions are ones PyTorch runs natively"
    # Same model, other rounding: far below what a half-float EXR keeps.
    torch.testing.assert_close(routed, native, atol=1e-4, rtol=0)


def test_same_pixels_on_one_and_two_threads(tiny_model, latents):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one, _ = _decode_ops(tiny_model.pipeline.vae, latents)
        torch.set_num_threads(2)
        two, _ = _decode_ops(tiny_model.pipeline.vae, latents)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)


def test_gradients_and_other_dtypes_take_pytorchs_path():
    conv = torch.nn.Conv3d(4, 4, 3, padding=1)
    x = torch.randn(1, 4, 3, 8, 8)
    with torch.no_grad():
        expected = torch.nn.functional.conv3d(x, conv.weight, conv.bias, padding=1)
    assert route_conv3d_to_onednn(conv) == 1
    with torch.no_grad():
        torch.testing.assert_close(conv(x), expected, atol=1e-5, rtol=0)
    trained = conv(x.requires_grad_())  # with gradients: PyTorch's own convolution, exactly
    assert trained.grad_fn is not None
    assert torch.equal(trained.detach(), expected)
    with torch.no_grad():
        double = conv.double()(x.detach().double())
    assert double.dtype == torch.float64


def test_padding_modes_that_pytorch_applies_are_left_alone():
    assert route_conv3d_to_onednn(torch.nn.Conv3d(2, 2, 3, padding=1, padding_mode="reflect")) == 0
    assert route_conv3d_to_onednn(torch.nn.Conv3d(2, 2, 3, padding="same")) == 0
    assert route_conv3d_to_onednn(torch.nn.Conv2d(2, 2, 3)) == 0


def test_backend_setting(monkeypatch, caplog):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert conv_backend() == "onednn"
    monkeypatch.setenv(ENV_VAR, "Native")
    assert conv_backend() == "native"
    assert route_conv3d_to_onednn(torch.nn.Conv3d(2, 2, 3)) == 0
    monkeypatch.setenv(ENV_VAR, "cudnn")
    logger = logging.getLogger("sora_vfx")  # the CLI stops it propagating to the root logger
    logger.addHandler(caplog.handler)
    try:
        assert conv_backend() == "onednn"
    finally:
        logger.removeHandler(caplog.handler)
    assert "SORA_VFX_CPU_CONV='cudnn' is not one of onednn, native" in caplog.text
