"""The core use cases: set-up, inventory import, evaluation, enforcement and reports."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from interdit.catalogue import blockable_domains, load_catalogue
from interdit.enforcement.base import EnforcementRequest, Option, Payload, targets
from interdit.errors import ConfigError, InputError, InterditError
from interdit.inventory.base import Record, Tally, readers
from interdit.model import Device, Finding, Policy, Summary, day_start
from interdit.pipeline.audit import audit_trail, payload_digest, record, require_trail
from interdit.pipeline.basics import Clock, LoadedPolicy, gc_paused, system_clock
from interdit.policy import candidate_patterns, due_for_review, load_policy, starter_policy
from interdit.policy import evaluate as evaluate_policy
from interdit.policy.evaluate import Evaluation
from interdit.policy.schema import policy_json_schema
from interdit.reporting.base import ReportData, formats
from interdit.storage import evaluations
from interdit.storage.audit import AuditLog, check_entry
from interdit.storage.repo import ImportResult, RejectionLimit, Repository, SnapshotRefused, SnapshotRules

__all__ = ["SnapshotRefused"]  # a snapshot refused by its rules: nothing changed (the faces catch it)

# -- set-up -----------------------------------------------------------------------------------------


def open_repository(url: str) -> Repository:
    """Open the database, creating or upgrading its tables. A database already at the code's schema is opened
    without loading the migration machinery (`Repository.migrate` checks and upgrades everything else)."""
    repo = Repository(url)
    if not _schema_is_current(repo):
        repo.migrate()
    return repo


_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:"([^"]*)"|\'([^\']*)\'|None|(\([^)]*\)))\s*$',
                       re.M)


def _schema_is_current(repo: Repository) -> bool:
    """True when the database's alembic revisions are exactly the heads of the migration scripts shipped here.
    Anything unusual (a script that cannot be read plainly, no version table, another set of revisions) says
    False, and `Repository.migrate` decides."""
    from sqlalchemy.exc import SQLAlchemyError

    from interdit.storage.repo import MIGRATIONS

    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) or m.group(3) or m.group(4)
                 for m in _REVISION.finditer(script.read_text("utf-8"))}
        if not found.get("revision") or "down_revision" not in found:
            return False
        revisions.add(found["revision"] or "")
        down = found["down_revision"] or ""
        parents.update(re.findall(r'"([^"]+)"', down) if down.startswith("(") else [down] if down else [])
    heads = revisions - parents
    try:
        with repo.engine.connect() as conn:
            current = {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except SQLAlchemyError:
        return False
    return bool(heads) and current == heads


def write_starter_policy(path: Path, *, force: bool = False) -> Path:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", fix="choose another path, or pass --force to overwrite it")
    path.write_text(starter_policy(), encoding="utf-8")
    return path


def read_policy(path: Path) -> LoadedPolicy:
    if not path.exists():
        raise ConfigError(f"no policy file at {path}",
                          fix="run 'interdit init' to write a starter policy, or pass --policy PATH")
    cat = load_catalogue()
    policy = load_policy(path, cat)
    return LoadedPolicy(policy, cat, hashlib.sha256(path.read_bytes()).hexdigest())


def policy_schema() -> dict[str, Any]:
    """The policy file's JSON Schema, for editors."""
    return policy_json_schema()


def review_items(policy: Policy, now: datetime, within_days: int = 30) -> list[tuple[str, str, date, str]]:
    return due_for_review(policy, now, within_days)


# -- inventory --------------------------------------------------------------------------------------


def inventory_formats() -> list[str]:
    return readers.names()


def rejection_limit(value: str | int | RejectionLimit | None) -> RejectionLimit | None:
    """`--max-rejected`: a count of records (`25`), or a percentage of the records read (`1%`, `0.5 %`);
    `none` applies a snapshot whatever it rejected. None means the default, 1 % of the records read."""
    if value is None:
        return RejectionLimit()
    if isinstance(value, RejectionLimit):
        return value
    if isinstance(value, int):
        return RejectionLimit(count=value, percent=None)
    text_ = value.strip().lower()
    if text_ in ("none", "off", "unlimited"):
        return None
    try:
        if text_.endswith("%"):
            percent = float(text_[:-1].strip())
            if 0 <= percent <= 100:
                return RejectionLimit(count=None, percent=percent)
        elif text_.isdigit():
            return RejectionLimit(count=int(text_), percent=None)
    except ValueError:
        pass
    raise InputError(f"--max-rejected {value!r} is neither a count nor a percentage",
                     fix="give a count of records (e.g. 25), a percentage of the records read (e.g. 1%), or none")


