"""Configured MDM APIs as sources: add, list, test, sync, and push enforcement payloads where an API allows."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.enforcement.base import Payload
from interdit.errors import ConfigError, InputError
from interdit.inventory.base import Record, Tally
from interdit.pipeline.audit import audit_trail, payload_digest, record, replace_file, require_trail
from interdit.pipeline.basics import Clock, system_clock
from interdit.pipeline.core import counting, import_counts, last_import_counts, snapshot_rules
from interdit.storage.audit import AuditLog
from interdit.storage.repo import ImportResult, RejectionLimit, Repository

if TYPE_CHECKING:
    from interdit.inventory.live import LiveConnector


def source_types() -> list[str]:
    """The live connector types (`interdit sources add NAME --type TYPE`)."""
    from interdit.inventory.live import connectors

    return connectors.names()


def connector_settings() -> dict[str, tuple[Any, ...]]:
    """Each live connector type with the settings it declares (`interdit.inventory.Setting`)."""
    from interdit.inventory.live import connectors

    return {name: cls.settings for name, cls in connectors.items()}


def _connector_class(type_: str) -> type[LiveConnector]:
    from interdit.inventory.live import connectors

    if type_ not in connectors:
        raise ConfigError(f"unknown source type {type_!r}", fix=f"use one of: {', '.join(connectors.names())}")
    return connectors.get(type_)


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
    from interdit.inventory.live import check_settings

    require_trail(audit, actor, "source.add")
    connector = _connector_class(type_)
    if secret_file is not None:
        secret_file = secret_file.expanduser().resolve()
    spec = sources.SourceSpec(name, type_, {k: v for k, v in settings.items() if v}, secret_file, secret_env)
    target = sources.sources_path(path)
    if secret_file is not None:
        sources.read_secret(spec)  # refuse a file others can read now, before anything is written
    previous = sources.load_sources(target).get(name) if actor is not None and target.exists() else None
    text = sources.sources_text(target, spec, force=force)  # every check, nothing written yet
    check_settings(connector, name, spec.settings, where=str(target))
    replace_file(target, text, audit, actor, "source.add", name,
                 before=_source_fields(previous) if previous else None,
                 after={**_source_fields(spec), "file": str(target)})
    return target


def secret_settings(type_: str) -> frozenset[str]:
    """The settings of a connector type marked secret (e.g. Workspace ONE's tenant_code API key): never shown."""
    from interdit.inventory.live import connectors

    if type_ not in connectors:  # a type no longer installed: hide every value rather than guess
        return frozenset({"*"})
    return frozenset(s.name for s in connectors.get(type_).settings if s.secret)


def shown_settings(spec: Any) -> dict[str, str]:
    """A configured source's settings as they may be shown: a setting its connector marks secret is `(set)`."""
    hidden = secret_settings(spec.type)
    return {k: ("(set)" if k in hidden or "*" in hidden else v) for k, v in spec.settings.items()}


def _source_fields(spec: Any) -> dict[str, Any]:
    secret = f"file {spec.secret_file}" if spec.secret_file is not None else f"environment {spec.env_name}"
    return {"type": spec.type, "settings": shown_settings(spec), "secret": secret}


def _connector(name: str, path: Path | None, client: Any, now: datetime) -> LiveConnector:
    from interdit import sources
    from interdit.inventory import ConnectorConfig, Limits
    from interdit.inventory.live import check_settings

    specs = sources.load_sources(sources.sources_path(path))
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none yet"
        raise ConfigError(f"no source named {name!r} (configured: {known})",
                          fix=f"add it: interdit sources add {name} --type TYPE ...")
    spec = specs[name]
    check_settings(_connector_class(spec.type), name, spec.settings, where=f"{sources.sources_path(path)}: "
                   f"sources.{name}")
    chosen: dict[str, Any] = {k: (int(v) if k in ("attempts", "max_body") else v) for k, v in spec.limits.items()}
    limits = Limits(**chosen)
    config = ConnectorConfig(spec.name, spec.type, dict(spec.settings), sources.read_secret(spec), limits)
    return _connector_class(spec.type)(config, client, now=now)


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
                actor: str | None = None, max_rejected: str | int | RejectionLimit | None = None,
                allow_shrink: bool = False) -> tuple[ImportResult, Tally]:
    """Read a full snapshot from the source's API and import it as one transaction.

    The same fail-closed rules as a file import (`import_inventory`): `max_rejected`, `allow_shrink`.

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
        fmt = f"api:{connector.name}"
        rules = snapshot_rules(max_rejected, allow_shrink, connector)
        previous = last_import_counts(repo, name) if actor is not None else None
        log = audit_trail(repo.engine, clock)

        def audit(conn: Any, result: ImportResult) -> object:  # in the import's transaction
            assert actor is not None
            return log.append(actor, "source.sync", name, before=previous, conn=conn,
                              after=import_counts(result, fmt, at=at or now))

        result = repo.import_snapshot(name, fmt, records, connector.tally, at=at or now, rules=rules,
                                      audit=audit if actor is not None else None)
        return result, connector.tally
    finally:
        if own:
            http.close()


def push_targets() -> dict[str, str]:
    """The enforcement targets `apply_enforcement` can push, each with the connector type that pushes it."""
    from interdit.inventory.live import pushers

    return {target: cls.name for target, cls in sorted(pushers().items())}


def check_push(target: str, mdm_object: str | None) -> None:
    """Refuse a push the target cannot have, before anything is built or written."""
    from interdit.inventory.live import pushers

    found = pushers()
    if target not in found:
        names = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"--push is available for the {names} targets only, not {target!r} / --push n'existe "
                          f"que pour {names}", fix="apply the written files in the MDM's console or API")
    needs = found[target].push_needs
    if needs and not mdm_object:
        raise ConfigError(f"pushing to {target} needs --mdm-object: {needs}",
                          fix=f"add --mdm-object NAME, e.g. interdit enforce {target} --push SOURCE --mdm-object "
                              "standard")


def apply_enforcement(name: str, payload: Payload, *, policy: str | None = None, apply: bool = False,
                      path: Path | None = None, client: Any = None, clock: Clock = system_clock,
                      actor: str | None = None, audit: AuditLog | None = None) -> list[str]:
    """Push a payload through a configured source whose connector pushes the payload's target, after a dry run.

    `policy` names the MDM object to change, e.g. the Android Management policy (`amapi`, required); the
    displayName the Intune objects are found by (`intune`; default the payload's, e.g. NAME, NAME (device admin));
    the Jamf Pro mobile device configuration profile (`jamf`; default the payload's name). Returns the planned
    changes (`apply=False`, the default, pushes nothing). Only the lists of prohibited apps change, and only by
    adding what is missing: every other setting, app, payload, assignment and scope stays as it is. With `actor`
    (and the trail `audit`), every `apply=True` is recorded (action `enforcement.push`, target `SOURCE:OBJECT`):
    the payload's digest and the plan (no changes when everything was already there).
    """
    from interdit.enforcement.base import targets

    if apply:
        require_trail(audit, actor, "enforcement.push")
    check_push(payload.target, policy)
    planner = sys.modules[targets.get(payload.target).__module__]  # the target's pure plan functions
    own = client is None
    http = _http_client() if own else client
    try:
        connector = _connector(name, path, http, clock())
        if connector.pushes != payload.target:
            raise ConfigError(f"source {name!r} is a {connector.name} source, not {payload.target} / la "
                              f"source {name!r} est de type {connector.name}, pas {payload.target}",
                              fix=f"name a source added with --type {push_targets()[payload.target]}")
        try:
            target, lines, send = connector.push(payload, policy, planner)
        except ValueError as e:  # an answer the plan cannot read
            raise InputError(str(e), where=f"source {name}", fix="check the object in the MDM console") from None
        sent = send() if apply else []
        if apply:  # recorded even when nothing was missing: the objects were checked and left as they were
            record(audit, actor, "enforcement.push", f"{name}:{target}",
                   after={"target": payload.target, "digest": payload_digest(payload), "changes": len(sent),
                          "sent": sent[:200], "plan": lines[:200]})
        return lines
    finally:
        if own:
            http.close()

