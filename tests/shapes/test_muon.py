"""``dit_optimizer="muon-float32"``: torch's Muon with its orthogonalisation in float32."""

from __future__ import annotations

import pytest
import torch

from sora_vfx.models.shapes.train import PrecisionMuon, Recipe, _newton_schulz


def run(optimizer_class, steps: int = 3, **options) -> list[torch.Tensor]:
    """Three steps on a tall and a wide matrix with a fixed loss; the weights after them."""
    generator = torch.Generator().manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(12, 5, generator=generator)),
               torch.nn.Parameter(torch.randn(4, 9, generator=generator))]
    targets = [torch.randn(w.shape, generator=generator) for w in weights]
    optimizer = optimizer_class(weights, lr=0.02, weight_decay=0.01, adjust_lr_fn="match_rms_adamw", **options)
    for _ in range(steps):
        optimizer.zero_grad()
        sum(((w - t) ** 2).sum() for w, t in zip(weights, targets, strict=True)).backward()
        optimizer.step()
    return [w.detach().clone() for w in weights]


def test_in_bfloat16_it_takes_torchs_muon_steps_bit_for_bit():
    torchs = run(torch.optim.Muon)
    ours = run(PrecisionMuon, ns_dtype=torch.bfloat16)
    assert all(torch.equal(a, b) for a, b in zip(torchs, ours, strict=True))


def test_in_float32_it_orthogonalises_closer_and_steps_nearly_alike():
    matrix = torch.randn(24, 10, generator=torch.Generator().manual_seed(1))
    for dtype in (torch.bfloat16, torch.float32):
        result = _newton_schulz(matrix, (3.4445, -4.7750, 2.0315), 5, 1e-7, dtype)
        assert result.dtype == dtype and result.shape == matrix.shape
    # Muon's quintic leaves singular values roughly in (0.5, 1.5), in either precision.
    singular = torch.linalg.svdvals(_newton_schulz(matrix, (3.4445, -4.7750, 2.0315), 5, 1e-7, torch.float32))
    assert singular.min() > 0.5 and singular.max() < 1.5
    torchs = run(torch.optim.Muon)
    ours = run(PrecisionMuon, ns_dtype=torch.float32)
    assert any(not torch.equal(a, b) for a, b in zip(torchs, ours, strict=True))  # other rounding
    assert all(torch.allclose(a, b, atol=2e-3) for a, b in zip(torchs, ours, strict=True))


def test_the_recipe_names_it_and_refuses_other_optimisers():
    assert Recipe(dit_optimizer="muon-float32").dit_optimizer == "muon-float32"
    with pytest.raises(ValueError, match="dit_optimizer is muon, muon-float32 or adamw, not 'sgd'"):
        Recipe(dit_optimizer="sgd")
