"""The HTML report: self-contained (no script, no external resource), escaped, accessible, in the reader's
language, with a compliance-over-time chart that has a data table beside it."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser

import pytest

from interdit.model import FindingState, Summary
from interdit.reporting.base import ReportData, formats
from interdit.testing.reports import report_data

HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x.png>'


def render(data: ReportData, lang: str) -> str:
    return formats.get("html")().render(data, lang)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <title>/<desc> of the SVG."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def hostile_data() -> ReportData:
    data = report_data()
    findings = tuple(dataclasses.replace(f, org_unit=HOSTILE, device_id=HOSTILE) for f in data.findings)
    summary = dataclasses.replace(data.summary, by_org_unit={HOSTILE: (10, 5)},
                                  by_source={HOSTILE: data.summary.by_source["mdm"]})
    sightings = tuple(dataclasses.replace(s, client=HOSTILE, family=HOSTILE) for s in data.sightings)
    return dataclasses.replace(data, organisation=HOSTILE, findings=findings, summary=summary, sightings=sightings)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_self_contained(lang: str) -> None:
    html = render(report_data(), lang)
    assert "<script" not in html.lower()
    for tag, attrs in tags(html):
        assert tag not in ("script", "link", "iframe", "object", "embed", "img"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "xlink:href", "action", "data"):
                raise AssertionError(f"<{tag} {name}={value!r}> loads or links something")
    assert "url(" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?:""", html, re.I)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_everything_is_escaped(lang: str) -> None:
    html = render(hostile_data(), lang)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not any(t == "img" for t, _ in tags(html))


def test_language_attribute_and_words() -> None:
    en, fr = render(report_data(), "en"), render(report_data(), "fr")
    assert '<html lang="en">' in en and '<html lang="fr">' in fr
    for word in ("violation", "compliant", "org unit", "not evaluable", "stale", "exception", "deadline",
                 "15 March 2023"):
        assert word in en.lower() or word in en, word
    for word in ("infraction", "conforme", "unité administrative", "non évaluable", "inventaire périmé",
                 "dérogation", "échéance", "15 mars 2023", "1er mars 2023"):
        assert word in fr.lower() or word in fr, word
    # no English left in the French report's words (identifiers and proper names excepted)
    visible = re.sub(r"<[^>]+>", " ", fr.split("</style>", 1)[1])
    for english in ("compliant", "violation", "deadline", "exception", "devices", "org unit", "stale", "overdue",
                    "Summary", "March"):
        assert english not in visible, english


def test_executive_summary_says_it_in_plain_words() -> None:
    html = render(report_data(), "en")
    lead = re.search(r'<p class="lead">(.*?)</p>', html, re.S)
    assert lead is not None
    text = lead.group(1)
    # 1,235 of 1,240 in scope; 3 devices hold an app (D-0001, D-0002, D-0003), 2 past their deadline
    assert "Department of Examples — on 15 March 2023, 1,235 of 1,240 devices in scope (99.6%) complied" in text
    assert "3 devices still hold a prohibited app, 2 of them past the deadline" in text
    assert "Removal and blocking of TikTok" in text
    fr = render(report_data(), "fr")
    assert "Department of Examples — au 15 mars 2023, 1\u00a0235 des 1\u00a0240 appareils visés (99,6\u00a0%)" in fr
    assert "règles de Department" not in fr and "règles de Ministère" not in fr


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_accessible_tables_and_chart(lang: str) -> None:
    html = render(report_data(), lang)
    all_tags = tags(html)
    headers = [a for t, a in all_tags if t == "th"]
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    svg = [a for t, a in all_tags if t == "svg"]
    assert len(svg) == 1 and svg[0].get("role") == "img"
    assert svg[0].get("aria-labelledby") == "chart-title chart-desc"
    assert re.search(r'<title id="chart-title">[^<]+</title>', html)
    desc = re.search(r'<desc id="chart-desc">([^<]+)</desc>', html)
    assert desc is not None and desc.group(1).count("%") == 3  # every point is described in words
    # the data table beside the chart lists the three points
    caption = "The figures behind the chart" if lang == "en" else "Les chiffres du graphique"
    table = html.split(caption, 1)[1].split("</table>", 1)[0]
    assert table.count('<th scope="row">') == 3


def test_chart_points_follow_the_rates() -> None:
    html = render(report_data(), "en")
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', html)
    assert len(circles) == 3
    xs = [float(x) for x, _ in circles]
    ys = [float(y) for _, y in circles]
    assert xs == sorted(xs) and len(set(xs)) == 3
    # the rate rose (93.5%, 97.2%, 99.6%): y decreases upward on screen
    assert ys[0] > ys[1] > ys[2]
    # the days are 1, 8 and 15 March: equal gaps in time give equal gaps on the axis
    assert abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.5


def test_chart_with_one_point_and_an_empty_fleet() -> None:
    data = dataclasses.replace(report_data(), history=())
    html = render(data, "en")
    assert len(re.findall(r"<circle ", html)) == 1 and "<polyline" not in html
    empty = Summary(at=datetime(2023, 3, 15, tzinfo=UTC), devices_total=0, devices_in_scope=0, compliant=0,
                    by_state={}, by_family={}, by_org_unit={})
    data = dataclasses.replace(report_data(), summary=empty, history=(), findings=(), rules=(), exceptions=(),
                               review=())
    text = unescape(render(data, "fr"))
    assert "Aucun appareil ne détient plus d'application interdite." in text
    assert "aucun appareil n'était visé" in text


