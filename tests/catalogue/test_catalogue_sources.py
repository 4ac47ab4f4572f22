"""Where each directive comes from: the issuer's own text first, every source of a known kind, honest statuses.

The catalogue's confidence follows its own definition (docs/catalogue.md): a directive is `confirmed` only when the
issuer's own publication is among its sources; where the issuer published nothing (an internal memo) or its page could
not be read, the entry says so in `primary_source` instead of leaving the reader to guess.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from interdit.catalogue import load_catalogue
from interdit.catalogue.load import SOURCE_FILE, data_path


@pytest.fixture(scope="module")
def directives() -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))
    return {d["id"]: d for d in data["directives"]}


def _sources(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [*d["sources"], *(s for a in d.get("amendments", []) for s in a["sources"])]


def test_every_source_says_what_kind_it_is(directives: dict[str, Any]) -> None:
    unknown = [(i, s["url"]) for i, d in directives.items() for s in _sources(d)
               if s.get("kind") not in {"primary", "official-copy", "secondary"}]
    assert not unknown


def test_every_directive_states_whether_the_issuers_text_is_cited(directives: dict[str, Any]) -> None:
    for i, d in directives.items():
        ps = d.get("primary_source")
        assert ps and ps["status"] in {"cited", "copy", "not-reached", "none"} and len(ps["note"]) > 20, i
        assert "primary_source_to_check" not in d, i


def test_the_status_agrees_with_the_sources(directives: dict[str, Any]) -> None:
    for i, d in directives.items():
        kinds = {s["kind"] for s in d["sources"]}
        status = d["primary_source"]["status"]
        assert (status == "cited") == ("primary" in kinds), i
        if status == "copy":
            assert "official-copy" in kinds, i
        if status in {"not-reached", "none"}:
            assert "primary" not in kinds, i


def test_a_primary_source_names_its_publisher_and_comes_first(directives: dict[str, Any]) -> None:
    for i, d in directives.items():
        if d["primary_source"]["status"] == "cited":
            first = [s["kind"] for s in d["sources"]][:2]
            assert "primary" in first, i
            assert all(s.get("publisher") for s in d["sources"] if s["kind"] == "primary"), i


def test_confirmed_only_with_the_issuers_own_text(directives: dict[str, Any]) -> None:
    """'confirmed' = seen in the issuer's own publication; a copy, or reports alone, make it at most corroborated."""
    for i, d in directives.items():
        if d["confidence"] == "confirmed":
            assert d["primary_source"]["status"] == "cited", i


def test_how_many_cite_the_issuer() -> None:
    """Pins the count so that a change of it is deliberate (2026.12.3: 16 cite the issuer, 11 a faithful copy)."""
    data = YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))
    statuses = [d["primary_source"]["status"] for d in data["directives"]]
    assert statuses.count("cited") >= 16 and statuses.count("copy") >= 11


@pytest.mark.parametrize(("directive", "url"), [
    ("no-2023-tiktok-telegram", "regjeringen.no/no/aktuelt/nsm-med-nye-retningslinjer-for-tiktok-og-telegram"),
    ("ca-tbs-2023-wechat-kaspersky", "newswire.ca/news-releases/minister-anand"),
    ("us-fed-2017-bod-17-01-kaspersky", "govinfo.gov/content/pkg/FR-2017-09-19"),
    ("us-fed-2022-no-tiktok-act", "reginfo.gov/public/do/eAgendaViewRule?RIN=9000-AO58"),
    ("be-2025-deepseek", "matz.belgium.be"),
    ("us-ks-2025-hb2313", "kssos.org/publications/sessionlaws/2025"),
    ("nl-2023-offensive-cyber-apps", "rijksoverheid.nl/ministeries/ministerie-van-binnenlandse-zaken"),
    ("au-nsw-2023-tiktok", "arp.nsw.gov.au/dcs-2023-01-cyber-security-nsw-directive"),
    ("au-sa-2025-deepseek", "security.sa.gov.au/cyber-security/sacsf/sacsf-ruling-4"),
    ("ca-nb-2023-tiktok", "gnb.ca/content/gnb/en/departments/finance/news/news_release.2023.03.0105"),
    ("au-qld-2025-deepseek", "forgov.qld.gov.au/information-and-communication-technology"),
])
def test_primary_sources_are_cited_as_primary(directives: dict[str, Any], directive: str, url: str) -> None:
    kinds = [s["kind"] for s in directives[directive]["sources"] if url in s["url"]]
    assert kinds == ["primary"]
    assert directives[directive]["confidence"] == "confirmed"


