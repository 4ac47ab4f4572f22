"""`table`: the status summary for a terminal (plain text, at most 100 columns)."""

from __future__ import annotations

import textwrap

from interdit.reporting._scope import outside_line, unplaced_lines
from interdit.reporting._text import WIDTH, clip, columns, pairs
from interdit.reporting._words import coverage_line, reasons_text, review_reason, review_timing
from interdit.reporting.base import STATES, ReportData, family_name, figures, formats
from interdit.reporting.i18n import Translator

TOP = 10


@formats.register
class StatusTable:
    name = "table"
    extension = "txt"
    media_type = "text/plain; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str:
        t = Translator(lang)
        fig = figures(data)
        sm = data.summary
        lines: list[str] = [clip(t("status.title"), WIDTH), "=" * min(len(t("status.title")), WIDTH)]
        lines += pairs([
            (t("label.organisation"), data.organisation),
            (t("label.as_of"), t.datetime(data.as_of)),
            (t("label.compliance"), t.n("status.rate_line", sm.compliant, rate=t.pct(sm.rate),
                                      compliant=t.num(sm.compliant),
                                      in_scope=t.n("unit.devices_in_scope", sm.devices_in_scope)) if sm.rate is not None
             else t("status.no_rate_line", rate=t.pct(None))),
            (t("label.devices_total"), t.num(sm.devices_total)),
        ], indent=0)

        lines += ["", t("section.by_rule")]
        if fig.rules:
            rows = [[rule, r.directive or t("label.own_rule"), t.num(r.in_scope), t.num(r.compliant), t.pct(r.rate),
                     t.num(r.violations)] for rule, r in fig.rules]
            lines += columns([t("col.rule"), t("col.directive"), t("col.in_scope"), t("col.compliant"),
                              t("col.rate"), t("col.violations")], rows, right=(2, 3, 4, 5))
        else:
            lines.append("  " + t("status.no_rule_in_force"))

        lines += ["", t("section.outside")]
        for line in (*unplaced_lines(t, sm, data.catalogue), outside_line(t, sm)):
            lines += textwrap.wrap(line, WIDTH, initial_indent="  ", subsequent_indent="    ",
                                   break_on_hyphens=False, break_long_words=False)

        lines += ["", t("section.by_state")]
        lines += pairs([(t.state(s), t.num(n)) for s, n in fig.by_state.items()
                        if n or s in STATES])

        lines += ["", t("section.coverage")]
        if fig.not_evaluable_by_reason:
            lines += textwrap.wrap(clip(coverage_line(t, fig.not_evaluable_by_reason), 10 * WIDTH), WIDTH,
                                   initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)
            by_source: dict[str, list[tuple[str, int]]] = {}
            for name, reason, n in fig.not_evaluable_by_source:
                by_source.setdefault(name, []).append((reason, n))
            for name, counts in by_source.items():
                lines += textwrap.wrap(clip(t("coverage.source_line", source=name, reasons=reasons_text(t, counts)),
                                            10 * WIDTH), WIDTH, initial_indent="    ", subsequent_indent="      ",
                                       break_on_hyphens=False)
        else:
            lines.append(clip("  " + t("coverage.all_full" if sm.devices_in_scope else "status.none"), WIDTH))

        lines += ["", t("section.by_family")]
        if fig.by_family:
            lines += columns([t("col.family"), t("col.devices")],
                             [[family_name(data, f), t.num(n)] for f, n in fig.by_family[:TOP]], right=(1,))
            if len(fig.by_family) > TOP:
                lines.append("  " + t.n("status.more", len(fig.by_family) - TOP))
        else:
            lines.append("  " + t("status.no_violations"))

        lines += ["", t("section.by_unit", top=TOP)]
        if fig.units:
            rows = [[u.unit or t("label.no_unit"), t.num(u.in_scope), t.num(u.compliant), t.pct(u.rate),
                     t.num(u.violations)] for u in fig.units[:TOP]]
            lines += columns([t("col.org_unit"), t("col.in_scope"), t("col.compliant"), t("col.rate"),
                              t("col.violations")], rows, right=(1, 2, 3, 4))
            if len(fig.units) > TOP:
                lines.append("  " + t.n("status.more", len(fig.units) - TOP))
        else:
            lines.append("  " + t("status.none"))

        lines += ["", t("section.by_source")]
        if fig.sources:
            rows = [[name, t.num(v.devices), t.num(v.in_scope), t.num(v.compliant), t.pct(v.rate),
                     t.num(v.violations), t.num(v.not_evaluable), t.num(v.stale),
                     v.last_observed.date().isoformat() if v.last_observed else "-"] for name, v in fig.sources]
            lines += columns([t("col.source"), t("col.devices"), t("col.in_scope"), t("col.compliant"), t("col.rate"),
                              t("col.violations"), t("col.not_evaluable"), t("col.stale_short"),
                              t("col.last_inventory_short")], rows, right=(1, 2, 3, 4, 5, 6, 7))
        else:
            lines.append("  " + t("status.none"))

        lines += ["", t("section.network")]
        if fig.used_devices:
            families = ", ".join(f"{family_name(data, f) or '?'} {t.num(n)}" for f, n in fig.used_by_family)
            lines.append(clip("  " + t.n("status.used", fig.used_devices, families=families), WIDTH))
        else:
            lines.append("  " + t("status.no_use"))
        if fig.unattributed:
            lines.append(clip("  " + t("status.unattributed", top=TOP), WIDTH))
            rows = [[r.address, family_name(data, r.family), t.num(r.days), t.num(r.count)]
                    for r in fig.unattributed[:TOP]]
            lines += columns([t("col.address"), t("col.family"), t("col.days"), t("col.count")], rows,
                             right=(2, 3), indent=4)
            if len(fig.unattributed) > TOP:
                lines.append("    " + t.n("status.more", len(fig.unattributed) - TOP))

        lines += ["", t("section.deadlines")]
        if fig.deadlines:
            rows = [[d.rule, d.directive or "", d.deadline.isoformat(), t.num(d.holding), t.num(d.overdue)]
                    for d in fig.deadlines]
            lines += columns([t("col.rule"), t("col.directive"), t("col.deadline"), t("col.holding"),
                              t("col.overdue")], rows, right=(3, 4))
        else:
            lines.append("  " + t("status.none"))

        lines += ["", t("section.review")]
        if data.review:
            rows = [[d.isoformat(), t.kind(k), i, review_reason(t, data, k, i, d), review_timing(t, data, d)]
                    for k, i, d, _why in data.review]
            lines += columns([t("col.date"), t("col.kind"), t("col.id"), t("col.why"), t("col.when")], rows)
        else:
            lines.append("  " + t("status.nothing_to_review"))

        lines += ["", clip(t("label.catalogue_line", version=data.catalogue_version), WIDTH)]
        return "\n".join(lines) + "\n"
