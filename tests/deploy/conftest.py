"""Read the deployment files as docker compose and Docker would (no Docker engine needed)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "docker" / "mlex.env.example"
NGINX_CONF = ROOT / "deploy" / "proxy" / "nginx.conf"

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` substitution."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name)
        empty_counts = operator is not None and operator.startswith(":")
        unset = value is None or (empty_counts and value == "")
        if operator and operator.endswith("-") and unset:
            return interpolate(argument, env)
        if operator and operator.endswith("?") and unset:
            raise KeyError(f"{name}: {argument}")
        return value or ""

    previous = None
    while previous != text:
        previous, text = text, _VARIABLE.sub(replace, text)
    return text


def variables(text: str) -> set[str]:
    """Every variable name a compose file interpolates (defaults included)."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


@dataclass
class Dockerfile:
    """The parts of a Dockerfile the tests check."""

    path: Path
    args: dict[str, str] = field(default_factory=dict)
    copies: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    exposed: list[int] = field(default_factory=list)
    base: str = ""

    def extras(self, build_args: dict[str, str] | None = None) -> list[str]:
        """The pyproject extras its ``pip install ".[...]"`` installs, with these build args."""
        values = {**self.args, **(build_args or {})}
        found: list[str] = []
        for run in self.runs:
            for group in re.findall(r"pip install [^&;]*?\"?\.\[([^\]]+)\]", run):
                resolved = re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), ""), group)
                found.extend(item.strip() for item in resolved.split(",") if item.strip())
        return found


def parse_dockerfile(path: Path) -> Dockerfile:
    text = re.sub(r"\\\n", " ", path.read_text())
    parsed = Dockerfile(path=path)
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parsed.base = rest.split()[0]
        elif instruction == "ARG":
            name, _, default = rest.partition("=")
            parsed.args[name.strip()] = default.strip()
        elif instruction == "COPY":
            parsed.copies.extend(shlex.split(rest)[:-1])
        elif instruction == "RUN":
            parsed.runs.append(rest)
        elif instruction == "CMD":
            parsed.cmd = yaml.safe_load(rest)
        elif instruction == "EXPOSE":
            parsed.exposed.extend(int(port) for port in rest.split())
    return parsed


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="session")
def compose(env_example: dict[str, str]) -> dict[str, Any]:
    """The compose file, interpolated with the example .env, as docker compose reads it."""
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), env_example))


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]
