"""Run one claimed job: a child process (or container), its events forwarded in batches.

The child is ``python -m algorithms run NAME STEP --spec spec.json`` (argument list, no shell)
in its own process group, so a cancel or a time limit kills it and everything it started.
It also gets SIGKILL if the worker process dies (Linux ``PR_SET_PDEATHSIG``), so a ``kill -9``
of a worker leaves no orphan writing results.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

import httpx

from services.common.client import ApiClientError, BaseClient
from services.compute.client import ComputeClient
from services.compute.schemas import JobControl, JobFinish, JobPublic
from workers.container import container_command, stop_command
from workers.inputs import InputError, build_spec, results_location
from workers.settings import WorkerSettings

logger = logging.getLogger("mlex.worker.runner")

PR_SET_PDEATHSIG = 1
WORKER_SECRETS = frozenset(
    {"MLEX_ADMIN_API_KEY", "MLEX_WORKER_API_KEY", "MLEX_CONTENT_API_KEY", "MLEX_API_KEY"}
)
_LIBC: Any = None
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # not Linux: no parent-death signal
    _LIBC = None


def _child_setup() -> None:
    """In the child before exec: own process group, and die with the worker."""
    os.setsid()
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def child_command(
    job: JobPublic,
    spec_path: Path,
    work_dir: Path,
    settings: WorkerSettings,
    gpu: str = "none",
    command: list[str] | None = None,
    entry_point: str | None = None,
) -> list[str]:
    """The argument list that runs one job: a container if the card names an image."""
    if job.image:
        return container_command(
            settings.worker_container_engine,
            job.image,
            job.step,
            spec_path,
            work_dir,
            name=f"mlex-{job.id}-{job.attempts}",
            gpu=gpu,
            command=command,
            volumes={str(settings.home): str(settings.home)},
        )
    if entry_point:
        words = shlex.split(entry_point)
        if words and Path(words[0]).name.startswith("python"):
            words[0] = sys.executable
        return [*words, job.step, "--spec", str(spec_path)]
    return [
        sys.executable,
        "-m",
        "algorithms",
        "run",
        job.algorithm,
        job.step,
        "--spec",
        str(spec_path),
    ]


def kill_group(process: subprocess.Popen[Any], grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after ``grace``."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure its children are too.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


class JobRun:
    """One attempt of one job on this worker."""

    def __init__(
        self,
        api: ComputeClient,
        job: JobPublic,
        worker: str,
        settings: WorkerSettings,
        time_limit: float | None = None,
        content: BaseClient | None = None,
        labels: BaseClient | None = None,
        card: dict[str, Any] | None = None,
    ) -> None:
        self.api = api
        self.job = job
        self.worker = worker
        self.settings = settings
        self.time_limit = min(time_limit or settings.job_time_limit, settings.job_time_limit)
        self.content = content
        self.labels = labels
        self.card = card or {}
        self.work_dir = settings.work_root() / job.id / f"attempt-{job.attempts}"
        self.pending: list[dict[str, Any]] = []
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.epochs: list[dict[str, Any]] = []
        self.stderr_tail: deque[str] = deque(maxlen=30)

    # --- reporting ----------------------------------------------------------
    def report(self) -> JobControl | None:
        """Send pending events (or a bare heartbeat); None when the API could not be reached."""
        batch, self.pending = self.pending, []
        try:
            return self.api.report(self.job.id, self.worker, batch)
        except ApiClientError as error:
            if error.status_code in (404, 409):
                return JobControl(state="canceled", cancel=True)
            logger.warning("report for job %s refused: %s", self.job.id, error)
            self.pending = batch + self.pending
        except httpx.HTTPError as error:
            logger.warning("compute API unreachable for job %s: %s", self.job.id, error)
            self.pending = batch + self.pending
        return None

    def note(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "result":
            self.result = event
        elif kind == "error":
            self.error = event
        elif kind == "metric":
            self.epochs.append({"epoch": event.get("epoch"), **(event.get("values") or {})})
        self.pending.append(event)

    # --- running ------------------------------------------------------------
    def execute(self) -> JobFinish | None:
        """Run the job; the finish to report, or None when it was canceled or taken away."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            spec = build_spec(self.job, self.settings, self.work_dir, self.content, self.labels)
        except InputError as error:
            return JobFinish(worker=self.worker, state="failed", error=str(error))
        spec_path = self.work_dir / "spec.json"
        spec_path.write_text(spec.model_dump_json(indent=2))
        command = child_command(
            self.job,
            spec_path,
            self.work_dir,
            self.settings,
            gpu=self.card.get("gpu", "none"),
            command=self.card.get("command"),
            entry_point=self.card.get("entry_point"),
        )
        self.note(
            {
                "type": "log",
                "level": "info",
                "time": time.time(),
                "message": "run: " + shlex.join(command),
            }
        )
        # The run gets what it needs in its spec, never the worker's own API keys.
        env = {k: v for k, v in os.environ.items() if k not in WORKER_SECRETS}
        env.update({"PYTHONUNBUFFERED": "1", "MLEX_JOB_ID": self.job.id})
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.work_dir,
            env=env,
            text=True,
            bufsize=1,
            preexec_fn=_child_setup,  # noqa: PLW1509 - setsid and parent-death signal only
        )
        stop = self._supervise(process)
        if stop == "canceled":
            return None
        results: dict[str, Any] = {
            "results_uri": results_location(spec.outputs.results_uri, self.job.id)
        }
        if spec.outputs.model_dir:
            results["model_dir"] = spec.outputs.model_dir
        if stop == "time":
            return JobFinish(
                worker=self.worker,
                state="failed",
                error=f"time limit of {self.time_limit:g} s exceeded",
                results=results,
            )
        if process.returncode == 0 and self.result is not None:
            model_id = self._register_model(spec.inputs.data_uri)
            self.report()
            return JobFinish(
                worker=self.worker, state="completed", results=results, model_id=model_id
            )
        return JobFinish(
            worker=self.worker, state="failed", error=self._failure(process), results=results
        )

    def _supervise(self, process: subprocess.Popen[str]) -> str | None:
        """Forward events until the child ends; kill it on cancel or time limit."""
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        readers = [
            threading.Thread(target=_read_events, args=(process.stdout, events), daemon=True),
            threading.Thread(
                target=_read_stderr, args=(process.stderr, events, self.stderr_tail), daemon=True
            ),
        ]
        for reader in readers:
            reader.start()
        started = time.monotonic()
        last_report = 0.0
        open_streams = len(readers)
        stop: str | None = None
        while open_streams:
            try:
                event = events.get(timeout=0.05)
                while True:
                    if event is None:
                        open_streams -= 1
                    else:
                        self.note(event)
                    event = events.get_nowait()
            except queue.Empty:
                pass
            now = time.monotonic()
            if stop is None and (
                now - last_report >= self.settings.worker_report_interval
                or len(self.pending) >= 500
            ):
                last_report = now
                control = self.report()
                if control is not None and control.cancel:
                    stop = "canceled"
                    self._kill(process)
            if stop is None and now - started > self.time_limit:
                stop = "time"
                self._kill(process)
        process.wait()
        for reader in readers:
            reader.join(timeout=1)
        if stop is None:
            control = self.report()
            if control is not None and control.cancel:
                stop = "canceled"
        return stop

    def _kill(self, process: subprocess.Popen[str]) -> None:
        if self.job.image:
            name = f"mlex-{self.job.id}-{self.job.attempts}"
            subprocess.run(
                stop_command(self.settings.worker_container_engine, name),
                capture_output=True,
                check=False,
                timeout=10,
            )
        kill_group(process, self.settings.worker_kill_grace)

    def _failure(self, process: subprocess.Popen[str]) -> str:
        if self.error is not None:
            message = str(self.error.get("message") or "run failed")
            field = self.error.get("field")
            return f"{message} (field {field})" if field else message
        tail = "\n".join(self.stderr_tail)
        if process.returncode is not None and process.returncode < 0:
            reason = f"run killed by signal {-process.returncode}"
        elif self.result is None and process.returncode == 0:
            reason = "run ended without a result event"
        else:
            reason = f"run exited with code {process.returncode}"
        return f"{reason}\n{tail}".strip()

    def _register_model(self, data_uri: str | None) -> str | None:
        """Register a trained model named by the result event in MLExContent."""
        model = (self.result or {}).get("model")
        if not isinstance(model, dict) or not model.get("weights_uri") or self.content is None:
            return None
        inputs = self.job.inputs
        body = {
            "name": f"{self.job.algorithm}-{self.job.id[:8]}",
            "algorithm": self.job.algorithm,
            "algorithm_version": self.job.version,
            "weights_uri": str(model["weights_uri"]),
            "parameters": model.get("parameters") or self.job.parameters,
            "metrics": {
                "final": _finite(model.get("metrics") or {}),
                "epochs": [_finite(epoch) for epoch in self.epochs],
            },
            "lineage": {
                "job_id": self.job.id,
                "dataset_uris": [data_uri] if data_uri else [],
                "tagging_event_ids": ([inputs.tagging_event_id] if inputs.tagging_event_id else []),
            },
        }
        if model.get("framework"):
            body["framework"] = model["framework"]
        try:
            registered = self.content.post_json("/models", body)
        except Exception as error:  # the run succeeded: keep its results, say what failed
            self.note(
                {
                    "type": "log",
                    "level": "warning",
                    "time": time.time(),
                    "message": f"could not register the trained model: {error}",
                }
            )
            return None
        model_id = str(registered["id"])
        self.note(
            {
                "type": "log",
                "level": "info",
                "time": time.time(),
                "message": f"registered model {model_id}",
            }
        )
        return model_id


def _finite(values: dict[str, Any]) -> dict[str, float]:
    """Only the finite numbers of a metrics dict (the model registry accepts nothing else)."""
    kept: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value == value and value not in (float("inf"), float("-inf")):
            kept[str(key)] = float(value)
    return kept


def _read_events(stream: IO[str] | None, events: queue.Queue[dict[str, Any] | None]) -> None:
    """Parse the child's stdout: JSON-lines events; anything else becomes a log line."""
    assert stream is not None
    for line in stream:
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or "type" not in event:
                raise ValueError("not an event")
        except ValueError:
            event = {"type": "log", "level": "stdout", "message": line, "time": time.time()}
        events.put(event)
    events.put(None)


def _read_stderr(
    stream: IO[str] | None, events: queue.Queue[dict[str, Any] | None], tail: deque[str]
) -> None:
    assert stream is not None
    for line in stream:
        line = line.rstrip()
        if line:
            tail.append(line)
            events.put({"type": "log", "level": "stderr", "message": line, "time": time.time()})
    events.put(None)
