"""URI forms: Tiled routes and short forms, file URIs."""

from __future__ import annotations

import pytest

from algorithms.data.uris import is_remote, local_path, split_tiled_uri, tiled_node_uri


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("http://h:8000/api/v1/metadata/demo/foam/rings", "demo/foam/rings"),
        ("http://h:8000/api/v1/array/full/demo/shapes?slice=0", "demo/shapes"),
        ("http://h:8000/api/v1/table/full/results/j/latent", "results/j/latent"),
        ("http://h:8000/demo/shapes", "demo/shapes"),
        ("http://h:8000/api/v1/metadata/", ""),
        ("http://h:8000", ""),
    ],
)
def test_split_tiled_uri(uri: str, path: str) -> None:
    assert split_tiled_uri(uri) == ("http://h:8000", path)


def test_node_uri_round_trip() -> None:
    uri = tiled_node_uri("https://tiled.example.org/", "data/scan 1")

    assert uri == "https://tiled.example.org/api/v1/metadata/data/scan 1"
    assert split_tiled_uri(uri.replace(" ", "%20"))[1] == "data/scan 1"


def test_local_and_remote_forms() -> None:
    assert is_remote("https://x") and not is_remote("/data/x")
    assert local_path("file:///data/my%20scan") == "/data/my scan"
    assert local_path("/data/x") == "/data/x"
