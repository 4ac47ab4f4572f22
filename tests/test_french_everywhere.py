"""Every French output, scanned: no breakable space before : ; ! ? » or after « (French typography), and no
English word left in a French screen. The catalogue's French messages, the reports (status table, findings
table, HTML and the PDF's page footer, CSV and XLSX headers), the analysis report, CLI screens and the policy
loader's messages, every enforcement target's caveats, and every dashboard page."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.conftest import client, sqlite_ws, ws  # noqa: F401
from builders.page_text import PageText
from builders.policy import catalogue
from interdit import enforcement, i18n, pipeline
from interdit.errors import PolicyError
from interdit.i18n import build
from interdit.policy.load import parse_policy
from interdit.reporting.base import formats
from interdit.reporting.pdf_report import page_number
from interdit.testing import broken_app_report, dns_request, mdm_request, sample_app_report
from interdit.testing.reports import report_data
from web.test_pages import _sign_in

# a plain (breakable) space where French needs a no-break one
# (after a word; a "?" alone in a cell or in parentheses is a value, "unknown", not a question mark)
BAD_SPACE = re.compile(r"(?<=[\w.)»%]) (?:[:;!»]|\?(?!\)))|« ")
# English that must never reach a French reader (whole words, any case)
ENGLISH = re.compile(r"\bfix:|\b(?:the|device|devices|findings?|not evaluable|compliant|overdue|deadline|sign in"
                     r"|sign out|overview|unknown|stale inventory|look-ups?|in scope|rate|report|which|should|cannot"
                     r"|could not|none|every|before|after|until)\b", re.IGNORECASE)


def readable(html: str) -> str:
    parser = PageText()
    parser.feed(html)
    return "\n".join(parser.parts)


# code a French sentence quotes as it is typed: 'devices' (a policy key), `interdit findings` (a command), and
# a message's {placeholders}
CODE = re.compile(r"(?<!\w)'[^'\s][^'\n]*'(?!\w)|`[^`]*`|\binterdit [a-z]+(?: --?[a-z-]+(?: [a-z_{}]+)?)*|\{[^}]*\}")


def faults(text: str, data: tuple[str, ...] = ()) -> list[str]:
    """What is wrong in `text`, a French output: each breakable space before a mark, each English word. The
    values in `data` (a device name, evidence a source wrote in English) are shown as given, so not judged."""
    text = " ".join(text.split(" "))
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, "").replace(" ".join(value.split()), "")
    text = CODE.sub("", text)
    found = [f"space: {text[max(m.start() - 30, 0):m.end() + 10]!r}" for m in BAD_SPACE.finditer(text)]
    found += [f"English {m.group(0)!r}: {text[max(m.start() - 30, 0):m.end() + 30]!r}" for m in ENGLISH.finditer(text)]
    return found


def test_the_scan_finds_a_plain_space_and_an_english_word() -> None:
    assert len(faults("Taux de conformité : 5 % ; « oui »")) == 4
    assert [f.split(": ")[0] for f in faults("aucun device, 3 findings, Fix: rien")] == ["English 'device'",
                                                                                      "English 'findings'",
                                                                                      "English 'Fix:'"]
    assert faults("Taux\u00a0: 5\u00a0%\u202f; «\u00a0oui\u00a0» — l'appareil 'devices' `interdit findings`") == []


def test_every_french_message_of_the_catalogue() -> None:
    french = build.texts("fr_CA")
    fields = dict.fromkeys(set().union(*(build.placeholders(t) for forms in french.values() for t in forms)) - {"n"}, 2)
    found = {key: faults(text) for key, text in i18n.words("fr").items()}
    for key in (k for k in french if k.endswith(".one")):
        for n in (1, 2):
            found[f"{key}[{n}]"] = faults(i18n.plural("fr", key.removesuffix(".one"), n, **fields))
    assert len(found) > 900
    bad = [f"{k}: {f}" for k, v in found.items() for f in v]
    assert not bad, "\n".join(bad)


# the report data's values a person reads as their source wrote them (English evidence of an English policy)
REPORT_DATA = tuple(e for f in report_data().findings for e in f.evidence)
# the demo workspace is English: its policy's rule descriptions, org units and exception reasons, and its MDM's
# group names, are shown as written
DASHBOARD_DATA = ("Other ByteDance apps on departmental devices, until further notice", "/TBS/Office of the CIO",
                  "The official TikTok account is run by the social media team", "dedicated device",
                  "All Devices")
# a directive the catalogue titles in English only (a United States law has no French title)
TITLES = ("No TikTok on Government Devices Act",)


@pytest.mark.parametrize("fmt", ["table", "findings-table", "html"])
def test_every_french_report(fmt: str) -> None:
    text = formats.get(fmt)().render(report_data(), "fr")
    assert faults(readable(text) if fmt == "html" else text, REPORT_DATA) == []


def test_the_french_pdf_footer_and_headers_of_csv_and_xlsx() -> None:
    assert faults(page_number("fr")) == []
    # the CSV's columns are field names a program reads, the same in both languages (docs/reporting.md)
    header = formats.get("csv")().render(report_data(), "fr").splitlines()[0]
    assert header == formats.get("csv")().render(report_data(), "en").splitlines()[0] and header.startswith("id,")
    book = load_workbook(io.BytesIO(formats.get("xlsx")().render(report_data(), "fr")))
    cells = [str(c.value) for ws_ in book.worksheets for row in ws_.iter_rows(max_row=12) for c in row if c.value]
    assert faults("\n".join(cells), REPORT_DATA) == []


@pytest.mark.parametrize("fmt", ["html", "table"])
def test_the_french_analysis_report(fmt: str) -> None:
    from interdit.analysis.render import render

    reports = [sample_app_report(), broken_app_report()]
    text = render(reports, fmt, "fr")
    evidence = TITLES + tuple(s for r in reports for s in (*(w.message for w in r.weaknesses),
                                                            *(p.message for p in r.problems)))
    assert faults(readable(text) if fmt == "html" else text, evidence) == []


def test_french_cli_screens_and_policy_messages() -> None:
    lines = pipeline.describe_in_use(pipeline.catalogue_in_use(), "fr")
    with pytest.raises(PolicyError) as info:
        parse_policy("organisation: T\nlanguage: fr\nadopt:\n  - directive: ca-tbs-2023-tiktk\n    grace_day: 1\n",
                     catalogue())
    problems = [t for p in info.value.problems for t in (p.message, p.fix or "")]
    assert faults("\n".join([*lines, *problems]), ("ca-tbs-2023-tiktk", "grace_day")) == []


# every enforcement target, with the settings that add caveats of their own; the MDM request carries a vendor
# prefix, an exception in force and more iOS apps than a restrictedApps list holds
VARIANTS = {"amapi": ({}, {"playStoreMode": "WHITELIST"}), "headwind": ({}, {"action": "hide"}),
            "knot": ({}, {"mode": "suffix"}), "pdns": ({}, {"mode": "lua"})}
# values put in the caveats as they are: an exception's devices and groups
ENFORCEMENT_DATA = ("intune:I0000042, /Comms/Social",)


@pytest.mark.parametrize("name", enforcement.targets.names())
def test_every_enforcement_target_in_french_and_english(name: str) -> None:
    target = enforcement.targets.get(name)
    for options in VARIANTS.get(name, ({},)):
        if target.kind == "mdm":
            base = mdm_request(options=options, extra_ios=101 if name == "intune" else 0)
        else:
            base = replace(dns_request(), options=options)
        en, fr = (target().build(replace(base, lang=lang)) for lang in ("en", "fr"))
        assert en.lang == "en" and fr.lang == "fr" and en.files == fr.files  # files have no reader's language
        assert len(en.caveats) == len(fr.caveats) > 0
        for english, french in zip(en.caveats, fr.caveats, strict=True):
            assert " / " not in english and " / " not in french  # never both languages run together
            assert english != french and not re.search(r"[éèêàùç«»]", english), english
            assert faults(french, ENFORCEMENT_DATA) == [], french


def test_every_french_dashboard_page(client: TestClient) -> None:  # noqa: F811
    login = client.get("/login", headers={"accept-language": "fr"})
    assert faults(readable(login.text)) == []
    _sign_in(client, "admin", lang="fr")
    client.cookies.set("interdit_lang", "fr")
    finding = client.get("/api/v1/findings?state=violation").json()["items"][0]
    pages = ["/", "/?as_of=2023-03-01", "/violations", "/violations?state=not_evaluable", "/catalogue",
             "/exceptions", "/sightings", "/apks", "/audit", "/jobs",
             f"/devices/{finding['source']}/{finding['device_id']}"]
    found = {}
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200 and 'lang="fr"' in r.text, url
        text = readable(r.text)
        if url == "/catalogue":  # directives, issuers and sources as the catalogue's sources wrote them: spacing only
            found[url] = [f for f in faults(text) if f.startswith("space")]
        else:
            found[url] = faults(text, DASHBOARD_DATA)
    bad = [f"{k}: {f}" for k, v in found.items() for f in v]
    assert not bad, "\n".join(bad)


# the glossary (docs/glossary.md): dérogation, infraction, application, constat; never their English cognates
NOT_FRENCH = re.compile(r"\bexceptions?\b|\bviolations?\b|\bapps?\b|\bfindings?\b", re.IGNORECASE)
NAMES = ("App Store", "App Transport Security", ".app", "adopt, rules et exceptions")  # names, a file type, keys


def test_the_french_catalogue_keeps_the_glossary_terms() -> None:
    bad = []
    for key, text in i18n.words("fr").items():
        text = CODE.sub("", text)
        for name in NAMES:
            text = text.replace(name, "")
        bad += [f"{key}: {m.group(0)!r} in {text!r}" for m in NOT_FRENCH.finditer(text)]
    assert not bad, "\n".join(bad)
    assert NOT_FRENCH.search(CODE.sub("", "Accorder une exception à l'app")) is not None
