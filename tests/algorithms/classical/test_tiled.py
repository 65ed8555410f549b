"""Classical runners against a real (in-process) Tiled server."""

from __future__ import annotations

import numpy as np

from algorithms.__main__ import run_spec
from algorithms.data import ResultsWriter, read_array
from algorithms.events import EventEmitter
from algorithms.spec import JobSpec
from tests.fixtures.tiled import InProcessTiled


def test_threshold_writes_its_mask_to_tiled(tiled_in_process: InProcessTiled) -> None:
    images = np.zeros((3, 16, 16), dtype=np.float32)
    images[:, 4:12, 4:12] = 1.0
    source = ResultsWriter(tiled_in_process.uri("results"), "h3-images", tiled_in_process.api_key)
    images_uri = source.write_array("images", images)
    events = EventEmitter()
    spec = JobSpec(
        job_id="h3-threshold",
        algorithm="threshold",
        step="run",
        inputs={"data_uri": images_uri, "tiled_api_key": tiled_in_process.api_key},
        outputs={
            "results_uri": tiled_in_process.uri("results"),
            "tiled_api_key": tiled_in_process.api_key,
        },
    )
    assert run_spec("threshold", "run", spec, events) == 0, events.events[-1]
    mask = read_array(events.events[-1]["outputs"]["mask"], tiled_in_process.api_key)
    np.testing.assert_array_equal(mask, images.astype(np.uint8))
