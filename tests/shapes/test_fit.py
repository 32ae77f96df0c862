"""``--fit MINUTES``: the training's counts chosen from a few timed steps of each stage, so that
a lent card's minutes end in trained folders."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict

import pytest
import torch

from sora_vfx.models.shapes import train as train_module
from sora_vfx.models.shapes.fit import LEAST_BUDGET, MOST_BUDGET, STAGE_COUNTS, STAGES_RUN, estimate, fitted_budget
from sora_vfx.models.shapes.train import Recipe, main, probe

#: Seconds a step or a clip takes, in the proportions this project's 2-core CPU measured
#: (2026-12-07): the whole CPU recipe comes to about 189 minutes.
CPU_SECONDS = {"vae_measure": 8.0, "vae_crop": 0.48, "vae_full": 1.2, "encode": 0.094, "dit_short": 0.44,
               "dit_long": 0.69, "outpaint_encode": 0.24, "outpaint_short": 0.44, "outpaint_long": 1.08}


def test_the_probe_times_every_phase_of_the_stages_run_and_leaves_the_random_generators_alone():
    before = torch.get_rng_state()
    seconds = probe(Recipe(), STAGES_RUN["all"])
    assert set(seconds) == set(CPU_SECONDS)
    assert all(math.isfinite(value) and value > 0 for value in seconds.values()), seconds
    # The run after the probe draws what it would have drawn without it.
    assert torch.equal(torch.get_rng_state(), before)
    assert set(probe(Recipe(), ("outpaint",))) == {"outpaint_encode", "outpaint_short", "outpaint_long"}


@pytest.mark.parametrize("stage", ["all", "base", "outpaint"])
def test_the_fitted_budget_is_the_largest_that_fits_and_scales_only_the_stages_run(stage):
    recipe, stages = Recipe(), STAGES_RUN[stage]
    whole = estimate(recipe, stages, CPU_SECONDS)
    budget = fitted_budget(recipe, stages, whole / 2, CPU_SECONDS)
    fitted = recipe.scaled(budget, stages)
    assert estimate(fitted, stages, CPU_SECONDS) <= whole / 2
    assert estimate(recipe.scaled(budget + 2e-4, stages), stages, CPU_SECONDS) > whole / 2
    assert 0.45 < budget < 0.55
    scaled = {name for each in stages for name in STAGE_COUNTS[each]}
    for name, value in asdict(fitted).items():
        if name not in scaled:
            assert value == getattr(recipe, name), name  # e.g. --stage outpaint keeps the t2v folder's recipe
    assert fitted.outpaint_steps != recipe.outpaint_steps or stage == "base"


def test_the_whole_cpu_recipe_is_estimated_past_issue_29s_150_minutes_and_fitted_to_them():
    recipe, stages = Recipe(), STAGES_RUN["all"]
    assert 185 < estimate(recipe, stages, CPU_SECONDS) / 60 < 195
    budget = fitted_budget(recipe, stages, 150 * 60, CPU_SECONDS)
    assert 0.75 < budget < 0.82
    assert fitted_budget(recipe, stages, 1e9, CPU_SECONDS) == MOST_BUDGET
    with pytest.raises(ValueError, match=f"even at budget {LEAST_BUDGET}"):
        fitted_budget(recipe, stages, 5, CPU_SECONDS)


def test_fit_on_the_command_line_records_a_recipe_that_the_card_trains_again(tmp_path, monkeypatch, capsys):
    # Timing is the probe's test above; here its seconds are the CPU's times 3 so that two minutes
    # come to a smoke budget whatever the load on this machine.
    slow = {name: value * 3 for name, value in CPU_SECONDS.items()}
    monkeypatch.setattr(train_module, "probe", lambda recipe, stages: slow)
    main(["--out", str(tmp_path / "fitted"), "--fit", "2", "--stage", "base"])
    said = capsys.readouterr().out
    budget = float(re.search(r"at budget ([0-9.]+), which with the timing fits 2 min", said).group(1))
    assert budget == fitted_budget(Recipe(), STAGES_RUN["base"], 120, slow) and 0.001 < budget < 0.01
    recorded = json.loads((tmp_path / "fitted" / "t2v" / "training.json").read_text())["recipe"]
    assert recorded == asdict(Recipe().scaled(budget, STAGES_RUN["base"]))
    assert recorded["outpaint_steps"] == Recipe().outpaint_steps  # not trained, not scaled
    # The card's command names the fitted counts; without --fit it trains the same recipe.
    card = (tmp_path / "fitted" / "t2v" / "README.md").read_text()
    command = card.split("`python -m sora_vfx.models.shapes.train ")[1].split("`")[0]
    assert f"--set dit_steps={recorded['dit_steps']}" in command and "--fit" not in command
    seen = []
    monkeypatch.setattr(train_module, "run_training", lambda out, recipe, **_: seen.append(recipe))
    main(["--out", str(tmp_path / "again"), *command.split()[2:], "--stage", "base"])
    assert asdict(seen[0]) == recorded


@pytest.mark.parametrize("options, message", [
    (["--fit", "0.01"], "--fit 0.01: even at budget 0.001"),
    (["--fit", "2", "--budget", "0.5"], "no --budget"),
    (["--fit", "-1"], "above 0"),
])
def test_a_fit_that_cannot_be_met_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys, options,
                                                                        message):
    monkeypatch.setattr(train_module, "probe", lambda recipe, stages: CPU_SECONDS)
    with pytest.raises(SystemExit) as refused:
        main(["--out", str(tmp_path / "out"), *options])
    assert refused.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_fit_is_refused_with_resume_and_with_stage_i2v(tmp_path, capsys):
    for options in (["--resume", str(tmp_path)], ["--out", str(tmp_path), "--stage", "i2v"]):
        with pytest.raises(SystemExit) as refused:
            main([*options, "--fit", "5"])
        assert refused.value.code == 2 and "--fit" in capsys.readouterr().err


def test_a_kept_vae_stage_is_reused_not_timed_nor_scaled(tmp_path, monkeypatch):
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "stage.json").write_text("{}")  # what --vae-stage looks for; its recipe is checked later
    timed, trained = [], []
    monkeypatch.setattr(train_module, "probe", lambda recipe, stages: timed.append(stages) or CPU_SECONDS)
    monkeypatch.setattr(train_module, "run_training", lambda out, recipe, **_: trained.append(recipe))
    main(["--out", str(tmp_path / "out"), "--fit", "60", "--stage", "base", "--vae-stage", str(tmp_path / "stage")])
    assert timed == [("transformer", "refine")]
    assert trained[0].vae_crop_steps == Recipe().vae_crop_steps and trained[0].dit_steps < Recipe().dit_steps
