"""The docs stay true: every setting is in the admin guide's table, every linked page exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_MODULES = (
    "services.common.settings",
    "services.content.settings",
    "services.compute.settings",
    "services.labels.settings",
    "services.tiled.settings",
    "workers.settings",
)


def settings_variables() -> set[str]:
    import importlib

    names: set[str] = set()
    for module_name in SETTINGS_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings):
                prefix = value.model_config.get("env_prefix", "")
                names.update((prefix + field).upper() for field in value.model_fields)
    return names


def test_every_setting_is_in_the_admin_table() -> None:
    table = (ROOT / "docs" / "admin.md").read_text()
    documented = set(re.findall(r"^\| `(MLEX_[A-Z_]+)`", table, flags=re.MULTILINE))
    missing = settings_variables() - documented
    assert not missing, f"settings missing from docs/admin.md: {sorted(missing)}"


@pytest.mark.parametrize(
    "page", sorted(p.name for p in (ROOT / "docs").rglob("*.md")) + ["README.md"]
)
def test_relative_links_resolve(page: str) -> None:
    path = ROOT / page if page == "README.md" else next((ROOT / "docs").rglob(page))
    for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{page} links to missing {target}"
