"""Catalogue 2026.12.3: the issuers' own texts found for directives that rested on reports, the Australian state and
territory DeepSeek bans, New Brunswick's TikTok ban, and a record of what was searched where nothing was found.

Each value is pinned to what its cited source says (the note of the source quotes it)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from ruamel.yaml import YAML

from interdit.catalogue import directive_families, family_for_app, load_catalogue
from interdit.catalogue.load import SOURCE_FILE, data_path
from interdit.model import AppId, Catalogue, Ownership, Platform


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def data() -> Any:
    return YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))


@pytest.fixture(scope="module")
def raw(data: Any) -> dict[str, Any]:
    return {d["id"]: d for d in data["directives"]}


@pytest.fixture(scope="module")
def raw_families(data: Any) -> dict[str, Any]:
    return {f["id"]: f for f in data["families"]}


def test_version(cat: Catalogue) -> None:
    assert cat.version == "2026.12.3"


# -- the issuer's text found ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("directive", "status", "confidence"), [
    ("nl-2023-offensive-cyber-apps", "cited", "confirmed"),   # rijksoverheid.nl news item of 2023-03-21
    ("au-nsw-2023-tiktok", "cited", "confirmed"),             # Circular DCS-2023-01 on arp.nsw.gov.au
    ("au-sa-2025-deepseek", "cited", "confirmed"),            # SACSF Ruling 4 on security.sa.gov.au
    ("ca-qc-2023-tiktok", "copy", "corroborated"),            # the CNW communiqué reproduced by Le Lézard
    ("us-va-2022-eo24", "copy", "corroborated"),              # the governor's release, The Roanoke Star
])
def test_status_raised_where_the_issuers_text_was_found(cat: Catalogue, directive: str, status: str,
                                                          confidence: str) -> None:
    d = cat.directives[directive]
    assert (d.primary_source, d.confidence) == (status, confidence)


def test_the_dutch_news_item_states_the_exception_the_entry_records(raw: dict[str, Any]) -> None:
    nl = raw["nl-2023-offensive-cyber-apps"]
    first = nl["sources"][0]
    assert first["kind"] == "primary" and "2023/03/21" in first["url"]
    assert "inspection and supervision" in nl["exceptions_allowed"] and "inspection and supervision" in first["note"]


def test_south_australia_records_the_rulings_byod_requirement(cat: Catalogue, raw: dict[str, Any]) -> None:
    """SACSF Ruling 4: personal devices are not affected, but BYOD access to official data needs an assessment."""
    personal = raw["au-sa-2025-deepseek"]["personal_devices"]
    assert personal.startswith("out of scope") and "BYOD" in personal
    sa = cat.directives["au-sa-2025-deepseek"]
    assert sa.ownership == (Ownership.CORPORATE,) and sa.requires_network_block


def test_prince_edward_island_is_corroborated_by_a_second_report(raw: dict[str, Any]) -> None:
    pe = raw["ca-pe-2023-tiktok"]
    assert pe["confidence"] == "corroborated"
    assert {s["url"].split("/")[2] for s in pe["sources"]} == {"www.iphoneincanada.ca", "atlantic.ctvnews.ca"}


def test_every_page_still_not_reached_says_what_was_searched(raw: dict[str, Any]) -> None:
    not_reached = {i: d for i, d in raw.items() if d["primary_source"]["status"] == "not-reached"}
    assert len(not_reached) == 33
    for i, d in not_reached.items():
        note = d["primary_source"]["note"]
        assert "Searched on 2026-12-07" in note, i
        assert "rests on" in note, i


# -- new directives ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("directive", "announced", "families", "vendors", "network", "confidence", "status"), [
    ("ca-nb-2023-tiktok", date(2023, 3, 2), ("tiktok",), (), False, "confirmed", "cited"),
    ("au-qld-2025-deepseek", date(2025, 2, 5), ("deepseek",), ("deepseek",), True, "confirmed", "cited"),
    ("au-nt-2025-deepseek", date(2025, 2, 5), ("deepseek",), (), False, "corroborated", "not-reached"),
    ("au-wa-2025-deepseek", date(2025, 2, 5), ("deepseek",), ("deepseek",), False, "unconfirmed", "not-reached"),
    ("au-nsw-dcs-2025-deepseek", date(2025, 1, 30), ("deepseek",), (), True, "corroborated", "none"),
    ("us-la-2025-deepseek", date(2025, 10, 13), ("deepseek",), (), False, "corroborated", "not-reached"),
    ("us-nasa-2025-deepseek", date(2025, 1, 31), ("deepseek",), ("deepseek",), True, "unconfirmed", "none"),
    ("us-house-2025-deepseek", date(2025, 1, 30), ("deepseek",), (), False, "corroborated", "none"),
    ("us-dod-disa-2025-deepseek", date(2025, 1, 28), ("deepseek",), (), True, "unconfirmed", "none"),
    ("jp-2025-deepseek", date(2025, 2, 6), ("deepseek",), (), False, "corroborated", "not-reached"),
    ("jp-mie-2025-deepseek", date(2025, 2, 7), ("deepseek",), (), True, "unconfirmed", "not-reached"),
    ("lt-seimas-2025-deepseek", date(2025, 2, 12), ("deepseek",), (), False, "unconfirmed", "not-reached"),
])
def test_new_directives(cat: Catalogue, directive: str, announced: date, families: tuple[str, ...],
                        vendors: tuple[str, ...], network: bool, confidence: str, status: str) -> None:
    d = cat.directives[directive]
    assert d.announced == d.effective == announced
    assert (d.families, d.vendors) == (families, vendors)
    assert d.requires_network_block is network
    assert (d.confidence, d.primary_source) == (confidence, status)
    assert d.ownership == (Ownership.CORPORATE,)
    assert directive_families(cat, d) == families


def test_queensland_day_is_marked_approximate_and_cites_its_policy(raw: dict[str, Any]) -> None:
    """The policy page gives 'February 2025' only: the day used follows the federal direction, and says so."""
    qld = raw["au-qld-2025-deepseek"]
    assert qld["approximate_dates"] == ["announced", "effective"]
    assert "February 2025" in qld["effective_note"] and "001-2025" in qld["effective_note"]
    first = qld["sources"][0]
    assert first["kind"] == "primary" and first["url"].endswith("/deepseek-policy")
    assert "restricted-applications" in qld["related"]  # the April 2025 replacement, its list not readable


def test_western_australia_rests_on_one_report_and_says_so(raw: dict[str, Any]) -> None:
    wa = raw["au-wa-2025-deepseek"]
    assert wa["confidence"] == "unconfirmed" and len(wa["sources"]) == 1
    assert wa["approximate_dates"] == ["announced", "effective"]


def test_nsw_whole_of_government_list_is_not_guessed(raw: dict[str, Any]) -> None:
    """DCS-2025-01 replaced the TikTok circular, but its list was not readable: no NSW-wide DeepSeek directive."""
    assert "DCS-2025-01" in raw["au-nsw-2023-tiktok"]["related"]
    assert "amendments" not in raw["au-nsw-2023-tiktok"]
    nsw = [i for i in raw if i.startswith("au-nsw")]
    assert sorted(nsw) == ["au-nsw-2023-tiktok", "au-nsw-dcs-2025-deepseek"]
    assert raw["au-nsw-dcs-2025-deepseek"]["jurisdiction"].endswith("(department)")


def test_new_brunswick_release_is_the_first_source(raw: dict[str, Any]) -> None:
    nb = raw["ca-nb-2023-tiktok"]
    assert nb["sources"][0]["kind"] == "primary" and "gnb.ca" in nb["sources"][0]["url"]
    assert nb["title"]["fr"] != nb["title"]["en"]


# -- identifiers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "identifier", "family", "confidence"), [
    (Platform.IOS, "com.moonshot.kimichat", "kimi", "unconfirmed"),  # one public iOS host-app table
    (Platform.MACOS, "im.manus.desktop", "manus", "corroborated"),  # the Homebrew cask and two macOS tools
])
def test_identifiers_added(cat: Catalogue, raw_families: dict[str, Any], platform: Platform, identifier: str,
                           family: str, confidence: str) -> None:
    fam = family_for_app(cat, AppId(platform, identifier))
    assert fam is not None and fam.id == family
    assert AppId(platform, identifier) in fam.identifiers  # exact, not through a namespace
    entry = next(i for i in raw_families[family]["identifiers"] if (i["platform"], i["id"]) == (platform.value,
                                                                                                 identifier))
    assert entry["confidence"] == confidence


def test_identifier_sources_are_named(raw_families: dict[str, Any]) -> None:
    ids = {(i["platform"], i["id"]): i for f in raw_families.values() for i in f["identifiers"]}
    kimi_ios = ids[("ios", "com.moonshot.kimichat")]
    assert "getdictus/dictus-ios" in kimi_ios["note"] and "AASA" in kimi_ios["note"]
    assert ids[("macos", "im.manus.desktop")]["source"].endswith("/Homebrew/homebrew-cask/HEAD/Casks/m/manus.rb")


def test_ios_bundle_ids_still_not_guessed_for_manus_and_lemon8(cat: Catalogue) -> None:
    """No citable source gives them: on iOS both are matched by store name only (see docs/catalogue.md)."""
    for fid in ("manus", "lemon8"):
        assert not [i for i in cat.families[fid].identifiers if i.platform == Platform.IOS], fid
        assert [n for n in cat.families[fid].store_names if n.platform == Platform.IOS], fid


def test_navy_2025_reaches_personal_use(cat: Catalogue, raw: dict[str, Any]) -> None:
    """The email: 'refrain from downloading, installing, or using' DeepSeek 'in any capacity', work and personal use."""
    navy = cat.directives["us-navy-2025-deepseek"]
    assert navy.announced == navy.effective == date(2025, 1, 24)
    assert set(navy.ownership) == {Ownership.CORPORATE, Ownership.PERSONAL}
    assert (navy.confidence, navy.primary_source) == ("unconfirmed", "none")  # every report rests on CNBC's
    assert "in any capacity" in raw["us-navy-2025-deepseek"]["personal_devices"]


def test_louisiana_signing_day_is_disputed_and_marked(raw: dict[str, Any]) -> None:
    la = raw["us-la-2025-deepseek"]
    assert la["approximate_dates"] == ["effective"]
    assert "2025-09-29" in la["effective_note"] and "2025-10-13" in la["effective_note"]


def test_house_deepseek_is_interim_pending_review(cat: Catalogue, raw: dict[str, Any]) -> None:
    """The CAO notice: 'under review' and 'currently unauthorized for official House use'."""
    house = cat.directives["us-house-2025-deepseek"]
    assert house.interim
    assert raw["us-house-2025-deepseek"]["approximate_dates"] == ["announced", "effective"]


def test_japan_is_a_caution_with_a_consultation_route(raw: dict[str, Any]) -> None:
    """Asahi and Nikkei: ministries are to refrain; a remaining need goes to NISC and the Digital Agency."""
    jp = raw["jp-2025-deepseek"]
    assert "NISC" in jp["exceptions_allowed"] and "Digital Agency" in jp["exceptions_allowed"]
    assert "caution" in jp["related"]


def test_lithuanian_seimas_covers_staff_not_members(cat: Catalogue, raw: dict[str, Any]) -> None:
    lt = raw["lt-seimas-2025-deepseek"]
    assert "not members of parliament" in lt["device_scope"]
    assert cat.directives["lt-seimas-2025-deepseek"].ownership == (Ownership.CORPORATE,)


def test_north_carolina_order_signed_then_in_force_with_the_guidance(cat: Catalogue) -> None:
    """EO 276 signed 2023-01-12; in force 2023-01-26 with the DIT guidance (Digital Policy Alert)."""
    nc = cat.directives["us-nc-2023-eo276"]
    assert (nc.announced, nc.effective) == (date(2023, 1, 12), date(2023, 1, 26))
    assert nc.families == ("tiktok", "wechat") and nc.requires_network_block
    assert (nc.primary_source, nc.confidence) == ("copy", "corroborated")
