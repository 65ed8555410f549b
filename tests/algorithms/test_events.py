"""Events printed by algorithm runs."""

from __future__ import annotations

import io
import json

import numpy as np

from algorithms.events import EventEmitter


def test_every_event_type_is_one_json_line() -> None:
    stream = io.StringIO()
    events = EventEmitter(stream=stream)
    events.progress(1.5, "done")
    events.metric(3, {"loss": np.float32(0.25), "f1": float("nan")})
    events.log("hello")
    events.artifact("mask", "http://tiled/results/1/mask", kind="array")
    events.result(model={"weights_uri": "/m"})
    events.error("bad", field="depth")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["type"] for line in lines] == [
        "progress",
        "metric",
        "log",
        "artifact",
        "result",
        "error",
    ]
    assert lines[0]["value"] == 1.0
    assert lines[1]["values"] == {"loss": 0.25, "f1": None}
    assert lines[3]["kind"] == "array" and lines[3]["name"] == "mask"
    assert lines[5]["field"] == "depth"


def test_without_a_stream_events_are_kept() -> None:
    events = EventEmitter()
    events.log("kept")
    assert events.events[0]["message"] == "kept"
