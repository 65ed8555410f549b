"""docker-compose.yml, the Dockerfiles and the proxy name only things that exist and agree."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from mlex_cli.main import SERVICES, build_parser
from services.common.settings import DEFAULT_PORTS
from tests.deploy.conftest import (
    COMPOSE_FILE,
    NGINX_CONF,
    ROOT,
    parse_dockerfile,
    variables,
)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]

# The module each `mlex` sub-command runs (what the image must contain).
COMMAND_MODULES = {
    "tiled": "services.tiled.server",
    "worker": "workers.main",
    "frontends": "frontends.server",
}
# Which extra each kind of image installs.
IMAGE_EXTRAS = {"api": "services", "tiled": "tiled", "frontends": "frontends", "worker": "worker"}
PROXY_ROUTES = {
    "/api/content/": "content",
    "/api/compute/": "compute",
    "/api/labels/": "labels",
    "/tiled/": "tiled",
    "/": "frontends",
}


def mlex_args(service: dict[str, Any]) -> Any:
    command = service.get("command")
    assert isinstance(command, list) and command[0] == "mlex", command
    return build_parser().parse_args([str(part) for part in command[1:]])


def kind_of(service: dict[str, Any]) -> str:
    """api, worker, tiled or frontends: the `mlex` sub-command a service runs."""
    return str(service["command"][1])


def port_of(service: dict[str, Any]) -> int | None:
    """The port a service listens on (workers listen on none)."""
    if kind_of(service) == "worker":
        return None
    return mlex_args(service).port


def mlex_services(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if (s.get("command") or [""])[0] == "mlex"}


def test_the_topology_has_every_part(services: dict[str, Any]) -> None:
    assert set(services) == {
        "postgres",
        "redis",
        "tiled",
        "content",
        "compute",
        "labels",
        "worker-cpu",
        "worker-gpu",
        "frontends",
        "proxy",
    }


def test_every_mlex_command_parses_and_listens_on_the_default_port(
    services: dict[str, Any],
) -> None:
    commands = mlex_services(services)
    assert set(commands) == set(services) - {"postgres", "redis", "proxy"}
    for name, service in commands.items():
        if kind_of(service) == "worker":  # see test_workers_consume_the_cpu_and_the_gpu_queue
            assert importlib.util.find_spec(COMMAND_MODULES["worker"]) is not None
            continue
        args = mlex_args(service)
        if args.command == "api":
            assert args.name == name
            module = SERVICES[args.name][1]
            assert args.port == DEFAULT_PORTS[args.name], name
        else:
            module = COMMAND_MODULES[args.command]
            assert args.port == DEFAULT_PORTS[args.command], name
        assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"
        port = port_of(service)
        if port is not None:
            assert str(port) in [str(p) for p in service.get("expose", [])], name
            health = " ".join(service["healthcheck"]["test"])
            assert f"127.0.0.1:{port}/" in health, name


def test_workers_consume_the_cpu_and_the_gpu_queue(services: dict[str, Any]) -> None:
    from workers.main import build_parser as worker_parser
    from workers.main import parse_queues

    queues = {}
    for name in ("worker-cpu", "worker-gpu"):
        args = mlex_args(services[name])
        assert args.command == "worker"
        options = worker_parser().parse_args(args.args)
        queues[name] = parse_queues(options.queues)
        assert options.concurrency >= 1
    assert queues == {"worker-cpu": ["cpu"], "worker-gpu": ["gpu"]}
    image_default = parse_dockerfile(ROOT / "deploy" / "docker" / "worker.Dockerfile").cmd
    assert build_parser().parse_args(image_default[1:]).command == "worker"
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert "deploy" not in services["worker-cpu"]


def test_each_image_installs_only_its_own_extra(services: dict[str, Any]) -> None:
    built = {name: s for name, s in services.items() if "build" in s}
    assert set(built) == set(mlex_services(services))
    for name, service in built.items():
        build = service["build"]
        assert Path(ROOT / build["context"]).resolve() == ROOT
        dockerfile = parse_dockerfile(ROOT / build["dockerfile"])
        extras = dockerfile.extras(build.get("args"))
        assert extras and set(extras) <= set(EXTRAS), f"{name}: unknown extras {extras}"
        assert "all" not in extras and "dev" not in extras, name
        kind = kind_of(service)
        assert extras[0] == IMAGE_EXTRAS[kind], f"{name} installs {extras}"
        if kind != "worker":
            assert extras == [IMAGE_EXTRAS[kind]], f"{name} installs {extras}"
        # The image's default command is an mlex command of the same kind.
        assert dockerfile.cmd[:2] == ["mlex", kind], name
        if kind != "worker":  # the worker's is parsed in test_workers_consume_...
            build_parser().parse_args(dockerfile.cmd[1:])


def test_dockerfiles_copy_what_exists_and_their_ignore_files_let_it_through() -> None:
    requires = PYPROJECT["project"]["requires-python"]
    minor = re.search(r">=3\.(\d+)", requires)
    assert minor is not None
    dockerfiles = sorted((ROOT / "deploy" / "docker").glob("*.Dockerfile"))
    assert {path.name for path in dockerfiles} == {
        "api.Dockerfile",
        "worker.Dockerfile",
        "tiled.Dockerfile",
        "frontends.Dockerfile",
    }
    packages = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    for path in dockerfiles:
        dockerfile = parse_dockerfile(path)
        assert dockerfile.base.startswith(f"python:3.{minor.group(1)}"), path.name
        ignore = (path.parent / (path.name + ".dockerignore")).read_text().splitlines()
        for source in dockerfile.copies:
            assert (ROOT / source).exists(), f"{path.name} copies missing {source}"
            assert f"!{source}" in ignore, f"{path.name}.dockerignore excludes {source}"
        copied = {source.rstrip("/") for source in dockerfile.copies}
        for pattern in packages:  # pip install . needs every package setuptools looks for
            assert pattern.rstrip("*") in copied, f"{path.name} does not copy {pattern}"
        assert "pyproject.toml" in copied and "README.md" in copied


def test_service_urls_name_services_and_their_ports(services: dict[str, Any]) -> None:
    ports = {name: port_of(s) for name, s in mlex_services(services).items()}
    expected = {
        "MLEX_CONTENT_URL": "content",
        "MLEX_COMPUTE_URL": "compute",
        "MLEX_LABELS_URL": "labels",
        "MLEX_TILED_URL": "tiled",
    }
    for name, service in mlex_services(services).items():
        environment = service["environment"]
        for variable, target in expected.items():
            url = urlsplit(environment[variable])
            assert url.hostname == target and url.port == ports[target], (name, variable)
        assert environment["MLEX_BIND"] == "0.0.0.0", name


def test_apis_use_postgres_and_compute_and_workers_use_redis(services: dict[str, Any]) -> None:
    postgres = services["postgres"]["environment"]
    for name in ("content", "compute", "labels"):
        url = make_url(services[name]["environment"]["MLEX_DATABASE_URL"])
        assert url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"
        assert (url.host, url.port, url.username) == ("postgres", 5432, postgres["POSTGRES_USER"])
        assert url.database == postgres["POSTGRES_DB"]
        assert url.password == postgres["POSTGRES_PASSWORD"]
    for name in ("compute", "worker-cpu", "worker-gpu"):
        broker = urlsplit(services[name]["environment"]["MLEX_BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    for name in ("worker-cpu", "worker-gpu", "frontends", "tiled"):
        assert "MLEX_DATABASE_URL" not in services[name]["environment"], name


def test_every_mlex_variable_is_a_setting_something_reads(services: dict[str, Any]) -> None:
    from services.compute.settings import ComputeSettings
    from services.content.settings import ContentSettings
    from services.tiled.settings import TiledSettings
    from workers.settings import WorkerSettings

    known = {
        f"MLEX_{field.upper()}"
        for cls in (ContentSettings, ComputeSettings, TiledSettings, WorkerSettings)
        for field in cls.model_fields
    }
    # Variables the embedded launcher hands to every part (e.g. the front-ends' API key).
    launcher = (ROOT / "deploy" / "launcher.py").read_text()
    known |= set(re.findall(r'"(MLEX_[A-Z_]+)"', launcher))
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("MLEX_"):
                assert variable in known, f"{name}: nothing reads {variable}"


def test_the_env_example_sets_every_variable_the_compose_file_uses(
    env_example: dict[str, str],
) -> None:
    text = COMPOSE_FILE.read_text()
    assert variables(text) <= set(env_example)
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"MLEX_ADMIN_API_KEY", "MLEX_POSTGRES_PASSWORD", "MLEX_TILED_API_KEY"}
    assert all(env_example[name] for name in required)
    assert env_example["MLEX_TILED_API_KEY"].isalnum()  # Tiled refuses other characters


def test_dependencies_wait_for_health_and_volumes_are_declared(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["80:80"]


def parse_nginx(text: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Upstream name -> servers, and location prefix -> upstream it proxies to."""
    text = re.sub(r"#[^\n]*", "", text)
    upstreams = {
        name: re.findall(r"server\s+([^;\s]+)\s*;", body)
        for name, body in re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", text)
    }
    locations = {
        prefix: target
        for prefix, target in re.findall(
            r"location\s+(/[^\s{]*)\s*\{[^}]*?proxy_pass\s+http://(\w+)", text
        )
    }
    return upstreams, locations


