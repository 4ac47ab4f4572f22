"""What every request shares: the settings and options, the clock, the repository (with its accounts and audit
trail). The pieces with a concern of their own live beside it: caches (`cache.py`), who is asking (`auth.py`),
sign-in through a provider (`oidc.py`), password checks (`signin.py`) and APK analyses (`jobs.py`)."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from interdit.server.cache import AccountCache, Cache
from interdit.server.oidc import FlowSealer, OidcClient, OidcConfig
from interdit.server.signin import PasswordGate, Throttle
from interdit.settings import Settings, env_flag, env_number
from interdit.storage.accounts import AccountStore
from interdit.storage.audit import AuditLog

if TYPE_CHECKING:
    from interdit import pipeline
    from interdit.pipeline.audit import Recorder
    from interdit.server.jobs import AnalysisQueue
    from interdit.storage.repo import Repository

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
        values: dict[str, Any] = {"secret": env.get("INTERDIT_SECRET_KEY", ""),
                                  "secure_cookies": env_flag(env, "INTERDIT_SECURE_COOKIES")}
        numbers = {  # option: (variable, lowest, highest, whole, scale)
            "max_upload_bytes": ("INTERDIT_MAX_UPLOAD_MB", 1, 1 << 20, True, 1024 * 1024),
            "analysis_workers": ("INTERDIT_ANALYSIS_WORKERS", 1, 4, True, 1),
            "analysis_timeout": ("INTERDIT_ANALYSIS_TIMEOUT", 1, 86400, False, 1),
            "password_checks": ("INTERDIT_PASSWORD_CHECKS", 1, None, True, 1),
            "password_queue": ("INTERDIT_PASSWORD_QUEUE", 1, None, True, 1),
            "sign_in_failures": ("INTERDIT_SIGN_IN_FAILURES", 1, None, True, 1),
            "sign_in_address_failures": ("INTERDIT_SIGN_IN_ADDRESS_FAILURES", 1, None, True, 1),
        }
        for name, (key, low, high, whole, scale) in numbers.items():
            value = env_number(env, key, low=low, high=high, whole=whole)
            if value is not None:
                values[name] = value * scale
        if env.get("INTERDIT_UPLOAD_DIR"):
            values["upload_dir"] = Path(env["INTERDIT_UPLOAD_DIR"])
        if overrides.get("oidc") is None:
            values["oidc"] = OidcConfig.resolve(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class Actor(Protocol):
    """Who the audit trail names (`auth.Principal` is one)."""

    @property
    def actor(self) -> str: ...


@dataclass
class ServerContext:
    settings: Settings
    options: ServerOptions
    clock: Callable[[], datetime]
    _engine: Engine | None = None
    _repo: Repository | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _accounts: AccountStore | None = None
    metrics: dict[tuple[str, str, int], list[float]] = field(default_factory=dict)
    health: list[Any] = field(default_factory=lambda: [0.0, "unreachable", False])  # checked at, reply, checking
    health_task: Any = field(default=None, repr=False)  # the database check running for /healthz
    cache: Cache = field(init=False, repr=False)
    credentials: AccountCache = field(init=False, repr=False)
    serializer: URLSafeTimedSerializer = field(init=False)
    flows: FlowSealer = field(init=False, repr=False)
    _oidc: OidcClient | None = field(init=False, default=None, repr=False)
    analysis_queue: AnalysisQueue = field(init=False, repr=False)
    passwords: PasswordGate = field(init=False, repr=False)
    throttle: Throttle = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from datetime import timedelta

        from interdit.server.jobs import AnalysisQueue

        self.cache = Cache(self.options.cache_seconds)
        self.credentials = AccountCache(lambda: self.accounts)
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

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.engine, clock=self.clock)

    def record(self, who: Actor | str, action: str, target: str, *, before: Any = None, after: Any = None) -> None:
        self.audit.append(who if isinstance(who, str) else who.actor, action, target, before=before, after=after)

    @property
    def trail(self) -> Recorder:
        """The audit trail as the pipeline's account and token use cases write to it."""
        from interdit.pipeline.audit import Recorder

        return Recorder(self.audit)

    # -- the policy (cached while its file stays the same) ---------------------------------------------

    def loaded_policy(self) -> pipeline.LoadedPolicy:
        from interdit import pipeline

        path = self.settings.policy_path
        stat = path.stat() if path.exists() else None
        key = (str(path), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
        return self.cache.get("policy", key, lambda: pipeline.read_policy(path),  # type: ignore[no-any-return]
                              ttl=3600)


def server(request: Request) -> ServerContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, ServerContext)
    return ctx


Ctx = Annotated[ServerContext, Depends(server)]
