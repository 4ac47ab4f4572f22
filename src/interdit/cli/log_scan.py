"""What `logs scan` runs and answers, shared by the quick start (`launch`) and the full command line
(`network_cmd`): the scan itself, its JSON document and its exit code. Imports nothing heavy until a scan runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


def scan_logs_command(settings: Any, options: dict[str, Any], *, repo: Callable[[], Any] | None = None,
                      follow: Any = None, on_match: Any = None, clock: Any = None, actor: str | None = None) -> Any:
    """What `logs scan` runs: the names to look for (the list file, the families' names or the policy's),
    the catalogue's never-block hosts, then the database when `repo` opens one (after the names, so a bad
    list or policy leaves no database behind), and the scan (`pipeline.scan_logs`). Raises `InterditError`."""
    from interdit import pipeline

    cat = pipeline.catalogue()
    never = [h.name for h in cat.shared_hosts]
    names: dict[str, str] | None = None
    domains = options["domains"]
    if domains is None:
        if options["family"]:
            names = pipeline.family_domains(cat, options["family"])
        else:
            names = pipeline.policy_domains(pipeline.read_policy(settings.policy_path))
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    return pipeline.scan_logs(options["paths"], families_domains=names,
                              domains_file=domains if names is None else None,
                              repo=repo() if repo is not None else None,
                              leases=options["leases"] or (), fmt=options["fmt"], tz=options["tz"],
                              jobs=options["jobs"], never=never, follow=follow, on_match=on_match, actor=actor,
                              **extra)


def sighting_json(s: Any) -> dict[str, Any]:
    d = dataclasses.asdict(s)
    for k in ("day", "first", "last"):
        d[k] = d[k].isoformat()
    return d


def scan_document(result: Any) -> dict[str, Any]:
    """The JSON answer of `logs scan --format json` (schema version 1)."""
    return {"schema_version": 1, "read": result.read, "matched": result.matched,
            "unmatched": result.unmatched, "rejected": result.rejected, "weak": result.weak,
            "stored": result.stored,
            "files": [dataclasses.asdict(f) for f in result.files],
            "rejections": [dataclasses.asdict(r) for r in result.rejections],
            "lease_rejections": [dataclasses.asdict(r) for r in result.lease_rejections],
            "refused": list(result.refused),
            "sightings": [sighting_json(x) for x in result.sightings]}


def exit_code(result: Any) -> int:
    """0, or 2 when no file could be read at all, or 3 when lines were rejected or a file could not be read."""
    if result.failed_files and not result.read:
        return 2
    if result.rejected or result.failed_files or result.lease_rejections:
        return 3
    return 0