def test_the_proxy_routes_each_prefix_to_its_service(services: dict[str, Any]) -> None:
    upstreams, locations = parse_nginx(NGINX_CONF.read_text())
    assert set(locations) == set(PROXY_ROUTES)
    for prefix, service_name in PROXY_ROUTES.items():
        servers = upstreams[locations[prefix]]
        assert len(servers) == 1
        host, _, port = servers[0].partition(":")
        assert host == service_name, prefix
        assert int(port) == port_of(services[service_name]), prefix
    mounts = services["proxy"]["volumes"]
    assert any(m.split(":")[0] == "./deploy/proxy/nginx.conf" for m in mounts)
    assert set(services["proxy"]["depends_on"]) == set(PROXY_ROUTES.values())


@pytest.mark.parametrize("prefix", ["/api/content/", "/api/compute/", "/api/labels/", "/tiled/"])
def test_the_proxy_strips_each_api_prefix(prefix: str) -> None:
    # `proxy_pass http://upstream/;` (with the slash) replaces the prefix, so the typed clients'
    # base URL is https://host<prefix without slash> and their /api/v0 paths arrive unchanged.
    text = NGINX_CONF.read_text()
    block = re.search(rf"location\s+{re.escape(prefix)}\s*\{{([^}}]*)\}}", text)
    assert block is not None
    assert re.search(r"proxy_pass\s+http://\w+/;", block.group(1))


def test_data_is_mounted_at_the_same_path_wherever_it_is_read(services: dict[str, Any]) -> None:
    # A path picked in a front-end must name the same file in Tiled and in the workers.
    readers = ("tiled", "frontends", "worker-cpu", "worker-gpu")
    mounts = {}
    for name in readers:
        data = [m for m in services[name]["volumes"] if m.split(":")[1] == "/data"]
        assert len(data) == 1 and data[0].endswith(":ro"), name
        mounts[name] = data[0].split(":")[0]
    assert len(set(mounts.values())) == 1
    for name in ("tiled", "frontends"):
        assert services[name]["environment"]["MLEX_DATA_ROOTS"] == "/data"
    models = {m for name in ("worker-cpu", "worker-gpu") for m in services[name]["volumes"]}
    assert "mlex-models:/var/lib/mlex/models" in models
