"""``sora-vfx publish`` against a real Kitsu server (zou on PostgreSQL and Redis, on loopback):
shots registered with their frames and cut, one version per shot recognised by its job hash,
clean errors when the tracker is down or refuses the credentials, and a retry that completes a
publish that failed part-way."""

from __future__ import annotations

import json
import shutil

import gazu
import pytest
import requests
from click.testing import CliRunner

from sora_vfx.cli.main import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.errors import SoraVfxError
from sora_vfx.publish import publish_render
from sora_vfx.publish.kitsu import KitsuTracker
from sora_vfx.render import RenderSettings, read_manifest, render_edit
from sora_vfx.review import ReviewSettings, build_review
from tests.conftest import SAMPLES
from tests.test_schemas import check

EDL = SAMPLES / "sequence_24fps.edl"


def environment(kitsu, **changes):
    values = {"SORA_VFX_KITSU_URL": kitsu.url, "SORA_VFX_KITSU_EMAIL": kitsu.email,
              "SORA_VFX_KITSU_PASSWORD": kitsu.password}
    return {**values, **changes}


def publish(kitsu, out, project, *args, **env):
    return CliRunner().invoke(main, ["publish", str(out), "--project", project, "--json", *args],
                              env=environment(kitsu, **env))


def client(kitsu):
    connection = gazu.client.create_client(kitsu.url)
    gazu.log_in(kitsu.email, kitsu.password, client=connection)
    return connection


def versions(kitsu, project: str, sequence: str = "sequence_24fps") -> dict[str, list[dict]]:
    """Each shot's version comments, oldest first."""
    c = client(kitsu)
    project = gazu.project.get_project_by_name(project, client=c)
    found = gazu.shot.get_sequence_by_name(project, sequence, client=c)
    result = {}
    for shot in gazu.shot.all_shots_for_sequence(found, client=c):
        comments = [comment for task in gazu.task.all_tasks_for_shot(shot, client=c)
                    for comment in gazu.task.all_comments_for_task(task, client=c)]
        result[shot["name"]] = sorted(comments, key=lambda comment: comment["created_at"])
    return result


def test_shots_and_versions_arrive_once(kitsu, copy):
    result = publish(kitsu, copy, "SORA_PUBLISH")
    assert result.exit_code == 0, result.output
    check("publish", json.loads(result.stdout))
    assert [(s["name"], s["result"]) for s in json.loads(result.stdout)["shots"]] == [
        ("LHT_0010", "added"), ("LHT_0020", "added"), ("LHT_0030", "added"), ("LHT_0040", "added")]
    manifest = read_manifest(copy)
    c = client(kitsu)
    project = gazu.project.get_project_by_name("SORA_PUBLISH", client=c)
    sequence = gazu.shot.get_sequence_by_name(project, "sequence_24fps", client=c)
    for entry in manifest.shots:
        shot = gazu.shot.get_shot_by_name(sequence, entry.name, client=c)
        assert shot["description"] == entry.spec.prompt
        assert shot["nb_frames"] == entry.frames.count
        data = shot["data"]
        assert (data["frame_in"], data["frame_out"]) == (entry.frames.first, entry.frames.last)
        assert data["frame_in"] == 1001
        assert (data["cut_in"], data["cut_out"], data["handles"]) == (entry.frames.cut_in, entry.frames.cut_out, 2)
        assert data["record_in"] == entry.record_in
    published = versions(kitsu, "SORA_PUBLISH")
    for entry in manifest.shots:
        [comment] = published[entry.name]
        text = comment["text"]
        assert f"job_hash: {entry.job_hash}" in text and f"seed: {entry.seed}" in text and "model: tiny" in text
        assert f"frames: {(copy / entry.name / f'{entry.name}.####.exr').resolve()}" in text
        [preview] = comment["previews"]
        assert preview["extension"] == "mp4" and preview["original_name"] == entry.name
    # The same render again adds nothing.
    again = publish(kitsu, copy, "SORA_PUBLISH")
    assert again.exit_code == 0, again.output
    assert {s["result"] for s in json.loads(again.stdout)["shots"]} == {"unchanged"}
    assert {name: len(comments) for name, comments in versions(kitsu, "SORA_PUBLISH").items()} == {
        entry.name: 1 for entry in manifest.shots}


