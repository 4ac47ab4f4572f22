"""Analysis reports as a person or a tool reads them: `table` (terminal), `json`, `sarif` (2.1.0) and `html`,
each registered as an output in `renderers/`.

Every format carries every claim with its place in the file. `html` is one self-contained page: no script,
no style sheet or image from elsewhere. Words a person reads come from `i18n` (English and French).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from interdit import __version__
from interdit.analysis.i18n import (
    GROUPS,
    MATCH_KINDS,
    PROBLEMS,
    PROTECTIONS,
    SDK_CATEGORIES,
    SEVERITIES,
    VERDICTS,
    WEAKNESSES,
    pick,
    word,
)
from interdit.analysis.ios_bundle import usage_text
from interdit.analysis.render_details import details
from interdit.analysis.report import ANALYZER_VERSION, SCHEMA_VERSION, AppReport, Endpoint, Matches, Permission

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/interdit/interdit/blob/main/docs/analysis.md"
_LEVELS = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
_MAX_ROWS = 50


def to_document(reports: Sequence[AppReport]) -> dict[str, Any]:
    """The JSON document: schema-versioned, one entry per APK, in the order given."""
    return {"schema_version": SCHEMA_VERSION, "generator": {"name": "interdit", "version": __version__,
                                                           "analyzer_version": ANALYZER_VERSION},
            "apps": [r.to_json() for r in reports]}


def render_json(reports: Sequence[AppReport], lang: str) -> str:
    import json

    return json.dumps(to_document(reports), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# terminal


def _fold(table: Any) -> None:
    for column in table.columns:
        column.overflow = "fold"


def _permissions(report: AppReport) -> list[Permission]:
    """Grouped by what they expose ("other" last), then by name."""
    return sorted(report.permissions, key=lambda p: (p.group == "other", p.group, p.name))


def _endpoints(report: AppReport) -> list[Endpoint]:
    """Prohibited vendors' first, then those with a known owner, then by host."""
    return sorted(report.endpoints, key=lambda e: (not e.prohibited, not e.owner, e.host))


def _prohibited(report: AppReport) -> list[str]:
    """The prohibited vendors whose SDKs or endpoints the report shows, by name."""
    names = {s.vendor for s in report.sdks if s.prohibited} | {e.owner for e in report.endpoints if e.prohibited}
    return sorted(n for n in names if n)


