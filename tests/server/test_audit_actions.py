"""The audit trail's vocabulary is one enumeration, and docs/server.md documents every action, no more."""

from __future__ import annotations

import re
from pathlib import Path

from interdit.pipeline.audit import AuditAction

DOCS = Path(__file__).parents[2] / "docs" / "server.md"


def _documented() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## The audit trail", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    first_cells = [line.split("|")[1] for line in table]
    return {name for cell in first_cells for name in re.findall(r"`([a-z.-]+)`", cell)}


def test_every_audit_action_is_documented_and_every_documented_action_exists() -> None:
    documented = _documented()
    assert "account.add" in documented  # the table was found
    actions = {a.value for a in AuditAction}
    assert actions - documented == set(), "actions missing from the table in docs/server.md"
    assert documented - actions == set(), "the table in docs/server.md names actions that do not exist"


def test_an_action_is_the_string_the_trail_stores() -> None:
    assert AuditAction.EXCEPTION_GRANT == "exception.grant" and f"{AuditAction.TOKEN_REVOKE}" == "token.revoke"


def test_every_action_written_in_the_code_is_a_member() -> None:
    """An action still written as a string (`log.append(actor, "import", ...)`) must be one of the members, so
    a new action cannot reach the trail without being named and documented."""
    src = Path(__file__).parents[2] / "src" / "interdit"
    written = {m for path in src.rglob("*.py") if "static" not in path.parts
               for m in re.findall(r'\b(?:actor|cli_actor\(\)|provider|who)[ \t]*,[ \t]*"([a-z]+(?:\.[a-z-]+)?)"',
                                   path.read_text(encoding="utf-8"))}
    written.discard("action")  # the storage layer's own parameter name
    assert {"import", "evaluate", "logs.scan"} <= written  # the search finds what it should
    assert written - {a.value for a in AuditAction} == set()
