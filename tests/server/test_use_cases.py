"""Accounts, tokens and exceptions are changed through the pipeline's use cases, whoever asks: the rules and
the audit entry (with before and after) are the same from the command line, the API and the identity provider.
Against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from interdit import fleet, pipeline
from interdit.pipeline import accounts as use
from interdit.pipeline.audit import AuditAction, Recorder
from interdit.pipeline.policy_edit import ExceptionRefused
from interdit.storage.accounts import AccountStore, Role
from interdit.storage.audit import AuditLog

NOW = datetime(2023, 3, 15, 12, 0, tzinfo=UTC)
ISSUER = "https://login.example.gc.ca/realms/gc"


def _stores(url: str) -> tuple[AccountStore, AuditLog]:
    repo = pipeline.open_repository(url)
    return AccountStore(repo.engine, clock=lambda: NOW), AuditLog(repo.engine, clock=lambda: NOW)


def test_an_account_cannot_disable_itself_and_a_refusal_records_nothing(db_url: str) -> None:
    accounts, log = _stores(db_url)
    use.add_account(accounts, Recorder(log), "cli:root", "marie", Role.ADMIN, "a long enough password")
    with pytest.raises(use.AccountConflict, match="your own account"):
        use.disable_account(accounts, Recorder(log), "user:marie", "marie", caller="marie")
    with pytest.raises(use.UnknownAccount, match="no user named 'nobody'"):
        use.disable_account(accounts, Recorder(log), "user:marie", "nobody", caller="marie")
    account = accounts.get("marie")
    assert account is not None and not account.disabled
    assert [e.action for e in log.entries()] == ["account.add"]


def test_each_change_writes_one_entry_with_before_and_after(db_url: str) -> None:
    accounts, log = _stores(db_url)
    trail = Recorder(log)
    use.add_account(accounts, trail, "cli:root", "nightly", "ingest")
    info, secret = use.create_token(accounts, trail, "user:admin", "nightly", "nightly export", ("intune",))
    use.revoke_token(accounts, trail, "token:ops", info.id)
    use.disable_account(accounts, trail, "user:admin", "nightly", caller="admin")
    entries = log.entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("cli:root", "account.add", "nightly"), ("user:admin", "token.create", info.id),
        ("token:ops", "token.revoke", info.id), ("user:admin", "account.disable", "nightly")]
    assert entries[0].after == {"role": "ingest", "password": False}
    assert entries[1].after == {"user": "nightly", "name": "nightly export", "scopes": ["intune"]}
    assert secret not in str([e.after for e in entries])  # the secret is never recorded
    assert entries[2].before == {"user": "nightly", "name": "nightly export"}
    assert entries[3].before == {"disabled": False} and entries[3].after == {"disabled": True}
    with pytest.raises(use.UnknownAccount, match="no active token"):
        use.revoke_token(accounts, trail, "user:admin", info.id)
    assert len(log.entries()) == 4


def test_a_token_needs_an_existing_account(db_url: str) -> None:
    accounts, log = _stores(db_url)
    with pytest.raises(use.UnknownAccount, match="no user named 'ghost'"):
        use.create_token(accounts, Recorder(log), "cli:root", "ghost", "x", ("*",))
    assert accounts.tokens() == [] and log.entries() == []


def test_without_an_actor_nothing_is_recorded(db_url: str) -> None:
    accounts, log = _stores(db_url)
    use.add_account(accounts, Recorder(None), None, "demo", Role.AUDITOR, "a long enough password")
    assert accounts.get("demo") is not None and log.entries() == []


def test_the_identity_provider_creates_the_account_then_keeps_its_role_in_step(db_url: str) -> None:
    accounts, log = _stores(db_url)
    trail = Recorder(log)
    first = use.sign_in_oidc(accounts, trail, issuer=ISSUER, subject="5f0c", username="amelie",
                             role=Role.AUDITOR, role_claim="groups")
    assert first.account.via_oidc and first.account.role is Role.AUDITOR and not first.role_changed
    again = use.sign_in_oidc(accounts, trail, issuer=ISSUER, subject="5f0c", username="amelie",
                             role=Role.ANALYST, role_claim="groups")
    assert again.role_changed and again.account.role is Role.ANALYST
    entries = log.entries()
    assert [(e.actor, e.action) for e in entries] == [
        (f"oidc:{ISSUER}", "account.add"), ("user:amelie", "session.sign-in"),
        (f"oidc:{ISSUER}", "account.role"), ("user:amelie", "session.sign-in")]
    assert entries[2].before == {"role": "auditor"} and entries[2].after == {"role": "analyst"}


def test_the_identity_provider_never_takes_over_a_password_account(db_url: str) -> None:
    accounts, log = _stores(db_url)
    use.add_account(accounts, Recorder(log), "cli:root", "marc", Role.ADMIN, "a long enough password")
    with pytest.raises(use.SignInRefused) as taken:
        use.sign_in_oidc(accounts, Recorder(log), issuer=ISSUER, subject="77", username="marc", role=Role.ADMIN,
                         role_claim="groups")
    assert taken.value.key == "oidc.taken"
    with pytest.raises(use.SignInRefused) as no_role:
        use.sign_in_oidc(accounts, Recorder(log), issuer=ISSUER, subject="78", username="lea", role=None,
                         role_claim="groups")
    assert no_role.value.key == "oidc.no_role" and "'groups'" in no_role.value.reason
    made = use.sign_in_oidc(accounts, Recorder(log), issuer=ISSUER, subject="79", username="zoe",
                            role=Role.AUDITOR, role_claim="groups").account
    use.disable_account(accounts, Recorder(log), "cli:root", made.username)
    with pytest.raises(use.SignInRefused) as disabled:
        use.sign_in_oidc(accounts, Recorder(log), issuer=ISSUER, subject="79", username="zoe", role=Role.AUDITOR,
                         role_claim="groups")
    assert disabled.value.key == "oidc.disabled"
    assert accounts.get("lea") is None


POLICY = (Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8")


@pytest.mark.parametrize(("fields", "words"), [
    ({"families": ["tiktok"], "expires": date(2023, 9, 1)}, "must name the devices, users or groups"),
    ({"families": ["tiktok"], "users": ["u@example.ca"], "expires": date(2023, 3, 15)}, "is not in the future"),
    ({"families": ["tiktok"], "groups": ["g"], "expires": "2023-01-01"}, "is not in the future"),
])
def test_the_exception_rules_hold_for_every_caller(tmp_path: Path, fields: dict[str, object], words: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    log = AuditLog(pipeline.open_repository(f"sqlite:///{tmp_path / 'a.db'}").engine, clock=lambda: NOW)
    exception = {"id": "EX-NEW-1", "approver": "dg", "reason": "r", **fields}
    with pytest.raises(ExceptionRefused, match=words):
        pipeline.add_exception(policy, exception, today=NOW.date(), actor="cli:x", audit=log)
    assert policy.read_text(encoding="utf-8") == POLICY and log.entries() == []
    granted = {**exception, "users": ["u@example.ca"], "expires": date(2023, 9, 1)}
    _, after, _ = pipeline.add_exception(policy, granted, today=NOW.date(), actor="cli:x", audit=log)
    assert "EX-NEW-1" in after and [e.action for e in log.entries()] == [AuditAction.EXCEPTION_GRANT]
