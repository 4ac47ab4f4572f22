"""Each value the December 2026 audit found wrong, outdated or missing, pinned to its corrected value.

The audit (catalogue 2026.11.1) lists its verdicts field by field; the corrected catalogue cites the source that
shows each right value. A change to one of these values must be a deliberate change of this file too.
"""

from __future__ import annotations

from datetime import date

import pytest

from interdit.catalogue import blockable_domains, family_for_app, load_catalogue, owner_of_domain
from interdit.model import AppId, Catalogue, Ownership, Platform, VersionChange


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def _cites(cat: Catalogue, directive: str, fragment: str) -> bool:
    d = cat.directives[directive]
    urls = [s.url for s in d.sources] + [s.url for v in d.versions for s in v.sources]
    return any(fragment in u for u in urls)


# -- section 1: directives ---------------------------------------------------------------------------------


def test_quebec_is_interim_like_montreal(cat: Catalogue) -> None:  # 1.4
    assert cat.directives["ca-qc-2023-tiktok"].interim
    assert cat.directives["ca-qc-montreal-2023-tiktok"].interim


def test_us_federal_covers_tiktok_and_its_successors_only(cat: Catalogue) -> None:  # 1.6 apps
    us = cat.directives["us-fed-2022-no-tiktok-act"]
    assert us.families == ("tiktok",) and us.vendors == ()
    assert "successor application or service of TikTok" in us.rationale
    assert _cites(cat, us.id, "dailysignal.com")


def test_us_federal_reaches_contractor_equipment_used_for_the_contract(cat: Catalogue) -> None:  # 1.6 personal
    us = cat.directives["us-fed-2022-no-tiktok-act"]
    assert Ownership.PERSONAL in us.ownership
    assert "including equipment provided by the Contractor's employees" in us.device_scope
    assert "up to 1 year" not in us.exceptions_allowed  # unsourced, dropped
    assert us.version_at(date(2023, 6, 2)).change is VersionChange.AMENDED  # type: ignore[union-attr]
    assert _cites(cat, us.id, "c2essentials.com")


def test_texas_requires_a_network_block_and_was_expanded(cat: Catalogue) -> None:  # 1.7
    tx = cat.directives["us-tx-2022-prohibited-technologies"]
    assert tx.requires_network_block
    assert len(tx.actions) == 5 and tx.rationale
    before, after = tx.as_of(date(2026, 1, 25)), tx.as_of(date(2026, 1, 26))
    added = set(after.vendors) - set(before.vendors)
    assert len(added) == 26 and {"alibaba", "pdd", "shein", "xiaomi", "baidu", "moonshot-ai", "minimax"} <= added
    assert {"shein", "temu", "aliexpress", "kimi", "uc-browser"} <= set(after.families) - set(before.families)
    assert tx.amended_on(date(2026, 2, 1)) == date(2026, 1, 26) and tx.amended_on(date(2025, 6, 1)) is None
    assert _cites(cat, tx.id, "foxbusiness.com")


def test_eu_council_was_announced_on_the_23rd_and_covers_phones_with_council_access(cat: Catalogue) -> None:  # 1.9
    council = cat.directives["eu-council-2023-tiktok"]
    assert council.announced == date(2023, 2, 23)
    assert Ownership.PERSONAL in council.ownership and "access to Council services" in council.device_scope
    assert _cites(cat, council.id, "politico.eu")


def test_netherlands_lists_its_apps_and_exceptions(cat: Catalogue) -> None:  # 1.15
    nl = cat.directives["nl-2023-offensive-cyber-apps"]
    assert nl.as_of(date(2023, 3, 21)).families == ()  # at first a discouragement, no app named
    assert set(nl.as_of(date(2023, 8, 1)).families) == {"tiktok", "capcut", "wechat", "aliexpress", "vkontakte",
                                                        "faceapp", "igap", "mobogram"}
    assert "deepseek" in nl.as_of(date(2025, 3, 1)).families
    assert "specific tasks" in nl.exceptions_allowed
    assert _cites(cat, nl.id, "tweakers.net/nieuws/211774")