def snapshot_rules(max_rejected: str | int | RejectionLimit | None = None, allow_shrink: bool = False,
                   reader: Any = None) -> SnapshotRules:
    """The rules an import applies: the rejection limit, whether a large shrink is confirmed, and whether the
    reader lists devices without apps on purpose (its `empty_app_lists_expected`)."""
    return SnapshotRules(max_rejected=rejection_limit(max_rejected), allow_shrink=allow_shrink,
                         empty_app_lists_expected=bool(getattr(reader, "empty_app_lists_expected", False)))


SOURCE_MAX = 200  # characters of a source's name (the import runs keep it whole)


def import_inventory(repo: Repository, fmt: str, source: str, inputs: Sequence[Path], *,
                     at: datetime | None = None, clock: Clock = system_clock,
                     progress: Callable[[int], None] | None = None,
                     actor: str | None = None, max_rejected: str | int | RejectionLimit | None = None,
                     allow_shrink: bool = False, hide: Path | None = None) -> tuple[ImportResult, Tally]:
    """Import one snapshot of `source` from files in format `fmt`, as one transaction.

    The snapshot fails closed (see `Repository.import_snapshot`): it is refused, nothing changed
    (`SnapshotRefused`), when it rejected more than `max_rejected` records (default 1 % of those read), or
    would mark more than a fifth of the source's devices removed at once, unless `allow_shrink`.

    With `actor`, the import is recorded in the audit trail (action `import`, target the source) in the
    import's own transaction: its run id and counts, and the previous run's counts for that source as
    `before`; when the entry cannot be written, nothing is imported. `hide` is a folder (the server's upload
    folder) left out of the places and errors that are shown and stored.
    """
    for p in inputs:
        if not p.exists():
            raise InputError(f"no such file: {p}", fix="check the path")
    if not source.strip() or len(source) > SOURCE_MAX:
        raise InputError(f"the source name is {len(source)} characters long", where="--source",
                         fix=f"name the source with 1 to {SOURCE_MAX} characters")
    log = audit_trail(repo.engine, clock) if actor is not None else None
    if actor is not None:
        check_entry(actor, "import", source)  # refused before anything is read
    now = clock()
    try:
        reader = readers.get(fmt)(source, list(inputs), now=now)  # type: ignore[call-arg]
    except InterditError as e:
        raise hidden(e, hide) from None
    records: Iterable[Record] = reader.records()
    if hide is not None:
        records = hiding(records, reader.tally, hide)
    if progress is not None:
        records = counting(records, progress)
    rules = snapshot_rules(max_rejected, allow_shrink, reader)
    previous = last_import_counts(repo, source) if actor is not None else None

    def audit(conn: Any, result: ImportResult) -> object:
        assert log is not None and actor is not None
        return log.append(actor, "import", source, before=previous, conn=conn,
                          after=import_counts(result, fmt, [p.name for p in inputs], at=at or now))

    result = repo.import_snapshot(source, fmt, records, reader.tally, at=at or now, rules=rules,
                                  audit=audit if actor is not None else None)
    return result, reader.tally


def hidden(error: InterditError, folder: Path | None) -> InterditError:
    """`error` without the path of `folder` in its place and message."""
    if folder is not None:
        prefix = str(folder).rstrip("/") + "/"
        error.where = error.where.replace(prefix, "") if error.where else error.where
        error.message = error.message.replace(prefix, "")
        error.args = (str(error),)
    return error


def hiding(records: Iterable[Record], tally: Tally, folder: Path) -> Iterator[Record]:
    """The records, and then the tally's rejections and any error, without the path of `folder`."""
    prefix = str(folder).rstrip("/") + "/"

    def scrub() -> None:
        for i, r in enumerate(tally.rejections):
            if prefix in r.place or prefix in r.reason:
                tally.rejections[i] = dataclasses.replace(r, place=r.place.replace(prefix, ""),
                                                          reason=r.reason.replace(prefix, ""))

    try:
        yield from records
    except InterditError as e:
        scrub()
        raise hidden(e, folder) from None
    scrub()


