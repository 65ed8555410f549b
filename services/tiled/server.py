"""Run the real Tiled server: a writable SQLite catalog with ``demo/``, ``results/`` and the
read-only data roots registered under ``data/<folder name>``."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

from algorithms.data.uris import within_roots
from services.tiled.settings import TiledSettings, get_settings

logger = logging.getLogger("mlex.tiled")

# Containers every MLEx catalog has: demo data sets, job results, and the registered roots.
CONTAINERS = ("demo", "results", "data")
# Tiled reads PNG with its Pillow-based JPEG adapter once told which mimetype a .png is.
PNG_MIMETYPE = "image/png"
ADAPTERS_BY_MIMETYPE = {PNG_MIMETYPE: "tiled.adapters.jpeg:JPEGAdapter"}
MIMETYPES_BY_FILE_EXT = {".png": PNG_MIMETYPE}
# Written under <home>/tiled once the containers exist and the roots are registered.
READY_FILENAME = "ready"


def initialize_catalog(settings: TiledSettings) -> None:
    """Create the catalog database and the writable folder on first use."""
    settings.writable_dir.mkdir(parents=True, exist_ok=True)
    database = settings.tiled_dir / "catalog.db"
    if database.exists():
        return
    from sqlalchemy.ext.asyncio import create_async_engine
    from tiled.alembic_utils import stamp_head
    from tiled.catalog.alembic_constants import ALEMBIC_DIR, ALEMBIC_INI_TEMPLATE_PATH
    from tiled.catalog.core import initialize_database
    from tiled.utils import ensure_specified_sql_driver

    uri = ensure_specified_sql_driver(settings.catalog_uri)
    engine = create_async_engine(uri)

    async def _create() -> None:
        await initialize_database(engine)
        await engine.dispose()

    _run_coroutine(_create())
    stamp_head(ALEMBIC_INI_TEMPLATE_PATH, ALEMBIC_DIR, uri)


def build_catalog(settings: TiledSettings) -> Any:
    """The Tiled catalog adapter: writable storage under the home, data roots readable."""
    from tiled.catalog import from_uri

    initialize_catalog(settings)
    return from_uri(
        settings.catalog_uri,
        writable_storage=[str(settings.writable_dir)],
        readable_storage=[str(root) for root in settings.roots],
        adapters_by_mimetype=dict(ADAPTERS_BY_MIMETYPE),
    )


def build_app(settings: TiledSettings | None = None) -> Any:
    """The Tiled FastAPI app over the MLEx catalog (for uvicorn or in-process tests)."""
    from tiled.config import Authentication
    from tiled.server.app import build_app as tiled_build_app

    settings = settings or get_settings()
    authentication = Authentication(
        allow_anonymous_access=settings.tiled_public,
        single_user_api_key=settings.api_key(create=True),
    )
    return tiled_build_app(build_catalog(settings), authentication)


def in_process_client(settings: TiledSettings, app: Any | None = None) -> Any:
    """A Tiled client talking to the app in memory (no network), catalog prepared."""
    from tiled.client import from_context
    from tiled.client.context import Context

    app = app if app is not None else build_app(settings)
    client = from_context(Context.from_app(app, api_key=settings.api_key(create=True)))
    prepare_catalog(client, settings)
    return client


def prepare_catalog(client: Any, settings: TiledSettings) -> None:
    """Create the standard containers and (re)register every data root under ``data/``."""
    for name in CONTAINERS:
        if name not in client:
            client.create_container(name)
    used: set[str] = set()
    for root in settings.roots:
        key = _unique_key(root.name or "root", used)
        register_root(client["data"], root, key, settings.roots)


def register_root(node: Any, root: Path, key: str, roots: list[Path]) -> None:
    """Register the files of ``root`` (metadata only; files stay where they are) as ``key``."""
    from tiled.client.register import default_filter, register

    def inside_roots(path: Path) -> bool:
        # Links that lead out of the roots are never registered, so never served.
        return default_filter(path) and within_roots(path.resolve(), roots)

    _run_coroutine(
        register(
            node,
            root,
            prefix=f"/{key}",
            adapters_by_mimetype=dict(ADAPTERS_BY_MIMETYPE),
            mimetypes_by_file_ext=dict(MIMETYPES_BY_FILE_EXT),
            filter=inside_roots,
        )
    )
    logger.info("registered data root %s as data/%s", root, key)


def _unique_key(name: str, used: set[str]) -> str:
    key, number = name, 2
    while key in used:
        key, number = f"{name}_{number}", number + 1
    used.add(key)
    return key


def _run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion, also from a thread that has a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: dict[str, Any] = {}

    def _target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed back to the caller's thread
            result["error"] = error

    thread = threading.Thread(target=_target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def serve(host: str, port: int) -> None:
    """Run the Tiled server until interrupted (``mlex tiled``)."""
    import uvicorn
    from tiled.client import from_uri

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logger.setLevel(logging.INFO)
    settings = get_settings()
    ready_file = settings.tiled_dir / READY_FILENAME
    ready_file.unlink(missing_ok=True)
    app = build_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    )

    def _prepare_when_up() -> None:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        if not server.started:
            return
        client_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        client = from_uri(f"http://{client_host}:{port}", api_key=settings.api_key())
        prepare_catalog(client, settings)
        ready_file.write_text(f"http://{client_host}:{port}\n")
        print(f"MLEx Tiled server ready on http://{client_host}:{port}", flush=True)

    threading.Thread(target=_prepare_when_up, name="prepare-catalog", daemon=True).start()
    server.run()
