"""Identifiers added in 2026.12.2: the apps the Dutch list and Alabama name, and the iOS builds of apps that had
only an Android package. Each is exact (no namespace was added), carries its evidence, and is matched end to end
by `family_for_app`; unrelated look-alike ids are not.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from interdit.catalogue import directive_bans, family_for_app, load_catalogue
from interdit.catalogue.load import SOURCE_FILE, data_path
from interdit.model import AppId, Catalogue, Platform


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize(("platform", "identifier", "family", "confidence"), [
    (Platform.ANDROID, "net.iGap", "igap", "corroborated"),  # Dutch list
    (Platform.ANDROID, "com.hanista.mobogram", "mobogram", "unconfirmed"),  # Dutch list
    (Platform.ANDROID, "tech.butterfly.app", "manus", "corroborated"),  # Alabama
    (Platform.IOS, "com.einnovation.temu", "temu", "unconfirmed"),
    (Platform.IOS, "com.alibaba.iAliexpress", "aliexpress", "corroborated"),
    (Platform.MACOS, "com.moonshot.kimichat", "kimi", "corroborated"),
    (Platform.IOS, "com.vk.vkclient", "vkontakte", "corroborated"),
    (Platform.IOS, "com.vk.vkhd", "vkontakte", "unconfirmed"),
    (Platform.IOS, "io.faceapp.ios", "faceapp", "corroborated"),
])
def test_new_identifiers_are_matched_with_their_evidence(cat: Catalogue, platform: Platform, identifier: str,
                                                         family: str, confidence: str) -> None:
    found = family_for_app(cat, AppId(platform, identifier))
    assert found is not None and found.id == family
    assert AppId(platform, identifier) in found.identifiers  # exact, not through a namespace
    data = YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))
    entry = next(i for f in data["families"] if f["id"] == family for i in f["identifiers"]
                 if (i["platform"], i["id"]) == (platform.value, identifier))
    assert entry["confidence"] == confidence


@pytest.mark.parametrize(("platform", "identifier"), [
    (Platform.ANDROID, "net.igap"),  # ids are case-sensitive: another string is another app
    (Platform.ANDROID, "net.iGap.beta"),  # no namespace: a sub-id is not the app
    (Platform.IOS, "com.einnovation.temu.beta"),  # the developer's simulator build, not the store app
    (Platform.ANDROID, "tech.butterfly"),
    (Platform.ANDROID, "com.manus.im.app"),  # a guessed Manus package seen in public code, never listed
    (Platform.IOS, "im.manus.desktop"),  # the macOS bundle id does not match on iOS
    (Platform.MACOS, "im.manus.desktop.helper"),  # not a namespace: code generated with Manus uses im.manus.*
    (Platform.ANDROID, "com.vk.vkclient"),  # an iOS bundle id does not match on Android
    (Platform.ANDROID, "io.faceapp.ios"),
])
def test_look_alikes_are_not_matched(cat: Catalogue, platform: Platform, identifier: str) -> None:
    assert family_for_app(cat, AppId(platform, identifier)) is None


def test_no_namespace_was_added_for_these_families(cat: Catalogue) -> None:
    for fid in ("igap", "mobogram", "manus", "temu", "aliexpress", "kimi", "vkontakte", "faceapp"):
        assert cat.families[fid].prefixes == (), fid


def test_identifier_confidences_and_notes_in_the_source(cat: Catalogue) -> None:
    data = YAML(typ="safe", pure=True).load(data_path(SOURCE_FILE).read_text("utf-8"))
    fams = {f["id"]: f for f in data["families"]}
    for fid in ("igap", "mobogram", "manus", "temu", "aliexpress", "kimi", "vkontakte", "faceapp"):
        for ident in fams[fid]["identifiers"]:
            assert ident.get("note") and len(ident["note"]) > 30, (fid, ident["id"])
    by_id = {(i["platform"], i["id"]): i for f in fams.values() for i in f["identifiers"]}
    assert by_id[("ios", "io.faceapp.ios")]["source"] == "https://apps.apple.com/app/id1180884341"
    assert by_id[("android", "tech.butterfly.app")]["source"] == \
        "https://play.google.com/store/apps/details?id=tech.butterfly.app"
    # the same string on two platforms: well attested on Android, one weak map on iOS
    assert by_id[("android", "com.einnovation.temu")]["confidence"] == "corroborated"
    assert by_id[("ios", "com.einnovation.temu")]["confidence"] == "unconfirmed"


def test_the_dutch_list_names_igap_and_mobogram(cat: Catalogue) -> None:
    nl = cat.directives["nl-2023-offensive-cyber-apps"]
    for v in nl.versions[1:]:
        assert {"igap", "mobogram"} <= set(v.families)


def test_alabama_bans_manus_on_android_and_by_store_name_on_ios(cat: Catalogue) -> None:
    al = cat.directives["us-al-2025-deepseek-manus"]
    assert set(al.families) >= {"deepseek", "manus"}
    apps, domains = directive_bans(cat, al)
    manus = {(a.platform, a.kind, a.value) for a in apps if a.family == "manus"}
    assert (Platform.ANDROID, "id", "tech.butterfly.app") in manus
    assert (Platform.IOS, "store name", "Manus AI") in manus
    assert not any(p is Platform.IOS and k == "id" for p, k, _ in manus)  # not guessed
    assert "manus.im" in domains


def test_ios_store_names_of_the_new_ios_builds(cat: Catalogue) -> None:
    names = {(f, n.name) for f in ("temu", "vkontakte", "faceapp") for n in cat.families[f].store_names
             if n.platform is Platform.IOS}
    assert {("temu", "Temu: Shop Like a Billionaire"), ("vkontakte", "VK: social network, messenger"),
            ("faceapp", "FaceApp: Perfect Face Editor")} <= names
