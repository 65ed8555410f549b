"""Splash ML, the label store: data sets, label classes, tagging events, tags and exports."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.app import ServiceDefinition, create_service_app
from services.labels.current import CurrentLabelsCache
from services.labels.routes import classes, datasets, events, projects, tags
from services.labels.settings import LabelsSettings, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_labels"

DESCRIPTION = """\
Splash ML stores what people and models say about the items of a data set.

* **Data sets** are a Tiled node or a folder; items are addressed by index.
* **Label classes** belong to a project (name, colour, hot key, order).
* **Tagging events** (a person or a model job) own every write, so labeling is versioned.
* **Tags** label items; removing a label is recorded as an 'unlabel' tag in a later event.

Send your key as `Authorization: Bearer <key>`. Errors are
`{"error": {"code", "message", "field", "details", "request_id"}}`.
"""


def create_app(settings: LabelsSettings | None = None) -> FastAPI:
    """Build the Splash ML API (``mlex api labels`` serves it with uvicorn)."""
    definition = ServiceDefinition(
        name="labels",
        title="Splash ML",
        description=DESCRIPTION,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        routers=[
            projects.router,
            datasets.router,
            classes.router,
            events.router,
            tags.router,
        ],
    )
    app = create_service_app(definition, settings or get_settings())
    app.state.current_labels = CurrentLabelsCache()
    return app