IMPORT_COUNTS = ("read", "accepted", "rejected", "devices", "apps", "devices_new", "devices_changed",
                 "devices_removed", "apps_opened", "apps_closed", "apps_updated", "devices_unreadable",
                 "devices_no_apps")


def import_counts(result: ImportResult, fmt: str, files: Sequence[str] = (), *,
                  at: datetime | None = None) -> dict[str, Any]:
    """What the audit trail keeps of one import: its run id, format, snapshot time, files and counts."""
    counts: dict[str, Any] = {"run_id": result.run_id, "format": fmt}
    if at is not None:
        counts["at"] = at.isoformat()
    counts.update({k: getattr(result, k) for k in IMPORT_COUNTS if hasattr(result, k)})
    if files:
        counts["files"] = list(files)[:50]
    return counts


def last_import_counts(repo: Repository, source: str) -> dict[str, Any] | None:
    """The counts of the latest successful import of `source`, or None for its first one."""
    for run in repo.import_runs(limit=500):
        if run.source == source and run.status == "ok":
            counts: dict[str, Any] = {"run_id": run.id, "format": run.format, "at": run.at.isoformat()}
            counts.update({k: getattr(run, k) for k in IMPORT_COUNTS if hasattr(run, k)})
            return counts
    return None


def counting(records: Iterable[Record], progress: Callable[[int], None], every: int = 10_000) -> Iterator[Record]:
    n = 0
    for r in records:
        n += 1
        if n % every == 0:
            progress(every)
        yield r
    progress(n % every)


# -- evaluation -------------------------------------------------------------------------------------


def evaluate(repo: Repository, loaded: LoadedPolicy, *, as_of: datetime, store: bool = True,
             actor: str | None = None, clock: Clock = system_clock, reuse: bool = False,
             reuse_within: timedelta | None = None) -> Evaluation:
    """Evaluate the policy against the fleet as it was at `as_of` (history makes any date answerable).

    With `store` and `actor`, the stored evaluation is recorded in the audit trail (action `evaluate`): the
    date, the policy's digest, the number of findings and the compliance rate.

    With `reuse`, the latest stored evaluation is read back instead when it was computed for the same `as_of`,
    the same policy file (its digest) and the same stored data (its data stamp): an evaluation is a pure
    function of the three, so the answer is the same, without reading the fleet again. Nothing is stored then.
    `reuse_within` also takes a stored evaluation made for an `as_of` up to that much earlier, on the same
    policy and data: several processes over one database (servers behind a load balancer) share the evaluation
    one of them stored instead of each computing its own; when there is none, it is computed and stored.

    Three kinds of evidence meet here: the installed apps the MDMs report, the network sightings stored by
    `interdit logs scan` (findings of kind `used`), and, for rules that prohibit by evidence, the stored APK
    analyses (findings of kind `risky-app`).
    """
    from interdit.pipeline.analysis import app_evidence
    from interdit.pipeline.network import sightings
    from interdit.pipeline.orgunits import source_types

    stamp = data_stamp(repo, loaded) if store or reuse or reuse_within is not None else None
    if (reuse or reuse_within is not None) and stamp is not None:
        with gc_paused():
            stored = evaluations.stored_evaluation(repo.engine, as_of=as_of, policy_hash=loaded.digest,
                                                   data_stamp=stamp, within=reuse_within)
        if stored is not None:
            return Evaluation(stored[1], stored[0])
    with gc_paused():
        by_evidence = any(r.sdk_vendors or r.endpoint_vendors for r in loaded.policy.rules)
        evidence = app_evidence(repo) if by_evidence else None
        exact, prefixes = candidate_patterns(loaded.policy, loaded.catalogue, evidence=evidence or ())
        states = repo.device_states(as_of, exact, prefixes)
        seen = sightings(repo, until=as_of.date())
        result = evaluate_policy(loaded.policy, loaded.catalogue, states, as_of, sightings=seen, evidence=evidence,
                                 source_types=source_types(repo))
        if store:
            log = audit_trail(repo.engine, clock) if actor is not None else None
            after = {"as_of": as_of.isoformat(), "policy": loaded.digest, "findings": len(result.findings),
                     "rate": result.summary.rate}

            def audit(conn: Any) -> object:
                assert log is not None and actor is not None
                return log.append(actor, "evaluate", "policy", after=after, conn=conn)

            evaluations.save_evaluation(repo.engine, clock, result.findings, result.summary,
                                        policy_hash=loaded.digest, as_of=as_of, data_stamp=stamp,
                                        audit=audit if actor is not None else None)
            from interdit.pipeline.reports import record_day

            record_day(repo, loaded, result.summary, at=as_of, clock=clock)  # the day's figures, for the trend
    return result


