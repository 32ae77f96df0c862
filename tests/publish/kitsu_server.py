"""A real Kitsu server on loopback for the publish tests: PostgreSQL and Redis from Debian and
zou (Kitsu's API server) from PyPI in its own virtual environment (``make test`` installs
all three), each in a private folder on free ports, stopped when the tests end."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

ZOU_VENV = Path(os.environ.get("SORA_VFX_ZOU_VENV", ROOT / ".venv-kitsu"))
EMAIL, PASSWORD = "pipeline@example.com", "publish-tests-only"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class KitsuServer:
    url: str
    email: str = EMAIL
    password: str = PASSWORD
    processes: list[subprocess.Popen] = field(default_factory=list)
    stop_database: list[str] = field(default_factory=list)
    database_root: Path | None = None

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.stop_database:
            subprocess.run(self.stop_database, capture_output=True, timeout=60)
        if self.database_root is not None:
            shutil.rmtree(self.database_root, ignore_errors=True)


def missing_tools() -> list[str]:
    missing = [tool for tool in ("redis-server", "ffprobe") if shutil.which(tool) is None]
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        missing.append("PostgreSQL (/usr/lib/postgresql/*/bin/initdb)")
    if not (ZOU_VENV / "bin" / "zou").exists():
        missing.append(f"zou in {ZOU_VENV}")
    return missing


def start_kitsu(root: Path) -> KitsuServer:
    """Start PostgreSQL, Redis and zou under ``root``; returns once the API answers."""
    postgres = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    # PostgreSQL refuses to run as root: there it runs as the postgres user Debian made, in a
    # folder of its own (pytest's folders are private to the user who runs the tests).
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    database_root = Path(tempfile.mkdtemp(prefix="sora_vfx_kitsu_db_"))
    data, sockets = database_root / "data", database_root / "sockets"
    for folder in (data, sockets, root / "previews", root / "tmp"):
        folder.mkdir(parents=True)
    if as_user:
        for folder in (database_root, data, sockets):
            shutil.chown(folder, "postgres")
    db_port, kv_port, api_port = free_port(), free_port(), free_port()
    server = KitsuServer(f"http://127.0.0.1:{api_port}", database_root=database_root)
    run = dict(check=True, capture_output=True, timeout=300)
    subprocess.run([*as_user, str(postgres / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], **run)
    subprocess.run([*as_user, str(postgres / "pg_ctl"), "-D", str(data), "-l", str(sockets / "postgres.log"), "-w",
                    "-o", f"-p {db_port} -k {sockets} -c listen_addresses=127.0.0.1", "start"], **run)
    server.stop_database = [*as_user, str(postgres / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    try:
        subprocess.run([str(postgres / "psql"), "-h", "127.0.0.1", "-p", str(db_port), "-U", "postgres", "-c",
                        "create database zoudb"], **run)
        server.processes.append(subprocess.Popen(
            ["redis-server", "--port", str(kv_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        env = {**os.environ, "DB_HOST": "127.0.0.1", "DB_PORT": str(db_port), "DB_USERNAME": "postgres",
               "DB_PASSWORD": "", "DB_DATABASE": "zoudb", "KV_HOST": "127.0.0.1", "KV_PORT": str(kv_port),
               "SECRET_KEY": "sora-vfx-publish-tests-not-a-secret-0123456789",
               "PREVIEW_FOLDER": str(root / "previews"), "TMP_DIR": str(root / "tmp"), "ENABLE_JOB_QUEUE": "False",
               # No internet here: no DNS look-up of the test address's domain.
               "MAIL_CHECK_DELIVERABILITY": "False"}
        zou = str(ZOU_VENV / "bin" / "zou")
        for command in (["init-db"], ["init-data"], ["create-admin", EMAIL, "--password", PASSWORD]):
            subprocess.run([zou, *command], env=env, cwd=root, **run)
        log = open(root / "zou.log", "wb")  # noqa: SIM115 (the server writes it until stop)
        server.processes.append(subprocess.Popen(
            [str(ZOU_VENV / "bin" / "gunicorn"), "-b", f"127.0.0.1:{api_port}", "-w", "1", "zou.app:app"],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", api_port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.processes[-1].poll() is not None:
                    raise RuntimeError(f"zou did not start: {(root / 'zou.log').read_text()[-2000:]}") from None
                time.sleep(0.3)
    except BaseException:
        server.stop()
        raise
    return server
