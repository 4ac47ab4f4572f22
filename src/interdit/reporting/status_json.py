"""`json`: the status summary for machines (schema: templates/status.schema.json, `schema_version` 2).

Keys are English in every language; only the `lang` field says which language the caller asked for. A rate is
`null` when nothing is in scope (no denominator, no rate). Version 2: rates may be null, `by_state.not_evaluable`
leaves out devices on which a prohibited app is seen, and the summary and each source give their coverage.
"""

from __future__ import annotations

import json
from typing import Any

from interdit.reporting.base import ReportData, figures, formats
from interdit.reporting.i18n import check_lang

SCHEMA_VERSION = 2


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@formats.register
class StatusJson:
    name = "json"
    extension = "json"
    media_type = "application/json"

    def render(self, data: ReportData, lang: str) -> str:
        return json.dumps(status_document(data, lang), ensure_ascii=False, indent=2) + "\n"


def status_document(data: ReportData, lang: str) -> dict[str, Any]:
    check_lang(lang)
    fig = figures(data)
    sm = data.summary
    return {
        "schema_version": SCHEMA_VERSION,
        "lang": lang,
        "as_of": data.as_of.isoformat(),
        "generated_at": data.generated_at.isoformat(),
        "organisation": data.organisation,
        "summary": {
            "devices_total": sm.devices_total,
            "devices_in_scope": sm.devices_in_scope,
            "compliant": sm.compliant,
            "rate": _rate(sm.rate),
            "holding": fig.holding,
            "holding_overdue": fig.holding_overdue,
            "by_state": fig.by_state,
            "by_coverage": dict(sm.by_coverage),
            "not_evaluable_by_reason": dict(fig.not_evaluable_by_reason),
            "by_family": dict(fig.by_family),
            "by_org_unit": {u: {"in_scope": ins, "compliant": comp}
                            for u, (ins, comp) in sorted(sm.by_org_unit.items())},
            "by_source": {name: {"devices": v.devices, "in_scope": v.in_scope, "compliant": v.compliant,
                                 "rate": _rate(v.rate), "violations": v.violations,
                                 "not_evaluable": v.not_evaluable, "stale": v.stale,
                                 "by_coverage": dict(v.by_coverage),
                                 "not_evaluable_by_reason": dict(v.not_evaluable_by_reason),
                                 "last_observed": v.last_observed.isoformat() if v.last_observed else None}
                          for name, v in fig.sources},
            "by_rule": {rule: {"directive": r.directive, "effective": r.effective.isoformat(),
                               "deadline": r.deadline.isoformat(), "in_scope": r.in_scope, "compliant": r.compliant,
                               "rate": _rate(r.rate), "violations": r.violations,
                               "blocked_present": r.blocked_present, "not_evaluable": r.not_evaluable,
                               "stale": r.stale}
                        for rule, r in sm.by_rule.items()},
            "out_of_scope": dict(sm.out_of_scope),
            "scope_unknown": [{"family": u.family, "source": u.source, "devices": u.devices,
                               "labels": [{"kind": k, "value": v} for k, v in u.labels]} for u in sm.scope_unknown],
        },
        "network": {
            "used_devices": fig.used_devices,
            "used_by_family": dict(fig.used_by_family),
            "unattributed": [{"address": r.address, "family": r.family, "days": r.days, "count": r.count,
                              "last_day": r.last.isoformat()} for r in fig.unattributed],
        },
        "history": [{"at": p.at.isoformat(), "devices_in_scope": p.devices_in_scope, "compliant": p.compliant,
                     "rate": _rate(p.rate)} for p in fig.points],
        "deadlines": [{"rule": d.rule, "directive": d.directive, "families": list(d.families),
                       "effective": d.effective.isoformat(), "deadline": d.deadline.isoformat(),
                       "passed": d.passed, "holding": d.holding, "overdue": d.overdue} for d in fig.deadlines],
        "exceptions": [{"id": r.exception.id, "families": list(r.exception.families),
                        "approver": r.exception.approver, "expires": r.exception.expires.isoformat(),
                        "days_left": r.days_left, "devices": r.devices} for r in fig.exceptions],
        "review": [{"kind": k, "id": i, "date": d.isoformat(), "why": why} for k, i, d, why in data.review],
        "catalogue_version": data.catalogue_version,
    }
