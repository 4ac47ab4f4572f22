"""People and machines that use the server: accounts with a role, passwords (argon2id) and API tokens.

API tokens are shown once when created and stored only as their SHA-256 digest: a 32-byte random secret
cannot be guessed, so a slow hash adds nothing there. Passwords are people's, so they get argon2id.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine

from interdit.errors import ConfigError

metadata = sa.MetaData()

accounts_table = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(120), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    # "ISSUER SUBJECT" for a person who signs in through OpenID Connect (no password); migration 0006
    sa.Column("oidc_subject", sa.String(400), nullable=True),
    sa.Index("ix_accounts_oidc_subject", "oidc_subject", unique=True),
)

tokens_table = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40), nullable=True),
)

TOKEN_PREFIX = "idt_"
USERNAME_MAX = 120
PASSWORD_MIN = 12


class Role(StrEnum):
    ADMIN = "admin"  # policy, exceptions, sources, accounts
    ANALYST = "analyst"  # findings, analyses, imports
    AUDITOR = "auditor"  # reads everything, changes nothing
    INGEST = "ingest"  # machine tokens: upload inventories and logs only


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    has_password: bool = False
    oidc_subject: str | None = None  # "ISSUER SUBJECT" when the person signs in through an identity provider

    @property
    def via_oidc(self) -> bool:
        return self.oidc_subject is not None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    username: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccountStore:
    """Accounts and tokens in the `accounts` and `api_tokens` tables (migrations 0004 and 0006)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2id with the library's recommended parameters

    # -- accounts ------------------------------------------------------------------------------------

    def add(self, username: str, role: Role | str, password: str | None = None, *,
            oidc_subject: str | None = None) -> Account:
        """A new account: a person with a password, a machine without one, or a person of an identity provider
        (`oidc_subject` is "ISSUER SUBJECT"; such an account never has a password)."""
        username = username.strip()
        if not username or len(username) > USERNAME_MAX or any(c.isspace() for c in username):
            raise ConfigError(f"invalid user name {username!r}",
                              fix=f"use 1 to {USERNAME_MAX} characters without spaces, e.g. marie.tremblay")
        try:
            chosen = Role(role)
        except ValueError:
            raise ConfigError(f"unknown role {role!r}",
                              fix="use one of: " + ", ".join(r.value for r in Role)) from None
        if oidc_subject is not None and password is not None:
            raise ConfigError("an account of the identity provider has no password",
                              fix="leave the password out; the person signs in with the provider")
        if password is not None and len(password) < PASSWORD_MIN:
            raise ConfigError("the password is too short", fix=f"use at least {PASSWORD_MIN} characters")
        if self.get(username) is not None:
            raise ConfigError(f"the user {username!r} already exists", fix="choose another name")
        hashed = self.hasher.hash(password) if password is not None else None
        now = self.clock()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(accounts_table.insert().values(
                    username=username, role=chosen.value, password_hash=hashed, disabled=False, created_at=_iso(now),
                    oidc_subject=oidc_subject))
                new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        except sa.exc.IntegrityError:  # created at the same moment by another request
            raise ConfigError(f"the user {username!r} already exists", fix="choose another name") from None
        return Account(new_id, username, chosen, False, now, hashed is not None, oidc_subject)

    def by_oidc_subject(self, subject: str) -> Account | None:
        """The account of the identity provider's person `subject` ("ISSUER SUBJECT"), if it exists."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.oidc_subject == subject)).first()
        return _account(row) if row is not None else None

    def set_role(self, username: str, role: Role | str) -> Account:
        chosen = Role(role)
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update().where(accounts_table.c.username == username)
                                .values(role=chosen.value))
        if done.rowcount == 0:
            raise ConfigError(f"no user named {username!r}", fix="list them with 'interdit users list'")
        account = self.get(username)
        assert account is not None
        return account

    def get(self, username: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.username == username)).first()
        return _account(row) if row is not None else None

    def by_id(self, account_id: int) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.id == account_id)).first()
        return _account(row) if row is not None else None

    def all(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(accounts_table).order_by(accounts_table.c.username)).all()
        return [_account(r) for r in rows]

    def set_disabled(self, username: str, disabled: bool = True) -> Account:
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update().where(accounts_table.c.username == username)
                                .values(disabled=disabled))
        if done.rowcount == 0:
            raise ConfigError(f"no user named {username!r}", fix="list them with 'interdit users list'")
        account = self.get(username)
        assert account is not None
        return account

    def set_password(self, username: str, password: str) -> None:
        if len(password) < PASSWORD_MIN:
            raise ConfigError("the password is too short", fix=f"use at least {PASSWORD_MIN} characters")
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update()
                                .where(accounts_table.c.username == username, accounts_table.c.oidc_subject.is_(None))
                                .values(password_hash=self.hasher.hash(password)))
        if done.rowcount == 0:
            raise ConfigError(f"no user named {username!r} that signs in with a password",
                              fix="list them with 'interdit users list'; people of the identity provider have none")

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches and the account is enabled, else None (constant work)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.username == username)).first()
        stored = row.password_hash if row is not None else None
        if stored is None:
            # spend the same time as a real check, so timing does not reveal which names exist
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(_DUMMY.hash, password)
            return None
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        assert row is not None
        account = _account(row)
        return None if account.disabled else account

    # -- tokens --------------------------------------------------------------------------------------

    def create_token(self, username: str, name: str) -> tuple[TokenInfo, str]:
        """A new token for `username`: (its record, the secret). The secret is never stored nor shown again."""
        account = self.get(username)
        if account is None:
            raise ConfigError(f"no user named {username!r}", fix="create it first with 'interdit users add'")
        if account.disabled:
            raise ConfigError(f"the user {username!r} is disabled", fix="enable it or choose another account")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_digest(secret)
        token_id = digest[:12]
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(tokens_table.insert().values(id=token_id, account_id=account.id, name=name[:120],
                                                      token_hash=digest, created_at=_iso(now), revoked_at=None))
        return TokenInfo(token_id, account.username, name[:120], now), secret

    def revoke_token(self, token_id: str) -> TokenInfo:
        now = self.clock()
        with self.engine.begin() as conn:
            done = conn.execute(tokens_table.update()
                                .where(tokens_table.c.id == token_id, tokens_table.c.revoked_at.is_(None))
                                .values(revoked_at=_iso(now)))
        if done.rowcount == 0:
            raise ConfigError(f"no active token with id {token_id!r}", fix="list them with 'interdit tokens list'")
        info = next(t for t in self.tokens() if t.id == token_id)
        return info

    def tokens(self) -> list[TokenInfo]:
        j = tokens_table.join(accounts_table, tokens_table.c.account_id == accounts_table.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tokens_table, accounts_table.c.username).select_from(j)
                                .order_by(tokens_table.c.created_at)).all()
        return [TokenInfo(r.id, r.username, r.name, _parse(r.created_at) or self.clock(), _parse(r.revoked_at))
                for r in rows]

    def account_for_token(self, secret: str) -> tuple[Account, str] | None:
        """The enabled account a live token belongs to, and the token id; None for anything else."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = token_digest(secret)
        j = tokens_table.join(accounts_table, tokens_table.c.account_id == accounts_table.c.id)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table, tokens_table.c.id.label("token_id"),
                                         tokens_table.c.revoked_at).select_from(j)
                               .where(tokens_table.c.token_hash == digest)).first()
        if row is None or row.revoked_at is not None or not secrets.compare_digest(digest[:12], row.token_id):
            return None
        account = _account(row)
        return None if account.disabled else (account, str(row.token_id))


class _Dummy:
    """A hash computed on first use, to verify against when the user does not exist."""

    _hash: str | None = None

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = PasswordHasher().hash(secrets.token_hex(16))
        return self._hash


_DUMMY = _Dummy()


def _account(row: Any) -> Account:
    return Account(int(row.id), str(row.username), Role(row.role), bool(row.disabled),
                   _parse(row.created_at) or datetime.now(UTC), row.password_hash is not None, row.oidc_subject)
