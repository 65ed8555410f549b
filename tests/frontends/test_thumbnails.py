"""The thumbnails endpoint: sizes, formats, one display range per data set, caches, errors."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from frontends.thumbnails import ThumbnailService, thumbnails_blueprint


@pytest.fixture
def volume_file(tmp_path: Path) -> Path:
    """A (4, 200, 300) uint16 stack: slice k is a horizontal ramp from 0 to (k + 1) * 1000."""
    import tifffile

    ramp = np.linspace(0.0, 1.0, 300)[np.newaxis, :].repeat(200, axis=0)
    stack = np.stack([(ramp * (k + 1) * 1000).astype(np.uint16) for k in range(4)])
    path = tmp_path / "data" / "stack.tif"
    path.parent.mkdir()
    tifffile.imwrite(path, stack, photometric="minisblack")
    return path


@pytest.fixture
def service(tmp_path: Path, volume_file: Path) -> ThumbnailService:
    return ThumbnailService(cache_dir=tmp_path / "cache", roots=[volume_file.parent])


@pytest.fixture
def client(service: ThumbnailService) -> Any:
    import flask

    app = flask.Flask("thumbnail-test")
    app.register_blueprint(thumbnails_blueprint(service))
    return app.test_client()


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_png_at_requested_size(client: Any, volume_file: Path) -> None:
    response = client.get(
        "/thumbnails", query_string={"uri": str(volume_file), "index": 1, "size": 96}
    )

    assert response.status_code == 200 and response.mimetype == "image/png"
    image = _image(response.data)
    assert image.format == "PNG" and image.size == (96, 64) and image.mode == "L"


def test_webp_when_asked(client: Any, volume_file: Path) -> None:
    by_parameter = client.get(
        "/thumbnails", query_string={"uri": str(volume_file), "format": "webp"}
    )
    by_header = client.get(
        "/thumbnails", query_string={"uri": str(volume_file)}, headers={"Accept": "image/webp"}
    )

    assert by_parameter.mimetype == "image/webp" and _image(by_parameter.data).format == "WEBP"
    assert by_header.mimetype == "image/webp"


def test_one_display_range_for_the_whole_data_set(client: Any, volume_file: Path) -> None:
    def brightest(index: int) -> int:
        query = {"uri": str(volume_file), "index": index, "size": 150, "transform": "none"}
        return int(np.asarray(_image(client.get("/thumbnails", query_string=query).data)).max())

    # Slice 0 reaches 1000 of the data set's 4000: a quarter of the range, not stretched to 255.
    assert brightest(3) == 255
    assert 55 <= brightest(0) <= 70


def test_log_and_percentile_transforms_differ(service: ThumbnailService, volume_file: Path) -> None:
    linear = np.asarray(_image(service.thumbnail(str(volume_file), 2, 64, "percentile")))
    logged = np.asarray(_image(service.thumbnail(str(volume_file), 2, 64, "log")))

    assert linear.shape == logged.shape
    # The log view lifts the dark end of the ramp.
    assert logged[:, 8].mean() > linear[:, 8].mean()


def test_memory_and_disk_caches(tmp_path: Path, volume_file: Path) -> None:
    first = ThumbnailService(cache_dir=tmp_path / "cache", roots=[volume_file.parent])
    data = first.thumbnail(str(volume_file), 0, 32)
    assert first.thumbnail(str(volume_file), 0, 32) is data  # memory hit: the same bytes object
    assert len(list((tmp_path / "cache").iterdir())) == 1

    volume_file.rename(volume_file.with_suffix(".moved"))  # only the disk cache can answer now
    second = ThumbnailService(cache_dir=tmp_path / "cache", roots=[volume_file.parent])

    assert second.thumbnail(str(volume_file), 0, 32) == data


def test_parallel_requests_agree(service: ThumbnailService, volume_file: Path) -> None:
    requests = [(index % 4, 48 + 16 * (index % 3)) for index in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda r: service.thumbnail(str(volume_file), *r), requests))

    for (index, size), data in zip(requests, results, strict=True):
        assert data == service.thumbnail(str(volume_file), index, size)
        assert max(_image(data).size) == size


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ({"uri": "/etc/passwd"}, 403, "outside the configured data roots"),
        ({"uri": "{root}/../../etc/passwd"}, 403, "outside"),
        ({"uri": "{root}/stack.tif", "index": 4}, 404, "out of range"),
        ({"uri": "{root}/absent"}, 404, "not found"),
        ({"uri": "{root}/notes.txt"}, 415, "unknown file type"),
        ({"uri": "{root}/stack.tif", "size": 0}, 400, "size"),
        ({"uri": "{root}/stack.tif", "index": "x"}, 400, "index"),
        ({"uri": "{root}/stack.tif", "transform": "gamma"}, 400, "transform"),
        ({}, 400, "uri"),
    ],
)
def test_errors(
    client: Any, volume_file: Path, query: dict[str, Any], status: int, text: str
) -> None:
    (volume_file.parent / "notes.txt").write_text("hello")
    query = {k: str(v).replace("{root}", str(volume_file.parent)) for k, v in query.items()}

    response = client.get("/thumbnails", query_string=query)

    assert response.status_code == status
    assert text in response.get_json()["detail"]


def test_symlink_out_of_roots_is_not_served(client: Any, volume_file: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.npy"
    np.save(outside, np.ones((8, 8)))
    (volume_file.parent / "link.npy").symlink_to(outside)

    response = client.get("/thumbnails", query_string={"uri": str(volume_file.parent / "link.npy")})

    assert response.status_code == 403


def test_front_end_server_mounts_thumbnails_and_landing_page(
    volume_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontends.server import create_server

    monkeypatch.setenv("MLEX_DATA_ROOTS", str(volume_file.parent))
    client = create_server().test_client()

    landing = client.get("/")
    layout = client.get("/_dash-layout")
    thumbnail = client.get("/thumbnails", query_string={"uri": str(volume_file), "size": 40})

    assert landing.status_code == 200 and b"<title>MLEx</title>" in landing.data
    assert layout.status_code == 200
    assert thumbnail.status_code == 200 and _image(thumbnail.data).size[0] == 40


def test_results_being_written_are_not_cached(tmp_path: Path) -> None:
    from algorithms.data import ResultsWriter

    handle = ResultsWriter(str(tmp_path / "results"), "job").create_array("p", (2, 16, 16), "f4")
    service = ThumbnailService(cache_dir=tmp_path / "cache", roots=[tmp_path])
    ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (16, 1))
    handle.write_slices(0, ramp)

    partial = service.thumbnail(handle.uri, 1, 16)  # slice 1 not written yet: all zeros
    handle.write_slices(1, ramp)
    finished = service.thumbnail(handle.uri, 1, 16)

    assert np.asarray(_image(partial)).max() == 0
    assert np.asarray(_image(finished)).max() == 255
    assert service.thumbnail(handle.uri, 1, 16) is finished  # complete now: cached


def test_tiled_data_set_chooses_its_own_transform(tiled_in_process: Any) -> None:
    from algorithms.data import ResultsWriter

    tiled = tiled_in_process
    counts = np.random.default_rng(0).poisson(3.0, (2, 32, 32)).astype(np.float32) ** 3
    uri = ResultsWriter(tiled.uri("results"), "thumbs", tiled.api_key).write_array(
        "scattering", counts, {"transform": "log"}
    )
    service = ThumbnailService(roots=[], api_key=tiled.api_key)

    chosen = service.thumbnail(uri, 1, 32)

    assert service.default_transform(uri) == "log"
    assert chosen == service.thumbnail(uri, 1, 32, "log")
    assert chosen != service.thumbnail(uri, 1, 32, "percentile")
