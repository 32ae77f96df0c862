"""`sora-vfx render --scheduler`: a real dask scheduler and workers, one of them killed."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sora_vfx.cli import main
from tests.farm.conftest import (
    LINKED_SHOTS,
    SAMPLE_EDL,
    SMALL,
    assert_rendered_after,
    assert_same_frames,
    dask_processes,
    subprocess_env,
)


def render(*args: str):
    return CliRunner().invoke(main, ["render", str(SAMPLE_EDL), *SMALL, *args])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    result = render("-o", str(tmp_path / "out"), "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"sora-vfx: error: cannot reach the Dask scheduler at {address}: "
                                     "Connection refused; start one with `dask scheduler`, or render on a local "
                                     "cluster of worker processes")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("kind", ["silent", "closing"])
def test_a_scheduler_address_that_does_not_answer_is_a_clear_error(tmp_path, monkeypatch, kind):
    """Something takes the connection and never says a word (Dask's own client would wait for
    its greeting for ever), or closes it at once: refused within the connect timeout."""
    from sora_vfx.farm import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        address = f"tcp://127.0.0.1:{listening.getsockname()[1]}"
        closer = None
        if kind == "closing":
            def close_each():
                with contextlib.suppress(OSError):
                    while True:
                        listening.accept()[0].close()
            closer = threading.Thread(target=close_each, daemon=True)
            closer.start()
        done: dict = {}
        started = time.monotonic()
        thread = threading.Thread(target=lambda: done.setdefault("result", render(
            "-o", str(tmp_path / "out"), "--scheduler", address)), daemon=True)
        thread.start()
        thread.join(20)
    assert "result" in done, "render --scheduler still waiting after 20 s"
    result = done["result"]
    assert result.exit_code == 2, result.output
    assert time.monotonic() - started < 10
    if kind == "silent":
        assert result.stderr == (f"sora-vfx: error: the Dask scheduler at {address} took the connection but did not "
                                 "answer within 0.5 s: is a Dask scheduler (`dask scheduler`) listening there, and not "
                                 "something else?\n")
    else:
        assert result.stderr == (f"sora-vfx: error: the Dask scheduler at {address} closed the connection without "
                                 "answering: is a Dask scheduler (`dask scheduler`) listening there, and not something "
                                 "else?\n")
    assert not (tmp_path / "out").exists()


def tls_settings(folder: Path, security) -> dict[str, str]:
    """Dask's client TLS settings for ``security``'s certificates, written into ``folder``."""
    settings = {}
    for key, name in (("ca-file", "tls_ca_file"), ("client.cert", "tls_client_cert"), ("client.key", "tls_client_key")):
        (folder / name).write_text(getattr(security, name))
        settings[f"distributed.comm.tls.{key}"] = str(folder / name)
    return settings


@pytest.mark.slow
def test_a_render_through_a_tls_scheduler_and_worker(tmp_path, local_sample):
    """With Dask's TLS settings, the address check speaks TLS to a real scheduler and hears it
    greet, and a worker process behind it renders the local render's frames."""
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    security = Security.temporary()
    out = tmp_path / "renders"
    with LocalCluster(n_workers=1, threads_per_worker=1, protocol="tls://", security=security, host="127.0.0.1",
                      dashboard_address=None) as cluster, dask.config.set(tls_settings(tmp_path, security)):
        assert cluster.scheduler_address.startswith("tls://")
        result = render("-o", str(out), "--shots", "LHT_0020", "--scheduler", cluster.scheduler_address, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(s["name"], s["status"]) for s in report["shots"]] == [("LHT_0020", "rendered")]
    assert report["cluster"]["scheduler"] == cluster.scheduler_address
    assert assert_same_frames(out, local_sample, ["LHT_0020"]) == 20