def test_history_after_as_of_is_not_drawn() -> None:
    later = dataclasses.replace(report_data().summary, at=datetime(2023, 4, 1, tzinfo=UTC))
    data = dataclasses.replace(report_data(), history=(*report_data().history, later))
    assert len(re.findall(r"<circle ", render(data, "en"))) == 3


def test_expired_exceptions_are_not_in_force() -> None:
    html = render(report_data(), "en")
    section = html.split('id="s-exceptions"', 1)[1].split("</section>", 1)[0]
    assert "EX-SOCIAL" in section and "EX-OLD" not in section
    assert "107" in section  # days from 15 March to 30 June 2023


def test_unseen_devices_are_listed_with_the_reason() -> None:
    html = render(report_data(), "en")
    section = html.split('id="s-unseen"', 1)[1].split("</section>", 1)[0]
    unseen = {f.device_id for f in report_data().findings
              if f.state in (FindingState.NOT_EVALUABLE, FindingState.STALE)}
    assert unseen and all(d in section for d in unseen)
    assert "not counted as compliant" in section


def _section(html: str, name: str) -> str:
    return unescape(html.split(f'id="s-{name}"', 1)[1].split("</section>", 1)[0])


def test_by_source_follows_the_org_units_and_explains_what_a_source_cannot_see() -> None:
    html = render(report_data(), "en")
    assert html.index('id="s-units"') < html.index('id="s-sources"') < html.index('id="s-families"')
    section = _section(html, "sources")
    assert "“Not evaluable” counts the devices in scope on which that source cannot see the apps" in section
    assert "“Stale” counts the devices it has not reported" in section
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', section, re.S)
    assert [name for name, _ in rows] == ["jamf-gac", "mdm"]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", rows[1][1])
    assert cells == ["1,200", "1,150", "1,145", "99.6%", "2", "1", "1", "14 March 2023, 21:40 UTC"]
    fr = _section(render(report_data(), "fr"), "sources")
    assert "Conformité par source d'inventaire" in fr and "«\u00a0Non évaluables\u00a0» compte" in fr
    assert "14 mars 2023, 21\u00a0h\u00a040 UTC" in fr
    empty = dataclasses.replace(report_data(), summary=dataclasses.replace(report_data().summary, by_source={}))
    assert "<table>" not in _section(render(empty, "en"), "sources")


def test_network_section_counts_use_and_lists_unattributed_addresses() -> None:
    data = report_data()
    html = render(data, "en")
    section = _section(html, "network")
    assert "finding of kind “used”" in section
    by_family = section.split("Devices with use seen, by app family", 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th scope="row">(\w+)</th><td class="num">(\d+)</td>', by_family) == [("TikTok", "1"),
                                                                                              ("WeChat", "1")]
    addresses = section.split("Addresses no device could be matched to", 1)[1].split("</table>", 1)[0]
    assert re.search(r'192\.0\.2\.77</th><td>TikTok</td>\s*<td class="num">2</td><td class="num">15</td>', addresses)
    assert "198.51.100.200" not in html, "a sighting after the as-of date is not in the report"
    assert "Use of a prohibited app was seen on the network from 2 devices." in unescape(html)
    quiet = dataclasses.replace(data, sightings=(), findings=tuple(f for f in data.findings
                                                                  if f.kind.value != "used"))
    text = render(quiet, "fr")
    section = _section(text, "network")
    assert "Aucune utilisation d'une application interdite n'a été observée" in section
    assert "<table>" not in section and "observée sur le réseau depuis" not in unescape(text.split("</section>")[0])


def test_print_stylesheet() -> None:
    html = render(report_data(), "en")
    assert "@page { size: A4" in html and "@media print" in html


def test_many_unseen_devices_are_summarised_by_unit_and_both_states_are_listed() -> None:
    data = report_data()
    ne, stale = (next(f for f in data.findings if f.state is s)
                 for s in (FindingState.NOT_EVALUABLE, FindingState.STALE))
    many = tuple(dataclasses.replace(ne, device_id=f"N-{i:04d}", org_unit=f"/Unit{i % 3}") for i in range(60))
    few = tuple(dataclasses.replace(stale, device_id=f"S-{i:04d}", org_unit="/Unit9") for i in range(5))
    html = unescape(render(dataclasses.replace(data, findings=(*many, *few)), "en"))
    section = html.split('id="s-unseen"', 1)[1].split("</section>", 1)[0]
    assert "Devices: not evaluable" in section and "Devices: stale inventory" in section
    assert "… and 40 more" in section and "interdit findings --state not_evaluable" in section
    assert all(f"S-{i:04d}" in section for i in range(5))
    units = section.split("By org unit", 1)[1].split("</table>", 1)[0]
    assert re.search(r"/Unit0</th><td class=\"num\">20</td><td class=\"num\">0</td>", units)
    assert re.search(r"/Unit9</th><td class=\"num\">0</td><td class=\"num\">5</td>", units)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_text_colours_have_enough_contrast() -> None:
    html = render(report_data(), "en")
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    colours = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", style))
    colours |= set(re.findall(r'<text[^>]*fill="(#[0-9a-fA-F]{6})"', "<text" + svg))
    assert len(colours) >= 5
    lightest_background = _luminance("#f3f6f9")  # the summary box; cards and tables are white or lighter
    for colour in colours:
        ratio = (lightest_background + 0.05) / (_luminance(colour) + 0.05)
        assert ratio >= 4.5, (colour, round(ratio, 2))
