"""``mlex worker`` options and the Celery worker they start."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.broker import celery_priority, make_celery
from workers.main import build_parser, celery_argv, main, parse_queues


def test_queues_are_checked() -> None:
    assert parse_queues("gpu, cpu") == ["gpu", "cpu"]
    with pytest.raises(ValueError):
        parse_queues("cpu,fast")
    with pytest.raises(ValueError):
        parse_queues(",")


def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--queues", "nope"], ["--concurrency", "0"], ["--time-limit", "-1"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    assert "--queues" in capsys.readouterr().err


def test_celery_worker_runs_prefork_on_the_queues() -> None:
    args = build_parser().parse_args(["--queues", "gpu,cpu", "--concurrency", "2"])
    argv = celery_argv("gpu-1@host", parse_queues(args.queues), args.concurrency, "info")
    assert argv[0] == "worker"
    assert "--pool=prefork" in argv and "--queues=gpu,cpu" in argv
    assert "--concurrency=2" in argv and "--hostname=gpu-1@host" in argv
    assert "--loglevel=INFO" in argv


def test_embedded_broker_folders_and_late_acks(tmp_path) -> None:
    app = make_celery(None, tmp_path)
    assert app.conf.broker_url.startswith("filesystem")
    assert (tmp_path / "broker" / "queue").is_dir()
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["polling_interval"] == 0.1
    redis_app = make_celery("redis://127.0.0.1:6379/0", tmp_path)
    assert redis_app.conf.broker_transport_options["queue_order_strategy"] == "priority"
    assert celery_priority(9) == 0 and celery_priority(0) == 9


@pytest.mark.slow
def test_warm_up_fills_the_numba_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's background warm-up leaves compiled UMAP kernels in the disk cache."""
    from workers.main import warm_up_in_background

    cache = tmp_path / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    thread = warm_up_in_background()
    assert thread is not None
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert any(cache.rglob("*.nbi")), "no compiled kernels were cached"