@pytest.mark.parametrize(("directive", "url"), [
    ("ca-ns-2023-tiktok", "hrlawcanada.com/2023/03/nova-scotia-bans-tiktok"),
    ("us-sd-2022-tiktok", "dakotawarcollege.com"),
    ("us-ny-2025-deepseek", "longisland.com/news/02-10-25/governor-hochul"),
    ("cz-2025-deepseek", "security.cuni.cz/en/deepseek"),
    ("ca-tbs-2023-tiktok", "pro-memoria.info/ban-on-the-use-of-tiktok"),
    ("in-2020-59-apps", "ananova.com/news/story/sm_605433"),
    ("ca-on-2023-tiktok", "toronto.citynews.ca"),
    ("us-tn-2025-deepseek-manus", "einpresswire.com/article/791795239"),
    ("ca-qc-2023-tiktok", "lelezard.com/communique-20795262"),
    ("us-va-2022-eo24", "theroanokestar.com/2022/12/17/youngkin-bans-tiktok"),
    ("us-nc-2023-eo276", "scribd.com/document/619438156"),
])
def test_issuers_text_reproduced_is_an_official_copy(directives: dict[str, Any], directive: str, url: str) -> None:
    kinds = [s["kind"] for s in directives[directive]["sources"] if url in s["url"]]
    assert kinds == ["official-copy"]
    assert directives[directive]["primary_source"]["status"] == "copy"


def test_south_australia_cites_its_ruling_and_keeps_the_release_as_a_copy(directives: dict[str, Any]) -> None:
    """2026.12.3: SACSF Ruling 4 is the issuer's own text; the Treasurer's release stays cited as its copy."""
    sa = directives["au-sa-2025-deepseek"]
    kinds = {s["url"]: s["kind"] for s in sa["sources"]}
    assert kinds["https://www.einpresswire.com/article/783262389/deepseek-banned-from-sa-government"] == "official-copy"
    assert sa["primary_source"]["status"] == "cited" and sa["confidence"] == "confirmed"


# -- dates ---------------------------------------------------------------------------------------------------


def test_nova_scotia_took_effect_on_march_1() -> None:
    """Service Nova Scotia's release of 2023-02-28: 'effective Wednesday, March 1'."""
    d = load_catalogue().directives["ca-ns-2023-tiktok"]
    assert (d.announced, d.effective) == (date(2023, 2, 28), date(2023, 3, 1))


def test_belgium_announced_its_deepseek_circular_on_september_11() -> None:
    """Solutions Magazine: 'La ministre avait déjà lancé le 11 septembre une circulaire'; removal from 2025-12-01."""
    d = load_catalogue().directives["be-2025-deepseek"]
    assert (d.announced, d.effective) == (date(2025, 9, 11), date(2025, 12, 1))


def test_the_navy_message_is_dated_december_16() -> None:
    d = load_catalogue().directives["us-navy-2019-tiktok"]
    assert (d.announced, d.effective) == (date(2019, 12, 16), date(2019, 12, 16))


def test_approximate_dates_are_marked_and_explained(directives: dict[str, Any]) -> None:
    marked = {i: d["approximate_dates"] for i, d in directives.items() if d.get("approximate_dates")}
    assert marked == {"us-commerce-2025-deepseek": ["announced", "effective"], "tw-2022-prc-apps": ["effective"],
                      "us-ks-2025-hb2313": ["announced", "effective"],
                      "us-ar-2025-deepseek-rednote-lemon8": ["announced", "effective"],
                      "au-qld-2025-deepseek": ["announced", "effective"],
                      "au-wa-2025-deepseek": ["announced", "effective"],
                      "us-la-2025-deepseek": ["effective"],
                      "us-house-2025-deepseek": ["announced", "effective"]}
    for i in marked:
        assert len(directives[i].get("effective_note", "")) > 20, i
    for i, d in directives.items():
        for a in d.get("amendments", []):
            if a.get("since_approximate"):
                assert "not public" in a["note"] or "reported" in a["note"], (i, a["since"])
    nl = directives["nl-2023-offensive-cyber-apps"]["amendments"]
    assert [a.get("since_approximate") for a in nl] == [True, True]


def test_no_unmarked_vague_date(directives: dict[str, Any]) -> None:
    """A note that admits a vague day ('day not published', 'not public', 'mid-') comes with the mark."""
    words = ("day not published", "is not public", "mid-", "reported in force by")
    for i, d in directives.items():
        note = d.get("effective_note", "")
        if any(w in note for w in words):
            assert d.get("approximate_dates"), i


def test_the_documentation_states_the_shipped_counts(directives: dict[str, Any]) -> None:
    """docs/catalogue.md gives the number of directives and of each primary-source status: they follow the data."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "catalogue.md").read_text("utf-8")
    assert f"**{len(directives)} directives**" in doc
    for status in ("cited", "copy", "not-reached", "none"):
        count = sum(d["primary_source"]["status"] == status for d in directives.values())
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{status}` |"))
        assert row.rstrip().endswith(f"| {count} |"), (status, count, row)


def test_ukraine_records_that_the_decision_is_a_recommendation(directives: dict[str, Any]) -> None:
    ua = directives["ua-2024-telegram"]
    assert "advisory" in ua["related"] or "recommendation" in ua["related"]
    assert any("nsdc_secretary_explains_decision_on_telegram" in s["url"] for s in ua["sources"])
