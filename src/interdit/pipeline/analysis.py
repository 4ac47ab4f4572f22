"""App analysis (APK and IPA): analyse files in parallel with a cache, render reports, and turn stored analyses into the
evidence that policy rules prohibit by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.analysis.report import AppReport
from interdit.catalogue import load_catalogue
from interdit.errors import ConfigError
from interdit.model import AppEvidence, AppId, Platform
from interdit.pipeline.basics import Clock, system_clock

if TYPE_CHECKING:  # the database layer (SQLAlchemy) is imported only by the commands that use it
    from interdit.storage.repo import Repository


EXODUS_URL = "https://reports.exodus-privacy.eu.org/api/trackers"


def signatures_home() -> Path:
    """Where `interdit signatures update` keeps downloaded signature data: $INTERDIT_DATA_HOME/signatures, else
    $XDG_DATA_HOME/interdit/signatures (~/.local/share/interdit/signatures)."""
    import os

    if os.environ.get("INTERDIT_DATA_HOME"):
        return Path(os.environ["INTERDIT_DATA_HOME"]) / "signatures"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "interdit" / "signatures"


def default_signatures() -> Path | None:
    """The signature folder `analyze` uses with no --signatures: $INTERDIT_SDK_SIGNATURES, else the folder
    `signatures update` fills when it holds a tracker list; None means the built-in rules only."""
    import os

    from interdit.analysis.sdks import EXODUS_FILE

    if os.environ.get("INTERDIT_SDK_SIGNATURES"):
        return Path(os.environ["INTERDIT_SDK_SIGNATURES"])
    home = signatures_home()
    return home if (home / EXODUS_FILE).is_file() else None


def update_signatures(url: str = EXODUS_URL, *, token: str | None = None, dest: Path | None = None,
                      clock: Clock = system_clock, timeout: float = 60.0) -> dict[str, Any]:
    """Download Exodus Privacy's tracker list from `url` into `dest` (default `signatures_home()`), check that
    it parses, then replace the previous copy. A download or a list that fails the check changes nothing.
    Returns what was written: path, trackers, downloaded (ISO time), source, credit."""
    import json

    import httpx

    from interdit import __version__
    from interdit.analysis.sdks import EXODUS_CREDIT, EXODUS_FILE, EXODUS_META, MAX_EXODUS_SIZE, check_exodus
    from interdit.errors import InputError

    folder = dest or signatures_home()
    headers = {"User-Agent": f"interdit/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = bytearray()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client, \
                client.stream("GET", url) as response:
            status = response.status_code
            if status == 200:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_EXODUS_SIZE:
                        break
    except httpx.HTTPError as exc:
        raise InputError(f"cannot download the tracker list from {url}: {exc}",
                         fix="check the network (and any proxy), or pass --url; nothing was changed") from exc
    if status != 200:
        raise InputError(f"{url} answered HTTP {status}",
                         fix="retry later; if it asks for a key, pass --token (see docs/analysis.md); "
                         "nothing was changed")
    try:
        data = check_exodus(bytes(body))
    except ValueError as exc:
        raise InputError(f"the tracker list from {url} is refused: {exc}",
                         fix="retry later or report it to Exodus Privacy; the previous list was kept") from exc
    when = clock()
    meta = {"source": url, "downloaded": when.isoformat(), "trackers": len(data["trackers"]),
            "credit": EXODUS_CREDIT}
    folder.mkdir(parents=True, exist_ok=True)
    list_path, meta_path = folder / EXODUS_FILE, folder / EXODUS_META
    tmp_list, tmp_meta = list_path.with_suffix(".json.tmp"), meta_path.with_suffix(".json.tmp")
    tmp_list.write_bytes(bytes(body))
    tmp_meta.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", "utf-8")
    tmp_list.replace(list_path)
    tmp_meta.replace(meta_path)
    return {"path": str(list_path), **meta}


def signature_sets(signatures: Path | None = None) -> list[str]:
    """The signature sets `analyze` would use, with their versions, as a report names them."""
    from interdit.analysis.sdks import builtin_signatures, load_signatures

    chosen = signatures or default_signatures()
    return list((load_signatures(chosen) if chosen is not None and chosen.is_dir() else builtin_signatures()).sets)


def _analysis_settings(signatures: Path | None, rules: Path | None, lang: str) -> Any:
    from interdit.analysis.batch import AnalysisSettings

    chosen = signatures or default_signatures()
    if chosen is not None and not chosen.is_dir():
        raise ConfigError(f"no SDK signature folder at {chosen}",
                          fix="pass --signatures DIR (the folder holding exodus_trackers.json), see docs/analysis.md")
    if rules is not None and not rules.is_file():
        raise ConfigError(f"no rule file at {rules}", fix="copy src/interdit/analysis/rules.yaml and pass its path")
    return AnalysisSettings(signatures_dir=str(chosen) if chosen else None, rules_path=str(rules) if rules else None,
                            lang=lang)


def analyze_apks(paths: Sequence[Path], *, repo: Repository | None = None, lang: str = "en", jobs: int = 2,
                 progress: Callable[[AppReport], None] | None = None, signatures: Path | None = None,
                 rules: Path | None = None, cache_dir: Path | None = None,
                 clock: Clock = system_clock, actor: str | None = None) -> list[AppReport]:
    """Analyse APK and iOS (IPA) files (folders are expanded to the app files under them) in `jobs` processes.

    Reports are reused when the same file was analysed by the same analyzer version and settings: from the
    database when `repo` is given (and new reports are stored there), else from `cache_dir` when given.
    `signatures` is the folder of SDK signature data (default: `default_signatures()`). Returns
    reports in the order of the files. With `repo` and `actor`, the stored analyses are recorded in the audit
    trail (action `analysis`, target the file names): each file's package, SHA-256 and verdict.
    """
    from interdit.analysis.batch import DirectoryCache, analyze_paths, collect, settings_digest
    from interdit.analysis.evidence import evidence
    from interdit.analysis.report import ANALYZER_VERSION, report_from_json

    settings = _analysis_settings(signatures, rules, lang)
    files = collect(paths)
    cat = load_catalogue()
    digest = settings_digest(settings, cat)
    lookup: Callable[[str], AppReport | None] | None = None
    store: Callable[[AppReport], None] | None = None
    pending: list[dict[str, Any]] = []
    if repo is not None:
        from interdit.storage.analyses import load_analysis

        def lookup_db(sha256: str) -> AppReport | None:
            data = load_analysis(repo.engine, sha256, ANALYZER_VERSION, digest)
            return report_from_json(data) if data is not None else None

        def store_db(report: AppReport) -> None:  # kept, and stored with the audit entry once all are done
            ev = evidence(report, cat)
            pending.append(dict(sha256=report.identity.sha256, analyzer_version=ANALYZER_VERSION, settings=digest,
                                package=report.identity.package, version_code=report.identity.version_code,
                                version_name=report.identity.version_name, file_name=report.identity.file_name,
                                verdict=ev.verdict, score=report.score.total if report.score else 0,
                                sdk_vendors=ev.sdk_vendors, endpoint_vendors=ev.endpoint_vendors,
                                report=report.to_json(), at=clock()))

        lookup, store = lookup_db, store_db
    elif cache_dir is not None:
        cache = DirectoryCache(cache_dir, digest)
        lookup, store = cache.get, cache.put
    reports = analyze_paths(files, settings, jobs=jobs, lookup=lookup, store=store, progress=progress)
    if repo is not None:
        from interdit.pipeline.audit import audit_trail, require_trail
        from interdit.storage.analyses import save_analyses

        log = audit_trail(repo.engine, clock) if actor is not None else None
        require_trail(log, actor, "analysis")

        def audit(conn: Any) -> object:
            assert log is not None and actor is not None
            names = ", ".join(p.name for p in files)
            return log.append(actor, "analysis", names[:300] or "-", conn=conn, after={
                "files": [p.name for p in files][:200], "reports": len(reports),
                "apps": [{"package": r.identity.package, "sha256": r.identity.sha256,
                          "verdict": evidence(r, cat).verdict} for r in reports[:200]]})

        if pending or actor is not None:  # the reports and their entry in one transaction: both or neither
            save_analyses(repo.engine, pending, audit if actor is not None else None)
    return reports


def analysis_files(paths: Sequence[Path]) -> list[Path]:
    """The APK files `analyze_apks` would read (folders expanded), to size a progress bar."""
    from interdit.analysis.batch import collect

    return collect(paths)


def render_analysis(reports: Sequence[AppReport], fmt: str, lang: str = "en") -> str:
    """Reports as `table`, `json`, `sarif` or `html`, in English or French."""
    from interdit.analysis.render import render as render_reports

    return render_reports(reports, fmt, lang)


def stored_analysis(repo: Repository, sha256: str, lang: str = "en") -> dict[str, Any] | None:
    """The latest stored report of the file with this SHA-256, as `interdit analyze --format json` writes it."""
    import json

    from interdit.analysis.report import report_from_json
    from interdit.storage.jobs import latest_report

    data = latest_report(repo.engine, sha256.lower())
    if data is None:
        return None
    out: dict[str, Any] = json.loads(render_analysis([report_from_json(data)], "json", lang))
    return out


def analysis_formats() -> list[str]:
    from interdit.analysis.output import outputs

    return outputs.names()


def app_evidence(repo: Repository) -> dict[AppId, AppEvidence]:
    """`AppId -> model.AppEvidence` from the latest stored analysis of each package, for policy evaluation."""
    from interdit.storage.analyses import latest_analyses

    out: dict[AppId, AppEvidence] = {}
    for a in latest_analyses(repo.engine):
        # the stored row has no platform column: an iOS archive is known by its file name (.ipa, .app.zip)
        ios = a.file_name.lower().endswith((".ipa", ".app.zip"))
        app = AppId(Platform.IOS if ios else Platform.ANDROID, a.package or "")
        version = a.version_name or (str(a.version_code) if a.version_code is not None else None)
        out[app] = AppEvidence(app=app, sha256=a.sha256, version=version, verdict=a.verdict,
                               sdk_vendors=a.sdk_vendors, endpoint_vendors=a.endpoint_vendors,
                               analyzed_at=a.analyzed_at)
    return out


