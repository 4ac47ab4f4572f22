"""People and machines that use the server: accounts with a role, passwords (argon2id) and API tokens.

API tokens are shown once when created and stored only as their SHA-256 digest: a 32-byte random secret
cannot be guessed, so a slow hash adds nothing there. Passwords are people's, so they get argon2id.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from interdit.errors import ConfigError
from interdit.storage.base import metadata, system_clock

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
    # what the token may write: "*" (everything its role allows), or source names and "@logs" separated by
    # spaces; migration 0009 gave the tokens made before it "*"
    sa.Column("scopes", sa.Text, nullable=False, default="*"),
)

sessions_table = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of the secret the cookie carries
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("last_seen", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
    sa.Column("ended_at", sa.String(40), nullable=True),
)

TOKEN_PREFIX = "idt_"
ALL = "*"  # a token scope: every source and log feed
LOGS = "@logs"  # a token scope: DNS, proxy and TLS log uploads
SCOPE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
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
    scopes: tuple[str, ...] = (ALL,)

    def allows(self, scope: str) -> bool:
        """Whether the token may write `scope` (a source name, or LOGS)."""
        return ALL in self.scopes or scope in self.scopes

    @property
    def scope_text(self) -> str:
        return " ".join(self.scopes)


def parse_scopes(sources: Iterable[str] = (), *, logs: bool = False) -> tuple[str, ...]:
    """The scopes of a new token: the sources it may import and, with `logs`, log uploads; none given is ALL."""
    chosen: list[str] = []
    for name in sources:
        name = name.strip()
        if name != ALL and not SCOPE_NAME.match(name):
            raise ConfigError(f"{name!r} is not a source name",
                              fix="use the source's name as in 'interdit sources list', e.g. intune-prod")
        if name not in chosen:
            chosen.append(name)
    if logs:
        chosen.append(LOGS)
    if not chosen or ALL in chosen:
        return (ALL,)
    return tuple(chosen)


@dataclass(frozen=True, slots=True)
class Session:
    id: str  # the digest of the cookie's secret
    account: Account
    created_at: datetime
    last_seen: datetime
    expires_at: datetime


Hook = Callable[[Connection, Any], object]  # called inside the change's transaction: write its audit entry there


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccountStore:
    """Accounts and tokens in the `accounts` and `api_tokens` tables (migrations 0004 and 0006)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = system_clock,
                 hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2id with the library's recommended parameters

    # -- accounts ------------------------------------------------------------------------------------

    def add(self, username: str, role: Role | str, password: str | None = None, *,
            oidc_subject: str | None = None, audit: Hook | None = None) -> Account:
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
        _check_text(username, "user name")
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
                made = Account(new_id, username, chosen, False, now, hashed is not None, oidc_subject)
                if audit is not None:
                    audit(conn, made)
        except sa.exc.IntegrityError:
            taken = self.get(username) is not None or (
                oidc_subject is not None and self.by_oidc_subject(oidc_subject) is not None)
            if not taken:  # not a duplicate: the audit entry (or the database) refused
                raise
            # created at the same moment by another request
            raise ConfigError(f"the user {username!r} already exists", fix="choose another name") from None
        return made

    def by_oidc_subject(self, subject: str) -> Account | None:
        """The account of the identity provider's person `subject` ("ISSUER SUBJECT"), if it exists."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table).where(accounts_table.c.oidc_subject == subject)).first()
        return _account(row) if row is not None else None

    def set_role(self, username: str, role: Role | str, *, audit: Hook | None = None) -> Account:
        chosen = Role(role)
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update().where(accounts_table.c.username == username)
                                .values(role=chosen.value))
            if done.rowcount == 0:
                raise ConfigError(f"no user named {username!r}", fix="list them with 'interdit users list'")
            if audit is not None:
                audit(conn, chosen)
        account = self.get(username)
        assert account is not None
        return account

    def get(self, username: str) -> Account | None:
        if not _clean(username):
            return None  # no account has such a name, and PostgreSQL refuses NUL in a query
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

    def set_disabled(self, username: str, disabled: bool = True, *, audit: Hook | None = None) -> Account:
        """Disable (or enable) an account; disabling ends its sessions at once, in the same transaction."""
        if not _clean(username):
            raise ConfigError(f"no user named {username!r}", fix="list them with 'interdit users list'")
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update().where(accounts_table.c.username == username)
                                .values(disabled=disabled))
            if done.rowcount == 0:
                raise ConfigError(f"no user named {username!r}", fix="list them with 'interdit users list'")
            if disabled:
                self._end_all(conn, username)
            if audit is not None:
                audit(conn, disabled)
        account = self.get(username)
        assert account is not None
        return account

    def set_password(self, username: str, password: str, *, audit: Hook | None = None) -> None:
        """Set a new password; every session of the account ends, in the same transaction."""
        if len(password) < PASSWORD_MIN:
            raise ConfigError("the password is too short", fix=f"use at least {PASSWORD_MIN} characters")
        hashed = self.hasher.hash(password)
        with self.engine.begin() as conn:
            done = conn.execute(accounts_table.update()
                                .where(accounts_table.c.username == username, accounts_table.c.oidc_subject.is_(None))
                                .values(password_hash=hashed))
            if done.rowcount == 0:
                raise ConfigError(f"no user named {username!r} that signs in with a password",
                                  fix="list them with 'interdit users list'; people of the identity provider have none")
            self._end_all(conn, username)
            if audit is not None:
                audit(conn, None)

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches and the account is enabled, else None (constant work)."""
        row = None
        if _clean(username):
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

    def create_token(self, username: str, name: str, *, scopes: tuple[str, ...] = (ALL,),
                     audit: Hook | None = None) -> tuple[TokenInfo, str]:
        """A new token for `username`: (its record, the secret). The secret is never stored nor shown again.

        `scopes` (see `parse_scopes`) names what the token may write: sources to import, LOGS for log uploads."""
        _check_text(name, "token name")
        account = self.get(username)
        if account is None:
            raise ConfigError(f"no user named {username!r}", fix="create it first with 'interdit users add'")
        if account.disabled:
            raise ConfigError(f"the user {username!r} is disabled", fix="enable it or choose another account")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_digest(secret)
        token_id = digest[:12]
        now = self.clock()
        info = TokenInfo(token_id, account.username, name[:120], now, None, scopes or (ALL,))
        with self.engine.begin() as conn:
            conn.execute(tokens_table.insert().values(id=token_id, account_id=account.id, name=name[:120],
                                                      token_hash=digest, created_at=_iso(now), revoked_at=None,
                                                      scopes=info.scope_text))
            if audit is not None:
                audit(conn, info)
        return info, secret

    def revoke_token(self, token_id: str, *, audit: Hook | None = None) -> TokenInfo:
        now = self.clock()
        found = next((t for t in self.tokens() if t.id == token_id and t.revoked_at is None), None)
        if found is None or not _clean(token_id):
            raise ConfigError(f"no active token with id {token_id!r}", fix="list them with 'interdit tokens list'")
        info = TokenInfo(found.id, found.username, found.name, found.created_at, now, found.scopes)
        with self.engine.begin() as conn:
            done = conn.execute(tokens_table.update()
                                .where(tokens_table.c.id == token_id, tokens_table.c.revoked_at.is_(None))
                                .values(revoked_at=_iso(now)))
            if done.rowcount == 0:
                raise ConfigError(f"no active token with id {token_id!r}",
                                  fix="list them with 'interdit tokens list'")
            if audit is not None:
                audit(conn, info)
        return info

    def tokens(self) -> list[TokenInfo]:
        j = tokens_table.join(accounts_table, tokens_table.c.account_id == accounts_table.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(tokens_table, accounts_table.c.username).select_from(j)
                                .order_by(tokens_table.c.created_at)).all()
        return [TokenInfo(r.id, r.username, r.name, _parse(r.created_at) or self.clock(), _parse(r.revoked_at),
                          _scopes(r.scopes)) for r in rows]

    def account_for_token(self, secret: str) -> tuple[Account, str] | None:
        """The enabled account a live token belongs to, and the token id; None for anything else."""
        found = self.token_for(secret)
        return (found[0], found[1].id) if found is not None else None

    def token_for(self, secret: str) -> tuple[Account, TokenInfo] | None:
        """The enabled account a live token belongs to, and the token (with its scopes); None for anything else."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200 or not _clean(secret):
            return None
        digest = token_digest(secret)
        j = tokens_table.join(accounts_table, tokens_table.c.account_id == accounts_table.c.id)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table, tokens_table.c.id.label("token_id"),
                                         tokens_table.c.name.label("token_name"), tokens_table.c.scopes,
                                         tokens_table.c.created_at.label("token_created"),
                                         tokens_table.c.revoked_at).select_from(j)
                               .where(tokens_table.c.token_hash == digest)).first()
        if row is None or row.revoked_at is not None or not secrets.compare_digest(digest[:12], row.token_id):
            return None
        account = _account(row)
        if account.disabled:
            return None
        return account, TokenInfo(str(row.token_id), account.username, str(row.token_name),
                                  _parse(row.token_created) or self.clock(), None, _scopes(row.scopes))

    # -- sessions (migration 0009) -----------------------------------------------------------------------

    def start_session(self, account: Account, lifetime: timedelta) -> str:
        """A new session for `account`: the secret to put in its cookie (only its digest is stored)."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(sessions_table.insert().values(
                id=token_digest(secret), account_id=account.id, created_at=_iso(now), last_seen=_iso(now),
                expires_at=_iso(now + lifetime), ended_at=None))
        return secret

    def session(self, secret: str, *, touch_after: timedelta = timedelta(minutes=1)) -> Session | None:
        """The live session a cookie's secret opens (not ended, not expired, its account enabled), else None.

        Its last use is written at most once per `touch_after`, so a busy page costs one indexed read."""
        if not secret or len(secret) > 100 or not _clean(secret):
            return None
        j = sessions_table.join(accounts_table, sessions_table.c.account_id == accounts_table.c.id)
        digest = token_digest(secret)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(accounts_table, sessions_table.c.id.label("sid"),
                                         sessions_table.c.created_at.label("s_created"),
                                         sessions_table.c.last_seen, sessions_table.c.expires_at,
                                         sessions_table.c.ended_at).select_from(j)
                               .where(sessions_table.c.id == digest)).first()
        if row is None or row.ended_at is not None:
            return None
        now = self.clock()
        expires, seen = _parse(row.expires_at), _parse(row.last_seen)
        account = _account(row)
        if expires is None or expires <= now or account.disabled:
            return None
        if seen is None or now - seen >= touch_after:
            with self.engine.begin() as conn:
                conn.execute(sessions_table.update().where(sessions_table.c.id == digest).values(last_seen=_iso(now)))
            seen = now
        return Session(digest, account, _parse(row.s_created) or now, seen, expires)

    def end_session(self, secret: str) -> bool:
        """End the session of a cookie's secret at once (sign-out); False when it was not live."""
        if not secret or len(secret) > 100 or not _clean(secret):
            return False
        with self.engine.begin() as conn:
            done = conn.execute(sessions_table.update()
                                .where(sessions_table.c.id == token_digest(secret), sessions_table.c.ended_at.is_(None))
                                .values(ended_at=_iso(self.clock())))
        return bool(done.rowcount)

    def end_sessions(self, username: str) -> int:
        """End every live session of `username` (how many)."""
        with self.engine.begin() as conn:
            return self._end_all(conn, username)

    def _end_all(self, conn: Connection, username: str) -> int:
        ids = sa.select(accounts_table.c.id).where(accounts_table.c.username == username).scalar_subquery()
        done = conn.execute(sessions_table.update()
                            .where(sessions_table.c.account_id == ids, sessions_table.c.ended_at.is_(None))
                            .values(ended_at=_iso(self.clock())))
        return int(done.rowcount or 0)

    def prune_sessions(self, older_than: timedelta = timedelta(days=30)) -> int:
        """Forget sessions that ended or expired more than `older_than` ago."""
        cut = _iso(self.clock() - older_than)
        with self.engine.begin() as conn:
            done = conn.execute(sessions_table.delete().where(sessions_table.c.expires_at < cut))
        return int(done.rowcount or 0)


class _Dummy:
    """A hash computed on first use, to verify against when the user does not exist."""

    _hash: str | None = None

    @property
    def hash(self) -> str:
        if self._hash is None:
            self._hash = PasswordHasher().hash(secrets.token_hex(16))
        return self._hash


_DUMMY = _Dummy()


def _clean(text: str) -> bool:
    """Text a database can be asked about: no NUL (PostgreSQL refuses it) and no lone surrogate."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _check_text(text: str, what: str) -> None:
    if not _clean(text) or any(ord(c) < 32 for c in text):
        raise ConfigError(f"the {what} {text!r} holds a control character", fix=f"write the {what} without it")


def _scopes(text: str | None) -> tuple[str, ...]:
    found = tuple((text or ALL).split())
    return found or (ALL,)


def _account(row: Any) -> Account:
    return Account(int(row.id), str(row.username), Role(row.role), bool(row.disabled),
                   _parse(row.created_at) or datetime.now(UTC), row.password_hash is not None, row.oidc_subject)
