"""Accounts, tokens and the audit chain against SQLite and PostgreSQL (real databases, real migrations)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from interdit import pipeline
from interdit.errors import ConfigError
from interdit.storage.accounts import AccountStore, Role, token_digest
from interdit.storage.audit import GENESIS, AuditLog, audit_table


def _stores(url: str) -> tuple[AccountStore, AuditLog, sa.Engine]:
    repo = pipeline.open_repository(url)
    clock = lambda: datetime(2023, 3, 15, 12, 0, tzinfo=UTC)  # noqa: E731
    return AccountStore(repo.engine, clock=clock), AuditLog(repo.engine, clock=clock), repo.engine


def test_passwords_are_argon2id_and_checked(db_url: str) -> None:
    accounts, _, engine = _stores(db_url)
    made = accounts.add("marie", Role.ANALYST, "a long enough password")
    assert made.role is Role.ANALYST and made.has_password
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM accounts")).scalar_one()
    assert stored.startswith("$argon2id$") and "a long enough password" not in stored
    assert accounts.authenticate("marie", "a long enough password") == made
    assert accounts.authenticate("marie", "wrong password here") is None
    assert accounts.authenticate("nobody", "a long enough password") is None
    accounts.set_disabled("marie")
    assert accounts.authenticate("marie", "a long enough password") is None


def test_account_input_is_checked(db_url: str) -> None:
    accounts, _, _ = _stores(db_url)
    with pytest.raises(ConfigError, match="too short"):
        accounts.add("sam", Role.ADMIN, "short")
    with pytest.raises(ConfigError, match="unknown role"):
        accounts.add("sam", "boss", "a long enough password")
    with pytest.raises(ConfigError, match="invalid user name"):
        accounts.add("two words", Role.ADMIN, "a long enough password")
    accounts.add("sam", Role.ADMIN, "a long enough password")
    with pytest.raises(ConfigError, match="already exists"):
        accounts.add("sam", Role.AUDITOR, "a long enough password")


def test_people_of_the_identity_provider_have_no_password(db_url: str) -> None:
    accounts, _, _ = _stores(db_url)
    subject = "https://login.example.gc.ca/realms/gc 5f0c-77"
    made = accounts.add("amelie", Role.AUDITOR, oidc_subject=subject)
    assert made.via_oidc and not made.has_password and accounts.by_oidc_subject(subject) == made
    assert accounts.by_oidc_subject("https://login.example.gc.ca/realms/gc other") is None
    with pytest.raises(ConfigError, match="no user named 'amelie' that signs in with a password"):
        accounts.set_password("amelie", "a long enough password")
    assert accounts.authenticate("amelie", "") is None
    with pytest.raises(ConfigError, match="has no password"):
        accounts.add("bob", Role.ADMIN, "a long enough password", oidc_subject="https://x y")
    with pytest.raises(ConfigError, match="already exists"):  # one subject, one account
        accounts.add("amelie2", Role.AUDITOR, oidc_subject=subject)
    assert accounts.set_role("amelie", Role.ANALYST).role is Role.ANALYST
    assert accounts.get("amelie") == accounts.by_oidc_subject(subject)


def test_tokens_are_stored_hashed_and_revocable(db_url: str) -> None:
    accounts, _, engine = _stores(db_url)
    accounts.add("mdm-nightly", Role.INGEST)
    info, secret = accounts.create_token("mdm-nightly", "nightly export")
    assert secret.startswith("idt_") and len(secret) > 40
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert stored == token_digest(secret) and secret not in stored
    found = accounts.account_for_token(secret)
    assert found is not None and found[0].username == "mdm-nightly" and found[1] == info.id
    assert accounts.account_for_token(secret + "x") is None
    accounts.revoke_token(info.id)
    assert accounts.account_for_token(secret) is None
    with pytest.raises(ConfigError, match="no active token"):
        accounts.revoke_token(info.id)


def test_the_chain_verifies_and_names_an_edited_entry(db_url: str) -> None:
    _, audit, engine = _stores(db_url)
    assert audit.verify().ok and audit.verify().head == GENESIS
    for n in range(5):
        audit.append("admin (session)", "exception.grant", f"EXC-{n}", before=None, after={"n": n, "why": "é"})
    v = audit.verify()
    assert v.ok and v.entries == 5 and v.head == audit.entries()[-1].hash
    with engine.begin() as conn:
        conn.execute(audit_table.update().where(audit_table.c.seq == 3).values(actor="someone else"))
    v = audit.verify()
    assert not v.ok and v.broken_at == 3 and "edited" in v.reason and v.entries == 2


def test_a_deleted_entry_breaks_the_chain(db_url: str) -> None:
    _, audit, engine = _stores(db_url)
    for n in range(4):
        audit.append("cli", "token.create", f"t{n}", after={"n": n})
    with engine.begin() as conn:
        conn.execute(audit_table.delete().where(audit_table.c.seq == 2))
    v = audit.verify()
    assert not v.ok and v.broken_at == 2 and "missing" in v.reason


def test_a_rewritten_tail_is_caught_by_its_link(db_url: str) -> None:
    """Recomputing an edited entry's own hash is not enough: the next entry's link no longer matches."""
    from interdit.storage.audit import entry_hash

    _, audit, engine = _stores(db_url)
    for n in range(3):
        audit.append("cli", "policy.update", "policy.yaml", before={"n": n}, after={"n": n + 1})
    e = audit.entries()[0]
    forged = entry_hash(e.prev_hash, e.seq, e.at.isoformat(timespec="microseconds"), e.actor, e.action, "forged",
                        '{"n":0}', '{"n":1}')
    with engine.begin() as conn:
        conn.execute(audit_table.update().where(audit_table.c.seq == 1).values(target="forged", hash=forged))
    v = audit.verify()
    assert not v.ok and v.broken_at == 2 and "link" in v.reason


def test_a_kept_checkpoint_catches_a_cut_tail_and_a_rewritten_trail(db_url: str) -> None:
    from interdit.storage.audit import parse_checkpoint

    _, audit, engine = _stores(db_url)
    for n in range(4):
        audit.append("cli", "exception.grant", f"EXC-{n}", after={"n": n})
    kept = (3, audit.entries()[2].hash)
    assert audit.verify(kept).ok
    audit.append("cli", "exception.revoke", "EXC-0")
    assert audit.verify(kept).ok  # entries added after a checkpoint are fine
    with engine.begin() as conn:  # cut the last two entries: the chain alone still checks
        conn.execute(audit_table.delete().where(audit_table.c.seq >= 3))
    assert audit.verify().ok
    v = audit.verify(kept)
    assert not v.ok and v.entries == 2 and "cut off its end" in v.reason
    other = (2, "0" * 64)
    v = audit.verify(other)
    assert not v.ok and v.broken_at == 2 and "checkpoint" in v.reason
    assert parse_checkpoint(f"3:{kept[1].upper()}") == kept
    for bad in ("3", "x:abc", f"0:{kept[1]}", f"3:{kept[1][:-1]}"):
        with pytest.raises(ValueError, match="not a checkpoint"):
            parse_checkpoint(bad)


def test_concurrent_appends_keep_one_chain(db_url: str) -> None:
    _, audit, _ = _stores(db_url)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for n in range(5):
                audit.append(f"writer-{k}", "import", f"{k}-{n}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    v = audit.verify()
    assert v.ok and v.entries == 20
