"""The front-end server: one Dash app (on Flask) with a landing page, the apps, and thumbnails.

An app joins by being a package ``frontends/<name>/`` listed in ``APP_PACKAGES`` that either
calls ``dash.register_page(...)`` when imported, or defines ``register(app: dash.Dash)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import Any

from frontends.thumbnails import thumbnails_blueprint

logger = logging.getLogger("mlex.frontends")

APP_PACKAGES: tuple[tuple[str, str], ...] = (
    ("label_maker", "Label Maker: tag images and draw segmentation labels"),
    ("data_clinic", "Data Clinic: latent spaces, dimension reduction and clustering"),
    ("mlcoach", "MLCoach: train and run image classifiers"),
    ("latent_explorer", "Latent Space Explorer: browse images by their latent vectors"),
    ("segmentation", "Segmentation: train networks on sparse labels and segment volumes"),
)


def available_apps() -> list[tuple[str, str]]:
    """The app packages that exist in this installation, with their descriptions."""
    found = []
    for name, description in APP_PACKAGES:
        if importlib.util.find_spec(f"frontends.{name}") is not None:
            found.append((name, description))
    return found


def landing_layout(apps: list[tuple[str, str]]) -> Any:
    """The landing page: the title and one link per installed app."""
    from dash import dcc, html

    if apps:
        items = [
            html.Li([dcc.Link(name.replace("_", " ").title(), href=f"/{name}"), f" — {text}"])
            for name, text in apps
        ]
        body: Any = html.Ul(items, id="landing-apps")
    else:
        body = html.P("No front-end apps are installed yet.", id="landing-apps")
    return html.Div(
        [
            html.H1("MLEx"),
            html.P("Machine learning for image analysis at scientific user facilities."),
            body,
        ],
        id="landing",
        style={"fontFamily": "sans-serif", "maxWidth": "60rem", "margin": "2rem auto"},
    )


def create_server() -> Any:
    """The Flask server of the Dash app, with the thumbnails blueprint registered."""
    import dash
    import flask

    server = flask.Flask("mlex-frontends")
    server.register_blueprint(thumbnails_blueprint())
    app = dash.Dash(
        "mlex",
        server=server,
        use_pages=True,
        pages_folder="",
        title="MLEx",
        suppress_callback_exceptions=True,
    )
    apps = available_apps()
    dash.register_page("landing", path="/", name="MLEx", layout=landing_layout(apps))
    for name, _ in apps:
        try:
            module = importlib.import_module(f"frontends.{name}")
            register = getattr(module, "register", None)
            if callable(register):
                register(app)
        except Exception:  # one broken app must not take the others down
            logger.exception("front-end app %s failed to load", name)
    app.layout = dash.html.Div([dash.page_container])
    server.dash_app = app  # type: ignore[attr-defined]
    return server


def serve(host: str, port: int) -> None:
    """Serve the front-ends until interrupted (``mlex frontends``), one thread per request."""
    server = create_server()
    server.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
