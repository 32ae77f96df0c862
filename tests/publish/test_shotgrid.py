"""``sora-vfx publish --tracker shotgrid`` against mockgun, the site emulator that ships with
``shotgun_api3``, on a schema made in code (``shotgrid_schema.py``): shots registered with their
cut fields, one Version per shot recognised by its job hash, a retry that completes a publish
that failed part-way, and a site without a field the publish needs.

mockgun does not emulate the movie upload (its ``upload`` raises NotImplementedError): ``Site``
below does what a site does with one (the file, as an Attachment, linked from the field); the
upload's HTTP request itself is not exercised. A site that is down or refuses the key is played
through the real client: nothing listening, and a loopback server answering as a site that
refuses the script."""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from shotgun_api3 import ShotgunError
from shotgun_api3.lib import mockgun

from sora_vfx.cli.main import main
from sora_vfx.editorial import EditOptions, read_edit
from sora_vfx.layout import review_movie_path
from sora_vfx.publish import TrackerError, connection, publish_render, shotgrid
from sora_vfx.publish.shotgrid import ShotGridTracker
from sora_vfx.render import RenderSettings, read_manifest, render_edit
from sora_vfx.review import ReviewSettings, build_review
from tests.publish.conftest import EDL
from tests.publish.kitsu_server import free_port
from tests.publish.shotgrid_schema import FIELDS, write_schema
from tests.test_schemas import check

URL = "https://studio.shotgrid.example"
SCRIPT, KEY = "sora_vfx", "publish-tests-key-0123456789"
SHOTS = ["LHT_0010", "LHT_0020", "LHT_0030", "LHT_0040"]
SHOT_FIELDS = ["code", "sg_sequence", "description", "sg_head_in", "sg_cut_in", "sg_cut_out", "sg_tail_out",
               "sg_cut_duration", "sg_working_duration"]
VERSION_FIELDS = ["code", "entity", "description", "sg_path_to_frames", "sg_path_to_movie", "sg_first_frame",
                  "sg_last_frame", "frame_count", "frame_range", "sg_uploaded_movie"]


class Site(mockgun.Shotgun):
    """A mockgun site that takes uploads: the file becomes an Attachment linked from the field,
    as on a site. ``fail_upload``: the upload call (1-based) whose connection drops."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.uploads: list[tuple] = []
        self.upload_calls = 0
        self.fail_upload: int | None = None

    def upload(self, entity_type, entity_id, path, field_name=None, display_name=None, tag_list=None):
        self.upload_calls += 1
        if self.upload_calls == self.fail_upload:
            raise ConnectionResetError(104, "Connection reset by peer")
        if not os.path.isfile(path) or os.path.getsize(path) == 0:  # as the client checks before sending
            raise ShotgunError(f"Path must be a valid file, got '{path}'")
        self.uploads.append((entity_type, entity_id, path, field_name))
        attachment = len(self.uploads)
        self.update(entity_type, entity_id, {field_name: {
            "type": "Attachment", "id": attachment, "name": display_name or os.path.basename(path),
            "link_type": "upload", "content_type": "video/mp4",
            "url": f"{self.base_url}/file_serve/attachment/{attachment}"}})
        return attachment


@pytest.fixture(scope="module")
def schema_paths(tmp_path_factory):
    return write_schema(tmp_path_factory.mktemp("shotgrid_schema"))


def make_site(paths) -> Site:
    Site.set_schema_paths(*paths)
    return Site(URL, script_name=SCRIPT, api_key=KEY)


@pytest.fixture
def site(schema_paths):
    return make_site(schema_paths)


def connector(site: Site, calls: list | None = None):
    """``connect`` for the tracker: always this site, noting the credentials it was given."""
    def connect(url, **credentials):
        if calls is not None:
            calls.append((url, credentials))
        return site
    return connect


@pytest.fixture
def publish(site, monkeypatch):
    """``sora-vfx publish OUT --tracker shotgrid --project P --json`` against ``site``."""
    connections = []
    monkeypatch.setattr(shotgrid, "from_environment",
                        functools.partial(shotgrid.from_environment, connect=connector(site, connections)))

    def run(out, project, *args, **env):
        result = CliRunner().invoke(main, ["publish", str(out), "--tracker", "shotgrid", "--project", project,
                                           "--json", *args], env=environment(**env))
        # The credentials come from the environment, as given.
        assert connections and all(c == (URL, {"script_name": SCRIPT, "api_key": KEY}) for c in connections), \
            connections
        return result
    return run


def environment(**changes):
    return {"SORA_VFX_SHOTGRID_URL": URL, "SORA_VFX_SHOTGRID_SCRIPT": SCRIPT, "SORA_VFX_SHOTGRID_KEY": KEY,
            **changes}


def results(result) -> dict[str, str]:
    assert result.exit_code == 0, result.output
    return {shot["name"]: shot["result"] for shot in json.loads(result.stdout)["shots"]}


def project_of(site: Site, name: str) -> dict:
    [project] = site.find("Project", [["name", "is", name]])
    return {"type": "Project", "id": project["id"]}


def versions(site: Site, project: str) -> dict[str, list[dict]]:
    """Each shot's Versions, oldest first."""
    project = project_of(site, project)
    shots = site.find("Shot", [["project", "is", project]], ["code"])
    return {shot["code"]: site.find("Version", [["entity", "is", {"type": "Shot", "id": shot["id"]}]], VERSION_FIELDS,
                                    order=[{"field_name": "id", "direction": "asc"}])
            for shot in shots}


