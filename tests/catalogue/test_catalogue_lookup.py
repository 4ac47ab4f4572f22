"""Questions asked of the catalogue: search (accents and case ignored), blockable domains, domain owners,
app families; and a malformed catalogue file is a `CatalogueError` naming the problem."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from interdit.catalogue import (
    blockable_domains,
    family_for_app,
    is_shared_host,
    load_catalogue,
    owner_of_domain,
    read_catalogue,
    search,
    vendor_chain,
)
from interdit.catalogue.load import data_path
from interdit.errors import CatalogueError
from interdit.model import AppId, Platform


def _ids(text: str) -> list[str]:
    return [ident for _kind, ident, _label in search(load_catalogue(), text)]


@pytest.mark.parametrize("text", ["québec", "quebec", "QUÉBEC", "Quebec"])
def test_search_ignores_accents_and_case(text: str) -> None:
    assert "ca-qc-2023-tiktok" in _ids(text)


def test_search_finds_by_every_kind_of_field() -> None:
    assert _ids("ca-tbs-2023-tiktok")[0] == "ca-tbs-2023-tiktok"  # exact id first
    assert "ca-qc-montreal-2023-tiktok" in _ids("montreal")
    assert "ca-tbs-2023-tiktok" in _ids("appareils mobiles du gouvernement")  # French title
    assert _ids("com.tencent.mm") == ["wechat"]  # identifier
    assert "tiktok" in _ids("tiktokv.com")  # domain
    assert "kaspersky" in _ids("kaspersky")
    assert ("vendor", "kaspersky", "Kaspersky Lab") in search(load_catalogue(), "Kaspersky")
    assert "us-tx-2022-prohibited-technologies" in _ids("texas")
    assert _ids("") == [] and _ids("   ") == []
    assert _ids("no such thing anywhere") == []


def test_every_word_must_match() -> None:
    both = set(_ids("tiktok québec"))
    assert both == {"ca-qc-2023-tiktok", "ca-qc-montreal-2023-tiktok", "ca-qc-assnat-2023-tiktok"}


def test_blockable_domains_never_include_a_shared_host() -> None:
    cat = load_catalogue()
    every = blockable_domains(cat, cat.families)
    assert every == tuple(sorted(set(every)))
    assert not any(is_shared_host(cat, d) for d in every)
    assert "tiktok.com" in every and "deepseek.com" in every
    assert blockable_domains(cat, ["wechat"]) == ("servicewechat.com", "wechat.com")
    assert blockable_domains(cat, ["not-a-family"]) == ()


def test_blockable_domains_filters_even_a_catalogue_built_by_hand() -> None:
    cat = load_catalogue()
    bad = dataclasses.replace(cat.families["wechat"], domains=("weixin.qq.com", "WeChat.com", "qq.com"))
    hand_built = dataclasses.replace(cat, families={**cat.families, "wechat": bad})
    assert blockable_domains(hand_built, ["wechat"]) == ("wechat.com",)


def test_owner_of_domain_matches_whole_labels() -> None:
    cat = load_catalogue()
    assert owner_of_domain(cat, "api16-normal-c-useast1a.tiktokv.com") == ("tiktok", "tiktok-pte")
    assert owner_of_domain(cat, "TikTok.com.") == ("tiktok", "tiktok-pte")
    assert owner_of_domain(cat, "chat.deepseek.com") == ("deepseek", "deepseek")
    assert owner_of_domain(cat, "nottiktok.com") is None
    assert owner_of_domain(cat, "tiktok.com.edgesuite.net") is None
    assert owner_of_domain(cat, "p16-tiktokcdn-com.akamaized.net") is None


def test_family_for_app() -> None:
    cat = load_catalogue()

    def family(platform: Platform, ident: str) -> str | None:
        found = family_for_app(cat, AppId(platform, ident))
        return found.id if found else None

    assert family(Platform.ANDROID, "com.zhiliaoapp.musically") == "tiktok"
    assert family(Platform.IOS, "com.zhiliaoapp.musically") == "tiktok"
    assert family(Platform.ANDROID, "com.kms.free") == "kaspersky"
    assert family(Platform.ANDROID, "com.kaspersky.who_calls.beta") == "kaspersky"
    assert family(Platform.ANDROID, "com.kasperskyx") is None  # a prefix is matched by whole labels
    assert family(Platform.ANDROID, "com.kms.dlquiz") is None  # com.kms is not a Kaspersky namespace
    assert family(Platform.IOS, "com.tencent.xin") == "wechat"
    assert family(Platform.ANDROID, "com.tencent.xin") is None  # the iOS bundle id, not an Android package
    assert family(Platform.ANDROID, "org.thoughtcrime.securesms") is None


def test_vendor_chain_of_unknown_vendor_is_empty() -> None:
    assert vendor_chain(load_catalogue(), "nobody") == ()


def _broken(tmp_path: Path, change: Any) -> Path:
    data = json.loads(data_path().read_text("utf-8"))
    change(data)
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(schema_version=2), "schema_version 2"),
    (lambda d: d["families"][0].update(vendor="nobody"), "unknown vendor 'nobody'"),
    (lambda d: d["directives"][0]["families"].append("nothing"), "unknown families or vendors: nothing"),
    (lambda d: d["directives"][0].update(sources=[]), "at least one source"),
    (lambda d: d["directives"][0].update(effective="28 Feb 2023"), "must be a date"),
    (lambda d: d["families"][0]["domains"].append({"name": "x.akamaized.net", "confidence": "unconfirmed"}),
     "under the shared host 'akamaized.net'"),
    (lambda d: d["vendors"][0].update(country="China"), "ISO 3166-1"),
    (lambda d: d["families"][0]["identifiers"][0].update(platform="symbian"), "unknown platform"),
    (lambda d: d["directives"].append(d["directives"][0]), "appears twice"),
    (lambda d: d.update(families="tiktok"), "must be a list"),
])
def test_malformed_catalogue_is_a_catalogue_error(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_broken(tmp_path, change))
    assert message in str(caught.value)
    assert "catalogue.json" in str(caught.value) and caught.value.fix


def test_unreadable_catalogue_files(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        read_catalogue(tmp_path / "bad.json")
    with pytest.raises(CatalogueError, match="cannot read"):
        read_catalogue(tmp_path / "missing.json")
