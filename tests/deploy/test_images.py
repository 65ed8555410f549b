"""Each image's extras hold everything its command imports (and nothing heavier is needed).

No Docker engine runs here, so each image is imitated in a child Python: only the
distributions its extras pull in (transitively, from the installed metadata) may be imported;
any other third-party module is refused as if it were not installed. The child then does what
the container's command does first: import its modules and build its app.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.conftest import ROOT, parse_dockerfile

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OWN_PACKAGES = ["algorithms", "services", "workers", "frontends", "deploy", "mlex_cli"]
# What every python:3.11-slim image has besides the standard library.
IMAGE_BASE = ["pip", "setuptools", "pkg_resources", "_distutils_hack", "wheel"]


def distributions_of(extras: list[str]) -> set[str]:
    """Canonical names of every distribution `pip install ".[extras]"` installs."""
    project = PYPROJECT["project"]
    pending = [Requirement(text) for text in project["dependencies"]]
    for extra in extras:
        pending += [Requirement(text) for text in project["optional-dependencies"][extra]]
    found: dict[str, set[str]] = {}
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        wanted = set(requirement.extras)
        if name in found and wanted <= found[name]:
            continue
        found[name] = found.get(name, set()) | wanted
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            sub = Requirement(text)
            if sub.marker is None or any(
                sub.marker.evaluate({"extra": extra}) for extra in ["", *found[name]]
            ):
                sub.marker = None  # accepted for the extras of its parent
                pending.append(sub)
    return set(found)


def importable_modules(extras: list[str]) -> list[str]:
    """Top-level module names the image of these extras provides."""
    distributions = distributions_of(extras)
    return sorted(
        module
        for module, owners in metadata.packages_distributions().items()
        if any(canonicalize_name(owner) in distributions for owner in owners)
    )


CHILD = textwrap.dedent(
    """
    import importlib.machinery, importlib.metadata as md, json, re, sys
    allowed, distributions = (set(items) for items in json.loads(sys.argv[1]))
    # Hide the installed packages; let through only the image's, as if nothing else were there.
    site_dirs = [p for p in sys.path if "site-packages" in p]
    sys.path[:] = [p for p in sys.path if p not in site_dirs]

    def canonical(name):
        return re.sub(r"[-_.]+", "-", name).lower()

    class ImagePackages:
        def find_spec(self, name, path=None, target=None):
            if path is None and name in allowed:
                return importlib.machinery.PathFinder.find_spec(name, site_dirs)
            return None

        def find_distributions(self, context=md.DistributionFinder.Context()):
            search = md.DistributionFinder.Context(name=context.name, path=site_dirs)
            for found in md.MetadataPathFinder.find_distributions(search):
                if canonical(found.metadata["Name"]) in distributions:
                    yield found

    sys.meta_path.append(ImagePackages())
    exec(sys.argv[2])
    print("image-ok")
    """
)

API_START = """
import tempfile, uvicorn
from pathlib import Path
from typing import Any
import services.compute.app, services.labels.app
from services.content.app import create_app, register_builtin_cards
from services.content.settings import ContentSettings
home = Path(tempfile.mkdtemp())
app = create_app(ContentSettings(home=home, admin_api_key="k", log_level="WARNING"))
register_builtin_cards(app)
assert app.state.validator.builtin_models, "no built-in algorithm cards without the worker stack"
"""

WORKER_START = """
import importlib.util
import workers.main, workers.tasks
from algorithms.registry import list_algorithms
# Import every runner (TensorFlow's only found: importing it is slow and adds nothing here).
for info in list_algorithms():
    if info.framework == "tensorflow":
        assert importlib.util.find_spec("tensorflow"), info.name
    else:
        info.load_runner()
"""

GPU_WORKER_START = """
import workers.main, workers.tasks, torch
"""

TILED_START = """
import tempfile, uvicorn
from pathlib import Path
from typing import Any
from services.tiled.server import build_app
from services.tiled.settings import TiledSettings
build_app(TiledSettings(home=Path(tempfile.mkdtemp()), tiled_api_key="secret1"))
"""

FRONTENDS_START = """
from frontends.server import create_server
create_server()
"""

# Compose service -> what its container does first. The API image serves all three APIs.
IMAGES = {
    "content": API_START,
    "worker-cpu": WORKER_START,
    # The GPU worker has no TensorFlow: Keras jobs (GPU optional) go to the CPU queue.
    "worker-gpu": GPU_WORKER_START,
    "tiled": TILED_START,
    "frontends": FRONTENDS_START,
}


def image_extras(service: dict[str, Any]) -> list[str]:
    """The extras the compose service's image installs (its Dockerfile and build args)."""
    build = service["build"]
    return parse_dockerfile(ROOT / build["dockerfile"]).extras(build.get("args"))


@pytest.mark.slow
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_the_image_extras_provide_everything_its_command_imports(
    image: str, services: dict[str, Any], tmp_path: Path
) -> None:
    extras, start = image_extras(services[image]), IMAGES[image]
    allowed = [*importable_modules(extras), *OWN_PACKAGES, *IMAGE_BASE]
    distributions = sorted(distributions_of(extras) | {"mlex", "pip", "setuptools", "wheel"})
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([allowed, distributions]), start],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MLEX_HOME": str(tmp_path)},
    )
    assert "image-ok" in result.stdout, f"{image} image cannot start:\n{result.stderr[-3000:]}"


def test_the_api_image_has_no_science_stack(services: dict[str, Any]) -> None:
    modules = set(importable_modules(image_extras(services["content"])))
    # (numba comes with tiled[client]; the networks and learners stay out.)
    assert not modules & {"torch", "tensorflow", "sklearn", "skimage", "umap", "scipy"}
    assert {"fastapi", "sqlalchemy", "alembic", "psycopg", "celery", "jsonschema"} <= modules