def lines(version: dict) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in version["description"].splitlines()[1:])


def test_shots_and_versions_arrive_once(site, publish, copy):
    result = publish(copy, "SORA_PUBLISH")
    assert results(result) == dict.fromkeys(SHOTS, "added")
    document = json.loads(result.stdout)
    check("publish", document)
    assert document["tracker"] == f"ShotGrid at {URL}"
    project = project_of(site, "SORA_PUBLISH")
    [sequence] = site.find("Sequence", [["project", "is", project]], ["code"])
    assert sequence["code"] == "sequence_24fps"
    shots = {shot["code"]: shot for shot in site.find("Shot", [["project", "is", project]], SHOT_FIELDS)}
    manifest = read_manifest(copy)
    assert sorted(shots) == [entry.name for entry in manifest.shots] == SHOTS
    for entry in manifest.shots:
        shot, frames = shots[entry.name], entry.frames
        assert shot["sg_sequence"]["id"] == sequence["id"]
        assert shot["description"] == entry.spec.prompt
        assert (shot["sg_head_in"], shot["sg_cut_in"], shot["sg_cut_out"], shot["sg_tail_out"]) == (
            frames.first, frames.cut_in, frames.cut_out, frames.last)
        assert shot["sg_head_in"] == 1001 and shot["sg_cut_in"] - shot["sg_head_in"] == 2  # handles
        assert shot["sg_tail_out"] - shot["sg_cut_out"] == 2
        assert shot["sg_working_duration"] == frames.count
        assert shot["sg_cut_duration"] == frames.cut_out - frames.cut_in + 1
    published = versions(site, "SORA_PUBLISH")
    ids = {shot["name"]: shot["version"] for shot in document["shots"]}
    for entry in manifest.shots:
        [version] = published[entry.name]
        assert ids[entry.name] == str(version["id"])
        assert version["code"] == f"{entry.name}_sora_v001"
        assert version["sg_path_to_frames"] == str((copy / entry.name / f"{entry.name}.####.exr").resolve())
        movie = review_movie_path(copy, entry.name).resolve()
        assert version["sg_path_to_movie"] == str(movie)
        assert (version["sg_first_frame"], version["sg_last_frame"], version["frame_count"]) == (
            entry.frames.first, entry.frames.last, entry.frames.count)
        assert version["frame_range"] == f"{entry.frames.first}-{entry.frames.last}"
        data = lines(version)
        assert (data["job_hash"], data["seed"], data["model"]) == (entry.job_hash, str(entry.seed), "tiny")
        assert data["frames"] == version["sg_path_to_frames"] and data["prompt"] == entry.spec.prompt
        assert version["sg_uploaded_movie"]["name"] == f"{entry.name}.mp4"
    assert [(kind, path, field) for kind, _, path, field in site.uploads] == [
        ("Version", str(review_movie_path(copy, name)), "sg_uploaded_movie") for name in SHOTS]
    # The same render again adds nothing.
    assert results(publish(copy, "SORA_PUBLISH")) == dict.fromkeys(SHOTS, "unchanged")
    assert {name: len(found) for name, found in versions(site, "SORA_PUBLISH").items()} == dict.fromkeys(SHOTS, 1)
    assert len(site.uploads) == 4
    assert len(site.find("Shot", [])) == 4 and len(site.find("Sequence", [])) == 1
    assert len(site.find("Project", [])) == 1


