"""Demo data written into Tiled: contents, labels kept aside, idempotence."""

from __future__ import annotations

import numpy as np
import pytest

from services.tiled.demo import SMALL, main, write_demo_data
from tests.fixtures.tiled import InProcessTiled


@pytest.fixture(scope="module")
def demo(tiled_in_process: InProcessTiled) -> InProcessTiled:
    write_demo_data(tiled_in_process.client, sizes=SMALL, log=lambda _: None)
    return tiled_in_process


def test_demo_contents(demo: InProcessTiled) -> None:
    node = demo.client["demo"]

    assert {"shapes", "shapes_labels", "shapes_masks", "scattering", "scattering_labels"} <= set(
        node
    )
    assert node["shapes"].shape == (SMALL.shapes, SMALL.shape_size, SMALL.shape_size)
    assert node["shapes"].metadata["class_names"] == ["circle", "triangle", "rectangle", "annulus"]
    labels = node["shapes_labels"].read()
    assert labels.shape == (SMALL.shapes,) and set(np.unique(labels)) <= {0, 1, 2, 3}
    assert node["scattering"].shape[0] == SMALL.scattering


def test_scattering_labels_are_a_separate_table(demo: InProcessTiled) -> None:
    table = demo.client["demo/scattering_labels"].read()

    assert len(table) == SMALL.scattering
    assert {"index", "label", "rings", "arcs", "peaks", "streaks"} <= set(table.columns)
    assert "labels" not in demo.client["demo/scattering"].metadata.get("class_names", [])


def test_foam_variants_and_ground_truth(demo: InProcessTiled) -> None:
    foam = demo.client["demo/foam"]

    assert {"high_quality", "noise_high", "rings", "streaks", "ground_truth"} <= set(foam)
    assert foam["noise_low"].shape == SMALL.foam_shape
    truth = foam["ground_truth"].read()
    assert truth.dtype == np.uint8 and set(np.unique(truth)) <= {0, 1}


def test_writing_again_skips_what_exists(demo: InProcessTiled) -> None:
    messages: list[str] = []

    written = write_demo_data(demo.client, sizes=SMALL, log=messages.append)

    assert written == []
    assert any("skipped" in message for message in messages)


def test_main_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--uri", "http://127.0.0.1:9", "--api-key", "x1", "--small"])

    assert code == 1
    assert "mlex demo-data: error" in capsys.readouterr().err
