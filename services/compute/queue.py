"""Sending jobs to the workers: Celery tasks by name, and the background sweep thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from services.compute.lifecycle import Dispatch, sweep
from services.compute.models import Job
from services.compute.settings import ComputeSettings
from workers.broker import TASK_NAME, RunJobMessage, celery_priority, make_celery

logger = logging.getLogger("mlex.compute.queue")


class Dispatcher:
    """Sends ``mlex.run_job`` messages; a failed send leaves the job for the next sweep."""

    def __init__(self, settings: ComputeSettings, sessions: sessionmaker[Session]) -> None:
        self.celery = make_celery(settings.broker_url, settings.home, settings.broker_poll_interval)
        self.sessions = sessions

    def send(self, dispatches: Iterable[Dispatch]) -> None:
        failed: list[str] = []
        for item in dispatches:
            message = RunJobMessage(job_id=item.job_id, attempt=item.attempt)
            try:
                self.celery.send_task(
                    TASK_NAME,
                    kwargs={"message": message.model_dump(mode="json")},
                    queue=item.queue,
                    routing_key=item.queue,
                    priority=celery_priority(item.priority),
                    retry=True,
                    retry_policy={"max_retries": 2, "interval_start": 0.2},
                )
            except Exception as error:  # broker down: the sweep re-sends it
                logger.warning("could not send job %s: %s", item.job_id, error)
                failed.append(item.job_id)
        if failed:
            with self.sessions() as session:
                session.execute(update(Job).where(Job.id.in_(failed)).values(dispatched_at=0.0))
                session.commit()

    def waiting(self, queue: str) -> int | None:
        """Messages waiting in a broker queue; None when the broker cannot be asked."""
        try:
            with self.celery.connection_for_write() as connection:
                declared = connection.default_channel.queue_declare(queue=queue, passive=True)
                return int(declared.message_count)
        except Exception as error:  # broker down or queue never declared
            logger.warning("could not size queue %s: %s", queue, error)
            return None

    def close(self) -> None:
        self.celery.close()


class Reaper:
    """A daemon thread that runs :func:`sweep` every ``job_reaper_interval`` seconds."""

    def __init__(
        self,
        settings: ComputeSettings,
        sessions: sessionmaker[Session],
        send: Callable[[list[Dispatch]], None],
        waiting: Callable[[str], int | None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.send = send
        self.waiting = waiting
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlex-compute-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def run_once(self) -> list[Dispatch]:
        with self.sessions() as session:
            dispatches = sweep(session, self.settings, waiting=self.waiting)
        if dispatches:
            logger.info("re-sending %d job(s)", len(dispatches))
            self.send(dispatches)
        return dispatches

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.job_reaper_interval):
            try:
                self.run_once()
            except Exception:  # keep sweeping: a DB hiccup must not end the thread
                logger.exception("job sweep failed")