def test_a_tls_scheduler_needs_dasks_tls_settings_and_a_silent_one_times_out(tmp_path, monkeypatch):
    """``tls://`` without Dask's TLS settings is a clear error (Dask's client raised a
    TypeError, an internal error here); with them, a listener that never completes the
    handshake is refused within the connect timeout, before anything is written. (A real TLS
    scheduler passes the same check: ``test_a_render_through_a_tls_scheduler_and_worker``.)"""
    import dask
    from distributed.security import Security

    from sora_vfx.farm import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        address = f"tls://127.0.0.1:{listening.getsockname()[1]}"
        result = render("-o", str(tmp_path / "out"), "--scheduler", address)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"sora-vfx: error: the Dask scheduler at {address} speaks TLS, and Dask's "
                                        "TLS settings are not set")
        started = time.monotonic()
        with dask.config.set(tls_settings(tmp_path, Security.temporary())):
            result = render("-o", str(tmp_path / "out"), "--scheduler", address)
    assert result.exit_code == 2, result.output
    assert time.monotonic() - started < 30
    assert result.stderr.startswith(f"sora-vfx: error: the Dask scheduler at {address} took the connection but did "
                                    "not answer within 0.5 s")
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--scheduler", "localhost"], "scheduler address 'localhost': expected tcp://HOST:PORT"),
    (["--scheduler", "http://127.0.0.1:8786"], "a Dask scheduler speaks tcp, tls, ws, wss, ucx, not http"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--scheduler and --workers: give one"),
    (["--workers", "2", "--conform-only"], "--conform-only renders nothing"),
])
def test_bad_cluster_options(tmp_path, args, message):
    result = render("-o", str(tmp_path / "out"), *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def kill_a_worker_mid_shot(cluster, out: Path, frame_counts: dict[str, int], timeout: float = 300):
    """Wait until a worker is rendering a shot that has some of its frames on disk, then
    SIGKILL that worker (and its nanny). Returns (worker name, shot, frames on disk).

    "Some" stops 4 frames short of the shot: at 2 frame-writer threads no shot can finish in
    the moment between looking and killing, so the kill always lands mid-shot. (Each shot is
    two model windows; the first leaves 13 frames on disk for a few hundred milliseconds.)
    """
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(cluster.address, timeout=30) as client:
        names = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
        while time.monotonic() < deadline:
            for address, keys in client.processing().items():
                for key in keys:
                    shot = next((s for s in frame_counts if str(key).startswith(f"sora-vfx-{s}-")), None)
                    if shot is None or not (out / shot).is_dir():
                        continue
                    done = len(list((out / shot).glob(f"{shot}.*.exr")))
                    if 0 < done <= frame_counts[shot] - 4:
                        cluster.kill(names[address])
                        return names[address], shot, done
            time.sleep(0.005)
    raise AssertionError("no worker was seen in the middle of a shot")


@pytest.mark.slow
def test_dask_render_survives_a_killed_worker(tmp_path, local_sample, sora_vfx_command):
    out = tmp_path / "renders"
    local = json.loads((local_sample / "manifest.json").read_text())["shots"]
    frame_counts = {s["name"]: s["frames"]["count"] for s in local}
    with dask_processes(tmp_path, workers=2) as cluster:
        driver = subprocess.Popen(
            [sora_vfx_command, "render", str(SAMPLE_EDL), "-o", str(out), *SMALL, "--scheduler", cluster.address,
             "--json"],
            cwd=tmp_path, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            victim, shot, seen = kill_a_worker_mid_shot(cluster, out, frame_counts)
            stdout, stderr = driver.communicate(timeout=600)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.communicate()
    assert driver.returncode == 0, stderr[-4000:]
    report = json.loads(stdout)
    statuses = {s["name"]: s["status"] for s in report["shots"]}
    assert list(statuses) == list(frame_counts) and set(statuses.values()) <= {"rendered", "skipped"}

    # Another worker re-ran the lost shot, keeping the frames the victim had finished; it
    # loaded the model once for every shot it rendered.
    (rerun_by,) = [w for w in report["cluster"]["workers"].values() if shot in w["shots"]]
    assert rerun_by["name"] != victim
    assert rerun_by["model_loads"] == 1 and len(rerun_by["shots"]) >= 2
    lost = next(s for s in report["shots"] if s["name"] == shot)
    assert lost["status"] == "rendered"
    assert lost["frames_reused"] >= seen >= 1 and lost["frames_written"] >= 4
    assert lost["frames_reused"] + lost["frames_written"] == frame_counts[shot]

    assert assert_same_frames(out, local_sample, list(frame_counts)) == sum(frame_counts.values())
    assert {s["name"]: s["job_hash"] for s in report["shots"]} == {s["name"]: s["job_hash"] for s in local}
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["name"]: s["status"] for s in manifest["shots"]} == statuses
    assert (out / "renders.otio").is_file()


@pytest.mark.slow
def test_workers_starts_a_local_cluster(tmp_path, local_sample):
    out = tmp_path / "renders"
    command = ["-m", "sora_vfx", "render", str(SAMPLE_EDL), "-o", str(out), *SMALL, "--shots", "LHT_0020",
               "--workers", "1", "--json"]
    run = subprocess.run([sys.executable, *command], cwd=tmp_path, env=subprocess_env(), capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout)
    assert [(s["name"], s["status"]) for s in report["shots"]] == [("LHT_0020", "rendered")]
    assert report["cluster"]["scheduler"].startswith("tcp://127.0.0.1:")
    assert assert_same_frames(out, local_sample, ["LHT_0020"]) == 20


@pytest.mark.slow
def test_dask_renders_a_shot_after_the_shot_it_continues(tmp_path, linked_edl, local_linked):
    out = tmp_path / "renders"
    # Three workers: LNK_0010, LNK_0020 and LNK_0030 would all start at once, were LNK_0020's
    # task not waiting for LNK_0010's.
    with dask_processes(tmp_path, workers=3) as cluster:
        result = CliRunner().invoke(main, ["render", str(linked_edl), "-o", str(out), *SMALL,
                                           "--scheduler", cluster.address, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {s["name"]: s["status"] for s in report["shots"]} == dict.fromkeys(LINKED_SHOTS, "rendered")
    # Each shot rendered at its first try: a retry would hide a shot started too early, which
    # fails for want of its predecessor's frame.
    for name in cluster.workers:
        assert "Compute Failed" not in (tmp_path / f"{name}.log").read_text()
    assert_rendered_after(out, "LNK_0020", "LNK_0010")
    assert_rendered_after(out, "LNK_0040", "LNK_0020")
    assert assert_same_frames(out, local_linked, LINKED_SHOTS) == 4 * 12
    local = json.loads((local_linked / "manifest.json").read_text())["shots"]
    assert {s["name"]: s["job_hash"] for s in report["shots"]} == {s["name"]: s["job_hash"] for s in local}


@pytest.mark.slow
def test_dask_does_not_render_a_shot_whose_predecessor_failed(tmp_path, linked_edl):
    out = tmp_path / "renders"
    out.mkdir()
    (out / "LNK_0010").write_text("")  # a file where the shot's folder goes: LNK_0010 fails on every try
    with dask_processes(tmp_path, workers=1) as cluster:
        result = CliRunner().invoke(main, ["render", str(linked_edl), "-o", str(out), *SMALL,
                                           "--scheduler", cluster.address, "--json"])
    assert result.exit_code == 1, result.output
    shots = {s["name"]: s for s in json.loads(result.stdout)["shots"]}
    assert list(shots) == LINKED_SHOTS
    assert shots["LNK_0010"]["status"] == "failed" and "File exists" in shots["LNK_0010"]["error"]
    assert [(shots[name]["status"], shots[name]["error"]) for name in ("LNK_0020", "LNK_0040")] == [
        ("failed", "shot LNK_0020 continues shot LNK_0010, which failed"),
        ("failed", "shot LNK_0040 continues shot LNK_0020, which failed")]
    assert not (out / "LNK_0020").exists() and not (out / "LNK_0040").exists()  # never started
    assert shots["LNK_0030"]["status"] == "rendered"
    assert len(list((out / "LNK_0030").glob("LNK_0030.*.exr"))) == 12
