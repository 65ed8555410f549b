"""The Tiled server as a real process: HTTP reads, thumbnails, results surviving a restart."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from algorithms.data import RemoteDataError, ResultsWriter, open_dataset, read_array
from algorithms.data.tiled_source import forget_clients
from frontends.thumbnails import ThumbnailService
from tests.fixtures.tiled import REPO_ROOT, TiledServer

pytestmark = pytest.mark.slow


def test_registered_folder_over_http(tiled_server: TiledServer) -> None:
    import tifffile

    stack = tifffile.imread(tiled_server.data_root / "stack.tif")

    folder = open_dataset(f"{tiled_server.uri}/api/v1/metadata/data/root", tiled_server.api_key)
    volume = open_dataset(f"{tiled_server.uri}/data/root/stack", tiled_server.api_key)

    assert folder.shape == (8, 48, 64)
    np.testing.assert_array_equal(volume[4], stack[4])
    np.testing.assert_array_equal(volume[0:2], stack[0:2])
    np.testing.assert_array_equal(volume.thumbnail(1, 32), stack[1, ::2, ::2])


def test_thumbnails_of_a_tiled_data_set(tiled_server: TiledServer) -> None:
    service = ThumbnailService(roots=[], api_key=tiled_server.api_key)

    data = service.thumbnail(f"{tiled_server.uri}/data/root/stack", 2, 32, "percentile")

    assert data.startswith(b"\x89PNG")


def test_results_survive_a_restart(tiled_server: TiledServer) -> None:
    from tiled.client import from_uri

    writer = ResultsWriter(
        tiled_server.uri, "job-restart", api_key=tiled_server.api_key, metadata={"model": "m1"}
    )
    array_uri = writer.write_array(
        "reconstruction", np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    )
    table_uri = writer.write_table("latent", pd.DataFrame({"z0": [0.5, 1.5], "z1": [2.0, 3.0]}))

    tiled_server.restart()
    forget_clients()
    client = from_uri(tiled_server.uri, api_key=tiled_server.api_key)

    node = client["results/job-restart/reconstruction"]
    np.testing.assert_array_equal(node.read(), np.arange(24).reshape(2, 3, 4))
    assert node.metadata["model"] == "m1"
    assert list(client["results/job-restart/latent"].read()["z1"]) == [2.0, 3.0]
    assert read_array(array_uri, tiled_server.api_key).shape == (2, 3, 4)
    assert table_uri.endswith("results/job-restart/latent")
    assert sorted(client["data/root"]) == ["image0", "image1", "image2", "stack"]


def test_wrong_api_key_is_refused(tiled_server: TiledServer) -> None:
    import httpx

    assert httpx.get(f"{tiled_server.uri}/api/v1/").status_code == 200  # health, no key
    assert httpx.get(f"{tiled_server.uri}/api/v1/metadata/data/root").status_code == 401
    with pytest.raises(RemoteDataError, match="refused the API key"):
        open_dataset(f"{tiled_server.uri}/data/root/stack", api_key="wrongkey123")


def test_demo_data_command_line(tiled_server: TiledServer) -> None:
    command = [sys.executable, "-m", "services.tiled.demo", "--small"]
    env = tiled_server.environment()

    first = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    second = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    assert "demo/shapes: wrote" in first.stdout
    assert second.returncode == 0 and "demo/shapes: exists, skipped" in second.stdout
    shapes = open_dataset(f"{tiled_server.uri}/demo/shapes", tiled_server.api_key)
    assert shapes.shape == (40, 64, 64)
