"""``sora-vfx publish`` against hostile or broken sites, played by loopback servers (no real
Kitsu): a URL that answers 200 with JSON that is not Kitsu's, a server that takes the
connection and never answers, credentials in the URL or echoed back by the site, and a
machine without the ``publish`` extra. Each is one line on stderr, exit 2, no credential in it,
within seconds."""

from __future__ import annotations

import json
import socket
import string
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sora_vfx.cli.main import main
from sora_vfx.errors import ConfigError
from sora_vfx.publish import shotgrid

#: No test here may take longer than this to get its answer.
PATIENCE = 15.0
KITSU_ENV = {"SORA_VFX_KITSU_EMAIL": "pipeline@example.com", "SORA_VFX_KITSU_PASSWORD": "kitsu-tests-password"}
SHOTGRID_ENV = {"SORA_VFX_SHOTGRID_SCRIPT": "sora_vfx", "SORA_VFX_SHOTGRID_KEY": "shotgrid-tests-key-0123"}
#: Characters a password may hold in a URL's userinfo without quoting (RFC 3986: unreserved and sub-delims).
USERINFO = string.ascii_letters + string.digits + "-._~!$&'()*+,;="
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def publish(out, tracker: str, env: dict[str, str], *args: str):
    """``sora-vfx publish OUT --tracker T --project P``, in a thread: a publish that hangs fails
    the test after :data:`PATIENCE` seconds instead of hanging it."""
    done: dict = {}

    def run():
        done["result"] = CliRunner().invoke(main, ["publish", str(out), "--tracker", tracker, "--project",
                                                   "SORA_HOSTILE", *args], env=env)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(PATIENCE)
    assert "result" in done, f"publish to {tracker} still waiting after {PATIENCE:.0f} s"
    result = done["result"]
    result.seconds = time.monotonic() - started
    return result


class Answering(BaseHTTPRequestHandler):
    """Answers every request 200 with ``server.answer(path, body)`` (bytes, content type)."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload, content_type = self.server.answer(self.path, body)
        self.send_response(self.server.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = _answer

    def log_message(self, *args):
        pass


@contextmanager
def answering(answer, status: int = 200):
    """A loopback HTTP server answering with ``answer(path, body) -> (bytes, content type)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    server.answer, server.status = answer, status
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def as_json(document):
    return lambda path, body: (json.dumps(document).encode(), "application/json")


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith("sora-vfx: error: ")
    return result.stderr


# --- 1. a URL that answers 200, but not as Kitsu -----------------------------------------------------

def kitsu_login_then(answer):
    """Kitsu's log-in answered as Kitsu does; everything after by ``answer``."""
    def respond(path, body):
        if path.endswith("/auth/login"):
            return json.dumps({"login": True, "access_token": "t0ken-from-the-site", "refresh_token": "r"}).encode(), \
                "application/json"
        return answer(path, body)
    return respond


@pytest.mark.parametrize(("answer", "expected"), [
    (as_json({"hello": "world"}), "expected a log-in answer with an access_token, got dict {'hello': 'world'}"),
    (as_json([1, 2, 3]), "expected a log-in answer with an access_token"),
    (as_json("just a string"), "expected a log-in answer with an access_token"),
    (lambda path, body: (b"<html><body>Kitsu</body></html>", "text/html"),
     "expected a log-in answer with an access_token, got an answer that is not JSON"),
    (kitsu_login_then(as_json({"unrelated": True})), "(find project SORA_HOSTILE): expected an entity"),
    (kitsu_login_then(as_json([{"no": "id"}])), "(find project SORA_HOSTILE): expected an entity (a JSON object "
                                                "with an id) or nothing, got dict {'no': 'id'}"),
], ids=["object", "list", "string", "html", "entity-object", "entity-without-id"])
def test_a_url_that_answers_but_not_as_kitsu(reviewed, answer, expected):
    with answering(answer) as url:
        password_url = url.replace("http://", "http://pipeline:hunter2-in-the-url@") + "/api"
        result = publish(reviewed, "kitsu", {**KITSU_ENV, "SORA_VFX_KITSU_URL": password_url})
    message = one_line_error(result)
    assert message.startswith(f"sora-vfx: error: Kitsu at http://***@{url.removeprefix('http://')}/api answered, "
                              "but not as Kitsu's API does ("), message
    assert expected in message
    assert message.rstrip().endswith("is SORA_VFX_KITSU_URL the API root, e.g. https://kitsu.studio.example/api?")
    assert "hunter2" not in result.output and "KeyError" not in result.output


