"""Configured MDM APIs as sources: add, list, test, sync, and push enforcement payloads where an API allows."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from interdit.enforcement.base import Payload
from interdit.errors import ConfigError, InputError
from interdit.inventory.base import Record, Tally
from interdit.pipeline.audit import audit_trail, payload_digest, record, replace_file, require_trail
from interdit.pipeline.basics import Clock, system_clock
from interdit.pipeline.core import counting, import_counts, last_import_counts, snapshot_rules
from interdit.storage.audit import AuditLog
from interdit.storage.repo import ImportResult, RejectionLimit, Repository


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
    if secret_file is not None:
        sources.read_secret(spec)  # refuse a file others can read now, before anything is written
    previous = sources.load_sources(target).get(name) if actor is not None and target.exists() else None
    text = sources.sources_text(target, spec, force=force)  # every check, nothing written yet
    replace_file(target, text, audit, actor, "source.add", name,
                 before=_source_fields(previous) if previous else None,
                 after={**_source_fields(spec), "file": str(target)})
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
        fmt = f"api:{connector.source_type}"
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


PUSH_TARGETS = ("amapi", "intune", "jamf")
"""The targets `apply_enforcement` can push; each through a source of the same type."""


def apply_enforcement(name: str, payload: Payload, *, policy: str | None = None, apply: bool = False,
                      path: Path | None = None, client: Any = None, clock: Clock = system_clock,
                      actor: str | None = None, audit: AuditLog | None = None) -> list[str]:
    """Push a payload through a configured source of the same type, after a dry run.

    `policy` names the MDM object to change: the Android Management policy (`amapi`, required); the displayName
    the Intune objects are found by (`intune`; default the payload's, e.g. NAME, NAME (device admin)); the Jamf
    Pro mobile device configuration profile (`jamf`; default the payload's name). Returns the planned changes
    (`apply=False`, the default, pushes nothing). Only the lists of prohibited apps change, and only by adding
    what is missing: every other setting, app, payload, assignment and scope stays as it is. With `actor` (and
    the trail `audit`), every `apply=True` is recorded (action `enforcement.push`, target `SOURCE:OBJECT`): the
    payload's digest and the plan (no changes when everything was already there).
    """
    if apply:
        require_trail(audit, actor, "enforcement.push")
    pushers = {"amapi": _push_amapi, "intune": _push_intune, "jamf": _push_jamf}
    if payload.target not in pushers:
        raise ConfigError(f"--push is available for the {', '.join(PUSH_TARGETS)} targets only, not "
                          f"{payload.target!r} / --push n'existe que pour {', '.join(PUSH_TARGETS)}",
                          fix="apply the written files in the MDM's console or API")
    if payload.target == "amapi" and not policy:
        raise ConfigError("pushing to amapi needs the policy to change / il faut nommer la politique",
                          fix="add --mdm-object NAME, e.g. --mdm-object standard")
    own = client is None
    http = _http_client() if own else client
    try:
        connector = _connector(name, path, http, clock())
        if connector.source_type != payload.target:
            raise ConfigError(f"source {name!r} is a {connector.source_type} source, not {payload.target} / la "
                              f"source {name!r} est de type {connector.source_type}, pas {payload.target}",
                              fix=f"name a source added with --type {payload.target}")
        try:
            target, lines, send = pushers[payload.target](connector, payload, policy)
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


Pushed = tuple[str, list[str], Callable[[], list[Any]]]  # the object, the plan, what sends it (what was sent)


def _push_amapi(connector: Any, payload: Payload, policy: str | None) -> Pushed:
    """Only the missing `BLOCKED` entries, through `:modifyPolicyApplications`; the policy's other apps stay."""
    from interdit.enforcement.amapi import plan

    assert policy
    policy_name = policy if policy.startswith("enterprises/") else f"{connector.enterprise}/policies/{policy}"
    current = connector.api.get_json(f"{connector.base}/{policy_name}")
    lines, changes = plan(current if isinstance(current, dict) else {}, payload)

    def send() -> list[Any]:
        if changes:
            connector.api.post_json(f"{connector.base}/{policy_name}:modifyPolicyApplications", {"changes": changes})
        return [c["application"]["packageName"] for c in changes]

    return policy_name, lines, send


def _push_intune(connector: Any, payload: Payload, name: str | None) -> Pushed:
    """Intune objects found by displayName and @odata.type; missing ones created (POST, not assigned), existing
    ones PATCHed with their app lists only (Graph beta, DeviceManagementConfiguration.ReadWrite.All)."""
    import httpx

    from interdit.enforcement.intune import COLLECTIONS, plan, push_objects

    root = f"{connector.graph}/beta/deviceManagement"
    host = httpx.URL(connector.graph).host
    listed: dict[str, list[dict[str, Any]]] = {}

    def listing(collection: str) -> list[dict[str, Any]]:
        if collection not in listed:
            items: list[dict[str, Any]] = []
            url: str | None = f"{root}/{collection}?$select=id,displayName"
            while url:
                page = connector.api.get_json(url)
                value = page.get("value") if isinstance(page, dict) else None
                items += [i for i in (value if isinstance(value, list) else []) if isinstance(i, dict)]
                link = page.get("@odata.nextLink") if isinstance(page, dict) else None
                if link is not None and (not isinstance(link, str) or httpx.URL(link).host != host):
                    raise ValueError(f"{collection}: @odata.nextLink points to another host; tokens are never "
                                     "sent there")
                url = link
            listed[collection] = items
        return listed[collection]

    current: dict[str, dict[str, Any] | None] = {}
    objects = push_objects(payload, name)
    for file, body in objects.items():
        collection = COLLECTIONS[file]
        found = [i for i in listing(collection) if i.get("displayName") == body["displayName"]
                 and i.get("@odata.type") in (None, body["@odata.type"])]
        if len(found) > 1:
            raise ValueError(f"{len(found)} {collection} are named {body['displayName']!r} (ids "
                             f"{', '.join(str(i.get('id')) for i in found)}); rename all but one, or name others "
                             "with --mdm-object")
        got = connector.api.get_json(f"{root}/{collection}/{found[0]['id']}") if found else None
        current[file] = got if isinstance(got, dict) or got is None else {}
    lines, changes = plan(current, payload, name)

    def send() -> list[Any]:
        sent = []
        for change in changes:
            url = f"{root}/{change['collection']}"
            if change["id"] is None:
                made = connector.api.post_json(url, change["body"])
                sent.append({"created": change["displayName"], "id": made.get("id") if isinstance(made, dict)
                             else None})
            else:
                connector.api.request("PATCH", f"{url}/{change['id']}", json_body=change["body"],
                                      headers={"Accept": "application/json"})
                sent.append({"updated": change["displayName"], "id": change["id"],
                             "fields": sorted(k for k in change["body"] if not k.startswith("@"))})
        return sent

    first = next(iter(objects.values()), {"displayName": name or "-"})
    return str(name or first["displayName"]), lines, send


def _push_jamf(connector: Any, payload: Payload, name: str | None) -> Pushed:
    """A Jamf Pro mobile device configuration profile found by name (Classic API): created with the payload's
    XML (scope empty), or updated with `general/payloads` only."""
    from interdit.enforcement.jamf import find_profile, parse, plan, profile_name

    root = f"{connector.base}/JSSResource/mobiledeviceconfigurationprofiles"
    xml = {"Accept": "application/xml"}
    shown = profile_name(payload, name)
    profile_id = find_profile(connector.api.request("GET", root, headers=xml)[1], shown)
    current = connector.api.request("GET", f"{root}/id/{profile_id}", headers=xml)[1] if profile_id else None
    lines, change = plan(current, payload, name)

    def send() -> list[Any]:
        if change is None:
            return []
        method, url = ("POST", f"{root}/id/0") if change["id"] is None else ("PUT", f"{root}/id/{change['id']}")
        with warnings.catch_warnings():  # the Classic API takes raw XML, which httpx sends as `data` bytes
            warnings.filterwarnings("ignore", message="Use 'content=", category=DeprecationWarning)
            body = connector.api.request(method, url, data=cast(Any, change["xml"]),
                                         headers={**xml, "Content-Type": "application/xml"})[1]
        made = change["id"]
        if made is None:
            try:
                made = parse(body, "created profile").findtext("id")
            except ValueError:
                made = None
        return [{"created" if change["id"] is None else "updated": shown, "id": made}]

    return shown, lines, send
