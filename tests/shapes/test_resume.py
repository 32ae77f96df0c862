"""A training run stopped part-way (by its own time limit, or killed) and resumed gives the
weights of a run without interruption; its checkpoints go when it ends."""

import itertools
import json
from dataclasses import asdict, replace

import pytest
import torch
from safetensors.torch import load_file

from sora_vfx.models.shapes.checkpoint import RUN_JSON, Checkpoints, Stopped
from sora_vfx.models.shapes.train import ADDED_FIELDS, CHECKPOINTS, Recipe, main, run_training

WEIGHTS = "diffusion_pytorch_model.safetensors"
FOLDERS = (("t2v", "vae"), ("t2v", "transformer"), ("t2v", "text_encoder"), ("outpaint", "transformer"))


def weights(out, kind, component):
    folder = out / kind / component
    return load_file(next(folder.glob("*.safetensors")))


def quiet(_message):
    pass


@pytest.fixture(scope="module")
def recipe():
    # With the motion head, whose state and losses have to come back too; 17 transformer steps,
    # then 7 of the refine phase on 6 clips of its own.
    return replace(Recipe(dit_motion_weight=1.0, refine_steps=2000).scaled(0.003), dit_steps=17)


@pytest.fixture(scope="module")
def whole(tmp_path_factory, recipe):
    out = tmp_path_factory.mktemp("whole")
    run_training(out, recipe, log=quiet)
    return out


def ticking():
    """A clock that moves one second each time it is read: a checkpoint after every step."""
    counter = itertools.count()
    return lambda: float(next(counter))


def test_a_run_stopped_in_each_stage_and_resumed_gives_the_weights_of_a_whole_run(tmp_path, recipe, whole):
    """At the smoke budget the stages take 6, 17 + 6 (the refine phase) and 12 steps: the run
    stops in the VAE stage, then (its clock started again) in each of the transformer's phases,
    then in the outpainting stage."""
    out = tmp_path / "run"
    messages = []
    for stop, stage in ((3, "vae"), (10, "transformer"), (12, "refine"), (12, "outpaint")):
        checkpoints = Checkpoints(out / CHECKPOINTS, asdict(recipe), every_seconds=1,
                                  stop_after_seconds=stop, clock=ticking())
        with pytest.raises(Stopped, match=f"in stage {stage};"):
            run_training(out, recipe, checkpoints=checkpoints, resuming=True, log=messages.append)
        assert list((out / CHECKPOINTS).glob("*.pt")), "a stopped run leaves its state"
    run_training(out, recipe, checkpoints=Checkpoints(out / CHECKPOINTS, asdict(recipe)), resuming=True,
                 log=messages.append)
    for stage in ("vae", "transformer", "refine", "outpaint"):
        assert any(message.startswith(f"{stage}: resuming after step") for message in messages), stage
    # The run stopped in the refine phase went on from there, not from the first phase's middle.
    assert "transformer: resuming after step 17/17" in " ".join(messages)
    # The transformer stage's encoded clips were kept, not encoded again.
    assert any(message.startswith("dataset: reusing") for message in messages)
    for kind, component in FOLDERS:
        a, b = weights(whole, kind, component), weights(out, kind, component)
        assert a.keys() == b.keys()
        assert all(torch.equal(a[name], b[name]) for name in a), (kind, component)
    def losses(run):
        figures = json.loads((run / "t2v" / "training.json").read_text())["figures"]
        return figures["final_loss"], figures["final_motion_loss"]

    assert losses(out) == losses(whole)
    assert not (out / CHECKPOINTS).exists()


def test_the_command_line_stops_resumes_and_refuses_what_would_mix_runs(tmp_path, capsys):
    out = tmp_path / "run"
    smoke = ["--budget", "0.003", "--checkpoint-minutes", "0"]
    with pytest.raises(SystemExit) as stopped:
        main(["--out", str(out), *smoke, "--stop-after", "0"])
    assert stopped.value.code == 3 and "--resume" in capsys.readouterr().out
    run = json.loads((out / CHECKPOINTS / RUN_JSON).read_text())
    assert run["stage"] == "all" and run["recipe"]["dit_steps"] == Recipe().scaled(0.003).dit_steps
    # A new run into the folder of a stopped one would silently go on with it, or throw it away.
    with pytest.raises(SystemExit):
        main(["--out", str(out), *smoke])
    assert "holds a stopped run" in capsys.readouterr().err
    # The recipe is the run's: resuming with another is refused.
    with pytest.raises(SystemExit):
        main(["--resume", str(out), "--budget", "0.01"])
    assert "leave out --budget" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--resume", str(tmp_path / "nothing")])
    assert "no run to go on with" in capsys.readouterr().err
    main(["--resume", str(out), "--checkpoint-minutes", "0"])
    assert (out / "outpaint" / "transformer" / WEIGHTS).is_file() and not (out / CHECKPOINTS).exists()


def test_a_checkpoint_of_another_recipe_is_refused(tmp_path, recipe):
    folder = tmp_path / CHECKPOINTS
    Checkpoints(folder, {"seed": 0}).write("transformer", {"step": 0})
    with pytest.raises(Exception, match="written by another recipe"):
        Checkpoints(folder, {"seed": 1}).restore("transformer")
    # A field added to the recipe since, at the default that keeps the old behaviour: the same recipe.
    added = {"seed": 0, "clips_on_device": False}
    assert Checkpoints(folder, added, defaults=added).restore("transformer") == {"step": 0}
    with pytest.raises(Exception, match="written by another recipe"):
        Checkpoints(folder, {**added, "clips_on_device": True}, defaults=added).restore("transformer")
    (folder / "vae.pt").write_bytes(b"torn")
    with pytest.raises(Exception, match="not a checkpoint this script can read"):
        Checkpoints(folder, {"seed": 0}).restore("vae")


def test_a_checkpoint_from_before_the_motion_head_resumes_without_it(tmp_path):
    """A checkpoint that does not know ``dit_motion_weight`` was trained without the head: it is
    read as the recipe with the head off, not as today's default (the head on); so with every
    field added since (AdamW, no occupancy head, ...) at the value it trained with then."""
    without_head = asdict(Recipe(**ADDED_FIELDS))
    assert without_head["dit_motion_weight"] == 0.0 and without_head["dit_optimizer"] == "adamw"
    written = {key: value for key, value in without_head.items() if key not in ADDED_FIELDS}
    Checkpoints(tmp_path, written).write("transformer", {"step": 7})
    assert Checkpoints(tmp_path, without_head, defaults=ADDED_FIELDS).restore("transformer") == {"step": 7}
    assert Recipe().dit_motion_weight > 0
    with pytest.raises(Exception, match="written by another recipe"):
        Checkpoints(tmp_path, asdict(Recipe()), defaults=ADDED_FIELDS).restore("transformer")


def test_a_resumed_stage_counts_the_minutes_the_runs_before_it_spent(tmp_path):
    """The model card's minutes are what the stage takes: a run that resumes from a checkpoint
    written 30 minutes into the stage and then trains 12 more says 42, not 12."""
    now = [0.0]
    first = Checkpoints(tmp_path, {"seed": 0}, timer=lambda: now[0])
    first.begin("transformer")
    now[0] = 1800.0
    first.write("transformer", {"step": 100})
    now[0] = 2000.0  # killed here: these 200 seconds are done again by the next run
    second = Checkpoints(tmp_path, {"seed": 0}, timer=lambda: now[0])
    second.begin("transformer")
    assert second.restore("transformer") == {"step": 100}
    now[0] += 720.0
    assert second.minutes("transformer") == 42.0