def test_a_changed_render_adds_a_version(kitsu, copy, tiny_model):
    assert publish(kitsu, copy, "SORA_CHANGED").exit_code == 0
    render_edit(read_edit(EDL, EditOptions(handles=2)), copy,
                RenderSettings(steps=2, size=(32, 32), shots=["LHT_0020"]), model=tiny_model, progress=False)
    build_review(copy, ReviewSettings(), progress=False)
    result = publish(kitsu, copy, "SORA_CHANGED")
    assert result.exit_code == 0, result.output
    assert {s["name"]: s["result"] for s in json.loads(result.stdout)["shots"]} == {
        "LHT_0010": "unchanged", "LHT_0020": "added", "LHT_0030": "unchanged", "LHT_0040": "unchanged"}
    hashes = [line for comment in versions(kitsu, "SORA_CHANGED")["LHT_0020"]
              for line in comment["text"].splitlines() if line.startswith("job_hash:")]
    assert len(hashes) == 2 and hashes[1] == f"job_hash: {read_manifest(copy).entry('LHT_0020').job_hash}"


def test_a_tracker_that_is_down_or_refuses_fails_cleanly(kitsu, copy):
    down = publish(kitsu, copy, "SORA_DOWN", SORA_VFX_KITSU_URL="http://127.0.0.1:9")
    assert down.exit_code == 2 and "cannot be reached" in down.output and "Traceback" not in down.output
    refused = publish(kitsu, copy, "SORA_REFUSED", SORA_VFX_KITSU_PASSWORD="not-the-password")
    assert refused.exit_code == 2 and "refused the credentials" in refused.output
    assert "not-the-password" not in refused.output
    missing = publish(kitsu, copy, "SORA_MISSING", SORA_VFX_KITSU_PASSWORD="")
    assert missing.exit_code == 2 and "SORA_VFX_KITSU_PASSWORD in the environment" in missing.output
    assert "password" not in CliRunner().invoke(main, ["publish", "--help"]).output.split("Options:")[1].split(
        "--json")[0].replace("SORA_VFX_KITSU_PASSWORD", "")
    c = client(kitsu)
    assert gazu.project.get_project_by_name("SORA_REFUSED", client=c) is None


def test_a_publish_that_failed_part_way_completes_on_retry(kitsu, copy, monkeypatch):
    tracker = KitsuTracker(kitsu.url, kitsu.email, kitsu.password, project="SORA_RETRY")
    upload = gazu.task.add_preview
    calls = []

    def connection_drops_on_the_third_movie(*args, **kwargs):
        """The network failing while the third movie uploads (it cannot be made to here)."""
        calls.append(args)
        if len(calls) == 3:
            raise requests.exceptions.ConnectionError("Connection reset by peer")
        return upload(*args, **kwargs)

    monkeypatch.setattr(gazu.task, "add_preview", connection_drops_on_the_third_movie)
    with pytest.raises(SoraVfxError, match="cannot be reached"):
        publish_render(copy, tracker)
    monkeypatch.setattr(gazu.task, "add_preview", upload)
    half = versions(kitsu, "SORA_RETRY")
    assert [len(half[name][0]["previews"]) if half[name] else None for name in sorted(half)] == [1, 1, 0, None]
    result = publish(kitsu, copy, "SORA_RETRY")
    assert result.exit_code == 0, result.output
    assert {s["name"]: s["result"] for s in json.loads(result.stdout)["shots"]} == {
        "LHT_0010": "unchanged", "LHT_0020": "unchanged", "LHT_0030": "added", "LHT_0040": "added"}
    complete = versions(kitsu, "SORA_RETRY")
    # The comment the failure left without its movie got the movie; no second comment.
    assert {name: [len(c["previews"]) for c in comments] for name, comments in complete.items()} == {
        "LHT_0010": [1], "LHT_0020": [1], "LHT_0030": [1], "LHT_0040": [1]}


def test_nothing_to_publish_is_said_before_the_tracker_is_asked(kitsu, copy):
    shutil.rmtree(copy / "review")
    result = publish(kitsu, copy, "SORA_NOREVIEW", SORA_VFX_KITSU_URL="http://127.0.0.1:9")
    assert result.exit_code == 2 and "run `sora-vfx review" in result.output
    empty = publish(kitsu, copy.parent / "nothing", "SORA_NOREVIEW")
    assert empty.exit_code == 2 and "no manifest.json" in empty.output