def test_a_changed_render_adds_a_version(site, publish, copy, tiny_model):
    assert results(publish(copy, "SORA_CHANGED")) == dict.fromkeys(SHOTS, "added")
    render_edit(read_edit(EDL, EditOptions(handles=2)), copy,
                RenderSettings(steps=2, size=(32, 32), shots=["LHT_0020"]), model=tiny_model, progress=False)
    build_review(copy, ReviewSettings(), progress=False)
    assert results(publish(copy, "SORA_CHANGED")) == {**dict.fromkeys(SHOTS, "unchanged"), "LHT_0020": "added"}
    published = versions(site, "SORA_CHANGED")
    assert [len(published[name]) for name in SHOTS] == [1, 2, 1, 1]
    first, second = published["LHT_0020"]
    assert (first["code"], second["code"]) == ("LHT_0020_sora_v001", "LHT_0020_sora_v002")
    assert lines(second)["job_hash"] == read_manifest(copy).entry("LHT_0020").job_hash != lines(first)["job_hash"]
    assert second["sg_uploaded_movie"] is not None


def test_a_publish_that_failed_part_way_completes_on_retry(site, publish, copy):
    tracker = ShotGridTracker(URL, SCRIPT, KEY, project="SORA_RETRY", connect=connector(site))
    site.fail_upload = 3
    with pytest.raises(TrackerError, match=rf"^ShotGrid at {URL} cannot be reached \(upload shot LHT_0030's movie\)"):
        publish_render(copy, tracker)
    half = versions(site, "SORA_RETRY")
    assert {name: [v["sg_uploaded_movie"] is not None for v in found] for name, found in half.items()} == {
        "LHT_0010": [True], "LHT_0020": [True], "LHT_0030": [False], "LHT_0040": []}
    result = publish(copy, "SORA_RETRY")
    assert results(result) == {"LHT_0010": "unchanged", "LHT_0020": "unchanged", "LHT_0030": "added",
                               "LHT_0040": "added"}
    complete = versions(site, "SORA_RETRY")
    # The Version the failure left without its movie got it; none was made twice.
    assert {name: [v["sg_uploaded_movie"] is not None for v in found] for name, found in complete.items()} == \
        dict.fromkeys(SHOTS, [True])
    assert complete["LHT_0030"][0]["id"] == half["LHT_0030"][0]["id"]
    assert {s["name"]: s["version"] for s in json.loads(result.stdout)["shots"]}["LHT_0030"] == \
        str(half["LHT_0030"][0]["id"])


def test_a_site_without_a_field_the_publish_needs(schema_paths, reviewed, tmp_path):
    fields = {**FIELDS, "Shot": {name: spec for name, spec in FIELDS["Shot"].items() if name != "sg_head_in"}}
    site = make_site(write_schema(tmp_path / "schema", fields))
    try:
        tracker = ShotGridTracker(URL, SCRIPT, KEY, project="SORA_FIELDS", connect=connector(site))
        with pytest.raises(TrackerError) as failure:
            publish_render(reviewed, tracker)
    finally:
        Site.set_schema_paths(*schema_paths)
    assert str(failure.value) == (f"ShotGrid at {URL}: cannot register shot LHT_0010: sg_head_in is not a valid "
                                  "field for entity Shot")
    assert site.find("Shot", []) == [] and site.find("Version", []) == []