def render_table(reports: Sequence[AppReport], lang: str, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(file=buf, width=width, highlight=False, force_terminal=False, color_system=None)
    if len(reports) > 1:
        summary = Table(word("file", lang), word("package", lang), word("verdict", lang), word("score", lang),
                        word("prohibited_found", lang), title=word("apps", lang, len(reports)), expand=True)
        for r in reports:
            summary.add_row(r.identity.file_name, r.identity.package or "?",
                            pick(VERDICTS, r.score.verdict, lang) if r.score else "?",
                            str(r.score.total) if r.score else "?", ", ".join(_prohibited(r)) or "-")
        _fold(summary)
        con.print(summary)
        con.print()
    for r in reports:
        ident, score = r.identity, r.score
        verdict = pick(VERDICTS, score.verdict, lang) if score else "?"
        con.rule(f"{ident.file_name} — {word('verdict', lang)}: {verdict.upper()} "
                 f"({word('score', lang)} {score.total if score else '?'})", characters="=")
        head = Table(show_header=False, box=None, pad_edge=False)
        head.add_row(word("package" if ident.platform == "android" else "bundle_id", lang), ident.package or "?")
        if ident.label:
            head.add_row(word("label", lang), ident.label)
        head.add_row(word("version", lang), f"{ident.version_name or '?'} ({word('version_code', lang)} "
                     f"{ident.version_code if ident.version_code is not None else '?'})")
        if ident.platform == "android":
            sdk = " / ".join("?" if v is None else str(v) for v in (ident.min_sdk, ident.target_sdk))
            head.add_row(word("sdk", lang), sdk)
        else:
            head.add_row(word("platform", lang), f"{ident.platform}, {word('min_os', lang)} {ident.min_os or '?'}")
        head.add_row(word("sha256", lang), ident.sha256)
        sig = r.signing
        head.add_row(word("schemes", lang), ", ".join(sig.schemes) or word("unsigned", lang))
        con.print(head)
        for title, rows in details(r, lang):
            t = Table(show_header=False, title=title, expand=True)
            for label, value in rows:
                t.add_row(label, value)
            _fold(t)
            con.print(t)
        if score and score.hits:
            con.print(f"\n{word('rules', lang)} ({word('thresholds', lang, *score.thresholds)})")
            t = Table(word("rule", lang), word("weight", lang), word("evidence", lang), expand=True)
            for h in score.hits:
                more = f"\n{word('more', lang, len(h.evidence) - 3)}" if len(h.evidence) > 3 else ""
                t.add_row(f"{h.text(lang)}\n[{h.id}]", str(h.weight), "\n".join(h.evidence[:3]) + more)
            _fold(t)
            con.print(t)
        _print_matches(con, r.matches, lang)
        if sig.certificates:
            t = Table(word("subject", lang), word("issuer", lang), word("valid", lang), word("fingerprint", lang),
                      title=word("certificates", lang), expand=True)
            for c in sig.certificates:
                debug = f" ({word('debug_cert', lang)})" if c.debug else ""
                t.add_row(c.subject + debug, c.issuer, word("from_to", lang, c.not_before[:10], c.not_after[:10]),
                          c.sha256)
            _fold(t)
            con.print(t)
        if sig.lineage:
            t = Table(word("subject", lang), word("issuer", lang), word("valid", lang), word("fingerprint", lang),
                      word("capabilities", lang), title=word("lineage", lang), expand=True)
            for c in sig.lineage:
                t.add_row(c.subject, c.issuer, word("from_to", lang, c.not_before[:10], c.not_after[:10]), c.sha256,
                          ", ".join(c.capabilities) or word("none", lang))
            _fold(t)
            con.print(t)
        if r.permissions:
            t = Table(word("permissions", lang), word("protection", lang), word("group", lang),
                      title=word("permissions", lang), expand=True)
            ios = ident.platform != "android"  # an iOS usage description carries the app's own reason: shown
            for p in _permissions(r):
                name = f"{p.name}\n{usage_text(p.name, p.description, lang)}" if ios else p.name
                t.add_row(name, pick(PROTECTIONS, p.protection, lang), pick(GROUPS, p.group, lang))
            _fold(t)
            con.print(t)
        if r.sdks:
            t = Table("SDK", word("vendor", lang), word("categories", lang), word("strength", lang),
                      word("evidence", lang), title=word("sdks", lang), expand=True)
            for s in r.sdks:
                vendor = f"{s.vendor} ({s.country or '?'})" if s.vendor else "?"
                if s.parent:
                    vendor += f", {word('parent', lang).lower()}: {s.parent}"
                if s.prohibited:
                    vendor += f" — {word('prohibited', lang)}"
                t.add_row(s.name, vendor, ", ".join(pick(SDK_CATEGORIES, c, lang) for c in s.categories),
                          word(s.strength, lang), "\n".join((s.bundled or s.referenced)[:3]))
            _fold(t)
            con.print(t)
        if r.endpoints:
            t = Table(word("endpoints", lang), word("owner", lang), word("where", lang), title=word("endpoints", lang),
                      expand=True)
            shown = _endpoints(r)
            for e in shown[:_MAX_ROWS]:
                owner = f"{e.owner} ({e.country})" if e.owner and e.country else e.owner
                if e.prohibited:
                    owner += f" — {word('prohibited', lang)}"
                t.add_row(e.value, owner, e.where)
            _fold(t)
            con.print(t)
            if len(shown) > _MAX_ROWS:
                con.print(word("more", lang, len(shown) - _MAX_ROWS))
        if r.weaknesses:
            t = Table(word("weaknesses", lang), word("severity", lang), word("where", lang), word("evidence", lang),
                      title=word("weaknesses", lang), expand=True)
            for w in r.weaknesses[:_MAX_ROWS]:
                t.add_row(f"{pick(WEAKNESSES, w.id, lang, w.message)}\n[{w.id}]", pick(SEVERITIES, w.severity, lang),
                          w.where, w.evidence or w.message)
            _fold(t)
            con.print(t)
        if r.problems:
            t = Table(word("problems", lang), word("severity", lang), word("where", lang),
                      title=word("problems", lang), expand=True)
            for pb in r.problems[:_MAX_ROWS]:
                t.add_row(f"{pick(PROBLEMS, pb.code, lang, pb.message)}\n[{pb.code}] {pb.message}",
                          pick(SEVERITIES, pb.severity, lang), pb.where)
            _fold(t)
            con.print(t)
        con.print()
    return buf.getvalue()


def _print_matches(con: Any, m: Matches, lang: str) -> None:
    """The catalogue families, vendors and directives the app matches (nothing when no catalogue was used)."""
    from rich.markup import escape
    from rich.table import Table

    if not m.catalogue_version:
        return
    if not m.families and not m.directives:
        con.print(f"\n{word('matches', lang)}: {word('no_matches', lang)}")
        return
    t = Table(word("family", lang), word("match_kind", lang), word("evidence", lang),
              title=f"{word('matches', lang)} (catalogue {m.catalogue_version})", expand=True)
    for f in m.families:
        t.add_row(escape(f"{f.name}\n[{f.family_id}]"), pick(MATCH_KINDS, f.kind, lang), "\n".join(f.evidence[:3]))
    _fold(t)
    con.print(t)
    if m.vendors:
        t = Table(word("vendors", lang), word("country", lang), word("parent", lang), title=word("vendors", lang),
                  expand=True)
        for v in m.vendors:
            t.add_row(escape(f"{v.name} [{v.id}]"), v.country, v.parent or "-")
        _fold(t)
        con.print(t)
    if m.directives:
        t = Table(word("directive", lang), word("issuer", lang), word("effective", lang), word("prohibits", lang),
                  title=word("directives", lang), expand=True)
        for d in m.directives:
            prohibits = ", ".join((*d.families, *d.vendors))
            t.add_row(escape(f"{d.title_in(lang)}\n[{d.id}]"), d.issuer, d.effective, prohibits)
        _fold(t)
        con.print(t)


# --------------------------------------------------------------------------------------------------
# SARIF 2.1.0


class _Artifacts:
    """The SARIF artifacts: each APK (the analysis target) and the entries inside it that results point at."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[tuple[int, str], int] = {}

    def add(self, uri: str, parent: int = -1, sha256: str = "") -> int:
        key = (parent, uri if parent >= 0 else f"{uri}\x00{sha256}")
        if key not in self._index:
            item: dict[str, Any] = {"location": {"uri": uri}}
            if parent >= 0:
                item["parentIndex"] = parent
            else:
                item["roles"] = ["analysisTarget"]
                if sha256:
                    item["hashes"] = {"sha-256": sha256}
            self._index[key] = len(self.items)
            self.items.append(item)
        return self._index[key]


def _location(report: AppReport, where: str, artifacts: _Artifacts) -> dict[str, Any]:
    """A result location: the entry inside the APK (a nested artifact), with its line when known."""
    apk = artifacts.add(report.identity.file_name, sha256=report.identity.sha256)
    entry = where.split(" ", 1)[0]
    if report.identity.platform != "android":  # iOS bundle paths hold spaces ("Payload/My App.app/Info.plist")
        from urllib.parse import quote

        entry = quote(re.sub(r" (?:string|value|line) #\d+$", "", where), safe="/:")
    line = None
    if ":" in entry and entry.rsplit(":", 1)[1].isdigit():
        entry, num = entry.rsplit(":", 1)
        line = int(num)
    inside = bool(entry) and entry not in ("archive", "offset", "APK") and not entry.startswith(("'", '"', "/"))
    if inside and "/" not in entry and "." not in entry:
        inside = False
    physical: dict[str, Any] = {"artifactLocation": {"uri": report.identity.file_name, "index": apk}}
    if inside:
        physical = {"artifactLocation": {"uri": entry, "index": artifacts.add(entry, apk)}}
        if line:
            physical["region"] = {"startLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if where:
        location["message"] = {"text": where}
    return location


def render_sarif(reports: Sequence[AppReport], lang: str) -> str:
    import json

    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    artifacts = _Artifacts()
    for r in reports:
        artifacts.add(r.identity.file_name, sha256=r.identity.sha256)

    def rule(rule_id: str, text: str, level: str) -> int:
        if rule_id not in rules:
            rules[rule_id] = {"id": rule_id, "shortDescription": {"text": text},
                              "defaultConfiguration": {"level": level}, "helpUri": INFORMATION_URI}
        return list(rules).index(rule_id)

    def result(r: AppReport, rule_id: str, title: str, level: str, text: str, where: str,
               extra: dict[str, Any] | None = None) -> None:
        props = {"package": r.identity.package, "sha256": r.identity.sha256, "apk": r.identity.file_name,
                 **(extra or {})}
        results.append({"ruleId": rule_id, "ruleIndex": rule(rule_id, title, level), "level": level,
                        "message": {"text": text}, "locations": [_location(r, where, artifacts)],
                        "properties": props})

    for r in reports:
        for w in r.weaknesses:
            title = pick(WEAKNESSES, w.id, lang, w.message)
            result(r, w.id, title, _LEVELS.get(w.severity, "warning"), f"{title}: {w.evidence or w.message}",
                   w.where)
        for p in r.problems:
            title = pick(PROBLEMS, p.code, lang, p.message)
            result(r, p.code, title, _LEVELS.get(p.severity, "warning"), f"{title}: {p.message}", p.where)
        for s in r.sdks:
            examples = s.bundled or s.referenced
            first = examples[0] if examples else ""
            where = first if first.startswith(("lib/", "AndroidManifest.xml", "Payload/")) else ""
            result(r, f"sdk.{s.vendor_id or 'other'}", f"{word('sdks', lang)}: {s.vendor or '?'}",
                   "warning" if s.prohibited else "note",
                   f"{s.name} ({s.vendor or '?'}, {s.country or '?'}): {word(s.strength, lang)}; "
                   f"{', '.join(examples[:5])}", where, {"vendor_id": s.vendor_id, "strength": s.strength})
        for e in r.endpoints:
            if e.prohibited:
                result(r, f"endpoint.{e.owner_id or 'prohibited'}",
                       f"{word('endpoints', lang)}: {e.owner} — {word('prohibited', lang)}", "warning",
                       f"{e.value} ({e.owner}, {e.country or '?'})", e.where, {"vendor_id": e.owner_id})
        m = r.matches
        for f in m.families:
            directives = [d.id for d in m.directives if f.family_id in d.families]
            kind = pick(MATCH_KINDS, f.kind, lang)
            result(r, "catalogue.family", word("matches", lang), "warning" if directives else "note",
                   f"{word('matches_family', lang, f.name, kind)}: {'; '.join(f.evidence)}"
                   + (f" — {word('directives', lang)}: {', '.join(directives)}" if directives else ""), "",
                   {"family_id": f.family_id, "kind": f.kind, "vendor_id": f.vendor_id, "directives": directives})
        if r.score is not None:
            level = {"unacceptable": "error", "needs_review": "warning"}.get(r.score.verdict, "note")
            verdict = pick(VERDICTS, r.score.verdict, lang)
            why = "; ".join(f"{h.text(lang)} +{h.weight}" for h in r.score.hits)
            result(r, "verdict", word("verdict", lang), level,
                   f"{word('verdict', lang)}: {verdict} ({word('score', lang)} {r.score.total}; {why})", "",
                   {"score": r.score.total, "verdict": r.score.verdict,
                    "hits": [{"id": h.id, "weight": h.weight, "evidence": list(h.evidence)} for h in r.score.hits],
                    "matches": r.to_json()["matches"]})
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "interdit", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFORMATION_URI, "rules": list(rules.values()),
                            "properties": {"analyzer_version": ANALYZER_VERSION, "signature_sets": sorted(
                                {x for r in reports for x in r.signature_sets})}}},
        "artifacts": artifacts.items, "results": results, "language": lang, "columnKind": "unicodeCodePoints"}]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------------
# HTML


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;max-width:80rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1.05rem;margin-top:1.5rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#eee}code,.mono{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:.3rem;font-weight:bold;color:#fff}
.acceptable{background:#2e7d32}.needs_review{background:#b26a00}.unacceptable{background:#b71c1c}
.prohibited{color:#b71c1c;font-weight:bold}.muted{color:#555}.signoff td{height:2.2rem;width:75%}
@media print{body{margin:0}h2{page-break-before:always}}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ w('report') }}</title><style>{{ css }}</style></head><body>
<h1>{{ w('report') }}</h1>
<p class="muted">{{ w('generated', version, analyzer) }} — {{ w('apps', reports|length) }}</p>
{% if reports|length > 1 %}<table><tr><th>{{ w('file') }}</th><th>{{ w('package') }}</th><th>{{ w('verdict') }}</th>
<th>{{ w('score') }}</th><th>{{ w('prohibited_found') }}</th></tr>
{% for r in reports %}<tr><td><a href="#apk-{{ loop.index }}">{{ r.identity.file_name }}</a></td>
<td class="mono">{{ r.identity.package or '?' }}</td><td>{{ v(r.score.verdict) if r.score else '?' }}</td>
<td>{{ r.score.total if r.score else '?' }}</td><td>{{ prohibited(r)|join(', ') or '-' }}</td></tr>{% endfor %}
</table>{% endif %}
{% for r in reports %}{% set s = r.score %}
<h2 id="apk-{{ loop.index }}">{{ r.identity.file_name }}</h2>
<p><span class="verdict {{ s.verdict if s else '' }}">{{ w('verdict') }}: {{ v(s.verdict) if s else '?' }}</span>
 {{ w('score') }} {{ s.total if s else '?' }} ({{ w('thresholds', *(s.thresholds if s else (0, 0))) }})</p>
<table>
<tr><th>{{ w('package' if r.identity.platform == 'android' else 'bundle_id') }}</th>
<td class="mono">{{ r.identity.package or '?' }}</td></tr>
{% if r.identity.label %}<tr><th>{{ w('label') }}</th><td>{{ r.identity.label }}</td></tr>{% endif %}
<tr><th>{{ w('version') }}</th><td>{{ r.identity.version_name or '?' }} ({{ w('version_code') }}
 {{ r.identity.version_code if r.identity.version_code is not none else '?' }})</td></tr>
{% if r.identity.platform == 'android' %}<tr><th>{{ w('sdk') }}</th><td>
{{- '?' if r.identity.min_sdk is none else r.identity.min_sdk }} /
 {{ '?' if r.identity.target_sdk is none else r.identity.target_sdk }}</td></tr>
{%- else %}<tr><th>{{ w('platform') }}</th><td>{{ r.identity.platform }},
 {{ w('min_os') }} {{ r.identity.min_os or '?' }}</td></tr>{% endif %}
<tr><th>{{ w('sha256') }}</th><td class="mono">{{ r.identity.sha256 }}</td></tr>
<tr><th>{{ w('size') }}</th><td>{{ r.identity.size }}</td></tr>
<tr><th>{{ w('schemes') }}</th><td>{{ r.signing.schemes|join(', ') or w('unsigned') }}</td></tr>
</table>
{% for title, rows in details(r, lang) %}<h3>{{ title }}</h3><table>
{% for label, value in rows %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}</table>{% endfor %}
{% if s and s.hits %}<h3>{{ w('rules') }}</h3>
<table><tr><th>{{ w('rule') }}</th><th>{{ w('weight') }}</th><th>{{ w('evidence') }}</th></tr>
{% for h in s.hits %}<tr><td>{{ h.text(lang) }}<br><code>{{ h.id }}</code></td><td>{{ h.weight }}</td>
<td class="mono">{% for e in h.evidence[:20] %}{{ e }}<br>{% endfor %}</td></tr>{% endfor %}</table>{% endif %}
{% set m = r.matches %}{% if m.catalogue_version %}<h3>{{ w('matches') }}</h3>
{% if m.families or m.directives %}<table><tr><th>{{ w('family') }}</th><th>{{ w('match_kind') }}</th>
<th>{{ w('evidence') }}</th></tr>
{% for f in m.families %}<tr><td>{{ f.name }}<br><code>{{ f.family_id }}</code></td><td>{{ mk(f.kind) }}</td>
<td class="mono">{% for e in f.evidence %}{{ e }}<br>{% endfor %}</td></tr>{% endfor %}</table>
{% if m.vendors %}<table><tr><th>{{ w('vendors') }}</th><th>{{ w('country') }}</th><th>{{ w('parent') }}</th></tr>
{% for v in m.vendors %}<tr><td>{{ v.name }} <code>{{ v.id }}</code></td><td>{{ v.country }}</td>
<td>{{ v.parent or '-' }}</td></tr>{% endfor %}</table>{% endif %}
{% if m.directives %}<table><tr><th>{{ w('directive') }}</th><th>{{ w('issuer') }}</th><th>{{ w('effective') }}</th>
<th>{{ w('prohibits') }}</th></tr>
{% for d in m.directives %}<tr><td class="prohibited">{{ d.title_in(lang) }}<br><code>{{ d.id }}</code></td>
<td>{{ d.issuer }}</td><td>{{ d.effective }}</td><td>{{ (d.families + d.vendors)|join(', ') }}</td></tr>{% endfor %}
</table>{% endif %}
{% else %}<p>{{ w('no_matches') }}</p>{% endif %}
<p class="muted">catalogue {{ m.catalogue_version }}</p>{% endif %}
<h3>{{ w('certificates') }}</h3>
{% if r.signing.certificates %}<table><tr><th>{{ w('subject') }}</th><th>{{ w('issuer') }}</th>
<th>{{ w('valid') }}</th><th>{{ w('fingerprint') }}</th><th>{{ w('where') }}</th></tr>
{% for c in r.signing.certificates %}<tr><td>{{ c.subject }}{% if c.debug %} <b>({{ w('debug_cert') }})</b>{% endif %}
</td><td>{{ c.issuer }}</td><td>{{ w('from_to', c.not_before[:10], c.not_after[:10]) }}</td>
<td class="mono">{{ c.sha256 }}</td><td>{{ c.where }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}{% if r.signing.lineage %}<h3>{{ w('lineage') }}</h3>
<table><tr><th>{{ w('subject') }}</th><th>{{ w('issuer') }}</th><th>{{ w('valid') }}</th>
<th>{{ w('fingerprint') }}</th><th>{{ w('capabilities') }}</th></tr>
{% for c in r.signing.lineage %}<tr><td>{{ c.subject }}</td><td>{{ c.issuer }}</td>
<td>{{ w('from_to', c.not_before[:10], c.not_after[:10]) }}</td><td class="mono">{{ c.sha256 }}</td>
<td>{{ c.capabilities|join(', ') or w('none') }}</td></tr>{% endfor %}</table>{% endif %}
<h3>{{ w('permissions') }}</h3>
{% if r.permissions %}<table><tr><th>{{ w('group') }}</th><th>{{ w('permissions') }}</th>
<th>{{ w('protection') }}</th><th>{{ w('where') }}</th></tr>
{% for p in perms(r) %}<tr><td>{{ g(p.group) }}</td><td><span class="mono">{{ p.name }}</span>
{% if r.identity.platform != 'android' %}<br>{{ usage(p.name, p.description) }}{% endif %}</td>
<td>{{ prot(p.protection) }}</td><td class="mono">{{ p.where }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}
<h3>{{ w('sdks') }}</h3>
{% if r.sdks %}<table><tr><th>SDK</th><th>{{ w('vendor') }}</th><th>{{ w('country') }}</th>
<th>{{ w('categories') }}</th><th>{{ w('strength') }}</th><th>{{ w('evidence') }}</th></tr>
{% for x in r.sdks %}<tr><td>{{ x.name }}</td>
<td{% if x.prohibited %} class="prohibited"{% endif %}>{{ x.vendor or '?' }}
{% if x.prohibited %} ({{ w('prohibited') }}){% endif %}{% if x.parent %}<br><span class="muted">{{ w('parent') }}:
 {{ x.parent }}</span>{% endif %}</td><td>{{ x.country or '?' }}</td>
<td>{{ cats(x.categories) }}</td><td>{{ w(x.strength) }}</td>
<td class="mono">{% for e in (x.bundled or x.referenced) %}{{ e }}<br>{% endfor %}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}
<h3>{{ w('endpoints') }}</h3>
{% if r.endpoints %}<table><tr><th>{{ w('endpoints') }}</th><th>{{ w('owner') }}</th><th>{{ w('country') }}</th>
<th>{{ w('where') }}</th></tr>
{% for e in eps(r) %}<tr><td class="mono">{{ e.value }}</td><td{% if e.prohibited %} class="prohibited"{% endif %}>
{{ e.owner }}{% if e.prohibited %} ({{ w('prohibited') }}){% endif %}</td><td>{{ e.country }}</td>
<td class="mono">{{ e.where }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}
<h3>{{ w('weaknesses') }}</h3>
{% if r.weaknesses %}<table><tr><th>{{ w('weaknesses') }}</th><th>{{ w('severity') }}</th><th>{{ w('where') }}</th>
<th>{{ w('evidence') }}</th></tr>
{% for x in r.weaknesses %}<tr><td>{{ wk(x) }}<br><code>{{ x.id }}</code></td><td>{{ sev(x.severity) }}</td>
<td class="mono">{{ x.where }}</td><td class="mono">{{ x.evidence }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}
<h3>{{ w('problems') }}</h3>
{% if r.problems %}<table><tr><th>{{ w('problems') }}</th><th>{{ w('severity') }}</th><th>{{ w('where') }}</th>
<th>{{ w('evidence') }}</th></tr>
{% for x in r.problems %}<tr><td>{{ pb(x) }}<br><code>{{ x.code }}</code></td><td>{{ sev(x.severity) }}</td>
<td class="mono">{{ x.where }}</td><td class="mono">{{ x.message }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w('none') }}</p>{% endif %}
{% endfor %}
<h2>{{ w('signoff') }}</h2>
<table class="signoff"><tr><th>{{ w('reviewer') }}</th><td></td></tr><tr><th>{{ w('date') }}</th><td></td></tr>
<tr><th>{{ w('decision') }}</th><td></td></tr><tr><th>{{ w('signature') }}</th><td></td></tr></table>
</body></html>
"""


def render_html(reports: Sequence[AppReport], lang: str) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=False)
    template = env.from_string(_TEMPLATE)
    return template.render(
        reports=reports, lang=lang, css=_CSS, version=__version__, analyzer=ANALYZER_VERSION,
        w=lambda key, *args: word(key, lang, *args),
        v=lambda key: pick(VERDICTS, key, lang), g=lambda key: pick(GROUPS, key, lang),
        prot=lambda key: pick(PROTECTIONS, key, lang), sev=lambda key: pick(SEVERITIES, key, lang),
        cats=lambda cs: ", ".join(pick(SDK_CATEGORIES, c, lang) for c in cs),
        wk=lambda x: pick(WEAKNESSES, x.id, lang, x.message), pb=lambda x: pick(PROBLEMS, x.code, lang, x.message),
        mk=lambda key: pick(MATCH_KINDS, key, lang),
        perms=_permissions,
        prohibited=_prohibited,
        eps=_endpoints,
        details=details,
        usage=lambda key, purpose: usage_text(key, purpose, lang),
    )


def render(reports: Sequence[AppReport], fmt: str, lang: str = "en") -> str:
    """Render `reports` in output `fmt` (a name in `interdit.analysis.output.outputs`) and language `lang`."""
    from interdit.analysis.output import outputs
    from interdit.errors import AnalysisError

    if fmt not in outputs:
        raise AnalysisError(f"unknown output format {fmt!r}", fix=f"use one of: {', '.join(outputs.names())}")
    return outputs.get(fmt)().render(reports, lang)
