"""The notices table on SQLite and PostgreSQL: created by its migration as declared, a delivery claimed once,
a failed one claimed again, one left half-sent never again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from interdit.storage import notices, tables
from interdit.storage.audit import AuditLog
from interdit.storage.repo import Repository

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = {"finding_id": "F-0123456789abcdef", "kind": "first", "source": "mdm", "device_id": "phone-1",
          "recipients": ["alice@example.org"], "lang": "fr", "subject": "Action requise\u00a0: retirez TikTok"}


@pytest.fixture()
def repo(db_url: str) -> Repository:
    r = Repository(db_url)
    r.migrate()
    return r


def test_the_migration_creates_the_table_as_declared(repo: Repository) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert notices.notices_table.metadata is tables.metadata  # on the shared metadata

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) == "notices"

    with repo.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": include_object})
        assert compare_metadata(context, tables.metadata) == []
    assert "0010_notices" in repo.schema_revisions()
    repo.close()


def test_a_delivery_is_claimed_once_and_a_failed_one_again(repo: Repository) -> None:
    key = "F-0123456789abcdef/first"
    assert notices.claim(repo.engine, key=key, channel="email", at=AT, **FIELDS)  # type: ignore[arg-type]
    assert not notices.claim(repo.engine, key=key, channel="email", at=AT, **FIELDS)  # type: ignore[arg-type]
    assert notices.claim(repo.engine, key=key, channel="teams", at=AT, **FIELDS)  # type: ignore[arg-type]
    notices.settle(repo.engine, key=key, channel="email", at=AT + timedelta(seconds=5), error="refused")
    notices.settle(repo.engine, key=key, channel="teams", at=AT + timedelta(seconds=6))
    recorded = notices.deliveries(repo.engine)[key]
    assert recorded == {"email": ("failed", AT), "teams": ("sent", AT + timedelta(seconds=6))}
    # a failed delivery is this run's again, once
    later = AT + timedelta(days=1)
    assert notices.claim(repo.engine, key=key, channel="email", at=later, **FIELDS)  # type: ignore[arg-type]
    assert not notices.claim(repo.engine, key=key, channel="email", at=later, **FIELDS)  # type: ignore[arg-type]
    log = AuditLog(repo.engine, clock=lambda: later)

    def audit(conn: Connection) -> object:
        return log.append("cli:test", "notice.sent", "finding:F-0123456789abcdef", after={"key": key}, conn=conn)

    notices.settle(repo.engine, key=key, channel="email", at=later, audit=audit)
    [email] = [r for r in notices.notices(repo.engine, finding_id="F-0123456789abcdef") if r.channel == "email"]
    assert (email.status, email.attempts, email.error, email.sent_at) == ("sent", 2, None, later)
    assert email.subject == FIELDS["subject"] and email.recipients == ("alice@example.org",)
    assert [e.action for e in log.iter_all()] == ["notice.sent"]
    repo.close()


def test_a_delivery_left_half_sent_is_never_claimed_again(repo: Repository) -> None:
    key = "F-0123456789abcdef/escalation"
    assert notices.claim(repo.engine, key=key, channel="email", at=AT, **FIELDS)  # type: ignore[arg-type]
    # the process stops here, between sending and recording: the e-mail may have gone out
    assert not notices.claim(repo.engine, key=key, channel="email", at=AT + timedelta(days=1),
                             **FIELDS)  # type: ignore[arg-type]
    assert notices.deliveries(repo.engine)[key] == {"email": ("sending", AT)}
    repo.close()


def test_an_audit_entry_that_cannot_be_written_leaves_the_delivery_unrecorded(repo: Repository) -> None:
    key = "F-0123456789abcdef/closing"
    assert notices.claim(repo.engine, key=key, channel="email", at=AT, **FIELDS)  # type: ignore[arg-type]

    def audit(conn: Connection) -> object:
        raise RuntimeError("the trail is full")

    with pytest.raises(RuntimeError):
        notices.settle(repo.engine, key=key, channel="email", at=AT, audit=audit)
    assert notices.deliveries(repo.engine)[key]["email"][0] == "sending"  # never sent twice, never lost silently
    repo.close()