def test_belgium_was_extended(cat: Catalogue) -> None:  # 1.16
    be = cat.directives["be-2023-tiktok"]
    changes = [(v.since, v.change) for v in be.versions[1:]]
    assert changes == [(date(2023, 9, 10), VersionChange.EXTENDED), (date(2024, 3, 23), VersionChange.EXTENDED)]
    assert all(v.families == ("tiktok",) for v in be.versions)
    assert _cites(cat, be.id, "news.belgium.be")  # the federal government's own statement


def test_denmark_is_two_measures(cat: Catalogue) -> None:  # 1.17
    mod, folketing = cat.directives["dk-2023-tiktok"], cat.directives["dk-folketing-2023-tiktok"]
    assert mod.announced == mod.effective == date(2023, 3, 6)
    assert "Ministry of Defence" in mod.issuer and "very limited" not in mod.exceptions_allowed
    assert folketing.announced == date(2023, 2, 28)


def test_india_list_includes_vmate_and_qq_international(cat: Catalogue) -> None:  # 1.20
    india = cat.directives["in-2020-59-apps"]
    assert {"vmate", "qq"} <= set(india.families)
    assert AppId(Platform.ANDROID, "com.tencent.mobileqqi") in cat.families["qq"].identifiers


def test_canada_tiktok_cites_the_statement(cat: Catalogue) -> None:  # appendix: primary_source_to_check
    assert _cites(cat, "ca-tbs-2023-tiktok", "pro-memoria.info/ban-on-the-use-of-tiktok")


# -- section 2: identifiers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "identifier", "family"), [
    (Platform.ANDROID, "com.tiktok.lite.go", "tiktok"),  # 2.1 #2
    (Platform.IOS, "com.ss.iphone.ugc.tiktok.lite", "tiktok"),  # #3
    (Platform.IOS, "com.ss.iphone.ugc.Ame", "tiktok"),  # #4
    (Platform.ANDROID, "com.ss.android.tt.creator", "tiktok"),  # #5 TikTok Studio
    (Platform.ANDROID, "com.ss.android.ugc.now", "tiktok"),  # TikTok Now
    (Platform.ANDROID, "com.ss.android.ugc.spark", "tiktok"),  # TikTok Notes
    (Platform.IOS, "com.ss.iphone.ugc.aweme.lite", "douyin"),  # #6
    (Platform.ANDROID, "com.lemon.lv", "capcut"),  # #7 Jianying
    (Platform.IOS, "com.xingin.discover", "rednote"),  # #9
    (Platform.ANDROID, "com.tencent.mobileqqi", "qq"),  # #11
    (Platform.ANDROID, "com.uc.vmlite", "vmate"),  # #12
    (Platform.ANDROID, "com.kms.me", "kaspersky"),  # #1
    (Platform.ANDROID, "com.kms.free", "kaspersky"),
])
def test_missing_identifiers_are_matched(cat: Catalogue, platform: Platform, identifier: str, family: str) -> None:
    found = family_for_app(cat, AppId(platform, identifier))
    assert found is not None and found.id == family


@pytest.mark.parametrize("identifier", [
    "com.kms.dlquiz",  # Körkortet, a Swedish driving-licence quiz: the false positive of the com.kms prefix
    "com.kms.katalon",  # a KMS Technology namespace
    "com.kms",
    "com.kasperskyfan.app",  # the namespace is matched by whole labels
])
def test_unrelated_apps_are_not_kaspersky(cat: Catalogue, identifier: str) -> None:
    assert family_for_app(cat, AppId(Platform.ANDROID, identifier)) is None


