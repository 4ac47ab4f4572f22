"""Many APKs at once: in parallel worker processes, each file analysed once per (sha256, analyzer version,
settings), with results reused from a cache (a folder, or the database through the pipeline).

The settings digest covers everything a report depends on besides the file: the analyzer version, the rule
file, the signature data, the catalogue version and the prohibited vendors. Change any and files are analysed
again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.analysis.apk import analyze
from interdit.analysis.evidence import DEFAULT_PROHIBITED, flag_report, prohibited_vendors
from interdit.analysis.report import (
    ANALYZER_VERSION,
    DEFAULT_LIMITS,
    AppReport,
    Identity,
    Limits,
    Problem,
    Signing,
    report_from_json,
)
from interdit.analysis.score import DEFAULT_RULES, ScoreRules, load_rules, score
from interdit.analysis.sdk_rules import RULES_FILE
from interdit.analysis.sdks import (
    BUILTIN_BYTEDANCE,
    BYTEDANCE_FILE,
    EXODUS_FILE,
    EXODUS_META,
    SignatureSet,
    builtin_signatures,
    load_signatures,
)
from interdit.errors import InputError
from interdit.model import Catalogue

if TYPE_CHECKING:
    from concurrent.futures import Future

APP_SUFFIXES = (".apk", ".ipa", ".app.zip")  # what a folder is expanded to
Lookup = Callable[[str], AppReport | None]  # sha256 -> a stored report, or None
Store = Callable[[AppReport], None]


@dataclass(frozen=True)
class AnalysisSettings:
    """What every worker needs to analyse a file the same way. Picklable (sent to worker processes)."""

    signatures_dir: str | None = None
    rules_path: str | None = None
    limits: Limits = DEFAULT_LIMITS
    use_catalogue: bool = True
    lang: str = "en"
    digest: str = field(default="", compare=False)


def settings_digest(settings: AnalysisSettings, catalogue: Catalogue | None) -> str:
    h = hashlib.sha256(f"analyzer {ANALYZER_VERSION}\n".encode())
    h.update(Path(settings.rules_path or DEFAULT_RULES).read_bytes())
    h.update(BUILTIN_BYTEDANCE.read_bytes())
    h.update(RULES_FILE.read_bytes())
    if settings.signatures_dir:
        for name in (EXODUS_FILE, BYTEDANCE_FILE):
            path = Path(settings.signatures_dir) / name
            h.update(name.encode() + (hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-"))
        meta = Path(settings.signatures_dir) / EXODUS_META
        h.update(meta.read_bytes() if meta.is_file() else b"-")
    if catalogue is not None:
        h.update(f"catalogue {catalogue.version}".encode())
    h.update(repr(settings.limits).encode())
    return h.hexdigest()


@dataclass
class _Context:
    signatures: SignatureSet | None
    rules: ScoreRules
    catalogue: Catalogue | None
    prohibited: frozenset[str]
    settings: AnalysisSettings


_CONTEXT: _Context | None = None  # one per worker process, set by `_init`


def make_context(settings: AnalysisSettings) -> _Context:
    """Load everything once per process: signature data, rules, catalogue, and the signature libraries."""
    import importlib

    from interdit.catalogue import load_catalogue

    for module in ("asn1crypto.cms", "asn1crypto.x509", "cryptography.hazmat.primitives.serialization"):
        importlib.import_module(module)

    signatures = load_signatures(Path(settings.signatures_dir)) if settings.signatures_dir else builtin_signatures()
    rules = load_rules(Path(settings.rules_path)) if settings.rules_path else load_rules()
    cat = load_catalogue() if settings.use_catalogue else None
    prohibited = prohibited_vendors(cat) if cat is not None else DEFAULT_PROHIBITED
    return _Context(signatures, rules, cat, prohibited, settings)


def _init(settings: AnalysisSettings) -> None:
    global _CONTEXT
    _CONTEXT = make_context(settings)


def analyze_one(path: Path, ctx: _Context) -> AppReport:
    """One file, never raising: an unexpected failure becomes a report saying so."""
    try:
        report = analyze(path, signatures=ctx.signatures, limits=ctx.settings.limits, rules=ctx.rules,
                         lang=ctx.settings.lang)
        report = flag_report(report, ctx.catalogue, ctx.prohibited)
    except Exception as exc:  # a bug must not stop a batch; the report names it
        report = failed_report(path, f"{type(exc).__name__}: {exc}")
    sets = ctx.signatures.sets if ctx.signatures is not None else ()
    return replace(report, score=score(report, ctx.rules, ctx.settings.lang), signature_sets=sets)


def _work(path: str) -> AppReport:
    assert _CONTEXT is not None
    return analyze_one(Path(path), _CONTEXT)


def failed_report(path: Path, message: str) -> AppReport:
    size = path.stat().st_size if path.is_file() else 0
    return AppReport(identity=Identity(None, None, None, None, None, file_sha256(path), size, path.name),
                     signing=Signing(), permissions=(), components=(), sdks=(), endpoints=(), weaknesses=(),
                     problems=(Problem("analysis.failed", "high", message, path.name),))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def collect(paths: Iterable[Path]) -> list[Path]:
    """The app files named, folders expanded to the `*.apk`, `*.ipa` and `*.app.zip` files under them (sorted);
    missing paths refused."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.name.lower().endswith(APP_SUFFIXES)))
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"no such file or folder: {p}",
                             fix="check the path; pass APK or IPA files, or folders of them")
    return out