def data_stamp(repo: Repository, loaded: LoadedPolicy) -> str:
    """What an evaluation depends on besides its `as_of` and the policy file: the stored data, and the
    catalogue and code that read them."""
    from interdit import __version__

    return f"{evaluations.data_stamp(repo.engine)}; catalogue {loaded.catalogue.version}; interdit {__version__}"


# the years an as-of time may name (beyond, date arithmetic overflows)
AS_OF_YEARS = (1900, 9000)


def as_of_time(text: str) -> datetime:
    """An as-of date or time as a person writes it: `2023-03-01` (the end of that day, UTC) or an ISO 8601
    time with its zone (`2023-03-01T12:00:00Z`, `2023-03-01T08:00:00-04:00`); InputError otherwise, with the fix."""
    text = text.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            value = datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=UTC)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(f"cannot read the date {text!r}",
                         fix="write it as 2023-03-01 or 2023-03-01T12:00:00Z") from None
    if value.tzinfo is None:
        raise InputError(f"the time {text!r} has no time zone", fix=f"add Z for UTC, e.g. {text}Z")
    low, high = AS_OF_YEARS
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved across the zone
        value = datetime(1, 1, 1, tzinfo=UTC)
    if not low <= value.year <= high:
        raise InputError(f"the date {text!r} is out of range", fix=f"use a date between the years {low} and {high}")
    return value


def history(repo: Repository, loaded: LoadedPolicy, *, as_of: datetime, clock: Clock = system_clock
            ) -> tuple[Summary, ...]:
    """Compliance at the end of each earlier day with an import (see `trend_instants`), under today's policy,
    read from the stored daily figures (computed and stored for the days that have none: `reports.history`)."""
    from interdit.pipeline.reports import history as daily_history

    return daily_history(repo, loaded, as_of=as_of, clock=clock)


def findings(repo: Repository, **filters: Any) -> list[Finding]:
    return repo.findings(**filters)


# -- enforcement ----------------------------------------------------------------------------------


def enforcement_targets() -> list[tuple[str, str]]:
    return [(name, target.summary) for name, target in targets.items()]


def enforcement_options() -> dict[str, tuple[Option, ...]]:
    """The `--option`s each target declares: name, kind, default, allowed values and help."""
    return {name: tuple(target.options) for name, target in targets.items()}


def enforcement_request(loaded: LoadedPolicy, *, now: datetime, options: Mapping[str, str] | None = None,
                        lang: str = "en") -> EnforcementRequest:
    """What every enforcement target needs: the prohibited families' identifiers and blockable domains, and the
    language (`en` or `fr`) its caveats, plan lines and option errors are written in."""
    cat = loaded.catalogue
    # a rule that ended (a lifted or narrowed directive: `until`) no longer asks for anything to be blocked
    ended = {r.id for r in loaded.policy.rules if r.until is not None and now >= day_start(r.until)}
    families = tuple(sorted({f for rule in loaded.policy.rules if rule.id not in ended for f in rule.families}))
    apps = {a for f in families if f in cat.families for a in cat.families[f].identifiers}
    prefixes = {a for f in families if f in cat.families for a in cat.families[f].prefixes}
    for rule in loaded.policy.rules:
        apps.update(rule.identifiers)
        prefixes.update(rule.prefixes)
    return EnforcementRequest(
        policy=loaded.policy, catalogue=cat, now=now, families=families, apps=tuple(sorted(apps)),
        prefixes=tuple(sorted(prefixes)), domains=blockable_domains(cat, families), options=dict(options or {}),
        lang=lang)


