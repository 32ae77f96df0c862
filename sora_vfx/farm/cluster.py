"""Render on a Dask distributed cluster: one task per shot.

The driver (this process) checks the whole render without loading weights, sends each shot's
spec to the cluster and writes the manifest and conform timeline from the results. Each worker
process loads the model once and keeps it; it writes frames straight to the shared output
folder. A worker that dies mid-shot has that shot re-run elsewhere by the scheduler; frames are
written atomically and resumed by ``job_hash``, so the re-run keeps what was finished and
nothing is left half-written or rendered twice into the sequence.

A shot marked ``CONTINUES`` starts from the frames of the shot it continues: when that shot is
in the render, its task is an input of this one, so the scheduler starts it only once that
shot is finished, and not at all when that shot failed.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..editorial import Edit
from ..editorial.links import continuation_order
from ..errors import FarmError
from ..models import LoadedModel, load_model
from ..render import RenderReport, RenderSettings, ShotPlan, ShotResult, finish_render, render_shot
from .plan import plan_without_weights

log = logging.getLogger("sora_vfx")

CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler, and for it to greet, before giving up
WORKER_TIMEOUT = 60.0  # seconds to wait for a scheduler's first worker
RETRIES = 2  # re-runs of a shot whose task raised; workers that die are re-run by the scheduler
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9a-fA-F:]+\]|[^:/\s\[\]]+):(?P<port>\d{1,5})$")


@dataclass
class ShotTask:
    """What a worker needs to render one shot: the driver's shot plan, so every node renders
    the same pixels under the same job_hash, and the settings its model is loaded with."""

    shot: ShotPlan
    settings: RenderSettings


@dataclass
class ClusterRender:
    """A render through Dask: the usual report and which worker rendered what."""

    report: RenderReport
    scheduler: str
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The render report's JSON document plus a ``cluster`` entry: the scheduler address
        and, per worker address, its name, pid, the shots it rendered and its model loads."""
        return {**self.report.to_dict(), "cluster": {"scheduler": self.scheduler, "workers": self.workers}}


class ShotTaskFailed(Exception):
    """Raised on a worker so that Dask retries the shot; carries the failed result back."""

    def __init__(self, result: ShotResult):
        super().__init__(result)
        self.result = result

    def __str__(self) -> str:
        return f"shot {self.result.name} failed: {self.result.error}"


