"""The job kinds a schedule can run. Each is a function of a `JobContext` that returns what it did (kept with
the run) and raises `JobFailed` when its work was not done. A new kind is one `register_kind` decorator.

- `sync`: syncs each source from its API (`interdit sources sync`), one after another; a failed source fails
  the job, the others still sync. Settings: `sources` (default: every source of the sources file),
  `max_rejected` (1%), `allow_shrink` (false).
- `evaluate`: evaluates the policy at the run's time and stores the findings.
- `report`: writes the report (`interdit report`) into `folder`, one file per run named by its local date.
  Settings: `folder` (required), `format` (html), `lang` (the policy's).
- `check-sync`: fails, and logs an error, when a source has not synced successfully within `within_hours` (26).
  `sources`: default every source of the sources file, else every source ever imported.
- `notify`: sends the notices that are due (`interdit notify`), where this version has them. Settings: `config`,
  `contacts`, `language`, `max` (as `interdit notify`'s options), `dry_run`.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from interdit import i18n
from interdit.errors import ConfigError, InterditError
from interdit.pipeline.schedule_registry import JobContext, JobFailed, log, register_kind
from interdit.storage import schedules as store

_PLURALS = ("stale", "sync-failed", "undelivered")


def _say(ctx: JobContext, key: str, **values: Any) -> str:
    """A job's message in its language (the "schedule." messages of the catalogue, docs/i18n.md)."""
    lang = ctx.lang if ctx.lang in i18n.LANGS else "en"
    if key in _PLURALS:
        return i18n.plural(lang, f"schedule.{key}", values.pop("n"), **values)
    return i18n.say(lang, f"schedule.{key}", **values)


def _names(value: Any, where: str) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("sources must be a list of source names", where=f"{where}: sources",
                          fix="e.g. sources: [intune-prod, jamf-ipads]")


def _check_sync(settings: Mapping[str, Any], where: str) -> None:
    if "sources" in settings:
        _names(settings["sources"], where)
    if "allow_shrink" in settings and not isinstance(settings["allow_shrink"], bool):
        raise ConfigError("allow_shrink must be true or false", where=f"{where}: allow_shrink",
                          fix="allow_shrink: false")


def _configured(ctx: JobContext) -> list[str]:
    from interdit.pipeline.sources import configured_sources

    return sorted(configured_sources(ctx.sources_path))


@register_kind("sync", settings=("sources", "max_rejected", "allow_shrink"), check=_check_sync,
               help_en="sync each source from its API (a failed source fails the job; the others still sync)",
               help_fr="synchronise chaque source par son API (une source en échec fait échouer la tâche ; "
                       "les autres sont quand même synchronisées)")
def sync(ctx: JobContext) -> dict[str, Any]:
    from interdit.pipeline.sources import sync_source

    names = list(ctx.job.settings.get("sources") or _configured(ctx))
    if not names:
        raise JobFailed(_say(ctx, "no-sources"), {"sources": {}})
    done: dict[str, Any] = {}
    for name in names:
        try:
            result, _ = sync_source(ctx.repo, name, path=ctx.sources_path, clock=ctx.clock, actor=ctx.actor,
                                   max_rejected=ctx.job.settings.get("max_rejected", "1%"),
                                   allow_shrink=bool(ctx.job.settings.get("allow_shrink", False)))
            done[name] = {"ok": True, "run_id": result.run_id, "accepted": result.accepted,
                          "rejected": result.rejected, "devices": result.devices}
        except InterditError as e:
            done[name] = {"ok": False, "error": str(e), "fix": e.fix}
        except Exception as e:  # an outage or a connector's bug: this source failed, the next one still syncs
            log.exception("job %s: source %s", ctx.job.name, name)
            done[name] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    failed = [n for n, d in done.items() if not d["ok"]]
    if failed:
        details = _say(ctx, "and").join(_say(ctx, "item", name=n, what=done[n]["error"]) for n in failed)
        raise JobFailed(_say(ctx, "sync-failed", n=len(failed), m=len(names), details=details), {"sources": done})
    return {"sources": done}


@register_kind("evaluate", help_en="evaluate the policy against the fleet and store the findings",
               help_fr="évalue la politique sur le parc et enregistre les constats")
def evaluate(ctx: JobContext) -> dict[str, Any]:
    from interdit.pipeline.core import evaluate as run
    from interdit.pipeline.core import read_policy

    loaded = read_policy(ctx.policy_path)
    result = run(ctx.repo, loaded, as_of=ctx.clock(), actor=ctx.actor, clock=ctx.clock)
    return {"findings": len(result.findings), "rate": result.summary.rate,
            "devices_in_scope": result.summary.devices_in_scope}


def _check_report(settings: Mapping[str, Any], where: str) -> None:
    from interdit.pipeline.core import report_formats

    if not isinstance(settings.get("folder"), str) or not settings["folder"]:
        raise ConfigError("a report job needs the folder to write into", where=f"{where}: folder",
                          fix="e.g. folder: /var/lib/interdit/reports")
    fmt = settings.get("format", "html")
    if fmt not in report_formats():
        raise ConfigError(f"unknown report format {fmt!r}", where=f"{where}: format",
                          fix=f"use one of: {', '.join(report_formats())}")
    if settings.get("lang", "en") not in ("en", "fr"):
        raise ConfigError(f"unknown language {settings['lang']!r}", where=f"{where}: lang", fix="lang: en or lang: fr")


