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
