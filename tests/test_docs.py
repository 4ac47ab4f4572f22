"""Documentation is part of the product: every registered component is documented, the CLI reference is
current, and the README shows the two commands."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGISTRIES = [
    ("interdit.inventory.base", "readers", ("inventory.md", "connectors.md")),
    ("interdit.inventory.live", "connectors", ("connectors.md",)),
    ("interdit.reporting.base", "formats", ("reporting.md",)),
    ("interdit.network.base", "readers", ("network.md",)),
    ("interdit.enforcement.base", "targets", ("enforcement.md", "enforcement-network.md", "enforcement-mdm.md")),
    ("interdit.analysis.output", "outputs", ("analysis.md",)),
]


def _documented(files: tuple[str, ...]) -> str:
    return "\n".join((DOCS / f).read_text("utf-8") for f in files if (DOCS / f).exists())


@pytest.mark.parametrize(("module_name", "attr", "docs"), REGISTRIES, ids=[r[0] for r in REGISTRIES])
def test_every_registered_component_is_documented(module_name: str, attr: str, docs: tuple[str, ...]) -> None:
    module = importlib.import_module(module_name)
    registry = getattr(module, attr)
    assert registry.names(), f"{module_name}.{attr} has no registered component"
    text = _documented(docs)
    missing = [name for name in registry.names() if f"`{name}`" not in text]
    assert not missing, f"document these in docs/{'/'.join(docs)} (as `name`): {missing}"


def test_cli_reference_is_current() -> None:
    os.environ.setdefault("COLUMNS", "100")
    from interdit.cli.docgen import render

    current = (DOCS / "cli.md").read_text("utf-8")
    assert current.strip() == render().strip(), "docs/cli.md is out of date: run 'make docs'"


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make demo" in readme and "make test" in readme
    for link in ("docs/policy.md", "docs/inventory.md", "docs/reporting.md"):
        assert link in readme and (ROOT / link).exists(), link
