"""`findings-json`: every finding, every field (schema: templates/findings.schema.json, `schema_version` 1)."""

from __future__ import annotations

import json
from typing import Any

from interdit.model import Finding
from interdit.reporting.base import ReportData, formats, is_overdue, who
from interdit.reporting.i18n import check_lang

SCHEMA_VERSION = 1


def finding_document(f: Finding, data: ReportData) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind.value,
        "state": f.state.value,
        "source": f.source,
        "device_id": f.device_id,
        **who(data, f),
        "org_unit": f.org_unit,
        "rule": f.rule,
        "directive": f.directive,
        "family": f.family,
        "app": {"platform": f.app.platform.value, "identifier": f.app.identifier} if f.app else None,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "deadline": f.deadline.isoformat() if f.deadline else None,
        "overdue": is_overdue(f, data.as_of),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "exception": f.exception,
        "evidence": list(f.evidence),
    }


@formats.register
class FindingsJson:
    name = "findings-json"
    extension = "json"
    media_type = "application/json"

    def render(self, data: ReportData, lang: str) -> str:
        check_lang(lang)
        doc = {"schema_version": SCHEMA_VERSION, "lang": lang, "as_of": data.as_of.isoformat(),
               "organisation": data.organisation, "count": len(data.findings),
               "findings": [finding_document(f, data) for f in data.findings]}
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
