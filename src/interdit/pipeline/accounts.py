"""Accounts and API tokens: the use cases the command line, the API and sign-in through a provider share.

The rules are written here once: an account cannot disable itself, a token is made only for an existing,
enabled account, a person of the identity provider is found by the provider's subject (never by name alone)
and gets the role their groups give. Each change writes its audit entry, with what was before and after,
inside the change's own transaction (`Recorder.hook`): both are written or neither. `actor` names who asks
(`user:alice`, `token:nightly`, `cli:jdoe`, `oidc:ISSUER`); without one nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from interdit.errors import ConfigError
from interdit.pipeline.audit import AuditAction, Recorder
from interdit.storage.accounts import Account, AccountStore, Role, TokenInfo

LIST_HINT = "list them with 'interdit users list'"


class UnknownAccount(ConfigError):
    """The account (or token) named does not exist: the API answers 404."""


class AccountConflict(ConfigError):
    """The change contradicts a rule (disabling oneself): the API answers 409."""


class SignInRefused(Exception):
    """A sign-in through the identity provider that does not go through.

    `key` names what the person reads (`oidc.disabled`, `oidc.no_role`, `oidc.taken`), `reason` what the log
    says, `values` what the words are filled with."""

    def __init__(self, key: str, reason: str, **values: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.values = values


def add_account(accounts: AccountStore, record: Recorder, actor: str | None, username: str, role: Role | str,
                password: str | None = None) -> Account:
    """A new account (a password for people; none for machines, which use API tokens)."""
    return accounts.add(username, Role(role), password, audit=record.hook(
        actor, AuditAction.ACCOUNT_ADD, username.strip(),
        lambda a: (None, {"role": a.role.value, "password": a.has_password})))


def disable_account(accounts: AccountStore, record: Recorder, actor: str | None, username: str, *,
                    caller: str | None = None) -> Account:
    """Disable an account: its sessions end in the same transaction, its tokens stop opening anything.

    `caller` is the account asking (None from the command line, which acts as the machine's operator); an
    account never disables itself, so that the last administrator cannot lock everyone out by mistake."""
    before = accounts.get(username)
    if before is None:
        raise UnknownAccount(f"no user named {username!r}", fix=LIST_HINT)
    if caller is not None and before.username == caller:
        raise AccountConflict("you cannot disable your own account", fix="ask another administrator")
    return accounts.set_disabled(username, True, audit=record.hook(
        actor, AuditAction.ACCOUNT_DISABLE, username, lambda _: ({"disabled": before.disabled}, {"disabled": True})))


def set_password(accounts: AccountStore, record: Recorder, actor: str | None, username: str, password: str) -> None:
    """A new password; every session of the account ends (the entry says so, never the password)."""
    if accounts.get(username) is None:
        raise UnknownAccount(f"no user named {username!r}", fix=LIST_HINT)
    accounts.set_password(username, password, audit=record.hook(
        actor, AuditAction.ACCOUNT_PASSWORD, username, lambda _: (None, {"sessions": "ended"})))


def create_token(accounts: AccountStore, record: Recorder, actor: str | None, username: str, name: str,
                 scopes: tuple[str, ...]) -> tuple[TokenInfo, str]:
    """A new API token for an existing, enabled account: (its record, the secret, shown this once)."""
    if accounts.get(username) is None:
        raise UnknownAccount(f"no user named {username!r}", fix="create it first with 'interdit users add'")
    return accounts.create_token(username, name, scopes=scopes, audit=record.hook(
        actor, AuditAction.TOKEN_CREATE, lambda t: str(t.id),
        lambda t: (None, {"user": t.username, "name": t.name, "scopes": list(t.scopes)})))


def revoke_token(accounts: AccountStore, record: Recorder, actor: str | None, token_id: str) -> TokenInfo:
    """Revoke an active token: requests that carry it are refused from now on."""
    if not any(t.id == token_id and t.revoked_at is None for t in accounts.tokens()):
        raise UnknownAccount(f"no active token with id {token_id!r}", fix="list them with 'interdit tokens list'")
    return accounts.revoke_token(token_id, audit=record.hook(
        actor, AuditAction.TOKEN_REVOKE, token_id,
        lambda t: ({"user": t.username, "name": t.name},
                   {"revoked_at": t.revoked_at.isoformat() if t.revoked_at else None})))


@dataclass(frozen=True)
class OidcSignIn:
    account: Account
    role_changed: bool  # the person's groups now give another role: remembered credentials must be forgotten


def sign_in_oidc(accounts: AccountStore, record: Recorder, *, issuer: str, subject: str, username: str,
                 role: Role | None, role_claim: str) -> OidcSignIn:
    """The account of a person the identity provider vouches for: created on their first sign-in, its role
    kept in step with their groups, the sign-in recorded.

    The provider is the actor of what it decides (`oidc:ISSUER`): the account's creation and its role changes.
    An account is found by the provider's subject (`issuer sub`), never by name alone: a password account of
    the same name is refused, not taken over."""
    key = f"{issuer} {subject}"
    account = accounts.by_oidc_subject(key)
    if account is not None and account.disabled:
        raise SignInRefused("oidc.disabled", f"the account {account.username!r} is disabled",
                            username=account.username)
    if role is None:
        raise SignInRefused("oidc.no_role", f"{username!r} is in no group mapped to a role (claim {role_claim!r})",
                            username=username)
    provider = f"oidc:{issuer}"
    changed = False
    if account is None:
        if accounts.get(username) is not None:
            raise SignInRefused("oidc.taken", f"an account named {username!r} exists and is not this person's "
                                              "at the provider", username=username)
        try:
            account = accounts.add(username, role, oidc_subject=key, audit=record.hook(
                provider, AuditAction.ACCOUNT_ADD, username,
                lambda a: (None, {"role": a.role.value, "password": False, "oidc": issuer})))
        except ConfigError:  # the same person's other sign-in created it a moment ago
            found = accounts.by_oidc_subject(key)
            if found is None:
                raise SignInRefused("oidc.taken", f"the account {username!r} could not be created",
                                    username=username) from None
            account = found
    elif account.role is not role:
        before = account.role
        account = accounts.set_role(account.username, role, audit=record.hook(
            provider, AuditAction.ACCOUNT_ROLE, account.username,
            lambda r: ({"role": before.value}, {"role": r.value})))
        changed = True
    record.append(f"user:{account.username}", AuditAction.SESSION_SIGN_IN, account.username,
                  after={"via": "oidc", "issuer": issuer})
    return OidcSignIn(account, changed)

