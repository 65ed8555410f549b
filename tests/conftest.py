"""Root fixtures: plugins from tests/fixtures are loaded when present."""

from __future__ import annotations

import importlib.util
import sqlite3

# TensorFlow bundles its own SQLite (built without FTS5) and loads it with global symbols; a
# test module importing TensorFlow before sqlite3 is bound would leave the in-process Tiled
# catalog without FTS5. Binding the system SQLite first keeps every sqlite3 call on it.
with sqlite3.connect(":memory:") as _connection:
    _connection.execute("CREATE VIRTUAL TABLE _probe USING fts5(text)")

_PLUGINS = (
    "tests.fixtures.env",
    "tests.fixtures.db",
    "tests.fixtures.tiled",
    "tests.fixtures.services",
)
pytest_plugins = [name for name in _PLUGINS if importlib.util.find_spec(name) is not None]
