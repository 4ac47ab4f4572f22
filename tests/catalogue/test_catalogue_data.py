"""The shipped catalogue data: valid against its schema, complete, sourced, consistent, and fast to load.

Directive, family and vendor ids are a public promise (policies name them), so the expected ids are listed
here: renaming one must be a deliberate change of this test too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from interdit import fleet
from interdit.catalogue import family_for_app, load_catalogue, validate_against_schema, vendor_chain
from interdit.catalogue.load import DATA_FILE, SOURCE_FILE, data_path, read_catalogue
from interdit.model import AppId, Ownership, Platform

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "catalogue-sources"
needs_sources = pytest.mark.skipif(not SHARED.is_dir(), reason=f"catalogue sources not present at {SHARED}")

DIRECTIVE_IDS = {
    "ca-tbs-2023-tiktok", "ca-tbs-2023-wechat-kaspersky", "ca-tbs-2025-deepseek", "ca-qc-2023-tiktok",
    "ca-qc-montreal-2023-tiktok", "us-fed-2022-no-tiktok-act", "us-tx-2022-prohibited-technologies",
    "eu-commission-2023-tiktok", "eu-council-2023-tiktok", "eu-parliament-2023-tiktok", "uk-2023-tiktok",
    "au-2023-pspf-001", "nz-parliament-2023-tiktok", "fr-2023-recreational-apps", "nl-2023-offensive-cyber-apps",
    "be-2023-tiktok", "dk-2023-tiktok", "no-2023-tiktok-telegram", "tw-2022-prc-apps", "in-2020-59-apps",
    # 2026.12.1
    "dk-folketing-2023-tiktok", "au-2025-pspf-001-deepseek", "au-2025-pspf-002-kaspersky",
    "us-fed-2017-bod-17-01-kaspersky", "us-fed-2025-ndaa-1532-deepseek", "tw-2025-deepseek",
    "kr-2025-ministries-deepseek",
    "kr-pipc-2025-deepseek", "cz-2025-deepseek", "cz-nukib-2023-tiktok", "ua-2024-telegram", "be-2025-deepseek",
    "us-house-2022-tiktok", "us-senate-2025-deepseek", "us-commerce-2025-deepseek",
    "us-army-2019-tiktok", "us-navy-2019-tiktok", "in-army-2020-89-apps", "it-garante-2025-deepseek", "np-2023-tiktok",
    "uk-parliament-2023-tiktok", "uk-scot-2023-tiktok", "ca-on-2023-tiktok", "ca-ab-2023-tiktok",
    "ca-ab-calgary-2023-tiktok", "ca-sk-2023-tiktok", "us-nyc-2023-tiktok", "au-nsw-2023-tiktok", "au-act-2023-tiktok",
    "us-sd-2022-tiktok", "us-va-2022-eo24", "us-va-2025-eo46-deepseek", "us-ny-2025-deepseek", "us-ok-2025-deepseek",
    "us-al-2025-deepseek-manus", "ca-ns-2023-tiktok", "ca-pe-2023-tiktok",
    # 2026.12.2
    "us-ks-2025-hb2313", "us-tn-2025-deepseek-manus", "us-sd-2025-deepseek-rednote", "us-ia-2025-deepseek",
    "us-ga-2022-tiktok-wechat-telegram", "us-ar-2025-deepseek-rednote-lemon8", "au-sa-2025-deepseek",
    "in-mof-2025-ai-tools", "ca-qc-assnat-2023-tiktok", "be-fwb-2023-tiktok",
    # 2026.12.3
    "ca-nb-2023-tiktok", "au-qld-2025-deepseek", "au-nt-2025-deepseek", "au-wa-2025-deepseek",
    "au-nsw-dcs-2025-deepseek", "us-la-2025-deepseek", "us-navy-2025-deepseek", "us-nasa-2025-deepseek",
    "us-house-2025-deepseek", "us-dod-disa-2025-deepseek", "jp-2025-deepseek", "jp-mie-2025-deepseek",
    "lt-seimas-2025-deepseek", "us-nc-2023-eo276",
}
FAMILY_IDS = {"tiktok", "douyin", "capcut", "lemon8", "wechat", "deepseek", "kaspersky", "telegram", "rednote",
              "qq", "bytedance-services", "bytedance-infrastructure", "temu", "aliexpress", "kimi", "vkontakte",
              "faceapp", "igap", "mobogram", "manus"}
VENDOR_IDS = {"bytedance", "tiktok-pte", "tencent", "kaspersky", "deepseek"}


def _yaml_data() -> Any:
    return YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))


def test_source_and_loaded_copy_hold_the_same_data() -> None:
    """catalogue.json is written from catalogue.yaml by scripts/build-catalogue.py; run it after editing."""
    assert json.loads(data_path(DATA_FILE).read_text("utf-8")) == _yaml_data()


def test_build_script_agrees_the_loaded_copy_is_current() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "build-catalogue.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_data_matches_its_schema() -> None:
    validate_against_schema(_yaml_data(), where=SOURCE_FILE)


def test_schema_rejects_what_it_should() -> None:
    from interdit.errors import CatalogueError

    data = _yaml_data()
    data["directives"][0]["sources"] = []
    data["families"][0]["identifiers"][0]["platform"] = "symbian"
    with pytest.raises(CatalogueError) as caught:
        validate_against_schema(data)
    assert "directives/0/sources" in str(caught.value) and "families/0/identifiers/0/platform" in str(caught.value)


def test_at_least_45_directives_each_with_dated_sources() -> None:
    cat = load_catalogue()
    assert set(cat.directives) == DIRECTIVE_IDS
    assert len(cat.directives) >= 45
    for d in cat.directives.values():
        assert d.sources and all(s.url.startswith("https://") for s in d.sources), d.id
        assert all(s.retrieved is not None and s.retrieved <= cat.build_date for s in d.sources), d.id
        for v in d.versions[1:]:
            assert v.sources and all(s.retrieved is not None for s in v.sources), (d.id, v.since)
        assert d.confidence in ("confirmed", "corroborated", "unconfirmed")
        assert d.title.get("en"), d.id
        # a measure may take effect a few days before it is announced (PIPC pulled DeepSeek on a Saturday and
        # said so on the Monday), never long before
        assert d.announced is None or d.announced <= d.effective + timedelta(days=7), d.id


def test_ids_are_stable() -> None:
    cat = load_catalogue()
    assert set(cat.families) >= FAMILY_IDS
    assert set(cat.vendors) >= VENDOR_IDS


def test_canadian_directives() -> None:
    cat = load_catalogue()
    tiktok = cat.directives["ca-tbs-2023-tiktok"]
    assert tiktok.effective == date(2023, 2, 28) and tiktok.families == ("tiktok",)
    assert tiktok.ownership == (Ownership.CORPORATE,)
    assert cat.directives["ca-tbs-2023-wechat-kaspersky"].families == ("wechat", "kaspersky")
    assert cat.directives["ca-tbs-2025-deepseek"].requires_network_block
    assert cat.directives["ca-qc-montreal-2023-tiktok"].interim
    assert cat.directives["ca-qc-2023-tiktok"].interim  # 'pour le moment', 'jusqu'à nouvel ordre', like Montréal
    assert not tiktok.interim
    for d in cat.directives.values():
        if d.id.startswith("ca-"):
            assert d.title.get("fr") and d.title["fr"] != d.title["en"], d.id


def test_references_between_entries() -> None:
    cat = load_catalogue()
    for d in cat.directives.values():
        assert all(f in cat.families for f in d.families), d.id
        assert all(v in cat.vendors for v in d.vendors), d.id
    for f in cat.families.values():
        assert f.vendor in cat.vendors, f.id
        assert f.sources, f.id
    for v in cat.vendors.values():
        assert v.parent is None or v.parent in cat.vendors
        assert len(v.country) == 2 and v.country.isupper()
    assert vendor_chain(cat, "tiktok-pte") == ("tiktok-pte", "bytedance")
    assert cat.vendors["kaspersky"].country == "RU" and cat.vendors["bytedance"].country == "CN"


def test_each_identifier_belongs_to_one_family() -> None:
    cat = load_catalogue()
    seen: dict[AppId, str] = {}
    for f in cat.families.values():
        for app in f.identifiers:
            assert app not in seen, f"{app} is in both {seen[app]} and {f.id}"
            seen[app] = f.id


def test_named_identifiers() -> None:
    cat = load_catalogue()
    tiktok = cat.families["tiktok"]
    for ident in ("com.zhiliaoapp.musically", "com.ss.android.ugc.trill", "com.zhiliaoapp.musically.go"):
        assert AppId(Platform.ANDROID, ident) in tiktok.identifiers
    assert AppId(Platform.IOS, "com.zhiliaoapp.musically") in tiktok.identifiers
    assert AppId(Platform.IOS, "com.tencent.xin") in cat.families["wechat"].identifiers
    kaspersky = cat.families["kaspersky"]
    assert AppId(Platform.ANDROID, "com.kaspersky") in kaspersky.prefixes
    assert AppId(Platform.ANDROID, "com.kms") not in kaspersky.prefixes
    assert kaspersky.matches(AppId(Platform.ANDROID, "com.kms.free"))
    assert kaspersky.matches(AppId(Platform.ANDROID, "com.kms.me"))


def test_the_demo_fleets_banned_apps_are_all_known() -> None:
    cat = load_catalogue()
    for platform, apps in fleet.BANNED.items():
        for label, ident, _name, _weight in apps:
            family = family_for_app(cat, AppId(Platform(platform), ident))
            assert family is not None and family.id == label, (platform, ident)


def test_no_family_domain_is_or_is_under_a_shared_host() -> None:
    cat = load_catalogue()
    shared = {s.name for s in cat.shared_hosts}
    assert {"akamaized.net", "cloudfront.net", "amazonaws.com", "qq.com", "awsdns-55.com"} <= shared
    for f in cat.families.values():
        for name in f.domains:
            labels = name.split(".")
            under = {".".join(labels[i:]) for i in range(len(labels))}
            assert not under & shared, (f.id, name)
            assert name == name.lower() and not name.endswith(".")


def test_loading_is_fast() -> None:
    best = min(_timed_read() for _ in range(3))
    assert best < 0.150, f"reading the catalogue took {best * 1000:.0f} ms"


def _timed_read() -> float:
    start = time.perf_counter()
    read_catalogue(data_path())
    return time.perf_counter() - start


@needs_sources
def test_every_curated_network_name_is_placed() -> None:
    """Each name of the curated network list is a family domain or a shared host (or under qq.com)."""
    cat = load_catalogue()
    domains = {d for f in cat.families.values() for d in f.domains}
    shared = {s.name for s in cat.shared_hosts}
    for line in (SHARED / "network_identifiers_curated.txt").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, scope = line.split("\t")[:2]
        if "*" in name:
            assert "awsdns-00.com" in shared and "awsdns-63.co.uk" in shared
        elif scope == "exact-only":
            assert name in shared, name
        elif not name.endswith(".qq.com"):
            assert name in domains, name


@needs_sources
def test_the_first_directives_keep_the_research_notes_sources() -> None:
    """The twenty directives of the research notes still cite what the notes cite (others were added since)."""
    notes = json.loads((SHARED / "directive_catalog.json").read_text("utf-8"))
    known = {s.split(" ")[0] for d in notes for s in d["sources"]}
    cat = load_catalogue()
    cited = {s.url for d in cat.directives.values() for s in d.sources}
    assert len(known - cited) <= 2, known - cited  # the news-only EU Council sources gave way to better ones


def test_every_source_has_its_retrieval_date() -> None:
    data = json.loads(data_path(DATA_FILE).read_text("utf-8"))
    entries = [*data["vendors"], *data["families"], *data["directives"], *data["shared_hosts"],
               *(a for d in data["directives"] for a in d.get("amendments", []))]
    for entry in entries:
        for source in entry["sources"]:
            assert date.fromisoformat(source["retrieved"]) <= date.fromisoformat(data["build_date"]), source


def test_domain_confidence_follows_the_definition() -> None:
    """`confirmed` needs the vendor's own site or documentation; a name seen only in block lists is at most
    `corroborated` (two independent lists), and `unconfirmed` with one list or none."""
    data = json.loads(data_path(DATA_FILE).read_text("utf-8"))
    lists = ("nextdns", "blocklistproject", "hagezi", "gieljnssns")
    for family in data["families"]:
        for d in family["domains"]:
            urls = d.get("sources", [])
            from_lists = [u for u in urls if any(name in u for name in lists)]
            vendor = [u for u in urls if u not in from_lists]
            if d["confidence"] == "confirmed":
                assert vendor, (family["id"], d["name"])
            elif d["confidence"] == "corroborated":
                assert len(from_lists) >= 2 or vendor, (family["id"], d["name"])


def test_every_app_family_has_store_names_on_each_of_its_platforms() -> None:
    """Display-name-only inventories (Intune on iOS) are matched against store names: a family with an
    identifier on a platform has a store name there too."""
    cat = load_catalogue()
    for f in cat.families.values():
        platforms = {a.platform for a in (*f.identifiers, *f.prefixes)}
        assert platforms <= {n.platform for n in f.store_names}, f.id
        assert all(n.name.strip() == n.name and n.lang for n in f.store_names), f.id
    assert any(n.name == "微信" and n.platform is Platform.IOS for n in cat.families["wechat"].store_names)
    assert any(n.name == "小红书" and n.lang == "zh" for n in cat.families["rednote"].store_names)


STATE_MEDIA = ("sputnikglobe.com", "rt.com", "tass.com", "trt.global", "telesurenglish.net", "anews.com.tr",
               "globaltimes.cn", "xinhuanet.com")


def test_no_state_media_among_the_sources() -> None:
    cat = load_catalogue()
    for d in cat.directives.values():
        for s in (*d.sources, *(x for v in d.versions for x in v.sources)):
            host = s.url.split("/")[2]
            assert not any(host == m or host.endswith("." + m) for m in STATE_MEDIA), (d.id, s.url)