def enforce(target: str, request: EnforcementRequest, *, actor: str | None = None, audit: AuditLog | None = None
            ) -> Payload:
    """Build the payload for `target`. With `actor` (and the trail `audit`), the build is recorded
    (action `enforcement.build`): the payload's digest, its files, and how many apps and domains it blocks.
    A payload meant for files is built without `actor` and recorded by `write_payload` once written."""
    require_trail(audit, actor, "enforcement.build")
    payload = targets.get(target)().build(request)
    _record_build(payload, request, actor, audit)
    return payload


def write_payload(payload: Payload, request: EnforcementRequest, out_dir: Path, *, actor: str | None = None,
                  audit: AuditLog | None = None) -> list[Path]:
    """Write the payload's files under `out_dir`, then, with `actor`, record the build (`enforcement.build`).

    The entry is written after the files: an entry never names files that were not written (a file that cannot
    be written stops the command with no entry); when the entry itself cannot be written, the files are there
    and the command fails saying so."""
    require_trail(audit, actor, "enforcement.build")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(payload.files.items()):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        written.append(path)
    _record_build(payload, request, actor, audit)
    return written


def _record_build(payload: Payload, request: EnforcementRequest, actor: str | None, audit: AuditLog | None) -> None:
    record(audit, actor, "enforcement.build", payload.target,
           after={"digest": payload_digest(payload), "files": sorted(payload.files), "families": list(request.families),
                  "apps": len(request.apps), "domains": len(request.domains)})


# -- reports ----------------------------------------------------------------------------------------


def report_formats() -> list[str]:
    return formats.names()


def report_data(repo: Repository, loaded: LoadedPolicy, *, as_of: datetime, clock: Clock = system_clock,
                with_history: bool = True, with_devices: bool = True) -> ReportData:
    """What a report shows at `as_of`. `with_history`: the trend; `with_devices`: each finding's device (name,
    owner, model...), which the summaries (`status`) do not show and which is most of their reading time."""
    from interdit.pipeline.network import sightings

    result = evaluate(repo, loaded, as_of=as_of, reuse=True)
    return ReportData(
        generated_at=clock(), as_of=as_of, organisation=loaded.policy.organisation, summary=result.summary,
        history=history(repo, loaded, as_of=as_of, clock=clock) if with_history else (), findings=result.findings,
        rules=loaded.policy.rules, exceptions=loaded.policy.exceptions, catalogue=loaded.catalogue,
        review=tuple(review_items(loaded.policy, as_of)), catalogue_version=loaded.catalogue.version,
        sightings=tuple(s for s in sightings(repo, until=as_of.date()) if s.device_id is None),
        devices=finding_devices(repo, result.findings, as_of=as_of) if with_devices else {},
    )


def finding_devices(repo: Repository, found: Sequence[Finding], *, as_of: datetime
                    ) -> dict[tuple[str, str], Device]:
    """The devices of `found` as they were at `as_of` (name, user, model, OS version, org unit), in one batched
    read: what every output shows beside a finding's `source:id`."""
    return repo.devices_at({(f.source, f.device_id) for f in found}, as_of)


def render(fmt: str, data: ReportData, lang: str, *, width: int | None = None, **options: str | None) -> str:
    """`data` in the text format `fmt`; `width`: the terminal's columns, for the formats laid out for one;
    `options`: what a format declares (`separator` for CSV, `paper` for PDF). A format that writes bytes (PDF,
    XLSX) is read with `reports.render_bytes`."""
    from interdit.pipeline.reports import made_format

    made = made_format(fmt, width=width, **options)
    text = made.render(data, lang)
    if not isinstance(text, str):
        raise ConfigError(f"the {fmt} format writes a file, not text", fix="write it to a file with --out")
    return text


def coverage_words(summary: Summary, lang: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Why devices could not be evaluated, in `lang`: the line ("297 devices not evaluable: 163 Android work
    profiles, ...", empty when none) and, per source, (source, reason in words, what to do)."""
    from interdit.reporting._words import coverage_words as words

    return words(summary, lang)