def test_every_prefix_is_justified_by_a_source(cat: Catalogue) -> None:
    import json

    from interdit.catalogue.load import DATA_FILE, data_path

    raw = json.loads(data_path(DATA_FILE).read_text("utf-8"))
    prefixes = [(f["id"], p) for f in raw["families"] for p in f.get("prefixes", [])]
    assert prefixes, "the Kaspersky namespace is a prefix"
    for fid, p in prefixes:
        assert p.get("source", "").startswith("https://") and p.get("note"), (fid, p["id"])
    assert {p["id"] for _, p in prefixes} == {"com.kaspersky"}


def test_deepseek_ios_and_ame_are_corroborated(cat: Catalogue) -> None:  # #4, #10
    import json

    from interdit.catalogue.load import DATA_FILE, data_path

    raw = {f["id"]: f for f in json.loads(data_path(DATA_FILE).read_text("utf-8"))["families"]}
    levels = {(i["platform"], i["id"]): i["confidence"] for fid in ("deepseek", "tiktok")
              for i in raw[fid]["identifiers"]}
    assert levels[("ios", "com.deepseek.chat")] == "corroborated"
    assert levels[("ios", "com.ss.iphone.ugc.Ame")] == "corroborated"


def test_deepseek_belongs_to_high_flyer(cat: Catalogue) -> None:  # #13
    assert cat.vendors["deepseek"].parent == "high-flyer"


# -- section 4: domains -------------------------------------------------------------------------------------

BYTEDANCE_WIDE = ("snssdk.com", "isnssdk.com", "sgsnssdk.com", "pstatp.com", "ipstatp.com", "sgpstatp.com",
                  "byteimg.com", "bytecdn.cn", "bytedns.net", "byteoversea.com", "byteoversea.net", "ibytedtos.com",
                  "ibyteimg.com", "tiktokpangle.us")


def test_bytedance_wide_names_are_not_tiktok(cat: Catalogue) -> None:  # D1
    tiktok_only = set(blockable_domains(cat, ["tiktok"]))
    for name in BYTEDANCE_WIDE:
        assert name not in tiktok_only, name
        assert owner_of_domain(cat, "a." + name) == ("bytedance-infrastructure", "bytedance"), name
    assert {"tiktok.com", "tiktokv.com", "musical.ly", "ttwstatic.com"} <= tiktok_only
    infra = cat.families["bytedance-infrastructure"]
    assert not infra.identifiers and "breaks every ByteDance app" in infra.description
    # no directive names it: only a vendor-wide directive (or a policy's own rule) brings it in
    assert not any("bytedance-infrastructure" in d.families for d in cat.directives.values())


def test_missing_domains_are_added(cat: Catalogue) -> None:  # D3
    assert {"telegram.org", "t.me", "telegram.me"} <= set(cat.families["telegram"].domains)
    assert {"xiaohongshu.com", "xhscdn.com"} <= set(cat.families["rednote"].domains)
    assert owner_of_domain(cat, "nicegram.app") is None
    assert owner_of_domain(cat, "openspeech-direct.zijieapi.com") is None  # D4: Volcano Engine too, not Douyin


@pytest.mark.parametrize(("directive", "primary"), [
    ("ca-tbs-2023-wechat-kaspersky", "newswire.ca/news-releases/minister-anand"),  # the Treasury Board's release
    ("uk-2023-tiktok", "hansard.parliament.uk"),  # the statement to Parliament
    ("be-2023-tiktok", "news.belgium.be"),  # the federal government's press release
    ("cz-nukib-2023-tiktok", "nukib.gov.cz"),  # NÚKIB's own warning
    ("us-fed-2017-bod-17-01-kaspersky", "govinfo.gov/content/pkg/FR-2017-09-19"),  # the Federal Register
    ("au-2023-pspf-001", "protectivesecurity.gov.au"),
])
def test_a_directive_with_a_primary_source_cites_it_first_and_is_confirmed(cat: Catalogue, directive: str,
                                                                           primary: str) -> None:
    d = cat.directives[directive]
    assert any(primary in s.url for s in d.sources[:2]), [s.url for s in d.sources]
    assert d.confidence == "confirmed"
