"""Every JSON document sora_vfx publishes, from the real commands, against docs/schemas/.

A change to a document (a key added, removed or retyped) fails here until its schema is
updated and its version bumped (docs/schemas/README.md).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from sora_vfx.cli import main
from sora_vfx.layout import MANIFEST_NAME, REVIEW_FOLDER
from sora_vfx.render.manifest import MANIFEST_VERSION
from tests.conftest import ROOT, SAMPLES
from tests.review.conftest import certificates  # noqa: F401  (a fixture: signed previews for verify)

SCHEMA_DIR = ROOT / "docs" / "schemas"
SCHEMAS = {path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
           for path in sorted(SCHEMA_DIR.glob("*.schema.json"))}
REGISTRY = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in SCHEMAS.values())
EDL = SAMPLES / "sequence_24fps.edl"
#: One shot, no handles, tiny frames, two steps: a render of seconds.
SMALL = ["--handles", "0", "--size", "32x32", "--steps", "2", "--no-review"]


def run(*args: object):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def problems(name: str, document) -> list[str]:
    """What is wrong with ``document`` according to the ``name`` schema, one line per error."""
    validator = Draft202012Validator(SCHEMAS[name], registry=REGISTRY)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"/{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]


def check(name: str, document) -> None:
    found = problems(name, document)
    assert not found, f"{name} document does not match docs/schemas/{name}.schema.json:\n" + "\n".join(found[:20])


def manifest_of(out: Path) -> dict:
    return json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One OpenMP thread: on a busy shared machine two of them wait for each other (see
    tests/plates/conftest.py)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    """``render --json`` of one shot of the sample edit: (OUT, the document)."""
    out = tmp_path_factory.mktemp("schemas") / "out"
    result = run("render", EDL, "-o", out, "--shots", "LHT_0020", *SMALL, "--json")
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_schemas_are_draft_2020_12_with_a_versioned_id():
    assert {"manifest", "shots", "render", "extend", "farm-export", "review", "verify"} <= set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        # The current schema is <name>.schema.json; an older version is kept as <name>.v<N>.schema.json.
        document, _, version = name.partition(".v")
        assert re.fullmatch(rf"urn:sora-vfx:schema:{document}:v{version or '[1-9][0-9]*'}", schema["$id"]), name
    manifest = SCHEMAS["manifest"]
    assert manifest["$id"] == f"urn:sora-vfx:schema:manifest:v{MANIFEST_VERSION}"
    assert manifest["properties"]["version"]["const"] == MANIFEST_VERSION


@pytest.mark.parametrize("args", [
    [EDL],
    [EDL, "--handles", "4", "--start-frame", "101", "--shot-sheet", SAMPLES / "shot_sheet.toml"],
    [SAMPLES / "dissolve_speed_23976.edl", "--fps", "23.976"],
    [SAMPLES / "desert_25fps.otio"],
], ids=["sequence", "shot-sheet", "dissolve-speed", "otio"])
def test_shots_json(args):
    result = run("shots", *args, "--json")
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.stdout)
    assert jobs
    check("shots", jobs)


def test_render_json_and_manifest(rendered):
    out, document = rendered
    check("render", document)
    manifest = manifest_of(out)
    check("manifest", manifest)
    assert [entry["frames"]["pattern"] for entry in manifest["shots"]] == ["LHT_0020/LHT_0020.####.exr"]


def test_conform_only_json_and_manifest_with_a_failed_shot(rendered, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(rendered[0], out)
    result = run("render", EDL, "-o", out, "--shots", "LHT_0020,LHT_0030", *SMALL, "--conform-only", "--json")
    assert result.exit_code == 1, result.output  # LHT_0030 has no frames on disk
    document = json.loads(result.stdout)
    check("render", document)
    manifest = manifest_of(out)
    check("manifest", manifest)
    assert [(entry["name"], entry["status"]) for entry in manifest["shots"]] == [
        ("LHT_0020", "rendered"), ("LHT_0030", "failed")]


def test_render_on_a_cluster_json(tmp_path):
    """``render --scheduler``: a Dask cluster in this process (no worker processes to start)."""
    distributed = pytest.importorskip("distributed")

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        result = run("render", EDL, "-o", tmp_path / "out", "--shots", "LHT_0020", *SMALL,
                     "--scheduler", cluster.scheduler_address, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    check("render", document)
    assert [worker["shots"] for worker in document["cluster"]["workers"].values()] == [["LHT_0020"]]
    check("manifest", manifest_of(tmp_path / "out"))


def test_extend_json(tmp_path):
    from sora_vfx.imaging import write_exr_frame
    from tests.plates.conftest import gradient

    plates = tmp_path / "plates"
    plates.mkdir()
    for index, frame in enumerate((1001, 1002)):
        write_exr_frame(plates / f"bg.{frame}.exr", gradient(48, 32, seed=index),
                        attributes={"timeCode": f"01:00:00:{index:02d}", "framesPerSecond": Fraction(24)})
    out = tmp_path / "out"
    (out / "bg_ext.1002.exr").mkdir(parents=True)  # a folder where a frame should go: one failed frame
    args = ["extend", plates / "bg.####.exr", "-o", out, "--pad", "8,8,0,4", "--steps", "2", "--work-size", "64x48",
            "--json"]
    failed = run(*args)
    assert failed.exit_code == 1, failed.output
    check("extend", json.loads(failed.stdout))
    (out / "bg_ext.1002.exr").rmdir()
    resumed = run(*args)
    assert resumed.exit_code == 0, resumed.output
    document = json.loads(resumed.stdout)
    check("extend", document)
    assert (document["status"], document["written"], document["kept"]) == ("extended", 1, 1)


def test_farm_export_json(tmp_path):
    pytest.importorskip("openjd.model")
    result = run("farm", "export", EDL, "-o", tmp_path / "bundle", "--handles", "0", "--size", "32x32", "--steps", "2",
                 "--shot-sheet", SAMPLES / "shot_sheet.toml", "--json")
    assert result.exit_code == 0, result.output
    check("farm-export", json.loads(result.stdout))


def test_review_and_verify_json(rendered, tmp_path, certificates):  # noqa: F811
    from PIL import Image

    out = tmp_path / "out"
    shutil.copytree(rendered[0], out)
    result = run("review", out, "--certificate", certificates.chain, "--key", certificates.key, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    check("review", document)
    assert document["signed"] is True
    review = out / REVIEW_FOLDER
    shot = document["shots"][0]
    signed = [review / shot["movie"], review / shot["thumbnails"][0]["file"], Path(document["edit_movie"])]
    for path in signed:
        verified = run("verify", path, "--trust-anchors", certificates.root, "--json")
        assert verified.exit_code == 0, verified.output
        check("verify", json.loads(verified.stdout))
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.jpg")
    unsigned = run("verify", tmp_path / "plain.jpg", "--json")
    assert unsigned.exit_code == 1, unsigned.output
    assert json.loads(unsigned.stdout)["manifest"] is False
    check("verify", json.loads(unsigned.stdout))


def test_review_json_of_a_failed_shot(rendered, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(rendered[0], out)
    manifest = manifest_of(out)
    error = "[Errno 28] No space left on device"
    manifest["shots"][0].update(status="failed", error=error)
    (out / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    result = run("review", out, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    check("review", document)
    failed = document["shots"][0]
    assert (failed["status"], failed["movie"], failed["error"]) == ("failed", None, error)


def test_models_json():
    result = run("models", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    check("models", document)
    assert {"Wan", "LTX-2", "HunyuanVideo 1.5", "SkyReels-V2"} <= {family["name"] for family in document["families"]}


def test_schemas_catch_wrong_documents(rendered):
    out, render_document = rendered
    manifest = manifest_of(out)
    check("manifest", manifest)

    no_pattern = copy.deepcopy(manifest)
    del no_pattern["shots"][0]["frames"]["pattern"]
    assert any("/shots/0/frames" in line and "'pattern' is a required property" in line
               for line in problems("manifest", no_pattern))

    newer = {**manifest, "version": MANIFEST_VERSION + 1}
    assert any(line.startswith("/version:") for line in problems("manifest", newer))

    bad_job = copy.deepcopy(manifest)
    bad_job["shots"][0]["job"]["cut_in"] = "1001"
    bad_job["shots"][0]["spec"]["colour"] = "ACEScg"
    assert {line.split(":")[0] for line in problems("manifest", bad_job)} == {"/shots/0/job/cut_in", "/shots/0/spec"}

    extra_key = {**render_document, "elapsed": 1.0}
    assert problems("render", extra_key) == [
        "/: Additional properties are not allowed ('elapsed' was unexpected)"]

    jobs = [entry["job"] for entry in manifest["shots"]]
    check("shots", jobs)
    assert problems("shots", [{k: v for k, v in jobs[0].items() if k != "tail_out"}]) == [
        "/0: 'tail_out' is a required property"]
