"""Who is asking: API tokens and session cookies, roles, and the CSRF check on every change made from a page."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature

from interdit.server.context import ServerContext, server
from interdit.server.problems import Problem
from interdit.storage.accounts import Account, Role, TokenInfo

SESSION_COOKIE = "interdit_session"
LANG_COOKIE = "interdit_lang"
SESSION_MAX_AGE = 12 * 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    account: Account
    via: str  # "token:<id>" or "session"
    csrf: str = ""
    token_name: str = ""
    token: TokenInfo | None = None  # the API token used, with its scopes
    session: str = ""  # the secret of the session cookie used

    def may_write(self, scope: str) -> bool:
        """Whether this caller may write `scope` (a source name, or LOGS): people may; tokens by their scopes."""
        return self.token is None or self.token.allows(scope)

    @property
    def actor(self) -> str:
        """Who the audit trail names: `user:alice` (signed in), `token:nightly-intune` (an API token)."""
        if self.via.startswith("token:"):
            return f"token:{self.token_name or self.via.removeprefix('token:')}"
        return f"user:{self.account.username}"

    @property
    def role(self) -> Role:
        return self.account.role


def session_value(ctx: ServerContext, account: Account) -> tuple[str, str]:
    """A new server-side session for `account`: the signed cookie value (its secret and CSRF token), the CSRF."""
    from datetime import timedelta

    csrf = secrets.token_urlsafe(24)
    sid = ctx.accounts.start_session(account, timedelta(seconds=SESSION_MAX_AGE))
    return ctx.serializer.dumps({"sid": sid, "csrf": csrf}), csrf


def session_cookie(request: Request, ctx: ServerContext) -> tuple[str, str]:
    """The session secret and CSRF token of the request's cookie, when its signature checks (else "", "")."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > 4096:
        return "", ""
    try:
        data = ctx.serializer.loads(cookie, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return "", ""
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        return "", ""
    return str(data["sid"]), str(data.get("csrf", ""))


def principal_from(request: Request, ctx: ServerContext) -> Principal | None:
    """Who is asking: a bearer token (machines, scripts) or a session cookie (people), looked up in the database."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        found = ctx.credentials.token_account(value.strip())
        if found is None:
            return None
        return Principal(found[0], f"token:{found[1].id}", token_name=found[1].name, token=found[1])
    sid, csrf = session_cookie(request, ctx)
    account = ctx.credentials.session_account(sid) if sid else None
    if account is None or account.disabled:
        return None
    return Principal(account, "session", csrf, session=sid)


async def check_csrf(request: Request, who: Principal) -> None:
    """Unsafe requests made with a session cookie must echo the session's CSRF token (header or form field)."""
    if who.via != "session" or request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not who.csrf or not secrets.compare_digest(sent.encode(), who.csrf.encode()):
        raise Problem(403, "the form's CSRF token is missing or wrong", fix="reload the page and submit it again")


def require(*roles: Role) -> Callable[..., Any]:
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        ctx = server(request)
        who = principal_from(request, ctx)
        if who is None:
            raise Problem(401, "sign in, or send an API token as 'Authorization: Bearer idt_...'",
                          headers={"WWW-Authenticate": 'Bearer realm="interdit"'},
                          fix="create a token with 'interdit tokens create USER NAME'")
        if who.role not in allowed:
            raise Problem(403, f"the role {who.role.value!r} may not do this",
                          fix="ask an administrator; allowed roles: " + ", ".join(sorted(r.value for r in allowed)))
        await check_csrf(request, who)
        request.state.principal = who
        return who

    return dependency


READERS = (Role.ADMIN, Role.ANALYST, Role.AUDITOR)
ADMINS = (Role.ADMIN,)
ANALYSTS = (Role.ADMIN, Role.ANALYST)
UPLOADERS = (Role.ADMIN, Role.ANALYST, Role.INGEST)
AUDIT_READERS = (Role.ADMIN, Role.AUDITOR)

Reader = Annotated[Principal, Depends(require(*READERS))]
Admin = Annotated[Principal, Depends(require(*ADMINS))]
Analyst = Annotated[Principal, Depends(require(*ANALYSTS))]
Uploader = Annotated[Principal, Depends(require(*UPLOADERS))]
AuditReader = Annotated[Principal, Depends(require(*AUDIT_READERS))]


def role_names(roles: Iterable[Role]) -> list[str]:
    return sorted(r.value for r in roles)