@register_kind("report", settings=("folder", "format", "lang"), check=_check_report,
               help_en="write the report into a folder (one file per run, named by its local date)",
               help_fr="écrit le rapport dans un dossier (un fichier par exécution, nommé par sa date locale)")
def report(ctx: JobContext) -> dict[str, Any]:
    from interdit.pipeline.core import read_policy, report_data
    from interdit.pipeline.reports import render_bytes

    settings = ctx.job.settings
    loaded = read_policy(ctx.policy_path)
    fmt = str(settings.get("format", "html"))
    lang = str(settings.get("lang") or ctx.lang or loaded.policy.language or "en")
    data = report_data(ctx.repo, loaded, as_of=ctx.clock(), clock=ctx.clock)
    content = render_bytes(fmt, data, lang)  # the text formats in UTF-8; PDF and XLSX as their files' bytes
    folder = Path(str(settings["folder"])).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise JobFailed(_say(ctx, "no-folder", folder=folder, error=e)) from None
    day = ctx.scheduled_for.astimezone(ZoneInfo(ctx.job.timezone)).date()
    path = folder / f"interdit-report-{day.isoformat()}{'' if lang == 'en' else '.' + lang}.{fmt}"
    handle, temp = tempfile.mkstemp(prefix=".interdit-report-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(content)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return {"path": str(path), "format": fmt, "lang": lang, "bytes": len(content)}


def _check_fresh(settings: Mapping[str, Any], where: str) -> None:
    hours = settings.get("within_hours", 26)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise ConfigError(f"within_hours must be a number of hours above 0, not {hours!r}",
                          where=f"{where}: within_hours", fix="e.g. within_hours: 26 (a nightly sync and 2 h more)")
    if "sources" in settings:
        _names(settings["sources"], where)


@register_kind("check-sync", settings=("within_hours", "sources"), check=_check_fresh,
               help_en="fail and log an error when a source has not synced within the last hours",
               help_fr="échoue et journalise une erreur quand une source n'a pas été synchronisée depuis "
                       "trop d'heures")
def check_sync(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.job.settings
    hours = float(settings.get("within_hours", 26))
    last = store.last_syncs(ctx.repo.engine)
    names = list(settings.get("sources") or [])
    if not names:
        try:
            names = _configured(ctx)
        except ConfigError:  # no sources file: every source ever imported
            names = []
        names = names or sorted(last)
    now = ctx.clock()
    stale = {}
    seen = {}
    for name in names:
        at = last.get(name)
        seen[name] = at.isoformat() if at else None
        if at is None or now - at > timedelta(hours=hours):
            stale[name] = seen[name]
    summary = {"within_hours": hours, "sources": seen, "stale": sorted(stale)}
    if not names:
        raise JobFailed(_say(ctx, "never-imported"), summary)
    if stale:
        words = _say(ctx, "and").join(
            _say(ctx, "item", name=n, what=_say(ctx, "never") if at is None else _say(ctx, "last", at=at))
            for n, at in stale.items())
        raise JobFailed(_say(ctx, "stale", n=len(stale), hours=hours, details=words), summary)
    return summary


def _check_notify(settings: Mapping[str, Any], where: str) -> None:
    if importlib.util.find_spec("interdit.pipeline.notify") is None:
        raise ConfigError("this version of interdit cannot send notices", where=where,
                          fix="upgrade interdit, or remove the notify job")
    for key in ("config", "contacts", "language"):
        if key in settings and not (isinstance(settings[key], str) and settings[key]):
            raise ConfigError(f"{key} must be text", where=f"{where}: {key}", fix=f"e.g. {key}: "
                              + {"config": "/etc/interdit/notify.yaml", "contacts": "/etc/interdit/contacts.yaml",
                                 "language": "fr-en"}[key])
    per_run = settings.get("max", 1)
    if isinstance(per_run, bool) or not isinstance(per_run, int) or per_run < 1:
        raise ConfigError(f"max must be a whole number of notices above 0, not {per_run!r}", where=f"{where}: max",
                          fix="e.g. max: 500")
    if "dry_run" in settings and not isinstance(settings["dry_run"], bool):
        raise ConfigError("dry_run must be true or false", where=f"{where}: dry_run", fix="dry_run: false")


@register_kind("notify", settings=("config", "contacts", "language", "max", "dry_run"), check=_check_notify,
               help_en="send the notices that are due (device holders, reminders, escalations, closings)",
               help_fr="envoie les avis dus (détenteurs d'appareils, rappels, escalades, clôtures)")
def notify(ctx: JobContext) -> dict[str, Any]:
    """`interdit notify` at the run's time. Deliveries that failed on a channel fail the run (the next run tries
    them again); the notices themselves stay in the notices table, the run keeps the counts."""
    use = importlib.import_module("interdit.pipeline.notify")
    core = importlib.import_module("interdit.pipeline.core")
    settings = ctx.job.settings

    def path(key: str) -> Path | None:
        return Path(str(settings[key])).expanduser() if settings.get(key) else None

    chosen = use.notify_settings(path("config"), path("contacts"), language=settings.get("language"),
                                 per_run=settings.get("max"))
    run = use.send_notices(ctx.repo, core.read_policy(ctx.policy_path), chosen, now=ctx.clock(),
                           dry_run=bool(settings.get("dry_run", False)), actor=ctx.actor, clock=ctx.clock)
    done = {k: v for k, v in run.as_dict().items() if k != "notices"}
    done["notices"] = len(run.rows)
    if run.failed_deliveries:
        raise JobFailed(_say(ctx, "undelivered", n=run.failed_deliveries), done)
    return done
