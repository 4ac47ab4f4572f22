"""Recording a change in the audit trail, from the use case that makes it.

Every changing use case takes `actor` (who asks: `user:alice`, `token:nightly-intune`, `cli:jdoe`) and appends
one entry after its change is committed, so the command line, the API and the dashboard are audited alike and
once. Without an actor (a library call, a test, the demo data set) nothing is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from interdit.enforcement.base import Payload
from interdit.storage.audit import AuditEntry, AuditLog


def audit_trail(engine: Engine, clock: Callable[[], datetime]) -> AuditLog:
    """The audit trail stored in the same database as the fleet."""
    return AuditLog(engine, clock=clock)


def require_trail(log: AuditLog | None, actor: str | None, action: str) -> None:
    """Refuse, before anything changes, a change that names an actor but has no trail to record it in."""
    if actor is not None and log is None:
        raise ValueError(f"{action}: an actor was named but no audit trail was given")


def record(log: AuditLog | None, actor: str | None, action: str, target: str, *, before: Any = None,
           after: Any = None) -> AuditEntry | None:
    """Append one entry when an actor is named; a named actor without a trail to write to is a mistake."""
    if actor is None:
        return None
    require_trail(log, actor, action)
    assert log is not None
    return log.append(actor, action, target, before=before, after=after)


def payload_digest(payload: Payload) -> str:
    """SHA-256 over the payload's files (names and contents, in name order): what was built or pushed."""
    h = hashlib.sha256()
    files: Mapping[str, str | bytes] = payload.files
    for name in sorted(files):
        content = files[name]
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        h.update(name.encode("utf-8") + b"\0" + str(len(data)).encode("ascii") + b"\0" + data)
    return h.hexdigest()
