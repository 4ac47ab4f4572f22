"""Configured MDM APIs as sources: add, list, test, sync, and push enforcement payloads where an API allows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from interdit.enforcement.base import Payload
from interdit.errors import ConfigError
from interdit.inventory.base import Record, Tally
from interdit.pipeline.audit import audit_trail, payload_digest, record, require_trail
from interdit.pipeline.basics import Clock, system_clock
from interdit.pipeline.core import counting, import_counts, last_import_counts
from interdit.storage.audit import AuditLog
from interdit.storage.repo import ImportResult, Repository


def source_types() -> list[str]:
    """The live connector types (`interdit sources add NAME --type TYPE`)."""
    from interdit.inventory._http import connectors

    return connectors.names()


def configured_sources(path: Path | None = None) -> dict[str, Any]:
    """Every configured source (name -> `interdit.sources.SourceSpec`) with how its credentials are given."""
    from interdit import sources

    return sources.load_sources(sources.sources_path(path))


def source_credentials(spec: Any) -> str:
    from interdit import sources

    return sources.credentials_state(spec)


def add_source(name: str, type_: str, settings: dict[str, str], *, secret_file: Path | None = None,
               secret_env: str | None = None, path: Path | None = None, force: bool = False,
               actor: str | None = None, audit: AuditLog | None = None) -> Path:
    """Add (or with `force`, replace) a source in the sources file; secrets stay out of it.

    With `actor` (and the trail `audit`), the change is recorded (action `source.add`, target the source): its
    type, settings and where its secret is read from (never the secret), and the replaced source as `before`.
    """
    from interdit import sources

    require_trail(audit, actor, "source.add")
    if type_ not in source_types():
        raise ConfigError(f"unknown source type {type_!r}", fix=f"use one of: {', '.join(source_types())}")
    if secret_file is not None:
        secret_file = secret_file.expanduser().resolve()
    spec = sources.SourceSpec(name, type_, {k: v for k, v in settings.items() if v}, secret_file, secret_env)
    target = sources.sources_path(path)
    previous = sources.load_sources(target).get(name) if actor is not None and target.exists() else None
    sources.add_source(target, spec, force=force)
    record(audit, actor, "source.add", name, before=_source_fields(previous) if previous else None,
           after={**_source_fields(spec), "file": str(target)})
    if secret_file is not None:
        sources.read_secret(spec)  # refuse a file others can read now, not at the first sync
    return target


def _source_fields(spec: Any) -> dict[str, Any]:
    secret = f"file {spec.secret_file}" if spec.secret_file is not None else f"environment {spec.env_name}"
    hidden = ("code", "key", "token", "secret", "password")  # e.g. Workspace ONE's aw-tenant-code API key
    settings = {k: ("(set)" if any(h in k.lower() for h in hidden) else v) for k, v in spec.settings.items()}
    return {"type": spec.type, "settings": settings, "secret": secret}


def _connector(name: str, path: Path | None, client: Any, now: datetime) -> Any:
    from interdit import sources
    from interdit.inventory._http import ConnectorConfig, Limits, connectors

    specs = sources.load_sources(sources.sources_path(path))
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none yet"
        raise ConfigError(f"no source named {name!r} (configured: {known})",
                          fix=f"add it: interdit sources add {name} --type TYPE ...")
    spec = specs[name]
    chosen: dict[str, Any] = {k: (int(v) if k in ("attempts", "max_body") else v) for k, v in spec.limits.items()}
    limits = Limits(**chosen)
    config = ConnectorConfig(spec.name, spec.type, dict(spec.settings), sources.read_secret(spec), limits)
    connector = connectors.get(spec.type)(config, client, now=now)
    connector.source_type = spec.type
    return connector


def _http_client() -> Any:
    import httpx

    from interdit import __version__

    return httpx.Client(follow_redirects=False, headers={"User-Agent": f"interdit/{__version__}"},
                        timeout=httpx.Timeout(60.0))


def check_source(name: str, *, path: Path | None = None, client: Any = None, clock: Clock = system_clock) -> str:
    """Connectivity: a token and one small request. Returns what the service answered."""
    own = client is None
    http = _http_client() if own else client
    try:
        return str(_connector(name, path, http, clock()).check())
    finally:
        if own:
            http.close()


def sync_source(repo: Repository, name: str, *, path: Path | None = None, client: Any = None,
                clock: Clock = system_clock, at: datetime | None = None,
                progress: Callable[[int], None] | None = None,
                actor: str | None = None) -> tuple[ImportResult, Tally]:
    """Read a full snapshot from the source's API and import it as one transaction.

    If the API fails part-way, the records stream raises, the transaction rolls back and the previous
    snapshot stays in place: a sync never half-imports. With `actor`, the committed sync is recorded in the
    audit trail (action `source.sync`, target the source): run id and counts, the previous run's as `before`.
    """
    own = client is None
    http = _http_client() if own else client
    try:
        now = clock()
        connector = _connector(name, path, http, now)
        records: Iterable[Record] = connector.records()
        if progress is not None:
            records = counting(records, progress)
        fmt = f"api:{connector.source_type}"
        previous = last_import_counts(repo, name) if actor is not None else None
        result = repo.import_snapshot(name, fmt, records, connector.tally, at=at or now)
        record(audit_trail(repo.engine, clock), actor, "source.sync", name, before=previous,
               after=import_counts(result, fmt, at=at or now))
        return result, connector.tally
    finally:
        if own:
            http.close()


def apply_enforcement(name: str, payload: Payload, *, policy: str, apply: bool = False, path: Path | None = None,
                      client: Any = None, clock: Clock = system_clock, actor: str | None = None,
                      audit: AuditLog | None = None) -> list[str]:
    """Push an `amapi` payload to a policy of a configured `amapi` source, after a dry run.

    Returns the planned changes (`apply=False`, the default, pushes nothing). Only the prohibited packages are
    changed, through `:modifyPolicyApplications`; the policy's other apps stay as they are. With `actor` (and
    the trail `audit`), every `apply=True` is recorded (action `enforcement.push`, target `SOURCE:POLICY`):
    the payload's digest and the changes sent (none when the policy already blocked everything).
    """
    if apply:
        require_trail(audit, actor, "enforcement.push")
    from interdit.enforcement.amapi import plan

    if payload.target != "amapi":
        raise ConfigError(f"--apply is available for the amapi target only, not {payload.target!r}",
                          fix="apply the written files in the MDM's console or API")
    own = client is None
    http = _http_client() if own else client
    try:
        connector = _connector(name, path, http, clock())
        if connector.source_type != "amapi":
            raise ConfigError(f"source {name!r} is a {connector.source_type} source, not amapi",
                              fix="name a source added with --type amapi")
        policy_name = policy if policy.startswith("enterprises/") else f"{connector.enterprise}/policies/{policy}"
        current = connector.api.get_json(f"{connector.base}/{policy_name}")
        lines, changes = plan(current if isinstance(current, dict) else {}, payload)
        if apply and changes:
            connector.api.post_json(f"{connector.base}/{policy_name}:modifyPolicyApplications", {"changes": changes})
        if apply:  # recorded even when nothing was missing: the policy was checked and left as it was
            record(audit, actor, "enforcement.push", f"{name}:{policy_name}",
                   after={"target": payload.target, "digest": payload_digest(payload), "changes": len(changes),
                          "plan": lines[:200]})
        return lines
    finally:
        if own:
            http.close()


