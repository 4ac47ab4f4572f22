"""What every request shares: settings, the repository, accounts, the audit trail, the clock and caches."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from interdit.api.oidc import FlowSealer, OidcClient, OidcConfig
from interdit.api.problems import Problem
from interdit.api.signin import PasswordGate, Throttle
from interdit.settings import Settings
from interdit.storage.accounts import Account, AccountStore, Role, TokenInfo
from interdit.storage.audit import AuditLog

if TYPE_CHECKING:
    from interdit import pipeline
    from interdit.api.jobs import AnalysisQueue
    from interdit.storage.repo import Repository

SESSION_COOKIE = "interdit_session"
LANG_COOKIE = "interdit_lang"
SESSION_MAX_AGE = 12 * 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_CACHE_SECONDS = 5.0  # a token revoked (an account disabled) from the command line stops within this time
SESSION_CACHE_SECONDS = 5.0  # a session is looked up again after this; signing out forgets it at once


@dataclass(frozen=True)
class ServerOptions:
    """How the server runs. `secret` signs session cookies: set INTERDIT_SECRET_KEY so sessions survive restarts."""

    secret: str = ""
    secure_cookies: bool = False  # behind a TLS reverse proxy: cookies carry the Secure flag
    max_upload_bytes: int = 512 * 1024 * 1024
    upload_dir: Path | None = None
    cache_seconds: float = 60.0
    oidc: OidcConfig | None = None  # sign-in through an OpenID Connect provider
    analysis_workers: int = 1  # APK analyses run at the same time in one server process
    analysis_timeout: float = 900.0  # seconds a queued APK analysis may take before it is reported failed
    password_checks: int = 1  # argon2 checks at once (64 MiB and one core each)
    password_queue: int = 8  # sign-ins waiting for a check; beyond, 503 with Retry-After
    sign_in_failures: int = 5  # failed sign-ins per account name before each attempt must wait (429)
    sign_in_address_failures: int = 20  # the same per client address

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> ServerOptions:
        env = dict(os.environ) if environ is None else environ
        values: dict[str, Any] = {
            "secret": env.get("INTERDIT_SECRET_KEY", ""),
            "secure_cookies": env.get("INTERDIT_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
        }
        if env.get("INTERDIT_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = int(env["INTERDIT_MAX_UPLOAD_MB"]) * 1024 * 1024
        if env.get("INTERDIT_ANALYSIS_WORKERS"):
            values["analysis_workers"] = max(1, min(4, int(env["INTERDIT_ANALYSIS_WORKERS"])))
        if env.get("INTERDIT_ANALYSIS_TIMEOUT"):
            values["analysis_timeout"] = float(env["INTERDIT_ANALYSIS_TIMEOUT"])
        if env.get("INTERDIT_UPLOAD_DIR"):
            values["upload_dir"] = Path(env["INTERDIT_UPLOAD_DIR"])
        for name, key in (("password_checks", "INTERDIT_PASSWORD_CHECKS"),
                          ("password_queue", "INTERDIT_PASSWORD_QUEUE"),
                          ("sign_in_failures", "INTERDIT_SIGN_IN_FAILURES"),
                          ("sign_in_address_failures", "INTERDIT_SIGN_IN_ADDRESS_FAILURES")):
            if env.get(key):
                values[name] = max(1, int(env[key]))
        if overrides.get("oidc") is None:
            values["oidc"] = OidcConfig.resolve(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


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


@dataclass
class Cached:
    key: tuple[Any, ...]
    made: float
    value: Any


@dataclass
class ServerContext:
    settings: Settings
    options: ServerOptions
    clock: Callable[[], datetime]
    _engine: Engine | None = None
    _repo: Repository | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[str, Cached] = field(default_factory=dict)
    _cache_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _accounts: AccountStore | None = None
    _tokens: dict[str, tuple[float, tuple[Account, TokenInfo] | None]] = field(default_factory=dict)
    _sessions: dict[str, tuple[float, Account | None]] = field(default_factory=dict)
    metrics: dict[tuple[str, str, int], list[float]] = field(default_factory=dict)
    health: list[Any] = field(default_factory=lambda: [0.0, "unreachable", False])  # checked at, reply, checking
    health_task: Any = field(default=None, repr=False)  # the database check running for /healthz
    serializer: URLSafeTimedSerializer = field(init=False)
    flows: FlowSealer = field(init=False, repr=False)
    _oidc: OidcClient | None = field(init=False, default=None, repr=False)
    analysis_queue: AnalysisQueue = field(init=False, repr=False)
    passwords: PasswordGate = field(init=False, repr=False)
    throttle: Throttle = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from datetime import timedelta

        from interdit.api.jobs import AnalysisQueue

        self.analysis_queue = AnalysisQueue(workers=self.options.analysis_workers,
                                            timeout=timedelta(seconds=self.options.analysis_timeout))
        secret = self.options.secret or secrets.token_urlsafe(32)
        self.serializer = URLSafeTimedSerializer(secret, salt="interdit-session")
        self.flows = FlowSealer(secret)
        self.passwords = PasswordGate(self.options.password_checks, self.options.password_queue)
        self.throttle = Throttle(self.options.sign_in_failures, self.options.sign_in_address_failures)

    @property
    def oidc(self) -> OidcClient | None:
        """The OpenID Connect provider's client, when one is configured (made on first use)."""
        if self.options.oidc is None:
            return None
        with self._lock:
            if self._oidc is None:
                self._oidc = OidcClient(self.options.oidc)
            return self._oidc

    # -- storage ---------------------------------------------------------------------------------------

    @property
    def repo(self) -> Repository:
        with self._lock:
            if self._repo is None:
                from interdit import pipeline

                self._repo = pipeline.open_repository(self.settings.database_url)
                self._engine = self._repo.engine
            return self._repo

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                return self.repo.engine
            except ImportError:  # the fleet storage is not installed: accounts and audit still work
                with self._lock:
                    if self._engine is None:
                        self._engine = create_engine(self.settings.database_url)
        return self._engine

    @property
    def accounts(self) -> AccountStore:
        if self._accounts is None:
            self._accounts = AccountStore(self.engine, clock=self.clock)
        return self._accounts

    def token_account(self, secret: str) -> tuple[Account, TokenInfo] | None:
        """`accounts.token_for`, remembered for TOKEN_CACHE_SECONDS (revoking through the API forgets it)."""
        now = time.monotonic()
        hit = self._tokens.get(secret)
        if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
            return hit[1]
        found = self.accounts.token_for(secret)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[secret] = (now, found)
        return found

    def session_account(self, secret: str) -> Account | None:
        """The account of a live session, remembered for SESSION_CACHE_SECONDS; signing out forgets it at once."""
        now = time.monotonic()
        hit = self._sessions.get(secret)
        if hit is not None and now - hit[0] < SESSION_CACHE_SECONDS:
            return hit[1]
        found = self.accounts.session(secret)
        account = found.account if found is not None else None
        if len(self._sessions) > 10_000:
            self._sessions.clear()
        self._sessions[secret] = (now, account)
        return account

    def end_session(self, secret: str) -> None:
        self._sessions.pop(secret, None)
        self.accounts.end_session(secret)

    def forget_tokens(self) -> None:
        self._tokens.clear()
        self._sessions.clear()

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.engine, clock=self.clock)

    def record(self, who: Principal | str, action: str, target: str, *, before: Any = None, after: Any = None) -> None:
        self.audit.append(who.actor if isinstance(who, Principal) else who, action, target, before=before, after=after)

    def recorder(self, who: Principal | str, action: str, target: str | Callable[[Any], str],
                 make: Callable[[Any], tuple[Any, Any]]) -> Callable[[Any, Any], object]:
        """A hook for `AccountStore`: writes the entry inside the change's own transaction.

        `make(result)` gives (before, after) from what the change returns; `target` may be made from it too."""
        actor = who.actor if isinstance(who, Principal) else who
        log = self.audit

        def hook(conn: Any, result: Any) -> object:
            before, after = make(result)
            name = target(result) if callable(target) else target
            return log.append(actor, action, name, before=before, after=after, conn=conn)

        return hook

    # -- policy and evaluation (cached) ----------------------------------------------------------------

    def loaded_policy(self) -> pipeline.LoadedPolicy:
        from interdit import pipeline

        path = self.settings.policy_path
        stat = path.stat() if path.exists() else None
        key = (str(path), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
        return self.cached("policy", key, lambda: pipeline.read_policy(path), ttl=3600)  # type: ignore[no-any-return]

    def cached(self, name: str, key: tuple[Any, ...], make: Callable[[], Any], *, ttl: float | None = None,
               stale_ok: bool = False) -> Any:
        """The value for `key`, made once and kept `ttl` seconds.

        A new key (a new import, another policy) is made at once, and the request waits for it; with
        `stale_ok`, while another request is already making the value for a new key (an import computing the
        evaluation it changed), the previous value is answered instead of waiting. A value that has only aged
        is remade in the background while requests keep getting the old one (for ttl ≥ 5 s).
        """
        ttl = self.options.cache_seconds if ttl is None else ttl
        entry = self._cache.get(name)
        if entry is not None and entry.key == key and time.monotonic() - entry.made < ttl:
            return entry.value
        lock = self._cache_locks.setdefault(name, threading.Lock())
        if entry is not None and entry.key == key:
            if not lock.acquire(blocking=False):
                return entry.value  # someone is remaking it already
            if ttl >= 5:
                threading.Thread(target=self._remake, args=(name, key, make, lock), daemon=True).start()
                return entry.value
        elif stale_ok and entry is not None:
            if not lock.acquire(blocking=False):
                return entry.value  # the value for the new key is being made: answer from the previous one
        else:
            lock.acquire()
        try:
            entry = self._cache.get(name)
            if entry is not None and entry.key == key and time.monotonic() - entry.made < ttl:
                return entry.value
            value = make()
            self._cache[name] = Cached(key, time.monotonic(), value)
            return value
        finally:
            lock.release()

    def _remake(self, name: str, key: tuple[Any, ...], make: Callable[[], Any], lock: threading.Lock) -> None:
        try:
            self._cache[name] = Cached(key, time.monotonic(), make())
        except Exception:  # the old value stays; the next request tries again
            logging.getLogger("interdit.api").exception("could not refresh %s", name)
        finally:
            lock.release()

    def forget(self, *names: str) -> None:
        for n in names or tuple(self._cache):
            self._cache.pop(n, None)


def server(request: Request) -> ServerContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ServerContext)
    return ctx


Ctx = Annotated[ServerContext, Depends(server)]


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
        found = ctx.token_account(value.strip())
        if found is None:
            return None
        return Principal(found[0], f"token:{found[1].id}", token_name=found[1].name, token=found[1])
    sid, csrf = session_cookie(request, ctx)
    account = ctx.session_account(sid) if sid else None
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