# --- 2. a server that takes the connection and never answers ------------------------------------------

@contextmanager
def silent_server():
    """A socket that accepts connections (the kernel does, up to its backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


def test_the_trackers_share_one_timeout(monkeypatch):
    from sora_vfx.publish import connection

    assert connection.TIMEOUT_SECONDS == 60
    site = shotgrid.connect_site("https://studio.shotgrid.example", script_name="s", api_key="k")
    assert site.config.timeout_secs == connection.TIMEOUT_SECONDS
    monkeypatch.setattr(connection, "TIMEOUT_SECONDS", 7.0)
    site = shotgrid.connect_site("https://studio.shotgrid.example", script_name="s", api_key="k")
    assert site.config.timeout_secs == 7.0


@pytest.mark.parametrize("tracker", ["kitsu", "shotgrid"])
def test_a_silent_tracker_fails_after_the_timeout(reviewed, monkeypatch, tracker):
    from sora_vfx.publish import connection

    monkeypatch.setattr(connection, "TIMEOUT_SECONDS", 0.5)
    with silent_server() as url:
        if tracker == "kitsu":
            result = publish(reviewed, "kitsu", {**KITSU_ENV, "SORA_VFX_KITSU_URL": f"{url}/api"})
            where, what = f"Kitsu at {url}/api", "log in as pipeline@example.com"
        else:
            result = publish(reviewed, "shotgrid", {**SHOTGRID_ENV, "SORA_VFX_SHOTGRID_URL": url})
            where, what = f"ShotGrid at {url}", "find project SORA_HOSTILE"
    assert one_line_error(result) == (f"sora-vfx: error: {where} did not answer within 0.5 s ({what}): is the "
                                      f"{'server' if tracker == 'kitsu' else 'site'} up, and the URL right?\n")
    assert result.seconds < 10


# --- 4. credentials never reach stderr ---------------------------------------------------------------

class EchoingSite(BaseHTTPRequestHandler):
    """A ShotGrid site whose errors echo the request, script key and all: its version (asked
    without credentials) and, to every other call, ShotGrid's error with the request in it;
    with ``status`` 500, an HTTP error whose status line does the same."""

    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        if request["method_name"] == "info":
            answer, status = {"version": [8, 50, 0], "full_version": [8, 50, 0, 0]}, 200
        elif type(self).status == 200:
            answer, status = {"exception": True, "error_code": 104,
                              "message": f"API read() invalid request: {body.decode()}"}, 200
        else:
            answer, status = f"Internal error handling {body.decode()}", type(self).status
        payload = (json.dumps(answer) if isinstance(answer, dict) else answer).encode()
        self.send_response(status, None if status == 200 else answer)
        self.send_header("Content-Type", "application/json" if isinstance(answer, dict) else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def echoing_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", [200, 500])
def test_a_site_that_echoes_the_request_does_not_print_the_key(reviewed, echoing_site, status, monkeypatch):
    monkeypatch.setattr(EchoingSite, "status", status)
    key = "Zq8-site-key-echoed-back"
    result = publish(reviewed, "shotgrid", {**SHOTGRID_ENV, "SORA_VFX_SHOTGRID_URL": echoing_site,
                                            "SORA_VFX_SHOTGRID_KEY": key})
    message = one_line_error(result)
    assert key not in result.output
    assert '"script_key": "***"' in message, message
    expected = "cannot find project SORA_HOSTILE: API read() invalid request" if status == 200 else "answered HTTP 500"
    assert expected in message


@pytest.mark.parametrize("tracker", ["kitsu", "shotgrid"])
def test_a_password_in_the_url_is_not_printed(reviewed, tracker):
    url = "http://pipeline:PW-in-the-url-42@127.0.0.1:9"  # nothing listens on the discard port
    env = {**KITSU_ENV, "SORA_VFX_KITSU_URL": f"{url}/api"} if tracker == "kitsu" else \
        {**SHOTGRID_ENV, "SORA_VFX_SHOTGRID_URL": url}
    message = one_line_error(publish(reviewed, tracker, env))
    assert "PW-in-the-url-42" not in message and "pipeline:" not in message
    assert "at http://***@127.0.0.1:9" in message and "cannot be reached" in message


secrets = st.text(USERINFO, min_size=8, max_size=32).filter(lambda s: not s.isdigit())


@PROPERTY
@given(password=secrets, in_url=secrets)
def test_no_kitsu_secret_reaches_stderr(reviewed, password, in_url):
    """Any password, in the URL or in SORA_VFX_KITSU_PASSWORD, is never printed (down server)."""
    assume(in_url not in "http://pipeline:@127.0.0.1:9/api" and password not in "pipeline@example.com")
    result = publish(reviewed, "kitsu", {"SORA_VFX_KITSU_URL": f"http://pipeline:{in_url}@127.0.0.1:9/api",
                                         "SORA_VFX_KITSU_EMAIL": "pipeline@example.com",
                                         "SORA_VFX_KITSU_PASSWORD": password})
    message = one_line_error(result)
    assert in_url not in message and password not in message, message


@PROPERTY
@given(key=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]),
                   min_size=8, max_size=32), in_url=secrets)
def test_no_shotgrid_secret_reaches_stderr(reviewed, echoing_site, key, in_url):
    """Any script key, echoed back by the site, and any password in the URL, is never printed."""
    assume(key not in f"sora-vfx: error: ShotGrid at {echoing_site}: cannot find project SORA_HOSTILE")
    host = echoing_site.removeprefix("http://")
    result = publish(reviewed, "shotgrid", {"SORA_VFX_SHOTGRID_URL": f"http://pipeline:{in_url}@{host}",
                                            "SORA_VFX_SHOTGRID_SCRIPT": "sora_vfx", "SORA_VFX_SHOTGRID_KEY": key})
    message = one_line_error(result)
    assert key not in message and in_url not in message, message


# --- 5. no publish extra ------------------------------------------------------------------------------

@pytest.mark.parametrize(("tracker", "module", "env"), [
    ("kitsu", "gazu", {**KITSU_ENV, "SORA_VFX_KITSU_URL": "http://127.0.0.1:9/api"}),
    ("shotgrid", "shotgun_api3", {**SHOTGRID_ENV, "SORA_VFX_SHOTGRID_URL": "http://127.0.0.1:9"}),
])
def test_without_the_publish_extra(reviewed, monkeypatch, tracker, module, env):
    monkeypatch.setitem(sys.modules, module, None)  # `import gazu` raises ModuleNotFoundError
    message = one_line_error(publish(reviewed, tracker, env))
    name = "Kitsu" if tracker == "kitsu" else "ShotGrid"
    assert message == (f"sora-vfx: error: publishing to {name} needs {module}, which is not installed: "
                       "pip install 'sora_vfx[publish]'\n")


def test_without_a_library_the_client_needs(tmp_path, monkeypatch):
    from sora_vfx.publish import connection

    (tmp_path / "fake_tracker_client.py").write_text("import a_library_nobody_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as refused:
        connection.import_client("fake_tracker_client", "Fake")
    assert str(refused.value) == ("publishing to Fake needs fake_tracker_client (it needs a_library_nobody_installed), "
                                  "which is not installed: pip install 'sora_vfx[publish]'")
