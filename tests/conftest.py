"""Root fixtures: plugins from tests/fixtures are loaded when present."""

from __future__ import annotations

import importlib.util

_PLUGINS = (
    "tests.fixtures.env",
    "tests.fixtures.db",
    "tests.fixtures.tiled",
    "tests.fixtures.services",
)
pytest_plugins = [name for name in _PLUGINS if importlib.util.find_spec(name) is not None]


# TensorFlow bundles its own SQLite (without FTS5) and loads it with global symbols: once it is
# imported, every later sqlite3 call in the process may resolve to that copy, which breaks the
# in-process Tiled catalog. Tests that import TensorFlow therefore run after all the others.
TENSORFLOW_TEST_DIRS = ("tests/algorithms/classification/",)


def pytest_collection_modifyitems(config: object, items: list) -> None:  # type: ignore[type-arg]
    def uses_tensorflow(item: object) -> bool:
        path = str(getattr(item, "path", ""))
        marked = getattr(item, "get_closest_marker", lambda _: None)("tensorflow") is not None
        return marked or any(part in path for part in TENSORFLOW_TEST_DIRS)

    items.sort(key=uses_tensorflow)