class DirectoryCache:
    """Reports as JSON files under `<root>/<analyzer version>-<settings digest>/<sha256>.json`."""

    def __init__(self, root: Path, digest: str) -> None:
        self.dir = root / f"{ANALYZER_VERSION}-{digest[:16]}"

    def get(self, sha256: str) -> AppReport | None:
        path = self.dir / f"{sha256}.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text("utf-8"))
            return report_from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, report: AppReport) -> None:
        if not report.identity.sha256:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{report.identity.sha256}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(report.to_json(), ensure_ascii=False), "utf-8")
        tmp.replace(self.dir / f"{report.identity.sha256}.json")


def analyze_paths(paths: Sequence[Path], settings: AnalysisSettings, *, jobs: int = 2, lookup: Lookup | None = None,
                  store: Store | None = None, progress: Callable[[AppReport], None] | None = None) -> list[AppReport]:
    """Analyse `paths` (files) in `jobs` processes; reports come back in the order of `paths`.

    `lookup(sha256)` may return a stored report (then the file is not analysed again); `store(report)` is
    called for each new report, in this process. `progress(report)` is called as each file is done.
    """
    results: list[AppReport | None] = [None] * len(paths)
    todo: list[int] = []
    for i, path in enumerate(paths):
        cached = lookup(file_sha256(path)) if lookup is not None else None
        if cached is None:
            todo.append(i)
            continue
        report = replace(cached, identity=replace(cached.identity, file_name=path.name))
        results[i] = report
        if progress is not None:
            progress(report)

    def done(i: int, report: AppReport) -> None:
        results[i] = report
        if store is not None and not any(p.code == "analysis.failed" for p in report.problems):
            store(report)
        if progress is not None:
            progress(report)

    if len(todo) <= 1 or jobs <= 1:
        ctx = make_context(settings) if todo else None
        for i in todo:
            assert ctx is not None
            done(i, analyze_one(paths[i], ctx))
    else:  # worker processes only for two files or more (their start-up costs more than one file)
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_init, initargs=(settings,)) as pool:
            futures: dict[Future[AppReport], int] = {pool.submit(_work, str(paths[i])): i for i in todo}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    report = future.result()
                except Exception as exc:  # a worker that died (memory, signal): reported, the batch goes on
                    report = failed_report(paths[i], f"worker failed: {type(exc).__name__}: {exc}")
                done(i, report)
    return [r for r in results if r is not None]