class RefusingSite(BaseHTTPRequestHandler):
    """Answers the JSON API as a site that refuses the script: its version (asked without
    credentials) and, to every other call, ShotGrid's authentication fault (error 102). With
    ``status`` 503, as a site down for maintenance."""

    calls: list[tuple[str, list]] = []
    status = 200

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append((request["method_name"], request["params"]))
        if request["method_name"] == "info":
            answer = {"version": [8, 50, 0], "full_version": [8, 50, 0, 0]}
        else:
            answer = {"exception": True, "error_code": 102, "message": f"Can't authenticate script '{SCRIPT}'"}
        body = json.dumps(answer).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_site():
    RefusingSite.calls, RefusingSite.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), RefusingSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_site_that_is_down_or_refuses_fails_cleanly(reviewed, refusing_site):
    """The real client: nothing is created, one line, exit 2, the key never printed."""
    def publish(project, **env):
        return CliRunner().invoke(main, ["publish", str(reviewed), "--tracker", "shotgrid", "--project", project],
                                  env=environment(**env))

    down = publish("SORA_DOWN", SORA_VFX_SHOTGRID_URL="http://127.0.0.1:9")
    assert down.exit_code == 2 and "Traceback" not in down.output
    assert down.output == ("sora-vfx: error: ShotGrid at http://127.0.0.1:9 cannot be reached (find project "
                           "SORA_DOWN): is the site up, and the URL right?\n")
    refused = publish("SORA_REFUSED", SORA_VFX_SHOTGRID_URL=refusing_site)
    assert refused.exit_code == 2
    assert refused.output == (f"sora-vfx: error: ShotGrid at {refusing_site} refused the credentials (find project "
                              "SORA_REFUSED): check SORA_VFX_SHOTGRID_SCRIPT and SORA_VFX_SHOTGRID_KEY\n")
    assert KEY not in refused.output
    # The key went to the site, and nothing was asked of it after the refusal.
    assert [method for method, _ in RefusingSite.calls] == ["info", "read"]
    assert RefusingSite.calls[1][1][0] == {"script_name": SCRIPT, "script_key": KEY}
    RefusingSite.status = 503
    maintenance = publish("SORA_MAINTENANCE", SORA_VFX_SHOTGRID_URL=refusing_site)
    assert maintenance.exit_code == 2 and len(maintenance.output.splitlines()) == 1
    assert maintenance.output.startswith(f"sora-vfx: error: ShotGrid at {refusing_site} answered HTTP 503 "
                                         "(find project SORA_MAINTENANCE): ")
    assert "down for maintenance" in maintenance.output
    missing = publish("SORA_MISSING", SORA_VFX_SHOTGRID_KEY="")
    assert missing.exit_code == 2 and "SORA_VFX_SHOTGRID_KEY in the environment" in missing.output
    options = CliRunner().invoke(main, ["publish", "--help"]).output.split("Options:")[1]
    assert all(name in options for name in shotgrid.ENVIRONMENT)


def test_a_silent_site_fails_after_the_timeout(reviewed, monkeypatch):
    """A site that takes the connection and never answers: the real client gives up after
    ``connection.TIMEOUT_SECONDS`` (Kitsu's too) with one line, rather than hanging the publish."""
    monkeypatch.setattr(connection, "TIMEOUT_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = CliRunner().invoke(main, ["publish", str(reviewed), "--tracker", "shotgrid", "--project",
                                           "SORA_SILENT"], env=environment(SORA_VFX_SHOTGRID_URL=url))
    assert result.exit_code == 2, result.output
    assert result.output == (f"sora-vfx: error: ShotGrid at {url} did not answer within 0.5 s (find project "
                             "SORA_SILENT): is the site up, and the URL right?\n")


def test_nothing_to_publish_is_said_before_the_site_is_asked(copy):
    review_movie_path(copy, "LHT_0030").unlink()
    result = CliRunner().invoke(main, ["publish", str(copy), "--tracker", "shotgrid", "--project", "P"],
                                env=environment(SORA_VFX_SHOTGRID_URL="http://127.0.0.1:9"))
    assert result.exit_code == 2 and "no preview movie for shot(s) LHT_0030" in result.output