#: The address schemes a Dask scheduler listens on (distributed's comm backends, less inproc).
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def check_scheduler_address(address: str) -> str:
    """``tcp://HOST:PORT`` (``HOST:PORT`` means tcp); other Dask schemes are passed through.

    Raises:
        FarmError: not an address.
    """
    match = _ADDRESS.match(address.strip())
    if not match or not 0 < int(match["port"]) < 65536:
        raise FarmError(f"scheduler address {address!r}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    scheme = (match["scheme"] or "tcp").lower()
    if scheme not in SCHEDULER_SCHEMES:
        raise FarmError(f"scheduler address {address!r}: a Dask scheduler speaks {', '.join(SCHEDULER_SCHEMES)}, "
                        f"not {scheme}; e.g. tcp://127.0.0.1:8786")
    return address.strip() if match["scheme"] else f"tcp://{address.strip()}"


def render_on_cluster(edit: Edit, out_dir: Path, settings: RenderSettings, *,
                      scheduler: str | None = None, workers: int | None = None,
                      retries: int = RETRIES, connect_timeout: float | None = None) -> ClusterRender:
    """Render every chosen shot of an edit on a Dask cluster, one task per shot.

    Args:
        scheduler: address of a running ``dask scheduler``; or
        workers: start a local cluster of this many worker processes (one per GPU).
        retries: re-runs of a shot whose task failed (lost workers are re-run regardless).
        connect_timeout: seconds to reach the scheduler (default :data:`CONNECT_TIMEOUT`).
    Returns:
        The report (manifest and conform written) and the worker that rendered each shot.
    Raises:
        FarmError: unreachable scheduler, no workers, or neither/both of scheduler and workers.
        SoraVfxError: bad input, found before anything is sent to the cluster.
    """
    if (scheduler is None) == (workers is None):
        raise FarmError("give either a scheduler address (tcp://HOST:PORT) or a number of local workers")
    connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    if scheduler is not None:
        scheduler = check_scheduler_address(scheduler)
        _probe(scheduler, connect_timeout)  # a typo fails now, not after the plan is checked
    # Workers run elsewhere, in other folders: they need an absolute output path.
    out_dir = Path(os.path.abspath(os.path.expanduser(out_dir)))
    plan = plan_without_weights(edit, out_dir, settings)
    tasks = [ShotTask(shot, settings) for shot in plan.shots]
    with DaskClient(scheduler, workers, connect_timeout) as client:
        address = client.scheduler.address
        results, placement = _run_tasks(client, tasks, retries)
    report = finish_render(plan, results)
    return ClusterRender(report, address, placement)


class DaskClient:
    """A Dask client for a scheduler address, or for a local cluster of N worker processes."""

    def __init__(self, scheduler: str | None, workers: int | None, timeout: float):
        self.scheduler, self.workers, self.timeout = scheduler, workers, timeout
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self):
        from distributed import Client, LocalCluster

        if self.workers is not None:
            # One thread per process: a process renders one shot at a time on its device.
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address="127.0.0.1:0")
            self.client = Client(self.cluster)
            return self.client
        address = check_scheduler_address(self.scheduler or "")
        try:
            self.client = Client(address, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            raise FarmError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (TimeoutError, OSError):
            self.client.close()
            raise FarmError(f"the Dask scheduler at {address} has had no worker for {WORKER_TIMEOUT:.0f} s; "
                            f"start some with `dask worker {address}`") from None
        return self.client

    def __exit__(self, *exc_info) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _tls_context(address: str) -> ssl.SSLContext | None:
    """The client's TLS context for a ``tls://`` scheduler, from Dask's TLS settings (its CA,
    the client's certificate and key), which Dask's client would otherwise miss with a
    TypeError; None for other schemes.

    Raises:
        FarmError: ``address`` is tls and the settings are missing or cannot be read.
    """
    if not address.lower().startswith("tls://"):
        return None
    from distributed.security import Security

    try:
        context = Security().get_connection_args("client").get("ssl_context")
    except (OSError, ValueError) as exc:  # a file that cannot be read, a key that does not match
        raise FarmError(f"the Dask scheduler at {address}: Dask's TLS settings cannot be used: {exc}") from None
    if context is None:
        raise FarmError(f"the Dask scheduler at {address} speaks TLS, and Dask's TLS settings are not set: give "
                        "the CA and the client's certificate and key (distributed.comm.tls.ca-file, "
                        "distributed.comm.tls.client.cert and .key in the Dask config, or "
                        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ...__CLIENT__CERT, ...__CLIENT__KEY)")
    return context


def _probe(address: str, timeout: float) -> None:
    """Fail at once, with a readable message, when nothing listens at a tcp or tls address, or
    when what listens does not greet as a Dask scheduler does within ``timeout`` seconds (a
    scheduler speaks first, after the TLS handshake for tls; Dask's own client would wait for
    its greeting for ever)."""
    match = _ADDRESS.match(address)
    context = _tls_context(address)
    if not match or (match["scheme"] != "tcp" and context is None):
        return
    host = match["host"].strip("[]")
    try:
        connection = socket.create_connection((host, int(match["port"])), timeout=timeout)
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise FarmError(f"cannot reach the Dask scheduler at {address}: {reason}; start one with "
                        "`dask scheduler`, or render on a local cluster of worker processes") from None
    silent = FarmError(f"the Dask scheduler at {address} took the connection but did not answer within "
                       f"{timeout:g} s: is a Dask scheduler (`dask scheduler`) listening there, and not "
                       "something else?")
    with connection:
        connection.settimeout(timeout)
        greeting = b""
        try:
            if context is not None:
                connection = context.wrap_socket(connection, server_hostname=host if context.check_hostname else None)
            greeting = connection.recv(1)
        except TimeoutError:
            raise silent from None
        except ssl.SSLError as exc:
            raise FarmError(f"the Dask scheduler at {address}: the TLS handshake failed ({exc.reason or exc}): "
                            "do Dask's TLS settings here match the scheduler's?") from None
        except OSError:  # reset
            pass
        finally:
            connection.close()
    if not greeting:
        raise FarmError(f"the Dask scheduler at {address} closed the connection without answering: is a Dask "
                        "scheduler (`dask scheduler`) listening there, and not something else?")


def _run_tasks(client, tasks: list[ShotTask], retries: int) -> tuple[list[ShotResult], dict[str, dict]]:
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    by_name = {task.shot.name: task for task in tasks}
    futures: dict[str, Any] = {}  # by shot name
    for job in continuation_order([task.shot.job for task in tasks]):
        # The predecessor's future as an argument: Dask runs this task after it, with its result.
        after = futures[job.continues] if job.continues in futures else None
        futures[job.name] = client.submit(render_shot_task, by_name[job.name], after,
                                          key=f"sora-vfx-{job.name}-{token}", retries=retries, pure=False)
    names = {future: name for name, future in futures.items()}
    results: dict[str, ShotResult] = {}
    placement: dict[str, dict[str, Any]] = {}
    for future in as_completed(futures.values()):
        name = names[future]
        try:
            result, worker = future.result()
        except Exception as exc:
            result, worker = _failure(by_name[name], exc, futures), None
        results[name] = result
        if worker is not None:
            entry = placement.setdefault(worker["address"], {"name": worker["name"], "pid": worker["pid"],
                                                             "shots": [], "model_loads": 0})
            entry["shots"].append(name)
            entry["model_loads"] = max(entry["model_loads"], worker["model_loads"])
            where = f" on {worker['address']}"
        else:
            where = ""
        if result.status == "failed":
            log.error("shot %s FAILED%s: %s", name, where, result.error)
        else:
            log.info("shot %s: %s%s, %d frames written, %d kept, %.1f s", name, result.status, where,
                     result.frames_written, result.frames_reused, result.seconds)
    return [results[task.shot.name] for task in tasks], placement


def _failure(task: ShotTask, exc: Exception, futures: dict[str, Any]) -> ShotResult:
    """The result of a shot whose task raised ``exc``; ``futures``: every shot's task, by name."""
    from distributed import wait

    previous = task.shot.job.continues
    if previous in futures:
        wait(futures[previous])  # returns at once: this task ended after that one
        if futures[previous].status == "error":
            # Dask never ran this task; it passed on the error of the task it waited for.
            return ShotResult(task.shot, "failed", error=f"shot {task.shot.name} continues shot {previous}, "
                                                         "which failed")
    if isinstance(exc, ShotTaskFailed):
        return exc.result
    # KilledWorker (lost too many workers), a worker's import error...
    return ShotResult(task.shot, "failed", error=f"{type(exc).__name__}: {exc}")


# --- on the worker -------------------------------------------------------------------------

_MODELS: dict[tuple, LoadedModel] = {}
_MODELS_LOCK = threading.Lock()
# One shot at a time per process: a pipeline's scheduler is stateful, and a worker started
# with several threads would otherwise run two shots on one model at once.
_RENDER_LOCK = threading.Lock()
_LOADS = 0


def render_shot_task(task: ShotTask, after: tuple[ShotResult, dict[str, Any]] | None = None,
                     ) -> tuple[ShotResult, dict[str, Any]]:
    """Run on a Dask worker: render one shot with this process's model (loaded once).

    Args:
        task: the shot and the settings its model is loaded with.
        after: the task result of the shot this one continues, when that shot is in the render:
            Dask passes it once that task has finished, and never runs this one if it failed.
    Returns:
        The shot's result and which worker rendered it.
    Raises:
        ShotTaskFailed: the shot failed; Dask retries it (on this or another worker).
    """
    with _RENDER_LOCK:
        model = _worker_model(task.settings, task.shot.model)
        spec = task.shot.spec
        if model.name != spec.model or model.fingerprint != spec.model_fingerprint:
            raise ShotTaskFailed(ShotResult(task.shot, "failed", error=(
                f"model {spec.model} on this worker ({model.folder}) differs from the driver's "
                f"(fingerprint {model.fingerprint}, expected {spec.model_fingerprint})")))
        result = render_shot(task.shot, model)
    if result.status == "failed":
        raise ShotTaskFailed(result)
    return result, _worker_info()


def _worker_model(settings: RenderSettings, name: str) -> LoadedModel:
    global _LOADS
    device = settings.device or _local_cluster_device()
    key = (name, device, str(settings.cache_dir), settings.memory, settings.speed)
    with _MODELS_LOCK:
        if key not in _MODELS:
            started = time.perf_counter()
            _MODELS[key] = load_model(name, device=device, cache_dir=settings.cache_dir, memory=settings.memory,
                                      acceleration=settings.speed, render_size=settings.size,
                                      window=settings.max_window)
            _LOADS += 1
            log.info("worker %d: loaded model %s on %s in %.1f s", os.getpid(), name,
                     _MODELS[key].device, time.perf_counter() - started)
        return _MODELS[key]


def _local_cluster_device() -> str | None:
    """With several GPUs and no --device, worker N of a local cluster takes GPU N (mod count).

    Workers started by hand pick the best device themselves; give each its own GPU with
    CUDA_VISIBLE_DEVICES.
    """
    import torch
    from distributed import get_worker

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    try:
        name = get_worker().name
    except ValueError:
        return None
    if count > 1 and isinstance(name, int):
        return f"cuda:{name % count}"
    return None


def _worker_info() -> dict[str, Any]:
    from distributed import get_worker

    worker = get_worker()
    return {"address": worker.address, "name": str(worker.name), "pid": os.getpid(), "model_loads": _LOADS}
